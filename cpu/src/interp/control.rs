//! Control transfer: JMP, Jcc, CALL, RET, LOOP/LOOPcc/JECXZ, far CALL,
//! JMP and RET, IRET, INT n, INT1, INT3, INTO, NOP, HLT.
//!
//! The run loop sets EIP to the next instruction before a handler runs, so
//! a branch not taken does nothing.
//!
//! Far transfers run at CPL 3 in a flat 32-bit process, where the only
//! code segment is the user one (`misc::check_cs` has the rules): they
//! move EIP and reload CS with the same selector, or fault with #GP like
//! the hardware. A far CALL checks the selector, then pushes CS (a 32-bit
//! push stores it zero-extended, like PUSH CS) and the return EIP; RET
//! and IRET read everything they pop before committing anything, so a
//! fault leaves ESP and the registers alone.

use super::ctx::{gp, Ctx, Flow, Handler};
use super::misc::check_cs;
use crate::addr::GuestAddr;
use crate::by_cc;
use crate::exit::{Exception, Exit};
use crate::flags::size_mask;
use crate::interp::decoded::Decoded;
use crate::state::{flag, reg, seg};
use iced_x86::{Code, ConditionCode, Instruction, Mnemonic, OpKind};

/// The x86 condition number (0..15) of a Jcc/SETcc/CMOVcc/FCMOVcc.
#[inline(always)]
pub fn cc(insn: &Instruction) -> u8 {
    debug_assert!(insn.condition_code() != ConditionCode::None);
    insn.condition_code() as u8 - 1
}

fn jmp_rel(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    ctx.cpu.eip = insn.near_branch_target() as u32;
    Ok(())
}

fn jmp_rm<const S: u32>(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    ctx.cpu.eip = ctx.read_op(insn, 0, S)?;
    Ok(())
}

/// Jcc for condition `CC` (`by_cc!`).
fn jcc<const CC: u8>(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    if ctx.cpu.cond(CC) {
        ctx.cpu.eip = insn.near_branch_target() as u32;
    }
    Ok(())
}

fn call_rel<const S: u32>(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    ctx.push(S, insn.next_ip32())?;
    ctx.cpu.eip = insn.near_branch_target() as u32;
    Ok(())
}

fn call_rm<const S: u32>(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let target = ctx.read_op(insn, 0, S)?;
    ctx.push(S, insn.next_ip32())?;
    ctx.cpu.eip = target;
    Ok(())
}

fn ret<const S: u32>(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let target = ctx.pop(S)?;
    if insn.op_count() == 1 {
        let esp = &mut ctx.cpu.gpr[reg::ESP];
        *esp = esp.wrapping_add(u32::from(insn.immediate16()));
    }
    ctx.cpu.eip = target;
    Ok(())
}

/// The counter register of LOOP/JECXZ: ECX, or CX with an address-size
/// prefix.
fn counter_is_cx(insn: &Instruction) -> bool {
    matches!(
        insn.code(),
        Code::Loopne_rel8_16_CX
            | Code::Loopne_rel8_32_CX
            | Code::Loope_rel8_16_CX
            | Code::Loope_rel8_32_CX
            | Code::Loop_rel8_16_CX
            | Code::Loop_rel8_32_CX
            | Code::Jcxz_rel8_16
            | Code::Jcxz_rel8_32
    )
}

fn loop_(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let cx16 = counter_is_cx(insn);
    let ecx = &mut ctx.cpu.gpr[reg::ECX];
    let count = if cx16 {
        let c = (*ecx as u16).wrapping_sub(1);
        *ecx = (*ecx & 0xffff_0000) | u32::from(c);
        u32::from(c)
    } else {
        *ecx = ecx.wrapping_sub(1);
        *ecx
    };
    let take = count != 0
        && match insn.mnemonic() {
            Mnemonic::Loope => ctx.cpu.zf(),
            Mnemonic::Loopne => !ctx.cpu.zf(),
            _ => true,
        };
    if take {
        ctx.cpu.eip = insn.near_branch_target() as u32;
    }
    Ok(())
}

fn jecxz(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let ecx = ctx.cpu.gpr[reg::ECX];
    let zero = if counter_is_cx(insn) {
        ecx & 0xffff == 0
    } else {
        ecx == 0
    };
    if zero {
        ctx.cpu.eip = insn.near_branch_target() as u32;
    }
    Ok(())
}

/// The target of a far CALL or JMP: (selector, offset) from the pointer
/// operand or from memory (offset first, then the selector).
fn far_target<const S: u32>(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow<(u16, u32)> {
    match insn.op0_kind() {
        OpKind::FarBranch16 => Ok((insn.far_branch_selector(), u32::from(insn.far_branch16()))),
        OpKind::FarBranch32 => Ok((insn.far_branch_selector(), insn.far_branch32())),
        _ => {
            let a = ctx.ea(insn);
            let offset = ctx.read(a, S)?;
            let sel = ctx.read(a.add(S / 8), 16)? as u16;
            Ok((sel, offset))
        }
    }
}

/// JMP ptr16:S / m16:S.
fn jmp_far<const S: u32>(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let (sel, offset) = far_target::<S>(ctx, insn)?;
    ctx.cpu.seg_sel[seg::CS] = check_cs(ctx, sel, false)?;
    ctx.cpu.eip = offset;
    Ok(())
}

/// CALL ptr16:S / m16:S: the selector is checked before anything is
/// pushed; CS goes first, then the return EIP.
fn call_far<const S: u32>(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let (sel, offset) = far_target::<S>(ctx, insn)?;
    let cs = check_cs(ctx, sel, false)?;
    let n = S / 8;
    let sp = ctx.esp();
    let old_cs = u32::from(ctx.cpu.seg_sel[seg::CS]);
    ctx.write(GuestAddr(sp.wrapping_sub(n)), S, old_cs)?;
    ctx.write(GuestAddr(sp.wrapping_sub(2 * n)), S, insn.next_ip32())?;
    ctx.cpu.gpr[reg::ESP] = sp.wrapping_sub(2 * n);
    ctx.cpu.seg_sel[seg::CS] = cs;
    ctx.cpu.eip = offset;
    Ok(())
}

/// Reads the `k`-th S-bit slot above ESP.
fn stack_slot<const S: u32>(ctx: &mut Ctx<'_, '_>, k: u32) -> Flow<u32> {
    let a = ctx.esp().wrapping_add(k * (S / 8));
    ctx.read(GuestAddr(a), S)
}

/// RET far (with an optional imm16 released after the pops): EIP, then
/// CS (only its low 16 bits count).
fn ret_far<const S: u32>(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let eip = stack_slot::<S>(ctx, 0)?;
    let sel = stack_slot::<S>(ctx, 1)? as u16;
    let cs = check_cs(ctx, sel, true)?;
    let release = if insn.op_count() == 1 {
        u32::from(insn.immediate16())
    } else {
        0
    };
    let esp = &mut ctx.cpu.gpr[reg::ESP];
    *esp = esp.wrapping_add(2 * (S / 8)).wrapping_add(release);
    ctx.cpu.seg_sel[seg::CS] = cs;
    ctx.cpu.eip = eip;
    Ok(())
}

/// IRET/IRETD to the same privilege level: EIP, CS and EFLAGS, of which
/// CPL 3 with IOPL 0 may change what POPF may (`flag::USER_WRITABLE`; IF,
/// IOPL, VM, VIF, VIP stay). With NT set IRET would be a task return,
/// which in IA-32e mode (the host's, and Linux's i386 processes see the
/// same) is #GP(0). A TF it sets traps after the next instruction.
fn iret<const S: u32>(ctx: &mut Ctx<'_, '_>, _: &Decoded) -> Flow {
    if ctx.cpu.eflags & flag::NT != 0 {
        return gp();
    }
    let eip = stack_slot::<S>(ctx, 0)?;
    let sel = stack_slot::<S>(ctx, 1)? as u16;
    let image = stack_slot::<S>(ctx, 2)?;
    let cs = check_cs(ctx, sel, true)?;
    let esp = &mut ctx.cpu.gpr[reg::ESP];
    *esp = esp.wrapping_add(3 * (S / 8));
    ctx.cpu.seg_sel[seg::CS] = cs;
    ctx.cpu.eip = eip;
    let old = ctx.cpu.eflags();
    let mask = flag::USER_WRITABLE & size_mask(S);
    let new = (old & !mask) | (image & mask);
    ctx.cpu.set_eflags(new);
    trap_flag_set(old, new)
}

/// Ends the block when an instruction has just set TF: from the next
/// instruction on, the kernel single-steps (see `Exit::SingleStep`).
#[inline(always)]
pub(in crate::interp) fn trap_flag_set(old: u32, new: u32) -> Flow {
    if !old & new & flag::TF != 0 {
        Err(Exit::SingleStep)
    } else {
        Ok(())
    }
}

/// `int n`: Linux lets user mode use the gates of 0x80 (system call), 3
/// (#BP) and 4 (#OF); every other gate has DPL 0 and the CPU raises #GP
/// with the error code of an IDT vector (`n * 8 + 2`).
fn int_n(_: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    match insn.immediate8() {
        0x80 => Err(Exit::Syscall),
        3 => Err(Exception::Breakpoint.into()),
        4 => Err(Exception::Overflow.into()),
        n => Err(Exception::GeneralProtectionCode(u16::from(n) * 8 + 2).into()),
    }
}

/// INT1 (ICEBP): #DB, a trap Linux reports as SIGTRAP with TRAP_BRKPT.
fn int1(_: &mut Ctx<'_, '_>, _: &Decoded) -> Flow {
    Err(Exception::Debug.into())
}

fn int3(_: &mut Ctx<'_, '_>, _: &Decoded) -> Flow {
    Err(Exception::Breakpoint.into())
}

fn into(ctx: &mut Ctx<'_, '_>, _: &Decoded) -> Flow {
    if ctx.cpu.of() {
        Err(Exception::Overflow.into())
    } else {
        Ok(())
    }
}

fn nop(_: &mut Ctx<'_, '_>, _: &Decoded) -> Flow {
    Ok(())
}

fn privileged(_: &mut Ctx<'_, '_>, _: &Decoded) -> Flow {
    gp()
}

/// Selects control-transfer handlers.
pub fn lookup(insn: &Instruction) -> Option<Handler> {
    use Mnemonic::*;
    let near = matches!(insn.op0_kind(), OpKind::NearBranch16 | OpKind::NearBranch32);
    let size16 = matches!(
        insn.code(),
        Code::Call_rel16 | Code::Call_rm16 | Code::Jmp_rm16 | Code::Retnw | Code::Retnw_imm16
    );
    if let Some(h) = far(insn.code()) {
        return Some(h);
    }
    Some(match insn.mnemonic() {
        Jmp if near => jmp_rel,
        Jmp if insn.op0_kind() == OpKind::Register || insn.op0_kind() == OpKind::Memory => {
            if size16 {
                jmp_rm::<16>
            } else {
                jmp_rm::<32>
            }
        }
        Ja | Jae | Jb | Jbe | Je | Jg | Jge | Jl | Jle | Jne | Jno | Jnp | Jns | Jo | Jp | Js => {
            by_cc!(insn, jcc)
        }
        Call if near && size16 => call_rel::<16>,
        Call if near => call_rel::<32>,
        Call if insn.op0_kind() == OpKind::Register || insn.op0_kind() == OpKind::Memory => {
            if size16 {
                call_rm::<16>
            } else {
                call_rm::<32>
            }
        }
        Ret if size16 => ret::<16>,
        Ret => ret::<32>,
        Loop | Loope | Loopne => loop_,
        Jecxz | Jcxz => jecxz,
        Int => int_n,
        Int1 => int1,
        Int3 => int3,
        Into => into,
        Nop | Pause | Endbr32 => nop,
        // System and I/O instructions: #GP in user mode.
        Hlt | Cli | Sti | Clts | In | Out | Insb | Insw | Insd | Outsb | Outsw | Outsd | Lgdt
        | Lidt | Lldt | Ltr | Invd | Wbinvd | Invlpg | Rdmsr | Wrmsr | Sysenter | Sysexit => {
            privileged
        }
        _ => return None,
    })
}

/// Far CALL, JMP, RET and IRET handlers by operand size.
fn far(code: Code) -> Option<Handler> {
    use Code::*;
    Some(match code {
        Call_ptr1616 | Call_m1616 => call_far::<16>,
        Call_ptr1632 | Call_m1632 => call_far::<32>,
        Jmp_ptr1616 | Jmp_m1616 => jmp_far::<16>,
        Jmp_ptr1632 | Jmp_m1632 => jmp_far::<32>,
        Retfw | Retfw_imm16 => ret_far::<16>,
        Retfd | Retfd_imm16 => ret_far::<32>,
        Iretw => iret::<16>,
        Iretd => iret::<32>,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::super::misc::testutil::{Vm, CODE, STACK_TOP};
    use crate::exit::{Exception, Exit};
    use crate::state::{flag, reg, seg};
    use crate::GuestAddr;

    #[test]
    fn far_call_and_return_through_the_user_code_selector() {
        // 1000: lcall 0x20:0x1010 (RPL 0 is fine for CALL; CS gets RPL 3)
        // 1007: jmp 0x1020
        // 1010: mov eax, [esp] ; mov ebx, [esp+4] ; lret 4
        // 1020: (int 0x80 appended at 0x1020 by padding)
        let mut code = vec![0x9a, 0x10, 0x10, 0, 0, 0x20, 0x00, 0xeb, 0x17];
        code.resize(0x10, 0x90);
        code.extend([0x8b, 0x04, 0x24, 0x8b, 0x5c, 0x24, 0x04, 0xca, 0x04, 0x00]);
        code.resize(0x20, 0x90);
        let mut vm = Vm::new(&code);
        vm.cpu().gpr[reg::ESP] = STACK_TOP - 4;
        assert_eq!(vm.run(), Exit::Syscall);
        let c = vm.cpu();
        assert_eq!((c.gpr[reg::EAX], c.gpr[reg::EBX]), (CODE + 7, 0x23));
        assert_eq!(c.seg_sel[seg::CS], 0x23);
        assert_eq!(c.gpr[reg::ESP], STACK_TOP);
    }

    #[test]
    fn far_jmp_through_memory_and_bad_selectors() {
        // mov dword [0x10000], 0x101a ; mov word [0x10004], 0x23 ;
        // ljmp [0x10000] ; hlt ; (0x101a:) int 0x80
        let code = [
            0xc7, 0x05, 0, 0, 1, 0, 0x1a, 0x10, 0, 0, // 10 bytes
            0x66, 0xc7, 0x05, 4, 0, 1, 0, 0x23, 0, // 9 bytes
            0xff, 0x2d, 0, 0, 1, 0,    // 6 bytes: ends at 0x1019
            0xf4, // hlt, skipped
        ];
        let mut vm = Vm::new(&code);
        assert_eq!(vm.run(), Exit::Syscall);
        // lcall 0x2b:0 (a data segment), with ESP untouched
        let mut vm = Vm::new(&[0x9a, 0, 0, 0, 0, 0x2b, 0]);
        assert_eq!(
            vm.run(),
            Exit::Exception(Exception::GeneralProtectionCode(0x28))
        );
        assert_eq!((vm.cpu().eip, vm.cpu().gpr[reg::ESP]), (CODE, STACK_TOP));
        // ljmp 0:0 is #GP(0); ljmp 0x63:0 (a TLS slot, data or absent)
        let mut vm = Vm::new(&[0xea, 0, 0, 0, 0, 0, 0]);
        assert_eq!(vm.run(), Exit::Exception(Exception::GeneralProtection));
        let mut vm = Vm::new(&[0xea, 0, 0, 0, 0, 0x63, 0]);
        assert_eq!(
            vm.run(),
            Exit::Exception(Exception::GeneralProtectionCode(0x60))
        );
    }

    #[test]
    fn far_return_to_a_more_privileged_selector_faults() {
        // push 0x20 ; push 0 ; lret
        let mut vm = Vm::new(&[0x6a, 0x20, 0x6a, 0x00, 0xcb]);
        assert_eq!(
            vm.run(),
            Exit::Exception(Exception::GeneralProtectionCode(0x20))
        );
        assert_eq!(vm.cpu().gpr[reg::ESP], STACK_TOP - 8);
        assert_eq!(vm.cpu().eip, CODE + 4);
    }

    #[test]
    fn iret_restores_the_user_writable_flags() {
        // push 0x3b3ed5 ; push cs ; push 0x100c ; iret ; (0x100c:)
        let code = [
            0x68, 0xd5, 0x3e, 0x3b, 0x00, 0x0e, 0x68, 0x0c, 0x10, 0, 0, 0xcf,
        ];
        let mut vm = Vm::new(&code);
        assert_eq!(vm.run(), Exit::Syscall);
        let want = flag::STATUS | flag::DF | flag::ID | flag::IF | flag::FIXED1;
        assert_eq!(vm.cpu().eflags(), want);
        assert_eq!(vm.cpu().gpr[reg::ESP], STACK_TOP);
        // With NT set, IRET is #GP(0) before it pops anything.
        let mut vm = Vm::new(&code);
        vm.cpu().eflags |= flag::NT;
        assert_eq!(vm.run(), Exit::Exception(Exception::GeneralProtection));
        assert_eq!(vm.cpu().gpr[reg::ESP], STACK_TOP - 12);
    }

    #[test]
    fn int_n_error_codes_and_int1() {
        let mut vm = Vm::new(&[0xcd, 0x81]);
        assert_eq!(
            vm.run(),
            Exit::Exception(Exception::GeneralProtectionCode(0x40a))
        );
        assert_eq!(vm.cpu().eip, CODE);
        let mut vm = Vm::new(&[0xcd, 0x00]);
        assert_eq!(
            vm.run(),
            Exit::Exception(Exception::GeneralProtectionCode(2))
        );
        let mut vm = Vm::new(&[0xf1]);
        assert_eq!(vm.run(), Exit::Exception(Exception::Debug));
        assert_eq!(vm.cpu().eip, CODE + 1);
    }

    #[test]
    fn setting_tf_ends_the_run_after_the_instruction() {
        // pushf ; or dword [esp], 0x100 ; popf ; nop
        let code = [0x9c, 0x81, 0x0c, 0x24, 0, 1, 0, 0, 0x9d, 0x90];
        let mut vm = Vm::new(&code);
        assert_eq!(vm.run(), Exit::SingleStep);
        assert_eq!(vm.cpu().eip, CODE + 9);
        assert!(vm.cpu().eflags() & flag::TF != 0);
        // Stepping from there: one instruction per step.
        assert_eq!(vm.step(), Exit::BudgetSpent);
        assert_eq!(vm.cpu().eip, CODE + 10);
        assert_eq!(vm.step(), Exit::Syscall);
    }

    #[test]
    fn step_runs_one_string_iteration() {
        // rep movsb (ECX = 3), then repe cmpsb that stops at a difference
        let mut vm = Vm::new(&[0xf3, 0xa4, 0xf3, 0xa6]);
        let c = vm.cpu();
        c.gpr[reg::ECX] = 3;
        c.gpr[reg::ESI] = 0x10000;
        c.gpr[reg::EDI] = 0x10100;
        for left in [2, 1] {
            assert_eq!(vm.step(), Exit::BudgetSpent);
            assert_eq!((vm.cpu().eip, vm.cpu().gpr[reg::ECX]), (CODE, left));
        }
        assert_eq!(vm.step(), Exit::BudgetSpent);
        assert_eq!((vm.cpu().eip, vm.cpu().gpr[reg::ECX]), (CODE + 2, 0));
        assert_eq!(vm.cpu().gpr[reg::EDI], 0x10103);
        // [0x10000..] = 0 0 0 0, [0x10100..] = 0 0 0 9: the 4th compare
        // differs and ends the repetition with 5 - 4 = 1 left.
        vm.mem().write_u8(GuestAddr(0x10103), 9).unwrap();
        let c = vm.cpu();
        c.gpr[reg::ECX] = 5;
        c.gpr[reg::ESI] = 0x10000;
        c.gpr[reg::EDI] = 0x10100;
        for _ in 0..3 {
            assert_eq!(vm.step(), Exit::BudgetSpent);
            assert_eq!(vm.cpu().eip, CODE + 2);
        }
        assert_eq!(vm.step(), Exit::BudgetSpent);
        assert_eq!((vm.cpu().eip, vm.cpu().gpr[reg::ECX]), (CODE + 4, 1));
    }

    #[test]
    fn step_over_mov_ss_takes_the_next_instruction_too() {
        // mov eax, ss ; mov ss, eax ; nop ; nop
        let mut vm = Vm::new(&[0x8c, 0xd0, 0x8e, 0xd0, 0x90, 0x90]);
        assert_eq!(vm.step(), Exit::BudgetSpent);
        assert_eq!(vm.cpu().eip, CODE + 2);
        assert_eq!(vm.step(), Exit::BudgetSpent);
        assert_eq!(vm.cpu().eip, CODE + 5);
    }
}
