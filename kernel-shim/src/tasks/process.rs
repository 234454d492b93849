//! Processes and threads.
//!
//! A [`Process`] is a thread group: it owns an address space, its
//! decoded-code cache, the descriptor table, the working directory and the
//! signal actions, so threads created with CLONE_VM|CLONE_THREAD share all
//! of them by pointing at the same process. A [`Thread`] owns the CPU state
//! (saved here while another thread holds the machine's CPU slot), its
//! signal mask, its pending signals and what it waits for.
//!
//! Both live in plain vectors of the kernel, indexed by slot; a slot is
//! never moved, and a dead slot (a reaped process, an exited thread) is
//! reused by the next fork/clone. A process that has exited but was not
//! waited for is a zombie: its memory is released at once, its slot keeps
//! the wait status.

use crate::abi::times::CpuTime;
use crate::memory::mm::Mm;
use crate::signals::{AltStack, SigAction, SigQueue, NSIG};

use crate::vfs::file::FdTable;
use crate::vfs::{Location, MountId};
use wax_cpu::{AddressSpace, CpuState, DecodeCache};
use wax_devices::Timespec;

/// What a parked thread waits for. A parked thread's EIP is past its
/// `int 0x80` and EAX still holds the call number; waking either restarts
/// the call (EIP back onto `int 0x80`: the call looks again and completes)
/// or stores a result. Which one, and what a signal does to the wait
/// (EINTR or a transparent restart under SA_RESTART), is [`Wait::restarts`]
/// and [`Wait::interrupt`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wait {
    /// Data (or end of file) on a descriptor: restarts when readable.
    Readable { fd: u32 },
    /// Room in a descriptor (a full pipe): restarts when writable.
    Writable { fd: u32 },
    /// A sleep until a monotonic time; the call then returns `result`.
    /// `rem` is the user's `struct timespec *rem` (0: none) that an
    /// interrupted nanosleep fills with the time left.
    Until {
        deadline: Timespec,
        result: u32,
        rem: u32,
    },
    /// A futex word (woken by FUTEX_WAKE/REQUEUE or the deadline).
    Futex {
        addr: u32,
        bitset: u32,
        /// FUTEX_PRIVATE_FLAG: keyed by (process, address) even in a
        /// MAP_SHARED mapping, where a shared waiter is keyed by the memory.
        private: bool,
        deadline: Option<Timespec>,
    },
    /// poll/select: the interest set is in `Thread::poll_set`; restarts
    /// when one of them is ready or at the deadline.
    Poll { deadline: Option<Timespec> },
    /// wait4/waitid: restarts when a child changes state (when the
    /// process's `child_events` is no longer `seen`).
    Child { seen: u32 },
    /// pause, sigsuspend, rt_sigtimedwait: a signal in `Thread::wait_set`
    /// (or any deliverable one) ends the wait.
    Signal { deadline: Option<Timespec> },
    /// The parent of a vfork child, until the child execs or exits; the
    /// call then returns the child's pid.
    Vfork { child: u32 },
    /// sync, syncfs, fsync, fdatasync, sync_file_range or msync on a file
    /// system whose host saves asynchronously (the browser's IndexedDB):
    /// until the save of the sync's `ticket` ends; the call then returns 0,
    /// or ENOSPC/EIO if the data could not be kept. As Linux's wait for
    /// writeback, no signal ends it.
    Durable { mount: MountId, ticket: u64 },
}

/// How a system call that waited ends when a signal handler must run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interrupt {
    /// Linux's ERESTARTSYS: restart if the handler has SA_RESTART.
    RestartSys,
    /// ERESTARTNOHAND: always EINTR when a handler runs.
    NoHandler,
}

impl Wait {
    /// Whether the call is executed again when the wait ends (otherwise
    /// it returns a stored result).
    pub fn restarts(self) -> bool {
        matches!(
            self,
            Wait::Readable { .. } | Wait::Writable { .. } | Wait::Poll { .. } | Wait::Child { .. }
        )
    }

    pub fn interrupt(self) -> Interrupt {
        match self {
            Wait::Readable { .. } | Wait::Writable { .. } | Wait::Child { .. } => {
                Interrupt::RestartSys
            }
            _ => Interrupt::NoHandler,
        }
    }

    pub fn deadline(self) -> Option<Timespec> {
        match self {
            Wait::Until { deadline, .. } => Some(deadline),
            Wait::Futex { deadline, .. } | Wait::Poll { deadline } | Wait::Signal { deadline } => {
                deadline
            }
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThreadState {
    Runnable,
    Waiting(Wait),
    /// The thread has ended; its slot can be reused.
    Exited,
}

pub struct Thread {
    pub tid: u32,
    /// Index of the owning process in the kernel's table.
    pub process: usize,
    /// Saved CPU state while the thread is not in the machine's CPU slot.
    pub cpu: CpuState,
    pub state: ThreadState,
    pub sigmask: u64,
    /// Signals sent to this thread (tkill, tgkill, faults).
    pub pending: SigQueue,
    pub altstack: AltStack,
    pub clear_child_tid: u32,
    pub robust_list: (u32, u32),
    /// The thread name (PR_SET_NAME, /proc/PID/comm).
    pub comm: [u8; 16],
    /// The mask sigsuspend/ppoll/pselect replaced; the next handler frame
    /// saves it as the mask to restore, or the call's return restores it.
    pub saved_mask: Option<u64>,
    /// The absolute deadline of a call that parked and will be restarted
    /// (poll, select): the restarted call keeps it instead of starting its
    /// timeout again.
    pub restart_deadline: Option<Timespec>,
    /// Bytes a blocking write to a stream (pipe, FIFO, terminal) already
    /// moved before it parked for room: the restarted call goes on after
    /// them, and returns them if a signal ends the wait.
    pub write_done: u32,
    /// Descriptors and poll events a parked poll/select waits for.
    pub poll_set: Vec<(u32, u16)>,
    /// Signals rt_sigtimedwait waits for.
    pub wait_set: u64,
    /// Instructions left in the thread's time slice.
    pub slice: u64,
    /// The last fault (sigcontext trapno, err, cr2).
    pub trap: crate::signals::frame::Trap,
    /// CPU time of this thread (CLOCK_THREAD_CPUTIME_ID, RUSAGE_THREAD).
    pub times: CpuTime,
    /// Scheduling policy and static priority (`syscall/sched.rs`).
    pub sched: crate::tasks::sched::Policy,
}

impl Thread {
    /// A runnable thread of process slot `process`.
    pub fn new(tid: u32, process: usize, cpu: CpuState, comm: [u8; 16]) -> Thread {
        Thread {
            tid,
            process,
            cpu,
            state: ThreadState::Runnable,
            sigmask: 0,
            pending: SigQueue::default(),
            altstack: AltStack::default(),
            clear_child_tid: 0,
            robust_list: (0, 0),
            comm,
            saved_mask: None,
            restart_deadline: None,
            write_done: 0,
            poll_set: Vec::new(),
            wait_set: 0,
            slice: 0,
            trap: Default::default(),
            times: Default::default(),
            sched: Default::default(),
        }
    }

    pub fn alive(&self) -> bool {
        self.state != ThreadState::Exited
    }
}

/// Resource limits (RLIM_NLIMITS = 16), (soft, hard).
pub type Rlimits = [(u64, u64); 16];

/// The RLIMIT_* index of the descriptor limit.
pub const RLIMIT_NOFILE: usize = 7;

pub const RLIM_INFINITY: u64 = u64::MAX;

/// Linux's limits for a first process when the host gives none (a
/// browser); the CLI passes the host's own ([`crate::Kernel::set_rlimits`]).
pub fn default_rlimits() -> Rlimits {
    let mut r = [(RLIM_INFINITY, RLIM_INFINITY); 16];
    r[3] = (8 << 20, RLIM_INFINITY); // RLIMIT_STACK
    r[4] = (0, RLIM_INFINITY); // RLIMIT_CORE
    r[6] = (63_000, 63_000); // RLIMIT_NPROC
    r[7] = (1024, 4096); // RLIMIT_NOFILE
    r[8] = (8 << 20, 8 << 20); // RLIMIT_MEMLOCK
    r[11] = (63_000, 63_000); // RLIMIT_SIGPENDING
    r[12] = (819_200, 819_200); // RLIMIT_MSGQUEUE
    r[13] = (0, 0); // RLIMIT_NICE
    r[14] = (0, 0); // RLIMIT_RTPRIO
    r
}

/// Where a process is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProcState {
    Alive,
    /// Exited, not yet waited for; the wait status (see `wait_status`).
    Zombie(u32),
    /// Waited for (or auto-reaped); the slot can be reused.
    Reaped,
}

/// A state change a parent can still collect with WUNTRACED/WCONTINUED.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StopReport {
    /// Stopped by this signal, not yet reported.
    pub stopped: Option<u32>,
    /// Continued, not yet reported.
    pub continued: bool,
}

/// One interval timer (setitimer; also alarm). Times in nanoseconds of
/// the monotonic clock, or instructions for ITIMER_VIRTUAL/PROF.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ITimer {
    /// When it fires next (0: disarmed).
    pub next: i128,
    pub interval: i128,
}

/// A POSIX timer (timer_create).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PosixTimer {
    pub id: u32,
    pub clock: u32,
    pub signo: u32,
    /// sigev_value, passed as si_value.
    pub value: u32,
    /// SIGEV_THREAD_ID target (0: the process).
    pub tid: u32,
    /// SIGEV_NONE: nothing is sent.
    pub silent: bool,
    /// Monotonic nanoseconds of the next expiry (0: disarmed).
    pub next: i128,
    pub interval: i128,
    pub overrun: u32,
}

pub struct Process {
    pub pid: u32,
    pub ppid: u32,
    pub pgid: u32,
    pub sid: u32,
    pub space: AddressSpace,
    pub cache: DecodeCache,
    pub mm: Mm,
    pub fds: FdTable,
    pub cwd: Location,
    /// The root directory (chroot(2)): absolute paths start here.
    pub root: Location,
    pub umask: u32,
    /// User and group ids, groups, nice value (`cred.rs`).
    pub cred: crate::tasks::cred::Creds,
    pub actions: [SigAction; NSIG as usize],
    pub rlimits: Rlimits,
    /// The guest-visible path of the program (AT_EXECFN, /proc/self/exe).
    pub exe: Vec<u8>,
    pub state: ProcState,
    /// The signal the parent gets when this process exits (SIGCHLD, or
    /// what clone's low byte says).
    pub exit_signal: u32,
    /// Signals sent to the process as a whole (kill).
    pub pending: SigQueue,
    pub stopped: bool,
    pub report: StopReport,
    /// PR_SET_PDEATHSIG.
    pub pdeathsig: u32,
    /// personality(2): inherited by fork, kept across execve.
    pub personality: u32,
    /// ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF.
    pub itimers: [ITimer; 3],
    pub timers: Vec<PosixTimer>,
    /// A vfork child: the parent thread slot waiting for exec or exit.
    pub vfork_parent: Option<usize>,
    /// The address space is lent to a vfork child: no thread runs.
    pub lent: bool,
    /// Counts state changes of children (a parked wait4 looks again when
    /// it moves).
    pub child_events: u32,
    /// CPU time of the process's threads, living and gone (`cputime.rs`).
    pub times: CpuTime,
    /// CPU time of reaped children and their reaped descendants.
    pub child_times: CpuTime,
    /// Whether the process has called execve (setpgid on a child after
    /// its exec is EACCES).
    pub did_exec: bool,
    /// Whether it still runs, shared with its pidfds.
    pub running: crate::files::pidfd::Running,
}

impl Process {
    pub fn alive(&self) -> bool {
        self.state == ProcState::Alive
    }
}
