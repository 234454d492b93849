//! Sending and delivering signals (see `mod.rs` for the life of a
//! signal).
//!
//! Sending decides what must happen at once, as Linux's
//! `prepare_signal`/`complete_signal` do: SIGKILL and fatal default
//! actions end the thread group now (unless every thread blocks the
//! signal), SIGCONT resumes a stopped process and drops pending stop
//! signals (and a stop signal drops a pending SIGCONT), ignored signals are
//! dropped unless blocked. Everything else is queued. Delivery runs when a
//! thread is about to execute guest code: for each pending signal it does
//! not block, take the default action or push a handler frame.

use crate::abi::wstatus;
use crate::kernel::{ExitStatus, Kernel};
use crate::signals::{
    self, bit, default_action, DefaultAction, Siginfo, CLD_CONTINUED, CLD_STOPPED, SA_NOCLDSTOP,
    SA_NODEFER, SA_RESETHAND, SIGCHLD, SIGCONT, SIGKILL, SIG_DFL, SIG_IGN,
};

/// SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU.
const STOP_SIGNALS: u64 = 1 << 18 | 1 << 19 | 1 << 20 | 1 << 21;

impl Kernel {
    /// Sends a process-directed signal (kill) to process slot `p`.
    pub(crate) fn signal_process(&mut self, p: usize, info: Siginfo) {
        if !self.tasks.proc(p).alive() || !self.prepare_signal(p, info.signo) {
            return;
        }
        let sig = info.signo;
        let threads = self.tasks.threads_of(p);
        let target = threads
            .iter()
            .copied()
            .find(|&t| self.tasks.thread(t).sigmask & bit(sig) == 0);
        if target.is_some() && self.fatal_now(p, sig) {
            self.kill_process(p, sig, None);
            return;
        }
        self.tasks.proc_mut(p).pending.push(info);
    }

    /// Sends a thread-directed signal (tkill, tgkill, SIGPIPE).
    pub(crate) fn signal_thread(&mut self, t: usize, info: Siginfo) {
        let p = self.tasks.thread(t).process;
        if !self.tasks.thread(t).alive() || !self.prepare_signal(p, info.signo) {
            return;
        }
        let sig = info.signo;
        if self.tasks.thread(t).sigmask & bit(sig) == 0 && self.fatal_now(p, sig) {
            self.kill_process(p, sig, None);
            return;
        }
        self.tasks.thread_mut(t).pending.push(info);
    }

    /// A synchronous fault in the current thread: a blocked or ignored
    /// signal is unblocked and reset to the default action first (Linux's
    /// `force_sig_info`), so the fault cannot be ignored.
    pub(crate) fn force_signal(&mut self, info: Siginfo) {
        let sig = info.signo;
        let idx = sig as usize - 1;
        let p = self.thread().process;
        let blocked = self.thread().sigmask & bit(sig) != 0;
        if blocked || self.tasks.proc(p).actions[idx].handler == SIG_IGN {
            self.tasks.proc_mut(p).actions[idx].handler = SIG_DFL;
            self.thread().sigmask &= !bit(sig);
        }
        self.thread().pending.push(info);
    }

    /// The effects of sending `sig` to process slot `p` that happen at
    /// once; false if the signal is dropped.
    fn prepare_signal(&mut self, p: usize, sig: u32) -> bool {
        if sig == 0 {
            return false;
        }
        if sig == SIGCONT || sig == SIGKILL {
            self.discard_pending(p, STOP_SIGNALS);
            self.continue_process(p);
        } else if STOP_SIGNALS & bit(sig) != 0 {
            self.discard_pending(p, bit(SIGCONT));
        }
        !self.ignored(p, sig)
    }

    fn discard_pending(&mut self, p: usize, set: u64) {
        self.tasks.proc_mut(p).pending.discard(set);
        for t in self.tasks.threads_of(p) {
            self.tasks.thread_mut(t).pending.discard(set);
        }
    }

    /// Ignored and blocked by no thread (blocked signals stay pending:
    /// the action may change before they are unblocked).
    fn ignored(&self, p: usize, sig: u32) -> bool {
        if sig == SIGKILL {
            return false;
        }
        let h = self.tasks.proc(p).actions[sig as usize - 1].handler;
        let ignored =
            h == SIG_IGN || (h == SIG_DFL && default_action(sig) == DefaultAction::Ignore);
        ignored
            && self
                .tasks
                .threads_of(p)
                .iter()
                .all(|&t| self.tasks.thread(t).sigmask & bit(sig) == 0)
    }

    /// Whether `sig` kills process `p` without a handler running.
    fn fatal_now(&self, p: usize, sig: u32) -> bool {
        if sig == SIGKILL {
            return true;
        }
        let h = self.tasks.proc(p).actions[sig as usize - 1].handler;
        h == SIG_DFL
            && matches!(
                default_action(sig),
                DefaultAction::Terminate | DefaultAction::Core
            )
    }

    /// Delivers the current thread's pending signals that it does not
    /// block (default actions, or handler frames).
    pub(crate) fn deliver_signals(&mut self) {
        loop {
            let t = self.current();
            if !self.can_run(t) {
                return;
            }
            let Some(sig) = signals::next_signal(self.deliverable(t)) else {
                return;
            };
            let p = self.tasks.thread(t).process;
            let info = match self.tasks.thread_mut(t).pending.take(sig) {
                Some(i) => i,
                None => self.tasks.proc_mut(p).pending.take(sig).unwrap_or_default(),
            };
            self.deliver(p, info);
        }
    }

    fn deliver(&mut self, p: usize, info: Siginfo) {
        let sig = info.signo;
        let action = self.tasks.proc(p).actions[sig as usize - 1];
        match action.handler {
            SIG_IGN => {}
            SIG_DFL => self.default_action(p, info),
            _ => {
                if !self.push_frame(sig, &action, &info) {
                    // No room for the frame: Linux forces SIGSEGV.
                    self.kill_process(p, signals::SIGSEGV, None);
                    return;
                }
                let t = self.current();
                let mut mask = action.mask;
                if action.flags & SA_NODEFER == 0 {
                    mask |= bit(sig);
                }
                self.tasks.thread_mut(t).sigmask |= mask & !signals::UNBLOCKABLE;
                if action.flags & SA_RESETHAND != 0 {
                    self.tasks.proc_mut(p).actions[sig as usize - 1] = Default::default();
                }
            }
        }
    }

    fn default_action(&mut self, p: usize, info: Siginfo) {
        let sig = info.signo;
        match default_action(sig) {
            DefaultAction::Ignore | DefaultAction::Continue => {}
            DefaultAction::Stop => self.stop_process(p, sig),
            DefaultAction::Terminate | DefaultAction::Core => {
                let fault = is_fault(&info).then(|| (info.fields[0], self.machine.cpu().eip));
                self.kill_process(p, sig, fault);
            }
        }
    }

    /// Ends the thread group by signal `sig`.
    pub(crate) fn kill_process(&mut self, p: usize, sig: u32, fault: Option<(u32, u32)>) {
        let core =
            default_action(sig) == DefaultAction::Core && self.tasks.proc(p).rlimits[4].0 > 0;
        if p == self.tasks.first() && self.exit.is_none() {
            self.exit = Some(ExitStatus::Killed { signal: sig, fault });
        }
        self.exit_group(p, wstatus::signaled(sig, core));
    }

    fn stop_process(&mut self, p: usize, sig: u32) {
        let proc = self.tasks.proc_mut(p);
        if proc.stopped {
            return;
        }
        proc.stopped = true;
        proc.report.stopped = Some(sig);
        proc.report.continued = false;
        self.notify_parent(p, CLD_STOPPED, sig);
    }

    fn continue_process(&mut self, p: usize) {
        let proc = self.tasks.proc_mut(p);
        if !proc.stopped {
            return;
        }
        proc.stopped = false;
        proc.report.stopped = None;
        proc.report.continued = true;
        self.notify_parent(p, CLD_CONTINUED, SIGCONT);
    }

    /// SIGCHLD to the parent for a stop or continue (not with
    /// SA_NOCLDSTOP), and a wake-up for its wait4.
    fn notify_parent(&mut self, p: usize, code: i32, status: u32) {
        let Some(parent) = self.parent_of(p) else {
            return;
        };
        self.tasks.proc_mut(parent).child_events =
            self.tasks.proc_mut(parent).child_events.wrapping_add(1);
        let act = self.tasks.proc(parent).actions[SIGCHLD as usize - 1];
        if act.flags & SA_NOCLDSTOP != 0 {
            return;
        }
        let info = Siginfo::child(code, self.tasks.proc(p).pid, self.uid, status);
        self.signal_process(parent, info);
    }

    /// The live process slot of `p`'s parent.
    pub(crate) fn parent_of(&self, p: usize) -> Option<usize> {
        let ppid = self.tasks.proc(p).ppid;
        self.tasks.find_live(ppid)
    }
}

/// A signal raised by a CPU fault (its si_addr is worth reporting).
fn is_fault(info: &Siginfo) -> bool {
    use signals::{SIGBUS, SIGFPE, SIGILL, SIGSEGV, SIGTRAP};
    matches!(info.signo, SIGSEGV | SIGBUS | SIGILL | SIGFPE | SIGTRAP) && info.code > 0
}
