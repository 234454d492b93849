//! Wax's ext2 driver: the guest's root file system on a block device.
//!
//! Reads and writes revision 0 and 1 ext2 with any block size from 1 to
//! 64 KiB: direct and indirect block maps, sparse files, directories
//! (htree-indexed ones are read linearly), fast and slow symlinks, hard
//! links, large files, nanosecond timestamps in large inodes, device
//! nodes (read only). Features it cannot honour refuse the mount
//! (incompatible) or make it read-only (unknown ro_compat).
//!
//! Layout of the module: `disk` holds the on-disk structures, `check` the
//! mount-time validation, `volume` the device with its caches and the
//! sync protocol, `alloc` the bitmaps, `bmap` block maps, `dir` directory
//! records, `ops` the operations, `orphan` crash consistency for files
//! unlinked while open. This file adapts the volume to the VFS.
//!
//! Errors: a corrupt structure met at run time is EIO for the guest (and
//! never a panic); mount-time problems are an [`Ext2Error`] for the user.
//! Access times are not updated (as with the `noatime` mount option).

mod alloc;
mod bmap;
mod check;
mod dir;
mod disk;
mod ops;
mod orphan;
mod volume;

use crate::abi::errno::{Errno, KResult};
use crate::abi::rename;
use crate::vfs::{
    Attr, DirEntry, FileHandle, FileSystem, FsType, Ino, NewNode, OpenMode, SetAttr, StatFs,
};
use ops::ino32;
use std::cell::RefCell;
use std::rc::Rc;
use volume::Volume;
use wax_devices::block::{BlockDevice, BlockError};
use wax_devices::{Clock, Timespec};

/// Why an image cannot be mounted.
#[derive(Debug, thiserror::Error)]
pub enum Ext2Error {
    #[error("not an ext2 file system (no ext2 superblock magic)")]
    BadMagic,
    #[error("unsupported ext2 file system: {0}")]
    Unsupported(String),
    #[error("corrupt ext2 file system: {0}; run `e2fsck -f` on the image")]
    Corrupt(String),
    #[error("the image is truncated: the file system needs {want} bytes, the device has {have}")]
    Truncated { want: u64, have: u64 },
    #[error("cannot read the image: {0}")]
    Device(#[from] BlockError),
}

/// A mounted ext2 volume. Clones share the volume (the VFS owns one, the
/// host keeps one to sync at exit).
#[derive(Clone)]
pub struct Ext2Fs {
    vol: Rc<RefCell<Volume>>,
}

impl Ext2Fs {
    /// Mounts the file system on `dev`. `read_only` refuses every write;
    /// a read-only device or unknown ro_compat features imply it.
    pub fn mount(
        dev: Box<dyn BlockDevice>,
        clock: Box<dyn Clock>,
        read_only: bool,
    ) -> Result<Ext2Fs, Ext2Error> {
        let vol = Volume::mount(dev, clock, read_only)?;
        Ok(Ext2Fs {
            vol: Rc::new(RefCell::new(vol)),
        })
    }

    pub fn is_read_only(&self) -> bool {
        self.vol.borrow().read_only
    }

    /// Writes everything back and flushes the device (the file system is
    /// consistent on the device afterwards). ENOSPC or EIO when the device
    /// failed; the device then holds the state of the last successful sync
    /// (see `volume`).
    pub fn sync(&self) -> KResult<()> {
        self.vol.borrow_mut().sync()
    }

    /// The device's last failure, with the host's words, if any.
    pub fn device_error(&self) -> Option<BlockError> {
        self.vol.borrow().device_error().cloned()
    }

    /// Realtime at which the last successful sync ended, if one did since
    /// the mount (before it, the device held what it held at the mount).
    pub fn last_durable(&self) -> Option<Timespec> {
        self.vol.borrow().last_durable()
    }

    /// Runs a changing operation, then the lazy periodic writeback.
    fn change<R>(&self, f: impl FnOnce(&mut Volume) -> KResult<R>) -> KResult<R> {
        let mut v = self.vol.borrow_mut();
        let r = f(&mut v)?;
        v.maybe_writeback();
        Ok(r)
    }
}

impl FileSystem for Ext2Fs {
    fn root(&self) -> Ino {
        Ino::from(disk::EXT2_ROOT_INO)
    }

    fn lookup(&mut self, dir: Ino, name: &[u8]) -> KResult<Ino> {
        self.vol
            .borrow_mut()
            .lookup(ino32(dir)?, name)
            .map(Ino::from)
    }

    fn getattr(&mut self, ino: Ino) -> KResult<Attr> {
        self.vol.borrow_mut().getattr(ino32(ino)?)
    }

    fn setattr(&mut self, ino: Ino, set: &SetAttr) -> KResult<()> {
        let ino = ino32(ino)?;
        self.change(|v| v.setattr(ino, set))
    }

    fn open(&mut self, ino: Ino, how: OpenMode) -> KResult<Box<dyn FileHandle>> {
        let ino = ino32(ino)?;
        let mut v = self.vol.borrow_mut();
        let i = v.inode(ino)?;
        if i.is_dir() && how.write {
            return Err(Errno::EISDIR);
        }
        if how.write || how.truncate {
            v.writable()?;
        }
        if how.truncate && how.write && i.is_reg() && i.i_size > 0 {
            v.truncate(ino, 0)?;
        }
        *v.open.entry(ino).or_insert(0) += 1;
        Ok(Box::new(Ext2File {
            vol: self.vol.clone(),
            ino,
            append: how.append,
        }))
    }

    fn readdir(&mut self, dir: Ino) -> KResult<Vec<DirEntry>> {
        self.vol.borrow_mut().readdir(ino32(dir)?)
    }

    fn readlink(&mut self, ino: Ino) -> KResult<Vec<u8>> {
        self.vol.borrow_mut().readlink(ino32(ino)?)
    }

    fn create(&mut self, dir: Ino, name: &[u8], node: &NewNode) -> KResult<Ino> {
        let dir = ino32(dir)?;
        self.change(|v| v.create(dir, name, node)).map(Ino::from)
    }

    fn mkdir(&mut self, dir: Ino, name: &[u8], node: &NewNode) -> KResult<Ino> {
        let dir = ino32(dir)?;
        self.change(|v| v.mkdir(dir, name, node)).map(Ino::from)
    }

    fn symlink(&mut self, dir: Ino, name: &[u8], target: &[u8], node: &NewNode) -> KResult<Ino> {
        let dir = ino32(dir)?;
        self.change(|v| v.symlink(dir, name, target, node))
            .map(Ino::from)
    }

    fn link(&mut self, ino: Ino, dir: Ino, name: &[u8]) -> KResult<()> {
        let (ino, dir) = (ino32(ino)?, ino32(dir)?);
        self.change(|v| v.link(ino, dir, name))
    }

    fn unlink(&mut self, dir: Ino, name: &[u8]) -> KResult<()> {
        let dir = ino32(dir)?;
        self.change(|v| v.unlink(dir, name))
    }

    fn rmdir(&mut self, dir: Ino, name: &[u8]) -> KResult<()> {
        let dir = ino32(dir)?;
        self.change(|v| v.rmdir(dir, name))
    }

    fn rename(
        &mut self,
        odir: Ino,
        oname: &[u8],
        ndir: Ino,
        nname: &[u8],
        flags: u32,
    ) -> KResult<()> {
        let (odir, ndir) = (ino32(odir)?, ino32(ndir)?);
        // Partial: RENAME_EXCHANGE and RENAME_WHITEOUT are not supported.
        if flags & !rename::RENAME_NOREPLACE != 0 {
            return Err(Errno::EINVAL);
        }
        let noreplace = flags & rename::RENAME_NOREPLACE != 0;
        self.change(|v| {
            if noreplace && v.lookup(ndir, nname).is_ok() {
                return Err(Errno::EEXIST);
            }
            v.rename(odir, oname, ndir, nname)
        })
    }

    /// Only this driver writes the volume while it is mounted.
    fn stable_dirs(&self) -> bool {
        true
    }

    fn fs_type(&self) -> FsType {
        FsType {
            name: "ext2",
            magic: u32::from(disk::EXT2_SUPER_MAGIC),
        }
    }

    fn sync(&mut self) -> KResult<()> {
        self.vol.borrow_mut().sync()
    }

    fn durable_ticket(&mut self) -> Option<u64> {
        self.vol.borrow_mut().durable_ticket()
    }

    fn durability(&mut self, ticket: u64) -> Option<KResult<()>> {
        self.vol.borrow_mut().durability(ticket)
    }

    fn statfs(&mut self) -> KResult<StatFs> {
        Ok(self.vol.borrow_mut().statfs())
    }
}

/// An open ext2 file.
struct Ext2File {
    vol: Rc<RefCell<Volume>>,
    ino: u32,
    append: bool,
}

impl FileHandle for Ext2File {
    fn read_at(&mut self, off: u64, buf: &mut [u8]) -> KResult<usize> {
        self.vol.borrow_mut().read(self.ino, off, buf)
    }

    fn write_at(&mut self, off: u64, buf: &[u8]) -> KResult<usize> {
        let mut v = self.vol.borrow_mut();
        let off = if self.append {
            v.inode(self.ino)?.i_size
        } else {
            off
        };
        let n = v.write(self.ino, off, buf)?;
        v.maybe_writeback();
        Ok(n)
    }

    fn set_len(&mut self, len: u64) -> KResult<()> {
        let mut v = self.vol.borrow_mut();
        v.truncate(self.ino, len)?;
        v.maybe_writeback();
        Ok(())
    }

    fn sync(&mut self) -> KResult<()> {
        self.vol.borrow_mut().sync()
    }
}

impl Drop for Ext2File {
    fn drop(&mut self) {
        let Ok(mut v) = self.vol.try_borrow_mut() else {
            tracing::warn!("ext2: inode {} closed during a file system call", self.ino);
            return;
        };
        let left = match v.open.get_mut(&self.ino) {
            Some(n) => {
                *n -= 1;
                *n
            }
            None => return,
        };
        if left == 0 {
            v.open.remove(&self.ino);
            if v.orphans.contains(&self.ino) {
                if let Err(e) = v.release_if_unused(self.ino) {
                    tracing::warn!("ext2: freeing unlinked inode {}: {}", self.ino, e.text());
                }
            }
        }
    }
}
