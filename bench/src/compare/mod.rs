//! `wax-bench compare`: runs every workload natively, under qemu-i386 and
//! under each Wax engine, several times each, checks every run's checksum
//! against the native run's, and reports median times and ratios.
//!
//! Steps: build the static workloads (gcc -m32 -static -O2) and the `wax`
//! binary, write the input files into the Debian root, run the matrix one
//! process at a time (a native warm-up run first, so every engine sees a
//! warm page cache), then print the markdown table and write the JSON.

mod engines;
mod inputs;
mod known;
mod machine;
mod measure;
mod prepare;
mod report;
mod results;
mod workloads;

pub use engines::Engine;
pub use results::Metric;

use engines::Paths;
use results::{Cell, Row, Verdict};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use workloads::{Group, Program, Workload, WORKLOADS};

/// What `compare` was asked to do.
pub struct Options {
    pub quick: bool,
    /// Exit non-zero when a workload fails under an engine that is
    /// expected to run it.
    pub check: bool,
    /// Run only these workloads (all if empty).
    pub only: Vec<String>,
    pub engines: Vec<Engine>,
    /// The Debian i386 root (default: build/roots/test).
    pub root: Option<PathBuf>,
    /// A `wax` binary to use instead of building one.
    pub wax: Option<PathBuf>,
    /// Timed runs per cell (default 3; start-up four times as many).
    pub runs: Option<usize>,
    /// Where the JSON goes (default: target/wax-bench/compare-MODE.json).
    pub json: Option<PathBuf>,
    /// The time the table and ratios use (the JSON has both).
    pub metric: Metric,
}

impl Options {
    fn runs(&self, w: &Workload) -> usize {
        let base = self.runs.unwrap_or(3);
        if w.startup {
            base * 4
        } else {
            base
        }
    }

    fn timeout(&self) -> Duration {
        Duration::from_secs(if self.quick { 120 } else { 900 })
    }
}

pub fn compare(opts: &Options) -> ExitCode {
    let selected: Vec<&'static Workload> = match select(&opts.only) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("wax-bench: {e}");
            return ExitCode::from(2);
        }
    };
    let repo = prepare::repo();
    let paths = match prepare::prepare(opts, &selected, &repo) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("wax-bench: {e}");
            return ExitCode::from(2);
        }
    };
    let mut machine = machine::Machine::describe(&repo);
    let rows: Vec<Row> = selected
        .iter()
        .map(|w| run_workload(w, opts, &paths))
        .collect();
    machine.finish();
    let how = report::How {
        quick: opts.quick,
        metric: opts.metric,
    };
    let table = report::markdown(&rows, &opts.engines, &machine, how);
    println!("{table}");
    if let Err(e) = write_outputs(opts, &repo, &rows, &machine, &table, how) {
        eprintln!("wax-bench: cannot write the results: {e}");
        return ExitCode::FAILURE;
    }
    if opts.check && !check(&rows) {
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

fn select(only: &[String]) -> Result<Vec<&'static Workload>, String> {
    if only.is_empty() {
        return Ok(WORKLOADS.iter().collect());
    }
    only.iter()
        .map(|n| {
            workloads::find(n).ok_or_else(|| {
                let all: Vec<&str> = WORKLOADS.iter().map(|w| w.name).collect();
                format!("no workload {n:?}; there are: {}", all.join(", "))
            })
        })
        .collect()
}

fn run_workload(w: &'static Workload, opts: &Options, paths: &Paths) -> Row {
    let variant = w.variant(opts.quick);
    let input = variant.input.map(|i| i.file_name());
    let mut row = Row {
        workload: w,
        command: display_command(w, variant.args, input.as_deref()),
        cells: Vec::new(),
    };
    let job = Job {
        workload: w,
        args: variant.args,
        input: input.as_deref(),
        paths,
        opts,
    };
    if opts.engines.contains(&Engine::Native) {
        // Warm-up: the page cache holds the program and its input after it.
        if let Some(cmd) = job.command(Engine::Native) {
            measure::run(cmd, opts.timeout());
        }
    }
    for &engine in &opts.engines {
        let cell = run_cell(&job, engine, row.reference());
        row.cells.push(cell);
    }
    row
}

/// One workload, ready to run under any engine.
struct Job<'a> {
    workload: &'static Workload,
    args: &'a [&'a str],
    input: Option<&'a str>,
    paths: &'a Paths,
    opts: &'a Options,
}

impl Job<'_> {
    fn command(&self, engine: Engine) -> Option<std::process::Command> {
        engines::command(
            engine,
            self.workload.program,
            self.args,
            self.input,
            self.paths,
        )
    }
}

/// Runs one (workload, engine) pair `runs` times, stopping at the first
/// failure.
fn run_cell(job: &Job, engine: Engine, reference: Option<u64>) -> Cell {
    let (w, opts) = (job.workload, job.opts);
    let known = known::known_failure(engine, w.name);
    let mut cell = Cell {
        engine,
        runs: Vec::new(),
        verdict: Verdict::Skip(String::new()),
        known,
    };
    if let Some(why) = skip_reason(w, engine, job.paths, reference) {
        cell.verdict = Verdict::Skip(why);
        eprintln!(
            "{:<14} {:<11} skip: {}",
            w.name,
            engine.name(),
            why_of(&cell)
        );
        return cell;
    }
    if engine == Engine::WaxJitWarm {
        // Not timed: the first run remembers the pages that ran warm (the
        // JIT's profile); later ones compile them into the code cache, a
        // share of each run's time at a time, until a run adds nothing.
        let files = || std::fs::read_dir(&job.paths.jit_cache).map_or(0, |d| d.count());
        for _ in 0..MAX_PRIMING_RUNS {
            let before = files();
            let cmd = job.command(engine).expect("checked by skip_reason");
            measure::run(cmd, opts.timeout());
            if files() == before {
                break;
            }
        }
    }
    for _ in 0..opts.runs(w) {
        let cmd = job.command(engine).expect("checked by skip_reason");
        let run = measure::run(cmd, opts.timeout());
        let failed = run.result.is_err() || reference.is_some_and(|r| r != run.checksum);
        let long = opts.quick && run.wall >= QUICK_ONE_RUN;
        cell.runs.push(run);
        if failed || long {
            break;
        }
    }
    cell.verdict = results::judge(&cell.runs, reference);
    progress(w, &cell, opts.metric);
    cell
}

fn why_of(cell: &Cell) -> &str {
    match &cell.verdict {
        Verdict::Skip(w) | Verdict::Fail(w) => w,
        Verdict::Ok { .. } => "ok",
    }
}

/// With `--quick`, a run at least this long is not repeated: its noise
/// is small against its length, and gcc would otherwise take minutes.
const QUICK_ONE_RUN: Duration = Duration::from_secs(8);

/// Untimed runs that fill the wax-jit-warm engine's code cache, at most
/// (gcc's quick workload needs about six before a run adds nothing).
const MAX_PRIMING_RUNS: usize = 8;

const NO_ROOT: &str = "no Debian root";
/// The wax-image engine runs only the disk workloads (the others need
/// input files, which are in the root directory only).
const NOT_ON_IMAGE: &str = "not a disk workload";
const NO_IMAGE: &str = "no image of the root";
/// The Node runner has no network (the browser's goes through a relay).
const NO_NETWORK_IN_NODE: &str = "the Node runner has no network";

fn skip_reason(
    w: &Workload,
    engine: Engine,
    paths: &Paths,
    reference: Option<u64>,
) -> Option<String> {
    if w.needs_root() && paths.root.is_none() {
        return Some(NO_ROOT.into());
    }
    if engine == Engine::WaxImage && !w.on_image() {
        return Some(NOT_ON_IMAGE.into());
    }
    if matches!(engine, Engine::WaxImage | Engine::WaxNode) && paths.image.is_none() {
        return Some(NO_IMAGE.into());
    }
    if engine == Engine::WaxNode {
        if paths.node_runner.is_none() {
            return Some("the web app is not built (scripts/build-web.sh)".into());
        }
        if w.group == Group::Network {
            return Some(NO_NETWORK_IN_NODE.into());
        }
    }
    if engine != Engine::Native && reference.is_none() {
        return Some("native run failed".into());
    }
    None
}

/// One line on stderr per cell, so a long run shows where it is.
fn progress(w: &Workload, cell: &Cell, metric: Metric) {
    let what = match &cell.verdict {
        Verdict::Ok { .. } => {
            let t = cell.verdict.time(metric).unwrap_or_default();
            format!("{} (median of {})", report::seconds(t), cell.runs.len())
        }
        Verdict::Fail(why) => {
            let tail = cell.runs.last().map_or("", |r| r.stderr_tail.trim_end());
            let known = if cell.known.is_some() { " (known)" } else { "" };
            format!("fail: {why}{known}\n    {}", tail.replace('\n', "\n    "))
        }
        Verdict::Skip(why) => format!("skip: {why}"),
    };
    eprintln!("{:<14} {:<11} {what}", w.name, cell.engine.name());
}

/// The command as the table shows it: the program's name and its
/// arguments, the input by its file name.
fn display_command(w: &Workload, args: &[&str], input: Option<&str>) -> String {
    let program = match w.program {
        Program::Static { source } => engines::binary_name(source),
        Program::Debian { path } => path.rsplit('/').next().unwrap_or(path).to_string(),
    };
    let args = args.iter().map(|&a| match input {
        Some(file) if a == "{input}" => file,
        _ => a,
    });
    std::iter::once(program.as_str())
        .chain(args)
        .collect::<Vec<_>>()
        .join(" ")
}

fn write_outputs(
    opts: &Options,
    repo: &std::path::Path,
    rows: &[Row],
    machine: &machine::Machine,
    table: &str,
    how: report::How,
) -> std::io::Result<()> {
    let mode = if opts.quick { "quick" } else { "full" };
    let json_path = opts
        .json
        .clone()
        .unwrap_or_else(|| repo.join(format!("target/wax-bench/compare-{mode}.json")));
    if let Some(dir) = json_path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let value = report::json(rows, &opts.engines, machine, how);
    std::fs::write(&json_path, serde_json::to_string_pretty(&value)? + "\n")?;
    std::fs::write(json_path.with_extension("md"), table)?;
    eprintln!("wrote {} and the table next to it", json_path.display());
    Ok(())
}

/// `--check`: every cell ran and matched the native checksum, except the
/// known failures. Prints what is wrong; returns whether all is well.
fn check(rows: &[Row]) -> bool {
    let mut ok = true;
    for row in rows {
        for cell in &row.cells {
            let name = format!("{} under {}", row.workload.name, cell.engine.name());
            match (&cell.verdict, cell.known) {
                (Verdict::Ok { .. }, Some(_)) => {
                    eprintln!("check: {name} passes now: remove it from bench/src/compare/known.rs")
                }
                (Verdict::Ok { .. }, None) | (Verdict::Fail(_), Some(_)) => {}
                (Verdict::Fail(why), None) => {
                    eprintln!("check: FAILED: {name}: {why}");
                    ok = false;
                }
                // Without a root the static workloads are still checked
                // under every engine; the Debian ones cannot be.
                (Verdict::Skip(why), _) if why == NOT_ON_IMAGE || why == NO_NETWORK_IN_NODE => {}
                (Verdict::Skip(why), _) if why == NO_ROOT || why == NO_IMAGE => {
                    eprintln!("check: WARNING: {name} not checked: {why}")
                }
                (Verdict::Skip(why), _) => {
                    eprintln!("check: FAILED: {name} did not run: {why}");
                    ok = false;
                }
            }
        }
    }
    if ok {
        eprintln!("check: every workload gave the native checksum under every engine (known failures excepted)");
    }
    ok
}
