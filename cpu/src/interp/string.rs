//! String instructions: MOVS, STOS, LODS, CMPS, SCAS (byte, word, dword)
//! with REP/REPE/REPNE.
//!
//! The source is seg:ESI (DS unless overridden; only an FS/GS override
//! adds a base), the destination ES:EDI (ES base is 0 in Linux user mode).
//! With a 67 prefix the indexes are SI/DI and the count CX, wrapping at
//! 64 KiB without touching the upper halves. DF=1 walks downwards. F2 on
//! MOVS/STOS/LODS repeats like F3 (as on the host).
//!
//! A repeated instruction is a loop of architectural iterations: each one
//! does its memory accesses, then advances ESI/EDI and decrements ECX. A
//! fault therefore leaves EIP at the instruction and ECX/ESI/EDI describing
//! the work still to do, exactly like the hardware, and re-executing it
//! finishes the job.
//!
//! REP MOVS and REP STOS (memcpy/memset) take a bulk path with 32-bit
//! addressing: they move whole chunks of elements through a buffer, each
//! chunk lying inside one source page and one destination page, so a chunk
//! either faults on its first element (with nothing done) or completes.
//! A chunk is also kept shorter than the distance between the source and
//! a destination "ahead" of it in the direction of travel, so overlapping
//! copies see the bytes earlier iterations stored, element by element
//! (`rep movsb` with EDI = ESI + 1 replicates a byte, as on hardware).

use super::alu::{alu, CMP};
use super::ctx::{Ctx, Flow, Handler};
use crate::addr::{GuestAddr, PAGE_SIZE};
use crate::interp::decoded::Decoded;
use crate::mem::PageFault;
use crate::state::reg;
use iced_x86::{Code, Instruction, OpKind, Register};

/// Repeat kinds (const parameter `R` of the handlers).
const ONCE: u8 = 0;
/// F3: REP, or REPE for CMPS/SCAS.
const REPE: u8 = 1;
/// F2: REPNE for CMPS/SCAS (REP for the others).
const REPNE: u8 = 2;

/// Below this many bytes a REP MOVS/STOS runs element by element (the
/// bulk path's page lookups cost more than they save).
const BULK_MIN_BYTES: u32 = 64;

/// ESI, EDI or ECX, or their low halves with a 16-bit address size.
#[inline(always)]
fn index<const A16: bool>(ctx: &Ctx<'_, '_>, r: usize) -> u32 {
    let v = ctx.cpu.gpr[r];
    if A16 {
        v & 0xffff
    } else {
        v
    }
}

/// Adds `d` (wrapping) to ESI/EDI/ECX, or to their low halves.
#[inline(always)]
fn bump<const A16: bool>(ctx: &mut Ctx<'_, '_>, r: usize, d: u32) {
    let g = &mut ctx.cpu.gpr[r];
    if A16 {
        *g = (*g & 0xffff_0000) | (g.wrapping_add(d) & 0xffff);
    } else {
        *g = g.wrapping_add(d);
    }
}

/// The per-element step of ESI/EDI: +size, or -size with DF=1.
#[inline(always)]
fn step<const S: u32>(ctx: &Ctx<'_, '_>) -> u32 {
    if ctx.cpu.df() {
        (S / 8).wrapping_neg()
    } else {
        S / 8
    }
}

/// Linear address of the source element.
#[inline(always)]
fn src_addr<const A16: bool>(ctx: &Ctx<'_, '_>, base: u32) -> GuestAddr {
    GuestAddr(base.wrapping_add(index::<A16>(ctx, reg::ESI)))
}

/// Linear address of the destination element (ES base is 0).
#[inline(always)]
fn dst_addr<const A16: bool>(ctx: &Ctx<'_, '_>) -> GuestAddr {
    GuestAddr(index::<A16>(ctx, reg::EDI))
}

/// The accumulator of an element size.
fn acc(size: u32) -> Register {
    match size {
        8 => Register::AL,
        16 => Register::AX,
        _ => Register::EAX,
    }
}

/// Runs `one` (an iteration that does its accesses and advances the
/// indexes) ECX times; for CMPS/SCAS (`COND`) stops early when ZF says so.
#[inline(always)]
fn repeat<const A16: bool, const R: u8, const COND: bool>(
    ctx: &mut Ctx<'_, '_>,
    mut one: impl FnMut(&mut Ctx<'_, '_>) -> Flow,
) -> Flow {
    if R == ONCE {
        return one(ctx);
    }
    while index::<A16>(ctx, reg::ECX) != 0 {
        one(ctx)?;
        bump::<A16>(ctx, reg::ECX, u32::MAX);
        if COND && ctx.cpu.zf() != (R == REPE) {
            break;
        }
    }
    Ok(())
}

fn movs_one<const S: u32, const A16: bool>(ctx: &mut Ctx<'_, '_>, base: u32) -> Flow {
    let v = ctx.read(src_addr::<A16>(ctx, base), S)?;
    ctx.write(dst_addr::<A16>(ctx), S, v)?;
    let d = step::<S>(ctx);
    bump::<A16>(ctx, reg::ESI, d);
    bump::<A16>(ctx, reg::EDI, d);
    Ok(())
}

fn movs<const S: u32, const A16: bool, const R: u8>(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let base = ctx.seg_base(insn.memory_segment());
    if R != ONCE && !A16 && ctx.cpu.gpr[reg::ECX] >= BULK_MIN_BYTES / (S / 8) {
        return movs_bulk::<S>(ctx, base);
    }
    repeat::<A16, R, false>(ctx, |ctx| movs_one::<S, A16>(ctx, base))
}

fn stos_one<const S: u32, const A16: bool>(ctx: &mut Ctx<'_, '_>) -> Flow {
    let v = ctx.reg(acc(S));
    ctx.write(dst_addr::<A16>(ctx), S, v)?;
    let d = step::<S>(ctx);
    bump::<A16>(ctx, reg::EDI, d);
    Ok(())
}

fn stos<const S: u32, const A16: bool, const R: u8>(ctx: &mut Ctx<'_, '_>, _: &Decoded) -> Flow {
    if R != ONCE && !A16 && ctx.cpu.gpr[reg::ECX] >= BULK_MIN_BYTES / (S / 8) {
        return stos_bulk::<S>(ctx);
    }
    repeat::<A16, R, false>(ctx, stos_one::<S, A16>)
}

fn lods<const S: u32, const A16: bool, const R: u8>(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let base = ctx.seg_base(insn.memory_segment());
    repeat::<A16, R, false>(ctx, |ctx| {
        let v = ctx.read(src_addr::<A16>(ctx, base), S)?;
        ctx.set_reg(acc(S), v);
        let d = step::<S>(ctx);
        bump::<A16>(ctx, reg::ESI, d);
        Ok(())
    })
}

/// CMPS: flags of [seg:ESI] - [ES:EDI].
fn cmps<const S: u32, const A16: bool, const R: u8>(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let base = ctx.seg_base(insn.memory_segment());
    repeat::<A16, R, true>(ctx, |ctx| {
        let a = ctx.read(src_addr::<A16>(ctx, base), S)?;
        let b = ctx.read(dst_addr::<A16>(ctx), S)?;
        alu(ctx.cpu, CMP, S, a, b);
        let d = step::<S>(ctx);
        bump::<A16>(ctx, reg::ESI, d);
        bump::<A16>(ctx, reg::EDI, d);
        Ok(())
    })
}

/// SCAS: flags of accumulator - [ES:EDI].
fn scas<const S: u32, const A16: bool, const R: u8>(ctx: &mut Ctx<'_, '_>, _: &Decoded) -> Flow {
    repeat::<A16, R, true>(ctx, |ctx| {
        let b = ctx.read(dst_addr::<A16>(ctx), S)?;
        let a = ctx.reg(acc(S));
        alu(ctx.cpu, CMP, S, a, b);
        let d = step::<S>(ctx);
        bump::<A16>(ctx, reg::EDI, d);
        Ok(())
    })
}

/// How many `size`-byte elements, walking from `a` (upwards, or downwards
/// with `back`), lie wholly inside `a`'s page. 0 if the first one
/// straddles the page end.
fn room(a: u32, size: u32, back: bool) -> u32 {
    let off = a % PAGE_SIZE;
    if off + size > PAGE_SIZE {
        0
    } else if back {
        off / size + 1
    } else {
        (PAGE_SIZE - off) / size
    }
}

/// The lowest address of a chunk of `k` elements whose first element is
/// at `a`.
fn chunk_low(a: u32, k: u32, size: u32, back: bool) -> u32 {
    if back {
        a.wrapping_sub((k - 1) * size)
    } else {
        a
    }
}

/// Reports a chunk's page fault at the chunk's first element, the address
/// the hardware's first faulting iteration reports.
fn at_first(first: GuestAddr) -> impl Fn(PageFault) -> PageFault {
    move |f| PageFault { addr: first, ..f }
}

/// REP MOVS, 32-bit addressing: chunked copy (see the module doc).
fn movs_bulk<const S: u32>(ctx: &mut Ctx<'_, '_>, base: u32) -> Flow {
    let size = S / 8;
    let mut buf = [0u8; PAGE_SIZE as usize];
    loop {
        let count = ctx.cpu.gpr[reg::ECX];
        if count == 0 {
            return Ok(());
        }
        let back = ctx.cpu.df();
        let src = base.wrapping_add(ctx.cpu.gpr[reg::ESI]);
        let dst = ctx.cpu.gpr[reg::EDI];
        let mut k = count.min(room(src, size, back)).min(room(dst, size, back));
        // A destination ahead of the source within the chunk would read
        // bytes this chunk stores: stop the chunk short of it.
        let ahead = if back {
            src.wrapping_sub(dst)
        } else {
            dst.wrapping_sub(src)
        };
        if ahead != 0 && ahead < k * size {
            k = ahead / size;
        }
        if k == 0 {
            movs_one::<S, false>(ctx, base)?;
            ctx.cpu.gpr[reg::ECX] -= 1;
            continue;
        }
        let len = (k * size) as usize;
        let from = GuestAddr(chunk_low(src, k, size, back));
        let to = GuestAddr(chunk_low(dst, k, size, back));
        ctx.mem
            .read_bytes(from, &mut buf[..len])
            .map_err(at_first(GuestAddr(src)))?;
        ctx.mem
            .write_bytes(to, &buf[..len])
            .map_err(at_first(GuestAddr(dst)))?;
        advance_chunk::<S>(ctx, k, true);
    }
}

/// REP STOS, 32-bit addressing: fills whole destination pages at a time.
fn stos_bulk<const S: u32>(ctx: &mut Ctx<'_, '_>) -> Flow {
    let size = S / 8;
    let v = ctx.reg(acc(S)).to_le_bytes();
    let mut pattern = [0u8; PAGE_SIZE as usize];
    for (i, b) in pattern.iter_mut().enumerate() {
        *b = v[i % size as usize];
    }
    loop {
        let count = ctx.cpu.gpr[reg::ECX];
        if count == 0 {
            return Ok(());
        }
        let back = ctx.cpu.df();
        let dst = ctx.cpu.gpr[reg::EDI];
        let k = count.min(room(dst, size, back));
        if k == 0 {
            stos_one::<S, false>(ctx)?;
            ctx.cpu.gpr[reg::ECX] -= 1;
            continue;
        }
        let len = (k * size) as usize;
        let to = GuestAddr(chunk_low(dst, k, size, back));
        ctx.mem
            .write_bytes(to, &pattern[..len])
            .map_err(at_first(GuestAddr(dst)))?;
        advance_chunk::<S>(ctx, k, false);
    }
}

/// Retires `k` iterations of a bulk chunk.
fn advance_chunk<const S: u32>(ctx: &mut Ctx<'_, '_>, k: u32, source: bool) {
    let d = step::<S>(ctx).wrapping_mul(k);
    let g = &mut ctx.cpu.gpr;
    if source {
        g[reg::ESI] = g[reg::ESI].wrapping_add(d);
    }
    g[reg::EDI] = g[reg::EDI].wrapping_add(d);
    g[reg::ECX] -= k;
}

/// Whether the instruction uses 16-bit addressing (SI/DI/CX).
fn addr16(insn: &Instruction) -> bool {
    (0..insn.op_count()).any(|i| {
        matches!(
            insn.op_kind(i),
            OpKind::MemorySegSI | OpKind::MemorySegDI | OpKind::MemoryESDI
        )
    })
}

/// Instantiates `$f::<size, A16, R>` for an instruction.
macro_rules! string_handler {
    ($insn:expr, $size:expr, $f:ident) => {{
        let a16 = addr16($insn);
        let r = if $insn.has_repe_prefix() {
            REPE
        } else if $insn.has_repne_prefix() {
            REPNE
        } else {
            ONCE
        };
        string_handler!(@size $size, $f, a16, r)
    }};
    (@size $size:expr, $f:ident, $a16:expr, $r:expr) => {
        match $size {
            8 => string_handler!(@a16 $f, 8, $a16, $r),
            16 => string_handler!(@a16 $f, 16, $a16, $r),
            _ => string_handler!(@a16 $f, 32, $a16, $r),
        }
    };
    (@a16 $f:ident, $s:expr, $a16:expr, $r:expr) => {
        match ($a16, $r) {
            (false, ONCE) => $f::<$s, false, ONCE> as Handler,
            (false, REPE) => $f::<$s, false, REPE>,
            (false, _) => $f::<$s, false, REPNE>,
            (true, ONCE) => $f::<$s, true, ONCE>,
            (true, REPE) => $f::<$s, true, REPE>,
            (true, _) => $f::<$s, true, REPNE>,
        }
    };
}

/// Selects handlers of this group.
pub fn lookup(insn: &Instruction) -> Option<Handler> {
    use Code::*;
    Some(match insn.code() {
        Movsb_m8_m8 => string_handler!(insn, 8, movs),
        Movsw_m16_m16 => string_handler!(insn, 16, movs),
        Movsd_m32_m32 => string_handler!(insn, 32, movs),
        Stosb_m8_AL => string_handler!(insn, 8, stos),
        Stosw_m16_AX => string_handler!(insn, 16, stos),
        Stosd_m32_EAX => string_handler!(insn, 32, stos),
        Lodsb_AL_m8 => string_handler!(insn, 8, lods),
        Lodsw_AX_m16 => string_handler!(insn, 16, lods),
        Lodsd_EAX_m32 => string_handler!(insn, 32, lods),
        Cmpsb_m8_m8 => string_handler!(insn, 8, cmps),
        Cmpsw_m16_m16 => string_handler!(insn, 16, cmps),
        Cmpsd_m32_m32 => string_handler!(insn, 32, cmps),
        Scasb_AL_m8 => string_handler!(insn, 8, scas),
        Scasw_AX_m16 => string_handler!(insn, 16, scas),
        Scasd_EAX_m32 => string_handler!(insn, 32, scas),
        _ => return None,
    })
}

#[cfg(test)]
mod tests;
