//! Data movement: MOVD/MOVQ, the full-register moves (aligned and not),
//! partial-register moves (MOVSS/MOVSD, MOVLPS/MOVHPS, ...), non-temporal
//! stores, mask extraction, PEXTRW/PINSRW, masked stores and EMMS.
//! (PREFETCHh and the fences are no-ops in `misc`.)

use super::int::lane;
use super::trunc;
use crate::addr::GuestAddr;
use crate::interp::ctx::{Ctx, Flow, Handler};
use crate::interp::decoded::Decoded;
use crate::state::reg;
use iced_x86::{Code, Instruction, OpKind};

const LOW64: u128 = u64::MAX as u128;

/// `dst = src`, both of the same width (loads, stores and register moves).
/// Loads narrower than the register (MOVD/MOVQ, MOVSS/MOVSD from memory)
/// zero the rest, which `src` already did.
fn mov<const ALIGNED: bool>(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let v = if ALIGNED {
        ctx.src(insn, 1)?
    } else {
        ctx.src_unaligned(insn, 1)?
    };
    let v = match insn.op0_kind() {
        OpKind::Register if insn.op0_register().is_mm() => trunc(v, 8),
        _ => v,
    };
    ctx.store(insn, 0, v, ALIGNED)
}

/// MOVQ xmm, xmm/m64 and MOVQ xmm/m64, xmm: a register destination gets
/// the low quadword, upper zeroed.
fn movq_xmm(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let v = ctx.src(insn, 1)? & LOW64;
    ctx.store(insn, 0, v, false)
}

/// MOVSS/MOVSD between registers: only the low `BITS` change.
fn mov_scalar_rr<const BITS: u32>(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let m = (1u128 << BITS) - 1;
    let v = (ctx.dst(insn) & !m) | (ctx.src(insn, 1)? & m);
    ctx.set_dst(insn, v);
    Ok(())
}

/// MOVLPS/MOVLPD xmm, m64 (`HIGH` false) and MOVHPS/MOVHPD xmm, m64.
fn load_half<const HIGH: bool>(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let m = ctx.src(insn, 1)?;
    let a = ctx.dst(insn);
    let v = if HIGH {
        (a & LOW64) | m << 64
    } else {
        (a & !LOW64) | m
    };
    ctx.set_dst(insn, v);
    Ok(())
}

/// MOVLPS/MOVLPD m64, xmm and MOVHPS/MOVHPD m64, xmm.
fn store_half<const HIGH: bool>(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let v = ctx.src(insn, 1)?;
    let v = if HIGH { v >> 64 } else { v & LOW64 };
    ctx.store(insn, 0, v, false)
}

/// MOVHLPS (high of src to low of dst) and MOVLHPS (low to high).
fn move_halves<const TO_HIGH: bool>(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let b = ctx.src(insn, 1)?;
    let a = ctx.dst(insn);
    let v = if TO_HIGH {
        (a & LOW64) | b << 64
    } else {
        (a & !LOW64) | b >> 64
    };
    ctx.set_dst(insn, v);
    Ok(())
}

/// MOVQ2DQ xmm, mm and MOVDQ2Q mm, xmm.
fn mov_low64(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let v = ctx.src(insn, 1)? & LOW64;
    ctx.set_dst(insn, v);
    Ok(())
}

/// Gathers the top bit of each `W`-bit lane (PMOVMSKB, MOVMSKPS/PD).
fn sign_mask<const W: u32>(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let v = ctx.src(insn, 1)?;
    let bytes = insn.op1_register().size() as u32;
    let m = (0..bytes * 8 / W).fold(0u32, |m, i| m | ((lane::<W>(v, i) >> (W - 1)) as u32) << i);
    ctx.set_reg(insn.op0_register(), m);
    Ok(())
}

/// PEXTRW r32, mm/xmm, imm8.
fn pextrw(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let v = ctx.src(insn, 1)?;
    let lanes = insn.op1_register().size() as u32 / 2;
    let i = u32::from(insn.immediate8()) % lanes;
    ctx.set_reg(insn.op0_register(), lane::<16>(v, i) as u32);
    Ok(())
}

/// PINSRW mm/xmm, r32/m16, imm8.
fn pinsrw(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let w = ctx.src(insn, 1)? & 0xffff;
    let lanes = insn.op0_register().size() as u32 / 2;
    let s = (u32::from(insn.immediate8()) % lanes) * 16;
    let a = ctx.dst(insn);
    ctx.set_dst(insn, (a & !(0xffff << s)) | w << s);
    Ok(())
}

/// MASKMOVQ/MASKMOVDQU: stores the bytes of op1 whose mask byte (op2)
/// has bit 7 set to DS:EDI. All target bytes are probed first so a fault
/// writes nothing.
fn maskmov(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let v = ctx.src(insn, 1)?;
    let mask = ctx.src(insn, 2)?;
    let bytes = insn.op1_register().size() as u32;
    let base = ctx.cpu.gpr[reg::EDI].wrapping_add(ctx.seg_base(insn.memory_segment()));
    let selected = |i: u32| lane::<8>(mask, i) & 0x80 != 0;
    for i in (0..bytes).filter(|&i| selected(i)) {
        ctx.mem.probe_write(GuestAddr(base.wrapping_add(i)), 1)?;
    }
    for i in (0..bytes).filter(|&i| selected(i)) {
        ctx.mem
            .write_u8(GuestAddr(base.wrapping_add(i)), lane::<8>(v, i) as u8)?;
    }
    Ok(())
}

/// MOVSLDUP (`ODD` false) and MOVSHDUP: duplicate even or odd dwords.
fn dup_dwords<const ODD: bool>(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let b = ctx.src(insn, 1)?;
    let k = u32::from(ODD);
    let v = (0..4).fold(0u128, |r, i| {
        r | u128::from(lane::<32>(b, (i & !1) + k)) << (32 * i)
    });
    ctx.set_dst(insn, v);
    Ok(())
}

/// MOVDDUP xmm, xmm/m64.
fn movddup(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let b = ctx.src(insn, 1)? & LOW64;
    ctx.set_dst(insn, b | b << 64);
    Ok(())
}

/// EMMS: every x87 register empty again.
fn emms(ctx: &mut Ctx<'_, '_>, _: &Decoded) -> Flow {
    ctx.cpu.x87.tag = 0xffff;
    Ok(())
}

/// Selects data-movement handlers.
pub fn lookup(insn: &Instruction) -> Option<Handler> {
    use Code::*;
    let h: Handler = match insn.code() {
        Movd_mm_rm32 | Movd_xmm_rm32 | Movd_rm32_mm | Movd_rm32_xmm | Movq_mm_mmm64
        | Movq_mmm64_mm | Movntq_m64_mm | Movnti_m32_r32 => mov::<false>,
        Movq_xmm_xmmm64 | Movq_xmmm64_xmm => movq_xmm,
        Movdqa_xmm_xmmm128 | Movdqa_xmmm128_xmm | Movaps_xmm_xmmm128 | Movaps_xmmm128_xmm
        | Movapd_xmm_xmmm128 | Movapd_xmmm128_xmm | Movntdq_m128_xmm | Movntps_m128_xmm
        | Movntpd_m128_xmm => mov::<true>,
        Movdqu_xmm_xmmm128 | Movdqu_xmmm128_xmm | Movups_xmm_xmmm128 | Movups_xmmm128_xmm
        | Movupd_xmm_xmmm128 | Movupd_xmmm128_xmm | Lddqu_xmm_m128 => mov::<false>,
        Movss_xmm_xmmm32 | Movsd_xmm_xmmm64 if insn.op1_kind() == OpKind::Memory => mov::<false>,
        Movss_xmm_xmmm32 | Movss_xmmm32_xmm if insn.op0_kind() == OpKind::Register => {
            mov_scalar_rr::<32>
        }
        Movsd_xmm_xmmm64 | Movsd_xmmm64_xmm if insn.op0_kind() == OpKind::Register => {
            mov_scalar_rr::<64>
        }
        Movss_xmmm32_xmm | Movsd_xmmm64_xmm => mov::<false>,
        Movlps_xmm_m64 | Movlpd_xmm_m64 => load_half::<false>,
        Movhps_xmm_m64 | Movhpd_xmm_m64 => load_half::<true>,
        Movlps_m64_xmm | Movlpd_m64_xmm => store_half::<false>,
        Movhps_m64_xmm | Movhpd_m64_xmm => store_half::<true>,
        Movhlps_xmm_xmm => move_halves::<false>,
        Movlhps_xmm_xmm => move_halves::<true>,
        Movq2dq_xmm_mm | Movdq2q_mm_xmm => mov_low64,
        Pmovmskb_r32_mm | Pmovmskb_r32_xmm => sign_mask::<8>,
        Movmskps_r32_xmm => sign_mask::<32>,
        Movmskpd_r32_xmm => sign_mask::<64>,
        Pextrw_r32_mm_imm8 | Pextrw_r32_xmm_imm8 => pextrw,
        Pinsrw_mm_r32m16_imm8 | Pinsrw_xmm_r32m16_imm8 => pinsrw,
        Maskmovq_rDI_mm_mm | Maskmovdqu_rDI_xmm_xmm => maskmov,
        Movsldup_xmm_xmmm128 => dup_dwords::<false>,
        Movshdup_xmm_xmmm128 => dup_dwords::<true>,
        Movddup_xmm_xmmm64 => movddup,
        Emms => emms,
        _ => return None,
    };
    Some(h)
}
