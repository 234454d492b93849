//! Wax's browser front end: the machine API that the page's Worker and
//! the Node runner (`web/node/wax.mjs`) drive through wasm-bindgen.
//!
//! One [`Wax`] is one guest machine: a disk (the image streamed through
//! `waxHost.fetchRange` under an overlay the host persists, see
//! [`disk`]), a kernel, and either a console (the page's terminal) or
//! plain stdio streams (the Node runner). The host calls [`Wax::run`]
//! with an instruction budget in a loop and moves bytes in between; the
//! machine never blocks except inside a range request.
//!
//! Guest code runs on the interpreter or on the JIT ([`Wax::set_engine`]):
//! hot pages translated to wasm (wax-jit) and compiled by the host's own
//! wasm engine through the WebAssembly API (`wax_jit::engine::js`).

#[cfg(target_arch = "wasm32")]
mod alloc;
pub mod disk;
pub mod files;
pub mod host;

use disk::{Base, SharedDisk, WebDisk};
use host::{JsClock, JsEntropy, JsTransport, StdStream, Term, WebConsole};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wax_devices::block::{
    resolve_chunk_url, BlockError, ChunkManifest, ChunkedTransport, HttpDevice, HttpOptions,
    HttpTransport,
};
use wax_devices::wisp::WispNet;
use wax_devices::WinSize;
use wax_kernel::ext2::Ext2Fs;
use wax_kernel::vfs::lookup::open_program;
use wax_kernel::Errno;
use wax_kernel::NetMode;
use wax_kernel::{Config, Host, Kernel, Program, RunStatus};

#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOC: alloc::WebAlloc = alloc::WebAlloc;

impl<T: HttpTransport> Base for HttpDevice<T> {
    fn cached_bytes(&self) -> u64 {
        HttpDevice::cached_bytes(self)
    }
    fn preload(&mut self, chunk: u64, data: Vec<u8>) -> Result<bool, BlockError> {
        HttpDevice::preload(self, chunk, data).map(|()| true)
    }
}

/// What [`Wax::run`] returns.
#[wasm_bindgen]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Run {
    /// The budget is spent: call `run` again soon.
    Budget = 0,
    /// Every guest thread waits for input or a timer (`idleMs`).
    Idle = 1,
    /// The first process ended (`exitCode`).
    Exited = 2,
}

/// The guest's stdio when it has no console (the Node runner).
#[derive(Clone, Default)]
struct Stdio {
    stdin: Rc<RefCell<StdStream>>,
    stdout: Rc<RefCell<StdStream>>,
    stderr: Rc<RefCell<StdStream>>,
}

#[wasm_bindgen]
pub struct Wax {
    disk: Rc<RefCell<WebDisk>>,
    fetched: Rc<RefCell<u64>>,
    fs: Option<Ext2Fs>,
    kernel: Option<Kernel>,
    term: Rc<RefCell<Term>>,
    stdio: Option<Stdio>,
    exit_code: i32,
    idle_ms: f64,
    engine: EngineKind,
    jit: wax_jit::Config,
    /// Outward connections through a Wisp relay (`useRelay`); without
    /// one the guest has only its loopback network.
    relay: Option<Rc<RefCell<WispNet>>>,
}

/// What runs guest code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum EngineKind {
    Interp,
    Jit,
}

/// The JIT's settings under V8: a page is translated once it has run
/// 2 M instructions in the interpreter, as under wasmtime. Measured under
/// Node 20 (one series, loaded 2-core machine; `--jit-threshold`): at
/// 500 K, 2 M and 5 M, `python3 -c pass` took 2.15, 1.09 and 0.81 s (the
/// interpreter alone 0.73 s: python's start-up runs many pages warm but
/// not hot, and each module costs V8 a compile and a later tier-up); a
/// python loop of 3 M iterations 7.5, 8.3 and 8.1 s (interpreter 26.7 s);
/// primes and gzip within noise.
fn jit_config() -> wax_jit::Config {
    wax_jit::Config::default()
}

/// A kernel whose guest code runs on `engine`.
fn new_kernel(
    host: Host,
    config: Config,
    engine: EngineKind,
    jit: wax_jit::Config,
) -> Result<Kernel, String> {
    match engine {
        EngineKind::Interp => Ok(Kernel::new(host, config)),
        #[cfg(target_arch = "wasm32")]
        EngineKind::Jit => {
            let machine = wax_cpu::Machine::new(config.memory);
            let js = wax_jit::engine::js::Js::new(&machine)
                .map_err(|e| format!("cannot start the JIT: {e}"))?;
            let jit = wax_jit::Jit::new(js, jit);
            Ok(Kernel::with_executor(host, config, machine, Box::new(jit)))
        }
        #[cfg(not(target_arch = "wasm32"))]
        EngineKind::Jit => {
            let _ = jit;
            Err("the JIT runs only in the wasm32 build".into())
        }
    }
}

fn open_base(url: &str, fetched: &Rc<RefCell<u64>>) -> Result<Box<dyn Base>, String> {
    let opts = HttpOptions {
        // A Worker has room; the base cache saves refetching what the
        // ext2 driver's own cache dropped.
        cache_bytes: 128 << 20,
        attempts: 6,
        ..HttpOptions::default()
    };
    if !url.ends_with(".json") {
        let t = JsTransport::new(url, fetched.clone());
        let dev = HttpDevice::open(t, opts).map_err(|e| e.to_string())?;
        return Ok(Box::new(dev));
    }
    let text = host::fetch_all(url)?;
    let manifest = ChunkManifest::parse(&text).map_err(|e| format!("{url}: {e}"))?;
    let opts = HttpOptions {
        expected_size: Some(manifest.size),
        ..opts
    };
    let f = fetched.clone();
    let base = url.to_string();
    let t = ChunkedTransport::new(url, manifest, move |chunk: &str| {
        JsTransport::new(&resolve_chunk_url(&base, chunk), f.clone())
    });
    let dev = HttpDevice::open(t, opts).map_err(|e| e.to_string())?;
    Ok(Box::new(dev))
}

/// Grows the heap once, before the machine memory exists. Every later
/// `memory.grow` makes V8 account the whole (by then gigabyte-sized)
/// memory as new external memory and run a garbage collection; a heap
/// that starts large enough for a shell session seldom grows again.
fn reserve_heap() {
    drop(Vec::<u8>::with_capacity(HEAP_RESERVE));
}

/// Bytes of heap reserved at start (disk caches, page tables, kernel).
const HEAP_RESERVE: usize = 192 << 20;

/// What login(1) would set for root on xterm.js.
fn shell_env() -> Vec<Vec<u8>> {
    [
        "HOME=/root",
        "USER=root",
        "LOGNAME=root",
        "SHELL=/bin/bash",
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "LANG=C.UTF-8",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .chain([b"TERM=xterm-256color".to_vec()])
    .collect()
}

#[wasm_bindgen]
impl Wax {
    /// Opens the image at `url` (a raw image served with Range support,
    /// or a chunk manifest ending in `.json`). Nothing is mounted yet: the
    /// host applies its saved overlay first (`loadBlock`).
    #[wasm_bindgen(constructor)]
    pub fn new(url: &str) -> Result<Wax, String> {
        reserve_heap();
        let fetched = Rc::new(RefCell::new(0));
        let base = open_base(url, &fetched)?;
        let disk = WebDisk::new(base).map_err(|e| format!("{url}: {e}"))?;
        Ok(Wax {
            disk: Rc::new(RefCell::new(disk)),
            fetched,
            fs: None,
            kernel: None,
            term: Rc::default(),
            stdio: None,
            exit_code: 0,
            idle_ms: -1.0,
            relay: None,
            engine: EngineKind::Interp,
            jit: jit_config(),
        })
    }

    /// The image's identity (hex), to key the saved overlay.
    pub fn fingerprint(&self) -> String {
        format!("{:016x}", self.disk.borrow().fingerprint())
    }

    /// Image size in bytes.
    #[wasm_bindgen(js_name = imageSize)]
    pub fn image_size(&self) -> f64 {
        self.disk.borrow().base().size() as f64
    }

    /// Applies one saved overlay block (4096 bytes) before booting.
    #[wasm_bindgen(js_name = loadBlock)]
    pub fn load_block(&mut self, block: u32, data: &[u8]) -> Result<(), String> {
        self.disk
            .borrow_mut()
            .load_block(u64::from(block), data)
            .map_err(|e| e.to_string())
    }

    /// The disk's file system, mounted at the first use (files written
    /// before boot are then the booted machine's).
    fn mount(&mut self) -> Result<Ext2Fs, String> {
        if let Some(fs) = &self.fs {
            return Ok(fs.clone());
        }
        let dev = Box::new(SharedDisk(self.disk.clone()));
        let fs = Ext2Fs::mount(dev, Box::new(JsClock), false).map_err(|e| e.to_string())?;
        self.fs = Some(fs.clone());
        Ok(fs)
    }

    /// Chooses what runs guest code, before booting: "jit" (hot pages
    /// translated to wasm) or "interp" (every instruction interpreted).
    #[wasm_bindgen(js_name = setEngine)]
    pub fn set_engine(&mut self, name: &str) -> Result<(), String> {
        self.engine = match name {
            "jit" => EngineKind::Jit,
            "interp" | "interpreter" => EngineKind::Interp,
            _ => return Err(format!("unknown engine {name:?} (jit or interp)")),
        };
        Ok(())
    }

    /// The JIT's hotness threshold: instructions interpreted in a page
    /// before it is translated (tuning and measurement; see `jit_config`).
    #[wasm_bindgen(js_name = setJitThreshold)]
    pub fn set_jit_threshold(&mut self, instructions: u32) {
        self.jit.threshold = instructions.max(1);
    }

    fn make_kernel(
        &mut self,
        fs: &Ext2Fs,
        memory_mb: u32,
        stdio: &Stdio,
    ) -> Result<Kernel, String> {
        let host = Host {
            clock: Box::new(JsClock),
            entropy: Rc::new(RefCell::new(JsEntropy)),
            stdin: stdio.stdin.clone(),
            stdout: stdio.stdout.clone(),
            stderr: stdio.stderr.clone(),
            root: Box::new(fs.clone()),
        };
        let config = Config {
            memory: u64::from(memory_mb) << 20,
            strace: false,
            uid: 0,
            gid: 0,
        };
        let mut kernel = new_kernel(host, config, self.engine, self.jit)?;
        if let Some(net) = &self.relay {
            kernel.set_network(NetMode::Relay(net.clone()));
        }
        kernel.mount_tmpfs(false);
        Ok(kernel)
    }

    /// Mounts the disk and starts `bash --login` as root in /root on a
    /// console of `rows` × `cols`.
    #[wasm_bindgen(js_name = bootShell)]
    pub fn boot_shell(&mut self, rows: u16, cols: u16, memory_mb: u32) -> Result<(), String> {
        let mut fs = self.mount()?;
        // The console replaces descriptors 0-2; these streams stay idle.
        let mut kernel = self.make_kernel(&fs, memory_mb, &Stdio::default())?;
        let (mut file, size, exe_path) = open_program(&mut fs, b"/bin/bash")
            .map_err(|e| format!("/bin/bash: {e} (in the image)"))?;
        let program = Program {
            file: file.as_mut(),
            size,
            exe_path,
            argv: vec![b"-bash".to_vec()],
            envp: shell_env(),
            execfn: b"/bin/bash".to_vec(),
            cwd: b"/root".to_vec(),
        };
        kernel
            .exec(program)
            .map_err(|e| format!("/bin/bash: cannot execute: {e}"))?;
        self.resize(rows, cols);
        kernel.attach_console(Box::new(WebConsole(self.term.clone())));
        self.kernel = Some(kernel);
        Ok(())
    }

    /// Mounts the disk and starts `argv[0]` (a guest path) with plain
    /// stdio streams and the environment `env` ("NAME=value"), as
    /// `wax run --image` does. `kinds` says what the host's descriptors
    /// 0-2 are (see [`StdStream::parse_kind`]). On failure `exitCode` says
    /// what `wax run` would exit with: 125 (the image), 126 (cannot
    /// execute), 127 (no such program).
    #[wasm_bindgen(js_name = bootProgram)]
    pub fn boot_program(
        &mut self,
        argv: Vec<String>,
        env: Vec<String>,
        kinds: Vec<String>,
        cwd: &str,
        memory_mb: u32,
    ) -> Result<(), String> {
        self.exit_code = 125;
        let prog = argv.first().ok_or("no program given")?.clone();
        let mut fs = self.mount()?;
        let stdio = Stdio::default();
        for (s, k) in [&stdio.stdin, &stdio.stdout, &stdio.stderr]
            .into_iter()
            .zip(&kinds)
        {
            s.borrow_mut().kind = Some(StdStream::parse_kind(k));
        }
        let mut kernel = self.make_kernel(&fs, memory_mb, &stdio)?;
        let (mut file, size, exe_path) = open_program(&mut fs, prog.as_bytes()).map_err(|e| {
            self.exit_code = if e == Errno::ENOENT { 127 } else { 126 };
            format!("{prog}: {} (in the image)", e.text())
        })?;
        let program = Program {
            file: file.as_mut(),
            size,
            exe_path,
            argv: argv.iter().map(|a| a.as_bytes().to_vec()).collect(),
            envp: env.iter().map(|a| a.as_bytes().to_vec()).collect(),
            execfn: prog.as_bytes().to_vec(),
            cwd: cwd.as_bytes().to_vec(),
        };
        kernel.exec(program).map_err(|e| {
            self.exit_code = 126;
            format!("{prog}: cannot execute: {e}")
        })?;
        self.exit_code = 0;
        self.kernel = Some(kernel);
        self.stdio = Some(stdio);
        Ok(())
    }

    /// Sends signal `sig` to the first process's group (^C from a host
    /// terminal that is not the guest's console).
    pub fn raise(&mut self, sig: u32) {
        if let Some(k) = self.kernel.as_mut() {
            k.raise(sig);
        }
    }

    /// Drops the kernel (closing every guest file) and writes the disk
    /// back, as `wax run` does at exit.
    pub fn shutdown(&mut self) -> Result<(), String> {
        self.kernel = None;
        self.sync()
    }

    /// Gives the guest a network beyond its loopback: connections to
    /// other addresses become streams of a Wisp relay, whose WebSocket
    /// the host runs (`relayDeliver`, `relayOutbox`, `relayLost`). Call
    /// before booting.
    #[wasm_bindgen(js_name = useRelay)]
    pub fn use_relay(&mut self) {
        self.relay = Some(Rc::default());
    }

    /// A packet from the relay's WebSocket.
    #[wasm_bindgen(js_name = relayDeliver)]
    pub fn relay_deliver(&mut self, packet: &[u8]) {
        if let Some(n) = &self.relay {
            n.borrow_mut().deliver(packet);
        }
    }

    /// Packets for the relay, each as a 4-byte little-endian length and
    /// its bytes (empty until the relay has answered).
    #[wasm_bindgen(js_name = relayOutbox)]
    pub fn relay_outbox(&mut self) -> Vec<u8> {
        let Some(n) = &self.relay else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for p in n.borrow_mut().take_outbox() {
            out.extend_from_slice(&(p.len() as u32).to_le_bytes());
            out.extend_from_slice(&p);
        }
        out
    }

    /// The relay's WebSocket closed: open streams fail with a network
    /// error. `relayReset` after a new WebSocket opens.
    #[wasm_bindgen(js_name = relayLost)]
    pub fn relay_lost(&mut self) {
        if let Some(n) = &self.relay {
            n.borrow_mut().lost();
        }
    }

    #[wasm_bindgen(js_name = relayReset)]
    pub fn relay_reset(&mut self) {
        if let Some(n) = &self.relay {
            n.borrow_mut().reset();
        }
    }

    /// Runs about `budget` guest instructions.
    pub fn run(&mut self, budget: u32) -> Run {
        let Some(k) = self.kernel.as_mut() else {
            return Run::Exited;
        };
        match k.run(u64::from(budget)) {
            RunStatus::Budget => Run::Budget,
            RunStatus::Idle { deadline } => {
                self.idle_ms = deadline.map_or(-1.0, |d| {
                    let left = d.as_nanos() - k.monotonic().as_nanos();
                    left.max(0) as f64 / 1e6
                });
                Run::Idle
            }
            RunStatus::Exited(s) => {
                self.exit_code = s.shell_status();
                Run::Exited
            }
        }
    }

    /// After `Run::Idle`: ms until the next guest timer, or -1 for none
    /// (then only input wakes the guest).
    #[wasm_bindgen(getter, js_name = idleMs)]
    pub fn idle_ms(&self) -> f64 {
        self.idle_ms
    }

    /// After `Run::Exited`: the status a shell would report.
    #[wasm_bindgen(getter, js_name = exitCode)]
    pub fn exit_code(&self) -> i32 {
        self.exit_code
    }

    /// Bytes typed on the terminal, or written to the program's stdin.
    pub fn input(&mut self, bytes: &[u8]) {
        match &self.stdio {
            Some(s) => s.stdin.borrow_mut().data.input.extend(bytes),
            None => self.term.borrow_mut().input.extend(bytes),
        }
    }

    /// End of the program's stdin (no effect on a console).
    #[wasm_bindgen(js_name = closeInput)]
    pub fn close_input(&mut self) {
        if let Some(s) = &self.stdio {
            s.stdin.borrow_mut().data.eof = true;
        }
    }

    /// The terminal's new size; the guest's foreground job gets SIGWINCH.
    pub fn resize(&mut self, rows: u16, cols: u16) {
        self.term.borrow_mut().size = WinSize {
            rows,
            cols,
            ..WinSize::default()
        };
    }

    /// Console output (or the program's stdout) since the last call.
    #[wasm_bindgen(js_name = takeOutput)]
    pub fn take_output(&mut self) -> Vec<u8> {
        match &self.stdio {
            Some(s) => std::mem::take(&mut s.stdout.borrow_mut().data.output),
            None => std::mem::take(&mut self.term.borrow_mut().output),
        }
    }

    /// The program's stderr since the last call (empty on a console).
    #[wasm_bindgen(js_name = takeStderr)]
    pub fn take_stderr(&mut self) -> Vec<u8> {
        match &self.stdio {
            Some(s) => std::mem::take(&mut s.stderr.borrow_mut().data.output),
            None => Vec::new(),
        }
    }

    /// Writes the file system back and flushes the disk: every block
    /// written so far becomes pending for the host to persist.
    pub fn sync(&mut self) -> Result<(), String> {
        match &self.fs {
            Some(fs) => fs.sync().map_err(|e| format!("sync: {e}")),
            None => Ok(()),
        }
    }

    /// The last failure to read the image since the previous call (the
    /// guest got EIO), to show the user.
    #[wasm_bindgen(js_name = takeDiskError)]
    pub fn take_disk_error(&mut self) -> Option<String> {
        self.disk.borrow_mut().take_error()
    }

    /// Bytes per image chunk (the unit of `preload` and `touchedChunks`).
    #[wasm_bindgen(getter, js_name = chunkSize)]
    pub fn chunk_size(&self) -> u32 {
        wax_devices::block::CHUNK_SIZE as u32
    }

    /// The image chunks read so far (to prefetch them at the next boot).
    #[wasm_bindgen(js_name = touchedChunks)]
    pub fn touched_chunks(&self) -> Vec<u32> {
        let d = self.disk.borrow();
        d.touched_chunks().into_iter().map(|c| c as u32).collect()
    }

    /// Caches image chunk `chunk` that the host fetched itself (in
    /// parallel, before booting); counted as fetched.
    pub fn preload(&mut self, chunk: u32, data: Vec<u8>) -> Result<(), String> {
        let n = data.len() as u64;
        let mut d = self.disk.borrow_mut();
        match d.base_mut().preload(u64::from(chunk), data) {
            Ok(true) => {
                *self.fetched.borrow_mut() += n;
                Ok(())
            }
            Ok(false) => Ok(()),
            Err(e) => Err(e.to_string()),
        }
    }

    /// Blocks written since the last flush.
    #[wasm_bindgen(getter, js_name = dirtyBlocks)]
    pub fn dirty_blocks(&self) -> u32 {
        self.disk.borrow().dirty_count() as u32
    }

    /// Blocks flushed and waiting to be persisted.
    #[wasm_bindgen(getter, js_name = pendingBlocks)]
    pub fn pending_blocks(&self) -> u32 {
        self.disk.borrow().pending_count() as u32
    }

    /// Blocks in the overlay (saved or not).
    #[wasm_bindgen(getter, js_name = overlayBlocks)]
    pub fn overlay_blocks(&self) -> u32 {
        self.disk.borrow().overlay_count() as u32
    }

    /// Takes the pending blocks as one batch to persist atomically:
    /// records of a u32 block number (little-endian) and 4096 bytes.
    #[wasm_bindgen(js_name = takePending)]
    pub fn take_pending(&mut self) -> Vec<u8> {
        self.disk.borrow_mut().take_pending()
    }

    /// The host keeps the overlay (its store is open): from now on a
    /// guest sync waits until the host has saved what it synced.
    #[wasm_bindgen(js_name = keepOverlay)]
    pub fn keep_overlay(&mut self) {
        self.disk.borrow_mut().keep();
    }

    /// Whether the host should save the pending blocks now (not after a
    /// failed save until the guest syncs again: see `WebDisk`).
    #[wasm_bindgen(getter, js_name = saveWanted)]
    pub fn save_wanted(&self) -> bool {
        self.disk.borrow().save_wanted()
    }

    /// The freed blocks the batch taken last deletes from the saved
    /// overlay (in the same transaction).
    #[wasm_bindgen(js_name = takenDeletes)]
    pub fn taken_deletes(&self) -> Vec<u32> {
        self.disk.borrow().taken_deletes()
    }

    /// Freed blocks still to delete from the saved overlay.
    #[wasm_bindgen(getter, js_name = pendingDeletes)]
    pub fn pending_deletes(&self) -> u32 {
        self.disk.borrow().delete_count() as u32
    }

    /// The batch taken last is saved: syncs waiting for it return 0.
    pub fn saved(&mut self) {
        self.disk.borrow_mut().saved();
    }

    /// Returns a batch that could not be persisted: syncs waiting for it
    /// fail with ENOSPC (`quota`: the browser's storage is full) or EIO,
    /// with `reason` in the log.
    #[wasm_bindgen(js_name = giveBack)]
    pub fn give_back(&mut self, batch: &[u8], quota: bool, reason: &str) {
        let why = if quota {
            BlockError::NoSpace(reason.to_string())
        } else {
            BlockError::Io(reason.to_string())
        };
        self.disk.borrow_mut().give_back(batch, why);
    }

    /// Creates or replaces a guest file (an absolute path), before or
    /// after boot.
    #[wasm_bindgen(js_name = writeFile)]
    pub fn write_file(&mut self, path: &str, data: &[u8], perm: u32) -> Result<(), String> {
        let mut fs = self.mount()?;
        files::write_file(&mut fs, path.as_bytes(), data, perm).map_err(|e| format!("{path}: {e}"))
    }

    /// Creates a guest directory (an absolute path) and its missing
    /// parents, before or after boot.
    #[wasm_bindgen(js_name = makeDirs)]
    pub fn make_dirs(&mut self, path: &str) -> Result<(), String> {
        let mut fs = self.mount()?;
        files::make_dirs(&mut fs, path.as_bytes()).map_err(|e| format!("{path}: {e}"))
    }

    /// Sets a guest file's access and modification times to `ms`
    /// milliseconds since the epoch (the Node runner's `--file` keeps the
    /// host file's, as `cp -p` does: gzip, tar and make read them).
    #[wasm_bindgen(js_name = setModified)]
    pub fn set_modified(&mut self, path: &str, ms: f64) -> Result<(), String> {
        let mut fs = self.mount()?;
        let ns = (ms * 1e6) as i128;
        let at = wax_devices::Timespec {
            sec: ns.div_euclid(1_000_000_000) as i64,
            nsec: ns.rem_euclid(1_000_000_000) as u32,
        };
        files::set_times(&mut fs, path.as_bytes(), at).map_err(|e| format!("{path}: {e}"))
    }

    /// Reads a guest file (an absolute path).
    #[wasm_bindgen(js_name = readFile)]
    pub fn read_file(&mut self, path: &str) -> Result<Vec<u8>, String> {
        let fs = self.fs.as_mut().ok_or("the machine is not booted")?;
        files::read_file(fs, path.as_bytes()).map_err(|e| format!("{path}: {e}"))
    }

    /// Bytes of the image fetched over the network so far.
    #[wasm_bindgen(getter, js_name = bytesFetched)]
    pub fn bytes_fetched(&self) -> f64 {
        *self.fetched.borrow() as f64
    }

    /// Bytes of the image held in the read cache.
    #[wasm_bindgen(getter, js_name = bytesCached)]
    pub fn bytes_cached(&self) -> f64 {
        self.disk.borrow().base().cached_bytes() as f64
    }

    /// Guest instructions run since boot.
    #[wasm_bindgen(getter)]
    pub fn instructions(&self) -> f64 {
        self.kernel.as_ref().map_or(0, Kernel::instructions) as f64
    }

    /// The execution engine, for the status line: "interpreter" or "jit".
    #[wasm_bindgen(getter)]
    pub fn engine(&self) -> String {
        match &self.kernel {
            Some(k) => k.executor().name().into(),
            None if self.engine == EngineKind::Jit => "jit".into(),
            None => "interpreter".into(),
        }
    }

    /// The engine's counters (`wax run --stats`'s lines) as a JSON object
    /// of numbers, e.g. `{"modules compiled": 12, ...}`; `{}` before boot.
    #[wasm_bindgen(js_name = engineStats)]
    pub fn engine_stats(&self) -> String {
        let Some(k) = &self.kernel else {
            return "{}".into();
        };
        let fields: Vec<String> = [("guest instructions", k.instructions())]
            .into_iter()
            .chain(k.executor().stats())
            .map(|(name, n)| format!("\"{name}\":{n}"))
            .collect();
        format!("{{{}}}", fields.join(","))
    }
}
