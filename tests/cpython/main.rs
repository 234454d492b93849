//! CPython's own regression suite (Debian's `libpython3.11-testsuite`, in
//! the test root that `disk-images/mkroot.sh test build/roots/test`
//! builds) as Wax's compatibility yardstick. Each module runs as
//! `python3 -m test --junit-xml FILE MODULE`, once natively (`chroot`,
//! procfs mounted) and once under `wax run --root`; the two junit files
//! are compared test by test. A test that passes natively and does not
//! pass under wax (failed, skipped, or missing because the run died) is a
//! regression and fails this test, unless `known.rs` lists it with a
//! reason.
//!
//! `WAX_CPYTHON_MODULES="test_os test_time"` runs those modules instead of
//! the CI subset below, `WAX_CPYTHON_MODULES=slow` the kernel-facing
//! modules too slow for CI, `WAX_CPYTHON_MODULES=all` the whole suite (as
//! `python3 -m test --list-tests` lists it: hours under the interpreter).
//! The summary prints, per module and in total, the tests passing,
//! skipped and failing natively and under wax, and the system calls wax
//! reported as missing (through `WAX_LOG`).
//!
//! For runs that take hours, `WAX_CPYTHON_WAX=PATH` runs that copy of the
//! wax binary instead of the one cargo built (so rebuilding does not
//! disturb the run), each module's regressions print as it ends, and
//! `WAX_CPYTHON_RESULTS=DIR` keeps every module's results in DIR, one
//! small text file per module and side (`SECONDS ok REVISION DATE`, then
//! one line per test): a run that is stopped and started again takes the
//! modules already there from DIR instead of running them, so the whole
//! suite can be covered over several sittings, and the summary counts them
//! all. The whole suite's are committed in bench/results/cpython-suite/
//! (machines here do not outlive a sitting); `WAX_CPYTHON_MODULES=kept`
//! runs nothing and summarizes the modules kept in DIR.
//! `WAX_CPYTHON_REPORT=FILE` writes the summary as a Markdown table
//! (bench/results/cpython-suite.md is the whole suite's).

#[path = "../common/mod.rs"]
mod common;
mod junit;
mod known;

use common::corpus::{debian_root, ProcMount};
use common::{run_with_timeout, timeout_or, Run, WAX};
use junit::{Outcome, Results};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// The kernel-facing modules, plus pure-CPU ones, that CI runs under
/// `wax run`'s default engine, the JIT: about five minutes of CPU,
/// plus test_subprocess (131 s of CPU under wax, mostly the start-up of
/// the child pythons it spawns; 236 s wall on a machine with a load
/// average of 7, 25 s natively).
///
/// The longest first, so that the two workers ([`jobs`]) end together.
const CI_MODULES: &[&str] = &[
    "test_subprocess",
    // test_signal's test_stress_modifying_handlers hung in 1 of 6-8 runs
    // until a futex wake ended the waker's time slice (tasks/futex.rs): a
    // thread raising signals in a loop took the GIL back before the main
    // thread ran. 30 of 30 runs of it passed after. A hang would end in
    // regrtest's traceback of every thread (`TRACEBACK_MARGIN`).
    "test_signal",
    "test_time",
    "test_os",
    "test_posix",
    "test_fcntl",
    "test_select",
    "test_mmap",
    "test_pty",
    "test_tempfile",
    "test_shutil",
    "test_socket",
    "test_struct",
    "test_float",
    "test_threading",
];

/// Kernel-facing modules too slow for CI, or not yet trusted there (wax
/// seconds measured under the interpreter): `WAX_CPYTHON_MODULES=slow`
/// runs them.
const SLOW_MODULES: &[&str] = &[
    "test_math", // 180 s (pure CPU)
];

const NATIVE_TIMEOUT: Duration = Duration::from_secs(600);
/// How long before the module's own time limit regrtest's `--timeout`
/// (which bounds a whole test module, not one test case) fires.
const TRACEBACK_MARGIN: Duration = Duration::from_secs(60);
/// Guest-side scratch directory (junit files and regrtest's temp dirs).
const SCRATCH: &str = "/tmp/wax-cpython";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Side {
    Native,
    Wax,
}

impl Side {
    fn label(self) -> &'static str {
        match self {
            Side::Native => "native",
            Side::Wax => "wax",
        }
    }
}

/// One module's run on one side: its results, or why there are none.
struct ModuleRun {
    results: Results,
    problem: Option<String>,
    elapsed: Duration,
    /// For a kept result of wax: the revision and date it was made with.
    made: Option<String>,
}

fn modules(root: &Path) -> Vec<String> {
    match std::env::var("WAX_CPYTHON_MODULES") {
        Ok(list) if list.trim() == "all" => list_all(root),
        Ok(list) if list.trim() == "slow" => SLOW_MODULES.iter().map(|m| m.to_string()).collect(),
        Ok(list) if list.trim() == "kept" => list_kept(),
        Ok(list) => list
            .split([',', ' ', '\n'])
            .filter(|m| !m.is_empty())
            .map(String::from)
            .collect(),
        Err(_) => CI_MODULES.iter().map(|m| m.to_string()).collect(),
    }
}

/// Every module of the suite, as regrtest lists it.
fn list_all(root: &Path) -> Vec<String> {
    let out = Command::new("chroot")
        .arg(root)
        .args(["/usr/bin/python3", "-m", "test", "--list-tests"])
        .env_clear()
        .envs(environment())
        .output()
        .expect("running python3 -m test --list-tests");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with("test_"))
        .map(String::from)
        .collect()
}

/// The modules whose results on both sides are kept in
/// `WAX_CPYTHON_RESULTS`.
fn list_kept() -> Vec<String> {
    let dir = std::env::var_os("WAX_CPYTHON_RESULTS")
        .expect("WAX_CPYTHON_MODULES=kept needs WAX_CPYTHON_RESULTS=DIR");
    let names = |side: Side| -> std::collections::BTreeSet<String> {
        let prefix = format!("{}-", side.label());
        fs::read_dir(&dir)
            .expect("reading WAX_CPYTHON_RESULTS")
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter_map(|n| {
                Some(
                    n.strip_prefix(&prefix)?
                        .strip_suffix(".result")?
                        .to_string(),
                )
            })
            .collect()
    };
    names(Side::Native)
        .intersection(&names(Side::Wax))
        .cloned()
        .collect()
}

/// The source revision and date a kept result was made with: the
/// checkout's, or `WAX_CPYTHON_REV` (the revision `WAX_CPYTHON_WAX` was
/// built from, when the checkout has moved on since).
fn made_with() -> String {
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let rev = std::env::var("WAX_CPYTHON_REV").unwrap_or_else(|_| {
        let dirty =
            git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
        let head = git(&["rev-parse", "--short", "HEAD"]);
        format!(
            "{}{}",
            head.as_deref().unwrap_or("unknown"),
            if dirty { "+" } else { "" }
        )
    });
    let date = Command::new("date")
        .args(["-u", "+%Y-%m-%d"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    format!("{rev} {date}")
}

fn environment() -> Vec<(&'static str, &'static str)> {
    vec![
        (
            "PATH",
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        ),
        ("HOME", "/root"),
        ("LANG", "C.UTF-8"),
        ("TZ", "UTC"),
        ("PYTHONDONTWRITEBYTECODE", "1"),
    ]
}

/// How many modules run at once (`WAX_CPYTHON_JOBS`, by default two: a
/// module under wax keeps about one core busy, and each module has its
/// own scratch directory).
fn jobs() -> usize {
    std::env::var("WAX_CPYTHON_JOBS")
        .ok()
        .and_then(|j| j.parse().ok())
        .filter(|&j| j > 0)
        .unwrap_or(2)
}

/// The results of a module kept by an earlier run (`WAX_CPYTHON_RESULTS`):
/// a first line `SECONDS ok [REVISION DATE]` followed by the results in
/// [`junit::to_lines`]' form, or `SECONDS problem [REVISION DATE]`
/// followed by why there were no results.
fn saved_run(file: &Path) -> Option<ModuleRun> {
    let text = fs::read_to_string(file).ok()?;
    let (head, body) = text.split_once('\n')?;
    let mut head = head.split(' ');
    let elapsed = Duration::from_secs_f64(head.next()?.parse().ok()?);
    let kind = head.next()?;
    let made = Some(head.collect::<Vec<_>>().join(" ")).filter(|m| !m.is_empty());
    match kind {
        "ok" => Some(ModuleRun {
            results: junit::from_lines(body).ok()?,
            problem: None,
            elapsed,
            made,
        }),
        "problem" => Some(ModuleRun {
            results: Results::new(),
            problem: Some(body.to_string()),
            elapsed,
            made,
        }),
        _ => None,
    }
}

/// Runs one module on one side (or takes what an earlier run kept).
fn run_module(root: &Path, module: &str, side: Side, log: &Path) -> ModuleRun {
    let kept = std::env::var_os("WAX_CPYTHON_RESULTS")
        .map(|d| PathBuf::from(d).join(format!("{}-{module}.result", side.label())));
    if let Some(run) = kept.as_deref().and_then(saved_run) {
        return run;
    }
    let mut run = run_module_now(root, module, side, log);
    let made = made_with();
    run.made = Some(made.clone());
    if let Some(file) = kept {
        let secs = run.elapsed.as_secs_f64();
        let saved = match &run.problem {
            None => format!("{secs:.1} ok {made}\n{}", junit::to_lines(&run.results)),
            Some(problem) => format!("{secs:.1} problem {made}\n{problem}"),
        };
        if let Some(dir) = file.parent() {
            let _ = fs::create_dir_all(dir);
        }
        fs::write(&file, saved).expect("keeping the module's results");
    }
    run
}

/// Runs one module on one side and reads its junit file.
fn run_module_now(root: &Path, module: &str, side: Side, log: &Path) -> ModuleRun {
    let base = format!("{SCRATCH}/{}-{module}", side.label());
    let xml = format!("{base}.xml");
    let host = |guest: &str| root.join(guest.trim_start_matches('/'));
    let _ = fs::remove_file(host(&xml));
    let _ = fs::remove_dir_all(host(&base));
    fs::create_dir_all(host(&base)).expect("creating the scratch directory in the root");
    let mut cmd = match side {
        Side::Native => {
            let mut c = Command::new("chroot");
            c.arg(root);
            c
        }
        Side::Wax => {
            let wax = std::env::var_os("WAX_CPYTHON_WAX").unwrap_or_else(|| WAX.into());
            let mut c = Command::new(wax);
            c.arg("run").arg("--root").arg(root);
            c
        }
    };
    let timeout = match side {
        Side::Native => NATIVE_TIMEOUT,
        Side::Wax => {
            cmd.env("WAX_LOG", log);
            timeout_or(Duration::from_secs(1200))
        }
    };
    // A module still running a minute before its time is up makes
    // regrtest print every thread's traceback (faulthandler) and exit:
    // the report then says which test hung and where.
    let traceback_at = timeout
        .saturating_sub(TRACEBACK_MARGIN)
        .max(TRACEBACK_MARGIN);
    cmd.args(["/usr/bin/python3", "-m", "test", "--tempdir", &base])
        .args(["--timeout", &traceback_at.as_secs().to_string()])
        .args(["--junit-xml", &xml, module])
        .current_dir(root)
        .env_clear()
        .envs(environment());
    let run = run_with_timeout(cmd, &[], timeout);
    let parsed = fs::read_to_string(host(&xml))
        .map_err(|e| format!("no junit file ({e})"))
        .and_then(|text| junit::parse(&text));
    let _ = fs::remove_dir_all(host(&base));
    let _ = fs::remove_file(host(&xml));
    match parsed {
        Ok(results) => ModuleRun {
            results,
            problem: None,
            elapsed: run.elapsed,
            made: None,
        },
        Err(e) => ModuleRun {
            results: Results::new(),
            problem: Some(format!("{e}; {}", ending(&run))),
            elapsed: run.elapsed,
            made: None,
        },
    }
}

/// How a run ended and the last lines it printed.
fn ending(run: &Run) -> String {
    let tail = |b: &[u8]| {
        let text = String::from_utf8_lossy(b).into_owned();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n    ")
    };
    format!(
        "{}\n  stdout:\n    {}\n  stderr:\n    {}",
        run.status,
        tail(&run.stdout),
        tail(&run.stderr)
    )
}

/// Tests that pass natively and not under wax, split into (unlisted,
/// listed in known.rs with the reason).
fn regressions(native: &Results, wax: &Results) -> (Vec<String>, Vec<(String, &'static str)>) {
    let mut new = Vec::new();
    let mut listed = Vec::new();
    for (test, (outcome, _)) in native {
        let under_wax = wax.get(test);
        if *outcome != Outcome::Pass || under_wax.map(|w| w.0) == Some(Outcome::Pass) {
            continue;
        }
        let got = match under_wax {
            Some((Outcome::Skip, why)) => format!("skipped: {why}"),
            Some((_, why)) => format!("failed: {why}"),
            None => "missing".into(),
        };
        match known::reason(test) {
            Some(why) => listed.push((format!("{test} ({got})"), why)),
            None => new.push(format!("{test} ({got})")),
        }
    }
    (new, listed)
}

/// Known entries for these modules whose tests all pass under wax now.
fn stale_known(native: &Results, wax: &Results) -> Vec<&'static str> {
    known::KNOWN
        .iter()
        .map(|(id, _)| *id)
        .filter(|id| {
            let covered: Vec<&String> = native.keys().filter(|t| known::covers(id, t)).collect();
            !covered.is_empty()
                && covered.iter().all(|t| {
                    native[*t].0 != Outcome::Pass || wax.get(*t).map(|w| w.0) == Some(Outcome::Pass)
                })
        })
        .collect()
}

/// One module's line in the report.
struct ReportRow {
    module: String,
    /// Pass, skip, fail natively and under wax.
    native: [usize; 3],
    wax: [usize; 3],
    /// Wall seconds natively and under wax.
    secs: [f64; 2],
    /// Tests passing natively and not under wax (listed or not), and why
    /// a run gave no results.
    differences: Vec<String>,
    /// The revision and date the wax side was run with.
    made: Option<String>,
    /// Why the native run gave no results (nothing to compare then).
    native_problem: Option<String>,
}

/// Pass, skip and fail natively and under wax, summed over the modules
/// (test ids repeat across modules, a test class shared by several of
/// them, so one map of every id would count fewer).
fn totals(rows: &[ReportRow]) -> [[usize; 3]; 2] {
    let sum = |f: fn(&ReportRow) -> [usize; 3]| {
        rows.iter()
            .map(f)
            .fold([0; 3], |t, c| [t[0] + c[0], t[1] + c[1], t[2] + c[2]])
    };
    [sum(|r| r.native), sum(|r| r.wax)]
}

/// `WAX_CPYTHON_REPORT=FILE`: the run as a Markdown table, one row per
/// module in name order, the totals, and every difference.
fn write_report(file: &Path, mut rows: Vec<ReportRow>) -> std::io::Result<()> {
    use std::fmt::Write;
    rows.sort_by(|a, b| a.module.cmp(&b.module));
    let [n, w] = totals(&rows);
    let differing = rows
        .iter()
        .filter(|r| !r.differences.is_empty() && r.native_problem.is_none())
        .count();
    let no_native = rows.iter().filter(|r| r.native_problem.is_some()).count();
    let mut made: Vec<&str> = rows.iter().filter_map(|r| r.made.as_deref()).collect();
    made.sort_unstable();
    made.dedup();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "CPython's regression suite natively (chroot) and under `wax run --root`: \
         {} modules; natively {} pass, {} skipped, {} fail; under wax {} pass, {} \
         skipped, {} fail; {differing} modules with tests that pass natively and not \
         under wax, {no_native} without native results to compare with (both listed \
         below the table). Wax revisions and dates: {}.\n",
        rows.len(),
        n[0],
        n[1],
        n[2],
        w[0],
        w[1],
        w[2],
        made.join(", ")
    );
    out.push_str("| module | native pass/skip/fail | wax pass/skip/fail | native s | wax s | differences |\n");
    out.push_str("|---|---:|---:|---:|---:|---:|\n");
    let fmt = |c: [usize; 3]| format!("{}/{}/{}", c[0], c[1], c[2]);
    for r in &rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {:.1} | {:.1} | {} |",
            r.module,
            fmt(r.native),
            fmt(r.wax),
            r.secs[0],
            r.secs[1],
            r.differences.len()
        );
    }
    for r in rows
        .iter()
        .filter(|r| !r.differences.is_empty() || r.native_problem.is_some())
    {
        let _ = writeln!(out, "\n{}:", r.module);
        if let Some(p) = &r.native_problem {
            let _ = writeln!(out, "- no results natively: {p}");
        }
        for d in &r.differences {
            let _ = writeln!(out, "- {d}");
        }
    }
    fs::write(file, out)
}

fn fmt_counts(c: [usize; 3]) -> String {
    format!("{:>4} {:>4} {:>4}", c[0], c[1], c[2])
}

/// Missing system calls named in the log, deduplicated.
fn log_notes(log: &Path) -> Vec<String> {
    let text = fs::read_to_string(log).unwrap_or_default();
    let mut notes: Vec<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("wax: unimplemented system call "))
        .map(String::from)
        .collect();
    notes.sort_unstable();
    notes.dedup();
    notes
}

#[test]
fn cpython_regression_tests_pass_under_wax_where_they_pass_natively() {
    let root = debian_root();
    assert!(
        root.join("usr/lib/python3.11/test/libregrtest").is_dir(),
        "{} lacks CPython's test suite (libpython3.11-testsuite): rebuild it with \
         `disk-images/mkroot.sh test build/roots/test`",
        root.display()
    );
    let _proc = ProcMount::new(&root);
    fs::create_dir_all(root.join(SCRATCH.trim_start_matches('/'))).expect("scratch dir");
    let log = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cpython-wax.log");
    let _ = fs::remove_file(&log);

    println!(
        "{:<22} {:>14} {:>14} {:>8} {:>8}  regressions",
        "module", "native p/s/f", "wax p/s/f", "native", "wax"
    );
    let mut failures = Vec::new();
    let mut known_hits = Vec::new();
    let mut stale = Vec::new();
    let mods = modules(&root);
    let mut rows = Vec::new();
    let (done_tx, done) = std::sync::mpsc::channel();
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|workers| {
        for _ in 0..jobs() {
            let done_tx = done_tx.clone();
            let (root, log, mods, next) = (&root, &log, &mods, &next);
            workers.spawn(move || loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(module) = mods.get(i) else { break };
                let native = run_module(root, module, Side::Native, log);
                let wax = run_module(root, module, Side::Wax, log);
                if done_tx.send((module, native, wax)).is_err() {
                    break;
                }
            });
        }
        drop(done_tx);
        // Printed as modules finish; the workers' order is not the list's.
        for (module, native, wax) in done {
            let (new, listed) = regressions(&native.results, &wax.results);
            println!(
                "{module:<22} {:>14} {:>14} {:>7.1}s {:>7.1}s  {}{}",
                fmt_counts(junit::counts(&native.results)),
                fmt_counts(junit::counts(&wax.results)),
                native.elapsed.as_secs_f64(),
                wax.elapsed.as_secs_f64(),
                new.len(),
                if listed.is_empty() {
                    String::new()
                } else {
                    format!(" (+{} known)", listed.len())
                }
            );
            for test in &new {
                println!("    regression: {test}");
            }
            for (side, run) in [("native", &native), ("wax", &wax)] {
                if let Some(p) = &run.problem {
                    println!("    no results {side}: {}", p.lines().next().unwrap_or(""));
                }
            }
            if let Some(p) = &native.problem {
                failures.push(format!("{module}: the NATIVE run gave no results: {p}"));
            }
            if let Some(p) = &wax.problem {
                failures.push(format!("{module}: the wax run gave no results: {p}"));
            }
            rows.push(ReportRow {
                made: wax.made.clone(),
                module: module.clone(),
                native: junit::counts(&native.results),
                wax: junit::counts(&wax.results),
                secs: [native.elapsed, wax.elapsed].map(|d| d.as_secs_f64()),
                differences: new
                    .iter()
                    .cloned()
                    .chain(listed.iter().map(|(t, why)| format!("{t}, known: {why}")))
                    .chain(wax.problem.iter().map(|p| {
                        format!("no results under wax: {}", p.lines().next().unwrap_or(""))
                    }))
                    .collect(),
                native_problem: native.problem.as_ref().map(|p| {
                    let first = |pat: &str| p.lines().find(|l| l.contains(pat)).map(str::trim);
                    // regrtest's own timeout prints where the test hung.
                    match (p.lines().next(), first("File \"")) {
                        (Some(head), Some(at)) => format!("{head}; at {at}"),
                        (head, _) => head.unwrap_or("").to_string(),
                    }
                }),
            });
            failures.extend(new.into_iter().map(|t| format!("{module}: {t}")));
            known_hits.extend(listed);
            stale.extend(stale_known(&native.results, &wax.results));
        }
    });
    let [[np, ns, nf], [wp, ws, wf]] = totals(&rows);
    println!(
        "cpython: {} modules; natively {np} pass, {ns} skipped, {nf} fail; \
         under wax {wp} pass, {ws} skipped, {wf} fail; {} known differences",
        mods.len(),
        known_hits.len()
    );
    for (test, why) in &known_hits {
        println!("  known: {test}: {why}");
    }
    stale.sort_unstable();
    stale.dedup();
    for id in stale {
        println!("  known.rs lists {id}, which now passes under wax: remove it");
    }
    println!(
        "system calls wax reported as missing: {:?}",
        log_notes(&log)
    );
    if let Some(file) = std::env::var_os("WAX_CPYTHON_REPORT") {
        write_report(Path::new(&file), rows).expect("writing WAX_CPYTHON_REPORT");
    }
    assert!(
        failures.is_empty(),
        "{} tests pass natively and not under wax:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
