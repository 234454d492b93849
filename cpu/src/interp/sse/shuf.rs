//! Shifts, shuffles, packs and unpacks: instructions that move lanes
//! around rather than compute on them. Same scheme as `int.rs`: one
//! handler monomorphised per operation, `a` = first operand, `b` = second,
//! `imm` = the immediate (shift counts by immediate arrive as `b`).

use super::int::{lane, lanes, sat_s, sat_u, sx};
use super::{is_mmx, trunc, width};
use crate::interp::ctx::{Ctx, Flow, Handler};
use crate::interp::decoded::Decoded;
use iced_x86::{Instruction, Mnemonic, OpKind};

mod op {
    pub const SLLW: u8 = 0;
    pub const SLLD: u8 = 1;
    pub const SLLQ: u8 = 2;
    pub const SRLW: u8 = 3;
    pub const SRLD: u8 = 4;
    pub const SRLQ: u8 = 5;
    pub const SRAW: u8 = 6;
    pub const SRAD: u8 = 7;
    pub const SLLDQ: u8 = 8;
    pub const SRLDQ: u8 = 9;
    pub const PACKSSWB: u8 = 10;
    pub const PACKSSDW: u8 = 11;
    pub const PACKUSWB: u8 = 12;
    pub const UNPCKLBW: u8 = 13;
    pub const UNPCKLWD: u8 = 14;
    pub const UNPCKLDQ: u8 = 15;
    pub const UNPCKLQDQ: u8 = 16;
    pub const UNPCKHBW: u8 = 17;
    pub const UNPCKHWD: u8 = 18;
    pub const UNPCKHDQ: u8 = 19;
    pub const UNPCKHQDQ: u8 = 20;
    pub const PSHUFD: u8 = 21;
    pub const PSHUFLW: u8 = 22;
    pub const PSHUFHW: u8 = 23;
    pub const PSHUFW: u8 = 24;
    pub const SHUFPS: u8 = 25;
    pub const SHUFPD: u8 = 26;
    pub const PSHUFB: u8 = 27;
    pub const PALIGNR: u8 = 28;
}

/// Logical or arithmetic shift of each `W`-bit lane by a 64-bit count.
fn shift<const W: u32>(a: u128, count: u64, bytes: u32, left: bool, arith: bool) -> u128 {
    if count >= u64::from(W) && !arith {
        return 0;
    }
    let c = count.min(u64::from(W) - 1) as u32;
    lanes::<W>(a, 0, bytes, |x, _| match (left, arith) {
        (true, _) => x << c,
        (false, false) => x >> c,
        (false, true) => (sx::<W>(x) >> c) as u64,
    })
}

/// PSLLDQ/PSRLDQ: whole-register byte shift.
fn byte_shift(a: u128, count: u64, left: bool) -> u128 {
    match (count, left) {
        (16.., _) => 0,
        (c, true) => a << (c * 8),
        (c, false) => a >> (c * 8),
    }
}

/// Packs the `W`-bit lanes of `a` then `b` into `W/2`-bit lanes with `sat`.
fn pack<const W: u32, const H: u32>(a: u128, b: u128, bytes: u32, sat: fn(i64) -> u64) -> u128 {
    let n = bytes * 8 / W;
    (0..2 * n).fold(0u128, |r, i| {
        let x = if i < n {
            lane::<W>(a, i)
        } else {
            lane::<W>(b, i - n)
        };
        r | u128::from(sat(sx::<W>(x)) & (u64::MAX >> (64 - H))) << (i * H)
    })
}

/// Interleaves the `W`-bit lanes of the low (`high` false) or high half
/// of `a` and `b`.
fn unpack<const W: u32>(a: u128, b: u128, bytes: u32, high: bool) -> u128 {
    let n = bytes * 8 / W;
    let base = if high { n / 2 } else { 0 };
    (0..n).fold(0u128, |r, i| {
        let src = if i % 2 == 0 { a } else { b };
        r | u128::from(lane::<W>(src, base + i / 2)) << (i * W)
    })
}

/// Picks 2-bit-indexed `W`-bit lanes of `v` (a 4-lane group at `base`)
/// by `imm`.
fn pick4<const W: u32>(v: u128, base: u32, imm: u8) -> u128 {
    (0..4).fold(0u128, |r, i| {
        let sel = u32::from(imm >> (2 * i)) & 3;
        r | u128::from(lane::<W>(v, base + sel)) << ((base + i) * W)
    })
}

/// SHUFPS: two lanes from `a`, two from `b`.
fn shufps(a: u128, b: u128, imm: u8) -> u128 {
    let lo = pick4::<32>(a, 0, imm) & u128::from(u64::MAX);
    let hi = pick4::<32>(b, 0, imm) & !u128::from(u64::MAX);
    lo | hi
}

/// SHUFPD: one lane from each.
fn shufpd(a: u128, b: u128, imm: u8) -> u128 {
    u128::from(lane::<64>(a, u32::from(imm & 1)))
        | u128::from(lane::<64>(b, u32::from(imm >> 1 & 1))) << 64
}

/// PSHUFB: each byte of `b` selects a byte of `a`, or zero if bit 7 set.
fn pshufb(a: u128, b: u128, bytes: u32) -> u128 {
    (0..bytes).fold(0u128, |r, i| {
        let s = lane::<8>(b, i) as u32;
        let v = if s & 0x80 != 0 {
            0
        } else {
            lane::<8>(a, s & (bytes - 1))
        };
        r | u128::from(v) << (i * 8)
    })
}

/// PALIGNR: bytes `imm..imm+n` of the 2n-byte concatenation `a:b`.
fn palignr(a: u128, b: u128, bytes: u32, imm: u8) -> u128 {
    (0..bytes).fold(0u128, |r, i| {
        let k = u32::from(imm) + i;
        let v = match k {
            k if k < bytes => lane::<8>(b, k),
            k if k < 2 * bytes => lane::<8>(a, k - bytes),
            _ => 0,
        };
        r | u128::from(v) << (i * 8)
    })
}

#[inline(always)]
fn compute<const OP: u8>(a: u128, b: u128, bytes: u32, imm: u8) -> u128 {
    use op::*;
    let c = b as u64;
    match OP {
        SLLW => shift::<16>(a, c, bytes, true, false),
        SLLD => shift::<32>(a, c, bytes, true, false),
        SLLQ => shift::<64>(a, c, bytes, true, false),
        SRLW => shift::<16>(a, c, bytes, false, false),
        SRLD => shift::<32>(a, c, bytes, false, false),
        SRLQ => shift::<64>(a, c, bytes, false, false),
        SRAW => shift::<16>(a, c, bytes, false, true),
        SRAD => shift::<32>(a, c, bytes, false, true),
        SLLDQ => byte_shift(a, c, true),
        SRLDQ => byte_shift(a, c, false),
        PACKSSWB => pack::<16, 8>(a, b, bytes, sat_s::<8>),
        PACKSSDW => pack::<32, 16>(a, b, bytes, sat_s::<16>),
        PACKUSWB => pack::<16, 8>(a, b, bytes, sat_u::<8>),
        UNPCKLBW => unpack::<8>(a, b, bytes, false),
        UNPCKLWD => unpack::<16>(a, b, bytes, false),
        UNPCKLDQ => unpack::<32>(a, b, bytes, false),
        UNPCKLQDQ => unpack::<64>(a, b, bytes, false),
        UNPCKHBW => unpack::<8>(a, b, bytes, true),
        UNPCKHWD => unpack::<16>(a, b, bytes, true),
        UNPCKHDQ => unpack::<32>(a, b, bytes, true),
        UNPCKHQDQ => unpack::<64>(a, b, bytes, true),
        PSHUFD => pick4::<32>(b, 0, imm),
        PSHUFLW => pick4::<16>(b, 0, imm) | b & !u128::from(u64::MAX),
        PSHUFHW => pick4::<16>(b, 4, imm) | b & u128::from(u64::MAX),
        PSHUFW => pick4::<16>(b, 0, imm),
        SHUFPS => shufps(a, b, imm),
        SHUFPD => shufpd(a, b, imm),
        PSHUFB => pshufb(a, b, bytes),
        _ => palignr(a, b, bytes, imm),
    }
}

fn shuffle<const OP: u8, const MMX: bool>(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let bytes = width(MMX);
    let b = ctx.src(insn, 1)?;
    let a = ctx.dst(insn);
    let imm = if insn.op_count() == 3 {
        insn.immediate8()
    } else {
        0
    };
    let b = if insn.op1_kind() == OpKind::Memory {
        b
    } else {
        trunc(b, bytes)
    };
    ctx.set_dst(insn, trunc(compute::<OP>(a, b, bytes, imm), bytes));
    Ok(())
}

fn op_of(m: Mnemonic) -> Option<u8> {
    use op::*;
    use Mnemonic::*;
    Some(match m {
        Psllw => SLLW,
        Pslld => SLLD,
        Psllq => SLLQ,
        Psrlw => SRLW,
        Psrld => SRLD,
        Psrlq => SRLQ,
        Psraw => SRAW,
        Psrad => SRAD,
        Pslldq => SLLDQ,
        Psrldq => SRLDQ,
        Packsswb => PACKSSWB,
        Packssdw => PACKSSDW,
        Packuswb => PACKUSWB,
        Punpcklbw => UNPCKLBW,
        Punpcklwd => UNPCKLWD,
        Punpckldq | Unpcklps => UNPCKLDQ,
        Punpcklqdq | Unpcklpd => UNPCKLQDQ,
        Punpckhbw => UNPCKHBW,
        Punpckhwd => UNPCKHWD,
        Punpckhdq | Unpckhps => UNPCKHDQ,
        Punpckhqdq | Unpckhpd => UNPCKHQDQ,
        Pshufd => PSHUFD,
        Pshuflw => PSHUFLW,
        Pshufhw => PSHUFHW,
        Pshufw => PSHUFW,
        Shufps => SHUFPS,
        Shufpd => SHUFPD,
        Pshufb => PSHUFB,
        Palignr => PALIGNR,
        _ => return None,
    })
}

macro_rules! shuffle_for {
    ($op:expr, $mmx:expr; $($n:literal)*) => {
        match ($op, $mmx) {
            $(($n, true) => shuffle::<$n, true> as Handler,
              ($n, false) => shuffle::<$n, false>,)*
            _ => unreachable!(),
        }
    };
}

/// Selects shift and shuffle handlers.
pub fn lookup(insn: &Instruction) -> Option<Handler> {
    let op = op_of(insn.mnemonic())?;
    let mmx = is_mmx(insn, 0);
    Some(shuffle_for!(op, mmx;
        0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25
        26 27 28))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn palignr_concatenates_dst_high() {
        let a = 0x0f0e_0d0c_0b0a_0908_0706_0504_0302_0100_u128;
        let b = 0x1f1e_1d1c_1b1a_1918_1716_1514_1312_1110_u128;
        assert_eq!(palignr(a, b, 16, 15) as u8, 0x1f);
        assert_eq!((palignr(a, b, 16, 15) >> 8) as u8, 0x00);
        assert_eq!(palignr(a, b, 16, 32), 0);
    }

    #[test]
    fn pack_saturates() {
        assert_eq!(pack::<16, 8>(0x8000_7fff, 0, 8, sat_u::<8>), 0x00ff);
        assert_eq!(pack::<16, 8>(0x8000_7fff, 0, 8, sat_s::<8>), 0x807f);
    }
}
