//! Operand access for generated code: guest registers in locals, effective
//! addresses, and the inline page-table fast path of every load and store.

use super::emit::{local as l, mem};
use super::gen::Gen;
use iced_x86::{Instruction, OpKind, Register};
use wasm_encoder::Instruction as I;
use wax_cpu::abi::{cpu, pte};

pub fn mask(size: u32) -> u32 {
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

impl Gen<'_> {
    pub(super) fn read_reg(&mut self, r: Register) {
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
    pub(super) fn write_reg(&mut self, r: Register, v: u32) {
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
    pub(super) fn ea(&mut self, insn: &Instruction) {
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
    /// on success the host (machine) address is in `host`. Otherwise
    /// translated code leaves before the instruction and the interpreter
    /// runs it (faults, first touch, copy-on-write, page crossing, stores
    /// into watched code): checks come before any state change.
    pub(super) fn check(&mut self, addr: u32, host: u32, n: u32, write: bool) {
        if !self.inline_checks {
            let f = super::helpers::index(n, write);
            self.e.get(addr).get(l::PT).i(I::Call(f)).tee(host);
            self.e.i(I::I32Eqz).if_();
            self.exit_before();
            self.e.end();
            return;
        }
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
        self.e.if_();
        self.exit_before();
        self.e.end();
        self.e.get(l::PTE).c(pte::FRAME).i(I::I32And);
        self.e.get(addr).c(0xfff).i(I::I32And).i(I::I32Or).set(host);
    }

    pub(super) fn load(&mut self, host: u32, size: u32) {
        self.e.get(host);
        match size {
            8 => self.e.i(I::I32Load8U(mem(0, 0))),
            16 => self.e.i(I::I32Load16U(mem(0, 1))),
            _ => self.e.i(I::I32Load(mem(0, 2))),
        };
    }

    pub(super) fn store(&mut self, host: u32, size: u32, v: u32) {
        self.e.get(host).get(v);
        match size {
            8 => self.e.i(I::I32Store8(mem(0, 0))),
            16 => self.e.i(I::I32Store16(mem(0, 1))),
            _ => self.e.i(I::I32Store(mem(0, 2))),
        };
    }

    /// Pushes operand `op` (register, immediate, or memory at `HOST`).
    pub(super) fn read_op(&mut self, insn: &Instruction, op: u32, size: u32) {
        match insn.op_kind(op) {
            OpKind::Register => self.read_reg(insn.op_register(op)),
            OpKind::Memory => self.load(l::HOST, size),
            _ => {
                self.e.c(insn.immediate(op) as u32 & mask(size));
            }
        }
    }

    /// Writes local `v` to operand `op` (register, or memory at `HOST`).
    pub(super) fn write_op(&mut self, insn: &Instruction, op: u32, size: u32, v: u32) {
        match insn.op_kind(op) {
            OpKind::Register => self.write_reg(insn.op_register(op), v),
            _ => self.store(l::HOST, size, v),
        }
    }

    pub(super) fn mem_op(insn: &Instruction) -> bool {
        (0..insn.op_count()).any(|i| insn.op_kind(i) == OpKind::Memory)
    }

    /// Runs `body` with the instruction's memory operand (if any) checked
    /// for an `n`-byte access, `write` for a store or read-modify-write.
    pub(super) fn with_operand(
        &mut self,
        insn: &Instruction,
        size: u32,
        write: bool,
        body: impl FnOnce(&mut Self),
    ) {
        if Self::mem_op(insn) {
            self.ea(insn);
            self.check(l::ADDR, l::HOST, size / 8, write);
        }
        body(self);
    }

    /// Masks the i32 on the stack to `size` bits.
    pub(super) fn mask_to(&mut self, size: u32) {
        if size < 32 {
            self.e.c(mask(size)).i(I::I32And);
        }
    }

    /// Sign-extends the i32 on the stack from `size` bits.
    pub(super) fn sext(&mut self, size: u32) {
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
}
