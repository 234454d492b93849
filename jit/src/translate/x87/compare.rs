//! Comparison fast paths: FCOM(P)(P), FUCOM(P)(P), FCOMI(P), FUCOMI(P) of
//! normal numbers and zeros. A comparison rounds nothing, so only the
//! operands' classes matter: with both normal or zero there is no
//! exception (no NaN, no denormal, no unsupported encoding), and the
//! result is `compare::order`'s.

use super::{Src, B, C1, CTRL, ES, RA, RB, STAT, STATUS, TAG, TAGW, TOP};
use crate::translate::emit::{local as l, mem, Label};
use crate::translate::gen::Gen;
use wasm_encoder::Instruction as I;
use wax_cpu::state::flag;

/// Condition codes (status word bits).
const C0: u32 = 1 << 8;
const C2: u32 = 1 << 10;
const C3: u32 = 1 << 14;

impl Gen<'_> {
    /// ST(0) against `src`: `fcom`/`fcomi` in `compare.rs` when both are
    /// in use and normal or zero.
    pub(super) fn fcompare(&mut self, src: Src, eflags: bool, pops: u32) {
        self.need_used(0);
        // The source: significand in W2, sign/exponent word in CTRL.
        match src {
            Src::St(i) => {
                self.need_used(i);
                self.reg_addr(i, RB);
                self.e.get(RB).i(I::I64Load(mem(0, 3))).set(l::W2);
                self.e.get(RB).i(I::I32Load16U(mem(8, 1))).set(super::CTRL);
                self.need_normal_or_zero(l::W2, super::CTRL);
            }
            // Normal numbers only (a zero or denormal in memory takes the
            // call).
            Src::Mem(_) => self.arith_src(src, false),
        }
        let ctrl = super::CTRL;
        self.reg_addr(0, RA);
        self.e.get(RA).i(I::I64Load(mem(0, 3))).set(l::W1);
        self.e.get(RA).i(I::I32Load16U(mem(8, 1))).set(l::HOST);
        self.need_normal_or_zero(l::W1, l::HOST);
        // Every check has passed: ADDR and RB are free. Magnitudes: RB =
        // |ST(0)| > |src|, ADDR = |ST(0)| < |src| (a zero has exponent 0,
        // below every normal number's; two zeros are equal).
        let exp = |g: &mut Self, se: u32| {
            g.e.get(se).c(0x7fff).i(I::I32And);
        };
        for (dst, rel, sig_rel) in [(RB, I::I32GtU, I::I64GtU), (l::ADDR, I::I32LtU, I::I64LtU)] {
            exp(self, l::HOST);
            exp(self, ctrl);
            self.e.i(rel);
            exp(self, l::HOST);
            exp(self, ctrl);
            self.e.i(I::I32Eq);
            self.e.get(l::W1).get(l::W2).i(sig_rel).i(I::I32And);
            self.e.i(I::I32Or).set(dst);
        }
        // Both negative: the order of magnitudes reversed. RA = ST(0)'s
        // sign.
        self.e.get(l::HOST).c(15).i(I::I32ShrU).set(RA);
        self.e.get(l::ADDR).get(RB).get(RA).i(I::Select);
        self.e.get(RB).get(l::ADDR).get(RA).i(I::Select);
        self.e.set(l::ADDR).set(RB);
        // Signs differ and not both zero: the negative one is less.
        self.e
            .get(l::HOST)
            .get(ctrl)
            .i(I::I32Xor)
            .c(15)
            .i(I::I32ShrU);
        exp(self, l::HOST);
        exp(self, ctrl);
        self.e.i(I::I32Or).c(0).i(I::I32Ne).i(I::I32And).set(ctrl);
        self.e
            .get(RA)
            .i(I::I32Eqz)
            .get(RB)
            .get(ctrl)
            .i(I::Select)
            .set(RB);
        self.e
            .get(RA)
            .get(l::ADDR)
            .get(ctrl)
            .i(I::Select)
            .set(l::ADDR);
        // RB = greater, ADDR = less. No exception: `finish` clears C1 and
        // the summary bits.
        if eflags {
            self.set_status(!(C1 | ES | B));
            self.e.get(l::ADDR).c(flag::CF).i(I::I32Mul);
            self.e.get(RB).get(l::ADDR).i(I::I32Or).i(I::I32Eqz);
            self.e.c(flag::ZF).i(I::I32Mul).i(I::I32Or);
            self.store_status();
        } else {
            self.e
                .c(0)
                .get(STAT)
                .c(!(C0 | C1 | C2 | C3 | ES | B))
                .i(I::I32And);
            self.e.get(l::ADDR).c(C0).i(I::I32Mul).i(I::I32Or);
            self.e.get(RB).get(l::ADDR).i(I::I32Or).i(I::I32Eqz);
            self.e.c(C3).i(I::I32Mul).i(I::I32Or);
            self.e.i(I::I32Store16(mem(STATUS, 1)));
        }
        if pops > 0 {
            for i in 0..pops {
                self.e.c(3);
                self.phys(i);
                self.e.c(1).i(I::I32Shl).i(I::I32Shl);
                self.e.get(TAGW).i(I::I32Or).set(TAGW);
            }
            self.e.c(0).get(TAGW).i(I::I32Store16(mem(TAG, 1)));
            self.e.c(0);
            self.phys(pops);
            self.e.i(I::I32Store16(mem(TOP, 1)));
        }
    }

    /// Leaves for the call unless the value with significand in i64 local
    /// `sig` and sign/exponent word in i32 local `se` is a normal number
    /// or a zero.
    pub(super) fn need_normal_or_zero(&mut self, sig: u32, se: u32) {
        // Normal: integer bit set, exponent 1..=0x7ffe.
        self.e.get(sig).i(I::I64Const(0)).i(I::I64LtS);
        self.e.get(se).c(0x7fff).i(I::I32And).c(1).i(I::I32Sub);
        self.e.c(0x7ffe).i(I::I32LtU).i(I::I32And);
        // Zero: every bit but the sign clear.
        self.e.get(sig).i(I::I64Eqz);
        self.e
            .get(se)
            .c(0x7fff)
            .i(I::I32And)
            .i(I::I32Eqz)
            .i(I::I32And);
        self.e.i(I::I32Or).i(I::I32Eqz);
        self.e.br_if(Label::X87Call);
    }

    /// FXAM: C3/C2/C0 the class of ST(0) (empty: C3|C0; zero: C3;
    /// denormal: C3|C2; normal: C2; infinity: C2|C0; NaN: C0; an
    /// unsupported encoding: none) and C1 its sign bit, read from the
    /// register even when it is empty.
    pub(super) fn fxam(&mut self) {
        const C0: u32 = 1 << 8;
        const C2: u32 = 1 << 10;
        const C3: u32 = 1 << 14;
        self.reg_addr(0, RA);
        self.e.get(RA).i(I::I64Load(mem(0, 3))).set(l::W1);
        self.e.get(RA).i(I::I32Load16U(mem(8, 1))).set(RB);
        self.e.get(RB).c(0x7fff).i(I::I32And).i(I::I32Eqz).if_();
        self.e.c(C3).c(C3 | C2).get(l::W1).i(I::I64Eqz).i(I::Select);
        self.e.set(CTRL);
        self.e.else_();
        self.e
            .get(RB)
            .c(0x7fff)
            .i(I::I32And)
            .c(0x7fff)
            .i(I::I32Eq)
            .if_();
        self.e.c(C2 | C0).c(C0);
        self.e
            .get(l::W1)
            .i(I::I64Const(1))
            .i(I::I64Shl)
            .i(I::I64Eqz);
        self.e.i(I::Select);
        self.e.set(CTRL);
        self.e.else_();
        self.e.c(C2).set(CTRL);
        self.e.end();
        // The integer bit clear: unsupported.
        self.e
            .get(CTRL)
            .c(0)
            .get(l::W1)
            .i(I::I64Const(0))
            .i(I::I64LtS);
        self.e.i(I::Select).set(CTRL);
        self.e.end();
        self.e.c(C3 | C0).get(CTRL);
        self.tag_of(0);
        self.e.c(3).i(I::I32Eq).i(I::Select);
        self.e
            .get(RB)
            .c(15)
            .i(I::I32ShrU)
            .c(9)
            .i(I::I32Shl)
            .i(I::I32Or);
        self.e.set(CTRL);
        self.e.c(0).get(STAT).c(!(C0 | C1 | C2 | C3)).i(I::I32And);
        self.e
            .get(CTRL)
            .i(I::I32Or)
            .i(I::I32Store16(mem(STATUS, 1)));
    }
}
