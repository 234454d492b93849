//! Devices over plain bytes: a growable [`BackingFile`] (host file, memory)
//! and the fixed-size [`FileDevice`] and [`MemDevice`] on top of it.

use super::{check_range, check_span, BlockDevice, BlockError};

/// A growable byte store with positioned I/O: what a host file offers. The
/// host edge implements it (std::fs natively); [`MemFile`] is the in-memory
/// one. Reads must fill the whole buffer or fail.
#[allow(clippy::len_without_is_empty)] // a file's length, not a collection's
pub trait BackingFile {
    fn len(&mut self) -> Result<u64, BlockError>;
    fn read_at(&mut self, off: u64, buf: &mut [u8]) -> Result<(), BlockError>;
    fn write_at(&mut self, off: u64, buf: &[u8]) -> Result<(), BlockError>;
    fn set_len(&mut self, len: u64) -> Result<(), BlockError>;
    /// Makes earlier writes durable (fsync).
    fn sync(&mut self) -> Result<(), BlockError>;
    /// Allocates host space for `off..off+len` without changing the length
    /// or the contents (fallocate with KEEP_SIZE), so later writes there
    /// cannot fail with [`BlockError::NoSpace`]. Stores that cannot
    /// reserve (memory, a host file system without fallocate) accept it.
    fn reserve(&mut self, _off: u64, _len: u64) -> Result<(), BlockError> {
        Ok(())
    }
}

/// A byte vector as a [`BackingFile`]; reads past the end fail like a short
/// read of a real file would.
#[derive(Clone, Debug, Default)]
pub struct MemFile(pub Vec<u8>);

impl BackingFile for MemFile {
    fn len(&mut self) -> Result<u64, BlockError> {
        Ok(self.0.len() as u64)
    }
    fn read_at(&mut self, off: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        check_range(off, buf.len(), self.0.len() as u64)?;
        let off = off as usize;
        buf.copy_from_slice(&self.0[off..off + buf.len()]);
        Ok(())
    }
    fn write_at(&mut self, off: u64, buf: &[u8]) -> Result<(), BlockError> {
        let end = usize::try_from(off)
            .ok()
            .and_then(|o| o.checked_add(buf.len()))
            .ok_or(BlockError::Io("write offset too large for memory".into()))?;
        if self.0.len() < end {
            self.0.resize(end, 0);
        }
        self.0[end - buf.len()..end].copy_from_slice(buf);
        Ok(())
    }
    fn set_len(&mut self, len: u64) -> Result<(), BlockError> {
        let len = usize::try_from(len).map_err(|_| BlockError::Io("too large".into()))?;
        self.0.resize(len, 0);
        Ok(())
    }
    fn sync(&mut self) -> Result<(), BlockError> {
        Ok(())
    }
}

/// A block device over a [`BackingFile`] whose size is fixed when opened.
pub struct FileDevice<F: BackingFile> {
    file: F,
    size: u64,
    read_only: bool,
}

impl<F: BackingFile> FileDevice<F> {
    pub fn new(mut file: F, read_only: bool) -> Result<Self, BlockError> {
        let size = file.len()?;
        Ok(FileDevice {
            file,
            size,
            read_only,
        })
    }

    pub fn into_inner(self) -> F {
        self.file
    }
}

impl<F: BackingFile> BlockDevice for FileDevice<F> {
    fn size(&self) -> u64 {
        self.size
    }
    fn read_at(&mut self, off: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        check_range(off, buf.len(), self.size)?;
        self.file.read_at(off, buf)
    }
    fn write_at(&mut self, off: u64, buf: &[u8]) -> Result<(), BlockError> {
        if self.read_only {
            return Err(BlockError::ReadOnly);
        }
        check_range(off, buf.len(), self.size)?;
        self.file.write_at(off, buf)
    }
    fn flush(&mut self) -> Result<(), BlockError> {
        if self.read_only {
            return Ok(());
        }
        self.file.sync()
    }
    /// A sparse image needs host space when a hole is first written.
    fn reserve(&mut self, ranges: &[(u64, u64)]) -> Result<(), BlockError> {
        if self.read_only {
            return Err(BlockError::ReadOnly);
        }
        for &(off, len) in ranges {
            check_span(off, len, self.size)?;
            self.file.reserve(off, len)?;
        }
        Ok(())
    }
    fn is_read_only(&self) -> bool {
        self.read_only
    }
}

/// A device held entirely in memory.
#[derive(Clone, Debug)]
pub struct MemDevice {
    pub bytes: Vec<u8>,
}

impl MemDevice {
    pub fn new(bytes: Vec<u8>) -> MemDevice {
        MemDevice { bytes }
    }

    pub fn zeroed(size: usize) -> MemDevice {
        MemDevice {
            bytes: vec![0; size],
        }
    }
}

impl BlockDevice for MemDevice {
    fn size(&self) -> u64 {
        self.bytes.len() as u64
    }
    fn read_at(&mut self, off: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        check_range(off, buf.len(), self.size())?;
        let off = off as usize;
        buf.copy_from_slice(&self.bytes[off..off + buf.len()]);
        Ok(())
    }
    fn write_at(&mut self, off: u64, buf: &[u8]) -> Result<(), BlockError> {
        check_range(off, buf.len(), self.size())?;
        let off = off as usize;
        self.bytes[off..off + buf.len()].copy_from_slice(buf);
        Ok(())
    }
    fn flush(&mut self) -> Result<(), BlockError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mem_device_checks_bounds() {
        let mut d = MemDevice::zeroed(16);
        d.write_at(12, b"abcd").unwrap();
        let mut b = [0u8; 4];
        d.read_at(12, &mut b).unwrap();
        assert_eq!(&b, b"abcd");
        assert!(matches!(
            d.write_at(13, b"abcd"),
            Err(BlockError::OutOfRange { .. })
        ));
        assert!(d.read_at(u64::MAX - 1, &mut b).is_err());
    }

    #[test]
    fn read_only_file_device_refuses_writes() {
        let mut d = FileDevice::new(MemFile(vec![7; 8]), true).unwrap();
        assert_eq!(d.write_at(0, b"x"), Err(BlockError::ReadOnly));
        let mut b = [0u8; 8];
        d.read_at(0, &mut b).unwrap();
        assert_eq!(b, [7; 8]);
    }
}
