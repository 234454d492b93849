//! The memory model: machine memory, frames, per-process page tables and
//! the guest access path.
//!
//! Each address space has a flat table of 2^20 little-endian u32 entries in
//! machine memory, indexed by guest page number. An entry holds the frame's
//! machine address in its high 20 bits and [`pte`] bits in the low 12. The
//! fast path of a guest access (here, and later in generated wasm) is: load
//! the entry, test the effective permission bit, check the access stays in
//! the page, add the offset. Everything else (unmapped, protection, first
//! touch of a lazily allocated page, copy-on-write, a write to a page that
//! holds decoded code, page crossing) goes through the slow path.

mod frames;
mod region;

pub use frames::{FrameAllocator, RESERVED_BYTES, TABLE_FRAMES};
pub use region::{Region, RegionView, Slot, MAX_LEN as MAX_MACHINE_BYTES};

use crate::addr::{GuestAddr, MachAddr, PAGE_MASK, PAGE_SHIFT, PAGE_SIZE};
use crate::state::CpuState;

/// Page-table entry bits.
pub mod pte {
    /// Effective: the page may be read now (fast path).
    pub const R: u32 = 1;
    /// Effective: the page may be written now (fast path).
    pub const W: u32 = 2;
    /// Effective: the page may be executed now.
    pub const X: u32 = 4;
    /// Decoded or translated code lives here; writes take the slow path.
    pub const WATCHED: u32 = 8;
    /// Shift of the protection the mapping asked for (PROT_* bits).
    pub const PROT_SHIFT: u32 = 4;
    /// The mapping's requested protection, PROT_READ/WRITE/EXEC << 4.
    pub const PROT_MASK: u32 = 7 << PROT_SHIFT;
    /// The page is part of a mapping (its frame may not exist yet).
    pub const MAPPED: u32 = 0x80;
    /// The frame is shared copy-on-write with another address space.
    pub const COW: u32 = 0x100;
    /// A shared mapping: `fork` shares the frame writable.
    pub const SHARED: u32 = 0x200;
    /// No frame yet, and the first touch reads the page from a file (see
    /// [`super::PageSource`]) instead of zeroing it.
    pub const FILE: u32 = 0x400;
    /// The frame's machine address.
    pub const FRAME: u32 = !0xfff;
}

/// Where the pages of a private file mapping come from when they are
/// first touched ([`Machine::map_file`]): the kernel maps a file's pages
/// without copying them, and the first access to each, by guest code or
/// by the kernel, reads it.
pub trait PageSource {
    /// Reads the file's pages from `index` on into `pages` (zeroed, a
    /// whole number of pages): bytes past the end of the file stay zero.
    /// False if they cannot be read (the access then faults).
    fn read_pages(&self, index: u64, pages: &mut [u8]) -> bool;
}

/// Pages a first touch of a file page reads at most: it and the following
/// pages of its run that wait too, when their new frames are adjacent
/// (one read for all, as Linux's fault-around maps 64 KiB).
const FAULT_AROUND: u32 = 16;

/// The pages `first..end` of an address space read their bytes from
/// `source`, `first` from the file's page `index`. Later runs take
/// precedence over earlier ones.
#[derive(Clone)]
pub struct FileRun {
    first: u32,
    end: u32,
    index: u64,
    source: std::rc::Rc<dyn PageSource>,
}

impl std::fmt::Debug for FileRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileRun")
            .field("first", &self.first)
            .field("end", &self.end)
            .field("index", &self.index)
            .finish_non_exhaustive()
    }
}

/// The latest run holding `page`, and how many pages from `page` on
/// belong to it (no later run takes them).
fn file_run(runs: &[FileRun], page: u32) -> Option<(&FileRun, u32)> {
    let at = runs.iter().rposition(|r| r.first <= page && page < r.end)?;
    let run = &runs[at];
    let end = runs[at + 1..]
        .iter()
        .filter(|r| r.first > page && r.first < run.end)
        .map(|r| r.first)
        .min()
        .unwrap_or(run.end);
    Some((run, end - page))
}

/// Fills the frame of a [`pte::FILE`] page from the latest run holding it.
fn read_file_page(runs: &[FileRun], page: u32, frame: &mut [u8]) -> bool {
    match file_run(runs, page) {
        Some((r, _)) => r
            .source
            .read_pages(r.index + u64::from(page - r.first), frame),
        None => false,
    }
}

/// Memory protection, with Linux's PROT_* bit values.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Prot(pub u32);

impl Prot {
    pub const NONE: Prot = Prot(0);
    pub const READ: Prot = Prot(1);
    pub const WRITE: Prot = Prot(2);
    pub const EXEC: Prot = Prot(4);
    pub const RW: Prot = Prot(3);
    pub const RX: Prot = Prot(5);
    pub const RWX: Prot = Prot(7);

    /// Whether all bits of `other` are present.
    pub fn contains(self, other: Prot) -> bool {
        self.0 & other.0 == other.0
    }
}

/// The kind of access that faulted.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Access {
    Read,
    Write,
    Exec,
}

/// A guest page fault: the kernel turns it into SIGSEGV (or ENOMEM/EFAULT
/// when the kernel itself touched the memory).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct PageFault {
    /// The first address that could not be accessed.
    pub addr: GuestAddr,
    pub access: Access,
    /// The page is mapped but the access is not allowed (SEGV_ACCERR);
    /// otherwise nothing is mapped there (SEGV_MAPERR).
    pub protection: bool,
    /// The access was allowed but no frame could be allocated.
    pub out_of_memory: bool,
}

/// The machine cannot hold another page table or frame.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct OutOfMemory;

impl std::fmt::Display for OutOfMemory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("guest machine memory exhausted")
    }
}

impl std::error::Error for OutOfMemory {}

/// One guest address space (a process image). A handle: the table lives in
/// machine memory and must be given back with [`Machine::free_space`].
#[derive(Debug)]
pub struct AddressSpace {
    table: MachAddr,
    /// Unique among the machine's address spaces, ever (a freed table is
    /// reused, this is not).
    id: u64,
    /// Pages holding decoded code that were written or remapped since the
    /// interpreter last looked (it drops its decoded blocks for them).
    code_changes: Vec<u32>,
    /// Calls to `take_code_changes` so far (through the space or its
    /// `GuestMem`): an executor that keeps state across calls sees from it
    /// whether someone else took changes it did not see.
    changes_taken: u64,
    /// One bit per stretch of [`CHUNK_PAGES`] table entries that may hold
    /// a non-zero entry; every entry of the other stretches is zero. Scans
    /// of the whole space (exit, exec, fork) skip those stretches without
    /// reading them.
    in_use: [u64; CHUNKS / 64],
    /// Where [`pte::FILE`] pages read their bytes.
    file_runs: Vec<FileRun>,
}

/// Guest pages per bit of `AddressSpace::in_use`: one 4 KiB page of the
/// table, 4 MiB of guest addresses.
const CHUNK_PAGES: u32 = 1024;
const CHUNKS: usize = (1 << 20) / CHUNK_PAGES as usize;

impl AddressSpace {
    fn chunk_in_use(&self, chunk: u32) -> bool {
        self.in_use[chunk as usize / 64] & (1 << (chunk % 64)) != 0
    }

    /// Records that entries of `pages` may become non-zero.
    fn mark_in_use(&mut self, pages: std::ops::Range<u32>) {
        if pages.is_empty() {
            return;
        }
        for chunk in pages.start / CHUNK_PAGES..=(pages.end - 1) / CHUNK_PAGES {
            self.in_use[chunk as usize / 64] |= 1 << (chunk % 64);
        }
    }

    /// The parts of `pages` in stretches that may hold non-zero entries,
    /// each with whether it covers its whole stretch.
    fn stretches_in_use(&self, pages: std::ops::Range<u32>) -> Vec<(std::ops::Range<u32>, bool)> {
        let mut out = Vec::new();
        if pages.is_empty() {
            return out;
        }
        for chunk in pages.start / CHUNK_PAGES..=(pages.end - 1) / CHUNK_PAGES {
            if !self.chunk_in_use(chunk) {
                continue;
            }
            let (lo, hi) = (chunk * CHUNK_PAGES, (chunk + 1) * CHUNK_PAGES);
            let part = lo.max(pages.start)..hi.min(pages.end);
            let whole = part == (lo..hi);
            out.push((part, whole));
        }
        out
    }

    /// Machine address of the page table.
    pub fn table(&self) -> MachAddr {
        self.table
    }

    /// Takes the list of code pages changed since the last call.
    pub fn take_code_changes(&mut self) -> Vec<u32> {
        self.changes_taken += 1;
        std::mem::take(&mut self.code_changes)
    }

    /// Whether any code page changed since the last `take_code_changes`.
    #[inline(always)]
    pub fn code_changed(&self) -> bool {
        !self.code_changes.is_empty()
    }

    /// This space's identity: never the same for two spaces of a machine.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// How many times the list of changed code pages was taken, by anyone.
    pub fn changes_taken(&self) -> u64 {
        self.changes_taken
    }
}

/// Machine memory with its frame allocator: everything guest memory lives in.
pub struct Machine {
    region: Region,
    frames: FrameAllocator,
    /// Address spaces made so far (their ids).
    spaces_made: u64,
}

/// Where the CPU state slot lives in machine memory.
pub const CPU_SLOT: MachAddr = MachAddr(0);

const _: () = assert!(std::mem::size_of::<CpuState>() <= RESERVED_BYTES as usize);

impl Machine {
    /// A machine with `bytes` of machine memory, rounded down to frames
    /// and clamped to what one machine can have (see [`Machine::len_for`]).
    ///
    /// # Panics
    /// If the host cannot allocate that much memory.
    pub fn new(bytes: u64) -> Machine {
        let bytes = Self::len_for(bytes);
        // len_for keeps bytes within MAX_MACHINE_BYTES, which fits usize.
        Machine::from_region(Region::new(bytes as usize))
    }

    /// The size of machine memory [`Machine::new`] makes for a request of
    /// `bytes`: whole frames, room for the reserved bytes and two page
    /// tables at least, and at most [`MAX_MACHINE_BYTES`] (4 GiB; 2 GiB
    /// minus two pages on a 32-bit host such as wasm32).
    pub fn len_for(bytes: u64) -> u64 {
        let least = u64::from(RESERVED_BYTES) + 2 * u64::from(TABLE_FRAMES * PAGE_SIZE);
        bytes.clamp(least, region::MAX_LEN) & !u64::from(PAGE_MASK)
    }

    /// Bytes of machine memory.
    pub fn bytes(&self) -> u64 {
        self.region.len() as u64
    }

    /// A machine over `region` (for example a wasm engine's memory, see
    /// [`Region::from_external`]). The region must be zeroed.
    ///
    /// # Panics
    /// If the region is not a whole number of frames or too small to hold
    /// the reserved area and two page tables.
    pub fn from_region(region: Region) -> Machine {
        let bytes = region.len() as u64;
        assert!(
            bytes & u64::from(PAGE_MASK) == 0
                && bytes >= u64::from(RESERVED_BYTES) + 2 * u64::from(TABLE_FRAMES * PAGE_SIZE),
            "machine memory of {bytes} bytes is unusable"
        );
        let frames = FrameAllocator::new((bytes >> PAGE_SHIFT) as u32);
        let mut m = Machine {
            region,
            frames,
            spaces_made: 0,
        };
        *m.cpu() = CpuState::default();
        m
    }

    /// A plain-data slot in the reserved area (the JIT's control block,
    /// `crate::abi::Control`).
    pub fn slot<T: Slot>(&mut self, at: MachAddr) -> &mut T {
        assert!(
            at.0 as usize + std::mem::size_of::<T>() <= RESERVED_BYTES as usize,
            "slot outside the reserved area"
        );
        self.region.split_at_slot::<T>(at).0
    }

    /// The CPU state slot (the state of the thread that runs next).
    pub fn cpu(&mut self) -> &mut CpuState {
        self.region.split_at_slot::<CpuState>(CPU_SLOT).0
    }

    /// The frame allocator (for statistics).
    pub fn frames(&self) -> &FrameAllocator {
        &self.frames
    }

    /// The raw region (for a JIT engine that maps it).
    pub fn region(&self) -> &Region {
        &self.region
    }

    /// A new, empty address space.
    pub fn new_space(&mut self) -> Result<AddressSpace, OutOfMemory> {
        // A table is zero: fresh machine memory, or given back by
        // `free_space` after unmapping every page (no 4 MiB fill per fork
        // or exec).
        let table = self.frames.alloc_table().ok_or(OutOfMemory)?;
        self.spaces_made += 1;
        Ok(AddressSpace {
            table,
            id: self.spaces_made,
            code_changes: Vec::new(),
            changes_taken: 0,
            in_use: [0; CHUNKS / 64],
            file_runs: Vec::new(),
        })
    }

    /// Unmaps everything and returns the table, every entry zero, to the pool.
    pub fn free_space(&mut self, mut space: AddressSpace) {
        self.unmap(&mut space, GuestAddr(0), u32::MAX);
        // Every stretch was whole, so none is left in use: entries outside
        // the stretches in use are zero, and unmap zeroed the rest.
        debug_assert!(space.in_use.iter().all(|&w| w == 0));
        self.frames.free_table(space.table);
    }

    /// Both the CPU state slot and guest memory of `space`, for executing.
    #[inline]
    pub fn guest<'a>(
        &'a mut self,
        space: &'a mut AddressSpace,
    ) -> (&'a mut CpuState, GuestMem<'a>) {
        let (cpu, view) = self.region.split_at_slot::<CpuState>(CPU_SLOT);
        let table = space.table;
        (
            cpu,
            GuestMem {
                view,
                frames: &mut self.frames,
                table,
                code_changes: &mut space.code_changes,
                changes_taken: &mut space.changes_taken,
                file_runs: &space.file_runs,
            },
        )
    }

    /// Guest memory of `space` (for the kernel copying to and from it).
    pub fn mem<'a>(&'a mut self, space: &'a mut AddressSpace) -> GuestMem<'a> {
        self.guest(space).1
    }

    fn entry_addr(table: MachAddr, page: u32) -> MachAddr {
        MachAddr(table.0 + page * 4)
    }

    fn pages(start: GuestAddr, len: u32) -> std::ops::Range<u32> {
        let first = start.page();
        let end = ((u64::from(start.0) + u64::from(len) + u64::from(PAGE_MASK)) >> PAGE_SHIFT)
            .min(1 << 20) as u32;
        first..end
    }

    /// Maps `len` bytes at `start` (page aligned) with `prot`, replacing
    /// what was there. Frames are allocated lazily on first touch, zeroed.
    pub fn map(
        &mut self,
        space: &mut AddressSpace,
        start: GuestAddr,
        len: u32,
        prot: Prot,
        shared: bool,
    ) {
        self.unmap(space, start, len);
        let extra = if shared { pte::SHARED } else { 0 };
        space.mark_in_use(Self::pages(start, len));
        for page in Self::pages(start, len) {
            let e = pte::MAPPED | extra | (prot.0 & 7) << pte::PROT_SHIFT;
            self.region
                .view()
                .write_u32(Self::entry_addr(space.table, page), e);
        }
    }

    /// Removes the pages of `start..start+len`; frames lose a reference.
    pub fn unmap(&mut self, space: &mut AddressSpace, start: GuestAddr, len: u32) {
        for (pages, whole) in space.stretches_in_use(Self::pages(start, len)) {
            let chunk = pages.start / CHUNK_PAGES;
            for page in pages {
                let at = Self::entry_addr(space.table, page);
                let e = self.region.view().read_u32(at);
                if e == 0 {
                    continue;
                }
                if e & pte::WATCHED != 0 {
                    space.code_changes.push(page);
                }
                if e & pte::FRAME != 0 {
                    self.frames.release(MachAddr(e & pte::FRAME));
                }
                self.region.view().write_u32(at, 0);
            }
            if whole {
                // Every entry of the stretch is zero now.
                space.in_use[chunk as usize / 64] &= !(1 << (chunk % 64));
            }
        }
        let pages = Self::pages(start, len);
        space
            .file_runs
            .retain(|r| r.first < pages.start || r.end > pages.end);
    }

    /// Maps `len` bytes at `start` (page aligned) with `prot`, private,
    /// replacing what was there; the first touch of a page reads it from
    /// `source`, the first page being the file's page `index`.
    pub fn map_file(
        &mut self,
        space: &mut AddressSpace,
        start: GuestAddr,
        len: u32,
        prot: Prot,
        source: std::rc::Rc<dyn PageSource>,
        index: u64,
    ) {
        self.unmap(space, start, len);
        let pages = Self::pages(start, len);
        space.mark_in_use(pages.clone());
        space.file_runs.push(FileRun {
            first: pages.start,
            end: pages.end,
            index,
            source,
        });
        for page in pages {
            let e = pte::MAPPED | pte::FILE | (prot.0 & 7) << pte::PROT_SHIFT;
            self.region
                .view()
                .write_u32(Self::entry_addr(space.table, page), e);
        }
    }

    /// Changes the protection of mapped pages in the range. Returns false
    /// (changing nothing) if some page in the range is not mapped.
    pub fn protect(
        &mut self,
        space: &mut AddressSpace,
        start: GuestAddr,
        len: u32,
        prot: Prot,
    ) -> bool {
        let range = Self::pages(start, len);
        if range.clone().any(|p| {
            self.region
                .view()
                .read_u32(Self::entry_addr(space.table, p))
                & pte::MAPPED
                == 0
        }) {
            return false;
        }
        for page in range {
            let at = Self::entry_addr(space.table, page);
            let e = self.region.view().read_u32(at);
            if e & pte::WATCHED != 0 {
                space.code_changes.push(page);
            }
            let e = (e & !(pte::PROT_MASK | pte::WATCHED)) | (prot.0 & 7) << pte::PROT_SHIFT;
            self.region.view().write_u32(at, effective(e));
        }
        true
    }

    /// The protection of the page holding `addr`, if it is mapped.
    pub fn prot_at(&mut self, space: &AddressSpace, addr: GuestAddr) -> Option<Prot> {
        let e = self
            .region
            .view()
            .read_u32(Self::entry_addr(space.table, addr.page()));
        (e & pte::MAPPED != 0).then_some(Prot((e & pte::PROT_MASK) >> pte::PROT_SHIFT))
    }

    /// Marks a page as holding decoded code: writes to it take the slow
    /// path and are reported through `AddressSpace::take_code_changes`.
    pub fn watch(&mut self, space: &AddressSpace, page: u32) {
        let at = Self::entry_addr(space.table, page);
        let e = self.region.view().read_u32(at);
        if e & pte::MAPPED != 0 {
            self.region.view().write_u32(at, e | pte::WATCHED);
        }
    }

    /// A copy-on-write duplicate of `space` (for `fork`). Private pages are
    /// shared read-only until either side writes; shared mappings stay
    /// shared.
    pub fn fork_space(&mut self, space: &mut AddressSpace) -> Result<AddressSpace, OutOfMemory> {
        let mut child = self.new_space()?;
        child.in_use = space.in_use;
        child.file_runs = space.file_runs.clone();
        for (pages, _) in space.stretches_in_use(0..1 << 20) {
            for page in pages {
                let at = Self::entry_addr(space.table, page);
                let mut e = self.region.view().read_u32(at);
                if e == 0 {
                    continue;
                }
                let frame = e & pte::FRAME;
                if frame != 0 {
                    self.frames.retain(MachAddr(frame));
                    if e & pte::SHARED == 0 {
                        e |= pte::COW;
                    }
                }
                e = effective(e & !pte::WATCHED);
                // Keep the parent's watch bit: its decoded code stays valid.
                let parent = effective(e) | (self.region.view().read_u32(at) & pte::WATCHED);
                self.region.view().write_u32(at, parent);
                self.region
                    .view()
                    .write_u32(Self::entry_addr(child.table, page), e);
            }
        }
        Ok(child)
    }

    /// Whether the frame at machine address `frame` holds exactly `bytes`
    /// (compared in place).
    pub fn frame_holds(&mut self, frame: MachAddr, bytes: &[u8]) -> bool {
        bytes.len() <= PAGE_SIZE as usize && self.region.view().slice(frame, bytes.len()) == bytes
    }

    /// The frame behind the page holding `addr`, if the page is mapped
    /// and has been touched (lazy pages have none yet).
    /// A [`pte::FILE`] page is read from its file first, as if touched.
    pub fn frame_of(&mut self, space: &AddressSpace, addr: GuestAddr) -> Option<MachAddr> {
        let at = Self::entry_addr(space.table, addr.page());
        let mut e = self.region.view().read_u32(at);
        if e & pte::MAPPED != 0 && e & pte::FILE != 0 {
            let (frame, stale) = self.frames.alloc()?;
            let mut view = self.region.view();
            let bytes = view.slice_mut(frame, PAGE_SIZE as usize);
            if stale {
                bytes.fill(0);
            }
            if !read_file_page(&space.file_runs, addr.page(), bytes) {
                self.frames.release(frame);
                return None;
            }
            e = effective((e & !pte::FILE) | frame.0);
            self.region.view().write_u32(at, e);
        }
        (e & pte::MAPPED != 0 && e & pte::FRAME != 0).then_some(MachAddr(e & pte::FRAME))
    }

    /// Installs the existing `frame` (which gains a reference) as the page
    /// at `addr`, replacing what was there: `shared` pages write to the
    /// frame itself (MAP_SHARED of a cached file page), others are
    /// copy-on-write (an untouched MAP_PRIVATE file page, which sees the
    /// frame's changes until it is first written).
    pub fn map_frame(
        &mut self,
        space: &mut AddressSpace,
        addr: GuestAddr,
        frame: MachAddr,
        prot: Prot,
        shared: bool,
    ) {
        self.frames.retain(frame);
        self.unmap(space, GuestAddr(addr.0 & !PAGE_MASK), PAGE_SIZE);
        let kind = if shared { pte::SHARED } else { pte::COW };
        space.mark_in_use(addr.page()..addr.page() + 1);
        let e = pte::MAPPED | kind | (prot.0 & 7) << pte::PROT_SHIFT | (frame.0 & pte::FRAME);
        self.region
            .view()
            .write_u32(Self::entry_addr(space.table, addr.page()), effective(e));
    }
}

/// Recomputes the effective (fast-path) bits from the requested protection,
/// frame presence and copy-on-write state. x86 pages are always readable
/// when they are writable or executable.
fn effective(e: u32) -> u32 {
    let keep = e & !(pte::R | pte::W | pte::X);
    if e & pte::FRAME == 0 {
        return keep;
    }
    let prot = (e & pte::PROT_MASK) >> pte::PROT_SHIFT;
    let mut bits = 0;
    if prot != 0 {
        bits |= pte::R;
    }
    if prot & 2 != 0 && e & pte::COW == 0 {
        bits |= pte::W;
    }
    if prot & 4 != 0 {
        bits |= pte::X;
    }
    keep | bits
}

/// Access to one address space's guest memory: the path every guest load,
/// store and instruction fetch takes.
pub struct GuestMem<'a> {
    view: RegionView<'a>,
    frames: &'a mut FrameAllocator,
    table: MachAddr,
    code_changes: &'a mut Vec<u32>,
    changes_taken: &'a mut u64,
    file_runs: &'a [FileRun],
}

impl GuestMem<'_> {
    #[inline(always)]
    fn entry(&self, addr: GuestAddr) -> u32 {
        self.view.read_u32(MachAddr(self.table.0 + addr.page() * 4))
    }

    /// Whether a code page was written since the interpreter last drained
    /// the list.
    #[inline(always)]
    pub fn code_changed(&self) -> bool {
        !self.code_changes.is_empty()
    }

    /// Takes the list of code pages changed since the last call.
    pub fn take_code_changes(&mut self) -> Vec<u32> {
        *self.changes_taken += 1;
        std::mem::take(self.code_changes)
    }

    /// Marks a guest page as holding decoded code (see [`Machine::watch`]).
    /// Whether `page` is part of a shared mapping (MAP_SHARED: its frame
    /// may be written through another mapping, in this address space or
    /// another, without passing this page's entry).
    pub fn is_shared(&self, page: u32) -> bool {
        let at = MachAddr(self.table.0 + page * 4);
        self.view.read_u32(at) & pte::SHARED != 0
    }

    pub fn watch(&mut self, page: u32) {
        let at = MachAddr(self.table.0 + page * 4);
        let e = self.view.read_u32(at);
        if e & pte::MAPPED != 0 {
            self.view.write_u32(at, e | pte::WATCHED);
        }
    }

    /// Resolves the page holding `addr` for `access`, allocating or copying
    /// its frame if needed. Returns the frame's machine address.
    fn resolve(&mut self, addr: GuestAddr, access: Access) -> Result<MachAddr, PageFault> {
        let at = MachAddr(self.table.0 + addr.page() * 4);
        let mut e = self.view.read_u32(at);
        let fault = |protection| PageFault {
            addr,
            access,
            protection,
            out_of_memory: false,
        };
        if e & pte::MAPPED == 0 {
            return Err(fault(false));
        }
        let prot = (e & pte::PROT_MASK) >> pte::PROT_SHIFT;
        let allowed = match access {
            Access::Read => prot != 0,
            Access::Write => prot & 2 != 0,
            Access::Exec => prot & 4 != 0,
        };
        if !allowed {
            return Err(fault(true));
        }
        let oom = PageFault {
            out_of_memory: true,
            ..fault(false)
        };
        if e & pte::FRAME == 0 && e & pte::FILE != 0 {
            let frame = self
                .read_file_pages(addr.page())
                .map_err(|out_of_memory| PageFault {
                    out_of_memory,
                    ..fault(false)
                })?;
            e = (e & !pte::FILE) | frame.0;
        } else if e & pte::FRAME == 0 {
            let (frame, stale) = self.frames.alloc().ok_or(oom)?;
            if stale {
                self.view.slice_mut(frame, PAGE_SIZE as usize).fill(0);
            }
            e |= frame.0;
        }
        if access == Access::Write {
            if e & pte::COW != 0 {
                let old = MachAddr(e & pte::FRAME);
                if self.frames.refcount(old) > 1 {
                    let (new, _) = self.frames.alloc().ok_or(oom)?;
                    let data: [u8; PAGE_SIZE as usize] = self.view.read(old);
                    self.view.write(new, data);
                    self.frames.release(old);
                    e = (e & !pte::FRAME) | new.0;
                }
                e &= !pte::COW;
            }
            if e & pte::WATCHED != 0 {
                self.code_changes.push(addr.page());
                e &= !pte::WATCHED;
            }
        }
        let e = effective(e);
        self.view.write_u32(at, e);
        Ok(MachAddr(e & pte::FRAME))
    }

    /// Gives [`pte::FILE`] page `page` a frame read from its file, and up
    /// to [`FAULT_AROUND`] - 1 following pages of its run that wait too,
    /// while their new frames follow in machine memory (one read for
    /// all). Returns the page's frame (its entry is the caller's to
    /// write), or whether it failed for want of memory.
    fn read_file_pages(&mut self, page: u32) -> Result<MachAddr, bool> {
        let runs = self.file_runs;
        let (run, left) = file_run(runs, page).ok_or(false)?;
        let mut frames = [(MachAddr(0), false); FAULT_AROUND as usize];
        frames[0] = self.frames.alloc().ok_or(true)?;
        let mut n = 1;
        while n < left.min(FAULT_AROUND) as usize {
            let at = MachAddr(self.table.0 + (page + n as u32) * 4);
            let e = self.view.read_u32(at);
            if e & (pte::MAPPED | pte::FILE | pte::FRAME) != pte::MAPPED | pte::FILE {
                break;
            }
            let Some((f, stale)) = self.frames.alloc() else {
                break;
            };
            if Some(f.0) != frames[n - 1].0 .0.checked_add(PAGE_SIZE) {
                self.frames.release(f);
                break;
            }
            frames[n] = (f, stale);
            n += 1;
        }
        let bytes = self.view.slice_mut(frames[0].0, n * PAGE_SIZE as usize);
        for (i, &(_, stale)) in frames[..n].iter().enumerate() {
            if stale {
                bytes[i * PAGE_SIZE as usize..][..PAGE_SIZE as usize].fill(0);
            }
        }
        if !run
            .source
            .read_pages(run.index + u64::from(page - run.first), bytes)
        {
            for &(f, _) in &frames[..n] {
                self.frames.release(f);
            }
            return Err(false);
        }
        for (i, &(f, _)) in frames[..n].iter().enumerate().skip(1) {
            let at = MachAddr(self.table.0 + (page + i as u32) * 4);
            let e = self.view.read_u32(at);
            self.view.write_u32(at, effective((e & !pte::FILE) | f.0));
        }
        Ok(frames[0].0)
    }

    #[inline(always)]
    fn load<const N: usize>(&mut self, addr: GuestAddr) -> Result<[u8; N], PageFault> {
        let e = self.entry(addr);
        if e & pte::R != 0 && addr.offset() <= PAGE_SIZE - N as u32 {
            return Ok(self
                .view
                .read::<N>(MachAddr((e & pte::FRAME) | addr.offset())));
        }
        self.load_slow(addr, Access::Read)
    }

    #[cold]
    fn load_slow<const N: usize>(
        &mut self,
        addr: GuestAddr,
        access: Access,
    ) -> Result<[u8; N], PageFault> {
        let mut out = [0u8; N];
        for (i, b) in out.iter_mut().enumerate() {
            let a = addr.add(i as u32);
            if i == 0 || a.offset() == 0 {
                self.resolve(a, access)?;
            }
            let e = self.entry(a);
            *b = self.view.read::<1>(MachAddr((e & pte::FRAME) | a.offset()))[0];
        }
        Ok(out)
    }

    #[inline(always)]
    fn store<const N: usize>(&mut self, addr: GuestAddr, bytes: [u8; N]) -> Result<(), PageFault> {
        let e = self.entry(addr);
        if e & (pte::W | pte::WATCHED) == pte::W && addr.offset() <= PAGE_SIZE - N as u32 {
            self.view
                .write::<N>(MachAddr((e & pte::FRAME) | addr.offset()), bytes);
            return Ok(());
        }
        self.store_slow(addr, bytes)
    }

    #[cold]
    fn store_slow<const N: usize>(
        &mut self,
        addr: GuestAddr,
        bytes: [u8; N],
    ) -> Result<(), PageFault> {
        // Check every page first: a faulting store changes nothing.
        let last = addr.add(N as u32 - 1);
        let mut frames = [self.resolve(addr, Access::Write)?; 2];
        if last.page() != addr.page() {
            frames[1] = self.resolve(last.page_start(), Access::Write)?;
        }
        for (i, b) in bytes.iter().enumerate() {
            let a = addr.add(i as u32);
            let f = frames[usize::from(a.page() != addr.page())];
            self.view.write::<1>(MachAddr(f.0 | a.offset()), [*b]);
        }
        Ok(())
    }

    /// Loads a byte.
    #[inline(always)]
    pub fn read_u8(&mut self, a: GuestAddr) -> Result<u8, PageFault> {
        self.load::<1>(a).map(|b| b[0])
    }
    /// Loads a little-endian u16.
    #[inline(always)]
    pub fn read_u16(&mut self, a: GuestAddr) -> Result<u16, PageFault> {
        self.load::<2>(a).map(u16::from_le_bytes)
    }
    /// Loads a little-endian u32.
    #[inline(always)]
    pub fn read_u32(&mut self, a: GuestAddr) -> Result<u32, PageFault> {
        self.load::<4>(a).map(u32::from_le_bytes)
    }
    /// Loads a little-endian u64.
    #[inline(always)]
    pub fn read_u64(&mut self, a: GuestAddr) -> Result<u64, PageFault> {
        self.load::<8>(a).map(u64::from_le_bytes)
    }
    /// Loads 16 bytes.
    #[inline(always)]
    pub fn read_u128(&mut self, a: GuestAddr) -> Result<u128, PageFault> {
        self.load::<16>(a).map(u128::from_le_bytes)
    }
    /// Stores a byte.
    #[inline(always)]
    pub fn write_u8(&mut self, a: GuestAddr, v: u8) -> Result<(), PageFault> {
        self.store(a, [v])
    }
    /// Stores a little-endian u16.
    #[inline(always)]
    pub fn write_u16(&mut self, a: GuestAddr, v: u16) -> Result<(), PageFault> {
        self.store(a, v.to_le_bytes())
    }
    /// Stores a little-endian u32.
    #[inline(always)]
    pub fn write_u32(&mut self, a: GuestAddr, v: u32) -> Result<(), PageFault> {
        self.store(a, v.to_le_bytes())
    }
    /// Stores a little-endian u64.
    #[inline(always)]
    pub fn write_u64(&mut self, a: GuestAddr, v: u64) -> Result<(), PageFault> {
        self.store(a, v.to_le_bytes())
    }
    /// Stores 16 bytes.
    #[inline(always)]
    pub fn write_u128(&mut self, a: GuestAddr, v: u128) -> Result<(), PageFault> {
        self.store(a, v.to_le_bytes())
    }

    /// Checks that `len` bytes at `addr` may be written, without writing
    /// (for instructions that must not change anything when they fault).
    pub fn probe_write(&mut self, addr: GuestAddr, len: u32) -> Result<(), PageFault> {
        if len == 0 {
            return Ok(());
        }
        let mut page = addr.page_start();
        let last = addr.add(len - 1);
        loop {
            let a = if page.page() == addr.page() {
                addr
            } else {
                page
            };
            let e = self.entry(a);
            if e & (pte::W | pte::WATCHED) != pte::W {
                self.resolve(a, Access::Write)?;
            }
            if page.page() == last.page() {
                return Ok(());
            }
            page = page.add(PAGE_SIZE);
        }
    }

    /// Checks that `len` bytes at `addr` may be read, faulting in what
    /// reading would (the kernel's check before it takes a buffer piece
    /// by piece with [`GuestMem::read_pieces`]).
    pub fn probe_read(&mut self, addr: GuestAddr, len: usize) -> Result<(), PageFault> {
        self.copy(addr, len, Access::Read, |_, _, _, _| {})
    }

    /// Calls `f` with the guest bytes at `addr..addr+len` in order, one
    /// piece per page, without copying them out first.
    pub fn read_pieces(
        &mut self,
        addr: GuestAddr,
        len: usize,
        mut f: impl FnMut(&[u8]),
    ) -> Result<(), PageFault> {
        self.copy(addr, len, Access::Read, |mem, frame_at, _, n| {
            f(mem.view.slice(frame_at, n));
        })
    }

    /// Copies guest memory into `buf` (the kernel's copy_from_user).
    pub fn read_bytes(&mut self, addr: GuestAddr, buf: &mut [u8]) -> Result<(), PageFault> {
        self.copy(addr, buf.len(), Access::Read, |mem, frame_at, i, n| {
            buf[i..i + n].copy_from_slice(mem.view.slice(frame_at, n));
        })
    }

    /// Copies `buf` into guest memory (the kernel's copy_to_user).
    pub fn write_bytes(&mut self, addr: GuestAddr, buf: &[u8]) -> Result<(), PageFault> {
        self.copy(addr, buf.len(), Access::Write, |mem, frame_at, i, n| {
            mem.view
                .slice_mut(frame_at, n)
                .copy_from_slice(&buf[i..i + n]);
        })
    }

    /// Writes guest memory in place (the kernel reading a file straight
    /// into user pages, with no bounce buffer): `fill` gets each stretch of
    /// `addr..addr+len` whose frames lie back to back in machine memory,
    /// and the stretch's offset in the range, and returns false to stop
    /// there. Pages are resolved for writing as they are reached, as
    /// [`GuestMem::write_bytes`] does; a stretch is at most
    /// [`GuestMem::FILL_RUN`] bytes.
    pub fn fill_with(
        &mut self,
        addr: GuestAddr,
        len: usize,
        mut fill: impl FnMut(&mut [u8], usize) -> bool,
    ) -> Result<(), PageFault> {
        if len > 0 && len as u64 > (1 << 32) - u64::from(addr.0) {
            return Err(PageFault {
                addr: GuestAddr(0),
                access: Access::Write,
                protection: false,
                out_of_memory: false,
            });
        }
        let mut done = 0;
        while done < len {
            let a = addr.add(done as u32);
            let first = self.resolve(a, Access::Write)?;
            let mut n = ((PAGE_SIZE - a.offset()) as usize).min(len - done);
            let mut last = first.0;
            // Frames handed out one after another are usually adjacent.
            while done + n < len && n < Self::FILL_RUN {
                // A fault is reported when the outer loop gets there.
                let next = self.resolve(addr.add((done + n) as u32), Access::Write);
                match next {
                    Ok(f) if Some(f.0) == last.checked_add(PAGE_SIZE) => last = f.0,
                    _ => break,
                }
                n += (PAGE_SIZE as usize).min(len - done - n);
            }
            if !fill(self.view.slice_mut(MachAddr(first.0 | a.offset()), n), done) {
                break;
            }
            done += n;
        }
        Ok(())
    }

    /// The longest stretch [`GuestMem::fill_with`] hands over at once.
    pub const FILL_RUN: usize = 1 << 20;

    /// Fills guest memory with a byte.
    pub fn fill(&mut self, addr: GuestAddr, len: usize, byte: u8) -> Result<(), PageFault> {
        self.copy(addr, len, Access::Write, |mem, frame_at, _, n| {
            mem.view.slice_mut(frame_at, n).fill(byte);
        })
    }

    /// Reads instruction bytes (needs execute permission) into `buf`;
    /// returns how many bytes could be fetched before a fault, and the
    /// fault if one stopped it.
    pub fn fetch(&mut self, addr: GuestAddr, buf: &mut [u8]) -> (usize, Option<PageFault>) {
        let mut done = 0;
        while done < buf.len() {
            let a = addr.add(done as u32);
            let e = self.entry(a);
            let frame = if e & pte::X != 0 {
                MachAddr(e & pte::FRAME)
            } else {
                match self.resolve(a, Access::Exec) {
                    Ok(f) => f,
                    Err(f) => return (done, Some(f)),
                }
            };
            let n = ((PAGE_SIZE - a.offset()) as usize).min(buf.len() - done);
            buf[done..done + n].copy_from_slice(self.view.slice(MachAddr(frame.0 | a.offset()), n));
            done += n;
        }
        (done, None)
    }

    fn copy(
        &mut self,
        addr: GuestAddr,
        len: usize,
        access: Access,
        mut f: impl FnMut(&mut Self, MachAddr, usize, usize),
    ) -> Result<(), PageFault> {
        // Not `addr + len`: a usize near u64::MAX would wrap that sum.
        if len > 0 && len as u64 > (1 << 32) - u64::from(addr.0) {
            return Err(PageFault {
                addr: GuestAddr(0),
                access,
                protection: false,
                out_of_memory: false,
            });
        }
        let mut done = 0;
        while done < len {
            let a = addr.add(done as u32);
            let frame = self.resolve(a, access)?;
            let n = ((PAGE_SIZE - a.offset()) as usize).min(len - done);
            f(self, MachAddr(frame.0 | a.offset()), done, n);
            done += n;
        }
        Ok(())
    }

    /// Reads a NUL-terminated string of at most `max` bytes (without the
    /// NUL). Returns None if no NUL was found within `max` bytes.
    /// Looks for the NUL a page at a time: the bytes read and the fault
    /// (at the first byte of the first page that cannot be read) are
    /// those of reading byte by byte.
    pub fn read_cstr(&mut self, addr: GuestAddr, max: usize) -> Result<Option<Vec<u8>>, PageFault> {
        let mut out = Vec::new();
        while out.len() < max {
            let a = addr.add(out.len() as u32);
            let frame = self.resolve(a, Access::Read)?;
            let n = ((PAGE_SIZE - a.offset()) as usize).min(max - out.len());
            let bytes = self.view.slice(MachAddr(frame.0 | a.offset()), n);
            if let Some(end) = bytes.iter().position(|&b| b == 0) {
                out.extend_from_slice(&bytes[..end]);
                return Ok(Some(out));
            }
            out.extend_from_slice(bytes);
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn machine() -> (Machine, AddressSpace) {
        let mut m = Machine::new(64 << 20);
        let s = m.new_space().unwrap();
        (m, s)
    }

    /// read_cstr across pages: the bytes up to the NUL, None at `max`, and
    /// a fault at the first byte of an unreadable page it reaches.
    #[test]
    fn read_cstr_reads_across_pages_and_faults_where_bytes_would() {
        let (mut m, mut s) = machine();
        m.map(&mut s, GuestAddr(0x1000), 0x2000, Prot::RW, false);
        let mut g = m.mem(&mut s);
        g.write_bytes(GuestAddr(0x1ffd), b"abcdef\0").unwrap();
        let r = g.read_cstr(GuestAddr(0x1ffd), 100).unwrap();
        assert_eq!(r.as_deref(), Some(&b"abcdef"[..]));
        assert_eq!(g.read_cstr(GuestAddr(0x1ffd), 6).unwrap(), None);
        assert_eq!(g.read_cstr(GuestAddr(0x2003), 1).unwrap(), Some(Vec::new()));
        // No NUL before the unmapped page at 0x3000.
        g.write_bytes(GuestAddr(0x2ffe), b"xy").unwrap();
        let e = g.read_cstr(GuestAddr(0x2ffe), 100).unwrap_err();
        assert_eq!((e.addr, e.access), (GuestAddr(0x3000), Access::Read));
        // A NUL just before it is found without touching it.
        g.write_bytes(GuestAddr(0x2fff), b"\0").unwrap();
        let r = g.read_cstr(GuestAddr(0x2ffe), 100).unwrap();
        assert_eq!(r.as_deref(), Some(&b"x"[..]));
    }

    #[test]
    fn lazy_pages_read_zero_and_keep_writes() {
        let (mut m, mut s) = machine();
        m.map(&mut s, GuestAddr(0x1000), 0x2000, Prot::RW, false);
        let mut g = m.mem(&mut s);
        assert_eq!(g.read_u32(GuestAddr(0x1ffe)).unwrap(), 0);
        g.write_u32(GuestAddr(0x1ffe), 0xdeadbeef).unwrap();
        assert_eq!(g.read_u32(GuestAddr(0x1ffe)).unwrap(), 0xdeadbeef);
        assert_eq!(g.read_u16(GuestAddr(0x2000)).unwrap(), 0xdead);
    }

    #[test]
    fn fill_with_hands_over_adjacent_frames_at_once() {
        let (mut m, mut s) = machine();
        m.map(&mut s, GuestAddr(0x1000), 0x3000, Prot::RW, false);
        m.map(&mut s, GuestAddr(0x4000), 0x1000, Prot::READ, false);
        let mut g = m.mem(&mut s);
        let mut runs = Vec::new();
        g.fill_with(GuestAddr(0x1800), 0x2000, |chunk, at| {
            chunk.fill(0x11 + at as u8);
            runs.push((at, chunk.len()));
            true
        })
        .unwrap();
        // Fresh frames come one after another: one stretch.
        assert_eq!(runs, [(0, 0x2000)]);
        assert_eq!(g.read_u8(GuestAddr(0x17ff)).unwrap(), 0);
        assert_eq!(g.read_u8(GuestAddr(0x3000)).unwrap(), 0x11);
        assert_eq!(g.read_u8(GuestAddr(0x3800)).unwrap(), 0);
        // Stopping early leaves the rest alone; a read-only page faults.
        let mut calls = 0;
        g.fill_with(GuestAddr(0x1000), 0x10, |_, _| {
            calls += 1;
            false
        })
        .unwrap();
        assert_eq!(calls, 1);
        let f = g
            .fill_with(GuestAddr(0x3000), 0x2000, |_, _| true)
            .unwrap_err();
        assert_eq!(f.addr, GuestAddr(0x4000));
        assert!(f.protection);
    }

    /// Pages whose every byte is the page's index in the file.
    struct IndexPages(std::cell::Cell<u32>);

    impl PageSource for IndexPages {
        fn read_pages(&self, index: u64, pages: &mut [u8]) -> bool {
            self.0.set(self.0.get() + 1);
            for (i, page) in pages.chunks_mut(4096).enumerate() {
                page.fill((index + i as u64) as u8);
            }
            index != 9
        }
    }

    #[test]
    fn file_pages_are_read_at_first_touch() {
        let (mut m, mut s) = machine();
        let src = std::rc::Rc::new(IndexPages(std::cell::Cell::new(0)));
        m.map_file(
            &mut s,
            GuestAddr(0x1000),
            0x3000,
            Prot::READ,
            src.clone(),
            5,
        );
        assert_eq!(src.0.get(), 0, "nothing read at map time");
        assert_eq!(m.prot_at(&s, GuestAddr(0x2000)), Some(Prot::READ));
        // One read for the page and the next one (fault-around).
        assert_eq!(m.mem(&mut s).read_u8(GuestAddr(0x2abc)).unwrap(), 6);
        assert_eq!(src.0.get(), 1);
        let frame = m.frame_of(&s, GuestAddr(0x3000)).unwrap();
        assert!(m.frame_holds(frame, &[7; 4096]));
        assert_eq!(src.0.get(), 1);
        // A write to a read-only file page faults without reading it.
        let f = m.mem(&mut s).write_u8(GuestAddr(0x1000), 1).unwrap_err();
        assert!(f.protection);
        assert_eq!(src.0.get(), 1);
        // The kernel asking for the frame reads the page too.
        let frame = m.frame_of(&s, GuestAddr(0x1000)).unwrap();
        assert!(m.frame_holds(frame, &[5; 4096]));
        assert_eq!(src.0.get(), 2);
        m.map_file(
            &mut s,
            GuestAddr(0x1000),
            0x1000,
            Prot::READ,
            src.clone(),
            5,
        );
        // A fork reads its own copy of an untouched page; a protection
        // change keeps it pending; a failed read faults.
        let mut child = m.fork_space(&mut s).unwrap();
        m.protect(&mut child, GuestAddr(0x1000), 0x1000, Prot::RW);
        m.mem(&mut child).write_u8(GuestAddr(0x1001), 0x55).unwrap();
        assert_eq!(m.mem(&mut child).read_u8(GuestAddr(0x1000)).unwrap(), 5);
        assert_eq!(m.mem(&mut s).read_u8(GuestAddr(0x1001)).unwrap(), 5);
        m.map_file(&mut s, GuestAddr(0x8000), 0x1000, Prot::READ, src, 9);
        assert!(m.mem(&mut s).read_u8(GuestAddr(0x8000)).is_err());
        // Anonymous memory over a file page is zero.
        m.map(&mut s, GuestAddr(0x8000), 0x1000, Prot::READ, false);
        assert_eq!(m.mem(&mut s).read_u8(GuestAddr(0x8000)).unwrap(), 0);
        m.free_space(child);
    }

    #[test]
    fn map_frame_shares_or_copies_on_write() {
        let (mut m, mut a) = machine();
        let mut b = m.new_space().unwrap();
        m.map(&mut a, GuestAddr(0x1000), 0x1000, Prot::RW, true);
        assert_eq!(m.frame_of(&a, GuestAddr(0x1000)), None);
        m.mem(&mut a).write_u32(GuestAddr(0x1000), 1).unwrap();
        let frame = m.frame_of(&a, GuestAddr(0x1234)).unwrap();
        m.map_frame(&mut b, GuestAddr(0x5000), frame, Prot::RW, true);
        m.map_frame(&mut b, GuestAddr(0x6000), frame, Prot::RW, false);
        assert_eq!(m.frames().refcount(frame), 3);
        m.mem(&mut b).write_u32(GuestAddr(0x5000), 2).unwrap();
        assert_eq!(m.mem(&mut a).read_u32(GuestAddr(0x1000)).unwrap(), 2);
        assert_eq!(m.mem(&mut b).read_u32(GuestAddr(0x6000)).unwrap(), 2);
        // The private page copies on its first write and stops following.
        m.mem(&mut b).write_u32(GuestAddr(0x6000), 3).unwrap();
        m.mem(&mut a).write_u32(GuestAddr(0x1000), 4).unwrap();
        assert_eq!(m.mem(&mut b).read_u32(GuestAddr(0x6000)).unwrap(), 3);
        assert_eq!(m.mem(&mut b).read_u32(GuestAddr(0x5000)).unwrap(), 4);
        assert_eq!(m.frames().refcount(frame), 2);
    }

    #[test]
    fn faults_report_first_bad_address() {
        let (mut m, mut s) = machine();
        m.map(&mut s, GuestAddr(0x1000), 0x1000, Prot::RW, false);
        m.map(&mut s, GuestAddr(0x2000), 0x1000, Prot::READ, false);
        let mut g = m.mem(&mut s);
        let f = g.write_u32(GuestAddr(0x1ffe), 1).unwrap_err();
        assert_eq!(f.addr, GuestAddr(0x2000));
        assert!(f.protection);
        // A faulting store must not have changed the first page.
        assert_eq!(g.read_u16(GuestAddr(0x1ffe)).unwrap(), 0);
        let f = g.read_u32(GuestAddr(0x2ffe)).unwrap_err();
        assert_eq!(f.addr, GuestAddr(0x3000));
        assert!(!f.protection);
    }

    #[test]
    fn fork_is_copy_on_write() {
        let (mut m, mut s) = machine();
        m.map(&mut s, GuestAddr(0x1000), 0x1000, Prot::RW, false);
        m.mem(&mut s).write_u32(GuestAddr(0x1000), 7).unwrap();
        let mut c = m.fork_space(&mut s).unwrap();
        m.mem(&mut c).write_u32(GuestAddr(0x1000), 9).unwrap();
        assert_eq!(m.mem(&mut s).read_u32(GuestAddr(0x1000)).unwrap(), 7);
        assert_eq!(m.mem(&mut c).read_u32(GuestAddr(0x1000)).unwrap(), 9);
        m.free_space(c);
        assert_eq!(m.frames().frames_in_use(), 1);
    }

    /// Whole-space scans (fork, exit) visit only the stretches of the
    /// table that were ever mapped, and a stretch emptied whole is
    /// forgotten.
    #[test]
    fn scans_see_every_mapping_across_stretches() {
        let (mut m, mut s) = machine();
        let (low, high) = (GuestAddr(0x3f_f000), GuestAddr(0xbf00_0000));
        m.map(&mut s, low, 0x2000, Prot::RW, false);
        m.map(&mut s, high, 0x1000, Prot::RW, false);
        m.mem(&mut s).write_u32(GuestAddr(0x40_0000), 5).unwrap();
        m.mem(&mut s).write_u32(high, 6).unwrap();
        let mut c = m.fork_space(&mut s).unwrap();
        assert_eq!(m.mem(&mut c).read_u32(GuestAddr(0x40_0000)).unwrap(), 5);
        assert_eq!(m.mem(&mut c).read_u32(high).unwrap(), 6);
        m.unmap(&mut c, GuestAddr(0), u32::MAX);
        assert_eq!(c.in_use, [0; CHUNKS / 64]);
        assert_eq!(m.prot_at(&c, high), None);
        m.map(&mut c, high, 0x1000, Prot::READ, false);
        assert_eq!(m.mem(&mut c).read_u32(high).unwrap(), 0);
        m.free_space(c);
        assert_eq!(m.frames().frames_in_use(), 2);
        m.unmap(&mut s, low, 0x1000);
        assert_eq!(m.prot_at(&s, GuestAddr(0x40_0000)), Some(Prot::RW));
        m.free_space(s);
        assert_eq!(m.frames().frames_in_use(), 0);
    }

    #[test]
    fn machine_size_is_clamped_to_what_the_host_can_hold() {
        assert_eq!(Machine::len_for(1 << 32), MAX_MACHINE_BYTES);
        assert_eq!(Machine::len_for(u64::MAX), MAX_MACHINE_BYTES);
        assert_eq!(Machine::len_for((64 << 20) + 123), 64 << 20);
        assert!(usize::try_from(MAX_MACHINE_BYTES).is_ok());
        assert_eq!(machine().0.bytes(), 64 << 20);
    }

    /// The last page of the 4 GiB guest space: range ends are computed
    /// in u64, so a mapping that ends exactly at 2^32 neither wraps to
    /// page 0 nor loses its last page.
    #[test]
    fn mapping_ending_at_4_gib() {
        let (mut m, mut s) = machine();
        let top = GuestAddr(0xffff_e000);
        assert_eq!(Machine::pages(top, 0x2000), 0xf_fffe..0x10_0000);
        assert_eq!(Machine::pages(GuestAddr(0), u32::MAX), 0..0x10_0000);
        m.map(&mut s, top, 0x2000, Prot::RW, false);
        assert_eq!(m.prot_at(&s, GuestAddr(0)), None);
        let mut g = m.mem(&mut s);
        g.write_u32(GuestAddr(0xffff_fffc), 0x1122_3344).unwrap();
        g.write_bytes(GuestAddr(0xffff_fff0), &[7; 16]).unwrap();
        g.fill(top, 0x2000 - 16, 9).unwrap();
        let mut all = vec![0; 0x2000];
        g.read_bytes(top, &mut all).unwrap();
        assert!(all[..0x2000 - 16].iter().all(|&b| b == 9));
        assert!(all[0x2000 - 16..].iter().all(|&b| b == 7));
        // One byte more would run past 2^32: refused, nothing written.
        assert!(g.write_bytes(GuestAddr(0xffff_fff0), &[1; 17]).is_err());
        assert!(g.fill(GuestAddr(0xffff_f000), usize::MAX, 1).is_err());
        assert_eq!(g.read_u8(GuestAddr(0xffff_fff0)).unwrap(), 7);
        // A 4-byte access at the very top wraps to page 0 like the CPU.
        let f = g.read_u32(GuestAddr(0xffff_fffe)).unwrap_err();
        assert_eq!(f.addr, GuestAddr(0));
        assert!(m.protect(&mut s, top, 0x2000, Prot::READ));
        assert_eq!(m.prot_at(&s, GuestAddr(0xffff_ffff)), Some(Prot::READ));
        m.free_space(s);
        assert_eq!(m.frames().frames_in_use(), 0);
    }

    #[test]
    fn watched_page_write_is_reported() {
        let (mut m, mut s) = machine();
        m.map(&mut s, GuestAddr(0x1000), 0x1000, Prot::RWX, false);
        m.mem(&mut s).write_u8(GuestAddr(0x1000), 0x90).unwrap();
        m.watch(&s, 1);
        m.mem(&mut s).write_u8(GuestAddr(0x1001), 0x90).unwrap();
        assert_eq!(s.take_code_changes(), vec![1]);
    }
}
