//! Arithmetic fast paths: FST(P) to IEEE formats (rounding), FMUL and
//! FADD/FSUB/FSUBR on normal numbers.

use super::wasm_fns::{
    addsig_body, mul64_body, AddsigLocals, Mul64Locals, ADD_FAIL, FN_DIVSIG, FN_SQRTSIG,
    TYPE_ADDSIG,
};
use super::{Ieee, Src, B, C1, CTRL, ES, PE, RA, RB, STAT, STATUS};
use crate::translate::emit::{local as l, mem, Label};
use crate::translate::gen::Gen;
use wasm_encoder::BlockType;
use wasm_encoder::Instruction as I;

impl Gen<'_> {
    /// FST(P) m32fp/m64fp of a normal ST(0) whose exponent fits a normal
    /// number of the format (no underflow or overflow, even after
    /// rounding up), rounding to nearest-even with PE masked:
    /// `convert::store_ieee` and `fst_mem` for that case.
    pub(super) fn fst_ieee(&mut self, f: Ieee, pop: bool) {
        // Bits below the format's significand, and its exponent range
        // rebiased: 16383 - (bias - 1) ..= 16383 + (bias - 1).
        let below = 63 - f.frac;
        let lo = 16384 - f.bias;
        // RC = nearest and PE masked.
        self.e.get(CTRL).c(0xc20).i(I::I32And).c(PE).i(I::I32Ne);
        self.e.br_if(Label::X87Call);
        self.need_mem(f.bytes(), true);
        self.need_used(0);
        self.reg_addr(0, RA);
        self.e.get(RA).i(I::I64Load(mem(0, 3))).set(l::W1);
        // A zero stores as the format's zero of its sign, raising nothing.
        self.e.get(l::W1).i(I::I64Eqz);
        self.e
            .get(RA)
            .i(I::I32Load16U(mem(8, 1)))
            .c(0x7fff)
            .i(I::I32And);
        self.e.i(I::I32Eqz).i(I::I32And).if_();
        self.e.get(l::HOST);
        self.e
            .get(RA)
            .i(I::I64Load16U(mem(8, 1)))
            .i(I::I64Const(0x8000));
        self.e
            .i(I::I64And)
            .i(I::I64Const(f.sign_shift()))
            .i(I::I64Shl);
        self.e.i(f.store());
        self.set_status(!(C1 | ES | B));
        if pop {
            self.pop_tail();
        }
        self.e.br(Label::X87Done);
        self.e.end();
        // The integer bit set (not an unnormal) ...
        self.e.get(l::W1).i(I::I64Const(0)).i(I::I64GeS);
        self.e.br_if(Label::X87Call);
        // ... and the exponent in range.
        self.e
            .get(RA)
            .i(I::I32Load16U(mem(8, 1)))
            .c(0x7fff)
            .i(I::I32And);
        self.e
            .tee(RB)
            .c(lo)
            .i(I::I32Sub)
            .c(2 * (f.bias - 1))
            .i(I::I32GtU);
        self.e.br_if(Label::X87Call);
        // From here on ADDR and CTRL are free: ADDR = rounded up, CTRL =
        // inexact; W2 = the kept bits, W1 = the rest.
        let (below, half) = (i64::from(below), 1i64 << (below - 1));
        self.e
            .get(l::W1)
            .i(I::I64Const(below))
            .i(I::I64ShrU)
            .set(l::W2);
        self.e
            .get(l::W1)
            .i(I::I64Const((1 << below) - 1))
            .i(I::I64And);
        self.e.set(l::W1);
        self.e.get(l::W1).i(I::I64Const(0)).i(I::I64Ne).set(CTRL);
        self.e.get(l::W1).i(I::I64Const(half)).i(I::I64GtU);
        self.e.get(l::W1).i(I::I64Const(half)).i(I::I64Eq);
        self.e
            .get(l::W2)
            .i(I::I32WrapI64)
            .c(1)
            .i(I::I32And)
            .i(I::I32And);
        self.e.i(I::I32Or).set(l::ADDR);
        // sign | (biased exponent - 1) << frac, plus the kept bits with
        // their integer bit (a carry out of them lands in the exponent).
        self.e.get(l::HOST);
        self.e
            .get(RA)
            .i(I::I64Load16U(mem(8, 1)))
            .i(I::I64Const(0x8000));
        self.e
            .i(I::I64And)
            .i(I::I64Const(f.sign_shift()))
            .i(I::I64Shl);
        self.e.get(RB).c(lo).i(I::I32Sub).i(I::I64ExtendI32U);
        self.e
            .i(I::I64Const(i64::from(f.frac)))
            .i(I::I64Shl)
            .i(I::I64Or);
        self.e.get(l::W2).i(I::I64Add);
        self.e.get(l::ADDR).i(I::I64ExtendI32U).i(I::I64Add);
        self.e.i(f.store());
        // C1 = rounded up, PE = inexact; PE is masked, so no summary.
        self.e.c(0).get(STAT).c(!(C1 | ES | B)).i(I::I32And);
        self.e.get(CTRL).c(PE).i(I::I32Mul).i(I::I32Or);
        self.e.get(l::ADDR).c(C1).i(I::I32Mul).i(I::I32Or);
        self.e.i(I::I32Store16(mem(STATUS, 1)));
        if pop {
            self.pop_tail();
        }
    }

    /// FMUL of two normal numbers at 64-bit precision (PC = 11), round to
    /// nearest, PE masked, the product's exponent inside the register
    /// format's range: `float::mul` and `arith_reg`/`arith_mem` for that
    /// case. The 128-bit product is `mul64`'s code, in place. A zero
    /// operand with the other normal or zero: `mul_special`'s signed zero.
    pub(super) fn fmul(&mut self, dst: u32, src: Src, pop: bool) {
        self.e.get(CTRL).c(0xf20).i(I::I32And).c(0x320).i(I::I32Ne);
        self.e.br_if(Label::X87Call);
        self.need_used(dst);
        self.arith_src(src, true);
        // The destination, in place: significand in W1.
        self.reg_addr(dst, RA);
        self.e.get(RA).i(I::I64Load(mem(0, 3))).set(l::W1);
        self.e.get(RA).i(I::I32Load16U(mem(8, 1))).set(l::HOST);
        self.need_normal_or_zero_cheap(l::W1, l::HOST);
        // A zero operand (the other normal or zero): `mul_special`'s zero
        // of the product's sign, exact.
        self.e.get(l::W1).i(I::I64Eqz).get(l::W2).i(I::I64Eqz);
        self.e.i(I::I32Or).if_();
        self.e.get(RA).i(I::I64Const(0)).i(I::I64Store(mem(0, 3)));
        self.e.get(RA).get(l::HOST).get(CTRL).i(I::I32Xor);
        self.e.c(0x8000).i(I::I32And).i(I::I64ExtendI32U);
        self.e.i(I::I64Store(mem(8, 3)));
        self.zero_tail(pop);
        self.e.end();
        // HOST = the product's sign, CTRL = its biased exponent if the
        // top bit of the 128-bit product is clear.
        self.e.get(l::HOST).c(0x7fff).i(I::I32And);
        self.e.get(CTRL).c(0x7fff).i(I::I32And).i(I::I32Add);
        self.e.c(16383).i(I::I32Sub);
        self.e
            .get(l::HOST)
            .get(CTRL)
            .i(I::I32Xor)
            .c(0x8000)
            .i(I::I32And);
        self.e.set(l::HOST).set(CTRL);
        // W1:W2 = the product, normalised (it is at least 2^126).
        for x in mul64_body(Mul64Locals {
            a: l::W1,
            b: l::W2,
            scratch: [l::W3, l::W4, l::W5, l::W6],
        }) {
            self.e.i(x);
        }
        self.e.set(l::W2).set(l::W1);
        self.e.get(l::W1).i(I::I64Const(0)).i(I::I64LtS).if_();
        self.e.get(CTRL).c(1).i(I::I32Add).set(CTRL);
        self.e.else_();
        self.e.get(l::W1).i(I::I64Const(1)).i(I::I64Shl);
        self.e
            .get(l::W2)
            .i(I::I64Const(63))
            .i(I::I64ShrU)
            .i(I::I64Or);
        self.e.set(l::W1);
        self.e.get(l::W2).i(I::I64Const(1)).i(I::I64Shl).set(l::W2);
        self.e.end();
        // Inside the range: biased 1..=0x7ffd (0x7ffe after a carry).
        self.e
            .get(CTRL)
            .c(1)
            .i(I::I32Sub)
            .c(0x7ffd - 1)
            .i(I::I32GtU);
        self.e.br_if(Label::X87Call);
        // ADDR = rounded up, RB = inexact (both free now).
        self.e
            .get(l::W2)
            .i(I::I64Const(63))
            .i(I::I64ShrU)
            .i(I::I32WrapI64);
        self.e
            .get(l::W2)
            .i(I::I64Const(1))
            .i(I::I64Shl)
            .i(I::I64Const(0));
        self.e
            .i(I::I64Ne)
            .get(l::W1)
            .i(I::I32WrapI64)
            .c(1)
            .i(I::I32And);
        self.e.i(I::I32Or).i(I::I32And).set(l::ADDR);
        self.e.get(l::W2).i(I::I64Const(0)).i(I::I64Ne).set(RB);
        self.e
            .get(l::W1)
            .get(l::ADDR)
            .i(I::I64ExtendI32U)
            .i(I::I64Add);
        self.e.tee(l::W1).i(I::I64Eqz).if_();
        // Rounding carried out: the next power of two.
        self.e.i(I::I64Const(i64::MIN)).set(l::W1);
        self.e.get(CTRL).c(1).i(I::I32Add).set(CTRL);
        self.e.end();
        self.e.get(RA).get(l::W1).i(I::I64Store(mem(0, 3)));
        self.e.get(RA).get(l::HOST).get(CTRL).i(I::I32Or);
        self.e.i(I::I64ExtendI32U).i(I::I64Store(mem(8, 3)));
        self.e.c(0).get(STAT).c(!(C1 | ES | B)).i(I::I32And);
        self.e.get(RB).c(PE).i(I::I32Mul).i(I::I32Or);
        self.e.get(l::ADDR).c(C1).i(I::I32Mul).i(I::I32Or);
        self.e.i(I::I32Store16(mem(STATUS, 1)));
        if pop {
            self.pop_tail();
        }
    }

    /// FDIV/FDIVR of two normal numbers at 64-bit precision, round to
    /// nearest, PE masked, the quotient's exponent inside the register
    /// format's range: `float::div` and `arith_reg`/`arith_mem` for that
    /// case. The module's `divsig` divides and rounds the significands.
    pub(super) fn fdiv(&mut self, dst: u32, src: Src, pop: bool, rev: bool) {
        self.e.get(CTRL).c(0xf20).i(I::I32And).c(0x320).i(I::I32Ne);
        self.e.br_if(Label::X87Call);
        self.need_used(dst);
        self.arith_src(src, false);
        // The destination: significand in W1, sign/exponent in HOST.
        self.reg_addr(dst, RA);
        self.e.get(RA).i(I::I64Load(mem(0, 3))).set(l::W1);
        self.e.get(RA).i(I::I32Load16U(mem(8, 1))).set(l::HOST);
        self.need_normal(l::W1, l::HOST);
        if rev {
            // The dividend in W1/HOST, the divisor in W2/CTRL.
            self.e.get(l::W1).get(l::W2).set(l::W1).set(l::W2);
            self.e.get(l::HOST).get(CTRL).set(l::HOST).set(CTRL);
        }
        // CTRL = the quotient's biased exponent if the dividend's
        // significand is at least the divisor's, HOST = its sign.
        self.e.get(l::HOST).c(0x7fff).i(I::I32And);
        self.e.get(CTRL).c(0x7fff).i(I::I32And).i(I::I32Sub);
        self.e.c(16383).i(I::I32Add);
        self.e
            .get(l::HOST)
            .get(CTRL)
            .i(I::I32Xor)
            .c(0x8000)
            .i(I::I32And);
        self.e.set(l::HOST).set(CTRL);
        self.stats.wide_arith = true;
        self.e.get(l::W1).get(l::W2).i(I::Call(FN_DIVSIG));
        self.e.set(RB).set(l::W1);
        // A carry out of the rounding (never seen): the call.
        self.e.get(RB).c(8).i(I::I32And).br_if(Label::X87Call);
        self.e
            .get(CTRL)
            .get(RB)
            .c(2)
            .i(I::I32ShrU)
            .c(1)
            .i(I::I32And);
        self.e.i(I::I32Sub).set(CTRL);
        // Inside the range: biased 1..=0x7ffd.
        self.e
            .get(CTRL)
            .c(1)
            .i(I::I32Sub)
            .c(0x7ffd - 1)
            .i(I::I32GtU);
        self.e.br_if(Label::X87Call);
        self.e.get(RA).get(l::W1).i(I::I64Store(mem(0, 3)));
        self.e.get(RA).get(l::HOST).get(CTRL).i(I::I32Or);
        self.e.i(I::I64ExtendI32U).i(I::I64Store(mem(8, 3)));
        // PE = inexact (bit 0), C1 = rounded up (bit 1).
        self.e.c(0).get(STAT).c(!(C1 | ES | B)).i(I::I32And);
        self.e
            .get(RB)
            .c(1)
            .i(I::I32And)
            .c(PE)
            .i(I::I32Mul)
            .i(I::I32Or);
        self.e
            .get(RB)
            .c(1)
            .i(I::I32ShrU)
            .c(1)
            .i(I::I32And)
            .c(C1)
            .i(I::I32Mul);
        self.e.i(I::I32Or).i(I::I32Store16(mem(STATUS, 1)));
        if pop {
            self.pop_tail();
        }
    }

    /// FSQRT of a positive normal number at 64-bit precision, round to
    /// nearest, PE masked: `float::sqrt` and `unary` for that case. The
    /// root's biased exponent is (E + 16383) / 2 rounded down, always in
    /// range; the module's `sqrtsig` takes the root of the significand
    /// times 2^63 (E odd) or 2^64 (E even).
    pub(super) fn fsqrt(&mut self) {
        self.e.get(CTRL).c(0xf20).i(I::I32And).c(0x320).i(I::I32Ne);
        self.e.br_if(Label::X87Call);
        self.need_used(0);
        self.reg_addr(0, RA);
        self.e.get(RA).i(I::I64Load(mem(0, 3))).set(l::W1);
        self.e.get(RA).i(I::I32Load16U(mem(8, 1))).set(l::HOST);
        self.need_normal(l::W1, l::HOST);
        // Negative: the call (IE).
        self.e
            .get(l::HOST)
            .c(0x8000)
            .i(I::I32And)
            .br_if(Label::X87Call);
        self.stats.wide_arith = true;
        self.e.get(l::W1).get(l::HOST).c(1).i(I::I32And);
        self.e.i(I::Call(FN_SQRTSIG)).set(RB).set(l::W1);
        self.e.get(RB).c(8).i(I::I32And).br_if(Label::X87Call);
        self.e.get(RA).get(l::W1).i(I::I64Store(mem(0, 3)));
        self.e
            .get(RA)
            .get(l::HOST)
            .c(16383)
            .i(I::I32Add)
            .c(1)
            .i(I::I32ShrU);
        self.e.i(I::I64ExtendI32U).i(I::I64Store(mem(8, 3)));
        // PE = inexact (bit 0), C1 = rounded up (bit 1).
        self.e.c(0).get(STAT).c(!(C1 | ES | B)).i(I::I32And);
        self.e
            .get(RB)
            .c(1)
            .i(I::I32And)
            .c(PE)
            .i(I::I32Mul)
            .i(I::I32Or);
        self.e
            .get(RB)
            .c(1)
            .i(I::I32ShrU)
            .c(1)
            .i(I::I32And)
            .c(C1)
            .i(I::I32Mul);
        self.e.i(I::I32Or).i(I::I32Store16(mem(STATUS, 1)));
    }

    /// Loads an arithmetic source operand: significand in W2, sign and
    /// exponent word in CTRL; leaves for the call unless it is normal (or,
    /// with `zero_ok`, a zero: significand and exponent 0).
    pub(super) fn arith_src(&mut self, src: Src, zero_ok: bool) {
        // The source: significand in W2, sign/exponent word in CTRL.
        match src {
            Src::St(i) => {
                self.need_used(i);
                self.reg_addr(i, RB);
                self.e.get(RB).i(I::I64Load(mem(0, 3))).set(l::W2);
                self.e.get(RB).i(I::I32Load16U(mem(8, 1))).set(CTRL);
                if zero_ok {
                    self.need_normal_or_zero_cheap(l::W2, CTRL);
                } else {
                    self.need_normal(l::W2, CTRL);
                }
            }
            Src::Mem(f) => {
                self.need_mem(f.bytes(), false);
                self.e.get(l::HOST).i(f.load()).set(l::W2);
                self.e
                    .get(l::W2)
                    .i(I::I64Const(i64::from(f.frac)))
                    .i(I::I64ShrU);
                self.e
                    .i(I::I32WrapI64)
                    .c(f.exp_max())
                    .i(I::I32And)
                    .set(l::HOST);
                self.e
                    .get(l::HOST)
                    .c(1)
                    .i(I::I32Sub)
                    .c(f.exp_max() - 1)
                    .i(I::I32GeU);
                if zero_ok {
                    // Not normal: a zero (every bit but the sign clear)
                    // loads as one; anything else takes the call.
                    self.e.if_();
                    let magnitude = (1i64 << (f.frac + f.exp_bits)) - 1;
                    self.e.get(l::W2).i(I::I64Const(magnitude)).i(I::I64And);
                    self.e.i(I::I64Const(0)).i(I::I64Ne).br_if(Label::X87Call);
                    self.e
                        .get(l::W2)
                        .i(I::I64Const(f.sign_shift()))
                        .i(I::I64ShrU);
                    self.e.i(I::I32WrapI64).c(0x8000).i(I::I32And).set(CTRL);
                    self.e.i(I::I64Const(0)).set(l::W2);
                    self.e.else_();
                } else {
                    self.e.br_if(Label::X87Call);
                }
                self.e
                    .get(l::W2)
                    .i(I::I64Const(f.sign_shift()))
                    .i(I::I64ShrU);
                self.e.i(I::I32WrapI64).c(0x8000).i(I::I32And);
                self.e
                    .get(l::HOST)
                    .c(16383 - f.bias)
                    .i(I::I32Add)
                    .i(I::I32Or);
                self.e.set(CTRL);
                self.e
                    .get(l::W2)
                    .i(I::I64Const(i64::from(63 - f.frac)))
                    .i(I::I64Shl);
                self.e.i(I::I64Const(i64::MIN)).i(I::I64Or).set(l::W2);
                if zero_ok {
                    self.e.end();
                }
            }
        }
    }

    /// FADD/FSUB/FSUBR of two normal numbers at 64-bit precision, round to
    /// nearest, PE masked, exponents at most 63 apart, a non-zero result in
    /// range that does not cancel below the top 64 bits: `float::add` and
    /// `arith_reg`/`arith_mem` for that case. `addsig`'s code, in place, does
    /// the significands. A zero operand with the other normal or zero:
    /// `add`'s zero cases under round to nearest.
    pub(super) fn fadd(&mut self, dst: u32, src: Src, pop: bool, neg_dst: bool, neg_src: bool) {
        self.e.get(CTRL).c(0xf20).i(I::I32And).c(0x320).i(I::I32Ne);
        self.e.br_if(Label::X87Call);
        self.need_used(dst);
        self.arith_src(src, true);
        if neg_src {
            self.e.get(CTRL).c(0x8000).i(I::I32Xor).set(CTRL);
        }
        self.reg_addr(dst, RA);
        self.e.get(RA).i(I::I64Load(mem(0, 3))).set(l::W1);
        self.e.get(RA).i(I::I32Load16U(mem(8, 1))).set(l::HOST);
        self.need_normal_or_zero_cheap(l::W1, l::HOST);
        if neg_dst {
            self.e.get(l::HOST).c(0x8000).i(I::I32Xor).set(l::HOST);
        }
        // A zero operand (the other normal or zero), `add`'s cases: the
        // other operand (exact at 64-bit precision), or for two zeros
        // the zero of their sign if they agree, else +0 (round to
        // nearest): the AND of the signs either way.
        self.e.get(l::W1).i(I::I64Eqz).get(l::W2).i(I::I64Eqz);
        self.e.i(I::I32Or).if_();
        self.e.get(RA).get(l::W2).get(l::W1).get(l::W1).i(I::I64Eqz);
        self.e.i(I::Select).i(I::I64Store(mem(0, 3)));
        self.e.get(RA).get(l::HOST).get(CTRL).i(I::I32And).c(0x8000);
        self.e
            .i(I::I32And)
            .get(CTRL)
            .get(l::W2)
            .i(I::I64Eqz)
            .i(I::Select);
        self.e.get(l::HOST).get(l::W1).i(I::I64Eqz).i(I::Select);
        self.e.i(I::I64ExtendI32U).i(I::I64Store(mem(8, 3)));
        self.zero_tail(pop);
        self.e.end();
        // x = (W1, HOST) the larger magnitude, y = (W2, CTRL).
        self.e.get(l::HOST).c(0x7fff).i(I::I32And);
        self.e.get(CTRL).c(0x7fff).i(I::I32And).i(I::I32LtU);
        self.e
            .get(l::HOST)
            .get(CTRL)
            .i(I::I32Xor)
            .c(0x7fff)
            .i(I::I32And);
        self.e
            .i(I::I32Eqz)
            .get(l::W1)
            .get(l::W2)
            .i(I::I64LtU)
            .i(I::I32And);
        self.e.i(I::I32Or).if_();
        self.e.get(l::W1).get(l::W2).set(l::W1).set(l::W2);
        self.e.get(l::HOST).get(CTRL).set(l::HOST).set(CTRL);
        self.e.end();
        // addsig(x, y, exponent difference, opposite signs), in a block
        // that takes the four from the stack as the function would.
        self.e.get(l::W1).get(l::W2);
        self.e.get(l::HOST).c(0x7fff).i(I::I32And);
        self.e.get(CTRL).c(0x7fff).i(I::I32And).i(I::I32Sub);
        self.e
            .get(l::HOST)
            .get(CTRL)
            .i(I::I32Xor)
            .c(15)
            .i(I::I32ShrU);
        let v = AddsigLocals {
            x: l::W3,
            y: l::W4,
            d: l::T1,
            sub: l::T2,
            hi: l::W5,
            lo: l::W6,
            adj: l::T3,
            lz: l::T4,
        };
        self.e.i(I::Block(BlockType::FunctionType(TYPE_ADDSIG)));
        for x in [v.sub, v.d, v.y, v.x] {
            self.e.i(I::LocalSet(x));
        }
        for x in addsig_body(v, I::Br) {
            self.e.i(x);
        }
        self.e.i(I::End);
        self.e.set(RB).set(CTRL).set(l::W1);
        self.e
            .get(RB)
            .c(ADD_FAIL)
            .i(I::I32And)
            .br_if(Label::X87Call);
        // CTRL = the biased exponent before rounding, in range.
        self.e
            .get(l::HOST)
            .c(0x7fff)
            .i(I::I32And)
            .get(CTRL)
            .i(I::I32Add);
        self.e
            .tee(CTRL)
            .c(1)
            .i(I::I32Sub)
            .c(0x7ffd - 1)
            .i(I::I32GtU);
        self.e.br_if(Label::X87Call);
        self.e
            .get(CTRL)
            .get(RB)
            .c(2)
            .i(I::I32ShrU)
            .c(1)
            .i(I::I32And);
        self.e.i(I::I32Add).set(CTRL);
        self.e.get(RA).get(l::W1).i(I::I64Store(mem(0, 3)));
        self.e
            .get(RA)
            .get(l::HOST)
            .c(0x8000)
            .i(I::I32And)
            .get(CTRL)
            .i(I::I32Or);
        self.e.i(I::I64ExtendI32U).i(I::I64Store(mem(8, 3)));
        // PE = inexact (bit 0), C1 = rounded up (bit 1).
        self.e.c(0).get(STAT).c(!(C1 | ES | B)).i(I::I32And);
        self.e
            .get(RB)
            .c(1)
            .i(I::I32And)
            .c(PE)
            .i(I::I32Mul)
            .i(I::I32Or);
        self.e
            .get(RB)
            .c(1)
            .i(I::I32ShrU)
            .c(1)
            .i(I::I32And)
            .c(C1)
            .i(I::I32Mul);
        self.e.i(I::I32Or).i(I::I32Store16(mem(STATUS, 1)));
        if pop {
            self.pop_tail();
        }
    }

    /// After an exact result written without exception: `finish` clears
    /// C1 and the summary bits; then the pop, and done.
    fn zero_tail(&mut self, pop: bool) {
        self.set_status(!(C1 | ES | B));
        if pop {
            self.pop_tail();
        }
        self.e.br(Label::X87Done);
    }

    /// `need_normal_or_zero` with the normal case first and the zero test
    /// only when that fails (the common case costs one untaken branch
    /// more than `need_normal`).
    fn need_normal_or_zero_cheap(&mut self, sig: u32, se: u32) {
        self.e.get(sig).i(I::I64Const(0)).i(I::I64GeS);
        self.e.get(se).c(0x7fff).i(I::I32And).c(1).i(I::I32Sub);
        self.e.c(0x7ffe).i(I::I32GeU).i(I::I32Or).if_();
        // Not normal: a zero has every bit but the sign clear.
        self.e.get(sig).i(I::I64Const(0)).i(I::I64Ne);
        self.e.get(se).c(0x7fff).i(I::I32And).i(I::I32Or);
        self.e.br_if(Label::X87Call);
        self.e.end();
    }

    /// Leaves for the call unless the value with significand in i64 local
    /// `sig` and sign/exponent word in i32 local `se` is a normal number.
    pub(super) fn need_normal(&mut self, sig: u32, se: u32) {
        self.e.get(sig).i(I::I64Const(0)).i(I::I64GeS);
        self.e.get(se).c(0x7fff).i(I::I32And).c(1).i(I::I32Sub);
        self.e.c(0x7ffe).i(I::I32GeU).i(I::I32Or);
        self.e.br_if(Label::X87Call);
    }
}
