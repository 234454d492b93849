//! x86 → wasm, one guest page per module.
//!
//! [`translate_page`] discovers the page's blocks from the entry points
//! seen so far ([`cfg`]), decides per instruction whether to emit wasm or
//! call the interpreter ([`plan`]), and emits one function
//! `run(block) -> exit code` that dispatches over the page's blocks in a
//! loop ([`gen`]); the caller maps an EIP to its block index with
//! [`Translation::blocks`]. The module imports machine memory and two host
//! functions:
//! - `wax.step(eip) -> code`: runs the instruction at EIP in the
//!   interpreter (CpuState is written back before and reloaded after);
//!   non-zero is an [`wax_cpu::abi::ExitCode`] to leave with.
//! - `wax.flags(op, size, res, a, b, eflags) -> eflags`: evaluates a
//!   lazy-flag record, for consumers whose producer is not in sight.
//! - `wax.fpu(op, ea) -> code`: runs the x87 instruction of form `op` with
//!   memory operand at linear address `ea` (see `crate::x87`); EIP and the
//!   few registers the form uses are in CpuState; non-zero is an exit code.
//!
//! With [`Options::link`] it also imports `wax.links`, a funcref table of
//! every module's `run(block, slot)` at its slot: an exit to an EIP found in
//! the link table (`wax_cpu::abi::LINKS`) continues in that module by a
//! tail call instead of returning to the executor.
//!
//! The output depends only on the page's bytes, its address, the entry
//! list and [`Options`], so it is reproducible (golden tests, a future
//! on-disk cache).

mod cfg;
mod emit;
mod flags;
mod gen;
mod helpers;
mod insns;
mod operands;
mod plan;
mod sse;
mod x87;

pub use cfg::MAX_TAIL;
pub use gen::REUSE_MISS;
pub use plan::Plan;

use wasm_encoder::{
    CodeSection, EntityType, ExportKind, ExportSection, FunctionSection, ImportSection, MemoryType,
    Module, NameSection, RefType, TableType, TypeSection, ValType,
};

/// Translator settings that change the module's bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// Import machine memory as a shared memory (wasmtime's `SharedMemory`,
    /// which several stores can import); the browser imports a plain one.
    pub shared_memory: bool,
    /// Page-table checks inline in `run` rather than calls to one small
    /// function per access size: faster code, much slower compiles.
    pub inline_checks: bool,
    /// Where machine address 0 is in the imported memory: 0 when machine
    /// memory is the whole memory (wasmtime), the region's address in the
    /// emulator's own memory on wasm32. Added to every access's offset.
    pub memory_base: u32,
    /// Leaving for an EIP the link table knows jumps straight to that
    /// module (`return_call_indirect` through the imported `wax.links`
    /// table, which the engine fills) instead of returning to the
    /// executor. Needs an engine with tail calls.
    pub link: bool,
    /// An access through a base register reuses the page-table lookup of
    /// an earlier access through it in the same straight-line code when
    /// both fall in one page, and leaves (exit `Slow`) when they do not
    /// (`operands.rs`). The executor turns it off for a page whose module
    /// leaves that way often.
    pub reuse_pages: bool,
}

/// A translated page.
pub struct Translation {
    pub wasm: Vec<u8>,
    /// The EIPs of each block's instructions (the first is the block's
    /// start); a block's index is what `run` takes.
    pub blocks: Vec<Vec<u32>>,
    /// Guest instructions in the module, and how many of them call the
    /// interpreter.
    pub insns: usize,
    pub stepped: usize,
}

/// Translates the page at `base` reachable from `entries`. `code` holds
/// the page's 4096 bytes, then the first bytes of the next page (at most
/// [`MAX_TAIL`]) if that page is executable: instructions that straddle
/// into it are then translated behind a run-time check that those bytes
/// are still there; without them such instructions are stepped.
pub fn translate_page(code: &[u8], base: u32, entries: &[u32], opts: &Options) -> Translation {
    translate(code, base, entries, None, opts)
}

/// [`translate_page`] of only the code that ran: `ran` (sorted) holds the
/// EIPs where blocks are known to have started, and a branch or
/// fall-through to any other EIP leaves the module rather than being
/// translated (see `cfg.rs`).
pub fn translate_page_ran(
    code: &[u8],
    base: u32,
    entries: &[u32],
    ran: &[u32],
    opts: &Options,
) -> Translation {
    translate(code, base, entries, Some(ran), opts)
}

fn translate(
    code: &[u8],
    base: u32,
    entries: &[u32],
    ran: Option<&[u32]>,
    opts: &Options,
) -> Translation {
    let cfg = cfg::discover(code, base, entries, ran);
    let blocks = cfg
        .blocks
        .iter()
        .map(|b| b.insns.iter().map(|i| i.insn.ip32()).collect())
        .collect();
    let (wasm, stats) = emit::with_base(opts.memory_base, || {
        let (body, stats) = gen::Gen::new(&cfg, opts).function();
        (module(body, base, opts, &stats), stats)
    });
    Translation {
        wasm,
        blocks,
        insns: stats.insns,
        stepped: stats.stepped,
    }
}

/// The module around `run`'s body for the page at `base`, with the
/// functions `stats` says it calls: the x87 fast paths' `mul64`/`divsig`/
/// `sqrtsig`, then SHA functions.
fn module(body: wasm_encoder::Function, base: u32, opts: &Options, stats: &gen::Stats) -> Vec<u8> {
    let wide_arith = stats.wide_arith;
    let mut types = TypeSection::new();
    types.ty().function([ValType::I32], [ValType::I32]);
    types.ty().function([ValType::I32; 6], [ValType::I32]);
    // `run(block, slot)` and the lookups `(addr, table) -> host`.
    types.ty().function([ValType::I32; 2], [ValType::I32]);
    // `mul64(a, b) -> (hi, lo)` (x87 fast paths).
    types.ty().function([ValType::I64; 2], [ValType::I64; 2]);
    // `addsig(x, y, d, sub) -> (sig, adj, flags)`: the type of the block
    // FADD's fast path emits the sum in.
    types.ty().function(
        [ValType::I64, ValType::I64, ValType::I32, ValType::I32],
        [ValType::I64, ValType::I32, ValType::I32],
    );
    // `divsig(a, b) -> (q, flags)` (x87 fast paths).
    types
        .ty()
        .function([ValType::I64; 2], [ValType::I64, ValType::I32]);
    // `sqrtsig(sig, odd) -> (r, flags)` (x87 fast paths).
    types
        .ty()
        .function([ValType::I64, ValType::I32], [ValType::I64, ValType::I32]);
    if !stats.sha.is_empty() {
        types.ty().function([ValType::V128; 3], [ValType::V128]);
    }
    let mut imports = ImportSection::new();
    imports.import("wax", "step", EntityType::Function(0));
    imports.import("wax", "flags", EntityType::Function(1));
    imports.import("wax", "fpu", EntityType::Function(gen::TYPE_RUN));
    imports.import(
        "wax",
        "mem",
        MemoryType {
            minimum: 1,
            maximum: opts.shared_memory.then_some(65536),
            memory64: false,
            shared: opts.shared_memory,
            page_size_log2: None,
        },
    );
    if opts.link {
        imports.import(
            "wax",
            "links",
            TableType {
                element_type: RefType::FUNCREF,
                table64: false,
                minimum: 0,
                maximum: None,
                shared: false,
            },
        );
    }
    let mut funcs = FunctionSection::new();
    funcs.function(gen::TYPE_RUN);
    let helpers = helpers::all();
    for _ in &helpers {
        funcs.function(helpers::TYPE_XLATE);
    }
    // Last, so leaving them out (most pages hold no x87 arithmetic, and
    // each function costs compile time) moves no other index.
    if wide_arith {
        funcs.function(x87::TYPE_MUL64);
        funcs.function(x87::TYPE_DIVSIG);
        funcs.function(x87::TYPE_SQRTSIG);
    }
    for _ in &stats.sha {
        funcs.function(sse::sha::TYPE_SHA);
    }
    let mut exports = ExportSection::new();
    exports.export("run", ExportKind::Func, gen::FN_RUN);
    let mut code = CodeSection::new();
    code.function(&body);
    for h in &helpers {
        code.function(h);
    }
    if wide_arith {
        code.function(&x87::mul64());
        code.function(&x87::divsig());
        code.function(&x87::sqrtsig());
    }
    for &f in &stats.sha {
        code.function(&sse::sha::function(f));
    }
    let mut m = Module::new();
    m.section(&types)
        .section(&imports)
        .section(&funcs)
        .section(&exports)
        .section(&code);
    // The guest page in the name section, for profiles (`perf_map`).
    let mut names = NameSection::new();
    names.module(&format!("page_{base:08x}"));
    m.section(&names);
    m.finish()
}
