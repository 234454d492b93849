//! Ownership, device nodes, old time calls, statfs, sync, fallocate and
//! advisory locks (flock, fcntl record locks).
//!
//! Blocking lock requests (F_SETLKW, flock without LOCK_NB) that conflict
//! park the thread in a short timed poll and restart the call, so the
//! request is retried until the lock is free or a signal interrupts it.

use super::fs::{at_start, cred, new_node, touch_clock, AT_FDCWD};
use super::{read_path, Args, Outcome, SysOutcome, SysResult};
use crate::abi::errno::{Errno, KResult};
use crate::abi::mode;
use crate::abi::oflag;
use crate::kernel::Kernel;
use crate::tasks::process::Wait;
use crate::vfs::file::FileRef;
use crate::vfs::lock::{LockType, NodeKey, Owner, RecordLock};
use crate::vfs::{Location, Resolve, SetAttr};
use wax_cpu::GuestAddr;
use wax_devices::Timespec;

const AT_SYMLINK_NOFOLLOW: u32 = 0x100;
const AT_EMPTY_PATH: u32 = 0x1000;

/// How long a blocked lock request waits before trying again.
const LOCK_RETRY_NS: i64 = 5_000_000;

fn resolve_at(k: &mut Kernel, dirfd: u32, path: u32, flags: u32) -> KResult<Location> {
    let p = read_path(k, path)?;
    if p.is_empty() {
        if flags & AT_EMPTY_PATH == 0 {
            return Err(Errno::ENOENT);
        }
        return fd_loc(k, dirfd);
    }
    let start = at_start(k, dirfd, &p)?;
    let how = if flags & AT_SYMLINK_NOFOLLOW != 0 {
        Resolve::NoFollow
    } else {
        Resolve::Follow
    };
    k.vfs.resolve(&start, &p, how)
}

fn fd_loc(k: &mut Kernel, fd: u32) -> KResult<Location> {
    if fd == AT_FDCWD {
        return Ok(k.proc().cwd.clone());
    }
    let file = k.proc().fds.file(fd)?;
    let loc = file.borrow().location.clone();
    loc.ok_or(Errno::EBADF)
}

/// chown: root may set anything; an owner may only change the group to
/// one of its own groups. Set-ID bits drop on a change of a non-directory
/// (like Linux for unprivileged callers and for root on set-user-ID).
fn chown(k: &mut Kernel, loc: &Location, uid: u32, gid: u32) -> SysResult {
    touch_clock(k);
    let a = k.vfs.getattr(loc)?;
    let c = cred(k);
    let uid = (uid != u32::MAX).then_some(uid);
    let gid = (gid != u32::MAX).then_some(gid);
    if !c.is_root() {
        let uid_ok = uid.is_none_or(|u| u == a.uid);
        let gid_ok = gid.is_none_or(|g| g == a.gid || c.in_group(g));
        if c.uid != a.uid || !uid_ok || !gid_ok {
            return Err(Errno::EPERM.into());
        }
    }
    let mut set = SetAttr {
        uid,
        gid,
        ..SetAttr::default()
    };
    let file_type = a.mode & mode::S_IFMT;
    if file_type != mode::S_IFDIR && (uid.is_some() || gid.is_some()) {
        let mut m = a.mode & 0o7777 & !0o4000;
        if m & 0o010 != 0 {
            m &= !0o2000;
        }
        if file_type != mode::S_IFLNK && m != a.mode & 0o7777 {
            set.mode = Some(m);
        }
    }
    let (m, ino) = k.vfs.node(loc);
    k.vfs.fs(m).setattr(ino, &set)?;
    Ok(0)
}

/// 16-bit ids: 0xffff means "unchanged".
fn id16(v: u32) -> u32 {
    if v & 0xffff == 0xffff {
        u32::MAX
    } else {
        v & 0xffff
    }
}

pub fn sys_chown32(k: &mut Kernel, a: &Args) -> SysResult {
    let loc = resolve_at(k, AT_FDCWD, a[0], 0)?;
    chown(k, &loc, a[1], a[2])
}

pub fn sys_lchown32(k: &mut Kernel, a: &Args) -> SysResult {
    let loc = resolve_at(k, AT_FDCWD, a[0], AT_SYMLINK_NOFOLLOW)?;
    chown(k, &loc, a[1], a[2])
}

pub fn sys_fchown32(k: &mut Kernel, a: &Args) -> SysResult {
    let loc = fd_loc(k, a[0])?;
    chown(k, &loc, a[1], a[2])
}

pub fn sys_chown16(k: &mut Kernel, a: &Args) -> SysResult {
    let loc = resolve_at(k, AT_FDCWD, a[0], 0)?;
    chown(k, &loc, id16(a[1]), id16(a[2]))
}

pub fn sys_lchown16(k: &mut Kernel, a: &Args) -> SysResult {
    let loc = resolve_at(k, AT_FDCWD, a[0], AT_SYMLINK_NOFOLLOW)?;
    chown(k, &loc, id16(a[1]), id16(a[2]))
}

pub fn sys_fchown16(k: &mut Kernel, a: &Args) -> SysResult {
    let loc = fd_loc(k, a[0])?;
    chown(k, &loc, id16(a[1]), id16(a[2]))
}

pub fn sys_fchownat(k: &mut Kernel, a: &Args) -> SysResult {
    if a[4] & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL.into());
    }
    let loc = resolve_at(k, a[0], a[1], a[4])?;
    chown(k, &loc, a[2], a[3])
}

/// mknod/mknodat: regular files, FIFOs and sockets for everyone; device
/// nodes only for root (CAP_MKNOD).
fn mknod_at(k: &mut Kernel, dirfd: u32, path: u32, m: u32, dev: u32) -> SysResult {
    let p = read_path(k, path)?;
    let start = at_start(k, dirfd, &p)?;
    let (dir, name) = k.vfs.resolve_parent(&start, &p)?;
    if name.is_empty() || name == b"." || name == b".." {
        return Err(Errno::EEXIST.into());
    }
    let kind = match m & mode::S_IFMT {
        0 => mode::S_IFREG,
        t @ (mode::S_IFREG | mode::S_IFIFO | mode::S_IFSOCK) => t,
        t @ (mode::S_IFCHR | mode::S_IFBLK) => {
            if !cred(k).is_root() {
                return Err(Errno::EPERM.into());
            }
            t
        }
        mode::S_IFDIR => return Err(Errno::EPERM.into()),
        _ => return Err(Errno::EINVAL.into()),
    };
    if k.vfs.resolve(&dir, &name, Resolve::NoFollow).is_ok() {
        return Err(Errno::EEXIST.into());
    }
    let mut node = new_node(k, &dir, kind | (m & 0o7777), true)?;
    // The old 16-bit dev_t of the i386 call: major in bits 8-15.
    node.rdev = crate::vfs::dev::makedev((dev >> 8) & 0xfff, (dev & 0xff) | ((dev >> 12) & !0xff));
    let (mnt, ino) = k.vfs.node(&dir);
    k.vfs.fs(mnt).create(ino, &name, &node)?;
    Ok(0)
}

pub fn sys_mknod(k: &mut Kernel, a: &Args) -> SysResult {
    mknod_at(k, AT_FDCWD, a[0], a[1], a[2])
}

pub fn sys_mknodat(k: &mut Kernel, a: &Args) -> SysResult {
    mknod_at(k, a[0], a[1], a[2], a[3])
}

/// Sets times; `None` means "now" for both (needs write permission or
/// ownership; explicit times need ownership).
fn set_times(k: &mut Kernel, loc: &Location, times: Option<[Timespec; 2]>) -> SysResult {
    touch_clock(k);
    let a = k.vfs.getattr(loc)?;
    let c = cred(k);
    let allowed = match times {
        Some(_) => c.owns(&a),
        None => c.owns(&a) || crate::vfs::perm::allowed(&a, &c, crate::vfs::perm::MAY_WRITE),
    };
    if !allowed {
        return Err(if times.is_some() {
            Errno::EPERM
        } else {
            Errno::EACCES
        }
        .into());
    }
    let now = k.time.realtime();
    let [at, mt] = times.unwrap_or([now, now]);
    let set = SetAttr {
        atime: Some(at),
        mtime: Some(mt),
        ..SetAttr::default()
    };
    let (m, ino) = k.vfs.node(loc);
    k.vfs.fs(m).setattr(ino, &set)?;
    Ok(0)
}

/// Two `struct timeval`s (utimes, futimesat).
fn read_timevals(k: &mut Kernel, addr: u32) -> KResult<Option<[Timespec; 2]>> {
    if addr == 0 {
        return Ok(None);
    }
    let mut t = [Timespec::default(); 2];
    for (i, slot) in t.iter_mut().enumerate() {
        let at = GuestAddr(addr + i as u32 * 8);
        let sec = k.mem().read_u32(at)? as i32;
        let usec = k.mem().read_u32(at.add(4))? as i32;
        if !(0..1_000_000).contains(&usec) {
            return Err(Errno::EINVAL);
        }
        *slot = Timespec {
            sec: i64::from(sec),
            nsec: usec as u32 * 1000,
        };
    }
    Ok(Some(t))
}

pub fn sys_utimes(k: &mut Kernel, a: &Args) -> SysResult {
    let t = read_timevals(k, a[1])?;
    let loc = resolve_at(k, AT_FDCWD, a[0], 0)?;
    set_times(k, &loc, t)
}

pub fn sys_futimesat(k: &mut Kernel, a: &Args) -> SysResult {
    let t = read_timevals(k, a[2])?;
    let loc = if a[1] == 0 {
        fd_loc(k, a[0])?
    } else {
        resolve_at(k, a[0], a[1], 0)?
    };
    set_times(k, &loc, t)
}

/// utime: `struct utimbuf` (actime, modtime), whole seconds.
pub fn sys_utime(k: &mut Kernel, a: &Args) -> SysResult {
    let t = if a[1] == 0 {
        None
    } else {
        let at = k.mem().read_u32(GuestAddr(a[1]))? as i32;
        let mt = k.mem().read_u32(GuestAddr(a[1] + 4))? as i32;
        let ts = |s: i32| Timespec {
            sec: i64::from(s),
            nsec: 0,
        };
        Some([ts(at), ts(mt)])
    };
    let loc = resolve_at(k, AT_FDCWD, a[0], 0)?;
    set_times(k, &loc, t)
}

/// The i386 `struct statfs` (64 bytes, 32-bit counts).
fn put_statfs32(k: &mut Kernel, loc: &Location, buf: u32) -> SysResult {
    let m = k.vfs.mount_of(loc);
    let s = k.vfs.fs_query(m).statfs()?;
    let fits = |v: u64| u32::try_from(v).map_err(|_| Errno::EOVERFLOW);
    let words = [
        s.f_type,
        s.f_bsize,
        fits(s.f_blocks)?,
        fits(s.f_bfree)?,
        fits(s.f_bavail)?,
        fits(s.f_files)?,
        fits(s.f_ffree)?,
        0,
        0,
        s.f_namelen,
        s.f_bsize,
    ];
    let mut b = [0u8; 64];
    for (i, w) in words.iter().enumerate() {
        b[i * 4..i * 4 + 4].copy_from_slice(&w.to_le_bytes());
    }
    k.mem().write_bytes(GuestAddr(buf), &b)?;
    Ok(0)
}

pub fn sys_statfs(k: &mut Kernel, a: &Args) -> SysResult {
    let loc = resolve_at(k, AT_FDCWD, a[0], 0)?;
    put_statfs32(k, &loc, a[1])
}

pub fn sys_fstatfs(k: &mut Kernel, a: &Args) -> SysResult {
    let loc = fd_loc(k, a[0])?;
    put_statfs32(k, &loc, a[1])
}

/// sync: every file system, even after one fails. Linux's sync(2)
/// cannot fail (glibc's wrapper returns nothing); Wax returns the first
/// failure, which only `--strace` and raw system calls see, and the CLI
/// reports data still not kept at exit.
///
/// Where a host saves asynchronously (the browser), the call waits until
/// the first such file system's save ends (in practice the only one: the
/// root image).
pub fn sys_sync(k: &mut Kernel, _a: &Args) -> SysOutcome {
    k.sync_shared_all();
    let mut result = Ok(());
    let mut waiting = Outcome::Done(0);
    for (m, _, _) in k.vfs.mounts() {
        if let Err(e) = k.vfs.fs_query(m).sync() {
            result = result.and(Err(e));
        } else if waiting == Outcome::Done(0) {
            waiting = super::fs::durable(k, m);
        }
    }
    result?;
    Ok(waiting)
}

/// syncfs: the file system holding `fd`; ENOSPC or EIO if it cannot
/// make everything durable (Linux 5.8 and later report writeback errors
/// here too).
pub fn sys_syncfs(k: &mut Kernel, a: &Args) -> SysOutcome {
    let file = k.proc().fds.file(a[0])?;
    // A pipe or socket: its pseudo file system has nothing to write.
    let Some(loc) = file.borrow().location.clone() else {
        return Ok(Outcome::Done(0));
    };
    k.sync_shared_all();
    let m = k.vfs.mount_of(&loc);
    k.vfs.fs_query(m).sync()?;
    Ok(super::fs::durable(k, m))
}

/// fallocate(fd, mode, offset, len) with 64-bit offset and length split
/// in register pairs. Only mode 0 (allocate, growing the file) and
/// FALLOC_FL_KEEP_SIZE-free calls are supported.
pub fn sys_fallocate(k: &mut Kernel, a: &Args) -> SysResult {
    let off = (u64::from(a[3]) << 32 | u64::from(a[2])) as i64;
    let len = (u64::from(a[5]) << 32 | u64::from(a[4])) as i64;
    if off < 0 || len <= 0 {
        return Err(Errno::EINVAL.into());
    }
    if a[1] != 0 {
        return Err(Errno::EOPNOTSUPP.into());
    }
    let file = k.proc().fds.file(a[0])?;
    if !file.borrow().can_write() {
        return Err(Errno::EBADF.into());
    }
    touch_clock(k);
    let (node, end) = (file.borrow().node, off as u64 + len as u64);
    let size = file.borrow().attr(&mut k.vfs).map_or(0, |a| a.size);
    k.flush_shared_of(node);
    allocate(&mut file.borrow_mut(), off as u64, len as u64, size)?;
    if end > size {
        // Pages the file grew into appear in its mappings.
        k.resize_mappings_of(node, end);
    }
    Ok(0)
}

/// fallocate mode 0 on an open file of `size` bytes.
fn allocate(f: &mut crate::vfs::file::OpenFile, off: u64, len: u64, size: u64) -> KResult<()> {
    let h = f.handle.as_mut().ok_or(Errno::ENODEV)?;
    if h.is_stream() {
        return Err(Errno::ESPIPE);
    }
    match h.allocate(off, len) {
        // A file system without allocation: grow the file with a hole.
        Err(Errno::EOPNOTSUPP) if off + len > size => h.set_len(off + len),
        Err(Errno::EOPNOTSUPP) => Ok(()),
        r => r,
    }
}

/// The node an open file's locks are on.
fn lock_node(file: &FileRef) -> KResult<NodeKey> {
    file.borrow().node.ok_or(Errno::EBADF)
}

/// Parks the caller to retry a blocking lock request shortly.
fn retry_later(k: &mut Kernel) -> Outcome {
    let now = k.time.monotonic();
    let deadline = Timespec::from_nanos(now.as_nanos() + i128::from(LOCK_RETRY_NS));
    k.thread().poll_set.clear();
    Outcome::Block(Wait::Poll {
        deadline: Some(deadline),
    })
}

/// Whether a process is still alive (for locks of exited owners).
fn alive_pids(k: &Kernel) -> Vec<u32> {
    k.tasks.live_procs().map(|(_, p)| p.pid).collect()
}

pub fn sys_flock(k: &mut Kernel, a: &Args) -> SysOutcome {
    const LOCK_SH: u32 = 1;
    const LOCK_EX: u32 = 2;
    const LOCK_NB: u32 = 4;
    const LOCK_UN: u32 = 8;
    let file = k.proc().fds.file(a[0])?;
    let kind = match a[1] & !LOCK_NB {
        LOCK_SH => LockType::Read,
        LOCK_EX => LockType::Write,
        LOCK_UN => LockType::Unlock,
        _ => return Err(Errno::EINVAL.into()),
    };
    let node = lock_node(&file)?;
    let pids = alive_pids(k);
    let alive = |p: u32| pids.contains(&p);
    match k.vfs.locks.flock(node, Owner::file(&file), kind, &alive) {
        Err(Errno::EAGAIN) if a[1] & LOCK_NB == 0 => Ok(retry_later(k)),
        r => {
            r?;
            Ok(Outcome::Done(0))
        }
    }
}

/// fcntl lock commands (i386 numbers).
pub mod cmd {
    pub const F_GETLK: u32 = 5;
    pub const F_SETLK: u32 = 6;
    pub const F_SETLKW: u32 = 7;
    pub const F_GETLK64: u32 = 12;
    pub const F_SETLK64: u32 = 13;
    pub const F_SETLKW64: u32 = 14;
    pub const F_OFD_GETLK: u32 = 36;
    pub const F_OFD_SETLK: u32 = 37;
    pub const F_OFD_SETLKW: u32 = 38;

    pub fn is_lock(c: u32) -> bool {
        [
            F_GETLK,
            F_SETLK,
            F_SETLKW,
            F_GETLK64,
            F_SETLK64,
            F_SETLKW64,
            F_OFD_GETLK,
            F_OFD_SETLK,
            F_OFD_SETLKW,
        ]
        .contains(&c)
    }
}

/// A `struct flock` (16 bytes) or `struct flock64` (24 bytes, 4-byte
/// aligned 64-bit fields on i386).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Flock {
    l_type: u16,
    l_whence: u16,
    l_start: i64,
    l_len: i64,
    l_pid: i32,
}

fn read_flock(k: &mut Kernel, addr: u32, wide: bool) -> KResult<Flock> {
    let mut m = k.mem();
    let at = GuestAddr(addr);
    let l_type = m.read_u16(at)?;
    let l_whence = m.read_u16(at.add(2))?;
    Ok(if wide {
        Flock {
            l_type,
            l_whence,
            l_start: m.read_u64(at.add(4))? as i64,
            l_len: m.read_u64(at.add(12))? as i64,
            l_pid: m.read_u32(at.add(20))? as i32,
        }
    } else {
        Flock {
            l_type,
            l_whence,
            l_start: i64::from(m.read_u32(at.add(4))? as i32),
            l_len: i64::from(m.read_u32(at.add(8))? as i32),
            l_pid: m.read_u32(at.add(12))? as i32,
        }
    })
}

fn write_flock(k: &mut Kernel, addr: u32, wide: bool, f: &Flock) -> KResult<()> {
    let mut m = k.mem();
    let at = GuestAddr(addr);
    m.write_u16(at, f.l_type)?;
    m.write_u16(at.add(2), f.l_whence)?;
    if wide {
        m.write_u64(at.add(4), f.l_start as u64)?;
        m.write_u64(at.add(12), f.l_len as u64)?;
        m.write_u32(at.add(20), f.l_pid as u32)?;
    } else {
        let narrow = |v: i64| i32::try_from(v).map_err(|_| Errno::EOVERFLOW);
        m.write_u32(at.add(4), narrow(f.l_start)? as u32)?;
        m.write_u32(at.add(8), narrow(f.l_len)? as u32)?;
        m.write_u32(at.add(12), f.l_pid as u32)?;
    }
    Ok(())
}

/// The byte range `[start, end)` a `struct flock` names.
fn lock_range(k: &mut Kernel, file: &FileRef, fl: &Flock) -> KResult<(u64, u64)> {
    let base = match fl.l_whence {
        0 => 0,
        1 => file.borrow().offset as i64,
        2 => file.borrow().attr(&mut k.vfs)?.size as i64,
        _ => return Err(Errno::EINVAL),
    };
    let start = base.checked_add(fl.l_start).ok_or(Errno::EOVERFLOW)?;
    let (start, end) = match fl.l_len {
        0 => (start, i64::MAX),
        n if n > 0 => (start, start.checked_add(n).ok_or(Errno::EOVERFLOW)?),
        n => (start + n, start),
    };
    if start < 0 {
        return Err(Errno::EINVAL);
    }
    let end = if end == i64::MAX {
        u64::MAX
    } else {
        end as u64
    };
    Ok((start as u64, end))
}

/// F_GETLK/F_SETLK/F_SETLKW and their 64-bit and OFD forms; `wide` when
/// the argument is a `struct flock64`.
pub fn fcntl_lock(k: &mut Kernel, fd: u32, c: u32, arg: u32, wide: bool) -> SysOutcome {
    const F_RDLCK: u16 = 0;
    const F_WRLCK: u16 = 1;
    const F_UNLCK: u16 = 2;
    let file = k.proc().fds.file(fd)?;
    let mut fl = read_flock(k, arg, wide)?;
    let ofd = matches!(c, cmd::F_OFD_GETLK | cmd::F_OFD_SETLK | cmd::F_OFD_SETLKW);
    if ofd && fl.l_pid != 0 {
        return Err(Errno::EINVAL.into());
    }
    let kind = match fl.l_type {
        F_RDLCK => LockType::Read,
        F_WRLCK => LockType::Write,
        F_UNLCK => LockType::Unlock,
        _ => return Err(Errno::EINVAL.into()),
    };
    let setting = !matches!(c, cmd::F_GETLK | cmd::F_GETLK64 | cmd::F_OFD_GETLK);
    if setting {
        let f = file.borrow();
        let bad = match kind {
            LockType::Read => !f.can_read(),
            LockType::Write => !f.can_write(),
            LockType::Unlock => false,
        };
        if bad || f.flags & oflag::O_PATH != 0 {
            return Err(Errno::EBADF.into());
        }
    }
    let (start, end) = lock_range(k, &file, &fl)?;
    let node = lock_node(&file)?;
    let pid = k.proc().pid;
    let owner = if ofd {
        Owner::file(&file)
    } else {
        Owner::Process(pid)
    };
    let req = RecordLock {
        owner,
        kind,
        start,
        end,
        pid: if ofd { -1 } else { pid as i32 },
    };
    let pids = alive_pids(k);
    let alive = |p: u32| pids.contains(&p);
    if !setting {
        if kind == LockType::Unlock {
            return Err(Errno::EINVAL.into());
        }
        fl = match k.vfs.locks.test(node, &req, &alive) {
            None => Flock {
                l_type: F_UNLCK,
                ..fl
            },
            Some(l) => Flock {
                l_type: if l.kind == LockType::Write {
                    F_WRLCK
                } else {
                    F_RDLCK
                },
                l_whence: 0,
                l_start: l.start as i64,
                l_len: if l.end == u64::MAX {
                    0
                } else {
                    (l.end - l.start) as i64
                },
                l_pid: l.pid,
            },
        };
        write_flock(k, arg, wide, &fl)?;
        return Ok(Outcome::Done(0));
    }
    let wait = matches!(c, cmd::F_SETLKW | cmd::F_SETLKW64 | cmd::F_OFD_SETLKW);
    match k.vfs.locks.set(node, req, &alive) {
        Err(Errno::EAGAIN) if wait => Ok(retry_later(k)),
        r => {
            r?;
            Ok(Outcome::Done(0))
        }
    }
}

/// POSIX: closing any descriptor of a file drops the process's record
/// locks on it.
pub fn release_on_close(k: &mut Kernel, file: &FileRef) {
    if let Some(node) = file.borrow().node {
        let pid = k.proc().pid;
        k.vfs.locks.release(node, &Owner::Process(pid));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sixteen_bit_ids_keep_minus_one() {
        assert_eq!(id16(0xffff), u32::MAX);
        assert_eq!(id16(0xffff_ffff), u32::MAX);
        assert_eq!(id16(1000), 1000);
    }

    #[test]
    fn lock_commands() {
        assert!(cmd::is_lock(cmd::F_SETLKW64) && cmd::is_lock(cmd::F_OFD_GETLK));
        assert!(!cmd::is_lock(4) && !cmd::is_lock(1030));
    }
}
