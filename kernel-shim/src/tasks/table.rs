//! The task table: every process and thread slot, the pid allocator, and
//! the facts about the first process and the machine's task accounts.
//!
//! Slots are indices into `procs` and `threads`; a reaped process's or an
//! exited thread's slot is reused. Which thread runs is not here: that is
//! the kernel's (`Kernel::current`, the one accessor), since it must agree
//! with the machine's CPU slot.

use crate::abi::times::CpuTime;
use crate::kernel::FIRST_PID;
use crate::tasks::oom::OomKill;
use crate::tasks::process::{default_rlimits, ProcState, Process, Rlimits, Thread};

/// Highest pid before wrapping to 300 (Linux's default pid_max on 32-bit).
const PID_MAX: u32 = 32768;

pub(crate) struct Tasks {
    procs: Vec<Process>,
    threads: Vec<Thread>,
    /// The pid the next fork/clone tries first.
    next_pid: u32,
    /// Process slot of the first process (its exit ends `run`).
    first: usize,
    /// Processes killed for lack of memory, not yet taken by the host.
    oom_kills: Vec<OomKill>,
    /// The resource limits the first process starts with.
    first_rlimits: Rlimits,
    /// Signals the first process starts ignoring (bit N-1 for signal N).
    first_ignored: u64,
    /// CPU time of every guest thread since boot (`tasks/cputime.rs`).
    cpu_total: CpuTime,
}

impl Default for Tasks {
    fn default() -> Tasks {
        Tasks {
            procs: Vec::new(),
            threads: Vec::new(),
            next_pid: FIRST_PID + 1,
            first: 0,
            oom_kills: Vec::new(),
            first_rlimits: default_rlimits(),
            first_ignored: 0,
            cpu_total: CpuTime::default(),
        }
    }
}

impl Tasks {
    /// Adds the first process; returns its slot.
    pub(crate) fn add_first(&mut self, p: Process) -> usize {
        self.procs.push(p);
        self.first = self.procs.len() - 1;
        self.first
    }

    /// The process in slot `p` (any state, reaped included).
    pub(crate) fn proc(&self, p: usize) -> &Process {
        &self.procs[p]
    }

    pub(crate) fn proc_mut(&mut self, p: usize) -> &mut Process {
        &mut self.procs[p]
    }

    /// The thread in slot `t` (exited ones included).
    pub(crate) fn thread(&self, t: usize) -> &Thread {
        &self.threads[t]
    }

    pub(crate) fn thread_mut(&mut self, t: usize) -> &mut Thread {
        &mut self.threads[t]
    }

    /// How many process slots there are (reaped ones included).
    pub(crate) fn proc_slots(&self) -> usize {
        self.procs.len()
    }

    /// How many thread slots there are (exited ones included).
    pub(crate) fn thread_slots(&self) -> usize {
        self.threads.len()
    }

    /// Every thread slot with its thread, exited ones included.
    pub(crate) fn threads(&self) -> impl Iterator<Item = (usize, &Thread)> {
        self.threads.iter().enumerate()
    }

    /// Process slot of the first process.
    pub(crate) fn first(&self) -> usize {
        self.first
    }

    /// The process slot with pid `pid` that is not reaped.
    pub(crate) fn find_pid(&self, pid: u32) -> Option<usize> {
        self.procs
            .iter()
            .position(|p| p.pid == pid && p.state != ProcState::Reaped)
    }

    /// The live process slot with pid `pid` (not a zombie).
    pub(crate) fn find_live(&self, pid: u32) -> Option<usize> {
        self.procs.iter().position(|p| p.pid == pid && p.alive())
    }

    /// The thread slot with tid `tid`.
    pub(crate) fn find_tid(&self, tid: u32) -> Option<usize> {
        self.threads.iter().position(|t| t.alive() && t.tid == tid)
    }

    /// Slots of the live processes (neither zombies nor reaped).
    pub(crate) fn live(&self) -> Vec<usize> {
        (0..self.procs.len())
            .filter(|&p| self.procs[p].alive())
            .collect()
    }

    /// Every live process (neither zombie nor reaped) with its slot.
    pub(crate) fn live_procs(&self) -> impl Iterator<Item = (usize, &Process)> {
        self.procs.iter().enumerate().filter(|(_, p)| p.alive())
    }

    /// Slots of the processes not yet reaped (live ones and zombies).
    pub(crate) fn unreaped(&self) -> Vec<usize> {
        (0..self.procs.len())
            .filter(|&p| self.procs[p].state != ProcState::Reaped)
            .collect()
    }

    /// Slots of the children of pid `pid` not yet reaped (live ones and
    /// zombies), in slot order.
    pub(crate) fn children_of(&self, pid: u32) -> Vec<usize> {
        (0..self.procs.len())
            .filter(|&c| self.procs[c].ppid == pid && self.procs[c].state != ProcState::Reaped)
            .collect()
    }

    /// Gives child slot `c` to the virtual init (pid 1), which reaps a
    /// zombie at once; returns its parent-death signal if it is set and
    /// the child still lives.
    pub(crate) fn reparent_to_init(&mut self, c: usize) -> Option<u32> {
        let q = &mut self.procs[c];
        q.ppid = 1;
        if let ProcState::Zombie(_) = q.state {
            q.state = ProcState::Reaped;
        }
        (q.pdeathsig != 0 && q.alive()).then_some(q.pdeathsig)
    }

    /// Processes `pid` selects for kill from process slot `me`: >0 one,
    /// 0 `me`'s group, -1 everyone but `me`, < -1 a group; zombies
    /// included, reaped slots not.
    pub(crate) fn kill_targets(&self, me: usize, pid: i32) -> Vec<usize> {
        let my_pgid = self.procs[me].pgid;
        (0..self.procs.len())
            .filter(|&p| {
                let q = &self.procs[p];
                q.state != ProcState::Reaped
                    && match pid {
                        0 => q.pgid == my_pgid,
                        -1 => p != me,
                        n if n < 0 => q.pgid == n.unsigned_abs(),
                        n => q.pid == n as u32,
                    }
            })
            .collect()
    }

    /// Whether a live process has an interval or POSIX timer armed.
    pub(crate) fn timers_armed(&self) -> bool {
        self.live_procs()
            .any(|(_, p)| p.itimers.iter().any(|t| t.next != 0) || !p.timers.is_empty())
    }

    /// Slots of the live processes of process group `pgid`.
    pub(crate) fn group(&self, pgid: u32) -> Vec<usize> {
        (0..self.procs.len())
            .filter(|&p| self.procs[p].alive() && self.procs[p].pgid == pgid)
            .collect()
    }

    /// Whether a live process of session `sid` is in process group `pgid`
    /// (setpgid's and TIOCSPGRP's test for joining an existing group).
    pub(crate) fn group_in_session(&self, pgid: u32, sid: u32) -> bool {
        self.live_procs()
            .any(|(_, p)| p.pgid == pgid && p.sid == sid)
    }

    /// POSIX's orphaned process group: no member has a parent in another
    /// group of the same session (so no shell is left to continue it).
    pub(crate) fn pgrp_orphaned(&self, pgid: u32) -> bool {
        let mut members = self.live_procs().filter(|(_, p)| p.pgid == pgid);
        !members.any(|(_, p)| {
            self.live_procs()
                .any(|(_, q)| q.pid == p.ppid && q.pgid != pgid && q.sid == p.sid)
        })
    }

    /// Whether a live process is in process group `pgid`.
    pub(crate) fn group_exists(&self, pgid: u32) -> bool {
        self.procs.iter().any(|p| p.alive() && p.pgid == pgid)
    }

    /// The live thread slots of process slot `p`.
    pub(crate) fn threads_of(&self, p: usize) -> Vec<usize> {
        (0..self.threads.len())
            .filter(|&t| self.threads[t].process == p && self.threads[t].alive())
            .collect()
    }

    /// Adds the first process's first thread; returns its slot.
    pub(crate) fn add_first_thread(&mut self, t: Thread) -> usize {
        self.threads.push(t);
        self.threads.len() - 1
    }

    /// A slot for thread `t`: an exited thread's (never `current`'s, whose
    /// state the machine's CPU slot still holds) or a new one.
    pub(crate) fn add_thread(&mut self, t: Thread, current: usize) -> usize {
        let free = (0..self.threads.len()).find(|&i| i != current && !self.threads[i].alive());
        match free {
            Some(slot) => {
                self.threads[slot] = t;
                slot
            }
            None => {
                self.threads.push(t);
                self.threads.len() - 1
            }
        }
    }

    /// Puts process `p` in a reaped process's slot or a new one; returns
    /// the slot and the process it replaced (whose address space the
    /// caller frees).
    pub(crate) fn add_process(&mut self, p: Process) -> (usize, Option<Process>) {
        match self.procs.iter().position(|q| q.state == ProcState::Reaped) {
            Some(slot) => (slot, Some(std::mem::replace(&mut self.procs[slot], p))),
            None => {
                self.procs.push(p);
                (self.procs.len() - 1, None)
            }
        }
    }

    /// The next free pid (never one a process, group or thread uses).
    pub(crate) fn alloc_pid(&mut self) -> u32 {
        loop {
            let pid = self.next_pid;
            self.next_pid = if pid >= PID_MAX { 300 } else { pid + 1 };
            let used = self.procs.iter().any(|p| {
                p.state != ProcState::Reaped && (p.pid == pid || p.pgid == pid || p.sid == pid)
            }) || self.threads.iter().any(|t| t.alive() && t.tid == pid);
            if !used {
                return pid;
            }
        }
    }

    /// Tasks the machine holds, as Linux's nr_threads counts them (sysinfo,
    /// /proc/loadavg): living threads, and each zombie process until it
    /// is reaped.
    pub(crate) fn task_count(&self) -> u32 {
        let threads = self.threads.iter().filter(|t| t.alive()).count();
        let zombies = self
            .procs
            .iter()
            .filter(|p| matches!(p.state, ProcState::Zombie(_)))
            .count();
        (threads + zombies) as u32
    }

    /// The resource limits the first process starts with.
    pub(crate) fn first_rlimits(&self) -> Rlimits {
        self.first_rlimits
    }

    pub(crate) fn set_first_rlimits(&mut self, limits: Rlimits) {
        self.first_rlimits = limits;
    }

    /// Signals the first process starts ignoring (bit N-1 for signal N).
    pub(crate) fn first_ignored(&self) -> u64 {
        self.first_ignored
    }

    pub(crate) fn set_first_ignored(&mut self, set: u64) {
        self.first_ignored = set;
    }

    /// Adds `c` to the machine's CPU time since boot.
    pub(crate) fn charge_machine(&mut self, c: CpuTime) {
        self.cpu_total.add(c);
    }

    /// CPU time consumed by every guest thread since boot.
    pub(crate) fn cpu_total(&self) -> CpuTime {
        self.cpu_total
    }

    /// Records an OOM kill for the host.
    pub(crate) fn record_oom_kill(&mut self, kill: OomKill) {
        self.oom_kills.push(kill);
    }

    /// Whether an OOM kill of `pid` is recorded and not yet taken.
    pub(crate) fn oom_killed(&self, pid: u32) -> bool {
        self.oom_kills.iter().any(|k| k.pid == pid)
    }

    pub(crate) fn take_oom_kills(&mut self) -> Vec<OomKill> {
        std::mem::take(&mut self.oom_kills)
    }
}
