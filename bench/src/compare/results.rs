//! What a comparison found: per workload and engine, the runs and the
//! verdict (checksums compared with the native run's).

use super::engines::Engine;
use super::measure::Run;
use super::workloads::Workload;
use std::time::Duration;

/// The verdict of one (workload, engine) cell.
#[derive(Clone, Debug)]
pub enum Verdict {
    /// Every run finished with the reference checksum.
    Ok { wall: Duration, cpu: Duration },
    /// A run failed: "exit 139", "checksum", "timeout 120s", ...
    Fail(String),
    /// Not run: no root, engine missing, not selected.
    Skip(String),
}

/// Which time the table compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    /// Wall-clock time from spawn to exit: what a user waits.
    Wall,
    /// User + system CPU time: steadier than wall time on a busy machine.
    Cpu,
}

impl Metric {
    pub fn describe(self) -> &'static str {
        match self {
            Metric::Wall => "median wall-clock time",
            Metric::Cpu => "median CPU time (user + system)",
        }
    }
}

impl Verdict {
    pub fn time(&self, metric: Metric) -> Option<Duration> {
        match (self, metric) {
            (Verdict::Ok { wall, .. }, Metric::Wall) => Some(*wall),
            (Verdict::Ok { cpu, .. }, Metric::Cpu) => Some(*cpu),
            _ => None,
        }
    }
}

pub struct Cell {
    pub engine: Engine,
    pub runs: Vec<Run>,
    pub verdict: Verdict,
    /// The reason from the known-failures list, if this pair is on it.
    pub known: Option<&'static str>,
}

pub struct Row {
    pub workload: &'static Workload,
    /// The command as shown in the table (program and arguments, inputs by
    /// file name).
    pub command: String,
    pub cells: Vec<Cell>,
}

impl Row {
    pub fn cell(&self, engine: Engine) -> Option<&Cell> {
        self.cells.iter().find(|c| c.engine == engine)
    }

    /// The native run's checksum, which every other run must match.
    pub fn reference(&self) -> Option<u64> {
        let native = self.cell(Engine::Native)?;
        match native.verdict {
            Verdict::Ok { .. } => native.runs.first().map(|r| r.checksum),
            _ => None,
        }
    }

    /// `engine`'s median time as a multiple of native's.
    pub fn ratio(&self, engine: Engine, metric: Metric) -> Option<f64> {
        let native = self.cell(Engine::Native)?.verdict.time(metric)?;
        let this = self.cell(engine)?.verdict.time(metric)?;
        Some(this.as_secs_f64() / native.as_secs_f64())
    }
}

/// Judges the runs of one cell against the reference checksum (`None`:
/// this is the native cell, whose own first run is the reference).
pub fn judge(runs: &[Run], reference: Option<u64>) -> Verdict {
    let Some(first) = runs.first() else {
        return Verdict::Skip("no runs".into());
    };
    let expected = reference.unwrap_or(first.checksum);
    for r in runs {
        if let Err(e) = &r.result {
            return Verdict::Fail(e.clone());
        }
        if r.checksum != expected {
            return Verdict::Fail("checksum".into());
        }
    }
    Verdict::Ok {
        wall: median(runs.iter().map(|r| r.wall)),
        cpu: median(runs.iter().map(|r| r.cpu)),
    }
}

/// The median (the mean of the two middle values for an even count).
pub fn median(values: impl Iterator<Item = Duration>) -> Duration {
    let mut v: Vec<Duration> = values.collect();
    v.sort();
    match v.len() {
        0 => Duration::ZERO,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2,
    }
}

/// The geometric mean, with how many values it covers.
pub fn geomean(values: impl Iterator<Item = f64>) -> Option<(f64, usize)> {
    let (sum, n) = values.fold((0.0, 0), |(s, n), v| (s + v.ln(), n + 1));
    (n > 0).then(|| ((sum / n as f64).exp(), n))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median([ms(5), ms(1), ms(3)].into_iter()), ms(3));
        assert_eq!(
            median([ms(4), ms(1), ms(2), ms(3)].into_iter()),
            Duration::from_micros(2500)
        );
    }

    #[test]
    fn geomean_of_ratios() {
        let (g, n) = geomean([2.0, 8.0].into_iter()).unwrap();
        assert!((g - 4.0).abs() < 1e-12);
        assert_eq!(n, 2);
        assert!(geomean(std::iter::empty()).is_none());
    }

    fn run(checksum: u64, result: Result<(), String>) -> Run {
        Run {
            wall: ms(10),
            cpu: ms(9),
            checksum,
            stdout_len: 1,
            result,
            stderr_tail: String::new(),
        }
    }

    #[test]
    fn a_wrong_checksum_fails_the_cell() {
        let runs = [run(1, Ok(())), run(2, Ok(()))];
        assert!(matches!(judge(&runs, Some(1)), Verdict::Fail(e) if e == "checksum"));
        assert!(matches!(judge(&runs[..1], Some(1)), Verdict::Ok { .. }));
        let failed = [run(1, Err("exit 139".into()))];
        assert!(matches!(judge(&failed, Some(1)), Verdict::Fail(e) if e == "exit 139"));
    }
}
