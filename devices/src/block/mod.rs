//! Block devices: the bytes a file system lives on.
//!
//! A [`BlockDevice`] is a fixed-size array of bytes with positioned reads and
//! writes and a `flush` that makes earlier writes durable. The ext2 driver
//! only ever sees this trait; what is underneath is chosen at the edge:
//!
//! - [`MemDevice`]: bytes in memory (tests, small images).
//! - [`FileDevice`]: a [`BackingFile`] (a host file natively; any growable
//!   byte store elsewhere).
//! - [`HttpDevice`]: a read-only image fetched lazily with HTTP Range
//!   requests through an [`HttpTransport`] the host supplies; over an image
//!   split into chunk files, through a [`ChunkedTransport`].
//! - [`OverlayDevice`]: writes kept apart from a read-only base, in memory or
//!   in an append-only log that is committed atomically on `flush`.

mod chunked;
mod file;
mod http;
mod overlay;

pub use chunked::{
    resolve as resolve_chunk_url, ChunkManifest, ChunkedTransport, MANIFEST_VERSION,
};
pub use file::{BackingFile, FileDevice, MemDevice, MemFile};
pub use http::{HttpDevice, HttpOptions, HttpResponse, HttpTransport, CHUNK_SIZE};
pub use overlay::{OverlayDevice, OverlayLog};

/// Why a block device operation failed. The messages are for the user: they
/// say what went wrong and, where possible, what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlockError {
    #[error("access to bytes {off}..{end} is beyond the end of the device ({size} bytes)")]
    OutOfRange { off: u64, end: u64, size: u64 },
    #[error("the device is read-only")]
    ReadOnly,
    #[error("I/O error: {0}")]
    Io(String),
    #[error("HTTP: {0}")]
    Http(String),
    #[error("overlay: {0}")]
    Overlay(String),
}

/// A fixed-size, byte-addressed device.
pub trait BlockDevice {
    /// Size in bytes; never changes.
    fn size(&self) -> u64;
    /// Fills `buf` from offset `off`; the whole range must be on the device.
    fn read_at(&mut self, off: u64, buf: &mut [u8]) -> Result<(), BlockError>;
    /// Writes `buf` at offset `off`; the whole range must be on the device.
    fn write_at(&mut self, off: u64, buf: &[u8]) -> Result<(), BlockError>;
    /// Makes every earlier write durable (and, for an overlay, atomic).
    fn flush(&mut self) -> Result<(), BlockError>;
    /// Whether writes fail with [`BlockError::ReadOnly`].
    fn is_read_only(&self) -> bool {
        false
    }
}

impl<D: BlockDevice + ?Sized> BlockDevice for Box<D> {
    fn size(&self) -> u64 {
        (**self).size()
    }
    fn read_at(&mut self, off: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        (**self).read_at(off, buf)
    }
    fn write_at(&mut self, off: u64, buf: &[u8]) -> Result<(), BlockError> {
        (**self).write_at(off, buf)
    }
    fn flush(&mut self) -> Result<(), BlockError> {
        (**self).flush()
    }
    fn is_read_only(&self) -> bool {
        (**self).is_read_only()
    }
}

/// Checks that `off..off+len` lies within a device of `size` bytes.
pub fn check_range(off: u64, len: usize, size: u64) -> Result<(), BlockError> {
    let end = off.checked_add(len as u64);
    match end {
        Some(end) if end <= size => Ok(()),
        _ => Err(BlockError::OutOfRange {
            off,
            end: end.unwrap_or(u64::MAX),
            size,
        }),
    }
}
