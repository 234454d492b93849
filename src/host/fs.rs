//! The host directory as the guest's root file system.
//!
//! Nodes are interned paths relative to the root directory. The kernel
//! walks guest paths itself (following symlinks inside the guest root), so
//! every path this file system is asked about is a chain of real
//! directories below the root that the kernel has already looked up; it
//! never follows a symlink on the host's behalf (lstat, O_NOFOLLOW).
//! A rename updates the moved node's path but not those of nodes below a
//! moved directory (they are looked up again by the next path walk).

use std::collections::HashMap;
use std::ffi::OsStr;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{
    DirBuilderExt, DirEntryExt, FileExt, MetadataExt, OpenOptionsExt, PermissionsExt,
};
use std::path::{Path, PathBuf};
use wax_devices::Timespec;
use wax_kernel::errno::{Errno, KResult};
use wax_kernel::vfs::{
    Attr, DirEntry, FileHandle, FileSystem, FileType, Ino, OpenMode, SetAttr, StatFs,
};

pub fn errno(e: io::Error) -> Errno {
    e.raw_os_error().map_or(Errno::EIO, Errno)
}

pub struct HostFs {
    root: PathBuf,
    paths: Vec<PathBuf>,
    ids: HashMap<PathBuf, Ino>,
}

impl HostFs {
    pub fn new(root: PathBuf) -> HostFs {
        let mut fs = HostFs {
            root,
            paths: Vec::new(),
            ids: HashMap::new(),
        };
        fs.intern(PathBuf::new());
        fs
    }

    fn intern(&mut self, rel: PathBuf) -> Ino {
        if let Some(&i) = self.ids.get(&rel) {
            return i;
        }
        let i = self.paths.len() as Ino;
        self.paths.push(rel.clone());
        self.ids.insert(rel, i);
        i
    }

    fn rel(&self, ino: Ino) -> KResult<&Path> {
        self.paths
            .get(ino as usize)
            .map(PathBuf::as_path)
            .ok_or(Errno::ENOENT)
    }

    fn full(&self, ino: Ino) -> KResult<PathBuf> {
        Ok(self.root.join(self.rel(ino)?))
    }

    fn child(&self, dir: Ino, name: &[u8]) -> KResult<(PathBuf, PathBuf)> {
        let rel = self.rel(dir)?.join(OsStr::from_bytes(name));
        Ok((self.root.join(&rel), rel))
    }
}

fn time(sec: i64, nsec: i64) -> Timespec {
    Timespec {
        sec,
        nsec: nsec as u32,
    }
}

pub fn attr_of(m: &fs::Metadata) -> Attr {
    Attr {
        dev: m.dev(),
        ino: m.ino(),
        mode: m.mode(),
        nlink: m.nlink() as u32,
        uid: m.uid(),
        gid: m.gid(),
        rdev: m.rdev(),
        size: m.size(),
        blksize: m.blksize() as u32,
        blocks: m.blocks(),
        atime: time(m.atime(), m.atime_nsec()),
        mtime: time(m.mtime(), m.mtime_nsec()),
        ctime: time(m.ctime(), m.ctime_nsec()),
    }
}

fn file_type(t: fs::FileType) -> FileType {
    use std::os::unix::fs::FileTypeExt;
    if t.is_dir() {
        FileType::Directory
    } else if t.is_file() {
        FileType::Regular
    } else if t.is_symlink() {
        FileType::Symlink
    } else if t.is_char_device() {
        FileType::CharDevice
    } else if t.is_block_device() {
        FileType::BlockDevice
    } else if t.is_fifo() {
        FileType::Fifo
    } else if t.is_socket() {
        FileType::Socket
    } else {
        FileType::Unknown
    }
}

fn to_system_time(t: Timespec) -> std::time::SystemTime {
    let d = std::time::Duration::new(t.sec.unsigned_abs(), t.nsec);
    if t.sec >= 0 {
        std::time::UNIX_EPOCH + d
    } else {
        std::time::UNIX_EPOCH - d
    }
}

impl FileSystem for HostFs {
    fn root(&self) -> Ino {
        0
    }

    fn lookup(&mut self, dir: Ino, name: &[u8]) -> KResult<Ino> {
        let (full, rel) = self.child(dir, name)?;
        fs::symlink_metadata(&full).map_err(errno)?;
        Ok(self.intern(rel))
    }

    fn getattr(&mut self, ino: Ino) -> KResult<Attr> {
        let m = fs::symlink_metadata(self.full(ino)?).map_err(errno)?;
        Ok(attr_of(&m))
    }

    fn setattr(&mut self, ino: Ino, set: &SetAttr) -> KResult<()> {
        let path = self.full(ino)?;
        if let Some(mode) = set.mode {
            fs::set_permissions(&path, fs::Permissions::from_mode(mode)).map_err(errno)?;
        }
        if let Some(size) = set.size {
            let f = OpenOptions::new().write(true).open(&path).map_err(errno)?;
            f.set_len(size).map_err(errno)?;
        }
        if set.atime.is_some() || set.mtime.is_some() {
            let f = File::open(&path).map_err(errno)?;
            let mut times = fs::FileTimes::new();
            if let Some(t) = set.atime {
                times = times.set_accessed(to_system_time(t));
            }
            if let Some(t) = set.mtime {
                times = times.set_modified(to_system_time(t));
            }
            f.set_times(times).map_err(errno)?;
        }
        Ok(())
    }

    fn open(&mut self, ino: Ino, how: OpenMode) -> KResult<Box<dyn FileHandle>> {
        let f = OpenOptions::new()
            .read(how.read)
            .write(how.write && !how.append)
            .append(how.append)
            .truncate(how.truncate)
            .custom_flags(libc::O_NOFOLLOW)
            .open(self.full(ino)?)
            .map_err(errno)?;
        Ok(Box::new(HostFile(f)))
    }

    fn readdir(&mut self, dir: Ino) -> KResult<Vec<DirEntry>> {
        let mut out = Vec::new();
        for e in fs::read_dir(self.full(dir)?).map_err(errno)? {
            let e = e.map_err(errno)?;
            let kind = e.file_type().map_or(FileType::Unknown, file_type);
            out.push(DirEntry {
                ino: e.ino(),
                kind,
                name: e.file_name().as_bytes().to_vec(),
            });
        }
        Ok(out)
    }

    fn readlink(&mut self, ino: Ino) -> KResult<Vec<u8>> {
        let t = fs::read_link(self.full(ino)?).map_err(errno)?;
        Ok(t.as_os_str().as_bytes().to_vec())
    }

    fn create(&mut self, dir: Ino, name: &[u8], mode: u32) -> KResult<Ino> {
        let (full, rel) = self.child(dir, name)?;
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(full)
            .map_err(errno)?;
        Ok(self.intern(rel))
    }

    fn mkdir(&mut self, dir: Ino, name: &[u8], mode: u32) -> KResult<()> {
        let (full, _) = self.child(dir, name)?;
        fs::DirBuilder::new().mode(mode).create(full).map_err(errno)
    }

    fn symlink(&mut self, dir: Ino, name: &[u8], target: &[u8]) -> KResult<()> {
        let (full, _) = self.child(dir, name)?;
        std::os::unix::fs::symlink(OsStr::from_bytes(target), full).map_err(errno)
    }

    fn link(&mut self, ino: Ino, dir: Ino, name: &[u8]) -> KResult<()> {
        let (full, _) = self.child(dir, name)?;
        fs::hard_link(self.full(ino)?, full).map_err(errno)
    }

    fn unlink(&mut self, dir: Ino, name: &[u8]) -> KResult<()> {
        let (full, _) = self.child(dir, name)?;
        if fs::symlink_metadata(&full).map_err(errno)?.is_dir() {
            return Err(Errno::EISDIR);
        }
        fs::remove_file(full).map_err(errno)
    }

    fn rmdir(&mut self, dir: Ino, name: &[u8]) -> KResult<()> {
        let (full, _) = self.child(dir, name)?;
        fs::remove_dir(full).map_err(errno)
    }

    fn rename(&mut self, odir: Ino, oname: &[u8], ndir: Ino, nname: &[u8]) -> KResult<()> {
        let (ofull, orel) = self.child(odir, oname)?;
        let (nfull, nrel) = self.child(ndir, nname)?;
        fs::rename(ofull, nfull).map_err(errno)?;
        if let Some(i) = self.ids.remove(&orel) {
            self.ids.remove(&nrel);
            self.paths[i as usize] = nrel.clone();
            self.ids.insert(nrel, i);
        }
        Ok(())
    }

    fn statfs(&mut self) -> KResult<StatFs> {
        // EXT4_SUPER_MAGIC-like numbers without asking the host.
        Ok(StatFs {
            f_type: 0xef53,
            f_bsize: 4096,
            f_blocks: 1 << 24,
            f_bfree: 1 << 23,
            f_bavail: 1 << 23,
            f_files: 1 << 20,
            f_ffree: 1 << 19,
            f_namelen: 255,
        })
    }
}

/// An open host file.
pub struct HostFile(pub File);

impl FileHandle for HostFile {
    fn read_at(&mut self, off: u64, buf: &mut [u8]) -> KResult<usize> {
        self.0.read_at(buf, off).map_err(errno)
    }
    fn write_at(&mut self, off: u64, buf: &[u8]) -> KResult<usize> {
        self.0.write_at(buf, off).map_err(errno)
    }
    fn set_len(&mut self, len: u64) -> KResult<()> {
        self.0.set_len(len).map_err(errno)
    }
    fn sync(&mut self) -> KResult<()> {
        self.0.sync_all().map_err(errno)
    }
}
