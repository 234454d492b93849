//! A tiny guest for instruction unit tests: code at 0x1000 (ending in
//! `int 0x80`, so a run stops with `Exit::Syscall`), 64 KiB of data at
//! 0x10000 and a stack page below 0x30000 (nothing mapped under it).

use crate::exit::Exit;
use crate::interp::{run, DecodeCache};
use crate::mem::{AddressSpace, GuestMem, Machine, Prot};
use crate::state::{reg, CpuState};
use crate::GuestAddr;

pub const CODE: u32 = 0x1000;
pub const DATA: u32 = 0x10000;
pub const DATA_LEN: u32 = 0x10000;
pub const STACK_TOP: u32 = 0x30000;

pub struct Vm {
    machine: Machine,
    space: AddressSpace,
    cache: DecodeCache,
}

impl Vm {
    /// Loads `code` followed by `int 0x80`.
    pub fn new(code: &[u8]) -> Vm {
        let mut machine = Machine::new(16 << 20);
        let mut space = machine.new_space().unwrap();
        machine.map(&mut space, GuestAddr(CODE), 0x1000, Prot::RWX, false);
        machine.map(&mut space, GuestAddr(DATA), DATA_LEN, Prot::RW, false);
        machine.map(
            &mut space,
            GuestAddr(STACK_TOP - 0x1000),
            0x1000,
            Prot::RW,
            false,
        );
        let mut bytes = code.to_vec();
        bytes.extend([0xcd, 0x80]);
        machine
            .mem(&mut space)
            .write_bytes(GuestAddr(CODE), &bytes)
            .unwrap();
        let cpu = machine.cpu();
        cpu.eip = CODE;
        cpu.gpr[reg::ESP] = STACK_TOP;
        Vm {
            machine,
            space,
            cache: DecodeCache::new(),
        }
    }

    pub fn cpu(&mut self) -> &mut CpuState {
        self.machine.cpu()
    }

    pub fn mem(&mut self) -> GuestMem<'_> {
        self.machine.mem(&mut self.space)
    }

    /// Changes the protection of a page-aligned range.
    pub fn protect(&mut self, start: u32, len: u32, prot: Prot) {
        assert!(self
            .machine
            .protect(&mut self.space, GuestAddr(start), len, prot));
    }

    /// Runs until the closing `int 0x80` or an exception.
    pub fn run(&mut self) -> Exit {
        let (cpu, mut mem) = self.machine.guest(&mut self.space);
        run(cpu, &mut mem, &mut self.cache, 1 << 20).exit
    }

    /// Runs at most `budget` instructions.
    pub fn run_budget(&mut self, budget: u64) -> crate::interp::RunResult {
        let (cpu, mut mem) = self.machine.guest(&mut self.space);
        run(cpu, &mut mem, &mut self.cache, budget)
    }

    /// Executes one single-step unit (`interp::step`).
    pub fn step(&mut self) -> Exit {
        let (cpu, mut mem) = self.machine.guest(&mut self.space);
        super::super::step(cpu, &mut mem, &mut self.cache).exit
    }
}
