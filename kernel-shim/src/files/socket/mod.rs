//! AF_UNIX sockets: stream, datagram and seqpacket, connected in pairs
//! or through names (a path in the VFS or an abstract name).
//!
//! A [`Socket`] lives in an `Rc<RefCell<_>>` held by its descriptor's
//! handle ([`SocketFile`]) and, before `accept`, by the listener's queue.
//! Everything else points at it weakly: the peer, the name table
//! ([`Namespace`]). So "the peer has closed" is simply "the peer no longer
//! upgrades", and closing the last descriptor frees the socket at once.
//!
//! Data moves as [`Msg`]s pushed straight into the peer's receive queue:
//! a datagram or seqpacket message is one `Msg`; a stream read joins
//! messages but stops after one that carried descriptors (so SCM_RIGHTS
//! arrive with the bytes sent with them, as on Linux). Blocking is the
//! caller's, as for pipes: EAGAIN parks the thread, and [`Socket::poll`]
//! reports readiness so parked threads (and poll/select/epoll) wake.
//!
//! A send through write(2) carries the credentials of the socket's
//! creator (handles do not know the calling process); sendmsg carries the
//! caller's.

mod file;
pub mod names;

pub use file::SocketFile;
pub use names::{Addr, Namespace};

use crate::abi::errno::{Errno, KResult};
use crate::abi::poll;
use crate::vfs::file::FileRef;

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::{Rc, Weak};

pub type SocketRef = Rc<RefCell<Socket>>;

/// AF_UNIX, as SO_DOMAIN reports it.
pub const AF_UNIX_FAMILY: u32 = 1;

/// Socket types (SOCK_* values).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Stream = 1,
    Dgram = 2,
    SeqPacket = 5,
}

impl Kind {
    pub fn from_type(t: u32) -> Option<Kind> {
        match t {
            1 => Some(Kind::Stream),
            2 => Some(Kind::Dgram),
            5 => Some(Kind::SeqPacket),
            _ => None,
        }
    }
    /// Stream and seqpacket sockets need a connection.
    pub fn connected(self) -> bool {
        self != Kind::Dgram
    }
}

/// `struct ucred`: who sent a message, who is at the other end.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ucred {
    pub pid: u32,
    pub uid: u32,
    pub gid: u32,
}

/// One message in a receive queue.
pub struct Msg {
    pub data: Vec<u8>,
    /// Descriptors in flight (SCM_RIGHTS).
    pub fds: Vec<FileRef>,
    pub cred: Ucred,
    /// The sender's name (datagrams: recvfrom's address).
    pub from: Option<Addr>,
}

/// What a receive took.
#[derive(Default)]
pub struct Received {
    pub data: Vec<u8>,
    pub fds: Vec<FileRef>,
    pub cred: Option<Ucred>,
    pub from: Option<Addr>,
    /// The whole message was longer than the buffer (MSG_TRUNC).
    pub truncated: bool,
    /// The full length of a datagram (recv with MSG_TRUNC returns it).
    pub full_len: usize,
    /// The source as sockaddr bytes (internet sockets).
    pub raw_from: Option<Vec<u8>>,
    /// IP-level control messages (internet sockets).
    pub control: Vec<wax_devices::net::Cmsg>,
}

#[derive(Default)]
pub enum State {
    #[default]
    Unconnected,
    Listening {
        backlog: usize,
        queue: VecDeque<SocketRef>,
    },
    /// Stream/seqpacket after connect/accept/socketpair; a datagram
    /// socket after connect (its default destination).
    Connected { peer: Weak<RefCell<Socket>> },
}

/// Bytes a receive queue holds before senders wait (SO_RCVBUF's
/// default, net.core.rmem_default).
pub const RCVBUF: usize = 212_992;
/// Datagrams a receive queue holds (net.unix.max_dgram_qlen).
pub const MAX_DGRAM_QLEN: usize = 512;

pub struct Socket {
    /// The inode number shown as `socket:[N]`.
    pub id: u64,
    pub kind: Kind,
    pub state: State,
    /// The bound name.
    pub name: Option<Addr>,
    /// The peer's name at connect time (getpeername).
    pub peer_name: Option<Addr>,
    pub rx: VecDeque<Msg>,
    pub rx_bytes: usize,
    /// shutdown(SHUT_RD) here, or the peer's SHUT_WR: reads see EOF.
    pub shut_rd: bool,
    /// shutdown(SHUT_WR) here: writes fail with EPIPE.
    pub shut_wr: bool,
    /// Whether a connection ever existed (a stream whose peer is gone
    /// reads EOF; a never-connected one is ENOTCONN).
    pub was_connected: bool,
    /// The creator's credentials (SO_PEERCRED for the other end).
    pub cred: Ucred,
    pub peer_cred: Option<Ucred>,
    pub passcred: bool,
    /// Pending SO_ERROR.
    pub error: u32,
    pub rcvbuf: u32,
    pub sndbuf: u32,
}

impl Socket {
    pub fn new(id: u64, kind: Kind, cred: Ucred) -> SocketRef {
        Rc::new(RefCell::new(Socket {
            id,
            kind,
            state: State::Unconnected,
            name: None,
            peer_name: None,
            rx: VecDeque::new(),
            rx_bytes: 0,
            shut_rd: false,
            shut_wr: false,
            was_connected: false,
            cred,
            peer_cred: None,
            passcred: false,
            error: 0,
            rcvbuf: RCVBUF as u32,
            sndbuf: RCVBUF as u32,
        }))
    }

    /// Connects two fresh sockets to each other (socketpair, connect).
    pub fn link(a: &SocketRef, b: &SocketRef) {
        let (ca, cb) = (a.borrow().cred, b.borrow().cred);
        for (s, peer, cred) in [(a, b, cb), (b, a, ca)] {
            let mut s = s.borrow_mut();
            s.state = State::Connected {
                peer: Rc::downgrade(peer),
            };
            s.peer_cred = Some(cred);
            s.was_connected = true;
        }
    }

    /// The connected peer, if it is still open.
    pub fn peer(&self) -> Option<SocketRef> {
        match &self.state {
            State::Connected { peer } => peer.upgrade(),
            _ => None,
        }
    }

    pub fn is_connected(&self) -> bool {
        matches!(self.state, State::Connected { .. })
    }

    /// Whether `len` more bytes (one message) fit in the receive queue.
    fn has_room(&self, len: usize) -> bool {
        let msgs_ok = !(self.kind == Kind::Dgram && self.rx.len() >= MAX_DGRAM_QLEN);
        msgs_ok && (self.rx_bytes == 0 || self.rx_bytes + len <= self.rcvbuf as usize)
    }

    fn room(&self) -> usize {
        (self.rcvbuf as usize).saturating_sub(self.rx_bytes)
    }

    fn push(&mut self, msg: Msg) {
        self.rx_bytes += msg.data.len();
        self.rx.push_back(msg);
    }

    /// Whether reads have reached the end: shut down for reading, or a
    /// connection whose peer is gone.
    fn at_eof(&self) -> bool {
        self.shut_rd || (self.kind.connected() && self.was_connected && self.peer().is_none())
    }

    /// poll(2) readiness (Linux's unix_poll / unix_dgram_poll).
    pub fn poll(&self) -> u16 {
        let mut e = 0;
        if self.error != 0 {
            e |= poll::POLLERR;
        }
        if let State::Listening { queue, .. } = &self.state {
            return e | if queue.is_empty() {
                0
            } else {
                poll::POLLIN | poll::POLLRDNORM
            };
        }
        if !self.rx.is_empty() {
            e |= poll::POLLIN | poll::POLLRDNORM;
        }
        let peer = self.peer();
        let gone = self.kind.connected() && peer.is_none();
        if self.shut_rd || (gone && self.was_connected) {
            e |= poll::POLLIN | poll::POLLRDNORM | POLLRDHUP;
        }
        if (self.shut_rd && self.shut_wr) || gone {
            e |= poll::POLLHUP;
        }
        let writable = peer
            .as_ref()
            .is_none_or(|p| p.try_borrow().map_or(true, |p| p.has_room(1) || p.shut_rd));
        if writable && !self.shut_wr {
            e |= poll::POLLOUT | poll::POLLWRNORM;
        }
        e
    }

    /// Sends on a connected socket (or to `to`, a datagram destination).
    pub fn send(me: &SocketRef, msg: Msg, to: Option<SocketRef>) -> KResult<usize> {
        let (kind, shut_wr) = {
            let s = me.borrow();
            (s.kind, s.shut_wr)
        };
        if shut_wr {
            return Err(Errno::EPIPE);
        }
        let target = match to {
            Some(t) => t,
            None => {
                let s = me.borrow();
                match (&s.state, s.peer()) {
                    (_, Some(p)) => p,
                    (State::Connected { .. }, None) if kind.connected() => {
                        return Err(Errno::EPIPE)
                    }
                    (State::Connected { .. }, None) => return Err(Errno::ECONNREFUSED),
                    _ if s.was_connected => return Err(Errno::EPIPE),
                    _ => return Err(Errno::ENOTCONN),
                }
            }
        };
        let same = Rc::ptr_eq(me, &target);
        let mut t = if same {
            // A datagram sent to the socket's own name.
            me.borrow_mut()
        } else {
            target.borrow_mut()
        };
        if t.shut_rd && kind.connected() {
            return Err(Errno::EPIPE);
        }
        deliver(&mut t, kind, msg)
    }

    /// Receives up to `max` bytes. `peek` leaves the data queued.
    pub fn recv(&mut self, max: usize, peek: bool) -> KResult<Received> {
        if self.kind.connected() && !self.was_connected && !self.is_connected() {
            return Err(Errno::EINVAL);
        }
        if self.rx.is_empty() {
            return if self.at_eof() {
                Ok(Received::default())
            } else {
                Err(Errno::EAGAIN)
            };
        }
        if self.kind == Kind::Stream {
            Ok(self.recv_stream(max, peek))
        } else {
            Ok(self.recv_message(max, peek))
        }
    }

    /// Bytes readable now (stream), or the next message's size (FIONREAD).
    pub fn readable_bytes(&self) -> usize {
        match self.kind {
            Kind::Stream => self.rx_bytes,
            _ => self.rx.front().map_or(0, |m| m.data.len()),
        }
    }

    /// Whether a MSG_WAITALL read of `want` bytes can complete now.
    pub fn can_fill(&self, want: usize) -> bool {
        self.kind != Kind::Stream || self.rx_bytes >= want || self.at_eof()
    }

    fn recv_message(&mut self, max: usize, peek: bool) -> Received {
        let m = if peek {
            let m = &self.rx[0];
            Msg {
                data: m.data.clone(),
                fds: m.fds.clone(),
                cred: m.cred,
                from: m.from.clone(),
            }
        } else {
            let m = self.rx.pop_front().expect("queue is not empty");
            self.rx_bytes -= m.data.len();
            m
        };
        let full_len = m.data.len();
        let mut data = m.data;
        data.truncate(max);
        Received {
            truncated: full_len > max,
            full_len,
            data,
            fds: m.fds,
            cred: Some(m.cred),
            from: m.from,
            raw_from: None,
            control: Vec::new(),
        }
    }

    fn recv_stream(&mut self, max: usize, peek: bool) -> Received {
        let mut r = Received::default();
        let mut i = 0;
        while r.data.len() < max && i < self.rx.len() {
            let m = &mut self.rx[i];
            if r.cred.is_some_and(|c| c != m.cred) {
                break;
            }
            r.cred = Some(m.cred);
            let n = (max - r.data.len()).min(m.data.len());
            r.data.extend_from_slice(&m.data[..n]);
            let had_fds = !m.fds.is_empty();
            if peek {
                r.fds.extend(m.fds.iter().cloned());
            } else {
                r.fds.append(&mut m.fds);
            }
            if !peek {
                m.data.drain(..n);
            }
            if !peek && m.data.is_empty() {
                self.rx.remove(i);
            } else {
                i += 1;
            }
            if had_fds {
                break;
            }
        }
        if !peek {
            self.rx_bytes -= r.data.len();
        }
        r.full_len = r.data.len();
        r
    }

    /// Turns the socket into a listener.
    pub fn listen(&mut self, backlog: u32) -> KResult<()> {
        if !self.kind.connected() {
            return Err(Errno::EOPNOTSUPP);
        }
        if self.name.is_none() || self.is_connected() {
            return Err(Errno::EINVAL);
        }
        let backlog = (backlog as i32).clamp(0, 4096) as usize;
        match &mut self.state {
            State::Listening { backlog: b, .. } => *b = backlog,
            s => {
                *s = State::Listening {
                    backlog,
                    queue: VecDeque::new(),
                }
            }
        }
        Ok(())
    }

    /// Takes the next queued connection.
    pub fn accept(&mut self) -> KResult<SocketRef> {
        match &mut self.state {
            State::Listening { queue, .. } => queue.pop_front().ok_or(Errno::EAGAIN),
            _ => Err(Errno::EINVAL),
        }
    }

    /// shutdown(2): `how` is SHUT_RD (0), SHUT_WR (1) or SHUT_RDWR (2).
    pub fn shutdown(me: &SocketRef, how: u32) -> KResult<()> {
        if how > 2 {
            return Err(Errno::EINVAL);
        }
        let peer = {
            let s = me.borrow();
            if s.kind.connected() && !s.is_connected() {
                return Err(Errno::ENOTCONN);
            }
            s.peer()
        };
        let (rd, wr) = (how != 1, how != 0);
        {
            let mut s = me.borrow_mut();
            s.shut_rd |= rd;
            s.shut_wr |= wr;
        }
        // The peer sees the mirror image (unix_shutdown).
        if let Some(p) = peer.filter(|p| !Rc::ptr_eq(p, me)) {
            let mut p = p.borrow_mut();
            if p.kind.connected() {
                p.shut_rd |= wr;
                p.shut_wr |= rd;
            }
        }
        Ok(())
    }
}

/// POLLRDHUP: the peer shut down its writing side.
pub const POLLRDHUP: u16 = 0x2000;

/// Puts `msg` in `t`'s receive queue: a stream takes what fits (a short
/// send), messages go whole or wait.
fn deliver(t: &mut Socket, kind: Kind, mut msg: Msg) -> KResult<usize> {
    let len = msg.data.len();
    if kind != Kind::Stream {
        if len > t.rcvbuf as usize {
            return Err(Errno::EMSGSIZE);
        }
        if !t.has_room(len) {
            return Err(Errno::EAGAIN);
        }
        t.push(msg);
        return Ok(len);
    }
    let room = t.room();
    if room == 0 && len > 0 {
        return Err(Errno::EAGAIN);
    }
    msg.data.truncate(room);
    let n = msg.data.len();
    t.push(msg);
    Ok(n)
}

#[cfg(test)]
mod tests;
