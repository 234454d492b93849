//! Auxiliary vector keys (AT_*).

pub const NULL: u32 = 0;
pub const PHDR: u32 = 3;
pub const PHENT: u32 = 4;
pub const PHNUM: u32 = 5;
pub const PAGESZ: u32 = 6;
pub const BASE: u32 = 7;
pub const FLAGS: u32 = 8;
pub const ENTRY: u32 = 9;
pub const UID: u32 = 11;
pub const EUID: u32 = 12;
pub const GID: u32 = 13;
pub const EGID: u32 = 14;
pub const PLATFORM: u32 = 15;
pub const HWCAP: u32 = 16;
pub const CLKTCK: u32 = 17;
pub const SECURE: u32 = 23;
pub const RANDOM: u32 = 25;
pub const EXECFN: u32 = 31;
