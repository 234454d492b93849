//! Logical → physical block mapping through `i_block`: 12 direct blocks,
//! then single, double and triple indirect blocks of `bs / 4` pointers.
//! A zero pointer anywhere on the path is a hole (reads as zeros).

use super::disk::*;
use super::volume::Volume;
use crate::abi::errno::{Errno, KResult};

/// The path to a logical block: the i_block slot, then up to three
/// indices into indirect blocks.
struct Path {
    root: usize,
    idx: [usize; 3],
    depth: usize,
}

impl Volume {
    fn ptrs_per_block(&self) -> u64 {
        (self.bs / 4) as u64
    }

    /// One past the largest logical block a file can have.
    pub fn max_blocks(&self) -> u64 {
        let p = self.ptrs_per_block();
        EXT2_NDIR_BLOCKS as u64 + p + p * p + p * p * p
    }

    fn path(&self, lblk: u64) -> KResult<Path> {
        let p = self.ptrs_per_block();
        let mut n = lblk;
        if n < EXT2_NDIR_BLOCKS as u64 {
            return Ok(Path {
                root: n as usize,
                idx: [0; 3],
                depth: 0,
            });
        }
        n -= EXT2_NDIR_BLOCKS as u64;
        if n < p {
            return Ok(Path {
                root: EXT2_IND_BLOCK,
                idx: [n as usize, 0, 0],
                depth: 1,
            });
        }
        n -= p;
        if n < p * p {
            let idx = [(n / p) as usize, (n % p) as usize, 0];
            return Ok(Path {
                root: EXT2_DIND_BLOCK,
                idx,
                depth: 2,
            });
        }
        n -= p * p;
        if n < p * p * p {
            let idx = [
                (n / (p * p)) as usize,
                (n / p % p) as usize,
                (n % p) as usize,
            ];
            return Ok(Path {
                root: EXT2_TIND_BLOCK,
                idx,
                depth: 3,
            });
        }
        Err(Errno::EFBIG)
    }

    fn check_ptr(&self, b: u32) -> KResult<u32> {
        if b == 0 || self.valid_block(b) {
            Ok(b)
        } else {
            Err(Errno::EIO)
        }
    }

    /// The physical block of logical block `lblk`, or None for a hole.
    pub fn bmap(&mut self, inode: &Inode, lblk: u64) -> KResult<Option<u32>> {
        if inode.i_flags & UNSUPPORTED_I_FLAGS != 0 {
            return Err(Errno::EIO);
        }
        // A block past the largest file is only asked for when i_size is
        // corrupt.
        let path = self.path(lblk).map_err(|_| Errno::EIO)?;
        let mut b = self.check_ptr(inode.i_block[path.root])?;
        for &i in &path.idx[..path.depth] {
            if b == 0 {
                return Ok(None);
            }
            let block = self.block(b)?;
            b = self.check_ptr(read_u32(&block, i * 4))?;
        }
        Ok((b != 0).then_some(b))
    }

    /// A newly allocated block, zeroed in the cache (indirect blocks and
    /// directory blocks).
    fn alloc_zeroed(&mut self, goal: u32, inode: &mut Inode) -> KResult<u32> {
        let b = self.alloc_block(goal)?;
        self.put_block(b, vec![0u8; self.bs])?;
        inode.i_blocks += (self.bs / 512) as u32;
        Ok(b)
    }

    /// The physical block of `lblk`, allocating it (and any missing
    /// indirect blocks) near `goal`. Returns (block, newly allocated). A
    /// new data block is not initialized: the caller writes it whole.
    pub fn bmap_alloc(&mut self, inode: &mut Inode, lblk: u64, goal: u32) -> KResult<(u32, bool)> {
        if inode.i_flags & UNSUPPORTED_I_FLAGS != 0 {
            return Err(Errno::EIO);
        }
        let path = self.path(lblk)?;
        let mut b = self.check_ptr(inode.i_block[path.root])?;
        if path.depth == 0 {
            if b != 0 {
                return Ok((b, false));
            }
            let nb = self.alloc_block(goal)?;
            inode.i_blocks += (self.bs / 512) as u32;
            inode.i_block[path.root] = nb;
            return Ok((nb, true));
        }
        if b == 0 {
            b = self.alloc_zeroed(goal, inode)?;
            inode.i_block[path.root] = b;
        }
        for (level, &i) in path.idx[..path.depth].iter().enumerate() {
            let block = self.block(b)?;
            let next = self.check_ptr(read_u32(&block, i * 4))?;
            if next != 0 {
                b = next;
                continue;
            }
            let last = level + 1 == path.depth;
            let nb = if last {
                let nb = self.alloc_block(goal)?;
                inode.i_blocks += (self.bs / 512) as u32;
                nb
            } else {
                self.alloc_zeroed(goal, inode)?
            };
            self.modify_block(b, |d| write_u32(d, i * 4, nb))?;
            if last {
                return Ok((nb, true));
            }
            b = nb;
        }
        Ok((b, false))
    }

    /// Makes logical block `lblk` a hole again, freeing its block (indirect
    /// blocks stay, possibly empty, which ext2 allows). For a new block
    /// whose data could not be written: it must not stay in the file with
    /// whatever the device held there.
    pub fn unmap_block(&mut self, inode: &mut Inode, lblk: u64) -> KResult<()> {
        let path = self.path(lblk)?;
        let mut b = self.check_ptr(inode.i_block[path.root])?;
        if path.depth == 0 {
            if b != 0 {
                inode.i_block[path.root] = 0;
                self.release(inode, b)?;
            }
            return Ok(());
        }
        for (level, &i) in path.idx[..path.depth].iter().enumerate() {
            if b == 0 {
                return Ok(());
            }
            let ptr = read_u32(&self.block(b)?, i * 4);
            let next = self.check_ptr(ptr)?;
            if level + 1 == path.depth && next != 0 {
                self.modify_block(b, |d| write_u32(d, i * 4, 0))?;
                return self.release(inode, next);
            }
            b = next;
        }
        Ok(())
    }

    /// Frees every block at logical index `keep` and beyond, and indirect
    /// blocks left empty.
    pub fn truncate_blocks(&mut self, inode: &mut Inode, keep: u64) -> KResult<()> {
        for i in (keep.min(EXT2_NDIR_BLOCKS as u64) as usize)..EXT2_NDIR_BLOCKS {
            let b = inode.i_block[i];
            if b != 0 {
                self.release(inode, b)?;
                inode.i_block[i] = 0;
            }
        }
        let p = self.ptrs_per_block();
        let mut base = EXT2_NDIR_BLOCKS as u64;
        for (slot, level) in [
            (EXT2_IND_BLOCK, 1u32),
            (EXT2_DIND_BLOCK, 2),
            (EXT2_TIND_BLOCK, 3),
        ] {
            let span = p.pow(level);
            let b = inode.i_block[slot];
            if b != 0 && keep < base + span && self.free_tree(inode, b, level, base, keep)? {
                inode.i_block[slot] = 0;
            }
            base += span;
        }
        Ok(())
    }

    fn release(&mut self, inode: &mut Inode, b: u32) -> KResult<()> {
        self.free_block(b)?;
        inode.i_blocks = inode.i_blocks.saturating_sub((self.bs / 512) as u32);
        Ok(())
    }

    /// Frees the part of the subtree under indirect block `b` (covering
    /// logical blocks from `base`, `level` levels deep) at or past `keep`.
    /// Returns whether `b` itself was freed.
    fn free_tree(
        &mut self,
        inode: &mut Inode,
        b: u32,
        level: u32,
        base: u64,
        keep: u64,
    ) -> KResult<bool> {
        self.check_ptr(b)?;
        let mut block = self.block(b)?;
        let child_span = self.ptrs_per_block().pow(level - 1);
        let mut changed = false;
        for i in 0..self.bs / 4 {
            let child = read_u32(&block, i * 4);
            let child_base = base + i as u64 * child_span;
            if child == 0 || child_base + child_span <= keep {
                continue;
            }
            let freed = if level == 1 {
                self.check_ptr(child)?;
                self.release(inode, child)?;
                true
            } else {
                self.free_tree(inode, child, level - 1, child_base, keep)?
            };
            if freed {
                write_u32(&mut block, i * 4, 0);
                changed = true;
            }
        }
        if block.iter().all(|&x| x == 0) {
            self.release(inode, b)?;
            return Ok(true);
        }
        if changed {
            self.put_block(b, block)?;
        }
        Ok(false)
    }
}

impl Volume {
    /// Every block a file owns: data and indirect blocks (not for fast
    /// symlinks and device nodes, whose i_block holds no pointers).
    pub fn owned_blocks(&mut self, inode: &Inode) -> KResult<Vec<u32>> {
        let mut out: Vec<u32> = inode.i_block[..EXT2_NDIR_BLOCKS]
            .iter()
            .copied()
            .filter(|&b| b != 0)
            .collect();
        for (slot, level) in [
            (EXT2_IND_BLOCK, 1u32),
            (EXT2_DIND_BLOCK, 2),
            (EXT2_TIND_BLOCK, 3),
        ] {
            let b = inode.i_block[slot];
            if b != 0 {
                self.collect_tree(b, level, &mut out)?;
            }
        }
        for &b in &out {
            self.check_ptr(b)?;
        }
        Ok(out)
    }

    fn collect_tree(&mut self, b: u32, level: u32, out: &mut Vec<u32>) -> KResult<()> {
        self.check_ptr(b)?;
        out.push(b);
        let block = self.block(b)?;
        for i in 0..self.bs / 4 {
            let child = read_u32(&block, i * 4);
            if child == 0 {
                continue;
            }
            if level == 1 {
                out.push(child);
            } else {
                self.collect_tree(child, level - 1, out)?;
            }
        }
        Ok(())
    }
}
