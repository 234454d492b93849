//! Which executor runs guest code: `--engine interp|jit` (or `WAX_ENGINE`).
//!
//! The JIT (wax-jit on wasmtime, the default) translates hot guest pages
//! to wasm and runs everything else in the interpreter; it owns machine
//! memory, so it builds the machine the kernel runs on. Beside the code
//! cache it keeps the profile of pages that ran warm (`hot-pages`), which
//! later runs translate at their first entry.

use wax_kernel::{Config, Host, Kernel};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum EngineKind {
    /// Every instruction in the interpreter.
    Interp,
    /// Hot pages translated to wasm and compiled by wasmtime.
    Jit,
}

/// The JIT's settings on the command line (`wax run`, `wax shell`).
#[derive(clap::Args, Clone, Debug, Default)]
pub struct JitArgs {
    /// JIT: instructions the interpreter runs in a page before the page is
    /// translated whatever its size (lower compiles more, and sooner; by
    /// default 16 M, smaller pages sooner by their size; 2 M with
    /// `WAX_JIT_BACKGROUND=0`).
    #[arg(long, value_name = "N", env = "WAX_JIT_THRESHOLD")]
    pub jit_threshold: Option<u32>,
    /// JIT: neither use nor fill the on-disk cache of compiled modules and
    /// its profile of hot pages (by default in `$XDG_CACHE_HOME/wax/jit`,
    /// or where `WAX_CODE_CACHE` says; `WAX_CODE_CACHE=off` does the same).
    #[arg(long)]
    pub no_code_cache: bool,
}

/// A kernel whose guest code runs on `kind`, with the JIT set up as
/// `jit` says.
pub fn kernel(
    host: Host,
    config: Config,
    kind: EngineKind,
    jit: &JitArgs,
) -> Result<Kernel, String> {
    match kind {
        EngineKind::Interp => Ok(Kernel::new(host, config)),
        EngineKind::Jit => {
            use wax_jit::engine::wasmtime::{Tuning, Wasmtime};
            let quick = env_number("WAX_JIT_QUICK_COMPILE").is_some_and(|v| v != 0);
            let tuning = Tuning {
                inline_checks: env_number("WAX_JIT_INLINE_CHECKS") != Some(0),
                optimize: !quick,
                single_pass_regalloc: quick,
                first_tier: env_number("WAX_JIT_FIRST_TIER") != Some(0),
                ..Tuning::default()
            };
            let (mut engine, machine) = Wasmtime::with_tuning(config.memory, tuning)
                .map_err(|e| format!("cannot start the JIT: {e}"))?;
            let cache_dir = code_cache_dir().filter(|_| !jit.no_code_cache);
            engine.set_disk_cache(cache_dir.clone(), CODE_CACHE_BYTES);
            let mut jit_config = if env_number("WAX_JIT_BACKGROUND") != Some(0) {
                wax_jit::Config::with_background()
            } else {
                wax_jit::Config::default()
            };
            if let Some(t) = jit.jit_threshold {
                jit_config.threshold = t.max(1);
            }
            if let Some(v) = env_number("WAX_JIT_EARLY") {
                jit_config.early = v.max(1);
            }
            if let Some(v) = env_number("WAX_JIT_EARLY_PER_INSN") {
                jit_config.early_per_insn = v;
            }
            if let Some(v) = env_number("WAX_JIT_TIER_UP_PER_INSN") {
                jit_config.tier_up_per_insn = v.into();
            }
            if let Some(v) = env_number("WAX_JIT_TIER_UP_MIN") {
                jit_config.tier_up_min = v.into();
            }
            if let Some(v) = env_number("WAX_JIT_RETRANSLATE") {
                jit_config.retranslate = v.max(1);
            }
            if let Some(v) = env_number("WAX_JIT_RECALL_AFTER") {
                jit_config.recall_after = v;
            }
            if let Some(v) = env_number("WAX_JIT_PROFILE_AFTER") {
                jit_config.profile_after = v;
            }
            if let Some(v) = env_number("WAX_JIT_REMEMBER_AFTER") {
                jit_config.remember_after = v;
            }
            if let Some(v) = env_number("WAX_JIT_EXTEND_AFTER") {
                jit_config.extend_after = v;
            }
            let mut jit = wax_jit::Jit::new(engine, jit_config);
            if let Some(dir) = cache_dir {
                jit.set_profile(wax_jit::profile::Profile::open(dir.join("hot-pages")));
            }
            Ok(Kernel::with_executor(host, config, machine, Box::new(jit)))
        }
    }
}

/// A tuning knob from the environment (for measurements and tests):
/// `WAX_JIT_BACKGROUND=0` (compile on the guest's thread,
/// stopping it, instead of on a background thread), `WAX_JIT_QUICK_COMPILE=1` (Cranelift without
/// optimisations and with its single-pass register allocator: compiles
/// ~4x faster, code ~1.8x slower), `WAX_JIT_INLINE_CHECKS=0` (page-table
/// checks as calls to one small function per access size: modules 20 %
/// smaller and compiled 20 % faster, python's loop 1.4x slower);
/// `WAX_JIT_EARLY`, `WAX_JIT_EARLY_PER_INSN`, `WAX_JIT_RETRANSLATE`,
/// `WAX_JIT_RECALL_AFTER`, `WAX_JIT_PROFILE_AFTER`,
/// `WAX_JIT_REMEMBER_AFTER` and `WAX_JIT_EXTEND_AFTER` set the `wax_jit::Config` fields of those
/// names (`early`, ...), and `WAX_JIT_TRACE` logs each translation and compile
/// on stderr.
fn env_number(name: &str) -> Option<u32> {
    std::env::var(name).ok()?.parse().ok()
}

/// Bound of the on-disk cache of compiled modules.
const CODE_CACHE_BYTES: u64 = 512 << 20;

/// Where the JIT keeps compiled modules between runs: `WAX_CODE_CACHE`
/// names a directory, or `off` (or empty) disables the cache; by default
/// `$XDG_CACHE_HOME/wax/jit` or `~/.cache/wax/jit`. A directory that
/// cannot be written just leaves the cache off.
fn code_cache_dir() -> Option<std::path::PathBuf> {
    match std::env::var_os("WAX_CODE_CACHE") {
        Some(v) if v.is_empty() || v == "off" || v == "0" => None,
        Some(v) => Some(v.into()),
        None => wax_jit::engine::disk_cache::default_dir(),
    }
}

/// `--stats`: what ran the guest, on stderr at exit.
pub fn print_stats(kernel: &Kernel) {
    let executor = kernel.executor();
    eprintln!("wax: engine: {}", executor.name());
    eprintln!("wax: guest instructions: {}", kernel.instructions());
    for (what, n) in executor.stats() {
        eprintln!("wax: {what}: {n}");
    }
}
