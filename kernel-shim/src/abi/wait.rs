//! wait options.

pub const WNOHANG: u32 = 1;
pub const WUNTRACED: u32 = 2;
pub const WEXITED: u32 = 4;
pub const WCONTINUED: u32 = 8;
pub const WNOWAIT: u32 = 0x0100_0000;
pub const WCLONE: u32 = 0x8000_0000;
pub const WALL: u32 = 0x4000_0000;
