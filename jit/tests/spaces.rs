//! Translations shared between address spaces: a forked child reuses its
//! parent's modules for the frames they share and diverges when it writes;
//! a freed space's page table and frames are reused by a new space with
//! other code. Every operation is mirrored on a reference machine that runs
//! the one-instruction oracle, and states are compared after every run.

mod common;

use common::progs::program;
use common::*;
use wax_cpu::{AddressSpace, Exit, GuestAddr, Machine};
use wax_jit::engine::wasmtime::Wasmtime;
use wax_jit::{Config, Jit};

struct Both {
    jit: Jit<Wasmtime>,
    jm: Machine,
    js: Vec<Option<AddressSpace>>,
    rm: Machine,
    rs: Vec<Option<AddressSpace>>,
    caches: Vec<wax_cpu::DecodeCache>,
}

impl Both {
    fn new() -> Both {
        let (engine, jm) = Wasmtime::new(MEM_BYTES).unwrap();
        // Whole pages translated at once: a module made only of the blocks
        // one space ran would send the other to new entries (and new
        // compiles), which is not what these tests are about.
        let config = Config {
            threshold: 2,
            max_stepped_percent: 100,
            only_code_that_ran: false,
            ..Config::default()
        };
        Both {
            jit: Jit::new(engine, config),
            jm,
            js: Vec::new(),
            rm: Machine::new(MEM_BYTES),
            rs: Vec::new(),
            caches: Vec::new(),
        }
    }

    fn add(&mut self, j: AddressSpace, r: AddressSpace) -> usize {
        self.js.push(Some(j));
        self.rs.push(Some(r));
        self.caches.push(wax_cpu::DecodeCache::new());
        self.js.len() - 1
    }

    fn create(&mut self, st: &Setup) -> usize {
        let mut j = self.jm.new_space().unwrap();
        prepare(&mut self.jm, &mut j, st);
        let mut r = self.rm.new_space().unwrap();
        prepare(&mut self.rm, &mut r, st);
        self.add(j, r)
    }

    fn fork(&mut self, i: usize) -> usize {
        let j = self.jm.fork_space(self.js[i].as_mut().unwrap()).unwrap();
        let r = self.rm.fork_space(self.rs[i].as_mut().unwrap()).unwrap();
        self.add(j, r)
    }

    fn unmap(&mut self, i: usize, at: u32, len: u32) {
        self.jm
            .unmap(self.js[i].as_mut().unwrap(), GuestAddr(at), len);
        self.rm
            .unmap(self.rs[i].as_mut().unwrap(), GuestAddr(at), len);
    }

    fn free(&mut self, i: usize) {
        self.jm.free_space(self.js[i].take().unwrap());
        self.rm.free_space(self.rs[i].take().unwrap());
    }

    fn write(&mut self, i: usize, at: u32, bytes: &[u8]) {
        let js = self.js[i].as_mut().unwrap();
        self.jm.mem(js).write_bytes(GuestAddr(at), bytes).unwrap();
        let rs = self.rs[i].as_mut().unwrap();
        self.rm.mem(rs).write_bytes(GuestAddr(at), bytes).unwrap();
    }

    /// Runs space `i` from the setup's registers (and loop counter) to its
    /// end (system call or fault), in slices, and compares.
    fn run(&mut self, i: usize, st: &Setup, what: &str) {
        self.write(i, DATA + 0x7c, &st.data[0x7c..0x80]);
        for m in [&mut self.jm, &mut self.rm] {
            let cpu = m.cpu();
            *cpu = wax_cpu::CpuState::default();
            cpu.gpr = st.regs;
            cpu.eip = st.code_at;
            cpu.set_eflags(st.eflags);
        }
        let js = self.js[i].as_mut().unwrap();
        let rs = self.rs[i].as_mut().unwrap();
        for _ in 0..1000 {
            let a = self.jit.run(&mut self.jm, js, &mut self.caches[i], 5000);
            let (cpu, mut mem) = self.rm.guest(rs);
            let b = oracle_run(cpu, &mut mem, 5000);
            assert_eq!(a, b, "{what}");
            assert_eq!(
                snapshot(&mut self.jm, js),
                snapshot(&mut self.rm, rs),
                "{what}"
            );
            if a.exit != Exit::BudgetSpent {
                return;
            }
        }
        panic!("{what}: no system call after 5 M instructions");
    }
}

#[test]
fn fork_shares_translations_until_a_side_writes() {
    for seed in 0..12 {
        let st = program(500 + seed, 16, 20);
        let mut b = Both::new();
        let parent = b.create(&st);
        b.run(parent, &st, "parent");
        let compiled = b.jit.stats.modules_compiled;
        assert!(compiled > 0);

        let child = b.fork(parent);
        b.run(child, &st, "child, shared frames");
        assert_eq!(
            b.jit.stats.modules_compiled, compiled,
            "the child reuses the parent's modules"
        );

        // The child patches its copy of the code: copy-on-write gives it
        // a new frame; the parent keeps its code and its modules.
        let nops = [0x90u8; 8];
        b.write(child, st.code_at, &nops);
        let mut patched = st.clone_with_code_prefix(&nops);
        patched.code_at = st.code_at;
        b.run(child, &patched, "child, patched");
        b.run(parent, &st, "parent again");
    }
}

#[test]
fn a_new_space_reusing_tables_and_frames_runs_its_own_code() {
    let mut stale = 0;
    for seed in 0..12 {
        let first = program(700 + seed, 16, 20);
        let mut b = Both::new();
        let a = b.create(&first);
        b.run(a, &first, "first program");
        // Free the code page holding the entry last, so that it is the
        // first frame handed out again.
        b.unmap(a, DATA, STACK + 0x1000 - DATA);
        for page in (0..3).rev() {
            b.unmap(a, CODE + page * 0x1000, 0x1000);
        }
        b.free(a);
        // Same addresses, other code: the table and frames come back from
        // the free lists.
        let mut second = program(900 + seed, 16, 20);
        second.code_at = first.code_at;
        let c = b.create(&second);
        b.run(c, &second, "second program");
        stale += b.jit.stats.adoption_failures;
    }
    // The case this test is about happened: a cached module's frame and
    // page came back holding other code.
    assert!(stale > 0);
}
