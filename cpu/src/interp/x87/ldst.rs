//! Data movement: FLD/FILD/FBLD, FST/FSTP/FIST/FISTP/FISTTP/FBSTP, FXCH,
//! FCMOVcc, the constants (FLD1, FLDZ, FLDPI, ...), FFREE/FFREEP,
//! FDECSTP/FINCSTP.

use super::convert;
use super::float::{self, exc, Fx, Rc};
use super::regs::sw;
use super::{load_mem, sti, wait, write_f80};
use crate::addr::GuestAddr;
use crate::interp::ctx::{Ctx, Flow, Handler};
use crate::interp::decoded::Decoded;
use crate::state::F80;
use iced_x86::{Instruction, MemorySize, Mnemonic, OpKind};

/// Pushes a value loaded by an FLD-like instruction. Only an unmasked IE
/// (an SNaN source) stops the push; the host completes the load of a
/// denormal even when DE is unmasked.
fn push_loaded(ctx: &mut Ctx<'_, '_>, v: F80, fx: Fx) -> Flow {
    let x = &mut ctx.cpu.x87;
    x.finish(fx);
    if fx.exc & exc::IE & !x.control != 0 {
        return Ok(());
    }
    x.push_checked(v);
    Ok(())
}

/// FLD m32fp/m64fp/m80fp, FILD m16/m32/m64, FBLD m80bcd.
fn fld_mem(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    wait(ctx)?;
    let mut fx = Fx::default();
    let v = if insn.memory_size() == MemorySize::Bcd {
        let a = ctx.ea(insn);
        let mut b = [0u8; 10];
        ctx.mem.read_bytes(a, &mut b)?;
        convert::from_bcd(b)
    } else {
        let (v, denormal) = load_mem(ctx, insn)?;
        let narrow = matches!(
            insn.memory_size(),
            MemorySize::Float32 | MemorySize::Float64
        );
        if denormal {
            fx.exc |= exc::DE;
        }
        // Widening quiets an SNaN; FLD m80 copies it unchanged.
        if narrow && v.class() == float::Class::SNaN {
            fx.exc |= exc::IE;
            float::quiet(v)
        } else {
            v
        }
    };
    push_loaded(ctx, v, fx)
}

/// FLD ST(i).
fn fld_sti(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    wait(ctx)?;
    let i = sti(insn, 0);
    let x = &mut ctx.cpu.x87;
    if x.is_empty(i) {
        if !x.stack_underflow() {
            x.push(F80::INDEFINITE);
        }
        return Ok(());
    }
    let v = x.st(i);
    push_loaded(ctx, v, Fx::default())
}

/// A value encoded for a memory destination.
enum Stored {
    U16(u16),
    U32(u32),
    U64(u64),
    Ext(F80),
    Bcd([u8; 10]),
}

/// Encodes ST(0) for the destination's memory format.
fn encode(v: F80, size: MemorySize, cw: u16, rc: Rc, fx: &mut Fx) -> Stored {
    match size {
        MemorySize::Float32 => Stored::U32(convert::to_f32(v, cw, fx)),
        MemorySize::Float64 => Stored::U64(convert::to_f64(v, cw, fx)),
        MemorySize::Float80 => Stored::Ext(v),
        MemorySize::Int16 => Stored::U16(convert::to_int(v, 16, rc, fx) as u16),
        MemorySize::Int32 => Stored::U32(convert::to_int(v, 32, rc, fx) as u32),
        MemorySize::Int64 => Stored::U64(convert::to_int(v, 64, rc, fx) as u64),
        _ => Stored::Bcd(convert::to_bcd(v, rc, fx)),
    }
}

fn write_stored(ctx: &mut Ctx<'_, '_>, a: GuestAddr, s: Stored) -> Flow {
    match s {
        Stored::U16(v) => ctx.mem.write_u16(a, v)?,
        Stored::U32(v) => ctx.mem.write_u32(a, v)?,
        Stored::U64(v) => ctx.mem.write_u64(a, v)?,
        Stored::Ext(v) => write_f80(ctx, a, v)?,
        Stored::Bcd(b) => {
            ctx.mem.write_bytes(a, &b)?;
        }
    }
    Ok(())
}

/// FST/FSTP/FIST/FISTP/FBSTP to memory (`TRUNC`: FISTTP).
fn fst_mem<const POP: bool, const TRUNC: bool>(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    wait(ctx)?;
    let a = ctx.ea(insn);
    let x = &ctx.cpu.x87;
    let cw = x.control;
    let rc = if TRUNC { Rc::Zero } else { Rc::from_cw(cw) };
    let mut fx = Fx::default();
    let empty = x.is_empty(0);
    // An empty ST(0) stores the format's indefinite when IE is masked.
    let v = if empty { F80::INDEFINITE } else { x.st(0) };
    let stored = encode(v, insn.memory_size(), cw, rc, &mut fx);
    if fx.exc & (exc::OE | exc::UE) & !cw != 0 {
        // Nothing is stored, so nothing is inexact or rounded up.
        fx = Fx {
            exc: fx.exc & !exc::PE,
            up: false,
        };
    }
    let blocking = exc::IE | exc::DE | exc::OE | exc::UE;
    if empty && x.ie_masked() || !empty && fx.exc & blocking & !cw == 0 {
        write_stored(ctx, a, stored)?;
    }
    let x = &mut ctx.cpu.x87;
    if empty {
        if !x.stack_underflow() && POP {
            x.pop();
        }
        return Ok(());
    }
    if !x.finish(fx) && fx.exc & blocking & !cw == 0 && POP {
        x.pop();
    }
    Ok(())
}

/// FST/FSTP ST(i).
fn fst_sti<const POP: bool>(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    wait(ctx)?;
    let i = sti(insn, 0);
    let x = &mut ctx.cpu.x87;
    if x.is_empty(0) {
        if !x.stack_underflow() {
            x.set_st(i, F80::INDEFINITE);
            if POP {
                x.pop();
            }
        }
        return Ok(());
    }
    x.status &= !sw::C1;
    x.set_st(i, x.st(0));
    if POP {
        x.pop();
    }
    Ok(())
}

/// FXCH ST(i). Empty registers read as the indefinite when IE is masked.
fn fxch(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    wait(ctx)?;
    let i = sti(insn, 1);
    let x = &mut ctx.cpu.x87;
    if x.is_empty(0) || x.is_empty(i) {
        if x.stack_underflow() {
            return Ok(());
        }
        for j in [0, i] {
            if x.is_empty(j) {
                x.set_st(j, F80::INDEFINITE);
            }
        }
    } else {
        x.status &= !sw::C1;
    }
    let (a, b) = (x.st(0), x.st(i));
    x.set_st(0, b);
    x.set_st(i, a);
    Ok(())
}

/// FCMOVcc ST(0), ST(i); `CC` is the x86 condition number.
fn fcmov<const CC: u8>(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    wait(ctx)?;
    let i = sti(insn, 1);
    let take = ctx.cpu.cond(CC);
    let x = &mut ctx.cpu.x87;
    if x.is_empty(0) || x.is_empty(i) {
        if !x.stack_underflow() {
            x.set_st(0, F80::INDEFINITE);
        }
        return Ok(());
    }
    x.status &= !sw::C1;
    if take {
        x.set_st(0, x.st(i));
    }
    Ok(())
}

/// The constants as the hardware holds them internally, rounded to 64 bits
/// by RC: (sign/exponent, significand rounded down, whether the next bits
/// are above one half ulp). Expansions from the SDM's table of constants.
const PI: (u16, u64, bool) = (0x4000, 0xc90f_daa2_2168_c234, true);
const L2E: (u16, u64, bool) = (0x3fff, 0xb8aa_3b29_5c17_f0bb, true);
const L2T: (u16, u64, bool) = (0x4000, 0xd49a_784b_cd1b_8afe, false);
const LG2: (u16, u64, bool) = (0x3ffd, 0x9a20_9a84_fbcf_f798, true);
const LN2: (u16, u64, bool) = (0x3ffe, 0xb172_17f7_d1cf_79ab, true);

/// Rounds a positive irrational constant by RC.
fn constant(c: (u16, u64, bool), rc: Rc) -> F80 {
    let (se, sig, above_half) = c;
    let up = match rc {
        Rc::Nearest => above_half,
        Rc::Up => true,
        Rc::Down | Rc::Zero => false,
    };
    F80::new(se, sig + u64::from(up))
}

/// FLD1, FLDZ, FLDPI, FLDL2E, FLDL2T, FLDLG2, FLDLN2.
fn fld_const<const K: u8>(ctx: &mut Ctx<'_, '_>, _: &Decoded) -> Flow {
    wait(ctx)?;
    let rc = Rc::from_cw(ctx.cpu.x87.control);
    let v = match K {
        0 => F80::ONE,
        1 => F80::ZERO,
        2 => constant(PI, rc),
        3 => constant(L2E, rc),
        4 => constant(L2T, rc),
        5 => constant(LG2, rc),
        _ => constant(LN2, rc),
    };
    push_loaded(ctx, v, Fx::default())
}

fn ffree<const POP: bool>(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    wait(ctx)?;
    let x = &mut ctx.cpu.x87;
    x.free(sti(insn, 0));
    if POP {
        x.pop();
    }
    Ok(())
}

/// FDECSTP (`DELTA` 7) and FINCSTP (`DELTA` 1): rotate TOP, tags stay.
fn rotate_top<const DELTA: u16>(ctx: &mut Ctx<'_, '_>, _: &Decoded) -> Flow {
    wait(ctx)?;
    let x = &mut ctx.cpu.x87;
    x.top = (x.top + DELTA) & 7;
    x.status &= !sw::C1;
    Ok(())
}

/// Selects data-movement handlers.
pub fn lookup(insn: &Instruction) -> Option<Handler> {
    use Mnemonic::*;
    let mem = insn.op0_kind() == OpKind::Memory;
    Some(match insn.mnemonic() {
        Fld | Fild | Fbld if mem => fld_mem,
        Fld => fld_sti,
        Fst | Fist if mem => fst_mem::<false, false>,
        Fstp | Fistp | Fbstp if mem => fst_mem::<true, false>,
        Fisttp => fst_mem::<true, true>,
        Fst => fst_sti::<false>,
        Fstp | Fstpnce => fst_sti::<true>,
        Fxch => fxch,
        Fcmovb => fcmov::<0x2>,
        Fcmove => fcmov::<0x4>,
        Fcmovbe => fcmov::<0x6>,
        Fcmovu => fcmov::<0xa>,
        Fcmovnb => fcmov::<0x3>,
        Fcmovne => fcmov::<0x5>,
        Fcmovnbe => fcmov::<0x7>,
        Fcmovnu => fcmov::<0xb>,
        Fld1 => fld_const::<0>,
        Fldz => fld_const::<1>,
        Fldpi => fld_const::<2>,
        Fldl2e => fld_const::<3>,
        Fldl2t => fld_const::<4>,
        Fldlg2 => fld_const::<5>,
        Fldln2 => fld_const::<6>,
        Ffree => ffree::<false>,
        Ffreep => ffree::<true>,
        Fdecstp => rotate_top::<7>,
        Fincstp => rotate_top::<1>,
        _ => return None,
    })
}
