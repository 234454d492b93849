//! A sync on a disk whose host saves asynchronously (the browser keeps
//! the overlay in IndexedDB) returns only when the host has kept the data,
//! and fails with what the host reports: busybox's `sync FILE` (fsync),
//! `sync -d` (fdatasync), `sync -f` (syncfs) and `sync` under the real
//! kernel, on an ext2 image made by mke2fs, with a device standing in
//! for the browser's disk.
//!
//! Needs build/busybox/bin/busybox (scripts/setup.sh) and mke2fs; the
//! test fails, not skips, without them.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::rc::Rc;
use wax_devices::block::{BlockDevice, BlockError, MemDevice};
use wax_devices::{FixedClock, MemStream, SeededEntropy};
use wax_kernel::ext2::Ext2Fs;
use wax_kernel::vfs::lookup::open_program;
use wax_kernel::{Config, ExitStatus, Host, Kernel, Program, RunStatus};

/// What the host has done with the flushes so far.
#[derive(Default)]
struct Saves {
    /// Flushes so far (each is a generation).
    flushed: u64,
    /// Every generation up to this one is kept.
    saved: u64,
    /// The last failed save: the generation it covered, and why.
    failed: Option<(u64, BlockError)>,
    /// Tickets the kernel asked for.
    asked: Vec<u64>,
}

/// A memory disk whose flushes become durable only when the test says
/// so, as the browser's overlay becomes durable when its IndexedDB
/// transaction commits.
struct LaterDisk {
    mem: MemDevice,
    saves: Rc<RefCell<Saves>>,
}

impl BlockDevice for LaterDisk {
    fn size(&self) -> u64 {
        self.mem.size()
    }
    fn read_at(&mut self, off: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        self.mem.read_at(off, buf)
    }
    fn write_at(&mut self, off: u64, buf: &[u8]) -> Result<(), BlockError> {
        self.mem.write_at(off, buf)
    }
    fn flush(&mut self) -> Result<(), BlockError> {
        self.saves.borrow_mut().flushed += 1;
        Ok(())
    }
    fn durable_ticket(&mut self) -> Option<u64> {
        let mut s = self.saves.borrow_mut();
        if s.saved >= s.flushed {
            return None;
        }
        // Asking again after a failed save is a new request (the
        // browser's disk does the same: see web/src/disk.rs).
        if s.failed.as_ref().is_some_and(|(g, _)| *g >= s.flushed) {
            s.flushed += 1;
        }
        let t = s.flushed;
        s.asked.push(t);
        Some(t)
    }
    fn durability(&self, ticket: u64) -> Option<Result<(), BlockError>> {
        let s = self.saves.borrow();
        if s.saved >= ticket {
            return Some(Ok(()));
        }
        match &s.failed {
            Some((g, why)) if *g >= ticket => Some(Err(why.clone())),
            _ => None,
        }
    }
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// An ext2 image holding /bin/busybox.
fn image() -> Vec<u8> {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("wax-durable-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("root/bin")).unwrap();
    let busybox = repo().join("build/busybox/bin/busybox");
    std::fs::copy(&busybox, dir.join("root/bin/busybox"))
        .unwrap_or_else(|e| panic!("{}: {e} (run scripts/setup.sh)", busybox.display()));
    let img = dir.join("fs.img");
    let st = Command::new("mke2fs")
        .args(["-q", "-F", "-t", "ext2", "-b", "4096", "-d"])
        .arg(dir.join("root"))
        .arg(&img)
        .arg("16M")
        .status()
        .expect("mke2fs (e2fsprogs) must be installed");
    assert!(st.success());
    let bytes = std::fs::read(&img).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    bytes
}

struct Guest {
    kernel: Kernel,
    stdout: Rc<RefCell<MemStream>>,
    saves: Rc<RefCell<Saves>>,
}

impl Guest {
    fn start(script: &str) -> Guest {
        let saves = Rc::new(RefCell::new(Saves::default()));
        let dev = LaterDisk {
            mem: MemDevice::new(image()),
            saves: saves.clone(),
        };
        let mut fs =
            Ext2Fs::mount(Box::new(dev), Box::new(FixedClock::default()), false).expect("mount");
        let stdout = Rc::new(RefCell::new(MemStream::default()));
        let host = Host {
            clock: Box::new(FixedClock::default()),
            entropy: Rc::new(RefCell::new(SeededEntropy(1))),
            stdin: Rc::new(RefCell::new(MemStream {
                eof: true,
                ..MemStream::default()
            })),
            stdout: stdout.clone(),
            stderr: stdout.clone(),
            root: Box::new(fs.clone()),
        };
        let config = Config {
            memory: 64 << 20,
            strace: false,
            uid: 0,
            gid: 0,
        };
        let mut kernel = Kernel::new(host, config);
        let (mut file, size, exe_path) = open_program(&mut fs, b"/bin/busybox").expect("busybox");
        kernel
            .exec(Program {
                file: file.as_mut(),
                size,
                exe_path,
                argv: ["busybox", "sh", "-c", script]
                    .iter()
                    .map(|s| s.as_bytes().to_vec())
                    .collect(),
                envp: vec![b"PATH=/bin".to_vec()],
                execfn: b"/bin/busybox".to_vec(),
                cwd: b"/".to_vec(),
            })
            .expect("exec");
        Guest {
            kernel,
            stdout,
            saves,
        }
    }

    /// Runs until every thread waits (with nothing timed) or the guest
    /// exits.
    fn run(&mut self) -> RunStatus {
        for _ in 0..10_000 {
            match self.kernel.run(5_000_000) {
                RunStatus::Budget => continue,
                s => return s,
            }
        }
        panic!("the guest neither waits nor ends");
    }

    fn output(&self) -> String {
        String::from_utf8_lossy(&self.stdout.borrow().output).into_owned()
    }

    /// The host keeps everything flushed so far.
    fn save(&self) {
        let mut s = self.saves.borrow_mut();
        s.saved = s.flushed;
    }

    /// The host's save of everything flushed so far fails.
    fn fail(&self, why: BlockError) {
        let mut s = self.saves.borrow_mut();
        s.failed = Some((s.flushed, why));
    }
}

#[test]
fn fsync_waits_for_the_host_and_reports_its_failure() {
    let mut g = Guest::start(
        "echo data > /f; echo written; \
         busybox sync /f; echo fsync=$?; \
         busybox sync -d /f; echo fdatasync=$?; \
         echo more >> /f; busybox sync -f /f; echo syncfs=$?",
    );
    // fsync: the data is flushed, and the guest waits for the host.
    assert_eq!(g.run(), RunStatus::Idle { deadline: None });
    assert_eq!(g.output(), "written\n");
    assert_eq!(g.saves.borrow().asked.len(), 1);
    // The save fails for lack of room: fsync says so.
    g.fail(BlockError::NoSpace("the browser's quota".into()));
    assert_eq!(g.run(), RunStatus::Idle { deadline: None });
    let out = g.output();
    assert!(
        out.starts_with("written\nsync: /f: No space left on device\nfsync=1\n"),
        "{out}"
    );
    // fdatasync asks again (nothing new to write: the same data is still
    // unsaved) and waits for the retry, which succeeds.
    assert_eq!(g.saves.borrow().asked.len(), 2);
    g.save();
    assert_eq!(g.run(), RunStatus::Idle { deadline: None });
    assert!(g.output().ends_with("fdatasync=0\n"), "{}", g.output());
    // syncfs after another write: waits, then returns 0 once kept.
    g.save();
    assert_eq!(g.run(), RunStatus::Exited(ExitStatus::Exited(0)));
    assert!(g.output().ends_with("syncfs=0\n"), "{}", g.output());
}

#[test]
fn sync_waits_for_the_host_even_though_it_reports_nothing() {
    // sync(2) returns nothing to a C program (busybox's `sync` exits 0
    // whatever happens), but it returns only once the host's save ended.
    let mut g = Guest::start("echo x > /g; busybox sync; echo sync=$?");
    assert_eq!(g.run(), RunStatus::Idle { deadline: None });
    assert_eq!(g.output(), "");
    assert_eq!(g.saves.borrow().asked.len(), 1);
    g.fail(BlockError::Io("the save was cut short".into()));
    assert_eq!(g.run(), RunStatus::Exited(ExitStatus::Exited(0)));
    assert_eq!(g.output(), "sync=0\n");
}

#[test]
fn a_disk_kept_at_flush_never_waits() {
    // The CLI's devices: durable_ticket is None, nothing changes.
    let mut g = Guest::start("echo y > /h; busybox sync /h; echo fsync=$?");
    g.saves.borrow_mut().saved = u64::MAX;
    assert_eq!(g.run(), RunStatus::Exited(ExitStatus::Exited(0)));
    assert_eq!(g.output(), "fsync=0\n");
    assert!(g.saves.borrow().asked.is_empty());
}
