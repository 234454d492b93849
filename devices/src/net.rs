//! The host's network as the kernel sees it in `host` mode: internet
//! sockets that live on the host, one small integer handle each.
//!
//! Every call must return at once: the host side of each socket is
//! non-blocking, `Err(EAGAIN)`/`Err(EINPROGRESS)` say "not yet", and the
//! kernel parks the guest thread until [`Network::poll`] reports the
//! socket ready (the front end wakes the kernel when a host socket
//! changes, e.g. the CLI polls the descriptors while the guest is idle).
//! Errors are Linux errno values. The CLI implements this with host
//! sockets; a browser could implement outbound streams over a relay (its
//! `listen` failing, so servers stay inside the machine).

use std::net::{Ipv4Addr, SocketAddr};

/// A host socket, as the implementation numbers them.
pub type SocketId = u32;

/// An errno value (Linux numbering).
pub type NetResult<T> = Result<T, i32>;

/// What one receive returned.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Received {
    /// Bytes stored in the buffer.
    pub len: usize,
    /// The length to report (with MSG_TRUNC: the datagram's full size).
    pub ret: usize,
    /// The sender (datagram sockets).
    pub from: Option<SocketAddr>,
    /// The datagram was longer than the buffer.
    pub truncated: bool,
    /// Control messages that came with it (IPV6_HOPLIMIT after
    /// IPV6_RECVHOPLIMIT, ...), whole: the kernel lays them out in the
    /// guest's ABI and truncates them to the guest's buffer.
    pub control: Vec<Cmsg>,
}

/// One control message (`struct cmsghdr` and its data), free of any ABI's
/// layout (i386 and x86-64 differ in `cmsg_len`'s width and alignment).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cmsg {
    pub level: u32,
    pub ty: u32,
    pub data: Vec<u8>,
}

/// A network interface as SIOCGIFCONF and friends describe it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interface {
    pub name: String,
    pub index: u32,
    /// IFF_* flags (IFF_UP 0x1, IFF_LOOPBACK 0x8, IFF_RUNNING 0x40 ...).
    pub flags: u32,
    pub mtu: u32,
    /// The first IPv4 address and its netmask.
    pub ipv4: Option<(Ipv4Addr, Ipv4Addr)>,
    /// The link-layer type (ARPHRD_*) and address.
    pub hw: (u16, [u8; 6]),
}

impl Interface {
    /// `lo`, up or down, as Linux creates it.
    pub fn loopback(up: bool) -> Interface {
        Interface {
            name: "lo".into(),
            index: 1,
            // IFF_UP | IFF_LOOPBACK | IFF_RUNNING, or only IFF_LOOPBACK.
            flags: if up { 0x49 } else { 0x8 },
            mtu: 65536,
            ipv4: up.then_some((Ipv4Addr::LOCALHOST, Ipv4Addr::new(255, 0, 0, 0))),
            // ARPHRD_LOOPBACK
            hw: (772, [0; 6]),
        }
    }
}

/// UDP-Lite's protocol number (RFC 3828).
pub const IPPROTO_UDPLITE: u32 = 136;
/// Linux's errno for a protocol the stack lacks.
const EPROTONOSUPPORT: i32 = 93;
const EINVAL: i32 = 22;

/// Internet sockets on the host: TCP (`stream`) or UDP, IPv4 or IPv6.
/// Socket options use Linux's levels, names and value layouts (the same
/// for i386 and x86-64 for the options passed through).
pub trait Network {
    fn socket(&mut self, v6: bool, stream: bool) -> NetResult<SocketId>;
    /// A datagram socket of another IP protocol that behaves like UDP
    /// (UDP-Lite, [`IPPROTO_UDPLITE`]); by default EPROTONOSUPPORT, as from
    /// a kernel built without it.
    fn datagram_socket(&mut self, v6: bool, proto: u32) -> NetResult<SocketId> {
        let _ = (v6, proto);
        Err(EPROTONOSUPPORT)
    }
    fn bind(&mut self, s: SocketId, addr: SocketAddr) -> NetResult<()>;
    fn listen(&mut self, s: SocketId, backlog: i32) -> NetResult<()>;
    /// A pending connection and its peer's address, or EAGAIN.
    fn accept(&mut self, s: SocketId) -> NetResult<(SocketId, SocketAddr)>;
    /// Starts (EINPROGRESS) or completes a connection; `None` is
    /// AF_UNSPEC (dissolves a datagram socket's association).
    fn connect(&mut self, s: SocketId, addr: Option<SocketAddr>) -> NetResult<()>;
    /// `flags` are the guest's MSG_* bits; the host adds its own
    /// MSG_DONTWAIT and MSG_NOSIGNAL.
    fn send(
        &mut self,
        s: SocketId,
        data: &[u8],
        flags: u32,
        to: Option<SocketAddr>,
    ) -> NetResult<usize>;
    /// [`Network::send`] with control messages (sendmsg's ancillary data
    /// for the IP level: IPV6_HOPLIMIT, IPV6_TCLASS, ...); by default only
    /// none are accepted (EINVAL otherwise).
    fn send_msg(
        &mut self,
        s: SocketId,
        data: &[u8],
        flags: u32,
        to: Option<SocketAddr>,
        control: &[Cmsg],
    ) -> NetResult<usize> {
        if !control.is_empty() {
            return Err(EINVAL);
        }
        self.send(s, data, flags, to)
    }
    fn recv(&mut self, s: SocketId, buf: &mut [u8], flags: u32) -> NetResult<Received>;
    fn shutdown(&mut self, s: SocketId, how: u32) -> NetResult<()>;
    fn local_addr(&mut self, s: SocketId) -> NetResult<SocketAddr>;
    fn peer_addr(&mut self, s: SocketId) -> NetResult<SocketAddr>;
    /// At most `len` bytes of the option's value.
    fn getsockopt(&mut self, s: SocketId, level: u32, opt: u32, len: usize) -> NetResult<Vec<u8>>;
    fn setsockopt(&mut self, s: SocketId, level: u32, opt: u32, val: &[u8]) -> NetResult<()>;
    /// poll(2) bits the socket has now (POLLIN, POLLOUT, POLLERR,
    /// POLLHUP, POLLRDHUP ...), without waiting.
    fn poll(&mut self, s: SocketId) -> u16;
    /// Bytes queued for reading (FIONREAD).
    fn readable_bytes(&mut self, s: SocketId) -> NetResult<usize>;
    fn close(&mut self, s: SocketId);
    /// The interfaces programs see (SIOCGIFCONF); by default only `lo`.
    fn interfaces(&mut self) -> Vec<Interface> {
        vec![Interface::loopback(true)]
    }
}
