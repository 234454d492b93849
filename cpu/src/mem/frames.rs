//! Frame allocator over machine memory, with reference counts so that
//! `fork` can share frames copy-on-write.
//!
//! Layout of the region: the first [`RESERVED_BYTES`] hold the CPU state
//! slot (frame 0 is never handed out, so a zero page-table entry can mean
//! "no frame"). Guest frames are taken from the bottom up; page tables,
//! 4 MiB each, from the top down.

use crate::addr::{MachAddr, PAGE_SHIFT, PAGE_SIZE};

/// Bytes at the start of the region that are not frames.
pub const RESERVED_BYTES: u32 = 128 * 1024;
/// Frames in one page table (2^20 entries of 4 bytes).
pub const TABLE_FRAMES: u32 = 1024;

/// Hands out frames and page tables; tracks frame reference counts.
pub struct FrameAllocator {
    /// Frames below this number have been handed out at least once.
    next_fresh: u32,
    /// Frames at or above this number belong to page tables.
    table_floor: u32,
    /// Frames freed since, contents stale.
    free: Vec<u32>,
    /// Page tables freed since (first frame number), every entry zero.
    free_tables: Vec<u32>,
    refcount: Vec<u32>,
    in_use: u32,
    /// Calls to `retain` so far: while it stays the same, no frame gained
    /// a second reference (a frame with one is mapped at one place only).
    retains: u64,
}

impl FrameAllocator {
    /// An allocator for a region of `total_frames` frames.
    pub fn new(total_frames: u32) -> FrameAllocator {
        FrameAllocator {
            next_fresh: RESERVED_BYTES >> PAGE_SHIFT,
            table_floor: total_frames,
            free: Vec::new(),
            free_tables: Vec::new(),
            refcount: vec![0; total_frames as usize],
            in_use: 0,
            retains: 0,
        }
    }

    /// Takes a frame. Returns it with a reference count of one, and whether
    /// its contents are stale (the caller zeroes or overwrites it).
    pub fn alloc(&mut self) -> Option<(MachAddr, bool)> {
        let (frame, stale) = if let Some(f) = self.free.pop() {
            (f, true)
        } else if self.next_fresh < self.table_floor {
            self.next_fresh += 1;
            (self.next_fresh - 1, false)
        } else {
            return None;
        };
        self.refcount[frame as usize] = 1;
        self.in_use += 1;
        Some((MachAddr(frame << PAGE_SHIFT), stale))
    }

    /// Adds a reference to a frame (sharing it copy-on-write).
    pub fn retain(&mut self, frame: MachAddr) {
        self.refcount[(frame.0 >> PAGE_SHIFT) as usize] += 1;
        self.retains += 1;
    }

    /// How many references were ever added with [`FrameAllocator::retain`]
    /// (fork, a second mapping of a frame). While it is unchanged, a frame
    /// with a reference count of one stays mapped at its one place only.
    pub fn retains(&self) -> u64 {
        self.retains
    }

    /// Drops a reference; the frame is freed when none remain.
    pub fn release(&mut self, frame: MachAddr) {
        let n = (frame.0 >> PAGE_SHIFT) as usize;
        debug_assert!(self.refcount[n] > 0, "release of a free frame");
        self.refcount[n] -= 1;
        if self.refcount[n] == 0 {
            self.free.push(n as u32);
            self.in_use -= 1;
        }
    }

    /// Current reference count of a frame.
    pub fn refcount(&self, frame: MachAddr) -> u32 {
        self.refcount[(frame.0 >> PAGE_SHIFT) as usize]
    }

    /// Takes a 4 MiB page table. Its entries are zero: a fresh one is
    /// untouched machine memory, and a table is given back (`free_table`)
    /// only with every entry zero.
    pub fn alloc_table(&mut self) -> Option<MachAddr> {
        if let Some(f) = self.free_tables.pop() {
            return Some(MachAddr(f << PAGE_SHIFT));
        }
        let floor = self.table_floor.checked_sub(TABLE_FRAMES)?;
        if floor < self.next_fresh {
            return None;
        }
        self.table_floor = floor;
        Some(MachAddr(floor << PAGE_SHIFT))
    }

    /// Returns a page table, every entry zero, to the pool.
    pub fn free_table(&mut self, table: MachAddr) {
        self.free_tables.push(table.0 >> PAGE_SHIFT);
    }

    /// Frames currently holding guest data.
    pub fn frames_in_use(&self) -> u32 {
        self.in_use
    }

    /// Bytes of guest data currently allocated.
    pub fn bytes_in_use(&self) -> u64 {
        u64::from(self.in_use) * u64::from(PAGE_SIZE)
    }
}
