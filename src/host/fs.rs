//! The host directory as the guest's root file system.
//!
//! Nodes are interned paths relative to the root directory. The kernel
//! walks guest paths itself (following symlinks inside the guest root), so
//! every path this file system is asked about is a chain of real
//! directories below the root that the kernel has already looked up; it
//! never follows a symlink on the host's behalf (lstat, O_NOFOLLOW).
//! A rename rewrites the paths of the moved node and of every node below
//! it, so descriptors and working directories below a moved directory
//! keep working. An unlinked file's node forgets its path: a new file
//! created there is another node, and the old one lives on only through
//! its open descriptors, whose host file answers `fstat`
//! ([`FileHandle::held_attr`]).
//!
//! Ownership and modes: the guest may chown and chmod files the host user
//! cannot (a guest root on an unprivileged host). What the guest sets is
//! kept in an in-memory overlay keyed by host (device, inode) and shown by
//! `getattr`; nodes without an overlay entry show the host's owner and
//! mode. Owners are never changed on the host. Modes are written to the
//! host too, but always with the owner's read/write (and, for
//! directories, search) bits set, so the host user can still reach every
//! file a guest root can. The overlay lives as long as the run: it is not
//! persisted.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{
    DirBuilderExt, DirEntryExt, FileExt, MetadataExt, OpenOptionsExt, PermissionsExt,
};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use wax_devices::Timespec;
use wax_kernel::errno::{Errno, KResult};
use wax_kernel::vfs::{
    mode, rename, Attr, DirEntry, FileHandle, FileSystem, FileType, FsType, Ino, NewNode, OpenMode,
    SetAttr, StatFs,
};

pub fn errno(e: io::Error) -> Errno {
    e.raw_os_error().map_or(Errno::EIO, Errno)
}

/// What the guest set on a host file that the host does not keep.
#[derive(Clone, Copy, Debug, Default)]
struct Overlay {
    uid: Option<u32>,
    gid: Option<u32>,
    /// Permission bits (07777).
    perm: Option<u32>,
}

pub struct HostFs {
    root: PathBuf,
    /// The root directory opened O_PATH: nodes are lstat'ed relative to
    /// it (fstatat), so the host walks only the part of a path below the
    /// root. `None` if it could not be opened: full paths then.
    root_dir: Option<std::os::fd::OwnedFd>,
    /// The path of each node; `None` once it was unlinked.
    paths: Vec<Option<PathBuf>>,
    /// The node of each path, by its bytes (hashing a `Path` walks its
    /// components; the paths here are built by joining names, so equal
    /// paths are equal bytes).
    ids: HashMap<OsString, Ino>,
    overlay: HashMap<(u64, u64), Overlay>,
    /// The relative path `lookup_attr` builds, NUL-terminated for the
    /// host (kept, so the walk's one question per component allocates
    /// nothing for a node it has seen before).
    scratch: Vec<u8>,
}

impl HostFs {
    pub fn new(root: PathBuf) -> HostFs {
        let root_dir = open_path_dir(&root);
        let mut fs = HostFs {
            root,
            root_dir,
            paths: Vec::new(),
            ids: HashMap::new(),
            overlay: HashMap::new(),
            scratch: Vec::new(),
        };
        fs.intern(PathBuf::new());
        fs
    }

    fn intern(&mut self, rel: PathBuf) -> Ino {
        if let Some(&i) = self.ids.get(rel.as_os_str()) {
            return i;
        }
        let i = self.paths.len() as Ino;
        self.paths.push(Some(rel.clone()));
        self.ids.insert(rel.into_os_string(), i);
        i
    }

    fn rel(&self, ino: Ino) -> KResult<&Path> {
        self.paths
            .get(ino as usize)
            .and_then(Option::as_deref)
            .ok_or(Errno::ENOENT)
    }

    fn full(&self, ino: Ino) -> KResult<PathBuf> {
        Ok(self.root.join(self.rel(ino)?))
    }

    fn child(&self, dir: Ino, name: &[u8]) -> KResult<(PathBuf, PathBuf)> {
        let rel = self.rel(dir)?.join(OsStr::from_bytes(name));
        Ok((self.root.join(&rel), rel))
    }

    /// The guest's attributes of the node at `rel` (lstat: a symlink is
    /// described, not followed).
    fn lstat_rel(&self, rel: &Path) -> KResult<Attr> {
        let Some(dir) = &self.root_dir else {
            let m = fs::symlink_metadata(self.root.join(rel)).map_err(errno)?;
            return Ok(self.guest_attr(attr_of(&m)));
        };
        let c = if rel.as_os_str().is_empty() {
            cpath(Path::new("."))?
        } else {
            cpath(rel)?
        };
        self.fstatat(dir, &c)
    }

    /// `lstat_rel` of a path relative to the root given as a C string.
    fn fstatat(&self, dir: &std::os::fd::OwnedFd, c: &std::ffi::CStr) -> KResult<Attr> {
        // SAFETY: stat is plain old data; all-zero is a valid value.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: `dir` is an open descriptor, `c` a NUL-terminated
        // relative path and `st` a writable stat.
        check(unsafe {
            libc::fstatat(
                dir.as_raw_fd(),
                c.as_ptr(),
                &mut st,
                libc::AT_SYMLINK_NOFOLLOW,
            )
        })?;
        Ok(self.guest_attr(attr_of_stat(&st)))
    }

    /// The node and attributes of `name` in `dir`, the relative path
    /// built in `scratch`.
    fn lookup_attr_in(&mut self, dir: Ino, name: &[u8], buf: &mut Vec<u8>) -> KResult<(Ino, Attr)> {
        if name.contains(&0) {
            return Err(Errno::EINVAL);
        }
        let rel = self.rel(dir)?.as_os_str().as_bytes();
        buf.clear();
        buf.extend_from_slice(rel);
        if !rel.is_empty() {
            buf.push(b'/');
        }
        buf.extend_from_slice(name);
        let attr = match &self.root_dir {
            Some(root) => {
                buf.push(0);
                let c = std::ffi::CStr::from_bytes_with_nul(buf).map_err(|_| Errno::EINVAL)?;
                let attr = self.fstatat(root, c);
                buf.pop();
                attr?
            }
            None => self.lstat_rel(Path::new(OsStr::from_bytes(buf)))?,
        };
        let rel = OsStr::from_bytes(buf);
        let ino = match self.ids.get(rel) {
            Some(&i) => i,
            None => self.intern(PathBuf::from(rel)),
        };
        Ok((ino, attr))
    }

    fn key_of(path: &Path) -> KResult<(u64, u64)> {
        let m = fs::symlink_metadata(path).map_err(errno)?;
        Ok((m.dev(), m.ino()))
    }

    /// The attributes the guest sees for a host file's attributes `a`:
    /// the host's, with what the guest set in the overlay.
    fn guest_attr(&self, mut a: Attr) -> Attr {
        if let Some(o) = self.overlay.get(&(a.dev, a.ino)) {
            a.uid = o.uid.unwrap_or(a.uid);
            a.gid = o.gid.unwrap_or(a.gid);
            if let Some(p) = o.perm {
                a.mode = (a.mode & mode::S_IFMT) | p;
            }
        }
        a
    }

    /// Records the guest's view of a node just created at `full`.
    fn created(&mut self, full: &Path, n: &NewNode) -> KResult<()> {
        let m = fs::symlink_metadata(full).map_err(errno)?;
        let o = Overlay {
            uid: (m.uid() != n.uid).then_some(n.uid),
            gid: (m.gid() != n.gid).then_some(n.gid),
            perm: (m.mode() & 0o7777 != n.mode & 0o7777 && !m.file_type().is_symlink())
                .then_some(n.mode & 0o7777),
        };
        self.overlay.insert((m.dev(), m.ino()), o);
        Ok(())
    }

    /// Rewrites the interned paths at and below `from` to lie below `to`;
    /// a node that was at `to` (replaced) loses its path.
    fn moved(&mut self, from: &Path, to: &Path) {
        if from == to {
            return;
        }
        self.forget_path(to);
        let ids = &mut self.ids;
        for (i, p) in self.paths.iter_mut().enumerate() {
            let Some(p) = p else { continue };
            if let Ok(rest) = p.strip_prefix(from) {
                let new = if rest.as_os_str().is_empty() {
                    to.to_path_buf()
                } else {
                    to.join(rest)
                };
                ids.remove(p.as_os_str());
                *p = new.clone();
                ids.insert(new.into_os_string(), i as Ino);
            }
        }
    }

    /// Detaches the node of an unlinked path from it, so the path names
    /// a new node once something is created there again.
    fn forget_path(&mut self, rel: &Path) {
        if let Some(i) = self.ids.remove(rel.as_os_str()) {
            self.paths[i as usize] = None;
        }
    }

    /// Forgets the overlay of a file whose last link is going away.
    fn forget_if_last(&mut self, full: &Path) {
        if let Ok(m) = fs::symlink_metadata(full) {
            if m.nlink() <= 1 || m.is_dir() {
                self.overlay.remove(&(m.dev(), m.ino()));
            }
        }
    }
}

/// The permission bits written to the host: the guest's, plus whatever
/// the host user needs to keep reaching the file.
fn host_perm(perm: u32, dir: bool) -> u32 {
    let need = if dir { 0o700 } else { 0o600 };
    (perm & 0o7777) | need
}

fn cpath(p: &Path) -> KResult<std::ffi::CString> {
    std::ffi::CString::new(p.as_os_str().as_bytes()).map_err(|_| Errno::EINVAL)
}

fn check(r: libc::c_int) -> KResult<()> {
    if r < 0 {
        Err(errno(io::Error::last_os_error()))
    } else {
        Ok(())
    }
}

fn time(sec: i64, nsec: i64) -> Timespec {
    Timespec {
        sec,
        nsec: nsec as u32,
    }
}

pub fn attr_of(m: &fs::Metadata) -> Attr {
    Attr {
        dev: m.dev(),
        ino: m.ino(),
        mode: m.mode(),
        nlink: m.nlink() as u32,
        uid: m.uid(),
        gid: m.gid(),
        rdev: m.rdev(),
        size: m.size(),
        blksize: m.blksize() as u32,
        blocks: m.blocks(),
        atime: time(m.atime(), m.atime_nsec()),
        mtime: time(m.mtime(), m.mtime_nsec()),
        ctime: time(m.ctime(), m.ctime_nsec()),
    }
}

/// `attr_of` for a stat the host filled in.
fn attr_of_stat(st: &libc::stat) -> Attr {
    Attr {
        dev: st.st_dev,
        ino: st.st_ino,
        mode: st.st_mode,
        nlink: st.st_nlink as u32,
        uid: st.st_uid,
        gid: st.st_gid,
        rdev: st.st_rdev,
        size: st.st_size as u64,
        blksize: st.st_blksize as u32,
        blocks: st.st_blocks as u64,
        atime: time(st.st_atime, st.st_atime_nsec),
        mtime: time(st.st_mtime, st.st_mtime_nsec),
        ctime: time(st.st_ctime, st.st_ctime_nsec),
    }
}

/// `dir` opened O_PATH (for *at calls relative to it).
fn open_path_dir(dir: &Path) -> Option<std::os::fd::OwnedFd> {
    let c = cpath(dir).ok()?;
    // SAFETY: `c` is a valid NUL-terminated path; the descriptor returned
    // is owned by the OwnedFd below.
    let fd = unsafe {
        libc::open(
            c.as_ptr(),
            libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC,
        )
    };
    // SAFETY: a non-negative `fd` was just opened and is owned by no one
    // else.
    (fd >= 0).then(|| unsafe { std::os::fd::FromRawFd::from_raw_fd(fd) })
}

fn file_type(t: fs::FileType) -> FileType {
    use std::os::unix::fs::FileTypeExt;
    if t.is_dir() {
        FileType::Directory
    } else if t.is_file() {
        FileType::Regular
    } else if t.is_symlink() {
        FileType::Symlink
    } else if t.is_char_device() {
        FileType::CharDevice
    } else if t.is_block_device() {
        FileType::BlockDevice
    } else if t.is_fifo() {
        FileType::Fifo
    } else if t.is_socket() {
        FileType::Socket
    } else {
        FileType::Unknown
    }
}

/// Sets the times of the node at `path` itself, never following a final
/// symlink (a node is never a symlink's target) and never opening it (a
/// FIFO's open would block): utimensat(AT_SYMLINK_NOFOLLOW).
fn set_times(path: &Path, atime: Option<Timespec>, mtime: Option<Timespec>) -> KResult<()> {
    let ts = |t: Option<Timespec>| match t {
        Some(t) => libc::timespec {
            tv_sec: t.sec as libc::time_t,
            tv_nsec: i64::from(t.nsec) as libc::c_long,
        },
        None => libc::timespec {
            tv_sec: 0,
            tv_nsec: libc::UTIME_OMIT,
        },
    };
    let times = [ts(atime), ts(mtime)];
    let c = cpath(path)?;
    // SAFETY: `c` is a valid NUL-terminated path and `times` two timespecs.
    check(unsafe {
        libc::utimensat(
            libc::AT_FDCWD,
            c.as_ptr(),
            times.as_ptr(),
            libc::AT_SYMLINK_NOFOLLOW,
        )
    })
}

/// Extended attributes on the host file: the user and trusted namespaces
/// (trusted needs the host process to be root, as it would natively); the
/// others stay the host's (security labels, capabilities, ACLs). On the
/// node itself, never through a symlink (the kernel resolved the path).
mod xattr {
    use super::errno;
    use std::ffi::CString;
    use std::io;
    use std::os::unix::ffi::OsStrExt;
    use std::path::Path;
    use wax_kernel::errno::{Errno, KResult};

    fn c(path: &Path) -> KResult<CString> {
        CString::new(path.as_os_str().as_bytes()).map_err(|_| Errno::EINVAL)
    }

    /// A name the guest may see and change on a host file.
    fn passed(name: &[u8]) -> bool {
        name.starts_with(b"user.") || name.starts_with(b"trusted.")
    }

    /// Runs a size-probing call (`f(buf, len)`) until the buffer fits.
    fn sized(f: impl Fn(*mut libc::c_void, usize) -> isize) -> KResult<Vec<u8>> {
        loop {
            let n = f(std::ptr::null_mut(), 0);
            if n < 0 {
                return Err(errno(io::Error::last_os_error()));
            }
            let mut buf = vec![0u8; n as usize];
            let got = f(buf.as_mut_ptr().cast(), buf.len());
            if got >= 0 {
                buf.truncate(got as usize);
                return Ok(buf);
            }
            let e = io::Error::last_os_error();
            // Changed between the two calls: ask again.
            if e.raw_os_error() != Some(libc::ERANGE) {
                return Err(errno(e));
            }
        }
    }

    pub fn get(path: &Path, name: &[u8]) -> KResult<Vec<u8>> {
        if !passed(name) {
            return Err(Errno::ENODATA);
        }
        let (p, n) = (c(path)?, CString::new(name).map_err(|_| Errno::EINVAL)?);
        // SAFETY: both strings are NUL-terminated and `buf` has `len` bytes.
        sized(|buf, len| unsafe { libc::lgetxattr(p.as_ptr(), n.as_ptr(), buf, len) })
    }

    pub fn set(path: &Path, name: &[u8], value: &[u8], flags: u32) -> KResult<()> {
        if !passed(name) {
            return Err(Errno::EOPNOTSUPP);
        }
        let (p, n) = (c(path)?, CString::new(name).map_err(|_| Errno::EINVAL)?);
        // SAFETY: both strings are NUL-terminated; `value` is a live slice.
        let r = unsafe {
            libc::lsetxattr(
                p.as_ptr(),
                n.as_ptr(),
                value.as_ptr().cast(),
                value.len(),
                flags as libc::c_int,
            )
        };
        if r < 0 {
            return Err(errno(io::Error::last_os_error()));
        }
        Ok(())
    }

    pub fn list(path: &Path) -> KResult<Vec<u8>> {
        let p = c(path)?;
        // SAFETY: `p` is NUL-terminated and `buf` has `len` bytes.
        let all = sized(|buf, len| unsafe { libc::llistxattr(p.as_ptr(), buf.cast(), len) })?;
        Ok(all
            .split_inclusive(|&b| b == 0)
            .filter(|n| passed(n))
            .flatten()
            .copied()
            .collect())
    }

    pub fn remove(path: &Path, name: &[u8]) -> KResult<()> {
        if !passed(name) {
            return Err(Errno::ENODATA);
        }
        let (p, n) = (c(path)?, CString::new(name).map_err(|_| Errno::EINVAL)?);
        // SAFETY: both strings are NUL-terminated.
        if unsafe { libc::lremovexattr(p.as_ptr(), n.as_ptr()) } < 0 {
            return Err(errno(io::Error::last_os_error()));
        }
        Ok(())
    }
}

impl FileSystem for HostFs {
    fn root(&self) -> Ino {
        0
    }

    fn getxattr(&mut self, ino: Ino, name: &[u8]) -> KResult<Vec<u8>> {
        xattr::get(&self.full(ino)?, name)
    }

    fn setxattr(&mut self, ino: Ino, name: &[u8], value: &[u8], flags: u32) -> KResult<()> {
        xattr::set(&self.full(ino)?, name, value, flags)
    }

    fn listxattr(&mut self, ino: Ino) -> KResult<Vec<u8>> {
        xattr::list(&self.full(ino)?)
    }

    fn removexattr(&mut self, ino: Ino, name: &[u8]) -> KResult<()> {
        xattr::remove(&self.full(ino)?, name)
    }

    fn lookup(&mut self, dir: Ino, name: &[u8]) -> KResult<Ino> {
        let (full, rel) = self.child(dir, name)?;
        fs::symlink_metadata(&full).map_err(errno)?;
        Ok(self.intern(rel))
    }

    fn getattr(&mut self, ino: Ino) -> KResult<Attr> {
        self.lstat_rel(self.rel(ino)?)
    }

    /// One lstat for both: the walk's cost on a host directory.
    fn lookup_attr(&mut self, dir: Ino, name: &[u8]) -> KResult<(Ino, Attr)> {
        let mut buf = std::mem::take(&mut self.scratch);
        let found = self.lookup_attr_in(dir, name, &mut buf);
        self.scratch = buf;
        found
    }

    fn setattr(&mut self, ino: Ino, set: &SetAttr) -> KResult<()> {
        let path = self.full(ino)?;
        if set.mode.is_some() || set.uid.is_some() || set.gid.is_some() {
            let m = fs::symlink_metadata(&path).map_err(errno)?;
            let o = self.overlay.entry((m.dev(), m.ino())).or_default();
            if let Some(mode) = set.mode {
                o.perm = Some(mode & 0o7777);
                if !m.file_type().is_symlink() {
                    // The host may refuse (not the file's owner): the
                    // overlay still has the guest's mode.
                    let host = fs::Permissions::from_mode(host_perm(mode, m.is_dir()));
                    let _ = fs::set_permissions(&path, host);
                }
            }
            o.uid = set.uid.or(o.uid);
            o.gid = set.gid.or(o.gid);
        }
        if let Some(size) = set.size {
            let f = OpenOptions::new().write(true).open(&path).map_err(errno)?;
            f.set_len(size).map_err(errno)?;
        }
        if set.atime.is_some() || set.mtime.is_some() {
            set_times(&path, set.atime, set.mtime)?;
        }
        Ok(())
    }

    fn open(&mut self, ino: Ino, how: OpenMode) -> KResult<Box<dyn FileHandle>> {
        let f = OpenOptions::new()
            .read(how.read)
            .write(how.write && !how.append)
            .append(how.append)
            .truncate(how.truncate)
            .custom_flags(libc::O_NOFOLLOW)
            .open(self.full(ino)?)
            .map_err(errno)?;
        Ok(Box::new(HostFile(f)))
    }

    fn readdir(&mut self, dir: Ino) -> KResult<Vec<DirEntry>> {
        let mut out = Vec::new();
        for e in fs::read_dir(self.full(dir)?).map_err(errno)? {
            let e = e.map_err(errno)?;
            let kind = e.file_type().map_or(FileType::Unknown, file_type);
            out.push(DirEntry {
                ino: e.ino(),
                kind,
                name: e.file_name().as_bytes().to_vec(),
            });
        }
        Ok(out)
    }

    fn readlink(&mut self, ino: Ino) -> KResult<Vec<u8>> {
        let t = fs::read_link(self.full(ino)?).map_err(errno)?;
        Ok(t.as_os_str().as_bytes().to_vec())
    }

    fn create(&mut self, dir: Ino, name: &[u8], n: &NewNode) -> KResult<Ino> {
        let (full, rel) = self.child(dir, name)?;
        let perm = host_perm(n.mode, false);
        if n.mode & mode::S_IFMT == mode::S_IFREG {
            OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(perm)
                .open(&full)
                .map_err(errno)?;
        } else {
            let c = cpath(&full)?;
            let kind = n.mode & mode::S_IFMT;
            // SAFETY: `c` is a valid NUL-terminated path for the call.
            check(unsafe { libc::mknod(c.as_ptr(), kind | perm, n.rdev as libc::dev_t) })?;
        }
        // mknod and open apply the host's umask: set the bits exactly.
        let _ = fs::set_permissions(&full, fs::Permissions::from_mode(perm));
        self.created(&full, n)?;
        Ok(self.intern(rel))
    }

    fn mkdir(&mut self, dir: Ino, name: &[u8], n: &NewNode) -> KResult<Ino> {
        let (full, rel) = self.child(dir, name)?;
        let perm = host_perm(n.mode, true);
        fs::DirBuilder::new()
            .mode(perm)
            .create(&full)
            .map_err(errno)?;
        let _ = fs::set_permissions(&full, fs::Permissions::from_mode(perm));
        self.created(&full, n)?;
        Ok(self.intern(rel))
    }

    fn symlink(&mut self, dir: Ino, name: &[u8], target: &[u8], n: &NewNode) -> KResult<Ino> {
        let (full, rel) = self.child(dir, name)?;
        std::os::unix::fs::symlink(OsStr::from_bytes(target), &full).map_err(errno)?;
        self.created(&full, n)?;
        Ok(self.intern(rel))
    }

    fn link(&mut self, ino: Ino, dir: Ino, name: &[u8]) -> KResult<()> {
        let (full, _) = self.child(dir, name)?;
        fs::hard_link(self.full(ino)?, full).map_err(errno)
    }

    fn unlink(&mut self, dir: Ino, name: &[u8]) -> KResult<()> {
        let (full, rel) = self.child(dir, name)?;
        if fs::symlink_metadata(&full).map_err(errno)?.is_dir() {
            return Err(Errno::EISDIR);
        }
        self.forget_if_last(&full);
        fs::remove_file(full).map_err(errno)?;
        self.forget_path(&rel);
        Ok(())
    }

    fn rmdir(&mut self, dir: Ino, name: &[u8]) -> KResult<()> {
        let (full, _) = self.child(dir, name)?;
        let key = Self::key_of(&full)?;
        fs::remove_dir(full).map_err(errno)?;
        self.overlay.remove(&key);
        Ok(())
    }

    fn rename(
        &mut self,
        odir: Ino,
        oname: &[u8],
        ndir: Ino,
        nname: &[u8],
        flags: u32,
    ) -> KResult<()> {
        let (ofull, orel) = self.child(odir, oname)?;
        let (nfull, nrel) = self.child(ndir, nname)?;
        if flags == 0 {
            if let Ok(victim) = fs::symlink_metadata(&nfull) {
                let same = Self::key_of(&ofull)? == (victim.dev(), victim.ino());
                if !same && (victim.nlink() <= 1 || victim.is_dir()) {
                    self.overlay.remove(&(victim.dev(), victim.ino()));
                }
            }
            fs::rename(&ofull, &nfull).map_err(errno)?;
        } else {
            let (o, n) = (cpath(&ofull)?, cpath(&nfull)?);
            // SAFETY: both are valid NUL-terminated paths; AT_FDCWD with
            // absolute paths.
            check(unsafe {
                libc::renameat2(
                    libc::AT_FDCWD,
                    o.as_ptr(),
                    libc::AT_FDCWD,
                    n.as_ptr(),
                    flags,
                )
            })?;
        }
        if flags & rename::RENAME_EXCHANGE != 0 {
            let tmp = PathBuf::from("\0wax-exchange");
            self.moved(&nrel, &tmp);
            self.moved(&orel, &nrel);
            self.moved(&tmp, &orel);
        } else {
            self.moved(&orel, &nrel);
        }
        Ok(())
    }

    /// The host directory is the guest's while it runs: what other host
    /// processes change in it meanwhile reaches the walk at the last
    /// component of a path (every question goes to the host by path;
    /// only a system call that follows within 1 ms one that asked about
    /// the same name takes that answer), but a directory on the way that
    /// the host replaced or chmod'ed is seen as it was until the guest
    /// next changes a name or mode.
    fn stable_dirs(&self) -> bool {
        true
    }

    fn fs_type(&self) -> FsType {
        let magic = host_statfs(&self.root).map_or(FsType::EXT4.magic, |s| s.f_type);
        fs_type_of(magic)
    }

    fn statfs(&mut self) -> KResult<StatFs> {
        host_statfs(&self.root)
    }

    /// syncfs on the host file system of the root, which (unlike sync)
    /// reports a failure to write back.
    fn sync(&mut self) -> KResult<()> {
        let dir = std::fs::File::open(&self.root).map_err(errno)?;
        // SAFETY: syncfs on a descriptor we own; no memory is involved.
        if unsafe { libc::syncfs(dir.as_raw_fd()) } != 0 {
            return Err(errno(io::Error::last_os_error()));
        }
        Ok(())
    }
}

/// The host's statfs of the root directory.
fn host_statfs(root: &Path) -> KResult<StatFs> {
    let c = cpath(root)?;
    // SAFETY: statfs is plain old data; all-zero is a valid value.
    let mut s: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a valid path and `s` a writable statfs.
    check(unsafe { libc::statfs(c.as_ptr(), &mut s) })?;
    Ok(StatFs {
        f_type: s.f_type as u32,
        f_bsize: s.f_bsize as u32,
        f_blocks: s.f_blocks,
        f_bfree: s.f_bfree,
        f_bavail: s.f_bavail,
        f_files: s.f_files,
        f_ffree: s.f_ffree,
        f_namelen: s.f_namelen as u32,
    })
}

/// The /proc/mounts name of a host file system magic.
fn fs_type_of(magic: u32) -> FsType {
    let name = match magic {
        0xef53 => "ext4",
        0x0102_1994 => "tmpfs",
        0x794c_7630 => "overlay",
        0x9123_683e => "btrfs",
        0x5846_5342 => "xfs",
        0x6573_5546 => "fuse",
        _ => "ext4",
    };
    FsType { name, magic }
}

/// An open host file.
pub struct HostFile(pub File);

impl FileHandle for HostFile {
    fn read_at(&mut self, off: u64, buf: &mut [u8]) -> KResult<usize> {
        self.0.read_at(buf, off).map_err(errno)
    }
    fn write_at(&mut self, off: u64, buf: &[u8]) -> KResult<usize> {
        self.0.write_at(buf, off).map_err(errno)
    }
    fn set_len(&mut self, len: u64) -> KResult<()> {
        self.0.set_len(len).map_err(errno)
    }
    fn sync(&mut self) -> KResult<()> {
        self.0.sync_all().map_err(errno)
    }
    fn held_attr(&self) -> Option<Attr> {
        self.0.metadata().ok().map(|m| attr_of(&m))
    }
    fn page_source(&self) -> Option<std::rc::Rc<dyn wax_cpu::mem::PageSource>> {
        // A descriptor of its own (the mapping outlives this handle), but
        // not so many that the guest's own opens would run out.
        if PAGE_READERS.load(Ordering::Relaxed) >= MAX_PAGE_READERS {
            return None;
        }
        let file = self.0.try_clone().ok()?;
        PAGE_READERS.fetch_add(1, Ordering::Relaxed);
        Some(std::rc::Rc::new(HostPages(file)))
    }
}

/// The pages of a host file, for private mappings read as they are
/// touched (`FileHandle::page_source`).
struct HostPages(File);

/// Live [`HostPages`], each holding a host descriptor; past
/// [`MAX_PAGE_READERS`], mappings copy their pages at mmap.
static PAGE_READERS: AtomicUsize = AtomicUsize::new(0);
const MAX_PAGE_READERS: usize = 256;

impl Drop for HostPages {
    fn drop(&mut self) {
        PAGE_READERS.fetch_sub(1, Ordering::Relaxed);
    }
}

impl wax_cpu::mem::PageSource for HostPages {
    fn read_pages(&self, index: u64, pages: &mut [u8]) -> bool {
        let mut got = 0;
        while got < pages.len() {
            match self.0.read_at(&mut pages[got..], index * 4096 + got as u64) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
        true
    }
}
