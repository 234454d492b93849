//! Why the interpreter (or, later, translated code) stopped.

use crate::mem::PageFault;

/// A CPU exception in user mode, before the kernel turns it into a signal.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Exception {
    /// #DE: DIV/IDIV by zero or quotient overflow (SIGFPE, FPE_INTDIV).
    DivideError,
    /// #BP from INT3; a trap, EIP points after it (SIGTRAP).
    Breakpoint,
    /// #OF from INTO (SIGSEGV on Linux).
    Overflow,
    /// #BR from BOUND (SIGSEGV on Linux).
    BoundRange,
    /// #UD: undefined or unsupported opcode, UD2, LOCK misuse (SIGILL).
    InvalidOpcode,
    /// #GP(0): privileged instruction, bad selector, misaligned SSE access,
    /// `int n` other than 0x80 (SIGSEGV, si_code SI_KERNEL, address 0).
    GeneralProtection,
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
        matches!(self, Exception::Breakpoint | Exception::Overflow)
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
