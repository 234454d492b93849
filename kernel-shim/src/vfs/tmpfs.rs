//! tmpfs: a file system in memory (/tmp, /dev/shm), with the POSIX
//! semantics programs rely on: hard links, symlinks, rename over existing
//! files and directories, sparse files, times, modes, owners, FIFOs and
//! sockets as nodes, and files that live on while open after their last
//! link is gone.
//!
//! Every node is an [`Inode`] behind `Rc<RefCell<..>>`: open handles hold
//! the inode itself, so an unlinked file stays readable and `fstat` still
//! works. Regular files keep their data in 4 KiB pages in a map, so holes
//! cost nothing; the pages in use are counted in a [`Usage`] shared by
//! every tmpfs of the machine and capped (ENOSPC), the way Linux caps a
//! tmpfs at half of RAM by default.
//!
//! Times come from a shared clock cell ([`Now`]) the system call layer
//! keeps current, since a file system has no clock of its own.

use super::{
    mode, Attr, DirEntry, FileHandle, FileSystem, FileType, FsType, Ino, NewNode, OpenMode,
    SetAttr, StatFs,
};
use crate::abi::errno::{Errno, KResult};
use crate::abi::rename;
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;
use wax_devices::Timespec;

const PAGE: u64 = 4096;
/// Largest file size (MAX_LFS_FILESIZE on 32-bit kernels is 2^44 - 1; a
/// lower bound keeps page indices small).
const MAX_SIZE: u64 = 1 << 40;

/// The current time as the system call layer last saw it.
pub type Now = Rc<Cell<Timespec>>;

/// Pages of file data in use by all tmpfs instances, and the cap.
#[derive(Debug)]
pub struct Usage {
    pub pages: Cell<u64>,
    pub max_pages: u64,
}

impl Usage {
    pub fn new(max_bytes: u64) -> Rc<Usage> {
        Rc::new(Usage {
            pages: Cell::new(0),
            max_pages: max_bytes / PAGE,
        })
    }

    fn take(&self, n: u64) -> KResult<()> {
        let used = self.pages.get() + n;
        if used > self.max_pages {
            return Err(Errno::ENOSPC);
        }
        self.pages.set(used);
        Ok(())
    }

    fn give(&self, n: u64) {
        self.pages.set(self.pages.get().saturating_sub(n));
    }
}

/// The data of a regular file: present pages and the size.
struct Pages {
    map: BTreeMap<u64, Box<[u8]>>,
    size: u64,
    usage: Rc<Usage>,
}

impl Drop for Pages {
    fn drop(&mut self) {
        self.usage.give(self.map.len() as u64);
    }
}

impl Pages {
    fn read(&self, off: u64, buf: &mut [u8]) -> usize {
        if off >= self.size {
            return 0;
        }
        // The rest of the file can pass 4 GiB, beyond a 32-bit usize.
        let n = (self.size - off).min(buf.len() as u64) as usize;
        let mut done = 0;
        while done < n {
            let pos = off + done as u64;
            let (page, at) = (pos / PAGE, (pos % PAGE) as usize);
            let chunk = (n - done).min(PAGE as usize - at);
            let out = &mut buf[done..done + chunk];
            match self.map.get(&page) {
                Some(p) => out.copy_from_slice(&p[at..at + chunk]),
                None => out.fill(0),
            }
            done += chunk;
        }
        n
    }

    fn write(&mut self, off: u64, buf: &[u8]) -> KResult<usize> {
        let end = off.checked_add(buf.len() as u64).ok_or(Errno::EFBIG)?;
        if end > MAX_SIZE {
            return Err(Errno::EFBIG);
        }
        let mut done = 0;
        while done < buf.len() {
            let pos = off + done as u64;
            let (page, at) = (pos / PAGE, (pos % PAGE) as usize);
            let chunk = (buf.len() - done).min(PAGE as usize - at);
            if !self.map.contains_key(&page) {
                if let Err(e) = self.usage.take(1) {
                    // A short write if some bytes went in (like ENOSPC
                    // in the middle of a write on Linux).
                    self.size = self.size.max(pos);
                    return if done > 0 { Ok(done) } else { Err(e) };
                }
                self.map
                    .insert(page, vec![0; PAGE as usize].into_boxed_slice());
            }
            if let Some(p) = self.map.get_mut(&page) {
                p[at..at + chunk].copy_from_slice(&buf[done..done + chunk]);
            }
            done += chunk;
        }
        self.size = self.size.max(end);
        Ok(done)
    }

    fn truncate(&mut self, len: u64) -> KResult<()> {
        if len > MAX_SIZE {
            return Err(Errno::EFBIG);
        }
        let first_gone = len.div_ceil(PAGE);
        let gone: Vec<u64> = self.map.range(first_gone..).map(|(&k, _)| k).collect();
        for k in &gone {
            self.map.remove(k);
        }
        self.usage.give(gone.len() as u64);
        // Zero the tail of a partial last page so a later extension reads
        // zeros.
        if !len.is_multiple_of(PAGE) {
            if let Some(p) = self.map.get_mut(&(len / PAGE)) {
                p[(len % PAGE) as usize..].fill(0);
            }
        }
        self.size = len;
        Ok(())
    }

    /// Backs `off..off+len` with pages (fallocate mode 0).
    fn allocate(&mut self, off: u64, len: u64) -> KResult<()> {
        let end = off.checked_add(len).ok_or(Errno::EFBIG)?;
        if end > MAX_SIZE {
            return Err(Errno::EFBIG);
        }
        for page in off / PAGE..end.div_ceil(PAGE) {
            if !self.map.contains_key(&page) {
                self.usage.take(1)?;
                self.map
                    .insert(page, vec![0; PAGE as usize].into_boxed_slice());
            }
        }
        self.size = self.size.max(end);
        Ok(())
    }
}

enum Kind {
    /// Entries by name, and the parent directory (for rename loops).
    Dir {
        entries: BTreeMap<Vec<u8>, Ino>,
        parent: Ino,
    },
    File(Pages),
    Symlink(Vec<u8>),
    /// FIFOs, sockets and device nodes: only attributes.
    Special,
}

struct Inode {
    attr: Attr,
    kind: Kind,
    /// Extended attributes (user, trusted and security namespaces, as
    /// Linux's tmpfs keeps them).
    xattrs: BTreeMap<Vec<u8>, Vec<u8>>,
}

type InodeRef = Rc<RefCell<Inode>>;

pub struct TmpFs {
    nodes: HashMap<Ino, InodeRef>,
    next_ino: Ino,
    dev: u64,
    now: Now,
    usage: Rc<Usage>,
    /// Unlinked inodes still open somewhere: dropped once no handle is
    /// left.
    orphans: Vec<Ino>,
}

/// setxattr's flags.
const XATTR_CREATE: u32 = 1;
const XATTR_REPLACE: u32 = 2;

const ROOT: Ino = 1;

impl TmpFs {
    /// An empty tmpfs whose root has `root_mode` (e.g. 0o1777 for /tmp).
    pub fn new(dev: u64, now: Now, usage: Rc<Usage>, root_mode: u32) -> TmpFs {
        let mut fs = TmpFs {
            nodes: HashMap::new(),
            next_ino: ROOT,
            dev,
            now,
            usage,
            orphans: Vec::new(),
        };
        let root = NewNode {
            mode: mode::S_IFDIR | root_mode,
            ..NewNode::default()
        };
        fs.alloc(
            &root,
            Kind::Dir {
                entries: BTreeMap::new(),
                parent: ROOT,
            },
        );
        fs
    }

    fn alloc(&mut self, n: &NewNode, kind: Kind) -> Ino {
        let ino = self.next_ino;
        self.next_ino += 1;
        let now = self.now.get();
        let is_dir = matches!(kind, Kind::Dir { .. });
        let attr = Attr {
            dev: self.dev,
            ino,
            mode: n.mode,
            nlink: if is_dir { 2 } else { 1 },
            uid: n.uid,
            gid: n.gid,
            rdev: n.rdev,
            blksize: PAGE as u32,
            atime: now,
            mtime: now,
            ctime: now,
            ..Attr::default()
        };
        let node = Rc::new(RefCell::new(Inode {
            attr,
            kind,
            xattrs: BTreeMap::new(),
        }));
        self.nodes.insert(ino, node);
        ino
    }

    fn get(&self, ino: Ino) -> KResult<&InodeRef> {
        self.nodes.get(&ino).ok_or(Errno::ENOENT)
    }

    /// The entry `name` of directory `dir`.
    fn entry(&self, dir: Ino, name: &[u8]) -> KResult<Option<Ino>> {
        match &self.get(dir)?.borrow().kind {
            Kind::Dir { entries, .. } => Ok(entries.get(name).copied()),
            _ => Err(Errno::ENOTDIR),
        }
    }

    fn entries_mut<R>(
        &self,
        dir: Ino,
        f: impl FnOnce(&mut BTreeMap<Vec<u8>, Ino>) -> R,
    ) -> KResult<R> {
        let mut d = self.get(dir)?.borrow_mut();
        let now = self.now.get();
        d.attr.mtime = now;
        d.attr.ctime = now;
        match &mut d.kind {
            Kind::Dir { entries, .. } => Ok(f(entries)),
            _ => Err(Errno::ENOTDIR),
        }
    }

    fn is_dir(&self, ino: Ino) -> KResult<bool> {
        Ok(matches!(self.get(ino)?.borrow().kind, Kind::Dir { .. }))
    }

    fn is_empty_dir(&self, ino: Ino) -> KResult<bool> {
        match &self.get(ino)?.borrow().kind {
            Kind::Dir { entries, .. } => Ok(entries.is_empty()),
            _ => Err(Errno::ENOTDIR),
        }
    }

    fn add_nlink(&self, ino: Ino, delta: i32) -> KResult<()> {
        let mut n = self.get(ino)?.borrow_mut();
        n.attr.nlink = n.attr.nlink.saturating_add_signed(delta);
        n.attr.ctime = self.now.get();
        Ok(())
    }

    /// Adds a new node as `dir/name` (EEXIST if the name is taken).
    fn insert(&mut self, dir: Ino, name: &[u8], n: &NewNode, kind: Kind) -> KResult<Ino> {
        if self.entry(dir, name)?.is_some() {
            return Err(Errno::EEXIST);
        }
        let is_dir = matches!(kind, Kind::Dir { .. });
        let ino = self.alloc(n, kind);
        self.entries_mut(dir, |e| e.insert(name.to_vec(), ino))?;
        if is_dir {
            self.add_nlink(dir, 1)?;
        }
        Ok(ino)
    }

    /// Drops one link of `ino`; frees the node when no name and no handle
    /// is left.
    fn drop_link(&mut self, ino: Ino) -> KResult<()> {
        let dir = self.is_dir(ino)?;
        let node = self.get(ino)?.clone();
        let left = {
            let mut n = node.borrow_mut();
            n.attr.nlink = if dir {
                0
            } else {
                n.attr.nlink.saturating_sub(1)
            };
            n.attr.ctime = self.now.get();
            n.attr.nlink
        };
        if left == 0 {
            self.orphans.push(ino);
        }
        drop(node);
        self.collect();
        Ok(())
    }

    /// Frees orphans no handle refers to any more.
    fn collect(&mut self) {
        let nodes = &mut self.nodes;
        self.orphans.retain(|ino| {
            let open = nodes.get(ino).is_some_and(|n| Rc::strong_count(n) > 1);
            if !open {
                nodes.remove(ino);
            }
            open
        });
    }

    /// Whether directory `anc` is `ino` or one of its ancestors.
    fn is_ancestor(&self, anc: Ino, mut ino: Ino) -> KResult<bool> {
        loop {
            if ino == anc {
                return Ok(true);
            }
            let parent = match &self.get(ino)?.borrow().kind {
                Kind::Dir { parent, .. } => *parent,
                _ => return Ok(false),
            };
            if parent == ino {
                return Ok(false);
            }
            ino = parent;
        }
    }

    fn set_parent(&self, dir: Ino, new_parent: Ino) -> KResult<()> {
        if let Kind::Dir { parent, .. } = &mut self.get(dir)?.borrow_mut().kind {
            *parent = new_parent;
        }
        Ok(())
    }

    /// Whether the target of a rename may be replaced by the source.
    fn check_replace(&self, src: Ino, dst: Ino) -> KResult<()> {
        match (self.is_dir(src)?, self.is_dir(dst)?) {
            (true, false) => Err(Errno::ENOTDIR),
            (false, true) => Err(Errno::EISDIR),
            (true, true) if !self.is_empty_dir(dst)? => Err(Errno::ENOTEMPTY),
            _ => Ok(()),
        }
    }

    fn exchange(&mut self, odir: Ino, oname: &[u8], ndir: Ino, nname: &[u8]) -> KResult<()> {
        let src = self.entry(odir, oname)?.ok_or(Errno::ENOENT)?;
        let dst = self.entry(ndir, nname)?.ok_or(Errno::ENOENT)?;
        let (sd, dd) = (self.is_dir(src)?, self.is_dir(dst)?);
        if (sd && self.is_ancestor(src, ndir)?) || (dd && self.is_ancestor(dst, odir)?) {
            return Err(Errno::EINVAL);
        }
        self.entries_mut(odir, |e| e.insert(oname.to_vec(), dst))?;
        self.entries_mut(ndir, |e| e.insert(nname.to_vec(), src))?;
        if odir != ndir && sd != dd {
            let (gain, lose) = if sd { (ndir, odir) } else { (odir, ndir) };
            self.add_nlink(gain, 1)?;
            self.add_nlink(lose, -1)?;
        }
        if sd {
            self.set_parent(src, ndir)?;
        }
        if dd {
            self.set_parent(dst, odir)?;
        }
        Ok(())
    }
}

impl FileSystem for TmpFs {
    fn root(&self) -> Ino {
        ROOT
    }

    fn lookup(&mut self, dir: Ino, name: &[u8]) -> KResult<Ino> {
        self.entry(dir, name)?.ok_or(Errno::ENOENT)
    }

    fn getxattr(&mut self, ino: Ino, name: &[u8]) -> KResult<Vec<u8>> {
        let n = self.get(ino)?.borrow();
        n.xattrs.get(name).cloned().ok_or(Errno::ENODATA)
    }

    fn setxattr(&mut self, ino: Ino, name: &[u8], value: &[u8], flags: u32) -> KResult<()> {
        let now = self.now.get();
        let mut n = self.get(ino)?.borrow_mut();
        let user = name.starts_with(b"user.");
        if user && matches!(n.kind, Kind::Symlink(_) | Kind::Special) {
            return Err(Errno::EPERM);
        }
        if name.starts_with(b"system.") {
            return Err(Errno::EOPNOTSUPP);
        }
        let exists = n.xattrs.contains_key(name);
        if flags & XATTR_CREATE != 0 && exists {
            return Err(Errno::EEXIST);
        }
        if flags & XATTR_REPLACE != 0 && !exists {
            return Err(Errno::ENODATA);
        }
        n.xattrs.insert(name.to_vec(), value.to_vec());
        n.attr.ctime = now;
        Ok(())
    }

    fn listxattr(&mut self, ino: Ino) -> KResult<Vec<u8>> {
        let n = self.get(ino)?.borrow();
        Ok(n.xattrs
            .keys()
            .flat_map(|k| k.iter().copied().chain([0]))
            .collect())
    }

    fn removexattr(&mut self, ino: Ino, name: &[u8]) -> KResult<()> {
        let now = self.now.get();
        let mut n = self.get(ino)?.borrow_mut();
        n.xattrs.remove(name).ok_or(Errno::ENODATA)?;
        n.attr.ctime = now;
        Ok(())
    }

    fn getattr(&mut self, ino: Ino) -> KResult<Attr> {
        let n = self.get(ino)?.borrow();
        let mut a = n.attr;
        match &n.kind {
            Kind::File(p) => {
                a.size = p.size;
                a.blocks = p.map.len() as u64 * (PAGE / 512);
            }
            Kind::Symlink(t) => a.size = t.len() as u64,
            // Linux tmpfs reports a directory's size as 20 bytes per entry
            // plus 40.
            Kind::Dir { entries, .. } => a.size = 40 + 20 * entries.len() as u64,
            Kind::Special => {}
        }
        Ok(a)
    }

    fn setattr(&mut self, ino: Ino, set: &SetAttr) -> KResult<()> {
        let now = self.now.get();
        let mut n = self.get(ino)?.borrow_mut();
        if let Some(size) = set.size {
            match &mut n.kind {
                Kind::File(p) => p.truncate(size)?,
                Kind::Dir { .. } => return Err(Errno::EISDIR),
                _ => return Err(Errno::EINVAL),
            }
            n.attr.mtime = now;
        }
        let a = &mut n.attr;
        if let Some(m) = set.mode {
            a.mode = (a.mode & mode::S_IFMT) | (m & 0o7777);
        }
        if let Some(uid) = set.uid {
            a.uid = uid;
        }
        if let Some(gid) = set.gid {
            a.gid = gid;
        }
        if let Some(t) = set.atime {
            a.atime = t;
        }
        if let Some(t) = set.mtime {
            a.mtime = t;
        }
        a.ctime = now;
        Ok(())
    }

    fn open(&mut self, ino: Ino, how: OpenMode) -> KResult<Box<dyn FileHandle>> {
        let node = self.get(ino)?.clone();
        match &mut node.borrow_mut().kind {
            Kind::File(p) if how.truncate => p.truncate(0)?,
            Kind::File(_) => {}
            Kind::Dir { .. } => return Err(Errno::EISDIR),
            Kind::Symlink(_) => return Err(Errno::ELOOP),
            Kind::Special => return Err(Errno::ENXIO),
        }
        if how.truncate {
            let now = self.now.get();
            node.borrow_mut().attr.mtime = now;
            node.borrow_mut().attr.ctime = now;
        }
        Ok(Box::new(TmpHandle {
            node,
            now: self.now.clone(),
            append: how.append,
        }))
    }

    fn readdir(&mut self, dir: Ino) -> KResult<Vec<DirEntry>> {
        let names: Vec<(Vec<u8>, Ino)> = match &self.get(dir)?.borrow().kind {
            Kind::Dir { entries, .. } => entries.iter().map(|(n, &i)| (n.clone(), i)).collect(),
            _ => return Err(Errno::ENOTDIR),
        };
        names
            .into_iter()
            .map(|(name, ino)| {
                let kind = FileType::from_mode(self.get(ino)?.borrow().attr.mode);
                Ok(DirEntry { ino, kind, name })
            })
            .collect()
    }

    fn readlink(&mut self, ino: Ino) -> KResult<Vec<u8>> {
        match &self.get(ino)?.borrow().kind {
            Kind::Symlink(t) => Ok(t.clone()),
            _ => Err(Errno::EINVAL),
        }
    }

    fn create(&mut self, dir: Ino, name: &[u8], n: &NewNode) -> KResult<Ino> {
        let kind = match n.mode & mode::S_IFMT {
            mode::S_IFREG => Kind::File(Pages {
                map: BTreeMap::new(),
                size: 0,
                usage: self.usage.clone(),
            }),
            mode::S_IFIFO | mode::S_IFSOCK | mode::S_IFCHR | mode::S_IFBLK => Kind::Special,
            _ => return Err(Errno::EINVAL),
        };
        self.insert(dir, name, n, kind)
    }

    fn mkdir(&mut self, dir: Ino, name: &[u8], n: &NewNode) -> KResult<Ino> {
        let n = NewNode {
            mode: mode::S_IFDIR | (n.mode & 0o7777),
            ..*n
        };
        let kind = Kind::Dir {
            entries: BTreeMap::new(),
            parent: dir,
        };
        self.insert(dir, name, &n, kind)
    }

    fn symlink(&mut self, dir: Ino, name: &[u8], target: &[u8], n: &NewNode) -> KResult<Ino> {
        let n = NewNode {
            mode: mode::S_IFLNK | 0o777,
            ..*n
        };
        self.insert(dir, name, &n, Kind::Symlink(target.to_vec()))
    }

    fn link(&mut self, ino: Ino, dir: Ino, name: &[u8]) -> KResult<()> {
        if self.is_dir(ino)? {
            return Err(Errno::EPERM);
        }
        if self.entry(dir, name)?.is_some() {
            return Err(Errno::EEXIST);
        }
        if self.get(ino)?.borrow().attr.nlink == 0 {
            // linkat of an O_TMPFILE file gives it its first name.
            self.orphans.retain(|&o| o != ino);
        }
        self.entries_mut(dir, |e| e.insert(name.to_vec(), ino))?;
        self.add_nlink(ino, 1)
    }

    fn unlink(&mut self, dir: Ino, name: &[u8]) -> KResult<()> {
        let ino = self.entry(dir, name)?.ok_or(Errno::ENOENT)?;
        if self.is_dir(ino)? {
            return Err(Errno::EISDIR);
        }
        self.entries_mut(dir, |e| e.remove(name))?;
        self.drop_link(ino)
    }

    fn rmdir(&mut self, dir: Ino, name: &[u8]) -> KResult<()> {
        let ino = self.entry(dir, name)?.ok_or(Errno::ENOENT)?;
        if !self.is_empty_dir(ino)? {
            return Err(Errno::ENOTEMPTY);
        }
        self.entries_mut(dir, |e| e.remove(name))?;
        self.add_nlink(dir, -1)?;
        self.drop_link(ino)
    }

    fn rename(
        &mut self,
        odir: Ino,
        oname: &[u8],
        ndir: Ino,
        nname: &[u8],
        flags: u32,
    ) -> KResult<()> {
        if flags & rename::RENAME_EXCHANGE != 0 {
            return self.exchange(odir, oname, ndir, nname);
        }
        let src = self.entry(odir, oname)?.ok_or(Errno::ENOENT)?;
        let dst = self.entry(ndir, nname)?;
        let src_dir = self.is_dir(src)?;
        if src_dir && self.is_ancestor(src, ndir)? {
            return Err(Errno::EINVAL);
        }
        if let Some(d) = dst {
            if flags & rename::RENAME_NOREPLACE != 0 {
                return Err(Errno::EEXIST);
            }
            if d == src {
                // Two names of one file: POSIX says do nothing.
                return Ok(());
            }
            self.check_replace(src, d)?;
        }
        self.entries_mut(odir, |e| e.remove(oname))?;
        self.entries_mut(ndir, |e| e.insert(nname.to_vec(), src))?;
        if let Some(d) = dst {
            if self.is_dir(d)? {
                self.add_nlink(ndir, -1)?;
            }
            self.drop_link(d)?;
        }
        if src_dir {
            self.set_parent(src, ndir)?;
            if odir != ndir {
                self.add_nlink(odir, -1)?;
                self.add_nlink(ndir, 1)?;
            }
        }
        self.get(src)?.borrow_mut().attr.ctime = self.now.get();
        Ok(())
    }

    /// Nodes change only through the trait.
    fn stable_dirs(&self) -> bool {
        true
    }

    fn fs_type(&self) -> FsType {
        FsType::TMPFS
    }

    fn statfs(&mut self) -> KResult<StatFs> {
        let total = self.usage.max_pages;
        let free = total.saturating_sub(self.usage.pages.get());
        let files = total / 2;
        Ok(StatFs {
            f_type: FsType::TMPFS.magic,
            f_bsize: PAGE as u32,
            f_blocks: total,
            f_bfree: free,
            f_bavail: free,
            f_files: files,
            f_ffree: files.saturating_sub(self.nodes.len() as u64),
            f_namelen: 255,
        })
    }
}

/// An open tmpfs file.
struct TmpHandle {
    node: InodeRef,
    now: Now,
    append: bool,
}

impl TmpHandle {
    fn pages<R>(&self, f: impl FnOnce(&mut Pages) -> KResult<R>) -> KResult<R> {
        match &mut self.node.borrow_mut().kind {
            Kind::File(p) => f(p),
            _ => Err(Errno::EINVAL),
        }
    }

    fn modified(&self) {
        let now = self.now.get();
        let mut n = self.node.borrow_mut();
        n.attr.mtime = now;
        n.attr.ctime = now;
    }
}

impl FileHandle for TmpHandle {
    fn read_at(&mut self, off: u64, buf: &mut [u8]) -> KResult<usize> {
        let n = self.pages(|p| Ok(p.read(off, buf)))?;
        self.node.borrow_mut().attr.atime = self.now.get();
        Ok(n)
    }

    fn write_at(&mut self, off: u64, buf: &[u8]) -> KResult<usize> {
        let append = self.append;
        let n = self.pages(|p| p.write(if append { p.size } else { off }, buf))?;
        self.modified();
        Ok(n)
    }

    fn set_len(&mut self, len: u64) -> KResult<()> {
        self.pages(|p| p.truncate(len))?;
        self.modified();
        Ok(())
    }

    fn allocate(&mut self, off: u64, len: u64) -> KResult<()> {
        self.pages(|p| p.allocate(off, len))?;
        self.modified();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fs() -> TmpFs {
        TmpFs::new(42, Rc::default(), Usage::new(1 << 20), 0o1777)
    }

    fn file(mode: u32) -> NewNode {
        NewNode {
            mode: mode::S_IFREG | mode,
            ..NewNode::default()
        }
    }

    fn dir() -> NewNode {
        NewNode {
            mode: 0o755,
            ..NewNode::default()
        }
    }

    fn rw() -> OpenMode {
        OpenMode {
            read: true,
            write: true,
            ..OpenMode::default()
        }
    }

    #[test]
    fn sparse_files_read_zeros_and_cost_only_written_pages() {
        let mut t = fs();
        let f = t.create(ROOT, b"f", &file(0o644)).unwrap();
        let mut h = t.open(f, rw()).unwrap();
        assert_eq!(h.write_at(1 << 20, b"end").unwrap(), 3);
        let a = t.getattr(f).unwrap();
        assert_eq!((a.size, a.blocks), ((1 << 20) + 3, 8));
        let mut buf = [1u8; 8];
        assert_eq!(h.read_at(4096, &mut buf).unwrap(), 8);
        assert_eq!(buf, [0; 8]);
        h.set_len(2).unwrap();
        h.set_len(10).unwrap();
        assert_eq!(h.read_at(0, &mut buf).unwrap(), 8);
        assert_eq!(buf, [0; 8]);
    }

    /// Offsets and sizes past 4 GiB (a 32-bit usize on wasm32): a full
    /// read where more than 4 GiB of file follows, data written there.
    #[test]
    fn offsets_past_4_gib() {
        let mut t = fs();
        let f = t.create(ROOT, b"f", &file(0o644)).unwrap();
        let mut h = t.open(f, rw()).unwrap();
        h.set_len((1 << 32) + 100).unwrap();
        let mut buf = [1u8; 4096];
        assert_eq!(h.read_at(0, &mut buf).unwrap(), 4096);
        assert_eq!(buf, [0; 4096]);
        assert_eq!(h.write_at((5 << 30) + 4090, b"far bytes").unwrap(), 9);
        let mut b = [0u8; 12];
        assert_eq!(h.read_at((5 << 30) + 4088, &mut b).unwrap(), 11);
        assert_eq!(&b, b"\0\0far bytes\0");
        assert_eq!(h.read_at(1 << 32, &mut b[..4]).unwrap(), 4);
        assert_eq!(t.getattr(f).unwrap().size, (5 << 30) + 4099);
    }

    #[test]
    fn unlinked_open_file_lives_until_closed() {
        let mut t = fs();
        let f = t.create(ROOT, b"f", &file(0o600)).unwrap();
        let mut h = t.open(f, rw()).unwrap();
        h.write_at(0, b"data").unwrap();
        t.unlink(ROOT, b"f").unwrap();
        assert_eq!(t.lookup(ROOT, b"f"), Err(Errno::ENOENT));
        assert_eq!(t.getattr(f).unwrap().nlink, 0);
        let mut buf = [0u8; 4];
        h.read_at(0, &mut buf).unwrap();
        assert_eq!(&buf, b"data");
        assert_eq!(t.usage.pages.get(), 1);
        drop(h);
        t.collect();
        assert_eq!(t.getattr(f), Err(Errno::ENOENT));
        assert_eq!(t.usage.pages.get(), 0);
    }

    #[test]
    fn hard_links_share_data_and_count() {
        let mut t = fs();
        let f = t.create(ROOT, b"a", &file(0o644)).unwrap();
        t.link(f, ROOT, b"b").unwrap();
        assert_eq!(t.getattr(f).unwrap().nlink, 2);
        assert_eq!(t.link(f, ROOT, b"b"), Err(Errno::EEXIST));
        // Renaming one link onto the other changes nothing.
        t.rename(ROOT, b"a", ROOT, b"b", 0).unwrap();
        assert_eq!(t.lookup(ROOT, b"a").unwrap(), f);
        t.unlink(ROOT, b"a").unwrap();
        assert_eq!(t.getattr(f).unwrap().nlink, 1);
    }

    #[test]
    fn rename_rules_for_directories() {
        let mut t = fs();
        let d = t.mkdir(ROOT, b"d", &dir()).unwrap();
        let sub = t.mkdir(d, b"sub", &dir()).unwrap();
        let e = t.mkdir(ROOT, b"e", &dir()).unwrap();
        t.create(e, b"x", &file(0o644)).unwrap();
        t.create(ROOT, b"f", &file(0o644)).unwrap();
        assert_eq!(t.rename(ROOT, b"d", sub, b"in", 0), Err(Errno::EINVAL));
        assert_eq!(t.rename(ROOT, b"d", ROOT, b"e", 0), Err(Errno::ENOTEMPTY));
        assert_eq!(t.rename(ROOT, b"d", ROOT, b"f", 0), Err(Errno::ENOTDIR));
        assert_eq!(t.rename(ROOT, b"f", ROOT, b"d", 0), Err(Errno::EISDIR));
        assert_eq!(
            t.rename(ROOT, b"f", ROOT, b"d", rename::RENAME_NOREPLACE),
            Err(Errno::EEXIST)
        );
        assert_eq!(t.getattr(ROOT).unwrap().nlink, 4);
        // Moving a directory moves its ".." link.
        t.rename(d, b"sub", e, b"sub", 0).unwrap();
        assert_eq!(t.getattr(d).unwrap().nlink, 2);
        assert_eq!(t.getattr(e).unwrap().nlink, 3);
        // Over an empty directory.
        let empty = t.mkdir(ROOT, b"empty", &dir()).unwrap();
        t.rename(ROOT, b"d", ROOT, b"empty", 0).unwrap();
        assert_eq!(t.lookup(ROOT, b"empty").unwrap(), d);
        assert_eq!(t.getattr(empty), Err(Errno::ENOENT));
        assert_eq!(t.getattr(ROOT).unwrap().nlink, 4);
    }

    #[test]
    fn exchange_swaps_a_file_and_a_directory() {
        let mut t = fs();
        let d = t.mkdir(ROOT, b"d", &dir()).unwrap();
        let sub = t.mkdir(ROOT, b"s", &dir()).unwrap();
        let f = t.create(sub, b"f", &file(0o644)).unwrap();
        t.rename(ROOT, b"d", sub, b"f", rename::RENAME_EXCHANGE)
            .unwrap();
        assert_eq!(t.lookup(sub, b"f").unwrap(), d);
        assert_eq!(t.lookup(ROOT, b"d").unwrap(), f);
        assert_eq!(t.getattr(ROOT).unwrap().nlink, 3);
        assert_eq!(t.getattr(sub).unwrap().nlink, 3);
    }

    #[test]
    fn rmdir_and_special_nodes() {
        let mut t = fs();
        let d = t.mkdir(ROOT, b"d", &dir()).unwrap();
        let fifo = NewNode {
            mode: mode::S_IFIFO | 0o644,
            ..NewNode::default()
        };
        let p = t.create(d, b"p", &fifo).unwrap();
        assert_eq!(t.getattr(p).unwrap().file_type(), FileType::Fifo);
        assert_eq!(t.rmdir(ROOT, b"d"), Err(Errno::ENOTEMPTY));
        assert_eq!(t.unlink(ROOT, b"d"), Err(Errno::EISDIR));
        t.unlink(d, b"p").unwrap();
        t.rmdir(ROOT, b"d").unwrap();
        assert_eq!(t.getattr(ROOT).unwrap().nlink, 2);
    }

    #[test]
    fn full_tmpfs_fails_with_enospc() {
        let mut t = TmpFs::new(1, Rc::default(), Usage::new(2 * PAGE), 0o777);
        let f = t.create(ROOT, b"f", &file(0o644)).unwrap();
        let mut h = t.open(f, rw()).unwrap();
        let big = vec![7u8; 3 * PAGE as usize];
        assert_eq!(h.write_at(0, &big).unwrap(), 2 * PAGE as usize);
        assert_eq!(h.write_at(2 * PAGE, b"x"), Err(Errno::ENOSPC));
        assert_eq!(t.statfs().unwrap().f_bfree, 0);
    }

    #[test]
    fn times_follow_the_clock() {
        let now: Now = Rc::default();
        let mut t = TmpFs::new(1, now.clone(), Usage::new(1 << 20), 0o777);
        let f = t.create(ROOT, b"f", &file(0o644)).unwrap();
        now.set(Timespec { sec: 5, nsec: 0 });
        let mut h = t.open(f, rw()).unwrap();
        h.write_at(0, b"x").unwrap();
        let a = t.getattr(f).unwrap();
        assert_eq!((a.mtime.sec, a.atime.sec), (5, 0));
        assert_eq!(t.getattr(ROOT).unwrap().mtime.sec, 0);
    }
}
