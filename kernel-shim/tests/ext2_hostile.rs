//! Corrupt and hostile ext2 images: the driver must answer every one with
//! a clean error — an `Ext2Error` at mount or an errno (EIO, ENOSPC, ...)
//! from an operation — and never panic, hang or make a huge allocation.
//!
//! The images are derived from one small image made by `mke2fs -d`: a
//! list of targeted corruptions (superblock fields, group descriptors,
//! inode fields, directory records, bitmaps), then seeded random byte
//! corruption of the metadata blocks. Each one is mounted and walked
//! (every directory, stat, read, readlink), then written to, in a thread
//! with a timeout. A counting global allocator catches huge allocations.
//!
//! Needs mke2fs (e2fsprogs); fails without it.

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::HashSet;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;
use wax_devices::block::MemDevice;
use wax_devices::{FixedClock, Timespec};
use wax_kernel::errno::Errno;
use wax_kernel::ext2::Ext2Fs;
use wax_kernel::vfs::{FileSystem, Ino, NewNode, OpenMode};

/// The System allocator, remembering the largest single request.
struct Counting;

static LARGEST: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to System unchanged; only records sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LARGEST.fetch_max(new_size, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// No single allocation may be larger than this (the image is 4 MiB).
const MAX_ALLOC: usize = 64 << 20;
/// One case (mount, walk, writes) must end within this.
const CASE_TIMEOUT: Duration = Duration::from_secs(20);
/// Bytes read from each file (a corrupt i_size can claim terabytes).
const READ_LIMIT: u64 = 1 << 20;
const BS: usize = 1024;

fn clock() -> Box<FixedClock> {
    Box::new(FixedClock {
        realtime: Timespec {
            sec: 1_700_000_000,
            nsec: 0,
        },
        monotonic: Timespec::default(),
    })
}

fn u16_at(b: &[u8], o: usize) -> u16 {
    u16::from_le_bytes([b[o], b[o + 1]])
}
fn u32_at(b: &[u8], o: usize) -> u32 {
    u32::from_le_bytes(b[o..o + 4].try_into().unwrap())
}
fn put16(b: &mut [u8], o: usize, v: u16) {
    b[o..o + 2].copy_from_slice(&v.to_le_bytes());
}
fn put32(b: &mut [u8], o: usize, v: u32) {
    b[o..o + 4].copy_from_slice(&v.to_le_bytes());
}

/// The base image: 1 KiB blocks (so the files need indirect and double
/// indirect blocks), deep and wide directories, symlinks, a hard link.
fn base_image(label: &str) -> Vec<u8> {
    let dir = std::env::temp_dir().join(format!("wax-ext2-hostile-{}-{label}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let src = dir.join("src");
    std::fs::create_dir_all(src.join("a/b/c")).unwrap();
    std::fs::create_dir_all(src.join("wide")).unwrap();
    std::fs::write(src.join("a/small.txt"), b"hello\n").unwrap();
    std::fs::write(src.join("a/b/c/deep.txt"), vec![7u8; 3000]).unwrap();
    let big: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(src.join("big.bin"), big).unwrap();
    std::os::unix::fs::symlink("a/small.txt", src.join("fast")).unwrap();
    std::os::unix::fs::symlink("y".repeat(300), src.join("slow")).unwrap();
    std::fs::hard_link(src.join("a/small.txt"), src.join("wide/hard")).unwrap();
    for i in 0..120 {
        std::fs::write(src.join(format!("wide/file-{i:03}")), format!("{i}\n")).unwrap();
    }
    let img = dir.join("fs.img");
    let st = Command::new("mke2fs")
        .args(["-q", "-F", "-t", "ext2", "-b", "1024", "-N", "256", "-d"])
        .arg(&src)
        .arg(&img)
        .arg("4M")
        .stdout(std::process::Stdio::null())
        .status()
        .expect("mke2fs (e2fsprogs) must be installed");
    assert!(st.success());
    let bytes = std::fs::read(&img).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    bytes
}

/// Where things are in the base image, found with the driver itself and
/// the on-disk layout.
struct Layout2 {
    inodes_per_group: u32,
    inode_size: usize,
    gdt: usize,
    block_bitmap: usize,
    inode_bitmap: usize,
    inode_table: usize,
    small: u32,
    big: u32,
    slow: u32,
    a: u32,
    b: u32,
    wide: u32,
}

impl Layout2 {
    fn new(img: &[u8]) -> Layout2 {
        let sb = &img[1024..2048];
        let gdt = (u32_at(sb, 20) as usize + 1) * BS;
        let fs = Ext2Fs::mount(Box::new(MemDevice::new(img.to_vec())), clock(), true).unwrap();
        let mut fs = fs;
        let mut walk = |p: &str| {
            let mut ino = fs.root();
            for c in p.split('/') {
                ino = fs.lookup(ino, c.as_bytes()).unwrap();
            }
            ino as u32
        };
        Layout2 {
            inodes_per_group: u32_at(sb, 40),
            inode_size: usize::from(u16_at(sb, 88)),
            gdt,
            block_bitmap: u32_at(img, gdt) as usize * BS,
            inode_bitmap: u32_at(img, gdt + 4) as usize * BS,
            inode_table: u32_at(img, gdt + 8) as usize * BS,
            small: walk("a/small.txt"),
            big: walk("big.bin"),
            slow: walk("slow"),
            a: walk("a"),
            b: walk("a/b"),
            wide: walk("wide"),
        }
    }

    /// Byte offset of inode `ino` (all test inodes are in group 0).
    fn inode(&self, ino: u32) -> usize {
        assert!(ino <= self.inodes_per_group);
        self.inode_table + (ino as usize - 1) * self.inode_size
    }

    /// Byte offset of the first data block of directory inode `ino`.
    fn dir_block(&self, img: &[u8], ino: u32) -> usize {
        u32_at(img, self.inode(ino) + 40) as usize * BS
    }
}

// Field offsets: superblock (from byte 1024) and inode.
const S_INODES_COUNT: usize = 1024;
const S_BLOCKS_COUNT: usize = 1024 + 4;
const S_FREE_BLOCKS: usize = 1024 + 12;
const S_FIRST_DATA_BLOCK: usize = 1024 + 20;
const S_LOG_BLOCK_SIZE: usize = 1024 + 24;
const S_BLOCKS_PER_GROUP: usize = 1024 + 32;
const S_INODES_PER_GROUP: usize = 1024 + 40;
const S_MAGIC: usize = 1024 + 56;
const S_REV_LEVEL: usize = 1024 + 76;
const S_FIRST_INO: usize = 1024 + 84;
const S_INODE_SIZE: usize = 1024 + 88;
const S_FEATURE_INCOMPAT: usize = 1024 + 96;
const I_MODE: usize = 0;
const I_SIZE: usize = 4;
const I_LINKS: usize = 26;
const I_FLAGS: usize = 32;
const I_BLOCK: usize = 40;
const I_SIZE_HIGH: usize = 108;
const ROOT: u32 = 2;

/// What a targeted corruption must lead to.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Expect {
    /// The mount fails with an Ext2Error.
    MountFails,
    /// Mounts; the walk meets at least one EIO.
    Eio,
    /// Anything but a panic, hang or huge allocation.
    NoCrash,
}

type Mutation = Box<dyn Fn(&mut [u8], &Layout2)>;

fn targeted() -> Vec<(&'static str, Expect, Mutation)> {
    use Expect::*;
    let sb32 = |off: usize, v: u32| -> Mutation { Box::new(move |m, _| put32(m, off, v)) };
    let sb16 = |off: usize, v: u16| -> Mutation { Box::new(move |m, _| put16(m, off, v)) };
    let mut v: Vec<(&'static str, Expect, Mutation)> = vec![
        ("bad magic", MountFails, sb16(S_MAGIC, 0x1234)),
        ("block size 2^7 KiB", MountFails, sb32(S_LOG_BLOCK_SIZE, 7)),
        (
            "block size 2^31 KiB",
            MountFails,
            sb32(S_LOG_BLOCK_SIZE, 31),
        ),
        ("s_inodes_count 0", MountFails, sb32(S_INODES_COUNT, 0)),
        (
            "s_inodes_count huge",
            MountFails,
            sb32(S_INODES_COUNT, u32::MAX),
        ),
        ("s_blocks_count 0", MountFails, sb32(S_BLOCKS_COUNT, 0)),
        (
            "s_blocks_count past the disk",
            MountFails,
            sb32(S_BLOCKS_COUNT, u32::MAX),
        ),
        (
            "s_blocks_per_group 0",
            MountFails,
            sb32(S_BLOCKS_PER_GROUP, 0),
        ),
        (
            "s_blocks_per_group 7",
            MountFails,
            sb32(S_BLOCKS_PER_GROUP, 7),
        ),
        (
            "s_blocks_per_group huge",
            MountFails,
            sb32(S_BLOCKS_PER_GROUP, u32::MAX - 7),
        ),
        (
            "s_inodes_per_group 0",
            MountFails,
            sb32(S_INODES_PER_GROUP, 0),
        ),
        (
            "s_inodes_per_group huge",
            MountFails,
            sb32(S_INODES_PER_GROUP, u32::MAX),
        ),
        (
            "s_first_data_block 5",
            MountFails,
            sb32(S_FIRST_DATA_BLOCK, 5),
        ),
        (
            "s_first_data_block huge",
            MountFails,
            sb32(S_FIRST_DATA_BLOCK, u32::MAX),
        ),
        ("s_inode_size 0", MountFails, sb16(S_INODE_SIZE, 0)),
        ("s_inode_size 100", MountFails, sb16(S_INODE_SIZE, 100)),
        (
            "s_inode_size larger than a block",
            MountFails,
            sb16(S_INODE_SIZE, 2048),
        ),
        ("s_first_ino 0", MountFails, sb32(S_FIRST_INO, 0)),
        (
            "unknown incompat feature",
            MountFails,
            sb32(S_FEATURE_INCOMPAT, 0x8000_0002),
        ),
        (
            "s_free_blocks_count > s_blocks_count",
            MountFails,
            sb32(S_FREE_BLOCKS, u32::MAX),
        ),
        (
            "revision 0 (128-byte inodes)",
            NoCrash,
            sb32(S_REV_LEVEL, 0),
        ),
        ("revision huge", NoCrash, sb32(S_REV_LEVEL, u32::MAX)),
    ];
    let gd =
        |field: usize, val: u32| -> Mutation { Box::new(move |m, l| put32(m, l.gdt + field, val)) };
    v.extend([
        ("bg_block_bitmap 0", MountFails, gd(0, 0)),
        ("bg_block_bitmap past the disk", MountFails, gd(0, 1 << 30)),
        ("bg_inode_bitmap past the disk", MountFails, gd(4, u32::MAX)),
        ("bg_inode_table 0", MountFails, gd(8, 0)),
        ("bg_inode_table at the disk's end", MountFails, gd(8, 4095)),
        (
            "bg_free_blocks_count huge",
            MountFails,
            Box::new(|m: &mut [u8], l: &Layout2| put16(m, l.gdt + 12, u16::MAX)),
        ),
    ]);
    let ino_field = |which: fn(&Layout2) -> u32, field: usize, val: u32| -> Mutation {
        Box::new(move |m, l| {
            let at = l.inode(which(l)) + field;
            put32(m, at, val)
        })
    };
    let ino16 = |which: fn(&Layout2) -> u32, field: usize, val: u16| -> Mutation {
        Box::new(move |m, l| {
            let at = l.inode(which(l)) + field;
            put16(m, at, val)
        })
    };
    v.extend([
        (
            "root is a regular file",
            MountFails,
            ino16(|_| ROOT, I_MODE, 0o100755),
        ),
        ("root mode 0", MountFails, ino16(|_| ROOT, I_MODE, 0)),
        ("root i_size 0", NoCrash, ino_field(|_| ROOT, I_SIZE, 0)),
        (
            "root i_size not whole blocks",
            Eio,
            ino_field(|_| ROOT, I_SIZE, 1000),
        ),
        (
            "root i_size 4 GiB",
            Eio,
            ino_field(|_| ROOT, I_SIZE, u32::MAX - 1023),
        ),
        (
            "root i_block[0] past the disk",
            Eio,
            ino_field(|_| ROOT, I_BLOCK, 1 << 28),
        ),
        (
            "root i_block[0] a hole",
            Eio,
            ino_field(|_| ROOT, I_BLOCK, 0),
        ),
        (
            "root i_block[0] is the superblock",
            Eio,
            ino_field(|_| ROOT, I_BLOCK, 1),
        ),
        (
            "file i_block[0] past the disk",
            Eio,
            ino_field(|l| l.small, I_BLOCK, 1 << 28),
        ),
        (
            "file i_block[0] = u32::MAX",
            Eio,
            ino_field(|l| l.small, I_BLOCK, u32::MAX),
        ),
        (
            "file i_size 2^40 (sparse)",
            Eio,
            ino_field(|l| l.small, I_SIZE_HIGH, 256),
        ),
        (
            "file i_size u64::MAX",
            Eio,
            Box::new(|m: &mut [u8], l: &Layout2| {
                let at = l.inode(l.small);
                put32(m, at + I_SIZE, u32::MAX);
                put32(m, at + I_SIZE_HIGH, u32::MAX);
            }),
        ),
        (
            "file i_links_count 0",
            NoCrash,
            ino16(|l| l.small, I_LINKS, 0),
        ),
        (
            "file with extents flag",
            Eio,
            ino_field(|l| l.small, I_FLAGS, 0x0008_0000),
        ),
        (
            "big: indirect block past the disk",
            Eio,
            ino_field(|l| l.big, I_BLOCK + 12 * 4, 1 << 29),
        ),
        (
            "big: double indirect block past the disk",
            Eio,
            ino_field(|l| l.big, I_BLOCK + 13 * 4, 1 << 29),
        ),
        (
            "big: triple indirect block is the inode table",
            NoCrash,
            Box::new(|m: &mut [u8], l: &Layout2| {
                let at = l.inode(l.big);
                put32(m, at + I_BLOCK + 14 * 4, (l.inode_table / BS) as u32);
                put32(m, at + I_SIZE_HIGH, 1);
            }),
        ),
        (
            "big: indirect block full of 0xff",
            Eio,
            Box::new(|m: &mut [u8], l: &Layout2| {
                let ind = u32_at(m, l.inode(l.big) + I_BLOCK + 12 * 4) as usize * BS;
                m[ind..ind + BS].fill(0xff);
            }),
        ),
        (
            "big: double indirect points to itself",
            NoCrash,
            Box::new(|m: &mut [u8], l: &Layout2| {
                let dind = u32_at(m, l.inode(l.big) + I_BLOCK + 13 * 4);
                let at = dind as usize * BS;
                for i in 0..BS / 4 {
                    put32(m, at + 4 * i, dind);
                }
            }),
        ),
        (
            "slow symlink i_size huge",
            Eio,
            ino_field(|l| l.slow, I_SIZE, u32::MAX),
        ),
        (
            "slow symlink i_block past the disk",
            Eio,
            ino_field(|l| l.slow, I_BLOCK, 1 << 28),
        ),
        (
            "directory as a symlink",
            NoCrash,
            ino16(|l| l.a, I_MODE, 0o120777),
        ),
        (
            "regular file as a directory",
            Eio,
            ino16(|l| l.small, I_MODE, 0o040755),
        ),
        (
            "directory i_block is a file's data",
            Eio,
            Box::new(|m: &mut [u8], l: &Layout2| {
                let data = u32_at(m, l.inode(l.big) + I_BLOCK);
                put32(m, l.inode(l.wide) + I_BLOCK, data);
            }),
        ),
        (
            "directory i_size 1 GiB + 1 block",
            Eio,
            ino_field(|l| l.wide, I_SIZE, (1 << 30) + 1024),
        ),
    ]);
    let dirent = |which: fn(&Layout2) -> u32, f: fn(&mut [u8], usize)| -> Mutation {
        Box::new(move |m, l| {
            let at = l.dir_block(m, which(l));
            f(m, at)
        })
    };
    v.extend([
        // The root's first record is "." (12 bytes), then "..".
        (
            "root: rec_len 0",
            Eio,
            dirent(|_| ROOT, |m, at| put16(m, at + 4, 0)),
        ),
        (
            "root: rec_len 1",
            Eio,
            dirent(|_| ROOT, |m, at| put16(m, at + 4, 1)),
        ),
        (
            "root: rec_len past the block",
            Eio,
            dirent(|_| ROOT, |m, at| put16(m, at + 4, 4096)),
        ),
        (
            "root: name_len past rec_len",
            Eio,
            dirent(|_| ROOT, |m, at| m[at + 6] = 200),
        ),
        (
            "root: entry inode huge",
            Eio,
            dirent(|_| ROOT, |m, at| put32(m, at + 12, u32::MAX)),
        ),
        (
            "root: entries overlap",
            Eio,
            dirent(|_| ROOT, |m, at| put16(m, at + 4, 8)),
        ),
        (
            "a: '..' points to itself",
            NoCrash,
            Box::new(|m: &mut [u8], l: &Layout2| {
                let at = l.dir_block(m, l.a);
                put32(m, at + 12, l.a);
            }),
        ),
        // a/b/x → a: a directory loop.
        (
            "a/b: entry pointing to its grandparent (loop)",
            NoCrash,
            Box::new(|m: &mut [u8], l: &Layout2| {
                let at = l.dir_block(m, l.b);
                // Turn the "c" record into one naming "a".
                let mut off = 0;
                while off < BS {
                    let rl = usize::from(u16_at(m, at + off + 4));
                    if m[at + off + 6] == 1 && m[at + off + 8] == b'c' {
                        put32(m, at + off, l.a);
                        break;
                    }
                    off += rl.max(12);
                }
            }),
        ),
        (
            "a/b: '.' points to the root",
            NoCrash,
            Box::new(|m: &mut [u8], l: &Layout2| {
                let at = l.dir_block(m, l.b);
                put32(m, at, ROOT);
            }),
        ),
        (
            "wide: second block zeroed",
            Eio,
            Box::new(|m: &mut [u8], l: &Layout2| {
                let b1 = u32_at(m, l.inode(l.wide) + I_BLOCK + 4) as usize * BS;
                m[b1..b1 + BS].fill(0);
            }),
        ),
        (
            "wide: block filled with 0xff",
            Eio,
            Box::new(|m: &mut [u8], l: &Layout2| {
                let at = l.dir_block(m, l.wide);
                m[at..at + BS].fill(0xff);
            }),
        ),
        (
            "block bitmap all free",
            Eio,
            Box::new(|m: &mut [u8], l: &Layout2| {
                m[l.block_bitmap..l.block_bitmap + BS].fill(0);
            }),
        ),
        (
            "block bitmap all used",
            NoCrash,
            Box::new(|m: &mut [u8], l: &Layout2| {
                m[l.block_bitmap..l.block_bitmap + BS].fill(0xff);
            }),
        ),
        (
            "inode bitmap all free",
            Eio,
            Box::new(|m: &mut [u8], l: &Layout2| {
                m[l.inode_bitmap..l.inode_bitmap + BS].fill(0);
            }),
        ),
        (
            "inode bitmap all used",
            NoCrash,
            Box::new(|m: &mut [u8], l: &Layout2| {
                m[l.inode_bitmap..l.inode_bitmap + BS].fill(0xff);
            }),
        ),
        (
            "inode table zeroed",
            MountFails,
            Box::new(|m: &mut [u8], l: &Layout2| {
                m[l.inode_table..l.inode_table + 8 * BS].fill(0);
            }),
        ),
    ]);
    v
}

/// What happened to one image.
#[derive(Debug)]
struct Outcome {
    mount_error: Option<String>,
    eio: usize,
    other_errors: usize,
}

fn walk(fs: &mut Ext2Fs, out: &mut Outcome) {
    let note = |r: Errno, out: &mut Outcome| {
        if r == Errno::EIO {
            out.eio += 1;
        } else {
            out.other_errors += 1;
        }
    };
    let mut seen = HashSet::new();
    let mut stack = vec![(fs.root(), 0usize)];
    let mut visited = 0;
    while let Some((dir, depth)) = stack.pop() {
        // A directory loop shows up as an inode met twice: walk it once.
        if !seen.insert(dir) || depth > 32 || visited > 2000 {
            continue;
        }
        visited += 1;
        let entries = match fs.readdir(dir) {
            Ok(e) => e,
            Err(e) => {
                note(e, out);
                continue;
            }
        };
        for e in entries {
            if e.name == b"." || e.name == b".." {
                continue;
            }
            let ino = match fs.lookup(dir, &e.name) {
                Ok(i) => i,
                Err(err) => {
                    note(err, out);
                    continue;
                }
            };
            let attr = match fs.getattr(ino) {
                Ok(a) => a,
                Err(err) => {
                    note(err, out);
                    continue;
                }
            };
            match attr.mode & 0o170000 {
                0o040000 => stack.push((ino, depth + 1)),
                0o120000 => {
                    if let Err(err) = fs.readlink(ino) {
                        note(err, out);
                    }
                }
                0o100000 => {
                    if let Err(err) = read_some(fs, ino, attr.size) {
                        note(err, out);
                    }
                }
                _ => {}
            }
        }
    }
}

/// Reads the first READ_LIMIT bytes and the last block of a file.
fn read_some(fs: &mut Ext2Fs, ino: Ino, size: u64) -> Result<(), Errno> {
    let mut h = fs.open(
        ino,
        OpenMode {
            read: true,
            ..OpenMode::default()
        },
    )?;
    let mut buf = vec![0u8; 64 << 10];
    let mut off = 0u64;
    while off < size.min(READ_LIMIT) {
        let n = h.read_at(off, &mut buf)?;
        if n == 0 {
            break;
        }
        off += n as u64;
    }
    h.read_at(size.saturating_sub(100), &mut buf[..100])?;
    Ok(())
}

/// Writes through a read-write mount: create, write, mkdir, rename,
/// truncate, unlink, rmdir, sync. Errors are fine; they are counted.
fn write_some(fs: &mut Ext2Fs, out: &mut Outcome) {
    let node = |mode| NewNode {
        mode,
        uid: 0,
        gid: 0,
        rdev: 0,
    };
    let steps = |fs: &mut Ext2Fs| -> Result<(), Errno> {
        let root = fs.root();
        let f = fs.create(root, b"new-file", &node(0o100644))?;
        let mut h = fs.open(
            f,
            OpenMode {
                read: true,
                write: true,
                ..OpenMode::default()
            },
        )?;
        let data = vec![0x5au8; 300_000];
        h.write_at(0, &data)?;
        h.set_len(70_000)?;
        drop(h);
        let d = fs.mkdir(root, b"new-dir", &node(0o040755))?;
        fs.rename(root, b"new-file", d, b"moved", 0)?;
        if let Ok(a) = fs.lookup(root, b"a") {
            let _ = fs.rename(root, b"a", d, b"a-moved", 0);
            let _ = fs.unlink(a, b"small.txt");
        }
        let _ = fs.unlink(root, b"big.bin");
        fs.unlink(d, b"moved")?;
        fs.rmdir(root, b"new-dir").or_else(|e| {
            // "a" may have moved into it; not empty is a fine answer.
            if e == Errno::ENOTEMPTY {
                Ok(())
            } else {
                Err(e)
            }
        })?;
        fs.sync()
    };
    if let Err(e) = steps(fs) {
        if e == Errno::EIO {
            out.eio += 1;
        } else {
            out.other_errors += 1;
        }
    }
}

/// Mounts, walks (read only), remounts read-write, writes and walks
/// again: in a thread, with the timeout.
fn exercise(name: String, img: Vec<u8>) -> Outcome {
    let (tx, rx) = mpsc::channel();
    let thread = std::thread::Builder::new()
        .name(name.clone())
        .spawn(move || {
            let mut out = Outcome {
                mount_error: None,
                eio: 0,
                other_errors: 0,
            };
            match Ext2Fs::mount(Box::new(MemDevice::new(img.clone())), clock(), true) {
                Err(e) => out.mount_error = Some(e.to_string()),
                Ok(mut fs) => {
                    walk(&mut fs, &mut out);
                    let mut rw =
                        Ext2Fs::mount(Box::new(MemDevice::new(img)), clock(), false).unwrap();
                    write_some(&mut rw, &mut out);
                    walk(&mut rw, &mut out);
                }
            }
            let _ = tx.send(out);
        })
        .unwrap();
    match rx.recv_timeout(CASE_TIMEOUT) {
        Ok(out) => {
            thread.join().unwrap();
            out
        }
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("{name}: still running after {CASE_TIMEOUT:?}")
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            // The thread panicked; its message is already on stderr.
            let _ = thread.join();
            panic!("{name}: the driver panicked");
        }
    }
}

fn check_alloc(name: &str) {
    let largest = LARGEST.swap(0, Ordering::Relaxed);
    assert!(
        largest <= MAX_ALLOC,
        "{name}: an allocation of {largest} bytes"
    );
}

#[test]
fn targeted_corruptions_give_clean_errors() {
    let base = base_image("targeted");
    let layout = Layout2::new(&base);
    // The clean image itself mounts, walks and writes without errors.
    LARGEST.store(0, Ordering::Relaxed);
    let clean = exercise("clean".into(), base.clone());
    assert!(
        clean.mount_error.is_none() && clean.eio == 0,
        "clean image: {clean:?}"
    );
    check_alloc("clean");
    let mut failures = Vec::new();
    for (name, expect, mutate) in targeted() {
        let mut img = base.clone();
        mutate(&mut img, &layout);
        assert_ne!(img, base, "{name}: the mutation changed nothing");
        let out = exercise(name.to_string(), img);
        check_alloc(name);
        let ok = match expect {
            Expect::MountFails => out.mount_error.is_some(),
            Expect::Eio => out.mount_error.is_none() && out.eio > 0,
            Expect::NoCrash => true,
        };
        println!("{name}: {out:?}");
        if !ok {
            failures.push(format!("{name}: expected {expect:?}, got {out:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// xorshift64: a fixed sequence, so a failure is reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn random_metadata_corruption_never_crashes() {
    let base = base_image("random");
    let layout = Layout2::new(&base);
    // Metadata regions: superblock, group descriptors, bitmaps, the used
    // part of the inode table, and the directory blocks.
    let mut regions: Vec<(usize, usize)> = vec![
        (1024, 1024),
        (layout.gdt, BS),
        (layout.block_bitmap, BS),
        (layout.inode_bitmap, BS),
        (layout.inode_table, 16 * layout.inode_size),
        (layout.inode(layout.wide), layout.inode_size),
    ];
    for d in [ROOT, layout.a, layout.b, layout.wide] {
        regions.push((layout.dir_block(&base, d), BS));
    }
    let ind = u32_at(&base, layout.inode(layout.big) + I_BLOCK + 12 * 4) as usize * BS;
    regions.push((ind, BS));
    let cases: u64 = std::env::var("WAX_HOSTILE_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(300);
    let (mut mount_errors, mut with_eio) = (0, 0);
    for seed in 1..=cases {
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        let mut img = base.clone();
        for _ in 0..1 + rng.below(12) {
            let (start, len) = regions[rng.below(regions.len())];
            let at = start + rng.below(len);
            img[at] = match rng.below(4) {
                0 => 0,
                1 => 0xff,
                2 => img[at] ^ (1 << rng.below(8)),
                _ => rng.next() as u8,
            };
        }
        let name = format!("random seed {seed}");
        let out = exercise(name.clone(), img);
        check_alloc(&name);
        mount_errors += usize::from(out.mount_error.is_some());
        with_eio += usize::from(out.eio > 0);
    }
    println!("{cases} random images: {mount_errors} refused at mount, {with_eio} met EIO");
    // The corruption must actually reach the driver's checks.
    assert!(mount_errors > 0 && with_eio > 0);
}
