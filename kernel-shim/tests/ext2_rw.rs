//! The ext2 driver against images made by mke2fs and checked by e2fsck:
//! read everything mke2fs wrote, run write workloads, then `e2fsck -fn`
//! the result and read the data back after a remount.
//!
//! Needs mke2fs and e2fsck (e2fsprogs); the tests fail, not skip, without.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use wax_devices::block::{BlockDevice, MemDevice};
use wax_devices::{FixedClock, Timespec};
use wax_kernel::ext2::Ext2Fs;
use wax_kernel::vfs::{FileSystem, Ino, NewNode, OpenMode, SetAttr};

/// A scratch directory (images of up to 256 MiB and their source trees),
/// removed when the test passes and kept for a look when it fails.
struct Scratch(PathBuf);

impl std::ops::Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

fn tmp(name: &str) -> Scratch {
    let d = std::env::temp_dir().join(format!("wax-ext2-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    Scratch(d)
}

fn clock() -> Box<FixedClock> {
    Box::new(FixedClock {
        realtime: Timespec {
            sec: 1_700_000_000,
            nsec: 5,
        },
        monotonic: Timespec::default(),
    })
}

/// mke2fs -t ext2 -d `src` into an image of `mb` MiB; returns its bytes.
fn mkfs(dir: &Path, src: &Path, block: u32, mb: u32) -> Vec<u8> {
    let img = dir.join("fs.img");
    let st = Command::new("mke2fs")
        .args(["-q", "-F", "-t", "ext2", "-b", &block.to_string(), "-d"])
        .arg(src)
        .arg(&img)
        .arg(format!("{mb}M"))
        .status()
        .expect("mke2fs (e2fsprogs) must be installed");
    assert!(st.success());
    std::fs::read(img).unwrap()
}

/// e2fsck -fn on the bytes; panics with its report if it finds anything.
fn fsck(dir: &Path, bytes: &[u8]) {
    let img = dir.join("check.img");
    std::fs::write(&img, bytes).unwrap();
    let out = Command::new("e2fsck")
        .arg("-fn")
        .arg(&img)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "e2fsck -fn failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A device whose bytes the test can take back after unmounting.
struct Shared(std::rc::Rc<std::cell::RefCell<MemDevice>>);

impl BlockDevice for Shared {
    fn size(&self) -> u64 {
        self.0.borrow().size()
    }
    fn read_at(&mut self, off: u64, buf: &mut [u8]) -> Result<(), wax_devices::block::BlockError> {
        self.0.borrow_mut().read_at(off, buf)
    }
    fn write_at(&mut self, off: u64, buf: &[u8]) -> Result<(), wax_devices::block::BlockError> {
        self.0.borrow_mut().write_at(off, buf)
    }
    fn flush(&mut self) -> Result<(), wax_devices::block::BlockError> {
        Ok(())
    }
}

type Dev = std::rc::Rc<std::cell::RefCell<MemDevice>>;

fn mount(bytes: Vec<u8>) -> (Ext2Fs, Dev) {
    let dev = std::rc::Rc::new(std::cell::RefCell::new(MemDevice::new(bytes)));
    let fs = Ext2Fs::mount(Box::new(Shared(dev.clone())), clock(), false).unwrap();
    (fs, dev)
}

fn node(mode: u32) -> NewNode {
    NewNode {
        mode,
        uid: 1000,
        gid: 1000,
        rdev: 0,
    }
}

fn rw() -> OpenMode {
    OpenMode {
        read: true,
        write: true,
        ..OpenMode::default()
    }
}

fn walk(fs: &mut Ext2Fs, path: &str) -> Ino {
    let mut ino = fs.root();
    for c in path.split('/').filter(|c| !c.is_empty()) {
        ino = fs
            .lookup(ino, c.as_bytes())
            .unwrap_or_else(|e| panic!("{path}: {e:?}"));
    }
    ino
}

fn read_all(fs: &mut Ext2Fs, ino: Ino) -> Vec<u8> {
    let size = fs.getattr(ino).unwrap().size as usize;
    let mut h = fs
        .open(
            ino,
            OpenMode {
                read: true,
                ..OpenMode::default()
            },
        )
        .unwrap();
    let mut out = vec![0u8; size + 10];
    let mut done = 0;
    loop {
        let n = h.read_at(done as u64, &mut out[done..]).unwrap();
        if n == 0 {
            break;
        }
        done += n;
    }
    out.truncate(done);
    out
}

fn read_path(fs: &mut Ext2Fs, path: &str) -> Vec<u8> {
    let ino = walk(fs, path);
    read_all(fs, ino)
}

fn write_file(fs: &mut Ext2Fs, dir: Ino, name: &str, data: &[u8]) -> Ino {
    let ino = match fs.lookup(dir, name.as_bytes()) {
        Ok(i) => i,
        Err(_) => fs.create(dir, name.as_bytes(), &node(0o100644)).unwrap(),
    };
    let mut h = fs
        .open(
            ino,
            OpenMode {
                truncate: true,
                ..rw()
            },
        )
        .unwrap();
    for (i, c) in data.chunks(100_000).enumerate() {
        assert_eq!(h.write_at(i as u64 * 100_000, c).unwrap(), c.len());
    }
    ino
}

fn pattern(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// A host tree with the shapes that matter: sizes around block edges,
/// sparse files, fast and slow symlinks, hard links, a large directory.
fn host_tree(dir: &Path) -> PathBuf {
    let src = dir.join("src");
    std::fs::create_dir_all(src.join("sub/deeper")).unwrap();
    for (name, len) in [
        ("empty", 0),
        ("one", 1),
        ("edge", 4095),
        ("block", 4096),
        ("mid", 50_000),
        ("big", 3_000_000),
    ] {
        std::fs::write(src.join(name), pattern(len as u64, len)).unwrap();
    }
    let f = std::fs::File::create(src.join("sparse")).unwrap();
    f.set_len(40 << 20).unwrap();
    use std::os::unix::fs::FileExt;
    f.write_at(b"tail", (40 << 20) - 4).unwrap();
    f.write_at(b"head", 0).unwrap();
    std::os::unix::fs::symlink("mid", src.join("fast")).unwrap();
    std::os::unix::fs::symlink("x".repeat(200), src.join("slow")).unwrap();
    std::fs::hard_link(src.join("mid"), src.join("sub/mid-link")).unwrap();
    for i in 0..3000 {
        std::fs::write(
            src.join("sub/deeper").join(format!("file-{i:05}")),
            format!("{i}"),
        )
        .unwrap();
    }
    src
}

fn check_tree(fs: &mut Ext2Fs, src: &Path) {
    for (name, len) in [
        ("empty", 0),
        ("one", 1),
        ("edge", 4095),
        ("block", 4096),
        ("mid", 50_000),
        ("big", 3_000_000),
    ] {
        let ino = walk(fs, name);
        assert_eq!(read_all(fs, ino), pattern(len as u64, len), "{name}");
    }
    let sparse = read_path(fs, "sparse");
    assert_eq!(sparse.len(), 40 << 20);
    assert_eq!(&sparse[..4], b"head");
    assert_eq!(&sparse[sparse.len() - 4..], b"tail");
    assert!(sparse[4..sparse.len() - 4].iter().all(|&b| b == 0));
    let fast = walk(fs, "fast");
    assert_eq!(fs.readlink(fast).unwrap(), b"mid");
    let slow = walk(fs, "slow");
    assert_eq!(fs.readlink(slow).unwrap(), "x".repeat(200).as_bytes());
    let mid = walk(fs, "mid");
    assert_eq!(walk(fs, "sub/mid-link"), mid);
    assert_eq!(fs.getattr(mid).unwrap().nlink, 2);
    let deeper = walk(fs, "sub/deeper");
    let mut names: Vec<_> = fs
        .readdir(deeper)
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    names.sort();
    assert_eq!(names.len(), 3000);
    let ino = walk(fs, "sub/deeper/file-02999");
    assert_eq!(read_all(fs, ino), b"2999");
    let host = std::fs::symlink_metadata(src.join("edge")).unwrap();
    use std::os::unix::fs::MetadataExt;
    let edge = walk(fs, "edge");
    let a = fs.getattr(edge).unwrap();
    assert_eq!((a.mode, a.mtime.sec), (host.mode(), host.mtime()));
}

#[test]
fn reads_what_mke2fs_wrote_at_1k_and_4k_blocks() {
    for block in [1024, 4096] {
        let dir = tmp(&format!("read{block}"));
        let src = host_tree(&dir);
        let (mut fs, _) = mount(mkfs(&dir, &src, block, 96));
        check_tree(&mut fs, &src);
        let st = fs.statfs().unwrap();
        assert_eq!((st.f_type, st.f_bsize), (0xef53, block));
    }
}

/// Creates, renames and deletes thousands of files, writes big and sparse
/// files, then checks the image with e2fsck and reads it back.
#[test]
fn write_workload_leaves_a_clean_image() {
    for block in [1024, 4096] {
        let dir = tmp(&format!("write{block}"));
        let src = host_tree(&dir);
        let (mut fs, dev) = mount(mkfs(&dir, &src, block, 256));
        let root = fs.root();
        let mut model: BTreeMap<String, Vec<u8>> = BTreeMap::new();
        let work = fs.mkdir(root, b"work", &node(0o40755)).unwrap();
        let a = fs.mkdir(work, b"a", &node(0o40755)).unwrap();
        let b = fs.mkdir(work, b"b", &node(0o40755)).unwrap();
        for i in 0..2500 {
            let data = pattern(i, (i as usize * 37) % 9000);
            write_file(&mut fs, a, &format!("f{i}"), &data);
            model.insert(format!("f{i}"), data);
        }
        for i in (0..2500).step_by(3) {
            fs.rename(
                a,
                format!("f{i}").as_bytes(),
                b,
                format!("g{i}").as_bytes(),
                0,
            )
            .unwrap();
        }
        for i in (0..2500).step_by(2) {
            let (d, n) = if i % 3 == 0 {
                (b, format!("g{i}"))
            } else {
                (a, format!("f{i}"))
            };
            fs.unlink(d, n.as_bytes()).unwrap();
            model.remove(&format!("f{i}"));
        }
        // Replace by rename, and move a directory across.
        write_file(&mut fs, a, "victim", b"old");
        write_file(&mut fs, b, "winner", b"new");
        fs.rename(b, b"winner", a, b"victim", 0).unwrap();
        fs.rename(work, b"b", a, b"b-moved", 0).unwrap();
        let moved = walk(&mut fs, "work/a/b-moved");
        assert_eq!(
            fs.rename(a, b"b-moved", moved, b"x", 0),
            Err(wax_kernel::Errno::EINVAL)
        );
        // Big, sparse, truncated and hard-linked files.
        let big = pattern(99, 30 << 20);
        write_file(&mut fs, work, "big", &big);
        let sp = fs.create(work, b"sparse", &node(0o100600)).unwrap();
        let mut h = fs.open(sp, rw()).unwrap();
        h.write_at(5 << 30, b"far").unwrap();
        h.write_at(7, b"near").unwrap();
        drop(h);
        let tr = write_file(&mut fs, work, "trunc", &pattern(5, 5_000_000));
        fs.setattr(
            tr,
            &SetAttr {
                size: Some(12_345),
                ..SetAttr::default()
            },
        )
        .unwrap();
        fs.setattr(
            tr,
            &SetAttr {
                size: Some(100_000),
                ..SetAttr::default()
            },
        )
        .unwrap();
        fs.link(tr, root, b"trunc-link").unwrap();
        fs.symlink(
            work,
            b"long-link",
            "y".repeat(300).as_bytes(),
            &node(0o120777),
        )
        .unwrap();
        // Empty and remove a directory tree from the original image.
        let deeper = walk(&mut fs, "sub/deeper");
        for e in fs.readdir(deeper).unwrap() {
            fs.unlink(deeper, &e.name).unwrap();
        }
        let sub = walk(&mut fs, "sub");
        fs.rmdir(sub, b"deeper").unwrap();
        assert_eq!(fs.rmdir(root, b"sub"), Err(wax_kernel::Errno::ENOTEMPTY));
        fs.sync().unwrap();
        let bytes = dev.borrow().bytes.clone();
        fsck(&dir, &bytes);

        // Remount and read everything back.
        let (mut fs, _) = mount(bytes);
        let a = walk(&mut fs, "work/a");
        let b = walk(&mut fs, "work/a/b-moved");
        for (name, data) in &model {
            let i: u64 = name[1..].parse().unwrap();
            let ino = if i.is_multiple_of(3) {
                fs.lookup(b, format!("g{i}").as_bytes()).unwrap()
            } else {
                fs.lookup(a, name.as_bytes()).unwrap()
            };
            assert_eq!(&read_all(&mut fs, ino), data, "{name}");
        }
        assert_eq!(read_path(&mut fs, "work/a/victim"), b"new");
        assert_eq!(read_path(&mut fs, "work/big"), big);
        let mut t = pattern(5, 12_345);
        t.resize(100_000, 0);
        assert_eq!(read_path(&mut fs, "trunc-link"), t);
        let sp = walk(&mut fs, "work/sparse");
        let mut h = fs
            .open(
                sp,
                OpenMode {
                    read: true,
                    ..OpenMode::default()
                },
            )
            .unwrap();
        let mut buf = [0u8; 11];
        h.read_at(0, &mut buf).unwrap();
        assert_eq!(&buf, b"\0\0\0\0\0\0\0near");
        h.read_at((5 << 30) - 8, &mut buf).unwrap();
        assert_eq!(&buf, b"\0\0\0\0\0\0\0\0far");
        assert!(
            fs.getattr(sp).unwrap().blocks < 64,
            "sparse file is not sparse"
        );
    }
}

/// A file unlinked while open survives until closed, and the image is
/// clean at a sync in between (the orphan is shown freed) and after.
#[test]
fn unlinked_open_file_lives_until_close_and_syncs_clean() {
    let dir = tmp("orphan");
    let src = host_tree(&dir);
    let (mut fs, dev) = mount(mkfs(&dir, &src, 4096, 96));
    let root = fs.root();
    let ino = write_file(&mut fs, root, "tmpfile", &pattern(1, 1_000_000));
    let mut h = fs.open(ino, rw()).unwrap();
    fs.unlink(root, b"tmpfile").unwrap();
    h.write_at(1_000_000, b"more").unwrap();
    fs.sync().unwrap();
    let free_at_sync = fs.statfs().unwrap().f_bfree;
    fsck(&dir, &dev.borrow().bytes.clone());
    let mut buf = [0u8; 4];
    h.read_at(1_000_000, &mut buf).unwrap();
    assert_eq!(&buf, b"more");
    drop(h);
    fs.sync().unwrap();
    assert!(fs.statfs().unwrap().f_bfree > free_at_sync + 200);
    fsck(&dir, &dev.borrow().bytes.clone());
}

/// Names a directory listing put in the dentry cache follow the changes
/// made after it: unlink, rename within and across directories, a new
/// file under an old name, rmdir and a new directory under its name.
#[test]
fn names_learned_from_a_listing_follow_later_changes() {
    let dir = tmp("listing");
    let src = host_tree(&dir);
    let (mut fs, dev) = mount(mkfs(&dir, &src, 4096, 96));
    let root = fs.root();
    let d = fs.mkdir(root, b"d", &node(0o40755)).unwrap();
    let other = fs.mkdir(root, b"other", &node(0o40755)).unwrap();
    let x = write_file(&mut fs, d, "x", b"x");
    let y = write_file(&mut fs, d, "y", b"y");
    let w = write_file(&mut fs, d, "w", b"w");
    fs.mkdir(d, b"sub", &node(0o40755)).unwrap();
    let mut names: Vec<_> = fs.readdir(d).unwrap().into_iter().map(|e| e.name).collect();
    names.sort();
    assert_eq!(names, [&b"sub"[..], b"w", b"x", b"y"]);
    assert_eq!(fs.lookup(d, b"x"), Ok(x));
    fs.unlink(d, b"x").unwrap();
    fs.rename(d, b"y", d, b"z", 0).unwrap();
    fs.rename(d, b"w", other, b"w", 0).unwrap();
    fs.rmdir(d, b"sub").unwrap();
    assert_eq!(fs.lookup(d, b"x"), Err(wax_kernel::Errno::ENOENT));
    assert_eq!(fs.lookup(d, b"y"), Err(wax_kernel::Errno::ENOENT));
    assert_eq!(fs.lookup(d, b"z"), Ok(y));
    assert_eq!(fs.lookup(d, b"w"), Err(wax_kernel::Errno::ENOENT));
    assert_eq!(fs.lookup(other, b"w"), Ok(w));
    assert_eq!(fs.lookup(d, b"sub"), Err(wax_kernel::Errno::ENOENT));
    let x2 = write_file(&mut fs, d, "x", b"again");
    let sub2 = fs.mkdir(d, b"sub", &node(0o40755)).unwrap();
    assert_eq!(fs.lookup(d, b"x"), Ok(x2));
    assert_eq!(fs.lookup(d, b"sub"), Ok(sub2));
    assert_eq!(read_path(&mut fs, "d/x"), b"again");
    fs.sync().unwrap();
    fsck(&dir, &dev.borrow().bytes.clone());
}
