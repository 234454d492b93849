//! Wide significand arithmetic wasm lacks, for the x87 fast paths: the
//! functions a module carries (`mul64`, `divsig`, `sqrtsig`) and the code
//! FMUL and FADD emit in place (`mul64_body`, `addsig_body`).

use crate::translate::helpers;
use wasm_encoder::Instruction as I;

/// Type index of `mul64(a, b) -> (hi, lo)`.
pub const TYPE_MUL64: u32 = 3;
/// Function index of `mul64`: after the page-table lookups.
pub const FN_MUL64: u32 = helpers::FN_XLATE + 6;

/// `mul64(a, b) -> (hi, lo)`: the 128-bit product of two unsigned 64-bit
/// values, from four 32 x 32-bit products (wasm has no wider multiply).
pub fn mul64() -> wasm_encoder::Function {
    let mut f = wasm_encoder::Function::new([(4, wasm_encoder::ValType::I64)]);
    for x in mul64_body(Mul64Locals {
        a: 0,
        b: 1,
        scratch: [2, 3, 4, 5],
    }) {
        f.instruction(&x);
    }
    f.instruction(&I::End);
    f
}

/// The i64 locals of a [`mul64_body`]: the factors and four scratch.
#[derive(Clone, Copy)]
pub struct Mul64Locals {
    pub a: u32,
    pub b: u32,
    pub scratch: [u32; 4],
}

/// The code of `mul64`: reads locals `a` and `b`, leaves hi and lo on the
/// stack. The function's body, and what FMUL emits in place of a call
/// (Cranelift does not inline a call from a function as large as a page's
/// `run`, and a call spills every guest register held in a machine
/// register around it).
pub fn mul64_body(v: Mul64Locals) -> Vec<I<'static>> {
    let Mul64Locals { a, b, scratch } = v;
    let [ll, lh, hl, mid] = scratch;
    let mut out = Vec::with_capacity(64);
    let lo32 = |out: &mut Vec<I<'static>>, v: u32| {
        out.extend([I::LocalGet(v), I::I64Const(0xffff_ffff), I::I64And]);
    };
    let hi32 = |out: &mut Vec<I<'static>>, v: u32| {
        out.extend([I::LocalGet(v), I::I64Const(32), I::I64ShrU]);
    };
    for (dst, a_hi, b_hi) in [(ll, false, false), (lh, false, true), (hl, true, false)] {
        if a_hi {
            hi32(&mut out, a)
        } else {
            lo32(&mut out, a)
        }
        if b_hi {
            hi32(&mut out, b)
        } else {
            lo32(&mut out, b)
        }
        out.extend([I::I64Mul, I::LocalSet(dst)]);
    }
    // MID = LL.hi + LH.lo + HL.lo (at most 34 bits).
    hi32(&mut out, ll);
    lo32(&mut out, lh);
    out.push(I::I64Add);
    lo32(&mut out, hl);
    out.extend([I::I64Add, I::LocalSet(mid)]);
    // hi = A.hi * B.hi + LH.hi + HL.hi + MID.hi
    hi32(&mut out, a);
    hi32(&mut out, b);
    out.push(I::I64Mul);
    hi32(&mut out, lh);
    out.push(I::I64Add);
    hi32(&mut out, hl);
    out.push(I::I64Add);
    hi32(&mut out, mid);
    out.push(I::I64Add);
    // lo = LL.lo | MID << 32
    lo32(&mut out, ll);
    out.extend([I::LocalGet(mid), I::I64Const(32), I::I64Shl, I::I64Or]);
    out
}

/// Type index of `addsig(x, y, d, sub) -> (sig, adj, flags)`: the block
/// FADD emits [`addsig_body`] in.
pub const TYPE_ADDSIG: u32 = 4;
/// `addsig` flags: inexact, rounded up, rounding carried, not handled.
pub(super) const ADD_FAIL: u32 = 8;

/// The locals of an [`addsig_body`]: the parameters `x`, `y` (i64), `d`,
/// `sub` (i32) and scratch `hi`, `lo` (i64), `adj`, `lz` (i32).
#[derive(Clone, Copy)]
pub struct AddsigLocals {
    pub x: u32,
    pub y: u32,
    pub d: u32,
    pub sub: u32,
    pub hi: u32,
    pub lo: u32,
    pub adj: u32,
    pub lz: u32,
}

/// `addsig(x, y, d, sub) -> (sig, adj, flags)`: x +/- y * 2^-d rounded to
/// 64 bits, nearest-even, for normalised significands with x >= y * 2^-d.
/// `adj` is the exponent change before rounding (+1 for a carry out,
/// minus the normalising shift after a cancellation); flags bit 0 inexact,
/// 1 rounded up, 2 rounding carried into the next power of two, 3 not
/// handled (d > 63, or the difference has no bit in the top 64 of the
/// 128-bit window: zero or a deep cancellation). Exact up to d = 63: y
/// shifted right keeps every bit in the low word.
///
/// The code on its parameters' locals, leaving (sig, adj, flags) on the
/// stack; FADD emits it in place in a block of type [`TYPE_ADDSIG`] (see
/// [`mul64_body`] for why). An early result leaves through `ret(depth)`,
/// `depth` being how many constructs the body has open there.
pub fn addsig_body(v: AddsigLocals, ret: impl Fn(u32) -> I<'static>) -> Vec<I<'static>> {
    let AddsigLocals {
        x,
        y,
        d,
        sub,
        hi,
        lo,
        adj,
        lz,
    } = v;
    vec![
        // ADJ stays 0 unless a carry or a cancellation sets it (in place,
        // the local is not a fresh zero).
        I::I32Const(0),
        I::LocalSet(adj),
        // d > 63: not handled.
        I::LocalGet(d),
        I::I32Const(63),
        I::I32GtU,
        I::If(wasm_encoder::BlockType::Empty),
        I::I64Const(0),
        I::I32Const(0),
        I::I32Const(ADD_FAIL as i32),
        ret(1),
        I::End,
        // LO = y's bits shifted out (y << (64 - d), 0 for d = 0), Y = y >> d.
        I::LocalGet(y),
        I::I64Const(64),
        I::LocalGet(d),
        I::I64ExtendI32U,
        I::I64Sub,
        I::I64Shl,
        I::I64Const(0),
        I::LocalGet(d),
        I::Select,
        I::LocalSet(lo),
        I::LocalGet(y),
        I::LocalGet(d),
        I::I64ExtendI32U,
        I::I64ShrU,
        I::LocalSet(y),
        I::LocalGet(sub),
        I::If(wasm_encoder::BlockType::Empty),
        // HI:LO = X:0 - Y:LO
        I::LocalGet(x),
        I::LocalGet(y),
        I::I64Sub,
        I::LocalGet(lo),
        I::I64Const(0),
        I::I64Ne,
        I::I64ExtendI32U,
        I::I64Sub,
        I::LocalSet(hi),
        I::I64Const(0),
        I::LocalGet(lo),
        I::I64Sub,
        I::LocalSet(lo),
        I::LocalGet(hi),
        I::I64Eqz,
        I::If(wasm_encoder::BlockType::Empty),
        I::I64Const(0),
        I::I32Const(0),
        I::I32Const(ADD_FAIL as i32),
        ret(2),
        I::End,
        // Normalise: shift HI:LO left by LZ = clz(hi).
        I::LocalGet(hi),
        I::I64Clz,
        I::I32WrapI64,
        I::LocalTee(lz),
        I::If(wasm_encoder::BlockType::Empty),
        I::LocalGet(hi),
        I::LocalGet(lz),
        I::I64ExtendI32U,
        I::I64Shl,
        I::LocalGet(lo),
        I::I64Const(64),
        I::LocalGet(lz),
        I::I64ExtendI32U,
        I::I64Sub,
        I::I64ShrU,
        I::I64Or,
        I::LocalSet(hi),
        I::LocalGet(lo),
        I::LocalGet(lz),
        I::I64ExtendI32U,
        I::I64Shl,
        I::LocalSet(lo),
        I::End,
        I::I32Const(0),
        I::LocalGet(lz),
        I::I32Sub,
        I::LocalSet(adj),
        I::Else,
        // HI:LO = X:0 + Y:LO, with a carry out shifted back in (LO's bit
        // 0 is clear, y << (64 - d) for d >= 1, so nothing is lost).
        I::LocalGet(x),
        I::LocalGet(y),
        I::I64Add,
        I::LocalTee(hi),
        I::LocalGet(x),
        I::I64LtU,
        I::If(wasm_encoder::BlockType::Empty),
        I::LocalGet(lo),
        I::I64Const(1),
        I::I64ShrU,
        I::LocalGet(hi),
        I::I64Const(63),
        I::I64Shl,
        I::I64Or,
        I::LocalSet(lo),
        I::LocalGet(hi),
        I::I64Const(1),
        I::I64ShrU,
        I::I64Const(i64::MIN),
        I::I64Or,
        I::LocalSet(hi),
        I::I32Const(1),
        I::LocalSet(adj),
        I::End,
        I::End,
        // Round: LZ = round bit & (sticky | last kept bit) = rounded up.
        I::LocalGet(lo),
        I::I64Const(63),
        I::I64ShrU,
        I::I32WrapI64,
        I::LocalGet(lo),
        I::I64Const(1),
        I::I64Shl,
        I::I64Const(0),
        I::I64Ne,
        I::LocalGet(hi),
        I::I32WrapI64,
        I::I32Const(1),
        I::I32And,
        I::I32Or,
        I::I32And,
        I::LocalSet(lz),
        I::LocalGet(hi),
        I::LocalGet(lz),
        I::I64ExtendI32U,
        I::I64Add,
        I::LocalSet(hi),
        // sig: HI, or 2^63 after a carry out of the rounding.
        I::I64Const(i64::MIN),
        I::LocalGet(hi),
        I::LocalGet(hi),
        I::I64Eqz,
        I::Select,
        I::LocalGet(adj),
        // flags
        I::LocalGet(lo),
        I::I64Const(0),
        I::I64Ne,
        I::LocalGet(lz),
        I::I32Const(1),
        I::I32Shl,
        I::I32Or,
        I::LocalGet(hi),
        I::I64Eqz,
        I::I32Const(2),
        I::I32Shl,
        I::I32Or,
    ]
}

/// Type index of `divsig(a, b) -> (q, flags)`.
pub const TYPE_DIVSIG: u32 = 5;
/// Function index of `divsig`: after `mul64`.
pub const FN_DIVSIG: u32 = FN_MUL64 + 1;

/// `divsig(a, b) -> (q, flags)`: the quotient of two normalised
/// significands rounded to 64 bits, nearest-even: `float::div_sig` and
/// the 64-bit rounding of its result. `q` is `a * 2^63 / b` (a >= b) or
/// `a * 2^64 / b` (a < b), so its top bit is set; flags bit 0 inexact, 1
/// rounded up, 2 a < b (the exponent one lower), 3 rounding carried out
/// (which no quotient of normalised significands does; the caller leaves
/// for the call then rather than trust that).
///
/// Wasm divides only 64 by 64 bits, so the 128 by 64-bit division is long
/// division in two 32-bit digits (Knuth's algorithm D on a normalised
/// divisor): each digit estimated from the divisor's top half, then
/// corrected down at most twice, leaving the exact remainder `r`. The
/// round bit is 2r >= b, the sticky bit r != 0 and 2r != b.
pub fn divsig() -> wasm_encoder::Function {
    use wasm_encoder::{BlockType, ValType};
    const A: u32 = 0;
    const B: u32 = 1;
    const U1: u32 = 2;
    const U0: u32 = 3;
    const VN1: u32 = 4;
    const VN0: u32 = 5;
    const Q1: u32 = 6;
    const RHAT: u32 = 7;
    const UN21: u32 = 8;
    const Q0: u32 = 9;
    const R: u32 = 10;
    const LT: u32 = 11;
    const INC: u32 = 12;
    let mut f = wasm_encoder::Function::new([(9, ValType::I64), (2, ValType::I32)]);
    let mut b: Vec<I<'static>> = vec![
        // LT = a < b; U1:U0 = a * 2^64 or a * 2^63.
        I::LocalGet(A),
        I::LocalGet(B),
        I::I64LtU,
        I::LocalTee(LT),
        I::If(BlockType::Empty),
        I::LocalGet(A),
        I::LocalSet(U1),
        I::I64Const(0),
        I::LocalSet(U0),
        I::Else,
        I::LocalGet(A),
        I::I64Const(1),
        I::I64ShrU,
        I::LocalSet(U1),
        I::LocalGet(A),
        I::I64Const(63),
        I::I64Shl,
        I::LocalSet(U0),
        I::End,
        I::LocalGet(B),
        I::I64Const(32),
        I::I64ShrU,
        I::LocalSet(VN1),
        I::LocalGet(B),
        I::I64Const(0xffff_ffff),
        I::I64And,
        I::LocalSet(VN0),
    ];
    // One digit: Q = N / VN1 estimated, corrected against the next 32
    // bits of the dividend (`next`, pushed by the closure).
    let digit = |b: &mut Vec<I<'static>>, q: u32, n: u32, next: &dyn Fn(&mut Vec<I<'static>>)| {
        b.extend([
            I::LocalGet(n),
            I::LocalGet(VN1),
            I::I64DivU,
            I::LocalTee(q),
            I::LocalGet(VN1),
            I::I64Mul,
            I::LocalSet(RHAT),
            I::LocalGet(n),
            I::LocalGet(RHAT),
            I::I64Sub,
            I::LocalSet(RHAT),
            I::Loop(BlockType::Empty),
            I::LocalGet(q),
            I::I64Const(1 << 32),
            I::I64GeU,
            I::If(BlockType::Result(ValType::I32)),
            I::I32Const(1),
            I::Else,
            I::LocalGet(q),
            I::LocalGet(VN0),
            I::I64Mul,
            I::LocalGet(RHAT),
            I::I64Const(32),
            I::I64Shl,
        ]);
        next(b);
        b.extend([
            I::I64Or,
            I::I64GtU,
            I::End,
            I::If(BlockType::Empty),
            I::LocalGet(q),
            I::I64Const(1),
            I::I64Sub,
            I::LocalSet(q),
            I::LocalGet(RHAT),
            I::LocalGet(VN1),
            I::I64Add,
            I::LocalTee(RHAT),
            I::I64Const(1 << 32),
            I::I64LtU,
            I::BrIf(1),
            I::End,
            I::End,
        ]);
    };
    let hi_u0 = |b: &mut Vec<I<'static>>| {
        b.extend([I::LocalGet(U0), I::I64Const(32), I::I64ShrU]);
    };
    let lo_u0 = |b: &mut Vec<I<'static>>| {
        b.extend([I::LocalGet(U0), I::I64Const(0xffff_ffff), I::I64And]);
    };
    digit(&mut b, Q1, U1, &hi_u0);
    // UN21 = (U1 << 32 | U0.hi) - Q1 * b (the partial remainder, < b).
    b.extend([I::LocalGet(U1), I::I64Const(32), I::I64Shl]);
    hi_u0(&mut b);
    b.extend([
        I::I64Or,
        I::LocalGet(Q1),
        I::LocalGet(B),
        I::I64Mul,
        I::I64Sub,
        I::LocalSet(UN21),
    ]);
    digit(&mut b, Q0, UN21, &lo_u0);
    // R = (UN21 << 32 | U0.lo) - Q0 * b; Q1 = the quotient.
    b.extend([I::LocalGet(UN21), I::I64Const(32), I::I64Shl]);
    lo_u0(&mut b);
    b.extend([
        I::I64Or,
        I::LocalGet(Q0),
        I::LocalGet(B),
        I::I64Mul,
        I::I64Sub,
        I::LocalSet(R),
        I::LocalGet(Q1),
        I::I64Const(32),
        I::I64Shl,
        I::LocalGet(Q0),
        I::I64Or,
        I::LocalSet(Q1),
        // INC = r > b - r, or r == b - r and the quotient odd (U0 = b - r).
        I::LocalGet(B),
        I::LocalGet(R),
        I::I64Sub,
        I::LocalSet(U0),
        I::LocalGet(R),
        I::LocalGet(U0),
        I::I64GtU,
        I::LocalGet(R),
        I::LocalGet(U0),
        I::I64Eq,
        I::LocalGet(Q1),
        I::I32WrapI64,
        I::I32Const(1),
        I::I32And,
        I::I32And,
        I::I32Or,
        I::LocalTee(INC),
        I::I64ExtendI32U,
        I::LocalGet(Q1),
        I::I64Add,
        I::LocalTee(Q1),
        // flags
        I::LocalGet(R),
        I::I64Const(0),
        I::I64Ne,
        I::LocalGet(INC),
        I::I32Const(1),
        I::I32Shl,
        I::I32Or,
        I::LocalGet(LT),
        I::I32Const(2),
        I::I32Shl,
        I::I32Or,
        I::LocalGet(Q1),
        I::I64Eqz,
        I::I32Const(3),
        I::I32Shl,
        I::I32Or,
        I::End,
    ]);
    for i in &b {
        f.instruction(i);
    }
    f
}

/// Type index of `sqrtsig(sig, odd) -> (r, flags)`.
pub const TYPE_SQRTSIG: u32 = 6;
/// Function index of `sqrtsig`: after `divsig`.
pub const FN_SQRTSIG: u32 = FN_DIVSIG + 1;

/// `sqrtsig(sig, odd) -> (r, flags)`: the square root of a normalised
/// significand times 2^64 (`odd` false) or 2^63 (`odd`), rounded to 64
/// bits, nearest-even: `float::sqrt`'s root, round and sticky bits and
/// their 64-bit rounding. Flags as [`divsig`]'s, bit 2 unused.
///
/// An f64 square root of the top 64 bits is within 2^12 of the root; one
/// Newton step on the exact 128-bit residual N - r^2 (from `mul64`),
/// divided in f64, brings it within a unit or two, and exact comparisons
/// of r^2 and (r+1)^2 with N finish: r = floor(sqrt(N)). The remainder
/// N - r^2 is at most 2r, and the root is rounded up when it exceeds r
/// (no root of this kind is a tie).
pub fn sqrtsig() -> wasm_encoder::Function {
    use wasm_encoder::{BlockType, ValType};
    const SIG: u32 = 0;
    const ODD: u32 = 1;
    const NH: u32 = 2;
    const NL: u32 = 3;
    const R: u32 = 4;
    const PH: u32 = 5;
    const PL: u32 = 6;
    const DL: u32 = 7;
    const DH: u32 = 8;
    const ROUND: u32 = 9;
    const TWO64: f64 = 18_446_744_073_709_551_616.0;
    let mut f = wasm_encoder::Function::new([(7, ValType::I64), (1, ValType::I32)]);
    let mut b: Vec<I<'static>> = vec![
        // NH:NL = sig * 2^64 or sig * 2^63.
        I::LocalGet(SIG),
        I::I64Const(1),
        I::I64ShrU,
        I::LocalGet(SIG),
        I::LocalGet(ODD),
        I::Select,
        I::LocalSet(NH),
        I::LocalGet(SIG),
        I::I64Const(63),
        I::I64Shl,
        I::I64Const(0),
        I::LocalGet(ODD),
        I::Select,
        I::LocalSet(NL),
        // R = the f64 estimate (saturating at 2^64 - 1).
        I::LocalGet(NH),
        I::F64ConvertI64U,
        I::F64Const(TWO64.into()),
        I::F64Mul,
        I::F64Sqrt,
        I::I64TruncSatF64U,
        I::LocalSet(R),
    ];
    // PH:PL = x^2 for x pushed by `x`.
    let square = |b: &mut Vec<I<'static>>, x: &dyn Fn(&mut Vec<I<'static>>)| {
        x(b);
        x(b);
        b.extend([I::Call(FN_MUL64), I::LocalSet(PL), I::LocalSet(PH)]);
    };
    // DH:DL = NH:NL - PH:PL (mod 2^128).
    let residual = |b: &mut Vec<I<'static>>| {
        b.extend([
            I::LocalGet(NL),
            I::LocalGet(PL),
            I::I64Sub,
            I::LocalSet(DL),
            I::LocalGet(NH),
            I::LocalGet(PH),
            I::I64Sub,
            I::LocalGet(NL),
            I::LocalGet(PL),
            I::I64LtU,
            I::I64ExtendI32U,
            I::I64Sub,
            I::LocalSet(DH),
        ]);
    };
    let r = |b: &mut Vec<I<'static>>| b.push(I::LocalGet(R));
    let r1 = |b: &mut Vec<I<'static>>| {
        b.extend([I::LocalGet(R), I::I64Const(1), I::I64Add]);
    };
    square(&mut b, &r);
    residual(&mut b);
    // R += (signed) DH:DL / 2R, in f64.
    b.extend([
        I::LocalGet(R),
        I::LocalGet(DH),
        I::F64ConvertI64S,
        I::F64Const(TWO64.into()),
        I::F64Mul,
        I::LocalGet(DL),
        I::F64ConvertI64U,
        I::F64Add,
        I::LocalGet(R),
        I::F64ConvertI64U,
        I::F64Const(2.0.into()),
        I::F64Mul,
        I::F64Div,
        I::I64TruncSatF64S,
        I::I64Add,
        I::LocalSet(R),
        // While R^2 > N: R -= 1.
        I::Loop(BlockType::Empty),
    ]);
    square(&mut b, &r);
    b.extend([
        I::LocalGet(PH),
        I::LocalGet(NH),
        I::I64GtU,
        I::LocalGet(PH),
        I::LocalGet(NH),
        I::I64Eq,
        I::LocalGet(PL),
        I::LocalGet(NL),
        I::I64GtU,
        I::I32And,
        I::I32Or,
        I::If(BlockType::Empty),
        I::LocalGet(R),
        I::I64Const(1),
        I::I64Sub,
        I::LocalSet(R),
        I::Br(1),
        I::End,
        I::End,
        // While R < 2^64 - 1 and (R+1)^2 <= N: R += 1.
        I::Loop(BlockType::Empty),
        I::LocalGet(R),
        I::I64Const(-1),
        I::I64Ne,
        I::If(BlockType::Empty),
    ]);
    square(&mut b, &r1);
    b.extend([
        I::LocalGet(PH),
        I::LocalGet(NH),
        I::I64LtU,
        I::LocalGet(PH),
        I::LocalGet(NH),
        I::I64Eq,
        I::LocalGet(PL),
        I::LocalGet(NL),
        I::I64LeU,
        I::I32And,
        I::I32Or,
        I::If(BlockType::Empty),
        I::LocalGet(R),
        I::I64Const(1),
        I::I64Add,
        I::LocalSet(R),
        I::Br(2),
        I::End,
        I::End,
        I::End,
    ]);
    // The remainder DH:DL = N - R^2; rounded up if it exceeds R.
    square(&mut b, &r);
    residual(&mut b);
    b.extend([
        I::LocalGet(DH),
        I::I64Const(0),
        I::I64Ne,
        I::LocalGet(DL),
        I::LocalGet(R),
        I::I64GtU,
        I::I32Or,
        I::LocalTee(ROUND),
        I::I64ExtendI32U,
        I::LocalGet(R),
        I::I64Add,
        I::LocalTee(R),
        // flags
        I::LocalGet(DH),
        I::LocalGet(DL),
        I::I64Or,
        I::I64Const(0),
        I::I64Ne,
        I::LocalGet(ROUND),
        I::I32Const(1),
        I::I32Shl,
        I::I32Or,
        I::LocalGet(R),
        I::I64Eqz,
        I::I32Const(3),
        I::I32Shl,
        I::I32Or,
        I::End,
    ]);
    for i in &b {
        f.instruction(i);
    }
    f
}
