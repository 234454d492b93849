//! Why the interpreter (or, later, translated code) stopped.

use crate::mem::PageFault;

/// A CPU exception in user mode, before the kernel turns it into a signal.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Exception {
    /// #DE: DIV/IDIV by zero or quotient overflow (SIGFPE, FPE_INTDIV).
    DivideError,
    /// #DB from INT1 (ICEBP, F1); a trap, EIP points after it (SIGTRAP,
    /// TRAP_BRKPT). Single-step traps are raised by the kernel, which runs
    /// a thread with EFLAGS.TF one instruction at a time.
    Debug,
    /// #BP from INT3; a trap, EIP points after it (SIGTRAP).
    Breakpoint,
    /// #OF from INTO (SIGSEGV on Linux).
    Overflow,
    /// #BR from BOUND (SIGSEGV on Linux).
    BoundRange,
    /// #UD: undefined or unsupported opcode, UD2, LOCK misuse (SIGILL).
    InvalidOpcode,
    /// #GP(0): privileged instruction, null selector, misaligned SSE
    /// access (SIGSEGV, si_code SI_KERNEL, address 0).
    GeneralProtection,
    /// #GP with a non-zero error code: a selector that may not be loaded
    /// (its index and TI bit, RPL cleared), or `vector * 8 + 2` for
    /// `int n` through an IDT gate user mode may not use. Linux reports
    /// the code in the signal context's `err`.
    GeneralProtectionCode(u16),
    /// #PF (SIGSEGV with the faulting address, or SIGBUS past a file's end).
    PageFault(PageFault),
    /// #MF: an unmasked x87 exception (SIGFPE).
    FloatingPoint,
    /// #XM: an unmasked SSE exception (SIGFPE).
    SimdFloatingPoint,
}

impl Exception {
    /// Traps report the address after the instruction; faults the
    /// instruction itself.
    pub fn is_trap(self) -> bool {
        matches!(
            self,
            Exception::Breakpoint | Exception::Overflow | Exception::Debug
        )
    }
}

/// The reason execution stopped and control returned to the kernel.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Exit {
    /// `int 0x80`: EIP is past the instruction, EAX holds the call number.
    Syscall,
    /// An exception; EIP is at the faulting instruction (after it for traps).
    Exception(Exception),
    /// The instruction budget is spent; EIP is the next instruction.
    BudgetSpent,
    /// RDTSC: EIP is past the instruction; the kernel, which owns the
    /// clock, puts the time-stamp counter in EDX:EAX.
    Rdtsc,
    /// An instruction (POPF, IRET) set EFLAGS.TF; EIP is the next
    /// instruction. From there the kernel runs the thread one instruction
    /// at a time ([`crate::interp::step`]) and raises the single-step trap
    /// after each, as long as TF stays set.
    SingleStep,
}

impl From<PageFault> for Exit {
    fn from(f: PageFault) -> Exit {
        Exit::Exception(Exception::PageFault(f))
    }
}

impl From<Exception> for Exit {
    fn from(e: Exception) -> Exit {
        Exit::Exception(e)
    }
}
