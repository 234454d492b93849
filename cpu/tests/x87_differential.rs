//! x87 differential test: the same instruction bytes run on the host CPU
//! (an i386 runner built with `gcc -m32`) and in Wax's interpreter, on
//! thousands of generated operands, rounding modes, precisions and masks;
//! results (80-bit registers and memory destinations), the status word and
//! EFLAGS (FCOMI) are compared.
//!
//! `x87_core_matches_host` covers the exactly specified operations and
//! requires every bit to be equal. `x87_transcendentals_match_host` covers
//! FSIN/FCOS/FSINCOS/FPTAN/FPATAN/F2XM1/FYL2X/FYL2XP1, which Wax computes
//! correctly rounded (argument reduction with the 66-bit pi the SDM
//! documents) while the hardware is only documented to be within an ulp:
//! by default a result may differ by one ulp of the 64-bit significand and
//! the status words only in C1 (the round-up bit; and in underflow where a
//! result lies next to the smallest normal, or FSIN/FSINCOS/FPTAN's operand
//! is at the bottom of the normal range: `bottom_of_range`); the test prints how
//! many cases did (measured on an AMD EPYC host: F2XM1 about 3%,
//! FYL2X/FYL2XP1 2%, FPATAN 1.3%, FSIN/FCOS/FSINCOS below 1%). With
//! `WAX_TEST_STRICT=1` they must be identical except the deviations
//! documented in `cpu/src/interp/x87/transc.rs` (FPTAN of |x| < 2^-35).
//!
//! Options (environment; see `harness/mod.rs`): `WAX_TEST_SEED` (each test
//! mixes in its own constant), `WAX_TEST_CASES` (cases per operation,
//! default 1500), `WAX_TEST_STRICT`, `WAX_TEST_FORMS` (operations whose
//! runner name, e.g. `sin` or `addd`, contains the text).
//!
//! The test needs gcc with 32-bit multilib support (scripts/setup.sh).

#[path = "harness/mod.rs"]
mod harness;

use std::collections::BTreeMap;
use wax_cpu::{run, AddressSpace, DecodeCache, Exit, GuestAddr, Machine, Prot};

use harness::{Options, Rng, Tally};

const DATA: u32 = 0x1000_0000;
const CODE: u32 = 0x0040_0000;
const A_OFF: u32 = 0x00;
const B_OFF: u32 = 0x10;
const CW_OFF: u32 = 0x20;
const SW_OFF: u32 = 0x30;
const R_OFF: u32 = 0x40;
const R2_OFF: u32 = 0x50;
const M_OFF: u32 = 0x60;

const TRANSCENDENTAL: &[&str] = &[
    "sin", "cos", "sincos", "ptan", "patan", "f2xm1", "yl2x", "yl2xp1",
];

/// One generated input.
#[derive(Clone, Debug)]
struct Case {
    op: String,
    cw: u16,
    a: (u16, u64),
    b: (u16, u64),
}

impl Case {
    fn line(&self) -> String {
        format!(
            "{} {:04x} {:04x} {:016x} {:04x} {:016x}",
            self.op, self.cw, self.a.0, self.a.1, self.b.0, self.b.1
        )
    }
}

/// Builds the host runner.
fn build_runner() -> std::path::PathBuf {
    harness::build_runner("x87_differential/runner.c", "x87", "-O1")
}

/// The snippets' bytes, by name, as the runner holds them.
fn snippets(runner: &std::path::Path) -> BTreeMap<String, Vec<u8>> {
    let out = harness::run_runner(runner, &["dump"], Vec::new());
    let text = String::from_utf8(out).expect("utf8");
    text.lines()
        .map(|l| {
            let mut it = l.split_whitespace();
            let name = it.next().expect("name").to_string();
            let bytes = it
                .map(|h| u8::from_str_radix(h, 16).expect("hex"))
                .collect();
            (name, bytes)
        })
        .collect()
}

/// Runs all cases on the host; one output line per case.
fn run_host(runner: &std::path::Path, cases: &[Case]) -> Vec<String> {
    let input: String = cases.iter().map(|c| c.line() + "\n").collect();
    let out = harness::run_runner(runner, &[], input.into_bytes());
    let text = String::from_utf8(out).expect("utf8");
    let lines: Vec<String> = text.lines().map(str::to_string).collect();
    assert_eq!(lines.len(), cases.len(), "the runner lost cases");
    lines
}

/// Wax's side: the same snippets in the interpreter.
struct Wax {
    machine: Machine,
    space: AddressSpace,
    cache: DecodeCache,
    entry: BTreeMap<String, u32>,
}

impl Wax {
    fn new(snippets: &BTreeMap<String, Vec<u8>>) -> Wax {
        let mut machine = Machine::new(64 << 20);
        let mut space = machine.new_space().expect("space");
        machine.map(&mut space, GuestAddr(DATA), 0x2000, Prot::RW, false);
        machine.map(&mut space, GuestAddr(CODE), 0x10000, Prot::RWX, false);
        let mut entry = BTreeMap::new();
        let mut mem = machine.mem(&mut space);
        for (i, (name, bytes)) in snippets.iter().enumerate() {
            let at = CODE + 0x100 * i as u32;
            let mut code = bytes.clone();
            code.extend_from_slice(&[0xcd, 0x80]);
            mem.write_bytes(GuestAddr(at), &code).expect("code");
            entry.insert(name.clone(), at);
        }
        Wax {
            machine,
            space,
            cache: DecodeCache::new(),
            entry,
        }
    }

    fn put80(&mut self, off: u32, v: (u16, u64)) {
        let mut mem = self.machine.mem(&mut self.space);
        mem.write_u64(GuestAddr(DATA + off), v.1).expect("data");
        mem.write_u16(GuestAddr(DATA + off + 8), v.0).expect("data");
    }

    fn get80(&mut self, off: u32) -> String {
        let mut mem = self.machine.mem(&mut self.space);
        let sig = mem.read_u64(GuestAddr(DATA + off)).expect("data");
        let se = mem.read_u16(GuestAddr(DATA + off + 8)).expect("data");
        format!(" {se:04x} {sig:016x}")
    }

    fn run(&mut self, c: &Case) -> String {
        self.machine
            .mem(&mut self.space)
            .fill(GuestAddr(DATA), 0x70, 0x5a)
            .expect("data");
        self.put80(A_OFF, c.a);
        self.put80(B_OFF, c.b);
        let mut mem = self.machine.mem(&mut self.space);
        mem.write_u16(GuestAddr(DATA + CW_OFF), c.cw).expect("data");
        mem.write_u16(GuestAddr(DATA + CW_OFF + 2), 0x037f)
            .expect("data");
        let (cpu, mut mem) = self.machine.guest(&mut self.space);
        cpu.eip = self.entry[&c.op];
        cpu.gpr[4] = DATA + 0x1000;
        let r = run(cpu, &mut mem, &mut self.cache, 1000);
        if r.exit != Exit::Syscall {
            return format!("stopped with {:?}", r.exit);
        }
        let mut out = self.get80(R_OFF) + &self.get80(R2_OFF);
        let mut mem = self.machine.mem(&mut self.space);
        let sw = mem.read_u16(GuestAddr(DATA + SW_OFF)).expect("data");
        out += &format!(" {sw:04x} ");
        for i in 0..16 {
            let b = mem.read_u8(GuestAddr(DATA + M_OFF + i)).expect("data");
            out += &format!("{b:02x}");
        }
        out
    }
}

/// Special 80-bit encodings.
const SPECIALS: &[(u16, u64)] = &[
    (0x0000, 0),
    (0x7fff, 1 << 63),
    (0x7fff, 0xc000_0000_0000_0000),
    (0x7fff, 0xc000_0000_0000_0001),
    (0x7fff, 0x8000_0000_0000_0001),
    (0x7fff, 0xa000_0000_0000_0000),
    (0x0000, 1),
    (0x0000, 0x7fff_ffff_ffff_ffff),
    (0x0000, 0x8000_0000_0000_0000),
    (0x0001, 0x8000_0000_0000_0000),
    (0x7ffe, u64::MAX),
    (0x3fff, 0x8000_0000_0000_0000),
    (0x3fff, 0x4000_0000_0000_0000),
    (0x7fff, 0x4000_0000_0000_0000),
    (0x7fff, 0),
    (0x3ffe, u64::MAX),
    (0x403e, u64::MAX),
    (0x401d, 0x8000_0000_0000_0000),
];

/// A significand with the integer bit set, often with structured low bits
/// (halfway points of 24/53/64-bit rounding).
fn signif(rng: &mut Rng) -> u64 {
    let s = rng.u64() | 1 << 63;
    match rng.below_u64(6) {
        0 => s & !0x7ff | *rng.pick(&[0, 0x400, 0x3ff, 0x401]),
        1 => s & !0xff_ffff_ffff | *rng.pick(&[0, 0x80_0000_0000, 0x7f_ffff_ffff]),
        2 => s & (u64::MAX << rng.below_u64(64)),
        _ => s,
    }
}

/// An 80-bit operand from a mix of specials, edges and ordinary values.
fn operand(rng: &mut Rng, exp_lo: u16, exp_hi: u16) -> (u16, u64) {
    let sign = (rng.below_u64(2) as u16) << 15;
    let v = match rng.below_u64(12) {
        0 => *rng.pick(SPECIALS),
        1 => (0, signif(rng) >> rng.below_u64(64)),
        2 => (
            *rng.pick(&[1, 2, 0x7ffe, 0x7ffd, 0x3c01, 0x43fe, 0x3f81, 0x407e]),
            signif(rng),
        ),
        3 => {
            let i = rng.u64() >> rng.below_u64(64);
            if i == 0 {
                (0, 0)
            } else {
                let lz = i.leading_zeros() as u16;
                (0x403e - lz, i << lz)
            }
        }
        _ => (
            exp_lo + rng.below_u64(u64::from(exp_hi - exp_lo) + 1) as u16,
            signif(rng),
        ),
    };
    (v.0 | sign, v.1)
}

/// An operand that is not finite or has a biased exponent of at most
/// `max_exp` (|x| < 2^(max_exp - 0x3ffe)), or (for F2XM1's domain,
/// `max_exp` 0x3ffe) is exactly +-1.
fn within(rng: &mut Rng, max_exp: u16) -> (u16, u64) {
    loop {
        let v = operand(rng, 0x3f80, max_exp);
        let e = v.0 & 0x7fff;
        let one = max_exp == 0x3ffe && v.1 == 1 << 63 && e == 0x3fff;
        if e <= max_exp || e == 0x7fff || one {
            return v;
        }
    }
}

/// A value near `a` (for cancellation, ties and equal comparisons).
fn near(rng: &mut Rng, a: (u16, u64)) -> (u16, u64) {
    let d = rng.below_u64(8);
    let sign = (rng.below_u64(2) as u16) << 15;
    (a.0 ^ sign, a.1.wrapping_add(d).wrapping_sub(4) | 1 << 63)
}

fn control_word(rng: &mut Rng) -> u16 {
    let rc = rng.below_u64(4) as u16;
    let pc = *rng.pick(&[0u16, 2, 3, 3, 3, 1]);
    let masks = if rng.below_u64(6) == 0 {
        rng.below_u64(64) as u16
    } else {
        0x3f
    };
    0x40 | rc << 10 | pc << 8 | masks
}

/// Raw memory operands for the load forms (B's bytes are read as the
/// memory format).
fn raw_operand(rng: &mut Rng, op: &str) -> (u16, u64) {
    let bits = match rng.below_u64(4) {
        0 => *rng.pick(&[
            0,
            0x8000_0000_0000_0000,
            0x7ff0_0000_0000_0000,
            0x7ff8_0000_0000_0001,
            0x7ff0_0000_0000_0001,
            0x0000_0000_0000_0001,
            0x000f_ffff_ffff_ffff,
            0x7f80_0000,
            0x7fa0_0000,
            0x0000_0001,
            0x0080_0000,
        ]),
        1 => rng.u64() >> rng.below_u64(64),
        _ => rng.u64(),
    };
    let bits = if op == "bld" {
        // Valid packed BCD digits with a random sign.
        (0..18).fold(0u64, |acc, _| acc << 4 | rng.below_u64(10))
    } else {
        bits
    };
    (rng.u64() as u16 & 0x80ff, bits)
}

fn gen_case(rng: &mut Rng, op: &str) -> Case {
    let cw = control_word(rng);
    let (a, b) = match op {
        "ldd" | "lds" | "ild16" | "ild32" | "ild64" | "bld" | "addd" | "subrd" | "muls"
        | "divs" | "iadd32" | "idivr16" | "comd" | "comps" => {
            (operand(rng, 0x3f00, 0x4100), raw_operand(rng, op))
        }
        "sin" | "cos" | "sincos" | "ptan" => {
            let a = operand(rng, 0x3fc0, 0x403f);
            (a, operand(rng, 0x3f00, 0x4100))
        }
        // Finite operands outside the documented domains give undefined
        // results; keep those out.
        "f2xm1" => (within(rng, 0x3ffe), operand(rng, 0x3f00, 0x4100)),
        "yl2xp1" => (within(rng, 0x3ffd), operand(rng, 0x3f00, 0x4100)),
        "scale" => (operand(rng, 0x3f00, 0x4100), operand(rng, 0x3ff0, 0x400e)),
        _ => {
            let a = operand(rng, 0x3f00, 0x4100);
            let b = if rng.below_u64(4) == 0 {
                near(rng, a)
            } else {
                operand(rng, 0x3f00, 0x4100)
            };
            (a, b)
        }
    };
    Case {
        op: op.to_string(),
        cw,
        a,
        b,
    }
}

/// Differing cases per operation: the case, the host's and Wax's outputs.
type Diffs = BTreeMap<String, Vec<(Case, String, String)>>;

/// Generates cases for `ops` (those `WAX_TEST_FORMS` selects), runs both
/// sides, and returns the number of cases and the differing ones.
fn compare(ops: &[String], opts: &Options) -> (usize, Diffs) {
    let runner = build_runner();
    let snippets = snippets(&runner);
    let mut rng = Rng::new(opts.seed);
    let cases: Vec<Case> = ops
        .iter()
        .filter(|op| opts.selects(op))
        .flat_map(|op| {
            (0..opts.cases)
                .map(|_| gen_case(&mut rng, op))
                .collect::<Vec<_>>()
        })
        .collect();
    let host = run_host(&runner, &cases);
    let _ = std::fs::remove_file(&runner);
    let mut wax = Wax::new(&snippets);
    let mut diffs: Diffs = BTreeMap::new();
    for (c, h) in cases.iter().zip(host) {
        let w = wax.run(c);
        if w != h {
            diffs
                .entry(c.op.clone())
                .or_default()
                .push((c.clone(), h, w));
        }
    }
    (cases.len(), diffs)
}

fn report(diffs: &Diffs) {
    for (op, list) in diffs {
        eprintln!("{op}: {} differences", list.len());
        for (c, h, w) in list.iter().take(6) {
            eprintln!("  {}\n    host {h}\n    wax  {w}", c.line());
        }
    }
}

fn all_ops() -> Vec<String> {
    let r = build_runner();
    let ops = snippets(&r).into_keys().collect();
    let _ = std::fs::remove_file(&r);
    ops
}

/// Default seed; each test mixes in its own constant.
const DEFAULT_SEED: u64 = 0x005e_ed87;
const DEFAULT_CASES: usize = 1500;

#[test]
fn x87_core_matches_host() {
    let opts = Options::from_env(DEFAULT_SEED, DEFAULT_CASES);
    println!("{}", opts.describe("x87 core (exact; no undefined bits)"));
    let ops: Vec<String> = all_ops()
        .into_iter()
        .filter(|o| !TRANSCENDENTAL.contains(&o.as_str()))
        .collect();
    let (n, diffs) = compare(
        &ops,
        &Options {
            seed: opts.seed ^ 0xc0e,
            ..opts
        },
    );
    report(&diffs);
    let failed: usize = diffs.values().map(Vec::len).sum();
    println!("x87 core: {n} cases, {failed} differ");
    assert!(diffs.is_empty(), "x87 results differ from the host");
}

/// The 80-bit value of a result field ("se sig").
fn parse80(se: &str, sig: &str) -> (u16, u64) {
    (
        u16::from_str_radix(se, 16).expect("hex"),
        u64::from_str_radix(sig, 16).expect("hex"),
    )
}

/// Distance in ulps between two finite 80-bit values of the same sign,
/// else None. Denormals (exponent 0, integer bit clear) continue the
/// smallest binade downwards, so the largest denormal and the smallest
/// normal are one ulp apart.
fn ulps(a: (u16, u64), b: (u16, u64)) -> Option<u64> {
    if a == b {
        return Some(0);
    }
    if a.0 & 0x8000 != b.0 & 0x8000 || a.0 & 0x7fff == 0x7fff || b.0 & 0x7fff == 0x7fff {
        return None;
    }
    // The value's position among finite magnitudes: within one binade the
    // keys differ by the ulp count, and each binade holds 2^63 values.
    let key = |(se, sig): (u16, u64)| match se & 0x7fff {
        0 => u128::from(sig),
        e => (u128::from(e) - 1) * (1 << 63) + u128::from(sig),
    };
    u64::try_from(key(a).abs_diff(key(b))).ok()
}

/// FSIN, FSINCOS and FPTAN of an operand at the bottom of the normal range
/// (biased exponent 0 or 1: |x| < 2^-16381) where sin(x) or tan(x) rounds
/// below the smallest normal: an Intel host returns x itself and raises no
/// underflow; Wax returns the correctly rounded tiny result and raises
/// underflow (with UE unmasked, the biased result and ES). Both are within
/// the documented accuracy; the exception differs with it.
fn bottom_of_range(c: &Case) -> bool {
    matches!(c.op.as_str(), "sin" | "sincos" | "ptan") && c.a.0 & 0x7fff <= 1
}

/// FPTAN of |x| < 2^-35 is a documented deviation (see transc.rs).
fn documented_deviation(c: &Case) -> bool {
    c.op == "ptan" && c.a.0 & 0x7fff < 0x3fdc
}

/// Whether a transcendental's outputs differ only within the hardware's
/// documented accuracy: each 80-bit result within an ulp, the status words
/// equal but for C1.
fn within_an_ulp(h: &str, w: &str) -> bool {
    let (hf, wf): (Vec<&str>, Vec<&str>) = (
        h.split_whitespace().collect(),
        w.split_whitespace().collect(),
    );
    if hf.len() != 6 || wf.len() != 6 {
        return false;
    }
    let sw = |f: &[&str]| u16::from_str_radix(f[4], 16).ok();
    let (Some(hs), Some(ws)) = (sw(&hf), sw(&wf)) else {
        return false;
    };
    let results = [0, 2].iter().all(|&k| {
        let d = ulps(parse80(hf[k], hf[k + 1]), parse80(wf[k], wf[k + 1]));
        d.is_some_and(|d| d <= 1)
    });
    // A result an ulp away across the smallest normal is tiny on one side
    // only: underflow (UE, and ES and B when it is unmasked) follows the
    // result delivered (an Intel host returns sin(x) = x for tiny x where
    // the correctly rounded result is the largest denormal).
    let tiny = [hf[0], hf[2], wf[0], wf[2]]
        .iter()
        .any(|e| exponent(e) == 0);
    let free = 0x200 | if tiny { 0x10 | 0x80 | 0x8000 } else { 0 };
    results && hs & !free == ws & !free && hf[5] == wf[5]
}

/// The biased exponent of a "sign+exponent" field.
fn exponent(se: &str) -> u16 {
    u16::from_str_radix(se, 16).map_or(u16::MAX, |v| v & 0x7fff)
}

#[test]
fn x87_transcendentals_match_host() {
    let opts = Options::from_env(DEFAULT_SEED, DEFAULT_CASES);
    println!(
        "{}",
        opts.describe("x87 transcendentals (undefined: the last ulp and C1)")
    );
    let ops: Vec<String> = TRANSCENDENTAL.iter().map(|s| s.to_string()).collect();
    let (n, diffs) = compare(
        &ops,
        &Options {
            seed: opts.seed ^ 0x7a5ce,
            ..opts.clone()
        },
    );
    let mut tally = Tally::default();
    let mut bad = Diffs::new();
    for (op, list) in &diffs {
        let mut ulp = 0;
        for (c, h, w) in list {
            let near = within_an_ulp(h, w) || bottom_of_range(c);
            let allowed = documented_deviation(c) && near;
            tally.add(true, !near, u32::from(near));
            ulp += usize::from(near);
            if !near || (opts.strict && !allowed) {
                bad.entry(op.clone())
                    .or_default()
                    .push((c.clone(), h.clone(), w.clone()));
            }
        }
        println!(
            "  {op}: {} of {} cases differ, {ulp} by at most an ulp",
            list.len(),
            opts.cases
        );
    }
    tally.cases = n;
    tally.exact = n - tally.undefined_only - tally.defined;
    println!("x87 transcendentals: {}", tally.summary());
    report(&bad);
    assert!(
        bad.is_empty(),
        "x87 transcendentals differ from the host beyond what is allowed"
    );
}
