//! The SHA extensions (CPUID.7.0:EBX.SHA): SHA1RNDS4, SHA1NEXTE,
//! SHA1MSG1, SHA1MSG2, SHA256RNDS2, SHA256MSG1 and SHA256MSG2, as the SDM
//! (Vol. 2, "SHA Extensions") defines them. OpenSSL's SHA-1 and SHA-256
//! take these when CPUID reports them, as they do on the hosts Wax is
//! compared with: a 64-byte block is about 150 instructions instead of
//! about 3,900 on the SSSE3 path.
//!
//! All seven are legacy-SSE encoded (NP 0F 38 C8..CD, NP 0F 3A CC) and
//! change no flags. A misaligned 16-byte memory operand does not fault:
//! Wax's choice, where vendors differ. Intel's SDM puts these instructions
//! in exception class 4 (#GP for a misaligned legacy-SSE operand); the AMD
//! EPYC that Wax is measured on runs them (5,000 random cases, a quarter
//! misaligned, in `cpu/tests/sse_differential.rs`, which masks the
//! difference on hosts that fault). Code correct on either runs. The functions below are the definitions the JIT's wasm
//! code (`jit/src/translate/sse/sha.rs`) is checked against.
//!
//! Dwords are numbered from the low end: `d(v, 3)` is bits 127:96.

use super::super::ctx::{Ctx, Flow, Handler};
use super::trunc;
use crate::interp::decoded::Decoded;
use iced_x86::{Instruction, Mnemonic};

/// Dword `i` (0 = bits 31:0) of `v`.
#[inline(always)]
fn d(v: u128, i: u32) -> u32 {
    (v >> (32 * i)) as u32
}

/// Packs dwords, `w[0]` lowest.
#[inline(always)]
fn pack(w: [u32; 4]) -> u128 {
    w.iter()
        .enumerate()
        .fold(0, |v, (i, &x)| v | u128::from(x) << (32 * i))
}

/// SHA-1's round function and constant of round group `imm & 3`.
fn sha1_f(imm: u8, b: u32, c: u32, d: u32) -> u32 {
    match imm & 3 {
        0 => (b & c) ^ (!b & d),
        2 => (b & c) ^ (b & d) ^ (c & d),
        _ => b ^ c ^ d,
    }
}

const SHA1_K: [u32; 4] = [0x5a82_7999, 0x6ed9_eba1, 0x8f1b_bcdc, 0xca62_c1d6];

/// SHA1RNDS4: four rounds from state A..D (`a`, high to low), W0+E and
/// W1..W3 (`b`), round group `imm`.
pub fn sha1rnds4(a: u128, b: u128, imm: u8) -> u128 {
    let (mut sa, mut sb, mut sc, mut sd) = (d(a, 3), d(a, 2), d(a, 1), d(a, 0));
    let mut se = 0;
    let k = SHA1_K[usize::from(imm & 3)];
    for i in 0..4 {
        // The first round's W is W0 + E, already summed by SHA1NEXTE.
        let w = d(b, 3 - i);
        let t = sha1_f(imm, sb, sc, sd)
            .wrapping_add(sa.rotate_left(5))
            .wrapping_add(w)
            .wrapping_add(se)
            .wrapping_add(k);
        se = sd;
        sd = sc;
        sc = sb.rotate_left(30);
        sb = sa;
        sa = t;
    }
    pack([sd, sc, sb, sa])
}

/// SHA1NEXTE: the high dword of `b` plus the high dword of `a` rotated
/// left by 30; the rest of `b`.
pub fn sha1nexte(a: u128, b: u128) -> u128 {
    let hi = d(b, 3).wrapping_add(d(a, 3).rotate_left(30));
    pack([d(b, 0), d(b, 1), d(b, 2), hi])
}

/// SHA1MSG1: the XORs of W(i) and W(i+2) for the next four message words.
pub fn sha1msg1(a: u128, b: u128) -> u128 {
    let (w0, w1, w2, w3) = (d(a, 3), d(a, 2), d(a, 1), d(a, 0));
    let (w4, w5) = (d(b, 3), d(b, 2));
    pack([w5 ^ w3, w4 ^ w2, w3 ^ w1, w2 ^ w0])
}

/// SHA1MSG2: the last XOR and rotation of the next four message words.
pub fn sha1msg2(a: u128, b: u128) -> u128 {
    let (w13, w14, w15) = (d(b, 2), d(b, 1), d(b, 0));
    let w16 = (d(a, 3) ^ w13).rotate_left(1);
    let w17 = (d(a, 2) ^ w14).rotate_left(1);
    let w18 = (d(a, 1) ^ w15).rotate_left(1);
    let w19 = (d(a, 0) ^ w16).rotate_left(1);
    pack([w19, w18, w17, w16])
}

fn big_sigma0(x: u32) -> u32 {
    x.rotate_right(2) ^ x.rotate_right(13) ^ x.rotate_right(22)
}

fn big_sigma1(x: u32) -> u32 {
    x.rotate_right(6) ^ x.rotate_right(11) ^ x.rotate_right(25)
}

fn small_sigma0(x: u32) -> u32 {
    x.rotate_right(7) ^ x.rotate_right(18) ^ x >> 3
}

fn small_sigma1(x: u32) -> u32 {
    x.rotate_right(17) ^ x.rotate_right(19) ^ x >> 10
}

/// SHA256RNDS2: two rounds. `a` holds C, D, G, H and `b` A, B, E, F
/// (high to low), `k` the two W+K words in its low quadword; the result
/// is A, B, E, F after the rounds.
pub fn sha256rnds2(a: u128, b: u128, k: u128) -> u128 {
    let (mut sa, mut sb, mut sc, mut sd) = (d(b, 3), d(b, 2), d(a, 3), d(a, 2));
    let (mut se, mut sf, mut sg, mut sh) = (d(b, 1), d(b, 0), d(a, 1), d(a, 0));
    for i in 0..2 {
        let ch = (se & sf) ^ (!se & sg);
        let maj = (sa & sb) ^ (sa & sc) ^ (sb & sc);
        let t = ch
            .wrapping_add(big_sigma1(se))
            .wrapping_add(d(k, i))
            .wrapping_add(sh);
        let new_a = t.wrapping_add(maj).wrapping_add(big_sigma0(sa));
        let new_e = t.wrapping_add(sd);
        (sh, sg, sf, se) = (sg, sf, se, new_e);
        (sd, sc, sb, sa) = (sc, sb, sa, new_a);
    }
    pack([sf, se, sb, sa])
}

/// SHA256MSG1: W(i) + σ0(W(i+1)) for the next four message words.
pub fn sha256msg1(a: u128, b: u128) -> u128 {
    let w = [d(a, 0), d(a, 1), d(a, 2), d(a, 3), d(b, 0)];
    pack([0, 1, 2, 3].map(|i| w[i].wrapping_add(small_sigma0(w[i + 1]))))
}

/// SHA256MSG2: adds σ1 of W(i-2) for the next four message words.
pub fn sha256msg2(a: u128, b: u128) -> u128 {
    let w16 = d(a, 0).wrapping_add(small_sigma1(d(b, 2)));
    let w17 = d(a, 1).wrapping_add(small_sigma1(d(b, 3)));
    let w18 = d(a, 2).wrapping_add(small_sigma1(w16));
    let w19 = d(a, 3).wrapping_add(small_sigma1(w17));
    pack([w16, w17, w18, w19])
}

mod op {
    pub const SHA1RNDS4: u8 = 0;
    pub const SHA1NEXTE: u8 = 1;
    pub const SHA1MSG1: u8 = 2;
    pub const SHA1MSG2: u8 = 3;
    pub const SHA256RNDS2: u8 = 4;
    pub const SHA256MSG1: u8 = 5;
    pub const SHA256MSG2: u8 = 6;
}

fn exec<const OP: u8>(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    use op::*;
    let b = trunc(ctx.src_unaligned(insn, 1)?, 16);
    let a = ctx.dst(insn);
    let r = match OP {
        SHA1RNDS4 => sha1rnds4(a, b, insn.immediate8()),
        SHA1NEXTE => sha1nexte(a, b),
        SHA1MSG1 => sha1msg1(a, b),
        SHA1MSG2 => sha1msg2(a, b),
        SHA256RNDS2 => sha256rnds2(a, b, ctx.xmm(0)),
        SHA256MSG1 => sha256msg1(a, b),
        _ => sha256msg2(a, b),
    };
    ctx.set_dst(insn, r);
    Ok(())
}

/// Selects the SHA handlers.
pub fn lookup(insn: &Instruction) -> Option<Handler> {
    use Mnemonic::*;
    Some(match insn.mnemonic() {
        Sha1rnds4 => exec::<{ op::SHA1RNDS4 }>,
        Sha1nexte => exec::<{ op::SHA1NEXTE }>,
        Sha1msg1 => exec::<{ op::SHA1MSG1 }>,
        Sha1msg2 => exec::<{ op::SHA1MSG2 }>,
        Sha256rnds2 => exec::<{ op::SHA256RNDS2 }>,
        Sha256msg1 => exec::<{ op::SHA256MSG1 }>,
        Sha256msg2 => exec::<{ op::SHA256MSG2 }>,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Four big-endian message words, the first in the high dword (the
    /// order OpenSSL's and Intel's code load them in).
    fn group(w: &[u32]) -> u128 {
        pack([w[3], w[2], w[1], w[0]])
    }

    fn words(block: &[u8; 64]) -> Vec<u32> {
        block
            .chunks(4)
            .map(|c| u32::from_be_bytes(c.try_into().unwrap()))
            .collect()
    }

    fn abc_block() -> [u8; 64] {
        let mut block = [0u8; 64];
        block[..3].copy_from_slice(b"abc");
        block[3] = 0x80;
        block[63] = 24;
        block
    }

    /// SHA-256's compression of one block, with the instructions used as
    /// Intel's reference code uses them.
    fn sha256_block(state: &mut [u32; 8], block: &[u8; 64]) {
        const K: [u32; 64] = [
            0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
            0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
            0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
            0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
            0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
            0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
            0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
            0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
            0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
            0xc67178f2,
        ];
        let [a, b, c, dd, e, f, g, h] = *state;
        // SHA-256 groups hold W(4i) in the low dword.
        let w0 = words(block);
        let mut w: Vec<u128> = w0
            .chunks(4)
            .map(|c| pack([c[0], c[1], c[2], c[3]]))
            .collect();
        for i in 4..16 {
            let m1 = sha256msg1(w[i - 4], w[i - 3]);
            // + W(t-7): dwords 1..3 of group i-2 and dword 0 of group i-1.
            let w7 = (w[i - 2] >> 32) | (w[i - 1] << 96);
            let sum = pack([0, 1, 2, 3].map(|j| d(m1, j).wrapping_add(d(w7, j))));
            w.push(sha256msg2(sum, w[i - 1]));
        }
        let mut abef = pack([f, e, b, a]);
        let mut cdgh = pack([h, g, dd, c]);
        for (i, grp) in w.iter().enumerate() {
            let wk = pack([0, 1, 2, 3].map(|j| d(*grp, j).wrapping_add(K[4 * i + j as usize])));
            let two = sha256rnds2(cdgh, abef, wk);
            let four = sha256rnds2(abef, two, wk >> 64);
            (abef, cdgh) = (four, two);
        }
        let out = [
            d(abef, 3),
            d(abef, 2),
            d(cdgh, 3),
            d(cdgh, 2),
            d(abef, 1),
            d(abef, 0),
            d(cdgh, 1),
            d(cdgh, 0),
        ];
        for (s, o) in state.iter_mut().zip(out) {
            *s = s.wrapping_add(o);
        }
    }

    #[test]
    fn sha256_of_abc() {
        let mut state = [
            0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
            0x5be0cd19,
        ];
        sha256_block(&mut state, &abc_block());
        assert_eq!(
            state,
            [
                0xba7816bf, 0x8f01cfea, 0x414140de, 0x5dae2223, 0xb00361a3, 0x96177a9c, 0xb410ff61,
                0xf20015ad
            ]
        );
    }

    /// SHA-1's compression of one block with the instructions.
    fn sha1_block(state: &mut [u32; 5], block: &[u8; 64]) {
        let w0 = words(block);
        let mut w: Vec<u128> = w0.chunks(4).map(group).collect();
        for i in 4..20 {
            let m = sha1msg1(w[i - 4], w[i - 3]) ^ w[i - 2];
            w.push(sha1msg2(m, w[i - 1]));
        }
        let [a, b, c, dd, e] = *state;
        let mut abcd = pack([dd, c, b, a]);
        let mut prev = 0;
        for (i, grp) in w.iter().enumerate() {
            let we = if i == 0 {
                grp + (u128::from(e) << 96)
            } else {
                sha1nexte(prev, *grp)
            };
            prev = abcd;
            abcd = sha1rnds4(abcd, we, (i / 5) as u8);
        }
        let e_out = d(sha1nexte(prev, 0), 3);
        let out = [d(abcd, 3), d(abcd, 2), d(abcd, 1), d(abcd, 0), e_out];
        for (s, o) in state.iter_mut().zip(out) {
            *s = s.wrapping_add(o);
        }
    }

    #[test]
    fn sha1_of_abc() {
        let mut state = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0];
        sha1_block(&mut state, &abc_block());
        assert_eq!(
            state,
            [0xa9993e36, 0x4706816a, 0xba3e2571, 0x7850c26c, 0x9cd0d89d]
        );
    }
}
