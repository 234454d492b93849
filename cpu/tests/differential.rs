//! Instruction differential test: the interpreter against the host CPU.
//!
//! Generated cases (one instruction form with edge and random operands, or
//! a short sequence: branches, LOOP, CALL/RET, chains of register
//! instructions) run twice: natively, in a tiny static i386 program
//! (`differential/runner.c`, built here with `gcc -m32 -static`) that maps
//! the same pages at the same addresses, and under Wax's interpreter. The
//! two are compared on every general register, EIP, the status flags and
//! DF, the memory the case changed, and the signal (number, si_code,
//! si_addr) when the case faults.
//!
//! Layout (see `differential/case.rs`): code ends at 0x10001000; data in
//! 0x8000..0xa000 (below 64 KiB so 16-bit addressing reaches it), a
//! read-only page at 0xa000, the stack page at 0x30000000; everything
//! around them is unmapped, and cases deliberately touch those edges.
//!
//! Options (environment):
//! - `WAX_DIFF_SEED`: the PRNG seed (decimal or 0x-hex); default fixed.
//! - `WAX_DIFF_CASES`: number of cases; default 120000.
//! - `WAX_DIFF_FORMS`: only cases whose label (e.g. `Shl_rm32_CL`,
//!   `Movsb_m8_m8 (rep a16)`) contains this text, to focus on one group.
//!
//! At most `MAX_SHOWN` mismatches are printed in full, then a summary per
//! mnemonic; the test fails if any case mismatches.
//!
//! The test needs an x86 host that runs i386 binaries and gcc with 32-bit
//! multilib support.
#![cfg(any(target_arch = "x86_64", target_arch = "x86"))]

#[path = "differential/case.rs"]
mod case;
#[path = "differential/forms.rs"]
mod forms;
#[path = "differential/gen.rs"]
mod gen;
#[path = "differential/host.rs"]
mod host;
#[path = "differential/report.rs"]
mod report;
#[path = "differential/rng.rs"]
mod rng;
#[path = "differential/seq.rs"]
mod seq;
#[path = "differential/strings.rs"]
mod strings;
#[path = "differential/table.rs"]
mod table;
#[path = "differential/wax.rs"]
mod wax;

use case::Case;
use forms::Row;
use rng::Rng;

const DEFAULT_SEED: u64 = 0x5741_5844_4946_4631;
const DEFAULT_CASES: usize = 120_000;
const MAX_SHOWN: usize = 20;

fn env_number(name: &str) -> Option<u64> {
    let v = std::env::var(name).ok()?;
    let v = v.trim();
    let parsed = match v.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => v.parse(),
    };
    Some(parsed.unwrap_or_else(|_| panic!("{name}={v} is not a number")))
}

/// Four in five cases test one row (uniformly over rows), the rest are
/// sequences.
fn generate(rng: &mut Rng, rows: &[Row], chainable: &[&Row]) -> Case {
    if rng.below(5) == 0 {
        seq::build(rng, chainable)
    } else {
        let row = &rows[rng.below(rows.len() as u32) as usize];
        forms::build(row, rng)
    }
}

#[test]
fn interpreter_matches_host_cpu() {
    let seed = env_number("WAX_DIFF_SEED").unwrap_or(DEFAULT_SEED);
    let count = env_number("WAX_DIFF_CASES").map_or(DEFAULT_CASES, |n| n as usize);
    let rows = table::rows();
    let chainable: Vec<&Row> = rows.iter().filter(|r| r.chainable()).collect();
    let mut rng = Rng::new(seed);
    let filter = std::env::var("WAX_DIFF_FORMS").unwrap_or_default();
    let cases: Vec<Case> = (0..count * 1000)
        .map(|_| generate(&mut rng, &rows, &chainable))
        .filter(|c| c.label().contains(&filter))
        .take(count)
        .collect();
    let count = cases.len();

    let runner = host::build_runner();
    let host = host::run(&runner, &cases);
    let _ = std::fs::remove_file(&runner);

    let mut wax = wax::Wax::new();
    let mut summary = report::Summary::default();
    let mut failed = 0;
    let quiet = wax::QuietPanics::install();
    for (case, host) in cases.iter().zip(&host) {
        let got = wax.run_guarded(case);
        let diffs = report::differences(case, host, &got);
        summary.add(case, !diffs.is_empty());
        if diffs.is_empty() {
            continue;
        }
        failed += 1;
        if failed <= MAX_SHOWN {
            println!("{}", report::describe(failed, case, host, &got, &diffs));
        }
    }
    drop(quiet);
    if failed > 0 {
        println!(
            "mismatches per mnemonic (failed/cases, forms):\n{}",
            summary.failing()
        );
    }
    println!(
        "differential: {count} cases over {} rows and {} mnemonics, seed {seed:#x}: {failed} mismatches",
        rows.len(),
        summary.mnemonics()
    );
    assert_eq!(
        failed, 0,
        "{failed} of {count} cases differ from the host CPU (seed {seed:#x})"
    );
}
