//! The on-disk cache of compiled modules: a second engine loads what the
//! first compiled, and the loaded code runs exactly like the interpreter.

mod common;

use common::progs::program;
use common::*;
use wax_cpu::Exit;
use wax_jit::engine::wasmtime::Tuning;
use wax_jit::{Config, Engine};

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
    let mut r = RefRig::new(&st);
    loop {
        let (rj, rr) = (j.run(777), r.run(777));
        assert_eq!(rj, rr, "seed {seed}");
        assert_eq!(j.snap(), r.snap(), "seed {seed}");
        if rj.exit != Exit::BudgetSpent {
            break;
        }
    }
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
    let mut r = RefRig::new(&st);
    loop {
        let (rj, rr) = (j.run(777), r.run(777));
        assert_eq!(rj, rr, "seed {seed}");
        assert_eq!(j.snap(), r.snap(), "seed {seed}");
        if rj.exit != Exit::BudgetSpent {
            break;
        }
    }
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
    let base = std::env::temp_dir().join(format!("wax-jit-profile-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let (dir, profile) = (base.join("cache"), base.join("hot-pages"));
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
    let base = std::env::temp_dir().join(format!("wax-jit-profile-bg-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let (dir, profile) = (base.join("cache"), base.join("hot-pages"));
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
