//! The file system operations on a volume: names (lookup, create, link,
//! unlink, rename), attributes, and file contents.
//!
//! Every operation that changes something rereads the inodes it touches
//! right before changing them and writes them back at once, so two names
//! for one inode (the same directory as source and target of a rename)
//! never work on stale copies.

use super::disk::*;
use super::volume::{Volume, DENTRY_CACHE};
use crate::abi::errno::{Errno, KResult};
use crate::abi::mode;
use crate::vfs::{Attr, DirEntry, FileType, NewNode, SetAttr, StatFs};
use wax_devices::Timespec;

/// EXT2_LINK_MAX.
const LINK_MAX: u16 = 32000;
/// How far a rename walks up ".." looking for a loop before giving up.
const MAX_DEPTH: usize = 65536;

fn ts(t: Time) -> Timespec {
    Timespec {
        sec: t.sec,
        nsec: t.nsec,
    }
}

fn time_of(t: Timespec) -> Time {
    Time {
        sec: t.sec,
        nsec: t.nsec,
    }
}

fn check_name(name: &[u8]) -> KResult<()> {
    if name.len() > 255 {
        return Err(Errno::ENAMETOOLONG);
    }
    if name.is_empty() || name == b"." || name == b".." || name.contains(&b'/') || name.contains(&0)
    {
        return Err(Errno::EINVAL);
    }
    Ok(())
}

pub fn ino32(ino: u64) -> KResult<u32> {
    u32::try_from(ino).map_err(|_| Errno::ENOENT)
}

impl Volume {
    /// Whether i_block holds block pointers (not a fast symlink's target
    /// or a device number).
    pub fn has_block_pointers(&self, inode: &Inode) -> bool {
        if inode.is_device() || matches!(inode.kind(), 0x1000 | 0xc000) {
            return false;
        }
        if inode.is_symlink() {
            let ea = if inode.i_file_acl != 0 {
                (self.bs / 512) as u32
            } else {
                0
            };
            return inode.i_blocks > ea;
        }
        true
    }

    pub fn dir_inode(&mut self, ino: u32) -> KResult<Inode> {
        let i = self.inode(ino)?;
        if !i.is_dir() {
            return Err(Errno::ENOTDIR);
        }
        Ok(i)
    }

    pub fn lookup(&mut self, dir: u32, name: &[u8]) -> KResult<u32> {
        if let Some(&hit) = self.dentries.get(&(dir, name.to_vec())) {
            return hit.ok_or(Errno::ENOENT);
        }
        let d = self.dir_inode(dir)?;
        let found = self.find_entry(&d, name)?.map(|s| s.ino);
        self.dentries.put((dir, name.to_vec()), found);
        found.ok_or(Errno::ENOENT)
    }

    pub fn getattr(&mut self, ino: u32) -> KResult<Attr> {
        let i = self.inode(ino)?;
        if i.i_mode == 0 && i.i_links_count == 0 {
            return Err(Errno::ENOENT);
        }
        Ok(Attr {
            dev: 0x0800,
            ino: u64::from(ino),
            mode: u32::from(i.i_mode),
            nlink: u32::from(i.i_links_count),
            uid: i.i_uid,
            gid: i.i_gid,
            rdev: if i.is_device() { i.rdev() } else { 0 },
            size: i.i_size,
            blksize: self.bs as u32,
            blocks: u64::from(i.i_blocks),
            atime: ts(i.i_atime),
            mtime: ts(i.i_mtime),
            ctime: ts(i.i_ctime),
        })
    }

    pub fn readdir(&mut self, dir: u32) -> KResult<Vec<DirEntry>> {
        let d = self.dir_inode(dir)?;
        let filetype = self.sb.s_feature_incompat & EXT2_FEATURE_INCOMPAT_FILETYPE != 0;
        let mut out = Vec::new();
        let entries = self.entries(&d)?;
        // Listing a directory is mostly followed by a lookup of each name
        // (ls -l, find, du): the names go to the dentry cache, so those
        // do not scan the directory again, unless there are so many
        // that they would push most of the cache out.
        let remember = entries.len() <= DENTRY_CACHE / 4;
        for (name, ino, ft) in entries {
            if name == b"." || name == b".." {
                continue;
            }
            if remember {
                self.dentries.put((dir, name.clone()), Some(ino));
            }
            let kind = if filetype {
                match ft {
                    1 => FileType::Regular,
                    2 => FileType::Directory,
                    3 => FileType::CharDevice,
                    4 => FileType::BlockDevice,
                    5 => FileType::Fifo,
                    6 => FileType::Socket,
                    7 => FileType::Symlink,
                    _ => FileType::Unknown,
                }
            } else {
                FileType::from_mode(u32::from(self.inode(ino)?.i_mode))
            };
            out.push(DirEntry {
                ino: u64::from(ino),
                kind,
                name,
            });
        }
        Ok(out)
    }

    pub fn readlink(&mut self, ino: u32) -> KResult<Vec<u8>> {
        let i = self.inode(ino)?;
        if !i.is_symlink() {
            return Err(Errno::EINVAL);
        }
        if i.i_size >= self.bs as u64 {
            return Err(Errno::EIO);
        }
        let len = i.i_size as usize;
        if !self.has_block_pointers(&i) {
            return i
                .block_bytes()
                .get(..len)
                .map(<[u8]>::to_vec)
                .ok_or(Errno::EIO);
        }
        let b = self.bmap(&i, 0)?.ok_or(Errno::EIO)?;
        Ok(self.block(b)?[..len].to_vec())
    }

    pub fn statfs(&mut self) -> StatFs {
        let sb = &self.sb;
        StatFs {
            f_type: u32::from(EXT2_SUPER_MAGIC),
            f_bsize: self.bs as u32,
            f_blocks: u64::from(sb.s_blocks_count),
            f_bfree: u64::from(sb.s_free_blocks_count),
            f_bavail: u64::from(sb.s_free_blocks_count.saturating_sub(sb.s_r_blocks_count)),
            f_files: u64::from(sb.s_inodes_count),
            f_ffree: u64::from(sb.s_free_inodes_count),
            f_namelen: 255,
        }
    }

    /// A fresh inode of type and permissions `mode` near directory `dir`.
    fn new_inode(&mut self, dir: u32, mode: u32, node: &NewNode) -> KResult<(u32, Inode)> {
        let is_dir = mode & mode::S_IFMT == mode::S_IFDIR;
        let ino = self.alloc_inode(dir, is_dir)?;
        let isz = usize::from(self.sb.s_inode_size);
        let extra = if isz > 128 {
            self.sb.s_want_extra_isize.clamp(16, (isz - 128) as u16)
        } else {
            0
        };
        let mut i = Inode::new(isz, extra);
        let parent = self.inode(dir)?;
        let now = self.now();
        i.i_mode = mode as u16;
        (i.i_uid, i.i_gid) = (node.uid, node.gid);
        if parent.i_mode & 0o2000 != 0 {
            // A set-group-ID directory passes its group (and, to
            // directories, the bit) on.
            i.i_gid = parent.i_gid;
            if is_dir {
                i.i_mode |= 0o2000;
            }
        }
        (i.i_atime, i.i_mtime, i.i_ctime) = (now, now, now);
        i.i_generation = now.nsec ^ ino;
        i.i_links_count = 1;
        Ok((ino, i))
    }

    /// Fails with EEXIST if `name` exists in `dir`.
    fn check_absent(&mut self, dir: u32, name: &[u8]) -> KResult<Inode> {
        check_name(name)?;
        self.writable()?;
        match self.lookup(dir, name) {
            Ok(_) => Err(Errno::EEXIST),
            Err(Errno::ENOENT) => self.dir_inode(dir),
            Err(e) => Err(e),
        }
    }

    pub fn create(&mut self, dir: u32, name: &[u8], node: &NewNode) -> KResult<u32> {
        let mut d = self.check_absent(dir, name)?;
        let mode = match node.mode & mode::S_IFMT {
            0 => node.mode | mode::S_IFREG,
            mode::S_IFDIR | mode::S_IFLNK => return Err(Errno::EINVAL),
            _ => node.mode,
        };
        let (ino, mut i) = self.new_inode(dir, mode, node)?;
        if i.is_device() {
            i.set_rdev(node.rdev);
        }
        self.put_inode(ino, &i)?;
        self.add_entry(dir, &mut d, name, ino, ft_of_mode(i.i_mode))?;
        Ok(ino)
    }

    pub fn mkdir(&mut self, dir: u32, name: &[u8], node: &NewNode) -> KResult<u32> {
        let d = self.check_absent(dir, name)?;
        if d.i_links_count >= LINK_MAX {
            return Err(Errno::EMLINK);
        }
        let (ino, mut i) = self.new_inode(dir, mode::S_IFDIR | (node.mode & 0o7777), node)?;
        let goal = self.groups[((ino - 1) / self.sb.s_inodes_per_group) as usize].bg_inode_table;
        let (b, _) = self.bmap_alloc(&mut i, 0, goal + self.itable_blocks)?;
        let block = self.new_dir_block(ino, dir);
        self.put_block(b, block)?;
        i.i_size = self.bs as u64;
        i.i_links_count = 2;
        self.put_inode(ino, &i)?;
        let mut d = self.inode(dir)?;
        d.i_links_count += 1;
        self.add_entry(dir, &mut d, name, ino, 2)?;
        Ok(ino)
    }

    pub fn symlink(
        &mut self,
        dir: u32,
        name: &[u8],
        target: &[u8],
        node: &NewNode,
    ) -> KResult<u32> {
        if target.is_empty() {
            return Err(Errno::ENOENT);
        }
        if target.len() >= self.bs.min(4096) {
            return Err(Errno::ENAMETOOLONG);
        }
        let mut d = self.check_absent(dir, name)?;
        let (ino, mut i) = self.new_inode(dir, mode::S_IFLNK | 0o777, node)?;
        if target.len() < 60 {
            let mut bytes = [0u8; 60];
            bytes[..target.len()].copy_from_slice(target);
            i.set_block_bytes(&bytes);
        } else {
            let (b, _) = self.bmap_alloc(&mut i, 0, 0)?;
            let mut data = vec![0u8; self.bs];
            data[..target.len()].copy_from_slice(target);
            self.put_block(b, data)?;
        }
        i.i_size = target.len() as u64;
        self.put_inode(ino, &i)?;
        self.add_entry(dir, &mut d, name, ino, 7)?;
        Ok(ino)
    }

    pub fn link(&mut self, ino: u32, dir: u32, name: &[u8]) -> KResult<()> {
        let mut d = self.check_absent(dir, name)?;
        let mut i = self.inode(ino)?;
        if i.is_dir() {
            return Err(Errno::EPERM);
        }
        if i.i_links_count >= LINK_MAX {
            return Err(Errno::EMLINK);
        }
        i.i_links_count += 1;
        i.i_ctime = self.now();
        self.put_inode(ino, &i)?;
        self.add_entry(dir, &mut d, name, ino, ft_of_mode(i.i_mode))
    }

    pub fn unlink(&mut self, dir: u32, name: &[u8]) -> KResult<()> {
        self.writable()?;
        let mut d = self.dir_inode(dir)?;
        let slot = self.find_entry(&d, name)?.ok_or(Errno::ENOENT)?;
        if self.inode(slot.ino)?.is_dir() {
            return Err(Errno::EISDIR);
        }
        self.remove_entry(dir, &mut d, name, slot)?;
        self.drop_link(slot.ino)
    }

    /// One name fewer for `ino`; the inode goes when no name and no open
    /// handle is left.
    fn drop_link(&mut self, ino: u32) -> KResult<()> {
        let mut i = self.inode(ino)?;
        i.i_links_count = i.i_links_count.saturating_sub(1);
        i.i_ctime = self.now();
        self.put_inode(ino, &i)?;
        if i.i_links_count == 0 {
            self.release_if_unused(ino)?;
        }
        Ok(())
    }

    /// Frees `ino` if it has no links and no open handles, else keeps it
    /// as an orphan.
    pub fn release_if_unused(&mut self, ino: u32) -> KResult<()> {
        if self.open.get(&ino).copied().unwrap_or(0) > 0 {
            self.orphans.insert(ino);
            return Ok(());
        }
        self.orphans.remove(&ino);
        self.destroy(ino)
    }

    /// Frees an unlinked inode and everything it owns.
    fn destroy(&mut self, ino: u32) -> KResult<()> {
        let mut i = self.inode(ino)?;
        if self.has_block_pointers(&i) {
            self.truncate_blocks(&mut i, 0)?;
        }
        if i.i_file_acl != 0 {
            self.release_xattr_block(&mut i)?;
        }
        i.i_size = 0;
        i.i_links_count = 0;
        i.i_dtime = self.now().sec.max(1) as u32;
        self.put_inode(ino, &i)?;
        self.free_inode(ino, i.is_dir())
    }

    /// Drops this inode's reference to its shared xattr block.
    fn release_xattr_block(&mut self, i: &mut Inode) -> KResult<()> {
        let b = i.i_file_acl;
        i.i_file_acl = 0;
        if !self.valid_block(b) {
            return Err(Errno::EIO);
        }
        let refs = read_u32(&self.block(b)?, 4);
        if refs > 1 {
            self.modify_block(b, |d| write_u32(d, 4, refs - 1))?;
        } else {
            self.free_block(b)?;
        }
        i.i_blocks = i.i_blocks.saturating_sub((self.bs / 512) as u32);
        Ok(())
    }

    pub fn rmdir(&mut self, dir: u32, name: &[u8]) -> KResult<()> {
        self.writable()?;
        if name == b"." {
            return Err(Errno::EINVAL);
        }
        if name == b".." {
            return Err(Errno::ENOTEMPTY);
        }
        let mut d = self.dir_inode(dir)?;
        let slot = self.find_entry(&d, name)?.ok_or(Errno::ENOENT)?;
        let victim = self.dir_inode(slot.ino)?;
        if !self.dir_is_empty(&victim)? {
            return Err(Errno::ENOTEMPTY);
        }
        self.remove_entry(dir, &mut d, name, slot)?;
        d = self.inode(dir)?;
        d.i_links_count = d.i_links_count.saturating_sub(1);
        self.put_inode(dir, &d)?;
        self.destroy(slot.ino)
    }

    /// Fails with EINVAL if `dir` is `moved` or lies below it.
    fn check_not_below(&mut self, moved: u32, mut dir: u32) -> KResult<()> {
        for _ in 0..MAX_DEPTH {
            if dir == moved {
                return Err(Errno::EINVAL);
            }
            if dir == EXT2_ROOT_INO {
                return Ok(());
            }
            let d = self.dir_inode(dir)?;
            dir = self.find_entry(&d, b"..")?.ok_or(Errno::EIO)?.ino;
        }
        Err(Errno::EIO)
    }

    pub fn rename(&mut self, odir: u32, oname: &[u8], ndir: u32, nname: &[u8]) -> KResult<()> {
        check_name(nname)?;
        self.writable()?;
        let od = self.dir_inode(odir)?;
        let src = self.find_entry(&od, oname)?.ok_or(Errno::ENOENT)?;
        if odir == ndir && oname == nname {
            return Ok(());
        }
        let sino = src.ino;
        let s_is_dir = self.inode(sino)?.is_dir();
        if s_is_dir && odir != ndir {
            self.check_not_below(sino, ndir)?;
        }
        let nd = self.dir_inode(ndir)?;
        let ft = ft_of_mode(self.inode(sino)?.i_mode);
        match self.find_entry(&nd, nname)? {
            Some(dst) if dst.ino == sino => return Ok(()),
            Some(dst) => self.replace_target(ndir, nname, dst, sino, ft, s_is_dir)?,
            None => {
                if s_is_dir && odir != ndir && nd.i_links_count >= LINK_MAX {
                    return Err(Errno::EMLINK);
                }
                let mut nd = nd;
                self.add_entry(ndir, &mut nd, nname, sino, ft)?;
            }
        }
        let mut od = self.inode(odir)?;
        let slot = self.find_entry(&od, oname)?.ok_or(Errno::EIO)?;
        self.remove_entry(odir, &mut od, oname, slot)?;
        if s_is_dir && odir != ndir {
            let s = self.inode(sino)?;
            let dotdot = self.find_entry(&s, b"..")?.ok_or(Errno::EIO)?;
            self.retarget_entry(dotdot, ndir, 2)?;
            self.dentries.put((sino, b"..".to_vec()), Some(ndir));
            let mut od = self.inode(odir)?;
            od.i_links_count = od.i_links_count.saturating_sub(1);
            self.put_inode(odir, &od)?;
            let mut nd = self.inode(ndir)?;
            nd.i_links_count += 1;
            self.put_inode(ndir, &nd)?;
        }
        let mut s = self.inode(sino)?;
        s.i_ctime = self.now();
        self.put_inode(sino, &s)
    }

    /// Rename onto an existing name: point it at the source, then drop
    /// the old target.
    fn replace_target(
        &mut self,
        ndir: u32,
        nname: &[u8],
        dst: super::dir::Slot,
        sino: u32,
        ft: u8,
        s_is_dir: bool,
    ) -> KResult<()> {
        let t = self.inode(dst.ino)?;
        match (s_is_dir, t.is_dir()) {
            (true, false) => return Err(Errno::ENOTDIR),
            (false, true) => return Err(Errno::EISDIR),
            (true, true) if !self.dir_is_empty(&t)? => return Err(Errno::ENOTEMPTY),
            _ => {}
        }
        self.retarget_entry(dst, sino, ft)?;
        self.dentries.put((ndir, nname.to_vec()), Some(sino));
        let mut nd = self.inode(ndir)?;
        let now = self.now();
        (nd.i_mtime, nd.i_ctime) = (now, now);
        if t.is_dir() {
            // The replaced directory's ".." no longer counts.
            nd.i_links_count = nd.i_links_count.saturating_sub(1);
            self.put_inode(ndir, &nd)?;
            let mut t = t;
            t.i_links_count = 0;
            self.put_inode(dst.ino, &t)?;
            return self.release_if_unused(dst.ino);
        }
        self.put_inode(ndir, &nd)?;
        self.drop_link(dst.ino)
    }

    pub fn setattr(&mut self, ino: u32, set: &SetAttr) -> KResult<()> {
        self.writable()?;
        if let Some(size) = set.size {
            self.truncate(ino, size)?;
        }
        let mut i = self.inode(ino)?;
        if let Some(m) = set.mode {
            i.i_mode = (i.i_mode & 0xf000) | (m & 0o7777) as u16;
        }
        if let Some(u) = set.uid {
            i.i_uid = u;
        }
        if let Some(g) = set.gid {
            i.i_gid = g;
        }
        if let Some(t) = set.atime {
            i.i_atime = time_of(t);
        }
        if let Some(t) = set.mtime {
            i.i_mtime = time_of(t);
        }
        i.i_ctime = self.now();
        self.put_inode(ino, &i)
    }

    fn set_size(&mut self, i: &mut Inode, size: u64) {
        i.i_size = size;
        if size > i32::MAX as u64
            && self.sb.s_feature_ro_compat & EXT2_FEATURE_RO_COMPAT_LARGE_FILE == 0
        {
            self.sb.s_feature_ro_compat |= EXT2_FEATURE_RO_COMPAT_LARGE_FILE;
        }
    }

    pub fn truncate(&mut self, ino: u32, size: u64) -> KResult<()> {
        self.writable()?;
        let mut i = self.inode(ino)?;
        if i.is_dir() {
            return Err(Errno::EISDIR);
        }
        if !i.is_reg() {
            return Err(Errno::EINVAL);
        }
        if size.div_ceil(self.bs as u64) > self.max_blocks() {
            return Err(Errno::EFBIG);
        }
        if size < i.i_size {
            let bs = self.bs as u64;
            self.truncate_blocks(&mut i, size.div_ceil(bs))?;
            // Zero the tail of a partial last block, so growing the file
            // again reads zeros there.
            if !size.is_multiple_of(bs) {
                if let Some(b) = self.bmap(&i, size / bs)? {
                    let mut data = vec![0u8; self.bs];
                    self.read_data(b, &mut data)?;
                    data[(size % bs) as usize..].fill(0);
                    self.write_data(b, &data)?;
                }
            }
        }
        self.set_size(&mut i, size);
        let now = self.now();
        (i.i_mtime, i.i_ctime) = (now, now);
        self.put_inode(ino, &i)
    }

    /// Reads file data at `off`; short at end of file. As in Linux, a
    /// corrupt block met after some bytes were read ends the read short;
    /// the next read, starting there, gets EIO.
    pub fn read(&mut self, ino: u32, off: u64, buf: &mut [u8]) -> KResult<usize> {
        let i = self.inode(ino)?;
        if i.is_dir() {
            return Err(Errno::EISDIR);
        }
        if off >= i.i_size {
            return Ok(0);
        }
        let n = ((i.i_size - off).min(buf.len() as u64)) as usize;
        let mut done = 0;
        match self.read_into(&i, off, &mut buf[..n], &mut done) {
            Ok(()) => Ok(n),
            Err(_) if done > 0 => Ok(done),
            Err(e) => Err(e),
        }
    }

    /// Fills `buf` from file offset `off`, counting progress in `done`.
    fn read_into(&mut self, i: &Inode, off: u64, buf: &mut [u8], done: &mut usize) -> KResult<()> {
        let bs = self.bs;
        let n = buf.len();
        while *done < n {
            let pos = off + *done as u64;
            let lblk = pos / bs as u64;
            let at = (pos % bs as u64) as usize;
            let phys = self.bmap(i, lblk)?;
            if at == 0 && n - *done >= bs {
                // A run of whole blocks that are contiguous on disk (or
                // all holes) in one device read; a bad pointer ends it.
                let mut run = 1;
                while run < 256 && (run + 1) * bs <= n - *done {
                    let Ok(next) = self.bmap(i, lblk + run as u64) else {
                        break;
                    };
                    let contiguous = match (phys, next) {
                        (Some(p), Some(q)) => q == p + run as u32,
                        (None, None) => true,
                        _ => false,
                    };
                    if !contiguous {
                        break;
                    }
                    run += 1;
                }
                let out = &mut buf[*done..*done + run * bs];
                match phys {
                    Some(p) => self.read_data(p, out)?,
                    None => out.fill(0),
                }
                *done += run * bs;
                continue;
            }
            let len = (bs - at).min(n - *done);
            let mut data = vec![0u8; bs];
            if let Some(p) = phys {
                self.read_data(p, &mut data)?;
            }
            buf[*done..*done + len].copy_from_slice(&data[at..at + len]);
            *done += len;
        }
        Ok(())
    }

    /// Writes file data at `off`, allocating blocks next to the previous
    /// ones. A failure after some bytes were written returns their count.
    pub fn write(&mut self, ino: u32, off: u64, buf: &[u8]) -> KResult<usize> {
        self.writable()?;
        let mut i = self.inode(ino)?;
        if !i.is_reg() {
            return Err(Errno::EINVAL);
        }
        let bs = self.bs;
        let mut done = 0;
        let mut goal = self.first_goal(ino, &i, off)?;
        let mut result = Ok(());
        while done < buf.len() {
            let pos = off + done as u64;
            let lblk = pos / bs as u64;
            let at = (pos % bs as u64) as usize;
            let len = (bs - at).min(buf.len() - done);
            if lblk >= self.max_blocks() {
                result = Err(Errno::EFBIG);
                break;
            }
            let (b, new) = match self.bmap_alloc(&mut i, lblk, goal) {
                Ok(x) => x,
                Err(e) => {
                    result = Err(e);
                    break;
                }
            };
            if let Err(e) = self.write_block_part(b, new, at, &buf[done..done + len]) {
                // The path to it was just walked (cached), so this cannot
                // fail for want of a read; if it did, the inode must still
                // be stored below to match the bitmaps.
                if new && self.unmap_block(&mut i, lblk).is_err() {
                    tracing::warn!("ext2: inode {ino}: block {b} kept after a failed write");
                }
                result = Err(e);
                break;
            }
            goal = b + 1;
            done += len;
        }
        if done > 0 {
            let end = off + done as u64;
            if end > i.i_size {
                self.set_size(&mut i, end);
            }
            let now = self.now();
            (i.i_mtime, i.i_ctime) = (now, now);
        }
        self.put_inode(ino, &i)?;
        match result {
            Err(e) if done == 0 => Err(e),
            _ => Ok(done),
        }
    }

    /// Writes `data` at byte `at` of block `b` (a new block's other bytes
    /// are zero).
    fn write_block_part(&mut self, b: u32, new: bool, at: usize, data: &[u8]) -> KResult<()> {
        if data.len() == self.bs {
            return self.write_data(b, data);
        }
        let mut block = vec![0u8; self.bs];
        if !new {
            self.read_data(b, &mut block)?;
        }
        block[at..at + data.len()].copy_from_slice(data);
        self.write_data(b, &block)
    }

    /// Where to look for the first new block of a write at `off`: after
    /// the block before it, else at the start of the inode's group.
    fn first_goal(&mut self, ino: u32, i: &Inode, off: u64) -> KResult<u32> {
        let lblk = off / self.bs as u64;
        if lblk > 0 {
            if let Some(b) = self.bmap(i, lblk - 1)? {
                return Ok(b + 1);
            }
        }
        let g = ((ino - 1) / self.sb.s_inodes_per_group) as usize;
        Ok(self.groups[g].bg_inode_table + self.itable_blocks)
    }
}
