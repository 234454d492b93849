//! `wax run --image http://...` against a real HTTP/1.1 server on the
//! loopback interface: a small Range-capable server, written here, serves
//! build/images/test.img, well or in one of several broken ways.
//!
//! - well, and with some 500s or connections dropped mid-body: the guest's
//!   output is the same as with `--image FILE` (retries hide the faults);
//! - ignoring Range (200), a short body every time, a wrong Content-Range,
//!   an image that changes size, a server that stops answering: wax ends
//!   with a clear message naming the URL, never hangs.
//!
//! Needs build/images/test.img (disk-images/mkimage.sh test
//! build/images/test.img); fails without it.

mod common;

use common::{repo_root, run_with_timeout, wax_run, Run, Status};
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

/// One run's limit: generous, since each must end by itself well before.
const RUN_TIMEOUT: Duration = Duration::from_secs(90);
/// Requests a connection may serve before the server closes it.
const MAX_REQUESTS_PER_CONN: u64 = 10_000;

/// How the server misbehaves.
#[derive(Clone, Copy, Debug)]
enum Mode {
    Good,
    /// Every `n`th request answers 500.
    Error500Every(u64),
    /// Every `n`th request sends half of its body, then closes.
    DropEvery(u64),
    /// Answers 200 with the image's length, ignoring Range.
    IgnoreRange,
    /// Every body stops short (the connection closes).
    ShortBody,
    /// The Content-Range names bytes one past the ones asked for.
    WrongRange,
    /// After the first request, claims the image is one block larger.
    SizeChanges,
    /// Reads the request and never answers.
    Stall,
}

fn image() -> PathBuf {
    let p = repo_root().join("build/images/test.img");
    assert!(
        p.exists(),
        "build the test image first: disk-images/mkimage.sh test build/images/test.img"
    );
    p
}

/// Starts a server for `file` on 127.0.0.1 (a free port); returns its URL
/// and its request counter. Its threads end with the test process.
fn serve(file: PathBuf, mode: Mode) -> (String, Arc<AtomicU64>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let count = Arc::new(AtomicU64::new(0));
    let counter = count.clone();
    thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let f = File::open(&file).unwrap();
            let counter = counter.clone();
            thread::spawn(move || {
                let _ = handle(conn, &f, mode, &counter);
            });
        }
    });
    (format!("http://127.0.0.1:{port}/test.img"), count)
}

/// The inclusive byte range of a `Range: bytes=A-B` header.
fn parse_range(v: &str) -> Option<(u64, u64)> {
    let (a, b) = v.trim().strip_prefix("bytes=")?.split_once('-')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

/// Serves one keep-alive connection.
fn handle(conn: TcpStream, f: &File, mode: Mode, count: &AtomicU64) -> std::io::Result<()> {
    let size = f.metadata()?.len();
    let mut out = conn.try_clone()?;
    let mut r = BufReader::new(conn);
    for _ in 0..MAX_REQUESTS_PER_CONN {
        let mut range = None;
        let mut line = String::new();
        if r.read_line(&mut line)? == 0 {
            return Ok(());
        }
        loop {
            line.clear();
            if r.read_line(&mut line)? == 0 || line.trim().is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                if k.eq_ignore_ascii_case("range") {
                    range = parse_range(v);
                }
            }
        }
        let n = count.fetch_add(1, Ordering::SeqCst) + 1;
        let (start, end) = range.unwrap_or((0, size - 1));
        let end = end.min(size - 1);
        match mode {
            Mode::Error500Every(k) if n.is_multiple_of(k) => {
                out.write_all(b"HTTP/1.1 500 Oops\r\nContent-Length: 5\r\n\r\noops\n")?;
                continue;
            }
            Mode::IgnoreRange => {
                // Headers only: the client must not read an 800 MiB body.
                write!(out, "HTTP/1.1 200 OK\r\nContent-Length: {size}\r\n\r\n")?;
                return Ok(());
            }
            Mode::Stall => {
                thread::sleep(Duration::from_secs(60));
                return Ok(());
            }
            _ => {}
        }
        let (cr_start, cr_end, total) = match mode {
            Mode::WrongRange => (start + 1, end + 1, size),
            Mode::SizeChanges if n > 1 => (start, end, size + 4096),
            _ => (start, end, size),
        };
        let len = end - start + 1;
        let mut body = vec![0u8; len as usize];
        f.read_exact_at(&mut body, start)?;
        write!(
            out,
            "HTTP/1.1 206 Partial Content\r\nContent-Length: {len}\r\n\
             Content-Range: bytes {cr_start}-{cr_end}/{total}\r\n\r\n"
        )?;
        let cut = match mode {
            Mode::DropEvery(k) if n.is_multiple_of(k) => true,
            Mode::ShortBody => true,
            _ => false,
        };
        if cut {
            out.write_all(&body[..body.len() / 2])?;
            return Ok(()); // closes the connection mid-body
        }
        out.write_all(&body)?;
    }
    Ok(())
}

/// `wax run --image IMAGE /bin/cat /etc/os-release /etc/debian_version`.
fn cat(image: &str) -> Run {
    let mut cmd = wax_run();
    cmd.args([
        "--image",
        image,
        "/bin/cat",
        "/etc/os-release",
        "/etc/debian_version",
    ])
    .env("WAX_HTTP_TIMEOUT", "2");
    run_with_timeout(cmd, b"", RUN_TIMEOUT)
}

fn expected() -> Vec<u8> {
    let run = cat(image().to_str().unwrap());
    assert_eq!(run.status, Status::Exited(0), "{}", run.stderr_text());
    assert!(String::from_utf8_lossy(&run.stdout).contains("Debian"));
    run.stdout
}

fn assert_same_as_file(mode: Mode) -> u64 {
    let want = expected();
    let (url, count) = serve(image(), mode);
    let run = cat(&url);
    assert_eq!(
        run.status,
        Status::Exited(0),
        "{mode:?}: {}",
        run.stderr_text()
    );
    assert_eq!(run.stdout, want, "{mode:?}: different output over HTTP");
    count.load(Ordering::SeqCst)
}

/// The run fails with a message naming the URL and containing `what`.
fn assert_clear_error(mode: Mode, what: &str) {
    let (url, _) = serve(image(), mode);
    let run = cat(&url);
    let err = run.stderr_text();
    assert!(
        matches!(run.status, Status::Exited(c) if c != 0),
        "{mode:?}: {} ({err})",
        run.status
    );
    assert!(
        err.contains(&url) && err.contains(what),
        "{mode:?}: unclear message: {err}"
    );
    assert!(!err.contains("panicked"), "{mode:?}: {err}");
}

#[test]
fn good_server_gives_the_same_output_as_the_file() {
    let requests = assert_same_as_file(Mode::Good);
    assert!(requests > 0);
}

#[test]
fn server_errors_are_retried() {
    // Every third request fails; each retry is a new request, so no
    // request fails twice in a row.
    assert_same_as_file(Mode::Error500Every(3));
}

#[test]
fn dropped_connections_are_retried() {
    assert_same_as_file(Mode::DropEvery(4));
}

#[test]
fn server_without_range_support_is_a_clear_error() {
    assert_clear_error(Mode::IgnoreRange, "Range");
}

#[test]
fn short_bodies_give_up_with_a_clear_error() {
    assert_clear_error(Mode::ShortBody, "short body");
}

#[test]
fn wrong_content_range_is_a_clear_error() {
    assert_clear_error(Mode::WrongRange, "asked for bytes");
}

#[test]
fn image_changing_size_is_a_clear_error() {
    // The first request (at open) sees the real size; a later one a
    // different size: the mount fails naming the cause (a guest would see
    // EIO, and wax logs the cause).
    let (url, _) = serve(image(), Mode::SizeChanges);
    let run = cat(&url);
    let err = run.stderr_text();
    assert!(
        matches!(run.status, Status::Exited(c) if c != 0),
        "{} ({err})",
        run.status
    );
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        err.contains(&url) && err.contains("changed size"),
        "unclear message: {err}"
    );
}

#[test]
fn stalled_server_times_out() {
    // 5 attempts × 2 s socket timeout plus the back-off: well under the
    // run's timeout, so a hang would show as Status::TimedOut.
    let (url, _) = serve(image(), Mode::Stall);
    let run = cat(&url);
    let err = run.stderr_text();
    assert!(
        matches!(run.status, Status::Exited(c) if c != 0),
        "{} ({err})",
        run.status
    );
    assert!(err.contains(&url) && err.contains("gave up"), "{err}");
    assert!(run.elapsed < Duration::from_secs(40), "{:?}", run.elapsed);
}
