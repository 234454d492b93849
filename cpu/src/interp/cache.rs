//! Decoded basic blocks, cached per address space so each instruction is
//! decoded once.
//!
//! A block starts at a guest EIP and runs to the first control transfer
//! (or a size limit). Pages a block was decoded from are watched: a guest
//! write to them, or an unmap/mprotect, drops every block on that page.
//! A page of a shared mapping can also change through another mapping of
//! its frame (a second view in this address space, as W^X JITs make, or
//! another process) whose entry is not watched: a block from such a page
//! keeps its bytes and is compared with memory each time it is looked up,
//! and decoded again if they differ.
//!
//! Decoding is the cost of code that runs few times, and every new process
//! runs the same ld.so and libc code at the same addresses. Blocks whose
//! extent depends only on their bytes are also kept on a shelf shared by
//! the address spaces of the thread (`SHELF`), by start EIP and first
//! bytes, with their bytes: a cache that misses takes a block from it when memory holds
//! the same bytes there, which is what decoding them would give.

use super::decoded::Decoded;
use super::table;
use crate::addr::{GuestAddr, PAGE_SIZE};
use crate::mem::{GuestMem, PageFault};
use iced_x86::{Decoder, DecoderError, DecoderOptions, FlowControl};
use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::rc::Rc;

/// Most instructions in one block.
const MAX_BLOCK_INSNS: usize = 64;
/// Bytes fetched for decoding a block (plus the longest instruction).
const FETCH_BYTES: usize = 512 + 15;
/// Entries of the direct-mapped lookup in front of the hash map.
const FAST_ENTRIES: usize = 4096;

/// Blocks the shelf holds at most; when full it is emptied.
const SHELF_BLOCKS: usize = 1 << 15;

/// A block on the shelf: its bytes and its instructions.
struct Shelved {
    bytes: Box<[u8]>,
    insns: Rc<[Decoded]>,
}

/// Decoded blocks shared by every [`DecodeCache`] of the thread, by
/// [`shelf_key`]: one block for each EIP and first bytes (another block
/// with the same key replaces it).
#[derive(Default)]
struct Shelf {
    blocks: FastMap<u64, Shelved>,
}

thread_local! {
    static SHELF: RefCell<Shelf> = RefCell::default();
}

/// Where the block at `eip` whose fetch window starts `fetched` goes on
/// the shelf: the EIP and a hash of the window's first 8 bytes (the
/// block's, and those after it if it is shorter), so that blocks of
/// different programs at one EIP seldom take each other's place. None
/// when fewer than 8 bytes could be fetched.
fn shelf_key(eip: u32, fetched: &[u8]) -> Option<u64> {
    let first = u64::from_le_bytes(fetched.get(..8)?.try_into().ok()?);
    let h = (first.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 32) as u32;
    Some(u64::from(h) << 32 | u64::from(eip))
}

impl Shelf {
    /// The instructions of the shelved block at `eip` whose bytes start
    /// `fetched`, and its length in bytes.
    fn find(&self, eip: u32, fetched: &[u8]) -> Option<(Rc<[Decoded]>, usize)> {
        let b = self.blocks.get(&shelf_key(eip, fetched)?)?;
        (fetched.get(..b.bytes.len()) == Some(&b.bytes[..]))
            .then(|| (b.insns.clone(), b.bytes.len()))
    }

    /// Shelves the block at `eip` of `insns`, whose fetch window starts
    /// `fetched` and whose bytes are its first `len`.
    fn put(&mut self, eip: u32, fetched: &[u8], len: usize, insns: Rc<[Decoded]>) {
        let Some(key) = shelf_key(eip, fetched) else {
            return;
        };
        if self.blocks.len() >= SHELF_BLOCKS {
            self.blocks.clear();
        }
        let bytes = fetched[..len].into();
        self.blocks.insert(key, Shelved { bytes, insns });
    }
}

/// A decoded basic block.
pub struct Block {
    /// Shared with the shelf and other address spaces' caches.
    pub insns: Rc<[Decoded]>,
    /// Where the block starts and where its last instruction ends.
    start: u32,
    end: u32,
    /// The blocks that ran after this one, as (EIP, slot): where it falls
    /// through (its end) and the last other one. A hint, checked against
    /// the block in that slot (see [`DecodeCache::next`]).
    next: [(u32, u32); 2],
    /// First and last guest page the block's bytes touch.
    pages: (u32, u32),
    /// The block's bytes, kept when one of its pages is shared (see the
    /// module doc).
    shared: Option<Box<[u8]>>,
}

/// Multiplicative hash for u32 keys (std's SipHash is slow for this).
#[derive(Default)]
pub struct U32Hasher(u64);

impl Hasher for U32Hasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }
    fn write_u32(&mut self, v: u32) {
        self.0 = u64::from(v).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<U32Hasher>>;

/// The decoded-block cache of one address space.
pub struct DecodeCache {
    blocks: Vec<Option<Block>>,
    free_slots: Vec<u32>,
    by_eip: FastMap<u32, u32>,
    by_page: FastMap<u32, Vec<u32>>,
    fast: Box<[(u32, u32)]>,
    /// Where `decode` collects a block's instructions (kept, so decoding
    /// does not grow a vector push by push).
    scratch: Vec<Decoded>,
}

impl Default for DecodeCache {
    fn default() -> Self {
        Self::new()
    }
}

impl DecodeCache {
    /// An empty cache.
    pub fn new() -> DecodeCache {
        DecodeCache {
            blocks: Vec::new(),
            free_slots: Vec::new(),
            by_eip: FastMap::default(),
            by_page: FastMap::default(),
            fast: vec![(u32::MAX, 0); FAST_ENTRIES].into_boxed_slice(),
            scratch: Vec::with_capacity(MAX_BLOCK_INSNS),
        }
    }

    /// Number of cached blocks.
    pub fn len(&self) -> usize {
        self.by_eip.len()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.by_eip.is_empty()
    }

    /// Drops everything (after `execve`, or a change of address space).
    pub fn clear(&mut self) {
        *self = DecodeCache::new();
    }

    /// The start EIPs of the cached blocks that start in guest page
    /// `page`: code that has run since it was last written (or the cache
    /// last cleared).
    pub fn starts_in_page(&self, page: u32) -> Vec<u32> {
        let Some(slots) = self.by_page.get(&page) else {
            return Vec::new();
        };
        slots
            .iter()
            .filter_map(|&s| self.blocks.get(s as usize)?.as_ref())
            .map(|b| b.insns[0].insn.ip32())
            .filter(|eip| eip >> 12 == page)
            .collect()
    }

    /// How many instructions the decoded blocks starting in guest page
    /// `page` hold (blocks may overlap: an estimate of the code that ran
    /// there, for the JIT's cost of translating it).
    pub fn insns_in_page(&self, page: u32) -> usize {
        let Some(slots) = self.by_page.get(&page) else {
            return 0;
        };
        slots
            .iter()
            .filter_map(|&s| self.blocks.get(s as usize)?.as_ref())
            .filter(|b| b.insns[0].insn.ip32() >> 12 == page)
            .map(|b| b.insns.len())
            .sum()
    }

    /// Drops every block that touches one of `pages`.
    pub fn invalidate_pages(&mut self, pages: &[u32]) {
        let mut any = false;
        for page in pages {
            let Some(slots) = self.by_page.remove(page) else {
                continue;
            };
            for slot in slots {
                if let Some(block) = self.blocks[slot as usize].take() {
                    any = true;
                    self.by_eip.remove(&block.start);
                    self.free_slots.push(slot);
                    // Unlink from the other page too.
                    for p in block.pages.0..=block.pages.1 {
                        if p != *page {
                            if let Some(v) = self.by_page.get_mut(&p) {
                                v.retain(|&s| s != slot);
                            }
                        }
                    }
                }
            }
        }
        if any {
            self.fast.fill((u32::MAX, 0));
        }
    }

    /// The block starting at `eip`, decoding it on a miss. A fetch fault on
    /// the first instruction is returned as the error.
    #[inline(always)]
    pub fn get(&mut self, mem: &mut GuestMem<'_>, eip: u32) -> Result<&Block, PageFault> {
        let slot = self.get_slot(mem, eip)?;
        Ok(self.block(slot))
    }

    /// [`DecodeCache::get`], as a slot for [`DecodeCache::block`].
    #[inline(always)]
    pub fn get_slot(&mut self, mem: &mut GuestMem<'_>, eip: u32) -> Result<u32, PageFault> {
        let slot = self.find(mem, eip)?;
        self.checked(mem, eip, slot)
    }

    /// The slot of the block starting at `eip` when the block in slot
    /// `from` ran last: its remembered successors are tried first, so a
    /// run of blocks that follow each other as before skips the lookup.
    /// Use [`DecodeCache::block`] for the block.
    #[inline(always)]
    pub fn next(&mut self, mem: &mut GuestMem<'_>, from: u32, eip: u32) -> Result<u32, PageFault> {
        if let Some(prev) = &self.blocks[from as usize] {
            for (e, s) in prev.next {
                // A remembered slot may since have been dropped or reused:
                // it counts only while it holds the block starting at `eip`
                // (there is at most one).
                if e == eip
                    && self.blocks[s as usize]
                        .as_ref()
                        .is_some_and(|b| b.start == eip)
                {
                    return self.checked(mem, eip, s);
                }
            }
        }
        let slot = self.find(mem, eip)?;
        if let Some(prev) = &mut self.blocks[from as usize] {
            let way = usize::from(prev.end != eip);
            prev.next[way] = (eip, slot);
        }
        self.checked(mem, eip, slot)
    }

    /// The block in `slot` (from [`DecodeCache::next`]).
    #[inline(always)]
    pub fn block(&self, slot: u32) -> &Block {
        self.blocks[slot as usize].as_ref().expect("live block")
    }

    /// The slot of the block starting at `eip`, through the direct-mapped
    /// table, then the map, else decoded.
    #[inline(always)]
    fn find(&mut self, mem: &mut GuestMem<'_>, eip: u32) -> Result<u32, PageFault> {
        let fast = (eip as usize ^ (eip as usize >> 12)) % FAST_ENTRIES;
        let (key, slot) = self.fast[fast];
        if key == eip {
            return Ok(slot);
        }
        let slot = match self.by_eip.get(&eip) {
            Some(&s) => s,
            None => self.decode(mem, eip)?,
        };
        self.fast[fast] = (eip, slot);
        Ok(slot)
    }

    /// `slot` (holding the block at `eip`), or the slot of that block
    /// decoded again if it came from a shared page whose bytes changed.
    #[inline(always)]
    fn checked(&mut self, mem: &mut GuestMem<'_>, eip: u32, slot: u32) -> Result<u32, PageFault> {
        if self.block(slot).shared.is_some() {
            return self.recheck(mem, eip, slot);
        }
        Ok(slot)
    }

    /// A block from a shared page: still its bytes, or decoded again.
    #[cold]
    fn recheck(&mut self, mem: &mut GuestMem<'_>, eip: u32, slot: u32) -> Result<u32, PageFault> {
        let block = self.blocks[slot as usize].as_ref().expect("live block");
        let kept = block.shared.as_deref().unwrap_or_default();
        let mut now = [0u8; FETCH_BYTES];
        let (got, _) = mem.fetch(GuestAddr(eip), &mut now[..kept.len()]);
        if got == kept.len() && now[..got] == *kept {
            return Ok(slot);
        }
        let pages: Vec<u32> = (block.pages.0..=block.pages.1).collect();
        self.invalidate_pages(&pages);
        let slot = self.decode(mem, eip)?;
        self.fast[(eip as usize ^ (eip as usize >> 12)) % FAST_ENTRIES] = (eip, slot);
        Ok(slot)
    }

    #[cold]
    fn decode(&mut self, mem: &mut GuestMem<'_>, eip: u32) -> Result<u32, PageFault> {
        let mut buf = [0u8; FETCH_BYTES];
        let (got, fault) = mem.fetch(GuestAddr(eip), &mut buf);
        let (insns, end) = match SHELF.with(|s| s.borrow().find(eip, &buf[..got])) {
            Some((insns, len)) => (insns, eip.wrapping_add(len as u32)),
            None => self.decode_bytes(eip, &buf, got, fault)?,
        };
        self.install(mem, eip, end, insns, &buf)
    }

    /// Decodes the block at `eip` from the `got` bytes fetched into `buf`
    /// (`fault`: why the fetch stopped short), and shelves it if its
    /// extent depends on its bytes only.
    fn decode_bytes(
        &mut self,
        eip: u32,
        buf: &[u8; FETCH_BYTES],
        got: usize,
        fault: Option<PageFault>,
    ) -> Result<(Rc<[Decoded]>, u32), PageFault> {
        let mut decoder = Decoder::with_ip(32, &buf[..got], u64::from(eip), DecoderOptions::NONE);
        let mut insns = std::mem::take(&mut self.scratch);
        insns.clear();
        let mut end = eip;
        // The block ends at a valid control transfer or at the most
        // instructions a block holds: what its bytes decide, not the fetch.
        let mut intrinsic = false;
        while insns.len() < MAX_BLOCK_INSNS && decoder.can_decode() {
            let insn = decoder.decode();
            if decoder.last_error() == DecoderError::NoMoreBytes {
                break;
            }
            end = insn.next_ip32();
            let stop = insn.flow_control() != FlowControl::Next || insn.is_invalid();
            insns.push(Decoded::new(insn, table::handler(&insn)));
            // Stop at a control transfer, and before running off a fetch
            // window that may not be the whole story.
            if stop {
                intrinsic = !insn.is_invalid();
                break;
            }
            if decoder.position() + 15 > got && fault.is_none() && got == FETCH_BYTES {
                break;
            }
            intrinsic = insns.len() == MAX_BLOCK_INSNS;
        }
        if insns.is_empty() {
            self.scratch = insns;
            // The first instruction's bytes could not all be fetched.
            return Err(fault.unwrap_or(PageFault {
                addr: GuestAddr(eip.wrapping_add(got as u32)),
                access: crate::mem::Access::Exec,
                protection: false,
                out_of_memory: false,
            }));
        }
        // One allocation of the exact size.
        let decoded: Rc<[Decoded]> = Rc::from(&insns[..]);
        self.scratch = insns;
        let len = end.wrapping_sub(eip) as usize;
        // A block that ends 15 bytes or more before a whole fetch window
        // would never meet the window's end either (see `decode`).
        if intrinsic && len + 15 <= FETCH_BYTES {
            SHELF.with(|s| s.borrow_mut().put(eip, &buf[..got], len, decoded.clone()));
        }
        Ok((decoded, end))
    }

    /// Files the block of `insns` at `eip..end` (its bytes at the start of
    /// `buf`) in this cache and watches its pages.
    fn install(
        &mut self,
        mem: &mut GuestMem<'_>,
        eip: u32,
        end: u32,
        insns: Rc<[Decoded]>,
        buf: &[u8; FETCH_BYTES],
    ) -> Result<u32, PageFault> {
        let first = eip / PAGE_SIZE;
        let last = end.wrapping_sub(1) / PAGE_SIZE;
        let pages = (first, last.max(first));
        let mut shared = false;
        for p in pages.0..=pages.1 {
            mem.watch(p);
            shared |= mem.is_shared(p);
        }
        let len = end.wrapping_sub(eip) as usize;
        let block = Block {
            insns,
            start: eip,
            end,
            next: [(u32::MAX, 0); 2],
            pages,
            shared: shared.then(|| buf[..len].to_vec().into_boxed_slice()),
        };
        let slot = match self.free_slots.pop() {
            Some(s) => {
                self.blocks[s as usize] = Some(block);
                s
            }
            None => {
                self.blocks.push(Some(block));
                (self.blocks.len() - 1) as u32
            }
        };
        self.by_eip.insert(eip, slot);
        for p in pages.0..=pages.1 {
            self.by_page.entry(p).or_default().push(slot);
        }
        Ok(slot)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mem::{Machine, Prot};

    /// A space with `code` at `at`, in `len` bytes of RWX memory from the
    /// page holding `at`.
    fn space_with(m: &mut Machine, at: u32, len: u32, code: &[u8]) -> crate::mem::AddressSpace {
        let mut s = m.new_space().unwrap();
        m.map(&mut s, GuestAddr(at & !0xfff), len, Prot::RWX, false);
        m.mem(&mut s).write_bytes(GuestAddr(at), code).unwrap();
        s
    }

    #[test]
    fn a_second_space_with_the_same_bytes_takes_the_shelved_block() {
        let mut m = Machine::new(32 << 20);
        // inc eax; inc ebx; ret
        let mut a = space_with(&mut m, 0x5000, 0x1000, &[0x40, 0x43, 0xc3]);
        let mut b = space_with(&mut m, 0x5000, 0x1000, &[0x40, 0x43, 0xc3]);
        // inc eax; ret
        let mut c = space_with(&mut m, 0x5000, 0x1000, &[0x40, 0xc3]);
        let (mut ca, mut cb, mut cc) = (DecodeCache::new(), DecodeCache::new(), DecodeCache::new());
        let ia = ca.get(&mut m.mem(&mut a), 0x5000).unwrap().insns.clone();
        let ib = cb.get(&mut m.mem(&mut b), 0x5000).unwrap().insns.clone();
        let ic = cc.get(&mut m.mem(&mut c), 0x5000).unwrap().insns.clone();
        assert_eq!(ia.len(), 3);
        assert!(Rc::ptr_eq(&ia, &ib));
        assert_eq!(ic.len(), 2);
        assert!(!Rc::ptr_eq(&ia, &ic));
        // The page is watched in b as if b had decoded it: a write there
        // drops b's block, and the new bytes are decoded.
        m.mem(&mut b)
            .write_bytes(GuestAddr(0x5001), &[0xc3])
            .unwrap();
        let changed = b.take_code_changes();
        cb.invalidate_pages(&changed);
        assert_eq!(cb.get(&mut m.mem(&mut b), 0x5000).unwrap().insns.len(), 2);
        for s in [a, b, c] {
            m.free_space(s);
        }
    }

    #[test]
    fn a_block_cut_short_by_a_fetch_fault_is_not_shelved() {
        let mut m = Machine::new(32 << 20);
        // inc eax; inc eax, at the end of the only mapped page.
        let mut a = space_with(&mut m, 0x7ffe, 0x1000, &[0x40, 0x40]);
        // The same, then inc ebx; ret on the next page.
        let mut b = space_with(&mut m, 0x7ffe, 0x2000, &[0x40, 0x40, 0x43, 0xc3]);
        let (mut ca, mut cb) = (DecodeCache::new(), DecodeCache::new());
        assert_eq!(ca.get(&mut m.mem(&mut a), 0x7ffe).unwrap().insns.len(), 2);
        assert_eq!(cb.get(&mut m.mem(&mut b), 0x7ffe).unwrap().insns.len(), 4);
        m.free_space(a);
        m.free_space(b);
    }
}
