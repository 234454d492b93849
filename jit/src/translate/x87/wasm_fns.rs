//! Functions every module carries for the x87 fast paths: `mul64` and
//! `addsig` (wide significand arithmetic wasm lacks).

use crate::translate::helpers;
use wasm_encoder::Instruction as I;

/// Type index of `mul64(a, b) -> (hi, lo)`.
pub const TYPE_MUL64: u32 = 3;
/// Function index of `mul64`: after the page-table lookups.
pub const FN_MUL64: u32 = helpers::FN_XLATE + 6;

/// `mul64(a, b) -> (hi, lo)`: the 128-bit product of two unsigned 64-bit
/// values, from four 32 x 32-bit products (wasm has no wider multiply).
pub fn mul64() -> wasm_encoder::Function {
    const A: u32 = 0;
    const B: u32 = 1;
    const LL: u32 = 2;
    const LH: u32 = 3;
    const HL: u32 = 4;
    const MID: u32 = 5;
    let mut f = wasm_encoder::Function::new([(4, wasm_encoder::ValType::I64)]);
    let mut i = |x: I<'_>| {
        f.instruction(&x);
    };
    let lo32 = |i: &mut dyn FnMut(I<'static>), v: u32| {
        i(I::LocalGet(v));
        i(I::I64Const(0xffff_ffff));
        i(I::I64And);
    };
    let hi32 = |i: &mut dyn FnMut(I<'static>), v: u32| {
        i(I::LocalGet(v));
        i(I::I64Const(32));
        i(I::I64ShrU);
    };
    for (dst, a_hi, b_hi) in [(LL, false, false), (LH, false, true), (HL, true, false)] {
        if a_hi {
            hi32(&mut i, A)
        } else {
            lo32(&mut i, A)
        }
        if b_hi {
            hi32(&mut i, B)
        } else {
            lo32(&mut i, B)
        }
        i(I::I64Mul);
        i(I::LocalSet(dst));
    }
    // MID = LL.hi + LH.lo + HL.lo (at most 34 bits).
    hi32(&mut i, LL);
    lo32(&mut i, LH);
    i(I::I64Add);
    lo32(&mut i, HL);
    i(I::I64Add);
    i(I::LocalSet(MID));
    // hi = A.hi * B.hi + LH.hi + HL.hi + MID.hi
    hi32(&mut i, A);
    hi32(&mut i, B);
    i(I::I64Mul);
    hi32(&mut i, LH);
    i(I::I64Add);
    hi32(&mut i, HL);
    i(I::I64Add);
    hi32(&mut i, MID);
    i(I::I64Add);
    // lo = LL.lo | MID << 32
    lo32(&mut i, LL);
    i(I::LocalGet(MID));
    i(I::I64Const(32));
    i(I::I64Shl);
    i(I::I64Or);
    i(I::End);
    f
}

/// Type index of `addsig(x, y, d, sub) -> (sig, adj, flags)`.
pub const TYPE_ADDSIG: u32 = 4;
/// Function index of `addsig`: after `mul64`.
pub const FN_ADDSIG: u32 = FN_MUL64 + 1;
/// `addsig` flags: inexact, rounded up, rounding carried, not handled.
pub(super) const ADD_FAIL: u32 = 8;

/// `addsig(x, y, d, sub) -> (sig, adj, flags)`: x +/- y * 2^-d rounded to
/// 64 bits, nearest-even, for normalised significands with x >= y * 2^-d.
/// `adj` is the exponent change before rounding (+1 for a carry out,
/// minus the normalising shift after a cancellation); flags bit 0 inexact,
/// 1 rounded up, 2 rounding carried into the next power of two, 3 not
/// handled (d > 63, or the difference has no bit in the top 64 of the
/// 128-bit window: zero or a deep cancellation). Exact up to d = 63: y
/// shifted right keeps every bit in the low word.
pub fn addsig() -> wasm_encoder::Function {
    use wasm_encoder::ValType;
    const X: u32 = 0;
    const Y: u32 = 1;
    const D: u32 = 2;
    const SUB: u32 = 3;
    const HI: u32 = 4;
    const LO: u32 = 5;
    const ADJ: u32 = 6;
    const LZ: u32 = 7;
    let mut f = wasm_encoder::Function::new([(2, ValType::I64), (2, ValType::I32)]);
    let body = [
        // d > 63: not handled.
        I::LocalGet(D),
        I::I32Const(63),
        I::I32GtU,
        I::If(wasm_encoder::BlockType::Empty),
        I::I64Const(0),
        I::I32Const(0),
        I::I32Const(ADD_FAIL as i32),
        I::Return,
        I::End,
        // LO = y's bits shifted out (y << (64 - d), 0 for d = 0), Y = y >> d.
        I::LocalGet(Y),
        I::I64Const(64),
        I::LocalGet(D),
        I::I64ExtendI32U,
        I::I64Sub,
        I::I64Shl,
        I::I64Const(0),
        I::LocalGet(D),
        I::Select,
        I::LocalSet(LO),
        I::LocalGet(Y),
        I::LocalGet(D),
        I::I64ExtendI32U,
        I::I64ShrU,
        I::LocalSet(Y),
        I::LocalGet(SUB),
        I::If(wasm_encoder::BlockType::Empty),
        // HI:LO = X:0 - Y:LO
        I::LocalGet(X),
        I::LocalGet(Y),
        I::I64Sub,
        I::LocalGet(LO),
        I::I64Const(0),
        I::I64Ne,
        I::I64ExtendI32U,
        I::I64Sub,
        I::LocalSet(HI),
        I::I64Const(0),
        I::LocalGet(LO),
        I::I64Sub,
        I::LocalSet(LO),
        I::LocalGet(HI),
        I::I64Eqz,
        I::If(wasm_encoder::BlockType::Empty),
        I::I64Const(0),
        I::I32Const(0),
        I::I32Const(ADD_FAIL as i32),
        I::Return,
        I::End,
        // Normalise: shift HI:LO left by LZ = clz(HI).
        I::LocalGet(HI),
        I::I64Clz,
        I::I32WrapI64,
        I::LocalTee(LZ),
        I::If(wasm_encoder::BlockType::Empty),
        I::LocalGet(HI),
        I::LocalGet(LZ),
        I::I64ExtendI32U,
        I::I64Shl,
        I::LocalGet(LO),
        I::I64Const(64),
        I::LocalGet(LZ),
        I::I64ExtendI32U,
        I::I64Sub,
        I::I64ShrU,
        I::I64Or,
        I::LocalSet(HI),
        I::LocalGet(LO),
        I::LocalGet(LZ),
        I::I64ExtendI32U,
        I::I64Shl,
        I::LocalSet(LO),
        I::End,
        I::I32Const(0),
        I::LocalGet(LZ),
        I::I32Sub,
        I::LocalSet(ADJ),
        I::Else,
        // HI:LO = X:0 + Y:LO, with a carry out shifted back in (LO's bit
        // 0 is clear, y << (64 - d) for d >= 1, so nothing is lost).
        I::LocalGet(X),
        I::LocalGet(Y),
        I::I64Add,
        I::LocalTee(HI),
        I::LocalGet(X),
        I::I64LtU,
        I::If(wasm_encoder::BlockType::Empty),
        I::LocalGet(LO),
        I::I64Const(1),
        I::I64ShrU,
        I::LocalGet(HI),
        I::I64Const(63),
        I::I64Shl,
        I::I64Or,
        I::LocalSet(LO),
        I::LocalGet(HI),
        I::I64Const(1),
        I::I64ShrU,
        I::I64Const(i64::MIN),
        I::I64Or,
        I::LocalSet(HI),
        I::I32Const(1),
        I::LocalSet(ADJ),
        I::End,
        I::End,
        // Round: LZ = round bit & (sticky | last kept bit) = rounded up.
        I::LocalGet(LO),
        I::I64Const(63),
        I::I64ShrU,
        I::I32WrapI64,
        I::LocalGet(LO),
        I::I64Const(1),
        I::I64Shl,
        I::I64Const(0),
        I::I64Ne,
        I::LocalGet(HI),
        I::I32WrapI64,
        I::I32Const(1),
        I::I32And,
        I::I32Or,
        I::I32And,
        I::LocalSet(LZ),
        I::LocalGet(HI),
        I::LocalGet(LZ),
        I::I64ExtendI32U,
        I::I64Add,
        I::LocalSet(HI),
        // sig: HI, or 2^63 after a carry out of the rounding.
        I::I64Const(i64::MIN),
        I::LocalGet(HI),
        I::LocalGet(HI),
        I::I64Eqz,
        I::Select,
        I::LocalGet(ADJ),
        // flags
        I::LocalGet(LO),
        I::I64Const(0),
        I::I64Ne,
        I::LocalGet(LZ),
        I::I32Const(1),
        I::I32Shl,
        I::I32Or,
        I::LocalGet(HI),
        I::I64Eqz,
        I::I32Const(2),
        I::I32Shl,
        I::I32Or,
        I::End,
    ];
    for i in &body {
        f.instruction(i);
    }
    f
}
