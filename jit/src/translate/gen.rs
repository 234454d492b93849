//! Code generation for one page: the `run` function's dispatcher, block
//! entries and exits. Operands are in `operands.rs`, flags in `flags.rs`,
//! instructions in `insns.rs`.
//!
//! Invariants every emitted path keeps:
//! - Guest registers live in locals `R0..R7`; CpuState is written back at
//!   every exit and before every interpreter step, and reloaded after.
//! - The lazy-flag record is the interpreter's, in CpuState between
//!   blocks; a producer sets it in locals `LOP..LB`, which every way out
//!   of its block stores ([`Gen::lazy_get`]), so an exit never has flags
//!   to compute and the locals are never live across blocks.
//!   Where the producer is in sight ([`Fs::Pending`]) its op and size are
//!   known here, and conditions are computed from its operands directly.
//!   Flags nobody can read are not recorded at all (see `cfg.rs`).
//! - A block checks on entry that the budget covers it and charges its
//!   whole length. An instruction that leaves early refunds what did not
//!   run; for the shared exits (budget, slow path) the executor does it,
//!   from the block index (`Control::block`) and EIP.
//! - Every memory access takes its fast-path check before the instruction
//!   changes anything; if one fails, translated code leaves before the
//!   instruction (exit `Slow`) and the interpreter runs it: faults,
//!   first touch, copy-on-write, page crossing and stores into watched
//!   code are all handled there, exactly.

use super::cfg::{Block, Cfg, Insn};
use super::emit::{local as l, mem, Emitter, Label};
use super::plan::Plan;
use iced_x86::{FlowControl, Instruction};
use wasm_encoder::Instruction as I;
use wax_cpu::abi::{cpu, ctl, link, pte, ExitCode, LazyOp, CONTROL, LINKS, LINK_HASH, LINK_SHIFT};

/// Set in the block index of a slow exit (`Control::block`) that a reused
/// page lookup took (`operands.rs`): the executor counts them.
pub const REUSE_MISS: u32 = 1 << 31;

/// Most return sites a RET compares its target with before leaving.
const MAX_RETURN_SITES: usize = 8;

/// Index of the `step` import: runs one instruction in the interpreter.
pub const FN_STEP: u32 = 0;
/// Index of the `flags` import: evaluates a lazy-flag record to EFLAGS.
pub const FN_FLAGS: u32 = 1;
/// Index of the `fpu` import: runs one x87 instruction (`crate::x87`).
pub const FN_FPU: u32 = 2;
/// Index of `run`, the module's one export.
pub const FN_RUN: u32 = 3;
/// Type index of `run(block, slot) -> exit code`, also `fpu(op, ea) -> code`.
pub const TYPE_RUN: u32 = 2;

/// What the translator knows about the flags at the current point.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fs {
    /// Only the runtime record says.
    Unknown,
    /// The record was written by a producer of this op and size.
    Pending(LazyOp, u32),
    /// The record's op is None: `CpuState::eflags` holds the status flags
    /// (after an eagerly evaluated producer, like a shift).
    Eager,
}

/// Where an exit finds the EIP to store.
#[derive(Clone, Copy)]
pub enum Eip {
    Const(u32),
    Local(u32),
    /// Already in CpuState (an interpreter step set it).
    Cpu,
}

/// Which exit code an exit stores.
#[derive(Clone, Copy)]
pub enum Code {
    Const(ExitCode),
    Local(u32),
}

pub struct Stats {
    pub insns: usize,
    pub stepped: usize,
    /// The x87 fast paths called `mul64`/`divsig`/`sqrtsig`: the module
    /// carries them (and does whenever it carries SHA functions, which
    /// follow them).
    pub wide_arith: bool,
    /// The SHA functions the module carries, in function index order
    /// after the x87 ones (`sse/sha.rs`).
    pub sha: Vec<super::sse::sha::ShaFn>,
}

pub struct Gen<'a> {
    pub(super) e: Emitter,
    cfg: &'a Cfg,
    pub(super) flags: Fs,
    pub(super) inline_checks: bool,
    /// [`super::Options::reuse_pages`].
    pub(super) reuse_pages: bool,
    /// XMM registers held in v128 locals in the current block.
    pub(super) xmm: super::sse::XmmCache,
    /// Exits to a known EIP jump through the link table.
    link: bool,
    /// Length of the block being emitted, and the index and EIP of the
    /// current instruction in it (for refunds and slow exits).
    len: u32,
    k: u32,
    ip: u32,
    /// The index of the block being emitted; whether its code may run
    /// off its end into the next block's; whether it sits in a
    /// `SelfLoop`.
    cur: u32,
    falls: bool,
    self_loop: bool,
    /// The last checked access through ESP and through another base
    /// register (`operands.rs`).
    pub(super) memos: [Option<super::operands::Memo>; 2],
    /// The memory operand of the x87 instruction being emitted, checked
    /// before its fast path (bytes, for a write): `need_mem` finds the
    /// machine address in `HOST`.
    pub(super) x87_mem: Option<(u32, bool)>,
    /// The lazy-flag locals hold the record (a producer in this block set
    /// them), and differ from CpuState's (not stored since). See
    /// [`Gen::lazy_get`].
    lazy_held: bool,
    lazy_dirty: bool,
    pub stats: Stats,
}

// A pending producer's op and size are stored as one i64 (`flush_lazy`).
const _: () = assert!(cpu::LAZY_SIZE == cpu::LAZY_OP + 4 && cpu::LAZY_OP.is_multiple_of(8));

pub(super) const LAZY: [(u32, u32); 5] = [
    (l::LOP, cpu::LAZY_OP),
    (l::LSIZE, cpu::LAZY_SIZE),
    (l::LRES, cpu::LAZY_RES),
    (l::LA, cpu::LAZY_A),
    (l::LB, cpu::LAZY_B),
];

/// Whether a block is cheaper to leave to the interpreter whole than to
/// run translated. Measured on x87 code (fasta), where most stepped
/// instructions are: a stepped instruction costs about 65 ns (a call into
/// the interpreter with every register spilled and reloaded), an exit to
/// the executor and back about 73 ns, an interpreted instruction 9 ns and
/// a translated one 1-3 ns, so the block goes whole to the interpreter
/// when 65 S + N > 73 + 9 (S + N), about 7 S > 9 + N.
fn interpret_whole(b: &Block) -> bool {
    let stepped = b
        .insns
        .iter()
        .filter(|i| i.plan.steps(i.flags_live_after))
        .count();
    let native = b.insns.len() - stepped;
    7 * stepped > 9 + native
}

impl<'a> Gen<'a> {
    pub fn new(cfg: &'a Cfg, opts: &super::Options) -> Gen<'a> {
        let (inline_checks, link) = (opts.inline_checks, opts.link);
        let sse = cfg
            .blocks
            .iter()
            .any(|b| b.insns.iter().any(|i| matches!(i.plan, Plan::Sse(_))));
        Gen {
            e: Emitter::new(sse),
            xmm: super::sse::XmmCache::new(sse),
            cfg,
            flags: Fs::Unknown,
            inline_checks,
            reuse_pages: opts.reuse_pages,
            link,
            len: 0,
            k: 0,
            ip: 0,
            cur: 0,
            falls: false,
            self_loop: false,
            memos: [None; 2],
            x87_mem: None,
            lazy_held: false,
            lazy_dirty: false,
            stats: Stats {
                insns: 0,
                stepped: 0,
                wide_arith: false,
                sha: Vec::new(),
            },
        }
    }

    /// The whole `run(block index) -> exit code` function.
    pub fn function(mut self) -> (wasm_encoder::Function, Stats) {
        self.prologue();
        let cfg = self.cfg;
        let n = cfg.blocks.len() as u32;
        self.e.get(l::ENTRY).set(l::PC);
        self.e.loop_(Label::Relink);
        self.e.block(Label::Epilogue).block(Label::BudgetExit);
        self.e.block(Label::SlowExit).loop_(Label::Dispatch);
        for _ in 0..=n {
            self.e.block(Label::Anon);
        }
        self.e.get(l::PC).br_table_dense(n).end();
        for (i, b) in cfg.blocks.iter().enumerate() {
            self.cur = i as u32;
            self.falls = false;
            self.block(b);
            if !self.falls {
                self.e.i(I::Unreachable);
            }
            self.e.end();
        }
        // No such block: nothing ran.
        self.keep_state_in_loop(n);
        self.e.set_c(l::CODE, ExitCode::Miss as u32);
        self.e.br(Label::Epilogue).end().end();
        self.e.set_c(l::CODE, ExitCode::Slow as u32);
        self.e.br(Label::Epilogue).end();
        self.e.set_c(l::CODE, ExitCode::Budget as u32).end();
        self.write_back();
        self.e.end();
        self.epilogue();
        (self.e.finish(), self.stats)
    }

    /// On the way to the Miss exit (inside the dispatch loop, reached
    /// only with `PC >= n`): reloads the registers, the lazy record and
    /// the page-table base, equal to the locals here (loaded at entry or
    /// written back before a relink), and branches back to the dispatcher
    /// if `PC` is 0, which it never is here. No run time is spent, but the
    /// locals are no longer loop-invariant in Cranelift's eyes: without
    /// this, its loop-invariant code motion hoists every address (and the
    /// page-table index and page-crossing test) built from a register that
    /// no block writes (ESP, EBP, ...) out of the dispatch loop into the
    /// function's entry, where it runs, and is spilled, at every call and
    /// link into the module whichever block runs. On sort that entry code
    /// was 31 % of the time spent in translated code.
    fn keep_state_in_loop(&mut self, n: u32) {
        if n == 0 {
            return;
        }
        for i in 0..8 {
            self.e.load_at(cpu::GPR + 4 * i).reload(l::R0 + i);
        }
        self.e.load_at(CONTROL.0 + ctl::PAGE_TABLE).reload(l::PT);
        self.e.get(l::PC).i(I::I32Eqz).br_if(Label::Dispatch);
    }

    fn prologue(&mut self) {
        for i in 0..8 {
            self.e.load_at(cpu::GPR + 4 * i).reload(l::R0 + i);
        }
        self.e.load_at(cpu::EIP).set(l::EIP);
        self.e.load_at(CONTROL.0 + ctl::PAGE_TABLE).reload(l::PT);
        self.e
            .c(0)
            .i(I::I64Load(mem(CONTROL.0 + ctl::BUDGET, 3)))
            .set(l::BUDGET);
    }

    /// Every exit: the registers to CpuState and the budget to the
    /// control block, then the link (inside the `Relink` loop). Emitted
    /// after every block, so it knows which registers the module ever
    /// assigns; the others still hold what was loaded from CpuState (at
    /// entry, or after an interpreter step, which reloads them), which
    /// CpuState still holds, and are not stored. (The lazy record is in
    /// CpuState already: every way out of a block stores it.)
    fn write_back(&mut self) {
        for i in 0..8 {
            if self.e.written(l::R0 + i) {
                self.e.store_local_at(cpu::GPR + 4 * i, l::R0 + i);
            }
        }
        self.e.store_local_at(cpu::EIP, l::EIP);
        self.e
            .c(0)
            .get(l::BUDGET)
            .i(I::I64Store(mem(CONTROL.0 + ctl::BUDGET, 3)));
        if self.link {
            self.follow_link();
        }
    }

    /// After the `Relink` loop: the exit's facts for the executor.
    fn epilogue(&mut self) {
        self.e.store_local_at(CONTROL.0 + ctl::BLOCK, l::PC);
        self.e.store_local_at(CONTROL.0 + ctl::EXIT_CODE, l::CODE);
        self.e.store_local_at(CONTROL.0 + ctl::SLOT, l::SLOT);
        self.e.get(l::CODE);
    }

    /// On an exit to continue at EIP (state already in CpuState and the
    /// budget in the control block, exactly as the executor would find
    /// them): if the link table has a current entry for EIP, the module it
    /// names runs next, by a tail call, as if the executor had entered it.
    fn follow_link(&mut self) {
        self.e.get(l::CODE).i(I::I32Eqz).if_();
        // V1 = the entry's machine address.
        self.e.get(l::EIP).c(LINK_HASH).i(I::I32Mul);
        self.e.c(LINK_SHIFT).i(I::I32ShrU);
        self.e.c(link::SIZE.trailing_zeros()).i(I::I32Shl);
        self.e.c(LINKS.0).i(I::I32Add).set(l::V1);
        self.e.get(l::V1).i(I::I32Load(mem(link::EIP, 2)));
        self.e.get(l::EIP).i(I::I32Eq);
        self.e.get(l::V1).i(I::I32Load(mem(link::EPOCH, 2)));
        self.e.load_at(CONTROL.0 + ctl::LINK_EPOCH).i(I::I32Eq);
        self.e.i(I::I32And).if_();
        let followed = CONTROL.0 + ctl::LINKS_FOLLOWED;
        self.e.c(0).load_at(followed).c(1).i(I::I32Add);
        self.e.i(I::I32Store(mem(followed, 2)));
        // The entry names this module: its block runs next, with the
        // registers still in locals (what was stored is the same).
        self.e.get(l::V1).i(I::I32Load(mem(link::SLOT, 2)));
        self.e.get(l::SLOT).i(I::I32Eq).if_();
        let within = CONTROL.0 + ctl::LINKS_WITHIN;
        self.e.c(0).load_at(within).c(1).i(I::I32Add);
        self.e.i(I::I32Store(mem(within, 2)));
        self.e
            .get(l::V1)
            .i(I::I32Load(mem(link::BLOCK, 2)))
            .set(l::PC);
        self.e.br(Label::Relink).end();
        self.e.get(l::V1).i(I::I32Load(mem(link::BLOCK, 2)));
        self.e.get(l::V1).i(I::I32Load(mem(link::SLOT, 2)));
        self.e.get(l::V1).i(I::I32Load(mem(link::SLOT, 2)));
        self.e.i(I::ReturnCallIndirect {
            type_index: TYPE_RUN,
            table_index: 0,
        });
        self.e.end().end();
    }

    /// Registers to CpuState.
    fn spill(&mut self) {
        for i in 0..8 {
            self.e.store_local_at(cpu::GPR + 4 * i, l::R0 + i);
        }
    }

    /// Pushes field `loc` of the lazy record.
    ///
    /// The record lives in CpuState between blocks, and in the locals
    /// `LOP..LB` only from the producer that sets them to the end of its
    /// block: every way out of the block (an exit, a branch to another
    /// block, the fall-through, an interpreter call) stores them first if
    /// they changed ([`Gen::flush_lazy`]). So they are never live across
    /// the dispatcher, where they used to hold five machine registers (or
    /// spill slots) through every block of the page. An instruction that
    /// writes the flags other than as a producer with a record (eagerly,
    /// or only on some paths, like a shift by CL) first puts the record in
    /// CpuState ([`Gen::lazy_to_memory`]) and works there.
    pub(super) fn lazy_get(&mut self, loc: u32) {
        if self.lazy_held {
            self.e.get(loc);
        } else {
            let off = LAZY
                .iter()
                .find(|&&(l, _)| l == loc)
                .expect("a lazy-record local")
                .1;
            self.e.load_at(off);
        }
    }

    /// Pushes the lazy-record fields `locs` ([`Gen::lazy_get`]); returns
    /// the emitter for what follows.
    pub(super) fn lg(&mut self, locs: &[u32]) -> &mut Emitter {
        for &loc in locs {
            self.lazy_get(loc);
        }
        &mut self.e
    }

    /// Stores the lazy-record locals where they differ from CpuState's,
    /// on the path being emitted (whatever follows still sees them as
    /// they were).
    ///
    /// Where the producer is in sight with its constant op and size
    /// (all but ADC/SBB, whose op depends on the carry in), those two go
    /// in one store, and a logic op's operands, which nothing reads, are
    /// not stored: 4 stores for the usual CMP or ADD, 2 for a TEST,
    /// instead of 5, at the end of most blocks.
    fn flush_lazy(&mut self) {
        if !(self.lazy_held && self.lazy_dirty) {
            return;
        }
        match self.flags {
            Fs::Pending(op, size) if !matches!(op, LazyOp::Adc | LazyOp::Sbb) => {
                let both = i64::from(size) << 32 | i64::from(op as u32);
                self.e
                    .c(0)
                    .i(I::I64Const(both))
                    .i(I::I64Store(mem(cpu::LAZY_OP, 3)));
                self.e.store_local_at(cpu::LAZY_RES, l::LRES);
                if op != LazyOp::Logic {
                    self.e.store_local_at(cpu::LAZY_A, l::LA);
                    self.e.store_local_at(cpu::LAZY_B, l::LB);
                }
            }
            _ => {
                for (loc, off) in LAZY {
                    self.e.store_local_at(off, loc);
                }
            }
        }
    }

    /// Puts the record in CpuState for what follows (straight-line code
    /// only: the state changes for every path after it).
    pub(super) fn lazy_to_memory(&mut self) {
        self.flush_lazy();
        self.lazy_held = false;
        self.lazy_dirty = false;
    }

    /// The record's op to None in CpuState: `CpuState::eflags` holds the
    /// flags. Only after [`Gen::lazy_to_memory`].
    pub(super) fn record_eager(&mut self) {
        debug_assert!(
            !self.lazy_held,
            "an eager flag write with the record in locals"
        );
        self.e
            .c(0)
            .c(LazyOp::None as u32)
            .i(I::I32Store(mem(cpu::LAZY_OP, 2)));
    }

    /// The function index of SHA function `which`, added to the module's
    /// at its first use. SHA functions follow the x87 ones, which the
    /// module then carries too.
    pub(super) fn sha_function(&mut self, which: super::sse::sha::ShaFn) -> u32 {
        self.stats.wide_arith = true;
        let n = match self.stats.sha.iter().position(|&f| f == which) {
            Some(n) => n,
            None => {
                self.stats.sha.push(which);
                self.stats.sha.len() - 1
            }
        };
        super::x87::FN_SQRTSIG + 1 + n as u32
    }

    /// Records a producer with a static op: the caller has set `LRES`,
    /// `LA` and `LB`.
    pub(super) fn pending(&mut self, op: LazyOp, size: u32) {
        self.e.set_c(l::LOP, op as u32).set_c(l::LSIZE, size);
        self.flags = Fs::Pending(op, size);
        self.held_lazy();
    }

    /// The lazy-record locals were all set (unconditionally, on the
    /// straight-line path): they hold the record now.
    pub(super) fn held_lazy(&mut self) {
        self.lazy_held = true;
        self.lazy_dirty = true;
    }

    fn refund(&mut self, n: u32) {
        if n > 0 {
            self.e
                .get(l::BUDGET)
                .i(I::I64Const(i64::from(n)))
                .i(I::I64Add)
                .set(l::BUDGET);
        }
    }

    /// Leaves translated code after the current instruction (which counts
    /// as retired).
    pub(super) fn exit(&mut self, code: Code, eip: Eip) {
        self.refund(self.len - self.k - 1);
        match eip {
            Eip::Const(v) => self.e.set_c(l::EIP, v),
            Eip::Local(v) => self.e.get(v).set(l::EIP),
            Eip::Cpu => self.e.load_at(cpu::EIP).set(l::EIP),
        };
        match code {
            Code::Const(c) => self.e.set_c(l::CODE, c as u32),
            Code::Local(v) => self.e.get(v).set(l::CODE),
        };
        self.flush_lazy();
        self.e.br(Label::Epilogue);
    }

    /// Leaves before the current instruction (which has not run) for the
    /// interpreter to run it.
    pub(super) fn exit_before(&mut self) {
        self.exit_before_as(self.cur);
    }

    /// [`Gen::exit_before`] where a reused page lookup found another page:
    /// the block index the executor gets has [`REUSE_MISS`] set.
    pub(super) fn exit_before_reuse_miss(&mut self) {
        self.exit_before_as(self.cur | REUSE_MISS);
    }

    /// The shared exits report the block they leave (`PC`), which is set
    /// on the way there: a block's code never needs `PC` otherwise, so
    /// it is not live across blocks (one register more for Cranelift).
    fn exit_before_as(&mut self, block: u32) {
        self.flush_lazy();
        self.e.set_c(l::PC, block);
        self.e.set_c(l::EIP, self.ip).br(Label::SlowExit);
    }

    /// Continues at `target`: inside the module if it starts a block. From
    /// the block's last instruction, the block emitted next is reached by
    /// falling through (its code follows this block's); the current
    /// block's start by the `SelfLoop` around it; other blocks through the
    /// dispatcher (`PC` is its switch value). From a conditional branch
    /// inside the block, what the block charged for the instructions after
    /// it is refunded first (the block it goes to charges its own).
    pub(super) fn goto(&mut self, target: u32) {
        let after = self.len - self.k - 1;
        match self.cfg.index.get(&target) {
            Some(&i) if i == self.cur + 1 && after == 0 => {
                self.flush_lazy();
                self.falls = true;
            }
            Some(&i) if i == self.cur && self.self_loop => {
                self.refund(after);
                self.flush_lazy();
                self.e.br(Label::SelfLoop);
            }
            Some(&i) => {
                self.refund(after);
                self.flush_lazy();
                self.e.set_c(l::PC, i).br(Label::Dispatch);
            }
            None => self.exit(Code::Const(ExitCode::Next), Eip::Const(target)),
        }
    }

    /// The instructions of the block being emitted, and the index of the
    /// current one among them.
    pub(super) fn current_block(&self) -> (&'a [Insn], usize) {
        let insns = self
            .cfg
            .blocks
            .get(self.cur as usize)
            .map_or(&[][..], |b| &b.insns[..]);
        (insns, self.k as usize)
    }

    /// Whether the instruction being emitted is the block's last.
    pub(super) fn at_block_end(&self) -> bool {
        self.k + 1 == self.len
    }

    /// Continues inside the module if the EIP in local `v` is one of the
    /// (few) `targets`; otherwise falls through.
    pub(super) fn dispatch_to(&mut self, v: u32, targets: &[(u32, u32)]) {
        self.flush_lazy();
        for &(eip, index) in targets {
            self.e.get(v).c(eip).i(I::I32Eq).if_();
            self.e.set_c(l::PC, index).br(Label::Dispatch).end();
        }
    }

    /// Return sites of the page a RET may stay in the module for.
    pub(super) fn return_sites(&self) -> &'a [(u32, u32)] {
        let sites = &self.cfg.return_sites;
        &sites[..sites.len().min(MAX_RETURN_SITES)]
    }

    fn block(&mut self, b: &Block) {
        self.len = b.insns.len() as u32;
        self.flags = Fs::Unknown;
        self.lazy_held = false;
        self.lazy_dirty = false;
        self.xmm.forget();
        self.memos = [None; 2];
        if interpret_whole(b) {
            // Leaves as if the budget were spent: the executor has the
            // interpreter run the block, then comes back.
            self.stats.insns += b.insns.len();
            self.stats.stepped += b.insns.len();
            self.e.set_c(l::PC, self.cur).br(Label::BudgetExit);
            return;
        }
        let last = b.insns.last().expect("non-empty block");
        self.self_loop =
            matches!(last.plan, Plan::Jcc | Plan::JmpRel) && last.insn.near_branch32() == b.start;
        if self.self_loop {
            self.e.loop_(Label::SelfLoop);
        }
        let len = I::I64Const(i64::from(self.len));
        // If the budget does not cover the block, leave before it (the
        // executor sets EIP to the block's start).
        self.e.get(l::BUDGET).i(len.clone()).i(I::I64LtS).if_();
        self.e.set_c(l::PC, self.cur).br(Label::BudgetExit).end();
        self.e.get(l::BUDGET).i(len).i(I::I64Sub).set(l::BUDGET);
        for (k, ins) in b.insns.iter().enumerate() {
            self.k = k as u32;
            self.ip = ins.insn.ip32();
            self.stats.insns += 1;
            self.insn(ins);
        }
        if last.insn.flow_control() == FlowControl::Next && last.plan != Plan::StepStraddling {
            self.goto(last.insn.next_ip32());
        }
        if self.self_loop {
            self.e.end();
        }
    }

    /// One instruction, interpreted or translated.
    fn insn(&mut self, ins: &Insn) {
        let insn = &ins.insn;
        if ins.straddles {
            self.straddle_guard(insn);
        }
        if ins.plan.steps(ins.flags_live_after) {
            self.stats.stepped += 1;
            self.lazy_to_memory();
            let touches = insn.rflags_modified() != 0 || ins.plan == Plan::StepStraddling;
            self.step(insn, touches);
            self.xmm.forget();
            if insn.flow_control() != FlowControl::Next || ins.plan == Plan::StepStraddling {
                self.exit(Code::Const(ExitCode::Next), Eip::Cpu);
            }
            return;
        }
        if Self::writes_flags_in_place(ins) {
            self.lazy_to_memory();
        }
        self.native(ins);
    }

    /// Whether an instruction writes the flags other than by setting the
    /// whole lazy record in locals (an eager write to `eflags`, a write
    /// on some paths only, an x87 call): it works on the record in
    /// CpuState. The eager writers (shifts, rotates, BT, multiplies...)
    /// write nothing where their flags are dead.
    fn writes_flags_in_place(ins: &Insn) -> bool {
        match ins.plan {
            Plan::Alu(_) | Plan::ClearReg | Plan::Neg | Plan::IncDec => false,
            Plan::X87 { .. } => true,
            _ => ins.insn.rflags_modified() != 0 && ins.flags_live_after,
        }
    }

    /// Before an instruction that runs on into the next page: unless that
    /// page is executable now and still starts with the bytes `insn` was
    /// decoded from, leaves before it (exit `Slow`) for the interpreter,
    /// which fetches it afresh (and raises its fetch fault, if any). The
    /// module is keyed by its own page's contents only; this check is what
    /// keeps the baked-in tail true when the next page is written,
    /// remapped, unmapped or loses PROT_EXEC.
    fn straddle_guard(&mut self, insn: &Instruction) {
        let next_page = (insn.ip32() >> 12) + 1;
        let tail_len = (insn.next_ip32() - (next_page << 12)) as usize;
        let tail = &self.cfg.next[..tail_len];
        self.e
            .get(l::PT)
            .i(I::I32Load(mem(next_page * 4, 2)))
            .tee(l::PTE);
        self.e.c(pte::X).i(I::I32And).i(I::I32Eqz).if_();
        self.exit_before();
        self.e.end();
        self.e.get(l::PTE).c(pte::FRAME).i(I::I32And).set(l::HOST);
        for (k, chunk) in tail.chunks(8).enumerate() {
            let mut want = [0u8; 8];
            want[..chunk.len()].copy_from_slice(chunk);
            self.e.get(l::HOST).i(I::I64Load(mem(8 * k as u32, 3)));
            if chunk.len() < 8 {
                let keep = u64::MAX >> (64 - 8 * chunk.len());
                self.e.i(I::I64Const(keep as i64)).i(I::I64And);
            }
            let want = i64::from_le_bytes(want);
            self.e.i(I::I64Const(want)).i(I::I64Ne);
            if k > 0 {
                self.e.i(I::I32Or);
            }
        }
        self.e.if_();
        self.exit_before();
        self.e.end();
    }

    /// Calls the interpreter for `insn`; leaves if it reports an exit.
    pub(super) fn step(&mut self, insn: &Instruction, reload_flags: bool) {
        self.spill();
        self.e.c(0).c(insn.ip32()).i(I::I32Store(mem(cpu::EIP, 2)));
        self.e.c(insn.ip32()).i(I::Call(FN_STEP)).set(l::V3);
        for i in 0..8 {
            self.e.load_at(cpu::GPR + 4 * i).reload(l::R0 + i);
        }
        if reload_flags {
            self.flags = Fs::Unknown;
        }
        self.e.get(l::V3).if_();
        self.exit(Code::Local(l::V3), Eip::Cpu);
        self.e.end();
    }
}
