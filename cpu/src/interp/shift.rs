//! Shifts and rotates: SHL/SAL, SHR, SAR, ROL, ROR, RCL, RCR, SHLD, SHRD.
//!
//! Each operation is a pure function of (operand, count, CF in) that
//! returns the result and the status flags it writes, so the semantics can
//! be checked without running the interpreter. The count is masked to five
//! bits; a masked count of zero changes neither the operand nor any flag
//! (though a memory operand is still written back, as on the hardware).
//! Flags are computed eagerly: shifts write only some of the six flags, and
//! the lazy-flag record has no shift operations.
//!
//! Where the SDM leaves a flag undefined (OF for counts above one, AF, CF
//! when a shift moves everything out, SHLD/SHRD 16-bit counts above 16) the
//! functions follow Wax's table in `undefined.rs`: OF by the count-1 rule
//! applied to the result (`left_of`, `right_of`), AF = 0.

use super::ctx::{Ctx, Flow, Handler, Loc};
use crate::by_size;
use crate::flags::{parity, sign_bit, size_mask};
use crate::interp::decoded::Decoded;
use crate::state::flag;
use crate::undefined::{self, left_of, right_of};
use iced_x86::{Instruction, Mnemonic};

pub const ROL: u8 = 0;
pub const ROR: u8 = 1;
pub const RCL: u8 = 2;
pub const RCR: u8 = 3;
pub const SHL: u8 = 4;
pub const SHR: u8 = 5;
pub const SAR: u8 = 7;

/// A shift's outcome: the result and the status flags in `mask` it sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shifted {
    pub res: u32,
    /// EFLAGS status bits (only those in `mask` are meaningful).
    pub flags: u32,
    /// The status flags the instruction writes.
    pub mask: u32,
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

/// SF, ZF and PF of a result.
#[inline(always)]
fn szp(res: u32, size: u32) -> u32 {
    bit(res & sign_bit(size) != 0, flag::SF) | bit(res == 0, flag::ZF) | bit(parity(res), flag::PF)
}

/// Bit `n` of `v` (n < 64).
#[inline(always)]
fn bit_of(v: u64, n: u32) -> bool {
    (v >> n) & 1 != 0
}

/// Flags of SHL/SHR/SAR/SHLD/SHRD: SF/ZF/PF from the result, the given CF
/// and OF, and the undefined AF as `undefined::AF`.
#[inline(always)]
fn shift_flags(res: u32, size: u32, cf: bool, of: bool) -> Shifted {
    Shifted {
        res,
        flags: szp(res, size) | bit(cf, flag::CF) | bit(of, flag::OF) | undefined::AF,
        mask: flag::STATUS,
    }
}

/// SHL/SAL by a masked count 1..=31.
pub fn shl(a: u32, count: u32, size: u32) -> Shifted {
    // Computed in 64 bits so counts up to 31 keep the bits shifted past the
    // operand: CF is the last bit out, which is 0 once count > size.
    let wide = u64::from(a) << count;
    let res = wide as u32 & size_mask(size);
    let cf = bit_of(wide, size);
    shift_flags(res, size, cf, left_of(res, cf, size))
}

/// SHR by a masked count 1..=31.
pub fn shr(a: u32, count: u32, size: u32) -> Shifted {
    // One extra bit at the bottom catches the last bit shifted out.
    let wide = (u64::from(a) << 1) >> count;
    let cf = wide & 1 != 0;
    let res = (wide >> 1) as u32;
    // For a count of 1 the sign bit of `a` is now the bit below the sign;
    // for larger counts both top bits are 0.
    shift_flags(res, size, cf, right_of(res, size))
}

/// SAR by a masked count 1..=31.
pub fn sar(a: u32, count: u32, size: u32) -> Shifted {
    let signed = i64::from(sign_extend(a, size));
    let shifted = (signed << 1) >> count;
    let cf = shifted & 1 != 0;
    let res = (shifted >> 1) as u32 & size_mask(size);
    shift_flags(res, size, cf, false)
}

/// `a` (of `size` bits) sign-extended to 32 bits.
#[inline(always)]
fn sign_extend(a: u32, size: u32) -> i32 {
    ((a << (32 - size)) as i32) >> (32 - size)
}

/// ROL by a masked count 1..=31: only CF and OF change. CF is the bit
/// rotated into bit 0 (also when the count is a multiple of the size);
/// OF = MSB ^ CF, defined for count 1 and Wax's choice for the others.
pub fn rol(a: u32, count: u32, size: u32) -> Shifted {
    let n = count % size;
    let res = if n == 0 {
        a
    } else {
        ((a << n) | (a >> (size - n))) & size_mask(size)
    };
    let cf = res & 1 != 0;
    Shifted {
        res,
        flags: bit(cf, flag::CF) | bit(left_of(res, cf, size), flag::OF),
        mask: flag::CF | flag::OF,
    }
}

/// ROR by a masked count 1..=31: only CF and OF change. CF is the bit
/// rotated into the MSB; OF = the two top bits differ, defined for count 1
/// and Wax's choice for the others.
pub fn ror(a: u32, count: u32, size: u32) -> Shifted {
    let n = count % size;
    let res = if n == 0 {
        a
    } else {
        ((a >> n) | (a << (size - n))) & size_mask(size)
    };
    let msb = res & sign_bit(size) != 0;
    Shifted {
        res,
        flags: bit(msb, flag::CF) | bit(right_of(res, size), flag::OF),
        mask: flag::CF | flag::OF,
    }
}

/// RCL by a masked count 1..=31: rotates the size+1-bit value CF:operand
/// (so 8- and 16-bit rotations are modulo 9 and 17). OF = MSB ^ CF after
/// the rotation, for every count (also when the rotation is the identity).
pub fn rcl(a: u32, count: u32, size: u32, cf_in: bool) -> Shifted {
    let n = count % (size + 1);
    let wide = u64::from(a) | u64::from(cf_in) << size;
    let rot = if n == 0 {
        wide
    } else {
        ((wide << n) | (wide >> (size + 1 - n))) & ((1 << (size + 1)) - 1)
    };
    let res = rot as u32 & size_mask(size);
    let cf = bit_of(rot, size);
    Shifted {
        res,
        flags: bit(cf, flag::CF) | bit(left_of(res, cf, size), flag::OF),
        mask: flag::CF | flag::OF,
    }
}

/// RCR by a masked count 1..=31: rotates the size+1-bit value CF:operand.
/// OF = the two top bits of the result differ (for count 1 that is the
/// SDM's MSB(dest) ^ CF before the rotation), for every count.
pub fn rcr(a: u32, count: u32, size: u32, cf_in: bool) -> Shifted {
    let n = count % (size + 1);
    let wide = u64::from(a) | u64::from(cf_in) << size;
    let rot = if n == 0 {
        wide
    } else {
        ((wide >> n) | (wide << (size + 1 - n))) & ((1 << (size + 1)) - 1)
    };
    let res = rot as u32 & size_mask(size);
    let cf = bit_of(rot, size);
    Shifted {
        res,
        flags: bit(cf, flag::CF) | bit(right_of(res, size), flag::OF),
        mask: flag::CF | flag::OF,
    }
}

/// SHLD by a masked count 1..=31: `dst` shifted left, filled from the top
/// of `src`.
pub fn shld(dst: u32, src: u32, count: u32, size: u32) -> Shifted {
    if count > size {
        return double_past_size(dst, src, count, true);
    }
    let wide = pair(dst, src, size);
    let res = (wide >> (size - count)) as u32 & size_mask(size);
    let cf = bit_of(wide, 2 * size - count);
    shift_flags(res, size, cf, left_of(res, cf, size))
}

/// SHRD by a masked count 1..=31: `dst` shifted right, filled from the
/// bottom of `src`.
pub fn shrd(dst: u32, src: u32, count: u32, size: u32) -> Shifted {
    if count > size {
        return double_past_size(dst, src, count, false);
    }
    let shifted = (pair(src, dst, size) << 1) >> count;
    let cf = shifted & 1 != 0;
    let res = (shifted >> 1) as u32 & size_mask(size);
    shift_flags(res, size, cf, right_of(res, size))
}

/// `hi:lo`, two `size`-bit values as one bit string.
#[inline(always)]
fn pair(hi: u32, lo: u32, size: u32) -> u64 {
    let m = u64::from(size_mask(size));
    (u64::from(hi) & m) << size | (u64::from(lo) & m)
}

/// SHLD/SHRD of a 16-bit operand by 17..=31: result and flags undefined in
/// the SDM; Wax's choice is in `undefined.rs`.
fn double_past_size(dst: u32, src: u32, count: u32, left: bool) -> Shifted {
    let (res, cf) = undefined::double_shift16_past_size(dst, src, count, left);
    let of = if left {
        left_of(res, cf, 16)
    } else {
        right_of(res, 16)
    };
    shift_flags(res, 16, cf, of)
}

/// Applies one shift or rotate to an operand value.
#[inline(always)]
fn compute<const OP: u8>(a: u32, count: u32, size: u32, cf: bool) -> Shifted {
    match OP {
        ROL => rol(a, count, size),
        ROR => ror(a, count, size),
        RCL => rcl(a, count, size, cf),
        RCR => rcr(a, count, size, cf),
        SHL => shl(a, count, size),
        SHR => shr(a, count, size),
        _ => sar(a, count, size),
    }
}

/// A masked count of 0 changes nothing, but the host still performs the
/// write cycle: a read-only memory operand faults.
#[inline(always)]
fn write_back<const S: u32>(ctx: &mut Ctx<'_, '_>, dst: Loc, v: u32) -> Flow {
    match dst {
        Loc::Mem(a) => ctx.write(a, S, v),
        Loc::Reg(_) => Ok(()),
    }
}

/// `op r/m, 1|CL|imm8` for every shift and rotate.
fn shift<const OP: u8, const S: u32>(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let dst = ctx.loc(insn, 0);
    let a = ctx.read_loc_rmw(dst, S)?;
    let count = ctx.read_op(insn, 1, 8)? & 0x1f;
    if count == 0 {
        return write_back::<S>(ctx, dst, a);
    }
    let out = compute::<OP>(a, count, S, ctx.cpu.cf());
    ctx.write_loc(dst, S, out.res)?;
    ctx.cpu.update_status(out.mask, out.flags);
    Ok(())
}

/// `shld/shrd r/m, r, imm8|CL`.
fn double<const LEFT: bool, const S: u32>(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let dst = ctx.loc(insn, 0);
    let a = ctx.read_loc_rmw(dst, S)?;
    let b = ctx.reg(insn.op1_register());
    let count = ctx.read_op(insn, 2, 8)? & 0x1f;
    if count == 0 {
        return write_back::<S>(ctx, dst, a);
    }
    let out = if LEFT {
        shld(a, b, count, S)
    } else {
        shrd(a, b, count, S)
    };
    ctx.write_loc(dst, S, out.res)?;
    ctx.cpu.update_status(out.mask, out.flags);
    Ok(())
}

/// Selects shift and rotate handlers.
pub fn lookup(insn: &Instruction) -> Option<Handler> {
    use Mnemonic::*;
    Some(match insn.mnemonic() {
        Rol => by_size!(insn, shift, ROL),
        Ror => by_size!(insn, shift, ROR),
        Rcl => by_size!(insn, shift, RCL),
        Rcr => by_size!(insn, shift, RCR),
        Shl | Sal => by_size!(insn, shift, SHL),
        Shr => by_size!(insn, shift, SHR),
        Sar => by_size!(insn, shift, SAR),
        Shld => by_size!(insn, double, true),
        Shrd => by_size!(insn, double, false),
        _ => return None,
    })
}

/// Runs single instructions through the interpreter, for the unit tests of
/// the arithmetic groups (shift, muldiv, bits, bcd).
#[cfg(test)]
pub(super) mod testing {
    use crate::addr::GuestAddr;
    use crate::exit::Exit;
    use crate::mem::{Machine, Prot};
    use crate::state::CpuState;
    use crate::{run, DecodeCache};

    const CODE: u32 = 0x1000_0000;
    /// A read-write data page; tests address it through EDI.
    pub const DATA: u32 = 0x2000_0000;
    /// A read-only page right after `DATA`.
    pub const READ_ONLY: u32 = DATA + 0x1000;

    /// The state after one instruction.
    pub struct Run {
        pub cpu: CpuState,
        pub exit: Exit,
        /// The first bytes of the data page.
        pub data: Vec<u8>,
    }

    /// Executes `code` (one instruction) with EAX, ECX, EDX, EBX, ESP,
    /// EBP, ESI, EDI = `gpr` and EFLAGS = `eflags`, the data page holding
    /// `data`. A successful run stops at the `int 0x80` placed after it.
    pub fn exec(code: &[u8], gpr: [u32; 8], eflags: u32, data: &[u8]) -> Run {
        let mut m = Machine::new(16 << 20);
        let mut space = m.new_space().unwrap();
        m.map(&mut space, GuestAddr(CODE), 0x1000, Prot::RWX, false);
        m.map(&mut space, GuestAddr(DATA), 0x1000, Prot::RW, false);
        m.map(&mut space, GuestAddr(READ_ONLY), 0x1000, Prot::READ, false);
        let (cpu, mut mem) = m.guest(&mut space);
        let mut bytes = code.to_vec();
        bytes.extend_from_slice(&[0xcd, 0x80]);
        mem.write_bytes(GuestAddr(CODE), &bytes).unwrap();
        mem.write_bytes(GuestAddr(DATA), data).unwrap();
        cpu.gpr = gpr;
        cpu.set_eflags(eflags);
        cpu.eip = CODE;
        let exit = run(cpu, &mut mem, &mut DecodeCache::new(), 10).exit;
        let mut out = vec![0; 64];
        mem.read_bytes(GuestAddr(DATA), &mut out).unwrap();
        Run {
            cpu: cpu.clone(),
            exit,
            data: out,
        }
    }

    /// Registers with EAX, ECX, EDX, EBX set and EDI pointing at `DATA`.
    pub fn regs(eax: u32, ecx: u32, edx: u32, ebx: u32) -> [u32; 8] {
        [eax, ecx, edx, ebx, 0x8000, 0, 0, DATA]
    }

    /// `exec` without memory operands; returns the CPU after a normal stop.
    pub fn exec_ok(code: &[u8], gpr: [u32; 8], eflags: u32) -> CpuState {
        let r = exec(code, gpr, eflags, &[]);
        assert_eq!(r.exit, Exit::Syscall, "{code:02x?} stopped early");
        r.cpu
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{exec, exec_ok, regs, DATA, READ_ONLY};
    use super::*;
    use crate::exit::{Exception, Exit};

    /// Expected values below were measured on the host CPU (AMD, running
    /// the same instruction bytes natively), except the flags and results
    /// the SDM leaves undefined, which are Wax's choice (`undefined.rs`):
    /// AF = 0 and OF by the count-1 rule.
    fn check(code: &[u8], gpr: [u32; 8], fl: u32, want_eax: u32, want_fl: u32) {
        let cpu = exec_ok(code, gpr, fl);
        assert_eq!(cpu.gpr[0], want_eax, "{code:02x?} result");
        assert_eq!(cpu.eflags() & 0xfff, want_fl, "{code:02x?} flags");
    }

    #[test]
    fn rcl8_rotates_modulo_9() {
        // rcl al, cl: 9 bits rotate, so a count of 9 is the identity (CF
        // kept), 10 rotates by one and 27 (= 3 * 9) is the identity again.
        check(&[0xd2, 0xd0], regs(0x81, 9, 0, 0), 0x203, 0x81, 0x203);
        check(&[0xd2, 0xd0], regs(0x81, 10, 0, 0), 0x203, 0x03, 0xa03);
        check(&[0xd2, 0xd0], regs(0x81, 31, 0, 0), 0x202, 0x14, 0x202);
        check(&[0xd2, 0xd0], regs(0x81, 27, 0, 0), 0xa03, 0x81, 0x203);
    }

    #[test]
    fn rcr16_rotates_modulo_17() {
        check(
            &[0x66, 0xd3, 0xd8],
            regs(0x8001, 17, 0, 0),
            0x203,
            0x8001,
            0xa03,
        );
        check(
            &[0x66, 0xd3, 0xd8],
            regs(0x8001, 18, 0, 0),
            0x202,
            0x4000,
            0xa03,
        );
    }

    #[test]
    fn shld_shrd_16bit_counts_past_16() {
        // shld ax, dx, cl / shrd ax, dx, cl with DX = 0xabcd. Past 16 the
        // result is undefined: Wax shifts dst:src:dst as one 48-bit value.
        let (left, right) = ([0x66, 0x0f, 0xa5, 0xd0], [0x66, 0x0f, 0xad, 0xd0]);
        check(&left, regs(0x1234, 20, 0xabcd, 0), 0x202, 0xbcd1, 0xa86);
        // A count of 16 is defined: the source, CF = bit 0 of AX.
        check(&left, regs(0x1234, 16, 0xabcd, 0), 0x202, 0xabcd, 0xa82);
        check(&right, regs(0x1234, 20, 0xabcd, 0), 0x202, 0x4abc, 0xa03);
    }

    #[test]
    fn shifts_past_the_operand_size() {
        // shl al, cl by 9: everything shifted out, CF = 0.
        check(&[0xd2, 0xe0], regs(0xff, 9, 0, 0), 0x202, 0, 0x246);
        // sar eax, 31.
        check(
            &[0xc1, 0xf8, 0x1f],
            regs(0x8000_0000, 0, 0, 0),
            0x202,
            u32::MAX,
            0x286,
        );
    }

    #[test]
    fn count_zero_keeps_flags_but_writes_memory() {
        check(&[0xd3, 0xe0], regs(1, 0, 0, 0), 0xad7, 1, 0xad7);
        // shl dword [edi], cl with CL = 0 on a read-only page still faults.
        let mut gpr = regs(1, 0, 0, 0);
        gpr[7] = READ_ONLY;
        let r = exec(&[0xd3, 0x27], gpr, 0x202, &[]);
        assert!(matches!(r.exit, Exit::Exception(Exception::PageFault(_))));
        assert_eq!(r.cpu.eip, 0x1000_0000);
        gpr[7] = DATA;
        let r = exec(&[0xd3, 0x27], gpr, 0x202, &[0x78, 0x56, 0x34, 0x12]);
        assert_eq!(r.exit, Exit::Syscall);
        assert_eq!(&r.data[..4], &[0x78, 0x56, 0x34, 0x12]);
    }

    #[test]
    fn pure_functions_match_the_sdm() {
        // ROL/ROR CF and OF on count 1.
        assert_eq!(rol(0x80, 1, 8).flags, flag::CF | flag::OF);
        assert_eq!(ror(0x01, 1, 8).flags, flag::CF | flag::OF);
        // SHR count 1: OF is the original sign bit.
        assert_eq!(shr(0x8000, 1, 16).flags & flag::OF, flag::OF);
        assert_eq!(sar(0x8000, 1, 16).flags & flag::OF, 0);
        // SHLD 32-bit by 31 takes the top 31 bits of src.
        assert_eq!(shld(1, 0xffff_fffe, 31, 32).res, 0xffff_ffff);
        assert_eq!(shrd(0x8000_0000, 1, 31, 32).res, 3);
    }
}
