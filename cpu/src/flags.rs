//! Arithmetic flags, evaluated lazily.
//!
//! Most flag-setting instructions only record the operation, its operands
//! and result in `CpuState::lazy`; a flag is computed when something reads
//! it. Instructions whose flags are awkward to describe this way compute all
//! six status flags eagerly with [`CpuState::set_status`].

use crate::state::{flag, CpuState};

/// The operation recorded in `LazyFlags::op`.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LazyOp {
    /// `eflags` holds the status flags.
    None = 0,
    /// res = a + b.
    Add = 1,
    /// res = a + b + 1 (ADC with carry in).
    Adc = 2,
    /// res = a - b.
    Sub = 3,
    /// res = a - b - 1 (SBB with borrow in).
    Sbb = 4,
    /// AND/OR/XOR/TEST: CF = OF = 0, AF as `undefined::AF`.
    Logic = 5,
    /// INC: a + 1, CF kept in `eflags`.
    Inc = 6,
    /// DEC: a - 1, CF kept in `eflags`.
    Dec = 7,
}

/// Mask of the operand bits for a size in bits.
#[inline(always)]
pub fn size_mask(size: u32) -> u32 {
    u32::MAX >> (32 - size)
}

/// The sign bit for a size in bits.
#[inline(always)]
pub fn sign_bit(size: u32) -> u32 {
    1 << (size - 1)
}

/// Even parity of the low byte, as PF reports it.
#[inline(always)]
pub fn parity(v: u32) -> bool {
    (v as u8).count_ones().is_multiple_of(2)
}

impl CpuState {
    #[inline(always)]
    fn lazy_op(&self) -> u32 {
        self.lazy.op
    }

    /// Records a flag-setting operation (operands already masked to size).
    #[inline(always)]
    pub fn set_lazy(&mut self, op: LazyOp, size: u32, res: u32, a: u32, b: u32) {
        self.lazy.op = op as u32;
        self.lazy.size = size;
        self.lazy.res = res;
        self.lazy.a = a;
        self.lazy.b = b;
    }

    /// Records INC/DEC, which keep CF.
    #[inline(always)]
    pub fn set_lazy_incdec(&mut self, op: LazyOp, size: u32, res: u32, a: u32) {
        if self.lazy.op != LazyOp::None as u32 {
            let cf = self.cf();
            self.eflags = (self.eflags & !flag::CF) | cf as u32;
        }
        self.set_lazy(op, size, res, a, 1);
    }

    /// Sets all six status flags at once (eager evaluation).
    #[inline(always)]
    pub fn set_status(&mut self, bits: u32) {
        self.eflags = (self.eflags & !flag::STATUS) | (bits & flag::STATUS);
        self.lazy.op = LazyOp::None as u32;
    }

    /// Replaces some status flags and keeps the others.
    pub fn update_status(&mut self, mask: u32, bits: u32) {
        let cur = self.eflags();
        self.set_status((cur & !mask) | (bits & mask));
    }

    /// Carry flag.
    #[inline(always)]
    pub fn cf(&self) -> bool {
        let l = &self.lazy;
        match self.lazy_op() {
            1 => l.res < l.a,
            2 => l.res <= l.a,
            3 => l.a < l.b,
            4 => l.a <= l.b,
            5 => false,
            _ => self.eflags & flag::CF != 0,
        }
    }

    /// Zero flag.
    #[inline(always)]
    pub fn zf(&self) -> bool {
        if self.lazy_op() == 0 {
            self.eflags & flag::ZF != 0
        } else {
            self.lazy.res == 0
        }
    }

    /// Sign flag.
    #[inline(always)]
    pub fn sf(&self) -> bool {
        if self.lazy_op() == 0 {
            self.eflags & flag::SF != 0
        } else {
            self.lazy.res & sign_bit(self.lazy.size) != 0
        }
    }

    /// Overflow flag.
    #[inline(always)]
    pub fn of(&self) -> bool {
        let l = &self.lazy;
        let sign = match self.lazy_op() {
            0 => return self.eflags & flag::OF != 0,
            1 | 2 => (l.a ^ l.res) & (l.b ^ l.res),
            3 | 4 => (l.a ^ l.b) & (l.a ^ l.res),
            5 => 0,
            6 => (!l.a) & l.res,
            _ => l.a & !l.res,
        };
        sign & sign_bit(l.size) != 0
    }

    /// Parity flag.
    #[inline(always)]
    pub fn pf(&self) -> bool {
        if self.lazy_op() == 0 {
            self.eflags & flag::PF != 0
        } else {
            parity(self.lazy.res)
        }
    }

    /// Auxiliary carry flag (carry out of bit 3).
    #[inline(always)]
    pub fn af(&self) -> bool {
        let l = &self.lazy;
        match self.lazy_op() {
            0 => self.eflags & flag::AF != 0,
            // Undefined after AND/OR/XOR/TEST: see `undefined.rs`.
            5 => crate::undefined::AF != 0,
            _ => (l.a ^ l.b ^ l.res) & 0x10 != 0,
        }
    }

    /// The full EFLAGS register.
    pub fn eflags(&self) -> u32 {
        if self.lazy_op() == 0 {
            return self.eflags;
        }
        let mut f = self.eflags & !flag::STATUS;
        f |= self.cf() as u32 * flag::CF;
        f |= self.pf() as u32 * flag::PF;
        f |= self.af() as u32 * flag::AF;
        f |= self.zf() as u32 * flag::ZF;
        f |= self.sf() as u32 * flag::SF;
        f |= self.of() as u32 * flag::OF;
        f
    }

    /// Replaces EFLAGS (the caller masks what user mode may change).
    pub fn set_eflags(&mut self, v: u32) {
        self.eflags = (v & !(1 << 3 | 1 << 5 | 1 << 15)) | flag::FIXED1;
        self.lazy.op = LazyOp::None as u32;
    }

    /// Direction flag.
    #[inline(always)]
    pub fn df(&self) -> bool {
        self.eflags & flag::DF != 0
    }

    /// Evaluates condition code `cc` (the low nibble of Jcc/SETcc/CMOVcc).
    #[inline(always)]
    pub fn cond(&self, cc: u8) -> bool {
        let r = match cc >> 1 {
            0 => self.of(),
            1 => self.cf(),
            2 => self.zf(),
            3 => self.cf() || self.zf(),
            4 => self.sf(),
            5 => self.pf(),
            6 => self.sf() != self.of(),
            _ => self.zf() || (self.sf() != self.of()),
        };
        r != (cc & 1 != 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sub_flags() {
        let mut c = CpuState::default();
        c.set_lazy(LazyOp::Sub, 32, 0u32.wrapping_sub(1), 0, 1);
        assert!(c.cf() && c.sf() && !c.zf() && !c.of());
        assert!(c.cond(0x2)); // B
        assert!(c.cond(0xc)); // L
        c.set_lazy(LazyOp::Sub, 8, 0x7f, 0x80, 1);
        assert!(c.of() && !c.cf());
    }

    #[test]
    fn incdec_keeps_carry() {
        let mut c = CpuState::default();
        c.set_lazy(LazyOp::Add, 8, 0, 0xff, 1);
        assert!(c.cf());
        c.set_lazy_incdec(LazyOp::Inc, 32, 5, 4);
        assert!(c.cf());
        assert_eq!(c.eflags() & flag::CF, flag::CF);
    }
}
