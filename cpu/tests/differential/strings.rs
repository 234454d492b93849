//! Operands for MOVS/CMPS/STOS/LODS/SCAS: ESI/EDI (SI/DI with 0x67) into
//! the data area, a small count in ECX (CX) for REP forms, and for the
//! comparing forms data that stops REPE/REPNE at a chosen element.

use super::case::*;
use super::forms::{mem_bytes, Row};
use super::gen::*;

pub fn setup(g: &mut Gen<'_>, row: &Row) {
    let e = mem_bytes(row.form);
    let name = format!("{:?}", row.form);
    let kind = &name[..4];
    let prefixes: Vec<u8> = row
        .bytes
        .iter()
        .copied()
        .take_while(|b| matches!(b, 0x66 | 0x67 | 0xf2 | 0xf3))
        .collect();
    let repne = prefixes.contains(&0xf2);
    let rep = repne || prefixes.contains(&0xf3);
    let count = if !rep {
        g.rng.below(3)
    } else {
        match g.rng.below(12) {
            0 => 0,
            1 => g.rng.below(300),
            _ => g.rng.range(1, 16),
        }
    };
    let down = g.eflags & DF != 0;
    let src = pick(g, true);
    let mut dst = if g.rng.one_in(6) {
        src.wrapping_add(g.rng.below(16)).wrapping_sub(8)
    } else {
        pick(g, false)
    };
    // Host quirk, not architecture: on the AMD EPYC this was written on,
    // REP MOVS with 16-bit addressing over overlapping source and
    // destination does not produce the element-by-element result the SDM
    // describes (32-bit addressing does). Keep those ranges apart.
    let span = (count.max(1) + 2) * e + 8;
    if g.addr16 && rep && kind == "Movs" && dst.abs_diff(src) < span {
        dst = src.wrapping_add(span);
    }
    let hi16 = |g: &mut Gen<'_>| {
        if g.addr16 {
            g.rng.u32() & 0xffff_0000
        } else {
            0
        }
    };
    let (s_hi, d_hi, c_hi) = (hi16(g), hi16(g), hi16(g));
    g.fix(ESI, s_hi | src);
    g.fix(EDI, d_hi | dst);
    let ecx = if rep {
        c_hi | count
    } else {
        g.regs[ECX as usize]
    };
    g.fix(ECX, ecx);
    for a in [src, dst] {
        g.cover(a.wrapping_sub(span), a.wrapping_add(span));
    }
    let elem = |base: u32, i: u32| {
        if down {
            base.wrapping_sub(i * e)
        } else {
            base.wrapping_add(i * e)
        }
    };
    let stop = g.rng.below(count + 2);
    match kind {
        "Cmps" if rep && g.rng.bool() => {
            for i in 0..stop {
                let v = g.peek(elem(src, i), e);
                g.poke(elem(dst, i), e, v);
            }
            if repne {
                let v = g.peek(elem(src, stop), e);
                g.poke(elem(dst, stop), e, v);
            }
        }
        "Scas" if rep && g.rng.bool() => {
            let acc = g.regs[EAX as usize];
            let range = if repne { stop..stop + 1 } else { 0..stop };
            for i in range {
                g.poke(elem(dst, i), e, acc);
            }
        }
        _ => {}
    }
}

/// A string pointer: mostly well inside the data area, sometimes at an
/// edge where the operation runs into an unmapped or read-only page.
fn pick(g: &mut Gen<'_>, source: bool) -> u32 {
    match g.rng.below(14) {
        0 => DATA + DATA_LEN - g.rng.below(24),
        1 => DATA + g.rng.below(24),
        2 if source => RO + 0x1000 - g.rng.below(24),
        3 => DATA + 0x1000 - g.rng.below(24),
        _ => DATA + 0x200 + g.rng.below(DATA_LEN - 0x400),
    }
}
