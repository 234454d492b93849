//! `wax`: runs i386 Linux programs.
//!
//! `wax run [--root DIR] [--strace] [--memory SIZE] [--user UID:GID]
//! [--tmpfs-tmp] [--net host|loopback|none] PROGRAM [ARGS...]`
//! loads PROGRAM (a host path) into a fresh kernel whose guest paths
//! resolve inside DIR, connects the guest's stdio to this process's, and
//! exits with the guest's status (128 + N when signal N killed it), or
//! with 74 when the guest's changes to an `--overlay` or `--rw` image could
//! not be written back at exit (src/host/block.rs says why).
//!
//! `wax shell [--image FILE]` runs a Debian login shell on this terminal
//! (src/shell.rs).
//!
//! `wax serve [--addr A] [--image FILE] [--export DIR]` serves the browser
//! app and an image, or writes them as a static site (src/serve.rs).

mod engine;
mod host;
mod serve;
mod shell;
mod wisp;

use clap::{Parser, Subcommand};
use std::cell::RefCell;
use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use wax_kernel::{Config, ExitStatus, Host, Kernel, Program, RunStatus};

#[derive(Parser)]
#[command(name = "wax", version, about = "Run unmodified i386 Linux programs")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run an i386 Linux program.
    Run(RunArgs),
    /// An interactive Debian login shell on this terminal.
    Shell(shell::ShellArgs),
    /// Serve the browser app and a disk image over HTTP, or export them as
    /// a static site.
    Serve(serve::ServeArgs),
}

#[derive(clap::Args)]
struct RunArgs {
    /// Directory that is the guest's root file system.
    #[arg(long, default_value = "/")]
    root: PathBuf,
    /// Print every system call with its arguments and result to stderr.
    #[arg(long)]
    strace: bool,
    /// Guest machine memory (e.g. 512M, 2G); committed lazily.
    #[arg(long, default_value = "2G", value_parser = parse_size)]
    memory: u64,
    /// The user and group the guest runs as ("UID:GID" or "UID").
    #[arg(long, default_value = "0:0", value_parser = parse_user)]
    user: (u32, u32),
    /// Mount an empty in-memory tmpfs on /tmp (by default /tmp is the
    /// root's own directory, as under chroot or qemu-i386; /dev/shm is
    /// always a tmpfs).
    #[arg(long)]
    tmpfs_tmp: bool,
    /// An ext2 image (file or http:// URL) as the root instead of --root;
    /// writes are kept in memory and discarded at exit.
    #[arg(long, value_name = "FILE|URL")]
    image: Option<String>,
    /// With --image: write changes through to the image file.
    #[arg(long, requires = "image")]
    rw: bool,
    /// With --image: keep changes in FILE (created if missing), which
    /// persists between runs while the image stays untouched.
    #[arg(long, requires = "image", value_name = "FILE")]
    overlay: Option<PathBuf>,
    /// How guest internet sockets reach anything: `host` (host
    /// sockets), `loopback` (only guest to guest, inside the machine) or
    /// `none` (network down).
    #[arg(long, value_enum, default_value_t)]
    net: host::net::NetArg,
    /// Send guest connections that leave the machine through the Wisp
    /// relay at URL (`wax serve --net` provides one at ws://ADDR/wisp/),
    /// as the browser tab does; loopback stays inside the machine.
    #[arg(long, value_name = "URL", conflicts_with = "net")]
    net_relay: Option<String>,
    /// What runs guest code: the interpreter, or the JIT (hot pages
    /// translated to wasm, compiled by wasmtime).
    #[arg(long, value_enum, env = "WAX_ENGINE", default_value = "jit")]
    engine: engine::EngineKind,
    #[command(flatten)]
    jit: engine::JitArgs,
    /// Print what ran the guest (instructions translated and interpreted,
    /// modules compiled, compile time) on stderr at exit.
    #[arg(long)]
    stats: bool,
    /// The program (a host path) and its arguments.
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    program: Vec<OsString>,
}

/// "123", "64K", "512M", "2G".
fn parse_size(s: &str) -> Result<u64, String> {
    let (num, mul) = match s.to_ascii_uppercase().chars().last() {
        Some('K') => (&s[..s.len() - 1], 1u64 << 10),
        Some('M') => (&s[..s.len() - 1], 1 << 20),
        Some('G') => (&s[..s.len() - 1], 1 << 30),
        _ => (s, 1),
    };
    let n: u64 = num.parse().map_err(|_| format!("bad size {s:?}"))?;
    let bytes = n.checked_mul(mul).ok_or("size too large")?;
    if !(16 << 20..=4 << 30).contains(&bytes) {
        return Err("memory must be between 16M and 4G".into());
    }
    Ok(bytes)
}

/// "1000:1000" or "1000" (the group then equals the user).
fn parse_user(s: &str) -> Result<(u32, u32), String> {
    let num = |v: &str| {
        v.parse::<u32>()
            .map_err(|_| format!("bad user {s:?}: want UID:GID"))
    };
    match s.split_once(':') {
        Some((u, g)) => Ok((num(u)?, num(g)?)),
        None => Ok((num(s)?, num(s)?)),
    }
}

/// Instructions per `run` call between checks for ^C.
const BUDGET: u64 = 20_000_000;
/// Longest wait for input before checking for ^C again.
const POLL: Duration = Duration::from_millis(50);

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_sigint(_: libc::c_int) {
    INTERRUPTED.store(true, Ordering::Relaxed);
}

/// Routes ^C to the guest instead of killing wax.
fn catch_sigint() {
    // SAFETY: the handler only stores to an atomic, which is
    // async-signal-safe.
    unsafe {
        libc::signal(libc::SIGINT, on_sigint as *const () as libc::sighandler_t);
    }
}

fn main() {
    let cli = Cli::parse();
    init_tracing();
    let status = match cli.command {
        Command::Run(args) => run(args),
        Command::Shell(args) => shell::run(args),
        Command::Serve(args) => serve::run(args),
    };
    std::process::exit(status);
}

/// Prints kernel warnings as "wax: ..." and strace lines as they are, on
/// stderr; `wax_log` events (system calls Wax does not provide) go only to
/// the file `WAX_LOG` names, so a guest's stderr stays the guest's.
fn init_tracing() {
    use tracing_subscriber::fmt::{format::Writer, FmtContext, FormatEvent, FormatFields};
    use tracing_subscriber::registry::LookupSpan;
    struct Plain;
    impl<S, N> FormatEvent<S, N> for Plain
    where
        S: tracing::Subscriber + for<'a> LookupSpan<'a>,
        N: for<'a> FormatFields<'a> + 'static,
    {
        fn format_event(
            &self,
            ctx: &FmtContext<'_, S, N>,
            mut w: Writer<'_>,
            event: &tracing::Event<'_>,
        ) -> std::fmt::Result {
            if event.metadata().target() != "strace" {
                w.write_str("wax: ")?;
            }
            ctx.field_format().format_fields(w.by_ref(), event)?;
            writeln!(w)
        }
    }
    tracing_subscriber::fmt()
        .event_format(Plain)
        .with_writer(host::log::LogWriter::from_env())
        .init();
}

fn run(args: RunArgs) -> i32 {
    if let Some(image) = args.image.clone() {
        return run_image(&args, &image);
    }
    let root = args
        .root
        .canonicalize()
        .unwrap_or_else(|_| args.root.clone());
    if !root.is_dir() {
        eprintln!("wax: --root {}: not a directory", args.root.display());
        return 125;
    }
    let prog = PathBuf::from(&args.program[0]);
    let shown = prog.display().to_string();
    let cwd = std::env::current_dir()
        .ok()
        .and_then(|d| d.strip_prefix(&root).ok().map(Path::to_path_buf))
        .map_or(b"/".to_vec(), |rel| {
            [b"/", rel.as_os_str().as_bytes()].concat()
        });
    if root != Path::new("/") && prog.is_absolute() {
        // Like `chroot ROOT PROGRAM`: an absolute program path names a file
        // inside the root.
        let mut fs = host::fs::HostFs::new(root.clone());
        let (file, size, exe_path) =
            match host::block::open_program(&mut fs, prog.as_os_str().as_bytes()) {
                Ok(p) => p,
                Err(e) => {
                    eprintln!("wax: {shown}: {} (in {})", e.text(), root.display());
                    return if e == wax_kernel::Errno::ENOENT {
                        127
                    } else {
                        126
                    };
                }
            };
        return launch(
            &args,
            Box::new(fs),
            Launch {
                file,
                size,
                exe_path,
                cwd,
            },
            || Ok(()),
        );
    }
    // Otherwise PROGRAM is a host path, as for qemu-i386. Refuse what is not
    // a regular file before opening it: opening a FIFO would wait for a
    // writer forever.
    match std::fs::metadata(&prog) {
        Ok(m) if !m.is_file() => {
            let what = if m.is_dir() {
                "Is a directory"
            } else {
                "not a regular file"
            };
            eprintln!("wax: {shown}: {what}");
            return 126;
        }
        _ => {}
    }
    let file = match std::fs::File::open(&prog) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("wax: {shown}: {}", describe(&e));
            return if e.kind() == std::io::ErrorKind::NotFound {
                127
            } else {
                126
            };
        }
    };
    let size = match file.metadata() {
        Ok(m) => m.len(),
        Err(e) => {
            eprintln!("wax: {shown}: {}", describe(&e));
            return 126;
        }
    };
    let program = Launch {
        file: Box::new(host::fs::HostFile(file)),
        size,
        exe_path: guest_exe_path(&prog, &root),
        cwd,
    };
    launch(
        &args,
        Box::new(host::fs::HostFs::new(root)),
        program,
        || Ok(()),
    )
}

/// `wax run --image`: the program is a guest path inside the image.
fn run_image(args: &RunArgs, image: &str) -> i32 {
    let mut fs = match host::block::mount(image, args.rw, args.overlay.as_deref()) {
        Ok(fs) => fs,
        Err(e) => {
            eprintln!("wax: {e}");
            return 125;
        }
    };
    let shown = args.program[0].to_string_lossy().into_owned();
    let (file, size, exe_path) =
        match host::block::open_program(&mut fs, args.program[0].as_bytes()) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("wax: {shown}: {} (in the image)", e.text());
                return if e == wax_kernel::Errno::ENOENT {
                    127
                } else {
                    126
                };
            }
        };
    let program = Launch {
        file,
        size,
        exe_path,
        cwd: b"/".to_vec(),
    };
    // Guest files are closed when `launch` drops the kernel, so files
    // unlinked while open are freed before the image is written back.
    let sync_fs = fs.clone();
    launch(args, Box::new(fs), program, move || {
        host::block::write_back(&sync_fs, image, args.rw, args.overlay.as_deref())
    })
}

/// The program to start: its open file, size, guest path, and the guest's
/// initial working directory.
struct Launch {
    file: Box<dyn wax_kernel::vfs::FileHandle>,
    size: u64,
    exe_path: Vec<u8>,
    cwd: Vec<u8>,
}

/// Starts the program in a new kernel over `root`, runs it to the end, then
/// calls `finish` (after the kernel and all guest files are gone). Returns
/// the exit status for the host.
fn launch(
    args: &RunArgs,
    root: Box<dyn wax_kernel::vfs::FileSystem>,
    mut program: Launch,
    finish: impl FnOnce() -> Result<(), String>,
) -> i32 {
    let shown = args.program[0].to_string_lossy().into_owned();
    let stdin = Arc::new(host::stdio::StdinShared::default());
    let (mode, outside) = match host::net::network(args.net, args.net_relay.as_deref()) {
        Ok(n) => n,
        Err(e) => {
            eprintln!("wax: {e}");
            return 125;
        }
    };
    let mut kernel = match new_kernel(args, root, stdin.clone()) {
        Ok(mut k) => {
            k.set_network(mode);
            k
        }
        Err(e) => {
            eprintln!("wax: {e}");
            return 125;
        }
    };
    let exec = Program {
        file: program.file.as_mut(),
        size: program.size,
        exe_path: program.exe_path,
        argv: args.program.iter().map(|a| a.as_bytes().to_vec()).collect(),
        envp: std::env::vars_os()
            .filter(|(k, _)| {
                k != host::log::WAX_LOG && k != "WAX_ENGINE" && k != "WAX_JIT_THRESHOLD"
            })
            .map(|(k, v)| [k.into_vec(), b"=".to_vec(), v.into_vec()].concat())
            .collect(),
        execfn: args.program[0].as_bytes().to_vec(),
        cwd: program.cwd,
    };
    if let Err(e) = kernel.exec(exec) {
        eprintln!("wax: {shown}: cannot execute: {e}");
        return 126;
    }
    drop(program.file);
    let saved = host::stdio::HostTty::save(0);
    catch_sigint();
    let status = drive(&mut kernel, &stdin, outside.as_ref());
    if let Some(t) = saved {
        host::stdio::HostTty::restore(0, &t);
    }
    if args.stats {
        engine::print_stats(&kernel);
    }
    let lost = host::block::lost_mapped_writes(&kernel.lost_writes());
    drop(kernel);
    let kept = finish();
    report(&shown, status);
    let failures: Vec<String> = [lost, kept].into_iter().filter_map(Result::err).collect();
    if !failures.is_empty() {
        for e in failures {
            eprintln!("wax: {e}");
        }
        eprintln!(
            "wax: exiting with status {} (the program's was {})",
            host::block::EXIT_NOT_KEPT,
            status.shell_status()
        );
        return host::block::EXIT_NOT_KEPT;
    }
    status.shell_status()
}

fn new_kernel(
    args: &RunArgs,
    root: Box<dyn wax_kernel::vfs::FileSystem>,
    stdin: Arc<host::stdio::StdinShared>,
) -> Result<Kernel, String> {
    let stdio = |e: std::io::Error| format!("cannot set up stdio: {e}");
    let host = Host {
        clock: Box::new(host::HostClock::new()),
        entropy: Rc::new(RefCell::new(host::HostEntropy::new())),
        stdin: Rc::new(RefCell::new(
            host::stdio::StdinStream::new(stdin).map_err(stdio)?,
        )),
        stdout: Rc::new(RefCell::new(
            host::stdio::OutStream::stdout().map_err(stdio)?,
        )),
        stderr: Rc::new(RefCell::new(
            host::stdio::OutStream::stderr().map_err(stdio)?,
        )),
        root,
    };
    let (uid, gid) = args.user;
    let config = Config {
        memory: args.memory,
        strace: args.strace,
        uid,
        gid,
    };
    let mut kernel = engine::kernel(host, config, args.engine, &args.jit)?;
    kernel.set_rlimits(host::host_rlimits());
    kernel.set_ignored_signals(host::inherited_ignored_signals());
    kernel.mount_tmpfs(args.tmpfs_tmp);
    Ok(kernel)
}

/// Runs the guest to the end, waiting for input or timers when it is idle.
fn drive(
    kernel: &mut Kernel,
    stdin: &host::stdio::StdinShared,
    net: Option<&host::net::Outside>,
) -> ExitStatus {
    loop {
        if INTERRUPTED.swap(false, Ordering::Relaxed) {
            kernel.raise(2);
        }
        if let Some(n) = net {
            n.pump();
        }
        let status = kernel.run(BUDGET);
        if let Some(n) = net {
            n.pump();
        }
        report_oom(kernel, "\n");
        match status {
            RunStatus::Budget => {}
            RunStatus::Exited(s) => return s,
            RunStatus::Idle { deadline } => {
                let wait = deadline.map_or(POLL, |d| {
                    let now = kernel_monotonic(kernel);
                    let left = (d.as_nanos() - now).clamp(0, POLL.as_nanos() as i128);
                    Duration::from_nanos(left as u64)
                });
                host::net::idle_wait(net, wait, |w| stdin.wait(w));
            }
        }
    }
}

/// One line on stderr for each guest process killed because guest
/// memory ran out (`newline`: "\r\n" on a raw terminal).
pub(crate) fn report_oom(kernel: &mut Kernel, newline: &str) {
    for kill in kernel.take_oom_kills() {
        eprint!(
            "wax: guest memory ({}, --memory) ran out; process {} ({}) killed; \
             raise it with --memory SIZE{newline}",
            show_size(kill.memory),
            kill.pid,
            kill.comm
        );
    }
}

/// A memory size the way --memory takes it, in the largest exact unit.
fn show_size(bytes: u64) -> String {
    match bytes {
        b if b % (1 << 30) == 0 => format!("{} GiB", b >> 30),
        b if b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b => format!("{b} bytes"),
    }
}

fn kernel_monotonic(kernel: &Kernel) -> i128 {
    kernel.monotonic().as_nanos()
}

/// What /proc/self/exe shows: the guest path when the program is inside
/// the root, else its host path (as qemu-user does).
fn guest_exe_path(prog: &Path, root: &Path) -> Vec<u8> {
    let abs = prog.canonicalize().unwrap_or_else(|_| prog.to_path_buf());
    guest_path(&abs, root)
}

/// The guest path of an absolute host path inside the root, else the host
/// path itself.
fn guest_path(abs: &Path, root: &Path) -> Vec<u8> {
    match abs.strip_prefix(root) {
        Ok(rel) => {
            let mut p = b"/".to_vec();
            p.extend_from_slice(rel.as_os_str().as_bytes());
            p
        }
        Err(_) => abs.as_os_str().as_bytes().to_vec(),
    }
}

fn describe(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "No such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "Permission denied".into(),
        _ => e.to_string(),
    }
}

/// One line for a guest killed by a signal (not for ^C or a broken pipe,
/// which shells report silently too).
fn report(prog: &str, status: ExitStatus) {
    let ExitStatus::Killed { signal, fault } = status else {
        return;
    };
    if signal == 2 || signal == 13 {
        return;
    }
    let name = wax_kernel::signal_name(signal);
    let text = wax_kernel::signal_description(signal);
    match fault {
        Some((addr, eip)) => {
            eprintln!(
                "wax: {prog}: killed by {name} ({text}) at address {addr:#010x}, eip {eip:#010x}"
            )
        }
        None => eprintln!("wax: {prog}: killed by {name} ({text})"),
    }
}
