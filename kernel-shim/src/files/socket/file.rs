//! The descriptor side of a socket: read(2)/write(2), poll and fstat go
//! through this handle; the socket calls find the socket behind it with
//! `FileHandle::as_any`.

use super::{Msg, Socket, SocketRef};
use crate::abi::errno::{Errno, KResult};
use crate::abi::mode;
use crate::vfs::{Attr, FileHandle};

pub struct SocketFile(pub SocketRef);

impl FileHandle for SocketFile {
    fn read_at(&mut self, _off: u64, buf: &mut [u8]) -> KResult<usize> {
        let r = self.0.borrow_mut().recv(buf.len(), false)?;
        buf[..r.data.len()].copy_from_slice(&r.data);
        // Descriptors read without recvmsg are closed (dropped here).
        Ok(r.data.len())
    }

    fn write_at(&mut self, _off: u64, buf: &[u8]) -> KResult<usize> {
        let cred = self.0.borrow().cred;
        let from = self.0.borrow().name.clone();
        let msg = Msg {
            data: buf.to_vec(),
            fds: Vec::new(),
            cred,
            from,
        };
        match Socket::send(&self.0, msg, None) {
            // An unconnected datagram socket written to.
            Err(Errno::ENOTCONN) if !self.0.borrow().kind.connected() => Err(Errno::EDESTADDRREQ),
            r => r,
        }
    }

    fn is_stream(&self) -> bool {
        true
    }

    fn readable(&mut self) -> bool {
        self.poll() & crate::abi::poll::POLLIN != 0
    }

    fn poll(&mut self) -> u16 {
        self.0.borrow().poll()
    }

    fn proc_name(&self) -> Option<Vec<u8>> {
        Some(format!("socket:[{}]", self.0.borrow().id).into_bytes())
    }

    fn stat(&self) -> Option<Attr> {
        let s = self.0.borrow();
        Some(Attr {
            // sockfs's anonymous device.
            dev: 8,
            ino: s.id,
            mode: mode::S_IFSOCK | 0o777,
            nlink: 1,
            uid: s.cred.uid,
            gid: s.cred.gid,
            blksize: 4096,
            ..Attr::default()
        })
    }

    fn as_any(&mut self) -> Option<&mut dyn std::any::Any> {
        Some(self)
    }
}
