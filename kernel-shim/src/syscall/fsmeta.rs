//! File metadata and directory operations: stat in the i386 layouts,
//! getdents, readlink, access, mkdir/unlink/rename/link/symlink, chmod,
//! utimensat, statfs.

use super::fs::{at_start, Followed, AT_FDCWD};
use super::{read_path, Args, SysResult};
use crate::abi::errno::{Errno, KResult};
use crate::kernel::Kernel;
use crate::vfs::perm;
use crate::vfs::{Attr, DirEntry, FileType, Location, Resolve, SetAttr};
use wax_cpu::GuestAddr;
use wax_devices::Timespec;

const AT_SYMLINK_NOFOLLOW: u32 = 0x100;
const AT_REMOVEDIR: u32 = 0x200;
const AT_SYMLINK_FOLLOW: u32 = 0x400;
const AT_EMPTY_PATH: u32 = 0x1000;

/// Resolves `path` relative to `dirfd`; an empty path with AT_EMPTY_PATH
/// names `dirfd` itself.
fn lookup(k: &mut Kernel, dirfd: u32, path_addr: u32, flags: u32) -> KResult<Location> {
    let path = read_path(k, path_addr)?;
    if path.is_empty() && flags & AT_EMPTY_PATH != 0 {
        return fd_location(k, dirfd);
    }
    let start = at_start(k, dirfd, &path)?;
    let follow = if flags & AT_SYMLINK_NOFOLLOW != 0 {
        Resolve::NoFollow
    } else {
        Resolve::Follow
    };
    k.vfs.resolve(&start, &path, follow)
}

fn fd_location(k: &mut Kernel, fd: u32) -> KResult<Location> {
    if fd == AT_FDCWD {
        return Ok(k.proc().cwd.clone());
    }
    let file = k.proc().fds.file(fd)?;
    let loc = file.borrow().location.clone();
    loc.ok_or(Errno::EBADF)
}

/// Attributes of an open descriptor (console streams included).
fn fd_attr(k: &mut Kernel, fd: u32) -> KResult<Attr> {
    let file = k.proc().fds.file(fd)?;
    file_attr(k, &file)
}

/// Attributes of an open file: its node's, or what its handle reports.
fn file_attr(k: &mut Kernel, file: &crate::vfs::file::FileRef) -> KResult<Attr> {
    let f = file.borrow();
    if f.node.is_some() {
        return f.attr(&mut k.vfs);
    }
    let own = f.handle.as_ref().and_then(|h| h.stat());
    Ok(own.unwrap_or_else(crate::vfs::dev::console_attr))
}

/// The i386 `struct stat64` (96 bytes).
fn stat64_bytes(a: &Attr) -> [u8; 96] {
    let mut b = [0u8; 96];
    let mut put = |off: usize, v: &[u8]| b[off..off + v.len()].copy_from_slice(v);
    put(0, &a.dev.to_le_bytes());
    put(12, &(a.ino as u32).to_le_bytes());
    put(16, &a.mode.to_le_bytes());
    put(20, &a.nlink.to_le_bytes());
    put(24, &a.uid.to_le_bytes());
    put(28, &a.gid.to_le_bytes());
    put(32, &a.rdev.to_le_bytes());
    put(44, &a.size.to_le_bytes());
    put(52, &a.blksize.to_le_bytes());
    put(56, &a.blocks.to_le_bytes());
    for (i, t) in [a.atime, a.mtime, a.ctime].iter().enumerate() {
        put(64 + i * 8, &(t.sec as u32).to_le_bytes());
        put(68 + i * 8, &t.nsec.to_le_bytes());
    }
    put(88, &a.ino.to_le_bytes());
    b
}

fn dev_major(d: u64) -> u32 {
    (((d >> 8) & 0xfff) | ((d >> 32) & !0xfff)) as u32
}

fn dev_minor(d: u64) -> u32 {
    ((d & 0xff) | ((d >> 12) & !0xff)) as u32
}

/// `struct statx` (256 bytes) with the basic statistics.
fn statx_bytes(a: &Attr) -> [u8; 256] {
    let mut b = [0u8; 256];
    let mut put = |off: usize, v: &[u8]| b[off..off + v.len()].copy_from_slice(v);
    put(0, &0x7ffu32.to_le_bytes());
    put(4, &a.blksize.to_le_bytes());
    put(16, &a.nlink.to_le_bytes());
    put(20, &a.uid.to_le_bytes());
    put(24, &a.gid.to_le_bytes());
    put(28, &(a.mode as u16).to_le_bytes());
    put(32, &a.ino.to_le_bytes());
    put(40, &a.size.to_le_bytes());
    put(48, &a.blocks.to_le_bytes());
    for (off, t) in [(64, a.atime), (96, a.ctime), (112, a.mtime)] {
        put(off, &t.sec.to_le_bytes());
        put(off + 8, &t.nsec.to_le_bytes());
    }
    put(128, &dev_major(a.rdev).to_le_bytes());
    put(132, &dev_minor(a.rdev).to_le_bytes());
    put(136, &dev_major(a.dev).to_le_bytes());
    put(140, &dev_minor(a.dev).to_le_bytes());
    b
}

fn put_stat(k: &mut Kernel, buf: u32, a: &Attr) -> SysResult {
    k.mem().write_bytes(GuestAddr(buf), &stat64_bytes(a))?;
    Ok(0)
}

fn stat_path(k: &mut Kernel, path: u32, buf: u32, flags: u32) -> SysResult {
    let a = attr_at(k, AT_FDCWD, path, flags)?;
    put_stat(k, buf, &a)
}

pub fn sys_stat64(k: &mut Kernel, a: &Args) -> SysResult {
    stat_path(k, a[0], a[1], 0)
}

pub fn sys_lstat64(k: &mut Kernel, a: &Args) -> SysResult {
    stat_path(k, a[0], a[1], AT_SYMLINK_NOFOLLOW)
}

pub fn sys_fstat64(k: &mut Kernel, a: &Args) -> SysResult {
    let attr = fd_attr(k, a[0])?;
    put_stat(k, a[1], &attr)
}

/// Attributes for the *at calls, with AT_EMPTY_PATH on descriptors.
fn attr_at(k: &mut Kernel, dirfd: u32, path: u32, flags: u32) -> KResult<Attr> {
    let p = read_path(k, path)?;
    if p.is_empty() && flags & AT_EMPTY_PATH != 0 {
        if dirfd != AT_FDCWD {
            return fd_attr(k, dirfd);
        }
        let cwd = k.proc().cwd.clone();
        super::fs::prepare(k, &cwd, b"");
        return k.vfs.getattr(&cwd);
    }
    let start = at_start(k, dirfd, &p)?;
    let follow = if flags & AT_SYMLINK_NOFOLLOW != 0 {
        Resolve::NoFollow
    } else {
        // /dev/fd/N of a pipe or socket: the magic link stands for the
        // open file itself, whose link text is no path.
        match super::fs::magic_fd(k, &start, &p)? {
            Followed::Magic(file) => return file_attr(k, &file),
            Followed::Node(_, attr) => return Ok(attr),
            Followed::Unknown => Resolve::Follow,
        }
    };
    Ok(k.vfs.resolve_attr(&start, &p, follow)?.1)
}

pub fn sys_fstatat64(k: &mut Kernel, a: &Args) -> SysResult {
    let attr = attr_at(k, a[0], a[1], a[3])?;
    put_stat(k, a[2], &attr)
}

pub fn sys_statx(k: &mut Kernel, a: &Args) -> SysResult {
    let attr = attr_at(k, a[0], a[1], a[2])?;
    k.mem().write_bytes(GuestAddr(a[4]), &statx_bytes(&attr))?;
    Ok(0)
}

/// The directory snapshot of an open directory, with "." and "..".
fn dir_entries(k: &mut Kernel, fd: u32) -> KResult<crate::vfs::file::FileRef> {
    let file = k.proc().fds.file(fd)?;
    if file.borrow().dir_entries.is_some() {
        return Ok(file);
    }
    let loc = file.borrow().location.clone().ok_or(Errno::ENOTDIR)?;
    let attr = k.vfs.getattr(&loc)?;
    if !attr.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    let parent = k.vfs.getattr(&loc.parent())?;
    if k.in_proc(&loc) {
        // Listing /proc shows the processes and descriptors of now.
        super::fs::prepare(k, &loc, b"");
    }
    let (m, ino) = k.vfs.node(&loc);
    let mut entries = vec![
        DirEntry {
            ino: attr.ino,
            kind: FileType::Directory,
            name: b".".to_vec(),
        },
        DirEntry {
            ino: parent.ino,
            kind: FileType::Directory,
            name: b"..".to_vec(),
        },
    ];
    entries.extend(k.vfs.fs_query(m).readdir(ino)?);
    file.borrow_mut().dir_entries = Some(entries);
    Ok(file)
}

/// Fills `buf` with records from the directory's position on; `record`
/// encodes one entry (None when it does not fit).
fn getdents(
    k: &mut Kernel,
    a: &Args,
    record: fn(&DirEntry, u64, usize, &mut Vec<u8>) -> bool,
) -> SysResult {
    let file = dir_entries(k, a[0])?;
    let cap = (a[2] as usize).min(super::MAX_IO);
    let mut out = Vec::new();
    let mut f = file.borrow_mut();
    // lseek may put the position anywhere; past every entry is the end
    // (also where a 32-bit usize cannot hold it).
    let Ok(start) = usize::try_from(f.offset) else {
        return Ok(0);
    };
    let entries = f.dir_entries.as_ref().map_or(&[][..], |e| &e[..]);
    let mut next = start;
    for e in entries.iter().skip(start) {
        if !record(e, next as u64 + 1, cap - out.len(), &mut out) {
            if out.is_empty() {
                return Err(Errno::EINVAL.into());
            }
            break;
        }
        next += 1;
    }
    f.offset = next as u64;
    drop(f);
    k.mem().write_bytes(GuestAddr(a[1]), &out)?;
    Ok(out.len() as u32)
}

/// Appends `struct linux_dirent64` to `out`; false if it needs more
/// than `room` bytes.
fn dirent64(e: &DirEntry, off: u64, room: usize, out: &mut Vec<u8>) -> bool {
    let len = (19 + e.name.len() + 1 + 7) & !7;
    if len > room {
        return false;
    }
    let at = out.len();
    out.resize(at + len, 0);
    let r = &mut out[at..];
    r[0..8].copy_from_slice(&e.ino.to_le_bytes());
    r[8..16].copy_from_slice(&off.to_le_bytes());
    r[16..18].copy_from_slice(&(len as u16).to_le_bytes());
    r[18] = e.kind.dtype();
    r[19..19 + e.name.len()].copy_from_slice(&e.name);
    true
}

/// Appends the old `struct linux_dirent` (32-bit inode; d_type in the
/// last byte) to `out`; false if it needs more than `room` bytes.
fn dirent32(e: &DirEntry, off: u64, room: usize, out: &mut Vec<u8>) -> bool {
    let len = (10 + e.name.len() + 2 + 3) & !3;
    if len > room {
        return false;
    }
    let at = out.len();
    out.resize(at + len, 0);
    let r = &mut out[at..];
    r[0..4].copy_from_slice(&(e.ino as u32).to_le_bytes());
    r[4..8].copy_from_slice(&(off as u32).to_le_bytes());
    r[8..10].copy_from_slice(&(len as u16).to_le_bytes());
    r[10..10 + e.name.len()].copy_from_slice(&e.name);
    r[len - 1] = e.kind.dtype();
    true
}

pub fn sys_getdents64(k: &mut Kernel, a: &Args) -> SysResult {
    getdents(k, a, dirent64)
}

pub fn sys_getdents(k: &mut Kernel, a: &Args) -> SysResult {
    getdents(k, a, dirent32)
}

fn readlink_at(k: &mut Kernel, dirfd: u32, path: u32, buf: u32, size: u32) -> SysResult {
    if size as i32 <= 0 {
        return Err(Errno::EINVAL.into());
    }
    let loc = lookup(k, dirfd, path, AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)?;
    let (m, ino) = k.vfs.node(&loc);
    let target = k.vfs.fs_query(m).readlink(ino)?;
    let n = target.len().min(size as usize);
    k.mem().write_bytes(GuestAddr(buf), &target[..n])?;
    Ok(n as u32)
}

pub fn sys_readlink(k: &mut Kernel, a: &Args) -> SysResult {
    readlink_at(k, AT_FDCWD, a[0], a[1], a[2])
}

pub fn sys_readlinkat(k: &mut Kernel, a: &Args) -> SysResult {
    readlink_at(k, a[0], a[1], a[2], a[3])
}

/// Permission check as the guest's user (root bypasses all but X).
fn access_at(k: &mut Kernel, dirfd: u32, path: u32, mode: u32, flags: u32) -> SysResult {
    // AT_EACCESS changes nothing: real and effective ids are the same.
    const AT_EACCESS: u32 = 0x200;
    if mode & !7 != 0 || flags & !(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL.into());
    }
    let loc = lookup(
        k,
        dirfd,
        path,
        flags & (AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH),
    )?;
    let a = k.vfs.getattr(&loc)?;
    let c = super::fs::cred(k);
    perm::check(&a, &c, mode)?;
    Ok(0)
}

/// Whether the caller may remove or replace `name` in `dir`: write and
/// search permission on the directory, and the sticky-bit rule.
fn may_delete(k: &mut Kernel, dir: &Location, name: &[u8]) -> KResult<()> {
    let d = k.vfs.getattr(dir)?;
    let c = super::fs::cred(k);
    perm::check(&d, &c, perm::MAY_WRITE | perm::MAY_EXEC)?;
    if let Ok(victim) = k.vfs.resolve(dir, name, Resolve::NoFollow) {
        let v = k.vfs.getattr(&victim)?;
        if !perm::sticky_ok(&d, &v, &c) {
            return Err(Errno::EPERM);
        }
    }
    Ok(())
}

pub fn sys_access(k: &mut Kernel, a: &Args) -> SysResult {
    access_at(k, AT_FDCWD, a[0], a[1], 0)
}

pub fn sys_faccessat(k: &mut Kernel, a: &Args) -> SysResult {
    access_at(k, a[0], a[1], a[2], 0)
}

pub fn sys_faccessat2(k: &mut Kernel, a: &Args) -> SysResult {
    access_at(k, a[0], a[1], a[2], a[3])
}

/// The directory and last name of a path that is about to be created or
/// removed.
fn parent_of(k: &mut Kernel, dirfd: u32, path: u32) -> KResult<(Location, Vec<u8>, (usize, u64))> {
    let p = read_path(k, path)?;
    let start = at_start(k, dirfd, &p)?;
    let (dir, name) = k.vfs.resolve_parent(&start, &p)?;
    let node = k.vfs.node(&dir);
    Ok((dir, name, node))
}

fn special(name: &[u8]) -> bool {
    name.is_empty() || name == b"." || name == b".."
}

fn mkdir_at(k: &mut Kernel, dirfd: u32, path: u32, mode: u32) -> SysResult {
    let (_, name, (m, dir)) = parent_of(k, dirfd, path)?;
    if special(&name) {
        return Err(Errno::EEXIST.into());
    }
    let (dloc, _, _) = parent_of(k, dirfd, path)?;
    let node = super::fs::new_node(k, &dloc, crate::abi::mode::S_IFDIR | (mode & 0o7777), true)?;
    k.vfs.fs(m).mkdir(dir, &name, &node)?;
    Ok(0)
}

pub fn sys_mkdir(k: &mut Kernel, a: &Args) -> SysResult {
    mkdir_at(k, AT_FDCWD, a[0], a[1])
}

pub fn sys_mkdirat(k: &mut Kernel, a: &Args) -> SysResult {
    mkdir_at(k, a[0], a[1], a[2])
}

fn unlink_at(k: &mut Kernel, dirfd: u32, path: u32, flags: u32) -> SysResult {
    if flags & !AT_REMOVEDIR != 0 {
        return Err(Errno::EINVAL.into());
    }
    let (dloc, name, (m, dir)) = parent_of(k, dirfd, path)?;
    let dir_op = flags & AT_REMOVEDIR != 0;
    if special(&name) {
        let e = match (dir_op, name.as_slice()) {
            (true, b".") => Errno::EINVAL,
            (true, _) => Errno::ENOTEMPTY,
            (false, _) => Errno::EISDIR,
        };
        return Err(e.into());
    }
    if k.vfs.mount_at(&dloc.join_name(&name)).is_some() {
        return Err(Errno::EBUSY.into());
    }
    may_delete(k, &dloc, &name)?;
    if dir_op {
        k.vfs.fs(m).rmdir(dir, &name)?;
    } else {
        k.vfs.fs(m).unlink(dir, &name)?;
    }
    Ok(0)
}

pub fn sys_unlink(k: &mut Kernel, a: &Args) -> SysResult {
    unlink_at(k, AT_FDCWD, a[0], 0)
}

pub fn sys_unlinkat(k: &mut Kernel, a: &Args) -> SysResult {
    unlink_at(k, a[0], a[1], a[2])
}

pub fn sys_rmdir(k: &mut Kernel, a: &Args) -> SysResult {
    unlink_at(k, AT_FDCWD, a[0], AT_REMOVEDIR)
}

fn rename_at(k: &mut Kernel, a: &Args, flags: u32) -> SysResult {
    const RENAME_NOREPLACE: u32 = crate::abi::rename::RENAME_NOREPLACE;
    const RENAME_EXCHANGE: u32 = crate::abi::rename::RENAME_EXCHANGE;
    if flags & !(RENAME_NOREPLACE | RENAME_EXCHANGE) != 0
        || flags == RENAME_NOREPLACE | RENAME_EXCHANGE
    {
        return Err(Errno::EINVAL.into());
    }
    let (oloc, oname, (om, odir)) = parent_of(k, a[0], a[1])?;
    let (ndir_loc, nname, (nm, ndir)) = parent_of(k, a[2], a[3])?;
    if special(&oname) || special(&nname) {
        return Err(Errno::EBUSY.into());
    }
    if om != nm {
        return Err(Errno::EXDEV.into());
    }
    k.vfs.resolve(&oloc, &oname, Resolve::NoFollow)?;
    may_delete(k, &oloc, &oname)?;
    may_delete(k, &ndir_loc, &nname)?;
    if flags & RENAME_NOREPLACE != 0 && k.vfs.resolve(&ndir_loc, &nname, Resolve::NoFollow).is_ok()
    {
        return Err(Errno::EEXIST.into());
    }
    k.vfs.fs(om).rename(odir, &oname, ndir, &nname, flags)?;
    Ok(0)
}

pub fn sys_rename(k: &mut Kernel, a: &Args) -> SysResult {
    rename_at(k, &[AT_FDCWD, a[0], AT_FDCWD, a[1], 0, 0], 0)
}

pub fn sys_renameat(k: &mut Kernel, a: &Args) -> SysResult {
    rename_at(k, a, 0)
}

pub fn sys_renameat2(k: &mut Kernel, a: &Args) -> SysResult {
    rename_at(k, a, a[4])
}

fn symlink_at(k: &mut Kernel, target: u32, dirfd: u32, path: u32) -> SysResult {
    let target = read_path(k, target)?;
    let (_, name, (m, dir)) = parent_of(k, dirfd, path)?;
    if special(&name) {
        return Err(Errno::EEXIST.into());
    }
    let (dloc, _, _) = parent_of(k, dirfd, path)?;
    let node = super::fs::new_node(k, &dloc, crate::abi::mode::S_IFLNK | 0o777, false)?;
    k.vfs.fs(m).symlink(dir, &name, &target, &node)?;
    Ok(0)
}

pub fn sys_symlink(k: &mut Kernel, a: &Args) -> SysResult {
    symlink_at(k, a[0], AT_FDCWD, a[1])
}

pub fn sys_symlinkat(k: &mut Kernel, a: &Args) -> SysResult {
    symlink_at(k, a[0], a[1], a[2])
}

fn link_at(k: &mut Kernel, a: &Args, flags: u32) -> SysResult {
    let follow = if flags & AT_SYMLINK_FOLLOW != 0 {
        0
    } else {
        AT_SYMLINK_NOFOLLOW
    };
    let old = lookup(k, a[0], a[1], follow | (flags & AT_EMPTY_PATH))?;
    let (om, oino) = k.vfs.node(&old);
    if k.vfs.getattr(&old)?.is_dir() {
        return Err(Errno::EPERM.into());
    }
    let (_, name, (m, dir)) = parent_of(k, a[2], a[3])?;
    if special(&name) {
        return Err(Errno::EEXIST.into());
    }
    if m != om {
        return Err(Errno::EXDEV.into());
    }
    k.vfs.fs(m).link(oino, dir, &name)?;
    Ok(0)
}

pub fn sys_link(k: &mut Kernel, a: &Args) -> SysResult {
    link_at(k, &[AT_FDCWD, a[0], AT_FDCWD, a[1], 0, 0], 0)
}

pub fn sys_linkat(k: &mut Kernel, a: &Args) -> SysResult {
    link_at(k, a, a[4])
}

fn setattr(k: &mut Kernel, loc: &Location, set: &SetAttr) -> SysResult {
    let (m, ino) = k.vfs.node(loc);
    k.vfs.fs(m).setattr(ino, set)?;
    Ok(0)
}

fn chmod_set(mode: u32) -> SetAttr {
    SetAttr {
        mode: Some(mode & 0o7777),
        ..SetAttr::default()
    }
}

/// chmod: only the owner (or root); a non-root owner outside the file's
/// group loses S_ISGID, as on Linux.
fn chmod(k: &mut Kernel, loc: &Location, mode: u32) -> SysResult {
    let a = k.vfs.getattr(loc)?;
    let c = super::fs::cred(k);
    if !c.owns(&a) {
        return Err(Errno::EPERM.into());
    }
    let mut mode = mode & 0o7777;
    if !c.is_root() && !c.in_group(a.gid) {
        mode &= !0o2000;
    }
    super::fs::touch_clock(k);
    setattr(k, loc, &chmod_set(mode))
}

pub fn sys_chmod(k: &mut Kernel, a: &Args) -> SysResult {
    let loc = lookup(k, AT_FDCWD, a[0], 0)?;
    chmod(k, &loc, a[1])
}

pub fn sys_fchmodat(k: &mut Kernel, a: &Args) -> SysResult {
    let loc = lookup(k, a[0], a[1], 0)?;
    chmod(k, &loc, a[2])
}

pub fn sys_fchmod(k: &mut Kernel, a: &Args) -> SysResult {
    let loc = fd_location(k, a[0])?;
    chmod(k, &loc, a[1])
}

pub fn sys_umask(k: &mut Kernel, a: &Args) -> SysResult {
    let old = k.proc().umask;
    k.proc().umask = a[0] & 0o777;
    Ok(old)
}

/// One utimensat time: (seconds, nanoseconds) with UTIME_NOW/UTIME_OMIT.
fn utime(k: &Kernel, sec: i64, nsec: i64) -> KResult<Option<Timespec>> {
    const UTIME_NOW: i64 = (1 << 30) - 1;
    const UTIME_OMIT: i64 = (1 << 30) - 2;
    match nsec {
        UTIME_OMIT => Ok(None),
        UTIME_NOW => Ok(Some(k.time.realtime())),
        0..=999_999_999 => Ok(Some(Timespec {
            sec,
            nsec: nsec as u32,
        })),
        _ => Err(Errno::EINVAL),
    }
}

fn utimensat(k: &mut Kernel, a: &Args, wide: bool) -> SysResult {
    let (dirfd, path, times, flags) = (a[0], a[1], a[2], a[3]);
    let loc = if path == 0 {
        fd_location(k, dirfd)?
    } else {
        lookup(
            k,
            dirfd,
            path,
            flags & (AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH),
        )?
    };
    let mut set = SetAttr::default();
    if times == 0 {
        let now = k.time.realtime();
        set.atime = Some(now);
        set.mtime = Some(now);
    } else {
        let mut m = k.mem();
        let mut t = [(0i64, 0i64); 2];
        for (i, slot) in t.iter_mut().enumerate() {
            *slot = if wide {
                let at = times + i as u32 * 16;
                (
                    m.read_u64(GuestAddr(at))? as i64,
                    m.read_u64(GuestAddr(at + 8))? as i64,
                )
            } else {
                let at = times + i as u32 * 8;
                (
                    i64::from(m.read_u32(GuestAddr(at))? as i32),
                    i64::from(m.read_u32(GuestAddr(at + 4))? as i32),
                )
            };
        }
        set.atime = utime(k, t[0].0, t[0].1)?;
        set.mtime = utime(k, t[1].0, t[1].1)?;
    }
    setattr(k, &loc, &set)
}

pub fn sys_utimensat(k: &mut Kernel, a: &Args) -> SysResult {
    utimensat(k, a, false)
}

pub fn sys_utimensat64(k: &mut Kernel, a: &Args) -> SysResult {
    utimensat(k, a, true)
}

/// The i386 `struct statfs64` (84 bytes, 4-byte packed).
fn statfs64(k: &mut Kernel, loc: &Location, size: u32, buf: u32) -> SysResult {
    if size != 84 {
        return Err(Errno::EINVAL.into());
    }
    let (m, _) = k.vfs.node(loc);
    let s = k.vfs.fs_query(m).statfs()?;
    let mut b = [0u8; 84];
    let mut put = |off: usize, v: &[u8]| b[off..off + v.len()].copy_from_slice(v);
    put(0, &s.f_type.to_le_bytes());
    put(4, &s.f_bsize.to_le_bytes());
    put(8, &s.f_blocks.to_le_bytes());
    put(16, &s.f_bfree.to_le_bytes());
    put(24, &s.f_bavail.to_le_bytes());
    put(32, &s.f_files.to_le_bytes());
    put(40, &s.f_ffree.to_le_bytes());
    put(56, &s.f_namelen.to_le_bytes());
    put(60, &s.f_bsize.to_le_bytes());
    k.mem().write_bytes(GuestAddr(buf), &b)?;
    Ok(0)
}

pub fn sys_statfs64(k: &mut Kernel, a: &Args) -> SysResult {
    let loc = lookup(k, AT_FDCWD, a[0], 0)?;
    statfs64(k, &loc, a[1], a[2])
}

pub fn sys_fstatfs64(k: &mut Kernel, a: &Args) -> SysResult {
    let loc = fd_location(k, a[0])?;
    statfs64(k, &loc, a[1], a[2])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat64_layout_matches_i386() {
        let a = Attr {
            dev: 0x803,
            ino: 0x1_0000_0002,
            mode: 0o100644,
            nlink: 1,
            size: 0x1_0000_0005,
            blksize: 4096,
            blocks: 8,
            mtime: Timespec { sec: 7, nsec: 9 },
            ..Attr::default()
        };
        let b = stat64_bytes(&a);
        assert_eq!(&b[0..8], &0x803u64.to_le_bytes());
        assert_eq!(&b[12..16], &2u32.to_le_bytes());
        assert_eq!(&b[44..52], &0x1_0000_0005u64.to_le_bytes());
        assert_eq!(&b[72..80], &[7, 0, 0, 0, 9, 0, 0, 0]);
        assert_eq!(&b[88..96], &0x1_0000_0002u64.to_le_bytes());
        assert_eq!((dev_major(0x803), dev_minor(0x803)), (8, 3));
    }

    #[test]
    fn dirent_records_are_aligned() {
        let e = DirEntry {
            ino: 5,
            kind: FileType::Regular,
            name: b"abc".to_vec(),
        };
        let mut r = vec![0xff];
        assert!(dirent64(&e, 1, 100, &mut r));
        assert_eq!(r.len(), 1 + 24);
        assert_eq!(r[1 + 18], 8);
        assert_eq!(&r[1 + 19..1 + 23], b"abc\0");
        assert!(!dirent64(&e, 1, 10, &mut r));
        assert_eq!(r.len(), 1 + 24);
        let mut r = Vec::new();
        assert!(dirent32(&e, 1, 100, &mut r));
        assert_eq!((r.len(), r[r.len() - 1]), (16, 8));
    }

    /// A directory position past 4 GiB (lseek puts it anywhere) is past
    /// every entry, also where usize has 32 bits.
    #[test]
    fn getdents_past_4_gib_is_the_end() {
        use crate::kernel::tests::boot;
        use crate::syscall::fs::{sys_llseek, sys_open};
        use crate::syscall::Outcome;
        use wax_cpu::state::reg;
        let mut k = boot(&[0xeb, 0xfe], Default::default(), Default::default());
        let sp = k.machine.cpu().gpr[reg::ESP];
        let (path, result, buf) = (sp - 4096, sp - 4096 + 16, sp - 2048);
        k.mem().write_bytes(GuestAddr(path), b"/\0").unwrap();
        let Ok(Outcome::Done(fd)) = sys_open(&mut k, &[path, 0o200000, 0, 0, 0, 0]) else {
            panic!("open / failed");
        };
        assert!(sys_getdents64(&mut k, &[fd, buf, 1024, 0, 0, 0]).unwrap() > 0);
        sys_llseek(&mut k, &[fd, 1, 0, result, 0, 0]).unwrap();
        assert_eq!(k.mem().read_u64(GuestAddr(result)).unwrap(), 1 << 32);
        assert_eq!(sys_getdents64(&mut k, &[fd, buf, 1024, 0, 0, 0]), Ok(0));
        sys_llseek(&mut k, &[fd, 0, 0, result, 1, 0]).unwrap();
        assert_eq!(k.mem().read_u64(GuestAddr(result)).unwrap(), 1 << 32);
    }
}
