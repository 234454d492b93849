//! The native engine: wasmtime with Cranelift.
//!
//! Machine memory is a wasmtime `SharedMemory` created here and handed to
//! the CPU as its region (`Region::from_external`): the interpreter and
//! translated code use the same bytes, and since a shared memory belongs to
//! the engine rather than to a store, stores can be recycled (a store never
//! frees its instances) while the memory stays. A 4 GiB reservation plus
//! guard lets Cranelift drop bounds checks on 32-bit addresses.
//!
//! Compiler choices measured with wasmtime 48 (2026-12, 2-core Xeon):
//! Winch compiles about 10-20 times faster than Cranelift but has no tail
//! calls, so its pages cannot link, and its code runs about 2x slower.
//! Cranelift's single-pass register allocator compiles 1.7x faster but
//! halves the code's speed. Hence two tiers (`Tuning::first_tier`): a page
//! is first compiled by a Winch engine, and again by Cranelift once it has
//! run enough in Winch's code (the executor decides, `Config::tier_up`),
//! each engine on a background thread of its own. A shared memory cannot
//! be imported into another engine's store ("cross-engine"), so the Winch
//! engine's stores get a plain memory over the same bytes through a
//! `MemoryCreator` (`Borrowed`: the Cranelift engine's shared memory,
//! which never moves and is reserved with the same 4 GiB and guard the
//! Winch engine assumes); its modules import it as a plain memory and do
//! not link ([`Engine::first_tier`]).

use super::disk_cache::DiskCache;
use crate::host::Host;
use crate::{Compiled, Engine, EngineError, Options};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use wasmtime::{
    Caller, Config, LinearMemory, Linker, MemoryCreator, MemoryType, OptLevel, Ref, RefType,
    RegallocAlgorithm, SharedMemory, Store, Strategy, Table, TableType, TypedFunc,
};
use wax_cpu::mem::Region;
use wax_cpu::Machine;

/// Compiler settings (measured trade-offs between compile time and speed;
/// see `examples/pages.rs` and `examples/speed.rs`).
#[derive(Clone, Copy, Debug)]
pub struct Tuning {
    /// Page-table checks inline rather than one call per access.
    pub inline_checks: bool,
    /// Cranelift's optimisations.
    pub optimize: bool,
    /// Cranelift's linear-time register allocator.
    pub single_pass_regalloc: bool,
    /// Instances per store before the store is replaced (a store never
    /// frees its instances; modules are instantiated again on next use).
    pub max_instances: usize,
    /// Translated code jumps from page to page through the link table
    /// ([`Options::link`]).
    pub link: bool,
    /// A first tier: pages are compiled by Winch first (with a background
    /// compiler only), by Cranelift once they stay hot.
    pub first_tier: bool,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            // Measured on python3's bytecode loop: 28 % less CPU time
            // for 23 % more wasm and compile time (gcc's cold compile of a
            // small file, mostly compile time, ~5 % more CPU).
            inline_checks: true,
            optimize: true,
            single_pass_regalloc: false,
            max_instances: 4096,
            link: true,
            first_tier: true,
        }
    }
}

/// What the imports reach during one `run`.
struct Data {
    host: *mut Host,
}

pub struct Wasmtime {
    engine: wasmtime::Engine,
    tuning: Tuning,
    memory: SharedMemory,
    store: Store<Data>,
    linker: Linker<Data>,
    /// `wax.links`: every instantiated module's `run` at its slot (one
    /// table per store, so a new store starts with an empty one).
    links: Table,
    generation: u64,
    instances: usize,
    /// The Winch engine of the first tier (`Tuning::first_tier`), made
    /// for its first compile.
    first: Option<FirstTier>,
    /// Origin of [`Engine::now_ns`].
    epoch: std::time::Instant,
    /// Shared with the background compiler.
    disk: Arc<Mutex<Option<DiskCache>>>,
    /// The background compilers.
    worker: Worker,
    /// Modules recalled in this run by translation inputs (`memo.rs`):
    /// a later process mapping the same code (each exec maps its
    /// libraries into new frames) gets them without reading a file.
    recalled: std::collections::HashMap<crate::memo::Input, (Vec<u8>, wasmtime::Module)>,
}

/// The first tier: a Winch engine and its store, whose memory is the
/// Cranelift engine's (see the module's documentation).
struct FirstTier {
    engine: wasmtime::Engine,
    store: Store<Data>,
    linker: Linker<Data>,
    generation: u64,
    instances: usize,
    pages: u32,
}

/// Machine memory as a plain memory of the first tier's stores: the
/// bytes of the Cranelift engine's shared memory (kept alive here).
struct Borrowed {
    _memory: SharedMemory,
    base: usize,
    len: usize,
}

// SAFETY: the bytes are the shared memory's fixed mapping of `len` bytes,
// inside its 4 GiB reservation and guard (the Cranelift engine's
// `memory_reservation` and `memory_guard_size`, the same as the Winch
// engine's, which `new_memory` checks): they never move, and accesses
// past `len` fault as in the engine's own memories. The memory never
// grows (its type has min == max).
unsafe impl LinearMemory for Borrowed {
    fn byte_size(&self) -> usize {
        self.len
    }
    fn byte_capacity(&self) -> usize {
        self.len
    }
    fn grow_to(&mut self, new_size: usize) -> wasmtime::Result<()> {
        if new_size <= self.len {
            Ok(())
        } else {
            Err(wasmtime::format_err!("machine memory does not grow"))
        }
    }
    fn as_ptr(&self) -> *mut u8 {
        self.base as *mut u8
    }
}

/// Hands every first-tier store the machine's memory.
struct BorrowedCreator(SharedMemory);

// SAFETY: see `Borrowed`.
unsafe impl MemoryCreator for BorrowedCreator {
    fn new_memory(
        &self,
        _ty: MemoryType,
        minimum: usize,
        maximum: Option<usize>,
        reserved_size_in_bytes: Option<usize>,
        guard_size_in_bytes: usize,
    ) -> Result<Box<dyn LinearMemory>, String> {
        let data = self.0.data();
        let len = data.len();
        if minimum != len
            || maximum != Some(len)
            || reserved_size_in_bytes.is_some_and(|r| r > RESERVATION)
            || guard_size_in_bytes > GUARD
        {
            return Err("only the machine's memory, as reserved".into());
        }
        Ok(Box::new(Borrowed {
            _memory: self.0.clone(),
            base: data.as_ptr() as usize,
            len,
        }))
    }
}

/// Both engines' memory reservation and guard.
const RESERVATION: usize = 1 << 32;
const GUARD: usize = 1 << 31;

/// A compile thread's queue: job numbers and wasm.
type Jobs = mpsc::Sender<(u64, Vec<u8>)>;

/// A finished background compile and whether it is the first tier's.
type Done = (Compiled<wasmtime::Module>, bool);

/// The background compilers: one thread per tier (each started by its
/// first job) that compiles (or loads from the disk cache) what
/// [`Engine::start_compile`] sends it, in order, while the guest goes on
/// in the interpreter. wasmtime modules belong to the engine, not to a
/// store, so they move between threads freely. Both send their results
/// to one channel.
struct Worker {
    /// The Cranelift thread's and the Winch thread's job queues.
    jobs: [Option<Jobs>; 2],
    outbox: mpsc::Sender<Done>,
    done: mpsc::Receiver<Done>,
    /// Jobs sent back and not yet taken: `finished` looks at the channel
    /// only when this is non-zero, since the executor asks often.
    ready: Arc<AtomicUsize>,
}

impl Worker {
    fn new() -> Worker {
        let (outbox, done) = mpsc::channel();
        Worker {
            jobs: [None, None],
            outbox,
            done,
            ready: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// A finished job taken off the channel, as the executor gets it.
    fn taken(&self, (c, first): Done) -> Compiled<WasmtimeModule> {
        self.ready.fetch_sub(1, Ordering::AcqRel);
        Compiled {
            job: c.job,
            module: c.module.map(|module| WasmtimeModule {
                module,
                first,
                instance: None,
            }),
            ns: c.ns,
        }
    }

    /// Sends a job to the tier's thread, starting it if need be.
    fn send(
        &mut self,
        first: bool,
        engine: &wasmtime::Engine,
        disk: &Arc<Mutex<Option<DiskCache>>>,
        job: u64,
        wasm: Vec<u8>,
    ) -> Result<(), Vec<u8>> {
        let i = usize::from(first);
        if self.jobs[i].is_none() {
            self.jobs[i] = self.start(first, engine, disk);
        }
        match &self.jobs[i] {
            Some(j) => j.send((job, wasm)).map_err(|e| e.0 .1),
            None => Err(wasm),
        }
    }

    fn start(
        &self,
        first: bool,
        engine: &wasmtime::Engine,
        disk: &Arc<Mutex<Option<DiskCache>>>,
    ) -> Option<Jobs> {
        let (jobs, inbox) = mpsc::channel::<(u64, Vec<u8>)>();
        let outbox = self.outbox.clone();
        // The first tier's modules are not kept on disk: they cost about
        // what reading one back does.
        let disk = if first {
            Arc::new(Mutex::new(None))
        } else {
            disk.clone()
        };
        let (engine, count) = (engine.clone(), self.ready.clone());
        std::thread::Builder::new()
            .name(
                if first {
                    "wax-jit-winch"
                } else {
                    "wax-jit-compile"
                }
                .into(),
            )
            .spawn(move || {
                // Ends when the executor (the sender) is dropped.
                for (job, wasm) in inbox {
                    let start = std::time::Instant::now();
                    let module = compile_cached(&engine, &disk, &wasm);
                    let ns = start.elapsed().as_nanos() as u64;
                    trace_thread_cpu(first);
                    // Counted before it is sent, so the count never
                    // lags behind what the channel holds.
                    count.fetch_add(1, Ordering::Release);
                    if outbox.send((Compiled { job, module, ns }, first)).is_err() {
                        break;
                    }
                }
            })
            .ok()?;
        Some(jobs)
    }
}

/// With `WAX_JIT_TRACE` set, the compile thread's CPU time so far (a
/// measurement aid: the guest's thread is the process's CPU time less
/// this). Linux only; nothing elsewhere.
fn trace_thread_cpu(first: bool) {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    if !*ON.get_or_init(|| std::env::var_os("WAX_JIT_TRACE").is_some()) {
        return;
    }
    let Ok(stat) = std::fs::read_to_string("/proc/thread-self/stat") else {
        return;
    };
    // Fields after the command's closing parenthesis: utime and stime
    // are the 12th and 13th, in clock ticks (100 a second on Linux).
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    let name = if first { "winch" } else { "compile" };
    eprintln!("jit: {name} thread cpu={}ms", (ticks(11) + ticks(12)) * 10);
}

/// With `WAX_JIT_PERF_MAP` set, every compiled module's functions are
/// named in `/tmp/perf-PID.map`, where `perf report` finds them (a
/// measurement aid: `wax<module number>_page_<guest page>_FuncIndex(<function
/// index>)`, function 3 being `run`). If the variable names a directory, each
/// module's code is also written there as `wax<n>-<address>.bin`, for
/// `objdump -D -b binary -mi386:x86-64 --adjust-vma=0x<address>`.
fn perf_map(m: &wasmtime::Module) {
    use std::io::Write;
    static MAP: std::sync::OnceLock<Option<Mutex<(std::fs::File, u64)>>> =
        std::sync::OnceLock::new();
    let map = MAP.get_or_init(|| {
        std::env::var_os("WAX_JIT_PERF_MAP")?;
        let path = format!("/tmp/perf-{}.map", std::process::id());
        Some(Mutex::new((std::fs::File::create(path).ok()?, 0)))
    });
    let Some(map) = map else { return };
    let mut map = map.lock().unwrap_or_else(|p| p.into_inner());
    map.1 += 1;
    let (n, text) = (map.1, m.text().as_ptr() as usize);
    if let Ok(dir) = std::env::var("WAX_JIT_PERF_MAP") {
        // A directory: each module's code too, for disassembly.
        if !dir.is_empty() && dir != "1" {
            let _ = std::fs::write(format!("{dir}/wax{n}-{text:x}.bin"), m.text());
        }
    }
    let page = m.name().unwrap_or("");
    for f in m.functions() {
        let _ = writeln!(
            map.0,
            "{:x} {:x} wax{n}_{page}_{:?}",
            text + f.offset,
            f.len,
            f.index
        );
    }
}

/// Compiles `wasm`, or loads it from the disk cache. The cache is locked
/// only around its own file operations, never while compiling.
fn compile_cached(
    engine: &wasmtime::Engine,
    disk: &Mutex<Option<DiskCache>>,
    wasm: &[u8],
) -> Result<wasmtime::Module, EngineError> {
    let m = compile_cached_inner(engine, disk, wasm)?;
    perf_map(&m);
    Ok(m)
}

fn compile_cached_inner(
    engine: &wasmtime::Engine,
    disk: &Mutex<Option<DiskCache>>,
    wasm: &[u8],
) -> Result<wasmtime::Module, EngineError> {
    let lock = || disk.lock().unwrap_or_else(|p| p.into_inner());
    let key = {
        let mut d = lock();
        let Some(d) = d.as_mut() else {
            drop(d);
            return wasmtime::Module::new(engine, wasm).map_err(err);
        };
        let key = d.key(wasm);
        if let Some(bytes) = d.load(&key) {
            // SAFETY: the bytes are what `Module::serialize` produced for
            // an engine with this one's fingerprint (it is part of the
            // key), and their SHA-256 was checked against the one written
            // with them, so they are intact. The cache directory is
            // trusted as much as any file of the user's.
            if let Ok(m) = unsafe { wasmtime::Module::deserialize(engine, &bytes) } {
                return Ok(m);
            }
        }
        key
    };
    let m = wasmtime::Module::new(engine, wasm).map_err(err)?;
    if let Ok(bytes) = m.serialize() {
        if let Some(d) = lock().as_mut() {
            d.store(&key, &bytes);
        }
    }
    Ok(m)
}

/// A compiled page, instantiated lazily in the current store.
pub struct WasmtimeModule {
    module: wasmtime::Module,
    /// Compiled by the first tier's engine (Winch).
    first: bool,
    /// The store generation it is instantiated in, the slot of the link
    /// table it was put at, and its `run`.
    instance: Option<(u64, u32, RunFunc)>,
}

/// `run(block, slot) -> exit code`.
type RunFunc = TypedFunc<(i32, i32), i32>;

fn err(e: impl std::fmt::Display) -> EngineError {
    EngineError(format!("{e:#}"))
}

/// A linker with the imports every module has but memory and links.
fn imports(engine: &wasmtime::Engine) -> Result<Linker<Data>, EngineError> {
    let mut linker = Linker::new(engine);
    linker
        .func_wrap("wax", "step", |c: Caller<'_, Data>, eip: i32| -> i32 {
            // SAFETY: `host` is set for the duration of `run`, the only
            // time wasm (and so this import) executes.
            unsafe { (*c.data().host).step(eip as u32) as i32 }
        })
        .map_err(err)?;
    linker
        .func_wrap(
            "wax",
            "fpu",
            |c: Caller<'_, Data>, op: i32, ea: i32| -> i32 {
                // SAFETY: as for `step`.
                unsafe { (*c.data().host).fpu(op as u32, ea as u32) as i32 }
            },
        )
        .map_err(err)?;
    linker
        .func_wrap(
            "wax",
            "flags",
            |c: Caller<'_, Data>, op: i32, size: i32, res: i32, a: i32, b: i32, f: i32| -> i32 {
                // SAFETY: as for `step`.
                let h = unsafe { &mut *c.data().host };
                h.flags(
                    op as u32,
                    size as u32,
                    res as u32,
                    a as u32,
                    b as u32,
                    f as u32,
                ) as i32
            },
        )
        .map_err(err)?;
    Ok(linker)
}

/// A module that defines (and exports as `mem`) a memory of `pages`.
fn memory_module(pages: u32) -> Vec<u8> {
    use wasm_encoder::{ExportKind, ExportSection, MemorySection, Module};
    let mut memories = MemorySection::new();
    memories.memory(wasm_encoder::MemoryType {
        minimum: u64::from(pages),
        maximum: Some(u64::from(pages)),
        memory64: false,
        shared: false,
        page_size_log2: None,
    });
    let mut exports = ExportSection::new();
    exports.export("mem", ExportKind::Memory, 0);
    let mut m = Module::new();
    m.section(&memories).section(&exports);
    m.finish()
}

impl FirstTier {
    fn new(memory: &SharedMemory, pages: u32) -> Result<FirstTier, EngineError> {
        let mut config = Config::new();
        config
            .strategy(Strategy::Winch)
            .wasm_threads(true)
            .with_host_memory(Arc::new(BorrowedCreator(memory.clone())))
            .memory_reservation(RESERVATION as u64)
            .memory_guard_size(GUARD as u64)
            .memory_may_move(false);
        let engine = wasmtime::Engine::new(&config).map_err(err)?;
        let (store, linker) = Self::store(&engine, pages)?;
        Ok(FirstTier {
            engine,
            store,
            linker,
            generation: 0,
            instances: 0,
            pages,
        })
    }

    fn store(
        engine: &wasmtime::Engine,
        pages: u32,
    ) -> Result<(Store<Data>, Linker<Data>), EngineError> {
        let mut store = Store::new(
            engine,
            Data {
                host: std::ptr::null_mut(),
            },
        );
        let mut linker = imports(engine)?;
        // A memory a module defines comes from the engine's memory
        // creator (one made with `Memory::new` would not).
        let module = wasmtime::Module::new(engine, memory_module(pages)).map_err(err)?;
        let memory = Linker::new(engine)
            .instantiate(&mut store, &module)
            .and_then(|i| {
                i.get_memory(&mut store, "mem")
                    .ok_or_else(|| wasmtime::format_err!("no memory"))
            })
            .map_err(err)?;
        linker
            .define(&mut store, "wax", "mem", memory)
            .map_err(err)?;
        Ok((store, linker))
    }

    /// Instantiates `m` in the current store unless it already is (a new
    /// store once this one has `max` instances).
    fn instantiate(&mut self, m: &mut WasmtimeModule, max: usize) -> Result<(), EngineError> {
        if matches!(&m.instance, Some((g, _, _)) if *g == self.generation) {
            return Ok(());
        }
        if self.instances >= max {
            let (store, linker) = Self::store(&self.engine, self.pages)?;
            self.store = store;
            self.linker = linker;
            self.generation += 1;
            self.instances = 0;
        }
        let inst = self
            .linker
            .instantiate(&mut self.store, &m.module)
            .map_err(err)?;
        self.instances += 1;
        let f = inst
            .get_typed_func::<(i32, i32), i32>(&mut self.store, "run")
            .map_err(err)?;
        m.instance = Some((self.generation, 0, f));
        Ok(())
    }
}

impl Wasmtime {
    /// An engine and a machine of `bytes` of memory (rounded up to 64 KiB)
    /// that lives in the engine's shared memory.
    pub fn new(bytes: u64) -> Result<(Wasmtime, Machine), EngineError> {
        Self::with_tuning(bytes, Tuning::default())
    }

    /// [`Wasmtime::new`] with compiler settings.
    pub fn with_tuning(bytes: u64, tuning: Tuning) -> Result<(Wasmtime, Machine), EngineError> {
        let mut config = Config::new();
        config
            .wasm_threads(true)
            .shared_memory(true)
            .cranelift_opt_level(if tuning.optimize {
                OptLevel::Speed
            } else {
                OptLevel::None
            })
            .cranelift_regalloc_algorithm(if tuning.single_pass_regalloc {
                RegallocAlgorithm::SinglePass
            } else {
                RegallocAlgorithm::Backtracking
            })
            .memory_reservation(RESERVATION as u64)
            .memory_guard_size(GUARD as u64)
            .table_lazy_init(false)
            .wasm_tail_call(true);
        let engine = wasmtime::Engine::new(&config).map_err(err)?;
        let pages = bytes.div_ceil(1 << 16).clamp(1, 1 << 16) as u32;
        let memory = SharedMemory::new(&engine, MemoryType::shared(pages, pages)).map_err(err)?;
        let data = memory.data();
        let len = data.len();
        let base = NonNull::new(std::cell::UnsafeCell::raw_get(data.as_ptr()))
            .ok_or_else(|| err("null shared memory"))?;
        // SAFETY: wasmtime's shared memory is a fixed mapping of `len`
        // zeroed, page-aligned bytes that never moves and lives as long as
        // any clone of `memory` (one is the region's owner). Wasm only
        // touches it during `run`, while the executor holds no borrow of
        // the region.
        let region = unsafe { Region::from_external(base, len, Box::new(memory.clone())) };
        let machine = Machine::from_region(region);
        let (store, linker, links) = Self::store(&engine, &memory)?;
        Ok((
            Wasmtime {
                engine,
                tuning,
                memory,
                store,
                linker,
                links,
                generation: 0,
                instances: 0,
                first: None,
                epoch: std::time::Instant::now(),
                disk: Arc::new(Mutex::new(None)),
                worker: Worker::new(),
                recalled: Default::default(),
            },
            machine,
        ))
    }

    /// Keeps compiled modules in `dir` (see [`super::disk_cache`]), at
    /// most `max_bytes` of them; `None` turns the cache off (the default).
    pub fn set_disk_cache(&mut self, dir: Option<std::path::PathBuf>, max_bytes: u64) {
        let cache = dir.map(|d| DiskCache::new(d, &self.fingerprint(), max_bytes));
        *self.disk.lock().unwrap_or_else(|p| p.into_inner()) = cache;
    }

    /// What compiled code depends on besides the wasm bytes: wasmtime's
    /// version and code-changing settings.
    fn fingerprint(&self) -> Vec<u8> {
        struct Bytes(Vec<u8>);
        impl std::hash::Hasher for Bytes {
            fn finish(&self) -> u64 {
                0
            }
            fn write(&mut self, b: &[u8]) {
                self.0.extend_from_slice(b);
            }
        }
        let mut h = Bytes(b"wasmtime 48.0.8\0".to_vec());
        std::hash::Hash::hash(&self.engine.precompile_compatibility_hash(), &mut h);
        h.0
    }

    fn store(
        engine: &wasmtime::Engine,
        memory: &SharedMemory,
    ) -> Result<(Store<Data>, Linker<Data>, Table), EngineError> {
        let mut store = Store::new(
            engine,
            Data {
                host: std::ptr::null_mut(),
            },
        );
        let mut linker = imports(engine)?;
        linker
            .define(&mut store, "wax", "mem", memory.clone())
            .map_err(err)?;
        let links = Table::new(
            &mut store,
            TableType::new(RefType::FUNCREF, 0, None),
            Ref::Func(None),
        )
        .map_err(err)?;
        linker
            .define(&mut store, "wax", "links", links)
            .map_err(err)?;
        Ok((store, linker, links))
    }

    /// A new store (and link table): the old one's instances are freed.
    /// Every link the executor recorded is dropped (`host`), since the
    /// table they point into is gone.
    fn recycle(&mut self, host: &mut Host) -> Result<(), EngineError> {
        let (store, linker, links) = Self::store(&self.engine, &self.memory)?;
        self.store = store;
        self.linker = linker;
        self.links = links;
        self.generation += 1;
        self.instances = 0;
        host.drop_links();
        Ok(())
    }

    /// Instantiates `m` in the current store unless it already is, and
    /// puts its `run` at `slot` of the link table.
    fn instantiate(
        &mut self,
        m: &mut WasmtimeModule,
        slot: u32,
        host: &mut Host,
    ) -> Result<(), EngineError> {
        if matches!(&m.instance, Some((g, s, _)) if *g == self.generation && *s == slot) {
            return Ok(());
        }
        if self.instances >= self.tuning.max_instances {
            self.recycle(host)?;
        }
        let f = match &m.instance {
            Some((g, _, f)) if *g == self.generation => f.clone(),
            _ => {
                let inst = self
                    .linker
                    .instantiate(&mut self.store, &m.module)
                    .map_err(err)?;
                self.instances += 1;
                inst.get_typed_func::<(i32, i32), i32>(&mut self.store, "run")
                    .map_err(err)?
            }
        };
        let size = self.links.size(&self.store);
        if u64::from(slot) >= size {
            // Grown in chunks: growing costs time in proportion to size.
            let want = (u64::from(slot) + 1).max(size * 2).max(64);
            self.links
                .grow(&mut self.store, want - size, Ref::Func(None))
                .map_err(err)?;
        }
        self.links
            .set(&mut self.store, u64::from(slot), Ref::Func(Some(*f.func())))
            .map_err(err)?;
        m.instance = Some((self.generation, slot, f));
        Ok(())
    }
}

impl Engine for Wasmtime {
    type Module = WasmtimeModule;

    fn options(&self) -> Options {
        Options {
            shared_memory: true,
            inline_checks: self.tuning.inline_checks,
            memory_base: 0,
            link: self.tuning.link,
            reuse_pages: true,
        }
    }

    fn compile(&mut self, wasm: &[u8]) -> Result<WasmtimeModule, EngineError> {
        Ok(WasmtimeModule {
            module: compile_cached(&self.engine, &self.disk, wasm)?,
            first: false,
            instance: None,
        })
    }

    fn recall(&mut self, input: &crate::memo::Input) -> Option<(Vec<u8>, WasmtimeModule)> {
        if let Some((record, module)) = self.recalled.get(input) {
            let module = WasmtimeModule {
                module: module.clone(),
                first: false,
                instance: None,
            };
            return Some((record.clone(), module));
        }
        let (record, bytes) = self.disk.lock().ok()?.as_mut()?.recall(input)?;
        // SAFETY: as in `compile_cached_inner`: the bytes are what
        // `Module::serialize` produced for an engine with this one's
        // fingerprint (part of the key) and passed their SHA-256 check.
        let module = unsafe { wasmtime::Module::deserialize(&self.engine, &bytes) }.ok()?;
        perf_map(&module);
        self.recalled
            .insert(*input, (record.clone(), module.clone()));
        Some((
            record,
            WasmtimeModule {
                module,
                first: false,
                instance: None,
            },
        ))
    }

    fn twin(&mut self, module: &WasmtimeModule) -> Option<WasmtimeModule> {
        Some(WasmtimeModule {
            module: module.module.clone(),
            first: module.first,
            instance: None,
        })
    }

    fn note(&mut self, input: &crate::memo::Input, wasm: &[u8], record: &[u8]) {
        if let Some(d) = self.disk.lock().unwrap_or_else(|p| p.into_inner()).as_mut() {
            d.note(input, wasm, record);
        }
    }

    fn first_tier(&self) -> Option<Options> {
        self.tuning.first_tier.then(|| Options {
            shared_memory: false,
            link: false,
            ..self.options()
        })
    }

    fn start_compile(&mut self, job: u64, wasm: Vec<u8>, first: bool) -> Result<(), Vec<u8>> {
        if first && self.first.is_none() && self.tuning.first_tier {
            let pages = (self.memory.data().len() >> 16) as u32;
            self.first = FirstTier::new(&self.memory, pages).ok();
        }
        let engine = match (&self.first, first) {
            (Some(t), true) => &t.engine,
            (None, true) => return Err(wasm),
            (_, false) => &self.engine,
        };
        self.worker.send(first, engine, &self.disk, job, wasm)
    }

    fn finished(&mut self, wait: bool) -> Option<Compiled<WasmtimeModule>> {
        let w = &self.worker;
        if w.jobs.iter().all(Option::is_none) {
            return None;
        }
        let c = if wait {
            w.done.recv().ok()?
        } else if w.ready.load(Ordering::Acquire) == 0 {
            return None;
        } else {
            w.done.try_recv().ok()?
        };
        Some(w.taken(c))
    }

    fn any_finished(&self) -> bool {
        let w = &self.worker;
        w.jobs.iter().all(Option::is_none) || w.ready.load(Ordering::Acquire) != 0
    }

    fn finished_within(&mut self, ns: u64) -> Option<Compiled<WasmtimeModule>> {
        let w = &self.worker;
        if w.jobs.iter().all(Option::is_none) {
            return None;
        }
        let c = w
            .done
            .recv_timeout(std::time::Duration::from_nanos(ns))
            .ok()?;
        Some(w.taken(c))
    }

    fn stats(&self) -> Vec<(&'static str, u64)> {
        let d = self.disk.lock().unwrap_or_else(|p| p.into_inner());
        let Some(d) = d.as_ref() else {
            return Vec::new();
        };
        let s = d.stats;
        vec![
            ("code cache hits", s.hits),
            ("code cache misses", s.misses),
            ("code cache writes", s.writes),
            ("code cache files rejected", s.rejected),
            ("code cache files evicted", s.evicted),
            (
                "code cache: modules recalled without translating",
                s.recalled,
            ),
            ("code cache: translations noted", s.noted),
        ]
    }

    fn now_ns(&self) -> u64 {
        self.epoch.elapsed().as_nanos() as u64
    }

    fn run(
        &mut self,
        module: &mut WasmtimeModule,
        block: u32,
        slot: u32,
        host: &mut Host,
    ) -> Result<u32, EngineError> {
        let store = match (module.first, &mut self.first) {
            (true, Some(t)) => {
                t.instantiate(module, self.tuning.max_instances)?;
                &mut t.store
            }
            (true, None) => return Err(err("a first-tier module without that tier")),
            (false, _) => {
                self.instantiate(module, slot, host)?;
                &mut self.store
            }
        };
        let (_, _, f) = module.instance.as_ref().expect("instantiated");
        store.data_mut().host = host;
        let r = f.call(&mut *store, (block as i32, slot as i32));
        store.data_mut().host = std::ptr::null_mut();
        r.map(|c| c as u32).map_err(err)
    }
}
