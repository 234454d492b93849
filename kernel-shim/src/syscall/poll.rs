//! poll, ppoll, select, _newselect, pselect6 (and the time64 variants),
//! on the readiness every open file reports (`FileHandle::poll`).
//!
//! A call that finds nothing ready parks with `Wait::Poll`, leaving its
//! interest set in the thread; the scheduler polls those descriptors again
//! when it looks for work and restarts the call when one is ready (or the
//! deadline passes: the restarted call keeps its first absolute deadline
//! through `Thread::restart_deadline`, so it then returns 0). Signals
//! interrupt with EINTR (ERESTARTNOHAND: never restarted after a handler).

use super::{Args, Outcome, SysOutcome};
use crate::abi::errno::{Errno, KResult};
use crate::abi::poll;
use crate::kernel::Kernel;
use crate::tasks::process::Wait;
use wax_cpu::GuestAddr;
use wax_devices::Timespec;

/// What a poll-family call waits at most.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Timeout {
    Forever,
    /// A relative time from the call.
    After(Timespec),
}

/// The absolute deadline: the parked call's own on a restart.
fn deadline(k: &mut Kernel, t: Timeout) -> Option<Timespec> {
    if let Some(d) = k.thread().restart_deadline.take() {
        return Some(d);
    }
    match t {
        Timeout::Forever => None,
        Timeout::After(d) => Some(Timespec::from_nanos(
            k.time.monotonic().as_nanos() + d.as_nanos(),
        )),
    }
}

fn expired(k: &Kernel, d: Option<Timespec>) -> bool {
    d.is_some_and(|d| k.time.monotonic() >= d)
}

/// Parks with the interest set, or reports a timeout (0).
fn park(k: &mut Kernel, set: Vec<(u32, u16)>, d: Option<Timespec>) -> SysOutcome {
    if expired(k, d) {
        restore_mask(k);
        return Ok(Outcome::Done(0));
    }
    let t = k.thread();
    t.poll_set = set;
    t.restart_deadline = d;
    Ok(Outcome::Block(Wait::Poll { deadline: d }))
}

/// ppoll/pselect's temporary mask, kept until the call returns or a
/// handler frame saves it.
pub(super) fn apply_mask(k: &mut Kernel, at: u32, size: u32) -> KResult<()> {
    if at == 0 {
        return Ok(());
    }
    if size != 8 {
        return Err(Errno::EINVAL);
    }
    let mask = k.mem().read_u64(GuestAddr(at))?;
    let t = k.thread();
    if t.saved_mask.is_none() {
        t.saved_mask = Some(t.sigmask);
    }
    t.sigmask = mask & !crate::signals::UNBLOCKABLE;
    Ok(())
}

pub(super) fn restore_mask(k: &mut Kernel) {
    let t = k.thread();
    if let Some(m) = t.saved_mask.take() {
        t.sigmask = m;
    }
}

fn do_poll(k: &mut Kernel, fds: u32, nfds: u32, t: Timeout) -> SysOutcome {
    if u64::from(nfds) > k.proc().rlimits[crate::tasks::process::RLIMIT_NOFILE].0 {
        return Err(Errno::EINVAL.into());
    }
    let mut raw = vec![0u8; nfds as usize * 8];
    k.mem().read_bytes(GuestAddr(fds), &mut raw)?;
    let d = deadline(k, t);
    let me = k.current();
    let mut ready = 0;
    let mut set = Vec::new();
    for e in raw.chunks_exact_mut(8) {
        let fd = i32::from_le_bytes(e[0..4].try_into().expect("4 bytes"));
        let events = u16::from_le_bytes([e[4], e[5]]);
        let revents = if fd < 0 {
            0
        } else {
            let always = poll::POLLERR | poll::POLLHUP | poll::POLLNVAL;
            k.fd_poll(me, fd as u32) & (events | always)
        };
        e[6..8].copy_from_slice(&revents.to_le_bytes());
        if revents != 0 {
            ready += 1;
        }
        if fd >= 0 {
            set.push((fd as u32, events));
        }
    }
    if ready == 0 {
        return park(k, set, d);
    }
    k.mem().write_bytes(GuestAddr(fds), &raw)?;
    restore_mask(k);
    Ok(Outcome::Done(ready))
}

pub fn sys_poll(k: &mut Kernel, a: &Args) -> SysOutcome {
    let ms = a[2] as i32;
    let t = if ms < 0 {
        Timeout::Forever
    } else {
        Timeout::After(Timespec::from_nanos(i128::from(ms) * 1_000_000))
    };
    do_poll(k, a[0], a[1], t)
}

fn read_timeout(k: &mut Kernel, at: u32, wide: bool) -> KResult<Timeout> {
    if at == 0 {
        return Ok(Timeout::Forever);
    }
    Ok(Timeout::After(super::misc::read_timespec(k, at, wide)?))
}

fn ppoll(k: &mut Kernel, a: &Args, wide: bool) -> SysOutcome {
    let t = read_timeout(k, a[2], wide)?;
    apply_mask(k, a[3], a[4])?;
    do_poll(k, a[0], a[1], t)
}

pub fn sys_ppoll(k: &mut Kernel, a: &Args) -> SysOutcome {
    ppoll(k, a, false)
}

pub fn sys_ppoll_time64(k: &mut Kernel, a: &Args) -> SysOutcome {
    ppoll(k, a, true)
}

/// The three fd_sets of select (words of 32 descriptors).
fn read_sets(k: &mut Kernel, nfds: u32, at: [u32; 3]) -> KResult<[Vec<u32>; 3]> {
    let words = nfds.div_ceil(32) as usize;
    let mut out: [Vec<u32>; 3] = Default::default();
    for (i, &a) in at.iter().enumerate() {
        out[i] = vec![0; words];
        if a == 0 {
            continue;
        }
        for (j, w) in out[i].iter_mut().enumerate() {
            *w = k.mem().read_u32(GuestAddr(a + 4 * j as u32))?;
        }
    }
    Ok(out)
}

/// Where select/pselect6 write back the time left, and in which layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TimeLeft {
    None,
    Timeval(u32),
    Timespec { at: u32, wide: bool },
}

/// Linux's select and pselect6 store the time not slept in their timeout
/// argument when they return (glibc's pselect hides it from callers).
fn write_left(k: &mut Kernel, left: TimeLeft, d: Option<Timespec>) -> KResult<()> {
    let Some(d) = d else { return Ok(()) };
    let rest = (d.as_nanos() - k.time.monotonic().as_nanos()).max(0);
    let (sec, nsec) = ((rest / 1_000_000_000) as u64, (rest % 1_000_000_000) as u32);
    let mut m = k.mem();
    match left {
        TimeLeft::None => {}
        TimeLeft::Timeval(at) => {
            m.write_u32(GuestAddr(at), sec as u32)?;
            m.write_u32(GuestAddr(at + 4), nsec / 1000)?;
        }
        TimeLeft::Timespec { at, wide: true } => {
            m.write_u64(GuestAddr(at), sec)?;
            m.write_u64(GuestAddr(at + 8), u64::from(nsec))?;
        }
        TimeLeft::Timespec { at, wide: false } => {
            m.write_u32(GuestAddr(at), sec as u32)?;
            m.write_u32(GuestAddr(at + 4), nsec)?;
        }
    }
    Ok(())
}

fn do_select(k: &mut Kernel, nfds: u32, at: [u32; 3], t: Timeout, left: TimeLeft) -> SysOutcome {
    if u64::from(nfds) > k.proc().rlimits[crate::tasks::process::RLIMIT_NOFILE].0 {
        return Err(Errno::EINVAL.into());
    }
    let sets = read_sets(k, nfds, at)?;
    let d = deadline(k, t);
    let me = k.current();
    let mut out: [Vec<u32>; 3] = sets.clone();
    let mut ready = 0;
    let mut interest = Vec::new();
    let want = [
        poll::POLLIN | poll::POLLHUP | poll::POLLERR,
        poll::POLLOUT | poll::POLLERR,
        poll::POLLPRI,
    ];
    for fd in 0..nfds {
        let (w, b) = ((fd / 32) as usize, 1u32 << (fd % 32));
        let asked: Vec<usize> = (0..3).filter(|&i| sets[i][w] & b != 0).collect();
        if asked.is_empty() {
            continue;
        }
        let r = k.fd_poll(me, fd);
        if r & poll::POLLNVAL != 0 {
            k.thread().restart_deadline = None;
            restore_mask(k);
            return Err(Errno::EBADF.into());
        }
        let mut events = 0;
        for i in 0..3 {
            events |= if asked.contains(&i) { want[i] } else { 0 };
            if asked.contains(&i) && r & want[i] != 0 {
                ready += 1;
            } else {
                out[i][w] &= !b;
            }
        }
        interest.push((fd, events));
    }
    if ready == 0 {
        let r = park(k, interest, d);
        if r == Ok(Outcome::Done(0)) {
            write_sets(k, at, &out)?;
            write_left(k, left, d)?;
        }
        return r;
    }
    write_sets(k, at, &out)?;
    write_left(k, left, d)?;
    restore_mask(k);
    Ok(Outcome::Done(ready))
}

fn write_sets(k: &mut Kernel, at: [u32; 3], sets: &[Vec<u32>; 3]) -> KResult<()> {
    for (i, &a) in at.iter().enumerate() {
        if a == 0 {
            continue;
        }
        for (j, w) in sets[i].iter().enumerate() {
            k.mem().write_u32(GuestAddr(a + 4 * j as u32), *w)?;
        }
    }
    Ok(())
}

/// _newselect: the timeout is a `struct timeval`.
pub fn sys_select(k: &mut Kernel, a: &Args) -> SysOutcome {
    let t = if a[4] == 0 {
        Timeout::Forever
    } else {
        let mut m = k.mem();
        let sec = m.read_u32(GuestAddr(a[4]))? as i32;
        let usec = m.read_u32(GuestAddr(a[4] + 4))? as i32;
        if sec < 0 || !(0..1_000_000).contains(&usec) {
            return Err(Errno::EINVAL.into());
        }
        Timeout::After(Timespec::from_nanos(
            i128::from(sec) * 1_000_000_000 + i128::from(usec) * 1000,
        ))
    };
    let left = if a[4] == 0 {
        TimeLeft::None
    } else {
        TimeLeft::Timeval(a[4])
    };
    do_select(k, a[0], [a[1], a[2], a[3]], t, left)
}

fn pselect(k: &mut Kernel, a: &Args, wide: bool) -> SysOutcome {
    let t = read_timeout(k, a[4], wide)?;
    if a[5] != 0 {
        let mut m = k.mem();
        let set = m.read_u32(GuestAddr(a[5]))?;
        let size = m.read_u32(GuestAddr(a[5] + 4))?;
        apply_mask(k, set, size)?;
    }
    let left = if a[4] == 0 {
        TimeLeft::None
    } else {
        TimeLeft::Timespec { at: a[4], wide }
    };
    do_select(k, a[0], [a[1], a[2], a[3]], t, left)
}

pub fn sys_pselect6(k: &mut Kernel, a: &Args) -> SysOutcome {
    pselect(k, a, false)
}

pub fn sys_pselect6_time64(k: &mut Kernel, a: &Args) -> SysOutcome {
    pselect(k, a, true)
}
