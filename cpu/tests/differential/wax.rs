//! The interpreter side: the same pages at the same addresses in one
//! reused `Machine`; the code page's successor is unmapped, so running off
//! the end of a case is an instruction fetch fault at `CODE_END`.

use super::case::*;
use wax_cpu::mem::Access;
use wax_cpu::{AddressSpace, DecodeCache, Exception, Exit, GuestAddr, Machine, Prot};

/// Instructions a case may run (the longest generated loop needs ~30).
const BUDGET: u64 = 10_000;

/// Pseudo signal numbers for exits no signal describes.
pub const SIG_SYSCALL: u32 = 1000;
pub const SIG_BUDGET: u32 = 1001;
/// The interpreter panicked; `Outcome::addr` indexes `panic_message`.
pub const SIG_PANIC: u32 = 1002;

/// Linux si_code values the kernel reports for these exceptions.
const SEGV_MAPERR: u32 = 1;
const SEGV_ACCERR: u32 = 2;
const SI_KERNEL: u32 = 0x80;
const FPE_INTDIV: u32 = 1;
const ILL_ILLOPN: u32 = 2;
const TRAP_BRKPT: u32 = 1;

const AREA_LEN: usize = (DATA_LEN + STACK_LEN) as usize;

pub struct Wax {
    pub machine: Machine,
    pub space: AddressSpace,
    pub cache: DecodeCache,
    initial: Vec<u8>,
    now: Vec<u8>,
    /// The windows `prepare` loaded: (area offset, bytes).
    windows: Vec<(u32, Vec<u8>)>,
}

impl Wax {
    pub fn new() -> Wax {
        let mut machine = Machine::new(32 << 20);
        let mut space = machine.new_space().expect("address space");
        let m = &mut machine;
        m.map(&mut space, GuestAddr(CODE_PAGE), 0x1000, Prot::RWX, false);
        m.map(&mut space, GuestAddr(DATA), DATA_LEN, Prot::RW, false);
        m.map(&mut space, GuestAddr(RO), 0x1000, Prot::RW, false);
        let ro: Vec<u8> = (0..0x1000).map(ro_byte).collect();
        m.mem(&mut space)
            .write_bytes(GuestAddr(RO), &ro)
            .expect("fill");
        assert!(m.protect(&mut space, GuestAddr(RO), 0x1000, Prot::READ));
        m.map(&mut space, GuestAddr(STACK), STACK_LEN, Prot::RW, false);
        Wax {
            machine,
            space,
            cache: DecodeCache::new(),
            initial: vec![0; AREA_LEN],
            now: vec![0; AREA_LEN],
            windows: Vec::new(),
        }
    }

    /// Like `run`, but a panic in the interpreter becomes an outcome (and
    /// the machine is rebuilt, its state being unknown).
    pub fn run_guarded(&mut self, case: &Case) -> Outcome {
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.run(case)));
        result.unwrap_or_else(|_| {
            *self = Wax::new();
            let mut o = outcome(Exit::BudgetSpent, 0);
            o.signo = SIG_PANIC;
            o
        })
    }

    /// Runs one case from a clean state and restores the areas afterwards.
    pub fn run(&mut self, case: &Case) -> Outcome {
        self.prepare(case);
        let (cpu, mut mem) = self.machine.guest(&mut self.space);
        // The rest of the code page is zero, as in the host runner (the
        // taint tracer fills it with INT3s; a case may read it).
        mem.fill(GuestAddr(CODE_PAGE), 0x1000 - case.code.len(), 0)
            .expect("code page");
        mem.write_bytes(GuestAddr(case.entry()), &case.code)
            .expect("code");
        let exit = wax_cpu::run(cpu, &mut mem, &mut self.cache, BUDGET).exit;
        let mut out = outcome(exit, cpu.eip);
        out.regs = cpu.gpr;
        out.eflags = cpu.eflags();
        out.diff = self.reset_areas();
        out
    }

    /// Loads a case's registers, flags and memory windows.
    pub fn prepare(&mut self, case: &Case) {
        self.windows = vec![
            (u32::from(case.data.off), case.data.bytes.clone()),
            (
                DATA_LEN + u32::from(case.stack.off),
                case.stack.bytes.clone(),
            ),
        ];
        let (cpu, mut mem) = self.machine.guest(&mut self.space);
        for (off, bytes) in &self.windows {
            self.initial[*off as usize..*off as usize + bytes.len()].copy_from_slice(bytes);
            mem.write_bytes(GuestAddr(area_addr(*off)), bytes)
                .expect("window");
        }
        cpu.gpr = case.regs;
        cpu.eip = case.entry();
        cpu.set_eflags(case.eflags);
    }

    /// The bytes of the areas that changed since `prepare` (offset << 8 |
    /// new value); sets the areas back to all zero.
    pub fn reset_areas(&mut self) -> Vec<u32> {
        let (_, mut mem) = self.machine.guest(&mut self.space);
        mem.read_bytes(GuestAddr(DATA), &mut self.now[..DATA_LEN as usize])
            .expect("data");
        mem.read_bytes(GuestAddr(STACK), &mut self.now[DATA_LEN as usize..])
            .expect("stack");
        let mut diff = Vec::new();
        for (i, (now, was)) in self.now.iter().zip(&self.initial).enumerate() {
            if now != was {
                diff.push((i as u32) << 8 | u32::from(*now));
            }
        }
        for &d in &diff {
            mem.write_bytes(GuestAddr(area_addr(d >> 8)), &[0])
                .expect("reset");
        }
        for (off, bytes) in std::mem::take(&mut self.windows) {
            self.initial[off as usize..off as usize + bytes.len()].fill(0);
            mem.fill(GuestAddr(area_addr(off)), bytes.len(), 0)
                .expect("reset");
        }
        diff
    }
}

/// The signal Linux would deliver for an exit, as the runner reports it.
fn outcome(exit: Exit, eip: u32) -> Outcome {
    let (signo, code, addr) = match exit {
        Exit::Exception(Exception::PageFault(f)) => {
            if f.access == Access::Exec && f.addr.0 == CODE_END && eip == CODE_END {
                (0, 0, 0)
            } else {
                let code = if f.protection {
                    SEGV_ACCERR
                } else {
                    SEGV_MAPERR
                };
                (11, code, f.addr.0)
            }
        }
        Exit::Exception(e) => match e {
            Exception::DivideError => (8, FPE_INTDIV, eip),
            Exception::InvalidOpcode => (4, ILL_ILLOPN, eip),
            Exception::Breakpoint => (5, SI_KERNEL, 0),
            Exception::GeneralProtection
            | Exception::GeneralProtectionCode(_)
            | Exception::Overflow
            | Exception::BoundRange => (11, SI_KERNEL, 0),
            Exception::Debug => (5, TRAP_BRKPT, eip),
            Exception::FloatingPoint | Exception::SimdFloatingPoint => (8, 0, eip),
            Exception::PageFault(_) => unreachable!("handled above"),
        },
        Exit::Syscall => (SIG_SYSCALL, 0, 0),
        Exit::BudgetSpent | Exit::Rdtsc | Exit::SingleStep => (SIG_BUDGET, 0, 0),
    };
    Outcome {
        signo,
        code,
        addr,
        eip,
        regs: [0; 8],
        eflags: 0,
        diff: Vec::new(),
    }
}

thread_local! {
    static LAST_PANIC: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

/// The message of the last interpreter panic on this thread.
pub fn last_panic() -> String {
    LAST_PANIC.with(|p| p.borrow().clone())
}

/// Replaces the panic hook while cases run, so a panicking handler is
/// recorded for its mismatch report instead of printed for every case.
pub struct QuietPanics;

impl QuietPanics {
    pub fn install() -> QuietPanics {
        std::panic::set_hook(Box::new(|info| {
            let at = info
                .location()
                .map(|l| format!(" at {l}"))
                .unwrap_or_default();
            let msg = match info.payload().downcast_ref::<&str>() {
                Some(s) => s.to_string(),
                None => info
                    .payload()
                    .downcast_ref::<String>()
                    .cloned()
                    .unwrap_or_default(),
            };
            LAST_PANIC.with(|p| *p.borrow_mut() = format!("{msg}{at}"));
        }));
        QuietPanics
    }
}

impl Drop for QuietPanics {
    fn drop(&mut self) {
        let _ = std::panic::take_hook();
    }
}
