//! The host edge of the CLI: the `wax_devices` traits and the kernel's
//! root file system implemented with std and libc.

pub mod block;
pub mod fs;
pub mod http;
pub mod log;
pub mod net;
pub mod relay;
pub mod stdio;
pub mod terminal;

use std::fs::File;
use std::io::Read;
use std::time::{Instant, SystemTime, UNIX_EPOCH};
use wax_devices::{Clock, Entropy, SeededEntropy, Timespec};

/// The signals this process was started with ignored (bit N-1 for signal
/// N): a program started by `wax` natively would inherit them (`nohup`,
/// SIGINT in a background job), so the guest's first process starts with
/// them ignored too. Read before wax installs any handler. Left out:
/// SIGPIPE, which Rust's runtime ignores in every program before `main`
/// (its inherited disposition is unknowable: the guest gets the default),
/// and signals 32 and 33, glibc's own (cancellation, setxid), whose
/// dispositions the host's C library and the guest's manage themselves.
pub fn inherited_ignored_signals() -> u64 {
    let mut set = 0;
    for sig in 1..=64u32 {
        if sig == libc::SIGPIPE as u32 || sig == 32 || sig == 33 {
            continue;
        }
        // The kernel's struct sigaction: handler, flags, restorer, mask.
        let mut old = [0u64; 4];
        // SAFETY: a query only (no new action); `old` has room for the
        // kernel's struct and the mask size is the kernel's (8 bytes).
        let r = unsafe {
            libc::syscall(
                libc::SYS_rt_sigaction,
                sig as libc::c_long,
                std::ptr::null::<u8>(),
                old.as_mut_ptr(),
                8usize,
            )
        };
        if r == 0 && old[0] == libc::SIG_IGN as u64 {
            set |= 1 << (sig - 1);
        }
    }
    set
}

/// This process's resource limits by RLIMIT_* number, for the guest to
/// start from (as a program started by `wax` inherits them natively, and
/// as under qemu-i386). A limit the host does not report stays as Linux
/// sets it for a first process.
pub fn host_rlimits() -> wax_kernel::Rlimits {
    let mut limits = wax_kernel::default_rlimits();
    for (res, limit) in limits.iter_mut().enumerate() {
        let mut r = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: `r` is a valid, writable rlimit; an unknown resource
        // number only makes getrlimit fail with EINVAL.
        if unsafe { libc::getrlimit(res as _, &mut r) } == 0 {
            *limit = (widen(r.rlim_cur), widen(r.rlim_max));
        }
    }
    limits
}

/// A host limit in the kernel's terms (RLIM_INFINITY is `u64::MAX`).
#[allow(clippy::unnecessary_cast)] // rlim_t is narrower on 32-bit hosts
fn widen(v: libc::rlim_t) -> u64 {
    if v == libc::RLIM_INFINITY {
        u64::MAX
    } else {
        v as u64
    }
}

/// Wall clock from `SystemTime`, monotonic clock from `Instant`.
pub struct HostClock {
    start: Instant,
}

impl HostClock {
    pub fn new() -> HostClock {
        HostClock {
            start: Instant::now(),
        }
    }
}

impl Clock for HostClock {
    fn realtime(&self) -> Timespec {
        let d = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        Timespec {
            sec: d.as_secs() as i64,
            nsec: d.subsec_nanos(),
        }
    }

    fn monotonic(&self) -> Timespec {
        // Guests only compare monotonic times; start above zero like a
        // machine that has been up for a while.
        let d = self.start.elapsed();
        Timespec {
            sec: 1000 + d.as_secs() as i64,
            nsec: d.subsec_nanos(),
        }
    }
}

/// Bytes from the host's /dev/urandom.
pub struct HostEntropy {
    urandom: Option<File>,
    fallback: SeededEntropy,
}

impl HostEntropy {
    pub fn new() -> HostEntropy {
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64 | 1);
        HostEntropy {
            urandom: File::open("/dev/urandom").ok(),
            fallback: SeededEntropy(seed),
        }
    }
}

impl Entropy for HostEntropy {
    fn fill(&mut self, buf: &mut [u8]) {
        if let Some(f) = &mut self.urandom {
            if f.read_exact(buf).is_ok() {
                return;
            }
        }
        self.fallback.fill(buf);
    }
}
