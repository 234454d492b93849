//! The kernel object and its run loop.
//!
//! `run(budget)` is the whole interface for executing guests: the
//! scheduler (`tasks/sched.rs`) picks a runnable thread (deterministic round
//! robin), puts its CPU state in the machine's CPU slot and delivers its
//! pending signals; the interpreter runs it until it stops or its time
//! slice is spent, and the stop is handled: a system call goes to
//! `syscall::dispatch`, an exception becomes a signal. It returns when the
//! budget is spent, when every thread waits (the host then waits for input
//! or the earliest deadline and calls `run` again), or when the first
//! process has exited. It never blocks the host thread.
//!
//! Process ids: the first process is pid 1000, like a program started from
//! a shell, and its parent pid is 0: its parent is outside the machine, and
//! Linux reports a parent in an outer pid namespace as 0. Orphans are
//! reparented to pid 1, a virtual init that is not a guest process and
//! reaps them at once. `run` reports `Exited` when the first process ends,
//! whatever its descendants still do (as a shell returns to its prompt).

use crate::abi::errno::Errno;
use crate::abi::oflag;
use crate::memory::elf::{Elf, ElfError};
use crate::memory::loader::{self, StackInfo};
use crate::signals::{self, SigInfo};
use crate::tasks::cputime::Mode;
use crate::tasks::process::{ProcState, Process, StopReport, Thread};
use crate::vfs::dev::{DevFs, StreamHandle};
use crate::vfs::file::{Fd, FdTable, OpenFile};
use crate::vfs::proc::{ProcFs, ProcInfo};
use crate::vfs::{FileHandle, FileSystem, Location, OpenMode, Resolve, SharedStream, Vfs};
use std::cell::RefCell;
use std::collections::HashSet;
use std::rc::Rc;
use wax_cpu::state::reg;
use wax_cpu::{CpuState, DecodeCache, Executor, Exit, GuestMem, Machine};
use wax_devices::{Clock, Entropy, Timespec};

/// What the host provides.
pub struct Host {
    pub clock: Box<dyn Clock>,
    pub entropy: Rc<RefCell<dyn Entropy>>,
    pub stdin: SharedStream,
    pub stdout: SharedStream,
    pub stderr: SharedStream,
    /// The guest's root directory.
    pub root: Box<dyn FileSystem>,
}

/// Kernel settings.
#[derive(Clone, Copy, Debug)]
pub struct Config {
    /// Bytes of machine memory (guest frames are committed lazily).
    pub memory: u64,
    /// Log every system call (through `tracing`, target "strace").
    pub strace: bool,
    /// The user and group the guest runs as (AT_UID, getuid, access).
    pub uid: u32,
    pub gid: u32,
}

/// How the (last) process ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// exit/exit_group with this status.
    Exited(u8),
    /// Killed by a signal; `fault` has the address and EIP for CPU faults.
    Killed {
        signal: u32,
        fault: Option<(u32, u32)>,
    },
}

impl ExitStatus {
    /// The status a shell reports: the exit code or 128 + signal.
    pub fn shell_status(self) -> i32 {
        match self {
            ExitStatus::Exited(c) => i32::from(c),
            ExitStatus::Killed { signal, .. } => 128 + signal as i32,
        }
    }
}

/// Why `run` returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunStatus {
    /// The budget is spent; call `run` again.
    Budget,
    /// Every thread waits: for input, or until the monotonic `deadline`.
    Idle { deadline: Option<Timespec> },
    /// The process has ended.
    Exited(ExitStatus),
}

/// A failed exec.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error("{0}")]
    Elf(#[from] ElfError),
    #[error("cannot open the program interpreter {path}: {errno}")]
    Interp { path: String, errno: Errno },
    #[error("the program interpreter {path}: {error}")]
    BadInterp { path: String, error: ElfError },
    #[error("guest machine memory exhausted")]
    NoMemory,
}

/// The program to exec.
pub struct Program<'a> {
    /// The executable's contents.
    pub file: &'a mut dyn FileHandle,
    pub size: u64,
    /// What /proc/self/exe shows.
    pub exe_path: Vec<u8>,
    pub argv: Vec<Vec<u8>>,
    pub envp: Vec<Vec<u8>>,
    /// AT_EXECFN: the path as given.
    pub execfn: Vec<u8>,
    /// The initial working directory (a guest path; "/" if it does not
    /// resolve).
    pub cwd: Vec<u8>,
}

/// The kernel: the machine and what runs on it, then one struct per
/// subsystem's state, then the facts of the whole run. The running
/// thread is `current`, private here and changed only by `switch_to`: the
/// rest of the kernel reaches it through `thread()`, `proc()` and `mem()`.
pub struct Kernel {
    // The machine.
    pub(crate) machine: Machine,
    /// What runs guest code: the interpreter, or a JIT (`Kernel::with_executor`).
    executor: Box<dyn Executor>,
    /// Bytes of machine memory, as the guest is told (`machine_bytes`).
    memory: u64,
    /// Guest instructions run since boot, all processes (host statistics).
    executed: u64,
    /// The host clock, boot time and the TSC (`tasks/time.rs`).
    pub(crate) time: crate::tasks::time::Time,
    pub(crate) entropy: Rc<RefCell<dyn Entropy>>,

    // The subsystems.
    /// Mounts and file systems (`vfs/`).
    pub(crate) vfs: Vfs,
    /// Processes and threads (`tasks/table.rs`).
    pub(crate) tasks: crate::tasks::table::Tasks,
    /// The thread whose state is in the machine's CPU slot (`current()`).
    current: usize,
    /// Sockets, FIFOs, anonymous files' poll context, lost write-backs
    /// (`files/state.rs`).
    pub(crate) files: crate::files::state::Files,
    /// The terminals, the host's streams, host-raised signals
    /// (`tty/terminals.rs`).
    pub(crate) terminals: crate::tty::terminals::Terminals,
    /// What procfs shows of the kernel (shared with `vfs/proc.rs`).
    pub(crate) proc_info: Rc<RefCell<ProcInfo>>,
    /// Process slot whose facts /proc/self shows now.
    pub(crate) shown: Option<usize>,

    // The run.
    /// The user and group the guest runs as (`Config`).
    pub(crate) uid: u32,
    pub(crate) gid: u32,
    /// Log every system call (`Config::strace`).
    pub(crate) strace: bool,
    /// System call numbers already reported as unimplemented.
    pub(crate) reported: HashSet<u32>,
    /// How the first process ended, once it has (`run` returns it).
    pub(crate) exit: Option<ExitStatus>,
    /// The host and domain names (`uname`, `sethostname`, /proc/sys/kernel).
    pub(crate) uts: crate::vfs::proc::uname::Names,
    /// The buffer read(2) and write(2) copy through, kept between calls
    /// so that a call neither allocates nor zeroes one ([`Kernel::take_scratch`]).
    scratch: Vec<u8>,
}

impl Kernel {
    /// A kernel whose machine runs every instruction in the interpreter.
    pub fn new(host: Host, config: Config) -> Kernel {
        let machine = Machine::new(config.memory);
        Kernel::with_executor(host, config, machine, Box::new(wax_cpu::Interpreter))
    }

    /// A kernel on `machine` (whose size wins over `config.memory`) whose
    /// guest code runs through `executor`: a JIT brings its own machine,
    /// since its engine owns machine memory.
    pub fn with_executor(
        host: Host,
        config: Config,
        machine: Machine,
        executor: Box<dyn Executor>,
    ) -> Kernel {
        let input = StreamHandle {
            input: Some(host.stdin.clone()),
            output: None,
        };
        let out = |s: &SharedStream| StreamHandle {
            input: None,
            output: Some(s.clone()),
        };
        let console = [input, out(&host.stdout), out(&host.stderr)];
        let tty = StreamHandle {
            input: Some(host.stdin),
            output: Some(host.stdout),
        };
        let proc_info = Rc::new(RefCell::new(ProcInfo::default()));
        let mut vfs = Vfs::new(host.root);
        // Mounting on the root directory cannot fail: "/dev" and "/proc"
        // are plain names in it.
        let ttys = crate::tty::TtysRef::default();
        let devfs = DevFs::new(host.entropy.clone(), tty, ttys.clone());
        let _ = vfs.mount(b"/dev", Box::new(devfs));
        let _ = vfs.mount(b"/proc", Box::new(ProcFs::new(proc_info.clone())));
        // What the guest is told (sysinfo, /proc/meminfo): the machine as
        // built, which the host may have clamped (wasm32 has less).
        let memory = machine.bytes();
        Kernel {
            machine,
            executor,
            memory,
            executed: 0,
            time: crate::tasks::time::Time::new(host.clock),
            entropy: host.entropy,
            vfs,
            tasks: Default::default(),
            current: 0,
            files: Default::default(),
            terminals: crate::tty::terminals::Terminals::new(ttys, console),
            proc_info,
            shown: None,
            uid: config.uid,
            gid: config.gid,
            strace: config.strace,
            reported: HashSet::new(),
            exit: None,
            uts: Default::default(),
            scratch: Vec::new(),
        }
    }

    /// Errors of writes through shared file mappings that could not be
    /// kept and that no fsync or msync has reported to the guest yet (one
    /// per file): data the guest may believe written. The CLI exits with
    /// a failure status when this is not empty.
    pub fn lost_writes(&self) -> Vec<Errno> {
        self.files.lost_writes()
    }

    /// Loads `prog` as the first process (pid 1000, like a shell's child).
    /// A `#!` script runs its interpreter, found in the guest root.
    pub fn exec(&mut self, prog: Program<'_>) -> Result<(), ExecError> {
        let shebang = crate::tasks::exec::script_interpreter(prog.file, prog.size);
        if let Ok(Some((interp, arg))) = shebang {
            let argv =
                crate::tasks::exec::script_argv(interp.clone(), arg, prog.exe_path, prog.argv);
            let err = |errno| ExecError::Interp {
                path: String::from_utf8_lossy(&interp).into_owned(),
                errno,
            };
            let mut found = self
                .find_program(&Location::root(), interp.clone(), argv)
                .map_err(err)?;
            let script = Program {
                file: found.file.as_mut(),
                size: found.size,
                exe_path: found.exe,
                argv: found.argv,
                envp: prog.envp,
                execfn: prog.execfn,
                cwd: prog.cwd,
            };
            return self.exec_first(script);
        }
        self.exec_first(prog)
    }

    fn exec_first(&mut self, prog: Program<'_>) -> Result<(), ExecError> {
        let mut space = self.machine.new_space().map_err(|_| ExecError::NoMemory)?;
        let cwd = self
            .vfs
            .resolve(&Location::root(), &prog.cwd, Resolve::Follow)
            .unwrap_or_default();
        let result = self.load(&mut space, prog);
        let (entry, sp, exe, brk) = match result {
            Ok(v) => v,
            Err(e) => {
                self.machine.free_space(space);
                return Err(e);
            }
        };
        let comm = comm_of(&exe);
        let mut gpr = [0; 8];
        gpr[reg::ESP] = sp;
        let cpu = CpuState {
            eip: entry,
            gpr,
            ..CpuState::default()
        };
        let pid = FIRST_PID;
        let process = Process {
            pid,
            ppid: 0,
            pgid: pid,
            sid: pid,
            space,
            cache: DecodeCache::new(),
            mm: crate::memory::mm::Mm {
                brk_start: brk,
                brk,
                ..Default::default()
            },
            fds: self.console_fds(),
            cwd,
            root: Location::root(),
            umask: 0o022,
            cred: crate::tasks::cred::Creds::new(self.uid, self.gid),
            actions: std::array::from_fn(|i| signals::SigAction {
                handler: if self.tasks.first_ignored() >> i & 1 != 0 {
                    signals::SIG_IGN
                } else {
                    signals::SIG_DFL
                },
                ..signals::SigAction::default()
            }),
            rlimits: self.tasks.first_rlimits(),
            exe,
            state: ProcState::Alive,
            exit_signal: signals::SIGCHLD,
            pending: Default::default(),
            stopped: false,
            report: StopReport::default(),
            pdeathsig: 0,
            personality: crate::abi::persona::PER_LINUX,
            itimers: Default::default(),
            timers: Vec::new(),
            vfork_parent: None,
            lent: false,
            times: Default::default(),
            child_times: Default::default(),
            did_exec: true,
            child_events: 0,
            running: std::rc::Rc::new(std::cell::Cell::new(true)),
        };
        let first = self.tasks.add_first(process);
        *self.machine.cpu() = cpu.clone();
        self.current = self
            .tasks
            .add_first_thread(Thread::new(pid, first, cpu, comm));
        self.show_process(first);
        Ok(())
    }

    fn console_fds(&self) -> FdTable {
        let mut t = FdTable::default();
        for (i, h) in self.terminals.streams().iter().enumerate() {
            let flags = if i == 0 {
                oflag::O_RDONLY
            } else {
                oflag::O_WRONLY
            };
            let file = OpenFile {
                node: None,
                location: None,
                handle: Some(Box::new(h.clone())),
                offset: 0,
                flags,
                dir_entries: None,
            };
            let fd = Fd {
                file: Rc::new(RefCell::new(file)),
                cloexec: false,
            };
            // Slots 0-2 of a new table are free and below NOFILE.
            let _ = t.set(i as u32, fd);
        }
        t
    }

    /// Loads the images and the stack: (entry, esp, exe path, brk start).
    pub(crate) fn load(
        &mut self,
        space: &mut wax_cpu::AddressSpace,
        prog: Program<'_>,
    ) -> Result<(u32, u32, Vec<u8>, u32), ExecError> {
        let elf = Elf::parse(prog.file, prog.size)?;
        let image = loader::load_image(&mut self.machine, space, prog.file, &elf, true)?;
        let mut entry = image.entry;
        let mut interp_base = 0;
        if let Some(path) = &elf.interp {
            let (base, e) = self.load_interp(space, path)?;
            interp_base = base;
            entry = e;
        }
        let mut random = [0u8; 16];
        self.entropy.borrow_mut().fill(&mut random);
        let info = StackInfo {
            argv: &prog.argv,
            envp: &prog.envp,
            execfn: &prog.execfn,
            random,
            hwcap: wax_cpu::cpuid::hwcap(),
            interp_base,
            uid: self.uid,
            gid: self.gid,
        };
        let sp = loader::build_stack(&mut self.machine, space, &image, &info)?;
        let brk = crate::memory::mm::page_up(u64::from(image.end)) as u32;
        Ok((entry, sp, prog.exe_path, brk))
    }

    /// Loads PT_INTERP from the guest root: (load address, entry).
    fn load_interp(
        &mut self,
        space: &mut wax_cpu::AddressSpace,
        path: &[u8],
    ) -> Result<(u32, u32), ExecError> {
        let name = String::from_utf8_lossy(path).into_owned();
        let err = |errno| ExecError::Interp {
            path: name.clone(),
            errno,
        };
        let loc = self
            .vfs
            .resolve(&Location::root(), path, Resolve::Follow)
            .map_err(err)?;
        let (m, ino) = self.vfs.node(&loc);
        let size = self.vfs.fs_query(m).getattr(ino).map_err(err)?.size;
        let how = OpenMode {
            read: true,
            ..OpenMode::default()
        };
        let mut f = self.vfs.fs_query(m).open(ino, how).map_err(err)?;
        let bad = |error| ExecError::BadInterp {
            path: name.clone(),
            error,
        };
        let elf = Elf::parse(f.as_mut(), size).map_err(bad)?;
        let img =
            loader::load_image(&mut self.machine, space, f.as_mut(), &elf, false).map_err(bad)?;
        Ok((img.bias, img.entry))
    }

    /// Raises a signal from the host (e.g. ^C → SIGINT) in the process.
    pub fn raise(&mut self, sig: u32) {
        self.terminals.raise(sig);
    }

    /// Slot of the running thread: the one whose state is in the machine's
    /// CPU slot. Only `switch_to` changes it, so the two never disagree.
    pub(crate) fn current(&self) -> usize {
        self.current
    }

    /// The CPU state of thread `t`, wherever it is.
    pub(crate) fn cpu_of(&mut self, t: usize) -> &mut wax_cpu::CpuState {
        if t == self.current {
            self.machine.cpu()
        } else {
            &mut self.tasks.thread_mut(t).cpu
        }
    }

    /// Puts thread `t` in the machine's CPU slot.
    pub(crate) fn switch_to(&mut self, t: usize) {
        if t != self.current {
            let cpu = self.machine.cpu().clone();
            self.tasks.thread_mut(self.current).cpu = cpu;
            *self.machine.cpu() = self.tasks.thread(t).cpu.clone();
            self.current = t;
        }
        let p = self.tasks.thread(t).process;
        self.show_process(p);
    }

    /// The process of the running thread.
    pub(crate) fn proc(&mut self) -> &mut Process {
        let p = self.thread().process;
        self.tasks.proc_mut(p)
    }

    pub(crate) fn thread(&mut self) -> &mut Thread {
        self.tasks.thread_mut(self.current)
    }

    /// Guest memory of the running process.
    pub(crate) fn mem(&mut self) -> GuestMem<'_> {
        let p = self.thread().process;
        self.machine.mem(&mut self.tasks.proc_mut(p).space)
    }

    /// Runs guest code for about `budget` instructions.
    pub fn run(&mut self, budget: u64) -> RunStatus {
        let mut left = budget;
        // When the last stretch of guest work ended (`tasks/cputime.rs`).
        let mut mark = None;
        loop {
            if let Some(s) = self.exit {
                return RunStatus::Exited(s);
            }
            self.take_host_signals();
            self.pump_ttys();
            self.fire_timers();
            if let Some(s) = self.exit {
                return RunStatus::Exited(s);
            }
            if let Some(idle) = self.schedule() {
                return idle;
            }
            if left == 0 {
                return RunStatus::Budget;
            }
            let t = self.current;
            let slice = self.tasks.thread(t).slice.min(left);
            let p = self.tasks.thread(t).process;
            let proc = self.tasks.proc_mut(p);
            let start = mark.unwrap_or_else(|| self.time.monotonic());
            // EFLAGS.TF: one instruction at a time in the interpreter, so
            // neither its block loop nor translated code looks at it.
            let stepping = self.machine.cpu().eflags & wax_cpu::state::flag::TF != 0;
            let r = if stepping {
                let (cpu, mut mem) = self.machine.guest(&mut proc.space);
                wax_cpu::step(cpu, &mut mem, &mut proc.cache)
            } else {
                let m = &mut self.machine;
                self.executor
                    .run(m, &mut proc.space, &mut proc.cache, slice)
            };
            let user_end = self.charge(t, Mode::User, start);
            mark = Some(user_end);
            self.executed += r.executed;
            left = left.saturating_sub(r.executed);
            let th = self.tasks.thread_mut(t);
            th.slice = th.slice.saturating_sub(r.executed);
            match r.exit {
                Exit::Syscall => {
                    self.vfs.next_call(user_end);
                    crate::syscall::dispatch(self);
                }
                Exit::Exception(e) => self.fault(e),
                Exit::Rdtsc => self.rdtsc(),
                Exit::BudgetSpent | Exit::SingleStep => {}
            }
            // The single-step trap follows an instruction that completed
            // with TF set. INT 0x80 is not followed by one: like other
            // software interrupts it clears TF on the way in, and the
            // kernel's return restores it only for the next instruction.
            if stepping && matches!(r.exit, Exit::BudgetSpent | Exit::Rdtsc) {
                self.single_step_trap();
            } else if matches!(r.exit, Exit::BudgetSpent | Exit::SingleStep) {
                // No kernel work: the next stretch of user time starts here.
                continue;
            }
            mark = Some(self.charge(t, Mode::System, user_end));
        }
    }

    /// Completes RDTSC: the monotonic clock at `cpuid::TSC_MHZ` ticks per
    /// microsecond, never the same value twice.
    fn rdtsc(&mut self) {
        let tsc = self.time.rdtsc();
        let c = self.machine.cpu();
        c.gpr[reg::EAX] = tsc as u32;
        c.gpr[reg::EDX] = (tsc >> 32) as u32;
    }

    /// SIGTRAP (TRAP_TRACE) after a single step, as Linux's #DB handler
    /// sends it: forced, trap number 1, the EIP reached in si_addr.
    fn single_step_trap(&mut self) {
        let eip = self.machine.cpu().eip;
        let cr2 = self.thread().trap.cr2;
        self.thread().trap = crate::signals::frame::Trap {
            trapno: crate::signals::frame::TRAPNO_DEBUG,
            err: 0,
            cr2,
        };
        self.force_signal(signals::single_step(eip).into());
    }

    fn take_host_signals(&mut self) {
        while let Some(sig) = self.terminals.take_host_signal() {
            // ^C goes to the foreground process group, as a tty's does.
            let pgid = self.tasks.proc(self.tasks.first()).pgid;
            let info = signals::Siginfo::kernel(sig);
            for p in self.tasks.group(pgid) {
                self.signal_process(p, info);
            }
        }
    }

    /// A CPU exception in the running thread.
    fn fault(&mut self, e: wax_cpu::Exception) {
        if let wax_cpu::Exception::PageFault(f) = e {
            if f.out_of_memory {
                let p = self.thread().process;
                self.out_of_memory(p);
                return;
            }
        }
        let info = signals::from_fault(e, self.machine.cpu());
        let info = self.fault_signal(info);
        let present = match e {
            wax_cpu::Exception::PageFault(f) => self.page_was_present(f),
            _ => false,
        };
        let cr2 = self.thread().trap.cr2;
        self.thread().trap = crate::signals::frame::Trap::of(e, present, cr2);
        self.force_signal(info.into());
    }

    /// Whether Linux would have had the page of fault `f` present, which
    /// its error code reports (bit 0). Not for unmapped and PROT_NONE
    /// pages. An instruction fetch from a readable page finds it present:
    /// Linux handles the first, not-present fault like a read and maps
    /// the page, then the retried fetch hits NX. A write to a read-only
    /// page finds it present once it has been touched (Wax: once it has a
    /// frame).
    fn page_was_present(&mut self, f: wax_cpu::PageFault) -> bool {
        if !f.protection {
            return false;
        }
        let p = self.thread().process;
        let space = &self.tasks.proc(p).space;
        let readable = self
            .machine
            .prot_at(space, f.addr)
            .is_some_and(|prot| prot != wax_cpu::Prot::NONE);
        let touched = f.access == wax_cpu::mem::Access::Exec
            || self.machine.frame_of(space, f.addr).is_some();
        readable && touched
    }

    /// Applies a signal the kernel raises for the current process
    /// (SIGPIPE from a write; `eip` set: a fault at that instruction).
    pub(crate) fn send_signal(&mut self, info: SigInfo, eip: Option<u32>) {
        if eip.is_some() {
            self.force_signal(info.into());
            return;
        }
        let mut full: signals::Siginfo = info.into();
        if full.code == signals::SI_USER {
            full.fields = [self.proc().pid, self.uid, 0, 0, 0];
        }
        let t = self.current;
        self.signal_thread(t, full);
    }

    /// Sets the resource limits (getrlimit's `(soft, hard)` by RLIMIT_*
    /// number, `u64::MAX` for unlimited) the first process starts with,
    /// as a process started by the host would inherit them. Call before
    /// starting it.
    pub fn set_rlimits(&mut self, limits: crate::tasks::process::Rlimits) {
        self.tasks.set_first_rlimits(limits);
    }

    /// Signals the first process starts with ignored (bit N-1 for signal
    /// N), as a program inherits SIG_IGN dispositions across exec (`nohup`,
    /// a background job's SIGINT). SIGKILL and SIGSTOP cannot be ignored.
    /// Call before [`Kernel::exec`].
    pub fn set_ignored_signals(&mut self, set: u64) {
        let unignorable = 1 << (signals::SIGKILL - 1) | 1 << (signals::SIGSTOP - 1);
        self.tasks.set_first_ignored(set & !unignorable);
    }

    /// How internet sockets reach anything (loopback unless told).
    /// Call before the first program runs.
    pub fn set_network(&mut self, mode: crate::files::inet::NetMode) {
        self.files.net = crate::files::inet::Net::new(mode);
    }

    /// The kernel's monotonic clock (for hosts computing wait times).
    pub fn monotonic(&self) -> Timespec {
        self.time.monotonic()
    }

    /// Bytes of machine memory.
    pub(crate) fn machine_bytes(&self) -> u64 {
        self.memory
    }

    /// The I/O buffer, at least `len` bytes long. Its bytes are left over
    /// from earlier calls: a caller uses only what it filled (a handle's
    /// `read_at` reports how much it wrote). Give it back with
    /// [`Kernel::put_scratch`].
    pub(crate) fn take_scratch(&mut self, len: usize) -> Vec<u8> {
        let mut b = std::mem::take(&mut self.scratch);
        if b.len() < len {
            b.resize(len, 0);
        }
        b
    }

    pub(crate) fn put_scratch(&mut self, b: Vec<u8>) {
        if b.len() > self.scratch.len() {
            self.scratch = b;
        }
    }

    /// Statistics for diagnostics: guest instructions run since boot.
    pub fn instructions(&self) -> u64 {
        self.executed
    }

    /// What runs guest code, and its counters (`wax run --stats`).
    pub fn executor(&self) -> &dyn Executor {
        &*self.executor
    }

    /// Statistics for diagnostics: frames of machine memory in use.
    pub fn frames_in_use(&self) -> u32 {
        self.machine.frames().frames_in_use()
    }
}

/// The pid of the first process.
pub const FIRST_PID: u32 = 1000;

/// The initial thread name: the program's file name, at most 15 bytes.
pub(crate) fn comm_of(exe: &[u8]) -> [u8; 16] {
    let base = exe.rsplit(|&b| b == b'/').next().unwrap_or(exe);
    let mut c = [0u8; 16];
    let n = base.len().min(15);
    c[..n].copy_from_slice(&base[..n]);
    c
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::memory::elf::tests::{tiny_elf, Bytes};
    use crate::vfs::memfs::MemFs;
    use wax_devices::{FixedClock, MemStream, SeededEntropy};

    /// write(1, "hi\n", 3); exit(7) through the whole path: loader, run
    /// loop, dispatch, console stream.
    /// A kernel on an empty in-memory root that has exec'd `code` (wrapped
    /// by `tiny_elf`) with the given stdin and stdout.
    pub(crate) fn boot(
        code: &[u8],
        stdin: Rc<RefCell<MemStream>>,
        stdout: Rc<RefCell<MemStream>>,
    ) -> Kernel {
        let host = Host {
            clock: Box::new(FixedClock::default()),
            entropy: Rc::new(RefCell::new(SeededEntropy(1))),
            stdin,
            stdout,
            stderr: Rc::new(RefCell::new(MemStream::default())),
            root: Box::new(MemFs::new()),
        };
        let config = Config {
            memory: 64 << 20,
            strace: false,
            uid: 0,
            gid: 0,
        };
        let mut k = Kernel::new(host, config);
        let bytes = tiny_elf(code);
        let size = bytes.len() as u64;
        let prog = Program {
            file: &mut Bytes(bytes),
            size,
            exe_path: b"/prog".to_vec(),
            argv: vec![b"prog".to_vec()],
            envp: Vec::new(),
            execfn: b"prog".to_vec(),
            cwd: b"/".to_vec(),
        };
        k.exec(prog).unwrap();
        k
    }

    #[test]
    fn runs_a_program_to_exit() {
        let mut code = vec![
            0xb8, 4, 0, 0, 0, // mov eax, 4 (write)
            0xbb, 1, 0, 0, 0, // mov ebx, 1
            0xb9, 0x76, 0x80, 0x04, 0x08, // mov ecx, msg (0x08048054 + 34)
            0xba, 3, 0, 0, 0, // mov edx, 3
            0xcd, 0x80, // int 0x80
            0xb8, 1, 0, 0, 0, // mov eax, 1 (exit)
            0xbb, 7, 0, 0, 0, // mov ebx, 7
            0xcd, 0x80,
        ];
        code.extend_from_slice(b"hi\n");
        let out = Rc::new(RefCell::new(MemStream::default()));
        let mut k = boot(
            &code,
            Rc::new(RefCell::new(MemStream::default())),
            out.clone(),
        );
        assert_eq!(k.run(1000), RunStatus::Exited(ExitStatus::Exited(7)));
        assert_eq!(out.borrow().output, b"hi\n");
    }

    /// A read from an empty console parks the thread; input wakes it.
    #[test]
    fn stdin_read_parks_until_input() {
        let code = [
            0xb8, 3, 0, 0, 0, // mov eax, 3 (read)
            0xbb, 0, 0, 0, 0, // mov ebx, 0
            0x89, 0xe1, // mov ecx, esp
            0x83, 0xe9, 0x10, // sub ecx, 16
            0xba, 1, 0, 0, 0, // mov edx, 1
            0xcd, 0x80, // int 0x80
            0x89, 0xc3, // mov ebx, eax
            0xb8, 1, 0, 0, 0, // mov eax, 1 (exit)
            0xcd, 0x80,
        ];
        let input = Rc::new(RefCell::new(MemStream::default()));
        let mut k = boot(
            &code,
            input.clone(),
            Rc::new(RefCell::new(MemStream::default())),
        );
        assert_eq!(k.run(1000), RunStatus::Idle { deadline: None });
        assert_eq!(k.run(1000), RunStatus::Idle { deadline: None });
        input.borrow_mut().input.extend(b"x");
        assert_eq!(k.run(1000), RunStatus::Exited(ExitStatus::Exited(1)));
    }
}
