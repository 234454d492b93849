//! Interval timers (setitimer, alarm) and POSIX timers (timer_create):
//! expiry is checked by the run loop, and the earliest real-time expiry
//! is part of the deadline `run` reports when idle.
//!
//! ITIMER_VIRTUAL counts the process's user CPU time, ITIMER_PROF its
//! user and system time, and a POSIX timer on a CPU-time clock the
//! process's CPU time (`cputime.rs`; partial: a timer on
//! CLOCK_THREAD_CPUTIME_ID or on another process's clock counts the
//! timer's own process). Those expire only while the process runs, so
//! they are not part of the deadline `run` reports when idle.

use crate::kernel::Kernel;
use crate::signals::{Siginfo, SIGALRM, SIGPROF, SIGVTALRM, SI_TIMER};
use crate::tasks::process::ITimer;
use wax_devices::Timespec;

impl Kernel {
    /// Sends the signals of expired timers.
    pub(crate) fn fire_timers(&mut self) {
        if !self.tasks.timers_armed() {
            return;
        }
        for p in 0..self.tasks.proc_slots() {
            if !self.tasks.proc(p).alive() {
                continue;
            }
            for (i, sig) in [(0, SIGALRM), (1, SIGVTALRM), (2, SIGPROF)] {
                let now = self.itimer_now(p, i);
                let t = &mut self.tasks.proc_mut(p).itimers[i];
                if expire(t, now).is_some() {
                    self.signal_process(p, Siginfo::kernel(sig));
                }
            }
            self.fire_posix_timers(p);
        }
    }

    /// The clock interval timer `which` of process slot `p` counts, in ns.
    pub(crate) fn itimer_now(&self, p: usize, which: usize) -> i128 {
        let times = self.tasks.proc(p).times;
        match which {
            0 => self.time.monotonic().as_nanos(),
            1 => i128::from(times.user),
            _ => i128::from(times.total()),
        }
    }

    /// The time base a POSIX timer of process slot `p` on `clock` counts
    /// in: the process's CPU time for a CPU-time clock, else monotonic.
    pub(crate) fn timer_base(&self, p: usize, clock: u32) -> i128 {
        if crate::tasks::cputime::is_cpu_clock(clock) {
            i128::from(self.tasks.proc(p).times.total())
        } else {
            self.time.monotonic().as_nanos()
        }
    }

    fn fire_posix_timers(&mut self, p: usize) {
        for i in 0..self.tasks.proc(p).timers.len() {
            let now = self.timer_base(p, self.tasks.proc(p).timers[i].clock);
            let tm = &mut self.tasks.proc_mut(p).timers[i];
            let mut it = ITimer {
                next: tm.next,
                interval: tm.interval,
            };
            let Some(missed) = expire(&mut it, now) else {
                continue;
            };
            tm.next = it.next;
            tm.overrun = missed;
            if tm.silent {
                continue;
            }
            let info = Siginfo {
                signo: tm.signo,
                code: SI_TIMER,
                fields: [tm.id, missed, tm.value, 0, 0],
                ..Siginfo::default()
            };
            match (tm.tid, self.tasks.proc(p).alive()) {
                (0, true) => self.signal_process(p, info),
                (tid, true) => {
                    if let Some(t) = self.tasks.find_tid(tid) {
                        self.signal_thread(t, info);
                    }
                }
                _ => {}
            }
        }
    }

    /// The earliest armed real-time expiry (for `Idle`).
    pub(crate) fn next_timer(&self) -> Option<Timespec> {
        let mut best: Option<i128> = None;
        for (_, p) in self.tasks.live_procs() {
            let real = p.itimers[0].next;
            let posix = p
                .timers
                .iter()
                .filter(|t| !crate::tasks::cputime::is_cpu_clock(t.clock))
                .map(|t| t.next);
            for n in std::iter::once(real).chain(posix).filter(|&n| n != 0) {
                best = Some(best.map_or(n, |b| b.min(n)));
            }
        }
        best.map(Timespec::from_nanos)
    }
}

/// Advances an expired timer; returns the overrun count (expiries missed
/// besides the one reported) if it fired.
pub fn expire(t: &mut ITimer, now: i128) -> Option<u32> {
    if t.next == 0 || now < t.next {
        return None;
    }
    if t.interval == 0 {
        t.next = 0;
        return Some(0);
    }
    let missed = (now - t.next) / t.interval;
    t.next += (missed + 1) * t.interval;
    Some(missed.min(i128::from(i32::MAX)) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periodic_timers_count_overruns() {
        let mut t = ITimer {
            next: 100,
            interval: 10,
        };
        assert_eq!(expire(&mut t, 99), None);
        assert_eq!(expire(&mut t, 125), Some(2));
        assert_eq!(t.next, 130);
        let mut once = ITimer {
            next: 5,
            interval: 0,
        };
        assert_eq!(expire(&mut once, 5), Some(0));
        assert_eq!(once.next, 0);
    }
}
