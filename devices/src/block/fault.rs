//! A device that fails on command, to drive every error path above it.
//!
//! [`FaultyDevice`] passes each operation to the device it wraps until its
//! [`FaultPlan`] says that kind of operation fails: after `after`
//! successful reads, writes or flushes (counted since the plan was made),
//! every further one fails, with EIO or "no space", as a dying or full disk
//! does. A failed operation does not reach the wrapped device, so a failed
//! flush leaves it as durable as after its last good flush. The plan is
//! shared: a test can add or clear faults while a file system is mounted
//! on the device (a disk that comes back, space that is freed).

use super::{BlockDevice, BlockError};
use std::cell::RefCell;
use std::rc::Rc;

/// The kinds of operation a plan can fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultOp {
    Read,
    Write,
    Flush,
}

/// One rule: operations of kind `op` fail once `after` of them succeeded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fault {
    pub op: FaultOp,
    pub after: u64,
    /// Fail with [`BlockError::NoSpace`] instead of an I/O error.
    pub no_space: bool,
}

#[derive(Default)]
struct PlanState {
    faults: Vec<Fault>,
    /// Successful operations so far, by `FaultOp as usize`.
    done: [u64; 3],
}

/// The shared, changeable set of faults of one or more devices.
#[derive(Clone, Default)]
pub struct FaultPlan(Rc<RefCell<PlanState>>);

impl FaultPlan {
    /// Parses `OP:N[:ERR],...`: OP is `read`, `write` or `flush`, N the
    /// number of such operations that succeed first, ERR `eio` (default) or
    /// `enospc`. Example: `write:100:enospc,flush:2`.
    pub fn parse(spec: &str) -> Result<FaultPlan, String> {
        let plan = FaultPlan::default();
        for rule in spec.split(',').filter(|r| !r.is_empty()) {
            plan.add(parse_rule(rule)?);
        }
        Ok(plan)
    }

    pub fn add(&self, fault: Fault) {
        self.0.borrow_mut().faults.push(fault);
    }

    /// Removes every fault (the disk is healthy again).
    pub fn clear(&self) {
        self.0.borrow_mut().faults.clear();
    }

    /// Successful operations of kind `op` so far.
    pub fn done(&self, op: FaultOp) -> u64 {
        self.0.borrow().done[op as usize]
    }

    /// The failure for the next `op`, if any; counts it when it succeeds
    /// and `count` is set.
    fn check(&self, op: FaultOp, count: bool) -> Result<(), BlockError> {
        let mut st = self.0.borrow_mut();
        let done = st.done[op as usize];
        if let Some(f) = st.faults.iter().find(|f| f.op == op && done >= f.after) {
            let what = format!("injected {op:?} fault after {} operations", f.after);
            return Err(if f.no_space {
                BlockError::NoSpace(what)
            } else {
                BlockError::Io(what)
            });
        }
        if count {
            st.done[op as usize] += 1;
        }
        Ok(())
    }
}

fn parse_rule(rule: &str) -> Result<Fault, String> {
    let bad = || format!("bad fault rule {rule:?}: want OP:N[:eio|enospc]");
    let mut parts = rule.split(':');
    let op = match parts.next() {
        Some("read") => FaultOp::Read,
        Some("write") => FaultOp::Write,
        Some("flush") => FaultOp::Flush,
        _ => return Err(bad()),
    };
    let after = parts.next().and_then(|n| n.parse().ok()).ok_or_else(bad)?;
    let no_space = match parts.next() {
        None | Some("eio") => false,
        Some("enospc") => true,
        Some(_) => return Err(bad()),
    };
    if parts.next().is_some() {
        return Err(bad());
    }
    Ok(Fault {
        op,
        after,
        no_space,
    })
}

/// A device that fails as its [`FaultPlan`] says.
pub struct FaultyDevice {
    inner: Box<dyn BlockDevice>,
    plan: FaultPlan,
}

impl FaultyDevice {
    pub fn new(inner: Box<dyn BlockDevice>, plan: FaultPlan) -> FaultyDevice {
        FaultyDevice { inner, plan }
    }
}

impl BlockDevice for FaultyDevice {
    fn size(&self) -> u64 {
        self.inner.size()
    }
    fn read_at(&mut self, off: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        self.plan.check(FaultOp::Read, true)?;
        self.inner.read_at(off, buf)
    }
    fn write_at(&mut self, off: u64, buf: &[u8]) -> Result<(), BlockError> {
        self.plan.check(FaultOp::Write, true)?;
        self.inner.write_at(off, buf)
    }
    fn flush(&mut self) -> Result<(), BlockError> {
        self.plan.check(FaultOp::Flush, true)?;
        self.inner.flush()
    }
    /// Refused once writes fail: a full or dead disk has no room either.
    fn reserve(&mut self, ranges: &[(u64, u64)]) -> Result<(), BlockError> {
        self.plan.check(FaultOp::Write, false)?;
        self.inner.reserve(ranges)
    }
    fn discard(&mut self, off: u64, len: u64) -> Result<(), BlockError> {
        self.inner.discard(off, len)
    }
    fn is_read_only(&self) -> bool {
        self.inner.is_read_only()
    }
}

#[cfg(test)]
mod tests {
    use super::super::MemDevice;
    use super::*;

    #[test]
    fn fails_after_n_operations_until_cleared() {
        let plan = FaultPlan::parse("write:2:enospc,flush:0").unwrap();
        let mut d = FaultyDevice::new(Box::new(MemDevice::zeroed(64)), plan.clone());
        d.write_at(0, b"a").unwrap();
        d.reserve(&[(0, 8)]).unwrap();
        d.write_at(1, b"b").unwrap();
        assert!(matches!(d.reserve(&[(0, 8)]), Err(BlockError::NoSpace(_))));
        assert!(matches!(d.write_at(2, b"c"), Err(BlockError::NoSpace(_))));
        assert!(matches!(d.flush(), Err(BlockError::Io(_))));
        let mut b = [0u8; 3];
        d.read_at(0, &mut b).unwrap();
        assert_eq!(&b, b"ab\0", "a failed write must not reach the device");
        plan.clear();
        d.write_at(2, b"c").unwrap();
        d.flush().unwrap();
        assert_eq!(plan.done(FaultOp::Write), 3);
    }

    #[test]
    fn bad_rules_are_refused() {
        for spec in ["read", "write:x", "flush:1:eperm", "trim:1", "read:1:eio:2"] {
            assert!(FaultPlan::parse(spec).is_err(), "{spec}");
        }
        assert!(FaultPlan::parse("read:0").is_ok());
    }
}
