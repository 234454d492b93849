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

use wax_cpu::interp::{Ctx, Decoded};
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
    let (n, exit, _) = run_block_ends(cpu, mem, cache, &mut None, max);
    (n, exit)
}

/// How a block run by [`run_block_ends`] ended.
#[derive(Clone, Copy, Default)]
pub struct Ends {
    /// The block ran to its end and that end was a control transfer
    /// (rather than the decoder's length limit in straight-line code):
    /// only then is EIP a branch target, worth recording as an entry.
    pub transfer: bool,
    /// The first instruction of the next page that straight-line code
    /// in the block reached (and ran): where a translation of the page
    /// the block started in exits, so an entry of the next page.
    pub crossed: Option<u32>,
}

/// [`run_block`], also telling how the block ended ([`Ends`]). `from` is
/// the decode cache's slot of the block that ran just before (`None`
/// when unknown), whose remembered successors are tried before the
/// lookup, as `interp::run` does (`DecodeCache::next`); it is left
/// holding this block's slot. A stale slot only costs the lookup, but
/// it must not outlive the cache's `clear`.
#[inline(always)]
pub fn run_block_ends(
    cpu: &mut CpuState,
    mem: &mut GuestMem<'_>,
    cache: &mut DecodeCache,
    from: &mut Option<u32>,
    max: u64,
) -> (u64, Option<Exit>, Ends) {
    let slot = match *from {
        Some(f) => cache.next(mem, f, cpu.eip),
        None => cache.get_slot(mem, cpu.eip),
    };
    let slot = match slot {
        Ok(s) => s,
        Err(fault) => {
            *from = None;
            return (0, Some(fault.into()), Ends::default());
        }
    };
    *from = Some(slot);
    let block = cache.block(slot);
    let mut ctx = Ctx { cpu, mem };
    // The instructions to run, bounded once rather than counted against
    // `max` one by one (as in `interp::run`).
    let room = max.min(block.insns.len() as u64) as usize;
    for (i, d) in block.insns[..room].iter().enumerate() {
        if let Some(e) = run_one(&mut ctx, d) {
            return (i as u64 + 1, Some(e), Ends::default());
        }
        if ctx.mem.code_changed() {
            return (i as u64 + 1, None, Ends::default());
        }
    }
    let insns = &block.insns[..room];
    let mut ends = Ends::default();
    if let (Some(first), Some(last)) = (insns.first(), insns.last()) {
        ends.transfer =
            room == block.insns.len() && last.insn.flow_control() != iced_x86::FlowControl::Next;
        let page = first.insn.ip32() >> 12;
        if last.insn.ip32() >> 12 != page {
            // Only control transfers end blocks, so every instruction
            // before the last one ran in sequence.
            ends.crossed = insns
                .iter()
                .map(|d| d.insn.ip32())
                .find(|&ip| ip >> 12 != page);
        }
    }
    (room as u64, None, ends)
}

/// Runs one decoded instruction: EIP past it while its handler runs, put
/// back on a fault.
#[inline(always)]
pub fn run_one(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Option<Exit> {
    ctx.cpu.eip = insn.next_ip32();
    let e = (insn.handler)(ctx, insn).err()?;
    if let Exit::Exception(ex) = e {
        if !ex.is_trap() {
            ctx.cpu.eip = insn.ip32();
        }
    }
    Some(e)
}
