//! Stack instructions: PUSH/POP (register, r/m, immediate, segment
//! register), PUSHA/POPA, PUSHF/POPF, ENTER, LEAVE.
//!
//! The stack is always 32-bit (SS is a flat 32-bit segment), so ESP is
//! used and updated whole; the operand size (16 with a 66 prefix) only sets
//! how many bytes move. ESP is committed after the memory accesses, so a
//! faulting instruction leaves it unchanged; the accesses happen in the
//! architectural order, so a fault names the same address as on the host.
//! Quirks, per the SDM and the host CPU:
//! - PUSH ESP pushes the value before the decrement; POP ESP leaves the
//!   popped value in ESP; POP m computes the address with ESP already
//!   incremented.
//! - PUSH Sreg with a 32-bit operand writes the selector zero-extended to
//!   32 bits (the AMD host does; recent Intel parts write only the low 16
//!   bits and leave the rest, which no program can rely on).
//! - PUSHF stores VM and RF as 0; POPF at CPL 3 with IOPL 0 changes only
//!   `flag::USER_WRITABLE` (IF, IOPL, VM, VIF, VIP stay).

use super::ctx::{Ctx, Flow, Handler};
use super::misc::load_seg;
use crate::addr::GuestAddr;
use crate::flags::size_mask;
use crate::interp::decoded::Decoded;
use crate::state::{flag, reg};
use iced_x86::{Code, Instruction, Register};

/// PUSH r/m, PUSH r, PUSH imm: the operand is read with ESP before the
/// decrement (so `push esp` and `push [esp]` see the old value).
fn push<const S: u32>(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let v = ctx.read_op(insn, 0, S)?;
    ctx.push(S, v)
}

/// `push r32`, the common case, without operand dispatch.
fn push_r32(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let v = ctx.reg(insn.op0_register());
    ctx.push(32, v)
}

/// `pop r32`; with ESP as the destination the popped value wins over the
/// increment.
fn pop_r32(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let v = ctx.pop(32)?;
    ctx.set_reg(insn.op0_register(), v);
    Ok(())
}

/// POP r/m of any size. For memory, the address uses the incremented ESP
/// (SDM: "If the ESP register is used as a base register for addressing a
/// destination operand in memory, the POP instruction computes the
/// effective address of the operand after it increments the ESP
/// register").
fn pop<const S: u32>(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let old = ctx.esp();
    let v = ctx.pop(S)?;
    match ctx.loc(insn, 0) {
        super::ctx::Loc::Reg(r) => {
            ctx.set_reg(r, v);
            Ok(())
        }
        super::ctx::Loc::Mem(a) => ctx.write(a, S, v).inspect_err(|_| {
            ctx.cpu.gpr[reg::ESP] = old;
        }),
    }
}

/// PUSH Sreg: see the module doc for the 32-bit form.
fn push_sreg<const S: u32>(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let v = ctx.reg(insn.op0_register());
    ctx.push(S, v)
}

/// POP Sreg: the selector is checked (and may #GP) before ESP moves.
fn pop_sreg<const S: u32>(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let sp = ctx.esp();
    let sel = ctx.read(GuestAddr(sp), S)? as u16;
    let s = insn.op0_register() as usize - Register::ES as usize;
    load_seg(ctx, s, sel)?;
    ctx.cpu.gpr[reg::ESP] = sp.wrapping_add(S / 8);
    Ok(())
}

/// PUSHA/PUSHAD: EAX, ECX, EDX, EBX, the original ESP, EBP, ESI, EDI.
/// Stored one by one: a fault keeps the slots already written (as on the
/// host) but leaves ESP.
fn pusha<const S: u32>(ctx: &mut Ctx<'_, '_>, _: &Decoded) -> Flow {
    let bytes = S / 8;
    let sp = ctx.esp();
    let top = sp.wrapping_sub(8 * bytes);
    let regs = ctx.cpu.gpr;
    for (i, v) in regs.iter().enumerate() {
        let at = sp.wrapping_sub((i as u32 + 1) * bytes);
        ctx.write(GuestAddr(at), S, *v & size_mask(S))?;
    }
    ctx.cpu.gpr[reg::ESP] = top;
    Ok(())
}

/// POPA/POPAD: EDI first, up to EAX; the saved ESP slot is ignored. Each
/// register is written as it is popped: on a fault the ones popped before
/// keep their new values (the host does this) and ESP is unchanged.
fn popa<const S: u32>(ctx: &mut Ctx<'_, '_>, _: &Decoded) -> Flow {
    let bytes = S / 8;
    let sp = ctx.esp();
    let keep = !size_mask(S);
    for (slot, r) in (0..8).rev().enumerate() {
        // The ESP slot is read too (it can fault), then dropped.
        let v = ctx.read(GuestAddr(sp.wrapping_add(slot as u32 * bytes)), S)?;
        if r != reg::ESP {
            let g = &mut ctx.cpu.gpr[r];
            *g = (*g & keep) | v;
        }
    }
    ctx.cpu.gpr[reg::ESP] = sp.wrapping_add(8 * bytes);
    Ok(())
}

/// PUSHF/PUSHFD: VM and RF read as 0 in the image.
fn pushf<const S: u32>(ctx: &mut Ctx<'_, '_>, _: &Decoded) -> Flow {
    let v = ctx.cpu.eflags() & !(flag::VM | flag::RF);
    ctx.push(S, v & size_mask(S))
}

/// POPF/POPFD at CPL 3, IOPL 0. A TF it sets traps after the next
/// instruction (`control::trap_flag_set`).
fn popf<const S: u32>(ctx: &mut Ctx<'_, '_>, _: &Decoded) -> Flow {
    let v = ctx.pop(S)?;
    let mask = flag::USER_WRITABLE & size_mask(S);
    let old = ctx.cpu.eflags();
    let new = (old & !mask) | (v & mask);
    ctx.cpu.set_eflags(new);
    super::control::trap_flag_set(old, new)
}

/// ENTER imm16, imm8 with a 32-bit stack (SDM "ENTER", Operation): push
/// EBP; with nesting level L > 0 copy L-1 frame pointers from the old
/// frame ([EBP-n], [EBP-2n], ...) and push the new frame pointer; then
/// (E)BP = frame (only BP with a 16-bit operand size, as on the host) and
/// ESP drops by the allocation size. Like the host, the new ESP must be
/// writable, else #PF at it. The steps run in order: a fault keeps the
/// stores already done below ESP (so does the host) but changes no
/// register.
fn enter<const S: u32>(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let n = S / 8;
    let alloc = u32::from(insn.immediate16());
    let level = u32::from(insn.immediate8_2nd()) % 32;
    let sp = ctx.esp();
    let frame = sp.wrapping_sub(n);
    let pushes = if level == 0 { 1 } else { level + 1 };
    let bottom = sp.wrapping_sub(pushes * n);
    let mut ebp = ctx.cpu.gpr[reg::EBP];
    ctx.write(GuestAddr(frame), S, ebp & size_mask(S))?;
    let mut at = frame;
    for _ in 1..level {
        ebp = ebp.wrapping_sub(n);
        let v = ctx.read(GuestAddr(ebp), S)?;
        at = at.wrapping_sub(n);
        ctx.write(GuestAddr(at), S, v)?;
    }
    if level > 0 {
        ctx.write(GuestAddr(at.wrapping_sub(n)), S, frame & size_mask(S))?;
    }
    // The host checks the final stack pointer is writable after the
    // pushes (a fault reports it as the address, pushes already stored).
    let esp = bottom.wrapping_sub(alloc);
    ctx.mem.probe_write(GuestAddr(esp), n)?;
    let bp = if S == 16 { Register::BP } else { Register::EBP };
    ctx.set_reg(bp, frame);
    ctx.cpu.gpr[reg::ESP] = esp;
    Ok(())
}

/// LEAVE: ESP = EBP, then pop (E)BP; a faulting pop changes nothing.
fn leave<const S: u32>(ctx: &mut Ctx<'_, '_>, _: &Decoded) -> Flow {
    let bp = ctx.cpu.gpr[reg::EBP];
    let v = ctx.read(GuestAddr(bp), S)?;
    ctx.cpu.gpr[reg::ESP] = bp.wrapping_add(S / 8);
    let dst = if S == 16 { Register::BP } else { Register::EBP };
    ctx.set_reg(dst, v);
    Ok(())
}

/// Selects handlers of this group.
pub fn lookup(insn: &Instruction) -> Option<Handler> {
    use Code::*;
    Some(match insn.code() {
        Push_r32 => push_r32,
        Pop_r32 => pop_r32,
        Push_r16 | Push_rm16 | Push_imm16 | Pushw_imm8 => push::<16>,
        Push_rm32 | Pushd_imm32 | Pushd_imm8 => push::<32>,
        Pop_r16 | Pop_rm16 => pop::<16>,
        Pop_rm32 => pop::<32>,
        Pushw_ES | Pushw_CS | Pushw_SS | Pushw_DS | Pushw_FS | Pushw_GS => push_sreg::<16>,
        Pushd_ES | Pushd_CS | Pushd_SS | Pushd_DS | Pushd_FS | Pushd_GS => push_sreg::<32>,
        Popw_ES | Popw_SS | Popw_DS | Popw_FS | Popw_GS => pop_sreg::<16>,
        Popd_ES | Popd_SS | Popd_DS | Popd_FS | Popd_GS => pop_sreg::<32>,
        Pushaw => pusha::<16>,
        Pushad => pusha::<32>,
        Popaw => popa::<16>,
        Popad => popa::<32>,
        Pushfw => pushf::<16>,
        Pushfd => pushf::<32>,
        Popfw => popf::<16>,
        Popfd => popf::<32>,
        Enterw_imm16_imm8 => enter::<16>,
        Enterd_imm16_imm8 => enter::<32>,
        Leavew => leave::<16>,
        Leaved => leave::<32>,
        _ => return None,
    })
}

#[cfg(test)]
mod tests;
