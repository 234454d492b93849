//! Reads through Wax's ext2 driver (kernel-shim/src/ext2) at the VFS level,
//! the way the kernel's system calls use it: a 16 MiB file read in 128 KiB
//! pieces (bytes per second), and 1,000 small files each found by a
//! three-component path walk, opened and read (files per second). The
//! image is built with `mke2fs -d` (4 KiB blocks) and held in memory, so
//! this measures the driver and its caches, not a disk.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::path::{Path, PathBuf};
use std::process::Command;
use wax_devices::block::MemDevice;
use wax_devices::FixedClock;
use wax_kernel::ext2::Ext2Fs;
use wax_kernel::vfs::{FileSystem, Ino, OpenMode};

const BIG: usize = 16 << 20;
const DIRS: usize = 20;
const FILES_PER_DIR: usize = 50;
const SMALL: usize = 1024;

/// Deterministic file contents.
fn bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 32) as u8
        })
        .collect()
}

/// Builds the source tree and the image; `None` when mke2fs is missing.
fn build_image() -> Option<Vec<u8>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/wax-bench/ext2");
    let src = dir.join("src");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&src).expect("bench directory");
    std::fs::write(src.join("big.bin"), bytes(BIG, 1)).expect("big file");
    for d in 0..DIRS {
        let sub = src.join(format!("tree/d{d:02}"));
        std::fs::create_dir_all(&sub).expect("tree directory");
        for f in 0..FILES_PER_DIR {
            let data = bytes(SMALL, (d * 1000 + f) as u64);
            std::fs::write(sub.join(format!("f{f:02}")), data).expect("small file");
        }
    }
    let image = dir.join("image.ext2");
    let ok = Command::new("mke2fs")
        .args(["-q", "-F", "-t", "ext2", "-b", "4096", "-d"])
        .arg(&src)
        .arg(&image)
        .arg("64M")
        .status()
        .is_ok_and(|s| s.success());
    ok.then(|| std::fs::read(&image).expect("image"))
}

fn mount(image: &[u8]) -> Ext2Fs {
    let dev = MemDevice::new(image.to_vec());
    Ext2Fs::mount(Box::new(dev), Box::new(FixedClock::default()), true).expect("image mounts")
}

fn walk(fs: &mut Ext2Fs, path: &Path) -> Ino {
    path.iter().fold(fs.root(), |dir, name| {
        fs.lookup(dir, name.as_encoded_bytes())
            .expect("path exists")
    })
}

fn read_file(fs: &mut Ext2Fs, ino: Ino, buf: &mut [u8]) -> usize {
    let how = OpenMode {
        read: true,
        ..OpenMode::default()
    };
    let mut file = fs.open(ino, how).expect("file opens");
    let mut total = 0;
    loop {
        let n = file.read_at(total as u64, buf).expect("file reads");
        if n == 0 {
            return total;
        }
        total += n;
    }
}

fn ext2(c: &mut Criterion) {
    let Some(image) = build_image() else {
        eprintln!("ext2 bench skipped: mke2fs failed (run scripts/setup.sh for e2fsprogs)");
        return;
    };
    let mut fs = mount(&image);
    let mut group = c.benchmark_group("ext2");
    group.sample_size(10);
    let mut buf = vec![0u8; 128 << 10];
    group.throughput(Throughput::Bytes(BIG as u64));
    group.bench_function("read_16mib_file", |b| {
        b.iter(|| {
            let ino = walk(&mut fs, Path::new("big.bin"));
            assert_eq!(read_file(&mut fs, ino, &mut buf), BIG);
        })
    });
    group.throughput(Throughput::Elements((DIRS * FILES_PER_DIR) as u64));
    group.bench_function("walk_open_read_small_files", |b| {
        b.iter(|| {
            for d in 0..DIRS {
                for f in 0..FILES_PER_DIR {
                    let ino = walk(&mut fs, Path::new(&format!("tree/d{d:02}/f{f:02}")));
                    assert_eq!(read_file(&mut fs, ino, &mut buf), SMALL);
                }
            }
        })
    });
    group.finish();
}

criterion_group!(benches, ext2);
criterion_main!(benches);
