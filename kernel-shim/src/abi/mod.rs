//! The Linux i386 ABI: the numbers and layouts a program and the kernel
//! agree on (errno values, open flags, poll bits, clone and wait flags,
//! wait statuses, file modes, signal numbers and codes, auxv keys, mmap
//! flags, ioctl numbers, personality flags).
//!
//! A leaf: everything in the crate may use it, and it uses nothing in the
//! crate. Values are Linux's i386 ones; names are the C names, so a reader
//! can check them against the headers.

// The tables follow Linux's headers whole: a value may have no user yet.
#![allow(dead_code)]

pub mod auxv;
pub mod clone;
pub mod epoll;
pub mod errno;
pub mod ioctl;
pub mod mman;
pub mod mode;
pub mod oflag;
pub mod persona;
pub mod poll;
pub mod rename;
pub mod signal;
pub mod termios;
pub mod times;
pub mod wait;
pub mod wstatus;
