//! A thin layer over wasm-encoder's function body: named locals, named
//! branch targets (relative depths are computed from a control stack, so
//! the translator never counts nesting by hand), and the machine-memory
//! accesses at constant addresses.

use std::borrow::Cow;
use wasm_encoder::{BlockType, Function, Instruction as I, MemArg, ValType};

/// The locals of the `run` function. Parameter 0 is the index of the block
/// to start with, parameter 1 the module's slot in the link table.
pub mod local {
    pub const ENTRY: u32 = 0;
    /// The module's slot in the link table (stored in `Control::slot` on
    /// exit).
    pub const SLOT: u32 = 1;
    /// EAX..EDI.
    pub const R0: u32 = 2;
    /// EIP to store on exit.
    pub const EIP: u32 = 10;
    /// Index of the next block to run (the dispatcher's switch value).
    pub const PC: u32 = 11;
    /// Exit code.
    pub const CODE: u32 = 12;
    /// Page-table base, from the control block.
    pub const PT: u32 = 13;
    /// The lazy-flag record (the interpreter's `LazyFlags`).
    pub const LOP: u32 = 14;
    pub const LSIZE: u32 = 15;
    pub const LRES: u32 = 16;
    pub const LA: u32 = 17;
    pub const LB: u32 = 18;
    /// Scratch: guest address, page-table entry, host address (twice, for
    /// instructions with two memory accesses), values.
    pub const ADDR: u32 = 19;
    pub const PTE: u32 = 20;
    pub const HOST: u32 = 21;
    pub const ADDR2: u32 = 22;
    pub const HOST2: u32 = 23;
    pub const V1: u32 = 24;
    pub const V2: u32 = 25;
    pub const V3: u32 = 26;
    /// Instructions left in the slice (i64).
    pub const BUDGET: u32 = 27;
    /// i64 scratch.
    pub const W1: u32 = 28;
    pub const W2: u32 = 29;
    /// Number of i32 locals after the parameters.
    pub const I32_COUNT: u32 = 25;
    /// The host addresses of the last checked access through ESP and
    /// through another base register (`operands.rs`, [`super::Emitter::scope`]).
    pub const MEMO_ESP: u32 = 30;
    pub const MEMO_OTHER: u32 = 31;
    /// More i64 scratch, for wide arithmetic inline (`x87/wasm_fns.rs`).
    pub const W3: u32 = 32;
    pub const W4: u32 = 33;
    pub const W5: u32 = 34;
    pub const W6: u32 = 35;
    /// i32 scratch of the same.
    pub const T1: u32 = 36;
    pub const T2: u32 = 37;
    pub const T3: u32 = 38;
    pub const T4: u32 = 39;
    /// XMM0..XMM7, then MM0..MM7 (v128, an MMX register in the low
    /// half), in functions that have them (`sse/mod.rs`).
    pub const X0: u32 = 40;
    pub const MM0: u32 = X0 + 8;
}

/// Branch targets the translator names.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Label {
    /// Leaves the dispatch loop for the common exit path.
    Epilogue,
    /// Back to the top of the dispatch loop.
    Dispatch,
    /// Around the dispatch loop and the state's write-back: a link to a
    /// block of the same module continues here (`gen.rs`).
    Relink,
    /// Leaves because the budget does not cover the next block.
    BudgetExit,
    /// Leaves before an instruction whose memory access is not fast.
    SlowExit,
    /// Around the code of a block that jumps back to its own start
    /// (`gen.rs`): such a jump stays out of the dispatcher.
    SelfLoop,
    /// Any other construct (never a branch target).
    Anon,
    /// Around an inline x87 fast path: past the interpreter call, and to
    /// it (`translate/x87.rs`).
    X87Done,
    X87Call,
    /// Inside the FIST fast path: to the integer indefinite, and past it.
    X87Invalid,
    X87Valid,
}

pub struct Emitter {
    f: Function,
    ctrl: Vec<Label>,
    /// Per entry of `ctrl`: a number no other construct of the function
    /// gets (an `else` counts as a new construct), and whether it is a
    /// `loop`.
    ids: Vec<(u32, bool)>,
    next_id: u32,
    /// Locals (below 64) assigned by `set` or `tee`: every assignment
    /// except [`Emitter::reload`]'s.
    written: u64,
    /// Per guest register local: how many assignments (reloads included)
    /// were emitted so far.
    gens: [u32; 8],
    /// Calls emitted so far (any call may change the page table).
    calls: u32,
}

/// Where a value computed in straight-line code is still known to hold:
/// see [`Emitter::scope`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Scope {
    depth: usize,
    id: u32,
    calls: u32,
}

thread_local! {
    /// Where machine memory starts in the module's memory
    /// ([`super::Options::memory_base`]), for the translation under way.
    static BASE: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Runs `f` with every memory access offset by `base`.
pub fn with_base<R>(base: u32, f: impl FnOnce() -> R) -> R {
    let old = BASE.replace(base);
    let r = f();
    BASE.set(old);
    r
}

/// The access of machine address `offset` (plus the address on the stack).
pub fn mem(offset: u32, align: u32) -> MemArg {
    MemArg {
        offset: u64::from(offset) + u64::from(BASE.get()),
        align,
        memory_index: 0,
    }
}

impl Emitter {
    /// A function body; `xmm` adds the v128 locals from [`local::X0`].
    pub fn new(xmm: bool) -> Emitter {
        let mut locals = vec![
            (local::I32_COUNT, ValType::I32),
            (3, ValType::I64),
            (2, ValType::I32),
            (4, ValType::I64),
            (4, ValType::I32),
        ];
        if xmm {
            locals.push((16, ValType::V128));
        }
        let f = Function::new(locals);
        Emitter {
            f,
            ctrl: Vec::new(),
            ids: Vec::new(),
            next_id: 0,
            written: 0,
            gens: [0; 8],
            calls: 0,
        }
    }

    /// The current point's scope. A local set here holds the value set
    /// wherever [`Emitter::in_scope`] says so later: the construct
    /// enclosing this point has not ended (or reached its `else`), no
    /// `loop` was entered since (a back edge would bring older values),
    /// and no call was emitted since.
    pub fn scope(&self) -> Scope {
        Scope {
            depth: self.ctrl.len(),
            id: self.ids.last().map_or(u32::MAX, |&(id, _)| id),
            calls: self.calls,
        }
    }

    pub fn in_scope(&self, s: Scope) -> bool {
        s.calls == self.calls
            && s.depth <= self.ctrl.len()
            && (s.depth == 0 || self.ids[s.depth - 1].0 == s.id)
            && self.ids[s.depth..].iter().all(|&(_, is_loop)| !is_loop)
    }

    /// How many times guest register local `l` (`R0..R7`) was assigned in
    /// the code emitted so far.
    pub fn generation(&self, l: u32) -> u32 {
        self.gens[(l - local::R0) as usize]
    }

    fn push_ctrl(&mut self, l: Label, is_loop: bool) {
        self.ctrl.push(l);
        self.ids.push((self.next_id, is_loop));
        self.next_id += 1;
    }

    pub fn finish(mut self) -> Function {
        debug_assert!(self.ctrl.is_empty(), "unbalanced control stack");
        self.f.instruction(&I::End);
        self.f
    }

    #[inline]
    pub fn i(&mut self, insn: I<'_>) -> &mut Self {
        // The page-table lookups out of line (`helpers.rs`) change nothing.
        let lookup = super::helpers::FN_XLATE..super::helpers::FN_XLATE + 6;
        if matches!(insn, I::Call(f) if !lookup.contains(&f))
            || matches!(
                insn,
                I::CallIndirect { .. } | I::ReturnCall(_) | I::ReturnCallIndirect { .. }
            )
        {
            self.calls += 1;
        }
        self.f.instruction(&insn);
        self
    }

    pub fn get(&mut self, l: u32) -> &mut Self {
        self.i(I::LocalGet(l))
    }

    pub fn set(&mut self, l: u32) -> &mut Self {
        self.mark(l);
        self.i(I::LocalSet(l))
    }

    pub fn tee(&mut self, l: u32) -> &mut Self {
        self.mark(l);
        self.i(I::LocalTee(l))
    }

    /// `local.set` of a value just loaded from the field of CpuState that
    /// local `l` mirrors: not counted as a write (see [`Emitter::written`]).
    pub fn reload(&mut self, l: u32) -> &mut Self {
        self.count(l);
        self.i(I::LocalSet(l))
    }

    fn count(&mut self, l: u32) {
        if (local::R0..local::R0 + 8).contains(&l) {
            self.gens[(l - local::R0) as usize] += 1;
        }
    }

    fn mark(&mut self, l: u32) {
        self.count(l);
        if l < 64 {
            self.written |= 1 << l;
        }
    }

    /// Whether local `l` was assigned other than by [`Emitter::reload`] in
    /// the code emitted so far. A local mirroring a CpuState field that
    /// never was holds that field's value wherever it is read.
    pub fn written(&self, l: u32) -> bool {
        l < 64 && self.written & (1 << l) != 0
    }

    pub fn c(&mut self, v: u32) -> &mut Self {
        self.i(I::I32Const(v as i32))
    }

    /// Sets local `l` to a constant.
    pub fn set_c(&mut self, l: u32, v: u32) -> &mut Self {
        self.c(v).set(l)
    }

    /// i32 load from a constant machine address.
    pub fn load_at(&mut self, addr: u32) -> &mut Self {
        self.c(0).i(I::I32Load(mem(addr, 2)))
    }

    /// i32 store of the value on the stack to a constant machine address.
    /// (Stack: value; an address 0 is pushed first by the caller.)
    pub fn store_local_at(&mut self, addr: u32, l: u32) -> &mut Self {
        self.c(0).get(l).i(I::I32Store(mem(addr, 2)))
    }

    pub fn block(&mut self, l: Label) -> &mut Self {
        self.push_ctrl(l, false);
        self.i(I::Block(BlockType::Empty))
    }

    pub fn loop_(&mut self, l: Label) -> &mut Self {
        self.push_ctrl(l, true);
        self.i(I::Loop(BlockType::Empty))
    }

    /// `if` on the i32 on the stack.
    pub fn if_(&mut self) -> &mut Self {
        self.push_ctrl(Label::Anon, false);
        self.i(I::If(BlockType::Empty))
    }

    pub fn else_(&mut self) -> &mut Self {
        if let Some(top) = self.ids.last_mut() {
            top.0 = self.next_id;
            self.next_id += 1;
        }
        self.i(I::Else)
    }

    pub fn end(&mut self) -> &mut Self {
        self.ctrl.pop().expect("end without block");
        self.ids.pop();
        self.i(I::End)
    }

    fn depth(&self, l: Label) -> u32 {
        let pos = self
            .ctrl
            .iter()
            .rposition(|&c| c == l)
            .unwrap_or_else(|| panic!("no enclosing {l:?}"));
        (self.ctrl.len() - 1 - pos) as u32
    }

    pub fn br(&mut self, l: Label) -> &mut Self {
        let d = self.depth(l);
        self.i(I::Br(d))
    }

    pub fn br_if(&mut self, l: Label) -> &mut Self {
        let d = self.depth(l);
        self.i(I::BrIf(d))
    }

    /// `br_table` over the innermost `n + 1` blocks: value k goes to the
    /// k-th innermost, anything else to the outermost of them.
    pub fn br_table_dense(&mut self, n: u32) -> &mut Self {
        let targets: Vec<u32> = (0..n).collect();
        self.i(I::BrTable(Cow::Owned(targets), n))
    }
}
