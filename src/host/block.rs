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
use wax_kernel::ext2::Ext2Fs;

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

pub use wax_kernel::vfs::lookup::open_program;
