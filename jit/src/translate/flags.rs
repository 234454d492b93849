//! Flags in generated code: conditions straight from a producer's operands
//! when it is in sight, from the lazy record (through the `flags` import)
//! otherwise, and INC/DEC's carry folding.

use super::emit::{local as l, mem};
use super::gen::{Fs, Gen, FN_FLAGS};
use super::plan::ShiftOp;
use iced_x86::Instruction;
use wasm_encoder::Instruction as I;
use wax_cpu::abi::{cpu, LazyOp};
use wax_cpu::state::flag;

impl Gen<'_> {
    /// Pushes the EFLAGS value of the lazy record locals: inline where
    /// the record is known (eager, or a pending ADD, ADC, SUB, SBB, logic
    /// op, INC or DEC), else through the `flags` import.
    pub(super) fn eval_record(&mut self) {
        match self.flags {
            Fs::Eager => {
                self.e.load_at(cpu::EFLAGS);
            }
            Fs::Pending(
                op @ (LazyOp::Add
                | LazyOp::Adc
                | LazyOp::Sub
                | LazyOp::Sbb
                | LazyOp::Logic
                | LazyOp::Inc
                | LazyOp::Dec),
                size,
            ) => self.pending_eflags(op, size),
            _ => {
                self.lg(&[l::LOP, l::LSIZE, l::LRES, l::LA, l::LB]);
                self.e.load_at(cpu::EFLAGS).i(I::Call(FN_FLAGS));
            }
        }
    }

    /// EFLAGS of a pending producer, as `CpuState::eflags` evaluates the
    /// record: the non-status bits (and INC/DEC's folded CF) from
    /// CpuState, the status flags from the operands.
    fn pending_eflags(&mut self, op: LazyOp, size: u32) {
        self.e.load_at(cpu::EFLAGS).c(!flag::STATUS).i(I::I32And);
        for f in [flag::CF, flag::PF, flag::ZF, flag::SF, flag::OF] {
            self.pending_flag(op, size, f);
            if f != flag::CF {
                self.e.c(f.trailing_zeros()).i(I::I32Shl);
            }
            self.e.i(I::I32Or);
        }
        if op == LazyOp::Logic {
            // Undefined after AND/OR/XOR/TEST: Wax's choice.
            if wax_cpu::undefined::AF != 0 {
                self.e.c(flag::AF).i(I::I32Or);
            }
        } else {
            // The carry out of bit 3 (INC/DEC record b = 1).
            self.lg(&[l::LA, l::LB]).i(I::I32Xor);
            self.lg(&[l::LRES]).i(I::I32Xor);
            self.e.c(flag::AF).i(I::I32And).i(I::I32Or);
        }
    }

    /// Pushes one status flag (0 or 1) of a pending producer. A pending
    /// `Adc` (`Sbb`) is an ADC (SBB) whose record says `Adc` (`Sbb`) with
    /// a carry (borrow) in and `Add` (`Sub`) without: only CF depends on
    /// which, and `LOP` tells it.
    pub(super) fn pending_flag(&mut self, op: LazyOp, size: u32, f: u32) {
        let sb = size - 1;
        match f {
            flag::ZF => {
                self.lg(&[l::LRES]).i(I::I32Eqz);
            }
            flag::SF => {
                self.lg(&[l::LRES]).c(sb).i(I::I32ShrU).c(1).i(I::I32And);
            }
            flag::PF => {
                self.lg(&[l::LRES]).c(0xff).i(I::I32And).i(I::I32Popcnt);
                self.e.c(1).i(I::I32And).i(I::I32Eqz);
            }
            flag::CF => match op {
                LazyOp::Sub => {
                    self.lg(&[l::LA, l::LB]).i(I::I32LtU);
                }
                LazyOp::Add => {
                    self.lg(&[l::LRES, l::LA]).i(I::I32LtU);
                }
                // `CpuState::cf`'s cases 2 and 1, 4 and 3, by the record.
                LazyOp::Adc => {
                    self.lg(&[l::LA, l::LRES]).i(I::I32GeU);
                    self.lg(&[l::LRES, l::LA]).i(I::I32LtU);
                    self.lg(&[l::LOP]).c(LazyOp::Adc as u32).i(I::I32Eq);
                    self.e.i(I::Select);
                }
                LazyOp::Sbb => {
                    self.lg(&[l::LB, l::LA]).i(I::I32GeU);
                    self.lg(&[l::LA, l::LB]).i(I::I32LtU);
                    self.lg(&[l::LOP]).c(LazyOp::Sbb as u32).i(I::I32Eq);
                    self.e.i(I::Select);
                }
                // INC/DEC folded the carry into EFLAGS.
                LazyOp::Inc | LazyOp::Dec => {
                    self.e.load_at(cpu::EFLAGS).c(flag::CF).i(I::I32And);
                }
                _ => {
                    self.e.c(0);
                }
            },
            _ => match op {
                LazyOp::Sub | LazyOp::Sbb => {
                    self.lg(&[l::LA, l::LB]).i(I::I32Xor);
                    self.lg(&[l::LA, l::LRES]).i(I::I32Xor).i(I::I32And);
                    self.e.c(sb).i(I::I32ShrU).c(1).i(I::I32And);
                }
                LazyOp::Add | LazyOp::Adc => {
                    self.lg(&[l::LA, l::LRES]).i(I::I32Xor);
                    self.lg(&[l::LB, l::LRES]).i(I::I32Xor).i(I::I32And);
                    self.e.c(sb).i(I::I32ShrU).c(1).i(I::I32And);
                }
                LazyOp::Inc => {
                    self.lg(&[l::LA]).c(u32::MAX).i(I::I32Xor);
                    self.lg(&[l::LRES]).i(I::I32And);
                    self.e.c(sb).i(I::I32ShrU).c(1).i(I::I32And);
                }
                LazyOp::Dec => {
                    self.lg(&[l::LRES]).c(u32::MAX).i(I::I32Xor);
                    self.lg(&[l::LA]).i(I::I32And);
                    self.e.c(sb).i(I::I32ShrU).c(1).i(I::I32And);
                }
                _ => {
                    self.e.c(0);
                }
            },
        }
    }

    /// CMP's conditions straight from the operands.
    pub(super) fn sub_cond(&mut self, size: u32, c: u8) -> bool {
        let cmp = match c {
            1 => I::I32LtU,
            3 => I::I32LeU,
            6 => I::I32LtS,
            7 => I::I32LeS,
            _ => return false,
        };
        self.lazy_get(l::LA);
        if c >= 6 {
            self.sext(size);
        }
        self.lazy_get(l::LB);
        if c >= 6 {
            self.sext(size);
        }
        self.e.i(cmp);
        true
    }

    /// Pushes condition `cc` (0..15, as in Jcc) as 0 or 1.
    pub(super) fn cond(&mut self, cc: u8) {
        let c = cc >> 1;
        let state = self.flags;
        match state {
            Fs::Pending(LazyOp::Sub, size) if self.sub_cond(size, c) => {}
            Fs::Pending(op, size) => {
                let f = |g: &mut Self, f| g.pending_flag(op, size, f);
                match c {
                    0 => f(self, flag::OF),
                    1 => f(self, flag::CF),
                    2 => f(self, flag::ZF),
                    3 => {
                        f(self, flag::CF);
                        f(self, flag::ZF);
                        self.e.i(I::I32Or);
                    }
                    4 => f(self, flag::SF),
                    5 => f(self, flag::PF),
                    6 => {
                        f(self, flag::SF);
                        f(self, flag::OF);
                        self.e.i(I::I32Xor);
                    }
                    _ => {
                        f(self, flag::SF);
                        f(self, flag::OF);
                        self.e.i(I::I32Xor);
                        f(self, flag::ZF);
                        self.e.i(I::I32Or);
                    }
                }
            }
            Fs::Unknown if c == 1 => self.record_cf(),
            Fs::Unknown if c == 2 => self.record_zf(),
            Fs::Unknown | Fs::Eager => {
                if state == Fs::Eager {
                    self.e.load_at(cpu::EFLAGS);
                } else {
                    self.eval_record();
                }
                self.e.set(l::V3);
                let bit = |g: &mut Self, f: u32| {
                    g.e.get(l::V3)
                        .c(f.trailing_zeros())
                        .i(I::I32ShrU)
                        .c(1)
                        .i(I::I32And);
                };
                match c {
                    0 => bit(self, flag::OF),
                    1 => bit(self, flag::CF),
                    2 => bit(self, flag::ZF),
                    3 => {
                        self.e.get(l::V3).c(flag::CF | flag::ZF).i(I::I32And);
                        self.e.c(0).i(I::I32Ne);
                    }
                    4 => bit(self, flag::SF),
                    5 => bit(self, flag::PF),
                    6 => {
                        bit(self, flag::SF);
                        bit(self, flag::OF);
                        self.e.i(I::I32Xor);
                    }
                    _ => {
                        bit(self, flag::SF);
                        bit(self, flag::OF);
                        self.e.i(I::I32Xor);
                        bit(self, flag::ZF);
                        self.e.i(I::I32Or);
                    }
                }
            }
        }
        if cc & 1 != 0 {
            self.e.i(I::I32Eqz);
        }
    }

    pub(super) fn cc(insn: &Instruction) -> u8 {
        insn.condition_code() as u8 - 1
    }

    /// Pushes CF (0 or 1) of the current flag state.
    pub(super) fn carry(&mut self) {
        match self.flags {
            Fs::Pending(op, size) => self.pending_flag(op, size, flag::CF),
            Fs::Eager => {
                self.e.load_at(cpu::EFLAGS).c(flag::CF).i(I::I32And);
            }
            Fs::Unknown => self.record_cf(),
        }
    }

    /// Pushes CF of the lazy record in locals, inline (the interpreter's
    /// `CpuState::cf` as selects).
    fn record_cf(&mut self) {
        self.e
            .load_at(cpu::EFLAGS)
            .c(flag::CF)
            .i(I::I32And)
            .set(l::V3);
        let cases = [
            (LazyOp::Logic, None),
            (LazyOp::Sbb, Some((l::LB, l::LA, I::I32GeU))),
            (LazyOp::Sub, Some((l::LA, l::LB, I::I32LtU))),
            (LazyOp::Adc, Some((l::LA, l::LRES, I::I32GeU))),
            (LazyOp::Add, Some((l::LRES, l::LA, I::I32LtU))),
        ];
        for (op, cmp) in cases {
            match cmp {
                Some((x, y, rel)) => {
                    self.lg(&[x, y]).i(rel);
                }
                None => {
                    self.e.c(0);
                }
            }
            self.e.get(l::V3);
            self.lg(&[l::LOP]).c(op as u32).i(I::I32Eq);
            self.e.i(I::Select).set(l::V3);
        }
        self.e.get(l::V3);
    }

    /// Pushes ZF of the lazy record in locals, inline.
    fn record_zf(&mut self) {
        self.lg(&[l::LRES]).i(I::I32Eqz);
        self.e
            .load_at(cpu::EFLAGS)
            .c(6)
            .i(I::I32ShrU)
            .c(1)
            .i(I::I32And);
        self.lg(&[l::LOP]).i(I::Select);
    }

    /// INC/DEC's record: CF carried into `eflags` (as
    /// `CpuState::set_lazy_incdec` does), then INC/DEC pending.
    pub(super) fn incdec_flags(&mut self, op: LazyOp, size: u32) {
        let fold_cf = |g: &mut Self| {
            g.carry();
            g.e.set(l::V3);
            g.e.c(0).load_at(cpu::EFLAGS).c(!flag::CF).i(I::I32And);
            g.e.get(l::V3)
                .i(I::I32Or)
                .i(I::I32Store(mem(cpu::EFLAGS, 2)));
        };
        match self.flags {
            Fs::Pending(..) => fold_cf(self),
            // CF is in `eflags` already.
            Fs::Eager => {}
            Fs::Unknown => {
                self.lg(&[l::LOP]).if_();
                fold_cf(self);
                self.e.end();
            }
        }
        self.e
            .get(l::V2)
            .set(l::LRES)
            .get(l::V1)
            .set(l::LA)
            .set_c(l::LB, 1);
        self.pending(op, size);
    }

    /// SHL/SHR/SAR by a constant `count` (1..31) of `a` (in `V2`) giving
    /// `res` (in `V1`): all six status flags into `eflags`, as the
    /// interpreter's `shift` module computes them (Wax's choices for the
    /// undefined ones, `wax_cpu::undefined`: AF = 0, OF by the count-1
    /// rule on the result for every count), and the record's op to None.
    pub(super) fn shift_flags(&mut self, op: ShiftOp, size: u32, count: u32) {
        let sb = size - 1;
        // CF: the last bit shifted out.
        match op {
            ShiftOp::Shl if count <= size => {
                self.e.get(l::V2).c(size - count).i(I::I32ShrU);
            }
            ShiftOp::Shl => {
                self.e.c(0);
            }
            ShiftOp::Shr if count - 1 < size => {
                self.e.get(l::V2).c(count - 1).i(I::I32ShrU);
            }
            ShiftOp::Shr => {
                self.e.c(0);
            }
            ShiftOp::Sar => {
                self.e.get(l::V2);
                self.sext(size);
                self.e.c(count - 1).i(I::I32ShrS);
            }
        }
        self.e.c(1).i(I::I32And).set(l::V3);
        // OF: SHL: MSB(res) ^ CF; SHR: the two top bits of res differ,
        // and the top one is 0, so the bit below it; SAR: 0.
        match op {
            ShiftOp::Shl => {
                self.e
                    .get(l::V1)
                    .c(sb)
                    .i(I::I32ShrU)
                    .get(l::V3)
                    .i(I::I32Xor);
                self.e.c(1).i(I::I32And);
            }
            ShiftOp::Shr => {
                self.e.get(l::V1).c(sb - 1).i(I::I32ShrU).c(1).i(I::I32And);
            }
            ShiftOp::Sar => {
                self.e.c(0);
            }
        }
        self.e.c(11).i(I::I32Shl).get(l::V3).i(I::I32Or);
        self.e.get(l::V1).i(I::I32Eqz).c(6).i(I::I32Shl).i(I::I32Or);
        self.e.get(l::V1).c(sb).i(I::I32ShrU).c(1).i(I::I32And);
        self.e.c(7).i(I::I32Shl).i(I::I32Or);
        self.e.get(l::V1).c(0xff).i(I::I32And).i(I::I32Popcnt);
        self.e
            .c(1)
            .i(I::I32And)
            .i(I::I32Eqz)
            .c(2)
            .i(I::I32Shl)
            .i(I::I32Or);
        self.store_status();
    }

    /// The flags of a multiplication, eagerly: the overflow (0 or 1) is on
    /// the stack, local `lo` holds the low half (masked to `size`); CF =
    /// OF = overflow, SF and PF from `lo`, ZF = AF = 0
    /// (`wax_cpu::undefined::mul_flags`).
    pub(super) fn mul_flags(&mut self, lo: u32, size: u32) {
        self.e.c(flag::CF | flag::OF).i(I::I32Mul);
        self.e.get(lo).c(size - 1).i(I::I32ShrU).c(1).i(I::I32And);
        self.e.c(flag::SF.trailing_zeros()).i(I::I32Shl).i(I::I32Or);
        self.e.get(lo).c(0xff).i(I::I32And).i(I::I32Popcnt);
        self.e.c(1).i(I::I32And).i(I::I32Eqz);
        self.e.c(flag::PF.trailing_zeros()).i(I::I32Shl).i(I::I32Or);
        self.store_status();
    }

    /// EFLAGS' status flags = the value on the stack; the record says so
    /// (op None), as `CpuState::set_status` leaves it.
    pub(super) fn store_status(&mut self) {
        self.e.set(l::V3);
        self.e
            .c(0)
            .load_at(cpu::EFLAGS)
            .c(!flag::STATUS)
            .i(I::I32And);
        self.e
            .get(l::V3)
            .i(I::I32Or)
            .i(I::I32Store(mem(cpu::EFLAGS, 2)));
        self.record_eager();
        self.flags = Fs::Eager;
    }

    /// [`Gen::shift_flags`] of a 32-bit shift whose count (1..=31) is in
    /// local `count`: `V2` holds the operand, `V1` the result.
    pub(super) fn shift_flags_dyn(&mut self, op: ShiftOp, count: u32) {
        // CF: the last bit shifted out.
        match op {
            ShiftOp::Shl => {
                self.e
                    .get(l::V2)
                    .c(32)
                    .get(count)
                    .i(I::I32Sub)
                    .i(I::I32ShrU);
            }
            ShiftOp::Shr => {
                self.e.get(l::V2).get(count).c(1).i(I::I32Sub).i(I::I32ShrU);
            }
            ShiftOp::Sar => {
                self.e.get(l::V2).get(count).c(1).i(I::I32Sub).i(I::I32ShrS);
            }
        }
        self.e.c(1).i(I::I32And).set(l::V3);
        // OF as for an immediate count.
        match op {
            ShiftOp::Shl => {
                self.e
                    .get(l::V1)
                    .c(31)
                    .i(I::I32ShrU)
                    .get(l::V3)
                    .i(I::I32Xor);
                self.e.c(1).i(I::I32And);
            }
            ShiftOp::Shr => {
                self.e.get(l::V1).c(30).i(I::I32ShrU).c(1).i(I::I32And);
            }
            ShiftOp::Sar => {
                self.e.c(0);
            }
        }
        self.e.c(11).i(I::I32Shl).get(l::V3).i(I::I32Or);
        self.e.get(l::V1).i(I::I32Eqz).c(6).i(I::I32Shl).i(I::I32Or);
        self.e.get(l::V1).c(31).i(I::I32ShrU).c(1).i(I::I32And);
        self.e.c(7).i(I::I32Shl).i(I::I32Or);
        self.e.get(l::V1).c(0xff).i(I::I32And).i(I::I32Popcnt);
        self.e
            .c(1)
            .i(I::I32And)
            .i(I::I32Eqz)
            .c(2)
            .i(I::I32Shl)
            .i(I::I32Or);
        self.store_status();
    }
}
