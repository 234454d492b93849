//! copy_file_range, splice and tee: copies through a kernel buffer.
//!
//! Linux moves page references; here the bytes are read from one handle
//! and written to the other (at most MAX_IO per call, a short count the
//! caller loops on, as it must anyway). When the output is a stream (a
//! pipe, a socket) the call first waits until it is writable and then
//! moves at most PIPE_BUF bytes, so bytes taken from a stream input are
//! never lost to a full output. splice does not insist that one side is
//! a pipe (Linux's EINVAL); vmsplice is not implemented.

use super::{Args, Outcome, Ready, SysErr, SysOutcome, MAX_IO};
use crate::abi::errno::{Errno, KResult};
use crate::abi::oflag;
use crate::abi::poll;
use crate::files::pipe::{PipeReader, PipeWriter, PIPE_BUF};
use crate::kernel::Kernel;
use crate::tasks::process::Wait;
use crate::vfs::file::FileRef;
use wax_cpu::GuestAddr;

const SPLICE_F_NONBLOCK: u32 = 2;

/// One side of a copy: the file and an explicit offset (`None`: the
/// file's own offset, or none for a stream).
struct End {
    fd: u32,
    file: FileRef,
    off: Option<u64>,
}

fn end(k: &mut Kernel, fd: u32, off_at: u32, write: bool) -> KResult<End> {
    let file = k.proc().fds.file(fd)?;
    {
        let f = file.borrow();
        let ok = if write { f.can_write() } else { f.can_read() };
        if !ok || f.handle.is_none() {
            return Err(Errno::EBADF);
        }
        if off_at != 0 && f.handle.as_ref().is_some_and(|h| h.is_stream()) {
            return Err(Errno::ESPIPE);
        }
    }
    let off = if off_at == 0 {
        None
    } else {
        let v = k.mem().read_u64(GuestAddr(off_at))? as i64;
        if v < 0 {
            return Err(Errno::EINVAL);
        }
        Some(v as u64)
    };
    Ok(End { fd, file, off })
}

fn is_stream(e: &End) -> bool {
    e.file
        .borrow()
        .handle
        .as_ref()
        .is_some_and(|h| h.is_stream())
}

/// Before a copy of up to `max` bytes into `o`: when `o` is a stream (a
/// pipe, a socket) that cannot take bytes now, the wait (EAGAIN if
/// `nonblock`); else how many bytes to move: at most PIPE_BUF into a
/// stream, which a writable one takes whole, so nothing read from the
/// input is lost to a full output.
fn output_room(o: &End, nonblock: bool, max: usize) -> Result<Ready<usize>, SysErr> {
    if !is_stream(o) {
        return Ok(Ready::Now(max));
    }
    let ready = o.file.borrow_mut().handle.as_mut().map_or(0, |h| h.poll());
    if ready & (poll::POLLOUT | poll::POLLERR) == 0 {
        if nonblock {
            return Err(Errno::EAGAIN.into());
        }
        return Ok(Ready::Block(Wait::Writable { fd: o.fd }));
    }
    Ok(Ready::Now(max.min(PIPE_BUF)))
}

/// [`output_room`] for sendfile's output descriptor.
pub(crate) fn sendfile_room(k: &mut Kernel, fd: u32, max: usize) -> Result<Ready<usize>, SysErr> {
    let o = End {
        fd,
        file: k.proc().fds.file(fd)?,
        off: None,
    };
    let nonblock = o.file.borrow().flags & oflag::O_NONBLOCK != 0;
    output_room(&o, nonblock, max)
}

fn nonblocking(e: &End, flags: u32) -> bool {
    flags & SPLICE_F_NONBLOCK != 0 || e.file.borrow().flags & oflag::O_NONBLOCK != 0
}

/// Reads at the end's position (advancing the file offset if implicit).
fn read_end(e: &mut End, buf: &mut [u8]) -> KResult<usize> {
    let mut f = e.file.borrow_mut();
    let pos = e.off.unwrap_or(f.offset);
    let h = f.handle.as_mut().ok_or(Errno::EBADF)?;
    let stream = h.is_stream();
    let n = h.read_at(pos, buf)?;
    match &mut e.off {
        Some(o) => *o += n as u64,
        None if !stream => f.offset += n as u64,
        None => {}
    }
    Ok(n)
}

fn write_end(e: &mut End, buf: &[u8]) -> KResult<usize> {
    let mut f = e.file.borrow_mut();
    let pos = e.off.unwrap_or(f.offset);
    let h = f.handle.as_mut().ok_or(Errno::EBADF)?;
    let stream = h.is_stream();
    let n = h.write_at(pos, buf)?;
    match &mut e.off {
        Some(o) => *o += n as u64,
        None if !stream => f.offset += n as u64,
        None => {}
    }
    Ok(n)
}

/// The copy itself; offsets given by pointer are written back.
fn copy(
    k: &mut Kernel,
    mut i: End,
    mut o: End,
    len: u32,
    flags: u32,
    offs: [u32; 2],
) -> SysOutcome {
    let max = match output_room(&o, nonblocking(&o, flags), (len as usize).min(MAX_IO))? {
        Ready::Now(max) => max,
        Ready::Block(w) => return Ok(Outcome::Block(w)),
    };
    let mut buf = vec![0u8; max];
    let n = match read_end(&mut i, &mut buf) {
        Err(Errno::EAGAIN) if !nonblocking(&i, flags) => {
            return Ok(Outcome::Block(Wait::Readable { fd: i.fd }))
        }
        r => r?,
    };
    let w = if n == 0 {
        0
    } else {
        k.vfs.content_writes += 1;
        write_end(&mut o, &buf[..n])?
    };
    if w < n && i.off.is_none() && !is_stream(&i) {
        // Give back what the output did not take.
        i.file.borrow_mut().offset -= (n - w) as u64;
    }
    if let Some(v) = i.off {
        k.mem().write_u64(GuestAddr(offs[0]), v - (n - w) as u64)?;
    }
    if let Some(v) = o.off {
        k.mem().write_u64(GuestAddr(offs[1]), v)?;
    }
    Ok(Outcome::Done(w as u32))
}

/// copy_file_range(fd_in, off_in, fd_out, off_out, len, flags).
pub fn sys_copy_file_range(k: &mut Kernel, a: &Args) -> SysOutcome {
    if a[5] != 0 {
        return Err(Errno::EINVAL.into());
    }
    let i = end(k, a[0], a[1], false)?;
    let o = end(k, a[2], a[3], true)?;
    if is_stream(&i) || is_stream(&o) || o.file.borrow().flags & oflag::O_APPEND != 0 {
        return Err(Errno::EINVAL.into());
    }
    copy(k, i, o, a[4], 0, [a[1], a[3]])
}

/// splice(fd_in, off_in, fd_out, off_out, len, flags).
pub fn sys_splice(k: &mut Kernel, a: &Args) -> SysOutcome {
    let i = end(k, a[0], a[1], false)?;
    let o = end(k, a[2], a[3], true)?;
    copy(k, i, o, a[4], a[5], [a[1], a[3]])
}

fn pipe_of<T: PipeEnd + 'static>(k: &mut Kernel, fd: u32) -> KResult<crate::files::pipe::PipeRef> {
    let file = k.proc().fds.file(fd)?;
    let mut f = file.borrow_mut();
    f.handle
        .as_mut()
        .and_then(|h| h.as_any())
        .and_then(|a| a.downcast_mut::<T>())
        .map(|e| e.pipe_ref().clone())
        .ok_or(Errno::EINVAL)
}

trait PipeEnd {
    fn pipe_ref(&self) -> &crate::files::pipe::PipeRef;
}

impl PipeEnd for PipeReader {
    fn pipe_ref(&self) -> &crate::files::pipe::PipeRef {
        self.pipe()
    }
}

impl PipeEnd for PipeWriter {
    fn pipe_ref(&self) -> &crate::files::pipe::PipeRef {
        self.pipe()
    }
}

/// tee(fd_in, fd_out, len, flags): copies pipe data without taking it.
pub fn sys_tee(k: &mut Kernel, a: &Args) -> SysOutcome {
    let (fd_in, fd_out, len, flags) = (a[0], a[1], a[2], a[3]);
    let src = pipe_of::<PipeReader>(k, fd_in)?;
    let dst = pipe_of::<PipeWriter>(k, fd_out)?;
    if std::rc::Rc::ptr_eq(&src, &dst) {
        return Err(Errno::EINVAL.into());
    }
    let o = end(k, fd_out, 0, true)?;
    let i = end(k, fd_in, 0, false)?;
    let mut buf = vec![0u8; (len as usize).min(PIPE_BUF)];
    let n = src.borrow().peek(&mut buf);
    if n == 0 {
        if src.borrow().writers() == 0 {
            return Ok(Outcome::Done(0));
        }
        if nonblocking(&i, flags) {
            return Err(Errno::EAGAIN.into());
        }
        return Ok(Outcome::Block(Wait::Readable { fd: fd_in }));
    }
    let mut o = o;
    k.vfs.content_writes += 1;
    match write_end(&mut o, &buf[..n]) {
        Err(Errno::EAGAIN) if !nonblocking(&o, flags) => {
            Ok(Outcome::Block(Wait::Writable { fd: fd_out }))
        }
        r => Ok(Outcome::Done(r? as u32)),
    }
}
