//! Helpers shared by the anonymous-inode files (eventfd, timerfd,
//! signalfd, epoll, inotify): what fstat and /proc/PID/fd show for them.

use crate::vfs::Attr;

/// Linux's anon_inode: one inode for all, mode 0600 without a type.
pub fn anon_attr() -> Attr {
    Attr {
        // The anon_inodefs device.
        dev: 14,
        ino: 1,
        mode: 0o600,
        nlink: 1,
        blksize: 4096,
        ..Attr::default()
    }
}

/// What fstat shows for a socket: sockfs's device, inode `id` (the N of
/// `socket:[N]`).
pub fn socket_attr(id: u64, uid: u32, gid: u32) -> Attr {
    Attr {
        // sockfs's anonymous device.
        dev: 8,
        ino: id,
        mode: crate::abi::mode::S_IFSOCK | 0o777,
        nlink: 1,
        uid,
        gid,
        blksize: 4096,
        ..Attr::default()
    }
}

/// `anon_inode:[name]` (inotify's link has no brackets on Linux).
pub fn link_name(name: &str) -> Vec<u8> {
    if name == "inotify" {
        return b"anon_inode:inotify".to_vec();
    }
    format!("anon_inode:[{name}]").into_bytes()
}
