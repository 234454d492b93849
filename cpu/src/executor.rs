//! What runs guest code for the kernel: the interpreter, or a JIT that
//! falls back to it. The kernel picks one per machine and calls it for
//! every slice; whichever it is, a slice ends at a system call, an
//! exception, or after exactly `budget` instructions, with the same CPU
//! state and count (the interpreter is the JIT's oracle).

use crate::interp::{self, DecodeCache, RunResult};
use crate::mem::{AddressSpace, Machine};

pub trait Executor {
    /// Runs the thread in the machine's CPU slot on `space`.
    fn run(
        &mut self,
        machine: &mut Machine,
        space: &mut AddressSpace,
        cache: &mut DecodeCache,
        budget: u64,
    ) -> RunResult;

    /// What runs the code, for messages ("interpreter", "jit (wasmtime)").
    fn name(&self) -> &'static str;

    /// Counters worth printing at exit (`wax run --stats`), one per line.
    fn stats(&self) -> Vec<(&'static str, u64)> {
        Vec::new()
    }
}

/// Every instruction in the interpreter.
#[derive(Clone, Copy, Debug, Default)]
pub struct Interpreter;

impl Executor for Interpreter {
    fn run(
        &mut self,
        machine: &mut Machine,
        space: &mut AddressSpace,
        cache: &mut DecodeCache,
        budget: u64,
    ) -> RunResult {
        let (cpu, mut mem) = machine.guest(space);
        interp::run(cpu, &mut mem, cache, budget)
    }

    fn name(&self) -> &'static str {
        "interpreter"
    }
}
