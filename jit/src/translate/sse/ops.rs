//! Emission of the moves, multiplies, shifts and composite operations
//! (the forms that are more than one wasm instruction or one load).

use super::super::emit::{local as l, mem};
use super::super::gen::Gen;
use super::{is_vec, shift_kind, splat64};
use iced_x86::{Instruction, Mnemonic, OpKind};
use wasm_encoder::Instruction as I;

impl Gen<'_> {
    pub(super) fn vec_move(&mut self, insn: &Instruction) {
        if insn.op0_kind() == OpKind::Memory {
            self.e.get(l::HOST);
            self.xmm_load(insn.op1_register());
            self.e.i(I::V128Store(mem(0, 0)));
        } else {
            self.e.c(0);
            self.vec_src(insn, 1);
            self.xmm_store(insn.op0_register());
        }
    }

    /// MOVD/MOVQ/MOVSS/MOVSD forms with a memory or general operand.
    pub(super) fn move_low(&mut self, insn: &Instruction, bytes: u8) {
        let wide = bytes == 8;
        match (insn.op0_kind(), is_vec(insn, 0)) {
            (OpKind::Memory, _) => {
                self.e.get(l::HOST);
                self.xmm_load(insn.op1_register());
                if wide {
                    self.e.i(I::V128Store64Lane {
                        memarg: mem(0, 0),
                        lane: 0,
                    });
                } else {
                    self.e.i(I::I32x4ExtractLane(0)).i(I::I32Store(mem(0, 0)));
                }
            }
            (_, false) => {
                // MOVD r32, xmm|mm.
                self.xmm_load(insn.op1_register());
                self.e.i(I::I32x4ExtractLane(0)).set(l::V1);
                self.write_reg(insn.op0_register(), l::V1);
            }
            (_, true) => {
                self.e.c(0);
                match insn.op1_kind() {
                    OpKind::Memory => {
                        self.e.get(l::HOST).i(if wide {
                            I::V128Load64Zero(mem(0, 0))
                        } else {
                            I::V128Load32Zero(mem(0, 0))
                        });
                    }
                    _ if is_vec(insn, 1) => {
                        // MOVQ xmm, xmm (or mm, mm).
                        self.xmm_load(insn.op1_register());
                        self.e.i(I::V128Const(u64::MAX.into())).i(I::V128And);
                    }
                    _ => {
                        self.e.i(I::V128Const(0));
                        self.read_reg(insn.op1_register());
                        self.e.i(I::I32x4ReplaceLane(0));
                    }
                }
                self.xmm_store(insn.op0_register());
            }
        }
    }

    pub(super) fn move_half(&mut self, insn: &Instruction, high: bool) {
        let lane = u8::from(high);
        if insn.op0_kind() == OpKind::Memory {
            self.e.get(l::HOST);
            self.xmm_load(insn.op1_register());
            self.e.i(I::V128Store64Lane {
                memarg: mem(0, 0),
                lane,
            });
        } else {
            self.e.c(0).get(l::HOST);
            self.xmm_load(insn.op0_register());
            self.e.i(I::V128Load64Lane {
                memarg: mem(0, 0),
                lane,
            });
            self.xmm_store(insn.op0_register());
        }
    }

    /// PMULHW/PMULHUW: the 32-bit products of the low and high four words
    /// (extmul), then their high halves.
    pub(super) fn mul_high(&mut self, insn: &Instruction, signed: bool) {
        let (lo, hi) = if signed {
            (I::I32x4ExtMulLowI16x8S, I::I32x4ExtMulHighI16x8S)
        } else {
            (I::I32x4ExtMulLowI16x8U, I::I32x4ExtMulHighI16x8U)
        };
        self.e.c(0);
        for half in [lo, hi] {
            self.xmm_load(insn.op0_register());
            self.vec_src(insn, 1);
            self.e.i(half);
        }
        let lanes = std::array::from_fn(|i| (i / 2 * 4 + 2 + i % 2) as u8);
        self.e.i(I::I8x16Shuffle(lanes));
        self.xmm_store(insn.op0_register());
    }

    /// Shifts by an immediate: a count past the lane width clears the
    /// lane (logical) or fills it with the sign (arithmetic); wasm would
    /// take it modulo the width.
    pub(super) fn shift_imm(&mut self, insn: &Instruction) {
        let (bits, op, arith) = shift_kind(insn.mnemonic());
        let count = u32::from(insn.immediate8());
        let dst = insn.op0_register();
        self.e.c(0);
        if count >= bits && !arith {
            self.e.i(I::V128Const(0));
        } else {
            self.xmm_load(dst);
            self.e.c(count.min(bits - 1)).i(op);
        }
        self.xmm_store(dst);
    }

    /// Shifts by the source's low quadword (any 64-bit value): as
    /// [`Gen::shift_imm`], decided at run time.
    pub(super) fn shift_reg(&mut self, insn: &Instruction) {
        let (bits, op, arith) = shift_kind(insn.mnemonic());
        let max = I::I64Const(i64::from(bits - 1));
        let dst = insn.op0_register();
        self.e.c(0);
        self.xmm_load(dst);
        self.vec_src(insn, 1);
        self.e.i(I::I64x2ExtractLane(0)).tee(l::W1);
        if arith {
            // min(count, bits - 1)
            self.e.i(max.clone()).get(l::W1).i(max).i(I::I64LtU);
            self.e.i(I::Select).i(I::I32WrapI64).i(op);
        } else {
            self.e.i(I::I32WrapI64).i(op).i(I::V128Const(0));
            self.e
                .get(l::W1)
                .i(I::I64Const(i64::from(bits)))
                .i(I::I64LtU);
            self.e.i(I::Select);
        }
        self.xmm_store(dst);
    }

    /// Pushes `op(dst, src)` of a [`Form::Composite`] instruction; each
    /// use of an operand loads it again (a local after the first, for a
    /// register).
    pub(super) fn composite(&mut self, insn: &Instruction) {
        use Mnemonic::*;
        let m = insn.mnemonic();
        let dst = insn.op0_register();
        match m {
            Psadbw => {
                // |a - b| per byte, summed per 8 bytes: pairwise to words,
                // to dwords, then (lo + hi) of each quadword as the high
                // half of q * (2^32 + 1).
                self.xmm_load(dst);
                self.vec_src(insn, 1);
                self.e.i(I::I8x16MaxU);
                self.xmm_load(dst);
                self.vec_src(insn, 1);
                self.e.i(I::I8x16MinU).i(I::I8x16Sub);
                self.e.i(I::I16x8ExtAddPairwiseI8x16U);
                self.e.i(I::I32x4ExtAddPairwiseI16x8U);
                self.e
                    .i(I::V128Const(splat64(0x1_0000_0001)))
                    .i(I::I64x2Mul);
                self.e.c(32).i(I::I64x2ShrU);
            }
            Psignb | Psignw | Psignd => {
                // (a ^ s) - s negates where b < 0 (s = all ones there),
                // then lanes where b == 0 are cleared.
                let (bits, shr, sub, eq) = match m {
                    Psignb => (8, I::I8x16ShrS, I::I8x16Sub, I::I8x16Eq),
                    Psignw => (16, I::I16x8ShrS, I::I16x8Sub, I::I16x8Eq),
                    _ => (32, I::I32x4ShrS, I::I32x4Sub, I::I32x4Eq),
                };
                self.xmm_load(dst);
                self.vec_src(insn, 1);
                self.e.c(bits - 1).i(shr.clone()).i(I::V128Xor);
                self.vec_src(insn, 1);
                self.e.c(bits - 1).i(shr).i(sub);
                self.vec_src(insn, 1);
                self.e.i(I::V128Const(0)).i(eq).i(I::V128AndNot);
            }
            Pmulhrsw => {
                // Q15 rounding multiply; wasm saturates 0x8000 * 0x8000
                // to 0x7fff where x86 gives 0x8000: flip those lanes.
                let min = I::V128Const(splat64(0x8000_8000_8000_8000));
                self.xmm_load(dst);
                self.vec_src(insn, 1);
                self.e.i(I::I16x8Q15MulrSatS);
                self.xmm_load(dst);
                self.e.i(min.clone()).i(I::I16x8Eq);
                self.vec_src(insn, 1);
                self.e.i(min).i(I::I16x8Eq).i(I::V128And).i(I::V128Xor);
            }
            Pmaddubsw => {
                // Unsigned bytes of a times signed bytes of b: every
                // product fits a word; adjacent ones add with saturation.
                self.xmm_load(dst);
                self.e.i(I::V128Const(splat64(0x00ff_00ff_00ff_00ff)));
                self.e.i(I::V128And);
                self.vec_src(insn, 1);
                self.e
                    .c(8)
                    .i(I::I16x8Shl)
                    .c(8)
                    .i(I::I16x8ShrS)
                    .i(I::I16x8Mul);
                self.xmm_load(dst);
                self.e.c(8).i(I::I16x8ShrU);
                self.vec_src(insn, 1);
                self.e.c(8).i(I::I16x8ShrS).i(I::I16x8Mul);
                self.e.i(I::I16x8AddSatS);
            }
            _ => {
                // Horizontal: the even lanes of a then b, op the odd ones.
                let (width, op) = match m {
                    Phaddw => (2, I::I16x8Add),
                    Phaddsw => (2, I::I16x8AddSatS),
                    Phsubw => (2, I::I16x8Sub),
                    Phsubsw => (2, I::I16x8SubSatS),
                    Phaddd => (4, I::I32x4Add),
                    _ => (4, I::I32x4Sub),
                };
                for odd in [0, width] {
                    let lanes = std::array::from_fn(|i| {
                        let (lane, k) = (i as u8 / width, i as u8 % width);
                        let half = 8 / width;
                        let from_b = if lane >= half { 16 } else { 0 };
                        from_b + (lane % half) * 2 * width + odd + k
                    });
                    self.xmm_load(dst);
                    self.vec_src(insn, 1);
                    self.e.i(I::I8x16Shuffle(lanes));
                }
                self.e.i(op);
            }
        }
    }
}
