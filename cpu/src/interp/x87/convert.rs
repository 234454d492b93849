//! Conversions between the register format and the memory formats:
//! IEEE single and double, two's-complement integers, packed BCD.
//!
//! Loads are exact (every single, double and 64-bit integer fits the
//! register format); stores round with the control word's rounding mode at
//! the memory format's precision and exponent range.

use super::float::{self, exc, round, shr_sticky, unpack, Class, Env, Fx, Num, Rc, BIAS};
use crate::state::F80;

/// An IEEE binary format's field widths.
struct Ieee {
    frac_bits: u32,
    exp_bits: u32,
}

const SINGLE: Ieee = Ieee {
    frac_bits: 23,
    exp_bits: 8,
};
const DOUBLE: Ieee = Ieee {
    frac_bits: 52,
    exp_bits: 11,
};

impl Ieee {
    fn bias(&self) -> i32 {
        (1 << (self.exp_bits - 1)) - 1
    }

    fn exp_max(&self) -> u64 {
        (1 << self.exp_bits) - 1
    }

    fn format(&self) -> float::Format {
        if self.exp_bits == 8 {
            float::SINGLE
        } else {
            float::DOUBLE
        }
    }
}

/// Widens an IEEE value to the register format, exactly and bit for bit
/// (an SNaN stays signalling). Also says whether the source was a
/// denormal, which raises DE only if the operation goes on to use it.
fn load_ieee(bits: u64, f: &Ieee) -> (F80, bool) {
    let sign_bit = f.frac_bits + f.exp_bits;
    let neg = bits >> sign_bit & 1 != 0;
    let e = (bits >> f.frac_bits) & f.exp_max();
    let frac = bits & ((1 << f.frac_bits) - 1);
    let sig = frac << (63 - f.frac_bits);
    let sign = u16::from(neg) << 15;
    if e == f.exp_max() {
        return (F80::new(sign | 0x7fff, 1 << 63 | sig), false);
    }
    if e == 0 {
        if frac == 0 {
            return (F80::zero(neg), false);
        }
        let lz = sig.leading_zeros() as i32;
        let exp = 1 - f.bias() - lz + BIAS;
        return (F80::new(sign | exp as u16, sig << lz), true);
    }
    let exp = e as i32 - f.bias() + BIAS;
    (F80::new(sign | exp as u16, 1 << 63 | sig), false)
}

/// m32fp to register format (see `load_ieee`).
pub fn from_f32(bits: u32) -> (F80, bool) {
    load_ieee(u64::from(bits), &SINGLE)
}

/// m64fp to register format (see `load_ieee`).
pub fn from_f64(bits: u64) -> (F80, bool) {
    load_ieee(bits, &DOUBLE)
}

/// Narrows a register value to an IEEE format, rounding by `cw`.
fn store_ieee(v: F80, cw: u16, f: &Ieee, fx: &mut Fx) -> u64 {
    let sign = u64::from(v.sign()) << (f.frac_bits + f.exp_bits);
    let inf = sign | f.exp_max() << f.frac_bits;
    let nan_quiet = 1u64 << (f.frac_bits - 1);
    match v.class() {
        Class::Zero => return sign,
        Class::Inf => return inf,
        Class::Unsupported => {
            fx.exc |= exc::IE;
            return (1 << (f.frac_bits + f.exp_bits)) | inf | nan_quiet;
        }
        Class::SNaN | Class::QNaN => {
            if v.class() == Class::SNaN {
                fx.exc |= exc::IE;
            }
            return inf | nan_quiet | (v.signif << 1 >> (64 - f.frac_bits));
        }
        // Stores raise no DE for a denormal source (measured on the host).
        Class::Denormal | Class::Normal => {}
    }
    let n = unpack(v);
    let r = round(
        n.neg,
        n.exp,
        u128::from(n.sig) << 64,
        Env::store(cw, f.format()),
        fx,
    );
    if r.inf {
        return inf;
    }
    let frac = (r.sig << 1) >> (64 - f.frac_bits);
    if r.sig >> 63 == 0 {
        return sign | frac;
    }
    let e = (r.exp + f.bias()) as u64;
    sign | e << f.frac_bits | frac
}

/// Register format to m32fp.
pub fn to_f32(v: F80, cw: u16, fx: &mut Fx) -> u32 {
    store_ieee(v, cw, &SINGLE, fx) as u32
}

/// Register format to m64fp.
pub fn to_f64(v: F80, cw: u16, fx: &mut Fx) -> u64 {
    store_ieee(v, cw, &DOUBLE, fx)
}

/// A signed integer to register format (exact).
pub fn from_int(i: i64) -> F80 {
    if i == 0 {
        return F80::ZERO;
    }
    let mag = i.unsigned_abs();
    let lz = mag.leading_zeros();
    let exp = (63 - lz as i32 + BIAS) as u16;
    F80::new(u16::from(i < 0) << 15 | exp, mag << lz)
}

/// |v| rounded to an integer by `rc`: the magnitude (saturated to
/// u64::MAX + 1 as `None` when it does not fit 64 bits), inexactness and
/// whether the magnitude grew.
pub fn round_int(n: Num, rc: Rc) -> (Option<u64>, bool, bool) {
    if n.exp > 63 {
        return (None, false, false);
    }
    // Two fraction bits: the half bit and a sticky bit.
    let q = shr_sticky(u128::from(n.sig) << 64, (125 - n.exp) as u32);
    let (int, frac) = (q >> 2, q & 3);
    let inexact = frac != 0;
    let inc = match rc {
        Rc::Nearest => frac > 2 || (frac == 2 && int & 1 == 1),
        Rc::Zero => false,
        Rc::Up => !n.neg && inexact,
        Rc::Down => n.neg && inexact,
    };
    let int = int + u128::from(inc);
    (u64::try_from(int).ok(), inexact, inc)
}

/// Register value to a `bits`-wide signed integer (FIST/FISTP, or FISTTP
/// with `rc == Rc::Zero`). Out of range, NaN and infinity give IE and the
/// integer indefinite (the most negative value).
pub fn to_int(v: F80, bits: u32, rc: Rc, fx: &mut Fx) -> i64 {
    let indefinite = i64::MIN >> (64 - bits);
    match v.class() {
        // Unlike arithmetic, integer stores raise no DE for denormals.
        Class::Zero => return 0,
        Class::Normal | Class::Denormal => {}
        _ => {
            fx.exc |= exc::IE;
            return indefinite;
        }
    }
    let n = unpack(v);
    let (mag, inexact, grew) = round_int(n, rc);
    let limit = 1u64 << (bits - 1);
    let fits = mag.is_some_and(|m| m < limit || (n.neg && m == limit));
    let Some(m) = mag.filter(|_| fits) else {
        fx.exc |= exc::IE;
        return indefinite;
    };
    if inexact {
        fx.exc |= exc::PE;
        fx.up = grew;
    }
    if n.neg {
        (m as i64).wrapping_neg()
    } else {
        m as i64
    }
}

/// FRNDINT: rounds to an integral value in register format.
pub fn round_to_integral(v: F80, env: Env, fx: &mut Fx) -> F80 {
    match v.class() {
        Class::Normal | Class::Denormal => {}
        Class::Unsupported => return float::invalid(fx),
        Class::SNaN | Class::QNaN => return float::propagate_nan(v, v, fx),
        _ => return v,
    }
    if v.class() == Class::Denormal {
        fx.exc |= exc::DE;
    }
    let n = unpack(v);
    if n.exp >= 63 {
        return v;
    }
    let (mag, inexact, grew) = round_int(n, env.rc);
    if inexact {
        fx.exc |= exc::PE;
        fx.up = grew;
    }
    match mag {
        Some(0) | None => F80::zero(n.neg),
        Some(m) => from_int(m as i64).with_sign(n.neg),
    }
}

/// 10^18: packed BCD holds 18 digits.
const BCD_LIMIT: u64 = 1_000_000_000_000_000_000;

/// FBLD: an 80-bit packed BCD value (digits are not validated; invalid
/// nibbles are taken at face value, which the SDM leaves undefined).
pub fn from_bcd(bytes: [u8; 10]) -> F80 {
    let mut n = 0u64;
    for &b in bytes[..9].iter().rev() {
        n = n * 100 + u64::from(b >> 4) * 10 + u64::from(b & 15);
    }
    let neg = bytes[9] & 0x80 != 0;
    if n == 0 {
        return F80::zero(neg);
    }
    from_int(n as i64).with_sign(neg)
}

/// FBSTP: register value to packed BCD, rounding by `rc`. Out of range,
/// NaN and infinity give IE and the BCD indefinite.
pub fn to_bcd(v: F80, rc: Rc, fx: &mut Fx) -> [u8; 10] {
    const INDEFINITE: [u8; 10] = [0, 0, 0, 0, 0, 0, 0, 0xc0, 0xff, 0xff];
    let (neg, mag) = match v.class() {
        Class::Zero => (v.sign(), 0),
        Class::Normal | Class::Denormal => {
            let n = unpack(v);
            let (mag, inexact, grew) = round_int(n, rc);
            match mag.filter(|&m| m < BCD_LIMIT) {
                Some(m) => {
                    if inexact {
                        fx.exc |= exc::PE;
                        fx.up = grew;
                    }
                    (n.neg, m)
                }
                None => {
                    fx.exc |= exc::IE;
                    return INDEFINITE;
                }
            }
        }
        _ => {
            fx.exc |= exc::IE;
            return INDEFINITE;
        }
    };
    let mut out = [0u8; 10];
    let mut m = mag;
    for b in out[..9].iter_mut() {
        let two = (m % 100) as u8;
        *b = (two / 10) << 4 | (two % 10);
        m /= 100;
    }
    out[9] = u8::from(neg) << 7;
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn double_round_trip() {
        let mut fx = Fx::default();
        for d in [1.0f64, -2.5, 1e300, 4.9e-324, 2.2250738585072014e-308, 0.1] {
            let (v, _) = from_f64(d.to_bits());
            assert_eq!(to_f64(v, 0x37f, &mut fx), d.to_bits(), "{d}");
        }
    }

    #[test]
    fn int_rounding() {
        let mut fx = Fx::default();
        let (two_and_half, _) = from_f64(2.5f64.to_bits());
        assert_eq!(to_int(two_and_half, 32, Rc::Nearest, &mut fx), 2);
        assert_eq!(to_int(two_and_half.chs(), 32, Rc::Down, &mut fx), -3);
        assert_eq!(to_int(two_and_half, 16, Rc::Zero, &mut fx), 2);
        let big = from_int(1 << 40);
        let mut fx = Fx::default();
        assert_eq!(to_int(big, 32, Rc::Nearest, &mut fx), i64::from(i32::MIN));
        assert_eq!(fx.exc, exc::IE);
    }

    #[test]
    fn bcd_round_trip() {
        let mut fx = Fx::default();
        let v = from_int(-123_456_789_012_345_678);
        let b = to_bcd(v, Rc::Nearest, &mut fx);
        assert_eq!(b[0], 0x78);
        assert_eq!(b[9], 0x80);
        assert_eq!(from_bcd(b), v);
    }
}
