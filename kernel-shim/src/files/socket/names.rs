//! Socket names: `struct sockaddr_un` encoding, and the table that finds
//! a bound socket by name.
//!
//! A path name is a socket node in the VFS (created by bind, so `ls`
//! shows it and unlink removes it); the table maps the node to the socket
//! bound there, so any file system that can hold a socket node works.
//! Abstract names (a leading NUL) live only in the table. Entries are
//! weak: a closed socket's name no longer connects (ECONNREFUSED), and a
//! later bind of the same abstract name succeeds.

use super::{Socket, SocketRef};
use crate::abi::errno::{Errno, KResult};
use crate::vfs::{Ino, MountId};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::{Rc, Weak};

pub const AF_UNIX: u16 = 1;
/// offsetof(struct sockaddr_un, sun_path).
const PATH_OFF: usize = 2;
/// sizeof(struct sockaddr_un).
pub const SOCKADDR_UN_LEN: usize = 110;

/// A socket's name.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Addr {
    /// A path, as given to bind (getsockname returns it unchanged).
    Path(Vec<u8>),
    /// An abstract name (without the leading NUL).
    Abstract(Vec<u8>),
}

/// What a caller passed as a `sockaddr_un`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Given {
    /// Only the family: bind picks an abstract name (autobind).
    Unnamed,
    Name(Addr),
}

impl Addr {
    /// Parses `len` bytes of a `sockaddr_un` (Linux's unix_mkname).
    pub fn parse(raw: &[u8]) -> KResult<Given> {
        if raw.len() < PATH_OFF || raw.len() > SOCKADDR_UN_LEN {
            return Err(Errno::EINVAL);
        }
        if u16::from_le_bytes([raw[0], raw[1]]) != AF_UNIX {
            return Err(Errno::EINVAL);
        }
        let path = &raw[PATH_OFF..];
        match path.first() {
            None => Ok(Given::Unnamed),
            Some(0) => Ok(Given::Name(Addr::Abstract(path[1..].to_vec()))),
            Some(_) => {
                let end = path.iter().position(|&b| b == 0).unwrap_or(path.len());
                Ok(Given::Name(Addr::Path(path[..end].to_vec())))
            }
        }
    }

    /// The `sockaddr_un` bytes and the length the kernel reports (a path
    /// counts its NUL).
    pub fn encode(name: Option<&Addr>) -> Vec<u8> {
        let mut b = AF_UNIX.to_le_bytes().to_vec();
        match name {
            None => {}
            Some(Addr::Path(p)) => {
                b.extend_from_slice(p);
                b.push(0);
            }
            Some(Addr::Abstract(n)) => {
                b.push(0);
                b.extend_from_slice(n);
            }
        }
        b
    }
}

/// Where a bound name lives.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Key {
    Node(MountId, Ino),
    Abstract(Vec<u8>),
}

/// The name table, and the counter for `socket:[N]` inode numbers.
#[derive(Default)]
pub struct Namespace {
    bound: HashMap<Key, Weak<RefCell<Socket>>>,
    next_id: u64,
    next_auto: u32,
}

impl Namespace {
    /// A fresh socket inode number.
    pub fn new_id(&mut self) -> u64 {
        self.next_id += 1;
        // Linux's sockfs numbers are large; any unique value does.
        40_000 + self.next_id
    }

    fn live(&self, key: &Key) -> Option<SocketRef> {
        self.bound.get(key).and_then(Weak::upgrade)
    }

    /// Binds an abstract name (EADDRINUSE if a live socket has it).
    pub fn bind_abstract(&mut self, name: &[u8], s: &SocketRef) -> KResult<()> {
        let key = Key::Abstract(name.to_vec());
        if self.live(&key).is_some() {
            return Err(Errno::EADDRINUSE);
        }
        self.bound.insert(key, Rc::downgrade(s));
        self.sweep();
        Ok(())
    }

    /// An unused abstract name for autobind: five hex digits, as Linux.
    pub fn auto_name(&mut self) -> Vec<u8> {
        loop {
            self.next_auto = (self.next_auto + 1) & 0xfffff;
            let name = format!("{:05x}", self.next_auto).into_bytes();
            if self.live(&Key::Abstract(name.clone())).is_none() {
                return name;
            }
        }
    }

    /// Records the socket bound at a freshly created node.
    pub fn bind_node(&mut self, m: MountId, ino: Ino, s: &SocketRef) {
        self.bound.insert(Key::Node(m, ino), Rc::downgrade(s));
        self.sweep();
    }

    pub fn find_abstract(&self, name: &[u8]) -> Option<SocketRef> {
        self.live(&Key::Abstract(name.to_vec()))
    }

    pub fn find_node(&self, m: MountId, ino: Ino) -> Option<SocketRef> {
        self.live(&Key::Node(m, ino))
    }

    /// Drops entries of closed sockets once the table has grown.
    fn sweep(&mut self) {
        if self.bound.len() > 64 && self.bound.len().is_power_of_two() {
            self.bound.retain(|_, w| w.strong_count() > 0);
        }
    }
}
