//! Running guest code in the interpreter from the executor and from the
//! translated code's one-instruction fallback.
//!
//! This mirrors the inner loop of `wax_cpu::interp::run` (EIP set past the
//! instruction before its handler runs, put back on a fault, a faulting
//! instruction counts as retired, stop after a store into watched code)
//! with two differences the JIT needs: it stops after exactly `max`
//! instructions, and it leaves the list of changed code pages in place, so
//! the executor drops translations as well as decoded blocks. The lockstep
//! tests check it against `interp::run`.

use iced_x86::Instruction;
use wax_cpu::interp::{Ctx, Handler};
use wax_cpu::{CpuState, DecodeCache, Exit, GuestMem};

/// Runs at most `max` instructions of the decoded block at EIP. Returns
/// how many retired and the exit, if one stopped it.
#[inline(always)]
pub fn run_block(
    cpu: &mut CpuState,
    mem: &mut GuestMem<'_>,
    cache: &mut DecodeCache,
    max: u64,
) -> (u64, Option<Exit>) {
    let block = match cache.get(mem, cpu.eip) {
        Ok(b) => b,
        Err(fault) => return (0, Some(fault.into())),
    };
    let mut ctx = Ctx { cpu, mem };
    // The instructions to run, bounded once rather than counted against
    // `max` one by one (as in `interp::run`).
    let room = max.min(block.insns.len() as u64) as usize;
    for (i, d) in block.insns[..room].iter().enumerate() {
        if let Some(e) = run_one(&mut ctx, &d.insn, d.handler) {
            return (i as u64 + 1, Some(e));
        }
        if ctx.mem.code_changed() {
            return (i as u64 + 1, None);
        }
    }
    (room as u64, None)
}

/// Runs one decoded instruction: EIP past it while its handler runs, put
/// back on a fault.
#[inline(always)]
pub fn run_one(ctx: &mut Ctx<'_, '_>, insn: &Instruction, handler: Handler) -> Option<Exit> {
    ctx.cpu.eip = insn.next_ip32();
    let e = handler(ctx, insn).err()?;
    if let Exit::Exception(ex) = e {
        if !ex.is_trap() {
            ctx.cpu.eip = insn.ip32();
        }
    }
    Some(e)
}
