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
pub mod decoded;
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
pub use decoded::{Decoded, Ea};

use crate::exit::Exit;
use crate::mem::GuestMem;
use crate::state::{reg, CpuState};
use iced_x86::{Code, Instruction, OpKind, Register};

/// Outcome of [`run`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunResult {
    pub exit: Exit,
    /// Guest instructions retired (an instruction that faulted counts).
    pub executed: u64,
}

/// Executes guest code from `cpu.eip` until a system call, an exception, or
/// exactly `budget` instructions have run (a block is left in the middle
/// when the budget ends there). Exact counts make a run's scheduling the
/// same whichever engine runs which block: the JIT hands the rest of a
/// slice that is shorter than its next block to this function.
pub fn run(
    cpu: &mut CpuState,
    mem: &mut GuestMem<'_>,
    cache: &mut DecodeCache,
    budget: u64,
) -> RunResult {
    let mut executed = 0u64;
    // The slot of the block that ran last, whose successors are tried
    // first (`DecodeCache::next`).
    let mut from = None;
    let exit = loop {
        if mem.code_changed() {
            cache.invalidate_pages(&mem.take_code_changes());
            from = None;
        }
        if executed >= budget {
            break Exit::BudgetSpent;
        }
        let slot = match from {
            Some(f) => cache.next(mem, f, cpu.eip),
            None => cache.get_slot(mem, cpu.eip),
        };
        let slot = match slot {
            Ok(s) => s,
            Err(fault) => break fault.into(),
        };
        from = Some(slot);
        let block = cache.block(slot);
        let mut ctx = Ctx {
            cpu: &mut *cpu,
            mem: &mut *mem,
        };
        let mut stop = None;
        let room = (budget - executed).min(block.insns.len() as u64) as usize;
        for d in &block.insns[..room] {
            executed += 1;
            if let Err(e) = exec(&mut ctx, d) {
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

/// Executes one instruction: EIP moves past it first (a branch handler
/// overwrites it), and back onto it if it faults.
#[inline(always)]
fn exec(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    ctx.cpu.eip = insn.next_ip32();
    let r = (insn.handler)(ctx, insn);
    if let Err(Exit::Exception(ex)) = r {
        if !ex.is_trap() {
            ctx.cpu.eip = insn.ip32();
        }
    }
    r
}

/// Executes one instruction the way the CPU does with EFLAGS.TF set: the
/// unit after which a single-step trap is taken. That is one iteration of
/// a repeated string instruction (EIP stays on it while iterations are
/// left), and after MOV SS or POP SS also the next instruction (the
/// hardware holds debug traps over it). `exit` is `BudgetSpent` when the
/// unit completed without any other exit; the kernel then raises the trap.
pub fn step(cpu: &mut CpuState, mem: &mut GuestMem<'_>, cache: &mut DecodeCache) -> RunResult {
    let mut executed = 0;
    let exit = loop {
        if mem.code_changed() {
            cache.invalidate_pages(&mem.take_code_changes());
        }
        let block = match cache.get(mem, cpu.eip) {
            Ok(b) => b,
            Err(fault) => break fault.into(),
        };
        // A block holds at least one instruction (`DecodeCache::get`).
        let d = &block.insns[0];
        let mut ctx = Ctx {
            cpu: &mut *cpu,
            mem: &mut *mem,
        };
        executed += 1;
        let r = if is_rep_string(&d.insn) {
            one_iteration(&mut ctx, d)
        } else {
            exec(&mut ctx, d)
        };
        match r {
            Ok(()) | Err(Exit::SingleStep) if holds_traps(&d.insn) => continue,
            Ok(()) | Err(Exit::SingleStep) => break Exit::BudgetSpent,
            Err(e) => break e,
        }
    };
    if mem.code_changed() {
        cache.invalidate_pages(&mem.take_code_changes());
    }
    RunResult { exit, executed }
}

/// MOV SS and POP SS: debug traps wait until after the next instruction.
fn holds_traps(insn: &Instruction) -> bool {
    matches!(insn.code(), Code::Popw_SS | Code::Popd_SS)
        || (matches!(insn.code(), Code::Mov_Sreg_rm16 | Code::Mov_Sreg_r32m16)
            && insn.op0_register() == Register::SS)
}

/// A string instruction with a REP/REPE/REPNE prefix (INS and OUTS are
/// #GP in user mode and need no care).
fn is_rep_string(insn: &Instruction) -> bool {
    use Code::*;
    (insn.has_rep_prefix() || insn.has_repne_prefix())
        && matches!(
            insn.code(),
            Movsb_m8_m8
                | Movsw_m16_m16
                | Movsd_m32_m32
                | Stosb_m8_AL
                | Stosw_m16_AX
                | Stosd_m32_EAX
                | Lodsb_AL_m8
                | Lodsw_AX_m16
                | Lodsd_EAX_m32
                | Cmpsb_m8_m8
                | Cmpsw_m16_m16
                | Cmpsd_m32_m32
                | Scasb_AL_m8
                | Scasw_AX_m16
                | Scasd_EAX_m32
        )
}

/// The count register's bits: CX with a 16-bit address size, else ECX.
fn count_mask(insn: &Instruction) -> u32 {
    let a16 = (0..insn.op_count()).any(|i| {
        matches!(
            insn.op_kind(i),
            OpKind::MemorySegSI | OpKind::MemorySegDI | OpKind::MemoryESDI
        )
    });
    if a16 {
        0xffff
    } else {
        u32::MAX
    }
}

/// One iteration of a repeated string instruction: the handler runs with
/// a count of 1, then the count is put back less the iteration done, and
/// EIP stays on the instruction if the repetition goes on.
fn one_iteration(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let mask = count_mask(insn);
    let ecx = ctx.cpu.gpr[reg::ECX];
    let count = ecx & mask;
    if count <= 1 {
        return exec(ctx, insn);
    }
    ctx.cpu.gpr[reg::ECX] = (ecx & !mask) | 1;
    let r = exec(ctx, insn);
    // 0 if the iteration ran, 1 if it faulted before doing anything.
    let undone = ctx.cpu.gpr[reg::ECX] & mask;
    ctx.cpu.gpr[reg::ECX] = (ecx & !mask) | (count - 1 + undone);
    if r.is_ok() && !ends_repetition(ctx, insn) {
        ctx.cpu.eip = insn.ip32();
    }
    r
}

/// REPE/REPNE CMPS and SCAS stop early on ZF.
fn ends_repetition(ctx: &Ctx<'_, '_>, insn: &Instruction) -> bool {
    use Code::*;
    let compares = matches!(
        insn.code(),
        Cmpsb_m8_m8 | Cmpsw_m16_m16 | Cmpsd_m32_m32 | Scasb_AL_m8 | Scasw_AX_m16 | Scasd_EAX_m32
    );
    compares && ctx.cpu.zf() == insn.has_repne_prefix()
}

#[cfg(test)]
mod tests {
    use super::misc::testutil::{Vm, CODE};
    use crate::exit::Exit;
    use crate::state::reg;

    #[test]
    fn a_budget_ends_in_the_middle_of_a_block() {
        // inc eax, five times: one block.
        let mut vm = Vm::new(&[0x40; 5]);
        let r = vm.run_budget(3);
        assert_eq!((r.exit, r.executed), (Exit::BudgetSpent, 3));
        assert_eq!((vm.cpu().gpr[reg::EAX], vm.cpu().eip), (3, CODE + 3));
        // The rest of the block, then the closing int 0x80.
        let r = vm.run_budget(10);
        assert_eq!((r.exit, r.executed), (Exit::Syscall, 3));
        assert_eq!(vm.cpu().gpr[reg::EAX], 5);
    }
}
