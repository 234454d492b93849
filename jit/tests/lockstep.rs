//! The JIT against the interpreter, instruction for instruction: random
//! programs run in slices under the executor (translating pages once they
//! are hot) and under a one-instruction-at-a-time oracle built from the
//! interpreter's handlers; after every slice the exits, instruction counts,
//! registers, flags and memory must be identical.

mod common;

use common::progs::{program, sse_program, x87_program};
use common::*;
use wax_cpu::Exit;
use wax_jit::engine::wasmtime::Tuning;
use wax_jit::{Config, Jit};

/// Totals over many seeds: the executor's statistics and how the
/// programs ended.
#[derive(Debug, Default)]
struct Totals {
    translated: u64,
    interpreted: u64,
    modules: u64,
    evictions: u64,
    engine_errors: u64,
    /// Jumps from module to module through the link table.
    links: u64,
    /// Of which found the exiting module itself (and stayed in it).
    links_within: u64,
    /// Modules of the first tier, and pages compiled again by the
    /// optimising tier after running there.
    first_tier: u64,
    tier_ups: u64,
    syscalls: u32,
    faults: u32,
}

fn run_seeds(seeds: std::ops::Range<u64>, body: u32, iters: u32, slices: &[u64]) -> Totals {
    run_programs(seeds, body, iters, slices, program)
}

fn run_programs(
    seeds: std::ops::Range<u64>,
    body: u32,
    iters: u32,
    slices: &[u64],
    program: fn(u64, u32, u32) -> common::Setup,
) -> Totals {
    let config = Config {
        threshold: 2,
        max_stepped_percent: 100,
        ..Config::default()
    };
    run_tuned(
        seeds,
        body,
        iters,
        slices,
        Tuning::default(),
        config,
        program,
    )
}

/// A generator of programs: (seed, body, iterations).
type Gen = fn(u64, u32, u32) -> Setup;

fn run_seeds_tuned(
    seeds: std::ops::Range<u64>,
    body: u32,
    iters: u32,
    slices: &[u64],
    tuning: Tuning,
    config: Config,
) -> Totals {
    run_generated(program, seeds, body, iters, slices, tuning, config)
}

fn run_tuned(
    seeds: std::ops::Range<u64>,
    body: u32,
    iters: u32,
    slices: &[u64],
    tuning: Tuning,
    config: Config,
    program: Gen,
) -> Totals {
    run_generated(program, seeds, body, iters, slices, tuning, config)
}

fn run_generated(
    gen: Gen,
    seeds: std::ops::Range<u64>,
    body: u32,
    iters: u32,
    slices: &[u64],
    tuning: Tuning,
    config: Config,
) -> Totals {
    let mut t = Totals::default();
    for seed in seeds {
        let st = gen(seed, body, iters);
        let what = format!("seed {seed}");
        let (last, jit) = lockstep_tuned(&st, slices, 100_000, config, &what, tuning);
        let s = jit.stats;
        t.translated += s.insns_translated;
        t.interpreted += s.insns_interpreted;
        t.modules += s.modules_compiled;
        t.evictions += s.evictions;
        t.links += s.links_followed;
        t.links_within += s.links_within;
        t.engine_errors += s.engine_errors;
        t.first_tier += s.first_tier_modules;
        t.tier_ups += s.tier_ups;
        match last.exit {
            Exit::Syscall => t.syscalls += 1,
            Exit::Exception(_) => t.faults += 1,
            // The generated programs hold no RDTSC and never set TF.
            Exit::BudgetSpent | Exit::Rdtsc | Exit::SingleStep => {}
        }
    }
    eprintln!("{t:?}");
    assert_eq!(t.engine_errors, 0);
    // Both endings must be well represented: programs that run their loop
    // to the end, and faults (at page edges, on read-only pages).
    assert!(t.syscalls > 0 && t.faults > 0, "{t:?}");
    t
}

/// Seeds for a longer run: `WAX_JIT_SEEDS=5000 cargo test ...`.
fn seeds(base: u64, default: u64) -> std::ops::Range<u64> {
    let n = std::env::var("WAX_JIT_SEEDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default);
    base..base + n
}

#[test]
fn random_loops_match_the_interpreter() {
    let t = run_seeds(seeds(0, 150), 24, 25, &[10_000]);
    // The point of the test: most of the work ran as wasm.
    assert!(
        t.translated > 4 * t.interpreted,
        "too little translated: {t:?}"
    );
    // Programs that straddle a page boundary go from module to module
    // without the executor.
    assert!(t.links > 0, "{t:?}");
}

/// An indirect jump to a block of its own page: once the executor has
/// entered the module there (writing the link), the exit finds the
/// exiting module itself in the link table and goes on in it without a
/// call (`links_within`), matching the interpreter all along.
#[test]
fn an_indirect_jump_within_the_page_stays_in_the_module() {
    use common::asm::*;
    let mut a = Asm::default();
    let top = a.pos();
    let mov = a.pos();
    a.bytes(&[0xb8]).imm(32, 0); // mov eax, target (patched below)
    a.bytes(&[0xff, 0xe0]); // jmp eax
    a.bytes(&[0x0f, 0x0b]); // ud2: never reached
    let target = a.pos();
    a.bytes(&[0x83, 0xc3, 0x05]); // add ebx, 5
    a.bytes(&[0xff, 0x4e, 0x7c]); // dec dword [esi+0x7c]
    a.rel32(&[0x0f, 0x85], top); // jnz top
    a.bytes(&[0xcd, 0x80]); // int 0x80
    let mut st = program(15, 0, 1);
    st.code_at = CODE + 0x100;
    a.code[mov + 1..mov + 5].copy_from_slice(&(st.code_at + target as u32).to_le_bytes());
    st.data[0x7c..0x80].copy_from_slice(&500u32.to_le_bytes());
    st.code = a.code;
    let (last, jit) = lockstep(&st, &[10_000, 1, 7], 100_000, 2, "indirect jump in page");
    assert_eq!(last.exit, Exit::Syscall);
    assert!(
        jit.stats.links_within > 0,
        "no link stayed in its module: {:?}",
        jit.stats
    );
}

/// Blocks chained without the dispatcher: an inner loop that jumps back
/// to its own start (a `SelfLoop`), blocks that fall through into the
/// next one (after a conditional branch not taken, and into a block that
/// is also a branch target), under slices of a few instructions, so the
/// budget runs out at every block boundary, inside the self-loop too, and
/// the executor resumes at the block the module reports.
#[test]
fn chained_blocks_match_the_interpreter() {
    use common::asm::*;
    let mut a = Asm::default();
    let top = a.pos();
    a.bytes(&[0xb9]).imm(32, 5); // mov ecx, 5
    let inner = a.pos();
    a.bytes(&[0x01, 0xcb]); // add ebx, ecx
    a.bytes(&[0x01, 0x5e, 0x40]); // add [esi+0x40], ebx
    a.bytes(&[0x49]); // dec ecx
    a.rel32(&[0x0f, 0x85], inner); // jnz inner
    a.bytes(&[0xf6, 0xc3, 0x01]); // test bl, 1
    let skip = a.jcc_fwd(0x4); // jz skip
    a.bytes(&[0x83, 0xc2, 0x03]); // add edx, 3
    a.fix(skip);
    a.bytes(&[0x8d, 0x7a, 0x07]); // skip: lea edi, [edx+7]
    a.bytes(&[0xff, 0x4e, 0x7c]); // dec dword [esi+0x7c]
    a.rel32(&[0x0f, 0x85], top); // jnz top
    a.bytes(&[0xcd, 0x80]); // int 0x80
    let mut st = program(21, 0, 1);
    st.code_at = CODE + 0x100;
    st.data[0x7c..0x80].copy_from_slice(&3000u32.to_le_bytes());
    st.code = a.code;
    let (last, jit) = lockstep(&st, &[10_000, 1, 2, 3, 5, 7], 200_000, 2, "chained blocks");
    assert_eq!(last.exit, Exit::Syscall);
    let s = &jit.stats;
    assert!(s.insns_translated > 4 * s.insns_interpreted, "{s:?}");
}

/// A loop whose accesses through one register (EBX, and ESP by pushes)
/// reuse the first access's page lookup (`Options::reuse_pages`), also
/// across ADD/SUB of a constant and LEA of the register itself, with
/// the pointers `at` bytes into the first data page. In the middle of the
/// page every access after the first takes the reused lookup; at its end
/// the later ones fall in the next page, leave for the interpreter each
/// time, and the page is translated again without the reuse.
fn reuse_loop(at: u32, what: &str) -> Jit<wax_jit::engine::wasmtime::Wasmtime> {
    use common::asm::*;
    let mut a = Asm::default();
    let top = a.pos();
    a.bytes(&[0x8b, 0x03]); // mov eax, [ebx]
    a.bytes(&[0x03, 0x43, 0x08]); // add eax, [ebx+8]
    a.bytes(&[0x89, 0x43, 0x04]); // mov [ebx+4], eax
    a.bytes(&[0x01, 0x43, 0xfc]); // add [ebx-4], eax
    a.bytes(&[0x50]); // push eax
    a.bytes(&[0x52]); // push edx
    a.bytes(&[0x8b, 0x54, 0x24, 0x04]); // mov edx, [esp+4]
    a.bytes(&[0x5a]); // pop edx
    a.bytes(&[0x58]); // pop eax
    a.bytes(&[0x83, 0xc3, 0x04]); // add ebx, 4
    a.bytes(&[0x03, 0x43, 0xfc]); // add eax, [ebx-4]
    a.bytes(&[0x8d, 0x5b, 0xfc]); // lea ebx, [ebx-4]
    a.bytes(&[0x83, 0xec, 0x08]); // sub esp, 8
    a.bytes(&[0x89, 0x44, 0x24, 0x04]); // mov [esp+4], eax
    a.bytes(&[0x83, 0xc4, 0x08]); // add esp, 8
    a.bytes(&[0x42]); // inc edx
    a.bytes(&[0x49]); // dec ecx
    a.rel32(&[0x0f, 0x85], top); // jnz top
    a.bytes(&[0xcd, 0x80]); // int 0x80
    let mut st = program(23, 0, 1);
    st.code_at = CODE + 0x200;
    st.code = a.code;
    st.regs[ECX as usize] = 3000;
    st.regs[EBX as usize] = DATA + at;
    st.regs[ESP as usize] = DATA + at + 4;
    let (last, jit) = lockstep(&st, &[10_000, 1, 2, 3, 5, 7], 200_000, 2, what);
    assert_eq!(last.exit, Exit::Syscall);
    let s = &jit.stats;
    assert!(s.insns_translated > 4 * s.insns_interpreted, "{s:?}");
    jit
}

#[test]
fn reused_page_lookups_match_the_interpreter() {
    let s = reuse_loop(0x800, "reused lookups in one page").stats;
    assert_eq!(s.slow_exits, 0, "{s:?}");
    assert_eq!(s.pages_without_reuse, 0, "{s:?}");
    // [EBX+8] and [EBX+4] fall in the second page, [EBX-4] in the first.
    let s = reuse_loop(0xffc, "reused lookups across pages").stats;
    assert_eq!(s.pages_without_reuse, 1, "{s:?}");
    assert!(s.slow_exits < 1000, "{s:?}");
}

/// The page test of a first access covers the later accesses through
/// the same register that reuse its lookup (`operands.rs`,
/// `reuse_range`), and a reuse outside that range is tested on its own:
/// here a pointer walks to a page end next to an unmapped page, where a
/// wrong host address would read the machine frame next door instead of
/// faulting. Down onto the read-only page from its start (the range
/// reaches 8 bytes below the first access, into the unmapped page), and
/// up to the data's end past a LEA of the register (outside the range
/// the scan took).
#[test]
fn reuse_ranges_stop_at_page_ends() {
    use common::asm::*;
    // Down: mov eax, [ebx]; add eax, [ebx-8]; mov [esi], eax; sub ebx, 4.
    let mut a = Asm::default();
    let top = a.pos();
    a.bytes(&[0x8b, 0x03]);
    a.bytes(&[0x03, 0x43, 0xf8]);
    a.bytes(&[0x89, 0x06]);
    a.bytes(&[0x83, 0xeb, 0x04]);
    a.bytes(&[0x49]); // dec ecx
    a.rel32(&[0x0f, 0x85], top);
    a.bytes(&[0xcd, 0x80]);
    let mut st = program(31, 0, 1);
    st.code_at = CODE + 0x200;
    st.code = a.code;
    st.regs[ECX as usize] = 1000;
    st.regs[EBX as usize] = RO_PAGE + 0x200;
    st.regs[ESI as usize] = DATA;
    let (last, jit) = lockstep(&st, &[10_000, 1, 3, 7], 100_000, 2, "range below a page");
    assert!(matches!(last.exit, Exit::Exception(_)), "{last:?}");
    assert!(
        jit.stats.insns_translated > jit.stats.insns_interpreted,
        "{:?}",
        jit.stats
    );
    // Up: mov eax, [ebx]; lea ebx, [ebx+4]; add eax, [ebx+4]; mov [esi], eax.
    let mut a = Asm::default();
    let top = a.pos();
    a.bytes(&[0x8b, 0x03]);
    a.bytes(&[0x8d, 0x5b, 0x04]);
    a.bytes(&[0x03, 0x43, 0x04]);
    a.bytes(&[0x89, 0x06]);
    a.bytes(&[0x49]); // dec ecx
    a.rel32(&[0x0f, 0x85], top);
    a.bytes(&[0xcd, 0x80]);
    st.code = a.code;
    st.regs[ECX as usize] = 1000;
    st.regs[EBX as usize] = DATA + DATA_LEN - 0x200;
    let (last, jit) = lockstep(&st, &[10_000, 1, 3, 7], 100_000, 2, "reuse past the range");
    assert!(matches!(last.exit, Exit::Exception(_)), "{last:?}");
    assert!(
        jit.stats.insns_translated > jit.stats.insns_interpreted,
        "{:?}",
        jit.stats
    );
}

/// Registers the module never assigns itself are not written back at its
/// exits: here EBX and EDX change only in the interpreter (CPUID, stepped,
/// which reloads them), and ECX only through memory; CpuState must still
/// hold every one after every slice and link.
#[test]
fn registers_only_the_interpreter_writes_match() {
    use common::asm::*;
    let mut a = Asm::default();
    let top = a.pos();
    a.bytes(&[0x8b, 0x46, 0x7c]); // mov eax, [esi+0x7c]
    a.bytes(&[0x0f, 0xa2]); // cpuid (stepped: EAX..EDX)
    a.bytes(&[0x83, 0xc7, 0x01]); // add edi, 1
    a.bytes(&[0x01, 0x5e, 0x40]); // add [esi+0x40], ebx
    a.bytes(&[0xff, 0x4e, 0x7c]); // dec dword [esi+0x7c]
    a.rel32(&[0x0f, 0x85], top); // jnz top
    a.bytes(&[0xcd, 0x80]); // int 0x80
    let mut st = program(22, 0, 1);
    st.code_at = CODE + 0x100;
    st.data[0x7c..0x80].copy_from_slice(&2000u32.to_le_bytes());
    st.code = a.code;
    let (last, jit) = lockstep(&st, &[10_000, 1, 2, 5], 100_000, 2, "stepped registers");
    assert_eq!(last.exit, Exit::Syscall);
    let s = &jit.stats;
    assert!(s.insns_translated > s.insns_interpreted, "{s:?}");
}

/// A page only ever visited from a module for one instruction (a stub
/// that jumps back, like a PLT entry): each exit into it counts as more
/// than its one interpreted instruction, so it is translated long before
/// it has run the threshold in instructions, and the loop then stays in
/// wasm.
#[test]
fn a_page_of_short_visits_from_a_module_is_translated() {
    use common::asm::*;
    let mut a = Asm::default();
    let top = a.pos();
    for _ in 0..16 {
        a.bytes(&[0x8d, 0x52, 0x01]); // lea edx, [edx+1]
    }
    let to_stub = a.pos();
    a.bytes(&[0xe9, 0, 0, 0, 0]); // jmp stub (next page, patched below)
    let back = a.pos();
    a.bytes(&[0xff, 0x4e, 0x7c]); // dec dword [esi+0x7c]
    a.rel32(&[0x0f, 0x85], top); // jnz top
    a.bytes(&[0xcd, 0x80]); // int 0x80
    a.bytes(&vec![0xcc; 0x800 - a.pos()]);
    let stub = a.pos();
    a.rel32(&[0xe9], back); // stub: jmp back
    let rel = (stub as i32 - (to_stub as i32 + 5)).to_le_bytes();
    a.code[to_stub + 1..to_stub + 5].copy_from_slice(&rel);
    let mut st = program(3, 0, 1);
    st.code_at = CODE + 0x800;
    st.data[0x7c..0x80].copy_from_slice(&6000u32.to_le_bytes());
    st.code = a.code;
    let (last, jit) = lockstep(&st, &[50_000, 7], 1_000_000, 34_000, "short visits");
    assert_eq!(last.exit, Exit::Syscall);
    // Page A is translated after ~1700 iterations; the stub's page once
    // its ~2000 visits from A's module count as 34 K instructions (without
    // the exit's share, never: 6000 visits in all).
    assert_eq!(jit.stats.modules_compiled, 2, "{:?}", jit.stats);
    assert!(jit.stats.next_no_module < 3000, "{:?}", jit.stats);
}

/// Modules compiled on the background thread: installed between slices,
/// after the interpreter ran the page meanwhile, and first compared with
/// the page they run from.
#[test]
fn background_compiles_match_the_interpreter() {
    let config = Config {
        threshold: 2,
        max_stepped_percent: 100,
        background: true,
        ..Config::default()
    };
    let t = run_seeds_tuned(
        seeds(2000, 60),
        24,
        25,
        &[97, 13],
        Tuning::default(),
        config,
    );
    assert!(t.modules > 0 && t.translated > t.interpreted, "{t:?}");
}

/// Both tiers: pages compiled by Winch first (no links; the executor
/// records none for them), then by Cranelift after a few hundred
/// instructions in the first tier's module, so modules of both tiers
/// run side by side over the same memory.
#[test]
fn tiered_compiles_match_the_interpreter() {
    let config = Config {
        threshold: 2,
        max_stepped_percent: 100,
        background: true,
        tier_up_per_insn: 1,
        tier_up_min: 50,
        first_tier_always: true,
        ..Config::default()
    };
    let t = run_seeds_tuned(
        seeds(2500, 60),
        24,
        200,
        &[97, 13, 1000],
        Tuning::default(),
        config,
    );
    assert!(t.first_tier > 0 && t.tier_ups > 0, "{t:?}");
    assert!(t.modules > t.first_tier, "{t:?}");
    assert!(t.translated > t.interpreted, "{t:?}");
}

/// The other code shapes: page-table checks inline, Cranelift without
/// optimisations and with its single-pass register allocator; and stores
/// recycled and modules evicted all the time.
#[test]
fn other_compiler_settings_match_the_interpreter() {
    let tuning = Tuning {
        inline_checks: true,
        optimize: false,
        single_pass_regalloc: true,
        // A new store every other instantiation.
        max_instances: 2,
        // Every exit returns to the executor (as under V8).
        link: false,
        first_tier: false,
    };
    // One module at a time: every page change evicts.
    let config = Config {
        threshold: 2,
        max_stepped_percent: 100,
        max_modules: 1,
        ..Config::default()
    };
    let t = run_seeds_tuned(seeds(300_000, 80), 24, 10, &[10_000, 17], tuning, config);
    assert!(t.translated > t.interpreted, "{t:?}");
    assert!(t.evictions > 0, "{t:?}");
    assert_eq!(t.links, 0, "{t:?}");
}

/// SSE integer, move and shuffle instructions (translated to wasm SIMD
/// where `sse.rs` has a form, stepped otherwise) against the interpreter,
/// with memory operands misaligned, across pages and into unmapped ones.
#[test]
fn sse_matches_the_interpreter() {
    let config = Config {
        threshold: 2,
        max_stepped_percent: 100,
        ..Config::default()
    };
    let t = run_generated(
        sse_program,
        seeds(400_000, 150),
        24,
        25,
        &[10_000],
        Tuning::default(),
        config,
    );
    assert!(
        t.translated > 4 * t.interpreted,
        "too little translated: {t:?}"
    );
}

/// The same with page-table checks inline (the 16-byte check is emitted
/// in line), without optimisations, and slices ending mid-block.
#[test]
fn sse_with_inline_checks_and_odd_budgets() {
    let tuning = Tuning {
        inline_checks: true,
        optimize: false,
        single_pass_regalloc: true,
        max_instances: 2,
        link: false,
        first_tier: false,
    };
    let config = Config {
        threshold: 2,
        max_stepped_percent: 100,
        ..Config::default()
    };
    let t = run_generated(
        sse_program,
        seeds(500_000, 60),
        24,
        10,
        &[1, 3, 7, 64, 129],
        tuning,
        config,
    );
    assert!(t.translated > 0, "{t:?}");
}

/// x87 code (translated as calls into the interpreter's handlers, with
/// addresses computed in wasm): FPU registers, status, control and tag
/// words, memory and EIP must match after every slice, also where a
/// load or store faults at a page edge, and where an unmasked exception
/// raises #MF.
#[test]
fn x87_code_matches_the_interpreter() {
    let t = run_programs(seeds(400_000, 250), 24, 20, &[10_000], x87_program);
    assert!(t.translated > t.interpreted, "{t:?}");
    // Slices of a few instructions: every status word bit (C1 included,
    // which later instructions overwrite) is compared where it is set.
    let t = run_programs(
        seeds(500_000, 60),
        24,
        10,
        &[1, 2, 3, 5, 7, 13],
        x87_program,
    );
    assert!(t.translated > 0, "{t:?}");
}

#[test]
fn straight_line_code_matches_the_interpreter() {
    let t = run_seeds(seeds(100_000, 150), 40, 3, &[10_000]);
    assert!(t.translated > 0, "{t:?}");
}

#[test]
fn odd_budgets_stop_at_the_same_instruction() {
    // Slices that end mid-block, everywhere: exact counts and states.
    let t = run_seeds(
        seeds(200_000, 60),
        24,
        10,
        &[1, 2, 3, 5, 7, 11, 13, 64, 100, 129],
    );
    assert!(t.translated > 0, "{t:?}");
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

/// Stores EFLAGS (PUSHFD, which the interpreter runs, so the flags must
/// be materialized exactly) at [ESI+`at`], with enough translated work
/// around it that blocks are not left whole to the interpreter (gen.rs,
/// `interpret_whole`): what sets the flags runs as wasm.
fn flags_probe(a: &mut common::asm::Asm, at: u8) {
    a.bytes(&[0x9c, 0x5b]); // pushfd; pop ebx
    a.bytes(&[0x89, 0x5e, at]); // mov [esi+at], ebx
    a.bytes(&[0x01, 0xc1]); // add ecx, eax
    for _ in 0..8 {
        a.bytes(&[0x8d, 0x52, 0x01]); // lea edx, [edx+1]
    }
}

/// Closes `a` into a loop from `top` and runs it in lockstep for each
/// seed's registers and data; most of it must run translated.
fn loop_in_lockstep(mut a: common::asm::Asm, top: usize, seeds: std::ops::Range<u64>, what: &str) {
    a.bytes(&[0xff, 0x4e, 0x7c]);
    a.rel32(&[0x0f, 0x85], top);
    a.bytes(&[0xcd, 0x80]);
    for seed in seeds {
        let mut st = program(seed, 0, 4);
        st.code = a.code.clone();
        st.code_at = CODE + 0x40;
        let (last, jit) = lockstep(&st, &[100_000, 3], 1_000_000, 2, what);
        assert_eq!(last.exit, Exit::Syscall);
        assert!(
            jit.stats.insns_translated > jit.stats.insns_interpreted,
            "{:?}",
            jit.stats
        );
    }
}

/// Every translated shift and rotate form and count, its flags read by
/// PUSHFD (which the interpreter runs, so the flags must be materialized
/// exactly).
#[test]
fn shift_flags_are_exact() {
    use common::asm::*;
    let mut a = Asm::default();
    let top = a.pos();
    let mut k = 0u8;
    for kind in [4u8, 5, 7, 0, 1] {
        for size in [8u32, 16, 32] {
            for count in [1u32, 2, 7, 8, 9, 15, 16, 17, 31] {
                let at = k % 0x70;
                a.bytes(&[0x8b, 0x46, at]); // mov eax, [esi+at]
                let opcode = if size == 8 { 0xc0 } else { 0xc1 };
                a.op(size, &[opcode])
                    .modrm(kind, Rm::Reg(EAX))
                    .imm(8, count);
                flags_probe(&mut a, at);
                k = k.wrapping_add(4);
            }
        }
    }
    loop_in_lockstep(a, top, 0..20, "shift flags");
}

/// SHLD/SHRD of 16 and 32 bits, by an immediate and by CL, on a register
/// and on memory, for every count class (0; 1; within the size; the size;
/// 17..31, past it for 16 bits; 32 and 33, which mask to 0 and 1), after
/// a producer whose flags a count of 0 must keep: the flags are read
/// whole by PUSHFD, so the translated code must compute every one of
/// them as the interpreter does (`wax_cpu::undefined` for the undefined
/// ones).
#[test]
fn double_shift_flags_are_exact() {
    use common::asm::*;
    let mut a = Asm::default();
    let top = a.pos();
    let mut k = 0u8;
    for size in [16u32, 32] {
        for left in [true, false] {
            for count in [0u32, 1, 2, 7, 15, 16, 17, 24, 31, 32, 33] {
                for by_cl in [false, true] {
                    for on_mem in [false, true] {
                        let at = k % 0x70;
                        a.bytes(&[0x8b, 0x46, at]); // mov eax, [esi+at]
                        a.bytes(&[0x8b, 0x56, at + 4]); // mov edx, [esi+at+4]
                        if by_cl {
                            a.bytes(&[0xb9]).imm(32, count); // mov ecx, count
                        }
                        a.bytes(&[0x01, 0xd7]); // add edi, edx
                        let opcode = match (left, by_cl) {
                            (true, false) => 0xa4,
                            (true, true) => 0xa5,
                            (false, false) => 0xac,
                            (false, true) => 0xad,
                        };
                        let rm = if on_mem {
                            Rm::Mem(ESI, at as i8 + 8)
                        } else {
                            Rm::Reg(EAX)
                        };
                        a.op(size, &[0x0f, opcode]).modrm(EDX, rm);
                        if !by_cl {
                            a.imm(8, count);
                        }
                        flags_probe(&mut a, at);
                        k = k.wrapping_add(4);
                    }
                }
            }
        }
    }
    loop_in_lockstep(a, top, 0..6, "double shift flags");
}

/// Instructions that run on from one page into the next, at every split
/// of their bytes over the page end: translated behind the guard that the
/// next page still holds their tail (never stepped), with the state equal
/// to the interpreter's at every slice's end (slices of 3 end everywhere
/// in the loop). Each is followed by code that reads its result and
/// flags; the straddling branches leave the page as any other exit does.
#[test]
fn instructions_across_a_page_end_are_translated() {
    use common::asm::*;
    // (instruction, code after it that uses what it did)
    let kinds: &[(&[u8], &[u8])] = &[
        (&[0xb8, 0x78, 0x56, 0x34, 0x12], &[]), // mov eax, imm32
        (&[0x05, 0x01, 0x00, 0x00, 0x80], &[0x0f, 0x92, 0xc3]), // add eax, imm32; setb bl
        // add dword [esi+0x10], imm32; seto bl
        (
            &[0x81, 0x46, 0x10, 0x33, 0x22, 0x11, 0x00],
            &[0x0f, 0x90, 0xc3],
        ),
        (&[0xf7, 0x5e, 0x14], &[0x0f, 0x9c, 0xc3]), // neg dword [esi+0x14]; setl bl
        (&[0x0f, 0xa4, 0xd0, 0x05], &[0x0f, 0x97, 0xc3]), // shld eax, edx, 5; seta bl
        (&[0x66, 0x0f, 0xad, 0x56, 0x18], &[0x0f, 0x9a, 0xc3]), // shrd [esi+0x18], dx, cl; setp bl
        (&[0x8d, 0x84, 0x8a, 0x00, 0x01, 0x00, 0x00], &[]), // lea eax, [edx+ecx*4+0x100]
        (&[0x0f, 0xaf, 0x46, 0x20], &[0x0f, 0x92, 0xc3]), // imul eax, [esi+0x20]; setb bl
        // movdqu xmm0, [esi+0x20]; paddd xmm0, xmm0; movdqu [esi+0x30], xmm0
        (
            &[0xf3, 0x0f, 0x6f, 0x46, 0x20],
            &[0x66, 0x0f, 0xfe, 0xc0, 0xf3, 0x0f, 0x7f, 0x46, 0x30],
        ),
        // fld dword [esi+0x20]; fstp dword [esi+0x24]
        (&[0xd9, 0x46, 0x20], &[0xd9, 0x5e, 0x24]),
        (&[0x0f, 0x8c, 0x00, 0x00, 0x00, 0x00], &[]), // jl +0
    ];
    for &(insn, after) in kinds {
        for split in 1..insn.len() {
            let mut a = Asm::default();
            let top = a.pos();
            a.bytes(&[0x01, 0xc2]); // add edx, eax
            a.bytes(&[0x41]); // inc ecx
            let at = a.pos();
            a.bytes(insn).bytes(after);
            a.bytes(&[0x01, 0xc7]); // add edi, eax
            a.bytes(&[0xff, 0x4e, 0x7c]); // dec dword [esi+0x7c]
            a.rel32(&[0x0f, 0x85], top);
            a.bytes(&[0xcd, 0x80]);
            straddle_in_lockstep(
                a.code,
                CODE + 0x1000 - (at + split) as u32,
                "straddling insn",
            );
        }
    }
    // The loop's own branch, and a call, across the page end.
    for split in 1..6 {
        let mut a = Asm::default();
        let top = a.pos();
        a.bytes(&[0x01, 0xc2, 0x41, 0x90, 0x90, 0x90]); // add edx, eax; inc ecx; nops
        let call = a.pos();
        a.rel32(&[0xe8], 0); // call sub (fixed below)
        a.bytes(&[0x01, 0xc7]); // add edi, eax
        a.bytes(&[0xff, 0x4e, 0x7c]); // dec dword [esi+0x7c]
        let jnz = a.pos();
        a.rel32(&[0x0f, 0x85], top);
        a.bytes(&[0xcd, 0x80]);
        let sub = a.pos();
        a.bytes(&[0x8d, 0x40, 0x03, 0xc3]); // lea eax, [eax+3]; ret
        let rel = (sub - (call + 5)) as u32;
        a.code[call + 1..call + 5].copy_from_slice(&rel.to_le_bytes());
        for (at, len) in [(call, 5), (jnz, 6)] {
            if split < len {
                let code_at = CODE + 0x1000 - (at + split) as u32;
                straddle_in_lockstep(a.code.clone(), code_at, "straddling branch");
            }
        }
    }
}

/// Runs `code` at `code_at` in lockstep for a few seeds; nothing may be
/// stepped, and most must run translated.
fn straddle_in_lockstep(code: Vec<u8>, code_at: u32, what: &str) {
    for seed in 0..2 {
        let mut st = program(seed, 0, 40);
        st.code = code.clone();
        st.code_at = code_at;
        let what = format!("{what} at {code_at:#x}, seed {seed}");
        let (last, jit) = lockstep(&st, &[100_000, 3], 1_000_000, 2, &what);
        assert_eq!(last.exit, Exit::Syscall, "{what}");
        let s = jit.stats;
        assert_eq!(s.stepped_insns_compiled, 0, "{what}: {s:?}");
        assert!(s.insns_translated > s.insns_interpreted, "{what}: {s:?}");
    }
}

/// ROL/ROR and BT with live flags (and SETL) right after each producer
/// whose EFLAGS the translator evaluates inline (ADD, SUB, AND/OR/XOR,
/// INC, DEC in every size, an earlier rotate's eager flags), after one it
/// leaves to the `flags` import (ADC), and at the start of the next block
/// (an unknown record: eager at run time after a rotate, else the call):
/// the kept flags (AF, ZF, SF, PF) must be the producer's, read whole by
/// PUSHFD.
#[test]
fn rotate_and_bt_flags_after_every_producer() {
    use common::asm::*;
    let producers: &[&[u8]] = &[
        &[0x01, 0xd0],       // add eax, edx
        &[0x29, 0xd0],       // sub eax, edx
        &[0x21, 0xd0],       // and eax, edx
        &[0x09, 0xd0],       // or eax, edx
        &[0x31, 0xd0],       // xor eax, edx
        &[0x40],             // inc eax
        &[0x48],             // dec eax
        &[0x66, 0x01, 0xd0], // add ax, dx
        &[0x66, 0x29, 0xd0], // sub ax, dx
        &[0x00, 0xd0],       // add al, dl
        &[0x28, 0xd0],       // sub al, dl
        &[0xfe, 0xc0],       // inc al
        &[0xc1, 0xc0, 0x03], // rol eax, 3
        &[0x11, 0xd0],       // adc eax, edx
    ];
    let consumers: &[&[u8]] = &[
        &[0xc1, 0xc0, 0x01], // rol eax, 1
        &[0xc1, 0xc8, 0x0d], // ror eax, 13
        &[0x0f, 0xa3, 0xc8], // bt eax, ecx
        &[0x0f, 0x9c, 0xc3], // setl bl
    ];
    let mut a = Asm::default();
    let top = a.pos();
    let mut k = 0u8;
    // Without and with a jump to the next instruction between producer
    // and consumer: a block start, where the record is not known (eager
    // or not at run time).
    for (p, jump) in producers.iter().flat_map(|p| [(p, false), (p, true)]) {
        for c in consumers {
            let at = k % 0x70;
            a.bytes(&[0x8b, 0x46, at]); // mov eax, [esi+at]
            a.bytes(&[0x8b, 0x56, at + 4]); // mov edx, [esi+at+4]
            a.bytes(p);
            if jump {
                a.bytes(&[0xeb, 0x00]); // jmp +0
            }
            a.bytes(c);
            flags_probe(&mut a, at);
            k = k.wrapping_add(4);
        }
    }
    loop_in_lockstep(a, top, 0..4, "rotate flags");
}

/// ADC and SBB (every size, register and immediate forms) followed by
/// what reads their flags: another ADC/SBB (a bignum's carry chain),
/// SETcc of every condition, and PUSHFD; the translator knows the
/// producer and takes CF from the record's op (carry in or not), the
/// other flags as ADD's or SUB's. The carry into the first producer
/// comes from the data (`add ecx, eax` in the probe before).
#[test]
fn adc_sbb_flags_in_carry_chains() {
    use common::asm::*;
    let producers: &[&[u8]] = &[
        &[0x11, 0xd0],       // adc eax, edx
        &[0x19, 0xd0],       // sbb eax, edx
        &[0x10, 0xd0],       // adc al, dl
        &[0x18, 0xd0],       // sbb al, dl
        &[0x66, 0x11, 0xd0], // adc ax, dx
        &[0x66, 0x19, 0xd0], // sbb ax, dx
        &[0x83, 0xd0, 0x00], // adc eax, 0
        &[0x83, 0xd8, 0x00], // sbb eax, 0
        &[0x11, 0xc0],       // adc eax, eax
        &[0x19, 0xc0],       // sbb eax, eax
    ];
    let consumers: &[&[u8]] = &[
        &[0x11, 0xcb],       // adc ebx, ecx
        &[0x19, 0xcb],       // sbb ebx, ecx
        &[0x83, 0xd3, 0x00], // adc ebx, 0
        &[0x0f, 0x92, 0xc3], // setb bl
        &[0x0f, 0x96, 0xc3], // setbe bl
        &[0x0f, 0x90, 0xc3], // seto bl
        &[0x0f, 0x94, 0xc3], // setz bl
        &[0x0f, 0x98, 0xc3], // sets bl
        &[0x0f, 0x9a, 0xc3], // setp bl
        &[0x0f, 0x9c, 0xc3], // setl bl
        &[0x0f, 0x9f, 0xc3], // setg bl
    ];
    let mut a = Asm::default();
    let top = a.pos();
    let mut k = 0u8;
    for p in producers {
        for c in consumers {
            let at = k % 0x70;
            a.bytes(&[0x8b, 0x46, at]); // mov eax, [esi+at]
            a.bytes(&[0x8b, 0x56, at + 4]); // mov edx, [esi+at+4]
            a.bytes(p);
            a.bytes(c);
            flags_probe(&mut a, at);
            k = k.wrapping_add(4);
        }
    }
    loop_in_lockstep(a, top, 0..4, "adc/sbb flags");
}

/// Shifts by CL (every count, 0 and past the size included), rotates by
/// an immediate and MUL/IMUL (every form the translator emits), their
/// flags read by SETcc (so the blocks stay translated) and compared whole
/// at every slice's end.
#[test]
fn cl_shift_and_multiply_flags_are_exact() {
    use common::asm::*;
    let mut a = Asm::default();
    let top = a.pos();
    let mut k = 0u8;
    let record = |a: &mut Asm, k: &mut u8| {
        // seto, setb, setz, sets, setp [esi+k..]
        for (i, cc) in [0u8, 2, 4, 8, 0xa].into_iter().enumerate() {
            a.bytes(&[0x0f, 0x90 + cc])
                .modrm(0, Rm::Mem(ESI, (*k % 0x70) as i8 + i as i8));
        }
        a.bytes(&[0x01, 0xc7]); // add edi, eax
        *k = k.wrapping_add(5);
    };
    for kind in [4u8, 5, 7] {
        for size in [8u32, 16, 32] {
            for count in [0u32, 1, 7, 8, 15, 16, 31, 32, 33] {
                a.bytes(&[0x8b, 0x46, k % 0x70]); // mov eax, [esi+k]
                a.bytes(&[0xb9]).imm(32, count); // mov ecx, count
                                                 // A flag producer whose flags a count of 0 keeps.
                a.bytes(&[0x01, 0xc2]); // add edx, eax
                let opcode = if size == 8 { 0xd2 } else { 0xd3 };
                a.op(size, &[opcode]).modrm(kind, Rm::Reg(EAX));
                record(&mut a, &mut k);
                a.bytes(&[0x8b, 0x46, k % 0x70]);
                // The same on memory: shl dword [esi+k+4], cl
                a.op(size, &[opcode])
                    .modrm(kind, Rm::Mem(ESI, (k % 0x70) as i8 + 4));
                record(&mut a, &mut k);
            }
        }
    }
    // ROL/ROR r/m32, imm8: CF and OF computed, the rest kept from ADD.
    for ext in [0u8, 1] {
        for count in [1u32, 2, 7, 8, 15, 16, 31, 32, 33] {
            a.bytes(&[0x8b, 0x46, k % 0x70]); // mov eax, [esi+k]
            a.bytes(&[0x01, 0xc2]); // add edx, eax
            a.bytes(&[0xc1]).modrm(ext, Rm::Reg(EAX)).imm(8, count);
            record(&mut a, &mut k);
            a.bytes(&[0x01, 0xc2]);
            a.bytes(&[0xc1])
                .modrm(ext, Rm::Mem(ESI, (k % 0x70) as i8 + 4))
                .imm(8, count);
            record(&mut a, &mut k);
        }
    }
    for size in [16u32, 32] {
        a.op(size, &[0x0f, 0xaf]).modrm(EAX, Rm::Mem(ESI, 8)); // imul eax, [esi+8]
        record(&mut a, &mut k);
        a.op(size, &[0x6b]).modrm(EDX, Rm::Reg(EAX)).imm(8, 0x7b); // imul edx, eax, 0x7b
        record(&mut a, &mut k);
        a.op(size, &[0x69])
            .modrm(EAX, Rm::Reg(EDX))
            .imm(size, 0x4321_7fff);
        record(&mut a, &mut k);
    }
    for ext in [4u8, 5] {
        a.bytes(&[0x8b, 0x46, 0x10]); // mov eax, [esi+0x10]
        a.bytes(&[0xf7]).modrm(ext, Rm::Mem(ESI, 0x14)); // mul/imul dword [esi+0x14]
        record(&mut a, &mut k);
        a.bytes(&[0xf7]).modrm(ext, Rm::Reg(EBX)); // mul/imul ebx
        record(&mut a, &mut k);
        a.bytes(&[0xb8]).imm(32, 3); // mov eax, 3
        a.bytes(&[0xf7]).modrm(ext, Rm::Reg(EAX)); // small products: no overflow
        record(&mut a, &mut k);
    }
    a.bytes(&[0xff, 0x4e, 0x7c]);
    a.rel32(&[0x0f, 0x85], top);
    a.bytes(&[0xcd, 0x80]);
    for seed in 0..4 {
        let mut st = program(seed, 0, 4);
        st.code = a.code.clone();
        st.code_at = CODE + 0x40;
        let (last, jit) = lockstep(&st, &[100_000, 3], 1_000_000, 2, "cl shifts, multiplies");
        assert_eq!(last.exit, Exit::Syscall);
        assert!(jit.stats.insns_translated > 0);
    }
}

/// MMX instructions between EMMS and x87 pushes and pops: each MMX
/// instruction puts the FPU in MMX state (TOP 0, every register valid)
/// and each write sets its register's exponent to all ones, as the
/// interpreter does; the multiply-accumulate of OpenSSL's bn_mul_mont
/// (MOVD, PMULUDQ, PADDQ, PSRLQ) on every register.
#[test]
fn mmx_state_matches_the_interpreter() {
    use common::asm::*;
    let mut a = Asm::default();
    let top = a.pos();
    for r in 0..8u8 {
        let s = (r + 1) & 7;
        a.bytes(&[0x0f, 0x77]); // emms
        a.bytes(&[0xd9, 0xe8, 0xdd, 0xd8, 0xd9, 0xee]); // fld1; fstp st(0); fldz
        a.bytes(&[0x0f, 0x6e]).modrm(r, Rm::Mem(ESI, 4 * r as i8)); // movd mmR, [esi+4r]
        a.bytes(&[0x0f, 0x6e]).modrm(s, Rm::Reg(EAX)); // movd mmS, eax
        a.bytes(&[0x0f, 0xf4]).modrm(r, Rm::Reg(s)); // pmuludq mmR, mmS
        a.bytes(&[0x0f, 0xd4]).modrm(r, Rm::Mem(ESI, 0x40)); // paddq mmR, [esi+0x40]
        a.bytes(&[0x0f, 0x7f]).modrm(r, Rm::Mem(ESI, 0x40)); // movq [esi+0x40], mmR
        a.bytes(&[0x0f, 0x73]).modrm(2, Rm::Reg(r)).imm(8, 32); // psrlq mmR, 32
        a.bytes(&[0x0f, 0x7e]).modrm(r, Rm::Reg(EBX)); // movd ebx, mmR
        a.bytes(&[0x01, 0xd8]); // add eax, ebx
    }
    loop_in_lockstep(a, top, 0..10, "mmx state");
}

/// MMX registers held in locals within a block: read again after a
/// write (the held value, its high half cleared: PCMPEQB of a register
/// with itself leaves all ones only in its 64 bits, which PMOVMSKB sees
/// as 0xff), and an x87 push between MMX instructions without EMMS (FLDZ
/// writes R7, which is MM7, and moves TOP and the tags): the MMX
/// instructions after it must read what the x87 instruction wrote and put
/// the FPU in MMX state again.
#[test]
fn mmx_registers_held_in_a_block_match_the_interpreter() {
    use common::asm::*;
    let mut a = Asm::default();
    let top = a.pos();
    for r in 0..7u8 {
        let s = (r + 1) % 7;
        a.bytes(&[0x0f, 0x6e]).modrm(r, Rm::Mem(ESI, 4 * r as i8)); // movd mmR, [esi+4r]
        a.bytes(&[0x0f, 0x6e]).modrm(s, Rm::Reg(EAX)); // movd mmS, eax
        a.bytes(&[0x0f, 0xfe]).modrm(r, Rm::Reg(s)); // paddd mmR, mmS
        a.bytes(&[0x0f, 0xf4]).modrm(s, Rm::Reg(r)); // pmuludq mmS, mmR
        a.bytes(&[0x0f, 0x7f]).modrm(s, Rm::Mem(ESI, 0x40)); // movq [esi+0x40], mmS
        a.bytes(&[0x0f, 0x74]).modrm(r, Rm::Reg(r)); // pcmpeqb mmR, mmR
        a.bytes(&[0x0f, 0xd7]).modrm(EBX, Rm::Reg(r)); // pmovmskb ebx, mmR
        a.bytes(&[0x01, 0xd8]); // add eax, ebx
        a.bytes(&[0xd9, 0xee]); // fldz (R7 = MM7 written, TOP 7)
        a.bytes(&[0x0f, 0x7f]).modrm(7, Rm::Mem(ESI, 0x48)); // movq [esi+0x48], mm7
        a.bytes(&[0x0f, 0xd4]).modrm(7, Rm::Reg(s)); // paddq mm7, mmS
        a.bytes(&[0x0f, 0x7e]).modrm(7, Rm::Reg(EBX)); // movd ebx, mm7
        a.bytes(&[0x01, 0xd8]); // add eax, ebx
        a.bytes(&[0xd9, 0xe8]); // fld1 (R7 again: TOP was 0 after the MMX ops)
        a.bytes(&[0x0f, 0x7e]).modrm(7, Rm::Reg(EBX)); // movd ebx, mm7
        a.bytes(&[0x01, 0xd8]); // add eax, ebx
    }
    loop_in_lockstep(a, top, 0..10, "mmx held");
}

/// 16-byte accesses whose address moves every iteration, so the
/// translated code (not the first, interpreted, iteration) meets them:
/// MOVDQA turning misaligned (#GP), MOVDQU/MOVQ loads and stores walking
/// across the boundary of two RW pages (slow exits; the interpreter does
/// them) and then into the unmapped page (a precise page fault).
#[test]
fn sse_alignment_and_page_crossings_are_precise() {
    use common::asm::*;
    // top: mov eax, ecx; shr eax, 5; add eax, esi (aligned for 32
    // iterations, then not); movdqa xmm0, [eax]; paddb xmm1, xmm0; inc ecx
    let mut aligned = Asm::default();
    let top = aligned.pos();
    aligned.bytes(&[0x89, 0xc8, 0xc1, 0xe8, 0x05, 0x01, 0xf0]);
    aligned.bytes(&[0x66, 0x0f, 0x6f, 0x00, 0x66, 0x0f, 0xfc, 0xc8, 0x41]);
    aligned.rel32(&[0xe9], top);
    // top: movdqu xmm2, [edi]; pxor xmm2, xmm1; movdqu [edi+0x10], xmm2;
    // movq xmm3, [edi+8]; movq [edi+0x20], xmm3; inc edi
    let mut walk = Asm::default();
    let top = walk.pos();
    walk.bytes(&[0xf3, 0x0f, 0x6f, 0x17, 0x66, 0x0f, 0xef, 0xd1]);
    walk.bytes(&[0xf3, 0x0f, 0x7f, 0x57, 0x10]);
    walk.bytes(&[0xf3, 0x0f, 0x7e, 0x5f, 0x08, 0x66, 0x0f, 0xd6, 0x5f, 0x20]);
    walk.bytes(&[0x47]);
    walk.rel32(&[0xe9], top);
    let cases = [
        (&aligned, DATA + 0x100, 0),
        (&walk, DATA + 0x1000 - 0x60, 1),
        (&walk, DATA + DATA_LEN - 0x80, 0),
    ];
    for (code, at, crossings) in cases {
        let mut st = program(11, 0, 1);
        st.code = code.code.clone();
        st.code_at = CODE + 0x7f0;
        st.regs[ESI as usize] = at;
        st.regs[EDI as usize] = at;
        st.regs[ECX as usize] = 0;
        let (last, jit) = lockstep(&st, &[1_000_000], 1_000_000, 2, "sse edges");
        assert!(matches!(last.exit, Exit::Exception(_)), "{last:?}");
        assert!(jit.stats.insns_translated > 100, "{:?}", jit.stats);
        if crossings > 0 {
            assert!(jit.stats.slow_exits > 0, "{:?}", jit.stats);
        }
    }
}

/// The inline FMUL, FADD/FSUB/FSUBR and FST(P) against the interpreter
/// on results that round from exact ties (odd and even last kept bit),
/// carry into the next power of two, cancel, are exact, or fall back to
/// the call (zero, far apart exponents), in register and memory forms,
/// with the status word (PE, C1) stored after each.
#[test]
fn x87_rounding_edges_match_the_interpreter() {
    use common::asm::*;
    let eps = f64::EPSILON;
    // Seven pairs: the loop counter is at [ESI+0x7c].
    let pairs: [(f64, f64); 7] = [
        (1.0 + eps, 1.0 + 3.0 / 4096.0),
        (1.0 + eps, 1.0 + 1.0 / 4096.0),
        (2.0 - eps, 2.0 - eps),
        (1.0 + eps, 1.0 + eps),
        (-3.0, 1.0 + 3.0 * eps),
        (1e300, 1e-300),
        (-(1.0 + 5.0 * eps), 1.0 + 7.0 * eps),
    ];
    let mut a = Asm::default();
    let top = a.pos();
    for k in 0..pairs.len() as i8 {
        let (x, y, out) = (16 * k, 16 * k + 8, Rm::Mem(EDI, 0));
        a.bytes(&[0xdd]).modrm(0, Rm::Mem(ESI, x)); // fld qword [x]
        a.bytes(&[0xdc]).modrm(1, Rm::Mem(ESI, y)); // fmul qword [y]
        a.bytes(&[0xdf, 0xe0, 0x66, 0x89])
            .modrm(EAX, Rm::Mem(EDI, 8 + 2 * k)); // fnstsw ax; mov
        a.bytes(&[0xdd]).modrm(2, out); // fst qword [edi]
        a.bytes(&[0xd9]).modrm(3, Rm::Mem(EDI, 0x20 + 4 * k)); // fstp dword
        a.bytes(&[0xdd]).modrm(0, Rm::Mem(ESI, y));
        a.bytes(&[0xdd]).modrm(0, Rm::Mem(ESI, x));
        a.bytes(&[0xde, 0xc9]); // fmulp st(1), st(0)
        a.bytes(&[0xdb]).modrm(7, Rm::Mem(EDI, 0x40 + 10 * k)); // fstp tword
        a.bytes(&[0xdf, 0xe0, 0x66, 0x89])
            .modrm(EAX, Rm::Mem(EDI, 0x30 + 2 * k));
        // FSUB m64, FSUBR m64, FADDP: ST(0) and memory in both orders,
        // same and opposite signs, cancellations.
        for (j, (op, reg)) in [(0xdcu8, 4u8), (0xdc, 5), (0xde, 0)]
            .into_iter()
            .enumerate()
        {
            let out = -128 + 36 * k + 12 * j as i8;
            a.bytes(&[0xdd]).modrm(0, Rm::Mem(ESI, x));
            if op == 0xde {
                a.bytes(&[0xdd]).modrm(0, Rm::Mem(ESI, y));
                a.bytes(&[0xde, 0xc1]); // faddp st(1), st(0)
            } else {
                a.bytes(&[op]).modrm(reg, Rm::Mem(ESI, y));
            }
            a.bytes(&[0xdb]).modrm(7, Rm::Mem(EDX, out)); // fstp tword
            a.bytes(&[0xdf, 0xe0, 0x66, 0x89])
                .modrm(EAX, Rm::Mem(EDX, out + 10));
        }
    }
    // Extended values at [EBX+16k] whose stores to m64 or m32 round from
    // a tie (odd or even) or carry into the exponent, and two whose
    // product's top 64 bits are all ones and round up (a carry in FMUL).
    let ext: [u64; 7] = [
        0x8000_0000_0000_0c00,
        0x8000_0000_0000_0400,
        0xffff_ffff_ffff_fc00,
        0x8000_0180_0000_0000,
        0xffff_ff80_0000_0000,
        0x8000_0000_0000_0001,
        0xffff_ffff_ffff_fffe,
    ];
    for k in 0..5i8 {
        a.bytes(&[0xdb]).modrm(5, Rm::Mem(EBX, 16 * k)); // fld tword
        a.bytes(&[0xdd]).modrm(2, Rm::Mem(ECX, 8 * k)); // fst qword
        a.bytes(&[0xdf, 0xe0, 0x66, 0x89])
            .modrm(EAX, Rm::Mem(ECX, 0x40 + 2 * k));
        a.bytes(&[0xd9]).modrm(3, Rm::Mem(ECX, 0x50 + 4 * k)); // fstp dword
        a.bytes(&[0xdf, 0xe0, 0x66, 0x89])
            .modrm(EAX, Rm::Mem(ECX, 0x70 + 2 * k));
    }
    // Zeros of both signs loaded from m64 and m32 and stored to both,
    // after FXAM set C1 (the sign), which the store clears.
    a.bytes(&[0xdd]).modrm(0, Rm::Mem(EBX, 0x70)); // fld qword -0.0
    a.bytes(&[0xd9, 0xe5]); // fxam
    a.bytes(&[0xdd]).modrm(3, Rm::Mem(ECX, 0x60)); // fstp qword
    a.bytes(&[0xdf, 0xe0, 0x66, 0x89])
        .modrm(EAX, Rm::Mem(ECX, -0x40));
    a.bytes(&[0xd9]).modrm(0, Rm::Mem(EBX, 0x78)); // fld dword +0.0
    a.bytes(&[0xd9, 0xe0, 0xd9, 0xe5]); // fchs; fxam
    a.bytes(&[0xd9]).modrm(3, Rm::Mem(ECX, 0x68)); // fstp dword
    a.bytes(&[0xdf, 0xe0, 0x66, 0x89])
        .modrm(EAX, Rm::Mem(ECX, -0x3e));
    a.bytes(&[0xdb]).modrm(5, Rm::Mem(EBX, 80));
    a.bytes(&[0xdb]).modrm(5, Rm::Mem(EBX, 96));
    a.bytes(&[0xde, 0xc9]); // fmulp
    a.bytes(&[0xdb]).modrm(7, Rm::Mem(ECX, -0x20)); // fstp tword
    a.bytes(&[0xdf, 0xe0, 0x66, 0x89])
        .modrm(EAX, Rm::Mem(ECX, -0x30));
    // dec dword [esi+0x7c]; jnz top; int 0x80
    a.bytes(&[0xff, 0x4e, 0x7c]);
    a.rel32(&[0x0f, 0x85], top);
    a.bytes(&[0xcd, 0x80]);
    let mut st = program(11, 0, 1);
    for (k, sig) in ext.iter().enumerate() {
        let at = 0x400 + 16 * k;
        st.data[at..at + 8].copy_from_slice(&sig.to_le_bytes());
        st.data[at + 8..at + 10].copy_from_slice(&0x3fffu16.to_le_bytes());
    }
    st.data[0x470..0x478].copy_from_slice(&(-0.0f64).to_le_bytes());
    st.data[0x478..0x47c].copy_from_slice(&0.0f32.to_le_bytes());
    st.regs[EBX as usize] = DATA + 0x400;
    st.regs[EDX as usize] = DATA + 0x880;
    st.regs[ECX as usize] = DATA + 0x600;
    st.code = a.code;
    for (k, (x, y)) in pairs.iter().enumerate() {
        st.data[16 * k..16 * k + 8].copy_from_slice(&x.to_le_bytes());
        st.data[16 * k + 8..16 * k + 16].copy_from_slice(&y.to_le_bytes());
    }
    st.data[0x7c..0x80].copy_from_slice(&5u32.to_le_bytes());
    st.regs[EDI as usize] = DATA + 0x200;
    let (last, jit) = lockstep(&st, &[10_000, 1, 7], 100_000, 2, "x87 rounding edges");
    assert_eq!(last.exit, Exit::Syscall);
    assert!(jit.stats.insns_translated > 0);
}

/// FADD/FSUB's significand sum is emitted in place, its scratch locals
/// shared by every sum in the function: a sum that neither carries nor
/// cancels must not see the exponent change an earlier one left (a carry,
/// +1; a cancellation, minus the normalising shift), in the same block.
#[test]
fn x87_sums_after_a_carry_or_a_cancellation_match_the_interpreter() {
    use common::asm::*;
    let eps = f64::EPSILON;
    // Values at [ESI+8k]; the loop counter at [ESI+0x7c].
    let vals: [f64; 5] = [1.0 + eps, 0.25, 1.5, 1.0 + 3.0 * eps, -0.375];
    // (x, op, y): op 0 FADD m64, 4 FSUB m64, 5 FSUBR m64.
    let sums: [(i8, u8, i8); 9] = [
        (0, 4, 1), // 0.75 + eps: cancels by one bit
        (0, 0, 1), // 1.25 + eps: neither
        (2, 0, 2), // 3.0: carries
        (0, 0, 1), // neither
        (3, 4, 0), // 2 eps: cancels by 51 bits
        (1, 0, 4), // -0.125: opposite signs, cancels
        (3, 0, 1), // neither
        (4, 5, 2), // 1.875: FSUBR, opposite signs, neither
        (0, 0, 4), // 0.625 + eps: cancels by one bit
    ];
    let mut a = Asm::default();
    let top = a.pos();
    for (k, &(x, op, y)) in sums.iter().enumerate() {
        let k = k as i8;
        a.bytes(&[0xdd]).modrm(0, Rm::Mem(ESI, 8 * x)); // fld qword [x]
        a.bytes(&[0xdc]).modrm(op, Rm::Mem(ESI, 8 * y)); // op qword [y]
        a.bytes(&[0xdb]).modrm(7, Rm::Mem(EDI, 12 * k)); // fstp tword
        a.bytes(&[0xdf, 0xe0, 0x66, 0x89])
            .modrm(EAX, Rm::Mem(EDI, 12 * k + 10)); // fnstsw ax; mov
    }
    // dec dword [esi+0x7c]; jnz top; int 0x80
    a.bytes(&[0xff, 0x4e, 0x7c]);
    a.rel32(&[0x0f, 0x85], top);
    a.bytes(&[0xcd, 0x80]);
    let mut st = program(11, 0, 1);
    st.code = a.code;
    for (k, v) in vals.iter().enumerate() {
        st.data[8 * k..8 * k + 8].copy_from_slice(&v.to_le_bytes());
    }
    st.data[0x7c..0x80].copy_from_slice(&5u32.to_le_bytes());
    st.regs[EDI as usize] = DATA + 0x200;
    let (last, jit) = lockstep(&st, &[10_000, 1, 7], 100_000, 2, "x87 sums in a row");
    assert_eq!(last.exit, Exit::Syscall);
    assert!(jit.stats.insns_translated > 0);
}

/// The inline comparisons (FCOMI/FUCOMI(P), FCOM(P)(P)/FUCOM(P)(P) of
/// registers, FCOM(P) m32fp/m64fp) against the interpreter: equal
/// operands, one ulp apart, both signs, zeros of either sign against each
/// other and against numbers, the extremes of the normal range, and what
/// takes the call (denormals, a NaN, infinity, an unnormal, a denormal
/// or zero in memory), with EFLAGS and the status word stored after each.
#[test]
fn x87_comparisons_match_the_interpreter() {
    use common::asm::*;
    // Extended values at [EBX - 128 + 16k]: significand, sign/exponent.
    let vals: [(u64, u16); 15] = [
        (1 << 63, 0x3fff),       // 0: 1
        ((1 << 63) | 1, 0x3fff), // 1: 1 + ulp
        (1 << 63, 0xbfff),       // 2: -1
        (0, 0),                  // 3: +0
        (0, 0x8000),             // 4: -0
        (1 << 63, 0x4000),       // 5: 2
        ((1 << 63) | 1, 0xbfff), // 6: -(1 + ulp)
        (1, 0),                  // 7: a denormal
        (3 << 62, 0x7fff),       // 8: a quiet NaN
        (1 << 63, 0x7fff),       // 9: +infinity
        (1 << 63, 0xc000),       // 10: -2
        (1 << 63, 0x3ffe),       // 11: 0.5
        (u64::MAX, 0x7ffe),      // 12: the largest normal
        (1 << 63, 0x0001),       // 13: the smallest normal
        (1 << 62, 0x3fff),       // 14: an unnormal
    ];
    let pairs: [(i8, i8); 30] = [
        (0, 0),
        (0, 1),
        (1, 0),
        (2, 0),
        (0, 2),
        (2, 6),
        (6, 2),
        (3, 4),
        (4, 3),
        (3, 0),
        (0, 3),
        (4, 2),
        (2, 4),
        (5, 0),
        (0, 5),
        (10, 2),
        (2, 10),
        (11, 13),
        (13, 3),
        (4, 13),
        (12, 11),
        (12, 12),
        (6, 6),
        (3, 3),
        (7, 3),
        (0, 7),
        (8, 0),
        (0, 8),
        (9, 0),
        (14, 0),
    ];
    let mut a = Asm::default();
    let top = a.pos();
    a.bytes(&[0xbf]).imm(32, DATA + 0x800); // mov edi, DATA + 0x800
    let v = |i: i8| Rm::Mem(EBX, (16 * i32::from(i) - 128) as i8);
    let record = |a: &mut Asm, flags: bool, at: i8| {
        if flags {
            // pushfd; pop eax; mov [edi+at], eax
            a.bytes(&[0x9c, 0x58, 0x89]).modrm(EAX, Rm::Mem(EDI, at));
        }
        a.bytes(&[0xdf, 0xe0, 0x66, 0x89])
            .modrm(EAX, Rm::Mem(EDI, at + 4)); // fnstsw ax; mov
    };
    for (k, &(x, y)) in pairs.iter().enumerate() {
        a.bytes(&[0xdb]).modrm(5, v(y)); // fld tword [y]
        a.bytes(&[0xdb]).modrm(5, v(x)); // fld tword [x]: ST(0) = x
        a.bytes(&[0xdb, 0xf1]); // fcomi st, st(1)
        record(&mut a, true, 0);
        a.bytes(&[0xdb, 0xe9]); // fucomi st, st(1)
        record(&mut a, true, 8);
        a.bytes(&[0xd8, 0xd1]); // fcom st(1)
        record(&mut a, false, 16);
        a.bytes(&[0xdd, 0xe1]); // fucom st(1)
        record(&mut a, false, 20);
        a.bytes(&[0xd9, 0xc9]); // fxch: the other order
        a.bytes(&[0xdf, 0xf1]); // fcomip st, st(1)
        record(&mut a, true, 24);
        a.bytes(&[0xdb]).modrm(5, v(x));
        // fucomip / fcomp st(1) / fucomp st(1), then fcompp or fucompp.
        match k % 3 {
            0 => a.bytes(&[0xdf, 0xe9]),
            1 => a.bytes(&[0xd8, 0xd9]),
            _ => a.bytes(&[0xdd, 0xe9]),
        };
        record(&mut a, k % 3 == 0, 32);
        a.bytes(&[0xdb]).modrm(5, v(x));
        a.bytes(&[
            if k % 2 == 0 { 0xde } else { 0xda },
            0xd9 | (k as u8 % 2) << 4,
        ]);
        record(&mut a, false, 40);
        // fcom(p) m64fp and m32fp against the doubles and floats at ESI.
        let m = (k % 8) as i8;
        a.bytes(&[0xdb]).modrm(5, v(x));
        a.bytes(&[0xdc]).modrm(2, Rm::Mem(ESI, 8 * m)); // fcom qword
        record(&mut a, false, 44);
        a.bytes(&[0xd8]).modrm(3, Rm::Mem(ESI, 0x40 + 4 * m)); // fcomp dword
        record(&mut a, false, 48);
        a.bytes(&[0x83, 0xc7, 0x34]); // add edi, 52
    }
    // dec dword [esi+0x7c]; jnz top; int 0x80
    a.bytes(&[0xff, 0x4e, 0x7c]);
    a.rel32(&[0x0f, 0x85], top);
    a.bytes(&[0xcd, 0x80]);
    let mut st = program(12, 0, 1);
    for (k, (sig, se)) in vals.iter().enumerate() {
        let at = 0x480 - 128 + 16 * k;
        st.data[at..at + 8].copy_from_slice(&sig.to_le_bytes());
        st.data[at + 8..at + 10].copy_from_slice(&se.to_le_bytes());
    }
    let doubles = [
        1.0,
        -1.0,
        0.0,
        1.0 + f64::EPSILON,
        2.0,
        -0.0,
        f64::NAN,
        1e-310,
    ];
    for (k, d) in doubles.iter().enumerate() {
        st.data[8 * k..8 * k + 8].copy_from_slice(&d.to_le_bytes());
        let f = *d as f32;
        st.data[0x40 + 4 * k..0x44 + 4 * k].copy_from_slice(&f.to_le_bytes());
    }
    st.data[0x5c..0x60].copy_from_slice(&1e-40f32.to_le_bytes());
    st.data[0x7c..0x80].copy_from_slice(&3u32.to_le_bytes());
    st.regs[EBX as usize] = DATA + 0x480;
    st.code = a.code;
    let (last, jit) = lockstep(&st, &[10_000, 1, 7, 3], 100_000, 2, "x87 comparisons");
    assert_eq!(last.exit, Exit::Syscall);
    assert!(jit.stats.insns_translated > 0);
}

/// The inline FDIV/FDIVR(P) against the interpreter, under three control
/// words (the default, and RC down and PC 53 bits, which take the call): exact
/// quotients, quotients rounding up and down, significands of the dividend
/// above and below the divisor's, the extremes of the significand,
/// results just inside and beyond the exponent range, and what takes the
/// call (zero, denormal and NaN operands), in every register and memory
/// form, storing each result and the status word (PE, C1).
#[test]
fn x87_division_matches_the_interpreter() {
    use common::asm::*;
    // Extended values at [EBX - 128 + 16k]: significand, sign/exponent.
    let vals: [(u64, u16); 15] = [
        (1 << 63, 0x3fff),               // 0: 1
        (3 << 62, 0x4000),               // 1: 3
        ((1 << 63) | 1, 0x3fff),         // 2: 1 + ulp
        (7 << 61, 0xc001),               // 3: -7
        (u64::MAX, 0x3fff),              // 4: 2 - ulp
        (0xcccc_cccc_cccc_cccd, 0x3ffb), // 5: 0.1
        (0, 0),                          // 6: +0
        (1, 0),                          // 7: a denormal
        (u64::MAX, 0x7ffe),              // 8: the largest normal
        (1 << 63, 0x0001),               // 9: the smallest normal
        (3 << 62, 0xbfff),               // 10: -1.5
        (3 << 62, 0x7fff),               // 11: a quiet NaN
        (1 << 63, 0x3fff - 16000),       // 12: 2^-16000
        (u64::MAX, 0x3ffe),              // 13: 1 - ulp / 2
        (0x8000_0000_ffff_ffff, 0x4005), // 14
    ];
    let pairs: [(i8, i8); 24] = [
        (0, 1),
        (1, 0),
        (1, 1),
        (3, 1),
        (1, 3),
        (0, 2),
        (2, 0),
        (4, 13),
        (13, 4),
        (5, 3),
        (3, 10),
        (10, 5),
        (14, 5),
        (5, 14),
        (4, 2),
        (8, 13),
        (9, 4),
        (12, 8),
        (8, 12),
        (9, 0),
        (0, 6),
        (6, 0),
        (7, 0),
        (11, 1),
    ];
    let mut a = Asm::default();
    let top = a.pos();
    a.bytes(&[0xbf]).imm(32, DATA + 0x800); // mov edi, DATA + 0x800
                                            // mov eax, [esi+0x7c]; fldcw [esi+eax*2+0x60]
    a.bytes(&[0x8b, 0x46, 0x7c, 0xd9, 0x6c, 0x46, 0x60]);
    let v = |i: i8| Rm::Mem(EBX, (16 * i32::from(i) - 128) as i8);
    let out = |a: &mut Asm, at: i8| {
        a.bytes(&[0xdb]).modrm(7, Rm::Mem(EDI, at)); // fstp tword
        a.bytes(&[0xdf, 0xe0, 0x66, 0x89])
            .modrm(EAX, Rm::Mem(EDI, at + 10)); // fnstsw ax; mov
    };
    for (k, &(x, y)) in pairs.iter().enumerate() {
        let m = (k % 8) as i8;
        a.bytes(&[0xdb]).modrm(5, v(y));
        a.bytes(&[0xdb]).modrm(5, v(x)); // ST(0) = x, ST(1) = y
        a.bytes(&[0xd8, 0xf1]); // fdiv st, st(1): x / y
        out(&mut a, 0);
        a.bytes(&[0xdb]).modrm(5, v(x));
        a.bytes(&[0xd8, 0xf9]); // fdivr st, st(1): y / x
        out(&mut a, 12);
        a.bytes(&[0xdb]).modrm(5, v(x));
        a.bytes(&[0xdc, 0xf9]); // fdiv st(1), st: ST(1) = y / x
        a.bytes(&[0xdd, 0xd8]); // fstp st(0)
        out(&mut a, 24);
        a.bytes(&[0xdb]).modrm(5, v(y));
        a.bytes(&[0xdb]).modrm(5, v(x));
        a.bytes(&[0xde, 0xf9]); // fdivp st(1), st: y / x
        out(&mut a, 36);
        a.bytes(&[0xdb]).modrm(5, v(y));
        a.bytes(&[0xdb]).modrm(5, v(x));
        a.bytes(&[0xde, 0xf1]); // fdivrp st(1), st: x / y
        out(&mut a, 48);
        a.bytes(&[0xdb]).modrm(5, v(x));
        a.bytes(&[0xdc]).modrm(6, Rm::Mem(ESI, 8 * m)); // fdiv qword
        out(&mut a, 60);
        a.bytes(&[0xdb]).modrm(5, v(x));
        a.bytes(&[0xd8]).modrm(7, Rm::Mem(ESI, 0x40 + 4 * m)); // fdivr dword
        out(&mut a, 72);
        a.bytes(&[0x83, 0xc7, 84]); // add edi, 84
    }
    // dec dword [esi+0x7c]; jnz top; int 0x80
    a.bytes(&[0xff, 0x4e, 0x7c]);
    a.rel32(&[0x0f, 0x85], top);
    a.bytes(&[0xcd, 0x80]);
    let mut st = program(13, 0, 1);
    for (k, (sig, se)) in vals.iter().enumerate() {
        let at = 0x480 - 128 + 16 * k;
        st.data[at..at + 8].copy_from_slice(&sig.to_le_bytes());
        st.data[at + 8..at + 10].copy_from_slice(&se.to_le_bytes());
    }
    let doubles = [
        3.0,
        -0.1,
        0.0,
        1.0 + f64::EPSILON,
        7.0,
        1e300,
        f64::NAN,
        1e-310,
    ];
    for (k, d) in doubles.iter().enumerate() {
        st.data[8 * k..8 * k + 8].copy_from_slice(&d.to_le_bytes());
        let f = *d as f32;
        st.data[0x40 + 4 * k..0x44 + 4 * k].copy_from_slice(&f.to_le_bytes());
    }
    // Control words by pass (6 down to 1): RC down and PC 53 bits in
    // passes 4 and 3, translated by then; the default otherwise.
    for c in 1..=6 {
        let cw: u16 = match c {
            4 => 0x077f,
            3 => 0x027f,
            _ => 0x037f,
        };
        st.data[0x60 + 2 * c..0x62 + 2 * c].copy_from_slice(&cw.to_le_bytes());
    }
    st.data[0x7c..0x80].copy_from_slice(&6u32.to_le_bytes());
    st.regs[EBX as usize] = DATA + 0x480;
    st.code = a.code;
    let (last, jit) = lockstep(&st, &[10_000, 1, 7, 3], 100_000, 2, "x87 division");
    assert_eq!(last.exit, Exit::Syscall);
    assert!(jit.stats.insns_translated > 0);
}

/// The inline FSQRT against the interpreter, under the control words of
/// [`x87_division_matches_the_interpreter`]: exact roots (4, 9 * 2^k, a
/// 64-bit square), roots rounding up and down, both exponent parities,
/// the extremes of the significand and of the exponent range, and what
/// takes the call (negative numbers, zeros, a denormal, infinity, a NaN,
/// an unnormal), storing each root and the status word (PE, C1).
#[test]
fn x87_square_roots_match_the_interpreter() {
    use common::asm::*;
    let square = {
        let r = 0xb504_f333u64 | 1;
        let p = r * r;
        p << p.leading_zeros()
    };
    let vals: [(u64, u16); 22] = [
        (1 << 63, 0x4001),               // 4
        (1 << 63, 0x4000),               // 2
        (3 << 62, 0x4000),               // 3
        (9 << 60, 0x4012),               // 9 * 2^16
        (9 << 60, 0x4013),               // 9 * 2^17
        (1 << 63, 0x3ffe),               // 0.5
        (1 << 63, 0x3fff),               // 1
        ((1 << 63) | 1, 0x3fff),         // 1 + ulp
        (u64::MAX, 0x3fff),              // 2 - ulp
        (u64::MAX, 0x4000),              // 4 - 2ulp
        (square, 0x403e),                // an exact 64-bit square
        (square, 0x403f),                // and twice it
        (1 << 63, 0x0001),               // the smallest normal
        (u64::MAX, 0x7ffe),              // the largest normal
        (0xcccc_cccc_cccc_cccd, 0x3ffb), // 0.1
        (1 << 63, 0xc001),               // -4
        (0, 0),                          // +0
        (0, 0x8000),                     // -0
        (1, 0),                          // a denormal
        (1 << 63, 0x7fff),               // +infinity
        (3 << 62, 0x7fff),               // a quiet NaN
        (1 << 62, 0x3fff),               // an unnormal
    ];
    let mut a = Asm::default();
    let top = a.pos();
    a.bytes(&[0xbf]).imm(32, DATA + 0x800); // mov edi, DATA + 0x800
                                            // mov eax, [esi+0x7c]; fldcw [esi+eax*2+0x60]
    a.bytes(&[0x8b, 0x46, 0x7c, 0xd9, 0x6c, 0x46, 0x60]);
    // mov ebx, DATA + 0x400
    a.bytes(&[0xbb]).imm(32, DATA + 0x400);
    for _ in vals {
        a.bytes(&[0xdb]).modrm(5, Rm::Mem(EBX, 0)); // fld tword [ebx]
        a.bytes(&[0xd9, 0xfa]); // fsqrt
        a.bytes(&[0xdb]).modrm(7, Rm::Mem(EDI, 0)); // fstp tword [edi]
        a.bytes(&[0xdf, 0xe0, 0x66, 0x89])
            .modrm(EAX, Rm::Mem(EDI, 10)); // fnstsw ax; mov
        a.bytes(&[0x83, 0xc7, 12, 0x83, 0xc3, 16]); // add edi, 12; add ebx, 16
    }
    // dec dword [esi+0x7c]; jnz top; int 0x80
    a.bytes(&[0xff, 0x4e, 0x7c]);
    a.rel32(&[0x0f, 0x85], top);
    a.bytes(&[0xcd, 0x80]);
    let mut st = program(14, 0, 1);
    for (k, (sig, se)) in vals.iter().enumerate() {
        let at = 0x400 + 16 * k;
        st.data[at..at + 8].copy_from_slice(&sig.to_le_bytes());
        st.data[at + 8..at + 10].copy_from_slice(&se.to_le_bytes());
    }
    for c in 1..=6 {
        let cw: u16 = match c {
            4 => 0x077f,
            3 => 0x027f,
            _ => 0x037f,
        };
        st.data[0x60 + 2 * c..0x62 + 2 * c].copy_from_slice(&cw.to_le_bytes());
    }
    st.data[0x7c..0x80].copy_from_slice(&6u32.to_le_bytes());
    st.code = a.code;
    let (last, jit) = lockstep(&st, &[10_000, 1, 7, 3], 100_000, 2, "x87 square roots");
    assert_eq!(last.exit, Exit::Syscall);
    assert!(jit.stats.insns_translated > 0);
}

/// The inline FCMOVcc against the interpreter: all eight conditions under
/// flags from SAHF (each of CF, ZF, PF alone, none, all three) and from a
/// pending CMP (below, above, equal), with the source ST(1) or ST(2), and
/// what takes the call (an empty ST(0) or source: stack underflow, masked,
/// ST(0) = the indefinite), storing ST(0) and the status word after each.
#[test]
fn x87_conditional_moves_match_the_interpreter() {
    use common::asm::*;
    let mut a = Asm::default();
    let top = a.pos();
    a.bytes(&[0xbf]).imm(32, DATA + 0x800); // mov edi, DATA + 0x800
                                            // Flags: mov ah, F; sahf, or mov eax, x; mov ecx, y; cmp eax, ecx.
    let sahf = [0x00u8, 0x01, 0x40, 0x04, 0x45];
    let cmps = [(1u32, 2u32), (7, 3), (5, 5)];
    let mut k = 0u32;
    for form in 0..8u8 {
        for f in 0..sahf.len() + cmps.len() {
            let i = 1 + (k % 2) as u8;
            a.bytes(&[0xdb]).modrm(5, Rm::Mem(EBX, 32)); // fld tword: ST(2)
            a.bytes(&[0xdb]).modrm(5, Rm::Mem(EBX, 16)); // ST(1)
            a.bytes(&[0xdb]).modrm(5, Rm::Mem(EBX, 0)); // ST(0)
                                                        // Now and then an empty ST(0) or source.
            match k % 11 {
                3 => a.bytes(&[0xdd, 0xc0]),     // ffree st(0)
                7 => a.bytes(&[0xdd, 0xc0 + i]), // ffree st(i)
                _ => &mut a,
            };
            if f < sahf.len() {
                a.bytes(&[0xb4, sahf[f], 0x9e]); // mov ah, F; sahf
            } else {
                let (x, y) = cmps[f - sahf.len()];
                a.bytes(&[0xb8]).imm(32, x); // mov eax, x
                a.bytes(&[0xb9]).imm(32, y); // mov ecx, y
                a.bytes(&[0x39, 0xc8]); // cmp eax, ecx
            }
            // fcmovb/e/be/u (DA), fcmovnb/ne/nbe/nu (DB) st(0), st(i)
            a.bytes(&[0xda + form / 4, 0xc0 + 8 * (form % 4) + i]);
            a.bytes(&[0x9c, 0x58, 0x89]).modrm(EAX, Rm::Mem(EDI, 12)); // pushfd; pop eax; mov
            a.bytes(&[0xdb]).modrm(7, Rm::Mem(EDI, 0)); // fstp tword [edi]
            a.bytes(&[0xdf, 0xe0, 0x66, 0x89])
                .modrm(EAX, Rm::Mem(EDI, 10)); // fnstsw ax; mov
                                               // Empty the stack (ffree st(0), st(1); fincstp twice) and clear
                                               // the exceptions.
            a.bytes(&[0xdd, 0xc0, 0xdd, 0xc1, 0xd9, 0xf7, 0xd9, 0xf7, 0xdb, 0xe2]);
            a.bytes(&[0x83, 0xc7, 0x10]); // add edi, 16
            k += 1;
        }
    }
    // dec dword [esi+0x7c]; jnz top; int 0x80
    a.bytes(&[0xff, 0x4e, 0x7c]);
    a.rel32(&[0x0f, 0x85], top);
    a.bytes(&[0xcd, 0x80]);
    let mut st = program(13, 0, 1);
    let vals: [(u64, u16); 3] = [(1 << 63, 0x3fff), (3 << 62, 0xc001), (0, 0x8000)];
    for (k, (sig, se)) in vals.iter().enumerate() {
        let at = 0x480 + 16 * k;
        st.data[at..at + 8].copy_from_slice(&sig.to_le_bytes());
        st.data[at + 8..at + 10].copy_from_slice(&se.to_le_bytes());
    }
    st.data[0x7c..0x80].copy_from_slice(&3u32.to_le_bytes());
    st.regs[EBX as usize] = DATA + 0x480;
    st.code = a.code;
    let (last, jit) = lockstep(&st, &[10_000, 1, 7, 3], 100_000, 2, "x87 fcmov");
    assert_eq!(last.exit, Exit::Syscall);
    assert!(jit.stats.insns_translated > 0);
}

/// The inline FLDCW against the interpreter: words with reserved bits set
/// and clear, precision and rounding controls (so the arithmetic after it
/// takes the call or not), an exception unmasked with none pending, and
/// what takes the call (a word unmasking the pending PE, which sets ES and
/// B), storing FNSTCW, the sum rounded under the word and the status word
/// after each.
#[test]
fn x87_control_word_loads_match_the_interpreter() {
    use common::asm::*;
    let words: [u16; 8] = [
        0x037f, 0x027f, 0x0f7f, 0xffff, 0x0000, 0x037e, 0x035f, 0x0b7f,
    ];
    let mut a = Asm::default();
    let top = a.pos();
    a.bytes(&[0xbf]).imm(32, DATA + 0x800); // mov edi, DATA + 0x800
    for k in 0..words.len() as i8 {
        // A sum that rounds (PE) under the default word, then the word.
        a.bytes(&[0xd9, 0xe8]); // fld1
        a.bytes(&[0xdc]).modrm(0, Rm::Mem(ESI, 0)); // fadd qword [esi]
        a.bytes(&[0xd9]).modrm(5, Rm::Mem(ESI, 0x40 + 2 * k)); // fldcw
        a.bytes(&[0xd9]).modrm(7, Rm::Mem(EDI, 0)); // fnstcw [edi]
        a.bytes(&[0xdf, 0xe0, 0x66, 0x89])
            .modrm(EAX, Rm::Mem(EDI, 2)); // fnstsw ax; mov
                                          // Unless the word unmasked the pending PE: arithmetic under it.
        if words[k as usize] & 0x20 != 0 {
            a.bytes(&[0xdc]).modrm(0, Rm::Mem(ESI, 8)); // fadd qword [esi+8]
            a.bytes(&[0xdb]).modrm(7, Rm::Mem(EDI, 4)); // fstp tword [edi+4]
        }
        a.bytes(&[0xdf, 0xe0, 0x66, 0x89])
            .modrm(EAX, Rm::Mem(EDI, 14)); // fnstsw ax; mov
        a.bytes(&[0xdb, 0xe2]); // fnclex
        if words[k as usize] & 0x20 == 0 {
            a.bytes(&[0xdd, 0xc0, 0xd9, 0xf7]); // ffree st(0); fincstp
        }
        a.bytes(&[0xd9]).modrm(5, Rm::Mem(ESI, 0x50)); // fldcw: the default
        a.bytes(&[0x83, 0xc7, 0x10]); // add edi, 16
    }
    // dec dword [esi+0x7c]; jnz top; int 0x80
    a.bytes(&[0xff, 0x4e, 0x7c]);
    a.rel32(&[0x0f, 0x85], top);
    a.bytes(&[0xcd, 0x80]);
    let mut st = program(14, 0, 1);
    st.data[0..8].copy_from_slice(&(f64::EPSILON / 3.0).to_le_bytes());
    st.data[8..16].copy_from_slice(&(1.0f64 / 3.0).to_le_bytes());
    for (k, w) in words.iter().enumerate() {
        st.data[0x40 + 2 * k..0x42 + 2 * k].copy_from_slice(&w.to_le_bytes());
    }
    st.data[0x50..0x52].copy_from_slice(&0x037fu16.to_le_bytes());
    st.data[0x7c..0x80].copy_from_slice(&3u32.to_le_bytes());
    st.code = a.code;
    let (last, jit) = lockstep(&st, &[10_000, 1, 7, 3], 100_000, 2, "x87 fldcw");
    assert_eq!(last.exit, Exit::Syscall);
    assert!(jit.stats.insns_translated > 0);
}

/// The inline FMUL and FADD/FSUB/FSUBR(P) with zero operands against the
/// interpreter: zeros of both signs against each other and against
/// numbers of both signs, in the register, popping and m32fp/m64fp forms,
/// and what takes the call (a zero against a denormal, infinity or NaN; a
/// denormal in memory; round down, where +0 + -0 is -0), storing both
/// registers and the status word after each.
#[test]
fn x87_zero_operands_match_the_interpreter() {
    use common::asm::*;
    // Extended values at [EBX + 16k].
    let vals: [(u64, u16); 8] = [
        (0, 0),                  // 0: +0
        (0, 0x8000),             // 1: -0
        (3 << 62, 0x3fff),       // 2: 1.5
        (3 << 62, 0xc000),       // 3: -3
        (1, 0),                  // 4: a denormal
        (1 << 63, 0x7fff),       // 5: +infinity
        (3 << 62, 0x7fff),       // 6: a quiet NaN
        ((1 << 63) | 1, 0xbfff), // 7: -(1 + ulp)
    ];
    let pairs: [(i8, i8); 14] = [
        (0, 0),
        (0, 1),
        (1, 0),
        (1, 1),
        (0, 2),
        (2, 0),
        (1, 3),
        (3, 1),
        (7, 0),
        (1, 7),
        (0, 4),
        (5, 1),
        (0, 6),
        (2, 3),
    ];
    // Register forms (second byte of D8/DC/DE) and whether they pop.
    let reg_ops: [(u8, u8, bool); 12] = [
        (0xd8, 0xc9, false), // fmul st, st(1)
        (0xdc, 0xc9, false), // fmul st(1), st
        (0xde, 0xc9, true),  // fmulp
        (0xd8, 0xc1, false), // fadd st, st(1)
        (0xdc, 0xc1, false), // fadd st(1), st
        (0xde, 0xc1, true),  // faddp
        (0xd8, 0xe1, false), // fsub st, st(1)
        (0xd8, 0xe9, false), // fsubr st, st(1)
        (0xdc, 0xe1, false), // fsubr st(1), st
        (0xdc, 0xe9, false), // fsub st(1), st
        (0xde, 0xe1, true),  // fsubrp
        (0xde, 0xe9, true),  // fsubp
    ];
    let v = |i: i8| Rm::Mem(EBX, 16 * i);
    let mut a = Asm::default();
    let top = a.pos();
    // Records of 24 bytes, 20 a pair: up to DATA + 0x1f40.
    a.bytes(&[0xbf]).imm(32, DATA + 0x500); // mov edi, DATA + 0x500
    let record = |a: &mut Asm, pop: bool| {
        a.bytes(&[0xdf, 0xe0, 0x66, 0x89])
            .modrm(EAX, Rm::Mem(EDI, 20)); // fnstsw ax; mov
        a.bytes(&[0xdb]).modrm(7, Rm::Mem(EDI, 0)); // fstp tword [edi]
        if !pop {
            a.bytes(&[0xdb]).modrm(7, Rm::Mem(EDI, 10)); // fstp tword [edi+10]
        }
        a.bytes(&[0xdb, 0xe2, 0x83, 0xc7, 0x18]); // fnclex; add edi, 24
    };
    for (k, &(x, y)) in pairs.iter().enumerate() {
        // Every third pair under round down (the call).
        let cw: i8 = if k % 3 == 2 { 2 } else { 0 };
        a.bytes(&[0xd9]).modrm(5, Rm::Mem(ESI, 0x60 + cw)); // fldcw
        for &(op, modrm, pop) in &reg_ops {
            a.bytes(&[0xdb]).modrm(5, v(y)); // fld tword [y]
            a.bytes(&[0xdb]).modrm(5, v(x)); // fld tword [x]: ST(0) = x
            a.bytes(&[op, modrm]);
            record(&mut a, pop);
        }
        // fadd, fmul, fsub, fsubr with m64fp (DC) and m32fp (D8).
        let m = (k % 4) as i8;
        for (op, at) in [(0xdcu8, 8 * m), (0xd8, 0x40 + 4 * m)] {
            for r in [0u8, 1, 4, 5] {
                a.bytes(&[0xdb]).modrm(5, v(x));
                a.bytes(&[op]).modrm(r, Rm::Mem(ESI, at));
                record(&mut a, true);
            }
        }
        // fldcw: the default
        a.bytes(&[0xd9]).modrm(5, Rm::Mem(ESI, 0x60));
    }
    // dec dword [esi+0x7c]; jnz top; int 0x80
    a.bytes(&[0xff, 0x4e, 0x7c]);
    a.rel32(&[0x0f, 0x85], top);
    a.bytes(&[0xcd, 0x80]);
    let mut st = program(15, 0, 1);
    for (k, (sig, se)) in vals.iter().enumerate() {
        let at = 0x480 + 16 * k;
        st.data[at..at + 8].copy_from_slice(&sig.to_le_bytes());
        st.data[at + 8..at + 10].copy_from_slice(&se.to_le_bytes());
    }
    let doubles = [0.0f64, -0.0, 2.5, -0.0];
    for (k, d) in doubles.iter().enumerate() {
        st.data[8 * k..8 * k + 8].copy_from_slice(&d.to_le_bytes());
    }
    let floats = [-0.0f32, 0.0, 1e-40, -1.25];
    for (k, f) in floats.iter().enumerate() {
        st.data[0x40 + 4 * k..0x44 + 4 * k].copy_from_slice(&f.to_le_bytes());
    }
    st.data[0x60..0x62].copy_from_slice(&0x037fu16.to_le_bytes());
    st.data[0x62..0x64].copy_from_slice(&0x077fu16.to_le_bytes());
    st.data[0x7c..0x80].copy_from_slice(&3u32.to_le_bytes());
    st.regs[EBX as usize] = DATA + 0x480;
    st.code = a.code;
    let (last, jit) = lockstep(&st, &[10_000, 1, 7, 3], 200_000, 2, "x87 zero operands");
    assert_eq!(last.exit, Exit::Syscall);
    assert!(jit.stats.insns_translated > 0);
}

/// The inline FIST/FISTP/FISTTP (m16, m32, m64), FILD, FNSTCW and FNSTSW
/// against the interpreter, under each rounding control and with IE or PE
/// unmasked (which take the call): zeros of both signs, ties (.5 to even,
/// both signs), magnitudes below 1 and 1/2, denormals, the edges of each
/// width (a tie rounding past 32767, -32768.5, 2^31, -2^31, 2^63 - 1/2,
/// -2^63, 2^63), infinity, a NaN, an unnormal, exact values, storing the
/// integer, the status word (IE, PE, C1 after FXAM set it) and the
/// control word after each; then FILD of the extremes of each width and
/// into a full stack, and FXAM of every value and of an empty register.
#[test]
fn x87_integer_conversions_match_the_interpreter() {
    use common::asm::*;
    let vals: [(u64, u16); 28] = [
        (0, 0),                          // +0
        (0, 0x8000),                     // -0
        (3 << 62, 0x3fff),               // 1.5
        (5 << 61, 0x4000),               // 2.5
        (5 << 61, 0xc000),               // -2.5
        (3 << 62, 0xbfff),               // -1.5
        (1 << 63, 0x3ffe),               // 0.5
        (1 << 63, 0xbffe),               // -0.5
        (3 << 62, 0x3ffe),               // 0.75
        (1 << 63, 0x3ffd),               // 0.25
        (1, 0),                          // a denormal
        (1, 0x8000),                     // a negative denormal
        (0xffff << 48, 0x400d),          // 32767.5
        (0x10001 << 47, 0xc00e),         // -32768.5
        (1 << 63, 0x401e),               // 2^31
        (1 << 63, 0xc01e),               // -2^31
        (u64::MAX, 0x403d),              // 2^63 - 1/2
        (1 << 63, 0xc03e),               // -2^63
        (1 << 63, 0x403e),               // 2^63
        (1 << 63, 0x7fff),               // +infinity
        (3 << 62, 0x7fff),               // a quiet NaN
        (1 << 62, 0x3fff),               // an unnormal
        (0x9502_f900_0000_0000, 0x4020), // 10^10
        (0xcccc_cccc_cccc_cccd, 0x3ffb), // 0.1
        (0xf123_4567_89ab_cdef, 0xc010), // about -123456.8
        (3 << 62, 0x4000),               // 3
        (1 << 63, 0x7000),               // 2^12289
        (1 << 63, 0xc00e),               // -32768
    ];
    // (escape, reg): FIST m16/m32, FISTP m16/m32/m64, FISTTP m16/m32/m64.
    let ops: [(u8, u8); 8] = [
        (0xdf, 2),
        (0xdb, 2),
        (0xdf, 3),
        (0xdb, 3),
        (0xdf, 7),
        (0xdf, 1),
        (0xdb, 1),
        (0xdd, 1),
    ];
    // Every pass stores to the same place, so each record is also folded
    // into EDX (xor, rol 7 by dword): a difference persists to the state
    // compared at the end of a slice.
    let fold = |a: &mut Asm, dwords: u32| {
        a.bytes(&[0xb8]).imm(32, dwords.wrapping_neg()); // mov eax, -n
                                                         // xor edx, [edi+eax*4]; rol edx, 7; inc eax; jnz back
        a.bytes(&[0x33, 0x14, 0x87, 0xc1, 0xc2, 7, 0x40, 0x75, 0xf7]);
    };
    let mut a = Asm::default();
    let top = a.pos();
    a.bytes(&[0xbf]).imm(32, DATA + 0x800); // mov edi, DATA + 0x800
    a.bytes(&[0xbb]).imm(32, DATA + 0x400); // mov ebx, DATA + 0x400
                                            // mov eax, [esi+0x7c]; lea ecx, [esi+eax*2+0x60]
    a.bytes(&[0x8b, 0x46, 0x7c, 0x8d, 0x4c, 0x46, 0x60]);
    for _ in vals {
        for (esc, reg) in ops {
            a.bytes(&[0xdb, 0xe3]); // fninit
            a.bytes(&[0xd9]).modrm(5, Rm::Mem(ECX, 0)); // fldcw [ecx]
            a.bytes(&[0xdb]).modrm(5, Rm::Mem(EBX, 0)); // fld tword [ebx]
            a.bytes(&[0xd9, 0xe5]); // fxam: C1 = the sign
            a.bytes(&[esc]).modrm(reg, Rm::Mem(EDI, 0));
            a.bytes(&[0xdf, 0xe0, 0x66, 0x89])
                .modrm(EAX, Rm::Mem(EDI, 8)); // fnstsw ax; mov
            a.bytes(&[0xd9]).modrm(7, Rm::Mem(EDI, 10)); // fnstcw
            a.bytes(&[0xdd]).modrm(7, Rm::Mem(EDI, 12)); // fnstsw m16
            a.bytes(&[0x83, 0xc7, 16]); // add edi, 16
        }
        fold(&mut a, 32); // the 8 records just stored
        a.bytes(&[0x83, 0xc3, 16]); // add ebx, 16
    }
    // FILD m16/m32/m64 of the integers at [EBX].
    a.bytes(&[0xbb]).imm(32, DATA + 0x600); // mov ebx, DATA + 0x600
    let ilds: [(u8, u8, i8); 3] = [(0xdf, 0, 2), (0xdb, 0, 4), (0xdf, 5, 8)];
    for (j, (esc, reg, size)) in ilds.into_iter().enumerate() {
        for k in 0..8i8 {
            a.bytes(&[0xdb, 0xe3]); // fninit
            a.bytes(&[0xd9]).modrm(5, Rm::Mem(ECX, 0)); // fldcw [ecx]
            a.bytes(&[0xd9, 0xe8, 0xd9, 0xe5, 0xdd, 0xd8]); // fld1; fxam; fstp st(0)
            a.bytes(&[esc])
                .modrm(reg, Rm::Mem(EBX, 0x20 * j as i8 + size * k));
            a.bytes(&[0xdb]).modrm(7, Rm::Mem(EDI, 0)); // fstp tword [edi]
            a.bytes(&[0xdf, 0xe0, 0x66, 0x89])
                .modrm(EAX, Rm::Mem(EDI, 10)); // fnstsw ax; mov
            a.bytes(&[0x83, 0xc7, 12]); // add edi, 12
        }
    }
    fold(&mut a, 72);
    // FILD into a full stack: the masked stack overflow, by the call.
    a.bytes(&[0xdb, 0xe3]); // fninit
    for _ in 0..8 {
        a.bytes(&[0xd9, 0xe8]); // fld1
    }
    a.bytes(&[0xdf]).modrm(0, Rm::Mem(EBX, 2)); // fild word
    a.bytes(&[0xdf, 0xe0, 0x66, 0x89])
        .modrm(EAX, Rm::Mem(EDI, 0)); // fnstsw ax; mov
    a.bytes(&[0xdb]).modrm(7, Rm::Mem(EDI, 2)); // fstp tword
    a.bytes(&[0x83, 0xc7, 12]); // add edi, 12
                                // FXAM of each value, of an empty ST(0) and of -1.
    a.bytes(&[0xbb]).imm(32, DATA + 0x400); // mov ebx, DATA + 0x400
    for k in 0..=vals.len() + 1 {
        a.bytes(&[0xdb, 0xe3]); // fninit
        if k < vals.len() {
            a.bytes(&[0xdb]).modrm(5, Rm::Mem(EBX, 0)); // fld tword [ebx]
            a.bytes(&[0x83, 0xc3, 16]); // add ebx, 16
        } else if k > vals.len() {
            a.bytes(&[0xd9, 0xe8, 0xd9, 0xe0]); // fld1; fchs
        }
        a.bytes(&[0xd9, 0xe5]); // fxam
        a.bytes(&[0xdf, 0xe0, 0x66, 0x89])
            .modrm(EAX, Rm::Mem(EDI, 0)); // fnstsw ax; mov
        a.bytes(&[0x83, 0xc7, 2]); // add edi, 2
    }
    fold(&mut a, 15);
    // dec dword [esi+0x7c]; jnz top; int 0x80
    a.bytes(&[0xff, 0x4e, 0x7c]);
    a.rel32(&[0x0f, 0x85], top);
    a.bytes(&[0xcd, 0x80]);
    let mut st = program(15, 0, 1);
    for (k, (sig, se)) in vals.iter().enumerate() {
        let at = 0x400 + 16 * k;
        st.data[at..at + 8].copy_from_slice(&sig.to_le_bytes());
        st.data[at + 8..at + 10].copy_from_slice(&se.to_le_bytes());
    }
    let i16s: [i16; 8] = [0, 1, -1, i16::MAX, i16::MIN, 12345, -300, 2];
    let i32s: [i32; 8] = [0, -1, i32::MIN, i32::MAX, 3, 1 << 30, -77777, 1];
    let i64s: [i64; 8] = [
        0,
        i64::MIN,
        i64::MAX,
        -1,
        (1 << 53) + 1,
        -(1 << 40),
        0x1234_5678_9abc_def0,
        5,
    ];
    for k in 0..8 {
        let at = 0x600 + 2 * k;
        st.data[at..at + 2].copy_from_slice(&i16s[k].to_le_bytes());
        let at = 0x620 + 4 * k;
        st.data[at..at + 4].copy_from_slice(&i32s[k].to_le_bytes());
        let at = 0x640 + 8 * k;
        st.data[at..at + 8].copy_from_slice(&i64s[k].to_le_bytes());
    }
    // Control words by pass (8 down to 1): RC nearest, down, up, toward
    // zero; IE unmasked; PE unmasked; nearest and down again, translated
    // by then.
    let words: [u16; 8] = [
        0x077f, 0x037f, 0x035f, 0x037e, 0x0f7f, 0x0b7f, 0x077f, 0x037f,
    ];
    for (c, w) in (1..=8).zip(words) {
        st.data[0x60 + 2 * c..0x62 + 2 * c].copy_from_slice(&w.to_le_bytes());
    }
    st.data[0x7c..0x80].copy_from_slice(&8u32.to_le_bytes());
    st.code = a.code;
    let (last, jit) = lockstep(&st, &[10_000, 1, 7, 3], 200_000, 2, "x87 integers");
    assert_eq!(last.exit, Exit::Syscall);
    assert!(jit.stats.insns_translated > 0);
}
