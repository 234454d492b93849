//! The virtual file system: what every file system implements, the mount
//! table, and the path walk.
//!
//! A [`FileSystem`] works on nodes (`Ino`) and never sees a path: the
//! kernel walks paths itself in [`Vfs::resolve`], one component at a time,
//! following symlinks relative to the *guest* root. Confinement is
//! structural: the walk keeps the chain of directories from the root
//! ([`Location`]), `..` pops that chain and can never pop past the root, and
//! an absolute symlink restarts from the root. No file system can lead a
//! path outside the guest root, whatever it stores.
//!
//! Mounts cover a name in a directory ((mount, dir ino, name) → file
//! system), so /dev and /proc exist even when the root has no such
//! directories.

pub(crate) mod dev;
pub(crate) mod file;
pub(crate) mod lock;
pub mod lookup;
#[cfg(test)]
pub(crate) mod memfs;
pub(crate) mod path;
pub(crate) mod perm;
pub(crate) mod proc;
pub(crate) mod procgen;
pub(crate) mod tmpfs;

use crate::abi::errno::{Errno, KResult};
/// The `st_mode` type bits and renameat2 flags, which `FileSystem`
/// implementations outside the crate need.
pub use crate::abi::{mode, rename};
use std::cell::RefCell;
use std::rc::Rc;
use wax_devices::{Stream, Timespec};

/// A host stream shared between descriptors (the console behind fds 0-2
/// and /dev/tty).
pub type SharedStream = Rc<RefCell<dyn Stream>>;

pub use path::{Location, Resolve, Vfs};

/// A node number inside one file system.
pub type Ino = u64;
/// Index of a mounted file system in the mount table.
pub type MountId = usize;

/// The kind of a node, as `d_type` in directory entries reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileType {
    Regular,
    Directory,
    Symlink,
    CharDevice,
    BlockDevice,
    Fifo,
    Socket,
    Unknown,
}

impl FileType {
    /// From the S_IFMT bits of a mode.
    pub fn from_mode(m: u32) -> FileType {
        match m & mode::S_IFMT {
            mode::S_IFREG => FileType::Regular,
            mode::S_IFDIR => FileType::Directory,
            mode::S_IFLNK => FileType::Symlink,
            mode::S_IFCHR => FileType::CharDevice,
            mode::S_IFBLK => FileType::BlockDevice,
            mode::S_IFIFO => FileType::Fifo,
            mode::S_IFSOCK => FileType::Socket,
            _ => FileType::Unknown,
        }
    }

    /// The `d_type` value (DT_*).
    pub fn dtype(self) -> u8 {
        match self {
            FileType::Fifo => 1,
            FileType::CharDevice => 2,
            FileType::Directory => 4,
            FileType::BlockDevice => 6,
            FileType::Regular => 8,
            FileType::Symlink => 10,
            FileType::Socket => 12,
            FileType::Unknown => 0,
        }
    }
}

/// What `stat` reports about a node.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Attr {
    pub dev: u64,
    pub ino: u64,
    /// Type and permission bits.
    pub mode: u32,
    pub nlink: u32,
    pub uid: u32,
    pub gid: u32,
    pub rdev: u64,
    pub size: u64,
    pub blksize: u32,
    /// 512-byte blocks allocated.
    pub blocks: u64,
    pub atime: Timespec,
    pub mtime: Timespec,
    pub ctime: Timespec,
}

impl Attr {
    pub fn file_type(&self) -> FileType {
        FileType::from_mode(self.mode)
    }
    pub fn is_dir(&self) -> bool {
        self.mode & mode::S_IFMT == mode::S_IFDIR
    }
}

/// A change of attributes (chmod, chown, truncate, utimensat); `None`
/// fields stay as they are.
#[derive(Clone, Copy, Debug, Default)]
pub struct SetAttr {
    pub mode: Option<u32>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub size: Option<u64>,
    pub atime: Option<Timespec>,
    pub mtime: Option<Timespec>,
}

/// One directory entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirEntry {
    pub ino: u64,
    pub kind: FileType,
    pub name: Vec<u8>,
}

/// What `statfs` reports.
#[derive(Clone, Copy, Debug, Default)]
pub struct StatFs {
    pub f_type: u32,
    pub f_bsize: u32,
    pub f_blocks: u64,
    pub f_bfree: u64,
    pub f_bavail: u64,
    pub f_files: u64,
    pub f_ffree: u64,
    pub f_namelen: u32,
}

/// A node about to be created: its type and permission bits (umask
/// already applied), owner, and device number for device nodes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NewNode {
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub rdev: u64,
}

/// A file system's name in /proc/mounts and its `statfs` f_type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FsType {
    pub name: &'static str,
    pub magic: u32,
}

impl FsType {
    pub const EXT4: FsType = FsType {
        name: "ext4",
        magic: 0xef53,
    };
    pub const TMPFS: FsType = FsType {
        name: "tmpfs",
        magic: 0x0102_1994,
    };
    pub const PROC: FsType = FsType {
        name: "proc",
        magic: 0x9fa0,
    };
    pub const DEVTMPFS: FsType = FsType {
        name: "devtmpfs",
        magic: 0x0102_1994,
    };
}

/// Access mode and flags an open asks for (the O_* bits that matter to a
/// file system).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OpenMode {
    pub read: bool,
    pub write: bool,
    pub append: bool,
    pub truncate: bool,
}

/// The guest buffer of a read(2) or write(2), reached without a kernel
/// buffer in between (see [`FileHandle::read_guest`]). Offsets are from
/// the start of the buffer; the kernel has checked the whole buffer is
/// accessible before it hands it over.
pub trait GuestIo {
    /// The buffer's length.
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Copies `bytes` into the buffer at `at` (a read).
    fn put(&mut self, at: usize, bytes: &[u8]);
    /// Sets `n` bytes at `at` to `byte` (a read).
    fn fill(&mut self, at: usize, n: usize, byte: u8);
    /// Calls `f` with the buffer's bytes `at..at + n` in order, piece by
    /// piece (a write).
    fn get(&mut self, at: usize, n: usize, f: &mut dyn FnMut(&[u8]));
}

/// An open node: the per-open state a file system keeps (a host file
/// descriptor, a device).
pub trait FileHandle {
    /// Reads at `off` (ignored by streams). `Err(EAGAIN)` means no data
    /// yet: the kernel parks the thread unless the file is O_NONBLOCK.
    fn read_at(&mut self, off: u64, buf: &mut [u8]) -> KResult<usize>;
    /// Writes at `off` (ignored by streams and in append mode).
    fn write_at(&mut self, off: u64, buf: &[u8]) -> KResult<usize>;
    /// `read_at` straight into guest memory, for a handle whose bytes are
    /// already in memory of its own (a pipe's buffer) or made on the spot
    /// (/dev/zero): one copy instead of two. `None`: the kernel reads
    /// through `read_at` and copies.
    fn read_guest(&mut self, _off: u64, _dst: &mut dyn GuestIo) -> Option<KResult<usize>> {
        None
    }
    /// `write_at` straight from guest memory (see `read_guest`).
    fn write_guest(&mut self, _off: u64, _src: &mut dyn GuestIo) -> Option<KResult<usize>> {
        None
    }
    /// Streams have no position: lseek fails with ESPIPE.
    fn is_stream(&self) -> bool {
        false
    }
    /// A reader of the file's pages for private read-only mappings that
    /// copy nothing at mmap: each page is read when first touched
    /// (`wax_cpu::Machine::map_file`). It must not share state with this
    /// handle (it outlives it, and reads while the handle may be borrowed).
    /// `None`: mappings copy the file's pages at mmap.
    fn page_source(&self) -> Option<std::rc::Rc<dyn wax_cpu::mem::PageSource>> {
        None
    }
    /// Whether a read would not block now.
    fn readable(&mut self) -> bool {
        true
    }
    /// Readiness for poll/select and parked readers and writers: POLLIN,
    /// POLLOUT, POLLHUP, POLLERR bits (`crate::abi::poll`).
    fn poll(&mut self) -> u16 {
        use crate::abi::poll;
        let out = poll::POLLOUT | poll::POLLWRNORM;
        if self.readable() {
            poll::POLLIN | poll::POLLRDNORM | out
        } else {
            out
        }
    }
    /// A counter that moves on every state change that would wake a
    /// waiter (data arriving, space freed, an end closing), for
    /// edge-triggered epoll; `None`: not tracked (epoll then treats
    /// EPOLLET as level-triggered for this file).
    fn event_count(&mut self) -> Option<u64> {
        None
    }
    /// The stream behind this handle if it is a terminal (for the tty
    /// ioctls).
    fn tty(&mut self) -> Option<SharedStream> {
        None
    }
    /// The in-kernel terminal this handle is an end of (console, pty),
    /// for the tty ioctls and job control.
    fn terminal(&mut self) -> Option<crate::tty::TtyEnd> {
        None
    }
    fn set_len(&mut self, _len: u64) -> KResult<()> {
        Err(Errno::EINVAL)
    }
    /// Backs `off..off+len` with storage, growing the file (fallocate
    /// mode 0).
    fn allocate(&mut self, _off: u64, _len: u64) -> KResult<()> {
        Err(Errno::EOPNOTSUPP)
    }
    fn sync(&mut self) -> KResult<()> {
        Ok(())
    }
    /// What /proc/PID/fd shows for a handle without a path (e.g.
    /// `pipe:[N]`, `anon_inode:[eventfd]`).
    fn proc_name(&self) -> Option<Vec<u8>> {
        None
    }
    /// What fstat reports for a handle without a node (a socket, an
    /// eventfd); `None`: the console's attributes.
    fn stat(&self) -> Option<Attr> {
        None
    }
    /// The attributes of the very file this handle holds open, for file
    /// systems whose node may stop naming it (a host file unlinked or
    /// replaced while open): see `file::OpenFile::attr`.
    fn held_attr(&self) -> Option<Attr> {
        None
    }
    /// The handle as `Any`, for system calls that work on one kind of
    /// kernel object (sockets, epoll, eventfd, signalfd, timerfd).
    fn as_any(&mut self) -> Option<&mut dyn std::any::Any> {
        None
    }
}

/// A mounted file system, at node level.
pub trait FileSystem {
    /// The root directory's node.
    fn root(&self) -> Ino;
    /// The node named `name` in directory `dir` (never "." or "..").
    fn lookup(&mut self, dir: Ino, name: &[u8]) -> KResult<Ino>;
    fn getattr(&mut self, ino: Ino) -> KResult<Attr>;
    /// `lookup` and `getattr` of the node found, for the path walk (which
    /// needs both for every component): a file system that answers both
    /// with one question to its storage overrides it.
    fn lookup_attr(&mut self, dir: Ino, name: &[u8]) -> KResult<(Ino, Attr)> {
        let ino = self.lookup(dir, name)?;
        Ok((ino, self.getattr(ino)?))
    }
    fn setattr(&mut self, _ino: Ino, _set: &SetAttr) -> KResult<()> {
        Err(Errno::EPERM)
    }
    fn open(&mut self, ino: Ino, how: OpenMode) -> KResult<Box<dyn FileHandle>>;
    /// All entries of a directory, without "." and "..".
    fn readdir(&mut self, dir: Ino) -> KResult<Vec<DirEntry>>;
    fn readlink(&mut self, ino: Ino) -> KResult<Vec<u8>>;
    /// Creates a non-directory, non-symlink node (regular file, FIFO,
    /// socket, device) as `node.mode`'s type bits say.
    fn create(&mut self, _dir: Ino, _name: &[u8], _node: &NewNode) -> KResult<Ino> {
        Err(Errno::EROFS)
    }
    fn mkdir(&mut self, _dir: Ino, _name: &[u8], _node: &NewNode) -> KResult<Ino> {
        Err(Errno::EROFS)
    }
    fn symlink(
        &mut self,
        _dir: Ino,
        _name: &[u8],
        _target: &[u8],
        _node: &NewNode,
    ) -> KResult<Ino> {
        Err(Errno::EROFS)
    }
    fn link(&mut self, _ino: Ino, _dir: Ino, _name: &[u8]) -> KResult<()> {
        Err(Errno::EROFS)
    }
    fn unlink(&mut self, _dir: Ino, _name: &[u8]) -> KResult<()> {
        Err(Errno::EROFS)
    }
    fn rmdir(&mut self, _dir: Ino, _name: &[u8]) -> KResult<()> {
        Err(Errno::EROFS)
    }
    /// Moves `odir/oname` to `ndir/nname`, replacing a compatible target;
    /// `flags` are the renameat2 flags ([`rename`]).
    fn rename(
        &mut self,
        _odir: Ino,
        _oname: &[u8],
        _ndir: Ino,
        _nname: &[u8],
        _flags: u32,
    ) -> KResult<()> {
        Err(Errno::EROFS)
    }
    /// The value of extended attribute `name` (xattr(7)); the syscall
    /// layer has checked the name, its namespace and who may read it.
    /// Defaults: a file system without xattr support (Linux's inode
    /// without IOP_XATTR): get, set and remove are EOPNOTSUPP, the list
    /// is empty.
    fn getxattr(&mut self, _ino: Ino, _name: &[u8]) -> KResult<Vec<u8>> {
        Err(Errno::EOPNOTSUPP)
    }
    /// Sets an extended attribute; `flags` is XATTR_CREATE (EEXIST if it
    /// exists), XATTR_REPLACE (ENODATA if it does not) or 0.
    fn setxattr(&mut self, _ino: Ino, _name: &[u8], _value: &[u8], _flags: u32) -> KResult<()> {
        Err(Errno::EOPNOTSUPP)
    }
    /// The attribute names, each followed by a NUL.
    fn listxattr(&mut self, _ino: Ino) -> KResult<Vec<u8>> {
        Ok(Vec::new())
    }
    fn removexattr(&mut self, _ino: Ino, _name: &[u8]) -> KResult<()> {
        Err(Errno::EOPNOTSUPP)
    }
    /// Whether names, nodes and their type, mode and owner change only
    /// through this trait's calls (not behind the kernel's back, as
    /// /proc's do when processes come and go): the path walk may then
    /// remember the directories it goes through until a call that may
    /// change them (see `Vfs::fs`), and the last name a system call
    /// looked up for the next call (`path::Recent`).
    fn stable_dirs(&self) -> bool {
        false
    }
    /// Name and magic number (/proc/mounts, statfs).
    fn fs_type(&self) -> FsType {
        FsType::EXT4
    }
    /// Flushes everything to the backing store (sync, syncfs).
    fn sync(&mut self) -> KResult<()> {
        Ok(())
    }
    /// After a successful `sync`, for a backing store the host keeps
    /// asynchronously (the browser's IndexedDB): the ticket whose
    /// [`FileSystem::durability`] says when that sync is durable. `None`:
    /// `sync` already made it durable.
    fn durable_ticket(&mut self) -> Option<u64> {
        None
    }
    /// Whether the sync behind `ticket` is durable: `None` while the host
    /// is still saving, then `Ok` or ENOSPC/EIO.
    fn durability(&mut self, _ticket: u64) -> Option<KResult<()>> {
        Some(Ok(()))
    }
    fn statfs(&mut self) -> KResult<StatFs> {
        Ok(StatFs {
            f_type: self.fs_type().magic,
            f_bsize: 4096,
            f_namelen: 255,
            ..StatFs::default()
        })
    }
}
