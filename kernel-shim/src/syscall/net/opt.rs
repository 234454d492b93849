//! getsockopt/setsockopt at level SOL_SOCKET for unix sockets (internet
//! and netlink sockets have their own, in `inet.rs` and `netlink.rs`).

use super::socket_of;
use crate::abi::errno::Errno;
use crate::files::socket::{State, AF_UNIX_FAMILY};
use crate::kernel::Kernel;
use crate::syscall::{Args, SysResult};
use wax_cpu::GuestAddr;

const SOL_SOCKET: u32 = 1;
const SO_REUSEADDR: u32 = 2;
const SO_TYPE: u32 = 3;
const SO_ERROR: u32 = 4;
const SO_SNDBUF: u32 = 7;
const SO_RCVBUF: u32 = 8;
const SO_KEEPALIVE: u32 = 9;
const SO_LINGER: u32 = 13;
const SO_PASSCRED: u32 = 16;
const SO_PEERCRED: u32 = 17;
const SO_RCVTIMEO: u32 = 20;
const SO_SNDTIMEO: u32 = 21;
const SO_ACCEPTCONN: u32 = 30;
const SO_SNDBUFFORCE: u32 = 32;
const SO_RCVBUFFORCE: u32 = 33;
const SO_PROTOCOL: u32 = 38;
const SO_DOMAIN: u32 = 39;
/// SOCK_MIN_RCVBUF-ish floor Linux applies to the doubled value.
const MIN_BUF: u32 = 2304;

pub fn sys_getsockopt(k: &mut Kernel, a: &Args) -> SysResult {
    if let Some(f) = super::inet::inet_file(k, a[0]) {
        return super::inet::getsockopt(k, &f, a);
    }
    if let Some(f) = super::netlink::netlink_file(k, a[0]) {
        return super::netlink::getsockopt(k, &f, a);
    }
    let (fd, level, opt, val, len_at) = (a[0], a[1], a[2], a[3], a[4]);
    let s = socket_of(k, fd)?;
    if level != SOL_SOCKET {
        return Err(Errno::EOPNOTSUPP.into());
    }
    let room = k.mem().read_u32(GuestAddr(len_at))?;
    if (room as i32) < 0 {
        return Err(Errno::EINVAL.into());
    }
    let bytes: Vec<u8> = {
        let mut me = s.borrow_mut();
        let int = |v: u32| v.to_le_bytes().to_vec();
        match opt {
            SO_TYPE => int(me.kind as u32),
            SO_ERROR => int(std::mem::take(&mut me.error)),
            SO_SNDBUF => int(me.sndbuf),
            SO_RCVBUF => int(me.rcvbuf),
            SO_PASSCRED => int(u32::from(me.passcred)),
            SO_ACCEPTCONN => int(u32::from(matches!(me.state, State::Listening { .. }))),
            SO_DOMAIN => int(AF_UNIX_FAMILY),
            SO_PROTOCOL => int(0),
            SO_REUSEADDR | SO_KEEPALIVE => int(0),
            SO_LINGER => vec![0; 8],
            SO_RCVTIMEO | SO_SNDTIMEO => vec![0; 8],
            SO_PEERCRED => {
                // A socket that never had a peer reports pid 0 and ids of
                // -1, as Linux's cred_to_ucred does without a cred.
                let c = me.peer_cred.unwrap_or(crate::files::socket::Ucred {
                    pid: 0,
                    uid: u32::MAX,
                    gid: u32::MAX,
                });
                [c.pid, c.uid, c.gid]
                    .iter()
                    .flat_map(|v| v.to_le_bytes())
                    .collect()
            }
            _ => return Err(Errno::ENOPROTOOPT.into()),
        }
    };
    let n = bytes.len().min(room as usize);
    k.mem().write_bytes(GuestAddr(val), &bytes[..n])?;
    k.mem().write_u32(GuestAddr(len_at), n as u32)?;
    Ok(0)
}

pub fn sys_setsockopt(k: &mut Kernel, a: &Args) -> SysResult {
    if let Some(f) = super::inet::inet_file(k, a[0]) {
        return super::inet::setsockopt(k, &f, a);
    }
    if let Some(f) = super::netlink::netlink_file(k, a[0]) {
        return super::netlink::setsockopt(k, &f, a);
    }
    let (fd, level, opt, val, len) = (a[0], a[1], a[2], a[3], a[4]);
    let s = socket_of(k, fd)?;
    if level != SOL_SOCKET {
        return Err(Errno::EOPNOTSUPP.into());
    }
    let int = if len >= 4 {
        k.mem().read_u32(GuestAddr(val))?
    } else {
        0
    };
    let needs_int = !matches!(opt, SO_LINGER | SO_RCVTIMEO | SO_SNDTIMEO);
    if needs_int && len < 4 {
        return Err(Errno::EINVAL.into());
    }
    let mut me = s.borrow_mut();
    // Linux doubles the requested size for bookkeeping overhead.
    let buf = (int.min(i32::MAX as u32 / 2) * 2).max(MIN_BUF);
    match opt {
        SO_PASSCRED => me.passcred = int != 0,
        SO_SNDBUF | SO_SNDBUFFORCE => me.sndbuf = buf,
        SO_RCVBUF | SO_RCVBUFFORCE => me.rcvbuf = buf,
        // Accepted without effect (timeouts are not implemented).
        SO_REUSEADDR | SO_KEEPALIVE | SO_LINGER | SO_RCVTIMEO | SO_SNDTIMEO => {}
        _ => return Err(Errno::ENOPROTOOPT.into()),
    }
    Ok(0)
}
