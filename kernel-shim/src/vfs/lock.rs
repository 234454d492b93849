//! Advisory locks, shared by every process of the machine.
//!
//! Linux has two independent kinds: `flock` locks cover the whole file and
//! belong to an open file description; record locks (`fcntl` F_SETLK)
//! cover byte ranges and belong to a process (classic POSIX locks) or to
//! an open file description (OFD locks, F_OFD_SETLK). POSIX and OFD locks
//! conflict with each other; neither conflicts with `flock`.
//!
//! Owners that are open file descriptions are held as `Weak` references:
//! a lock whose description is gone (the last descriptor closed, the
//! process exited) no longer counts, so no close path has to remember to
//! release it. Process-owned locks are released by the system call layer
//! on close and exit; `alive` filters out those of processes that are
//! gone.

use super::{Ino, MountId};
use crate::abi::errno::{Errno, KResult};
use std::any::Any;
use std::collections::HashMap;
use std::rc::{Rc, Weak};

/// A file identity across mounts.
pub type NodeKey = (MountId, Ino);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LockType {
    Read,
    Write,
    Unlock,
}

/// Who holds a lock.
#[derive(Clone, Debug)]
pub enum Owner {
    Process(u32),
    /// An open file description (OFD and flock locks).
    File(Weak<dyn Any>),
}

impl Owner {
    pub fn file<T: Any>(f: &Rc<T>) -> Owner {
        let rc: Rc<dyn Any> = f.clone();
        Owner::File(Rc::downgrade(&rc))
    }

    fn same(&self, other: &Owner) -> bool {
        match (self, other) {
            (Owner::Process(a), Owner::Process(b)) => a == b,
            (Owner::File(a), Owner::File(b)) => Weak::ptr_eq(a, b),
            _ => false,
        }
    }

    fn live(&self, alive: &dyn Fn(u32) -> bool) -> bool {
        match self {
            Owner::Process(p) => alive(*p),
            Owner::File(w) => w.strong_count() > 0,
        }
    }
}

/// One record lock: bytes `start..end` (`end` = u64::MAX: to infinity).
#[derive(Clone, Debug)]
pub struct RecordLock {
    pub owner: Owner,
    pub kind: LockType,
    pub start: u64,
    pub end: u64,
    /// The pid F_GETLK reports (-1 for OFD locks on Linux).
    pub pid: i32,
}

impl RecordLock {
    fn overlaps(&self, start: u64, end: u64) -> bool {
        self.start < end && start < self.end
    }
}

fn conflicts(a: LockType, b: LockType) -> bool {
    a == LockType::Write || b == LockType::Write
}

#[derive(Default)]
pub struct LockTable {
    records: HashMap<NodeKey, Vec<RecordLock>>,
    flocks: HashMap<NodeKey, Vec<(Owner, LockType)>>,
}

impl LockTable {
    fn prune(&mut self, node: NodeKey, alive: &dyn Fn(u32) -> bool) {
        if let Some(v) = self.records.get_mut(&node) {
            v.retain(|l| l.owner.live(alive));
        }
        if let Some(v) = self.flocks.get_mut(&node) {
            v.retain(|(o, _)| o.live(alive));
        }
    }

    /// The first lock of another owner that conflicts with the request
    /// (F_GETLK).
    pub fn test(
        &mut self,
        node: NodeKey,
        req: &RecordLock,
        alive: &dyn Fn(u32) -> bool,
    ) -> Option<RecordLock> {
        self.prune(node, alive);
        self.records
            .get(&node)?
            .iter()
            .find(|l| {
                !l.owner.same(&req.owner)
                    && l.overlaps(req.start, req.end)
                    && conflicts(l.kind, req.kind)
            })
            .cloned()
    }

    /// Sets or clears a record lock (F_SETLK); EAGAIN on a conflict.
    /// The owner's existing locks in the range are replaced, split where
    /// the range cuts them, and adjacent locks of the same type merge.
    pub fn set(
        &mut self,
        node: NodeKey,
        req: RecordLock,
        alive: &dyn Fn(u32) -> bool,
    ) -> KResult<()> {
        if req.kind != LockType::Unlock && self.test(node, &req, alive).is_some() {
            return Err(Errno::EAGAIN);
        }
        let list = self.records.entry(node).or_default();
        let mut kept = Vec::with_capacity(list.len() + 2);
        for l in list.drain(..) {
            if !l.owner.same(&req.owner) || !l.overlaps(req.start, req.end) {
                kept.push(l);
                continue;
            }
            if l.start < req.start {
                kept.push(RecordLock {
                    end: req.start,
                    ..l.clone()
                });
            }
            if l.end > req.end {
                kept.push(RecordLock {
                    start: req.end,
                    ..l
                });
            }
        }
        if req.kind != LockType::Unlock {
            kept.push(req);
        }
        kept.sort_by_key(|l| l.start);
        *list = merge(kept);
        if list.is_empty() {
            self.records.remove(&node);
        }
        Ok(())
    }

    /// Drops every record lock `owner` holds on `node` (POSIX: closing any
    /// descriptor of the file releases the process's locks on it).
    pub fn release(&mut self, node: NodeKey, owner: &Owner) {
        if let Some(v) = self.records.get_mut(&node) {
            v.retain(|l| !l.owner.same(owner));
        }
    }

    /// Drops every process-owned record lock of `pid` (exit).
    pub fn release_process(&mut self, pid: u32) {
        let me = Owner::Process(pid);
        for v in self.records.values_mut() {
            v.retain(|l| !l.owner.same(&me));
        }
    }

    /// flock(LOCK_SH/LOCK_EX/LOCK_UN): converts the owner's lock; EAGAIN
    /// (EWOULDBLOCK) on a conflict.
    pub fn flock(
        &mut self,
        node: NodeKey,
        owner: Owner,
        kind: LockType,
        alive: &dyn Fn(u32) -> bool,
    ) -> KResult<()> {
        self.prune(node, alive);
        let list = self.flocks.entry(node).or_default();
        if kind != LockType::Unlock {
            let busy = list
                .iter()
                .any(|(o, k)| !o.same(&owner) && conflicts(*k, kind));
            if busy {
                return Err(Errno::EAGAIN);
            }
        }
        list.retain(|(o, _)| !o.same(&owner));
        if kind != LockType::Unlock {
            list.push((owner, kind));
        }
        Ok(())
    }
}

/// Joins touching locks of one owner and type (the list is sorted).
fn merge(list: Vec<RecordLock>) -> Vec<RecordLock> {
    let mut out: Vec<RecordLock> = Vec::with_capacity(list.len());
    for l in list {
        if let Some(prev) = out
            .iter_mut()
            .rev()
            .find(|p| p.owner.same(&l.owner) && p.kind == l.kind && p.end >= l.start)
        {
            if prev.start <= l.start {
                prev.end = prev.end.max(l.end);
                continue;
            }
        }
        out.push(l);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const N: NodeKey = (0, 7);

    fn lock(pid: u32, kind: LockType, start: u64, end: u64) -> RecordLock {
        RecordLock {
            owner: Owner::Process(pid),
            kind,
            start,
            end,
            pid: pid as i32,
        }
    }

    fn all(_: u32) -> bool {
        true
    }

    #[test]
    fn read_locks_share_write_locks_exclude() {
        let mut t = LockTable::default();
        t.set(N, lock(1, LockType::Read, 0, 10), &all).unwrap();
        t.set(N, lock(2, LockType::Read, 5, 20), &all).unwrap();
        assert_eq!(
            t.set(N, lock(3, LockType::Write, 9, 10), &all),
            Err(Errno::EAGAIN)
        );
        t.set(N, lock(3, LockType::Write, 20, u64::MAX), &all)
            .unwrap();
        let c = t.test(N, &lock(4, LockType::Read, 100, 101), &all).unwrap();
        assert_eq!(c.pid, 3);
        // The owner itself never conflicts.
        assert!(t.test(N, &lock(1, LockType::Write, 0, 5), &all).is_none());
    }

    #[test]
    fn unlocking_the_middle_splits_a_lock() {
        let mut t = LockTable::default();
        t.set(N, lock(1, LockType::Write, 0, 100), &all).unwrap();
        t.set(N, lock(1, LockType::Unlock, 40, 60), &all).unwrap();
        assert!(t.test(N, &lock(2, LockType::Write, 40, 60), &all).is_none());
        assert!(t.test(N, &lock(2, LockType::Write, 39, 40), &all).is_some());
        assert!(t.test(N, &lock(2, LockType::Write, 60, 61), &all).is_some());
        // Relocking merges back into one lock.
        t.set(N, lock(1, LockType::Write, 40, 60), &all).unwrap();
        assert_eq!(t.records[&N].len(), 1);
    }

    #[test]
    fn locks_of_dead_owners_do_not_count() {
        let mut t = LockTable::default();
        t.set(N, lock(1, LockType::Write, 0, 10), &all).unwrap();
        let dead = |p: u32| p != 1;
        t.set(N, lock(2, LockType::Write, 0, 10), &dead).unwrap();
        let f: Rc<u8> = Rc::new(0);
        t.flock(N, Owner::file(&f), LockType::Write, &all).unwrap();
        let g: Rc<u8> = Rc::new(0);
        assert_eq!(
            t.flock(N, Owner::file(&g), LockType::Read, &all),
            Err(Errno::EAGAIN)
        );
        drop(f);
        t.flock(N, Owner::file(&g), LockType::Read, &all).unwrap();
    }
}
