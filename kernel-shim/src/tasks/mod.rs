//! Tasks: processes and threads, and what runs them.
//!
//! `table.rs` is the task table (`Kernel::tasks`): the process and thread
//! slots, the pid allocator, the first process, the OOM kills and the
//! machine's CPU time. `process.rs` holds a process (address space,
//! decode cache, descriptor table, cwd, signal actions, limits) and a
//! thread; `task.rs` makes and ends them (fork, vfork, clone, exit,
//! zombies, reparenting); `sched.rs` picks the next thread and parks and
//! wakes them; `exec.rs` is execve; `futex.rs`, `timer.rs` (alarm,
//! itimers, POSIX timers), `cputime.rs` (CPU-time accounts), `cred.rs`
//! (user and group ids) and `oom.rs` (the kill when guest memory runs
//! out) complete a task's state.

pub mod cputime;
pub mod cred;
pub mod exec;
pub mod futex;
pub mod oom;
pub mod process;
pub mod sched;
pub mod table;
pub mod task;
pub mod time;
pub mod timer;
pub mod tls;
