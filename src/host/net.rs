//! `--net host`: guest internet sockets are host sockets
//! (`wax_devices::net::Network`). Every host socket is non-blocking and
//! every send carries MSG_NOSIGNAL, so no guest wait ever blocks wax and
//! a closed peer never kills it; the kernel parks guest threads and asks
//! [`HostNet::poll`] for readiness. While the guest is idle the run loop
//! calls [`HostNet::wait`], which sleeps in poll(2) until a socket changes
//! in a way the kernel has not seen yet.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;
use wax_devices::net::{Cmsg, Interface, NetResult, Network, Received, SocketId};

struct Entry {
    fd: OwnedFd,
    /// The readiness the kernel saw at its last poll.
    seen: i16,
}

#[derive(Default)]
pub struct HostNet {
    socks: HashMap<SocketId, Entry>,
    next: SocketId,
}

/// Bytes of control messages a host receive takes (Linux's own socket
/// option limit for them, optmem_max, is larger; IP-level messages are
/// a few dozen bytes).
const CONTROL_ROOM: usize = 1024;

/// Control messages in the host's layout (8-byte aligned `cmsghdr`s).
fn host_control(control: &[Cmsg]) -> Vec<u64> {
    // SAFETY: CMSG_SPACE is arithmetic.
    let space: usize = (control.iter())
        .map(|c| unsafe { libc::CMSG_SPACE(c.data.len() as u32) } as usize)
        .sum();
    let mut buf = vec![0u64; space.div_ceil(8)];
    let base = buf.as_mut_ptr().cast::<u8>();
    let mut off = 0;
    for c in control {
        // SAFETY: `off` plus this message's CMSG_SPACE stays within `buf`
        // (sized as the sum of them), and `off` is a multiple of 8.
        unsafe {
            let h = base.add(off).cast::<libc::cmsghdr>();
            (*h).cmsg_len = libc::CMSG_LEN(c.data.len() as u32) as _;
            (*h).cmsg_level = c.level as i32;
            (*h).cmsg_type = c.ty as i32;
            std::ptr::copy_nonoverlapping(c.data.as_ptr(), libc::CMSG_DATA(h), c.data.len());
            off += libc::CMSG_SPACE(c.data.len() as u32) as usize;
        }
    }
    buf
}

/// The control messages a host receive filled in.
fn guest_control(mh: &libc::msghdr) -> Vec<Cmsg> {
    let mut out = Vec::new();
    // SAFETY: `mh` was just filled by recvmsg: its control buffer holds
    // `msg_controllen` bytes of well-formed messages, which the CMSG
    // macros walk without leaving it.
    unsafe {
        let mut h = libc::CMSG_FIRSTHDR(mh);
        while !h.is_null() {
            let len = ((*h).cmsg_len as usize).saturating_sub(libc::CMSG_LEN(0) as usize);
            let data = std::slice::from_raw_parts(libc::CMSG_DATA(h), len);
            out.push(Cmsg {
                level: (*h).cmsg_level as u32,
                ty: (*h).cmsg_type as u32,
                data: data.to_vec(),
            });
            h = libc::CMSG_NXTHDR(mh, h);
        }
    }
    out
}

fn last_errno() -> i32 {
    std::io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}

/// `r` as a result: -1 is the errno.
fn check(r: libc::c_int) -> NetResult<libc::c_int> {
    if r < 0 {
        Err(last_errno())
    } else {
        Ok(r)
    }
}

/// A host sockaddr for `a` and its length.
fn to_host(a: Option<SocketAddr>) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: sockaddr_storage is plain data; all zeroes is a valid value.
    let mut ss: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let len = match a {
        None => {
            ss.ss_family = libc::AF_UNSPEC as libc::sa_family_t;
            std::mem::size_of::<libc::sa_family_t>()
        }
        Some(SocketAddr::V4(v4)) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: v4.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from_ne_bytes(v4.ip().octets()),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: sockaddr_storage is larger than and aligned for
            // sockaddr_in.
            unsafe { std::ptr::write((&mut ss as *mut libc::sockaddr_storage).cast(), sin) };
            std::mem::size_of::<libc::sockaddr_in>()
        }
        Some(SocketAddr::V6(v6)) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: v6.port().to_be(),
                sin6_flowinfo: v6.flowinfo().to_be(),
                sin6_addr: libc::in6_addr {
                    s6_addr: v6.ip().octets(),
                },
                sin6_scope_id: v6.scope_id(),
            };
            // SAFETY: as above, for sockaddr_in6.
            unsafe { std::ptr::write((&mut ss as *mut libc::sockaddr_storage).cast(), sin6) };
            std::mem::size_of::<libc::sockaddr_in6>()
        }
    };
    (ss, len as libc::socklen_t)
}

/// The address in a host sockaddr, if it is an internet one.
fn from_host(ss: &libc::sockaddr_storage) -> Option<SocketAddr> {
    match i32::from(ss.ss_family) {
        libc::AF_INET => {
            // SAFETY: the family says the storage holds a sockaddr_in.
            let sin: &libc::sockaddr_in = unsafe { &*(ss as *const libc::sockaddr_storage).cast() };
            let ip = Ipv4Addr::from(sin.sin_addr.s_addr.to_ne_bytes());
            Some(SocketAddr::V4(SocketAddrV4::new(
                ip,
                u16::from_be(sin.sin_port),
            )))
        }
        libc::AF_INET6 => {
            // SAFETY: the family says the storage holds a sockaddr_in6.
            let s6: &libc::sockaddr_in6 = unsafe { &*(ss as *const libc::sockaddr_storage).cast() };
            Some(SocketAddr::V6(SocketAddrV6::new(
                Ipv6Addr::from(s6.sin6_addr.s6_addr),
                u16::from_be(s6.sin6_port),
                u32::from_be(s6.sin6_flowinfo),
                s6.sin6_scope_id,
            )))
        }
        _ => None,
    }
}

fn unspecified() -> SocketAddr {
    SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0)
}

impl HostNet {
    fn fd(&self, s: SocketId) -> NetResult<RawFd> {
        self.socks
            .get(&s)
            .map(|e| e.fd.as_raw_fd())
            .ok_or(libc::EBADF)
    }

    fn add(&mut self, fd: RawFd) -> SocketId {
        // SAFETY: `fd` was just returned by socket/accept4 and is owned
        // by nobody else.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        self.next += 1;
        self.socks.insert(self.next, Entry { fd, seen: 0 });
        self.next
    }

    fn name(&self, s: SocketId, peer: bool) -> NetResult<SocketAddr> {
        let fd = self.fd(s)?;
        let (mut ss, _) = to_host(None);
        let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        let p = (&mut ss as *mut libc::sockaddr_storage).cast();
        // SAFETY: `p` points at a sockaddr_storage of `len` bytes.
        let r = unsafe {
            if peer {
                libc::getpeername(fd, p, &mut len)
            } else {
                libc::getsockname(fd, p, &mut len)
            }
        };
        check(r)?;
        Ok(from_host(&ss).unwrap_or_else(unspecified))
    }

    /// Whether any host socket is open (the run loop then waits here).
    pub fn active(&self) -> bool {
        !self.socks.is_empty()
    }

    /// Sleeps until a socket gains readiness the kernel has not seen, or
    /// `timeout` passes.
    pub fn wait(&mut self, timeout: Duration) {
        let settled = libc::POLLHUP | libc::POLLERR;
        let mut fds: Vec<libc::pollfd> = self
            .socks
            .values()
            .filter(|e| e.seen & settled == 0)
            .map(|e| libc::pollfd {
                fd: e.fd.as_raw_fd(),
                events: (libc::POLLIN | libc::POLLOUT | libc::POLLRDHUP) & !e.seen,
                revents: 0,
            })
            .filter(|p| p.events != 0)
            .collect();
        let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
        // SAFETY: `fds` is a valid array of `fds.len()` pollfds.
        unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) };
    }
}

impl Network for HostNet {
    fn socket(&mut self, v6: bool, stream: bool) -> NetResult<SocketId> {
        let domain = if v6 { libc::AF_INET6 } else { libc::AF_INET };
        let ty = if stream {
            libc::SOCK_STREAM
        } else {
            libc::SOCK_DGRAM
        };
        // SAFETY: plain system call.
        let fd = check(unsafe {
            libc::socket(domain, ty | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC, 0)
        })?;
        Ok(self.add(fd))
    }

    fn datagram_socket(&mut self, v6: bool, proto: u32) -> NetResult<SocketId> {
        let domain = if v6 { libc::AF_INET6 } else { libc::AF_INET };
        let ty = libc::SOCK_DGRAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;
        // SAFETY: plain system call.
        let fd = check(unsafe { libc::socket(domain, ty, proto as i32) })?;
        Ok(self.add(fd))
    }

    fn bind(&mut self, s: SocketId, addr: SocketAddr) -> NetResult<()> {
        let fd = self.fd(s)?;
        let (ss, len) = to_host(Some(addr));
        // SAFETY: `ss` holds a sockaddr of `len` bytes.
        check(unsafe { libc::bind(fd, (&ss as *const libc::sockaddr_storage).cast(), len) })?;
        Ok(())
    }

    fn listen(&mut self, s: SocketId, backlog: i32) -> NetResult<()> {
        let fd = self.fd(s)?;
        // SAFETY: plain system call.
        check(unsafe { libc::listen(fd, backlog) })?;
        Ok(())
    }

    fn accept(&mut self, s: SocketId) -> NetResult<(SocketId, SocketAddr)> {
        let fd = self.fd(s)?;
        let (mut ss, _) = to_host(None);
        let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        // SAFETY: `ss` is a writable sockaddr_storage of `len` bytes.
        let c = check(unsafe {
            libc::accept4(
                fd,
                (&mut ss as *mut libc::sockaddr_storage).cast(),
                &mut len,
                libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            )
        })?;
        let id = self.add(c);
        Ok((id, from_host(&ss).unwrap_or_else(unspecified)))
    }

    fn connect(&mut self, s: SocketId, addr: Option<SocketAddr>) -> NetResult<()> {
        let fd = self.fd(s)?;
        let (ss, len) = to_host(addr);
        // SAFETY: `ss` holds a sockaddr of `len` bytes.
        check(unsafe { libc::connect(fd, (&ss as *const libc::sockaddr_storage).cast(), len) })?;
        Ok(())
    }

    fn send_msg(
        &mut self,
        s: SocketId,
        data: &[u8],
        flags: u32,
        to: Option<SocketAddr>,
        control: &[Cmsg],
    ) -> NetResult<usize> {
        if control.is_empty() {
            return self.send(s, data, flags, to);
        }
        let fd = self.fd(s)?;
        let (mut ss, len) = to_host(to);
        let mut ctl = host_control(control);
        let mut iov = libc::iovec {
            iov_base: data.as_ptr() as *mut libc::c_void,
            iov_len: data.len(),
        };
        // SAFETY: msghdr is plain data; all zeroes is a valid value.
        let mut mh: libc::msghdr = unsafe { std::mem::zeroed() };
        if to.is_some() {
            mh.msg_name = (&mut ss as *mut libc::sockaddr_storage).cast();
            mh.msg_namelen = len;
        }
        mh.msg_iov = &mut iov;
        mh.msg_iovlen = 1;
        mh.msg_control = ctl.as_mut_ptr().cast();
        mh.msg_controllen = std::mem::size_of_val(ctl.as_slice()) as _;
        let flags = flags as i32 | libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL;
        // SAFETY: `mh` points at live buffers: the address, one iovec over
        // `data` (only read), and the control messages built above.
        let n = unsafe { libc::sendmsg(fd, &mh, flags) };
        if n < 0 {
            return Err(last_errno());
        }
        Ok(n as usize)
    }

    fn send(
        &mut self,
        s: SocketId,
        data: &[u8],
        flags: u32,
        to: Option<SocketAddr>,
    ) -> NetResult<usize> {
        let fd = self.fd(s)?;
        let (ss, len) = to_host(to);
        let (p, len) = match to {
            Some(_) => ((&ss as *const libc::sockaddr_storage).cast(), len),
            None => (std::ptr::null(), 0),
        };
        let flags = flags as i32 | libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL;
        // SAFETY: `data` is valid for its length; `p` is null or a
        // sockaddr of `len` bytes.
        let n = unsafe { libc::sendto(fd, data.as_ptr().cast(), data.len(), flags, p, len) };
        if n < 0 {
            return Err(last_errno());
        }
        Ok(n as usize)
    }

    fn recv(&mut self, s: SocketId, buf: &mut [u8], flags: u32) -> NetResult<Received> {
        let fd = self.fd(s)?;
        let (mut ss, _) = to_host(None);
        let mut iov = libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: buf.len(),
        };
        // SAFETY: msghdr is plain data; all zeroes is a valid value.
        let mut mh: libc::msghdr = unsafe { std::mem::zeroed() };
        mh.msg_name = (&mut ss as *mut libc::sockaddr_storage).cast();
        mh.msg_namelen = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        mh.msg_iov = &mut iov;
        mh.msg_iovlen = 1;
        // Room for every control message the host may attach: the guest's
        // own buffer size is applied when the kernel lays them out.
        let mut ctl = [0u64; CONTROL_ROOM / 8];
        mh.msg_control = ctl.as_mut_ptr().cast();
        mh.msg_controllen = CONTROL_ROOM as _;
        let flags = flags as i32 | libc::MSG_DONTWAIT;
        // SAFETY: `mh` points at live buffers: the name storage, one
        // iovec over `buf`, and the control buffer.
        let n = unsafe { libc::recvmsg(fd, &mut mh, flags) };
        if n < 0 {
            return Err(last_errno());
        }
        let n = n as usize;
        let from = (mh.msg_namelen > 0).then(|| from_host(&ss)).flatten();
        Ok(Received {
            len: n.min(buf.len()),
            ret: n,
            from,
            truncated: mh.msg_flags & libc::MSG_TRUNC != 0,
            control: guest_control(&mh),
        })
    }

    fn shutdown(&mut self, s: SocketId, how: u32) -> NetResult<()> {
        let fd = self.fd(s)?;
        // SAFETY: plain system call.
        check(unsafe { libc::shutdown(fd, how as i32) })?;
        Ok(())
    }

    fn local_addr(&mut self, s: SocketId) -> NetResult<SocketAddr> {
        self.name(s, false)
    }

    fn peer_addr(&mut self, s: SocketId) -> NetResult<SocketAddr> {
        self.name(s, true)
    }

    fn getsockopt(&mut self, s: SocketId, level: u32, opt: u32, len: usize) -> NetResult<Vec<u8>> {
        let fd = self.fd(s)?;
        let mut buf = vec![0u8; len.min(512)];
        let mut n = buf.len() as libc::socklen_t;
        // SAFETY: `buf` is writable for `n` bytes.
        check(unsafe {
            libc::getsockopt(
                fd,
                level as i32,
                opt as i32,
                buf.as_mut_ptr().cast(),
                &mut n,
            )
        })?;
        buf.truncate(n as usize);
        Ok(buf)
    }

    fn setsockopt(&mut self, s: SocketId, level: u32, opt: u32, val: &[u8]) -> NetResult<()> {
        let fd = self.fd(s)?;
        // SAFETY: `val` is readable for its length.
        check(unsafe {
            libc::setsockopt(
                fd,
                level as i32,
                opt as i32,
                val.as_ptr().cast(),
                val.len() as libc::socklen_t,
            )
        })?;
        Ok(())
    }

    fn poll(&mut self, s: SocketId) -> u16 {
        let Some(e) = self.socks.get_mut(&s) else {
            return libc::POLLNVAL as u16;
        };
        let mut p = libc::pollfd {
            fd: e.fd.as_raw_fd(),
            events: libc::POLLIN | libc::POLLOUT | libc::POLLRDHUP | libc::POLLPRI,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        unsafe { libc::poll(&mut p, 1, 0) };
        e.seen = p.revents;
        let mut r = p.revents as u16;
        // Linux adds the *NORM twins of POLLIN/POLLOUT.
        if r & libc::POLLIN as u16 != 0 {
            r |= libc::POLLRDNORM as u16;
        }
        if r & libc::POLLOUT as u16 != 0 {
            r |= libc::POLLWRNORM as u16;
        }
        r
    }

    fn readable_bytes(&mut self, s: SocketId) -> NetResult<usize> {
        let fd = self.fd(s)?;
        let mut n: libc::c_int = 0;
        // SAFETY: FIONREAD writes one int.
        check(unsafe { libc::ioctl(fd, libc::FIONREAD, &mut n) })?;
        Ok(n as usize)
    }

    fn close(&mut self, s: SocketId) {
        self.socks.remove(&s);
    }

    fn interfaces(&mut self) -> Vec<Interface> {
        host_interfaces()
    }
}

/// The host's interfaces (getifaddrs), in index order.
fn host_interfaces() -> Vec<Interface> {
    let mut list: Vec<Interface> = Vec::new();
    let mut head: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills `head` with a list we free below.
    if unsafe { libc::getifaddrs(&mut head) } != 0 {
        return vec![Interface::loopback(true)];
    }
    let mut p = head;
    while !p.is_null() {
        // SAFETY: `p` is a node of the list getifaddrs returned.
        let ifa = unsafe { &*p };
        p = ifa.ifa_next;
        // SAFETY: ifa_name is a NUL-terminated string in the list.
        let name = unsafe { std::ffi::CStr::from_ptr(ifa.ifa_name) }
            .to_string_lossy()
            .into_owned();
        let pos = match list.iter().position(|i| i.name == name) {
            Some(n) => n,
            None => {
                list.push(new_interface(&name, ifa.ifa_flags));
                list.len() - 1
            }
        };
        describe(&mut list[pos], ifa);
    }
    // SAFETY: `head` came from getifaddrs and is freed once.
    unsafe { libc::freeifaddrs(head) };
    list.sort_by_key(|i| i.index);
    list
}

fn new_interface(name: &str, flags: u32) -> Interface {
    let c = std::ffi::CString::new(name).unwrap_or_default();
    // SAFETY: `c` is a NUL-terminated name.
    let index = unsafe { libc::if_nametoindex(c.as_ptr()) };
    Interface {
        name: name.to_string(),
        index,
        flags,
        mtu: interface_mtu(name).unwrap_or(1500),
        ipv4: None,
        hw: (0, [0; 6]),
    }
}

/// Adds what one getifaddrs entry says (an IPv4 address, a link address).
fn describe(i: &mut Interface, ifa: &libc::ifaddrs) {
    if ifa.ifa_addr.is_null() {
        return;
    }
    // SAFETY: ifa_addr points at a sockaddr of its family.
    let family = i32::from(unsafe { (*ifa.ifa_addr).sa_family });
    if family == libc::AF_INET && i.ipv4.is_none() && !ifa.ifa_netmask.is_null() {
        // SAFETY: both are sockaddr_in for an AF_INET entry.
        let (a, m) = unsafe {
            (
                &*(ifa.ifa_addr as *const libc::sockaddr_in),
                &*(ifa.ifa_netmask as *const libc::sockaddr_in),
            )
        };
        i.ipv4 = Some((
            Ipv4Addr::from(a.sin_addr.s_addr.to_ne_bytes()),
            Ipv4Addr::from(m.sin_addr.s_addr.to_ne_bytes()),
        ));
    } else if family == libc::AF_PACKET {
        // SAFETY: an AF_PACKET entry holds a sockaddr_ll.
        let ll = unsafe { &*(ifa.ifa_addr as *const libc::sockaddr_ll) };
        let mut mac = [0u8; 6];
        mac.copy_from_slice(&ll.sll_addr[..6]);
        i.hw = (ll.sll_hatype, mac);
    }
}

fn interface_mtu(name: &str) -> Option<u32> {
    // SAFETY: plain system call; the descriptor is owned below.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return None;
    }
    // SAFETY: `fd` was just created and is owned by nobody else.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: ifreq is plain data; all zeroes is a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (d, s) in req.ifr_name.iter_mut().zip(name.bytes().take(15)) {
        *d = s as libc::c_char;
    }
    // SAFETY: SIOCGIFMTU reads the name and writes ifru_mtu in `req`.
    let r = unsafe { libc::ioctl(fd.as_raw_fd(), libc::SIOCGIFMTU, &mut req) };
    if r != 0 {
        return None;
    }
    // SAFETY: on success the union holds the MTU.
    Some(unsafe { req.ifr_ifru.ifru_mtu } as u32)
}

/// `--net`: how guest internet sockets reach anything.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum NetArg {
    /// Only AF_UNIX: internet sockets behave as on a machine whose
    /// network is down.
    None,
    /// An in-machine network: guests reach each other on 127.0.0.1 and
    /// ::1, nothing leaves the machine.
    Loopback,
    /// Guest sockets are host sockets (as under qemu-i386).
    #[default]
    Host,
}

/// What the run loop drives besides the guest: host sockets, or a relay.
pub enum Outside {
    Host(std::rc::Rc<std::cell::RefCell<HostNet>>),
    Relay(super::relay::Link),
}

impl Outside {
    /// Moves packets between a relay and the guest's network (around
    /// every slice).
    pub fn pump(&self) {
        if let Outside::Relay(l) = self {
            l.pump();
        }
    }
}

/// The kernel's network mode for `arg` (or for a relay at `relay`), and
/// what the run loop must wait on.
pub fn network(
    arg: NetArg,
    relay: Option<&str>,
) -> Result<(wax_kernel::NetMode, Option<Outside>), String> {
    use wax_kernel::NetMode;
    if let Some(url) = relay {
        let link = super::relay::connect(url)?;
        return Ok((NetMode::Relay(link.net.clone()), Some(Outside::Relay(link))));
    }
    Ok(match arg {
        NetArg::None => (NetMode::None, None),
        NetArg::Loopback => (NetMode::Loopback, None),
        NetArg::Host => {
            let net = std::rc::Rc::new(std::cell::RefCell::new(HostNet::default()));
            (NetMode::Host(net.clone()), Some(Outside::Host(net)))
        }
    })
}

/// Waits for guest input or timers, and for host sockets or the relay if
/// they are in use (then polling `stdin_ready` every 10 ms: they and the
/// stdin thread cannot share one wait).
pub fn idle_wait(net: Option<&Outside>, wait: Duration, stdin: impl Fn(Duration)) {
    match net {
        Some(Outside::Host(n)) if n.borrow().active() => {
            n.borrow_mut().wait(wait.min(Duration::from_millis(10)));
        }
        Some(Outside::Relay(l)) if l.active() => {
            l.wait(wait.min(Duration::from_millis(10)));
            l.pump();
        }
        _ => stdin(wait),
    }
}
