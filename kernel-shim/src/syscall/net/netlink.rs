//! The socket calls on an AF_NETLINK socket (`files/netlink.rs`): the
//! requests go in with send/sendto/sendmsg, the answers come out with
//! recv/recvfrom/recvmsg, each from the kernel (nl_pid 0). A socket
//! autobinds to its process's pid (Linux tries that first; Wax never
//! routes between netlink sockets, so two sockets of one process sharing
//! it changes nothing).

use super::{ifaces, msgf::*, nonblocking};
use crate::abi::errno::{Errno, KResult};
use crate::abi::oflag;
use crate::files::netlink::{sockaddr, NetlinkFile, AF_NETLINK, NETLINK_ROUTE};
use crate::files::socket::Received;
use crate::kernel::Kernel;
use crate::syscall::{Args, Ready, SysErr, SysResult};
use crate::tasks::process::Wait;
use crate::vfs::file::{FileRef, OpenFile};
use wax_cpu::GuestAddr;

const SOCK_DGRAM: u32 = 2;
const SOCK_RAW: u32 = 3;
const SOCK_TYPE_MASK: u32 = 0xf;
const SOL_SOCKET: u32 = 1;
const SOL_NETLINK: u32 = 270;

/// The descriptor's open file if it is a netlink socket.
pub(crate) fn netlink_file(k: &mut Kernel, fd: u32) -> Option<FileRef> {
    super::file_of::<NetlinkFile>(k, fd)
}

fn with<T>(file: &FileRef, f: impl FnOnce(&mut NetlinkFile) -> T) -> T {
    let mut b = file.borrow_mut();
    let s = b
        .handle
        .as_mut()
        .and_then(|h| h.as_any())
        .and_then(|a| a.downcast_mut::<NetlinkFile>())
        .expect("checked by netlink_file");
    f(s)
}

pub fn socket(k: &mut Kernel, ty: u32, proto: u32) -> SysResult {
    if ty & !(SOCK_TYPE_MASK | oflag::O_NONBLOCK | oflag::O_CLOEXEC) != 0 {
        return Err(Errno::EINVAL.into());
    }
    if !matches!(ty & SOCK_TYPE_MASK, SOCK_RAW | SOCK_DGRAM) {
        return Err(Errno::ESOCKTNOSUPPORT.into());
    }
    if proto != NETLINK_ROUTE {
        return Err(Errno::EPROTONOSUPPORT.into());
    }
    let (uid, gid) = super::socket_owner(k);
    let handle = NetlinkFile::new(k.files.unix.new_id(), uid, gid);
    let file = OpenFile {
        node: None,
        location: None,
        handle: Some(Box::new(handle)),
        offset: 0,
        flags: oflag::O_RDWR | (ty & oflag::O_NONBLOCK),
        dir_entries: None,
    };
    super::install(k, file, ty & oflag::O_CLOEXEC != 0)
}

/// The port a socket gets when it is first used unbound.
fn autobind(k: &mut Kernel, file: &FileRef) {
    let pid = k.proc().pid;
    with(file, |s| {
        if s.port == 0 {
            s.port = pid;
        }
    });
}

/// A sockaddr_nl argument: (nl_pid, nl_groups).
fn read_name(k: &mut Kernel, at: u32, len: u32) -> KResult<(u32, u32)> {
    if len < 12 {
        return Err(Errno::EINVAL);
    }
    let raw = super::inet::read_raw(k, at, len.min(12))?;
    if u32::from(u16::from_le_bytes([raw[0], raw[1]])) != AF_NETLINK {
        return Err(Errno::EINVAL);
    }
    let word = |i: usize| u32::from_le_bytes(raw[i..i + 4].try_into().expect("4 bytes"));
    Ok((word(4), word(8)))
}

pub fn bind(k: &mut Kernel, file: &FileRef, a: &Args) -> SysResult {
    let (port, groups) = read_name(k, a[1], a[2])?;
    let bound = with(file, |s| s.port);
    if bound != 0 && port != 0 && port != bound {
        return Err(Errno::EINVAL.into());
    }
    with(file, |s| {
        s.groups = groups;
        if port != 0 {
            s.port = port;
        }
    });
    autobind(k, file);
    Ok(0)
}

/// connect: only to the kernel (nl_pid 0) means anything here.
pub fn connect(k: &mut Kernel, file: &FileRef, a: &Args) -> SysResult {
    let (port, _) = read_name(k, a[1], a[2])?;
    if port != 0 {
        return Err(Errno::ECONNREFUSED.into());
    }
    autobind(k, file);
    Ok(0)
}

pub fn getsockname(k: &mut Kernel, file: &FileRef, a: &Args) -> SysResult {
    let name = with(file, |s| s.name());
    super::inet::write_raw(k, a[1], a[2], &name)?;
    Ok(0)
}

pub fn getpeername(k: &mut Kernel, a: &Args) -> SysResult {
    super::inet::write_raw(k, a[1], a[2], &sockaddr(0, 0))?;
    Ok(0)
}

pub fn send(k: &mut Kernel, file: &FileRef, data: &[u8], to: Option<Vec<u8>>) -> SysResult {
    if let Some(raw) = to {
        if raw.len() < 12 || u32::from(u16::from_le_bytes([raw[0], raw[1]])) != AF_NETLINK {
            return Err(Errno::EINVAL.into());
        }
        // To another socket rather than the kernel: nobody listens.
        if raw[4..8] != [0; 4] {
            return Err(Errno::ECONNREFUSED.into());
        }
    }
    autobind(k, file);
    let all = ifaces::interfaces(k);
    Ok(with(file, |s| s.send(data, &all)) as u32)
}

pub fn recv(
    k: &mut Kernel,
    file: &FileRef,
    fd: u32,
    max: usize,
    flags: u32,
) -> Result<Ready<Received>, SysErr> {
    let nb = nonblocking(k, fd, flags)?;
    let mut d = match with(file, |s| s.recv(flags & MSG_PEEK != 0)) {
        Err(Errno::EAGAIN) if !nb => return Ok(Ready::Block(Wait::Readable { fd })),
        r => r?,
    };
    let full_len = d.len();
    d.truncate(max);
    Ok(Ready::Now(Received {
        truncated: full_len > max,
        full_len,
        data: d,
        raw_from: Some(sockaddr(0, 0)),
        ..Received::default()
    }))
}

pub fn getsockopt(k: &mut Kernel, file: &FileRef, a: &Args) -> SysResult {
    const SO_TYPE: u32 = 3;
    const SO_ERROR: u32 = 4;
    const SO_SNDBUF: u32 = 7;
    const SO_RCVBUF: u32 = 8;
    const SO_PROTOCOL: u32 = 38;
    const SO_DOMAIN: u32 = 39;
    let (level, opt, val, len_at) = (a[1], a[2], a[3], a[4]);
    if level != SOL_SOCKET {
        return Err(Errno::ENOPROTOOPT.into());
    }
    let v = match opt {
        SO_TYPE => SOCK_RAW,
        SO_ERROR => 0,
        SO_SNDBUF => with(file, |s| s.sndbuf),
        SO_RCVBUF => with(file, |s| s.rcvbuf),
        SO_PROTOCOL => NETLINK_ROUTE,
        SO_DOMAIN => AF_NETLINK,
        _ => return Err(Errno::ENOPROTOOPT.into()),
    };
    let room = k.mem().read_u32(GuestAddr(len_at))?;
    if (room as i32) < 0 {
        return Err(Errno::EINVAL.into());
    }
    let b = v.to_le_bytes();
    let n = b.len().min(room as usize);
    k.mem().write_bytes(GuestAddr(val), &b[..n])?;
    k.mem().write_u32(GuestAddr(len_at), n as u32)?;
    Ok(0)
}

pub fn setsockopt(k: &mut Kernel, file: &FileRef, a: &Args) -> SysResult {
    const SO_SNDBUF: u32 = 7;
    const SO_RCVBUF: u32 = 8;
    const SO_PASSCRED: u32 = 16;
    const SO_SNDBUFFORCE: u32 = 32;
    const SO_RCVBUFFORCE: u32 = 33;
    let (level, opt, val, len) = (a[1], a[2], a[3], a[4]);
    let int = if len >= 4 {
        k.mem().read_u32(GuestAddr(val))?
    } else {
        return Err(Errno::EINVAL.into());
    };
    match (level, opt) {
        (SOL_SOCKET, SO_SNDBUF | SO_SNDBUFFORCE) => {
            with(file, |s| s.sndbuf = int.saturating_mul(2))
        }
        (SOL_SOCKET, SO_RCVBUF | SO_RCVBUFFORCE) => {
            with(file, |s| s.rcvbuf = int.saturating_mul(2))
        }
        (SOL_SOCKET, SO_PASSCRED) => {}
        // NETLINK_ADD/DROP_MEMBERSHIP, PKTINFO, BROADCAST_ERROR,
        // NO_ENOBUFS, LISTEN_ALL_NSID, CAP_ACK, EXT_ACK, GET_STRICT_CHK:
        // accepted; no group ever sends, and every answer is already
        // what a strict check would give.
        (SOL_NETLINK, 1..=5 | 8 | 10..=12) => {}
        _ => return Err(Errno::ENOPROTOOPT.into()),
    }
    Ok(0)
}
