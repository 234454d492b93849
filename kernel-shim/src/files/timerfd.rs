//! timerfd: a timer read as a file. A read returns the number of
//! expirations since the last read (u64) and resets it; the count is
//! brought up to date lazily from the clock whenever the file is read or
//! polled (the clock comes from the kernel's poll context).

use crate::abi::errno::{Errno, KResult};
use crate::abi::poll;
use crate::files::readiness::PollRef;
use crate::vfs::{Attr, FileHandle};
use std::cell::RefCell;
use std::rc::Rc;

pub const CLOCK_REALTIME: u32 = 0;
pub const CLOCK_MONOTONIC: u32 = 1;
pub const CLOCK_BOOTTIME: u32 = 7;
pub const CLOCK_REALTIME_ALARM: u32 = 8;
pub const CLOCK_BOOTTIME_ALARM: u32 = 9;

/// The timer. Times are nanoseconds on the timer's own clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct TimerState {
    pub realtime: bool,
    /// The next expiry (0: disarmed).
    pub next: i128,
    pub interval: i128,
    /// Expirations not yet read.
    pub ticks: u64,
}

pub type TimerRef = Rc<RefCell<TimerState>>;

impl TimerState {
    /// Counts the expirations up to `now`.
    pub fn advance(&mut self, now: i128) {
        if self.next == 0 || now < self.next {
            return;
        }
        if self.interval == 0 {
            self.ticks += 1;
            self.next = 0;
            return;
        }
        let n = (now - self.next) / self.interval + 1;
        self.ticks = self.ticks.saturating_add(n as u64);
        self.next += n * self.interval;
    }

    /// The next expiry as a monotonic time, given both clocks now.
    pub fn next_mono(&mut self, mono: i128, real: i128) -> Option<i128> {
        let own = if self.realtime { real } else { mono };
        self.advance(own);
        (self.next != 0).then(|| mono + (self.next - own))
    }

    /// (interval, time left) as timerfd_gettime reports.
    pub fn get(&mut self, now: i128) -> (i128, i128) {
        self.advance(now);
        let left = if self.next == 0 {
            0
        } else {
            (self.next - now).max(1)
        };
        (self.interval, left)
    }

    /// Arms (`value` != 0) or disarms; `abs`: `value` is a time on the
    /// clock, otherwise relative to `now`.
    pub fn set(&mut self, now: i128, interval: i128, value: i128, abs: bool) {
        self.ticks = 0;
        self.interval = interval;
        self.next = match (value, abs) {
            (0, _) => 0,
            (v, true) => v,
            (v, false) => now + v,
        };
    }
}

pub struct TimerFd {
    pub timer: TimerRef,
    pub ctx: PollRef,
}

impl TimerFd {
    fn now(&self) -> i128 {
        if self.timer.borrow().realtime {
            self.ctx.real.get()
        } else {
            self.ctx.mono.get()
        }
    }
}

impl FileHandle for TimerFd {
    fn read_at(&mut self, _off: u64, buf: &mut [u8]) -> KResult<usize> {
        if buf.len() < 8 {
            return Err(Errno::EINVAL);
        }
        let now = self.now();
        let mut t = self.timer.borrow_mut();
        t.advance(now);
        if t.ticks == 0 {
            return Err(Errno::EAGAIN);
        }
        buf[..8].copy_from_slice(&t.ticks.to_le_bytes());
        t.ticks = 0;
        Ok(8)
    }

    fn write_at(&mut self, _off: u64, _buf: &[u8]) -> KResult<usize> {
        Err(Errno::EINVAL)
    }

    fn is_stream(&self) -> bool {
        true
    }

    fn readable(&mut self) -> bool {
        self.poll() & poll::POLLIN != 0
    }

    fn poll(&mut self) -> u16 {
        let now = self.now();
        let mut t = self.timer.borrow_mut();
        t.advance(now);
        if t.ticks > 0 {
            poll::POLLIN | poll::POLLRDNORM
        } else {
            0
        }
    }

    fn proc_name(&self) -> Option<Vec<u8>> {
        Some(crate::files::anon::link_name("timerfd"))
    }

    fn stat(&self) -> Option<Attr> {
        Some(crate::files::anon::anon_attr())
    }

    fn as_any(&mut self) -> Option<&mut dyn std::any::Any> {
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periodic_timer_counts_missed_expirations() {
        let mut t = TimerState::default();
        t.set(1000, 100, 50, false);
        t.advance(1049);
        assert_eq!(t.ticks, 0);
        t.advance(1050);
        assert_eq!((t.ticks, t.next), (1, 1150));
        t.advance(1400);
        assert_eq!((t.ticks, t.next), (4, 1450));
        assert_eq!(t.get(1400), (100, 50));
        assert_eq!(t.next_mono(5000, 1400), Some(5050));
    }

    #[test]
    fn one_shot_absolute_timer_disarms() {
        let mut t = TimerState::default();
        t.set(0, 0, 500, true);
        t.advance(600);
        assert_eq!((t.ticks, t.next), (1, 0));
        assert_eq!(t.get(700), (0, 0));
        assert_eq!(t.next_mono(1, 1), None);
    }
}
