//! One decoded instruction as the interpreter keeps it: iced's
//! `Instruction`, the handler chosen for it, and what the handlers would
//! otherwise work out from the `Instruction` each time it runs.
//!
//! A `Decoded` dereferences to its `Instruction`, so handlers read
//! operands through iced's accessors; the effective address of the
//! memory operand, needed by most of them, comes from [`Ea`], reduced at
//! decode time to two register numbers, a shift, a displacement, a mask
//! and a segment; the first immediate operand is kept ready too.

use super::ctx::Handler;
use crate::state::seg;
use iced_x86::{Instruction, OpKind, Register};
use std::ops::Deref;

/// One decoded instruction and the handler that executes it.
#[derive(Clone, Copy)]
pub struct Decoded {
    pub insn: Instruction,
    pub handler: Handler,
    /// The memory operand's address form (all zero without one).
    pub ea: Ea,
    /// The first immediate operand, sign-extended as iced's `immediate`
    /// gives it (0 without one). ENTER's second one is read from `insn`.
    pub imm: u32,
}

impl Decoded {
    /// `insn` with `handler`, its address form worked out.
    pub fn new(insn: Instruction, handler: Handler) -> Decoded {
        let imm = (0..insn.op_count())
            .find(|&i| is_immediate(insn.op_kind(i)))
            .map_or(0, |i| insn.immediate(i) as u32);
        Decoded {
            ea: Ea::of(&insn),
            imm,
            insn,
            handler,
        }
    }
}

impl Deref for Decoded {
    type Target = Instruction;
    #[inline(always)]
    fn deref(&self) -> &Instruction {
        &self.insn
    }
}

/// The effective address of a memory operand: `disp + base + (index <<
/// shift)`, cut to `mask` (16-bit addressing), plus the base of `seg`
/// when that is FS or GS (the others are flat for user code).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ea {
    pub disp: u32,
    pub mask: u32,
    /// GPR numbers (`state::reg`), or [`Ea::NONE`].
    pub base: u8,
    pub index: u8,
    pub shift: u8,
    /// `state::seg::FS` or `GS`, or [`Ea::NONE`].
    pub seg: u8,
}

impl Ea {
    /// No register or segment.
    pub const NONE: u8 = u8::MAX;

    /// The form of `insn`'s memory operand (the zero form without one).
    pub fn of(insn: &Instruction) -> Ea {
        let has_mem = (0..insn.op_count()).any(|i| insn.op_kind(i) == OpKind::Memory);
        if !has_mem {
            return Ea::default();
        }
        let base = insn.memory_base();
        let index = insn.memory_index();
        let a16 = insn.memory_displ_size() == 2 || base.size() == 2 || index.size() == 2;
        Ea {
            disp: insn.memory_displacement32(),
            mask: if a16 { 0xffff } else { u32::MAX },
            base: gpr(base),
            index: gpr(index),
            shift: insn.memory_index_scale().trailing_zeros() as u8,
            seg: match insn.memory_segment() {
                Register::FS => seg::FS as u8,
                Register::GS => seg::GS as u8,
                _ => Ea::NONE,
            },
        }
    }
}

/// Whether an operand is an immediate (what iced's `immediate` reads).
fn is_immediate(k: OpKind) -> bool {
    use OpKind::*;
    matches!(
        k,
        Immediate8
            | Immediate8_2nd
            | Immediate16
            | Immediate32
            | Immediate64
            | Immediate8to16
            | Immediate8to32
            | Immediate8to64
            | Immediate32to64
    )
}

/// The GPR number of a 16- or 32-bit address register, or [`Ea::NONE`].
/// The 16-bit ones read as the whole register: the sum is cut to 16 bits
/// anyway.
fn gpr(r: Register) -> u8 {
    if r.is_gpr32() {
        (r as usize - Register::EAX as usize) as u8
    } else if r.is_gpr16() {
        (r as usize - Register::AX as usize) as u8
    } else {
        Ea::NONE
    }
}
