//! MMX, SSE, SSE2, SSE3, SSSE3 and the SHA extensions.
//!
//! A packed operand is handled as a `u128` whatever its width: XMM
//! registers and 128-bit memory use all of it, MMX registers and 64-bit
//! memory the low half. Integer instructions are lane-wise functions of
//! that value (`int.rs`, `shuf.rs`); floating point goes through a small
//! soft-float (`soft.rs`) so that every MXCSR rounding mode, DAZ/FTZ and
//! the exception flags match the hardware bit for bit on every host,
//! wasm32 included.
//!
//! Only instructions of the sets above are claimed (by iced's CPUID
//! feature list), so SSE4, AVX, AES-NI and 3DNow! encodings stay #UD, as
//! CPUID promises.
//!
//! MMX registers alias the significands of the x87 registers. Any MMX
//! instruction puts the x87 unit in "MMX mode" (TOP = 0, every tag valid)
//! and a write sets the register's sign/exponent to all ones, as the SDM
//! describes (Vol. 1, 9.5); EMMS empties the tag word.

mod approx;
mod approx_table;
mod cvt;
mod fp;
mod int;
mod mov;
mod sha;
mod shuf;
mod soft;
#[cfg(test)]
mod tests;

use super::ctx::{gp, Ctx, Flow, Handler};
use crate::addr::GuestAddr;
use crate::interp::decoded::Decoded;
use iced_x86::{CpuidFeature, EncodingKind, Instruction, OpKind, Register};

/// Selects handlers of this group.
pub fn lookup(insn: &Instruction) -> Option<Handler> {
    if insn.encoding() != EncodingKind::Legacy || !in_our_sets(insn) {
        return None;
    }
    mov::lookup(insn)
        .or_else(|| int::lookup(insn))
        .or_else(|| shuf::lookup(insn))
        .or_else(|| fp::lookup(insn))
        .or_else(|| cvt::lookup(insn))
        .or_else(|| sha::lookup(insn))
}

/// True when every CPUID feature the instruction needs is one we report.
fn in_our_sets(insn: &Instruction) -> bool {
    use CpuidFeature::*;
    let f = insn.cpuid_features();
    !f.is_empty()
        && f.iter().all(|c| {
            matches!(c, MMX | SSE | SSE2 | SSE3 | SSSE3) || matches!(c, SHA) && crate::cpuid::SHA
        })
}

/// True if `insn`'s first operand is an MMX register (the MMX form).
fn is_mmx(insn: &Instruction, op: u32) -> bool {
    insn.op_kind(op) == OpKind::Register && insn.op_register(op).is_mm()
}

/// Bytes of the packed operands: 8 for MMX, 16 for XMM.
const fn width(mmx: bool) -> u32 {
    if mmx {
        8
    } else {
        16
    }
}

/// Keeps the low `bytes` bytes.
#[inline(always)]
fn trunc(v: u128, bytes: u32) -> u128 {
    if bytes >= 16 {
        v
    } else {
        v & ((1u128 << (bytes * 8)) - 1)
    }
}

impl Ctx<'_, '_> {
    fn xmm(&self, n: usize) -> u128 {
        let x = self.cpu.xmm[n];
        (0..4).fold(0u128, |v, i| v | u128::from(x[i]) << (32 * i))
    }

    fn set_xmm(&mut self, n: usize, v: u128) {
        for i in 0..4 {
            self.cpu.xmm[n][i] = (v >> (32 * i)) as u32;
        }
    }

    /// Enters MMX mode: TOP = 0 and all registers valid.
    fn mmx_enter(&mut self) {
        self.cpu.x87.top = 0;
        self.cpu.x87.tag = 0;
    }

    fn mm(&mut self, n: usize) -> u64 {
        self.mmx_enter();
        self.cpu.x87.regs[n].signif
    }

    fn set_mm(&mut self, n: usize, v: u64) {
        self.mmx_enter();
        self.cpu.x87.regs[n].signif = v;
        self.cpu.x87.regs[n].sign_exp = 0xffff;
    }

    /// Reads an XMM, MMX or 32-bit general register.
    fn vreg(&mut self, r: Register) -> u128 {
        if r.is_xmm() {
            self.xmm(r.number())
        } else if r.is_mm() {
            u128::from(self.mm(r.number()))
        } else {
            u128::from(self.reg(r))
        }
    }

    /// Writes an XMM, MMX or 32-bit general register (truncating `v`).
    fn set_vreg(&mut self, r: Register, v: u128) {
        if r.is_xmm() {
            self.set_xmm(r.number(), v);
        } else if r.is_mm() {
            self.set_mm(r.number(), v as u64);
        } else {
            self.set_reg(r, v as u32);
        }
    }

    /// Reads `bytes` (1..=16, a power of two) of guest memory.
    fn read_vec(&mut self, a: GuestAddr, bytes: u32) -> Flow<u128> {
        Ok(match bytes {
            1 => u128::from(self.mem.read_u8(a)?),
            2 => u128::from(self.mem.read_u16(a)?),
            4 => u128::from(self.mem.read_u32(a)?),
            8 => u128::from(self.mem.read_u64(a)?),
            _ => self.mem.read_u128(a)?,
        })
    }

    /// Writes the low `bytes` of `v` to guest memory.
    fn write_vec(&mut self, a: GuestAddr, bytes: u32, v: u128) -> Flow {
        match bytes {
            1 => self.mem.write_u8(a, v as u8)?,
            2 => self.mem.write_u16(a, v as u16)?,
            4 => self.mem.write_u32(a, v as u32)?,
            8 => self.mem.write_u64(a, v as u64)?,
            _ => self.mem.write_u128(a, v)?,
        }
        Ok(())
    }

    /// The address of a memory operand of `bytes`, checking the 16-byte
    /// alignment legacy SSE demands of 128-bit operands when `aligned`.
    fn vec_ea(&self, insn: &Decoded, bytes: u32, aligned: bool) -> Flow<GuestAddr> {
        let a = self.ea(insn);
        if aligned && bytes == 16 && a.0 & 15 != 0 {
            return gp();
        }
        Ok(a)
    }

    /// Reads operand `op` (register or memory of the instruction's memory
    /// size); a 128-bit memory operand must be aligned.
    fn src(&mut self, insn: &Decoded, op: u32) -> Flow<u128> {
        self.src_with(insn, op, true)
    }

    /// Like [`Ctx::src`] without the alignment check (MOVUPS, LDDQU, ...).
    fn src_unaligned(&mut self, insn: &Decoded, op: u32) -> Flow<u128> {
        self.src_with(insn, op, false)
    }

    fn src_with(&mut self, insn: &Decoded, op: u32, aligned: bool) -> Flow<u128> {
        match insn.op_kind(op) {
            OpKind::Register => Ok(self.vreg(insn.op_register(op))),
            OpKind::Memory => {
                let bytes = insn.memory_size().size() as u32;
                let a = self.vec_ea(insn, bytes, aligned)?;
                self.read_vec(a, bytes)
            }
            _ => Ok(u128::from(insn.immediate(op))),
        }
    }

    /// Writes operand `op` (register, or memory of the memory size).
    fn store(&mut self, insn: &Decoded, op: u32, v: u128, aligned: bool) -> Flow {
        match insn.op_kind(op) {
            OpKind::Register => {
                self.set_vreg(insn.op_register(op), v);
                Ok(())
            }
            _ => {
                let bytes = insn.memory_size().size() as u32;
                let a = self.vec_ea(insn, bytes, aligned)?;
                self.write_vec(a, bytes, v)
            }
        }
    }

    /// The first operand, a register.
    fn dst(&mut self, insn: &Decoded) -> u128 {
        self.vreg(insn.op0_register())
    }

    /// Writes the first operand, a register.
    fn set_dst(&mut self, insn: &Decoded, v: u128) {
        self.set_vreg(insn.op0_register(), v);
    }
}
