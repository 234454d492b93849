//! Instruction-level tests: machine code run through the interpreter.
//! Expected values were measured on the host CPU with `gcc -m32` probes.

use crate::exit::{Exception, Exit};
use crate::mem::{AddressSpace, Machine, Prot};
use crate::state::{flag, CpuState};
use crate::{run, DecodeCache, GuestAddr};

const CODE: u32 = 0x0804_8000;
const DATA: u32 = 0x1000_0000;

struct Guest {
    machine: Machine,
    space: AddressSpace,
}

impl Guest {
    /// Maps `code` (followed by `int 0x80`) and a data page holding `data`.
    fn new(code: &[u8], data: &[u8]) -> Guest {
        let mut machine = Machine::new(16 << 20);
        let mut space = machine.new_space().expect("space");
        machine.map(&mut space, GuestAddr(CODE), 0x1000, Prot::RWX, false);
        machine.map(&mut space, GuestAddr(DATA), 0x1000, Prot::RW, false);
        let mut bytes = code.to_vec();
        bytes.extend_from_slice(&[0xcd, 0x80]);
        let mut mem = machine.mem(&mut space);
        mem.write_bytes(GuestAddr(CODE), &bytes).unwrap();
        mem.write_bytes(GuestAddr(DATA), data).unwrap();
        Guest { machine, space }
    }

    /// Runs from the start after `setup`; returns the exit and the state.
    fn run(&mut self, setup: impl FnOnce(&mut CpuState)) -> (Exit, CpuState) {
        let (cpu, mut mem) = self.machine.guest(&mut self.space);
        cpu.eip = CODE;
        cpu.gpr[0] = DATA;
        setup(cpu);
        let r = run(cpu, &mut mem, &mut DecodeCache::new(), 1000);
        (r.exit, cpu.clone())
    }
}

fn set_xmm(cpu: &mut CpuState, n: usize, v: u128) {
    for i in 0..4 {
        cpu.xmm[n][i] = (v >> (32 * i)) as u32;
    }
}

fn xmm(cpu: &CpuState, n: usize) -> u128 {
    (0..4).fold(0, |v, i| v | u128::from(cpu.xmm[n][i]) << (32 * i))
}

#[test]
fn strlen_idiom_finds_the_nul() {
    // pcmpeqb xmm1, [eax]; pmovmskb ecx, xmm1
    let code = [0x66, 0x0f, 0x74, 0x08, 0x66, 0x0f, 0xd7, 0xc9];
    let mut g = Guest::new(&code, b"hello, world\0abc");
    let (exit, cpu) = g.run(|_| {});
    assert_eq!(exit, Exit::Syscall);
    assert_eq!(cpu.gpr[1], 1 << 12);
}

#[test]
fn misaligned_movdqa_faults_without_side_effects() {
    // movdqa xmm0, [eax]
    let mut g = Guest::new(&[0x66, 0x0f, 0x6f, 0x00], &[0; 32]);
    let (exit, cpu) = g.run(|c| {
        c.gpr[0] = DATA + 8;
        set_xmm(c, 0, 7);
    });
    assert_eq!(exit, Exit::Exception(Exception::GeneralProtection));
    assert_eq!(cpu.eip, CODE);
    assert_eq!(xmm(&cpu, 0), 7);
}

/// Runs `mulss xmm0, xmm1` with the given MXCSR; returns (exit, low lane,
/// MXCSR).
fn mulss(a: u32, b: u32, mxcsr: u32) -> (Exit, u32, u32) {
    let mut g = Guest::new(&[0xf3, 0x0f, 0x59, 0xc1], &[]);
    let (exit, cpu) = g.run(|c| {
        set_xmm(c, 0, u128::from(a) | 0x1234 << 64);
        set_xmm(c, 1, u128::from(b));
        c.mxcsr = mxcsr;
    });
    assert_eq!(xmm(&cpu, 0) >> 64, 0x1234, "upper lanes kept");
    (exit, cpu.xmm[0][0], cpu.mxcsr)
}

#[test]
fn mulss_underflow_flags_and_ftz_match_the_host() {
    let ok = Exit::Syscall;
    // Tiny exact result: no flags; FTZ flushes it with UE|PE.
    assert_eq!(
        mulss(0x0080_0000, 0x3f00_0000, 0x1f80),
        (ok, 0x0040_0000, 0x1f80)
    );
    assert_eq!(mulss(0x0080_0000, 0x3f00_0000, 0x9f80), (ok, 0, 0x9fb0));
    // Tiny inexact: rounds to the smallest normal with UE|PE; in round
    // towards zero stays below it.
    assert_eq!(
        mulss(0x00ff_ffff, 0x3f00_0000, 0x1f80),
        (ok, 0x0080_0000, 0x1fb0)
    );
    assert_eq!(
        mulss(0x00ff_ffff, 0x3f00_0000, 0x7f80),
        (ok, 0x007f_ffff, 0x7fb0)
    );
    // Overflow towards zero gives the largest finite number.
    assert_eq!(
        mulss(0x7f7f_ffff, 0x4000_0000, 0x7f80),
        (ok, 0x7f7f_ffff, 0x7fa8)
    );
    // inf * 0 is invalid: the default NaN.
    assert_eq!(mulss(0x7f80_0000, 0, 0x1f80), (ok, 0xffc0_0000, 0x1f81));
}

#[test]
fn unmasked_exception_traps_and_keeps_the_destination() {
    let xm = Exit::Exception(Exception::SimdFloatingPoint);
    // Underflow unmasked: UE alone, destination untouched.
    assert_eq!(
        mulss(0x0080_0001, 0x3f00_0000, 0x1780),
        (xm, 0x0080_0001, 0x1790)
    );
    // Overflow unmasked: OE alone.
    assert_eq!(
        mulss(0x7f7f_ffff, 0x4000_0000, 0x1b80),
        (xm, 0x7f7f_ffff, 0x1b88)
    );
}

#[test]
fn comiss_sets_zf_pf_cf() {
    // comiss xmm0, xmm1
    let mut g = Guest::new(&[0x0f, 0x2f, 0xc1], &[]);
    let (_, cpu) = g.run(|c| {
        set_xmm(c, 0, 0x3f80_0000);
        set_xmm(c, 1, 0x7fc0_0000);
        c.set_eflags(flag::OF | flag::SF | flag::AF | flag::FIXED1);
    });
    let f = cpu.eflags();
    assert_eq!(f & flag::STATUS, flag::ZF | flag::PF | flag::CF);
    assert_eq!(cpu.mxcsr, 0x1f81, "COMISS signals on a quiet NaN");
}

#[test]
fn cvttss2si_out_of_range_is_integer_indefinite() {
    // cvttss2si ecx, xmm0
    let mut g = Guest::new(&[0xf3, 0x0f, 0x2c, 0xc8], &[]);
    let (_, cpu) = g.run(|c| set_xmm(c, 0, 0x4f00_0000));
    assert_eq!(cpu.gpr[1], 0x8000_0000);
    assert_eq!(cpu.mxcsr, 0x1f81);
}

#[test]
fn ldmxcsr_rejects_reserved_bits() {
    // ldmxcsr [eax]
    let mut g = Guest::new(&[0x0f, 0xae, 0x10], &0x1_1f80u32.to_le_bytes());
    let (exit, cpu) = g.run(|_| {});
    assert_eq!(exit, Exit::Exception(Exception::GeneralProtection));
    assert_eq!(cpu.mxcsr, 0x1f80);
}

#[test]
fn mmx_add_enters_mmx_mode_and_emms_leaves_it() {
    // paddb mm0, mm1
    let mut g = Guest::new(&[0x0f, 0xfc, 0xc1], &[]);
    let (_, cpu) = g.run(|c| {
        c.x87.regs[0].signif = 0x01ff;
        c.x87.regs[1].signif = 0x0101;
        c.x87.top = 3;
    });
    assert_eq!(cpu.x87.regs[0].signif, 0x0200);
    assert_eq!(cpu.x87.regs[0].sign_exp, 0xffff);
    assert_eq!((cpu.x87.top, cpu.x87.tag), (0, 0));
    // emms
    let mut g = Guest::new(&[0x0f, 0x77], &[]);
    let (_, cpu) = g.run(|c| c.x87.tag = 0);
    assert_eq!(cpu.x87.tag, 0xffff);
}

#[test]
fn rcpss_and_rsqrtss_match_the_host_tables() {
    use super::approx::{rcp, rsqrt};
    use super::soft::Env;
    let env = &mut Env::new(0x1f80);
    assert_eq!(rcp(0x3f80_0000, env), 0x3f7f_f000);
    assert_eq!(rcp(0x7e7f_ffff, env), 0x0080_0000);
    assert_eq!(rcp(0x7e00_0000, env), 0x00ff_f000);
    assert_eq!(rcp(0x7e80_0000, env), 0);
    assert_eq!(rcp(0x8000_0001, env), 0xff80_0000);
    assert_eq!(rsqrt(0x3f80_0000, env), 0x3f7f_f800);
    assert_eq!(rsqrt(0x0080_0000, env), 0x5eff_f800);
    assert_eq!(rsqrt(0x7f00_0000, env), 0x1fb5_0000);
    assert_eq!(rsqrt(0xbf80_0000, env), 0xffc0_0000);
    assert_eq!(env.flags, 0);
}
