//! Floating-point whole programs built four ways and compared with native.
//!
//! `gcc -m32 -O2` does floating point on the x87, `-msse2 -mfpmath=sse` on
//! SSE (long double stays on the x87 either way); each is linked static
//! (glibc inside the binary) and dynamic (the host's i386 `ld-linux.so.2`,
//! libc and libm, seen through the default guest root `/`). Every variant
//! must give the same stdout and exit status under `wax run` as natively,
//! and the same stderr where the program writes none.
//!
//! The programs (tests/programs/fp_*.c) each cover one area: libm over many
//! arguments, printf/strtod round trips, rounding modes, exception flags,
//! unmasked exceptions (SIGFPE and its siginfo, the FPU state in the
//! frame, sigreturn), float/integer conversions, long double, denormals and
//! NaN payloads, MXCSR and the x87 control word, FPU state in signal frames,
//! and across fork, pthread_create and execve.

mod common;

use common::{compile, differences, repo_root, Compare, Invocation};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;

/// One way of building a program.
struct Variant {
    name: &'static str,
    flags: &'static [&'static str],
}

const VARIANTS: [Variant; 4] = [
    Variant {
        name: "x87-static",
        flags: &["-m32", "-O2", "-static"],
    },
    Variant {
        name: "sse-static",
        flags: &["-m32", "-O2", "-msse2", "-mfpmath=sse", "-static"],
    },
    Variant {
        name: "x87-dynamic",
        flags: &["-m32", "-O2"],
    },
    Variant {
        name: "sse-dynamic",
        flags: &["-m32", "-O2", "-msse2", "-mfpmath=sse"],
    },
];

/// Compiles `tests/programs/NAME.c` as `variant` (once per test process).
fn build(name: &str, variant: &Variant) -> PathBuf {
    static BUILT: Mutex<Option<HashMap<String, PathBuf>>> = Mutex::new(None);
    let out = format!("{name}-{}", variant.name);
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    let built = built.get_or_insert_with(HashMap::new);
    if let Some(path) = built.get(&out) {
        return path.clone();
    }
    let src = repo_root().join("tests/programs").join(format!("{name}.c"));
    let path = compile(&src, &out, variant.flags);
    built.insert(out, path.clone());
    path
}

/// Runs `name ARGS` in every variant natively, under wax and under Node's
/// V8 (the wasm32 build and its JIT); panics with the report of every run
/// that differs. Stdout and status must be equal; so must stderr, once
/// wax's own diagnostics are taken out.
fn same_in_all_variants(name: &str, args: &[&str]) {
    let mut reports = Vec::new();
    for variant in &VARIANTS {
        let inv = Invocation::new(build(name, variant)).args(args);
        let native = inv.run_native();
        let runs = [("wax", Some(inv.run_wax())), ("node", inv.run_node())];
        for (engine, run) in runs.iter().filter_map(|(e, r)| Some((e, r.as_ref()?))) {
            let mut report = differences(&inv, &native, run, Compare::StdoutAndStatus);
            let guest_stderr = without_wax_diagnostics(&run.stderr_text());
            if report.is_none() && guest_stderr != native.stderr_text() {
                report = Some(format!(
                    "stderr: native {:?}, {engine} (wax's diagnostics removed) {guest_stderr:?}",
                    native.stderr_text()
                ));
            }
            if let Some(report) = report {
                reports.push(format!(
                    "--- {name} {args:?} ({}) under {engine}:\n{report}",
                    variant.name
                ));
            }
        }
    }
    assert!(
        reports.is_empty(),
        "{} runs (4 variants, under wax and under Node) differ from native\n{}",
        reports.len(),
        reports.join("\n")
    );
}

/// The guest's stderr: wax's stderr without the fatal-signal note wax
/// writes where a shell would print its own.
fn without_wax_diagnostics(stderr: &str) -> String {
    let ours = |line: &str| line.starts_with("wax: ") && line.contains(": killed by SIG");
    stderr
        .split_inclusive('\n')
        .filter(|line| !ours(line))
        .collect()
}

#[test]
fn libm_over_many_arguments() {
    same_in_all_variants("fp_libm_sweep", &[]);
}

#[test]
fn printf_strtod_round_trips() {
    same_in_all_variants("fp_strconv", &[]);
}

#[test]
fn rounding_modes() {
    same_in_all_variants("fp_round", &[]);
}

#[test]
fn exception_flags() {
    same_in_all_variants("fp_except", &[]);
}

#[test]
fn unmasked_exceptions_raise_sigfpe_with_its_code() {
    same_in_all_variants("fp_trap", &[]);
}

#[test]
fn sigfpe_handler_masks_the_exception_in_the_frame() {
    same_in_all_variants("fp_trap", &["fixup"]);
}

#[test]
fn unhandled_sigfpe_kills_with_status_136() {
    same_in_all_variants("fp_trap", &["die"]);
}

#[test]
fn float_integer_conversions() {
    same_in_all_variants("fp_convert", &[]);
}

#[test]
fn long_double_denormals_and_nan_payloads() {
    same_in_all_variants("fp_ldouble", &[]);
}

#[test]
fn mxcsr_ftz_daz_and_x87_precision_control() {
    same_in_all_variants("fp_mxcsr", &[]);
}

#[test]
fn fpu_state_in_signal_frames() {
    same_in_all_variants("fp_sigframe", &[]);
}

#[test]
fn fpu_state_across_fork_threads_and_exec() {
    same_in_all_variants("fp_inherit", &[]);
}
