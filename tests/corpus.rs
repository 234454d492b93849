//! The Debian corpus: the shell commands of tests/corpus/commands.txt run
//! in the Debian 12 i386 root that `disk-images/mkroot.sh test
//! build/roots/test` builds (minbase plus python3, git, gcc, perl, xz,
//! bzip2, file, procps), once natively with `chroot ROOT /bin/bash -c CMD`
//! (with procfs mounted on ROOT/proc for the duration) and once with
//! `wax run --root ROOT /bin/bash -c CMD` (the program path is inside the
//! root, as for chroot). Stdout, stderr and the exit status must be
//! identical. How a command is run and compared is shared with
//! tests/disk_corpus.rs: see tests/common/corpus.rs.
//!
//! Stderr is compared as it is, with wax's `WAX_LOG` notes appended: a
//! "wax: unimplemented system call" note is a difference (the summary
//! also lists them).
//!
//! The test prints one line per command with the native and the wax time,
//! and the totals. Commands that differ because of a kernel gap are listed
//! in `KNOWN_FAILURES` with the reason: they still run and their
//! differences are printed, but they do not fail the test.
//! `WAX_CORPUS_FILTER=SUBSTRING` runs only the matching commands.

mod common;

use common::corpus::{self, Entry, ProcMount, Runner};
use std::ffi::OsStr;
use std::time::Duration;

/// Commands that differ from native today, with the reason.
const KNOWN_FAILURES: &[(&str, &str)] = &[];

/// Scratch directories are /tmp/wax-corpus-NAME in the root.
const SCRATCH: &str = "wax-corpus";

/// One corpus run at a time: commands may touch the root outside their
/// scratch directory, and each run mounts and unmounts the root's /proc.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

struct Outcome {
    name: String,
    notes: Vec<String>,
    native: Duration,
    wax: Duration,
    report: Option<String>,
}

fn verdict(o: &Outcome) -> &'static str {
    let known = KNOWN_FAILURES.iter().any(|(n, _)| *n == o.name);
    match (&o.report, known) {
        (None, false) => "same",
        (None, true) => "same (listed as a known failure: remove it from the list)",
        (Some(_), true) => "KNOWN FAILURE",
        (Some(_), false) => "DIFFERS",
    }
}

fn print_summary(outcomes: &[Outcome]) {
    println!(
        "\n{:<32} {:>10} {:>10} {:>7}  result",
        "command", "native", "wax", "ratio"
    );
    for o in outcomes {
        println!(
            "{:<32} {:>9.2}s {:>9.2}s {:>6.1}x  {}",
            o.name,
            o.native.as_secs_f64(),
            o.wax.as_secs_f64(),
            o.wax.as_secs_f64() / o.native.as_secs_f64().max(1e-3),
            verdict(o)
        );
    }
    let mut notes: Vec<&str> = outcomes
        .iter()
        .flat_map(|o| o.notes.iter().map(String::as_str))
        .collect();
    notes.sort_unstable();
    notes.dedup();
    println!("system calls wax reported as unimplemented: {notes:?}");
    let native: Duration = outcomes.iter().map(|o| o.native).sum();
    let wax: Duration = outcomes.iter().map(|o| o.wax).sum();
    let same = outcomes.iter().filter(|o| o.report.is_none()).count();
    println!(
        "corpus: {} commands, {} identical, {} differ; native {:.1}s, wax {:.1}s ({:.1}x)",
        outcomes.len(),
        same,
        outcomes.len() - same,
        native.as_secs_f64(),
        wax.as_secs_f64(),
        wax.as_secs_f64() / native.as_secs_f64().max(1e-3)
    );
}

#[test]
fn corpus_has_enough_commands() {
    let entries = corpus::entries();
    assert!(entries.len() >= 60, "only {} commands", entries.len());
    let mut names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
    names.sort_unstable();
    let before = names.len();
    names.dedup();
    assert_eq!(before, names.len(), "command names must be unique");
    corpus::assert_names_known(&entries, KNOWN_FAILURES, "KNOWN_FAILURES");
}

#[test]
fn parser_splits_commands_and_skips_the_header() {
    let e: Vec<Entry> = corpus::parse("header\n## one\necho 1\n\n## two\necho 2\necho 3\n\n");
    let got: Vec<(&str, &str)> = e
        .iter()
        .map(|e| (e.name.as_str(), e.script.as_str()))
        .collect();
    assert_eq!(got, [("one", "echo 1\n"), ("two", "echo 2\necho 3\n")]);
}

#[test]
fn debian_corpus_matches_native() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let root = corpus::debian_root();
    let _proc = ProcMount::new(&root);
    let wax_options = [OsStr::new("--root"), root.as_os_str()];
    corpus_matches_native(&root, &wax_options, "");
}

/// The same commands with the JIT, translating a page once the interpreter
/// has run 20000 instructions in it, so that most of each command's work
/// runs as wasm (a page needs millions by default).
#[test]
fn debian_corpus_matches_native_under_the_jit() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let root = corpus::debian_root();
    let _proc = ProcMount::new(&root);
    let wax_options = [
        OsStr::new("--root"),
        root.as_os_str(),
        OsStr::new("--engine"),
        OsStr::new("jit"),
        OsStr::new("--jit-threshold"),
        OsStr::new("20000"),
    ];
    corpus_matches_native(&root, &wax_options, "jit-");
}

/// Runs every selected command natively and under `wax run OPTIONS` and
/// fails on any difference not in `KNOWN_FAILURES`. `prefix` keeps the
/// scratch directories of concurrent runs apart.
fn corpus_matches_native(root: &std::path::Path, wax_options: &[&OsStr], prefix: &str) {
    let scratch = format!("{prefix}{SCRATCH}");
    let entries = corpus::entries();
    let mut outcomes = Vec::new();
    for entry in corpus::selected(&entries) {
        let native = corpus::run(root, &scratch, entry, Runner::Native);
        let wax = corpus::run(root, &scratch, entry, Runner::Wax(wax_options));
        let outcome = Outcome {
            name: entry.name.clone(),
            notes: corpus::wax_notes(&wax.stderr),
            native: native.elapsed,
            wax: wax.elapsed,
            report: corpus::compare(&native, &wax),
        };
        println!("{:<32} {}", outcome.name, verdict(&outcome));
        if let Some(report) = &outcome.report {
            let reason = KNOWN_FAILURES.iter().find(|(n, _)| *n == entry.name);
            let reason = reason.map_or("", |(_, r)| r);
            println!("  {reason}\n  {}", report.replace('\n', "\n  "));
        }
        outcomes.push(outcome);
    }
    print_summary(&outcomes);
    let unexpected: Vec<&str> = outcomes
        .iter()
        .filter(|o| verdict(o) == "DIFFERS")
        .map(|o| o.name.as_str())
        .collect();
    assert!(
        unexpected.is_empty(),
        "wax differs from native on {} command(s) not in KNOWN_FAILURES: {}",
        unexpected.len(),
        unexpected.join(", ")
    );
}
