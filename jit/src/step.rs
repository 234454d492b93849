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
pub fn run_block(
    cpu: &mut CpuState,
    mem: &mut GuestMem<'_>,
    cache: &mut DecodeCache,
    max: u64,
) -> (u64, Option<Exit>) {
    let r = run_in_page(cpu, mem, cache, &mut None, max, false, 0, max);
    (r.n, r.exit)
}

/// Runs one decoded instruction: EIP past it while its handler runs, put
/// back on a fault.
#[inline(always)]
pub fn run_one(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Option<Exit> {
    ctx.cpu.eip = insn.next_ip32();
    let e = (insn.handler)(ctx, insn).err()?;
    Some(put_back(ctx.cpu, insn, e))
}

/// EIP back on `insn` if it faulted (a trap leaves it past).
#[cold]
fn put_back(cpu: &mut CpuState, insn: &Decoded, e: Exit) -> Exit {
    if let Exit::Exception(ex) = e {
        if !ex.is_trap() {
            cpu.eip = insn.ip32();
        }
    }
    e
}

/// How [`run_in_page`] stopped.
pub struct PageRun {
    /// Instructions retired.
    pub n: u64,
    /// The exit that stopped the last block, if one did.
    pub exit: Option<Exit>,
    /// The last block ran (to its end, or to an exit) without being cut
    /// by `max` or by a store into watched code.
    pub complete: bool,
    /// The last block ran to its end and that end was a control transfer
    /// (rather than the decoder's length limit in straight-line code):
    /// only then is EIP a branch target, worth recording as an entry (an
    /// entry where a slice happened to resume would only fragment blocks).
    pub branched: bool,
    /// The first instruction of the next page that straight-line code in
    /// a block reached (and ran), the last such: where a translation of
    /// the page the block started in exits, so an entry of the next page.
    pub crossed: Option<u32>,
}

/// Runs decoded blocks back to back while control stays in guest page
/// `page` (only one block unless `stay`), until an exit, a block cut
/// short, `max` instructions in all or `limit` (at most `max`). `from`
/// is the decode cache's slot of the block that ran just before (`None`
/// when unknown), whose remembered successors are tried before the
/// lookup, as `interp::run` does (`DecodeCache::next`); it is left
/// holding the last block's slot. A stale slot only costs the lookup,
/// but it must not outlive the cache's `clear`.
///
/// The executor's interpreted path, in a function of its own so that its
/// state stays in registers, with nothing materialised per block that a
/// block running on does not need (inside `Jit::run`, one block per call,
/// python3 -c pass with nothing translated took 3.69 G host instructions
/// against `interp::run`'s 2.87 G).
#[inline(never)]
#[allow(clippy::too_many_arguments)]
pub fn run_in_page(
    cpu: &mut CpuState,
    mem: &mut GuestMem<'_>,
    cache: &mut DecodeCache,
    from: &mut Option<u32>,
    max: u64,
    stay: bool,
    page: u32,
    limit: u64,
) -> PageRun {
    let mut n = 0u64;
    let mut crossed = None;
    loop {
        let room = max - n;
        let slot = match *from {
            Some(f) => cache.next(mem, f, cpu.eip),
            None => cache.get_slot(mem, cpu.eip),
        };
        let slot = match slot {
            Ok(s) => s,
            Err(fault) => {
                *from = None;
                return PageRun {
                    n,
                    exit: Some(fault.into()),
                    complete: !mem.code_changed(),
                    branched: false,
                    crossed,
                };
            }
        };
        *from = Some(slot);
        let block = cache.block(slot);
        // The instructions to run, bounded once rather than counted against
        // `max` one by one (as in `interp::run`).
        let take = room.min(block.insns.len() as u64) as usize;
        let insns = &block.insns[..take];
        let mut ctx = Ctx {
            cpu: &mut *cpu,
            mem: &mut *mem,
        };
        for (i, d) in insns.iter().enumerate() {
            // `run_one`, with the handler's result tested as it comes
            // (turning it into an `Option<Exit>` cost ~10 host
            // instructions per guest instruction).
            ctx.cpu.eip = d.next_ip32();
            let r = (d.handler)(&mut ctx, d);
            if r.is_err() || ctx.mem.code_changed() {
                let exit = r.err().map(|e| put_back(ctx.cpu, d, e));
                let ran = i as u64 + 1;
                return PageRun {
                    n: n + ran,
                    exit,
                    complete: ran < room && !ctx.mem.code_changed(),
                    branched: false,
                    crossed,
                };
            }
        }
        let (Some(first), Some(last)) = (insns.first(), insns.last()) else {
            return PageRun {
                n,
                exit: None,
                complete: false,
                branched: false,
                crossed,
            };
        };
        let first_page = first.insn.ip32() >> 12;
        if last.insn.ip32() >> 12 != first_page {
            // Only control transfers end blocks, so every instruction
            // before the last one ran in sequence.
            crossed = insns
                .iter()
                .map(|d| d.insn.ip32())
                .find(|&ip| ip >> 12 != first_page);
        }
        let ran = take as u64;
        n += ran;
        let complete = ran < room;
        if !stay || !complete || cpu.eip >> 12 != page || n >= limit {
            let transfer = take == block.insns.len()
                && last.insn.flow_control() != iced_x86::FlowControl::Next;
            return PageRun {
                n,
                exit: None,
                complete,
                branched: complete && transfer,
                crossed,
            };
        }
    }
}
