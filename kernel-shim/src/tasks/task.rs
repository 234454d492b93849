//! The life of processes and threads: fork/vfork/clone, exit and exit
//! groups, zombies and reaping, reparenting, and wait.
//!
//! fork gives the child a copy-on-write copy of the address space
//! (`Machine::fork_space`), a copy of the descriptor table (sharing the
//! open file descriptions), the cwd, umask, signal actions and mask; the
//! FPU/SSE state travels in the copied `CpuState`. A thread (CLONE_THREAD,
//! which needs CLONE_SIGHAND and CLONE_VM) joins its creator's process
//! entry and so shares everything a thread group shares. vfork
//! (CLONE_VM|CLONE_VFORK, also what glibc's posix_spawn uses) lends the
//! parent's address space to the child: the parent process does not run
//! until the child execs or exits, then takes it back.
//!
//! Limits (documented): CLONE_VM without CLONE_THREAD or CLONE_VFORK is
//! refused (EINVAL); CLONE_FILES/CLONE_FS/CLONE_SIGHAND between distinct
//! processes copy instead of sharing.

use crate::abi::clone;
use crate::abi::errno::{Errno, KResult};
use crate::abi::times::CpuTime;
use crate::abi::wait;
use crate::abi::wstatus;
use crate::kernel::{ExitStatus, Kernel, FIRST_PID};
use crate::signals::{Siginfo, CLD_DUMPED, CLD_EXITED, CLD_KILLED, SA_NOCLDWAIT, SIGCHLD, SIG_IGN};

use crate::tasks::process::{ProcState, Process, StopReport, Thread, ThreadState};
use crate::vfs::file::FdTable;
use wax_cpu::state::reg;
use wax_cpu::{DecodeCache, GuestAddr};

/// The arguments of clone (i386 order: flags, newsp, parent_tid, tls,
/// child_tid).
#[derive(Clone, Copy, Debug, Default)]
pub struct CloneArgs {
    pub flags: u32,
    pub newsp: u32,
    pub parent_tid: u32,
    pub tls: u32,
    pub child_tid: u32,
}

/// Which children a wait looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitFor {
    Any,
    Pid(u32),
    Pgid(u32),
}

/// A child's reportable state change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reaped {
    pub pid: u32,
    /// The wait4 status word.
    pub status: u32,
    /// si_code for waitid (CLD_*), and si_status.
    pub code: i32,
    pub si_status: u32,
    /// The child's CPU time with its reaped descendants' (rusage).
    pub times: CpuTime,
}

impl Kernel {
    /// clone/fork/vfork: returns the child's tid to the parent.
    pub(crate) fn do_clone(&mut self, a: CloneArgs) -> KResult<u32> {
        use clone::*;
        let f = a.flags;
        if (f & CLONE_THREAD != 0 && f & CLONE_SIGHAND == 0)
            || (f & CLONE_SIGHAND != 0 && f & CLONE_VM == 0)
            || (f & CLONE_VM != 0 && f & (CLONE_THREAD | CLONE_VFORK) == 0)
        {
            return Err(Errno::EINVAL);
        }
        let mut cpu = self.machine.cpu().clone();
        cpu.gpr[reg::EAX] = 0;
        if a.newsp != 0 {
            cpu.gpr[reg::ESP] = a.newsp;
        }
        if f & CLONE_SETTLS != 0 {
            let desc = self.read_user_desc(a.tls)?;
            crate::tasks::tls::apply_user_desc(&mut cpu, desc)?;
        }
        let tid = self.tasks.alloc_pid();
        let parent_t = self.current();
        let p = if f & CLONE_THREAD != 0 {
            self.tasks.thread(parent_t).process
        } else {
            self.new_process(tid, f)?
        };
        let comm = self.tasks.thread(parent_t).comm;
        let mut th = Thread::new(tid, p, cpu, comm);
        th.sigmask = self.tasks.thread(parent_t).sigmask;
        th.sched = self.tasks.thread(parent_t).sched.inherited();
        if f & CLONE_VM == 0 || f & CLONE_VFORK != 0 {
            th.altstack = self.tasks.thread(parent_t).altstack;
        }
        if f & CLONE_CHILD_CLEARTID != 0 {
            th.clear_child_tid = a.child_tid;
        }
        let t = self.tasks.add_thread(th, self.current());
        // The parent's memory (a vfork child holds it now).
        let parent_mem = if f & CLONE_VFORK != 0 {
            p
        } else {
            self.tasks.thread(parent_t).process
        };
        if f & CLONE_PARENT_SETTID != 0 {
            let space = &mut self.tasks.proc_mut(parent_mem).space;
            let _ = self
                .machine
                .mem(space)
                .write_u32(GuestAddr(a.parent_tid), tid);
        }
        if f & CLONE_CHILD_SETTID != 0 {
            let space = &mut self.tasks.proc_mut(p).space;
            let _ = self
                .machine
                .mem(space)
                .write_u32(GuestAddr(a.child_tid), tid);
        }
        if f & CLONE_VFORK != 0 && f & CLONE_THREAD == 0 {
            self.tasks.proc_mut(p).vfork_parent = Some(parent_t);
        }
        self.tasks.thread_mut(t).slice = 0;
        Ok(tid)
    }

    /// Reads the `struct user_desc` of CLONE_SETTLS.
    fn read_user_desc(&mut self, at: u32) -> KResult<[u32; 4]> {
        let mut m = self.mem();
        let mut d = [0u32; 4];
        for (i, w) in d.iter_mut().enumerate() {
            *w = m.read_u32(GuestAddr(at + 4 * i as u32))?;
        }
        Ok(d)
    }

    /// A new process for a fork-like clone; returns its slot.
    fn new_process(&mut self, pid: u32, flags: u32) -> KResult<usize> {
        let pp = self.thread().process;
        let vfork = flags & clone::CLONE_VM != 0;
        let (space, cache, mm) = if vfork {
            let fresh = self.machine.new_space().map_err(|_| Errno::ENOMEM)?;
            let parent = self.tasks.proc_mut(pp);
            parent.lent = true;
            (
                std::mem::replace(&mut parent.space, fresh),
                std::mem::replace(&mut parent.cache, DecodeCache::new()),
                parent.mm.clone(),
            )
        } else {
            let mut space = self
                .machine
                .fork_space(&mut self.tasks.proc_mut(pp).space)
                .map_err(|_| Errno::ENOMEM)?;
            let mut mm = self.tasks.proc(pp).mm.clone();
            // MADV_DONTFORK mappings are left out of the child.
            for v in mm.vmas.iter().filter(|v| v.dontfork) {
                self.machine
                    .unmap(&mut space, wax_cpu::GuestAddr(v.start), v.end - v.start);
            }
            mm.vmas.retain(|v| !v.dontfork);
            (space, DecodeCache::new(), mm)
        };
        let parent = self.tasks.proc(pp);
        let ppid = if flags & clone::CLONE_PARENT != 0 {
            parent.ppid
        } else {
            parent.pid
        };
        let child = Process {
            pid,
            ppid,
            pgid: parent.pgid,
            sid: parent.sid,
            space,
            cache,
            mm,
            fds: parent.fds.clone(),
            cwd: parent.cwd.clone(),
            root: parent.root.clone(),
            umask: parent.umask,
            cred: parent.cred.clone(),
            actions: parent.actions,
            rlimits: parent.rlimits,
            exe: parent.exe.clone(),
            state: ProcState::Alive,
            exit_signal: flags & clone::CSIGNAL,
            pending: Default::default(),
            stopped: false,
            report: StopReport::default(),
            pdeathsig: 0,
            personality: parent.personality,
            itimers: Default::default(),
            timers: Vec::new(),
            vfork_parent: None,
            lent: false,
            times: Default::default(),
            child_times: Default::default(),
            did_exec: false,
            child_events: 0,
            running: std::rc::Rc::new(std::cell::Cell::new(true)),
        };
        Ok(self.add_process(child))
    }

    fn add_process(&mut self, p: Process) -> usize {
        let (slot, old) = self.tasks.add_process(p);
        if let Some(old) = old {
            self.machine.free_space(old.space);
        }
        slot
    }

    /// exit(2): ends the calling thread; the last one ends the process.
    pub(crate) fn exit_thread(&mut self, t: usize, code: u32) {
        self.futex_exit(t);
        self.tasks.thread_mut(t).state = ThreadState::Exited;
        let p = self.tasks.thread(t).process;
        if self.tasks.threads_of(p).is_empty() {
            self.exit_process(p, wstatus::exited(code));
        }
    }

    /// exit_group, or a fatal signal: ends every thread of process `p`.
    pub(crate) fn exit_group(&mut self, p: usize, status: u32) {
        for t in self.tasks.threads_of(p) {
            self.futex_exit(t);
            self.tasks.thread_mut(t).state = ThreadState::Exited;
        }
        self.exit_process(p, status);
    }

    fn exit_process(&mut self, p: usize, status: u32) {
        if !self.tasks.proc(p).alive() {
            return;
        }
        self.end_vfork(p);
        self.sync_shared(p);
        let proc = self.tasks.proc_mut(p);
        // Closing the descriptors (pipe ends see EOF/EPIPE now).
        proc.fds = FdTable::default();
        proc.timers.clear();
        proc.itimers = Default::default();
        proc.pending = Default::default();
        proc.stopped = false;
        proc.state = ProcState::Zombie(status);
        proc.running.set(false);
        self.machine
            .unmap(&mut self.tasks.proc_mut(p).space, GuestAddr(0), u32::MAX);
        self.tasks.proc_mut(p).cache = DecodeCache::new();
        self.reparent_children(p);
        if p == self.tasks.first() && self.exit.is_none() {
            self.exit = Some(ExitStatus::Exited((status >> 8) as u8));
        }
        self.notify_exit(p, status);
    }

    /// A vfork child exec'd or exited: the parent gets its memory back
    /// and its vfork returns the child's pid.
    pub(crate) fn end_vfork(&mut self, p: usize) {
        let Some(pt) = self.tasks.proc_mut(p).vfork_parent.take() else {
            return;
        };
        let pp = self.tasks.thread(pt).process;
        if self.tasks.proc(pp).lent {
            let fresh = self.machine.new_space();
            let Ok(fresh) = fresh else {
                return;
            };
            let child = self.tasks.proc_mut(p);
            let space = std::mem::replace(&mut child.space, fresh);
            let cache = std::mem::replace(&mut child.cache, DecodeCache::new());
            let mm = child.mm.clone();
            let parent = self.tasks.proc_mut(pp);
            let placeholder = std::mem::replace(&mut parent.space, space);
            parent.cache = cache;
            parent.mm = mm;
            parent.lent = false;
            self.machine.free_space(placeholder);
        }
        let pid = self.tasks.proc(p).pid;
        if self.tasks.thread(pt).alive() {
            self.wake_with(pt, pid);
        }
    }

    /// Orphans go to the virtual init (pid 1), which reaps them.
    fn reparent_children(&mut self, p: usize) {
        let pid = self.tasks.proc(p).pid;
        for c in self.tasks.children_of(pid) {
            if let Some(sig) = self.tasks.reparent_to_init(c) {
                self.signal_process(c, Siginfo::kernel(sig));
            }
        }
    }

    /// Tells the parent (exit signal, wake its wait) or auto-reaps.
    fn notify_exit(&mut self, p: usize, status: u32) {
        let Some(parent) = self.parent_of(p) else {
            if p != self.tasks.first() {
                self.tasks.proc_mut(p).state = ProcState::Reaped;
            }
            return;
        };
        let pp = self.tasks.proc_mut(parent);
        pp.child_events = pp.child_events.wrapping_add(1);
        let act = pp.actions[SIGCHLD as usize - 1];
        let sig = self.tasks.proc(p).exit_signal;
        if sig == SIGCHLD && (act.handler == SIG_IGN || act.flags & SA_NOCLDWAIT != 0) {
            self.tasks.proc_mut(p).state = ProcState::Reaped;
            return;
        }
        if sig != 0 {
            let r = report_exit(self.tasks.proc(p).pid, status);
            let mut info = Siginfo::child(r.code, r.pid, self.uid, r.si_status);
            info.signo = sig;
            self.signal_process(parent, info);
        }
    }

    /// Looks for a child of the current process to report (wait4,
    /// waitid). `Ok(None)`: children exist but none has news.
    pub(crate) fn find_waitable(&mut self, who: WaitFor, options: u32) -> KResult<Option<Reaped>> {
        let me = self.thread().process;
        let pid = self.tasks.proc(me).pid;
        let mut any = false;
        for c in self.tasks.children_of(pid) {
            if !selects(self.tasks.proc(c), who, options) {
                continue;
            }
            any = true;
            if let Some(r) = self.take_report(c, options) {
                return Ok(Some(r));
            }
        }
        if any {
            Ok(None)
        } else {
            Err(Errno::ECHILD)
        }
    }

    /// The news of child slot `c` the options ask for (consumed unless
    /// WNOWAIT).
    fn take_report(&mut self, c: usize, options: u32) -> Option<Reaped> {
        let keep = options & wait::WNOWAIT != 0;
        let q = self.tasks.proc_mut(c);
        let pid = q.pid;
        if let ProcState::Zombie(status) = q.state {
            if options & wait::WEXITED == 0 {
                return None;
            }
            if !keep {
                q.state = ProcState::Reaped;
                let me = self.thread().process;
                let times = reaped_times(self.tasks.proc(c));
                self.tasks.proc_mut(me).child_times.add(times);
            }
            return Some(Reaped {
                times: reaped_times(self.tasks.proc(c)),
                ..report_exit(pid, status)
            });
        }
        if options & wait::WUNTRACED != 0 {
            if let Some(sig) = q.report.stopped {
                if !keep {
                    q.report.stopped = None;
                }
                return Some(Reaped {
                    pid,
                    status: wstatus::stopped(sig),
                    code: crate::signals::CLD_STOPPED,
                    si_status: sig,
                    times: reaped_times(q),
                });
            }
        }
        if options & wait::WCONTINUED != 0 && q.report.continued {
            if !keep {
                q.report.continued = false;
            }
            return Some(Reaped {
                pid,
                status: wstatus::CONTINUED,
                code: crate::signals::CLD_CONTINUED,
                si_status: crate::signals::SIGCONT,
                times: reaped_times(q),
            });
        }
        None
    }

    /// The first process's pid.
    pub fn first_pid(&self) -> u32 {
        FIRST_PID
    }
}

/// Whether wait's pid selector and __WCLONE/__WALL pick child `q`.
fn selects(q: &Process, who: WaitFor, options: u32) -> bool {
    let by_id = match who {
        WaitFor::Any => true,
        WaitFor::Pid(pid) => q.pid == pid,
        WaitFor::Pgid(g) => q.pgid == g,
    };
    let clone_child = q.exit_signal != SIGCHLD;
    let kind = options & wait::WALL != 0 || (options & wait::WCLONE != 0) == clone_child;
    by_id && kind
}

/// The report of an exited child from its wait status.
fn report_exit(pid: u32, status: u32) -> Reaped {
    let (code, si_status) = if status & 0x7f == 0 {
        (CLD_EXITED, (status >> 8) & 0xff)
    } else if status & 0x80 != 0 {
        (CLD_DUMPED, status & 0x7f)
    } else {
        (CLD_KILLED, status & 0x7f)
    };
    Reaped {
        pid,
        status,
        code,
        si_status,
        times: CpuTime::default(),
    }
}

/// What wait reports as a child's usage: its own and its reaped
/// descendants' CPU time (Linux's RUSAGE_BOTH of the child).
fn reaped_times(q: &Process) -> CpuTime {
    let mut t = q.times;
    t.add(q.child_times);
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_reports() {
        let r = report_exit(5, wstatus::exited(3));
        assert_eq!((r.code, r.si_status), (CLD_EXITED, 3));
        let r = report_exit(5, wstatus::signaled(11, true));
        assert_eq!((r.code, r.si_status), (CLD_DUMPED, 11));
        let r = report_exit(5, wstatus::signaled(15, false));
        assert_eq!((r.code, r.si_status), (CLD_KILLED, 15));
    }
}
