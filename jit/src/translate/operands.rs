//! Operand access for generated code: guest registers in locals, effective
//! addresses, and the inline page-table fast path of every load and store.

use super::emit::{local as l, mem};
use super::gen::Gen;
use super::plan::{AluOp, Plan};
use iced_x86::{Instruction, OpAccess, OpKind, Register};
use wasm_encoder::Instruction as I;
use wax_cpu::abi::{cpu, pte};

pub fn mask(size: u32) -> u32 {
    u32::MAX >> (32 - size)
}

/// (local, part) of a general register: 0 whole, 1 low 16, 2 low 8, 3 bits 8..16.
fn reg_info(r: Register) -> (u32, u8) {
    let n = r as u32;
    if r.is_gpr32() {
        (l::R0 + n - Register::EAX as u32, 0)
    } else if r.is_gpr16() {
        (l::R0 + n - Register::AX as u32, 1)
    } else if n >= Register::AH as u32 {
        (l::R0 + n - Register::AH as u32, 3)
    } else {
        (l::R0 + n - Register::AL as u32, 2)
    }
}

/// Most distance in bytes between two accesses through one register for
/// the second to reuse the first's page lookup.
const MAX_REUSE_DELTA: u32 = 256;

/// The last access checked through one base register (see
/// [`Gen::check_based`]): its host address is in that slot's local.
#[derive(Clone, Copy, Debug)]
pub struct Memo {
    /// The register's local, and its [`super::emit::Emitter::generation`]
    /// the displacement is relative to.
    reg: u32,
    gen: u32,
    disp: u32,
    /// The access's size in bytes.
    n: u32,
    /// Checked for a write (which implies read: writable pages are
    /// readable).
    write: bool,
    /// Displacements (same base as `disp`) of the range checked to lie in
    /// the access's page: `[lo, hi)`, the later accesses of the block
    /// that can reuse this one's lookup ([`Gen::reuse_range`]). One
    /// inside it needs no check at all.
    lo: u32,
    hi: u32,
    scope: super::emit::Scope,
}

impl Gen<'_> {
    pub(super) fn read_reg(&mut self, r: Register) {
        let (loc, part) = reg_info(r);
        self.e.get(loc);
        match part {
            1 => {
                self.e.c(0xffff).i(I::I32And);
            }
            2 => {
                self.e.c(0xff).i(I::I32And);
            }
            3 => {
                self.e.c(8).i(I::I32ShrU).c(0xff).i(I::I32And);
            }
            _ => {}
        }
    }

    /// Writes local `v` (already masked to the register's size) to `r`.
    pub(super) fn write_reg(&mut self, r: Register, v: u32) {
        let (loc, part) = reg_info(r);
        let (keep, shift) = match part {
            0 => {
                self.e.get(v).set(loc);
                return;
            }
            1 => (0xffff_0000u32, 0),
            2 => (0xffff_ff00, 0),
            _ => (0xffff_00ff, 8),
        };
        self.e.get(loc).c(keep).i(I::I32And).get(v);
        if shift > 0 {
            self.e.c(shift).i(I::I32Shl);
        }
        self.e.i(I::I32Or).set(loc);
    }

    /// The effective address (with FS/GS base) into `ADDR`.
    pub(super) fn ea(&mut self, insn: &Instruction) {
        self.e.c(insn.memory_displacement32());
        if insn.memory_base() != Register::None {
            self.read_reg(insn.memory_base());
            self.e.i(I::I32Add);
        }
        if insn.memory_index() != Register::None {
            self.read_reg(insn.memory_index());
            let sh = insn.memory_index_scale().trailing_zeros();
            if sh > 0 {
                self.e.c(sh).i(I::I32Shl);
            }
            self.e.i(I::I32Add);
        }
        let seg = match insn.memory_segment() {
            Register::FS => Some(cpu::FS_BASE),
            Register::GS => Some(cpu::GS_BASE),
            _ => None,
        };
        if let Some(off) = seg {
            self.e.load_at(off).i(I::I32Add);
        }
        self.e.set(l::ADDR);
    }

    /// The fast-path check of an `n`-byte access at guest address `addr`;
    /// on success the host (machine) address is in `host`. Otherwise
    /// translated code leaves before the instruction and the interpreter
    /// runs it (faults, first touch, copy-on-write, page crossing, stores
    /// into watched code): checks come before any state change.
    pub(super) fn check(&mut self, addr: u32, host: u32, n: u32, write: bool) {
        self.check_based(addr, host, n, write, None);
    }

    /// [`Gen::check`] of an address that is guest register local `base`
    /// plus `disp`. If an access through the same register was checked
    /// earlier in straight-line code that reaches here without a call or
    /// a loop head (see [`super::emit::Emitter::scope`]), with the register
    /// unchanged since but for known constant steps ([`Gen::moved`]), and
    /// checked for as much (a write for a write: writable pages are
    /// readable), the page-table lookup is skipped: the host address is
    /// that access's plus the difference of the two addresses, provided
    /// this access falls in the same page without crossing its end. The
    /// page table cannot have changed in between: only calls out of
    /// translated code change it. If the access falls elsewhere, translated
    /// code leaves before the instruction (exit `Slow`, like a failed
    /// check): any code on that path, a lookup out of line or inline, cost
    /// Cranelift's code for the whole block ~30 % (sha256sum), while the
    /// host addresses of one block all being one local plus constants
    /// folds into the accesses. A page whose module keeps leaving that way
    /// is translated again without this ([`Options::reuse_pages`],
    /// `exec.rs`). Otherwise the full check runs, and this access becomes
    /// the one later ones compare with.
    ///
    /// [`Options::reuse_pages`]: super::Options::reuse_pages
    pub(super) fn check_based(
        &mut self,
        addr: u32,
        host: u32,
        n: u32,
        write: bool,
        base: Option<(u32, u32)>,
    ) {
        let Some((reg, disp)) = base.filter(|_| self.inline_checks && self.reuse_pages) else {
            self.full_check(addr, host, n, write);
            return;
        };
        let slot = usize::from(reg != Self::esp());
        let local = [l::MEMO_ESP, l::MEMO_OTHER][slot];
        let usable = self.memos[slot].filter(|m| {
            m.reg == reg
                && m.gen == self.e.generation(reg)
                && self.e.in_scope(m.scope)
                && (m.write || !write)
        });
        // Accesses further apart than this fall in different pages too
        // often (or always, past 4 KiB: fields of a large structure).
        let near = |m: &Memo| {
            disp.wrapping_sub(m.disp).wrapping_add(MAX_REUSE_DELTA) <= 2 * MAX_REUSE_DELTA
        };
        if let Some(m) = usable.filter(near) {
            let delta = disp.wrapping_sub(m.disp);
            self.e.get(local);
            if delta != 0 {
                self.e.c(delta).i(I::I32Add);
            }
            self.e.set(host);
            let span = m.hi.wrapping_sub(m.lo);
            let checked = span >= n && disp.wrapping_sub(m.lo) <= span - n;
            if !checked && (delta != 0 || n > m.n) {
                // The earlier access's page offset plus the difference, as
                // unsigned: past 4096 - n (or below 0) is another page.
                self.e.get(local).c(0xfff).i(I::I32And);
                if delta != 0 {
                    self.e.c(delta).i(I::I32Add);
                }
                self.e.c(4096 - n).i(I::I32GtU).if_();
                self.exit_before_reuse_miss();
                self.e.end();
            }
            return;
        }
        let (lo, hi) = self.reuse_range(reg, disp, n);
        self.full_check_range(
            addr,
            host,
            n,
            write,
            (disp.wrapping_sub(lo), hi.wrapping_sub(lo)),
        );
        self.e.get(host).set(local);
        self.memos[slot] = Some(Memo {
            reg,
            gen: self.e.generation(reg),
            disp,
            n,
            write,
            lo,
            hi,
            scope: self.e.scope(),
        });
    }

    /// The displacements `[lo, hi)` (relative to the register's value
    /// now, like `disp`) of this access and of the later ones in the
    /// block through register local `reg` that can reuse its page lookup:
    /// within [`MAX_REUSE_DELTA`], up to the first instruction that calls
    /// out of translated code or writes the register other than by the
    /// constant steps [`Gen::moved`] follows (PUSH, POP, ADD/SUB of an
    /// immediate), whose offsets are followed. Checking the whole range
    /// once, in the first access's check, spares each later access its
    /// page-crossing test: in compiled i386 code most accesses go through
    /// ESP or EBP, a few bytes apart. An instruction that would not have
    /// reused the lookup anyway only widens the range; a range that
    /// crosses into another page leaves before the first access, as one
    /// of its later accesses would have (a reuse miss).
    fn reuse_range(&self, reg: u32, disp: u32, n: u32) -> (u32, u32) {
        let (insns, k) = self.current_block();
        let d0 = i64::from(disp as i32);
        let limit = i64::from(MAX_REUSE_DELTA);
        let full = Register::EAX as u32 + (reg - l::R0);
        let mut info = iced_x86::InstructionInfoFactory::new();
        // Relative to this access: [lo, hi).
        let (mut lo, mut hi) = (0i64, i64::from(n));
        let mut access = |at: i64, bytes: i64| {
            if at >= -limit && at + bytes <= limit + i64::from(n) {
                lo = lo.min(at);
                hi = hi.max(at + bytes);
            }
        };
        let writes = |info: &mut iced_x86::InstructionInfoFactory, insn: &Instruction| {
            info.info(insn).used_registers().iter().any(|u| {
                u.register().full_register32() as u32 == full
                    && !matches!(u.access(), OpAccess::Read | OpAccess::CondRead)
            })
        };
        // The register's value minus its value at this access, after the
        // current instruction's own step. An instruction that loads the
        // register through it (`mov ebx, [ebx+4]`, a list walk) is the last
        // of this value's accesses: later ones are of another.
        let Some(current) = insns.get(k) else {
            return (disp, disp.wrapping_add(n));
        };
        let mut moved = match self.step_of(current, reg, full) {
            Some(step) => step,
            None if writes(&mut info, &current.insn) => return (disp, disp.wrapping_add(n)),
            None => 0,
        };
        for ins in insns.iter().skip(k + 1) {
            let insn = &ins.insn;
            if ins.plan.steps(ins.flags_live_after) || matches!(ins.plan, Plan::X87 { .. }) {
                break;
            }
            if let Some((r, d)) = Self::simple_base(insn) {
                if r == reg {
                    let bytes = insn.memory_size().size().max(1) as i64;
                    access(moved + i64::from(d as i32) - d0, bytes);
                }
            }
            match self.step_of(ins, reg, full) {
                Some(step) => {
                    // PUSH writes below the old value, POP reads at it.
                    match ins.plan {
                        Plan::Push => access(moved - 4 - d0, 4),
                        Plan::Pop => access(moved - d0, 4),
                        _ => {}
                    }
                    moved += step;
                }
                None if writes(&mut info, insn) => break,
                None => {}
            }
        }
        (
            disp.wrapping_add(lo as i32 as u32),
            disp.wrapping_add(hi as i32 as u32),
        )
    }

    /// The constant step by which `ins` changes register local `reg`
    /// (whose 32-bit register is `full`) as [`Gen::moved`] follows it:
    /// PUSH and POP of ESP, ADD/SUB of an immediate.
    fn step_of(&self, ins: &super::cfg::Insn, reg: u32, full: u32) -> Option<i64> {
        let insn = &ins.insn;
        match ins.plan {
            Plan::Push if reg == Self::esp() && !Self::mem_op(insn) => Some(-4),
            Plan::Pop if reg == Self::esp() && insn.op0_register() != Register::ESP => Some(4),
            Plan::Alu(op @ (AluOp::Add | AluOp::Sub))
                if insn.op_count() == 2
                    && insn.op0_kind() == OpKind::Register
                    && insn.op0_register() as u32 == full
                    && !matches!(insn.op1_kind(), OpKind::Register | OpKind::Memory) =>
            {
                let imm = i64::from(insn.immediate(1) as u32 as i32);
                Some(if op == AluOp::Add { imm } else { -imm })
            }
            _ => None,
        }
    }

    /// After guest register local `reg` was assigned its old value plus
    /// `delta` (one assignment): a memo of an access through it stays
    /// usable, its displacement rebased.
    pub(super) fn moved(&mut self, reg: u32, delta: u32) {
        let gen = self.e.generation(reg);
        for m in self.memos.iter_mut().flatten() {
            if m.reg == reg && m.gen + 1 == gen {
                m.gen = gen;
                m.disp = m.disp.wrapping_sub(delta);
                m.lo = m.lo.wrapping_sub(delta);
                m.hi = m.hi.wrapping_sub(delta);
            }
        }
    }

    /// The memory operand's base register local and displacement, if
    /// its address is just that (32-bit addressing, no index, no FS/GS).
    pub(super) fn simple_base(insn: &Instruction) -> Option<(u32, u32)> {
        let b = insn.memory_base();
        (b.is_gpr32()
            && insn.memory_index() == Register::None
            && !matches!(insn.memory_segment(), Register::FS | Register::GS))
        .then(|| (reg_info(b).0, insn.memory_displacement32()))
    }

    fn full_check(&mut self, addr: u32, host: u32, n: u32, write: bool) {
        self.full_check_range(addr, host, n, write, (0, n));
    }

    /// [`Gen::full_check`], the page test covering `below` bytes before
    /// the address and `span` bytes from there (at least the access's
    /// own `n`): a range that crosses the page's ends leaves as a reuse
    /// miss when it is wider than the access.
    fn full_check_range(
        &mut self,
        addr: u32,
        host: u32,
        n: u32,
        write: bool,
        (below, span): (u32, u32),
    ) {
        if !self.inline_checks {
            let f = super::helpers::index(n, write);
            self.e.get(addr).get(l::PT).i(I::Call(f)).tee(host);
            self.e.i(I::I32Eqz).if_();
            self.exit_before();
            self.e.end();
            return;
        }
        self.e.get(addr).c(12).i(I::I32ShrU).c(2).i(I::I32Shl);
        self.e
            .get(l::PT)
            .i(I::I32Add)
            .i(I::I32Load(mem(0, 2)))
            .tee(l::PTE);
        if write {
            self.e
                .c(pte::W | pte::WATCHED)
                .i(I::I32And)
                .c(pte::W)
                .i(I::I32Ne);
        } else {
            self.e.c(pte::R).i(I::I32And).i(I::I32Eqz);
        }
        // Two tests and two branches, not one of the two conditions ORed:
        // Cranelift makes the OR of setcc results (eight instructions and
        // a scratch register where two compare-and-branch pairs do).
        self.e.if_();
        self.exit_before();
        self.e.end();
        if span > 1 {
            self.e.get(addr).c(0xfff).i(I::I32And);
            if below != 0 {
                self.e.c(below).i(I::I32Sub);
            }
            self.e.c(4096 - span).i(I::I32GtU).if_();
            if span > n {
                self.exit_before_reuse_miss();
            } else {
                self.exit_before();
            }
            self.e.end();
        }
        self.e.get(l::PTE).c(pte::FRAME).i(I::I32And);
        self.e.get(addr).c(0xfff).i(I::I32And).i(I::I32Or).set(host);
    }

    pub(super) fn load(&mut self, host: u32, size: u32) {
        self.e.get(host);
        match size {
            8 => self.e.i(I::I32Load8U(mem(0, 0))),
            16 => self.e.i(I::I32Load16U(mem(0, 1))),
            _ => self.e.i(I::I32Load(mem(0, 2))),
        };
    }

    pub(super) fn store(&mut self, host: u32, size: u32, v: u32) {
        self.e.get(host).get(v);
        match size {
            8 => self.e.i(I::I32Store8(mem(0, 0))),
            16 => self.e.i(I::I32Store16(mem(0, 1))),
            _ => self.e.i(I::I32Store(mem(0, 2))),
        };
    }

    /// Pushes operand `op` (register, immediate, or memory at `HOST`).
    pub(super) fn read_op(&mut self, insn: &Instruction, op: u32, size: u32) {
        match insn.op_kind(op) {
            OpKind::Register => self.read_reg(insn.op_register(op)),
            OpKind::Memory => self.load(l::HOST, size),
            _ => {
                self.e.c(insn.immediate(op) as u32 & mask(size));
            }
        }
    }

    /// Writes local `v` to operand `op` (register, or memory at `HOST`).
    pub(super) fn write_op(&mut self, insn: &Instruction, op: u32, size: u32, v: u32) {
        match insn.op_kind(op) {
            OpKind::Register => self.write_reg(insn.op_register(op), v),
            _ => self.store(l::HOST, size, v),
        }
    }

    pub(super) fn mem_op(insn: &Instruction) -> bool {
        (0..insn.op_count()).any(|i| insn.op_kind(i) == OpKind::Memory)
    }

    /// Runs `body` with the instruction's memory operand (if any) checked
    /// for an `n`-byte access, `write` for a store or read-modify-write.
    pub(super) fn with_operand(
        &mut self,
        insn: &Instruction,
        size: u32,
        write: bool,
        body: impl FnOnce(&mut Self),
    ) {
        if Self::mem_op(insn) {
            self.ea(insn);
            let base = Self::simple_base(insn);
            self.check_based(l::ADDR, l::HOST, size / 8, write, base);
        }
        body(self);
    }

    /// Masks the i32 on the stack to `size` bits.
    pub(super) fn mask_to(&mut self, size: u32) {
        if size < 32 {
            self.e.c(mask(size)).i(I::I32And);
        }
    }

    /// Sign-extends the i32 on the stack from `size` bits.
    pub(super) fn sext(&mut self, size: u32) {
        match size {
            8 => {
                self.e.i(I::I32Extend8S);
            }
            16 => {
                self.e.i(I::I32Extend16S);
            }
            _ => {}
        }
    }
}
