//! Memory: a process's mappings and how programs get into them.
//!
//! `mm.rs` tracks the mappings of a process (for /proc/PID/maps, msync
//! write-back and SIGBUS past the end of a file); `pagecache.rs` finds the
//! frame another process's shared mapping of a file page already holds;
//! `elf.rs` parses and validates ELF files and `loader.rs` maps them and
//! builds the initial stack. The page tables themselves are the CPU's
//! (`wax_cpu::AddressSpace`).

pub mod elf;
pub mod loader;
pub mod mm;
pub mod pagecache;
