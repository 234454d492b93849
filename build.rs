//! Links the `wax` binary as a position-dependent executable on Linux.
//!
//! As a PIE its 22,000 relative relocations (wasmtime's and Cranelift's
//! tables, vtables) were applied by ld.so at every start, touching and
//! copying every page of `.data.rel.ro`: about a tenth of the host time of
//! `wax run /bin/true`. Without PIE the linker resolves them once.

fn main() {
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    if os == "linux" && arch != "wasm32" {
        println!("cargo:rustc-link-arg-bin=wax=-no-pie");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
