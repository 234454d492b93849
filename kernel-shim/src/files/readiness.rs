//! What anonymous files need from the kernel to answer `poll`.
//!
//! Readiness is pulled (`FileHandle::poll`, see tasks/sched.rs), and a
//! handle has no kernel at hand. Most files do not need one, but a timerfd
//! needs the time and a signalfd the pending signals *of the thread
//! asking*. The kernel keeps both in one shared [`PollContext`] and
//! refreshes it just before it polls descriptors for a thread
//! (`Kernel::refresh_poll` in tasks/sched.rs); timerfds register here too,
//! so the scheduler can tell the host when the next one expires.

use crate::files::timerfd::TimerRef;
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};
use wax_devices::Timespec;

#[derive(Default)]
pub struct PollContext {
    /// Monotonic and realtime clocks, nanoseconds.
    pub mono: Cell<i128>,
    pub real: Cell<i128>,
    /// Signals pending for the polling thread (its own and its
    /// process's).
    pub pending: Cell<u64>,
    timers: RefCell<Vec<Weak<RefCell<crate::files::timerfd::TimerState>>>>,
}

pub type PollRef = Rc<PollContext>;

impl PollContext {
    pub fn register(&self, t: &TimerRef) {
        let mut v = self.timers.borrow_mut();
        v.retain(|w| w.strong_count() > 0);
        v.push(Rc::downgrade(t));
    }

    /// The earliest future expiry of an armed timerfd, on the monotonic
    /// clock.
    pub fn next_deadline(&self) -> Option<Timespec> {
        let (mono, real) = (self.mono.get(), self.real.get());
        let mut best: Option<i128> = None;
        for t in self.timers.borrow().iter().filter_map(Weak::upgrade) {
            let Ok(mut t) = t.try_borrow_mut() else {
                continue;
            };
            if let Some(d) = t.next_mono(mono, real) {
                best = Some(best.map_or(d, |b| b.min(d)));
            }
        }
        best.map(Timespec::from_nanos)
    }
}
