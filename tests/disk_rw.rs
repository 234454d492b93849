//! Write workloads of real programs through `wax run --image IMG --rw`,
//! each checked with `e2fsck -fn` and by reading the data back with an
//! independent implementation (e2fsprogs' debugfs) and with wax.
//!
//! The image is made here with `mke2fs -d`: Debian's static busybox (the
//! programs) and a tarball of a generated tree. The workloads: tar -x of
//! the tarball, cp -a of the tree, mv of trees, rm -rf, and a 200 MB file
//! written with dd.
//!
//! Needs build/busybox/bin/busybox (scripts/setup.sh) and e2fsprogs.

mod common;

use common::{run_with_timeout, scratch, wax_run, Run, Status};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const RUN_TIMEOUT: Duration = Duration::from_secs(120);
const BIG_MB: u64 = 200;

/// Deterministic bytes (xorshift), so the tree is the same every run.
fn pattern(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// The tree the workloads move around: sizes around the 4 KiB block
/// edges, a file needing double indirect blocks, symlinks, empty files
/// and directories.
fn make_tree(root: &Path) {
    fs::create_dir_all(root.join("t/a/b/c")).unwrap();
    fs::create_dir_all(root.join("t/empty-dir")).unwrap();
    fs::create_dir_all(root.join("t/many")).unwrap();
    for (i, len) in [0, 1, 4095, 4096, 4097, 49_152, 100_000].iter().enumerate() {
        fs::write(root.join(format!("t/a/f{i}")), pattern(i as u64, *len)).unwrap();
    }
    fs::write(root.join("t/a/b/c/double-indirect"), pattern(99, 5_000_000)).unwrap();
    for i in 0..300 {
        fs::write(
            root.join(format!("t/many/n{i:03}")),
            pattern(1000 + i, i as usize * 37),
        )
        .unwrap();
    }
    std::os::unix::fs::symlink("f1", root.join("t/a/fast-link")).unwrap();
    std::os::unix::fs::symlink("z".repeat(150), root.join("t/a/slow-link")).unwrap();
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn fsck(img: &Path, after: &str) {
    let out = Command::new("e2fsck").arg("-fn").arg(img).output().unwrap();
    assert!(
        out.status.success(),
        "e2fsck -fn after {after}:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `wax run --image IMG [--rw] /bin/busybox sh -c SCRIPT`.
fn wax_sh(img: &Path, rw: bool, script: &str) -> Run {
    let mut cmd = wax_run();
    cmd.arg("--image").arg(img);
    if rw {
        cmd.arg("--rw");
    }
    cmd.args(["/bin/busybox", "sh", "-c", script]);
    let r = run_with_timeout(cmd, b"", RUN_TIMEOUT);
    assert_eq!(r.status, Status::Exited(0), "{script}: {}", r.stderr_text());
    r
}

/// Asserts that the trees `want` (host) and `got` are equal: names, file
/// bytes, symlink targets.
fn same_tree(want: &Path, got: &Path) {
    let names = |p: &Path| -> Vec<_> {
        let mut v: Vec<_> = fs::read_dir(p)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        v.sort();
        v
    };
    let (a, b) = (names(want), names(got));
    assert_eq!(a, b, "{} vs {}", want.display(), got.display());
    for n in a {
        let (w, g) = (want.join(&n), got.join(&n));
        let meta = fs::symlink_metadata(&w).unwrap();
        if meta.file_type().is_symlink() {
            assert_eq!(fs::read_link(&w).unwrap(), fs::read_link(&g).unwrap());
        } else if meta.is_dir() {
            same_tree(&w, &g);
        } else {
            assert!(
                fs::read(&w).unwrap() == fs::read(&g).unwrap(),
                "{} differs",
                g.display()
            );
        }
    }
}

/// debugfs's copy of `path` in the image, under `out`.
fn debugfs_dump(img: &Path, path: &str, out: &Path) -> PathBuf {
    fs::create_dir_all(out).unwrap();
    run(Command::new("debugfs")
        .arg("-R")
        .arg(format!("rdump {path} {}", out.display()))
        .arg(img));
    out.join(Path::new(path).file_name().unwrap())
}

#[test]
fn real_programs_write_an_image_that_e2fsck_accepts() {
    let dir = scratch().join(format!("disk-rw-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    let src = dir.join("src");
    fs::create_dir_all(src.join("bin")).unwrap();
    fs::create_dir_all(src.join("data")).unwrap();
    let busybox = common::repo_root().join("build/busybox/bin/busybox");
    assert!(busybox.exists(), "run scripts/setup.sh to fetch busybox");
    fs::copy(&busybox, src.join("bin/busybox")).unwrap();
    let host_tree = dir.join("host");
    make_tree(&host_tree);
    run(Command::new("tar")
        .arg("-cf")
        .arg(src.join("data/tree.tar"))
        .arg("-C")
        .arg(&host_tree)
        .arg("t"));
    let img = dir.join("fs.img");
    run(Command::new("mke2fs")
        .args(["-q", "-F", "-t", "ext2", "-b", "4096", "-d"])
        .arg(&src)
        .arg(&img)
        .arg("600M"));
    fsck(&img, "mke2fs");

    let steps = [
        ("tar -x", "mkdir /x && tar -xf /data/tree.tar -C /x"),
        ("cp -a", "cp -a /x /y"),
        ("mv", "mv /y /z && mv /z/t/a/b /moved-b"),
        ("rm -rf", "rm -rf /x"),
        (
            "dd 200 MB",
            "dd if=/dev/urandom of=/big bs=1M count=200 2>/dev/null && ls -l /big",
        ),
    ];
    for (what, script) in steps {
        wax_sh(&img, true, script);
        fsck(&img, what);
    }

    // Read back with debugfs: the moved trees equal the originals.
    let out = dir.join("dump");
    let z = debugfs_dump(&img, "/z/t", &out.join("z"));
    let b = debugfs_dump(&img, "/moved-b", &out.join("b"));
    let orig_b = dir.join("orig-b");
    fs::rename(host_tree.join("t/a/b"), &orig_b).unwrap();
    same_tree(&host_tree.join("t"), &z);
    same_tree(&orig_b, &b);
    // The removed tree is gone; listing it fails in wax.
    let mut gone = wax_run();
    gone.args(["--image"])
        .arg(&img)
        .args(["/bin/busybox", "ls", "/x"]);
    assert_ne!(
        run_with_timeout(gone, b"", RUN_TIMEOUT).status,
        Status::Exited(0)
    );

    // The 200 MB file: the same bytes through debugfs and through wax.
    let big = debugfs_dump(&img, "/big", &out);
    let host_big = fs::read(&big).unwrap();
    assert_eq!(host_big.len() as u64, BIG_MB << 20);
    assert!(host_big.iter().any(|&x| x != 0), "dd wrote zeros");
    let guest_big = wax_sh(&img, false, "cat /big").stdout;
    assert!(
        guest_big == host_big,
        "wax reads /big differently from debugfs"
    );
    // And a file written by tar, read by wax.
    let f = wax_sh(&img, false, "cat /z/t/a/f6").stdout;
    assert_eq!(f, pattern(6, 100_000));
    fs::remove_dir_all(&dir).unwrap();
}
