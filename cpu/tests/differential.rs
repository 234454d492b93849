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
//! Bits the architecture leaves undefined (`wax_cpu::undefined`), and what
//! later instructions compute from them, differ between CPUs: they are
//! found by stepping each case (`differential/taint.rs`) and not compared,
//! unless `WAX_TEST_STRICT` is set. The run prints how many cases differed
//! only there. So does a fault that either of the two accesses of one
//! MOVS/CMPS may raise first.
//!
//! Layout (see `differential/case.rs`): code ends at 0x10001000; data in
//! 0x8000..0xa000 (below 64 KiB so 16-bit addressing reaches it), a
//! read-only page at 0xa000, the stack page at 0x30000000; everything
//! around them is unmapped, and cases deliberately touch those edges.
//!
//! Options (environment; see `harness/mod.rs`):
//! - `WAX_TEST_SEED`: the PRNG seed (decimal or 0x-hex); default fixed.
//! - `WAX_TEST_CASES`: number of cases; default 120000.
//! - `WAX_TEST_STRICT=1`: compare undefined bits too.
//! - `WAX_TEST_FORMS`: only cases whose label (e.g. `Shl_rm32_CL`,
//!   `Movsb_m8_m8 (rep a16)`) contains this text, to focus on one group.
//!
//! At most `MAX_SHOWN` mismatches are printed in full, then a summary per
//! mnemonic; the test fails if any case mismatches.
//!
//! `masking_hides_only_undefined_bits` needs no host runner: it plays
//! "another CPU" by flipping undefined bits of Wax's own outcomes (which
//! must pass) and defined ones (which must fail).
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
#[path = "harness/mod.rs"]
mod harness;
#[path = "differential/host.rs"]
mod host;
#[path = "differential/report.rs"]
mod report;
#[path = "differential/seq.rs"]
mod seq;
#[path = "differential/strings.rs"]
mod strings;
#[path = "differential/table.rs"]
mod table;
#[path = "differential/taint.rs"]
mod taint;
#[path = "differential/wax.rs"]
mod wax;

use case::{Case, Outcome};
use forms::Row;
use harness::{Options, Rng, Tally};

const DEFAULT_SEED: u64 = 0x5741_5844_4946_4631;
const DEFAULT_CASES: usize = 120_000;
const MAX_SHOWN: usize = 20;

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

/// The cases of a run, as the options select them.
fn cases(opts: &Options) -> Vec<Case> {
    let rows = table::rows();
    let chainable: Vec<&Row> = rows.iter().filter(|r| r.chainable()).collect();
    let mut rng = Rng::new(opts.seed);
    (0..opts.cases * 1000)
        .map(|_| generate(&mut rng, &rows, &chainable))
        .filter(|c| opts.selects(&c.label()))
        .take(opts.cases)
        .collect()
}

/// Counts of undefined parts over a run, so a reader sees what masking
/// covered.
#[derive(Default)]
struct MaskStats {
    with_undefined: usize,
    all_undefined: usize,
}

impl MaskStats {
    fn add(&mut self, m: &taint::Mask) {
        self.with_undefined += usize::from(!m.is_empty());
        self.all_undefined += usize::from(m.all);
    }
}

#[test]
fn interpreter_matches_host_cpu() {
    let opts = Options::from_env(DEFAULT_SEED, DEFAULT_CASES);
    println!("{}", opts.describe("differential"));
    let cases = cases(&opts);
    let runner = host::build_runner();
    let host = host::run(&runner, &cases);
    let _ = std::fs::remove_file(&runner);

    let mut wax = wax::Wax::new();
    let mut summary = report::Summary::default();
    let (mut tally, mut stats) = (Tally::default(), MaskStats::default());
    let mut in_runner = 0;
    let quiet = wax::QuietPanics::install();
    for (case, host) in cases.iter().zip(&host) {
        let got = wax.run_guarded(case);
        if host != &got && report::touches_runner(host, &got) {
            in_runner += 1;
            continue;
        }
        let mask = wax.trace(case);
        stats.add(&mask);
        let diffs = report::differences(case, host, &got, &mask);
        let defined = diffs.iter().any(|d| d.defined);
        let bits = diffs.iter().map(|d| d.undefined_bits).sum();
        tally.add(!diffs.is_empty(), defined, bits);
        let failed = defined || (opts.strict && !diffs.is_empty());
        summary.add(case, failed);
        if failed && tally.failed(&opts) <= MAX_SHOWN {
            let n = tally.failed(&opts);
            println!("{}", report::describe(n, case, (host, &got), &diffs, &mask));
        }
    }
    drop(quiet);
    let failed = tally.failed(&opts);
    if failed > 0 {
        println!(
            "mismatches per mnemonic (failed/cases, forms):\n{}",
            summary.failing()
        );
    }
    println!(
        "differential: {} over {} mnemonics, seed {:#x}: {failed} mismatches\n  \
         {} cases have undefined parts ({} wholly undefined after a branch on one); \
         {in_runner} not compared (they reached the host runner's own address ranges)",
        tally.summary(),
        summary.mnemonics(),
        opts.seed,
        stats.with_undefined,
        stats.all_undefined,
    );
    assert_eq!(
        failed,
        0,
        "{failed} of {} cases differ from the host CPU (seed {:#x})",
        cases.len(),
        opts.seed
    );
}

/// The outcome another CPU could give: `o` with the undefined bits of
/// `mask` replaced by random ones.
fn other_cpu(rng: &mut Rng, o: &Outcome, mask: &taint::Mask, case: &Case) -> Outcome {
    let mut h = o.clone();
    for (r, m) in h.regs.iter_mut().zip(mask.regs) {
        *r ^= rng.u32() & m;
    }
    h.eflags ^= rng.u32() & mask.flags & report::COMPARED_FLAGS;
    let mut bytes: std::collections::BTreeMap<u32, u8> =
        o.diff.iter().map(|d| (d >> 8, *d as u8)).collect();
    for (&off, &m) in &mask.mem {
        let now = bytes
            .get(&off)
            .copied()
            .unwrap_or_else(|| report::initial_byte(case, off));
        bytes.insert(off, now ^ (rng.u32() as u8 & m));
    }
    h.diff = bytes
        .into_iter()
        .filter(|&(off, v)| v != report::initial_byte(case, off))
        .map(|(off, v)| off << 8 | u32::from(v))
        .collect();
    h
}

/// A defined bit of the outcome that `mask` does not cover, flipped.
fn flip_defined(rng: &mut Rng, case: &Case, o: &Outcome, mask: &taint::Mask) -> Option<Outcome> {
    let mut h = o.clone();
    let regs = !report::registers_unspecified(case, o);
    for _ in 0..16 {
        let i = rng.below(9) as usize;
        if i == 8 || !regs {
            let free = report::COMPARED_FLAGS & !mask.flags;
            if free != 0 {
                h.eflags ^= 1 << free.trailing_zeros();
                return Some(h);
            }
        } else if mask.regs[i] != u32::MAX {
            let free = !mask.regs[i];
            let bit = rng.below(32);
            let b = if free >> bit & 1 != 0 {
                bit
            } else {
                free.trailing_zeros()
            };
            h.regs[i] ^= 1 << b;
            return Some(h);
        }
    }
    None
}

#[test]
fn masking_hides_only_undefined_bits() {
    let opts = Options::from_env(DEFAULT_SEED, 20_000);
    let cases = cases(&opts);
    let mut wax = wax::Wax::new();
    let mut rng = Rng::new(opts.seed ^ 0x666c_6970);
    let (mut masked, mut caught) = (0, 0);
    for case in &cases {
        let got = wax.run_guarded(case);
        let mask = wax.trace(case);
        let host = other_cpu(&mut rng, &got, &mask, case);
        let diffs = report::differences(case, &host, &got, &mask);
        assert!(
            diffs.iter().all(|d| !d.defined),
            "flipping undefined bits made a defined difference:\n{}",
            report::describe(0, case, (&host, &got), &diffs, &mask)
        );
        masked += usize::from(!diffs.is_empty());
        if mask.all {
            continue;
        }
        if let Some(bad) = flip_defined(&mut rng, case, &got, &mask) {
            let diffs = report::differences(case, &bad, &got, &mask);
            assert!(
                diffs.iter().any(|d| d.defined),
                "a flipped defined bit went unnoticed:\n{}",
                report::describe(0, case, (&bad, &got), &diffs, &mask)
            );
            caught += 1;
        }
    }
    println!(
        "masking: {} cases; flipped undefined bits changed {masked} outcomes, all masked; \
         {caught} flipped defined bits all caught",
        cases.len()
    );
    assert!(masked > 0, "no case had undefined bits to flip");
}

/// The case from the report that started this: BSR's undefined CF fed to
/// RCL. DX's low word and the flags RCL writes are undefined; EBX (the
/// index) and the rest of EDX are not.
#[test]
fn bsr_then_rcl_masks_what_consumed_the_undefined_carry() {
    let case = Case {
        form: forms::code("Rcl_rm16_1"),
        variant: "chain",
        main: 3,
        code: vec![0x0f, 0xbd, 0xd8, 0x66, 0xd1, 0xd2],
        regs: [0x0001_0300, 0, 0x1234_5678, 0, case::STACK + 0x800, 0, 0, 0],
        eflags: 0x202,
        data: case::Window::default(),
        stack: case::Window::default(),
    };
    let mut wax = wax::Wax::new();
    let mask = wax.trace(&case);
    assert!(!mask.all);
    assert_eq!(mask.regs, [0, 0, 0xffff, 0, 0, 0, 0, 0]);
    let status = wax_cpu::state::flag::STATUS;
    let rcl_writes = wax_cpu::state::flag::CF | wax_cpu::state::flag::OF;
    // RCL writes CF and OF (from the undefined CF); BSR's other undefined
    // flags (PF, SF, AF) stay undefined; ZF is defined.
    assert_eq!(mask.flags & status, status & !wax_cpu::state::flag::ZF);
    assert_eq!(mask.flags & rcl_writes, rcl_writes);
}
