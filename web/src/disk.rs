//! The browser's disk: a read-only base image (streamed over HTTP) under
//! an overlay of written blocks that the host keeps in IndexedDB.
//!
//! Writes land in the overlay and are marked dirty. A device flush (the
//! ext2 driver's sync: the guest's `sync` or `fsync`, its periodic
//! writeback, or the host's sync after a short idle) snapshots every dirty
//! block into `pending`: the blocks that bring the persisted copy to the
//! device's state as of that flush. The host takes `pending` as one batch
//! and stores it in one IndexedDB transaction, which commits entirely or
//! not at all; if it fails (quota, a closed tab), the batch is given back
//! and nothing is lost. So the persisted overlay always equals the device
//! at some flush: a consistent file system.
//!
//! Invariant: for every block in `pending`, the data is the block's
//! content at the latest flush that included it; a block written after
//! that flush is also in `dirty`.
//!
//! Durability (when the host keeps the overlay, [`WebDisk::keep`]): each
//! flush that leaves anything unsaved starts a new *generation*; a guest
//! sync waits for its generation ([`BlockDevice::durable_ticket`]). The
//! host's batch covers every generation up to the one current when it
//! was taken; when its save ends the host says so ([`WebDisk::saved`]) or
//! gives the batch back with the reason ([`WebDisk::give_back`]), and the
//! waiting syncs return 0 or ENOSPC/EIO. A sync after a failed save starts
//! a new generation, which tells the host to try again
//! ([`WebDisk::save_wanted`]).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use wax_devices::block::{check_range, BlockDevice, BlockError};

/// Overlay granularity: the ext2 images' block size.
pub const BLOCK: usize = 4096;
/// Bytes of one record in a batch: block number (u32, little-endian),
/// then the block.
pub const RECORD: usize = 4 + BLOCK;
/// Bytes of the base that identify it (the superblock area).
const FINGERPRINT_BYTES: usize = 64 * 1024;

/// What the disk needs from its base besides the block device: the
/// streaming statistics the status line shows.
pub trait Base: BlockDevice {
    /// Bytes of the image held in memory.
    fn cached_bytes(&self) -> u64 {
        0
    }
    /// Caches a [`wax_devices::block::CHUNK_SIZE`] chunk the host fetched
    /// itself; false if this base has no cache for it.
    fn preload(&mut self, _chunk: u64, _data: Vec<u8>) -> Result<bool, BlockError> {
        Ok(false)
    }
}

pub struct WebDisk {
    base: Box<dyn Base>,
    blocks: HashMap<u64, Box<[u8]>>,
    dirty: BTreeSet<u64>,
    pending: BTreeMap<u64, Box<[u8]>>,
    fingerprint: u64,
    /// The last failure to read the base, for the host to show (the guest
    /// only sees EIO).
    last_error: Option<String>,
    /// Which base chunks were read, so the host can prefetch them at the
    /// next boot.
    touched: BTreeSet<u64>,
    /// Whether the host keeps the overlay (has a store): only then does
    /// a sync wait for it.
    kept_by_host: bool,
    /// The latest generation (see the module docs).
    generation: u64,
    /// The generation the batch being saved covers.
    saving: Option<u64>,
    /// Every generation up to this one is durable.
    saved: u64,
    /// The last failed save: the generation its batch covered, and why.
    failed: Option<(u64, BlockError)>,
    /// Overlay blocks the file system freed since the last flush. That
    /// flush (which holds the metadata freeing them) drops them from the
    /// overlay: out of `pending` (so deleting files makes a batch too big
    /// for the quota fit again) and, through `deletes`, out of the saved
    /// overlay (which then shrinks instead of only growing).
    freed: BTreeSet<u64>,
    /// Freed blocks to delete from the saved overlay with the next batch.
    deletes: BTreeSet<u64>,
    /// The deletes of the batch being saved (given back with it).
    saving_deletes: Vec<u64>,
}

impl WebDisk {
    pub fn new(mut base: Box<dyn Base>) -> Result<WebDisk, BlockError> {
        let n = FINGERPRINT_BYTES.min(base.size() as usize);
        let mut head = vec![0u8; n];
        base.read_at(0, &mut head)?;
        let fingerprint = fnv(&head) ^ base.size().rotate_left(32);
        Ok(WebDisk {
            base,
            blocks: HashMap::new(),
            dirty: BTreeSet::new(),
            pending: BTreeMap::new(),
            fingerprint,
            last_error: None,
            touched: BTreeSet::new(),
            kept_by_host: false,
            generation: 0,
            saving: None,
            saved: 0,
            failed: None,
            freed: BTreeSet::new(),
            deletes: BTreeSet::new(),
            saving_deletes: Vec::new(),
        })
    }

    /// Identifies the base image, so an overlay saved for another image is
    /// never applied to this one.
    pub fn fingerprint(&self) -> u64 {
        self.fingerprint
    }

    pub fn base(&self) -> &dyn Base {
        self.base.as_ref()
    }

    pub fn base_mut(&mut self) -> &mut dyn Base {
        self.base.as_mut()
    }

    /// The base chunks read so far, in order.
    pub fn touched_chunks(&self) -> Vec<u64> {
        self.touched.iter().copied().collect()
    }

    /// Applies a block from the persisted overlay (before mounting).
    pub fn load_block(&mut self, block: u64, data: &[u8]) -> Result<(), BlockError> {
        if data.len() != BLOCK || (block + 1) * BLOCK as u64 > self.base.size() {
            return Err(BlockError::Overlay(format!(
                "saved block {block} ({} bytes) does not fit the image",
                data.len()
            )));
        }
        self.blocks.insert(block, data.into());
        Ok(())
    }

    /// Blocks written since the last flush.
    pub fn dirty_count(&self) -> usize {
        self.dirty.len()
    }

    /// Blocks flushed but not yet persisted.
    pub fn pending_count(&self) -> usize {
        self.pending.len()
    }

    /// Blocks in the overlay.
    pub fn overlay_count(&self) -> usize {
        self.blocks.len()
    }

    /// The host keeps the overlay from now on: a guest sync waits until
    /// the host has saved it (see the module docs).
    pub fn keep(&mut self) {
        self.kept_by_host = true;
    }

    /// Takes every pending block as one batch of [`RECORD`]s, and the
    /// freed blocks to delete with it ([`WebDisk::taken_deletes`]). The
    /// host saves both in one transaction, then calls [`WebDisk::saved`]
    /// or [`WebDisk::give_back`].
    pub fn take_pending(&mut self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.pending.len() * RECORD);
        for (block, data) in std::mem::take(&mut self.pending) {
            out.extend_from_slice(&(block as u32).to_le_bytes());
            out.extend_from_slice(&data);
        }
        self.saving_deletes = std::mem::take(&mut self.deletes).into_iter().collect();
        self.saving = Some(self.generation);
        out
    }

    /// The blocks the last [`WebDisk::take_pending`] deletes from the
    /// saved overlay.
    pub fn taken_deletes(&self) -> Vec<u32> {
        self.saving_deletes.iter().map(|&b| b as u32).collect()
    }

    /// Blocks waiting to be deleted from the saved overlay.
    pub fn delete_count(&self) -> usize {
        self.deletes.len()
    }

    /// The batch taken last is durable.
    pub fn saved(&mut self) {
        if let Some(g) = self.saving.take() {
            self.saved = self.saved.max(g);
        }
        self.saving_deletes.clear();
    }

    /// Returns a batch that could not be persisted, and why (syncs
    /// waiting for it fail with that); blocks flushed again since it was
    /// taken keep their newer data.
    pub fn give_back(&mut self, batch: &[u8], why: BlockError) {
        for rec in batch.chunks_exact(RECORD) {
            let block = u64::from(u32::from_le_bytes([rec[0], rec[1], rec[2], rec[3]]));
            // Deleted (freed) since: the old data no longer matters.
            if self.deletes.contains(&block) {
                continue;
            }
            self.pending.entry(block).or_insert_with(|| rec[4..].into());
        }
        // Deletes still due, unless the block was written again since.
        for block in std::mem::take(&mut self.saving_deletes) {
            if !self.pending.contains_key(&block) && !self.dirty.contains(&block) {
                self.deletes.insert(block);
            }
        }
        if let Some(g) = self.saving.take() {
            self.failed = Some((g, why));
        }
    }

    /// Whether the host should save now: something is pending and no
    /// save of it has failed since the last sync asked for one (after a
    /// failure the host waits for the next sync, or retries at its pace).
    pub fn save_wanted(&self) -> bool {
        (!self.pending.is_empty() || !self.deletes.is_empty())
            && self.saving.is_none()
            && self
                .failed
                .as_ref()
                .is_none_or(|(g, _)| self.generation > *g)
    }

    /// Whether everything flushed so far is durable (or being saved).
    fn unsaved(&self) -> bool {
        !self.pending.is_empty() || !self.deletes.is_empty() || self.saving.is_some()
    }

    /// Takes the last base read failure, if any since the last call.
    pub fn take_error(&mut self) -> Option<String> {
        self.last_error.take()
    }

    fn read_base(&mut self, off: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        let chunk = wax_devices::block::CHUNK_SIZE;
        let last = (off + buf.len().max(1) as u64 - 1) / chunk;
        self.touched.extend(off / chunk..=last);
        let r = self.base.read_at(off, buf);
        if let Err(e) = &r {
            self.last_error = Some(e.to_string());
        }
        r
    }

    /// The block's current content: overlay, else base.
    fn block(&mut self, block: u64) -> Result<&mut Box<[u8]>, BlockError> {
        if !self.blocks.contains_key(&block) {
            let mut data = vec![0u8; BLOCK];
            self.read_base(block * BLOCK as u64, &mut data)?;
            self.blocks.insert(block, data.into());
        }
        Ok(self.blocks.get_mut(&block).expect("inserted above"))
    }

    /// Splits `off..off+len` into (block, offset in block, length, offset
    /// in buffer) pieces.
    fn pieces(off: u64, len: usize) -> impl Iterator<Item = (u64, usize, usize, usize)> {
        let mut done = 0;
        std::iter::from_fn(move || {
            if done >= len {
                return None;
            }
            let pos = off + done as u64;
            let at = (pos % BLOCK as u64) as usize;
            let n = (BLOCK - at).min(len - done);
            let piece = (pos / BLOCK as u64, at, n, done);
            done += n;
            Some(piece)
        })
    }
}

impl BlockDevice for WebDisk {
    fn size(&self) -> u64 {
        // The image's tail past the last whole block is not addressable by
        // the overlay; ext2 never uses it.
        self.base.size() / BLOCK as u64 * BLOCK as u64
    }

    fn read_at(&mut self, off: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        check_range(off, buf.len(), self.size())?;
        for (block, at, n, from) in Self::pieces(off, buf.len()) {
            match self.blocks.get(&block) {
                Some(d) => buf[from..from + n].copy_from_slice(&d[at..at + n]),
                None => {
                    self.read_base(block * BLOCK as u64 + at as u64, &mut buf[from..from + n])?
                }
            }
        }
        Ok(())
    }

    fn write_at(&mut self, off: u64, buf: &[u8]) -> Result<(), BlockError> {
        check_range(off, buf.len(), self.size())?;
        for (block, at, n, from) in Self::pieces(off, buf.len()) {
            self.block(block)?[at..at + n].copy_from_slice(&buf[from..from + n]);
            self.dirty.insert(block);
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), BlockError> {
        if self.dirty.is_empty() && self.freed.is_empty() {
            return Ok(());
        }
        for block in std::mem::take(&mut self.freed) {
            if !self.dirty.contains(&block) {
                self.pending.remove(&block);
                self.blocks.remove(&block);
                self.deletes.insert(block);
            }
        }
        for block in std::mem::take(&mut self.dirty) {
            let data = self.blocks[&block].clone();
            self.pending.insert(block, data);
            self.deletes.remove(&block);
        }
        self.generation += 1;
        Ok(())
    }

    /// A freed block: its content no longer matters, so it is not
    /// written at the next flush, which drops it from the overlay (see
    /// `freed`).
    fn discard(&mut self, off: u64, len: u64) -> Result<(), BlockError> {
        wax_devices::block::check_span(off, len, self.size())?;
        for block in off.div_ceil(BLOCK as u64)..(off + len) / BLOCK as u64 {
            self.dirty.remove(&block);
            if self.blocks.contains_key(&block) {
                self.freed.insert(block);
            }
        }
        Ok(())
    }

    fn durable_ticket(&mut self) -> Option<u64> {
        if !self.kept_by_host || !self.unsaved() {
            return None;
        }
        // The current state's save failed: this sync asks for another.
        if self
            .failed
            .as_ref()
            .is_some_and(|(g, _)| *g >= self.generation)
        {
            self.generation += 1;
        }
        Some(self.generation)
    }

    fn durability(&self, ticket: u64) -> Option<Result<(), BlockError>> {
        if self.saved >= ticket {
            return Some(Ok(()));
        }
        match &self.failed {
            Some((g, why)) if *g >= ticket => Some(Err(why.clone())),
            _ => None,
        }
    }
}

/// The disk shared between the file system (which owns a device) and the
/// host API (which persists it).
#[derive(Clone)]
pub struct SharedDisk(pub std::rc::Rc<std::cell::RefCell<WebDisk>>);

impl BlockDevice for SharedDisk {
    fn size(&self) -> u64 {
        self.0.borrow().size()
    }
    fn read_at(&mut self, off: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        self.0.borrow_mut().read_at(off, buf)
    }
    fn write_at(&mut self, off: u64, buf: &[u8]) -> Result<(), BlockError> {
        self.0.borrow_mut().write_at(off, buf)
    }
    fn flush(&mut self) -> Result<(), BlockError> {
        self.0.borrow_mut().flush()
    }
    fn discard(&mut self, off: u64, len: u64) -> Result<(), BlockError> {
        self.0.borrow_mut().discard(off, len)
    }
    fn durable_ticket(&mut self) -> Option<u64> {
        self.0.borrow_mut().durable_ticket()
    }
    fn durability(&self, ticket: u64) -> Option<Result<(), BlockError>> {
        self.0.borrow().durability(ticket)
    }
}

fn fnv(b: &[u8]) -> u64 {
    b.iter().fold(0xcbf2_9ce4_8422_2325, |h, &x| {
        (h ^ u64::from(x)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use wax_devices::block::MemDevice;

    impl Base for MemDevice {}

    fn disk() -> WebDisk {
        let img: Vec<u8> = (0..16 * BLOCK).map(|i| (i % 251) as u8).collect();
        WebDisk::new(Box::new(MemDevice::new(img))).unwrap()
    }

    fn read(d: &mut WebDisk, off: u64, n: usize) -> Vec<u8> {
        let mut b = vec![0; n];
        d.read_at(off, &mut b).unwrap();
        b
    }

    /// Applies a batch to a model of the persisted overlay.
    fn persist(store: &mut BTreeMap<u64, Vec<u8>>, batch: &[u8]) {
        for rec in batch.chunks_exact(RECORD) {
            let b = u32::from_le_bytes(rec[..4].try_into().unwrap());
            store.insert(u64::from(b), rec[4..].to_vec());
        }
    }

    #[test]
    fn writes_across_blocks_read_back_over_the_base() {
        let mut d = disk();
        let before = read(&mut d, 0, 16 * BLOCK);
        d.write_at(4000, &[9; 300]).unwrap();
        let after = read(&mut d, 0, 16 * BLOCK);
        assert_eq!(after[4000..4300], [9; 300]);
        assert_eq!(after[..4000], before[..4000]);
        assert_eq!(after[4300..], before[4300..]);
        assert_eq!(d.dirty_count(), 2);
    }

    #[test]
    fn only_flushed_data_becomes_pending() {
        let mut d = disk();
        d.write_at(0, &[1; 10]).unwrap();
        assert_eq!(d.take_pending(), Vec::<u8>::new());
        d.flush().unwrap();
        d.write_at(0, &[2; 10]).unwrap();
        let batch = d.take_pending();
        assert_eq!(batch.len(), RECORD);
        assert_eq!(
            batch[4..14],
            [1; 10],
            "the flushed state, not the later write"
        );
        assert_eq!(d.dirty_count(), 1);
    }

    #[test]
    fn a_failed_batch_given_back_never_overrides_a_newer_flush() {
        let mut d = disk();
        d.write_at(0, &[1; 10]).unwrap();
        d.write_at(BLOCK as u64, &[1; 10]).unwrap();
        d.flush().unwrap();
        let failed = d.take_pending();
        d.write_at(0, &[3; 10]).unwrap();
        d.flush().unwrap();
        d.give_back(&failed, BlockError::Io("test".into()));
        let mut store = BTreeMap::new();
        persist(&mut store, &d.take_pending());
        assert_eq!(store[&0][..10], [3; 10]);
        assert_eq!(store[&1][..10], [1; 10]);
    }

    #[test]
    fn a_sync_waits_for_the_save_of_its_generation() {
        let mut d = disk();
        d.write_at(0, &[1; 10]).unwrap();
        d.flush().unwrap();
        assert_eq!(d.durable_ticket(), None, "no store: nothing to wait for");
        d.keep();
        let first = d.durable_ticket().expect("unsaved data");
        assert_eq!(d.durability(first), None);
        assert!(d.save_wanted());
        let batch = d.take_pending();
        assert!(!d.save_wanted(), "one save at a time");
        // Written and synced while the first batch is being saved.
        d.write_at(BLOCK as u64, &[2; 10]).unwrap();
        d.flush().unwrap();
        let second = d.durable_ticket().unwrap();
        assert!(second > first);
        d.saved();
        assert_eq!(d.durability(first), Some(Ok(())));
        assert_eq!(d.durability(second), None, "its blocks are not saved yet");
        assert_eq!(batch.len(), RECORD);
        d.take_pending();
        d.saved();
        assert_eq!(d.durability(second), Some(Ok(())));
        assert_eq!(d.durable_ticket(), None, "everything is durable");
    }

    #[test]
    fn a_failed_save_fails_its_syncs_and_the_next_sync_retries() {
        let mut d = disk();
        d.keep();
        d.write_at(0, &[1; 10]).unwrap();
        d.flush().unwrap();
        let ticket = d.durable_ticket().unwrap();
        let batch = d.take_pending();
        let full = BlockError::NoSpace("quota".into());
        d.give_back(&batch, full.clone());
        assert_eq!(d.durability(ticket), Some(Err(full)));
        assert!(!d.save_wanted(), "no retry until a sync asks");
        // The guest syncs again without writing anything new.
        d.flush().unwrap();
        let retry = d.durable_ticket().unwrap();
        assert!(retry > ticket);
        assert_eq!(d.durability(retry), None);
        assert!(d.save_wanted());
        assert_eq!(d.take_pending(), batch, "the same blocks, given back");
        d.saved();
        assert_eq!(d.durability(retry), Some(Ok(())));
    }

    #[test]
    fn freed_blocks_leave_the_next_batch_but_not_the_one_before() {
        let mut d = disk();
        d.keep();
        d.write_at(0, &[1; BLOCK]).unwrap();
        d.write_at(BLOCK as u64, &[1; BLOCK]).unwrap();
        d.flush().unwrap();
        // Freed after its flush: still saved by a batch taken now (the
        // metadata that frees it is not flushed yet)...
        d.discard(0, BLOCK as u64).unwrap();
        assert_eq!(d.pending_count(), 2);
        // ...and dropped by the flush that records the free.
        d.write_at(2 * BLOCK as u64, &[2; 10]).unwrap();
        d.flush().unwrap();
        let mut store = BTreeMap::new();
        persist(&mut store, &d.take_pending());
        assert_eq!(store.keys().copied().collect::<Vec<_>>(), [1, 2]);
        assert_eq!(d.taken_deletes(), [0], "and the saved copy goes");
        d.saved();
        // Freed, then written again before the flush: kept.
        d.write_at(3 * BLOCK as u64, &[3; 10]).unwrap();
        d.flush().unwrap();
        d.discard(3 * BLOCK as u64, BLOCK as u64).unwrap();
        d.write_at(3 * BLOCK as u64, &[4; 10]).unwrap();
        d.flush().unwrap();
        persist(&mut store, &d.take_pending());
        assert_eq!(store[&3][..10], [4; 10]);
        assert_eq!(d.taken_deletes(), Vec::<u32>::new());
    }

    #[test]
    fn deletes_of_a_failed_batch_come_back_unless_the_block_was_reused() {
        let mut d = disk();
        d.keep();
        for b in 0..3 {
            d.write_at(b * BLOCK as u64, &[1; 10]).unwrap();
        }
        d.flush().unwrap();
        d.take_pending();
        d.saved();
        // Blocks 0 and 1 freed; the batch deleting them fails.
        d.discard(0, 2 * BLOCK as u64).unwrap();
        d.flush().unwrap();
        assert!(d.save_wanted(), "deletes alone are worth a save");
        let batch = d.take_pending();
        assert_eq!(d.taken_deletes(), [0, 1]);
        // Block 1 is written again before the failure comes back.
        d.write_at(BLOCK as u64, &[5; 10]).unwrap();
        d.give_back(&batch, BlockError::Io("test".into()));
        assert_eq!(
            d.delete_count(),
            1,
            "block 0 still to delete, block 1 reused"
        );
        d.flush().unwrap();
        let mut store = BTreeMap::new();
        persist(&mut store, &d.take_pending());
        assert_eq!(store.keys().copied().collect::<Vec<_>>(), [1]);
        assert_eq!(d.taken_deletes(), [0]);
    }

    #[test]
    fn a_reloaded_overlay_shows_the_persisted_state() {
        let mut d = disk();
        d.write_at(5 * BLOCK as u64 + 7, b"hello").unwrap();
        d.flush().unwrap();
        let mut store = BTreeMap::new();
        persist(&mut store, &d.take_pending());
        let mut e = disk();
        assert_eq!(e.fingerprint(), d.fingerprint());
        for (b, data) in &store {
            e.load_block(*b, data).unwrap();
        }
        assert_eq!(read(&mut e, 0, 16 * BLOCK), read(&mut d, 0, 16 * BLOCK));
        assert!(e.load_block(99, &[0; BLOCK]).is_err());
    }
}
