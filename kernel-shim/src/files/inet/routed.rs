//! `relay` mode: the machine's own stack for everything local, and a
//! [`wax_devices::net::Network`] (a Wisp relay, `wax_devices::wisp`) for
//! connections that leave it.
//!
//! Each socket starts in the loopback stack ([`super::stack`]), so guest
//! servers listen inside the machine and guest clients reach them on
//! 127.0.0.0/8 and ::1 exactly as in `loopback` mode. The first `connect`
//! (or, for UDP, `sendto`) to any other address moves a socket that is not
//! listening to the outward network, where it stays: a socket that has
//! gone outward sends even loopback destinations to the relay (which
//! refuses them). Options set before the move are not carried over.

use super::host::HostSocket;
use super::stack::{new_socket, StackRef};
use super::{Given, InetSocket, RecvOut};
use crate::abi::errno::KResult;
use std::cell::RefCell;
use std::net::{IpAddr, SocketAddr};
use std::rc::Rc;
use wax_devices::net::Network;

pub struct RoutedSocket {
    inner: Box<dyn InetSocket>,
    net: Rc<RefCell<dyn Network>>,
    outward: bool,
    listening: bool,
}

/// Whether `a` is outside the machine.
fn outward(a: &SocketAddr) -> bool {
    let ip = match a.ip() {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    };
    !(ip.is_loopback() || ip.is_unspecified())
}

impl RoutedSocket {
    pub fn new(
        stack: &StackRef,
        net: Rc<RefCell<dyn Network>>,
        v6: bool,
        stream: bool,
    ) -> RoutedSocket {
        RoutedSocket {
            inner: new_socket(stack, v6, stream),
            net,
            outward: false,
            listening: false,
        }
    }

    /// Moves the socket to the outward network before it first talks to
    /// `to`, if `to` is outside the machine.
    fn route(&mut self, to: &SocketAddr) -> KResult<()> {
        if self.outward || self.listening || !outward(to) {
            return Ok(());
        }
        let (v6, stream) = (self.inner.is_v6(), self.inner.is_stream());
        let out = HostSocket::new(self.net.clone(), v6, stream)?;
        self.inner.close();
        self.inner = Box::new(out);
        self.outward = true;
        Ok(())
    }
}

impl InetSocket for RoutedSocket {
    fn is_v6(&self) -> bool {
        self.inner.is_v6()
    }
    fn is_stream(&self) -> bool {
        self.inner.is_stream()
    }
    fn bind(&mut self, a: SocketAddr) -> KResult<()> {
        self.inner.bind(a)
    }
    fn listen(&mut self, backlog: u32) -> KResult<()> {
        self.inner.listen(backlog)?;
        self.listening = true;
        Ok(())
    }
    fn accept(&mut self) -> KResult<(Box<dyn InetSocket>, SocketAddr)> {
        self.inner.accept()
    }
    fn connect(&mut self, to: Given, nonblocking: bool) -> KResult<()> {
        if let Given::At(a) = &to {
            self.route(a)?;
        }
        self.inner.connect(to, nonblocking)
    }
    fn send(&mut self, data: &[u8], flags: u32, to: Option<SocketAddr>) -> KResult<usize> {
        if let Some(a) = &to {
            if !self.inner.is_stream() {
                self.route(a)?;
            }
        }
        self.inner.send(data, flags, to)
    }
    fn recv(&mut self, max: usize, flags: u32) -> KResult<RecvOut> {
        self.inner.recv(max, flags)
    }
    fn shutdown(&mut self, how: u32) -> KResult<()> {
        self.inner.shutdown(how)
    }
    fn local_name(&mut self) -> KResult<SocketAddr> {
        self.inner.local_name()
    }
    fn peer_name(&mut self) -> KResult<SocketAddr> {
        self.inner.peer_name()
    }
    fn getsockopt(&mut self, level: u32, opt: u32, room: usize) -> KResult<Vec<u8>> {
        self.inner.getsockopt(level, opt, room)
    }
    fn setsockopt(&mut self, level: u32, opt: u32, val: &[u8]) -> KResult<()> {
        self.inner.setsockopt(level, opt, val)
    }
    fn poll(&mut self) -> u16 {
        self.inner.poll()
    }
    fn event_count(&mut self) -> Option<u64> {
        self.inner.event_count()
    }
    fn readable_bytes(&mut self) -> KResult<usize> {
        self.inner.readable_bytes()
    }
    fn close(&mut self) {
        self.inner.close()
    }
}
