//! Wax's guest CPU: state, machine memory and paging, and the interpreter.
//!
//! Pure: no I/O, no OS, no wasm engine. Builds for native targets and for
//! `wasm32-unknown-unknown`.

pub mod abi;
pub mod addr;
pub mod cpuid;
pub mod executor;
pub mod exit;
pub mod flags;
pub mod interp;
pub mod mem;
pub mod state;
pub mod undefined;

pub use addr::{GuestAddr, MachAddr, PAGE_SIZE};
pub use executor::{Executor, Interpreter};
pub use exit::{Exception, Exit};
pub use interp::{run, step, DecodeCache, RunResult};
pub use mem::{AddressSpace, GuestMem, Machine, PageFault, Prot};
pub use state::CpuState;
