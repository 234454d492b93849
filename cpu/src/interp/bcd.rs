//! Decimal arithmetic adjustments: DAA, DAS, AAA, AAS, AAM, AAD.
//!
//! Each works on AL (and AH) after a binary add, subtract, multiply or
//! before a divide, following the SDM pseudo-code. The functions are pure
//! (AX and flags in, AX and flags out) so the SDM cases can be unit-tested
//! directly. Flags the SDM leaves undefined follow Wax's table in
//! `undefined.rs` (the rules were first measured on an AMD host); each
//! function says what they are.

use super::ctx::{Ctx, Flow, Handler};
use crate::exit::Exception;
use crate::flags::{parity, sign_bit, size_mask};
use crate::interp::decoded::Decoded;
use crate::state::flag;
use iced_x86::{Instruction, Mnemonic, Register};

/// A flag bit when `cond` holds.
#[inline(always)]
fn bit(cond: bool, f: u32) -> u32 {
    if cond {
        f
    } else {
        0
    }
}

/// SF, ZF and PF of a `size`-bit result.
#[inline(always)]
fn szp(v: u32, size: u32) -> u32 {
    let v = v & size_mask(size);
    bit(v & sign_bit(size) != 0, flag::SF) | bit(v == 0, flag::ZF) | bit(parity(v), flag::PF)
}

/// All six flags of the `size`-bit addition `a + b`.
fn add_flags(a: u32, b: u32, size: u32) -> u32 {
    let r = a.wrapping_add(b) & size_mask(size);
    szp(r, size)
        | bit(r < a, flag::CF)
        | bit((a ^ b ^ r) & 0x10 != 0, flag::AF)
        | bit((a ^ r) & (b ^ r) & sign_bit(size) != 0, flag::OF)
}

/// All six flags of the `size`-bit subtraction `a - b`.
fn sub_flags(a: u32, b: u32, size: u32) -> u32 {
    let r = a.wrapping_sub(b) & size_mask(size);
    szp(r, size)
        | bit(a < b, flag::CF)
        | bit((a ^ b ^ r) & 0x10 != 0, flag::AF)
        | bit((a ^ b) & (a ^ r) & sign_bit(size) != 0, flag::OF)
}

/// An adjusted AX and all six status flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Adjusted {
    pub ax: u16,
    pub flags: u32,
}

/// Whether the low digit of AL needs adjusting (AL & 0x0F > 9, or AF).
#[inline(always)]
fn low_digit_adjust(ax: u16, flags: u32) -> bool {
    (ax & 0x0f) > 9 || flags & flag::AF != 0
}

/// DAA: corrects AL after adding two packed BCD bytes. Wax sets the
/// undefined OF like the 8-bit addition of the whole correction to AL.
pub fn daa(ax: u16, flags: u32) -> Adjusted {
    let al = u32::from(ax as u8);
    let af = low_digit_adjust(ax, flags);
    // The SDM's CF from the low-digit step is always overwritten by the
    // high-digit step.
    let cf = al > 0x99 || flags & flag::CF != 0;
    let fix = bit(af, 0x06) | bit(cf, 0x60);
    let res = al.wrapping_add(fix) & 0xff;
    let of = add_flags(al, fix, 8) & flag::OF;
    Adjusted {
        ax: (ax & 0xff00) | res as u16,
        flags: szp(res, 8) | bit(cf, flag::CF) | bit(af, flag::AF) | of,
    }
}

/// DAS: corrects AL after subtracting two packed BCD bytes. Wax sets
/// the undefined OF like the 8-bit subtraction of the whole correction.
pub fn das(ax: u16, flags: u32) -> Adjusted {
    let al = u32::from(ax as u8);
    let old_cf = flags & flag::CF != 0;
    let af = low_digit_adjust(ax, flags);
    // Unlike DAA, the borrow of the low-digit step survives when the high
    // digit needs no adjustment.
    let high = al > 0x99 || old_cf;
    let cf = high || (af && al < 6);
    let fix = bit(af, 0x06) | bit(high, 0x60);
    let res = al.wrapping_sub(fix) & 0xff;
    let of = sub_flags(al, fix, 8) & flag::OF;
    Adjusted {
        ax: (ax & 0xff00) | res as u16,
        flags: szp(res, 8) | bit(cf, flag::CF) | bit(af, flag::AF) | of,
    }
}

/// AAA: corrects AL (and carries into AH) after adding unpacked BCD. Wax
/// sets the undefined SF, ZF, PF and OF like the 16-bit addition
/// AX + 0x106 (AX + 0 when no adjustment is needed), before AL's high
/// nibble is cleared.
pub fn aaa(ax: u16, flags: u32) -> Adjusted {
    let adjust = low_digit_adjust(ax, flags);
    let fix = bit(adjust, 0x106);
    let sum = u32::from(ax).wrapping_add(fix);
    let undefined = add_flags(u32::from(ax), fix, 16) & !(flag::CF | flag::AF);
    Adjusted {
        ax: sum as u16 & 0xff0f,
        flags: undefined | bit(adjust, flag::CF | flag::AF),
    }
}

/// AAS: corrects AL (and borrows from AH) after subtracting unpacked BCD.
/// Wax sets the undefined SF, ZF, PF and OF like the 16-bit
/// subtraction AX - 0x106 (AX - 0 without adjustment).
pub fn aas(ax: u16, flags: u32) -> Adjusted {
    let adjust = low_digit_adjust(ax, flags);
    let fix = bit(adjust, 0x106);
    let diff = u32::from(ax).wrapping_sub(fix);
    let undefined = sub_flags(u32::from(ax), fix, 16) & !(flag::CF | flag::AF);
    Adjusted {
        ax: diff as u16 & 0xff0f,
        flags: undefined | bit(adjust, flag::CF | flag::AF),
    }
}

/// AAM imm8: AH = AL / imm8, AL = AL % imm8. `None` for a zero base (#DE).
/// Wax clears the undefined CF, AF and OF.
pub fn aam(ax: u16, base: u8) -> Option<Adjusted> {
    if base == 0 {
        return None;
    }
    let al = ax as u8;
    let (q, r) = (al / base, al % base);
    Some(Adjusted {
        ax: u16::from(q) << 8 | u16::from(r),
        flags: szp(u32::from(r), 8),
    })
}

/// AAD imm8: AL = AL + AH * imm8, AH = 0. Wax sets every flag like
/// the 8-bit addition AL + (AH * imm8).
pub fn aad(ax: u16, base: u8) -> Adjusted {
    let al = u32::from(ax as u8);
    let product = u32::from(((ax >> 8) as u8).wrapping_mul(base));
    let res = al.wrapping_add(product) & 0xff;
    Adjusted {
        ax: res as u16,
        flags: add_flags(al, product, 8),
    }
}

/// Runs an adjustment on AX and the current flags.
fn adjust_ax(ctx: &mut Ctx<'_, '_>, f: fn(u16, u32) -> Adjusted) -> Flow {
    let ax = ctx.reg(Register::AX) as u16;
    let out = f(ax, ctx.cpu.eflags());
    ctx.set_reg(Register::AX, u32::from(out.ax));
    ctx.cpu.set_status(out.flags);
    Ok(())
}

fn daa_h(ctx: &mut Ctx<'_, '_>, _: &Decoded) -> Flow {
    adjust_ax(ctx, daa)
}

fn das_h(ctx: &mut Ctx<'_, '_>, _: &Decoded) -> Flow {
    adjust_ax(ctx, das)
}

fn aaa_h(ctx: &mut Ctx<'_, '_>, _: &Decoded) -> Flow {
    adjust_ax(ctx, aaa)
}

fn aas_h(ctx: &mut Ctx<'_, '_>, _: &Decoded) -> Flow {
    adjust_ax(ctx, aas)
}

fn aam_h(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let ax = ctx.reg(Register::AX) as u16;
    let Some(out) = aam(ax, insn.immediate8()) else {
        return Err(Exception::DivideError.into());
    };
    ctx.set_reg(Register::AX, u32::from(out.ax));
    ctx.cpu.set_status(out.flags);
    Ok(())
}

fn aad_h(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let ax = ctx.reg(Register::AX) as u16;
    let out = aad(ax, insn.immediate8());
    ctx.set_reg(Register::AX, u32::from(out.ax));
    ctx.cpu.set_status(out.flags);
    Ok(())
}

/// Selects decimal-adjust handlers.
pub fn lookup(insn: &Instruction) -> Option<Handler> {
    use Mnemonic::*;
    Some(match insn.mnemonic() {
        Daa => daa_h,
        Das => das_h,
        Aaa => aaa_h,
        Aas => aas_h,
        Aam => aam_h,
        Aad => aad_h,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::super::shift::testing::{exec, exec_ok, regs};
    use super::*;
    use crate::exit::Exit;

    // Expected values were measured on the host CPU (AMD) running the same
    // instruction bytes natively.

    /// Runs `code` with AX = `ax`; returns (EAX, flags with bit 1 and IF).
    fn go(code: &[u8], ax: u32, fl: u32) -> (u32, u32) {
        let cpu = exec_ok(code, regs(ax, 0, 0, 0), fl);
        (cpu.gpr[0], cpu.eflags() & 0xfff)
    }

    #[test]
    fn daa_edges() {
        assert_eq!(go(&[0x27], 0x9a, 0x202), (0x00, 0x257));
        assert_eq!(go(&[0x27], 0x99, 0x203), (0xf9, 0x287));
        assert_eq!(go(&[0x27], 0x0f, 0x212), (0x15, 0x212));
    }

    #[test]
    fn das_edges() {
        // The borrow of the low digit sets CF even without old CF.
        assert_eq!(go(&[0x2f], 0x05, 0x212), (0xff, 0x297));
        assert_eq!(go(&[0x2f], 0x9a, 0x202), (0x34, 0xa13));
    }

    #[test]
    fn aaa_aas_carry_through_ah() {
        // AL = 0xfa: AX + 0x106 carries out of AL into AH.
        assert_eq!(go(&[0x37], 0xfa, 0x202), (0x200, 0x217));
        assert_eq!(go(&[0x37], 0x00, 0x202), (0x00, 0x246));
        assert_eq!(go(&[0x3f], 0x12, 0x212), (0xff0c, 0x297));
    }

    #[test]
    fn aam_aad() {
        assert_eq!(go(&[0xd4, 0x0a], 0x5b, 0x202), (0x0901, 0x202));
        assert_eq!(go(&[0xd5, 0x0a], 0x0907, 0x202), (0x61, 0x212));
        // aad 7 with AX = 0xffde: 0xde + 0xff * 7 sets every add flag.
        assert_eq!(go(&[0xd5, 0x07], 0xffde, 0x202), (0xd7, 0x297));
        let r = exec(&[0xd4, 0x00], regs(0x1234, 0, 0, 0), 0x202, &[]);
        assert_eq!(r.exit, Exit::Exception(Exception::DivideError));
        assert_eq!(r.cpu.gpr[0], 0x1234);
    }

    /// Packed BCD of `n` < 100.
    fn packed(n: u32) -> u32 {
        ((n / 10) << 4) | (n % 10)
    }

    #[test]
    fn daa_matches_decimal_addition() {
        // For every pair of two-digit BCD numbers, ADD then DAA gives the
        // decimal sum mod 100 and CF = carry out of the hundreds.
        for a in 0..100u32 {
            for b in 0..100u32 {
                let (pa, pb) = (packed(a), packed(b));
                let sum = pa + pb;
                let af = (pa & 0xf) + (pb & 0xf) > 0xf;
                let fl = bit(sum > 0xff, flag::CF) | bit(af, flag::AF);
                let out = daa(sum as u16 & 0xff, fl);
                let want = (a + b) % 100;
                assert_eq!(u32::from(out.ax), packed(want), "{a} + {b}");
                assert_eq!(out.flags & flag::CF != 0, a + b >= 100, "{a} + {b}");
            }
        }
    }
}
