//! Event descriptors: eventfd, signalfd, timerfd, epoll and inotify.
//!
//! Each is an anonymous file whose handle lives in its own module
//! (`files/eventfd.rs`, `signals/signalfd.rs`, `files/timerfd.rs`,
//! `files/epoll.rs`, `files/inotify.rs`); this file
//! creates them and implements the calls that act on them. epoll_wait
//! parks like poll: with the epoll descriptor itself as its interest set
//! (an epoll file polls readable when an item is ready).

use super::fs::{at_start, install};
use super::{read_path, Args, Outcome, SysOutcome, SysResult};
use crate::abi::epoll::EPOLLEXCLUSIVE;
use crate::abi::errno::{Errno, KResult};
use crate::abi::oflag;
use crate::files::epoll::{EpollFile, EpollRef};
use crate::files::eventfd::{EventFd, EFD_SEMAPHORE};
use crate::files::inotify::Inotify;
use crate::files::timerfd::{self, TimerFd, TimerState};
use crate::kernel::Kernel;
use crate::signals::signalfd::{SignalFd, SIGINFO_SIZE};
use crate::signals::{next_signal, UNBLOCKABLE};
use crate::tasks::process::Wait;
use crate::vfs::file::OpenFile;
use crate::vfs::{FileHandle, FileType, Resolve};
use std::cell::RefCell;
use std::rc::Rc;
use wax_cpu::GuestAddr;
use wax_devices::Timespec;

const O_NONBLOCK: u32 = oflag::O_NONBLOCK;
const O_CLOEXEC: u32 = oflag::O_CLOEXEC;

/// Installs an anonymous file; `flags` may hold O_NONBLOCK/O_CLOEXEC.
pub(crate) fn install_anon(k: &mut Kernel, h: Box<dyn FileHandle>, flags: u32) -> SysResult {
    let file = OpenFile {
        node: None,
        location: None,
        handle: Some(h),
        offset: 0,
        flags: oflag::O_RDWR | (flags & O_NONBLOCK),
        dir_entries: None,
    };
    install(k, file, flags & O_CLOEXEC != 0)
}

/// Runs `f` on the handle of `fd` if it is a `T` (EINVAL otherwise).
fn with_handle<T: 'static, R>(k: &mut Kernel, fd: u32, f: impl FnOnce(&mut T) -> R) -> KResult<R> {
    let file = k.proc().fds.file(fd)?;
    let mut file = file.borrow_mut();
    let h = file
        .handle
        .as_mut()
        .and_then(|h| h.as_any())
        .and_then(|a| a.downcast_mut::<T>())
        .ok_or(Errno::EINVAL)?;
    Ok(f(h))
}

// eventfd

fn eventfd(k: &mut Kernel, init: u32, flags: u32) -> SysResult {
    if flags & !(EFD_SEMAPHORE | O_NONBLOCK | O_CLOEXEC) != 0 {
        return Err(Errno::EINVAL.into());
    }
    let h = EventFd {
        count: u64::from(init),
        semaphore: flags & EFD_SEMAPHORE != 0,
    };
    install_anon(k, Box::new(h), flags)
}

pub fn sys_eventfd(k: &mut Kernel, a: &Args) -> SysResult {
    eventfd(k, a[0], 0)
}

pub fn sys_eventfd2(k: &mut Kernel, a: &Args) -> SysResult {
    eventfd(k, a[0], a[1])
}

// signalfd

fn signalfd(k: &mut Kernel, fd: u32, mask_at: u32, size: u32, flags: u32) -> SysResult {
    if size != 8 || flags & !(O_NONBLOCK | O_CLOEXEC) != 0 {
        return Err(Errno::EINVAL.into());
    }
    let mask = k.mem().read_u64(GuestAddr(mask_at))? & !UNBLOCKABLE;
    if fd as i32 != -1 {
        with_handle::<SignalFd, _>(k, fd, |s| s.mask = mask)?;
        return Ok(fd);
    }
    let h = SignalFd {
        mask,
        ctx: k.files.pollctx.clone(),
    };
    install_anon(k, Box::new(h), flags)
}

pub fn sys_signalfd(k: &mut Kernel, a: &Args) -> SysResult {
    signalfd(k, a[0], a[1], a[2], 0)
}

pub fn sys_signalfd4(k: &mut Kernel, a: &Args) -> SysResult {
    signalfd(k, a[0], a[1], a[2], a[3])
}

/// read(2): a signalfd takes pending signals here (only the kernel can);
/// every other file goes to the ordinary read.
pub fn sys_read(k: &mut Kernel, a: &Args) -> SysOutcome {
    let t = k.current();
    k.refresh_poll(t);
    match with_handle::<SignalFd, _>(k, a[0], |s| s.mask) {
        Ok(mask) => read_signalfd(k, a, mask),
        Err(_) => super::fs::sys_read(k, a),
    }
}

fn read_signalfd(k: &mut Kernel, a: &Args, mask: u64) -> SysOutcome {
    let (fd, buf, len) = (a[0], a[1], a[2] as usize);
    if len < SIGINFO_SIZE {
        return Err(Errno::EINVAL.into());
    }
    let want = len / SIGINFO_SIZE;
    k.mem()
        .probe_write(GuestAddr(buf), (want * SIGINFO_SIZE) as u32)?;
    let mut out = Vec::new();
    while out.len() < want * SIGINFO_SIZE {
        let t = k.current();
        let p = k.tasks.thread(t).process;
        let pending = k.tasks.thread(t).pending.set | k.tasks.proc(p).pending.set;
        let Some(sig) = next_signal(pending & mask) else {
            break;
        };
        let si = match k.tasks.thread_mut(t).pending.take(sig) {
            Some(s) => s,
            None => k.tasks.proc_mut(p).pending.take(sig).unwrap_or_default(),
        };
        out.extend_from_slice(&crate::signals::signalfd::record(&si));
    }
    if out.is_empty() {
        let file = k.proc().fds.file(fd)?;
        if file.borrow().flags & O_NONBLOCK != 0 {
            return Err(Errno::EAGAIN.into());
        }
        return Ok(Outcome::Block(Wait::Readable { fd }));
    }
    k.mem().write_bytes(GuestAddr(buf), &out)?;
    Ok(Outcome::Done(out.len() as u32))
}

// timerfd

pub fn sys_timerfd_create(k: &mut Kernel, a: &Args) -> SysResult {
    let (clock, flags) = (a[0], a[1]);
    let realtime = match clock {
        timerfd::CLOCK_REALTIME | timerfd::CLOCK_REALTIME_ALARM => true,
        timerfd::CLOCK_MONOTONIC | timerfd::CLOCK_BOOTTIME | timerfd::CLOCK_BOOTTIME_ALARM => false,
        _ => return Err(Errno::EINVAL.into()),
    };
    if flags & !(O_NONBLOCK | O_CLOEXEC) != 0 {
        return Err(Errno::EINVAL.into());
    }
    let timer = Rc::new(RefCell::new(TimerState {
        realtime,
        ..TimerState::default()
    }));
    k.files.pollctx.register(&timer);
    let h = TimerFd {
        timer,
        ctx: k.files.pollctx.clone(),
    };
    install_anon(k, Box::new(h), flags)
}

fn timer_of(k: &mut Kernel, fd: u32) -> KResult<timerfd::TimerRef> {
    with_handle::<TimerFd, _>(k, fd, |t| t.timer.clone())
}

fn clock_now(k: &mut Kernel, realtime: bool) -> i128 {
    let t: Timespec = if realtime {
        k.time.realtime()
    } else {
        k.time.monotonic()
    };
    t.as_nanos()
}

fn timerfd_settime(k: &mut Kernel, a: &Args, wide: bool) -> SysResult {
    const TFD_TIMER_ABSTIME: u32 = 1;
    const TFD_TIMER_CANCEL_ON_SET: u32 = 2;
    let (fd, flags, new, old) = (a[0], a[1], a[2], a[3]);
    if flags & !(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET) != 0 {
        return Err(Errno::EINVAL.into());
    }
    let timer = timer_of(k, fd)?;
    let (interval, value) = super::time::read_pair(k, new, false, wide)?;
    let now = clock_now(k, timer.borrow().realtime);
    if old != 0 {
        let cur = timer.borrow_mut().get(now);
        super::time::write_pair(k, old, cur, false, wide)?;
    }
    timer
        .borrow_mut()
        .set(now, interval, value, flags & TFD_TIMER_ABSTIME != 0);
    Ok(0)
}

fn timerfd_gettime(k: &mut Kernel, a: &Args, wide: bool) -> SysResult {
    let timer = timer_of(k, a[0])?;
    let now = clock_now(k, timer.borrow().realtime);
    let cur = timer.borrow_mut().get(now);
    super::time::write_pair(k, a[1], cur, false, wide)?;
    Ok(0)
}

pub fn sys_timerfd_settime(k: &mut Kernel, a: &Args) -> SysResult {
    timerfd_settime(k, a, false)
}

pub fn sys_timerfd_settime64(k: &mut Kernel, a: &Args) -> SysResult {
    timerfd_settime(k, a, true)
}

pub fn sys_timerfd_gettime(k: &mut Kernel, a: &Args) -> SysResult {
    timerfd_gettime(k, a, false)
}

pub fn sys_timerfd_gettime64(k: &mut Kernel, a: &Args) -> SysResult {
    timerfd_gettime(k, a, true)
}

// epoll

pub fn sys_epoll_create(k: &mut Kernel, a: &Args) -> SysResult {
    if a[0] as i32 <= 0 {
        return Err(Errno::EINVAL.into());
    }
    install_anon(k, Box::new(EpollFile(Rc::default())), 0)
}

pub fn sys_epoll_create1(k: &mut Kernel, a: &Args) -> SysResult {
    if a[0] & !O_CLOEXEC != 0 {
        return Err(Errno::EINVAL.into());
    }
    install_anon(k, Box::new(EpollFile(Rc::default())), a[0])
}

fn epoll_of(k: &mut Kernel, fd: u32) -> KResult<EpollRef> {
    with_handle::<EpollFile, _>(k, fd, |e| e.0.clone())
}

/// Files epoll refuses (EPERM): regular files and directories.
fn pollable(k: &mut Kernel, file: &crate::vfs::file::FileRef) -> bool {
    let node = file.borrow().node;
    let Some((m, ino)) = node else {
        return true;
    };
    // Linux refuses files whose driver has no poll: regular files,
    // directories, and the memory devices (major 1) except /dev/random.
    let mem_dev = |rdev: u64| rdev >> 8 & 0xfff == 1 && rdev != crate::vfs::dev::makedev(1, 8);
    match k.vfs.fs_query(m).getattr(ino) {
        Ok(a) => match a.file_type() {
            FileType::Regular | FileType::Directory => false,
            FileType::CharDevice => !mem_dev(a.rdev),
            _ => true,
        },
        Err(_) => true,
    }
}

pub fn sys_epoll_ctl(k: &mut Kernel, a: &Args) -> SysResult {
    const ADD: u32 = 1;
    const DEL: u32 = 2;
    const MOD: u32 = 3;
    let (epfd, op, fd, ev) = (a[0], a[1], a[2], a[3]);
    let set = epoll_of(k, epfd)?;
    let file = k.proc().fds.file(fd)?;
    if epfd == fd || Rc::ptr_eq(&file, &k.proc().fds.file(epfd)?) {
        return Err(Errno::EINVAL.into());
    }
    if !pollable(k, &file) {
        return Err(Errno::EPERM.into());
    }
    let (events, data) = if op == DEL {
        (0, 0)
    } else {
        let mut m = k.mem();
        (m.read_u32(GuestAddr(ev))?, m.read_u64(GuestAddr(ev + 4))?)
    };
    let mut s = set.borrow_mut();
    match op {
        ADD => s.add(fd, &file, events, data)?,
        MOD => s.modify(fd, &file, events, data)?,
        DEL => s.delete(fd, &file)?,
        _ => return Err(Errno::EINVAL.into()),
    }
    if op == ADD && events & EPOLLEXCLUSIVE != 0 && events & crate::abi::epoll::EPOLLONESHOT != 0 {
        s.delete(fd, &file)?;
        return Err(Errno::EINVAL.into());
    }
    Ok(0)
}

/// epoll_wait and its variants: `timeout` None waits forever.
fn epoll_wait(
    k: &mut Kernel,
    epfd: u32,
    at: u32,
    max: u32,
    timeout: Option<Timespec>,
) -> SysOutcome {
    if max == 0 || max > (i32::MAX as u32) / 12 {
        return Err(Errno::EINVAL.into());
    }
    let set = epoll_of(k, epfd)?;
    k.mem().probe_write(GuestAddr(at), max.min(1024) * 12)?;
    let t = k.current();
    k.refresh_poll(t);
    let events = set.borrow_mut().collect(max as usize);
    if !events.is_empty() {
        let mut buf = Vec::with_capacity(events.len() * 12);
        for (e, data) in &events {
            buf.extend_from_slice(&e.to_le_bytes());
            buf.extend_from_slice(&data.to_le_bytes());
        }
        k.thread().restart_deadline = None;
        super::poll::restore_mask(k);
        k.mem().write_bytes(GuestAddr(at), &buf)?;
        return Ok(Outcome::Done(events.len() as u32));
    }
    let deadline = match k.thread().restart_deadline.take() {
        Some(d) => Some(d),
        None => timeout.map(|d| Timespec::from_nanos(k.time.monotonic().as_nanos() + d.as_nanos())),
    };
    if deadline.is_some_and(|d| k.time.monotonic() >= d) {
        super::poll::restore_mask(k);
        return Ok(Outcome::Done(0));
    }
    let th = k.thread();
    th.poll_set = vec![(epfd, crate::abi::poll::POLLIN)];
    th.restart_deadline = deadline;
    Ok(Outcome::Block(Wait::Poll { deadline }))
}

fn ms_timeout(ms: u32) -> Option<Timespec> {
    let ms = ms as i32;
    (ms >= 0).then(|| Timespec::from_nanos(i128::from(ms) * 1_000_000))
}

pub fn sys_epoll_wait(k: &mut Kernel, a: &Args) -> SysOutcome {
    epoll_wait(k, a[0], a[1], a[2], ms_timeout(a[3]))
}

pub fn sys_epoll_pwait(k: &mut Kernel, a: &Args) -> SysOutcome {
    if a[4] != 0 {
        super::poll::apply_mask(k, a[4], a[5])?;
    }
    epoll_wait(k, a[0], a[1], a[2], ms_timeout(a[3]))
}

/// epoll_pwait2: the timeout is a `struct __kernel_timespec` (64-bit).
pub fn sys_epoll_pwait2(k: &mut Kernel, a: &Args) -> SysOutcome {
    let timeout = if a[3] == 0 {
        None
    } else {
        Some(super::misc::read_timespec(k, a[3], true)?)
    };
    if a[4] != 0 {
        super::poll::apply_mask(k, a[4], a[5])?;
    }
    epoll_wait(k, a[0], a[1], a[2], timeout)
}

// inotify

pub fn sys_inotify_init(k: &mut Kernel, _a: &Args) -> SysResult {
    install_anon(k, Box::new(Inotify::default()), 0)
}

pub fn sys_inotify_init1(k: &mut Kernel, a: &Args) -> SysResult {
    if a[0] & !(O_NONBLOCK | O_CLOEXEC) != 0 {
        return Err(Errno::EINVAL.into());
    }
    install_anon(k, Box::new(Inotify::default()), a[0])
}

pub fn sys_inotify_add_watch(k: &mut Kernel, a: &Args) -> SysResult {
    const IN_DONT_FOLLOW: u32 = 0x0200_0000;
    const IN_ONLYDIR: u32 = 0x0100_0000;
    const IN_ALL_EVENTS: u32 = 0xfff;
    let (fd, path, mask) = (a[0], a[1], a[2]);
    with_handle::<Inotify, _>(k, fd, |_| ())?;
    if mask & IN_ALL_EVENTS == 0 {
        return Err(Errno::EINVAL.into());
    }
    let p = read_path(k, path)?;
    let start = at_start(k, super::fs::AT_FDCWD, &p)?;
    let how = if mask & IN_DONT_FOLLOW != 0 {
        Resolve::NoFollow
    } else {
        Resolve::Follow
    };
    let loc = k.vfs.resolve(&start, &p, how)?;
    if mask & IN_ONLYDIR != 0 && !k.vfs.getattr(&loc)?.is_dir() {
        return Err(Errno::ENOTDIR.into());
    }
    let node = k.vfs.node(&loc);
    Ok(with_handle::<Inotify, _>(k, fd, |i| i.add(node, mask))?)
}

pub fn sys_inotify_rm_watch(k: &mut Kernel, a: &Args) -> SysResult {
    with_handle::<Inotify, _>(k, a[0], |i| i.remove(a[1]))??;
    Ok(0)
}
