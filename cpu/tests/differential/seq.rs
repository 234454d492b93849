//! Multi-instruction cases: taken and not-taken branches (forward and
//! backward), the LOOP family and JECXZ, CALL/RET in their near, indirect
//! and `ret imm16` forms, and chains of register instructions whose lazily
//! computed flags feed each other.

use super::case::*;
use super::forms::{code, emit_row, flag_producer, Row};
use super::gen::*;
use super::table::CC;
use crate::harness::Rng;

/// One random sequence case. `chain` lists rows usable in chains.
pub fn build(rng: &mut Rng, chain: &[&Row]) -> Case {
    match rng.below(20) {
        0..=2 => jcc(rng),
        3 => jcc_back(rng),
        4..=5 => loop_back(rng),
        6 => loop_forward(rng),
        7 => jecxz(rng),
        8..=9 => call_ret(rng),
        10 => call_indirect(rng),
        11 => jmp_indirect(rng),
        _ => chain_of(rng, chain),
    }
}

/// Jcc (rel8 or rel32) over `inc ebx`, after a flag producer or not.
fn jcc(rng: &mut Rng) -> Case {
    let mut g = Gen::new(rng);
    g.reserve(EBX);
    if g.rng.bool() {
        flag_producer(&mut g);
    }
    let cc = g.rng.below(16) as u8;
    g.mark_main();
    let form = if g.rng.bool() {
        g.emit(&[0x70 + cc, 1]);
        format!("J{}_rel8_32", CC[cc as usize])
    } else {
        g.emit(&[0x0f, 0x80 + cc, 1, 0, 0, 0]);
        format!("J{}_rel32_32", CC[cc as usize])
    };
    g.emit(&[0x43]);
    g.finish(code(&form), "")
}

/// A backward Jcc: `jmp J; L: inc ebx; jmp end; J: jcc L`.
fn jcc_back(rng: &mut Rng) -> Case {
    let mut g = Gen::new(rng);
    g.reserve(EBX);
    if g.rng.bool() {
        flag_producer(&mut g);
    }
    let cc = g.rng.below(16) as u8;
    let short = g.rng.bool();
    let len = if short { 2 } else { 6 };
    g.emit(&[0xeb, 3, 0x43, 0xeb, len]);
    g.mark_main();
    let form = if short {
        g.emit(&[0x70 + cc, (-5i8) as u8]);
        format!("J{}_rel8_32", CC[cc as usize])
    } else {
        g.emit(&[0x0f, 0x80 + cc]);
        g.imm(4, (-9i32) as u32);
        format!("J{}_rel32_32", CC[cc as usize])
    };
    g.finish(code(&form), "backward")
}

/// LOOP/LOOPE/LOOPNE back over a small flag-setting body, ECX (or CX with
/// 0x67) from 1 to 8 so it ends.
fn loop_back(rng: &mut Rng) -> Case {
    const BODIES: [&[u8]; 5] = [
        &[0x4a],
        &[0x42],
        &[0x01, 0xda],
        &[0x21, 0xda],
        &[0x39, 0xda],
    ];
    let mut g = Gen::new(rng);
    let a16 = g.rng.one_in(3);
    let op = g.rng.below(3) as u8;
    let count = g.rng.range(1, 8);
    let ecx = if a16 {
        g.rng.u32() & 0xffff_0000 | count
    } else {
        count
    };
    g.fix(ECX, ecx);
    let edx = if g.rng.bool() {
        g.rng.below(6)
    } else {
        g.rng.value()
    };
    g.fix(EDX, edx);
    let ebx = if g.rng.bool() {
        g.rng.below(3)
    } else {
        g.rng.value()
    };
    g.fix(EBX, ebx);
    let body = *g.rng.pick(&BODIES);
    g.emit(body);
    g.mark_main();
    if a16 {
        g.emit(&[0x67]);
    }
    let back = -(body.len() as i32 + 2 + i32::from(a16));
    g.emit(&[0xe0 + op, back as u8]);
    g.finish(
        code(loop_form(op, a16)),
        if a16 { "a16 backward" } else { "backward" },
    )
}

fn loop_form(op: u8, a16: bool) -> &'static str {
    match (op, a16) {
        (0, false) => "Loopne_rel8_32_ECX",
        (1, false) => "Loope_rel8_32_ECX",
        (2, false) => "Loop_rel8_32_ECX",
        (0, true) => "Loopne_rel8_32_CX",
        (1, true) => "Loope_rel8_32_CX",
        _ => "Loop_rel8_32_CX",
    }
}

/// A counter edge: zero, one, or a value whose low 16 bits are zero or one.
fn counter(g: &mut Gen<'_>) -> u32 {
    let v = g.rng.value();
    *g.rng.pick(&[0, 1, 2, 0x1_0000, 0x1_0001, 0xffff_ffff, v])
}

/// LOOPcc forward over `inc ebx`, any counter (ECX = 0 wraps and jumps).
fn loop_forward(rng: &mut Rng) -> Case {
    let mut g = Gen::new(rng);
    g.reserve(EBX);
    let v = counter(&mut g);
    g.fix(ECX, v);
    if g.rng.bool() {
        flag_producer(&mut g);
    }
    let a16 = g.rng.one_in(3);
    let op = g.rng.below(3) as u8;
    g.mark_main();
    if a16 {
        g.emit(&[0x67]);
    }
    g.emit(&[0xe0 + op, 1, 0x43]);
    g.finish(code(loop_form(op, a16)), if a16 { "a16" } else { "" })
}

fn jecxz(rng: &mut Rng) -> Case {
    let mut g = Gen::new(rng);
    g.reserve(EBX);
    let v = counter(&mut g);
    g.fix(ECX, v);
    let a16 = g.rng.bool();
    g.mark_main();
    if a16 {
        g.emit(&[0x67]);
    }
    g.emit(&[0xe3, 1, 0x43]);
    let form = if a16 { "Jcxz_rel8_32" } else { "Jecxz_rel8_32" };
    g.finish(code(form), "")
}

/// `call L; jmp end; L: inc eax; ret` and its `ret imm16` and 16-bit
/// variants (`ret` with 0x66 pops a 16-bit EIP, which leaves the code).
fn call_ret(rng: &mut Rng) -> Case {
    let mut g = Gen::new(rng);
    let (ret, form, variant): (Vec<u8>, &str, &str) = match g.rng.below(6) {
        0..=2 => (vec![0xc3], "Call_rel32_32", ""),
        3 | 4 => {
            let n = if g.rng.one_in(4) {
                g.rng.u32() & 0xffff
            } else {
                g.rng.below(40)
            };
            (vec![0xc2, n as u8, (n >> 8) as u8], "Retnd_imm16", "")
        }
        _ => (vec![0x66, 0xc3], "Retnw", ""),
    };
    let call16 = g.rng.one_in(12);
    if call16 {
        // `call rel16` truncates EIP to 16 bits: it jumps out of the code.
        g.mark_main();
        g.emit(&[0x66, 0xe8, 0, 0]);
        return g.finish(code("Call_rel16"), "");
    }
    if form == "Call_rel32_32" {
        g.mark_main();
    }
    g.emit(&[0xe8, 2, 0, 0, 0, 0xeb, 1 + ret.len() as u8, 0x40]);
    if form != "Call_rel32_32" {
        g.mark_main();
    }
    g.emit(&ret);
    g.finish(code(form), variant)
}

/// `call r32` / `call [m32]` to `L: inc eax; ret`, after `jmp end`.
fn call_indirect(rng: &mut Rng) -> Case {
    let mut g = Gen::new(rng);
    g.mark_main();
    g.emit(&[0xff]);
    let via_mem = g.rng.bool();
    let (reg, mem) = if via_mem {
        let t = g.target(4);
        g.modrm_mem(2, t);
        (None, Some(t))
    } else {
        let r = *g.rng.pick(&[EAX, ECX, EDX, EBX, EBP, ESI, EDI]);
        g.emit(&[0xd0 | r]);
        (Some(r), None)
    };
    g.emit(&[0xeb, 2, 0x40, 0xc3]);
    let target = CODE_END - 2;
    if let Some(r) = reg {
        g.fix(r, target);
    }
    if let Some(t) = mem {
        g.poke(t, 4, target);
    }
    g.finish(code("Call_rm32"), if via_mem { "mem" } else { "reg" })
}

/// `jmp r32` / `jmp [m32]` straight to the end, over `inc eax`.
fn jmp_indirect(rng: &mut Rng) -> Case {
    let mut g = Gen::new(rng);
    g.mark_main();
    g.emit(&[0xff]);
    if g.rng.bool() {
        let t = g.target(4);
        g.modrm_mem(4, t);
        g.poke(t, 4, CODE_END);
    } else {
        let r = *g.rng.pick(&[EAX, ECX, EDX, EBX, EBP, ESI, EDI]);
        g.emit(&[0xe0 | r]);
        g.fix(r, CODE_END);
    }
    g.emit(&[0x40]);
    g.finish(code("Jmp_rm32"), "")
}

/// Two to four register-only instructions back to back.
fn chain_of(rng: &mut Rng, rows: &[&Row]) -> Case {
    let mut g = Gen::new(rng);
    let n = g.rng.range(2, 4);
    let mut last = rows[0];
    for _ in 0..n {
        last = rows[g.rng.below(rows.len() as u32) as usize];
        emit_row(&mut g, last, true);
    }
    g.finish(last.form, "chain")
}
