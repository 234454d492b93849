//! A process's address-space layout: where the stack, the program break
//! and mmap regions go, laid out like Linux for an i386 task on an x86-64
//! kernel without address randomization.
//!
//! The page table (`wax_cpu::Machine`) is the one record of what is mapped;
//! free ranges are found by scanning it top-down from [`MMAP_TOP`], the way
//! Linux's top-down mmap allocator places regions below the stack gap.

use crate::elf::TASK_SIZE;
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
#[derive(Clone, Debug, Default)]
pub struct Mm {
    /// First address of the heap (end of the program's data, page aligned).
    pub brk_start: u32,
    /// The current break as the program set it.
    pub brk: u32,
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
