//! FIFOs (named pipes): one in-kernel [`Pipe`] per FIFO node, whatever
//! file system the node is on (a host directory's FIFO is never opened on
//! the host, whose open() could block the whole emulator).
//!
//! Linux's open rules: O_RDWR never blocks; O_RDONLY|O_NONBLOCK succeeds
//! at once; O_WRONLY|O_NONBLOCK without a reader fails with ENXIO; a
//! blocking O_RDONLY waits for a writer and a blocking O_WRONLY for a
//! reader. A waiting opener already holds its end (kept here, keyed by
//! thread), so it counts as a reader or writer for the other side, as on
//! Linux; it retries shortly (like blocking file locks) and takes its end
//! when the other side has an open end or opened one since it began
//! waiting (the `opens` counters: the other side may open and close in
//! between).

use crate::files::pipe::{Pipe, PipeReader, PipeRef, PipeWriter};
use crate::vfs::{FileHandle, Ino, MountId};
use std::collections::HashMap;

/// A FIFO node: (mount, node number).
pub type FifoKey = (MountId, Ino);

/// An end a blocked opener holds while it waits, with the other side's
/// open count when it started waiting.
enum Waiting {
    Reader(PipeReader, u64),
    Writer(PipeWriter, u64),
}

/// The pipe of one FIFO node and its openers.
struct Fifo {
    pipe: PipeRef,
    reader_opens: u64,
    writer_opens: u64,
    /// Blocked openers by thread id.
    waiting: HashMap<u32, Waiting>,
}

/// What an open of a FIFO gives.
pub enum FifoOpen {
    Ready(Box<dyn FileHandle>),
    /// Retry later (a blocking open whose other side is missing).
    Wait,
}

/// All FIFOs with open (or waiting) ends.
#[derive(Default)]
pub struct Fifos {
    map: HashMap<FifoKey, Fifo>,
}

impl Fifos {
    /// Opens FIFO `key` for thread `tid`. `live` says whether a thread id
    /// still exists (the ends of exited waiters are dropped).
    pub fn open(
        &mut self,
        key: FifoKey,
        tid: u32,
        read: bool,
        write: bool,
        nonblock: bool,
        live: impl Fn(u32) -> bool,
    ) -> crate::abi::errno::KResult<FifoOpen> {
        self.map.retain(|_, f| {
            f.waiting.retain(|&t, _| t == tid || live(t));
            let p = f.pipe.borrow();
            p.readers() + p.writers() > 0
        });
        let f = self.map.entry(key).or_insert_with(|| Fifo {
            pipe: Pipe::new(),
            reader_opens: 0,
            writer_opens: 0,
            waiting: HashMap::new(),
        });
        match (read, write) {
            (true, true) => {
                f.reader_opens += 1;
                f.writer_opens += 1;
                let r = Pipe::reader(&f.pipe);
                let w = Pipe::writer(&f.pipe);
                Ok(FifoOpen::Ready(Box::new(crate::files::pipe::PipeBoth(
                    r, w,
                ))))
            }
            (true, false) => Ok(f.open_reader(tid, nonblock)),
            _ => f.open_writer(tid, nonblock),
        }
    }
}

impl Fifo {
    fn open_reader(&mut self, tid: u32, nonblock: bool) -> FifoOpen {
        let (end, since) = match self.waiting.remove(&tid) {
            Some(Waiting::Reader(r, since)) => (r, since),
            _ => {
                self.reader_opens += 1;
                (Pipe::reader(&self.pipe), self.writer_opens)
            }
        };
        if nonblock || self.pipe.borrow().writers() > 0 || self.writer_opens != since {
            return FifoOpen::Ready(Box::new(end));
        }
        self.waiting.insert(tid, Waiting::Reader(end, since));
        FifoOpen::Wait
    }

    fn open_writer(&mut self, tid: u32, nonblock: bool) -> crate::abi::errno::KResult<FifoOpen> {
        let waited = match self.waiting.remove(&tid) {
            Some(Waiting::Writer(w, since)) => Some((w, since)),
            _ => None,
        };
        let readers = self.pipe.borrow().readers();
        let (end, since) = match waited {
            Some(w) => w,
            None if nonblock && readers == 0 => return Err(crate::abi::errno::Errno::ENXIO),
            None => {
                self.writer_opens += 1;
                (Pipe::writer(&self.pipe), self.reader_opens)
            }
        };
        if nonblock || readers > 0 || self.reader_opens != since {
            return Ok(FifoOpen::Ready(Box::new(end)));
        }
        self.waiting.insert(tid, Waiting::Writer(end, since));
        Ok(FifoOpen::Wait)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: FifoKey = (1, 7);

    fn ready(o: crate::abi::errno::KResult<FifoOpen>) -> bool {
        matches!(o, Ok(FifoOpen::Ready(_)))
    }

    #[test]
    fn nonblocking_writer_needs_a_reader() {
        let mut f = Fifos::default();
        let r = f.open(KEY, 1, false, true, true, |_| true);
        assert_eq!(r.err(), Some(crate::abi::errno::Errno::ENXIO));
        let rd = f.open(KEY, 1, true, false, true, |_| true);
        assert!(ready(rd));
        // The reader above was dropped: the FIFO has no reader again.
        let r = f.open(KEY, 1, false, true, true, |_| true);
        assert_eq!(r.err(), Some(crate::abi::errno::Errno::ENXIO));
    }

    #[test]
    fn blocked_reader_counts_and_wakes_after_a_writer() {
        let mut f = Fifos::default();
        assert!(matches!(
            f.open(KEY, 1, true, false, false, |_| true),
            Ok(FifoOpen::Wait)
        ));
        // The waiting reader lets a non-blocking writer in.
        let w = f.open(KEY, 2, false, true, true, |_| true);
        assert!(ready(w));
        // The writer came and went: the reader still goes (it reads EOF).
        assert!(ready(f.open(KEY, 1, true, false, false, |_| true)));
    }
}
