//! User and group ids, supplementary groups and nice values
//! (`crate::tasks::cred` holds the rules). The 16-bit calls of old i386 ABIs
//! take and return ids as u16 (0xffff meaning -1, ids past 65535 shown as
//! the overflow id 65534); the `*32` calls are what glibc uses.

use super::{Args, SysResult};
use crate::abi::errno::Errno;
use crate::kernel::Kernel;
use crate::tasks::cred::{Creds, NGROUPS_MAX};
use wax_cpu::GuestAddr;

/// What a 16-bit call shows for an id that does not fit.
const OVERFLOW_ID: u32 = 65534;

fn creds(k: &mut Kernel) -> &mut Creds {
    &mut k.proc().cred
}

/// A 16-bit id argument as a 32-bit one (0xffff is -1).
fn wide(id: u32) -> u32 {
    match id as u16 {
        0xffff => u32::MAX,
        v => u32::from(v),
    }
}

fn narrow(id: u32) -> u32 {
    if id > 0xffff {
        OVERFLOW_ID
    } else {
        id
    }
}

/// Replaces the caller's credentials with `new` (EPERM when `None`).
fn apply(k: &mut Kernel, new: Option<Creds>) -> SysResult {
    *creds(k) = new.ok_or(Errno::EPERM)?;
    Ok(0)
}

pub fn sys_getuid(k: &mut Kernel, _a: &Args) -> SysResult {
    Ok(creds(k).ruid)
}
pub fn sys_geteuid(k: &mut Kernel, _a: &Args) -> SysResult {
    Ok(creds(k).euid)
}
pub fn sys_getgid(k: &mut Kernel, _a: &Args) -> SysResult {
    Ok(creds(k).rgid)
}
pub fn sys_getegid(k: &mut Kernel, _a: &Args) -> SysResult {
    Ok(creds(k).egid)
}
pub fn sys_getuid16(k: &mut Kernel, _a: &Args) -> SysResult {
    Ok(narrow(creds(k).ruid))
}
pub fn sys_geteuid16(k: &mut Kernel, _a: &Args) -> SysResult {
    Ok(narrow(creds(k).euid))
}
pub fn sys_getgid16(k: &mut Kernel, _a: &Args) -> SysResult {
    Ok(narrow(creds(k).rgid))
}
pub fn sys_getegid16(k: &mut Kernel, _a: &Args) -> SysResult {
    Ok(narrow(creds(k).egid))
}

pub fn sys_setuid32(k: &mut Kernel, a: &Args) -> SysResult {
    let new = creds(k).setuid(a[0]);
    apply(k, new)
}
pub fn sys_setgid32(k: &mut Kernel, a: &Args) -> SysResult {
    let new = creds(k).setgid(a[0]);
    apply(k, new)
}
pub fn sys_setuid16(k: &mut Kernel, a: &Args) -> SysResult {
    sys_setuid32(k, &[wide(a[0]), 0, 0, 0, 0, 0])
}
pub fn sys_setgid16(k: &mut Kernel, a: &Args) -> SysResult {
    sys_setgid32(k, &[wide(a[0]), 0, 0, 0, 0, 0])
}

pub fn sys_setreuid32(k: &mut Kernel, a: &Args) -> SysResult {
    let new = creds(k).setreuid(a[0], a[1]);
    apply(k, new)
}
pub fn sys_setregid32(k: &mut Kernel, a: &Args) -> SysResult {
    let new = creds(k).setregid(a[0], a[1]);
    apply(k, new)
}
pub fn sys_setreuid16(k: &mut Kernel, a: &Args) -> SysResult {
    sys_setreuid32(k, &[wide(a[0]), wide(a[1]), 0, 0, 0, 0])
}
pub fn sys_setregid16(k: &mut Kernel, a: &Args) -> SysResult {
    sys_setregid32(k, &[wide(a[0]), wide(a[1]), 0, 0, 0, 0])
}

pub fn sys_setresuid32(k: &mut Kernel, a: &Args) -> SysResult {
    let new = creds(k).setresuid(a[0], a[1], a[2]);
    apply(k, new)
}
pub fn sys_setresgid32(k: &mut Kernel, a: &Args) -> SysResult {
    let new = creds(k).setresgid(a[0], a[1], a[2]);
    apply(k, new)
}
pub fn sys_setresuid16(k: &mut Kernel, a: &Args) -> SysResult {
    sys_setresuid32(k, &[wide(a[0]), wide(a[1]), wide(a[2]), 0, 0, 0])
}
pub fn sys_setresgid16(k: &mut Kernel, a: &Args) -> SysResult {
    sys_setresgid32(k, &[wide(a[0]), wide(a[1]), wide(a[2]), 0, 0, 0])
}

/// Writes three ids as u32s (or u16s for the old calls).
fn put_three(k: &mut Kernel, a: &Args, ids: [u32; 3], sixteen: bool) -> SysResult {
    for (i, id) in ids.into_iter().enumerate() {
        let at = GuestAddr(a[i]);
        if sixteen {
            k.mem().write_u16(at, narrow(id) as u16)?;
        } else {
            k.mem().write_u32(at, id)?;
        }
    }
    Ok(0)
}

pub fn sys_getresuid32(k: &mut Kernel, a: &Args) -> SysResult {
    let c = creds(k);
    let ids = [c.ruid, c.euid, c.suid];
    put_three(k, a, ids, false)
}
pub fn sys_getresgid32(k: &mut Kernel, a: &Args) -> SysResult {
    let c = creds(k);
    let ids = [c.rgid, c.egid, c.sgid];
    put_three(k, a, ids, false)
}
pub fn sys_getresuid16(k: &mut Kernel, a: &Args) -> SysResult {
    let c = creds(k);
    let ids = [c.ruid, c.euid, c.suid];
    put_three(k, a, ids, true)
}
pub fn sys_getresgid16(k: &mut Kernel, a: &Args) -> SysResult {
    let c = creds(k);
    let ids = [c.rgid, c.egid, c.sgid];
    put_three(k, a, ids, true)
}

/// setfsuid/setfsgid return the previous id and change it only to one of
/// the caller's ids (or anything for root); failure is silent.
pub fn sys_setfsuid32(k: &mut Kernel, a: &Args) -> SysResult {
    let c = creds(k);
    let old = c.fsuid;
    if c.privileged() || [c.ruid, c.euid, c.suid, c.fsuid].contains(&a[0]) {
        c.fsuid = a[0];
    }
    Ok(old)
}
pub fn sys_setfsgid32(k: &mut Kernel, a: &Args) -> SysResult {
    let c = creds(k);
    let old = c.fsgid;
    if c.privileged() || [c.rgid, c.egid, c.sgid, c.fsgid].contains(&a[0]) {
        c.fsgid = a[0];
    }
    Ok(old)
}
pub fn sys_setfsuid16(k: &mut Kernel, a: &Args) -> SysResult {
    sys_setfsuid32(k, &[wide(a[0]), 0, 0, 0, 0, 0]).map(narrow)
}
pub fn sys_setfsgid16(k: &mut Kernel, a: &Args) -> SysResult {
    sys_setfsgid32(k, &[wide(a[0]), 0, 0, 0, 0, 0]).map(narrow)
}

fn getgroups(k: &mut Kernel, a: &Args, width: u32) -> SysResult {
    let size = a[0] as i32;
    if size < 0 {
        return Err(Errno::EINVAL.into());
    }
    let groups = creds(k).groups.clone();
    if size == 0 {
        return Ok(groups.len() as u32);
    }
    if (size as usize) < groups.len() {
        return Err(Errno::EINVAL.into());
    }
    for (i, g) in (0u32..).zip(&groups) {
        let at = GuestAddr(a[1].wrapping_add(i * width));
        if width == 2 {
            k.mem().write_u16(at, narrow(*g) as u16)?;
        } else {
            k.mem().write_u32(at, *g)?;
        }
    }
    Ok(groups.len() as u32)
}

fn setgroups(k: &mut Kernel, a: &Args, width: u32) -> SysResult {
    if a[0] as usize > NGROUPS_MAX {
        return Err(Errno::EINVAL.into());
    }
    if !creds(k).privileged() {
        return Err(Errno::EPERM.into());
    }
    let mut groups = Vec::with_capacity(a[0] as usize);
    for i in 0..a[0] {
        let at = GuestAddr(a[1].wrapping_add(i * width));
        groups.push(if width == 2 {
            wide(u32::from(k.mem().read_u16(at)?))
        } else {
            k.mem().read_u32(at)?
        });
    }
    // Linux keeps the list sorted (groups_sort) for its membership search.
    groups.sort_unstable();
    creds(k).groups = groups;
    Ok(0)
}

pub fn sys_getgroups32(k: &mut Kernel, a: &Args) -> SysResult {
    getgroups(k, a, 4)
}
pub fn sys_getgroups16(k: &mut Kernel, a: &Args) -> SysResult {
    getgroups(k, a, 2)
}
pub fn sys_setgroups32(k: &mut Kernel, a: &Args) -> SysResult {
    setgroups(k, a, 4)
}
pub fn sys_setgroups16(k: &mut Kernel, a: &Args) -> SysResult {
    setgroups(k, a, 2)
}

const PRIO_PROCESS: u32 = 0;
const PRIO_PGRP: u32 = 1;
const PRIO_USER: u32 = 2;
/// RLIMIT_NICE: how far an unprivileged process may lower its nice value.
const RLIMIT_NICE: usize = 13;

/// The process slots `which`/`who` select (`who` 0: the caller's own).
fn targets(k: &mut Kernel, which: u32, who: u32) -> Result<Vec<usize>, Errno> {
    let me = k.thread().process;
    let (pgid, euid) = (k.tasks.proc(me).pgid, k.tasks.proc(me).cred.euid);
    let found: Vec<usize> = match which {
        PRIO_PROCESS if who == 0 => vec![me],
        PRIO_PROCESS => k.tasks.find_pid(who).into_iter().collect(),
        PRIO_PGRP => {
            let g = if who == 0 { pgid } else { who };
            k.tasks.group(g)
        }
        PRIO_USER => {
            let u = if who == 0 { euid } else { who };
            k.tasks
                .live_procs()
                .filter(|(_, q)| q.cred.ruid == u)
                .map(|(i, _)| i)
                .collect()
        }
        _ => return Err(Errno::EINVAL),
    };
    if found.is_empty() {
        return Err(Errno::ESRCH);
    }
    Ok(found)
}

/// The raw call returns 20 - nice of the highest-priority match (glibc
/// turns it back into a nice value).
pub fn sys_getpriority(k: &mut Kernel, a: &Args) -> SysResult {
    let found = targets(k, a[0], a[1])?;
    let best = found
        .iter()
        .map(|&p| k.tasks.proc(p).cred.nice)
        .min()
        .unwrap_or(0);
    Ok((20 - best) as u32)
}

/// ioprio_get/ioprio_set's `which` (IOPRIO_WHO_PROCESS, _PGRP, _USER) as
/// the PRIO_* value [`targets`] takes.
fn ioprio_who(which: u32) -> Result<u32, Errno> {
    match which {
        1..=3 => Ok(which - 1),
        _ => Err(Errno::EINVAL),
    }
}

const IOPRIO_CLASS_SHIFT: u32 = 13;
const IOPRIO_CLASS_NONE: u32 = 0;
const IOPRIO_CLASS_RT: u32 = 1;
const IOPRIO_CLASS_BE: u32 = 2;
const IOPRIO_CLASS_IDLE: u32 = 3;
/// The level within the real-time and best-effort classes.
const IOPRIO_LEVEL_MASK: u32 = 7;

/// How an I/O priority ranks (lower first): class none counts as what
/// Linux gives such a task, best effort at level 4.
fn ioprio_rank(v: u32) -> u32 {
    if v >> IOPRIO_CLASS_SHIFT == IOPRIO_CLASS_NONE {
        (IOPRIO_CLASS_BE << IOPRIO_CLASS_SHIFT) | 4
    } else {
        v
    }
}

/// ioprio_get(which, who): the I/O priority of the process, or the
/// highest of a process group's or a user's processes.
pub fn sys_ioprio_get(k: &mut Kernel, a: &Args) -> SysResult {
    let found = targets(k, ioprio_who(a[0])?, a[1])?;
    let prios = found.iter().map(|&p| k.tasks.proc(p).cred.ioprio);
    Ok(prios.min_by_key(|&v| ioprio_rank(v)).unwrap_or(0))
}

/// ioprio_set(which, who, ioprio): as Linux 6.x (checked against the
/// host kernel): only the low 16 bits count; the class (bits 13-15) must
/// be none, real-time, best-effort or idle, class none must have level
/// (bits 0-2) 0; the hint bits in between are kept as they are; the
/// real-time class needs privilege, and so does a process of another
/// user (EPERM).
pub fn sys_ioprio_set(k: &mut Kernel, a: &Args) -> SysResult {
    let ioprio = a[2] & 0xffff;
    let (class, level) = (ioprio >> IOPRIO_CLASS_SHIFT, ioprio & IOPRIO_LEVEL_MASK);
    let caller = k.proc().cred.clone();
    match class {
        IOPRIO_CLASS_NONE if level != 0 => Err(Errno::EINVAL),
        IOPRIO_CLASS_RT if !caller.privileged() => Err(Errno::EPERM),
        IOPRIO_CLASS_NONE | IOPRIO_CLASS_RT | IOPRIO_CLASS_BE | IOPRIO_CLASS_IDLE => Ok(()),
        _ => Err(Errno::EINVAL),
    }?;
    let found = targets(k, ioprio_who(a[0])?, a[1])?;
    for p in found {
        let c = &mut k.tasks.proc_mut(p).cred;
        if !caller.privileged() && c.ruid != caller.euid && c.ruid != caller.ruid {
            return Err(Errno::EPERM.into());
        }
        c.ioprio = ioprio;
    }
    Ok(0)
}

pub fn sys_setpriority(k: &mut Kernel, a: &Args) -> SysResult {
    let nice = (a[2] as i32).clamp(-20, 19);
    let found = targets(k, a[0], a[1])?;
    let me = k.thread().process;
    let caller = k.tasks.proc(me).cred.clone();
    let rlim = k.tasks.proc(me).rlimits[RLIMIT_NICE].0;
    for p in found {
        let c = &mut k.tasks.proc_mut(p).cred;
        if !caller.privileged() && c.euid != caller.euid && c.ruid != caller.euid {
            return Err(Errno::EPERM.into());
        }
        // Lowering the nice value needs CAP_SYS_NICE or RLIMIT_NICE room.
        if nice < c.nice && !caller.privileged() && (20 - nice) as u64 > rlim {
            return Err(Errno::EACCES.into());
        }
        c.nice = nice;
    }
    Ok(0)
}
