//! The x87 floating-point unit.
//!
//! Registers hold the hardware's 80-bit format and all arithmetic is done
//! by an exact software implementation of extended precision (`float`),
//! so results, exception flags and C1 equal the hardware's bit for bit;
//! transcendental instructions compute in higher precision and round once
//! (`transc`, see its notes on where that can differ from a real CPU).
//!
//! Exceptions follow the SDM: a masked exception sets its flag and
//! delivers the default result; an unmasked one sets ES/B and, for IE, DE
//! and ZE, leaves the destination alone. The #MF itself (SIGFPE) is raised
//! by the next *waiting* x87 instruction or FWAIT, as on the hardware; the
//! FN- forms (FNSTSW, FNCLEX, FNINIT, FNSTENV, FNSAVE, FNSTCW) never wait.
//!
//! Known deviations from the hardware:
//! - FIP/FDP/FOP (last instruction and data pointers, last opcode) are not
//!   tracked; FNSTENV/FNSAVE/FXSAVE store zeros there. Signal handlers that
//!   print them would differ; nothing in glibc reads them.
//! - Transcendentals: see `transc`.

mod arith;
mod big;
mod compare;
mod control;
pub mod convert;
pub mod float;
mod ldst;
mod regs;
#[cfg(test)]
mod tests;
mod transc;

use super::ctx::{Ctx, Flow, Handler};
use crate::exit::Exception;
use crate::interp::decoded::Decoded;
use crate::state::F80;
use iced_x86::{Instruction, MemorySize, Mnemonic, Register};
use regs::sw;

/// Raises a pending unmasked exception (#MF) before a waiting instruction.
#[inline(always)]
fn wait(ctx: &mut Ctx<'_, '_>) -> Flow {
    if ctx.cpu.x87.status & sw::ES != 0 {
        return Err(Exception::FloatingPoint.into());
    }
    Ok(())
}

/// The stack index of register operand `op` (ST(i)).
#[inline(always)]
fn sti(insn: &Instruction, op: u32) -> usize {
    insn.op_register(op) as usize - Register::ST0 as usize
}

/// Reads a memory operand of any x87 numeric format as a register value
/// (bit-exact: an SNaN stays signalling), and whether it was a denormal
/// single or double.
fn load_mem(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow<(F80, bool)> {
    let a = ctx.ea(insn);
    let int = |i: i64| (convert::from_int(i), false);
    Ok(match insn.memory_size() {
        MemorySize::Float32 => convert::from_f32(ctx.mem.read_u32(a)?),
        MemorySize::Float64 => convert::from_f64(ctx.mem.read_u64(a)?),
        MemorySize::Float80 => (read_f80(ctx, a)?, false),
        MemorySize::Int16 => int(i64::from(ctx.mem.read_u16(a)? as i16)),
        MemorySize::Int32 => int(i64::from(ctx.mem.read_u32(a)? as i32)),
        MemorySize::Int64 => int(ctx.mem.read_u64(a)? as i64),
        _ => unreachable!("x87 load of {:?}", insn.memory_size()),
    })
}

/// DE for a denormal memory operand, which counts only when the operation
/// uses it as a number (a NaN or invalid operand takes precedence).
fn mem_denormal(denormal: bool, a: F80, b: F80) -> u16 {
    let numeric = |v: F80| !v.is_nan() && v.class() != float::Class::Unsupported;
    if denormal && numeric(a) && numeric(b) {
        float::exc::DE
    } else {
        0
    }
}

/// Reads 10 bytes in the register format.
fn read_f80(ctx: &mut Ctx<'_, '_>, a: crate::addr::GuestAddr) -> Flow<F80> {
    let signif = ctx.mem.read_u64(a)?;
    let sign_exp = ctx.mem.read_u16(a.add(8))?;
    Ok(F80::new(sign_exp, signif))
}

/// Writes 10 bytes in the register format.
fn write_f80(ctx: &mut Ctx<'_, '_>, a: crate::addr::GuestAddr, v: F80) -> Flow {
    ctx.mem.probe_write(a, 10)?;
    ctx.mem.write_u64(a, v.signif)?;
    ctx.mem.write_u16(a.add(8), v.sign_exp)?;
    Ok(())
}

/// Selects handlers of this group.
pub fn lookup(insn: &Instruction) -> Option<Handler> {
    use Mnemonic::*;
    match insn.mnemonic() {
        Fadd | Faddp | Fiadd | Fmul | Fmulp | Fimul | Fsub | Fsubp | Fisub | Fsubr | Fsubrp
        | Fisubr | Fdiv | Fdivp | Fidiv | Fdivr | Fdivrp | Fidivr | Fchs | Fabs | Fsqrt
        | Frndint | Fscale | Fxtract | Fprem | Fprem1 => arith::lookup(insn),
        Fcom | Fcomp | Fcompp | Fucom | Fucomp | Fucompp | Ficom | Ficomp | Fcomi | Fcomip
        | Fucomi | Fucomip | Ftst | Fxam => compare::lookup(insn),
        Fsin | Fcos | Fsincos | Fptan | Fpatan | F2xm1 | Fyl2x | Fyl2xp1 => transc::lookup(insn),
        Fldcw | Fnstcw | Fstcw | Fnstsw | Fstsw | Fnclex | Fclex | Fninit | Finit | Fnstenv
        | Fstenv | Fldenv | Fnsave | Fsave | Frstor | Fxsave | Fxrstor | Wait | Fnop | Fneni
        | Feni | Fndisi | Fdisi | Fnsetpm | Fsetpm => control::lookup(insn),
        _ => ldst::lookup(insn),
    }
}
