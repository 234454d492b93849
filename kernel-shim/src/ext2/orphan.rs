//! Files unlinked while still open ("orphans") and crash consistency.
//!
//! Linux keeps an unlinked, open inode allocated until the last close. If
//! the machine dies first, ext2 leaves an allocated inode with no links,
//! which e2fsck reports. Wax instead writes, at every sync, a *view* of
//! the metadata in which each orphan is already freed: its bitmap bits are
//! clear, its inode has i_dtime set and the free counts include it. Memory
//! keeps the real state (the blocks stay reserved while the file is open),
//! and the real bitmaps stay dirty in the cache for the sync after the
//! close. So the device is e2fsck-clean after every sync, orphans or not.
//!
//! Partial: an orphan's extended-attribute block is left allocated in the
//! view when other inodes share it, which is what e2fsck expects.

use super::disk::*;
use super::volume::Volume;
use crate::abi::errno::KResult;
use std::collections::HashMap;

#[derive(Default)]
pub struct View {
    /// Blocks to write instead of the cache's copy.
    pub blocks: HashMap<u32, Vec<u8>>,
    pub freed_blocks: u32,
    pub freed_inodes: u32,
}

impl View {
    fn block<'a>(&'a mut self, vol: &mut Volume, b: u32) -> KResult<&'a mut Vec<u8>> {
        match self.blocks.entry(b) {
            std::collections::hash_map::Entry::Occupied(e) => Ok(e.into_mut()),
            std::collections::hash_map::Entry::Vacant(e) => Ok(e.insert(vol.block(b)?)),
        }
    }

    /// Adds `delta` to a free count in group `g`'s descriptor (field at
    /// byte `field` of the 32-byte record).
    fn bump_group(&mut self, vol: &mut Volume, g: u32, field: usize, delta: i32) -> KResult<()> {
        let per_block = (vol.bs / GroupDesc::SIZE) as u32;
        let b = vol.sb.s_first_data_block + 1 + g / per_block;
        let at = (g % per_block) as usize * GroupDesc::SIZE + field;
        let d = self.block(vol, b)?;
        let v = u16::from_le_bytes([d[at], d[at + 1]]) as i32 + delta;
        d[at..at + 2].copy_from_slice(&(v.max(0) as u16).to_le_bytes());
        Ok(())
    }

    fn free_block(&mut self, vol: &mut Volume, b: u32) -> KResult<()> {
        let bpg = vol.sb.s_blocks_per_group;
        let rel = b - vol.sb.s_first_data_block;
        let g = rel / bpg;
        let map = vol.groups[g as usize].bg_block_bitmap;
        super::alloc::clear_bit(self.block(vol, map)?, (rel % bpg) as usize);
        self.bump_group(vol, g, 12, 1)?;
        self.freed_blocks += 1;
        Ok(())
    }

    fn free_inode(&mut self, vol: &mut Volume, ino: u32, inode: &Inode) -> KResult<()> {
        let ipg = vol.sb.s_inodes_per_group;
        let g = (ino - 1) / ipg;
        let map = vol.groups[g as usize].bg_inode_bitmap;
        super::alloc::clear_bit(self.block(vol, map)?, ((ino - 1) % ipg) as usize);
        self.bump_group(vol, g, 14, 1)?;
        if inode.is_dir() {
            self.bump_group(vol, g, 16, -1)?;
        }
        self.freed_inodes += 1;
        let mut dead = inode.clone();
        dead.i_links_count = 0;
        dead.i_dtime = vol.now().sec.max(1) as u32;
        let (b, off) = vol.inode_location_pub(ino)?;
        let bytes = dead.to_bytes();
        self.block(vol, b)?[off..off + bytes.len()].copy_from_slice(&bytes);
        Ok(())
    }
}

/// The metadata as it would be with every orphan freed.
pub fn view(vol: &mut Volume) -> KResult<View> {
    let mut view = View::default();
    for ino in vol.orphans.clone() {
        let inode = vol.inode(ino)?;
        if vol.has_block_pointers(&inode) {
            for b in vol.owned_blocks(&inode)? {
                view.free_block(vol, b)?;
            }
        }
        if inode.i_file_acl != 0 && vol.valid_block(inode.i_file_acl) {
            let ea = vol.block(inode.i_file_acl)?;
            if read_u32(&ea, 4) <= 1 {
                view.free_block(vol, inode.i_file_acl)?;
            }
        }
        view.free_inode(vol, ino, &inode)?;
    }
    Ok(view)
}
