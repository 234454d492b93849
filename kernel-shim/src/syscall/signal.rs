//! Signal bookkeeping: actions, the blocked mask and the alternate stack.
//! These are stored exactly as handler delivery (the next issue) needs
//! them.

use super::{Args, SysErr, SysResult};
use crate::errno::Errno;
use crate::kernel::Kernel;
use crate::signal::{SigAction, SigInfo, NSIG, SIGKILL, SIGSEGV, SIGSTOP};
use wax_cpu::GuestAddr;

/// Signals that can be neither caught nor blocked.
const UNBLOCKABLE: u64 = 1 << (SIGKILL - 1) | 1 << (SIGSTOP - 1);

pub fn sys_rt_sigaction(k: &mut Kernel, a: &Args) -> SysResult {
    let (sig, act, oact, size) = (a[0], a[1], a[2], a[3]);
    if size != 8 || !(1..=NSIG).contains(&sig) {
        return Err(Errno::EINVAL.into());
    }
    if act != 0 && (sig == SIGKILL || sig == SIGSTOP) {
        return Err(Errno::EINVAL.into());
    }
    let mut m = k.mem();
    let new = if act != 0 {
        Some(SigAction {
            handler: m.read_u32(GuestAddr(act))?,
            flags: m.read_u32(GuestAddr(act + 4))?,
            restorer: m.read_u32(GuestAddr(act + 8))?,
            mask: m.read_u64(GuestAddr(act + 12))? & !UNBLOCKABLE,
        })
    } else {
        None
    };
    let old = k.proc().actions[sig as usize - 1];
    if oact != 0 {
        let mut m = k.mem();
        m.write_u32(GuestAddr(oact), old.handler)?;
        m.write_u32(GuestAddr(oact + 4), old.flags)?;
        m.write_u32(GuestAddr(oact + 8), old.restorer)?;
        m.write_u64(GuestAddr(oact + 12), old.mask)?;
    }
    if let Some(n) = new {
        k.proc().actions[sig as usize - 1] = n;
    }
    Ok(0)
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
    let old = k.thread().sigmask;
    if oset != 0 {
        k.mem().write_u64(GuestAddr(oset), old)?;
    }
    if let Some(s) = new {
        let mask = match how {
            0 => old | s,
            1 => old & !s,
            2 => s,
            _ => return Err(Errno::EINVAL.into()),
        };
        k.thread().sigmask = mask & !UNBLOCKABLE;
        deliver_unblocked(k);
        if k.exit.is_some() {
            return Err(SysErr::Exited);
        }
    }
    Ok(0)
}

/// Acts on pending signals that are no longer blocked.
fn deliver_unblocked(k: &mut Kernel) {
    let t = k.thread();
    let ready = t.pending & !t.sigmask;
    t.pending &= !ready;
    for sig in 1..=NSIG {
        if ready & 1 << (sig - 1) != 0 {
            k.send_signal(
                SigInfo {
                    signo: sig,
                    code: 0,
                    addr: None,
                },
                None,
            );
        }
    }
}

pub fn sys_sigaltstack(k: &mut Kernel, a: &Args) -> SysResult {
    const SS_DISABLE: u32 = 2;
    const MINSIGSTKSZ: u32 = 2048;
    let (ss, oss) = (a[0], a[1]);
    let old = k.thread().altstack;
    let new = if ss != 0 {
        let mut m = k.mem();
        let sp = m.read_u32(GuestAddr(ss))?;
        let flags = m.read_u32(GuestAddr(ss + 4))?;
        let size = m.read_u32(GuestAddr(ss + 8))?;
        if flags & !SS_DISABLE & !(1 << 31) != 0 {
            return Err(Errno::EINVAL.into());
        }
        if flags & SS_DISABLE == 0 && size < MINSIGSTKSZ {
            return Err(Errno::ENOMEM.into());
        }
        Some(crate::process::AltStack { sp, flags, size })
    } else {
        None
    };
    if oss != 0 {
        let flags = if old.size == 0 || old.flags & SS_DISABLE != 0 {
            SS_DISABLE
        } else {
            0
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

/// No handler frame is ever pushed yet, so a sigreturn finds garbage:
/// Linux kills such a process with SIGSEGV.
pub fn sys_rt_sigreturn(k: &mut Kernel, _a: &Args) -> SysResult {
    let eip = k.machine.cpu().eip;
    let info = SigInfo {
        signo: SIGSEGV,
        code: 0x80,
        addr: Some(0),
    };
    k.send_signal(info, Some(eip));
    Err(SysErr::Exited)
}
