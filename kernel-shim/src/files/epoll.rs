//! epoll: an interest list of (descriptor, open file) pairs and the
//! readiness each file reports through `FileHandle::poll`.
//!
//! Items hold their open file weakly: when the last descriptor of a file
//! is closed the item disappears, as on Linux (closing one of several
//! dup'ed descriptors keeps it). Readiness is pulled on every
//! epoll_wait. An edge-triggered item (EPOLLET) is reported again only
//! after a new event: for files that count their state changes
//! (`FileHandle::event_count`: pipes) when the count moved since the last
//! report, or when a readiness bit appeared that was not there at the last
//! look. Files without a count are reported like level-triggered ones (a
//! program that reads until EAGAIN, as ET programs must, sees at most one
//! extra wakeup; partial). EPOLLONESHOT disables an
//! item after one report until EPOLL_CTL_MOD; EPOLLEXCLUSIVE is accepted
//! (there is no thundering herd to avoid in one scheduler).

use crate::abi::epoll::{EPOLLERR, EPOLLET, EPOLLEXCLUSIVE, EPOLLHUP, EPOLLONESHOT, EPOLLWAKEUP};
use crate::abi::errno::{Errno, KResult};
use crate::abi::poll;
use crate::vfs::file::OpenFile;

use crate::vfs::{Attr, FileHandle};
use std::cell::RefCell;
use std::rc::{Rc, Weak};

/// Flags that are not events.
const FLAGS: u32 = EPOLLEXCLUSIVE | EPOLLWAKEUP | EPOLLONESHOT | EPOLLET;

pub struct Item {
    pub fd: u32,
    pub file: Weak<RefCell<OpenFile>>,
    pub events: u32,
    pub data: u64,
    /// A EPOLLONESHOT item that has fired.
    pub disabled: bool,
    /// EPOLLET: the readiness and event count at the last look.
    pub seen: (u32, Option<u64>),
    /// Position in the ready list, if on it.
    pub queued: Option<u64>,
}

#[derive(Default)]
pub struct EpollSet {
    pub items: Vec<Item>,
    /// The next ready-list position.
    next_seq: u64,
}

pub type EpollRef = Rc<RefCell<EpollSet>>;

/// Readiness of an open file (a file already borrowed elsewhere, e.g.
/// an epoll set polled from inside itself, reports nothing).
/// Also returns the file's event count, if it keeps one.
fn poll_file(file: &Rc<RefCell<OpenFile>>) -> (u32, Option<u64>) {
    let Ok(mut f) = file.try_borrow_mut() else {
        return (0, None);
    };
    match f.handle.as_mut() {
        Some(h) => (u32::from(h.poll()), h.event_count()),
        None => (u32::from(poll::POLLIN | poll::POLLOUT), None),
    }
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
            seen: (0, None),
            queued: None,
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
        // MOD re-arms an edge-triggered item, as on Linux.
        item.seen = (0, None);
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

    /// The events of item `i` now, readiness and event count (0 if none,
    /// disabled, or an edge-triggered item without a new event).
    fn events_of(&self, i: usize) -> (u32, (u32, Option<u64>)) {
        let item = &self.items[i];
        if item.disabled {
            return (0, item.seen);
        }
        let Some(file) = item.file.upgrade() else {
            return (0, item.seen);
        };
        let (ready, count) = poll_file(&file);
        let e = ready & ((item.events & !FLAGS) | EPOLLERR | EPOLLHUP);
        let now = (e, count);
        if item.events & EPOLLET == 0 || count.is_none() {
            return (e, now);
        }
        let (was, old_count) = item.seen;
        let new_event = count != old_count || e & !was != 0;
        (if new_event { e } else { 0 }, now)
    }

    /// Whether any item is ready (the epoll file's own readiness).
    pub fn any_ready(&self) -> bool {
        (0..self.items.len()).any(|i| self.events_of(i).0 != 0)
    }

    /// Takes up to `max` ready events, in Linux's ready-list order: an
    /// item joins the tail when it is first seen ready, and a reported
    /// level-triggered item that stays ready joins it again (so a small
    /// `max` still reaches every ready item in turn).
    pub fn collect(&mut self, max: usize) -> Vec<(u32, u64)> {
        self.prune();
        let mut ready = Vec::new();
        for i in 0..self.items.len() {
            let (e, now) = self.events_of(i);
            let item = &mut self.items[i];
            if e == 0 {
                item.queued = None;
                // Not ready: a later readiness is an edge again.
                if now.0 == 0 {
                    item.seen = now;
                }
                continue;
            }
            if item.queued.is_none() {
                item.queued = Some(self.next_seq);
                self.next_seq += 1;
            }
            ready.push((item.queued, i, e, now));
        }
        ready.sort_unstable_by_key(|r| r.0);
        let mut out = Vec::new();
        for &(_, i, e, now) in ready.iter().take(max) {
            let item = &mut self.items[i];
            out.push((e, item.data));
            item.seen = now;
            item.queued = None;
            if item.events & EPOLLONESHOT != 0 {
                item.disabled = true;
            } else if item.events & EPOLLET == 0 {
                item.queued = Some(self.next_seq);
                self.next_seq += 1;
            }
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
            Ok(s) if s.any_ready() => poll::POLLIN | poll::POLLRDNORM,
            _ => 0,
        }
    }

    fn proc_name(&self) -> Option<Vec<u8>> {
        Some(crate::files::anon::link_name("eventpoll"))
    }

    fn stat(&self) -> Option<Attr> {
        Some(crate::files::anon::anon_attr())
    }

    fn as_any(&mut self) -> Option<&mut dyn std::any::Any> {
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::epoll::EPOLLIN;
    use crate::files::eventfd::EventFd;

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

    fn pipe_file(h: Box<dyn FileHandle>) -> Rc<RefCell<OpenFile>> {
        Rc::new(RefCell::new(OpenFile {
            node: None,
            location: None,
            handle: Some(h),
            offset: 0,
            flags: 0,
            dir_entries: None,
        }))
    }

    #[test]
    fn edge_triggered_reports_only_new_events() {
        use crate::files::pipe::Pipe;
        let p = Pipe::new();
        let r = pipe_file(Box::new(Pipe::reader(&p)));
        let mut w = Pipe::writer(&p);
        let mut s = EpollSet::default();
        s.add(3, &r, EPOLLIN | EPOLLET, 3).unwrap();
        assert!(s.collect(8).is_empty());
        w.write_at(0, b"ab").unwrap();
        assert_eq!(s.collect(8), [(EPOLLIN, 3)]);
        // Still readable, but nothing new.
        assert!(s.collect(8).is_empty());
        w.write_at(0, b"c").unwrap();
        assert_eq!(s.collect(8), [(EPOLLIN, 3)]);
        // The writer closing is an event too.
        drop(w);
        assert_eq!(s.collect(8), [(EPOLLIN | EPOLLHUP, 3)]);
        assert!(s.collect(8).is_empty());
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
