//! Signals: numbers, names, default actions, the per-process action table,
//! pending queues with their siginfo, and the conversion of CPU exceptions
//! into signals.
//!
//! The life of a signal (the code is in `deliver.rs`): sending puts it
//! in a pending queue (the thread's for tkill and faults, the process's
//! for kill) unless it is ignored; default actions that end, stop or
//! continue the process act at once (as Linux's `complete_signal` does);
//! a caught signal waits until a thread that does not block it returns to
//! user mode, which then gets a handler frame (`frame.rs`). Standard
//! signals are pending at most once; real-time signals queue, each with
//! its own siginfo.

pub mod deliver;
pub mod frame;
pub mod signalfd;

use wax_cpu::Exception;

/// The numbers and codes are part of the ABI; the signal code names them
/// through here.
pub use crate::abi::signal::*;

/// Alternate signal stack (sigaltstack).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AltStack {
    pub sp: u32,
    pub flags: u32,
    pub size: u32,
}

/// The bit of `sig` in a signal set.
pub fn bit(sig: u32) -> u64 {
    1 << (sig - 1)
}

/// Signals that can be neither caught nor blocked.
pub const UNBLOCKABLE: u64 = 1 << (SIGKILL - 1) | 1 << (SIGSTOP - 1);

const NAMES: [(&str, &str); 31] = [
    ("SIGHUP", "Hangup"),
    ("SIGINT", "Interrupt"),
    ("SIGQUIT", "Quit"),
    ("SIGILL", "Illegal instruction"),
    ("SIGTRAP", "Trace/breakpoint trap"),
    ("SIGABRT", "Aborted"),
    ("SIGBUS", "Bus error"),
    ("SIGFPE", "Floating point exception"),
    ("SIGKILL", "Killed"),
    ("SIGUSR1", "User defined signal 1"),
    ("SIGSEGV", "Segmentation fault"),
    ("SIGUSR2", "User defined signal 2"),
    ("SIGPIPE", "Broken pipe"),
    ("SIGALRM", "Alarm clock"),
    ("SIGTERM", "Terminated"),
    ("SIGSTKFLT", "Stack fault"),
    ("SIGCHLD", "Child exited"),
    ("SIGCONT", "Continued"),
    ("SIGSTOP", "Stopped (signal)"),
    ("SIGTSTP", "Stopped"),
    ("SIGTTIN", "Stopped (tty input)"),
    ("SIGTTOU", "Stopped (tty output)"),
    ("SIGURG", "Urgent I/O condition"),
    ("SIGXCPU", "CPU time limit exceeded"),
    ("SIGXFSZ", "File size limit exceeded"),
    ("SIGVTALRM", "Virtual timer expired"),
    ("SIGPROF", "Profiling timer expired"),
    ("SIGWINCH", "Window changed"),
    ("SIGIO", "I/O possible"),
    ("SIGPWR", "Power failure"),
    ("SIGSYS", "Bad system call"),
];

/// The signal's name ("SIGSEGV"), or "SIGRTn" / "SIG?".
pub fn name(sig: u32) -> String {
    match sig {
        1..=31 => NAMES[sig as usize - 1].0.to_string(),
        32..=64 => format!("SIGRT{}", sig - 32),
        _ => "SIG?".to_string(),
    }
}

/// The strsignal text ("Segmentation fault").
pub fn description(sig: u32) -> &'static str {
    match sig {
        1..=31 => NAMES[sig as usize - 1].1,
        32..=64 => "Real-time signal",
        _ => "Unknown signal",
    }
}

/// What happens to a signal nobody handles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DefaultAction {
    Terminate,
    /// Terminate with a core dump (status has the 0x80 bit natively).
    Core,
    Ignore,
    Stop,
    Continue,
}

pub fn default_action(sig: u32) -> DefaultAction {
    match sig {
        SIGQUIT | SIGILL | SIGTRAP | SIGABRT | SIGBUS | SIGFPE | SIGSEGV | 24 | 25 | 31 => {
            DefaultAction::Core
        }
        SIGCHLD | SIGURG | SIGWINCH => DefaultAction::Ignore,
        SIGSTOP | SIGTSTP | 21 | 22 => DefaultAction::Stop,
        SIGCONT => DefaultAction::Continue,
        _ => DefaultAction::Terminate,
    }
}

/// One entry of the action table (the kernel's `struct k_sigaction`, as
/// i386 `rt_sigaction` passes it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SigAction {
    pub handler: u32,
    pub flags: u32,
    pub restorer: u32,
    pub mask: u64,
}

/// A signal raised by the CPU or the kernel, with its siginfo facts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SigInfo {
    pub signo: u32,
    pub code: i32,
    /// si_addr for faults.
    pub addr: Option<u32>,
}

/// A full `siginfo_t` (i386: 128 bytes): the number, errno, code and the
/// union's first words (kill: pid, uid; rt: pid, uid, value; chld: pid,
/// uid, status, utime, stime; fault: addr; timer: tid, overrun, value).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Siginfo {
    pub signo: u32,
    pub errno: i32,
    pub code: i32,
    pub fields: [u32; 5],
}

impl Siginfo {
    /// A signal from kill/tkill (code SI_USER or SI_TKILL).
    pub fn user(signo: u32, code: i32, pid: u32, uid: u32) -> Siginfo {
        Siginfo {
            signo,
            code,
            fields: [pid, uid, 0, 0, 0],
            ..Siginfo::default()
        }
    }

    /// A signal the kernel raises itself.
    pub fn kernel(signo: u32) -> Siginfo {
        Siginfo {
            signo,
            code: SI_KERNEL,
            ..Siginfo::default()
        }
    }

    /// SIGCHLD for a child's state change.
    pub fn child(code: i32, pid: u32, uid: u32, status: u32) -> Siginfo {
        Siginfo {
            signo: SIGCHLD,
            code,
            fields: [pid, uid, status, 0, 0],
            ..Siginfo::default()
        }
    }

    /// The 128-byte image.
    pub fn to_bytes(self) -> [u8; 128] {
        let mut b = [0u8; 128];
        let words = [self.signo, self.errno as u32, self.code as u32];
        for (i, w) in words.iter().chain(&self.fields).enumerate() {
            b[4 * i..4 * i + 4].copy_from_slice(&w.to_le_bytes());
        }
        b
    }
}

impl From<SigInfo> for Siginfo {
    fn from(i: SigInfo) -> Siginfo {
        Siginfo {
            signo: i.signo,
            code: i.code,
            fields: [i.addr.unwrap_or(0), 0, 0, 0, 0],
            ..Siginfo::default()
        }
    }
}

/// Pending signals: a set, and the siginfo of each queued instance.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SigQueue {
    pub set: u64,
    pub queue: std::collections::VecDeque<Siginfo>,
}

impl SigQueue {
    /// Adds a signal; a standard signal already pending is not queued
    /// twice (it is merged), real-time signals queue.
    pub fn push(&mut self, info: Siginfo) {
        let b = bit(info.signo);
        if info.signo < SIGRTMIN && self.set & b != 0 {
            return;
        }
        self.set |= b;
        self.queue.push_back(info);
    }

    /// Removes the first instance of `sig`.
    pub fn take(&mut self, sig: u32) -> Option<Siginfo> {
        let i = self.queue.iter().position(|s| s.signo == sig)?;
        let info = self.queue.remove(i);
        if !self.queue.iter().any(|s| s.signo == sig) {
            self.set &= !bit(sig);
        }
        info
    }

    /// Drops every instance of the signals in `set`.
    pub fn discard(&mut self, set: u64) {
        self.queue.retain(|s| set & bit(s.signo) == 0);
        self.set &= !set;
    }
}

/// The signal to take first from `set`: the lowest standard signal, then
/// the lowest real-time one (as Linux's `next_signal`, which prefers the
/// synchronous ones: SEGV, BUS, ILL, TRAP, FPE, SYS).
pub fn next_signal(set: u64) -> Option<u32> {
    const SYNC: u64 = 1 << (SIGSEGV - 1)
        | 1 << (SIGBUS - 1)
        | 1 << (SIGILL - 1)
        | 1 << (SIGTRAP - 1)
        | 1 << (SIGFPE - 1)
        | 1 << 30;
    let pick = if set & SYNC != 0 { set & SYNC } else { set };
    (pick != 0).then(|| pick.trailing_zeros() + 1)
}

/// The signal Linux sends for a CPU exception.
pub fn from_exception(e: Exception) -> SigInfo {
    let plain = |signo, code| SigInfo {
        signo,
        code,
        addr: None,
    };
    match e {
        Exception::DivideError => plain(SIGFPE, 1),
        // int3 raises SIGTRAP with SI_KERNEL (do_int3 → do_trap).
        Exception::Breakpoint => plain(SIGTRAP, SI_KERNEL),
        // INT1 (ICEBP): a #DB with no DR6 bits, TRAP_BRKPT at the address
        // after it (exc_debug_user → send_sigtrap).
        Exception::Debug => plain(SIGTRAP, TRAP_BRKPT),
        Exception::InvalidOpcode => plain(SIGILL, 2),
        Exception::GeneralProtection
        | Exception::GeneralProtectionCode(_)
        | Exception::Overflow
        | Exception::BoundRange => SigInfo {
            signo: SIGSEGV,
            code: SI_KERNEL,
            addr: Some(0),
        },
        Exception::PageFault(f) => SigInfo {
            signo: if f.out_of_memory { SIGBUS } else { SIGSEGV },
            code: if f.out_of_memory {
                BUS_ADRERR
            } else if f.protection {
                SEGV_ACCERR
            } else {
                SEGV_MAPERR
            },
            addr: Some(f.addr.0),
        },
        Exception::FloatingPoint | Exception::SimdFloatingPoint => plain(SIGFPE, 0),
    }
}

/// The signal Linux sends for exception `e` taken by `cpu` (EIP still at
/// the faulting instruction, after it for traps): `from_exception`
/// completed with what Linux reads from the CPU. #DE, #UD, #MF and #XM
/// report the instruction in si_addr (`error_get_trap_addr`), #DB the
/// EIP after it; #MF and #XM carry the FPE_FLT* code of the unmasked
/// exception (`fpu__exception_code`).
pub fn from_fault(e: Exception, cpu: &wax_cpu::CpuState) -> SigInfo {
    let mut info = from_exception(e);
    match e {
        Exception::FloatingPoint => {
            let x87 = &cpu.x87;
            info.code = fpe_code(u32::from(x87.status & !x87.control));
        }
        Exception::SimdFloatingPoint => {
            // MXCSR's masks (bits 7..12) line up with its flags (0..5).
            info.code = fpe_code(cpu.mxcsr & !(cpu.mxcsr >> 7));
        }
        Exception::DivideError | Exception::InvalidOpcode | Exception::Debug => {}
        _ => return info,
    }
    info.addr = Some(cpu.eip);
    info
}

/// FPE_FLT* for unmasked exception bits `err` (x87 status word order: IE,
/// DE, ZE, OE, UE, PE), by Linux's priority. 0 (spurious) when none.
fn fpe_code(err: u32) -> i32 {
    if err & 0x01 != 0 {
        FPE_FLTINV
    } else if err & 0x04 != 0 {
        FPE_FLTDIV
    } else if err & 0x08 != 0 {
        FPE_FLTOVF
    } else if err & 0x12 != 0 {
        FPE_FLTUND
    } else if err & 0x20 != 0 {
        FPE_FLTRES
    } else {
        0
    }
}

/// The SIGTRAP of a single step: si_addr is the EIP the step ended at.
pub fn single_step(eip: u32) -> SigInfo {
    SigInfo {
        signo: SIGTRAP,
        code: TRAP_TRACE,
        addr: Some(eip),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_actions() {
        assert_eq!(name(SIGSEGV), "SIGSEGV");
        assert_eq!(description(SIGABRT), "Aborted");
        assert_eq!(name(34), "SIGRT2");
        assert_eq!(default_action(SIGCHLD), DefaultAction::Ignore);
        assert_eq!(default_action(SIGABRT), DefaultAction::Core);
        let i = from_exception(Exception::GeneralProtection);
        assert_eq!((i.signo, i.code, i.addr), (SIGSEGV, SI_KERNEL, Some(0)));
    }

    #[test]
    fn standard_signals_merge_rt_signals_queue() {
        let mut q = SigQueue::default();
        q.push(Siginfo::kernel(SIGUSR1));
        q.push(Siginfo::kernel(SIGUSR1));
        q.push(Siginfo::kernel(40));
        q.push(Siginfo::kernel(40));
        assert_eq!(q.queue.len(), 3);
        assert!(q.take(SIGUSR1).is_some());
        assert_eq!(q.set, bit(40));
        assert!(q.take(40).is_some());
        assert_eq!(q.set, bit(40));
        assert!(q.take(40).is_some());
        assert_eq!(q.set, 0);
    }

    #[test]
    fn synchronous_signals_first() {
        assert_eq!(next_signal(bit(SIGINT) | bit(SIGSEGV)), Some(SIGSEGV));
        assert_eq!(next_signal(bit(SIGINT) | bit(40)), Some(SIGINT));
        assert_eq!(next_signal(0), None);
    }

    #[test]
    fn siginfo_layout() {
        let b = Siginfo::child(CLD_EXITED, 7, 0, 3).to_bytes();
        assert_eq!(&b[0..4], &SIGCHLD.to_le_bytes());
        assert_eq!(&b[8..12], &1u32.to_le_bytes());
        assert_eq!(&b[12..16], &7u32.to_le_bytes());
        assert_eq!(&b[20..24], &3u32.to_le_bytes());
    }
}
