//! Process calls: fork, vfork, clone, execve, exit, wait, ids, process
//! groups and sessions, pipes.

use super::fs::{at_start, install};
use super::{read_path, Args, Outcome, SysOutcome, SysResult};
use crate::abi::clone;
use crate::abi::errno::{Errno, KResult};
use crate::abi::oflag;
use crate::abi::wait;
use crate::files::pidfd::PidFd;
use crate::files::pipe::Pipe;
use crate::kernel::Kernel;
use crate::tasks::exec::ExecRequest;
use crate::tasks::process::Wait;
use crate::tasks::task::{CloneArgs, WaitFor};
use crate::vfs::file::OpenFile;
use wax_cpu::GuestAddr;

pub fn sys_fork(k: &mut Kernel, _a: &Args) -> SysOutcome {
    clone(
        k,
        CloneArgs {
            flags: crate::signals::SIGCHLD,
            ..CloneArgs::default()
        },
    )
}

pub fn sys_vfork(k: &mut Kernel, _a: &Args) -> SysOutcome {
    clone(
        k,
        CloneArgs {
            flags: clone::CLONE_VM | clone::CLONE_VFORK | crate::signals::SIGCHLD,
            ..CloneArgs::default()
        },
    )
}

/// i386 clone(flags, newsp, parent_tid, tls, child_tid).
pub fn sys_clone(k: &mut Kernel, a: &Args) -> SysOutcome {
    clone(
        k,
        CloneArgs {
            flags: a[0],
            newsp: a[1],
            parent_tid: a[2],
            tls: a[3],
            child_tid: a[4],
        },
    )
}

/// fork, vfork and clone: a vfork parent parks until the child execs or
/// exits.
fn clone(k: &mut Kernel, args: CloneArgs) -> SysOutcome {
    let tid = k.do_clone(args)?;
    if args.flags & clone::CLONE_VFORK != 0 && args.flags & clone::CLONE_THREAD == 0 {
        return Ok(Outcome::Block(Wait::Vfork { child: tid }));
    }
    Ok(Outcome::Done(tid))
}

/// Reads a NULL-terminated array of string pointers (argv, envp).
fn read_strings(k: &mut Kernel, mut at: u32) -> KResult<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    let mut total = 0;
    if at == 0 {
        return Ok(out);
    }
    loop {
        let p = k.mem().read_u32(GuestAddr(at))?;
        if p == 0 {
            return Ok(out);
        }
        let s = k
            .mem()
            .read_cstr(GuestAddr(p), crate::memory::loader::ARG_MAX)?
            .ok_or(Errno::E2BIG)?;
        total += s.len() + 1;
        if total > crate::memory::loader::ARG_MAX {
            return Err(Errno::E2BIG);
        }
        out.push(s);
        at += 4;
    }
}

pub fn sys_execve(k: &mut Kernel, a: &Args) -> SysOutcome {
    execveat(k, super::fs::AT_FDCWD, a[0], a[1], a[2], 0)
}

pub fn sys_execveat(k: &mut Kernel, a: &Args) -> SysOutcome {
    execveat(k, a[0], a[1], a[2], a[3], a[4])
}

const AT_EMPTY_PATH: u32 = 0x1000;

fn execveat(k: &mut Kernel, dirfd: u32, path: u32, argv: u32, envp: u32, flags: u32) -> SysOutcome {
    let path = match read_path(k, path) {
        Ok(p) => p,
        Err(Errno::EFAULT) if flags & AT_EMPTY_PATH != 0 => Vec::new(),
        Err(e) => return Err(e.into()),
    };
    let argv = read_strings(k, argv)?;
    let envp = read_strings(k, envp)?;
    let (start, path) = if path.is_empty() {
        if flags & AT_EMPTY_PATH == 0 {
            return Err(Errno::ENOENT.into());
        }
        // fexecve: the open file itself.
        let file = k.proc().fds.file(dirfd)?;
        let loc = file.borrow().location.clone().ok_or(Errno::EACCES)?;
        // Its name in its directory ("." would walk into it as a directory).
        let full = loc.path();
        let name = full.rsplit(|&b| b == b'/').next().unwrap_or(b".").to_vec();
        (loc.parent(), name)
    } else {
        (at_start(k, dirfd, &path)?, path)
    };
    k.do_execve(ExecRequest {
        start,
        path,
        argv,
        envp,
    })?;
    // The new program starts with zeroed registers (EAX included).
    Ok(Outcome::NoReturn)
}

pub fn sys_exit(k: &mut Kernel, a: &Args) -> SysOutcome {
    let t = k.current();
    k.exit_thread(t, a[0] & 0xff);
    Ok(Outcome::NoReturn)
}

pub fn sys_exit_group(k: &mut Kernel, a: &Args) -> SysOutcome {
    let p = k.thread().process;
    k.exit_group(p, crate::abi::wstatus::exited(a[0]));
    Ok(Outcome::NoReturn)
}

/// The wait4/waitpid pid argument.
fn wait_for(k: &mut Kernel, pid: i32) -> WaitFor {
    match pid {
        -1 => WaitFor::Any,
        0 => WaitFor::Pgid(k.proc().pgid),
        p if p < 0 => WaitFor::Pgid(p.unsigned_abs()),
        p => WaitFor::Pid(p as u32),
    }
}

/// What a wait for a child found.
enum Found {
    Child(crate::tasks::task::Reaped),
    /// Nothing to report yet, and WNOHANG.
    Nothing,
    /// Nothing yet: park until a child changes state.
    Park(Wait),
}

/// Waits (or parks) for a child the selector and options pick.
fn wait_common(k: &mut Kernel, who: WaitFor, options: u32) -> KResult<Found> {
    Ok(match k.find_waitable(who, options)? {
        Some(r) => Found::Child(r),
        None if options & wait::WNOHANG != 0 => Found::Nothing,
        None => {
            let seen = k.proc().child_events;
            Found::Park(Wait::Child { seen })
        }
    })
}

pub fn sys_wait4(k: &mut Kernel, a: &Args) -> SysOutcome {
    let (pid, status, options, rusage) = (a[0] as i32, a[1], a[2], a[3]);
    if options
        & !(wait::WNOHANG
            | wait::WUNTRACED
            | wait::WCONTINUED
            | wait::WCLONE
            | wait::WALL
            | 0x2000_0000)
        != 0
    {
        return Err(Errno::EINVAL.into());
    }
    let who = wait_for(k, pid);
    let r = match wait_common(k, who, options | wait::WEXITED)? {
        Found::Child(r) => r,
        Found::Nothing => return Ok(Outcome::Done(0)),
        Found::Park(w) => return Ok(Outcome::Block(w)),
    };
    if status != 0 {
        k.mem().write_u32(GuestAddr(status), r.status)?;
    }
    if rusage != 0 {
        super::time::write_rusage(k, rusage, r.times)?;
    }
    Ok(Outcome::Done(r.pid))
}

pub fn sys_waitpid(k: &mut Kernel, a: &Args) -> SysOutcome {
    sys_wait4(k, &[a[0], a[1], a[2], 0, 0, 0])
}

pub fn sys_waitid(k: &mut Kernel, a: &Args) -> SysOutcome {
    let (idtype, id, infop, options, rusage) = (a[0], a[1], a[2], a[3], a[4]);
    let who = match idtype {
        0 => WaitFor::Any,
        1 if id > 0 => WaitFor::Pid(id),
        2 if id == 0 => WaitFor::Pgid(k.proc().pgid),
        2 => WaitFor::Pgid(id),
        // P_PIDFD: the process the descriptor names.
        3 => WaitFor::Pid(pidfd_target(k, id)?.0),
        _ => return Err(Errno::EINVAL.into()),
    };
    // WSTOPPED has WUNTRACED's value.
    if options & (wait::WEXITED | wait::WUNTRACED | wait::WCONTINUED) == 0 {
        return Err(Errno::EINVAL.into());
    }
    let r = match wait_common(k, who, options)? {
        Found::Child(r) => Some(r),
        Found::Nothing => None,
        Found::Park(w) => return Ok(Outcome::Block(w)),
    };
    if infop != 0 {
        let info = match r {
            Some(r) => crate::signals::Siginfo::child(r.code, r.pid, k.uid, r.si_status).to_bytes(),
            None => [0; 128],
        };
        k.mem().write_bytes(GuestAddr(infop), &info)?;
    }
    if rusage != 0 {
        let times = r.map(|r| r.times).unwrap_or_default();
        super::time::write_rusage(k, rusage, times)?;
    }
    Ok(Outcome::Done(0))
}

/// The process a pidfd names: its pid, and its slot while it is not
/// reaped (EBADF: `fd` is not a pidfd).
pub(crate) fn pidfd_target(k: &mut Kernel, fd: u32) -> KResult<(u32, Option<usize>)> {
    let file = k.proc().fds.file(fd)?;
    let mut f = file.borrow_mut();
    let pidfd = f
        .handle
        .as_mut()
        .and_then(|h| h.as_any())
        .and_then(|a| a.downcast_mut::<PidFd>())
        .ok_or(Errno::EBADF)?;
    let slot = k
        .tasks
        .find_pid(pidfd.pid)
        .filter(|&p| pidfd.names(&k.tasks.proc(p).running));
    Ok((pidfd.pid, slot))
}

/// [`pidfd_target`], or for a descriptor of a `/proc/PID` directory the
/// process with that pid (pidfd_send_signal accepts both, as on Linux; the
/// directory names whichever process has the pid now).
pub(crate) fn pidfd_or_proc_dir_target(k: &mut Kernel, fd: u32) -> KResult<(u32, Option<usize>)> {
    let err = match pidfd_target(k, fd) {
        Err(Errno::EBADF) => Errno::EBADF,
        other => return other,
    };
    let file = k.proc().fds.file(fd)?;
    let (node, location) = {
        let f = file.borrow();
        (f.node, f.location.clone())
    };
    let (Some((mount, _)), Some(location)) = (node, location) else {
        return Err(err);
    };
    if k.vfs.fs_query(mount).fs_type().name != crate::vfs::FsType::PROC.name {
        return Err(err);
    }
    let path = location.path();
    let pid = path
        .rsplit(|&b| b == b'/')
        .next()
        .and_then(|c| std::str::from_utf8(c).ok())
        .filter(|c| !c.is_empty() && c.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|c| c.parse::<u32>().ok())
        .ok_or(err)?;
    Ok((pid, k.tasks.find_pid(pid)))
}

/// pidfd_open(pid, flags): a descriptor for process `pid` (a thread
/// group leader, running or a zombie), always close-on-exec.
pub fn sys_pidfd_open(k: &mut Kernel, a: &Args) -> SysResult {
    const PIDFD_NONBLOCK: u32 = oflag::O_NONBLOCK;
    let (pid, flags) = (a[0], a[1]);
    if flags & !PIDFD_NONBLOCK != 0 || (pid as i32) <= 0 {
        return Err(Errno::EINVAL.into());
    }
    let Some(p) = k.tasks.find_pid(pid) else {
        // A thread that is not its group's leader: EINVAL, as Linux
        // (without PIDFD_THREAD); no such task at all: ESRCH.
        return Err(if k.tasks.find_tid(pid).is_some() {
            Errno::EINVAL
        } else {
            Errno::ESRCH
        }
        .into());
    };
    let h = PidFd {
        pid,
        running: k.tasks.proc(p).running.clone(),
    };
    super::event::install_anon(k, Box::new(h), flags | oflag::O_CLOEXEC)
}

/// pidfd_getfd(pidfd, targetfd, flags): a copy of another process's
/// descriptor, close-on-exec (the guest's processes all have one owner,
/// so the ptrace access check always passes).
pub fn sys_pidfd_getfd(k: &mut Kernel, a: &Args) -> SysResult {
    let (pidfd, target, flags) = (a[0], a[1], a[2]);
    if flags != 0 {
        return Err(Errno::EINVAL.into());
    }
    let (_, slot) = pidfd_target(k, pidfd)?;
    let p = slot
        .filter(|&p| k.tasks.proc(p).alive())
        .ok_or(Errno::ESRCH)?;
    let file = k.tasks.proc(p).fds.file(target)?;
    let n = k.proc().fds.insert(crate::vfs::file::Fd {
        file,
        cloexec: true,
    })?;
    super::fs::within_nofile(k, n)
}

pub fn sys_getpid(k: &mut Kernel, _a: &Args) -> SysResult {
    Ok(k.proc().pid)
}

pub fn sys_gettid(k: &mut Kernel, _a: &Args) -> SysResult {
    Ok(k.thread().tid)
}

pub fn sys_getppid(k: &mut Kernel, _a: &Args) -> SysResult {
    Ok(k.proc().ppid)
}

pub fn sys_getpgrp(k: &mut Kernel, _a: &Args) -> SysResult {
    Ok(k.proc().pgid)
}

/// The process slot `pid` names (0: the caller).
fn target(k: &mut Kernel, pid: u32) -> KResult<usize> {
    if pid == 0 {
        return Ok(k.thread().process);
    }
    k.tasks.find_pid(pid).ok_or(Errno::ESRCH)
}

pub fn sys_getpgid(k: &mut Kernel, a: &Args) -> SysResult {
    let p = target(k, a[0])?;
    Ok(k.tasks.proc(p).pgid)
}

pub fn sys_getsid(k: &mut Kernel, a: &Args) -> SysResult {
    let p = target(k, a[0])?;
    Ok(k.tasks.proc(p).sid)
}

/// setpgid: the caller or one of its children (not after the child's
/// exec), into a group of the same session.
pub fn sys_setpgid(k: &mut Kernel, a: &Args) -> SysResult {
    if (a[1] as i32) < 0 {
        return Err(Errno::EINVAL.into());
    }
    let me = k.thread().process;
    let p = target(k, a[0])?;
    let (my_pid, my_sid) = (k.tasks.proc(me).pid, k.tasks.proc(me).sid);
    if p != me {
        if k.tasks.proc(p).ppid != my_pid {
            return Err(Errno::ESRCH.into());
        }
        if k.tasks.proc(p).did_exec {
            return Err(Errno::EACCES.into());
        }
        if k.tasks.proc(p).sid != my_sid {
            return Err(Errno::EPERM.into());
        }
    }
    let q = k.tasks.proc(p);
    if q.sid == q.pid {
        return Err(Errno::EPERM.into());
    }
    let pgid = if a[1] == 0 { q.pid } else { a[1] };
    let group_ok = pgid == q.pid || k.tasks.group_in_session(pgid, my_sid);
    if !group_ok {
        return Err(Errno::EPERM.into());
    }
    k.tasks.proc_mut(p).pgid = pgid;
    Ok(0)
}

pub fn sys_setsid(k: &mut Kernel, _a: &Args) -> SysResult {
    let me = k.thread().process;
    let pid = k.tasks.proc(me).pid;
    if k.tasks.group_exists(pid) {
        return Err(Errno::EPERM.into());
    }
    let p = k.tasks.proc_mut(me);
    p.sid = pid;
    p.pgid = pid;
    Ok(pid)
}

fn pipe(k: &mut Kernel, at: u32, flags: u32) -> SysResult {
    if flags & !(oflag::O_CLOEXEC | oflag::O_NONBLOCK | oflag::O_DIRECT) != 0 {
        return Err(Errno::EINVAL.into());
    }
    k.mem().probe_write(GuestAddr(at), 8)?;
    let pipe = Pipe::new();
    let end = |handle: Box<dyn crate::vfs::FileHandle>, acc| OpenFile {
        node: None,
        location: None,
        handle: Some(handle),
        offset: 0,
        flags: acc | (flags & oflag::O_NONBLOCK),
        dir_entries: None,
    };
    let cloexec = flags & oflag::O_CLOEXEC != 0;
    let r = install(
        k,
        end(Box::new(Pipe::reader(&pipe)), oflag::O_RDONLY),
        cloexec,
    )?;
    let w = match install(
        k,
        end(Box::new(Pipe::writer(&pipe)), oflag::O_WRONLY),
        cloexec,
    ) {
        Ok(w) => w,
        Err(e) => {
            let _ = k.proc().fds.remove(r);
            return Err(e);
        }
    };
    let mut m = k.mem();
    m.write_u32(GuestAddr(at), r)?;
    m.write_u32(GuestAddr(at + 4), w)?;
    Ok(0)
}

pub fn sys_pipe(k: &mut Kernel, a: &Args) -> SysResult {
    pipe(k, a[0], 0)
}

pub fn sys_pipe2(k: &mut Kernel, a: &Args) -> SysResult {
    pipe(k, a[0], a[1])
}

/// Gives up the rest of the time slice.
pub fn sys_sched_yield(k: &mut Kernel, _a: &Args) -> SysResult {
    k.thread().slice = 0;
    Ok(0)
}
