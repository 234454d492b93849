//! A mounted volume: the device, the superblock and group descriptors in
//! memory, and the bounded caches.
//!
//! Write-back: metadata blocks (bitmaps, inode tables, directories,
//! indirect blocks) are changed in the block cache and reach the device
//! when evicted or at `sync`. File data bypasses the cache for whole blocks
//! that are not cached (large files must not flush the metadata out).
//!
//! Clean flag: while the device holds writes that are not yet a consistent
//! whole, its superblock says "not clean" (s_state without
//! EXT2_VALID_FS). `sync` writes every dirty block, then the superblock
//! with EXT2_VALID_FS, then flushes the device: after a flush the device
//! holds a consistent file system that `e2fsck -fn` accepts.
//!
//! Device failures: nothing the guest was told is done is ever dropped. A
//! dirty block the device refuses stays in the cache (past its bound) and
//! dirty; a `sync` that fails leaves every block it did not get durable
//! dirty, so the next one retries all of it, and succeeds only when
//! everything is durable. A sync first reserves the device space its
//! writes need, so a full host disk fails it before it writes anything.
//! The guest sees ENOSPC when the device has no room, EIO otherwise; the
//! periodic writeback keeps its failure for the next fsync/sync, like
//! Linux (the change that triggered it did happen).

use super::disk::{GroupDesc, Inode, Superblock, EXT2_VALID_FS, SUPERBLOCK_OFFSET};
use super::Ext2Error;
use crate::abi::errno::{Errno, KResult};
use lru::LruCache;
use std::collections::{BTreeSet, HashMap};
use std::num::NonZeroUsize;
use wax_devices::block::{BlockDevice, BlockError};
use wax_devices::{Clock, Timespec};

/// Cache bounds. Blocks: 32 MiB of 4 KiB blocks.
pub const CACHE_BYTES: usize = 32 << 20;
pub const INODE_CACHE: usize = 4096;
pub const DENTRY_CACHE: usize = 8192;
/// Dirty data older than this is written back by the next operation.
pub const WRITEBACK_SECS: i64 = 5;

struct CachedBlock {
    data: Box<[u8]>,
    dirty: bool,
}

pub struct Volume {
    dev: Box<dyn BlockDevice>,
    pub sb: Superblock,
    pub groups: Vec<GroupDesc>,
    /// Block size in bytes.
    pub bs: usize,
    pub read_only: bool,
    blocks: LruCache<u32, CachedBlock>,
    /// The cache's bound; it grows past it only to keep blocks the device
    /// refused.
    cache_blocks: NonZeroUsize,
    inodes: LruCache<u32, Inode>,
    /// (directory, name) → inode, or None for a name known to be absent;
    /// filled by lookups, changes and listings (`readdir`), kept exact by
    /// every change of an entry.
    pub dentries: LruCache<(u32, Vec<u8>), Option<u32>>,
    clock: Box<dyn Clock>,
    /// The device's superblock says EXT2_VALID_FS.
    clean_on_disk: bool,
    /// Something changed since the last sync.
    changed: bool,
    /// The device's last failure: the guest only sees EIO, the user and
    /// a failing mount get this.
    device_error: Option<BlockError>,
    /// When the last sync was tried (monotonic), for the periodic one.
    last_sync: Timespec,
    /// When the last successful sync ended (realtime), if one did.
    last_durable: Option<Timespec>,
    /// Open handles per inode (an unlinked inode lives until the last
    /// one closes).
    pub open: HashMap<u32, u32>,
    /// Inodes unlinked while open.
    pub orphans: BTreeSet<u32>,
    pub group_count: u32,
    /// Blocks per inode table.
    pub itable_blocks: u32,
}

fn corrupt(msg: impl Into<String>) -> Ext2Error {
    Ext2Error::Corrupt(msg.into())
}

impl Volume {
    pub fn mount(
        mut dev: Box<dyn BlockDevice>,
        clock: Box<dyn Clock>,
        read_only: bool,
    ) -> Result<Volume, Ext2Error> {
        if dev.size() < SUPERBLOCK_OFFSET + 1024 {
            return Err(Ext2Error::BadMagic);
        }
        let mut raw = vec![0u8; 1024];
        dev.read_at(SUPERBLOCK_OFFSET, &mut raw)?;
        let sb = Superblock::parse(&raw)?;
        let forced_ro = super::check::features(&sb)?;
        let geometry = super::check::geometry(&sb, dev.size())?;
        let bs = geometry.block_size;
        let read_only = read_only || forced_ro || dev.is_read_only();
        let cache_blocks =
            NonZeroUsize::new((CACHE_BYTES / bs).max(16)).unwrap_or(NonZeroUsize::MIN);
        let mut vol = Volume {
            dev,
            sb,
            groups: Vec::new(),
            bs,
            read_only,
            blocks: LruCache::new(cache_blocks),
            cache_blocks,
            inodes: LruCache::new(NonZeroUsize::new(INODE_CACHE).unwrap_or(NonZeroUsize::MIN)),
            dentries: LruCache::new(NonZeroUsize::new(DENTRY_CACHE).unwrap_or(NonZeroUsize::MIN)),
            clock,
            clean_on_disk: true,
            changed: false,
            device_error: None,
            last_sync: Timespec::default(),
            last_durable: None,
            open: HashMap::new(),
            orphans: BTreeSet::new(),
            group_count: geometry.groups,
            itable_blocks: geometry.itable_blocks,
        };
        vol.load_groups()?;
        vol.last_sync = vol.clock.monotonic();
        let root = vol
            .inode(super::disk::EXT2_ROOT_INO)
            .map_err(|_| vol.mount_failure("cannot read the root inode"))?;
        if !root.is_dir() {
            return Err(corrupt("the root inode is not a directory"));
        }
        Ok(vol)
    }

    fn load_groups(&mut self) -> Result<(), Ext2Error> {
        let first = self.sb.s_first_data_block + 1;
        let per_block = self.bs / GroupDesc::SIZE;
        let mut groups = Vec::with_capacity(self.group_count as usize);
        for g in 0..self.group_count as usize {
            let b = first + (g / per_block) as u32;
            let block = self
                .block(b)
                .map_err(|_| self.mount_failure("cannot read group descriptors"))?;
            let at = (g % per_block) * GroupDesc::SIZE;
            let gd = GroupDesc::parse(&block[at..at + GroupDesc::SIZE]);
            super::check::group(self, g as u32, &gd)?;
            groups.push(gd);
        }
        self.groups = groups;
        Ok(())
    }

    pub fn now(&self) -> super::disk::Time {
        let t = self.clock.realtime();
        super::disk::Time {
            sec: t.sec,
            nsec: t.nsec,
        }
    }

    /// The guest's errno for a device failure (ENOSPC when the host has
    /// no room, else EIO); the cause is logged once and kept for the user.
    fn device_failed(&mut self, e: BlockError) -> Errno {
        if self.device_error.as_ref() != Some(&e) {
            tracing::warn!("ext2: the image's device failed: {e}");
        }
        let errno = match e {
            BlockError::NoSpace(_) => Errno::ENOSPC,
            _ => Errno::EIO,
        };
        self.device_error = Some(e);
        errno
    }

    /// The device's last failure, if any.
    pub fn device_error(&self) -> Option<&BlockError> {
        self.device_error.as_ref()
    }

    /// After a successful [`Volume::sync`]: the ticket to wait for when
    /// the device's host keeps data asynchronously (see
    /// [`BlockDevice::durable_ticket`]); `None` when the sync made it
    /// durable.
    pub fn durable_ticket(&mut self) -> Option<u64> {
        if self.read_only {
            return None;
        }
        self.dev.durable_ticket()
    }

    /// Whether the sync behind `ticket` is durable (`None`: not known
    /// yet); ENOSPC or EIO if the host could not keep it.
    pub fn durability(&mut self, ticket: u64) -> Option<KResult<()>> {
        let r = self.dev.durability(ticket)?;
        Some(r.map_err(|e| self.device_failed(e)))
    }

    /// Realtime at which the last successful sync ended, if one did.
    pub fn last_durable(&self) -> Option<Timespec> {
        self.last_durable
    }

    /// The error for a mount that could not read `what`: the device's
    /// failure if there was one, else corruption.
    fn mount_failure(&mut self, what: &str) -> Ext2Error {
        match self.device_error.take() {
            Some(e) => Ext2Error::Device(e),
            None => corrupt(what),
        }
    }

    /// Is `b` a block number inside the file system's data area?
    pub fn valid_block(&self, b: u32) -> bool {
        b >= self.sb.s_first_data_block && b < self.sb.s_blocks_count
    }

    fn device_offset(&self, b: u32) -> u64 {
        u64::from(b) * self.bs as u64
    }

    /// Block `b` through the cache (a copy, so callers can hold it while
    /// calling back into the volume).
    pub fn block(&mut self, b: u32) -> KResult<Vec<u8>> {
        self.with_block(b, <[u8]>::to_vec)
    }

    /// `f` of block `b`'s bytes in the cache, for a reader that needs only
    /// part of it (an inode, a directory's records) and no copy.
    pub fn with_block<R>(&mut self, b: u32, f: impl FnOnce(&[u8]) -> R) -> KResult<R> {
        if let Some(c) = self.blocks.get(&b) {
            return Ok(f(&c.data));
        }
        if !self.valid_block(b) && b != 0 {
            return Err(Errno::EIO);
        }
        let mut data = vec![0u8; self.bs];
        let off = self.device_offset(b);
        self.dev
            .read_at(off, &mut data)
            .map_err(|e| self.device_failed(e))?;
        let r = f(&data);
        self.insert(b, data.into_boxed_slice(), false);
        Ok(r)
    }

    /// Replaces block `b` in the cache, marking it dirty.
    pub fn put_block(&mut self, b: u32, data: Vec<u8>) -> KResult<()> {
        if !self.valid_block(b) || data.len() != self.bs {
            return Err(Errno::EIO);
        }
        self.writable()?;
        self.changed = true;
        self.insert(b, data.into_boxed_slice(), true);
        Ok(())
    }

    /// Changes block `b` in place through `f`.
    pub fn modify_block<R>(&mut self, b: u32, f: impl FnOnce(&mut [u8]) -> R) -> KResult<R> {
        let mut data = self.block(b)?;
        let r = f(&mut data);
        self.put_block(b, data)?;
        Ok(r)
    }

    fn insert(&mut self, b: u32, data: Box<[u8]>, dirty: bool) {
        if !self.blocks.contains(&b) && self.blocks.len() >= self.blocks.cap().get() {
            self.evict_one();
        }
        self.blocks.put(b, CachedBlock { data, dirty });
    }

    /// Makes room for one block, writing the least recently used one back
    /// if it is dirty. One the device refuses stays, and the cache grows by
    /// one: dropping it would lose a change (see the module doc).
    fn evict_one(&mut self) {
        let Some((old, c)) = self.blocks.pop_lru() else {
            return;
        };
        if c.dirty && self.write_out(old, &c.data).is_err() {
            let grown = self.blocks.cap().saturating_add(1);
            self.blocks.resize(grown);
            self.blocks.put(old, c);
        }
    }

    /// After a sync: brings a cache that grew while the device failed back
    /// to its bound, writing out the dirty blocks it drops.
    fn trim_cache(&mut self) {
        while self.blocks.len() > self.cache_blocks.get() {
            let Some((old, c)) = self.blocks.pop_lru() else {
                break;
            };
            if c.dirty && self.write_out(old, &c.data).is_err() {
                self.blocks.put(old, c);
                break;
            }
        }
        let cap = NonZeroUsize::new(self.blocks.len())
            .map_or(self.cache_blocks, |n| n.max(self.cache_blocks));
        self.blocks.resize(cap);
    }

    fn write_out(&mut self, b: u32, data: &[u8]) -> KResult<()> {
        self.begin_write()?;
        let off = self.device_offset(b);
        self.dev
            .write_at(off, data)
            .map_err(|e| self.device_failed(e))
    }

    /// Forgets a freed block so a stale copy is never written back, and
    /// tells the device its contents no longer matter (an overlay then
    /// needs no room for it: deleting files makes a full host disk's sync
    /// succeed again).
    pub fn forget_block(&mut self, b: u32) {
        self.blocks.pop(&b);
        let off = self.device_offset(b);
        // A hint: a device that cannot use it loses nothing.
        let _ = self.dev.discard(off, self.bs as u64);
    }

    /// Reads data blocks `b..b+n` into `buf`, from the cache where cached.
    pub fn read_data(&mut self, b: u32, buf: &mut [u8]) -> KResult<()> {
        let n = buf.len() / self.bs;
        let end = u64::from(b) + n as u64;
        if !self.valid_block(b) || end > u64::from(self.sb.s_blocks_count) {
            return Err(Errno::EIO);
        }
        let off = self.device_offset(b);
        self.dev
            .read_at(off, buf)
            .map_err(|e| self.device_failed(e))?;
        for i in 0..n {
            if let Some(c) = self.blocks.peek(&(b + i as u32)) {
                buf[i * self.bs..(i + 1) * self.bs].copy_from_slice(&c.data);
            }
        }
        Ok(())
    }

    /// Writes one whole data block: into the cache if it is cached there,
    /// else straight to the device.
    pub fn write_data(&mut self, b: u32, data: &[u8]) -> KResult<()> {
        if !self.valid_block(b) {
            return Err(Errno::EIO);
        }
        self.writable()?;
        self.changed = true;
        if let Some(c) = self.blocks.peek_mut(&b) {
            c.data.copy_from_slice(data);
            c.dirty = true;
            return Ok(());
        }
        self.write_out(b, data)
    }

    /// Where inode `ino` lives: (block, byte offset in it).
    fn inode_location(&self, ino: u32) -> KResult<(u32, usize)> {
        if ino == 0 || ino > self.sb.s_inodes_count {
            return Err(Errno::EIO);
        }
        let ipg = self.sb.s_inodes_per_group;
        let group = ((ino - 1) / ipg) as usize;
        let index = ((ino - 1) % ipg) as usize;
        let gd = self.groups.get(group).ok_or(Errno::EIO)?;
        let isz = usize::from(self.sb.s_inode_size);
        let block = gd.bg_inode_table + (index * isz / self.bs) as u32;
        Ok((block, index * isz % self.bs))
    }

    pub fn inode(&mut self, ino: u32) -> KResult<Inode> {
        if let Some(i) = self.inodes.get(&ino) {
            return Ok(i.clone());
        }
        let (b, off) = self.inode_location(ino)?;
        let size = usize::from(self.sb.s_inode_size);
        let inode = self.with_block(b, |block| Inode::parse(&block[off..off + size]))?;
        self.inodes.put(ino, inode.clone());
        Ok(inode)
    }

    pub fn put_inode(&mut self, ino: u32, inode: &Inode) -> KResult<()> {
        let (b, off) = self.inode_location(ino)?;
        let bytes = inode.to_bytes();
        self.modify_block(b, |d| d[off..off + bytes.len()].copy_from_slice(&bytes))?;
        self.inodes.put(ino, inode.clone());
        Ok(())
    }

    /// Called before the first change after a sync: marks the device's
    /// superblock not clean, so a crash before the next sync is visible.
    pub fn begin_write(&mut self) -> KResult<()> {
        self.writable()?;
        if self.clean_on_disk {
            self.clean_on_disk = false;
            self.sb.s_state &= !EXT2_VALID_FS;
            self.write_superblock()?;
            self.sb.s_state |= EXT2_VALID_FS;
        }
        Ok(())
    }

    fn write_superblock(&mut self) -> KResult<()> {
        let bytes = self.sb.to_bytes();
        self.dev
            .write_at(SUPERBLOCK_OFFSET, &bytes)
            .map_err(|e| self.device_failed(e))?;
        // Keep a cached copy of the block holding it in step.
        let b = (SUPERBLOCK_OFFSET / self.bs as u64) as u32;
        let at = (SUPERBLOCK_OFFSET % self.bs as u64) as usize;
        if let Some(c) = self.blocks.peek_mut(&b) {
            c.data[at..at + bytes.len()].copy_from_slice(&bytes);
        }
        Ok(())
    }

    /// Writes the group descriptors into their (cached) blocks.
    fn store_groups(&mut self) -> KResult<()> {
        let first = self.sb.s_first_data_block + 1;
        let per_block = self.bs / GroupDesc::SIZE;
        for (i, chunk) in self.groups.clone().chunks(per_block).enumerate() {
            self.modify_block(first + i as u32, |d| {
                for (j, gd) in chunk.iter().enumerate() {
                    gd.write(&mut d[j * GroupDesc::SIZE..(j + 1) * GroupDesc::SIZE]);
                }
            })?;
        }
        Ok(())
    }

    /// Writes everything back and flushes the device. Inodes unlinked but
    /// still open are written as freed (see `orphan::view`), so the
    /// device is consistent even if Wax dies before they are closed. On
    /// failure nothing not yet durable is marked clean.
    pub fn sync(&mut self) -> KResult<()> {
        if self.read_only || !self.changed {
            return Ok(());
        }
        // A failing device is retried by the periodic writeback at its
        // pace, not by every operation.
        self.last_sync = self.clock.monotonic();
        let written = self.write_back()?;
        if let Err(e) = self.dev.flush() {
            // The host may have dropped what it could not write (a failed
            // fsync can leave pages "clean"): write it all again next time.
            for b in written {
                self.redirty(b);
            }
            return Err(self.device_failed(e));
        }
        // With orphans the device shows them freed while memory does not;
        // their blocks stay dirty for the sync after they are closed.
        self.changed = false;
        self.last_durable = Some(self.clock.realtime());
        self.trim_cache();
        Ok(())
    }

    /// The writes of a sync, up to the flush: every dirty block, then the
    /// superblock marked clean. Returns the blocks written.
    fn write_back(&mut self) -> KResult<Vec<u32>> {
        self.begin_write()?;
        self.store_groups()?;
        let view = super::orphan::view(self)?;
        let mut dirty: Vec<u32> = self
            .blocks
            .iter()
            .filter(|(_, c)| c.dirty)
            .map(|(&b, _)| b)
            .chain(view.blocks.keys().copied())
            .collect();
        dirty.sort_unstable();
        dirty.dedup();
        self.reserve_blocks(&dirty)?;
        for &b in &dirty {
            let off = self.device_offset(b);
            let data = match view.blocks.get(&b) {
                Some(d) => d.clone(),
                None => self.blocks.peek(&b).ok_or(Errno::EIO)?.data.to_vec(),
            };
            self.dev
                .write_at(off, &data)
                .map_err(|e| self.device_failed(e))?;
            if !view.blocks.contains_key(&b) {
                if let Some(c) = self.blocks.peek_mut(&b) {
                    c.dirty = false;
                }
            }
        }
        let now = self.now();
        self.sb.s_wtime = now.sec as u32;
        let saved = (self.sb.s_free_blocks_count, self.sb.s_free_inodes_count);
        self.sb.s_free_blocks_count += view.freed_blocks;
        self.sb.s_free_inodes_count += view.freed_inodes;
        let written = self.write_superblock();
        (self.sb.s_free_blocks_count, self.sb.s_free_inodes_count) = saved;
        written?;
        // The device's superblock says clean now: the next change after
        // this point (even if the flush fails) must mark it not clean.
        self.clean_on_disk = true;
        Ok(dirty)
    }

    /// Reserves device space for blocks `sorted` (runs of neighbours as
    /// one range), so a full host disk fails the sync before it writes.
    fn reserve_blocks(&mut self, sorted: &[u32]) -> KResult<()> {
        let mut ranges: Vec<(u64, u64)> = Vec::new();
        for &b in sorted {
            let off = self.device_offset(b);
            match ranges.last_mut() {
                Some((start, len)) if *start + *len == off => *len += self.bs as u64,
                _ => ranges.push((off, self.bs as u64)),
            }
        }
        self.dev.reserve(&ranges).map_err(|e| self.device_failed(e))
    }

    /// Syncs if the oldest unsynced change is older than WRITEBACK_SECS
    /// (the kernel's periodic writeback, done lazily). A failure is kept
    /// (logged, and the blocks stay dirty) for the next fsync or sync to
    /// report: the operation that triggered it has already happened.
    pub fn maybe_writeback(&mut self) {
        if !self.changed {
            return;
        }
        let now = self.clock.monotonic();
        if now.sec - self.last_sync.sec >= WRITEBACK_SECS {
            if let Err(e) = self.sync() {
                tracing::debug!("ext2: periodic writeback failed: {}", e.text());
            }
        }
    }

    /// Marks a cached block dirty again (its device copy differs).
    pub fn redirty(&mut self, b: u32) {
        if let Some(c) = self.blocks.peek_mut(&b) {
            c.dirty = true;
        }
    }

    /// EROFS unless the volume may be written.
    pub fn writable(&self) -> KResult<()> {
        if self.read_only {
            Err(Errno::EROFS)
        } else {
            Ok(())
        }
    }

    pub fn inode_location_pub(&self, ino: u32) -> KResult<(u32, usize)> {
        self.inode_location(ino)
    }
}
