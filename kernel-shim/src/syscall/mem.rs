//! Memory system calls: brk, mmap, munmap, mprotect, mremap, madvise,
//! msync, mincore, mlock and friends, with the mapping list (`memory/mm.rs`)
//! kept in step with the page table.
//!
//! Private file mappings that cannot be written, of files whose handle
//! offers a page reader (`FileHandle::page_source`: host files), copy
//! nothing at mmap: each page is read when first touched, by guest code or
//! by the kernel, with up to 15 following pages (`Machine::map_file`);
//! ld.so maps each library whole, and a short run touches few of its
//! pages. Such a page not yet touched shows later writes to the file, as
//! on Linux. Other file mappings are filled by copying the file's bytes
//! into the new pages, except pages already in the page cache (`memory/pagecache.rs`: the
//! frames of existing MAP_SHARED mappings of the node), which map the
//! cached frame: shared, so separate MAP_SHARED mappings in any process
//! see each other's stores, or copy-on-write for MAP_PRIVATE, so untouched
//! private pages follow the file. A MAP_SHARED file mapping's pages are
//! shared frames (fork keeps them shared), and its contents are written
//! back to the file on msync, munmap, exec and exit. The VFS does not read
//! through the cache; instead read(2), write(2) and truncate of a file
//! first write back its writable shared mappings, and a write or truncate
//! then reloads them ([`Kernel::flush_shared_of`],
//! [`Kernel::refresh_shared_of`]), so read/write and MAP_SHARED agree. Not
//! done: a write(2) does not reach untouched MAP_PRIVATE pages of a file
//! that no MAP_SHARED mapping holds (they are copies). mremap moves
//! frames, never contents, so a moved shared mapping stays shared. A
//! MAP_FIXED private mapping over a never-writable private mapping of the
//! same file bytes, with no file written since (`Vfs::content_writes`),
//! keeps its pages and changes only their protection: ld.so maps each
//! library whole, then its segments over that. Whole pages past the end of the
//! file are left out of the page table (truncate adjusts them); a touch
//! there raises SIGBUS ([`Kernel::fault_signal`]).
//!
//! mlock and friends are `misc::sys_ok`: nothing is ever paged out.
//!
//! Guest memory is committed lazily, like Linux's overcommit; a single
//! request larger than the machine's memory fails with ENOMEM, as Linux's
//! heuristic overcommit refuses one larger than RAM and swap.

use super::{Args, Outcome, SysOutcome, SysResult};
use crate::abi::errno::{Errno, KResult};
use crate::abi::mman::{
    MAP_ANONYMOUS, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_PRIVATE, MAP_SHARED, MAP_SHARED_VALIDATE,
    MAP_TYPE, MREMAP_FIXED, MREMAP_MAYMOVE, PROT_EXEC, PROT_READ, PROT_WRITE,
};
use crate::abi::persona::READ_IMPLIES_EXEC;
use crate::kernel::Kernel;
use crate::memory::elf::TASK_SIZE;
use crate::memory::mm::{self, page_up, MapFile, Vma};
use crate::memory::pagecache::NodeKey;
use crate::signals::SigInfo;
use crate::vfs::file::FileRef;
use crate::vfs::Attr;

use wax_cpu::{GuestAddr, Prot, PAGE_SIZE};

fn aligned(a: u32) -> bool {
    a.is_multiple_of(PAGE_SIZE)
}

fn proc_slot(k: &mut Kernel) -> usize {
    k.thread().process
}

/// Whether a request of `bytes` can ever be backed by machine memory.
fn fits(k: &Kernel, bytes: u64) -> bool {
    bytes <= k.machine_bytes()
}

pub fn sys_brk(k: &mut Kernel, a: &Args) -> SysResult {
    let want = a[0];
    let p = proc_slot(k);
    let (brk_start, brk) = (k.tasks.proc(p).mm.brk_start, k.tasks.proc(p).mm.brk);
    if want < brk_start {
        return Ok(brk);
    }
    let old_end = page_up(u64::from(brk)) as u32;
    let new_end = page_up(u64::from(want));
    if new_end > u64::from(mm::MMAP_TOP) || !fits(k, new_end - u64::from(brk_start)) {
        return Ok(brk);
    }
    let new_end = new_end as u32;
    let proc = k.tasks.proc_mut(p);
    if new_end > old_end {
        let grow = new_end - old_end;
        if !mm::range_free_in(&mut k.machine, &proc.space, &proc.mm, old_end, grow) {
            return Ok(brk);
        }
        mm::map_anon(&mut k.machine, &mut proc.space, old_end, grow, Prot::RW);
    } else if new_end < old_end {
        k.machine
            .unmap(&mut proc.space, GuestAddr(new_end), old_end - new_end);
    }
    proc.mm.brk = want;
    Ok(want)
}

/// The open file a mapping copies from, and what /proc shows for it.
fn map_source(k: &mut Kernel, fd: u32, shared_write: bool) -> KResult<(MapFile, Option<Attr>)> {
    let file = k.proc().fds.file(fd)?;
    let f = file.borrow();
    if !f.can_read() || (shared_write && !f.can_write()) {
        return Err(Errno::EACCES);
    }
    if f.handle.as_ref().is_none_or(|h| h.is_stream()) {
        return Err(Errno::ENODEV);
    }
    let attr = match f.node {
        Some(_) => f.attr(&mut k.vfs).ok(),
        None => f.handle.as_ref().and_then(|h| h.stat()),
    };
    let path = f.location.as_ref().map(|l| l.path()).unwrap_or_default();
    drop(f);
    let a = attr.unwrap_or_default();
    let map = MapFile {
        file,
        path,
        dev: a.dev,
        ino: a.ino,
        size: a.size,
    };
    Ok((map, attr))
}

/// Whether every page of `start..start + size` belongs to a pristine
/// private mapping (`Vma::pristine`) of the file whose attributes are
/// `now`, at the file offsets a new mapping from `offset` gives them:
/// the pages already hold what that mapping would read (ld.so maps a
/// library whole, then its segments over it with MAP_FIXED).
fn holds_file_bytes(k: &mut Kernel, start: u32, size: u32, now: &Attr, offset: u64) -> bool {
    let end = u64::from(start) + u64::from(size);
    let mut at = u64::from(start);
    let writes_now = k.vfs.content_writes;
    for v in &k.proc().mm.vmas {
        if u64::from(v.end) <= at || u64::from(v.start) >= end {
            continue;
        }
        let Some((then, writes)) = &v.pristine else {
            return false;
        };
        let same_file = *writes == writes_now
            && (then.dev, then.ino, then.size, then.mtime, then.ctime)
                == (now.dev, now.ino, now.size, now.mtime, now.ctime);
        if u64::from(v.start) > at
            || v.shared
            || !same_file
            || v.offset_of(at as u32) != offset + (at - u64::from(start))
        {
            return false;
        }
        at = u64::from(v.end);
        if at >= end {
            return true;
        }
    }
    false
}

/// Where a new mapping of `size` bytes goes.
fn place(k: &mut Kernel, addr: u32, size: u32, flags: u32) -> KResult<u32> {
    let p = proc_slot(k);
    let proc = k.tasks.proc(p);
    if flags & (MAP_FIXED | MAP_FIXED_NOREPLACE) != 0 {
        if !aligned(addr) || u64::from(addr) + u64::from(size) > u64::from(TASK_SIZE) {
            return Err(Errno::EINVAL);
        }
        let free = mm::range_free_in(&mut k.machine, &proc.space, &proc.mm, addr, size);
        if flags & MAP_FIXED == 0 && !free {
            return Err(Errno::EEXIST);
        }
        return Ok(addr);
    }
    let hint = addr & !(PAGE_SIZE - 1);
    mm::find_free_in(&mut k.machine, &proc.space, &proc.mm, size, hint).ok_or(Errno::ENOMEM)
}

fn mmap(
    k: &mut Kernel,
    addr: u32,
    len: u32,
    prot: u32,
    flags: u32,
    fd: u32,
    pgoff: u64,
) -> SysResult {
    let prot = with_implied_exec(k, prot);
    let kind = flags & MAP_TYPE;
    if len == 0 || !(kind == MAP_SHARED || kind == MAP_PRIVATE || kind == MAP_SHARED_VALIDATE) {
        return Err(Errno::EINVAL.into());
    }
    let size = page_up(u64::from(len));
    if size > u64::from(TASK_SIZE) || !fits(k, size) {
        return Err(Errno::ENOMEM.into());
    }
    let size = size as u32;
    let shared = kind != MAP_PRIVATE;
    let (source, attr) = if flags & MAP_ANONYMOUS == 0 {
        let (s, a) = map_source(k, fd, shared && prot & 2 != 0)?;
        (Some(s), a)
    } else {
        (None, None)
    };
    let start = place(k, addr, size, flags)?;
    let offset = pgoff * u64::from(PAGE_SIZE);
    let keep = match &attr {
        Some(a) if !shared && flags & MAP_FIXED != 0 && source.is_some() => {
            holds_file_bytes(k, start, size, a, offset)
        }
        _ => false,
    };
    if keep {
        // Private, never written: nothing to write back.
        let p = proc_slot(k);
        k.tasks.proc_mut(p).mm.remove(start, start + size);
    } else {
        unmap_range(k, start, size)?;
    }
    let vma = Vma {
        start,
        end: start + size,
        prot: prot & 7,
        shared,
        file: source,
        offset,
        // Unique while the mapping lives: pid and address at creation.
        share_id: u64::from(k.proc().pid) << 32 | u64::from(start),
        dontfork: false,
        pristine: attr
            .filter(|_| !shared && prot & PROT_WRITE == 0)
            .map(|a| (a, k.vfs.content_writes)),
    };
    if keep {
        reprotect(k, &vma);
    } else {
        populate(k, &vma, start, vma.end)?;
    }
    let p = proc_slot(k);
    k.tasks.proc_mut(p).mm.insert(vma);
    Ok(start)
}

/// Creates the pages of `from..to` in `vma`: zeroed for anonymous
/// memory; for a file, its bytes up to the last page that holds any
/// (the pages after it stay absent: SIGBUS).
fn populate(k: &mut Kernel, vma: &Vma, from: u32, to: u32) -> KResult<()> {
    let p = proc_slot(k);
    let space = &mut k.tasks.proc_mut(p).space;
    let Some(f) = &vma.file else {
        k.machine.map(
            space,
            GuestAddr(from),
            to - from,
            Prot(vma.prot),
            vma.shared,
        );
        return Ok(());
    };
    let off = vma.offset_of(from);
    let in_file = page_up(f.size.saturating_sub(off)).min(u64::from(to - from)) as u32;
    if in_file == 0 {
        return Ok(());
    }
    if let Some(source) = lazy_source(k, vma) {
        // Read page by page as they are touched: ld.so maps each library
        // whole, and a short run touches few of its pages.
        let space = &mut k.tasks.proc_mut(p).space;
        let index = off / u64::from(PAGE_SIZE);
        k.machine.map_file(
            space,
            GuestAddr(from),
            in_file,
            Prot(vma.prot),
            source,
            index,
        );
        return Ok(());
    }
    let space = &mut k.tasks.proc_mut(p).space;
    k.machine
        .map(space, GuestAddr(from), in_file, Prot::RW, vma.shared);
    let file = f.file.clone();
    copy_in(k, &file, from, in_file, off)?;
    let space = &mut k.tasks.proc_mut(p).space;
    k.machine
        .protect(space, GuestAddr(from), in_file, Prot(vma.prot));
    let node = file.try_borrow().ok().and_then(|f| f.node);
    if let Some(node) = node {
        use_cached(k, vma, node, from, from + in_file);
    }
    Ok(())
}

/// Where the pages of file mapping `vma` can be read when first touched,
/// if they need not be copied now: a private mapping that cannot be
/// written (a write would need the page first anyway, and writable private
/// pages are few), of a file none of whose pages are in the page cache
/// (those map the cached frames), whose handle offers a page reader.
fn lazy_source(k: &Kernel, vma: &Vma) -> Option<std::rc::Rc<dyn wax_cpu::mem::PageSource>> {
    let f = vma.file.as_ref()?;
    if vma.shared || vma.prot & PROT_WRITE != 0 {
        return None;
    }
    let file = f.file.try_borrow().ok()?;
    if file.node.is_some_and(|n| k.node_cached(n)) {
        return None;
    }
    file.handle.as_ref()?.page_source()
}

/// Gives the pages a pristine mapping left (see `holds_file_bytes`) the
/// protection of `vma`, which maps the same bytes, then the page cache's
/// frames as `populate` would.
fn reprotect(k: &mut Kernel, vma: &Vma) {
    let p = proc_slot(k);
    let space = &mut k.tasks.proc_mut(p).space;
    for page in (vma.start..vma.end).step_by(PAGE_SIZE as usize) {
        let at = GuestAddr(page);
        if k.machine.prot_at(space, at).is_some() {
            k.machine.protect(space, at, PAGE_SIZE, Prot(vma.prot));
        }
    }
    let Some(f) = &vma.file else {
        return;
    };
    let in_file = page_up(f.size.saturating_sub(vma.offset)).min(u64::from(vma.end - vma.start));
    let node = f.file.try_borrow().ok().and_then(|f| f.node);
    if let Some(node) = node {
        use_cached(k, vma, node, vma.start, vma.start + in_file as u32);
    }
}

/// Replaces the pages of `from..to` in file mapping `vma` whose file
/// page is in the page cache by the cached frame (shared, or
/// copy-on-write for a private mapping): the copy just made may be older
/// than a shared mapping's unsaved stores.
fn use_cached(k: &mut Kernel, vma: &Vma, node: NodeKey, from: u32, to: u32) {
    if !k.node_cached(node) {
        return;
    }
    let p = proc_slot(k);
    for addr in (from..to).step_by(PAGE_SIZE as usize) {
        let index = vma.offset_of(addr) / u64::from(PAGE_SIZE);
        let Some(frame) = k.cached_frame(node, index) else {
            continue;
        };
        let space = &mut k.tasks.proc_mut(p).space;
        k.machine
            .map_frame(space, GuestAddr(addr), frame, Prot(vma.prot), vma.shared);
    }
}

/// Copies file bytes from `off` into the new mapping at `start`, read
/// straight into its frames; the pages past the end of the file stay zero.
fn copy_in(k: &mut Kernel, file: &FileRef, start: u32, size: u32, off: u64) -> KResult<()> {
    let mut f = file.borrow_mut();
    let h = f.handle.as_mut().ok_or(Errno::ENODEV)?;
    let mut failed = None;
    k.mem()
        .fill_with(GuestAddr(start), size as usize, |chunk, at| {
            let mut got = 0;
            while got < chunk.len() {
                match h.read_at(off + (at + got) as u64, &mut chunk[got..]) {
                    Ok(0) => return false,
                    Ok(n) => got += n,
                    Err(e) => {
                        failed = Some(e);
                        return false;
                    }
                }
            }
            true
        })
        .map_err(|_| Errno::ENOMEM)?;
    failed.map_or(Ok(()), Err)
}

pub fn sys_mmap2(k: &mut Kernel, a: &Args) -> SysResult {
    mmap(k, a[0], a[1], a[2], a[3], a[4], u64::from(a[5]))
}

/// The old `mmap`: one pointer to the six arguments, a byte offset.
pub fn sys_old_mmap(k: &mut Kernel, a: &Args) -> SysResult {
    let mut v = [0u32; 6];
    let mut m = k.mem();
    for (i, x) in v.iter_mut().enumerate() {
        *x = m.read_u32(GuestAddr(a[0] + i as u32 * 4))?;
    }
    if !aligned(v[5]) {
        return Err(Errno::EINVAL.into());
    }
    mmap(k, v[0], v[1], v[2], v[3], v[4], u64::from(v[5] / PAGE_SIZE))
}

/// Writes a shared file mapping's pages in `from..to` back to the file.
fn write_back(k: &mut Kernel, p: usize, v: &Vma, from: u32, to: u32) {
    if let Err(e) = try_write_back(k, p, v, from, to) {
        // Nobody to tell now (munmap, exit): the file's next fsync or
        // msync reports it, and the host hears of it if none does.
        tracing::warn!("writing a shared mapping back failed: {}", e.text());
        if let Some(node) = v.file.as_ref().and_then(|f| f.file.borrow().node) {
            k.files.lose_write(node, e);
        }
    }
}

/// [`write_back`] that stops at the first failure and returns it.
fn try_write_back(k: &mut Kernel, p: usize, v: &Vma, from: u32, to: u32) -> KResult<()> {
    let Some(f) = v.file.as_ref().filter(|_| v.shared) else {
        return Ok(());
    };
    k.vfs.content_writes += 1;
    // A shared mapping of a file opened read-only can never have been
    // written (mmap and mprotect refuse PROT_WRITE for it): nothing to
    // write back, and its descriptor could not.
    if !f.file.borrow().can_write() {
        return Ok(());
    }
    let mut page = vec![0u8; PAGE_SIZE as usize];
    for addr in (from.max(v.start)..to.min(v.end)).step_by(PAGE_SIZE as usize) {
        let off = v.offset_of(addr);
        if off >= f.size {
            break;
        }
        let space = &mut k.tasks.proc_mut(p).space;
        if k.machine.prot_at(space, GuestAddr(addr)).is_none() {
            continue;
        }
        let n = (f.size - off).min(u64::from(PAGE_SIZE)) as usize;
        // A PROT_NONE page cannot be read here; its contents were
        // written back when it was made inaccessible or never changed.
        if k.machine
            .mem(space)
            .read_bytes(GuestAddr(addr), &mut page[..n])
            .is_err()
        {
            continue;
        }
        if let Some(h) = f.file.borrow_mut().handle.as_mut() {
            h.write_at(off, &page[..n])?;
        }
    }
    Ok(())
}

/// Reloads the present pages of shared file mapping `v` of process `p`
/// from the file (bytes past its end read as zero).
fn refresh(k: &mut Kernel, p: usize, v: &Vma) {
    let Some(f) = v.file.as_ref() else { return };
    let mut page = vec![0u8; PAGE_SIZE as usize];
    for addr in (v.start..v.end).step_by(PAGE_SIZE as usize) {
        let space = &mut k.tasks.proc_mut(p).space;
        let Some(prot) = k.machine.prot_at(space, GuestAddr(addr)) else {
            continue;
        };
        page.fill(0);
        let mut done = 0;
        while done < page.len() {
            let r = match f.file.borrow_mut().handle.as_mut() {
                Some(h) => h.read_at(v.offset_of(addr) + done as u64, &mut page[done..]),
                None => Ok(0),
            };
            match r {
                Ok(n) if n > 0 => done += n,
                _ => break,
            }
        }
        let space = &mut k.tasks.proc_mut(p).space;
        k.machine
            .protect(space, GuestAddr(addr), PAGE_SIZE, Prot::RW);
        let _ = k.machine.mem(space).write_bytes(GuestAddr(addr), &page);
        k.machine.protect(space, GuestAddr(addr), PAGE_SIZE, prot);
    }
}

/// Removes `start..start+len` from the mapping list and the page table,
/// writing shared file pages back first.
fn unmap_range(k: &mut Kernel, start: u32, len: u32) -> KResult<()> {
    let p = proc_slot(k);
    let end = start.saturating_add(len);
    let gone = k.tasks.proc_mut(p).mm.remove(start, end);
    for v in &gone {
        write_back(k, p, v, v.start, v.end);
    }
    k.machine
        .unmap(&mut k.tasks.proc_mut(p).space, GuestAddr(start), len);
    Ok(())
}

pub fn sys_munmap(k: &mut Kernel, a: &Args) -> SysResult {
    let (addr, len) = (a[0], a[1]);
    if !aligned(addr) || len == 0 || u64::from(addr) + u64::from(len) > u64::from(TASK_SIZE) {
        return Err(Errno::EINVAL.into());
    }
    unmap_range(k, addr, page_up(u64::from(len)) as u32)?;
    Ok(0)
}

/// Whether every page of `start..end` is mapped (in the page table, or
/// in the mapping list past a file's end).
fn all_mapped(k: &mut Kernel, start: u32, end: u64) -> bool {
    let p = proc_slot(k);
    let proc = k.tasks.proc(p);
    (u64::from(start)..end)
        .step_by(PAGE_SIZE as usize)
        .all(|a| {
            let a = a as u32;
            k.machine.prot_at(&proc.space, GuestAddr(a)).is_some() || proc.mm.find(a).is_some()
        })
}

/// `prot` with PROT_EXEC added where the persona has READ_IMPLIES_EXEC
/// and `prot` has PROT_READ, as Linux's mmap and mprotect do.
fn with_implied_exec(k: &mut Kernel, prot: u32) -> u32 {
    if prot & PROT_READ != 0 && k.proc().personality & READ_IMPLIES_EXEC != 0 {
        prot | PROT_EXEC
    } else {
        prot
    }
}

pub fn sys_mprotect(k: &mut Kernel, a: &Args) -> SysResult {
    let (addr, len, prot) = (a[0], a[1], a[2]);
    if !aligned(addr) || prot & !0x7 & !0x0300_0000 != 0 {
        return Err(Errno::EINVAL.into());
    }
    if len == 0 {
        return Ok(0);
    }
    let prot = with_implied_exec(k, prot);
    let end = page_up(u64::from(addr) + u64::from(len));
    if end > u64::from(TASK_SIZE) || !all_mapped(k, addr, end) {
        return Err(Errno::ENOMEM.into());
    }
    let p = proc_slot(k);
    let proc = k.tasks.proc_mut(p);
    for page in (u64::from(addr)..end).step_by(PAGE_SIZE as usize) {
        let at = GuestAddr(page as u32);
        if k.machine.prot_at(&proc.space, at).is_some() {
            k.machine
                .protect(&mut proc.space, at, PAGE_SIZE, Prot(prot & 7));
        }
    }
    proc.mm.protect(addr, end as u32, prot & 7);
    Ok(0)
}

pub fn sys_mremap(k: &mut Kernel, a: &Args) -> SysResult {
    let (old, old_len, new_len, flags, fixed) = (a[0], a[1], a[2], a[3], a[4]);
    let bad_flags = flags & !(MREMAP_MAYMOVE | MREMAP_FIXED) != 0
        || (flags & MREMAP_FIXED != 0 && flags & MREMAP_MAYMOVE == 0);
    if !aligned(old) || new_len == 0 || bad_flags {
        return Err(Errno::EINVAL.into());
    }
    // Rounded up, a length can be 4 GiB: u64 until checked (as the
    // 64-bit kernel under a 32-bit task keeps it).
    let old_size = page_up(u64::from(old_len));
    let new_size = page_up(u64::from(new_len));
    // Linux before 6.17 says ENOMEM past TASK_SIZE too; later, EINVAL.
    if new_size > u64::from(TASK_SIZE) || !fits(k, new_size) {
        return Err(Errno::ENOMEM.into());
    }
    let p = proc_slot(k);
    let proc = k.tasks.proc(p);
    let prot = k
        .machine
        .prot_at(&proc.space, GuestAddr(old))
        .or_else(|| proc.mm.find(old).map(|v| Prot(v.prot)))
        .ok_or(Errno::EFAULT)?;
    // A shrink unmaps the tail, which munmap's range check must accept.
    if old_size > new_size && u64::from(old) + old_size > u64::from(TASK_SIZE) {
        return Err(Errno::EINVAL.into());
    }
    // Both now fit in u32: old_size is at most new_size or TASK_SIZE - old.
    let (old_size, new_size) = (old_size as u32, new_size as u32);
    if old_size == new_size && flags & MREMAP_FIXED == 0 {
        // Linux returns at once, even if the range ends past TASK_SIZE.
        return Ok(old);
    }
    // Shrinking in place only unmaps the tail; anything else works on
    // one mapping and fails with EFAULT when the range leaves it (Linux
    // before 6.17 for MREMAP_FIXED too; 6.17 lets a same-size move span
    // several mappings).
    let shrinks = flags & MREMAP_FIXED == 0 && new_size <= old_size;
    if !shrinks && !inside_one_mapping(k, old, old_size.min(new_size)) {
        return Err(Errno::EFAULT.into());
    }
    if flags & MREMAP_FIXED != 0 {
        return move_mapping(k, old, old_size, new_size, prot, Some(fixed));
    }
    if new_size <= old_size {
        unmap_range(k, old + new_size, old_size - new_size)?;
        return Ok(old);
    }
    let grow = new_size - old_size;
    let proc = k.tasks.proc(p);
    let fits_in_place = u64::from(old) + u64::from(new_size) <= u64::from(mm::MMAP_TOP)
        && mm::range_free_in(&mut k.machine, &proc.space, &proc.mm, old + old_size, grow);
    if fits_in_place {
        grow_in_place(k, old, old_size, grow, prot)?;
        return Ok(old);
    }
    if flags & MREMAP_MAYMOVE == 0 {
        return Err(Errno::ENOMEM.into());
    }
    move_mapping(k, old, old_size, new_size, prot, None)
}

/// Whether `start..start+len` lies inside the one mapping that holds
/// `start`: merged mapping records, or for memory the loader mapped
/// (which has no record) pages that are all present.
fn inside_one_mapping(k: &mut Kernel, start: u32, len: u32) -> bool {
    let end = u64::from(start) + u64::from(len);
    let p = proc_slot(k);
    match k.tasks.proc(p).mm.extent_end(start) {
        Some(e) => end <= u64::from(e),
        None => all_mapped(k, start, end) && !k.tasks.proc(p).mm.overlaps(start, end),
    }
}

/// Extends the mapping at `old` by `grow` bytes after its end.
fn grow_in_place(k: &mut Kernel, old: u32, old_size: u32, grow: u32, prot: Prot) -> KResult<()> {
    let p = proc_slot(k);
    let end = old + old_size;
    let vma = k
        .tasks
        .proc(p)
        .mm
        .find(end - 1)
        .cloned()
        .filter(|v| v.end == end);
    let Some(mut v) = vma else {
        // Memory the loader mapped (no mapping record): anonymous.
        let space = &mut k.tasks.proc_mut(p).space;
        k.machine.map(space, GuestAddr(end), grow, prot, false);
        return Ok(());
    };
    populate(k, &v, end, end + grow)?;
    v.end = end + grow;
    k.tasks.proc_mut(p).mm.insert(v);
    Ok(())
}

/// Moves `old..old+old_size` to a new place (`to`, or a free range) of
/// `new_size` bytes: the frames move (shared pages stay shared with
/// other mappings, private ones keep their copy-on-write state), the
/// records follow them, and a grown tail is filled like a new mapping.
fn move_mapping(
    k: &mut Kernel,
    old: u32,
    old_size: u32,
    new_size: u32,
    prot: Prot,
    to: Option<u32>,
) -> SysResult {
    let new = move_target(k, old, old_size, new_size, to)?;
    let p = proc_slot(k);
    let kept = old_size.min(new_size);
    let moved: Vec<Vma> = k.tasks.proc_mut(p).mm.remove(old, old + kept);
    // The tail of a shrinking move goes as munmap would (written back).
    unmap_range(k, old + kept, old_size - kept)?;
    move_frames(k, &moved, old, new, kept);
    k.machine
        .unmap(&mut k.tasks.proc_mut(p).space, GuestAddr(old), kept);
    let mut last = None;
    for mut v in moved {
        v.start = new + (v.start - old);
        v.end = new + (v.end - old);
        last = Some(v.clone());
        k.tasks.proc_mut(p).mm.insert(v);
    }
    if new_size > kept {
        // The grown tail belongs to the last mapping (a file's bytes).
        match last.filter(|v| v.end == new + kept) {
            Some(mut v) => {
                populate(k, &v, new + kept, new + new_size)?;
                v.end = new + new_size;
                k.tasks.proc_mut(p).mm.insert(v);
            }
            None => {
                let space = &mut k.tasks.proc_mut(p).space;
                let tail = GuestAddr(new + kept);
                k.machine.map(space, tail, new_size - kept, prot, false);
            }
        }
    }
    Ok(new)
}

/// Where mremap moves a mapping: `to` (MREMAP_FIXED, emptied first) or
/// a free range.
fn move_target(
    k: &mut Kernel,
    old: u32,
    old_size: u32,
    new_size: u32,
    to: Option<u32>,
) -> KResult<u32> {
    let Some(t) = to else {
        let p = proc_slot(k);
        let proc = k.tasks.proc(p);
        return mm::find_free_in(&mut k.machine, &proc.space, &proc.mm, new_size, 0)
            .ok_or(Errno::ENOMEM);
    };
    let overlap = u64::from(t) < u64::from(old) + u64::from(old_size)
        && u64::from(old) < u64::from(t) + u64::from(new_size);
    if !aligned(t) || overlap || u64::from(t) + u64::from(new_size) > u64::from(TASK_SIZE) {
        return Err(Errno::EINVAL);
    }
    unmap_range(k, t, new_size)?;
    Ok(t)
}

/// Installs the frames of `from..from+len` at `to`, page by page, with
/// each page's protection and sharing; a page the old range lacked (past
/// a file's end) is absent at `to` too.
fn move_frames(k: &mut Kernel, records: &[Vma], from: u32, to: u32, len: u32) {
    let p = proc_slot(k);
    for off in (0..len).step_by(PAGE_SIZE as usize) {
        let space = &mut k.tasks.proc_mut(p).space;
        let (src, dst) = (GuestAddr(from + off), GuestAddr(to + off));
        let Some(prot) = k.machine.prot_at(space, src) else {
            k.machine.unmap(space, dst, PAGE_SIZE);
            continue;
        };
        let shared = records
            .iter()
            .any(|v| v.shared && v.start <= src.0 && src.0 < v.end);
        match k.machine.frame_of(space, src) {
            Some(frame) => k.machine.map_frame(space, dst, frame, prot, shared),
            // Not touched yet: a lazy page at `to` is the same thing.
            None => k.machine.map(space, dst, PAGE_SIZE, prot, shared),
        }
    }
}

pub fn sys_madvise(k: &mut Kernel, a: &Args) -> SysResult {
    const MADV_DONTNEED: u32 = 4;
    const MADV_REMOVE: u32 = 9;
    const MADV_FREE: u32 = 8;
    const MADV_DONTFORK: u32 = 10;
    const MADV_DOFORK: u32 = 11;
    let (addr, len, advice) = (a[0], a[1], a[2]);
    if !aligned(addr) || advice > 25 && advice != 100 && advice != 101 {
        return Err(Errno::EINVAL.into());
    }
    let end = page_up(u64::from(addr) + u64::from(len));
    if end > u64::from(TASK_SIZE) || !all_mapped(k, addr, end) {
        return Err(Errno::ENOMEM.into());
    }
    if matches!(advice, MADV_DONTNEED | MADV_FREE | MADV_REMOVE) {
        drop_pages(k, addr, end as u32)?;
    }
    if matches!(advice, MADV_DONTFORK | MADV_DOFORK) {
        // Only mmap'ed ranges have a mapping record to mark (the loader's
        // images and stack do not: partial).
        k.proc()
            .mm
            .set_dontfork(addr, end as u32, advice == MADV_DONTFORK);
    }
    Ok(0)
}

/// MADV_DONTNEED: private pages are dropped, so they read as zeros (or
/// as the file's bytes again); shared pages keep their contents.
fn drop_pages(k: &mut Kernel, start: u32, end: u32) -> KResult<()> {
    let p = proc_slot(k);
    for page in (start..end).step_by(PAGE_SIZE as usize) {
        let vma = k.tasks.proc(p).mm.find(page).cloned();
        if vma.as_ref().is_some_and(|v| v.shared) {
            continue;
        }
        let space = &mut k.tasks.proc_mut(p).space;
        let Some(prot) = k.machine.prot_at(space, GuestAddr(page)) else {
            continue;
        };
        match vma.filter(|v| v.file.is_some()) {
            Some(v) => populate(k, &v, page, page + PAGE_SIZE)?,
            None => k
                .machine
                .map(space, GuestAddr(page), PAGE_SIZE, prot, false),
        }
    }
    Ok(())
}

pub fn sys_msync(k: &mut Kernel, a: &Args) -> SysOutcome {
    const MS_ASYNC: u32 = 1;
    const MS_INVALIDATE: u32 = 2;
    const MS_SYNC: u32 = 4;
    let (addr, len, flags) = (a[0], a[1], a[2]);
    let bad = flags & !(MS_ASYNC | MS_INVALIDATE | MS_SYNC) != 0
        || flags & (MS_ASYNC | MS_SYNC) == MS_ASYNC | MS_SYNC;
    if !aligned(addr) || bad {
        return Err(Errno::EINVAL.into());
    }
    let end = page_up(u64::from(addr) + u64::from(len));
    if end > u64::from(TASK_SIZE) || !all_mapped(k, addr, end) {
        return Err(Errno::ENOMEM.into());
    }
    let p = proc_slot(k);
    let end = end as u32;
    let vmas: Vec<Vma> = k
        .tasks
        .proc(p)
        .mm
        .vmas
        .iter()
        .filter(|v| v.shared && v.file.is_some() && v.start < end && v.end > addr)
        .cloned()
        .collect();
    for v in &vmas {
        try_write_back(k, p, v, addr, end)?;
    }
    // An earlier write-back of these files that failed unreported.
    for f in vmas.iter().filter_map(|v| v.file.as_ref()) {
        let node = f.file.borrow().node;
        if let Some(e) = node.and_then(|n| k.files.take_lost_write(n)) {
            return Err(e.into());
        }
    }
    // MS_ASYNC only schedules the write, as on Linux; MS_SYNC waits until
    // the data is durable, and reports it when it cannot be.
    if flags & MS_SYNC != 0 {
        for f in vmas.iter().filter_map(|v| v.file.as_ref()) {
            if let Some(h) = f.file.borrow_mut().handle.as_mut() {
                h.sync()?;
            }
        }
        // Then wait for the host where it saves asynchronously (the
        // browser's root image; the first such file decides).
        for f in vmas.iter().filter_map(|v| v.file.as_ref()) {
            if let w @ Outcome::Block(_) = super::fs::kept(k, &f.file) {
                return Ok(w);
            }
        }
    }
    Ok(Outcome::Done(0))
}

/// mincore: 1 for pages that exist in the page table.
pub fn sys_mincore(k: &mut Kernel, a: &Args) -> SysResult {
    let (addr, len, vec) = (a[0], a[1], a[2]);
    if !aligned(addr) {
        return Err(Errno::EINVAL.into());
    }
    let end = page_up(u64::from(addr) + u64::from(len));
    if end > u64::from(TASK_SIZE) || !all_mapped(k, addr, end) {
        return Err(Errno::ENOMEM.into());
    }
    let p = proc_slot(k);
    let out: Vec<u8> = (u64::from(addr)..end)
        .step_by(PAGE_SIZE as usize)
        .map(|a| {
            let space = &k.tasks.proc(p).space;
            u8::from(k.machine.prot_at(space, GuestAddr(a as u32)).is_some())
        })
        .collect();
    k.mem().write_bytes(GuestAddr(vec), &out)?;
    Ok(0)
}

impl Kernel {
    /// Every MAP_SHARED mapping of file node `node`, with its process
    /// slot (cheap when there is none: a scan of the mapping lists).
    fn shared_maps_of(&self, node: NodeKey) -> Vec<(usize, Vma)> {
        let mut out = Vec::new();
        for (p, proc) in self.tasks.live_procs() {
            for v in proc.mm.vmas.iter().filter(|v| v.shared) {
                let Some(f) = &v.file else { continue };
                if f.file.try_borrow().is_ok_and(|f| f.node == Some(node)) {
                    out.push((p, v.clone()));
                }
            }
        }
        out
    }

    /// Before read(2) or write(2) of a file: its MAP_SHARED mappings'
    /// bytes go to the file, so the read sees them and a write does not
    /// lose them (there is no page cache shared between the file and the
    /// mappings: the mappings are written back whole, partial).
    pub(crate) fn flush_shared_of(&mut self, node: Option<NodeKey>) {
        let Some(node) = node else { return };
        self.vfs.content_writes += 1;
        // Only writable mappings can hold bytes the file lacks.
        for (p, v) in self.shared_maps_of(node) {
            if v.prot & PROT_WRITE != 0 {
                write_back(self, p, &v, v.start, v.end);
            }
        }
    }

    /// After write(2) to a file: its MAP_SHARED mappings load the file's
    /// bytes again, so every process sees the write (shared frames: once
    /// per frame would do; each mapping is refreshed whole).
    pub(crate) fn refresh_shared_of(&mut self, node: Option<NodeKey>) {
        let Some(node) = node else { return };
        for (p, v) in self.shared_maps_of(node) {
            refresh(self, p, &v);
        }
    }

    /// After truncate/ftruncate of file node `node` to `size`: whole
    /// pages of its mappings (shared or private) past the new end leave
    /// the page table (a touch raises SIGBUS), pages back inside the file
    /// come back, and shared mappings reload the file's bytes (the tail of
    /// a cut page reads zero). Private pages a process wrote keep their
    /// contents.
    pub(crate) fn resize_mappings_of(&mut self, node: Option<NodeKey>, size: u64) {
        let Some(node) = node else { return };
        for p in self.tasks.live() {
            let vmas = std::mem::take(&mut self.tasks.proc_mut(p).mm.vmas);
            let mut kept = Vec::with_capacity(vmas.len());
            for mut v in vmas {
                let ours = v
                    .file
                    .as_ref()
                    .is_some_and(|f| f.file.try_borrow().is_ok_and(|f| f.node == Some(node)));
                if ours {
                    self.resize_vma(p, &mut v, size);
                }
                kept.push(v);
            }
            self.tasks.proc_mut(p).mm.vmas = kept;
        }
        self.refresh_shared_of(Some(node));
    }

    /// One mapping's part of [`Kernel::resize_mappings_of`].
    fn resize_vma(&mut self, p: usize, v: &mut Vma, size: u64) {
        let Some(f) = v.file.as_mut() else { return };
        f.size = size;
        let node = f.file.try_borrow().ok().and_then(|f| f.node);
        let file_end = page_up(size);
        let (shared, prot) = (v.shared, Prot(v.prot));
        for addr in (v.start..v.end).step_by(PAGE_SIZE as usize) {
            let inside = v.offset_of(addr) < file_end;
            let space = &mut self.tasks.proc_mut(p).space;
            let present = self.machine.prot_at(space, GuestAddr(addr)).is_some();
            if !inside && present {
                self.machine.unmap(space, GuestAddr(addr), PAGE_SIZE);
            } else if inside && !present {
                // Zero-filled; a shared page is reloaded by the caller.
                self.machine
                    .map(space, GuestAddr(addr), PAGE_SIZE, prot, shared);
                let index = v.offset_of(addr) / u64::from(PAGE_SIZE);
                if let Some(frame) = node.and_then(|n| self.cached_frame(n, index)) {
                    let space = &mut self.tasks.proc_mut(p).space;
                    self.machine
                        .map_frame(space, GuestAddr(addr), frame, prot, shared);
                }
            }
        }
    }

    /// Before sync or syncfs: every process's writable shared file
    /// mappings go to their files.
    pub(crate) fn sync_shared_all(&mut self) {
        for p in self.tasks.live() {
            let vmas = self.tasks.proc(p).mm.vmas.clone();
            for v in vmas.iter().filter(|v| v.shared && v.prot & PROT_WRITE != 0) {
                write_back(self, p, v, v.start, v.end);
            }
        }
    }

    /// Writes back process `p`'s shared file mappings (exit, exec).
    pub(crate) fn sync_shared(&mut self, p: usize) {
        let vmas = self.tasks.proc(p).mm.vmas.clone();
        for v in vmas.iter().filter(|v| v.shared && v.file.is_some()) {
            write_back(self, p, v, v.start, v.end);
        }
    }

    /// A page fault in a file mapping past the end of the file is SIGBUS
    /// (BUS_ADRERR), not SIGSEGV.
    pub(crate) fn fault_signal(&mut self, info: SigInfo) -> SigInfo {
        let Some(addr) = info.addr.filter(|_| info.signo == crate::signals::SIGSEGV) else {
            return info;
        };
        let p = proc_slot(self);
        match self.tasks.proc(p).mm.find(addr) {
            Some(v) if v.past_eof(addr) => SigInfo {
                signo: crate::signals::SIGBUS,
                code: crate::signals::BUS_ADRERR,
                addr: Some(addr),
            },
            _ => info,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::tests::boot;

    fn mremap(k: &mut Kernel, old: u32, old_len: u32, new_len: u32) -> SysResult {
        sys_mremap(k, &[old, old_len, new_len, 0, 0, 0])
    }

    fn mapped(k: &mut Kernel, a: u32) -> bool {
        let p = proc_slot(k);
        k.machine
            .prot_at(&k.tasks.proc(p).space, GuestAddr(a))
            .is_some()
    }

    /// Ranges that end past TASK_SIZE or 4 GiB, checked against Linux
    /// (x86-64 kernel, 32-bit task): a shrink whose tail crosses
    /// TASK_SIZE is EINVAL and unmaps nothing (the sum used to wrap and
    /// unmap low memory), an old length that rounds up to 4 GiB is not 0.
    #[test]
    fn mremap_near_the_top_of_the_address_space() {
        let mut k = boot(&[0xeb, 0xfe], Default::default(), Default::default());
        let flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED;
        let low = sys_mmap2(&mut k, &[0x1_0000, 0x1000, 3, flags, u32::MAX, 0]).unwrap();
        assert!(mapped(&mut k, 0xffff_c000) && mapped(&mut k, low));
        let einval = Err(Errno::EINVAL.into());
        assert_eq!(mremap(&mut k, 0xffff_c000, 0x2_0000, 0x8000), einval);
        assert!(mapped(&mut k, low) && mapped(&mut k, 0xffff_d000));
        assert_eq!(mremap(&mut k, low, 0xffff_f001, 0x1000), einval);
        assert_eq!(mremap(&mut k, low, 0xffff_f000, 0x1000), einval);
        let enomem = Err(Errno::ENOMEM.into());
        assert_eq!(mremap(&mut k, low, 0x1000, 0xffff_e001), enomem);
        assert!(mapped(&mut k, low));
        assert_eq!(
            mremap(&mut k, 0xffff_c000, 0x1_0000, 0x1_0000),
            Ok(0xffff_c000)
        );
        assert_eq!(mremap(&mut k, 0xffff_c000, 0x2000, 0x1000), Ok(0xffff_c000));
        assert!(mapped(&mut k, 0xffff_c000) && !mapped(&mut k, 0xffff_d000));
    }

    /// A MAP_FIXED private mapping over a read-only private mapping of
    /// the same file bytes (ld.so's segments over the whole library)
    /// keeps the pages, with the new protection; once the file was
    /// written, or a page could have been, it reads the file again.
    #[test]
    fn fixed_mappings_over_the_same_file_bytes() {
        use crate::syscall::fs::{sys_open, sys_pwrite64};
        use crate::syscall::Outcome;
        use wax_cpu::state::reg;
        let mut k = boot(&[0xeb, 0xfe], Default::default(), Default::default());
        let sp = k.machine.cpu().gpr[reg::ESP];
        let (path, data) = (sp - 0x4000, sp - 0x3000);
        k.mount_tmpfs(true);
        k.mem().write_bytes(GuestAddr(path), b"/tmp/lib\0").unwrap();
        let r = sys_open(&mut k, &[path, 0o102, 0o644, 0, 0, 0]);
        let Ok(Outcome::Done(fd)) = r else {
            panic!("open failed: {:?}", r.err());
        };
        let write_page = |k: &mut Kernel, page: u32, byte: u8| {
            k.mem().write_bytes(GuestAddr(data), &[byte; 4096]).unwrap();
            let w = sys_pwrite64(k, &[fd, data, 4096, page * 4096, 0, 0]);
            assert!(matches!(w, Ok(Outcome::Done(4096))));
        };
        for page in 0..3 {
            write_page(&mut k, page, b'a' + page as u8);
        }
        let byte = |k: &mut Kernel, a: u32| {
            let mut b = [0u8];
            k.mem().read_bytes(GuestAddr(a), &mut b).unwrap();
            b[0]
        };
        let whole = sys_mmap2(&mut k, &[0, 3 * 4096, 1, MAP_PRIVATE, fd, 0]).unwrap();
        let fixed = MAP_PRIVATE | MAP_FIXED;
        let seg = whole + 4096;
        let p = proc_slot(&mut k);
        let frame =
            |k: &mut Kernel, a: u32| k.machine.frame_of(&k.tasks.proc(p).space, GuestAddr(a));
        let before = frame(&mut k, seg);
        assert_eq!(sys_mmap2(&mut k, &[seg, 4096, 5, fixed, fd, 1]), Ok(seg));
        assert_eq!(byte(&mut k, seg), b'b');
        assert_eq!(frame(&mut k, seg), before, "the page was kept");
        assert_eq!(
            k.machine.prot_at(&k.tasks.proc(p).space, GuestAddr(seg)),
            Some(Prot(5))
        );
        // Another file offset at that address: read from the file.
        assert_eq!(
            sys_mmap2(&mut k, &[whole, 4096, 1, fixed, fd, 2]),
            Ok(whole)
        );
        assert_eq!(byte(&mut k, whole), b'c');
        // The file changed since the mapping was made.
        write_page(&mut k, 2, b'z');
        let last = whole + 2 * 4096;
        assert_eq!(byte(&mut k, last), b'c');
        assert_eq!(sys_mmap2(&mut k, &[last, 4096, 1, fixed, fd, 2]), Ok(last));
        assert_eq!(byte(&mut k, last), b'z');
        // Made writable and written in between.
        let rw = sys_mmap2(&mut k, &[0, 4096, 1, MAP_PRIVATE, fd, 0]).unwrap();
        assert_eq!(sys_mprotect(&mut k, &[rw, 4096, 3, 0, 0, 0]), Ok(0));
        k.mem().write_bytes(GuestAddr(rw), b"x").unwrap();
        assert_eq!(sys_mprotect(&mut k, &[rw, 4096, 1, 0, 0, 0]), Ok(0));
        assert_eq!(sys_mmap2(&mut k, &[rw, 4096, 1, fixed, fd, 0]), Ok(rw));
        assert_eq!(byte(&mut k, rw), b'a');
    }
}
