//! A minimal /dev: null, zero, full, random, urandom and tty, the
//! stdin/stdout/stderr and fd links into /proc/self/fd, a `pts` directory
//! whose `0` is the console, and an empty `shm` (covered by a tmpfs
//! mount). Also the stream handle that backs the console descriptors 0-2.
//! (Real ptys are a later issue.)

use super::{
    mode, Attr, DirEntry, FileHandle, FileSystem, FileType, FsType, Ino, OpenMode, SharedStream,
};
use crate::errno::{Errno, KResult};
use std::cell::RefCell;
use std::rc::Rc;
use wax_devices::{Entropy, StreamError};

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

/// name, (major, minor); the node number is the index + 2.
const DEVICES: [(&[u8], (u32, u32)); 6] = [
    (b"null", (1, 3)),
    (b"zero", (1, 5)),
    (b"full", (1, 7)),
    (b"random", (1, 8)),
    (b"urandom", (1, 9)),
    (b"tty", (5, 0)),
];

/// Device numbers as glibc's `gnu_dev_makedev` encodes them.
pub fn makedev(major: u32, minor: u32) -> u64 {
    let (ma, mi) = (u64::from(major), u64::from(minor));
    (mi & 0xff) | ((ma & 0xfff) << 8) | ((mi & !0xff) << 12) | ((ma & !0xfff) << 32)
}

/// The device file system.
pub struct DevFs {
    entropy: Rc<RefCell<dyn Entropy>>,
    console: StreamHandle,
}

impl DevFs {
    pub fn new(entropy: Rc<RefCell<dyn Entropy>>, console: StreamHandle) -> DevFs {
        DevFs { entropy, console }
    }
}

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
            PTMX => {
                a.mode = mode::S_IFCHR | 0o666;
                a.rdev = makedev(5, 2);
                return Ok(a);
            }
            _ => {}
        }
        if let Some((_, t)) = ino.checked_sub(LINK0).and_then(|i| LINKS.get(i as usize)) {
            a.mode = mode::S_IFLNK | 0o777;
            a.size = t.len() as u64;
            return Ok(a);
        }
        let (_, (major, minor)) = DEVICES
            .get((ino as usize).wrapping_sub(2))
            .ok_or(Errno::ENOENT)?;
        a.mode = mode::S_IFCHR | 0o666;
        a.rdev = makedev(*major, *minor);
        Ok(a)
    }
    fn open(&mut self, ino: Ino, _how: OpenMode) -> KResult<Box<dyn FileHandle>> {
        let name = match ino {
            ROOT | PTS | SHM => return Err(Errno::EISDIR),
            PTS0 => b"tty",
            PTMX => return Err(Errno::ENXIO),
            _ => {
                DEVICES
                    .get((ino as usize).wrapping_sub(2))
                    .ok_or(Errno::ELOOP)?
                    .0
            }
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
                return Ok(vec![
                    entry(PTS0, FileType::CharDevice, b"0"),
                    entry(PTMX, FileType::CharDevice, b"ptmx"),
                ])
            }
            SHM => return Ok(Vec::new()),
            _ => return Err(Errno::ENOTDIR),
        }
        let mut out: Vec<DirEntry> = DEVICES
            .iter()
            .enumerate()
            .map(|(i, (n, _))| entry(i as Ino + 2, FileType::CharDevice, n))
            .collect();
        out.push(entry(PTS, FileType::Directory, b"pts"));
        out.push(entry(SHM, FileType::Directory, b"shm"));
        for (i, (n, _)) in LINKS.iter().enumerate() {
            out.push(entry(LINK0 + i as Ino, FileType::Symlink, n));
        }
        Ok(out)
    }
    fn readlink(&mut self, ino: Ino) -> KResult<Vec<u8>> {
        let link = ino.checked_sub(LINK0).and_then(|i| LINKS.get(i as usize));
        link.map(|(_, t)| t.to_vec()).ok_or(Errno::EINVAL)
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
        Some(b"/dev/pts/0".to_vec())
    }
}
