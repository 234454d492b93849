//! On-disk structures, named as in the ext2 documentation ("The Second
//! Extended File System", Dave Poirier) and Linux's `ext2_fs.h`.
//!
//! Each structure is parsed from, and written back into, its raw bytes: the
//! raw bytes are kept so fields Wax does not interpret (and bytes past the
//! 128-byte core of an inode) survive a rewrite unchanged.

use super::Ext2Error;

pub const EXT2_SUPER_MAGIC: u16 = 0xef53;
pub const SUPERBLOCK_OFFSET: u64 = 1024;
pub const EXT2_ROOT_INO: u32 = 2;
pub const EXT2_GOOD_OLD_FIRST_INO: u32 = 11;
pub const EXT2_GOOD_OLD_INODE_SIZE: u16 = 128;
pub const EXT2_NDIR_BLOCKS: usize = 12;
pub const EXT2_IND_BLOCK: usize = 12;
pub const EXT2_DIND_BLOCK: usize = 13;
pub const EXT2_TIND_BLOCK: usize = 14;
pub const EXT2_N_BLOCKS: usize = 15;
/// s_state: cleanly unmounted.
pub const EXT2_VALID_FS: u16 = 1;
/// i_flags: the directory has an htree index.
pub const EXT2_INDEX_FL: u32 = 0x1000;
/// i_flags bits this driver cannot honour (extents, inline data).
pub const UNSUPPORTED_I_FLAGS: u32 = 0x0008_0000 | 0x1000_0000;

pub const EXT2_FEATURE_RO_COMPAT_SPARSE_SUPER: u32 = 0x1;
pub const EXT2_FEATURE_RO_COMPAT_LARGE_FILE: u32 = 0x2;
pub const EXT2_FEATURE_RO_COMPAT_BTREE_DIR: u32 = 0x4;
pub const EXT2_FEATURE_INCOMPAT_FILETYPE: u32 = 0x2;
/// Set by ext3/4 while a journal needs recovery.
pub const EXT3_FEATURE_INCOMPAT_RECOVER: u32 = 0x4;

fn u16_at(b: &[u8], i: usize) -> u16 {
    u16::from_le_bytes([b[i], b[i + 1]])
}
fn u32_at(b: &[u8], i: usize) -> u32 {
    u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]])
}
fn put16(b: &mut [u8], i: usize, v: u16) {
    b[i..i + 2].copy_from_slice(&v.to_le_bytes());
}
fn put32(b: &mut [u8], i: usize, v: u32) {
    b[i..i + 4].copy_from_slice(&v.to_le_bytes());
}

/// The fields of `struct ext2_super_block` the driver uses.
#[derive(Clone, Debug)]
pub struct Superblock {
    pub raw: Vec<u8>,
    pub s_inodes_count: u32,
    pub s_blocks_count: u32,
    pub s_r_blocks_count: u32,
    pub s_free_blocks_count: u32,
    pub s_free_inodes_count: u32,
    pub s_first_data_block: u32,
    pub s_log_block_size: u32,
    pub s_blocks_per_group: u32,
    pub s_inodes_per_group: u32,
    pub s_mtime: u32,
    pub s_wtime: u32,
    pub s_mnt_count: u16,
    pub s_state: u16,
    pub s_rev_level: u32,
    pub s_first_ino: u32,
    pub s_inode_size: u16,
    pub s_feature_incompat: u32,
    pub s_feature_ro_compat: u32,
    pub s_want_extra_isize: u16,
}

impl Superblock {
    pub fn parse(raw: &[u8]) -> Result<Superblock, Ext2Error> {
        if raw.len() < 1024 || u16_at(raw, 56) != EXT2_SUPER_MAGIC {
            return Err(Ext2Error::BadMagic);
        }
        let rev = u32_at(raw, 76);
        let (first_ino, inode_size) = if rev == 0 {
            (EXT2_GOOD_OLD_FIRST_INO, EXT2_GOOD_OLD_INODE_SIZE)
        } else {
            (u32_at(raw, 84), u16_at(raw, 88))
        };
        Ok(Superblock {
            raw: raw[..1024].to_vec(),
            s_inodes_count: u32_at(raw, 0),
            s_blocks_count: u32_at(raw, 4),
            s_r_blocks_count: u32_at(raw, 8),
            s_free_blocks_count: u32_at(raw, 12),
            s_free_inodes_count: u32_at(raw, 16),
            s_first_data_block: u32_at(raw, 20),
            s_log_block_size: u32_at(raw, 24),
            s_blocks_per_group: u32_at(raw, 32),
            s_inodes_per_group: u32_at(raw, 40),
            s_mtime: u32_at(raw, 44),
            s_wtime: u32_at(raw, 48),
            s_mnt_count: u16_at(raw, 52),
            s_state: u16_at(raw, 58),
            s_rev_level: rev,
            s_first_ino: first_ino,
            s_inode_size: inode_size,
            s_feature_incompat: if rev == 0 { 0 } else { u32_at(raw, 96) },
            s_feature_ro_compat: if rev == 0 { 0 } else { u32_at(raw, 100) },
            s_want_extra_isize: u16_at(raw, 350),
        })
    }

    /// The raw bytes with every field the driver changes written back.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = self.raw.clone();
        put32(&mut b, 12, self.s_free_blocks_count);
        put32(&mut b, 16, self.s_free_inodes_count);
        put32(&mut b, 44, self.s_mtime);
        put32(&mut b, 48, self.s_wtime);
        put16(&mut b, 52, self.s_mnt_count);
        put16(&mut b, 58, self.s_state);
        if self.s_rev_level > 0 {
            put32(&mut b, 100, self.s_feature_ro_compat);
        }
        b
    }
}

/// `struct ext2_group_desc` (32 bytes).
#[derive(Clone, Copy, Debug, Default)]
pub struct GroupDesc {
    pub bg_block_bitmap: u32,
    pub bg_inode_bitmap: u32,
    pub bg_inode_table: u32,
    pub bg_free_blocks_count: u16,
    pub bg_free_inodes_count: u16,
    pub bg_used_dirs_count: u16,
}

impl GroupDesc {
    pub const SIZE: usize = 32;

    pub fn parse(b: &[u8]) -> GroupDesc {
        GroupDesc {
            bg_block_bitmap: u32_at(b, 0),
            bg_inode_bitmap: u32_at(b, 4),
            bg_inode_table: u32_at(b, 8),
            bg_free_blocks_count: u16_at(b, 12),
            bg_free_inodes_count: u16_at(b, 14),
            bg_used_dirs_count: u16_at(b, 16),
        }
    }

    /// Writes the fields into `b`, leaving the rest of the descriptor.
    pub fn write(&self, b: &mut [u8]) {
        put32(b, 0, self.bg_block_bitmap);
        put32(b, 4, self.bg_inode_bitmap);
        put32(b, 8, self.bg_inode_table);
        put16(b, 12, self.bg_free_blocks_count);
        put16(b, 14, self.bg_free_inodes_count);
        put16(b, 16, self.bg_used_dirs_count);
    }
}

/// A timestamp: seconds since the epoch and nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Time {
    pub sec: i64,
    pub nsec: u32,
}

/// `struct ext2_inode`, plus the nanosecond time fields of the large
/// (256-byte) inode when `i_extra_isize` covers them.
#[derive(Clone, Debug)]
pub struct Inode {
    pub raw: Vec<u8>,
    pub i_mode: u16,
    pub i_uid: u32,
    pub i_size: u64,
    pub i_atime: Time,
    pub i_ctime: Time,
    pub i_mtime: Time,
    pub i_dtime: u32,
    pub i_gid: u32,
    pub i_links_count: u16,
    /// 512-byte sectors in use, indirect blocks included.
    pub i_blocks: u32,
    pub i_flags: u32,
    pub i_block: [u32; EXT2_N_BLOCKS],
    pub i_generation: u32,
    pub i_file_acl: u32,
}

/// Offsets of the *_extra time fields and the smallest i_extra_isize that
/// covers them.
const I_CTIME_EXTRA: usize = 0x84;
const I_MTIME_EXTRA: usize = 0x88;
const I_ATIME_EXTRA: usize = 0x8c;
const EXTRA_TIMES_ISIZE: u16 = 16;

impl Inode {
    /// A zeroed inode of `size` bytes with `extra_isize` set.
    pub fn new(size: usize, extra_isize: u16) -> Inode {
        let mut raw = vec![0u8; size];
        if size > 128 {
            put16(&mut raw, 128, extra_isize);
        }
        Inode::parse(&raw)
    }

    fn extra_isize(raw: &[u8]) -> u16 {
        if raw.len() > 128 {
            u16_at(raw, 128)
        } else {
            0
        }
    }

    fn has_extra_times(raw: &[u8]) -> bool {
        let e = Self::extra_isize(raw);
        e >= EXTRA_TIMES_ISIZE && 128 + usize::from(e) <= raw.len()
    }

    fn time(raw: &[u8], at: usize, extra: usize) -> Time {
        let base = i64::from(u32_at(raw, at) as i32);
        if !Self::has_extra_times(raw) {
            return Time { sec: base, nsec: 0 };
        }
        let x = u32_at(raw, extra);
        Time {
            sec: base + (i64::from(x & 3) << 32),
            nsec: (x >> 2).min(999_999_999),
        }
    }

    fn put_time(raw: &mut [u8], at: usize, extra: usize, t: Time) {
        put32(raw, at, t.sec as u32);
        if Self::has_extra_times(raw) {
            let epoch = ((t.sec - i64::from(t.sec as i32)) >> 32) as u32 & 3;
            put32(raw, extra, (t.nsec << 2) | epoch);
        }
    }

    pub fn parse(raw: &[u8]) -> Inode {
        let mut i_block = [0u32; EXT2_N_BLOCKS];
        for (i, b) in i_block.iter_mut().enumerate() {
            *b = u32_at(raw, 40 + 4 * i);
        }
        let mode = u16_at(raw, 0);
        let high = if mode & 0xf000 == 0x8000 {
            u32_at(raw, 108)
        } else {
            0
        };
        Inode {
            raw: raw.to_vec(),
            i_mode: mode,
            i_uid: u32::from(u16_at(raw, 2)) | (u32::from(u16_at(raw, 120)) << 16),
            i_size: u64::from(u32_at(raw, 4)) | (u64::from(high) << 32),
            i_atime: Self::time(raw, 8, I_ATIME_EXTRA),
            i_ctime: Self::time(raw, 12, I_CTIME_EXTRA),
            i_mtime: Self::time(raw, 16, I_MTIME_EXTRA),
            i_dtime: u32_at(raw, 20),
            i_gid: u32::from(u16_at(raw, 24)) | (u32::from(u16_at(raw, 122)) << 16),
            i_links_count: u16_at(raw, 26),
            i_blocks: u32_at(raw, 28),
            i_flags: u32_at(raw, 32),
            i_block,
            i_generation: u32_at(raw, 100),
            i_file_acl: u32_at(raw, 104),
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = self.raw.clone();
        put16(&mut b, 0, self.i_mode);
        put16(&mut b, 2, self.i_uid as u16);
        put16(&mut b, 120, (self.i_uid >> 16) as u16);
        put32(&mut b, 4, self.i_size as u32);
        if self.is_reg() {
            put32(&mut b, 108, (self.i_size >> 32) as u32);
        }
        Self::put_time(&mut b, 8, I_ATIME_EXTRA, self.i_atime);
        Self::put_time(&mut b, 12, I_CTIME_EXTRA, self.i_ctime);
        Self::put_time(&mut b, 16, I_MTIME_EXTRA, self.i_mtime);
        put32(&mut b, 20, self.i_dtime);
        put16(&mut b, 24, self.i_gid as u16);
        put16(&mut b, 122, (self.i_gid >> 16) as u16);
        put16(&mut b, 26, self.i_links_count);
        put32(&mut b, 28, self.i_blocks);
        put32(&mut b, 32, self.i_flags);
        for (i, v) in self.i_block.iter().enumerate() {
            put32(&mut b, 40 + 4 * i, *v);
        }
        put32(&mut b, 100, self.i_generation);
        put32(&mut b, 104, self.i_file_acl);
        b
    }

    pub fn kind(&self) -> u16 {
        self.i_mode & 0xf000
    }
    pub fn is_dir(&self) -> bool {
        self.kind() == 0x4000
    }
    /// In use: has a type, links and no deletion time (what a free inode
    /// from mke2fs or after deletion never has all of).
    pub fn is_live(&self) -> bool {
        self.i_mode != 0 && self.i_links_count > 0 && self.i_dtime == 0
    }
    pub fn is_reg(&self) -> bool {
        self.kind() == 0x8000
    }
    pub fn is_symlink(&self) -> bool {
        self.kind() == 0xa000
    }
    pub fn is_device(&self) -> bool {
        matches!(self.kind(), 0x2000 | 0x6000)
    }

    /// The i_block bytes (a fast symlink's target lives there).
    pub fn block_bytes(&self) -> [u8; 60] {
        let mut out = [0u8; 60];
        out.copy_from_slice(&self.raw[40..100]);
        for (i, v) in self.i_block.iter().enumerate() {
            out[4 * i..4 * i + 4].copy_from_slice(&v.to_le_bytes());
        }
        out
    }

    pub fn set_block_bytes(&mut self, bytes: &[u8; 60]) {
        for (i, b) in self.i_block.iter_mut().enumerate() {
            *b = u32_at(bytes, 4 * i);
        }
    }

    /// Stores a device number the way Linux does: the old 8:8 form in
    /// i_block[0] when it fits, else the new form in i_block[1].
    pub fn set_rdev(&mut self, rdev: u64) {
        let (major, minor) = (
            ((rdev >> 8) & 0xfff) as u32,
            ((rdev & 0xff) | ((rdev >> 12) & 0xfff00)) as u32,
        );
        self.i_block = [0; EXT2_N_BLOCKS];
        if major < 256 && minor < 256 {
            self.i_block[0] = (major << 8) | minor;
        } else {
            self.i_block[1] = (minor & 0xff) | (major << 8) | ((minor & !0xff) << 12);
        }
    }

    /// A device node's number as Linux encodes it in i_block (old 16-bit
    /// form in i_block[0], new form in i_block[1]).
    pub fn rdev(&self) -> u64 {
        let (old, new) = (self.i_block[0], self.i_block[1]);
        let (major, minor) = if old != 0 {
            ((old >> 8) & 0xff, old & 0xff)
        } else {
            ((new >> 8) & 0xfff, (new & 0xff) | ((new >> 12) & 0xfff00))
        };
        (u64::from(major) << 8) | u64::from(minor & 0xff) | (u64::from(minor & !0xff) << 12)
    }
}

/// `struct ext2_dir_entry_2` header size (inode, rec_len, name_len, type).
pub const DIRENT_HEADER: usize = 8;

/// Space a directory entry with a name of `len` bytes needs (4-aligned).
pub fn rec_len_for(len: usize) -> usize {
    (DIRENT_HEADER + len + 3) & !3
}

/// One parsed `ext2_dir_entry_2`.
#[derive(Clone, Debug)]
pub struct RawDirent<'a> {
    pub inode: u32,
    pub rec_len: usize,
    pub file_type: u8,
    pub name: &'a [u8],
}

/// Parses the entry at `off` of a directory block; `None` if it is
/// malformed (which the caller reports as EIO).
pub fn dirent_at(block: &[u8], off: usize) -> Option<RawDirent<'_>> {
    if off + DIRENT_HEADER > block.len() {
        return None;
    }
    let rec_len = usize::from(u16_at(block, off + 4));
    // A 64 KiB block stores rec_len 65536 as 0 (or 65535).
    let rec_len = if block.len() == 65536 && (rec_len == 0 || rec_len == 65535) {
        65536
    } else {
        rec_len
    };
    let name_len = usize::from(block[off + 6]);
    if rec_len < DIRENT_HEADER || rec_len % 4 != 0 || off + rec_len > block.len() {
        return None;
    }
    if DIRENT_HEADER + name_len > rec_len {
        return None;
    }
    Some(RawDirent {
        inode: u32_at(block, off),
        rec_len,
        file_type: block[off + 7],
        name: &block[off + DIRENT_HEADER..off + DIRENT_HEADER + name_len],
    })
}

/// Writes an entry header and name at `off`.
pub fn put_dirent(block: &mut [u8], off: usize, inode: u32, rec_len: usize, ft: u8, name: &[u8]) {
    put32(block, off, inode);
    put16(block, off + 4, rec_len as u16);
    block[off + 6] = name.len() as u8;
    block[off + 7] = ft;
    block[off + DIRENT_HEADER..off + DIRENT_HEADER + name.len()].copy_from_slice(name);
}

/// Sets only the rec_len of the entry at `off`.
pub fn set_rec_len(block: &mut [u8], off: usize, rec_len: usize) {
    put16(block, off + 4, rec_len as u16);
}

/// Sets only the inode (and type) of the entry at `off`.
pub fn set_dirent_inode(block: &mut [u8], off: usize, inode: u32, ft: u8) {
    put32(block, off, inode);
    block[off + 7] = ft;
}

/// The dirent file_type (EXT2_FT_*) of an i_mode.
pub fn ft_of_mode(mode: u16) -> u8 {
    match mode & 0xf000 {
        0x8000 => 1,
        0x4000 => 2,
        0x2000 => 3,
        0x6000 => 4,
        0x1000 => 5,
        0xc000 => 6,
        0xa000 => 7,
        _ => 0,
    }
}

pub fn read_u32(b: &[u8], i: usize) -> u32 {
    u32_at(b, i)
}

pub fn write_u32(b: &mut [u8], i: usize, v: u32) {
    put32(b, i, v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inode_round_trips_with_nanoseconds() {
        let mut i = Inode::new(256, 32);
        i.i_mode = 0x81a4;
        i.i_uid = 0x12345;
        i.i_size = 5 << 32 | 7;
        i.i_mtime = Time {
            sec: 1 << 33,
            nsec: 123_456_789,
        };
        i.i_atime = Time { sec: -5, nsec: 1 };
        let j = Inode::parse(&i.to_bytes());
        assert_eq!(
            (j.i_uid, j.i_size, j.i_mtime, j.i_atime),
            (i.i_uid, i.i_size, i.i_mtime, i.i_atime)
        );
    }

    #[test]
    fn malformed_dirents_are_rejected() {
        let mut b = vec![0u8; 1024];
        put_dirent(&mut b, 0, 2, 12, 2, b".");
        assert!(dirent_at(&b, 0).is_some());
        set_rec_len(&mut b, 0, 6);
        assert!(dirent_at(&b, 0).is_none());
        set_rec_len(&mut b, 0, 2048);
        assert!(dirent_at(&b, 0).is_none());
    }
}
