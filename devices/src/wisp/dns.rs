//! Name resolution for guests behind a Wisp relay.
//!
//! A relay opens streams to host names, but a guest resolves names itself
//! (glibc sends DNS queries over UDP) before it connects. So the client
//! answers DNS queries itself: each name gets an address from
//! 198.18.0.0/15 (reserved for benchmarking, never routed), and a
//! connection to such an address opens a stream to the name, which the
//! relay resolves with its own resolver. Programs see these stand-in
//! addresses (`getent hosts example.com` prints 198.18.x.y); connections,
//! TLS (which checks names, not addresses) and HTTP work unchanged.
//!
//! Answers: A records with the stand-in address (TTL 1 day: the mapping
//! lasts as long as the machine); `localhost` and `*.localhost` are
//! 127.0.0.1 (RFC 6761); AAAA and every other type get an empty NOERROR
//! answer, so resolvers fall back to A.

use std::collections::HashMap;
use std::net::Ipv4Addr;

const FIRST: u32 = u32::from_be_bytes([198, 18, 0, 1]);
const LAST: u32 = u32::from_be_bytes([198, 19, 255, 254]);

/// Names given stand-in addresses, both ways.
#[derive(Default)]
pub struct Names {
    by_name: HashMap<String, Ipv4Addr>,
    by_addr: HashMap<Ipv4Addr, String>,
    next: u32,
}

impl Names {
    /// The name a stand-in address was given for.
    pub fn name_of(&self, ip: Ipv4Addr) -> Option<&str> {
        self.by_addr.get(&ip).map(String::as_str)
    }

    fn address_for(&mut self, name: &str) -> Ipv4Addr {
        if let Some(&ip) = self.by_name.get(name) {
            return ip;
        }
        let n = FIRST + self.next % (LAST - FIRST + 1);
        self.next = self.next.wrapping_add(1);
        let ip = Ipv4Addr::from(n);
        // After 131,070 names the oldest addresses are reused.
        if let Some(old) = self.by_addr.insert(ip, name.to_string()) {
            self.by_name.remove(&old);
        }
        self.by_name.insert(name.to_string(), ip);
        ip
    }

    /// The answer to the DNS query `q`, or `None` if it is not one.
    pub fn answer(&mut self, q: &[u8]) -> Option<Vec<u8>> {
        if q.len() < 12 || q[2] & 0x80 != 0 || u16::from_be_bytes([q[4], q[5]]) != 1 {
            return None;
        }
        let opcode = (q[2] >> 3) & 0xf;
        // The question: labels, then QTYPE and QCLASS.
        let mut i = 12;
        let mut labels = Vec::new();
        loop {
            let n = *q.get(i)? as usize;
            i += 1;
            if n == 0 {
                break;
            }
            if n > 63 {
                return None;
            }
            let label = q.get(i..i + n)?;
            labels.push(String::from_utf8_lossy(label).to_ascii_lowercase());
            i += n;
        }
        let qtype = u16::from_be_bytes([*q.get(i)?, *q.get(i + 1)?]);
        let question = &q[12..i + 4];
        q.get(i + 3)?;
        let name = labels.join(".");
        let mut r = Vec::with_capacity(question.len() + 32);
        r.extend_from_slice(&q[..2]);
        // QR, the query's opcode and RD, RA; NOTIMP for anything but QUERY.
        let rcode = if opcode == 0 { 0 } else { 4 };
        r.push(0x80 | (q[2] & 0x79));
        r.push(0x80 | rcode);
        let a = (opcode == 0 && qtype == 1 && !name.is_empty()).then(|| {
            if name == "localhost" || name.ends_with(".localhost") {
                Ipv4Addr::LOCALHOST
            } else {
                self.address_for(&name)
            }
        });
        r.extend_from_slice(&[0, 1, 0, u8::from(a.is_some()), 0, 0, 0, 0]);
        r.extend_from_slice(question);
        if let Some(ip) = a {
            // The question's name (a pointer to offset 12), A, IN, TTL, 4 bytes.
            r.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 1, 0x51, 0x80, 0, 4]);
            r.extend_from_slice(&ip.octets());
        }
        Some(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(id: u16, name: &str, qtype: u16) -> Vec<u8> {
        let mut q = id.to_be_bytes().to_vec();
        q.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
        for l in name.split('.') {
            q.push(l.len() as u8);
            q.extend_from_slice(l.as_bytes());
        }
        q.extend_from_slice(&[0, 0, qtype as u8, 0, 1]);
        q
    }

    #[test]
    fn names_get_stable_standin_addresses() {
        let mut n = Names::default();
        let r = n.answer(&query(0x1234, "Example.COM", 1)).unwrap();
        assert_eq!(&r[..4], &[0x12, 0x34, 0x81, 0x80]);
        assert_eq!(&r[6..8], &[0, 1], "one answer");
        let ip = Ipv4Addr::new(
            r[r.len() - 4],
            r[r.len() - 3],
            r[r.len() - 2],
            r[r.len() - 1],
        );
        assert_eq!(ip, Ipv4Addr::new(198, 18, 0, 1));
        assert_eq!(n.name_of(ip), Some("example.com"));
        let again = n.answer(&query(7, "example.com", 1)).unwrap();
        assert_eq!(&again[again.len() - 4..], &ip.octets());
        let other = n.answer(&query(8, "wax.test", 1)).unwrap();
        assert_eq!(&other[other.len() - 4..], &[198, 18, 0, 2]);
    }

    #[test]
    fn localhost_aaaa_and_junk() {
        let mut n = Names::default();
        let r = n.answer(&query(1, "localhost", 1)).unwrap();
        assert_eq!(&r[r.len() - 4..], &[127, 0, 0, 1]);
        let r = n.answer(&query(2, "example.com", 28)).unwrap();
        assert_eq!(&r[6..8], &[0, 0], "AAAA: no answer, NOERROR");
        assert_eq!(r[3] & 0xf, 0);
        assert_eq!(n.answer(&[1, 2, 3]), None);
        let mut truncated = query(3, "example.com", 1);
        truncated.truncate(20);
        assert_eq!(n.answer(&truncated), None);
        assert_eq!(n.name_of(Ipv4Addr::new(198, 18, 0, 1)), None);
    }
}
