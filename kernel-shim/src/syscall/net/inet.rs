//! The socket calls on AF_INET/AF_INET6 descriptors (`crate::files::inet`):
//! guest sockaddrs in and out, EAGAIN and EINPROGRESS turned into parked
//! threads for blocking callers, EPIPE into SIGPIPE.

use super::{msgf::*, nonblocking, socket_owner, SOCK_CLOEXEC, SOCK_NONBLOCK, SOCK_TYPE_MASK};
use crate::abi::errno::{Errno, KResult};
use crate::abi::oflag;
use crate::files::inet::addr::{self, Given};
use crate::files::inet::{InetFile, InetSocket};
use crate::files::socket::Received;
use crate::kernel::Kernel;
use crate::syscall::fs::install;
use crate::syscall::{Args, Outcome, Ready, SysErr, SysOutcome, SysResult};
use crate::tasks::process::Wait;
use crate::vfs::file::{FileRef, OpenFile};
use wax_cpu::GuestAddr;
use wax_devices::net::IPPROTO_UDPLITE;

pub const AF_INET: u32 = 2;
pub const AF_INET6: u32 = 10;
const SOCK_STREAM: u32 = 1;
const SOCK_DGRAM: u32 = 2;
const SOCK_RAW: u32 = 3;
const IPPROTO_TCP: u32 = 6;
const IPPROTO_UDP: u32 = 17;
/// sizeof(struct sockaddr_storage): the longest address Linux copies in.
const SOCKADDR_MAX: u32 = 128;

/// The descriptor's open file if it is an internet socket.
pub(crate) fn inet_file(k: &mut Kernel, fd: u32) -> Option<FileRef> {
    super::file_of::<InetFile>(k, fd)
}

/// Runs `f` on the socket in `file` (checked by [`inet_file`]).
fn with<T>(file: &FileRef, f: impl FnOnce(&mut dyn InetSocket) -> KResult<T>) -> KResult<T> {
    let mut b = file.borrow_mut();
    let s = b
        .handle
        .as_mut()
        .and_then(|h| h.as_any())
        .and_then(|a| a.downcast_mut::<InetFile>())
        .ok_or(Errno::ENOTSOCK)?;
    f(s.sock.as_mut())
}

pub fn socket(k: &mut Kernel, domain: u32, ty: u32, proto: u32) -> SysResult {
    if ty & !(SOCK_TYPE_MASK | SOCK_NONBLOCK | SOCK_CLOEXEC) != 0 {
        return Err(Errno::EINVAL.into());
    }
    let v6 = domain == AF_INET6;
    let stream = match (ty & SOCK_TYPE_MASK, proto) {
        (SOCK_STREAM, 0 | IPPROTO_TCP) => true,
        (SOCK_DGRAM, 0 | IPPROTO_UDP) => false,
        (SOCK_DGRAM, IPPROTO_UDPLITE) => {
            let sock = k.files.net.udplite_socket(v6)?;
            return install_socket(k, sock, ty);
        }
        (SOCK_STREAM | SOCK_DGRAM, _) => return Err(Errno::EPROTONOSUPPORT.into()),
        // Raw sockets are not implemented; programs see what an
        // unprivileged user gets.
        (SOCK_RAW, _) => return Err(Errno::EPERM.into()),
        _ => return Err(Errno::ESOCKTNOSUPPORT.into()),
    };
    let sock = k.files.net.socket(v6, stream)?;
    install_socket(k, sock, ty)
}

fn install_socket(k: &mut Kernel, sock: Box<dyn InetSocket>, ty: u32) -> SysResult {
    let (uid, gid) = socket_owner(k);
    let file = InetFile {
        sock,
        id: k.files.unix.new_id(),
        uid,
        gid,
    };
    install_inet(k, file, ty)
}

fn install_inet(k: &mut Kernel, file: InetFile, flags: u32) -> SysResult {
    let open = OpenFile {
        node: None,
        location: None,
        handle: Some(Box::new(file)),
        offset: 0,
        flags: oflag::O_RDWR | (flags & SOCK_NONBLOCK),
        dir_entries: None,
    };
    install(k, open, flags & SOCK_CLOEXEC != 0)
}

/// Reads `len` bytes of a sockaddr.
pub(crate) fn read_raw(k: &mut Kernel, at: u32, len: u32) -> KResult<Vec<u8>> {
    if len > SOCKADDR_MAX {
        return Err(Errno::EINVAL);
    }
    let mut raw = vec![0u8; len as usize];
    k.mem().read_bytes(GuestAddr(at), &mut raw)?;
    Ok(raw)
}

/// Stores sockaddr bytes at `at` with the length at `len_at`
/// (truncated to the caller's room; the full length is reported).
pub(crate) fn write_raw(k: &mut Kernel, at: u32, len_at: u32, b: &[u8]) -> KResult<()> {
    if at == 0 || len_at == 0 {
        return Ok(());
    }
    let room = k.mem().read_u32(GuestAddr(len_at))?;
    if (room as i32) < 0 {
        return Err(Errno::EINVAL);
    }
    let n = b.len().min(room as usize);
    k.mem().write_bytes(GuestAddr(at), &b[..n])?;
    k.mem().write_u32(GuestAddr(len_at), b.len() as u32)?;
    Ok(())
}

fn is_v6(file: &FileRef) -> KResult<bool> {
    with(file, |s| Ok(s.is_v6()))
}

pub fn bind(k: &mut Kernel, file: &FileRef, a: &Args) -> SysResult {
    let raw = read_raw(k, a[1], a[2])?;
    let at = addr::parse_bind(&raw, is_v6(file)?)?;
    let privileged = at.port() != 0 && at.port() < 1024;
    if privileged
        && !k.proc().cred.privileged()
        && !matches!(k.files.net.mode, crate::files::inet::NetMode::Host(_))
    {
        return Err(Errno::EACCES.into());
    }
    with(file, |s| s.bind(at))?;
    Ok(0)
}

pub fn connect(k: &mut Kernel, file: &FileRef, a: &Args) -> SysOutcome {
    let raw = read_raw(k, a[1], a[2])?;
    let to = addr::parse_dest(&raw, is_v6(file)?)?;
    let nb = nonblocking(k, a[0], 0)?;
    match with(file, |s| s.connect(to, nb)) {
        // A host connect in progress: wait until the socket is writable,
        // then connect again collects the outcome.
        Err(Errno::EINPROGRESS | Errno::EALREADY) if !nb => {
            Ok(Outcome::Block(Wait::Writable { fd: a[0] }))
        }
        r => Ok(r.map(|_| Outcome::Done(0))?),
    }
}

pub fn listen(file: &FileRef, backlog: u32) -> SysResult {
    with(file, |s| s.listen(backlog))?;
    Ok(0)
}

pub fn accept(
    k: &mut Kernel,
    file: &FileRef,
    fd: u32,
    addr_at: u32,
    len_at: u32,
    flags: u32,
) -> SysOutcome {
    if flags & !(SOCK_NONBLOCK | SOCK_CLOEXEC) != 0 {
        return Err(Errno::EINVAL.into());
    }
    if addr_at != 0 {
        k.mem().probe_write(GuestAddr(len_at), 4)?;
    }
    let nb = nonblocking(k, fd, 0)?;
    let (sock, peer) = match with(file, |s| s.accept()) {
        Err(Errno::EAGAIN) if !nb => return Ok(Outcome::Block(Wait::Readable { fd })),
        r => r?,
    };
    let (uid, gid) = socket_owner(k);
    let f = InetFile {
        sock,
        id: k.files.unix.new_id(),
        uid,
        gid,
    };
    let n = install_inet(k, f, flags)?;
    write_raw(k, addr_at, len_at, &addr::encode(&peer))?;
    Ok(Outcome::Done(n))
}

pub fn getsockname(k: &mut Kernel, file: &FileRef, a: &Args) -> SysResult {
    let name = with(file, |s| s.local_name())?;
    write_raw(k, a[1], a[2], &addr::encode(&name))?;
    Ok(0)
}

pub fn getpeername(k: &mut Kernel, file: &FileRef, a: &Args) -> SysResult {
    let name = with(file, |s| s.peer_name())?;
    write_raw(k, a[1], a[2], &addr::encode(&name))?;
    Ok(0)
}

pub fn shutdown(file: &FileRef, how: u32) -> SysResult {
    with(file, |s| s.shutdown(how))?;
    Ok(0)
}

/// send, sendto, sendmsg: `to` is the raw destination, if any.
pub fn send(
    k: &mut Kernel,
    file: &FileRef,
    fd: u32,
    data: &[u8],
    to: Option<Vec<u8>>,
    control: &[wax_devices::net::Cmsg],
    flags: u32,
) -> SysOutcome {
    let (v6, stream) = with(file, |s| Ok((s.is_v6(), s.is_stream())))?;
    if flags & MSG_OOB != 0 && !stream {
        return Err(Errno::EOPNOTSUPP.into());
    }
    // TCP ignores a destination, as Linux does.
    let to = match to.filter(|_| !stream) {
        Some(raw) => match addr::parse_dest(&raw, v6)? {
            Given::At(a) => Some(a),
            Given::Unspec => None,
        },
        None => None,
    };
    let nb = nonblocking(k, fd, flags)?;
    match with(file, |s| {
        s.send_msg(data, flags & !MSG_DONTWAIT, to, control)
    }) {
        Err(Errno::EPIPE) => Err(crate::syscall::broken_pipe(k, flags & MSG_NOSIGNAL == 0)),
        Err(Errno::EAGAIN) if !nb => Ok(Outcome::Block(Wait::Writable { fd })),
        r => Ok(Outcome::Done(r? as u32)),
    }
}

/// recv, recvfrom, recvmsg.
pub fn recv(
    k: &mut Kernel,
    file: &FileRef,
    fd: u32,
    max: usize,
    flags: u32,
) -> Result<Ready<Received>, SysErr> {
    let nb = nonblocking(k, fd, flags)?;
    let waitall = flags & MSG_WAITALL != 0 && flags & MSG_PEEK == 0 && !nb;
    if waitall {
        let (have, poll) = with(file, |s| Ok((s.readable_bytes().unwrap_or(0), s.poll())))?;
        let ended = poll & (0x2000 | crate::abi::poll::POLLHUP | crate::abi::poll::POLLERR) != 0;
        if have < max && !ended && s_stream(file)? {
            return Ok(Ready::Block(Wait::Readable { fd }));
        }
    }
    let flags = flags & !(MSG_DONTWAIT | MSG_WAITALL);
    let r = match with(file, |s| s.recv(max, flags)) {
        Err(Errno::EAGAIN) if !nb => return Ok(Ready::Block(Wait::Readable { fd })),
        r => r?,
    };
    Ok(Ready::Now(Received {
        full_len: r.ret,
        truncated: r.truncated,
        raw_from: r.from.map(|a| addr::encode(&a)),
        data: r.data,
        control: r.control,
        ..Received::default()
    }))
}

fn s_stream(file: &FileRef) -> KResult<bool> {
    with(file, |s| Ok(s.is_stream()))
}

pub fn getsockopt(k: &mut Kernel, file: &FileRef, a: &Args) -> SysResult {
    let (level, opt, val, len_at) = (a[1], a[2], a[3], a[4]);
    let room = k.mem().read_u32(GuestAddr(len_at))?;
    if (room as i32) < 0 {
        return Err(Errno::EINVAL.into());
    }
    let bytes = with(file, |s| s.getsockopt(level, opt, room as usize))?;
    let n = bytes.len().min(room as usize);
    k.mem().write_bytes(GuestAddr(val), &bytes[..n])?;
    k.mem().write_u32(GuestAddr(len_at), n as u32)?;
    Ok(0)
}

pub fn setsockopt(k: &mut Kernel, file: &FileRef, a: &Args) -> SysResult {
    let (level, opt, val, len) = (a[1], a[2], a[3], a[4]);
    if (len as i32) < 0 {
        return Err(Errno::EINVAL.into());
    }
    let mut bytes = vec![0u8; (len as usize).min(256)];
    k.mem().read_bytes(GuestAddr(val), &mut bytes)?;
    with(file, |s| s.setsockopt(level, opt, &bytes))?;
    Ok(0)
}

/// FIONREAD on an internet socket.
pub fn readable_bytes(file: &FileRef) -> KResult<usize> {
    with(file, |s| s.readable_bytes())
}
