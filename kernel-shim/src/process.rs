//! Processes, threads and file descriptors.
//!
//! A [`Process`] owns an address space, its decoded-code cache, the
//! descriptor table, the working directory and the signal actions; a
//! [`Thread`] owns the CPU state (saved here while another thread holds the
//! machine's CPU slot), its signal mask and what it waits for. One process
//! with one thread exists today; fork/clone add entries to the kernel's
//! tables without changing these types' shape.

use crate::errno::{Errno, KResult};
use crate::mm::Mm;
use crate::signal::{SigAction, NSIG};
use crate::vfs::{DirEntry, FileHandle, Ino, Location, MountId};
use std::cell::RefCell;
use std::rc::Rc;
use wax_cpu::{AddressSpace, CpuState, DecodeCache};
use wax_devices::Timespec;

/// open(2) flag bits (i386 values).
pub mod oflag {
    pub const O_ACCMODE: u32 = 3;
    pub const O_RDONLY: u32 = 0;
    pub const O_WRONLY: u32 = 1;
    pub const O_RDWR: u32 = 2;
    pub const O_CREAT: u32 = 0o100;
    pub const O_EXCL: u32 = 0o200;
    pub const O_NOCTTY: u32 = 0o400;
    pub const O_TRUNC: u32 = 0o1000;
    pub const O_APPEND: u32 = 0o2000;
    pub const O_NONBLOCK: u32 = 0o4000;
    pub const O_DSYNC: u32 = 0o10000;
    pub const O_DIRECT: u32 = 0o40000;
    pub const O_LARGEFILE: u32 = 0o100000;
    pub const O_DIRECTORY: u32 = 0o200000;
    pub const O_NOFOLLOW: u32 = 0o400000;
    pub const O_NOATIME: u32 = 0o1000000;
    pub const O_CLOEXEC: u32 = 0o2000000;
    pub const O_PATH: u32 = 0o10000000;
    /// Flags F_SETFL may change.
    pub const SETFL_MASK: u32 = O_APPEND | O_NONBLOCK | O_DIRECT | O_NOATIME;
}

/// An open file description (shared by dup'ed descriptors).
pub struct OpenFile {
    /// The node, when the file came from the VFS (not for pipes later).
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
}

/// One descriptor slot.
#[derive(Clone)]
pub struct Fd {
    pub file: FileRef,
    pub cloexec: bool,
}

/// Soft limit on open descriptors (RLIMIT_NOFILE).
pub const NOFILE: usize = 1024;

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
        if start >= NOFILE {
            return Err(Errno::EINVAL);
        }
        let slot = (start..NOFILE)
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
        if n >= NOFILE {
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

/// What a parked thread waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wait {
    /// Data on a descriptor: the system call is restarted when woken.
    Readable { fd: u32 },
    /// A sleep until a monotonic time; the call then returns `result`.
    Until { deadline: Timespec, result: u32 },
    /// A futex word (woken by FUTEX_WAKE or the deadline).
    Futex {
        addr: u32,
        deadline: Option<Timespec>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThreadState {
    Runnable,
    Waiting(Wait),
    Exited,
}

/// Alternate signal stack (sigaltstack).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AltStack {
    pub sp: u32,
    pub flags: u32,
    pub size: u32,
}

pub struct Thread {
    pub tid: u32,
    /// Index of the owning process in the kernel's table.
    pub process: usize,
    /// Saved CPU state while the thread is not in the machine's CPU slot.
    pub cpu: CpuState,
    pub state: ThreadState,
    pub sigmask: u64,
    pub pending: u64,
    pub altstack: AltStack,
    pub clear_child_tid: u32,
    pub robust_list: (u32, u32),
    /// The thread name (PR_SET_NAME; /proc/self/comm later).
    pub comm: [u8; 16],
}

/// Resource limits (RLIM_NLIMITS = 16), (soft, hard).
pub type Rlimits = [(u64, u64); 16];

pub const RLIM_INFINITY: u64 = u64::MAX;

pub fn default_rlimits() -> Rlimits {
    let mut r = [(RLIM_INFINITY, RLIM_INFINITY); 16];
    r[3] = (8 << 20, RLIM_INFINITY); // RLIMIT_STACK
    r[4] = (0, RLIM_INFINITY); // RLIMIT_CORE
    r[6] = (63_000, 63_000); // RLIMIT_NPROC
    r[7] = (NOFILE as u64, 4096); // RLIMIT_NOFILE
    r[8] = (8 << 20, 8 << 20); // RLIMIT_MEMLOCK
    r[11] = (63_000, 63_000); // RLIMIT_SIGPENDING
    r[12] = (819_200, 819_200); // RLIMIT_MSGQUEUE
    r
}

pub struct Process {
    pub pid: u32,
    pub ppid: u32,
    pub pgid: u32,
    pub space: AddressSpace,
    pub cache: DecodeCache,
    pub mm: Mm,
    pub fds: FdTable,
    pub cwd: Location,
    pub umask: u32,
    pub actions: [SigAction; NSIG as usize],
    pub rlimits: Rlimits,
    /// The guest-visible path of the program (AT_EXECFN, /proc/self/exe).
    pub exe: Vec<u8>,
}
