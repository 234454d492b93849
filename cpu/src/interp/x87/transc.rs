//! Transcendental instructions: FSIN, FCOS, FSINCOS, FPTAN, FPATAN, F2XM1,
//! FYL2X, FYL2XP1.
//!
//! Each result is computed with a 128-bit significand (`big`) and rounded
//! once to 64 bits by the rounding control, so it is the correctly rounded
//! value of the function (of the reduced argument, see below). Precision
//! control does not apply, as on the hardware.
//!
//! Argument reduction for FSIN/FCOS/FSINCOS/FPTAN uses the same 66-bit
//! approximation of pi as the hardware (measured on the host: sin of the
//! 80-bit pi is exactly -2^-64, the distance to the 66-bit pi), done
//! exactly in integer arithmetic, so results near multiples of pi match the
//! hardware rather than the true function.
//!
//! Known deviations (each measured by `tests/x87_differential.rs`):
//! - The hardware's own evaluation carries only a few bits beyond 64, so
//!   when the exact value lies within about 1/100 ulp of a rounding
//!   boundary it sometimes rounds the other way (and sets C1 differently):
//!   about 1% of random operands differ in the last bit, Wax being the
//!   correctly rounded one.
//! - FPTAN of |x| < 2^-35: the host returns values up to an ulp below the
//!   true tangent in the directed rounding modes; Wax rounds the true one.
//! - FYL2X's C1 when y * log2(x) rounds to an exactly representable value
//!   may differ (the host's internal logarithm is rounded first).
//! - Out-of-range F2XM1 (|x| > 1) and FYL2XP1 (|x| >= 1 - sqrt(2)/2)
//!   operands, which the SDM leaves undefined, get the true function value
//!   (the host returns other values).

use super::big::{series, Big};
use super::float::{self, exc, Class, Env, Fx};
use super::regs::sw;
use super::wait;
use crate::interp::ctx::{Ctx, Flow, Handler};
use crate::interp::decoded::Decoded;
use crate::state::F80;
use iced_x86::{Instruction, Mnemonic};

/// pi * 2^64 truncated to 66 significant bits: the hardware's pi.
const PI66: u128 = 0x3_243f_6a88_85a3_08d3;

/// |x| as `x - k * pi66/2` (exact) and the quadrant k mod 4, for finite x
/// with |x| < 2^63.
fn reduce(v: F80) -> (Big, u32) {
    let n = float::unpack(v);
    if n.exp + 2 < 0 {
        return (Big::from_f80(v.abs()), 0);
    }
    // |x| * 2^65 as an integer (exact: at most 128 bits).
    let big_n = u128::from(n.sig) << (n.exp + 2);
    let k = big_n / PI66 + u128::from(big_n % PI66 > PI66 / 2);
    // The true difference is below 2^65 in magnitude, so wrapping is exact.
    let r = big_n.wrapping_sub(k.wrapping_mul(PI66)) as i128;
    let r = Big::new(r < 0, 127 - 65, r.unsigned_abs());
    (r, (k & 3) as u32)
}

fn sin_series(r: Big) -> Big {
    let r2 = r.mul(r);
    series(r, |t, k| t.mul(r2).div_small(2 * k * (2 * k + 1)).neg())
}

fn cos_series(r: Big) -> Big {
    let r2 = r.mul(r);
    series(Big::ONE, |t, k| {
        t.mul(r2).div_small((2 * k - 1) * (2 * k)).neg()
    })
}

/// (sin x, cos x) for finite x with |x| < 2^63.
fn sin_cos(v: F80) -> (Big, Big) {
    let (r, q) = reduce(v);
    let (s, c) = (sin_series(r), cos_series(r));
    let (s, c) = match q {
        0 => (s, c),
        1 => (c, s.neg()),
        2 => (s.neg(), c.neg()),
        _ => (c.neg(), s),
    };
    if v.sign() {
        (s.neg(), c)
    } else {
        (s, c)
    }
}

/// The operand checks of the one-operand trigonometric instructions:
/// `Err` carries the final result for NaNs, infinities and invalid
/// encodings; `Ok(None)` means out of range (C2 = 1, nothing changes).
fn trig_operand(v: F80, fx: &mut Fx) -> Result<Option<F80>, F80> {
    match v.class() {
        Class::Unsupported | Class::Inf => Err(float::invalid(fx)),
        Class::SNaN | Class::QNaN => Err(float::propagate_nan(v, v, fx)),
        Class::Zero => Ok(Some(v)),
        c => {
            if c == Class::Denormal {
                fx.exc |= exc::DE;
            }
            if float::unpack(v).exp >= 63 {
                Ok(None)
            } else {
                Ok(Some(v))
            }
        }
    }
}

/// FSIN/FCOS: `COS` picks the function.
fn fsin_fcos<const COS: bool>(ctx: &mut Ctx<'_, '_>, _: &Decoded) -> Flow {
    wait(ctx)?;
    let x = &mut ctx.cpu.x87;
    if x.is_empty(0) {
        if !x.stack_underflow() {
            x.set_st(0, F80::INDEFINITE);
        }
        return Ok(());
    }
    let env = Env::ext(x.control);
    let mut fx = Fx::default();
    let r = match trig_operand(x.st(0), &mut fx) {
        Err(r) => r,
        Ok(None) => {
            x.status |= sw::C2;
            return Ok(());
        }
        Ok(Some(v)) if v.class() == Class::Zero => {
            if COS {
                F80::ONE
            } else {
                v
            }
        }
        Ok(Some(v)) => {
            let (s, c) = sin_cos(v);
            if COS {
                c.round(false, env, &mut fx)
            } else {
                s.round(false, env, &mut fx)
            }
        }
    };
    x.status &= !sw::C2;
    if !x.finish(fx) {
        x.set_st(0, r);
    }
    Ok(())
}

/// FSINCOS and FPTAN: replace ST(0) and push a second value.
fn two_results(ctx: &mut Ctx<'_, '_>, f: fn(F80, Env, &mut Fx) -> (F80, F80)) -> Flow {
    wait(ctx)?;
    let x = &mut ctx.cpu.x87;
    if x.is_empty(0) || !x.is_empty(7) {
        let unmasked = if x.is_empty(0) {
            x.stack_underflow()
        } else {
            x.stack_overflow()
        };
        if !unmasked {
            x.set_st(0, F80::INDEFINITE);
            x.push(F80::INDEFINITE);
        }
        return Ok(());
    }
    let env = Env::ext(x.control);
    let mut fx = Fx::default();
    let (a, b) = match trig_operand(x.st(0), &mut fx) {
        Err(r) => (r, r),
        Ok(None) => {
            x.status |= sw::C2;
            return Ok(());
        }
        Ok(Some(v)) => f(v, env, &mut fx),
    };
    x.status &= !sw::C2;
    if !x.finish(fx) {
        x.set_st(0, a);
        x.push(b);
    }
    Ok(())
}

/// (sin, cos) of a zero or an in-range finite value.
fn sincos_values(v: F80, env: Env, fx: &mut Fx) -> (F80, F80) {
    if v.class() == Class::Zero {
        return (v, F80::ONE);
    }
    let (s, c) = sin_cos(v);
    // Both results round; C1 reports the sine's rounding (as the host).
    let mut fc = Fx::default();
    let c = c.round(false, env, &mut fc);
    let s = s.round(false, env, fx);
    fx.exc |= fc.exc;
    (s, c)
}

/// (tan, 1.0) of a zero or an in-range finite value.
fn tan_values(v: F80, env: Env, fx: &mut Fx) -> (F80, F80) {
    if v.class() == Class::Zero {
        return (v, F80::ONE);
    }
    let (s, c) = sin_cos(v);
    (s.div(c).round(false, env, fx), F80::ONE)
}

fn fsincos(ctx: &mut Ctx<'_, '_>, _: &Decoded) -> Flow {
    two_results(ctx, sincos_values)
}

fn fptan(ctx: &mut Ctx<'_, '_>, _: &Decoded) -> Flow {
    two_results(ctx, tan_values)
}

/// Runs `ST(1) = f(ST(0), ST(1))` and pops (FPATAN, FYL2X, FYL2XP1).
fn st1_op_pop(ctx: &mut Ctx<'_, '_>, f: fn(F80, F80, Env, &mut Fx) -> F80) -> Flow {
    wait(ctx)?;
    let x = &mut ctx.cpu.x87;
    if x.is_empty(0) || x.is_empty(1) {
        if !x.stack_underflow() {
            x.set_st(1, F80::INDEFINITE);
            x.pop();
        }
        return Ok(());
    }
    let mut fx = Fx::default();
    let r = f(x.st(0), x.st(1), Env::ext(x.control), &mut fx);
    if !x.finish(fx) {
        x.set_st(1, r);
        x.pop();
    }
    Ok(())
}

/// NaN, invalid-encoding and denormal checks for two operands.
fn two_operands(a: F80, b: F80, fx: &mut Fx) -> Option<F80> {
    if a.class() == Class::Unsupported || b.class() == Class::Unsupported {
        return Some(float::invalid(fx));
    }
    if a.is_nan() || b.is_nan() {
        return Some(float::propagate_nan(a, b, fx));
    }
    if a.class() == Class::Denormal || b.class() == Class::Denormal {
        fx.exc |= exc::DE;
    }
    None
}

fn fpatan(ctx: &mut Ctx<'_, '_>, _: &Decoded) -> Flow {
    st1_op_pop(ctx, |x, y, env, fx| atan2(y, x, env, fx))
}

/// atan(t) for 0 < t <= 1: three argument halvings, then the series.
fn atan_series(t: Big) -> Big {
    let mut t = t;
    for _ in 0..3 {
        let root = Big::ONE.add(t.mul(t)).sqrt();
        t = t.div(Big::ONE.add(root));
    }
    let t2 = t.mul(t);
    let mut power = t;
    let sum = series(t, |_, k| {
        power = power.mul(t2).neg();
        power.div_small(2 * k + 1)
    });
    sum.scale(3)
}

/// FPATAN: the angle of (x, y), with the IEEE atan2 special cases.
pub fn atan2(y: F80, x: F80, env: Env, fx: &mut Fx) -> F80 {
    if let Some(r) = two_operands(x, y, fx) {
        return r;
    }
    let pi = Big::PI;
    let (cx, cy) = (x.class(), y.class());
    let angle = match (cy, cx) {
        (Class::Zero, _) if !x.sign() || cx == Class::Inf && !x.sign() => return y,
        (Class::Zero, _) => pi,
        (_, Class::Zero) => pi.scale(-1),
        (Class::Inf, Class::Inf) if x.sign() => pi.scale(-2).mul(Big::from_int(3)),
        (Class::Inf, Class::Inf) => pi.scale(-2),
        (Class::Inf, _) => pi.scale(-1),
        (_, Class::Inf) if x.sign() => pi,
        (_, Class::Inf) => return F80::zero(y.sign()),
        _ => finite_angle(Big::from_f80(y.abs()), Big::from_f80(x)),
    };
    let angle = if y.sign() { angle.neg() } else { angle };
    angle.round(false, env, fx)
}

/// The angle in [0, pi] of (x, y) for y > 0 and finite non-zero x.
fn finite_angle(y: Big, x: Big) -> Big {
    let ax = x.abs();
    let a = if (y.exp, y.mant) <= (ax.exp, ax.mant) {
        atan_series(y.div(ax))
    } else {
        Big::PI.scale(-1).sub(atan_series(ax.div(y)))
    };
    if x.neg {
        Big::PI.sub(a)
    } else {
        a
    }
}

fn f2xm1(ctx: &mut Ctx<'_, '_>, _: &Decoded) -> Flow {
    wait(ctx)?;
    let x = &mut ctx.cpu.x87;
    if x.is_empty(0) {
        if !x.stack_underflow() {
            x.set_st(0, F80::INDEFINITE);
        }
        return Ok(());
    }
    let mut fx = Fx::default();
    let r = exp2m1(x.st(0), Env::ext(x.control), &mut fx);
    if !x.finish(fx) {
        x.set_st(0, r);
    }
    Ok(())
}

/// 2^x - 1.
pub fn exp2m1(v: F80, env: Env, fx: &mut Fx) -> F80 {
    match v.class() {
        Class::Unsupported => return float::invalid(fx),
        Class::SNaN | Class::QNaN => return float::propagate_nan(v, v, fx),
        Class::Zero => return v,
        Class::Inf if v.sign() => return F80::ONE.chs(),
        Class::Inf => return v,
        Class::Denormal => fx.exc |= exc::DE,
        Class::Normal => {}
    }
    let x = Big::from_f80(v);
    // The only finite non-zero operands with a rational result; the host
    // still reports them inexact.
    if x.abs() == Big::ONE {
        fx.exc |= exc::PE;
        return if x.neg {
            F80::new(0xbffe, 1 << 63)
        } else {
            F80::ONE
        };
    }
    if x.exp > 6 {
        // Far outside the documented range: 2^x - 1 is -1 or overflows.
        let huge = if x.neg {
            Big::ONE.neg()
        } else {
            Big::ONE.scale(1 << 20)
        };
        return huge.round(false, env, fx);
    }
    let y = x.mul(Big::LN2);
    series(y, |t, k| t.mul(y).div_small(k + 1)).round(false, env, fx)
}

fn fyl2x(ctx: &mut Ctx<'_, '_>, _: &Decoded) -> Flow {
    st1_op_pop(ctx, yl2x)
}

fn fyl2xp1(ctx: &mut Ctx<'_, '_>, _: &Decoded) -> Flow {
    st1_op_pop(ctx, yl2xp1)
}

/// 2 * atanh(s) = ln((1 + s) / (1 - s)).
fn ln_ratio(s: Big) -> Big {
    let s2 = s.mul(s);
    let mut power = s;
    series(s, |_, k| {
        power = power.mul(s2);
        power.div_small(2 * k + 1)
    })
    .scale(1)
}

/// log2(x) for finite x > 0, and whether it is exact.
fn log2(x: F80) -> (Big, bool) {
    let n = float::unpack(x);
    let mut e = n.exp;
    let mut m = Big::new(false, 0, u128::from(n.sig) << 64);
    // sqrt(2) as a 64-bit significand: keep m in [sqrt(2)/2, sqrt(2)].
    if n.sig > 0xb504_f333_f9de_6484 {
        m = m.scale(-1);
        e += 1;
    }
    if m == Big::ONE {
        return (Big::from_int(i64::from(e)), true);
    }
    let s = m.sub(Big::ONE).div(m.add(Big::ONE));
    let l = ln_ratio(s).mul(Big::LOG2E);
    (Big::from_int(i64::from(e)).add(l), false)
}

/// FYL2X: y * log2(x).
pub fn yl2x(x: F80, y: F80, env: Env, fx: &mut Fx) -> F80 {
    let (cx, cy) = (x.class(), y.class());
    // log2(0) times a finite non-zero y: ZE, and no DE (as the host).
    if cx == Class::Zero && matches!(cy, Class::Normal | Class::Denormal) {
        fx.exc |= exc::ZE;
        return F80::inf(!y.sign());
    }
    if let Some(r) = two_operands(x, y, fx) {
        return r;
    }
    if x.sign() && cx != Class::Zero {
        return float::invalid(fx);
    }
    match (cx, cy) {
        (Class::Zero, Class::Zero) | (Class::Inf, Class::Zero) => return float::invalid(fx),
        (Class::Zero, _) => return F80::inf(!y.sign()),
        (Class::Inf, _) => return F80::inf(y.sign()),
        _ => {}
    }
    let below_one = float::unpack(x).exp < 0;
    let is_one = x.sign_exp == 0x3fff && x.signif == 1 << 63;
    match cy {
        Class::Inf if is_one => return float::invalid(fx),
        Class::Inf => return F80::inf(y.sign() != below_one),
        Class::Zero => return F80::zero(y.sign() != below_one),
        _ => {}
    }
    if is_one {
        return F80::zero(y.sign());
    }
    let (l, exact) = log2(x);
    let r = l.mul(Big::from_f80(y)).round(exact, env, fx);
    // The host reports even the exact products (x a power of two) inexact,
    // and so tiny ones as underflows.
    fx.exc |= exc::PE;
    if r.class() == Class::Denormal {
        fx.exc |= exc::UE;
    }
    r
}

/// FYL2XP1: y * log2(1 + x).
pub fn yl2xp1(x: F80, y: F80, env: Env, fx: &mut Fx) -> F80 {
    if let Some(r) = two_operands(x, y, fx) {
        return r;
    }
    let (cx, cy) = (x.class(), y.class());
    match (cx, cy) {
        (Class::Zero, Class::Inf) => return float::invalid(fx),
        (Class::Zero, _) => return F80::zero(x.sign() != y.sign()),
        (Class::Inf, Class::Zero) => return float::invalid(fx),
        (Class::Inf, _) if x.sign() => return float::invalid(fx),
        (Class::Inf, _) => return F80::inf(y.sign()),
        _ => {}
    }
    let bx = Big::from_f80(x);
    let one_plus = Big::ONE.add(bx);
    if one_plus.neg || one_plus.is_zero() {
        return float::invalid(fx);
    }
    if cy == Class::Inf {
        return F80::inf(y.sign() != x.sign());
    }
    if cy == Class::Zero {
        return F80::zero(y.sign() != x.sign());
    }
    let s = bx.div(Big::from_int(2).add(bx));
    let l = ln_ratio(s).mul(Big::LOG2E);
    l.mul(Big::from_f80(y)).round(false, env, fx)
}

/// Selects transcendental handlers.
pub fn lookup(insn: &Instruction) -> Option<Handler> {
    use Mnemonic::*;
    Some(match insn.mnemonic() {
        Fsin => fsin_fcos::<false>,
        Fcos => fsin_fcos::<true>,
        Fsincos => fsincos,
        Fptan => fptan,
        Fpatan => fpatan,
        F2xm1 => f2xm1,
        Fyl2x => fyl2x,
        Fyl2xp1 => fyl2xp1,
        _ => return None,
    })
}
