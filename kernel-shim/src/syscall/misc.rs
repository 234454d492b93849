//! Identity and control: user ids, uname, personality, TLS descriptors,
//! resource limits, futex, prctl, getrandom, sysinfo.

use super::{Args, Outcome, SysOutcome, SysResult, MAX_IO};
use crate::abi::errno::{Errno, KResult};
use crate::abi::persona::{PERSONALITY_QUERY, UNAME26};
use crate::kernel::Kernel;
use crate::tasks::process::{Wait, RLIM_INFINITY};
use crate::tasks::tls::{READ_EXEC_ONLY, SEG_NOT_PRESENT};
use crate::vfs::file::NR_OPEN;
use crate::vfs::proc::uname;
use wax_cpu::state::selector;
use wax_cpu::GuestAddr;
use wax_devices::Timespec;

pub fn sys_ok(_k: &mut Kernel, _a: &Args) -> SysResult {
    Ok(0)
}

/// A call Wax deliberately does not provide (e.g. rseq: glibc falls back
/// quietly, as on kernels built without it).
pub fn sys_enosys(_k: &mut Kernel, _a: &Args) -> SysResult {
    Err(Errno::ENOSYS.into())
}

fn put_field(b: &mut [u8; 390], i: usize, s: &[u8]) {
    b[i * 65..i * 65 + s.len()].copy_from_slice(s);
}

pub fn sys_uname(k: &mut Kernel, a: &Args) -> SysResult {
    let mut b = [0u8; 390];
    let release = match k.proc().personality & UNAME26 {
        0 => uname::RELEASE.as_bytes().to_vec(),
        _ => release_26(uname::RELEASE).into_bytes(),
    };
    let fields: [&[u8]; 6] = [
        uname::SYSNAME.as_bytes(),
        &k.uts.hostname,
        &release,
        uname::VERSION.as_bytes(),
        uname::MACHINE.as_bytes(),
        &k.uts.domainname,
    ];
    for (i, f) in fields.iter().enumerate() {
        put_field(&mut b, i, f);
    }
    k.mem().write_bytes(GuestAddr(a[0]), &b)?;
    Ok(0)
}

/// The release uname reports under UNAME26, as Linux makes it: "2.6.",
/// 60 plus the minor version, then what follows the version number
/// ("6.1.0-wax" becomes "2.6.61-wax"; checked on a 6.18 host kernel).
fn release_26(release: &str) -> String {
    // The version number: digits and dots, up to a third dot.
    let mut dots = 0;
    let end = release
        .find(|c: char| {
            dots += usize::from(c == '.');
            (c != '.' && !c.is_ascii_digit()) || dots >= 3
        })
        .unwrap_or(release.len());
    let minor: u32 = release[..end]
        .split('.')
        .nth(1)
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    format!("2.6.{}{}", 60 + minor, &release[end..])
}

/// personality(persona): sets the process's persona (Linux keeps any
/// value) and returns the one before; PERSONALITY_QUERY only returns it.
/// Of the flags, UNAME26 (uname) and READ_IMPLIES_EXEC (mmap, mprotect)
/// change what Wax does; ADDR_NO_RANDOMIZE is what it does anyway.
pub fn sys_personality(k: &mut Kernel, a: &Args) -> SysResult {
    let p = k.proc();
    let old = p.personality;
    if a[0] != PERSONALITY_QUERY {
        p.personality = a[0];
    }
    Ok(old)
}

/// sethostname(name, len) and setdomainname(name, len): EPERM without
/// privilege (CAP_SYS_ADMIN), EINVAL past 64 bytes; the name may hold any
/// bytes, NULs included, as on Linux.
fn set_uts_name(
    k: &mut Kernel,
    a: &Args,
    which: fn(&mut uname::Names) -> &mut Vec<u8>,
) -> SysResult {
    if !k.proc().cred.privileged() {
        return Err(Errno::EPERM.into());
    }
    let len = a[1] as usize;
    if len > uname::NAME_LEN {
        return Err(Errno::EINVAL.into());
    }
    let mut name = vec![0u8; len];
    k.mem().read_bytes(GuestAddr(a[0]), &mut name)?;
    *which(&mut k.uts) = name;
    Ok(0)
}

pub fn sys_sethostname(k: &mut Kernel, a: &Args) -> SysResult {
    set_uts_name(k, a, |n| &mut n.hostname)
}

pub fn sys_setdomainname(k: &mut Kernel, a: &Args) -> SysResult {
    set_uts_name(k, a, |n| &mut n.domainname)
}

pub fn sys_set_thread_area(k: &mut Kernel, a: &Args) -> SysResult {
    let at = GuestAddr(a[0]);
    let mut m = k.mem();
    let mut desc = [0u32; 4];
    for (i, w) in desc.iter_mut().enumerate() {
        *w = m.read_u32(at.add(4 * i as u32))?;
    }
    let entry = crate::tasks::tls::apply_user_desc(k.machine.cpu(), desc)?;
    k.mem().write_u32(at, entry)?;
    Ok(0)
}

pub fn sys_get_thread_area(k: &mut Kernel, a: &Args) -> SysResult {
    let at = GuestAddr(a[0]);
    let entry = k.mem().read_u32(at)?;
    let min = selector::GDT_ENTRY_TLS_MIN;
    if !(min..min + selector::GDT_ENTRY_TLS_ENTRIES).contains(&entry) {
        return Err(Errno::EINVAL.into());
    }
    let d = k.machine.cpu().tls[(entry - min) as usize];
    let flags = if d.present == 0 {
        READ_EXEC_ONLY | SEG_NOT_PRESENT
    } else {
        d.flags
    };
    let mut m = k.mem();
    m.write_u32(at.add(4), d.base)?;
    m.write_u32(at.add(8), d.limit)?;
    m.write_u32(at.add(12), flags)?;
    Ok(0)
}

pub fn sys_set_tid_address(k: &mut Kernel, a: &Args) -> SysResult {
    let t = k.thread();
    t.clear_child_tid = a[0];
    Ok(t.tid)
}

pub fn sys_set_robust_list(k: &mut Kernel, a: &Args) -> SysResult {
    if a[1] != 12 {
        return Err(Errno::EINVAL.into());
    }
    k.thread().robust_list = (a[0], a[1]);
    Ok(0)
}

fn rlimit(k: &mut Kernel, res: u32) -> KResult<(u64, u64)> {
    k.proc()
        .rlimits
        .get(res as usize)
        .copied()
        .ok_or(Errno::EINVAL)
}

/// `struct rlimit` with 32-bit fields (RLIM_INFINITY = ~0).
pub fn sys_ugetrlimit(k: &mut Kernel, a: &Args) -> SysResult {
    let (cur, max) = rlimit(k, a[0])?;
    let clamp = |v: u64| {
        if v >= u64::from(u32::MAX) {
            u32::MAX
        } else {
            v as u32
        }
    };
    let mut m = k.mem();
    m.write_u32(GuestAddr(a[1]), clamp(cur))?;
    m.write_u32(GuestAddr(a[1] + 4), clamp(max))?;
    Ok(0)
}

pub fn sys_setrlimit(k: &mut Kernel, a: &Args) -> SysResult {
    rlimit(k, a[0])?;
    let mut m = k.mem();
    let widen = |v: u32| {
        if v == u32::MAX {
            RLIM_INFINITY
        } else {
            u64::from(v)
        }
    };
    let cur = widen(m.read_u32(GuestAddr(a[1]))?);
    let max = widen(m.read_u32(GuestAddr(a[1] + 4))?);
    set_rlimit(k, a[0], cur, max)
}

fn set_rlimit(k: &mut Kernel, res: u32, cur: u64, max: u64) -> SysResult {
    use crate::tasks::process::RLIMIT_NOFILE;
    if cur > max {
        return Err(Errno::EINVAL.into());
    }
    let raise = max > k.proc().rlimits[res as usize].1;
    let past_nr_open = res as usize == RLIMIT_NOFILE && max > NR_OPEN as u64;
    if past_nr_open || (raise && !k.proc().cred.privileged()) {
        return Err(Errno::EPERM.into());
    }
    k.proc().rlimits[res as usize] = (cur, max);
    Ok(0)
}

pub fn sys_prlimit64(k: &mut Kernel, a: &Args) -> SysResult {
    let (pid, res, new, old) = (a[0], a[1], a[2], a[3]);
    if pid != 0 && pid != k.proc().pid {
        return Err(Errno::ESRCH.into());
    }
    let (cur, max) = rlimit(k, res)?;
    let mut m = k.mem();
    let next = if new != 0 {
        Some((m.read_u64(GuestAddr(new))?, m.read_u64(GuestAddr(new + 8))?))
    } else {
        None
    };
    if old != 0 {
        m.write_u64(GuestAddr(old), cur)?;
        m.write_u64(GuestAddr(old + 8), max)?;
    }
    if let Some((c, x)) = next {
        set_rlimit(k, res, c, x)?;
    }
    Ok(0)
}

/// `struct sysinfo` (i386, 64 bytes).
/// sysinfo: uptime, memory as /proc/meminfo shows it, and the number of
/// tasks; load averages are zero, as /proc/loadavg shows them.
pub fn sys_sysinfo(k: &mut Kernel, a: &Args) -> SysResult {
    let up = (k.time.monotonic().as_nanos() - k.time.boot().as_nanos()) / 1_000_000_000;
    let total = k.machine_bytes();
    let free = total.saturating_sub(u64::from(k.frames_in_use()) * 4096);
    let (unit, shift) = mem_unit(total);
    let words = [
        up as u32,
        0,
        0,
        0,
        (total >> shift) as u32,
        (free >> shift) as u32,
        0,
        0,
        0,
        0,
    ];
    let mut b = [0u8; 64];
    for (i, w) in words.iter().enumerate() {
        b[i * 4..i * 4 + 4].copy_from_slice(&w.to_le_bytes());
    }
    let procs = k.tasks.task_count().min(u32::from(u16::MAX)) as u16;
    b[40..42].copy_from_slice(&procs.to_le_bytes());
    b[52..56].copy_from_slice(&unit.to_le_bytes());
    k.mem().write_bytes(GuestAddr(a[0]), &b)?;
    Ok(0)
}

/// sysinfo's mem_unit for `total` bytes and the shift it stands for:
/// bytes while they fit 32 bits, else the smallest power of two that
/// makes them fit (Linux's compat_sysinfo).
fn mem_unit(total: u64) -> (u32, u32) {
    let shift = (64 - total.leading_zeros()).saturating_sub(32);
    (1 << shift, shift)
}

pub fn sys_getrandom(k: &mut Kernel, a: &Args) -> SysResult {
    const GRND_NONBLOCK: u32 = 1;
    const GRND_RANDOM: u32 = 2;
    const GRND_INSECURE: u32 = 4;
    if a[2] & !(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE) != 0
        || a[2] & (GRND_RANDOM | GRND_INSECURE) == GRND_RANDOM | GRND_INSECURE
    {
        return Err(Errno::EINVAL.into());
    }
    let len = (a[1] as usize).min(MAX_IO);
    let mut b = vec![0u8; len];
    k.entropy.borrow_mut().fill(&mut b);
    k.mem().write_bytes(GuestAddr(a[0]), &b)?;
    Ok(len as u32)
}

/// Reads a relative timeout (`struct timespec`, 32- or 64-bit).
pub(crate) fn read_timespec(k: &mut Kernel, at: u32, wide: bool) -> KResult<Timespec> {
    let mut m = k.mem();
    let (sec, nsec) = if wide {
        (
            m.read_u64(GuestAddr(at))? as i64,
            m.read_u64(GuestAddr(at + 8))? as i64,
        )
    } else {
        (
            i64::from(m.read_u32(GuestAddr(at))? as i32),
            i64::from(m.read_u32(GuestAddr(at + 4))? as i32),
        )
    };
    if !(0..1_000_000_000).contains(&nsec) || sec < 0 {
        return Err(Errno::EINVAL);
    }
    Ok(Timespec {
        sec,
        nsec: nsec as u32,
    })
}

/// futex(2) operations (the low 7 bits; 128 is FUTEX_PRIVATE_FLAG, 256
/// FUTEX_CLOCK_REALTIME).
const FUTEX_PRIVATE_FLAG: u32 = 128;

mod fop {
    pub const WAIT: u32 = 0;
    pub const WAKE: u32 = 1;
    pub const REQUEUE: u32 = 3;
    pub const CMP_REQUEUE: u32 = 4;
    pub const WAKE_OP: u32 = 5;
    pub const WAIT_BITSET: u32 = 9;
    pub const WAKE_BITSET: u32 = 10;
    pub const CLOCK_REALTIME: u32 = 256;
}

fn futex(k: &mut Kernel, a: &Args, wide: bool) -> SysOutcome {
    let (addr, op, val, timeout, addr2, val3) = (a[0], a[1] & 0x7f, a[2], a[3], a[4], a[5]);
    let p = k.thread().process;
    let private = a[1] & FUTEX_PRIVATE_FLAG != 0;
    // val2 (requeue/wake count) travels in the timeout argument.
    let val2 = timeout;
    match op {
        fop::WAIT => futex_wait(k, addr, val, timeout, (u32::MAX, private), None, wide),
        fop::WAIT_BITSET => {
            if val3 == 0 {
                return Err(Errno::EINVAL.into());
            }
            let clock = (a[1] & fop::CLOCK_REALTIME != 0) as u32;
            futex_wait(k, addr, val, timeout, (val3, private), Some(clock), wide)
        }
        fop::WAKE => Ok(Outcome::Done(k.futex_wake(p, addr, val, u32::MAX, private))),
        fop::WAKE_BITSET if val3 == 0 => Err(Errno::EINVAL.into()),
        fop::WAKE_BITSET => Ok(Outcome::Done(k.futex_wake(p, addr, val, val3, private))),
        fop::REQUEUE => Ok(Outcome::Done(
            k.futex_requeue(p, addr, addr2, val, val2, private),
        )),
        fop::CMP_REQUEUE => {
            if k.mem().read_u32(GuestAddr(addr))? != val3 {
                return Err(Errno::EAGAIN.into());
            }
            Ok(Outcome::Done(
                k.futex_requeue(p, addr, addr2, val, val2, private),
            ))
        }
        fop::WAKE_OP => {
            let old = k.mem().read_u32(GuestAddr(addr2))?;
            let (new, hit) = crate::tasks::futex::wake_op(val3, old).ok_or(Errno::ENOSYS)?;
            k.mem().write_u32(GuestAddr(addr2), new)?;
            let mut n = k.futex_wake(p, addr, val, u32::MAX, private);
            if hit {
                n += k.futex_wake(p, addr2, val2, u32::MAX, private);
            }
            Ok(Outcome::Done(n))
        }
        _ => Err(Errno::ENOSYS.into()),
    }
}

/// FUTEX_WAIT (relative timeout) and FUTEX_WAIT_BITSET (absolute, on
/// CLOCK_MONOTONIC or, with `clock` 1, CLOCK_REALTIME).
fn futex_wait(
    k: &mut Kernel,
    addr: u32,
    val: u32,
    timeout: u32,
    (bitset, private): (u32, bool),
    clock: Option<u32>,
    wide: bool,
) -> SysOutcome {
    if !addr.is_multiple_of(4) {
        return Err(Errno::EINVAL.into());
    }
    if k.mem().read_u32(GuestAddr(addr))? != val {
        return Err(Errno::EAGAIN.into());
    }
    let now = k.time.monotonic().as_nanos();
    let deadline = if timeout == 0 {
        None
    } else {
        let t = read_timespec(k, timeout, wide)?.as_nanos();
        Some(Timespec::from_nanos(match clock {
            None => now + t,
            Some(0) => t,
            Some(_) => now + (t - k.time.realtime().as_nanos()),
        }))
    };
    if deadline.is_some_and(|d| d.as_nanos() <= now) {
        return Err(Errno::ETIMEDOUT.into());
    }
    Ok(Outcome::Block(Wait::Futex {
        addr,
        bitset,
        private,
        deadline,
    }))
}

pub fn sys_futex(k: &mut Kernel, a: &Args) -> SysOutcome {
    futex(k, a, false)
}

pub fn sys_futex64(k: &mut Kernel, a: &Args) -> SysOutcome {
    futex(k, a, true)
}

/// prctl: thread names, the parent-death signal, dumpable; other options
/// EINVAL.
pub fn sys_prctl(k: &mut Kernel, a: &Args) -> SysResult {
    const PR_SET_PDEATHSIG: u32 = 1;
    const PR_GET_PDEATHSIG: u32 = 2;
    const PR_GET_DUMPABLE: u32 = 3;
    const PR_SET_DUMPABLE: u32 = 4;
    const PR_SET_NAME: u32 = 15;
    const PR_GET_NAME: u32 = 16;
    const PR_SET_CHILD_SUBREAPER: u32 = 36;
    const PR_GET_NO_NEW_PRIVS: u32 = 39;
    const PR_SET_NO_NEW_PRIVS: u32 = 38;
    match a[0] {
        PR_SET_NAME => {
            let mut name = [0u8; 16];
            let s = k.mem().read_cstr(GuestAddr(a[1]), 16)?;
            let s = match s {
                Some(s) => s,
                None => {
                    let mut b = [0u8; 15];
                    k.mem().read_bytes(GuestAddr(a[1]), &mut b)?;
                    b.to_vec()
                }
            };
            let n = s.len().min(15);
            name[..n].copy_from_slice(&s[..n]);
            k.thread().comm = name;
            Ok(0)
        }
        PR_GET_NAME => {
            let name = k.thread().comm;
            k.mem().write_bytes(GuestAddr(a[1]), &name)?;
            Ok(0)
        }
        PR_SET_PDEATHSIG if a[1] <= crate::signals::NSIG => {
            k.proc().pdeathsig = a[1];
            Ok(0)
        }
        PR_SET_PDEATHSIG => Err(Errno::EINVAL.into()),
        PR_GET_PDEATHSIG => {
            let s = k.proc().pdeathsig;
            k.mem().write_u32(GuestAddr(a[1]), s)?;
            Ok(0)
        }
        PR_GET_DUMPABLE => Ok(1),
        PR_SET_DUMPABLE if a[1] <= 1 => Ok(0),
        PR_SET_CHILD_SUBREAPER | PR_SET_NO_NEW_PRIVS => Ok(0),
        PR_GET_NO_NEW_PRIVS => Ok(0),
        _ => Err(Errno::EINVAL.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::release_26;

    #[test]
    fn uname26_release_as_linux_makes_it() {
        // The host kernel's own answer for its release (a 32-bit program
        // calling uname after personality(UNAME26)).
        assert_eq!(release_26("6.18.44-fc-v1300"), "2.6.78-fc-v1300");
        assert_eq!(release_26("6.1.0-wax"), "2.6.61-wax");
        assert_eq!(release_26("5.10"), "2.6.70");
        assert_eq!(release_26("4.19.1.2-x"), "2.6.79.2-x");
    }
}
