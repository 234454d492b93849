//! One row per instruction form, and how a case is built from a row.
//!
//! A row names the form by its iced `Code` (checked against the decoder
//! for every generated case), gives the prefix and opcode bytes, what
//! follows them (`Tail`), and which operand values need steering
//! (`Setup`). Rows whose instruction reads the flags may get a random
//! flag-setting instruction in front, so lazily computed flags are
//! consumed as well as flags loaded straight from EFLAGS.

use super::case::*;
use super::gen::*;
use crate::harness::Rng;
use iced_x86::Code;
use std::collections::HashMap;
use std::sync::OnceLock;

/// What follows the opcode bytes.
#[derive(Clone, Copy, Debug)]
pub enum Tail {
    None,
    /// ModRM with a /digit (or a random register in the reg field), an r/m
    /// operand and an immediate.
    ModRm(Option<u8>, RmKind, Imm),
    /// A register number added to the last opcode byte (never 0 when the
    /// `bool` is set: `90` is NOP, not XCHG EAX,EAX).
    PlusReg(Imm, bool),
    Imm(Imm),
    /// A memory offset (MOV AL/AX/EAX <-> moffs).
    Moffs,
}

/// Immediate operands.
#[derive(Clone, Copy, Debug)]
pub enum Imm {
    No,
    /// An operand value of this many bytes.
    V(u32),
    /// A shift count byte.
    Count,
    /// ENTER's imm16 frame size and imm8 nesting level.
    Enter,
    /// AAM/AAD's base (mostly 10).
    Base,
    /// INT n's vector (never 0x80: that is a real system call).
    Vector,
}

/// Operand values a form needs steered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Setup {
    Plain,
    /// A shift count in CL.
    CountCl,
    /// DIV/IDIV: a dividend that mostly fits, sometimes overflows.
    Div {
        signed: bool,
    },
    /// CMPXCHG: the accumulator often equals the destination.
    Cmpxchg,
    /// CMPXCHG8B: EDX:EAX often equals the memory operand.
    Cmpxchg8b,
    /// BT* r/m, r: a bit offset that reaches memory near the data area.
    BitOffset,
    /// String instructions (see `strings.rs`).
    Str,
    /// EBP points into the stack (ENTER, LEAVE).
    Frame,
    /// The value POPF pops has no TF/AC/NT (they would trap or change
    /// alignment checking on the host).
    Popf,
    /// XLAT: EBX (BX) points into the data area.
    Xlat,
}

#[derive(Clone, Debug)]
pub struct Row {
    pub form: Code,
    pub variant: &'static str,
    pub bytes: Vec<u8>,
    pub tail: Tail,
    pub setup: Setup,
    /// The instruction reads status flags.
    pub reads_flags: bool,
}

/// Looks a `Code` up by its name (`Add_rm8_r8`).
pub fn code(name: &str) -> Code {
    static BY_NAME: OnceLock<HashMap<String, Code>> = OnceLock::new();
    let map = BY_NAME.get_or_init(|| Code::values().map(|c| (format!("{c:?}"), c)).collect());
    *map.get(name)
        .unwrap_or_else(|| panic!("no iced Code named {name}"))
}

/// A plain row.
pub fn row(name: &str, bytes: &[u8], tail: Tail) -> Row {
    Row {
        form: code(name),
        variant: "",
        bytes: bytes.to_vec(),
        tail,
        setup: Setup::Plain,
        reads_flags: false,
    }
}

impl Row {
    pub fn setup(mut self, s: Setup) -> Row {
        self.setup = s;
        self
    }
    pub fn flags(mut self) -> Row {
        self.reads_flags = true;
        self
    }
    /// The same form with extra leading prefix bytes.
    pub fn prefixed(&self, prefix: &[u8], variant: &'static str) -> Row {
        let mut r = self.clone();
        r.bytes = [prefix, &self.bytes].concat();
        r.variant = variant;
        r
    }
    /// The form with LOCK and a memory destination.
    pub fn locked(&self) -> Row {
        let mut r = self.prefixed(&[0xf0], "lock");
        if let Tail::ModRm(d, _, i) = r.tail {
            r.tail = Tail::ModRm(d, RmKind::MemOnly, i);
        }
        r
    }
    /// Whether the row can run in a chain of register-only instructions.
    pub fn chainable(&self) -> bool {
        let faults = matches!(
            self.form,
            Code::INVALID | Code::Ud2 | Code::Int3 | Code::Int_imm8 | Code::Hlt
        );
        matches!(self.setup, Setup::Plain | Setup::CountCl)
            && !faults
            && self.variant.is_empty()
            && !matches!(self.tail, Tail::Moffs | Tail::ModRm(_, RmKind::MemOnly, _))
            && !self.bytes.contains(&0x67)
    }
}

/// Bytes of memory the form's r/m operand accesses, from the iced name.
pub fn mem_bytes(form: Code) -> u32 {
    let name = format!("{form:?}");
    let parts: Vec<&str> = name.split('_').collect();
    for p in parts.iter().skip(1) {
        match *p {
            "rm8" | "m8" => return 1,
            "rm16" | "m16" => return 2,
            "rm32" | "m32" => return 4,
            "m64" => return 8,
            _ => {}
        }
    }
    4
}

/// Operand size in bits of the form (from the first sized operand).
pub fn op_bits(form: Code) -> u32 {
    let name = format!("{form:?}");
    for p in name.split('_').skip(1) {
        match p {
            "rm8" | "r8" | "m8" | "AL" => return 8,
            "rm16" | "r16" | "m16" | "AX" => return 16,
            "rm32" | "r32" | "m32" | "EAX" => return 32,
            _ => {}
        }
    }
    32
}

/// Generates one case of a row.
pub fn build(row: &Row, rng: &mut Rng) -> Case {
    let mut g = Gen::new(rng);
    emit_row(&mut g, row, false);
    if row.reads_flags && g.rng.bool() {
        let main = std::mem::take(&mut g.code);
        flag_producer(&mut g);
        g.mark_main();
        g.emit(&main);
    }
    g.finish(row.form, row.variant)
}

/// Emits one instruction of `row` into `g` (register operands only when
/// `reg_only`), steering operands as its setup asks.
pub fn emit_row(g: &mut Gen<'_>, row: &Row, reg_only: bool) {
    g.addr16 = leading_prefixes(&row.bytes).contains(&0x67);
    pre_setup(g, row);
    if row.setup == Setup::Str {
        super::strings::setup(g, row);
    }
    g.mark_main();
    match row.tail {
        Tail::None => g.emit(&row.bytes),
        Tail::ModRm(digit, kind, imm) => {
            g.emit(&row.bytes);
            let kind = if reg_only { RmKind::RegOnly } else { kind };
            let reg = match digit {
                Some(d) => d,
                // The bit offset register must be free to steer.
                None if row.setup == Setup::BitOffset => *g.rng.pick(&[0, 1, 2, 3, 5, 6, 7]),
                None => g.rng.below(8) as u8,
            };
            let rm = if row.setup == Setup::BitOffset {
                bit_operand(g, row, reg, kind)
            } else {
                g.modrm(reg, kind, mem_bytes(row.form))
            };
            post_setup(g, row, rm);
            emit_imm(g, imm);
        }
        Tail::PlusReg(imm, nonzero) => {
            let r = if nonzero {
                g.rng.range(1, 7)
            } else {
                g.rng.below(8)
            } as u8;
            let (last, head) = row.bytes.split_last().expect("opcode");
            g.emit(head);
            g.emit(&[last + r]);
            emit_imm(g, imm);
        }
        Tail::Imm(imm) => {
            g.emit(&row.bytes);
            emit_imm(g, imm);
        }
        Tail::Moffs => {
            g.emit(&row.bytes);
            let t = g.target(mem_bytes(row.form).min(op_bits(row.form) / 8));
            let n = if g.addr16 { 2 } else { 4 };
            g.imm(n, t);
        }
    }
    g.addr16 = false;
}

fn leading_prefixes(bytes: &[u8]) -> &[u8] {
    let n = bytes
        .iter()
        .take_while(|b| matches!(b, 0x66 | 0x67 | 0xf0 | 0xf2 | 0xf3))
        .count();
    &bytes[..n]
}

fn emit_imm(g: &mut Gen<'_>, imm: Imm) {
    match imm {
        Imm::No => {}
        Imm::V(n) => {
            let v = g.rng.value();
            g.imm(n, v);
        }
        Imm::Count => {
            let c = g.rng.count();
            g.imm(1, c);
        }
        Imm::Enter => {
            let size = if g.rng.one_in(8) {
                g.rng.u32()
            } else {
                g.rng.below(80)
            };
            let level = if g.rng.one_in(8) {
                g.rng.u32()
            } else {
                g.rng.below(5)
            };
            g.imm(2, size);
            g.imm(1, level);
        }
        Imm::Base => {
            let b = if g.rng.bool() { 10 } else { g.rng.below(256) };
            g.imm(1, b);
        }
        Imm::Vector => {
            let v = *g
                .rng
                .pick(&[3, 4, 5, 0, 1, 6, 13, 14, 0x20, 0x81, 0xff, 0x7f]);
            g.imm(1, v);
        }
    }
}

fn pre_setup(g: &mut Gen<'_>, row: &Row) {
    match row.setup {
        Setup::CountCl => {
            let c = g.rng.count();
            let v = g.regs[ECX as usize] & !0xff | c;
            g.fix(ECX, v);
        }
        Setup::Div { .. } | Setup::Cmpxchg8b => {
            g.reserve(EAX);
            g.reserve(EDX);
        }
        Setup::Cmpxchg => g.reserve(EAX),
        Setup::Frame => {
            let esp = g.regs[ESP as usize];
            let ebp = esp.wrapping_add(g.rng.below(32) * 4).wrapping_sub(16);
            let ebp = if g.rng.one_in(10) {
                away_from_runner(g.rng.value())
            } else {
                ebp
            };
            g.fix(EBP, ebp);
            g.cover(ebp.wrapping_sub(160), ebp.wrapping_add(16));
        }
        Setup::Popf => {
            let esp = g.regs[ESP as usize];
            let v = g.rng.u32() & !(1 << 8 | 1 << 14 | 1 << 18);
            g.poke(esp, 4, v);
        }
        Setup::Xlat => {
            let t = DATA + g.rng.below(DATA_LEN - 0x100);
            let v = g.rng.u32() & 0xffff_0000 | t;
            g.fix(EBX, v);
            g.cover(t, t + 0x100);
        }
        Setup::Plain | Setup::BitOffset | Setup::Str => {}
    }
}

/// Moves a random frame pointer out of the address ranges the host runner
/// itself occupies (`in_runner`). The case stays a fault test: the new
/// address is unmapped on both sides.
fn away_from_runner(v: u32) -> u32 {
    if in_runner(v) {
        v ^ 0x4000_0000
    } else {
        v
    }
}

fn post_setup(g: &mut Gen<'_>, row: &Row, rm: Rm) {
    match row.setup {
        Setup::Div { signed } => div_operands(g, row, rm, signed),
        Setup::Cmpxchg if g.rng.bool() => {
            let bits = op_bits(row.form);
            let v = read_rm(g, rm, bits);
            g.set_part(EAX, bits, v);
        }
        Setup::Cmpxchg8b => {
            if let (Rm::Mem(t), true) = (rm, g.rng.bool()) {
                g.regs[EAX as usize] = g.peek(t, 4);
                g.regs[EDX as usize] = g.peek(t.wrapping_add(4), 4);
            }
        }
        _ => {}
    }
}

fn read_rm(g: &Gen<'_>, rm: Rm, bits: u32) -> u32 {
    match rm {
        Rm::Reg(r) => g.get_part(r, bits),
        Rm::Mem(t) => g.peek(t, bits / 8),
    }
}

/// Whether register operand `r` of an operand size overlaps EAX or EDX.
fn hits_acc(r: u8, bits: u32) -> bool {
    if bits == 8 {
        r == EAX || r == 4
    } else {
        r == EAX || r == EDX
    }
}

/// DIV/IDIV: picks a divisor (zero now and then) and, most of the time, a
/// dividend whose quotient fits; otherwise the random one (often #DE).
fn div_operands(g: &mut Gen<'_>, row: &Row, rm: Rm, signed: bool) {
    let bits = op_bits(row.form);
    let mask = u32::MAX >> (32 - bits);
    let d = match g.rng.below(10) {
        0 => 0,
        1 => 1,
        2 => mask,
        3 => g.rng.range(2, 12),
        _ => g.rng.value(),
    } & mask;
    match rm {
        Rm::Reg(r) if hits_acc(r, bits) => return,
        Rm::Reg(r) => g.set_part(r, bits, d),
        Rm::Mem(t) => g.poke(t, bits / 8, d),
    }
    let d = read_rm(g, rm, bits);
    if d == 0 || g.rng.one_in(3) {
        return;
    }
    let lo = u64::from(g.rng.u32() & mask);
    let dividend: u64 = if signed {
        let ds = sign_extend(d, bits);
        let half = 1i64 << (bits - 1);
        let q = i64::from(g.rng.u32() as i32) % half;
        let r = i64::from(g.rng.u32() as i32) % ds.abs();
        (q * ds + if (q * ds) < 0 { -r.abs() } else { r.abs() }) as u64
    } else {
        let hi = u64::from(g.rng.u32()) % u64::from(d);
        hi << bits | lo
    };
    let low = (dividend as u32) & mask;
    let high = ((dividend >> bits) as u32) & mask;
    match bits {
        8 => g.set_part(EAX, 16, high << 8 | low),
        _ => {
            g.set_part(EAX, bits, low);
            g.set_part(EDX, bits, high);
        }
    }
}

pub fn sign_extend(v: u32, bits: u32) -> i64 {
    i64::from(((v << (32 - bits)) as i32) >> (32 - bits))
}

/// BT* with a register bit offset: for memory, the offset is chosen so the
/// accessed word lands near the data area (in it, in the read-only page,
/// or just past the mapped pages).
fn bit_operand(g: &mut Gen<'_>, row: &Row, reg: u8, kind: RmKind) -> Rm {
    let bits = op_bits(row.form);
    let mem = match kind {
        RmKind::RegOnly => false,
        RmKind::MemOnly => true,
        RmKind::Any => g.rng.below(3) != 0,
    };
    if !mem {
        let v = g.rng.value();
        g.set_part(reg, bits, v);
        return g.modrm(reg, RmKind::RegOnly, bits / 8);
    }
    let t = DATA + g.rng.below(DATA_LEN);
    let lo = i64::from(DATA) - 0x40 - i64::from(t);
    let hi = i64::from(RO) + 0x1040 - i64::from(t);
    let (lo, hi) = if bits == 16 {
        (lo.max(-0x1000), hi.min(0xfff))
    } else {
        (lo, hi)
    };
    let byte = lo + i64::from(g.rng.below((hi - lo) as u32));
    let offset = (byte * 8 + i64::from(g.rng.below(8))) as u32;
    let v = g.regs[reg as usize] & !(u32::MAX >> (32 - bits)) | offset & (u32::MAX >> (32 - bits));
    g.fix(reg, v);
    let at = t.wrapping_add(byte as u32);
    g.cover(t.wrapping_sub(8), t + 8);
    g.cover(at.wrapping_sub(8), at.wrapping_add(8));
    g.modrm_mem(reg, t);
    Rm::Mem(t)
}

/// A random flag-setting ALU instruction on registers that nothing else in
/// the case depends on.
pub fn flag_producer(g: &mut Gen<'_>) {
    // (opcode of `op r/m, r` at 8 bits, writes its destination)
    const OPS: [(u8, bool); 9] = [
        (0x00, true),
        (0x08, true),
        (0x10, true),
        (0x18, true),
        (0x20, true),
        (0x28, true),
        (0x30, true),
        (0x38, false),
        (0x84, false),
    ];
    let free: Vec<u8> = (0..8u8).filter(|&r| r != ESP && !g.is_fixed(r)).collect();
    let src = g.rng.below(8) as u8;
    let Some(&dst) = (!free.is_empty()).then(|| g.rng.pick(&free)) else {
        g.emit(&[0x39, 0xc0 | src << 3 | src]);
        return;
    };
    match g.rng.below(12) {
        0 => g.emit(&[0x40 + dst]),
        1 => g.emit(&[0x48 + dst]),
        2 => g.emit(&[0xf7, 0xd8 | dst]),
        3 if dst < 4 => g.emit(&[0x00, 0xc0 | src << 3 | dst]),
        4 => g.emit(&[0x66, 0x29, 0xc0 | src << 3 | dst]),
        _ => {
            let (op, _) = *g.rng.pick(&OPS);
            g.emit(&[op + 1, 0xc0 | src << 3 | dst]);
        }
    }
}
