//! Shared test harness: the same guest setup on a JIT machine and on a
//! reference machine, and an independent one-instruction-at-a-time oracle
//! built from the interpreter's handlers (it decodes every instruction
//! afresh, so it stops after exactly N instructions and sees every code
//! change).
#![allow(dead_code)]

pub mod asm;
pub mod progs;

use iced_x86::{Decoder, DecoderOptions};
use wax_cpu::interp::{table, Ctx, Decoded};
use wax_cpu::state::LazyFlags;
use wax_cpu::{
    AddressSpace, CpuState, DecodeCache, Exit, GuestAddr, GuestMem, Machine, Prot, RunResult,
};
use wax_jit::engine::wasmtime::{Tuning, Wasmtime};
use wax_jit::{Config, Jit};

pub const CODE: u32 = 0x1_0000;
pub const DATA: u32 = 0x2_0000;
/// Two RW data pages, then an unmapped page, then a read-only one.
pub const DATA_LEN: u32 = 0x2000;
pub const RO_PAGE: u32 = DATA + 0x3000;
pub const STACK: u32 = 0x3_0000;
pub const MEM_BYTES: u64 = 32 << 20;

pub struct Setup {
    pub code: Vec<u8>,
    pub code_at: u32,
    pub regs: [u32; 8],
    pub data: Vec<u8>,
    pub eflags: u32,
}

impl Setup {
    /// The same setup with the first bytes of the code replaced.
    pub fn clone_with_code_prefix(&self, prefix: &[u8]) -> Setup {
        let mut code = self.code.clone();
        code[..prefix.len()].copy_from_slice(prefix);
        Setup {
            code,
            code_at: self.code_at,
            regs: self.regs,
            data: self.data.clone(),
            eflags: self.eflags,
        }
    }
}

pub fn prepare(m: &mut Machine, s: &mut AddressSpace, st: &Setup) {
    m.map(s, GuestAddr(CODE), 0x3000, Prot::RWX, false);
    m.map(s, GuestAddr(DATA), DATA_LEN, Prot::RW, false);
    m.map(s, GuestAddr(RO_PAGE), 0x1000, Prot::READ, false);
    m.map(s, GuestAddr(STACK), 0x1000, Prot::RW, false);
    let mut g = m.mem(s);
    g.write_bytes(GuestAddr(st.code_at), &st.code).unwrap();
    g.write_bytes(GuestAddr(DATA), &st.data).unwrap();
    let cpu = m.cpu();
    cpu.gpr = st.regs;
    cpu.eip = st.code_at;
    cpu.set_eflags(st.eflags);
}

/// Everything a run can change, with flags evaluated.
#[derive(Debug, PartialEq, Eq, Clone)]
pub struct Snap {
    pub cpu: CpuState,
    pub data: Vec<u8>,
    pub stack: Vec<u8>,
    pub code: Vec<u8>,
}

pub fn snapshot(m: &mut Machine, s: &mut AddressSpace) -> Snap {
    let mut cpu = m.cpu().clone();
    cpu.eflags = cpu.eflags();
    cpu.lazy = LazyFlags::default();
    let mut g = m.mem(s);
    let mut data = vec![0; DATA_LEN as usize];
    g.read_bytes(GuestAddr(DATA), &mut data).unwrap();
    let mut stack = vec![0; 0x1000];
    g.read_bytes(GuestAddr(STACK), &mut stack).unwrap();
    let mut code = vec![0; 0x3000];
    g.read_bytes(GuestAddr(CODE), &mut code).unwrap();
    Snap {
        cpu,
        data,
        stack,
        code,
    }
}

/// Runs exactly `budget` instructions (or to an exit), one at a time.
pub fn oracle_run(cpu: &mut CpuState, mem: &mut GuestMem<'_>, budget: u64) -> RunResult {
    let mut executed = 0;
    while executed < budget {
        let mut buf = [0u8; 15];
        let (got, fault) = mem.fetch(GuestAddr(cpu.eip), &mut buf);
        let mut d = Decoder::with_ip(32, &buf[..got], u64::from(cpu.eip), DecoderOptions::NONE);
        let insn = d.decode();
        if d.last_error() == iced_x86::DecoderError::NoMoreBytes {
            return RunResult {
                exit: fault.expect("short fetch without a fault").into(),
                executed,
            };
        }
        let d = Decoded::new(insn, table::handler(&insn));
        cpu.eip = insn.next_ip32();
        executed += 1;
        let mut ctx = Ctx {
            cpu: &mut *cpu,
            mem: &mut *mem,
        };
        if let Err(e) = (d.handler)(&mut ctx, &d) {
            if let Exit::Exception(ex) = e {
                if !ex.is_trap() {
                    cpu.eip = insn.ip32();
                }
            }
            return RunResult { exit: e, executed };
        }
        mem.take_code_changes();
    }
    RunResult {
        exit: Exit::BudgetSpent,
        executed,
    }
}

pub struct JitRig {
    pub jit: Jit<Wasmtime>,
    pub m: Machine,
    pub s: AddressSpace,
    pub cache: DecodeCache,
}

impl JitRig {
    pub fn new(st: &Setup, threshold: u32) -> JitRig {
        let config = Config {
            threshold,
            max_stepped_percent: 100,
            ..Config::default()
        };
        Self::tuned(st, config, Tuning::default())
    }

    pub fn tuned(st: &Setup, config: Config, tuning: Tuning) -> JitRig {
        let (engine, mut m) = Wasmtime::with_tuning(MEM_BYTES, tuning).expect("wasmtime engine");
        let mut s = m.new_space().unwrap();
        prepare(&mut m, &mut s, st);
        JitRig {
            jit: Jit::new(engine, config),
            m,
            s,
            cache: DecodeCache::new(),
        }
    }

    /// Runs one slice, after taking every background compile started by
    /// earlier ones (so what is translated when is the same every run).
    pub fn run(&mut self, budget: u64) -> RunResult {
        self.jit.settle();
        self.jit
            .run(&mut self.m, &mut self.s, &mut self.cache, budget)
    }

    pub fn snap(&mut self) -> Snap {
        snapshot(&mut self.m, &mut self.s)
    }
}

pub struct RefRig {
    pub m: Machine,
    pub s: AddressSpace,
}

impl RefRig {
    pub fn new(st: &Setup) -> RefRig {
        let mut m = Machine::new(MEM_BYTES);
        let mut s = m.new_space().unwrap();
        prepare(&mut m, &mut s, st);
        RefRig { m, s }
    }

    pub fn run(&mut self, budget: u64) -> RunResult {
        let (cpu, mut mem) = self.m.guest(&mut self.s);
        oracle_run(cpu, &mut mem, budget)
    }

    pub fn snap(&mut self) -> Snap {
        snapshot(&mut self.m, &mut self.s)
    }
}

/// Runs both in slices of the given sizes until an exit other than the
/// budget (or `cap` instructions); asserts equal exits, counts and state
/// after every slice. When the program ends (system call or exception),
/// also checks the end state against `interp::run` itself. Returns the
/// last exit and the executor (for its statistics).
pub fn lockstep(
    st: &Setup,
    slices: &[u64],
    cap: u64,
    threshold: u32,
    what: &str,
) -> (RunResult, Jit<Wasmtime>) {
    let config = Config {
        threshold,
        max_stepped_percent: 100,
        ..Config::default()
    };
    lockstep_tuned(st, slices, cap, config, what, Tuning::default())
}

/// [`lockstep`] with compiler settings.
pub fn lockstep_tuned(
    st: &Setup,
    slices: &[u64],
    cap: u64,
    config: Config,
    what: &str,
    tuning: Tuning,
) -> (RunResult, Jit<Wasmtime>) {
    let mut j = JitRig::tuned(st, config, tuning);
    let mut r = RefRig::new(st);
    let mut total = 0;
    let mut last = None;
    for (i, &b) in slices.iter().cycle().enumerate() {
        let rj = j.run(b);
        let rr = r.run(b);
        let (sj, sr) = (j.snap(), r.snap());
        if rj != rr || sj != sr {
            report(what, i, &rj, &rr, &sj, &sr);
        }
        total += rr.executed;
        last = Some(rr);
        if rr.exit != Exit::BudgetSpent || total >= cap {
            break;
        }
    }
    let last = last.expect("at least one slice");
    if last.exit != Exit::BudgetSpent {
        let mut i = RefRig::new(st);
        let (cpu, mut mem) = i.m.guest(&mut i.s);
        let ri = wax_cpu::interp::run(cpu, &mut mem, &mut DecodeCache::new(), u64::MAX);
        assert_eq!(
            ri.exit, last.exit,
            "{what}: interp::run disagrees with the oracle"
        );
        assert_eq!(ri.executed, total, "{what}: interp::run count");
        assert_eq!(i.snap(), j.snap(), "{what}: interp::run end state");
    }
    (last, j.jit)
}

fn report(what: &str, slice: usize, rj: &RunResult, rr: &RunResult, sj: &Snap, sr: &Snap) -> ! {
    let mut msg = format!("{what}: slice {slice}: jit {rj:?} vs interp {rr:?}\n");
    if sj.cpu != sr.cpu {
        msg += &format!(
            "jit cpu    {:x?} eip {:#x} eflags {:#x}\n",
            sj.cpu.gpr, sj.cpu.eip, sj.cpu.eflags
        );
        msg += &format!(
            "interp cpu {:x?} eip {:#x} eflags {:#x}\n",
            sr.cpu.gpr, sr.cpu.eip, sr.cpu.eflags
        );
    }
    for (name, a, b, base) in [
        ("data", &sj.data, &sr.data, DATA),
        ("stack", &sj.stack, &sr.stack, STACK),
        ("code", &sj.code, &sr.code, CODE),
    ] {
        if let Some(i) = (0..a.len()).find(|&i| a[i] != b[i]) {
            msg += &format!(
                "{name} differs at {:#x}: jit {:#x} interp {:#x}\n",
                base + i as u32,
                a[i],
                b[i]
            );
        }
    }
    panic!("{msg}");
}
