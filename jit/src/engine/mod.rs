//! Engines that run translated pages.

#[cfg(feature = "wasmtime")]
pub mod disk_cache;
#[cfg(feature = "wasmtime")]
pub mod wasmtime;
