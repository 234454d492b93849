//! UDP on the loopback stack: each datagram is delivered whole to the
//! socket bound to its destination, or dropped when that socket's
//! SO_RCVBUF is full (datagram senders never wait). A connected socket
//! sending to a port nobody has bound learns ECONNREFUSED from the next
//! call, as Linux reports the ICMP port-unreachable; unconnected senders
//! are not told.

use super::addr::shown;
use super::stack::{self, route, SockRef};
use super::{Given, RecvOut};
use crate::abi::errno::{Errno, KResult};
use crate::abi::poll;
use std::net::SocketAddr;

const MSG_PEEK: u32 = 2;
const MSG_TRUNC: u32 = 0x20;
const POLLRDHUP: u16 = 0x2000;
/// The largest UDP payload in an IPv4 (65535 - 20 - 8) or IPv6 packet.
const MAX_V4: usize = 65_507;
const MAX_V6: usize = 65_527;

pub fn connect(s: &SockRef, to: Given) -> KResult<()> {
    let to = match to {
        Given::Unspec => {
            s.borrow_mut().remote = None;
            return Ok(());
        }
        Given::At(a) => a,
    };
    let (_, src) = route(&s.borrow(), to)?;
    stack::autobind(s)?;
    let mut b = s.borrow_mut();
    let port = b.local.map_or(0, |l| l.port());
    b.local = Some(shown(src, port, b.v6));
    b.remote = Some(to);
    Ok(())
}

pub fn send(s: &SockRef, data: &[u8], to: Option<SocketAddr>) -> KResult<usize> {
    let (dest, connected) = {
        let mut b = s.borrow_mut();
        if b.error != 0 {
            return Err(Errno(std::mem::take(&mut b.error)));
        }
        if b.shut_wr {
            return Err(Errno::EPIPE);
        }
        match (to, b.remote) {
            (Some(t), _) => (t, false),
            (None, Some(r)) => (r, true),
            (None, None) => return Err(Errno::EDESTADDRREQ),
        }
    };
    let max = if s.borrow().v6 { MAX_V6 } else { MAX_V4 };
    if data.len() > max {
        return Err(Errno::EMSGSIZE);
    }
    let (dst, src_ip) = route(&s.borrow(), dest)?;
    stack::autobind(s)?;
    let src = SocketAddr::new(src_ip, s.borrow().local.map_or(0, |l| l.port()));
    let stack = s.borrow().stack.clone();
    let target = stack.borrow_mut().udp_target(dst, dest.port(), src);
    let Some(target) = target else {
        if connected {
            let mut b = s.borrow_mut();
            b.error = Errno::ECONNREFUSED.0;
            b.bump();
        }
        return Ok(data.len());
    };
    let mut t = if std::rc::Rc::ptr_eq(&target, s) {
        s.borrow_mut()
    } else {
        target.borrow_mut()
    };
    if t.shut_rd || t.dgram_bytes + data.len() > t.opts.rcvbuf as usize {
        return Ok(data.len());
    }
    let from = shown(src.ip(), src.port(), t.v6);
    t.dgram_bytes += data.len();
    t.dgrams.push_back((data.to_vec(), from));
    t.bump();
    Ok(data.len())
}

pub fn recv(s: &SockRef, max: usize, flags: u32) -> KResult<RecvOut> {
    let mut b = s.borrow_mut();
    if b.error != 0 {
        return Err(Errno(std::mem::take(&mut b.error)));
    }
    let Some((data, from)) = b.dgrams.front().cloned() else {
        return if b.shut_rd {
            Ok(RecvOut::default())
        } else {
            Err(Errno::EAGAIN)
        };
    };
    if flags & MSG_PEEK == 0 {
        b.dgrams.pop_front();
        b.dgram_bytes -= data.len();
    }
    let full = data.len();
    let mut data = data;
    data.truncate(max);
    Ok(RecvOut {
        ret: if flags & MSG_TRUNC != 0 {
            full
        } else {
            data.len()
        },
        truncated: full > data.len(),
        data,
        from: Some(from),
        control: Vec::new(),
    })
}

pub fn shutdown(s: &SockRef, how: u32) -> KResult<()> {
    let mut b = s.borrow_mut();
    b.shut_rd |= how != 1;
    b.shut_wr |= how != 0;
    b.bump();
    // An unconnected datagram socket is in TCP_CLOSE for inet_shutdown.
    if b.remote.is_none() {
        return Err(Errno::ENOTCONN);
    }
    Ok(())
}

/// datagram_poll's answer.
pub fn poll(s: &super::stack::Sock) -> u16 {
    let mut m = 0;
    if s.error != 0 {
        m |= poll::POLLERR;
    }
    if s.shut_rd {
        m |= poll::POLLIN | poll::POLLRDNORM | POLLRDHUP;
    }
    if s.shut_rd && s.shut_wr {
        m |= poll::POLLHUP;
    }
    if !s.dgrams.is_empty() {
        m |= poll::POLLIN | poll::POLLRDNORM;
    }
    m | poll::POLLOUT | poll::POLLWRNORM
}
