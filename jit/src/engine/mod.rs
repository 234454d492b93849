//! Engines that run translated pages.

#[cfg(feature = "wasmtime")]
pub mod disk_cache;
#[cfg(feature = "wasmtime")]
pub mod wasmtime;

#[cfg(all(feature = "js", target_arch = "wasm32"))]
pub mod js;
