//! `wax serve`: the HTTP answers a browser and a static host rely on
//! (ranges, MIME types, caching, no cross-origin isolation headers), and
//! an image read back through its chunk manifest by `wax run --image`,
//! both served live and after `--export` to a plain directory.
//!
//! Needs Debian's static busybox (scripts/setup.sh) and mke2fs.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use common::{repo_root, scratch, WAX};

/// A running `wax serve`, killed on drop.
struct Server {
    child: Child,
    addr: String,
}

impl Server {
    fn start(args: &[&str]) -> Server {
        let mut child = Command::new(WAX)
            .arg("serve")
            .args(["--addr", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .expect("starting wax serve");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .trim()
            .strip_prefix("wax serve: open http://")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
        Server {
            child,
            addr: url.trim_end_matches('/').to_string(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}/{path}", self.addr)
    }

    /// One request on a fresh connection: (status, headers, body).
    fn get(&self, method: &str, path: &str, headers: &[&str]) -> (u16, Vec<String>, Vec<u8>) {
        let mut s = TcpStream::connect(&self.addr).unwrap();
        let mut req = format!("{method} /{path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n");
        for h in headers {
            req.push_str(h);
            req.push_str("\r\n");
        }
        req.push_str("\r\n");
        s.write_all(req.as_bytes()).unwrap();
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).unwrap();
        let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        let head = String::from_utf8_lossy(&raw[..split]).into_owned();
        let mut lines = head.lines();
        let status = lines
            .next()
            .unwrap()
            .split(' ')
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        (
            status,
            lines.map(String::from).collect(),
            raw[split + 4..].to_vec(),
        )
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn header<'a>(headers: &'a [String], name: &str) -> Option<&'a str> {
    headers.iter().find_map(|h| {
        let (k, v) = h.split_once(':')?;
        k.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// An app directory and an 8 MiB ext2 image holding busybox (mostly
/// zeros, so an export leaves most chunks out).
fn fixture(name: &str) -> (PathBuf, PathBuf) {
    let dir = scratch().join(format!("serve-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    let app = dir.join("app");
    std::fs::create_dir_all(app.join("sub")).unwrap();
    std::fs::write(app.join("index.html"), "<!doctype html><title>wax</title>").unwrap();
    std::fs::write(app.join("sub/app.js"), "console.log(1)").unwrap();
    std::fs::write(app.join("wax_bg.wasm"), b"\0asm\x01\0\0\0").unwrap();
    let root = dir.join("root");
    std::fs::create_dir_all(root.join("bin")).unwrap();
    let busybox = repo_root().join("build/busybox/bin/busybox");
    assert!(busybox.is_file(), "run scripts/setup.sh (busybox)");
    std::fs::copy(&busybox, root.join("bin/busybox")).unwrap();
    let img = dir.join("disk.img");
    let ok = Command::new("mke2fs")
        .args(["-q", "-F", "-t", "ext2", "-b", "4096", "-d"])
        .arg(&root)
        .arg(&img)
        .arg("8M")
        .status()
        .expect("mke2fs (e2fsprogs)");
    assert!(ok.success());
    (app, img)
}

fn wax_run_image(url: &str) -> (i32, String) {
    let out = Command::new(WAX)
        .args(["run", "--image", url, "/bin/busybox", "sh", "-c"])
        .arg("echo hello from $(busybox uname -m); busybox wc -c < /bin/busybox")
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

fn busybox_len() -> u64 {
    std::fs::metadata(repo_root().join("build/busybox/bin/busybox"))
        .unwrap()
        .len()
}

#[test]
fn serves_the_app_and_image_with_ranges_and_no_isolation_headers() {
    let (app, img) = fixture("live");
    let s = Server::start(&[
        "--app",
        app.to_str().unwrap(),
        "--image",
        img.to_str().unwrap(),
        "--chunk-size",
        "128K",
    ]);
    let (st, h, body) = s.get("GET", "", &[]);
    assert_eq!(
        (st, body.as_slice()),
        (200, &b"<!doctype html><title>wax</title>"[..])
    );
    assert_eq!(header(&h, "Content-Type"), Some("text/html; charset=utf-8"));
    for isolation in ["Cross-Origin-Opener-Policy", "Cross-Origin-Embedder-Policy"] {
        assert_eq!(header(&h, isolation), None, "{h:?}");
    }
    let etag = header(&h, "ETag").unwrap().to_string();
    let (st, _, body) = s.get("GET", "", &[&format!("If-None-Match: {etag}")]);
    assert_eq!((st, body.len()), (304, 0));
    let (_, h, _) = s.get("HEAD", "wax_bg.wasm", &[]);
    assert_eq!(header(&h, "Content-Type"), Some("application/wasm"));
    assert_eq!(header(&h, "Content-Length"), Some("8"));
    let (st, h, body) = s.get("GET", "sub/app.js", &["Range: bytes=2-5"]);
    assert_eq!((st, body.as_slice()), (206, &b"nsol"[..]));
    assert_eq!(header(&h, "Content-Range"), Some("bytes 2-5/14"));
    let (st, h, _) = s.get("GET", "sub/app.js", &["Range: bytes=14-"]);
    assert_eq!((st, header(&h, "Content-Range")), (416, Some("bytes */14")));
    assert_eq!(s.get("GET", "../Cargo.toml", &[]).0, 404);
    assert_eq!(s.get("POST", "", &[]).0, 405);

    let (st, h, manifest) = s.get("GET", "image/manifest.json", &[]);
    assert_eq!(st, 200);
    assert_eq!(header(&h, "Cache-Control"), Some("no-cache"));
    let text = String::from_utf8(manifest).unwrap();
    assert!(text.contains("\"chunk_size\": 131072"), "{text}");
    let (code, out) = wax_run_image(&s.url("image/manifest.json"));
    assert_eq!(code, 0, "{out}");
    assert_eq!(out, format!("hello from i686\n{}\n", busybox_len()));
}

#[test]
fn an_export_is_a_static_site_that_boots_the_same_image() {
    let (app, img) = fixture("export");
    let out = img.parent().unwrap().join("site");
    let status = Command::new(WAX)
        .args(["serve", "--chunk-size", "128K", "--app"])
        .arg(&app)
        .arg("--image")
        .arg(&img)
        .arg("--export")
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success());
    assert!(out.join("index.html").is_file() && out.join("sub/app.js").is_file());
    let chunk_files = count_files(&out.join("image")) - 1;
    assert!(
        chunk_files > 0 && chunk_files < 64,
        "{chunk_files} chunk files for an 8 MiB image of 128 KiB chunks: zero chunks must be left out"
    );
    let s = Server::start(&["--dir", out.to_str().unwrap()]);
    let (code, text) = wax_run_image(&s.url("image/manifest.json"));
    assert_eq!(code, 0, "{text}");
    assert_eq!(text, format!("hello from i686\n{}\n", busybox_len()));
}

#[test]
fn a_missing_app_or_image_is_a_clear_error() {
    let (app, img) = fixture("errors");
    let out = Command::new(WAX)
        .args(["serve", "--app", "/nonexistent/app", "--image"])
        .arg(&img)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("scripts/build-web.sh"), "{err}");
    let out = Command::new(WAX)
        .args(["serve", "--image", "/nonexistent.img", "--app"])
        .arg(&app)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent.img"));
}

fn count_files(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            if p.is_dir() {
                count_files(&p)
            } else {
                1
            }
        })
        .sum()
}
