//! Control instructions: FLDCW/FNSTCW, FNSTSW, FNCLEX, FNINIT,
//! FNSTENV/FLDENV, FNSAVE/FRSTOR, FXSAVE/FXRSTOR, FWAIT, FNOP.
//!
//! Memory images follow the SDM's protected-mode layouts (32-bit and, with
//! an operand-size prefix, 16-bit). Reserved halves of the 32-bit
//! environment are stored as 0xffff like the host does. FIP/FCS/FOP/FDP/
//! FDS are stored as zero (not tracked, see the module docs of `x87`).

use super::float::exc;
use super::regs::sw;
use super::{read_f80, wait, write_f80};
use crate::addr::GuestAddr;
use crate::interp::ctx::{gp, Ctx, Flow, Handler};
use crate::interp::decoded::Decoded;
use crate::state::{X87State, F80};
use iced_x86::{Instruction, MemorySize, Mnemonic, OpKind};

/// Control word bits that exist (bit 6 reads as 1; 13-15 as 0).
const CW_BITS: u16 = 0x1f3f;
const CW_ONES: u16 = 0x0040;
/// MXCSR bits FXRSTOR accepts (FXSAVE's MXCSR_MASK: DAZ supported).
pub const MXCSR_MASK: u32 = 0xffff;

fn set_control(x: &mut X87State, v: u16) {
    x.control = (v & CW_BITS) | CW_ONES;
    x.sync_summary();
}

fn fldcw(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    wait(ctx)?;
    let a = ctx.ea(insn);
    let v = ctx.mem.read_u16(a)?;
    set_control(&mut ctx.cpu.x87, v);
    Ok(())
}

fn fnstcw<const WAIT: bool>(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    if WAIT {
        wait(ctx)?;
    }
    let a = ctx.ea(insn);
    ctx.mem.write_u16(a, ctx.cpu.x87.control)?;
    Ok(())
}

/// FNSTSW m16 or AX.
fn fnstsw<const WAIT: bool>(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    if WAIT {
        wait(ctx)?;
    }
    let v = ctx.cpu.x87.status_word();
    if insn.op0_kind() == OpKind::Register {
        ctx.set_reg(iced_x86::Register::AX, u32::from(v));
        return Ok(());
    }
    let a = ctx.ea(insn);
    ctx.mem.write_u16(a, v)?;
    Ok(())
}

fn fnclex<const WAIT: bool>(ctx: &mut Ctx<'_, '_>, _: &Decoded) -> Flow {
    if WAIT {
        wait(ctx)?;
    }
    ctx.cpu.x87.status &= !(exc::ALL | sw::SF | sw::ES | sw::B);
    Ok(())
}

/// FNINIT resets everything but the register contents.
fn reset(x: &mut X87State) {
    let regs = x.regs;
    *x = X87State {
        regs,
        ..X87State::default()
    };
}

fn fninit<const WAIT: bool>(ctx: &mut Ctx<'_, '_>, _: &Decoded) -> Flow {
    if WAIT {
        wait(ctx)?;
    }
    reset(&mut ctx.cpu.x87);
    Ok(())
}

/// The environment image's size: 14 bytes with a 16-bit operand size.
fn env_is_16(insn: &Instruction) -> bool {
    matches!(
        insn.memory_size(),
        MemorySize::FpuEnv14 | MemorySize::FpuState94
    )
}

/// Writes the 14- or 28-byte environment; returns its size.
fn store_env(ctx: &mut Ctx<'_, '_>, a: GuestAddr, small: bool) -> Flow<u32> {
    let x = &ctx.cpu.x87;
    let words = [x.control, x.status_word(), x.tag_word()];
    if small {
        ctx.mem.probe_write(a, 14)?;
        for (i, w) in words.iter().enumerate() {
            ctx.mem.write_u16(a.add(2 * i as u32), *w)?;
        }
        ctx.mem.write_bytes(a.add(6), &[0; 8])?;
        return Ok(14);
    }
    ctx.mem.probe_write(a, 28)?;
    for (i, w) in words.iter().enumerate() {
        ctx.mem
            .write_u32(a.add(4 * i as u32), 0xffff_0000 | u32::from(*w))?;
    }
    ctx.mem.write_bytes(a.add(12), &[0; 12])?;
    ctx.mem.write_u32(a.add(24), 0xffff_0000)?;
    Ok(28)
}

/// Reads an environment image: (control, status, tag) and its size.
fn read_env(ctx: &mut Ctx<'_, '_>, a: GuestAddr, small: bool) -> Flow<([u16; 3], u32)> {
    let step = if small { 2 } else { 4 };
    let mut w = [0u16; 3];
    for (i, v) in w.iter_mut().enumerate() {
        *v = ctx.mem.read_u16(a.add(step * i as u32))?;
    }
    // Touch the whole image so a fault comes before any state changes.
    let size = if small { 14 } else { 28 };
    ctx.mem.read_u8(a.add(size - 1))?;
    Ok((w, size))
}

fn load_env(x: &mut X87State, w: [u16; 3]) {
    x.control = (w[0] & CW_BITS) | CW_ONES;
    x.set_status_word(w[1]);
    x.set_tag_word(w[2]);
}

/// FNSTENV: stores the environment, then masks all exceptions.
fn fnstenv<const WAIT: bool>(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    if WAIT {
        wait(ctx)?;
    }
    let a = ctx.ea(insn);
    store_env(ctx, a, env_is_16(insn))?;
    ctx.cpu.x87.control |= exc::ALL;
    ctx.cpu.x87.sync_summary();
    Ok(())
}

fn fldenv(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let a = ctx.ea(insn);
    let (w, _) = read_env(ctx, a, env_is_16(insn))?;
    load_env(&mut ctx.cpu.x87, w);
    Ok(())
}

/// FNSAVE: the environment followed by ST(0)..ST(7), then FNINIT.
fn fnsave<const WAIT: bool>(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    if WAIT {
        wait(ctx)?;
    }
    let a = ctx.ea(insn);
    let small = env_is_16(insn);
    let env = if small { 14 } else { 28 };
    ctx.mem.probe_write(a, env + 80)?;
    store_env(ctx, a, small)?;
    for i in 0..8 {
        let v = ctx.cpu.x87.st(i);
        write_f80(ctx, a.add(env + 10 * i as u32), v)?;
    }
    reset(&mut ctx.cpu.x87);
    Ok(())
}

fn frstor(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let a = ctx.ea(insn);
    let (w, env) = read_env(ctx, a, env_is_16(insn))?;
    let mut regs = [F80::default(); 8];
    for (i, r) in regs.iter_mut().enumerate() {
        *r = read_f80(ctx, a.add(env + 10 * i as u32))?;
    }
    let x = &mut ctx.cpu.x87;
    load_env(x, w);
    for (i, r) in regs.into_iter().enumerate() {
        let p = x.phys(i);
        x.regs[p] = r;
    }
    Ok(())
}

/// FXSAVE: the 512-byte image (16-byte aligned or #GP).
fn fxsave(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let a = ctx.ea(insn);
    if !a.0.is_multiple_of(16) {
        return gp();
    }
    ctx.mem.probe_write(a, 512)?;
    let mut img = [0u8; 464];
    fill_fxsave(ctx.cpu, &mut img);
    ctx.mem.write_bytes(a, &img)?;
    Ok(())
}

/// The architectural part of the FXSAVE image (bytes 464-511 are left to
/// software and not written).
fn fill_fxsave(cpu: &crate::state::CpuState, img: &mut [u8; 464]) {
    let x = &cpu.x87;
    img[0..2].copy_from_slice(&x.control.to_le_bytes());
    img[2..4].copy_from_slice(&x.status_word().to_le_bytes());
    img[4] = x.abridged_tag();
    img[24..28].copy_from_slice(&cpu.mxcsr.to_le_bytes());
    img[28..32].copy_from_slice(&MXCSR_MASK.to_le_bytes());
    for i in 0..8 {
        let r = x.st(i);
        let o = 32 + 16 * i;
        img[o..o + 8].copy_from_slice(&r.signif.to_le_bytes());
        img[o + 8..o + 10].copy_from_slice(&r.sign_exp.to_le_bytes());
    }
    for (i, xmm) in cpu.xmm.iter().enumerate() {
        for (j, d) in xmm.iter().enumerate() {
            let o = 160 + 16 * i + 4 * j;
            img[o..o + 4].copy_from_slice(&d.to_le_bytes());
        }
    }
}

/// FXRSTOR: #GP if misaligned or MXCSR has reserved bits set.
fn fxrstor(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let a = ctx.ea(insn);
    if !a.0.is_multiple_of(16) {
        return gp();
    }
    let mut img = [0u8; 464];
    ctx.mem.read_bytes(a, &mut img)?;
    let le16 = |o: usize| u16::from_le_bytes([img[o], img[o + 1]]);
    let le32 = |o: usize| u32::from_le_bytes([img[o], img[o + 1], img[o + 2], img[o + 3]]);
    let mxcsr = le32(24);
    if mxcsr & !MXCSR_MASK != 0 {
        return gp();
    }
    let cpu = &mut *ctx.cpu;
    cpu.mxcsr = mxcsr;
    let x = &mut cpu.x87;
    x.control = (le16(0) & CW_BITS) | CW_ONES;
    x.set_status_word(le16(2));
    x.set_abridged_tag(img[4]);
    for i in 0..8 {
        let o = 32 + 16 * i;
        let signif = u64::from_le_bytes(img[o..o + 8].try_into().expect("8 bytes"));
        let p = x.phys(i);
        x.regs[p] = F80::new(le16(o + 8), signif);
    }
    for (i, xmm) in cpu.xmm.iter_mut().enumerate() {
        for (j, d) in xmm.iter_mut().enumerate() {
            *d = le32(160 + 16 * i + 4 * j);
        }
    }
    Ok(())
}

fn fwait(ctx: &mut Ctx<'_, '_>, _: &Decoded) -> Flow {
    wait(ctx)
}

/// FNOP waits like any numeric instruction; FENI/FDISI/FSETPM are no-ops
/// on everything since the 387.
fn fnop<const WAIT: bool>(ctx: &mut Ctx<'_, '_>, _: &Decoded) -> Flow {
    if WAIT {
        wait(ctx)?;
    }
    Ok(())
}

/// Selects control handlers.
pub fn lookup(insn: &Instruction) -> Option<Handler> {
    use Mnemonic::*;
    Some(match insn.mnemonic() {
        Fldcw => fldcw,
        Fnstcw => fnstcw::<false>,
        Fstcw => fnstcw::<true>,
        Fnstsw => fnstsw::<false>,
        Fstsw => fnstsw::<true>,
        Fnclex => fnclex::<false>,
        Fclex => fnclex::<true>,
        Fninit => fninit::<false>,
        Finit => fninit::<true>,
        Fnstenv => fnstenv::<false>,
        Fstenv => fnstenv::<true>,
        Fldenv => fldenv,
        Fnsave => fnsave::<false>,
        Fsave => fnsave::<true>,
        Frstor => frstor,
        Fxsave => fxsave,
        Fxrstor => fxrstor,
        Wait => fwait,
        Fnop => fnop::<true>,
        Fneni | Fndisi | Fnsetpm => fnop::<false>,
        Feni | Fdisi | Fsetpm => fnop::<true>,
        _ => return None,
    })
}
