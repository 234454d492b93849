//! File descriptors and file I/O: open, read, write, seek, dup, fcntl,
//! ioctl, the working directory.

use super::{fsattr, read_path, Args, Outcome, SysOutcome, SysResult, MAX_IO};
use crate::abi::errno::{Errno, KResult};
use crate::abi::oflag;
use crate::kernel::Kernel;
use crate::tasks::process::Wait;
use crate::vfs::file::{Fd, FileRef, OpenFile};
use crate::vfs::perm::{self, Cred};
use crate::vfs::{Attr, Location, NewNode, OpenMode, Resolve, SetAttr};
use std::cell::RefCell;
use std::rc::Rc;
use wax_cpu::GuestAddr;
use wax_devices::{SetWhen, Termios};

/// The `dirfd` value meaning "the working directory".
pub const AT_FDCWD: u32 = -100i32 as u32;

/// Where a path relative to `dirfd` starts. Also readies the VFS for
/// the walk ([`prepare`]).
pub(crate) fn at_start(k: &mut Kernel, dirfd: u32, path: &[u8]) -> KResult<Location> {
    let start = if path.first() == Some(&b'/') {
        Location::root()
    } else if dirfd == AT_FDCWD {
        k.proc().cwd.clone()
    } else {
        let file = k.proc().fds.file(dirfd)?;
        let loc = file.borrow().location.clone().ok_or(Errno::ENOTDIR)?;
        if !k.vfs.getattr(&loc)?.is_dir() {
            return Err(Errno::ENOTDIR);
        }
        loc
    };
    prepare(k, &start, path);
    Ok(start)
}

/// Readies the VFS for a walk of `path` from `start`: the time file
/// systems stamp on changes, and the /proc snapshot if the walk may
/// enter /proc.
pub(crate) fn prepare(k: &mut Kernel, start: &Location, path: &[u8]) {
    touch_clock(k);
    k.vfs.cred = cred(k);
    let p = k.thread().process;
    let root = &k.tasks.proc(p).root;
    if k.vfs.root != *root {
        k.vfs.root = root.clone();
    }
    let want = super::procinfo::wants(path, k.in_proc(start));
    k.refresh_proc_info(want);
}

/// Updates the time file systems stamp on changes.
pub(crate) fn touch_clock(k: &mut Kernel) {
    let now = k.time.realtime();
    k.vfs.now.set(now);
}

/// O_TMPFILE (with O_DIRECTORY, as glibc passes it).
const O_TMPFILE: u32 = 0o20000000 | oflag::O_DIRECTORY;

/// open/openat/creat: resolves (or creates) and installs a descriptor.
fn open_at(k: &mut Kernel, dirfd: u32, path_addr: u32, flags: u32, mode: u32) -> SysOutcome {
    let path = read_path(k, path_addr)?;
    let start = at_start(k, dirfd, &path)?;
    if flags & O_TMPFILE == O_TMPFILE {
        return open_tmpfile(k, &start, &path, flags, mode).map(Outcome::Done);
    }
    let mut found = None;
    if flags & oflag::O_NOFOLLOW == 0 {
        match magic_fd(k, &start, &path)? {
            Followed::Magic(file) => return reopen(k, file, flags),
            // No symlink at the end: found whether or not it is followed.
            Followed::Node(loc, attr) => found = Some((loc, attr)),
            Followed::Unknown => {}
        }
    }
    let excl = flags & oflag::O_CREAT != 0 && flags & oflag::O_EXCL != 0;
    let follow = if flags & oflag::O_NOFOLLOW != 0 || excl {
        Resolve::NoFollow
    } else {
        Resolve::Follow
    };
    let resolved = match found {
        Some(f) => Ok(f),
        None => k.vfs.resolve_attr(&start, &path, follow),
    };
    let (loc, attr, created) = match resolved {
        Ok(_) if excl => return Err(Errno::EEXIST.into()),
        Ok((loc, attr)) => (loc, Some(attr), false),
        Err(Errno::ENOENT) if flags & oflag::O_CREAT != 0 => {
            (create(k, &start, &path, mode)?, None, true)
        }
        Err(e) => return Err(e.into()),
    };
    open_location(k, loc, attr, flags, created)
}

/// Opens a resolved node with `flags` (`attr`: its attributes, if the walk
/// that found it has them); `created` skips the permission check (a file
/// created by this open may be opened whatever its mode).
fn open_location(
    k: &mut Kernel,
    loc: Location,
    attr: Option<Attr>,
    flags: u32,
    created: bool,
) -> SysOutcome {
    let attr = match attr {
        Some(a) => a,
        None => k.vfs.getattr(&loc)?,
    };
    let acc = flags & oflag::O_ACCMODE;
    let writing = acc == oflag::O_WRONLY || acc == oflag::O_RDWR;
    let path_only = flags & oflag::O_PATH != 0;
    if attr.file_type() == crate::vfs::FileType::Symlink && !path_only {
        return Err(Errno::ELOOP.into());
    }
    if flags & oflag::O_DIRECTORY != 0 && !attr.is_dir() {
        return Err(Errno::ENOTDIR.into());
    }
    if attr.is_dir() && (writing || flags & oflag::O_CREAT != 0 && !path_only) {
        return Err(Errno::EISDIR.into());
    }
    if !path_only && !created {
        let mut want = 0;
        if acc != oflag::O_WRONLY {
            want |= perm::MAY_READ;
        }
        if writing || flags & oflag::O_TRUNC != 0 {
            want |= perm::MAY_WRITE;
        }
        perm::check(&attr, &cred(k), want)?;
    }
    let (m, ino) = k.vfs.node(&loc);
    if flags & oflag::O_TRUNC != 0 {
        k.vfs.content_writes += 1;
    }
    if !writing && !path_only && flags & oflag::O_TRUNC != 0 {
        truncate_read_only_open(k, &attr, m, ino)?;
    }
    let handle = if attr.is_dir() || path_only {
        None
    } else if attr.file_type() == crate::vfs::FileType::Fifo {
        match open_fifo(k, (m, ino), flags)? {
            crate::files::fifo::FifoOpen::Ready(h) => Some(h),
            crate::files::fifo::FifoOpen::Wait => return Ok(Outcome::Block(fifo_retry(k))),
        }
    } else {
        let how = OpenMode {
            read: acc != oflag::O_WRONLY,
            write: writing,
            append: flags & oflag::O_APPEND != 0,
            truncate: writing && flags & oflag::O_TRUNC != 0,
        };
        let h = k.vfs.fs_query(m).open(ino, how)?;
        Some(crate::tty::on_open(k, h, flags)?)
    };
    let file = OpenFile {
        node: Some((m, ino)),
        location: Some(loc),
        handle,
        offset: 0,
        flags: flags
            & !(oflag::O_CREAT
                | oflag::O_EXCL
                | oflag::O_TRUNC
                | oflag::O_NOCTTY
                | oflag::O_CLOEXEC),
        dir_entries: None,
    };
    install(k, file, flags & oflag::O_CLOEXEC != 0).map(Outcome::Done)
}

/// How long a blocked FIFO open waits before it looks again.
const FIFO_RETRY_NS: i128 = 5_000_000;

/// The in-kernel pipe end for an open of a FIFO node (files/fifo.rs); a
/// blocking open whose other side is missing gets `FifoOpen::Wait`, parks
/// ([`fifo_retry`]) and retries.
fn open_fifo(
    k: &mut Kernel,
    key: crate::files::fifo::FifoKey,
    flags: u32,
) -> KResult<crate::files::fifo::FifoOpen> {
    let acc = flags & oflag::O_ACCMODE;
    let read = acc != oflag::O_WRONLY;
    let write = acc == oflag::O_WRONLY || acc == oflag::O_RDWR;
    let nonblock = flags & oflag::O_NONBLOCK != 0;
    let tid = k.thread().tid;
    let tasks = &k.tasks;
    // A woken waiter may not have run its retry yet, so any thread not
    // exited keeps its end (one interrupted by a signal keeps it until it
    // opens the FIFO again or exits: partial).
    let live = |t: u32| tasks.find_tid(t).is_some();
    k.files.fifos.open(key, tid, read, write, nonblock, live)
}

/// The wait of a blocked FIFO open: a short sleep, then the open again.
fn fifo_retry(k: &mut Kernel) -> Wait {
    let now = k.time.monotonic().as_nanos();
    k.thread().poll_set.clear();
    Wait::Poll {
        deadline: Some(wax_devices::Timespec::from_nanos(now + FIFO_RETRY_NS)),
    }
}

/// open(O_RDONLY|O_TRUNC) of a regular file: Linux truncates it too (the
/// write permission was checked above); the file systems only truncate for
/// a writing open, so it is done here.
fn truncate_read_only_open(
    k: &mut Kernel,
    attr: &crate::vfs::Attr,
    m: crate::vfs::MountId,
    ino: crate::vfs::Ino,
) -> KResult<()> {
    if attr.file_type() != crate::vfs::FileType::Regular || attr.size == 0 {
        return Ok(());
    }
    let set = crate::vfs::SetAttr {
        size: Some(0),
        ..Default::default()
    };
    k.vfs.fs(m).setattr(ino, &set)
}

/// What a path with its last symlink followed names, as far as the
/// check for magic links found out.
pub(super) enum Followed {
    /// A /proc/PID/fd/N link (reached through symlinks such as
    /// /dev/stdin): Linux's "magic links" open the descriptor's file
    /// itself, which matters for pipes and the console, whose link text is
    /// no path.
    Magic(FileRef),
    /// The path's last component is no symlink, so following changes
    /// nothing: this is the node, with its attributes.
    Node(Location, Attr),
    /// Neither: the caller walks the path itself.
    Unknown,
}

/// Looks for a magic link at the end of `path`; on the way, a path that
/// ends in no symlink at all is resolved once and for all.
pub(super) fn magic_fd(k: &mut Kernel, start: &Location, path: &[u8]) -> KResult<Followed> {
    let (mut loc, attr) = match k.vfs.resolve_attr(start, path, Resolve::NoFollow) {
        Ok(found) => found,
        Err(_) => return Ok(Followed::Unknown),
    };
    if attr.file_type() != crate::vfs::FileType::Symlink {
        return Ok(Followed::Node(loc, attr));
    }
    for _ in 0..crate::vfs::path::MAX_SYMLINKS {
        let attr = k.vfs.getattr(&loc)?;
        if attr.file_type() != crate::vfs::FileType::Symlink {
            return Ok(Followed::Unknown);
        }
        let p = loc.path();
        if k.in_proc(&loc) {
            if let Some(file) = proc_fd_file(k, &p) {
                return Ok(Followed::Magic(file));
            }
        }
        let (m, ino) = k.vfs.node(&loc);
        let target = k.vfs.fs_query(m).readlink(ino)?;
        loc = match k.vfs.resolve(&loc.parent(), &target, Resolve::NoFollow) {
            Ok(l) => l,
            Err(_) => return Ok(Followed::Unknown),
        };
    }
    Ok(Followed::Unknown)
}

/// The open file behind "/proc/PID/fd/N" (or /proc/PID/task/TID/fd/N).
fn proc_fd_file(k: &mut Kernel, path: &[u8]) -> Option<FileRef> {
    let parts: Vec<&[u8]> = path
        .split(|&b| b == b'/')
        .filter(|c| !c.is_empty())
        .collect();
    let (pid, fd) = match parts.as_slice() {
        [b"proc", pid, b"fd", n] | [b"proc", pid, b"task", _, b"fd", n] => (*pid, *n),
        _ => return None,
    };
    let num = |s: &[u8]| std::str::from_utf8(s).ok()?.parse::<u32>().ok();
    let (pid, fd) = (num(pid)?, num(fd)?);
    let p = k.tasks.find_live(pid)?;
    k.tasks.proc(p).fds.file(fd).ok()
}

/// Opening a magic link: a file with a path is opened again by path (a
/// new open file description, as on Linux); a pipe or the console shares
/// the open file.
fn reopen(k: &mut Kernel, file: FileRef, flags: u32) -> SysOutcome {
    let loc = file.borrow().location.clone();
    match loc {
        Some(loc) => {
            let flags = flags & !(oflag::O_CREAT | oflag::O_EXCL);
            open_location(k, loc, None, flags, false)
        }
        None => {
            let fd = Fd {
                file,
                cloexec: flags & oflag::O_CLOEXEC != 0,
            };
            let n = k.proc().fds.insert(fd)?;
            within_nofile(k, n).map(Outcome::Done)
        }
    }
}

/// O_TMPFILE: an unnamed regular file in directory `path` (created under
/// a hidden name that is removed at once).
fn open_tmpfile(k: &mut Kernel, start: &Location, path: &[u8], flags: u32, mode: u32) -> SysResult {
    let acc = flags & oflag::O_ACCMODE;
    if acc != oflag::O_WRONLY && acc != oflag::O_RDWR {
        return Err(Errno::EINVAL.into());
    }
    let dir = k.vfs.resolve(start, path, Resolve::Follow)?;
    if !k.vfs.getattr(&dir)?.is_dir() {
        return Err(Errno::ENOTDIR.into());
    }
    let mut salt = [0u8; 8];
    k.entropy.borrow_mut().fill(&mut salt);
    let name = format!(".wax-tmpfile-{:016x}", u64::from_le_bytes(salt)).into_bytes();
    let node = new_node(k, &dir, crate::abi::mode::S_IFREG | (mode & 0o7777), true)?;
    let (m, dino) = k.vfs.node(&dir);
    let ino = k.vfs.fs(m).create(dino, &name, &node)?;
    let how = OpenMode {
        read: acc == oflag::O_RDWR,
        write: true,
        ..OpenMode::default()
    };
    let handle = k.vfs.fs_query(m).open(ino, how);
    let _ = k.vfs.fs(m).unlink(dino, &name);
    let file = OpenFile {
        node: Some((m, ino)),
        location: None,
        handle: Some(handle?),
        offset: 0,
        flags: flags & !(O_TMPFILE | oflag::O_CLOEXEC),
        dir_entries: None,
    };
    install(k, file, flags & oflag::O_CLOEXEC != 0)
}

/// memfd_create(name, flags): an unlinked file on the /dev/shm tmpfs,
/// opened read-write. Partial: /proc/PID/fd shows that file's path rather
/// than `/memfd:NAME (deleted)`, and file seals (F_ADD_SEALS) are not
/// implemented, so MFD_ALLOW_SEALING is accepted without effect.
pub fn sys_memfd_create(k: &mut Kernel, a: &Args) -> SysResult {
    const MFD_CLOEXEC: u32 = 1;
    const MFD_HUGETLB: u32 = 4;
    /// MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_NOEXEC_SEAL | MFD_EXEC.
    const KNOWN: u32 = 0x1b;
    /// MFD_NAME_MAX_LEN: NAME_MAX minus the "memfd:" prefix.
    const NAME_MAX: usize = 249;
    let name = k
        .mem()
        .read_cstr(GuestAddr(a[0]), NAME_MAX + 1)?
        .ok_or(Errno::EINVAL)?;
    // No hugetlbfs here, as on a kernel built without it.
    if a[1] & MFD_HUGETLB != 0 || a[1] & !KNOWN != 0 || name.len() > NAME_MAX {
        return Err(Errno::EINVAL.into());
    }
    let cloexec = if a[1] & MFD_CLOEXEC != 0 {
        oflag::O_CLOEXEC
    } else {
        0
    };
    let dir = b"/dev/shm";
    let start = at_start(k, AT_FDCWD, dir)?;
    open_tmpfile(k, &start, dir, oflag::O_RDWR | cloexec, 0o777)
}

fn create(k: &mut Kernel, start: &Location, path: &[u8], mode: u32) -> KResult<Location> {
    let (dir, name) = k.vfs.resolve_parent(start, path)?;
    if name.is_empty() || name == b"." || name == b".." || path.last() == Some(&b'/') {
        return Err(Errno::EISDIR);
    }
    let node = new_node(k, &dir, crate::abi::mode::S_IFREG | (mode & 0o7777), true)?;
    let (m, ino) = k.vfs.node(&dir);
    k.vfs.fs(m).create(ino, &name, &node)?;
    k.vfs.resolve(&dir, &name, Resolve::NoFollow)
}

/// The credentials of the calling process.
pub(crate) fn cred(k: &mut Kernel) -> Cred {
    let c = &k.proc().cred;
    Cred {
        uid: c.fsuid,
        gid: c.fsgid,
        groups: c.groups.clone(),
    }
}

/// The attributes of a node about to be created in `dir`: the umask
/// applied (when `umask`), owned by the caller, and the group of a
/// set-group-ID directory (which new subdirectories inherit too). Checks
/// that the caller may add entries to `dir`.
pub(crate) fn new_node(k: &mut Kernel, dir: &Location, mode: u32, umask: bool) -> KResult<NewNode> {
    let d = k.vfs.getattr(dir)?;
    let c = cred(k);
    perm::check(&d, &c, perm::MAY_WRITE | perm::MAY_EXEC)?;
    let mask = if umask { k.proc().umask } else { 0 };
    let mut n = NewNode {
        mode: mode & !mask,
        uid: c.uid,
        gid: c.gid,
        rdev: 0,
    };
    if d.mode & 0o2000 != 0 {
        n.gid = d.gid;
        if n.mode & crate::abi::mode::S_IFMT == crate::abi::mode::S_IFDIR {
            n.mode |= 0o2000;
        }
    }
    Ok(n)
}

/// Puts an open file in the lowest free descriptor.
pub(crate) fn install(k: &mut Kernel, file: OpenFile, cloexec: bool) -> SysResult {
    let fd = Fd {
        file: Rc::new(RefCell::new(file)),
        cloexec,
    };
    let n = k.proc().fds.insert(fd)?;
    within_nofile(k, n)
}

pub fn sys_open(k: &mut Kernel, a: &Args) -> SysOutcome {
    open_at(k, AT_FDCWD, a[0], a[1], a[2])
}

pub fn sys_openat(k: &mut Kernel, a: &Args) -> SysOutcome {
    open_at(k, a[0], a[1], a[2], a[3])
}

pub fn sys_creat(k: &mut Kernel, a: &Args) -> SysOutcome {
    let flags = oflag::O_CREAT | oflag::O_WRONLY | oflag::O_TRUNC;
    open_at(k, AT_FDCWD, a[0], flags, a[1])
}

pub fn sys_close(k: &mut Kernel, a: &Args) -> SysResult {
    let fd = k.proc().fds.remove(a[0])?;
    fsattr::release_on_close(k, &fd.file);
    Ok(0)
}

/// close_range(first, last, flags): closes (or, with CLOSE_RANGE_CLOEXEC,
/// marks close-on-exec) every open descriptor in `first..=last`.
/// CLOSE_RANGE_UNSHARE asks for a private table first; the table belongs
/// to the process here, so only threads created with CLONE_FILES would
/// notice the difference (they still see the closes: partial).
pub fn sys_close_range(k: &mut Kernel, a: &Args) -> SysResult {
    const CLOSE_RANGE_UNSHARE: u32 = 1 << 1;
    const CLOSE_RANGE_CLOEXEC: u32 = 1 << 2;
    let (first, last, flags) = (a[0], a[1], a[2]);
    if flags & !(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC) != 0 || first > last {
        return Err(Errno::EINVAL.into());
    }
    let open: Vec<u32> = k
        .proc()
        .fds
        .iter()
        .map(|(n, _)| n)
        .filter(|n| (first..=last).contains(n))
        .collect();
    for n in open {
        if flags & CLOSE_RANGE_CLOEXEC != 0 {
            k.proc().fds.set_cloexec(n, true)?;
        } else {
            let fd = k.proc().fds.remove(n)?;
            fsattr::release_on_close(k, &fd.file);
        }
    }
    Ok(0)
}

/// The soft RLIMIT_NOFILE of the caller.
fn nofile(k: &mut Kernel) -> u64 {
    k.proc().rlimits[crate::tasks::process::RLIMIT_NOFILE].0
}

/// EMFILE (undoing the insert) if descriptor `n` is at or past the soft
/// RLIMIT_NOFILE.
pub(crate) fn within_nofile(k: &mut Kernel, n: u32) -> SysResult {
    if u64::from(n) >= nofile(k) {
        let _ = k.proc().fds.remove(n);
        return Err(Errno::EMFILE.into());
    }
    Ok(n)
}

fn readable_file(k: &mut Kernel, fd: u32) -> KResult<FileRef> {
    let file = k.proc().fds.file(fd)?;
    if !file.borrow().can_read() {
        return Err(Errno::EBADF);
    }
    Ok(file)
}

/// Where a read's bytes go.
enum ReadInto<'d> {
    Host(&'d mut [u8]),
    /// Guest memory, already checked writable.
    Guest(GuestAddr, usize),
}

/// Where a write's bytes come from.
enum WriteFrom<'d> {
    Host(&'d [u8]),
    /// Guest memory, already checked readable.
    Guest(GuestAddr, usize),
}

/// Reads from `fd`; `pos` for pread (no offset update).
fn read_host(k: &mut Kernel, fd: u32, into: ReadInto, pos: Option<u64>) -> SysOutcome {
    let file = readable_file(k, fd)?;
    if let Some(w) = crate::tty::job::check_file(k, fd, &file, crate::tty::job::Access::Read)? {
        return Ok(Outcome::Block(w));
    }
    let node = file.borrow().node;
    k.flush_shared_of(node);
    let mut f = file.borrow_mut();
    let nonblock = f.flags & oflag::O_NONBLOCK != 0;
    let off = pos.unwrap_or(f.offset);
    let Some(h) = f.handle.as_mut() else {
        return Err(Errno::EISDIR.into());
    };
    let stream = h.is_stream();
    if pos.is_some() && stream {
        return Err(Errno::ESPIPE.into());
    }
    let r = match into {
        ReadInto::Host(data) => h.read_at(off, data),
        ReadInto::Guest(addr, len) => super::guestio::read_into(k, h.as_mut(), off, addr, len),
    };
    let n = match r {
        Err(Errno::EAGAIN) if !nonblock => return Ok(Outcome::Block(Wait::Readable { fd })),
        r => r?,
    };
    if pos.is_none() && !stream {
        f.offset += n as u64;
    }
    Ok(Outcome::Done(n as u32))
}

/// Reads into guest memory at `buf`; `pos` for pread.
fn do_read(k: &mut Kernel, fd: u32, buf: u32, len: u32, pos: Option<u64>) -> SysOutcome {
    readable_file(k, fd)?;
    let len = (len as usize).min(MAX_IO);
    k.mem().probe_write(GuestAddr(buf), len as u32)?;
    read_host(k, fd, ReadInto::Guest(GuestAddr(buf), len), pos)
}

fn do_write(k: &mut Kernel, fd: u32, buf: u32, len: u32, pos: Option<u64>) -> SysOutcome {
    k.proc().fds.file(fd)?;
    let len = (len as usize).min(MAX_IO);
    k.mem().probe_read(GuestAddr(buf), len)?;
    write_host(k, fd, WriteFrom::Guest(GuestAddr(buf), len), pos)
}

/// Writes to `fd`; EPIPE also raises SIGPIPE.
fn write_host(k: &mut Kernel, fd: u32, from: WriteFrom, pos: Option<u64>) -> SysOutcome {
    let file = k.proc().fds.file(fd)?;
    if !file.borrow().can_write() {
        return Err(Errno::EBADF.into());
    }
    if pos.is_none() && super::net::socket_of(k, fd).is_ok() {
        // A message written to a Unix socket carries the writer's
        // credentials at the time of the write, as one sent with send(2).
        let data = match from {
            WriteFrom::Host(d) => d.to_vec(),
            WriteFrom::Guest(addr, len) => {
                let mut v = vec![0; len];
                k.mem().read_bytes(addr, &mut v)?;
                v
            }
        };
        return super::net::send(k, fd, data, super::net::SendExtra::default(), 0);
    }
    if let Some(w) = crate::tty::job::check_file(k, fd, &file, crate::tty::job::Access::Write)? {
        return Ok(Outcome::Block(w));
    }
    let node = file.borrow().node;
    if node.is_some() {
        // Only a file system's node is stamped with the time of a write
        // (pipes and sockets have no times to keep).
        touch_clock(k);
    }
    k.flush_shared_of(node);
    let result = {
        let mut f = file.borrow_mut();
        let append = f.flags & oflag::O_APPEND != 0;
        let off = pos.unwrap_or(f.offset);
        let Some(h) = f.handle.as_mut() else {
            return Err(Errno::EBADF.into());
        };
        let stream = h.is_stream();
        let r = match from {
            WriteFrom::Host(data) => h.write_at(off, data),
            WriteFrom::Guest(addr, len) => {
                super::guestio::write_from(k, h.as_mut(), off, addr, len)
            }
        };
        if let (Ok(n), None, false) = (&r, pos, stream) {
            f.offset = if append {
                end_of(k, &f)
            } else {
                off + *n as u64
            };
        }
        r
    };
    if matches!(result, Ok(n) if n > 0) {
        k.refresh_shared_of(node);
    }
    match result {
        Err(Errno::EPIPE) => Err(crate::syscall::broken_pipe(k, true)),
        // A full pipe: park until there is room (unless O_NONBLOCK).
        Err(Errno::EAGAIN) if file.borrow().flags & oflag::O_NONBLOCK == 0 => {
            Ok(Outcome::Block(Wait::Writable { fd }))
        }
        r => Ok(Outcome::Done(r? as u32)),
    }
}

/// The size of an open file's node (the offset after an append).
fn end_of(k: &mut Kernel, f: &OpenFile) -> u64 {
    f.attr(&mut k.vfs).map_or(f.offset, |a| a.size)
}

pub fn sys_read(k: &mut Kernel, a: &Args) -> SysOutcome {
    do_read(k, a[0], a[1], a[2], None)
}

pub fn sys_write(k: &mut Kernel, a: &Args) -> SysOutcome {
    write_chunks(k, a[0], &[(a[1], a[2])], None)
}

fn pos64(lo: u32, hi: u32) -> KResult<u64> {
    let p = (u64::from(hi) << 32 | u64::from(lo)) as i64;
    if p < 0 {
        return Err(Errno::EINVAL);
    }
    Ok(p as u64)
}

pub fn sys_pread64(k: &mut Kernel, a: &Args) -> SysOutcome {
    do_read(k, a[0], a[1], a[2], Some(pos64(a[3], a[4])?))
}

pub fn sys_pwrite64(k: &mut Kernel, a: &Args) -> SysOutcome {
    do_write(k, a[0], a[1], a[2], Some(pos64(a[3], a[4])?))
}

/// The (base, len) pairs of an iovec array (at most IOV_MAX = 1024).
fn iovecs(k: &mut Kernel, addr: u32, count: u32) -> KResult<Vec<(u32, u32)>> {
    if count > 1024 {
        return Err(Errno::EINVAL);
    }
    let mut v = Vec::with_capacity(count as usize);
    let mut total = 0u64;
    for i in 0..count {
        let mut m = k.mem();
        let base = m.read_u32(GuestAddr(addr + i * 8))?;
        let len = m.read_u32(GuestAddr(addr + i * 8 + 4))?;
        total += u64::from(len);
        if len as i32 as i64 > i64::from(i32::MAX) || total > i32::MAX as u64 {
            return Err(Errno::EINVAL);
        }
        v.push((base, len));
    }
    Ok(v)
}

fn vectored(k: &mut Kernel, a: &Args, write: bool) -> SysOutcome {
    vectored_at(k, a, write, None)
}

/// Writes the guest's `chunks` to `fd` (write, writev, pwritev). A
/// blocking write to a stream goes on until every byte is in, parking
/// whenever the reader is behind, as Linux's pipes, FIFOs and terminals
/// do: the bytes moved so far are kept in the thread ([`write_done`]) for
/// the restarted call, and a signal that ends the wait returns their count.
///
/// [`write_done`]: crate::tasks::process::Thread::write_done
fn write_chunks(k: &mut Kernel, fd: u32, chunks: &[(u32, u32)], pos: Option<u64>) -> SysOutcome {
    let mut done = std::mem::take(&mut k.thread().write_done);
    let mut skip = done;
    for &(base, len) in chunks {
        if skip >= len {
            skip -= len;
            continue;
        }
        let (base, len) = (base.wrapping_add(skip), len - skip);
        skip = 0;
        let at = pos.map(|p| p + u64::from(done));
        match do_write(k, fd, base, len, at) {
            Ok(Outcome::Done(n)) => {
                done += n;
                if n as usize >= (len as usize).min(MAX_IO) {
                    continue;
                }
                if n > 0 && pos.is_none() && blocking_stream(k, fd) {
                    k.thread().write_done = done;
                    return Ok(Outcome::Block(Wait::Writable { fd }));
                }
                break;
            }
            Ok(Outcome::Block(w @ Wait::Writable { .. })) if done > 0 => {
                k.thread().write_done = done;
                return Ok(Outcome::Block(w));
            }
            // An error or a wait before anything moved is the call's;
            // after, the call returns what it moved (a broken pipe has
            // already raised SIGPIPE).
            r if done == 0 => return r,
            _ => break,
        }
    }
    Ok(Outcome::Done(done))
}

/// Whether `fd` is a stream without O_NONBLOCK.
fn blocking_stream(k: &mut Kernel, fd: u32) -> bool {
    let Ok(file) = k.proc().fds.file(fd) else {
        return false;
    };
    let mut f = file.borrow_mut();
    f.flags & oflag::O_NONBLOCK == 0 && f.handle.as_mut().is_some_and(|h| h.is_stream())
}

/// readv/writev, or preadv/pwritev at `pos` (the file offset unchanged).
fn vectored_at(k: &mut Kernel, a: &Args, write: bool, pos: Option<u64>) -> SysOutcome {
    let iov = iovecs(k, a[1], a[2])?;
    if write {
        return write_chunks(k, a[0], &iov, pos);
    }
    let mut done = 0u32;
    for (i, (base, len)) in iov.into_iter().enumerate() {
        if len == 0 {
            continue;
        }
        let at = pos.map(|p| p + u64::from(done));
        let r = do_read(k, a[0], base, len, at);
        match r {
            Ok(Outcome::Done(n)) => {
                done += n;
                if n < len {
                    break;
                }
            }
            // An error or a wait before anything moved is the call's.
            r if i == 0 || done == 0 => return r,
            _ => break,
        }
    }
    Ok(Outcome::Done(done))
}

/// preadv/pwritev(fd, iov, iovcnt, pos_lo, pos_hi).
pub fn sys_preadv(k: &mut Kernel, a: &Args) -> SysOutcome {
    let pos = pos64(a[3], a[4])?;
    vectored_at(k, a, false, Some(pos))
}

pub fn sys_pwritev(k: &mut Kernel, a: &Args) -> SysOutcome {
    let pos = pos64(a[3], a[4])?;
    vectored_at(k, a, true, Some(pos))
}

/// RWF_HIPRI | RWF_DSYNC | RWF_SYNC | RWF_NOWAIT | RWF_APPEND.
const RWF_SUPPORTED: u32 = 0x1f;
const RWF_APPEND: u32 = 0x10;

/// preadv2/pwritev2: as preadv/pwritev, with offset -1 meaning the file
/// offset (like readv/writev). RWF_APPEND writes at the end of the file
/// (moving the file offset past it when the offset is -1). Writes are
/// already synchronous and nothing waits on storage, so the other flags
/// change nothing once accepted.
fn vectored2(k: &mut Kernel, a: &Args, write: bool) -> SysOutcome {
    if a[5] & !RWF_SUPPORTED != 0 {
        return Err(Errno::EOPNOTSUPP.into());
    }
    let current = a[3] == u32::MAX && a[4] == u32::MAX;
    let pos = if current {
        None
    } else {
        Some(pos64(a[3], a[4])?)
    };
    if !(write && a[5] & RWF_APPEND != 0) {
        return vectored_at(k, a, write, pos);
    }
    let file = k.proc().fds.file(a[0])?;
    let end = end_of(k, &file.borrow());
    let n = match vectored_at(k, a, true, Some(end))? {
        Outcome::Done(n) => n,
        other => return Ok(other),
    };
    if current {
        file.borrow_mut().offset = end + u64::from(n);
    }
    Ok(Outcome::Done(n))
}

pub fn sys_preadv2(k: &mut Kernel, a: &Args) -> SysOutcome {
    vectored2(k, a, false)
}

pub fn sys_pwritev2(k: &mut Kernel, a: &Args) -> SysOutcome {
    vectored2(k, a, true)
}

pub fn sys_readv(k: &mut Kernel, a: &Args) -> SysOutcome {
    vectored(k, a, false)
}

pub fn sys_writev(k: &mut Kernel, a: &Args) -> SysOutcome {
    vectored(k, a, true)
}

/// The new offset for lseek.
fn seek(k: &mut Kernel, fd: u32, off: i64, whence: u32) -> KResult<u64> {
    let file = k.proc().fds.file(fd)?;
    let mut f = file.borrow_mut();
    if f.handle.as_ref().is_some_and(|h| h.is_stream()) {
        return Err(Errno::ESPIPE);
    }
    let base = match whence {
        0 => 0,
        1 => f.offset as i64,
        2 => end_of(k, &f) as i64,
        SEEK_DATA | SEEK_HOLE => return seek_data_hole(k, &mut f, off, whence),
        _ => return Err(Errno::EINVAL),
    };
    let new = base
        .checked_add(off)
        .filter(|&n| n >= 0)
        .ok_or(Errno::EINVAL)?;
    f.offset = new as u64;
    if new == 0 {
        f.dir_entries = None;
    }
    Ok(new as u64)
}

const SEEK_DATA: u32 = 3;
const SEEK_HOLE: u32 = 4;

/// SEEK_DATA/SEEK_HOLE without hole information (like Linux's generic
/// version): all of the file is data, with one hole at its end.
fn seek_data_hole(k: &mut Kernel, f: &mut OpenFile, off: i64, whence: u32) -> KResult<u64> {
    let size = end_of(k, f);
    let off = u64::try_from(off).map_err(|_| Errno::ENXIO)?;
    if off >= size {
        return Err(Errno::ENXIO);
    }
    f.offset = if whence == SEEK_DATA { off } else { size };
    Ok(f.offset)
}

pub fn sys_lseek(k: &mut Kernel, a: &Args) -> SysResult {
    let new = seek(k, a[0], i64::from(a[1] as i32), a[2])?;
    u32::try_from(new)
        .ok()
        .filter(|&n| n <= i32::MAX as u32)
        .ok_or(Errno::EOVERFLOW.into())
}

pub fn sys_llseek(k: &mut Kernel, a: &Args) -> SysResult {
    let off = (u64::from(a[1]) << 32 | u64::from(a[2])) as i64;
    k.mem().probe_write(GuestAddr(a[3]), 8)?;
    let new = seek(k, a[0], off, a[4])?;
    k.mem().write_u64(GuestAddr(a[3]), new)?;
    Ok(0)
}

pub fn sys_dup(k: &mut Kernel, a: &Args) -> SysResult {
    let file = k.proc().fds.file(a[0])?;
    let n = k.proc().fds.insert(Fd {
        file,
        cloexec: false,
    })?;
    within_nofile(k, n)
}

fn dup_to(k: &mut Kernel, old: u32, new: u32, cloexec: bool) -> SysResult {
    let file = k.proc().fds.file(old)?;
    if u64::from(new) >= nofile(k) {
        return Err(Errno::EBADF.into());
    }
    k.proc().fds.set(new, Fd { file, cloexec })?;
    Ok(new)
}

pub fn sys_dup2(k: &mut Kernel, a: &Args) -> SysResult {
    if a[0] == a[1] {
        k.proc().fds.get(a[0])?;
        return Ok(a[1]);
    }
    dup_to(k, a[0], a[1], false)
}

pub fn sys_dup3(k: &mut Kernel, a: &Args) -> SysResult {
    if a[0] == a[1] || a[2] & !oflag::O_CLOEXEC != 0 {
        return Err(Errno::EINVAL.into());
    }
    dup_to(k, a[0], a[1], a[2] & oflag::O_CLOEXEC != 0)
}

pub fn sys_fcntl64(k: &mut Kernel, a: &Args) -> SysOutcome {
    const F_DUPFD: u32 = 0;
    const F_GETFD: u32 = 1;
    const F_SETFD: u32 = 2;
    const F_GETFL: u32 = 3;
    const F_SETFL: u32 = 4;
    const F_DUPFD_CLOEXEC: u32 = 1030;
    const F_SETPIPE_SZ: u32 = 1031;
    const F_GETPIPE_SZ: u32 = 1032;
    let (fd, cmd, arg) = (a[0], a[1], a[2]);
    let entry = k.proc().fds.get(fd)?.clone();
    if fsattr::cmd::is_lock(cmd) {
        let wide = cmd > fsattr::cmd::F_SETLKW;
        return fsattr::fcntl_lock(k, fd, cmd, arg, wide);
    }
    match cmd {
        F_DUPFD | F_DUPFD_CLOEXEC => {
            if u64::from(arg) >= nofile(k) {
                return Err(Errno::EINVAL.into());
            }
            let new = Fd {
                file: entry.file,
                cloexec: cmd == F_DUPFD_CLOEXEC,
            };
            let n = k.proc().fds.insert_from(arg, new)?;
            within_nofile(k, n)
        }
        F_GETFD => Ok(u32::from(entry.cloexec)),
        F_SETFD => {
            k.proc().fds.set_cloexec(fd, arg & 1 != 0)?;
            Ok(0)
        }
        F_GETFL => Ok(entry.file.borrow().flags),
        F_SETFL => {
            let mut f = entry.file.borrow_mut();
            f.flags = (f.flags & !oflag::SETFL_MASK) | (arg & oflag::SETFL_MASK);
            Ok(0)
        }
        F_SETPIPE_SZ | F_GETPIPE_SZ => pipe_size(k, &entry.file, cmd == F_SETPIPE_SZ, arg),
        F_NOTIFY => dnotify(k, &entry.file, arg),
        _ => Err(Errno::EINVAL.into()),
    }
    .map(Outcome::Done)
}

const F_NOTIFY: u32 = 1026;

/// F_NOTIFY (dnotify), in Linux's order of checks. An argument with no
/// event bits (0, or DN_MULTISHOT alone) removes the caller's
/// registrations on the descriptor: there are none to remove, so it
/// succeeds on any file, as on Linux. Event bits on something other than
/// a directory are ENOTDIR. Registering events on a directory is EINVAL,
/// the answer of a kernel with dnotify turned off (`dir_notify_enable` 0):
/// Wax's file systems report no changes (see inotify), so a registration
/// could never signal.
fn dnotify(k: &mut Kernel, file: &FileRef, arg: u32) -> SysResult {
    const DN_MULTISHOT: u32 = 0x8000_0000;
    if arg & !DN_MULTISHOT == 0 {
        return Ok(0);
    }
    let node = file.borrow().node;
    let is_dir = match node {
        Some((m, ino)) => k.vfs.fs(m).getattr(ino)?.is_dir(),
        None => false,
    };
    if !is_dir {
        return Err(Errno::ENOTDIR.into());
    }
    Err(Errno::EINVAL.into())
}

/// F_GETPIPE_SZ / F_SETPIPE_SZ (EBADF on anything but a pipe or FIFO).
fn pipe_size(k: &mut Kernel, file: &FileRef, set: bool, arg: u32) -> SysResult {
    let pipe = file
        .borrow_mut()
        .handle
        .as_mut()
        .and_then(|h| crate::files::pipe::Pipe::of_handle(h.as_mut()))
        .ok_or(Errno::EBADF)?;
    if !set {
        return Ok(pipe.borrow().size() as u32);
    }
    let privileged = k.proc().cred.privileged();
    let size = pipe.borrow_mut().set_size(arg, privileged)?;
    Ok(size as u32)
}

pub fn sys_ioctl(k: &mut Kernel, a: &Args) -> SysOutcome {
    const TCGETS: u32 = 0x5401;
    const TCSETS: u32 = 0x5402;
    const TCSETSW: u32 = 0x5403;
    const TCSETSF: u32 = 0x5404;
    const TIOCGPGRP: u32 = 0x540f;
    const TIOCSPGRP: u32 = 0x5410;
    const TIOCGWINSZ: u32 = 0x5413;
    const TIOCSWINSZ: u32 = 0x5414;
    const FIONBIO: u32 = 0x5421;
    let (fd, req, arg) = (a[0], a[1], a[2]);
    let file = k.proc().fds.file(fd)?;
    if req == FIONBIO {
        let on = k.mem().read_u32(GuestAddr(arg))? != 0;
        let mut f = file.borrow_mut();
        f.flags = if on {
            f.flags | oflag::O_NONBLOCK
        } else {
            f.flags & !oflag::O_NONBLOCK
        };
        return Ok(Outcome::Done(0));
    }
    if let Some(r) = super::net::ioctl(k, fd, req, arg) {
        return r.map(Outcome::Done);
    }
    let end = file.borrow_mut().handle.as_mut().and_then(|h| h.terminal());
    if let Some(end) = end {
        return crate::tty::ioctl::ioctl(k, fd, end, req, arg);
    }
    let tty = file.borrow_mut().handle.as_mut().and_then(|h| h.tty());
    let Some(tty) = tty else {
        return Err(Errno::ENOTTY.into());
    };
    let mut s = tty.borrow_mut();
    let t = s.terminal().ok_or(Errno::ENOTTY)?;
    let io = |e| match e {
        wax_devices::StreamError::Io(n) => Errno(n),
        wax_devices::StreamError::WouldBlock => Errno::EAGAIN,
    };
    match req {
        TCGETS => {
            let b = t.termios().map_err(io)?.to_bytes();
            drop(s);
            k.mem().write_bytes(GuestAddr(arg), &b)?;
        }
        TCSETS | TCSETSW | TCSETSF => {
            let mut b = [0u8; Termios::SIZE];
            drop(s);
            k.mem().read_bytes(GuestAddr(arg), &mut b)?;
            let when = [SetWhen::Now, SetWhen::Drain, SetWhen::Flush][(req - TCSETS) as usize];
            let mut s = tty.borrow_mut();
            let t = s.terminal().ok_or(Errno::ENOTTY)?;
            t.set_termios(when, &Termios::from_bytes(&b)).map_err(io)?;
        }
        TIOCGWINSZ => {
            let w = t.winsize().map_err(io)?;
            drop(s);
            let mut m = k.mem();
            for (i, v) in [w.rows, w.cols, w.xpixel, w.ypixel].into_iter().enumerate() {
                m.write_u16(GuestAddr(arg + i as u32 * 2), v)?;
            }
        }
        TIOCGPGRP => {
            // The guest's own process group is the terminal's foreground
            // group when the host process is in the foreground.
            t.foreground_pgrp().map_err(io)?;
            drop(s);
            let pgid = k.proc().pgid;
            k.mem().write_u32(GuestAddr(arg), pgid)?;
        }
        TIOCSPGRP | TIOCSWINSZ => {}
        _ => return Err(Errno::ENOTTY.into()),
    }
    Ok(Outcome::Done(0))
}

pub fn sys_getcwd(k: &mut Kernel, a: &Args) -> SysResult {
    let mut cwd = k.proc().cwd.clone();
    k.vfs.revalidate(&mut cwd);
    k.proc().cwd = cwd.clone();
    let mut p = cwd.path_within(&k.proc().root);
    p.push(0);
    if p.len() > a[1] as usize {
        return Err(Errno::ERANGE.into());
    }
    k.mem().write_bytes(GuestAddr(a[0]), &p)?;
    Ok(p.len() as u32)
}

/// chroot(path): the process's root directory becomes `path` (its working
/// directory stays where it is, possibly outside, as on Linux). Needs
/// privilege (CAP_SYS_CHROOT).
pub fn sys_chroot(k: &mut Kernel, a: &Args) -> SysResult {
    let path = read_path(k, a[0])?;
    let start = at_start(k, AT_FDCWD, &path)?;
    let loc = k.vfs.resolve(&start, &path, Resolve::Follow)?;
    let attr = k.vfs.getattr(&loc)?;
    if !attr.is_dir() {
        return Err(Errno::ENOTDIR.into());
    }
    if !k.proc().cred.privileged() {
        return Err(Errno::EPERM.into());
    }
    k.proc().root = loc;
    Ok(0)
}

fn set_cwd(k: &mut Kernel, loc: Location) -> SysResult {
    if !k.vfs.getattr(&loc)?.is_dir() {
        return Err(Errno::ENOTDIR.into());
    }
    k.proc().cwd = loc;
    Ok(0)
}

pub fn sys_chdir(k: &mut Kernel, a: &Args) -> SysResult {
    let path = read_path(k, a[0])?;
    let start = at_start(k, AT_FDCWD, &path)?;
    let loc = k.vfs.resolve(&start, &path, Resolve::Follow)?;
    set_cwd(k, loc)
}

pub fn sys_fchdir(k: &mut Kernel, a: &Args) -> SysResult {
    let file = k.proc().fds.file(a[0])?;
    let loc = file.borrow().location.clone().ok_or(Errno::ENOTDIR)?;
    set_cwd(k, loc)
}

/// posix_fadvise: advice only, so nothing to do beyond Linux's checks.
pub fn sys_fadvise64(k: &mut Kernel, a: &Args) -> SysResult {
    fadvise(k, a[0], a[4])
}

/// fadvise64_64 passes the length as two words; the advice comes last.
pub fn sys_fadvise64_64(k: &mut Kernel, a: &Args) -> SysResult {
    fadvise(k, a[0], a[5])
}

fn fadvise(k: &mut Kernel, fd: u32, advice: u32) -> SysResult {
    let file = k.proc().fds.file(fd)?;
    if file.borrow().node.is_none() {
        return Err(Errno::ESPIPE.into());
    }
    if advice > 5 {
        return Err(Errno::EINVAL.into());
    }
    Ok(0)
}

/// fsync and fdatasync: the file's shared mappings go to the file, then
/// its file system makes everything durable (ENOSPC or EIO if it cannot:
/// then nothing since the last successful sync is durable).
pub fn sys_fsync(k: &mut Kernel, a: &Args) -> SysOutcome {
    let file = k.proc().fds.file(a[0])?;
    sync_file(k, &file)?;
    Ok(kept(k, &file))
}

/// The end of a sync that succeeded: done (0), or (on a file system whose
/// host saves asynchronously, the browser's) wait until the host has kept
/// it: see [`Wait::Durable`].
pub(crate) fn durable(k: &mut Kernel, m: crate::vfs::MountId) -> Outcome {
    match k.vfs.fs_query(m).durable_ticket() {
        None => Outcome::Done(0),
        Some(ticket) => Outcome::Block(Wait::Durable { mount: m, ticket }),
    }
}

/// [`durable`] for the file system holding `file` (none for a pipe or a
/// socket: nothing to keep).
pub(crate) fn kept(k: &mut Kernel, file: &FileRef) -> Outcome {
    let node = file.borrow().node;
    match node {
        Some((m, _)) => durable(k, m),
        None => Outcome::Done(0),
    }
}

fn sync_file(k: &mut Kernel, file: &FileRef) -> KResult<()> {
    let node = file.borrow().node;
    k.flush_shared_of(node);
    {
        let mut f = file.borrow_mut();
        if let Some(h) = f.handle.as_mut() {
            h.sync()?;
        }
    }
    // Writes through a shared mapping of the file that could not be kept
    // (at munmap, at exit, or just now): reported once, as Linux does.
    match node.and_then(|n| k.files.take_lost_write(n)) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// sync_file_range(fd, offset, nbytes, flags), 64-bit offset and length
/// in register pairs. Any request to write makes the whole file system
/// durable, as fsync does (Linux only starts or waits for writeback of
/// the range; being more durable is allowed, reporting success for data
/// that is not kept is not).
pub fn sys_sync_file_range(k: &mut Kernel, a: &Args) -> SysOutcome {
    const VALID: u32 = 1 | 2 | 4; // WAIT_BEFORE | WRITE | WAIT_AFTER
    let off = (u64::from(a[2]) << 32 | u64::from(a[1])) as i64;
    let len = (u64::from(a[4]) << 32 | u64::from(a[3])) as i64;
    let flags = a[5];
    if flags & !VALID != 0 || off < 0 || len < 0 || off.checked_add(len).is_none() {
        return Err(Errno::EINVAL.into());
    }
    let file = k.proc().fds.file(a[0])?;
    let Some((m, ino)) = file.borrow().node else {
        return Err(Errno::ESPIPE.into());
    };
    use crate::vfs::FileType::{BlockDevice, Directory, Regular};
    if !matches!(
        k.vfs.fs_query(m).getattr(ino)?.file_type(),
        Regular | Directory | BlockDevice
    ) {
        return Err(Errno::ESPIPE.into());
    }
    if flags == 0 {
        return Ok(Outcome::Done(0));
    }
    sync_file(k, &file)?;
    Ok(kept(k, &file))
}

fn ftruncate(k: &mut Kernel, fd: u32, len: i64) -> SysResult {
    if len < 0 {
        return Err(Errno::EINVAL.into());
    }
    let file = k.proc().fds.file(fd)?;
    if !file.borrow().can_write() {
        return Err(Errno::EINVAL.into());
    }
    let node = file.borrow().node;
    k.flush_shared_of(node);
    file.borrow_mut()
        .handle
        .as_mut()
        .ok_or(Errno::EINVAL)?
        .set_len(len as u64)?;
    k.resize_mappings_of(node, len as u64);
    Ok(0)
}

fn truncate(k: &mut Kernel, path: u32, len: i64) -> SysResult {
    if len < 0 {
        return Err(Errno::EINVAL.into());
    }
    let path = read_path(k, path)?;
    let start = at_start(k, AT_FDCWD, &path)?;
    let loc = k.vfs.resolve(&start, &path, Resolve::Follow)?;
    if k.vfs.getattr(&loc)?.is_dir() {
        return Err(Errno::EISDIR.into());
    }
    let (m, ino) = k.vfs.node(&loc);
    let set = SetAttr {
        size: Some(len as u64),
        ..SetAttr::default()
    };
    k.flush_shared_of(Some((m, ino)));
    k.vfs.fs(m).setattr(ino, &set)?;
    k.resize_mappings_of(Some((m, ino)), len as u64);
    Ok(0)
}

pub fn sys_ftruncate(k: &mut Kernel, a: &Args) -> SysResult {
    ftruncate(k, a[0], i64::from(a[1] as i32))
}

pub fn sys_ftruncate64(k: &mut Kernel, a: &Args) -> SysResult {
    ftruncate(k, a[0], (u64::from(a[2]) << 32 | u64::from(a[1])) as i64)
}

pub fn sys_truncate(k: &mut Kernel, a: &Args) -> SysResult {
    truncate(k, a[0], i64::from(a[1] as i32))
}

pub fn sys_truncate64(k: &mut Kernel, a: &Args) -> SysResult {
    truncate(k, a[0], (u64::from(a[2]) << 32 | u64::from(a[1])) as i64)
}

/// sendfile64(out_fd, in_fd, offset, count): a read and a write through a
/// kernel buffer (at most MAX_IO bytes per call, like a short write).
pub fn sys_sendfile64(k: &mut Kernel, a: &Args) -> SysOutcome {
    sendfile(k, a, true)
}

pub fn sys_sendfile(k: &mut Kernel, a: &Args) -> SysOutcome {
    sendfile(k, a, false)
}

fn sendfile(k: &mut Kernel, a: &Args, wide: bool) -> SysOutcome {
    let (out, inp, off_ptr, count) = (a[0], a[1], a[2], a[3]);
    let pos = if off_ptr == 0 {
        None
    } else if wide {
        Some(pos64(
            k.mem().read_u32(GuestAddr(off_ptr))?,
            k.mem().read_u32(GuestAddr(off_ptr + 4))?,
        )?)
    } else {
        Some(u64::from(k.mem().read_u32(GuestAddr(off_ptr))?))
    };
    // A stream output is waited for before anything is read (as for
    // splice): bytes taken from the input are never lost to a full one.
    let max = match super::splice::sendfile_room(k, out, (count as usize).min(MAX_IO))? {
        super::Ready::Now(max) => max,
        super::Ready::Block(w) => return Ok(Outcome::Block(w)),
    };
    let mut data = vec![0u8; max];
    let n = match read_host(k, inp, ReadInto::Host(&mut data), pos)? {
        Outcome::Done(n) => n as usize,
        other => return Ok(other),
    };
    let w = match write_host(k, out, WriteFrom::Host(&data[..n]), None)? {
        Outcome::Done(w) => w,
        other => return Ok(other),
    };
    if let Some(p) = pos {
        let next = p + u64::from(w);
        if wide {
            k.mem().write_u64(GuestAddr(off_ptr), next)?;
        } else {
            k.mem().write_u32(GuestAddr(off_ptr), next as u32)?;
        }
    } else if (w as usize) < n {
        // Give back what the output did not take.
        seek(k, inp, -((n - w as usize) as i64), 1)?;
    }
    Ok(Outcome::Done(w))
}
