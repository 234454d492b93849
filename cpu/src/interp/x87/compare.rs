//! Comparisons: FCOM/FCOMP/FCOMPP, FUCOM/FUCOMP/FUCOMPP, FICOM/FICOMP,
//! FCOMI/FCOMIP/FUCOMI/FUCOMIP, FTST, FXAM.

use super::float::{exc, unpack, Class, Fx};
use super::regs::sw;
use super::{load_mem, mem_denormal, sti, wait};
use crate::interp::ctx::{Ctx, Flow, Handler};
use crate::interp::decoded::Decoded;
use crate::state::{flag, F80};
use iced_x86::{Instruction, Mnemonic, OpKind};
use std::cmp::Ordering;

/// Compares two register values. `None` is "unordered". Raises IE for an
/// SNaN or unsupported operand, and for any NaN unless `quiet` (FUCOM).
pub fn compare(a: F80, b: F80, quiet: bool, fx: &mut Fx) -> Option<Ordering> {
    let (ca, cb) = (a.class(), b.class());
    let bad = |c: Class| c == Class::SNaN || c == Class::Unsupported;
    if bad(ca) || bad(cb) || (!quiet && (a.is_nan() || b.is_nan())) {
        fx.exc |= exc::IE;
    }
    if a.is_nan() || b.is_nan() || ca == Class::Unsupported || cb == Class::Unsupported {
        return None;
    }
    if ca == Class::Denormal || cb == Class::Denormal {
        fx.exc |= exc::DE;
    }
    Some(order(a, b))
}

/// Total order of two non-NaN values (zeros of either sign are equal).
fn order(a: F80, b: F80) -> Ordering {
    let (ka, kb) = (magnitude(a), magnitude(b));
    if ka.is_none() && kb.is_none() {
        return Ordering::Equal;
    }
    match (a.sign(), b.sign()) {
        (false, true) => Ordering::Greater,
        (true, false) => Ordering::Less,
        (false, false) => ka.cmp(&kb),
        (true, true) => kb.cmp(&ka),
    }
}

/// A key ordering magnitudes; `None` for zero.
fn magnitude(v: F80) -> Option<(i32, u64)> {
    match v.class() {
        Class::Zero => None,
        Class::Inf => Some((i32::MAX, 0)),
        _ => {
            let n = unpack(v);
            Some((n.exp, n.sig))
        }
    }
}

/// C3/C2/C0 for an FCOM result.
fn cc_bits(r: Option<Ordering>) -> u16 {
    match r {
        Some(Ordering::Greater) => 0,
        Some(Ordering::Less) => sw::C0,
        Some(Ordering::Equal) => sw::C3,
        None => sw::C3 | sw::C2 | sw::C0,
    }
}

/// ZF/PF/CF for an FCOMI result.
fn eflags_bits(r: Option<Ordering>) -> u32 {
    match r {
        Some(Ordering::Greater) => 0,
        Some(Ordering::Less) => flag::CF,
        Some(Ordering::Equal) => flag::ZF,
        None => flag::ZF | flag::PF | flag::CF,
    }
}

/// Stack underflow in a comparison: reports "unordered" (even when IE is
/// unmasked, as the host does), and pops only if IE is masked.
fn underflow(ctx: &mut Ctx<'_, '_>, pops: u32, eflags: bool) -> Flow {
    if eflags {
        ctx.cpu.set_status(eflags_bits(None));
    } else {
        ctx.cpu.x87.set_cc(cc_bits(None));
    }
    let x = &mut ctx.cpu.x87;
    if x.stack_underflow() {
        return Ok(());
    }
    for _ in 0..pops {
        x.pop();
    }
    Ok(())
}

/// FCOM/FUCOM with a memory or register source, popping `POPS` times.
fn fcom<const QUIET: bool, const POPS: u32>(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    wait(ctx)?;
    let (src, src_empty, denormal) = match insn.op_count() {
        // FCOMPP/FUCOMPP: ST(1).
        0 => (ctx.cpu.x87.st(1), ctx.cpu.x87.is_empty(1), false),
        _ if insn.op0_kind() == OpKind::Memory => {
            let (v, d) = load_mem(ctx, insn)?;
            (v, false, d)
        }
        _ => {
            let i = sti(insn, 1);
            (ctx.cpu.x87.st(i), ctx.cpu.x87.is_empty(i), false)
        }
    };
    if src_empty || ctx.cpu.x87.is_empty(0) {
        return underflow(ctx, POPS, false);
    }
    let x = &mut ctx.cpu.x87;
    let mut fx = Fx {
        exc: mem_denormal(denormal, x.st(0), src),
        up: false,
    };
    let r = compare(x.st(0), src, QUIET, &mut fx);
    // The condition codes are written even when the exception is unmasked.
    x.set_cc(cc_bits(r));
    if !x.finish(fx) {
        for _ in 0..POPS {
            x.pop();
        }
    }
    Ok(())
}

/// FCOMI/FUCOMI(P): the result goes to ZF/PF/CF; OF/SF/AF are cleared.
fn fcomi<const QUIET: bool, const POP: bool>(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    wait(ctx)?;
    let i = sti(insn, 1);
    let x = &mut ctx.cpu.x87;
    if x.is_empty(0) || x.is_empty(i) {
        return underflow(ctx, u32::from(POP), true);
    }
    let mut fx = Fx::default();
    let r = compare(x.st(0), x.st(i), QUIET, &mut fx);
    // EFLAGS are written even when the exception is unmasked.
    if !x.finish(fx) && POP {
        x.pop();
    }
    ctx.cpu.set_status(eflags_bits(r));
    Ok(())
}

/// FTST: compares ST(0) with +0.0.
fn ftst(ctx: &mut Ctx<'_, '_>, _: &Decoded) -> Flow {
    wait(ctx)?;
    if ctx.cpu.x87.is_empty(0) {
        return underflow(ctx, 0, false);
    }
    let x = &mut ctx.cpu.x87;
    let mut fx = Fx::default();
    let r = compare(x.st(0), F80::ZERO, false, &mut fx);
    x.set_cc(cc_bits(r));
    x.finish(fx);
    Ok(())
}

/// FXAM: classifies ST(0) into C3/C2/C0, with the sign in C1. Never
/// raises an exception; an empty register is reported as such.
fn fxam(ctx: &mut Ctx<'_, '_>, _: &Decoded) -> Flow {
    wait(ctx)?;
    let x = &mut ctx.cpu.x87;
    let v = x.st(0);
    let class = if x.is_empty(0) {
        sw::C3 | sw::C0
    } else {
        match v.class() {
            Class::Unsupported => 0,
            Class::QNaN | Class::SNaN => sw::C0,
            Class::Normal => sw::C2,
            Class::Inf => sw::C2 | sw::C0,
            Class::Zero => sw::C3,
            Class::Denormal => sw::C3 | sw::C2,
        }
    };
    let sign = if v.sign() { sw::C1 } else { 0 };
    x.set_cc(class | sign);
    Ok(())
}

/// Selects comparison handlers.
pub fn lookup(insn: &Instruction) -> Option<Handler> {
    use Mnemonic::*;
    Some(match insn.mnemonic() {
        Fcom | Ficom => fcom::<false, 0>,
        Fcomp | Ficomp => fcom::<false, 1>,
        Fcompp => fcom::<false, 2>,
        Fucom => fcom::<true, 0>,
        Fucomp => fcom::<true, 1>,
        Fucompp => fcom::<true, 2>,
        Fcomi => fcomi::<false, false>,
        Fcomip => fcomi::<false, true>,
        Fucomi => fcomi::<true, false>,
        Fucomip => fcomi::<true, true>,
        Ftst => ftst,
        Fxam => fxam,
        _ => return None,
    })
}
