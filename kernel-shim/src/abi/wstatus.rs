//! Wait status encodings (what wait4 stores in `*wstatus`).

/// Exited normally with `code`.
pub fn exited(code: u32) -> u32 {
    (code & 0xff) << 8
}
/// Killed by `sig`, with the core-dump bit.
pub fn signaled(sig: u32, core: bool) -> u32 {
    sig | if core { 0x80 } else { 0 }
}
pub fn stopped(sig: u32) -> u32 {
    (sig << 8) | 0x7f
}
pub const CONTINUED: u32 = 0xffff;

#[cfg(test)]
mod tests {
    use super::*;

    /// The encodings glibc's W* macros decode.
    #[test]
    fn wait_status_encodings() {
        assert_eq!(exited(3), 0x300);
        assert_eq!(exited(256 + 1), 0x100);
        assert_eq!(signaled(11, true), 0x8b);
        assert_eq!(signaled(9, false), 9);
        assert_eq!(stopped(19), 0x137f);
    }
}
