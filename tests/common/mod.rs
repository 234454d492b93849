//! Helpers shared by the whole-program tests.
//!
//! The tests are differential: a program runs natively (this x86-64 host
//! runs i386 binaries) and under `wax run`, and the two runs must agree on
//! stdout, exit status and, where it is deterministic, stderr. Every run has
//! a timeout, so a hang becomes a test failure instead of a stuck CI job.
//!
//! Each test binary includes this module and uses a different subset of it.
#![allow(dead_code)]

pub mod corpus;

use std::collections::HashMap;
use std::ffi::OsString;
use std::fmt;
use std::io::{Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// The `wax` binary built by cargo for these tests.
pub const WAX: &str = env!("CARGO_BIN_EXE_wax");

/// Root of the repository (the root package's manifest directory).
pub fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Scratch space inside cargo's target directory, kept between runs.
pub fn scratch() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
}

/// Timeout for one program run: `WAX_TEST_TIMEOUT` seconds, or `default`.
pub fn timeout_or(default: Duration) -> Duration {
    std::env::var("WAX_TEST_TIMEOUT")
        .ok()
        .and_then(|s| s.parse().ok())
        .map(Duration::from_secs)
        .unwrap_or(default)
}

/// How a process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Exited(i32),
    /// Killed by a signal (of the host process itself).
    Signaled(i32),
    /// Still running at the timeout; it was killed.
    TimedOut(Duration),
}

impl Status {
    fn from_exit(status: ExitStatus) -> Status {
        match (status.code(), status.signal()) {
            (Some(code), _) => Status::Exited(code),
            (None, Some(sig)) => Status::Signaled(sig),
            (None, None) => unreachable!("a finished process has a code or a signal"),
        }
    }

    /// The status as a shell reports it: 128+N for death by signal N. This
    /// is what `wax run` must exit with when the guest dies of signal N.
    pub fn shell_code(self) -> Option<i32> {
        match self {
            Status::Exited(code) => Some(code),
            Status::Signaled(sig) => Some(128 + sig),
            Status::TimedOut(_) => None,
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Status::Exited(code) => write!(f, "exit {code}"),
            Status::Signaled(sig) => write!(f, "killed by {} ({sig})", signal_name(*sig)),
            Status::TimedOut(t) => write!(f, "still running after {t:?} (killed)"),
        }
    }
}

/// Linux i386 signal names for the signals the tests provoke.
pub fn signal_name(sig: i32) -> &'static str {
    match sig {
        1 => "SIGHUP",
        2 => "SIGINT",
        4 => "SIGILL",
        5 => "SIGTRAP",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        13 => "SIGPIPE",
        15 => "SIGTERM",
        _ => "a signal",
    }
}

/// The result of one run.
#[derive(Debug)]
pub struct Run {
    pub status: Status,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub elapsed: Duration,
}

impl Run {
    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
}

/// One program invocation, runnable natively or under wax.
#[derive(Clone, Debug)]
pub struct Invocation {
    pub program: PathBuf,
    pub args: Vec<OsString>,
    /// `None` inherits the test's environment; `Some` replaces it.
    pub env: Option<Vec<(String, String)>>,
    pub stdin: Vec<u8>,
    pub cwd: Option<PathBuf>,
    pub timeout: Duration,
}

impl Invocation {
    pub fn new(program: impl Into<PathBuf>) -> Invocation {
        Invocation {
            program: program.into(),
            args: Vec::new(),
            env: None,
            stdin: Vec::new(),
            cwd: None,
            timeout: timeout_or(Duration::from_secs(120)),
        }
    }

    pub fn arg(mut self, arg: impl Into<OsString>) -> Invocation {
        self.args.push(arg.into());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Invocation
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    pub fn env(mut self, vars: &[(&str, &str)]) -> Invocation {
        let vars = vars.iter().map(|(k, v)| (k.to_string(), v.to_string()));
        self.env = Some(vars.collect());
        self
    }

    pub fn stdin(mut self, data: impl Into<Vec<u8>>) -> Invocation {
        self.stdin = data.into();
        self
    }

    pub fn cwd(mut self, dir: impl Into<PathBuf>) -> Invocation {
        self.cwd = Some(dir.into());
        self
    }

    pub fn timeout(mut self, timeout: Duration) -> Invocation {
        self.timeout = timeout;
        self
    }

    /// Runs the program directly on the host CPU.
    pub fn run_native(&self) -> Run {
        let mut cmd = Command::new(&self.program);
        cmd.args(&self.args);
        self.run(cmd)
    }

    /// Runs the program under Node's V8: the wasm32 build (its JIT, the
    /// default), `node web/node/wax.mjs run --image build/images/default.img`,
    /// with the program copied into the guest at its host path (`--file`,
    /// so argv[0] and AT_EXECFN are the native run's), and so are the
    /// arguments that name host files (absolute paths); directories named
    /// by arguments and the working directory exist in the guest, empty
    /// (`--dir`, `--cwd`). Arguments, environment and stdin are the same. Needs
    /// scripts/build-web.sh and the default image (scripts/setup.sh).
    ///
    /// `None` when `WAX_TEST_NODE=0`: scripts/test.sh runs the Node side of
    /// these suites once, in its JIT step (the runner's JIT at
    /// `WAX_JIT_THRESHOLD=2000`), not again in the workspace step.
    pub fn run_node(&self) -> Option<Run> {
        if std::env::var_os("WAX_TEST_NODE").is_some_and(|v| v == "0") {
            return None;
        }
        let root = repo_root();
        assert!(
            root.join("web/dist/pkg/wax_web_bg.wasm").is_file(),
            "build the web app first: scripts/build-web.sh"
        );
        let program = std::path::absolute(&self.program).expect("the program's absolute path");
        let mut copy = OsString::from(program.as_os_str());
        copy.push(":");
        copy.push(program.as_os_str());
        let mut cmd = Command::new("node");
        cmd.arg(root.join("web/node/wax.mjs"))
            .args(["run", "--image"])
            .arg(root.join("build/images/default.img"))
            .arg("--file")
            .arg(copy);
        // Arguments naming host files (inputs the test wrote) are copied
        // to the same paths; those naming host directories (scratch
        // directories) are made, empty.
        for arg in &self.args {
            let path = Path::new(arg);
            if path.is_absolute() && path.is_file() {
                let mut copy = arg.clone();
                copy.push(":");
                copy.push(arg);
                cmd.arg("--file").arg(copy);
            } else if path.is_absolute() && path.is_dir() {
                cmd.arg("--dir").arg(arg);
            }
        }
        if let Some(dir) = &self.cwd {
            let dir = std::path::absolute(dir).expect("the working directory's absolute path");
            cmd.arg("--dir").arg(&dir).arg("--cwd").arg(&dir);
        }
        cmd.arg("--").arg(&program).args(&self.args);
        Some(self.run(cmd))
    }

    /// Runs the program as `wax run PROGRAM ARGS...`.
    pub fn run_wax(&self) -> Run {
        let mut cmd = wax_run();
        cmd.arg(&self.program).args(&self.args);
        self.run(cmd)
    }

    fn run(&self, mut cmd: Command) -> Run {
        if let Some(vars) = &self.env {
            cmd.env_clear().envs(vars.iter().map(|(k, v)| (k, v)));
        }
        if let Some(dir) = &self.cwd {
            cmd.current_dir(dir);
        }
        run_with_timeout(cmd, &self.stdin, self.timeout)
    }
}

/// `wax run` with the options every test uses; the program comes next.
/// The guest root is the host's `/`, so the tests' files (in cargo's target
/// directory) are at the same paths natively and under wax.
pub fn wax_run() -> Command {
    let mut cmd = Command::new(WAX);
    cmd.arg("run");
    cmd
}

/// Runs `cmd` with `stdin` as its standard input (null if empty), capturing
/// stdout and stderr, and kills it if it outlives `timeout`.
pub fn run_with_timeout(mut cmd: Command, stdin: &[u8], timeout: Duration) -> Run {
    let input = if stdin.is_empty() {
        Stdio::null()
    } else {
        Stdio::piped()
    };
    cmd.stdin(input)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let start = Instant::now();
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {:?}: {e}", cmd.get_program()));
    let writer = child.stdin.take().map(|mut pipe| {
        let data = stdin.to_vec();
        // The program may exit without reading everything: EPIPE is fine.
        thread::spawn(move || drop(pipe.write_all(&data)))
    });
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let status = wait_until(&mut child, start, timeout);
    if let Some(writer) = writer {
        writer.join().expect("stdin writer thread");
    }
    Run {
        status,
        stdout: stdout.join().expect("stdout reader thread"),
        stderr: stderr.join().expect("stderr reader thread"),
        elapsed: start.elapsed(),
    }
}

fn drain(pipe: Option<impl Read + Send + 'static>) -> JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut data = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut data);
        }
        data
    })
}

fn wait_until(child: &mut Child, start: Instant, timeout: Duration) -> Status {
    // Short polls first so that quick programs finish quickly.
    let mut poll = Duration::from_millis(1);
    loop {
        if let Some(status) = child.try_wait().expect("waiting for child") {
            return Status::from_exit(status);
        }
        if start.elapsed() >= timeout {
            let _ = child.kill();
            let _ = child.wait();
            return Status::TimedOut(timeout);
        }
        thread::sleep(poll);
        poll = (poll * 2).min(Duration::from_millis(20));
    }
}

/// Checks that a wax run is sane regardless of what the guest did: it
/// finished in time, the host process was not killed by a signal, and
/// nothing panicked. Returns the problems found.
pub fn host_problems(wax: &Run) -> Vec<String> {
    let mut problems = Vec::new();
    match wax.status {
        Status::TimedOut(t) => problems.push(format!("wax hung: still running after {t:?}")),
        Status::Signaled(sig) => problems.push(format!(
            "the wax host process itself was killed by {} ({sig})",
            signal_name(sig)
        )),
        Status::Exited(_) => {}
    }
    let stderr = wax.stderr_text();
    if stderr.contains("panicked") || stderr.contains("RUST_BACKTRACE") {
        problems.push("wax panicked".to_string());
    }
    problems
}

/// What to compare between the native and the wax run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compare {
    StdoutAndStatus,
    StdoutStderrAndStatus,
}

/// Runs `inv` natively and under wax and panics with a readable report if
/// they differ. Returns both runs for further checks.
#[track_caller]
pub fn assert_same(what: &str, inv: &Invocation, compare: Compare) -> (Run, Run) {
    let native = inv.run_native();
    let wax = inv.run_wax();
    if let Some(report) = differences(inv, &native, &wax, compare) {
        panic!("{what}: wax differs from native\n{report}");
    }
    (native, wax)
}

/// [`assert_same`], and the run under Node's V8 ([`Invocation::run_node`])
/// must match the native one too.
pub fn assert_same_everywhere(what: &str, inv: &Invocation, compare: Compare) -> (Run, Run) {
    let (native, wax) = assert_same(what, inv, compare);
    if let Some(node) = inv.run_node() {
        if let Some(report) = differences(inv, &native, &node, compare) {
            panic!(
                "{what}: under Node (node web/node/wax.mjs run) it differs from native\n{report}"
            );
        }
    }
    (native, wax)
}

/// Describes how `wax` differs from `native`, or `None` if it does not.
pub fn differences(inv: &Invocation, native: &Run, wax: &Run, compare: Compare) -> Option<String> {
    let mut out = Vec::new();
    if let Status::TimedOut(t) = native.status {
        out.push(format!(
            "the NATIVE run timed out after {t:?}: the test itself is broken"
        ));
    }
    out.extend(host_problems(wax));
    if native.status.shell_code() != wax.status.shell_code() {
        out.push(format!(
            "status: native {} (shell code {:?}), wax {}",
            native.status,
            native.status.shell_code(),
            wax.status
        ));
        if wax.status == Status::Exited(132) && native.status.shell_code() != Some(132) {
            out.push(
                "hint: wax reports SIGILL, most likely an instruction wax does not implement yet"
                    .to_string(),
            );
        }
    }
    if native.stdout != wax.stdout {
        out.push(format!(
            "stdout: {}",
            first_difference(&native.stdout, &wax.stdout)
        ));
    }
    if compare == Compare::StdoutStderrAndStatus && native.stderr != wax.stderr {
        out.push(format!(
            "stderr: {}",
            first_difference(&native.stderr, &wax.stderr)
        ));
    }
    if out.is_empty() {
        return None;
    }
    out.push(format!(
        "command: wax run {} {:?}",
        inv.program.display(),
        inv.args
    ));
    out.push(format!(
        "wax stderr (first 2000 bytes):\n{}",
        excerpt(&wax.stderr, 2000)
    ));
    Some(out.join("\n"))
}

/// A short description of where two outputs first differ.
pub fn first_difference(expected: &[u8], actual: &[u8]) -> String {
    let exp: Vec<&[u8]> = expected.split(|&b| b == b'\n').collect();
    let act: Vec<&[u8]> = actual.split(|&b| b == b'\n').collect();
    let line = exp.iter().zip(&act).position(|(a, b)| a != b);
    let line = line.unwrap_or(exp.len().min(act.len()));
    let show = |lines: &[&[u8]]| match lines.get(line) {
        Some(l) => format!("{:?}", excerpt(l, 300)),
        None => "<end of output>".to_string(),
    };
    format!(
        "{} vs {} bytes; first difference at line {}:\n  native: {}\n  wax:    {}",
        expected.len(),
        actual.len(),
        line + 1,
        show(&exp),
        show(&act)
    )
}

fn excerpt(data: &[u8], max: usize) -> String {
    let text = String::from_utf8_lossy(&data[..data.len().min(max)]).into_owned();
    if data.len() > max {
        text + "..."
    } else {
        text
    }
}

/// A directory that is removed when dropped, unique per process and call.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(label: &str) -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = scratch().join(format!("{label}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("creating a temporary directory");
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Compiles `tests/programs/NAME.c` with `gcc -m32 -static -O2` (once per
/// test process) and returns the path of the binary.
pub fn c_program(name: &str) -> PathBuf {
    static BUILT: Mutex<Option<HashMap<String, PathBuf>>> = Mutex::new(None);
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    let built = built.get_or_insert_with(HashMap::new);
    if let Some(path) = built.get(name) {
        return path.clone();
    }
    let src = repo_root().join("tests/programs").join(format!("{name}.c"));
    let path = compile(&src, name, &["-m32", "-static", "-O2"]);
    built.insert(name.to_string(), path.clone());
    path
}

/// Compiles `tests/programs/NAME.c` as a dynamically linked i386 program
/// (`gcc -m32 -O2 -pthread`, once per test process). Natively it runs with
/// the host's i386 libc (gcc-multilib); under wax the guest root is the
/// host's `/`, so it loads the very same `ld-linux.so.2` and libc.
pub fn c_program_dynamic(name: &str) -> PathBuf {
    static BUILT: Mutex<Option<HashMap<String, PathBuf>>> = Mutex::new(None);
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    let built = built.get_or_insert_with(HashMap::new);
    if let Some(path) = built.get(name) {
        return path.clone();
    }
    let src = repo_root().join("tests/programs").join(format!("{name}.c"));
    let path = compile(&src, &format!("{name}.dyn"), &["-m32", "-O2", "-pthread"]);
    built.insert(name.to_string(), path.clone());
    path
}

/// Runs gcc on `src` with `flags`, writing `scratch()/programs/OUT`.
pub fn compile(src: &Path, out: &str, flags: &[&str]) -> PathBuf {
    let dir = scratch().join("programs");
    std::fs::create_dir_all(&dir).expect("creating the program directory");
    let path = dir.join(out);
    // Build under a private name and rename, so that concurrent test
    // processes never run a half-written binary.
    let tmp = dir.join(format!("{out}.tmp{}", std::process::id()));
    let result = Command::new("gcc")
        .args(flags)
        .arg("-o")
        .arg(&tmp)
        .arg(src)
        .arg("-lm")
        .output()
        .expect("cannot run gcc: install it (scripts/setup.sh)");
    assert!(
        result.status.success(),
        "gcc {flags:?} {} failed (32-bit builds need gcc-multilib: run scripts/setup.sh):\n{}",
        src.display(),
        String::from_utf8_lossy(&result.stderr)
    );
    std::fs::rename(&tmp, &path).expect("moving the compiled program into place");
    path
}
