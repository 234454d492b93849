//! The Debian corpus: the shell commands of tests/corpus/commands.txt run
//! in the Debian 12 i386 root that `disk-images/mkroot.sh test
//! build/roots/test` builds (minbase plus python3, git, gcc, perl, xz,
//! bzip2, file, procps), once natively with `chroot ROOT /bin/bash -c CMD`
//! (with procfs mounted on ROOT/proc for the duration) and once with
//! `wax run --root ROOT /bin/bash -c CMD` (the program path is inside the
//! root, as for chroot). Stdout, stderr and the exit status must be
//! identical.
//!
//! Both runs start from the same state: the command's scratch directory
//! (/tmp/wax-corpus-NAME inside the root, also its $HOME) is created empty
//! before each run and removed after it, and the environment is fixed.
//! Wax starts in the root's `/` (its host cwd is the root), as chroot does.
//! Stderr is compared as it is: a "wax: unimplemented system call" note
//! is a difference (the summary also lists them, see `split_wax_notes`).
//!
//! The test prints one line per command with the native and the wax time,
//! and the totals. Commands that differ because of a kernel gap are listed
//! in `KNOWN_FAILURES` with the reason: they still run and their
//! differences are printed, but they do not fail the test.
//! `WAX_CORPUS_FILTER=SUBSTRING` runs only the matching commands.

mod common;

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::{first_difference, host_problems, repo_root, run_with_timeout, Run, WAX};

/// Commands that differ from native today, with the reason.
const KNOWN_FAILURES: &[(&str, &str)] = &[];

/// Native runs are quick; under wax the interpreter runs gcc and python.
const NATIVE_TIMEOUT: Duration = Duration::from_secs(120);
const WAX_TIMEOUT: Duration = Duration::from_secs(300);

/// One command of the corpus.
struct Entry {
    name: String,
    script: String,
}

/// Parses commands.txt: "## NAME" starts a command, the following lines up
/// to the next "## " are its text; lines before the first are comments.
fn corpus() -> Vec<Entry> {
    let path = repo_root().join("tests/corpus/commands.txt");
    let text = fs::read_to_string(&path).expect("reading tests/corpus/commands.txt");
    let mut entries: Vec<Entry> = Vec::new();
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("## ") {
            entries.push(Entry {
                name: name.trim().to_string(),
                script: String::new(),
            });
        } else if let Some(entry) = entries.last_mut() {
            entry.script.push_str(line);
            entry.script.push('\n');
        }
    }
    for e in &mut entries {
        e.script = e.script.trim_end().to_string() + "\n";
    }
    entries
}

/// The Debian root, or a panic that names the command that builds it.
fn debian_root() -> PathBuf {
    let root = std::env::var_os("WAX_CORPUS_ROOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("build/roots/test"));
    assert!(
        root.join(".complete").is_file() && root.join("bin/bash").is_file(),
        "the Debian test root {} is missing or incomplete: build it with \
         `disk-images/mkroot.sh test build/roots/test` (as root, with network access to the \
         Debian mirror; scripts/setup.sh does this)",
        root.display()
    );
    root.canonicalize().expect("canonicalizing the root path")
}

/// procfs mounted on ROOT/proc for the native runs, unmounted on drop if
/// this test mounted it. (Wax shows its own procfs there either way.)
struct ProcMount(Option<PathBuf>);

impl ProcMount {
    fn new(root: &Path) -> ProcMount {
        let proc_dir = root.join("proc");
        let same_dev = |a: &Path, b: &Path| {
            let dev = |p: &Path| fs::metadata(p).map(|m| m.dev()).ok();
            dev(a) == dev(b)
        };
        if !same_dev(root, &proc_dir) {
            return ProcMount(None); // already mounted
        }
        let status = Command::new("mount")
            .args(["-t", "proc", "proc"])
            .arg(&proc_dir)
            .status()
            .expect("running mount");
        assert!(
            status.success(),
            "mount -t proc proc {} failed: the corpus test must run as root",
            proc_dir.display()
        );
        ProcMount(Some(proc_dir))
    }
}

impl Drop for ProcMount {
    fn drop(&mut self) {
        if let Some(dir) = &self.0 {
            let _ = Command::new("umount").arg(dir).status();
        }
    }
}

/// The guest path of a command's scratch directory.
fn scratch_dir(name: &str) -> String {
    format!("/tmp/wax-corpus-{name}")
}

fn environment(home: &str) -> Vec<(&'static str, String)> {
    let date = "2024-01-02T03:04:05Z".to_string();
    vec![
        (
            "PATH",
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into(),
        ),
        ("HOME", home.to_string()),
        ("LC_ALL", "C".into()),
        ("TZ", "UTC".into()),
        ("PYTHONDONTWRITEBYTECODE", "1".into()),
        ("GIT_CONFIG_NOSYSTEM", "1".into()),
        ("GIT_AUTHOR_NAME", "Wax Test".into()),
        ("GIT_AUTHOR_EMAIL", "wax@example.org".into()),
        ("GIT_AUTHOR_DATE", date.clone()),
        ("GIT_COMMITTER_NAME", "Wax Test".into()),
        ("GIT_COMMITTER_EMAIL", "wax@example.org".into()),
        ("GIT_COMMITTER_DATE", date),
    ]
}

/// Runs `entry` natively or under wax in a freshly created scratch dir.
fn run(root: &Path, entry: &Entry, under_wax: bool) -> Run {
    let dir = scratch_dir(&entry.name);
    let host_dir = root.join(dir.trim_start_matches('/'));
    let _ = fs::remove_dir_all(&host_dir);
    fs::create_dir_all(&host_dir).expect("creating the scratch directory");
    let script = format!("cd {dir} || exit 99\n{}", entry.script);
    let (mut cmd, timeout) = if under_wax {
        let mut cmd = Command::new(WAX);
        cmd.arg("run").arg("--root").arg(root);
        (cmd, WAX_TIMEOUT)
    } else {
        let mut cmd = Command::new("chroot");
        cmd.arg(root);
        (cmd, NATIVE_TIMEOUT)
    };
    cmd.args(["/bin/bash", "-c", &script])
        .current_dir(root)
        .env_clear()
        .envs(environment(&dir));
    let result = run_with_timeout(cmd, &[], timeout);
    let _ = fs::remove_dir_all(&host_dir);
    result
}

/// Wax's own notes on stderr ("wax: unimplemented system call N (NAME)",
/// printed once per system call and run), split from the rest for the
/// summary's list. The comparison keeps them: no command of the corpus
/// may reach an unimplemented system call.
fn split_wax_notes(stderr: &[u8]) -> (Vec<u8>, Vec<String>) {
    const NOTE: &[u8] = b"wax: unimplemented system call ";
    let mut guest = Vec::new();
    let mut notes = Vec::new();
    for line in stderr.split_inclusive(|&b| b == b'\n') {
        match line.strip_prefix(NOTE) {
            Some(rest) => notes.push(String::from_utf8_lossy(rest).trim_end().to_string()),
            None => guest.extend_from_slice(line),
        }
    }
    (guest, notes)
}

/// How the wax run differs from the native one, if it does.
fn compare(native: &Run, wax: &Run) -> Option<String> {
    let mut out = host_problems(wax);
    if native.status.shell_code().is_none() {
        out.push(format!("the NATIVE run failed: {}", native.status));
    }
    if native.status.shell_code() != wax.status.shell_code() {
        out.push(format!(
            "status: native {}, wax {}",
            native.status, wax.status
        ));
    }
    if native.stdout != wax.stdout {
        out.push(format!(
            "stdout: {}",
            first_difference(&native.stdout, &wax.stdout)
        ));
    }
    if native.stderr != wax.stderr {
        out.push(format!(
            "stderr: {}",
            first_difference(&native.stderr, &wax.stderr)
        ));
    }
    (!out.is_empty()).then(|| out.join("\n"))
}

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
    let entries = corpus();
    assert!(entries.len() >= 60, "only {} commands", entries.len());
    let mut names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
    names.sort_unstable();
    let before = names.len();
    names.dedup();
    assert_eq!(before, names.len(), "command names must be unique");
    for (name, _) in KNOWN_FAILURES {
        assert!(
            names.contains(name),
            "KNOWN_FAILURES names an unknown command {name}"
        );
    }
}

#[test]
fn debian_corpus_matches_native() {
    let root = debian_root();
    let _proc = ProcMount::new(&root);
    let filter = std::env::var("WAX_CORPUS_FILTER").unwrap_or_default();
    let mut outcomes = Vec::new();
    for entry in corpus().iter().filter(|e| e.name.contains(&filter)) {
        let native = run(&root, entry, false);
        let wax = run(&root, entry, true);
        let outcome = Outcome {
            name: entry.name.clone(),
            notes: split_wax_notes(&wax.stderr).1,
            native: native.elapsed,
            wax: wax.elapsed,
            report: compare(&native, &wax),
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
