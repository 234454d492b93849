//! Wax's browser front end — not built yet.
//!
//! This crate will hold the wasm-bindgen glue, the Worker that runs the
//! machine, and the page with xterm.js. For now it only proves the property
//! the browser build depends on: the CPU and the kernel compile for
//! `wasm32-unknown-unknown` and link into one library (CI checks it with
//! `cargo check --target wasm32-unknown-unknown`).

pub use wax_cpu;
pub use wax_kernel;
