//! Which instructions are translated, and what each does to the flags.
//!
//! `plan` is the translator's table: one row per instruction family it
//! emits wasm for. Everything else is [`Plan::Step`]: translated code calls
//! back into the interpreter for that one instruction, so correctness
//! never depends on coverage. Rows are conservative on purpose (32-bit
//! addressing only, no LOCK, no 16-bit branches): a form left out costs
//! speed, never correctness.

use iced_x86::{Code, Instruction, Mnemonic, OpKind, Register};

/// ALU operation numbers, as the interpreter's `alu` module numbers them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AluOp {
    Add,
    Or,
    Adc,
    Sbb,
    And,
    Sub,
    Xor,
    Cmp,
    Test,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShiftOp {
    Shl,
    Shr,
    Sar,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Plan {
    /// The interpreter runs it (one-instruction fallback).
    Step,
    /// Does not fit in the page: the interpreter runs it, then control
    /// leaves the module.
    StepStraddling,
    Mov,
    Lea,
    Alu(AluOp),
    /// `xor r, r` / `sub r, r`.
    ClearReg,
    IncDec,
    Neg,
    Not,
    Push,
    Pop,
    Leave,
    Movx,
    Setcc,
    Cmov,
    Xchg,
    Cdq,
    Cwde,
    Nop,
    JmpRel,
    Jcc,
    CallRel,
    Ret,
    JmpInd,
    CallInd,
    Syscall,
    /// SHL/SHR/SAR by a non-zero immediate (flags computed only where
    /// they are live).
    Shift(ShiftOp),
    /// IMUL r, r/m (, imm), flags computed where live.
    Imul,
    /// SHL/SHR/SAR r/m, CL of an operand of `size` bits: translated where
    /// its flags are dead, and for 32 bits also where they are live.
    ShiftCl(ShiftOp, u32),
    /// MUL/IMUL r/m32 (EDX:EAX = EAX * r/m32), flags computed where live.
    MulAcc {
        signed: bool,
    },
    /// BT/BTS/BTR/BTC r32, r32|imm8 (`op`: 0 BT, 1 BTS, 2 BTR, 3 BTC).
    Bt {
        op: u8,
    },
    /// BSF/BSR r32, r/m32 (and TZCNT/LZCNT, which the interpreter runs as
    /// BSF/BSR: no BMI in CPUID).
    BitScan {
        reverse: bool,
    },
    /// SHLD/SHRD r/m16|32, r16|32, imm8|CL, flags computed where live.
    Double {
        left: bool,
    },
    /// DIV/IDIV r/m32. The flags stay as they are; a division that would
    /// raise #DE (or IDIV by -1) leaves for the interpreter.
    Div {
        signed: bool,
    },
    /// ROL/ROR r/m32, imm8 (a non-zero masked count); CF and OF computed
    /// where live.
    Rotate {
        left: bool,
    },
    /// BSWAP r32.
    Bswap,
    /// An SSE integer, move or shuffle instruction on XMM registers
    /// (`sse.rs`).
    Sse(super::sse::Form),
    /// An x87 instruction: a call to `wax.fpu` with the form `op`
    /// (`crate::x87`), no GPR spill.
    X87 {
        op: u32,
    },
}

fn is_gpr(r: Register) -> bool {
    r.is_gpr32() || r.is_gpr16() || r.is_gpr8()
}

/// Register operands are general registers, memory operands use 32-bit
/// addressing.
fn simple_operands(insn: &Instruction) -> bool {
    (0..insn.op_count()).all(|i| match insn.op_kind(i) {
        OpKind::Register => is_gpr(insn.op_register(i)),
        OpKind::Memory => {
            insn.memory_displ_size() != 2
                && !insn.memory_base().is_gpr16()
                && !insn.memory_index().is_gpr16()
        }
        OpKind::Immediate8
        | OpKind::Immediate16
        | OpKind::Immediate32
        | OpKind::Immediate8to16
        | OpKind::Immediate8to32 => true,
        OpKind::NearBranch32 => true,
        _ => false,
    })
}

fn size0(insn: &Instruction) -> u32 {
    wax_cpu::interp::table::op_size(insn, 0)
}

fn alu_op(m: Mnemonic) -> Option<AluOp> {
    Some(match m {
        Mnemonic::Add => AluOp::Add,
        Mnemonic::Or => AluOp::Or,
        Mnemonic::Adc => AluOp::Adc,
        Mnemonic::Sbb => AluOp::Sbb,
        Mnemonic::And => AluOp::And,
        Mnemonic::Sub => AluOp::Sub,
        Mnemonic::Xor => AluOp::Xor,
        Mnemonic::Cmp => AluOp::Cmp,
        Mnemonic::Test => AluOp::Test,
        _ => return None,
    })
}

fn same_regs(insn: &Instruction) -> bool {
    insn.op_count() == 2
        && insn.op0_kind() == OpKind::Register
        && insn.op1_kind() == OpKind::Register
        && insn.op0_register() == insn.op1_register()
}

/// The translation plan for one decoded instruction.
pub fn plan(insn: &Instruction) -> Plan {
    use Mnemonic::*;
    if insn.is_invalid() {
        return Plan::Step;
    }
    if let Some(p) = super::sse::plan(insn) {
        return p;
    }
    if let Some(op) = crate::x87::op(insn) {
        return Plan::X87 { op };
    }
    if !simple_operands(insn) {
        return Plan::Step;
    }
    if insn.has_lock_prefix() {
        // One guest thread runs at a time, so a locked read-modify-write
        // is an ordinary one; the forms LOCK is invalid on (#UD) and
        // the rest go to the interpreter.
        let lockable = insn.op0_kind() == OpKind::Memory
            && matches!(
                insn.mnemonic(),
                Add | Adc | And | Dec | Inc | Neg | Not | Or | Sbb | Sub | Xor | Xchg
            );
        if !lockable {
            return Plan::Step;
        }
    }
    let rep = insn.has_rep_prefix() || insn.has_repne_prefix();
    let m = insn.mnemonic();
    if rep && !matches!(m, Ret | Tzcnt | Lzcnt) {
        return Plan::Step;
    }
    let s = size0(insn);
    match m {
        Xor | Sub if same_regs(insn) => Plan::ClearReg,
        _ if alu_op(m).is_some() => Plan::Alu(alu_op(m).unwrap()),
        Mov => Plan::Mov,
        Lea => Plan::Lea,
        Inc | Dec => Plan::IncDec,
        Neg => Plan::Neg,
        Not => Plan::Not,
        Push if s == 32 => Plan::Push,
        Pop if insn.code() == Code::Pop_r32 => Plan::Pop,
        Leave if insn.code() == Code::Leaved => Plan::Leave,
        Movzx | Movsx => Plan::Movx,
        Seta | Setae | Setb | Setbe | Sete | Setg | Setge | Setl | Setle | Setne | Setno
        | Setnp | Setns | Seto | Setp | Sets => Plan::Setcc,
        Cmova | Cmovae | Cmovb | Cmovbe | Cmove | Cmovg | Cmovge | Cmovl | Cmovle | Cmovne
        | Cmovno | Cmovnp | Cmovns | Cmovo | Cmovp | Cmovs => Plan::Cmov,
        Xchg if insn.code() != Code::Nopd && insn.code() != Code::Nopw => Plan::Xchg,
        Cdq => Plan::Cdq,
        Cwde => Plan::Cwde,
        Nop if insn.code() == Code::Nopd || insn.code() == Code::Nopw => Plan::Nop,
        // Hints and fences: the interpreter's no-ops (never a fault).
        Prefetcht0 | Prefetcht1 | Prefetcht2 | Prefetchnta | Lfence | Mfence | Sfence => Plan::Nop,
        Jmp if insn.op0_kind() == OpKind::NearBranch32 => Plan::JmpRel,
        Ja | Jae | Jb | Jbe | Je | Jg | Jge | Jl | Jle | Jne | Jno | Jnp | Jns | Jo | Jp | Js
            if insn.op0_kind() == OpKind::NearBranch32 =>
        {
            Plan::Jcc
        }
        Call if insn.op0_kind() == OpKind::NearBranch32 => Plan::CallRel,
        Ret if insn.code() == Code::Retnd || insn.code() == Code::Retnd_imm16 => Plan::Ret,
        Jmp if insn.code() == Code::Jmp_rm32 => Plan::JmpInd,
        Call if insn.code() == Code::Call_rm32 => Plan::CallInd,
        Int if insn.immediate8() == 0x80 => Plan::Syscall,
        Shl | Sal | Shr | Sar if shift_count(insn).is_some() => Plan::Shift(shift_op(m)),
        Shl | Sal | Shr | Sar
            if insn.op1_kind() == OpKind::Register && insn.op1_register() == Register::CL =>
        {
            Plan::ShiftCl(shift_op(m), s)
        }
        Imul if insn.op_count() >= 2 => Plan::Imul,
        Mul | Imul if insn.op_count() == 1 && s == 32 => Plan::MulAcc { signed: m == Imul },
        Div | Idiv if s == 32 => Plan::Div { signed: m == Idiv },
        Bt | Bts | Btr | Btc
            if s == 32
                && insn.op0_kind() == OpKind::Register
                && matches!(insn.op1_kind(), OpKind::Register | OpKind::Immediate8) =>
        {
            Plan::Bt {
                op: match m {
                    Bt => 0,
                    Bts => 1,
                    Btr => 2,
                    _ => 3,
                },
            }
        }
        Bsf | Bsr | Tzcnt | Lzcnt if s == 32 => Plan::BitScan {
            reverse: matches!(m, Bsr | Lzcnt),
        },
        Shld | Shrd
            if (s == 16 || s == 32)
                && (insn.op2_kind() == OpKind::Immediate8
                    || (insn.op2_kind() == OpKind::Register
                        && insn.op2_register() == Register::CL)) =>
        {
            Plan::Double { left: m == Shld }
        }
        Bswap if s == 32 => Plan::Bswap,
        Rol | Ror if s == 32 && shift_count(insn).is_some() => Plan::Rotate { left: m == Rol },
        _ => Plan::Step,
    }
}

fn shift_op(m: Mnemonic) -> ShiftOp {
    match m {
        Mnemonic::Shr => ShiftOp::Shr,
        Mnemonic::Sar => ShiftOp::Sar,
        _ => ShiftOp::Shl,
    }
}

/// The masked count of a shift by a non-zero immediate.
pub fn shift_count(insn: &Instruction) -> Option<u32> {
    let c = match insn.op1_kind() {
        OpKind::Immediate8 => u32::from(insn.immediate8()) & 31,
        _ => return None,
    };
    (c != 0).then_some(c)
}

fn has_mem(insn: &Instruction) -> bool {
    (0..insn.op_count()).any(|i| insn.op_kind(i) == OpKind::Memory)
}

impl Plan {
    /// Whether this plan is carried out by the interpreter, given whether
    /// the flags are live after the instruction.
    pub fn steps(self, flags_live_after: bool) -> bool {
        match self {
            Plan::Step | Plan::StepStraddling => true,
            Plan::ShiftCl(_, size) => flags_live_after && size != 32,
            _ => false,
        }
    }

    /// (reads flags, defines all status flags) for liveness. Anything that
    /// may leave translated code before its end reads the flags: the
    /// interpreter or the kernel will see them.
    pub fn flag_effect(self, insn: &Instruction, live_after: bool) -> (bool, bool) {
        if self.steps(live_after) {
            return (true, false);
        }
        let mem = has_mem(insn);
        match self {
            Plan::Alu(AluOp::Adc | AluOp::Sbb) => (true, true),
            Plan::Alu(_)
            | Plan::ClearReg
            | Plan::Neg
            | Plan::Shift(_)
            | Plan::Imul
            | Plan::MulAcc { .. } => (mem, true),
            Plan::BitScan { .. } => (mem, true),
            // A count of 0 keeps the flags; BT* change only CF.
            Plan::ShiftCl(..) | Plan::Double { .. } | Plan::Bt { .. } | Plan::Rotate { .. } => {
                (mem, false)
            }
            // May leave before it runs (#DE): the interpreter sees them.
            Plan::Div { .. } => (true, false),
            // May leave (#MF, a fault); FCOMI and FUCOMI(P) define them.
            Plan::X87 { op } => (
                true,
                crate::x87::lookup(op).is_some_and(|(f, _)| f.writes_flags),
            ),
            // INC/DEC keep CF: they pass the old flags through.
            Plan::IncDec | Plan::Jcc | Plan::Setcc | Plan::Cmov | Plan::Syscall => (true, false),
            Plan::Push | Plan::Pop | Plan::Leave | Plan::CallRel | Plan::Ret | Plan::CallInd => {
                (true, false)
            }
            // Never touches memory, whatever its operand says.
            Plan::Nop => (false, false),
            _ => (mem, false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use iced_x86::{Decoder, DecoderOptions};

    fn plan_of(bytes: &[u8]) -> (Plan, Instruction) {
        let i = Decoder::with_ip(32, bytes, 0x1000, DecoderOptions::NONE).decode();
        (plan(&i), i)
    }

    #[test]
    fn rows() {
        assert_eq!(plan_of(&[0x01, 0xd8]).0, Plan::Alu(AluOp::Add));
        assert_eq!(plan_of(&[0x31, 0xc0]).0, Plan::ClearReg);
        assert_eq!(plan_of(&[0xc1, 0xe0, 0x00]).0, Plan::Step, "count 0");
        assert_eq!(plan_of(&[0xc1, 0xe0, 0x21]).0, Plan::Shift(ShiftOp::Shl));
        assert_eq!(plan_of(&[0xd3, 0xe0]).0, Plan::ShiftCl(ShiftOp::Shl, 32));
        assert_eq!(plan_of(&[0xd3, 0xc0]).0, Plan::Step, "rol by CL");
        assert_eq!(plan_of(&[0xc1, 0xc8, 0x06]).0, Plan::Rotate { left: false });
        assert_eq!(
            plan_of(&[0xd1, 0x06]).0,
            Plan::Rotate { left: true },
            "rol m32, 1"
        );
        assert_eq!(plan_of(&[0xc1, 0xc0, 0x20]).0, Plan::Step, "count 0");
        assert_eq!(plan_of(&[0x66, 0xc1, 0xc0, 0x03]).0, Plan::Step, "rol r16");
        assert_eq!(plan_of(&[0x0f, 0xc9]).0, Plan::Bswap);
        let (p, i) = plan_of(&[0x0f, 0x18, 0x0e]); // prefetcht0 [esi]
        assert_eq!(p, Plan::Nop);
        assert_eq!(p.flag_effect(&i, true), (false, false));
        assert_eq!(plan_of(&[0x0f, 0xae, 0xf0]).0, Plan::Nop, "mfence");
        assert_eq!(plan_of(&[0x0f, 0xae, 0x3e]).0, Plan::Step, "clflush");
        let (p, i) = plan_of(&[0xc1, 0xc8, 0x06]);
        assert!(!p.steps(true) && !p.steps(false));
        assert_eq!(p.flag_effect(&i, true), (false, false), "keeps SF ZF AF PF");
        assert_eq!(plan_of(&[0xf0, 0x01, 0x06]).0, Plan::Alu(AluOp::Add));
        assert_eq!(plan_of(&[0xf0, 0x01, 0xc0]).0, Plan::Step, "LOCK, reg dst");
        assert_eq!(
            plan_of(&[0xf0, 0x0f, 0xc1, 0x06]).0,
            Plan::Step,
            "LOCK XADD"
        );
        assert_eq!(plan_of(&[0xf7, 0xe3]).0, Plan::MulAcc { signed: false });
        assert_eq!(plan_of(&[0xf7, 0x2e]).0, Plan::MulAcc { signed: true });
        assert_eq!(plan_of(&[0xf6, 0xe3]).0, Plan::Step, "mul r/m8");
        assert_eq!(plan_of(&[0xf7, 0x36]).0, Plan::Div { signed: false });
        assert_eq!(plan_of(&[0xf7, 0xfb]).0, Plan::Div { signed: true });
        assert_eq!(plan_of(&[0x66, 0xf7, 0xf3]).0, Plan::Step, "div r/m16");
        assert_eq!(plan_of(&[0xff, 0x36]).0, Plan::Push, "push m32");
        assert_eq!(plan_of(&[0x0f, 0xa3, 0xc8]).0, Plan::Bt { op: 0 });
        assert_eq!(plan_of(&[0x0f, 0xba, 0xe8, 0x05]).0, Plan::Bt { op: 1 });
        assert_eq!(plan_of(&[0x0f, 0xa3, 0x06]).0, Plan::Step, "bt m32, r");
        assert_eq!(
            plan_of(&[0xf3, 0x0f, 0xbc, 0xc3]).0,
            Plan::BitScan { reverse: false }
        );
        assert_eq!(
            plan_of(&[0x0f, 0xbd, 0x06]).0,
            Plan::BitScan { reverse: true }
        );
        assert_eq!(plan_of(&[0x0f, 0xa5, 0xd0]).0, Plan::Double { left: true });
        assert_eq!(
            plan_of(&[0x0f, 0xac, 0x06, 0x03]).0,
            Plan::Double { left: false }
        );
        assert_eq!(
            plan_of(&[0x66, 0x0f, 0xa5, 0xd0]).0,
            Plan::Double { left: true },
            "shld r/m16"
        );
        let (p, i) = plan_of(&[0x0f, 0xa5, 0xd0]); // shld eax, edx, cl
        assert!(!p.steps(true), "flags computed inline");
        assert_eq!(
            p.flag_effect(&i, true),
            (false, false),
            "count 0 keeps them"
        );
        assert_eq!(plan_of(&[0x67, 0x8b, 0x07]).0, Plan::Step, "16-bit address");
        assert_eq!(plan_of(&[0x66, 0x50]).0, Plan::Step, "16-bit push");
        assert_eq!(plan_of(&[0xf3, 0xc3]).0, Plan::Ret, "rep ret");
        assert_eq!(plan_of(&[0xcd, 0x80]).0, Plan::Syscall);
        assert_eq!(plan_of(&[0xcd, 0x81]).0, Plan::Step);
        assert_eq!(plan_of(&[0x0f, 0xa2]).0, Plan::Step, "cpuid");
        let x87 = |b: &[u8]| matches!(plan_of(b).0, Plan::X87 { .. });
        assert!(x87(&[0xdd, 0x44, 0xf3, 0x08]), "fld m64 [ebx+esi*8+8]");
        assert!(x87(&[0xde, 0xc9]), "fmulp");
        assert!(x87(&[0xdf, 0xe0]), "fnstsw ax");
        assert!(x87(&[0x65, 0xd9, 0x00]), "fld m32 gs:[eax]");
        assert_eq!(plan_of(&[0x67, 0xdd, 0x07]).0, Plan::Step, "16-bit address");
        assert_eq!(plan_of(&[0x66, 0xd9, 0x30]).0, Plan::Step, "fnstenv m14");
        assert_eq!(plan_of(&[0x9b]).0, Plan::Step, "fwait");
    }

    #[test]
    fn sse_rows() {
        use super::super::sse::Form;
        let sse = |b: &[u8]| plan_of(b).0;
        // 66 is the SSE2 form, not a 16-bit one.
        assert_eq!(sse(&[0x66, 0x0f, 0x6f, 0x06]), Plan::Sse(Form::Move));
        assert_eq!(sse(&[0x66, 0x0f, 0xef, 0xc1]), Plan::Sse(Form::Binary));
        assert_eq!(sse(&[0x66, 0x0f, 0xd7, 0xc1]), Plan::Sse(Form::SignMask));
        assert_eq!(
            sse(&[0x66, 0x0f, 0x7e, 0xc3]),
            Plan::Sse(Form::MoveLow { bytes: 4 }),
            "movd ebx, xmm0"
        );
        assert_eq!(
            sse(&[0x66, 0x0f, 0x38, 0x00, 0x06]),
            Plan::Sse(Form::Pshufb)
        );
        // MMX: the lane-wise forms, not those whose lanes cross 64 bits.
        assert_eq!(
            sse(&[0x0f, 0xef, 0xc1]),
            Plan::Sse(Form::Binary),
            "pxor mm0, mm1"
        );
        assert_eq!(
            sse(&[0x0f, 0xd7, 0xc1]),
            Plan::Sse(Form::SignMask),
            "pmovmskb eax, mm1"
        );
        assert_eq!(
            sse(&[0x0f, 0x6f, 0x06]),
            Plan::Sse(Form::MoveLow { bytes: 8 }),
            "movq mm0, [esi]"
        );
        assert_eq!(sse(&[0x0f, 0x63, 0xc1]), Plan::Step, "packsswb mm0, mm1");
        assert_eq!(sse(&[0x0f, 0x60, 0xc1]), Plan::Step, "punpcklbw mm0, mm1");
        assert_eq!(
            sse(&[0x0f, 0x38, 0x01, 0xc1]),
            Plan::Step,
            "phaddw mm0, mm1"
        );
        assert_eq!(sse(&[0x0f, 0x77]), Plan::Step, "emms");
        assert_eq!(sse(&[0xf0, 0x66, 0x0f, 0xef, 0x06]), Plan::Step, "LOCK");
        assert_eq!(
            sse(&[0x66, 0x0f, 0xf6, 0xc1]),
            Plan::Sse(Form::Composite),
            "psadbw"
        );
        assert_eq!(sse(&[0x0f, 0x58, 0xc1]), Plan::Step, "addps");
        let (p, i) = plan_of(&[0x66, 0x0f, 0x6f, 0x06]);
        assert_eq!(p.flag_effect(&i, false), (true, false), "may fault");
        let (p, i) = plan_of(&[0x66, 0x0f, 0xef, 0xc1]);
        assert_eq!(p.flag_effect(&i, false), (false, false));
    }

    #[test]
    fn flag_effects() {
        let (p, i) = plan_of(&[0x01, 0x06]); // add [esi], eax: may fault
        assert_eq!(p.flag_effect(&i, false), (true, true));
        let (p, i) = plan_of(&[0x01, 0xd8]);
        assert_eq!(p.flag_effect(&i, false), (false, true));
        let (p, i) = plan_of(&[0x40]); // inc keeps CF: reads
        assert_eq!(p.flag_effect(&i, true), (true, false));
        let (p, i) = plan_of(&[0x0f, 0xaf, 0xc3]); // imul: flags computed
        assert!(!p.steps(true) && !p.steps(false));
        assert_eq!(p.flag_effect(&i, true), (false, true));
        let (p, i) = plan_of(&[0x66, 0xd3, 0xe0]); // shl ax, cl: stepped when live
        assert!(p.steps(true) && !p.steps(false));
        assert_eq!(p.flag_effect(&i, false), (false, false));
        // x87: may leave (#MF, faults); FUCOMIP defines all six.
        let (p, i) = plan_of(&[0xdf, 0xe9]);
        assert_eq!(p.flag_effect(&i, true), (true, true));
        let (p, i) = plan_of(&[0xdd, 0x1f]); // fstp m64
        assert_eq!(p.flag_effect(&i, true), (true, false));
        let (p, i) = plan_of(&[0xd3, 0xe0]); // shl eax, cl: count 0 keeps them
        assert!(!p.steps(true));
        assert_eq!(p.flag_effect(&i, true), (false, false));
    }
}
