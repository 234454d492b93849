//! CPU time: the one account behind getrusage, times, the CPU-time
//! clocks (CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID and the
//! clocks of clock_getcpuclockid), /proc/PID/stat and /proc/stat, the
//! rusage of wait4 and waitid, ITIMER_VIRTUAL/ITIMER_PROF and POSIX
//! timers on CPU clocks.
//!
//! A guest thread's CPU time is the host time spent on it, read from the
//! kernel's monotonic clock around each stretch of work in
//! [`Kernel::run`]: running its instructions is user time, handling its
//! system call or fault is system time. The thread's process gets the same
//! charge, and so does the whole machine (/proc/stat). When a parent
//! reaps a child it adds the child's time and the child's reaped
//! children's time to its own children's account, as Linux does, so
//! `times` and RUSAGE_CHILDREN see only waited-for descendants.
//!
//! The clock is read twice per system call (and once per slice that ends
//! in the interpreter): the end of one stretch starts the next, so the
//! run loop's own work between threads (scheduling, timers) goes to the
//! thread that runs next. Partial: the clock is wall time, so a host that
//! deschedules Wax counts the pause as the running thread's.

use crate::abi::times::CpuTime;
use crate::kernel::Kernel;
use wax_devices::Timespec;

/// Which account a stretch of host time goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    User,
    System,
}

/// What a CPU-time clock id measures (Linux's CPUCLOCK_PROF,
/// CPUCLOCK_VIRT, CPUCLOCK_SCHED).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Measure {
    UserAndSystem,
    User,
}

/// Whose time a CPU-time clock id reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Owner {
    CallingProcess,
    CallingThread,
    Process(u32),
    Thread(u32),
}

/// Decodes a CPU-time clock id: CLOCK_PROCESS_CPUTIME_ID (2),
/// CLOCK_THREAD_CPUTIME_ID (3), or the negative ids
/// `clock_getcpuclockid`/`pthread_getcpuclockid` make: `~pid << 3 |
/// per_thread << 2 | kind` (kind 3 is invalid). `None`: not a CPU clock.
fn decode(clock: u32) -> Option<Option<(Owner, Measure)>> {
    match clock {
        2 => return Some(Some((Owner::CallingProcess, Measure::UserAndSystem))),
        3 => return Some(Some((Owner::CallingThread, Measure::UserAndSystem))),
        _ if (clock as i32) >= 0 => return None,
        _ => {}
    }
    let id = !((clock as i32) >> 3) as u32;
    let per_thread = clock & 4 != 0;
    let measure = match clock & 3 {
        1 => Measure::User,
        0 | 2 => Measure::UserAndSystem,
        _ => return Some(None),
    };
    let owner = match (id, per_thread) {
        (0, false) => Owner::CallingProcess,
        (0, true) => Owner::CallingThread,
        (pid, false) => Owner::Process(pid),
        (tid, true) => Owner::Thread(tid),
    };
    Some(Some((owner, measure)))
}

/// Whether `clock` is a CPU-time clock id (valid or not).
pub fn is_cpu_clock(clock: u32) -> bool {
    decode(clock).is_some()
}

impl Kernel {
    /// Charges `from..now` of host time to thread slot `t` (and its
    /// process and the machine); returns `now` for the next stretch.
    pub(crate) fn charge(&mut self, t: usize, mode: Mode, from: Timespec) -> Timespec {
        let now = self.time.monotonic();
        let ns = (now.as_nanos() - from.as_nanos()).max(0) as u64;
        let p = self.tasks.thread(t).process;
        let mut c = CpuTime::default();
        match mode {
            Mode::User => c.user = ns,
            Mode::System => c.system = ns,
        }
        self.tasks.thread_mut(t).times.add(c);
        self.tasks.proc_mut(p).times.add(c);
        self.tasks.charge_machine(c);
        now
    }

    /// CPU time consumed by every guest thread since boot (/proc/stat).
    pub(crate) fn machine_cpu_time(&self) -> CpuTime {
        self.tasks.cpu_total()
    }

    /// The reading of CPU-time clock `clock` in nanoseconds: `None` if
    /// `clock` is not a CPU-time clock, `Some(Err)` (EINVAL) for an
    /// invalid one or one of a process or thread that does not exist.
    pub(crate) fn cpu_clock_ns(
        &mut self,
        clock: u32,
    ) -> Option<Result<u64, crate::abi::errno::Errno>> {
        let (owner, measure) = match decode(clock)? {
            Some(d) => d,
            None => return Some(Err(crate::abi::errno::Errno::EINVAL)),
        };
        let times = match owner {
            Owner::CallingProcess => Some(self.proc().times),
            Owner::CallingThread => Some(self.thread().times),
            Owner::Process(pid) => self.tasks.find_pid(pid).map(|p| self.tasks.proc(p).times),
            Owner::Thread(tid) => self.tasks.find_tid(tid).map(|t| self.tasks.thread(t).times),
        };
        let Some(times) = times else {
            return Some(Err(crate::abi::errno::Errno::EINVAL));
        };
        Some(Ok(match measure {
            Measure::User => times.user,
            Measure::UserAndSystem => times.total(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::times::TICK_NS;

    #[test]
    fn decodes_linux_cpu_clock_ids() {
        // glibc: MAKE_PROCESS_CPUCLOCK(pid, CPUCLOCK_SCHED).
        let process = |pid: u32| ((!pid) << 3) | 2;
        let thread = |tid: u32, kind: u32| ((!tid) << 3) | 4 | kind;
        assert_eq!(
            decode(process(1234)),
            Some(Some((Owner::Process(1234), Measure::UserAndSystem)))
        );
        assert_eq!(
            decode(thread(77, 1)),
            Some(Some((Owner::Thread(77), Measure::User)))
        );
        assert_eq!(
            decode(process(0)),
            Some(Some((Owner::CallingProcess, Measure::UserAndSystem)))
        );
        assert_eq!(decode(((!5u32) << 3) | 3), Some(None));
        assert_eq!(decode(1), None);
        assert_eq!(
            decode(3),
            Some(Some((Owner::CallingThread, Measure::UserAndSystem)))
        );
    }

    #[test]
    fn ticks_round_down() {
        let t = CpuTime {
            user: 3 * TICK_NS - 1,
            system: TICK_NS,
        };
        assert_eq!(
            (t.user_ticks(), t.system_ticks(), t.total()),
            (2, 1, 4 * TICK_NS - 1)
        );
    }
}
