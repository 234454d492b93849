//! Extended attributes: none of Wax's file systems stores any, so every
//! file behaves as one on a file system mounted without them: getxattr
//! and removexattr find no such attribute (ENODATA), listxattr lists
//! nothing, setxattr is not supported (EOPNOTSUPP). The file itself is
//! still looked up, so a missing path is ENOENT and a bad descriptor
//! EBADF, as on Linux (`ls -l` asks for security.selinux and ACLs and
//! expects exactly this).

use super::fs::{at_start, AT_FDCWD};
use super::{read_path, Args, SysResult};
use crate::abi::errno::{Errno, KResult};
use crate::kernel::Kernel;
use crate::vfs::Resolve;

/// The largest attribute name (XATTR_NAME_MAX).
const NAME_MAX: usize = 255;

/// Checks the file the call names: a path (following the last symlink
/// or not) or a descriptor.
#[derive(Clone, Copy)]
enum Target {
    Path(Resolve),
    Fd,
}

fn check_target(k: &mut Kernel, t: Target, arg: u32) -> KResult<()> {
    match t {
        Target::Fd => k.proc().fds.file(arg).map(|_| ()),
        Target::Path(how) => {
            let p = read_path(k, arg)?;
            if p.is_empty() {
                return Err(Errno::ENOENT);
            }
            let start = at_start(k, AT_FDCWD, &p)?;
            k.vfs.resolve(&start, &p, how).map(|_| ())
        }
    }
}

/// Validates an attribute name argument (ERANGE past XATTR_NAME_MAX).
fn check_name(k: &mut Kernel, at: u32) -> KResult<()> {
    let name = k
        .mem()
        .read_cstr(wax_cpu::GuestAddr(at), NAME_MAX + 1)?
        .ok_or(Errno::ERANGE)?;
    if name.is_empty() {
        return Err(Errno::ERANGE);
    }
    Ok(())
}

fn get(k: &mut Kernel, a: &Args, t: Target) -> SysResult {
    check_target(k, t, a[0])?;
    check_name(k, a[1])?;
    Err(Errno::ENODATA.into())
}

fn set(k: &mut Kernel, a: &Args, t: Target) -> SysResult {
    check_target(k, t, a[0])?;
    check_name(k, a[1])?;
    Err(Errno::EOPNOTSUPP.into())
}

fn list(k: &mut Kernel, a: &Args, t: Target) -> SysResult {
    check_target(k, t, a[0])?;
    Ok(0)
}

fn remove(k: &mut Kernel, a: &Args, t: Target) -> SysResult {
    check_target(k, t, a[0])?;
    check_name(k, a[1])?;
    Err(Errno::ENODATA.into())
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
