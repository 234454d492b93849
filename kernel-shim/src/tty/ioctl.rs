//! Terminal ioctls: settings (TCGETS/TCSETS*, termios2), flushing and
//! flow control, window size, the controlling terminal (TIOCSCTTY,
//! TIOCNOTTY), the foreground group (TIOCSPGRP/TIOCGPGRP, TIOCGSID), and
//! the pty calls (TIOCGPTN, TIOCSPTLCK, TIOCGPTPEER).

use super::job::{self, Access};
use super::{pty, Driver, Target, TtyEnd, TtyRef};
use crate::abi::errno::Errno;
use crate::abi::ioctl::{
    FIONREAD, TCFLSH, TCGETS, TCGETS2, TCSBRK, TCSBRKP, TCSETS, TCSETS2, TCSETSF, TCSETSF2,
    TCSETSW, TCSETSW2, TCXONC, TIOCEXCL, TIOCGETD, TIOCGPGRP, TIOCGPTLCK, TIOCGPTN, TIOCGPTPEER,
    TIOCGSID, TIOCGWINSZ, TIOCNOTTY, TIOCNXCL, TIOCOUTQ, TIOCSCTTY, TIOCSETD, TIOCSPGRP,
    TIOCSPTLCK, TIOCSTI, TIOCSWINSZ,
};
use crate::abi::oflag;
use crate::kernel::Kernel;
use crate::signals::{SIGCONT, SIGHUP};
use crate::syscall::{Outcome, SysErr, SysOutcome, SysResult};
use wax_cpu::GuestAddr;
use wax_devices::{Termios, WinSize};

/// struct termios2: termios + c_ispeed + c_ospeed.
const TERMIOS2_SIZE: usize = Termios::SIZE + 8;
/// What the speed fields report (the B38400 of the standard settings).
const SPEED: u32 = 38400;

/// Runs terminal ioctl `req` on descriptor `fd`, whose file is `end`; a
/// background group changing the settings parks (`job::check`).
pub fn ioctl(k: &mut Kernel, fd: u32, end: TtyEnd, req: u32, arg: u32) -> SysOutcome {
    let (tty, master) = match end {
        TtyEnd::Slave(t) => (t, false),
        TtyEnd::Master(t) => (t, true),
        TtyEnd::DevTty => return Err(Errno::ENXIO.into()),
    };
    if master {
        if let Some(r) = master_ioctl(k, &tty, req, arg) {
            return r.map(Outcome::Done);
        }
    }
    let changes = matches!(
        req,
        TCSETS | TCSETSW | TCSETSF | TCSETS2 | TCSETSW2 | TCSETSF2 | TCFLSH | TCXONC | TIOCSPGRP
    );
    if changes && !master {
        if let Some(w) = job::check(k, fd, &tty, Access::Change)? {
            return Ok(Outcome::Block(w));
        }
    }
    common_ioctl(k, &tty, master, req, arg).map(Outcome::Done)
}

/// The calls both ends answer.
fn common_ioctl(k: &mut Kernel, tty: &TtyRef, master: bool, req: u32, arg: u32) -> SysResult {
    match req {
        TCGETS => put(k, arg, &tty.borrow().ldisc.termios.to_bytes()),
        TCGETS2 => {
            let b = termios2(&tty.borrow().ldisc.termios);
            put(k, arg, &b)
        }
        TCSETS | TCSETSW | TCSETSF => {
            let mut b = [0u8; Termios::SIZE];
            k.mem().read_bytes(GuestAddr(arg), &mut b)?;
            set_termios(tty, Termios::from_bytes(&b), req == TCSETSF)
        }
        TCSETS2 | TCSETSW2 | TCSETSF2 => {
            let mut b = [0u8; Termios::SIZE];
            k.mem().read_bytes(GuestAddr(arg), &mut b)?;
            set_termios(tty, Termios::from_bytes(&b), req == TCSETSF2)
        }
        TCSBRK | TCSBRKP | TIOCEXCL | TIOCNXCL | TIOCSETD => Ok(0),
        TCXONC => flow(tty, arg),
        TCFLSH => flush(tty, arg),
        TIOCGETD | TIOCOUTQ => put_u32(k, arg, 0),
        FIONREAD => {
            let n = tty.borrow().ldisc.available() as u32;
            put_u32(k, arg, n)
        }
        TIOCSTI => {
            let c = k.mem().read_u8(GuestAddr(arg))?;
            tty.borrow_mut().ldisc.receive(&[c]);
            Ok(0)
        }
        TIOCGWINSZ => get_winsize(k, tty, arg),
        TIOCSWINSZ => set_winsize(k, tty, arg),
        TIOCSCTTY => set_ctty(k, tty, arg),
        TIOCNOTTY => no_ctty(k, tty),
        TIOCGPGRP => {
            let pgrp = controlling(k, tty, master)?.borrow().pgrp;
            put_u32(k, arg, pgrp)
        }
        TIOCGSID => {
            let sid = controlling(k, tty, master)?.borrow().session;
            put_u32(k, arg, sid.ok_or(Errno::ENOTTY)?)
        }
        TIOCSPGRP => set_pgrp(k, tty, arg),
        _ => Err(Errno::ENOTTY.into()),
    }
}

/// The calls only a master answers (None: a common terminal call).
fn master_ioctl(k: &mut Kernel, tty: &TtyRef, req: u32, arg: u32) -> Option<SysResult> {
    Some(match req {
        TIOCGPTN => {
            let n = tty.borrow().index;
            put_u32(k, arg, n)
        }
        TIOCSPTLCK => set_lock(k, tty, arg),
        TIOCGPTLCK => {
            let locked = matches!(tty.borrow().driver, Driver::Pty { locked: true, .. });
            put_u32(k, arg, u32::from(locked))
        }
        TIOCGPTPEER => open_peer(k, tty, arg),
        _ => return None,
    })
}

fn put(k: &mut Kernel, arg: u32, b: &[u8]) -> SysResult {
    k.mem().write_bytes(GuestAddr(arg), b)?;
    Ok(0)
}

fn put_u32(k: &mut Kernel, arg: u32, v: u32) -> SysResult {
    k.mem().write_u32(GuestAddr(arg), v)?;
    Ok(0)
}

fn termios2(t: &Termios) -> [u8; TERMIOS2_SIZE] {
    let mut b = [0u8; TERMIOS2_SIZE];
    b[..Termios::SIZE].copy_from_slice(&t.to_bytes());
    b[Termios::SIZE..Termios::SIZE + 4].copy_from_slice(&SPEED.to_le_bytes());
    b[Termios::SIZE + 4..].copy_from_slice(&SPEED.to_le_bytes());
    b
}

/// Output is never held back (except by ^S), so "after draining" is
/// now; TCSETSF also drops unread input.
fn set_termios(tty: &TtyRef, t: Termios, flush_input: bool) -> SysResult {
    let mut tt = tty.borrow_mut();
    if flush_input {
        tt.ldisc.flush_input();
    }
    tt.ldisc.set_termios(t);
    Ok(0)
}

/// TCXONC: TCOOFF, TCOON (TCIOFF/TCION send STOP/START: no-ops here).
fn flow(tty: &TtyRef, arg: u32) -> SysResult {
    let mut t = tty.borrow_mut();
    match arg {
        0 => t.ldisc.stopped = true,
        1 => {
            t.ldisc.stopped = false;
            t.flush_console();
        }
        2 | 3 => {}
        _ => return Err(Errno::EINVAL.into()),
    }
    Ok(0)
}

/// TCFLSH: TCIFLUSH, TCOFLUSH, TCIOFLUSH.
fn flush(tty: &TtyRef, arg: u32) -> SysResult {
    let mut t = tty.borrow_mut();
    match arg {
        0 => t.ldisc.flush_input(),
        1 => t.ldisc.output.clear(),
        2 => {
            t.ldisc.flush_input();
            t.ldisc.output.clear();
        }
        _ => return Err(Errno::EINVAL.into()),
    }
    Ok(0)
}

fn get_winsize(k: &mut Kernel, tty: &TtyRef, arg: u32) -> SysResult {
    let w = tty.borrow().winsize;
    let mut m = k.mem();
    for (i, v) in [w.rows, w.cols, w.xpixel, w.ypixel].into_iter().enumerate() {
        m.write_u16(GuestAddr(arg + i as u32 * 2), v)?;
    }
    Ok(0)
}

fn set_winsize(k: &mut Kernel, tty: &TtyRef, arg: u32) -> SysResult {
    let mut v = [0u16; 4];
    for (i, x) in v.iter_mut().enumerate() {
        *x = k.mem().read_u16(GuestAddr(arg + i as u32 * 2))?;
    }
    let w = WinSize {
        rows: v[0],
        cols: v[1],
        xpixel: v[2],
        ypixel: v[3],
    };
    tty.borrow_mut().set_winsize(w);
    Ok(0)
}

/// The terminal if it is the caller's controlling terminal (a master
/// answers for its slave), else ENOTTY.
fn controlling(k: &mut Kernel, tty: &TtyRef, master: bool) -> Result<TtyRef, SysErr> {
    let sid = k.proc().sid;
    if master || tty.borrow().session == Some(sid) {
        Ok(tty.clone())
    } else {
        Err(Errno::ENOTTY.into())
    }
}

/// TIOCSCTTY: a session leader without a terminal takes this one (root
/// with arg 1 may steal it from another session).
fn set_ctty(k: &mut Kernel, tty: &TtyRef, arg: u32) -> SysResult {
    let (pid, sid, pgid) = {
        let p = k.proc();
        (p.pid, p.sid, p.pgid)
    };
    let current = tty.borrow().session;
    if current == Some(sid) {
        return Ok(0);
    }
    if pid != sid || k.terminals.of_session(sid).is_some() {
        return Err(Errno::EPERM.into());
    }
    if current.is_some() && !(arg == 1 && k.proc().cred.privileged()) {
        return Err(Errno::EPERM.into());
    }
    let mut t = tty.borrow_mut();
    t.session = Some(sid);
    t.pgrp = pgid;
    Ok(0)
}

/// TIOCNOTTY: give up the controlling terminal; a session leader's
/// foreground group gets SIGHUP and SIGCONT and the session loses it.
fn no_ctty(k: &mut Kernel, tty: &TtyRef) -> SysResult {
    let (pid, sid) = {
        let p = k.proc();
        (p.pid, p.sid)
    };
    let mut t = tty.borrow_mut();
    if t.session != Some(sid) {
        return Err(Errno::ENOTTY.into());
    }
    // A process that is not the leader cannot drop the terminal for itself
    // alone here (the controlling terminal is per session); it is a no-op.
    if pid == sid {
        let pgrp = t.pgrp;
        t.session = None;
        t.pending.push((Target::Group(pgrp), SIGHUP));
        t.pending.push((Target::Group(pgrp), SIGCONT));
    }
    Ok(0)
}

/// TIOCSPGRP: a group of the caller's session becomes the foreground.
fn set_pgrp(k: &mut Kernel, tty: &TtyRef, arg: u32) -> SysResult {
    let sid = k.proc().sid;
    let pgrp = k.mem().read_u32(GuestAddr(arg))?;
    if tty.borrow().session != Some(sid) {
        return Err(Errno::ENOTTY.into());
    }
    if (pgrp as i32) <= 0 {
        return Err(Errno::EINVAL.into());
    }
    if !k.tasks.group_in_session(pgrp, sid) {
        return Err(Errno::EPERM.into());
    }
    tty.borrow_mut().pgrp = pgrp;
    Ok(0)
}

fn set_lock(k: &mut Kernel, tty: &TtyRef, arg: u32) -> SysResult {
    let on = k.mem().read_u32(GuestAddr(arg))? != 0;
    if let Driver::Pty { locked, .. } = &mut tty.borrow_mut().driver {
        *locked = on;
    }
    Ok(0)
}

/// TIOCGPTPEER: opens the slave and returns its descriptor (`arg` holds
/// open flags).
fn open_peer(k: &mut Kernel, tty: &TtyRef, arg: u32) -> SysResult {
    let slave = pty::open_slave(tty)?;
    let handle = super::on_open(k, Box::new(slave), arg)?;
    let file = crate::vfs::file::OpenFile {
        node: None,
        location: None,
        handle: Some(handle),
        offset: 0,
        flags: arg & (oflag::O_ACCMODE | oflag::O_NONBLOCK),
        dir_entries: None,
    };
    let fd = crate::vfs::file::Fd {
        file: std::rc::Rc::new(std::cell::RefCell::new(file)),
        cloexec: arg & oflag::O_CLOEXEC != 0,
    };
    Ok(k.proc().fds.insert(fd)?)
}
