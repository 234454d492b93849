//! The guest buffer of read(2) and write(2) as a file handle sees it
//! ([`GuestIo`]). Pipes, /dev/zero and /dev/null copy straight between
//! their own memory and the guest's (one copy per byte, as in Linux);
//! every other handle goes through the kernel's kept buffer
//! ([`Kernel::take_scratch`]), one copy more.
//!
//! The caller has checked the whole guest buffer (probe_write for a read,
//! probe_read for a write), so the copies here find every page present;
//! a fault all the same is EFAULT.

use crate::abi::errno::{Errno, KResult};
use crate::kernel::Kernel;
use crate::vfs::{FileHandle, GuestIo};
use wax_cpu::{GuestAddr, GuestMem};

/// `len` bytes of guest memory at `addr`.
struct GuestBuf<'a> {
    mem: GuestMem<'a>,
    addr: GuestAddr,
    len: usize,
    faulted: bool,
}

impl GuestBuf<'_> {
    fn at(&self, at: usize, n: usize) -> Option<GuestAddr> {
        (at.checked_add(n)? <= self.len).then(|| self.addr.add(at as u32))
    }
}

impl GuestIo for GuestBuf<'_> {
    fn len(&self) -> usize {
        self.len
    }

    fn put(&mut self, at: usize, bytes: &[u8]) {
        match self.at(at, bytes.len()) {
            Some(a) => self.faulted |= self.mem.write_bytes(a, bytes).is_err(),
            None => self.faulted = true,
        }
    }

    fn fill(&mut self, at: usize, n: usize, byte: u8) {
        match self.at(at, n) {
            Some(a) => self.faulted |= self.mem.fill(a, n, byte).is_err(),
            None => self.faulted = true,
        }
    }

    fn get(&mut self, at: usize, n: usize, f: &mut dyn FnMut(&[u8])) {
        match self.at(at, n) {
            Some(a) => self.faulted |= self.mem.read_pieces(a, n, f).is_err(),
            None => self.faulted = true,
        }
    }
}

/// Reads from `h` at `off` into the guest buffer `addr..addr + len`.
pub(super) fn read_into(
    k: &mut Kernel,
    h: &mut dyn FileHandle,
    off: u64,
    addr: GuestAddr,
    len: usize,
) -> KResult<usize> {
    let mut dst = GuestBuf {
        mem: k.mem(),
        addr,
        len,
        faulted: false,
    };
    if let Some(r) = h.read_guest(off, &mut dst) {
        return if dst.faulted { Err(Errno::EFAULT) } else { r };
    }
    let mut data = k.take_scratch(len);
    let r = h.read_at(off, &mut data[..len]).and_then(|n| {
        k.mem().write_bytes(addr, &data[..n])?;
        Ok(n)
    });
    k.put_scratch(data);
    r
}

/// Writes the guest buffer `addr..addr + len` to `h` at `off`.
pub(super) fn write_from(
    k: &mut Kernel,
    h: &mut dyn FileHandle,
    off: u64,
    addr: GuestAddr,
    len: usize,
) -> KResult<usize> {
    let mut src = GuestBuf {
        mem: k.mem(),
        addr,
        len,
        faulted: false,
    };
    if let Some(r) = h.write_guest(off, &mut src) {
        return if src.faulted { Err(Errno::EFAULT) } else { r };
    }
    let mut data = k.take_scratch(len);
    let r = match k.mem().read_bytes(addr, &mut data[..len]) {
        Ok(()) => h.write_at(off, &data[..len]),
        Err(f) => Err(f.into()),
    };
    k.put_scratch(data);
    r
}
