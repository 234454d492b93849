//! Data movement and flag odds and ends: XCHG, CMPXCHG, CMPXCHG8B, XADD,
//! SETcc, CMOVcc, LAHF/SAHF, CBW/CWDE/CWD/CDQ, MOVSX/MOVZX,
//! CLC/STC/CMC/CLD/STD, SALC, XLAT, BOUND.
//!
//! Segment registers and descriptor queries live in [`segment`]; RDTSC,
//! CPUID, cache hints and the system instructions user mode can reach in
//! [`system`].
//!
//! Read-modify-write instructions read their memory operand, write it, and
//! only then commit registers and flags, so a fault changes nothing. The
//! locked forms (XCHG with memory always is) need nothing more: one guest
//! thread runs at a time.

mod segment;
mod system;

pub(super) use segment::{check_cs, load_seg};

use super::alu::{alu, CMP};
use super::ctx::{Ctx, Flow, Handler, Loc};
use super::table::op_size;
use crate::addr::GuestAddr;
use crate::exit::Exception;
use crate::flags::{size_mask, LazyOp};
use crate::interp::decoded::Decoded;
use crate::state::{flag, reg};
use crate::{by_cc, by_size};
use iced_x86::{Code, Instruction, Mnemonic, OpKind, Register};

/// The accumulator (AL, AX or EAX) of an operand size.
fn acc(size: u32) -> Register {
    match size {
        8 => Register::AL,
        16 => Register::AX,
        _ => Register::EAX,
    }
}

/// Sign-extends the low `size` bits of `v` to 32 bits.
fn sext(v: u32, size: u32) -> u32 {
    let shift = 32 - size;
    (((v << shift) as i32) >> shift) as u32
}

fn xchg<const S: u32>(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let a = ctx.loc(insn, 0);
    let b = ctx.loc(insn, 1);
    let va = ctx.read_loc_rmw(a, S)?;
    let vb = ctx.read_loc(b, S)?;
    // Operand 0 is the memory one if any: its write faults before any
    // register changes.
    ctx.write_loc(a, S, vb)?;
    ctx.write_loc(b, S, va)
}

/// CMPXCHG r/m, r: the destination is written in both outcomes (with its
/// own value on failure), so a read-only destination always faults.
fn cmpxchg<const S: u32>(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let dst = ctx.loc(insn, 0);
    let d = ctx.read_loc_rmw(dst, S)?;
    let a = ctx.reg(acc(S));
    let equal = a == d;
    let new = if equal {
        ctx.reg(insn.op1_register())
    } else {
        d
    };
    ctx.write_loc(dst, S, new)?;
    alu(ctx.cpu, CMP, S, a, d);
    if !equal {
        ctx.set_reg(acc(S), d);
    }
    Ok(())
}

/// CMPXCHG8B m64: compares EDX:EAX with m64; ZF reports equality, the
/// other flags are unchanged. On failure m64 is written back unchanged
/// (SDM: the processor never produces a locked read without a locked
/// write) and EDX:EAX receives it.
fn cmpxchg8b(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    if insn.op0_kind() != OpKind::Memory {
        return Err(Exception::InvalidOpcode.into());
    }
    let a = ctx.ea(insn);
    // Read with write intent, like `Ctx::read_loc_rmw`.
    let m = match ctx.mem.read_u64(a) {
        Ok(m) => m,
        Err(e) => {
            ctx.mem.probe_write(a, 8)?;
            return Err(e.into());
        }
    };
    let g = &ctx.cpu.gpr;
    let expected = u64::from(g[reg::EDX]) << 32 | u64::from(g[reg::EAX]);
    let replacement = u64::from(g[reg::ECX]) << 32 | u64::from(g[reg::EBX]);
    let equal = m == expected;
    ctx.mem.write_u64(a, if equal { replacement } else { m })?;
    if !equal {
        ctx.cpu.gpr[reg::EAX] = m as u32;
        ctx.cpu.gpr[reg::EDX] = (m >> 32) as u32;
    }
    ctx.cpu
        .update_status(flag::ZF, if equal { flag::ZF } else { 0 });
    Ok(())
}

/// XADD r/m, r: TEMP = SRC + DEST; SRC = DEST; DEST = TEMP (DEST last, so
/// `xadd r, r` with one register leaves the sum).
fn xadd<const S: u32>(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let dst = ctx.loc(insn, 0);
    let src = insn.op1_register();
    let d = ctx.read_loc_rmw(dst, S)?;
    let s = ctx.reg(src);
    let sum = d.wrapping_add(s) & size_mask(S);
    match dst {
        Loc::Mem(a) => {
            ctx.write(a, S, sum)?;
            ctx.set_reg(src, d);
        }
        Loc::Reg(r) => {
            ctx.set_reg(src, d);
            ctx.set_reg(r, sum);
        }
    }
    ctx.cpu.set_lazy(LazyOp::Add, S, sum, d, s);
    Ok(())
}

fn setcc<const CC: u8>(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let v = u32::from(ctx.cpu.cond(CC));
    let dst = ctx.loc(insn, 0);
    ctx.write_loc(dst, 8, v)
}

/// CMOVcc: the source is read (and may fault) even when the condition is
/// false; a false condition leaves the destination alone in 32-bit mode.
fn cmovcc<const CC: u8, const S: u32>(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let v = ctx.read_op(insn, 1, S)?;
    if ctx.cpu.cond(CC) {
        ctx.set_reg(insn.op0_register(), v);
    }
    Ok(())
}

/// The flags LAHF/SAHF move: SF:ZF:0:AF:0:PF:1:CF.
const AH_FLAGS: u32 = flag::SF | flag::ZF | flag::AF | flag::PF | flag::CF;

fn lahf(ctx: &mut Ctx<'_, '_>, _: &Decoded) -> Flow {
    let v = ctx.cpu.eflags() & AH_FLAGS | flag::FIXED1;
    ctx.set_reg(Register::AH, v);
    Ok(())
}

fn sahf(ctx: &mut Ctx<'_, '_>, _: &Decoded) -> Flow {
    let ah = ctx.reg(Register::AH);
    ctx.cpu.update_status(AH_FLAGS, ah);
    Ok(())
}

/// CBW/CWDE: sign-extends the low half of the accumulator of size `S`.
fn cbw<const S: u32>(ctx: &mut Ctx<'_, '_>, _: &Decoded) -> Flow {
    let v = sext(ctx.reg(acc(S / 2)), S / 2);
    ctx.set_reg(acc(S), v);
    Ok(())
}

/// CWD/CDQ: fills DX/EDX with the sign of AX/EAX.
fn cwd<const S: u32>(ctx: &mut Ctx<'_, '_>, _: &Decoded) -> Flow {
    let sign = ctx.reg(acc(S)) >> (S - 1) & 1;
    let hi = if S == 16 { Register::DX } else { Register::EDX };
    ctx.set_reg(hi, 0u32.wrapping_sub(sign));
    Ok(())
}

/// MOVSX/MOVZX from a `SRC`-bit operand.
fn movx<const SIGNED: bool, const SRC: u32>(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let v = ctx.read_op(insn, 1, SRC)?;
    let v = if SIGNED { sext(v, SRC) } else { v };
    ctx.set_reg(insn.op0_register(), v);
    Ok(())
}

fn clc(ctx: &mut Ctx<'_, '_>, _: &Decoded) -> Flow {
    ctx.cpu.update_status(flag::CF, 0);
    Ok(())
}

fn stc(ctx: &mut Ctx<'_, '_>, _: &Decoded) -> Flow {
    ctx.cpu.update_status(flag::CF, flag::CF);
    Ok(())
}

fn cmc(ctx: &mut Ctx<'_, '_>, _: &Decoded) -> Flow {
    let cf = if ctx.cpu.cf() { 0 } else { flag::CF };
    ctx.cpu.update_status(flag::CF, cf);
    Ok(())
}

/// CLD/STD: DF is never lazy, it lives in `eflags`.
fn cld(ctx: &mut Ctx<'_, '_>, _: &Decoded) -> Flow {
    ctx.cpu.eflags &= !flag::DF;
    Ok(())
}

fn std_(ctx: &mut Ctx<'_, '_>, _: &Decoded) -> Flow {
    ctx.cpu.eflags |= flag::DF;
    Ok(())
}

/// SALC (undocumented D6): AL = CF ? 0xff : 0; flags unchanged.
fn salc(ctx: &mut Ctx<'_, '_>, _: &Decoded) -> Flow {
    let v = if ctx.cpu.cf() { 0xff } else { 0 };
    ctx.set_reg(Register::AL, v);
    Ok(())
}

/// XLAT: AL = [seg:EBX + AL] (BX + AL with a 16-bit address size); iced
/// presents it as a memory operand with base EBX/BX and index AL, of a
/// kind (`MemorySegEBX`) that has no `Ea` form.
fn xlat(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let base = insn.memory_base();
    let mut a = ctx.reg(base).wrapping_add(ctx.reg(Register::AL));
    if base.size() == 2 {
        a &= 0xffff;
    }
    let a = GuestAddr(a.wrapping_add(ctx.seg_base(insn.memory_segment())));
    let v = ctx.mem.read_u8(a)?;
    ctx.set_reg(Register::AL, u32::from(v));
    Ok(())
}

/// BOUND r, m: #BR unless lower <= index <= upper (signed).
fn bound<const S: u32>(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let a = ctx.ea(insn);
    let lower = sext(ctx.read(a, S)?, S) as i32;
    let upper = sext(ctx.read(a.add(S / 8), S)?, S) as i32;
    let index = sext(ctx.reg(insn.op0_register()), S) as i32;
    if index < lower || index > upper {
        return Err(Exception::BoundRange.into());
    }
    Ok(())
}

/// Selects handlers of this group.
pub fn lookup(insn: &Instruction) -> Option<Handler> {
    use Mnemonic::*;
    let h: Handler = match insn.mnemonic() {
        Xchg => by_size!(insn, xchg),
        Cmpxchg if is_cmpxchg(insn.code()) => by_size!(insn, cmpxchg),
        Cmpxchg8b => cmpxchg8b,
        Xadd => by_size!(insn, xadd),
        Seta | Setae | Setb | Setbe | Sete | Setg | Setge | Setl | Setle | Setne | Setno
        | Setnp | Setns | Seto | Setp | Sets => by_cc!(insn, setcc),
        Cmova | Cmovae | Cmovb | Cmovbe | Cmove | Cmovg | Cmovge | Cmovl | Cmovle | Cmovne
        | Cmovno | Cmovnp | Cmovns | Cmovo | Cmovp | Cmovs => match op_size(insn, 0) {
            16 => by_cc!(insn, cmovcc, 16),
            _ => by_cc!(insn, cmovcc, 32),
        },
        Lahf => lahf,
        Sahf => sahf,
        Cbw => cbw::<16>,
        Cwde => cbw::<32>,
        Cwd => cwd::<16>,
        Cdq => cwd::<32>,
        Movsx | Movzx => movx_handler(insn),
        Clc => clc,
        Stc => stc,
        Cmc => cmc,
        Cld => cld,
        Std => std_,
        Salc => salc,
        Xlatb => xlat,
        Bound if op_size(insn, 0) == 16 => bound::<16>,
        Bound => bound::<32>,
        _ => return segment::lookup(insn).or_else(|| system::lookup(insn)),
    };
    Some(h)
}

/// CMPXCHG proper (not the 486 A-stepping opcodes iced can also name).
fn is_cmpxchg(code: Code) -> bool {
    matches!(
        code,
        Code::Cmpxchg_rm8_r8 | Code::Cmpxchg_rm16_r16 | Code::Cmpxchg_rm32_r32
    )
}

fn movx_handler(insn: &Instruction) -> Handler {
    let signed = insn.mnemonic() == Mnemonic::Movsx;
    match (signed, op_size(insn, 1)) {
        (true, 8) => movx::<true, 8>,
        (true, _) => movx::<true, 16>,
        (false, 8) => movx::<false, 8>,
        (false, _) => movx::<false, 16>,
    }
}

#[cfg(test)]
pub(super) mod testutil;

#[cfg(test)]
mod tests;
