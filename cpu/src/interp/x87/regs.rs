//! The register stack, the tag word and the status word.
//!
//! `X87State::tag` holds, for each physical register, either 11 (empty) or
//! 00 (in use); the full tag classes (valid, zero, special) the hardware
//! reports are derived from the contents when FNSTENV/FNSAVE store them,
//! which gives the same values as tracking them on every write.

use super::float::{exc, Class, Fx};
use crate::state::{X87State, F80};

/// Status word bits.
pub mod sw {
    /// Stack fault (with IE: C1 tells overflow from underflow).
    pub const SF: u16 = 1 << 6;
    /// Exception summary: an unmasked exception is pending.
    pub const ES: u16 = 1 << 7;
    pub const C0: u16 = 1 << 8;
    pub const C1: u16 = 1 << 9;
    pub const C2: u16 = 1 << 10;
    pub const TOP_SHIFT: u16 = 11;
    pub const C3: u16 = 1 << 14;
    /// FPU busy, mirrors ES.
    pub const B: u16 = 1 << 15;
    /// The four condition code bits.
    pub const CC: u16 = C0 | C1 | C2 | C3;
}

/// Exceptions that stop an operation before its result is written when
/// they are unmasked.
pub const PRE_EXC: u16 = exc::IE | exc::DE | exc::ZE;

impl X87State {
    /// The physical register number of ST(i).
    #[inline(always)]
    pub fn phys(&self, i: usize) -> usize {
        (self.top as usize + i) & 7
    }

    /// Whether ST(i) is empty.
    #[inline(always)]
    pub fn is_empty(&self, i: usize) -> bool {
        (self.tag >> (2 * self.phys(i))) & 3 == 3
    }

    /// ST(i).
    #[inline(always)]
    pub fn st(&self, i: usize) -> F80 {
        self.regs[self.phys(i)]
    }

    /// Writes ST(i) and marks it in use.
    #[inline(always)]
    pub fn set_st(&mut self, i: usize, v: F80) {
        let p = self.phys(i);
        self.regs[p] = F80 { pad: [0; 3], ..v };
        self.tag &= !(3 << (2 * p));
    }

    /// Marks ST(i) empty (FFREE).
    pub fn free(&mut self, i: usize) {
        self.tag |= 3 << (2 * self.phys(i));
    }

    /// Decrements TOP and writes the new ST(0).
    #[inline(always)]
    pub fn push(&mut self, v: F80) {
        self.top = (self.top + 7) & 7;
        self.set_st(0, v);
    }

    /// Marks ST(0) empty and increments TOP.
    #[inline(always)]
    pub fn pop(&mut self) {
        self.free(0);
        self.top = (self.top + 1) & 7;
    }

    /// The status word with TOP merged in.
    pub fn status_word(&self) -> u16 {
        (self.status & !(7 << sw::TOP_SHIFT)) | (self.top << sw::TOP_SHIFT)
    }

    /// Loads the status word (FLDENV, FRSTOR).
    pub fn set_status_word(&mut self, v: u16) {
        self.top = (v >> sw::TOP_SHIFT) & 7;
        self.status = v & !(7 << sw::TOP_SHIFT);
        self.sync_summary();
    }

    /// Recomputes ES and B from the exception flags and masks.
    pub fn sync_summary(&mut self) {
        let pending = self.status & !self.control & exc::ALL != 0;
        self.status &= !(sw::ES | sw::B);
        if pending {
            self.status |= sw::ES | sw::B;
        }
    }

    /// Records exceptions. Returns true if one of them is unmasked.
    pub fn raise(&mut self, e: u16) -> bool {
        self.status |= e;
        self.sync_summary();
        e & !self.control & exc::ALL != 0
    }

    /// Sets condition codes C0-C3 from `bits` (already in position).
    pub fn set_cc(&mut self, bits: u16) {
        self.status = (self.status & !sw::CC) | (bits & sw::CC);
    }

    /// Applies an arithmetic result's exceptions and C1. Returns true if
    /// the result must not be written (an unmasked IE/DE/ZE).
    ///
    /// Precedence as measured on the host: an invalid operand hides DE;
    /// an unmasked DE stops the operation before any other exception (and
    /// leaves C1 alone).
    pub fn finish(&mut self, fx: Fx) -> bool {
        let mut e = fx.exc;
        if e & exc::IE != 0 {
            e &= !exc::DE;
        }
        if e & exc::DE & !self.control != 0 {
            self.raise(exc::DE);
            return true;
        }
        let c1 = if fx.up { sw::C1 } else { 0 };
        self.status = (self.status & !sw::C1) | c1;
        self.raise(e);
        e & PRE_EXC & !self.control != 0
    }

    /// Stack underflow: IE with SF, C1 = 0. Returns true if unmasked.
    pub fn stack_underflow(&mut self) -> bool {
        self.status &= !sw::C1;
        self.raise(exc::IE | sw::SF)
    }

    /// Stack overflow: IE with SF, C1 = 1. Returns true if unmasked.
    pub fn stack_overflow(&mut self) -> bool {
        self.status |= sw::C1;
        self.raise(exc::IE | sw::SF)
    }

    /// Whether invalid-operation is masked.
    pub fn ie_masked(&self) -> bool {
        self.control & exc::IE != 0
    }

    /// Pushes `v`, or handles stack overflow if ST(7) is in use (masked:
    /// pushes the indefinite). Returns false if nothing was pushed.
    pub fn push_checked(&mut self, v: F80) -> bool {
        if !self.is_empty(7) {
            if self.stack_overflow() {
                return false;
            }
            self.push(F80::INDEFINITE);
            return true;
        }
        self.push(v);
        true
    }

    /// The two-bit tag the hardware reports for physical register `p`.
    pub fn full_tag(&self, p: usize) -> u16 {
        if (self.tag >> (2 * p)) & 3 == 3 {
            return 3;
        }
        match self.regs[p].class() {
            Class::Normal => 0,
            Class::Zero => 1,
            _ => 2,
        }
    }

    /// The full tag word (FNSTENV, FNSAVE).
    pub fn tag_word(&self) -> u16 {
        (0..8).fold(0, |t, p| t | self.full_tag(p) << (2 * p))
    }

    /// Loads a tag word: only "empty" versus "in use" matters (FLDENV).
    pub fn set_tag_word(&mut self, t: u16) {
        self.tag = (0..8).fold(0, |acc, p| {
            let empty = (t >> (2 * p)) & 3 == 3;
            acc | (u16::from(empty) * (3 << (2 * p)))
        });
    }

    /// The abridged tag byte of FXSAVE: one bit per register, 1 = in use.
    pub fn abridged_tag(&self) -> u8 {
        (0..8).fold(0, |t, p| {
            t | (u8::from((self.tag >> (2 * p)) & 3 != 3) << p)
        })
    }

    /// Loads an abridged tag byte (FXRSTOR).
    pub fn set_abridged_tag(&mut self, t: u8) {
        self.tag = (0..8).fold(0, |acc, p| {
            acc | (u16::from(t >> p & 1 == 0) * (3 << (2 * p)))
        });
    }
}
