//! Hostile images through `wax run --image`: the user gets a clear error
//! for an image that cannot be mounted, the guest gets EIO for corrupt
//! structures met at run time, and nothing panics or hangs. (The driver
//! itself meets many more corruptions in kernel-shim/tests/ext2_hostile.rs.)
//!
//! The images are made here with `mke2fs -d` (Debian's static busybox and
//! a few files) and corrupted with debugfs's editing commands.
//!
//! Needs build/busybox/bin/busybox (scripts/setup.sh) and e2fsprogs.

mod common;

use common::{run_with_timeout, scratch, wax_run, Run, Status};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const RUN_TIMEOUT: Duration = Duration::from_secs(60);

struct Images {
    dir: PathBuf,
    clean: Vec<u8>,
}

impl Images {
    fn new(label: &str) -> Images {
        let dir = scratch().join(format!("disk-hostile-{label}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let src = dir.join("src");
        fs::create_dir_all(src.join("bin")).unwrap();
        fs::create_dir_all(src.join("data/d/sub")).unwrap();
        let busybox = common::repo_root().join("build/busybox/bin/busybox");
        assert!(busybox.exists(), "run scripts/setup.sh to fetch busybox");
        fs::copy(&busybox, src.join("bin/busybox")).unwrap();
        fs::write(src.join("data/small"), b"small file\n").unwrap();
        fs::write(src.join("data/big"), vec![b'x'; 200_000]).unwrap();
        let img = dir.join("clean.img");
        let out = Command::new("mke2fs")
            .args(["-q", "-F", "-t", "ext2", "-b", "1024", "-d"])
            .arg(&src)
            .arg(&img)
            .arg("8M")
            .output()
            .expect("mke2fs (e2fsprogs) must be installed");
        assert!(out.status.success(), "{out:?}");
        let clean = fs::read(&img).unwrap();
        Images { dir, clean }
    }

    /// A copy of the clean image changed by `debugfs -w -R REQUEST`s.
    fn debugfs(&self, name: &str, requests: &[&str]) -> PathBuf {
        let img = self.with_bytes(name, |_| {});
        for r in requests {
            let out = Command::new("debugfs")
                .args(["-w", "-R", r])
                .arg(&img)
                .output()
                .unwrap();
            assert!(out.status.success(), "debugfs {r}: {out:?}");
        }
        img
    }

    /// A copy of the clean image with its bytes changed by `f`.
    fn with_bytes(&self, name: &str, f: impl FnOnce(&mut Vec<u8>)) -> PathBuf {
        let mut bytes = self.clean.clone();
        f(&mut bytes);
        let img = self.dir.join(format!("{name}.img"));
        fs::write(&img, bytes).unwrap();
        img
    }
}

impl Drop for Images {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

fn wax(img: &Path, args: &[&str]) -> Run {
    let mut cmd = wax_run();
    cmd.arg("--image").arg(img).args(args);
    let r = run_with_timeout(cmd, b"", RUN_TIMEOUT);
    let err = r.stderr_text();
    assert!(
        !matches!(r.status, Status::TimedOut(_) | Status::Signaled(_)),
        "{args:?}: {} ({err})",
        r.status
    );
    assert!(!err.contains("panicked"), "{args:?}: {err}");
    r
}

/// Fails with exit status `code` and `what` on stderr.
fn assert_fails(r: &Run, code: i32, what: &str) {
    assert_eq!(r.status, Status::Exited(code), "{}", r.stderr_text());
    assert!(
        r.stderr_text().contains(what),
        "unclear: {}",
        r.stderr_text()
    );
}

#[test]
fn unmountable_images_are_clear_errors() {
    let imgs = Images::new("mount");
    let bb = ["/bin/busybox", "true"];
    let ok = wax(&imgs.with_bytes("ok", |_| {}), &bb);
    assert_eq!(ok.status, Status::Exited(0), "{}", ok.stderr_text());

    let not_ext2 = imgs.with_bytes("not-ext2", |b| b.iter_mut().for_each(|x| *x = 0x5a));
    let r = wax(&not_ext2, &bb);
    assert!(r.status != Status::Exited(0));
    assert!(
        r.stderr_text().contains("not an ext2 file system"),
        "{}",
        r.stderr_text()
    );

    let truncated = imgs.with_bytes("truncated", |b| b.truncate(b.len() / 2));
    let r = wax(&truncated, &bb);
    assert!(r.status != Status::Exited(0));
    assert!(r.stderr_text().contains("truncated"), "{}", r.stderr_text());

    // s_inodes_per_group (superblock byte 40) zero.
    let bad_sb = imgs.with_bytes("bad-sb", |b| b[1024 + 40..1024 + 44].fill(0));
    let r = wax(&bad_sb, &bb);
    assert!(r.status != Status::Exited(0));
    assert!(
        r.stderr_text().contains("corrupt ext2 file system"),
        "{}",
        r.stderr_text()
    );
}

#[test]
fn corrupt_structures_are_eio_for_the_guest() {
    let imgs = Images::new("eio");
    // The program itself points outside the disk: exec fails.
    let img = imgs.debugfs("exe", &["sif /bin/busybox block[0] 0x7fffffff"]);
    let r = wax(&img, &["/bin/busybox", "true"]);
    assert!(r.status != Status::Exited(0));
    assert!(
        r.stderr_text().contains("Input/output error"),
        "{}",
        r.stderr_text()
    );

    // A file's indirect block is outside the disk: cat reads the direct
    // blocks, then gets EIO.
    let img = imgs.debugfs("indirect", &["sif /data/big block[IND] 0x7fffffff"]);
    let r = wax(&img, &["/bin/busybox", "cat", "/data/big"]);
    assert_fails(&r, 1, "Input/output error");
    assert_eq!(r.stdout.len(), 12 * 1024, "the direct blocks are readable");

    // The data directory's first block has a record of length 0.
    let img = imgs.debugfs("rec-len", &["zap_block -f /data -o 4 -l 2 -p 0 0"]);
    // (A lookup shows the EIO; getdents fails with EIO too, but busybox
    // ls does not report readdir errors.)
    let r = wax(&img, &["/bin/busybox", "ls", "/data/small"]);
    assert_fails(&r, 1, "Input/output error");
    // Elsewhere the file system still works.
    let r = wax(
        &img,
        &["/bin/busybox", "cat", "/bin/../bin/../data/../bin/busybox"],
    );
    assert_eq!(r.status, Status::Exited(0));

    // A file claiming 2^40 bytes: reading it stops at the first block past
    // the largest possible file with EIO, without reading terabytes.
    let img = imgs.debugfs("huge", &["sif /data/small size 0x10000000000"]);
    let r = wax(&img, &["/bin/busybox", "tail", "-c", "5", "/data/small"]);
    // (busybox tail reports the error but exits 0.)
    assert!(
        r.stderr_text().contains("Input/output error"),
        "{}",
        r.stderr_text()
    );
}

#[test]
fn directory_loops_do_not_hang() {
    let imgs = Images::new("loop");
    // /data/d/sub/up is a hard link to /data/d: a directory loop.
    let img = imgs.debugfs("loop", &["link /data/d /data/d/sub/up"]);
    let r = wax(
        &img,
        &[
            "/bin/busybox",
            "ls",
            "-d",
            "/data/d/sub/up/sub/up/sub/up/sub",
        ],
    );
    assert_eq!(r.status, Status::Exited(0), "{}", r.stderr_text());
    assert_eq!(r.stdout, b"/data/d/sub/up/sub/up/sub/up/sub\n");
    // A walk of the loop ends (busybox find reports the loop or the path
    // grows until ENAMETOOLONG); only its termination matters here.
    wax(&img, &["/bin/busybox", "find", "/data/d"]);
}
