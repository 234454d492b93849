//! Socket options of loopback-stack sockets: the values programs set and
//! read back. Options that only tune a real network (keepalive timers,
//! TTL, TOS, Nagle) are stored and reported but change nothing inside
//! the machine, where nothing is lost, delayed or routed.

use crate::abi::errno::{Errno, KResult};
use std::collections::BTreeMap;

pub const SOL_SOCKET: u32 = 1;
pub const IPPROTO_IP: u32 = 0;
pub const IPPROTO_TCP: u32 = 6;
pub const IPPROTO_UDP: u32 = 17;
pub const IPPROTO_IPV6: u32 = 41;

pub const SO_REUSEADDR: u32 = 2;
pub const SO_TYPE: u32 = 3;
pub const SO_ERROR: u32 = 4;
pub const SO_SNDBUF: u32 = 7;
pub const SO_RCVBUF: u32 = 8;
pub const SO_LINGER: u32 = 13;
pub const SO_REUSEPORT: u32 = 15;
pub const SO_RCVTIMEO: u32 = 20;
pub const SO_SNDTIMEO: u32 = 21;
pub const SO_ACCEPTCONN: u32 = 30;
pub const SO_SNDBUFFORCE: u32 = 32;
pub const SO_RCVBUFFORCE: u32 = 33;
pub const SO_PROTOCOL: u32 = 38;
pub const SO_DOMAIN: u32 = 39;
pub const IPV6_V6ONLY: u32 = 26;

/// Boolean options: any non-zero value reads back as 1.
const BOOLS: &[(u32, u32)] = &[
    (SOL_SOCKET, SO_REUSEADDR),
    (SOL_SOCKET, 5),  // SO_DONTROUTE
    (SOL_SOCKET, 6),  // SO_BROADCAST
    (SOL_SOCKET, 9),  // SO_KEEPALIVE
    (SOL_SOCKET, 10), // SO_OOBINLINE
    (SOL_SOCKET, SO_REUSEPORT),
    (SOL_SOCKET, 16),  // SO_PASSCRED
    (SOL_SOCKET, 29),  // SO_TIMESTAMP
    (IPPROTO_TCP, 1),  // TCP_NODELAY
    (IPPROTO_TCP, 3),  // TCP_CORK
    (IPPROTO_TCP, 12), // TCP_QUICKACK
    (IPPROTO_IPV6, IPV6_V6ONLY),
    (IPPROTO_IP, 8),    // IP_PKTINFO
    (IPPROTO_IP, 11),   // IP_RECVERR (glibc's resolver sets it)
    (IPPROTO_IPV6, 25), // IPV6_RECVERR
];

/// Integer options and their defaults (Linux's, for a fresh socket).
const INTS: &[(u32, u32, u32)] = &[
    (SOL_SOCKET, 18, 1),     // SO_RCVLOWAT
    (SOL_SOCKET, 19, 1),     // SO_SNDLOWAT
    (SOL_SOCKET, 12, 0),     // SO_PRIORITY
    (IPPROTO_TCP, 2, 65483), // TCP_MAXSEG on loopback
    (IPPROTO_TCP, 4, 7200),  // TCP_KEEPIDLE
    (IPPROTO_TCP, 5, 75),    // TCP_KEEPINTVL
    (IPPROTO_TCP, 6, 9),     // TCP_KEEPCNT
    (IPPROTO_TCP, 9, 0),     // TCP_DEFER_ACCEPT
    (IPPROTO_TCP, 18, 0),    // TCP_USER_TIMEOUT
    (IPPROTO_IP, 1, 0),      // IP_TOS
    (IPPROTO_IP, 2, 64),     // IP_TTL
    (IPPROTO_IPV6, 16, 64),  // IPV6_UNICAST_HOPS
    (IPPROTO_IPV6, 67, 0),   // IPV6_TCLASS
];

/// The smallest buffer Linux keeps after doubling (SOCK_MIN_RCVBUF-ish).
const MIN_BUF: u32 = 2304;
/// net.core.rmem_max / wmem_max on a stock kernel.
const MAX_BUF: u32 = 212_992;

#[derive(Clone)]
pub struct Opts {
    pub rcvbuf: u32,
    pub sndbuf: u32,
    /// struct linger (l_onoff, l_linger).
    pub linger: (u32, u32),
    /// SO_RCVTIMEO / SO_SNDTIMEO as given (i386 struct timeval); not
    /// enforced: a blocking call waits without limit (partial).
    pub timeo: [[u8; 8]; 2],
    values: BTreeMap<(u32, u32), u32>,
}

impl Opts {
    pub fn new(stream: bool) -> Opts {
        let (rcvbuf, sndbuf) = if stream {
            // tcp_rmem[1], tcp_wmem[1]
            (131_072, 16_384)
        } else {
            (MAX_BUF, MAX_BUF)
        };
        Opts {
            rcvbuf,
            sndbuf,
            linger: (0, 0),
            timeo: [[0; 8]; 2],
            values: BTreeMap::new(),
        }
    }

    pub fn flag(&self, level: u32, opt: u32) -> bool {
        self.values.get(&(level, opt)).is_some_and(|&v| v != 0)
    }

    /// An option that is not about the socket's state.
    pub fn get(&self, level: u32, opt: u32, is_v6: bool) -> KResult<Vec<u8>> {
        let int = |v: u32| Ok(v.to_le_bytes().to_vec());
        if level == IPPROTO_IPV6 && !is_v6 {
            return Err(Errno::ENOPROTOOPT);
        }
        match (level, opt) {
            (SOL_SOCKET, SO_RCVBUF) => int(self.rcvbuf),
            (SOL_SOCKET, SO_SNDBUF) => int(self.sndbuf),
            (SOL_SOCKET, SO_LINGER) => {
                let mut b = self.linger.0.to_le_bytes().to_vec();
                b.extend_from_slice(&self.linger.1.to_le_bytes());
                Ok(b)
            }
            (SOL_SOCKET, SO_RCVTIMEO) => Ok(self.timeo[0].to_vec()),
            (SOL_SOCKET, SO_SNDTIMEO) => Ok(self.timeo[1].to_vec()),
            k if BOOLS.contains(&k) => int(u32::from(self.flag(level, opt))),
            _ => match INTS.iter().find(|&&(l, o, _)| (l, o) == (level, opt)) {
                Some(&(_, _, default)) => int(*self.values.get(&(level, opt)).unwrap_or(&default)),
                None => Err(Errno::ENOPROTOOPT),
            },
        }
    }

    pub fn set(&mut self, level: u32, opt: u32, val: &[u8], is_v6: bool) -> KResult<()> {
        if level == IPPROTO_IPV6 && !is_v6 {
            return Err(Errno::ENOPROTOOPT);
        }
        let word = |i: usize| u32::from_le_bytes(val[i..i + 4].try_into().expect("4 bytes"));
        if (level, opt) == (SOL_SOCKET, SO_RCVTIMEO) || (level, opt) == (SOL_SOCKET, SO_SNDTIMEO) {
            if val.len() < 8 {
                return Err(Errno::EINVAL);
            }
            let i = usize::from(opt == SO_SNDTIMEO);
            self.timeo[i].copy_from_slice(&val[..8]);
            return Ok(());
        }
        if val.len() < 4 {
            return Err(Errno::EINVAL);
        }
        let v = word(0);
        // Linux doubles a requested size for bookkeeping, within limits.
        let buf = |v: u32, force: bool| {
            let v = if force { v } else { v.min(MAX_BUF) };
            (v.min(i32::MAX as u32 / 2) * 2).max(MIN_BUF)
        };
        match (level, opt) {
            (SOL_SOCKET, SO_RCVBUF) => self.rcvbuf = buf(v, false),
            (SOL_SOCKET, SO_RCVBUFFORCE) => self.rcvbuf = buf(v, true),
            (SOL_SOCKET, SO_SNDBUF) => self.sndbuf = buf(v, false),
            (SOL_SOCKET, SO_SNDBUFFORCE) => self.sndbuf = buf(v, true),
            (SOL_SOCKET, SO_LINGER) => {
                if val.len() < 8 {
                    return Err(Errno::EINVAL);
                }
                self.linger = (u32::from(v != 0), word(4));
            }
            k if BOOLS.contains(&k) => {
                self.values.insert(k, v);
            }
            k if INTS.iter().any(|&(l, o, _)| (l, o) == k) => {
                self.values.insert(k, v);
            }
            _ => return Err(Errno::ENOPROTOOPT),
        }
        Ok(())
    }
}
