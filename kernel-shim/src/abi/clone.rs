//! clone flags.

pub const CSIGNAL: u32 = 0xff;
pub const CLONE_VM: u32 = 0x100;
pub const CLONE_FS: u32 = 0x200;
pub const CLONE_FILES: u32 = 0x400;
pub const CLONE_SIGHAND: u32 = 0x800;
pub const CLONE_VFORK: u32 = 0x4000;
pub const CLONE_PARENT: u32 = 0x8000;
pub const CLONE_THREAD: u32 = 0x10000;
pub const CLONE_SETTLS: u32 = 0x80000;
pub const CLONE_PARENT_SETTID: u32 = 0x10_0000;
pub const CLONE_CHILD_CLEARTID: u32 = 0x20_0000;
pub const CLONE_CHILD_SETTID: u32 = 0x100_0000;
