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
//!
//! Failures reach the guest as ENOSPC (host disk full or over quota) or
//! EIO, at the write or sync that meets them; a full host disk shows when
//! data is written, because the overlay reserves host space (fallocate)
//! as it grows. [`write_back`] is the sync at exit: when it fails it says
//! what was lost and what the overlay or image still holds, and the CLI
//! exits with [`EXIT_NOT_KEPT`].
//!
//! Testing aid: `WAX_FAULT=OP:N[:ERR],...` (see
//! [`wax_devices::block::FaultPlan::parse`]) makes the root device fail
//! after N reads, writes or flushes, to drive those paths end to end.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::os::unix::io::AsRawFd;
use std::path::Path;
use wax_devices::block::{
    resolve_chunk_url, BackingFile, BlockDevice, BlockError, ChunkManifest, ChunkedTransport,
    FaultPlan, FaultyDevice, FileDevice, HttpDevice, HttpOptions, HttpTransport, OverlayDevice,
};
use wax_kernel::ext2::Ext2Fs;

/// A host file as a [`BackingFile`].
pub struct DiskFile(pub File);

/// A host error as a device error: a full disk or quota is NoSpace, so
/// the guest sees ENOSPC.
fn io(e: std::io::Error) -> BlockError {
    match e.raw_os_error() {
        Some(libc::ENOSPC | libc::EDQUOT) => BlockError::NoSpace(e.to_string()),
        _ => BlockError::Io(e.to_string()),
    }
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
    fn reserve(&mut self, off: u64, len: u64) -> Result<(), BlockError> {
        let (Ok(off), Ok(len)) = (libc::off_t::try_from(off), libc::off_t::try_from(len)) else {
            return Err(BlockError::NoSpace(format!("{len} bytes at {off}")));
        };
        // SAFETY: fallocate on a descriptor we own; no memory is involved.
        let r = unsafe { libc::fallocate(self.0.as_raw_fd(), libc::FALLOC_FL_KEEP_SIZE, off, len) };
        if r == 0 {
            return Ok(());
        }
        let e = std::io::Error::last_os_error();
        match e.raw_os_error() {
            // The host file system cannot reserve: a full disk then shows
            // at the flush instead.
            Some(libc::EOPNOTSUPP | libc::ENOSYS) => Ok(()),
            _ => Err(io(e)),
        }
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
    let dev = open_writes(image, rw, overlay)?;
    match std::env::var("WAX_FAULT") {
        Ok(spec) => {
            let plan = FaultPlan::parse(&spec).map_err(|e| format!("WAX_FAULT: {e}"))?;
            Ok(Box::new(FaultyDevice::new(dev, plan)))
        }
        Err(_) => Ok(dev),
    }
}

/// [`open_device`] without the testing aid.
fn open_writes(
    image: &str,
    rw: bool,
    overlay: Option<&Path>,
) -> Result<Box<dyn BlockDevice>, String> {
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

/// Exit status of wax when the changes could not be kept at exit.
pub const EXIT_NOT_KEPT: i32 = 74; // EX_IOERR in sysexits.h

/// The sync at exit. Without `--rw` or `--overlay` the changes live in
/// memory and end with wax anyway, so there is nothing to keep. On failure
/// returns the message for the user: what was lost, and what the overlay
/// or image still holds.
pub fn write_back(
    fs: &Ext2Fs,
    image: &str,
    rw: bool,
    overlay: Option<&Path>,
) -> Result<(), String> {
    let target = match (rw, overlay) {
        (true, _) => format!("the image {image}"),
        (false, Some(o)) => format!("the overlay {}", o.display()),
        (false, None) => return Ok(()),
    };
    let Err(e) = fs.sync() else {
        return Ok(());
    };
    let cause = fs
        .device_error()
        .map_or_else(|| e.text().to_string(), |d| d.to_string());
    let since = match fs.last_durable() {
        None => "since wax started (no sync succeeded)".to_string(),
        Some(t) => format!("since the last successful sync, {} before exit", ago(t)),
    };
    let holds = if rw {
        format!("{target} may be inconsistent: check it with `e2fsck -f {image}` before using it")
    } else {
        format!("{target} still holds the last consistent state, from before those changes")
    };
    Err(format!(
        "writing back to {target} failed ({cause}): the changes made {since} are lost; {holds}"
    ))
}

/// Writes through shared file mappings (mmap MAP_SHARED) that could not
/// be kept when they were written back at munmap or exit, and that no
/// fsync or msync reported to the guest (`Kernel::lost_writes`): the
/// message for the user, if there were any.
pub fn lost_mapped_writes(lost: &[wax_kernel::Errno]) -> Result<(), String> {
    let Some(first) = lost.first() else {
        return Ok(());
    };
    Err(format!(
        "writes through a shared mapping of {} file{} could not be kept ({}) and the program \
         was never told: those changes are lost",
        lost.len(),
        if lost.len() == 1 { "" } else { "s" },
        first.text()
    ))
}

/// How long ago realtime `t` was, for a message ("37 s", "5 min").
fn ago(t: wax_devices::Timespec) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    match (now - t.sec).max(0) {
        s if s < 120 => format!("{s} s"),
        s if s < 7200 => format!("{} min", s / 60),
        s => format!("{} h", s / 3600),
    }
}

pub use wax_kernel::vfs::lookup::open_program;
