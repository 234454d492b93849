//! Register-stack helpers of the fast paths: status, tags, TOP, register
//! addresses, memory checks.

use super::{B, C1, ES, REGS, STAT, STATUS, TAG, TAGW, TOP, TOPV};
use crate::translate::emit::{local as l, mem, Emitter, Label};
use crate::translate::gen::Gen;
use crate::translate::helpers;
use wasm_encoder::Instruction as I;

impl Gen<'_> {
    pub(super) fn load16(&mut self, at: u32) -> &mut Emitter {
        self.e.c(0).i(I::I32Load16U(mem(at, 1)))
    }

    /// Status = STAT & `keep`.
    pub(super) fn set_status(&mut self, keep: u32) {
        self.e.c(0).get(STAT).c(keep).i(I::I32And);
        self.e.i(I::I32Store16(mem(STATUS, 1)));
    }

    /// `dst` = machine address of ST(i).
    pub(super) fn reg_addr(&mut self, i: u32, dst: u32) {
        self.phys(i);
        self.e.c(4).i(I::I32Shl).c(REGS).i(I::I32Add).set(dst);
    }

    /// Pushes the physical register number of ST(i).
    pub(super) fn phys(&mut self, i: u32) {
        self.e.get(TOPV);
        if i != 0 {
            self.e.c(i).i(I::I32Add).c(7).i(I::I32And);
        }
    }

    /// Pushes ST(i)'s two tag bits.
    pub(super) fn tag_of(&mut self, i: u32) {
        self.e.get(TAGW);
        self.phys(i);
        self.e.c(1).i(I::I32Shl).i(I::I32ShrU).c(3).i(I::I32And);
    }

    pub(super) fn need_used(&mut self, i: u32) {
        self.tag_of(i);
        self.e.c(3).i(I::I32Eq).br_if(Label::X87Call);
    }

    pub(super) fn need_empty(&mut self, i: u32) {
        self.tag_of(i);
        self.e.c(3).i(I::I32Ne).br_if(Label::X87Call);
    }

    /// `HOST` = machine address of an `n`-byte access at `ADDR` inside
    /// one page the page table allows: checked already before the fast
    /// path (`x87_mem`), else here, taking the call if it fails.
    pub(super) fn need_mem(&mut self, n: u32, write: bool) {
        if let Some((checked, for_write)) = self.x87_mem {
            if checked >= n && (for_write || !write) {
                return;
            }
            debug_assert!(false, "an x87 fast path's access outgrew `mem_access`");
        }
        self.e.get(l::ADDR).get(l::PT);
        self.e.i(I::Call(helpers::index(4, write))).tee(l::HOST);
        self.e.i(I::I32Eqz);
        self.e
            .get(l::ADDR)
            .c(0xfff)
            .i(I::I32And)
            .c(4096 - n)
            .i(I::I32GtU);
        self.e.i(I::I32Or).br_if(Label::X87Call);
    }

    /// Copies a register value (10 bytes, pad written as zero) from the
    /// machine address in local `from` to the one in `to`.
    pub(super) fn copy_reg(&mut self, from: u32, to: u32) {
        self.e.get(to).get(from).i(I::I64Load(mem(0, 0)));
        self.e.i(I::I64Store(mem(0, 3)));
        self.e.get(to).get(from).i(I::I64Load16U(mem(8, 0)));
        self.e.i(I::I64Store(mem(8, 3)));
    }

    /// Sets (`empty`) or clears ST(i)'s tag bits in TAGW and the tag word.
    pub(super) fn mark(&mut self, i: u32, empty: bool) {
        self.e.c(3);
        self.phys(i);
        self.e.c(1).i(I::I32Shl).i(I::I32Shl);
        if empty {
            self.e.get(TAGW).i(I::I32Or);
        } else {
            self.e.c(-1i32 as u32).i(I::I32Xor).get(TAGW).i(I::I32And);
        }
        self.e.set(TAGW);
        self.e.c(0).get(TAGW).i(I::I32Store16(mem(TAG, 1)));
    }

    /// After writing the new ST(0) at ST(7)'s register: a push of a value
    /// that raised nothing (`push_loaded` with no exception).
    pub(super) fn push_tail(&mut self) {
        self.mark(7, false);
        self.e.c(0);
        self.phys(7);
        self.e.i(I::I32Store16(mem(TOP, 1)));
        self.set_status(!(C1 | ES | B));
    }

    /// Marks ST(0) empty and increments TOP.
    pub(super) fn pop_tail(&mut self) {
        self.mark(0, true);
        self.e.c(0);
        self.phys(1);
        self.e.i(I::I32Store16(mem(TOP, 1)));
    }
}
