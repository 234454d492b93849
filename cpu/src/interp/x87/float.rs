//! Exact 80-bit extended-precision arithmetic in software.
//!
//! The x87 registers are kept in the hardware's own format (`F80`: 64-bit
//! significand with an explicit integer bit, 15-bit biased exponent, sign),
//! so FSTP m80, FNSAVE and MMX aliasing need no conversion. Every operation
//! computes the exact result (or enough of it: the top bits plus a sticky
//! bit) in integer arithmetic and rounds once, as IEEE 754 requires. Rounding
//! takes the precision from the control word (24, 53 or 64 significand bits)
//! but keeps the 15-bit exponent range, which is what precision control does
//! on the hardware; stores to memory round to the memory format instead.
//!
//! Behaviour measured on the host where the SDM leaves room:
//! - tininess (underflow) is detected after rounding, at the target
//!   precision with an unbounded exponent;
//! - C1 ("rounded up") means the magnitude grew;
//! - of two NaN operands the one with the larger significand wins; equal
//!   significands give the positive one; a QNaN beats an SNaN.

use crate::state::F80;

/// Exception flag bits, as in the status and control words.
pub mod exc {
    /// Invalid operation.
    pub const IE: u16 = 1 << 0;
    /// Denormal operand.
    pub const DE: u16 = 1 << 1;
    /// Zero divide.
    pub const ZE: u16 = 1 << 2;
    /// Overflow.
    pub const OE: u16 = 1 << 3;
    /// Underflow.
    pub const UE: u16 = 1 << 4;
    /// Precision (inexact result).
    pub const PE: u16 = 1 << 5;
    /// All six.
    pub const ALL: u16 = 0x3f;
}

/// Exponent bias of the 80-bit format.
pub const BIAS: i32 = 16383;
/// Exponent adjustment applied to a result when overflow or underflow is
/// unmasked and the destination is a register (SDM 8.5.3/8.5.4).
pub const WRAP_BIAS: i32 = 24576;

/// Rounding control (control word bits 10-11).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rc {
    Nearest,
    Down,
    Up,
    Zero,
}

impl Rc {
    /// Decodes the RC field of a control word.
    pub fn from_cw(cw: u16) -> Rc {
        match (cw >> 10) & 3 {
            0 => Rc::Nearest,
            1 => Rc::Down,
            2 => Rc::Up,
            _ => Rc::Zero,
        }
    }
}

/// A destination format: significand bits and normal exponent range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Format {
    pub prec: u32,
    pub emin: i32,
    pub emax: i32,
}

/// The 80-bit register format at full precision.
pub const EXT: Format = Format {
    prec: 64,
    emin: 1 - BIAS,
    emax: BIAS,
};
/// IEEE double (m64fp).
pub const DOUBLE: Format = Format {
    prec: 53,
    emin: -1022,
    emax: 1023,
};
/// IEEE single (m32fp).
pub const SINGLE: Format = Format {
    prec: 24,
    emin: -126,
    emax: 127,
};

/// How to round one result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Env {
    pub rc: Rc,
    pub fmt: Format,
    /// Overflow is unmasked and the destination is a register: deliver the
    /// result with the exponent wrapped by `WRAP_BIAS`.
    pub wrap_over: bool,
    /// The same for underflow.
    pub wrap_under: bool,
}

impl Env {
    /// Rounding for register results under control word `cw` (precision
    /// control PC in bits 8-9).
    pub fn from_cw(cw: u16) -> Env {
        let prec = match (cw >> 8) & 3 {
            0 => 24,
            2 => 53,
            _ => 64,
        };
        Env {
            rc: Rc::from_cw(cw),
            fmt: Format { prec, ..EXT },
            wrap_over: cw & exc::OE == 0,
            wrap_under: cw & exc::UE == 0,
        }
    }

    /// Full 64-bit precision, for operations precision control ignores.
    pub fn ext(cw: u16) -> Env {
        Env {
            fmt: EXT,
            ..Env::from_cw(cw)
        }
    }

    /// Rounding for a store to memory in format `fmt`. With overflow or
    /// underflow unmasked the caller stores nothing, so the "wrapped"
    /// value only serves to raise the flags as the hardware does.
    pub fn store(cw: u16, fmt: Format) -> Env {
        Env {
            fmt,
            ..Env::from_cw(cw)
        }
    }
}

/// Exceptions raised by one operation, and the C1 round-up bit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Fx {
    pub exc: u16,
    pub up: bool,
}

/// Operand classes (the FXAM classes plus the invalid encodings).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    Zero,
    /// Exponent 0 with a non-zero significand (includes pseudo-denormals).
    Denormal,
    Normal,
    Inf,
    QNaN,
    SNaN,
    /// Unnormals, pseudo-NaNs, pseudo-infinities: invalid operands.
    Unsupported,
}

impl F80 {
    /// Builds a register value from its sign/exponent word and significand.
    pub const fn new(sign_exp: u16, signif: u64) -> F80 {
        F80 {
            signif,
            sign_exp,
            pad: [0; 3],
        }
    }

    /// The "real indefinite" QNaN invalid operations return.
    pub const INDEFINITE: F80 = F80::new(0xffff, 0xc000_0000_0000_0000);
    pub const ZERO: F80 = F80::new(0, 0);
    pub const ONE: F80 = F80::new(0x3fff, 1 << 63);

    pub fn sign(self) -> bool {
        self.sign_exp & 0x8000 != 0
    }

    /// The biased exponent field.
    pub fn exp(self) -> i32 {
        i32::from(self.sign_exp & 0x7fff)
    }

    /// The value with its sign flipped (FCHS).
    pub fn chs(self) -> F80 {
        F80::new(self.sign_exp ^ 0x8000, self.signif)
    }

    pub fn abs(self) -> F80 {
        F80::new(self.sign_exp & 0x7fff, self.signif)
    }

    pub fn with_sign(self, neg: bool) -> F80 {
        F80::new(
            (self.sign_exp & 0x7fff) | (u16::from(neg) << 15),
            self.signif,
        )
    }

    pub fn class(self) -> Class {
        let int = self.signif >> 63 != 0;
        match self.exp() {
            0 if self.signif == 0 => Class::Zero,
            0 => Class::Denormal,
            0x7fff if !int => Class::Unsupported,
            0x7fff if self.signif << 1 == 0 => Class::Inf,
            0x7fff if self.signif & (1 << 62) != 0 => Class::QNaN,
            0x7fff => Class::SNaN,
            _ if !int => Class::Unsupported,
            _ => Class::Normal,
        }
    }

    pub fn is_nan(self) -> bool {
        matches!(self.class(), Class::QNaN | Class::SNaN)
    }

    /// A signed infinity.
    pub fn inf(neg: bool) -> F80 {
        F80::new(0x7fff | (u16::from(neg) << 15), 1 << 63)
    }

    /// A signed zero.
    pub fn zero(neg: bool) -> F80 {
        F80::new(u16::from(neg) << 15, 0)
    }
}

/// A finite non-zero value as `sig * 2^(exp - 63)`, `sig` normalised (bit
/// 63 set).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Num {
    pub neg: bool,
    pub exp: i32,
    pub sig: u64,
}

/// Unpacks a finite non-zero value (normal, denormal or pseudo-denormal).
pub fn unpack(v: F80) -> Num {
    let e = v.exp().max(1) - BIAS;
    let lz = v.signif.leading_zeros() as i32;
    Num {
        neg: v.sign(),
        exp: e - lz,
        sig: v.signif << lz,
    }
}

/// Shifts right, ORing the bits shifted out into bit 0 (the sticky bit).
pub fn shr_sticky(m: u128, n: u32) -> u128 {
    if n == 0 {
        m
    } else if n >= 128 {
        u128::from(m != 0)
    } else {
        (m >> n) | u128::from(m << (128 - n) != 0)
    }
}

/// The outcome of rounding: a finite value `sig * 2^(exp - 63)` (with
/// `sig < 2^63` only for denormals, at `exp == fmt.emin`, or zero), or an
/// infinity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rounded {
    pub neg: bool,
    pub exp: i32,
    pub sig: u64,
    pub inf: bool,
}

/// Rounds `m * 2^(exp - 127)` (any `m`, the lowest bit acting as sticky)
/// to `env.fmt`, raising PE/UE/OE and C1 as the x87 does.
#[inline]
pub fn round(neg: bool, exp: i32, m: u128, env: Env, fx: &mut Fx) -> Rounded {
    let f = env.fmt;
    if m == 0 {
        return Rounded {
            neg,
            exp: f.emin,
            sig: 0,
            inf: false,
        };
    }
    let lz = m.leading_zeros();
    let (m, exp) = (m << lz, exp - lz as i32);
    if exp >= f.emin && exp < f.emax {
        return round_in_range(neg, exp, m, env, fx);
    }
    round_general(neg, exp, m, env, fx)
}

/// [`round`] of a normalised `m`, any exponent.
#[inline(never)]
fn round_general(neg: bool, exp: i32, m: u128, env: Env, fx: &mut Fx) -> Rounded {
    let f = env.fmt;
    // Beyond what the wrapped exponent can hold, the hardware delivers a
    // zero or an infinity (still flagging the unmasked exception).
    if env.wrap_under && exp + WRAP_BIAS < f.emin {
        // A signed zero whatever the rounding mode.
        fx.exc |= exc::UE | exc::PE;
        fx.up = false;
        return Rounded {
            neg,
            exp: f.emin,
            sig: 0,
            inf: false,
        };
    }
    if env.wrap_over && exp - WRAP_BIAS > f.emax {
        // An infinity whatever the rounding mode.
        fx.exc |= exc::OE | exc::PE;
        fx.up = true;
        return Rounded {
            neg,
            exp: f.emax,
            sig: 1 << 63,
            inf: true,
        };
    }
    // Tininess after rounding: round at full precision, unbounded exponent.
    let full = round_bits(neg, m, f.prec as i32, env.rc);
    let tiny = exp + i32::from(full.1) < f.emin;
    let (keep, (kept, carry, inexact)) = if tiny && !env.wrap_under {
        let keep = f.prec as i32 - (f.emin - exp);
        (keep, round_bits(neg, m, keep, env.rc))
    } else {
        // The common case: the rounding just done is the result's.
        (f.prec as i32, full)
    };
    if inexact {
        fx.exc |= exc::PE;
        fx.up = round_grew(m, keep, kept, carry);
    }
    if tiny && (inexact || env.wrap_under) {
        fx.exc |= exc::UE;
    }
    if tiny && !env.wrap_under {
        // `kept` counts units of the smallest denormal; the result sits at
        // emin (and is normal if rounding carried into bit 63).
        let units = if carry { 1u64 << keep.max(0) } else { kept };
        return Rounded {
            neg,
            exp: f.emin,
            sig: units << (64 - f.prec),
            inf: false,
        };
    }
    let (sig, exp) = if carry {
        (1u64 << 63, exp + 1)
    } else {
        (kept << (64 - keep), exp)
    };
    if exp > f.emax && !env.wrap_over {
        return overflow(neg, env, fx);
    }
    let exp = if exp > f.emax {
        fx.exc |= exc::OE;
        exp - WRAP_BIAS
    } else if tiny {
        exp + WRAP_BIAS
    } else {
        exp
    };
    Rounded {
        neg,
        exp,
        sig,
        inf: false,
    }
}

/// [`round`] of a normalised `m` whose exponent is inside the format's
/// range, so that neither tininess nor overflow (even after rounding
/// carries into the exponent) can happen: the common case, in 64-bit
/// arithmetic. Same result, flags and C1 as the general path.
#[inline(always)]
fn round_in_range(neg: bool, exp: i32, m: u128, env: Env, fx: &mut Fx) -> Rounded {
    let keep = env.fmt.prec;
    let (hi, lo) = ((m >> 64) as u64, m as u64);
    // The kept bits, the first bit below them and whether any other
    // below is set.
    let (kept, round, sticky) = if keep == 64 {
        (hi, lo >> 63 != 0, lo << 1 != 0)
    } else {
        let below = 64 - keep;
        let rest = hi & ((1 << below) - 1);
        (
            hi >> below,
            rest >> (below - 1) != 0,
            rest & ((1 << (below - 1)) - 1) != 0 || lo != 0,
        )
    };
    let inexact = round || sticky;
    let inc = match env.rc {
        Rc::Nearest => round && (sticky || kept & 1 == 1),
        Rc::Zero => false,
        Rc::Up => !neg && inexact,
        Rc::Down => neg && inexact,
    };
    if inexact {
        fx.exc |= exc::PE;
        fx.up = inc;
    }
    // `kept` has its top bit set; a carry out of `keep` bits makes it the
    // next power of two.
    let kept = kept.wrapping_add(u64::from(inc));
    let (sig, exp) = if keep == 64 && kept == 0 || keep < 64 && kept >> keep != 0 {
        (1 << 63, exp + 1)
    } else {
        (kept << (64 - keep), exp)
    };
    Rounded {
        neg,
        exp,
        sig,
        inf: false,
    }
}

/// Rounds the normalised `m` to `keep` top bits. Returns the kept bits (in
/// the low bits), whether rounding carried out of them (the result is then
/// the next power of two), and whether the result is inexact.
#[inline(always)]
fn round_bits(neg: bool, m: u128, keep: i32, rc: Rc) -> (u64, bool, bool) {
    let half = 1u128 << 127;
    let (kept, rem) = match keep {
        k if k < 0 => (0u64, 1u128),
        0 => (0, m),
        k => ((m >> (128 - k)) as u64, m << k),
    };
    let inexact = rem != 0;
    let inc = match rc {
        Rc::Nearest => rem > half || (rem == half && kept & 1 == 1),
        Rc::Zero => false,
        Rc::Up => !neg && inexact,
        Rc::Down => neg && inexact,
    };
    if !inc {
        return (kept, false, inexact);
    }
    let kept = kept.wrapping_add(1);
    let width = keep.max(0) as u32;
    if width >= 64 && kept == 0 || width < 64 && kept == 1u64 << width {
        (0, true, inexact)
    } else {
        (kept, false, inexact)
    }
}

/// Whether the rounded magnitude exceeds the exact one.
fn round_grew(m: u128, keep: i32, kept: u64, carry: bool) -> bool {
    if carry {
        return true;
    }
    let truncated = match keep {
        k if k <= 0 => 0,
        k => (m >> (128 - k)) as u64,
    };
    kept != truncated
}

/// The masked overflow response: infinity or the largest finite value,
/// by rounding direction.
fn overflow(neg: bool, env: Env, fx: &mut Fx) -> Rounded {
    fx.exc |= exc::OE | exc::PE;
    let to_inf = match env.rc {
        Rc::Nearest => true,
        Rc::Zero => false,
        Rc::Up => !neg,
        Rc::Down => neg,
    };
    fx.up = to_inf;
    let max = u64::MAX << (64 - env.fmt.prec);
    Rounded {
        neg,
        exp: env.fmt.emax,
        sig: max,
        inf: to_inf,
    }
}

/// Packs a rounded result into the register format.
#[inline]
pub fn pack(r: Rounded) -> F80 {
    let sign = u16::from(r.neg) << 15;
    if r.inf {
        return F80::new(sign | 0x7fff, 1 << 63);
    }
    if r.sig >> 63 == 0 {
        return F80::new(sign, r.sig);
    }
    F80::new(sign | (r.exp + BIAS) as u16, r.sig)
}

/// Rounds and packs in one step.
#[inline]
pub fn round_pack(neg: bool, exp: i32, m: u128, env: Env, fx: &mut Fx) -> F80 {
    pack(round(neg, exp, m, env, fx))
}

/// Rounds a register value to the precision and range of `env` (used by
/// loads that must not change the value, FRNDINT's cousins, and stores).
pub fn round_value(v: F80, env: Env, fx: &mut Fx) -> F80 {
    match v.class() {
        Class::Normal | Class::Denormal => {
            let n = unpack(v);
            round_pack(n.neg, n.exp, u128::from(n.sig) << 64, env, fx)
        }
        _ => v,
    }
}

/// Quiets a NaN (sets the significand's top fraction bit).
pub fn quiet(v: F80) -> F80 {
    F80::new(v.sign_exp, v.signif | 1 << 62)
}

/// The result of an operation with at least one NaN operand, raising IE
/// for a signalling NaN.
pub fn propagate_nan(a: F80, b: F80, fx: &mut Fx) -> F80 {
    let (ca, cb) = (a.class(), b.class());
    if ca == Class::SNaN || cb == Class::SNaN {
        fx.exc |= exc::IE;
    }
    let pick = match (a.is_nan(), b.is_nan()) {
        (true, false) => a,
        (false, true) => b,
        _ if ca == Class::QNaN && cb == Class::SNaN => a,
        _ if ca == Class::SNaN && cb == Class::QNaN => b,
        _ => larger_nan(a, b),
    };
    quiet(pick)
}

/// Of two NaNs of the same kind, the one with the larger significand; the
/// positive one on a tie.
fn larger_nan(a: F80, b: F80) -> F80 {
    let (sa, sb) = (a.signif | 1 << 62, b.signif | 1 << 62);
    if sa > sb || (sa == sb && !a.sign()) {
        a
    } else {
        b
    }
}

/// Pre-checks shared by the binary operations: NaNs, invalid encodings and
/// denormal operands. Returns the final result if the operands decide it.
fn check_operands(a: F80, b: F80, fx: &mut Fx) -> Option<F80> {
    let (ca, cb) = (a.class(), b.class());
    if ca == Class::Unsupported || cb == Class::Unsupported {
        fx.exc |= exc::IE;
        return Some(F80::INDEFINITE);
    }
    if a.is_nan() || b.is_nan() {
        return Some(propagate_nan(a, b, fx));
    }
    if ca == Class::Denormal || cb == Class::Denormal {
        fx.exc |= exc::DE;
    }
    None
}

/// Invalid operation with the masked response.
pub fn invalid(fx: &mut Fx) -> F80 {
    fx.exc |= exc::IE;
    F80::INDEFINITE
}

/// Both operands normal numbers (no special case applies to them).
#[inline(always)]
fn both_normal(a: F80, b: F80) -> bool {
    let normal = |v: F80| v.signif >> 63 != 0 && (1..0x7fff).contains(&v.exp());
    normal(a) && normal(b)
}

fn is_zero(v: F80) -> bool {
    v.class() == Class::Zero
}

fn is_inf(v: F80) -> bool {
    v.class() == Class::Inf
}

/// The sign of an exact zero sum: positive unless rounding down.
fn zero_sum_sign(env: Env) -> bool {
    env.rc == Rc::Down
}

/// a + b.
pub fn add(a: F80, b: F80, env: Env, fx: &mut Fx) -> F80 {
    if both_normal(a, b) {
        return add_finite(unpack(a), unpack(b), env, fx);
    }
    if let Some(r) = check_operands(a, b, fx) {
        return r;
    }
    match (is_inf(a), is_inf(b)) {
        (true, true) if a.sign() != b.sign() => return invalid(fx),
        (true, _) => return a,
        (_, true) => return b,
        _ => {}
    }
    match (is_zero(a), is_zero(b)) {
        (true, true) if a.sign() == b.sign() => return a,
        (true, true) => return F80::zero(zero_sum_sign(env)),
        (true, false) => return round_value(b, env, fx),
        (false, true) => return round_value(a, env, fx),
        _ => {}
    }
    add_finite(unpack(a), unpack(b), env, fx)
}

/// a - b.
pub fn sub(a: F80, b: F80, env: Env, fx: &mut Fx) -> F80 {
    if b.is_nan() {
        return add(a, b, env, fx);
    }
    add(a, b.chs(), env, fx)
}

fn add_finite(a: Num, b: Num, env: Env, fx: &mut Fx) -> F80 {
    let (x, y) = if (a.exp, a.sig) >= (b.exp, b.sig) {
        (a, b)
    } else {
        (b, a)
    };
    // Leading bit at 126 leaves room for the carry of an addition.
    let mx = u128::from(x.sig) << 63;
    let my = shr_sticky(u128::from(y.sig) << 63, (x.exp - y.exp) as u32);
    let m = if x.neg == y.neg { mx + my } else { mx - my };
    if m == 0 {
        return F80::zero(zero_sum_sign(env));
    }
    round_pack(x.neg, x.exp + 1, m, env, fx)
}

/// a * b.
pub fn mul(a: F80, b: F80, env: Env, fx: &mut Fx) -> F80 {
    let neg = a.sign() != b.sign();
    if !both_normal(a, b) {
        if let Some(r) = mul_special(a, b, neg, fx) {
            return r;
        }
    }
    let (x, y) = (unpack(a), unpack(b));
    let m = u128::from(x.sig) * u128::from(y.sig);
    round_pack(neg, x.exp + y.exp + 1, m, env, fx)
}

/// The product where an operand is not a normal number, if it is not an
/// ordinary rounding (denormals only raise DE and go on).
fn mul_special(a: F80, b: F80, neg: bool, fx: &mut Fx) -> Option<F80> {
    if let Some(r) = check_operands(a, b, fx) {
        return Some(r);
    }
    if (is_inf(a) && is_zero(b)) || (is_zero(a) && is_inf(b)) {
        return Some(invalid(fx));
    }
    if is_inf(a) || is_inf(b) {
        return Some(F80::inf(neg));
    }
    if is_zero(a) || is_zero(b) {
        return Some(F80::zero(neg));
    }
    None
}

/// a / b.
pub fn div(a: F80, b: F80, env: Env, fx: &mut Fx) -> F80 {
    let neg = a.sign() != b.sign();
    // Division of a finite non-zero value by zero raises ZE but never DE.
    if b.class() == Class::Zero && matches!(a.class(), Class::Normal | Class::Denormal) {
        fx.exc |= exc::ZE;
        return F80::inf(neg);
    }
    if let Some(r) = check_operands(a, b, fx) {
        return r;
    }
    match (a.class(), b.class()) {
        (Class::Inf, Class::Inf) | (Class::Zero, Class::Zero) => return invalid(fx),
        (Class::Inf, _) => return F80::inf(neg),
        (_, Class::Inf) => return F80::zero(neg),
        (Class::Zero, _) => return F80::zero(neg),
        (_, Class::Zero) => {
            fx.exc |= exc::ZE;
            return F80::inf(neg);
        }
        _ => {}
    }
    let (x, y) = (unpack(a), unpack(b));
    let (m, e) = div_sig(x.sig, y.sig);
    round_pack(neg, x.exp - y.exp + e, m, env, fx)
}

/// The quotient of two normalised significands to 128 bits plus sticky,
/// with the exponent of its bit 127.
pub fn div_sig(a: u64, b: u64) -> (u128, i32) {
    let (num, e) = if a >= b {
        (u128::from(a) << 63, 0)
    } else {
        (u128::from(a) << 64, -1)
    };
    let b = u128::from(b);
    let (q1, r1) = (num / b, num % b);
    let (q2, r2) = ((r1 << 64) / b, (r1 << 64) % b);
    let m = (q1 << 64) | q2 | u128::from(r2 != 0);
    (m, e)
}

/// Square root.
pub fn sqrt(a: F80, env: Env, fx: &mut Fx) -> F80 {
    match a.class() {
        Class::Unsupported => return invalid(fx),
        Class::QNaN | Class::SNaN => return propagate_nan(a, a, fx),
        Class::Zero => return a,
        Class::Inf if !a.sign() => return a,
        _ if a.sign() => return invalid(fx),
        Class::Denormal => fx.exc |= exc::DE,
        _ => {}
    }
    let n = unpack(a);
    // value = sig * 2^(exp - 63); make the power of two even.
    let e = n.exp - 63;
    let s = if (e - 63).rem_euclid(2) == 0 { 63 } else { 64 };
    let radicand = u128::from(n.sig) << s;
    let r = isqrt(radicand);
    let rem = radicand - u128::from(r) * u128::from(r);
    let round_bit = rem > u128::from(r);
    let m = (u128::from(r) << 64) | (u128::from(round_bit) << 63) | u128::from(rem != 0);
    round_pack(false, 63 + (e - s) / 2, m, env, fx)
}

/// floor(sqrt(n)) for n >= 2^126 (the result has exactly 64 bits).
fn isqrt(n: u128) -> u64 {
    let mut r = (n as f64).sqrt() as u128;
    r = (r + n / r) / 2;
    while r * r > n {
        r -= 1;
    }
    while (r + 1).checked_mul(r + 1).is_some_and(|sq| sq <= n) {
        r += 1;
    }
    r as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> Env {
        Env::from_cw(0x037f)
    }

    #[test]
    fn one_third() {
        let mut fx = Fx::default();
        let r = div(
            F80::ONE,
            F80::new(0x4000, 0xc000_0000_0000_0000),
            env(),
            &mut fx,
        );
        assert_eq!(r, F80::new(0x3ffd, 0xaaaa_aaaa_aaaa_aaab));
        assert_eq!(
            fx,
            Fx {
                exc: exc::PE,
                up: true
            }
        );
    }

    #[test]
    fn sqrt_two() {
        let mut fx = Fx::default();
        let r = sqrt(F80::new(0x4000, 1 << 63), env(), &mut fx);
        assert_eq!(r, F80::new(0x3fff, 0xb504_f333_f9de_6484));
        assert_eq!(fx.exc, exc::PE);
    }
}

#[cfg(test)]
mod round_tests {
    use super::*;

    /// The in-range shortcut against the general path, on random
    /// significands (with ties and carries made likely) in every
    /// precision and rounding mode, at and near the range's ends.
    #[test]
    fn in_range_rounding_equals_the_general_path() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for n in 0..200_000u32 {
            let (hi, lo) = (next() | 1 << 63, next());
            let m = match n % 4 {
                0 => u128::from(hi) << 64 | u128::from(lo),
                // Ties and all-ones tails for every precision.
                1 => u128::from(hi | ((1 << (next() % 64)) - 1)) << 64,
                2 => u128::from(u64::MAX) << 64 | u128::from(lo >> (next() % 64)),
                _ => u128::from(hi & !((1 << (next() % 64)) - 1)) << 64 | u128::from(lo & 1),
            };
            let cw = (next() as u16 & 0x0f00) | 0x3f;
            for fmt in [Env::from_cw(cw).fmt, DOUBLE, SINGLE] {
                let env = Env {
                    fmt,
                    ..Env::from_cw(cw)
                };
                let exp = match n % 3 {
                    0 => fmt.emin,
                    1 => fmt.emax - 1,
                    _ => fmt.emin + (next() % (fmt.emax - fmt.emin) as u64) as i32,
                };
                let (mut f1, mut f2) = (Fx::default(), Fx::default());
                let a = round_in_range(n & 1 == 1, exp, m, env, &mut f1);
                let b = round_general(n & 1 == 1, exp, m, env, &mut f2);
                assert_eq!((a, f1), (b, f2), "m {m:#x} exp {exp} {env:?}");
            }
        }
    }
}
