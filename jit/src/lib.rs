//! Wax's JIT: guest pages translated to wasm, compiled by a wasm engine.
//!
//! - [`translate`]: x86 → wasm for one guest page (iced-x86 in,
//!   wasm-encoder out). Pure: no engine, no host; builds for wasm32.
//! - [`exec`]: the executor that picks interpreter or translated code per
//!   page, counts hot pages, caches modules by frame and drops them when
//!   their page is written.
//! - [`host`]: what translated code calls back into (the interpreter for
//!   one instruction, lazy-flag evaluation).
//! - [`engine`]: the [`Engine`] implementations (wasmtime natively, behind
//!   the `wasmtime` feature).
//!
//! The interpreter defines the semantics; everything here is tested
//! against it instruction for instruction (`tests/lockstep.rs`).
//!
//! Use (natively): the engine owns machine memory, so the machine comes
//! from it, and the executor replaces `wax_cpu::run` for that machine:
//!
//! ```no_run
//! # #[cfg(feature = "wasmtime")] {
//! use wax_jit::{engine::wasmtime::Wasmtime, Config, Jit};
//! let (engine, mut machine) = Wasmtime::new(256 << 20).unwrap();
//! let mut jit = Jit::new(engine, Config::default());
//! let mut space = machine.new_space().unwrap();
//! let mut cache = wax_cpu::DecodeCache::new();
//! // ... map and load a program, set up the CPU slot ...
//! let r = jit.run(&mut machine, &mut space, &mut cache, 200_000);
//! # }
//! ```
//!
//! `Jit::run` stops at a system call or exception exactly like the
//! interpreter (same `RunResult`, same CPU state, same count), and after
//! exactly `budget` instructions otherwise. It drains the address space's
//! code changes itself (dropping decoded blocks and translations), so the
//! kernel must not drain them between runs; address spaces, page tables
//! and frames may be freed and reused freely (modules are checked against
//! the page bytes once per call).

pub mod engine;
pub mod exec;
pub mod host;
pub mod memo;
pub mod profile;
pub mod step;
pub mod translate;
pub mod x87;

pub use exec::{Config, Jit, PageKey, Stats};
pub use host::Host;
pub use translate::{translate_page, translate_page_ran, Options, Translation};

/// A wasm engine that compiles translated pages and runs them against
/// machine memory.
pub trait Engine {
    /// A compiled page.
    type Module;

    /// How modules for this engine must be translated.
    fn options(&self) -> Options;

    /// How modules for the engine's first tier must be translated, if it
    /// has one: a cheaper compiler whose modules run slower, compiled in
    /// the background only ([`Engine::start_compile`] with `first`).
    /// Such modules do not link ([`Options::link`] is false), and no
    /// link may lead into them: the executor records no link-table entry
    /// for them.
    fn first_tier(&self) -> Option<Options> {
        None
    }

    /// Compiles a translated module.
    fn compile(&mut self, wasm: &[u8]) -> Result<Self::Module, EngineError>;

    /// Starts compiling `wasm` without waiting for it, as job `job`, with
    /// the first tier's compiler if `first` (`wasm` was then translated
    /// with [`Engine::first_tier`]'s options); the module comes back from
    /// [`Engine::finished`]. An engine that only compiles synchronously
    /// (the JS one: V8 compiles lazily anyway) hands the bytes back, and
    /// the caller calls [`Engine::compile`] (never for the first tier).
    fn start_compile(&mut self, job: u64, wasm: Vec<u8>, first: bool) -> Result<(), Vec<u8>> {
        let _ = (job, first);
        Err(wasm)
    }

    /// A job [`Engine::start_compile`] began that has finished: the job,
    /// the module (or why it failed) and the time compiling took in ns.
    /// Cheap to call when nothing has finished. With `wait`, blocks until
    /// a job finishes (None only if none is running).
    fn finished(&mut self, wait: bool) -> Option<Compiled<Self::Module>> {
        let _ = wait;
        None
    }

    /// Whether [`Engine::finished`] (without waiting) may have a job to
    /// hand back; cheap, for the executor's interpreted loop, which
    /// leaves its shortcut only then.
    fn any_finished(&self) -> bool {
        true
    }

    /// [`Engine::finished`], waiting at most `ns` nanoseconds for a job to
    /// finish.
    fn finished_within(&mut self, ns: u64) -> Option<Compiled<Self::Module>> {
        let _ = ns;
        self.finished(false)
    }

    /// A monotonic clock in nanoseconds, for the compile-time counter
    /// (`std::time::Instant` panics on wasm32-unknown-unknown, so the
    /// engine, which knows its host, supplies it). 0 where there is none.
    fn now_ns(&self) -> u64 {
        0
    }

    /// The module of a translation whose inputs digest to `input`
    /// (`memo.rs`), compiled by this or an earlier run and noted with
    /// [`Engine::note`], with the record noted then; None if the engine
    /// keeps no such thing (or no longer has the module).
    fn recall(&mut self, input: &memo::Input) -> Option<(Vec<u8>, Self::Module)> {
        let _ = input;
        None
    }

    /// Notes that the translation with inputs `input` is `wasm`, with the
    /// executor's `record` of it, for [`Engine::recall`] in later runs
    /// (once `wasm` has been compiled).
    fn note(&mut self, input: &memo::Input, wasm: &[u8], record: &[u8]) {
        let _ = (input, wasm, record);
    }

    /// Another handle on `module`, to cache for a second frame that holds
    /// the same page at the same address; None if the engine cannot make
    /// one (the page is then translated anew).
    fn twin(&mut self, module: &Self::Module) -> Option<Self::Module> {
        let _ = module;
        None
    }

    /// The engine's own counters for `--stats` (a compiled-code cache's
    /// hits, say).
    fn stats(&self) -> Vec<(&'static str, u64)> {
        Vec::new()
    }

    /// Calls the module's `run(block, slot)`; its imports call `host`.
    /// `slot` is the module's slot in the link table, which the executor
    /// assigns (unique among live modules): with [`Options::link`] the
    /// engine makes the module callable there (`wax.links`) before it
    /// runs, and if it has to empty that table (a new store) it calls
    /// [`Host::drop_links`]. Returns the exit code
    /// (`wax_cpu::abi::ExitCode`), or an error if the engine trapped (a
    /// translator bug).
    fn run(
        &mut self,
        module: &mut Self::Module,
        block: u32,
        slot: u32,
        host: &mut Host,
    ) -> Result<u32, EngineError>;
}

/// A module compiled in the background (see [`Engine::start_compile`]).
pub struct Compiled<M> {
    pub job: u64,
    pub module: Result<M, EngineError>,
    pub ns: u64,
}

/// A failure of the wasm engine itself (not of the guest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineError(pub String);

impl std::fmt::Display for EngineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "wasm engine: {}", self.0)
    }
}

impl std::error::Error for EngineError {}
