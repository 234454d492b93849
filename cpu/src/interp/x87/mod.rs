//! (placeholder being filled in; no handlers yet)

use super::ctx::Handler;
use iced_x86::Instruction;

/// Selects handlers of this group.
pub fn lookup(_insn: &Instruction) -> Option<Handler> {
    None
}
