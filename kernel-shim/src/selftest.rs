//! The whole kernel on any host, wasm32 included: a static i386 ELF made
//! here byte by byte (ELF header, one PT_LOAD program header, code,
//! message) runs through the loader, the interpreter and the system-call
//! layer. `scripts/test-wasm.sh` runs it under Node's WASI with the other
//! unit tests, so a 32-bit host that cannot run a program fails CI.

use crate::abi::errno::KResult;
use crate::vfs::tmpfs::{TmpFs, Usage};
use crate::vfs::FileHandle;
use crate::{Config, Errno, ExitStatus, Host, Kernel, Program, RunStatus};
use std::cell::RefCell;
use std::rc::Rc;
use wax_devices::{FixedClock, MemStream, SeededEntropy};

/// Where the image is loaded; the file maps whole from offset 0.
const BASE: u32 = 0x0804_8000;
const EHDR_SIZE: usize = 52;
const PHDR_SIZE: usize = 32;
const CODE_AT: usize = EHDR_SIZE + PHDR_SIZE;

/// An executable that writes `message` to stdout, then exits with
/// `status`, through `int 0x80`.
fn program(message: &[u8], status: u8) -> Vec<u8> {
    let mut code = Vec::new();
    let msg_addr = BASE + (CODE_AT + CODE_LEN) as u32;
    mov(&mut code, 0xb8, 4); // eax = write
    mov(&mut code, 0xbb, 1); // ebx = stdout
    mov(&mut code, 0xb9, msg_addr); // ecx
    mov(&mut code, 0xba, message.len() as u32); // edx
    code.extend([0xcd, 0x80]);
    mov(&mut code, 0xb8, 1); // eax = exit
    mov(&mut code, 0xbb, u32::from(status));
    code.extend([0xcd, 0x80]);
    debug_assert_eq!(code.len(), CODE_LEN);

    let total = (CODE_AT + CODE_LEN + message.len()) as u32;
    let mut f = elf_header(BASE + CODE_AT as u32);
    // PT_LOAD, offset 0, vaddr = paddr = BASE, filesz = memsz, R+X, 4 KiB.
    for word in [1, 0, BASE, BASE, total, total, 4 | 1, 0x1000] {
        f.extend(u32::to_le_bytes(word));
    }
    f.extend(code);
    f.extend(message);
    f
}

/// Bytes of the code `program` emits: six `mov r32, imm32` and two
/// `int 0x80`.
const CODE_LEN: usize = 6 * 5 + 2 * 2;

fn mov(code: &mut Vec<u8>, opcode: u8, imm: u32) {
    code.push(opcode);
    code.extend(imm.to_le_bytes());
}

/// An ELF32 little-endian ET_EXEC header for i386 with one program
/// header right after it.
fn elf_header(entry: u32) -> Vec<u8> {
    let mut h = Vec::with_capacity(EHDR_SIZE);
    h.extend(b"\x7fELF");
    h.extend([1, 1, 1]); // ELFCLASS32, little endian, EV_CURRENT
    h.extend([0; 9]);
    h.extend(2u16.to_le_bytes()); // ET_EXEC
    h.extend(3u16.to_le_bytes()); // EM_386
    h.extend(1u32.to_le_bytes()); // e_version
    h.extend(entry.to_le_bytes());
    h.extend((EHDR_SIZE as u32).to_le_bytes()); // e_phoff
    h.extend(0u32.to_le_bytes()); // e_shoff
    h.extend(0u32.to_le_bytes()); // e_flags
    h.extend((EHDR_SIZE as u16).to_le_bytes());
    h.extend((PHDR_SIZE as u16).to_le_bytes());
    h.extend(1u16.to_le_bytes()); // e_phnum
    h.extend([0; 6]); // no section headers
    debug_assert_eq!(h.len(), EHDR_SIZE);
    h
}

/// A read-only file in memory.
struct Bytes(Vec<u8>);

impl FileHandle for Bytes {
    fn read_at(&mut self, off: u64, buf: &mut [u8]) -> KResult<usize> {
        let start = usize::try_from(off).map_or(self.0.len(), |o| o.min(self.0.len()));
        let n = buf.len().min(self.0.len() - start);
        buf[..n].copy_from_slice(&self.0[start..start + n]);
        Ok(n)
    }

    fn write_at(&mut self, _off: u64, _buf: &[u8]) -> KResult<usize> {
        Err(Errno::EBADF)
    }
}

#[test]
fn a_static_program_writes_and_exits_through_the_kernel() {
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
    let image = program(b"wax\n", 42);
    let size = image.len() as u64;
    kernel
        .exec(Program {
            file: &mut Bytes(image),
            size,
            exe_path: b"/selftest".to_vec(),
            argv: vec![b"selftest".to_vec()],
            envp: Vec::new(),
            execfn: b"/selftest".to_vec(),
            cwd: b"/".to_vec(),
        })
        .expect("exec");
    assert_eq!(
        kernel.run(10_000),
        RunStatus::Exited(ExitStatus::Exited(42))
    );
    assert_eq!(stdout.borrow().output, b"wax\n");
}
