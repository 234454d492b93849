//! The system call layer: the path of an `int 0x80`.
//!
//! The interpreter stops with `Exit::Syscall` (EIP already past the
//! instruction). [`dispatch`] reads the number from EAX and the arguments
//! from EBX, ECX, EDX, ESI, EDI, EBP, finds the row for the number in
//! [`table::TABLE`] (one row per call: number, Linux name, handler,
//! argument kinds for `--strace`), runs the handler and writes the result
//! (or `-errno`) back to EAX. Numbers without a row return -ENOSYS,
//! like a kernel built without the call: the guest's output stays its own,
//! and the call is reported once per run as a `wax_log` event (the CLI
//! writes those to the file `WAX_LOG` names) and on every call under
//! `--strace`.
//!
//! A handler's type says whether the call can do anything but return.
//! Most return a [`SysResult`]: a value or an error ([`SysErr`]), always
//! written back at once. The calls that can park the thread or end the
//! calling program return a [`SysOutcome`], whose [`Outcome`] is done
//! (a value), blocked (the thread parks on a [`Wait`]; `run` then returns
//! to the host and the call completes or restarts later, see
//! `tasks/sched.rs`) or no return (the thread or process ended, or execve
//! replaced the program). A blocked call is not an error: [`SysErr`] only
//! holds what goes back as `-errno` and the out-of-memory kill. The table
//! says which kind each row is ([`table::Handler`]); helpers below a
//! handler that may have to park return the wait the same way (an
//! [`Outcome`], a [`Ready`] value, or an `Option<Wait>`), never an error.

mod cred;
mod event;
mod fs;
mod fsattr;
mod fsmeta;
mod guestio;
mod mem;
pub(crate) mod misc;
pub mod names;
pub(crate) mod net;
mod poll;
mod process;
mod procinfo;
pub mod sched;
mod signal;
mod splice;
mod strace;
pub mod table;
mod time;
mod xattr;

use crate::abi::errno::Errno;
use crate::kernel::Kernel;
use crate::tasks::process::Wait;
use wax_cpu::state::reg;

/// The six argument registers, in order.
pub type Args = [u32; 6];

/// How a system call failed: an errno for the caller, or a kill.
///
/// A call that parks the thread or does not return has not failed: see
/// [`Outcome`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SysErr {
    Errno(Errno),
    /// Guest memory ran out while the call wrote to the caller's memory:
    /// the caller is killed (`tasks/oom.rs`).
    OutOfMemory,
}

/// What a call that can park the thread or end the calling program did
/// (a handler returning [`SysOutcome`]; the others always return).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Finished: the value goes to EAX.
    Done(u32),
    /// Not finished: the thread parks until the wait ends, then the call
    /// restarts or returns the result the wait stored ([`Wait::restarts`]).
    Block(Wait),
    /// Nothing goes back to the caller: the thread or its process ended
    /// (exit, a signal it sent itself, a bad signal frame), or execve
    /// replaced the program (its registers are already set).
    NoReturn,
}

/// What a helper that may have to park its caller found: the value to go
/// on with, or the wait the call returns as [`Outcome::Block`].
#[derive(Debug)]
pub enum Ready<T> {
    Now(T),
    Block(Wait),
}

impl From<Errno> for SysErr {
    fn from(e: Errno) -> SysErr {
        SysErr::Errno(e)
    }
}

impl From<wax_cpu::PageFault> for SysErr {
    fn from(f: wax_cpu::PageFault) -> SysErr {
        if f.out_of_memory {
            SysErr::OutOfMemory
        } else {
            SysErr::Errno(Errno::EFAULT)
        }
    }
}

/// The result of a call that always returns to its caller.
pub type SysResult = Result<u32, SysErr>;

/// The result of a call that can park the thread or not return.
pub type SysOutcome = Result<Outcome, SysErr>;

/// Handles the system call the current thread stopped at.
pub fn dispatch(k: &mut Kernel) {
    let cpu = k.machine.cpu();
    let nr = cpu.gpr[reg::EAX];
    let g = cpu.gpr;
    let args: Args = [
        g[reg::EBX],
        g[reg::ECX],
        g[reg::EDX],
        g[reg::ESI],
        g[reg::EDI],
        g[reg::EBP],
    ];
    let Some(row) = table::lookup(nr) else {
        unimplemented(k, nr, &args);
        return;
    };
    if k.strace && row.name.starts_with("exit") {
        strace::log(k, row, &args, None);
    }
    let ret = match row.handler.call(k, &args) {
        Ok(Outcome::Done(v)) => v,
        Ok(Outcome::Block(w)) => {
            if k.strace {
                strace::log_blocked(k, row, &args, w);
            }
            k.park(w);
            return;
        }
        Ok(Outcome::NoReturn) => return,
        Err(SysErr::Errno(e)) => e.as_return(),
        Err(SysErr::OutOfMemory) => {
            let p = k.thread().process;
            k.out_of_memory(p);
            Errno::ENOMEM.as_return()
        }
    };
    k.machine.cpu().gpr[reg::EAX] = ret;
    if k.strace {
        strace::log(k, row, &args, Some(ret));
    }
}

fn unimplemented(k: &mut Kernel, nr: u32, args: &Args) {
    let name = table::name_of(nr);
    if k.reported.insert(nr) {
        tracing::warn!(target: "wax_log", "unimplemented system call {nr} ({name})");
    }
    if k.strace {
        strace::log_unknown(nr, name, args);
    }
    k.machine.cpu().gpr[reg::EAX] = Errno::ENOSYS.as_return();
}

/// Reads a NUL-terminated guest path (ENAMETOOLONG past PATH_MAX).
/// EPIPE for a write to a pipe or socket whose reader is gone, with the
/// SIGPIPE Linux sends the writer unless it asked not to (MSG_NOSIGNAL).
pub(crate) fn broken_pipe(k: &mut Kernel, signal: bool) -> SysErr {
    if signal {
        let info = crate::signals::SigInfo {
            signo: crate::signals::SIGPIPE,
            code: 0,
            addr: None,
        };
        k.send_signal(info, None);
    }
    Errno::EPIPE.into()
}

pub(crate) fn read_path(k: &mut Kernel, addr: u32) -> Result<Vec<u8>, Errno> {
    if addr == 0 {
        return Err(Errno::EFAULT);
    }
    k.mem()
        .read_cstr(wax_cpu::GuestAddr(addr), crate::vfs::path::PATH_MAX)?
        .ok_or(Errno::ENAMETOOLONG)
}

/// Largest buffer one call copies at once (guest lengths are capped to
/// this before a host buffer is allocated).
pub(crate) const MAX_IO: usize = 1 << 20;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::oflag::O_NONBLOCK;
    use crate::kernel::tests::boot;
    use crate::tasks::process::ThreadState;
    use wax_cpu::GuestAddr;

    /// A pipe made with pipe2(`flags`): (read end, write end).
    fn pipe(k: &mut Kernel, at: u32, flags: u32) -> (u32, u32) {
        assert_eq!(process::sys_pipe2(k, &[at, flags, 0, 0, 0, 0]), Ok(0));
        let mut m = k.mem();
        (
            m.read_u32(GuestAddr(at)).unwrap(),
            m.read_u32(GuestAddr(at + 4)).unwrap(),
        )
    }

    /// A read of an empty pipe is a wait, not an error; with O_NONBLOCK it
    /// is EAGAIN; with data it is done.
    #[test]
    fn read_of_an_empty_pipe_blocks_on_its_descriptor() {
        let mut k = boot(&[0xeb, 0xfe], Default::default(), Default::default());
        let sp = k.machine.cpu().gpr[reg::ESP];
        let (fds, buf) = (sp - 4096, sp - 2048);
        let (r, w) = pipe(&mut k, fds, 0);
        assert_eq!(
            event::sys_read(&mut k, &[r, buf, 4, 0, 0, 0]),
            Ok(Outcome::Block(Wait::Readable { fd: r }))
        );
        k.mem().write_bytes(GuestAddr(buf), b"abc").unwrap();
        assert_eq!(
            fs::sys_write(&mut k, &[w, buf, 3, 0, 0, 0]),
            Ok(Outcome::Done(3))
        );
        assert_eq!(
            event::sys_read(&mut k, &[r, buf + 8, 4, 0, 0, 0]),
            Ok(Outcome::Done(3))
        );
        let (r2, _) = pipe(&mut k, fds, O_NONBLOCK);
        assert_eq!(
            event::sys_read(&mut k, &[r2, buf, 4, 0, 0, 0]),
            Err(SysErr::Errno(Errno::EAGAIN))
        );
    }

    /// dispatch parks the thread on the handler's wait and leaves EAX (the
    /// call number) for the restart.
    #[test]
    fn dispatch_parks_a_blocked_call() {
        let mut k = boot(&[0xeb, 0xfe], Default::default(), Default::default());
        let sp = k.machine.cpu().gpr[reg::ESP];
        let (fds, buf) = (sp - 4096, sp - 2048);
        let (r, _w) = pipe(&mut k, fds, 0);
        let g = &mut k.machine.cpu().gpr;
        (g[reg::EAX], g[reg::EBX], g[reg::ECX], g[reg::EDX]) = (3, r, buf, 4);
        dispatch(&mut k);
        assert_eq!(k.machine.cpu().gpr[reg::EAX], 3);
        assert_eq!(
            k.thread().state,
            ThreadState::Waiting(Wait::Readable { fd: r })
        );
    }
}
