//! Integer ALU: ADD/OR/ADC/SBB/AND/SUB/XOR/CMP/TEST, INC/DEC/NEG/NOT, MOV,
//! LEA. Flags are recorded lazily (see `flags.rs`).

use super::ctx::{Ctx, Flow, Handler};
use crate::by_size;
use crate::flags::{size_mask, LazyOp};
use crate::interp::decoded::Decoded;
use crate::state::CpuState;
use iced_x86::{Instruction, Mnemonic, OpKind};

pub const ADD: u8 = 0;
pub const OR: u8 = 1;
pub const ADC: u8 = 2;
pub const SBB: u8 = 3;
pub const AND: u8 = 4;
pub const SUB: u8 = 5;
pub const XOR: u8 = 6;
pub const CMP: u8 = 7;
pub const TEST: u8 = 8;

/// Computes a two-operand ALU operation and records its flags.
#[inline(always)]
pub fn alu(cpu: &mut CpuState, op: u8, size: u32, a: u32, b: u32) -> u32 {
    let m = size_mask(size);
    let (lazy, r) = match op {
        ADD => (LazyOp::Add, a.wrapping_add(b)),
        OR => (LazyOp::Logic, a | b),
        ADC if cpu.cf() => (LazyOp::Adc, a.wrapping_add(b).wrapping_add(1)),
        ADC => (LazyOp::Add, a.wrapping_add(b)),
        SBB if cpu.cf() => (LazyOp::Sbb, a.wrapping_sub(b).wrapping_sub(1)),
        SBB => (LazyOp::Sub, a.wrapping_sub(b)),
        AND | TEST => (LazyOp::Logic, a & b),
        XOR => (LazyOp::Logic, a ^ b),
        _ => (LazyOp::Sub, a.wrapping_sub(b)),
    };
    let r = r & m;
    cpu.set_lazy(lazy, size, r, a, b);
    r
}

/// `op dst, src` for every form (r/m,r; r,r/m; r/m,imm; accumulator,imm).
fn binop<const OP: u8, const S: u32>(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let dst = ctx.loc(insn, 0);
    let a = if OP == CMP || OP == TEST {
        ctx.read_loc(dst, S)?
    } else {
        ctx.read_loc_rmw(dst, S)?
    };
    let b = ctx.read_op(insn, 1, S)?;
    // A faulting write must leave the flags as they were.
    let saved = (ctx.cpu.lazy, ctx.cpu.eflags);
    let r = alu(ctx.cpu, OP, S, a, b);
    if OP != CMP && OP != TEST {
        if let Err(e) = ctx.write_loc(dst, S, r) {
            (ctx.cpu.lazy, ctx.cpu.eflags) = saved;
            return Err(e);
        }
    }
    Ok(())
}

/// `op r, src`: a register destination cannot fault, so the flags need
/// no saving.
fn binop_r<const OP: u8, const S: u32>(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let dst = insn.op0_register();
    let a = ctx.reg(dst);
    let b = ctx.read_op(insn, 1, S)?;
    let r = alu(ctx.cpu, OP, S, a, b);
    if OP != CMP && OP != TEST {
        ctx.set_reg(dst, r);
    }
    Ok(())
}

/// The handler of ALU operation `OP` for the form of `insn`.
fn binop_for<const OP: u8>(insn: &Instruction) -> Handler {
    if insn.op0_kind() == OpKind::Register {
        by_size!(insn, binop_r, OP)
    } else {
        by_size!(insn, binop, OP)
    }
}

/// `xor r, r` and `sub r, r` on the same register: the idiom compilers
/// use to clear a register (also breaks no dependency here, but skips the
/// operand reads).
fn clear_reg<const S: u32>(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    ctx.set_reg(insn.op0_register(), 0);
    let logic = insn.mnemonic() == Mnemonic::Xor;
    let op = if logic { LazyOp::Logic } else { LazyOp::Sub };
    ctx.cpu.set_lazy(op, S, 0, 0, 0);
    Ok(())
}

fn inc<const S: u32>(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let dst = ctx.loc(insn, 0);
    let a = ctx.read_loc_rmw(dst, S)?;
    let r = a.wrapping_add(1) & size_mask(S);
    ctx.write_loc(dst, S, r)?;
    ctx.cpu.set_lazy_incdec(LazyOp::Inc, S, r, a);
    Ok(())
}

fn dec<const S: u32>(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let dst = ctx.loc(insn, 0);
    let a = ctx.read_loc_rmw(dst, S)?;
    let r = a.wrapping_sub(1) & size_mask(S);
    ctx.write_loc(dst, S, r)?;
    ctx.cpu.set_lazy_incdec(LazyOp::Dec, S, r, a);
    Ok(())
}

fn neg<const S: u32>(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let dst = ctx.loc(insn, 0);
    let b = ctx.read_loc_rmw(dst, S)?;
    let r = 0u32.wrapping_sub(b) & size_mask(S);
    ctx.write_loc(dst, S, r)?;
    ctx.cpu.set_lazy(LazyOp::Sub, S, r, 0, b);
    Ok(())
}

fn not<const S: u32>(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let dst = ctx.loc(insn, 0);
    let a = ctx.read_loc_rmw(dst, S)?;
    ctx.write_loc(dst, S, !a & size_mask(S))
}

fn mov<const S: u32>(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let v = ctx.read_op(insn, 1, S)?;
    let dst = ctx.loc(insn, 0);
    ctx.write_loc(dst, S, v)
}

/// `mov r32, r32`: the most common instruction, without operand dispatch.
fn mov_r32_r32(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let v = ctx.reg(insn.op1_register());
    ctx.set_reg(insn.op0_register(), v);
    Ok(())
}

/// `mov r32, [mem]`.
fn mov_r32_m32(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let a = ctx.ea(insn);
    let v = ctx.mem.read_u32(a)?;
    ctx.set_reg(insn.op0_register(), v);
    Ok(())
}

/// `mov [mem], r32`.
fn mov_m32_r32(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let a = ctx.ea(insn);
    let v = ctx.reg(insn.op1_register());
    ctx.mem.write_u32(a, v)?;
    Ok(())
}

/// LEA: the address without segment base, truncated to the operand size.
fn lea<const S: u32>(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let mut a = insn.memory_displacement32();
    if insn.memory_base() != iced_x86::Register::None {
        a = a.wrapping_add(ctx.reg(insn.memory_base()));
    }
    if insn.memory_index() != iced_x86::Register::None {
        a = a.wrapping_add(
            ctx.reg(insn.memory_index())
                .wrapping_mul(insn.memory_index_scale()),
        );
    }
    if insn.memory_base().size() == 2
        || insn.memory_index().size() == 2
        || insn.memory_displ_size() == 2
    {
        a &= 0xffff;
    }
    ctx.set_reg(insn.op0_register(), a & size_mask(S));
    Ok(())
}

/// Selects ALU handlers.
pub fn lookup(insn: &Instruction) -> Option<Handler> {
    use iced_x86::Code;
    use Mnemonic::*;
    let same_regs = insn.op_count() == 2
        && insn.op0_kind() == iced_x86::OpKind::Register
        && insn.op1_kind() == iced_x86::OpKind::Register
        && insn.op0_register() == insn.op1_register();
    Some(match insn.mnemonic() {
        Xor | Sub if same_regs => by_size!(insn, clear_reg),
        Add => binop_for::<ADD>(insn),
        Or => binop_for::<OR>(insn),
        Adc => binop_for::<ADC>(insn),
        Sbb => binop_for::<SBB>(insn),
        And => binop_for::<AND>(insn),
        Sub => binop_for::<SUB>(insn),
        Xor => binop_for::<XOR>(insn),
        Cmp => binop_for::<CMP>(insn),
        Test => binop_for::<TEST>(insn),
        Inc => by_size!(insn, inc),
        Dec => by_size!(insn, dec),
        Neg => by_size!(insn, neg),
        Not => by_size!(insn, not),
        Mov => match insn.code() {
            Code::Mov_r32_rm32 | Code::Mov_rm32_r32
                if insn.op0_kind() == iced_x86::OpKind::Register
                    && insn.op1_kind() == iced_x86::OpKind::Register =>
            {
                mov_r32_r32
            }
            Code::Mov_r32_rm32 => mov_r32_m32,
            Code::Mov_rm32_r32 => mov_m32_r32,
            // Moves to and from segment, control, debug and test registers
            // live in `misc`.
            _ if [insn.op0_register(), insn.op1_register()]
                .iter()
                .any(|r| r.is_segment_register() || r.is_cr() || r.is_dr() || r.is_tr()) =>
            {
                return None
            }
            _ => by_size!(insn, mov),
        },
        Lea => by_size!(insn, lea),
        _ => return None,
    })
}
