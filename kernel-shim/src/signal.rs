//! Signals: numbers, names, default actions, the per-process action table
//! and the conversion of CPU exceptions into signals.
//!
//! Handler delivery (rt_sigframe, rt_sigreturn) is the next issue: for now
//! a signal whose action is "terminate" ends the process, an ignored one
//! is dropped, and a signal with a handler installed still terminates
//! (documented in the report; the table already stores what delivery will
//! need).

use wax_cpu::mem::Access;
use wax_cpu::Exception;

pub const SIGHUP: u32 = 1;
pub const SIGINT: u32 = 2;
pub const SIGQUIT: u32 = 3;
pub const SIGILL: u32 = 4;
pub const SIGTRAP: u32 = 5;
pub const SIGABRT: u32 = 6;
pub const SIGBUS: u32 = 7;
pub const SIGFPE: u32 = 8;
pub const SIGKILL: u32 = 9;
pub const SIGUSR1: u32 = 10;
pub const SIGSEGV: u32 = 11;
pub const SIGUSR2: u32 = 12;
pub const SIGPIPE: u32 = 13;
pub const SIGALRM: u32 = 14;
pub const SIGTERM: u32 = 15;
pub const SIGCHLD: u32 = 17;
pub const SIGCONT: u32 = 18;
pub const SIGSTOP: u32 = 19;
pub const SIGTSTP: u32 = 20;
pub const SIGURG: u32 = 23;
pub const SIGWINCH: u32 = 28;
/// Highest signal number (real-time signals included).
pub const NSIG: u32 = 64;

pub const SIG_DFL: u32 = 0;
pub const SIG_IGN: u32 = 1;

/// si_code values for SIGSEGV.
pub const SEGV_MAPERR: i32 = 1;
pub const SEGV_ACCERR: i32 = 2;
/// si_code of a signal the kernel raised for a #GP.
pub const SI_KERNEL: i32 = 0x80;

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

/// The signal Linux sends for a CPU exception.
pub fn from_exception(e: Exception) -> SigInfo {
    let plain = |signo, code| SigInfo {
        signo,
        code,
        addr: None,
    };
    match e {
        Exception::DivideError => plain(SIGFPE, 1),
        Exception::Breakpoint => plain(SIGTRAP, SI_KERNEL),
        Exception::InvalidOpcode => plain(SIGILL, 2),
        Exception::GeneralProtection | Exception::Overflow | Exception::BoundRange => SigInfo {
            signo: SIGSEGV,
            code: SI_KERNEL,
            addr: Some(0),
        },
        Exception::PageFault(f) => SigInfo {
            signo: if f.out_of_memory { SIGBUS } else { SIGSEGV },
            code: if f.protection {
                SEGV_ACCERR
            } else {
                SEGV_MAPERR
            },
            addr: Some(f.addr.0),
        },
        Exception::FloatingPoint | Exception::SimdFloatingPoint => plain(SIGFPE, 0),
    }
}

/// Describes the access of a page fault (for diagnostics).
pub fn access_name(a: Access) -> &'static str {
    match a {
        Access::Read => "read",
        Access::Write => "write",
        Access::Exec => "execute",
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
}
