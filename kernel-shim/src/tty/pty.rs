//! Pseudo-terminals: /dev/ptmx hands out a master end and creates
//! /dev/pts/N, a terminal whose "screen" is the master's reads and whose
//! "keyboard" is the master's writes.
//!
//! As on Linux the slave starts locked (TIOCSPTLCK unlocks it, which
//! glibc's `unlockpt` does), the master reads EIO once no slave is open
//! any more (after one was: that is how `script` sees its shell end), and
//! closing the master hangs the slave up.

use super::{termios, Driver, Tty, TtyEnd, TtyFile, TtyRef, Ttys};
use crate::abi::errno::{Errno, KResult};
use crate::abi::poll;
use crate::vfs::FileHandle;

/// The master end of a pseudo-terminal.
pub struct PtyMaster {
    tty: TtyRef,
    /// A slave was opened at least once (before that, reads wait).
    slave_seen: bool,
}

/// Opens /dev/ptmx: a new pair from /dev/pts/1 up (0 is the console).
pub fn open_ptmx(ttys: &mut Ttys) -> PtyMaster {
    let driver = Driver::Pty {
        master_open: true,
        slaves: 0,
        locked: true,
    };
    let tty = ttys.add(1, |i| Tty::new(i, termios::standard(), driver));
    PtyMaster {
        tty,
        slave_seen: false,
    }
}

/// Opens /dev/pts/N of a pty (EIO while locked or once the master is
/// gone).
pub fn open_slave(tty: &TtyRef) -> KResult<TtyFile> {
    if let Driver::Pty {
        master_open,
        locked,
        ..
    } = tty.borrow().driver
    {
        if locked || !master_open {
            return Err(Errno::EIO);
        }
    }
    Ok(TtyFile::new(tty.clone()))
}

impl PtyMaster {
    #[cfg(test)]
    pub fn tty(&self) -> &TtyRef {
        &self.tty
    }

    fn slaves(&self) -> u32 {
        match self.tty.borrow().driver {
            Driver::Pty { slaves, .. } => slaves,
            Driver::Console(_) => 0,
        }
    }

    /// No slave open any more, after one was.
    fn slave_gone(&mut self) -> bool {
        if self.slaves() > 0 {
            self.slave_seen = true;
        }
        self.slave_seen && self.slaves() == 0
    }
}

impl Drop for PtyMaster {
    fn drop(&mut self) {
        let mut t = self.tty.borrow_mut();
        if let Driver::Pty { master_open, .. } = &mut t.driver {
            *master_open = false;
        }
        t.hang_up();
    }
}

impl FileHandle for PtyMaster {
    fn read_at(&mut self, _off: u64, buf: &mut [u8]) -> KResult<usize> {
        let gone = self.slave_gone();
        let mut t = self.tty.borrow_mut();
        let out = &mut t.ldisc.output;
        if out.is_empty() {
            return Err(if gone { Errno::EIO } else { Errno::EAGAIN });
        }
        let n = buf.len().min(out.len());
        for (d, s) in buf.iter_mut().zip(out.drain(..n)) {
            *d = s;
        }
        Ok(n)
    }
    fn write_at(&mut self, _off: u64, buf: &[u8]) -> KResult<usize> {
        self.tty.borrow_mut().ldisc.receive(buf);
        Ok(buf.len())
    }
    fn is_stream(&self) -> bool {
        true
    }
    fn readable(&mut self) -> bool {
        self.poll() & (poll::POLLIN | poll::POLLHUP) != 0
    }
    fn poll(&mut self) -> u16 {
        let gone = self.slave_gone();
        let t = self.tty.borrow();
        let mut e = poll::POLLOUT | poll::POLLWRNORM;
        if !t.ldisc.output.is_empty() {
            e |= poll::POLLIN | poll::POLLRDNORM;
        }
        if gone {
            e |= poll::POLLHUP;
        }
        e
    }
    fn terminal(&mut self) -> Option<TtyEnd> {
        Some(TtyEnd::Master(self.tty.clone()))
    }
    fn proc_name(&self) -> Option<Vec<u8>> {
        Some(b"/dev/ptmx".to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn master_and_slave_talk_through_the_line_discipline() {
        let mut ttys = Ttys::default();
        let mut m = open_ptmx(&mut ttys);
        let tty = m.tty().clone();
        assert_eq!(tty.borrow().index, 1);
        assert_eq!(open_slave(&tty).err(), Some(Errno::EIO));
        if let Driver::Pty { locked, .. } = &mut tty.borrow_mut().driver {
            *locked = false;
        }
        let mut s = open_slave(&tty).unwrap();
        let mut b = [0u8; 16];
        assert_eq!(m.read_at(0, &mut b), Err(Errno::EAGAIN));
        m.write_at(0, b"hi\r").unwrap();
        // The echo, with ONLCR.
        assert_eq!(m.read_at(0, &mut b), Ok(4));
        assert_eq!(&b[..4], b"hi\r\n");
        assert_eq!(s.read_at(0, &mut b), Ok(3));
        assert_eq!(&b[..3], b"hi\n");
        s.write_at(0, b"ok\n").unwrap();
        assert_eq!(m.read_at(0, &mut b), Ok(4));
        drop(s);
        assert_eq!(m.read_at(0, &mut b), Err(Errno::EIO));
        assert_ne!(m.poll() & poll::POLLHUP, 0);
    }

    #[test]
    fn closing_the_master_hangs_the_slave_up() {
        let mut ttys = Ttys::default();
        let m = open_ptmx(&mut ttys);
        let tty = m.tty().clone();
        if let Driver::Pty { locked, .. } = &mut tty.borrow_mut().driver {
            *locked = false;
        }
        let mut s = open_slave(&tty).unwrap();
        tty.borrow_mut().session = Some(5);
        drop(m);
        let mut b = [0u8; 4];
        assert_eq!(s.read_at(0, &mut b), Ok(0));
        assert_eq!(s.write_at(0, b"x"), Err(Errno::EIO));
        assert_eq!(tty.borrow().session, None);
        assert!(ttys.get(1).is_some());
    }
}
