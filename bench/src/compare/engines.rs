//! The engines a workload runs under, and the command line each one
//! needs.
//!
//! - native: the host runs i386 binaries itself. Debian programs run in a
//!   chroot of the root (entered in the child just before exec, so no
//!   extra process is timed).
//! - qemu-i386: Debian's qemu-user; `-L ROOT` makes it load the program's
//!   interpreter and libraries from the root and look up the guest's
//!   absolute paths there first (not for every system call: sort's open of
//!   an absolute input path misses it, so inputs are named relatively).
//! - wax: `wax run --engine interp --root ROOT` (the interpreter); the
//!   program is given as a host path
//!   that is also right in the guest (see [`from_input_dir`]).
//! - wax-image: `wax run --engine interp --image IMAGE`, the root's ext2 image
//!   (build/images/test.img for build/roots/test), for the workloads that
//!   need no input files (see `Workload::on_image`).
//!
//! - wax-jit: `wax run --engine jit` (hot pages translated to wasm and
//!   compiled by wasmtime), every run cold: the on-disk code cache is off.
//! - wax-jit-warm: the same with a code cache of the harness's own
//!   (`target/wax-bench/jit-cache`), filled by untimed runs first (the
//!   first remembers the pages that ran warm, the next ones compile them,
//!   a share of each run's time at a time, until a run adds nothing to
//!   the cache, at most 8): what a user sees once a program has run a
//!   few times.
//! - wax-node: the wasm32 build under Node's V8 (`node web/node/wax.mjs
//!   run --image IMAGE`, the JIT by default: translated pages compiled by
//!   V8), on the root's image; the static workloads and the input files
//!   are copied into the guest's memory first (`--file`), so every
//!   workload but the network ones (the runner has no network) runs. Its
//!   times include Node's start-up and the compile of the emulator's own
//!   wasm (~0.2 s), which dominates the start-up workloads.

use super::inputs::GUEST_DIR;
use super::workloads::Program;
use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Engine {
    Native,
    Qemu,
    WaxInterp,
    WaxJit,
    WaxJitWarm,
    WaxImage,
    WaxNode,
}

impl Engine {
    pub const ALL: [Engine; 7] = [
        Engine::Native,
        Engine::Qemu,
        Engine::WaxInterp,
        Engine::WaxJit,
        Engine::WaxJitWarm,
        Engine::WaxImage,
        Engine::WaxNode,
    ];

    /// Column title and JSON key.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Native => "native",
            Engine::Qemu => "qemu-i386",
            Engine::WaxInterp => "wax-interp",
            Engine::WaxJit => "wax-jit",
            Engine::WaxJitWarm => "wax-jit-warm",
            Engine::WaxImage => "wax-image",
            Engine::WaxNode => "wax-node",
        }
    }

    pub fn from_name(name: &str) -> Option<Engine> {
        Engine::ALL.into_iter().find(|e| e.name() == name)
    }
}

/// Where things are on this machine.
#[derive(Clone, Debug)]
pub struct Paths {
    /// The Debian i386 root, if there is one.
    pub root: Option<PathBuf>,
    /// Directory of the built static workloads.
    pub bin: PathBuf,
    /// The `wax` binary.
    pub wax: PathBuf,
    /// The root's ext2 image, if there is one.
    pub image: Option<PathBuf>,
    /// The wax-jit-warm engine's code cache.
    pub jit_cache: PathBuf,
    /// The Node runner (web/node/wax.mjs), if the web app is built and
    /// `node` runs.
    pub node_runner: Option<PathBuf>,
}

/// The environment every engine passes to the guest: the same for all, so
/// no run depends on the caller's locale or terminal.
const GUEST_ENV: &[(&str, &str)] = &[
    ("PATH", "/usr/local/bin:/usr/bin:/bin"),
    ("LC_ALL", "C"),
    ("HOME", "/root"),
    ("TERM", "dumb"),
];

/// A TCP port on 127.0.0.1 where the harness takes and discards whatever
/// any connection sends (the host end of the guest-to-host network
/// workload), started on first use.
pub fn sink_port() -> u16 {
    static PORT: std::sync::OnceLock<u16> = std::sync::OnceLock::new();
    *PORT.get_or_init(|| {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("a port for the network sink");
        let port = l.local_addr().map(|a| a.port()).unwrap_or(0);
        std::thread::spawn(move || {
            for c in l.incoming().flatten() {
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut &c, &mut std::io::sink());
                });
            }
        });
        port
    })
}

/// The command that runs `program` with `args` under `engine`, `{input}`
/// in `args` replaced by the input file's name and `{sink}` by the port
/// of [`sink_port`]. Debian programs run in the
/// root's input directory. `None` if the program needs a root and there is
/// none.
pub fn command(
    engine: Engine,
    program: Program,
    args: &[&str],
    input: Option<&str>,
    paths: &Paths,
) -> Option<Command> {
    let (host_path, root) = match program {
        Program::Static { source } => (paths.bin.join(binary_name(source)), None),
        Program::Debian { path } => {
            let root = paths.root.as_ref()?;
            (
                root.join(path.trim_start_matches('/')),
                Some(root.as_path()),
            )
        }
    };
    let mut cmd = match engine {
        Engine::Native => native(program, &host_path, root),
        Engine::Qemu => {
            let mut c = Command::new("qemu-i386");
            if let Some(root) = root {
                c.arg("-L").arg(root);
            }
            c.arg(&host_path);
            c
        }
        Engine::WaxInterp | Engine::WaxJit | Engine::WaxJitWarm => {
            let mut c = Command::new(&paths.wax);
            c.arg("run");
            c.args(match engine {
                Engine::WaxInterp => ["--engine", "interp"],
                _ => ["--engine", "jit"],
            });
            match (root, program) {
                (Some(root), Program::Debian { path }) => c
                    .arg("--root")
                    .arg(root)
                    .arg("--")
                    .arg(from_input_dir(path)),
                _ => c.arg("--").arg(&host_path),
            };
            c
        }
        Engine::WaxImage => {
            let (Some(image), Program::Debian { path }) = (paths.image.as_ref(), program) else {
                return None;
            };
            let mut c = Command::new(&paths.wax);
            c.args(["run", "--engine", "interp", "--image"]);
            c.arg(image).arg("--").arg(path);
            c
        }
        Engine::WaxNode => {
            let (Some(image), Some(runner)) = (paths.image.as_ref(), paths.node_runner.as_ref())
            else {
                return None;
            };
            let mut c = Command::new("node");
            c.arg(runner).args(["run", "--image"]).arg(image);
            let mut copy = |host: &Path, guest: &str| {
                let mut spec = OsString::from(host);
                spec.push(format!(":{guest}"));
                c.arg("--file").arg(spec);
            };
            let guest_program = match program {
                Program::Static { source } => {
                    let guest = format!("{GUEST_DIR}/{}", binary_name(source));
                    copy(&host_path, &guest);
                    guest
                }
                Program::Debian { path } => path.to_string(),
            };
            if let (Some(file), Some(root)) = (input, root) {
                copy(
                    &root.join(&GUEST_DIR[1..]).join(file),
                    &format!("{GUEST_DIR}/{file}"),
                );
            }
            if input.is_some() || matches!(program, Program::Static { .. }) {
                c.args(["--cwd", GUEST_DIR]);
            }
            c.arg("--").arg(guest_program);
            c
        }
    };
    for a in args {
        match input {
            Some(file) if *a == "{input}" => cmd.arg(file),
            _ if *a == "{sink}" => cmd.arg(sink_port().to_string()),
            _ => cmd.arg(a),
        };
    }
    cmd.env_clear().envs(GUEST_ENV.iter().copied());
    match engine {
        Engine::WaxJit => {
            cmd.env("WAX_CODE_CACHE", "off");
        }
        Engine::WaxJitWarm => {
            cmd.env("WAX_CODE_CACHE", &paths.jit_cache);
        }
        _ => {}
    }
    if engine != Engine::Native {
        cmd.current_dir(root.map_or(PathBuf::from("/"), |r| r.join(&GUEST_DIR[1..])));
    }
    Some(cmd)
}

/// `path` (a guest path) relative to the input directory, which is the
/// working directory on the host and in the guest alike: `wax run` passes
/// the program as given as argv[0], and this one names the program in both
/// (gcc looks for cc1 relative to argv[0]; a host path would not exist in
/// the guest).
fn from_input_dir(path: &str) -> String {
    let depth = GUEST_DIR.split('/').filter(|c| !c.is_empty()).count();
    "../".repeat(depth) + path.trim_start_matches('/')
}

/// The executable built from a workload's C source.
pub fn binary_name(source: &str) -> String {
    source.trim_end_matches(".c").to_string()
}

fn native(program: Program, host_path: &Path, root: Option<&Path>) -> Command {
    let Some(root) = root else {
        return Command::new(host_path);
    };
    let Program::Debian { path } = program else {
        unreachable!("only Debian programs have a root")
    };
    let mut c = Command::new(path);
    let root: OsString = root.into();
    // SAFETY: the closure runs in the forked child before exec and only
    // makes the chroot and chdir system calls (std converts short paths to
    // C strings on the stack). The harness runs one workload at a time and
    // joins its helper threads before the next spawn, so no other thread
    // can hold a lock the child would need.
    unsafe {
        c.pre_exec(move || {
            std::os::unix::fs::chroot(&root)?;
            std::env::set_current_dir(GUEST_DIR)
        });
    }
    c
}
