//! The kernel's terminal state (`Kernel::terminals`): the in-kernel
//! terminals, the host's standard streams, and the signals the host
//! raised (^C) that the run loop has not sent yet.

use super::{Driver, Tty, TtyRef, TtysRef};
use crate::signals::NSIG;
use crate::vfs::dev::StreamHandle;

pub(crate) struct Terminals {
    /// The console and the ptys (devfs holds the same table).
    ttys: TtysRef,
    /// The host's stdin, stdout and stderr: descriptors 0-2 of the first
    /// process until a console is attached.
    streams: [StreamHandle; 3],
    /// Signals raised by the host, not yet sent (bit N-1 for signal N).
    host_signals: u64,
}

impl Terminals {
    pub(crate) fn new(ttys: TtysRef, streams: [StreamHandle; 3]) -> Terminals {
        Terminals {
            ttys,
            streams,
            host_signals: 0,
        }
    }

    /// The host's stdin, stdout and stderr.
    pub(crate) fn streams(&self) -> &[StreamHandle; 3] {
        &self.streams
    }

    /// Notes signal `sig` raised by the host; others than 1..=NSIG are
    /// ignored.
    pub(crate) fn raise(&mut self, sig: u32) {
        if (1..=NSIG).contains(&sig) {
            self.host_signals |= 1 << (sig - 1);
        }
    }

    /// The lowest host-raised signal not yet sent, which it forgets.
    pub(crate) fn take_host_signal(&mut self) -> Option<u32> {
        if self.host_signals == 0 {
            return None;
        }
        let sig = self.host_signals.trailing_zeros() + 1;
        self.host_signals &= !(1 << (sig - 1));
        Some(sig)
    }

    /// The controlling terminal of session `sid`.
    pub(crate) fn of_session(&self, sid: u32) -> Option<TtyRef> {
        self.ttys.borrow().of_session(sid)
    }

    /// The terminals that are open.
    pub(crate) fn live(&self) -> Vec<TtyRef> {
        self.ttys.borrow().live()
    }

    /// Makes a terminal on `driver` the console (/dev/pts/0 and /dev/tty).
    pub(crate) fn add_console(&mut self, driver: Driver) -> TtyRef {
        let mut ttys = self.ttys.borrow_mut();
        let tty = ttys.add(0, |i| Tty::new(i, super::termios::console(), driver));
        ttys.console = Some(tty.clone());
        tty
    }
}
