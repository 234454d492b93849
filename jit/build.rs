//! Names the translator's build: a hash of every source the translator's
//! output can depend on (this crate, `wax-cpu`, whose ABI and decoding it
//! uses, and the lock file, which pins iced-x86 and wasm-encoder), as
//! `WAX_TRANSLATOR_ID`. The memo of translations (`src/memo.rs`) keys
//! its entries with it, so a module recalled without translating is one
//! this very translator made. Sources that hash the same give the same
//! id; any edit gives another (and only costs the memo's entries).

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn main() {
    let here = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let roots = [
        here.join("src"),
        here.join("Cargo.toml"),
        here.join("../cpu/src"),
        here.join("../cpu/Cargo.toml"),
        here.join("../Cargo.lock"),
    ];
    let mut all = Vec::new();
    for r in &roots {
        println!("cargo:rerun-if-changed={}", r.display());
        if r.is_dir() {
            files(r, &mut all);
        } else {
            all.push(r.clone());
        }
    }
    all.sort();
    // SipHash with fixed keys: the same for the same bytes within one
    // toolchain, which is all the id needs.
    let mut h = std::hash::DefaultHasher::new();
    for p in &all {
        p.strip_prefix(&here).unwrap_or(p).hash(&mut h);
        std::fs::read(p).unwrap_or_default().hash(&mut h);
    }
    println!("cargo:rustc-env=WAX_TRANSLATOR_ID={:016x}", h.finish());
    println!("cargo:rerun-if-changed=build.rs");
}
