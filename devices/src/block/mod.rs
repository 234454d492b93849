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
//! - [`FaultyDevice`]: any device made to fail on command (tests).
//!
//! Failures: a device never pretends. A write it cannot keep fails with
//! [`BlockError::NoSpace`] (host disk full, quota exceeded: an IndexedDB
//! `QuotaExceededError` is one too) or another error, as early as it can
//! know: a device whose writes are only kept at `flush` reserves the space
//! they will need when they arrive ([`BlockDevice::reserve`]). A failed
//! `flush` leaves the device as durable as after the last good one, and the
//! writes since then pending, so a later `flush` can still keep them.

mod chunked;
mod fault;
mod file;
mod http;
mod overlay;

pub use chunked::{
    resolve as resolve_chunk_url, ChunkManifest, ChunkedTransport, MANIFEST_VERSION,
};
pub use fault::{Fault, FaultOp, FaultPlan, FaultyDevice};
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
    /// The host has no room for the data (disk full, quota exceeded). The
    /// guest sees ENOSPC, not EIO.
    #[error("no space left: {0}")]
    NoSpace(String),
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
    /// On failure the durable state is the one of the last `flush` that
    /// succeeded (a file device can only promise that for a failure
    /// before its writes, see [`BlockDevice::reserve`]).
    fn flush(&mut self) -> Result<(), BlockError>;
    /// Makes sure writing the byte ranges `(off, len)` and flushing them
    /// will not fail for lack of space ([`BlockError::NoSpace`] now
    /// instead), without changing what the device reads. Devices that need
    /// no space to keep a write (memory) accept everything. Best effort
    /// where the host cannot promise (a copy-on-write host file system).
    fn reserve(&mut self, _ranges: &[(u64, u64)]) -> Result<(), BlockError> {
        Ok(())
    }
    /// Says the bytes of `off..off+len` are free: the file system will
    /// write them before it reads them again. A device that keeps writes
    /// until `flush` may drop the pending ones there (and the room they
    /// need); what the range reads afterwards is unspecified. Durable
    /// contents never change, so a crash still finds the last flushed
    /// state.
    fn discard(&mut self, _off: u64, _len: u64) -> Result<(), BlockError> {
        Ok(())
    }
    /// Whether writes fail with [`BlockError::ReadOnly`].
    fn is_read_only(&self) -> bool {
        false
    }
    /// For a device whose host keeps flushed data asynchronously (the
    /// browser's IndexedDB): asks the host to make the state of the last
    /// `flush` durable and returns the ticket to wait for with
    /// [`BlockDevice::durability`]. `None` (every other device): `flush`
    /// itself made it durable.
    fn durable_ticket(&mut self) -> Option<u64> {
        None
    }
    /// Whether the flush behind `ticket` is durable: `None` while the host
    /// is still saving it, then `Ok` or why it could not be kept
    /// ([`BlockError::NoSpace`] for a full quota).
    fn durability(&self, _ticket: u64) -> Option<Result<(), BlockError>> {
        Some(Ok(()))
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
    fn reserve(&mut self, ranges: &[(u64, u64)]) -> Result<(), BlockError> {
        (**self).reserve(ranges)
    }
    fn discard(&mut self, off: u64, len: u64) -> Result<(), BlockError> {
        (**self).discard(off, len)
    }
    fn is_read_only(&self) -> bool {
        (**self).is_read_only()
    }
    fn durable_ticket(&mut self) -> Option<u64> {
        (**self).durable_ticket()
    }
    fn durability(&self, ticket: u64) -> Option<Result<(), BlockError>> {
        (**self).durability(ticket)
    }
}

/// Checks that `off..off+len` lies within a device of `size` bytes.
pub fn check_range(off: u64, len: usize, size: u64) -> Result<(), BlockError> {
    check_span(off, len as u64, size)
}

/// [`check_range`] for a length that is not a buffer's.
pub fn check_span(off: u64, len: u64, size: u64) -> Result<(), BlockError> {
    match off.checked_add(len) {
        Some(end) if end <= size => Ok(()),
        end => Err(BlockError::OutOfRange {
            off,
            end: end.unwrap_or(u64::MAX),
            size,
        }),
    }
}
