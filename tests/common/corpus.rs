//! The Debian corpus shared by tests/corpus.rs (`wax run --root`) and
//! tests/disk_corpus.rs (`wax run --image`): the parser of
//! tests/corpus/commands.txt, the test root, procfs for the native runs,
//! the fixed environment, one way to run a command natively (`chroot`) or
//! under wax, and the comparison of two runs.
//!
//! Every run starts from the same state: the command's scratch directory
//! (inside the root, also its $HOME) is created empty by the script itself
//! and removed after the run, and the environment is fixed. Wax starts in
//! the root's `/` (its host cwd is the root), as chroot does.

use super::{first_difference, host_problems, repo_root, run_with_timeout, scratch, Run, WAX};
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Native runs are quick; under wax the interpreter runs gcc and python.
const NATIVE_TIMEOUT: Duration = Duration::from_secs(120);
const WAX_TIMEOUT: Duration = Duration::from_secs(300);

/// One command of the corpus.
pub struct Entry {
    pub name: String,
    pub script: String,
}

/// Parses commands.txt: "## NAME" starts a command, the following lines up
/// to the next "## " are its text; lines before the first are comments.
pub fn entries() -> Vec<Entry> {
    let path = repo_root().join("tests/corpus/commands.txt");
    let text = fs::read_to_string(&path).expect("reading tests/corpus/commands.txt");
    parse(&text)
}

pub fn parse(text: &str) -> Vec<Entry> {
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

/// The entries whose name contains `WAX_CORPUS_FILTER` (all without it).
pub fn selected(entries: &[Entry]) -> Vec<&Entry> {
    let filter = std::env::var("WAX_CORPUS_FILTER").unwrap_or_default();
    entries
        .iter()
        .filter(|e| e.name.contains(&filter))
        .collect()
}

/// The Debian test root (`WAX_CORPUS_ROOT`, else build/roots/test), or a
/// panic that names the command that builds it.
pub fn debian_root() -> PathBuf {
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
pub struct ProcMount(Option<PathBuf>);

impl ProcMount {
    pub fn new(root: &Path) -> ProcMount {
        let proc_dir = root.join("proc");
        let dev = |p: &Path| fs::metadata(p).map(|m| m.dev()).ok();
        if dev(root) != dev(&proc_dir) {
            return ProcMount(None); // already mounted
        }
        let ok = Command::new("mount")
            .args(["-t", "proc", "proc"])
            .arg(&proc_dir)
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            ok,
            "mount -t proc proc {} failed: the corpus tests must run as root",
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

/// Where a command runs: natively under `chroot ROOT`, under wax with
/// the given options before the program (`--root ROOT`, `--image FILE`),
/// or under Node's V8 (`node web/node/wax.mjs run --image FILE`, the
/// wasm32 build that scripts/build-web.sh makes).
#[derive(Clone, Copy)]
pub enum Runner<'a> {
    Native,
    Wax(&'a [&'a std::ffi::OsStr]),
    Node(&'a Path),
}

/// Runs `entry` in the root (as chroot or wax) in the scratch directory
/// `{prefix}-{name}` under the guest's /tmp, created by the script itself
/// (so it works on an image too) and removed from the root afterwards.
pub fn run(root: &Path, prefix: &str, entry: &Entry, runner: Runner<'_>) -> Run {
    let dir = format!("/tmp/{prefix}-{}", entry.name);
    let host_dir = root.join(dir.trim_start_matches('/'));
    let _ = fs::remove_dir_all(&host_dir);
    let script = format!("mkdir -p {dir} && cd {dir} || exit 99\n{}", entry.script);
    let log = scratch().join(format!("{prefix}-{}.wax.log", entry.name));
    let _ = fs::remove_file(&log);
    let (mut cmd, timeout) = match runner {
        Runner::Native => {
            let mut c = Command::new("chroot");
            c.arg(root);
            (c, NATIVE_TIMEOUT)
        }
        Runner::Wax(options) => {
            let mut c = Command::new(WAX);
            c.arg("run").args(options);
            (c, WAX_TIMEOUT)
        }
        Runner::Node(image) => {
            let mut c = Command::new("node");
            c.arg(repo_root().join("web/node/wax.mjs"))
                .args(["run", "--image"])
                .arg(image)
                .arg("--");
            (c, WAX_TIMEOUT)
        }
    };
    cmd.args(["/bin/bash", "-c", &script])
        .current_dir(root)
        .env_clear()
        .envs(environment(&dir));
    if let Runner::Wax(_) = runner {
        // For wax only (it keeps WAX_LOG from the guest); a native run
        // would show it in `env`.
        cmd.env("WAX_LOG", &log);
    }
    let mut result = run_with_timeout(cmd, &[], timeout);
    let _ = fs::remove_dir_all(&host_dir);
    // Wax's notes (WAX_LOG, never the guest's stderr) join the captured
    // stderr, so reaching a missing system call is a difference.
    if let Ok(notes) = fs::read(&log) {
        result.stderr.extend_from_slice(&notes);
        let _ = fs::remove_file(&log);
    }
    result
}

/// The fixed environment of every run.
fn environment(home: &str) -> Vec<(&'static str, String)> {
    let date = "2024-01-02T03:04:05Z".to_string();
    let path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    vec![
        ("PATH", path.into()),
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

/// Wax's own notes ("wax: unimplemented system call N (NAME)", logged
/// once per system call and run to WAX_LOG, which `run` appends to the
/// captured stderr), for a summary's list. The comparison keeps them: no
/// command of the corpus may reach an unimplemented system call.
pub fn wax_notes(stderr: &[u8]) -> Vec<String> {
    const NOTE: &[u8] = b"wax: unimplemented system call ";
    stderr
        .split(|&b| b == b'\n')
        .filter_map(|line| line.strip_prefix(NOTE))
        .map(|rest| String::from_utf8_lossy(rest).trim_end().to_string())
        .collect()
}

/// How run `b` differs from the reference run `a` (native, or another wax
/// run), if it does: status, stdout and stderr, each compared exactly.
pub fn compare(a: &Run, b: &Run) -> Option<String> {
    let mut out = host_problems(b);
    if a.status.shell_code().is_none() {
        out.push(format!("the reference run failed: {}", a.status));
    }
    if a.status.shell_code() != b.status.shell_code() {
        out.push(format!("status: {} vs {}", a.status, b.status));
    }
    if a.stdout != b.stdout {
        out.push(format!(
            "stdout: {}",
            first_difference(&a.stdout, &b.stdout)
        ));
    }
    if a.stderr != b.stderr {
        out.push(format!(
            "stderr: {}",
            first_difference(&a.stderr, &b.stderr)
        ));
    }
    (!out.is_empty()).then(|| out.join("\n"))
}

/// Panics unless every name in a known-differences list is a command of
/// the corpus (a renamed command must not leave a stale entry behind).
pub fn assert_names_known(entries: &[Entry], list: &[(&str, &str)], list_name: &str) {
    for (name, _) in list {
        assert!(
            entries.iter().any(|e| e.name == *name),
            "{list_name} names an unknown command {name}"
        );
    }
}
