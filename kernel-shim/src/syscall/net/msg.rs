//! sendmsg/recvmsg and their batched forms: the i386 `struct msghdr`
//! (28 bytes), its iovecs, and ancillary data (`struct cmsghdr`, 4-byte
//! aligned): SCM_RIGHTS and SCM_CREDENTIALS at level SOL_SOCKET.

use super::{msgf::*, recv, send, write_from, SendExtra};
use crate::abi::errno::{Errno, KResult};
use crate::files::socket::{Received, Ucred};
use crate::kernel::Kernel;
use crate::syscall::{Args, Outcome, Ready, SysErr, SysOutcome, MAX_IO};
use crate::vfs::file::{Fd, FileRef};

use wax_cpu::GuestAddr;
use wax_devices::net::Cmsg;

const SOL_SOCKET: u32 = 1;
const SCM_RIGHTS: u32 = 1;
const SCM_CREDENTIALS: u32 = 2;
/// Most descriptors one SCM_RIGHTS message may carry (SCM_MAX_FD).
const SCM_MAX_FD: usize = 253;
const CMSG_HDR: usize = 12;
/// sizeof(struct mmsghdr) on i386.
const MMSGHDR: u32 = 32;

fn cmsg_align(n: usize) -> usize {
    (n + 3) & !3
}

/// `struct msghdr`.
#[derive(Clone, Copy, Debug, Default)]
struct MsgHdr {
    name: u32,
    namelen: u32,
    iov: u32,
    iovlen: u32,
    control: u32,
    controllen: u32,
}

fn read_hdr(k: &mut Kernel, at: u32) -> KResult<MsgHdr> {
    let mut w = [0u32; 6];
    let mut m = k.mem();
    for (i, v) in w.iter_mut().enumerate() {
        *v = m.read_u32(GuestAddr(at + 4 * i as u32))?;
    }
    Ok(MsgHdr {
        name: w[0],
        namelen: w[1],
        iov: w[2],
        iovlen: w[3],
        control: w[4],
        controllen: w[5],
    })
}

/// The (base, len) pairs of an iovec array (at most UIO_MAXIOV).
fn iovecs(k: &mut Kernel, at: u32, n: u32) -> KResult<Vec<(u32, u32)>> {
    if n > 1024 {
        return Err(Errno::EMSGSIZE);
    }
    let mut v = Vec::with_capacity(n as usize);
    let mut total = 0u64;
    for i in 0..n {
        let mut m = k.mem();
        let base = m.read_u32(GuestAddr(at + 8 * i))?;
        let len = m.read_u32(GuestAddr(at + 8 * i + 4))?;
        total += u64::from(len);
        if (len as i32) < 0 || total > i32::MAX as u64 {
            return Err(Errno::EINVAL);
        }
        v.push((base, len));
    }
    Ok(v)
}

fn gather(k: &mut Kernel, iov: &[(u32, u32)]) -> KResult<Vec<u8>> {
    let mut data = Vec::new();
    for &(base, len) in iov {
        let take = (len as usize).min(MAX_IO.saturating_sub(data.len()));
        let start = data.len();
        data.resize(start + take, 0);
        k.mem().read_bytes(GuestAddr(base), &mut data[start..])?;
    }
    Ok(data)
}

/// What a sendmsg's control buffer holds.
#[derive(Default)]
struct Control {
    fds: Vec<FileRef>,
    cred: Option<Ucred>,
    /// Messages of other levels than SOL_SOCKET, for the socket to judge.
    other: Vec<Cmsg>,
}

/// Parses the control buffer of a sendmsg.
fn read_control(k: &mut Kernel, h: &MsgHdr) -> KResult<Control> {
    let len = (h.controllen as usize).min(1 << 16);
    let mut buf = vec![0u8; len];
    if len > 0 {
        k.mem().read_bytes(GuestAddr(h.control), &mut buf)?;
    }
    let word = |b: &[u8], i: usize| u32::from_le_bytes(b[i..i + 4].try_into().expect("4 bytes"));
    let mut c = Control::default();
    let mut off = 0;
    while off + CMSG_HDR <= len {
        let clen = word(&buf, off) as usize;
        if clen < CMSG_HDR || off + clen > len {
            return Err(Errno::EINVAL);
        }
        let (level, ty) = (word(&buf, off + 4), word(&buf, off + 8));
        let data = &buf[off + CMSG_HDR..off + clen];
        match (level, ty) {
            (SOL_SOCKET, SCM_RIGHTS) => {
                for w in data.chunks_exact(4) {
                    let fd = u32::from_le_bytes(w.try_into().expect("4 bytes"));
                    c.fds.push(k.proc().fds.file(fd)?);
                }
                if c.fds.len() > SCM_MAX_FD {
                    return Err(Errno::EINVAL);
                }
            }
            (SOL_SOCKET, SCM_CREDENTIALS) if data.len() >= 12 => {
                c.cred = Some(given_cred(k, data)?);
            }
            (SOL_SOCKET, _) => return Err(Errno::EINVAL),
            (level, ty) => c.other.push(Cmsg {
                level,
                ty,
                data: data.to_vec(),
            }),
        }
        off += cmsg_align(clen);
    }
    Ok(c)
}

/// SCM_CREDENTIALS a sender claims, checked as Linux's `scm_check_creds`
/// does: ids of -1 are EINVAL; the pid must be the sender's own, and each
/// id one of its real, effective or saved ids, unless it is privileged
/// (root: CAP_SYS_ADMIN, CAP_SETUID, CAP_SETGID); a pid that names no task
/// is ESRCH.
fn given_cred(k: &mut Kernel, data: &[u8]) -> KResult<Ucred> {
    let w = |i: usize| u32::from_le_bytes(data[i..i + 4].try_into().expect("4 bytes"));
    let c = Ucred {
        pid: w(0),
        uid: w(4),
        gid: w(8),
    };
    if c.uid == u32::MAX || c.gid == u32::MAX {
        return Err(Errno::EINVAL);
    }
    let pid = k.proc().pid;
    let me = &k.proc().cred;
    let privileged = me.privileged();
    let uid_ok = [me.ruid, me.euid, me.suid].contains(&c.uid);
    let gid_ok = [me.rgid, me.egid, me.sgid].contains(&c.gid);
    if !privileged && (c.pid != pid || !uid_ok || !gid_ok) {
        return Err(Errno::EPERM);
    }
    if k.tasks.find_pid(c.pid).is_none() && k.tasks.find_tid(c.pid).is_none() {
        return Err(Errno::ESRCH);
    }
    Ok(c)
}

fn sendmsg(k: &mut Kernel, fd: u32, at: u32, flags: u32) -> SysOutcome {
    let h = read_hdr(k, at)?;
    let iov = iovecs(k, h.iov, h.iovlen)?;
    let data = gather(k, &iov)?;
    let c = read_control(k, &h)?;
    let to = if h.name != 0 && h.namelen != 0 {
        Some(super::inet::read_raw(k, h.name, h.namelen)?)
    } else {
        None
    };
    let x = SendExtra {
        fds: c.fds,
        cred: c.cred,
        to,
        control: c.other,
    };
    send(k, fd, data, x, flags)
}

pub fn sys_sendmsg(k: &mut Kernel, a: &Args) -> SysOutcome {
    sendmsg(k, a[0], a[1], a[2])
}

/// Installs received descriptors; returns the SCM_RIGHTS payload.
fn install_fds(k: &mut Kernel, fds: Vec<FileRef>, room: usize, cloexec: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for file in fds.into_iter().take(room) {
        match k.proc().fds.insert(Fd { file, cloexec }) {
            Ok(n) => out.extend_from_slice(&n.to_le_bytes()),
            Err(_) => break,
        }
    }
    out
}

fn cmsg(level: u32, ty: u32, data: &[u8]) -> Vec<u8> {
    let mut c = Vec::with_capacity(cmsg_align(CMSG_HDR + data.len()));
    c.extend_from_slice(&((CMSG_HDR + data.len()) as u32).to_le_bytes());
    c.extend_from_slice(&level.to_le_bytes());
    c.extend_from_slice(&ty.to_le_bytes());
    c.extend_from_slice(data);
    c.resize(cmsg_align(c.len()), 0);
    c
}

/// Builds the control data of a receive: SCM_CREDENTIALS (with
/// SO_PASSCRED), then SCM_RIGHTS. Returns the bytes and MSG_CTRUNC.
fn control_out(
    k: &mut Kernel,
    r: &mut Received,
    room: usize,
    passcred: bool,
    flags: u32,
) -> (Vec<u8>, u32) {
    let mut out = Vec::new();
    let mut trunc = 0;
    if passcred {
        let c = r.cred.unwrap_or_default();
        let mut d = Vec::new();
        for v in [c.pid, c.uid, c.gid] {
            d.extend_from_slice(&v.to_le_bytes());
        }
        let m = cmsg(SOL_SOCKET, SCM_CREDENTIALS, &d);
        if out.len() + m.len() <= room {
            out.extend(m);
        } else {
            trunc = MSG_CTRUNC;
        }
    }
    let fds = std::mem::take(&mut r.fds);
    if !fds.is_empty() {
        let fit = room.saturating_sub(out.len() + CMSG_HDR) / 4;
        if fit < fds.len() {
            trunc = MSG_CTRUNC;
        }
        if fit > 0 {
            let ids = install_fds(k, fds, fit, flags & MSG_CMSG_CLOEXEC != 0);
            let mut m = cmsg(SOL_SOCKET, SCM_RIGHTS, &ids);
            // The last message's padding need not fit.
            m.truncate((room - out.len()).min(m.len()));
            out.extend(m);
        }
    }
    for c in std::mem::take(&mut r.control) {
        if !put_cmsg(&mut out, room, &c) {
            trunc = MSG_CTRUNC;
        }
    }
    (out, trunc)
}

/// Appends one control message as Linux's put_cmsg does for a caller
/// with `room` bytes: none at all if not even a header fits; else cut to
/// what fits, with `cmsg_len` saying how much was written; the padding
/// after it only as far as the room goes. False if it was cut or dropped.
fn put_cmsg(out: &mut Vec<u8>, room: usize, c: &Cmsg) -> bool {
    let left = room.saturating_sub(out.len());
    if left < CMSG_HDR {
        return false;
    }
    let whole = CMSG_HDR + c.data.len();
    let len = whole.min(left);
    out.extend_from_slice(&(len as u32).to_le_bytes());
    out.extend_from_slice(&c.level.to_le_bytes());
    out.extend_from_slice(&c.ty.to_le_bytes());
    out.extend_from_slice(&c.data[..len - CMSG_HDR]);
    let padded = cmsg_align(whole).min(left);
    out.resize(out.len() + padded - len, 0);
    len == whole
}

fn scatter(k: &mut Kernel, iov: &[(u32, u32)], data: &[u8]) -> KResult<()> {
    let mut off = 0;
    for &(base, len) in iov {
        let n = (len as usize).min(data.len() - off);
        k.mem().write_bytes(GuestAddr(base), &data[off..off + n])?;
        off += n;
    }
    Ok(())
}

fn recvmsg(k: &mut Kernel, fd: u32, at: u32, flags: u32) -> SysOutcome {
    let h = read_hdr(k, at)?;
    let iov = iovecs(k, h.iov, h.iovlen)?;
    let max: usize = iov
        .iter()
        .map(|&(_, l)| l as usize)
        .sum::<usize>()
        .min(MAX_IO);
    for &(base, len) in &iov {
        k.mem().probe_write(GuestAddr(base), len)?;
    }
    k.mem().probe_write(GuestAddr(at), 28)?;
    // Only unix sockets pass credentials; recv checks the descriptor.
    let passcred = super::socket_of(k, fd).is_ok_and(|s| s.borrow().passcred);
    let mut r = match recv(k, fd, max, flags)? {
        Ready::Now(r) => r,
        Ready::Block(w) => return Ok(Outcome::Block(w)),
    };
    scatter(k, &iov, &r.data)?;
    let room = if h.control == 0 {
        0
    } else {
        h.controllen as usize
    };
    let (ctl, ctrunc) = control_out(k, &mut r, room, passcred, flags);
    if !ctl.is_empty() {
        k.mem().write_bytes(GuestAddr(h.control), &ctl)?;
    }
    let mut mflags = ctrunc;
    if r.truncated {
        mflags |= MSG_TRUNC;
    }
    if h.name != 0 {
        // msg_namelen is in the header: write_addr reads and updates it.
        write_from(k, h.name, at + 4, &r)?;
    } else {
        k.mem().write_u32(GuestAddr(at + 4), 0)?;
    }
    k.mem().write_u32(GuestAddr(at + 20), ctl.len() as u32)?;
    k.mem().write_u32(GuestAddr(at + 24), mflags)?;
    if flags & MSG_TRUNC != 0 {
        return Ok(Outcome::Done(r.full_len as u32));
    }
    Ok(Outcome::Done(r.data.len() as u32))
}

pub fn sys_recvmsg(k: &mut Kernel, a: &Args) -> SysOutcome {
    recvmsg(k, a[0], a[1], a[2])
}

/// sendmmsg(fd, vec, vlen, flags): stops at the first failure; an error
/// is returned only if nothing was sent.
pub fn sys_sendmmsg(k: &mut Kernel, a: &Args) -> SysOutcome {
    let n = a[2].min(1024);
    let mut done = 0;
    while done < n {
        let at = a[1] + done * MMSGHDR;
        match sendmsg(k, a[0], at, a[3]) {
            Ok(Outcome::Done(len)) => k.mem().write_u32(GuestAddr(at + 28), len)?,
            // A failure or a wait before anything was sent is the call's.
            r if done == 0 => return r,
            _ => break,
        }
        done += 1;
    }
    Ok(Outcome::Done(done))
}

/// recvmmsg(fd, vec, vlen, flags, timeout): the first message waits as
/// `flags` say, the rest are taken only if already there. The timeout is
/// not implemented (ignored).
pub fn sys_recvmmsg(k: &mut Kernel, a: &Args) -> SysOutcome {
    const MSG_WAITFORONE: u32 = 0x10000;
    let n = a[2].min(1024);
    let mut done = 0;
    let mut flags = a[3] & !MSG_WAITFORONE;
    while done < n {
        let at = a[1] + done * MMSGHDR;
        match recvmsg(k, a[0], at, flags) {
            Ok(Outcome::Done(len)) => k.mem().write_u32(GuestAddr(at + 28), len)?,
            r if done == 0 => return r,
            Err(SysErr::OutOfMemory) => return Err(SysErr::OutOfMemory),
            Err(SysErr::Errno(_)) | Ok(Outcome::Block(_) | Outcome::NoReturn) => break,
        }
        done += 1;
        flags |= MSG_DONTWAIT;
    }
    Ok(Outcome::Done(done))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hoplimit() -> Cmsg {
        // IPPROTO_IPV6, IPV6_HOPLIMIT, an int
        Cmsg {
            level: 41,
            ty: 52,
            data: 64u32.to_le_bytes().to_vec(),
        }
    }

    #[test]
    fn control_messages_are_cut_to_the_room_as_linux_cuts_them() {
        // Whole, with its padding (none: 16 bytes is aligned).
        let mut out = Vec::new();
        assert!(put_cmsg(&mut out, 100, &hoplimit()));
        assert_eq!(out.len(), 16);
        assert_eq!(&out[..4], &16u32.to_le_bytes());
        // Two bytes of data fit: cmsg_len says 14, nothing past the room.
        let mut out = Vec::new();
        assert!(!put_cmsg(&mut out, 14, &hoplimit()));
        assert_eq!(out.len(), 14);
        assert_eq!(&out[..4], &14u32.to_le_bytes());
        assert_eq!(&out[12..], &[64, 0]);
        // Not even a header: nothing written.
        let mut out = Vec::new();
        assert!(!put_cmsg(&mut out, 11, &hoplimit()));
        assert!(out.is_empty());
        // A second message after a first that took its room.
        let mut out = Vec::new();
        assert!(put_cmsg(&mut out, 20, &hoplimit()));
        assert!(!put_cmsg(&mut out, 20, &hoplimit()));
        assert_eq!(out.len(), 16);
        // Odd data: the padding goes only as far as the room.
        let odd = Cmsg {
            level: 41,
            ty: 67,
            data: vec![1, 2, 3, 4, 5],
        };
        let mut out = Vec::new();
        assert!(put_cmsg(&mut out, 18, &odd));
        assert_eq!(out.len(), 18);
        assert_eq!(&out[..4], &17u32.to_le_bytes());
    }
}
