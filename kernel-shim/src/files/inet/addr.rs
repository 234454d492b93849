//! `struct sockaddr_in` and `struct sockaddr_in6`: parsing what a program
//! passes (Linux's checks and errno values, in Linux's order) and
//! encoding what the kernel reports.

use crate::abi::errno::{Errno, KResult};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

pub const AF_UNSPEC: u16 = 0;
pub const AF_INET: u16 = 2;
pub const AF_INET6: u16 = 10;
/// sizeof(struct sockaddr_in).
pub const SIN_LEN: usize = 16;
/// sizeof(struct sockaddr_in6).
pub const SIN6_LEN: usize = 28;
/// The shortest sockaddr_in6 Linux takes (RFC 2133's, without scope id).
const SIN6_LEN_RFC2133: usize = 24;

/// What a caller named.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Given {
    /// AF_UNSPEC (connect: dissolve the association).
    Unspec,
    At(SocketAddr),
}

fn port(raw: &[u8]) -> u16 {
    u16::from_be_bytes([raw[2], raw[3]])
}

fn v4(raw: &[u8]) -> SocketAddr {
    let ip = Ipv4Addr::new(raw[4], raw[5], raw[6], raw[7]);
    SocketAddr::V4(SocketAddrV4::new(ip, port(raw)))
}

fn v6(raw: &[u8]) -> SocketAddr {
    let word = |i: usize| u32::from_be_bytes(raw[i..i + 4].try_into().expect("4 bytes"));
    let octets: [u8; 16] = raw[8..24].try_into().expect("16 bytes");
    let scope = if raw.len() >= SIN6_LEN {
        u32::from_le_bytes(raw[24..28].try_into().expect("4 bytes"))
    } else {
        0
    };
    SocketAddr::V6(SocketAddrV6::new(
        Ipv6Addr::from(octets),
        port(raw),
        word(4),
        scope,
    ))
}

fn family(raw: &[u8]) -> u16 {
    u16::from_le_bytes([raw[0], raw[1]])
}

/// An address given to bind(2) on a socket of family `v6` or not.
pub fn parse_bind(raw: &[u8], is_v6: bool) -> KResult<SocketAddr> {
    if is_v6 {
        if raw.len() < SIN6_LEN_RFC2133 {
            return Err(Errno::EINVAL);
        }
        if family(raw) != AF_INET6 {
            return Err(Errno::EAFNOSUPPORT);
        }
        return Ok(v6(raw));
    }
    if raw.len() < SIN_LEN {
        return Err(Errno::EINVAL);
    }
    match family(raw) {
        AF_INET => Ok(v4(raw)),
        // Accepted for old programs: AF_UNSPEC with INADDR_ANY.
        AF_UNSPEC if raw[4..8] == [0; 4] => Ok(v4(raw)),
        _ => Err(Errno::EAFNOSUPPORT),
    }
}

/// A destination given to connect(2) or sendto(2).
pub fn parse_dest(raw: &[u8], is_v6: bool) -> KResult<Given> {
    if raw.len() >= 2 && family(raw) == AF_UNSPEC {
        return Ok(Given::Unspec);
    }
    if is_v6 {
        if raw.len() < SIN6_LEN_RFC2133 {
            return Err(Errno::EINVAL);
        }
        if family(raw) != AF_INET6 {
            return Err(Errno::EAFNOSUPPORT);
        }
        return Ok(Given::At(v6(raw)));
    }
    if raw.len() < SIN_LEN {
        return Err(Errno::EINVAL);
    }
    if family(raw) != AF_INET {
        return Err(Errno::EAFNOSUPPORT);
    }
    Ok(Given::At(v4(raw)))
}

/// The sockaddr bytes for `a`.
pub fn encode(a: &SocketAddr) -> Vec<u8> {
    let mut b = Vec::with_capacity(SIN6_LEN);
    match a {
        SocketAddr::V4(a) => {
            b.extend_from_slice(&AF_INET.to_le_bytes());
            b.extend_from_slice(&a.port().to_be_bytes());
            b.extend_from_slice(&a.ip().octets());
            b.extend_from_slice(&[0; 8]);
        }
        SocketAddr::V6(a) => {
            b.extend_from_slice(&AF_INET6.to_le_bytes());
            b.extend_from_slice(&a.port().to_be_bytes());
            b.extend_from_slice(&a.flowinfo().to_be_bytes());
            b.extend_from_slice(&a.ip().octets());
            b.extend_from_slice(&a.scope_id().to_le_bytes());
        }
    }
    b
}

/// The IPv4 address behind an IPv4-mapped IPv6 one, else the address.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    }
}

/// `ip` as a socket of family `is_v6` shows it (IPv4 in an IPv6 socket
/// is v4-mapped).
pub fn shown(ip: IpAddr, port: u16, is_v6: bool) -> SocketAddr {
    match (ip, is_v6) {
        (IpAddr::V4(v4), true) => SocketAddr::new(IpAddr::V6(v4.to_ipv6_mapped()), port),
        (ip, _) => SocketAddr::new(ip, port),
    }
}

/// The wildcard address of a family.
pub fn any(is_v6: bool) -> SocketAddr {
    if is_v6 {
        SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0)
    } else {
        SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_both_families() {
        for a in ["127.0.0.1:8080", "[::1]:443", "[::ffff:127.0.0.1]:1"] {
            let a: SocketAddr = a.parse().unwrap();
            let raw = encode(&a);
            assert_eq!(parse_dest(&raw, a.is_ipv6()), Ok(Given::At(a)));
            assert_eq!(parse_bind(&raw, a.is_ipv6()), Ok(a));
        }
    }

    #[test]
    fn rejects_like_linux() {
        let raw = encode(&"127.0.0.1:1".parse().unwrap());
        assert_eq!(parse_bind(&raw[..4], false), Err(Errno::EINVAL));
        assert_eq!(parse_bind(&raw, true), Err(Errno::EINVAL));
        let mut unix = raw.clone();
        unix[0] = 1;
        assert_eq!(parse_bind(&unix, false), Err(Errno::EAFNOSUPPORT));
        assert_eq!(parse_dest(&unix, false), Err(Errno::EAFNOSUPPORT));
        assert_eq!(parse_dest(&[0, 0], false), Ok(Given::Unspec));
        assert_eq!(
            canonical("::ffff:127.0.0.2".parse().unwrap()),
            "127.0.0.2".parse::<IpAddr>().unwrap()
        );
    }
}
