//! Wax's Linux kernel for i386 programs: processes and threads, the ELF
//! loader, the system call layer, the VFS, signals and time.
//!
//! The map, by folder, each with what it uses besides `abi/`:
//! - `abi/`: the Linux i386 ABI, numbers and layouts; uses nothing.
//! - `vfs/`: the `FileSystem` and `FileHandle` traits, open files and
//!   descriptor tables, mounts, the path walk, tmpfs, devfs, procfs; tty
//!   (devfs opens terminals, `FileHandle::terminal` names one).
//! - `ext2/`: the ext2 driver; vfs.
//! - `files/`: files that are not in a file system (pipes, FIFOs, eventfd,
//!   timerfd, epoll, inotify, AF_UNIX and internet sockets); vfs.
//! - `memory/`: mappings, the page cache, ELF and the loader; vfs.
//! - `signals/`: signal state, sending and delivery, frames, signalfd;
//!   files, vfs.
//! - `tasks/`: processes, threads, the scheduler, exec, futexes, timers,
//!   time, CPU time, credentials, the OOM kill; memory, signals, vfs.
//! - `tty/`: terminals, job control, the tty ioctls; tasks, signals, vfs,
//!   and syscall's result type.
//! - `kernel.rs`: the `Kernel` object and its run loop; everything.
//!   `Kernel` holds the machine, the executor, the clock and entropy, one
//!   struct per subsystem (`vfs`, `tasks`: `tasks/table.rs`, `files`:
//!   `files/state.rs`, `terminals`: `tty/terminals.rs`) and the run's
//!   facts (uid and gid, strace, exit status, host names); the running
//!   thread only through `thread()`, `proc()` and `mem()`.
//! - `syscall/`: one row per system call and the handlers; everything.
//!
//! `memory/pagecache.rs`, `signals/`, `tasks/` and `tty/` still add
//! methods to `Kernel` (they need several subsystems' state at once), so
//! those folders and `kernel.rs` still use each other.
//!
//! The path of a system call: the interpreter stops at `int 0x80` with
//! `Exit::Syscall`; [`Kernel::run`] (kernel.rs) hands it to
//! `syscall::dispatch`, which finds the call's row in `syscall/table.rs`
//! and runs its handler (`syscall/fs.rs`, `syscall/mem.rs`, ...).
//! Handlers reach guest memory through `wax_cpu::GuestMem` (a bad pointer
//! is EFAULT, never a panic), files through the [`vfs`] (paths are walked
//! by the kernel itself, confined to the guest root), and the host only
//! through the `wax_devices` traits given in [`Host`]. A handler returns a
//! value, an errno, or asks to park the thread; `run` returns to the host
//! when every thread waits.
//!
//! Pure: no host I/O, builds for `wasm32-unknown-unknown`.

mod abi;
pub mod ext2;
mod files;
mod kernel;
mod memory;
#[cfg(test)]
mod selftest;
mod signals;
mod syscall;
mod tasks;
mod tty;
pub mod vfs;

// What the CLI (`src/`), `web/` and `bench/` use; everything else is the
// kernel's own.
pub use abi::errno;
pub use abi::errno::{Errno, KResult};
pub use files::inet::NetMode;
pub use kernel::{Config, ExecError, ExitStatus, Host, Kernel, Program, RunStatus};
pub use memory::elf::ElfError;
pub use signals::{description as signal_description, name as signal_name};
pub use tasks::oom::OomKill;
pub use tasks::process::{default_rlimits, Rlimits};
