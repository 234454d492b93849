//! The host side: builds `runner.c` as a static i386 program and feeds it
//! all cases through one pipe.

use super::case::{Case, Outcome};
use std::path::{Path, PathBuf};

/// Compiles the runner into the test's temporary directory.
pub fn build_runner() -> PathBuf {
    crate::harness::build_runner("differential/runner.c", "diff", "-O2")
}

/// Runs every case natively; one outcome per case.
pub fn run(runner: &Path, cases: &[Case]) -> Vec<Outcome> {
    let out = crate::harness::run_runner(runner, &[], encode(cases));
    let outcomes = decode(&out);
    assert_eq!(outcomes.len(), cases.len(), "runner lost cases");
    outcomes
}

/// `struct case_hdr` followed by the code and the two windows.
fn encode(cases: &[Case]) -> Vec<u8> {
    let mut v = Vec::with_capacity(cases.len() * 256);
    for c in cases {
        for r in c.regs {
            v.extend_from_slice(&r.to_le_bytes());
        }
        v.extend_from_slice(&c.eflags.to_le_bytes());
        let halves = [
            c.code.len() as u16,
            c.data.off,
            c.data.bytes.len() as u16,
            c.stack.off,
            c.stack.bytes.len() as u16,
            0,
        ];
        for h in halves {
            v.extend_from_slice(&h.to_le_bytes());
        }
        v.extend_from_slice(&c.code);
        v.extend_from_slice(&c.data.bytes);
        v.extend_from_slice(&c.stack.bytes);
    }
    v
}

/// `struct result` records with their diff words.
fn decode(mut b: &[u8]) -> Vec<Outcome> {
    let word = |b: &mut &[u8]| {
        let (w, rest) = b.split_at(4);
        *b = rest;
        u32::from_le_bytes(w.try_into().expect("4 bytes"))
    };
    let mut out = Vec::new();
    while !b.is_empty() {
        let signo = word(&mut b);
        let code = word(&mut b);
        let addr = word(&mut b);
        let eip = word(&mut b);
        let mut regs = [0; 8];
        for r in regs.iter_mut() {
            *r = word(&mut b);
        }
        let eflags = word(&mut b);
        let n = word(&mut b);
        let diff = (0..n).map(|_| word(&mut b)).collect();
        out.push(Outcome {
            signo,
            code,
            addr,
            eip,
            regs,
            eflags,
            diff,
        });
    }
    out
}
