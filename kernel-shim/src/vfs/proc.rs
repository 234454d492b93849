//! A minimal /proc: `self` (a directory for the current process) with the
//! `exe` link. The full procfs is a later issue; it replaces this.

use super::{mode, Attr, DirEntry, FileHandle, FileSystem, FileType, Ino, OpenMode};
use crate::errno::{Errno, KResult};
use std::cell::RefCell;
use std::rc::Rc;

const ROOT: Ino = 1;
const SELF_DIR: Ino = 2;
const EXE: Ino = 3;

/// The process facts /proc shows, updated by the kernel on exec.
#[derive(Default, Debug)]
pub struct ProcInfo {
    /// The path `/proc/self/exe` points to.
    pub exe: Vec<u8>,
}

pub struct ProcFs {
    info: Rc<RefCell<ProcInfo>>,
}

impl ProcFs {
    pub fn new(info: Rc<RefCell<ProcInfo>>) -> ProcFs {
        ProcFs { info }
    }
}

impl FileSystem for ProcFs {
    fn root(&self) -> Ino {
        ROOT
    }
    fn lookup(&mut self, dir: Ino, name: &[u8]) -> KResult<Ino> {
        match (dir, name) {
            (ROOT, b"self") => Ok(SELF_DIR),
            (SELF_DIR, b"exe") => Ok(EXE),
            (ROOT | SELF_DIR, _) => Err(Errno::ENOENT),
            _ => Err(Errno::ENOTDIR),
        }
    }
    fn getattr(&mut self, ino: Ino) -> KResult<Attr> {
        let mode = match ino {
            ROOT | SELF_DIR => mode::S_IFDIR | 0o555,
            EXE => mode::S_IFLNK | 0o777,
            _ => return Err(Errno::ENOENT),
        };
        Ok(Attr {
            dev: super::dev::makedev(0, 4),
            ino,
            mode,
            nlink: 1,
            blksize: 1024,
            ..Attr::default()
        })
    }
    fn open(&mut self, _ino: Ino, _how: OpenMode) -> KResult<Box<dyn FileHandle>> {
        Err(Errno::EISDIR)
    }
    fn readdir(&mut self, dir: Ino) -> KResult<Vec<DirEntry>> {
        let (ino, kind, name) = match dir {
            ROOT => (SELF_DIR, FileType::Directory, &b"self"[..]),
            SELF_DIR => (EXE, FileType::Symlink, &b"exe"[..]),
            _ => return Err(Errno::ENOTDIR),
        };
        Ok(vec![DirEntry {
            ino,
            kind,
            name: name.to_vec(),
        }])
    }
    fn readlink(&mut self, ino: Ino) -> KResult<Vec<u8>> {
        match ino {
            EXE => Ok(self.info.borrow().exe.clone()),
            _ => Err(Errno::EINVAL),
        }
    }
}
