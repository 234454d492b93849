//! The interpreter: runs decoded blocks until something needs the kernel.
//!
//! It defines Wax's instruction semantics: the JIT is checked against it,
//! and it is checked against the host CPU (`cpu/tests/differential.rs`).

mod alu;
mod bcd;
mod bits;
mod cache;
pub mod control;
mod ctx;
mod misc;
mod muldiv;
mod shift;
mod sse;
mod stack;
mod string;
pub mod table;
mod x87;

pub use cache::DecodeCache;
pub use ctx::{Ctx, Flow, Handler, Loc};

use crate::exit::Exit;
use crate::mem::GuestMem;
use crate::state::CpuState;

/// Outcome of [`run`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunResult {
    pub exit: Exit,
    /// Guest instructions retired (an instruction that faulted counts).
    pub executed: u64,
}

/// Executes guest code from `cpu.eip` until a system call, an exception, or
/// at least `budget` instructions have run (checked at block boundaries).
pub fn run(
    cpu: &mut CpuState,
    mem: &mut GuestMem<'_>,
    cache: &mut DecodeCache,
    budget: u64,
) -> RunResult {
    let mut executed = 0u64;
    let exit = loop {
        if mem.code_changed() {
            cache.invalidate_pages(&mem.take_code_changes());
        }
        if executed >= budget {
            break Exit::BudgetSpent;
        }
        let block = match cache.get(mem, cpu.eip) {
            Ok(b) => b,
            Err(fault) => break fault.into(),
        };
        let mut ctx = Ctx {
            cpu: &mut *cpu,
            mem: &mut *mem,
        };
        let mut stop = None;
        for d in block.insns.iter() {
            ctx.cpu.eip = d.insn.next_ip32();
            executed += 1;
            if let Err(e) = (d.handler)(&mut ctx, &d.insn) {
                if let Exit::Exception(ex) = e {
                    if !ex.is_trap() {
                        ctx.cpu.eip = d.insn.ip32();
                    }
                }
                stop = Some(e);
                break;
            }
            if ctx.mem.code_changed() {
                break;
            }
        }
        if let Some(e) = stop {
            break e;
        }
    };
    if mem.code_changed() {
        cache.invalidate_pages(&mem.take_code_changes());
    }
    RunResult { exit, executed }
}
