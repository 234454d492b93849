//! Block and inode allocation over the group bitmaps.
//!
//! Blocks: search from a goal (the block after the file's previous block,
//! so files stay contiguous), first in the goal's group, then in the
//! following groups. Inodes: a new directory goes to a group with more
//! free inodes and blocks than average and few directories (spreading the
//! tree, as Linux's Orlov allocator does); other inodes go near their
//! directory. Counts in the group descriptors and the superblock move in
//! step with the bitmaps, as e2fsck checks.

use super::disk::GroupDesc;
use super::volume::Volume;
use crate::abi::errno::{Errno, KResult};

fn bit(map: &[u8], i: usize) -> bool {
    map[i / 8] & (1 << (i % 8)) != 0
}

fn set_bit(map: &mut [u8], i: usize, on: bool) {
    if on {
        map[i / 8] |= 1 << (i % 8);
    } else {
        map[i / 8] &= !(1 << (i % 8));
    }
}

/// First clear bit in `from..limit`.
fn find_zero(map: &[u8], from: usize, limit: usize) -> Option<usize> {
    let mut i = from;
    while i < limit {
        if i.is_multiple_of(8) && i + 8 <= limit && map[i / 8] == 0xff {
            i += 8;
            continue;
        }
        if !bit(map, i) {
            return Some(i);
        }
        i += 1;
    }
    None
}

impl Volume {
    /// Blocks in group `g` (the last group may be short).
    fn blocks_in_group(&self, g: u32) -> u32 {
        let start = self.sb.s_first_data_block + g * self.sb.s_blocks_per_group;
        (self.sb.s_blocks_count - start).min(self.sb.s_blocks_per_group)
    }

    fn group_of_block(&self, b: u32) -> u32 {
        (b.saturating_sub(self.sb.s_first_data_block) / self.sb.s_blocks_per_group)
            .min(self.group_count - 1)
    }

    /// Allocates a block, preferring `goal` and what follows it.
    pub fn alloc_block(&mut self, goal: u32) -> KResult<u32> {
        self.writable()?;
        if self.sb.s_free_blocks_count == 0 {
            return Err(Errno::ENOSPC);
        }
        let goal = if self.valid_block(goal) {
            goal
        } else {
            self.sb.s_first_data_block
        };
        let g0 = self.group_of_block(goal);
        for k in 0..=self.group_count {
            let g = (g0 + k) % self.group_count;
            if self.groups[g as usize].bg_free_blocks_count == 0 {
                continue;
            }
            let start = if k == 0 {
                (goal - self.sb.s_first_data_block - g * self.sb.s_blocks_per_group) as usize
            } else {
                0
            };
            if let Some(b) = self.alloc_in_group(g, start)? {
                return Ok(b);
            }
        }
        Err(Errno::ENOSPC)
    }

    fn alloc_in_group(&mut self, g: u32, start: usize) -> KResult<Option<u32>> {
        let limit = self.blocks_in_group(g) as usize;
        let map_block = self.groups[g as usize].bg_block_bitmap;
        let mut map = self.block(map_block)?;
        let Some(i) =
            find_zero(&map, start, limit).or_else(|| find_zero(&map, 0, start.min(limit)))
        else {
            return Ok(None);
        };
        let b = self.sb.s_first_data_block + g * self.sb.s_blocks_per_group + i as u32;
        if self.is_group_metadata(g, b) {
            tracing::warn!("ext2: the block bitmap says metadata block {b} is free; run e2fsck");
            return Err(Errno::EIO);
        }
        set_bit(&mut map, i, true);
        self.put_block(map_block, map)?;
        self.groups[g as usize].bg_free_blocks_count -= 1;
        self.sb.s_free_blocks_count -= 1;
        Ok(Some(b))
    }

    /// Whether `b` holds group `g`'s bitmaps or inode table, or the
    /// primary superblock and group descriptors. A bitmap that offers one
    /// of these is corrupt; handing it out would overwrite metadata.
    /// Partial: backup superblocks in other groups are not checked.
    fn is_group_metadata(&self, g: u32, b: u32) -> bool {
        let gd = &self.groups[g as usize];
        let gdt_end = u64::from(self.sb.s_first_data_block)
            + 1
            + (u64::from(self.group_count) * GroupDesc::SIZE as u64).div_ceil(self.bs as u64);
        let table = u64::from(gd.bg_inode_table);
        let b64 = u64::from(b);
        b64 < gdt_end
            || b == gd.bg_block_bitmap
            || b == gd.bg_inode_bitmap
            || (table..table + u64::from(self.itable_blocks)).contains(&b64)
    }

    /// Frees block `b`. Freeing a free block means the image is corrupt:
    /// EIO, and the counts stay as they are.
    pub fn free_block(&mut self, b: u32) -> KResult<()> {
        if !self.valid_block(b) {
            return Err(Errno::EIO);
        }
        let g = self.group_of_block(b);
        let i = (b - self.sb.s_first_data_block - g * self.sb.s_blocks_per_group) as usize;
        let map_block = self.groups[g as usize].bg_block_bitmap;
        let mut map = self.block(map_block)?;
        if !bit(&map, i) {
            tracing::warn!("ext2: freeing free block {b}; the image is corrupt, run e2fsck");
            return Err(Errno::EIO);
        }
        set_bit(&mut map, i, false);
        self.put_block(map_block, map)?;
        self.groups[g as usize].bg_free_blocks_count += 1;
        self.sb.s_free_blocks_count += 1;
        self.forget_block(b);
        Ok(())
    }

    /// The group a new inode goes to.
    fn inode_group(&self, parent_group: u32, is_dir: bool) -> u32 {
        let n = self.group_count;
        if !is_dir {
            return (0..n)
                .map(|k| (parent_group + k) % n)
                .find(|&g| self.groups[g as usize].bg_free_inodes_count > 0)
                .unwrap_or(parent_group);
        }
        let avg_inodes = self.sb.s_free_inodes_count / n;
        let avg_blocks = self.sb.s_free_blocks_count / n;
        let good = (0..n).map(|k| (parent_group + k) % n).filter(|&g| {
            let gd = &self.groups[g as usize];
            u32::from(gd.bg_free_inodes_count) >= avg_inodes.max(1)
                && u32::from(gd.bg_free_blocks_count) >= avg_blocks
        });
        good.min_by_key(|&g| self.groups[g as usize].bg_used_dirs_count)
            .unwrap_or_else(|| self.inode_group(parent_group, false))
    }

    /// Allocates an inode near `parent` (see the module doc).
    pub fn alloc_inode(&mut self, parent: u32, is_dir: bool) -> KResult<u32> {
        self.writable()?;
        if self.sb.s_free_inodes_count == 0 {
            return Err(Errno::ENOSPC);
        }
        let ipg = self.sb.s_inodes_per_group;
        let pg = ((parent.max(1) - 1) / ipg).min(self.group_count - 1);
        let first = self.inode_group(pg, is_dir);
        for k in 0..self.group_count {
            let g = (first + k) % self.group_count;
            if self.groups[g as usize].bg_free_inodes_count == 0 {
                continue;
            }
            let map_block = self.groups[g as usize].bg_inode_bitmap;
            let mut map = self.block(map_block)?;
            // Inodes below s_first_ino are reserved.
            let from = if g == 0 {
                self.sb.s_first_ino as usize - 1
            } else {
                0
            };
            let Some(i) = find_zero(&map, from, ipg as usize) else {
                continue;
            };
            let ino = g * ipg + i as u32 + 1;
            if self.inode(ino)?.is_live() {
                tracing::warn!("ext2: the inode bitmap says live inode {ino} is free; run e2fsck");
                return Err(Errno::EIO);
            }
            set_bit(&mut map, i, true);
            self.put_block(map_block, map)?;
            let gd = &mut self.groups[g as usize];
            gd.bg_free_inodes_count -= 1;
            if is_dir {
                gd.bg_used_dirs_count += 1;
            }
            self.sb.s_free_inodes_count -= 1;
            return Ok(ino);
        }
        Err(Errno::ENOSPC)
    }

    pub fn free_inode(&mut self, ino: u32, is_dir: bool) -> KResult<()> {
        if ino < self.sb.s_first_ino || ino > self.sb.s_inodes_count {
            return Err(Errno::EIO);
        }
        let ipg = self.sb.s_inodes_per_group;
        let (g, i) = ((ino - 1) / ipg, ((ino - 1) % ipg) as usize);
        let map_block = self.groups[g as usize].bg_inode_bitmap;
        let mut map = self.block(map_block)?;
        if !bit(&map, i) {
            tracing::warn!("ext2: freeing free inode {ino}; the image is corrupt, run e2fsck");
            return Err(Errno::EIO);
        }
        set_bit(&mut map, i, false);
        self.put_block(map_block, map)?;
        let gd = &mut self.groups[g as usize];
        gd.bg_free_inodes_count += 1;
        if is_dir {
            gd.bg_used_dirs_count = gd.bg_used_dirs_count.saturating_sub(1);
        }
        self.sb.s_free_inodes_count += 1;
        Ok(())
    }
}

/// Bitmap helpers for the orphan view.
pub fn clear_bit(map: &mut [u8], i: usize) {
    set_bit(map, i, false);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_zero_skips_full_bytes_and_respects_limit() {
        let mut m = vec![0xffu8; 8];
        m[5] = 0xef;
        assert_eq!(find_zero(&m, 0, 64), Some(44));
        assert_eq!(find_zero(&m, 45, 64), None);
        assert_eq!(find_zero(&m, 0, 44), None);
    }
}
