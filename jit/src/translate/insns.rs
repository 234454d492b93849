//! Instructions the translator emits wasm for (see `plan.rs` for which).

use super::cfg::Insn;
use super::emit::local as l;
use super::emit::mem;
use super::gen::{Code, Eip, Fs, Gen};
use super::operands::mask;
use super::plan::{AluOp, Plan, ShiftOp};
use iced_x86::{Instruction, OpKind, Register};
use wasm_encoder::Instruction as I;
use wax_cpu::abi::{cpu, ExitCode, LazyOp};
use wax_cpu::state::flag;

fn lazy_op_of(op: AluOp) -> LazyOp {
    match op {
        AluOp::Add => LazyOp::Add,
        AluOp::Sub | AluOp::Cmp => LazyOp::Sub,
        _ => LazyOp::Logic,
    }
}

impl Gen<'_> {
    pub(super) fn native(&mut self, ins: &Insn) {
        let insn = &ins.insn;
        let size = wax_cpu::interp::table::op_size(insn, 0);
        match ins.plan {
            Plan::X87 { op } => self.x87(insn, op),
            Plan::Mov => self.mov(insn, size),
            Plan::Lea => self.lea(insn, size),
            Plan::Alu(op) => self.alu(insn, op, size),
            Plan::ClearReg => {
                self.e.set_c(l::LRES, 0).set_c(l::LA, 0).set_c(l::LB, 0);
                self.write_reg(insn.op0_register(), l::LRES);
                let logic = insn.mnemonic() == iced_x86::Mnemonic::Xor;
                let op = if logic { LazyOp::Logic } else { LazyOp::Sub };
                self.pending(op, size);
            }
            Plan::IncDec => {
                let inc = insn.mnemonic() == iced_x86::Mnemonic::Inc;
                let live = ins.flags_live_after;
                self.with_operand(insn, size, true, |g| {
                    g.read_op(insn, 0, size);
                    g.e.tee(l::V1).c(1);
                    g.e.i(if inc { I::I32Add } else { I::I32Sub });
                    g.e.c(mask(size)).i(I::I32And).set(l::V2);
                    g.write_op(insn, 0, size, l::V2);
                    if live {
                        let op = if inc { LazyOp::Inc } else { LazyOp::Dec };
                        g.incdec_flags(op, size);
                    } else {
                        g.flags = Fs::Unknown;
                    }
                });
            }
            Plan::Neg => self.with_operand(insn, size, true, |g| {
                g.read_op(insn, 0, size);
                g.e.set(l::LB).set_c(l::LA, 0);
                g.e.c(0).get(l::LB).i(I::I32Sub).c(mask(size)).i(I::I32And);
                g.e.set(l::LRES);
                g.write_op(insn, 0, size, l::LRES);
                g.pending(LazyOp::Sub, size);
            }),
            Plan::Not => self.with_operand(insn, size, true, |g| {
                g.read_op(insn, 0, size);
                g.e.c(mask(size)).i(I::I32Xor).set(l::V1);
                g.write_op(insn, 0, size, l::V1);
            }),
            Plan::Push => self.push(insn),
            Plan::Pop => self.pop(insn),
            Plan::Leave => self.leave(),
            Plan::Movx => self.movx(insn, size),
            Plan::Setcc => self.with_operand(insn, 8, true, |g| {
                g.cond(Self::cc(insn));
                g.e.set(l::V1);
                g.write_op(insn, 0, 8, l::V1);
            }),
            Plan::Cmov => self.with_operand(insn, size, false, |g| {
                g.read_op(insn, 1, size);
                g.e.set(l::V1);
                g.cond(Self::cc(insn));
                g.e.if_();
                g.write_reg(insn.op0_register(), l::V1);
                g.e.end();
            }),
            Plan::Xchg => self.xchg(insn, size),
            Plan::Cdq => {
                self.e.get(l::R0).c(31).i(I::I32ShrS).set(l::R0 + 2);
            }
            Plan::Cwde => {
                self.e.get(l::R0).i(I::I32Extend16S).set(l::R0);
            }
            Plan::Nop => {}
            Plan::JmpRel => self.goto(insn.near_branch32()),
            Plan::Jcc if !self.at_block_end() => {
                // Inside a block (`cfg.rs`): taken, it leaves the block;
                // not taken, the block goes on.
                self.cond(Self::cc(insn));
                self.e.if_();
                self.goto(insn.near_branch32());
                self.e.end();
            }
            Plan::Jcc => {
                self.cond(Self::cc(insn));
                self.e.if_();
                self.goto(insn.near_branch32());
                self.e.else_();
                self.goto(insn.next_ip32());
                self.e.end();
            }
            Plan::CallRel => self.call_rel(insn),
            Plan::Ret => self.ret(insn),
            Plan::JmpInd => self.jmp_ind(insn),
            Plan::CallInd => self.call_ind(insn),
            Plan::Syscall => {
                self.exit(Code::Const(ExitCode::Syscall), Eip::Const(insn.next_ip32()))
            }
            Plan::Shift(op) => self.shift(insn, op, size, ins.flags_live_after),
            Plan::Imul => self.imul(insn, size, ins.flags_live_after),
            Plan::ShiftCl(op, _) => self.shift_cl(insn, op, size, ins.flags_live_after),
            Plan::MulAcc { signed } => self.mul_acc(insn, signed, ins.flags_live_after),
            Plan::Div { signed } => self.div(insn, signed),
            Plan::Bt { op } => self.bt(insn, op, ins.flags_live_after),
            Plan::BitScan { reverse } => self.bit_scan(insn, reverse, ins.flags_live_after),
            Plan::Double { left } => self.double(insn, left, size, ins.flags_live_after),
            Plan::Rotate { left } => self.rotate(insn, left, ins.flags_live_after),
            Plan::Bswap => {
                let r = insn.op0_register();
                self.read_reg(r);
                self.e.c(0xff00_ff00).i(I::I32And).c(8).i(I::I32Rotl);
                self.read_reg(r);
                self.e.c(0x00ff_00ff).i(I::I32And).c(8).i(I::I32Rotr);
                self.e.i(I::I32Or).set(l::V1);
                self.write_reg(r, l::V1);
            }
            Plan::Sse(f) => self.sse(insn, f),
            Plan::Step | Plan::StepStraddling => unreachable!("stepped plans are not native"),
        }
    }

    pub(super) fn mov(&mut self, insn: &Instruction, size: u32) {
        let store = insn.op0_kind() == OpKind::Memory;
        self.with_operand(insn, size, store, |g| {
            g.read_op(insn, 1, size);
            g.e.set(l::V1);
            g.write_op(insn, 0, size, l::V1);
        });
    }

    pub(super) fn lea(&mut self, insn: &Instruction, size: u32) {
        self.e.c(insn.memory_displacement32());
        if insn.memory_base() != Register::None {
            self.read_reg(insn.memory_base());
            self.e.i(I::I32Add);
        }
        if insn.memory_index() != Register::None {
            self.read_reg(insn.memory_index());
            self.e
                .c(insn.memory_index_scale())
                .i(I::I32Mul)
                .i(I::I32Add);
        }
        if size < 32 {
            self.e.c(mask(size)).i(I::I32And);
        }
        self.e.set(l::V1);
        self.write_reg(insn.op0_register(), l::V1);
        // LEA r32, [r32+disp]: a step of the register.
        let dst = insn.op0_register();
        if size == 32 && insn.memory_base() == dst && insn.memory_index() == Register::None {
            self.moved(Self::local_of(dst), insn.memory_displacement32());
        }
    }

    /// The local of a 32-bit general register.
    fn local_of(r: Register) -> u32 {
        l::R0 + (r as u32 - Register::EAX as u32)
    }

    pub(super) fn alu(&mut self, insn: &Instruction, op: AluOp, size: u32) {
        let writes = !matches!(op, AluOp::Cmp | AluOp::Test);
        let dst_mem = insn.op0_kind() == OpKind::Memory;
        self.with_operand(insn, size, writes && dst_mem, |g| {
            if matches!(op, AluOp::Adc | AluOp::Sbb) {
                g.adc_sbb(insn, op == AluOp::Adc, size);
                return;
            }
            g.read_op(insn, 0, size);
            g.e.set(l::LA);
            g.read_op(insn, 1, size);
            g.e.set(l::LB);
            g.e.get(l::LA).get(l::LB);
            g.e.i(match op {
                AluOp::Add => I::I32Add,
                AluOp::Or => I::I32Or,
                AluOp::And | AluOp::Test => I::I32And,
                AluOp::Xor => I::I32Xor,
                _ => I::I32Sub,
            });
            if size < 32 && matches!(op, AluOp::Add | AluOp::Sub | AluOp::Cmp) {
                g.e.c(mask(size)).i(I::I32And);
            }
            g.e.set(l::LRES);
            if writes {
                g.write_op(insn, 0, size, l::LRES);
            }
            g.pending(lazy_op_of(op), size);
        });
        // ADD/SUB r32, imm: a step of the register.
        let dst = insn.op0_register();
        if matches!(op, AluOp::Add | AluOp::Sub)
            && size == 32
            && insn.op0_kind() == OpKind::Register
            && dst.is_gpr32()
            && insn.op_count() == 2
            && !matches!(insn.op1_kind(), OpKind::Register | OpKind::Memory)
        {
            let imm = insn.immediate(1) as u32;
            let delta = if op == AluOp::Add {
                imm
            } else {
                imm.wrapping_neg()
            };
            self.moved(Self::local_of(dst), delta);
        }
    }

    pub(super) fn adc_sbb(&mut self, insn: &Instruction, adc: bool, size: u32) {
        self.carry();
        self.e.set(l::V3);
        self.read_op(insn, 0, size);
        self.e.set(l::V1);
        self.read_op(insn, 1, size);
        self.e.set(l::V2);
        let (op, with, without) = if adc {
            (I::I32Add, LazyOp::Adc, LazyOp::Add)
        } else {
            (I::I32Sub, LazyOp::Sbb, LazyOp::Sub)
        };
        self.e.get(l::V1).get(l::V2).i(op.clone()).get(l::V3).i(op);
        self.e.c(mask(size)).i(I::I32And).set(l::LRES);
        self.e.c(with as u32).c(without as u32).get(l::V3);
        self.e.i(I::Select).set(l::LOP).set_c(l::LSIZE, size);
        self.e.get(l::V1).set(l::LA).get(l::V2).set(l::LB);
        self.held_lazy();
        self.write_op(insn, 0, size, l::LRES);
        self.flags = Fs::Pending(with, size);
    }

    pub(super) fn movx(&mut self, insn: &Instruction, size: u32) {
        let src = wax_cpu::interp::table::op_size(insn, 1);
        let signed = insn.mnemonic() == iced_x86::Mnemonic::Movsx;
        self.with_operand(insn, src, false, |g| {
            g.read_op(insn, 1, src);
            if signed {
                g.sext(src);
                if size < 32 {
                    g.e.c(mask(size)).i(I::I32And);
                }
            }
            g.e.set(l::V1);
            g.write_reg(insn.op0_register(), l::V1);
        });
    }

    pub(super) fn xchg(&mut self, insn: &Instruction, size: u32) {
        self.with_operand(insn, size, true, |g| {
            g.read_op(insn, 0, size);
            g.e.set(l::V1);
            g.read_op(insn, 1, size);
            g.e.set(l::V2);
            g.write_op(insn, 0, size, l::V2);
            g.write_op(insn, 1, size, l::V1);
        });
    }

    pub(super) fn shift(&mut self, insn: &Instruction, op: ShiftOp, size: u32, live: bool) {
        let count = super::plan::shift_count(insn).expect("planned shift has a count");
        self.with_operand(insn, size, true, |g| {
            g.read_op(insn, 0, size);
            g.e.tee(l::V2);
            match op {
                ShiftOp::Shl => {
                    g.e.c(count).i(I::I32Shl);
                    g.mask_to(size);
                }
                ShiftOp::Shr => {
                    g.e.c(count).i(I::I32ShrU);
                }
                ShiftOp::Sar => {
                    g.sext(size);
                    g.e.c(count).i(I::I32ShrS);
                    g.mask_to(size);
                }
            }
            g.e.set(l::V1);
            g.write_op(insn, 0, size, l::V1);
            if live {
                g.shift_flags(op, size, count);
            } else {
                g.flags = Fs::Unknown;
            }
        });
    }

    /// IMUL r, r/m (, imm): the truncated product; where the flags are
    /// live, CF = OF = "the signed product does not fit", the rest as
    /// `wax_cpu::undefined::mul_flags` sets them.
    pub(super) fn imul(&mut self, insn: &Instruction, size: u32, live: bool) {
        self.with_operand(insn, size, false, |g| {
            let first = if insn.op_count() == 3 { 1 } else { 0 };
            g.read_op(insn, first, size);
            g.sext(size);
            g.e.set(l::V2);
            g.read_op(insn, first + 1, size);
            g.sext(size);
            g.e.set(l::V3);
            if live && size == 32 {
                g.e.get(l::V2).i(I::I64ExtendI32S);
                g.e.get(l::V3).i(I::I64ExtendI32S);
                g.e.i(I::I64Mul).tee(l::W1).i(I::I32WrapI64).set(l::V1);
                g.e.get(l::W1).get(l::V1).i(I::I64ExtendI32S).i(I::I64Ne);
            } else {
                // 16-bit products fit in 32 bits.
                g.e.get(l::V2).get(l::V3).i(I::I32Mul).set(l::V1);
                if live {
                    g.e.get(l::V1).get(l::V1).i(I::I32Extend16S).i(I::I32Ne);
                }
                g.mask_to_local(l::V1, size);
            }
            if live {
                g.mul_flags(l::V1, size);
            } else {
                g.flags = Fs::Unknown;
            }
            g.write_reg(insn.op0_register(), l::V1);
        });
    }

    /// Masks local `v` to `size` bits.
    fn mask_to_local(&mut self, v: u32, size: u32) {
        if size < 32 {
            self.e.get(v).c(mask(size)).i(I::I32And).set(v);
        }
    }

    /// SHL/SHR/SAR r/m, CL (a count of 0 writes the operand back
    /// unchanged and keeps the flags, as the interpreter does). Flags are
    /// computed where live (32-bit operands only: see `Plan::steps`).
    pub(super) fn shift_cl(&mut self, insn: &Instruction, op: ShiftOp, size: u32, live: bool) {
        // The masked count (ADDR2 is free: the only access is ADDR's).
        let count = l::ADDR2;
        self.with_operand(insn, size, true, |g| {
            g.e.get(l::R0 + 1).c(31).i(I::I32And).set(count);
            g.read_op(insn, 0, size);
            g.e.tee(l::V2);
            if op == ShiftOp::Sar {
                g.sext(size);
            }
            g.e.get(count);
            g.e.i(match op {
                ShiftOp::Shl => I::I32Shl,
                ShiftOp::Shr => I::I32ShrU,
                ShiftOp::Sar => I::I32ShrS,
            });
            g.mask_to(size);
            g.e.set(l::V1);
            g.write_op(insn, 0, size, l::V1);
            if live {
                debug_assert_eq!(size, 32);
                g.e.get(count).if_();
                g.shift_flags_dyn(op, count);
                g.e.end();
            }
            // Either the old record (count 0) or eager flags.
            g.flags = Fs::Unknown;
        });
    }

    /// MUL/IMUL r/m32: EDX:EAX = EAX * r/m32; where the flags are live,
    /// CF = OF = "the product does not fit EAX", the rest as
    /// `wax_cpu::undefined::mul_flags` sets them.
    pub(super) fn mul_acc(&mut self, insn: &Instruction, signed: bool, live: bool) {
        let ext = if signed {
            I::I64ExtendI32S
        } else {
            I::I64ExtendI32U
        };
        self.with_operand(insn, 32, false, |g| {
            g.read_op(insn, 0, 32);
            g.e.i(ext.clone());
            g.e.get(l::R0).i(ext).i(I::I64Mul).set(l::W1);
            g.e.get(l::W1).i(I::I32WrapI64).set(l::R0);
            g.e.get(l::W1).i(I::I64Const(32)).i(I::I64ShrU);
            g.e.i(I::I32WrapI64).set(l::R0 + 2);
            if live {
                if signed {
                    g.e.get(l::W1).get(l::R0).i(I::I64ExtendI32S).i(I::I64Ne);
                } else {
                    g.e.get(l::R0 + 2).c(0).i(I::I32Ne);
                }
                g.mul_flags(l::R0, 32);
            } else {
                g.flags = Fs::Unknown;
            }
        });
    }

    /// DIV/IDIV r/m32: EAX = EDX:EAX / r/m32, EDX = the remainder; flags
    /// unchanged. Whatever would raise #DE (a zero divisor, a quotient
    /// that does not fit) leaves before the instruction, for the
    /// interpreter to raise it; so does IDIV by -1 (which could trap in
    /// wasm), a rare divisor.
    pub(super) fn div(&mut self, insn: &Instruction, signed: bool) {
        let edx = l::R0 + 2;
        self.with_operand(insn, 32, false, |g| {
            g.read_op(insn, 0, 32);
            g.e.tee(l::V1).i(I::I32Eqz);
            if signed {
                g.e.get(l::V1).c(u32::MAX).i(I::I32Eq).i(I::I32Or);
            } else {
                // The quotient fits iff EDX < divisor.
                g.e.get(edx).get(l::V1).i(I::I32GeU).i(I::I32Or);
            }
            g.e.if_();
            g.exit_before();
            g.e.end();
            // V2 = the quotient. A dividend that fits in 32 bits (EDX zero
            // for DIV, EAX's sign for IDIV: after XOR EDX,EDX or CDQ) takes
            // a 32-bit division, the hardware's fastest; otherwise EDX:EAX
            // is divided in 64 bits (W1).
            g.e.get(edx);
            if signed {
                g.e.get(l::R0).c(31).i(I::I32ShrS).i(I::I32Eq);
            } else {
                g.e.i(I::I32Eqz);
            }
            g.e.if_();
            g.e.get(l::R0).get(l::V1);
            g.e.i(if signed { I::I32DivS } else { I::I32DivU })
                .set(l::V2);
            g.e.else_();
            g.e.get(edx)
                .i(I::I64ExtendI32U)
                .i(I::I64Const(32))
                .i(I::I64Shl);
            g.e.get(l::R0).i(I::I64ExtendI32U).i(I::I64Or).set(l::W1);
            if signed {
                // The quotient must fit in 32 signed bits.
                g.e.get(l::W1).get(l::V1).i(I::I64ExtendI32S).i(I::I64DivS);
                g.e.tee(l::W2).i(I::I64Const(1 << 31)).i(I::I64Add);
                g.e.i(I::I64Const(u32::MAX.into())).i(I::I64GtU).if_();
                g.exit_before();
                g.e.end();
                g.e.get(l::W2).i(I::I32WrapI64).set(l::V2);
            } else {
                g.e.get(l::W1).get(l::V1).i(I::I64ExtendI32U).i(I::I64DivU);
                g.e.i(I::I32WrapI64).set(l::V2);
            }
            g.e.end();
            // The remainder is EDX:EAX - quotient * divisor, which fits in
            // 32 bits, so the low halves give it (one division, not two).
            g.e.get(l::R0)
                .get(l::V2)
                .get(l::V1)
                .i(I::I32Mul)
                .i(I::I32Sub);
            g.e.set(edx);
            g.e.get(l::V2).set(l::R0);
        });
    }

    /// BT/BTS/BTR/BTC r32, r32|imm8: CF = the bit (the other flags stay),
    /// computed where the flags are live.
    pub(super) fn bt(&mut self, insn: &Instruction, op: u8, live: bool) {
        let dst = insn.op0_register();
        self.read_reg(dst);
        self.e.set(l::V1);
        self.read_op(insn, 1, 32);
        self.e.c(31).i(I::I32And).set(l::V2);
        if op != 0 {
            self.e.c(1).get(l::V2).i(I::I32Shl);
            match op {
                1 => self.e.get(l::V1).i(I::I32Or),
                2 => self.e.c(u32::MAX).i(I::I32Xor).get(l::V1).i(I::I32And),
                _ => self.e.get(l::V1).i(I::I32Xor),
            };
            self.e.set(l::V3);
            self.write_reg(dst, l::V3);
        }
        if live {
            self.eval_record();
            self.e.c(!flag::CF).i(I::I32And);
            self.e.get(l::V1).get(l::V2).i(I::I32ShrU).c(1).i(I::I32And);
            self.e.i(I::I32Or).set(l::V3);
            self.e.c(0).get(l::V3).i(I::I32Store(mem(cpu::EFLAGS, 2)));
            self.record_eager();
            self.flags = Fs::Eager;
        } else {
            self.flags = Fs::Unknown;
        }
    }

    /// BSF/BSR r32, r/m32: a zero source sets ZF (and PF) and leaves the
    /// destination; otherwise the index, PF from it, the rest clear
    /// (`wax_cpu::undefined::bit_scan_flags`).
    pub(super) fn bit_scan(&mut self, insn: &Instruction, reverse: bool, live: bool) {
        self.with_operand(insn, 32, false, |g| {
            g.read_op(insn, 1, 32);
            g.e.tee(l::V1).i(I::I32Eqz).if_();
            g.e.set_c(l::V3, flag::ZF | flag::PF);
            g.e.else_();
            if reverse {
                g.e.c(31).get(l::V1).i(I::I32Clz).i(I::I32Sub);
            } else {
                g.e.get(l::V1).i(I::I32Ctz);
            }
            g.e.set(l::V2);
            g.write_reg(insn.op0_register(), l::V2);
            g.e.get(l::V2).c(0xff).i(I::I32And).i(I::I32Popcnt);
            g.e.c(1).i(I::I32And).i(I::I32Eqz);
            g.e.c(flag::PF.trailing_zeros()).i(I::I32Shl).set(l::V3);
            g.e.end();
            if live {
                g.e.get(l::V3);
                g.store_status();
            } else {
                g.flags = Fs::Unknown;
            }
        });
    }

    /// SHLD/SHRD r/m16|32, r16|32, imm8|CL, as the interpreter's `shift`
    /// module computes them. The operand pair is one 64-bit value shifted
    /// by the masked count: for 32 bits dst:src (SHLD) or src:dst (SHRD);
    /// for 16 bits dst:src:dst, the 48-bit string whose shift is Wax's
    /// choice for counts 17..31 (`wax_cpu::undefined`) and the defined
    /// result for counts up to 16. A count of 0 writes the operand back
    /// unchanged and keeps the flags. Where the flags are live, a
    /// non-zero count sets all six: CF the last bit out, OF by the count-1
    /// rule on the result (SHLD: MSB ^ CF; SHRD: the two top bits differ),
    /// AF as `undefined::AF`, SF ZF PF from the result.
    pub(super) fn double(&mut self, insn: &Instruction, left: bool, size: u32, live: bool) {
        let count = l::ADDR2;
        self.with_operand(insn, size, true, |g| {
            if insn.op2_kind() == OpKind::Immediate8 {
                g.e.set_c(count, u32::from(insn.immediate8()) & 31);
            } else {
                g.e.get(l::R0 + 1).c(31).i(I::I32And).set(count);
            }
            g.read_op(insn, 0, size);
            g.e.set(l::V1);
            g.read_reg(insn.op1_register());
            g.e.set(l::V2);
            // W1 = the bit string.
            let (hi, lo) = if left || size == 16 {
                (l::V1, l::V2)
            } else {
                (l::V2, l::V1)
            };
            g.e.get(hi)
                .i(I::I64ExtendI32U)
                .i(I::I64Const(32))
                .i(I::I64Shl);
            g.e.get(lo).i(I::I64ExtendI32U);
            if size == 16 {
                g.e.i(I::I64Const(16)).i(I::I64Shl);
                g.e.get(l::V1).i(I::I64ExtendI32U).i(I::I64Or);
            }
            g.e.i(I::I64Or).set(l::W1);
            // The result: the bits from 32 - count (SHLD) or from count
            // (SHRD) up; a count of 0 gives the operand itself.
            g.e.get(l::W1);
            if left {
                g.e.c(32).get(count).i(I::I32Sub);
            } else {
                g.e.get(count);
            }
            g.e.i(I::I64ExtendI32U).i(I::I64ShrU).i(I::I32WrapI64);
            g.mask_to(size);
            g.e.set(l::V1);
            g.write_op(insn, 0, size, l::V1);
            if live {
                g.e.get(count).if_();
                g.double_flags(left, size, count);
                g.e.end();
            }
            // Either the old record (count 0) or eager flags.
            g.flags = Fs::Unknown;
        });
    }

    /// The flags of a SHLD/SHRD by a non-zero `count` (in that local):
    /// `W1` holds the bit string shifted, `V1` the result.
    fn double_flags(&mut self, left: bool, size: u32, count: u32) {
        // CF: the last bit out, bit 32 + size - count (SHLD) or count - 1
        // (SHRD) of the string.
        self.e.get(l::W1);
        if left {
            self.e.c(32 + size).get(count).i(I::I32Sub);
        } else {
            self.e.get(count).c(1).i(I::I32Sub);
        }
        self.e.i(I::I64ExtendI32U).i(I::I64ShrU).i(I::I32WrapI64);
        self.e.c(1).i(I::I32And).set(l::V3);
        // OF, at bit 0.
        self.e.get(l::V1).c(size - 1).i(I::I32ShrU);
        if left {
            self.e.get(l::V3);
        } else {
            self.e.get(l::V1).c(size - 2).i(I::I32ShrU);
        }
        self.e.i(I::I32Xor).c(1).i(I::I32And);
        self.e.c(flag::OF.trailing_zeros()).i(I::I32Shl);
        self.e.get(l::V3).i(I::I32Or);
        self.e.get(l::V1).i(I::I32Eqz);
        self.e.c(flag::ZF.trailing_zeros()).i(I::I32Shl).i(I::I32Or);
        self.e
            .get(l::V1)
            .c(size - 1)
            .i(I::I32ShrU)
            .c(1)
            .i(I::I32And);
        self.e.c(flag::SF.trailing_zeros()).i(I::I32Shl).i(I::I32Or);
        self.e.get(l::V1).c(0xff).i(I::I32And).i(I::I32Popcnt);
        self.e.c(1).i(I::I32And).i(I::I32Eqz);
        self.e.c(flag::PF.trailing_zeros()).i(I::I32Shl).i(I::I32Or);
        if wax_cpu::undefined::AF != 0 {
            self.e.c(flag::AF).i(I::I32Or);
        }
        self.store_status();
    }

    /// ROL/ROR r/m32, imm8. Where the flags are live, CF is the bit
    /// rotated into bit 0 (ROL) or bit 31 (ROR) and OF as
    /// the interpreter (`shift.rs`) defines it for every count
    /// (ROL: bit 31 ^ CF; ROR: bit 31 ^ bit 30); the other flags stay.
    pub(super) fn rotate(&mut self, insn: &Instruction, left: bool, live: bool) {
        let count = super::plan::shift_count(insn).expect("planned rotate has a count");
        self.with_operand(insn, 32, true, |g| {
            g.read_op(insn, 0, 32);
            g.e.c(count).i(if left { I::I32Rotl } else { I::I32Rotr });
            g.e.set(l::V1);
            g.write_op(insn, 0, 32, l::V1);
            if !live {
                g.flags = Fs::Unknown;
                return;
            }
            g.eval_record();
            g.e.c(!(flag::CF | flag::OF)).i(I::I32And);
            // CF.
            if left {
                g.e.get(l::V1).c(1).i(I::I32And);
            } else {
                g.e.get(l::V1).c(31).i(I::I32ShrU);
            }
            g.e.i(I::I32Or);
            // OF: bit 31 ^ (bit 0 for ROL, bit 30 for ROR), at bit 11.
            g.e.get(l::V1).get(l::V1);
            if left {
                g.e.c(31).i(I::I32Shl);
            } else {
                g.e.c(1).i(I::I32Shl);
            }
            g.e.i(I::I32Xor).c(31).i(I::I32ShrU);
            g.e.c(flag::OF.trailing_zeros()).i(I::I32Shl).i(I::I32Or);
            g.e.set(l::V3);
            g.e.c(0).get(l::V3).i(I::I32Store(mem(cpu::EFLAGS, 2)));
            g.record_eager();
            g.flags = Fs::Eager;
        });
    }

    pub(super) fn esp() -> u32 {
        l::R0 + 4
    }

    /// PUSH r32/imm/m32 (a memory operand's address uses ESP before the
    /// push; both accesses are checked before either happens).
    pub(super) fn push(&mut self, insn: &Instruction) {
        self.with_operand(insn, 32, false, |g| {
            g.e.get(Self::esp()).c(4).i(I::I32Sub).set(l::ADDR2);
            g.check_based(
                l::ADDR2,
                l::HOST2,
                4,
                true,
                Some((Self::esp(), 4u32.wrapping_neg())),
            );
            g.read_op(insn, 0, 32);
            g.e.set(l::V1);
            g.store(l::HOST2, 32, l::V1);
            g.e.get(l::ADDR2).set(Self::esp());
            g.moved(Self::esp(), 4u32.wrapping_neg());
        });
    }

    /// POP r32: with ESP as the destination the popped value wins.
    pub(super) fn pop(&mut self, insn: &Instruction) {
        self.e.get(Self::esp()).set(l::ADDR);
        self.check_based(l::ADDR, l::HOST, 4, false, Some((Self::esp(), 0)));
        self.load(l::HOST, 32);
        self.e.set(l::V1);
        self.e.get(Self::esp()).c(4).i(I::I32Add).set(Self::esp());
        self.moved(Self::esp(), 4);
        self.write_reg(insn.op0_register(), l::V1);
    }

    pub(super) fn leave(&mut self) {
        let ebp = l::R0 + 5;
        self.e.get(ebp).set(l::ADDR);
        self.check_based(l::ADDR, l::HOST, 4, false, Some((ebp, 0)));
        self.load(l::HOST, 32);
        self.e.set(l::V1);
        self.e.get(ebp).c(4).i(I::I32Add).set(Self::esp());
        self.e.get(l::V1).set(ebp);
    }

    pub(super) fn call_rel(&mut self, insn: &Instruction) {
        self.e.get(Self::esp()).c(4).i(I::I32Sub).set(l::ADDR);
        self.check_based(
            l::ADDR,
            l::HOST,
            4,
            true,
            Some((Self::esp(), 4u32.wrapping_neg())),
        );
        self.e.set_c(l::V1, insn.next_ip32());
        self.store(l::HOST, 32, l::V1);
        self.e.get(l::ADDR).set(Self::esp());
        self.moved(Self::esp(), 4u32.wrapping_neg());
        self.goto(insn.near_branch32());
    }

    pub(super) fn ret(&mut self, insn: &Instruction) {
        let pop = 4 + if insn.op_count() == 1 {
            u32::from(insn.immediate16())
        } else {
            0
        };
        self.e.get(Self::esp()).set(l::ADDR);
        self.check_based(l::ADDR, l::HOST, 4, false, Some((Self::esp(), 0)));
        self.load(l::HOST, 32);
        self.e.set(l::V1);
        self.e.get(Self::esp()).c(pop).i(I::I32Add).set(Self::esp());
        let sites = self.return_sites();
        self.dispatch_to(l::V1, sites);
        self.exit(Code::Const(ExitCode::Next), Eip::Local(l::V1));
    }

    /// The target of JMP/CALL r/m32 into `V1`.
    pub(super) fn indirect_target(&mut self, insn: &Instruction) {
        if Self::mem_op(insn) {
            self.ea(insn);
            let base = Self::simple_base(insn);
            self.check_based(l::ADDR, l::HOST, 4, false, base);
            self.load(l::HOST, 32);
        } else {
            self.read_reg(insn.op0_register());
        }
        self.e.set(l::V1);
    }

    pub(super) fn jmp_ind(&mut self, insn: &Instruction) {
        self.indirect_target(insn);
        self.exit(Code::Const(ExitCode::Next), Eip::Local(l::V1));
    }

    /// CALL r/m32: the target is read before the return address is pushed
    /// (both checked before either happens).
    pub(super) fn call_ind(&mut self, insn: &Instruction) {
        self.indirect_target(insn);
        self.e.get(Self::esp()).c(4).i(I::I32Sub).set(l::ADDR2);
        self.check_based(
            l::ADDR2,
            l::HOST2,
            4,
            true,
            Some((Self::esp(), 4u32.wrapping_neg())),
        );
        self.e.set_c(l::V2, insn.next_ip32());
        self.store(l::HOST2, 32, l::V2);
        self.e.get(l::ADDR2).set(Self::esp());
        self.exit(Code::Const(ExitCode::Next), Eip::Local(l::V1));
    }
}
