//! The mount table and the path walk (the only place guest paths become
//! nodes, so the guest-root confinement is enforced here for every file
//! system).

use super::lock::LockTable;
use super::perm::{self, Cred};
use super::tmpfs::Now;
use super::{Attr, FileSystem, FsType, Ino, MountId};
use crate::abi::errno::{Errno, KResult};
use std::collections::HashMap;
use wax_devices::Timespec;

/// Longest path a system call accepts (PATH_MAX, with its NUL).
pub const PATH_MAX: usize = 4096;
/// Longest file name (NAME_MAX).
pub const NAME_MAX: usize = 255;
/// Symlinks followed in one walk before ELOOP (Linux: 40).
pub const MAX_SYMLINKS: u32 = 40;

/// One directory (or the final node) on the way from the root.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Step {
    mount: MountId,
    ino: Ino,
    name: Vec<u8>,
}

/// A node together with the chain of directories that leads to it from the
/// guest root. `..` walks back along the chain, so it can never leave the
/// root. An empty chain is the root itself.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Location {
    chain: Vec<Step>,
}

impl Location {
    /// The guest root directory.
    pub fn root() -> Location {
        Location::default()
    }

    /// The absolute guest path of this location ("/" for the root).
    pub fn path(&self) -> Vec<u8> {
        if self.chain.is_empty() {
            return b"/".to_vec();
        }
        let mut p = Vec::new();
        for s in &self.chain {
            p.push(b'/');
            p.extend_from_slice(&s.name);
        }
        p
    }

    /// The location of the directory that holds this node.
    pub fn parent(&self) -> Location {
        let mut l = self.clone();
        l.chain.pop();
        l
    }

    /// The path of `name` in this directory.
    pub fn join_name(&self, name: &[u8]) -> Vec<u8> {
        let mut p = self.path();
        if p != b"/" {
            p.push(b'/');
        }
        p.extend_from_slice(name);
        p
    }

    /// Whether this is the guest root.
    pub fn is_root(&self) -> bool {
        self.chain.is_empty()
    }

    /// The path of this location as a process whose root directory is
    /// `root` (chroot) sees it: relative to that root, or, for a location
    /// outside it, its path from the guest root after "(unreachable)", as
    /// Linux's getcwd and /proc links show such a place.
    pub fn path_within(&self, root: &Location) -> Vec<u8> {
        if root.is_root() {
            return self.path();
        }
        match self.chain.strip_prefix(root.chain.as_slice()) {
            Some(rest) => Location {
                chain: rest.to_vec(),
            }
            .path(),
            None => [&b"(unreachable)"[..], &self.path()].concat(),
        }
    }

    fn push(&mut self, mount: MountId, ino: Ino, name: &[u8]) {
        self.chain.push(Step {
            mount,
            ino,
            name: name.to_vec(),
        });
    }
}

/// Whether the last component of a path is followed when it is a symlink.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resolve {
    Follow,
    NoFollow,
}

/// The mount table: file systems and the names they cover.
pub struct Vfs {
    mounts: Vec<Box<dyn FileSystem>>,
    /// (mount, directory) and name → the file system mounted on that
    /// name (by directory first, so a lookup needs no key of its own).
    covers: HashMap<(MountId, Ino), HashMap<Vec<u8>, MountId>>,
    /// The guest path each mount covers ("/" for the root).
    points: Vec<Vec<u8>>,
    /// The time file systems stamp on changes; the system call layer
    /// keeps it current.
    pub now: Now,
    /// Advisory locks of all processes.
    pub locks: LockTable,
    /// Whose walk this is: directories need search (x) permission.
    pub cred: Cred,
    /// The walking process's root directory (chroot): where absolute
    /// paths start and past which `..` does not go. The system call layer
    /// sets it with `cred` before each walk.
    pub root: Location,
    /// The directories walks went through, by (mount, parent) and name:
    /// what `child_attr` answered for them, so a walk asks its file
    /// systems only about the last component of a path it has seen the
    /// directories of. Kept only where [`FileSystem::stable_dirs`] says
    /// names and modes change through calls alone, and dropped whole by
    /// [`Vfs::fs`], the way to every call that may change them.
    dirs: HashMap<(MountId, Ino), HashMap<Vec<u8>, Child>>,
    /// Directories in `dirs` (cleared past [`DIRS_KEPT`]).
    dirs_len: usize,
    /// The last component the previous system call looked up, usable by
    /// this one (see [`Recent`]); `fresh` is this call's.
    recent: Option<Recent>,
    fresh: Option<Recent>,
    /// When this system call began (`Vfs::next_call`).
    call_start: Timespec,
    /// Moves on before anything that may change a file's bytes (write,
    /// truncate, fallocate, splice into a file, a shared mapping's write
    /// back; also reads and syncs, which flush shared mappings first), so
    /// pages copied from a file under one value still hold its bytes.
    pub content_writes: u64,
}

/// A child node found by name: its mount, node and attributes.
type Child = (MountId, Ino, Attr);

/// The last component of a path one system call looked up, for the next
/// call to use: programs ask about one path several times in a row (ls
/// -l: statx, then lgetxattr and getxattr of the same file). The next
/// call may take it instead of asking the file system if it began within
/// [`RECENT_NS`] of the call that asked, no file's bytes may have changed
/// since (`Vfs::content_writes`) and nothing went through [`Vfs::fs`]
/// (names, modes, owners). Nothing else the guest does between two system
/// calls can change a file, so for the guest this is exact; a change
/// another host process makes to a directory root in that moment is seen
/// as if made just after the second call. Kept only on file systems with
/// [`FileSystem::stable_dirs`] (not /proc, whose entries come and go with
/// processes).
#[derive(Clone)]
struct Recent {
    mount: MountId,
    dir: Ino,
    name: Vec<u8>,
    child: Child,
    /// When the call that asked the file system began.
    asked: Timespec,
    /// `Vfs::content_writes` then.
    writes: u64,
}

/// How long after the system call that looked a name up the next one may
/// use the answer (`Recent`).
const RECENT_NS: i128 = 1_000_000;

/// Most directories `Vfs::dirs` keeps.
const DIRS_KEPT: usize = 8192;

impl Vfs {
    /// A table whose root is `root`.
    pub fn new(root: Box<dyn FileSystem>) -> Vfs {
        Vfs {
            mounts: vec![root],
            covers: HashMap::new(),
            points: vec![b"/".to_vec()],
            now: Now::default(),
            locks: LockTable::default(),
            cred: Cred::default(),
            root: Location::root(),
            dirs: HashMap::new(),
            dirs_len: 0,
            recent: None,
            fresh: None,
            call_start: Timespec::default(),
            content_writes: 0,
        }
    }

    /// The mounts: (id, guest path of the mount point, type).
    pub fn mounts(&self) -> Vec<(MountId, Vec<u8>, FsType)> {
        self.points
            .iter()
            .enumerate()
            .map(|(i, p)| (i, p.clone(), self.mounts[i].fs_type()))
            .collect()
    }

    /// The mount a location is in.
    pub fn mount_of(&self, loc: &Location) -> MountId {
        self.node(loc).0
    }

    /// The mount whose mount point is `point`, if any.
    pub fn mount_at(&self, point: &[u8]) -> Option<MountId> {
        self.points.iter().position(|p| p == point)
    }

    /// Mounts `fs` on the directory name `at` (an absolute guest path like
    /// "/dev"); the directory itself need not exist in the parent.
    pub fn mount(&mut self, at: &[u8], fs: Box<dyn FileSystem>) -> KResult<MountId> {
        let (dir, name) = self.resolve_parent(&Location::root(), at)?;
        if name.is_empty() || name == b"." || name == b".." {
            return Err(Errno::EBUSY);
        }
        let (m, ino) = self.node(&dir);
        let id = self.mounts.len();
        self.forget_dirs();
        self.mounts.push(fs);
        self.points.push(dir.join_name(&name));
        self.covers.entry((m, ino)).or_default().insert(name, id);
        Ok(id)
    }

    /// The file system of a mount, for any call: the directories walks
    /// remembered are forgotten, as the call may create, remove, rename
    /// or change the mode or owner of one.
    pub fn fs(&mut self, m: MountId) -> &mut dyn FileSystem {
        self.forget_dirs();
        self.mounts[m].as_mut()
    }

    /// The file system of a mount, for a call that changes no name and no
    /// node's type, mode or owner: `getattr`, `readlink`, `readdir`,
    /// `open` of an existing node, `getxattr`, `listxattr`, `statfs`,
    /// `sync`, `fs_type`. The directories walks remembered stay.
    pub fn fs_query(&mut self, m: MountId) -> &mut dyn FileSystem {
        self.mounts[m].as_mut()
    }

    /// Forgets the directories walks went through (`Vfs::dirs`) and the
    /// last names looked up (`Recent`).
    fn forget_dirs(&mut self) {
        if self.dirs_len != 0 {
            self.dirs.clear();
            self.dirs_len = 0;
        }
        self.recent = None;
        self.fresh = None;
    }

    /// A system call begins at `now` (monotonic): the last name the
    /// previous one looked up stays usable if it is recent enough.
    pub fn next_call(&mut self, now: Timespec) {
        let fresh = self.fresh.take();
        self.recent = fresh.filter(|r| {
            let age = now.as_nanos() - r.asked.as_nanos();
            (0..RECENT_NS).contains(&age) && r.writes == self.content_writes
        });
        self.call_start = now;
    }

    /// The node a location names.
    pub fn node(&self, loc: &Location) -> (MountId, Ino) {
        match loc.chain.last() {
            Some(s) => (s.mount, s.ino),
            None => (0, self.mounts[0].root()),
        }
    }

    /// Attributes of the node a location names.
    pub fn getattr(&mut self, loc: &Location) -> KResult<Attr> {
        let (m, ino) = self.node(loc);
        self.fs_query(m).getattr(ino)
    }

    /// The child `name` of directory `(m, dir)`, crossing into a mounted
    /// file system when the name is covered.
    fn child(&mut self, m: MountId, dir: Ino, name: &[u8]) -> KResult<(MountId, Ino)> {
        if let Some(sub) = self.covering(m, dir, name) {
            return Ok((sub, self.mounts[sub].root()));
        }
        Ok((m, self.fs_query(m).lookup(dir, name)?))
    }

    /// [`Vfs::child`] with the child's attributes, in one question to the
    /// file system where it can answer both at once.
    fn child_attr(&mut self, m: MountId, dir: Ino, name: &[u8]) -> KResult<(MountId, Ino, Attr)> {
        if let Some(sub) = self.covering(m, dir, name) {
            let root = self.mounts[sub].root();
            return Ok((sub, root, self.fs_query(sub).getattr(root)?));
        }
        let (ino, attr) = self.fs_query(m).lookup_attr(dir, name)?;
        Ok((m, ino, attr))
    }

    /// [`Vfs::child_attr`] for a component the walk goes on from: a
    /// directory it went through before is answered from `dirs`. The
    /// attributes are then as they were when it was remembered (type,
    /// mode and owner cannot have changed since; times may have).
    fn dir_child_attr(
        &mut self,
        m: MountId,
        dir: Ino,
        name: &[u8],
    ) -> KResult<(MountId, Ino, Attr, bool)> {
        if let Some(&(cm, ino, attr)) = self.dirs.get(&(m, dir)).and_then(|d| d.get(name)) {
            return Ok((cm, ino, attr, true));
        }
        let (cm, ino, attr) = self.child_attr(m, dir, name)?;
        if attr.is_dir() && self.mounts[m].stable_dirs() && self.mounts[cm].stable_dirs() {
            if self.dirs_len >= DIRS_KEPT {
                self.forget_dirs();
            }
            self.dirs
                .entry((m, dir))
                .or_default()
                .insert(name.to_vec(), (cm, ino, attr));
            self.dirs_len += 1;
        }
        Ok((cm, ino, attr, false))
    }

    /// [`Vfs::child_attr`] for the last component of a path: the answer
    /// the previous system call got for the same name, if it may be used
    /// (`Recent`), else the file system's.
    fn last_child_attr(&mut self, m: MountId, dir: Ino, name: &[u8]) -> KResult<Child> {
        if let Some(r) = &self.recent {
            if r.mount == m && r.dir == dir && r.name == name && r.writes == self.content_writes {
                let child = r.child;
                self.fresh = self.recent.clone();
                return Ok(child);
            }
        }
        let child = self.child_attr(m, dir, name)?;
        if self.mounts[m].stable_dirs() && self.mounts[child.0].stable_dirs() {
            self.fresh = Some(Recent {
                mount: m,
                dir,
                name: name.to_vec(),
                child,
                asked: self.call_start,
                writes: self.content_writes,
            });
        }
        Ok(child)
    }

    /// The mount covering `name` in directory `(m, dir)`, if any.
    fn covering(&self, m: MountId, dir: Ino, name: &[u8]) -> Option<MountId> {
        if self.covers.is_empty() {
            return None;
        }
        self.covers.get(&(m, dir))?.get(name).copied()
    }

    /// Brings the names along a location up to date after renames: a step
    /// whose name no longer leads to its node is looked for among its
    /// parent's entries. (A node moved to another directory keeps its old
    /// name; finding it would need parent links in every file system.)
    pub fn revalidate(&mut self, loc: &mut Location) {
        for i in 0..loc.chain.len() {
            let (pm, pino) = match i {
                0 => (0, self.mounts[0].root()),
                _ => (loc.chain[i - 1].mount, loc.chain[i - 1].ino),
            };
            let step = loc.chain[i].clone();
            if self.child(pm, pino, &step.name).ok() == Some((step.mount, step.ino)) {
                continue;
            }
            let Ok(entries) = self.fs_query(pm).readdir(pino) else {
                return;
            };
            let found = entries
                .into_iter()
                .find(|e| self.child(pm, pino, &e.name).ok() == Some((step.mount, step.ino)));
            match found {
                Some(e) => loc.chain[i].name = e.name,
                None => return,
            }
        }
    }

    /// Resolves `path` relative to `start` (absolute paths start at the
    /// guest root) to an existing node.
    pub fn resolve(&mut self, start: &Location, path: &[u8], last: Resolve) -> KResult<Location> {
        self.resolve_attr(start, path, last).map(|(loc, _)| loc)
    }

    /// [`Vfs::resolve`] with the attributes of the node found (the walk
    /// has them already, so stat costs no second question).
    pub fn resolve_attr(
        &mut self,
        start: &Location,
        path: &[u8],
        last: Resolve,
    ) -> KResult<(Location, Attr)> {
        check_path(path)?;
        let mut budget = MAX_SYMLINKS;
        self.walk(start, path, last == Resolve::Follow, &mut budget)
    }

    /// Resolves all but the last component of `path`: the directory that
    /// would hold it and the last name (empty for "/", may be "." or "..").
    pub fn resolve_parent(
        &mut self,
        start: &Location,
        path: &[u8],
    ) -> KResult<(Location, Vec<u8>)> {
        check_path(path)?;
        let trimmed = trim_trailing_slashes(path);
        let (dir, name) = match trimmed.iter().rposition(|&b| b == b'/') {
            Some(0) => (&b"/"[..], &trimmed[1..]),
            Some(i) => (&trimmed[..i], &trimmed[i + 1..]),
            None => (&b"."[..], trimmed),
        };
        if name.len() > NAME_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        let mut budget = MAX_SYMLINKS;
        let (loc, attr) = self.walk(start, dir, true, &mut budget)?;
        if !attr.is_dir() {
            return Err(Errno::ENOTDIR);
        }
        Ok((loc, name.to_vec()))
    }

    /// Walks `path` from `start`; returns where it leads and that node's
    /// attributes. Each component costs one `lookup_attr`; the attributes
    /// of the directory being searched are the previous step's.
    fn walk(
        &mut self,
        start: &Location,
        path: &[u8],
        follow_last: bool,
        budget: &mut u32,
    ) -> KResult<(Location, Attr)> {
        let mut loc = if path.first() == Some(&b'/') {
            self.root.clone()
        } else {
            start.clone()
        };
        // The attributes of `loc`'s node, once known, and whether they
        // are remembered ones (`Vfs::dirs`: right but for the times).
        let mut here: Option<Attr> = None;
        let mut remembered = false;
        let must_be_dir = path.last() == Some(&b'/');
        let mut comps = path
            .split(|&b| b == b'/')
            .filter(|c| !c.is_empty())
            .peekable();
        while let Some(c) = comps.next() {
            let last = comps.peek().is_none();
            if c == b"." || c == b".." {
                if !self.attr_of(&loc, &mut here)?.is_dir() {
                    return Err(Errno::ENOTDIR);
                }
                if c == b".." && loc != self.root && loc.chain.pop().is_some() {
                    here = None;
                    remembered = false;
                }
                continue;
            }
            if c.len() > NAME_MAX {
                return Err(Errno::ENAMETOOLONG);
            }
            let (dm, dino) = self.node(&loc);
            if !self.cred.is_root() {
                let d = self.attr_of(&loc, &mut here)?;
                perm::check(&d, &self.cred, perm::MAY_EXEC)?;
            }
            let (m, ino, attr, kept) = if last {
                let (m, ino, attr) = self.last_child_attr(dm, dino, c)?;
                (m, ino, attr, false)
            } else {
                self.dir_child_attr(dm, dino, c)?
            };
            let follow = !last || follow_last || must_be_dir;
            if attr.file_type() == super::FileType::Symlink && follow {
                if *budget == 0 {
                    return Err(Errno::ELOOP);
                }
                *budget -= 1;
                let target = self.fs_query(m).readlink(ino)?;
                if target.is_empty() {
                    return Err(Errno::ENOENT);
                }
                // Relative targets resolve from the directory holding the
                // link, absolute ones from the guest root.
                let (l, a) = self.walk(&loc, &target, true, budget)?;
                loc = l;
                here = Some(a);
                remembered = false;
                continue;
            }
            loc.push(m, ino, c);
            here = Some(attr);
            remembered = kept;
        }
        if remembered {
            // A path ending in "." after a remembered directory: stat
            // wants its times as they are now.
            here = None;
        }
        let attr = self.attr_of(&loc, &mut here)?;
        if must_be_dir && !attr.is_dir() {
            return Err(Errno::ENOTDIR);
        }
        Ok((loc, attr))
    }

    /// `here`, the attributes of `loc` if already known, or asked for now.
    fn attr_of(&mut self, loc: &Location, here: &mut Option<Attr>) -> KResult<Attr> {
        if let Some(a) = *here {
            return Ok(a);
        }
        let a = self.getattr(loc)?;
        *here = Some(a);
        Ok(a)
    }
}

fn check_path(path: &[u8]) -> KResult<()> {
    if path.is_empty() {
        return Err(Errno::ENOENT);
    }
    if path.len() >= PATH_MAX {
        return Err(Errno::ENAMETOOLONG);
    }
    Ok(())
}

fn trim_trailing_slashes(path: &[u8]) -> &[u8] {
    let mut end = path.len();
    while end > 1 && path[end - 1] == b'/' {
        end -= 1;
    }
    &path[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vfs::memfs::MemFs;
    use crate::vfs::FileType;

    /// /etc/passwd, /etc/abs -> /etc/passwd, /etc/esc -> ../../../etc,
    /// /d/loop -> loop, /d/up -> ../.., /d/abs_esc -> /../../etc/passwd
    fn tree() -> Vfs {
        let mut fs = MemFs::new();
        let etc = fs.add_dir(fs.root_ino(), b"etc");
        fs.add_file(etc, b"passwd", b"root:x:0:0");
        fs.add_symlink(etc, b"abs", b"/etc/passwd");
        fs.add_symlink(etc, b"esc", b"../../../etc");
        let d = fs.add_dir(fs.root_ino(), b"d");
        fs.add_symlink(d, b"loop", b"loop");
        fs.add_symlink(d, b"up", b"../..");
        fs.add_symlink(d, b"abs_esc", b"/../../etc/passwd");
        Vfs::new(Box::new(fs))
    }

    fn path_of(vfs: &mut Vfs, p: &str) -> KResult<String> {
        let loc = vfs.resolve(&Location::root(), p.as_bytes(), Resolve::Follow)?;
        Ok(String::from_utf8(loc.path()).unwrap())
    }

    #[test]
    fn dotdot_never_leaves_root() {
        let mut v = tree();
        assert_eq!(path_of(&mut v, "/../../..").unwrap(), "/");
        assert_eq!(path_of(&mut v, "../../etc/passwd").unwrap(), "/etc/passwd");
        assert_eq!(
            path_of(&mut v, "/etc/../../etc/./passwd").unwrap(),
            "/etc/passwd"
        );
    }

    #[test]
    fn symlinks_resolve_inside_root() {
        let mut v = tree();
        assert_eq!(path_of(&mut v, "/etc/abs").unwrap(), "/etc/passwd");
        assert_eq!(path_of(&mut v, "/etc/esc/passwd").unwrap(), "/etc/passwd");
        assert_eq!(path_of(&mut v, "/d/up").unwrap(), "/");
        assert_eq!(path_of(&mut v, "/d/abs_esc").unwrap(), "/etc/passwd");
    }

    #[test]
    fn loops_and_bad_paths_fail_cleanly() {
        let mut v = tree();
        assert_eq!(path_of(&mut v, "/d/loop"), Err(Errno::ELOOP));
        assert_eq!(path_of(&mut v, "/etc/passwd/x"), Err(Errno::ENOTDIR));
        assert_eq!(path_of(&mut v, "/etc/passwd/"), Err(Errno::ENOTDIR));
        assert_eq!(path_of(&mut v, "/nope"), Err(Errno::ENOENT));
        assert_eq!(path_of(&mut v, ""), Err(Errno::ENOENT));
        let long = format!("/{}", "a".repeat(300));
        assert_eq!(path_of(&mut v, &long), Err(Errno::ENAMETOOLONG));
    }

    /// The attributes a walk hands back are those of the node it found,
    /// the link itself or its target, and of the root for "/" and "..".
    #[test]
    fn walks_return_the_attributes_of_what_they_found() {
        let mut v = tree();
        let mut attr = |p: &str, how| {
            let (loc, a) = v
                .resolve_attr(&Location::root(), p.as_bytes(), how)
                .unwrap();
            assert_eq!(a, v.getattr(&loc).unwrap(), "{p}");
            a.file_type()
        };
        assert_eq!(attr("/etc/abs", Resolve::NoFollow), FileType::Symlink);
        assert_eq!(attr("/etc/abs", Resolve::Follow), FileType::Regular);
        assert_eq!(attr("/etc/esc/", Resolve::NoFollow), FileType::Directory);
        assert_eq!(attr("/", Resolve::Follow), FileType::Directory);
        assert_eq!(attr("/etc/..", Resolve::Follow), FileType::Directory);
        assert_eq!(
            attr("/d/up/etc/./passwd", Resolve::Follow),
            FileType::Regular
        );
    }

    #[test]
    fn nofollow_keeps_the_link() {
        let mut v = tree();
        let l = v
            .resolve(&Location::root(), b"/etc/abs", Resolve::NoFollow)
            .unwrap();
        assert_eq!(l.path(), b"/etc/abs");
    }

    #[test]
    fn mounts_cover_names() {
        let mut v = tree();
        let mut dev = MemFs::new();
        dev.add_file(dev.root_ino(), b"null", b"");
        v.mount(b"/dev", Box::new(dev)).unwrap();
        assert_eq!(path_of(&mut v, "/dev/null").unwrap(), "/dev/null");
        assert_eq!(path_of(&mut v, "/dev/../etc").unwrap(), "/etc");
        let (dir, name) = v.resolve_parent(&Location::root(), b"/dev/x/").unwrap();
        assert_eq!((dir.path(), name), (b"/dev".to_vec(), b"x".to_vec()));
    }

    /// A Vfs over an empty tmpfs owned by uid/gid 1, and its clock.
    fn tmpfs_vfs() -> (Vfs, Now) {
        use crate::vfs::tmpfs::{TmpFs, Usage};
        let now: Now = std::rc::Rc::default();
        let fs = TmpFs::new(1, now.clone(), Usage::new(1 << 20), 0o755);
        (Vfs::new(Box::new(fs)), now)
    }

    /// A new node of `mode` owned by uid/gid 1.
    fn node(mode: u32) -> crate::vfs::NewNode {
        crate::vfs::NewNode {
            mode,
            uid: 1,
            gid: 1,
            rdev: 0,
        }
    }

    /// Directories remembered by walks never hide a change made through
    /// `Vfs::fs`: a renamed, replaced or chmod'ed directory is seen at
    /// once, and a path ending in "." gives the directory's times now.
    #[test]
    fn remembered_directories_follow_changes() {
        use crate::vfs::SetAttr;
        let (mut v, now) = tmpfs_vfs();
        let root = v.fs(0).root();
        let a = v.fs(0).mkdir(root, b"a", &node(0o40755)).unwrap();
        v.fs(0).create(a, b"f", &node(0o100644)).unwrap();
        assert_eq!(path_of(&mut v, "/a/f").unwrap(), "/a/f");
        // Renamed away and replaced by an empty directory.
        v.fs(0).rename(root, b"a", root, b"b", 0).unwrap();
        v.fs(0).mkdir(root, b"a", &node(0o40755)).unwrap();
        assert_eq!(path_of(&mut v, "/a/f"), Err(Errno::ENOENT));
        assert_eq!(path_of(&mut v, "/b/f").unwrap(), "/b/f");
        // Searchable by others, then not.
        v.cred = Cred::new(2, 2);
        assert_eq!(path_of(&mut v, "/b/f").unwrap(), "/b/f");
        let b = v
            .resolve(&Location::root(), b"/b", Resolve::Follow)
            .unwrap();
        let (_, bino) = v.node(&b);
        let set = SetAttr {
            mode: Some(0o700),
            ..SetAttr::default()
        };
        v.fs(0).setattr(bino, &set).unwrap();
        assert_eq!(path_of(&mut v, "/b/f"), Err(Errno::EACCES));
        // Times of a remembered directory are asked for again (the entry
        // is made behind the walk's back, so `b` stays remembered).
        v.cred = Cred::new(1, 1);
        assert_eq!(path_of(&mut v, "/b/f").unwrap(), "/b/f");
        now.set(wax_devices::Timespec { sec: 7, nsec: 0 });
        v.fs_query(0).create(bino, b"g", &node(0o100644)).unwrap();
        assert_eq!(path_of(&mut v, "/b/f").unwrap(), "/b/f");
        let (_, a) = v
            .resolve_attr(&Location::root(), b"/b/.", Resolve::Follow)
            .unwrap();
        assert_eq!(a.mtime.sec, 7);
    }

    /// The last name a system call looked up serves the next call only:
    /// within `RECENT_NS`, with no file written and nothing changed
    /// through `Vfs::fs` in between.
    #[test]
    fn the_previous_calls_last_name_serves_the_next_call_only() {
        use crate::vfs::SetAttr;
        let at = |ns: i128| Timespec::from_nanos(ns);
        let (mut v, _) = tmpfs_vfs();
        let root = v.fs(0).root();
        let f = v.fs(0).create(root, b"f", &node(0o100644)).unwrap();
        let size = |v: &mut Vfs| {
            let (_, a) = v
                .resolve_attr(&Location::root(), b"/f", Resolve::Follow)
                .unwrap();
            a.size
        };
        // A change made behind the walk's back (the way another host
        // process changes a directory root) is not seen by the next call
        // within RECENT_NS, and is by the one after it or a later one.
        v.next_call(at(0));
        assert_eq!(size(&mut v), 0);
        let grow = SetAttr {
            size: Some(5),
            ..SetAttr::default()
        };
        // (fs_query: behind the walk's back.)
        v.fs_query(0).setattr(f, &grow).unwrap();
        v.next_call(at(10));
        assert_eq!(size(&mut v), 0, "the previous call's answer");
        v.next_call(at(20));
        assert_eq!(size(&mut v), 0, "still within RECENT_NS of the ask");
        v.next_call(at(RECENT_NS + 1));
        assert_eq!(size(&mut v), 5, "too old: asked again");
        // A call in between that asks nothing ends it.
        v.fs_query(0)
            .setattr(
                f,
                &SetAttr {
                    size: Some(6),
                    ..grow
                },
            )
            .unwrap();
        v.next_call(at(RECENT_NS + 2));
        v.next_call(at(RECENT_NS + 3));
        assert_eq!(size(&mut v), 6);
        // A file written (write, truncate, ...) ends it.
        v.fs_query(0)
            .setattr(
                f,
                &SetAttr {
                    size: Some(7),
                    ..grow
                },
            )
            .unwrap();
        v.content_writes += 1;
        v.next_call(at(RECENT_NS + 4));
        assert_eq!(size(&mut v), 7);
        // So does any change through `Vfs::fs`: unlink, rename, chmod...
        v.next_call(at(RECENT_NS + 5));
        v.fs(0).unlink(root, b"f").unwrap();
        v.next_call(at(RECENT_NS + 6));
        assert_eq!(
            v.resolve_attr(&Location::root(), b"/f", Resolve::Follow)
                .map(|_| ()),
            Err(Errno::ENOENT)
        );
    }
}
