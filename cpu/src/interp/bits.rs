//! Bit instructions: BT, BTS, BTR, BTC, BSF, BSR, BSWAP, and the F3-prefixed
//! TZCNT/LZCNT/POPCNT encodings.
//!
//! BT* with a memory operand and a register offset address a bit string:
//! the offset is signed and may reach outside the addressed word, so the
//! access moves to `ea + (offset >> log2(size)) * size/8` and tests bit
//! `offset & (size - 1)` there. With a register operand or an immediate
//! offset the offset is taken modulo the operand size.
//!
//! Wax's CPUID claims neither BMI1 nor ABM nor POPCNT, so these encodings
//! run as they do on a P6-class CPU without them: F3 0F BC (TZCNT) is BSF
//! and F3 0F BD (LZCNT) is BSR with the prefix ignored, and F3 0F B8
//! (POPCNT) is #UD.
//!
//! Undefined flags and results follow Wax's table in `undefined.rs`.

use super::ctx::{ud, Ctx, Flow, Handler, Loc};
use crate::addr::GuestAddr;
use crate::by_size;
use crate::interp::decoded::Decoded;
use crate::state::flag;
use crate::undefined::bit_scan_flags;
use iced_x86::{Instruction, Mnemonic, OpKind};

pub const BT: u8 = 0;
pub const BTS: u8 = 1;
pub const BTR: u8 = 2;
pub const BTC: u8 = 3;

/// A flag bit when `cond` holds.
#[inline(always)]
fn bit(cond: bool, f: u32) -> u32 {
    if cond {
        f
    } else {
        0
    }
}

/// The operand's new value after BT/BTS/BTR/BTC of bit `n`.
#[inline(always)]
fn apply<const OP: u8>(v: u32, n: u32) -> u32 {
    match OP {
        BTS => v | 1 << n,
        BTR => v & !(1 << n),
        BTC => v ^ 1 << n,
        _ => v,
    }
}

/// Where a BT* operand lives and which bit of it is meant.
fn bit_target<const S: u32>(ctx: &Ctx<'_, '_>, insn: &Decoded, offset: u32) -> (Loc, u32) {
    let loc = ctx.loc(insn, 0);
    let n = offset & (S - 1);
    match loc {
        Loc::Mem(a) if insn.op1_kind() == OpKind::Register => {
            // Sign-extend the offset from the operand size, then step in
            // whole operands: an arithmetic shift rounds towards -infinity,
            // which keeps `n` non-negative.
            let signed = ((offset << (32 - S)) as i32) >> (32 - S);
            let step = (signed >> S.trailing_zeros()).wrapping_mul(S as i32 / 8);
            (Loc::Mem(GuestAddr(a.0.wrapping_add(step as u32))), n)
        }
        _ => (loc, n),
    }
}

/// `bt/bts/btr/btc r/m, r|imm8`: CF = the selected bit; the other flags
/// (OF, SF, AF, PF undefined) stay unchanged.
fn bt<const OP: u8, const S: u32>(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let offset = ctx.read_op(insn, 1, S)?;
    let (loc, n) = bit_target::<S>(ctx, insn, offset);
    // BTS/BTR/BTC are read-modify-write: a fault reports the write.
    let v = if OP == BT {
        ctx.read_loc(loc, S)?
    } else {
        ctx.read_loc_rmw(loc, S)?
    };
    if OP != BT {
        ctx.write_loc(loc, S, apply::<OP>(v, n))?;
    }
    ctx.cpu
        .update_status(flag::CF, bit(v >> n & 1 != 0, flag::CF));
    Ok(())
}

/// `bsf/bsr r, r/m` (and TZCNT/LZCNT encodings): the index of the lowest
/// or highest set bit. A zero source sets ZF and leaves the destination
/// unchanged; the undefined flags are `undefined::bit_scan_flags`.
fn bit_scan<const REVERSE: bool, const S: u32>(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let src = ctx.read_op(insn, 1, S)?;
    if src == 0 {
        ctx.cpu.set_status(bit_scan_flags(0, true));
        return Ok(());
    }
    let index = if REVERSE {
        31 - src.leading_zeros()
    } else {
        src.trailing_zeros()
    };
    ctx.set_reg(insn.op0_register(), index);
    ctx.cpu.set_status(bit_scan_flags(index, false));
    Ok(())
}

/// `bswap r32`.
fn bswap32(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let r = insn.op0_register();
    let v = ctx.reg(r);
    ctx.set_reg(r, v.swap_bytes());
    Ok(())
}

/// `bswap r16` (66 0F C8+r), undefined in the SDM: Wax clears the 16-bit
/// register (see `undefined.rs`).
fn bswap16(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    ctx.set_reg(insn.op0_register(), 0);
    Ok(())
}

/// POPCNT without CPUID.POPCNT: #UD.
fn popcnt(_: &mut Ctx<'_, '_>, _: &Decoded) -> Flow {
    ud()
}

/// Selects bit-instruction handlers.
pub fn lookup(insn: &Instruction) -> Option<Handler> {
    use Mnemonic::*;
    Some(match insn.mnemonic() {
        Bt => by_size!(insn, bt, BT),
        Bts => by_size!(insn, bt, BTS),
        Btr => by_size!(insn, bt, BTR),
        Btc => by_size!(insn, bt, BTC),
        Bsf | Tzcnt => by_size!(insn, bit_scan, false),
        Bsr | Lzcnt => by_size!(insn, bit_scan, true),
        Bswap if insn.op0_register().size() == 2 => bswap16,
        Bswap => bswap32,
        Popcnt => popcnt,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::super::shift::testing::{exec, exec_ok, regs, DATA};
    use crate::exit::{Exception, Exit};

    /// Registers with EDI pointing into the middle of the data page, so
    /// negative bit offsets stay inside it.
    fn mid(eax: u32, ecx: u32) -> [u32; 8] {
        let mut r = regs(eax, ecx, 0, 0);
        r[7] = DATA + 0x20;
        r
    }

    #[test]
    fn register_offsets_index_a_signed_bit_string() {
        // bt [edi], ecx with ECX = -1: bit 31 of the dword at EDI - 4.
        let mut data = [0u8; 64];
        data[0x1f] = 0x80;
        let r = exec(&[0x0f, 0xa3, 0x0f], mid(0, u32::MAX), 0x202, &data);
        assert_eq!(r.cpu.eflags() & 0xfff, 0x203);
        // bts word [edi], cx with CX = -16 (upper ECX bits ignored): bit 0
        // of the word at EDI - 2.
        let r = exec(&[0x66, 0x0f, 0xab, 0x0f], mid(0, 0x1234_fff0), 0x202, &[]);
        assert_eq!(r.data[0x1e], 0x01);
        assert_eq!(r.cpu.eflags() & 0xfff, 0x202);
        // btc [edi], ecx with ECX = 32: bit 0 of the dword at EDI + 4.
        data = [0u8; 64];
        data[0x24] = 0x01;
        let r = exec(&[0x0f, 0xbb, 0x0f], mid(0, 32), 0x2d6, &data);
        assert_eq!(r.data[0x24], 0);
        assert_eq!(r.cpu.eflags() & 0xfff, 0x2d7);
    }

    #[test]
    fn immediate_offsets_are_masked() {
        // bt [edi], 0x21 tests bit 1 of the dword at EDI itself.
        let mut data = [0u8; 64];
        data[0x24] = 0xff;
        data[0x20] = 0x02;
        let r = exec(&[0x0f, 0xba, 0x27, 0x21], mid(0, 0), 0x2d6, &data);
        assert_eq!(r.cpu.eflags() & 0xfff, 0x2d7);
        // bt eax, 0x21.
        let cpu = exec_ok(&[0x0f, 0xba, 0xe0, 0x21], regs(2, 0, 0, 0), 0x202);
        assert_eq!(cpu.eflags() & 0xfff, 0x203);
    }

    #[test]
    fn bit_scan_flags_and_zero_source() {
        // bsf eax, ebx with EBX = 0: EAX unchanged, ZF and PF set.
        let cpu = exec_ok(&[0x0f, 0xbc, 0xc3], regs(0x1234_5678, 0, 0, 0), 0xac3);
        assert_eq!((cpu.gpr[0], cpu.eflags() & 0xfff), (0x1234_5678, 0x246));
        let cpu = exec_ok(&[0x0f, 0xbc, 0xc3], regs(0x1234_5678, 0, 0, 0x180), 0xac3);
        assert_eq!((cpu.gpr[0], cpu.eflags() & 0xfff), (7, 0x202));
        let cpu = exec_ok(&[0x0f, 0xbd, 0xc3], regs(0x1234_5678, 0, 0, 0x180), 0xac3);
        assert_eq!((cpu.gpr[0], cpu.eflags() & 0xfff), (8, 0x202));
        // bsf ax, bx writes only AX.
        let cpu = exec_ok(
            &[0x66, 0x0f, 0xbc, 0xc3],
            regs(0xffff_ffff, 0, 0, 0x8000),
            0x202,
        );
        assert_eq!(cpu.gpr[0], 0xffff_000f);
    }

    #[test]
    fn tzcnt_lzcnt_run_as_bsf_bsr_and_popcnt_is_undefined() {
        // tzcnt eax, ebx with EBX = 0: BSF semantics (EAX kept), not 32.
        let cpu = exec_ok(&[0xf3, 0x0f, 0xbc, 0xc3], regs(0x1234_5678, 0, 0, 0), 0x202);
        assert_eq!((cpu.gpr[0], cpu.eflags() & 0xfff), (0x1234_5678, 0x246));
        // lzcnt eax, ebx with EBX = 1: BSR gives 0, LZCNT would give 31.
        let cpu = exec_ok(&[0xf3, 0x0f, 0xbd, 0xc3], regs(5, 0, 0, 1), 0x202);
        assert_eq!(cpu.gpr[0], 0);
        let r = exec(&[0xf3, 0x0f, 0xb8, 0xc3], regs(5, 0, 0, 1), 0x202, &[]);
        assert_eq!(r.exit, Exit::Exception(Exception::InvalidOpcode));
    }

    /// Wax is a CPU without AVX, AVX-512, XOP or 3DNow! (`cpuid.rs`), and
    /// the decoder is built without them (iced-x86's `no_vex`, `no_evex`,
    /// `no_xop`, `no_d3now`: their tables cost start-up time, a tenth of
    /// the Node runner's): their encodings raise #UD, as on a Core 2,
    /// while the legacy instructions that share their first bytes (LES,
    /// LDS, BOUND and POP r/m with a memory operand) still decode.
    #[test]
    fn extensions_wax_does_not_report_are_invalid_opcodes() {
        for code in [
            &[0xc5, 0xf8, 0x77][..],               // vzeroupper
            &[0xc4, 0xe2, 0x78, 0xf2, 0xc3],       // andn eax, eax, ebx
            &[0x62, 0xf1, 0x7c, 0x48, 0x28, 0xc1], // vmovaps zmm0, zmm1
            &[0x8f, 0xe9, 0x78, 0x90, 0xc1],       // vprotb xmm0, xmm1, xmm0
            &[0x0f, 0x0f, 0xc1, 0xb4],             // pfmul mm0, mm1
        ] {
            let r = exec(code, regs(1, 2, 3, 4), 0x202, &[]);
            assert_eq!(
                r.exit,
                Exit::Exception(Exception::InvalidOpcode),
                "{code:x?}"
            );
        }
        // pop dword [edi] (8F /0): the word at ESP lands at EDI.
        let mut gpr = regs(0, 0, 0, 0);
        gpr[4] = DATA + 0x20;
        let mut data = [0u8; 0x24];
        data[0x20] = 7;
        let r = exec(&[0x8f, 0x07], gpr, 0x202, &data);
        assert_eq!(r.exit, Exit::Syscall);
        assert_eq!(
            (&r.data[..4], r.cpu.gpr[4]),
            (&[7u8, 0, 0, 0][..], DATA + 0x24)
        );
    }

    #[test]
    fn bswap() {
        let cpu = exec_ok(&[0x0f, 0xc8], regs(0x1234_5678, 0, 0, 0), 0x202);
        assert_eq!(cpu.gpr[0], 0x7856_3412);
        // 16-bit operand: the host clears the low word.
        let cpu = exec_ok(&[0x66, 0x0f, 0xc8], regs(0x1234_5678, 0, 0, 0), 0x202);
        assert_eq!(cpu.gpr[0], 0x1234_0000);
    }
}
