//! The network relay of `wax serve --net`: the Wisp protocol (v1) over a
//! WebSocket at `/wisp/`, so a Wax machine in a browser tab can open TCP
//! and UDP connections to the outside world.
//!
//! Wisp multiplexes streams over one WebSocket. Every packet is
//! `type: u8, stream: u32 LE, payload`; the types are CONNECT (stream type
//! u8: 1 TCP, 2 UDP; port u16 LE; host name, UTF-8), DATA, CONTINUE
//! (u32 LE: how many more DATA packets the server will take on a TCP
//! stream) and CLOSE (reason u8). The server opens with CONTINUE on stream
//! 0 giving every stream's initial window.
//!
//! Implemented here from the protocol's public description. The registry's
//! implementation (the `wisp-mux` crate) is async, built on tokio, and
//! LGPL-3.0; this server is small, synchronous like the rest of
//! `wax serve`, and needs only `tungstenite` for the WebSocket framing.
//!
//! Shape: one thread per WebSocket runs [`Connection::run`], waiting in
//! poll(2) on the socket and on a wake pipe; per stream, one thread
//! connects and then writes what the client sent (a bounded queue: the
//! CONTINUE window), and one reads from the destination and hands DATA
//! packets to the connection through a bounded channel (a slow client
//! stalls its destinations, not the server's memory).
//!
//! Policy: the relay is off unless `--net` is given; destinations in
//! private, loopback, link-local and other non-public ranges are refused
//! (CLOSE 0x48) unless a `--net-allow` range holds them; a client may have
//! at most `max_streams` streams open and move `max_bytes` in all (CLOSE
//! 0x49 past either). Malformed packets are logged and dropped; nothing a
//! client sends can crash the server.

use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream, ToSocketAddrs, UdpSocket};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use tungstenite::protocol::{Role, WebSocket, WebSocketConfig};
use tungstenite::{Error as WsError, Message};

use wax_devices::wisp::{packet, reason, CLOSE, CONNECT, CONTINUE, DATA, TCP, UDP};

/// DATA packets a TCP stream may have in flight to the server (the
/// window announced by CONTINUE).
const WINDOW: u32 = 128;
/// DATA packets of a TCP stream the server holds at most (its writer's
/// queue). A client takes each CONTINUE's window as its own when it
/// arrives, so what it sends under the old window while a CONTINUE is on
/// its way comes on top: the server grants only what fits here even
/// then (`Stream::bound`), and closes a stream that overflows it.
const QUEUE: u32 = 2 * WINDOW;
/// Bytes read from a destination per DATA packet.
const READ_CHUNK: usize = 64 << 10;
/// Packets from destinations waiting for the WebSocket, for all streams of
/// one client.
const OUT_QUEUE: usize = 256;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// A UDP stream with no traffic for this long is closed.
const UDP_IDLE: Duration = Duration::from_secs(60);

/// What the relay lets clients do.
#[derive(Clone, Debug)]
pub struct Policy {
    /// Ranges allowed even though they are not public.
    pub allow: Vec<Cidr>,
    pub max_streams: usize,
    /// Bytes a client may move through the relay, both directions.
    pub max_bytes: u64,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            allow: Vec::new(),
            max_streams: 128,
            max_bytes: 1 << 32,
        }
    }
}

impl Policy {
    /// Whether connecting to `ip` is allowed.
    pub fn permits(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        is_public(ip) || self.allow.iter().any(|c| c.contains(ip))
    }
}

/// An address range, `ADDR/PREFIX` (or a single address).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl std::str::FromStr for Cidr {
    type Err = String;
    fn from_str(s: &str) -> Result<Cidr, String> {
        let (a, p) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = a
            .trim_matches(|c| c == '[' || c == ']')
            .parse()
            .map_err(|_| format!("{s:?} is not an address range (like 10.0.0.0/8 or ::1)"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|&p| p <= max)
                .ok_or_else(|| format!("{s:?}: prefix length must be 0..={max}"))?,
            None => max,
        };
        Ok(Cidr {
            addr: canonical(addr),
            prefix,
        })
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

impl Cidr {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, canonical(ip)) {
            (IpAddr::V4(a), IpAddr::V4(b)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(a) & mask == u32::from(b) & mask
            }
            (IpAddr::V6(a), IpAddr::V6(b)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(a) & mask == u128::from(b) & mask
            }
            _ => false,
        }
    }
}

/// IPv4-mapped IPv6 addresses as IPv4 (so `::ffff:127.0.0.1` is loopback).
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    }
}

/// Whether `ip` is a globally routed unicast address (not private,
/// loopback, link-local, shared, documentation, multicast, ...).
fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => {
            let [b0, b1, ..] = a.octets();
            !(a.is_unspecified()
                || a.is_loopback()
                || a.is_private()
                || a.is_link_local()
                || a.is_multicast()
                || a.is_broadcast()
                || a.is_documentation()
                || b0 == 0
                || b0 >= 240
                || (b0 == 100 && (64..128).contains(&b1))
                || (b0 == 192 && b1 == 0 && a.octets()[2] == 0)
                || (b0 == 198 && (b1 == 18 || b1 == 19)))
        }
        IpAddr::V6(a) => {
            let s = a.segments();
            !(a.is_unspecified()
                || a.is_loopback()
                || a.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] == 0x2001 && s[1] == 0x0db8)
                || s[0] == 0x0064 && s[1] == 0xff9b
                || s[..6] == [0; 6])
        }
    }
}

/// A CONNECT packet's payload.
#[derive(Debug, PartialEq, Eq)]
pub struct Connect {
    pub kind: u8,
    pub port: u16,
    pub host: String,
}

impl Connect {
    pub fn parse(p: &[u8]) -> Result<Connect, &'static str> {
        if p.len() < 4 {
            return Err("CONNECT payload too short");
        }
        let kind = p[0];
        if kind != TCP && kind != UDP {
            return Err("CONNECT with an unknown stream type");
        }
        let port = u16::from_le_bytes([p[1], p[2]]);
        if port == 0 {
            return Err("CONNECT to port 0");
        }
        let host = std::str::from_utf8(&p[3..]).map_err(|_| "CONNECT host is not UTF-8")?;
        let host = host.trim_matches(|c| c == '[' || c == ']');
        if host.is_empty() || host.len() > 253 || host.contains(['\0', '/', ' ']) {
            return Err("CONNECT with an invalid host name");
        }
        Ok(Connect {
            kind,
            port,
            host: host.to_string(),
        })
    }

    #[cfg(test)]
    pub fn encode(&self) -> Vec<u8> {
        let mut p = vec![self.kind];
        p.extend_from_slice(&self.port.to_le_bytes());
        p.extend_from_slice(self.host.as_bytes());
        p
    }
}

/// What stream threads tell the connection.
enum Event {
    Data(u32, Vec<u8>),
    /// The stream's writer sent this many packets on.
    Written(u32, u32),
    Closed(u32, u8),
}

/// The connection's handle on one stream.
struct Stream {
    kind: u8,
    /// Packets for the writer thread; dropping it ends the writer.
    to_writer: SyncSender<Vec<u8>>,
    shared: Arc<Shared>,
    /// DATA packets received and not yet written on.
    queued: u32,
    /// DATA packets the client may still send as far as it knows (the
    /// last CONTINUE's window less what arrived since): at least what it
    /// has left, once that CONTINUE arrived.
    credit: u32,
    /// DATA packets the client may still send at most: every window
    /// granted less what arrived since, as if it used up each window
    /// before the next arrived (it forfeits what is left instead, which
    /// the server cannot see). `queued + bound` never exceeds [`QUEUE`].
    bound: u32,
}

/// What a stream's threads and the connection share.
struct Shared {
    closed: AtomicBool,
    tcp: OnceLock<TcpStream>,
}

impl Shared {
    /// Ends the stream: its threads see the flag, its socket is shut down.
    fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        if let Some(s) = self.tcp.get() {
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
    }
}

/// Wakes the connection's poll when an event is queued.
#[derive(Clone)]
struct Notify {
    tx: SyncSender<Event>,
    wake: Arc<UnixStream>,
}

impl Notify {
    /// Queues `e`, blocking while the queue is full. False once the
    /// connection has gone.
    fn send(&self, e: Event) -> bool {
        if self.tx.send(e).is_err() {
            return false;
        }
        let _ = (&*self.wake).write(&[1]);
        true
    }
}

/// One client's WebSocket.
pub struct Connection {
    ws: WebSocket<TcpStream>,
    peer: String,
    policy: Arc<Policy>,
    streams: HashMap<u32, Stream>,
    events: Receiver<Event>,
    notify: Notify,
    wake_rx: UnixStream,
    bytes: u64,
    /// The WebSocket has unsent bytes (the socket would block).
    pending_write: bool,
}

/// Answers a WebSocket upgrade on `stream` (the request already read, its
/// `Sec-WebSocket-Key` in `key`) and relays until the client goes.
/// `early` holds bytes the HTTP reader buffered past the request.
pub fn serve(
    mut stream: TcpStream,
    key: &str,
    early: Vec<u8>,
    policy: Arc<Policy>,
) -> std::io::Result<()> {
    let accept = tungstenite::handshake::derive_accept_key(key.as_bytes());
    write!(
        stream,
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {accept}\r\n\r\n"
    )?;
    stream.flush()?;
    let peer = stream
        .peer_addr()
        .map(|a| a.to_string())
        .unwrap_or_else(|_| "?".into());
    stream.set_read_timeout(None)?;
    stream.set_nonblocking(true)?;
    let config = WebSocketConfig::default()
        .max_message_size(Some(1 << 20))
        .max_frame_size(Some(1 << 20));
    let ws = WebSocket::from_partially_read(stream, early, Role::Server, Some(config));
    let (wake_tx, wake_rx) = UnixStream::pair()?;
    wake_tx.set_nonblocking(true)?;
    wake_rx.set_nonblocking(true)?;
    let (tx, events) = mpsc::sync_channel(OUT_QUEUE);
    let mut c = Connection {
        ws,
        peer,
        policy,
        streams: HashMap::new(),
        events,
        notify: Notify {
            tx,
            wake: Arc::new(wake_tx),
        },
        wake_rx,
        bytes: 0,
        pending_write: false,
    };
    let r = c.run();
    for s in c.streams.values() {
        s.shared.close();
    }
    r
}

impl Connection {
    fn log(&self, what: impl std::fmt::Display) {
        eprintln!("wax serve: wisp {}: {what}", self.peer);
    }

    fn run(&mut self) -> std::io::Result<()> {
        self.send(CONTINUE, 0, &WINDOW.to_le_bytes());
        loop {
            if !self.flush() {
                return Ok(());
            }
            self.wait()?;
            let mut buf = [0u8; 64];
            while matches!(self.wake_rx.read(&mut buf), Ok(n) if n > 0) {}
            // From the client.
            loop {
                match self.ws.read() {
                    Ok(Message::Binary(p)) => self.packet(&p),
                    Ok(Message::Text(_)) => self.log("text frame ignored (Wisp is binary)"),
                    Ok(Message::Close(_)) => {}
                    Ok(_) => {}
                    Err(WsError::Io(e)) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(WsError::ConnectionClosed | WsError::AlreadyClosed) => return Ok(()),
                    Err(e) => {
                        self.log(format_args!("connection dropped: {e}"));
                        return Ok(());
                    }
                }
            }
            // From the destinations, while the client keeps up.
            while !self.pending_write {
                match self.events.try_recv() {
                    Ok(e) => self.event(e),
                    Err(_) => break,
                }
                if !self.flush() {
                    return Ok(());
                }
            }
        }
    }

    /// Sleeps until the client or a stream has something.
    fn wait(&mut self) -> std::io::Result<()> {
        let mut ws = libc::POLLIN;
        if self.pending_write {
            ws |= libc::POLLOUT;
        }
        let mut fds = [
            libc::pollfd {
                fd: self.ws.get_ref().as_raw_fd(),
                events: ws,
                revents: 0,
            },
            libc::pollfd {
                fd: self.wake_rx.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        // While the client is behind, events wait; otherwise a queued event
        // has already rung the wake pipe.
        // SAFETY: `fds` is a valid array of two pollfd for the call.
        let r = unsafe { libc::poll(fds.as_mut_ptr(), 2, 1000) };
        if r < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() != ErrorKind::Interrupted {
                return Err(e);
            }
        }
        Ok(())
    }

    /// Queues a packet for the client.
    fn send(&mut self, kind: u8, stream: u32, payload: &[u8]) {
        match self
            .ws
            .write(Message::Binary(packet(kind, stream, payload).into()))
        {
            Ok(()) => {}
            Err(WsError::Io(e)) if e.kind() == ErrorKind::WouldBlock => self.pending_write = true,
            Err(_) => self.pending_write = true,
        }
    }

    /// Pushes queued bytes to the client. False if the connection is gone.
    fn flush(&mut self) -> bool {
        match self.ws.flush() {
            Ok(()) => {
                self.pending_write = false;
                true
            }
            Err(WsError::Io(e)) if e.kind() == ErrorKind::WouldBlock => {
                self.pending_write = true;
                true
            }
            Err(_) => false,
        }
    }

    fn packet(&mut self, p: &[u8]) {
        if p.len() < 5 {
            self.log(format_args!(
                "malformed packet of {} bytes dropped",
                p.len()
            ));
            return;
        }
        let kind = p[0];
        let id = u32::from_le_bytes([p[1], p[2], p[3], p[4]]);
        let payload = &p[5..];
        match kind {
            CONNECT => self.connect(id, payload),
            DATA => self.data(id, payload),
            CLOSE => {
                if let Some(s) = self.streams.remove(&id) {
                    s.shared.close();
                }
            }
            CONTINUE => self.log("CONTINUE from a client dropped"),
            k => self.log(format_args!("packet of unknown type {k:#x} dropped")),
        }
    }

    fn connect(&mut self, id: u32, payload: &[u8]) {
        if id == 0 || self.streams.contains_key(&id) {
            self.log(format_args!(
                "CONNECT on stream {id}, which is in use, dropped"
            ));
            return;
        }
        let c = match Connect::parse(payload) {
            Ok(c) => c,
            Err(why) => {
                self.log(format_args!("stream {id}: {why}"));
                self.send(CLOSE, id, &[reason::INVALID]);
                return;
            }
        };
        if self.streams.len() >= self.policy.max_streams || self.bytes >= self.policy.max_bytes {
            self.log(format_args!(
                "stream {id} to {}:{} refused: limit of {} streams or {} bytes reached",
                c.host, c.port, self.policy.max_streams, self.policy.max_bytes
            ));
            self.send(CLOSE, id, &[reason::THROTTLED]);
            return;
        }
        let shared = Arc::new(Shared {
            closed: AtomicBool::new(false),
            tcp: OnceLock::new(),
        });
        // A conforming client never overflows this (`Stream::bound`).
        let (to_writer, from_conn) = mpsc::sync_channel(QUEUE as usize);
        self.streams.insert(
            id,
            Stream {
                kind: c.kind,
                to_writer,
                shared: shared.clone(),
                queued: 0,
                credit: WINDOW,
                bound: WINDOW,
            },
        );
        let notify = self.notify.clone();
        let policy = self.policy.clone();
        let peer = self.peer.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("wisp-{id}"))
            .spawn(move || open_stream(id, c, &policy, &peer, shared, from_conn, notify));
        if spawned.is_err() {
            self.streams.remove(&id);
            self.send(CLOSE, id, &[reason::THROTTLED]);
        }
    }

    fn data(&mut self, id: u32, payload: &[u8]) {
        let Some(s) = self.streams.get_mut(&id) else {
            // The stream may have just closed; its CLOSE is on its way.
            return;
        };
        self.bytes += payload.len() as u64;
        match s.to_writer.try_send(payload.to_vec()) {
            Ok(()) => {
                if s.kind == TCP {
                    s.queued += 1;
                    s.credit = s.credit.saturating_sub(1);
                    s.bound = s.bound.saturating_sub(1);
                }
            }
            Err(TrySendError::Full(_)) if s.kind == UDP => {} // a datagram lost
            Err(TrySendError::Full(_)) => {
                self.log(format_args!(
                    "stream {id}: client sent past its window; stream closed"
                ));
                self.close_stream(id, reason::THROTTLED);
                return;
            }
            Err(TrySendError::Disconnected(_)) => return,
        }
        if self.bytes > self.policy.max_bytes {
            self.over_quota();
        }
    }

    fn event(&mut self, e: Event) {
        match e {
            Event::Data(id, bytes) => {
                if self.streams.contains_key(&id) {
                    self.bytes += bytes.len() as u64;
                    self.send(DATA, id, &bytes);
                    if self.bytes > self.policy.max_bytes {
                        self.over_quota();
                    }
                }
            }
            Event::Written(id, n) => {
                let Some(s) = self.streams.get_mut(&id) else {
                    return;
                };
                s.queued = s.queued.saturating_sub(n);
                // Renew the window once half of it is used, if the queue
                // has room to make the renewal worth a packet: room for
                // all the client may send under the windows it has (an
                // earlier CONTINUE may still be on its way, and once the
                // client is at 0 the bound is at most QUEUE - WINDOW / 4,
                // so the renewal comes).
                let room = QUEUE.saturating_sub(s.queued + s.bound).min(WINDOW);
                if s.credit <= WINDOW / 2 && room >= s.credit + WINDOW / 4 {
                    s.credit = room;
                    s.bound += room;
                    self.send(CONTINUE, id, &room.to_le_bytes());
                }
            }
            Event::Closed(id, why) => {
                if self.streams.remove(&id).is_some() {
                    self.send(CLOSE, id, &[why]);
                }
            }
        }
    }

    fn close_stream(&mut self, id: u32, why: u8) {
        if let Some(s) = self.streams.remove(&id) {
            s.shared.close();
            self.send(CLOSE, id, &[why]);
        }
    }

    fn over_quota(&mut self) {
        self.log(format_args!(
            "moved more than {} bytes; its streams are closed",
            self.policy.max_bytes
        ));
        let ids: Vec<u32> = self.streams.keys().copied().collect();
        for id in ids {
            self.close_stream(id, reason::THROTTLED);
        }
    }
}

/// A stream's first thread: resolves and checks the destination, connects,
/// starts the reader, then writes what the client sends.
fn open_stream(
    id: u32,
    c: Connect,
    policy: &Policy,
    peer: &str,
    shared: Arc<Shared>,
    from_conn: Receiver<Vec<u8>>,
    notify: Notify,
) {
    let addrs: Vec<SocketAddr> = match (c.host.as_str(), c.port).to_socket_addrs() {
        Ok(a) => a.collect(),
        Err(_) => Vec::new(),
    };
    if addrs.is_empty() {
        notify.send(Event::Closed(id, reason::UNREACHABLE));
        return;
    }
    let allowed: Vec<SocketAddr> = addrs
        .iter()
        .copied()
        .filter(|a| policy.permits(a.ip()))
        .collect();
    if allowed.is_empty() {
        eprintln!(
            "wax serve: wisp {peer}: stream {id} to {}:{} ({}) blocked: not a public address \
             (allow it with --net-allow)",
            c.host,
            c.port,
            addrs[0].ip()
        );
        notify.send(Event::Closed(id, reason::BLOCKED));
        return;
    }
    if c.kind == UDP {
        return udp_stream(id, &allowed, shared, from_conn, notify);
    }
    let mut last = reason::UNREACHABLE;
    let mut sock = None;
    for a in &allowed {
        match TcpStream::connect_timeout(a, CONNECT_TIMEOUT) {
            Ok(s) => {
                sock = Some(s);
                break;
            }
            Err(e) => {
                last = match e.kind() {
                    ErrorKind::ConnectionRefused => reason::REFUSED,
                    ErrorKind::TimedOut => reason::TIMEOUT,
                    _ => reason::UNREACHABLE,
                }
            }
        }
    }
    let Some(sock) = sock else {
        notify.send(Event::Closed(id, last));
        return;
    };
    let _ = sock.set_nodelay(true);
    let Ok(reader) = sock.try_clone() else {
        notify.send(Event::Closed(id, reason::NETWORK_ERROR));
        return;
    };
    let _ = shared.tcp.set(sock);
    if shared.closed.load(Ordering::SeqCst) {
        shared.close();
        return;
    }
    {
        let to_conn = notify.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("wisp-{id}-r"))
            .spawn(move || tcp_reader(id, reader, to_conn));
        if spawned.is_err() {
            notify.send(Event::Closed(id, reason::THROTTLED));
            return;
        }
    }
    let mut out = shared.tcp.get().expect("set above");
    while let Ok(p) = from_conn.recv() {
        if out.write_all(&p).is_err() {
            notify.send(Event::Closed(id, reason::NETWORK_ERROR));
            shared.close();
            return;
        }
        if !notify.send(Event::Written(id, 1)) {
            break;
        }
    }
    // The client closed the stream (or went away).
    shared.close();
}

fn tcp_reader(id: u32, mut sock: TcpStream, notify: Notify) {
    let mut buf = vec![0u8; READ_CHUNK];
    loop {
        match sock.read(&mut buf) {
            Ok(0) => {
                notify.send(Event::Closed(id, reason::VOLUNTARY));
                return;
            }
            Ok(n) => {
                if !notify.send(Event::Data(id, buf[..n].to_vec())) {
                    return;
                }
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => {
                notify.send(Event::Closed(id, reason::NETWORK_ERROR));
                return;
            }
        }
    }
}

fn udp_stream(
    id: u32,
    allowed: &[SocketAddr],
    shared: Arc<Shared>,
    from_conn: Receiver<Vec<u8>>,
    notify: Notify,
) {
    let dest = allowed[0];
    let local: SocketAddr = if dest.is_ipv4() {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let sock = match UdpSocket::bind(local).and_then(|s| s.connect(dest).map(|()| s)) {
        Ok(s) => s,
        Err(_) => {
            notify.send(Event::Closed(id, reason::UNREACHABLE));
            return;
        }
    };
    let Ok(reader) = sock.try_clone() else {
        notify.send(Event::Closed(id, reason::NETWORK_ERROR));
        return;
    };
    let last = Arc::new(std::sync::Mutex::new(Instant::now()));
    {
        let (shared, to_conn, last) = (shared.clone(), notify.clone(), last.clone());
        let spawned = std::thread::Builder::new()
            .name(format!("wisp-{id}-u"))
            .spawn(move || udp_reader(id, reader, &shared, to_conn, &last));
        if spawned.is_err() {
            notify.send(Event::Closed(id, reason::THROTTLED));
            return;
        }
    }
    while let Ok(p) = from_conn.recv() {
        // A datagram that cannot be sent is lost, as on a network.
        let _ = sock.send(&p);
        if let Ok(mut t) = last.lock() {
            *t = Instant::now();
        }
    }
    shared.close();
}

fn udp_reader(
    id: u32,
    sock: UdpSocket,
    shared: &Shared,
    notify: Notify,
    last: &std::sync::Mutex<Instant>,
) {
    let _ = sock.set_read_timeout(Some(Duration::from_millis(500)));
    let mut buf = vec![0u8; 65536];
    while !shared.closed.load(Ordering::SeqCst) {
        match sock.recv(&mut buf) {
            Ok(n) => {
                if let Ok(mut t) = last.lock() {
                    *t = Instant::now();
                }
                if !notify.send(Event::Data(id, buf[..n].to_vec())) {
                    return;
                }
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                let idle = last.lock().map(|t| t.elapsed()).unwrap_or_default();
                if idle > UDP_IDLE {
                    notify.send(Event::Closed(id, reason::VOLUNTARY));
                    return;
                }
            }
            // ICMP errors (port unreachable) surface here; UDP goes on.
            Err(_) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        let c: Cidr = "10.0.0.0/8".parse().unwrap();
        assert!(c.contains("10.1.2.3".parse().unwrap()));
        assert!(!c.contains("11.0.0.1".parse().unwrap()));
        assert!(c.contains("::ffff:10.0.0.1".parse().unwrap()));
        let all: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains("8.8.8.8".parse().unwrap()));
        let one: Cidr = "::1".parse().unwrap();
        assert!(one.contains("::1".parse().unwrap()));
        assert!(!one.contains("::2".parse().unwrap()));
        assert!("10.0.0.0/33".parse::<Cidr>().is_err());
        assert!("example.com".parse::<Cidr>().is_err());
    }

    #[test]
    fn public_addresses() {
        let p = Policy::default();
        for a in ["8.8.8.8", "1.1.1.1", "2606:4700::1111"] {
            assert!(p.permits(a.parse().unwrap()), "{a}");
        }
        for a in [
            "127.0.0.1",
            "10.0.0.1",
            "172.16.5.4",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(!p.permits(a.parse().unwrap()), "{a}");
        }
        let p = Policy {
            allow: vec!["127.0.0.0/8".parse().unwrap()],
            ..Policy::default()
        };
        assert!(p.permits("127.0.0.1".parse().unwrap()));
        assert!(!p.permits("10.0.0.1".parse().unwrap()));
    }

    #[test]
    fn connect_payloads() {
        let c = Connect {
            kind: TCP,
            port: 443,
            host: "example.com".into(),
        };
        assert_eq!(Connect::parse(&c.encode()), Ok(c));
        assert!(Connect::parse(&[1, 0, 0, b'a']).is_err()); // port 0
        assert!(Connect::parse(&[3, 80, 0, b'a']).is_err()); // type
        assert!(Connect::parse(&[1, 80, 0]).is_err()); // no host
        assert!(Connect::parse(&[1, 80, 0, 0xff]).is_err()); // not UTF-8
        assert_eq!(
            Connect::parse(&[1, 80, 0, b'[', b':', b':', b'1', b']'])
                .unwrap()
                .host,
            "::1"
        );
    }
}
