//! TCP on the loopback stack: connections are two [`Sock`]s pointing at
//! each other; bytes go straight into the peer's receive queue (at most
//! its SO_RCVBUF). The states follow Linux's observable behaviour:
//! a FIN is `fin` on the peer, a reset sets the errno Linux's tcp_reset
//! picks (ECONNREFUSED while connecting, EPIPE after a FIN, else
//! ECONNRESET) and shuts both directions. Closing with unread data, or
//! with SO_LINGER at zero, resets the peer; writing to a closed peer
//! succeeds once and draws the reset, as on a real loopback.
//!
//! Partial: the listen backlog is not enforced (connections queue
//! without limit), a blocking send may return short when the peer's
//! buffer fills (Linux would wait for the rest), and there is no
//! TIME_WAIT (a port is free again as soon as its sockets close).

use super::addr::shown;
use super::stack::{self, route, Sock, SockRef, Tcp};
use super::{Given, RecvOut};
use crate::abi::errno::{Errno, KResult};
use crate::abi::poll;
use std::collections::VecDeque;
use std::rc::Rc;

const MSG_PEEK: u32 = 2;
const POLLRDHUP: u16 = 0x2000;

pub fn listen(s: &SockRef, backlog: u32) -> KResult<()> {
    if !s.borrow().stream {
        return Err(Errno::EOPNOTSUPP);
    }
    {
        let b = s.borrow();
        if matches!(b.tcp, Tcp::Established { .. }) || b.connecting {
            return Err(Errno::EINVAL);
        }
    }
    stack::autobind(s)?;
    let mut b = s.borrow_mut();
    let backlog = backlog.min(4096);
    match &mut b.tcp {
        Tcp::Listening { backlog: old, .. } => *old = backlog,
        t => {
            *t = Tcp::Listening {
                backlog,
                queue: VecDeque::new(),
            }
        }
    }
    Ok(())
}

pub fn accept(s: &SockRef) -> KResult<SockRef> {
    let mut b = s.borrow_mut();
    if !b.stream {
        return Err(Errno::EOPNOTSUPP);
    }
    let c = match &mut b.tcp {
        Tcp::Listening { queue, .. } => queue.pop_front().ok_or(Errno::EAGAIN)?,
        _ => return Err(Errno::EINVAL),
    };
    b.bump();
    Ok(c)
}

/// connect(2): a loopback connection is established (or refused) at
/// once; a non-blocking caller still sees EINPROGRESS, as on Linux, and
/// collects the outcome through poll and SO_ERROR or a second connect.
pub fn connect(s: &SockRef, to: Given, nonblocking: bool) -> KResult<()> {
    let to = {
        let mut b = s.borrow_mut();
        if b.listening() {
            return Err(Errno::EISCONN);
        }
        if b.connecting {
            b.connecting = false;
            return match b.tcp {
                Tcp::Established { .. } => Ok(()),
                _ => Err(Errno(std::mem::take(&mut b.error)).nonzero_or(Errno::ECONNABORTED)),
            };
        }
        if matches!(b.tcp, Tcp::Established { .. }) {
            return Err(Errno::EISCONN);
        }
        match to {
            Given::Unspec => return Ok(()),
            Given::At(a) => a,
        }
    };
    let (dst, src) = route(&s.borrow(), to)?;
    stack::autobind(s)?;
    {
        let mut b = s.borrow_mut();
        let port = b.local.map_or(0, |l| l.port());
        b.local = Some(shown(src, port, b.v6));
        b.shut_rd = false;
        b.shut_wr = false;
        b.fin = false;
    }
    let stack = s.borrow().stack.clone();
    let listener = stack.borrow_mut().listener(dst, to.port());
    let Some(listener) = listener else {
        return refused(s, nonblocking);
    };
    establish(s, &listener, dst, to);
    if nonblocking {
        s.borrow_mut().connecting = true;
        return Err(Errno::EINPROGRESS);
    }
    Ok(())
}

impl Errno {
    fn nonzero_or(self, other: Errno) -> Errno {
        if self.0 == 0 {
            other
        } else {
            self
        }
    }
}

fn refused(s: &SockRef, nonblocking: bool) -> KResult<()> {
    if !nonblocking {
        return Err(Errno::ECONNREFUSED);
    }
    let mut b = s.borrow_mut();
    b.error = Errno::ECONNREFUSED.0;
    b.shut_rd = true;
    b.shut_wr = true;
    b.connecting = true;
    b.bump();
    Err(Errno::EINPROGRESS)
}

/// Creates the server's end of a connection from `c` to `dst` and
/// queues it on the listener.
fn establish(c: &SockRef, listener: &SockRef, dst: std::net::IpAddr, to: std::net::SocketAddr) {
    let (stack, lv6, opts) = {
        let l = listener.borrow();
        (l.stack.clone(), l.v6, l.opts.clone())
    };
    let server = stack::new_sock(&stack, lv6, true);
    let client_name = c.borrow().local.expect("bound by connect");
    {
        let mut sv = server.borrow_mut();
        sv.opts = opts;
        sv.local = Some(shown(dst, to.port(), lv6));
        sv.remote = Some(shown(
            super::addr::canonical(client_name.ip()),
            client_name.port(),
            lv6,
        ));
        sv.tcp = Tcp::Established {
            peer: Rc::downgrade(c),
        };
        sv.done = true;
    }
    stack::register(&server);
    {
        let mut cb = c.borrow_mut();
        cb.remote = Some(to);
        cb.tcp = Tcp::Established {
            peer: Rc::downgrade(&server),
        };
        cb.done = true;
        cb.bump();
    }
    let mut l = listener.borrow_mut();
    if let Tcp::Listening { queue, .. } = &mut l.tcp {
        queue.push_back(server);
    }
    l.bump();
}

/// A reset arrived: Linux's tcp_reset errno, then both directions shut.
fn reset(s: &mut Sock) {
    s.error = if s.fin {
        Errno::EPIPE.0
    } else {
        Errno::ECONNRESET.0
    };
    s.shut_rd = true;
    s.shut_wr = true;
    s.tcp = Tcp::Closed;
    s.bump();
}

pub fn send(s: &SockRef, data: &[u8]) -> KResult<usize> {
    let peer = {
        let mut b = s.borrow_mut();
        if b.error != 0 {
            return Err(Errno(std::mem::take(&mut b.error)));
        }
        if b.shut_wr {
            return Err(Errno::EPIPE);
        }
        if !matches!(b.tcp, Tcp::Established { .. }) {
            return Err(Errno::EPIPE);
        }
        match b.peer() {
            Some(p) => p,
            None => {
                // The peer is gone: this write is answered by a reset.
                reset(&mut b);
                return Ok(data.len());
            }
        }
    };
    if Rc::ptr_eq(&peer, s) {
        return Err(Errno::EPIPE);
    }
    let mut p = peer.borrow_mut();
    let room = (p.opts.rcvbuf as usize).saturating_sub(p.rx.len());
    if room == 0 && !data.is_empty() {
        return Err(Errno::EAGAIN);
    }
    let n = room.min(data.len());
    p.rx.extend(&data[..n]);
    p.bump();
    Ok(n)
}

pub fn recv(s: &SockRef, max: usize, flags: u32) -> KResult<RecvOut> {
    let mut b = s.borrow_mut();
    if b.listening() {
        return Err(Errno::ENOTCONN);
    }
    if !b.rx.is_empty() {
        let n = max.min(b.rx.len());
        let data: Vec<u8> = if flags & MSG_PEEK != 0 {
            b.rx.iter().take(n).copied().collect()
        } else {
            b.rx.drain(..n).collect()
        };
        if flags & MSG_PEEK == 0 {
            // The sender may write again.
            if let Some(p) = b.peer() {
                p.borrow_mut().bump();
            }
        }
        return Ok(RecvOut {
            ret: data.len(),
            data,
            ..RecvOut::default()
        });
    }
    if max == 0 {
        return Ok(RecvOut::default());
    }
    if b.fin {
        return Ok(RecvOut::default());
    }
    if b.error != 0 {
        return Err(Errno(std::mem::take(&mut b.error)));
    }
    if b.shut_rd {
        return Ok(RecvOut::default());
    }
    match b.tcp {
        Tcp::Closed if b.done => Ok(RecvOut::default()),
        Tcp::Closed => Err(Errno::ENOTCONN),
        _ => Err(Errno::EAGAIN),
    }
}

pub fn shutdown(s: &SockRef, how: u32) -> KResult<()> {
    let (rd, wr) = (how != 1, how != 0);
    let peer = {
        let mut b = s.borrow_mut();
        match &mut b.tcp {
            Tcp::Closed => {
                b.shut_rd |= rd;
                b.shut_wr |= wr;
                return Err(Errno::ENOTCONN);
            }
            Tcp::Listening { queue, .. } => {
                if rd {
                    let q = std::mem::take(queue);
                    b.tcp = Tcp::Closed;
                    drop(b);
                    reset_all(q);
                }
                return Ok(());
            }
            Tcp::Established { .. } => {}
        }
        b.shut_rd |= rd;
        let first_fin = wr && !b.shut_wr;
        b.shut_wr |= wr;
        b.bump();
        if first_fin {
            b.peer()
        } else {
            None
        }
    };
    if let Some(p) = peer {
        let mut p = p.borrow_mut();
        p.fin = true;
        p.bump();
    }
    Ok(())
}

/// Queued, never-accepted connections of a closed listener are reset.
fn reset_all(queue: VecDeque<SockRef>) {
    for c in queue {
        if let Some(p) = c.borrow().peer() {
            reset(&mut p.borrow_mut());
        }
        c.borrow_mut().closed = true;
    }
}

/// The last descriptor closed: a FIN for the peer, or a reset if data
/// was left unread (or SO_LINGER with a zero timeout).
pub fn close(s: &SockRef) {
    let (peer, abort) = {
        let mut b = s.borrow_mut();
        if let Tcp::Listening { queue, .. } = &mut b.tcp {
            let q = std::mem::take(queue);
            b.tcp = Tcp::Closed;
            drop(b);
            reset_all(q);
            return;
        }
        let abort = !b.rx.is_empty() || b.opts.linger == (1, 0);
        (b.peer(), abort)
    };
    let Some(p) = peer else { return };
    let mut p = p.borrow_mut();
    if abort {
        reset(&mut p);
    } else {
        p.fin = true;
        p.bump();
    }
}

/// tcp_poll's answer.
pub fn poll(s: &Sock) -> u16 {
    if let Tcp::Listening { queue, .. } = &s.tcp {
        return if queue.is_empty() {
            0
        } else {
            poll::POLLIN | poll::POLLRDNORM
        };
    }
    let mut m = 0;
    if s.error != 0 {
        m |= poll::POLLERR;
    }
    let rd_shut = s.shut_rd || s.fin;
    if (rd_shut && s.shut_wr) || matches!(s.tcp, Tcp::Closed) {
        m |= poll::POLLHUP;
    }
    if rd_shut {
        m |= poll::POLLIN | poll::POLLRDNORM | POLLRDHUP;
    }
    if !s.rx.is_empty() {
        m |= poll::POLLIN | poll::POLLRDNORM;
    }
    let writable = s.shut_wr
        || s.peer().is_none_or(|p| {
            p.try_borrow()
                .map_or(true, |p| p.rx.len() < p.opts.rcvbuf as usize)
        });
    if writable {
        m |= poll::POLLOUT | poll::POLLWRNORM;
    }
    m
}
