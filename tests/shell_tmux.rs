//! `wax shell` driven like a person would: in a real terminal (a tmux
//! pane), by keystrokes (`send-keys`), checked on what the screen shows
//! (`capture-pane`).
//!
//! Each test gets its own tmux server (`-L`) and a 100x30 pane running
//! `wax shell` on the default Debian image; the pane's shell records the
//! host terminal's settings before and after, and Wax's exit status.
//! The image must exist: `disk-images/mkimage.sh default
//! build/images/default.img` builds it (CI runs that first). Every wait
//! has a deadline, so a hang fails the test with the screen in the
//! message.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const WAX: &str = env!("CARGO_BIN_EXE_wax");
const IMAGE: &str = "build/images/default.img";
const BUILD: &str = "disk-images/mkimage.sh default build/images/default.img";
/// Longest wait for one screen state (the interpreter starts python3 in
/// a few seconds; CI machines are slower).
const WAIT: Duration = Duration::from_secs(90);
const PROMPT: &str = "root@";

struct Pane {
    server: String,
    dir: PathBuf,
}

fn image() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(IMAGE);
    assert!(
        p.is_file(),
        "{} is missing: build it with `{BUILD}` (from the repository root)",
        p.display()
    );
    p
}

impl Pane {
    /// A tmux pane running `wax shell`, after its first prompt.
    fn start(name: &str) -> Pane {
        let image = image();
        let server = format!("wax-{}-{name}", std::process::id());
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(&server);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let d = dir.display();
        let script = format!(
            "stty -g > {d}/before; {WAX} shell --image {img}; echo WAX_EXIT=$? > {d}/status; \
             stty -g > {d}/after; echo WAX_DONE; sleep 600",
            img = image.display()
        );
        let pane = Pane { server, dir };
        let out = pane.tmux(&[
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-s",
            "t",
            "-x",
            "100",
            "-y",
            "30",
            "sh",
            "-c",
            &script,
        ]);
        assert!(out.status.success(), "tmux failed: {out:?}");
        pane.wait_for(|s| s.contains(PROMPT), "the first prompt");
        pane
    }

    fn tmux(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.server)
            .args(args)
            .env_remove("TMUX")
            .output()
            .expect("tmux is not installed (scripts/setup.sh installs it)")
    }

    /// Types keys (tmux key names such as "Enter", "C-c", or text).
    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "t"];
        args.extend_from_slice(keys);
        assert!(self.tmux(&args).status.success());
    }

    /// Types a line of text and Enter.
    fn line(&self, text: &str) {
        self.keys(&["-l", text]);
        self.keys(&["Enter"]);
    }

    fn screen(&self) -> String {
        let out = self.tmux(&["capture-pane", "-p", "-t", "t"]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Waits until the screen satisfies `ok`; returns it.
    fn wait_for(&self, ok: impl Fn(&str) -> bool, what: &str) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if ok(&s) {
                return s;
            }
            assert!(
                start.elapsed() < WAIT,
                "timed out waiting for {what}; the screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Starts `script` as a foreground job (a subshell) and returns once
    /// it runs: it prints a marker first, which the typed command line
    /// cannot show (the quotes split it there), so keys sent afterwards go
    /// to the job and not to bash. No fixed sleeps: a slow machine only
    /// waits longer.
    fn foreground_job(&self, script: &str) {
        self.line(&format!("(echo JOB-RUN\"\"NING; {script})"));
        self.wait_text("JOB-RUNNING");
    }

    fn wait_text(&self, text: &str) -> String {
        self.wait_for(|s| s.contains(text), &format!("{text:?}"))
    }

    /// Clears the screen and waits for a fresh prompt, so later waits
    /// only see new output.
    fn clear(&self) {
        self.line("clear");
        self.wait_for(
            |s| s.trim_start().starts_with(PROMPT) && !s.contains("clear"),
            "a cleared screen",
        );
    }

    fn file(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.join(name)).unwrap_or_default()
    }
}

/// The last non-blank row of a screen.
fn last_line(s: &str) -> &str {
    s.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim_end()
}

impl Drop for Pane {
    fn drop(&mut self) {
        let _ = self.tmux(&["kill-server"]);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn prompt_and_command_output() {
    let p = Pane::start("output");
    p.line("echo $((6*7))x; tty");
    p.wait_text("42x");
    p.wait_text("/dev/pts/0");
}

#[test]
fn stty_size_matches_the_pane_and_follows_resizes() {
    let p = Pane::start("size");
    p.clear();
    p.line("stty size");
    p.wait_text("30 100");
    assert!(p
        .tmux(&["resize-window", "-t", "t", "-x", "120", "-y", "40"])
        .status
        .success());
    p.clear();
    p.line("stty size");
    p.wait_text("40 120");
}

#[test]
fn ctrl_c_interrupts_the_foreground_job() {
    let p = Pane::start("intr");
    // The marker comes from the program that gets ^C, once it runs: a
    // subshell that prints it and then execs would race bash itself,
    // which catches SIGINT until the execve and checks the flag only in
    // some places (a ^C in between is lost natively too, and a slow run
    // makes the window wide).
    p.line("echo JOB-RUN\"\"NING > /tmp/intr-marker; (exec tail -f /tmp/intr-marker)");
    p.wait_for(
        |s| s.lines().any(|l| l == "JOB-RUNNING"),
        "the marker printed by tail",
    );
    p.keys(&["C-c"]);
    p.line("echo rc=$?");
    p.wait_text("rc=130");
    p.line("echo still-here");
    p.wait_text("still-here\n");
}

#[test]
fn ctrl_z_stops_a_job_and_fg_resumes_it() {
    let p = Pane::start("jobs");
    // The job says when it runs again after SIGCONT (within a second:
    // bash runs the trap between two sleeps).
    p.foreground_job("trap 'echo RESU\"\"MED' CONT; while :; do sleep 1; done");
    p.keys(&["C-z"]);
    p.wait_text("Stopped");
    p.clear();
    p.line("jobs -l");
    let jobs = p.wait_text("Stopped");
    assert!(jobs.contains("sleep 1"), "jobs -l shows the job: {jobs}");
    p.clear();
    p.line("fg");
    p.wait_text("RESUMED");
    p.keys(&["C-c"]);
    p.line("echo fg-rc=$?");
    p.wait_text("fg-rc=130");
}

#[test]
fn vi_edits_and_saves_a_file() {
    let p = Pane::start("vi");
    p.clear();
    p.line("vi /root/note.txt");
    // vim is up when it shows the empty buffer's "~" lines.
    p.wait_for(|s| s.lines().any(|l| l == "~"), "vim's screen");
    p.keys(&["i"]);
    p.keys(&["-l", "written in vi"]);
    p.keys(&["Escape"]);
    p.line(":wq");
    p.wait_for(|s| !s.lines().any(|l| l == "~"), "vim to exit");
    p.clear();
    p.line("cat /root/note.txt | tr a-z A-Z");
    p.wait_text("WRITTEN IN VI");
}

#[test]
fn less_and_top_draw_a_full_screen_and_quit() {
    let p = Pane::start("fullscreen");
    p.clear();
    p.line("seq 1000 | less");
    // A full page: lines 1-29 and less's prompt on the last row.
    let s = p.wait_for(|s| s.lines().nth(28) == Some("29"), "a page of less");
    assert_eq!(s.lines().next(), Some("1"), "{s}");
    p.keys(&["Space"]);
    p.wait_for(|s| s.lines().next() == Some("30"), "the next page");
    p.keys(&["q"]);
    p.wait_for(|s| s.contains(PROMPT), "the prompt after less");
    p.clear();
    p.line("top");
    let s = p.wait_for(|s| s.contains("PID USER"), "top's process list");
    assert!(s.starts_with("top - "), "{s}");
    p.keys(&["q"]);
    // top leaves its last screen; the prompt follows on the bottom row.
    p.wait_for(|s| last_line(s).starts_with(PROMPT), "the prompt after top");
}

#[test]
fn python3_repl_evaluates_an_expression() {
    let p = Pane::start("python");
    p.line("python3");
    p.wait_for(|s| last_line(s) == ">>>", "python's prompt");
    p.line("print(6*7+1, 'py')");
    p.wait_text("43 py");
    // ^D only once readline reads again. Typed while the terminal is
    // still canonical (python between its output and its next prompt), it
    // is an end of file that nobody reads: Linux hands it to the raw read
    // after the switch as a NUL byte (so does Wax's line discipline), and
    // python stays (a CI run under load lost the race so).
    p.wait_for(|s| last_line(s) == ">>>", "python's next prompt");
    p.keys(&["C-d"]);
    p.line("echo py-rc=$?");
    p.wait_text("py-rc=0");
}

#[test]
fn cat_reads_until_ctrl_d() {
    let p = Pane::start("cat");
    p.clear();
    // Once "ready" shows, bash has given the terminal back to canonical
    // mode; keys typed earlier would reach the tty while readline has it
    // raw (and a ^D would be data, as on Linux).
    p.line("echo ready; cat > /root/typed.txt");
    p.wait_text("ready\n");
    p.line("first line");
    p.line("second line");
    p.wait_text("second line");
    p.keys(&["C-d"]);
    p.line("wc -l < /root/typed.txt; echo cat-rc=$?");
    p.wait_text("cat-rc=0");
    let s = p.screen();
    assert!(s.lines().any(|l| l.trim() == "2"), "{s}");
}

#[test]
fn exit_status_and_host_terminal_mode_are_restored() {
    let p = Pane::start("exit");
    p.line("exit 5");
    p.wait_text("WAX_DONE");
    assert_eq!(p.file("status").trim(), "WAX_EXIT=5");
    let (before, after) = (p.file("before"), p.file("after"));
    assert!(!before.trim().is_empty());
    assert_eq!(before, after, "the host terminal's settings changed");
}
