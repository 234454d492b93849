//! Control transfer: JMP, Jcc, CALL, RET, LOOP/LOOPcc/JECXZ, INT n, INT3,
//! INTO, NOP, HLT.
//!
//! The run loop sets EIP to the next instruction before a handler runs, so
//! a branch not taken does nothing.

use super::ctx::{gp, Ctx, Flow, Handler};
use crate::exit::{Exception, Exit};
use crate::state::reg;
use iced_x86::{Code, ConditionCode, Instruction, Mnemonic, OpKind};

/// The x86 condition number (0..15) of a Jcc/SETcc/CMOVcc/FCMOVcc.
#[inline(always)]
pub fn cc(insn: &Instruction) -> u8 {
    debug_assert!(insn.condition_code() != ConditionCode::None);
    insn.condition_code() as u8 - 1
}

fn jmp_rel(ctx: &mut Ctx<'_, '_>, insn: &Instruction) -> Flow {
    ctx.cpu.eip = insn.near_branch_target() as u32;
    Ok(())
}

fn jmp_rm<const S: u32>(ctx: &mut Ctx<'_, '_>, insn: &Instruction) -> Flow {
    ctx.cpu.eip = ctx.read_op(insn, 0, S)?;
    Ok(())
}

fn jcc(ctx: &mut Ctx<'_, '_>, insn: &Instruction) -> Flow {
    if ctx.cpu.cond(cc(insn)) {
        ctx.cpu.eip = insn.near_branch_target() as u32;
    }
    Ok(())
}

fn call_rel<const S: u32>(ctx: &mut Ctx<'_, '_>, insn: &Instruction) -> Flow {
    ctx.push(S, insn.next_ip32())?;
    ctx.cpu.eip = insn.near_branch_target() as u32;
    Ok(())
}

fn call_rm<const S: u32>(ctx: &mut Ctx<'_, '_>, insn: &Instruction) -> Flow {
    let target = ctx.read_op(insn, 0, S)?;
    ctx.push(S, insn.next_ip32())?;
    ctx.cpu.eip = target;
    Ok(())
}

fn ret<const S: u32>(ctx: &mut Ctx<'_, '_>, insn: &Instruction) -> Flow {
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

fn loop_(ctx: &mut Ctx<'_, '_>, insn: &Instruction) -> Flow {
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

fn jecxz(ctx: &mut Ctx<'_, '_>, insn: &Instruction) -> Flow {
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

/// `int n`: Linux lets user mode use the gates of 0x80 (system call), 3
/// (#BP) and 4 (#OF); every other vector faults with #GP.
fn int_n(_: &mut Ctx<'_, '_>, insn: &Instruction) -> Flow {
    match insn.immediate8() {
        0x80 => Err(Exit::Syscall),
        3 => Err(Exception::Breakpoint.into()),
        4 => Err(Exception::Overflow.into()),
        _ => gp(),
    }
}

fn int3(_: &mut Ctx<'_, '_>, _: &Instruction) -> Flow {
    Err(Exception::Breakpoint.into())
}

fn into(ctx: &mut Ctx<'_, '_>, _: &Instruction) -> Flow {
    if ctx.cpu.of() {
        Err(Exception::Overflow.into())
    } else {
        Ok(())
    }
}

fn nop(_: &mut Ctx<'_, '_>, _: &Instruction) -> Flow {
    Ok(())
}

fn privileged(_: &mut Ctx<'_, '_>, _: &Instruction) -> Flow {
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
            jcc
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
        Int3 => int3,
        Into => into,
        Nop | Pause | Endbr32 => nop,
        // Far transfers, system and I/O instructions: #GP in user mode.
        Hlt | Cli | Sti | Clts | In | Out | Insb | Insw | Insd | Outsb | Outsw | Outsd | Lgdt
        | Lidt | Lldt | Ltr | Invd | Wbinvd | Invlpg | Rdmsr | Wrmsr | Iret | Iretd | Retf
        | Sysenter | Sysexit | Int1 => privileged,
        _ => return None,
    })
}
