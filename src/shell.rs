//! `wax shell [--image FILE]`: an interactive Debian login shell on the
//! host terminal.
//!
//! The Debian image (by default the one `disk-images/mkimage.sh default`
//! builds) is the root file system, with writes kept in memory (or in
//! `--overlay FILE`). The host terminal goes raw and becomes the guest's
//! console: the kernel's own line discipline does echo, line editing and
//! job control (^C, ^Z, ^\ reach the guest's foreground group), and host
//! window resizes become SIGWINCH. `bash --login` runs as root in /root;
//! when it exits, Wax exits with its status and the terminal restored.

use crate::host;
use crate::host::terminal::{ConsoleInput, HostConsole, RawMode};
use std::cell::RefCell;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;
use wax_devices::MemStream;
use wax_kernel::{Config, ExitStatus, Host, Kernel, Program, RunStatus};

/// Where the default image is built, relative to the repository.
const DEFAULT_IMAGE: &str = "build/images/default.img";
/// The command that builds it.
const BUILD_COMMAND: &str = "disk-images/mkimage.sh default build/images/default.img";
/// Instructions per `run` call.
const BUDGET: u64 = 20_000_000;
/// Longest wait for a key before looking at timers and resizes again.
const POLL: Duration = Duration::from_millis(20);

#[derive(clap::Args)]
pub struct ShellArgs {
    /// The ext2 image to boot (default: build/images/default.img of the
    /// Wax checkout, or $WAX_IMAGE).
    #[arg(long, value_name = "FILE|URL")]
    image: Option<String>,
    /// Keep changes in FILE (created if missing) instead of discarding
    /// them at exit.
    #[arg(long, value_name = "FILE")]
    overlay: Option<PathBuf>,
    /// Guest machine memory (e.g. 512M, 2G); committed lazily.
    #[arg(long, default_value = "2G", value_parser = crate::parse_size)]
    memory: u64,
    /// Log every system call to stderr (redirect it: `2>trace.log`).
    #[arg(long)]
    strace: bool,
    /// How guest internet sockets reach anything (see `wax run --help`).
    #[arg(long, value_enum, default_value_t)]
    net: host::net::NetArg,
    /// Outward connections through a Wisp relay (see `wax run --help`).
    #[arg(long, value_name = "URL", conflicts_with = "net")]
    net_relay: Option<String>,
    /// What runs guest code (see `wax run --help`).
    #[arg(long, value_enum, env = "WAX_ENGINE", default_value = "jit")]
    pub engine: crate::engine::EngineKind,
    #[command(flatten)]
    pub jit: crate::engine::JitArgs,
}

/// Runs the shell; returns Wax's exit status.
pub fn run(args: ShellArgs) -> i32 {
    let Some(image) = args.image.clone().or_else(find_default_image) else {
        eprintln!(
            "wax: no Debian image at {DEFAULT_IMAGE}; build it with `{BUILD_COMMAND}` \
             (from the Wax checkout) or pass --image FILE"
        );
        return 125;
    };
    if !std::io::stdin().is_terminal() || !std::io::stdout().is_terminal() {
        eprintln!("wax shell: stdin and stdout must be a terminal (use `wax run` otherwise)");
        return 125;
    }
    let mut fs = match host::block::mount(&image, false, args.overlay.as_deref()) {
        Ok(fs) => fs,
        Err(e) => {
            eprintln!("wax: {e}");
            return 125;
        }
    };
    let mut kernel = match boot(&args, &mut fs) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("wax shell: {e}");
            return 125;
        }
    };
    let input = Arc::new(ConsoleInput::default());
    let console = match HostConsole::new(input.clone()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("wax shell: cannot read the terminal: {e}");
            return 125;
        }
    };
    let raw = match RawMode::enter(0) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("wax shell: cannot put the terminal in raw mode: {e}");
            return 125;
        }
    };
    kernel.attach_console(Box::new(console));
    let (mode, outside) = match host::net::network(args.net, args.net_relay.as_deref()) {
        Ok(n) => n,
        Err(e) => {
            eprintln!("wax: {e}");
            return 125;
        }
    };
    kernel.set_network(mode);
    let status = drive(&mut kernel, &input, outside.as_ref());
    drop(raw);
    let lost = host::block::lost_mapped_writes(&kernel.lost_writes());
    drop(kernel);
    let kept = host::block::write_back(&fs, &image, false, args.overlay.as_deref());
    let failures: Vec<String> = [lost, kept].into_iter().filter_map(Result::err).collect();
    if !failures.is_empty() {
        for e in failures {
            eprintln!("wax: {e}");
        }
        return host::block::EXIT_NOT_KEPT;
    }
    status.shell_status()
}

/// The default image: $WAX_IMAGE, then build/images/default.img in the
/// current directory or above the wax binary (target/*/wax in a checkout).
fn find_default_image() -> Option<String> {
    if let Ok(p) = std::env::var("WAX_IMAGE") {
        return Some(p);
    }
    let mut places = vec![PathBuf::from(DEFAULT_IMAGE)];
    if let Ok(exe) = std::env::current_exe() {
        places.extend(exe.ancestors().skip(1).map(|d| d.join(DEFAULT_IMAGE)));
    }
    places
        .into_iter()
        .find(|p| p.is_file())
        .map(|p| p.display().to_string())
}

/// A kernel with `bash --login` loaded as the first process.
fn boot(args: &ShellArgs, fs: &mut wax_kernel::ext2::Ext2Fs) -> Result<Kernel, String> {
    let (mut file, size, exe_path) = host::block::open_program(fs, b"/bin/bash")
        .map_err(|e| format!("/bin/bash: {} (in the image)", e.text()))?;
    // The host stdio streams stand behind nothing here: the console
    // replaces descriptors 0-2 and /dev/tty.
    let idle = || Rc::new(RefCell::new(MemStream::default()));
    let host = Host {
        clock: Box::new(host::HostClock::new()),
        entropy: Rc::new(RefCell::new(host::HostEntropy::new())),
        stdin: idle(),
        stdout: idle(),
        stderr: idle(),
        root: Box::new(fs.clone()),
    };
    let config = Config {
        memory: args.memory,
        strace: args.strace,
        uid: 0,
        gid: 0,
    };
    let mut kernel = crate::engine::kernel(host, config, args.engine, &args.jit)?;
    kernel.set_rlimits(crate::host::host_rlimits());
    kernel.mount_tmpfs(false);
    let program = Program {
        file: file.as_mut(),
        size,
        exe_path,
        argv: vec![b"-bash".to_vec()],
        envp: environment(),
        execfn: b"/bin/bash".to_vec(),
        cwd: b"/root".to_vec(),
    };
    kernel
        .exec(program)
        .map_err(|e| format!("/bin/bash: cannot execute: {e}"))?;
    Ok(kernel)
}

/// What login(1) would set, with the host's TERM.
fn environment() -> Vec<Vec<u8>> {
    let term = std::env::var("TERM").unwrap_or_else(|_| "xterm-256color".into());
    [
        "HOME=/root".to_string(),
        "USER=root".into(),
        "LOGNAME=root".into(),
        "SHELL=/bin/bash".into(),
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into(),
        format!("TERM={term}"),
        "LANG=C.UTF-8".into(),
    ]
    .into_iter()
    .map(String::into_bytes)
    .collect()
}

/// Runs the guest until bash exits, waiting for keys when it is idle.
fn drive(
    kernel: &mut Kernel,
    input: &ConsoleInput,
    net: Option<&host::net::Outside>,
) -> ExitStatus {
    loop {
        if let Some(n) = net {
            n.pump();
        }
        let status = kernel.run(BUDGET);
        if let Some(n) = net {
            n.pump();
        }
        crate::report_oom(kernel, "\r\n");
        match status {
            RunStatus::Budget => {}
            RunStatus::Exited(s) => return s,
            RunStatus::Idle { deadline } => {
                let wait = deadline.map_or(POLL, |d| {
                    let now = kernel.monotonic().as_nanos();
                    let left = (d.as_nanos() - now).clamp(0, POLL.as_nanos() as i128);
                    Duration::from_nanos(left as u64)
                });
                host::net::idle_wait(net, wait, |w| input.wait(w));
            }
        }
    }
}
