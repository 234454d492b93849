//! The Debian corpus (tests/corpus/commands.txt, see tests/corpus.rs) on
//! the ext2 image of the same root: each command runs natively with
//! `chroot build/roots/test /bin/bash -c CMD` and with
//! `wax run --image build/images/test.img /bin/bash -c CMD`; stdout,
//! stderr and the exit status must be identical.
//!
//! The image's writes go to wax's in-memory overlay, so every run starts
//! from the same image. Each command runs in a fresh directory
//! /tmp/wax-dcorpus-NAME (its $HOME), which the script itself creates, in
//! both runs alike (a name apart from tests/corpus.rs's, so the two tests
//! can run at the same time).
//!
//! What the image adds over `--root` is the ext2 driver, so a command
//! that differs from native is run once more with `wax run --root`: if
//! that run has the very same output, the difference is the kernel's (it
//! is tests/corpus.rs's business, listed in its KNOWN_FAILURES) and is
//! reported, not failed. A difference of the image alone fails the test,
//! unless `IMAGE_DIFFERENCES` lists it with the reason.
//! `WAX_CORPUS_FILTER=SUBSTRING` runs only the matching commands.
//!
//! Needs build/roots/test (disk-images/mkroot.sh), build/images/test.img
//! (disk-images/mkimage.sh) and root (for chroot and mounting procfs).

mod common;

use common::{first_difference, host_problems, repo_root, run_with_timeout, Run, WAX};
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Commands whose output on the image legitimately differs from the
/// unconfigured root directory, with the reason. The test recipe
/// configures the image (hostname, users, motd) after copying the root:
/// its /etc/passwd and /etc/group have the extra login user
/// ("user:x:1000:1000:Wax user:/home/user:/bin/bash").
const IMAGE_DIFFERENCES: &[(&str, &str)] = &[
    (
        "coreutils-text",
        "counts the login shells in /etc/passwd: the image has one more bash user",
    ),
    (
        "coreutils-checksums",
        "md5sum of /etc/passwd and /etc/group, which the image configures",
    ),
    (
        "symlinks-and-dotdot",
        "counts the lines of /etc/passwd through a symlink: one more on the image",
    ),
    (
        "wc-and-counting",
        "wc of /etc/passwd and /etc/group, which the image configures",
    ),
];

const NATIVE_TIMEOUT: Duration = Duration::from_secs(120);
const WAX_TIMEOUT: Duration = Duration::from_secs(300);

struct Entry {
    name: String,
    script: String,
}

/// Parses commands.txt ("## NAME" then the command's lines), the format
/// tests/corpus.rs defines.
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
    entries
}

fn paths() -> (PathBuf, PathBuf) {
    let root = repo_root().join("build/roots/test");
    let image = repo_root().join("build/images/test.img");
    assert!(
        root.join("bin/bash").is_file() && image.is_file(),
        "build the test root and image first: disk-images/mkroot.sh test build/roots/test \
         and disk-images/mkimage.sh test build/images/test.img"
    );
    (root.canonicalize().unwrap(), image)
}

/// procfs on ROOT/proc for the native runs (unmounted on drop if mounted
/// here).
struct ProcMount(Option<PathBuf>);

impl ProcMount {
    fn new(root: &Path) -> ProcMount {
        let proc_dir = root.join("proc");
        let dev = |p: &Path| fs::metadata(p).map(|m| m.dev()).ok();
        if dev(root) != dev(&proc_dir) {
            return ProcMount(None);
        }
        let ok = Command::new("mount")
            .args(["-t", "proc", "proc"])
            .arg(&proc_dir)
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            ok,
            "mounting procfs on {} failed: run as root",
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

/// Where a command runs natively, with wax on the image, or with wax on
/// the root directory.
#[derive(Clone, Copy, PartialEq)]
enum Where {
    Native,
    Image,
    Root,
}

fn run(root: &Path, image: &Path, entry: &Entry, at: Where) -> Run {
    let dir = format!("/tmp/wax-dcorpus-{}", entry.name);
    let host_dir = root.join(dir.trim_start_matches('/'));
    let _ = fs::remove_dir_all(&host_dir);
    let script = format!("mkdir -p {dir} && cd {dir} || exit 99\n{}", entry.script);
    let (mut cmd, timeout) = match at {
        Where::Native => {
            let mut c = Command::new("chroot");
            c.arg(root);
            (c, NATIVE_TIMEOUT)
        }
        Where::Image => {
            let mut c = Command::new(WAX);
            c.arg("run").arg("--image").arg(image);
            (c, WAX_TIMEOUT)
        }
        Where::Root => {
            let mut c = Command::new(WAX);
            c.arg("run").arg("--root").arg(root);
            (c, WAX_TIMEOUT)
        }
    };
    cmd.args(["/bin/bash", "-c", &script])
        .current_dir(root)
        .env_clear()
        .envs(environment(&dir));
    let r = run_with_timeout(cmd, &[], timeout);
    let _ = fs::remove_dir_all(&host_dir);
    r
}

/// The environment tests/corpus.rs uses.
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

/// Stderr without wax's "unimplemented system call" notes (diagnostics of
/// the emulator, as in tests/corpus.rs).
fn guest_stderr(stderr: &[u8]) -> Vec<u8> {
    stderr
        .split_inclusive(|&b| b == b'\n')
        .filter(|l| !l.starts_with(b"wax: unimplemented system call "))
        .flatten()
        .copied()
        .collect()
}

/// How `b` differs from `a`, if it does.
fn compare(a: &Run, b: &Run) -> Option<String> {
    let mut out = host_problems(b);
    if a.status.shell_code() != b.status.shell_code() {
        out.push(format!("status: {} vs {}", a.status, b.status));
    }
    if a.stdout != b.stdout {
        out.push(format!(
            "stdout: {}",
            first_difference(&a.stdout, &b.stdout)
        ));
    }
    let (ea, eb) = (guest_stderr(&a.stderr), guest_stderr(&b.stderr));
    if ea != eb {
        out.push(format!("stderr: {}", first_difference(&ea, &eb)));
    }
    (!out.is_empty()).then(|| out.join("\n"))
}

#[test]
fn image_differences_name_corpus_commands() {
    let names: Vec<String> = corpus().into_iter().map(|e| e.name).collect();
    for (name, _) in IMAGE_DIFFERENCES {
        assert!(names.iter().any(|n| n == name), "unknown command {name}");
    }
}

#[test]
fn debian_corpus_on_the_image_matches_native() {
    let (root, image) = paths();
    let _proc = ProcMount::new(&root);
    let filter = std::env::var("WAX_CORPUS_FILTER").unwrap_or_default();
    let (mut same, mut kernel, mut listed, mut failed) = (0, Vec::new(), 0, Vec::new());
    let entries = corpus();
    for entry in entries.iter().filter(|e| e.name.contains(&filter)) {
        let native = run(&root, &image, entry, Where::Native);
        let on_image = run(&root, &image, entry, Where::Image);
        let Some(report) = compare(&native, &on_image) else {
            println!(
                "{:<32} same ({:.2}s native, {:.2}s wax --image)",
                entry.name,
                native.elapsed.as_secs_f64(),
                on_image.elapsed.as_secs_f64()
            );
            same += 1;
            continue;
        };
        let on_root = run(&root, &image, entry, Where::Root);
        let verdict = if compare(&on_root, &on_image).is_none() {
            kernel.push(entry.name.as_str());
            "differs from native as --root does (a kernel difference)"
        } else if IMAGE_DIFFERENCES.iter().any(|(n, _)| *n == entry.name) {
            listed += 1;
            "differs (listed in IMAGE_DIFFERENCES)"
        } else {
            failed.push(entry.name.as_str());
            "DIFFERS on the image only"
        };
        println!(
            "{:<32} {verdict}\n  {}",
            entry.name,
            report.replace('\n', "\n  ")
        );
    }
    println!(
        "image corpus: {same} identical to native, {} differ as with --root ({}), \
         {listed} listed, {} differ on the image only",
        kernel.len(),
        kernel.join(", "),
        failed.len()
    );
    assert!(
        failed.is_empty(),
        "on the image only, these differ from native: {}",
        failed.join(", ")
    );
}
