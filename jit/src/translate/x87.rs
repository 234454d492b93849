//! x87 instructions: one call to `wax.fpu(op, ea)` each (see
//! `crate::x87`), with the memory operand's address computed here and only
//! the registers the form uses passed through CpuState.

use super::emit::{local as l, mem};
use super::gen::{Code, Eip, Fs, Gen, FN_FPU, LAZY};
use iced_x86::Instruction;
use wasm_encoder::Instruction as I;
use wax_cpu::abi::cpu;

impl Gen<'_> {
    pub(super) fn x87(&mut self, insn: &Instruction, op: u32) {
        let Some((f, _)) = crate::x87::lookup(op) else {
            // Not a form `plan` gives; the interpreter still runs it right.
            self.step(insn, true);
            return;
        };
        if f.mem {
            self.ea(insn);
        }
        // EIP for the handler (and for the exit if it faults).
        self.e.c(0).c(insn.ip32()).i(I::I32Store(mem(cpu::EIP, 2)));
        if f.reads_flags || f.writes_flags {
            for (loc, off) in LAZY {
                self.e.store_local_at(off, loc);
            }
        }
        if f.writes_ax {
            self.e.store_local_at(cpu::GPR, l::R0);
        }
        self.e.c(op);
        if f.mem {
            self.e.get(l::ADDR);
        } else {
            self.e.c(0);
        }
        self.e.i(I::Call(FN_FPU)).set(l::V3);
        if f.writes_ax {
            self.e.load_at(cpu::GPR).set(l::R0);
        }
        if f.writes_flags {
            for (loc, off) in LAZY {
                self.e.load_at(off).set(loc);
            }
            // FCOMI and FUCOMI(P) leave ZF/PF/CF in `eflags`, op None.
            self.flags = Fs::Eager;
        }
        self.e.get(l::V3).if_();
        self.exit(Code::Local(l::V3), Eip::Cpu);
        self.e.end();
    }
}
