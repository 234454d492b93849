//! The in-kernel loopback stack: sockets, the port table, and the rules
//! for which bound sockets overlap (bind) or take a packet (connect,
//! sendto).
//!
//! A [`Sock`] lives in an `Rc<RefCell<_>>` owned by its descriptor's
//! [`LoopSocket`] (and, before `accept`, by its listener's queue); the
//! table, the peer and the listener hold it weakly. Everything happens
//! synchronously: a connect finds the listener and queues the server's
//! end at once, a send appends to the peer's receive queue. Nothing is
//! ever lost in flight, so the transport's job reduces to the states
//! programs can observe (half-close, reset, refused, buffer limits).
//!
//! Addresses are kept as the socket's own family shows them (IPv4 in an
//! IPv6 socket is v4-mapped); matching works on [`Claim`]s, the
//! (family, address) pairs a bound socket answers for.

use super::addr::{canonical, shown};
use super::opt::Opts;
use super::{Given, InetSocket, RecvOut};
use crate::abi::errno::{Errno, KResult};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::rc::{Rc, Weak};

pub type StackRef = Rc<RefCell<Stack>>;
pub type SockRef = Rc<RefCell<Sock>>;

/// net.ipv4.ip_local_port_range.
const EPHEMERAL: (u16, u16) = (32768, 60999);

pub struct Stack {
    /// The loopback interface is up (`--net none` has it down).
    pub up: bool,
    bound: Vec<Weak<RefCell<Sock>>>,
    next_port: u16,
}

/// TCP's connection state as programs can observe it.
pub enum Tcp {
    /// Never connected, refused, reset, or closed.
    Closed,
    Listening {
        backlog: u32,
        queue: VecDeque<SockRef>,
    },
    Established {
        peer: Weak<RefCell<Sock>>,
    },
}

pub struct Sock {
    pub stack: StackRef,
    pub v6: bool,
    pub stream: bool,
    /// The bound (or, once connected, the source) address.
    pub local: Option<SocketAddr>,
    /// The peer (TCP) or default destination (UDP).
    pub remote: Option<SocketAddr>,
    pub opts: Opts,
    /// Pending SO_ERROR (an errno).
    pub error: i32,
    pub shut_rd: bool,
    pub shut_wr: bool,
    /// The peer shut its writing side (a FIN arrived).
    pub fin: bool,
    /// A connection existed once (reads after it end in EOF, not ENOTCONN).
    pub done: bool,
    /// A non-blocking connect not yet collected by a second connect
    /// (SS_CONNECTING).
    pub connecting: bool,
    pub closed: bool,
    pub tcp: Tcp,
    pub rx: VecDeque<u8>,
    pub dgrams: VecDeque<(Vec<u8>, SocketAddr)>,
    pub dgram_bytes: usize,
    /// State changes, for edge-triggered epoll.
    pub events: u64,
}

/// What a bound socket answers for: IPv4 or IPv6, one address or any.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Claim {
    V4(Option<Ipv4Addr>),
    V6(Option<Ipv6Addr>),
}

impl Claim {
    fn overlaps(self, other: Claim) -> bool {
        match (self, other) {
            (Claim::V4(a), Claim::V4(b)) => a.is_none() || b.is_none() || a == b,
            (Claim::V6(a), Claim::V6(b)) => a.is_none() || b.is_none() || a == b,
            _ => false,
        }
    }

    /// Whether a packet to `ip` (canonical) is for this claim, and how
    /// specifically (a named address beats a wildcard).
    fn takes(self, ip: IpAddr) -> Option<u8> {
        match (self, ip) {
            (Claim::V4(None), IpAddr::V4(_)) | (Claim::V6(None), IpAddr::V6(_)) => Some(1),
            (Claim::V4(Some(a)), IpAddr::V4(b)) if a == b => Some(2),
            (Claim::V6(Some(a)), IpAddr::V6(b)) if a == b => Some(2),
            _ => None,
        }
    }
}

impl Sock {
    fn claims(&self) -> Vec<Claim> {
        let Some(local) = self.local else {
            return Vec::new();
        };
        match canonical(local.ip()) {
            IpAddr::V4(a) if local.is_ipv6() => vec![Claim::V4(Some(a))],
            IpAddr::V4(a) => vec![Claim::V4((!a.is_unspecified()).then_some(a))],
            IpAddr::V6(a) if a.is_unspecified() => {
                let mut c = vec![Claim::V6(None)];
                if !self.v6only() {
                    c.push(Claim::V4(None));
                }
                c
            }
            IpAddr::V6(a) => vec![Claim::V6(Some(a))],
        }
    }

    pub fn v6only(&self) -> bool {
        self.opts
            .flag(super::opt::IPPROTO_IPV6, super::opt::IPV6_V6ONLY)
    }

    fn reuse(&self) -> bool {
        self.opts
            .flag(super::opt::SOL_SOCKET, super::opt::SO_REUSEADDR)
    }

    pub fn listening(&self) -> bool {
        matches!(self.tcp, Tcp::Listening { .. })
    }

    pub fn bump(&mut self) {
        self.events += 1;
    }

    /// The connected peer, if it is still open.
    pub fn peer(&self) -> Option<SockRef> {
        match &self.tcp {
            Tcp::Established { peer } => peer
                .upgrade()
                .filter(|p| p.try_borrow().map_or(true, |p| !p.closed)),
            _ => None,
        }
    }
}

impl Stack {
    pub fn new(up: bool) -> StackRef {
        Rc::new(RefCell::new(Stack {
            up,
            bound: Vec::new(),
            next_port: EPHEMERAL.0,
        }))
    }

    fn live(&mut self) -> Vec<SockRef> {
        self.bound.retain(|w| w.strong_count() > 0);
        self.bound.iter().filter_map(Weak::upgrade).collect()
    }

    /// Whether `me` may hold its address (Linux's bind conflict rule:
    /// overlapping addresses on one port conflict unless both set
    /// SO_REUSEADDR and the other is not listening).
    fn conflicts(&mut self, me: &SockRef, port: u16) -> bool {
        let m = me.borrow();
        let mine = m.claims();
        self.live().iter().any(|o| {
            if Rc::ptr_eq(o, me) {
                return false;
            }
            let Ok(o) = o.try_borrow() else { return false };
            if o.closed || o.stream != m.stream || o.local.map(|l| l.port()) != Some(port) {
                return false;
            }
            let overlap = o
                .claims()
                .iter()
                .any(|c| mine.iter().any(|d| c.overlaps(*d)));
            let shared = m.reuse() && o.reuse() && !o.listening();
            overlap && !shared
        })
    }

    fn port_used(&mut self, stream: bool, port: u16) -> bool {
        self.live().iter().any(|o| {
            o.try_borrow()
                .is_ok_and(|o| o.stream == stream && o.local.map(|l| l.port()) == Some(port))
        })
    }

    fn ephemeral(&mut self, stream: bool) -> KResult<u16> {
        let span = EPHEMERAL.1 - EPHEMERAL.0 + 1;
        for _ in 0..span {
            let p = self.next_port;
            self.next_port = if p >= EPHEMERAL.1 { EPHEMERAL.0 } else { p + 1 };
            if !self.port_used(stream, p) {
                return Ok(p);
            }
        }
        Err(Errno::EADDRINUSE)
    }

    /// The bound socket that takes a packet for `ip:port` (canonical ip):
    /// the most specific match; `want` filters (listening, connected ...).
    fn find(
        &mut self,
        stream: bool,
        ip: IpAddr,
        port: u16,
        want: impl Fn(&Sock) -> bool,
    ) -> Option<SockRef> {
        let mut best: Option<(u8, SockRef)> = None;
        for s in self.live() {
            let Ok(b) = s.try_borrow() else { continue };
            if b.closed
                || b.stream != stream
                || b.local.map(|l| l.port()) != Some(port)
                || !want(&b)
            {
                continue;
            }
            let score = b.claims().iter().filter_map(|c| c.takes(ip)).max();
            drop(b);
            if let Some(sc) = score {
                if best.as_ref().is_none_or(|(bs, _)| sc > *bs) {
                    best = Some((sc, s));
                }
            }
        }
        best.map(|(_, s)| s)
    }

    pub fn listener(&mut self, ip: IpAddr, port: u16) -> Option<SockRef> {
        self.find(true, ip, port, Sock::listening)
    }

    /// The UDP socket that takes a datagram from `src` to `ip:port`.
    pub fn udp_target(&mut self, ip: IpAddr, port: u16, src: SocketAddr) -> Option<SockRef> {
        self.find(false, ip, port, |s| {
            s.remote
                .is_none_or(|r| canonical(r.ip()) == canonical(src.ip()) && r.port() == src.port())
        })
    }

    fn register(&mut self, s: &SockRef) {
        if !self.bound.iter().any(|w| w.as_ptr() == Rc::as_ptr(s)) {
            self.bound.push(Rc::downgrade(s));
        }
    }
}

/// Binds `s` to `a` (port 0: an ephemeral port).
pub fn bind(s: &SockRef, a: SocketAddr) -> KResult<()> {
    let (stack, v6, stream) = {
        let b = s.borrow();
        if b.local.is_some() {
            return Err(Errno::EINVAL);
        }
        (b.stack.clone(), b.v6, b.stream)
    };
    if !local_address(canonical(a.ip()))
        || (v6 && a.ip().is_ipv6() && canonical(a.ip()).is_ipv4() && s.borrow().v6only())
    {
        return Err(Errno::EADDRNOTAVAIL);
    }
    let mut st = stack.borrow_mut();
    let port = match a.port() {
        0 => st.ephemeral(stream)?,
        p => p,
    };
    s.borrow_mut().local = Some(shown(a.ip(), port, v6));
    if st.conflicts(s, port) {
        s.borrow_mut().local = None;
        return Err(Errno::EADDRINUSE);
    }
    st.register(s);
    Ok(())
}

/// Addresses this machine has: the loopback network and the wildcards.
fn local_address(ip: IpAddr) -> bool {
    ip.is_loopback() || ip.is_unspecified()
}

/// Binds an unbound socket to the wildcard and an ephemeral port.
pub fn autobind(s: &SockRef) -> KResult<()> {
    if s.borrow().local.is_some() {
        return Ok(());
    }
    let v6 = s.borrow().v6;
    bind(s, super::addr::any(v6))
}

/// Checks that `to` can be reached; returns its canonical address and
/// the source address a packet to it carries.
pub fn route(s: &Sock, to: SocketAddr) -> KResult<(IpAddr, IpAddr)> {
    let ip = canonical(to.ip());
    let up = s.stack.borrow().up;
    if !up {
        return Err(if ip.is_ipv6() {
            Errno::EADDRNOTAVAIL
        } else {
            Errno::ENETUNREACH
        });
    }
    if !local_address(ip) || (s.v6 && to.is_ipv6() && ip.is_ipv4() && s.v6only()) {
        return Err(Errno::ENETUNREACH);
    }
    // Linux's loopback route gives 127.0.0.1 as the source for all of
    // 127.0.0.0/8, and a connect to the wildcard goes to the host itself.
    let (dst, src) = match ip {
        IpAddr::V4(a) if a.is_unspecified() => (
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V4(Ipv4Addr::LOCALHOST),
        ),
        IpAddr::V4(a) => (IpAddr::V4(a), IpAddr::V4(Ipv4Addr::LOCALHOST)),
        IpAddr::V6(_) => (
            IpAddr::V6(Ipv6Addr::LOCALHOST),
            IpAddr::V6(Ipv6Addr::LOCALHOST),
        ),
    };
    let src = match s.local.map(|l| canonical(l.ip())) {
        Some(l) if !l.is_unspecified() => l,
        _ => src,
    };
    Ok((dst, src))
}

pub fn new_socket(stack: &StackRef, v6: bool, stream: bool) -> Box<dyn InetSocket> {
    Box::new(LoopSocket(new_sock(stack, v6, stream)))
}

pub fn new_sock(stack: &StackRef, v6: bool, stream: bool) -> SockRef {
    Rc::new(RefCell::new(Sock {
        stack: stack.clone(),
        v6,
        stream,
        local: None,
        remote: None,
        opts: Opts::new(stream),
        error: 0,
        shut_rd: false,
        shut_wr: false,
        fin: false,
        done: false,
        connecting: false,
        closed: false,
        tcp: Tcp::Closed,
        rx: VecDeque::new(),
        dgrams: VecDeque::new(),
        dgram_bytes: 0,
        events: 0,
    }))
}

/// Registers an accepted connection's end under its listener's port.
pub fn register(s: &SockRef) {
    let stack = s.borrow().stack.clone();
    stack.borrow_mut().register(s);
}

/// A loopback-stack socket behind a descriptor.
pub struct LoopSocket(pub SockRef);

impl InetSocket for LoopSocket {
    fn is_v6(&self) -> bool {
        self.0.borrow().v6
    }
    fn is_stream(&self) -> bool {
        self.0.borrow().stream
    }
    fn bind(&mut self, a: SocketAddr) -> KResult<()> {
        bind(&self.0, a)
    }
    fn listen(&mut self, backlog: u32) -> KResult<()> {
        super::tcp::listen(&self.0, backlog)
    }
    fn accept(&mut self) -> KResult<(Box<dyn InetSocket>, SocketAddr)> {
        let c = super::tcp::accept(&self.0)?;
        let peer = c.borrow().remote.ok_or(Errno::ECONNABORTED)?;
        Ok((Box::new(LoopSocket(c)), peer))
    }
    fn connect(&mut self, to: Given, nonblocking: bool) -> KResult<()> {
        if self.is_stream() {
            super::tcp::connect(&self.0, to, nonblocking)
        } else {
            super::udp::connect(&self.0, to)
        }
    }
    fn send(&mut self, data: &[u8], _flags: u32, to: Option<SocketAddr>) -> KResult<usize> {
        if self.is_stream() {
            super::tcp::send(&self.0, data)
        } else {
            super::udp::send(&self.0, data, to)
        }
    }
    fn recv(&mut self, max: usize, flags: u32) -> KResult<RecvOut> {
        if self.is_stream() {
            super::tcp::recv(&self.0, max, flags)
        } else {
            super::udp::recv(&self.0, max, flags)
        }
    }
    fn shutdown(&mut self, how: u32) -> KResult<()> {
        if how > 2 {
            return Err(Errno::EINVAL);
        }
        if self.is_stream() {
            super::tcp::shutdown(&self.0, how)
        } else {
            super::udp::shutdown(&self.0, how)
        }
    }
    fn local_name(&mut self) -> KResult<SocketAddr> {
        let s = self.0.borrow();
        Ok(s.local.unwrap_or_else(|| super::addr::any(s.v6)))
    }
    fn peer_name(&mut self) -> KResult<SocketAddr> {
        let s = self.0.borrow();
        let connected = if s.stream {
            matches!(s.tcp, Tcp::Established { .. })
        } else {
            true
        };
        s.remote.filter(|_| connected).ok_or(Errno::ENOTCONN)
    }
    fn getsockopt(&mut self, level: u32, opt: u32, _room: usize) -> KResult<Vec<u8>> {
        use super::opt::*;
        let mut s = self.0.borrow_mut();
        let int = |v: u32| Ok(v.to_le_bytes().to_vec());
        match (level, opt) {
            (SOL_SOCKET, SO_TYPE) => int(if s.stream { 1 } else { 2 }),
            (SOL_SOCKET, SO_ERROR) => int(std::mem::take(&mut s.error) as u32),
            (SOL_SOCKET, SO_ACCEPTCONN) => int(u32::from(s.listening())),
            (SOL_SOCKET, SO_PROTOCOL) => int(if s.stream { IPPROTO_TCP } else { IPPROTO_UDP }),
            (SOL_SOCKET, SO_DOMAIN) => int(if s.v6 { 10 } else { 2 }),
            (IPPROTO_TCP, _) if !s.stream => Err(Errno::EOPNOTSUPP),
            _ => s.opts.get(level, opt, s.v6),
        }
    }
    fn setsockopt(&mut self, level: u32, opt: u32, val: &[u8]) -> KResult<()> {
        use super::opt::*;
        let mut s = self.0.borrow_mut();
        if level == IPPROTO_TCP && !s.stream {
            return Err(Errno::ENOPROTOOPT);
        }
        if (level, opt) == (IPPROTO_IPV6, IPV6_V6ONLY) && s.local.is_some() {
            return Err(Errno::EINVAL);
        }
        let v6 = s.v6;
        s.opts.set(level, opt, val, v6)?;
        s.bump();
        Ok(())
    }
    fn poll(&mut self) -> u16 {
        let s = self.0.borrow();
        if s.stream {
            super::tcp::poll(&s)
        } else {
            super::udp::poll(&s)
        }
    }
    fn event_count(&mut self) -> Option<u64> {
        Some(self.0.borrow().events)
    }
    fn readable_bytes(&mut self) -> KResult<usize> {
        let s = self.0.borrow();
        if s.stream {
            if s.listening() {
                return Err(Errno::EINVAL);
            }
            Ok(s.rx.len())
        } else {
            Ok(s.dgrams.front().map_or(0, |d| d.0.len()))
        }
    }
    fn close(&mut self) {
        if self.is_stream() {
            super::tcp::close(&self.0);
        }
        let mut s = self.0.borrow_mut();
        s.closed = true;
        s.local = None;
    }
}
