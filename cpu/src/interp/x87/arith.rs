//! Arithmetic: FADD/FSUB/FSUBR/FMUL/FDIV/FDIVR in every form, FCHS, FABS,
//! FSQRT, FRNDINT, FSCALE, FXTRACT, FPREM, FPREM1.

use super::float::{self, exc, Class, Env, Fx};
use super::regs::sw;
use super::{convert, load_mem, mem_denormal, sti, wait};
use crate::interp::ctx::{Ctx, Flow, Handler};
use crate::interp::decoded::Decoded;
use crate::state::F80;
use iced_x86::{Instruction, Mnemonic, OpKind};

const ADD: u8 = 0;
const MUL: u8 = 1;
const SUB: u8 = 2;
const SUBR: u8 = 3;
const DIV: u8 = 4;
const DIVR: u8 = 5;

/// `a OP b` at the control word's precision.
fn compute(op: u8, a: F80, b: F80, cw: u16, fx: &mut Fx) -> F80 {
    let env = Env::from_cw(cw);
    match op {
        ADD => float::add(a, b, env, fx),
        MUL => float::mul(a, b, env, fx),
        SUB => float::sub(a, b, env, fx),
        SUBR => float::sub(b, a, env, fx),
        DIV => float::div(a, b, env, fx),
        _ => float::div(b, a, env, fx),
    }
}

/// Stack underflow on an operation writing ST(`dst`): the masked response
/// writes the indefinite there (and still pops).
fn underflow_into(ctx: &mut Ctx<'_, '_>, dst: usize, pop: bool) -> Flow {
    let x = &mut ctx.cpu.x87;
    if !x.stack_underflow() {
        x.set_st(dst, F80::INDEFINITE);
        if pop {
            x.pop();
        }
    }
    Ok(())
}

/// `fop m32fp/m64fp/m16int/m32int`: ST(0) = ST(0) OP mem.
fn arith_mem<const OP: u8>(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    wait(ctx)?;
    let (src, denormal) = load_mem(ctx, insn)?;
    let x = &mut ctx.cpu.x87;
    if x.is_empty(0) {
        return underflow_into(ctx, 0, false);
    }
    let mut fx = Fx {
        exc: mem_denormal(denormal, x.st(0), src),
        up: false,
    };
    let r = compute(OP, x.st(0), src, x.control, &mut fx);
    if !x.finish(fx) {
        x.set_st(0, r);
    }
    Ok(())
}

/// `fop st(i), st(j)` and `fopp st(i), st(0)`: ST(i) = ST(i) OP ST(j).
fn arith_reg<const OP: u8, const POP: bool>(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    wait(ctx)?;
    let (dst, src) = (sti(insn, 0), sti(insn, 1));
    let x = &mut ctx.cpu.x87;
    if x.is_empty(dst) || x.is_empty(src) {
        return underflow_into(ctx, dst, POP);
    }
    let mut fx = Fx::default();
    let r = compute(OP, x.st(dst), x.st(src), x.control, &mut fx);
    if !x.finish(fx) {
        x.set_st(dst, r);
        if POP {
            x.pop();
        }
    }
    Ok(())
}

/// Runs a one-operand operation on ST(0).
fn unary(ctx: &mut Ctx<'_, '_>, f: impl FnOnce(F80, u16, &mut Fx) -> F80) -> Flow {
    wait(ctx)?;
    let x = &mut ctx.cpu.x87;
    if x.is_empty(0) {
        return underflow_into(ctx, 0, false);
    }
    let mut fx = Fx::default();
    let r = f(x.st(0), x.control, &mut fx);
    if !x.finish(fx) {
        x.set_st(0, r);
    }
    Ok(())
}

fn fchs(ctx: &mut Ctx<'_, '_>, _: &Decoded) -> Flow {
    unary(ctx, |v, _, _| v.chs())
}

fn fabs(ctx: &mut Ctx<'_, '_>, _: &Decoded) -> Flow {
    unary(ctx, |v, _, _| v.abs())
}

fn fsqrt(ctx: &mut Ctx<'_, '_>, _: &Decoded) -> Flow {
    unary(ctx, |v, cw, fx| float::sqrt(v, Env::from_cw(cw), fx))
}

/// FRNDINT rounds by RC to an integer; precision control does not apply.
fn frndint(ctx: &mut Ctx<'_, '_>, _: &Decoded) -> Flow {
    unary(ctx, |v, cw, fx| {
        convert::round_to_integral(v, Env::ext(cw), fx)
    })
}

/// Runs an operation reading ST(0) and ST(1) and writing ST(0).
fn binary_st01(ctx: &mut Ctx<'_, '_>, f: impl FnOnce(F80, F80, u16, &mut Fx) -> F80) -> Flow {
    wait(ctx)?;
    let x = &mut ctx.cpu.x87;
    if x.is_empty(0) || x.is_empty(1) {
        return underflow_into(ctx, 0, false);
    }
    let mut fx = Fx::default();
    let r = f(x.st(0), x.st(1), x.control, &mut fx);
    if !x.finish(fx) {
        x.set_st(0, r);
    }
    Ok(())
}

/// Precision control does not apply to FSCALE (measured on the host).
fn fscale(ctx: &mut Ctx<'_, '_>, _: &Decoded) -> Flow {
    binary_st01(ctx, |a, b, cw, fx| scale(a, b, Env::ext(cw), fx))
}

/// FSCALE: ST(0) * 2^trunc(ST(1)).
pub fn scale(a: F80, b: F80, env: Env, fx: &mut Fx) -> F80 {
    let (ca, cb) = (a.class(), b.class());
    if ca == Class::Unsupported || cb == Class::Unsupported {
        return float::invalid(fx);
    }
    if a.is_nan() || b.is_nan() {
        return float::propagate_nan(a, b, fx);
    }
    if ca == Class::Denormal || cb == Class::Denormal {
        fx.exc |= exc::DE;
    }
    match (ca, cb) {
        (Class::Zero, Class::Inf) if !b.sign() => return float::invalid(fx),
        (Class::Inf, Class::Inf) if b.sign() => return float::invalid(fx),
        (Class::Zero | Class::Inf, _) => return a,
        (_, Class::Inf) if b.sign() => return F80::zero(a.sign()),
        (_, Class::Inf) => return F80::inf(a.sign()),
        _ => {}
    }
    // A zero scale still normalises (and, with UE unmasked, wraps) a
    // denormal, like any other result.
    let k = if cb == Class::Zero {
        0
    } else {
        scale_amount(b)
    };
    let n = float::unpack(a);
    float::round_pack(n.neg, n.exp + k, u128::from(n.sig) << 64, env, fx)
}

/// trunc(b) clamped to a range that already over- or underflows anything.
fn scale_amount(b: F80) -> i32 {
    let (mag, _, _) = convert::round_int(float::unpack(b), float::Rc::Zero);
    let k = mag.unwrap_or(u64::MAX).min(1 << 20) as i32;
    if b.sign() {
        -k
    } else {
        k
    }
}

/// FXTRACT: replaces ST(0) with its exponent and pushes its significand.
fn fxtract(ctx: &mut Ctx<'_, '_>, _: &Decoded) -> Flow {
    wait(ctx)?;
    let x = &mut ctx.cpu.x87;
    if x.is_empty(0) {
        if !x.stack_underflow() {
            x.set_st(0, F80::INDEFINITE);
            x.push(F80::INDEFINITE);
        }
        return Ok(());
    }
    if !x.is_empty(7) {
        if !x.stack_overflow() {
            x.set_st(0, F80::INDEFINITE);
            x.push(F80::INDEFINITE);
        }
        return Ok(());
    }
    let mut fx = Fx::default();
    let (e, s) = extract(x.st(0), &mut fx);
    if !x.finish(fx) {
        x.set_st(0, e);
        x.push(s);
    }
    Ok(())
}

/// The (exponent, significand) pair FXTRACT produces.
fn extract(v: F80, fx: &mut Fx) -> (F80, F80) {
    match v.class() {
        Class::Unsupported => (float::invalid(fx), F80::INDEFINITE),
        Class::SNaN | Class::QNaN => {
            let q = float::propagate_nan(v, v, fx);
            (q, q)
        }
        Class::Zero => {
            fx.exc |= exc::ZE;
            (F80::inf(true), v)
        }
        Class::Inf => (F80::inf(false), v),
        c => {
            if c == Class::Denormal {
                fx.exc |= exc::DE;
            }
            let n = float::unpack(v);
            let sig = F80::new(u16::from(n.neg) << 15 | 0x3fff, n.sig);
            (convert::from_int(i64::from(n.exp)), sig)
        }
    }
}

fn fprem(ctx: &mut Ctx<'_, '_>, _: &Decoded) -> Flow {
    partial_remainder(ctx, false)
}

fn fprem1(ctx: &mut Ctx<'_, '_>, _: &Decoded) -> Flow {
    partial_remainder(ctx, true)
}

/// FPREM/FPREM1: ST(0) = partial remainder of ST(0) / ST(1); C2 set when
/// incomplete, C0/C3/C1 the low quotient bits Q2/Q1/Q0.
fn partial_remainder(ctx: &mut Ctx<'_, '_>, ieee: bool) -> Flow {
    wait(ctx)?;
    let x = &mut ctx.cpu.x87;
    if x.is_empty(0) || x.is_empty(1) {
        return underflow_into(ctx, 0, false);
    }
    let mut fx = Fx::default();
    let (r, cc) = remainder(x.st(0), x.st(1), ieee, Env::ext(x.control), &mut fx);
    let fx = Fx { up: false, ..fx };
    if !x.finish(fx) {
        x.set_st(0, r);
        x.set_cc(cc);
    }
    Ok(())
}

/// The partial remainder and condition codes. Exact: the remainder of two
/// extended values always fits the format (only underflow can round).
pub fn remainder(a: F80, b: F80, ieee: bool, env: Env, fx: &mut Fx) -> (F80, u16) {
    let (ca, cb) = (a.class(), b.class());
    if ca == Class::Unsupported || cb == Class::Unsupported {
        return (float::invalid(fx), 0);
    }
    if a.is_nan() || b.is_nan() {
        return (float::propagate_nan(a, b, fx), 0);
    }
    if ca == Class::Denormal || cb == Class::Denormal {
        fx.exc |= exc::DE;
    }
    match (ca, cb) {
        (Class::Inf, _) | (_, Class::Zero) => return (float::invalid(fx), 0),
        (Class::Zero, _) | (_, Class::Inf) => return (float::round_value(a, env, fx), 0),
        _ => {}
    }
    let (x, y) = (float::unpack(a), float::unpack(b));
    let d = x.exp - y.exp;
    if d >= 64 {
        return partial_step(x, y, d, env, fx);
    }
    let (neg, exp, sig, q) = exact_remainder(x, y, ieee);
    let cc = quotient_cc(q);
    let r = if sig == 0 {
        F80::zero(x.neg)
    } else {
        float::round_pack(neg, exp + 64, u128::from(sig), env, fx)
    };
    (r, cc)
}

/// Q2, Q1, Q0 into C0, C3, C1.
fn quotient_cc(q: u64) -> u16 {
    let mut cc = 0;
    if q & 4 != 0 {
        cc |= sw::C0;
    }
    if q & 2 != 0 {
        cc |= sw::C3;
    }
    if q & 1 != 0 {
        cc |= sw::C1;
    }
    cc
}

/// A complete remainder for exponent difference below 64. Returns the
/// sign, the remainder as `sig * 2^(exp - 63)` (`sig` not normalised), and
/// the quotient.
fn exact_remainder(x: float::Num, y: float::Num, ieee: bool) -> (bool, i32, u64, u64) {
    let d = x.exp - y.exp;
    if d < 0 {
        // |x| < |y|: quotient 0, or 1 for FPREM1 when |x| > |y|/2.
        let round_up = ieee && (d == -1 && x.sig > y.sig);
        if !round_up {
            return (x.neg, x.exp, x.sig, 0);
        }
        // y - x at x's scale: y.sig*2 - x.sig, exponent of x.
        let r = u128::from(y.sig) * 2 - u128::from(x.sig);
        return (!x.neg, x.exp, r as u64, 1);
    }
    let num = u128::from(x.sig) << d;
    let den = u128::from(y.sig);
    let (mut q, mut r) = ((num / den) as u64, num % den);
    let mut neg = x.neg;
    if ieee && (2 * r > den || (2 * r == den && q & 1 == 1)) {
        q = q.wrapping_add(1);
        r = den - r;
        neg = !neg;
    }
    (neg, y.exp, r as u64, q)
}

/// One reduction step when the exponents differ by 64 or more: the
/// hardware reduces by a quotient of 2^(N) with N in 32..63 and sets C2.
fn partial_step(x: float::Num, y: float::Num, d: i32, env: Env, fx: &mut Fx) -> (F80, u16) {
    let n = 32 + (d - 32) % 32;
    // Remainder of x / (y * 2^(d - n)): the quotient has n bits.
    let num = u128::from(x.sig) << n;
    let r = (num % u128::from(y.sig)) as u64;
    let r = if r == 0 {
        F80::zero(x.neg)
    } else {
        float::round_pack(x.neg, x.exp - n, u128::from(r) << 64, env, fx)
    };
    (r, sw::C2)
}

/// Selects arithmetic handlers.
pub fn lookup(insn: &Instruction) -> Option<Handler> {
    use Mnemonic::*;
    let mem = insn.op0_kind() == OpKind::Memory;
    Some(match insn.mnemonic() {
        Fadd | Fiadd if mem => arith_mem::<ADD>,
        Fmul | Fimul if mem => arith_mem::<MUL>,
        Fsub | Fisub if mem => arith_mem::<SUB>,
        Fsubr | Fisubr if mem => arith_mem::<SUBR>,
        Fdiv | Fidiv if mem => arith_mem::<DIV>,
        Fdivr | Fidivr if mem => arith_mem::<DIVR>,
        Fadd => arith_reg::<ADD, false>,
        Fmul => arith_reg::<MUL, false>,
        Fsub => arith_reg::<SUB, false>,
        Fsubr => arith_reg::<SUBR, false>,
        Fdiv => arith_reg::<DIV, false>,
        Fdivr => arith_reg::<DIVR, false>,
        Faddp => arith_reg::<ADD, true>,
        Fmulp => arith_reg::<MUL, true>,
        Fsubp => arith_reg::<SUB, true>,
        Fsubrp => arith_reg::<SUBR, true>,
        Fdivp => arith_reg::<DIV, true>,
        Fdivrp => arith_reg::<DIVR, true>,
        Fchs => fchs,
        Fabs => fabs,
        Fsqrt => fsqrt,
        Frndint => frndint,
        Fscale => fscale,
        Fxtract => fxtract,
        Fprem => fprem,
        Fprem1 => fprem1,
        _ => return None,
    })
}
