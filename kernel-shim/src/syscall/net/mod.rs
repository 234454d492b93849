//! Socket system calls: the i386 `socketcall` multiplexer and the direct
//! calls (socket 359 .. shutdown 373, recvmmsg, sendmmsg).
//!
//! AF_UNIX sockets are `crate::files::socket`; AF_INET and AF_INET6 are
//! `crate::files::inet`, and every call on such a descriptor goes to
//! `inet.rs`; AF_NETLINK (NETLINK_ROUTE, reading interfaces) is
//! `crate::files::netlink` through `netlink.rs`. The rest fail with
//! EAFNOSUPPORT.
//!
//! Not done: SO_RCVTIMEO/SO_SNDTIMEO are accepted but do not time out;
//! recvmmsg ignores its timeout; a blocking connect to a listener whose
//! backlog is full queues anyway instead of waiting.

mod ifaces;
mod inet;
mod msg;
mod netlink;
mod opt;

use super::fs::{at_start, install, new_node, AT_FDCWD};
use super::table::Handler;
use super::{Args, Outcome, Ready, SysErr, SysOutcome, SysResult, MAX_IO};
use crate::abi::errno::{Errno, KResult};
use crate::abi::mode;
use crate::abi::oflag;
use crate::files::socket::names::Given;
use crate::files::socket::{
    Addr, Kind, Msg, Received, Socket, SocketFile, SocketRef, State, Ucred,
};
use crate::kernel::Kernel;
use crate::tasks::process::Wait;
use crate::vfs::file::OpenFile;
use crate::vfs::{perm, FileType, Resolve};
use wax_cpu::GuestAddr;

pub use msg::{sys_recvmmsg, sys_recvmsg, sys_sendmmsg, sys_sendmsg};
pub use opt::{sys_getsockopt, sys_setsockopt};

const AF_UNIX: u32 = 1;
const SOCK_TYPE_MASK: u32 = 0xf;
const SOCK_RAW: u32 = 3;
const SOCK_NONBLOCK: u32 = oflag::O_NONBLOCK;
const SOCK_CLOEXEC: u32 = oflag::O_CLOEXEC;

/// send/recv flags.
pub mod msgf {
    pub const MSG_OOB: u32 = 1;
    pub const MSG_PEEK: u32 = 2;
    pub const MSG_CTRUNC: u32 = 8;
    pub const MSG_TRUNC: u32 = 0x20;
    pub const MSG_DONTWAIT: u32 = 0x40;
    pub const MSG_WAITALL: u32 = 0x100;
    pub const MSG_NOSIGNAL: u32 = 0x4000;
    pub const MSG_CMSG_CLOEXEC: u32 = 0x4000_0000;
}
use msgf::*;

/// The descriptor's open file if its handle is a `T` (an internet or a
/// netlink socket).
pub(crate) fn file_of<T: 'static>(k: &mut Kernel, fd: u32) -> Option<crate::vfs::file::FileRef> {
    let file = k.proc().fds.file(fd).ok()?;
    let is = file
        .borrow_mut()
        .handle
        .as_mut()
        .and_then(|h| h.as_any())
        .is_some_and(|a| a.is::<T>());
    is.then_some(file)
}

/// The socket behind descriptor `fd` (ENOTSOCK for other files).
pub(crate) fn socket_of(k: &mut Kernel, fd: u32) -> KResult<SocketRef> {
    let file = k.proc().fds.file(fd)?;
    let mut f = file.borrow_mut();
    f.handle
        .as_mut()
        .and_then(|h| h.as_any())
        .and_then(|a| a.downcast_mut::<SocketFile>())
        .map(|s| s.0.clone())
        .ok_or(Errno::ENOTSOCK)
}

/// The caller's credentials as SO_PEERCRED shows them to the other end of
/// a socket it creates, connects or listens on: its pid and effective ids
/// (Linux's `cred_to_ucred`).
pub(crate) fn peer_cred(k: &mut Kernel) -> Ucred {
    let p = k.proc();
    Ucred {
        pid: p.pid,
        uid: p.cred.euid,
        gid: p.cred.egid,
    }
}

/// The credentials a message carries when its sender names none
/// (SCM_CREDENTIALS at the receiver): its pid and real ids, taken at each
/// send (Linux's `current_uid_gid`).
pub(crate) fn sender_cred(k: &mut Kernel) -> Ucred {
    let p = k.proc();
    Ucred {
        pid: p.pid,
        uid: p.cred.ruid,
        gid: p.cred.rgid,
    }
}

/// The owner a new socket's inode shows to fstat: the creator's
/// file-system ids.
pub(crate) fn socket_owner(k: &mut Kernel) -> (u32, u32) {
    let c = &k.proc().cred;
    (c.fsuid, c.fsgid)
}

fn nonblocking(k: &mut Kernel, fd: u32, flags: u32) -> KResult<bool> {
    let file = k.proc().fds.file(fd)?;
    let nb = file.borrow().flags & oflag::O_NONBLOCK != 0;
    Ok(nb || flags & MSG_DONTWAIT != 0)
}

/// Puts a socket in a new descriptor.
fn install_socket(k: &mut Kernel, s: SocketRef, flags: u32) -> SysResult {
    let file = OpenFile {
        node: None,
        location: None,
        handle: Some(Box::new(SocketFile(s))),
        offset: 0,
        flags: oflag::O_RDWR | (flags & SOCK_NONBLOCK),
        dir_entries: None,
    };
    install(k, file, flags & SOCK_CLOEXEC != 0)
}

/// Checks socket(2)'s arguments: the socket type, or the errno.
fn check_type(domain: u32, ty: u32, proto: u32) -> KResult<Kind> {
    if domain != AF_UNIX {
        return Err(Errno::EAFNOSUPPORT);
    }
    if ty & !(SOCK_TYPE_MASK | SOCK_NONBLOCK | SOCK_CLOEXEC) != 0 {
        return Err(Errno::EINVAL);
    }
    if proto != 0 && proto != AF_UNIX {
        return Err(Errno::EPROTONOSUPPORT);
    }
    match ty & SOCK_TYPE_MASK {
        // Linux turns a raw unix socket into a datagram one.
        SOCK_RAW => Ok(Kind::Dgram),
        t => Kind::from_type(t).ok_or(Errno::ESOCKTNOSUPPORT),
    }
}

fn new_socket(k: &mut Kernel, kind: Kind) -> SocketRef {
    let cred = peer_cred(k);
    let id = k.files.unix.new_id();
    Socket::new(id, kind, cred)
}

pub fn sys_socket(k: &mut Kernel, a: &Args) -> SysResult {
    if a[0] == inet::AF_INET || a[0] == inet::AF_INET6 {
        return inet::socket(k, a[0], a[1], a[2]);
    }
    if a[0] == crate::files::netlink::AF_NETLINK {
        return netlink::socket(k, a[1], a[2]);
    }
    let kind = check_type(a[0], a[1], a[2])?;
    let s = new_socket(k, kind);
    install_socket(k, s, a[1])
}

pub fn sys_socketpair(k: &mut Kernel, a: &Args) -> SysResult {
    const AF_INET: u32 = 2;
    const AF_INET6: u32 = 10;
    // Linux creates the inet socket, then its socketpair is
    // sock_no_socketpair.
    if a[0] == AF_INET || a[0] == AF_INET6 {
        return Err(Errno::EOPNOTSUPP.into());
    }
    let kind = check_type(a[0], a[1], a[2])?;
    k.mem().probe_write(GuestAddr(a[3]), 8)?;
    let (x, y) = (new_socket(k, kind), new_socket(k, kind));
    Socket::link(&x, &y);
    let fx = install_socket(k, x, a[1])?;
    let fy = match install_socket(k, y, a[1]) {
        Ok(f) => f,
        Err(e) => {
            let _ = k.proc().fds.remove(fx);
            return Err(e);
        }
    };
    let mut m = k.mem();
    m.write_u32(GuestAddr(a[3]), fx)?;
    m.write_u32(GuestAddr(a[3] + 4), fy)?;
    Ok(0)
}

/// Reads a `sockaddr_un` of `len` bytes.
fn read_addr(k: &mut Kernel, at: u32, len: u32) -> KResult<Given> {
    if len as usize > crate::files::socket::names::SOCKADDR_UN_LEN || (len as i32) < 0 {
        return Err(Errno::EINVAL);
    }
    let mut raw = vec![0u8; len as usize];
    k.mem().read_bytes(GuestAddr(at), &mut raw)?;
    Addr::parse(&raw)
}

/// Parses a destination read raw (sendto, sendmsg) as a `sockaddr_un`.
fn parse_un(raw: &[u8]) -> KResult<Given> {
    if raw.len() > crate::files::socket::names::SOCKADDR_UN_LEN {
        return Err(Errno::EINVAL);
    }
    Addr::parse(raw)
}

/// Stores a receive's source address (recvfrom, recvmsg).
pub(crate) fn write_from(k: &mut Kernel, at: u32, len_at: u32, r: &Received) -> KResult<()> {
    match &r.raw_from {
        Some(raw) => inet::write_raw(k, at, len_at, raw),
        None => write_addr(k, at, len_at, r.from.as_ref()),
    }
}

/// Socket ioctls: FIONREAD (SIOCINQ) and the interface requests
/// (`ifaces.rs`) on sockets; `None` for the rest.
pub(crate) fn ioctl(k: &mut Kernel, fd: u32, req: u32, arg: u32) -> Option<SysResult> {
    use crate::abi::ioctl::FIONREAD;
    if ifaces::is_interface_ioctl(req) {
        let is_socket = inet::inet_file(k, fd).is_some()
            || netlink::netlink_file(k, fd).is_some()
            || socket_of(k, fd).is_ok();
        return is_socket.then(|| Ok(ifaces::ioctl(k, req, arg)?));
    }
    if req != FIONREAD {
        return None;
    }
    let n = if let Some(f) = inet::inet_file(k, fd) {
        inet::readable_bytes(&f)
    } else {
        let s = socket_of(k, fd).ok()?;
        let n = s.borrow().readable_bytes();
        Ok(n)
    };
    Some(n.map_err(SysErr::from).and_then(|n| {
        k.mem().write_u32(GuestAddr(arg), n as u32)?;
        Ok(0)
    }))
}

/// Stores a name at `at` with its length at `len_at` (truncated to the
/// caller's buffer, the full length reported, as Linux).
fn write_addr(k: &mut Kernel, at: u32, len_at: u32, name: Option<&Addr>) -> KResult<()> {
    if at == 0 || len_at == 0 {
        return Ok(());
    }
    let room = k.mem().read_u32(GuestAddr(len_at))?;
    if (room as i32) < 0 {
        return Err(Errno::EINVAL);
    }
    let b = Addr::encode(name);
    let n = b.len().min(room as usize);
    k.mem().write_bytes(GuestAddr(at), &b[..n])?;
    k.mem().write_u32(GuestAddr(len_at), b.len() as u32)?;
    Ok(())
}

pub fn sys_bind(k: &mut Kernel, a: &Args) -> SysResult {
    if let Some(f) = inet::inet_file(k, a[0]) {
        return inet::bind(k, &f, a);
    }
    if let Some(f) = netlink::netlink_file(k, a[0]) {
        return netlink::bind(k, &f, a);
    }
    let s = socket_of(k, a[0])?;
    let given = read_addr(k, a[1], a[2])?;
    // Linux's order: autobind of a bound socket does nothing; a path
    // name is created before the "already bound" check (EADDRINUSE
    // first); an abstract name is checked after it.
    let bound = s.borrow().name.is_some();
    let name = match given {
        Given::Unnamed if bound => return Ok(0),
        Given::Unnamed => Addr::Abstract(k.files.unix.auto_name()),
        Given::Name(n) => n,
    };
    match &name {
        Addr::Path(p) if bound => {
            path_free(k, p)?;
            return Err(Errno::EINVAL.into());
        }
        _ if bound => return Err(Errno::EINVAL.into()),
        Addr::Abstract(n) => k.files.unix.bind_abstract(n, &s)?,
        Addr::Path(p) => bind_path(k, p, &s)?,
    }
    s.borrow_mut().name = Some(name);
    Ok(0)
}

/// The parent directory and last name of a path a socket may be bound
/// to (EADDRINUSE if the name exists, whatever it is).
fn path_free(k: &mut Kernel, path: &[u8]) -> KResult<(crate::vfs::Location, Vec<u8>)> {
    let start = at_start(k, AT_FDCWD, path)?;
    let (dir, name) = k.vfs.resolve_parent(&start, path)?;
    if name.is_empty() || name == b"." || name == b".." {
        return Err(Errno::EADDRINUSE);
    }
    if k.vfs.resolve(&dir, &name, Resolve::NoFollow).is_ok() {
        return Err(Errno::EADDRINUSE);
    }
    Ok((dir, name.to_vec()))
}

/// Creates the socket node for a path name.
fn bind_path(k: &mut Kernel, path: &[u8], s: &SocketRef) -> KResult<()> {
    let (dir, name) = path_free(k, path)?;
    let node = new_node(k, &dir, mode::S_IFSOCK | 0o777, true)?;
    let (m, dino) = k.vfs.node(&dir);
    let ino = k.vfs.fs(m).create(dino, &name, &node)?;
    k.files.unix.bind_node(m, ino, s);
    Ok(())
}

/// The socket bound at a name.
fn find_bound(k: &mut Kernel, name: &Addr) -> KResult<SocketRef> {
    match name {
        Addr::Abstract(n) => k.files.unix.find_abstract(n).ok_or(Errno::ECONNREFUSED),
        Addr::Path(p) => {
            let start = at_start(k, AT_FDCWD, p)?;
            let loc = k.vfs.resolve(&start, p, Resolve::Follow)?;
            let attr = k.vfs.getattr(&loc)?;
            if attr.file_type() != FileType::Socket {
                return Err(Errno::ECONNREFUSED);
            }
            perm::check(&attr, &super::fs::cred(k), perm::MAY_WRITE)?;
            let (m, ino) = k.vfs.node(&loc);
            k.files.unix.find_node(m, ino).ok_or(Errno::ECONNREFUSED)
        }
    }
}

fn named(given: Given) -> KResult<Addr> {
    match given {
        Given::Unnamed => Err(Errno::EINVAL),
        Given::Name(n) => Ok(n),
    }
}

pub fn sys_connect(k: &mut Kernel, a: &Args) -> SysOutcome {
    if let Some(f) = inet::inet_file(k, a[0]) {
        return inet::connect(k, &f, a);
    }
    if let Some(f) = netlink::netlink_file(k, a[0]) {
        return netlink::connect(k, &f, a).map(Outcome::Done);
    }
    let s = socket_of(k, a[0])?;
    let name = named(read_addr(k, a[1], a[2])?)?;
    let target = find_bound(k, &name)?;
    let kind = s.borrow().kind;
    if target.borrow().kind != kind {
        return Err(Errno::EPROTOTYPE.into());
    }
    if !kind.connected() {
        let mut me = s.borrow_mut();
        me.state = State::Connected {
            peer: std::rc::Rc::downgrade(&target),
        };
        me.peer_name = Some(name);
        return Ok(Outcome::Done(0));
    }
    match s.borrow().state {
        State::Connected { .. } => return Err(Errno::EISCONN.into()),
        State::Listening { .. } => return Err(Errno::EINVAL.into()),
        State::Unconnected => {}
    }
    if !matches!(target.borrow().state, State::Listening { .. }) {
        return Err(Errno::ECONNREFUSED.into());
    }
    let cred = peer_cred(k);
    s.borrow_mut().cred = cred;
    let server = new_socket(k, kind);
    {
        let t = target.borrow();
        let mut sv = server.borrow_mut();
        sv.cred = t.cred;
        sv.name = t.name.clone();
        sv.peer_name = s.borrow().name.clone();
        sv.passcred = t.passcred;
    }
    Socket::link(&s, &server);
    s.borrow_mut().peer_name = target.borrow().name.clone();
    if let State::Listening { queue, .. } = &mut target.borrow_mut().state {
        queue.push_back(server);
    }
    Ok(Outcome::Done(0))
}

pub fn sys_listen(k: &mut Kernel, a: &Args) -> SysResult {
    if let Some(f) = inet::inet_file(k, a[0]) {
        return inet::listen(&f, a[1]);
    }
    if netlink::netlink_file(k, a[0]).is_some() {
        return Err(Errno::EOPNOTSUPP.into());
    }
    let s = socket_of(k, a[0])?;
    let cred = peer_cred(k);
    let mut me = s.borrow_mut();
    me.listen(a[1])?;
    me.cred = cred;
    Ok(0)
}

fn accept(k: &mut Kernel, fd: u32, addr: u32, len_at: u32, flags: u32) -> SysOutcome {
    if let Some(f) = inet::inet_file(k, fd) {
        return inet::accept(k, &f, fd, addr, len_at, flags);
    }
    if netlink::netlink_file(k, fd).is_some() {
        return Err(Errno::EOPNOTSUPP.into());
    }
    if flags & !(SOCK_NONBLOCK | SOCK_CLOEXEC) != 0 {
        return Err(Errno::EINVAL.into());
    }
    let s = socket_of(k, fd)?;
    if !s.borrow().kind.connected() {
        return Err(Errno::EOPNOTSUPP.into());
    }
    if addr != 0 {
        k.mem().probe_write(GuestAddr(len_at), 4)?;
    }
    let nb = nonblocking(k, fd, 0)?;
    let conn = match s.borrow_mut().accept() {
        Err(Errno::EAGAIN) if !nb => return Ok(Outcome::Block(Wait::Readable { fd })),
        r => r?,
    };
    let peer_name = conn.borrow().peer_name.clone();
    let n = install_socket(k, conn, flags)?;
    write_addr(k, addr, len_at, peer_name.as_ref())?;
    Ok(Outcome::Done(n))
}

pub fn sys_accept(k: &mut Kernel, a: &Args) -> SysOutcome {
    accept(k, a[0], a[1], a[2], 0)
}

pub fn sys_accept4(k: &mut Kernel, a: &Args) -> SysOutcome {
    accept(k, a[0], a[1], a[2], a[3])
}

pub fn sys_getsockname(k: &mut Kernel, a: &Args) -> SysResult {
    if let Some(f) = inet::inet_file(k, a[0]) {
        return inet::getsockname(k, &f, a);
    }
    if let Some(f) = netlink::netlink_file(k, a[0]) {
        return netlink::getsockname(k, &f, a);
    }
    let s = socket_of(k, a[0])?;
    let name = s.borrow().name.clone();
    write_addr(k, a[1], a[2], name.as_ref())?;
    Ok(0)
}

pub fn sys_getpeername(k: &mut Kernel, a: &Args) -> SysResult {
    if let Some(f) = inet::inet_file(k, a[0]) {
        return inet::getpeername(k, &f, a);
    }
    if netlink::netlink_file(k, a[0]).is_some() {
        return netlink::getpeername(k, a);
    }
    let s = socket_of(k, a[0])?;
    let me = s.borrow();
    let ok = me.is_connected() && (me.peer().is_some() || !me.kind.connected());
    if !ok {
        return Err(Errno::ENOTCONN.into());
    }
    let name = me.peer_name.clone();
    drop(me);
    write_addr(k, a[1], a[2], name.as_ref())?;
    Ok(0)
}

pub fn sys_shutdown(k: &mut Kernel, a: &Args) -> SysResult {
    if let Some(f) = inet::inet_file(k, a[0]) {
        return inet::shutdown(&f, a[1]);
    }
    if netlink::netlink_file(k, a[0]).is_some() {
        return Err(Errno::EOPNOTSUPP.into());
    }
    let s = socket_of(k, a[0])?;
    Socket::shutdown(&s, a[1])?;
    Ok(0)
}

/// What a send carries besides the bytes.
#[derive(Default)]
pub(crate) struct SendExtra {
    pub fds: Vec<crate::vfs::file::FileRef>,
    pub cred: Option<Ucred>,
    /// The destination's raw sockaddr.
    pub to: Option<Vec<u8>>,
    /// Control messages of other levels than SOL_SOCKET (IP, IPv6):
    /// internet sockets pass them on, other sockets refuse them.
    pub control: Vec<wax_devices::net::Cmsg>,
}

/// The common send path: EPIPE raises SIGPIPE unless MSG_NOSIGNAL, a full
/// queue parks (unless non-blocking).
pub(crate) fn send(k: &mut Kernel, fd: u32, data: Vec<u8>, x: SendExtra, flags: u32) -> SysOutcome {
    if let Some(f) = inet::inet_file(k, fd) {
        return inet::send(k, &f, fd, &data, x.to, &x.control, flags);
    }
    if !x.control.is_empty() {
        return Err(Errno::EINVAL.into());
    }
    if let Some(f) = netlink::netlink_file(k, fd) {
        return netlink::send(k, &f, &data, x.to).map(Outcome::Done);
    }
    let s = socket_of(k, fd)?;
    if flags & MSG_OOB != 0 {
        return Err(Errno::EOPNOTSUPP.into());
    }
    let kind = s.borrow().kind;
    let to = match x.to {
        None => None,
        Some(_) if kind.connected() => {
            let e = if s.borrow().is_connected() {
                Errno::EISCONN
            } else {
                Errno::EOPNOTSUPP
            };
            return Err(e.into());
        }
        Some(raw) => Some(find_bound(k, &named(parse_un(&raw)?)?)?),
    };
    if to.as_ref().is_some_and(|t| t.borrow().kind != Kind::Dgram) {
        return Err(Errno::EPROTOTYPE.into());
    }
    let cred = match x.cred {
        Some(c) => c,
        None => sender_cred(k),
    };
    let msg = Msg {
        data,
        fds: x.fds,
        cred,
        from: s.borrow().name.clone(),
    };
    let nb = nonblocking(k, fd, flags)?;
    match Socket::send(&s, msg, to) {
        Err(Errno::EPIPE) => Err(crate::syscall::broken_pipe(k, flags & MSG_NOSIGNAL == 0)),
        Err(Errno::EAGAIN) if !nb => Ok(Outcome::Block(Wait::Writable { fd })),
        Err(Errno::ENOTCONN) if !kind.connected() => Err(Errno::EDESTADDRREQ.into()),
        r => Ok(Outcome::Done(r? as u32)),
    }
}

/// The common receive path: parks when nothing is there (or MSG_WAITALL
/// cannot be satisfied yet) unless non-blocking.
pub(crate) fn recv(
    k: &mut Kernel,
    fd: u32,
    max: usize,
    flags: u32,
) -> Result<Ready<Received>, SysErr> {
    if let Some(f) = inet::inet_file(k, fd) {
        return inet::recv(k, &f, fd, max, flags);
    }
    if let Some(f) = netlink::netlink_file(k, fd) {
        return netlink::recv(k, &f, fd, max, flags);
    }
    let s = socket_of(k, fd)?;
    if flags & MSG_OOB != 0 {
        return Err(Errno::EINVAL.into());
    }
    let nb = nonblocking(k, fd, flags)?;
    let waitall = flags & MSG_WAITALL != 0 && flags & MSG_PEEK == 0;
    if waitall && !nb && !s.borrow().can_fill(max) {
        // Woken by any data; the restarted call checks again.
        return Ok(Ready::Block(Wait::Readable { fd }));
    }
    let r = s.borrow_mut().recv(max, flags & MSG_PEEK != 0);
    match r {
        Err(Errno::EAGAIN) if !nb => Ok(Ready::Block(Wait::Readable { fd })),
        r => Ok(Ready::Now(r?)),
    }
}

pub fn sys_sendto(k: &mut Kernel, a: &Args) -> SysOutcome {
    let len = (a[2] as usize).min(MAX_IO);
    let mut data = vec![0u8; len];
    k.mem().read_bytes(GuestAddr(a[1]), &mut data)?;
    let to = if a[4] != 0 {
        Some(inet::read_raw(k, a[4], a[5])?)
    } else {
        None
    };
    let x = SendExtra {
        fds: Vec::new(),
        cred: None,
        to,
        control: Vec::new(),
    };
    send(k, a[0], data, x, a[3])
}

pub fn sys_send(k: &mut Kernel, a: &Args) -> SysOutcome {
    sys_sendto(k, &[a[0], a[1], a[2], a[3], 0, 0])
}

pub fn sys_recvfrom(k: &mut Kernel, a: &Args) -> SysOutcome {
    let len = (a[2] as usize).min(MAX_IO);
    k.mem().probe_write(GuestAddr(a[1]), len as u32)?;
    let r = match recv(k, a[0], len, a[3])? {
        Ready::Now(r) => r,
        Ready::Block(w) => return Ok(Outcome::Block(w)),
    };
    k.mem().write_bytes(GuestAddr(a[1]), &r.data)?;
    write_from(k, a[4], a[5], &r)?;
    if a[3] & MSG_TRUNC != 0 {
        return Ok(Outcome::Done(r.full_len as u32));
    }
    Ok(Outcome::Done(r.data.len() as u32))
}

pub fn sys_recv(k: &mut Kernel, a: &Args) -> SysOutcome {
    sys_recvfrom(k, &[a[0], a[1], a[2], a[3], 0, 0])
}

/// socketcall(call, args): the i386 multiplexer. Each call's arguments
/// are an array of words at `args`.
pub fn sys_socketcall(k: &mut Kernel, a: &Args) -> SysOutcome {
    use Handler::{MayBlock, Returns};
    const CALLS: [(usize, Handler); 20] = [
        (3, Returns(sys_socket)),
        (3, Returns(sys_bind)),
        (3, MayBlock(sys_connect)),
        (2, Returns(sys_listen)),
        (3, MayBlock(sys_accept)),
        (3, Returns(sys_getsockname)),
        (3, Returns(sys_getpeername)),
        (4, Returns(sys_socketpair)),
        (4, MayBlock(sys_send)),
        (4, MayBlock(sys_recv)),
        (6, MayBlock(sys_sendto)),
        (6, MayBlock(sys_recvfrom)),
        (2, Returns(sys_shutdown)),
        (5, Returns(sys_setsockopt)),
        (5, Returns(sys_getsockopt)),
        (3, MayBlock(sys_sendmsg)),
        (3, MayBlock(sys_recvmsg)),
        (4, MayBlock(sys_accept4)),
        (5, MayBlock(sys_recvmmsg)),
        (4, MayBlock(sys_sendmmsg)),
    ];
    let call = a[0];
    if !(1..=20).contains(&call) {
        return Err(Errno::EINVAL.into());
    }
    let (n, handler) = CALLS[call as usize - 1];
    let mut args: Args = [0; 6];
    for (i, v) in args.iter_mut().take(n).enumerate() {
        *v = k.mem().read_u32(GuestAddr(a[1] + 4 * i as u32))?;
    }
    handler.call(k, &args)
}

/// The Linux name of a socketcall call number (for --strace).
pub fn socketcall_name(call: u32) -> &'static str {
    const NAMES: [&str; 20] = [
        "socket",
        "bind",
        "connect",
        "listen",
        "accept",
        "getsockname",
        "getpeername",
        "socketpair",
        "send",
        "recv",
        "sendto",
        "recvfrom",
        "shutdown",
        "setsockopt",
        "getsockopt",
        "sendmsg",
        "recvmsg",
        "accept4",
        "recvmmsg",
        "sendmmsg",
    ];
    call.checked_sub(1)
        .and_then(|i| NAMES.get(i as usize))
        .copied()
        .unwrap_or("?")
}
