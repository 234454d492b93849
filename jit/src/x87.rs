//! x87 instructions as pre-decoded forms, for the `wax.fpu` import.
//!
//! Translated code runs an x87 instruction by calling `wax.fpu(op, ea)`:
//! `op` names one of the canonical forms below (plus the guest
//! instruction's length), `ea` is the linear address of its memory operand,
//! which translated code computes from its register locals. The host runs
//! the interpreter's own handler on the form with `ea` as its displacement,
//! so the result is the interpreter's bit for bit, and the call needs no
//! decoding, no decode-cache lookup and no GPR spill: x87 handlers touch
//! the FPU state, memory through the guest page table, and only the few
//! registers [`Form`] lists.
//!
//! A form is the decoding of a canonical encoding: one escape byte D8-DF
//! and a ModRM byte, with memory operands encoded as a bare disp32. (The
//! decoder gives FWAIT as an instruction of its own, also before FSTSW
//! and the like, so it is not part of any form; it is stepped.) A guest instruction maps to the form of the same `Code`
//! and ST registers, or to none (prefixes that change the form, such as
//! 0x66 on FNSTENV, give a `Code` no canonical encoding has).

use iced_x86::{
    Code, Decoder, DecoderOptions, Instruction, InstructionInfoFactory, OpAccess, OpKind, Register,
    RflagsBits,
};
use std::collections::HashMap;
use std::sync::OnceLock;
use wax_cpu::interp::{table, Handler};

/// Bits of `op` that select the form; the guest instruction's length is
/// above them.
pub const KEY_BITS: u32 = 11;

/// A canonical x87 instruction and what it needs besides the FPU state.
#[derive(Clone, Copy)]
pub struct Form {
    pub insn: Instruction,
    pub handler: Handler,
    /// Has a memory operand (its address is `ea`).
    pub mem: bool,
    /// Writes AX (FNSTSW AX): EAX must be in CpuState before, reloaded after.
    pub writes_ax: bool,
    /// Reads EFLAGS (FCMOVcc): the lazy-flag record must be in CpuState.
    pub reads_flags: bool,
    /// Writes EFLAGS (FCOMI, FUCOMI): the handler leaves them in
    /// `CpuState::eflags` with the lazy record's op None.
    pub writes_flags: bool,
}

struct Table {
    forms: Vec<Form>,
    by_shape: HashMap<Shape, u16>,
}

/// What selects a handler and its behaviour, besides the address.
type Shape = (Code, Register, Register);

fn shape(insn: &Instruction) -> Shape {
    let reg = |i| match insn.op_count() > i && insn.op_kind(i) == OpKind::Register {
        true => insn.op_register(i),
        false => Register::None,
    };
    (insn.code(), reg(0), reg(1))
}

/// The canonical bytes of key `k` (escape byte and ModRM), if its ModRM
/// byte is canonical.
fn encoding(k: u32) -> Option<Vec<u8>> {
    let (esc, modrm) = ((k >> 8) & 7, (k & 0xff) as u8);
    let reg_form = modrm >= 0xc0;
    if !reg_form && modrm & 0xc7 != 0x05 {
        return None;
    }
    let mut b = vec![0xd8 + esc as u8, modrm];
    if !reg_form {
        b.extend_from_slice(&[0; 4]);
    }
    Some(b)
}

/// The form of canonical bytes, unless it touches registers beyond the
/// FPU's, AX and EFLAGS (none does; checked rather than assumed).
fn form(bytes: &[u8], info: &mut InstructionInfoFactory) -> Option<Form> {
    let insn = Decoder::with_ip(32, bytes, 0, DecoderOptions::NONE).decode();
    if insn.is_invalid() || insn.len() != bytes.len() {
        return None;
    }
    let mut writes_ax = false;
    for u in info.info(&insn).used_registers() {
        let r = u.register();
        if r.is_st() || r == Register::DS {
            continue;
        }
        let write = !matches!(u.access(), OpAccess::Read | OpAccess::CondRead);
        if r == Register::AX && write {
            writes_ax = true;
            continue;
        }
        return None;
    }
    Some(Form {
        insn,
        handler: table::handler(&insn),
        mem: insn.op_count() > 0 && (0..insn.op_count()).any(|i| insn.op_kind(i) == OpKind::Memory),
        writes_ax,
        reads_flags: insn.rflags_read() & EFLAGS != 0,
        writes_flags: insn.rflags_modified() & EFLAGS != 0,
    })
}

/// iced's flag bits that are EFLAGS (its others are the FPU's C0-C3).
const EFLAGS: u32 = !(RflagsBits::C0 | RflagsBits::C1 | RflagsBits::C2 | RflagsBits::C3);

fn build() -> Table {
    let mut t = Table {
        forms: Vec::new(),
        by_shape: HashMap::new(),
    };
    let mut info = InstructionInfoFactory::new();
    for k in 0..1u32 << KEY_BITS {
        let Some(f) = encoding(k).and_then(|b| form(&b, &mut info)) else {
            continue;
        };
        let s = shape(&f.insn);
        if t.by_shape.contains_key(&s) {
            continue;
        }
        t.by_shape.insert(s, t.forms.len() as u16);
        t.forms.push(f);
    }
    t
}

fn forms() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(build)
}

/// The `op` argument of `wax.fpu` for `insn`, if it has a form: 32-bit
/// addressing and no prefix that changes its meaning.
pub fn op(insn: &Instruction) -> Option<u32> {
    if insn.has_lock_prefix() || insn.has_rep_prefix() || insn.has_repne_prefix() {
        return None;
    }
    let mem = (0..insn.op_count()).any(|i| insn.op_kind(i) == OpKind::Memory);
    if mem
        && (insn.memory_displ_size() == 2
            || insn.memory_base().is_gpr16()
            || insn.memory_index().is_gpr16())
    {
        return None;
    }
    let &k = forms().by_shape.get(&shape(insn))?;
    Some(u32::from(k) | (insn.len() as u32) << KEY_BITS)
}

/// The form `op` names, and the guest instruction's length.
pub fn lookup(op: u32) -> Option<(&'static Form, u32)> {
    let f = forms().forms.get((op & ((1 << KEY_BITS) - 1)) as usize)?;
    Some((f, op >> KEY_BITS))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op_of(bytes: &[u8]) -> Option<(&'static Form, u32)> {
        let i = Decoder::with_ip(32, bytes, 0x1000, DecoderOptions::NONE).decode();
        op(&i).and_then(lookup)
    }

    #[test]
    fn forms_match_the_guest_instruction() {
        // fld qword [ebx+esi*8+0x10]: the form's memory operand is a bare
        // displacement, of the same size.
        let (f, len) = op_of(&[0xdd, 0x44, 0xf3, 0x10]).unwrap();
        assert_eq!(f.insn.code(), Code::Fld_m64fp);
        assert_eq!((f.mem, len), (true, 4));
        assert_eq!(f.insn.memory_base(), Register::None);
        // fadd st(0), st(3)
        let (f, len) = op_of(&[0xd8, 0xc3]).unwrap();
        assert_eq!(
            (f.insn.op1_register(), f.mem, len),
            (Register::ST3, false, 2)
        );
        // fs: fstp dword [eax]
        let (f, len) = op_of(&[0x64, 0xd9, 0x18]).unwrap();
        assert_eq!((f.insn.code(), len), (Code::Fstp_m32fp, 3));
    }

    #[test]
    fn register_effects() {
        let (f, _) = op_of(&[0xdf, 0xe0]).unwrap(); // fnstsw ax
        assert!(f.writes_ax && !f.reads_flags && !f.writes_flags);
        let (f, _) = op_of(&[0xdf, 0xe9]).unwrap(); // fucomip st, st(1)
        assert!(f.writes_flags && !f.writes_ax);
        let (f, _) = op_of(&[0xda, 0xc1]).unwrap(); // fcmovb st, st(1)
        assert!(f.reads_flags && !f.writes_flags);
        let (f, _) = op_of(&[0xde, 0xc9]).unwrap(); // fmulp
        assert!(!f.writes_ax && !f.reads_flags && !f.writes_flags);
    }

    #[test]
    fn forms_left_to_the_interpreter() {
        assert!(op_of(&[0x66, 0xd9, 0x30]).is_none(), "fnstenv m14");
        assert!(op_of(&[0x67, 0xdd, 0x07]).is_none(), "16-bit address");
        assert!(op_of(&[0x9b]).is_none(), "fwait");
        assert!(op_of(&[0x0f, 0xae, 0x00]).is_none(), "fxsave");
        assert!(op_of(&[0x01, 0xd8]).is_none(), "add");
    }
}
