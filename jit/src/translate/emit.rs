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
    /// XMM0..XMM7 (v128), in functions that have them (`sse.rs`).
    pub const X0: u32 = 30;
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
    /// Locals (below 64) assigned by `set` or `tee`: every assignment
    /// except [`Emitter::reload`]'s.
    written: u64,
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
        let mut locals = vec![(local::I32_COUNT, ValType::I32), (3, ValType::I64)];
        if xmm {
            locals.push((8, ValType::V128));
        }
        let f = Function::new(locals);
        Emitter {
            f,
            ctrl: Vec::new(),
            written: 0,
        }
    }

    pub fn finish(mut self) -> Function {
        debug_assert!(self.ctrl.is_empty(), "unbalanced control stack");
        self.f.instruction(&I::End);
        self.f
    }

    #[inline]
    pub fn i(&mut self, insn: I<'_>) -> &mut Self {
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
        self.i(I::LocalSet(l))
    }

    fn mark(&mut self, l: u32) {
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
        self.ctrl.push(l);
        self.i(I::Block(BlockType::Empty))
    }

    pub fn loop_(&mut self, l: Label) -> &mut Self {
        self.ctrl.push(l);
        self.i(I::Loop(BlockType::Empty))
    }

    /// `if` on the i32 on the stack.
    pub fn if_(&mut self) -> &mut Self {
        self.ctrl.push(Label::Anon);
        self.i(I::If(BlockType::Empty))
    }

    pub fn else_(&mut self) -> &mut Self {
        self.i(I::Else)
    }

    pub fn end(&mut self) -> &mut Self {
        self.ctrl.pop().expect("end without block");
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
