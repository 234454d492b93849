//! Guest sockets over a Wisp relay: a [`Network`] whose TCP connections and
//! UDP flows are streams of one Wisp (v1) connection, for front ends that
//! have no sockets of their own (the browser tab), and for the CLI's
//! `--net-relay`.
//!
//! The protocol in brief: every packet is `type: u8, stream: u32 LE,
//! payload`. CONNECT (stream type u8: 1 TCP, 2 UDP; port u16 LE; host
//! name) opens a stream, DATA carries bytes (one datagram per packet on
//! UDP), CONTINUE (u32 LE) renews how many more DATA packets the client
//! may send on a TCP stream, CLOSE (reason u8) ends a stream. The relay
//! speaks first: CONTINUE on stream 0 with the initial window.
//!
//! This side is a pure state machine with no I/O: the front end hands it
//! each packet that arrives ([`WispNet::deliver`]), sends what
//! [`WispNet::take_outbox`] returns over its WebSocket, and calls
//! [`WispNet::lost`] if the WebSocket fails. Every call returns at once,
//! as [`Network`] requires.
//!
//! What Wisp cannot express, and what this does instead:
//! - There is no "connected" answer: `connect` succeeds at once, and a
//!   refusal arrives later as CLOSE; the socket then reports the error
//!   once (recv, send, SO_ERROR: ECONNREFUSED, EHOSTUNREACH, ETIMEDOUT...)
//!   and reads end of file after that.
//! - There is no half-close: `shutdown(SHUT_WR)` stops sending but keeps
//!   the stream open for the answer; the stream ends at close.
//! - Names: the guest's DNS queries (UDP to port 53, any server) are
//!   answered here with stand-in addresses that connect to the name
//!   through the relay ([`dns`]).
//! - Servers stay inside the machine: `listen` fails (EOPNOTSUPP); the
//!   kernel keeps listening and loopback sockets in its own stack.

mod dns;

use crate::net::{Interface, NetResult, Network, Received, SocketId};
use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

pub const CONNECT: u8 = 0x01;
pub const DATA: u8 = 0x02;
pub const CONTINUE: u8 = 0x03;
pub const CLOSE: u8 = 0x04;

/// Stream types of CONNECT.
pub const TCP: u8 = 0x01;
pub const UDP: u8 = 0x02;

/// CLOSE reasons.
pub mod reason {
    pub const UNKNOWN: u8 = 0x01;
    pub const VOLUNTARY: u8 = 0x02;
    pub const NETWORK_ERROR: u8 = 0x03;
    pub const INVALID: u8 = 0x41;
    pub const UNREACHABLE: u8 = 0x42;
    pub const TIMEOUT: u8 = 0x43;
    pub const REFUSED: u8 = 0x44;
    pub const TCP_TIMEOUT: u8 = 0x47;
    pub const BLOCKED: u8 = 0x48;
    pub const THROTTLED: u8 = 0x49;
    pub const CLIENT_ERROR: u8 = 0x81;
}

/// A packet as it travels.
pub fn packet(kind: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let mut p = Vec::with_capacity(5 + payload.len());
    p.push(kind);
    p.extend_from_slice(&stream.to_le_bytes());
    p.extend_from_slice(payload);
    p
}

// Linux errno values.
const EAGAIN: i32 = 11;
const EINVAL: i32 = 22;
const EPIPE: i32 = 32;
const EDESTADDRREQ: i32 = 89;
const EMSGSIZE: i32 = 90;
const EOPNOTSUPP: i32 = 95;
const EADDRINUSE: i32 = 98;
const ENETUNREACH: i32 = 101;
const ECONNRESET: i32 = 104;
const EISCONN: i32 = 106;
const ENOTCONN: i32 = 107;
const ETIMEDOUT: i32 = 110;
const ECONNREFUSED: i32 = 111;
const EHOSTUNREACH: i32 = 113;
const EBADF: i32 = 9;

const POLLIN: u16 = 0x1;
const POLLOUT: u16 = 0x4;
const POLLERR: u16 = 0x8;
const POLLHUP: u16 = 0x10;
const POLLRDHUP: u16 = 0x2000;

const MSG_PEEK: u32 = 0x2;

/// Bytes per DATA packet the client sends.
const MAX_PAYLOAD: usize = 32 << 10;
/// Bytes waiting in the outbox past which sends would block.
const OUTBOX_LIMIT: usize = 1 << 20;
/// Datagrams kept per UDP socket before new ones are dropped.
const UDP_QUEUE: usize = 256;
/// The largest UDP payload over IPv4.
const MAX_DATAGRAM: usize = 65507;

/// The address the guest's outward interface has.
pub const GUEST_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 15);

struct Tcp {
    stream: Option<u32>,
    /// DATA packets the relay will still take; `None` until known (a
    /// stream opened before the relay spoke takes its initial window).
    window: Option<u32>,
    rx: VecDeque<u8>,
    /// The CLOSE reason once the stream has ended.
    closed: Option<u8>,
    /// The error of an abnormal close has been reported to the guest.
    reported: bool,
    shut_wr: bool,
}

struct Udp {
    /// A stream per destination.
    flows: HashMap<SocketAddr, u32>,
    rx: VecDeque<(SocketAddr, Vec<u8>)>,
}

enum Kind {
    Tcp(Tcp),
    Udp(Udp),
}

struct Sock {
    v6: bool,
    local: Option<SocketAddr>,
    peer: Option<SocketAddr>,
    kind: Kind,
}

/// What a stream id belongs to.
#[derive(Clone, Copy)]
enum Owner {
    Tcp(SocketId),
    Udp(SocketId, SocketAddr),
}

/// The client side of one Wisp connection, as a [`Network`].
pub struct WispNet {
    socks: HashMap<SocketId, Sock>,
    streams: HashMap<u32, Owner>,
    next_sock: SocketId,
    next_stream: u32,
    next_port: u16,
    outbox: VecDeque<Vec<u8>>,
    outbox_bytes: usize,
    /// The relay's initial window, once it has spoken.
    initial_window: Option<u32>,
    /// The WebSocket failed: every stream is gone.
    down: bool,
    /// Packets that made no sense (counted, dropped).
    pub malformed: u64,
    names: dns::Names,
}

impl Default for WispNet {
    fn default() -> Self {
        WispNet {
            socks: HashMap::new(),
            streams: HashMap::new(),
            next_sock: 1,
            next_stream: 1,
            next_port: 40000,
            outbox: VecDeque::new(),
            outbox_bytes: 0,
            initial_window: None,
            down: false,
            malformed: 0,
            names: dns::Names::default(),
        }
    }
}

fn errno_of(reason: u8) -> i32 {
    match reason {
        reason::REFUSED => ECONNREFUSED,
        reason::UNREACHABLE => EHOSTUNREACH,
        reason::BLOCKED | reason::INVALID => ENETUNREACH,
        reason::TIMEOUT | reason::TCP_TIMEOUT => ETIMEDOUT,
        _ => ECONNRESET,
    }
}

impl WispNet {
    /// Packets to send on the WebSocket, in order. Empty until the relay
    /// has spoken (the protocol has the client wait for it).
    pub fn take_outbox(&mut self) -> Vec<Vec<u8>> {
        if self.initial_window.is_none() {
            return Vec::new();
        }
        self.outbox_bytes = 0;
        self.outbox.drain(..).collect()
    }

    /// Whether the relay has answered (its first CONTINUE arrived).
    pub fn connected(&self) -> bool {
        self.initial_window.is_some() && !self.down
    }

    /// Whether any stream is open (the front end then watches the
    /// WebSocket while the guest is idle).
    pub fn active(&self) -> bool {
        !self.streams.is_empty() || !self.outbox.is_empty()
    }

    /// A packet from the relay.
    pub fn deliver(&mut self, p: &[u8]) {
        if p.len() < 5 {
            self.malformed += 1;
            return;
        }
        let id = u32::from_le_bytes([p[1], p[2], p[3], p[4]]);
        let payload = &p[5..];
        match (p[0], self.streams.get(&id).copied()) {
            (CONTINUE, _) if id == 0 => match payload.try_into() {
                Ok(w) => self.initial_window = Some(u32::from_le_bytes(w)),
                Err(_) => self.malformed += 1,
            },
            (CONTINUE, Some(Owner::Tcp(s))) => match (payload.try_into(), self.tcp(s)) {
                (Ok(w), Some(t)) => t.window = Some(u32::from_le_bytes(w)),
                _ => self.malformed += 1,
            },
            (DATA, Some(Owner::Tcp(s))) => {
                if let Some(t) = self.tcp(s) {
                    t.rx.extend(payload);
                }
            }
            (DATA, Some(Owner::Udp(s, from))) => {
                if let Some(Kind::Udp(u)) = self.socks.get_mut(&s).map(|k| &mut k.kind) {
                    if u.rx.len() < UDP_QUEUE {
                        u.rx.push_back((from, payload.to_vec()));
                    }
                }
            }
            (CLOSE, Some(owner)) => {
                let why = payload.first().copied().unwrap_or(reason::UNKNOWN);
                self.streams.remove(&id);
                match owner {
                    Owner::Tcp(s) => {
                        if let Some(t) = self.tcp(s) {
                            t.closed = Some(why);
                        }
                    }
                    Owner::Udp(s, to) => {
                        if let Some(Kind::Udp(u)) = self.socks.get_mut(&s).map(|k| &mut k.kind) {
                            u.flows.remove(&to);
                        }
                    }
                }
            }
            // A stream closed here whose packets were still on their way.
            (DATA | CONTINUE | CLOSE, None) => {}
            _ => self.malformed += 1,
        }
    }

    /// The WebSocket failed: every stream ends with a network error, and
    /// new connections fail until a new relay connection ([`Self::reset`]).
    pub fn lost(&mut self) {
        self.down = true;
        self.streams.clear();
        self.outbox.clear();
        self.outbox_bytes = 0;
        for s in self.socks.values_mut() {
            match &mut s.kind {
                Kind::Tcp(t) => {
                    if t.stream.is_some() && t.closed.is_none() {
                        t.closed = Some(reason::NETWORK_ERROR);
                    }
                }
                Kind::Udp(u) => u.flows.clear(),
            }
        }
    }

    /// A new WebSocket to the relay: new streams may open.
    pub fn reset(&mut self) {
        self.down = false;
        self.initial_window = None;
    }

    fn tcp(&mut self, s: SocketId) -> Option<&mut Tcp> {
        match self.socks.get_mut(&s).map(|k| &mut k.kind) {
            Some(Kind::Tcp(t)) => Some(t),
            _ => None,
        }
    }

    fn push(&mut self, p: Vec<u8>) {
        self.outbox_bytes += p.len();
        self.outbox.push_back(p);
    }

    fn open_stream(&mut self, kind: u8, to: SocketAddr, owner: Owner) -> u32 {
        let id = self.next_stream;
        self.next_stream = self.next_stream.wrapping_add(1).max(1);
        let mut payload = vec![kind];
        payload.extend_from_slice(&to.port().to_le_bytes());
        let standin = match to.ip() {
            IpAddr::V4(v4) => self.names.name_of(v4),
            IpAddr::V6(v6) => v6.to_ipv4_mapped().and_then(|v4| self.names.name_of(v4)),
        };
        let host = standin.map_or_else(|| to.ip().to_string(), str::to_string);
        payload.extend_from_slice(host.as_bytes());
        self.push(packet(CONNECT, id, &payload));
        self.streams.insert(id, owner);
        id
    }

    fn ephemeral(&mut self, v6: bool) -> SocketAddr {
        let port = self.next_port;
        self.next_port = if self.next_port >= 60999 {
            40000
        } else {
            self.next_port + 1
        };
        let ip = if v6 {
            IpAddr::V6(GUEST_IP.to_ipv6_mapped())
        } else {
            IpAddr::V4(GUEST_IP)
        };
        SocketAddr::new(ip, port)
    }

    /// A datagram to port 53 is a DNS query, answered here (see [`dns`]);
    /// one that is not a query is lost, as a bad datagram would be.
    /// `None` if the send is not for DNS.
    fn resolve(
        &mut self,
        s: SocketId,
        data: &[u8],
        to: Option<SocketAddr>,
    ) -> NetResult<Option<usize>> {
        let sock = self.sock(s)?;
        let Kind::Udp(_) = sock.kind else {
            return Ok(None);
        };
        let Some(dest) = to.or(sock.peer).filter(|d| d.port() == 53) else {
            return Ok(None);
        };
        let (v6, bound) = (sock.v6, sock.local.is_some());
        let answer = self.names.answer(data);
        let local = (!bound).then(|| self.ephemeral(v6));
        let sock = self.sock(s)?;
        if local.is_some() {
            sock.local = local;
        }
        if let (Some(a), Kind::Udp(u)) = (answer, &mut sock.kind) {
            if u.rx.len() < UDP_QUEUE {
                u.rx.push_back((dest, a));
            }
        }
        Ok(Some(data.len()))
    }

    fn sock(&mut self, s: SocketId) -> NetResult<&mut Sock> {
        self.socks.get_mut(&s).ok_or(EBADF)
    }
}

impl Network for WispNet {
    fn socket(&mut self, v6: bool, stream: bool) -> NetResult<SocketId> {
        let id = self.next_sock;
        self.next_sock += 1;
        let kind = if stream {
            Kind::Tcp(Tcp {
                stream: None,
                window: None,
                rx: VecDeque::new(),
                closed: None,
                reported: false,
                shut_wr: false,
            })
        } else {
            Kind::Udp(Udp {
                flows: HashMap::new(),
                rx: VecDeque::new(),
            })
        };
        self.socks.insert(
            id,
            Sock {
                v6,
                local: None,
                peer: None,
                kind,
            },
        );
        Ok(id)
    }

    fn bind(&mut self, s: SocketId, addr: SocketAddr) -> NetResult<()> {
        let v6 = self.sock(s)?.v6;
        let local = if addr.port() == 0 {
            let e = self.ephemeral(v6);
            SocketAddr::new(addr.ip(), e.port())
        } else {
            addr
        };
        let taken = self
            .socks
            .iter()
            .any(|(&o, k)| o != s && k.local.is_some_and(|l| l.port() == local.port()));
        if taken {
            return Err(EADDRINUSE);
        }
        let sock = self.sock(s)?;
        if sock.local.is_some() {
            return Err(EINVAL);
        }
        sock.local = Some(local);
        Ok(())
    }

    fn listen(&mut self, _s: SocketId, _backlog: i32) -> NetResult<()> {
        Err(EOPNOTSUPP)
    }

    fn accept(&mut self, _s: SocketId) -> NetResult<(SocketId, SocketAddr)> {
        Err(EINVAL)
    }

    fn connect(&mut self, s: SocketId, addr: Option<SocketAddr>) -> NetResult<()> {
        let down = self.down;
        let v6 = self.sock(s)?.v6;
        let is_tcp = matches!(self.sock(s)?.kind, Kind::Tcp(_));
        if is_tcp {
            let Some(to) = addr else {
                return Err(EINVAL);
            };
            if self.tcp(s).is_some_and(|t| t.stream.is_some()) {
                return Err(EISCONN);
            }
            if down {
                return Err(ENETUNREACH);
            }
            let id = self.open_stream(TCP, to, Owner::Tcp(s));
            let window = self.initial_window;
            let local = match self.sock(s)?.local {
                Some(l) => l,
                None => self.ephemeral(v6),
            };
            let sock = self.sock(s)?;
            sock.peer = Some(to);
            sock.local = Some(local);
            if let Kind::Tcp(t) = &mut sock.kind {
                t.stream = Some(id);
                t.window = window;
            }
            return Ok(());
        }
        let local = match self.sock(s)?.local {
            Some(l) => Some(l),
            None if addr.is_some() => Some(self.ephemeral(v6)),
            None => None,
        };
        let sock = self.sock(s)?;
        sock.peer = addr;
        sock.local = local;
        Ok(())
    }

    fn send(
        &mut self,
        s: SocketId,
        data: &[u8],
        _flags: u32,
        to: Option<SocketAddr>,
    ) -> NetResult<usize> {
        if let Some(n) = self.resolve(s, data, to)? {
            return Ok(n);
        }
        let initial = self.initial_window;
        let full = self.outbox_bytes >= OUTBOX_LIMIT;
        let down = self.down;
        let sock = self.sock(s)?;
        let peer = sock.peer;
        let v6 = sock.v6;
        match &mut sock.kind {
            Kind::Tcp(t) => {
                let Some(id) = t.stream else {
                    return Err(ENOTCONN);
                };
                if let Some(why) = t.closed {
                    if why != reason::VOLUNTARY && !t.reported {
                        t.reported = true;
                        return Err(errno_of(why));
                    }
                    return Err(EPIPE);
                }
                if t.shut_wr {
                    return Err(EPIPE);
                }
                let mut window = t.window.or(initial).unwrap_or(0);
                if window == 0 || full || initial.is_none() {
                    return Err(EAGAIN);
                }
                if data.is_empty() {
                    return Ok(0);
                }
                let mut sent = 0;
                let mut packets = Vec::new();
                while sent < data.len() && window > 0 {
                    let n = (data.len() - sent).min(MAX_PAYLOAD);
                    packets.push(packet(DATA, id, &data[sent..sent + n]));
                    sent += n;
                    window -= 1;
                }
                t.window = Some(window);
                for p in packets {
                    self.push(p);
                }
                Ok(sent)
            }
            Kind::Udp(u) => {
                let Some(dest) = to.or(peer) else {
                    return Err(EDESTADDRREQ);
                };
                if data.len() > MAX_DATAGRAM {
                    return Err(EMSGSIZE);
                }
                if down {
                    return Err(ENETUNREACH);
                }
                if full {
                    return Err(EAGAIN);
                }
                let flow = u.flows.get(&dest).copied();
                let id = match flow {
                    Some(id) => id,
                    None => {
                        let id = self.open_stream(UDP, dest, Owner::Udp(s, dest));
                        let local = self.ephemeral(v6);
                        let sock = self.sock(s)?;
                        sock.local.get_or_insert(local);
                        if let Kind::Udp(u) = &mut sock.kind {
                            u.flows.insert(dest, id);
                        }
                        id
                    }
                };
                self.push(packet(DATA, id, data));
                Ok(data.len())
            }
        }
    }

    fn recv(&mut self, s: SocketId, buf: &mut [u8], flags: u32) -> NetResult<Received> {
        let peek = flags & MSG_PEEK != 0;
        match &mut self.sock(s)?.kind {
            Kind::Tcp(t) => {
                if t.stream.is_none() {
                    return Err(ENOTCONN);
                }
                if t.rx.is_empty() {
                    return match t.closed {
                        None => Err(EAGAIN),
                        Some(why) if why != reason::VOLUNTARY && !t.reported => {
                            t.reported = true;
                            Err(errno_of(why))
                        }
                        Some(_) => Ok(Received::default()),
                    };
                }
                let n = buf.len().min(t.rx.len());
                for (d, s) in buf.iter_mut().zip(t.rx.iter()) {
                    *d = *s;
                }
                if !peek {
                    t.rx.drain(..n);
                }
                Ok(Received {
                    len: n,
                    ret: n,
                    from: None,
                    truncated: false,
                    control: Vec::new(),
                })
            }
            Kind::Udp(u) => {
                let Some((from, d)) = (if peek {
                    u.rx.front().cloned()
                } else {
                    u.rx.pop_front()
                }) else {
                    return Err(EAGAIN);
                };
                let n = buf.len().min(d.len());
                buf[..n].copy_from_slice(&d[..n]);
                Ok(Received {
                    len: n,
                    ret: n,
                    from: Some(from),
                    truncated: n < d.len(),
                    control: Vec::new(),
                })
            }
        }
    }

    fn shutdown(&mut self, s: SocketId, how: u32) -> NetResult<()> {
        let sock = self.sock(s)?;
        match &mut sock.kind {
            Kind::Tcp(t) => {
                if t.stream.is_none() {
                    return Err(ENOTCONN);
                }
                if how >= 1 {
                    t.shut_wr = true;
                }
                Ok(())
            }
            Kind::Udp(_) => {
                if sock.peer.is_none() {
                    Err(ENOTCONN)
                } else {
                    Ok(())
                }
            }
        }
    }

    fn local_addr(&mut self, s: SocketId) -> NetResult<SocketAddr> {
        let sock = self.sock(s)?;
        Ok(sock.local.unwrap_or(if sock.v6 {
            SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0)
        } else {
            SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0)
        }))
    }

    fn peer_addr(&mut self, s: SocketId) -> NetResult<SocketAddr> {
        self.sock(s)?.peer.ok_or(ENOTCONN)
    }

    fn getsockopt(&mut self, s: SocketId, level: u32, opt: u32, len: usize) -> NetResult<Vec<u8>> {
        const SOL_SOCKET: u32 = 1;
        const SO_TYPE: u32 = 3;
        const SO_ERROR: u32 = 4;
        let sock = self.sock(s)?;
        let v: i32 = match (level, opt, &mut sock.kind) {
            (SOL_SOCKET, SO_TYPE, Kind::Tcp(_)) => 1,
            (SOL_SOCKET, SO_TYPE, Kind::Udp(_)) => 2,
            (SOL_SOCKET, SO_ERROR, Kind::Tcp(t)) => match t.closed {
                Some(why) if why != reason::VOLUNTARY && !t.reported => {
                    t.reported = true;
                    errno_of(why)
                }
                _ => 0,
            },
            // Other options read as 0: Wisp has no knobs to report.
            _ => 0,
        };
        Ok(v.to_le_bytes()[..len.min(4)].to_vec())
    }

    fn setsockopt(&mut self, s: SocketId, _level: u32, _opt: u32, _val: &[u8]) -> NetResult<()> {
        // Accepted and without effect: the relay's sockets are its own.
        self.sock(s).map(|_| ())
    }

    fn poll(&mut self, s: SocketId) -> u16 {
        let initial = self.initial_window;
        let room = self.outbox_bytes < OUTBOX_LIMIT;
        let Ok(sock) = self.sock(s) else {
            return POLLERR;
        };
        match &sock.kind {
            Kind::Tcp(t) => {
                if t.stream.is_none() {
                    // An unconnected TCP socket, as Linux reports it.
                    return POLLOUT | POLLHUP;
                }
                let mut bits = 0;
                if !t.rx.is_empty() {
                    bits |= POLLIN;
                }
                match t.closed {
                    Some(why) => {
                        bits |= POLLIN | POLLHUP | POLLRDHUP | POLLOUT;
                        if why != reason::VOLUNTARY && !t.reported {
                            bits |= POLLERR;
                        }
                    }
                    None => {
                        let window = t.window.or(initial).unwrap_or(0);
                        if window > 0 && room && initial.is_some() && !t.shut_wr {
                            bits |= POLLOUT;
                        }
                    }
                }
                bits
            }
            Kind::Udp(u) => {
                let mut bits = if room { POLLOUT } else { 0 };
                if !u.rx.is_empty() {
                    bits |= POLLIN;
                }
                bits
            }
        }
    }

    fn readable_bytes(&mut self, s: SocketId) -> NetResult<usize> {
        Ok(match &self.sock(s)?.kind {
            Kind::Tcp(t) => t.rx.len(),
            Kind::Udp(u) => u.rx.front().map_or(0, |(_, d)| d.len()),
        })
    }

    fn close(&mut self, s: SocketId) {
        let Some(sock) = self.socks.remove(&s) else {
            return;
        };
        let ids: Vec<u32> = match sock.kind {
            Kind::Tcp(t) => t
                .stream
                .filter(|_| t.closed.is_none())
                .into_iter()
                .collect(),
            Kind::Udp(u) => u.flows.into_values().collect(),
        };
        for id in ids {
            self.streams.remove(&id);
            if !self.down {
                self.push(packet(CLOSE, id, &[reason::VOLUNTARY]));
            }
        }
    }

    fn interfaces(&mut self) -> Vec<Interface> {
        vec![
            Interface::loopback(true),
            Interface {
                name: "eth0".into(),
                index: 2,
                // IFF_UP | IFF_BROADCAST | IFF_RUNNING | IFF_MULTICAST
                flags: 0x1043,
                mtu: 1500,
                ipv4: Some((GUEST_IP, Ipv4Addr::new(255, 255, 255, 0))),
                // ARPHRD_ETHER, a locally administered address
                hw: (1, [0x52, 0x54, 0x00, 0x12, 0x34, 0x56]),
            },
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn relay_ready(n: &mut WispNet) {
        n.deliver(&packet(CONTINUE, 0, &2u32.to_le_bytes()));
    }

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn tcp_connect_send_receive_close() {
        let mut n = WispNet::default();
        let s = n.socket(false, true).unwrap();
        n.connect(s, Some(addr("93.184.216.34:80"))).unwrap();
        assert_eq!(
            n.take_outbox(),
            Vec::<Vec<u8>>::new(),
            "nothing before the relay speaks"
        );
        assert_eq!(n.send(s, b"x", 0, None), Err(EAGAIN));
        relay_ready(&mut n);
        assert_eq!(n.poll(s) & POLLOUT, POLLOUT);
        // Window of 2 packets: 70 KiB goes out as two 32 KiB packets.
        let big = vec![7u8; 70 << 10];
        assert_eq!(n.send(s, &big, 0, None), Ok(64 << 10));
        assert_eq!(n.send(s, b"more", 0, None), Err(EAGAIN));
        let out = n.take_outbox();
        assert_eq!(out.len(), 3);
        assert_eq!(&out[0][..5], &[CONNECT, 1, 0, 0, 0]);
        assert_eq!(&out[0][5..], b"\x01\x50\x0093.184.216.34");
        assert_eq!(out[1][0], DATA);
        n.deliver(&packet(CONTINUE, 1, &4u32.to_le_bytes()));
        assert_eq!(n.send(s, b"more", 0, None), Ok(4));
        n.deliver(&packet(DATA, 1, b"hello"));
        assert_eq!(n.poll(s) & POLLIN, POLLIN);
        let mut buf = [0u8; 3];
        assert_eq!(n.recv(s, &mut buf, MSG_PEEK).unwrap().len, 3);
        assert_eq!(n.recv(s, &mut buf, 0).unwrap().len, 3);
        assert_eq!(&buf, b"hel");
        n.deliver(&packet(CLOSE, 1, &[reason::VOLUNTARY]));
        assert_eq!(n.recv(s, &mut buf, 0).unwrap().len, 2);
        assert_eq!(n.recv(s, &mut buf, 0).unwrap().len, 0, "end of file");
        assert_eq!(n.send(s, b"x", 0, None), Err(EPIPE));
        n.close(s);
        assert!(
            n.take_outbox().iter().all(|p| p[0] != CLOSE),
            "already closed"
        );
    }

    #[test]
    fn refusal_is_reported_once() {
        let mut n = WispNet::default();
        relay_ready(&mut n);
        let s = n.socket(false, true).unwrap();
        n.connect(s, Some(addr("10.0.0.1:22"))).unwrap();
        n.deliver(&packet(CLOSE, 1, &[reason::REFUSED]));
        assert_ne!(n.poll(s) & POLLERR, 0);
        assert_eq!(
            n.getsockopt(s, 1, 4, 4).unwrap(),
            ECONNREFUSED.to_le_bytes()
        );
        assert_eq!(n.getsockopt(s, 1, 4, 4).unwrap(), 0i32.to_le_bytes());
        let mut buf = [0u8; 4];
        assert_eq!(n.recv(s, &mut buf, 0).unwrap().len, 0);
    }

    #[test]
    fn udp_flows_per_destination_keep_boundaries() {
        let mut n = WispNet::default();
        relay_ready(&mut n);
        let s = n.socket(false, false).unwrap();
        assert_eq!(n.send(s, b"q", 0, None), Err(EDESTADDRREQ));
        n.send(s, b"one", 0, Some(addr("1.1.1.1:123"))).unwrap();
        n.send(s, b"two", 0, Some(addr("1.1.1.1:123"))).unwrap();
        n.send(s, b"three", 0, Some(addr("8.8.8.8:123"))).unwrap();
        let out = n.take_outbox();
        let connects = out.iter().filter(|p| p[0] == CONNECT).count();
        assert_eq!(connects, 2, "one stream per destination");
        n.deliver(&packet(DATA, 2, b"answer-b"));
        n.deliver(&packet(DATA, 1, b"answer-a"));
        let mut buf = [0u8; 6];
        let r = n.recv(s, &mut buf, 0).unwrap();
        assert_eq!((r.len, r.ret, r.truncated), (6, 6, true));
        assert_eq!(r.from, Some(addr("8.8.8.8:123")));
        let r = n.recv(s, &mut buf, 0).unwrap();
        assert_eq!(r.from, Some(addr("1.1.1.1:123")));
        assert_eq!(n.recv(s, &mut buf, 0), Err(EAGAIN));
        n.close(s);
        assert_eq!(n.take_outbox().iter().filter(|p| p[0] == CLOSE).count(), 2);
    }

    #[test]
    fn names_resolve_here_and_connect_by_name() {
        let mut n = WispNet::default();
        relay_ready(&mut n);
        let u = n.socket(false, false).unwrap();
        let mut q = vec![0xab, 0xcd, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        q.extend_from_slice(b"\x07example\x03com\x00\x00\x01\x00\x01");
        n.send(u, &q, 0, Some(addr("10.255.255.53:53"))).unwrap();
        assert!(n.take_outbox().is_empty(), "no DNS traffic leaves");
        let mut buf = [0u8; 512];
        let r = n.recv(u, &mut buf, 0).unwrap();
        assert_eq!(r.from, Some(addr("10.255.255.53:53")));
        let ip = &buf[r.len - 4..r.len];
        let t = n.socket(false, true).unwrap();
        let to = SocketAddr::from(([ip[0], ip[1], ip[2], ip[3]], 443));
        n.connect(t, Some(to)).unwrap();
        let out = n.take_outbox();
        assert_eq!(&out[0][5..], b"\x01\xbb\x01example.com");
    }

    #[test]
    fn a_lost_relay_fails_streams_and_nonsense_is_counted() {
        let mut n = WispNet::default();
        relay_ready(&mut n);
        let s = n.socket(true, true).unwrap();
        n.connect(s, Some(addr("[2001:db8::1]:443"))).unwrap();
        n.deliver(&[1, 2]);
        n.deliver(&packet(0x66, 1, b""));
        assert_eq!(n.malformed, 2);
        n.lost();
        let mut buf = [0u8; 4];
        assert_eq!(n.recv(s, &mut buf, 0), Err(ECONNRESET));
        let t = n.socket(false, true).unwrap();
        assert_eq!(n.connect(t, Some(addr("1.2.3.4:80"))), Err(ENETUNREACH));
        assert_eq!(n.listen(t, 5), Err(EOPNOTSUPP));
    }
}
