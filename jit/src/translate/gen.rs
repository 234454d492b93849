//! Code generation for one page: the `run` function's dispatcher, block
//! bodies and exits.
//!
//! Invariants every emitted path keeps:
//! - Guest registers live in locals `R0..R7`; CpuState is written back at
//!   every exit and before every interpreter step, and reloaded after.
//! - The flag state at compile time is either [`Fs::Unknown`] (the lazy
//!   record in locals `LOP..LB` is the truth, as the interpreter would have
//!   it) or [`Fs::Pending`] (the last producer's op and size are known here
//!   and its result and operands are in `FRES/FA/FB`; for INC/DEC, CF is
//!   already folded into `CpuState::eflags`, as the interpreter does). Pending is written
//!   into the record locals only where something may read it: a block
//!   boundary, an exit, an interpreter step.
//! - A block charges its whole length to the budget on entry; a path that
//!   leaves the block early refunds the instructions it did not run.
//! - Before any state changes, every memory access of an instruction takes
//!   its fast-path check; if one fails, the interpreter runs the whole
//!   instruction instead (faults, copy-on-write, page crossing, stores to
//!   watched code all live there).

use super::cfg::{Block, Cfg, Insn};
use super::emit::{local as l, mem, Emitter, Label};
use super::plan::{AluOp, Plan, ShiftOp};
use iced_x86::{Instruction, OpKind, Register};
use wasm_encoder::Instruction as I;
use wax_cpu::abi::{cpu, ctl, pte, ExitCode, LazyOp, CONTROL};
use wax_cpu::state::flag;

/// Index of the `step` import: runs one instruction in the interpreter.
pub const FN_STEP: u32 = 0;
/// Index of the `flags` import: evaluates a lazy-flag record to EFLAGS.
pub const FN_FLAGS: u32 = 1;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fs {
    Unknown,
    Pending(LazyOp, u32),
}

/// Where an exit finds the EIP to store.
#[derive(Clone, Copy)]
enum Eip {
    Const(u32),
    Local(u32),
    /// Already in CpuState (an interpreter step set it).
    Cpu,
}

/// Which exit code an exit stores.
#[derive(Clone, Copy)]
enum Code {
    Const(ExitCode),
    Local(u32),
}

pub struct Stats {
    pub insns: usize,
    pub stepped: usize,
}

pub struct Gen<'a> {
    e: Emitter,
    cfg: &'a Cfg,
    flags: Fs,
    /// Length of the block being emitted, and the index of the current
    /// instruction in it (for refunds).
    len: u32,
    k: u32,
    pub stats: Stats,
}

fn mask(size: u32) -> u32 {
    u32::MAX >> (32 - size)
}

/// (local, part) of a general register: 0 whole, 1 low 16, 2 low 8, 3 bits 8..16.
fn reg_info(r: Register) -> (u32, u8) {
    let n = r as u32;
    if r.is_gpr32() {
        (l::R0 + n - Register::EAX as u32, 0)
    } else if r.is_gpr16() {
        (l::R0 + n - Register::AX as u32, 1)
    } else if n >= Register::AH as u32 {
        (l::R0 + n - Register::AH as u32, 3)
    } else {
        (l::R0 + n - Register::AL as u32, 2)
    }
}

fn lazy_op_of(op: AluOp) -> LazyOp {
    match op {
        AluOp::Add => LazyOp::Add,
        AluOp::Sub | AluOp::Cmp => LazyOp::Sub,
        _ => LazyOp::Logic,
    }
}

impl<'a> Gen<'a> {
    pub fn new(cfg: &'a Cfg) -> Gen<'a> {
        Gen {
            e: Emitter::new(),
            cfg,
            flags: Fs::Unknown,
            len: 0,
            k: 0,
            stats: Stats {
                insns: 0,
                stepped: 0,
            },
        }
    }

    /// The whole `run(entry) -> exit code` function.
    pub fn function(mut self) -> (wasm_encoder::Function, Stats) {
        self.prologue();
        let cfg = self.cfg;
        let n = cfg.blocks.len() as u32;
        self.e.set_c(l::PC, n);
        for (i, b) in cfg.blocks.iter().enumerate() {
            self.e.get(l::ENTRY).c(b.start).i(I::I32Eq).if_();
            self.e.set_c(l::PC, i as u32).end();
        }
        self.e.block(Label::Epilogue).loop_(Label::Dispatch);
        for _ in 0..=n {
            self.e.block(Label::Anon);
        }
        self.e.get(l::PC).br_table_dense(n).end();
        for b in &cfg.blocks {
            self.block(b);
            self.e.i(I::Unreachable).end();
        }
        // PC matched no block: nothing ran.
        self.e.get(l::ENTRY).set(l::EIP);
        self.e
            .set_c(l::CODE, ExitCode::Miss as u32)
            .br(Label::Epilogue);
        self.e.end().end();
        self.epilogue();
        (self.e.finish(), self.stats)
    }

    fn prologue(&mut self) {
        for i in 0..8 {
            self.e.load_at(cpu::GPR + 4 * i).set(l::R0 + i);
        }
        self.load_lazy();
        self.e.load_at(CONTROL.0 + ctl::PAGE_TABLE).set(l::PT);
        self.e
            .c(0)
            .i(I::I64Load(mem(CONTROL.0 + ctl::BUDGET, 3)))
            .set(l::BUDGET);
    }

    fn epilogue(&mut self) {
        self.spill();
        self.e.store_local_at(cpu::EIP, l::EIP);
        self.e
            .c(0)
            .get(l::BUDGET)
            .i(I::I64Store(mem(CONTROL.0 + ctl::BUDGET, 3)));
        self.e.store_local_at(CONTROL.0 + ctl::EXIT_CODE, l::CODE);
        self.e.get(l::CODE);
    }

    const LAZY: [(u32, u32); 5] = [
        (l::LOP, cpu::LAZY_OP),
        (l::LSIZE, cpu::LAZY_SIZE),
        (l::LRES, cpu::LAZY_RES),
        (l::LA, cpu::LAZY_A),
        (l::LB, cpu::LAZY_B),
    ];

    fn load_lazy(&mut self) {
        for (loc, off) in Self::LAZY {
            self.e.load_at(off).set(loc);
        }
    }

    /// Registers and the lazy record to CpuState.
    fn spill(&mut self) {
        for i in 0..8 {
            self.e.store_local_at(cpu::GPR + 4 * i, l::R0 + i);
        }
        for (loc, off) in Self::LAZY {
            self.e.store_local_at(off, loc);
        }
    }

    /// Writes a pending producer into the record locals (it stays pending:
    /// both agree afterwards).
    fn flush(&mut self) {
        if let Fs::Pending(op, size) = self.flags {
            self.e.set_c(l::LOP, op as u32).set_c(l::LSIZE, size);
            self.e.get(l::FRES).set(l::LRES);
            self.e.get(l::FA).set(l::LA).get(l::FB).set(l::LB);
        }
    }

    fn refund(&mut self, n: u32) {
        if n > 0 {
            self.e
                .get(l::BUDGET)
                .i(I::I64Const(i64::from(n)))
                .i(I::I64Add)
                .set(l::BUDGET);
        }
    }

    /// Leaves translated code from the current instruction (which counts
    /// as retired).
    fn exit(&mut self, code: Code, eip: Eip) {
        self.flush();
        self.refund(self.len - self.k - 1);
        match eip {
            Eip::Const(v) => {
                self.e.set_c(l::EIP, v);
            }
            Eip::Local(v) => {
                self.e.get(v).set(l::EIP);
            }
            Eip::Cpu => {
                self.e.load_at(cpu::EIP).set(l::EIP);
            }
        }
        match code {
            Code::Const(c) => self.e.set_c(l::CODE, c as u32),
            Code::Local(v) => self.e.get(v).set(l::CODE),
        };
        self.e.br(Label::Epilogue);
    }

    /// Continues at `target`: inside the module if it starts a block.
    fn goto(&mut self, target: u32) {
        match self.cfg.index.get(&target) {
            Some(&i) => {
                self.flush();
                self.e.set_c(l::PC, i).br(Label::Dispatch);
            }
            None => self.exit(Code::Const(ExitCode::Next), Eip::Const(target)),
        }
    }

    fn block(&mut self, b: &Block) {
        self.len = b.insns.len() as u32;
        self.flags = Fs::Unknown;
        let len = i64::from(self.len);
        // Charge the block; if the budget does not cover it, leave before
        // its first instruction.
        self.e
            .get(l::BUDGET)
            .i(I::I64Const(len))
            .i(I::I64Sub)
            .tee(l::BUDGET)
            .i(I::I64Const(0))
            .i(I::I64LtS)
            .if_();
        self.refund(self.len);
        self.e.set_c(l::EIP, b.start);
        self.e
            .set_c(l::CODE, ExitCode::Budget as u32)
            .br(Label::Epilogue)
            .end();
        for (k, ins) in b.insns.iter().enumerate() {
            self.k = k as u32;
            self.stats.insns += 1;
            self.insn(ins);
        }
        let last = b.insns.last().expect("non-empty block");
        if last.insn.flow_control() == iced_x86::FlowControl::Next
            && last.plan != Plan::StepStraddling
        {
            self.goto(last.insn.next_ip32());
        }
    }

    /// One instruction, interpreted or translated.
    fn insn(&mut self, ins: &Insn) {
        let insn = &ins.insn;
        if ins.plan.steps(ins.flags_live_after) {
            self.stats.stepped += 1;
            let touches = insn.rflags_modified() != 0 || ins.plan == Plan::StepStraddling;
            self.step(insn, touches);
            if insn.flow_control() != iced_x86::FlowControl::Next
                || ins.plan == Plan::StepStraddling
            {
                self.exit(Code::Const(ExitCode::Next), Eip::Cpu);
            }
            return;
        }
        self.native(ins);
    }

    /// Calls the interpreter for `insn`; leaves if it reports an exit.
    fn step(&mut self, insn: &Instruction, reload_flags: bool) {
        self.flush();
        self.spill();
        self.e.c(0).c(insn.ip32()).i(I::I32Store(mem(cpu::EIP, 2)));
        self.e.c(insn.ip32()).i(I::Call(FN_STEP)).set(l::V3);
        for i in 0..8 {
            self.e.load_at(cpu::GPR + 4 * i).set(l::R0 + i);
        }
        if reload_flags {
            self.load_lazy();
            self.flags = Fs::Unknown;
        }
        self.e.get(l::V3).if_();
        self.exit(Code::Local(l::V3), Eip::Cpu);
        self.e.end();
    }

    /// An instruction with memory accesses: `checks` branch to `Slow` when
    /// a fast path does not apply, `body` runs the instruction; otherwise
    /// the interpreter runs it and `after_step` fixes up locals.
    fn guarded(
        &mut self,
        insn: &Instruction,
        checks: impl FnOnce(&mut Self),
        body: impl FnOnce(&mut Self),
        after_step: impl FnOnce(&mut Self),
    ) {
        let before = self.flags;
        self.e.block(Label::Done).block(Label::Slow);
        checks(self);
        body(self);
        self.e.br(Label::Done).end();
        let after = self.flags;
        self.flags = before;
        self.step(insn, insn.rflags_modified() != 0);
        if let Fs::Pending(..) = after {
            // A producer with a static op: the interpreter recorded the
            // same op and size.
            self.e.load_at(cpu::LAZY_RES).set(l::FRES);
            self.e.load_at(cpu::LAZY_A).set(l::FA);
            self.e.load_at(cpu::LAZY_B).set(l::FB);
        }
        after_step(self);
        self.flags = after;
        self.e.end();
    }

    // ---- operands -------------------------------------------------------

    fn read_reg(&mut self, r: Register) {
        let (loc, part) = reg_info(r);
        self.e.get(loc);
        match part {
            1 => {
                self.e.c(0xffff).i(I::I32And);
            }
            2 => {
                self.e.c(0xff).i(I::I32And);
            }
            3 => {
                self.e.c(8).i(I::I32ShrU).c(0xff).i(I::I32And);
            }
            _ => {}
        }
    }

    /// Writes local `v` (already masked to the register's size) to `r`.
    fn write_reg(&mut self, r: Register, v: u32) {
        let (loc, part) = reg_info(r);
        let (keep, shift) = match part {
            0 => {
                self.e.get(v).set(loc);
                return;
            }
            1 => (0xffff_0000u32, 0),
            2 => (0xffff_ff00, 0),
            _ => (0xffff_00ff, 8),
        };
        self.e.get(loc).c(keep).i(I::I32And).get(v);
        if shift > 0 {
            self.e.c(shift).i(I::I32Shl);
        }
        self.e.i(I::I32Or).set(loc);
    }

    /// The effective address (with FS/GS base) into `ADDR`.
    fn ea(&mut self, insn: &Instruction) {
        self.e.c(insn.memory_displacement32());
        if insn.memory_base() != Register::None {
            self.read_reg(insn.memory_base());
            self.e.i(I::I32Add);
        }
        if insn.memory_index() != Register::None {
            self.read_reg(insn.memory_index());
            let sh = insn.memory_index_scale().trailing_zeros();
            if sh > 0 {
                self.e.c(sh).i(I::I32Shl);
            }
            self.e.i(I::I32Add);
        }
        let seg = match insn.memory_segment() {
            Register::FS => Some(cpu::FS_BASE),
            Register::GS => Some(cpu::GS_BASE),
            _ => None,
        };
        if let Some(off) = seg {
            self.e.load_at(off).i(I::I32Add);
        }
        self.e.set(l::ADDR);
    }

    /// The fast-path check of an `n`-byte access at guest address `addr`;
    /// on success the host (machine) address is in `host`.
    fn check(&mut self, addr: u32, host: u32, n: u32, write: bool) {
        self.e.get(addr).c(12).i(I::I32ShrU).c(2).i(I::I32Shl);
        self.e
            .get(l::PT)
            .i(I::I32Add)
            .i(I::I32Load(mem(0, 2)))
            .tee(l::PTE);
        if write {
            self.e
                .c(pte::W | pte::WATCHED)
                .i(I::I32And)
                .c(pte::W)
                .i(I::I32Ne);
        } else {
            self.e.c(pte::R).i(I::I32And).i(I::I32Eqz);
        }
        if n > 1 {
            self.e
                .get(addr)
                .c(0xfff)
                .i(I::I32And)
                .c(4096 - n)
                .i(I::I32GtU)
                .i(I::I32Or);
        }
        self.e.br_if(Label::Slow);
        self.e.get(l::PTE).c(pte::FRAME).i(I::I32And);
        self.e.get(addr).c(0xfff).i(I::I32And).i(I::I32Or).set(host);
    }

    fn load(&mut self, host: u32, size: u32) {
        self.e.get(host);
        match size {
            8 => self.e.i(I::I32Load8U(mem(0, 0))),
            16 => self.e.i(I::I32Load16U(mem(0, 1))),
            _ => self.e.i(I::I32Load(mem(0, 2))),
        };
    }

    fn store(&mut self, host: u32, size: u32, v: u32) {
        self.e.get(host).get(v);
        match size {
            8 => self.e.i(I::I32Store8(mem(0, 0))),
            16 => self.e.i(I::I32Store16(mem(0, 1))),
            _ => self.e.i(I::I32Store(mem(0, 2))),
        };
    }

    /// Pushes operand `op` (register, immediate, or memory at `HOST`).
    fn read_op(&mut self, insn: &Instruction, op: u32, size: u32) {
        match insn.op_kind(op) {
            OpKind::Register => self.read_reg(insn.op_register(op)),
            OpKind::Memory => self.load(l::HOST, size),
            _ => {
                self.e.c(insn.immediate(op) as u32 & mask(size));
            }
        }
    }

    /// Writes local `v` to operand `op` (register, or memory at `HOST`).
    fn write_op(&mut self, insn: &Instruction, op: u32, size: u32, v: u32) {
        match insn.op_kind(op) {
            OpKind::Register => self.write_reg(insn.op_register(op), v),
            _ => self.store(l::HOST, size, v),
        }
    }

    fn mem_op(insn: &Instruction) -> bool {
        (0..insn.op_count()).any(|i| insn.op_kind(i) == OpKind::Memory)
    }

    /// Runs `body` with the instruction's memory operand (if any) checked
    /// for an `n`-byte access, `write` for a store or read-modify-write.
    fn with_operand(
        &mut self,
        insn: &Instruction,
        size: u32,
        write: bool,
        body: impl FnOnce(&mut Self),
    ) {
        if Self::mem_op(insn) {
            self.guarded(
                insn,
                |g| {
                    g.ea(insn);
                    g.check(l::ADDR, l::HOST, size / 8, write);
                },
                body,
                |_| {},
            );
        } else {
            body(self);
        }
    }

    // ---- flags ----------------------------------------------------------

    /// Pushes the EFLAGS value of the lazy record locals.
    fn eval_record(&mut self) {
        for loc in [l::LOP, l::LSIZE, l::LRES, l::LA, l::LB] {
            self.e.get(loc);
        }
        self.e.load_at(cpu::EFLAGS).i(I::Call(FN_FLAGS));
    }

    /// Pushes one status flag (0 or 1) of a pending producer.
    fn pending_flag(&mut self, op: LazyOp, size: u32, f: u32) {
        let sb = size - 1;
        let e = &mut self.e;
        match f {
            flag::ZF => {
                e.get(l::FRES).i(I::I32Eqz);
            }
            flag::SF => {
                e.get(l::FRES).c(sb).i(I::I32ShrU).c(1).i(I::I32And);
            }
            flag::PF => {
                e.get(l::FRES).c(0xff).i(I::I32And).i(I::I32Popcnt);
                e.c(1).i(I::I32And).i(I::I32Eqz);
            }
            flag::CF => match op {
                LazyOp::Sub => {
                    e.get(l::FA).get(l::FB).i(I::I32LtU);
                }
                LazyOp::Add => {
                    e.get(l::FRES).get(l::FA).i(I::I32LtU);
                }
                // INC/DEC folded the carry into EFLAGS.
                LazyOp::Inc | LazyOp::Dec => {
                    e.load_at(cpu::EFLAGS).c(flag::CF).i(I::I32And);
                }
                _ => {
                    e.c(0);
                }
            },
            _ => match op {
                LazyOp::Sub => {
                    e.get(l::FA).get(l::FB).i(I::I32Xor);
                    e.get(l::FA).get(l::FRES).i(I::I32Xor).i(I::I32And);
                    e.c(sb).i(I::I32ShrU).c(1).i(I::I32And);
                }
                LazyOp::Add => {
                    e.get(l::FA).get(l::FRES).i(I::I32Xor);
                    e.get(l::FB).get(l::FRES).i(I::I32Xor).i(I::I32And);
                    e.c(sb).i(I::I32ShrU).c(1).i(I::I32And);
                }
                LazyOp::Inc => {
                    e.get(l::FA)
                        .c(u32::MAX)
                        .i(I::I32Xor)
                        .get(l::FRES)
                        .i(I::I32And);
                    e.c(sb).i(I::I32ShrU).c(1).i(I::I32And);
                }
                LazyOp::Dec => {
                    e.get(l::FRES)
                        .c(u32::MAX)
                        .i(I::I32Xor)
                        .get(l::FA)
                        .i(I::I32And);
                    e.c(sb).i(I::I32ShrU).c(1).i(I::I32And);
                }
                _ => {
                    e.c(0);
                }
            },
        }
    }

    /// Masks the i32 on the stack to `size` bits.
    fn mask_to(&mut self, size: u32) {
        if size < 32 {
            self.e.c(mask(size)).i(I::I32And);
        }
    }

    /// Sign-extends the i32 on the stack from `size` bits.
    fn sext(&mut self, size: u32) {
        match size {
            8 => {
                self.e.i(I::I32Extend8S);
            }
            16 => {
                self.e.i(I::I32Extend16S);
            }
            _ => {}
        }
    }

    /// CMP's conditions straight from the operands.
    fn sub_cond(&mut self, size: u32, c: u8) -> bool {
        let cmp = match c {
            1 => I::I32LtU,
            3 => I::I32LeU,
            6 => I::I32LtS,
            7 => I::I32LeS,
            _ => return false,
        };
        self.e.get(l::FA);
        if c >= 6 {
            self.sext(size);
        }
        self.e.get(l::FB);
        if c >= 6 {
            self.sext(size);
        }
        self.e.i(cmp);
        true
    }

    /// Pushes condition `cc` (0..15, as in Jcc) as 0 or 1.
    fn cond(&mut self, cc: u8) {
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
            Fs::Unknown => {
                self.eval_record();
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

    fn cc(insn: &Instruction) -> u8 {
        insn.condition_code() as u8 - 1
    }

    /// Pushes CF (0 or 1) of the current flag state.
    fn carry(&mut self) {
        match self.flags {
            Fs::Pending(op, size) => self.pending_flag(op, size, flag::CF),
            Fs::Unknown => {
                self.eval_record();
                self.e.c(1).i(I::I32And);
            }
        }
    }

    /// INC/DEC's record: CF carried into `eflags` (as
    /// `CpuState::set_lazy_incdec` does), then INC/DEC pending.
    fn incdec_flags(&mut self, op: LazyOp, size: u32) {
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
            Fs::Unknown => {
                self.e.get(l::LOP).if_();
                fold_cf(self);
                self.e.end();
            }
        }
        self.e
            .get(l::V2)
            .set(l::FRES)
            .get(l::V1)
            .set(l::FA)
            .set_c(l::FB, 1);
        self.flags = Fs::Pending(op, size);
    }

    // ---- instructions ---------------------------------------------------

    fn native(&mut self, ins: &Insn) {
        let insn = &ins.insn;
        let size = wax_cpu::interp::table::op_size(insn, 0);
        match ins.plan {
            Plan::Mov => self.mov(insn, size),
            Plan::Lea => self.lea(insn, size),
            Plan::Alu(op) => self.alu(insn, op, size),
            Plan::ClearReg => {
                self.e.set_c(l::FRES, 0).set_c(l::FA, 0).set_c(l::FB, 0);
                self.write_reg(insn.op0_register(), l::FRES);
                let logic = insn.mnemonic() == iced_x86::Mnemonic::Xor;
                let op = if logic { LazyOp::Logic } else { LazyOp::Sub };
                self.flags = Fs::Pending(op, size);
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
                g.e.set(l::FB).set_c(l::FA, 0);
                g.e.c(0).get(l::FB).i(I::I32Sub).c(mask(size)).i(I::I32And);
                g.e.set(l::FRES);
                g.write_op(insn, 0, size, l::FRES);
                g.flags = Fs::Pending(LazyOp::Sub, size);
            }),
            Plan::Not => self.with_operand(insn, size, true, |g| {
                g.read_op(insn, 0, size);
                g.e.c(mask(size)).i(I::I32Xor).set(l::V1);
                g.write_op(insn, 0, size, l::V1);
            }),
            Plan::Push => self.push(insn),
            Plan::Pop => self.pop(insn),
            Plan::Leave => self.leave(insn),
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
            Plan::Shift(op) => self.shift(insn, op, size),
            Plan::Imul => self.imul(insn, size),
            Plan::Step | Plan::StepStraddling => unreachable!("stepped plans are not native"),
        }
    }

    fn mov(&mut self, insn: &Instruction, size: u32) {
        let store = insn.op0_kind() == OpKind::Memory;
        self.with_operand(insn, size, store, |g| {
            g.read_op(insn, 1, size);
            g.e.set(l::V1);
            g.write_op(insn, 0, size, l::V1);
        });
    }

    fn lea(&mut self, insn: &Instruction, size: u32) {
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
    }

    fn alu(&mut self, insn: &Instruction, op: AluOp, size: u32) {
        let writes = !matches!(op, AluOp::Cmp | AluOp::Test);
        let dst_mem = insn.op0_kind() == OpKind::Memory;
        self.with_operand(insn, size, writes && dst_mem, |g| {
            if matches!(op, AluOp::Adc | AluOp::Sbb) {
                g.adc_sbb(insn, op == AluOp::Adc, size);
                return;
            }
            g.read_op(insn, 0, size);
            g.e.set(l::FA);
            g.read_op(insn, 1, size);
            g.e.set(l::FB);
            g.e.get(l::FA).get(l::FB);
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
            g.e.set(l::FRES);
            if writes {
                g.write_op(insn, 0, size, l::FRES);
            }
            g.flags = Fs::Pending(lazy_op_of(op), size);
        });
    }

    fn adc_sbb(&mut self, insn: &Instruction, adc: bool, size: u32) {
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
        self.write_op(insn, 0, size, l::LRES);
        self.flags = Fs::Unknown;
    }

    fn movx(&mut self, insn: &Instruction, size: u32) {
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

    fn xchg(&mut self, insn: &Instruction, size: u32) {
        self.with_operand(insn, size, true, |g| {
            g.read_op(insn, 0, size);
            g.e.set(l::V1);
            g.read_op(insn, 1, size);
            g.e.set(l::V2);
            g.write_op(insn, 0, size, l::V2);
            g.write_op(insn, 1, size, l::V1);
        });
    }

    fn shift(&mut self, insn: &Instruction, op: ShiftOp, size: u32) {
        let count = super::plan::shift_count(insn).expect("planned shift has a count");
        self.with_operand(insn, size, true, |g| {
            g.read_op(insn, 0, size);
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
            // Planned only where the flags are dead.
            g.flags = Fs::Unknown;
        });
    }

    fn imul(&mut self, insn: &Instruction, size: u32) {
        self.with_operand(insn, size, false, |g| {
            if insn.op_count() == 3 {
                g.read_op(insn, 1, size);
                g.read_op(insn, 2, size);
            } else {
                g.read_op(insn, 0, size);
                g.read_op(insn, 1, size);
            }
            g.e.i(I::I32Mul);
            g.mask_to(size);
            g.e.set(l::V1);
            g.write_reg(insn.op0_register(), l::V1);
            g.flags = Fs::Unknown;
        });
    }

    fn esp() -> u32 {
        l::R0 + 4
    }

    fn push(&mut self, insn: &Instruction) {
        self.guarded(
            insn,
            |g| {
                g.e.get(Self::esp()).c(4).i(I::I32Sub).set(l::ADDR);
                g.check(l::ADDR, l::HOST, 4, true);
            },
            |g| {
                g.read_op(insn, 0, 32);
                g.e.set(l::V1);
                g.store(l::HOST, 32, l::V1);
                g.e.get(l::ADDR).set(Self::esp());
            },
            |_| {},
        );
    }

    fn pop(&mut self, insn: &Instruction) {
        self.guarded(
            insn,
            |g| {
                g.e.get(Self::esp()).set(l::ADDR);
                g.check(l::ADDR, l::HOST, 4, false);
            },
            |g| {
                g.load(l::HOST, 32);
                g.e.set(l::V1);
                g.e.get(Self::esp()).c(4).i(I::I32Add).set(Self::esp());
                g.write_reg(insn.op0_register(), l::V1);
            },
            |_| {},
        );
    }

    fn leave(&mut self, insn: &Instruction) {
        let ebp = l::R0 + 5;
        self.guarded(
            insn,
            |g| {
                g.e.get(ebp).set(l::ADDR);
                g.check(l::ADDR, l::HOST, 4, false);
            },
            |g| {
                g.load(l::HOST, 32);
                g.e.set(l::V1);
                g.e.get(ebp).c(4).i(I::I32Add).set(Self::esp());
                g.e.get(l::V1).set(ebp);
            },
            |_| {},
        );
    }

    fn call_rel(&mut self, insn: &Instruction) {
        self.guarded(
            insn,
            |g| {
                g.e.get(Self::esp()).c(4).i(I::I32Sub).set(l::ADDR);
                g.check(l::ADDR, l::HOST, 4, true);
            },
            |g| {
                g.e.set_c(l::V1, insn.next_ip32());
                g.store(l::HOST, 32, l::V1);
                g.e.get(l::ADDR).set(Self::esp());
            },
            |_| {},
        );
        self.goto(insn.near_branch32());
    }

    fn ret(&mut self, insn: &Instruction) {
        let pop = 4 + if insn.op_count() == 1 {
            u32::from(insn.immediate16())
        } else {
            0
        };
        self.guarded(
            insn,
            |g| {
                g.e.get(Self::esp()).set(l::ADDR);
                g.check(l::ADDR, l::HOST, 4, false);
            },
            |g| {
                g.load(l::HOST, 32);
                g.e.set(l::V1);
                g.e.get(Self::esp()).c(pop).i(I::I32Add).set(Self::esp());
            },
            |g| {
                g.e.load_at(cpu::EIP).set(l::V1);
            },
        );
        self.exit(Code::Const(ExitCode::Next), Eip::Local(l::V1));
    }

    fn jmp_ind(&mut self, insn: &Instruction) {
        if Self::mem_op(insn) {
            self.guarded(
                insn,
                |g| {
                    g.ea(insn);
                    g.check(l::ADDR, l::HOST, 4, false);
                },
                |g| {
                    g.load(l::HOST, 32);
                    g.e.set(l::V1);
                },
                |g| {
                    g.e.load_at(cpu::EIP).set(l::V1);
                },
            );
        } else {
            self.read_reg(insn.op0_register());
            self.e.set(l::V1);
        }
        self.exit(Code::Const(ExitCode::Next), Eip::Local(l::V1));
    }

    fn call_ind(&mut self, insn: &Instruction) {
        let mem_target = Self::mem_op(insn);
        self.guarded(
            insn,
            |g| {
                if mem_target {
                    g.ea(insn);
                    g.check(l::ADDR, l::HOST, 4, false);
                }
                g.e.get(Self::esp()).c(4).i(I::I32Sub).set(l::ADDR2);
                g.check(l::ADDR2, l::HOST2, 4, true);
            },
            |g| {
                if mem_target {
                    g.load(l::HOST, 32);
                } else {
                    g.read_reg(insn.op0_register());
                }
                g.e.set(l::V1);
                g.e.set_c(l::V2, insn.next_ip32());
                g.store(l::HOST2, 32, l::V2);
                g.e.get(l::ADDR2).set(Self::esp());
            },
            |g| {
                g.e.load_at(cpu::EIP).set(l::V1);
            },
        );
        self.exit(Code::Const(ExitCode::Next), Eip::Local(l::V1));
    }
}
