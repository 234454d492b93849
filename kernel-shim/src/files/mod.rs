//! Files that are not in a file system: pipes and FIFOs, eventfd, timerfd,
//! epoll, inotify, pidfd, netlink, AF_UNIX sockets (`socket/`) and internet sockets
//! (`inet/`).
//!
//! Each is a `vfs::FileHandle` in a descriptor table. Every open file
//! answers `FileHandle::poll()`; `readiness.rs` is what an anonymous file
//! needs from the kernel to answer it (the time, the asking thread's
//! pending signals) and `anon.rs` what fstat and /proc show for one.
//! `state.rs` is what the kernel keeps for them (`Kernel::files`): the
//! AF_UNIX names, the internet stack, the FIFOs, that poll context and
//! the shared mappings' lost write-backs.

pub mod anon;
pub mod epoll;
pub mod eventfd;
pub mod fifo;
pub mod inet;
pub mod inotify;
pub mod netlink;
pub mod pidfd;
pub mod pipe;
pub mod readiness;
pub mod socket;
pub mod state;
pub mod timerfd;
