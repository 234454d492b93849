//! Terminals: the console, pseudo-terminals, and job control.
//!
//! A [`Tty`] is one terminal: a line discipline (`ldisc.rs`: echo, line
//! editing, ^C → SIGINT), a window size, the session it controls and that
//! session's foreground process group, and a driver on the far side:
//! - the console, fed by the host through [`wax_devices::Console`] (the
//!   CLI's raw-mode terminal, or xterm.js in web/): the kernel pulls typed
//!   bytes and the window size in [`Kernel::pump_ttys`] on every turn of
//!   the run loop, and program output goes to the host as it is written;
//! - a pseudo-terminal (`pty.rs`): the master end reads what the slave
//!   end's programs write and types into the slave's line discipline.
//!
//! The slave side (and the console) is a [`TtyFile`]; the master side a
//! [`pty::PtyMaster`]. Both report readiness through `poll`, so readers
//! park and wake like pipe readers. Signals the terminal raises (^C, ^Z,
//! a resize, a hang-up) are queued in the `Tty` and sent by the kernel in
//! `pump_ttys`, where it can reach processes.
//!
//! The controlling terminal of a process is the tty whose `session` is
//! the process's session id (there is at most one), so `setsid` drops it
//! without bookkeeping. Job control (`job.rs`) checks reads and writes of
//! background groups (SIGTTIN, SIGTTOU with TOSTOP), and the ioctls
//! (`ioctl.rs`) implement termios, window size, TIOCSCTTY/TIOCNOTTY,
//! TIOCSPGRP/TIOCGPGRP and the pty calls. `terminals.rs` is what the
//! kernel keeps (`Kernel::terminals`): the terminal table, the host's
//! standard streams and the signals the host raised.

pub mod ioctl;
pub mod job;
pub mod ldisc;
pub mod pty;
pub mod terminals;
pub mod termios;

use crate::abi::errno::{Errno, KResult};
use crate::abi::poll;
use crate::kernel::Kernel;
use crate::signals::{self, SIGCONT, SIGHUP, SIGWINCH};
use crate::vfs::{Attr, FileHandle};
use ldisc::{Ldisc, ReadOutcome};
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use wax_devices::{Console, Termios, WinSize};

pub type TtyRef = Rc<RefCell<Tty>>;

/// Unread output a pty master holds before slave writes wait.
const OUTPUT_LIMIT: usize = 64 << 10;

/// What is on the far side of a terminal.
pub enum Driver {
    /// The host console: output goes to it as soon as it is written.
    Console(Box<dyn Console>),
    /// A pseudo-terminal: the master reads `ldisc.output`.
    Pty {
        master_open: bool,
        /// Open slave descriptions (the master reads EIO once the last
        /// one closes).
        slaves: u32,
        /// TIOCSPTLCK: the slave cannot be opened while locked.
        locked: bool,
    },
}

/// Whom a terminal signal is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// The foreground process group.
    Foreground,
    /// A process group (the foreground group as it was at the time).
    Group(u32),
}

pub struct Tty {
    /// The N of /dev/pts/N (0 is the console).
    pub index: u32,
    pub ldisc: Ldisc,
    pub winsize: WinSize,
    /// The session this is the controlling terminal of.
    pub session: Option<u32>,
    /// The foreground process group.
    pub pgrp: u32,
    /// The far side is gone: reads see end of file, writes fail.
    pub hung_up: bool,
    pub driver: Driver,
    /// Signals waiting to be sent by the kernel.
    pub pending: Vec<(Target, u32)>,
}

impl Tty {
    fn new(index: u32, termios: Termios, driver: Driver) -> Tty {
        Tty {
            index,
            ldisc: Ldisc::new(termios),
            winsize: WinSize::default(),
            session: None,
            pgrp: 0,
            hung_up: false,
            driver,
            pending: Vec::new(),
        }
    }

    /// Moves the host console's input, window size and our output.
    /// Returns whether anything happened.
    fn pump(&mut self) -> bool {
        let Driver::Console(host) = &mut self.driver else {
            return false;
        };
        let mut busy = false;
        let mut buf = [0u8; 4096];
        let mut typed = Vec::new();
        let mut gone = false;
        loop {
            match host.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => typed.extend_from_slice(&buf[..n]),
                Err(_) => {
                    gone = true;
                    break;
                }
            }
        }
        let size = host.winsize();
        if !typed.is_empty() {
            busy = true;
            self.ldisc.receive(&typed);
        }
        if size != self.winsize && size.rows != 0 {
            self.set_winsize(size);
            busy = true;
        }
        if gone && !self.hung_up {
            self.hang_up();
            busy = true;
        }
        self.flush_console();
        busy
    }

    /// Sends pending output to the host console (unless ^S stopped it).
    fn flush_console(&mut self) {
        let Driver::Console(host) = &mut self.driver else {
            return;
        };
        if self.ldisc.stopped || self.ldisc.output.is_empty() {
            return;
        }
        let (a, b) = self.ldisc.output.as_slices();
        let mut data = a.to_vec();
        data.extend_from_slice(b);
        self.ldisc.output.clear();
        let mut at = 0;
        while at < data.len() {
            match host.write(&data[at..]) {
                Ok(0) | Err(_) => break,
                Ok(n) => at += n,
            }
        }
    }

    /// A new window size: SIGWINCH to the foreground group.
    pub fn set_winsize(&mut self, w: WinSize) {
        if w != self.winsize {
            self.winsize = w;
            self.pending.push((Target::Foreground, SIGWINCH));
        }
    }

    /// The far side went away: SIGHUP and SIGCONT to the foreground group,
    /// and the session loses its terminal.
    pub fn hang_up(&mut self) {
        self.hung_up = true;
        if self.session.is_some() {
            self.pending.push((Target::Foreground, SIGHUP));
            self.pending.push((Target::Foreground, SIGCONT));
        }
        self.session = None;
    }

    /// Program output (a slave write). Err(EAGAIN): a pty master has not
    /// read enough yet.
    fn write(&mut self, data: &[u8]) -> KResult<usize> {
        if self.hung_up {
            return Err(Errno::EIO);
        }
        let pty = matches!(self.driver, Driver::Pty { .. });
        if (pty || self.ldisc.stopped) && self.ldisc.output.len() >= OUTPUT_LIMIT {
            return Err(Errno::EAGAIN);
        }
        self.ldisc.write(data);
        self.flush_console();
        Ok(data.len())
    }

    fn read(&mut self, buf: &mut [u8]) -> KResult<usize> {
        match self.ldisc.read(buf) {
            ReadOutcome::Data(n) => Ok(n),
            ReadOutcome::Wait if self.hung_up => Ok(0),
            ReadOutcome::Wait => Err(Errno::EAGAIN),
        }
    }

    fn poll(&mut self) -> u16 {
        let mut e = 0;
        if self.ldisc.readable() {
            e |= poll::POLLIN | poll::POLLRDNORM;
        }
        if self.hung_up {
            e |= poll::POLLHUP | poll::POLLIN | poll::POLLRDNORM;
        } else if self.ldisc.output.len() < OUTPUT_LIMIT {
            e |= poll::POLLOUT | poll::POLLWRNORM;
        }
        e
    }

    /// Takes the queued signals with the foreground group resolved.
    fn take_signals(&mut self) -> Vec<(u32, u32)> {
        let pgrp = self.pgrp;
        let sigs = self.ldisc.signals.drain(..).map(|s| (pgrp, s));
        let mut out: Vec<(u32, u32)> = sigs.collect();
        for (t, s) in self.pending.drain(..) {
            let g = match t {
                Target::Foreground => pgrp,
                Target::Group(g) => g,
            };
            out.push((g, s));
        }
        out
    }
}

/// Every terminal, by pts number.
#[derive(Default)]
pub struct Ttys {
    slots: Vec<Weak<RefCell<Tty>>>,
    /// The console lives as long as the kernel, open or not.
    console: Option<TtyRef>,
}

pub type TtysRef = Rc<RefCell<Ttys>>;

impl Ttys {
    /// The terminal /dev/pts/`index`.
    pub fn get(&self, index: u32) -> Option<TtyRef> {
        self.slots.get(index as usize)?.upgrade()
    }

    /// The console, if the host attached one.
    pub fn console(&self) -> Option<TtyRef> {
        self.console.clone()
    }

    /// The pts numbers in use.
    pub fn indexes(&self) -> Vec<u32> {
        let live = self.slots.iter().enumerate();
        live.filter(|(_, w)| w.strong_count() > 0)
            .map(|(i, _)| i as u32)
            .collect()
    }

    fn live(&self) -> Vec<TtyRef> {
        self.slots.iter().filter_map(Weak::upgrade).collect()
    }

    /// Registers a terminal at the lowest free number from `first`.
    fn add(&mut self, first: u32, make: impl FnOnce(u32) -> Tty) -> TtyRef {
        let free = (first as usize..)
            .find(|&i| self.slots.get(i).is_none_or(|w| w.strong_count() == 0))
            .unwrap_or(self.slots.len());
        if self.slots.len() <= free {
            self.slots.resize(free + 1, Weak::new());
        }
        let tty = Rc::new(RefCell::new(make(free as u32)));
        self.slots[free] = Rc::downgrade(&tty);
        tty
    }

    /// The controlling terminal of session `sid`.
    pub fn of_session(&self, sid: u32) -> Option<TtyRef> {
        self.live()
            .into_iter()
            .find(|t| t.borrow().session == Some(sid))
    }
}

/// Which end of a terminal a descriptor is.
#[derive(Clone)]
pub enum TtyEnd {
    /// The console or a pty slave.
    Slave(TtyRef),
    /// A pty master.
    Master(TtyRef),
    /// /dev/tty before it is resolved to the caller's controlling tty.
    DevTty,
}

impl TtyEnd {
    pub fn tty(&self) -> Option<&TtyRef> {
        match self {
            TtyEnd::Slave(t) | TtyEnd::Master(t) => Some(t),
            TtyEnd::DevTty => None,
        }
    }
}

/// The console or a pty slave as an open file.
pub struct TtyFile {
    tty: TtyRef,
}

impl TtyFile {
    pub fn new(tty: TtyRef) -> TtyFile {
        if let Driver::Pty { slaves, .. } = &mut tty.borrow_mut().driver {
            *slaves += 1;
        }
        TtyFile { tty }
    }
}

impl Drop for TtyFile {
    fn drop(&mut self) {
        if let Driver::Pty { slaves, .. } = &mut self.tty.borrow_mut().driver {
            *slaves -= 1;
        }
    }
}

impl FileHandle for TtyFile {
    fn read_at(&mut self, _off: u64, buf: &mut [u8]) -> KResult<usize> {
        self.tty.borrow_mut().read(buf)
    }
    fn write_at(&mut self, _off: u64, buf: &[u8]) -> KResult<usize> {
        self.tty.borrow_mut().write(buf)
    }
    fn is_stream(&self) -> bool {
        true
    }
    fn readable(&mut self) -> bool {
        let t = self.tty.borrow();
        t.hung_up || t.ldisc.readable()
    }
    fn poll(&mut self) -> u16 {
        self.tty.borrow_mut().poll()
    }
    fn terminal(&mut self) -> Option<TtyEnd> {
        Some(TtyEnd::Slave(self.tty.clone()))
    }
    fn stat(&self) -> Option<Attr> {
        Some(crate::vfs::dev::pts_attr(self.tty.borrow().index))
    }
    fn proc_name(&self) -> Option<Vec<u8>> {
        Some(format!("/dev/pts/{}", self.tty.borrow().index).into_bytes())
    }
}

/// /dev/tty as opened, before the open call swaps in the caller's
/// controlling terminal ([`on_open`]). Without one, the host's stdio
/// streams stand in when they are the console (`wax run`, where the host
/// terminal is passed through).
pub struct DevTty {
    fallback: Option<Box<dyn FileHandle>>,
}

impl DevTty {
    pub fn new(console: Box<dyn FileHandle>) -> DevTty {
        DevTty {
            fallback: Some(console),
        }
    }
}

impl FileHandle for DevTty {
    fn read_at(&mut self, _off: u64, _buf: &mut [u8]) -> KResult<usize> {
        Err(Errno::ENXIO)
    }
    fn write_at(&mut self, _off: u64, _buf: &[u8]) -> KResult<usize> {
        Err(Errno::ENXIO)
    }
    fn terminal(&mut self) -> Option<TtyEnd> {
        Some(TtyEnd::DevTty)
    }
    fn as_any(&mut self) -> Option<&mut dyn std::any::Any> {
        Some(self)
    }
}

/// Called by open on every new handle: /dev/tty becomes the caller's
/// controlling terminal (ENXIO without one), and a session leader without
/// one that opens a free terminal (no O_NOCTTY) makes it its own.
pub fn on_open(
    k: &mut Kernel,
    mut handle: Box<dyn FileHandle>,
    flags: u32,
) -> KResult<Box<dyn FileHandle>> {
    let Some(end) = handle.terminal() else {
        return Ok(handle);
    };
    let (pid, sid, pgid) = {
        let p = k.proc();
        (p.pid, p.sid, p.pgid)
    };
    match end {
        TtyEnd::DevTty => {
            if let Some(tty) = k.terminals.of_session(sid) {
                return Ok(Box::new(TtyFile::new(tty)));
            }
            let dev = handle.as_any().and_then(|a| a.downcast_mut::<DevTty>());
            let fallback = dev.and_then(|d| d.fallback.take());
            // The host's stdio stands in when it is the host's terminal
            // (wax's own controlling terminal) and no in-kernel tty; with
            // no terminal at all, the process has no controlling terminal
            // and Linux fails the open with ENXIO.
            match fallback {
                Some(mut f) => match f.terminal() {
                    None if f.tty().is_some() => Ok(f),
                    _ => Err(Errno::ENXIO),
                },
                None => Err(Errno::ENXIO),
            }
        }
        TtyEnd::Slave(tty) => {
            let noctty = flags & crate::abi::oflag::O_NOCTTY != 0;
            let has = k.terminals.of_session(sid).is_some();
            let mut t = tty.borrow_mut();
            if !noctty && pid == sid && !has && t.session.is_none() && !t.hung_up {
                t.session = Some(sid);
                t.pgrp = pgid;
            }
            Ok(handle)
        }
        TtyEnd::Master(_) => Ok(handle),
    }
}

impl Kernel {
    /// Makes `console` the guest's console: /dev/pts/0 and /dev/tty, and
    /// descriptors 0-2 of the first process (call after `exec`), which
    /// becomes its session's foreground group.
    pub fn attach_console(&mut self, console: Box<dyn Console>) {
        let driver = Driver::Console(console);
        let tty = self.terminals.add_console(driver);
        let first = self.tasks.first();
        if first >= self.tasks.proc_slots() {
            return;
        }
        let p = self.tasks.proc_mut(first);
        {
            let mut t = tty.borrow_mut();
            t.session = Some(p.sid);
            t.pgrp = p.pgid;
        }
        for fd in 0..3 {
            let file = crate::vfs::file::OpenFile {
                node: None,
                location: None,
                handle: Some(Box::new(TtyFile::new(tty.clone()))),
                offset: 0,
                flags: crate::abi::oflag::O_RDWR,
                dir_entries: None,
            };
            let fd_entry = crate::vfs::file::Fd {
                file: Rc::new(RefCell::new(file)),
                cloexec: false,
            };
            let _ = p.fds.set(fd, fd_entry);
        }
        tty.borrow_mut().pump();
    }

    /// Moves console input and output, and sends the signals terminals
    /// raised. Runs on every turn of the run loop; returns whether there
    /// was anything to do.
    pub(crate) fn pump_ttys(&mut self) -> bool {
        let ttys = self.terminals.live();
        let mut busy = false;
        for tty in ttys {
            busy |= tty.borrow_mut().pump();
            self.end_orphaned_session(&tty);
            let sigs = tty.borrow_mut().take_signals();
            for (pgrp, sig) in sigs {
                busy = true;
                self.signal_group(pgrp, sig);
            }
        }
        busy
    }

    /// A session whose leader has exited loses its terminal, and the
    /// foreground group gets SIGHUP (Linux's `disassociate_ctty`).
    fn end_orphaned_session(&mut self, tty: &TtyRef) {
        let Some(sid) = tty.borrow().session else {
            return;
        };
        if self.tasks.find_live(sid).is_some() {
            return;
        }
        let mut t = tty.borrow_mut();
        let pgrp = t.pgrp;
        t.session = None;
        t.pending.push((Target::Group(pgrp), SIGHUP));
        t.pending.push((Target::Group(pgrp), SIGCONT));
    }

    /// Sends a kernel signal to every live process in group `pgrp`.
    pub(crate) fn signal_group(&mut self, pgrp: u32, sig: u32) {
        if pgrp == 0 {
            return;
        }
        let info = signals::Siginfo::kernel(sig);
        for p in self.tasks.group(pgrp) {
            self.signal_process(p, info);
        }
    }
}
