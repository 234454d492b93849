//! IEEE 754 binary32/binary64 arithmetic with x86 MXCSR semantics,
//! computed on integers so every host (wasm32 included) gets the same bits
//! in every rounding mode.
//!
//! A finite operand is unpacked to `sig * 2^exp` with `sig` normalised to
//! exactly P bits. Each operation forms its exact result (or the exact
//! result with a "sticky" low bit standing for a nonzero remainder) in a
//! `u128`, and [`round`] rounds it once into the format.
//!
//! What this host measured (and the SDM describes) for SSE:
//! - NaN operands: the result is the first NaN operand (destination before
//!   source), quietened; invalid operations give the default NaN (negative
//!   QNaN). An SNaN operand raises IE.
//! - DE is raised for a denormal operand only when the operation goes on
//!   to compute (not with a NaN operand, an invalid operation or a division
//!   by zero); DAZ reads denormal operands as zeros and raises nothing.
//! - Tininess is detected after rounding (the result rounded to P bits
//!   with an unbounded exponent is below the smallest normal). With
//!   underflow masked, UE is raised only with PE; FTZ then returns a
//!   signed zero with UE and PE. With underflow unmasked, a tiny result
//!   raises UE alone. Overflow likewise: OE|PE masked, OE alone unmasked.

/// MXCSR bits.
pub mod mx {
    pub const IE: u32 = 1 << 0;
    pub const DE: u32 = 1 << 1;
    pub const ZE: u32 = 1 << 2;
    pub const OE: u32 = 1 << 3;
    pub const UE: u32 = 1 << 4;
    pub const PE: u32 = 1 << 5;
    pub const DAZ: u32 = 1 << 6;
    /// The exception masks are the flags shifted left by this.
    pub const MASK_SHIFT: u32 = 7;
    pub const RC_SHIFT: u32 = 13;
    pub const FTZ: u32 = 1 << 15;
    /// Bits LDMXCSR accepts (MXCSR_MASK).
    pub const WRITABLE: u32 = 0xffff;
}

/// Rounding control values.
pub const RN: u32 = 0;
pub const RD: u32 = 1;
pub const RU: u32 = 2;
pub const RZ: u32 = 3;

/// A binary floating-point format.
pub trait Fmt {
    /// Significand bits including the implicit one.
    const P: u32;
    /// Exponent bits.
    const E: u32;
    const BIAS: i32 = (1 << (Self::E - 1)) - 1;
    const EMIN: i32 = 1 - Self::BIAS;
    const EMAX: i32 = Self::BIAS;
    const FRAC: u64 = (1 << (Self::P - 1)) - 1;
    const EXP_ALL: u64 = (1 << Self::E) - 1;
    const SIGN: u64 = 1 << (Self::P - 1 + Self::E);
    /// The quiet bit of a NaN.
    const QUIET: u64 = 1 << (Self::P - 2);
    const INF: u64 = Self::EXP_ALL << (Self::P - 1);
    /// The default NaN: negative, quiet, zero payload.
    const DEFAULT_NAN: u64 = Self::SIGN | Self::INF | Self::QUIET;
    const MAX_FINITE: u64 = Self::INF - 1;
}

pub struct F32;
pub struct F64;

impl Fmt for F32 {
    const P: u32 = 24;
    const E: u32 = 8;
}

impl Fmt for F64 {
    const P: u32 = 53;
    const E: u32 = 11;
}

/// The floating-point environment of one instruction: MXCSR control bits
/// in, exception flags out.
pub struct Env {
    pub mxcsr: u32,
    pub flags: u32,
}

impl Env {
    pub fn new(mxcsr: u32) -> Env {
        Env { mxcsr, flags: 0 }
    }

    pub fn rc(&self) -> u32 {
        (self.mxcsr >> mx::RC_SHIFT) & 3
    }

    fn masked(&self, flag: u32) -> bool {
        (self.mxcsr >> mx::MASK_SHIFT) & flag != 0
    }

    fn daz(&self) -> bool {
        self.mxcsr & mx::DAZ != 0
    }

    fn ftz(&self) -> bool {
        self.mxcsr & mx::FTZ != 0
    }

    /// True if a raised flag is unmasked (the instruction must trap).
    pub fn unmasked(&self) -> bool {
        self.flags & !(self.mxcsr >> mx::MASK_SHIFT) & 0x3f != 0
    }

    pub fn raise(&mut self, flags: u32) {
        self.flags |= flags;
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Zero,
    Finite,
    Inf,
    QNaN,
    SNaN,
}

/// An unpacked operand. For `Finite`, value = sig * 2^exp, sig has P bits.
#[derive(Clone, Copy, Debug)]
pub struct Num {
    pub sign: bool,
    pub exp: i32,
    pub sig: u64,
    pub kind: Kind,
    /// The operand was a denormal (and DAZ was off).
    pub denormal: bool,
}

impl Num {
    pub fn is_nan(&self) -> bool {
        matches!(self.kind, Kind::QNaN | Kind::SNaN)
    }
}

/// Unpacks `bits`, reading denormals as zero under DAZ.
pub fn unpack<F: Fmt>(bits: u64, env: &Env) -> Num {
    let sign = bits & F::SIGN != 0;
    let be = (bits >> (F::P - 1)) & F::EXP_ALL;
    let frac = bits & F::FRAC;
    let mut n = Num {
        sign,
        exp: 0,
        sig: 0,
        kind: Kind::Finite,
        denormal: false,
    };
    if be == F::EXP_ALL {
        n.kind = match (frac, frac & F::QUIET) {
            (0, _) => Kind::Inf,
            (_, 0) => Kind::SNaN,
            _ => Kind::QNaN,
        };
    } else if be == 0 {
        if frac == 0 || env.daz() {
            n.kind = Kind::Zero;
        } else {
            let s = frac.leading_zeros() - (64 - F::P);
            n.sig = frac << s;
            n.exp = F::EMIN - (F::P as i32 - 1) - s as i32;
            n.denormal = true;
        }
    } else {
        n.sig = frac | (1 << (F::P - 1));
        n.exp = be as i32 - F::BIAS - (F::P as i32 - 1);
    }
    n
}

/// Shifts `sig` right by `sh` bits rounding per `rc`; returns the result
/// and whether it is inexact. A non-positive `sh` shifts left exactly.
pub fn shift_round(sig: u128, sh: i32, sign: bool, rc: u32) -> (u128, bool) {
    if sh <= 0 {
        return (sig << (-sh) as u32, false);
    }
    let (q, rest) = if sh >= 128 {
        (0, sig)
    } else {
        (sig >> sh, sig & ((1u128 << sh) - 1))
    };
    if rest == 0 {
        return (q, false);
    }
    let up = match rc {
        RN if sh > 128 => false,
        RN => {
            let half = 1u128 << (sh - 1);
            rest > half || (rest == half && q & 1 == 1)
        }
        RD => sign,
        RU => !sign,
        _ => false,
    };
    (q + u128::from(up), true)
}

fn zero<F: Fmt>(sign: bool) -> u64 {
    if sign {
        F::SIGN
    } else {
        0
    }
}

/// The result of an overflow in rounding mode `rc`: infinity, or the
/// largest finite number when rounding towards zero from that side.
fn overflow_result<F: Fmt>(sign: bool, rc: u32) -> u64 {
    let to_inf = match rc {
        RN => true,
        RD => sign,
        RU => !sign,
        _ => false,
    };
    zero::<F>(sign) | if to_inf { F::INF } else { F::MAX_FINITE }
}

/// Rounds `sig * 2^exp` (`sig` nonzero, its lowest bit possibly sticky)
/// into format `F`, raising OE/UE/PE and applying FTZ.
pub fn round<F: Fmt>(sign: bool, exp: i32, sig: u128, env: &mut Env) -> u64 {
    let p = F::P as i32;
    let rc = env.rc();
    let top = exp + 127 - sig.leading_zeros() as i32;
    let tiny = top < F::EMIN - 1
        || (top == F::EMIN - 1 && shift_round(sig, top - (p - 1) - exp, sign, rc).0 >> p == 0);
    // Whether the result is exact at P bits with an unbounded exponent:
    // the PE an unmasked OE/UE reports alongside.
    let inexact_unbounded = shift_round(sig, top - (p - 1) - exp, sign, rc).1;
    let unbounded_pe = if inexact_unbounded { mx::PE } else { 0 };
    let mut q = top.max(F::EMIN) - (p - 1);
    let (mut m, inexact) = shift_round(sig, q - exp, sign, rc);
    if m >> p != 0 {
        m >>= 1;
        q += 1;
    }
    if q + p - 1 > F::EMAX {
        if !env.masked(mx::OE) {
            env.raise(mx::OE | unbounded_pe);
        } else {
            env.raise(mx::OE | mx::PE);
        }
        return overflow_result::<F>(sign, rc);
    }
    if tiny {
        if !env.masked(mx::UE) {
            env.raise(mx::UE | unbounded_pe);
        } else if env.ftz() {
            env.raise(mx::UE | mx::PE);
            return zero::<F>(sign);
        } else if inexact {
            env.raise(mx::UE | mx::PE);
        }
    } else if inexact {
        env.raise(mx::PE);
    }
    let m = m as u64;
    let biased = if m >> (p - 1) != 0 {
        (q + p - 1 + F::BIAS) as u64
    } else {
        0
    };
    zero::<F>(sign) | biased << (F::P - 1) | (m & F::FRAC)
}

/// Packs an unpacked finite value exactly (re-rounding it, which applies
/// FTZ to denormal results as the hardware does).
fn repack<F: Fmt>(n: &Num, env: &mut Env) -> u64 {
    match n.kind {
        Kind::Zero => zero::<F>(n.sign),
        Kind::Inf => zero::<F>(n.sign) | F::INF,
        _ => round::<F>(n.sign, n.exp, u128::from(n.sig), env),
    }
}

/// The NaN result of a two-operand operation, if either operand is NaN.
fn propagate_nan<F: Fmt>(a: &Num, ab: u64, b: &Num, bb: u64, env: &mut Env) -> Option<u64> {
    if a.kind == Kind::SNaN || b.kind == Kind::SNaN {
        env.raise(mx::IE);
    }
    if a.is_nan() {
        Some(ab | F::QUIET)
    } else if b.is_nan() {
        Some(bb | F::QUIET)
    } else {
        None
    }
}

fn invalid<F: Fmt>(env: &mut Env) -> u64 {
    env.raise(mx::IE);
    F::DEFAULT_NAN
}

fn flag_denormals(a: &Num, b: &Num, env: &mut Env) {
    if a.denormal || b.denormal {
        env.raise(mx::DE);
    }
}

/// `a + b`, or `a - b` when `neg_b`.
pub fn add<F: Fmt>(ab: u64, bb: u64, neg_b: bool, env: &mut Env) -> u64 {
    let a = unpack::<F>(ab, env);
    let mut b = unpack::<F>(bb, env);
    if let Some(n) = propagate_nan::<F>(&a, ab, &b, bb, env) {
        return n;
    }
    b.sign ^= neg_b;
    match (a.kind, b.kind) {
        (Kind::Inf, Kind::Inf) if a.sign != b.sign => invalid::<F>(env),
        (Kind::Inf, _) => {
            flag_denormals(&a, &b, env);
            repack::<F>(&a, env)
        }
        (_, Kind::Inf) => {
            flag_denormals(&a, &b, env);
            repack::<F>(&b, env)
        }
        _ => {
            flag_denormals(&a, &b, env);
            add_finite::<F>(&a, &b, env)
        }
    }
}

fn add_finite<F: Fmt>(a: &Num, b: &Num, env: &mut Env) -> u64 {
    let exact_zero_sign = if a.sign == b.sign {
        a.sign
    } else {
        env.rc() == RD
    };
    match (a.kind, b.kind) {
        (Kind::Zero, Kind::Zero) => return zero::<F>(exact_zero_sign),
        (Kind::Zero, _) => return repack::<F>(b, env),
        (_, Kind::Zero) => return repack::<F>(a, env),
        _ => {}
    }
    let (big, small) = if a.exp >= b.exp { (a, b) } else { (b, a) };
    // Beyond 74 bits of distance the small operand lies wholly below the
    // rounding position; a sticky 1 stands in for it.
    let d = big.exp - small.exp;
    let (bs, ss, e) = if d <= 74 {
        (u128::from(big.sig) << d, u128::from(small.sig), small.exp)
    } else {
        (u128::from(big.sig) << 74, 1, big.exp - 74)
    };
    if big.sign == small.sign {
        return round::<F>(big.sign, e, bs + ss, env);
    }
    match bs.cmp(&ss) {
        std::cmp::Ordering::Equal => zero::<F>(exact_zero_sign),
        std::cmp::Ordering::Greater => round::<F>(big.sign, e, bs - ss, env),
        std::cmp::Ordering::Less => round::<F>(small.sign, e, ss - bs, env),
    }
}

pub fn mul<F: Fmt>(ab: u64, bb: u64, env: &mut Env) -> u64 {
    let a = unpack::<F>(ab, env);
    let b = unpack::<F>(bb, env);
    if let Some(n) = propagate_nan::<F>(&a, ab, &b, bb, env) {
        return n;
    }
    let sign = a.sign != b.sign;
    match (a.kind, b.kind) {
        (Kind::Inf, Kind::Zero) | (Kind::Zero, Kind::Inf) => invalid::<F>(env),
        (Kind::Inf, _) | (_, Kind::Inf) => {
            flag_denormals(&a, &b, env);
            zero::<F>(sign) | F::INF
        }
        (Kind::Zero, _) | (_, Kind::Zero) => {
            flag_denormals(&a, &b, env);
            zero::<F>(sign)
        }
        _ => {
            flag_denormals(&a, &b, env);
            let prod = u128::from(a.sig) * u128::from(b.sig);
            round::<F>(sign, a.exp + b.exp, prod, env)
        }
    }
}

pub fn div<F: Fmt>(ab: u64, bb: u64, env: &mut Env) -> u64 {
    let a = unpack::<F>(ab, env);
    let b = unpack::<F>(bb, env);
    if let Some(n) = propagate_nan::<F>(&a, ab, &b, bb, env) {
        return n;
    }
    let sign = a.sign != b.sign;
    match (a.kind, b.kind) {
        (Kind::Inf, Kind::Inf) | (Kind::Zero, Kind::Zero) => invalid::<F>(env),
        (Kind::Inf, _) => {
            flag_denormals(&a, &b, env);
            zero::<F>(sign) | F::INF
        }
        (_, Kind::Zero) => {
            env.raise(mx::ZE);
            zero::<F>(sign) | F::INF
        }
        (Kind::Zero, _) | (_, Kind::Inf) => {
            flag_denormals(&a, &b, env);
            zero::<F>(sign)
        }
        _ => {
            flag_denormals(&a, &b, env);
            // P+3 quotient bits leave a guard and a round bit above the
            // sticky bit that stands for a nonzero remainder.
            let s = F::P + 3;
            let n = u128::from(a.sig) << s;
            let d = u128::from(b.sig);
            let q = (n / d) | u128::from(n % d != 0);
            round::<F>(sign, a.exp - b.exp - s as i32, q, env)
        }
    }
}

/// Integer square root (floor).
fn isqrt(n: u128) -> u128 {
    // The f64 estimate is within a few units; the loops make it exact.
    let mut r = (n as f64).sqrt() as u128;
    while r * r > n {
        r -= 1;
    }
    while (r + 1) * (r + 1) <= n {
        r += 1;
    }
    r
}

pub fn sqrt<F: Fmt>(bb: u64, env: &mut Env) -> u64 {
    let b = unpack::<F>(bb, env);
    match b.kind {
        Kind::SNaN => {
            env.raise(mx::IE);
            bb | F::QUIET
        }
        Kind::QNaN => bb,
        Kind::Zero => zero::<F>(b.sign),
        _ if b.sign => invalid::<F>(env),
        Kind::Inf => F::INF,
        Kind::Finite => {
            flag_denormals(&b, &b, env);
            let (sig, exp) = if b.exp & 1 != 0 {
                (u128::from(b.sig) << 1, b.exp - 1)
            } else {
                (u128::from(b.sig), b.exp)
            };
            // Shift so the root has at least P+2 bits.
            let j = (F::P + 5) / 2;
            let n = sig << (2 * j);
            let r = isqrt(n);
            let r = r | u128::from(r * r != n);
            round::<F>(false, (exp - 2 * j as i32) / 2, r, env)
        }
    }
}

/// A key ordering non-NaN values like the real numbers they stand for.
fn order_key<F: Fmt>(n: &Num, bits: u64) -> i64 {
    let mag = match n.kind {
        Kind::Zero => 0,
        _ => (bits & !F::SIGN) as i64,
    };
    if n.sign {
        -mag
    } else {
        mag
    }
}

/// MINSS/MAXSS and friends: any NaN operand, or two zeros, give the
/// second operand; NaNs (even quiet) raise IE.
pub fn min_max<F: Fmt>(ab: u64, bb: u64, max: bool, env: &mut Env) -> u64 {
    let a = unpack::<F>(ab, env);
    let b = unpack::<F>(bb, env);
    if a.is_nan() || b.is_nan() {
        env.raise(mx::IE);
        // Under DAZ a denormal second operand comes back as zero.
        return if b.kind == Kind::Zero {
            zero::<F>(b.sign)
        } else {
            bb
        };
    }
    flag_denormals(&a, &b, env);
    let (ka, kb) = (order_key::<F>(&a, ab), order_key::<F>(&b, bb));
    let pick_a = if max { ka > kb } else { ka < kb };
    let (n, bits) = if pick_a { (a, ab) } else { (b, bb) };
    if n.kind == Kind::Zero {
        zero::<F>(n.sign)
    } else {
        bits
    }
}

/// The outcome of a comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmp {
    Less,
    Equal,
    Greater,
    Unordered,
}

/// Compares `a` with `b`; `signal_qnan` makes quiet NaNs raise IE too.
pub fn compare<F: Fmt>(ab: u64, bb: u64, signal_qnan: bool, env: &mut Env) -> Cmp {
    let a = unpack::<F>(ab, env);
    let b = unpack::<F>(bb, env);
    if a.is_nan() || b.is_nan() {
        if signal_qnan || a.kind == Kind::SNaN || b.kind == Kind::SNaN {
            env.raise(mx::IE);
        }
        return Cmp::Unordered;
    }
    flag_denormals(&a, &b, env);
    match order_key::<F>(&a, ab).cmp(&order_key::<F>(&b, bb)) {
        std::cmp::Ordering::Less => Cmp::Less,
        std::cmp::Ordering::Equal => Cmp::Equal,
        std::cmp::Ordering::Greater => Cmp::Greater,
    }
}

/// CMPPS predicate `pred` (0..8: EQ LT LE UNORD NEQ NLT NLE ORD).
pub fn cmp_pred<F: Fmt>(ab: u64, bb: u64, pred: u8, env: &mut Env) -> bool {
    let signal = matches!(pred & 3, 1 | 2);
    let c = compare::<F>(ab, bb, signal, env);
    let r = match pred & 3 {
        0 => c == Cmp::Equal,
        1 => c == Cmp::Less,
        2 => matches!(c, Cmp::Less | Cmp::Equal),
        _ => c == Cmp::Unordered,
    };
    r != (pred & 4 != 0)
}

/// The "integer indefinite" value of a failed conversion.
pub const INT_INDEFINITE: u32 = 0x8000_0000;

/// Converts to a signed 32-bit integer, rounding per MXCSR or truncating.
pub fn to_i32<F: Fmt>(bits: u64, truncate: bool, env: &mut Env) -> u32 {
    let n = unpack::<F>(bits, env);
    match n.kind {
        Kind::Zero => return 0,
        Kind::Finite => {}
        _ => {
            env.raise(mx::IE);
            return INT_INDEFINITE;
        }
    }
    if n.exp > 32 {
        env.raise(mx::IE);
        return INT_INDEFINITE;
    }
    let rc = if truncate { RZ } else { env.rc() };
    let (m, inexact) = shift_round(u128::from(n.sig), -n.exp, n.sign, rc);
    let limit = if n.sign {
        1u128 << 31
    } else {
        (1u128 << 31) - 1
    };
    if m > limit {
        env.raise(mx::IE);
        return INT_INDEFINITE;
    }
    if inexact {
        env.raise(mx::PE);
    }
    if n.sign {
        (m as u32).wrapping_neg()
    } else {
        m as u32
    }
}

/// Converts a signed integer, rounding per MXCSR.
pub fn from_int<F: Fmt>(v: i64, env: &mut Env) -> u64 {
    if v == 0 {
        return 0;
    }
    round::<F>(v < 0, 0, u128::from(v.unsigned_abs()), env)
}

/// Converts between formats (`S` to `D`): NaNs keep their payload's top
/// bits and are quietened, finite values are rounded.
pub fn convert<S: Fmt, D: Fmt>(bits: u64, env: &mut Env) -> u64 {
    let n = unpack::<S>(bits, env);
    let sign = zero::<D>(n.sign);
    match n.kind {
        Kind::Zero => sign,
        Kind::Inf => sign | D::INF,
        Kind::QNaN | Kind::SNaN => {
            if n.kind == Kind::SNaN {
                env.raise(mx::IE);
            }
            let frac = bits & S::FRAC;
            let frac = if D::P >= S::P {
                frac << (D::P - S::P)
            } else {
                frac >> (S::P - D::P)
            };
            sign | D::INF | D::QUIET | frac
        }
        Kind::Finite => {
            if n.denormal {
                env.raise(mx::DE);
            }
            round::<D>(n.sign, n.exp, u128::from(n.sig), env)
        }
    }
}
