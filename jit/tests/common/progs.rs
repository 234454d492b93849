//! Random guest programs for lockstep tests.
//!
//! Registers: EAX, ECX, EDX, EBX are scratch (any instruction may write
//! them); ESI points at RW data, EDI near the end of the RW data (so
//! accesses may run into the unmapped page after it), EBP into the
//! read-only page (reads work, writes fault), ESP at the stack. Only the
//! scratch registers are ever written, so the loop counter at
//! [ESI+0x7c] and the pointers survive.

use super::asm::*;
use super::{Setup, CODE, DATA, DATA_LEN, RO_PAGE, STACK};

const SIZES: [u32; 4] = [8, 16, 32, 32];

fn dst_reg(r: &mut Rng, size: u32) -> u8 {
    if size == 8 {
        r.below(8) as u8
    } else {
        r.below(4) as u8
    }
}

/// A memory operand: mostly safe, sometimes at a page edge.
fn mem(r: &mut Rng, write: bool) -> Rm {
    match r.below(40) {
        0 => Rm::Mem(EDI, r.below(0x50) as i8),
        1 if !write => Rm::Mem(EBP, r.below(0x40) as i8),
        1 => Rm::Mem(EBP, 0),
        _ => Rm::Mem(ESI, r.below(0x71) as i8),
    }
}

fn rm(r: &mut Rng, size: u32, write: bool) -> Rm {
    if r.below(3) == 0 {
        mem(r, write)
    } else if write {
        Rm::Reg(dst_reg(r, size))
    } else {
        Rm::Reg(r.below(8) as u8)
    }
}

fn op8(size: u32, base: u8) -> u8 {
    if size == 8 {
        base
    } else {
        base + 1
    }
}

/// One random instruction (or a short fixed sequence).
pub fn insn(a: &mut Asm, r: &mut Rng) {
    let size = r.pick(&SIZES);
    match r.below(24) {
        0..=3 => {
            // ALU r/m, r or r, r/m (CMP/TEST never write).
            let op = r.below(8) as u8;
            if r.below(2) == 0 {
                let dst = rm(r, size, op != 7);
                let src = r.below(8) as u8;
                if op != 7 && matches!(dst, Rm::Mem(..)) && r.below(4) == 0 {
                    a.bytes(&[0xf0]); // LOCK
                }
                a.op(size, &[op << 3 | op8(size, 0)]).modrm(src, dst);
            } else {
                let src = rm(r, size, false);
                a.op(size, &[op << 3 | op8(size, 2)])
                    .modrm(dst_reg(r, size), src);
            }
        }
        4..=5 => {
            let op = r.below(8) as u8;
            let dst = rm(r, size, op != 7);
            if size != 8 && r.below(2) == 0 {
                a.op(size, &[0x83]).modrm(op, dst).imm(8, r.value());
            } else {
                a.op(size, &[op8(size, 0x80)])
                    .modrm(op, dst)
                    .imm(size, r.value());
            }
        }
        6..=7 => match r.below(4) {
            0 => {
                let dst = rm(r, size, true);
                a.op(size, &[op8(size, 0x88)]).modrm(r.below(8) as u8, dst);
            }
            1 => {
                let src = rm(r, size, false);
                a.op(size, &[op8(size, 0x8a)]).modrm(dst_reg(r, size), src);
            }
            2 => {
                let dst = rm(r, size, true);
                a.op(size, &[op8(size, 0xc6)])
                    .modrm(0, dst)
                    .imm(size, r.value());
            }
            _ => {
                a.bytes(&[0xb8 + r.below(4) as u8]).imm(32, r.value());
            }
        },
        8 => {
            let dst = rm(r, size, true);
            a.op(size, &[op8(size, 0xfe)]).modrm(r.below(2) as u8, dst);
        }
        9 => {
            let dst = rm(r, size, true);
            a.op(size, &[op8(size, 0xf6)])
                .modrm(2 + r.below(2) as u8, dst);
        }
        10 => {
            let dst = rm(r, size, false);
            a.op(size, &[op8(size, 0xf6)])
                .modrm(0, dst)
                .imm(size, r.value());
        }
        11..=12 => {
            let kind = r.pick(&[4u8, 5, 7, 0, 1]);
            let dst = rm(r, size, true);
            match r.below(4) {
                0 => a.op(size, &[op8(size, 0xd0)]).modrm(kind, dst),
                1 => a.op(size, &[op8(size, 0xd2)]).modrm(kind, dst),
                _ => a
                    .op(size, &[op8(size, 0xc0)])
                    .modrm(kind, dst)
                    .imm(8, r.below(34)),
            };
        }
        13 => {
            let size = r.pick(&[16, 32]);
            let src = rm(r, size, false);
            let dst = dst_reg(r, size);
            match r.below(3) {
                0 => a.op(size, &[0x0f, 0xaf]).modrm(dst, src),
                1 => a.op(size, &[0x6b]).modrm(dst, src).imm(8, r.value()),
                _ => a.op(size, &[0x69]).modrm(dst, src).imm(size, r.value()),
            };
        }
        14 => {
            let wide = r.below(2) as u8;
            let signed = r.below(2) as u8 * 8;
            let src = rm(r, 8 << wide, false);
            a.bytes(&[0x0f, 0xb6 + wide + signed])
                .modrm(dst_reg(r, 32), src);
        }
        15 => {
            let dst = rm(r, 8, true);
            a.bytes(&[0x0f, 0x90 + r.below(16) as u8]).modrm(0, dst);
        }
        16 => {
            let size = r.pick(&[16, 32]);
            let src = rm(r, size, false);
            a.op(size, &[0x0f, 0x40 + r.below(16) as u8])
                .modrm(dst_reg(r, size), src);
        }
        17 => {
            let dst = rm(r, size, true);
            a.op(size, &[op8(size, 0x86)]).modrm(dst_reg(r, size), dst);
        }
        18 => {
            let base = r.below(8) as u8;
            if base != ESP {
                a.bytes(&[0x8d])
                    .modrm(dst_reg(r, 32), Rm::Mem(base, r.value() as i8));
            }
        }
        19 => {
            if r.below(4) == 0 {
                a.bytes(&[0x0f, 0xc8 + dst_reg(r, 32)]); // BSWAP
            } else {
                a.bytes(&[r.pick(&[0x99, 0x98, 0xf8, 0xf9, 0xf5, 0x9f])]);
            }
        }
        20 => {
            // push r / push imm, then pop into a scratch register.
            if r.below(2) == 0 {
                a.bytes(&[0x50 + r.below(8) as u8]);
            } else {
                a.bytes(&[0x6a, r.value() as u8]);
            }
            a.bytes(&[0x58 + r.below(4) as u8]);
        }
        21 => {
            // BSF/BSR/TZCNT, BT*, SHLD/SHRD, PUSHFD/POP (left to the
            // interpreter); MUL, IMUL, DIV, IDIV, PUSH m32.
            match r.below(12) {
                0 => {
                    let src = rm(r, 32, false);
                    if r.below(3) == 0 {
                        a.bytes(&[0xf3]); // TZCNT/LZCNT
                    }
                    a.bytes(&[0x0f, 0xbc + r.below(2) as u8])
                        .modrm(dst_reg(r, 32), src)
                }
                1 => a
                    .bytes(&[0x0f, 0xa3 + 8 * r.below(4) as u8])
                    .modrm(r.below(8) as u8, Rm::Reg(dst_reg(r, 32))),
                9 => a
                    .bytes(&[0x0f, 0xba])
                    .modrm(4 + r.below(4) as u8, Rm::Reg(dst_reg(r, 32)))
                    .imm(8, r.value()),
                10 | 11 => {
                    // SHLD/SHRD by imm8 or CL, on a register or memory.
                    let dst = rm(r, 32, true);
                    let left = r.below(2) as u8 * 8;
                    if r.below(2) == 0 {
                        a.bytes(&[0x0f, 0xac - left])
                            .modrm(r.below(8) as u8, dst)
                            .imm(8, r.below(40))
                    } else {
                        a.bytes(&[0x0f, 0xad - left]).modrm(r.below(8) as u8, dst)
                    }
                }
                2 | 4 => {
                    let src = rm(r, 32, false);
                    a.bytes(&[0xf7]).modrm(4 + r.below(2) as u8, src)
                }
                5 | 6 => {
                    // Mostly a dividend that fits: EDX cleared for DIV,
                    // sign-extended for IDIV; sometimes #DE.
                    let signed = r.below(2) as u8;
                    if r.below(8) != 0 {
                        a.bytes(&[if signed == 1 { 0x99 } else { 0x31 }]);
                        if signed == 0 {
                            a.bytes(&[0xd2]); // xor edx, edx
                        }
                    }
                    let src = rm(r, 32, false);
                    a.bytes(&[0xf7]).modrm(6 + signed, src)
                }
                7 => {
                    let src = mem(r, false);
                    a.bytes(&[0xff]).modrm(6, src);
                    a.bytes(&[0x58 + r.below(4) as u8])
                }
                _ => a.bytes(&[0x9c, 0x58 + r.below(4) as u8]),
            };
        }
        _ => {
            // A forward branch over the next instruction or two.
            let fix = a.jcc_fwd(r.below(16) as u8);
            for _ in 0..1 + r.below(2) {
                insn(a, r);
            }
            a.fix(fix);
        }
    }
}

/// An x87 memory operand: often an 8-byte slot of the data (where
/// [`x87_program`] puts special values), otherwise as [`mem`] gives.
fn fmem(r: &mut Rng, write: bool) -> Rm {
    if r.below(2) == 0 {
        Rm::Mem(ESI, 8 * r.below(14) as i8)
    } else {
        mem(r, write)
    }
}

/// One random x87 instruction: loads and stores of every memory format
/// (also at page edges and on the read-only page), arithmetic on registers
/// and memory, stack moves, comparisons into EFLAGS and AX, FCMOVcc, and
/// control-word loads from random data (which can unmask exceptions, so
/// later instructions raise #MF).
pub fn x87_insn(a: &mut Asm, r: &mut Rng) {
    let sti = r.below(8) as u8;
    match r.below(16) {
        0..=2 => {
            // FLD m32fp/m64fp/m80fp, FILD m16/m32/m64.
            let (op, reg) = r.pick(&[
                (0xd9u8, 0u8),
                (0xdd, 0),
                (0xdb, 5),
                (0xdf, 0),
                (0xdb, 0),
                (0xdf, 5),
            ]);
            a.bytes(&[op]).modrm(reg, fmem(r, false));
        }
        3 | 4 => {
            // FST/FSTP m32fp/m64fp, FSTP m80fp, FIST(P)/FISTTP m16/m32/m64.
            let (op, reg) = r.pick(&[
                (0xd9u8, 2u8),
                (0xd9, 3),
                (0xdd, 2),
                (0xdd, 3),
                (0xdb, 7),
                (0xdf, 2),
                (0xdf, 3),
                (0xdb, 2),
                (0xdb, 3),
                (0xdf, 7),
                (0xdb, 1),
                (0xdd, 1),
                (0xdf, 1),
            ]);
            a.bytes(&[op]).modrm(reg, fmem(r, true));
        }
        5..=7 => {
            // FADD..FDIVR ST(0), ST(i) / ST(i), ST(0) / FxxxP.
            let op = r.pick(&[0xd8u8, 0xdc, 0xde]);
            a.bytes(&[op, 0xc0 | (r.below(8) as u8) << 3 | sti]);
        }
        8 | 9 => {
            // FADD..FDIVR (and FCOM/FCOMP) with m32fp, m64fp, m32int, m16int.
            let op = r.pick(&[0xd8u8, 0xdc, 0xda, 0xde]);
            a.bytes(&[op]).modrm(r.below(8) as u8, fmem(r, false));
        }
        10 => {
            // FLD ST(i), FXCH, FST/FSTP ST(i), FFREE.
            let op = r.pick(&[
                (0xd9u8, 0xc0u8),
                (0xd9, 0xc8),
                (0xdd, 0xd0),
                (0xdd, 0xd8),
                (0xdd, 0xc0),
            ]);
            a.bytes(&[op.0, op.1 | sti]);
        }
        11 => {
            // FCHS, FABS, FTST, FXAM, constants, FSQRT, FRNDINT, FSCALE,
            // FPREM, FXTRACT, FDECSTP, FINCSTP, FSIN.
            let op = r.pick(&[
                0xe0u8, 0xe1, 0xe4, 0xe5, 0xe8, 0xe9, 0xeb, 0xee, 0xfa, 0xfc, 0xfd, 0xf8, 0xf4,
                0xf6, 0xf7, 0xfe,
            ]);
            a.bytes(&[0xd9, op]);
        }
        12 => {
            // FCOMI/FUCOMI(P) then a branch on their flags; FCMOVcc.
            match r.below(3) {
                0 => {
                    let op = r.pick(&[(0xdbu8, 0xf0u8), (0xdb, 0xe8), (0xdf, 0xf0), (0xdf, 0xe8)]);
                    a.bytes(&[op.0, op.1 | sti]);
                    let fix = a.jcc_fwd(r.pick(&[2u8, 3, 4, 5, 6, 7, 0xa, 0xb]));
                    x87_insn(a, r);
                    a.fix(fix);
                }
                1 => {
                    let op = r.pick(&[0xdau8, 0xdb]);
                    a.bytes(&[op, 0xc0 | (r.below(4) as u8) << 3 | sti]);
                }
                _ => {
                    a.bytes(&[0xdb, 0xf0 | sti]);
                    a.bytes(&[0x0f, 0x90 + r.below(16) as u8])
                        .modrm(0, Rm::Reg(dst_reg(r, 8)));
                }
            }
        }
        13 => {
            // FNSTSW AX / m16, FNSTCW m16, FNSTENV, FLDCW (random data).
            match r.below(6) {
                0 | 1 => a.bytes(&[0xdf, 0xe0]),
                2 => a.bytes(&[0xdd]).modrm(7, fmem(r, true)),
                3 => a.bytes(&[0xd9]).modrm(7, fmem(r, true)),
                // Rare: most control words from random data unmask
                // something, and the program soon ends in #MF.
                4 if r.below(6) == 0 => a.bytes(&[0xd9]).modrm(5, fmem(r, false)),
                _ => a.bytes(&[0xd9]).modrm(6, fmem(r, true)),
            };
        }
        14 => {
            // FNCLEX, FNINIT, FWAIT, FNOP.
            a.bytes(&[r.pick(&[0xdbu8, 0xdb, 0x9b, 0xd9])]);
            match a.code[a.pos() - 1] {
                0xdb => a.bytes(&[r.pick(&[0xe2u8, 0xe3])]),
                0xd9 => a.bytes(&[0xd0]),
                _ => a,
            };
        }
        _ => {
            // Integer code in between, to keep flags and registers busy.
            insn(a, r);
        }
    }
}

/// A loop of `body` random instructions run `iters` times, with a call
/// into a small random subroutine, ending in `int 0x80`.
pub fn program(seed: u64, body: u32, iters: u32) -> Setup {
    program_of(seed, body, iters, insn)
}

/// [`program`] of mostly x87 instructions. Some 8-byte slots of the data
/// hold doubles whose products and sums round from exact ties (1 + 2^-52
/// times 1 + 3 * 2^-12 is 1 + 3 * 2^-12 + 2^-52 + 3 * 2^-64: a tie at 64
/// bits with an odd last kept bit) or carry into the next power of two,
/// which random bytes almost never give.
pub fn x87_program(seed: u64, body: u32, iters: u32) -> Setup {
    let mut st = program_of(seed, body, iters, x87_recorded);
    let mut r = Rng::new(seed ^ 0x005e_ed87);
    const SPECIAL: [f64; 8] = [
        1.0 + f64::EPSILON,
        1.0 + 1.0 / 4096.0,
        1.0 + 1.0 / 2048.0,
        1.0 + 3.0 * f64::EPSILON,
        1.5,
        2.0 - f64::EPSILON,
        -3.0,
        1.0 + 3.0 / 4096.0,
    ];
    for _ in 0..r.below(8) {
        let at = 8 * r.below(14) as usize;
        st.data[at..at + 8].copy_from_slice(&r.pick(&SPECIAL).to_le_bytes());
    }
    st
}

/// An x87 instruction, often followed by a copy of the status word into
/// the data (FNSTSW AX; MOV [ESI+d], AX), so that bits later instructions
/// overwrite, such as C1, are still compared at the end of a slice.
fn x87_recorded(a: &mut Asm, r: &mut Rng) {
    x87_insn(a, r);
    if r.below(2) == 0 {
        a.bytes(&[0xdf, 0xe0, 0x66, 0x89]);
        a.modrm(EAX, Rm::Mem(ESI, r.below(0x70) as i8));
    }
}

fn program_of(seed: u64, body: u32, iters: u32, insn: fn(&mut Asm, &mut Rng)) -> Setup {
    let mut r = Rng::new(seed);
    let code_at = CODE + r.below(0x1000);
    let mut a = Asm::default();
    let top = a.pos();
    for _ in 0..body / 2 {
        insn(&mut a, &mut r);
    }
    let call = a.pos();
    a.bytes(&[0xe8, 0, 0, 0, 0]);
    for _ in 0..body / 2 {
        insn(&mut a, &mut r);
    }
    // dec dword [esi+0x7c]; jnz top; int 0x80
    a.bytes(&[0xff, 0x4e, 0x7c]);
    a.rel32(&[0x0f, 0x85], top);
    a.bytes(&[0xcd, 0x80]);
    let sub = a.pos();
    for _ in 0..4 {
        insn(&mut a, &mut r);
    }
    a.bytes(&[0xc3]);
    let rel = (sub as i64 - (call as i64 + 5)) as i32;
    a.code[call + 1..call + 5].copy_from_slice(&rel.to_le_bytes());

    let mut data: Vec<u8> = (0..DATA_LEN).map(|_| r.next() as u8).collect();
    data[0x7c..0x80].copy_from_slice(&iters.to_le_bytes());
    let mut regs = [0u32; 8];
    for v in regs.iter_mut().take(4) {
        *v = r.value();
    }
    regs[ESP as usize] = STACK + 0x800;
    regs[EBP as usize] = RO_PAGE + r.below(0x100);
    regs[ESI as usize] = DATA;
    regs[EDI as usize] = DATA + DATA_LEN - 0x40;
    Setup {
        code: a.code,
        code_at,
        regs,
        data,
        eflags: r.next() as u32 & 0x8d5,
    }
}

/// A 16-byte (or narrower) SSE memory operand: mostly aligned in the RW
/// data, sometimes misaligned (#GP for the aligned forms), across the
/// boundary of the two RW pages (EBP, in SSE programs), or running into
/// the unmapped page after the data (EDI).
fn vec_mem(r: &mut Rng, write: bool) -> Rm {
    // Stores stay below the loop counter at [ESI+0x7c].
    let top = if write { 6 } else { 7 };
    match r.below(40) {
        0 => Rm::Mem(EDI, r.below(0x50) as i8),
        1 => Rm::Mem(ESI, r.below(0x5d) as i8),
        2..=4 => Rm::Mem(EBP, 0x30 + r.below(0x18) as i8),
        _ => Rm::Mem(ESI, 16 * r.below(top) as i8),
    }
}

/// An XMM register or a memory operand.
fn xmm_rm(r: &mut Rng, write: bool) -> Rm {
    if r.below(3) == 0 {
        vec_mem(r, write)
    } else {
        Rm::Reg(r.below(8) as u8)
    }
}

/// `66 0F xx` packed-integer, logic, compare, pack and unpack ops,
/// PSADBW, PSLLW by register.
const SSE2_BINARY: [u8; 52] = [
    0xfc, 0xfd, 0xfe, 0xd4, 0xf8, 0xf9, 0xfa, 0xfb, 0xec, 0xed, 0xdc, 0xdd, 0xe8, 0xe9, 0xd8, 0xd9,
    0x74, 0x75, 0x76, 0x64, 0x65, 0x66, 0xdb, 0xdf, 0xeb, 0xef, 0xd5, 0xe5, 0xe4, 0xf4, 0xf5, 0xda,
    0xde, 0xea, 0xee, 0xe0, 0xe3, 0x63, 0x6b, 0x67, 0x60, 0x61, 0x62, 0x6c, 0x68, 0x69, 0x6a, 0x6d,
    0xf6, 0xf1, 0x54, 0x57,
];

/// PSLL/PSRL/PSRA W/D/Q by an immediate: (opcode, ModRM reg field).
const LANE_SHIFTS: [(u8, u8); 8] = [
    (0x71, 2),
    (0x71, 4),
    (0x71, 6),
    (0x72, 2),
    (0x72, 4),
    (0x72, 6),
    (0x73, 2),
    (0x73, 6),
];

/// An MMX register or a 64-bit memory operand.
fn mm_rm(r: &mut Rng, write: bool) -> Rm {
    xmm_rm(r, write)
}

/// One random MMX instruction: the `0F xx` forms of the packed-integer
/// ops (SSE2's PADDQ/PSUBQ/PMULUDQ and SSSE3's included), moves, shifts,
/// PMOVMSKB/PEXTRW/PINSRW and EMMS.
pub fn mmx_insn(a: &mut Asm, r: &mut Rng) {
    let x = r.below(8) as u8;
    match r.below(12) {
        0..=3 => {
            // SSE2_BINARY less the XMM-only PUNPCKLQDQ/PUNPCKHQDQ and
            // ANDPD/XORPD.
            let op = loop {
                let op = r.pick(&SSE2_BINARY);
                if !matches!(op, 0x6c | 0x6d | 0x54 | 0x57) {
                    break op;
                }
            };
            let src = mm_rm(r, false);
            a.bytes(&[0x0f, op]).modrm(x, src);
        }
        4 => {
            if r.below(2) == 0 {
                let src = rm(r, 32, false);
                a.bytes(&[0x0f, 0x6e]).modrm(x, src) // movd mm, r/m32
            } else {
                let dst = if r.below(2) == 0 {
                    Rm::Reg(dst_reg(r, 32))
                } else {
                    vec_mem(r, true)
                };
                a.bytes(&[0x0f, 0x7e]).modrm(x, dst) // movd r/m32, mm
            };
        }
        5 | 6 => {
            if r.below(2) == 0 {
                let src = mm_rm(r, false);
                a.bytes(&[0x0f, 0x6f]).modrm(x, src) // movq mm, mm/m64
            } else {
                let dst = mm_rm(r, true);
                a.bytes(&[0x0f, 0x7f]).modrm(x, dst) // movq mm/m64, mm
            };
        }
        7 => {
            // Shifts by an immediate, counts past the lane width included.
            let (op, ext) = r.pick(&LANE_SHIFTS);
            let counts = [r.below(18), r.below(70), 31, 32, 63, 64];
            let count = r.pick(&counts);
            a.bytes(&[0x0f, op]).modrm(ext, Rm::Reg(x)).imm(8, count);
        }
        8 => {
            // Shifts by a register's or memory's low quadword, mostly a
            // small count put there by MOVD.
            let op = r.pick(&[0xd1u8, 0xd2, 0xd3, 0xe1, 0xe2, 0xf1, 0xf2, 0xf3]);
            if r.below(3) != 0 {
                let c = r.below(8) as u8;
                let g = dst_reg(r, 32);
                let counts = [r.below(18), 15, 16, 31, 32, 63, 64, r.below(70)];
                let count = r.pick(&counts);
                a.bytes(&[0xb8 + g]).imm(32, count); // mov g, count
                a.bytes(&[0x0f, 0x6e]).modrm(c, Rm::Reg(g)); // movd mmC, g
                a.bytes(&[0x0f, op]).modrm(x, Rm::Reg(c));
            } else {
                let src = mm_rm(r, false);
                a.bytes(&[0x0f, op]).modrm(x, src);
            }
        }
        9 => {
            // SSSE3 on MMX registers (PSHUFB and the horizontal adds are
            // stepped), PALIGNR.
            let src = mm_rm(r, false);
            if r.below(4) == 0 {
                a.bytes(&[0x0f, 0x3a, 0x0f])
                    .modrm(x, src)
                    .imm(8, r.below(20));
            } else {
                let op = r.pick(&[
                    0x00u8, 0x1c, 0x1d, 0x1e, 0x04, 0x0b, 0x08, 0x09, 0x0a, 0x01, 0x02, 0x03, 0x05,
                    0x06, 0x07,
                ]);
                a.bytes(&[0x0f, 0x38, op]).modrm(x, src);
            }
        }
        10 => {
            let d = dst_reg(r, 32);
            match r.below(3) {
                0 => a.bytes(&[0x0f, 0xd7]).modrm(d, Rm::Reg(x)), // pmovmskb r32, mm
                1 => a
                    .bytes(&[0x0f, 0xc5])
                    .modrm(d, Rm::Reg(x))
                    .imm(8, r.below(6)),
                _ => a
                    .bytes(&[0x0f, 0xc4])
                    .modrm(x, Rm::Reg(d))
                    .imm(8, r.below(6)),
            };
        }
        _ => {
            // EMMS now and then, and an x87 push and pop that leave 1.0
            // in R7 (the next MMX instruction enters MMX state again, and
            // a write to MM7 sets its exponent to all ones); else a
            // register with itself.
            if r.below(3) == 0 {
                a.bytes(&[0x0f, 0x77]);
                a.bytes(&[0xd9, 0xe8, 0xdd, 0xd8]); // fld1; fstp st(0)
            } else {
                let op = r.pick(&[0xefu8, 0x74, 0x76, 0xdf, 0xf8, 0xd4, 0xf4]);
                a.bytes(&[0x0f, op]).modrm(x, Rm::Reg(x));
            }
        }
    }
}

/// One random SSE instruction on XMM registers (or, now and then, MMX).
pub fn sse_insn(a: &mut Asm, r: &mut Rng) {
    let x = r.below(8) as u8;
    match r.below(16) {
        0..=4 => {
            let src = xmm_rm(r, false);
            a.bytes(&[0x66, 0x0f, r.pick(&SSE2_BINARY)]).modrm(x, src);
        }
        5 => {
            // ANDPS/ANDNPS/ORPS/XORPS, UNPCKLPS/UNPCKHPS (PS and PD).
            let src = xmm_rm(r, false);
            if r.below(2) == 0 {
                a.bytes(&[0x66]);
            }
            let op = r.pick(&[0x54u8, 0x55, 0x56, 0x57, 0x14, 0x15]);
            a.bytes(&[0x0f, op]).modrm(x, src);
        }
        6..=7 => {
            // Full-register moves: MOVDQA/MOVDQU/MOVAPS/MOVUPS/MOVAPD/
            // MOVUPD loads and stores, LDDQU, MOVNTDQ/MOVNTPS.
            let (prefix, load): (&[u8], u8) = r.pick(&[
                (&[0x66u8][..], 0x6fu8),
                (&[0xf3], 0x6f),
                (&[], 0x28),
                (&[], 0x10),
                (&[0x66], 0x28),
                (&[0x66], 0x10),
            ]);
            let store = if load == 0x6f { 0x7f } else { load + 1 };
            match r.below(8) {
                0 => a.bytes(&[0xf2, 0x0f, 0xf0]).modrm(x, vec_mem(r, false)),
                1 => {
                    let op: &[u8] = r.pick(&[&[0x66u8, 0x0f, 0xe7][..], &[0x0f, 0x2b]]);
                    a.bytes(op).modrm(x, vec_mem(r, true))
                }
                2..=4 => {
                    let dst = xmm_rm(r, true);
                    a.bytes(prefix).bytes(&[0x0f, store]).modrm(x, dst)
                }
                _ => {
                    let src = xmm_rm(r, false);
                    a.bytes(prefix).bytes(&[0x0f, load]).modrm(x, src)
                }
            };
        }
        8 => {
            // MOVD/MOVQ/MOVSS/MOVSD in every direction.
            match r.below(8) {
                0 => {
                    let src = rm(r, 32, false);
                    a.bytes(&[0x66, 0x0f, 0x6e]).modrm(x, src)
                }
                1 => {
                    let dst = if r.below(2) == 0 {
                        Rm::Reg(dst_reg(r, 32))
                    } else {
                        vec_mem(r, true)
                    };
                    a.bytes(&[0x66, 0x0f, 0x7e]).modrm(x, dst)
                }
                2 => {
                    let src = xmm_rm(r, false);
                    a.bytes(&[0xf3, 0x0f, 0x7e]).modrm(x, src)
                }
                3 => {
                    let dst = xmm_rm(r, true);
                    a.bytes(&[0x66, 0x0f, 0xd6]).modrm(x, dst)
                }
                4 | 5 => {
                    let p = r.pick(&[0xf3u8, 0xf2]);
                    let src = xmm_rm(r, false);
                    a.bytes(&[p, 0x0f, 0x10]).modrm(x, src)
                }
                _ => {
                    let p = r.pick(&[0xf3u8, 0xf2]);
                    let dst = xmm_rm(r, true);
                    a.bytes(&[p, 0x0f, 0x11]).modrm(x, dst)
                }
            };
        }
        9 => {
            // MOVLPS/MOVHPS/MOVLPD/MOVHPD (MOVHLPS/MOVLHPS as registers,
            // which have no 66 form).
            let op = r.pick(&[0x12u8, 0x13, 0x16, 0x17]);
            let m = if op & 1 == 1 || r.below(2) == 0 {
                vec_mem(r, op & 1 == 1)
            } else {
                Rm::Reg(r.below(8) as u8)
            };
            if matches!(m, Rm::Mem(..)) && r.below(2) == 0 {
                a.bytes(&[0x66]);
            }
            a.bytes(&[0x0f, op]).modrm(x, m);
        }
        10 => {
            // PMOVMSKB/MOVMSKPS/MOVMSKPD, PEXTRW, PINSRW.
            let d = dst_reg(r, 32);
            match r.below(5) {
                0 | 1 => a.bytes(&[0x66, 0x0f, 0xd7]).modrm(d, Rm::Reg(x)),
                2 => {
                    if r.below(2) == 0 {
                        a.bytes(&[0x66]);
                    }
                    a.bytes(&[0x0f, 0x50]).modrm(d, Rm::Reg(x))
                }
                3 => a
                    .bytes(&[0x66, 0x0f, 0xc5])
                    .modrm(d, Rm::Reg(x))
                    .imm(8, r.below(10)),
                _ => {
                    let src = rm(r, 32, false);
                    let src = match src {
                        Rm::Mem(..) => vec_mem(r, false),
                        reg => reg,
                    };
                    a.bytes(&[0x66, 0x0f, 0xc4])
                        .modrm(x, src)
                        .imm(8, r.below(10))
                }
            };
        }
        11 => {
            // Shifts by an immediate, counts past the lane width included,
            // and the byte shifts PSRLDQ/PSLLDQ.
            let (op, ext) = if r.below(5) == 0 {
                r.pick(&[(0x73u8, 3u8), (0x73, 7)])
            } else {
                r.pick(&LANE_SHIFTS)
            };
            let count = if r.below(2) == 0 {
                r.below(18)
            } else {
                r.below(70)
            };
            a.bytes(&[0x66, 0x0f, op])
                .modrm(ext, Rm::Reg(x))
                .imm(8, count);
        }
        12 => {
            // PSHUFD/PSHUFLW/PSHUFHW, SHUFPS/SHUFPD.
            let src = xmm_rm(r, false);
            let op: &[u8] = r.pick(&[
                &[0x66u8, 0x0f, 0x70][..],
                &[0xf2, 0x0f, 0x70],
                &[0xf3, 0x0f, 0x70],
                &[0x0f, 0xc6],
                &[0x66, 0x0f, 0xc6],
            ]);
            a.bytes(op).modrm(x, src).imm(8, r.value());
        }
        13 if r.below(4) == 0 => {
            // The SHA extensions (memory operands misaligned too: they
            // do not fault), SHA256RNDS2 with XMM0 implied.
            let src = xmm_rm(r, false);
            if r.below(4) == 0 {
                a.bytes(&[0x0f, 0x3a, 0xcc])
                    .modrm(x, src)
                    .imm(8, r.below(8));
            } else {
                let op = r.pick(&[0xc8u8, 0xc9, 0xca, 0xcb, 0xcb, 0xcc, 0xcd]);
                a.bytes(&[0x0f, 0x38, op]).modrm(x, src);
            }
        }
        13 => {
            // SSSE3: PSHUFB, PABSB/W/D, PALIGNR, PMADDUBSW, PMULHRSW,
            // PSIGNB/W/D, PHADD/PHSUB W/D/SW.
            let src = xmm_rm(r, false);
            if r.below(3) == 0 {
                a.bytes(&[0x66, 0x0f, 0x3a, 0x0f])
                    .modrm(x, src)
                    .imm(8, r.below(40));
            } else {
                let op = r.pick(&[
                    0x00u8, 0x00, 0x1c, 0x1d, 0x1e, 0x04, 0x0b, 0x08, 0x09, 0x0a, 0x01, 0x02, 0x03,
                    0x05, 0x06, 0x07,
                ]);
                a.bytes(&[0x66, 0x0f, 0x38, op]).modrm(x, src);
            }
        }
        14 if r.below(2) == 0 => {
            // Shift by register: a count (mostly small) into XMMc by MOVD,
            // or the register's own (mostly huge) low quadword.
            let op = r.pick(&[0xd1u8, 0xd2, 0xd3, 0xe1, 0xe2, 0xf1, 0xf2, 0xf3]);
            let c = r.below(8) as u8;
            if r.below(4) != 0 {
                let g = dst_reg(r, 32);
                // The lane width and its neighbours, below and past it.
                let w = 16 << (op & 3).saturating_sub(1);
                let counts = [r.below(18), w - 1, w, w + 1, r.below(70), r.value()];
                let count = r.pick(&counts);
                a.bytes(&[0xb8 + g]).imm(32, count); // mov g, count
                a.bytes(&[0x66, 0x0f, 0x6e]).modrm(c, Rm::Reg(g)); // movd xmmC, g
                a.bytes(&[0x66, 0x0f, op]).modrm(x, Rm::Reg(c));
            } else {
                let src = xmm_rm(r, false);
                a.bytes(&[0x66, 0x0f, op]).modrm(x, src);
            }
        }
        14 if r.below(3) == 0 => {
            // PREFETCHh (even of unmapped memory) and the fences.
            if r.below(2) == 0 {
                let m = r.pick(&[Rm::Mem(EDI, 0x7f), Rm::Mem(ESI, 0), Rm::Mem(EBP, 9)]);
                a.bytes(&[0x0f, 0x18]).modrm(r.below(4) as u8, m);
            } else {
                a.bytes(&[0x0f, 0xae, r.pick(&[0xe8u8, 0xf0, 0xf8])]);
            }
        }
        14 if r.below(4) == 0 => {
            // Words of 0x8000 (PCMPEQW, PSLLW 15), the PMULHRSW edge.
            a.bytes(&[0x66, 0x0f, 0x75]).modrm(x, Rm::Reg(x));
            a.bytes(&[0x66, 0x0f, 0x71]).modrm(6, Rm::Reg(x)).imm(8, 15);
            let y = r.below(8) as u8;
            a.bytes(&[0x66, 0x0f, 0x38, 0x0b]).modrm(y, Rm::Reg(x));
        }
        14 => {
            // A register with itself (PXOR x, x; PCMPEQB x, x ...).
            let op = r.pick(&[0xefu8, 0x74, 0x76, 0xdf, 0xf8]);
            a.bytes(&[0x66, 0x0f, op]).modrm(x, Rm::Reg(x));
        }
        15 => mmx_insn(a, r),
        _ => insn(a, r),
    }
}

/// Like [`program`], with SSE instructions: XMM0..XMM7 loaded from the
/// data first, EBP at the boundary of the two RW data pages (so 16-byte
/// accesses there cross it).
pub fn sse_program(seed: u64, body: u32, iters: u32) -> Setup {
    let mut st = program(seed, 0, iters);
    let mut r = Rng::new(seed ^ 0x55e);
    let mut a = Asm::default();
    for x in 0..8u8 {
        // movdqu xmmX, [esi + 16 * x]; movq mmX, [esi + 8 * x + 4]
        a.bytes(&[0xf3, 0x0f, 0x6f])
            .modrm(x, Rm::Mem(ESI, 16 * x as i8));
        a.bytes(&[0x0f, 0x6f])
            .modrm(x, Rm::Mem(ESI, 8 * x as i8 + 4));
    }
    let top = a.pos();
    for _ in 0..body {
        sse_insn(&mut a, &mut r);
    }
    a.bytes(&[0xff, 0x4e, 0x7c]);
    a.rel32(&[0x0f, 0x85], top);
    a.bytes(&[0xcd, 0x80]);
    st.code = a.code;
    st.regs[EBP as usize] = DATA + 0x1000 - 0x40;
    st
}
