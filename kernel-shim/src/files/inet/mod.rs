//! Internet sockets (AF_INET, AF_INET6; TCP and UDP) in three modes, the
//! kernel's [`NetMode`]:
//!
//! - `Loopback`: an in-kernel stack ([`stack`]) where guest sockets reach
//!   each other on 127.0.0.0/8 and ::1 with Linux's semantics and errno
//!   values, deterministically, without touching the host.
//! - `None`: the same stack with the loopback interface down, as in a
//!   fresh network namespace (`unshare -n`): sockets can be created and
//!   bound, connect and sendto fail with ENETUNREACH (EADDRNOTAVAIL for
//!   IPv6).
//! - `Host`: every socket is a host socket behind the
//!   [`wax_devices::net::Network`] trait ([`host`]); the host kernel
//!   supplies the semantics.
//! - `Relay`: the loopback stack inside the machine, and a `Network` (a
//!   Wisp relay in the browser or with the CLI's `--net-relay`) for
//!   connections to anywhere else ([`routed`]).
//!
//! Both kinds implement [`InetSocket`], which the system calls in
//! `syscall/net/inet.rs` drive: they turn EAGAIN into a parked thread
//! (unless non-blocking), EPIPE into SIGPIPE, and addresses into guest
//! sockaddrs. A socket is a [`InetFile`] in the descriptor table and wakes
//! parked threads by reporting readiness from `poll`, like every file.

pub mod addr;
mod file;
pub mod host;
pub mod opt;
pub mod routed;
pub mod stack;
mod tcp;
mod udp;

pub use addr::Given;
pub use file::InetFile;

use crate::abi::errno::KResult;
use std::cell::RefCell;
use std::net::SocketAddr;
use std::rc::Rc;

/// How guest internet sockets reach anything.
#[derive(Clone)]
pub enum NetMode {
    None,
    Loopback,
    Host(Rc<RefCell<dyn wax_devices::net::Network>>),
    Relay(Rc<RefCell<dyn wax_devices::net::Network>>),
}

/// What a receive took.
#[derive(Debug, Default)]
pub struct RecvOut {
    pub data: Vec<u8>,
    /// The value recv returns (a datagram's full size with MSG_TRUNC).
    pub ret: usize,
    /// The sender (datagrams).
    pub from: Option<SocketAddr>,
    /// The datagram did not fit (MSG_TRUNC in msg_flags).
    pub truncated: bool,
    /// IP-level control messages (host sockets; see
    /// [`InetSocket::send_msg`]).
    pub control: Vec<wax_devices::net::Cmsg>,
}

/// One internet socket, whichever stack holds it. Every call returns at
/// once: EAGAIN (and EINPROGRESS for a connect) mean "not yet".
pub trait InetSocket {
    fn is_v6(&self) -> bool;
    /// TCP (else UDP).
    fn is_stream(&self) -> bool;
    fn bind(&mut self, a: SocketAddr) -> KResult<()>;
    fn listen(&mut self, backlog: u32) -> KResult<()>;
    fn accept(&mut self) -> KResult<(Box<dyn InetSocket>, SocketAddr)>;
    /// `nonblocking`: whether the caller will wait (a loopback connect
    /// completes at once; a host one is collected by calling again).
    fn connect(&mut self, to: Given, nonblocking: bool) -> KResult<()>;
    fn send(&mut self, data: &[u8], flags: u32, to: Option<SocketAddr>) -> KResult<usize>;
    /// [`InetSocket::send`] with sendmsg's IP-level control messages
    /// (IPV6_HOPLIMIT, IPV6_TCLASS, IP_TTL ...). Only host sockets carry
    /// them (the host kernel checks them); the in-machine stack and the
    /// relay refuse any (EINVAL): partial, see ARCHITECTURE.md.
    fn send_msg(
        &mut self,
        data: &[u8],
        flags: u32,
        to: Option<SocketAddr>,
        control: &[wax_devices::net::Cmsg],
    ) -> KResult<usize> {
        if !control.is_empty() {
            return Err(crate::abi::errno::Errno::EINVAL);
        }
        self.send(data, flags, to)
    }
    fn recv(&mut self, max: usize, flags: u32) -> KResult<RecvOut>;
    fn shutdown(&mut self, how: u32) -> KResult<()>;
    fn local_name(&mut self) -> KResult<SocketAddr>;
    fn peer_name(&mut self) -> KResult<SocketAddr>;
    fn getsockopt(&mut self, level: u32, opt: u32, room: usize) -> KResult<Vec<u8>>;
    fn setsockopt(&mut self, level: u32, opt: u32, val: &[u8]) -> KResult<()>;
    fn poll(&mut self) -> u16;
    /// Moves on every change a waiter could care about (EPOLLET).
    fn event_count(&mut self) -> Option<u64>;
    /// FIONREAD.
    fn readable_bytes(&mut self) -> KResult<usize>;
    /// The last descriptor is gone.
    fn close(&mut self);
}

/// The kernel's network: the mode and the loopback stack.
pub struct Net {
    pub mode: NetMode,
    pub stack: stack::StackRef,
}

impl Default for Net {
    fn default() -> Net {
        Net::new(NetMode::Loopback)
    }
}

impl Net {
    pub fn new(mode: NetMode) -> Net {
        let up = !matches!(mode, NetMode::None);
        Net {
            mode,
            stack: stack::Stack::new(up),
        }
    }

    /// A new socket (the caller has checked domain, type and protocol).
    pub fn socket(&self, v6: bool, stream: bool) -> KResult<Box<dyn InetSocket>> {
        match &self.mode {
            NetMode::Host(h) => Ok(Box::new(host::HostSocket::new(h.clone(), v6, stream)?)),
            NetMode::Relay(n) => Ok(Box::new(routed::RoutedSocket::new(
                &self.stack,
                n.clone(),
                v6,
                stream,
            ))),
            _ => Ok(stack::new_socket(&self.stack, v6, stream)),
        }
    }

    /// A UDP-Lite socket: only host sockets have one (the in-machine
    /// stack and the relay answer EPROTONOSUPPORT, as a kernel without
    /// UDP-Lite would).
    pub fn udplite_socket(&self, v6: bool) -> KResult<Box<dyn InetSocket>> {
        match &self.mode {
            NetMode::Host(h) => Ok(Box::new(host::HostSocket::datagram(
                h.clone(),
                v6,
                wax_devices::net::IPPROTO_UDPLITE,
            )?)),
            _ => Err(crate::abi::errno::Errno::EPROTONOSUPPORT),
        }
    }
}
