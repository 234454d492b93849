//! eventfd: a 64-bit counter as a file. A write adds, a read takes the
//! whole count (or one, with EFD_SEMAPHORE); a read of zero and a write
//! that would pass 2^64 - 2 wait (EAGAIN to the caller, which parks).

use crate::abi::errno::{Errno, KResult};
use crate::abi::poll;
use crate::vfs::{Attr, FileHandle};

pub const EFD_SEMAPHORE: u32 = 1;
/// The largest count (ULLONG_MAX - 1).
const MAX: u64 = u64::MAX - 1;

pub struct EventFd {
    pub count: u64,
    pub semaphore: bool,
}

impl FileHandle for EventFd {
    fn read_at(&mut self, _off: u64, buf: &mut [u8]) -> KResult<usize> {
        if buf.len() < 8 {
            return Err(Errno::EINVAL);
        }
        if self.count == 0 {
            return Err(Errno::EAGAIN);
        }
        let v = if self.semaphore { 1 } else { self.count };
        self.count -= v;
        buf[..8].copy_from_slice(&v.to_le_bytes());
        Ok(8)
    }

    fn write_at(&mut self, _off: u64, buf: &[u8]) -> KResult<usize> {
        if buf.len() < 8 {
            return Err(Errno::EINVAL);
        }
        let v = u64::from_le_bytes(buf[..8].try_into().expect("8 bytes"));
        if v == u64::MAX {
            return Err(Errno::EINVAL);
        }
        if MAX - self.count < v {
            return Err(Errno::EAGAIN);
        }
        self.count += v;
        Ok(8)
    }

    fn is_stream(&self) -> bool {
        true
    }

    fn readable(&mut self) -> bool {
        self.count > 0
    }

    fn poll(&mut self) -> u16 {
        let mut e = 0;
        if self.count > 0 {
            e |= poll::POLLIN | poll::POLLRDNORM;
        }
        if self.count < MAX {
            e |= poll::POLLOUT | poll::POLLWRNORM;
        }
        e
    }

    fn proc_name(&self) -> Option<Vec<u8>> {
        Some(crate::files::anon::link_name("eventfd"))
    }

    fn stat(&self) -> Option<Attr> {
        Some(crate::files::anon::anon_attr())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counter_and_semaphore() {
        let mut e = EventFd {
            count: 0,
            semaphore: false,
        };
        let mut b = [0u8; 8];
        assert_eq!(e.read_at(0, &mut b), Err(Errno::EAGAIN));
        assert_eq!(e.poll() & poll::POLLIN, 0);
        e.write_at(0, &3u64.to_le_bytes()).unwrap();
        e.write_at(0, &4u64.to_le_bytes()).unwrap();
        assert_eq!(e.read_at(0, &mut b), Ok(8));
        assert_eq!(u64::from_le_bytes(b), 7);
        assert_eq!(e.write_at(0, &u64::MAX.to_le_bytes()), Err(Errno::EINVAL));
        assert_eq!(e.write_at(0, &MAX.to_le_bytes()), Ok(8));
        assert_eq!(e.write_at(0, &1u64.to_le_bytes()), Err(Errno::EAGAIN));
        assert_eq!(e.poll() & poll::POLLOUT, 0);
        let mut s = EventFd {
            count: 2,
            semaphore: true,
        };
        s.read_at(0, &mut b).unwrap();
        assert_eq!((u64::from_le_bytes(b), s.count), (1, 1));
        assert_eq!(s.read_at(0, &mut [0; 4]), Err(Errno::EINVAL));
    }
}
