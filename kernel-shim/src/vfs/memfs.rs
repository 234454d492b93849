//! A tiny in-memory file system for unit tests of the path walk and the
//! system calls (the guest's tmpfs is `tmpfs.rs`).

use super::{mode, Attr, DirEntry, FileHandle, FileSystem, FileType, Ino, OpenMode};
use crate::abi::errno::{Errno, KResult};
use std::cell::RefCell;
use std::rc::Rc;

enum Node {
    Dir(Vec<(Vec<u8>, Ino)>),
    File(Rc<RefCell<Vec<u8>>>),
    Symlink(Vec<u8>),
}

/// Nodes in a vector; node 0 is the root directory.
pub struct MemFs {
    nodes: Vec<Node>,
}

impl Default for MemFs {
    fn default() -> Self {
        Self::new()
    }
}

impl MemFs {
    pub fn new() -> MemFs {
        MemFs {
            nodes: vec![Node::Dir(Vec::new())],
        }
    }

    pub fn root_ino(&self) -> Ino {
        0
    }

    fn add(&mut self, dir: Ino, name: &[u8], node: Node) -> Ino {
        let ino = self.nodes.len() as Ino;
        self.nodes.push(node);
        if let Node::Dir(e) = &mut self.nodes[dir as usize] {
            e.push((name.to_vec(), ino));
        }
        ino
    }

    pub fn add_dir(&mut self, dir: Ino, name: &[u8]) -> Ino {
        self.add(dir, name, Node::Dir(Vec::new()))
    }

    pub fn add_file(&mut self, dir: Ino, name: &[u8], data: &[u8]) -> Ino {
        self.add(dir, name, Node::File(Rc::new(RefCell::new(data.to_vec()))))
    }

    pub fn add_symlink(&mut self, dir: Ino, name: &[u8], target: &[u8]) -> Ino {
        self.add(dir, name, Node::Symlink(target.to_vec()))
    }

    fn node(&self, ino: Ino) -> KResult<&Node> {
        self.nodes.get(ino as usize).ok_or(Errno::ENOENT)
    }
}

struct MemHandle(Rc<RefCell<Vec<u8>>>);

impl FileHandle for MemHandle {
    fn read_at(&mut self, off: u64, buf: &mut [u8]) -> KResult<usize> {
        let d = self.0.borrow();
        let start = (off as usize).min(d.len());
        let n = buf.len().min(d.len() - start);
        buf[..n].copy_from_slice(&d[start..start + n]);
        Ok(n)
    }
    fn write_at(&mut self, off: u64, buf: &[u8]) -> KResult<usize> {
        let mut d = self.0.borrow_mut();
        let end = off as usize + buf.len();
        if d.len() < end {
            d.resize(end, 0);
        }
        d[off as usize..end].copy_from_slice(buf);
        Ok(buf.len())
    }
}

impl FileSystem for MemFs {
    fn root(&self) -> Ino {
        0
    }
    fn lookup(&mut self, dir: Ino, name: &[u8]) -> KResult<Ino> {
        match self.node(dir)? {
            Node::Dir(e) => e
                .iter()
                .find(|(n, _)| n == name)
                .map(|&(_, i)| i)
                .ok_or(Errno::ENOENT),
            _ => Err(Errno::ENOTDIR),
        }
    }
    fn getattr(&mut self, ino: Ino) -> KResult<Attr> {
        let (m, size) = match self.node(ino)? {
            Node::Dir(_) => (mode::S_IFDIR | 0o755, 0),
            Node::File(d) => (mode::S_IFREG | 0o644, d.borrow().len() as u64),
            Node::Symlink(t) => (mode::S_IFLNK | 0o777, t.len() as u64),
        };
        Ok(Attr {
            ino: ino + 1,
            mode: m,
            nlink: 1,
            size,
            ..Attr::default()
        })
    }
    fn open(&mut self, ino: Ino, _how: OpenMode) -> KResult<Box<dyn FileHandle>> {
        match self.node(ino)? {
            Node::File(d) => Ok(Box::new(MemHandle(d.clone()))),
            _ => Err(Errno::EISDIR),
        }
    }
    fn readdir(&mut self, dir: Ino) -> KResult<Vec<DirEntry>> {
        let Node::Dir(e) = self.node(dir)? else {
            return Err(Errno::ENOTDIR);
        };
        let e = e.clone();
        e.into_iter()
            .map(|(name, ino)| {
                let kind = FileType::from_mode(self.getattr(ino)?.mode);
                Ok(DirEntry { ino, kind, name })
            })
            .collect()
    }
    fn readlink(&mut self, ino: Ino) -> KResult<Vec<u8>> {
        match self.node(ino)? {
            Node::Symlink(t) => Ok(t.clone()),
            _ => Err(Errno::EINVAL),
        }
    }
    fn create(&mut self, dir: Ino, name: &[u8], _node: &super::NewNode) -> KResult<Ino> {
        if self.lookup(dir, name).is_ok() {
            return Err(Errno::EEXIST);
        }
        Ok(self.add_file(dir, name, b""))
    }
}
