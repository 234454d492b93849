//! Directories: linked `ext2_dir_entry_2` records filling each block.
//!
//! Lookups scan linearly (behind the dentry cache). A directory with an
//! htree index (EXT2_INDEX_FL) reads the same way: its index blocks look
//! like blocks holding one empty entry. Changing such a directory clears
//! the flag, because the index would no longer match — what Linux's ext2,
//! which has no htree code, does too; e2fsck accepts the result.

use super::disk::*;
use super::volume::Volume;
use crate::abi::errno::{Errno, KResult};

/// Directories larger than this are treated as corrupt (1 GiB).
const MAX_DIR_SIZE: u64 = 1 << 30;

/// Where an entry is: logical block, physical block, offset, and the
/// offset of the entry before it in the block (None for the first).
#[derive(Clone, Copy, Debug)]
pub struct Slot {
    pub pblk: u32,
    pub off: usize,
    pub prev: Option<usize>,
    pub ino: u32,
}

impl Volume {
    /// Number of blocks of directory `dir`.
    fn dir_blocks(&self, dir: &Inode) -> KResult<u64> {
        if dir.i_size > MAX_DIR_SIZE || !dir.i_size.is_multiple_of(self.bs as u64) {
            return Err(Errno::EIO);
        }
        Ok(dir.i_size / self.bs as u64)
    }

    /// Calls `f(block bytes, pblk, offset, prev offset, entry)` for each
    /// record until it returns Some (a hole in a directory is corruption).
    fn scan<R>(
        &mut self,
        dir: &Inode,
        mut f: impl FnMut(&[u8], u32, usize, Option<usize>, &RawDirent) -> Option<R>,
    ) -> KResult<Option<R>> {
        let inodes = self.sb.s_inodes_count;
        for lblk in 0..self.dir_blocks(dir)? {
            let pblk = self.bmap(dir, lblk)?.ok_or(Errno::EIO)?;
            // The block's records in the cache, not a copy of it.
            let found = self.with_block(pblk, |block| {
                let mut off = 0;
                let mut prev = None;
                while off < block.len() {
                    let e = dirent_at(block, off).ok_or(Errno::EIO)?;
                    if e.inode > inodes {
                        return Err(Errno::EIO);
                    }
                    if let Some(r) = f(block, pblk, off, prev, &e) {
                        return Ok(Some(r));
                    }
                    prev = Some(off);
                    off += e.rec_len;
                }
                Ok(None)
            })??;
            if found.is_some() {
                return Ok(found);
            }
        }
        Ok(None)
    }

    /// The entry named `name`.
    pub fn find_entry(&mut self, dir: &Inode, name: &[u8]) -> KResult<Option<Slot>> {
        self.scan(dir, |_, pblk, off, prev, e| {
            (e.inode != 0 && e.name == name).then_some(Slot {
                pblk,
                off,
                prev,
                ino: e.inode,
            })
        })
    }

    /// Every live entry: (name, inode, file type).
    pub fn entries(&mut self, dir: &Inode) -> KResult<Vec<(Vec<u8>, u32, u8)>> {
        let mut out = Vec::new();
        self.scan(dir, |_, _, _, _, e| {
            if e.inode != 0 {
                out.push((e.name.to_vec(), e.inode, e.file_type));
            }
            None::<()>
        })?;
        Ok(out)
    }

    /// Whether the directory holds only "." and "..".
    pub fn dir_is_empty(&mut self, dir: &Inode) -> KResult<bool> {
        let other = self.scan(dir, |_, _, _, _, e| {
            (e.inode != 0 && e.name != b"." && e.name != b"..").then_some(())
        })?;
        Ok(other.is_none())
    }

    /// Adds `name → ino`. The caller has checked the name is absent.
    pub fn add_entry(
        &mut self,
        dino: u32,
        dir: &mut Inode,
        name: &[u8],
        ino: u32,
        ft: u8,
    ) -> KResult<()> {
        let need = rec_len_for(name.len());
        let found = self.scan(dir, |_, pblk, off, _, e| {
            let used = if e.inode == 0 {
                0
            } else {
                rec_len_for(e.name.len())
            };
            (e.rec_len - used >= need).then_some((pblk, off, used, e.rec_len))
        })?;
        dir.i_flags &= !EXT2_INDEX_FL;
        if let Some((pblk, off, used, rec_len)) = found {
            self.modify_block(pblk, |b| {
                if used == 0 {
                    put_dirent(b, off, ino, rec_len, ft, name);
                } else {
                    set_rec_len(b, off, used);
                    put_dirent(b, off + used, ino, rec_len - used, ft, name);
                }
            })?;
        } else {
            let lblk = self.dir_blocks(dir)?;
            let goal = match lblk.checked_sub(1) {
                Some(l) => self.bmap(dir, l)?.map_or(0, |b| b + 1),
                None => 0,
            };
            let (pblk, _) = self.bmap_alloc(dir, lblk, goal)?;
            let mut b = vec![0u8; self.bs];
            put_dirent(&mut b, 0, ino, self.bs, ft, name);
            self.put_block(pblk, b)?;
            dir.i_size += self.bs as u64;
        }
        let now = self.now();
        dir.i_mtime = now;
        dir.i_ctime = now;
        self.put_inode(dino, dir)?;
        self.dentries.put((dino, name.to_vec()), Some(ino));
        Ok(())
    }

    /// Removes the entry at `slot` (named `name`) from directory `dino`.
    pub fn remove_entry(
        &mut self,
        dino: u32,
        dir: &mut Inode,
        name: &[u8],
        slot: Slot,
    ) -> KResult<()> {
        self.modify_block(slot.pblk, |b| {
            let rec_len = dirent_at(b, slot.off).map_or(0, |e| e.rec_len);
            match slot.prev {
                // Fold the record into the one before it.
                Some(p) => {
                    let prev_len = dirent_at(b, p).map_or(0, |e| e.rec_len);
                    set_rec_len(b, p, prev_len + rec_len);
                }
                None => set_dirent_inode(b, slot.off, 0, 0),
            }
        })?;
        dir.i_flags &= !EXT2_INDEX_FL;
        let now = self.now();
        dir.i_mtime = now;
        dir.i_ctime = now;
        self.put_inode(dino, dir)?;
        self.dentries.put((dino, name.to_vec()), None);
        Ok(())
    }

    /// Points the entry at `slot` to another inode.
    pub fn retarget_entry(&mut self, slot: Slot, ino: u32, ft: u8) -> KResult<()> {
        self.modify_block(slot.pblk, |b| set_dirent_inode(b, slot.off, ino, ft))
    }

    /// The first block of a new directory: "." and "..".
    pub fn new_dir_block(&self, ino: u32, parent: u32) -> Vec<u8> {
        let mut b = vec![0u8; self.bs];
        put_dirent(&mut b, 0, ino, 12, 2, b".");
        put_dirent(&mut b, 12, parent, self.bs - 12, 2, b"..");
        b
    }
}
