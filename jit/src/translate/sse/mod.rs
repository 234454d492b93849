//! SSE/SSE2/SSSE3 integer, move and shuffle instructions on wasm SIMD128.
//!
//! XMM registers live in `CpuState::xmm` (machine memory, 16-byte
//! aligned): each result is stored there at once, so exits and interpreter
//! steps need nothing spilled. Within a block a register read or written
//! once is also held in a v128 local ([`XmmCache`]), so later reads skip
//! the load and its store-to-load latency.
//! MMX forms of the lane-wise operations run on the same code with the
//! register's 64 bits in the low half of a v128 ([`Gen::mmx_enter`]); the
//! MMX forms whose lanes cross 64 bits (packs, shuffles, horizontal adds)
//! stay with the interpreter. 32-bit addressing only, no LOCK.
//!
//! Exactness, with the interpreter (`wax_cpu::interp::sse`) as the
//! oracle:
//! - A memory operand is checked before anything changes, like every
//!   access (`operands.rs`): a page crossing, a miss of the fast path and
//!   a misaligned 16-byte operand of a form that demands alignment (the
//!   interpreter raises #GP) all leave before the instruction for the
//!   interpreter to run it.
//! - Lane operations are the wasm ones only where they agree bit for bit:
//!   shift counts past the lane width are resolved here (wasm takes them
//!   modulo the width, x86 clears or fills), PSHUFB masks its indices with
//!   0x8F (swizzle zeroes a lane for an index >= 16, PSHUFB for bit 7),
//!   PMULHW/PMULUDQ are built from widening multiplies.
//! - No flags are read or written.
//!
//! This file holds the table (which forms, which wasm operation) and the
//! operand access; `shuffle.rs` the byte permutations, `ops.rs` the forms
//! that take more than one wasm operation.

use super::emit::{local as l, mem};
use super::gen::Gen;
use super::plan::Plan;
use super::x87::{REGS, TAG, TOP};
use iced_x86::{Code, Instruction, Mnemonic, OpKind, Register};
use wasm_encoder::Instruction as I;
use wax_cpu::abi::cpu;

mod ops;
pub mod sha;
mod shuffle;

use shuffle::byte_map;

/// How a translated SSE instruction is emitted (the operands say the rest).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// Whole-register move: load, store or register copy.
    Move,
    /// MOVD/MOVQ/MOVSS/MOVSD between an XMM register and memory or a
    /// general register: the low `bytes`, zero-extended into a register
    /// destination.
    MoveLow { bytes: u8 },
    /// MOVLPx/MOVHPx: the low or high quadword to or from memory, the
    /// other half of the register kept.
    MoveHalf { high: bool },
    /// `dst = op(dst, src)` with one wasm instruction ([`binary_op`]).
    Binary,
    /// PANDN, ANDNPS, ANDNPD: `dst = !dst & src`.
    AndNot,
    /// PMULUDQ: unsigned products of the even dwords.
    MulUdq,
    /// PMULHW/PMULHUW: high words of the products.
    MulHigh { signed: bool },
    /// PABSB/W/D: `dst = |src|` (wasm and x86 agree on the minimum).
    Abs,
    /// `dst = op(dst, src)` built from several wasm instructions
    /// ([`Gen::composite`]): PSADBW, PSIGNB/W/D, PMULHRSW, PMADDUBSW,
    /// PHADD/PHSUB W/D/SW.
    Composite,
    /// PSLL/PSRL/PSRA W/D/Q by an immediate.
    ShiftImm,
    /// PSLL/PSRL/PSRA W/D/Q by the low quadword of an XMM register or
    /// memory.
    ShiftReg,
    /// A constant byte permutation of dst, src and zeros ([`byte_map`]):
    /// PSHUFD/LW/HW, PUNPCK*, UNPCK*, SHUFPS/PD, PALIGNR, PSLLDQ/PSRLDQ,
    /// MOVHLPS/MOVLHPS, register MOVSS/MOVSD.
    Shuffle,
    /// PSHUFB.
    Pshufb,
    /// PMOVMSKB, MOVMSKPS, MOVMSKPD.
    SignMask,
    /// PEXTRW r32, xmm, imm8.
    Pextrw,
    /// PINSRW xmm, r32/m16, imm8.
    Pinsrw,
    /// The SHA extensions: a call of the module's function ([`sha`]).
    Sha,
}

fn vector_regs_only(insn: &Instruction) -> bool {
    (0..insn.op_count()).all(|i| match insn.op_kind(i) {
        OpKind::Register => {
            let r = insn.op_register(i);
            r.is_xmm() || r.is_mm() || r.is_gpr32()
        }
        OpKind::Memory => {
            insn.memory_displ_size() != 2
                && !insn.memory_base().is_gpr16()
                && !insn.memory_index().is_gpr16()
        }
        OpKind::Immediate8 => true,
        _ => false,
    })
}

/// The plan for an SSE instruction, or None if it is not one this file
/// translates.
pub fn plan(insn: &Instruction) -> Option<Plan> {
    if insn.has_lock_prefix() || insn.op_count() == 0 || !vector_regs_only(insn) {
        return None;
    }
    let f = form(insn)?;
    if uses_mmx(insn) && !mmx_form(insn, f) {
        return None;
    }
    // Only the general-register operands the form expects.
    let gprs_ok = (0..insn.op_count()).all(|i| {
        insn.op_kind(i) != OpKind::Register
            || is_vec(insn, i)
            || matches!(
                f,
                Form::MoveLow { bytes: 4 } | Form::SignMask | Form::Pextrw
            )
            || (f == Form::Pinsrw && i == 1)
    });
    (gprs_ok && insn.op0_kind() != OpKind::Immediate8).then_some(Plan::Sse(f))
}

fn is_xmm(insn: &Instruction, op: u32) -> bool {
    insn.op_kind(op) == OpKind::Register && insn.op_register(op).is_xmm()
}

/// Whether operand `op` is an XMM or an MMX register.
fn is_vec(insn: &Instruction, op: u32) -> bool {
    insn.op_kind(op) == OpKind::Register && {
        let r = insn.op_register(op);
        r.is_xmm() || r.is_mm()
    }
}

/// Whether the instruction names an MMX register.
fn uses_mmx(insn: &Instruction) -> bool {
    (0..insn.op_count()).any(|i| insn.op_kind(i) == OpKind::Register && insn.op_register(i).is_mm())
}

/// Whether form `f` of an MMX instruction computes its 64 bits the way
/// the XMM form computes its low 64: true of lane-wise operations, not of
/// packs, byte permutations and horizontal adds, whose lanes cross the
/// middle of an XMM register.
fn mmx_form(insn: &Instruction, f: Form) -> bool {
    use Mnemonic::*;
    match f {
        Form::MoveLow { .. }
        | Form::AndNot
        | Form::MulUdq
        | Form::MulHigh { .. }
        | Form::Abs
        | Form::ShiftImm
        | Form::ShiftReg
        | Form::SignMask => true,
        Form::Binary => !matches!(insn.mnemonic(), Packsswb | Packuswb | Packssdw),
        Form::Composite => matches!(
            insn.mnemonic(),
            Psadbw | Psignb | Psignw | Psignd | Pmulhrsw | Pmaddubsw
        ),
        _ => false,
    }
}

fn form(insn: &Instruction) -> Option<Form> {
    use Code::*;
    let f = match insn.code() {
        Movdqa_xmm_xmmm128 | Movdqa_xmmm128_xmm | Movdqu_xmm_xmmm128 | Movdqu_xmmm128_xmm
        | Movaps_xmm_xmmm128 | Movaps_xmmm128_xmm | Movups_xmm_xmmm128 | Movups_xmmm128_xmm
        | Movapd_xmm_xmmm128 | Movapd_xmmm128_xmm | Movupd_xmm_xmmm128 | Movupd_xmmm128_xmm
        | Lddqu_xmm_m128 | Movntdq_m128_xmm | Movntps_m128_xmm | Movntpd_m128_xmm => Form::Move,
        Movd_xmm_rm32 | Movd_rm32_xmm | Movd_mm_rm32 | Movd_rm32_mm => Form::MoveLow { bytes: 4 },
        Movq_xmm_xmmm64 | Movq_xmmm64_xmm | Movq_mm_mmm64 | Movq_mmm64_mm => {
            Form::MoveLow { bytes: 8 }
        }
        Movss_xmm_xmmm32 | Movss_xmmm32_xmm if !is_xmm(insn, 0) || !is_xmm(insn, 1) => {
            Form::MoveLow { bytes: 4 }
        }
        Movsd_xmm_xmmm64 | Movsd_xmmm64_xmm if !is_xmm(insn, 0) || !is_xmm(insn, 1) => {
            Form::MoveLow { bytes: 8 }
        }
        Movss_xmm_xmmm32 | Movss_xmmm32_xmm | Movsd_xmm_xmmm64 | Movsd_xmmm64_xmm => Form::Shuffle,
        Movlps_xmm_m64 | Movlpd_xmm_m64 | Movlps_m64_xmm | Movlpd_m64_xmm => {
            Form::MoveHalf { high: false }
        }
        Movhps_xmm_m64 | Movhpd_xmm_m64 | Movhps_m64_xmm | Movhpd_m64_xmm => {
            Form::MoveHalf { high: true }
        }
        Movhlps_xmm_xmm | Movlhps_xmm_xmm => Form::Shuffle,
        Pmovmskb_r32_xmm | Pmovmskb_r32_mm | Movmskps_r32_xmm | Movmskpd_r32_xmm => Form::SignMask,
        Pextrw_r32_xmm_imm8 => Form::Pextrw,
        Pinsrw_xmm_r32m16_imm8 => Form::Pinsrw,
        _ if !is_vec(insn, 0) => return None,
        _ => return vector_form(insn),
    };
    Some(f)
}

/// The forms whose first operand is an XMM (or MMX) register, by
/// mnemonic.
fn vector_form(insn: &Instruction) -> Option<Form> {
    use Mnemonic::*;
    let m = insn.mnemonic();
    let imm = insn.op1_kind() == OpKind::Immediate8;
    Some(match m {
        _ if binary_op(m).is_some() => Form::Binary,
        Pandn | Andnps | Andnpd => Form::AndNot,
        Pmuludq => Form::MulUdq,
        Pmulhw | Pmulhuw => Form::MulHigh {
            signed: m == Pmulhw,
        },
        Pabsb | Pabsw | Pabsd => Form::Abs,
        Psadbw | Psignb | Psignw | Psignd | Pmulhrsw | Pmaddubsw | Phaddw | Phaddd | Phaddsw
        | Phsubw | Phsubd | Phsubsw => Form::Composite,
        Psllw | Pslld | Psllq | Psrlw | Psrld | Psrlq | Psraw | Psrad if imm => Form::ShiftImm,
        Psllw | Pslld | Psllq | Psrlw | Psrld | Psrlq | Psraw | Psrad => Form::ShiftReg,
        Pshufb => Form::Pshufb,
        _ if is_sha(m) => Form::Sha,
        _ if byte_map(insn).is_some() => Form::Shuffle,
        _ => return None,
    })
}

/// The wasm instruction of a [`Form::Binary`] mnemonic: lane-wise and
/// exact (saturation, signed narrowing, the PMADDWD wrap at 0x8000^2*2,
/// the rounding of PAVG are the same in both).
fn binary_op(m: Mnemonic) -> Option<I<'static>> {
    use Mnemonic::*;
    Some(match m {
        Paddb => I::I8x16Add,
        Paddw => I::I16x8Add,
        Paddd => I::I32x4Add,
        Paddq => I::I64x2Add,
        Psubb => I::I8x16Sub,
        Psubw => I::I16x8Sub,
        Psubd => I::I32x4Sub,
        Psubq => I::I64x2Sub,
        Paddsb => I::I8x16AddSatS,
        Paddsw => I::I16x8AddSatS,
        Paddusb => I::I8x16AddSatU,
        Paddusw => I::I16x8AddSatU,
        Psubsb => I::I8x16SubSatS,
        Psubsw => I::I16x8SubSatS,
        Psubusb => I::I8x16SubSatU,
        Psubusw => I::I16x8SubSatU,
        Pcmpeqb => I::I8x16Eq,
        Pcmpeqw => I::I16x8Eq,
        Pcmpeqd => I::I32x4Eq,
        Pcmpgtb => I::I8x16GtS,
        Pcmpgtw => I::I16x8GtS,
        Pcmpgtd => I::I32x4GtS,
        Pand | Andps | Andpd => I::V128And,
        Por | Orps | Orpd => I::V128Or,
        Pxor | Xorps | Xorpd => I::V128Xor,
        Pminub => I::I8x16MinU,
        Pmaxub => I::I8x16MaxU,
        Pminsw => I::I16x8MinS,
        Pmaxsw => I::I16x8MaxS,
        Pavgb => I::I8x16AvgrU,
        Pavgw => I::I16x8AvgrU,
        Pmullw => I::I16x8Mul,
        Pmaddwd => I::I32x4DotI16x8S,
        Packsswb => I::I8x16NarrowI16x8S,
        Packuswb => I::I8x16NarrowI16x8U,
        Packssdw => I::I16x8NarrowI32x4S,
        _ => return None,
    })
}

/// Whether a 16-byte memory operand must be aligned (#GP otherwise).
fn needs_alignment(insn: &Instruction) -> bool {
    use Code::*;
    // The SHA extensions do not fault (Wax's choice: `interp/sse/sha.rs`).
    !is_sha(insn.mnemonic())
        && !matches!(
            insn.code(),
            Movdqu_xmm_xmmm128
                | Movdqu_xmmm128_xmm
                | Movups_xmm_xmmm128
                | Movups_xmmm128_xmm
                | Movupd_xmm_xmmm128
                | Movupd_xmmm128_xmm
                | Lddqu_xmm_m128
        )
}

fn is_sha(m: Mnemonic) -> bool {
    use Mnemonic::*;
    matches!(
        m,
        Sha1rnds4 | Sha1nexte | Sha1msg1 | Sha1msg2 | Sha256rnds2 | Sha256msg1 | Sha256msg2
    )
}

/// Lane width and wasm shift of a PSLL/PSRL/PSRA mnemonic, and whether
/// it is arithmetic.
fn shift_kind(m: Mnemonic) -> (u32, I<'static>, bool) {
    use Mnemonic::*;
    match m {
        Psllw => (16, I::I16x8Shl, false),
        Pslld => (32, I::I32x4Shl, false),
        Psllq => (64, I::I64x2Shl, false),
        Psrlw => (16, I::I16x8ShrU, false),
        Psrld => (32, I::I32x4ShrU, false),
        Psrlq => (64, I::I64x2ShrU, false),
        Psraw => (16, I::I16x8ShrS, true),
        _ => (32, I::I32x4ShrS, true),
    }
}

/// Which XMM registers the current block holds in v128 locals (from
/// [`l::X0`]). Writes go through to `CpuState` as well, so exits and
/// steps need nothing spilled; reads after the first come from the local.
/// Forgotten at every block start (blocks are entered only there) and
/// after every interpreter step (it may write XMM registers). Loads and
/// stores are emitted only on an instruction's straight-line path, so a
/// register is held on every path through the block or on none.
///
/// MMX registers are held the same way (from [`l::MM0`], zero-extended
/// as a fresh `v128.load64_zero` would give them), and the store that
/// puts the FPU in MMX state is made once per stretch
/// (`mmx_entered`); x87 instructions write the same registers, TOP and
/// tags, so they forget both ([`XmmCache::forget_mmx`]). In OpenSSL's
/// SSE2 Montgomery multiplication (an MMX loop, 37 % of a TLS handshake's
/// time) every instruction loaded its operands from CpuState before.
pub struct XmmCache {
    enabled: bool,
    held: [bool; 16],
    mmx_entered: bool,
}

impl XmmCache {
    /// `enabled` when the function has the v128 locals.
    pub fn new(enabled: bool) -> XmmCache {
        XmmCache {
            enabled,
            held: [false; 16],
            mmx_entered: false,
        }
    }

    pub fn forget(&mut self) {
        self.held = [false; 16];
        self.mmx_entered = false;
    }

    /// After an x87 instruction: MMX registers, TOP and tags may have
    /// changed.
    pub fn forget_mmx(&mut self) {
        self.held[8..].fill(false);
        self.mmx_entered = false;
    }
}

/// A v128 constant with `v` in both quadwords.
fn splat64(v: u64) -> i128 {
    (u128::from(v) << 64 | u128::from(v)) as i128
}

/// Machine address of XMM register `r`.
fn slot(r: Register) -> u32 {
    cpu::XMM + 16 * r.number() as u32
}

/// Machine address of MMX register `r`: the significand of x87 register
/// R(n), whose exponent field an MMX write sets to all ones.
fn mm_slot(r: Register) -> u32 {
    REGS + 16 * r.number() as u32
}

// `mmx_enter` clears the tag word and TOP with one store.
const _: () = assert!(TOP == TAG + 2);

impl Gen<'_> {
    /// Emits a [`Plan::Sse`] instruction.
    pub(super) fn sse(&mut self, insn: &Instruction, f: Form) {
        if Self::mem_op(insn) {
            self.vec_check(insn);
        }
        if uses_mmx(insn) {
            self.mmx_enter();
        }
        match f {
            Form::Move => self.vec_move(insn),
            Form::MoveLow { bytes } => self.move_low(insn, bytes),
            Form::MoveHalf { high } => self.move_half(insn, high),
            Form::Binary => {
                let op = binary_op(insn.mnemonic()).expect("planned binary op");
                self.vec_binary(insn, |g| {
                    g.e.i(op);
                });
            }
            Form::AndNot => {
                self.e.c(0);
                self.vec_src(insn, 1);
                self.xmm_load(insn.op0_register());
                self.e.i(I::V128AndNot);
                self.xmm_store(insn.op0_register());
            }
            Form::MulUdq => {
                let even = I::V128Const(splat64(0xffff_ffff));
                self.e.c(0);
                self.xmm_load(insn.op0_register());
                self.e.i(even.clone()).i(I::V128And);
                self.vec_src(insn, 1);
                self.e.i(even).i(I::V128And).i(I::I64x2Mul);
                self.xmm_store(insn.op0_register());
            }
            Form::MulHigh { signed } => self.mul_high(insn, signed),
            Form::Abs => {
                self.e.c(0);
                self.vec_src(insn, 1);
                self.e.i(match insn.mnemonic() {
                    Mnemonic::Pabsb => I::I8x16Abs,
                    Mnemonic::Pabsw => I::I16x8Abs,
                    _ => I::I32x4Abs,
                });
                self.xmm_store(insn.op0_register());
            }
            Form::Composite => {
                self.e.c(0);
                self.composite(insn);
                self.xmm_store(insn.op0_register());
            }
            Form::ShiftImm => self.shift_imm(insn),
            Form::ShiftReg => self.shift_reg(insn),
            Form::Shuffle => self.shuffle(insn),
            Form::Pshufb => self.vec_binary(insn, |g| {
                g.e.i(I::V128Const(splat64(0x8f8f_8f8f_8f8f_8f8f)));
                g.e.i(I::V128And).i(I::I8x16Swizzle);
            }),
            Form::SignMask => {
                self.xmm_load(insn.op1_register());
                self.e.i(match insn.mnemonic() {
                    Mnemonic::Pmovmskb => I::I8x16Bitmask,
                    Mnemonic::Movmskps => I::I32x4Bitmask,
                    _ => I::I64x2Bitmask,
                });
                self.e.set(l::V1);
                self.write_reg(insn.op0_register(), l::V1);
            }
            Form::Pextrw => {
                self.xmm_load(insn.op1_register());
                self.e.i(I::I16x8ExtractLaneU(insn.immediate8() & 7));
                self.e.set(l::V1);
                self.write_reg(insn.op0_register(), l::V1);
            }
            Form::Pinsrw => {
                self.e.c(0);
                self.xmm_load(insn.op0_register());
                self.read_op(insn, 1, 16);
                self.e.i(I::I16x8ReplaceLane(insn.immediate8() & 7));
                self.xmm_store(insn.op0_register());
            }
            Form::Sha => {
                use sha::ShaFn::*;
                let which = match insn.mnemonic() {
                    Mnemonic::Sha1rnds4 => Sha1Rnds4(insn.immediate8() & 3),
                    Mnemonic::Sha1nexte => Sha1Nexte,
                    Mnemonic::Sha1msg1 => Sha1Msg1,
                    Mnemonic::Sha1msg2 => Sha1Msg2,
                    Mnemonic::Sha256rnds2 => Sha256Rnds2,
                    Mnemonic::Sha256msg1 => Sha256Msg1,
                    _ => Sha256Msg2,
                };
                let index = self.sha_function(which);
                self.vec_binary(insn, |g| {
                    if which == Sha256Rnds2 {
                        g.xmm_load(Register::XMM0);
                    } else {
                        g.e.i(I::V128Const(0));
                    }
                    g.e.i(I::Call(index));
                });
            }
        }
    }

    /// The memory operand's fast-path check into `HOST`: leaves before
    /// the instruction if it is misaligned where alignment is required,
    /// crosses a page, or misses the fast path.
    fn vec_check(&mut self, insn: &Instruction) {
        let n = insn.memory_size().size() as u32;
        let write = insn.op0_kind() == OpKind::Memory;
        self.ea(insn);
        if n == 16 && needs_alignment(insn) {
            // Aligned, it cannot cross a page either.
            self.e.get(l::ADDR).c(15).i(I::I32And).if_();
            self.exit_before();
            self.e.end();
        } else if n > 4 {
            // The lookup functions check crossings up to 4 bytes.
            self.e.get(l::ADDR).c(0xfff).i(I::I32And);
            self.e.c(4096 - n).i(I::I32GtU).if_();
            self.exit_before();
            self.e.end();
        }
        self.check(l::ADDR, l::HOST, n.min(4), write);
    }

    /// What every MMX instruction does to the x87 state, as the
    /// interpreter does it (after the checks, so nothing changes when the
    /// instruction leaves for the interpreter): TOP = 0 and every register
    /// valid.
    fn mmx_enter(&mut self) {
        if self.xmm.mmx_entered {
            return;
        }
        self.e.c(0).c(0).i(I::I32Store(mem(TAG, 1)));
        self.xmm.mmx_entered = self.xmm.enabled;
    }

    /// Pushes XMM register `r` (an MMX register in the low half, the high
    /// half zero).
    fn xmm_load(&mut self, r: Register) {
        let (n, local) = if r.is_mm() {
            (8 + r.number(), l::MM0 + r.number() as u32)
        } else {
            (r.number(), l::X0 + r.number() as u32)
        };
        if self.xmm.held[n] {
            self.e.get(local);
            return;
        }
        if r.is_mm() {
            self.e.c(0).i(I::V128Load64Zero(mem(mm_slot(r), 3)));
        } else {
            self.e.c(0).i(I::V128Load(mem(slot(r), 4)));
        }
        if self.xmm.enabled {
            self.e.tee(local);
            self.xmm.held[n] = true;
        }
    }

    /// Stores the v128 on the stack to `r` (the caller pushed an address
    /// 0 before computing it).
    fn xmm_store(&mut self, r: Register) {
        if r.is_mm() {
            if self.xmm.enabled {
                // Held as a load would give it: lanes past 64 bits of a
                // lane-wise result are not the register's (PCMPEQ of two
                // zero halves is all ones there, which PMOVMSKB would see).
                self.e.i(I::V128Const(u128::from(u64::MAX) as i128));
                self.e.i(I::V128And).tee(l::MM0 + r.number() as u32);
                self.xmm.held[8 + r.number()] = true;
            }
            self.e.i(I::V128Store64Lane {
                memarg: mem(mm_slot(r), 3),
                lane: 0,
            });
            self.e
                .c(0)
                .c(0xffff)
                .i(I::I32Store16(mem(mm_slot(r) + 8, 1)));
            return;
        }
        if self.xmm.enabled {
            let n = r.number();
            self.e.tee(l::X0 + n as u32);
            self.xmm.held[n] = true;
        }
        self.e.i(I::V128Store(mem(slot(r), 4)));
    }

    /// Pushes operand `op` as a v128: a register, or 16 bytes at `HOST`
    /// (8, zero-extended, for an MMX instruction).
    fn vec_src(&mut self, insn: &Instruction, op: u32) {
        if insn.op_kind(op) == OpKind::Memory {
            self.e.get(l::HOST).i(if uses_mmx(insn) {
                I::V128Load64Zero(mem(0, 0))
            } else {
                I::V128Load(mem(0, 0))
            });
        } else {
            self.xmm_load(insn.op_register(op));
        }
    }

    /// `dst = op(dst, src)`, `op` emitted by `body`.
    fn vec_binary(&mut self, insn: &Instruction, body: impl FnOnce(&mut Self)) {
        self.e.c(0);
        self.xmm_load(insn.op0_register());
        self.vec_src(insn, 1);
        body(self);
        self.xmm_store(insn.op0_register());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use iced_x86::{Decoder, DecoderOptions};

    fn form_of(bytes: &[u8]) -> Option<Form> {
        let i = Decoder::with_ip(32, bytes, 0x1000, DecoderOptions::NONE).decode();
        match plan(&i) {
            Some(Plan::Sse(f)) => Some(f),
            _ => None,
        }
    }

    #[test]
    fn forms() {
        assert_eq!(form_of(&[0x66, 0x0f, 0x6f, 0x06]), Some(Form::Move)); // movdqa xmm0, [esi]
        assert_eq!(form_of(&[0xf3, 0x0f, 0x7f, 0x07]), Some(Form::Move)); // movdqu [edi], xmm0
        assert_eq!(form_of(&[0x0f, 0x28, 0xc1]), Some(Form::Move)); // movaps
        assert_eq!(form_of(&[0x66, 0x0f, 0xef, 0xc0]), Some(Form::Binary)); // pxor
        assert_eq!(
            form_of(&[0x0f, 0xef, 0xc0]),
            Some(Form::Binary),
            "pxor mm0, mm0"
        );
        assert_eq!(form_of(&[0x66, 0x0f, 0xd7, 0xc1]), Some(Form::SignMask)); // pmovmskb eax, xmm1
        assert_eq!(
            form_of(&[0x66, 0x0f, 0x6e, 0xc0]),
            Some(Form::MoveLow { bytes: 4 })
        ); // movd xmm0, eax
        assert_eq!(
            form_of(&[0x66, 0x0f, 0x70, 0xc1, 0x1b]),
            Some(Form::Shuffle)
        ); // pshufd
        assert_eq!(
            form_of(&[0x66, 0x0f, 0x73, 0xd8, 0x03]),
            Some(Form::Shuffle)
        ); // psrldq
        assert_eq!(
            form_of(&[0x66, 0x0f, 0x72, 0xf0, 0x03]),
            Some(Form::ShiftImm)
        ); // pslld
        assert_eq!(form_of(&[0x66, 0x0f, 0xf2, 0xc1]), Some(Form::ShiftReg)); // pslld xmm0, xmm1
        assert_eq!(form_of(&[0x66, 0x0f, 0x38, 0x00, 0xc1]), Some(Form::Pshufb));
        assert_eq!(
            form_of(&[0x66, 0x0f, 0x3a, 0x0f, 0xc1, 0x04]),
            Some(Form::Shuffle)
        ); // palignr
        assert_eq!(form_of(&[0x66, 0x0f, 0xf4, 0xc1]), Some(Form::MulUdq));
        assert_eq!(form_of(&[0x66, 0x0f, 0xf6, 0xc1]), Some(Form::Composite)); // psadbw
        assert_eq!(
            form_of(&[0x0f, 0x38, 0x04, 0xc1]),
            Some(Form::Composite),
            "pmaddubsw mm0, mm1"
        );
        assert_eq!(form_of(&[0x0f, 0x38, 0x00, 0xc1]), None, "pshufb mm0, mm1");
        assert_eq!(
            form_of(&[0x66, 0x67, 0x0f, 0x6f, 0x04]),
            None,
            "16-bit address"
        );
        assert_eq!(form_of(&[0x0f, 0x58, 0xc1]), None, "addps");
    }
}
