//! Memory system calls: brk, mmap (anonymous and private file mappings),
//! munmap, mprotect, mremap.
//!
//! File mappings are copies: the file's bytes are read into fresh private
//! pages at mmap time. MAP_SHARED file mappings are therefore not written
//! back (none of the target programs rely on it yet; a page cache shared
//! with the VFS is a later issue), and pages past the end of the file read
//! as zeros instead of raising SIGBUS.

use super::{Args, SysResult};
use crate::elf::TASK_SIZE;
use crate::errno::{Errno, KResult};
use crate::kernel::Kernel;
use crate::mm::{self, page_up};
use crate::process::FileRef;
use wax_cpu::{GuestAddr, Prot, PAGE_SIZE};

const MAP_SHARED: u32 = 0x01;
const MAP_PRIVATE: u32 = 0x02;
const MAP_TYPE: u32 = 0x0f;
const MAP_FIXED: u32 = 0x10;
const MAP_ANONYMOUS: u32 = 0x20;
const MAP_FIXED_NOREPLACE: u32 = 0x10_0000;
const MREMAP_MAYMOVE: u32 = 1;
const MREMAP_FIXED: u32 = 2;

fn aligned(a: u32) -> bool {
    a.is_multiple_of(PAGE_SIZE)
}

pub fn sys_brk(k: &mut Kernel, a: &Args) -> SysResult {
    let want = a[0];
    let p = k.threads[k.current].process;
    let mm = k.procs[p].mm.clone();
    if want < mm.brk_start {
        return Ok(mm.brk);
    }
    let old_end = page_up(u64::from(mm.brk)) as u32;
    let new_end = page_up(u64::from(want));
    if new_end > u64::from(mm::MMAP_TOP) {
        return Ok(mm.brk);
    }
    let new_end = new_end as u32;
    let proc = &mut k.procs[p];
    if new_end > old_end {
        if !mm::range_free(&mut k.machine, &proc.space, old_end, new_end - old_end) {
            return Ok(mm.brk);
        }
        mm::map_anon(
            &mut k.machine,
            &mut proc.space,
            old_end,
            new_end - old_end,
            Prot::RW,
        );
    } else if new_end < old_end {
        k.machine
            .unmap(&mut proc.space, GuestAddr(new_end), old_end - new_end);
    }
    proc.mm.brk = want;
    Ok(want)
}

/// The open file a mapping copies from.
fn map_source(k: &mut Kernel, fd: u32) -> KResult<FileRef> {
    let file = k.proc().fds.file(fd)?;
    {
        let f = file.borrow();
        if !f.can_read() {
            return Err(Errno::EACCES);
        }
        if f.handle.as_ref().is_none_or(|h| h.is_stream()) {
            return Err(Errno::ENODEV);
        }
    }
    Ok(file)
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
    let kind = flags & MAP_TYPE;
    if len == 0 || !(kind == MAP_SHARED || kind == MAP_PRIVATE || kind == 3) {
        return Err(Errno::EINVAL.into());
    }
    let size = page_up(u64::from(len));
    if size > u64::from(TASK_SIZE) {
        return Err(Errno::ENOMEM.into());
    }
    let size = size as u32;
    let source = if flags & MAP_ANONYMOUS == 0 {
        Some(map_source(k, fd)?)
    } else {
        None
    };
    let p = k.threads[k.current].process;
    let space = &mut k.procs[p].space;
    let start = if flags & (MAP_FIXED | MAP_FIXED_NOREPLACE) != 0 {
        if !aligned(addr) || u64::from(addr) + u64::from(size) > u64::from(TASK_SIZE) {
            return Err(Errno::EINVAL.into());
        }
        if flags & MAP_FIXED == 0 && !mm::range_free(&mut k.machine, space, addr, size) {
            return Err(Errno::EEXIST.into());
        }
        addr
    } else {
        let hint = addr & !(PAGE_SIZE - 1);
        mm::find_free(&mut k.machine, space, size, hint).ok_or(Errno::ENOMEM)?
    };
    let shared = kind != MAP_PRIVATE && source.is_none();
    if let Some(file) = source {
        k.machine
            .map(space, GuestAddr(start), size, Prot::RW, false);
        copy_in(k, &file, start, size, pgoff * u64::from(PAGE_SIZE))?;
        let space = &mut k.procs[p].space;
        k.machine
            .protect(space, GuestAddr(start), size, Prot(prot & 7));
    } else {
        k.machine
            .map(space, GuestAddr(start), size, Prot(prot & 7), shared);
    }
    Ok(start)
}

/// Copies file bytes from `off` into the new mapping at `start`.
fn copy_in(k: &mut Kernel, file: &FileRef, start: u32, size: u32, off: u64) -> KResult<()> {
    let mut buf = vec![0u8; 64 << 10];
    let mut done = 0u32;
    while done < size {
        let want = ((size - done) as usize).min(buf.len());
        let n = {
            let mut f = file.borrow_mut();
            let h = f.handle.as_mut().ok_or(Errno::ENODEV)?;
            h.read_at(off + u64::from(done), &mut buf[..want])?
        };
        if n == 0 {
            break;
        }
        k.mem()
            .write_bytes(GuestAddr(start + done), &buf[..n])
            .map_err(|_| Errno::ENOMEM)?;
        done += n as u32;
    }
    Ok(())
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

pub fn sys_munmap(k: &mut Kernel, a: &Args) -> SysResult {
    let (addr, len) = (a[0], a[1]);
    if !aligned(addr) || len == 0 || u64::from(addr) + u64::from(len) > u64::from(TASK_SIZE) {
        return Err(Errno::EINVAL.into());
    }
    let p = k.threads[k.current].process;
    k.machine.unmap(&mut k.procs[p].space, GuestAddr(addr), len);
    Ok(0)
}

pub fn sys_mprotect(k: &mut Kernel, a: &Args) -> SysResult {
    let (addr, len, prot) = (a[0], a[1], a[2]);
    if !aligned(addr) || prot & !0x7 & !0x0300_0000 != 0 {
        return Err(Errno::EINVAL.into());
    }
    if len == 0 {
        return Ok(0);
    }
    let p = k.threads[k.current].process;
    if !k
        .machine
        .protect(&mut k.procs[p].space, GuestAddr(addr), len, Prot(prot & 7))
    {
        return Err(Errno::ENOMEM.into());
    }
    Ok(0)
}

pub fn sys_mremap(k: &mut Kernel, a: &Args) -> SysResult {
    let (old, old_len, new_len, flags) = (a[0], a[1], a[2], a[3]);
    if !aligned(old) || new_len == 0 || flags & !(MREMAP_MAYMOVE | MREMAP_FIXED) != 0 {
        return Err(Errno::EINVAL.into());
    }
    let old_size = page_up(u64::from(old_len)) as u32;
    let new_size = page_up(u64::from(new_len));
    if new_size > u64::from(TASK_SIZE) || flags & MREMAP_FIXED != 0 {
        // Moving to a fixed address is not needed by any target yet.
        return Err(Errno::EINVAL.into());
    }
    let new_size = new_size as u32;
    let p = k.threads[k.current].process;
    let prot = k
        .machine
        .prot_at(&k.procs[p].space, GuestAddr(old))
        .ok_or(Errno::EFAULT)?;
    let space = &mut k.procs[p].space;
    if new_size <= old_size {
        k.machine
            .unmap(space, GuestAddr(old + new_size), old_size - new_size);
        return Ok(old);
    }
    let grow = new_size - old_size;
    if u64::from(old) + u64::from(new_size) <= u64::from(TASK_SIZE)
        && mm::range_free(&mut k.machine, space, old + old_size, grow)
    {
        k.machine
            .map(space, GuestAddr(old + old_size), grow, prot, false);
        return Ok(old);
    }
    if flags & MREMAP_MAYMOVE == 0 {
        return Err(Errno::ENOMEM.into());
    }
    let new = mm::find_free(&mut k.machine, space, new_size, 0).ok_or(Errno::ENOMEM)?;
    k.machine
        .map(space, GuestAddr(new), new_size, Prot::RW, false);
    move_pages(k, old, new, old_size)?;
    let space = &mut k.procs[p].space;
    k.machine.protect(space, GuestAddr(new), new_size, prot);
    k.machine.unmap(space, GuestAddr(old), old_size);
    Ok(new)
}

/// Copies the contents of a mapping being moved by mremap.
fn move_pages(k: &mut Kernel, from: u32, to: u32, len: u32) -> KResult<()> {
    let mut page = [0u8; PAGE_SIZE as usize];
    for off in (0..len).step_by(PAGE_SIZE as usize) {
        let mut m = k.mem();
        m.read_bytes(GuestAddr(from + off), &mut page)?;
        m.write_bytes(GuestAddr(to + off), &page)?;
    }
    Ok(())
}
