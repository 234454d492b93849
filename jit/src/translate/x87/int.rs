//! Integer fast paths: FILD m16/m32/m64int, FIST/FISTP/FISTTP
//! m16/m32/m64int, and the stores of the control and status words
//! (FNSTCW, FNSTSW m16 and AX).

use super::{B, C1, CTRL, ES, IE, PE, RA, RB, STAT, TOPV};
use crate::translate::emit::{local as l, mem, Label};
use crate::translate::gen::Gen;
use wasm_encoder::Instruction as I;

/// The status word's TOP field.
const TOP_SHIFT: u32 = 11;

impl Gen<'_> {
    /// FILD: `convert::from_int` of the sign-extended integer, pushed
    /// (`push_loaded`: an integer is always exact, so nothing is raised
    /// and C1 is cleared).
    pub(super) fn fild(&mut self, bits: u32) {
        self.need_mem(bits / 8, false);
        self.need_empty(7);
        self.reg_addr(7, RB);
        self.e.get(l::HOST).i(match bits {
            16 => I::I64Load16S(mem(0, 0)),
            32 => I::I64Load32S(mem(0, 0)),
            _ => I::I64Load(mem(0, 0)),
        });
        self.e.tee(l::W1).i(I::I64Eqz).if_();
        self.e.get(RB).i(I::I64Const(0)).i(I::I64Store(mem(0, 3)));
        self.e.get(RB).i(I::I64Const(0)).i(I::I64Store(mem(8, 3)));
        self.e.else_();
        // RA = negative; W2 = the magnitude (2^63 for the most negative
        // m64 value, as an unsigned number).
        self.e.get(l::W1).i(I::I64Const(0)).i(I::I64LtS).set(RA);
        self.e.i(I::I64Const(0)).get(l::W1).i(I::I64Sub);
        self.e.get(l::W1).get(RA).i(I::Select).set(l::W2);
        self.e
            .get(RB)
            .get(l::W2)
            .get(l::W2)
            .i(I::I64Clz)
            .i(I::I64Shl);
        self.e.i(I::I64Store(mem(0, 3)));
        self.e
            .get(RB)
            .i(I::I64Const(16383 + 63))
            .get(l::W2)
            .i(I::I64Clz);
        self.e.i(I::I64Sub);
        self.e
            .get(RA)
            .c(15)
            .i(I::I32Shl)
            .i(I::I64ExtendI32U)
            .i(I::I64Or);
        self.e.i(I::I64Store(mem(8, 3)));
        self.e.end();
        self.push_tail();
    }

    /// FIST/FISTP (`trunc` false: rounding by RC) and FISTTP (`trunc`:
    /// toward zero) to a `bits`-wide integer with IE and PE masked:
    /// `convert::to_int` and `fst_mem`. Zeros store 0; normal numbers
    /// and denormals below 2^63 are rounded (PE if inexact, C1 if the
    /// magnitude grew); NaNs, infinities, unnormals and results out of
    /// range store the integer indefinite with IE. Only -2^63 to m64
    /// (exact, no IE) and the unmasked cases take the call.
    pub(super) fn fist(&mut self, bits: u32, pop: bool, trunc: bool) {
        self.e
            .get(CTRL)
            .c(IE | PE)
            .i(I::I32And)
            .c(IE | PE)
            .i(I::I32Ne);
        self.e.br_if(Label::X87Call);
        self.need_mem(bits / 8, true);
        self.need_used(0);
        self.reg_addr(0, RA);
        self.e.get(RA).i(I::I64Load(mem(0, 3))).set(l::W1);
        self.e.get(RA).i(I::I32Load16U(mem(8, 1))).set(RB);
        // RA: the status bits to set; W2: the integer.
        self.e.block(Label::X87Valid).block(Label::X87Invalid);
        // Infinities, NaNs (exponent all ones) and unnormals (integer bit
        // clear, exponent not zero) are invalid.
        self.e.get(RB).c(0x7fff).i(I::I32And).c(0x7fff).i(I::I32Eq);
        self.e.get(RB).c(0x7fff).i(I::I32And).c(0).i(I::I32Ne);
        self.e
            .get(l::W1)
            .i(I::I64Const(0))
            .i(I::I64GeS)
            .i(I::I32And);
        self.e.i(I::I32Or).br_if(Label::X87Invalid);
        // RA = the unbiased exponent (-16383 for zeros and denormals).
        self.e.get(RB).c(0x7fff).i(I::I32And).c(16383).i(I::I32Sub);
        self.e.tee(RA).c(62).i(I::I32GtS).if_();
        if bits == 64 {
            // -2^63 fits m64 exactly.
            self.e.get(RA).c(63).i(I::I32Eq).get(RB).c(15).i(I::I32ShrU);
            self.e.i(I::I32And).br_if(Label::X87Call);
        }
        self.e.br(Label::X87Invalid).end();
        // W2 = the integer part, W1 = the fraction with the half bit at
        // bit 63 (for magnitudes below 1/2, only nonzero if the value is).
        self.e.get(RA).c(0).i(I::I32GeS).if_();
        self.e
            .get(l::W1)
            .i(I::I64Const(63))
            .get(RA)
            .i(I::I64ExtendI32U);
        self.e.i(I::I64Sub).i(I::I64ShrU).set(l::W2);
        self.e
            .get(l::W1)
            .get(RA)
            .c(1)
            .i(I::I32Add)
            .i(I::I64ExtendI32U);
        self.e.i(I::I64Shl).set(l::W1);
        self.e.else_();
        self.e.i(I::I64Const(0)).set(l::W2);
        self.e.get(RA).c(-1i32 as u32).i(I::I32Ne).if_();
        self.e.get(l::W1).i(I::I64Const(0)).i(I::I64Ne);
        self.e.i(I::I64ExtendI32U).set(l::W1);
        self.e.end();
        self.e.end();
        if trunc {
            self.e.c(0).set(CTRL);
        } else {
            // CTRL = round up the magnitude: to nearest (RC 0), down (1,
            // for negative values), up (2, for positive ones), toward
            // zero (3) never.
            let half = i64::MIN;
            self.e.get(l::W1).i(I::I64Const(half)).i(I::I64GtU);
            self.e.get(l::W1).i(I::I64Const(half)).i(I::I64Eq);
            self.e.get(l::W2).i(I::I32WrapI64).i(I::I32And).i(I::I32Or);
            self.e.get(l::W1).i(I::I64Const(0)).i(I::I64Ne);
            self.e.get(RB).c(15).i(I::I32ShrU);
            self.e.get(CTRL).c(0xc00).i(I::I32And).c(0x400).i(I::I32Eq);
            self.e.i(I::I32Eq).i(I::I32And);
            self.e.get(CTRL).c(0xc00).i(I::I32And).c(0xc00).i(I::I32Ne);
            self.e.i(I::I32And);
            self.e.get(CTRL).c(0xc00).i(I::I32And).i(I::I32Eqz);
            self.e.i(I::Select).set(CTRL);
            self.e.get(l::W2).get(CTRL).i(I::I64ExtendI32U).i(I::I64Add);
            self.e.set(l::W2);
        }
        // In range: below 2^(bits-1), or equal to it if negative.
        let limit = 1i64 << (bits - 1);
        self.e.get(l::W2).i(I::I64Const(limit)).i(I::I64LtU);
        self.e.get(l::W2).i(I::I64Const(limit)).i(I::I64Eq);
        self.e.get(RB).c(15).i(I::I32ShrU).i(I::I32And).i(I::I32Or);
        self.e.i(I::I32Eqz).br_if(Label::X87Invalid);
        // PE if inexact, C1 if rounded up (never without PE).
        self.e
            .get(l::W1)
            .i(I::I64Const(0))
            .i(I::I64Ne)
            .c(PE)
            .i(I::I32Mul);
        self.e.get(CTRL).c(C1).i(I::I32Mul).i(I::I32Or).set(RA);
        // The sign.
        self.e.i(I::I64Const(0)).get(l::W2).i(I::I64Sub).get(l::W2);
        self.e.get(RB).c(15).i(I::I32ShrU).i(I::Select).set(l::W2);
        self.e.br(Label::X87Valid).end();
        // The integer indefinite with IE (masked).
        self.e.i(I::I64Const(i64::MIN >> (64 - bits))).set(l::W2);
        self.e.c(IE).set(RA);
        self.e.end();
        self.e.get(l::HOST).get(l::W2).i(match bits {
            16 => I::I64Store16(mem(0, 0)),
            32 => I::I64Store32(mem(0, 0)),
            _ => I::I64Store(mem(0, 0)),
        });
        // IE and PE are masked, so the summary bits stay clear.
        self.e.c(0).get(STAT).c(!(C1 | ES | B)).i(I::I32And);
        self.e.get(RA).i(I::I32Or);
        self.e.i(I::I32Store16(mem(super::STATUS, 1)));
        if pop {
            self.pop_tail();
        }
    }

    /// FNSTCW m16: the control word as `set_control` keeps it.
    pub(super) fn fnstcw(&mut self) {
        self.need_mem(2, true);
        self.e.get(l::HOST).get(CTRL).i(I::I32Store16(mem(0, 0)));
    }

    /// FNSTSW m16 (`ax` false) or AX: `status_word`, TOP in bits 11-13.
    pub(super) fn fnstsw(&mut self, ax: bool) {
        if ax {
            self.e.get(l::R0).c(0xffff_0000).i(I::I32And);
        } else {
            self.need_mem(2, true);
            self.e.get(l::HOST);
        }
        self.e.get(STAT).c(!(7 << TOP_SHIFT)).i(I::I32And);
        self.e.get(TOPV).c(TOP_SHIFT).i(I::I32Shl).i(I::I32Or);
        if ax {
            self.e.i(I::I32Or).set(l::R0);
        } else {
            self.e.i(I::I32Store16(mem(0, 0)));
        }
    }
}
