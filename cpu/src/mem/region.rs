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

/// Owned, zero-initialised, fixed-size machine memory.
pub struct Region {
    base: NonNull<u8>,
    len: usize,
    /// The allocation `base` lies in (see [`Region::new`]); None for
    /// memory owned by someone else (see [`Region::from_external`]).
    alloc: Option<NonNull<u8>>,
    /// Keeps external memory alive as long as the region.
    _owner: Option<Box<dyn std::any::Any + Send>>,
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
    /// If `len` is zero, over 4 GiB, or the host refuses the allocation.
    pub fn new(len: usize) -> Region {
        assert!(
            len > 0 && len <= 1 << 32,
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
        Region {
            base,
            len,
            alloc: Some(alloc),
            _owner: None,
        }
    }

    /// A region over memory that another owner allocated: a wasm engine's
    /// linear memory, so translated code and the interpreter see the same
    /// bytes without copies. `owner` is dropped with the region.
    ///
    /// # Safety
    /// `base` must be valid for reads and writes of `len` bytes, aligned to
    /// 4096, zero-initialised, and stay at that address while `owner`
    /// lives. Nothing else may access the bytes while Rust code holds a
    /// borrow of this region; in particular generated code may only run
    /// while no `RegionView` or slot reference is live.
    ///
    /// # Panics
    /// If `len` is zero or over 4 GiB, or `base` is misaligned.
    pub unsafe fn from_external(
        base: NonNull<u8>,
        len: usize,
        owner: Box<dyn std::any::Any + Send>,
    ) -> Region {
        assert!(
            len > 0 && len as u64 <= 1 << 32,
            "machine memory size out of range"
        );
        assert!(
            (base.as_ptr() as usize).is_multiple_of(REGION_ALIGN),
            "external machine memory misaligned"
        );
        Region {
            base,
            len,
            alloc: None,
            _owner: Some(owner),
        }
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
        let start = addr.0 as usize;
        assert!(
            start + n <= self.len,
            "machine memory access out of range: {start:#x}+{n}"
        );
        start
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

impl Drop for Region {
    fn drop(&mut self) {
        if let Some(alloc) = self.alloc {
            // SAFETY: allocated in `new` with exactly this layout.
            unsafe { dealloc(alloc.as_ptr(), host_layout(self.len)) }
        }
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
        let start = addr.0 as usize;
        assert!(
            start + n <= self.len && (start + n <= self.hole_start || start >= self.hole_end),
            "machine memory view access out of range: {start:#x}+{n}"
        );
        start
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
