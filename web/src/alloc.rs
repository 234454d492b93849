//! The wasm32 global allocator: the standard one, except that large zeroed
//! allocations (the guest's machine memory) come straight from
//! `memory.grow`.
//!
//! Why: the standard allocator's `alloc_zeroed` cannot know that memory
//! fresh from `memory.grow` is already zero, so it clears it: for 1 GiB of
//! machine memory that is most of a second at boot, and it commits every
//! page. Pages from `memory.grow` are zero by the wasm spec, and the engine
//! commits them only when touched.
//!
//! Cost: wasm memory never shrinks, so such a block is not reused after it
//! is freed (it is only freed when the machine is dropped, once per page
//! load). Blocks below [`FRESH_MIN`] take the standard path.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Zeroed allocations at least this large get fresh pages.
const FRESH_MIN: usize = 64 << 20;
const WASM_PAGE: usize = 65536;
/// Fresh blocks handed out and not freed (their start addresses).
const SLOTS: usize = 8;
static FRESH: [AtomicUsize; SLOTS] = [const { AtomicUsize::new(0) }; SLOTS];

pub struct WebAlloc;

/// Marks a slot as being filled; the slot's index, or None if all are
/// taken (then the standard path is used, so every fresh block is known).
fn reserve_slot() -> Option<usize> {
    FRESH.iter().position(|s| {
        s.compare_exchange(0, 1, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    })
}

fn forget(ptr: usize) -> bool {
    FRESH.iter().any(|s| {
        s.compare_exchange(ptr, 0, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    })
}

/// Fresh zero pages for `layout`, or None to use the standard path.
fn fresh_pages(layout: Layout) -> Option<*mut u8> {
    if layout.size() < FRESH_MIN || layout.align() > WASM_PAGE {
        return None;
    }
    let slot = reserve_slot()?;
    let pages = layout.size().div_ceil(WASM_PAGE);
    let first = core::arch::wasm32::memory_grow(0, pages);
    if first == usize::MAX {
        FRESH[slot].store(0, Ordering::Relaxed);
        return None;
    }
    let ptr = first * WASM_PAGE;
    FRESH[slot].store(ptr, Ordering::Relaxed);
    Some(ptr as *mut u8)
}

// SAFETY: every method either forwards to `System` with the same layout,
// or returns pages that `memory.grow` just added: zeroed, page-aligned
// (enough for any layout we accept) and owned by nobody else.
unsafe impl GlobalAlloc for WebAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is passed on unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if let Some(p) = fresh_pages(layout) {
            return p;
        }
        // SAFETY: the caller's contract is passed on unchanged.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if forget(ptr as usize) {
            return;
        }
        // SAFETY: not a fresh block, so `System` allocated it with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
}
