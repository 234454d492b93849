//! personality(2): the execution domain (low byte) and the flags that
//! change what the kernel does for the process.

/// personality(PERSONALITY_QUERY) returns the persona without changing it.
pub const PERSONALITY_QUERY: u32 = 0xffff_ffff;
/// uname(2) reports a 2.6 release: 2.6.(60 + minor), then what followed
/// the version number.
pub const UNAME26: u32 = 0x002_0000;
/// No address randomisation (Wax's layout is fixed anyway).
pub const ADDR_NO_RANDOMIZE: u32 = 0x004_0000;
/// PROT_READ implies PROT_EXEC in mmap(2) and mprotect(2).
pub const READ_IMPLIES_EXEC: u32 = 0x040_0000;
pub const PER_LINUX: u32 = 0x0000;
pub const PER_LINUX32: u32 = 0x0008;
