//! Translations shared between address spaces: a forked child reuses its
//! parent's modules for the frames they share and diverges when it writes;
//! a freed space's page table and frames are reused by a new space with
//! other code. Every operation is mirrored on a reference machine that runs
//! the one-instruction oracle, and states are compared after every run.

mod common;

use common::progs::program;
use common::*;
use wax_cpu::{AddressSpace, Exit, GuestAddr, Machine, Prot};
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

    /// Maps the frame behind space `from`'s page at `page` into space `to`
    /// at `at` as well, shared and writable (on both machines).
    fn share(&mut self, from: usize, page: u32, to: usize, at: u32) {
        for (m, spaces) in [(&mut self.jm, &mut self.js), (&mut self.rm, &mut self.rs)] {
            let frame = m
                .frame_of(spaces[from].as_ref().unwrap(), GuestAddr(page))
                .unwrap();
            m.map_frame(
                spaces[to].as_mut().unwrap(),
                GuestAddr(at),
                frame,
                Prot::RWX,
                true,
            );
        }
    }

    /// Takes space `i`'s list of changed code pages behind the JIT's back,
    /// as the kernel's single-step does (`wax_cpu::step`, which drops the
    /// decoded blocks of those pages).
    fn take_changes(&mut self, i: usize) {
        let pages = self.js[i].as_mut().unwrap().take_code_changes();
        self.caches[i].invalidate_pages(&pages);
        self.rs[i].as_mut().unwrap().take_code_changes();
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

/// Where `share` maps a code frame a second time.
const ALIAS: u32 = 0x5_0000;

/// Space `a` runs its code (twice, so that a module's check could carry
/// over from one `run` call to the next), then `between` runs, then
/// `writer` writes its first bytes through `at` (without `a` being told),
/// and `a` runs the new code.
///
/// The interpreter's decoded blocks of `a` are dropped by hand: the decode
/// cache is not told of such writes either (with either engine), and this
/// is about the modules.
fn patched_behind_its_back(
    b: &mut Both,
    st: &Setup,
    a: usize,
    between: impl FnOnce(&mut Both),
    writer: usize,
    at: u32,
) {
    b.run(a, st, "before");
    b.run(a, st, "again");
    assert!(b.jit.stats.modules_compiled > 0);
    between(b);
    let failures = b.jit.stats.adoption_failures;
    let nops = [0x90u8; 8];
    b.write(writer, at, &nops);
    b.caches[a].invalidate_pages(&[st.code_at >> 12]);
    let patched = st.clone_with_code_prefix(&nops);
    b.run(a, &patched, "patched");
    assert!(
        b.jit.stats.adoption_failures > failures,
        "the page comparison caught the write"
    );
}

#[test]
fn a_write_through_another_space_to_a_shared_frame_is_seen() {
    for seed in 0..6 {
        let st = program(1100 + seed, 16, 20);
        let mut b = Both::new();
        let a = b.create(&st);
        let other = b.create(&st);
        let page = st.code_at & !0xfff;
        b.share(a, page, other, ALIAS);
        let at = ALIAS + (st.code_at & 0xfff);
        patched_behind_its_back(&mut b, &st, a, |_| {}, other, at);
    }
}

#[test]
fn a_write_through_a_second_mapping_in_the_same_space_is_seen() {
    for seed in 0..6 {
        let st = program(1200 + seed, 16, 20);
        let mut b = Both::new();
        let a = b.create(&st);
        let page = st.code_at & !0xfff;
        b.share(a, page, a, ALIAS);
        let at = ALIAS + (st.code_at & 0xfff);
        patched_behind_its_back(&mut b, &st, a, |_| {}, a, at);
    }
}

#[test]
fn code_changes_taken_by_someone_else_are_seen() {
    for seed in 0..6 {
        let st = program(1300 + seed, 16, 20);
        let mut b = Both::new();
        let a = b.create(&st);
        b.run(a, &st, "before");
        b.run(a, &st, "again");
        let failures = b.jit.stats.adoption_failures;
        let nops = [0x90u8; 8];
        b.write(a, st.code_at, &nops);
        b.take_changes(a);
        let patched = st.clone_with_code_prefix(&nops);
        b.run(a, &patched, "patched");
        assert!(b.jit.stats.adoption_failures > failures);
    }
}

/// At most one page comparison per module compiled.
fn assert_compared_once(s: &wax_jit::Stats) {
    assert!(
        s.adoption_checks <= s.modules_compiled,
        "{} comparisons for {} modules",
        s.adoption_checks,
        s.modules_compiled
    );
}

#[test]
fn a_private_page_is_compared_once_across_run_calls() {
    let st = program(1400, 16, 20);
    let mut b = Both::new();
    let a = b.create(&st);
    for _ in 0..4 {
        b.run(a, &st, "private");
    }
    let s = b.jit.stats;
    assert!(s.calls > 0);
    // One comparison per module after its compile, not one per `run`
    // call (each `Both::run` is many calls of 5000 instructions).
    assert_compared_once(&s);
}

#[test]
fn spaces_taking_turns_keep_their_checks() {
    let first = program(1500, 16, 20);
    let mut second = program(1501, 16, 20);
    second.code_at = first.code_at;
    let mut b = Both::new();
    let a = b.create(&first);
    let c = b.create(&second);
    for _ in 0..4 {
        b.run(a, &first, "first space");
        b.run(c, &second, "second space");
    }
    let s = b.jit.stats;
    assert!(s.spaces_resumed > 0, "no space went on with its checks");
    // And with its links (each run is compared with the oracle above).
    assert!(s.links_resumed > 0, "no space got its links back");
    // Each space's private pages are compared once, not once per turn:
    // the other space cannot have written them.
    assert_compared_once(&s);
}

#[test]
fn a_frame_shared_while_its_space_waited_and_written_is_seen() {
    for seed in 0..6 {
        let st = program(1600 + seed, 16, 20);
        let mut b = Both::new();
        let a = b.create(&st);
        let other = b.create(&st);
        // Another space runs, then gets a's code frame mapped writable and
        // writes it; a's earlier checks must not carry over.
        let between = |b: &mut Both| {
            b.run(other, &st, "the other space");
            b.share(a, st.code_at & !0xfff, other, ALIAS);
        };
        let at = ALIAS + (st.code_at & 0xfff);
        patched_behind_its_back(&mut b, &st, a, between, other, at);
    }
}

#[test]
fn a_new_space_with_the_same_code_takes_its_twin_modules() {
    for seed in 0..6 {
        let st = program(1700 + seed, 16, 20);
        let mut b = Both::new();
        let a = b.create(&st);
        b.run(a, &st, "first process");
        let compiled = b.jit.stats.modules_compiled;
        assert!(compiled > 0);
        // Same code at the same address in frames of its own, as a second
        // process of one program has.
        let c = b.create(&st);
        b.run(c, &st, "second process");
        assert!(b.jit.stats.twins_adopted > 0, "no module was shared");
        assert_eq!(b.jit.stats.modules_compiled, compiled, "compiled again");
        // Other code at the same address shares nothing and runs its own.
        let mut other = program(1800 + seed, 16, 20);
        other.code_at = st.code_at;
        let twins = b.jit.stats.twins_adopted;
        let d = b.create(&other);
        b.run(d, &other, "other program");
        assert_eq!(b.jit.stats.twins_adopted, twins, "a twin of other code");
        b.run(a, &st, "first process again");
    }
}
