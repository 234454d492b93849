//! The descriptor side of an internet socket: read(2)/write(2), poll and
//! fstat; the socket calls reach the socket with `FileHandle::as_any`.

use super::InetSocket;
use crate::abi::errno::{Errno, KResult};
use crate::vfs::{Attr, FileHandle};

pub struct InetFile {
    pub sock: Box<dyn InetSocket>,
    /// The inode number shown as `socket:[N]`.
    pub id: u64,
    pub uid: u32,
    pub gid: u32,
}

impl Drop for InetFile {
    fn drop(&mut self) {
        self.sock.close();
    }
}

impl FileHandle for InetFile {
    fn read_at(&mut self, _off: u64, buf: &mut [u8]) -> KResult<usize> {
        let r = self.sock.recv(buf.len(), 0)?;
        buf[..r.data.len()].copy_from_slice(&r.data);
        Ok(r.data.len())
    }

    fn write_at(&mut self, _off: u64, buf: &[u8]) -> KResult<usize> {
        match self.sock.send(buf, 0, None) {
            Err(Errno::ENOTCONN) if !self.sock.is_stream() => Err(Errno::EDESTADDRREQ),
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
        self.sock.poll()
    }

    fn event_count(&mut self) -> Option<u64> {
        self.sock.event_count()
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
