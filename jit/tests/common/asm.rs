//! A tiny x86 encoder for generated test code (32-bit forms only), and a
//! deterministic random source. Test-only: the forms cover what the
//! translator handles plus a few it leaves to the interpreter.

/// xorshift64*: deterministic for a seed on every host.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub fn below(&mut self, n: u32) -> u32 {
        (self.next() % u64::from(n)) as u32
    }
    pub fn pick<T: Copy>(&mut self, v: &[T]) -> T {
        v[self.below(v.len() as u32) as usize]
    }
    /// A value biased towards edge cases.
    pub fn value(&mut self) -> u32 {
        match self.below(6) {
            0 => self.pick(&[0, 1, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff]),
            1 => self.pick(&[0x7fff_ffff, 0x8000_0000, 0xffff_ffff, 0xffff_fffe]),
            2 => self.below(16),
            _ => self.next() as u32,
        }
    }
}

pub const EAX: u8 = 0;
pub const ECX: u8 = 1;
pub const EDX: u8 = 2;
pub const EBX: u8 = 3;
pub const ESP: u8 = 4;
pub const EBP: u8 = 5;
pub const ESI: u8 = 6;
pub const EDI: u8 = 7;

/// An r/m operand.
#[derive(Clone, Copy, Debug)]
pub enum Rm {
    Reg(u8),
    /// [base + disp8]
    Mem(u8, i8),
}

#[derive(Default)]
pub struct Asm {
    pub code: Vec<u8>,
}

impl Asm {
    pub fn bytes(&mut self, b: &[u8]) -> &mut Self {
        self.code.extend_from_slice(b);
        self
    }

    pub fn pos(&self) -> usize {
        self.code.len()
    }

    /// ModRM (+ disp8) for `reg` and `rm`.
    pub fn modrm(&mut self, reg: u8, rm: Rm) -> &mut Self {
        match rm {
            Rm::Reg(r) => self.bytes(&[0xc0 | reg << 3 | r]),
            Rm::Mem(base, d) => {
                assert!(base != ESP, "no SIB forms here");
                self.bytes(&[0x40 | reg << 3 | base, d as u8])
            }
        }
    }

    /// `opcode` with a 66 prefix for 16-bit operands.
    pub fn op(&mut self, size: u32, opcode: &[u8]) -> &mut Self {
        if size == 16 {
            self.bytes(&[0x66]);
        }
        self.bytes(opcode)
    }

    pub fn imm(&mut self, size: u32, v: u32) -> &mut Self {
        let b = v.to_le_bytes();
        self.bytes(&b[..(size / 8) as usize])
    }

    /// Near jcc rel32 to a later fix-up; returns the fix-up position.
    pub fn jcc_fwd(&mut self, cc: u8) -> usize {
        self.bytes(&[0x0f, 0x80 | cc, 0, 0, 0, 0]);
        self.pos() - 4
    }

    /// Points the rel32 at `at` to the current position.
    pub fn fix(&mut self, at: usize) {
        let rel = (self.pos() as i64 - (at as i64 + 4)) as i32;
        self.code[at..at + 4].copy_from_slice(&rel.to_le_bytes());
    }

    /// rel32 jump/jcc/call back or forward to code position `to`.
    pub fn rel32(&mut self, opcode: &[u8], to: usize) -> &mut Self {
        self.bytes(opcode);
        let rel = (to as i64 - (self.pos() as i64 + 4)) as i32;
        self.bytes(&rel.to_le_bytes())
    }
}
