//! exec: loads an i386 ELF program (and its PT_INTERP, ld-linux.so.2) into
//! a fresh address space and builds the initial stack: argc, argv, envp
//! and the auxiliary vector, laid out like Linux's `create_elf_tables`.

use crate::abi::auxv;
use crate::memory::elf::{read_exact, Elf, ElfError, PF_R, PF_W, PF_X, PHENT_SIZE, PT_GNU_STACK};
use crate::memory::mm::{self, page_up, PIE_BASE, STACK_SIZE, STACK_TOP};
use crate::vfs::FileHandle;
use wax_cpu::{AddressSpace, GuestAddr, GuestMem, Machine, Prot, PAGE_SIZE};

/// Most bytes of argument and environment strings (Linux: a quarter of
/// the stack limit).
pub const ARG_MAX: usize = 2 << 20;

/// An image loaded into memory.
#[derive(Clone, Copy, Debug)]
pub struct Image {
    /// Load bias (0 for ET_EXEC).
    pub bias: u32,
    pub entry: u32,
    /// Address of the program headers in memory (0 if not mapped).
    pub phdr: u32,
    pub phnum: u32,
    /// End of the highest segment.
    pub end: u32,
    /// Whether the stack should be executable (no PT_GNU_STACK, or PF_X).
    pub exec_stack: bool,
}

fn prot_of(flags: u32) -> Prot {
    let mut p = 0;
    if flags & PF_R != 0 {
        p |= 1;
    }
    if flags & PF_W != 0 {
        p |= 2;
    }
    if flags & PF_X != 0 {
        p |= 4;
    }
    Prot(p)
}

/// Where a position-independent image of `span` bytes goes.
fn choose_bias(
    machine: &mut Machine,
    space: &AddressSpace,
    elf: &Elf,
    main: bool,
) -> Result<u32, ElfError> {
    if !elf.is_dyn() {
        return Ok(0);
    }
    let (lo, hi) = elf.span();
    let len = hi - lo;
    let hint = if main { PIE_BASE } else { 0 };
    let at = mm::find_free(machine, space, len, hint).ok_or(ElfError::NoMemory)?;
    Ok(at - lo)
}

/// Loads the PT_LOAD segments of `elf` (read from `f`) into `space`.
pub fn load_image(
    machine: &mut Machine,
    space: &mut AddressSpace,
    f: &mut dyn FileHandle,
    elf: &Elf,
    main: bool,
) -> Result<Image, ElfError> {
    let bias = choose_bias(machine, space, elf, main)?;
    let (_, hi) = elf.span();
    if u64::from(hi) + u64::from(bias) > u64::from(STACK_TOP - STACK_SIZE) {
        return Err(ElfError::BadSegment {
            index: 0,
            reason: "segment overlaps the stack",
        });
    }
    // Pages are mapped writable while the file data is copied in, then
    // get their final protection; a page two segments share gets both.
    // The whole pages of a read-only segment's file bytes are read when
    // first touched instead, if the file offers a page reader.
    let source = f.page_source();
    let mut prots: Vec<(u32, u32, Prot)> = Vec::new();
    for p in elf.loads().filter(|p| p.p_memsz > 0) {
        let start = (p.p_vaddr + bias) & !(PAGE_SIZE - 1);
        let end = page_up(u64::from(p.p_vaddr + bias) + u64::from(p.p_memsz)) as u32;
        let (lazy_lo, lazy_hi) = match &source {
            Some(src) => {
                let (lo, hi) = lazy_pages(f, p, bias);
                if lo < hi {
                    let index = u64::from(p.p_offset + (lo - (p.p_vaddr + bias))) / 4096;
                    machine.map_file(space, GuestAddr(lo), hi - lo, Prot::RW, src.clone(), index);
                }
                (lo, hi)
            }
            None => (0, 0),
        };
        for page in (start..end).step_by(PAGE_SIZE as usize) {
            if machine.prot_at(space, GuestAddr(page)).is_none() {
                machine.map(space, GuestAddr(page), PAGE_SIZE, Prot::RW, false);
            }
        }
        let at = p.p_vaddr + bias;
        if lazy_lo < lazy_hi {
            // The bytes before and after the lazy pages.
            let head = lazy_lo - at;
            copy_file(machine, space, f, u64::from(p.p_offset), at, head)?;
            let tail = at + p.p_filesz - lazy_hi;
            let tail_off = u64::from(p.p_offset) + u64::from(lazy_hi - at);
            copy_file(machine, space, f, tail_off, lazy_hi, tail)?;
        } else {
            copy_file(machine, space, f, u64::from(p.p_offset), at, p.p_filesz)?;
        }
        prots.push((start, end, prot_of(p.p_flags)));
    }
    apply_prots(machine, space, &prots);
    let exec_stack = elf
        .phdrs
        .iter()
        .find(|p| p.p_type == PT_GNU_STACK)
        .is_none_or(|p| p.p_flags & PF_X != 0);
    Ok(Image {
        bias,
        entry: elf.e_entry.wrapping_add(bias),
        phdr: elf.phdr_vaddr().map_or(0, |a| a.wrapping_add(bias)),
        phnum: elf.phdrs.len() as u32,
        end: hi + bias,
        exec_stack,
    })
}

fn apply_prots(machine: &mut Machine, space: &mut AddressSpace, prots: &[(u32, u32, Prot)]) {
    for (i, &(start, end, prot)) in prots.iter().enumerate() {
        machine.protect(space, GuestAddr(start), end - start, prot);
        if let Some(&(_, prev_end, prev)) = i.checked_sub(1).map(|j| &prots[j]) {
            if prev_end > start {
                machine.protect(space, GuestAddr(start), PAGE_SIZE, Prot(prot.0 | prev.0));
            }
        }
    }
}

/// The whole pages of segment `p` (loaded at `bias`) that can be read
/// from the file when first touched, as `lo..hi` (empty if none): the
/// segment is not writable, its file offset and address agree modulo the
/// page size, and the pages lie inside its file bytes, which the file
/// holds (its last byte is read here, so a truncated file still fails at
/// exec).
fn lazy_pages(f: &mut dyn FileHandle, p: &crate::memory::elf::Phdr, bias: u32) -> (u32, u32) {
    let at = u64::from(p.p_vaddr) + u64::from(bias);
    let page = u64::from(PAGE_SIZE);
    let aligned = at % page == u64::from(p.p_offset) % page;
    if p.p_flags & PF_W != 0 || !aligned || p.p_filesz == 0 {
        return (0, 0);
    }
    let lo = page_up(at);
    let hi = (at + u64::from(p.p_filesz)) & !u64::from(PAGE_SIZE - 1);
    let last = u64::from(p.p_offset) + u64::from(p.p_filesz) - 1;
    if lo >= hi || read_exact(f, last, &mut [0u8]).is_err() {
        return (0, 0);
    }
    (lo as u32, hi as u32)
}

/// Copies `len` bytes of the file at `off` to guest address `to`.
fn copy_file(
    machine: &mut Machine,
    space: &mut AddressSpace,
    f: &mut dyn FileHandle,
    off: u64,
    to: u32,
    len: u32,
) -> Result<(), ElfError> {
    // Read straight into the frames.
    let mut failed = None;
    machine
        .mem(space)
        .fill_with(GuestAddr(to), len as usize, |chunk, at| {
            let read = read_exact(f, off + at as u64, chunk);
            let ok = read.is_ok();
            failed = read.err();
            ok
        })
        .map_err(|_| ElfError::NoMemory)?;
    failed.map_or(Ok(()), Err)
}

/// What goes into the auxiliary vector besides the image facts.
pub struct StackInfo<'a> {
    pub argv: &'a [Vec<u8>],
    pub envp: &'a [Vec<u8>],
    pub execfn: &'a [u8],
    pub random: [u8; 16],
    pub hwcap: u32,
    /// AT_BASE: the interpreter's load address (0 without one).
    pub interp_base: u32,
    pub uid: u32,
    pub gid: u32,
}

/// Maps the stack and writes the initial process stack; returns ESP.
pub fn build_stack(
    machine: &mut Machine,
    space: &mut AddressSpace,
    image: &Image,
    info: &StackInfo<'_>,
) -> Result<u32, ElfError> {
    let strings: usize = info
        .argv
        .iter()
        .chain(info.envp)
        .map(|s| s.len() + 1)
        .sum::<usize>()
        + info.execfn.len()
        + 1;
    if strings > ARG_MAX {
        return Err(ElfError::NoMemory);
    }
    let prot = if image.exec_stack {
        Prot::RWX
    } else {
        Prot::RW
    };
    machine.map(
        space,
        GuestAddr(STACK_TOP - STACK_SIZE),
        STACK_SIZE,
        prot,
        false,
    );
    let mut mem = machine.mem(space);
    write_stack(&mut mem, image, info, strings as u32).map_err(|_| ElfError::NoMemory)
}

fn write_stack(
    mem: &mut GuestMem<'_>,
    image: &Image,
    info: &StackInfo<'_>,
    strings: u32,
) -> Result<u32, wax_cpu::PageFault> {
    // Strings at the very top, below one NULL word: argv, envp, execfn.
    let mut p = STACK_TOP - 4 - strings;
    let mut put_str = |mem: &mut GuestMem<'_>, s: &[u8]| -> Result<u32, wax_cpu::PageFault> {
        let at = p;
        mem.write_bytes(GuestAddr(at), s)?;
        mem.write_u8(GuestAddr(at + s.len() as u32), 0)?;
        p += s.len() as u32 + 1;
        Ok(at)
    };
    let argv: Vec<u32> = info
        .argv
        .iter()
        .map(|s| put_str(mem, s))
        .collect::<Result<_, _>>()?;
    let envp: Vec<u32> = info
        .envp
        .iter()
        .map(|s| put_str(mem, s))
        .collect::<Result<_, _>>()?;
    let execfn = put_str(mem, info.execfn)?;
    let mut p = (STACK_TOP - 4 - strings) & !15;
    p -= 5;
    mem.write_bytes(GuestAddr(p), b"i686\0")?;
    let platform = p;
    p -= 16;
    mem.write_bytes(GuestAddr(p), &info.random)?;
    let random = p;
    p &= !15;
    let auxv = [
        (auxv::HWCAP, info.hwcap),
        (auxv::PAGESZ, PAGE_SIZE),
        (auxv::CLKTCK, 100),
        (auxv::PHDR, image.phdr),
        (auxv::PHENT, u32::from(PHENT_SIZE)),
        (auxv::PHNUM, image.phnum),
        (auxv::BASE, info.interp_base),
        (auxv::FLAGS, 0),
        (auxv::ENTRY, image.entry),
        (auxv::UID, info.uid),
        (auxv::EUID, info.uid),
        (auxv::GID, info.gid),
        (auxv::EGID, info.gid),
        (auxv::SECURE, 0),
        (auxv::RANDOM, random),
        (auxv::EXECFN, execfn),
        (auxv::PLATFORM, platform),
        (auxv::NULL, 0),
    ];
    let words = 1 + argv.len() + 1 + envp.len() + 1 + auxv.len() * 2;
    let sp = (p - 4 * words as u32) & !15;
    let mut w = sp;
    let mut push = |mem: &mut GuestMem<'_>, v: u32| -> Result<(), wax_cpu::PageFault> {
        mem.write_u32(GuestAddr(w), v)?;
        w += 4;
        Ok(())
    };
    push(mem, argv.len() as u32)?;
    for a in argv.iter().chain([&0]).chain(&envp).chain([&0]) {
        push(mem, *a)?;
    }
    for (k, v) in auxv {
        push(mem, k)?;
        push(mem, v)?;
    }
    Ok(sp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::elf::tests::{tiny_elf, Bytes};

    #[test]
    fn loads_and_builds_a_linux_stack() {
        let mut m = Machine::new(64 << 20);
        let mut s = m.new_space().unwrap();
        let bytes = tiny_elf(&[0xcc]);
        let size = bytes.len() as u64;
        let mut f = Bytes(bytes);
        let elf = Elf::parse(&mut f, size).unwrap();
        let img = load_image(&mut m, &mut s, &mut f, &elf, true).unwrap();
        assert_eq!(m.prot_at(&s, GuestAddr(0x0804_8000)), Some(Prot::RX));
        let argv = [b"prog".to_vec(), b"arg".to_vec()];
        let envp = [b"A=1".to_vec()];
        let info = StackInfo {
            argv: &argv,
            envp: &envp,
            execfn: b"prog",
            random: [7; 16],
            hwcap: 0,
            interp_base: 0,
            uid: 0,
            gid: 0,
        };
        let sp = build_stack(&mut m, &mut s, &img, &info).unwrap();
        assert_eq!(sp % 16, 0);
        let mut g = m.mem(&mut s);
        assert_eq!(g.read_u8(GuestAddr(0x0804_8054)).unwrap(), 0xcc);
        assert_eq!(g.read_u32(GuestAddr(sp)).unwrap(), 2);
        let a1 = g.read_u32(GuestAddr(sp + 8)).unwrap();
        assert_eq!(g.read_cstr(GuestAddr(a1), 10).unwrap().unwrap(), b"arg");
        assert_eq!(g.read_u32(GuestAddr(sp + 12)).unwrap(), 0);
        let e0 = g.read_u32(GuestAddr(sp + 16)).unwrap();
        assert_eq!(g.read_cstr(GuestAddr(e0), 10).unwrap().unwrap(), b"A=1");
        // First auxv pair follows envp's NULL.
        assert_eq!(g.read_u32(GuestAddr(sp + 24)).unwrap(), auxv::HWCAP);
    }

    /// PT_PHDR's address is not checked against anything, so adding the
    /// load bias may pass 4 GiB: it wraps (AT_PHDR is then just wrong for
    /// the program, as on Linux), never overflows in the loader.
    #[test]
    fn phdr_address_plus_bias_wraps() {
        let mut f = tiny_elf(&[0xcc; 32]);
        f[16] = crate::memory::elf::ET_DYN as u8;
        f[44] = 2;
        let mut phdr = [0u8; 32];
        phdr[..4].copy_from_slice(&crate::memory::elf::PT_PHDR.to_le_bytes());
        phdr[8..12].copy_from_slice(&0xffff_f000u32.to_le_bytes());
        f[84..116].copy_from_slice(&phdr);
        let size = f.len() as u64;
        let mut f = Bytes(f);
        let elf = Elf::parse(&mut f, size).unwrap();
        let mut m = Machine::new(16 << 20);
        let mut s = m.new_space().unwrap();
        let img = load_image(&mut m, &mut s, &mut f, &elf, true).unwrap();
        assert_eq!(img.bias, PIE_BASE - 0x0804_8000);
        assert_eq!(img.phdr, 0xffff_f000u32.wrapping_add(img.bias));
    }
}
