//! The SHA extensions as wasm functions a module carries when its page
//! uses them: one per instruction (SHA1RNDS4 one per round group, whose
//! function and constant are the immediate's), each
//! `(dst, src, xmm0) -> result` on v128 values. The definitions they
//! follow, and are checked against in lockstep, are the interpreter's
//! (`wax_cpu::interp::sse::sha`).
//!
//! A call costs little next to a round (two of SHA-256's, four of
//! SHA-1's, about 60 wasm operations), and one copy of the rounds serves
//! the whole page (OpenSSL unrolls 32 SHA256RNDS2 per block).

use wasm_encoder::{Function, Instruction as I, ValType};

/// One SHA function of a module.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShaFn {
    /// SHA1RNDS4 with this round group (immediate & 3).
    Sha1Rnds4(u8),
    Sha1Nexte,
    Sha1Msg1,
    Sha1Msg2,
    Sha256Rnds2,
    Sha256Msg1,
    Sha256Msg2,
}

/// Type of every SHA function: `(dst, src, xmm0: v128) -> v128`. Added
/// to the type section only by modules that carry SHA functions.
pub const TYPE_SHA: u32 = 7;

// Parameters of every SHA function.
const A: u32 = 0;
const B: u32 = 1;
const K: u32 = 2;
/// First i32 local.
const L: u32 = 3;

/// Straight-line i32 code, built as expressions (each leaves one value).
type Code = Vec<I<'static>>;

fn get(l: u32) -> Code {
    vec![I::LocalGet(l)]
}

fn lane(v: u32, i: u8) -> Code {
    vec![I::LocalGet(v), I::I32x4ExtractLane(i)]
}

fn op(a: Code, b: Code, o: I<'static>) -> Code {
    let mut c = a;
    c.extend(b);
    c.push(o);
    c
}

fn add(a: Code, b: Code) -> Code {
    op(a, b, I::I32Add)
}

fn xor(a: Code, b: Code) -> Code {
    op(a, b, I::I32Xor)
}

fn and(a: Code, b: Code) -> Code {
    op(a, b, I::I32And)
}

fn or(a: Code, b: Code) -> Code {
    op(a, b, I::I32Or)
}

fn rotr(a: Code, n: i32) -> Code {
    op(a, vec![I::I32Const(n)], I::I32Rotr)
}

fn rotl(a: Code, n: i32) -> Code {
    op(a, vec![I::I32Const(n)], I::I32Rotl)
}

fn shr(a: Code, n: i32) -> Code {
    op(a, vec![I::I32Const(n)], I::I32ShrU)
}

fn konst(v: u32) -> Code {
    vec![I::I32Const(v as i32)]
}

/// A function body: `n` i32 locals after the parameters, then `code`.
struct Body {
    n: u32,
    code: Code,
}

impl Body {
    fn new(n: u32) -> Body {
        Body {
            n,
            code: Vec::new(),
        }
    }

    fn set(&mut self, l: u32, e: Code) {
        self.code.extend(e);
        self.code.push(I::LocalSet(l));
    }

    /// Returns the v128 of the four i32 locals `lanes` (lane 0 first).
    fn finish(mut self, lanes: [u32; 4]) -> Function {
        self.code.push(I::LocalGet(lanes[0]));
        self.code.push(I::I32x4Splat);
        for (i, &l) in lanes.iter().enumerate().skip(1) {
            self.code.push(I::LocalGet(l));
            self.code.push(I::I32x4ReplaceLane(i as u8));
        }
        self.simd()
    }

    /// Returns what `code` leaves on the stack.
    fn simd(self) -> Function {
        let mut f = Function::new([(self.n, ValType::I32)]);
        for i in &self.code {
            f.instruction(i);
        }
        f.instruction(&I::End);
        f
    }
}

/// The function of `which`.
pub fn function(which: ShaFn) -> Function {
    match which {
        ShaFn::Sha1Rnds4(group) => sha1rnds4(group),
        ShaFn::Sha1Nexte => sha1nexte(),
        ShaFn::Sha1Msg1 => sha1msg1(),
        ShaFn::Sha1Msg2 => sha1msg2(),
        ShaFn::Sha256Rnds2 => sha256rnds2(),
        ShaFn::Sha256Msg1 => sha256msg1(),
        ShaFn::Sha256Msg2 => sha256msg2(),
    }
}

const SHA1_K: [u32; 4] = [0x5a82_7999, 0x6ed9_eba1, 0x8f1b_bcdc, 0xca62_c1d6];

fn sha1rnds4(group: u8) -> Function {
    let (a, b, c, d, e, t) = (L, L + 1, L + 2, L + 3, L + 4, L + 5);
    let mut f = Body::new(6);
    for (l, i) in [(a, 3), (b, 2), (c, 1), (d, 0)] {
        f.set(l, lane(A, i));
    }
    for i in 0..4u8 {
        let fun = match group & 3 {
            // Ch: ((c ^ d) & b) ^ d.
            0 => xor(and(xor(get(c), get(d)), get(b)), get(d)),
            // Maj: (b & c) | (d & (b | c)).
            2 => or(and(get(b), get(c)), and(get(d), or(get(b), get(c)))),
            _ => xor(xor(get(b), get(c)), get(d)),
        };
        let mut sum = add(fun, rotl(get(a), 5));
        sum = add(sum, lane(B, 3 - i));
        sum = add(sum, konst(SHA1_K[usize::from(group & 3)]));
        if i > 0 {
            sum = add(sum, get(e));
        }
        f.set(t, sum);
        f.set(e, get(d));
        f.set(d, get(c));
        f.set(c, rotl(get(b), 30));
        f.set(b, get(a));
        f.set(a, get(t));
    }
    f.finish([d, c, b, a])
}

fn sha1nexte() -> Function {
    let mut f = Body::new(0);
    f.code
        .extend([I::LocalGet(B), I::LocalGet(B), I::I32x4ExtractLane(3)]);
    f.code.extend(rotl(lane(A, 3), 30));
    f.code.extend([I::I32Add, I::I32x4ReplaceLane(3)]);
    f.simd()
}

/// Byte indices of an `i8x16.shuffle` taking dwords `d` of `a` (0-3)
/// and `b` (4-7).
fn dwords(d: [u8; 4]) -> [u8; 16] {
    std::array::from_fn(|i| d[i / 4] * 4 + (i % 4) as u8)
}

fn sha1msg1() -> Function {
    // a ^ [b2, b3, a0, a1], lane 0 first.
    let mut f = Body::new(0);
    f.code.extend([
        I::LocalGet(A),
        I::LocalGet(A),
        I::LocalGet(B),
        I::I8x16Shuffle(dwords([6, 7, 0, 1])),
        I::V128Xor,
    ]);
    f.simd()
}

fn sha1msg2() -> Function {
    let (w16, w17, w18, w19) = (L, L + 1, L + 2, L + 3);
    let mut f = Body::new(4);
    f.set(w16, rotl(xor(lane(A, 3), lane(B, 2)), 1));
    f.set(w17, rotl(xor(lane(A, 2), lane(B, 1)), 1));
    f.set(w18, rotl(xor(lane(A, 1), lane(B, 0)), 1));
    f.set(w19, rotl(xor(lane(A, 0), get(w16)), 1));
    f.finish([w19, w18, w17, w16])
}

fn big_sigma0(x: u32) -> Code {
    xor(xor(rotr(get(x), 2), rotr(get(x), 13)), rotr(get(x), 22))
}

fn big_sigma1(x: u32) -> Code {
    xor(xor(rotr(get(x), 6), rotr(get(x), 11)), rotr(get(x), 25))
}

fn small_sigma1(x: Code) -> Code {
    // x is evaluated three times: callers pass a local or a lane.
    xor(xor(rotr(x.clone(), 17), rotr(x.clone(), 19)), shr(x, 10))
}

fn sha256rnds2() -> Function {
    let [a, b, c, d, e, f_, g, h, t] = std::array::from_fn(|i| L + i as u32);
    let mut f = Body::new(9);
    for (l, v, i) in [
        (a, B, 3),
        (b, B, 2),
        (c, A, 3),
        (d, A, 2),
        (e, B, 1),
        (f_, B, 0),
        (g, A, 1),
        (h, A, 0),
    ] {
        f.set(l, lane(v, i));
    }
    for i in 0..2 {
        // Ch: ((f ^ g) & e) ^ g.
        let ch = xor(and(xor(get(f_), get(g)), get(e)), get(g));
        let t1 = add(add(add(ch, big_sigma1(e)), lane(K, i)), get(h));
        f.set(t, t1);
        f.set(h, get(g));
        f.set(g, get(f_));
        f.set(f_, get(e));
        f.set(e, add(get(t), get(d)));
        // Maj: (a & b) | (c & (a | b)).
        let maj = or(and(get(a), get(b)), and(get(c), or(get(a), get(b))));
        f.set(t, add(add(get(t), maj), big_sigma0(a)));
        f.set(d, get(c));
        f.set(c, get(b));
        f.set(b, get(a));
        f.set(a, get(t));
    }
    f.finish([f_, e, b, a])
}

/// σ0 of each lane of the v128 on the stack, kept in `x`.
fn small_sigma0_lanes(x: u32) -> Code {
    let rot = |n: u32| {
        vec![
            I::LocalGet(x),
            I::I32Const(n as i32),
            I::I32x4ShrU,
            I::LocalGet(x),
            I::I32Const(32 - n as i32),
            I::I32x4Shl,
            I::V128Or,
        ]
    };
    let mut c = rot(7);
    c.extend(rot(18));
    c.push(I::V128Xor);
    c.extend([I::LocalGet(x), I::I32Const(3), I::I32x4ShrU, I::V128Xor]);
    c
}

fn sha256msg1() -> Function {
    // a + σ0([a1, a2, a3, b0]); K's parameter is free for the shuffle.
    let mut f = Body::new(0);
    f.code.extend([
        I::LocalGet(A),
        I::LocalGet(A),
        I::LocalGet(B),
        I::I8x16Shuffle(dwords([1, 2, 3, 4])),
        I::LocalSet(K),
    ]);
    f.code.extend(small_sigma0_lanes(K));
    f.code.push(I::I32x4Add);
    f.simd()
}

fn sha256msg2() -> Function {
    let (w16, w17, w18, w19) = (L, L + 1, L + 2, L + 3);
    let mut f = Body::new(4);
    f.set(w16, add(lane(A, 0), small_sigma1(lane(B, 2))));
    f.set(w17, add(lane(A, 1), small_sigma1(lane(B, 3))));
    f.set(w18, add(lane(A, 2), small_sigma1(get(w16))));
    f.set(w19, add(lane(A, 3), small_sigma1(get(w17))));
    f.finish([w16, w17, w18, w19])
}
