//! Open file descriptions and descriptor tables.
//!
//! An [`OpenFile`] is what open(2) makes: a handle on a node with its
//! offset and status flags, shared by every descriptor dup'ed or inherited
//! from it ([`FileRef`]). An [`FdTable`] maps descriptor numbers to them,
//! each with its close-on-exec bit; processes created with CLONE_FILES
//! share one.

use super::{Attr, DirEntry, FileHandle, Ino, Location, MountId, Vfs};
use crate::abi::errno::{Errno, KResult};
use crate::abi::oflag;
use std::cell::RefCell;
use std::rc::Rc;

/// An open file description (shared by dup'ed descriptors).
pub struct OpenFile {
    /// The node, when the file came from a file system (FIFOs included);
    /// `None` for anonymous files: pipe(2), sockets, eventfd and the like.
    pub node: Option<(MountId, Ino)>,
    /// Where the node is (for fchdir, openat and /proc fd links).
    pub location: Option<Location>,
    pub handle: Option<Box<dyn FileHandle>>,
    pub offset: u64,
    /// O_* status flags and access mode.
    pub flags: u32,
    /// Directory snapshot taken by the first getdents.
    pub dir_entries: Option<Vec<DirEntry>>,
}

pub type FileRef = Rc<RefCell<OpenFile>>;

impl OpenFile {
    pub fn can_read(&self) -> bool {
        self.flags & oflag::O_ACCMODE != oflag::O_WRONLY && self.flags & oflag::O_PATH == 0
    }
    pub fn can_write(&self) -> bool {
        self.flags & oflag::O_ACCMODE != oflag::O_RDONLY && self.flags & oflag::O_PATH == 0
    }

    /// The attributes of the open node: its file system's, unless the
    /// handle holds a file that node no longer names (unlinked, or
    /// another file now at its path), which only the handle can describe.
    pub fn attr(&self, vfs: &mut Vfs) -> KResult<Attr> {
        let (m, ino) = self.node.ok_or(Errno::EBADF)?;
        let held = self.handle.as_ref().and_then(|h| h.held_attr());
        match (vfs.fs_query(m).getattr(ino), held) {
            (Ok(a), Some(h)) if (a.dev, a.ino) != (h.dev, h.ino) => Ok(h),
            (Ok(a), _) => Ok(a),
            (Err(_), Some(h)) => Ok(h),
            (Err(e), None) => Err(e),
        }
    }
}

/// One descriptor slot.
#[derive(Clone)]
pub struct Fd {
    pub file: FileRef,
    pub cloexec: bool,
}

/// The most descriptors a table can hold (Linux's default fs.nr_open).
/// RLIMIT_NOFILE is checked by the system calls; this bounds the table's
/// memory whatever limit the host passed on.
pub const NR_OPEN: usize = 1 << 20;

/// The descriptor table.
#[derive(Clone, Default)]
pub struct FdTable {
    slots: Vec<Option<Fd>>,
}

impl FdTable {
    pub fn get(&self, fd: u32) -> KResult<&Fd> {
        self.slots
            .get(fd as usize)
            .and_then(Option::as_ref)
            .ok_or(Errno::EBADF)
    }

    pub fn file(&self, fd: u32) -> KResult<FileRef> {
        Ok(self.get(fd)?.file.clone())
    }

    /// Installs at the lowest free slot >= `min`.
    pub fn insert_from(&mut self, min: u32, fd: Fd) -> KResult<u32> {
        let start = min as usize;
        if start >= NR_OPEN {
            return Err(Errno::EINVAL);
        }
        let slot = (start..NR_OPEN)
            .find(|&i| self.slots.get(i).is_none_or(Option::is_none))
            .ok_or(Errno::EMFILE)?;
        self.set(slot as u32, fd)?;
        Ok(slot as u32)
    }

    pub fn insert(&mut self, fd: Fd) -> KResult<u32> {
        self.insert_from(0, fd)
    }

    /// Puts `fd` at `n`, returning what was there.
    pub fn set(&mut self, n: u32, fd: Fd) -> KResult<Option<Fd>> {
        let n = n as usize;
        if n >= NR_OPEN {
            return Err(Errno::EBADF);
        }
        if self.slots.len() <= n {
            self.slots.resize(n + 1, None);
        }
        Ok(self.slots[n].replace(fd))
    }

    pub fn remove(&mut self, n: u32) -> KResult<Fd> {
        self.slots
            .get_mut(n as usize)
            .and_then(Option::take)
            .ok_or(Errno::EBADF)
    }

    /// Closes every close-on-exec descriptor (execve).
    pub fn close_on_exec(&mut self) {
        for slot in &mut self.slots {
            if slot.as_ref().is_some_and(|f| f.cloexec) {
                *slot = None;
            }
        }
    }

    /// The open descriptors, lowest first.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &Fd)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, f)| f.as_ref().map(|f| (i as u32, f)))
    }

    pub fn set_cloexec(&mut self, n: u32, on: bool) -> KResult<()> {
        match self.slots.get_mut(n as usize).and_then(Option::as_mut) {
            Some(f) => {
                f.cloexec = on;
                Ok(())
            }
            None => Err(Errno::EBADF),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_on_exec_keeps_the_others() {
        let mk = |cloexec| Fd {
            file: Rc::new(RefCell::new(OpenFile {
                node: None,
                location: None,
                handle: None,
                offset: 0,
                flags: 0,
                dir_entries: None,
            })),
            cloexec,
        };
        let mut t = FdTable::default();
        t.insert(mk(false)).unwrap();
        t.insert(mk(true)).unwrap();
        t.insert(mk(false)).unwrap();
        t.close_on_exec();
        let left: Vec<u32> = t.iter().map(|(n, _)| n).collect();
        assert_eq!(left, [0, 2]);
    }
}
