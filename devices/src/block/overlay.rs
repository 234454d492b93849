//! Copy-on-write over a read-only base, with an optional crash-safe log.
//!
//! [`OverlayDevice`] keeps every block written since the device was opened
//! apart from the base (which it never writes). Without a log the blocks
//! stay in memory and vanish with the device. With an [`OverlayLog`], each
//! `flush` appends the blocks written since the previous flush as one
//! *unit* and syncs; the log is the durable overlay.
//!
//! Guarantee: after a crash at any point (SIGKILL, power loss with honest
//! fsync), reopening the log yields exactly the device contents as of the
//! last `flush` that returned Ok. A unit counts only when its trailer names
//! the unit's sequence number and a checksum of the whole unit; a torn or
//! partly written unit at the end is dropped (and truncated away) on open.
//!
//! Log layout, little-endian, in `BLOCK`-byte slots so data stays aligned:
//!
//! ```text
//! slot 0            header:  "WAXOVL01" block_size:u32 0:u32 base_size:u64
//!                            base_fingerprint:u64 header_check:u64
//! unit (repeated)   head:    "WAXUNIT1" seq:u64 count:u64
//!                   index:   count × block number:u64, padded to slots
//!                   data:    count × BLOCK bytes
//!                   trailer: "WAXCMIT1" seq:u64 check:u64
//! ```
//!
//! Space: a unit needs room in the log only at `flush`, but a full host
//! disk must show when the data is written, not then. So the log reserves
//! host space ([`BackingFile::reserve`]) for the unit that the pending
//! blocks will make, as they are written; a write the host has no room for
//! fails with [`BlockError::NoSpace`] and leaves the device unchanged. A
//! failed commit changes nothing either: the blocks stay pending, and the
//! next `flush` writes the unit again from the same place. A `discard`
//! (the file system freed the blocks) drops pending blocks and the room
//! they needed, so deleting files in the guest lets a full disk's flush
//! succeed again.
//!
//! Partial: the log only grows; rewriting it without superseded blocks
//! (compaction) is left to a later change.

use super::{check_range, check_span, BackingFile, BlockDevice, BlockError};
use std::collections::HashMap;

/// Overlay granularity; the ext2 images use the same block size.
pub const BLOCK: usize = 4096;
const HEADER_MAGIC: &[u8; 8] = b"WAXOVL01";
const UNIT_MAGIC: &[u8; 8] = b"WAXUNIT1";
const COMMIT_MAGIC: &[u8; 8] = b"WAXCMIT1";
/// Bytes of the base that identify it (its superblock area).
const FINGERPRINT_BYTES: u64 = 64 * 1024;

/// A checksum strong enough to notice torn writes (not an adversary).
#[derive(Clone, Copy)]
struct Check(u64);

impl Check {
    fn new() -> Check {
        Check(0xcbf2_9ce4_8422_2325)
    }
    fn add(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for w in &mut words {
            let v = u64::from_le_bytes(w.try_into().unwrap_or_default());
            self.0 = (self.0 ^ v)
                .wrapping_mul(0x0000_0100_0000_01b3)
                .rotate_left(29);
        }
        for &b in words.remainder() {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

fn u64_at(b: &[u8], i: usize) -> u64 {
    u64::from_le_bytes(b[i..i + 8].try_into().unwrap_or_default())
}

fn slots_for(bytes: u64) -> u64 {
    bytes.div_ceil(BLOCK as u64)
}

/// Bytes of log a unit of `count` blocks takes: head, index, data, trailer.
fn unit_bytes(count: u64) -> u64 {
    (2 + slots_for(count * 8) + count) * BLOCK as u64
}

/// Least extra room reserved at once, so a stream of writes makes few
/// reservation calls on the host.
const RESERVE_AHEAD: u64 = 1 << 20;

/// The durable half of an overlay: an append-only log in a [`BackingFile`].
pub struct OverlayLog {
    file: Box<dyn BackingFile>,
    /// End of the last complete unit; the next unit goes here.
    end: u64,
    next_seq: u64,
    /// Host space is reserved for the log up to here (>= `end`).
    reserved: u64,
}

impl OverlayLog {
    /// Opens (or initializes, if empty) the log for a base of `base_size`
    /// bytes whose first bytes hash to `fingerprint`. Returns the log and
    /// the committed blocks: (block number, offset of its data in the log).
    fn open(
        mut file: Box<dyn BackingFile>,
        base_size: u64,
        fingerprint: u64,
    ) -> Result<(OverlayLog, Vec<(u64, u64)>), BlockError> {
        let len = file.len()?;
        if len < BLOCK as u64 {
            let header = Self::header(base_size, fingerprint);
            file.set_len(0)?;
            file.write_at(0, &header)?;
            file.sync()?;
        } else {
            let mut header = vec![0u8; BLOCK];
            file.read_at(0, &mut header)?;
            Self::check_header(&header, base_size, fingerprint)?;
        }
        let mut log = OverlayLog {
            file,
            end: BLOCK as u64,
            next_seq: 0,
            reserved: 0,
        };
        let blocks = log.replay(len.max(BLOCK as u64))?;
        if log.end < len {
            // A unit cut short by a crash: never committed, drop it.
            log.file.set_len(log.end)?;
            log.file.sync()?;
        }
        // A run that crashed may have left space reserved past the end.
        log.reserved = u64::MAX;
        log.release_reservation();
        Ok((log, blocks))
    }

    fn header(base_size: u64, fingerprint: u64) -> Vec<u8> {
        let mut h = vec![0u8; BLOCK];
        h[..8].copy_from_slice(HEADER_MAGIC);
        h[8..12].copy_from_slice(&(BLOCK as u32).to_le_bytes());
        h[16..24].copy_from_slice(&base_size.to_le_bytes());
        h[24..32].copy_from_slice(&fingerprint.to_le_bytes());
        let mut c = Check::new();
        c.add(&h[..32]);
        h[32..40].copy_from_slice(&c.0.to_le_bytes());
        h
    }

    fn check_header(h: &[u8], base_size: u64, fingerprint: u64) -> Result<(), BlockError> {
        let mut c = Check::new();
        c.add(&h[..32]);
        if &h[..8] != HEADER_MAGIC || u64_at(h, 32) != c.0 {
            return Err(BlockError::Overlay(
                "not a Wax overlay file (bad header); give a new file name or delete it".into(),
            ));
        }
        if u64::from(u32::from_le_bytes([h[8], h[9], h[10], h[11]])) != BLOCK as u64 {
            return Err(BlockError::Overlay("unsupported overlay block size".into()));
        }
        if u64_at(h, 16) != base_size || u64_at(h, 24) != fingerprint {
            return Err(BlockError::Overlay(
                "this overlay was made for a different base image (size or superblock differ); \
                 use the image it was made with, or start a new overlay"
                    .into(),
            ));
        }
        Ok(())
    }

    /// Reads units from `self.end` while they are complete and valid.
    fn replay(&mut self, len: u64) -> Result<Vec<(u64, u64)>, BlockError> {
        let mut blocks = Vec::new();
        while let Some(unit) = self.read_unit(len)? {
            blocks.extend(unit);
        }
        Ok(blocks)
    }

    /// One unit at `self.end`, or None if it is missing, torn or invalid.
    fn read_unit(&mut self, len: u64) -> Result<Option<Vec<(u64, u64)>>, BlockError> {
        let start = self.end;
        if start + BLOCK as u64 > len {
            return Ok(None);
        }
        let mut head = vec![0u8; BLOCK];
        self.file.read_at(start, &mut head)?;
        let (seq, count) = (u64_at(&head, 8), u64_at(&head, 16));
        if &head[..8] != UNIT_MAGIC || seq != self.next_seq || count > len / BLOCK as u64 {
            return Ok(None);
        }
        let index_slots = slots_for(count * 8);
        let total = (2 + index_slots + count) * BLOCK as u64;
        if start + total > len {
            return Ok(None);
        }
        let mut check = Check::new();
        check.add(&head);
        // A log past 2 TiB could hold an index too large for a 32-bit
        // host; once it fits, so do `count` and every offset into it.
        let index_len = usize::try_from(index_slots * BLOCK as u64).map_err(|_| {
            BlockError::Overlay("the overlay log is too large for this host".into())
        })?;
        let mut index = vec![0u8; index_len];
        self.file.read_at(start + BLOCK as u64, &mut index)?;
        check.add(&index);
        let data_start = start + (1 + index_slots) * BLOCK as u64;
        let mut buf = vec![0u8; BLOCK];
        let mut out = Vec::with_capacity(count as usize);
        for i in 0..count {
            let off = data_start + i * BLOCK as u64;
            self.file.read_at(off, &mut buf)?;
            check.add(&buf);
            out.push((u64_at(&index, i as usize * 8), off));
        }
        self.file
            .read_at(data_start + count * BLOCK as u64, &mut buf)?;
        if &buf[..8] != COMMIT_MAGIC || u64_at(&buf, 8) != seq || u64_at(&buf, 16) != check.0 {
            return Ok(None);
        }
        self.end = start + total;
        self.next_seq += 1;
        Ok(Some(out))
    }

    /// Appends one unit holding `blocks` and syncs. Returns the offset of
    /// each block's data in the log. Durable and atomic once it returns Ok.
    fn commit(&mut self, blocks: &[(u64, &[u8])]) -> Result<Vec<u64>, BlockError> {
        let count = blocks.len() as u64;
        let index_slots = slots_for(count * 8);
        let mut head = vec![0u8; BLOCK];
        head[..8].copy_from_slice(UNIT_MAGIC);
        head[8..16].copy_from_slice(&self.next_seq.to_le_bytes());
        head[16..24].copy_from_slice(&count.to_le_bytes());
        let mut index = vec![0u8; index_slots as usize * BLOCK];
        for (i, (b, _)) in blocks.iter().enumerate() {
            index[i * 8..i * 8 + 8].copy_from_slice(&b.to_le_bytes());
        }
        let mut check = Check::new();
        check.add(&head);
        check.add(&index);
        let mut pos = self.end;
        self.file.write_at(pos, &head)?;
        self.file.write_at(pos + BLOCK as u64, &index)?;
        pos += (1 + index_slots) * BLOCK as u64;
        let mut offsets = Vec::with_capacity(blocks.len());
        for (_, data) in blocks {
            check.add(data);
            self.file.write_at(pos, data)?;
            offsets.push(pos);
            pos += BLOCK as u64;
        }
        let mut trailer = vec![0u8; BLOCK];
        trailer[..8].copy_from_slice(COMMIT_MAGIC);
        trailer[8..16].copy_from_slice(&self.next_seq.to_le_bytes());
        trailer[16..24].copy_from_slice(&check.0.to_le_bytes());
        self.file.write_at(pos, &trailer)?;
        self.file.sync()?;
        self.end = pos + BLOCK as u64;
        self.next_seq += 1;
        Ok(offsets)
    }

    /// Gives back the host space reserved past the end of the log: a
    /// shrinking truncate frees everything past the new length, which a
    /// truncate to the current length may not do.
    fn release_reservation(&mut self) {
        if self.reserved > self.end {
            // Best effort: if it fails the space stays reserved, no more.
            let _ = self
                .file
                .set_len(self.end + 1)
                .and_then(|()| self.file.set_len(self.end));
        }
        self.reserved = self.end;
    }

    /// After a failed commit: cuts the log back to its last complete unit,
    /// so the unit is gone even if its trailer reached the disk before a
    /// failed sync (reopening must give the state of the last good flush,
    /// not a newer one). The cut also frees the reserved space.
    fn forget_failed_unit(&mut self) {
        // If even this fails, reopening drops the unit unless its trailer
        // made it to the disk; the commit's own error is what matters.
        let _ = self.file.set_len(self.end);
        self.reserved = self.end;
    }

    /// Makes sure the unit for `pending` blocks fits: reserves host space
    /// for it, with some room ahead when the host has it.
    fn make_room(&mut self, pending: u64) -> Result<(), BlockError> {
        let need = self.end + unit_bytes(pending);
        if need <= self.reserved {
            return Ok(());
        }
        let ahead = need + (need / 8).max(RESERVE_AHEAD);
        if self
            .file
            .reserve(self.reserved, ahead - self.reserved)
            .is_ok()
        {
            self.reserved = ahead;
            return Ok(());
        }
        self.file.reserve(self.reserved, need - self.reserved)?;
        self.reserved = need;
        Ok(())
    }

    /// Bytes of log on disk.
    pub fn len(&self) -> u64 {
        self.end
    }

    pub fn is_empty(&self) -> bool {
        self.next_seq == 0
    }
}

impl Drop for OverlayLog {
    fn drop(&mut self) {
        self.release_reservation();
    }
}

enum Slot {
    /// Written since the last flush (or ever, without a log).
    /// Written since the last flush, with where the committed version
    /// (if any) is in the log.
    Mem(Box<[u8]>, Option<u64>),
    /// Committed: the block's data is at this offset of the log.
    Log(u64),
}

/// A read-only base plus the blocks written over it.
pub struct OverlayDevice {
    base: Box<dyn BlockDevice>,
    written: HashMap<u64, Slot>,
    log: Option<OverlayLog>,
    /// How many of `written` are `Slot::Mem`.
    pending: u64,
}

impl OverlayDevice {
    /// An overlay whose writes live in memory only.
    pub fn in_memory(base: Box<dyn BlockDevice>) -> OverlayDevice {
        OverlayDevice {
            base,
            written: HashMap::new(),
            log: None,
            pending: 0,
        }
    }

    /// An overlay persisted in `file` (created if empty): reopening it
    /// yields the contents as of the last successful `flush`.
    pub fn with_log(
        mut base: Box<dyn BlockDevice>,
        file: Box<dyn BackingFile>,
    ) -> Result<OverlayDevice, BlockError> {
        let fingerprint = Self::fingerprint(base.as_mut())?;
        let (log, blocks) = OverlayLog::open(file, base.size(), fingerprint)?;
        let written = blocks
            .into_iter()
            .map(|(b, off)| (b, Slot::Log(off)))
            .collect();
        Ok(OverlayDevice {
            base,
            written,
            log: Some(log),
            pending: 0,
        })
    }

    fn fingerprint(base: &mut dyn BlockDevice) -> Result<u64, BlockError> {
        let mut buf = vec![0u8; FINGERPRINT_BYTES.min(base.size()) as usize];
        base.read_at(0, &mut buf)?;
        let mut c = Check::new();
        c.add(&buf);
        Ok(c.0)
    }

    /// Number of blocks that differ from the base (written at some time).
    pub fn written_blocks(&self) -> usize {
        self.written.len()
    }

    /// Blocks written since the last flush.
    pub fn pending_blocks(&self) -> usize {
        self.pending as usize
    }

    /// Blocks of the byte ranges that are not pending yet (ranges that
    /// share a block count it twice: a reservation errs on the safe side).
    fn new_pending(&self, ranges: &[(u64, u64)]) -> u64 {
        let mut n = 0;
        for &(off, len) in ranges.iter().filter(|r| r.1 > 0) {
            let (first, last) = (off / BLOCK as u64, (off + len - 1) / BLOCK as u64);
            n += (first..=last)
                .filter(|b| !matches!(self.written.get(b), Some(Slot::Mem(..))))
                .count() as u64;
        }
        n
    }

    /// Reserves log space for writing `ranges` (no-op in memory).
    fn make_room(&mut self, ranges: &[(u64, u64)]) -> Result<(), BlockError> {
        let more = self.new_pending(ranges);
        match self.log.as_mut() {
            Some(log) if more > 0 => log.make_room(self.pending + more),
            _ => Ok(()),
        }
    }

    /// Reads whole block `b`, wherever it currently lives.
    fn read_block(&mut self, b: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        match self.written.get(&b) {
            Some(Slot::Mem(d, _)) => buf.copy_from_slice(d),
            Some(Slot::Log(off)) => {
                let log = self.log.as_mut().ok_or(BlockError::Io("log lost".into()))?;
                log.file.read_at(*off, buf)?;
            }
            None => self.read_base(b * BLOCK as u64, buf)?,
        }
        Ok(())
    }

    /// Reads from the base, zero-filling past its end (the last block may
    /// be partial if the base size is not a multiple of BLOCK).
    fn read_base(&mut self, off: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        let size = self.base.size();
        let n = (size.saturating_sub(off)).min(buf.len() as u64) as usize;
        buf[n..].fill(0);
        if n > 0 {
            self.base.read_at(off, &mut buf[..n])?;
        }
        Ok(())
    }
}

impl BlockDevice for OverlayDevice {
    fn size(&self) -> u64 {
        self.base.size()
    }

    fn read_at(&mut self, off: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        check_range(off, buf.len(), self.size())?;
        let mut done = 0;
        let mut block = vec![0u8; BLOCK];
        while done < buf.len() {
            let pos = off + done as u64;
            let b = pos / BLOCK as u64;
            let in_block = (pos % BLOCK as u64) as usize;
            if !self.written.contains_key(&b) {
                // Coalesce a run of unwritten blocks into one base read (one
                // range request over HTTP).
                let mut end = (b + 1) * BLOCK as u64;
                let limit = off + buf.len() as u64;
                while end < limit && !self.written.contains_key(&(end / BLOCK as u64)) {
                    end += BLOCK as u64;
                }
                let n = (end.min(limit) - pos) as usize;
                self.read_base(pos, &mut buf[done..done + n])?;
                done += n;
                continue;
            }
            let n = (BLOCK - in_block).min(buf.len() - done);
            self.read_block(b, &mut block)?;
            buf[done..done + n].copy_from_slice(&block[in_block..in_block + n]);
            done += n;
        }
        Ok(())
    }

    fn write_at(&mut self, off: u64, buf: &[u8]) -> Result<(), BlockError> {
        check_range(off, buf.len(), self.size())?;
        self.make_room(&[(off, buf.len() as u64)])?;
        let mut done = 0;
        while done < buf.len() {
            let pos = off + done as u64;
            let b = pos / BLOCK as u64;
            let in_block = (pos % BLOCK as u64) as usize;
            let n = (BLOCK - in_block).min(buf.len() - done);
            let mut data = vec![0u8; BLOCK].into_boxed_slice();
            if n < BLOCK {
                self.read_block(b, &mut data)?;
            }
            data[in_block..in_block + n].copy_from_slice(&buf[done..done + n]);
            let committed = match self.written.get(&b) {
                Some(&Slot::Log(at) | &Slot::Mem(_, Some(at))) => Some(at),
                _ => None,
            };
            if !matches!(
                self.written.insert(b, Slot::Mem(data, committed)),
                Some(Slot::Mem(..))
            ) {
                self.pending += 1;
            }
            done += n;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), BlockError> {
        let Some(log) = self.log.as_mut() else {
            return Ok(());
        };
        let mut pending: Vec<(u64, &[u8])> = self
            .written
            .iter()
            .filter_map(|(&b, s)| match s {
                Slot::Mem(d, _) => Some((b, &d[..])),
                Slot::Log(_) => None,
            })
            .collect();
        if pending.is_empty() {
            return Ok(());
        }
        pending.sort_unstable_by_key(|&(b, _)| b);
        let offsets = match log.commit(&pending) {
            Ok(o) => o,
            Err(e) => {
                log.forget_failed_unit();
                return Err(e);
            }
        };
        let numbers: Vec<u64> = pending.iter().map(|&(b, _)| b).collect();
        for (b, off) in numbers.into_iter().zip(offsets) {
            self.written.insert(b, Slot::Log(off));
        }
        self.pending = 0;
        Ok(())
    }

    /// Drops the pending writes of whole blocks in the range (a committed
    /// or base version stays readable there).
    fn discard(&mut self, off: u64, len: u64) -> Result<(), BlockError> {
        check_span(off, len, self.size())?;
        let first = off.div_ceil(BLOCK as u64);
        let end = (off + len) / BLOCK as u64;
        for b in first..end {
            if let Some(&Slot::Mem(_, committed)) = self.written.get(&b) {
                match committed {
                    Some(at) => self.written.insert(b, Slot::Log(at)),
                    None => self.written.remove(&b),
                };
                self.pending -= 1;
            }
        }
        Ok(())
    }

    fn reserve(&mut self, ranges: &[(u64, u64)]) -> Result<(), BlockError> {
        for &(off, len) in ranges {
            check_span(off, len, self.size())?;
        }
        self.make_room(ranges)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{MemDevice, MemFile};
    use super::*;
    use std::cell::RefCell;
    use std::rc::Rc;

    /// A MemFile shared with the test, so it can be "reopened" after a
    /// crash, on a host disk of `room` bytes whose writes and syncs the
    /// test can make fail.
    #[derive(Clone, Default)]
    struct Shared(Rc<RefCell<MemFile>>, Rc<RefCell<Host>>);

    #[derive(Default)]
    struct Host {
        room: Option<u64>,
        /// Bytes the host has allocated to the file (length or reserved).
        allocated: u64,
        fail_writes_after: Option<usize>,
        fail_sync: bool,
    }

    impl Shared {
        fn with_room(room: u64) -> Shared {
            let s = Shared::default();
            s.1.borrow_mut().room = Some(room);
            s
        }
        fn bytes(&self) -> Vec<u8> {
            self.0.borrow().0.clone()
        }
        fn allocate(&self, end: u64) -> Result<(), BlockError> {
            let mut h = self.1.borrow_mut();
            if h.room.is_some_and(|r| end > r) {
                return Err(BlockError::NoSpace("test disk full".into()));
            }
            h.allocated = h.allocated.max(end);
            Ok(())
        }
    }

    impl BackingFile for Shared {
        fn len(&mut self) -> Result<u64, BlockError> {
            self.0.borrow_mut().len()
        }
        fn read_at(&mut self, off: u64, buf: &mut [u8]) -> Result<(), BlockError> {
            self.0.borrow_mut().read_at(off, buf)
        }
        fn write_at(&mut self, off: u64, buf: &[u8]) -> Result<(), BlockError> {
            if let Some(n) = self.1.borrow_mut().fail_writes_after.as_mut() {
                if *n == 0 {
                    return Err(BlockError::Io("test write failure".into()));
                }
                *n -= 1;
            }
            self.allocate(off + buf.len() as u64)?;
            self.0.borrow_mut().write_at(off, buf)
        }
        fn set_len(&mut self, len: u64) -> Result<(), BlockError> {
            self.allocate(len)?;
            self.0.borrow_mut().set_len(len)
        }
        fn sync(&mut self) -> Result<(), BlockError> {
            match self.1.borrow().fail_sync {
                true => Err(BlockError::Io("test sync failure".into())),
                false => Ok(()),
            }
        }
        fn reserve(&mut self, off: u64, len: u64) -> Result<(), BlockError> {
            self.allocate(off + len)
        }
    }

    fn base() -> Box<dyn BlockDevice> {
        let bytes = (0..16 * BLOCK).map(|i| (i / BLOCK) as u8).collect();
        Box::new(MemDevice::new(bytes))
    }

    fn byte_at(d: &mut dyn BlockDevice, off: u64) -> u8 {
        let mut b = [0u8];
        d.read_at(off, &mut b).unwrap();
        b[0]
    }

    /// A read-only base of `.0` bytes whose every byte depends on all of
    /// its offset's bits, so an offset cut to 32 bits reads wrong.
    struct Pattern(u64);

    fn pattern(pos: u64) -> u8 {
        (pos ^ (pos >> 32).wrapping_mul(0x9d)) as u8
    }

    impl BlockDevice for Pattern {
        fn size(&self) -> u64 {
            self.0
        }
        fn read_at(&mut self, off: u64, buf: &mut [u8]) -> Result<(), BlockError> {
            check_range(off, buf.len(), self.0)?;
            for (pos, b) in (off..).zip(buf.iter_mut()) {
                *b = pattern(pos);
            }
            Ok(())
        }
        fn write_at(&mut self, _off: u64, _buf: &[u8]) -> Result<(), BlockError> {
            Err(BlockError::ReadOnly)
        }
        fn flush(&mut self) -> Result<(), BlockError> {
            Ok(())
        }
    }

    /// Offsets past 4 GiB (a 32-bit usize on wasm32), in memory and
    /// through the log and a reopen.
    #[test]
    fn offsets_past_4_gib() {
        let size = 6 << 30;
        let file = Shared::default();
        let mut d =
            OverlayDevice::with_log(Box::new(Pattern(size)), Box::new(file.clone())).unwrap();
        let edge = 1u64 << 32;
        d.write_at(edge - 2, b"wxyz").unwrap();
        d.write_at((5 << 30) + 7, b"far").unwrap();
        d.flush().unwrap();
        drop(d);
        let mut d = OverlayDevice::with_log(Box::new(Pattern(size)), Box::new(file)).unwrap();
        let mut b = [0u8; 6];
        d.read_at(edge - 3, &mut b).unwrap();
        let expect = [pattern(edge - 3), b'w', b'x', b'y', b'z', pattern(edge + 2)];
        assert_eq!(b, expect);
        d.read_at((5 << 30) + 6, &mut b[..5]).unwrap();
        let expect = [
            pattern((5 << 30) + 6),
            b'f',
            b'a',
            b'r',
            pattern((5 << 30) + 10),
        ];
        assert_eq!(b[..5], expect);
        let mut run = vec![0u8; 3 * BLOCK];
        d.read_at(size - run.len() as u64, &mut run).unwrap();
        assert!(run
            .iter()
            .zip(size - run.len() as u64..)
            .all(|(&b, pos)| b == pattern(pos)));
    }

    #[test]
    fn writes_stay_out_of_the_base_and_read_back() {
        let mut d = OverlayDevice::in_memory(base());
        d.write_at(BLOCK as u64 - 2, &[0xaa; 4]).unwrap();
        let mut b = [0u8; 6];
        d.read_at(BLOCK as u64 - 3, &mut b).unwrap();
        assert_eq!(b, [0, 0xaa, 0xaa, 0xaa, 0xaa, 1]);
        assert_eq!(d.written_blocks(), 2);
        assert_eq!(byte_at(d.base.as_mut(), BLOCK as u64 - 1), 0);
    }

    #[test]
    fn log_survives_reopen_and_drops_unflushed_writes() {
        let file = Shared::default();
        let mut d = OverlayDevice::with_log(base(), Box::new(file.clone())).unwrap();
        d.write_at(5 * BLOCK as u64, &[9; 10]).unwrap();
        d.flush().unwrap();
        d.write_at(6 * BLOCK as u64, &[8; 10]).unwrap();
        d.write_at(5 * BLOCK as u64, &[7; 1]).unwrap();
        drop(d);
        let mut d = OverlayDevice::with_log(base(), Box::new(file)).unwrap();
        assert_eq!(byte_at(&mut d, 5 * BLOCK as u64), 9);
        assert_eq!(byte_at(&mut d, 6 * BLOCK as u64), 6);
    }

    #[test]
    fn torn_unit_is_discarded_at_every_cut_point() {
        let file = Shared::default();
        let mut d = OverlayDevice::with_log(base(), Box::new(file.clone())).unwrap();
        d.write_at(0, &[1; 3 * BLOCK]).unwrap();
        d.flush().unwrap();
        let good = file.bytes().len();
        d.write_at(BLOCK as u64, &[2; 2 * BLOCK]).unwrap();
        d.flush().unwrap();
        let full = file.bytes();
        for cut in (good..full.len()).step_by(512) {
            let torn = Shared(
                Rc::new(RefCell::new(MemFile(full[..cut].to_vec()))),
                Rc::default(),
            );
            let mut d = OverlayDevice::with_log(base(), Box::new(torn.clone())).unwrap();
            assert_eq!(byte_at(&mut d, BLOCK as u64), 1, "cut at {cut}");
            assert_eq!(torn.0.borrow().0.len(), good);
        }
        // A flipped byte inside the last unit's data invalidates just it.
        let mut bad = full.clone();
        bad[good + 3 * BLOCK] ^= 1;
        let bad = Shared(Rc::new(RefCell::new(MemFile(bad))), Rc::default());
        let mut d = OverlayDevice::with_log(base(), Box::new(bad)).unwrap();
        assert_eq!(byte_at(&mut d, 2 * BLOCK as u64), 1);
    }

    #[test]
    fn log_for_another_base_is_refused() {
        let file = Shared::default();
        let mut d = OverlayDevice::with_log(base(), Box::new(file.clone())).unwrap();
        d.write_at(0, &[1]).unwrap();
        d.flush().unwrap();
        let other = Box::new(MemDevice::zeroed(16 * BLOCK));
        let err = OverlayDevice::with_log(other, Box::new(file))
            .err()
            .unwrap();
        assert!(err.to_string().contains("different base image"), "{err}");
    }

    #[test]
    fn a_full_host_disk_fails_the_write_not_the_flush() {
        // Header, one 5-block unit (head, index, data, trailer) and a
        // little: the sixth block cannot be kept.
        let file = Shared::with_room(BLOCK as u64 + unit_bytes(5) + 100);
        let mut d = OverlayDevice::with_log(base(), Box::new(file.clone())).unwrap();
        d.write_at(0, &[1; 5 * BLOCK]).unwrap();
        let err = d.write_at(5 * BLOCK as u64, &[1; 10]).unwrap_err();
        assert!(matches!(err, BlockError::NoSpace(_)), "{err}");
        assert_eq!(byte_at(&mut d, 5 * BLOCK as u64), 5, "device changed");
        // Rewriting a pending block needs no room.
        d.write_at(4 * BLOCK as u64, &[2; 1]).unwrap();
        d.flush().unwrap();
        let mut d = OverlayDevice::with_log(base(), Box::new(file.clone())).unwrap();
        assert_eq!(byte_at(&mut d, 4 * BLOCK as u64), 2);
        assert_eq!(byte_at(&mut d, 5 * BLOCK as u64), 5);
        // Room for 4 more blocks, not 5: discarding pending blocks makes
        // room; a discarded block reads its committed version again.
        file.1.borrow_mut().room = Some(BLOCK as u64 + unit_bytes(5) + unit_bytes(4) + 100);
        d.write_at(6 * BLOCK as u64, &[3; 3 * BLOCK]).unwrap();
        d.write_at(4 * BLOCK as u64, &[3; 1]).unwrap();
        assert!(d.write_at(9 * BLOCK as u64, &[3; 1]).is_err());
        d.discard(4 * BLOCK as u64 - 1, 3 * BLOCK as u64 + 2)
            .unwrap();
        assert_eq!(d.pending_blocks(), 2);
        assert_eq!(byte_at(&mut d, 4 * BLOCK as u64), 2);
        d.write_at(9 * BLOCK as u64, &[3; 1]).unwrap();
        d.flush().unwrap();
        let mut d = OverlayDevice::with_log(base(), Box::new(file)).unwrap();
        assert_eq!(
            [4, 6, 7, 8, 9].map(|b| byte_at(&mut d, b * BLOCK as u64)),
            [2, 6, 3, 3, 3]
        );
    }

    #[test]
    fn a_failed_commit_keeps_the_last_unit_and_the_pending_blocks() {
        for failing_write in 0..5 {
            let file = Shared::default();
            let mut d = OverlayDevice::with_log(base(), Box::new(file.clone())).unwrap();
            d.write_at(0, &[1; 2 * BLOCK]).unwrap();
            d.flush().unwrap();
            d.write_at(BLOCK as u64, &[2; 2 * BLOCK]).unwrap();
            file.1.borrow_mut().fail_writes_after = Some(failing_write);
            file.1.borrow_mut().fail_sync = failing_write == 4;
            assert!(d.flush().is_err(), "write {failing_write}");
            file.1.borrow_mut().fail_writes_after = None;
            assert_eq!(d.pending_blocks(), 2);
            let reopened = Shared(Rc::new(RefCell::new(MemFile(file.bytes()))), Rc::default());
            let mut r = OverlayDevice::with_log(base(), Box::new(reopened)).unwrap();
            assert_eq!(byte_at(&mut r, BLOCK as u64), 1, "write {failing_write}");
            assert_eq!(byte_at(&mut r, 2 * BLOCK as u64), 2);
            // The disk heals: the same blocks commit on the next flush.
            *file.1.borrow_mut() = Host::default();
            assert_eq!(file.bytes().len(), BLOCK + unit_bytes(2) as usize);
            d.flush().unwrap();
            let mut r = OverlayDevice::with_log(base(), Box::new(file)).unwrap();
            assert_eq!(byte_at(&mut r, BLOCK as u64), 2);
            assert_eq!(byte_at(&mut r, 2 * BLOCK as u64), 2);
        }
    }
}
