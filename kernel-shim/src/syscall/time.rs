//! Clocks and sleeps. Sleeping parks the thread until a monotonic
//! deadline; the host's run loop waits for it without blocking the kernel.

use super::misc::read_timespec;
use super::{Args, Outcome, SysOutcome, SysResult};
use crate::abi::errno::{Errno, KResult};
use crate::abi::times::{CpuTime, TICK_NS};
use crate::kernel::Kernel;

use crate::tasks::process::{PosixTimer, Wait};
use wax_cpu::GuestAddr;
use wax_devices::Timespec;

const CLOCK_REALTIME: u32 = 0;
const TIMER_ABSTIME: u32 = 1;

/// The current time of a Linux clock id (CPU-time clocks included).
fn now(k: &mut Kernel, clock: u32) -> KResult<Timespec> {
    if let Some(cpu) = k.cpu_clock_ns(clock) {
        return cpu.map(|ns| Timespec::from_nanos(i128::from(ns)));
    }
    match clock {
        0 | 5 | 8 | 11 => Ok(k.time.realtime()),
        1 | 4 | 6 | 7 | 9 => Ok(k.time.monotonic()),
        _ => Err(Errno::EINVAL),
    }
}

fn put_timespec(k: &mut Kernel, at: u32, t: Timespec, wide: bool) -> SysResult {
    let mut m = k.mem();
    if wide {
        m.write_u64(GuestAddr(at), t.sec as u64)?;
        m.write_u64(GuestAddr(at + 8), u64::from(t.nsec))?;
    } else {
        m.write_u32(GuestAddr(at), t.sec as u32)?;
        m.write_u32(GuestAddr(at + 4), t.nsec)?;
    }
    Ok(0)
}

fn clock_gettime(k: &mut Kernel, a: &Args, wide: bool) -> SysResult {
    let t = now(k, a[0])?;
    put_timespec(k, a[1], t, wide)
}

pub fn sys_clock_gettime(k: &mut Kernel, a: &Args) -> SysResult {
    clock_gettime(k, a, false)
}

pub fn sys_clock_gettime64(k: &mut Kernel, a: &Args) -> SysResult {
    clock_gettime(k, a, true)
}

fn clock_getres(k: &mut Kernel, a: &Args, wide: bool) -> SysResult {
    now(k, a[0])?;
    if a[1] == 0 {
        return Ok(0);
    }
    let coarse = matches!(a[0], 5 | 6);
    let res = Timespec {
        sec: 0,
        nsec: if coarse { 4_000_000 } else { 1 },
    };
    put_timespec(k, a[1], res, wide)
}

pub fn sys_clock_getres(k: &mut Kernel, a: &Args) -> SysResult {
    clock_getres(k, a, false)
}

pub fn sys_clock_getres64(k: &mut Kernel, a: &Args) -> SysResult {
    clock_getres(k, a, true)
}

/// clock_settime. The guest has no CAP_SYS_TIME (the machine's wall
/// clock is the host's, like root in a container): a valid CLOCK_REALTIME
/// value and any CPU-time clock give EPERM, clocks Linux cannot set
/// (monotonic, boottime, coarse, TAI, alarm) give EINVAL.
fn clock_settime(k: &mut Kernel, a: &Args, wide: bool) -> SysResult {
    let value = match read_timespec(k, a[1], wide) {
        Err(Errno::EFAULT) => return Err(Errno::EFAULT.into()),
        v => v,
    };
    if let Some(cpu) = k.cpu_clock_ns(a[0]) {
        cpu?;
        return Err(Errno::EPERM.into());
    }
    match a[0] {
        CLOCK_REALTIME => {
            value?;
            Err(Errno::EPERM.into())
        }
        _ => Err(Errno::EINVAL.into()),
    }
}

pub fn sys_clock_settime(k: &mut Kernel, a: &Args) -> SysResult {
    clock_settime(k, a, false)
}

pub fn sys_clock_settime64(k: &mut Kernel, a: &Args) -> SysResult {
    clock_settime(k, a, true)
}

/// settimeofday: setting the time or the time zone needs CAP_SYS_TIME
/// (see `clock_settime`); with both pointers NULL it does nothing.
pub fn sys_settimeofday(k: &mut Kernel, a: &Args) -> SysResult {
    if a[0] != 0 {
        let mut m = k.mem();
        m.read_u32(GuestAddr(a[0]))?;
        let usec = m.read_u32(GuestAddr(a[0] + 4))? as i32;
        if !(0..1_000_000).contains(&usec) {
            return Err(Errno::EINVAL.into());
        }
    }
    if a[1] != 0 {
        k.mem().read_u32(GuestAddr(a[1]))?;
    }
    if a[0] == 0 && a[1] == 0 {
        return Ok(0);
    }
    Err(Errno::EPERM.into())
}

pub fn sys_gettimeofday(k: &mut Kernel, a: &Args) -> SysResult {
    let t = k.time.realtime();
    let mut m = k.mem();
    if a[0] != 0 {
        m.write_u32(GuestAddr(a[0]), t.sec as u32)?;
        m.write_u32(GuestAddr(a[0] + 4), t.nsec / 1000)?;
    }
    if a[1] != 0 {
        m.write_u64(GuestAddr(a[1]), 0)?;
    }
    Ok(0)
}

pub fn sys_time(k: &mut Kernel, a: &Args) -> SysResult {
    let t = k.time.realtime().sec as u32;
    if a[0] != 0 {
        k.mem().write_u32(GuestAddr(a[0]), t)?;
    }
    Ok(t)
}

/// Parks until the monotonic `deadline`; a handled signal ends the sleep
/// with EINTR and the time left in `*rem` (0: none).
fn sleep_until(k: &Kernel, deadline: Timespec, rem: u32) -> SysOutcome {
    if k.time.monotonic() >= deadline {
        return Ok(Outcome::Done(0));
    }
    Ok(Outcome::Block(Wait::Until {
        deadline,
        result: 0,
        rem,
    }))
}

fn after(k: &Kernel, t: Timespec) -> Timespec {
    Timespec::from_nanos(k.time.monotonic().as_nanos() + t.as_nanos())
}

pub fn sys_nanosleep(k: &mut Kernel, a: &Args) -> SysOutcome {
    let t = read_timespec(k, a[0], false)?;
    sleep_until(k, after(k, t), a[1])
}

fn clock_nanosleep(k: &mut Kernel, a: &Args, wide: bool) -> SysOutcome {
    let (clock, flags, req, rem) = (a[0], a[1], a[2], a[3]);
    let t = read_timespec(k, req, wide)?;
    let base = now(k, clock)?;
    let deadline = if flags & TIMER_ABSTIME == 0 {
        after(k, t)
    } else if clock == CLOCK_REALTIME {
        after(
            k,
            Timespec::from_nanos((t.as_nanos() - base.as_nanos()).max(0)),
        )
    } else {
        t
    };
    let rem = if flags & TIMER_ABSTIME == 0 && !wide {
        rem
    } else {
        0
    };
    sleep_until(k, deadline, rem)
}

pub fn sys_clock_nanosleep(k: &mut Kernel, a: &Args) -> SysOutcome {
    clock_nanosleep(k, a, false)
}

pub fn sys_clock_nanosleep64(k: &mut Kernel, a: &Args) -> SysOutcome {
    clock_nanosleep(k, a, true)
}

/// `struct itimerval` / `struct itimerspec` in nanoseconds: (interval,
/// value).
pub(crate) fn read_pair(k: &mut Kernel, at: u32, micro: bool, wide: bool) -> KResult<(i128, i128)> {
    let mut m = k.mem();
    let mut v = [0i128; 4];
    let step = if wide { 8 } else { 4 };
    for (i, x) in v.iter_mut().enumerate() {
        let a = GuestAddr(at + step * i as u32);
        *x = if wide {
            i128::from(m.read_u64(a)? as i64)
        } else {
            i128::from(m.read_u32(a)? as i32)
        };
    }
    let sub = if micro { 1000 } else { 1 };
    let lim = if micro { 1_000_000 } else { 1_000_000_000 };
    if v.iter().any(|x| *x < 0) || v[1] >= lim || v[3] >= lim {
        return Err(Errno::EINVAL);
    }
    Ok((
        v[0] * 1_000_000_000 + v[1] * sub,
        v[2] * 1_000_000_000 + v[3] * sub,
    ))
}

pub(crate) fn write_pair(
    k: &mut Kernel,
    at: u32,
    pair: (i128, i128),
    micro: bool,
    wide: bool,
) -> KResult<()> {
    let sub = if micro { 1000 } else { 1 };
    let words = [
        pair.0 / 1_000_000_000,
        pair.0 % 1_000_000_000 / sub,
        pair.1 / 1_000_000_000,
        pair.1 % 1_000_000_000 / sub,
    ];
    let mut m = k.mem();
    for (i, w) in words.iter().enumerate() {
        if wide {
            m.write_u64(GuestAddr(at + 8 * i as u32), *w as u64)?;
        } else {
            m.write_u32(GuestAddr(at + 4 * i as u32), *w as u32)?;
        }
    }
    Ok(())
}

/// The clock an interval timer counts: monotonic ns for ITIMER_REAL,
/// the process's CPU time for VIRTUAL (user) and PROF (user + system).
fn itimer_clock(k: &mut Kernel, which: usize) -> i128 {
    let p = k.thread().process;
    k.itimer_now(p, which)
}

/// The (interval, time left) of interval timer `which`.
fn itimer_get(k: &mut Kernel, which: usize) -> (i128, i128) {
    let now = itimer_clock(k, which);
    let t = k.proc().itimers[which];
    let left = if t.next == 0 {
        0
    } else {
        (t.next - now).max(1)
    };
    (t.interval, left)
}

fn itimer_set(k: &mut Kernel, which: usize, interval: i128, value: i128) {
    let now = itimer_clock(k, which);
    let t = &mut k.proc().itimers[which];
    t.interval = interval;
    t.next = if value == 0 { 0 } else { now + value };
}

pub fn sys_setitimer(k: &mut Kernel, a: &Args) -> SysResult {
    let which = a[0] as usize;
    if which > 2 {
        return Err(Errno::EINVAL.into());
    }
    let new = if a[1] != 0 {
        read_pair(k, a[1], true, false)?
    } else {
        (0, 0)
    };
    let old = itimer_get(k, which);
    if a[2] != 0 {
        write_pair(k, a[2], old, true, false)?;
    }
    itimer_set(k, which, new.0, new.1);
    Ok(0)
}

pub fn sys_getitimer(k: &mut Kernel, a: &Args) -> SysResult {
    let which = a[0] as usize;
    if which > 2 {
        return Err(Errno::EINVAL.into());
    }
    let old = itimer_get(k, which);
    write_pair(k, a[1], old, true, false)?;
    Ok(0)
}

/// alarm: seconds left of the previous alarm (rounded to nearest, at
/// least 1 if one was pending).
pub fn sys_alarm(k: &mut Kernel, a: &Args) -> SysResult {
    let (_, left) = itimer_get(k, 0);
    itimer_set(k, 0, 0, i128::from(a[0]) * 1_000_000_000);
    let secs = (left + 500_000_000) / 1_000_000_000;
    Ok(if left > 0 { secs.max(1) as u32 } else { 0 })
}

/// times: the process's and its reaped children's CPU time in clock
/// ticks; returns ticks since boot.
pub fn sys_times(k: &mut Kernel, a: &Args) -> SysResult {
    let (own, children) = (k.proc().times, k.proc().child_times);
    if a[0] != 0 {
        let mut m = k.mem();
        let w = [
            own.user_ticks(),
            own.system_ticks(),
            children.user_ticks(),
            children.system_ticks(),
        ];
        for (i, v) in w.iter().enumerate() {
            m.write_u32(GuestAddr(a[0] + 4 * i as u32), *v as u32)?;
        }
    }
    let up = k.time.monotonic().as_nanos() - k.time.boot().as_nanos();
    Ok((up / i128::from(TICK_NS)) as u32)
}

/// getrusage: CPU times (self, children, thread); the counters Wax does
/// not keep (page faults, context switches, max RSS) are zero.
pub fn sys_getrusage(k: &mut Kernel, a: &Args) -> SysResult {
    const RUSAGE_THREAD: i32 = 1;
    const RUSAGE_CHILDREN: i32 = -1;
    let times = match a[0] as i32 {
        0 => k.proc().times,
        RUSAGE_THREAD => k.thread().times,
        RUSAGE_CHILDREN => k.proc().child_times,
        _ => return Err(Errno::EINVAL.into()),
    };
    write_rusage(k, a[1], times)?;
    Ok(0)
}

/// Writes the i386 `struct rusage` (72 bytes) with `times` as ru_utime
/// and ru_stime.
pub(crate) fn write_rusage(k: &mut Kernel, at: u32, times: CpuTime) -> KResult<()> {
    let mut b = [0u8; 72];
    for (i, ns) in [times.user, times.system].into_iter().enumerate() {
        let us = ns / 1000;
        let o = i * 8;
        b[o..o + 4].copy_from_slice(&((us / 1_000_000) as u32).to_le_bytes());
        b[o + 4..o + 8].copy_from_slice(&((us % 1_000_000) as u32).to_le_bytes());
    }
    k.mem().write_bytes(GuestAddr(at), &b)?;
    Ok(())
}

/// sigevent notify values.
const SIGEV_SIGNAL: u32 = 0;
const SIGEV_NONE: u32 = 1;
const SIGEV_THREAD_ID: u32 = 4;

pub fn sys_timer_create(k: &mut Kernel, a: &Args) -> SysResult {
    let (clock, sev, out) = (a[0], a[1], a[2]);
    now(k, clock)?;
    let pid = k.proc().pid;
    let (value, signo, notify, tid) = if sev == 0 {
        (0, crate::signals::SIGALRM, SIGEV_SIGNAL, 0)
    } else {
        let mut m = k.mem();
        (
            m.read_u32(GuestAddr(sev))?,
            m.read_u32(GuestAddr(sev + 4))?,
            m.read_u32(GuestAddr(sev + 8))?,
            m.read_u32(GuestAddr(sev + 12))?,
        )
    };
    if notify != SIGEV_NONE && !(1..=crate::signals::NSIG).contains(&signo) {
        return Err(Errno::EINVAL.into());
    }
    let tid = match notify {
        SIGEV_SIGNAL | SIGEV_NONE => 0,
        SIGEV_THREAD_ID => {
            let t = k.tasks.find_tid(tid).ok_or(Errno::EINVAL)?;
            if k.tasks.proc(k.tasks.thread(t).process).pid != pid {
                return Err(Errno::EINVAL.into());
            }
            tid
        }
        _ => return Err(Errno::EINVAL.into()),
    };
    let id = (0..)
        .find(|i| !k.proc().timers.iter().any(|t| t.id == *i))
        .unwrap_or(0);
    if sev == 0 {
        // sigev_value defaults to the timer id.
        k.proc()
            .timers
            .push(timer(id, clock, signo, id, tid, false));
    } else {
        let silent = notify == SIGEV_NONE;
        k.proc()
            .timers
            .push(timer(id, clock, signo, value, tid, silent));
    }
    k.mem().write_u32(GuestAddr(out), id)?;
    Ok(0)
}

fn timer(id: u32, clock: u32, signo: u32, value: u32, tid: u32, silent: bool) -> PosixTimer {
    PosixTimer {
        id,
        clock,
        signo,
        value,
        tid,
        silent,
        next: 0,
        interval: 0,
        overrun: 0,
    }
}

fn timer_index(k: &mut Kernel, id: u32) -> KResult<usize> {
    k.proc()
        .timers
        .iter()
        .position(|t| t.id == id)
        .ok_or(Errno::EINVAL)
}

fn timer_left(k: &mut Kernel, i: usize) -> (i128, i128) {
    let p = k.thread().process;
    let now = k.timer_base(p, k.tasks.proc(p).timers[i].clock);
    let t = k.proc().timers[i];
    let left = if t.next == 0 {
        0
    } else {
        (t.next - now).max(1)
    };
    (t.interval, left)
}

fn timer_settime(k: &mut Kernel, a: &Args, wide: bool) -> SysResult {
    let i = timer_index(k, a[0])?;
    let (interval, value) = read_pair(k, a[2], false, wide)?;
    let old = timer_left(k, i);
    if a[3] != 0 {
        write_pair(k, a[3], old, false, wide)?;
    }
    let p = k.thread().process;
    let clock = k.tasks.proc(p).timers[i].clock;
    let base = k.timer_base(p, clock);
    let next = if value == 0 {
        0
    } else if a[1] & TIMER_ABSTIME != 0 {
        // An absolute time on the timer's clock, in the timer's base.
        base + (value - now(k, clock)?.as_nanos()).max(0)
    } else {
        base + value
    };
    let t = &mut k.proc().timers[i];
    t.interval = interval;
    t.next = next.max(if value == 0 { 0 } else { 1 });
    Ok(0)
}

pub fn sys_timer_settime(k: &mut Kernel, a: &Args) -> SysResult {
    timer_settime(k, a, false)
}

pub fn sys_timer_settime64(k: &mut Kernel, a: &Args) -> SysResult {
    timer_settime(k, a, true)
}

fn timer_gettime(k: &mut Kernel, a: &Args, wide: bool) -> SysResult {
    let i = timer_index(k, a[0])?;
    let cur = timer_left(k, i);
    write_pair(k, a[1], cur, false, wide)?;
    Ok(0)
}

pub fn sys_timer_gettime(k: &mut Kernel, a: &Args) -> SysResult {
    timer_gettime(k, a, false)
}

pub fn sys_timer_gettime64(k: &mut Kernel, a: &Args) -> SysResult {
    timer_gettime(k, a, true)
}

pub fn sys_timer_getoverrun(k: &mut Kernel, a: &Args) -> SysResult {
    let i = timer_index(k, a[0])?;
    Ok(k.proc().timers[i].overrun)
}

pub fn sys_timer_delete(k: &mut Kernel, a: &Args) -> SysResult {
    let i = timer_index(k, a[0])?;
    k.proc().timers.remove(i);
    Ok(0)
}
