//! Wax's Linux kernel for i386 programs: processes and threads, the ELF
//! loader, the system call layer, the VFS, signals and time.
//!
//! The path of a system call: the interpreter stops at `int 0x80` with
//! `Exit::Syscall`; [`Kernel::run`] (kernel.rs) hands it to
//! `syscall::dispatch`, which finds the call's row in `syscall/table.rs`
//! and runs its handler (`syscall/fs.rs`, `fsmeta.rs`, `mem.rs`, ...).
//! Handlers reach guest memory through `wax_cpu::GuestMem` (a bad pointer
//! is EFAULT, never a panic), files through the [`vfs`] (paths are walked
//! by the kernel itself, confined to the guest root), and the host only
//! through the `wax_devices` traits given in [`Host`]. A handler returns a
//! value, an errno, or asks to park the thread; `run` returns to the host
//! when every thread waits.
//!
//! Pure: no host I/O, builds for `wasm32-unknown-unknown`.

mod abi;
pub mod anon;
pub mod cputime;
pub mod cred;
pub mod elf;
pub mod epoll;
pub mod eventfd;
pub mod exec;
pub mod ext2;
pub mod fifo;
pub mod futex;
pub mod inet;
pub mod inotify;
pub mod kernel;
pub mod loader;
pub mod mm;
pub mod oom;
pub mod pagecache;
pub mod pipe;
pub mod process;
pub mod readiness;
pub mod sched;
#[cfg(test)]
mod selftest;
pub mod sigdeliver;
pub mod sigframe;
pub mod signal;
pub mod signalfd;
pub mod socket;
pub mod syscall;
pub mod task;
pub mod timer;
pub mod timerfd;
pub mod tty;
pub mod vfs;

pub use abi::errno;
pub use abi::errno::Errno;
pub use elf::ElfError;
pub use kernel::{Config, ExecError, ExitStatus, Host, Kernel, Program, RunStatus};
pub use oom::OomKill;
