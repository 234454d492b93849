//! A minimal /dev: null, zero, full, random, urandom and tty, the
//! stdin/stdout/stderr and fd links into /proc/self/fd, a `pts` directory
//! whose `0` is the console, and an empty `shm` (covered by a tmpfs
//! mount). Also the stream handle that backs the console descriptors 0-2.
//!
//! With an in-kernel console attached (`wax shell`), /dev/pts/0 is that
//! terminal and /dev/tty the caller's controlling terminal; /dev/ptmx
//! creates pseudo-terminals that appear as /dev/pts/N (see `crate::tty`).

use super::{
    mode, Attr, DirEntry, FileHandle, FileSystem, FileType, FsType, GuestIo, Ino, OpenMode,
    SharedStream,
};
use crate::abi::errno::{Errno, KResult};
use crate::tty::{pty, DevTty, TtyFile, TtysRef};
use std::cell::RefCell;
use std::rc::Rc;
use wax_devices::{Entropy, StreamError, StreamKind};

/// The root directory of the device file system.
const ROOT: Ino = 1;
/// Directories and links after the devices (node numbers from 100).
const PTS: Ino = 100;
const SHM: Ino = 101;
const PTS0: Ino = 102;
const PTMX: Ino = 103;
const LINKS: [(&[u8], &[u8]); 4] = [
    (b"fd", b"/proc/self/fd"),
    (b"stdin", b"/proc/self/fd/0"),
    (b"stdout", b"/proc/self/fd/1"),
    (b"stderr", b"/proc/self/fd/2"),
];
/// The first link's node; the others follow.
const LINK0: Ino = 110;
/// /dev/pts/N for N >= 1 is node PTS_BASE + N.
const PTS_BASE: Ino = 1000;
/// /dev/ptmx in the root (the same device as /dev/pts/ptmx).
const ROOT_PTMX: Ino = 104;

/// The device number of this file system.
fn devfs_dev() -> u64 {
    makedev(0, 5)
}

/// What the console (descriptors 0-2, /dev/pts/0) reports: the first
/// pseudo-terminal, as under a terminal emulator.
pub fn console_attr() -> Attr {
    Attr {
        dev: devfs_dev(),
        ino: PTS0,
        mode: mode::S_IFCHR | 0o620,
        nlink: 1,
        rdev: makedev(136, 0),
        blksize: 1024,
        ..Attr::default()
    }
}

/// What /dev/pts/`index` reports.
pub fn pts_attr(index: u32) -> Attr {
    let mut a = console_attr();
    if index != 0 {
        a.ino = PTS_BASE + Ino::from(index);
        a.rdev = makedev(136, index);
    }
    a
}

/// name, (major, minor); the node number is the index + 2.
const DEVICES: [(&[u8], (u32, u32)); 6] = [
    (b"null", (1, 3)),
    (b"zero", (1, 5)),
    (b"full", (1, 7)),
    (b"random", (1, 8)),
    (b"urandom", (1, 9)),
    (b"tty", (5, 0)),
];

/// The DEVICES row of node `ino` (whose numbers need not fit a usize).
fn device(ino: Ino) -> Option<&'static (&'static [u8], (u32, u32))> {
    let i = usize::try_from(ino.checked_sub(2)?).ok()?;
    DEVICES.get(i)
}

/// The LINKS row of node `ino`.
fn link(ino: Ino) -> Option<&'static (&'static [u8], &'static [u8])> {
    let i = usize::try_from(ino.checked_sub(LINK0)?).ok()?;
    LINKS.get(i)
}

/// Device numbers as glibc's `gnu_dev_makedev` encodes them.
pub fn makedev(major: u32, minor: u32) -> u64 {
    let (ma, mi) = (u64::from(major), u64::from(minor));
    (mi & 0xff) | ((ma & 0xfff) << 8) | ((mi & !0xff) << 12) | ((ma & !0xfff) << 32)
}

/// The device file system.
pub struct DevFs {
    entropy: Rc<RefCell<dyn Entropy>>,
    console: StreamHandle,
    ttys: TtysRef,
}

impl DevFs {
    pub fn new(entropy: Rc<RefCell<dyn Entropy>>, console: StreamHandle, ttys: TtysRef) -> DevFs {
        DevFs {
            entropy,
            console,
            ttys,
        }
    }

    /// /dev/pts/0: the in-kernel console, or the host's stdio streams.
    fn open_console(&mut self) -> Box<dyn FileHandle> {
        match self.ttys.borrow().console() {
            Some(tty) => Box::new(TtyFile::new(tty)),
            None => Box::new(self.console.clone()),
        }
    }

    /// Terminal nodes: ptmx, the pts slaves, /dev/tty (resolved by open).
    fn open_tty(&mut self, ino: Ino) -> Option<KResult<Box<dyn FileHandle>>> {
        let h: Box<dyn FileHandle> = match ino {
            PTS0 => self.open_console(),
            PTMX | ROOT_PTMX => Box::new(pty::open_ptmx(&mut self.ttys.borrow_mut())),
            TTY => Box::new(DevTty::new(self.open_console())),
            _ if ino > PTS_BASE => {
                let tty = self.ttys.borrow().get((ino - PTS_BASE) as u32);
                let slave = tty.ok_or(Errno::ENOENT).and_then(|t| pty::open_slave(&t));
                return Some(slave.map(|s| Box::new(s) as Box<dyn FileHandle>));
            }
            _ => return None,
        };
        Some(Ok(h))
    }
}

/// /dev/tty's node (index 5 of DEVICES).
const TTY: Ino = 7;

impl FileSystem for DevFs {
    fn root(&self) -> Ino {
        ROOT
    }
    fn lookup(&mut self, dir: Ino, name: &[u8]) -> KResult<Ino> {
        let found = self
            .readdir(dir)?
            .into_iter()
            .find(|e| e.name == name)
            .map(|e| e.ino);
        found.ok_or(Errno::ENOENT)
    }
    fn getattr(&mut self, ino: Ino) -> KResult<Attr> {
        let mut a = Attr {
            dev: devfs_dev(),
            ino,
            nlink: 1,
            blksize: 4096,
            ..Attr::default()
        };
        match ino {
            ROOT | PTS | SHM => {
                a.mode = mode::S_IFDIR | if ino == SHM { 0o1777 } else { 0o755 };
                a.nlink = if ino == ROOT { 4 } else { 2 };
                return Ok(a);
            }
            PTS0 => return Ok(console_attr()),
            _ if ino > PTS_BASE => return Ok(pts_attr((ino - PTS_BASE) as u32)),
            PTMX | ROOT_PTMX => {
                a.mode = mode::S_IFCHR | 0o666;
                a.rdev = makedev(5, 2);
                return Ok(a);
            }
            _ => {}
        }
        if let Some((_, t)) = link(ino) {
            a.mode = mode::S_IFLNK | 0o777;
            a.size = t.len() as u64;
            return Ok(a);
        }
        let (_, (major, minor)) = device(ino).ok_or(Errno::ENOENT)?;
        a.mode = mode::S_IFCHR | 0o666;
        a.rdev = makedev(*major, *minor);
        Ok(a)
    }
    fn open(&mut self, ino: Ino, _how: OpenMode) -> KResult<Box<dyn FileHandle>> {
        if let Some(h) = self.open_tty(ino) {
            return h;
        }
        let name = match ino {
            ROOT | PTS | SHM => return Err(Errno::EISDIR),
            _ => device(ino).ok_or(Errno::ELOOP)?.0,
        };
        Ok(match name {
            b"null" => Box::new(Null),
            b"zero" => Box::new(Zero { full: false }),
            b"full" => Box::new(Zero { full: true }),
            b"tty" => Box::new(self.console.clone()),
            _ => Box::new(Random(self.entropy.clone())),
        })
    }
    fn readdir(&mut self, dir: Ino) -> KResult<Vec<DirEntry>> {
        let entry = |ino, kind, name: &[u8]| DirEntry {
            ino,
            kind,
            name: name.to_vec(),
        };
        match dir {
            ROOT => {}
            PTS => {
                let mut out = vec![
                    entry(PTS0, FileType::CharDevice, b"0"),
                    entry(PTMX, FileType::CharDevice, b"ptmx"),
                ];
                for i in self.ttys.borrow().indexes().into_iter().filter(|&i| i > 0) {
                    let name = i.to_string().into_bytes();
                    out.push(entry(PTS_BASE + Ino::from(i), FileType::CharDevice, &name));
                }
                return Ok(out);
            }
            SHM => return Ok(Vec::new()),
            _ => return Err(Errno::ENOTDIR),
        }
        let mut out: Vec<DirEntry> = DEVICES
            .iter()
            .enumerate()
            .map(|(i, (n, _))| entry(i as Ino + 2, FileType::CharDevice, n))
            .collect();
        out.push(entry(ROOT_PTMX, FileType::CharDevice, b"ptmx"));
        out.push(entry(PTS, FileType::Directory, b"pts"));
        out.push(entry(SHM, FileType::Directory, b"shm"));
        for (i, (n, _)) in LINKS.iter().enumerate() {
            out.push(entry(LINK0 + i as Ino, FileType::Symlink, n));
        }
        Ok(out)
    }
    fn readlink(&mut self, ino: Ino) -> KResult<Vec<u8>> {
        link(ino).map(|(_, t)| t.to_vec()).ok_or(Errno::EINVAL)
    }
    /// devtmpfs supports attributes but keeps none here: nothing to find
    /// or remove (setting one stays EOPNOTSUPP, the trait's default).
    fn getxattr(&mut self, _ino: Ino, _name: &[u8]) -> KResult<Vec<u8>> {
        Err(Errno::ENODATA)
    }
    fn removexattr(&mut self, _ino: Ino, _name: &[u8]) -> KResult<()> {
        Err(Errno::ENODATA)
    }
    fn fs_type(&self) -> FsType {
        FsType::DEVTMPFS
    }
}

/// /dev/null: reads end of file, writes vanish.
struct Null;

impl FileHandle for Null {
    fn read_at(&mut self, _off: u64, _buf: &mut [u8]) -> KResult<usize> {
        Ok(0)
    }
    fn write_at(&mut self, _off: u64, buf: &[u8]) -> KResult<usize> {
        Ok(buf.len())
    }
    fn write_guest(&mut self, _off: u64, src: &mut dyn GuestIo) -> Option<KResult<usize>> {
        Some(Ok(src.len()))
    }
}

/// /dev/zero and /dev/full: reads zeros; writes vanish or fail ENOSPC.
struct Zero {
    full: bool,
}

impl FileHandle for Zero {
    fn read_at(&mut self, _off: u64, buf: &mut [u8]) -> KResult<usize> {
        buf.fill(0);
        Ok(buf.len())
    }
    fn read_guest(&mut self, _off: u64, dst: &mut dyn GuestIo) -> Option<KResult<usize>> {
        dst.fill(0, dst.len(), 0);
        Some(Ok(dst.len()))
    }
    fn write_at(&mut self, _off: u64, buf: &[u8]) -> KResult<usize> {
        if self.full {
            return Err(Errno::ENOSPC);
        }
        Ok(buf.len())
    }
}

/// /dev/random and /dev/urandom.
struct Random(Rc<RefCell<dyn Entropy>>);

impl FileHandle for Random {
    fn read_at(&mut self, _off: u64, buf: &mut [u8]) -> KResult<usize> {
        self.0.borrow_mut().fill(buf);
        Ok(buf.len())
    }
    fn write_at(&mut self, _off: u64, buf: &[u8]) -> KResult<usize> {
        Ok(buf.len())
    }
}

/// A host byte stream as a file: reads from `input`, writes to `output`.
#[derive(Clone)]
pub struct StreamHandle {
    pub input: Option<SharedStream>,
    pub output: Option<SharedStream>,
}

fn stream_errno(e: StreamError) -> Errno {
    match e {
        StreamError::WouldBlock => Errno::EAGAIN,
        StreamError::Io(n) => Errno(n),
    }
}

impl FileHandle for StreamHandle {
    fn read_at(&mut self, _off: u64, buf: &mut [u8]) -> KResult<usize> {
        let s = self.input.as_ref().ok_or(Errno::EBADF)?;
        s.borrow_mut().read(buf).map_err(stream_errno)
    }
    fn write_at(&mut self, _off: u64, buf: &[u8]) -> KResult<usize> {
        let s = self.output.as_ref().ok_or(Errno::EBADF)?;
        s.borrow_mut().write(buf).map_err(stream_errno)
    }
    fn is_stream(&self) -> bool {
        true
    }
    fn readable(&mut self) -> bool {
        self.input
            .as_ref()
            .is_none_or(|s| s.borrow_mut().readable())
    }
    fn tty(&mut self) -> Option<SharedStream> {
        let streams = [self.input.clone(), self.output.clone()];
        streams
            .into_iter()
            .flatten()
            .find(|s| s.borrow_mut().terminal().is_some())
    }
    fn set_len(&mut self, _len: u64) -> KResult<()> {
        Err(Errno::EINVAL)
    }
    fn proc_name(&self) -> Option<Vec<u8>> {
        match self.kind() {
            StreamKind::Terminal => Some(b"/dev/pts/0".to_vec()),
            StreamKind::Pipe => Some(b"pipe:[4026]".to_vec()),
            StreamKind::Socket => Some(b"socket:[4027]".to_vec()),
            // A file or device keeps its host path to itself.
            _ => None,
        }
    }
    fn stat(&self) -> Option<Attr> {
        Some(stream_attr(self.kind()))
    }
}

impl StreamHandle {
    /// What the host file behind the stream is.
    fn kind(&self) -> StreamKind {
        let s = self.input.as_ref().or(self.output.as_ref());
        s.map_or(StreamKind::Pipe, |s| s.borrow_mut().kind())
    }
}

/// fstat of a host stdio stream: the file type the host has, so the
/// guest's stdio buffers as it would natively (a pipe or file is fully
/// buffered, a terminal line buffered).
fn stream_attr(kind: StreamKind) -> Attr {
    let mut a = Attr {
        dev: makedev(0, 12),
        ino: 4026,
        nlink: 1,
        blksize: 4096,
        ..Attr::default()
    };
    match kind {
        StreamKind::Terminal => return console_attr(),
        StreamKind::Pipe => a.mode = mode::S_IFIFO | 0o600,
        StreamKind::Socket => a.mode = mode::S_IFSOCK | 0o777,
        StreamKind::File { size } => {
            a.mode = mode::S_IFREG | 0o644;
            a.size = size;
            a.blocks = size.div_ceil(512);
        }
        StreamKind::CharDevice => {
            a.mode = mode::S_IFCHR | 0o666;
            a.rdev = makedev(1, 3);
        }
    }
    a
}
