//! `host` mode: a guest socket is a socket of the host, reached through
//! [`wax_devices::net::Network`]. The host kernel supplies the semantics
//! and errno values; this side only keeps what the i386 ABI lays out
//! differently (SO_RCVTIMEO/SO_SNDTIMEO take an i386 `struct timeval`;
//! kept here and, as for every socket, not enforced).

use super::opt::{SOL_SOCKET, SO_RCVTIMEO, SO_SNDTIMEO};
use super::{Given, InetSocket, RecvOut};
use crate::abi::errno::{Errno, KResult};
use std::cell::RefCell;
use std::net::SocketAddr;
use std::rc::Rc;
use wax_devices::net::{Cmsg, Network, SocketId};

pub struct HostSocket {
    net: Rc<RefCell<dyn Network>>,
    id: SocketId,
    v6: bool,
    stream: bool,
    timeo: [[u8; 8]; 2],
    /// For EPOLLET: the readiness and queued bytes at the last look, and
    /// a count of the changes seen (new bits, or more bytes queued).
    last: (u16, usize),
    changes: u64,
}

fn errno<T>(r: Result<T, i32>) -> KResult<T> {
    r.map_err(Errno)
}

impl HostSocket {
    pub fn new(net: Rc<RefCell<dyn Network>>, v6: bool, stream: bool) -> KResult<HostSocket> {
        let id = errno(net.borrow_mut().socket(v6, stream))?;
        Ok(HostSocket::with_id(net, id, v6, stream))
    }

    /// A UDP-like datagram socket of protocol `proto` (UDP-Lite).
    pub fn datagram(net: Rc<RefCell<dyn Network>>, v6: bool, proto: u32) -> KResult<HostSocket> {
        let id = errno(net.borrow_mut().datagram_socket(v6, proto))?;
        Ok(HostSocket::with_id(net, id, v6, false))
    }

    fn with_id(net: Rc<RefCell<dyn Network>>, id: SocketId, v6: bool, stream: bool) -> HostSocket {
        HostSocket {
            net,
            id,
            v6,
            stream,
            timeo: [[0; 8]; 2],
            last: (0, 0),
            changes: 0,
        }
    }
}

impl InetSocket for HostSocket {
    fn is_v6(&self) -> bool {
        self.v6
    }
    fn is_stream(&self) -> bool {
        self.stream
    }
    fn bind(&mut self, a: SocketAddr) -> KResult<()> {
        errno(self.net.borrow_mut().bind(self.id, a))
    }
    fn listen(&mut self, backlog: u32) -> KResult<()> {
        errno(self.net.borrow_mut().listen(self.id, backlog as i32))
    }
    fn accept(&mut self) -> KResult<(Box<dyn InetSocket>, SocketAddr)> {
        let (id, peer) = errno(self.net.borrow_mut().accept(self.id))?;
        let s = HostSocket {
            net: self.net.clone(),
            id,
            v6: self.v6,
            stream: true,
            timeo: [[0; 8]; 2],
            last: (0, 0),
            changes: 0,
        };
        Ok((Box::new(s), peer))
    }
    fn connect(&mut self, to: Given, _nonblocking: bool) -> KResult<()> {
        let to = match to {
            Given::Unspec => None,
            Given::At(a) => Some(a),
        };
        errno(self.net.borrow_mut().connect(self.id, to))
    }
    fn send(&mut self, data: &[u8], flags: u32, to: Option<SocketAddr>) -> KResult<usize> {
        errno(self.net.borrow_mut().send(self.id, data, flags, to))
    }
    fn send_msg(
        &mut self,
        data: &[u8],
        flags: u32,
        to: Option<SocketAddr>,
        control: &[Cmsg],
    ) -> KResult<usize> {
        errno(
            self.net
                .borrow_mut()
                .send_msg(self.id, data, flags, to, control),
        )
    }
    fn recv(&mut self, max: usize, flags: u32) -> KResult<RecvOut> {
        let mut buf = vec![0u8; max];
        let r = errno(self.net.borrow_mut().recv(self.id, &mut buf, flags))?;
        buf.truncate(r.len);
        Ok(RecvOut {
            data: buf,
            ret: r.ret,
            from: r.from,
            truncated: r.truncated,
            control: r.control,
        })
    }
    fn shutdown(&mut self, how: u32) -> KResult<()> {
        errno(self.net.borrow_mut().shutdown(self.id, how))
    }
    fn local_name(&mut self) -> KResult<SocketAddr> {
        errno(self.net.borrow_mut().local_addr(self.id))
    }
    fn peer_name(&mut self) -> KResult<SocketAddr> {
        errno(self.net.borrow_mut().peer_addr(self.id))
    }
    fn getsockopt(&mut self, level: u32, opt: u32, room: usize) -> KResult<Vec<u8>> {
        match (level, opt) {
            (SOL_SOCKET, SO_RCVTIMEO) => Ok(self.timeo[0].to_vec()),
            (SOL_SOCKET, SO_SNDTIMEO) => Ok(self.timeo[1].to_vec()),
            _ => errno(self.net.borrow_mut().getsockopt(self.id, level, opt, room)),
        }
    }
    fn setsockopt(&mut self, level: u32, opt: u32, val: &[u8]) -> KResult<()> {
        match (level, opt) {
            (SOL_SOCKET, SO_RCVTIMEO | SO_SNDTIMEO) => {
                if val.len() < 8 {
                    return Err(Errno::EINVAL);
                }
                let i = usize::from(opt == SO_SNDTIMEO);
                self.timeo[i].copy_from_slice(&val[..8]);
                Ok(())
            }
            _ => errno(self.net.borrow_mut().setsockopt(self.id, level, opt, val)),
        }
    }
    fn poll(&mut self) -> u16 {
        self.net.borrow_mut().poll(self.id)
    }
    /// Host sockets do not report their events, so changes are inferred
    /// when epoll looks: a readiness bit that changed or more bytes to
    /// read (partial: a second datagram behind an unread one, or data
    /// that arrived and was read between two looks, are not seen).
    fn event_count(&mut self) -> Option<u64> {
        let bits = self.net.borrow_mut().poll(self.id);
        let bytes = self.net.borrow_mut().readable_bytes(self.id).unwrap_or(0);
        if bits != self.last.0 || bytes > self.last.1 {
            self.changes += 1;
        }
        self.last = (bits, bytes);
        Some(self.changes)
    }
    fn readable_bytes(&mut self) -> KResult<usize> {
        errno(self.net.borrow_mut().readable_bytes(self.id))
    }
    fn close(&mut self) {
        self.net.borrow_mut().close(self.id);
    }
}
