//! Shared pieces of Wax's benchmarks.
//!
//! `guest` builds small guest programs in a fresh machine so criterion
//! benches can measure the interpreter in isolation (no kernel, no I/O);
//! `elf` finds the code of a real binary for the decoding bench. The
//! comparison harness is the `wax-bench` binary (src/main.rs).

pub mod elf;
pub mod guest;

/// A real static i386 program for the benches that need one: the busybox
/// that `scripts/setup.sh` unpacks.
pub fn busybox() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../build/busybox/bin/busybox")
}
