//! A small seeded PRNG (xoshiro256**) and the integer operand value mix.

pub struct Rng([u64; 4]);

impl Rng {
    /// Seeds the state with splitmix64, as the xoshiro authors suggest.
    pub fn new(seed: u64) -> Rng {
        let mut x = seed;
        let mut next = || {
            x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        Rng([next(), next(), next(), next()])
    }

    pub fn u64(&mut self) -> u64 {
        let s = &mut self.0;
        let out = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        out
    }

    pub fn u32(&mut self) -> u32 {
        (self.u64() >> 32) as u32
    }

    /// Uniform-ish in 0..n (n > 0), for 64-bit ranges.
    pub fn below_u64(&mut self, n: u64) -> u64 {
        self.u64() % n
    }

    /// Uniform in 0..n (n > 0).
    pub fn below(&mut self, n: u32) -> u32 {
        ((u64::from(self.u32()) * u64::from(n)) >> 32) as u32
    }

    /// Uniform in lo..=hi.
    pub fn range(&mut self, lo: u32, hi: u32) -> u32 {
        lo + self.below(hi - lo + 1)
    }

    /// True with probability 1/n.
    pub fn one_in(&mut self, n: u32) -> bool {
        self.below(n) == 0
    }

    pub fn bool(&mut self) -> bool {
        self.u32() & 1 != 0
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u32) as usize]
    }

    /// An operand value: random, or an edge value of some width with
    /// random upper bits (so 8/16-bit forms see their edges too).
    pub fn value(&mut self) -> u32 {
        const EDGE: [u32; 20] = [
            0,
            1,
            2,
            0x7f,
            0x80,
            0xff,
            0x100,
            0x7fff,
            0x8000,
            0xffff,
            0x1_0000,
            0x7fff_ffff,
            0x8000_0000,
            0x8000_0001,
            0xffff_fffe,
            0xffff_ffff,
            0x0f,
            0x10,
            0x5555_5555,
            0xaaaa_aaaa,
        ];
        const EDGE8: [u32; 14] = [
            0, 1, 0x7f, 0x80, 0x81, 0xff, 0xfe, 0x0f, 0x10, 0x09, 0x99, 0x9a, 0x66, 0xf9,
        ];
        const EDGE16: [u32; 8] = [0, 1, 0x7fff, 0x8000, 0x8001, 0xffff, 0xfffe, 0x00ff];
        match self.below(10) {
            0..=3 => self.u32(),
            4..=5 => *self.pick(&EDGE),
            6 => self.u32() & !0xff | *self.pick(&EDGE8),
            7 => self.u32() & !0xffff | *self.pick(&EDGE16),
            8 => self.u32() & !0xffff | self.u32() & 0xff00 | *self.pick(&EDGE8),
            _ => self.below(40),
        }
    }

    /// A shift or rotate count: mostly the interesting 0..33, sometimes
    /// any byte (the CPU masks it).
    pub fn count(&mut self) -> u32 {
        if self.one_in(6) {
            self.below(256)
        } else {
            self.below(34)
        }
    }
}
