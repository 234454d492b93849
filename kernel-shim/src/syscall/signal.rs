//! Signal calls: actions (rt_sigaction, sigaction, signal), masks,
//! pending sets, waiting for signals, sending (kill, tkill, tgkill,
//! rt_sigqueueinfo), the alternate stack and sigreturn.

use super::{Args, Outcome, SysOutcome, SysResult};
use crate::abi::errno::{Errno, KResult};
use crate::kernel::Kernel;
use crate::signals::AltStack;
use crate::signals::{
    bit, next_signal, SigAction, Siginfo, NSIG, SIGKILL, SIGSTOP, SI_TKILL, SI_USER, UNBLOCKABLE,
};
use crate::tasks::process::Wait;
use wax_cpu::GuestAddr;
use wax_devices::Timespec;

fn valid(sig: u32) -> KResult<()> {
    if (1..=NSIG).contains(&sig) {
        Ok(())
    } else {
        Err(Errno::EINVAL)
    }
}

/// Installs `new` (if any) for `sig`; returns the old action. A signal
/// set to be ignored loses its pending instances.
fn set_action(k: &mut Kernel, sig: u32, new: Option<SigAction>) -> KResult<SigAction> {
    valid(sig)?;
    if new.is_some() && (sig == SIGKILL || sig == SIGSTOP) {
        return Err(Errno::EINVAL);
    }
    let old = k.proc().actions[sig as usize - 1];
    if let Some(mut n) = new {
        n.mask &= !UNBLOCKABLE;
        k.proc().actions[sig as usize - 1] = n;
        let ignored = n.handler == crate::signals::SIG_IGN
            || (n.handler == crate::signals::SIG_DFL
                && crate::signals::default_action(sig) == crate::signals::DefaultAction::Ignore);
        if ignored {
            let p = k.thread().process;
            k.tasks.proc_mut(p).pending.discard(bit(sig));
            for t in k.tasks.threads_of(p) {
                k.tasks.thread_mut(t).pending.discard(bit(sig));
            }
        }
    }
    Ok(old)
}

pub fn sys_rt_sigaction(k: &mut Kernel, a: &Args) -> SysResult {
    let (sig, act, oact, size) = (a[0], a[1], a[2], a[3]);
    if size != 8 {
        return Err(Errno::EINVAL.into());
    }
    let new = if act != 0 {
        let mut m = k.mem();
        Some(SigAction {
            handler: m.read_u32(GuestAddr(act))?,
            flags: m.read_u32(GuestAddr(act + 4))?,
            restorer: m.read_u32(GuestAddr(act + 8))?,
            mask: m.read_u64(GuestAddr(act + 12))?,
        })
    } else {
        None
    };
    if oact != 0 {
        k.mem().probe_write(GuestAddr(oact), 20)?;
    }
    let old = set_action(k, sig, new)?;
    if oact != 0 {
        let mut m = k.mem();
        m.write_u32(GuestAddr(oact), old.handler)?;
        m.write_u32(GuestAddr(oact + 4), old.flags)?;
        m.write_u32(GuestAddr(oact + 8), old.restorer)?;
        m.write_u64(GuestAddr(oact + 12), old.mask)?;
    }
    Ok(0)
}

/// The legacy `struct old_sigaction`: handler, mask (32 bits), flags,
/// restorer.
pub fn sys_sigaction(k: &mut Kernel, a: &Args) -> SysResult {
    let (sig, act, oact) = (a[0], a[1], a[2]);
    let new = if act != 0 {
        let mut m = k.mem();
        Some(SigAction {
            handler: m.read_u32(GuestAddr(act))?,
            mask: u64::from(m.read_u32(GuestAddr(act + 4))?),
            flags: m.read_u32(GuestAddr(act + 8))?,
            restorer: m.read_u32(GuestAddr(act + 12))?,
        })
    } else {
        None
    };
    let old = set_action(k, sig, new)?;
    if oact != 0 {
        let mut m = k.mem();
        m.write_u32(GuestAddr(oact), old.handler)?;
        m.write_u32(GuestAddr(oact + 4), old.mask as u32)?;
        m.write_u32(GuestAddr(oact + 8), old.flags)?;
        m.write_u32(GuestAddr(oact + 12), old.restorer)?;
    }
    Ok(0)
}

/// signal(2) as the kernel has it: SA_ONESHOT|SA_NOMASK semantics.
pub fn sys_signal(k: &mut Kernel, a: &Args) -> SysResult {
    use crate::signals::{SA_NODEFER, SA_RESETHAND};
    let new = SigAction {
        handler: a[1],
        flags: SA_RESETHAND | SA_NODEFER,
        restorer: 0,
        mask: 0,
    };
    Ok(set_action(k, a[0], Some(new))?.handler)
}

/// Applies a sigprocmask `how` to the current thread; returns the old
/// mask.
fn change_mask(k: &mut Kernel, how: u32, set: Option<u64>) -> KResult<u64> {
    let old = k.thread().sigmask;
    if let Some(s) = set {
        let mask = match how {
            0 => old | s,
            1 => old & !s,
            2 => s,
            _ => return Err(Errno::EINVAL),
        };
        k.thread().sigmask = mask & !UNBLOCKABLE;
    }
    Ok(old)
}

pub fn sys_rt_sigprocmask(k: &mut Kernel, a: &Args) -> SysResult {
    let (how, set, oset, size) = (a[0], a[1], a[2], a[3]);
    if size != 8 {
        return Err(Errno::EINVAL.into());
    }
    let new = if set != 0 {
        Some(k.mem().read_u64(GuestAddr(set))?)
    } else {
        None
    };
    if oset != 0 {
        k.mem().probe_write(GuestAddr(oset), 8)?;
    }
    let old = change_mask(k, how, new)?;
    if oset != 0 {
        k.mem().write_u64(GuestAddr(oset), old)?;
    }
    Ok(0)
}

pub fn sys_sigprocmask(k: &mut Kernel, a: &Args) -> SysResult {
    let (how, set, oset) = (a[0], a[1], a[2]);
    let new = if set != 0 {
        let low = u64::from(k.mem().read_u32(GuestAddr(set))?);
        Some(low | (k.thread().sigmask & !0xffff_ffff & if how == 2 { u64::MAX } else { 0 }))
    } else {
        None
    };
    let old = change_mask(k, how, new)?;
    if oset != 0 {
        k.mem().write_u32(GuestAddr(oset), old as u32)?;
    }
    Ok(0)
}

fn pending(k: &mut Kernel) -> u64 {
    let t = k.current();
    let p = k.tasks.thread(t).process;
    (k.tasks.thread(t).pending.set | k.tasks.proc(p).pending.set) & k.tasks.thread(t).sigmask
}

pub fn sys_rt_sigpending(k: &mut Kernel, a: &Args) -> SysResult {
    if a[1] > 8 {
        return Err(Errno::EINVAL.into());
    }
    let set = pending(k);
    k.mem().write_u64(GuestAddr(a[0]), set)?;
    Ok(0)
}

pub fn sys_sigpending(k: &mut Kernel, a: &Args) -> SysResult {
    let set = pending(k);
    k.mem().write_u32(GuestAddr(a[0]), set as u32)?;
    Ok(0)
}

/// Replaces the mask until a handler runs (the frame saves the old one),
/// then EINTR.
fn suspend(k: &mut Kernel, mask: u64) -> SysOutcome {
    let t = k.thread();
    if t.saved_mask.is_none() {
        t.saved_mask = Some(t.sigmask);
    }
    t.sigmask = mask & !UNBLOCKABLE;
    t.wait_set = 0;
    Ok(Outcome::Block(Wait::Signal { deadline: None }))
}

pub fn sys_rt_sigsuspend(k: &mut Kernel, a: &Args) -> SysOutcome {
    if a[1] != 8 {
        return Err(Errno::EINVAL.into());
    }
    let mask = k.mem().read_u64(GuestAddr(a[0]))?;
    suspend(k, mask)
}

/// The legacy sigsuspend(int, int, old_sigset_t mask).
pub fn sys_sigsuspend(k: &mut Kernel, a: &Args) -> SysOutcome {
    let high = k.thread().sigmask & !0xffff_ffff;
    suspend(k, high | u64::from(a[2]))
}

pub fn sys_pause(k: &mut Kernel, _a: &Args) -> SysOutcome {
    k.thread().wait_set = 0;
    Ok(Outcome::Block(Wait::Signal { deadline: None }))
}

fn sigtimedwait(k: &mut Kernel, a: &Args, wide: bool) -> SysOutcome {
    let (set, info, timeout, size) = (a[0], a[1], a[2], a[3]);
    if size != 8 {
        return Err(Errno::EINVAL.into());
    }
    let want = k.mem().read_u64(GuestAddr(set))? & !UNBLOCKABLE;
    let t = k.current();
    let p = k.tasks.thread(t).process;
    let avail = (k.tasks.thread(t).pending.set | k.tasks.proc(p).pending.set) & want;
    if let Some(sig) = next_signal(avail) {
        k.thread().restart_deadline = None;
        let si = match k.tasks.thread_mut(t).pending.take(sig) {
            Some(s) => s,
            None => k.tasks.proc_mut(p).pending.take(sig).unwrap_or_default(),
        };
        if info != 0 {
            k.mem().write_bytes(GuestAddr(info), &si.to_bytes())?;
        }
        return Ok(Outcome::Done(sig));
    }
    let deadline = match k.thread().restart_deadline.take() {
        Some(d) => Some(d),
        None if timeout == 0 => None,
        None => {
            let d = super::misc::read_timespec(k, timeout, wide)?;
            Some(Timespec::from_nanos(
                k.time.monotonic().as_nanos() + d.as_nanos(),
            ))
        }
    };
    if deadline.is_some_and(|d| k.time.monotonic() >= d) {
        return Err(Errno::EAGAIN.into());
    }
    k.thread().restart_deadline = deadline;
    k.thread().wait_set = want;
    Ok(Outcome::Block(Wait::Signal { deadline }))
}

pub fn sys_rt_sigtimedwait(k: &mut Kernel, a: &Args) -> SysOutcome {
    sigtimedwait(k, a, false)
}

pub fn sys_rt_sigtimedwait64(k: &mut Kernel, a: &Args) -> SysOutcome {
    sigtimedwait(k, a, true)
}

/// Processes `pid` selects for kill: >0 one, 0 the caller's group, -1
/// everyone but the virtual init and the caller, < -1 a group.
fn kill_targets(k: &mut Kernel, pid: i32) -> Vec<usize> {
    let me = k.thread().process;
    k.tasks.kill_targets(me, pid)
}

pub fn sys_kill(k: &mut Kernel, a: &Args) -> SysOutcome {
    let (pid, sig) = (a[0] as i32, a[1]);
    if sig > NSIG {
        return Err(Errno::EINVAL.into());
    }
    if pid == i32::MIN {
        return Err(Errno::ESRCH.into());
    }
    let targets = kill_targets(k, pid);
    if targets.is_empty() {
        return Err(Errno::ESRCH.into());
    }
    let info = Siginfo::user(sig, SI_USER, k.proc().pid, k.proc().cred.ruid);
    for p in targets {
        if sig != 0 {
            k.signal_process(p, info);
        }
    }
    exited_or(k, 0)
}

/// A signal may have ended the caller itself.
fn exited_or(k: &mut Kernel, v: u32) -> SysOutcome {
    if !k.thread().alive() {
        return Ok(Outcome::NoReturn);
    }
    Ok(Outcome::Done(v))
}

fn thread_kill(k: &mut Kernel, tgid: Option<u32>, tid: u32, sig: u32) -> SysOutcome {
    if sig > NSIG || (tid as i32) <= 0 {
        return Err(Errno::EINVAL.into());
    }
    let t = k.tasks.find_tid(tid).ok_or(Errno::ESRCH)?;
    if tgid.is_some_and(|g| k.tasks.proc(k.tasks.thread(t).process).pid != g) {
        return Err(Errno::ESRCH.into());
    }
    if sig != 0 {
        let info = Siginfo::user(sig, SI_TKILL, k.proc().pid, k.proc().cred.ruid);
        k.signal_thread(t, info);
    }
    exited_or(k, 0)
}

pub fn sys_tkill(k: &mut Kernel, a: &Args) -> SysOutcome {
    thread_kill(k, None, a[0], a[1])
}

pub fn sys_tgkill(k: &mut Kernel, a: &Args) -> SysOutcome {
    thread_kill(k, Some(a[0]), a[1], a[2])
}

/// rt_sigqueueinfo(tgid, sig, info) and rt_tgsigqueueinfo(tgid, tid,
/// sig, info): the caller's siginfo (a negative si_code).
fn queueinfo(k: &mut Kernel, tid: Option<u32>, pid: u32, sig: u32, at: u32) -> SysOutcome {
    valid(sig)?;
    let mut b = [0u8; 32];
    k.mem().read_bytes(GuestAddr(at), &mut b)?;
    let word = |i: usize| u32::from_le_bytes(b[4 * i..4 * i + 4].try_into().expect("4 bytes"));
    let code = word(2) as i32;
    if code >= 0 || code == SI_TKILL {
        return Err(Errno::EPERM.into());
    }
    let info = Siginfo {
        signo: sig,
        errno: word(1) as i32,
        code,
        fields: [word(3), word(4), word(5), word(6), word(7)],
    };
    match tid {
        Some(tid) => {
            let t = k.tasks.find_tid(tid).ok_or(Errno::ESRCH)?;
            k.signal_thread(t, info);
        }
        None => {
            let p = k.tasks.find_pid(pid).ok_or(Errno::ESRCH)?;
            k.signal_process(p, info);
        }
    }
    exited_or(k, 0)
}

/// pidfd_send_signal(pidfd, sig, info, flags): kill(2) for the process
/// the pidfd names (ESRCH once it has been waited for: its pid may name
/// another process by then), or rt_sigqueueinfo's checks on `info`.
pub fn sys_pidfd_send_signal(k: &mut Kernel, a: &Args) -> SysOutcome {
    let (fd, sig, info, flags) = (a[0], a[1], a[2], a[3]);
    if flags != 0 || sig > NSIG {
        return Err(Errno::EINVAL.into());
    }
    let (pid, slot) = super::process::pidfd_or_proc_dir_target(k, fd)?;
    let p = slot.ok_or(Errno::ESRCH)?;
    if info != 0 {
        return queueinfo(k, None, pid, sig, info);
    }
    if sig != 0 {
        let info = Siginfo::user(sig, SI_USER, k.proc().pid, k.proc().cred.ruid);
        k.signal_process(p, info);
    }
    exited_or(k, 0)
}

pub fn sys_rt_sigqueueinfo(k: &mut Kernel, a: &Args) -> SysOutcome {
    queueinfo(k, None, a[0], a[1], a[2])
}

pub fn sys_rt_tgsigqueueinfo(k: &mut Kernel, a: &Args) -> SysOutcome {
    queueinfo(k, Some(a[1]), a[0], a[2], a[3])
}

pub fn sys_sigaltstack(k: &mut Kernel, a: &Args) -> SysResult {
    const SS_ONSTACK: u32 = 1;
    const SS_DISABLE: u32 = 2;
    const SS_AUTODISARM: u32 = 1 << 31;
    const MINSIGSTKSZ: u32 = 2048;
    let (ss, oss) = (a[0], a[1]);
    let old = k.thread().altstack;
    let sp = k.machine.cpu().gpr[wax_cpu::state::reg::ESP];
    let on = old.size != 0 && sp.wrapping_sub(old.sp) < old.size;
    let new = if ss != 0 {
        let mut m = k.mem();
        let sp = m.read_u32(GuestAddr(ss))?;
        let flags = m.read_u32(GuestAddr(ss + 4))?;
        let size = m.read_u32(GuestAddr(ss + 8))?;
        if on {
            return Err(Errno::EPERM.into());
        }
        let mode = flags & !SS_AUTODISARM;
        if mode != 0 && mode != SS_DISABLE && mode != SS_ONSTACK {
            return Err(Errno::EINVAL.into());
        }
        if mode == SS_DISABLE {
            Some(AltStack::default())
        } else if size < MINSIGSTKSZ {
            return Err(Errno::ENOMEM.into());
        } else {
            Some(AltStack {
                sp,
                flags: flags & SS_AUTODISARM,
                size,
            })
        }
    } else {
        None
    };
    if oss != 0 {
        let flags = if old.size == 0 {
            SS_DISABLE
        } else if on {
            SS_ONSTACK
        } else {
            old.flags
        };
        let mut m = k.mem();
        m.write_u32(GuestAddr(oss), old.sp)?;
        m.write_u32(GuestAddr(oss + 4), flags)?;
        m.write_u32(GuestAddr(oss + 8), old.size)?;
    }
    if let Some(n) = new {
        k.thread().altstack = n;
    }
    Ok(0)
}

/// A frame that cannot be read kills with SIGSEGV, as on Linux.
fn bad_frame(k: &mut Kernel) -> SysOutcome {
    k.force_signal(Siginfo::kernel(crate::signals::SIGSEGV));
    Ok(Outcome::NoReturn)
}

pub fn sys_rt_sigreturn(k: &mut Kernel, _a: &Args) -> SysOutcome {
    match k.rt_sigreturn() {
        Ok(eax) => Ok(Outcome::Done(eax)),
        Err(_) => bad_frame(k),
    }
}

pub fn sys_sigreturn(k: &mut Kernel, _a: &Args) -> SysOutcome {
    match k.sigreturn() {
        Ok(eax) => Ok(Outcome::Done(eax)),
        Err(_) => bad_frame(k),
    }
}
