//! The page cache for file mappings: which machine frame holds page
//! `index` of file node (mount, inode).
//!
//! The frames of MAP_SHARED file mappings are the cache: they are kept in
//! step with the file (read(2), write(2) and truncate write back and
//! reload them, see `syscall/mem.rs`), so a new mapping of the same node
//! takes the frame an existing shared mapping already holds instead of
//! copying the file again. Shared mappings then store into the same
//! frame, in any process; a MAP_PRIVATE mapping maps it copy-on-write,
//! so its untouched pages follow writes to the file as on Linux. The
//! cache is found by scanning the live processes' shared mappings: it
//! needs no eviction, since a frame leaves the cache when its last
//! shared mapping goes (partial: a node mapped only privately, or not
//! at all, has no cached frames, and its private pages are copies).

use crate::kernel::Kernel;
use crate::vfs::{Ino, MountId};
use wax_cpu::{GuestAddr, MachAddr, PAGE_SIZE};

/// A file node: (mount, node number).
pub type NodeKey = (MountId, Ino);

impl Kernel {
    /// Whether some live MAP_SHARED mapping of `node` may cache its pages
    /// (lets callers skip the per-page lookup for the common private map).
    pub(crate) fn node_cached(&self, node: NodeKey) -> bool {
        self.tasks.live_procs().any(|(_, p)| {
            p.mm.vmas.iter().any(|v| {
                v.shared
                    && v.file
                        .as_ref()
                        .is_some_and(|f| f.file.try_borrow().is_ok_and(|f| f.node == Some(node)))
            })
        })
    }

    /// The frame caching page `index` (file offset / PAGE_SIZE) of `node`,
    /// if a shared mapping of it has that page in memory.
    pub(crate) fn cached_frame(&mut self, node: NodeKey, index: u64) -> Option<MachAddr> {
        let off = index * u64::from(PAGE_SIZE);
        for (_, proc) in self.tasks.live_procs() {
            let hit = proc.mm.vmas.iter().find_map(|v| {
                let f = v.file.as_ref().filter(|_| v.shared)?;
                let ours = f.file.try_borrow().is_ok_and(|f| f.node == Some(node));
                let len = u64::from(v.end - v.start);
                let inside = ours && v.offset <= off && off < v.offset + len;
                inside.then(|| v.start + (off - v.offset) as u32)
            });
            let Some(addr) = hit else { continue };
            if let Some(frame) = self.machine.frame_of(&proc.space, GuestAddr(addr)) {
                return Some(frame);
            }
        }
        None
    }
}
