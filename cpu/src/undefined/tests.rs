use super::*;
use crate::addr::GuestAddr;
use crate::exit::Exit;
use crate::mem::{Machine, Prot};
use crate::state::CpuState;
use crate::{run, DecodeCache};
use iced_x86::{Decoder, DecoderOptions};

const CODE: u32 = 0x1000_0000;

/// Runs one instruction with the given registers (EAX, ECX, EDX, EBX, ...)
/// and flags.
fn exec(code: &[u8], gpr: [u32; 8], eflags: u32) -> CpuState {
    let mut m = Machine::new(16 << 20);
    let mut space = m.new_space().unwrap();
    m.map(&mut space, GuestAddr(CODE), 0x1000, Prot::RWX, false);
    let (cpu, mut mem) = m.guest(&mut space);
    let bytes = [code, &[0xcd, 0x80]].concat();
    mem.write_bytes(GuestAddr(CODE), &bytes).unwrap();
    cpu.gpr = gpr;
    cpu.set_eflags(eflags);
    cpu.eip = CODE;
    let exit = run(cpu, &mut mem, &mut DecodeCache::new(), 10).exit;
    assert_eq!(exit, Exit::Syscall, "{code:02x?}");
    cpu.clone()
}

fn decode(code: &[u8]) -> Instruction {
    Decoder::new(32, code, DecoderOptions::NONE).decode()
}

/// `of` for `code` with registers `gpr` (operands read from them; the
/// immediate of a shift comes from the instruction).
fn table(code: &[u8], gpr: [u32; 8]) -> Undefined {
    let insn = decode(code);
    of(&insn, &mut |i| match insn.op_kind(i) {
        OpKind::Register => {
            let r = insn.op_register(i);
            let full = gpr[r.full_register32().number() - iced_x86::Register::EAX.number()];
            match (
                r.size(),
                r.number() >= iced_x86::Register::AH.number()
                    && r.number() <= iced_x86::Register::BH.number(),
            ) {
                (1, true) => full >> 8 & 0xff,
                (1, false) => full & 0xff,
                (2, _) => full & 0xffff,
                _ => full,
            }
        }
        _ => insn.immediate(i) as u32,
    })
}

fn regs(eax: u32, ecx: u32, edx: u32, ebx: u32) -> [u32; 8] {
    [eax, ecx, edx, ebx, 0x8000, 0, 0, 0]
}

/// Instructions with their undefined parts, each with registers that
/// select the case.
fn samples() -> Vec<(&'static [u8], [u32; 8])> {
    vec![
        (&[0x21, 0xd8], regs(0xf0, 0, 0, 0x3c)),     // and eax, ebx
        (&[0xd3, 0xe0], regs(0x8000_0001, 1, 0, 0)), // shl eax, cl (1)
        (&[0xd3, 0xe0], regs(0x8000_0001, 5, 0, 0)), // shl eax, cl (5)
        (&[0xd2, 0xe8], regs(0x80, 9, 0, 0)),        // shr al, cl (9)
        (&[0xd3, 0xf8], regs(0x8000_0000, 3, 0, 0)), // sar eax, cl
        (&[0xd3, 0xc0], regs(0x8000_0001, 3, 0, 0)), // rol eax, cl
        (&[0xd2, 0xd0], regs(0x81, 10, 0, 0)),       // rcl al, cl
        (&[0x66, 0x0f, 0xa5, 0xd0], regs(0x1234, 7, 0xabcd, 0)), // shld ax, dx, cl
        (&[0x66, 0x0f, 0xa5, 0xd0], regs(0x1234, 20, 0xabcd, 0)),
        (&[0x66, 0x0f, 0xad, 0xd0], regs(0x1234, 20, 0xabcd, 0)), // shrd ax, dx, cl
        (&[0xf7, 0xe3], regs(3, 0, 0, 5)),                        // mul ebx
        (&[0x0f, 0xaf, 0xc3], regs(0, 0, 0, 5)),                  // imul eax, ebx
        (&[0xf7, 0xf3], regs(7, 0, 0, 2)),                        // div ebx
        (&[0x27], regs(0x9a, 0, 0, 0)),                           // daa
        (&[0x37], regs(0xfa, 0, 0, 0)),                           // aaa
        (&[0xd4, 0x0a], regs(0x5b, 0, 0, 0)),                     // aam
        (&[0x0f, 0xa3, 0xd8], regs(0, 0, 0, 3)),                  // bt eax, ebx
        (&[0x0f, 0xbc, 0xc3], regs(0, 0, 0, 0x180)),              // bsf eax, ebx
        (&[0x0f, 0xbd, 0xc3], regs(5, 0, 0, 0)),                  // bsr eax, ebx (0)
        (&[0x66, 0x0f, 0xc8], regs(0x1234_5678, 0, 0, 0)),        // bswap ax
    ]
}

#[test]
fn table_names_only_what_the_sdm_leaves_undefined() {
    for (code, gpr) in samples() {
        let insn = decode(code);
        let u = table(code, gpr);
        let mut sdm = from_iced_rflags(insn.rflags_undefined());
        // iced cannot know operand values: CF of SHL/SHR by the operand
        // size or more, and everything after SHLD/SHRD r16 by more than 16.
        let count = gpr[1] & 0x1f;
        let size = insn.op0_register().size() as u32 * 8;
        if matches!(insn.mnemonic(), Mnemonic::Shl | Mnemonic::Shr) && count >= size {
            sdm |= flag::CF;
        }
        if matches!(insn.mnemonic(), Mnemonic::Shld | Mnemonic::Shrd) && count > size {
            sdm |= flag::STATUS;
        }
        assert_eq!(u.flags & !sdm, 0, "{insn}: {:#x} vs {sdm:#x}", u.flags);
    }
}

#[test]
fn counts_select_the_undefined_flags() {
    let shl = |c| table(&[0xd3, 0xe0], regs(1, c, 0, 0)).flags;
    assert_eq!(shl(0), 0);
    assert_eq!(shl(32), 0, "the count is masked to 0");
    assert_eq!(shl(1), flag::AF);
    assert_eq!(shl(2), flag::AF | flag::OF);
    let shl8 = |c| table(&[0xd2, 0xe0], regs(1, c, 0, 0)).flags;
    assert_eq!(shl8(8), flag::AF | flag::OF | flag::CF);
    let sar8 = |c| table(&[0xd2, 0xf8], regs(1, c, 0, 0)).flags;
    assert_eq!(sar8(8), flag::AF | flag::OF);
    let shld = |c| table(&[0x66, 0x0f, 0xa5, 0xd0], regs(1, c, 0, 0));
    assert_eq!(shld(16).dest, 0);
    assert_eq!(shld(17).dest, 0xffff);
    assert_eq!(shld(17).flags, flag::STATUS);
    let bsf = |src| table(&[0x66, 0x0f, 0xbc, 0xc3], regs(0, 0, 0, src)).dest;
    assert_eq!((bsf(0x1_0000), bsf(2)), (0xffff, 0));
}

#[test]
fn the_interpreter_follows_the_table() {
    const ALL: u32 = 0x8d5;
    for fl in [0x202, 0x202 | ALL] {
        let st = |code: &[u8], gpr| exec(code, gpr, fl).eflags() & flag::STATUS;
        // and eax, ebx: AF = 0.
        assert_eq!(st(&[0x21, 0xd8], regs(0xf0, 0, 0, 0x3c)) & flag::AF, 0);
        // shl eax, cl by 5: AF = 0, OF = MSB(res) ^ CF.
        let f = st(&[0xd3, 0xe0], regs(0x0c00_0001, 5, 0, 0));
        assert_eq!(f & (flag::AF | flag::OF | flag::CF), flag::CF);
        let f = st(&[0xd3, 0xe0], regs(0x0400_0001, 5, 0, 0));
        assert_eq!(f & (flag::AF | flag::OF | flag::CF), flag::OF);
        // mul ebx and imul eax, ebx: `mul_flags` of the low half.
        let f = st(&[0xf7, 0xe3], regs(0x8000_0001, 0, 0, 3));
        assert_eq!(f, mul_flags(0x8000_0003, 32, true));
        let f = st(&[0x0f, 0xaf, 0xc3], regs(0, 0, 0, 5));
        assert_eq!(f, mul_flags(0, 32, false));
        // div ebx: the flags stay as they were.
        assert_eq!(st(&[0xf7, 0xf3], regs(7, 0, 0, 2)), fl & ALL);
        // bsf/bsr: logic flags of the index; a zero source: ZF and PF.
        assert_eq!(
            st(&[0x0f, 0xbc, 0xc3], regs(0, 0, 0, 0x180)),
            bit_scan_flags(7, false)
        );
        assert_eq!(
            st(&[0x0f, 0xbd, 0xc3], regs(5, 0, 0, 0)),
            bit_scan_flags(0, true)
        );
        // bt: only CF changes.
        let f = st(&[0x0f, 0xa3, 0xd8], regs(0, 0, 0, 3));
        assert_eq!(f & !flag::CF, fl & ALL & !flag::CF);
    }
    // shld/shrd ax, dx, cl by 20: the 48-bit shift.
    for (op, left) in [(0xa5u8, true), (0xad, false)] {
        let cpu = exec(&[0x66, 0x0f, op, 0xd0], regs(0x1234, 20, 0xabcd, 0), 0x202);
        let (res, cf) = double_shift16_past_size(0x1234, 0xabcd, 20, left);
        assert_eq!(cpu.gpr[0] & 0xffff, res);
        assert_eq!(cpu.eflags() & flag::CF != 0, cf);
    }
}

#[test]
fn double_shift_past_size_is_a_48_bit_shift() {
    // dst:src:dst = 1234:abcd:1234; left by 20 takes bits 43..28.
    assert_eq!(
        double_shift16_past_size(0x1234, 0xabcd, 20, true),
        (0xbcd1, false)
    );
    // right by 20 takes bits 35..20.
    assert_eq!(
        double_shift16_past_size(0x1234, 0xabcd, 20, false),
        (0x4abc, true)
    );
    // A count of 16 or less is the defined SHLD/SHRD.
    assert_eq!(double_shift16_past_size(0x1234, 0xabcd, 16, true).0, 0xabcd);
    assert_eq!(double_shift16_past_size(0x1234, 0xabcd, 4, false).0, 0xd123);
}
