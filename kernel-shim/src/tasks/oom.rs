//! Out of guest memory. Frames are committed on first touch, so a guest
//! can map more than `Config::memory` and find out only when a page
//! cannot be backed. Then the process that needed the page is killed
//! with SIGKILL, as Linux's OOM killer kills a process rather than
//! failing an access (partial: Linux picks the process with the largest
//! footprint; Wax picks the one that ran out, which is the same process
//! in the usual case of one program growing without bound). The host
//! learns of each kill through [`Kernel::take_oom_kills`] and tells the
//! user what ran out and how to get more.
//!
//! A system call that runs out while filling guest memory for the
//! caller kills it the same way; one that fails inside a helper that
//! reports only an errno returns ENOMEM instead.

use crate::kernel::Kernel;
use crate::signals::{Siginfo, SIGKILL};

/// A process killed because guest memory ran out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OomKill {
    pub pid: u32,
    /// The process's name (its first thread's comm).
    pub comm: String,
    /// Bytes of guest memory the machine has.
    pub memory: u64,
}

impl Kernel {
    /// Kills process slot `p`, which needed a frame the machine does not
    /// have, and records the kill for the host.
    pub(crate) fn out_of_memory(&mut self, p: usize) {
        let pid = self.tasks.proc(p).pid;
        if self.tasks.oom_killed(pid) {
            return;
        }
        let comm = self
            .tasks
            .threads_of(p)
            .first()
            .map(|&t| comm_text(&self.tasks.thread(t).comm))
            .unwrap_or_default();
        self.tasks.record_oom_kill(OomKill {
            pid,
            comm,
            memory: self.machine_bytes(),
        });
        self.signal_process(p, Siginfo::kernel(SIGKILL));
    }

    /// The processes killed for lack of memory since the last call.
    pub fn take_oom_kills(&mut self) -> Vec<OomKill> {
        self.tasks.take_oom_kills()
    }
}

fn comm_text(comm: &[u8; 16]) -> String {
    let end = comm.iter().position(|&b| b == 0).unwrap_or(comm.len());
    String::from_utf8_lossy(&comm[..end]).into_owned()
}
