//! Wax's translator from x86 to wasm — not built yet.
//!
//! This crate will own basic-block discovery, x86 → wasm translation with
//! wasm-encoder (one module per guest code page), the per-frame LRU code
//! cache and its invalidation, and the [`Engine`] trait with its wasmtime
//! (native) and JS WebAssembly (wasm32) implementations. Until then every
//! guest instruction runs in `wax_cpu::interp`, which is also the oracle the
//! translator will be tested against.
//!
//! What exists now is the contract the rest of Wax is being built to: the
//! engine interface below, and the memory and CPU-state layout it relies on
//! (`wax_cpu::state::offsets`, `wax_cpu::mem::pte`).

use wax_cpu::{Exit, MachAddr};

/// A wasm engine that can compile and run translated guest code against
/// machine memory.
pub trait Engine {
    /// A compiled module of one guest code page.
    type Module;

    /// Compiles a translated module (wasm bytes).
    fn compile(&mut self, wasm: &[u8]) -> Result<Self::Module, EngineError>;

    /// Runs `module` from guest `eip` with the CPU state at `cpu_slot` in
    /// machine memory, until it exits.
    fn run(&mut self, module: &Self::Module, cpu_slot: MachAddr, eip: u32) -> Exit;
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
