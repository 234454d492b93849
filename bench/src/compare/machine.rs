//! A description of the machine and software a comparison ran on, for the
//! report's header and the JSON file.

use std::process::Command;

#[derive(Clone, Debug)]
pub struct Machine {
    pub cpu: String,
    pub cores: usize,
    pub kernel: String,
    pub date: String,
    pub commit: String,
    pub qemu: String,
    /// The 1-minute load average when the comparison started and ended:
    /// other work on the machine slows every engine down, unevenly.
    pub load_start: String,
    pub load_end: String,
}

impl Machine {
    pub fn describe(repo: &std::path::Path) -> Machine {
        Machine {
            cpu: cpu_model(),
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            kernel: first_line(
                &std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default(),
            ),
            date: output(Command::new("date").args(["-u", "+%Y-%m-%d %H:%M UTC"])),
            commit: output(
                Command::new("git")
                    .arg("-C")
                    .arg(repo)
                    .args(["describe", "--always", "--dirty"]),
            ),
            qemu: output(Command::new("qemu-i386").arg("--version")),
            load_start: load_average(),
            load_end: String::new(),
        }
    }

    /// Records the load average at the end.
    pub fn finish(&mut self) {
        self.load_end = load_average();
    }

    /// One line for the report header.
    pub fn summary(&self) -> String {
        format!(
            "{} ({} cores, load average {} at the start, {} at the end), Linux {}, {}; Wax {}; {}",
            self.cpu,
            self.cores,
            self.load_start,
            self.load_end,
            self.kernel,
            self.date,
            self.commit,
            self.qemu
        )
    }
}

fn cpu_model() -> String {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    info.lines()
        .find_map(|l| l.strip_prefix("model name").and_then(|r| r.split_once(':')))
        .map_or("unknown CPU".into(), |(_, m)| m.trim().to_string())
}

fn load_average() -> String {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    text.split_whitespace()
        .next()
        .unwrap_or("unknown")
        .to_string()
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").trim().to_string()
}

/// The first line a command prints, or "unknown".
fn output(cmd: &mut Command) -> String {
    match cmd.output() {
        Ok(o) if o.status.success() => first_line(&String::from_utf8_lossy(&o.stdout)),
        _ => "unknown".into(),
    }
}
