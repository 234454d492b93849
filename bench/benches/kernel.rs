//! ELF loading and process start through the kernel API (as `wax run`
//! drives it): `exec` of the static busybox into a fresh kernel, and
//! `exec` plus running `busybox true` to its exit (libc start-up, a few
//! system calls, exit_group). The kernel is created outside the timed part:
//! creating machine memory is not what these benches measure.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use std::cell::RefCell;
use std::rc::Rc;
use wax_bench::busybox;
use wax_devices::{FixedClock, MemStream, SeededEntropy};
use wax_kernel::errno::KResult;
use wax_kernel::vfs::{mode, Attr, DirEntry, FileHandle, FileSystem, Ino, OpenMode};
use wax_kernel::{Config, Errno, ExitStatus, Host, Kernel, Program, RunStatus};

/// A root directory with nothing in it: a static program needs no files.
struct EmptyRoot;

impl FileSystem for EmptyRoot {
    fn root(&self) -> Ino {
        1
    }
    fn lookup(&mut self, _: Ino, _: &[u8]) -> KResult<Ino> {
        Err(Errno::ENOENT)
    }
    fn getattr(&mut self, ino: Ino) -> KResult<Attr> {
        Ok(Attr {
            ino,
            mode: mode::S_IFDIR | 0o755,
            nlink: 2,
            ..Attr::default()
        })
    }
    fn open(&mut self, _: Ino, _: OpenMode) -> KResult<Box<dyn FileHandle>> {
        Err(Errno::EISDIR)
    }
    fn readdir(&mut self, _: Ino) -> KResult<Vec<DirEntry>> {
        Ok(Vec::new())
    }
    fn readlink(&mut self, _: Ino) -> KResult<Vec<u8>> {
        Err(Errno::EINVAL)
    }
}

/// The program file, from memory.
struct Bytes(Rc<Vec<u8>>);

impl FileHandle for Bytes {
    fn read_at(&mut self, off: u64, buf: &mut [u8]) -> KResult<usize> {
        let data = self.0.get(off as usize..).unwrap_or(&[]);
        let n = data.len().min(buf.len());
        buf[..n].copy_from_slice(&data[..n]);
        Ok(n)
    }
    fn write_at(&mut self, _: u64, _: &[u8]) -> KResult<usize> {
        Err(Errno::EBADF)
    }
}

fn new_kernel() -> Kernel {
    let stream = || Rc::new(RefCell::new(MemStream::default()));
    let host = Host {
        clock: Box::new(FixedClock::default()),
        entropy: Rc::new(RefCell::new(SeededEntropy(1))),
        stdin: stream(),
        stdout: stream(),
        stderr: stream(),
        root: Box::new(EmptyRoot),
    };
    // Small machine memory: busybox true needs little, and creating the
    // machine is outside the timed part anyway.
    let config = Config {
        memory: 64 << 20,
        strace: false,
        uid: 0,
        gid: 0,
    };
    Kernel::new(host, config)
}

fn exec(kernel: &mut Kernel, image: &Rc<Vec<u8>>, argv: &[&str]) {
    let mut file = Bytes(image.clone());
    let program = Program {
        file: &mut file,
        size: image.len() as u64,
        exe_path: b"/bin/busybox".to_vec(),
        argv: argv.iter().map(|a| a.as_bytes().to_vec()).collect(),
        envp: vec![b"PATH=/bin".to_vec()],
        execfn: b"/bin/busybox".to_vec(),
        cwd: b"/".to_vec(),
    };
    kernel.exec(program).expect("busybox loads");
}

fn run_to_exit(kernel: &mut Kernel) -> ExitStatus {
    loop {
        match kernel.run(u64::MAX) {
            RunStatus::Exited(s) => return s,
            RunStatus::Budget => {}
            RunStatus::Idle { .. } => panic!("busybox true waited for input"),
        }
    }
}

fn process(c: &mut Criterion) {
    let path = busybox();
    let Ok(image) = std::fs::read(&path) else {
        eprintln!(
            "kernel bench skipped: {} is missing (run scripts/setup.sh)",
            path.display()
        );
        return;
    };
    let image = Rc::new(image);
    let argv = ["busybox", "true"];
    let mut group = c.benchmark_group("kernel");
    group.sample_size(20);
    group.bench_function("exec_busybox", |b| {
        b.iter_batched(
            new_kernel,
            |mut k| {
                exec(&mut k, &image, &argv);
                k
            },
            BatchSize::PerIteration,
        )
    });
    group.bench_function("exec_and_run_busybox_true", |b| {
        b.iter_batched(
            new_kernel,
            |mut k| {
                exec(&mut k, &image, &argv);
                assert_eq!(run_to_exit(&mut k), ExitStatus::Exited(0));
                k
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, process);
criterion_main!(benches);
