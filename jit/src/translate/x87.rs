//! x87 instructions: one call to `wax.fpu(op, ea)` each (see
//! `crate::x87`), with the memory operand's address computed here and only
//! the registers the form uses passed through CpuState.
//!
//! The data movements that dominate compiled floating-point code (FLD and
//! FST(P) of registers, m32fp, m64fp and m80fp, FXCH, FLD1, FLDZ, FCHS,
//! FABS) also have an inline fast path for the case that is cheap to
//! prove the same as the interpreter's: no exception pending or raised but
//! a masked PE, the registers read in use and the one pushed to empty,
//! normal numbers within range (and zeros for loads and stores), round
//! to nearest, accesses inside one page that the page table allows. Anything else takes the call, so the fast
//! path only ever has to agree with the interpreter on the cases it
//! accepts. The arithmetic itself always takes the call.

use super::emit::{local as l, mem, Label};
use super::gen::{Code, Eip, Fs, Gen, FN_FPU, LAZY};
use super::helpers;
use iced_x86::{Code as C, Instruction, Mnemonic, Register};
use std::mem::offset_of;
use wasm_encoder::Instruction as I;
use wax_cpu::abi::cpu;
use wax_cpu::state::{CpuState, X87State};

const X87: u32 = offset_of!(CpuState, x87) as u32;
const REGS: u32 = X87 + offset_of!(X87State, regs) as u32;
const CONTROL: u32 = X87 + offset_of!(X87State, control) as u32;
const STATUS: u32 = X87 + offset_of!(X87State, status) as u32;
const TAG: u32 = X87 + offset_of!(X87State, tag) as u32;
const TOP: u32 = X87 + offset_of!(X87State, top) as u32;

/// Status word bits (`wax_cpu::interp::x87` keeps them private).
const C1: u32 = 1 << 9;
const ES: u32 = 1 << 7;
const B: u32 = 1 << 15;
const PE: u32 = 1 << 5;

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
        C::Fchs => Fast::Sign(true),
        C::Fabs => Fast::Sign(false),
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
        if let Some(k) = fast {
            self.e.block(Label::X87Done).block(Label::X87Call);
            self.x87_fast(k);
            self.e.br(Label::X87Done).end();
        }
        // EIP for the handler (and for the exit if it faults).
        self.e.c(0).c(insn.ip32()).i(I::I32Store(mem(cpu::EIP, 2)));
        if f.reads_flags || f.writes_flags {
            for (loc, off) in LAZY {
                self.e.store_local_at(off, loc);
            }
        }
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
            self.e.load_at(cpu::GPR).set(l::R0);
        }
        if f.writes_flags {
            for (loc, off) in LAZY {
                self.e.load_at(off).set(loc);
            }
            // FCOMI and FUCOMI(P) leave ZF/PF/CF in `eflags`, op None.
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

    /// FST(P) m32fp/m64fp of a normal ST(0) whose exponent fits a normal
    /// number of the format (no underflow or overflow, even after
    /// rounding up), rounding to nearest-even with PE masked:
    /// `convert::store_ieee` and `fst_mem` for that case.
    fn fst_ieee(&mut self, f: Ieee, pop: bool) {
        // Bits below the format's significand, and its exponent range
        // rebiased: 16383 - (bias - 1) ..= 16383 + (bias - 1).
        let below = 63 - f.frac;
        let lo = 16384 - f.bias;
        // RC = nearest and PE masked.
        self.e.get(CTRL).c(0xc20).i(I::I32And).c(PE).i(I::I32Ne);
        self.e.br_if(Label::X87Call);
        self.need_mem(f.bytes(), true);
        self.need_used(0);
        self.reg_addr(0, RA);
        self.e.get(RA).i(I::I64Load(mem(0, 3))).set(l::W1);
        // A zero stores as the format's zero of its sign, raising nothing.
        self.e.get(l::W1).i(I::I64Eqz);
        self.e
            .get(RA)
            .i(I::I32Load16U(mem(8, 1)))
            .c(0x7fff)
            .i(I::I32And);
        self.e.i(I::I32Eqz).i(I::I32And).if_();
        self.e.get(l::HOST);
        self.e
            .get(RA)
            .i(I::I64Load16U(mem(8, 1)))
            .i(I::I64Const(0x8000));
        self.e
            .i(I::I64And)
            .i(I::I64Const(f.sign_shift()))
            .i(I::I64Shl);
        self.e.i(f.store());
        self.set_status(!(C1 | ES | B));
        if pop {
            self.pop_tail();
        }
        self.e.br(Label::X87Done);
        self.e.end();
        // The integer bit set (not an unnormal) ...
        self.e.get(l::W1).i(I::I64Const(0)).i(I::I64GeS);
        self.e.br_if(Label::X87Call);
        // ... and the exponent in range.
        self.e
            .get(RA)
            .i(I::I32Load16U(mem(8, 1)))
            .c(0x7fff)
            .i(I::I32And);
        self.e
            .tee(RB)
            .c(lo)
            .i(I::I32Sub)
            .c(2 * (f.bias - 1))
            .i(I::I32GtU);
        self.e.br_if(Label::X87Call);
        // From here on ADDR and CTRL are free: ADDR = rounded up, CTRL =
        // inexact; W2 = the kept bits, W1 = the rest.
        let (below, half) = (i64::from(below), 1i64 << (below - 1));
        self.e
            .get(l::W1)
            .i(I::I64Const(below))
            .i(I::I64ShrU)
            .set(l::W2);
        self.e
            .get(l::W1)
            .i(I::I64Const((1 << below) - 1))
            .i(I::I64And);
        self.e.set(l::W1);
        self.e.get(l::W1).i(I::I64Const(0)).i(I::I64Ne).set(CTRL);
        self.e.get(l::W1).i(I::I64Const(half)).i(I::I64GtU);
        self.e.get(l::W1).i(I::I64Const(half)).i(I::I64Eq);
        self.e
            .get(l::W2)
            .i(I::I32WrapI64)
            .c(1)
            .i(I::I32And)
            .i(I::I32And);
        self.e.i(I::I32Or).set(l::ADDR);
        // sign | (biased exponent - 1) << frac, plus the kept bits with
        // their integer bit (a carry out of them lands in the exponent).
        self.e.get(l::HOST);
        self.e
            .get(RA)
            .i(I::I64Load16U(mem(8, 1)))
            .i(I::I64Const(0x8000));
        self.e
            .i(I::I64And)
            .i(I::I64Const(f.sign_shift()))
            .i(I::I64Shl);
        self.e.get(RB).c(lo).i(I::I32Sub).i(I::I64ExtendI32U);
        self.e
            .i(I::I64Const(i64::from(f.frac)))
            .i(I::I64Shl)
            .i(I::I64Or);
        self.e.get(l::W2).i(I::I64Add);
        self.e.get(l::ADDR).i(I::I64ExtendI32U).i(I::I64Add);
        self.e.i(f.store());
        // C1 = rounded up, PE = inexact; PE is masked, so no summary.
        self.e.c(0).get(STAT).c(!(C1 | ES | B)).i(I::I32And);
        self.e.get(CTRL).c(PE).i(I::I32Mul).i(I::I32Or);
        self.e.get(l::ADDR).c(C1).i(I::I32Mul).i(I::I32Or);
        self.e.i(I::I32Store16(mem(STATUS, 1)));
        if pop {
            self.pop_tail();
        }
    }

    /// FMUL of two normal numbers at 64-bit precision (PC = 11), round to
    /// nearest, PE masked, the product's exponent inside the register
    /// format's range: `float::mul` and `arith_reg`/`arith_mem` for that
    /// case. The 128-bit product comes from the module's `mul64`.
    fn fmul(&mut self, dst: u32, src: Src, pop: bool) {
        self.e.get(CTRL).c(0xf20).i(I::I32And).c(0x320).i(I::I32Ne);
        self.e.br_if(Label::X87Call);
        self.need_used(dst);
        self.arith_src(src);
        // The destination, in place: significand in W1.
        self.reg_addr(dst, RA);
        self.e.get(RA).i(I::I64Load(mem(0, 3))).set(l::W1);
        self.e.get(RA).i(I::I32Load16U(mem(8, 1))).set(l::HOST);
        self.need_normal(l::W1, l::HOST);
        // HOST = the product's sign, CTRL = its biased exponent if the
        // top bit of the 128-bit product is clear.
        self.e.get(l::HOST).c(0x7fff).i(I::I32And);
        self.e.get(CTRL).c(0x7fff).i(I::I32And).i(I::I32Add);
        self.e.c(16383).i(I::I32Sub);
        self.e
            .get(l::HOST)
            .get(CTRL)
            .i(I::I32Xor)
            .c(0x8000)
            .i(I::I32And);
        self.e.set(l::HOST).set(CTRL);
        // W1:W2 = the product, normalised (it is at least 2^126).
        self.e.get(l::W1).get(l::W2).i(I::Call(FN_MUL64));
        self.e.set(l::W2).set(l::W1);
        self.e.get(l::W1).i(I::I64Const(0)).i(I::I64LtS).if_();
        self.e.get(CTRL).c(1).i(I::I32Add).set(CTRL);
        self.e.else_();
        self.e.get(l::W1).i(I::I64Const(1)).i(I::I64Shl);
        self.e
            .get(l::W2)
            .i(I::I64Const(63))
            .i(I::I64ShrU)
            .i(I::I64Or);
        self.e.set(l::W1);
        self.e.get(l::W2).i(I::I64Const(1)).i(I::I64Shl).set(l::W2);
        self.e.end();
        // Inside the range: biased 1..=0x7ffd (0x7ffe after a carry).
        self.e
            .get(CTRL)
            .c(1)
            .i(I::I32Sub)
            .c(0x7ffd - 1)
            .i(I::I32GtU);
        self.e.br_if(Label::X87Call);
        // ADDR = rounded up, RB = inexact (both free now).
        self.e
            .get(l::W2)
            .i(I::I64Const(63))
            .i(I::I64ShrU)
            .i(I::I32WrapI64);
        self.e
            .get(l::W2)
            .i(I::I64Const(1))
            .i(I::I64Shl)
            .i(I::I64Const(0));
        self.e
            .i(I::I64Ne)
            .get(l::W1)
            .i(I::I32WrapI64)
            .c(1)
            .i(I::I32And);
        self.e.i(I::I32Or).i(I::I32And).set(l::ADDR);
        self.e.get(l::W2).i(I::I64Const(0)).i(I::I64Ne).set(RB);
        self.e
            .get(l::W1)
            .get(l::ADDR)
            .i(I::I64ExtendI32U)
            .i(I::I64Add);
        self.e.tee(l::W1).i(I::I64Eqz).if_();
        // Rounding carried out: the next power of two.
        self.e.i(I::I64Const(i64::MIN)).set(l::W1);
        self.e.get(CTRL).c(1).i(I::I32Add).set(CTRL);
        self.e.end();
        self.e.get(RA).get(l::W1).i(I::I64Store(mem(0, 3)));
        self.e.get(RA).get(l::HOST).get(CTRL).i(I::I32Or);
        self.e.i(I::I64ExtendI32U).i(I::I64Store(mem(8, 3)));
        self.e.c(0).get(STAT).c(!(C1 | ES | B)).i(I::I32And);
        self.e.get(RB).c(PE).i(I::I32Mul).i(I::I32Or);
        self.e.get(l::ADDR).c(C1).i(I::I32Mul).i(I::I32Or);
        self.e.i(I::I32Store16(mem(STATUS, 1)));
        if pop {
            self.pop_tail();
        }
    }

    /// Loads an arithmetic source operand: significand in W2, sign and
    /// exponent word in CTRL; leaves for the call unless it is normal.
    fn arith_src(&mut self, src: Src) {
        // The source: significand in W2, sign/exponent word in CTRL.
        match src {
            Src::St(i) => {
                self.need_used(i);
                self.reg_addr(i, RB);
                self.e.get(RB).i(I::I64Load(mem(0, 3))).set(l::W2);
                self.e.get(RB).i(I::I32Load16U(mem(8, 1))).set(CTRL);
                self.need_normal(l::W2, CTRL);
            }
            Src::Mem(f) => {
                self.need_mem(f.bytes(), false);
                self.e.get(l::HOST).i(f.load()).set(l::W2);
                self.e
                    .get(l::W2)
                    .i(I::I64Const(i64::from(f.frac)))
                    .i(I::I64ShrU);
                self.e
                    .i(I::I32WrapI64)
                    .c(f.exp_max())
                    .i(I::I32And)
                    .set(l::HOST);
                self.e
                    .get(l::HOST)
                    .c(1)
                    .i(I::I32Sub)
                    .c(f.exp_max() - 1)
                    .i(I::I32GeU);
                self.e.br_if(Label::X87Call);
                self.e
                    .get(l::W2)
                    .i(I::I64Const(f.sign_shift()))
                    .i(I::I64ShrU);
                self.e.i(I::I32WrapI64).c(0x8000).i(I::I32And);
                self.e
                    .get(l::HOST)
                    .c(16383 - f.bias)
                    .i(I::I32Add)
                    .i(I::I32Or);
                self.e.set(CTRL);
                self.e
                    .get(l::W2)
                    .i(I::I64Const(i64::from(63 - f.frac)))
                    .i(I::I64Shl);
                self.e.i(I::I64Const(i64::MIN)).i(I::I64Or).set(l::W2);
            }
        }
    }

    /// FADD/FSUB/FSUBR of two normal numbers at 64-bit precision, round to
    /// nearest, PE masked, exponents at most 63 apart, a non-zero result in
    /// range that does not cancel below the top 64 bits: `float::add` and
    /// `arith_reg`/`arith_mem` for that case. The module's `addsig` does
    /// the significands.
    fn fadd(&mut self, dst: u32, src: Src, pop: bool, neg_dst: bool, neg_src: bool) {
        self.e.get(CTRL).c(0xf20).i(I::I32And).c(0x320).i(I::I32Ne);
        self.e.br_if(Label::X87Call);
        self.need_used(dst);
        self.arith_src(src);
        if neg_src {
            self.e.get(CTRL).c(0x8000).i(I::I32Xor).set(CTRL);
        }
        self.reg_addr(dst, RA);
        self.e.get(RA).i(I::I64Load(mem(0, 3))).set(l::W1);
        self.e.get(RA).i(I::I32Load16U(mem(8, 1))).set(l::HOST);
        self.need_normal(l::W1, l::HOST);
        if neg_dst {
            self.e.get(l::HOST).c(0x8000).i(I::I32Xor).set(l::HOST);
        }
        // x = (W1, HOST) the larger magnitude, y = (W2, CTRL).
        self.e.get(l::HOST).c(0x7fff).i(I::I32And);
        self.e.get(CTRL).c(0x7fff).i(I::I32And).i(I::I32LtU);
        self.e
            .get(l::HOST)
            .get(CTRL)
            .i(I::I32Xor)
            .c(0x7fff)
            .i(I::I32And);
        self.e
            .i(I::I32Eqz)
            .get(l::W1)
            .get(l::W2)
            .i(I::I64LtU)
            .i(I::I32And);
        self.e.i(I::I32Or).if_();
        self.e.get(l::W1).get(l::W2).set(l::W1).set(l::W2);
        self.e.get(l::HOST).get(CTRL).set(l::HOST).set(CTRL);
        self.e.end();
        // addsig(x, y, exponent difference, opposite signs)
        self.e.get(l::W1).get(l::W2);
        self.e.get(l::HOST).c(0x7fff).i(I::I32And);
        self.e.get(CTRL).c(0x7fff).i(I::I32And).i(I::I32Sub);
        self.e
            .get(l::HOST)
            .get(CTRL)
            .i(I::I32Xor)
            .c(15)
            .i(I::I32ShrU);
        self.e.i(I::Call(FN_ADDSIG));
        self.e.set(RB).set(CTRL).set(l::W1);
        self.e
            .get(RB)
            .c(ADD_FAIL)
            .i(I::I32And)
            .br_if(Label::X87Call);
        // CTRL = the biased exponent before rounding, in range.
        self.e
            .get(l::HOST)
            .c(0x7fff)
            .i(I::I32And)
            .get(CTRL)
            .i(I::I32Add);
        self.e
            .tee(CTRL)
            .c(1)
            .i(I::I32Sub)
            .c(0x7ffd - 1)
            .i(I::I32GtU);
        self.e.br_if(Label::X87Call);
        self.e
            .get(CTRL)
            .get(RB)
            .c(2)
            .i(I::I32ShrU)
            .c(1)
            .i(I::I32And);
        self.e.i(I::I32Add).set(CTRL);
        self.e.get(RA).get(l::W1).i(I::I64Store(mem(0, 3)));
        self.e
            .get(RA)
            .get(l::HOST)
            .c(0x8000)
            .i(I::I32And)
            .get(CTRL)
            .i(I::I32Or);
        self.e.i(I::I64ExtendI32U).i(I::I64Store(mem(8, 3)));
        // PE = inexact (bit 0), C1 = rounded up (bit 1).
        self.e.c(0).get(STAT).c(!(C1 | ES | B)).i(I::I32And);
        self.e
            .get(RB)
            .c(1)
            .i(I::I32And)
            .c(PE)
            .i(I::I32Mul)
            .i(I::I32Or);
        self.e
            .get(RB)
            .c(1)
            .i(I::I32ShrU)
            .c(1)
            .i(I::I32And)
            .c(C1)
            .i(I::I32Mul);
        self.e.i(I::I32Or).i(I::I32Store16(mem(STATUS, 1)));
        if pop {
            self.pop_tail();
        }
    }

    /// Leaves for the call unless the value with significand in i64 local
    /// `sig` and sign/exponent word in i32 local `se` is a normal number.
    fn need_normal(&mut self, sig: u32, se: u32) {
        self.e.get(sig).i(I::I64Const(0)).i(I::I64GeS);
        self.e.get(se).c(0x7fff).i(I::I32And).c(1).i(I::I32Sub);
        self.e.c(0x7ffe).i(I::I32GeU).i(I::I32Or);
        self.e.br_if(Label::X87Call);
    }

    fn load16(&mut self, at: u32) -> &mut super::emit::Emitter {
        self.e.c(0).i(I::I32Load16U(mem(at, 1)))
    }

    /// Status = STAT & `keep`.
    fn set_status(&mut self, keep: u32) {
        self.e.c(0).get(STAT).c(keep).i(I::I32And);
        self.e.i(I::I32Store16(mem(STATUS, 1)));
    }

    /// `dst` = machine address of ST(i).
    fn reg_addr(&mut self, i: u32, dst: u32) {
        self.phys(i);
        self.e.c(4).i(I::I32Shl).c(REGS).i(I::I32Add).set(dst);
    }

    /// Pushes the physical register number of ST(i).
    fn phys(&mut self, i: u32) {
        self.e.get(TOPV);
        if i != 0 {
            self.e.c(i).i(I::I32Add).c(7).i(I::I32And);
        }
    }

    /// Pushes ST(i)'s two tag bits.
    fn tag_of(&mut self, i: u32) {
        self.e.get(TAGW);
        self.phys(i);
        self.e.c(1).i(I::I32Shl).i(I::I32ShrU).c(3).i(I::I32And);
    }

    fn need_used(&mut self, i: u32) {
        self.tag_of(i);
        self.e.c(3).i(I::I32Eq).br_if(Label::X87Call);
    }

    fn need_empty(&mut self, i: u32) {
        self.tag_of(i);
        self.e.c(3).i(I::I32Ne).br_if(Label::X87Call);
    }

    /// `HOST` = machine address of an `n`-byte access at `ADDR` inside
    /// one page the page table allows.
    fn need_mem(&mut self, n: u32, write: bool) {
        self.e.get(l::ADDR).get(l::PT);
        self.e.i(I::Call(helpers::index(4, write))).tee(l::HOST);
        self.e.i(I::I32Eqz);
        self.e
            .get(l::ADDR)
            .c(0xfff)
            .i(I::I32And)
            .c(4096 - n)
            .i(I::I32GtU);
        self.e.i(I::I32Or).br_if(Label::X87Call);
    }

    /// Copies a register value (10 bytes, pad written as zero) from the
    /// machine address in local `from` to the one in `to`.
    fn copy_reg(&mut self, from: u32, to: u32) {
        self.e.get(to).get(from).i(I::I64Load(mem(0, 0)));
        self.e.i(I::I64Store(mem(0, 3)));
        self.e.get(to).get(from).i(I::I64Load16U(mem(8, 0)));
        self.e.i(I::I64Store(mem(8, 3)));
    }

    /// Sets (`empty`) or clears ST(i)'s tag bits in TAGW and the tag word.
    fn mark(&mut self, i: u32, empty: bool) {
        self.e.c(3);
        self.phys(i);
        self.e.c(1).i(I::I32Shl).i(I::I32Shl);
        if empty {
            self.e.get(TAGW).i(I::I32Or);
        } else {
            self.e.c(-1i32 as u32).i(I::I32Xor).get(TAGW).i(I::I32And);
        }
        self.e.set(TAGW);
        self.e.c(0).get(TAGW).i(I::I32Store16(mem(TAG, 1)));
    }

    /// After writing the new ST(0) at ST(7)'s register: a push of a value
    /// that raised nothing (`push_loaded` with no exception).
    fn push_tail(&mut self) {
        self.mark(7, false);
        self.e.c(0);
        self.phys(7);
        self.e.i(I::I32Store16(mem(TOP, 1)));
        self.set_status(!(C1 | ES | B));
    }

    /// Marks ST(0) empty and increments TOP.
    fn pop_tail(&mut self) {
        self.mark(0, true);
        self.e.c(0);
        self.phys(1);
        self.e.i(I::I32Store16(mem(TOP, 1)));
    }
}

/// Type index of `mul64(a, b) -> (hi, lo)`.
pub const TYPE_MUL64: u32 = 3;
/// Function index of `mul64`: after the page-table lookups.
pub const FN_MUL64: u32 = helpers::FN_XLATE + 6;

/// `mul64(a, b) -> (hi, lo)`: the 128-bit product of two unsigned 64-bit
/// values, from four 32 x 32-bit products (wasm has no wider multiply).
pub fn mul64() -> wasm_encoder::Function {
    const A: u32 = 0;
    const B: u32 = 1;
    const LL: u32 = 2;
    const LH: u32 = 3;
    const HL: u32 = 4;
    const MID: u32 = 5;
    let mut f = wasm_encoder::Function::new([(4, wasm_encoder::ValType::I64)]);
    let mut i = |x: I<'_>| {
        f.instruction(&x);
    };
    let lo32 = |i: &mut dyn FnMut(I<'static>), v: u32| {
        i(I::LocalGet(v));
        i(I::I64Const(0xffff_ffff));
        i(I::I64And);
    };
    let hi32 = |i: &mut dyn FnMut(I<'static>), v: u32| {
        i(I::LocalGet(v));
        i(I::I64Const(32));
        i(I::I64ShrU);
    };
    for (dst, a_hi, b_hi) in [(LL, false, false), (LH, false, true), (HL, true, false)] {
        if a_hi {
            hi32(&mut i, A)
        } else {
            lo32(&mut i, A)
        }
        if b_hi {
            hi32(&mut i, B)
        } else {
            lo32(&mut i, B)
        }
        i(I::I64Mul);
        i(I::LocalSet(dst));
    }
    // MID = LL.hi + LH.lo + HL.lo (at most 34 bits).
    hi32(&mut i, LL);
    lo32(&mut i, LH);
    i(I::I64Add);
    lo32(&mut i, HL);
    i(I::I64Add);
    i(I::LocalSet(MID));
    // hi = A.hi * B.hi + LH.hi + HL.hi + MID.hi
    hi32(&mut i, A);
    hi32(&mut i, B);
    i(I::I64Mul);
    hi32(&mut i, LH);
    i(I::I64Add);
    hi32(&mut i, HL);
    i(I::I64Add);
    hi32(&mut i, MID);
    i(I::I64Add);
    // lo = LL.lo | MID << 32
    lo32(&mut i, LL);
    i(I::LocalGet(MID));
    i(I::I64Const(32));
    i(I::I64Shl);
    i(I::I64Or);
    i(I::End);
    f
}

/// Type index of `addsig(x, y, d, sub) -> (sig, adj, flags)`.
pub const TYPE_ADDSIG: u32 = 4;
/// Function index of `addsig`: after `mul64`.
pub const FN_ADDSIG: u32 = FN_MUL64 + 1;
/// `addsig` flags: inexact, rounded up, rounding carried, not handled.
const ADD_FAIL: u32 = 8;

/// `addsig(x, y, d, sub) -> (sig, adj, flags)`: x +/- y * 2^-d rounded to
/// 64 bits, nearest-even, for normalised significands with x >= y * 2^-d.
/// `adj` is the exponent change before rounding (+1 for a carry out,
/// minus the normalising shift after a cancellation); flags bit 0 inexact,
/// 1 rounded up, 2 rounding carried into the next power of two, 3 not
/// handled (d > 63, or the difference has no bit in the top 64 of the
/// 128-bit window: zero or a deep cancellation). Exact up to d = 63: y
/// shifted right keeps every bit in the low word.
pub fn addsig() -> wasm_encoder::Function {
    use wasm_encoder::ValType;
    const X: u32 = 0;
    const Y: u32 = 1;
    const D: u32 = 2;
    const SUB: u32 = 3;
    const HI: u32 = 4;
    const LO: u32 = 5;
    const ADJ: u32 = 6;
    const LZ: u32 = 7;
    let mut f = wasm_encoder::Function::new([(2, ValType::I64), (2, ValType::I32)]);
    let body = [
        // d > 63: not handled.
        I::LocalGet(D),
        I::I32Const(63),
        I::I32GtU,
        I::If(wasm_encoder::BlockType::Empty),
        I::I64Const(0),
        I::I32Const(0),
        I::I32Const(ADD_FAIL as i32),
        I::Return,
        I::End,
        // LO = y's bits shifted out (y << (64 - d), 0 for d = 0), Y = y >> d.
        I::LocalGet(Y),
        I::I64Const(64),
        I::LocalGet(D),
        I::I64ExtendI32U,
        I::I64Sub,
        I::I64Shl,
        I::I64Const(0),
        I::LocalGet(D),
        I::Select,
        I::LocalSet(LO),
        I::LocalGet(Y),
        I::LocalGet(D),
        I::I64ExtendI32U,
        I::I64ShrU,
        I::LocalSet(Y),
        I::LocalGet(SUB),
        I::If(wasm_encoder::BlockType::Empty),
        // HI:LO = X:0 - Y:LO
        I::LocalGet(X),
        I::LocalGet(Y),
        I::I64Sub,
        I::LocalGet(LO),
        I::I64Const(0),
        I::I64Ne,
        I::I64ExtendI32U,
        I::I64Sub,
        I::LocalSet(HI),
        I::I64Const(0),
        I::LocalGet(LO),
        I::I64Sub,
        I::LocalSet(LO),
        I::LocalGet(HI),
        I::I64Eqz,
        I::If(wasm_encoder::BlockType::Empty),
        I::I64Const(0),
        I::I32Const(0),
        I::I32Const(ADD_FAIL as i32),
        I::Return,
        I::End,
        // Normalise: shift HI:LO left by LZ = clz(HI).
        I::LocalGet(HI),
        I::I64Clz,
        I::I32WrapI64,
        I::LocalTee(LZ),
        I::If(wasm_encoder::BlockType::Empty),
        I::LocalGet(HI),
        I::LocalGet(LZ),
        I::I64ExtendI32U,
        I::I64Shl,
        I::LocalGet(LO),
        I::I64Const(64),
        I::LocalGet(LZ),
        I::I64ExtendI32U,
        I::I64Sub,
        I::I64ShrU,
        I::I64Or,
        I::LocalSet(HI),
        I::LocalGet(LO),
        I::LocalGet(LZ),
        I::I64ExtendI32U,
        I::I64Shl,
        I::LocalSet(LO),
        I::End,
        I::I32Const(0),
        I::LocalGet(LZ),
        I::I32Sub,
        I::LocalSet(ADJ),
        I::Else,
        // HI:LO = X:0 + Y:LO, with a carry out shifted back in (LO's bit
        // 0 is clear, y << (64 - d) for d >= 1, so nothing is lost).
        I::LocalGet(X),
        I::LocalGet(Y),
        I::I64Add,
        I::LocalTee(HI),
        I::LocalGet(X),
        I::I64LtU,
        I::If(wasm_encoder::BlockType::Empty),
        I::LocalGet(LO),
        I::I64Const(1),
        I::I64ShrU,
        I::LocalGet(HI),
        I::I64Const(63),
        I::I64Shl,
        I::I64Or,
        I::LocalSet(LO),
        I::LocalGet(HI),
        I::I64Const(1),
        I::I64ShrU,
        I::I64Const(i64::MIN),
        I::I64Or,
        I::LocalSet(HI),
        I::I32Const(1),
        I::LocalSet(ADJ),
        I::End,
        I::End,
        // Round: LZ = round bit & (sticky | last kept bit) = rounded up.
        I::LocalGet(LO),
        I::I64Const(63),
        I::I64ShrU,
        I::I32WrapI64,
        I::LocalGet(LO),
        I::I64Const(1),
        I::I64Shl,
        I::I64Const(0),
        I::I64Ne,
        I::LocalGet(HI),
        I::I32WrapI64,
        I::I32Const(1),
        I::I32And,
        I::I32Or,
        I::I32And,
        I::LocalSet(LZ),
        I::LocalGet(HI),
        I::LocalGet(LZ),
        I::I64ExtendI32U,
        I::I64Add,
        I::LocalSet(HI),
        // sig: HI, or 2^63 after a carry out of the rounding.
        I::I64Const(i64::MIN),
        I::LocalGet(HI),
        I::LocalGet(HI),
        I::I64Eqz,
        I::Select,
        I::LocalGet(ADJ),
        // flags
        I::LocalGet(LO),
        I::I64Const(0),
        I::I64Ne,
        I::LocalGet(LZ),
        I::I32Const(1),
        I::I32Shl,
        I::I32Or,
        I::LocalGet(HI),
        I::I64Eqz,
        I::I32Const(2),
        I::I32Shl,
        I::I32Or,
        I::End,
    ];
    for i in &body {
        f.instruction(i);
    }
    f
}
