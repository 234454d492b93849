//! Userland C programs, one per kernel area (tests/programs/u_*.c):
//! processes and exec, wait statuses and pipes, signals with handlers that
//! change the saved context and the alternate stack, timers, CPU-time
//! accounting, threads, futex edge cases, resource limits and sysinfo,
//! memory mappings, shared memory through an unlinked file (on a host
//! directory and on `--tmpfs-tmp`), files and errno values, pidfds,
//! extended attributes (host directory and tmpfs), credentials on Unix
//! sockets after setuid (SO_PEERCRED, SCM_CREDENTIALS), chroot and the host
//! name, code that changes while it runs (a toy in-guest JIT), sockets (internet
//! sockets with `--net loopback` and `--net host`; netlink's interface
//! dumps), and poll/select/epoll.
//!
//! Each program is built twice, static (`gcc -m32 -static -O2`) and
//! dynamic (`gcc -m32 -O2 -pthread`, loading the host's i386 libc both
//! natively and under wax, whose default root is the host's `/`). Both
//! runs must agree on stdout and exit status, and so must a third run
//! under Node's V8 (`node web/node/wax.mjs run`, the wasm32 build, on the
//! default image; not for cases that need `wax run` options, and
//! `NODE_DIFFERENCES` lists the expected differences); the programs print nothing
//! to stderr, natively or under wax (a system call wax lacks, like the
//! clone3 glibc probes before falling back to clone, returns ENOSYS and is
//! noted only in `WAX_LOG`). The programs print only deterministic facts:
//! no pids, addresses or timings.
//!
//! Programs that still differ because of a kernel gap are listed in
//! `KNOWN_FAILURES` with the reason. They still run every time: the test
//! prints the difference (and says so when one starts to pass) instead of
//! failing, so the list is the single place that records what is missing.

mod common;

use std::time::Duration;

use common::{
    c_program, c_program_dynamic, differences, run_with_timeout, Compare, Invocation, Run, TempDir,
};

/// Programs that differ from native today, with the reason found by
/// `wax run --strace`. Each entry covers the static and the dynamic build.
const KNOWN_FAILURES: &[(&str, &str)] = &[];

/// Programs whose run under Node differs from native for a reason that is
/// not a bug: the Node runner's root is the default ext2 image (in memory)
/// and it has no host to take limits from. They still run under Node and
/// the difference is printed, but it does not fail the test.
const NODE_DIFFERENCES: &[(&str, &str)] = &[
    (
        "u_files",
        "the scratch directory is on the ext2 image, and Linux's ext2 has no \
         RENAME_EXCHANGE (EINVAL), where the host's file system has",
    ),
    (
        "u_limits",
        "the wasm32 build has no host resource limits to pass on: RLIMIT_NPROC \
         is Wax's default",
    ),
    (
        "u_xattr",
        "the scratch directory is on the ext2 image, which has no extended \
         attributes (EOPNOTSUPP, as a Linux ext2 without xattr support)",
    ),
];

/// How long one run may take before it counts as hung.
const TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Clone, Copy, Debug)]
enum Linkage {
    Static,
    Dynamic,
}

/// One program run: `name` from tests/programs, optionally given a fresh
/// scratch directory as its first argument, then `extra` arguments;
/// under wax with `wax_opts` before the program.
struct Case {
    name: &'static str,
    scratch_dir: bool,
    extra: &'static [&'static str],
    wax_opts: &'static [&'static str],
    timeout: Duration,
}

impl Case {
    const fn plain(name: &'static str) -> Case {
        Case {
            name,
            scratch_dir: false,
            extra: &[],
            wax_opts: &[],
            timeout: TIMEOUT,
        }
    }

    const fn in_dir(name: &'static str) -> Case {
        Case {
            scratch_dir: true,
            ..Case::plain(name)
        }
    }

    /// The key in `KNOWN_FAILURES`: wax's options, the name and the extra
    /// arguments.
    fn key(&self) -> String {
        self.wax_opts
            .iter()
            .copied()
            .chain(std::iter::once(self.name))
            .chain(self.extra.iter().copied())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Runs the case natively and under wax, each in its own directory so
    /// the two runs cannot see each other's files.
    fn run(&self, linkage: Linkage) -> (Invocation, Run, Run) {
        let program = match linkage {
            Linkage::Static => c_program(self.name),
            Linkage::Dynamic => c_program_dynamic(self.name),
        };
        let native_dir = TempDir::new(&format!("{}-n", self.name));
        let wax_dir = TempDir::new(&format!("{}-w", self.name));
        let invocation = |dir: &TempDir| {
            let mut inv = Invocation::new(&program).timeout(self.timeout);
            if self.scratch_dir {
                inv = inv.arg(dir.path());
            }
            inv.args(self.extra.iter().copied())
        };
        let native = invocation(&native_dir).run_native();
        let wax_inv = invocation(&wax_dir);
        let wax = self.run_wax(&wax_inv);
        (wax_inv, native, wax)
    }

    /// Runs the case under Node's V8 (the wasm32 build, the default image
    /// as root: a dynamic build loads the image's libc), in a third
    /// directory; `None` for cases that need `wax run` options (and with
    /// `WAX_TEST_NODE=0`).
    fn run_node(&self, linkage: Linkage) -> Option<(Invocation, Run)> {
        if !self.wax_opts.is_empty() {
            return None;
        }
        let program = match linkage {
            Linkage::Static => c_program(self.name),
            Linkage::Dynamic => c_program_dynamic(self.name),
        };
        let dir = TempDir::new(&format!("{}-v", self.name));
        let mut inv = Invocation::new(&program).timeout(self.timeout);
        if self.scratch_dir {
            inv = inv.arg(dir.path());
        }
        let inv = inv.args(self.extra.iter().copied());
        let run = inv.run_node()?;
        Some((inv, run))
    }

    fn run_wax(&self, inv: &Invocation) -> Run {
        if self.wax_opts.is_empty() {
            return inv.run_wax();
        }
        let mut cmd = common::wax_run();
        if self.wax_opts == JIT {
            // Translate pages early, so short programs exercise the JIT, and
            // compile everything afresh (no on-disk code cache).
            cmd.env("WAX_JIT_THRESHOLD", "1000");
            // Compile in line: modules run from the same points every
            // time (a background compile may finish after the short phase
            // that needed it).
            cmd.env("WAX_JIT_BACKGROUND", "0");
            cmd.env("WAX_CODE_CACHE", "off");
        }
        cmd.args(self.wax_opts).arg(&inv.program).args(&inv.args);
        run_with_timeout(cmd, &inv.stdin, inv.timeout)
    }
}

/// Everything about the runs that must match, as one report (or `None`).
fn problems(inv: &Invocation, native: &Run, wax: &Run) -> Option<String> {
    let mut out: Vec<String> = differences(inv, native, wax, Compare::StdoutAndStatus)
        .into_iter()
        .collect();
    if !native.stderr.is_empty() {
        out.push(format!(
            "the NATIVE run wrote to stderr (the program should not): {}",
            native.stderr_text()
        ));
    }
    if !wax.stderr.is_empty() && out.is_empty() {
        out.push(format!(
            "unexpected stderr under wax:\n{}",
            wax.stderr_text()
        ));
    }
    (!out.is_empty()).then(|| out.join("\n"))
}

fn check(case: Case, linkage: Linkage) {
    let (inv, native, wax) = case.run(linkage);
    let what = format!("{} ({linkage:?})", case.key());
    let known = KNOWN_FAILURES.iter().find(|(k, _)| *k == case.key());
    let mut report = problems(&inv, &native, &wax).map(|r| format!("wax differs from native\n{r}"));
    if let Some((inv, node)) = case.run_node(linkage) {
        let expected = NODE_DIFFERENCES.iter().find(|(k, _)| *k == case.key());
        match (problems(&inv, &native, &node), expected) {
            (Some(r), None) => {
                report = Some(format!(
                    "{}under Node (node web/node/wax.mjs run) it differs from native\n{r}",
                    report.map_or(String::new(), |w| w + "\n")
                ))
            }
            (Some(r), Some((_, why))) => {
                eprintln!("{what}: under Node, an expected difference ({why})\n{r}")
            }
            (None, Some(_)) => eprintln!(
                "{what}: listed in NODE_DIFFERENCES but matches native under Node: remove it"
            ),
            (None, None) => {}
        }
    }
    match (report, known) {
        (None, None) => {}
        (None, Some(_)) => eprintln!(
            "{what}: listed in KNOWN_FAILURES but now matches native: remove it from the list"
        ),
        (Some(report), Some((_, reason))) => {
            eprintln!("{what}: KNOWN FAILURE ({reason})\n{report}")
        }
        (Some(report), None) => panic!("{what}: {report}"),
    }
}

/// A static and a dynamic test for one case.
macro_rules! both {
    ($static_name:ident, $dynamic_name:ident, $case:expr) => {
        #[test]
        fn $static_name() {
            check($case, Linkage::Static);
        }

        #[test]
        fn $dynamic_name() {
            check($case, Linkage::Dynamic);
        }
    };
}

both!(
    processes_exec_wait_pipes_static,
    processes_exec_wait_pipes_dynamic,
    Case::plain("u_proc")
);
both!(
    signals_context_altstack_static,
    signals_context_altstack_dynamic,
    Case::plain("u_signals")
);
both!(timers_static, timers_dynamic, Case::plain("u_timers"));
both!(
    cpu_time_accounting_static,
    cpu_time_accounting_dynamic,
    Case::plain("u_cputime")
);
both!(
    threads_sync_tls_atomics_static,
    threads_sync_tls_atomics_dynamic,
    Case::plain("u_threads")
);
both!(
    futex_edge_cases_static,
    futex_edge_cases_dynamic,
    Case::plain("u_futex")
);
both!(
    mmap_mprotect_mremap_static,
    mmap_mprotect_mremap_dynamic,
    Case::in_dir("u_mmap")
);
both!(
    shared_file_mappings_static,
    shared_file_mappings_dynamic,
    Case {
        // An unlinked file in a host directory, then one in the host's /tmp.
        extra: &["/tmp"],
        ..Case::in_dir("u_shm")
    }
);
both!(
    shared_file_mappings_tmpfs_static,
    shared_file_mappings_tmpfs_dynamic,
    Case {
        extra: &["/tmp"],
        wax_opts: &["--tmpfs-tmp"],
        ..Case::plain("u_shm")
    }
);
both!(
    files_and_errno_static,
    files_and_errno_dynamic,
    Case::in_dir("u_files")
);
both!(
    fifos_static,
    fifos_dynamic,
    Case {
        extra: &["fifo"],
        // A hang here is a known failure: do not wait the full minute.
        timeout: Duration::from_secs(10),
        ..Case::in_dir("u_files")
    }
);
both!(sockets_static, sockets_dynamic, Case::in_dir("u_sockets"));
both!(
    inet_loopback_static,
    inet_loopback_dynamic,
    Case {
        wax_opts: &["--net", "loopback"],
        ..Case::plain("u_inet")
    }
);
both!(
    interfaces_host_static,
    interfaces_host_dynamic,
    Case {
        wax_opts: &["--net", "host"],
        ..Case::plain("u_ifaces")
    }
);
both!(
    netlink_interfaces_host_static,
    netlink_interfaces_host_dynamic,
    Case {
        wax_opts: &["--net", "host"],
        ..Case::plain("u_netlink")
    }
);
both!(
    inet_host_static,
    inet_host_dynamic,
    Case {
        wax_opts: &["--net", "host"],
        ..Case::plain("u_inet")
    }
);
both!(pidfds_static, pidfds_dynamic, Case::plain("u_pidfd"));
both!(
    checks_after_setuid_static,
    checks_after_setuid_dynamic,
    Case::plain("u_setuid")
);
both!(
    socket_credentials_after_setuid_static,
    socket_credentials_after_setuid_dynamic,
    Case::in_dir("u_peercred")
);
both!(
    blocking_pipe_writes_move_every_byte_static,
    blocking_pipe_writes_move_every_byte_dynamic,
    Case::plain("u_pipewrite")
);
both!(
    sendfile_into_a_full_pipe_static,
    sendfile_into_a_full_pipe_dynamic,
    Case::in_dir("u_sendfile")
);
both!(
    chroot_and_host_name_static,
    chroot_and_host_name_dynamic,
    Case::in_dir("u_chroot")
);
both!(
    xattrs_on_a_host_directory_static,
    xattrs_on_a_host_directory_dynamic,
    Case::in_dir("u_xattr")
);
both!(
    xattrs_on_tmpfs_static,
    xattrs_on_tmpfs_dynamic,
    Case {
        extra: &["/tmp"],
        wax_opts: &["--tmpfs-tmp"],
        ..Case::plain("u_xattr")
    }
);
both!(
    resource_limits_from_host_static,
    resource_limits_from_host_dynamic,
    Case::plain("u_limits")
);
both!(
    sysinfo_matches_proc_static,
    sysinfo_matches_proc_dynamic,
    Case::plain("u_sysinfo")
);
both!(
    sysinfo_past_4g_memory_static,
    sysinfo_past_4g_memory_dynamic,
    Case {
        // Memory in bytes no longer fits sysinfo's 32-bit fields.
        wax_opts: &["--memory", "4G"],
        ..Case::plain("u_sysinfo")
    }
);

/// A guest that touches more memory than `--memory` is killed with
/// SIGKILL as by Linux's OOM killer, and wax says why on stderr (natively
/// the program just finishes: the host has the memory).
#[test]
fn out_of_memory_kills_like_the_oom_killer() {
    let program = c_program("u_oom");
    let run_with = |args: &[&str]| {
        let mut cmd = common::wax_run();
        cmd.args(["--memory", "64M"]).arg(&program).args(args);
        run_with_timeout(cmd, &[], TIMEOUT)
    };
    let me = run_with(&["self"]);
    assert!(
        common::host_problems(&me).is_empty(),
        "{:?}",
        common::host_problems(&me)
    );
    assert_eq!(
        me.status,
        common::Status::Exited(128 + 9),
        "{}",
        me.stderr_text()
    );
    let said = "wax: guest memory (64 MiB, --memory) ran out; process 1000 (u_oom) killed; \
                raise it with --memory SIZE";
    assert!(
        me.stderr_text().contains(said),
        "stderr: {}",
        me.stderr_text()
    );
    let child = run_with(&["child"]);
    assert_eq!(
        String::from_utf8_lossy(&child.stdout),
        "child killed by signal 9\nparent still runs\n",
        "stderr: {}",
        child.stderr_text()
    );
    assert_eq!(child.status, common::Status::Exited(0));
    assert!(child.stderr_text().contains("process 1001 (u_oom) killed"));
}

/// sysinfo's task count is machine-wide: natively it counts the host's
/// tasks, under wax the guest's, so this runs under wax only and expects
/// the program's own tasks.
#[test]
fn sysinfo_counts_the_guest_tasks() {
    let program = c_program("u_sysinfo");
    let mut cmd = common::wax_run();
    cmd.arg(&program).arg("counts");
    let run = run_with_timeout(cmd, &[], TIMEOUT);
    let expected = "start 1\nfork 2\nthread 3\nzombie child, thread joined 2\nreaped 1\n";
    assert_eq!(
        String::from_utf8_lossy(&run.stdout),
        expected,
        "stderr: {}",
        run.stderr_text()
    );
}
both!(
    poll_select_epoll_static,
    poll_select_epoll_dynamic,
    Case::plain("u_poll")
);

/// The JIT (`--engine jit`): the same programs, translated where hot, must
/// still match native exactly (the interpreter is its oracle; these check
/// it on whole programs: processes, signal frames, threads, mappings).
const JIT: &[&str] = &["--engine", "jit"];
both!(
    jit_processes_static,
    jit_processes_dynamic,
    Case {
        wax_opts: JIT,
        ..Case::plain("u_proc")
    }
);
both!(
    jit_signals_static,
    jit_signals_dynamic,
    Case {
        wax_opts: JIT,
        ..Case::plain("u_signals")
    }
);
both!(
    jit_threads_static,
    jit_threads_dynamic,
    Case {
        wax_opts: JIT,
        ..Case::plain("u_threads")
    }
);
both!(
    jit_futex_static,
    jit_futex_dynamic,
    Case {
        wax_opts: JIT,
        ..Case::plain("u_futex")
    }
);
both!(
    self_modifying_code_static,
    self_modifying_code_dynamic,
    Case::in_dir("u_smc")
);
both!(
    jit_self_modifying_code_static,
    jit_self_modifying_code_dynamic,
    Case {
        wax_opts: JIT,
        ..Case::in_dir("u_smc")
    }
);
both!(
    jit_mmap_static,
    jit_mmap_dynamic,
    Case {
        wax_opts: JIT,
        ..Case::in_dir("u_mmap")
    }
);
