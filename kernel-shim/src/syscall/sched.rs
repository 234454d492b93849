//! Scheduling policy calls. Wax runs every thread on one virtual CPU with
//! its own round robin (`crate::tasks::sched`), so policies and priorities are
//! recorded and reported as Linux would, without changing the order in
//! which threads run. The affinity mask is always CPU 0: any mask that
//! contains it is accepted.

use super::{Args, SysResult};
use crate::abi::errno::{Errno, KResult};
use crate::kernel::Kernel;
use crate::tasks::sched::Policy;
use wax_cpu::GuestAddr;
use wax_devices::Timespec;

const SCHED_OTHER: u32 = 0;
const SCHED_FIFO: u32 = 1;
const SCHED_RR: u32 = 2;
const SCHED_BATCH: u32 = 3;
const SCHED_IDLE: u32 = 5;
const SCHED_DEADLINE: u32 = 6;
const SCHED_RESET_ON_FORK: u32 = 0x4000_0000;
/// RR_TIMESLICE: 100 ms.
const RR_SLICE_NS: i128 = 100_000_000;
/// What sched_rr_get_interval reports for the fair class: 0, as current
/// (EEVDF) kernels do; Wax's own slices count instructions, not time.
const FAIR_SLICE_NS: i128 = 0;

/// (min, max) static priority of a policy.
fn priority_range(policy: u32) -> Option<(u32, u32)> {
    match policy {
        SCHED_FIFO | SCHED_RR => Some((1, 99)),
        SCHED_OTHER | SCHED_BATCH | SCHED_IDLE | SCHED_DEADLINE => Some((0, 0)),
        _ => None,
    }
}

/// The thread slot of `pid` (0: the caller); negative pids are EINVAL.
fn target(k: &mut Kernel, pid: u32) -> KResult<usize> {
    if (pid as i32) < 0 {
        return Err(Errno::EINVAL);
    }
    if pid == 0 {
        return Ok(k.current());
    }
    k.tasks.find_tid(pid).ok_or(Errno::ESRCH)
}

/// Changing another user's thread needs privilege (CAP_SYS_NICE).
fn may_change(k: &mut Kernel, t: usize) -> KResult<()> {
    let me = k.proc().cred.clone();
    let them = &k.tasks.proc(k.tasks.thread(t).process).cred;
    if me.privileged() || me.euid == them.euid || me.euid == them.ruid {
        Ok(())
    } else {
        Err(Errno::EPERM)
    }
}

pub fn sys_sched_get_priority_max(_k: &mut Kernel, a: &Args) -> SysResult {
    Ok(priority_range(a[0]).ok_or(Errno::EINVAL)?.1)
}

pub fn sys_sched_get_priority_min(_k: &mut Kernel, a: &Args) -> SysResult {
    Ok(priority_range(a[0]).ok_or(Errno::EINVAL)?.0)
}

pub fn sys_sched_getscheduler(k: &mut Kernel, a: &Args) -> SysResult {
    let t = target(k, a[0])?;
    let p = k.tasks.thread(t).sched;
    Ok(p.policy
        | if p.reset_on_fork {
            SCHED_RESET_ON_FORK
        } else {
            0
        })
}

pub fn sys_sched_getparam(k: &mut Kernel, a: &Args) -> SysResult {
    if a[1] == 0 {
        return Err(Errno::EINVAL.into());
    }
    let t = target(k, a[0])?;
    let prio = k.tasks.thread(t).sched.priority;
    k.mem().write_u32(GuestAddr(a[1]), prio)?;
    Ok(0)
}

/// sched_setscheduler and sched_setparam (`policy` None keeps it).
fn set(k: &mut Kernel, pid: u32, policy: Option<u32>, param: u32) -> SysResult {
    if param == 0 || (pid as i32) < 0 {
        return Err(Errno::EINVAL.into());
    }
    let prio = k.mem().read_u32(GuestAddr(param))?;
    let t = target(k, pid)?;
    let old = k.tasks.thread(t).sched;
    let (policy, reset) = match policy {
        Some(p) => (p & !SCHED_RESET_ON_FORK, p & SCHED_RESET_ON_FORK != 0),
        None => (old.policy, old.reset_on_fork),
    };
    // SCHED_DEADLINE has parameters only sched_setattr can pass.
    let (lo, hi) = priority_range(policy)
        .filter(|_| policy != SCHED_DEADLINE)
        .ok_or(Errno::EINVAL)?;
    if prio < lo || prio > hi {
        return Err(Errno::EINVAL.into());
    }
    may_change(k, t)?;
    let realtime = policy == SCHED_FIFO || policy == SCHED_RR;
    let rtprio_limit = k.proc().rlimits[RLIMIT_RTPRIO].0;
    if realtime && !k.proc().cred.privileged() && u64::from(prio) > rtprio_limit {
        return Err(Errno::EPERM.into());
    }
    k.tasks.thread_mut(t).sched = Policy {
        policy,
        priority: prio,
        reset_on_fork: reset,
    };
    Ok(0)
}

/// RLIMIT_RTPRIO.
const RLIMIT_RTPRIO: usize = 14;

pub fn sys_sched_setscheduler(k: &mut Kernel, a: &Args) -> SysResult {
    if (a[1] as i32) < 0 {
        return Err(Errno::EINVAL.into());
    }
    set(k, a[0], Some(a[1]), a[2])
}

pub fn sys_sched_setparam(k: &mut Kernel, a: &Args) -> SysResult {
    set(k, a[0], None, a[1])
}

fn rr_get_interval(k: &mut Kernel, a: &Args, wide: bool) -> SysResult {
    let t = target(k, a[0])?;
    let ns = match k.tasks.thread(t).sched.policy {
        SCHED_RR => RR_SLICE_NS,
        SCHED_FIFO => 0,
        _ => FAIR_SLICE_NS,
    };
    let ts = Timespec::from_nanos(ns);
    let mut m = k.mem();
    if wide {
        m.write_u64(GuestAddr(a[1]), ts.sec as u64)?;
        m.write_u64(GuestAddr(a[1] + 8), u64::from(ts.nsec))?;
    } else {
        m.write_u32(GuestAddr(a[1]), ts.sec as u32)?;
        m.write_u32(GuestAddr(a[1] + 4), ts.nsec)?;
    }
    Ok(0)
}

pub fn sys_sched_rr_get_interval(k: &mut Kernel, a: &Args) -> SysResult {
    rr_get_interval(k, a, false)
}

pub fn sys_sched_rr_get_interval64(k: &mut Kernel, a: &Args) -> SysResult {
    rr_get_interval(k, a, true)
}

/// The mask must be a whole number of longs large enough for one CPU;
/// the kernel copies out its own mask size (one long).
pub fn sys_sched_getaffinity(k: &mut Kernel, a: &Args) -> SysResult {
    if a[1] < 4 || !a[1].is_multiple_of(4) {
        return Err(Errno::EINVAL.into());
    }
    if a[0] != 0 && k.tasks.find_tid(a[0]).is_none() {
        return Err(Errno::ESRCH.into());
    }
    k.mem().write_u32(GuestAddr(a[2]), 1)?;
    Ok(4)
}

/// Any mask that includes CPU 0 (the only one) is accepted; one without it
/// is EINVAL, as on Linux when no allowed CPU is online.
pub fn sys_sched_setaffinity(k: &mut Kernel, a: &Args) -> SysResult {
    let first = if a[1] == 0 {
        0
    } else {
        k.mem().read_u8(GuestAddr(a[2]))?
    };
    let t = if a[0] == 0 {
        k.current()
    } else {
        k.tasks.find_tid(a[0]).ok_or(Errno::ESRCH)?
    };
    may_change(k, t)?;
    if first & 1 == 0 {
        return Err(Errno::EINVAL.into());
    }
    Ok(0)
}

/// getcpu: CPU 0, NUMA node 0.
pub fn sys_getcpu(k: &mut Kernel, a: &Args) -> SysResult {
    for at in [a[0], a[1]] {
        if at != 0 {
            k.mem().write_u32(GuestAddr(at), 0)?;
        }
    }
    Ok(0)
}
