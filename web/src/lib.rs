//! Wax's browser front end — not built yet.
//!
//! This crate will hold the wasm-bindgen glue, the Worker that runs the
//! machine, and the page with xterm.js. For now it is only the property the
//! browser build depends on: the CPU and the kernel link into one wasm32
//! module (`cargo build --release --target wasm32-unknown-unknown -p
//! wax-web`), and that module runs an i386 program. Its one export,
//! [`wax_selftest`], boots a kernel on an empty tmpfs root and runs a
//! tiny static program through the loader, the interpreter and the system
//! call layer; `scripts/test-wasm.sh` calls it from Node. There is no page,
//! no Worker and no disk yet.

use std::cell::RefCell;
use std::rc::Rc;
use wax_devices::{FixedClock, MemStream, SeededEntropy};
use wax_kernel::vfs::tmpfs::{TmpFs, Usage};
use wax_kernel::{Config, ExitStatus, Host, Kernel, Program, RunStatus};

mod tiny;

/// What the self-test program writes to stdout.
const GREETING: &[u8] = b"wax\n";
/// Its exit status.
const STATUS: u8 = 42;

/// Boots a kernel with a 16 MiB machine, runs a program that writes
/// "wax\n" and exits with 42, and checks both. Returns 0 on success, or
/// a code naming the step that failed: 1 exec, 2 the run did not end,
/// 3 wrong exit status, 4 wrong output.
#[no_mangle]
pub extern "C" fn wax_selftest() -> u32 {
    match selftest() {
        Ok(()) => 0,
        Err(step) => step,
    }
}

fn selftest() -> Result<(), u32> {
    let stdout = Rc::new(RefCell::new(MemStream::default()));
    let host = Host {
        clock: Box::new(FixedClock::default()),
        entropy: Rc::new(RefCell::new(SeededEntropy(1))),
        stdin: Rc::new(RefCell::new(MemStream::default())),
        stdout: stdout.clone(),
        stderr: Rc::new(RefCell::new(MemStream::default())),
        // An empty root: the program comes from memory, not from a disk.
        root: Box::new(TmpFs::new(1, Rc::default(), Usage::new(1 << 20), 0o755)),
    };
    let config = Config {
        memory: 16 << 20,
        strace: false,
        uid: 0,
        gid: 0,
    };
    let mut kernel = Kernel::new(host, config);
    let image = tiny::program(GREETING, STATUS);
    let size = image.len() as u64;
    let program = Program {
        file: &mut tiny::Bytes(image),
        size,
        exe_path: b"/selftest".to_vec(),
        argv: vec![b"selftest".to_vec()],
        envp: Vec::new(),
        execfn: b"/selftest".to_vec(),
        cwd: b"/".to_vec(),
    };
    kernel.exec(program).map_err(|_| 1u32)?;
    let status = match kernel.run(10_000) {
        RunStatus::Exited(status) => status,
        _ => return Err(2),
    };
    if status != ExitStatus::Exited(STATUS) {
        return Err(3);
    }
    if stdout.borrow().output != GREETING {
        return Err(4);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn selftest_passes() {
        assert_eq!(super::wax_selftest(), 0);
    }
}
