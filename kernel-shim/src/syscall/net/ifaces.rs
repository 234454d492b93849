//! The interface ioctls on any socket (SIOCGIFCONF, SIOCGIFFLAGS,
//! SIOCGIFADDR, SIOCGIFNETMASK, SIOCGIFMTU, SIOCGIFINDEX, SIOCGIFNAME,
//! SIOCGIFHWADDR), over the i386 `struct ifreq` (32 bytes: a 16-byte
//! name, then a 16-byte union) and `struct ifconf` (length, pointer).
//! The loopback and none modes have only `lo` (down with `--net none`);
//! host mode shows the host's interfaces. Netlink's RTM_GETLINK and
//! RTM_GETADDR (`files/netlink.rs`) answer from the same list.

use crate::abi::errno::{Errno, KResult};
use crate::files::inet::NetMode;
use crate::kernel::Kernel;
use wax_cpu::GuestAddr;
use wax_devices::net::Interface;

pub const SIOCGIFNAME: u32 = 0x8910;
pub const SIOCGIFCONF: u32 = 0x8912;
pub const SIOCGIFFLAGS: u32 = 0x8913;
pub const SIOCGIFADDR: u32 = 0x8915;
pub const SIOCGIFNETMASK: u32 = 0x891b;
pub const SIOCGIFMTU: u32 = 0x8921;
pub const SIOCGIFHWADDR: u32 = 0x8927;
pub const SIOCGIFINDEX: u32 = 0x8933;
const IFREQ: u32 = 32;

pub fn is_interface_ioctl(req: u32) -> bool {
    matches!(
        req,
        SIOCGIFNAME
            | SIOCGIFCONF
            | SIOCGIFFLAGS
            | SIOCGIFADDR
            | SIOCGIFNETMASK
            | SIOCGIFMTU
            | SIOCGIFHWADDR
            | SIOCGIFINDEX
    )
}

pub(crate) fn interfaces(k: &Kernel) -> Vec<Interface> {
    match &k.files.net.mode {
        NetMode::Host(h) | NetMode::Relay(h) => h.borrow_mut().interfaces(),
        NetMode::Loopback => vec![Interface::loopback(true)],
        NetMode::None => vec![Interface::loopback(false)],
    }
}

fn sockaddr_in(ip: std::net::Ipv4Addr) -> [u8; 16] {
    let mut b = [0u8; 16];
    b[0] = 2; // AF_INET
    b[4..8].copy_from_slice(&ip.octets());
    b
}

fn name_bytes(name: &str) -> [u8; 16] {
    let mut b = [0u8; 16];
    let n = name.len().min(15);
    b[..n].copy_from_slice(&name.as_bytes()[..n]);
    b
}

pub fn ioctl(k: &mut Kernel, req: u32, arg: u32) -> KResult<u32> {
    let all = interfaces(k);
    if req == SIOCGIFCONF {
        return ifconf(k, &all, arg);
    }
    let mut req_buf = [0u8; IFREQ as usize];
    k.mem().read_bytes(GuestAddr(arg), &mut req_buf)?;
    if req == SIOCGIFNAME {
        let index = u32::from_le_bytes(req_buf[16..20].try_into().expect("4 bytes"));
        let i = all.iter().find(|i| i.index == index).ok_or(Errno::ENODEV)?;
        k.mem().write_bytes(GuestAddr(arg), &name_bytes(&i.name))?;
        return Ok(0);
    }
    let end = req_buf[..16].iter().position(|&b| b == 0).unwrap_or(16);
    let name = &req_buf[..end];
    let i = all
        .iter()
        .find(|i| i.name.as_bytes() == name)
        .ok_or(Errno::ENODEV)?;
    let mut out = [0u8; 16];
    match req {
        SIOCGIFFLAGS => out[..2].copy_from_slice(&(i.flags as u16).to_le_bytes()),
        SIOCGIFADDR => out = sockaddr_in(i.ipv4.ok_or(Errno::EADDRNOTAVAIL)?.0),
        SIOCGIFNETMASK => out = sockaddr_in(i.ipv4.ok_or(Errno::EADDRNOTAVAIL)?.1),
        SIOCGIFMTU => out[..4].copy_from_slice(&i.mtu.to_le_bytes()),
        SIOCGIFINDEX => out[..4].copy_from_slice(&i.index.to_le_bytes()),
        SIOCGIFHWADDR => {
            out[..2].copy_from_slice(&i.hw.0.to_le_bytes());
            out[2..8].copy_from_slice(&i.hw.1);
        }
        _ => return Err(Errno::EINVAL),
    }
    k.mem().write_bytes(GuestAddr(arg + 16), &out)?;
    Ok(0)
}

/// SIOCGIFCONF: one ifreq per interface with an IPv4 address; a null
/// buffer asks for the length needed.
fn ifconf(k: &mut Kernel, all: &[Interface], arg: u32) -> KResult<u32> {
    let len = k.mem().read_u32(GuestAddr(arg))?;
    let buf = k.mem().read_u32(GuestAddr(arg + 4))?;
    let with_addr: Vec<&Interface> = all.iter().filter(|i| i.ipv4.is_some()).collect();
    if buf == 0 {
        k.mem()
            .write_u32(GuestAddr(arg), with_addr.len() as u32 * IFREQ)?;
        return Ok(0);
    }
    let fit = ((len as i32).max(0) as u32 / IFREQ) as usize;
    let mut written = 0;
    for (n, i) in with_addr.iter().take(fit).enumerate() {
        let at = buf + n as u32 * IFREQ;
        let mut r = [0u8; IFREQ as usize];
        r[..16].copy_from_slice(&name_bytes(&i.name));
        r[16..].copy_from_slice(&sockaddr_in(i.ipv4.expect("filtered").0));
        k.mem().write_bytes(GuestAddr(at), &r)?;
        written += IFREQ;
    }
    k.mem().write_u32(GuestAddr(arg), written)?;
    Ok(0)
}
