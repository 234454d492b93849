//! The JIT against the interpreter, instruction for instruction: random
//! programs run in slices under the executor (translating pages once they
//! are hot) and under a one-instruction-at-a-time oracle built from the
//! interpreter's handlers; after every slice the exits, instruction counts,
//! registers, flags and memory must be identical.

mod common;

use common::progs::program;
use common::*;
use wax_cpu::Exit;

fn run_seeds(seeds: std::ops::Range<u64>, body: u32, iters: u32, slices: &[u64]) -> wax_jit::Stats {
    let mut total = wax_jit::Stats::default();
    for seed in seeds {
        let st = program(seed, body, iters);
        let (_, jit) = lockstep(&st, slices, 100_000, 2, &format!("seed {seed}"));
        let s = jit.stats;
        total.insns_translated += s.insns_translated;
        total.insns_interpreted += s.insns_interpreted;
        total.modules_compiled += s.modules_compiled;
        total.engine_errors += s.engine_errors;
    }
    total
}

#[test]
fn random_loops_match_the_interpreter() {
    let s = run_seeds(0..150, 24, 25, &[10_000]);
    eprintln!("{s:?}");
    assert_eq!(s.engine_errors, 0);
    // The point of the test: most of the work ran as wasm.
    assert!(
        s.insns_translated > 4 * s.insns_interpreted,
        "too little translated: {s:?}"
    );
}

#[test]
fn straight_line_code_matches_the_interpreter() {
    let s = run_seeds(1000..1150, 40, 3, &[10_000]);
    assert_eq!(s.engine_errors, 0);
    assert!(s.insns_translated > 0, "{s:?}");
}

#[test]
fn odd_budgets_stop_at_the_same_instruction() {
    // Slices that end mid-block, everywhere: exact counts and states.
    let s = run_seeds(2000..2060, 24, 10, &[1, 2, 3, 5, 7, 11, 13, 64, 100, 129]);
    assert_eq!(s.engine_errors, 0);
    assert!(s.insns_translated > 0, "{s:?}");
}

#[test]
fn a_fault_at_a_page_edge_is_precise() {
    use common::asm::*;
    // Sums words walking up to the end of the RW data; the last load
    // crosses into the unmapped page.
    let mut a = Asm::default();
    let top = a.pos();
    a.bytes(&[0x03, 0x06]); // add eax, [esi]
    a.bytes(&[0x83, 0xc6, 0x03]); // add esi, 3
    a.bytes(&[0x41]); // inc ecx
    a.rel32(&[0xe9], top);
    for start in [
        DATA + DATA_LEN - 0x300,
        DATA + DATA_LEN - 0x301,
        DATA + DATA_LEN - 0x302,
    ] {
        let mut st = program(7, 0, 1);
        st.code = a.code.clone();
        st.code_at = CODE + 0xff0;
        st.regs[ESI as usize] = start;
        let mut j = JitRig::new(&st, 2);
        let mut r = RefRig::new(&st);
        let rj = j.run(1_000_000);
        let rr = r.run(1_000_000);
        assert_eq!(rj, rr);
        assert!(matches!(rj.exit, Exit::Exception(_)), "{rj:?}");
        assert_eq!(j.snap(), r.snap());
        assert!(j.jit.stats.insns_translated > 0);
    }
}
