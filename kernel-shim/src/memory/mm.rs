//! A process's address-space layout: where the stack, the program break
//! and mmap regions go, laid out like Linux for an i386 task on an x86-64
//! kernel without address randomization.
//!
//! The page table (`wax_cpu::Machine`) records which pages exist; the
//! mapping list ([`Vma`]) records what mmap made of them (file, offset,
//! shared or private) for /proc/PID/maps, MAP_SHARED write-back and
//! SIGBUS past the end of a file. The images and the stack the loader
//! maps are in the page table only. Free ranges are found by scanning
//! both top-down from [`MMAP_TOP`], the way Linux's top-down mmap
//! allocator places regions below the stack gap.

use crate::memory::elf::TASK_SIZE;
use wax_cpu::{AddressSpace, GuestAddr, Machine, Prot, PAGE_SIZE};

/// The stack ends just below the top of the task's address space.
pub const STACK_TOP: u32 = TASK_SIZE;
/// Stack reserved at exec (RLIMIT_STACK's default; pages are lazy).
pub const STACK_SIZE: u32 = 8 << 20;
/// mmap regions are placed top-down below this (TASK_SIZE minus Linux's
/// minimum 128 MiB stack gap).
pub const MMAP_TOP: u32 = TASK_SIZE - (128 << 20);
/// Lowest address mmap hands out (vm.mmap_min_addr).
pub const MMAP_MIN: u32 = 0x1_0000;
/// Where a position-independent executable is loaded (ELF_ET_DYN_BASE for
/// 32-bit tasks: TASK_UNMAPPED_BASE + 16 MiB).
pub const PIE_BASE: u32 = 0x5655_5000;

/// Rounds up to a page boundary (saturating at 4 GiB - 4 KiB... as u64).
pub fn page_up(v: u64) -> u64 {
    (v + u64::from(PAGE_SIZE) - 1) & !u64::from(PAGE_SIZE - 1)
}

/// The per-process layout state that is not in the page table.
#[derive(Clone, Default)]
pub struct Mm {
    /// First address of the heap (end of the program's data, page aligned).
    pub brk_start: u32,
    /// The current break as the program set it.
    pub brk: u32,
    /// The mappings made by mmap, sorted and disjoint.
    pub vmas: Vec<Vma>,
}

/// Whether no page of `start..start+len` is mapped.
pub fn range_free(machine: &mut Machine, space: &AddressSpace, start: u32, len: u32) -> bool {
    let end = u64::from(start) + u64::from(len);
    if end > u64::from(TASK_SIZE) {
        return false;
    }
    (start..end as u32)
        .step_by(PAGE_SIZE as usize)
        .all(|a| machine.prot_at(space, GuestAddr(a)).is_none())
}

/// A free, page-aligned range of `len` bytes: `hint` if it is free,
/// otherwise the highest free range below [`MMAP_TOP`].
pub fn find_free(machine: &mut Machine, space: &AddressSpace, len: u32, hint: u32) -> Option<u32> {
    let len = page_up(u64::from(len));
    if len == 0 || len > u64::from(MMAP_TOP - MMAP_MIN) {
        return None;
    }
    let len = len as u32;
    if hint >= MMAP_MIN && hint.is_multiple_of(PAGE_SIZE) && range_free(machine, space, hint, len) {
        return Some(hint);
    }
    let mut end = MMAP_TOP;
    let mut run = 0u32;
    while end - run > MMAP_MIN {
        let page = end - run - PAGE_SIZE;
        if machine.prot_at(space, GuestAddr(page)).is_some() {
            end = page;
            run = 0;
            continue;
        }
        run += PAGE_SIZE;
        if run == len {
            return Some(end - len);
        }
    }
    None
}

/// Maps anonymous zeroed memory.
pub fn map_anon(machine: &mut Machine, space: &mut AddressSpace, start: u32, len: u32, prot: Prot) {
    machine.map(space, GuestAddr(start), len, prot, false);
}

/// The file behind a file mapping.
#[derive(Clone)]
pub struct MapFile {
    pub file: crate::vfs::file::FileRef,
    /// What /proc/PID/maps shows.
    pub path: Vec<u8>,
    pub dev: u64,
    pub ino: u64,
    /// The file's size when mapped: whole pages past it raise SIGBUS.
    pub size: u64,
}

/// One mapping made by mmap (a `vm_area_struct`): the page table says
/// which pages exist, this says what they are.
#[derive(Clone)]
pub struct Vma {
    pub start: u32,
    pub end: u32,
    /// PROT_* bits.
    pub prot: u32,
    /// MAP_SHARED: writes reach the file (and survive fork shared).
    pub shared: bool,
    pub file: Option<MapFile>,
    /// File offset of `start`.
    pub offset: u64,
    /// Identifies a shared anonymous mapping across fork (futex keys).
    pub share_id: u64,
    /// MADV_DONTFORK: a forked child does not get this mapping.
    pub dontfork: bool,
    /// For a private file mapping that has never been writable: the
    /// file's attributes when its pages were copied in, which they still
    /// hold (a MAP_FIXED mapping of the same file bytes over them takes
    /// the pages as they are instead of reading the file again).
    /// With `Vfs::content_writes` then: no file was written since.
    pub pristine: Option<(crate::vfs::Attr, u64)>,
}

impl Vma {
    /// Splits at `at` (inside the mapping): `self` keeps the low part.
    fn split_off(&mut self, at: u32) -> Vma {
        let mut high = self.clone();
        high.start = at;
        high.offset = self.offset + u64::from(at - self.start);
        self.end = at;
        high
    }

    /// The file offset of `addr`.
    pub fn offset_of(&self, addr: u32) -> u64 {
        self.offset + u64::from(addr - self.start)
    }

    /// What identifies the memory at `addr` across processes, for a
    /// shared mapping: (file device, inode or 0 and the mapping's id,
    /// offset), as Linux keys shared futexes by inode and offset.
    pub fn shared_key(&self, addr: u32) -> Option<(u64, u64, u64)> {
        if !self.shared {
            return None;
        }
        let off = self.offset_of(addr);
        Some(match &self.file {
            Some(f) => (f.dev, f.ino, off),
            None => (u64::MAX, self.share_id, off),
        })
    }

    /// Whether `next` starts where `self` ends and Linux would keep the
    /// two as one mapping: same protection and sharing, and the same
    /// file at the next offset or both anonymous (shared anonymous
    /// memory only with itself).
    fn merges_with(&self, next: &Vma) -> bool {
        let same_backing = match (&self.file, &next.file) {
            (None, None) => !self.shared || self.share_id == next.share_id,
            (Some(a), Some(b)) => {
                std::rc::Rc::ptr_eq(&a.file, &b.file)
                    && next.offset == self.offset + u64::from(self.end - self.start)
            }
            _ => false,
        };
        self.end == next.start
            && self.prot == next.prot
            && self.shared == next.shared
            && self.dontfork == next.dontfork
            && same_backing
    }

    /// Whether `addr` is in a whole page past the end of the file.
    pub fn past_eof(&self, addr: u32) -> bool {
        let page = addr & !(PAGE_SIZE - 1);
        self.file
            .as_ref()
            .is_some_and(|f| self.offset_of(page) >= page_up(f.size))
    }
}

impl Mm {
    /// The mapping holding `addr`.
    pub fn find(&self, addr: u32) -> Option<&Vma> {
        self.vmas.iter().find(|v| v.start <= addr && addr < v.end)
    }

    /// Whether any mapping overlaps `start..end`.
    pub fn overlaps(&self, start: u32, end: u64) -> bool {
        self.vmas
            .iter()
            .any(|v| u64::from(v.start) < end && start < v.end)
    }

    /// Removes `start..end` from the list; returns the removed pieces.
    pub fn remove(&mut self, start: u32, end: u32) -> Vec<Vma> {
        let mut keep = Vec::with_capacity(self.vmas.len() + 1);
        let mut gone = Vec::new();
        for mut v in std::mem::take(&mut self.vmas) {
            if v.end <= start || v.start >= end {
                keep.push(v);
                continue;
            }
            if v.start < start {
                let rest = v.split_off(start);
                keep.push(v);
                v = rest;
            }
            if v.end > end {
                let rest = v.split_off(end);
                keep.push(rest);
            }
            gone.push(v);
        }
        keep.sort_by_key(|v| v.start);
        self.vmas = keep;
        gone
    }

    /// Adds a mapping, replacing whatever overlapped it.
    pub fn insert(&mut self, v: Vma) -> Vec<Vma> {
        let gone = self.remove(v.start, v.end);
        let at = self.vmas.partition_point(|x| x.start < v.start);
        self.vmas.insert(at, v);
        gone
    }

    /// Sets the protection of the mapped parts of `start..end`.
    pub fn protect(&mut self, start: u32, end: u32, prot: u32) {
        for mut v in self.remove(start, end) {
            v.prot = prot;
            if prot & crate::abi::mman::PROT_WRITE != 0 {
                v.pristine = None;
            }
            self.insert(v);
        }
    }

    /// MADV_DONTFORK / MADV_DOFORK on the mapped parts of `start..end`.
    pub fn set_dontfork(&mut self, start: u32, end: u32, on: bool) {
        for mut v in self.remove(start, end) {
            v.dontfork = on;
            self.insert(v);
        }
    }

    /// The end of the mapping that holds `addr` as Linux sees it: the
    /// records that continue one another without a gap and that Linux
    /// would have merged into one `vm_area_struct` (wax keeps the pieces
    /// mmap and mprotect leave), for mremap's "inside one mapping" rule.
    pub fn extent_end(&self, addr: u32) -> Option<u32> {
        let first = self
            .vmas
            .iter()
            .position(|v| v.start <= addr && addr < v.end)?;
        let mut end = self.vmas[first].end;
        for pair in self.vmas[first..].windows(2) {
            if !pair[0].merges_with(&pair[1]) {
                break;
            }
            end = pair[1].end;
        }
        Some(end)
    }

    /// Bytes of all mappings (VmSize, without the images and stack the
    /// loader mapped).
    #[cfg(test)]
    pub fn mapped_bytes(&self) -> u64 {
        self.vmas.iter().map(|v| u64::from(v.end - v.start)).sum()
    }
}

/// Whether `start..start+len` is free in both the page table and the
/// mapping list (pages past a file's end are in the list only).
pub fn range_free_in(
    machine: &mut Machine,
    space: &AddressSpace,
    mm: &Mm,
    start: u32,
    len: u32,
) -> bool {
    let end = u64::from(start) + u64::from(len);
    range_free(machine, space, start, len) && !mm.overlaps(start, end)
}

/// [`find_free`] that also avoids the mapping list.
pub fn find_free_in(
    machine: &mut Machine,
    space: &AddressSpace,
    mm: &Mm,
    len: u32,
    hint: u32,
) -> Option<u32> {
    let len = page_up(u64::from(len));
    if len == 0 || len > u64::from(MMAP_TOP - MMAP_MIN) {
        return None;
    }
    let len = len as u32;
    if hint >= MMAP_MIN
        && hint.is_multiple_of(PAGE_SIZE)
        && range_free_in(machine, space, mm, hint, len)
    {
        return Some(hint);
    }
    let mut end = MMAP_TOP;
    let mut run = 0u32;
    while end - run > MMAP_MIN {
        let page = end - run - PAGE_SIZE;
        let used = machine.prot_at(space, GuestAddr(page)).is_some() || mm.find(page).is_some();
        if used {
            end = page;
            run = 0;
            continue;
        }
        run += PAGE_SIZE;
        if run == len {
            return Some(end - len);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn anon(start: u32, end: u32) -> Vma {
        Vma {
            start,
            end,
            prot: 3,
            shared: false,
            file: None,
            offset: 0,
            share_id: 0,
            dontfork: false,
            pristine: None,
        }
    }

    /// Ends are computed in u64: a range reaching 4 GiB neither wraps
    /// to a small end nor counts as free.
    #[test]
    fn ranges_near_4_gib() {
        assert_eq!(page_up(u64::from(u32::MAX)), 1 << 32);
        let mut m = Machine::new(16 << 20);
        let s = m.new_space().unwrap();
        assert!(range_free(&mut m, &s, TASK_SIZE - 0x2000, 0x2000));
        assert!(!range_free(&mut m, &s, TASK_SIZE - 0x1000, 0x2000));
        assert!(!range_free(&mut m, &s, 0xffff_f000, 0x1000));
        assert!(!range_free(&mut m, &s, 0x1000, u32::MAX));
        assert_eq!(find_free(&mut m, &s, u32::MAX, 0), None);
        assert_eq!(find_free(&mut m, &s, 0xffff_f001, 0), None);
        let most = MMAP_TOP - MMAP_MIN;
        assert_eq!(find_free(&mut m, &s, most + 1, 0), None);
        assert_eq!(find_free(&mut m, &s, most, 0), Some(MMAP_MIN));
        // A hint whose range would pass TASK_SIZE is not taken.
        let top = find_free(&mut m, &s, 0x2000, TASK_SIZE - 0x1000);
        assert_eq!(top, Some(MMAP_TOP - 0x2000));
        let mm = Mm::default();
        assert_eq!(find_free_in(&mut m, &s, &mm, u32::MAX, 0x1_0000), None);
        assert!(!range_free_in(&mut m, &s, &mm, 0xffff_f000, 0x1000));
        assert!(!mm.overlaps(0xffff_f000, 1 << 32));
    }

    #[test]
    fn remove_splits_and_protect_keeps_order() {
        let mut mm = Mm::default();
        let mut v = anon(0x1000, 0x5000);
        v.offset = 0x10000;
        mm.insert(v);
        mm.insert(anon(0x8000, 0x9000));
        let gone = mm.remove(0x2000, 0x3000);
        assert_eq!(gone.len(), 1);
        assert_eq!((gone[0].start, gone[0].offset), (0x2000, 0x11000));
        let spans: Vec<(u32, u32)> = mm.vmas.iter().map(|v| (v.start, v.end)).collect();
        assert_eq!(
            spans,
            [(0x1000, 0x2000), (0x3000, 0x5000), (0x8000, 0x9000)]
        );
        assert_eq!(mm.vmas[1].offset, 0x12000);
        mm.protect(0x4000, 0x9000, 1);
        let p: Vec<(u32, u32)> = mm.vmas.iter().map(|v| (v.start, v.prot)).collect();
        assert_eq!(p, [(0x1000, 3), (0x3000, 3), (0x4000, 1), (0x8000, 1)]);
        assert_eq!(mm.mapped_bytes(), 0x4000);
        assert!(mm.overlaps(0x4fff, 0x6000));
        assert!(!mm.overlaps(0x5000, 0x8000));
    }

    #[test]
    fn extent_joins_what_linux_would_merge() {
        let mut mm = Mm::default();
        mm.insert(anon(0x1000, 0x3000));
        mm.insert(anon(0x3000, 0x4000));
        mm.insert(anon(0x5000, 0x6000));
        assert_eq!(mm.extent_end(0x2000), Some(0x4000));
        assert_eq!(mm.extent_end(0x5000), Some(0x6000));
        assert_eq!(mm.extent_end(0x4000), None);
        mm.protect(0x3000, 0x4000, 1);
        assert_eq!(mm.extent_end(0x1000), Some(0x3000));
        let mut shared = anon(0x6000, 0x7000);
        shared.shared = true;
        mm.insert(shared);
        assert_eq!(mm.extent_end(0x5000), Some(0x6000));
    }
}
