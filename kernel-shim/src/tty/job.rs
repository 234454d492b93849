//! Job control at the terminal: a background process group that reads
//! its controlling terminal gets SIGTTIN; one that writes it under TOSTOP,
//! or changes its settings, gets SIGTTOU (Linux's `job_control` and
//! `tty_check_change`).
//!
//! The signal goes to the caller's whole group and the call parks as
//! "ready to restart" (the checks return the wait to park on, and the
//! call returns it as `Outcome::Block`): the scheduler delivers the (stop) signal before
//! the thread runs again, and the call is retried once the group is
//! continued, in the foreground or not. A group that ignores or blocks
//! the signal reads EIO (writes and settings go ahead), and so does an
//! orphaned group, which nobody could continue.

use super::TtyRef;
use crate::abi::errno::{Errno, KResult};
use crate::abi::termios::lflag::TOSTOP;
use crate::kernel::Kernel;
use crate::signals::{bit, SIG_IGN};
use crate::tasks::process::Wait;
use crate::vfs::file::FileRef;

pub const SIGTTIN: u32 = 21;
pub const SIGTTOU: u32 = 22;

/// What the caller is about to do with the terminal.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
    /// Changing settings (TCSETS, TIOCSPGRP, TCFLSH, ...).
    Change,
}

/// Checks a read or write of descriptor `fd` (open as `file`) by the
/// current thread; does nothing for files that are not terminals.
pub fn check_file(
    k: &mut Kernel,
    fd: u32,
    file: &FileRef,
    access: Access,
) -> KResult<Option<Wait>> {
    let end = file.borrow_mut().handle.as_mut().and_then(|h| h.terminal());
    match end {
        Some(super::TtyEnd::Slave(tty)) => check(k, fd, &tty, access),
        _ => Ok(None),
    }
}

/// Checks an access to `tty` by the current thread: None to go ahead, or
/// the wait the caller parks on (the signal is sent), or EIO.
pub fn check(k: &mut Kernel, fd: u32, tty: &TtyRef, access: Access) -> KResult<Option<Wait>> {
    let (sid, pgid) = {
        let p = k.proc();
        (p.sid, p.pgid)
    };
    let (session, fg, tostop) = {
        let t = tty.borrow();
        (t.session, t.pgrp, t.ldisc.termios.c_lflag & TOSTOP != 0)
    };
    if session != Some(sid) || fg == pgid || fg == 0 {
        return Ok(None);
    }
    if access == Access::Write && !tostop {
        return Ok(None);
    }
    let sig = if access == Access::Read {
        SIGTTIN
    } else {
        SIGTTOU
    };
    if ignored(k, sig) {
        return if access == Access::Read {
            Err(Errno::EIO)
        } else {
            Ok(None)
        };
    }
    if k.tasks.pgrp_orphaned(pgid) {
        return Err(Errno::EIO);
    }
    k.signal_group(pgid, sig);
    let wait = if access == Access::Read {
        Wait::Readable { fd }
    } else {
        Wait::Writable { fd }
    };
    Ok(Some(wait))
}

/// The current thread ignores or blocks `sig`.
fn ignored(k: &mut Kernel, sig: u32) -> bool {
    let blocked = k.thread().sigmask & bit(sig) != 0;
    blocked || k.proc().actions[sig as usize - 1].handler == SIG_IGN
}
