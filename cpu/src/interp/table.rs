//! The dispatch table: which handler executes a decoded instruction.
//!
//! Each instruction group module has a `lookup` that maps an iced
//! instruction (by mnemonic and operand size, or by exact `Code` where the
//! forms differ) to a monomorphised handler. The rows live next to the
//! semantics they select, so a reader can check one group against the SDM
//! at a time. Anything no group claims raises #UD.

use super::ctx::{ud, Ctx, Flow, Handler};
use super::{alu, bcd, bits, control, misc, muldiv, shift, sse, stack, string, x87};
use crate::interp::decoded::Decoded;
use iced_x86::{Instruction, Mnemonic, OpKind};

/// Picks the handler for an instruction.
pub fn handler(insn: &Instruction) -> Handler {
    if insn.is_invalid() {
        return undefined;
    }
    if insn.has_lock_prefix() && !lockable(insn) {
        return undefined;
    }
    let found = alu::lookup(insn)
        .or_else(|| control::lookup(insn))
        .or_else(|| shift::lookup(insn))
        .or_else(|| muldiv::lookup(insn))
        .or_else(|| bits::lookup(insn))
        .or_else(|| bcd::lookup(insn))
        .or_else(|| string::lookup(insn))
        .or_else(|| stack::lookup(insn))
        .or_else(|| misc::lookup(insn))
        .or_else(|| x87::lookup(insn))
        .or_else(|| sse::lookup(insn));
    found.unwrap_or(undefined)
}

/// #UD for undefined or unimplemented opcodes (SIGILL in the guest).
fn undefined(_: &mut Ctx<'_, '_>, _: &Decoded) -> Flow {
    ud()
}

/// LOCK is only valid on these instructions with a memory destination.
fn lockable(insn: &Instruction) -> bool {
    use Mnemonic::*;
    insn.op0_kind() == OpKind::Memory
        && matches!(
            insn.mnemonic(),
            Add | Adc
                | And
                | Btc
                | Btr
                | Bts
                | Cmpxchg
                | Cmpxchg8b
                | Dec
                | Inc
                | Neg
                | Not
                | Or
                | Sbb
                | Sub
                | Xor
                | Xadd
                | Xchg
        )
}

/// Width in bits of operand `op` (a register or memory operand).
pub fn op_size(insn: &Instruction, op: u32) -> u32 {
    match insn.op_kind(op) {
        OpKind::Register => insn.op_register(op).size() as u32 * 8,
        OpKind::Memory => insn.memory_size().size() as u32 * 8,
        OpKind::Immediate8 => 8,
        OpKind::Immediate16 => 16,
        _ => 32,
    }
}

/// Instantiates a handler generic over operand size (last const
/// parameter) for the size of operand 0.
#[macro_export]
macro_rules! by_size {
    ($insn:expr, $f:ident $(, $c:expr)*) => {
        match $crate::interp::table::op_size($insn, 0) {
            8 => $f::<$($c,)* 8> as $crate::interp::Handler,
            16 => $f::<$($c,)* 16>,
            _ => $f::<$($c,)* 32>,
        }
    };
}

/// Instantiates a handler generic over a condition (first const
/// parameter, the x86 condition number 0..15 of `control::cc`), so the
/// flag test is compiled for each condition rather than chosen at run
/// time. Further const parameters follow the condition.
#[macro_export]
macro_rules! by_cc {
    ($insn:expr, $f:ident $(, $c:expr)*) => {
        match $crate::interp::control::cc($insn) {
            0 => $f::<0 $(, $c)*> as $crate::interp::Handler,
            1 => $f::<1 $(, $c)*>,
            2 => $f::<2 $(, $c)*>,
            3 => $f::<3 $(, $c)*>,
            4 => $f::<4 $(, $c)*>,
            5 => $f::<5 $(, $c)*>,
            6 => $f::<6 $(, $c)*>,
            7 => $f::<7 $(, $c)*>,
            8 => $f::<8 $(, $c)*>,
            9 => $f::<9 $(, $c)*>,
            10 => $f::<10 $(, $c)*>,
            11 => $f::<11 $(, $c)*>,
            12 => $f::<12 $(, $c)*>,
            13 => $f::<13 $(, $c)*>,
            14 => $f::<14 $(, $c)*>,
            _ => $f::<15 $(, $c)*>,
        }
    };
}
