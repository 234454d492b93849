//! A minimal /dev: null, zero, full, random, urandom and tty, plus the
//! stream handle that also backs the console descriptors 0-2. (A full
//! devfs with ptys is a later issue; it replaces this file system.)

use super::{mode, Attr, DirEntry, FileHandle, FileSystem, FileType, Ino, OpenMode, SharedStream};
use crate::errno::{Errno, KResult};
use std::cell::RefCell;
use std::rc::Rc;
use wax_devices::{Entropy, StreamError};

/// The root directory of the device file system.
const ROOT: Ino = 1;

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
        if dir != ROOT {
            return Err(Errno::ENOTDIR);
        }
        DEVICES
            .iter()
            .position(|(n, _)| *n == name)
            .map(|i| i as Ino + 2)
            .ok_or(Errno::ENOENT)
    }
    fn getattr(&mut self, ino: Ino) -> KResult<Attr> {
        let mut a = Attr {
            dev: makedev(0, 5),
            ino,
            nlink: 1,
            blksize: 4096,
            ..Attr::default()
        };
        if ino == ROOT {
            a.mode = mode::S_IFDIR | 0o755;
            a.nlink = 2;
            return Ok(a);
        }
        let (_, (major, minor)) = DEVICES.get(ino as usize - 2).ok_or(Errno::ENOENT)?;
        a.mode = mode::S_IFCHR | 0o666;
        a.rdev = makedev(*major, *minor);
        Ok(a)
    }
    fn open(&mut self, ino: Ino, _how: OpenMode) -> KResult<Box<dyn FileHandle>> {
        let name = match ino {
            ROOT => return Err(Errno::EISDIR),
            _ => DEVICES.get(ino as usize - 2).ok_or(Errno::ENOENT)?.0,
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
        if dir != ROOT {
            return Err(Errno::ENOTDIR);
        }
        Ok(DEVICES
            .iter()
            .enumerate()
            .map(|(i, (n, _))| DirEntry {
                ino: i as Ino + 2,
                kind: FileType::CharDevice,
                name: n.to_vec(),
            })
            .collect())
    }
    fn readlink(&mut self, _ino: Ino) -> KResult<Vec<u8>> {
        Err(Errno::EINVAL)
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
}
