//! ELF header and program header parsing, with the checks that keep a
//! corrupt or hostile file from doing anything but fail with a clear
//! [`ElfError`]. Only what loading an i386 program needs is parsed.

use crate::abi::errno::Errno;
use crate::vfs::FileHandle;

/// The top of an i386 task's address space on an x86-64 kernel
/// (TASK_SIZE for 32-bit tasks): nothing is mapped at or above it.
pub const TASK_SIZE: u32 = 0xffff_e000;

pub const ET_EXEC: u16 = 2;
pub const ET_DYN: u16 = 3;
pub const EM_386: u16 = 3;
pub const PT_LOAD: u32 = 1;
pub const PT_INTERP: u32 = 3;
pub const PT_PHDR: u32 = 6;
pub const PT_GNU_STACK: u32 = 0x6474_e551;
pub const PF_X: u32 = 1;
pub const PF_W: u32 = 2;
pub const PF_R: u32 = 4;
/// Size of an ELF32 program header.
pub const PHENT_SIZE: u16 = 32;
/// Linux refuses program header tables larger than 64 KiB.
const MAX_PHDR_BYTES: u32 = 65536;
const PAGE: u32 = 4096;

/// Why a file cannot be run as an i386 Linux program.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ElfError {
    #[error("not an ELF executable (bad magic number)")]
    NotElf,
    #[error("truncated ELF file: {0} lies beyond the end of the file")]
    Truncated(&'static str),
    #[error("64-bit ELF file: wax runs 32-bit i386 programs only")]
    Class64,
    #[error("unknown ELF class {0}: not a 32-bit i386 program")]
    BadClass(u8),
    #[error("big-endian ELF file: not an i386 program")]
    BigEndian,
    #[error("ELF file for {0}, not for i386 (x86, 32-bit)")]
    WrongMachine(&'static str),
    #[error("ELF type {0} is not an executable (want ET_EXEC or ET_DYN)")]
    NotExecutable(u16),
    #[error("bad program header table: {0}")]
    BadPhdrs(&'static str),
    #[error("bad loadable segment {index}: {reason}")]
    BadSegment { index: usize, reason: &'static str },
    #[error("the ELF file has no loadable segments")]
    NoSegments,
    #[error("the entry point is zero")]
    ZeroEntry,
    #[error("the entry point {0:#x} is not inside an executable segment")]
    EntryOutside(u32),
    #[error("bad PT_INTERP: {0}")]
    BadInterp(&'static str),
    #[error("cannot read the file: {0}")]
    Read(Errno),
    #[error("the program does not fit in guest memory")]
    NoMemory,
}

/// A program header (ELF32_Phdr).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Phdr {
    pub p_type: u32,
    pub p_offset: u32,
    pub p_vaddr: u32,
    pub p_filesz: u32,
    pub p_memsz: u32,
    pub p_flags: u32,
    pub p_align: u32,
}

impl Phdr {
    fn parse(b: &[u8]) -> Phdr {
        let w = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        Phdr {
            p_type: w(0),
            p_offset: w(4),
            p_vaddr: w(8),
            p_filesz: w(16),
            p_memsz: w(20),
            p_flags: w(24),
            p_align: w(28),
        }
    }

    /// End of the segment in memory (validated not to overflow).
    pub fn end(&self) -> u32 {
        self.p_vaddr + self.p_memsz
    }
}

/// A validated ELF executable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Elf {
    pub e_type: u16,
    pub e_entry: u32,
    pub e_phoff: u32,
    pub phdrs: Vec<Phdr>,
    /// The PT_INTERP path without its NUL.
    pub interp: Option<Vec<u8>>,
}

/// Reads exactly `buf.len()` bytes at `off`.
pub fn read_exact(f: &mut dyn FileHandle, off: u64, buf: &mut [u8]) -> Result<(), ElfError> {
    let mut done = 0;
    while done < buf.len() {
        let n = f
            .read_at(off + done as u64, &mut buf[done..])
            .map_err(ElfError::Read)?;
        if n == 0 {
            return Err(ElfError::Truncated("data"));
        }
        done += n;
    }
    Ok(())
}

fn machine_name(m: u16) -> &'static str {
    match m {
        62 => "x86-64",
        40 => "ARM",
        183 => "AArch64",
        8 => "MIPS",
        20 | 21 => "PowerPC",
        243 => "RISC-V",
        22 => "s390",
        _ => "another architecture",
    }
}

impl Elf {
    /// Reads and validates the headers of the file `f` of `size` bytes.
    pub fn parse(f: &mut dyn FileHandle, size: u64) -> Result<Elf, ElfError> {
        let mut eh = [0u8; 52];
        if size < 4 {
            return Err(ElfError::NotElf);
        }
        let have = (size.min(52)) as usize;
        read_exact(f, 0, &mut eh[..have])?;
        if eh[..4] != *b"\x7fELF" {
            return Err(ElfError::NotElf);
        }
        match eh.get(4) {
            Some(1) => {}
            Some(2) => return Err(ElfError::Class64),
            Some(&c) => return Err(ElfError::BadClass(c)),
            None => return Err(ElfError::Truncated("the ELF header")),
        }
        if have < 52 {
            return Err(ElfError::Truncated("the ELF header"));
        }
        if eh[5] != 1 {
            return Err(ElfError::BigEndian);
        }
        let h = |i: usize| u16::from_le_bytes([eh[i], eh[i + 1]]);
        let w = |i: usize| u32::from_le_bytes([eh[i], eh[i + 1], eh[i + 2], eh[i + 3]]);
        let (e_type, e_machine) = (h(16), h(18));
        if e_machine != EM_386 {
            return Err(ElfError::WrongMachine(machine_name(e_machine)));
        }
        if e_type != ET_EXEC && e_type != ET_DYN {
            return Err(ElfError::NotExecutable(e_type));
        }
        let (e_entry, e_phoff, e_phentsize, e_phnum) = (w(24), w(28), h(42), h(44));
        let phdrs = read_phdrs(f, size, e_phoff, e_phentsize, e_phnum)?;
        let mut elf = Elf {
            e_type,
            e_entry,
            e_phoff,
            phdrs,
            interp: None,
        };
        elf.check_segments(size)?;
        elf.interp = read_interp(f, size, &elf.phdrs)?;
        Ok(elf)
    }

    /// Whether the file is position independent (loaded at a bias).
    pub fn is_dyn(&self) -> bool {
        self.e_type == ET_DYN
    }

    /// The PT_LOAD headers, in file order (validated ascending).
    pub fn loads(&self) -> impl Iterator<Item = &Phdr> {
        self.phdrs.iter().filter(|p| p.p_type == PT_LOAD)
    }

    /// Lowest page and end of all PT_LOAD segments (before any bias).
    pub fn span(&self) -> (u32, u32) {
        let lo = self
            .loads()
            .map(|p| p.p_vaddr & !(PAGE - 1))
            .min()
            .unwrap_or(0);
        let hi = self.loads().map(|p| p.end()).max().unwrap_or(0);
        (lo, hi)
    }

    /// Where the program headers are in memory (before any bias), if some
    /// segment maps them.
    pub fn phdr_vaddr(&self) -> Option<u32> {
        if let Some(p) = self.phdrs.iter().find(|p| p.p_type == PT_PHDR) {
            return Some(p.p_vaddr);
        }
        let len = self.phdrs.len() as u32 * u32::from(PHENT_SIZE);
        self.loads()
            .find(|p| {
                p.p_offset <= self.e_phoff
                    && u64::from(self.e_phoff) + u64::from(len)
                        <= u64::from(p.p_offset) + u64::from(p.p_filesz)
            })
            .map(|p| p.p_vaddr + (self.e_phoff - p.p_offset))
    }

    fn check_segments(&self, size: u64) -> Result<(), ElfError> {
        let mut prev_end = 0u32;
        let mut any = false;
        for (index, p) in self.phdrs.iter().enumerate() {
            if p.p_type != PT_LOAD {
                continue;
            }
            any = true;
            let bad = |reason| Err(ElfError::BadSegment { index, reason });
            if p.p_filesz > p.p_memsz {
                return bad("file size larger than memory size");
            }
            if u64::from(p.p_offset) + u64::from(p.p_filesz) > size {
                return bad("file data lies beyond the end of the file");
            }
            if u64::from(p.p_vaddr) + u64::from(p.p_memsz) > u64::from(TASK_SIZE) {
                return bad("segment extends beyond the user address space");
            }
            if p.p_vaddr % PAGE != p.p_offset % PAGE {
                return bad("address and file offset are not congruent modulo the page size");
            }
            if p.p_vaddr < prev_end {
                return bad("segments overlap or are not in ascending order");
            }
            prev_end = p.end();
        }
        if !any {
            return Err(ElfError::NoSegments);
        }
        if self.e_entry == 0 && !self.is_dyn() {
            return Err(ElfError::ZeroEntry);
        }
        let entry_ok = self
            .loads()
            .any(|p| p.p_flags & PF_X != 0 && (p.p_vaddr..p.end()).contains(&self.e_entry));
        if !entry_ok {
            return Err(ElfError::EntryOutside(self.e_entry));
        }
        Ok(())
    }
}

fn read_phdrs(
    f: &mut dyn FileHandle,
    size: u64,
    phoff: u32,
    phentsize: u16,
    phnum: u16,
) -> Result<Vec<Phdr>, ElfError> {
    if phnum == 0 {
        return Err(ElfError::NoSegments);
    }
    if phentsize != PHENT_SIZE {
        return Err(ElfError::BadPhdrs("program header size is not 32"));
    }
    let bytes = u32::from(phnum) * u32::from(PHENT_SIZE);
    if bytes > MAX_PHDR_BYTES {
        return Err(ElfError::BadPhdrs("too many program headers"));
    }
    if u64::from(phoff) + u64::from(bytes) > size {
        return Err(ElfError::Truncated("the program header table"));
    }
    let mut raw = vec![0u8; bytes as usize];
    read_exact(f, u64::from(phoff), &mut raw)?;
    Ok(raw.chunks_exact(32).map(Phdr::parse).collect())
}

fn read_interp(
    f: &mut dyn FileHandle,
    size: u64,
    phdrs: &[Phdr],
) -> Result<Option<Vec<u8>>, ElfError> {
    let Some(p) = phdrs.iter().find(|p| p.p_type == PT_INTERP) else {
        return Ok(None);
    };
    if p.p_filesz < 2 || p.p_filesz as usize > crate::vfs::path::PATH_MAX {
        return Err(ElfError::BadInterp("bad path length"));
    }
    if u64::from(p.p_offset) + u64::from(p.p_filesz) > size {
        return Err(ElfError::Truncated("the interpreter path"));
    }
    let mut path = vec![0u8; p.p_filesz as usize];
    read_exact(f, u64::from(p.p_offset), &mut path)?;
    if path.pop() != Some(0) || path.contains(&0) {
        return Err(ElfError::BadInterp("path is not NUL-terminated"));
    }
    Ok(Some(path))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::abi::errno::KResult;

    /// A file in memory.
    pub struct Bytes(pub Vec<u8>);

    impl FileHandle for Bytes {
        fn read_at(&mut self, off: u64, buf: &mut [u8]) -> KResult<usize> {
            let start = (off as usize).min(self.0.len());
            let n = buf.len().min(self.0.len() - start);
            buf[..n].copy_from_slice(&self.0[start..start + n]);
            Ok(n)
        }
        fn write_at(&mut self, _off: u64, _buf: &[u8]) -> KResult<usize> {
            Err(Errno::EBADF)
        }
    }

    /// A minimal valid static executable: one RX segment at 0x08048000
    /// holding the headers and `code`, entry at the code.
    pub fn tiny_elf(code: &[u8]) -> Vec<u8> {
        let mut f = vec![0u8; 84];
        f[..4].copy_from_slice(b"\x7fELF");
        f[4] = 1;
        f[5] = 1;
        f[6] = 1;
        let put16 =
            |f: &mut Vec<u8>, i: usize, v: u16| f[i..i + 2].copy_from_slice(&v.to_le_bytes());
        let put32 =
            |f: &mut Vec<u8>, i: usize, v: u32| f[i..i + 4].copy_from_slice(&v.to_le_bytes());
        put16(&mut f, 16, ET_EXEC);
        put16(&mut f, 18, EM_386);
        put32(&mut f, 20, 1);
        put32(&mut f, 24, 0x0804_8000 + 84);
        put32(&mut f, 28, 52);
        put16(&mut f, 40, 52);
        put16(&mut f, 42, 32);
        put16(&mut f, 44, 1);
        let total = (84 + code.len()) as u32;
        put32(&mut f, 52, PT_LOAD);
        put32(&mut f, 56, 0);
        put32(&mut f, 60, 0x0804_8000);
        put32(&mut f, 68, total);
        put32(&mut f, 72, total);
        put32(&mut f, 76, PF_R | PF_X);
        put32(&mut f, 80, 4096);
        f.extend_from_slice(code);
        f
    }

    fn parse(bytes: Vec<u8>) -> Result<Elf, ElfError> {
        let size = bytes.len() as u64;
        Elf::parse(&mut Bytes(bytes), size)
    }

    fn patch32(mut f: Vec<u8>, at: usize, v: u32) -> Vec<u8> {
        f[at..at + 4].copy_from_slice(&v.to_le_bytes());
        f
    }

    #[test]
    fn accepts_a_tiny_program() {
        let e = parse(tiny_elf(&[0xcc])).unwrap();
        assert_eq!(e.e_entry, 0x0804_8054);
        assert_eq!(e.phdr_vaddr(), Some(0x0804_8034));
        assert_eq!(e.span(), (0x0804_8000, 0x0804_8055));
    }

    #[test]
    fn rejects_wrong_files() {
        assert_eq!(parse(b"#!/bin/sh\n".to_vec()), Err(ElfError::NotElf));
        assert_eq!(parse(Vec::new()), Err(ElfError::NotElf));
        let mut f = tiny_elf(&[0xcc]);
        f[4] = 2;
        assert_eq!(parse(f), Err(ElfError::Class64));
        let mut f = tiny_elf(&[0xcc]);
        f[18] = 62;
        assert_eq!(parse(f), Err(ElfError::WrongMachine("x86-64")));
        let f = tiny_elf(&[0xcc]);
        assert_eq!(
            parse(f[..30].to_vec()),
            Err(ElfError::Truncated("the ELF header"))
        );
        assert_eq!(
            parse(f[..60].to_vec()),
            Err(ElfError::Truncated("the program header table"))
        );
    }

    #[test]
    fn rejects_hostile_headers() {
        let f = tiny_elf(&[0xcc]);
        // e_phnum = 65535 with the table beyond the file.
        let mut g = f.clone();
        g[44..46].copy_from_slice(&0xffffu16.to_le_bytes());
        assert!(matches!(parse(g), Err(ElfError::BadPhdrs(_))));
        // filesz > memsz.
        let g = patch32(f.clone(), 68, 0x1000_0000);
        assert!(matches!(parse(g), Err(ElfError::BadSegment { .. })));
        // Huge memsz past the top of the address space.
        let g = patch32(f.clone(), 72, 0xffff_0000);
        assert!(matches!(parse(g), Err(ElfError::BadSegment { .. })));
        // Offset beyond the file.
        let g = patch32(f.clone(), 56, 0x7fff_f000);
        assert!(matches!(parse(g), Err(ElfError::BadSegment { .. })));
        // Zero entry.
        let g = patch32(f.clone(), 24, 0);
        assert_eq!(parse(g), Err(ElfError::ZeroEntry));
        // Entry outside the segment.
        let g = patch32(f.clone(), 24, 0x1234);
        assert_eq!(parse(g), Err(ElfError::EntryOutside(0x1234)));
        // Phentsize wrong.
        let mut g = f;
        g[42] = 40;
        assert!(matches!(parse(g), Err(ElfError::BadPhdrs(_))));
    }

    #[test]
    fn rejects_overlapping_segments() {
        let mut f = tiny_elf(&[0xcc]);
        f[44] = 2;
        // The second header (in the code area) repeats the first.
        let first = f[52..84].to_vec();
        f.truncate(84);
        f.extend_from_slice(&first);
        f = patch32(f, 24, 0x0804_8010);
        f = patch32(f, 68, 116);
        f = patch32(f, 72, 116);
        assert!(matches!(
            parse(f),
            Err(ElfError::BadSegment { index: 1, .. })
        ));
    }
}
