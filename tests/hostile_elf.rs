//! Hostile input for the loader: truncated, corrupt and malicious ELF
//! files, files that are not ELF at all, and things that are not files.
//!
//! Whatever the input, `wax run` must end within a timeout with either a
//! clear error (non-zero status, a message on stderr) or a guest signal,
//! and never panic or die of a host signal. Where the answer is clear-cut
//! the exact status is checked too: 127 for a missing program, 126 for a
//! file that is not a runnable i386 ELF.
//!
//! The files are generated here from one small valid program (write "ok",
//! exit 7), which is also run natively to prove the generator right.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::{host_problems, run_with_timeout, Invocation, Run, Status, TempDir};

const BASE: u32 = 0x0804_8000;
const EHDR_SIZE: usize = 52;
const PHDR_SIZE: usize = 32;
const PT_LOAD: u32 = 1;
const PT_INTERP: u32 = 3;
const PF_X: u32 = 1;
const PF_W: u32 = 2;
const PF_R: u32 = 4;

/// Offsets of ELF header fields (ELF32).
mod ehdr {
    pub const CLASS: usize = 4;
    pub const DATA: usize = 5;
    pub const TYPE: usize = 16;
    pub const MACHINE: usize = 18;
    pub const ENTRY: usize = 24;
    pub const PHOFF: usize = 28;
    pub const PHENTSIZE: usize = 42;
    pub const PHNUM: usize = 44;
}

/// Offsets of program header fields, relative to the header.
mod phdr {
    pub const TYPE: usize = 0;
    pub const OFFSET: usize = 4;
    pub const VADDR: usize = 8;
    pub const FILESZ: usize = 16;
    pub const MEMSZ: usize = 20;
    pub const FLAGS: usize = 24;
    pub const ALIGN: usize = 28;
}

/// A minimal static i386 executable: one PT_LOAD mapping the whole file at
/// `base`, code that writes "ok\n" to stdout and exits with status 7.
struct Elf {
    bytes: Vec<u8>,
}

impl Elf {
    fn valid() -> Elf {
        Elf::at(BASE, 1)
    }

    /// The program loaded at `base`, with `phnum` program headers (the
    /// first is the PT_LOAD, the others PT_NULL).
    fn at(base: u32, phnum: usize) -> Elf {
        let code_off = EHDR_SIZE + PHDR_SIZE * phnum;
        let msg = base + code_off as u32 + 34;
        let mut code = Vec::new();
        code.extend([0xb8, 4, 0, 0, 0]); // mov eax, 4 (write)
        code.extend([0xbb, 1, 0, 0, 0]); // mov ebx, 1
        code.push(0xb9); // mov ecx, msg
        code.extend(msg.to_le_bytes());
        code.extend([0xba, 3, 0, 0, 0]); // mov edx, 3
        code.extend([0xcd, 0x80]); // int 0x80
        code.extend([0xb8, 1, 0, 0, 0]); // mov eax, 1 (exit)
        code.extend([0xbb, 7, 0, 0, 0]); // mov ebx, 7
        code.extend([0xcd, 0x80]); // int 0x80
        assert_eq!(code.len(), 34);
        code.extend(b"ok\n");

        let mut elf = Elf {
            bytes: vec![0; code_off],
        };
        elf.bytes.extend(code);
        let len = elf.bytes.len() as u32;
        elf.bytes[..8].copy_from_slice(&[0x7f, b'E', b'L', b'F', 1, 1, 1, 0]);
        elf.u16(ehdr::TYPE, 2); // ET_EXEC
        elf.u16(ehdr::MACHINE, 3); // EM_386
        elf.u32(20, 1); // e_version
        elf.u32(ehdr::ENTRY, base + code_off as u32);
        elf.u32(ehdr::PHOFF, EHDR_SIZE as u32);
        elf.u16(40, EHDR_SIZE as u16); // e_ehsize
        elf.u16(ehdr::PHENTSIZE, PHDR_SIZE as u16);
        elf.u16(ehdr::PHNUM, phnum as u16);
        elf.ph(0, phdr::TYPE, PT_LOAD);
        elf.ph(0, phdr::VADDR, base);
        elf.ph(0, 12, base); // p_paddr
        elf.ph(0, phdr::FILESZ, len);
        elf.ph(0, phdr::MEMSZ, len);
        elf.ph(0, phdr::FLAGS, PF_R | PF_X);
        elf.ph(0, phdr::ALIGN, 0x1000);
        elf
    }

    fn u16(&mut self, off: usize, v: u16) {
        self.bytes[off..off + 2].copy_from_slice(&v.to_le_bytes());
    }

    fn u32(&mut self, off: usize, v: u32) {
        self.bytes[off..off + 4].copy_from_slice(&v.to_le_bytes());
    }

    /// Sets field `field` of program header `index`.
    fn ph(&mut self, index: usize, field: usize, v: u32) {
        self.u32(EHDR_SIZE + index * PHDR_SIZE + field, v);
    }

    fn with(mut self, f: impl FnOnce(&mut Elf)) -> Vec<u8> {
        f(&mut self);
        self.bytes
    }
}

/// What a case may end with.
#[derive(Clone, Copy, Debug)]
enum Expect {
    /// Exactly this status.
    Code(i32),
    /// Any of these statuses (7 means the program ran normally).
    AnyOf(&'static [i32]),
}

fn timeout() -> Duration {
    common::timeout_or(Duration::from_secs(10))
}

fn wax_run(program: &Path) -> Run {
    let mut cmd = common::wax_run();
    cmd.arg(program);
    run_with_timeout(cmd, &[], timeout())
}

/// Checks one `wax run` outcome; returns what is wrong with it.
fn judge(run: &Run, expect: Expect) -> Vec<String> {
    let mut problems = host_problems(run);
    let Status::Exited(code) = run.status else {
        return problems;
    };
    let allowed: &[i32] = match &expect {
        Expect::Code(c) => std::slice::from_ref(c),
        Expect::AnyOf(codes) => codes,
    };
    if !allowed.contains(&code) {
        problems.push(format!("exit {code}, expected one of {allowed:?}"));
    }
    if code != 0 && code != 7 && run.stderr.iter().all(u8::is_ascii_whitespace) {
        problems.push(format!("exit {code} without a message on stderr"));
    }
    problems
}

fn check_cases<N: AsRef<str>>(dir: &TempDir, cases: Vec<(N, Vec<u8>, Expect)>) {
    let mut failures = Vec::new();
    for (name, bytes, expect) in cases {
        let name = name.as_ref();
        let path = dir.path().join(name);
        write_executable(&path, &bytes);
        let run = wax_run(&path);
        let problems = judge(&run, expect);
        if !problems.is_empty() {
            failures.push(format!(
                "{name}: {}\n    stderr: {}",
                problems.join("; "),
                run.stderr_text().trim_end()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn write_executable(path: &Path, bytes: &[u8]) {
    use std::os::unix::fs::PermissionsExt;
    fs::write(path, bytes).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn the_generated_program_is_valid() {
    let dir = TempDir::new("elf-valid");
    let path = dir.path().join("valid");
    write_executable(&path, &Elf::valid().bytes);
    let inv = Invocation::new(&path).timeout(timeout());
    let native = inv.run_native();
    assert_eq!(
        (native.status, &native.stdout[..]),
        (Status::Exited(7), &b"ok\n"[..]),
        "generator broken"
    );
    let wax = inv.run_wax();
    assert_eq!(
        (wax.status, &wax.stdout[..]),
        (Status::Exited(7), &b"ok\n"[..]),
        "wax stderr: {}",
        wax.stderr_text()
    );
}

#[test]
fn missing_program_is_127() {
    let dir = TempDir::new("elf-missing");
    let run = wax_run(&dir.path().join("does-not-exist"));
    assert!(host_problems(&run).is_empty(), "{:?}", host_problems(&run));
    assert_eq!(
        run.status,
        Status::Exited(127),
        "stderr: {}",
        run.stderr_text()
    );
    assert!(
        run.stderr_text().contains("No such file or directory"),
        "stderr: {}",
        run.stderr_text()
    );
}

#[test]
fn not_elf_at_all_is_126() {
    let dir = TempDir::new("elf-notelf");
    check_cases(
        &dir,
        vec![
            ("empty", vec![], Expect::Code(126)),
            (
                "text",
                b"hello, world\nthis is text\n".to_vec(),
                Expect::Code(126),
            ),
            ("zeros", vec![0; 4096], Expect::Code(126)),
            ("magic-only", b"\x7fELF".to_vec(), Expect::Code(126)),
            (
                "pe-like",
                b"MZ\x90\x00\x03\x00\x00\x00".repeat(100),
                Expect::Code(126),
            ),
        ],
    );
}

#[test]
fn truncated_headers_are_126() {
    let dir = TempDir::new("elf-trunc");
    let valid = Elf::valid().bytes;
    let mut cases = Vec::new();
    for len in [
        5,
        16,
        24,
        40,
        EHDR_SIZE - 1,
        EHDR_SIZE,
        EHDR_SIZE + 4,
        EHDR_SIZE + PHDR_SIZE - 1,
    ] {
        cases.push((
            format!("truncated-{len}"),
            valid[..len].to_vec(),
            Expect::Code(126),
        ));
    }
    check_cases(&dir, cases);
}

#[test]
fn wrong_class_data_type_or_machine_is_126() {
    let dir = TempDir::new("elf-ident");
    let e = Elf::valid;
    check_cases(
        &dir,
        vec![
            (
                "class64",
                e().with(|e| e.bytes[ehdr::CLASS] = 2),
                Expect::Code(126),
            ),
            (
                "class0",
                e().with(|e| e.bytes[ehdr::CLASS] = 0),
                Expect::Code(126),
            ),
            (
                "class9",
                e().with(|e| e.bytes[ehdr::CLASS] = 9),
                Expect::Code(126),
            ),
            (
                "big-endian",
                e().with(|e| e.bytes[ehdr::DATA] = 2),
                Expect::Code(126),
            ),
            (
                "data0",
                e().with(|e| e.bytes[ehdr::DATA] = 0),
                Expect::Code(126),
            ),
            (
                "machine-x86-64",
                e().with(|e| e.u16(ehdr::MACHINE, 62)),
                Expect::Code(126),
            ),
            (
                "machine-arm",
                e().with(|e| e.u16(ehdr::MACHINE, 40)),
                Expect::Code(126),
            ),
            (
                "machine-0",
                e().with(|e| e.u16(ehdr::MACHINE, 0)),
                Expect::Code(126),
            ),
            (
                "type-rel",
                e().with(|e| e.u16(ehdr::TYPE, 1)),
                Expect::Code(126),
            ),
            (
                "type-core",
                e().with(|e| e.u16(ehdr::TYPE, 4)),
                Expect::Code(126),
            ),
            (
                "type-none",
                e().with(|e| e.u16(ehdr::TYPE, 0)),
                Expect::Code(126),
            ),
            // ET_DYN: a PIE, which may load elsewhere (then the absolute
            // message address is wrong, but exit 7 still happens).
            (
                "type-dyn",
                e().with(|e| e.u16(ehdr::TYPE, 3)),
                Expect::AnyOf(&[7, 126, 139]),
            ),
        ],
    );
}

#[test]
fn real_x86_64_program_is_126() {
    let dir = TempDir::new("elf-x64");
    let src = dir.path().join("hello64.c");
    fs::write(&src, "int main(void) { return 0; }\n").unwrap();
    let program = common::compile(&src, "hello64", &["-static", "-O2"]);
    let run = wax_run(&program);
    let problems = judge(&run, Expect::Code(126));
    assert!(
        problems.is_empty(),
        "{problems:?}; stderr: {}",
        run.stderr_text()
    );
}

#[test]
fn bad_program_header_tables_are_126() {
    let dir = TempDir::new("elf-phdrs");
    let e = Elf::valid;
    check_cases(
        &dir,
        vec![
            (
                "phnum-0",
                e().with(|e| e.u16(ehdr::PHNUM, 0)),
                Expect::Code(126),
            ),
            (
                "phnum-ffff",
                e().with(|e| e.u16(ehdr::PHNUM, 0xffff)),
                Expect::Code(126),
            ),
            (
                "phnum-past-eof",
                e().with(|e| e.u16(ehdr::PHNUM, 5)),
                Expect::Code(126),
            ),
            (
                "phentsize-0",
                e().with(|e| e.u16(ehdr::PHENTSIZE, 0)),
                Expect::Code(126),
            ),
            (
                "phentsize-31",
                e().with(|e| e.u16(ehdr::PHENTSIZE, 31)),
                Expect::Code(126),
            ),
            (
                "phentsize-ffff",
                e().with(|e| e.u16(ehdr::PHENTSIZE, 0xffff)),
                Expect::Code(126),
            ),
            (
                "phoff-past-eof",
                e().with(|e| e.u32(ehdr::PHOFF, 0x10_0000)),
                Expect::Code(126),
            ),
            (
                "phoff-wraps",
                e().with(|e| e.u32(ehdr::PHOFF, 0xffff_fff0)),
                Expect::Code(126),
            ),
        ],
    );
}

#[test]
fn bad_segments_are_rejected_or_fault() {
    let dir = TempDir::new("elf-segs");
    let e = Elf::valid;
    let rejected = Expect::Code(126);
    // A segment Linux would refuse may still be loadable by Wax (its guest
    // address space has no kernel half and no mmap_min_addr): then the
    // program runs (7) or faults (SIGSEGV, 139). What must never happen is
    // a panic, a hang or a silent failure.
    let loads_or_not = Expect::AnyOf(&[7, 126, 139]);
    check_cases(
        &dir,
        vec![
            (
                "offset-past-eof",
                e().with(|e| e.ph(0, phdr::OFFSET, 0x10_0000)),
                rejected,
            ),
            (
                "filesz-past-eof",
                e().with(|e| e.ph(0, phdr::FILESZ, 0x10_0000)),
                rejected,
            ),
            (
                "offset-plus-filesz-wraps",
                e().with(|e| {
                    e.ph(0, phdr::OFFSET, 0xffff_f000);
                    e.ph(0, phdr::VADDR, 0xffff_f000);
                    e.ph(0, phdr::FILESZ, 0x2000);
                }),
                rejected,
            ),
            (
                "memsz-huge",
                e().with(|e| e.ph(0, phdr::MEMSZ, 0xffff_f000)),
                rejected,
            ),
            (
                "filesz-gt-memsz",
                e().with(|e| e.ph(0, phdr::MEMSZ, 16)),
                loads_or_not,
            ),
            (
                "crosses-4gib",
                Elf::at(0xffff_f000, 1).with(|e| e.ph(0, phdr::MEMSZ, 0x2000)),
                rejected,
            ),
            ("top-page", Elf::at(0xffff_f000, 1).bytes, loads_or_not),
            ("at-zero", Elf::at(0, 1).bytes, loads_or_not),
            (
                "misaligned-offset",
                e().with(|e| e.ph(0, phdr::VADDR, BASE + 1)),
                Expect::AnyOf(&[7, 126, 139]),
            ),
            (
                "align-not-power-of-2",
                e().with(|e| e.ph(0, phdr::ALIGN, 0x1234)),
                Expect::AnyOf(&[7, 126]),
            ),
            (
                "overlapping",
                Elf::at(BASE, 2).with(|e| {
                    let len = e.bytes.len() as u32;
                    e.ph(1, phdr::TYPE, PT_LOAD);
                    e.ph(1, phdr::VADDR, BASE);
                    e.ph(1, phdr::FILESZ, len);
                    e.ph(1, phdr::MEMSZ, len);
                    e.ph(1, phdr::FLAGS, PF_R | PF_X);
                }),
                Expect::AnyOf(&[7, 126]),
            ),
            (
                "many-headers",
                Elf::at(BASE, 2000).bytes,
                Expect::AnyOf(&[7, 126]),
            ),
        ],
    );
}

#[test]
fn bad_entry_points_are_rejected_or_fault() {
    let dir = TempDir::new("elf-entry");
    let e = Elf::valid;
    let fault = Expect::AnyOf(&[126, 139]);
    check_cases(
        &dir,
        vec![
            ("entry-zero", e().with(|e| e.u32(ehdr::ENTRY, 0)), fault),
            (
                "entry-unmapped",
                e().with(|e| e.u32(ehdr::ENTRY, 0x1000_0000)),
                fault,
            ),
            (
                "entry-top",
                e().with(|e| e.u32(ehdr::ENTRY, 0xffff_ffff)),
                fault,
            ),
            (
                "entry-not-executable",
                e().with(|e| e.ph(0, phdr::FLAGS, PF_R | PF_W)),
                fault,
            ),
            (
                // The last byte of the segment: the instruction runs off the
                // end of the mapping.
                "entry-at-segment-end",
                e().with(|e| {
                    let len = e.bytes.len() as u32;
                    e.u32(ehdr::ENTRY, BASE + len - 1);
                }),
                Expect::AnyOf(&[126, 132, 139]),
            ),
        ],
    );
}

#[test]
fn bad_interpreters_fail_cleanly() {
    let dir = TempDir::new("elf-interp");
    let interp = |path: &'static [u8], filesz: Option<u32>| {
        let mut elf = Elf::at(BASE, 2);
        let off = elf.bytes.len() as u32;
        elf.bytes.extend(path);
        let len = elf.bytes.len() as u32;
        elf.ph(0, phdr::FILESZ, len);
        elf.ph(0, phdr::MEMSZ, len);
        elf.ph(1, phdr::TYPE, PT_INTERP);
        elf.ph(1, phdr::OFFSET, off);
        elf.ph(1, phdr::FILESZ, filesz.unwrap_or(path.len() as u32));
        elf.bytes
    };
    let fails = Expect::AnyOf(&[126, 127]);
    check_cases(
        &dir,
        vec![
            (
                "interp-missing",
                interp(b"/nonexistent/ld-linux.so.2\0", None),
                fails,
            ),
            (
                "interp-unterminated",
                interp(b"/lib/ld-linux.so.2", None),
                fails,
            ),
            ("interp-empty", interp(b"\0", None), fails),
            (
                "interp-past-eof",
                interp(b"/lib/ld-linux.so.2\0", Some(0x10_0000)),
                fails,
            ),
            ("interp-is-dir", interp(b"/\0", None), fails),
        ],
    );
}

#[test]
fn things_that_are_not_regular_files_are_126() {
    let dir = TempDir::new("elf-special");
    let fifo = dir.path().join("fifo");
    let made = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("running mkfifo");
    assert!(made.success(), "mkfifo failed");
    let mut failures = Vec::new();
    // A FIFO with no writer would block a naive open(); /dev/zero never
    // ends, so reading the whole file first would never finish.
    for path in [
        dir.path().to_path_buf(),
        fifo,
        PathBuf::from("/dev/null"),
        PathBuf::from("/dev/zero"),
    ] {
        let run = wax_run(&path);
        let problems = judge(&run, Expect::Code(126));
        if !problems.is_empty() {
            failures.push(format!(
                "{}: {problems:?}; stderr: {}",
                path.display(),
                run.stderr_text()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn huge_sparse_file_is_not_read_whole() {
    let dir = TempDir::new("elf-sparse");
    let path = dir.path().join("sparse");
    write_executable(&path, &Elf::valid().bytes);
    // 8 GiB, almost all of it a hole: the valid program plus a huge tail.
    fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(8 << 30)
        .unwrap();
    let run = wax_run(&path);
    let problems = judge(&run, Expect::AnyOf(&[7, 126]));
    assert!(
        problems.is_empty(),
        "{problems:?}; stderr: {}",
        run.stderr_text()
    );
}

/// Deterministic corruption of the headers of the valid program: every
/// outcome is fine except a panic, a host crash, a hang, or a failure
/// without a message.
#[test]
fn corrupted_headers_never_crash_the_host() {
    const CASES: usize = 200;
    let dir = TempDir::new("elf-fuzz");
    let valid = Elf::at(BASE, 2).bytes;
    let header_len = EHDR_SIZE + 2 * PHDR_SIZE;
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut failures = Vec::new();
    for case in 0..CASES {
        let mut bytes = valid.clone();
        for _ in 0..1 + next() % 4 {
            let at = (next() % header_len as u64) as usize;
            bytes[at] = match next() % 4 {
                0 => 0,
                1 => 0xff,
                2 => bytes[at] ^ (1 << (next() % 8)),
                _ => next() as u8,
            };
        }
        let path = dir.path().join(format!("fuzz-{case}"));
        write_executable(&path, &bytes);
        let run = wax_run(&path);
        // Any status is acceptable here (a corrupted program may still run
        // and exit with whatever is in EBX), but not without a trace.
        let mut problems = host_problems(&run);
        if let Status::Exited(code) = run.status {
            if code >= 126 && run.stderr.iter().all(u8::is_ascii_whitespace) {
                problems.push(format!("exit {code} without a message"));
            }
        }
        if !problems.is_empty() {
            failures.push(format!(
                "fuzz-{case}: {problems:?}; stderr: {}",
                run.stderr_text()
            ));
            let keep = common::scratch().join(format!("elf-fuzz-failure-{case}"));
            let _ = fs::copy(&path, &keep);
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {CASES} failed (inputs kept in {}):\n{}",
        failures.len(),
        common::scratch().display(),
        failures.join("\n")
    );
}
