//! CPU time as times(2), getrusage(2) and /proc count it: nanoseconds of
//! user and system time, reported in USER_HZ ticks.

/// User and system time in nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CpuTime {
    pub user: u64,
    pub system: u64,
}

impl CpuTime {
    pub fn total(self) -> u64 {
        self.user + self.system
    }

    pub fn add(&mut self, other: CpuTime) {
        self.user += other.user;
        self.system += other.system;
    }

    /// Clock ticks at USER_HZ (100 Hz), for times() and /proc.
    pub fn user_ticks(self) -> u64 {
        self.user / TICK_NS
    }

    pub fn system_ticks(self) -> u64 {
        self.system / TICK_NS
    }
}

/// Nanoseconds per USER_HZ tick.
pub const TICK_NS: u64 = 10_000_000;
