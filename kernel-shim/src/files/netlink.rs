//! AF_NETLINK, NETLINK_ROUTE only, and only what reads the machine's
//! interfaces: RTM_GETLINK and RTM_GETADDR (dumps, or one link by index
//! or name), which glibc's getifaddrs and if_nameindex and iproute2's
//! `ip link`/`ip addr` ask. The answers come from the same interface list
//! as the SIOCGIF* ioctls (`syscall/net/ifaces.rs`). Every other request
//! is answered with an NLMSG_ERROR of EOPNOTSUPP; nothing can be changed
//! and no multicast group ever sends anything.
//!
//! A socket is a queue of datagrams: each answer message is its own
//! datagram (Linux packs several into one; readers must accept either).

use crate::abi::errno::{Errno, KResult};
use crate::abi::poll;
use crate::vfs::{Attr, FileHandle};
use std::collections::VecDeque;
use wax_devices::net::Interface;

pub const AF_NETLINK: u32 = 16;
pub const NETLINK_ROUTE: u32 = 0;

const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const RTM_NEWLINK: u16 = 16;
const RTM_GETLINK: u16 = 18;
const RTM_NEWADDR: u16 = 20;
const RTM_GETADDR: u16 = 22;

const NLM_F_REQUEST: u16 = 1;
const NLM_F_MULTI: u16 = 2;
const NLM_F_ACK: u16 = 4;
const NLM_F_DUMP: u16 = 0x300;

const IFLA_ADDRESS: u16 = 1;
const IFLA_BROADCAST: u16 = 2;
const IFLA_IFNAME: u16 = 3;
const IFLA_MTU: u16 = 4;
const IFLA_TXQLEN: u16 = 13;
const IFLA_OPERSTATE: u16 = 16;

const IFA_ADDRESS: u16 = 1;
const IFA_LOCAL: u16 = 2;
const IFA_LABEL: u16 = 3;
const IFA_BROADCAST: u16 = 4;

const AF_UNSPEC: u8 = 0;
const AF_INET: u8 = 2;
const IFF_UP: u32 = 0x1;
const IFF_BROADCAST: u32 = 0x2;
const IFF_LOOPBACK: u32 = 0x8;
const IFF_RUNNING: u32 = 0x40;
const IFF_LOWER_UP: u32 = 0x1_0000;
const IF_OPER_UNKNOWN: u8 = 0;
const IF_OPER_DOWN: u8 = 2;
const IF_OPER_UP: u8 = 6;
const RT_SCOPE_UNIVERSE: u8 = 0;
const RT_SCOPE_HOST: u8 = 254;
const IFA_F_PERMANENT: u8 = 0x80;

const HDR: usize = 16;

pub struct NetlinkFile {
    /// The port id (nl_pid); 0 until bound or first used.
    pub port: u32,
    /// Multicast groups asked for at bind (nothing is ever sent to them).
    pub groups: u32,
    pub queue: VecDeque<Vec<u8>>,
    /// The inode number shown as `socket:[N]`.
    pub id: u64,
    pub sndbuf: u32,
    pub rcvbuf: u32,
    /// The creator's ids (fstat).
    pub uid: u32,
    pub gid: u32,
}

impl NetlinkFile {
    pub fn new(id: u64, uid: u32, gid: u32) -> NetlinkFile {
        NetlinkFile {
            port: 0,
            groups: 0,
            queue: VecDeque::new(),
            id,
            sndbuf: 212_992,
            rcvbuf: 212_992,
            uid,
            gid,
        }
    }

    /// The socket's name: sockaddr_nl {AF_NETLINK, 0, port, groups}.
    pub fn name(&self) -> Vec<u8> {
        sockaddr(self.port, self.groups)
    }

    /// Takes the next datagram (EAGAIN when none); with `peek` it stays.
    pub fn recv(&mut self, peek: bool) -> KResult<Vec<u8>> {
        let d = if peek {
            self.queue.front().cloned()
        } else {
            self.queue.pop_front()
        };
        d.ok_or(Errno::EAGAIN)
    }

    /// Handles the request messages in one datagram, queueing the
    /// answers. Returns the bytes consumed (all of them).
    pub fn send(&mut self, data: &[u8], ifaces: &[Interface]) -> usize {
        let mut at = 0;
        while at + HDR <= data.len() {
            let len = u32_at(data, at) as usize;
            if len < HDR || at + len > data.len() {
                break;
            }
            let msg = &data[at..at + len];
            self.request(msg, ifaces);
            at += align(len);
        }
        data.len()
    }

    fn request(&mut self, msg: &[u8], ifaces: &[Interface]) {
        let ty = u16_at(msg, 4);
        let flags = u16_at(msg, 6);
        let seq = u32_at(msg, 8);
        if flags & NLM_F_REQUEST == 0 {
            return;
        }
        let body = &msg[HDR..];
        let r = Reply {
            seq,
            port: self.port,
        };
        let answer = match ty {
            RTM_GETLINK if flags & NLM_F_DUMP == NLM_F_DUMP => {
                let mut out: Vec<_> = ifaces.iter().map(|i| r.link(i, NLM_F_MULTI)).collect();
                out.push(r.done());
                Ok(out)
            }
            RTM_GETLINK => one_link(body, ifaces).map(|i| vec![r.link(i, 0)]),
            RTM_GETADDR if flags & NLM_F_DUMP == NLM_F_DUMP => {
                // ifaddrmsg's family filters (AF_UNSPEC: all).
                let family = body.first().copied().unwrap_or(AF_UNSPEC);
                let mut out: Vec<_> = if family == AF_UNSPEC || family == AF_INET {
                    ifaces.iter().filter_map(|i| r.addr(i)).collect()
                } else {
                    Vec::new()
                };
                out.push(r.done());
                Ok(out)
            }
            _ => Err(Errno::EOPNOTSUPP),
        };
        match answer {
            Ok(msgs) => {
                let dump = flags & NLM_F_DUMP == NLM_F_DUMP;
                self.queue.extend(msgs);
                if flags & NLM_F_ACK != 0 && !dump {
                    self.queue.push_back(r.error(0, msg));
                }
            }
            Err(e) => self.queue.push_back(r.error(-e.0, msg)),
        }
    }
}

/// The link a non-dump RTM_GETLINK names: by ifi_index, else by
/// IFLA_IFNAME.
fn one_link<'a>(body: &[u8], ifaces: &'a [Interface]) -> KResult<&'a Interface> {
    if body.len() < 16 {
        return Err(Errno::EINVAL);
    }
    let index = u32_at(body, 4);
    if index != 0 {
        return ifaces
            .iter()
            .find(|i| i.index == index)
            .ok_or(Errno::ENODEV);
    }
    let mut at = 16;
    while at + 4 <= body.len() {
        let len = usize::from(u16_at(body, at));
        if len < 4 || at + len > body.len() {
            break;
        }
        if u16_at(body, at + 2) == IFLA_IFNAME {
            let v = &body[at + 4..at + len];
            let name = v.split(|&b| b == 0).next().unwrap_or(v);
            return ifaces
                .iter()
                .find(|i| i.name.as_bytes() == name)
                .ok_or(Errno::ENODEV);
        }
        at += align(len);
    }
    Err(Errno::EINVAL)
}

struct Reply {
    seq: u32,
    port: u32,
}

impl Reply {
    fn message(&self, ty: u16, flags: u16, payload: &[u8]) -> Vec<u8> {
        let mut m = Vec::with_capacity(HDR + payload.len());
        m.extend(((HDR + payload.len()) as u32).to_le_bytes());
        m.extend(ty.to_le_bytes());
        m.extend(flags.to_le_bytes());
        m.extend(self.seq.to_le_bytes());
        m.extend(self.port.to_le_bytes());
        m.extend(payload);
        m
    }

    fn done(&self) -> Vec<u8> {
        self.message(NLMSG_DONE, NLM_F_MULTI, &0i32.to_le_bytes())
    }

    /// NLMSG_ERROR: the (negative) errno, 0 for an ack, and the request's
    /// header.
    fn error(&self, errno: i32, request: &[u8]) -> Vec<u8> {
        let mut p = errno.to_le_bytes().to_vec();
        p.extend(&request[..HDR]);
        self.message(NLMSG_ERROR, 0, &p)
    }

    fn link(&self, i: &Interface, flags: u16) -> Vec<u8> {
        let mut p = Vec::new();
        p.push(AF_UNSPEC);
        p.push(0);
        p.extend(i.hw.0.to_le_bytes());
        p.extend(i.index.to_le_bytes());
        p.extend(link_flags(i).to_le_bytes());
        p.extend(0u32.to_le_bytes()); // ifi_change
        let loopback = i.flags & IFF_LOOPBACK != 0;
        attr(&mut p, IFLA_IFNAME, &[i.name.as_bytes(), &[0]].concat());
        attr(&mut p, IFLA_TXQLEN, &1000u32.to_le_bytes());
        attr(&mut p, IFLA_OPERSTATE, &[operstate(i)]);
        attr(&mut p, IFLA_MTU, &i.mtu.to_le_bytes());
        attr(&mut p, IFLA_ADDRESS, &i.hw.1);
        let broadcast = if loopback { [0u8; 6] } else { [0xff; 6] };
        attr(&mut p, IFLA_BROADCAST, &broadcast);
        self.message(RTM_NEWLINK, flags, &p)
    }

    fn addr(&self, i: &Interface) -> Option<Vec<u8>> {
        let (ip, mask) = i.ipv4?;
        let prefix = u32::from(mask).count_ones() as u8;
        let loopback = i.flags & IFF_LOOPBACK != 0;
        let mut p = vec![
            AF_INET,
            prefix,
            IFA_F_PERMANENT,
            if loopback {
                RT_SCOPE_HOST
            } else {
                RT_SCOPE_UNIVERSE
            },
        ];
        p.extend(i.index.to_le_bytes());
        attr(&mut p, IFA_ADDRESS, &ip.octets());
        attr(&mut p, IFA_LOCAL, &ip.octets());
        if i.flags & IFF_BROADCAST != 0 {
            let b = u32::from(ip) | !u32::from(mask);
            attr(&mut p, IFA_BROADCAST, &b.to_be_bytes());
        }
        attr(&mut p, IFA_LABEL, &[i.name.as_bytes(), &[0]].concat());
        Some(self.message(RTM_NEWADDR, NLM_F_MULTI, &p))
    }
}

/// The link's flags as netlink shows them: IFF_LOWER_UP with a running
/// link.
fn link_flags(i: &Interface) -> u32 {
    if i.flags & (IFF_UP | IFF_RUNNING) == IFF_UP | IFF_RUNNING {
        i.flags | IFF_LOWER_UP
    } else {
        i.flags
    }
}

fn operstate(i: &Interface) -> u8 {
    if i.flags & IFF_LOOPBACK != 0 {
        IF_OPER_UNKNOWN
    } else if i.flags & IFF_RUNNING != 0 {
        IF_OPER_UP
    } else {
        IF_OPER_DOWN
    }
}

/// Appends an rtattr {len, type, value} padded to 4 bytes.
fn attr(p: &mut Vec<u8>, ty: u16, value: &[u8]) {
    p.extend(((4 + value.len()) as u16).to_le_bytes());
    p.extend(ty.to_le_bytes());
    p.extend(value);
    p.resize(align(p.len()), 0);
}

pub fn sockaddr(port: u32, groups: u32) -> Vec<u8> {
    let mut b = Vec::with_capacity(12);
    b.extend((AF_NETLINK as u16).to_le_bytes());
    b.extend(0u16.to_le_bytes());
    b.extend(port.to_le_bytes());
    b.extend(groups.to_le_bytes());
    b
}

fn align(n: usize) -> usize {
    (n + 3) & !3
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

impl FileHandle for NetlinkFile {
    fn read_at(&mut self, _off: u64, buf: &mut [u8]) -> KResult<usize> {
        let d = self.recv(false)?;
        let n = d.len().min(buf.len());
        buf[..n].copy_from_slice(&d[..n]);
        Ok(n)
    }

    fn write_at(&mut self, _off: u64, _buf: &[u8]) -> KResult<usize> {
        // write(2) has no interface list to answer from: the socket calls
        // (`syscall/net/netlink.rs`) handle requests.
        Err(Errno::EOPNOTSUPP)
    }

    fn is_stream(&self) -> bool {
        true
    }

    fn readable(&mut self) -> bool {
        !self.queue.is_empty()
    }

    fn poll(&mut self) -> u16 {
        let mut e = poll::POLLOUT | poll::POLLWRNORM;
        if !self.queue.is_empty() {
            e |= poll::POLLIN | poll::POLLRDNORM;
        }
        e
    }

    fn proc_name(&self) -> Option<Vec<u8>> {
        Some(format!("socket:[{}]", self.id).into_bytes())
    }

    fn stat(&self) -> Option<Attr> {
        Some(crate::files::anon::socket_attr(self.id, self.uid, self.gid))
    }

    fn as_any(&mut self) -> Option<&mut dyn std::any::Any> {
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(ty: u16, flags: u16, body: &[u8]) -> Vec<u8> {
        let r = Reply { seq: 7, port: 0 };
        r.message(ty, flags | NLM_F_REQUEST, body)
    }

    #[test]
    fn a_link_dump_lists_every_interface_then_done() {
        let mut s = NetlinkFile::new(1, 0, 0);
        s.port = 1000;
        let ifaces = [Interface::loopback(true)];
        s.send(&request(RTM_GETLINK, NLM_F_DUMP, &[0; 16]), &ifaces);
        let link = s.recv(false).unwrap();
        assert_eq!(u16_at(&link, 4), RTM_NEWLINK);
        assert_eq!((u32_at(&link, 8), u32_at(&link, 12)), (7, 1000));
        assert_eq!(u32_at(&link, 0) as usize, link.len());
        assert_eq!(u32_at(&link, HDR + 4), 1, "ifi_index");
        assert!(link.windows(3).any(|w| w == b"lo\0"));
        let done = s.recv(false).unwrap();
        assert_eq!(u16_at(&done, 4), NLMSG_DONE);
        assert_eq!(s.recv(false), Err(Errno::EAGAIN));
    }

    #[test]
    fn addresses_by_family_and_errors_for_the_rest() {
        let mut s = NetlinkFile::new(1, 0, 0);
        let ifaces = [Interface::loopback(true)];
        s.send(
            &request(RTM_GETADDR, NLM_F_DUMP, &[AF_INET, 0, 0, 0, 0, 0, 0, 0]),
            &ifaces,
        );
        let a = s.recv(false).unwrap();
        assert_eq!(u16_at(&a, 4), RTM_NEWADDR);
        assert_eq!(a[HDR + 1], 8, "prefix length of 127.0.0.1/8");
        assert!(a.windows(4).any(|w| w == [127, 0, 0, 1]));
        assert_eq!(u16_at(&s.recv(false).unwrap(), 4), NLMSG_DONE);
        // AF_INET6 (10): nothing but done.
        s.send(
            &request(RTM_GETADDR, NLM_F_DUMP, &[10, 0, 0, 0, 0, 0, 0, 0]),
            &ifaces,
        );
        assert_eq!(u16_at(&s.recv(false).unwrap(), 4), NLMSG_DONE);
        // A route change: EOPNOTSUPP in an NLMSG_ERROR.
        s.send(&request(24, NLM_F_ACK, &[0; 12]), &ifaces);
        let e = s.recv(false).unwrap();
        assert_eq!(u16_at(&e, 4), NLMSG_ERROR);
        assert_eq!(u32_at(&e, HDR) as i32, -Errno::EOPNOTSUPP.0);
        // One link by index, acked.
        let mut body = [0u8; 16];
        body[4] = 1;
        s.send(&request(RTM_GETLINK, NLM_F_ACK, &body), &ifaces);
        assert_eq!(u16_at(&s.recv(false).unwrap(), 4), RTM_NEWLINK);
        assert_eq!(u32_at(&s.recv(false).unwrap(), HDR), 0, "the ack");
        body[4] = 9;
        s.send(&request(RTM_GETLINK, 0, &body), &ifaces);
        let e = s.recv(false).unwrap();
        assert_eq!(u32_at(&e, HDR) as i32, -Errno::ENODEV.0);
    }
}
