//! SSE/SSE2/SSE3 floating-point arithmetic, comparisons and MXCSR access.
//!
//! Each lane goes through `soft.rs` with one [`Env`] per instruction; the
//! exception flags of all lanes are ORed into MXCSR. If any raised flag is
//! unmasked the destination is left alone and the instruction raises #XM
//! (SIGFPE), as the SDM specifies for SSE (Vol. 1, 11.5.1).

use super::int::lane;
use super::soft::{self, mx, Cmp, Env, Fmt, F32, F64};
use crate::exit::{Exception, Exit};
use crate::interp::ctx::{gp, Ctx, Flow, Handler};
use crate::interp::decoded::Decoded;
use crate::state::flag;
use iced_x86::{Code, Instruction, Mnemonic};

mod op {
    pub const ADD: u8 = 0;
    pub const SUB: u8 = 1;
    pub const MUL: u8 = 2;
    pub const DIV: u8 = 3;
    pub const MIN: u8 = 4;
    pub const MAX: u8 = 5;
    pub const SQRT: u8 = 6;
    pub const CMP: u8 = 7;
    pub const RCP: u8 = 8;
    pub const RSQRT: u8 = 9;
    pub const ADDSUB: u8 = 10;
    pub const HADD: u8 = 11;
    pub const HSUB: u8 = 12;
}

/// Merges an instruction's exception flags into MXCSR; #XM if unmasked.
pub(super) fn commit(ctx: &mut Ctx<'_, '_>, env: &Env) -> Flow {
    if !env.unmasked() {
        ctx.cpu.mxcsr |= env.flags;
        return Ok(());
    }
    // An unmasked pre-computation exception (IE, DE, ZE) in any lane stops
    // the instruction before the post-computation ones are looked at.
    let pre = env.flags & (mx::IE | mx::DE | mx::ZE);
    let pre_env = Env {
        mxcsr: env.mxcsr,
        flags: pre,
    };
    ctx.cpu.mxcsr |= if pre_env.unmasked() { pre } else { env.flags };
    Err(Exit::Exception(Exception::SimdFloatingPoint))
}

/// One lane of operation `OP`.
fn lane_op<F: Fmt, const OP: u8>(a: u64, b: u64, imm: u8, env: &mut Env) -> u64 {
    use op::*;
    match OP {
        ADD => soft::add::<F>(a, b, false, env),
        SUB => soft::add::<F>(a, b, true, env),
        MUL => soft::mul::<F>(a, b, env),
        DIV => soft::div::<F>(a, b, env),
        MIN => soft::min_max::<F>(a, b, false, env),
        MAX => soft::min_max::<F>(a, b, true, env),
        SQRT => soft::sqrt::<F>(b, env),
        CMP if soft::cmp_pred::<F>(a, b, imm & 7, env) => u64::MAX,
        CMP => 0,
        RCP => super::approx::rcp(b as u32, env).into(),
        _ => super::approx::rsqrt(b as u32, env).into(),
    }
}

/// Computes `OP` on `W`-bit lanes (only lane 0 when `scalar`; the other
/// lanes of `a` pass through).
fn compute<F: Fmt, const W: u32, const OP: u8>(
    a: u128,
    b: u128,
    scalar: bool,
    imm: u8,
    env: &mut Env,
) -> u128 {
    let n = if scalar { 1 } else { 128 / W };
    let mask = u128::MAX >> (128 - W);
    let mut r = if scalar { a & !mask } else { 0 };
    for i in 0..n {
        let x = lane::<W>(a, i);
        let y = lane::<W>(b, i);
        let v = match OP {
            op::HADD | op::HSUB => horizontal::<F, W, OP>(a, b, i, env),
            op::ADDSUB => soft::add::<F>(x, y, i % 2 == 0, env),
            _ => lane_op::<F, OP>(x, y, imm, env),
        };
        r |= (u128::from(v) & mask) << (i * W);
    }
    r
}

/// HADDPS/HSUBPS/HADDPD/HSUBPD lane `i`: adjacent pairs of `a` fill the
/// low half, pairs of `b` the high half.
fn horizontal<F: Fmt, const W: u32, const OP: u8>(a: u128, b: u128, i: u32, env: &mut Env) -> u64 {
    let half = 64 / W;
    let (v, j) = if i < half { (a, i) } else { (b, i - half) };
    let x = lane::<W>(v, 2 * j);
    let y = lane::<W>(v, 2 * j + 1);
    soft::add::<F>(x, y, OP == op::HSUB, env)
}

/// `op xmm, xmm/m` for packed (`SCALAR` false) or scalar, single or
/// double (`DBL`) precision.
fn arith<const OP: u8, const DBL: bool, const SCALAR: bool>(
    ctx: &mut Ctx<'_, '_>,
    insn: &Decoded,
) -> Flow {
    let b = ctx.src(insn, 1)?;
    let a = ctx.dst(insn);
    let imm = if insn.op_count() == 3 {
        insn.immediate8()
    } else {
        0
    };
    let mut env = Env::new(ctx.cpu.mxcsr);
    let r = if DBL {
        compute::<F64, 64, OP>(a, b, SCALAR, imm, &mut env)
    } else {
        compute::<F32, 32, OP>(a, b, SCALAR, imm, &mut env)
    };
    commit(ctx, &env)?;
    ctx.set_dst(insn, r);
    Ok(())
}

/// COMISS/UCOMISS/COMISD/UCOMISD: ZF, PF, CF from the comparison, OF, SF
/// and AF cleared. COMIS* (`SIGNAL`) raise IE on quiet NaNs as well.
fn comis<const DBL: bool, const SIGNAL: bool>(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let b = ctx.src(insn, 1)?;
    let a = ctx.dst(insn);
    let mut env = Env::new(ctx.cpu.mxcsr);
    let c = if DBL {
        soft::compare::<F64>(a as u64, b as u64, SIGNAL, &mut env)
    } else {
        soft::compare::<F32>(
            a as u64 & 0xffff_ffff,
            b as u64 & 0xffff_ffff,
            SIGNAL,
            &mut env,
        )
    };
    commit(ctx, &env)?;
    let bits = match c {
        Cmp::Unordered => flag::ZF | flag::PF | flag::CF,
        Cmp::Less => flag::CF,
        Cmp::Equal => flag::ZF,
        Cmp::Greater => 0,
    };
    ctx.cpu.set_status(bits);
    Ok(())
}

/// LDMXCSR m32: #GP if a reserved bit is set.
fn ldmxcsr(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let a = ctx.ea(insn);
    let v = ctx.mem.read_u32(a)?;
    if v & !mx::WRITABLE != 0 {
        return gp();
    }
    ctx.cpu.mxcsr = v;
    Ok(())
}

/// STMXCSR m32.
fn stmxcsr(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let a = ctx.ea(insn);
    ctx.mem.write_u32(a, ctx.cpu.mxcsr)?;
    Ok(())
}

/// Selects floating-point arithmetic handlers.
pub fn lookup(insn: &Instruction) -> Option<Handler> {
    use op::*;
    use Mnemonic::*;
    let h: Handler = match insn.mnemonic() {
        Addps => arith::<ADD, false, false>,
        Addss => arith::<ADD, false, true>,
        Addpd => arith::<ADD, true, false>,
        Addsd => arith::<ADD, true, true>,
        Subps => arith::<SUB, false, false>,
        Subss => arith::<SUB, false, true>,
        Subpd => arith::<SUB, true, false>,
        Subsd => arith::<SUB, true, true>,
        Mulps => arith::<MUL, false, false>,
        Mulss => arith::<MUL, false, true>,
        Mulpd => arith::<MUL, true, false>,
        Mulsd => arith::<MUL, true, true>,
        Divps => arith::<DIV, false, false>,
        Divss => arith::<DIV, false, true>,
        Divpd => arith::<DIV, true, false>,
        Divsd => arith::<DIV, true, true>,
        Minps => arith::<MIN, false, false>,
        Minss => arith::<MIN, false, true>,
        Minpd => arith::<MIN, true, false>,
        Minsd => arith::<MIN, true, true>,
        Maxps => arith::<MAX, false, false>,
        Maxss => arith::<MAX, false, true>,
        Maxpd => arith::<MAX, true, false>,
        Maxsd => arith::<MAX, true, true>,
        Sqrtps => arith::<SQRT, false, false>,
        Sqrtss => arith::<SQRT, false, true>,
        Sqrtpd => arith::<SQRT, true, false>,
        Sqrtsd => arith::<SQRT, true, true>,
        Cmpps => arith::<CMP, false, false>,
        Cmpss => arith::<CMP, false, true>,
        Cmppd => arith::<CMP, true, false>,
        Cmpsd if insn.code() == Code::Cmpsd_xmm_xmmm64_imm8 => arith::<CMP, true, true>,
        Rcpps => arith::<RCP, false, false>,
        Rcpss => arith::<RCP, false, true>,
        Rsqrtps => arith::<RSQRT, false, false>,
        Rsqrtss => arith::<RSQRT, false, true>,
        Addsubps => arith::<ADDSUB, false, false>,
        Addsubpd => arith::<ADDSUB, true, false>,
        Haddps => arith::<HADD, false, false>,
        Haddpd => arith::<HADD, true, false>,
        Hsubps => arith::<HSUB, false, false>,
        Hsubpd => arith::<HSUB, true, false>,
        Comiss => comis::<false, true>,
        Ucomiss => comis::<false, false>,
        Comisd => comis::<true, true>,
        Ucomisd => comis::<true, false>,
        Ldmxcsr => ldmxcsr,
        Stmxcsr => stmxcsr,
        _ => return None,
    };
    Some(h)
}
