//! signalfd: pending signals read as `struct signalfd_siginfo` records.
//!
//! The handle knows only its mask. Whether it is readable depends on the
//! signals pending for the thread that asks, which the kernel puts in the
//! poll context before polling (files/readiness.rs); reading takes signals from
//! the thread's and the process's queues, which only the kernel can do, so
//! read(2) on a signalfd is handled in syscall/event.rs.

use crate::abi::errno::{Errno, KResult};
use crate::abi::poll;
use crate::files::readiness::PollRef;
use crate::signals::Siginfo;
use crate::vfs::{Attr, FileHandle};

/// sizeof(struct signalfd_siginfo).
pub const SIGINFO_SIZE: usize = 128;

pub struct SignalFd {
    pub mask: u64,
    pub ctx: PollRef,
}

impl FileHandle for SignalFd {
    /// Reads other than read(2) (readv, pread) are not supported.
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
        self.ctx.pending.get() & self.mask != 0
    }

    fn poll(&mut self) -> u16 {
        if self.readable() {
            poll::POLLIN | poll::POLLRDNORM
        } else {
            0
        }
    }

    fn proc_name(&self) -> Option<Vec<u8>> {
        Some(crate::files::anon::link_name("signalfd"))
    }

    fn stat(&self) -> Option<Attr> {
        Some(crate::files::anon::anon_attr())
    }

    fn as_any(&mut self) -> Option<&mut dyn std::any::Any> {
        Some(self)
    }
}

/// The `struct signalfd_siginfo` of a taken signal: the siginfo union's
/// words land in the named fields their kind uses.
pub fn record(si: &Siginfo) -> [u8; SIGINFO_SIZE] {
    use crate::signals::{SIGBUS, SIGCHLD, SIGFPE, SIGILL, SIGSEGV, SIGTRAP};
    const SI_TIMER: i32 = -2;
    let mut b = [0u8; SIGINFO_SIZE];
    let mut put = |off: usize, v: &[u8]| b[off..off + v.len()].copy_from_slice(v);
    put(0, &si.signo.to_le_bytes());
    put(4, &si.errno.to_le_bytes());
    put(8, &si.code.to_le_bytes());
    let f = si.fields;
    let fault = [SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP].contains(&si.signo) && si.code > 0;
    if fault {
        put(72, &u64::from(f[0]).to_le_bytes()); // ssi_addr
    } else if si.code == SI_TIMER {
        put(24, &f[0].to_le_bytes()); // ssi_tid
        put(32, &f[1].to_le_bytes()); // ssi_overrun
        put(44, &f[2].to_le_bytes()); // ssi_int
        put(48, &u64::from(f[2]).to_le_bytes()); // ssi_ptr
    } else {
        put(12, &f[0].to_le_bytes()); // ssi_pid
        put(16, &f[1].to_le_bytes()); // ssi_uid
        if si.signo == SIGCHLD {
            put(40, &f[2].to_le_bytes()); // ssi_status
            put(56, &u64::from(f[3]).to_le_bytes()); // ssi_utime
            put(64, &u64::from(f[4]).to_le_bytes()); // ssi_stime
        } else {
            put(44, &f[2].to_le_bytes()); // ssi_int
            put(48, &u64::from(f[2]).to_le_bytes()); // ssi_ptr
        }
    }
    b
}
