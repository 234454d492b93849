//! CVT*: conversions between int32, single and double precision, packed
//! and scalar, with MMX, XMM and general-register operands. Rounding
//! follows MXCSR except in the truncating CVTT* forms; a NaN or
//! out-of-range float gives the "integer indefinite" 0x80000000 with IE.

use super::fp::commit;
use super::int::lane;
use super::soft::{self, Env, F32, F64};
use crate::interp::ctx::{Ctx, Flow, Handler};
use crate::interp::decoded::Decoded;
use iced_x86::{Instruction, Mnemonic};

mod kind {
    /// int32 → single.
    pub const I2S: u8 = 0;
    /// int32 → double.
    pub const I2D: u8 = 1;
    /// single → int32 (rounded).
    pub const S2I: u8 = 2;
    /// single → int32 (truncated).
    pub const S2I_T: u8 = 3;
    pub const D2I: u8 = 4;
    pub const D2I_T: u8 = 5;
    /// single → double.
    pub const S2D: u8 = 6;
    /// double → single.
    pub const D2S: u8 = 7;
}

/// Source and destination lane widths of conversion `K`.
const fn widths(k: u8) -> (u32, u32) {
    use kind::*;
    match k {
        I2S | S2I | S2I_T => (32, 32),
        I2D | S2D => (32, 64),
        _ => (64, 32),
    }
}

fn convert<const K: u8>(x: u64, env: &mut Env) -> u64 {
    use kind::*;
    match K {
        I2S => soft::from_int::<F32>(i64::from(x as i32), env),
        I2D => soft::from_int::<F64>(i64::from(x as i32), env),
        S2I => soft::to_i32::<F32>(x, false, env).into(),
        S2I_T => soft::to_i32::<F32>(x, true, env).into(),
        D2I => soft::to_i32::<F64>(x, false, env).into(),
        D2I_T => soft::to_i32::<F64>(x, true, env).into(),
        S2D => soft::convert::<F32, F64>(x, env),
        _ => soft::convert::<F64, F32>(x, env),
    }
}

/// Converts `N` lanes of operand 1 into operand 0. With `MERGE` the bits
/// of the destination above the converted lanes are kept (the scalar
/// forms and CVTPI2PS); otherwise they are zeroed.
fn cvt<const K: u8, const N: u32, const MERGE: bool>(
    ctx: &mut Ctx<'_, '_>,
    insn: &Decoded,
) -> Flow {
    let (sw, dw) = widths(K);
    let src = ctx.src(insn, 1)?;
    let mut env = Env::new(ctx.cpu.mxcsr);
    let mut r = 0u128;
    for i in 0..N {
        let x = if sw == 32 {
            lane::<32>(src, i)
        } else {
            lane::<64>(src, i)
        };
        let v = convert::<K>(x, &mut env) & (u64::MAX >> (64 - dw));
        r |= u128::from(v) << (i * dw);
    }
    commit(ctx, &env)?;
    if MERGE {
        let keep = u128::MAX << (N * dw);
        r |= ctx.dst(insn) & keep;
    }
    ctx.set_dst(insn, r);
    Ok(())
}

/// Selects conversion handlers.
pub fn lookup(insn: &Instruction) -> Option<Handler> {
    use kind::*;
    use Mnemonic::*;
    let h: Handler = match insn.mnemonic() {
        Cvtpi2ps => cvt::<I2S, 2, true>,
        Cvtsi2ss => cvt::<I2S, 1, true>,
        Cvtdq2ps => cvt::<I2S, 4, false>,
        Cvtps2pi => cvt::<S2I, 2, false>,
        Cvttps2pi => cvt::<S2I_T, 2, false>,
        Cvtss2si => cvt::<S2I, 1, false>,
        Cvttss2si => cvt::<S2I_T, 1, false>,
        Cvtps2dq => cvt::<S2I, 4, false>,
        Cvttps2dq => cvt::<S2I_T, 4, false>,
        Cvtpi2pd | Cvtdq2pd => cvt::<I2D, 2, false>,
        Cvtsi2sd => cvt::<I2D, 1, true>,
        Cvtpd2pi | Cvtpd2dq => cvt::<D2I, 2, false>,
        Cvttpd2pi | Cvttpd2dq => cvt::<D2I_T, 2, false>,
        Cvtsd2si => cvt::<D2I, 1, false>,
        Cvttsd2si => cvt::<D2I_T, 1, false>,
        Cvtps2pd => cvt::<S2D, 2, false>,
        Cvtss2sd => cvt::<S2D, 1, true>,
        Cvtpd2ps => cvt::<D2S, 2, false>,
        Cvtsd2ss => cvt::<D2S, 1, true>,
        _ => return None,
    };
    Some(h)
}
