//! The machine memory region: the one block of bytes that holds the CPU
//! state slot, page tables and guest frames.
//!
//! This module owns every raw pointer into machine memory. Everything else
//! reaches the bytes through the bounds-checked accessors below. The base
//! never moves for the lifetime of the region, so a JIT may later hand it to
//! generated code as its linear memory.

use crate::addr::MachAddr;
use std::alloc::{alloc_zeroed, dealloc, Layout};
use std::ptr::NonNull;

/// Alignment of the region: a page, so frames are page aligned in host
/// memory as well.
const REGION_ALIGN: usize = 4096;

/// The largest region: 4 GiB (machine addresses are u32), or less where
/// the host cannot allocate that much in one block. A Rust allocation is
/// at most `isize::MAX` bytes, and [`host_layout`] adds a page, so on a
/// 32-bit host (wasm32) the limit is 2 GiB minus a page. Page aligned.
pub const MAX_LEN: u64 = {
    let host = isize::MAX as u64 + 1 - REGION_ALIGN as u64;
    if host < 1 << 32 {
        host
    } else {
        1 << 32
    }
};

// Machine addresses are u32, regions are whole pages, and the length must
// fit the host's usize (checked when the crate is built for each target).
const _: () = assert!(
    MAX_LEN <= 1 << 32
        && MAX_LEN.is_multiple_of(REGION_ALIGN as u64)
        && MAX_LEN <= usize::MAX as u64
);

/// The start of `start..start+n` as an index, if that range lies inside
/// `0..len`. Checked arithmetic: on a 32-bit host `start + n` can wrap
/// past `usize::MAX` and would otherwise pass as a small end.
#[inline(always)]
fn in_bounds(start: u32, n: usize, len: usize) -> Option<usize> {
    let start = usize::try_from(start).ok()?;
    let end = start.checked_add(n)?;
    (end <= len).then_some(start)
}

/// Owned, zero-initialised, fixed-size machine memory.
pub struct Region {
    base: NonNull<u8>,
    len: usize,
    /// The allocation `base` lies in (see [`Region::new`]).
    alloc: NonNull<u8>,
}

/// The host allocation behind a region of `len` bytes: a page more, at an
/// alignment of 16. std's `alloc_zeroed` is `calloc` (fresh, lazily
/// committed zero pages) only up to that alignment; above it, it memsets
/// the whole block, which would commit all of machine memory at start.
fn host_layout(len: usize) -> Layout {
    let size = len.checked_add(REGION_ALIGN).expect("region size");
    Layout::from_size_align(size, 16).expect("region layout")
}

// SAFETY: the region is plain owned memory; moving it between host threads
// is like moving a Vec<u8>. Shared access is read-only through &self.
unsafe impl Send for Region {}

impl Region {
    /// Allocates `len` bytes of zeroed memory. Large allocations are served
    /// by the host allocator with lazily committed zero pages, so an
    /// untouched frame costs no host memory.
    ///
    /// # Panics
    /// If `len` is zero, over [`MAX_LEN`], or the host refuses the
    /// allocation.
    pub fn new(len: usize) -> Region {
        assert!(
            len > 0 && len as u64 <= MAX_LEN,
            "machine memory size out of range"
        );
        // SAFETY: the layout has non-zero size.
        let ptr = unsafe { alloc_zeroed(host_layout(len)) };
        let alloc = NonNull::new(ptr).expect("host out of memory for machine memory");
        let offset = ptr.align_offset(REGION_ALIGN);
        assert!(offset < REGION_ALIGN, "cannot align machine memory");
        // SAFETY: offset < REGION_ALIGN, so base..base + len lies inside the
        // allocation of len + REGION_ALIGN bytes.
        let base = unsafe { NonNull::new_unchecked(ptr.add(offset)) };
        Region { base, len, alloc }
    }

    /// Size in bytes.
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Always false: a region has at least one byte.
    #[inline]
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Host pointer to the first byte, for a JIT engine that maps the region
    /// as its memory. Never dereferenced outside this module.
    pub fn base_ptr(&self) -> *mut u8 {
        self.base.as_ptr()
    }

    #[inline(always)]
    fn check(&self, addr: MachAddr, n: usize) -> usize {
        match in_bounds(addr.0, n, self.len) {
            Some(start) => start,
            None => out_of_range(addr, n),
        }
    }

    /// Mutable access to the whole region.
    pub fn view(&mut self) -> RegionView<'_> {
        RegionView {
            base: self.base,
            len: self.len,
            hole_start: 0,
            hole_end: 0,
            _region: std::marker::PhantomData,
        }
    }

    /// Borrows a `#[repr(C)]` plain-data value stored at `addr` mutably,
    /// together with the rest of the region for memory accesses.
    ///
    /// The returned [`RegionView`] refuses any access that overlaps the
    /// borrowed value, so the two never alias.
    pub fn split_at_slot<T: Slot>(&mut self, addr: MachAddr) -> (&mut T, RegionView<'_>) {
        let size = std::mem::size_of::<T>();
        let start = self.check(addr, size);
        assert!(
            start.is_multiple_of(std::mem::align_of::<T>()),
            "slot misaligned in machine memory"
        );
        // SAFETY: the value lies in bounds and is aligned (checked); `Slot`
        // types are plain data valid for any bit pattern and the slot is
        // initialised (region memory is zeroed and only written as bytes);
        // the view below excludes the slot's bytes, so no other path to them
        // exists while the reference lives.
        let slot = unsafe { &mut *self.base.as_ptr().add(start).cast::<T>() };
        let view = RegionView {
            base: self.base,
            len: self.len,
            hole_start: start,
            hole_end: start + size,
            _region: std::marker::PhantomData,
        };
        (slot, view)
    }
}

/// Every access goes through a bounds check; failing one is a bug in Wax
/// (guest addresses are translated to frames that lie in the region), so
/// it stops the host rather than touch memory outside the region.
#[cold]
#[inline(never)]
fn out_of_range(addr: MachAddr, n: usize) -> ! {
    panic!("machine memory access out of range: {:#x}+{n}", addr.0)
}

impl Drop for Region {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with exactly this layout.
        unsafe { dealloc(self.alloc.as_ptr(), host_layout(self.len)) }
    }
}

/// Types that may live in a machine-memory slot: `#[repr(C)]` plain data for
/// which every bit pattern (in particular all zeroes) is a valid value.
///
/// # Safety
/// Implementors must be `#[repr(C)]`, contain no pointers, references,
/// enums with invalid bit patterns, bools or padding-sensitive invariants.
pub unsafe trait Slot: Sized {}

/// Mutable access to a region minus one borrowed slot (see
/// [`Region::split_at_slot`]).
pub struct RegionView<'a> {
    base: NonNull<u8>,
    len: usize,
    hole_start: usize,
    hole_end: usize,
    _region: std::marker::PhantomData<&'a mut Region>,
}

impl RegionView<'_> {
    #[inline(always)]
    fn check(&self, addr: MachAddr, n: usize) -> usize {
        match in_bounds(addr.0, n, self.len) {
            // in_bounds proved start + n does not overflow.
            Some(start) if start + n <= self.hole_start || start >= self.hole_end => start,
            _ => out_of_range(addr, n),
        }
    }

    /// Reads `N` bytes at `addr`.
    #[inline(always)]
    pub fn read<const N: usize>(&self, addr: MachAddr) -> [u8; N] {
        let start = self.check(addr, N);
        // SAFETY: in bounds and outside the borrowed slot (checked).
        unsafe {
            self.base
                .as_ptr()
                .add(start)
                .cast::<[u8; N]>()
                .read_unaligned()
        }
    }

    /// Writes `N` bytes at `addr`.
    #[inline(always)]
    pub fn write<const N: usize>(&mut self, addr: MachAddr, bytes: [u8; N]) {
        let start = self.check(addr, N);
        // SAFETY: in bounds and outside the borrowed slot (checked); the view
        // is the only path to these bytes while it lives (it borrows the
        // region mutably).
        unsafe {
            self.base
                .as_ptr()
                .add(start)
                .cast::<[u8; N]>()
                .write_unaligned(bytes)
        }
    }

    /// Little-endian u32 at `addr`.
    #[inline(always)]
    pub fn read_u32(&self, addr: MachAddr) -> u32 {
        u32::from_le_bytes(self.read::<4>(addr))
    }

    /// Stores a little-endian u32 at `addr`.
    #[inline(always)]
    pub fn write_u32(&mut self, addr: MachAddr, v: u32) {
        self.write::<4>(addr, v.to_le_bytes());
    }

    /// The bytes `addr..addr+len`.
    pub fn slice(&self, addr: MachAddr, len: usize) -> &[u8] {
        let start = self.check(addr, len);
        // SAFETY: in bounds and outside the slot; borrowed from &self.
        unsafe { std::slice::from_raw_parts(self.base.as_ptr().add(start), len) }
    }

    /// The bytes `addr..addr+len`, writable.
    pub fn slice_mut(&mut self, addr: MachAddr, len: usize) -> &mut [u8] {
        let start = self.check(addr, len);
        // SAFETY: in bounds and outside the slot; &mut self makes it unique.
        unsafe { std::slice::from_raw_parts_mut(self.base.as_ptr().add(start), len) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_check_never_wraps() {
        let len = 0x1_0000;
        assert_eq!(in_bounds(0xfffc, 4, len), Some(0xfffc));
        assert_eq!(in_bounds(0xfffd, 4, len), None);
        assert_eq!(in_bounds(0x1_0000, 0, len), Some(0x1_0000));
        // A 32-bit host wraps 0xffff_fffe + 4 to 2 with plain addition.
        assert_eq!(in_bounds(0xffff_fffe, 4, len), None);
        assert_eq!(in_bounds(u32::MAX, 1, u32::MAX as usize), None);
        assert_eq!(in_bounds(1, usize::MAX, usize::MAX), None);
        assert_eq!(in_bounds(0, usize::MAX, usize::MAX), Some(0));
    }

    #[test]
    fn largest_region_fits_the_host() {
        let len = usize::try_from(MAX_LEN).expect("MAX_LEN fits usize");
        assert_eq!(host_layout(len).size(), len + REGION_ALIGN);
        if usize::BITS == 32 {
            assert_eq!(MAX_LEN, (1 << 31) - REGION_ALIGN as u64);
        } else {
            assert_eq!(MAX_LEN, 1 << 32);
        }
    }

    #[repr(C)]
    struct Words([u32; 4]);

    // SAFETY: repr(C) plain u32s, valid for any bit pattern.
    unsafe impl Slot for Words {}

    #[test]
    fn view_reaches_up_to_the_slot_and_the_end() {
        let mut r = Region::new(0x2000);
        let (slot, mut view) = r.split_at_slot::<Words>(MachAddr(0x100));
        slot.0[0] = 5;
        view.write_u32(MachAddr(0xfc), 1);
        view.write_u32(MachAddr(0x110), 2);
        view.write_u32(MachAddr(0x1ffc), 3);
        assert_eq!(view.read_u32(MachAddr(0xfc)), 1);
        assert_eq!(view.read_u32(MachAddr(0x110)), 2);
        assert_eq!(view.slice(MachAddr(0x1ffc), 4), 3u32.to_le_bytes());
        assert_eq!(r.view().read_u32(MachAddr(0x100)), 5);
    }
}
