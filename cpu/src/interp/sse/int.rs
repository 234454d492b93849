//! Packed integer arithmetic, comparison and logic (MMX, SSE2, SSSE3):
//! `dst = op(dst, src)` lane by lane. One handler, monomorphised per
//! operation (`OP`) and register file (`MMX`), so the `match` in
//! [`packed`] folds away.

use super::{is_mmx, trunc, width};
use crate::interp::ctx::{Ctx, Flow, Handler};
use crate::interp::decoded::Decoded;
use iced_x86::{Instruction, Mnemonic};

/// Applies `f` to each `W`-bit lane pair of the low `bytes` of `a`, `b`.
#[inline(always)]
pub(super) fn lanes<const W: u32>(
    a: u128,
    b: u128,
    bytes: u32,
    f: impl Fn(u64, u64) -> u64,
) -> u128 {
    let mask = u64::MAX >> (64 - W);
    (0..bytes * 8 / W).fold(0u128, |r, i| {
        let s = i * W;
        let x = (a >> s) as u64 & mask;
        let y = (b >> s) as u64 & mask;
        r | u128::from(f(x, y) & mask) << s
    })
}

/// Lane `i` of width `W`, zero-extended.
#[inline(always)]
pub(super) fn lane<const W: u32>(v: u128, i: u32) -> u64 {
    (v >> (i * W)) as u64 & (u64::MAX >> (64 - W))
}

/// Sign-extends a `W`-bit lane.
#[inline(always)]
pub(super) fn sx<const W: u32>(x: u64) -> i64 {
    ((x << (64 - W)) as i64) >> (64 - W)
}

/// Signed saturation of `v` to `W` bits.
#[inline(always)]
pub(super) fn sat_s<const W: u32>(v: i64) -> u64 {
    let max = (1i64 << (W - 1)) - 1;
    v.clamp(-max - 1, max) as u64
}

/// Unsigned saturation of `v` to `W` bits.
#[inline(always)]
pub(super) fn sat_u<const W: u32>(v: i64) -> u64 {
    v.clamp(0, (1i64 << W) - 1) as u64
}

/// Operation numbers, one per mnemonic (lane width in the name).
mod op {
    pub const ADDB: u8 = 0;
    pub const ADDW: u8 = 1;
    pub const ADDD: u8 = 2;
    pub const ADDQ: u8 = 3;
    pub const SUBB: u8 = 4;
    pub const SUBW: u8 = 5;
    pub const SUBD: u8 = 6;
    pub const SUBQ: u8 = 7;
    pub const ADDSB: u8 = 8;
    pub const ADDSW: u8 = 9;
    pub const ADDUSB: u8 = 10;
    pub const ADDUSW: u8 = 11;
    pub const SUBSB: u8 = 12;
    pub const SUBSW: u8 = 13;
    pub const SUBUSB: u8 = 14;
    pub const SUBUSW: u8 = 15;
    pub const CMPEQB: u8 = 16;
    pub const CMPEQW: u8 = 17;
    pub const CMPEQD: u8 = 18;
    pub const CMPGTB: u8 = 19;
    pub const CMPGTW: u8 = 20;
    pub const CMPGTD: u8 = 21;
    pub const AND: u8 = 22;
    pub const ANDN: u8 = 23;
    pub const OR: u8 = 24;
    pub const XOR: u8 = 25;
    pub const MULLW: u8 = 26;
    pub const MULHW: u8 = 27;
    pub const MULHUW: u8 = 28;
    pub const MULUDQ: u8 = 29;
    pub const MADDWD: u8 = 30;
    pub const MINUB: u8 = 31;
    pub const MAXUB: u8 = 32;
    pub const MINSW: u8 = 33;
    pub const MAXSW: u8 = 34;
    pub const AVGB: u8 = 35;
    pub const AVGW: u8 = 36;
    pub const SADBW: u8 = 37;
    pub const SIGNB: u8 = 38;
    pub const SIGNW: u8 = 39;
    pub const SIGND: u8 = 40;
    pub const ABSB: u8 = 41;
    pub const ABSW: u8 = 42;
    pub const ABSD: u8 = 43;
    pub const MULHRSW: u8 = 44;
    pub const MADDUBSW: u8 = 45;
    pub const HADDW: u8 = 46;
    pub const HADDD: u8 = 47;
    pub const HADDSW: u8 = 48;
    pub const HSUBW: u8 = 49;
    pub const HSUBD: u8 = 50;
    pub const HSUBSW: u8 = 51;
}

/// PSIGN: negate, zero or keep `a` by the sign of `b`.
#[inline(always)]
fn sign<const W: u32>(a: u64, b: u64) -> u64 {
    match sx::<W>(b) {
        0 => 0,
        s if s < 0 => a.wrapping_neg(),
        _ => a,
    }
}

/// PSADBW: sum of absolute byte differences per 64-bit half.
fn sadbw(a: u128, b: u128, bytes: u32) -> u128 {
    lanes::<64>(a, b, bytes, |x, y| {
        (0..8)
            .map(|i| ((x >> (8 * i)) as u8).abs_diff((y >> (8 * i)) as u8) as u64)
            .sum()
    })
}

/// PMADDWD: signed 16x16 products summed in pairs.
fn maddwd(a: u128, b: u128, bytes: u32) -> u128 {
    lanes::<32>(a, b, bytes, |x, y| {
        let p = |s: u32| i64::from((x >> s) as i16) * i64::from((y >> s) as i16);
        (p(0) + p(16)) as u64
    })
}

/// PMADDUBSW: unsigned bytes of `a` times signed bytes of `b`, adjacent
/// products summed with signed saturation.
fn maddubsw(a: u128, b: u128, bytes: u32) -> u128 {
    lanes::<16>(a, b, bytes, |x, y| {
        let p = |s: u32| i64::from((x >> s) as u8) * i64::from((y >> s) as i8);
        sat_s::<16>(p(0) + p(8))
    })
}

/// The horizontal SSSE3 operations: pairs of adjacent lanes of `a` fill
/// the low half of the result, pairs of `b` the high half.
fn horizontal<const W: u32>(a: u128, b: u128, bytes: u32, f: impl Fn(u64, u64) -> u64) -> u128 {
    let n = bytes * 8 / W;
    let half = n / 2;
    (0..n).fold(0u128, |r, i| {
        let (v, j) = if i < half { (a, i) } else { (b, i - half) };
        let x = lane::<W>(v, 2 * j);
        let y = lane::<W>(v, 2 * j + 1);
        r | u128::from(f(x, y) & (u64::MAX >> (64 - W))) << (i * W)
    })
}

/// Computes `OP` on packed operands of `bytes` bytes.
#[inline(always)]
fn packed<const OP: u8>(a: u128, b: u128, bytes: u32) -> u128 {
    use op::*;
    let bool_mask = |c: bool| if c { u64::MAX } else { 0 };
    match OP {
        ADDB => lanes::<8>(a, b, bytes, u64::wrapping_add),
        ADDW => lanes::<16>(a, b, bytes, u64::wrapping_add),
        ADDD => lanes::<32>(a, b, bytes, u64::wrapping_add),
        ADDQ => lanes::<64>(a, b, bytes, u64::wrapping_add),
        SUBB => lanes::<8>(a, b, bytes, u64::wrapping_sub),
        SUBW => lanes::<16>(a, b, bytes, u64::wrapping_sub),
        SUBD => lanes::<32>(a, b, bytes, u64::wrapping_sub),
        SUBQ => lanes::<64>(a, b, bytes, u64::wrapping_sub),
        ADDSB => lanes::<8>(a, b, bytes, |x, y| sat_s::<8>(sx::<8>(x) + sx::<8>(y))),
        ADDSW => lanes::<16>(a, b, bytes, |x, y| sat_s::<16>(sx::<16>(x) + sx::<16>(y))),
        ADDUSB => lanes::<8>(a, b, bytes, |x, y| sat_u::<8>((x + y) as i64)),
        ADDUSW => lanes::<16>(a, b, bytes, |x, y| sat_u::<16>((x + y) as i64)),
        SUBSB => lanes::<8>(a, b, bytes, |x, y| sat_s::<8>(sx::<8>(x) - sx::<8>(y))),
        SUBSW => lanes::<16>(a, b, bytes, |x, y| sat_s::<16>(sx::<16>(x) - sx::<16>(y))),
        SUBUSB => lanes::<8>(a, b, bytes, |x, y| x.saturating_sub(y)),
        SUBUSW => lanes::<16>(a, b, bytes, |x, y| x.saturating_sub(y)),
        CMPEQB => lanes::<8>(a, b, bytes, |x, y| bool_mask(x == y)),
        CMPEQW => lanes::<16>(a, b, bytes, |x, y| bool_mask(x == y)),
        CMPEQD => lanes::<32>(a, b, bytes, |x, y| bool_mask(x == y)),
        CMPGTB => lanes::<8>(a, b, bytes, |x, y| bool_mask(sx::<8>(x) > sx::<8>(y))),
        CMPGTW => lanes::<16>(a, b, bytes, |x, y| bool_mask(sx::<16>(x) > sx::<16>(y))),
        CMPGTD => lanes::<32>(a, b, bytes, |x, y| bool_mask(sx::<32>(x) > sx::<32>(y))),
        AND => a & b,
        ANDN => !a & b,
        OR => a | b,
        XOR => a ^ b,
        MULLW => lanes::<16>(a, b, bytes, u64::wrapping_mul),
        MULHW => lanes::<16>(a, b, bytes, |x, y| {
            ((sx::<16>(x) * sx::<16>(y)) >> 16) as u64
        }),
        MULHUW => lanes::<16>(a, b, bytes, |x, y| (x * y) >> 16),
        MULUDQ => lanes::<64>(a, b, bytes, |x, y| (x & 0xffff_ffff) * (y & 0xffff_ffff)),
        MADDWD => maddwd(a, b, bytes),
        MINUB => lanes::<8>(a, b, bytes, u64::min),
        MAXUB => lanes::<8>(a, b, bytes, u64::max),
        MINSW => lanes::<16>(a, b, bytes, |x, y| sx::<16>(x).min(sx::<16>(y)) as u64),
        MAXSW => lanes::<16>(a, b, bytes, |x, y| sx::<16>(x).max(sx::<16>(y)) as u64),
        AVGB => lanes::<8>(a, b, bytes, |x, y| (x + y + 1) >> 1),
        AVGW => lanes::<16>(a, b, bytes, |x, y| (x + y + 1) >> 1),
        SADBW => sadbw(a, b, bytes),
        SIGNB => lanes::<8>(a, b, bytes, sign::<8>),
        SIGNW => lanes::<16>(a, b, bytes, sign::<16>),
        SIGND => lanes::<32>(a, b, bytes, sign::<32>),
        ABSB => lanes::<8>(a, b, bytes, |_, y| sx::<8>(y).unsigned_abs()),
        ABSW => lanes::<16>(a, b, bytes, |_, y| sx::<16>(y).unsigned_abs()),
        ABSD => lanes::<32>(a, b, bytes, |_, y| sx::<32>(y).unsigned_abs()),
        MULHRSW => lanes::<16>(a, b, bytes, |x, y| {
            (((sx::<16>(x) * sx::<16>(y)) >> 14) + 1) as u64 >> 1
        }),
        MADDUBSW => maddubsw(a, b, bytes),
        HADDW => horizontal::<16>(a, b, bytes, u64::wrapping_add),
        HADDD => horizontal::<32>(a, b, bytes, u64::wrapping_add),
        HADDSW => horizontal::<16>(a, b, bytes, |x, y| sat_s::<16>(sx::<16>(x) + sx::<16>(y))),
        HSUBW => horizontal::<16>(a, b, bytes, u64::wrapping_sub),
        HSUBD => horizontal::<32>(a, b, bytes, u64::wrapping_sub),
        _ => horizontal::<16>(a, b, bytes, |x, y| sat_s::<16>(sx::<16>(x) - sx::<16>(y))),
    }
}

/// `op mm, mm/m64` and `op xmm, xmm/m128`.
fn binary<const OP: u8, const MMX: bool>(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let b = ctx.src(insn, 1)?;
    let a = ctx.dst(insn);
    let bytes = width(MMX);
    ctx.set_dst(insn, packed::<OP>(a, trunc(b, bytes), bytes));
    Ok(())
}

/// The operation number of a mnemonic.
fn op_of(m: Mnemonic) -> Option<u8> {
    use op::*;
    use Mnemonic::*;
    Some(match m {
        Paddb => ADDB,
        Paddw => ADDW,
        Paddd => ADDD,
        Paddq => ADDQ,
        Psubb => SUBB,
        Psubw => SUBW,
        Psubd => SUBD,
        Psubq => SUBQ,
        Paddsb => ADDSB,
        Paddsw => ADDSW,
        Paddusb => ADDUSB,
        Paddusw => ADDUSW,
        Psubsb => SUBSB,
        Psubsw => SUBSW,
        Psubusb => SUBUSB,
        Psubusw => SUBUSW,
        Pcmpeqb => CMPEQB,
        Pcmpeqw => CMPEQW,
        Pcmpeqd => CMPEQD,
        Pcmpgtb => CMPGTB,
        Pcmpgtw => CMPGTW,
        Pcmpgtd => CMPGTD,
        Pand | Andps | Andpd => AND,
        Pandn | Andnps | Andnpd => ANDN,
        Por | Orps | Orpd => OR,
        Pxor | Xorps | Xorpd => XOR,
        Pmullw => MULLW,
        Pmulhw => MULHW,
        Pmulhuw => MULHUW,
        Pmuludq => MULUDQ,
        Pmaddwd => MADDWD,
        Pminub => MINUB,
        Pmaxub => MAXUB,
        Pminsw => MINSW,
        Pmaxsw => MAXSW,
        Pavgb => AVGB,
        Pavgw => AVGW,
        Psadbw => SADBW,
        Psignb => SIGNB,
        Psignw => SIGNW,
        Psignd => SIGND,
        Pabsb => ABSB,
        Pabsw => ABSW,
        Pabsd => ABSD,
        Pmulhrsw => MULHRSW,
        Pmaddubsw => MADDUBSW,
        Phaddw => HADDW,
        Phaddd => HADDD,
        Phaddsw => HADDSW,
        Phsubw => HSUBW,
        Phsubd => HSUBD,
        Phsubsw => HSUBSW,
        _ => return None,
    })
}

/// Instantiates [`binary`] for a runtime operation number.
macro_rules! binary_for {
    ($op:expr, $mmx:expr; $($n:literal)*) => {
        match ($op, $mmx) {
            $(($n, true) => binary::<$n, true> as Handler,
              ($n, false) => binary::<$n, false>,)*
            _ => unreachable!(),
        }
    };
}

/// Selects packed integer handlers.
pub fn lookup(insn: &Instruction) -> Option<Handler> {
    let op = op_of(insn.mnemonic())?;
    let mmx = is_mmx(insn, 0);
    Some(binary_for!(op, mmx;
        0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25
        26 27 28 29 30 31 32 33 34 35 36 37 38 39 40 41 42 43 44 45 46 47 48
        49 50 51))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saturating_and_compare_lanes() {
        let a = 0x7f80_00ff_u128;
        let b = 0x0101_0101_u128;
        assert_eq!(packed::<{ op::ADDSB }>(a, b, 8), 0x7f81_0100);
        assert_eq!(packed::<{ op::ADDUSB }>(a, b, 8), 0x8081_01ff);
        assert_eq!(
            packed::<{ op::CMPEQB }>(a, 0x7f00_0000, 8),
            0xffff_ffff_ff00_ff00
        );
    }

    #[test]
    fn multiply_high_round_scale() {
        // 0x4000 * 0x4000 = 2^28; >> 14 = 2^14; +1 >> 1 = 0x2000.
        assert_eq!(
            packed::<{ op::MULHRSW }>(0x4000, 0x4000, 8) & 0xffff,
            0x2000
        );
        assert_eq!(
            packed::<{ op::MULHRSW }>(0x8000, 0x8000, 8) & 0xffff,
            0x8000
        );
    }
}
