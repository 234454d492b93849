//! Whole-program tests: the C programs in tests/programs/ are compiled with
//! `gcc -m32 -static -O2`, run natively, under `wax run` and under Node's
//! V8 (`node web/node/wax.mjs run`, the wasm32 build), and must agree on
//! stdout and exit status (and stderr where it is deterministic). Two
//! run under `wax run` only: `hostile_syscall_arguments` reads wax's log,
//! and `file_io_in_a_temp_dir` works in a host directory.
//!
//! Floating-point programs are in tests/fp_programs.rs, so that their
//! failures (x87 is implemented separately) are reported on their own.

mod common;

use common::{assert_same_everywhere, c_program, signal_name, Compare, Invocation, TempDir};

fn same_output(name: &str) {
    let inv = Invocation::new(c_program(name));
    assert_same_everywhere(name, &inv, Compare::StdoutStderrAndStatus);
}

#[test]
fn integer_arithmetic() {
    same_output("arith");
}

#[test]
fn string_functions() {
    same_output("strings");
}

#[test]
fn malloc_free_realloc() {
    same_output("malloc");
}

#[test]
fn sorting() {
    same_output("sort");
}

#[test]
fn printf_formats_and_streams() {
    same_output("printf");
}

#[test]
fn setjmp_longjmp() {
    same_output("setjmp");
}

#[test]
fn thread_local_variables() {
    same_output("tls");
}

#[test]
fn clocks() {
    same_output("time");
}

#[test]
fn getrandom() {
    same_output("random");
}

#[test]
fn personality_is_kept_inherited_and_acted_on() {
    same_output("persona");
}

#[test]
fn io_priorities() {
    same_output("ioprio");
}

/// SHA-1 and SHA-256 with the SHA extensions (CPUID reports them under
/// Wax), against the same digests computed in C.
#[test]
fn sha_extensions_match_portable_code() {
    same_output("sha_ext");
}

#[test]
fn far_call_return_and_iret() {
    same_output("cpu_far");
}

/// On a host whose CPU has protection keys (Intel since Skylake-SP),
/// Linux makes PROT_EXEC-only pages unreadable through an execute-only
/// key (SEGV_PKUERR); Wax's CPU has no protection keys, so such a page
/// reads as on hosts without them. Where the host has them, the program
/// leaves that page out.
#[test]
fn fault_details_in_siginfo_and_sigcontext() {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let pkeys = cpuinfo
        .lines()
        .find(|l| l.starts_with("flags"))
        .is_some_and(|l| l.split_whitespace().any(|f| f == "ospke"));
    let mut inv = Invocation::new(c_program("cpu_faultinfo"));
    if pkeys {
        inv = inv.arg("no-exec-only");
    }
    assert_same_everywhere("cpu_faultinfo", &inv, Compare::StdoutStderrAndStatus);
}

#[test]
fn trap_flag_single_steps() {
    same_output("cpu_trap");
}

#[test]
fn rdtsc_follows_the_clock_at_the_cpuinfo_rate() {
    let inv = Invocation::new(c_program("cpu_tsc"));
    assert_same_everywhere("cpu_tsc", &inv, Compare::StdoutAndStatus);
}

#[test]
fn hostile_syscall_arguments() {
    let inv = Invocation::new(c_program("badsys"));
    let native = inv.run_native();
    // Linux says nothing about a call it lacks, and neither does wax on the
    // guest's stderr: the note goes to the WAX_LOG file.
    let log = TempDir::new("badsys-log");
    let log_file = log.path().join("wax.log");
    let mut cmd = common::wax_run();
    cmd.env("WAX_LOG", &log_file).arg(&inv.program);
    let wax = common::run_with_timeout(cmd, &[], inv.timeout);
    if let Some(diff) = common::differences(&inv, &native, &wax, Compare::StdoutStderrAndStatus) {
        panic!("badsys differs:\n{diff}");
    }
    let notes = std::fs::read_to_string(&log_file).unwrap_or_default();
    assert!(
        notes.contains("wax: unimplemented system call 9999 (unknown)"),
        "the unknown system call 9999 was not logged: {notes:?}"
    );
}

#[test]
fn file_io_in_a_temp_dir() {
    let native_dir = TempDir::new("fileio-n");
    let wax_dir = TempDir::new("fileio-w");
    let program = c_program("fileio");
    // Two fresh directories, so the runs cannot see each other's files.
    let native = Invocation::new(&program)
        .arg(native_dir.path())
        .run_native();
    let wax = Invocation::new(&program).arg(wax_dir.path());
    let wax_run = wax.run_wax();
    if let Some(report) =
        common::differences(&wax, &native, &wax_run, Compare::StdoutStderrAndStatus)
    {
        panic!("fileio: wax differs from native\n{report}");
    }
}

/// The JIT's on-disk code cache fills where `XDG_CACHE_HOME` says, and
/// `--no-code-cache` leaves it alone (the output is the same either way).
#[test]
fn no_code_cache_leaves_the_cache_alone() {
    let program = c_program("sort");
    let native = Invocation::new(&program).run_native();
    for (flag, expect_files) in [(None, true), (Some("--no-code-cache"), false)] {
        let cache = TempDir::new("codecache");
        let mut cmd = common::wax_run();
        cmd.env_remove("WAX_CODE_CACHE")
            .env("XDG_CACHE_HOME", cache.path())
            .args(["--engine", "jit", "--jit-threshold", "2000"])
            .args(flag)
            .arg(&program);
        let wax = common::run_with_timeout(
            cmd,
            &[],
            common::timeout_or(std::time::Duration::from_secs(120)),
        );
        assert_eq!(wax.stdout, native.stdout, "{flag:?}: {}", wax.stderr_text());
        assert_eq!(wax.status, native.status, "{flag:?}");
        assert_eq!(
            !walk(cache.path()).is_empty(),
            expect_files,
            "{flag:?}: files in the cache directory: {:?}",
            walk(cache.path())
        );
    }
}

/// Warm runs of a Debian python3 (in build/roots/test) with a code cache
/// of their own: the first remembers the pages that ran warm, the next
/// translates them from the profile and notes the translations in the
/// memo, and later ones take their modules from the cache without
/// translating; every run prints what the program computes.
#[test]
fn warm_runs_recall_the_profile_s_modules_from_the_memo() {
    let root = common::repo_root().join("build/roots/test");
    let cache = TempDir::new("memo");
    let mut recalled = Vec::new();
    for _ in 0..4 {
        let mut cmd = common::wax_run();
        cmd.env("WAX_CODE_CACHE", cache.path())
            .env_remove("WAX_JIT_THRESHOLD")
            .args(["--engine", "jit", "--stats", "--root"])
            .arg(&root)
            .args(["/usr/bin/python3", "-c", "print(sum(range(1000)))"]);
        let wax = common::run_with_timeout(
            cmd,
            &[],
            common::timeout_or(std::time::Duration::from_secs(120)),
        );
        assert_eq!(wax.stdout, b"499500\n", "{}", wax.stderr_text());
        assert_eq!(wax.status, common::Status::Exited(0));
        let stat = wax
            .stderr_text()
            .lines()
            .find_map(|l| l.strip_prefix("wax: of which recalled without translating (memo): "))
            .and_then(|n| n.trim().parse::<u64>().ok())
            .expect("--stats prints the recalled pages");
        recalled.push(stat);
    }
    assert_eq!(recalled[0], 0, "{recalled:?}");
    assert!(recalled[2..].iter().any(|&n| n > 0), "{recalled:?}");
}

/// Every file under `dir`.
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn argv_environment_and_auxv() {
    let inv = Invocation::new(c_program("env"))
        .args(["plain", "with space", "", "--help", "-", "ünïcödé"])
        .env(&[
            ("WAXT_A", "1"),
            ("WAXT_SPACES", "a b  c"),
            ("WAXT_EMPTY", ""),
            ("WAXT_EQUALS", "x=y=z"),
            ("WAXT_UNICODE", "grüße"),
        ]);
    assert_same_everywhere("env", &inv, Compare::StdoutStderrAndStatus);
}

#[test]
fn standard_input_from_a_pipe() {
    let input: Vec<u8> = (0..300_000u32)
        .map(|i| {
            if i % 61 == 60 {
                b'\n'
            } else {
                b'a' + (i * 7 % 26) as u8
            }
        })
        .collect();
    let inv = Invocation::new(c_program("stdin")).stdin(input);
    assert_same_everywhere("stdin (300 KB)", &inv, Compare::StdoutStderrAndStatus);
    let empty = Invocation::new(c_program("stdin"));
    let (native, _) =
        assert_same_everywhere("stdin (empty)", &empty, Compare::StdoutStderrAndStatus);
    assert_eq!(
        native.status.shell_code(),
        Some(3),
        "stdin.c reports no reads with 3"
    );
}

#[test]
fn exit_codes() {
    for code in [0, 1, 42, 255] {
        for how in ["exit", "return", "_exit"] {
            let inv = Invocation::new(c_program("exit")).args([code.to_string(), how.to_string()]);
            let (native, _) = assert_same_everywhere(
                &format!("exit {code} via {how}"),
                &inv,
                Compare::StdoutStderrAndStatus,
            );
            assert_eq!(
                native.status.shell_code(),
                Some(code),
                "native exit.c is broken"
            );
        }
    }
}

/// Runs `crash MODE`, which must die of `signal`: natively, and under wax
/// with exit status 128+signal and a message naming the signal.
fn dies_of(mode: &str, signal: i32) {
    let inv = Invocation::new(c_program("crash")).arg(mode);
    let (native, wax) =
        assert_same_everywhere(&format!("crash {mode}"), &inv, Compare::StdoutAndStatus);
    assert_eq!(
        native.status.shell_code(),
        Some(128 + signal),
        "natively, crash {mode} ended with {} instead of {}",
        native.status,
        signal_name(signal)
    );
    let name = signal_name(signal);
    let stderr = wax.stderr_text();
    assert!(
        stderr.contains(name),
        "crash {mode}: wax exited {} but its stderr does not name {name}:\n{stderr}",
        wax.status
    );
}

const SIGILL: i32 = 4;
const SIGTRAP: i32 = 5;
const SIGABRT: i32 = 6;
const SIGFPE: i32 = 8;
const SIGKILL: i32 = 9;
const SIGSEGV: i32 = 11;
const SIGTERM: i32 = 15;

#[test]
fn abort_is_sigabrt() {
    dies_of("abort", SIGABRT);
}

#[test]
fn null_read_is_sigsegv() {
    dies_of("null", SIGSEGV);
}

#[test]
fn null_write_is_sigsegv() {
    dies_of("null-write", SIGSEGV);
}

#[test]
fn write_above_user_space_is_sigsegv() {
    dies_of("kernel-write", SIGSEGV);
}

#[test]
fn write_to_read_only_data_is_sigsegv() {
    dies_of("rodata-write", SIGSEGV);
}

#[test]
fn call_through_null_is_sigsegv() {
    dies_of("call-null", SIGSEGV);
}

#[test]
fn stack_overflow_is_sigsegv() {
    dies_of("stack-overflow", SIGSEGV);
}

#[test]
fn privileged_instruction_is_sigsegv() {
    dies_of("hlt", SIGSEGV);
}

#[test]
fn division_by_zero_is_sigfpe() {
    dies_of("div0", SIGFPE);
}

#[test]
fn division_overflow_is_sigfpe() {
    dies_of("divmin", SIGFPE);
}

#[test]
fn builtin_trap_is_sigill() {
    dies_of("ud2", SIGILL);
}

#[test]
fn int3_is_sigtrap() {
    dies_of("int3", SIGTRAP);
}

#[test]
fn raise_sigterm() {
    dies_of("raise-term", SIGTERM);
}

#[test]
fn kill_self_with_sigkill() {
    dies_of("kill-self-kill", SIGKILL);
}
