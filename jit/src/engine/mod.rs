//! Engines that run translated pages.

#[cfg(feature = "wasmtime")]
pub mod wasmtime;
