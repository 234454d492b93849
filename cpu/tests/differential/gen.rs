//! Building one case: registers, code bytes with ModRM/SIB operands whose
//! memory addresses land where the generator wants them, and the initial
//! contents of the data and stack areas.
//!
//! Registers a form needs to control (a shift count in CL, a string
//! pointer, a base register of a memory operand) are "fixed" once chosen,
//! so later choices never reuse them.

use super::case::*;
use crate::harness::Rng;
use iced_x86::{Code, Decoder, DecoderOptions};

pub const EAX: u8 = 0;
pub const ECX: u8 = 1;
pub const EDX: u8 = 2;
pub const EBX: u8 = 3;
pub const ESP: u8 = 4;
pub const EBP: u8 = 5;
pub const ESI: u8 = 6;
pub const EDI: u8 = 7;

/// EFLAGS bits the generator sets.
pub const DF: u32 = 1 << 10;
pub const STATUS: u32 = 0x8d5;

/// Where a ModRM r/m operand ended up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rm {
    /// Register number as encoded (for 8-bit forms 4..7 are AH..BH).
    Reg(u8),
    Mem(u32),
}

/// Which r/m kinds a form allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RmKind {
    Any,
    RegOnly,
    MemOnly,
}

/// A case under construction.
pub struct Gen<'r> {
    pub rng: &'r mut Rng,
    pub regs: [u32; 8],
    fixed: u8,
    pub eflags: u32,
    pub code: Vec<u8>,
    /// 16-bit addressing (an 0x67 prefix on the instruction being built).
    pub addr16: bool,
    main: usize,
    data: Vec<u8>,
    data_span: Option<(u32, u32)>,
    stack: Vec<u8>,
    stack_span: Option<(u32, u32)>,
}

impl<'r> Gen<'r> {
    /// Random registers and flags, ESP inside the stack page.
    pub fn new(rng: &'r mut Rng) -> Gen<'r> {
        let mut regs = [0; 8];
        for r in regs.iter_mut() {
            *r = rng.value();
        }
        let mut eflags = 0x202 | (rng.u32() & STATUS);
        if rng.one_in(4) {
            eflags |= DF;
        }
        let mut g = Gen {
            rng,
            regs,
            fixed: 0,
            eflags,
            code: Vec::new(),
            addr16: false,
            main: 0,
            data: vec![0; DATA_LEN as usize],
            data_span: None,
            stack: vec![0; STACK_LEN as usize],
            stack_span: None,
        };
        let esp = g.pick_esp();
        g.fix(ESP, esp);
        g.cover(esp.wrapping_sub(96), esp.wrapping_add(96));
        g
    }

    /// Mostly mid-page and aligned; sometimes misaligned or at an edge of
    /// the stack page, where pushes or pops fault.
    fn pick_esp(&mut self) -> u32 {
        let mid = STACK + 0x800 + (self.rng.range(0, 0x200) & !3) - 0x100;
        match self.rng.below(40) {
            0 => STACK + self.rng.below(12),
            1 => STACK + STACK_LEN - self.rng.below(12),
            2..=3 => mid + self.rng.range(1, 3),
            _ => mid,
        }
    }

    pub fn is_fixed(&self, r: u8) -> bool {
        self.fixed & 1 << r != 0
    }

    /// Sets a register and keeps later choices from reusing it.
    pub fn fix(&mut self, r: u8, v: u32) {
        self.regs[r as usize] = v;
        self.fixed |= 1 << r;
    }

    /// Marks a register as taken without changing its value.
    pub fn reserve(&mut self, r: u8) {
        self.fixed |= 1 << r;
    }

    /// Value of a register operand as encoded for an operand size.
    pub fn get_part(&self, r: u8, bits: u32) -> u32 {
        match bits {
            8 if r >= 4 => (self.regs[r as usize - 4] >> 8) & 0xff,
            8 => self.regs[r as usize] & 0xff,
            16 => self.regs[r as usize] & 0xffff,
            _ => self.regs[r as usize],
        }
    }

    /// Writes a register operand of an operand size (merging like the CPU).
    pub fn set_part(&mut self, r: u8, bits: u32, v: u32) {
        let (i, shift, mask) = match bits {
            8 if r >= 4 => (r as usize - 4, 8, 0xff),
            8 => (r as usize, 0, 0xff),
            16 => (r as usize, 0, 0xffff),
            _ => (r as usize, 0, u32::MAX),
        };
        self.regs[i] = (self.regs[i] & !(mask << shift)) | (v & mask) << shift;
    }

    pub fn emit(&mut self, bytes: &[u8]) {
        self.code.extend_from_slice(bytes);
    }

    /// Little-endian immediate of `n` bytes.
    pub fn imm(&mut self, n: u32, v: u32) {
        self.emit(&v.to_le_bytes()[..n as usize]);
    }

    /// Marks the instruction about to be emitted as the one under test.
    pub fn mark_main(&mut self) {
        self.main = self.code.len();
    }

    /// Random bytes for `lo..hi` (guest addresses) wherever it overlaps the
    /// data or stack area; earlier contents stay.
    pub fn cover(&mut self, lo: u32, hi: u32) {
        let (a, b) = (lo.max(DATA), hi.min(DATA + DATA_LEN));
        if a < b {
            self.data_span = Some(extend(
                self.rng,
                &mut self.data,
                self.data_span,
                a - DATA,
                b - DATA,
            ));
        }
        let (a, b) = (lo.max(STACK), hi.min(STACK + STACK_LEN));
        if a < b {
            self.stack_span = Some(extend(
                self.rng,
                &mut self.stack,
                self.stack_span,
                a - STACK,
                b - STACK,
            ));
        }
    }

    /// Initial memory contents at `addr` (what the case will see).
    pub fn peek(&self, addr: u32, n: u32) -> u32 {
        let mut v = 0u32;
        for i in (0..n).rev() {
            let a = addr.wrapping_add(i);
            let b = match area_offset(a) {
                Some(o) if o < DATA_LEN => self.data[o as usize],
                Some(o) => self.stack[(o - DATA_LEN) as usize],
                None if (RO..RO + 0x1000).contains(&a) => ro_byte(a - RO),
                None => 0,
            };
            v = v << 8 | u32::from(b);
        }
        v
    }

    /// Sets initial memory (only inside the data and stack areas).
    pub fn poke(&mut self, addr: u32, n: u32, v: u32) {
        self.cover(addr, addr.wrapping_add(n));
        for i in 0..n {
            let a = addr.wrapping_add(i);
            let b = (v >> (8 * i)) as u8;
            match area_offset(a) {
                Some(o) if o < DATA_LEN => self.data[o as usize] = b,
                Some(o) => self.stack[(o - DATA_LEN) as usize] = b,
                None => {}
            }
        }
    }

    /// Emits a ModRM byte (and SIB/displacement) for `reg_field` and an r/m
    /// operand of `n` bytes; a memory operand gets an address chosen by
    /// `target`.
    pub fn modrm(&mut self, reg_field: u8, kind: RmKind, n: u32) -> Rm {
        let mem = match kind {
            RmKind::RegOnly => false,
            RmKind::MemOnly => true,
            RmKind::Any => self.rng.below(3) != 0,
        };
        if !mem {
            let r = self.rng.below(8) as u8;
            self.emit(&[0xc0 | reg_field << 3 | r]);
            return Rm::Reg(r);
        }
        let t = self.target(n);
        self.modrm_mem(reg_field, t);
        Rm::Mem(t)
    }

    /// Emits a memory operand that addresses `t`.
    pub fn modrm_mem(&mut self, reg_field: u8, t: u32) {
        if self.addr16 {
            self.mem16(reg_field, t)
        } else {
            self.mem32(reg_field, t)
        }
    }

    /// An address for an `n`-byte access: mostly inside the data area,
    /// sometimes across a page boundary, in the read-only page, partly or
    /// wholly unmapped, or on the stack.
    pub fn target(&mut self, n: u32) -> u32 {
        let r = &mut *self.rng;
        let back = r.range(1, n.max(1));
        let t = match r.below(100) {
            0..=79 => DATA + r.below(DATA_LEN - n + 1),
            80..=84 => DATA + 0x1000 - back,
            85..=88 => RO + r.below(0x1000 - n + 1),
            89..=91 => RO - back,
            92..=94 => RO + 0x1000 - back,
            95..=96 => DATA - back,
            97 => RO + 0x1000 + r.below(0x1000),
            _ if !self.addr16 => self.regs[ESP as usize]
                .wrapping_add(r.below(128))
                .wrapping_sub(64),
            _ => DATA + r.below(DATA_LEN - n + 1),
        };
        self.cover(t.wrapping_sub(32), t.wrapping_add(n + 32));
        t
    }

    /// Registers that may still serve as base or index.
    fn free(&self, exclude: &[u8]) -> Vec<u8> {
        (0..8u8)
            .filter(|&r| !self.is_fixed(r) && !exclude.contains(&r))
            .collect()
    }

    fn disp(&mut self, mode: u8) -> u32 {
        match mode {
            1 => self.rng.u32() as i8 as u32,
            2 => self.rng.value(),
            _ => 0,
        }
    }

    fn emit_disp(&mut self, mode: u8, d: u32) {
        match mode {
            1 => self.imm(1, d),
            2 => self.imm(if self.addr16 { 2 } else { 4 }, d),
            _ => {}
        }
    }

    /// 32-bit addressing: [disp32], [base], [base+disp], [base+index*s+disp]
    /// or [esp+disp].
    fn mem32(&mut self, reg: u8, t: u32) {
        let reg = reg << 3;
        let free = self.free(&[]);
        let choice = if free.is_empty() {
            0
        } else {
            self.rng.below(6)
        };
        match choice {
            1..=3 => {
                let base = *self.rng.pick(&free);
                let mut mode = choice as u8 - 1;
                if base == EBP && mode == 0 {
                    mode = 1;
                }
                let d = self.disp(mode);
                self.fix(base, t.wrapping_sub(d));
                self.emit(&[mode << 6 | reg | base]);
                self.emit_disp(mode, d);
            }
            4 => self.mem32_sib(reg, t, &free),
            5 => {
                let d = t.wrapping_sub(self.regs[ESP as usize]);
                self.emit(&[0x80 | reg | 4, 0x24]);
                self.imm(4, d);
            }
            _ => {
                self.emit(&[reg | 5]);
                self.imm(4, t);
            }
        }
    }

    fn mem32_sib(&mut self, reg: u8, t: u32, free: &[u8]) {
        let index = *self.rng.pick(free);
        self.reserve(index);
        let scale = self.rng.below(4) as u8;
        let iv = if self.rng.bool() {
            self.rng.below(64)
        } else {
            self.rng.value()
        };
        self.fix(index, iv);
        let scaled = iv.wrapping_shl(u32::from(scale));
        let bases = self.free(&[]);
        let no_base = bases.is_empty() || self.rng.one_in(4);
        let sib_index = index << 3 | scale << 6;
        if no_base {
            self.emit(&[reg | 4, sib_index | 5]);
            self.imm(4, t.wrapping_sub(scaled));
            return;
        }
        let base = *self.rng.pick(&bases);
        let mut mode = self.rng.below(3) as u8;
        if base == EBP && mode == 0 {
            mode = 1;
        }
        let d = self.disp(mode);
        self.fix(base, t.wrapping_sub(scaled).wrapping_sub(d));
        self.emit(&[mode << 6 | reg | 4, sib_index | base]);
        self.emit_disp(mode, d);
    }

    /// 16-bit addressing: the sum wraps at 64 KiB; upper register halves
    /// are random and must not matter.
    fn mem16(&mut self, reg: u8, t: u32) {
        const RMS: [&[u8]; 8] = [
            &[EBX, ESI],
            &[EBX, EDI],
            &[EBP, ESI],
            &[EBP, EDI],
            &[ESI],
            &[EDI],
            &[EBP],
            &[EBX],
        ];
        let reg = reg << 3;
        let usable: Vec<u8> = (0..8u8)
            .filter(|&rm| RMS[rm as usize].iter().all(|&r| !self.is_fixed(r)))
            .collect();
        if usable.is_empty() || self.rng.one_in(6) {
            self.emit(&[reg | 6]);
            self.imm(2, t);
            return;
        }
        let rm = *self.rng.pick(&usable);
        let mut mode = self.rng.below(3) as u8;
        if rm == 6 && mode == 0 {
            mode = 1;
        }
        let d = self.disp(mode);
        let regs = RMS[rm as usize];
        let mut rest = t.wrapping_sub(d);
        if let [first, _] = regs {
            let v = self.rng.u32();
            self.fix(*first, v);
            rest = rest.wrapping_sub(v);
        }
        let last = *regs.last().expect("non-empty");
        let v = self.rng.u32() & 0xffff_0000 | rest & 0xffff;
        self.fix(last, v);
        self.emit(&[mode << 6 | reg | rm]);
        self.emit_disp(mode, d);
    }

    /// The finished case; checks with iced that the bytes decode to the
    /// intended form.
    pub fn finish(self, form: Code, variant: &'static str) -> Case {
        let case = Case {
            form,
            variant,
            main: self.main,
            code: self.code,
            regs: self.regs,
            eflags: self.eflags,
            data: window(&self.data, self.data_span),
            stack: window(&self.stack, self.stack_span),
        };
        check_decode(&case);
        case
    }
}

fn extend(rng: &mut Rng, buf: &mut [u8], span: Option<(u32, u32)>, a: u32, b: u32) -> (u32, u32) {
    let (lo, hi) = span.unwrap_or((a, a));
    let fill = |rng: &mut Rng, buf: &mut [u8], from: u32, to: u32| {
        for chunk in buf[from as usize..to as usize].chunks_mut(4) {
            let v = rng.value().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    };
    if a < lo {
        fill(rng, buf, a, lo);
    }
    if b > hi {
        fill(rng, buf, hi.max(a), b);
    }
    (lo.min(a), hi.max(b))
}

fn window(buf: &[u8], span: Option<(u32, u32)>) -> Window {
    let (lo, hi) = span.unwrap_or((0, 0));
    Window {
        off: lo as u16,
        bytes: buf[lo as usize..hi as usize].to_vec(),
    }
}

/// Panics (a generator bug) unless the code decodes completely and the
/// instruction at `main` is the intended form.
fn check_decode(case: &Case) {
    assert!(case.code.len() <= MAX_CODE, "case too long");
    let ip = u64::from(case.entry());
    let mut d = Decoder::with_ip(32, &case.code, ip, DecoderOptions::NONE);
    let mut found = None;
    while d.can_decode() {
        let at = d.position();
        let insn = d.decode();
        if at == case.main {
            found = Some(insn.code());
        }
    }
    assert_eq!(
        found,
        Some(case.form),
        "generator bug: {:02x?} (main at {}) is not {:?} {}",
        case.code,
        case.main,
        case.form,
        case.variant
    );
}
