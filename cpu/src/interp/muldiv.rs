//! Multiplication and division: MUL, IMUL (one-, two- and three-operand
//! forms), DIV, IDIV.
//!
//! The one-operand forms use the accumulator pair of the operand size:
//! AX = AL * r/m8, DX:AX = AX * r/m16, EDX:EAX = EAX * r/m32, and division
//! splits that pair into quotient (AL/AX/EAX) and remainder (AH/DX/EDX).
//! Products and dividends are computed in 64 (or 128) bits so no case
//! overflows the host arithmetic.
//!
//! Flags: after a multiplication CF = OF = "the result does not fit the
//! destination"; SF, ZF, AF and PF are undefined. After a division every
//! flag is undefined. Undefined flags follow Wax's table in `undefined.rs`:
//! `undefined::mul_flags` for multiplications, unchanged for divisions.

use super::ctx::{Ctx, Flow, Handler};
use crate::by_size;
use crate::exit::Exception;
use crate::flags::size_mask;
use crate::interp::decoded::Decoded;
use crate::state::CpuState;
use crate::undefined;
use iced_x86::{Instruction, Mnemonic, Register};

/// `a` (of `size` bits) sign-extended to 64 bits.
#[inline(always)]
fn sext(a: u32, size: u32) -> i64 {
    i64::from(((a << (32 - size)) as i32) >> (32 - size))
}

/// A double-width product split into halves, and whether it overflowed
/// the low half.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Product {
    pub lo: u32,
    pub hi: u32,
    /// CF = OF: the full product differs from the low half (zero- or
    /// sign-extended).
    pub overflow: bool,
}

/// `a * b` of two `size`-bit operands, unsigned or signed.
pub fn multiply(a: u32, b: u32, size: u32, signed: bool) -> Product {
    let m = size_mask(size);
    let (a, b) = (a & m, b & m);
    let p = if signed {
        (sext(a, size) * sext(b, size)) as u64
    } else {
        u64::from(a) * u64::from(b)
    };
    let lo = p as u32 & m;
    let hi = (p >> size) as u32 & m;
    let overflow = if signed {
        p as i64 != sext(lo, size)
    } else {
        hi != 0
    };
    Product { lo, hi, overflow }
}

/// Writes the flags of a multiplication of `size`-bit operands.
fn set_mul_flags(cpu: &mut CpuState, p: Product, size: u32) {
    cpu.set_status(undefined::mul_flags(p.lo, size, p.overflow));
}

/// The quotient and remainder of a division.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quotient {
    pub q: u32,
    pub r: u32,
}

/// `dividend / divisor` where the dividend is `hi:lo` (two `size`-bit
/// halves). `None` when the divisor is zero or the quotient does not fit.
pub fn divide(hi: u32, lo: u32, divisor: u32, size: u32, signed: bool) -> Option<Quotient> {
    let m = size_mask(size);
    let (hi, lo, divisor) = (hi & m, lo & m, divisor & m);
    if divisor == 0 {
        return None;
    }
    let wide = u64::from(hi) << size | u64::from(lo);
    if signed {
        // The dividend is 2*size bits wide; i128 keeps -2^63 / -1 exact.
        let n = i128::from(((wide << (64 - 2 * size)) as i64) >> (64 - 2 * size));
        let d = i128::from(sext(divisor, size));
        let (q, r) = (n / d, n % d);
        let limit = 1i128 << (size - 1);
        if q < -limit || q >= limit {
            return None;
        }
        Some(Quotient {
            q: q as u32 & m,
            r: r as u32 & m,
        })
    } else {
        let d = u64::from(divisor);
        let q = wide / d;
        if q > u64::from(m) {
            return None;
        }
        Some(Quotient {
            q: q as u32,
            r: (wide % d) as u32,
        })
    }
}

/// The low half of the accumulator pair: AL, AX or EAX.
fn acc_lo(size: u32) -> Register {
    match size {
        8 => Register::AL,
        16 => Register::AX,
        _ => Register::EAX,
    }
}

/// Writes a double-width value `hi:lo` to AH:AL, DX:AX or EDX:EAX.
fn write_pair(ctx: &mut Ctx<'_, '_>, size: u32, hi: u32, lo: u32) {
    match size {
        8 => ctx.set_reg(Register::AX, hi << 8 | lo),
        16 => {
            ctx.set_reg(Register::AX, lo);
            ctx.set_reg(Register::DX, hi);
        }
        _ => {
            ctx.set_reg(Register::EAX, lo);
            ctx.set_reg(Register::EDX, hi);
        }
    }
}

/// The high half of the dividend: AH, DX or EDX.
fn read_hi(ctx: &Ctx<'_, '_>, size: u32) -> u32 {
    match size {
        8 => ctx.reg(Register::AH),
        16 => ctx.reg(Register::DX),
        _ => ctx.reg(Register::EDX),
    }
}

/// `mul r/m` and one-operand `imul r/m`.
fn mul_acc<const SIGNED: bool, const S: u32>(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let b = ctx.read_op(insn, 0, S)?;
    let a = ctx.reg(acc_lo(S));
    let p = multiply(a, b, S, SIGNED);
    write_pair(ctx, S, p.hi, p.lo);
    set_mul_flags(ctx.cpu, p, S);
    Ok(())
}

/// `imul r, r/m` and `imul r, r/m, imm`: the truncated product.
fn imul_reg<const S: u32>(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let (a, b) = if insn.op_count() == 3 {
        (ctx.read_op(insn, 1, S)?, ctx.read_op(insn, 2, S)?)
    } else {
        (ctx.reg(insn.op0_register()), ctx.read_op(insn, 1, S)?)
    };
    let p = multiply(a, b, S, true);
    ctx.set_reg(insn.op0_register(), p.lo);
    set_mul_flags(ctx.cpu, p, S);
    Ok(())
}

/// `div r/m` and `idiv r/m`: #DE leaves every register and flag as it was.
fn div<const SIGNED: bool, const S: u32>(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let divisor = ctx.read_op(insn, 0, S)?;
    let lo = ctx.reg(acc_lo(S));
    let hi = read_hi(ctx, S);
    let Some(q) = divide(hi, lo, divisor, S, SIGNED) else {
        return Err(Exception::DivideError.into());
    };
    // The flags, all undefined, stay as they were.
    write_pair(ctx, S, q.r, q.q);
    Ok(())
}

/// Selects multiply and divide handlers.
pub fn lookup(insn: &Instruction) -> Option<Handler> {
    use Mnemonic::*;
    Some(match insn.mnemonic() {
        Mul => by_size!(insn, mul_acc, false),
        Imul if insn.op_count() == 1 => by_size!(insn, mul_acc, true),
        Imul => by_size!(insn, imul_reg),
        Div => by_size!(insn, div, false),
        Idiv => by_size!(insn, div, true),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::super::shift::testing::{exec, exec_ok, regs};
    use super::*;
    use crate::exit::Exit;

    // Expected values were measured on the host CPU (AMD) running the same
    // instruction bytes natively, except the flags the SDM leaves undefined,
    // which are Wax's choice (`undefined.rs`): after MUL/IMUL SF and PF from
    // the low half, ZF = AF = 0; after DIV/IDIV unchanged.

    /// Runs `code`; returns (EAX, EDX, status flags and bit 1/IF).
    fn go(code: &[u8], eax: u32, edx: u32, ebx: u32, fl: u32) -> (u32, u32, u32) {
        let cpu = exec_ok(code, regs(eax, 0, edx, ebx), fl);
        (cpu.gpr[0], cpu.gpr[2], cpu.eflags() & 0xfff)
    }

    #[test]
    fn idiv_overflow_faults_and_changes_nothing() {
        // idiv ebx: EDX:EAX = -2^31, EBX = -1: the quotient 2^31 does not
        // fit.
        let r = exec(
            &[0xf7, 0xfb],
            regs(0x8000_0000, 0, u32::MAX, u32::MAX),
            0x202,
            &[],
        );
        assert_eq!(r.exit, Exit::Exception(Exception::DivideError));
        assert_eq!(r.cpu.gpr[0], 0x8000_0000);
        assert_eq!(r.cpu.gpr[2], u32::MAX);
        assert_eq!(r.cpu.eip, 0x1000_0000);
        // EDX:EAX = -2^63 / -1 must not overflow the host arithmetic.
        let r = exec(&[0xf7, 0xfb], regs(0, 0, 0x8000_0000, u32::MAX), 0x202, &[]);
        assert_eq!(r.exit, Exit::Exception(Exception::DivideError));
        // div ebx by zero.
        let r = exec(&[0xf7, 0xf3], regs(1, 0, 0, 0), 0x202, &[]);
        assert_eq!(r.exit, Exit::Exception(Exception::DivideError));
    }

    #[test]
    fn idiv_quotient_limits_and_signs() {
        // idiv bl: AX = -128, BL = 1: -128 fits AL.
        assert_eq!(go(&[0xf6, 0xfb], 0xff80, 0, 1, 0x202), (0x80, 0, 0x202));
        // idiv bl by -1: +128 does not.
        let r = exec(&[0xf6, 0xfb], regs(0xff80, 0, 0, 0xff), 0x202, &[]);
        assert_eq!(r.exit, Exit::Exception(Exception::DivideError));
        // -7 / 2 = -3 remainder -1 (truncation towards zero); flags kept.
        let q = go(&[0xf7, 0xfb], (-7i32) as u32, u32::MAX, 2, 0x2c3);
        assert_eq!(q, ((-3i32) as u32, u32::MAX, 0x2c3));
        // div ebx: 2^32 / 2.
        assert_eq!(go(&[0xf7, 0xf3], 0, 1, 2, 0xac3), (0x8000_0000, 0, 0xac3));
    }

    #[test]
    fn imul_and_mul_overflow_flags() {
        // imul eax, ebx, 0x78563412 with EBX = 0x10000: truncated.
        let code = [0x69, 0xc3, 0x12, 0x34, 0x56, 0x78];
        assert_eq!(go(&code, 0, 0, 0x10000, 0x202), (0x3412_0000, 0, 0xa07));
        // imul eax, ebx, 0x10000 with EBX = 0x7fff: 0x7fff0000 fits.
        let code = [0x69, 0xc3, 0x00, 0x00, 0x01, 0x00];
        assert_eq!(go(&code, 0, 0, 0x7fff, 0xa03), (0x7fff_0000, 0, 0x206));
        // imul bl: -128 * -1 = +128 does not fit AL.
        assert_eq!(go(&[0xf6, 0xeb], 0x80, 0, 0xff, 0x202), (0x80, 0, 0xa83));
        assert_eq!(go(&[0xf6, 0xeb], 0x80, 0, 0x80, 0x202), (0x4000, 0, 0xa07));
        // mul ebx: (2^32 - 1)^2.
        let (eax, edx, fl) = go(&[0xf7, 0xe3], u32::MAX, 0, u32::MAX, 0x202);
        assert_eq!((eax, edx, fl), (1, 0xffff_fffe, 0xa03));
    }

    #[test]
    fn mul_sets_the_undefined_flags_from_the_low_half() {
        // 15 = 0b1111: PF set; SF, ZF, AF cleared whatever they were.
        let (eax, _, fl) = go(&[0xf7, 0xe3], 3, 0, 5, 0x2d5 | 0x800);
        assert_eq!((eax, fl), (15, 0x206));
    }

    #[test]
    fn pure_helpers() {
        let p = multiply(0xffff, 0xffff, 16, true);
        assert_eq!((p.lo, p.hi, p.overflow), (1, 0, false));
        let p = multiply(0x8000, 0xffff, 16, true);
        assert_eq!((p.lo, p.hi, p.overflow), (0x8000, 0, true));
        assert_eq!(divide(0xffff, 0x8000, 0xffff, 16, true), None);
        let q = divide(0, 0x8000, 0xffff, 16, true);
        assert_eq!(q, Some(Quotient { q: 0x8000, r: 0 }));
        assert_eq!(divide(0x7f, 0, 2, 8, true), None);
        assert_eq!(
            divide(0xff, 0xf9, 2, 8, true),
            Some(Quotient { q: 0xfd, r: 0xff })
        );
        let q = divide(0xffff, 0xfff9, 2, 16, true);
        assert_eq!(
            q,
            Some(Quotient {
                q: 0xfffd,
                r: 0xffff
            })
        );
    }
}
