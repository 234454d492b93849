//! The kernel's file-side state that is not the VFS (`Kernel::files`):
//! the AF_UNIX name space, the internet stack, the FIFOs' pipes, the
//! context anonymous files poll against, and the write-back errors of
//! shared mappings no one has been told of yet.

use crate::abi::errno::Errno;
use crate::memory::pagecache::NodeKey;
use std::collections::HashMap;

#[derive(Default)]
pub(crate) struct Files {
    /// Names of bound AF_UNIX sockets.
    pub(crate) unix: crate::files::socket::Namespace,
    /// Internet sockets: the mode and the loopback stack.
    pub(crate) net: crate::files::inet::Net,
    /// The pipes of FIFO nodes with open ends.
    pub(crate) fifos: crate::files::fifo::Fifos,
    /// Clock and pending signals for anonymous files' poll (`readiness.rs`).
    pub(crate) pollctx: crate::files::readiness::PollRef,
    /// Shared-mapping write-backs that failed where nobody could be told
    /// (munmap, exit, a sync of another file), per file: the next fsync,
    /// fdatasync, sync_file_range or msync of that file returns the error
    /// (Linux's writeback error on the mapping), and the host learns of
    /// those never reported (`Kernel::lost_writes`).
    lost_writes: HashMap<NodeKey, Errno>,
}

impl Files {
    /// Keeps `e`, a failed write-back of file `node`, for its next sync
    /// (a later error replaces an earlier one).
    pub(crate) fn lose_write(&mut self, node: NodeKey, e: Errno) {
        self.lost_writes.insert(node, e);
    }

    /// The kept write-back error of file `node`, reported once.
    pub(crate) fn take_lost_write(&mut self, node: NodeKey) -> Option<Errno> {
        self.lost_writes.remove(&node)
    }

    /// The write-back errors no sync has reported, one per file.
    pub(crate) fn lost_writes(&self) -> Vec<Errno> {
        self.lost_writes.values().copied().collect()
    }
}
