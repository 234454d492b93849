//! inotify: valid descriptors and watches, but no events.
//!
//! Watches are recorded (add_watch resolves the path, so a missing file
//! is ENOENT as on Linux, and watching the same node twice returns the
//! same descriptor), but Wax's file systems do not report changes, so a
//! read never returns an event: it blocks (EAGAIN with O_NONBLOCK) and
//! the descriptor never polls readable. Programs that use inotify as an
//! optimization (tail -f, editors, systemd-style watchers) keep working
//! through their fallbacks or timeouts.

use crate::abi::errno::{Errno, KResult};
use crate::vfs::{Attr, FileHandle, Ino, MountId};

#[derive(Default)]
pub struct Inotify {
    next_wd: u32,
    watches: Vec<(u32, (MountId, Ino), u32)>,
}

impl Inotify {
    /// The watch descriptor for a node (an existing one is updated:
    /// IN_MASK_ADD merges the masks).
    pub fn add(&mut self, node: (MountId, Ino), mask: u32) -> u32 {
        const IN_MASK_ADD: u32 = 0x2000_0000;
        if let Some(w) = self.watches.iter_mut().find(|w| w.1 == node) {
            w.2 = if mask & IN_MASK_ADD != 0 {
                w.2 | mask
            } else {
                mask
            };
            return w.0;
        }
        self.next_wd += 1;
        self.watches.push((self.next_wd, node, mask));
        self.next_wd
    }

    pub fn remove(&mut self, wd: u32) -> KResult<()> {
        let i = self
            .watches
            .iter()
            .position(|w| w.0 == wd)
            .ok_or(Errno::EINVAL)?;
        self.watches.remove(i);
        Ok(())
    }
}

impl FileHandle for Inotify {
    fn read_at(&mut self, _off: u64, _buf: &mut [u8]) -> KResult<usize> {
        Err(Errno::EAGAIN)
    }

    fn write_at(&mut self, _off: u64, _buf: &[u8]) -> KResult<usize> {
        Err(Errno::EINVAL)
    }

    fn is_stream(&self) -> bool {
        true
    }

    fn readable(&mut self) -> bool {
        false
    }

    fn poll(&mut self) -> u16 {
        0
    }

    fn proc_name(&self) -> Option<Vec<u8>> {
        Some(crate::files::anon::link_name("inotify"))
    }

    fn stat(&self) -> Option<Attr> {
        Some(crate::files::anon::anon_attr())
    }

    fn as_any(&mut self) -> Option<&mut dyn std::any::Any> {
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watches_are_per_node() {
        let mut i = Inotify::default();
        assert_eq!(i.add((0, 5), 1), 1);
        assert_eq!(i.add((0, 6), 1), 2);
        assert_eq!(i.add((0, 5), 2), 1);
        assert_eq!(i.remove(1), Ok(()));
        assert_eq!(i.remove(1), Err(Errno::EINVAL));
    }
}
