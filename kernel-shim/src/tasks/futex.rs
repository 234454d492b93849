//! Futexes: parked threads keyed by (process, address).
//!
//! A waiter is a thread in `Wait::Futex { addr, bitset, .. }`; there is no
//! separate queue: waking scans the thread table in slot order, so the
//! order is deterministic (Linux wakes by priority, then FIFO; nothing
//! portable may rely on either). Keys are per process, so private and
//! "shared" futexes behave alike within a process; a wake at an address
//! in a MAP_SHARED mapping also reaches other processes' waiters at the
//! same place of the same memory (`Vma::shared_key`). FUTEX_REQUEUE stays
//! within the process.
//!
//! A wake hands the CPU on: the waker's time slice ends at once, so the
//! woken thread runs in this round of the scheduler, not after up to a
//! slice of the waker's work. Linux gets there by running the woken thread
//! on another CPU, or on the same one by wakeup preemption (a thread that
//! slept has run less than the waker). Without it, a lock that the waker
//! gives up and takes back within its slice is never seen free: CPython's
//! GIL, released around each `signal.raise_signal` by a thread raising
//! signals in a loop, stayed out of the main thread's reach for good
//! (`test_signal`'s `test_stress_modifying_handlers` hung).

use crate::kernel::Kernel;
use crate::tasks::process::{ThreadState, Wait};
use wax_cpu::GuestAddr;

/// FUTEX_WAITERS / FUTEX_OWNER_DIED / FUTEX_TID_MASK (robust mutexes).
const FUTEX_WAITERS: u32 = 0x8000_0000;
const FUTEX_OWNER_DIED: u32 = 0x4000_0000;
const FUTEX_TID_MASK: u32 = 0x3fff_ffff;
/// Longest robust list walked (ROBUST_LIST_LIMIT).
const ROBUST_LIST_LIMIT: u32 = 2048;

impl Kernel {
    /// Threads of process slot `p` waiting on `addr` whose bitset meets
    /// `bitset`. `private`: the caller's FUTEX_PRIVATE_FLAG.
    fn futex_waiters(&self, p: usize, addr: u32, bitset: u32, private: bool) -> Vec<usize> {
        // A shared futex in a MAP_SHARED mapping is keyed by the memory
        // (it matches waiters of other processes at the same place of the
        // same memory); a private one, or one elsewhere, by (process,
        // address). Like Linux, a private wake does not reach a shared
        // waiter in a MAP_SHARED mapping, nor the reverse.
        let key = |p: usize, a: u32| self.tasks.proc(p).mm.find(a).and_then(|v| v.shared_key(a));
        let shared = key(p, addr);
        (0..self.tasks.thread_slots())
            .filter(|&t| {
                let th = self.tasks.thread(t);
                let ThreadState::Waiting(Wait::Futex {
                    addr: a,
                    bitset: b,
                    private: wp,
                    ..
                }) = th.state
                else {
                    return false;
                };
                let same = match shared {
                    Some(_) if wp != private => false,
                    Some(_) if !private => key(th.process, a) == shared,
                    _ => th.process == p && a == addr,
                };
                same && b & bitset != 0
            })
            .collect()
    }

    /// Wakes up to `n` waiters; returns how many.
    pub(crate) fn futex_wake(
        &mut self,
        p: usize,
        addr: u32,
        n: u32,
        bitset: u32,
        private: bool,
    ) -> u32 {
        let mut woken = 0;
        for t in self.futex_waiters(p, addr, bitset, private) {
            if woken >= n {
                break;
            }
            self.wake_with(t, 0);
            woken += 1;
        }
        if woken > 0 {
            self.yield_to_woken();
        }
        woken
    }

    /// Ends the running thread's slice after it woke another thread (see
    /// the module's doc).
    fn yield_to_woken(&mut self) {
        self.thread().slice = 0;
    }

    /// Wakes `n` waiters of `from` and moves up to `requeue` others to
    /// `to`; returns woken + moved.
    pub(crate) fn futex_requeue(
        &mut self,
        p: usize,
        from: u32,
        to: u32,
        n: u32,
        requeue: u32,
        private: bool,
    ) -> u32 {
        let waiters = self.futex_waiters(p, from, u32::MAX, private);
        let mut done = 0;
        for (i, t) in waiters.into_iter().enumerate() {
            if (i as u32) < n {
                self.wake_with(t, 0);
            } else if (i as u32) < n.saturating_add(requeue) {
                if let ThreadState::Waiting(Wait::Futex { addr, .. }) =
                    &mut self.tasks.thread_mut(t).state
                {
                    *addr = to;
                }
            } else {
                break;
            }
            done += 1;
        }
        if done.min(n) > 0 {
            self.yield_to_woken();
        }
        done
    }

    /// Thread exit: the robust list (owner-died marking) and
    /// clear_child_tid (store 0, wake one waiter).
    pub(crate) fn futex_exit(&mut self, t: usize) {
        let p = self.tasks.thread(t).process;
        let tid = self.tasks.thread(t).tid;
        let (head, _) = self.tasks.thread(t).robust_list;
        if head != 0 {
            for addr in self.robust_futexes(p, head) {
                self.futex_owner_died(p, addr, tid);
            }
        }
        let ctid = self.tasks.thread(t).clear_child_tid;
        if ctid != 0 {
            let mut m = self.machine.mem(&mut self.tasks.proc_mut(p).space);
            if m.write_u32(GuestAddr(ctid), 0).is_ok() {
                self.futex_wake(p, ctid, 1, u32::MAX, false);
            }
        }
    }

    /// The futex words of a robust list (`struct robust_list_head`: next,
    /// futex_offset, list_op_pending).
    fn robust_futexes(&mut self, p: usize, head: u32) -> Vec<u32> {
        let mut m = self.machine.mem(&mut self.tasks.proc_mut(p).space);
        let read = |m: &mut wax_cpu::GuestMem<'_>, a: u32| m.read_u32(GuestAddr(a)).ok();
        let (Some(mut entry), Some(offset), Some(pending)) = (
            read(&mut m, head),
            read(&mut m, head + 4),
            read(&mut m, head + 8),
        ) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut n = 0;
        while entry & !1 != head && entry != 0 && n < ROBUST_LIST_LIMIT {
            let e = entry & !1;
            if e != pending & !1 {
                out.push(e.wrapping_add(offset));
            }
            match read(&mut m, e) {
                Some(next) => entry = next,
                None => break,
            }
            n += 1;
        }
        if pending & !1 != 0 {
            out.push((pending & !1).wrapping_add(offset));
        }
        out
    }

    /// `handle_futex_death`: a lock the dead thread held is marked
    /// FUTEX_OWNER_DIED and a waiter is woken.
    fn futex_owner_died(&mut self, p: usize, addr: u32, tid: u32) {
        let mut m = self.machine.mem(&mut self.tasks.proc_mut(p).space);
        let Ok(val) = m.read_u32(GuestAddr(addr)) else {
            return;
        };
        if val & FUTEX_TID_MASK != tid {
            return;
        }
        let new = (val & FUTEX_WAITERS) | FUTEX_OWNER_DIED;
        if m.write_u32(GuestAddr(addr), new).is_ok() && val & FUTEX_WAITERS != 0 {
            self.futex_wake(p, addr, 1, u32::MAX, false);
        }
    }
}

/// FUTEX_WAKE_OP: the new value of `*uaddr2` and whether the waiters of
/// uaddr2 are woken, from the encoded `op` and the old value.
pub fn wake_op(op: u32, old: u32) -> Option<(u32, bool)> {
    let kind = (op >> 28) & 7;
    let cmp = (op >> 24) & 15;
    let mut oparg = (op << 8) as i32 >> 20;
    let cmparg = (op << 20) as i32 >> 20;
    if op & (8 << 28) != 0 {
        // FUTEX_OP_OPARG_SHIFT: the argument is a shift count.
        oparg = 1i32.wrapping_shl(oparg as u32 & 31);
    }
    let arg = oparg as u32;
    let new = match kind {
        0 => arg,
        1 => old.wrapping_add(arg),
        2 => old | arg,
        3 => old & !arg,
        4 => old ^ arg,
        _ => return None,
    };
    let o = old as i32;
    let hit = match cmp {
        0 => o == cmparg,
        1 => o != cmparg,
        2 => o < cmparg,
        3 => o <= cmparg,
        4 => o > cmparg,
        5 => o >= cmparg,
        _ => return None,
    };
    Some((new, hit))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::tests::boot;
    use crate::{ExitStatus, RunStatus};
    use std::cell::RefCell;
    use std::rc::Rc;
    use wax_devices::MemStream;

    /// The main thread clones a thread and parks on a futex; the thread
    /// wakes it, then counts in a loop forever. The main thread must run
    /// before the loop's first step (exit 0, the futex's result), not
    /// after the rest of the waker's slice (99: the count had moved).
    #[test]
    fn a_woken_thread_runs_before_its_waker_goes_on() {
        #[rustfmt::skip]
        let code = [
            0x89, 0xe5, // mov ebp, esp
            0x81, 0xed, 0x00, 0x01, 0x00, 0x00, // sub ebp, 256: [ebp] word, [ebp+4] count
            0xc7, 0x45, 0x00, 0, 0, 0, 0, // mov dword [ebp], 0
            0xc7, 0x45, 0x04, 0, 0, 0, 0, // mov dword [ebp+4], 0
            0xb8, 120, 0, 0, 0, // mov eax, clone
            0xbb, 0x00, 0x0f, 0x01, 0x00, // mov ebx, VM|FS|FILES|SIGHAND|THREAD
            0x8d, 0x8d, 0x00, 0xf8, 0xff, 0xff, // lea ecx, [ebp-2048]: its stack
            0x31, 0xd2, 0x31, 0xf6, 0x31, 0xff, // xor edx, esi, edi
            0xcd, 0x80, // int 0x80
            0x85, 0xc0, // test eax, eax
            0x74, 0x23, // jz child
            0xb8, 240, 0, 0, 0, // mov eax, futex
            0x89, 0xeb, // mov ebx, ebp
            0x31, 0xc9, 0x31, 0xd2, 0x31, 0xf6, // FUTEX_WAIT, val 0, no timeout
            0xcd, 0x80, // int 0x80
            0x89, 0xc3, // mov ebx, eax
            0xb8, 252, 0, 0, 0, // mov eax, exit_group
            0x83, 0x7d, 0x04, 0x00, // cmp dword [ebp+4], 0
            0x74, 0x05, // je done
            0xbb, 99, 0, 0, 0, // mov ebx, 99
            0xcd, 0x80, // done: int 0x80
            0xc7, 0x45, 0x00, 1, 0, 0, 0, // child: mov dword [ebp], 1
            0xb8, 240, 0, 0, 0, // mov eax, futex
            0x89, 0xeb, // mov ebx, ebp
            0xb9, 1, 0, 0, 0, // mov ecx, FUTEX_WAKE
            0xba, 1, 0, 0, 0, // mov edx, 1
            0xcd, 0x80, // int 0x80
            0xff, 0x45, 0x04, // spin: inc dword [ebp+4]
            0xeb, 0xfb, // jmp spin
        ];
        let stream = || Rc::new(RefCell::new(MemStream::default()));
        let mut k = boot(&code, stream(), stream());
        assert_eq!(k.run(10_000_000), RunStatus::Exited(ExitStatus::Exited(0)));
    }

    /// FUTEX_OP(FUTEX_OP_SET, 0, FUTEX_OP_CMP_GT, 1) as glibc's
    /// pthread_cond_signal once used it.
    #[test]
    fn decodes_wake_op() {
        let op = (4 << 24) | 1;
        assert_eq!(wake_op(op, 2), Some((0, true)));
        assert_eq!(wake_op(op, 1), Some((0, false)));
        // ADD 5, CMP_EQ -1 (sign-extended 12-bit fields).
        let op = (1 << 28) | (5 << 12) | 0xfff;
        assert_eq!(wake_op(op, u32::MAX), Some((4, true)));
        // OPARG_SHIFT: OR (1 << 3).
        let op = (10 << 28) | (3 << 12);
        assert_eq!(wake_op(op, 0), Some((8, true)));
        assert_eq!(wake_op(7 << 28, 0), None);
    }
}
