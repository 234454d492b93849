//! The native engine: wasmtime with Cranelift.
//!
//! Machine memory is a wasmtime `SharedMemory` created here and handed to
//! the CPU as its region (`Region::from_external`): the interpreter and
//! translated code use the same bytes, and since a shared memory belongs to
//! the engine rather than to a store, stores can be recycled (a store never
//! frees its instances) while the memory stays. A 4 GiB reservation plus
//! guard lets Cranelift drop bounds checks on 32-bit addresses.

use super::disk_cache::DiskCache;
use crate::host::Host;
use crate::{Engine, EngineError, Options};
use std::ptr::NonNull;
use wasmtime::{
    Caller, Config, Linker, MemoryType, OptLevel, Ref, RefType, RegallocAlgorithm, SharedMemory,
    Store, Table, TableType, TypedFunc,
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
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            inline_checks: false,
            optimize: true,
            single_pass_regalloc: false,
            max_instances: 4096,
            link: true,
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
    /// Origin of [`Engine::now_ns`].
    epoch: std::time::Instant,
    disk: Option<DiskCache>,
}

/// A compiled page, instantiated lazily in the current store.
pub struct WasmtimeModule {
    module: wasmtime::Module,
    /// The store generation it is instantiated in, the slot of the link
    /// table it was put at, and its `run`.
    instance: Option<(u64, u32, RunFunc)>,
}

/// `run(block, slot) -> exit code`.
type RunFunc = TypedFunc<(i32, i32), i32>;

fn err(e: impl std::fmt::Display) -> EngineError {
    EngineError(e.to_string())
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
            .memory_reservation(1 << 32)
            .memory_guard_size(1 << 31)
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
                epoch: std::time::Instant::now(),
                disk: None,
            },
            machine,
        ))
    }

    /// Keeps compiled modules in `dir` (see [`super::disk_cache`]), at
    /// most `max_bytes` of them; `None` turns the cache off (the default).
    pub fn set_disk_cache(&mut self, dir: Option<std::path::PathBuf>, max_bytes: u64) {
        self.disk = dir.map(|d| DiskCache::new(d, &self.fingerprint(), max_bytes));
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

    /// Compiles `wasm`, or loads it from the disk cache.
    fn compile_cached(&mut self, wasm: &[u8]) -> Result<wasmtime::Module, EngineError> {
        let Some(disk) = &mut self.disk else {
            return wasmtime::Module::new(&self.engine, wasm).map_err(err);
        };
        let key = disk.key(wasm);
        if let Some(bytes) = disk.load(&key) {
            // SAFETY: the bytes are what `Module::serialize` produced for an
            // engine with this one's fingerprint (it is part of the key),
            // and their SHA-256 was checked against the one written with
            // them, so they are intact. The cache directory is trusted as
            // much as any file of the user's.
            if let Ok(m) = unsafe { wasmtime::Module::deserialize(&self.engine, &bytes) } {
                return Ok(m);
            }
        }
        let m = wasmtime::Module::new(&self.engine, wasm).map_err(err)?;
        if let Ok(bytes) = m.serialize() {
            disk.store(&key, &bytes);
        }
        Ok(m)
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
                |c: Caller<'_, Data>,
                 op: i32,
                 size: i32,
                 res: i32,
                 a: i32,
                 b: i32,
                 f: i32|
                 -> i32 {
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
        }
    }

    fn compile(&mut self, wasm: &[u8]) -> Result<WasmtimeModule, EngineError> {
        Ok(WasmtimeModule {
            module: self.compile_cached(wasm)?,
            instance: None,
        })
    }

    fn stats(&self) -> Vec<(&'static str, u64)> {
        let Some(d) = &self.disk else {
            return Vec::new();
        };
        let s = d.stats;
        vec![
            ("code cache hits", s.hits),
            ("code cache misses", s.misses),
            ("code cache writes", s.writes),
            ("code cache files rejected", s.rejected),
            ("code cache files evicted", s.evicted),
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
        self.instantiate(module, slot, host)?;
        let (_, _, f) = module.instance.as_ref().expect("instantiated");
        self.store.data_mut().host = host;
        let r = f.call(&mut self.store, (block as i32, slot as i32));
        self.store.data_mut().host = std::ptr::null_mut();
        r.map(|c| c as u32).map_err(err)
    }
}
