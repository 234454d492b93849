//! A small binary floating-point type with a 128-bit significand, for
//! evaluating transcendental functions with about twice the precision of
//! the 80-bit result before rounding once.
//!
//! Operations truncate; each loses at most an ulp of 2^-127, so a series of
//! a few dozen steps stays well below 2^-120 relative error, far beyond the
//! 2^-64 a result needs.

use super::float::{self, Env, Fx};
use crate::state::F80;

/// `mant * 2^(exp - 127)`; `mant` has bit 127 set unless the value is 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Big {
    pub neg: bool,
    pub exp: i32,
    pub mant: u128,
}

impl Big {
    pub const ZERO: Big = Big {
        neg: false,
        exp: 0,
        mant: 0,
    };
    pub const ONE: Big = Big {
        neg: false,
        exp: 0,
        mant: 1 << 127,
    };
    /// ln 2.
    pub const LN2: Big = Big {
        neg: false,
        exp: -1,
        mant: 0xb172_17f7_d1cf_79ab_c9e3_b398_03f2_f6af,
    };
    /// log2 e.
    pub const LOG2E: Big = Big {
        neg: false,
        exp: 0,
        mant: 0xb8aa_3b29_5c17_f0bb_be87_fed0_691d_3e88,
    };
    /// pi.
    pub const PI: Big = Big {
        neg: false,
        exp: 1,
        mant: 0xc90f_daa2_2168_c234_c4c6_628b_80dc_1cd1,
    };

    /// Normalises `mant * 2^(exp - 127)`.
    pub fn new(neg: bool, exp: i32, mant: u128) -> Big {
        if mant == 0 {
            return Big::ZERO;
        }
        let lz = mant.leading_zeros();
        Big {
            neg,
            exp: exp - lz as i32,
            mant: mant << lz,
        }
    }

    /// A finite register value (exact).
    pub fn from_f80(v: F80) -> Big {
        if v.signif == 0 {
            return Big::ZERO;
        }
        let n = float::unpack(v);
        Big::new(n.neg, n.exp, u128::from(n.sig) << 64)
    }

    /// A small integer (exact).
    pub fn from_int(i: i64) -> Big {
        Big::new(i < 0, 127, u128::from(i.unsigned_abs()))
    }

    pub fn is_zero(self) -> bool {
        self.mant == 0
    }

    pub fn neg(self) -> Big {
        Big {
            neg: !self.neg && !self.is_zero(),
            ..self
        }
    }

    pub fn abs(self) -> Big {
        Big { neg: false, ..self }
    }

    /// Multiplies by 2^k.
    pub fn scale(self, k: i32) -> Big {
        if self.is_zero() {
            return self;
        }
        Big {
            exp: self.exp + k,
            ..self
        }
    }

    pub fn add(self, o: Big) -> Big {
        if self.is_zero() {
            return o;
        }
        if o.is_zero() {
            return self;
        }
        let (a, b) = if (self.exp, self.mant) >= (o.exp, o.mant) {
            (self, o)
        } else {
            (o, self)
        };
        let d = (a.exp - b.exp) as u32;
        // One guard bit at the top for the carry.
        let bm = if d >= 127 { 0 } else { (b.mant >> 1) >> d };
        let am = a.mant >> 1;
        let m = if a.neg == b.neg { am + bm } else { am - bm };
        Big::new(a.neg, a.exp + 1, m)
    }

    pub fn sub(self, o: Big) -> Big {
        self.add(o.neg())
    }

    pub fn mul(self, o: Big) -> Big {
        if self.is_zero() || o.is_zero() {
            return Big::ZERO;
        }
        let hi = mul_hi(self.mant, o.mant);
        Big::new(self.neg != o.neg, self.exp + o.exp + 1, hi)
    }

    pub fn div(self, o: Big) -> Big {
        debug_assert!(!o.is_zero());
        if self.is_zero() {
            return Big::ZERO;
        }
        // Restoring division: 128 quotient bits of a/d, from the units bit.
        let (mut r, d) = (self.mant, o.mant);
        let mut q = u128::from(r >= d);
        if r >= d {
            r -= d;
        }
        for _ in 0..127 {
            let carry = r >> 127 != 0;
            r <<= 1;
            q <<= 1;
            if carry || r >= d {
                r = r.wrapping_sub(d);
                q |= 1;
            }
        }
        Big::new(self.neg != o.neg, self.exp - o.exp, q)
    }

    /// Divides by a small positive integer.
    pub fn div_small(self, n: u32) -> Big {
        let n = u128::from(n);
        let (hi, lo) = (self.mant >> 64, self.mant & u128::from(u64::MAX));
        let (q1, r1) = (hi / n, hi % n);
        let q2 = ((r1 << 64) | lo) / n;
        Big::new(self.neg, self.exp, (q1 << 64) | q2)
    }

    /// Square root by Newton's method from a double-precision estimate.
    pub fn sqrt(self) -> Big {
        if self.is_zero() {
            return self;
        }
        let approx = (self.mant >> 64) as f64 * 2f64.powi(-63);
        let (est, half_exp) = if self.exp % 2 == 0 {
            (approx.sqrt(), self.exp / 2)
        } else {
            ((approx * 2.0).sqrt(), (self.exp - 1).div_euclid(2))
        };
        let mut s = Big::new(false, half_exp, (est * 2f64.powi(62)) as u128 * (1 << 65));
        for _ in 0..3 {
            s = s.add(self.div(s)).scale(-1);
        }
        s
    }

    /// Rounds to the register format. `exact` says the value is known to be
    /// exact; otherwise the lowest bit acts as a sticky bit.
    pub fn round(self, exact: bool, env: Env, fx: &mut Fx) -> F80 {
        if self.is_zero() {
            return F80::zero(self.neg);
        }
        let m = if exact { self.mant } else { self.mant | 1 };
        float::round_pack(self.neg, self.exp, m, env, fx)
    }
}

/// The high 128 bits of a 256-bit product.
fn mul_hi(a: u128, b: u128) -> u128 {
    let mask = u128::from(u64::MAX);
    let (a1, a0) = (a >> 64, a & mask);
    let (b1, b0) = (b >> 64, b & mask);
    let lo = a0 * b0;
    let mid1 = a1 * b0;
    let mid2 = a0 * b1;
    let hi = a1 * b1;
    let (mid, c1) = mid1.overflowing_add(mid2);
    let carry = ((lo >> 64) + (mid & mask)) >> 64;
    hi + (mid >> 64) + (u128::from(c1) << 64) + carry
}

/// Sums a series `sum term_k` where `next(term, k)` gives the next term,
/// until terms no longer change the sum. The first neglected term still
/// nudges the sum by two units of its last bit in its direction, so a
/// result just below a representable value (cos x = 1 - x^2/2 for tiny x)
/// does not round as if it were just above.
pub fn series(first: Big, mut next: impl FnMut(Big, u32) -> Big) -> Big {
    let mut sum = first;
    let mut term = first;
    for k in 1..200 {
        term = next(term, k);
        if term.is_zero() {
            break;
        }
        if term.exp < sum.exp - 120 {
            let nudge = Big::new(term.neg, sum.exp - 126, 1 << 127);
            return sum.add(nudge);
        }
        sum = sum.add(term);
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    fn to_f64(b: Big) -> f64 {
        let v = (b.mant >> 64) as f64 * 2f64.powi(b.exp - 63);
        if b.neg {
            -v
        } else {
            v
        }
    }

    #[test]
    fn arithmetic() {
        let three = Big::from_int(3);
        let third = Big::ONE.div(three);
        let err = third.mul(three).sub(Big::ONE);
        assert!(err.is_zero() || err.exp < -120);
        assert!((to_f64(Big::from_int(2).sqrt()) - 2f64.sqrt()).abs() < 1e-15);
        assert_eq!(to_f64(Big::from_int(7).div_small(2)), 3.5);
        assert_eq!(to_f64(Big::from_int(-5).add(Big::from_int(3))), -2.0);
    }
}
