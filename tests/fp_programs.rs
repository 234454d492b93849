//! Floating-point whole-program tests, kept apart from tests/programs.rs:
//! `gcc -m32` does floating point on the x87, which is implemented
//! separately from the integer core, so these failures are reported on
//! their own. They assert exactly what the integer tests assert: identical
//! stdout and exit status, natively, under `wax run` and under Node's V8
//! (`node web/node/wax.mjs run`, the wasm32 build).

mod common;

use common::{c_program, differences, Compare, Invocation, Status};

fn same_fp_output(name: &str) {
    let inv = Invocation::new(c_program(name));
    let native = inv.run_native();
    let wax = inv.run_wax();
    // The same under Node's V8 (the wasm32 build and its JIT).
    if let Some(node) = inv.run_node() {
        if let Some(report) = differences(&inv, &native, &node, Compare::StdoutStderrAndStatus) {
            panic!(
                "{name}: under Node (node web/node/wax.mjs run) it differs from native\n{report}"
            );
        }
    }
    let Some(report) = differences(&inv, &native, &wax, Compare::StdoutStderrAndStatus) else {
        return;
    };
    if wax.status == Status::Exited(132) && wax.stderr_text().contains("SIGILL") {
        panic!("{name}: wax died of SIGILL, most likely on an x87 instruction it does not implement yet\n{report}");
    }
    panic!("{name}: wax differs from native\n{report}");
}

#[test]
fn x87_arithmetic_conversions_and_printf() {
    same_fp_output("fp_basic");
}

#[test]
fn libm_functions() {
    same_fp_output("fp_libm");
}
