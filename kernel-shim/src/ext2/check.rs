//! Mount-time validation: every number later code divides by, indexes
//! with or allocates from is checked here, so a hostile superblock or
//! group descriptor becomes a clear error instead of a panic, a huge
//! allocation or an access outside the device.

use super::disk::*;
use super::volume::Volume;
use super::Ext2Error;

/// The shape of the file system derived from a validated superblock.
pub struct Geometry {
    pub block_size: usize,
    pub groups: u32,
    pub itable_blocks: u32,
}

fn corrupt(msg: impl Into<String>) -> Ext2Error {
    Ext2Error::Corrupt(msg.into())
}

/// Checks feature flags. Returns whether the volume must be read-only.
pub fn features(sb: &Superblock) -> Result<bool, Ext2Error> {
    if sb.s_feature_incompat & EXT3_FEATURE_INCOMPAT_RECOVER != 0 {
        return Err(Ext2Error::Unsupported(
            "the journal needs recovery; run e2fsck on the image first".into(),
        ));
    }
    let incompat = sb.s_feature_incompat & !EXT2_FEATURE_INCOMPAT_FILETYPE;
    if incompat != 0 {
        return Err(Ext2Error::Unsupported(format!(
            "incompatible features {incompat:#x} (ext4 extents, 64bit, flex_bg, ...); \
             build the image with `mke2fs -t ext2`"
        )));
    }
    let known = EXT2_FEATURE_RO_COMPAT_SPARSE_SUPER
        | EXT2_FEATURE_RO_COMPAT_LARGE_FILE
        | EXT2_FEATURE_RO_COMPAT_BTREE_DIR;
    Ok(sb.s_feature_ro_compat & !known != 0)
}

pub fn geometry(sb: &Superblock, dev_size: u64) -> Result<Geometry, Ext2Error> {
    if sb.s_log_block_size > 6 {
        return Err(corrupt(format!("block size 2^{} KiB", sb.s_log_block_size)));
    }
    let bs = 1024usize << sb.s_log_block_size;
    let isz = usize::from(sb.s_inode_size);
    if !isz.is_power_of_two() || isz < 128 || isz > bs {
        return Err(corrupt(format!("inode size {isz}")));
    }
    let bits = bs as u32 * 8;
    if !(8..=bits).contains(&sb.s_blocks_per_group) || !sb.s_blocks_per_group.is_multiple_of(8) {
        return Err(corrupt(format!(
            "{} blocks per group",
            sb.s_blocks_per_group
        )));
    }
    if sb.s_inodes_per_group == 0 || sb.s_inodes_per_group > bits {
        return Err(corrupt(format!(
            "{} inodes per group",
            sb.s_inodes_per_group
        )));
    }
    if sb.s_first_data_block != u32::from(bs == 1024) {
        return Err(corrupt(format!(
            "first data block {}",
            sb.s_first_data_block
        )));
    }
    if sb.s_blocks_count <= sb.s_first_data_block + 1 {
        return Err(corrupt(format!("{} blocks", sb.s_blocks_count)));
    }
    if u64::from(sb.s_blocks_count) * bs as u64 > dev_size {
        return Err(Ext2Error::Truncated {
            want: u64::from(sb.s_blocks_count) * bs as u64,
            have: dev_size,
        });
    }
    let groups = (sb.s_blocks_count - sb.s_first_data_block).div_ceil(sb.s_blocks_per_group);
    if u64::from(groups) * u64::from(sb.s_inodes_per_group) != u64::from(sb.s_inodes_count) {
        return Err(corrupt(format!(
            "{} inodes but {groups} groups of {}",
            sb.s_inodes_count, sb.s_inodes_per_group
        )));
    }
    if sb.s_first_ino < EXT2_GOOD_OLD_FIRST_INO || sb.s_first_ino > sb.s_inodes_count {
        return Err(corrupt(format!("first inode {}", sb.s_first_ino)));
    }
    if sb.s_free_blocks_count > sb.s_blocks_count || sb.s_free_inodes_count > sb.s_inodes_count {
        return Err(corrupt("free counts larger than the totals"));
    }
    let gdt_blocks = (groups as usize * GroupDesc::SIZE).div_ceil(bs) as u32;
    if sb.s_first_data_block + 1 + gdt_blocks > sb.s_blocks_count {
        return Err(corrupt("group descriptors past the end"));
    }
    Ok(Geometry {
        block_size: bs,
        groups,
        itable_blocks: (sb.s_inodes_per_group as usize * isz).div_ceil(bs) as u32,
    })
}

/// Checks one group descriptor's block numbers and counts.
pub fn group(vol: &Volume, g: u32, gd: &GroupDesc) -> Result<(), Ext2Error> {
    let inside = |b: u32, n: u32| {
        vol.valid_block(b) && u64::from(b) + u64::from(n) <= u64::from(vol.sb.s_blocks_count)
    };
    if !inside(gd.bg_block_bitmap, 1)
        || !inside(gd.bg_inode_bitmap, 1)
        || !inside(gd.bg_inode_table, vol.itable_blocks)
    {
        return Err(corrupt(format!(
            "group {g}: bitmap or inode table outside the disk"
        )));
    }
    if u32::from(gd.bg_free_blocks_count) > vol.sb.s_blocks_per_group
        || u32::from(gd.bg_free_inodes_count) > vol.sb.s_inodes_per_group
    {
        return Err(corrupt(format!(
            "group {g}: free counts larger than the group"
        )));
    }
    Ok(())
}
