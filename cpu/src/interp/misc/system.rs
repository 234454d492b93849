//! RDTSC, CPUID, cache and ordering hints, UD0/UD1/UD2, and the system
//! instructions a user process can reach.
//!
//! Choices, per the SDM and what Linux user mode sees:
//! - SGDT, SIDT, SLDT, STR and SMSW: CR4.UMIP makes them #GP at CPL 3, and
//!   Linux (arch/x86/kernel/umip.c) emulates them for 32-bit processes with
//!   fixed dummy values. Wax returns the values a 32-bit process sees on
//!   the host (verified with a `gcc -m32` probe): GDT base 0xfffe0000 and
//!   IDT base 0xffff0000, both with limit 0; LDTR 0; TR 0x40; CR0
//!   0x80050033.
//! - LMSW, RDPMC (CR4.PCE clear), MOV to/from CR and DR: #GP.
//! - Instructions whose CPUID bit Wax does not report (RDTSCP, MONITOR,
//!   XGETBV, SYSCALL, ...) are left to the table's #UD default.
//! - LFENCE/MFENCE/SFENCE and PREFETCHh/PREFETCHW never fault and do
//!   nothing (one guest thread runs at a time, and there is no cache to
//!   manage). CLFLUSH does nothing either but checks its operand is
//!   readable, like the hardware (a probe of `clflush (0)` gets SIGSEGV).

use super::super::ctx::{gp, ud, Ctx, Flow, Handler};
use super::super::table::op_size;
use crate::cpuid::cpuid;
use crate::exit::Exit;
use crate::interp::decoded::Decoded;
use crate::state::reg;
use iced_x86::{Code, Instruction, Mnemonic};

/// Dummy descriptor-table bases Linux's UMIP emulation reports to 32-bit
/// processes (limit 0).
const UMIP_GDT_BASE: u32 = 0xfffe_0000;
const UMIP_IDT_BASE: u32 = 0xffff_0000;
/// Dummy CR0 for SMSW: PE, MP, ET, NE, WP, AM, PG.
const UMIP_CR0: u32 = 0x8005_0033;
/// Dummy task register: GDT entry 8 (the x86-64 kernel's TSS slot).
const UMIP_TR: u32 = 0x40;

/// RDTSC: the counter follows the host's clock, which the CPU crate does
/// not have: the kernel completes the instruction (CR4.TSD is clear on
/// Linux, so user mode may always read it).
fn rdtsc(_: &mut Ctx<'_, '_>, _: &Decoded) -> Flow {
    Err(Exit::Rdtsc)
}

fn cpuid_(ctx: &mut Ctx<'_, '_>, _: &Decoded) -> Flow {
    let g = &mut ctx.cpu.gpr;
    let [a, b, c, d] = cpuid(g[reg::EAX], g[reg::ECX]);
    g[reg::EAX] = a;
    g[reg::EBX] = b;
    g[reg::ECX] = c;
    g[reg::EDX] = d;
    Ok(())
}

fn nop(_: &mut Ctx<'_, '_>, _: &Decoded) -> Flow {
    Ok(())
}

/// CLFLUSH m8: faults like a read of its operand, does nothing else.
fn clflush(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let a = ctx.ea(insn);
    ctx.mem.read_u8(a)?;
    Ok(())
}

fn undefined(_: &mut Ctx<'_, '_>, _: &Decoded) -> Flow {
    ud()
}

fn privileged(_: &mut Ctx<'_, '_>, _: &Decoded) -> Flow {
    gp()
}

/// SGDT/SIDT m: a 16-bit limit, then a 32-bit base (the UMIP emulation
/// stores all 32 bits even with a 16-bit operand size).
fn store_table<const BASE: u32>(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let a = ctx.ea(insn);
    ctx.mem.probe_write(a, 6)?;
    ctx.mem.write_u16(a, 0)?;
    ctx.mem.write_u32(a.add(2), BASE)?;
    Ok(())
}

/// SLDT/STR/SMSW r/m: memory takes 16 bits, a 32-bit register the whole
/// (zero-extended) value, a 16-bit register its low half.
fn store_sys<const VALUE: u32>(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let dst = ctx.loc(insn, 0);
    ctx.write_loc(dst, op_size(insn, 0), VALUE)
}

/// Selects handlers of this group.
pub(super) fn lookup(insn: &Instruction) -> Option<Handler> {
    use Mnemonic::*;
    Some(match insn.mnemonic() {
        Rdtsc => rdtsc,
        Cpuid => cpuid_,
        Lfence | Mfence | Sfence | Prefetchnta | Prefetcht0 | Prefetcht1 | Prefetcht2
        | Prefetchw | Prefetch | Reservednop => nop,
        Clflush => clflush,
        Ud0 | Ud1 | Ud2 => undefined,
        Sgdt => store_table::<UMIP_GDT_BASE>,
        Sidt => store_table::<UMIP_IDT_BASE>,
        Sldt => store_sys::<0>,
        Str => store_sys::<UMIP_TR>,
        Smsw => store_sys::<UMIP_CR0>,
        Lmsw | Rdpmc => privileged,
        _ => match insn.code() {
            Code::Mov_r32_cr
            | Code::Mov_cr_r32
            | Code::Mov_r32_dr
            | Code::Mov_dr_r32
            | Code::Mov_r32_tr
            | Code::Mov_tr_r32 => privileged,
            _ => return None,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::super::testutil::Vm;
    use crate::exit::{Exception, Exit};
    use crate::GuestAddr;

    #[test]
    fn rdtsc_exits_past_the_instruction() {
        // nop ; rdtsc
        let mut vm = Vm::new(&[0x90, 0x0f, 0x31]);
        assert_eq!(vm.run(), Exit::Rdtsc);
        assert_eq!(vm.cpu().eip, 0x1003);
    }

    #[test]
    fn cpuid_leaf0() {
        // cpuid with eax = 0
        let mut vm = Vm::new(&[0x31, 0xc0, 0x0f, 0xa2]);
        assert_eq!(vm.run(), Exit::Syscall);
        assert_eq!(vm.cpu().gpr[3], u32::from_le_bytes(*b"Genu"));
    }

    #[test]
    fn umip_emulated_stores() {
        // sgdt [0x10000] ; smsw eax ; str cx (66 0f 00 c9)
        let mut vm = Vm::new(&[
            0x0f, 0x01, 0x05, 0, 0, 1, 0, 0x0f, 0x01, 0xe0, 0x66, 0x0f, 0x00, 0xc9,
        ]);
        vm.cpu().gpr[1] = 0xcccc_cccc;
        assert_eq!(vm.run(), Exit::Syscall);
        assert_eq!(vm.mem().read_u16(GuestAddr(0x10000)).unwrap(), 0);
        assert_eq!(vm.mem().read_u32(GuestAddr(0x10002)).unwrap(), 0xfffe_0000);
        assert_eq!(vm.cpu().gpr[0], 0x8005_0033);
        assert_eq!(vm.cpu().gpr[1], 0xcccc_0040);
    }

    #[test]
    fn privileged_and_undefined() {
        // mov eax, cr0
        let mut vm = Vm::new(&[0x0f, 0x20, 0xc0]);
        assert_eq!(vm.run(), Exit::Exception(Exception::GeneralProtection));
        // ud2
        let mut vm = Vm::new(&[0x0f, 0x0b]);
        assert_eq!(vm.run(), Exit::Exception(Exception::InvalidOpcode));
        // clflush [0] faults, prefetcht0 [0] does not
        let mut vm = Vm::new(&[0x0f, 0x18, 0x0d, 0, 0, 0, 0, 0x0f, 0xae, 0x3d, 0, 0, 0, 0]);
        match vm.run() {
            Exit::Exception(Exception::PageFault(f)) => assert_eq!(f.addr, GuestAddr(0)),
            e => panic!("{e:?}"),
        }
        assert_eq!(vm.cpu().eip, 0x1007);
    }
}
