//! Shared pieces of Wax's benchmarks.
//!
//! `guest` builds small guest programs in a fresh machine so criterion
//! benches can measure the interpreter in isolation (no kernel, no I/O).

pub mod guest;
