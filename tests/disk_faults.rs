//! No silent data loss: when the host disk fills or the device fails, the
//! guest sees ENOSPC or EIO where Linux shows them, wax exits with status
//! 74 after saying what was lost, and the next run finds the last state
//! the guest was told is durable, which `e2fsck -fn` accepts.
//!
//! Real ENOSPC comes from small tmpfs mounts (needs root, as the test
//! machines run; each mount is removed even when a test fails). EIO and
//! failing flushes come from `WAX_FAULT` (src/host/block.rs), which wraps
//! the root device in a `FaultyDevice`. The guest program is
//! `disk_faults/durable.c`, which prints the result of every call.
//!
//! Needs gcc -m32, mke2fs, e2fsck and build/busybox; fails without them.

mod common;

use common::{run_with_timeout, scratch, wax_run, Run, Status};
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;
use wax_devices::block::{BackingFile, BlockDevice, BlockError, FileDevice, OverlayDevice};

const ENOSPC: &str = "28";
const EIO: &str = "5";
/// wax's status when the changes could not be written back at exit.
const NOT_KEPT: i32 = 74;
const TIMEOUT: Duration = Duration::from_secs(120);

/// A fresh directory for one test.
fn workdir(name: &str) -> PathBuf {
    let d = scratch().join(format!("disk-faults-{name}"));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A tmpfs of `mb` MiB at `dir`, unmounted when dropped (also when the
/// test panics).
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, mb: u32) -> Tmpfs {
        std::fs::create_dir_all(dir).unwrap();
        let st = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mb}m"), "tmpfs"])
            .arg(dir)
            .status()
            .unwrap();
        assert!(st.success(), "mount -t tmpfs needs root");
        Tmpfs(dir.to_path_buf())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let ok = Command::new("umount").arg(&self.0).status();
        if !ok.is_ok_and(|s| s.success()) {
            let _ = Command::new("umount").arg("-l").arg(&self.0).status();
        }
    }
}

/// An ext2 image of `mb` MiB at `img` with busybox (sh, rm, ls, cat, wc),
/// `durable`, and with `big16` a 16 MiB file `/big16`.
fn make_image(dir: &Path, img: &Path, mb: u32, big16: bool) {
    let src = dir.join("src");
    let bin = src.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let busybox = common::repo_root().join("build/busybox/bin/busybox");
    assert!(
        busybox.exists(),
        "build/busybox is made by scripts/setup.sh"
    );
    std::fs::copy(&busybox, bin.join("busybox")).unwrap();
    for applet in ["sh", "rm", "ls", "cat", "wc"] {
        let _ = std::os::unix::fs::symlink("busybox", bin.join(applet));
    }
    let c = common::repo_root().join("tests/disk_faults/durable.c");
    let st = Command::new("gcc")
        .args(["-m32", "-static", "-O1", "-o"])
        .arg(bin.join("durable"))
        .arg(&c)
        .status()
        .expect("gcc");
    assert!(st.success(), "gcc -m32 -static durable.c");
    if big16 {
        let big: Vec<u8> = (0..16u32 << 20).map(|i| (i * 7 % 251) as u8).collect();
        std::fs::write(src.join("big16"), big).unwrap();
    }
    let st = Command::new("mke2fs")
        .args(["-q", "-F", "-t", "ext2", "-b", "4096", "-d"])
        .arg(&src)
        .arg(img)
        .arg(format!("{mb}M"))
        .status()
        .expect("mke2fs (e2fsprogs)");
    assert!(st.success());
}

/// `wax run --image IMG [--overlay OV | --rw] /bin/sh -c SCRIPT`.
fn wax(image: &str, writes: Option<&Path>, script: &str, fault: Option<&str>) -> Run {
    let mut cmd = wax_run();
    cmd.args(["--image", image]);
    match writes {
        Some(ov) => cmd.arg("--overlay").arg(ov),
        None => cmd.arg("--rw"),
    };
    cmd.args(["/bin/sh", "-c", script]);
    cmd.env_remove("WAX_FAULT").env("WAX_HTTP_TIMEOUT", "2");
    if let Some(f) = fault {
        cmd.env("WAX_FAULT", f);
    }
    run_with_timeout(cmd, b"", TIMEOUT)
}

fn stdout(r: &Run) -> String {
    String::from_utf8_lossy(&r.stdout).into_owned()
}

/// The guest's line for `call` ("fsync ok", "write err 28 after 123").
fn line<'a>(out: &'a str, call: &str) -> &'a str {
    out.lines()
        .find(|l| l.starts_with(&format!("{call} ")))
        .unwrap_or_else(|| panic!("no {call:?} line in:\n{out}"))
}

fn assert_exit(r: &Run, want: i32) {
    assert_eq!(
        r.status,
        Status::Exited(want),
        "stdout:\n{}\nstderr:\n{}",
        stdout(r),
        r.stderr_text()
    );
}

/// Checks the message of a failed write-back at exit.
fn assert_not_kept(r: &Run, cause: &str) {
    assert_exit(r, NOT_KEPT);
    let err = r.stderr_text();
    assert!(err.contains("are lost"), "{err}");
    assert!(err.contains(cause), "{err}");
    assert!(
        err.contains("still holds the last consistent state"),
        "{err}"
    );
}

struct HostFile(File);

impl BackingFile for HostFile {
    fn len(&mut self) -> Result<u64, BlockError> {
        Ok(self.0.metadata().unwrap().len())
    }
    fn read_at(&mut self, off: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        self.0
            .read_exact_at(buf, off)
            .map_err(|e| BlockError::Io(e.to_string()))
    }
    fn write_at(&mut self, off: u64, buf: &[u8]) -> Result<(), BlockError> {
        self.0
            .write_all_at(buf, off)
            .map_err(|e| BlockError::Io(e.to_string()))
    }
    fn set_len(&mut self, len: u64) -> Result<(), BlockError> {
        self.0
            .set_len(len)
            .map_err(|e| BlockError::Io(e.to_string()))
    }
    fn sync(&mut self) -> Result<(), BlockError> {
        Ok(())
    }
}

/// `e2fsck -fn` on the image as the overlay (if any) shows it.
fn fsck(dir: &Path, image: &Path, overlay: Option<&Path>) {
    let checked = match overlay {
        None => image.to_path_buf(),
        Some(ov) => {
            let base = FileDevice::new(HostFile(File::open(image).unwrap()), true).unwrap();
            let log = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(ov)
                .unwrap();
            let mut dev = OverlayDevice::with_log(Box::new(base), Box::new(HostFile(log))).unwrap();
            let merged = dir.join("merged.img");
            let mut out = File::create(&merged).unwrap();
            let mut buf = vec![0u8; 1 << 20];
            let mut off = 0;
            while off < dev.size() {
                let n = (dev.size() - off).min(buf.len() as u64) as usize;
                dev.read_at(off, &mut buf[..n]).unwrap();
                out.write_all(&buf[..n]).unwrap();
                off += n as u64;
            }
            merged
        }
    };
    let out = Command::new("e2fsck")
        .arg("-fn")
        .arg(&checked)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "e2fsck -fn:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Byte count after "after " in a `write err N after BYTES` line.
fn bytes_after(l: &str) -> u64 {
    l.rsplit(' ').next().unwrap().parse().unwrap()
}

/// What the next run finds: `wc -c` of each path, or "missing".
fn sizes(image: &str, ov: Option<&Path>, paths: &[&str]) -> Vec<String> {
    let script: String = paths
        .iter()
        .map(|p| format!("if [ -e {p} ]; then wc -c < {p}; else echo missing; fi; "))
        .collect();
    let r = wax(image, ov, &script, None);
    assert_exit(&r, 0);
    stdout(&r).lines().map(|l| l.trim().to_string()).collect()
}

#[test]
fn an_overlay_on_a_full_host_disk_fails_the_write_and_keeps_the_synced_state() {
    let dir = workdir("overlay-full");
    let img = dir.join("fs.img");
    make_image(&dir, &img, 64, false);
    let mnt = Tmpfs::mount(&dir.join("mnt"), 8);
    let ov = mnt.0.join("overlay");
    let image = img.to_str().unwrap();

    let r = wax(
        image,
        Some(&ov),
        "durable write /small 8; durable write /big 20480",
        None,
    );
    let out = stdout(&r);
    let small = out.split("open ok").nth(1).unwrap();
    assert_eq!(line(small, "fsync"), "fsync ok", "{out}");
    let big = out.split("open ok").nth(2).unwrap();
    let failed = line(big, "write");
    assert!(
        failed.starts_with(&format!("write err {ENOSPC} after ")),
        "{out}"
    );
    // What the rest of the run could keep decides what must be there.
    let kept = line(big, "fsync") == "fsync ok";
    if kept {
        assert_exit(&r, 0);
    } else {
        assert_eq!(line(big, "fsync"), format!("fsync err {ENOSPC}"), "{out}");
        assert_not_kept(&r, "No space left on device");
    }
    let found = sizes(image, Some(&ov), &["/small", "/big"]);
    assert_eq!(found[0], "8192");
    if kept {
        assert_eq!(found[1], bytes_after(failed).to_string());
    } else {
        // Unless the periodic writeback (every 5 s) kept some of it first,
        // /big was never durable.
        assert!(
            found[1] == "missing" || found[1].parse::<u64>().unwrap() <= bytes_after(failed),
            "{found:?}"
        );
    }
    fsck(&dir, &img, Some(&ov));

    // Deleting files in the guest frees the room a sync needs.
    let r = wax(
        image,
        Some(&ov),
        "durable write /big 20480; rm /big; durable syncfs /small; durable write /after 4",
        None,
    );
    let out = stdout(&r);
    assert!(line(&out, "write").starts_with("write err 28"), "{out}");
    assert_eq!(line(&out, "syncfs"), "syncfs ok", "{out}");
    assert_exit(&r, 0);
    assert_eq!(
        sizes(image, Some(&ov), &["/small", "/big", "/after"]),
        ["8192", "missing", "4096"]
    );
    fsck(&dir, &img, Some(&ov));
}

#[test]
fn an_image_on_a_full_host_disk_with_rw_fails_the_write() {
    let dir = workdir("rw-full");
    let mnt = Tmpfs::mount(&dir.join("mnt"), 8);
    let img = mnt.0.join("fs.img");
    // A sparse 64 MiB image: about 1 MiB of it takes host space, and
    // /big16 must not be in it.
    make_image(&dir, &img, 64, false);
    let image = img.to_str().unwrap();
    let r = wax(
        image,
        None,
        "durable write /small 8; durable write /big 20480",
        None,
    );
    let out = stdout(&r);
    let small = out.split("open ok").nth(1).unwrap();
    assert_eq!(line(small, "fsync"), "fsync ok", "{out}");
    let big = out.split("open ok").nth(2).unwrap();
    let failed = line(big, "write");
    assert!(
        failed.starts_with(&format!("write err {ENOSPC} after ")),
        "{out}"
    );
    // The sync needs a few metadata blocks in holes of the image: it
    // fails before writing anything, so the image keeps the state of the
    // last successful sync.
    assert_eq!(line(big, "fsync"), format!("fsync err {ENOSPC}"), "{out}");
    assert_exit(&r, NOT_KEPT);
    assert!(
        r.stderr_text().contains("may be inconsistent"),
        "{}",
        r.stderr_text()
    );
    fsck(&dir, &img, None);
    let found = sizes(image, None, &["/small", "/big"]);
    assert_eq!(found[0], "8192");
    assert!(
        found[1] == "missing" || found[1].parse::<u64>().unwrap() <= bytes_after(failed),
        "{found:?}"
    );
}

/// An image with `/big16` and an overlay path, in a fresh directory.
fn image_with_big_file(name: &str) -> (PathBuf, PathBuf, PathBuf) {
    let dir = workdir(name);
    let img = dir.join("fs.img");
    make_image(&dir, &img, 64, true);
    let ov = dir.join("overlay");
    (dir, img, ov)
}

#[test]
fn a_device_failing_on_flush_fails_every_sync_call() {
    let (dir, img, ov) = image_with_big_file("flush");
    let image = img.to_str().unwrap();
    // The first flush (the fsync of /a) succeeds, every later one fails.
    let r = wax(
        image,
        Some(&ov),
        "durable write /a 8; durable write /b 8; durable range /c; durable mmap /a; \
         durable syncfs /a",
        Some("flush:1"),
    );
    let out = stdout(&r);
    let results: Vec<&str> = out
        .lines()
        .filter(|l| {
            ["fsync", "sync_file_range", "fdatasync", "msync", "syncfs"]
                .iter()
                .any(|c| l.starts_with(&format!("{c} ")))
        })
        .collect();
    let e = |c: &str| format!("{c} err {EIO}");
    assert_eq!(
        results,
        [
            "fsync ok".to_string(),
            e("fsync"),
            e("sync_file_range"),
            e("fdatasync"),
            e("msync"),
            e("syncfs")
        ],
        "{out}"
    );
    assert_not_kept(&r, "injected Flush fault");
    assert_eq!(
        sizes(image, Some(&ov), &["/a", "/b", "/c"]),
        ["8192", "missing", "missing"]
    );
    let r = wax(image, Some(&ov), "cat /a", None);
    assert!(
        r.stdout.iter().all(|&b| b == b'x'),
        "the mapping's change was never durable"
    );
    fsck(&dir, &img, Some(&ov));
}

#[test]
fn a_device_failing_on_write_fails_the_write_and_the_sync() {
    let (dir, img, ov) = image_with_big_file("write");
    let image = img.to_str().unwrap();
    // /small and its sync take a few dozen device writes; 1 MiB of data
    // takes 256 more.
    let r = wax(
        image,
        Some(&ov),
        "durable write /small 8; durable write /big 1024",
        Some("write:100"),
    );
    let out = stdout(&r);
    let small = out.split("open ok").nth(1).unwrap();
    assert_eq!(line(small, "fsync"), "fsync ok", "{out}");
    let big = out.split("open ok").nth(2).unwrap();
    assert!(
        line(big, "write").starts_with(&format!("write err {EIO} after ")),
        "{out}"
    );
    assert_eq!(line(big, "fsync"), format!("fsync err {EIO}"), "{out}");
    assert_not_kept(&r, "injected Write fault");
    assert_eq!(
        sizes(image, Some(&ov), &["/small", "/big"]),
        ["8192", "missing"]
    );
    fsck(&dir, &img, Some(&ov));
}

#[test]
fn an_image_that_becomes_unreadable_is_eio_for_the_guest() {
    let (dir, img, ov) = image_with_big_file("read");
    let image = img.to_str().unwrap();
    // Starting the shell and the program takes about 75 reads, /big16
    // about 330 more.
    let r = wax(image, Some(&ov), "durable read /big16", Some("read:150"));
    let out = stdout(&r);
    let l = line(&out, "read");
    assert!(l.starts_with(&format!("read err {EIO} after ")), "{out}");
    assert!(bytes_after(l) < 16 << 20);
    assert!(
        r.stderr_text().contains("injected Read fault"),
        "{}",
        r.stderr_text()
    );
    // Nothing was written, so nothing is lost: the guest's status stands.
    assert_exit(&r, 0);
    fsck(&dir, &img, Some(&ov));
}

/// Serves `file` with HTTP range requests until `limit` requests were
/// answered, then disappears (connections are refused). Returns the URL.
fn serve_then_vanish(file: PathBuf, limit: u64) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let served = Arc::new(AtomicU64::new(0));
    thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            if served.load(Ordering::SeqCst) >= limit {
                break; // drops the listener: the server is gone
            }
            let (f, served) = (File::open(&file).unwrap(), served.clone());
            thread::spawn(move || drop(answer(conn, &f, &served, limit)));
        }
    });
    format!("http://127.0.0.1:{port}/fs.img")
}

/// Answers range requests on one connection while under the limit.
fn answer(conn: TcpStream, f: &File, served: &AtomicU64, limit: u64) -> std::io::Result<()> {
    let size = f.metadata()?.len();
    let mut out = conn.try_clone()?;
    let mut r = BufReader::new(conn);
    while served.fetch_add(1, Ordering::SeqCst) < limit {
        let mut range = (0, size - 1);
        let mut l = String::new();
        if r.read_line(&mut l)? == 0 {
            return Ok(());
        }
        loop {
            l.clear();
            if r.read_line(&mut l)? == 0 || l.trim().is_empty() {
                break;
            }
            let v = l.to_ascii_lowercase();
            if let Some((a, b)) = v
                .strip_prefix("range: bytes=")
                .and_then(|v| v.trim().split_once('-'))
            {
                range = (a.parse().unwrap(), b.parse::<u64>().unwrap().min(size - 1));
            }
        }
        let mut body = vec![0u8; (range.1 - range.0 + 1) as usize];
        f.read_exact_at(&mut body, range.0)?;
        write!(
            out,
            "HTTP/1.1 206 Partial Content\r\nContent-Length: {}\r\n\
             Content-Range: bytes {}-{}/{size}\r\n\r\n",
            body.len(),
            range.0,
            range.1
        )?;
        out.write_all(&body)?;
    }
    Ok(())
}

#[test]
fn an_http_image_whose_server_disappears_is_eio_not_a_hang() {
    let (_dir, img, _) = image_with_big_file("http");
    // Starting the program takes about 5 requests, reading 16 MiB in
    // 128 KiB chunks (8 at most per request) about 17 more.
    let url = serve_then_vanish(img, 12);
    let mut cmd = wax_run();
    cmd.args(["--image", &url, "/bin/durable", "read", "/big16"]);
    cmd.env_remove("WAX_FAULT").env("WAX_HTTP_TIMEOUT", "2");
    let r = run_with_timeout(cmd, b"", TIMEOUT);
    let out = stdout(&r);
    let l = line(&out, "read");
    assert!(
        l.starts_with(&format!("read err {EIO} after ")),
        "{out}\n{}",
        r.stderr_text()
    );
    let err = r.stderr_text();
    assert!(err.contains("gave up after 5 attempts"), "{err}");
    assert!(err.contains("/fs.img"), "{err}");
    // The changes lived in memory only: nothing to keep, the status stands.
    assert_exit(&r, 0);
}

/// Writes through a shared mapping that cannot be kept (a sparse file on
/// a full file system, written back at munmap): the file's next fsync
/// reports ENOSPC, and when the program never asks, wax's status says the
/// data was lost. (Linux raises SIGBUS at the write that needs a block it
/// cannot allocate; Wax learns it only at write-back.)
#[test]
fn lost_writes_through_a_shared_mapping_are_reported_by_fsync_or_by_wax() {
    let dir = workdir("mapped-lost");
    let img = dir.join("fs.img");
    make_image(&dir, &img, 8, false);
    let image = img.to_str().unwrap();
    let ov = dir.join("overlay");
    // Told: fsync returns ENOSPC, so wax's status is the program's.
    let r = wax(image, Some(&ov), "durable sparse /told 16384 fsync", None);
    let out = stdout(&r);
    assert_eq!(line(&out, "munmap"), "munmap ok", "{out}");
    assert_eq!(line(&out, "fsync"), format!("fsync err {ENOSPC}"), "{out}");
    assert_exit(&r, 0);
    // Never told: wax says so and exits 74.
    let r = wax(
        image,
        Some(&ov),
        "rm /told; durable sparse /untold 16384",
        None,
    );
    assert_eq!(line(&stdout(&r), "close"), "close ok");
    assert_exit(&r, NOT_KEPT);
    let err = r.stderr_text();
    assert!(
        err.contains("shared mapping of 1 file could not be kept (No space left on device)"),
        "{err}"
    );
    fsck(&dir, &img, Some(&ov));
}
