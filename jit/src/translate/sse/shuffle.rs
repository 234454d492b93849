//! Constant byte permutations: every shuffle, unpack, byte shift and
//! register-to-register partial move is one `i8x16.shuffle` of the
//! destination, the source and zeros, described by a [`byte_map`].

use super::super::gen::Gen;
use iced_x86::{Instruction, Mnemonic};
use wasm_encoder::Instruction as I;

/// Where a byte of a shuffle's result comes from.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Pick {
    Dst(u8),
    Src(u8),
    Zero,
}

/// Bytes `lanes` picks by 2-bit selectors of `imm`: lane `i` (of `width`
/// bytes, in a group starting at lane `base`) from lane `base + sel`.
fn pick4(out: &mut [Pick; 16], width: u8, base: u8, imm: u8, f: fn(u8) -> Pick) {
    for i in 0..4 {
        let sel = imm >> (2 * i) & 3;
        for k in 0..width {
            out[usize::from((base + i) * width + k)] = f((base + sel) * width + k);
        }
    }
}

/// The byte permutation of a [`Form::Shuffle`] instruction.
pub(super) fn byte_map(insn: &Instruction) -> Option<[Pick; 16]> {
    use Mnemonic::*;
    // 0 for the forms without an immediate.
    let imm = insn.immediate8();
    let mut out = [Pick::Zero; 16];
    let id = |i: u8| Pick::Dst(i);
    let unpack = |out: &mut [Pick; 16], w: u8, high: bool| {
        let base = if high { 8 / w } else { 0 };
        for i in 0..16 / w {
            for k in 0..w {
                let b = (base + i / 2) * w + k;
                out[usize::from(i * w + k)] = if i % 2 == 0 {
                    Pick::Dst(b)
                } else {
                    Pick::Src(b)
                };
            }
        }
    };
    let low = |out: &mut [Pick; 16], n: u8| {
        for (i, p) in out.iter_mut().enumerate() {
            let i = i as u8;
            *p = if i < n { Pick::Src(i) } else { Pick::Dst(i) };
        }
    };
    match insn.mnemonic() {
        Pshufd => pick4(&mut out, 4, 0, imm, Pick::Src),
        Pshuflw => {
            out = std::array::from_fn(|i| Pick::Src(i as u8));
            pick4(&mut out, 2, 0, imm, Pick::Src);
        }
        Pshufhw => {
            out = std::array::from_fn(|i| Pick::Src(i as u8));
            pick4(&mut out, 2, 4, imm, Pick::Src);
        }
        Punpcklbw => unpack(&mut out, 1, false),
        Punpcklwd => unpack(&mut out, 2, false),
        Punpckldq | Unpcklps => unpack(&mut out, 4, false),
        Punpcklqdq | Unpcklpd => unpack(&mut out, 8, false),
        Punpckhbw => unpack(&mut out, 1, true),
        Punpckhwd => unpack(&mut out, 2, true),
        Punpckhdq | Unpckhps => unpack(&mut out, 4, true),
        Punpckhqdq | Unpckhpd => unpack(&mut out, 8, true),
        Shufps => {
            pick4(&mut out, 4, 0, imm, id);
            let mut hi = [Pick::Zero; 16];
            pick4(&mut hi, 4, 0, imm, Pick::Src);
            out[8..].copy_from_slice(&hi[8..]);
        }
        Shufpd => {
            for k in 0..8 {
                out[usize::from(k)] = Pick::Dst((imm & 1) * 8 + k);
                out[usize::from(8 + k)] = Pick::Src((imm >> 1 & 1) * 8 + k);
            }
        }
        Palignr => {
            // Bytes imm.. of the 32-byte src:dst (src low).
            for i in 0..16u8 {
                let k = u16::from(imm) + u16::from(i);
                out[usize::from(i)] = match k {
                    0..=15 => Pick::Src(k as u8),
                    16..=31 => Pick::Dst(k as u8 - 16),
                    _ => Pick::Zero,
                };
            }
        }
        Pslldq => {
            for i in 0..16u8 {
                out[usize::from(i)] = match i.checked_sub(imm) {
                    Some(j) => Pick::Dst(j),
                    None => Pick::Zero,
                };
            }
        }
        Psrldq => {
            for i in 0..16u8 {
                let j = u16::from(i) + u16::from(imm);
                out[usize::from(i)] = if j < 16 {
                    Pick::Dst(j as u8)
                } else {
                    Pick::Zero
                };
            }
        }
        Movlhps => {
            out = std::array::from_fn(|i| {
                let i = i as u8;
                if i < 8 {
                    Pick::Dst(i)
                } else {
                    Pick::Src(i - 8)
                }
            });
        }
        Movhlps => {
            out = std::array::from_fn(|i| {
                let i = i as u8;
                if i < 8 {
                    Pick::Src(i + 8)
                } else {
                    Pick::Dst(i)
                }
            });
        }
        Movss => low(&mut out, 4),
        Movsd => low(&mut out, 8),
        _ => return None,
    }
    // i8x16.shuffle takes two vectors: dst, src and zero are three.
    let has = |f: fn(&Pick) -> bool| out.iter().any(f);
    let all3 = has(|p| matches!(p, Pick::Dst(_)))
        && has(|p| matches!(p, Pick::Src(_)))
        && has(|p| *p == Pick::Zero);
    (!all3).then_some(out)
}

impl Gen<'_> {
    pub(super) fn shuffle(&mut self, insn: &Instruction) {
        let map = byte_map(insn).expect("planned shuffle has a byte map");
        let uses = |want: fn(&Pick) -> bool| map.iter().any(want);
        let dst = uses(|p| matches!(p, Pick::Dst(_)));
        let src = uses(|p| matches!(p, Pick::Src(_)));
        // The two vectors: (dst, src), or the one used and zeros (a map
        // never needs all three).
        let first_is_src = src && !dst;
        let lanes: [u8; 16] = std::array::from_fn(|i| match map[i] {
            Pick::Dst(k) => k,
            Pick::Src(k) if first_is_src => k,
            Pick::Src(k) => k + 16,
            Pick::Zero => 16,
        });
        self.e.c(0);
        if first_is_src {
            self.vec_src(insn, 1);
        } else {
            self.xmm_load(insn.op0_register());
        }
        if dst && src {
            self.vec_src(insn, 1);
        } else {
            self.e.i(I::V128Const(0));
        }
        self.e.i(I::I8x16Shuffle(lanes));
        self.xmm_store(insn.op0_register());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use iced_x86::{Decoder, DecoderOptions};

    #[test]
    fn palignr_and_byte_shifts_map_bytes() {
        let d = |b: &[u8]| Decoder::with_ip(32, b, 0, DecoderOptions::NONE).decode();
        let m = byte_map(&d(&[0x66, 0x0f, 0x3a, 0x0f, 0xc1, 0x04])).unwrap();
        assert!(m[0] == Pick::Src(4) && m[11] == Pick::Src(15) && m[12] == Pick::Dst(0));
        let m = byte_map(&d(&[0x66, 0x0f, 0x3a, 0x0f, 0xc1, 0x14])).unwrap();
        assert!(m[0] == Pick::Dst(4) && m[12] == Pick::Zero);
        let m = byte_map(&d(&[0x66, 0x0f, 0x73, 0xf8, 0x03])).unwrap(); // pslldq xmm0, 3
        assert!(m[2] == Pick::Zero && m[3] == Pick::Dst(0));
    }
}
