//! Clocks and sleeps. Sleeping parks the thread until a monotonic
//! deadline; the host's run loop waits for it without blocking the kernel.

use super::misc::read_timespec;
use super::{Args, SysErr, SysResult};
use crate::errno::{Errno, KResult};
use crate::kernel::Kernel;
use crate::process::Wait;
use wax_cpu::GuestAddr;
use wax_devices::Timespec;

const CLOCK_REALTIME: u32 = 0;
const TIMER_ABSTIME: u32 = 1;

/// The current time of a Linux clock id.
fn now(k: &Kernel, clock: u32) -> KResult<Timespec> {
    match clock {
        0 | 5 | 8 | 11 => Ok(k.clock.realtime()),
        1 | 4 | 6 | 7 | 9 => Ok(k.clock.monotonic()),
        // CPU-time clocks: time since boot stands in for CPU time.
        2 | 3 => Ok(Timespec::from_nanos(
            k.clock.monotonic().as_nanos() - k.boot.as_nanos(),
        )),
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

pub fn sys_gettimeofday(k: &mut Kernel, a: &Args) -> SysResult {
    let t = k.clock.realtime();
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
    let t = k.clock.realtime().sec as u32;
    if a[0] != 0 {
        k.mem().write_u32(GuestAddr(a[0]), t)?;
    }
    Ok(t)
}

/// Parks until the monotonic `deadline`.
fn sleep_until(k: &Kernel, deadline: Timespec) -> SysResult {
    if k.clock.monotonic() >= deadline {
        return Ok(0);
    }
    Err(SysErr::Block(Wait::Until {
        deadline,
        result: 0,
    }))
}

fn after(k: &Kernel, t: Timespec) -> Timespec {
    Timespec::from_nanos(k.clock.monotonic().as_nanos() + t.as_nanos())
}

pub fn sys_nanosleep(k: &mut Kernel, a: &Args) -> SysResult {
    let t = read_timespec(k, a[0], false)?;
    sleep_until(k, after(k, t))
}

fn clock_nanosleep(k: &mut Kernel, a: &Args, wide: bool) -> SysResult {
    let (clock, flags, req) = (a[0], a[1], a[2]);
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
    sleep_until(k, deadline)
}

pub fn sys_clock_nanosleep(k: &mut Kernel, a: &Args) -> SysResult {
    clock_nanosleep(k, a, false)
}

pub fn sys_clock_nanosleep64(k: &mut Kernel, a: &Args) -> SysResult {
    clock_nanosleep(k, a, true)
}
