//! Just enough ELF32 to find a program's `.text` section, for the
//! decoding bench (the kernel has the real loader).

/// The address and bytes of the `.text` section of an ELF32 file.
pub fn text_section(file: &[u8]) -> Option<(u32, &[u8])> {
    if file.get(..5)? != b"\x7fELF\x01" {
        return None;
    }
    let u16_at = |o: usize| Some(u16::from_le_bytes(file.get(o..o + 2)?.try_into().ok()?));
    let u32_at = |o: usize| Some(u32::from_le_bytes(file.get(o..o + 4)?.try_into().ok()?));
    let shoff = u32_at(0x20)? as usize;
    let shentsize = usize::from(u16_at(0x2e)?);
    let shnum = usize::from(u16_at(0x30)?);
    let shstrndx = usize::from(u16_at(0x32)?);
    let header = |i: usize| shoff + i * shentsize;
    let names = u32_at(header(shstrndx) + 0x10)? as usize;
    (0..shnum).find_map(|i| {
        let h = header(i);
        let name = names + u32_at(h)? as usize;
        if file.get(name..name + 6)? != b".text\0" {
            return None;
        }
        let (addr, off, size) = (u32_at(h + 0x0c)?, u32_at(h + 0x10)?, u32_at(h + 0x14)?);
        Some((addr, file.get(off as usize..(off + size) as usize)?))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_an_elf32_file() {
        assert!(text_section(b"\x7fELF\x02rest").is_none());
        assert!(text_section(b"").is_none());
    }
}
