//! Job control at the terminal: a background process group that reads
//! its controlling terminal gets SIGTTIN; one that writes it under TOSTOP,
//! or changes its settings, gets SIGTTOU (Linux's `job_control` and
//! `tty_check_change`).
//!
//! The signal goes to the caller's whole group and the call parks as
//! "ready to restart": the scheduler delivers the (stop) signal before
//! the thread runs again, and the call is retried once the group is
//! continued, in the foreground or not. A group that ignores or blocks
//! the signal reads EIO (writes and settings go ahead), and so does an
//! orphaned group, which nobody could continue.

use super::TtyRef;
use crate::abi::errno::Errno;
use crate::abi::termios::lflag::TOSTOP;
use crate::kernel::Kernel;
use crate::signals::{bit, SIG_IGN};
use crate::syscall::SysErr;
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
pub fn check_file(k: &mut Kernel, fd: u32, file: &FileRef, access: Access) -> Result<(), SysErr> {
    let end = file.borrow_mut().handle.as_mut().and_then(|h| h.terminal());
    match end {
        Some(super::TtyEnd::Slave(tty)) => check(k, fd, &tty, access),
        _ => Ok(()),
    }
}

/// Checks an access to `tty` by the current thread.
pub fn check(k: &mut Kernel, fd: u32, tty: &TtyRef, access: Access) -> Result<(), SysErr> {
    let (sid, pgid) = {
        let p = k.proc();
        (p.sid, p.pgid)
    };
    let (session, fg, tostop) = {
        let t = tty.borrow();
        (t.session, t.pgrp, t.ldisc.termios.c_lflag & TOSTOP != 0)
    };
    if session != Some(sid) || fg == pgid || fg == 0 {
        return Ok(());
    }
    if access == Access::Write && !tostop {
        return Ok(());
    }
    let sig = if access == Access::Read {
        SIGTTIN
    } else {
        SIGTTOU
    };
    if ignored(k, sig) {
        return if access == Access::Read {
            Err(Errno::EIO.into())
        } else {
            Ok(())
        };
    }
    if k.pgrp_orphaned(pgid) {
        return Err(Errno::EIO.into());
    }
    k.signal_group(pgid, sig);
    let wait = if access == Access::Read {
        Wait::Readable { fd }
    } else {
        Wait::Writable { fd }
    };
    Err(SysErr::Block(wait))
}

/// The current thread ignores or blocks `sig`.
fn ignored(k: &mut Kernel, sig: u32) -> bool {
    let blocked = k.thread().sigmask & bit(sig) != 0;
    blocked || k.proc().actions[sig as usize - 1].handler == SIG_IGN
}

impl Kernel {
    /// POSIX's orphaned process group: no member has a parent in another
    /// group of the same session (so no shell is left to continue it).
    pub(crate) fn pgrp_orphaned(&self, pgid: u32) -> bool {
        let members = self.procs.iter().filter(|p| p.alive() && p.pgid == pgid);
        !members.into_iter().any(|p| {
            self.procs
                .iter()
                .any(|q| q.alive() && q.pid == p.ppid && q.pgid != pgid && q.sid == p.sid)
        })
    }
}
