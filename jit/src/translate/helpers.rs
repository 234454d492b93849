//! Functions every module carries besides `run`: the page-table lookup of
//! an access, out of line. A call per access keeps `run` small, and
//! Cranelift's compile time grows with function size.

use super::emit::mem;
use wasm_encoder::{Function, Instruction as I, ValType};
use wax_cpu::abi::pte;

/// Index of the first lookup function (after the three imports and `run`).
pub const FN_XLATE: u32 = super::gen::FN_RUN + 1;
/// Type index of `(addr, table) -> host`.
pub const TYPE_XLATE: u32 = 2;

/// The lookup function for an `n`-byte access (1, 2 or 4).
pub fn index(n: u32, write: bool) -> u32 {
    FN_XLATE + u32::from(write) * 3 + n.trailing_zeros()
}

/// All lookup functions, in index order.
pub fn all() -> Vec<Function> {
    let mut v = Vec::new();
    for write in [false, true] {
        for n in [1, 2, 4] {
            v.push(xlate(n, write));
        }
    }
    v
}

/// `(addr, table) -> host`: the machine address of an `n`-byte access at
/// guest `addr` if the fast path applies, else 0 (never a frame: frame 0
/// is reserved).
fn xlate(n: u32, write: bool) -> Function {
    const ADDR: u32 = 0;
    const TABLE: u32 = 1;
    const PTE: u32 = 2;
    let mut f = Function::new([(1, ValType::I32)]);
    let mut i = |x: I<'_>| {
        f.instruction(&x);
    };
    i(I::LocalGet(ADDR));
    i(I::I32Const(12));
    i(I::I32ShrU);
    i(I::I32Const(2));
    i(I::I32Shl);
    i(I::LocalGet(TABLE));
    i(I::I32Add);
    i(I::I32Load(mem(0, 2)));
    i(I::LocalTee(PTE));
    if write {
        i(I::I32Const((pte::W | pte::WATCHED) as i32));
        i(I::I32And);
        i(I::I32Const(pte::W as i32));
        i(I::I32Ne);
    } else {
        i(I::I32Const(pte::R as i32));
        i(I::I32And);
        i(I::I32Eqz);
    }
    if n > 1 {
        i(I::LocalGet(ADDR));
        i(I::I32Const(0xfff));
        i(I::I32And);
        i(I::I32Const(4096 - n as i32));
        i(I::I32GtU);
        i(I::I32Or);
    }
    i(I::If(wasm_encoder::BlockType::Empty));
    i(I::I32Const(0));
    i(I::Return);
    i(I::End);
    i(I::LocalGet(PTE));
    i(I::I32Const(pte::FRAME as i32));
    i(I::I32And);
    i(I::LocalGet(ADDR));
    i(I::I32Const(0xfff));
    i(I::I32And);
    i(I::I32Or);
    i(I::End);
    f
}
