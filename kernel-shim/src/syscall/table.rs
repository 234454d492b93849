//! The system call table: one row per implemented i386 call (number,
//! Linux name, handler, argument kinds for `--strace`), sorted by number.
//!
//! A row whose name is followed by `blocks` or `ends` has a handler that
//! returns a [`SysOutcome`] ([`Handler::MayBlock`]): `blocks` for calls
//! that can park the thread, `ends` for calls that can end the calling
//! program (or replace it). The word only documents; the handler's type
//! decides, and a row with the wrong kind does not compile.

use super::strace::A::{self, *};
use super::{
    cred, event, fs, fsattr, fsmeta, mem, misc, names, net, poll, process, sched, signal, splice,
    time, xattr, Args, Outcome, SysOutcome, SysResult,
};
use crate::kernel::Kernel;

/// A row's handler, by what the call can do.
#[derive(Clone, Copy)]
pub enum Handler {
    /// Always returns to the caller: a value or an errno.
    Returns(fn(&mut Kernel, &Args) -> SysResult),
    /// Can also park the thread or not return (an [`super::Outcome`]).
    MayBlock(fn(&mut Kernel, &Args) -> SysOutcome),
}

impl Handler {
    /// Runs the handler; a call that always returns is [`Outcome::Done`]
    /// when it succeeds.
    pub fn call(self, k: &mut Kernel, args: &Args) -> SysOutcome {
        match self {
            Handler::Returns(h) => h(k, args).map(Outcome::Done),
            Handler::MayBlock(h) => h(k, args),
        }
    }

    /// The handler's address (to recognise a particular function).
    #[cfg(test)]
    fn addr(self) -> *const () {
        match self {
            Handler::Returns(h) => h as *const (),
            Handler::MayBlock(h) => h as *const (),
        }
    }
}

pub struct Row {
    pub nr: u32,
    pub name: &'static str,
    pub handler: Handler,
    pub args: &'static [A],
}

macro_rules! rows {
    ($($nr:literal $name:ident $($kind:ident)? => $h:path, [$($a:expr),*];)*) => {
        pub static TABLE: &[Row] = &[
            $(Row {
                nr: $nr,
                name: stringify!($name),
                handler: handler!($($kind)? $h),
                args: &[$($a),*],
            },)*
        ];
    };
}

macro_rules! handler {
    (blocks $h:path) => {
        Handler::MayBlock($h)
    };
    (ends $h:path) => {
        Handler::MayBlock($h)
    };
    ($h:path) => {
        Handler::Returns($h)
    };
}

rows! {
    1 exit ends => process::sys_exit, [I];
    2 fork blocks => process::sys_fork, [];
    3 read blocks => event::sys_read, [Fd, OutBuf, U];
    4 write blocks => fs::sys_write, [Fd, InBuf(2), U];
    5 open blocks => fs::sys_open, [Path, OFlags, Mode];
    6 close => fs::sys_close, [Fd];
    7 waitpid blocks => process::sys_waitpid, [I, Ptr, X];
    8 creat blocks => fs::sys_creat, [Path, Mode];
    9 link => fsmeta::sys_link, [Path, Path];
    10 unlink => fsmeta::sys_unlink, [Path];
    11 execve ends => process::sys_execve, [Path, Ptr, Ptr];
    12 chdir => fs::sys_chdir, [Path];
    13 time => time::sys_time, [Ptr];
    14 mknod => fsattr::sys_mknod, [Path, Mode, X];
    15 chmod => fsmeta::sys_chmod, [Path, Mode];
    16 lchown => fsattr::sys_lchown16, [Path, I, I];
    19 lseek => fs::sys_lseek, [Fd, I, Whence];
    20 getpid => process::sys_getpid, [];
    23 setuid => cred::sys_setuid16, [I];
    24 getuid => cred::sys_getuid16, [];
    27 alarm => time::sys_alarm, [U];
    29 pause blocks => signal::sys_pause, [];
    30 utime => fsattr::sys_utime, [Path, Ptr];
    33 access => fsmeta::sys_access, [Path, X];
    36 sync blocks => fsattr::sys_sync, [];
    37 kill ends => signal::sys_kill, [I, Sig];
    38 rename => fsmeta::sys_rename, [Path, Path];
    39 mkdir => fsmeta::sys_mkdir, [Path, Mode];
    40 rmdir => fsmeta::sys_rmdir, [Path];
    41 dup => fs::sys_dup, [Fd];
    42 pipe => process::sys_pipe, [Ptr];
    43 times => time::sys_times, [Ptr];
    45 brk => mem::sys_brk, [X];
    46 setgid => cred::sys_setgid16, [I];
    47 getgid => cred::sys_getgid16, [];
    48 signal => signal::sys_signal, [Sig, X];
    49 geteuid => cred::sys_geteuid16, [];
    50 getegid => cred::sys_getegid16, [];
    54 ioctl blocks => fs::sys_ioctl, [Fd, Ioctl, X];
    55 fcntl blocks => fs::sys_fcntl64, [Fd, Fcntl, X];
    57 setpgid => process::sys_setpgid, [I, I];
    60 umask => fsmeta::sys_umask, [Mode];
    61 chroot => fs::sys_chroot, [Path];
    63 dup2 => fs::sys_dup2, [Fd, Fd];
    64 getppid => process::sys_getppid, [];
    65 getpgrp => process::sys_getpgrp, [];
    66 setsid => process::sys_setsid, [];
    67 sigaction => signal::sys_sigaction, [Sig, Ptr, Ptr];
    70 setreuid => cred::sys_setreuid16, [I, I];
    71 setregid => cred::sys_setregid16, [I, I];
    72 sigsuspend blocks => signal::sys_sigsuspend, [I, I, X];
    73 sigpending => signal::sys_sigpending, [Ptr];
    74 sethostname => misc::sys_sethostname, [Ptr, U];
    75 setrlimit => misc::sys_setrlimit, [I, Ptr];
    76 getrlimit => misc::sys_ugetrlimit, [I, Ptr];
    77 getrusage => time::sys_getrusage, [I, Ptr];
    78 gettimeofday => time::sys_gettimeofday, [Ptr, Ptr];
    79 settimeofday => time::sys_settimeofday, [Ptr, Ptr];
    80 getgroups => cred::sys_getgroups16, [I, Ptr];
    81 setgroups => cred::sys_setgroups16, [I, Ptr];
    83 symlink => fsmeta::sys_symlink, [Path, Path];
    85 readlink => fsmeta::sys_readlink, [Path, Ptr, U];
    90 mmap => mem::sys_old_mmap, [Ptr];
    91 munmap => mem::sys_munmap, [X, U];
    92 truncate => fs::sys_truncate, [Path, I];
    93 ftruncate => fs::sys_ftruncate, [Fd, I];
    94 fchmod => fsmeta::sys_fchmod, [Fd, Mode];
    95 fchown => fsattr::sys_fchown16, [Fd, I, I];
    96 getpriority => cred::sys_getpriority, [I, I];
    97 setpriority => cred::sys_setpriority, [I, I, I];
    99 statfs => fsattr::sys_statfs, [Path, Ptr];
    100 fstatfs => fsattr::sys_fstatfs, [Fd, Ptr];
    102 socketcall blocks => net::sys_socketcall, [SockCall, Ptr];
    104 setitimer => time::sys_setitimer, [I, Ptr, Ptr];
    105 getitimer => time::sys_getitimer, [I, Ptr];
    114 wait4 blocks => process::sys_wait4, [I, Ptr, X, Ptr];
    116 sysinfo => misc::sys_sysinfo, [Ptr];
    118 fsync blocks => fs::sys_fsync, [Fd];
    119 sigreturn ends => signal::sys_sigreturn, [];
    120 clone blocks => process::sys_clone, [X, Ptr, Ptr, Ptr, Ptr];
    121 setdomainname => misc::sys_setdomainname, [Ptr, U];
    122 uname => misc::sys_uname, [Ptr];
    125 mprotect => mem::sys_mprotect, [X, U, Prot];
    126 sigprocmask => signal::sys_sigprocmask, [I, Ptr, Ptr];
    132 getpgid => process::sys_getpgid, [I];
    133 fchdir => fs::sys_fchdir, [Fd];
    136 personality => misc::sys_personality, [X];
    138 setfsuid => cred::sys_setfsuid16, [I];
    139 setfsgid => cred::sys_setfsgid16, [I];
    140 _llseek => fs::sys_llseek, [Fd, U, U, Ptr, Whence];
    141 getdents => fsmeta::sys_getdents, [Fd, Ptr, U];
    142 _newselect blocks => poll::sys_select, [I, Ptr, Ptr, Ptr, Ptr];
    143 flock blocks => fsattr::sys_flock, [Fd, I];
    144 msync blocks => mem::sys_msync, [X, U, X];
    145 readv blocks => fs::sys_readv, [Fd, Ptr, I];
    146 writev blocks => fs::sys_writev, [Fd, Ptr, I];
    147 getsid => process::sys_getsid, [I];
    148 fdatasync blocks => fs::sys_fsync, [Fd];
    150 mlock => misc::sys_ok, [X, U];
    151 munlock => misc::sys_ok, [X, U];
    152 mlockall => misc::sys_ok, [X];
    153 munlockall => misc::sys_ok, [];
    154 sched_setparam => sched::sys_sched_setparam, [I, Ptr];
    155 sched_getparam => sched::sys_sched_getparam, [I, Ptr];
    156 sched_setscheduler => sched::sys_sched_setscheduler, [I, I, Ptr];
    157 sched_getscheduler => sched::sys_sched_getscheduler, [I];
    158 sched_yield => process::sys_sched_yield, [];
    159 sched_get_priority_max => sched::sys_sched_get_priority_max, [I];
    160 sched_get_priority_min => sched::sys_sched_get_priority_min, [I];
    161 sched_rr_get_interval => sched::sys_sched_rr_get_interval, [I, Ptr];
    162 nanosleep blocks => time::sys_nanosleep, [Ptr, Ptr];
    163 mremap => mem::sys_mremap, [X, U, U, X, X];
    164 setresuid => cred::sys_setresuid16, [I, I, I];
    165 getresuid => cred::sys_getresuid16, [Ptr, Ptr, Ptr];
    168 poll blocks => poll::sys_poll, [Ptr, U, I];
    170 setresgid => cred::sys_setresgid16, [I, I, I];
    171 getresgid => cred::sys_getresgid16, [Ptr, Ptr, Ptr];
    172 prctl => misc::sys_prctl, [I, X, X, X, X];
    173 rt_sigreturn ends => signal::sys_rt_sigreturn, [];
    174 rt_sigaction => signal::sys_rt_sigaction, [Sig, Ptr, Ptr, U];
    175 rt_sigprocmask => signal::sys_rt_sigprocmask, [I, Ptr, Ptr, U];
    176 rt_sigpending => signal::sys_rt_sigpending, [Ptr, U];
    177 rt_sigtimedwait blocks => signal::sys_rt_sigtimedwait, [Ptr, Ptr, Ptr, U];
    178 rt_sigqueueinfo ends => signal::sys_rt_sigqueueinfo, [I, Sig, Ptr];
    179 rt_sigsuspend blocks => signal::sys_rt_sigsuspend, [Ptr, U];
    180 pread64 blocks => fs::sys_pread64, [Fd, OutBuf, U, I];
    181 pwrite64 blocks => fs::sys_pwrite64, [Fd, InBuf(2), U, I];
    182 chown => fsattr::sys_chown16, [Path, I, I];
    183 getcwd => fs::sys_getcwd, [Ptr, U];
    186 sigaltstack => signal::sys_sigaltstack, [Ptr, Ptr];
    187 sendfile blocks => fs::sys_sendfile, [Fd, Fd, Ptr, U];
    190 vfork blocks => process::sys_vfork, [];
    191 ugetrlimit => misc::sys_ugetrlimit, [I, Ptr];
    192 mmap2 => mem::sys_mmap2, [X, U, Prot, MapFlags, Fd, X];
    193 truncate64 => fs::sys_truncate64, [Path, U, U];
    194 ftruncate64 => fs::sys_ftruncate64, [Fd, U, U];
    195 stat64 => fsmeta::sys_stat64, [Path, Ptr];
    196 lstat64 => fsmeta::sys_lstat64, [Path, Ptr];
    197 fstat64 => fsmeta::sys_fstat64, [Fd, Ptr];
    198 lchown32 => fsattr::sys_lchown32, [Path, I, I];
    199 getuid32 => cred::sys_getuid, [];
    200 getgid32 => cred::sys_getgid, [];
    201 geteuid32 => cred::sys_geteuid, [];
    202 getegid32 => cred::sys_getegid, [];
    203 setreuid32 => cred::sys_setreuid32, [I, I];
    204 setregid32 => cred::sys_setregid32, [I, I];
    205 getgroups32 => cred::sys_getgroups32, [I, Ptr];
    206 setgroups32 => cred::sys_setgroups32, [I, Ptr];
    207 fchown32 => fsattr::sys_fchown32, [Fd, I, I];
    208 setresuid32 => cred::sys_setresuid32, [I, I, I];
    209 getresuid32 => cred::sys_getresuid32, [Ptr, Ptr, Ptr];
    210 setresgid32 => cred::sys_setresgid32, [I, I, I];
    211 getresgid32 => cred::sys_getresgid32, [Ptr, Ptr, Ptr];
    212 chown32 => fsattr::sys_chown32, [Path, I, I];
    213 setuid32 => cred::sys_setuid32, [I];
    214 setgid32 => cred::sys_setgid32, [I];
    215 setfsuid32 => cred::sys_setfsuid32, [I];
    216 setfsgid32 => cred::sys_setfsgid32, [I];
    218 mincore => mem::sys_mincore, [X, U, Ptr];
    219 madvise => mem::sys_madvise, [X, U, I];
    220 getdents64 => fsmeta::sys_getdents64, [Fd, Ptr, U];
    221 fcntl64 blocks => fs::sys_fcntl64, [Fd, Fcntl, X];
    224 gettid => process::sys_gettid, [];
    226 setxattr => xattr::sys_setxattr, [Path, Path, Ptr, U, X];
    227 lsetxattr => xattr::sys_lsetxattr, [Path, Path, Ptr, U, X];
    228 fsetxattr => xattr::sys_fsetxattr, [Fd, Path, Ptr, U, X];
    229 getxattr => xattr::sys_getxattr, [Path, Path, Ptr, U];
    230 lgetxattr => xattr::sys_lgetxattr, [Path, Path, Ptr, U];
    231 fgetxattr => xattr::sys_fgetxattr, [Fd, Path, Ptr, U];
    232 listxattr => xattr::sys_listxattr, [Path, Ptr, U];
    233 llistxattr => xattr::sys_llistxattr, [Path, Ptr, U];
    234 flistxattr => xattr::sys_flistxattr, [Fd, Ptr, U];
    235 removexattr => xattr::sys_removexattr, [Path, Path];
    236 lremovexattr => xattr::sys_lremovexattr, [Path, Path];
    237 fremovexattr => xattr::sys_fremovexattr, [Fd, Path];
    238 tkill ends => signal::sys_tkill, [I, Sig];
    239 sendfile64 blocks => fs::sys_sendfile64, [Fd, Fd, Ptr, U];
    240 futex blocks => misc::sys_futex, [X, Futex, I, Ptr];
    241 sched_setaffinity => sched::sys_sched_setaffinity, [I, U, Ptr];
    242 sched_getaffinity => sched::sys_sched_getaffinity, [I, U, Ptr];
    243 set_thread_area => misc::sys_set_thread_area, [Ptr];
    244 get_thread_area => misc::sys_get_thread_area, [Ptr];
    250 fadvise64 => fs::sys_fadvise64, [Fd, X, X, U, I];
    252 exit_group ends => process::sys_exit_group, [I];
    254 epoll_create => event::sys_epoll_create, [I];
    255 epoll_ctl => event::sys_epoll_ctl, [Fd, I, Fd, Ptr];
    256 epoll_wait blocks => event::sys_epoll_wait, [Fd, Ptr, I, I];
    258 set_tid_address => misc::sys_set_tid_address, [Ptr];
    259 timer_create => time::sys_timer_create, [Clock, Ptr, Ptr];
    260 timer_settime => time::sys_timer_settime, [I, X, Ptr, Ptr];
    261 timer_gettime => time::sys_timer_gettime, [I, Ptr];
    262 timer_getoverrun => time::sys_timer_getoverrun, [I];
    263 timer_delete => time::sys_timer_delete, [I];
    264 clock_settime => time::sys_clock_settime, [Clock, Ptr];
    265 clock_gettime => time::sys_clock_gettime, [Clock, Ptr];
    266 clock_getres => time::sys_clock_getres, [Clock, Ptr];
    267 clock_nanosleep blocks => time::sys_clock_nanosleep, [Clock, X, Ptr, Ptr];
    268 statfs64 => fsmeta::sys_statfs64, [Path, U, Ptr];
    269 fstatfs64 => fsmeta::sys_fstatfs64, [Fd, U, Ptr];
    270 tgkill ends => signal::sys_tgkill, [I, I, Sig];
    271 utimes => fsattr::sys_utimes, [Path, Ptr];
    272 fadvise64_64 => fs::sys_fadvise64_64, [Fd, X, X, X, X, I];
    284 waitid blocks => process::sys_waitid, [I, I, Ptr, X, Ptr];
    289 ioprio_set => cred::sys_ioprio_set, [I, I, X];
    290 ioprio_get => cred::sys_ioprio_get, [I, I];
    291 inotify_init => event::sys_inotify_init, [];
    292 inotify_add_watch => event::sys_inotify_add_watch, [Fd, Path, X];
    293 inotify_rm_watch => event::sys_inotify_rm_watch, [Fd, I];
    295 openat blocks => fs::sys_openat, [AtFd, Path, OFlags, Mode];
    296 mkdirat => fsmeta::sys_mkdirat, [AtFd, Path, Mode];
    297 mknodat => fsattr::sys_mknodat, [AtFd, Path, Mode, X];
    298 fchownat => fsattr::sys_fchownat, [AtFd, Path, I, I, X];
    299 futimesat => fsattr::sys_futimesat, [AtFd, Path, Ptr];
    300 fstatat64 => fsmeta::sys_fstatat64, [AtFd, Path, Ptr, X];
    301 unlinkat => fsmeta::sys_unlinkat, [AtFd, Path, X];
    302 renameat => fsmeta::sys_renameat, [AtFd, Path, AtFd, Path];
    303 linkat => fsmeta::sys_linkat, [AtFd, Path, AtFd, Path, X];
    304 symlinkat => fsmeta::sys_symlinkat, [Path, AtFd, Path];
    305 readlinkat => fsmeta::sys_readlinkat, [AtFd, Path, Ptr, U];
    306 fchmodat => fsmeta::sys_fchmodat, [AtFd, Path, Mode];
    307 faccessat => fsmeta::sys_faccessat, [AtFd, Path, X];
    308 pselect6 blocks => poll::sys_pselect6, [I, Ptr, Ptr, Ptr, Ptr, Ptr];
    309 ppoll blocks => poll::sys_ppoll, [Ptr, U, Ptr, Ptr, U];
    311 set_robust_list => misc::sys_set_robust_list, [Ptr, U];
    313 splice blocks => splice::sys_splice, [Fd, Ptr, Fd, Ptr, U, X];
    314 sync_file_range blocks => fs::sys_sync_file_range, [Fd, X, X, X, X, X];
    315 tee blocks => splice::sys_tee, [Fd, Fd, U, X];
    318 getcpu => sched::sys_getcpu, [Ptr, Ptr, Ptr];
    319 epoll_pwait blocks => event::sys_epoll_pwait, [Fd, Ptr, I, I, Ptr, U];
    320 utimensat => fsmeta::sys_utimensat, [AtFd, Path, Ptr, X];
    321 signalfd => event::sys_signalfd, [Fd, Ptr, U];
    322 timerfd_create => event::sys_timerfd_create, [Clock, X];
    323 eventfd => event::sys_eventfd, [U];
    324 fallocate => fsattr::sys_fallocate, [Fd, X, U, U, U, U];
    325 timerfd_settime => event::sys_timerfd_settime, [Fd, X, Ptr, Ptr];
    326 timerfd_gettime => event::sys_timerfd_gettime, [Fd, Ptr];
    327 signalfd4 => event::sys_signalfd4, [Fd, Ptr, U, OFlags];
    328 eventfd2 => event::sys_eventfd2, [U, X];
    329 epoll_create1 => event::sys_epoll_create1, [X];
    330 dup3 => fs::sys_dup3, [Fd, Fd, OFlags];
    331 pipe2 => process::sys_pipe2, [Ptr, OFlags];
    332 inotify_init1 => event::sys_inotify_init1, [X];
    333 preadv blocks => fs::sys_preadv, [Fd, Ptr, I, U, U];
    334 pwritev blocks => fs::sys_pwritev, [Fd, Ptr, I, U, U];
    335 rt_tgsigqueueinfo ends => signal::sys_rt_tgsigqueueinfo, [I, I, Sig, Ptr];
    337 recvmmsg blocks => net::sys_recvmmsg, [Fd, Ptr, U, X, Ptr];
    340 prlimit64 => misc::sys_prlimit64, [I, I, Ptr, Ptr];
    344 syncfs blocks => fsattr::sys_syncfs, [Fd];
    345 sendmmsg blocks => net::sys_sendmmsg, [Fd, Ptr, U, X];
    353 renameat2 => fsmeta::sys_renameat2, [AtFd, Path, AtFd, Path, X];
    355 getrandom => misc::sys_getrandom, [Ptr, U, X];
    356 memfd_create => fs::sys_memfd_create, [Path, X];
    358 execveat ends => process::sys_execveat, [AtFd, Path, Ptr, Ptr, X];
    359 socket => net::sys_socket, [I, I, I];
    360 socketpair => net::sys_socketpair, [I, I, I, Ptr];
    361 bind => net::sys_bind, [Fd, Ptr, U];
    362 connect blocks => net::sys_connect, [Fd, Ptr, U];
    363 listen => net::sys_listen, [Fd, I];
    364 accept4 blocks => net::sys_accept4, [Fd, Ptr, Ptr, X];
    365 getsockopt => net::sys_getsockopt, [Fd, I, I, Ptr, Ptr];
    366 setsockopt => net::sys_setsockopt, [Fd, I, I, Ptr, U];
    367 getsockname => net::sys_getsockname, [Fd, Ptr, Ptr];
    368 getpeername => net::sys_getpeername, [Fd, Ptr, Ptr];
    369 sendto blocks => net::sys_sendto, [Fd, InBuf(2), U, X, Ptr, U];
    370 sendmsg blocks => net::sys_sendmsg, [Fd, Ptr, X];
    371 recvfrom blocks => net::sys_recvfrom, [Fd, OutBuf, U, X, Ptr, Ptr];
    372 recvmsg blocks => net::sys_recvmsg, [Fd, Ptr, X];
    373 shutdown => net::sys_shutdown, [Fd, I];
    376 mlock2 => misc::sys_ok, [X, U, X];
    377 copy_file_range blocks => splice::sys_copy_file_range, [Fd, Ptr, Fd, Ptr, U, X];
    378 preadv2 blocks => fs::sys_preadv2, [Fd, Ptr, I, U, U, X];
    379 pwritev2 blocks => fs::sys_pwritev2, [Fd, Ptr, I, U, U, X];
    383 statx => fsmeta::sys_statx, [AtFd, Path, X, X, Ptr];
    386 rseq => misc::sys_enosys, [Ptr, U, X, X];
    403 clock_gettime64 => time::sys_clock_gettime64, [Clock, Ptr];
    404 clock_settime64 => time::sys_clock_settime64, [Clock, Ptr];
    406 clock_getres_time64 => time::sys_clock_getres64, [Clock, Ptr];
    407 clock_nanosleep_time64 blocks => time::sys_clock_nanosleep64, [Clock, X, Ptr, Ptr];
    408 timer_gettime64 => time::sys_timer_gettime64, [I, Ptr];
    409 timer_settime64 => time::sys_timer_settime64, [I, X, Ptr, Ptr];
    410 timerfd_gettime64 => event::sys_timerfd_gettime64, [Fd, Ptr];
    411 timerfd_settime64 => event::sys_timerfd_settime64, [Fd, X, Ptr, Ptr];
    412 utimensat_time64 => fsmeta::sys_utimensat64, [AtFd, Path, Ptr, X];
    413 pselect6_time64 blocks => poll::sys_pselect6_time64, [I, Ptr, Ptr, Ptr, Ptr, Ptr];
    414 ppoll_time64 blocks => poll::sys_ppoll_time64, [Ptr, U, Ptr, Ptr, U];
    417 recvmmsg_time64 blocks => net::sys_recvmmsg, [Fd, Ptr, U, X, Ptr];
    421 rt_sigtimedwait_time64 blocks => signal::sys_rt_sigtimedwait64, [Ptr, Ptr, Ptr, U];
    422 futex_time64 blocks => misc::sys_futex64, [X, Futex, I, Ptr];
    // glibc tries clone3 first and falls back to clone on ENOSYS.
    423 sched_rr_get_interval_time64 => sched::sys_sched_rr_get_interval64, [I, Ptr];
    424 pidfd_send_signal ends => signal::sys_pidfd_send_signal, [Fd, Sig, Ptr, X];
    434 pidfd_open => process::sys_pidfd_open, [I, X];
    435 clone3 => misc::sys_enosys, [Ptr, U];
    436 close_range => fs::sys_close_range, [U, U, X];
    438 pidfd_getfd => process::sys_pidfd_getfd, [Fd, Fd, X];
    439 faccessat2 => fsmeta::sys_faccessat2, [AtFd, Path, X, X];
    441 epoll_pwait2 blocks => event::sys_epoll_pwait2, [Fd, Ptr, I, Ptr, Ptr, U];
}

/// The row for a call number.
pub fn lookup(nr: u32) -> Option<&'static Row> {
    TABLE
        .binary_search_by_key(&nr, |r| r.nr)
        .ok()
        .map(|i| &TABLE[i])
}

/// The Linux name of a call number, implemented or not ("unknown" past
/// Linux's table or in one of its holes).
pub fn name_of(nr: u32) -> &'static str {
    if let Some(r) = lookup(nr) {
        return r.name;
    }
    match names::NAMES.get(nr as usize) {
        Some(name) if !name.is_empty() => name,
        _ => "unknown",
    }
}

/// Whether a row really provides its call (rows that answer ENOSYS on
/// purpose, like clone3 and rseq, do not count as implemented).
#[cfg(test)]
fn provides(r: &Row) -> bool {
    r.handler.addr() != misc::sys_enosys as *const ()
}

/// Linux's i386 calls Wax does not provide, by number.
#[cfg(test)]
pub fn missing() -> Vec<(u32, &'static str)> {
    (0u32..)
        .zip(names::NAMES)
        .filter(|(nr, name)| !name.is_empty() && !lookup(*nr).is_some_and(provides))
        .collect()
}

/// "N of M": how many of Linux's i386 calls have a working row.
#[cfg(test)]
pub fn coverage() -> (usize, usize) {
    let known = names::NAMES.iter().filter(|n| !n.is_empty()).count();
    (known - missing().len(), known)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_unique() {
        assert!(TABLE.windows(2).all(|w| w[0].nr < w[1].nr));
        assert_eq!(lookup(295).unwrap().name, "openat");
        assert_eq!(name_of(2), "fork");
        assert_eq!(name_of(9999), "unknown");
        assert_eq!(name_of(222), "unknown");
        assert_eq!(name_of(26), "ptrace");
    }

    #[test]
    fn rows_carry_linux_names() {
        for r in TABLE {
            assert_eq!(r.name, names::NAMES[r.nr as usize], "row {}", r.nr);
        }
    }

    /// `cargo test -p wax-kernel coverage -- --nocapture` prints the line
    /// ARCHITECTURE.md quotes.
    #[test]
    fn coverage_line() {
        let (have, all) = coverage();
        let missing: Vec<String> = missing()
            .iter()
            .map(|(nr, name)| format!("{name} ({nr})"))
            .collect();
        println!(
            "{have} of Linux's {all} i386 system calls; missing: {}",
            missing.join(", ")
        );
        assert_eq!(have + missing.len(), all);
        assert!(have > 200);
    }
}
