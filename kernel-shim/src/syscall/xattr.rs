//! Extended attributes (xattr(7)). The system calls check names, sizes
//! and flags here, then who may touch the attribute (Linux's
//! `xattr_permission`: user.* attributes live only on regular files and
//! directories, so elsewhere reading one finds nothing (ENODATA) and
//! writing one is EPERM; trusted.* ones need privilege, the same way),
//! and then ask the file system holding the file: tmpfs keeps user,
//! trusted and security attributes in memory, a host directory root keeps
//! user and trusted attributes on the host file (`src/host/fs.rs`); ext2
//! images and /proc support none, like a Linux file system without xattr
//! support: get, set and remove are EOPNOTSUPP and the list is empty;
//! /dev keeps none (ENODATA). The file itself is always looked up first,
//! so a missing path is ENOENT and a bad descriptor EBADF, as on Linux.

use super::fs::{at_start, AT_FDCWD};
use super::{read_path, Args, SysResult};
use crate::abi::errno::{Errno, KResult};
use crate::abi::mode;
use crate::kernel::Kernel;
use crate::vfs::{MountId, Resolve};
use wax_cpu::GuestAddr;

/// The largest attribute name (XATTR_NAME_MAX) and value (XATTR_SIZE_MAX).
const NAME_MAX: usize = 255;
const SIZE_MAX: u32 = 65536;
/// setxattr's flags: XATTR_CREATE, XATTR_REPLACE.
const FLAGS: u32 = 1 | 2;
/// The namespaces Linux knows; any other prefix is EOPNOTSUPP.
const NAMESPACES: &[&[u8]] = &[b"user.", b"trusted.", b"security.", b"system."];

/// The file the call names: a path (following the last symlink or not)
/// or a descriptor.
#[derive(Clone, Copy)]
enum Target {
    Path(Resolve),
    Fd,
}

/// The node the call names; `None` for a descriptor without one (a pipe
/// or a socket), which has no attributes.
fn target(k: &mut Kernel, t: Target, arg: u32) -> KResult<Option<(MountId, crate::vfs::Ino)>> {
    match t {
        Target::Fd => Ok(k.proc().fds.file(arg)?.borrow().node),
        Target::Path(how) => {
            let p = read_path(k, arg)?;
            if p.is_empty() {
                return Err(Errno::ENOENT);
            }
            let start = at_start(k, AT_FDCWD, &p)?;
            let loc = k.vfs.resolve(&start, &p, how)?;
            Ok(Some(k.vfs.node(&loc)))
        }
    }
}

/// The attribute name argument: ERANGE if empty or past XATTR_NAME_MAX,
/// EOPNOTSUPP outside Linux's namespaces, EINVAL for a bare prefix.
fn name(k: &mut Kernel, at: u32) -> KResult<Vec<u8>> {
    let name = k
        .mem()
        .read_cstr(GuestAddr(at), NAME_MAX + 1)?
        .ok_or(Errno::ERANGE)?;
    if name.is_empty() {
        return Err(Errno::ERANGE);
    }
    match NAMESPACES.iter().find(|ns| name.starts_with(ns)) {
        None => return Err(Errno::EOPNOTSUPP),
        // A namespace with no name in it.
        Some(ns) if name.len() == ns.len() => return Err(Errno::EINVAL),
        Some(_) => {}
    }
    Ok(name)
}

/// Linux's `xattr_permission` for the namespaces whose rules do not
/// depend on the file system: a user.* attribute on anything but a
/// regular file or a directory, or a trusted.* one without privilege, is
/// not there to read (ENODATA) and may not be written (EPERM).
fn permitted(
    k: &mut Kernel,
    node: Option<(MountId, crate::vfs::Ino)>,
    name: &[u8],
    write: bool,
) -> KResult<()> {
    let denied = if write { Errno::EPERM } else { Errno::ENODATA };
    if name.starts_with(b"trusted.") && !k.proc().cred.privileged() {
        return Err(denied);
    }
    if name.starts_with(b"user.") {
        let ty = match node {
            Some((m, ino)) => k.vfs.fs_query(m).getattr(ino)?.mode & mode::S_IFMT,
            // A pipe's or a socket's inode.
            None => mode::S_IFIFO,
        };
        if ty != mode::S_IFREG && ty != mode::S_IFDIR {
            return Err(denied);
        }
    }
    Ok(())
}

/// Copies `data` to a guest buffer of `size` bytes the way getxattr and
/// listxattr do: size 0 asks for the length, a short buffer is ERANGE.
fn reply(k: &mut Kernel, data: &[u8], buf: u32, size: u32) -> SysResult {
    if size == 0 {
        return Ok(data.len() as u32);
    }
    if data.len() > size as usize {
        return Err(Errno::ERANGE.into());
    }
    k.mem().write_bytes(GuestAddr(buf), data)?;
    Ok(data.len() as u32)
}

fn get(k: &mut Kernel, a: &Args, t: Target) -> SysResult {
    let node = target(k, t, a[0])?;
    let name = name(k, a[1])?;
    permitted(k, node, &name, false)?;
    let Some((m, ino)) = node else {
        return Err(Errno::EOPNOTSUPP.into());
    };
    let value = k.vfs.fs_query(m).getxattr(ino, &name)?;
    reply(k, &value, a[2], a[3])
}

fn set(k: &mut Kernel, a: &Args, t: Target) -> SysResult {
    let node = target(k, t, a[0])?;
    let name = name(k, a[1])?;
    let (value, size, flags) = (a[2], a[3], a[4]);
    if flags & !FLAGS != 0 {
        return Err(Errno::EINVAL.into());
    }
    if size > SIZE_MAX {
        return Err(Errno::E2BIG.into());
    }
    let mut v = vec![0u8; size as usize];
    k.mem().read_bytes(GuestAddr(value), &mut v)?;
    permitted(k, node, &name, true)?;
    let Some((m, ino)) = node else {
        return Err(Errno::EOPNOTSUPP.into());
    };
    k.vfs.fs(m).setxattr(ino, &name, &v, flags)?;
    Ok(0)
}

fn list(k: &mut Kernel, a: &Args, t: Target) -> SysResult {
    let Some((m, ino)) = target(k, t, a[0])? else {
        return Ok(0);
    };
    let names = k.vfs.fs_query(m).listxattr(ino)?;
    reply(k, &names, a[1], a[2])
}

fn remove(k: &mut Kernel, a: &Args, t: Target) -> SysResult {
    let node = target(k, t, a[0])?;
    let name = name(k, a[1])?;
    permitted(k, node, &name, true)?;
    let Some((m, ino)) = node else {
        return Err(Errno::EOPNOTSUPP.into());
    };
    k.vfs.fs(m).removexattr(ino, &name)?;
    Ok(0)
}

const FOLLOW: Target = Target::Path(Resolve::Follow);
const NOFOLLOW: Target = Target::Path(Resolve::NoFollow);

pub fn sys_setxattr(k: &mut Kernel, a: &Args) -> SysResult {
    set(k, a, FOLLOW)
}
pub fn sys_lsetxattr(k: &mut Kernel, a: &Args) -> SysResult {
    set(k, a, NOFOLLOW)
}
pub fn sys_fsetxattr(k: &mut Kernel, a: &Args) -> SysResult {
    set(k, a, Target::Fd)
}
pub fn sys_getxattr(k: &mut Kernel, a: &Args) -> SysResult {
    get(k, a, FOLLOW)
}
pub fn sys_lgetxattr(k: &mut Kernel, a: &Args) -> SysResult {
    get(k, a, NOFOLLOW)
}
pub fn sys_fgetxattr(k: &mut Kernel, a: &Args) -> SysResult {
    get(k, a, Target::Fd)
}
pub fn sys_listxattr(k: &mut Kernel, a: &Args) -> SysResult {
    list(k, a, FOLLOW)
}
pub fn sys_llistxattr(k: &mut Kernel, a: &Args) -> SysResult {
    list(k, a, NOFOLLOW)
}
pub fn sys_flistxattr(k: &mut Kernel, a: &Args) -> SysResult {
    list(k, a, Target::Fd)
}
pub fn sys_removexattr(k: &mut Kernel, a: &Args) -> SysResult {
    remove(k, a, FOLLOW)
}
pub fn sys_lremovexattr(k: &mut Kernel, a: &Args) -> SysResult {
    remove(k, a, NOFOLLOW)
}
pub fn sys_fremovexattr(k: &mut Kernel, a: &Args) -> SysResult {
    remove(k, a, Target::Fd)
}
