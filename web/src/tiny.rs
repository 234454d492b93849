//! The self-test's guest program: a static i386 ELF executable made here,
//! byte by byte (ELF header, one PT_LOAD program header, code, message).

use wax_kernel::errno::KResult;
use wax_kernel::vfs::FileHandle;
use wax_kernel::Errno;

/// Where the image is loaded; the file maps whole from offset 0.
const BASE: u32 = 0x0804_8000;
const EHDR_SIZE: usize = 52;
const PHDR_SIZE: usize = 32;
const CODE_AT: usize = EHDR_SIZE + PHDR_SIZE;

/// An executable that writes `message` to stdout, then exits with
/// `status`, through `int 0x80`.
pub fn program(message: &[u8], status: u8) -> Vec<u8> {
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
pub struct Bytes(pub Vec<u8>);

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
