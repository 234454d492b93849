//! Pipes: a 64 KiB byte buffer shared by a read end and a write end.
//!
//! Each end is a [`FileHandle`] (so pipe(2) descriptors and FIFOs opened by
//! path use the same object: a FIFO node keeps one `Rc<RefCell<Pipe>>` and
//! hands out [`Pipe::reader`]/[`Pipe::writer`] ends). Dropping an end (the
//! last descriptor of its open file closed) updates the counts, so a
//! reader sees end of file when no writer is left and a writer gets EPIPE
//! (and the kernel SIGPIPE) when no reader is left.
//!
//! Blocking is the caller's: an empty pipe with writers, or a full one,
//! answers EAGAIN and the system call parks the thread (or returns EAGAIN
//! for O_NONBLOCK); `poll` reports readiness so parked threads wake. Writes
//! of at most PIPE_BUF bytes are atomic (all or EAGAIN). A larger write
//! takes what fits; Linux would keep a blocking writer waiting until all
//! of it is written, here the call returns the short count (callers loop
//! on short writes, as they must for signals anyway).

use crate::abi::errno::{Errno, KResult};
use crate::abi::poll;
use crate::vfs::{Attr, FileHandle, GuestIo};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

/// Capacity of a pipe (Linux's default: 16 pages).
pub const PIPE_SIZE: usize = 65536;
/// Writes up to this size are atomic.
pub const PIPE_BUF: usize = 4096;
const PAGE: usize = 4096;
/// /proc/sys/fs/pipe-max-size: the largest unprivileged F_SETPIPE_SZ.
pub const PIPE_MAX_SIZE: usize = 1 << 20;

/// The shared buffer and the number of open ends.
#[derive(Default)]
pub struct Pipe {
    buf: VecDeque<u8>,
    readers: u32,
    writers: u32,
    /// The pipefs inode number (`pipe:[N]`, fstat's st_ino): each pipe
    /// is its own file, so `diff <(a) <(b)` sees two.
    id: u64,
    /// Bumped on every change a reader could wake for (data, a writer
    /// coming or going): edge-triggered epoll's "new event" on the read
    /// end.
    rd_events: u64,
    /// The same for the write end (space freed, a reader coming or going).
    wr_events: u64,
    /// Capacity in bytes (F_SETPIPE_SZ), PIPE_SIZE at first.
    size: usize,
}

/// Linux's pipefs device (an anonymous block-less device, 0:12).
const PIPEFS_DEV: u64 = 12;

/// The next pipe inode number (above the host stdio pipe's 4026).
fn next_id() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(10_000);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

pub type PipeRef = Rc<RefCell<Pipe>>;

impl Pipe {
    pub fn new() -> PipeRef {
        Rc::new(RefCell::new(Pipe {
            id: next_id(),
            size: PIPE_SIZE,
            ..Pipe::default()
        }))
    }

    /// F_GETPIPE_SZ.
    pub fn size(&self) -> usize {
        self.size
    }

    /// F_SETPIPE_SZ: the capacity becomes `want` rounded up to a power of
    /// two number of pages (at least one); more than /proc/sys/fs/pipe-max-size
    /// needs privilege, less than what the pipe holds is EBUSY.
    pub fn set_size(&mut self, want: u32, privileged: bool) -> KResult<usize> {
        if want > 1 << 31 {
            return Err(Errno::EINVAL);
        }
        let size = (want as usize).max(PAGE).next_power_of_two();
        if size > PIPE_MAX_SIZE && !privileged {
            return Err(Errno::EPERM);
        }
        if size < self.buf.len() {
            return Err(Errno::EBUSY);
        }
        self.size = size;
        self.wr_events += 1;
        Ok(size)
    }

    /// The pipe behind an open file's handle, if it is one.
    pub fn of_handle(h: &mut dyn FileHandle) -> Option<PipeRef> {
        let any = h.as_any()?;
        if let Some(r) = any.downcast_mut::<PipeReader>() {
            return Some(Rc::clone(&r.0));
        }
        if let Some(w) = any.downcast_mut::<PipeWriter>() {
            return Some(Rc::clone(&w.0));
        }
        any.downcast_mut::<PipeBoth>().map(|b| Rc::clone(&b.0 .0))
    }

    /// What fstat reports for an end of a pipe(2) pipe.
    fn attr(&self) -> Attr {
        Attr {
            dev: PIPEFS_DEV,
            ino: self.id,
            mode: crate::abi::mode::S_IFIFO | 0o600,
            nlink: 1,
            blksize: 4096,
            ..Attr::default()
        }
    }

    fn link_name(&self) -> Vec<u8> {
        format!("pipe:[{}]", self.id).into_bytes()
    }

    /// A new read end.
    pub fn reader(pipe: &PipeRef) -> PipeReader {
        let mut p = pipe.borrow_mut();
        p.readers += 1;
        p.wr_events += 1;
        drop(p);
        PipeReader(pipe.clone())
    }

    /// A new write end.
    pub fn writer(pipe: &PipeRef) -> PipeWriter {
        let mut p = pipe.borrow_mut();
        p.writers += 1;
        p.rd_events += 1;
        drop(p);
        PipeWriter(pipe.clone())
    }

    pub fn readers(&self) -> u32 {
        self.readers
    }

    pub fn writers(&self) -> u32 {
        self.writers
    }

    /// Copies the first bytes without taking them (tee).
    pub fn peek(&self, out: &mut [u8]) -> usize {
        let n = out.len().min(self.buf.len());
        let (front, back) = self.buf.as_slices();
        let a = n.min(front.len());
        out[..a].copy_from_slice(&front[..a]);
        out[a..n].copy_from_slice(&back[..n - a]);
        n
    }

    fn read(&mut self, out: &mut [u8]) -> KResult<usize> {
        let n = self.readable_len(out.len())?;
        self.peek(out);
        self.take(n)
    }

    /// `read` into guest memory: the buffer's two slices go straight there.
    fn read_guest(&mut self, dst: &mut dyn GuestIo) -> KResult<usize> {
        let n = self.readable_len(dst.len())?;
        let (front, back) = self.buf.as_slices();
        let a = n.min(front.len());
        dst.put(0, &front[..a]);
        dst.put(a, &back[..n - a]);
        self.take(n)
    }

    /// How many bytes a read of `want` takes: EAGAIN while the pipe is
    /// empty and has writers.
    fn readable_len(&self, want: usize) -> KResult<usize> {
        if self.buf.is_empty() && self.writers != 0 && want != 0 {
            return Err(Errno::EAGAIN);
        }
        Ok(want.min(self.buf.len()))
    }

    /// Drops the first `n` bytes, which a reader has copied.
    fn take(&mut self, n: usize) -> KResult<usize> {
        if !self.buf.is_empty() {
            self.buf.drain(..n);
            self.wr_events += 1;
        }
        Ok(n)
    }

    fn write(&mut self, data: &[u8]) -> KResult<usize> {
        let n = self.writable_len(data.len())?;
        self.buf.extend(&data[..n]);
        self.rd_events += 1;
        Ok(n)
    }

    /// `write` from guest memory, appended piece by piece.
    fn write_guest(&mut self, src: &mut dyn GuestIo) -> KResult<usize> {
        let n = self.writable_len(src.len())?;
        let buf = &mut self.buf;
        src.get(0, n, &mut |piece| buf.extend(piece));
        self.rd_events += 1;
        Ok(n)
    }

    /// How many bytes of a write of `len` fit: writes of at most PIPE_BUF
    /// bytes go in whole or not at all (EAGAIN), larger ones take what
    /// fits; EPIPE without readers.
    fn writable_len(&self, len: usize) -> KResult<usize> {
        if self.readers == 0 {
            return Err(Errno::EPIPE);
        }
        let free = self.size.saturating_sub(self.buf.len());
        if len <= PIPE_BUF {
            if free < len {
                return Err(Errno::EAGAIN);
            }
            Ok(len)
        } else {
            if free == 0 {
                return Err(Errno::EAGAIN);
            }
            Ok(len.min(free))
        }
    }
}

/// The read end.
pub struct PipeReader(PipeRef);

/// The write end.
pub struct PipeWriter(PipeRef);

impl PipeReader {
    pub fn pipe(&self) -> &PipeRef {
        &self.0
    }
}

impl PipeWriter {
    pub fn pipe(&self) -> &PipeRef {
        &self.0
    }
}

impl Drop for PipeReader {
    fn drop(&mut self) {
        let mut p = self.0.borrow_mut();
        p.readers -= 1;
        p.wr_events += 1;
    }
}

impl Drop for PipeWriter {
    fn drop(&mut self) {
        let mut p = self.0.borrow_mut();
        p.writers -= 1;
        p.rd_events += 1;
    }
}

impl FileHandle for PipeReader {
    fn as_any(&mut self) -> Option<&mut dyn std::any::Any> {
        Some(self)
    }
    fn event_count(&mut self) -> Option<u64> {
        Some(self.0.borrow().rd_events)
    }
    fn stat(&self) -> Option<Attr> {
        Some(self.0.borrow().attr())
    }
    fn proc_name(&self) -> Option<Vec<u8>> {
        Some(self.0.borrow().link_name())
    }
    fn read_at(&mut self, _off: u64, buf: &mut [u8]) -> KResult<usize> {
        self.0.borrow_mut().read(buf)
    }
    fn read_guest(&mut self, _off: u64, dst: &mut dyn GuestIo) -> Option<KResult<usize>> {
        Some(self.0.borrow_mut().read_guest(dst))
    }
    fn write_at(&mut self, _off: u64, _buf: &[u8]) -> KResult<usize> {
        Err(Errno::EBADF)
    }
    fn is_stream(&self) -> bool {
        true
    }
    fn readable(&mut self) -> bool {
        let p = self.0.borrow();
        !p.buf.is_empty() || p.writers == 0
    }
    fn poll(&mut self) -> u16 {
        let p = self.0.borrow();
        let mut e = 0;
        if !p.buf.is_empty() {
            e |= poll::POLLIN | poll::POLLRDNORM;
        }
        if p.writers == 0 {
            e |= poll::POLLHUP;
        }
        e
    }
}

impl FileHandle for PipeWriter {
    fn as_any(&mut self) -> Option<&mut dyn std::any::Any> {
        Some(self)
    }
    fn event_count(&mut self) -> Option<u64> {
        Some(self.0.borrow().wr_events)
    }
    fn stat(&self) -> Option<Attr> {
        Some(self.0.borrow().attr())
    }
    fn proc_name(&self) -> Option<Vec<u8>> {
        Some(self.0.borrow().link_name())
    }
    fn read_at(&mut self, _off: u64, _buf: &mut [u8]) -> KResult<usize> {
        Err(Errno::EBADF)
    }
    fn write_at(&mut self, _off: u64, buf: &[u8]) -> KResult<usize> {
        self.0.borrow_mut().write(buf)
    }
    fn write_guest(&mut self, _off: u64, src: &mut dyn GuestIo) -> Option<KResult<usize>> {
        Some(self.0.borrow_mut().write_guest(src))
    }
    fn is_stream(&self) -> bool {
        true
    }
    fn poll(&mut self) -> u16 {
        let p = self.0.borrow();
        let mut e = 0;
        if p.size.saturating_sub(p.buf.len()) >= PIPE_BUF {
            e |= poll::POLLOUT | poll::POLLWRNORM;
        }
        if p.readers == 0 {
            e |= poll::POLLERR;
        }
        e
    }
}

/// Both ends at once: a FIFO opened O_RDWR.
pub struct PipeBoth(pub PipeReader, pub PipeWriter);

impl FileHandle for PipeBoth {
    fn as_any(&mut self) -> Option<&mut dyn std::any::Any> {
        Some(self)
    }
    fn read_at(&mut self, off: u64, buf: &mut [u8]) -> KResult<usize> {
        self.0.read_at(off, buf)
    }
    fn write_at(&mut self, off: u64, buf: &[u8]) -> KResult<usize> {
        self.1.write_at(off, buf)
    }
    fn read_guest(&mut self, off: u64, dst: &mut dyn GuestIo) -> Option<KResult<usize>> {
        self.0.read_guest(off, dst)
    }
    fn write_guest(&mut self, off: u64, src: &mut dyn GuestIo) -> Option<KResult<usize>> {
        self.1.write_guest(off, src)
    }
    fn is_stream(&self) -> bool {
        true
    }
    fn readable(&mut self) -> bool {
        self.0.readable()
    }
    fn poll(&mut self) -> u16 {
        // Never POLLHUP/POLLERR: this open file is a writer and a reader.
        (self.0.poll() | self.1.poll()) & !(poll::POLLHUP | poll::POLLERR)
    }
    fn event_count(&mut self) -> Option<u64> {
        let p = self.0 .0.borrow();
        Some(p.rd_events + p.wr_events)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_pipe_is_its_own_fifo_inode() {
        let (a, b) = (Pipe::new(), Pipe::new());
        let (ra, wa, rb) = (Pipe::reader(&a), Pipe::writer(&a), Pipe::reader(&b));
        let (sa, sb) = (ra.stat().unwrap(), rb.stat().unwrap());
        assert_eq!(sa.file_type(), crate::vfs::FileType::Fifo);
        assert_eq!(sa.ino, wa.stat().unwrap().ino);
        assert_eq!(sa.dev, sb.dev);
        assert_ne!(sa.ino, sb.ino);
        assert_eq!(
            ra.proc_name(),
            Some(format!("pipe:[{}]", sa.ino).into_bytes())
        );
    }

    /// A guest buffer in host memory, taken in pieces of 3 bytes.
    struct Bytes(Vec<u8>);

    impl GuestIo for Bytes {
        fn len(&self) -> usize {
            self.0.len()
        }
        fn put(&mut self, at: usize, bytes: &[u8]) {
            self.0[at..at + bytes.len()].copy_from_slice(bytes);
        }
        fn fill(&mut self, at: usize, n: usize, byte: u8) {
            self.0[at..at + n].fill(byte);
        }
        fn get(&mut self, at: usize, n: usize, f: &mut dyn FnMut(&[u8])) {
            self.0[at..at + n].chunks(3).for_each(f);
        }
    }

    #[test]
    fn guest_reads_and_writes_match_the_buffered_ones() {
        let p = Pipe::new();
        let mut r = Pipe::reader(&p);
        let mut w = Pipe::writer(&p);
        let mut out = Bytes(vec![0; 4]);
        assert_eq!(r.read_guest(0, &mut out), Some(Err(Errno::EAGAIN)));
        // Wrap the ring: 60 KiB in and out, then 10 KiB across the end.
        let big = vec![7u8; 60 << 10];
        assert_eq!(w.write_at(0, &big), Ok(60 << 10));
        let mut sink = vec![0u8; 60 << 10];
        assert_eq!(r.read_at(0, &mut sink), Ok(60 << 10));
        let data: Vec<u8> = (0..10 << 10).map(|i| (i % 251) as u8).collect();
        let mut src = Bytes(data.clone());
        assert_eq!(w.write_guest(0, &mut src), Some(Ok(10 << 10)));
        let mut dst = Bytes(vec![0; 16 << 10]);
        assert_eq!(r.read_guest(0, &mut dst), Some(Ok(10 << 10)));
        assert_eq!(&dst.0[..10 << 10], &data[..]);
        // Atomic writes stay atomic from guest memory too.
        assert_eq!(
            w.write_at(0, &vec![1; PIPE_SIZE - 100]),
            Ok(PIPE_SIZE - 100)
        );
        let mut small = Bytes(vec![2; 200]);
        assert_eq!(w.write_guest(0, &mut small), Some(Err(Errno::EAGAIN)));
        drop(r);
        assert_eq!(w.write_guest(0, &mut small), Some(Err(Errno::EPIPE)));
    }

    #[test]
    fn eof_epipe_and_atomic_writes() {
        let p = Pipe::new();
        let mut r = Pipe::reader(&p);
        let mut w = Pipe::writer(&p);
        let mut b = [0u8; 8];
        assert_eq!(r.read_at(0, &mut b), Err(Errno::EAGAIN));
        assert_eq!(w.write_at(0, b"hey"), Ok(3));
        assert_eq!(r.poll() & poll::POLLIN, poll::POLLIN);
        assert_eq!(r.read_at(0, &mut b), Ok(3));
        let big = vec![1u8; PIPE_SIZE - 100];
        assert_eq!(w.write_at(0, &big), Ok(PIPE_SIZE - 100));
        // 200 bytes do not fit in 100: an atomic write waits.
        assert_eq!(w.write_at(0, &[2; 200]), Err(Errno::EAGAIN));
        assert_eq!(w.poll() & poll::POLLOUT, 0);
        drop(w);
        assert_eq!(r.poll() & poll::POLLHUP, poll::POLLHUP);
        let mut all = vec![0u8; PIPE_SIZE];
        assert_eq!(r.read_at(0, &mut all), Ok(PIPE_SIZE - 100));
        assert_eq!(r.read_at(0, &mut all), Ok(0));
        let mut w2 = Pipe::writer(&p);
        drop(r);
        assert_eq!(w2.write_at(0, b"x"), Err(Errno::EPIPE));
        assert_eq!(w2.poll() & poll::POLLERR, poll::POLLERR);
    }
}
