//! The scheduler: deterministic round robin over runnable threads.
//!
//! A thread runs until it parks, exits, wakes another thread through a
//! futex (`futex.rs` says why) or spends its time slice ([`SLICE`]
//! instructions, checked by the executor at block boundaries), so a
//! spinning thread cannot starve the others; the next thread is the first
//! runnable one after it in slot order. Before a thread runs, its pending
//! signals are delivered (`signals/deliver.rs`).
//!
//! Parked threads are woken here, when the scheduler looks for work: each
//! [`Wait`] says what ends it (data on a descriptor, a deadline, a child's
//! state change, a signal; a futex wake and a vfork child's exec wake their
//! threads directly). Readiness of files is pulled, not pushed: a parked
//! reader or poller asks its descriptors' `FileHandle::poll` again, so any
//! file type wakes waiters by just reporting readiness from `poll`. When nothing can run, `run`
//! returns `Idle` with the earliest deadline.

use crate::abi::errno::Errno;
use crate::abi::poll;
use crate::kernel::{Kernel, RunStatus};
use crate::signals::{self, SA_RESTART, SIG_DFL, SIG_IGN};
use crate::tasks::process::{Interrupt, ThreadState, Wait};
use wax_cpu::state::reg;
use wax_devices::Timespec;

/// Instructions a thread runs before the next runnable thread's turn.
pub const SLICE: u64 = 200_000;

/// A thread's policy, static priority and reset-on-fork flag.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Policy {
    pub policy: u32,
    pub priority: u32,
    pub reset_on_fork: bool,
}

impl Policy {
    /// What a child created by fork/clone starts with.
    pub fn inherited(self) -> Policy {
        if self.reset_on_fork {
            Policy::default()
        } else {
            self
        }
    }
}

impl Kernel {
    /// Makes a runnable thread current (with its signals delivered);
    /// returns the status for `run` if none can run.
    pub(crate) fn schedule(&mut self) -> Option<RunStatus> {
        loop {
            let t = match self.pick() {
                Ok(t) => t,
                Err(idle) => return Some(idle),
            };
            self.switch_to(t);
            self.deliver_signals();
            if let Some(s) = self.exit {
                return Some(RunStatus::Exited(s));
            }
            if self.can_run(self.current()) {
                return None;
            }
        }
    }

    /// The thread to run: the current one while its slice lasts, else the
    /// next runnable (or wakeable) one in slot order.
    fn pick(&mut self) -> Result<usize, RunStatus> {
        let cur = self.current();
        if self.can_run(cur) && self.tasks.thread(cur).slice > 0 {
            return Ok(cur);
        }
        let now = self.time.monotonic();
        let mut earliest = match (self.next_timer(), self.next_timerfd()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let n = self.tasks.thread_slots();
        for i in 1..=n {
            let t = (cur + i) % n;
            if !self.tasks.thread(t).alive() || !self.process_runs(t) {
                continue;
            }
            let woken = match self.tasks.thread(t).state {
                ThreadState::Runnable => true,
                ThreadState::Waiting(w) => {
                    let woken = self.try_wake(t, w, now);
                    if !woken {
                        if let Some(d) = w.deadline() {
                            earliest = Some(earliest.map_or(d, |e: Timespec| e.min(d)));
                        }
                    }
                    woken
                }
                ThreadState::Exited => false,
            };
            if woken {
                self.tasks.thread_mut(t).slice = SLICE;
                return Ok(t);
            }
        }
        Err(RunStatus::Idle { deadline: earliest })
    }

    /// Whether thread `t` may execute guest code now.
    pub(crate) fn can_run(&self, t: usize) -> bool {
        let th = self.tasks.thread(t);
        th.state == ThreadState::Runnable && self.process_runs(t)
    }

    /// The thread's process is neither stopped nor frozen by vfork.
    fn process_runs(&self, t: usize) -> bool {
        let p = self.tasks.proc(self.tasks.thread(t).process);
        p.alive() && !p.stopped && !p.lent
    }

    /// Ends a wait whose condition holds, or that a signal interrupts.
    fn try_wake(&mut self, t: usize, w: Wait, now: Timespec) -> bool {
        if let Wait::Durable { mount, ticket } = w {
            let Some(kept) = self.vfs.fs_query(mount).durability(ticket) else {
                return false;
            };
            self.wake_with(t, kept.map_or_else(Errno::as_return, |()| 0));
            return true;
        }
        let timed_out = w.deadline().is_some_and(|d| now >= d);
        let ready = match w {
            Wait::Readable { fd } => {
                let want = poll::POLLIN
                    | poll::POLLRDNORM
                    | poll::POLLHUP
                    | poll::POLLERR
                    | poll::POLLNVAL;
                self.fd_poll(t, fd) & want != 0
            }
            Wait::Writable { fd } => {
                self.fd_poll(t, fd) & (poll::POLLOUT | poll::POLLERR | poll::POLLHUP) != 0
            }
            Wait::Poll { .. } => timed_out || self.poll_set_ready(t),
            Wait::Child { seen } => {
                self.tasks.proc(self.tasks.thread(t).process).child_events != seen
            }
            Wait::Signal { .. } => timed_out || self.waited_signal_pending(t),
            Wait::Until { .. } | Wait::Futex { .. } => timed_out,
            Wait::Vfork { .. } | Wait::Durable { .. } => false,
        };
        if ready {
            self.complete_wait(t, w, timed_out);
            return true;
        }
        if self.deliverable(t) != 0 && !matches!(w, Wait::Vfork { .. } | Wait::Durable { .. }) {
            self.interrupt_wait(t, w, now);
            return true;
        }
        false
    }

    /// Readiness of thread `t`'s descriptor (POLLNVAL if closed).
    pub(crate) fn fd_poll(&mut self, t: usize, fd: u32) -> u16 {
        self.refresh_poll(t);
        let p = self.tasks.thread(t).process;
        let Ok(file) = self.tasks.proc(p).fds.file(fd) else {
            return poll::POLLNVAL;
        };
        let mut f = file.borrow_mut();
        match f.handle.as_mut() {
            Some(h) => h.poll(),
            None => poll::POLLIN | poll::POLLOUT,
        }
    }

    fn poll_set_ready(&mut self, t: usize) -> bool {
        let set = std::mem::take(&mut self.tasks.thread_mut(t).poll_set);
        let always = poll::POLLERR | poll::POLLHUP | poll::POLLNVAL;
        let ready = set
            .iter()
            .any(|&(fd, events)| self.fd_poll(t, fd) & (events | always) != 0);
        self.tasks.thread_mut(t).poll_set = set;
        ready
    }

    fn waited_signal_pending(&self, t: usize) -> bool {
        let th = self.tasks.thread(t);
        let pending = th.pending.set | self.tasks.proc(th.process).pending.set;
        pending & th.wait_set != 0
    }

    /// Pending signals thread `t` does not block and may take: its own,
    /// and the process-directed ones that are its to take.
    pub(crate) fn deliverable(&self, t: usize) -> u64 {
        let th = self.tasks.thread(t);
        let shared = self.tasks.proc(th.process).pending.set;
        let shared = if shared == 0 {
            0
        } else {
            shared & self.shared_for(t)
        };
        (th.pending.set | shared) & !th.sigmask
    }

    /// The process-directed signals thread `t` may take. Linux's
    /// `complete_signal` offers such a signal to the thread group leader
    /// first and wakes it, unless the leader blocks it; any thread may
    /// take the signal only then. So a main thread in pause() wakes even
    /// while another thread runs (Python runs its handlers in the main
    /// thread and counts on that). Here: the leader takes all of them,
    /// another thread those the leader blocks, any thread all of them
    /// once the leader has exited.
    fn shared_for(&self, t: usize) -> u64 {
        let th = self.tasks.thread(t);
        let pid = self.tasks.proc(th.process).pid;
        if th.tid == pid {
            return u64::MAX;
        }
        let leader = self
            .tasks
            .find_tid(pid)
            .map(|l| self.tasks.thread(l))
            .filter(|l| l.process == th.process);
        leader.map_or(u64::MAX, |l| l.sigmask)
    }

    /// The wait is over: restart the call or store its result.
    fn complete_wait(&mut self, t: usize, w: Wait, timed_out: bool) {
        let cpu = self.cpu_of(t);
        if w.restarts() {
            cpu.eip = cpu.eip.wrapping_sub(2);
        } else {
            match w {
                Wait::Until { result, .. } => cpu.gpr[reg::EAX] = result,
                Wait::Futex { .. } => cpu.gpr[reg::EAX] = Errno::ETIMEDOUT.as_return(),
                Wait::Signal { .. } if timed_out => {
                    cpu.gpr[reg::EAX] = Errno::EAGAIN.as_return();
                    // The call is over: its deadline must not become the
                    // next poll's or sigtimedwait's.
                    self.tasks.thread_mut(t).restart_deadline = None;
                }
                // rt_sigtimedwait: a waited signal arrived; the call takes
                // it when executed again.
                Wait::Signal { .. } => cpu.eip = cpu.eip.wrapping_sub(2),
                _ => {}
            }
        }
        self.tasks.thread_mut(t).state = ThreadState::Runnable;
    }

    /// A signal arrived while the thread waited: EINTR, or a transparent
    /// restart (SA_RESTART for restartable calls, or no handler to run).
    fn interrupt_wait(&mut self, t: usize, w: Wait, now: Timespec) {
        let sig = signals::next_signal(self.deliverable(t)).unwrap_or(0);
        let p = self.tasks.thread(t).process;
        let action = self.tasks.proc(p).actions[sig as usize - 1];
        let handled = action.handler != SIG_DFL && action.handler != SIG_IGN;
        let restart =
            !handled || (w.interrupt() == Interrupt::RestartSys && action.flags & SA_RESTART != 0);
        self.tasks.thread_mut(t).state = ThreadState::Runnable;
        if handled {
            let written = std::mem::take(&mut self.tasks.thread_mut(t).write_done);
            if written > 0 {
                // A write that moved bytes before a handled signal returns
                // their count, with or without SA_RESTART (Linux's
                // pipe_write); a signal without a handler leaves it going.
                self.cpu_of(t).gpr[reg::EAX] = written;
                return;
            }
        }
        if restart {
            let cpu = self.cpu_of(t);
            cpu.eip = cpu.eip.wrapping_sub(2);
            return;
        }
        self.tasks.thread_mut(t).restart_deadline = None;
        self.cpu_of(t).gpr[reg::EAX] = Errno::EINTR.as_return();
        if let Wait::Until { deadline, rem, .. } = w {
            self.write_remaining(t, deadline, now, rem);
        }
    }

    /// An interrupted nanosleep's `*rem`.
    fn write_remaining(&mut self, t: usize, deadline: Timespec, now: Timespec, rem: u32) {
        if rem == 0 {
            return;
        }
        let left = Timespec::from_nanos((deadline.as_nanos() - now.as_nanos()).max(0));
        let p = self.tasks.thread(t).process;
        let mut m = self.machine.mem(&mut self.tasks.proc_mut(p).space);
        let at = wax_cpu::GuestAddr(rem);
        // An unwritable `rem` is ignored, as Linux's restart path does.
        let _ = m
            .write_u32(at, left.sec as u32)
            .and_then(|_| m.write_u32(at.add(4), left.nsec));
    }

    /// Points /proc/self at process slot `p`.
    pub(crate) fn show_process(&mut self, p: usize) {
        if self.shown != Some(p) {
            self.shown = Some(p);
            self.proc_info.borrow_mut().exe = self.tasks.proc(p).exe.clone();
        }
    }

    /// Parks the current thread (its EIP stays past `int 0x80`).
    pub(crate) fn park(&mut self, w: Wait) {
        self.thread().state = ThreadState::Waiting(w);
    }

    /// Makes a parked thread runnable with `result` in EAX.
    pub(crate) fn wake_with(&mut self, t: usize, result: u32) {
        self.tasks.thread_mut(t).state = ThreadState::Runnable;
        self.cpu_of(t).gpr[reg::EAX] = result;
    }
}

/// The poll context (`files/readiness.rs`) is filled here, where threads
/// are polled.
impl Kernel {
    /// Readies the poll context for polling thread `t`'s descriptors.
    pub(crate) fn refresh_poll(&mut self, t: usize) {
        let c = &self.files.pollctx;
        c.mono.set(self.time.monotonic().as_nanos());
        c.real.set(self.time.realtime().as_nanos());
        let th = self.tasks.thread(t);
        c.pending
            .set(th.pending.set | self.tasks.proc(th.process).pending.set);
    }

    /// The next timerfd expiry (for the scheduler's idle deadline).
    pub(crate) fn next_timerfd(&mut self) -> Option<Timespec> {
        let c = &self.files.pollctx;
        c.mono.set(self.time.monotonic().as_nanos());
        c.real.set(self.time.realtime().as_nanos());
        c.next_deadline()
    }
}
