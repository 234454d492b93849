//! What Wax does where the architecture leaves a result undefined.
//!
//! The SDM (and the APM) leave some flags, and a few results, undefined.
//! Real CPUs then do different things: Intel and AMD differ, and so do
//! generations of one vendor. Wax reports GenuineIntel, and it must behave
//! the same on every host, so it makes one choice per case, written down
//! here, and never copies whatever the build host does. The interpreter's
//! handlers compute those bits with the functions below; the JIT must
//! produce the same bits; the differential tests against the host CPU call
//! [`of`] to learn which bits of an outcome are undefined, compare every
//! other bit strictly, and compare the undefined ones only in strict mode
//! (`WAX_TEST_STRICT=1`).
//!
//! The choices are simple and Intel-like (what Intel documents or what
//! Intel CPUs are reported to do), cheap for a JIT: most are "the formula
//! the SDM gives for the defined case, applied to every case", or zero.
//!
//! | Instructions | Undefined (SDM) | Wax's choice |
//! |---|---|---|
//! | AND, OR, XOR, TEST | AF | AF = 0 |
//! | SHL/SAL, SHR, SAR, masked count ≥ 1 | AF | AF = 0 |
//! | SHL/SAL, SHR, SAR, masked count > 1 | OF | the count-1 rule on the result: SHL OF = MSB(res) ^ CF; SHR OF = the two top bits of res differ (so 0); SAR OF = 0 |
//! | SHL, SHR, count ≥ operand size (8/16-bit) | CF | the last bit shifted out: 0 once the count exceeds the size |
//! | ROL, ROR, RCL, RCR, masked count > 1 | OF | the count-1 rule on the result: ROL/RCL OF = MSB(res) ^ CF; ROR/RCR OF = the two top bits of res differ |
//! | SHLD, SHRD, count ≥ 1 | AF | AF = 0 |
//! | SHLD, SHRD, count > 1 | OF | SHLD OF = MSB(res) ^ CF; SHRD OF = the two top bits of res differ |
//! | SHLD, SHRD r/m16, count 17..31 | the result and all six flags | a 48-bit shift of dst:src:dst (P6-family Intel); CF the last bit out of it; flags as above |
//! | MUL, IMUL (all forms) | SF, ZF, AF, PF | SF = MSB and PF = parity of the low half (the value written to AL/AX/EAX or the destination), ZF = 0, AF = 0 (as reported for Intel CPUs) |
//! | DIV, IDIV | CF, OF, SF, ZF, AF, PF | unchanged |
//! | DAA, DAS | OF | OF of the 8-bit addition (DAS: subtraction) of the whole correction to AL |
//! | AAA, AAS | OF, SF, ZF, PF | the flags of the 16-bit addition AX + 0x106 (AAS: subtraction; + 0 without adjustment), before AL's high nibble is cleared |
//! | AAM | CF, AF, OF | 0 |
//! | AAD | CF, AF, OF | the flags of the 8-bit addition AL + AH * imm8 |
//! | BT, BTS, BTR, BTC | OF, SF, AF, PF | unchanged |
//! | BSF, BSR (and the TZCNT/LZCNT encodings, which run as BSF/BSR) | CF, OF, SF, AF, PF | those of a logic operation on the index written (the source is 0: on 0): CF = OF = SF = AF = 0, PF = parity |
//! | BSF, BSR, source 0 | the destination | unchanged (what Intel and AMD CPUs do; AMD documents it) |
//! | BSWAP r16 | the result | 0 |
//! | REPE/REPNE CMPS and SCAS that fault part way | the status flags in the saved context (not specified: vendors differ) | those of the last completed comparison (AMD EPYC hosts report these; an Intel Xeon host reported the flags from before the instruction) |
//!
//! Masked bits are only ever the ones [`of`] names (and, in the tests, what
//! a later instruction computes from them). Results the SDM defines are
//! never masked, also where hosts are known to agree.

use crate::flags::{parity, sign_bit, size_mask};
use crate::state::flag;
use iced_x86::{Instruction, Mnemonic, OpKind};

/// The undefined parts of one execution of an instruction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Undefined {
    /// EFLAGS status bits whose value is Wax's choice.
    pub flags: u32,
    /// Bits of operand 0 (the destination) whose value is Wax's choice.
    pub dest: u32,
}

impl Undefined {
    pub const NONE: Undefined = Undefined { flags: 0, dest: 0 };

    fn flags(flags: u32) -> Undefined {
        Undefined { flags, dest: 0 }
    }
}

/// Operand size in bits of an instruction's first operand (8, 16 or 32).
fn op_size(insn: &Instruction) -> u32 {
    match insn.op0_kind() {
        OpKind::Register => insn.op0_register().size() as u32 * 8,
        _ => insn.memory_size().size() as u32 * 8,
    }
}

/// The undefined flags and destination bits of `insn`, given its operand
/// values: `operand(i)` returns operand `i` (a register, an immediate or
/// the memory it addresses). Only shift counts and BSF/BSR sources are
/// asked for.
pub fn of(insn: &Instruction, operand: &mut dyn FnMut(u32) -> u32) -> Undefined {
    use Mnemonic::*;
    let f = flag::CF | flag::PF | flag::AF | flag::ZF | flag::SF | flag::OF;
    match insn.mnemonic() {
        And | Or | Xor | Test => Undefined::flags(flag::AF),
        Shl | Sal | Shr | Sar => shift(insn, operand(1) & 0x1f),
        Rol | Ror | Rcl | Rcr => match operand(1) & 0x1f {
            0 | 1 => Undefined::NONE,
            _ => Undefined::flags(flag::OF),
        },
        Shld | Shrd => double_shift(op_size(insn), operand(2) & 0x1f),
        Mul | Imul => Undefined::flags(flag::SF | flag::ZF | flag::AF | flag::PF),
        Div | Idiv => Undefined::flags(f),
        Daa | Das => Undefined::flags(flag::OF),
        Aaa | Aas => Undefined::flags(flag::OF | flag::SF | flag::ZF | flag::PF),
        Aam | Aad => Undefined::flags(flag::CF | flag::AF | flag::OF),
        Bt | Bts | Btr | Btc => Undefined::flags(flag::OF | flag::SF | flag::AF | flag::PF),
        Bsf | Bsr | Tzcnt | Lzcnt => Undefined {
            flags: f & !flag::ZF,
            dest: if operand(1) == 0 {
                size_mask(op_size(insn))
            } else {
                0
            },
        },
        Bswap if op_size(insn) == 16 => Undefined {
            flags: 0,
            dest: 0xffff,
        },
        _ => Undefined::NONE,
    }
}

/// The undefined flags of an instruction that faulted (the signal's
/// saved context shows them), beyond what [`of`] says for a completed one:
/// a repeated CMPS/SCAS interrupted part way through (see the table).
pub fn of_fault(insn: &Instruction) -> Undefined {
    use Mnemonic::*;
    let repeated = insn.has_rep_prefix() || insn.has_repne_prefix();
    match insn.mnemonic() {
        Cmpsb | Cmpsw | Cmpsd | Scasb | Scasw | Scasd if repeated => Undefined::flags(flag::STATUS),
        _ => Undefined::NONE,
    }
}

/// SHL/SAL/SHR/SAR by a masked count.
fn shift(insn: &Instruction, count: u32) -> Undefined {
    let size = op_size(insn);
    let mut flags = match count {
        0 => return Undefined::NONE,
        1 => flag::AF,
        _ => flag::AF | flag::OF,
    };
    if count >= size && insn.mnemonic() != Mnemonic::Sar {
        flags |= flag::CF;
    }
    Undefined::flags(flags)
}

/// SHLD/SHRD by a masked count.
fn double_shift(size: u32, count: u32) -> Undefined {
    match count {
        0 => Undefined::NONE,
        1 => Undefined::flags(flag::AF),
        c if c > size => Undefined {
            flags: flag::STATUS,
            dest: size_mask(size),
        },
        _ => Undefined::flags(flag::AF | flag::OF),
    }
}

/// A flag bit when `cond` holds.
#[inline(always)]
fn bit(cond: bool, f: u32) -> u32 {
    if cond {
        f
    } else {
        0
    }
}

/// AF after AND/OR/XOR/TEST, shifts and rotates, SHLD/SHRD.
pub const AF: u32 = 0;

/// OF of a left shift or rotate (SHL, ROL, RCL, SHLD) for every count:
/// the SDM's count-1 rule, MSB(result) ^ CF.
#[inline(always)]
pub fn left_of(res: u32, cf: bool, size: u32) -> bool {
    (res & sign_bit(size) != 0) != cf
}

/// OF of a right shift or rotate (SHR, ROR, RCR, SHRD) for every count:
/// whether the two top bits of the result differ (for a count of 1 that is
/// the SDM's rule: the sign of the operand changed).
#[inline(always)]
pub fn right_of(res: u32, size: u32) -> bool {
    (res ^ (res << 1)) & sign_bit(size) != 0
}

/// The status flags MUL and IMUL write, `overflow` being their defined CF
/// and OF, `lo` the low half of the product (what the destination gets).
#[inline(always)]
pub fn mul_flags(lo: u32, size: u32, overflow: bool) -> u32 {
    bit(overflow, flag::CF | flag::OF)
        | bit(lo & sign_bit(size) != 0, flag::SF)
        | bit(parity(lo), flag::PF)
}

/// The status flags BSF and BSR write: ZF says the source was 0; the others
/// are those of a logic operation on `index` (the value written, or 0).
#[inline(always)]
pub fn bit_scan_flags(index: u32, source_zero: bool) -> u32 {
    bit(source_zero, flag::ZF) | bit(parity(index), flag::PF)
}

/// SHLD/SHRD of a 16-bit operand by 17..=31: the result and CF of the
/// 48-bit shift of dst:src:dst (left for SHLD, right for SHRD).
pub fn double_shift16_past_size(dst: u32, src: u32, count: u32, left: bool) -> (u32, bool) {
    let (d, s) = (u64::from(dst & 0xffff), u64::from(src & 0xffff));
    let wide = d << 32 | s << 16 | d;
    if left {
        let res = ((wide << count) >> 32) as u32 & 0xffff;
        (res, wide >> (48 - count) & 1 != 0)
    } else {
        let res = (wide >> count) as u32 & 0xffff;
        (res, wide >> (count - 1) & 1 != 0)
    }
}

/// Converts iced's `RflagsBits` to EFLAGS status bits.
pub fn from_iced_rflags(bits: u32) -> u32 {
    use iced_x86::RflagsBits as R;
    [
        (R::CF, flag::CF),
        (R::PF, flag::PF),
        (R::AF, flag::AF),
        (R::ZF, flag::ZF),
        (R::SF, flag::SF),
        (R::OF, flag::OF),
    ]
    .iter()
    .filter(|(r, _)| bits & r != 0)
    .fold(0, |acc, (_, f)| acc | f)
}

#[cfg(test)]
mod tests;
