//! epoll: an interest list of (descriptor, open file) pairs and the
//! readiness each file reports through `FileHandle::poll`.
//!
//! Items hold their open file weakly: when the last descriptor of a file
//! is closed the item disappears, as on Linux (closing one of several
//! dup'ed descriptors keeps it). Readiness is pulled on every
//! epoll_wait, so edge-triggered items (EPOLLET) are reported like
//! level-triggered ones: a program that reads until EAGAIN, as ET
//! programs must, sees at most one extra wakeup. EPOLLONESHOT disables an
//! item after one report until EPOLL_CTL_MOD; EPOLLEXCLUSIVE is accepted
//! (there is no thundering herd to avoid in one scheduler).

use crate::errno::{Errno, KResult};
use crate::process::OpenFile;
use crate::sched::ev;
use crate::vfs::{Attr, FileHandle};
use std::cell::RefCell;
use std::rc::{Rc, Weak};

pub const EPOLLIN: u32 = 0x001;
pub const EPOLLERR: u32 = 0x008;
pub const EPOLLHUP: u32 = 0x010;
pub const EPOLLEXCLUSIVE: u32 = 1 << 28;
pub const EPOLLWAKEUP: u32 = 1 << 29;
pub const EPOLLONESHOT: u32 = 1 << 30;
pub const EPOLLET: u32 = 1 << 31;
/// Flags that are not events.
const FLAGS: u32 = EPOLLEXCLUSIVE | EPOLLWAKEUP | EPOLLONESHOT | EPOLLET;

pub struct Item {
    pub fd: u32,
    pub file: Weak<RefCell<OpenFile>>,
    pub events: u32,
    pub data: u64,
    /// A EPOLLONESHOT item that has fired.
    pub disabled: bool,
}

#[derive(Default)]
pub struct EpollSet {
    pub items: Vec<Item>,
}

pub type EpollRef = Rc<RefCell<EpollSet>>;

/// Readiness of an open file (a file already borrowed elsewhere, e.g.
/// an epoll set polled from inside itself, reports nothing).
fn poll_file(file: &Rc<RefCell<OpenFile>>) -> u32 {
    let Ok(mut f) = file.try_borrow_mut() else {
        return 0;
    };
    let e = match f.handle.as_mut() {
        Some(h) => h.poll(),
        None => ev::POLLIN | ev::POLLOUT,
    };
    u32::from(e)
}

impl EpollSet {
    fn find(&self, fd: u32, file: &Rc<RefCell<OpenFile>>) -> Option<usize> {
        self.items
            .iter()
            .position(|i| i.fd == fd && std::ptr::eq(i.file.as_ptr(), Rc::as_ptr(file)))
    }

    pub fn add(
        &mut self,
        fd: u32,
        file: &Rc<RefCell<OpenFile>>,
        events: u32,
        data: u64,
    ) -> KResult<()> {
        self.prune();
        if self.find(fd, file).is_some() {
            return Err(Errno::EEXIST);
        }
        self.items.push(Item {
            fd,
            file: Rc::downgrade(file),
            events,
            data,
            disabled: false,
        });
        Ok(())
    }

    pub fn modify(
        &mut self,
        fd: u32,
        file: &Rc<RefCell<OpenFile>>,
        events: u32,
        data: u64,
    ) -> KResult<()> {
        let i = self.find(fd, file).ok_or(Errno::ENOENT)?;
        let item = &mut self.items[i];
        if item.events & EPOLLEXCLUSIVE != 0 || events & EPOLLEXCLUSIVE != 0 {
            return Err(Errno::EINVAL);
        }
        item.events = events;
        item.data = data;
        item.disabled = false;
        Ok(())
    }

    pub fn delete(&mut self, fd: u32, file: &Rc<RefCell<OpenFile>>) -> KResult<()> {
        let i = self.find(fd, file).ok_or(Errno::ENOENT)?;
        self.items.remove(i);
        Ok(())
    }

    /// Drops items whose file has been closed.
    fn prune(&mut self) {
        self.items.retain(|i| i.file.strong_count() > 0);
    }

    /// The events of item `i` now (0 if none or disabled).
    fn events_of(&self, i: usize) -> u32 {
        let item = &self.items[i];
        if item.disabled {
            return 0;
        }
        let Some(file) = item.file.upgrade() else {
            return 0;
        };
        poll_file(&file) & ((item.events & !FLAGS) | EPOLLERR | EPOLLHUP)
    }

    /// Whether any item is ready (the epoll file's own readiness).
    pub fn any_ready(&self) -> bool {
        (0..self.items.len()).any(|i| self.events_of(i) != 0)
    }

    /// Takes up to `max` ready events. Reported items move to the end of
    /// the list so a small `max` still reaches every ready item in turn.
    pub fn collect(&mut self, max: usize) -> Vec<(u32, u64)> {
        self.prune();
        let mut out = Vec::new();
        let mut fired = Vec::new();
        for i in 0..self.items.len() {
            if out.len() == max {
                break;
            }
            let e = self.events_of(i);
            if e == 0 {
                continue;
            }
            out.push((e, self.items[i].data));
            if self.items[i].events & EPOLLONESHOT != 0 {
                self.items[i].disabled = true;
            }
            fired.push(i);
        }
        for (n, i) in fired.into_iter().enumerate() {
            let item = self.items.remove(i - n);
            self.items.push(item);
        }
        out
    }
}

/// The epoll descriptor's handle.
pub struct EpollFile(pub EpollRef);

impl FileHandle for EpollFile {
    fn read_at(&mut self, _off: u64, _buf: &mut [u8]) -> KResult<usize> {
        Err(Errno::EINVAL)
    }

    fn write_at(&mut self, _off: u64, _buf: &[u8]) -> KResult<usize> {
        Err(Errno::EINVAL)
    }

    fn is_stream(&self) -> bool {
        true
    }

    fn poll(&mut self) -> u16 {
        match self.0.try_borrow() {
            Ok(s) if s.any_ready() => ev::POLLIN | ev::POLLRDNORM,
            _ => 0,
        }
    }

    fn proc_name(&self) -> Option<Vec<u8>> {
        Some(crate::anon::link_name("eventpoll"))
    }

    fn stat(&self) -> Option<Attr> {
        Some(crate::anon::anon_attr())
    }

    fn as_any(&mut self) -> Option<&mut dyn std::any::Any> {
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eventfd::EventFd;

    fn file(count: u64) -> Rc<RefCell<OpenFile>> {
        Rc::new(RefCell::new(OpenFile {
            node: None,
            location: None,
            handle: Some(Box::new(EventFd {
                count,
                semaphore: false,
            })),
            offset: 0,
            flags: 2,
            dir_entries: None,
        }))
    }

    #[test]
    fn level_oneshot_and_close() {
        let (a, b) = (file(1), file(0));
        let mut s = EpollSet::default();
        s.add(3, &a, EPOLLIN | EPOLLONESHOT, 33).unwrap();
        s.add(4, &b, EPOLLIN, 44).unwrap();
        assert_eq!(s.add(4, &b, EPOLLIN, 44), Err(Errno::EEXIST));
        assert_eq!(s.collect(8), [(EPOLLIN, 33)]);
        // One-shot: disabled until modified.
        assert!(s.collect(8).is_empty());
        s.modify(3, &a, EPOLLIN, 34).unwrap();
        assert_eq!(s.collect(8), [(EPOLLIN, 34)]);
        assert_eq!(s.collect(8), [(EPOLLIN, 34)]);
        drop(a);
        assert!(s.collect(8).is_empty());
        assert_eq!(s.items.len(), 1);
        assert_eq!(s.delete(4, &b), Ok(()));
        assert_eq!(s.delete(4, &b), Err(Errno::ENOENT));
    }

    #[test]
    fn small_max_rotates_through_ready_items() {
        let (a, b) = (file(1), file(1));
        let mut s = EpollSet::default();
        s.add(3, &a, EPOLLIN, 3).unwrap();
        s.add(4, &b, EPOLLIN, 4).unwrap();
        assert_eq!(s.collect(1), [(EPOLLIN, 3)]);
        assert_eq!(s.collect(1), [(EPOLLIN, 4)]);
        assert_eq!(s.collect(1), [(EPOLLIN, 3)]);
    }
}
