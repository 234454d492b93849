//! pidfd: a descriptor that names one process (pidfd_open). It becomes
//! readable when the process exits; pidfd_send_signal signals it and
//! waitid(P_PIDFD) waits for it, and a pid reused by a later process is
//! never mistaken for it.

use crate::abi::errno::{Errno, KResult};
use crate::abi::poll;
use crate::vfs::{Attr, FileHandle};
use std::cell::Cell;
use std::rc::Rc;

/// Whether a process still runs, shared by the process and its pidfds:
/// false from its exit on (a zombie is no longer running).
pub type Running = Rc<Cell<bool>>;

pub struct PidFd {
    pub pid: u32,
    pub running: Running,
}

impl PidFd {
    /// Whether `running` is the flag of this pidfd's process (not of a
    /// later process with the same pid).
    pub fn names(&self, running: &Running) -> bool {
        Rc::ptr_eq(&self.running, running)
    }
}

impl FileHandle for PidFd {
    fn read_at(&mut self, _off: u64, _buf: &mut [u8]) -> KResult<usize> {
        Err(Errno::EINVAL)
    }

    fn write_at(&mut self, _off: u64, _buf: &[u8]) -> KResult<usize> {
        Err(Errno::EINVAL)
    }

    fn is_stream(&self) -> bool {
        true
    }

    fn readable(&mut self) -> bool {
        !self.running.get()
    }

    fn poll(&mut self) -> u16 {
        if self.running.get() {
            0
        } else {
            poll::POLLIN | poll::POLLRDNORM
        }
    }

    fn proc_name(&self) -> Option<Vec<u8>> {
        Some(crate::files::anon::link_name("pidfd"))
    }

    fn stat(&self) -> Option<Attr> {
        Some(crate::files::anon::anon_attr())
    }

    fn as_any(&mut self) -> Option<&mut dyn std::any::Any> {
        Some(self)
    }
}
