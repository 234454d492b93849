//! The on-disk cache of compiled modules: a second engine loads what the
//! first compiled, and the loaded code runs exactly like the interpreter.

mod common;

use common::asm::Asm;
use common::progs::program;
use common::*;
use std::path::PathBuf;
use wax_cpu::Exit;
use wax_jit::engine::wasmtime::Tuning;
use wax_jit::{Config, Engine};

/// A fresh scratch directory for the test `name`: the directory, the
/// code cache in it and the profile in it.
fn scratch(name: &str) -> (PathBuf, PathBuf, PathBuf) {
    let base = std::env::temp_dir().join(format!("wax-jit-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let (dir, profile) = (base.join("cache"), base.join("hot-pages"));
    (base, dir, profile)
}

/// Runs `j` and the interpreter on `st` in lockstep, in slices, until
/// the program leaves (how it left is returned).
fn to_the_end(j: &mut JitRig, st: &Setup, what: &str) -> Exit {
    let mut r = RefRig::new(st);
    loop {
        let (rj, rr) = (j.run(777), r.run(777));
        assert_eq!(rj, rr, "{what}");
        assert_eq!(j.snap(), r.snap(), "{what}");
        if rj.exit != Exit::BudgetSpent {
            return rj.exit;
        }
    }
}

/// Runs `seed`'s random loop on a JIT whose cache is `dir`, in lockstep
/// with the oracle; returns (cache hits, cache writes).
fn run(seed: u64, dir: &std::path::Path) -> (u64, u64) {
    let st = program(seed, 24, 300);
    // Every reachable block translated at once: programs that fault
    // early would otherwise end before any module that covers them runs.
    let config = Config {
        threshold: 2,
        max_stepped_percent: 100,
        only_code_that_ran: false,
        ..Config::default()
    };
    let mut j = JitRig::tuned(&st, config, Tuning::default());
    j.jit
        .engine()
        .set_disk_cache(Some(dir.to_path_buf()), 64 << 20);
    to_the_end(&mut j, &st, &format!("seed {seed}"));
    assert!(j.jit.stats.insns_translated > 0, "{:?}", j.jit.stats);
    let stats = j.jit.engine().stats();
    let stat = |name| stats.iter().find(|s| s.0 == name).map_or(0, |s| s.1);
    (stat("code cache hits"), stat("code cache writes"))
}

#[test]
fn a_cached_module_runs_like_a_compiled_one() {
    let dir = std::env::temp_dir().join(format!("wax-jit-disk-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for seed in 0..4 {
        let (hits, writes) = run(seed, &dir);
        assert!(
            writes > 0 && hits == 0,
            "cold: {hits} hits, {writes} writes"
        );
        let (hits, writes) = run(seed, &dir);
        assert!(
            hits > 0 && writes == 0,
            "warm: {hits} hits, {writes} writes"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs `seed`'s random loop with the profile at `profile` and the code
/// cache in `dir`, in lockstep with the oracle; the threshold is out of
/// reach, so only the profile makes modules. With `background`, pages
/// are compiled on the engine's thread (the profile's pages when it is
/// idle) and the compiles in flight are waited for at the end. Returns
/// (pages remembered, pages translated from the profile, cache hits,
/// cache writes).
fn run_profiled(
    seed: u64,
    dir: &std::path::Path,
    profile: &std::path::Path,
    background: bool,
) -> [u64; 4] {
    let st = program(seed, 24, 300);
    let config = Config {
        threshold: u32::MAX,
        remember_after: 50,
        profile_after: 0,
        max_stepped_percent: 100,
        background,
        ..Config::default()
    };
    let mut j = JitRig::tuned(&st, config, Tuning::default());
    j.jit
        .engine()
        .set_disk_cache(Some(dir.to_path_buf()), 64 << 20);
    j.jit
        .set_profile(wax_jit::profile::Profile::open(profile.to_path_buf()));
    to_the_end(&mut j, &st, &format!("seed {seed}"));
    j.jit.settle();
    let stats = j.jit.engine().stats();
    let stat = |name| stats.iter().find(|s| s.0 == name).map_or(0, |s| s.1);
    let s = j.jit.stats;
    [
        s.pages_remembered,
        s.pages_from_profile,
        stat("code cache hits"),
        stat("code cache writes"),
    ]
}

#[test]
fn pages_warm_in_one_run_are_translated_at_first_entry_in_the_next() {
    let (base, dir, profile) = scratch("profile");
    let run_profiled = |seed, dir: &std::path::Path, profile: &std::path::Path| {
        run_profiled(seed, dir, profile, false)
    };
    let mut any = false;
    for seed in 0..4 {
        let [remembered, from_profile, _, writes] = run_profiled(seed, &dir, &profile);
        if remembered == 0 {
            // The program ended before any page ran warm.
            assert_eq!(from_profile + writes, 0);
            continue;
        }
        any = true;
        // The next run translates them at once (and the lockstep run
        // checks the modules), compiling them into the cache...
        let [_, from_profile, _, writes] = run_profiled(seed, &dir, &profile);
        assert!(
            from_profile > 0 && writes > 0,
            "seed {seed}: {from_profile} pages from the profile, {writes} writes"
        );
        // ...where the run after finds every one of them.
        let [_, again, hits, writes] = run_profiled(seed, &dir, &profile);
        assert!(
            again == from_profile && hits > 0 && writes == 0,
            "seed {seed}: {again} pages from the profile, {hits} hits, {writes} writes"
        );
    }
    assert!(any, "no program ran a page warm");
    let _ = std::fs::remove_dir_all(&base);
}

/// With compiles in the background, the profile's pages go to the
/// compiler when it is idle, a share of the run's time at a time: the
/// second run compiles at least one of them, the third finds what the
/// second compiled in the cache; every module runs in lockstep with the
/// interpreter.
#[test]
fn background_runs_compile_the_profile_s_pages_when_the_compiler_is_idle() {
    let (base, dir, profile) = scratch("profile-bg");
    let mut any = false;
    for seed in 0..4 {
        let [remembered, ..] = run_profiled(seed, &dir, &profile, true);
        if remembered == 0 {
            continue;
        }
        any = true;
        let [_, from_profile, _, writes] = run_profiled(seed, &dir, &profile, true);
        assert!(
            from_profile > 0 && writes > 0,
            "seed {seed}: {from_profile} pages from the profile, {writes} writes"
        );
        let [_, _, hits, _] = run_profiled(seed, &dir, &profile, true);
        assert!(hits > 0, "seed {seed}: no cache hits in the third run");
    }
    assert!(any, "no program ran a page warm");
    let _ = std::fs::remove_dir_all(&base);
}

/// Runs `seed`'s random loop like [`run_profiled`] (in the foreground),
/// with modules of the profile's pages recalled from the memo of
/// translations at first entry; returns the executor's counters and the
/// engine's (code cache hits, modules recalled without translating).
fn run_recalled(
    seed: u64,
    dir: &std::path::Path,
    profile: &std::path::Path,
) -> (wax_jit::Stats, u64, u64) {
    let st = program(seed, 24, 300);
    let config = Config {
        threshold: u32::MAX,
        remember_after: 50,
        profile_after: 0,
        recall_after: 0,
        recall_from: 0,
        max_stepped_percent: 100,
        ..Config::default()
    };
    let mut j = JitRig::tuned(&st, config, Tuning::default());
    j.jit
        .engine()
        .set_disk_cache(Some(dir.to_path_buf()), 64 << 20);
    j.jit
        .set_profile(wax_jit::profile::Profile::open(profile.to_path_buf()));
    to_the_end(&mut j, &st, &format!("seed {seed}"));
    let stats = j.jit.engine().stats();
    let stat = |name| stats.iter().find(|s| s.0 == name).map_or(0, |s| s.1);
    (
        j.jit.stats,
        stat("code cache hits"),
        stat("code cache: modules recalled without translating"),
    )
}

/// The third run of a program takes the modules of the profile's pages
/// from the memo of translations without translating them (the second
/// translated and noted them), and they run in lockstep with the
/// interpreter like the modules they are.
#[test]
fn the_memo_gives_the_profile_s_modules_without_translating() {
    let (base, dir, profile) = scratch("memo");
    let mut any = false;
    for seed in 0..4 {
        let (first, ..) = run_recalled(seed, &dir, &profile);
        if first.pages_remembered == 0 {
            continue;
        }
        any = true;
        let (second, _, recalled) = run_recalled(seed, &dir, &profile);
        assert!(
            second.pages_from_profile > 0 && recalled == 0,
            "seed {seed}: {second:?}, {recalled} recalled"
        );
        let (third, hits, recalled) = run_recalled(seed, &dir, &profile);
        assert!(
            third.pages_recalled > 0 && recalled == third.pages_recalled && hits >= recalled,
            "seed {seed}: {third:?}, {hits} hits, {recalled} recalled"
        );
    }
    assert!(any, "no program ran a page warm");
    let _ = std::fs::remove_dir_all(&base);
}

/// Runs `st` with `config`, the code cache in `dir` and the profile at
/// `profile`, in lockstep with the oracle, to its `int 0x80`; returns the
/// executor's counters.
fn run_to_its_end(
    st: &Setup,
    config: Config,
    dir: &std::path::Path,
    profile: &std::path::Path,
    what: &str,
) -> wax_jit::Stats {
    let mut j = JitRig::tuned(st, config, Tuning::default());
    j.jit
        .engine()
        .set_disk_cache(Some(dir.to_path_buf()), 64 << 20);
    j.jit
        .set_profile(wax_jit::profile::Profile::open(profile.to_path_buf()));
    let end = to_the_end(&mut j, st, what);
    assert_eq!(end, Exit::Syscall, "the program runs to its end");
    j.jit.stats
}

/// The head of the profile tests' outer loop: an inner loop of 200
/// rounds, then C (a loop of 20) once the round count at [esi+0x7c] is
/// below 300, that is after the first 100 of 400 rounds. Returns where
/// the outer loop starts.
fn inner_loop_then_c(a: &mut Asm) -> usize {
    let outer = a.pos();
    a.bytes(&[0xb9]).imm(32, 200); // mov ecx, 200
    let inner = a.pos();
    a.bytes(&[0x01, 0xc8, 0x49]); // add eax, ecx; dec ecx
    a.rel32(&[0x0f, 0x85], inner); // jnz inner
    a.bytes(&[0x81, 0x7e, 0x7c]).imm(32, 300); // cmp dword [esi+0x7c], 300
    let skip_c = a.jcc_fwd(0x3); // jae skip_c
    a.bytes(&[0xb9]).imm(32, 20); // C: mov ecx, 20
    let c_loop = a.pos();
    a.bytes(&[0x01, 0xca, 0x49]); // add edx, ecx; dec ecx
    a.rel32(&[0x0f, 0x85], c_loop); // jnz c_loop
    a.fix(skip_c);
    outer
}

/// A page translated from the profile and then entered at an EIP the
/// profile did not know (an indirect jump to code the first run never
/// took) is translated again with its blocks and the new entry: not from
/// this run's entries and the blocks the interpreter ran alone, which
/// would drop the blocks only the module ran (here C, which runs only
/// after the first 100 rounds) and miss them in turn.
#[test]
fn a_page_of_the_profile_translated_again_keeps_its_blocks() {
    let (base, dir, profile) = scratch("profile-keep");
    let at = CODE + 0x100;
    let mut a = Asm::default();
    let outer = inner_loop_then_c(&mut a);
    a.bytes(&[0x83, 0x7e, 0x78, 0x00]); // cmp dword [esi+0x78], 0
    let skip = a.jcc_fwd(0x4); // je skip
    let b_imm = a.pos() + 1;
    a.bytes(&[0xbf]).imm(32, 0); // mov edi, B
    a.bytes(&[0xff, 0xe7]); // jmp edi
    let b = a.pos();
    a.code[b_imm..b_imm + 4].copy_from_slice(&(at + b as u32).to_le_bytes());
    a.bytes(&[0xb9]).imm(32, 20); // B: mov ecx, 20
    let b_loop = a.pos();
    a.bytes(&[0x01, 0xcb, 0x49]); // add ebx, ecx; dec ecx
    a.rel32(&[0x0f, 0x85], b_loop); // jnz b_loop
    a.fix(skip);
    a.bytes(&[0xff, 0x4e, 0x7c]); // dec dword [esi+0x7c]
    a.rel32(&[0x0f, 0x85], outer); // jnz outer
    a.bytes(&[0xcd, 0x80]);
    let run = |take_b: bool| {
        let mut st = program(11, 0, 400);
        st.code = a.code.clone();
        st.code_at = at;
        st.data[0x78..0x7c].copy_from_slice(&u32::from(take_b).to_le_bytes());
        let config = Config {
            threshold: u32::MAX,
            // Remembered once C has run (after 100 rounds of ~620).
            remember_after: 100_000,
            profile_after: 0,
            retranslate: 2000,
            max_stepped_percent: 100,
            ..Config::default()
        };
        run_to_its_end(&st, config, &dir, &profile, &format!("take_b {take_b}"))
    };
    let first = run(false);
    assert_eq!(first.pages_remembered, 1, "{first:?}");
    let s = run(true);
    assert_eq!(s.pages_from_profile, 1, "{s:?}");
    // The profile's module, and one translation that adds B (and the
    // loop running when the module came) and keeps C. Without keeping the
    // module's blocks, C was dropped, missed in its turn and translated
    // once more (3 modules, 162 misses against 2 and 66).
    assert_eq!(s.modules_compiled, 2, "{s:?}");
    assert!(s.misses < 100, "{} misses: {s:?}", s.misses);
    let _ = std::fs::remove_dir_all(&base);
}

/// A page the profile knows, that runs `remember_after` instructions
/// before `profile_after` in a later run, keeps the profile's hint: the
/// hint of what ran so far (the loop, not C, which runs only after the
/// first 100 rounds) used to replace it, so the module from the profile
/// missed C in that run and every later one (with the remember threshold
/// below the profile's, `ls -lR` interpreted 2.5 M instructions a run
/// instead of 1.7 M).
#[test]
fn remembering_a_page_again_keeps_the_profile_s_hint() {
    let (base, dir, profile) = scratch("profile-hint");
    let at = CODE + 0x100;
    let mut a = Asm::default();
    let outer = inner_loop_then_c(&mut a);
    a.bytes(&[0xff, 0x4e, 0x7c]); // dec dword [esi+0x7c]
    a.rel32(&[0x0f, 0x85], outer); // jnz outer
    a.bytes(&[0xcd, 0x80]);
    let run = |remember_after: u32, profile_after: u32| {
        let mut st = program(11, 0, 400);
        st.code = a.code.clone();
        st.code_at = at;
        let config = Config {
            threshold: u32::MAX,
            remember_after,
            profile_after,
            max_stepped_percent: 100,
            ..Config::default()
        };
        run_to_its_end(&st, config, &dir, &profile, "a loop, then C")
    };
    // Remembered once C has run (after 100 rounds of ~620 instructions).
    let first = run(100_000, 0);
    assert_eq!(first.pages_remembered, 1, "{first:?}");
    // Remembered again after 1,000, translated from the profile after
    // 20,000, both before C runs.
    for round in 2..4 {
        let s = run(1_000, 20_000);
        assert_eq!(s.pages_from_profile, 1, "run {round}: {s:?}");
        // At most the loop running when the module came, entered
        // mid-way (without the fix: 5,981 misses, C's every round).
        assert!(s.misses <= 1, "run {round}: {s:?}");
    }
    let _ = std::fs::remove_dir_all(&base);
}

/// A page whose module keeps leaving where a reused page lookup finds
/// another page (`Options::reuse_pages`: a structure across a page
/// boundary, read every round) is translated again without the reuse
/// even when it came from the profile and runs only translated, where
/// its heat never reaches the threshold, and the profile remembers that:
/// the next run's module from the profile has no reuse from the start.
/// (Before, `ls -lR /usr` left 188 K times this way in every run.)
#[test]
fn a_profile_page_that_keeps_missing_its_reused_lookups_is_translated_without_them() {
    let (base, dir, profile) = scratch("no-reuse");
    let mut a = Asm::default();
    let top = a.pos();
    a.bytes(&[0x8b, 0x03]); // mov eax, [ebx]
    a.bytes(&[0x03, 0x43, 0x08]); // add eax, [ebx+8]
    a.bytes(&[0x89, 0x43, 0x04]); // mov [ebx+4], eax
    a.bytes(&[0x49]); // dec ecx
    a.rel32(&[0x0f, 0x85], top); // jnz top
    a.bytes(&[0xcd, 0x80]); // int 0x80
    let run = || {
        let mut st = program(29, 0, 1);
        st.code = a.code.clone();
        st.code_at = CODE + 0x100;
        st.regs[common::asm::ECX as usize] = 3000;
        // [EBX] at the end of the first data page, [EBX+4] and [EBX+8]
        // in the second.
        st.regs[common::asm::EBX as usize] = DATA + 0xffc;
        let config = Config {
            threshold: u32::MAX,
            remember_after: 50,
            profile_after: 0,
            max_stepped_percent: 100,
            ..Config::default()
        };
        run_to_its_end(&st, config, &dir, &profile, "a structure across pages")
    };
    let first = run();
    assert_eq!(first.pages_remembered, 1, "{first:?}");
    let second = run();
    assert_eq!(second.pages_from_profile, 1, "{second:?}");
    assert_eq!(second.pages_without_reuse, 1, "{second:?}");
    let limit = u64::from(wax_jit::exec::REUSE_MISS_LIMIT);
    assert!(
        second.slow_exits >= limit && second.slow_exits < 2 * limit,
        "{second:?}"
    );
    let third = run();
    assert_eq!(third.pages_from_profile, 1, "{third:?}");
    assert_eq!(third.pages_without_reuse, 0, "{third:?}");
    assert_eq!(third.slow_exits, 0, "{third:?}");
    let _ = std::fs::remove_dir_all(&base);
}
