//! The disk edge of the CLI: image files, overlay files and HTTP images as
//! block devices, and `wax run --image` on top of them.
//!
//! - default: the image is opened read-only and writes go to an overlay in
//!   memory, discarded at exit;
//! - `--rw`: writes go straight to the image file;
//! - `--overlay FILE`: writes go to an overlay log in FILE, flushed at
//!   every file system sync (fsync, sync, every few seconds of writing,
//!   exit), so FILE always holds the image as of its last flush, even
//!   after a SIGKILL; the image itself stays untouched.
//!
//! Image and overlay files are locked (flock) so two Wax processes never
//! write the same one.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::os::unix::io::AsRawFd;
use std::path::Path;
use wax_devices::block::{
    resolve_chunk_url, BackingFile, BlockDevice, BlockError, ChunkManifest, ChunkedTransport,
    FileDevice, HttpDevice, HttpOptions, HttpTransport, OverlayDevice,
};
use wax_kernel::errno::{Errno, KResult};
use wax_kernel::ext2::Ext2Fs;
use wax_kernel::vfs::{FileHandle, FileSystem, Ino, OpenMode};

/// A host file as a [`BackingFile`].
pub struct DiskFile(pub File);

fn io(e: std::io::Error) -> BlockError {
    BlockError::Io(e.to_string())
}

impl BackingFile for DiskFile {
    fn len(&mut self) -> Result<u64, BlockError> {
        self.0.metadata().map(|m| m.len()).map_err(io)
    }
    fn read_at(&mut self, off: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        self.0.read_exact_at(buf, off).map_err(io)
    }
    fn write_at(&mut self, off: u64, buf: &[u8]) -> Result<(), BlockError> {
        self.0.write_all_at(buf, off).map_err(io)
    }
    fn set_len(&mut self, len: u64) -> Result<(), BlockError> {
        self.0.set_len(len).map_err(io)
    }
    fn sync(&mut self) -> Result<(), BlockError> {
        self.0.sync_data().map_err(io)
    }
}

/// Takes an exclusive lock on `f` or explains who holds it.
fn lock(f: &File, path: &str) -> Result<(), String> {
    // SAFETY: flock on a descriptor we own; no memory is involved.
    let r = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if r != 0 {
        return Err(format!("{path} is in use by another wax process"));
    }
    Ok(())
}

/// The base device for `image`: a file, or an http:// URL.
fn open_base(image: &str, writable: bool) -> Result<Box<dyn BlockDevice>, String> {
    if image.starts_with("http://") {
        if writable {
            return Err("--rw needs a local image file, not a URL".into());
        }
        if image.ends_with(".json") {
            return open_chunked(image);
        }
        let client = super::http::HttpClient::new(image)?;
        let dev = HttpDevice::open(client, HttpOptions::default()).map_err(|e| e.to_string())?;
        return Ok(Box::new(dev));
    }
    let f = OpenOptions::new()
        .read(true)
        .write(writable)
        .open(image)
        .map_err(|e| format!("--image {image}: {e}"))?;
    if writable {
        lock(&f, image)?;
    }
    let dev = FileDevice::new(DiskFile(f), !writable).map_err(|e| format!("{image}: {e}"))?;
    Ok(Box::new(dev))
}

/// An image split into chunk files (`wax serve --export`), from the URL of
/// its manifest.
fn open_chunked(url: &str) -> Result<Box<dyn BlockDevice>, String> {
    let mut client = super::http::HttpClient::new(url)?;
    // A manifest is small; one range request larger than any manifest
    // fetches all of it.
    let r = client
        .get_range(0, MAX_MANIFEST_BYTES)
        .map_err(|e| format!("{url}: {e}"))?;
    if r.status != 206 && r.status != 200 {
        return Err(format!("{url}: HTTP status {} for the manifest", r.status));
    }
    let manifest = ChunkManifest::parse(&r.body).map_err(|e| format!("{url}: {e}"))?;
    for path in manifest.chunks.iter().flatten() {
        super::http::HttpClient::new(&resolve_chunk_url(url, path))
            .map_err(|e| format!("{url}: chunk {path}: {e}"))?;
    }
    let size = manifest.size;
    let transport = ChunkedTransport::new(url, manifest, |chunk_url: &str| {
        super::http::HttpClient::new(chunk_url).expect("every chunk URL was checked above")
    });
    let opts = HttpOptions {
        expected_size: Some(size),
        ..HttpOptions::default()
    };
    let dev = HttpDevice::open(transport, opts).map_err(|e| e.to_string())?;
    Ok(Box::new(dev))
}

const MAX_MANIFEST_BYTES: u64 = 4 << 20;

/// The device the root file system lives on, per the module doc.
pub fn open_device(
    image: &str,
    rw: bool,
    overlay: Option<&Path>,
) -> Result<Box<dyn BlockDevice>, String> {
    if rw && overlay.is_some() {
        return Err("--rw and --overlay exclude each other".into());
    }
    let base = open_base(image, rw)?;
    if rw {
        return Ok(base);
    }
    let Some(path) = overlay else {
        return Ok(Box::new(OverlayDevice::in_memory(base)));
    };
    let shown = path.display().to_string();
    let f = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(|e| format!("--overlay {shown}: {e}"))?;
    lock(&f, &shown)?;
    let dev = OverlayDevice::with_log(base, Box::new(DiskFile(f)))
        .map_err(|e| format!("--overlay {shown}: {e}"))?;
    Ok(Box::new(dev))
}

/// Mounts the image as described by the flags.
pub fn mount(image: &str, rw: bool, overlay: Option<&Path>) -> Result<Ext2Fs, String> {
    let dev = open_device(image, rw, overlay)?;
    Ext2Fs::mount(dev, Box::new(super::HostClock::new()), false)
        .map_err(|e| format!("--image {image}: {e}"))
}

/// An open program found by guest path inside `fs` (symlinks followed
/// inside the file system): (handle, size, resolved guest path).
pub fn open_program(
    fs: &mut dyn FileSystem,
    path: &[u8],
) -> KResult<(Box<dyn FileHandle>, u64, Vec<u8>)> {
    let mut todo: Vec<Vec<u8>> = Vec::new();
    let mut stack: Vec<(Ino, Vec<u8>)> = Vec::new();
    let mut pending = path.to_vec();
    let mut links = 0;
    loop {
        if pending.first() == Some(&b'/') || stack.is_empty() {
            stack.clear();
        }
        let mut parts: Vec<Vec<u8>> = pending
            .split(|&c| c == b'/')
            .filter(|c| !c.is_empty() && *c != b".")
            .map(<[u8]>::to_vec)
            .collect();
        parts.append(&mut todo);
        let mut iter = parts.into_iter();
        let mut jumped = None;
        for part in iter.by_ref() {
            if part == b".." {
                stack.pop();
                continue;
            }
            let dir = stack.last().map_or(fs.root(), |&(i, _)| i);
            let ino = fs.lookup(dir, &part)?;
            if fs.getattr(ino)?.file_type() == wax_kernel::vfs::FileType::Symlink {
                links += 1;
                if links > 40 {
                    return Err(Errno::ELOOP);
                }
                jumped = Some(fs.readlink(ino)?);
                break;
            }
            stack.push((ino, part));
        }
        match jumped {
            Some(target) => {
                todo = iter.collect();
                pending = target;
            }
            None => break,
        }
    }
    let &(ino, _) = stack.last().ok_or(Errno::EACCES)?;
    let attr = fs.getattr(ino)?;
    // Like execve: only a regular file can run (and opening a FIFO would
    // wait for a writer).
    if attr.file_type() != wax_kernel::vfs::FileType::Regular {
        return Err(Errno::EACCES);
    }
    let h = fs.open(
        ino,
        OpenMode {
            read: true,
            ..OpenMode::default()
        },
    )?;
    let mut shown = Vec::new();
    for (_, name) in &stack {
        shown.push(b'/');
        shown.extend_from_slice(name);
    }
    Ok((h, attr.size, shown))
}
