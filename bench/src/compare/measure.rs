//! Runs one process and measures it: wall-clock time from spawn to exit,
//! the CPU time it and its waited-for children used, and a hash of its
//! standard output (the workload's checksum).

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// One run of one workload under one engine.
#[derive(Clone, Debug)]
pub struct Run {
    pub wall: Duration,
    /// User + system time (of the engine's process and its children).
    pub cpu: Duration,
    /// FNV-1a 64 of standard output.
    pub checksum: u64,
    pub stdout_len: u64,
    pub result: Result<(), String>,
    /// The end of standard error, for failure reports.
    pub stderr_tail: String,
}

/// Runs `cmd` to its end or until `timeout`, when it is killed.
pub fn run(mut cmd: Command, timeout: Duration) -> Run {
    // Its own process group, so a timeout kills its children too.
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let cpu_before = children_cpu();
    let start = Instant::now();
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return spawn_failed(&cmd, e),
    };
    let stdout = hash_stream(child.stdout.take().expect("stdout is piped"));
    let stderr = tail_stream(child.stderr.take().expect("stderr is piped"));
    let (status, wall, cpu_after) = wait_with_timeout(child, start, timeout);
    let (checksum, stdout_len) = stdout.join().expect("stdout reader");
    let stderr_tail = stderr.join().expect("stderr reader");
    Run {
        wall,
        cpu: cpu_after.saturating_sub(cpu_before),
        checksum,
        stdout_len,
        result: judge(status, timeout),
        stderr_tail,
    }
}

fn spawn_failed(cmd: &Command, e: std::io::Error) -> Run {
    Run {
        wall: Duration::ZERO,
        cpu: Duration::ZERO,
        checksum: 0,
        stdout_len: 0,
        result: Err(format!("cannot start {:?}: {e}", cmd.get_program())),
        stderr_tail: String::new(),
    }
}

fn judge(status: Option<ExitStatus>, timeout: Duration) -> Result<(), String> {
    use std::os::unix::process::ExitStatusExt;
    let Some(status) = status else {
        return Err(format!("timeout {}s", timeout.as_secs()));
    };
    match (status.code(), status.signal()) {
        (Some(0), _) => Ok(()),
        (Some(code), _) => Err(format!("exit {code}")),
        (None, Some(sig)) => Err(format!("signal {sig}")),
        (None, None) => Err("no status".into()),
    }
}

/// Waits in a helper thread so the time is taken the moment the child
/// ends; kills the child when the timeout passes first.
fn wait_with_timeout(
    mut child: Child,
    start: Instant,
    timeout: Duration,
) -> (Option<ExitStatus>, Duration, Duration) {
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    let waiter = thread::spawn(move || {
        let status = child.wait();
        let wall = start.elapsed();
        let _ = tx.send((status.ok(), wall, children_cpu()));
    });
    let result = match rx.recv_timeout(timeout) {
        Ok(r) => r,
        Err(_) => {
            // The child is still running (not reaped), so the process
            // group with its pid is its own.
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{pid}")])
                .status();
            let (_, wall, cpu) = rx.recv().expect("waiter reports after the kill");
            (None, wall, cpu)
        }
    };
    waiter.join().expect("waiter thread");
    result
}

fn hash_stream(mut r: impl Read + Send + 'static) -> JoinHandle<(u64, u64)> {
    thread::spawn(move || {
        let mut hash = Fnv1a::default();
        let mut len = 0u64;
        let mut buf = vec![0u8; 1 << 16];
        while let Ok(n) = r.read(&mut buf) {
            if n == 0 {
                break;
            }
            hash.update(&buf[..n]);
            len += n as u64;
        }
        (hash.0, len)
    })
}

fn tail_stream(mut r: impl Read + Send + 'static) -> JoinHandle<String> {
    const KEEP: usize = 2048;
    thread::spawn(move || {
        let mut all = Vec::new();
        let _ = r.read_to_end(&mut all);
        let start = all.len().saturating_sub(KEEP);
        String::from_utf8_lossy(&all[start..]).into_owned()
    })
}

/// FNV-1a, 64 bits: a checksum, not a defence against forgery.
pub struct Fnv1a(pub u64);

impl Default for Fnv1a {
    fn default() -> Self {
        Fnv1a(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv1a {
    pub fn update(&mut self, data: &[u8]) {
        for &b in data {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// User + system time of all waited-for children of this process so far.
fn children_cpu() -> Duration {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::uninit();
    // SAFETY: getrusage writes one rusage struct to the pointer, which
    // points to enough space for it; RUSAGE_CHILDREN is a valid argument.
    let usage = unsafe {
        if libc::getrusage(libc::RUSAGE_CHILDREN, usage.as_mut_ptr()) != 0 {
            return Duration::ZERO;
        }
        usage.assume_init()
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_matches_the_reference_value() {
        let mut h = Fnv1a::default();
        h.update(b"a");
        assert_eq!(h.0, 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn a_run_reports_output_and_status() {
        let mut c = Command::new("sh");
        c.args(["-c", "printf a; exit 3"]);
        let r = run(c, Duration::from_secs(10));
        assert_eq!(r.result, Err("exit 3".into()));
        assert_eq!((r.checksum, r.stdout_len), (0xaf63_dc4c_8601_ec8c, 1));
    }

    #[test]
    fn a_hanging_run_is_killed() {
        let mut c = Command::new("sleep");
        c.arg("30");
        let r = run(c, Duration::from_millis(200));
        assert_eq!(r.result, Err("timeout 0s".into()));
        assert!(r.wall < Duration::from_secs(10));
    }
}
