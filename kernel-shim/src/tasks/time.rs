//! The kernel's time: the host clock, the moment of boot and the
//! time-stamp counter RDTSC reads.
//!
//! Fields are private: the clock is the host's and cannot be swapped, boot
//! time is fixed at boot, and the counter only moves forward, so readers
//! get values and nobody else changes them.

use wax_devices::{Clock, Timespec};

pub struct Time {
    clock: Box<dyn Clock>,
    /// Monotonic time at boot (sysinfo uptime).
    boot: Timespec,
    /// The last value RDTSC returned (reads strictly increase, across all
    /// threads, like one invariant TSC).
    last_tsc: u64,
}

impl Time {
    pub fn new(clock: Box<dyn Clock>) -> Time {
        let boot = clock.monotonic();
        Time {
            clock,
            boot,
            last_tsc: 0,
        }
    }

    pub fn monotonic(&self) -> Timespec {
        self.clock.monotonic()
    }

    pub fn realtime(&self) -> Timespec {
        self.clock.realtime()
    }

    /// Monotonic time at boot.
    pub fn boot(&self) -> Timespec {
        self.boot
    }

    /// The next RDTSC value: the monotonic clock at `cpuid::TSC_MHZ`, the
    /// rate /proc/cpuinfo reports, and always past the previous read.
    pub fn rdtsc(&mut self) -> u64 {
        let ns = self.clock.monotonic().as_nanos().max(0) as u128;
        let ticks = ns * u128::from(wax_cpu::cpuid::TSC_MHZ) / 1000;
        let tsc = (ticks as u64).max(self.last_tsc.wrapping_add(1));
        self.last_tsc = tsc;
        tsc
    }
}
