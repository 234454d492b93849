//! x87 instructions: one call to `wax.fpu(op, ea)` each (see
//! `crate::x87`), with the memory operand's address computed here and only
//! the registers the form uses passed through CpuState.
//!
//! The instructions that dominate compiled floating-point code also have
//! an inline fast path (data movement: FLD and FST(P) of registers,
//! m32fp, m64fp and m80fp, FXCH, FLD1, FLDZ, FCHS, FABS, FCMOVcc and
//! FLDCW in this file and `stack.rs`; FMUL, FADD/FSUB/FSUBR, FDIV/FDIVR and FSQRT in `arith.rs`,
//! with the wide significand arithmetic in functions every module with
//! x87 arithmetic carries, `wasm_fns.rs`; FCOM/FUCOM/FCOMI/FUCOMI and
//! their popping forms and FXAM in `compare.rs`; FILD, FIST/FISTP/FISTTP,
//! FNSTCW and FNSTSW in `int.rs`), for the case that is cheap to
//! prove the same as the
//! interpreter's: no exception pending or raised but a masked PE, the
//! registers read in use and the one pushed to empty, normal numbers
//! within range (and zeros for loads, stores, FMUL, FADD/FSUB/FSUBR and
//! comparisons), 64-bit precision for
//! arithmetic, round to nearest, accesses inside one page that the page
//! table allows. Anything else takes the call, so a fast path only has
//! to agree with the interpreter on the cases it accepts; the lockstep
//! tests compare them (random x87 programs, and directed rounding ties,
//! carries, cancellations and zeros).

mod arith;
mod compare;
mod int;
mod stack;
mod wasm_fns;

pub use wasm_fns::{divsig, mul64, sqrtsig, FN_SQRTSIG, TYPE_DIVSIG, TYPE_MUL64, TYPE_SQRTSIG};

use super::emit::{local as l, mem, Label};
use super::gen::{Code, Eip, Fs, Gen, FN_FPU};
use iced_x86::{Code as C, Instruction, Mnemonic, Register};
use std::mem::offset_of;
use wasm_encoder::Instruction as I;
use wax_cpu::abi::cpu;
use wax_cpu::state::{CpuState, X87State};

const X87: u32 = offset_of!(CpuState, x87) as u32;
pub(super) const REGS: u32 = X87 + offset_of!(X87State, regs) as u32;
const CONTROL: u32 = X87 + offset_of!(X87State, control) as u32;
const STATUS: u32 = X87 + offset_of!(X87State, status) as u32;
pub(super) const TAG: u32 = X87 + offset_of!(X87State, tag) as u32;
pub(super) const TOP: u32 = X87 + offset_of!(X87State, top) as u32;

/// Control word bits that exist, and the one that reads as 1
/// (`set_control`).
const CW_BITS: u32 = 0x1f3f;
const CW_ONES: u32 = 0x0040;

/// Status word bits (`wax_cpu::interp::x87` keeps them private).
const C1: u32 = 1 << 9;
const ES: u32 = 1 << 7;
const B: u32 = 1 << 15;
const PE: u32 = 1 << 5;
const IE: u32 = 1;

/// Locals of the fast paths. `ADDR` (the guest address) stays intact
/// until every check has passed, since the call needs it.
const STAT: u32 = l::V1;
const TAGW: u32 = l::V2;
const CTRL: u32 = l::V3;
const TOPV: u32 = l::ADDR2;
/// Machine addresses of the registers involved.
const RA: u32 = l::HOST2;
const RB: u32 = l::PTE;

/// An IEEE memory format.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Ieee {
    frac: u32,
    exp_bits: u32,
    bias: u32,
}

const SINGLE: Ieee = Ieee {
    frac: 23,
    exp_bits: 8,
    bias: 127,
};
const DOUBLE: Ieee = Ieee {
    frac: 52,
    exp_bits: 11,
    bias: 1023,
};

impl Ieee {
    fn bytes(self) -> u32 {
        (1 + self.exp_bits + self.frac) / 8
    }
    fn exp_max(self) -> u32 {
        (1 << self.exp_bits) - 1
    }
    /// Shift that takes the sign bit to bit 15 (the register format's).
    fn sign_shift(self) -> i64 {
        i64::from(self.frac + self.exp_bits - 15)
    }
    /// Loads the value at `HOST` as an i64.
    fn load(self) -> I<'static> {
        if self.bytes() == 8 {
            I::I64Load(mem(0, 0))
        } else {
            I::I64Load32U(mem(0, 0))
        }
    }
    fn store(self) -> I<'static> {
        if self.bytes() == 8 {
            I::I64Store(mem(0, 0))
        } else {
            I::I64Store32(mem(0, 0))
        }
    }
}

/// The forms with a fast path.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Fast {
    Fxch(u32),
    FldSt(u32),
    FstSt(u32, bool),
    FldM(Ieee),
    FstM(Ieee, bool),
    FldM80,
    FstpM80,
    /// FLD1, FLDZ: the value's sign/exponent word and significand.
    FldConst(u16, u64),
    /// FCHS (`true`), FABS: the sign bit flipped or cleared.
    Sign(bool),
    /// FMUL(P): ST(dst) = ST(dst) * the source, popping if `pop`.
    Mul {
        dst: u32,
        src: Src,
        pop: bool,
    },
    /// FADD/FSUB/FSUBR(P): ST(dst) = ST(dst) op the source, with the
    /// sign of the destination (`neg_dst`, FSUBR) or of the source
    /// (`neg_src`, FSUB) flipped first.
    Add {
        dst: u32,
        src: Src,
        pop: bool,
        neg_dst: bool,
        neg_src: bool,
    },
    /// FDIV(P) (`rev` false: ST(dst) = ST(dst) / the source) and
    /// FDIVR(P) (ST(dst) = the source / ST(dst)), popping if `pop`.
    Div {
        dst: u32,
        src: Src,
        pop: bool,
        rev: bool,
    },
    /// FSQRT.
    Sqrt,
    /// FCOM(P)(P)/FUCOM(P)(P) (`eflags` false: C3/C2/C0) and
    /// FCOMI(P)/FUCOMI(P) (`eflags`: ZF/PF/CF) of ST(0) with the source,
    /// popping `pops` times.
    Cmp {
        src: Src,
        eflags: bool,
        pops: u32,
    },
    /// FLDCW m16.
    Fldcw,
    /// FCMOVcc ST(0), ST(i): the x86 condition number and i.
    Fcmov(u8, u32),
    /// FILD of a 16-, 32- or 64-bit integer.
    Fild(u32),
    /// FIST(P) (`trunc` false) and FISTTP to a `bits`-wide integer.
    Fist {
        bits: u32,
        pop: bool,
        trunc: bool,
    },
    /// FNSTCW m16.
    Fnstcw,
    /// FNSTSW m16 (false) or AX (true).
    Fnstsw(bool),
    /// FXAM.
    Fxam,
}

/// The second operand of an arithmetic fast path.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Src {
    St(u32),
    Mem(Ieee),
}

fn fast(insn: &Instruction) -> Option<Fast> {
    let st = |op| insn.op_register(op) as u32 - Register::ST0 as u32;
    let m = insn.mnemonic();
    let add = |dst, src, pop| Fast::Add {
        dst,
        src,
        pop,
        neg_dst: matches!(m, Mnemonic::Fsubr | Mnemonic::Fsubrp),
        neg_src: matches!(m, Mnemonic::Fsub | Mnemonic::Fsubp),
    };
    let fist = |bits| Fast::Fist {
        bits,
        pop: m != Mnemonic::Fist,
        trunc: m == Mnemonic::Fisttp,
    };
    Some(match insn.code() {
        C::Fxch_st0_sti => Fast::Fxch(st(1)),
        C::Fld_sti => Fast::FldSt(st(0)),
        C::Fst_sti => Fast::FstSt(st(0), false),
        C::Fstp_sti => Fast::FstSt(st(0), true),
        C::Fld_m32fp => Fast::FldM(SINGLE),
        C::Fst_m32fp => Fast::FstM(SINGLE, false),
        C::Fstp_m32fp => Fast::FstM(SINGLE, true),
        C::Fld_m64fp => Fast::FldM(DOUBLE),
        C::Fst_m64fp => Fast::FstM(DOUBLE, false),
        C::Fstp_m64fp => Fast::FstM(DOUBLE, true),
        C::Fld_m80fp => Fast::FldM80,
        C::Fstp_m80fp => Fast::FstpM80,
        C::Fld1 => Fast::FldConst(0x3fff, 1 << 63),
        C::Fldz => Fast::FldConst(0, 0),
        C::Fmul_st0_sti => Fast::Mul {
            dst: 0,
            src: Src::St(st(1)),
            pop: false,
        },
        C::Fmul_sti_st0 | C::Fmulp_sti_st0 => Fast::Mul {
            dst: st(0),
            src: Src::St(0),
            pop: insn.code() == C::Fmulp_sti_st0,
        },
        C::Fmul_m32fp | C::Fmul_m64fp => Fast::Mul {
            dst: 0,
            src: Src::Mem(if insn.code() == C::Fmul_m32fp {
                SINGLE
            } else {
                DOUBLE
            }),
            pop: false,
        },
        C::Fadd_st0_sti | C::Fsub_st0_sti | C::Fsubr_st0_sti => add(0, Src::St(st(1)), false),
        C::Fadd_sti_st0
        | C::Faddp_sti_st0
        | C::Fsub_sti_st0
        | C::Fsubp_sti_st0
        | C::Fsubr_sti_st0
        | C::Fsubrp_sti_st0 => add(
            st(0),
            Src::St(0),
            matches!(
                insn.code(),
                C::Faddp_sti_st0 | C::Fsubp_sti_st0 | C::Fsubrp_sti_st0
            ),
        ),
        C::Fadd_m32fp | C::Fsub_m32fp | C::Fsubr_m32fp => add(0, Src::Mem(SINGLE), false),
        C::Fadd_m64fp | C::Fsub_m64fp | C::Fsubr_m64fp => add(0, Src::Mem(DOUBLE), false),
        C::Fdiv_st0_sti | C::Fdivr_st0_sti => Fast::Div {
            dst: 0,
            src: Src::St(st(1)),
            pop: false,
            rev: m == Mnemonic::Fdivr,
        },
        C::Fdiv_sti_st0 | C::Fdivp_sti_st0 | C::Fdivr_sti_st0 | C::Fdivrp_sti_st0 => Fast::Div {
            dst: st(0),
            src: Src::St(0),
            pop: matches!(m, Mnemonic::Fdivp | Mnemonic::Fdivrp),
            rev: matches!(m, Mnemonic::Fdivr | Mnemonic::Fdivrp),
        },
        C::Fdiv_m32fp | C::Fdivr_m32fp | C::Fdiv_m64fp | C::Fdivr_m64fp => Fast::Div {
            dst: 0,
            src: Src::Mem(match insn.code() {
                C::Fdiv_m32fp | C::Fdivr_m32fp => SINGLE,
                _ => DOUBLE,
            }),
            pop: false,
            rev: m == Mnemonic::Fdivr,
        },
        C::Fcomi_st0_sti | C::Fucomi_st0_sti | C::Fcomip_st0_sti | C::Fucomip_st0_sti => {
            Fast::Cmp {
                src: Src::St(st(1)),
                eflags: true,
                pops: matches!(m, Mnemonic::Fcomip | Mnemonic::Fucomip) as u32,
            }
        }
        C::Fcom_st0_sti | C::Fucom_st0_sti | C::Fcomp_st0_sti | C::Fucomp_st0_sti => Fast::Cmp {
            src: Src::St(st(1)),
            eflags: false,
            pops: matches!(m, Mnemonic::Fcomp | Mnemonic::Fucomp) as u32,
        },
        C::Fcompp | C::Fucompp => Fast::Cmp {
            src: Src::St(1),
            eflags: false,
            pops: 2,
        },
        C::Fcom_m32fp | C::Fcomp_m32fp | C::Fcom_m64fp | C::Fcomp_m64fp => Fast::Cmp {
            src: Src::Mem(match insn.code() {
                C::Fcom_m32fp | C::Fcomp_m32fp => SINGLE,
                _ => DOUBLE,
            }),
            eflags: false,
            pops: (m == Mnemonic::Fcomp) as u32,
        },
        C::Fsqrt => Fast::Sqrt,
        C::Fldcw_m2byte => Fast::Fldcw,
        C::Fcmovb_st0_sti => Fast::Fcmov(0x2, st(1)),
        C::Fcmove_st0_sti => Fast::Fcmov(0x4, st(1)),
        C::Fcmovbe_st0_sti => Fast::Fcmov(0x6, st(1)),
        C::Fcmovu_st0_sti => Fast::Fcmov(0xa, st(1)),
        C::Fcmovnb_st0_sti => Fast::Fcmov(0x3, st(1)),
        C::Fcmovne_st0_sti => Fast::Fcmov(0x5, st(1)),
        C::Fcmovnbe_st0_sti => Fast::Fcmov(0x7, st(1)),
        C::Fcmovnu_st0_sti => Fast::Fcmov(0xb, st(1)),
        C::Fild_m16int => Fast::Fild(16),
        C::Fild_m32int => Fast::Fild(32),
        C::Fild_m64int => Fast::Fild(64),
        C::Fist_m16int | C::Fistp_m16int | C::Fisttp_m16int => fist(16),
        C::Fist_m32int | C::Fistp_m32int | C::Fisttp_m32int => fist(32),
        C::Fistp_m64int | C::Fisttp_m64int => fist(64),
        C::Fnstcw_m2byte => Fast::Fnstcw,
        C::Fnstsw_m2byte => Fast::Fnstsw(false),
        C::Fnstsw_AX => Fast::Fnstsw(true),
        C::Fxam => Fast::Fxam,
        C::Fchs => Fast::Sign(true),
        C::Fabs => Fast::Sign(false),
        _ => return None,
    })
}

/// The memory access of a fast path: its size in bytes and whether it
/// writes.
fn mem_access(k: Fast) -> Option<(u32, bool)> {
    Some(match k {
        Fast::FldM(f) => (f.bytes(), false),
        Fast::FstM(f, _) => (f.bytes(), true),
        Fast::FldM80 => (10, false),
        Fast::FstpM80 => (10, true),
        Fast::Mul {
            src: Src::Mem(f), ..
        }
        | Fast::Add {
            src: Src::Mem(f), ..
        }
        | Fast::Div {
            src: Src::Mem(f), ..
        }
        | Fast::Cmp {
            src: Src::Mem(f), ..
        } => (f.bytes(), false),
        Fast::Fldcw => (2, false),
        Fast::Fild(bits) => (bits / 8, false),
        Fast::Fist { bits, .. } => (bits / 8, true),
        Fast::Fnstcw | Fast::Fnstsw(false) => (2, true),
        _ => return None,
    })
}

impl Gen<'_> {
    pub(super) fn x87(&mut self, insn: &Instruction, op: u32) {
        let Some((f, _)) = crate::x87::lookup(op) else {
            // Not a form `plan` gives; the interpreter still runs it right.
            self.step(insn, true);
            return;
        };
        if f.mem {
            self.ea(insn);
        }
        let fast = fast(insn);
        // The fast path's memory check comes first, as an integer
        // instruction's does: through the base register it can reuse an
        // earlier lookup (nbody's operands are a few registers plus
        // displacements), and it leaves before the instruction if it fails.
        // (The out-of-line lookups cover 1, 2 and 4 bytes: without inline
        // checks `need_mem` checks in the fast path and takes the call.)
        self.x87_mem = fast.and_then(mem_access).filter(|_| self.inline_checks);
        if let Some((n, write)) = self.x87_mem {
            self.check_based(l::ADDR, l::HOST, n, write, Self::simple_base(insn));
        }
        if let Some(k) = fast {
            self.e.block(Label::X87Done).block(Label::X87Call);
            self.x87_fast(k);
            self.e.br(Label::X87Done).end();
        }
        self.x87_mem = None;
        // The fast path or the call may have written the registers MMX
        // instructions alias, TOP and the tags.
        self.xmm.forget_mmx();
        // EIP for the handler (and for the exit if it faults).
        self.e.c(0).c(insn.ip32()).i(I::I32Store(mem(cpu::EIP, 2)));
        if f.writes_ax {
            self.e.store_local_at(cpu::GPR, l::R0);
        }
        self.e.c(op);
        if f.mem {
            self.e.get(l::ADDR);
        } else {
            self.e.c(0);
        }
        self.e.i(I::Call(FN_FPU)).set(l::V3);
        if f.writes_ax {
            self.e.load_at(cpu::GPR).reload(l::R0);
        }
        if f.writes_flags {
            // FCOMI and FUCOMI(P) leave ZF/PF/CF in `eflags`, op None (the
            // record is in CpuState around x87 instructions: `Gen::insn`).
            self.flags = Fs::Eager;
        }
        self.e.get(l::V3).if_();
        self.exit(Code::Local(l::V3), Eip::Cpu);
        self.e.end();
        if fast.is_some() {
            self.e.end();
        }
    }

    /// The fast path of `k`: checks (branching to `X87Call` when one
    /// fails), then the interpreter's effects for the accepted case.
    fn x87_fast(&mut self, k: Fast) {
        // No exception flag unmasked and no summary bit: what `wait`
        // checks, and what makes `sync_summary` clear ES and B.
        self.load16(STATUS).set(STAT);
        self.load16(CONTROL).tee(CTRL);
        self.e.c(0x3f).i(I::I32Xor).c(0x3f).i(I::I32And);
        self.e.c(ES).i(I::I32Or).get(STAT).i(I::I32And);
        self.e.br_if(Label::X87Call);
        self.load16(TOP).set(TOPV);
        self.load16(TAG).set(TAGW);
        match k {
            Fast::Fxch(i) => {
                self.reg_addr(0, RA);
                self.reg_addr(i, RB);
                self.need_used(0);
                self.need_used(i);
                for off in [0, 8] {
                    let (load, store) = if off == 0 {
                        (I::I64Load(mem(0, 3)), I::I64Store(mem(0, 3)))
                    } else {
                        (I::I64Load16U(mem(8, 1)), I::I64Store(mem(8, 3)))
                    };
                    self.e.get(RA).i(load.clone()).set(l::W1);
                    self.e.get(RA).get(RB).i(load).i(store.clone());
                    self.e.get(RB).get(l::W1).i(store);
                }
                self.set_status(!C1);
            }
            Fast::FldSt(i) => {
                self.reg_addr(i, RA);
                self.need_used(i);
                self.need_empty(7);
                self.reg_addr(7, RB);
                self.copy_reg(RA, RB);
                self.push_tail();
            }
            Fast::FstSt(i, pop) => {
                self.need_used(0);
                self.reg_addr(0, RA);
                self.reg_addr(i, RB);
                self.copy_reg(RA, RB);
                self.mark(i, false);
                self.set_status(!C1);
                if pop {
                    self.pop_tail();
                }
            }
            Fast::FldM(f) => {
                self.need_mem(f.bytes(), false);
                self.need_empty(7);
                self.e.get(l::HOST).i(f.load()).set(l::W1);
                self.reg_addr(7, RB);
                // Biased exponent in RA.
                self.e
                    .get(l::W1)
                    .i(I::I64Const(i64::from(f.frac)))
                    .i(I::I64ShrU);
                self.e.i(I::I32WrapI64).c(f.exp_max()).i(I::I32And).set(RA);
                // A zero (every bit but the sign clear) loads as one.
                let magnitude = (1i64 << (f.frac + f.exp_bits)) - 1;
                self.e.get(l::W1).i(I::I64Const(magnitude)).i(I::I64And);
                self.e.i(I::I64Eqz).if_();
                self.e.get(RB).i(I::I64Const(0)).i(I::I64Store(mem(0, 3)));
                self.e.get(RB).get(l::W1).i(I::I64Const(f.sign_shift()));
                self.e.i(I::I64ShrU).i(I::I64Const(0x8000)).i(I::I64And);
                self.e.i(I::I64Store(mem(8, 3)));
                self.e.else_();
                // Otherwise a normal number: exponent neither 0 nor all ones.
                self.e
                    .get(RA)
                    .c(1)
                    .i(I::I32Sub)
                    .c(f.exp_max() - 1)
                    .i(I::I32GeU);
                self.e.br_if(Label::X87Call);
                // Significand: the integer bit, then the fraction (the
                // exponent and sign bits shift out).
                self.e.get(RB).get(l::W1);
                self.e.i(I::I64Const(i64::from(63 - f.frac))).i(I::I64Shl);
                self.e.i(I::I64Const(i64::MIN)).i(I::I64Or);
                self.e.i(I::I64Store(mem(0, 3)));
                // Sign and exponent rebiased, pad zero.
                self.e.get(RB).get(l::W1).i(I::I64Const(f.sign_shift()));
                self.e.i(I::I64ShrU).i(I::I64Const(0x8000)).i(I::I64And);
                self.e.get(RA).c(16383 - f.bias).i(I::I32Add);
                self.e.i(I::I64ExtendI32U).i(I::I64Or);
                self.e.i(I::I64Store(mem(8, 3)));
                self.e.end();
                self.push_tail();
            }
            Fast::FldM80 => {
                self.need_mem(10, false);
                self.need_empty(7);
                self.reg_addr(7, RB);
                self.copy_reg(l::HOST, RB);
                self.push_tail();
            }
            Fast::FstpM80 => {
                self.need_mem(10, true);
                self.need_used(0);
                self.reg_addr(0, RA);
                self.e.get(l::HOST).get(RA).i(I::I64Load(mem(0, 3)));
                self.e.i(I::I64Store(mem(0, 3)));
                self.e.get(l::HOST).get(RA).i(I::I32Load16U(mem(8, 1)));
                self.e.i(I::I32Store16(mem(8, 1)));
                self.set_status(!(C1 | ES | B));
                self.pop_tail();
            }
            Fast::FstM(f, pop) => self.fst_ieee(f, pop),
            Fast::Mul { dst, src, pop } => self.fmul(dst, src, pop),
            Fast::Add {
                dst,
                src,
                pop,
                neg_dst,
                neg_src,
            } => self.fadd(dst, src, pop, neg_dst, neg_src),
            Fast::Div { dst, src, pop, rev } => self.fdiv(dst, src, pop, rev),
            Fast::Sqrt => self.fsqrt(),
            Fast::Cmp { src, eflags, pops } => self.fcompare(src, eflags, pops),
            Fast::Fldcw => {
                // `set_control`, then `sync_summary`: the summary bits are
                // clear (checked above) and stay clear unless the new word
                // unmasks a pending exception, which takes the call.
                self.need_mem(2, false);
                self.e.get(l::HOST).i(I::I32Load16U(mem(0, 0)));
                self.e.c(CW_BITS).i(I::I32And).c(CW_ONES).i(I::I32Or);
                self.e.set(CTRL);
                self.e.get(CTRL).c(0x3f).i(I::I32Xor).c(0x3f).i(I::I32And);
                self.e.get(STAT).i(I::I32And).br_if(Label::X87Call);
                self.e.c(0).get(CTRL).i(I::I32Store16(mem(CONTROL, 1)));
            }
            Fast::Fcmov(cc, i) => {
                // `fcmov`: both registers in use, C1 cleared, ST(0) =
                // ST(i) (in use already, so the tags stay) if taken.
                self.need_used(0);
                self.need_used(i);
                self.cond(cc);
                self.e.set(l::ADDR);
                self.set_status(!C1);
                self.e.get(l::ADDR).if_();
                self.reg_addr(i, RA);
                self.reg_addr(0, RB);
                self.copy_reg(RA, RB);
                self.e.end();
            }
            Fast::Fild(bits) => self.fild(bits),
            Fast::Fist { bits, pop, trunc } => self.fist(bits, pop, trunc),
            Fast::Fnstcw => self.fnstcw(),
            Fast::Fnstsw(ax) => self.fnstsw(ax),
            Fast::Fxam => self.fxam(),
            Fast::FldConst(sign_exp, signif) => {
                self.need_empty(7);
                self.reg_addr(7, RB);
                self.e.get(RB).i(I::I64Const(signif as i64));
                self.e.i(I::I64Store(mem(0, 3)));
                self.e.get(RB).i(I::I64Const(i64::from(sign_exp)));
                self.e.i(I::I64Store(mem(8, 3)));
                self.push_tail();
            }
            Fast::Sign(flip) => {
                // `unary`: no exception, so C1 cleared and the result
                // written.
                self.need_used(0);
                self.reg_addr(0, RA);
                self.e.get(RA).get(RA).i(I::I64Load16U(mem(8, 1)));
                self.e.i(I::I64Const(0x8000));
                self.e.i(if flip { I::I64Xor } else { I::I64Or });
                if !flip {
                    self.e.i(I::I64Const(0x8000)).i(I::I64Xor);
                }
                self.e.i(I::I64Store(mem(8, 3)));
                self.set_status(!(C1 | ES | B));
            }
        }
    }
}
