//! Which parts of a case's outcome the architecture leaves undefined.
//!
//! The case is stepped through the interpreter one instruction at a time
//! (each instruction alone on a code page of INT3s, so control always comes
//! back after it). Before each step `wax_cpu::undefined::of` names the
//! flags and destination bits the instruction leaves undefined; those
//! become "tainted". An instruction that reads a tainted flag, register bit
//! or memory byte (iced-x86's instruction info says what it reads and
//! writes) taints everything it writes; one that reads only defined values
//! makes what it writes defined again. A branch on a tainted value, or an
//! address computed from one, leaves the rest of the case undefined.
//!
//! Taint is as narrow as the instruction info allows: a register's written
//! part (AL, AH, AX or EAX), the flags written, the bytes stored; LAHF and
//! PUSHF copy flags bit for bit, so only the tainted bits are.

use super::case::*;
use super::wax::Wax;
use iced_x86::{
    Decoder, DecoderOptions, FlowControl, Instruction, InstructionInfoFactory, Mnemonic, OpAccess,
    OpKind, Register,
};
use std::collections::BTreeMap;
use wax_cpu::mem::Access;
use wax_cpu::state::flag;
use wax_cpu::undefined::{self, from_iced_rflags};
use wax_cpu::{CpuState, Exception, Exit, GuestAddr, GuestMem};

/// Most instructions a traced case runs.
const MAX_STEPS: usize = 2_000;
const INT3: u8 = 0xcc;

/// The undefined parts of an outcome.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Mask {
    /// A branch or an address depended on an undefined value: nothing
    /// after it is defined.
    pub all: bool,
    /// Undefined bits per register (EAX .. EDI).
    pub regs: [u32; 8],
    /// Undefined EFLAGS bits.
    pub flags: u32,
    /// Undefined bits per byte of the data+stack image (area offset).
    pub mem: BTreeMap<u32, u8>,
    /// Instructions whose own undefined parts (from the table) started
    /// taint.
    pub sources: usize,
}

impl Mask {
    pub fn is_empty(&self) -> bool {
        !self.all && self.regs == [0; 8] && self.flags == 0 && self.mem.values().all(|&b| b == 0)
    }

    /// Undefined bits of the byte at area offset `off`.
    pub fn byte(&self, off: u32) -> u8 {
        if self.all {
            0xff
        } else {
            self.mem.get(&off).copied().unwrap_or(0)
        }
    }
}

/// Register number (EAX = 0) and the bits of it a register name covers.
fn reg_bits(r: Register) -> Option<(usize, u32)> {
    if !r.is_gpr() || r.size() > 4 {
        return None;
    }
    let i = r.full_register32().number() - Register::EAX.number();
    let high8 = (Register::AH..=Register::BH).contains(&r);
    let bits = match r.size() {
        1 if high8 => 0xff00,
        1 => 0xff,
        2 => 0xffff,
        _ => u32::MAX,
    };
    Some((i, bits))
}

fn reg_value(cpu: &CpuState, r: Register) -> u32 {
    match reg_bits(r) {
        Some((i, bits)) => (cpu.gpr[i] & bits) >> bits.trailing_zeros(),
        None => 0,
    }
}

fn reads(a: OpAccess) -> bool {
    matches!(
        a,
        OpAccess::Read | OpAccess::CondRead | OpAccess::ReadWrite | OpAccess::ReadCondWrite
    )
}

fn writes(a: OpAccess) -> bool {
    matches!(
        a,
        OpAccess::Write | OpAccess::CondWrite | OpAccess::ReadWrite | OpAccess::ReadCondWrite
    )
}

/// Whether a write always happens (so it makes its target defined).
fn always_writes(a: OpAccess) -> bool {
    matches!(a, OpAccess::Write | OpAccess::ReadWrite)
}

/// The value of operand `i` before `insn` runs (memory read through `mem`).
fn operand(cpu: &CpuState, mem: &mut GuestMem<'_>, insn: &Instruction, i: u32) -> u32 {
    match insn.op_kind(i) {
        OpKind::Register => reg_value(cpu, insn.op_register(i)),
        OpKind::Memory => {
            let Some(a) = address(cpu, insn, i) else {
                return 0;
            };
            let n = insn.memory_size().size().min(4);
            let mut b = [0u8; 4];
            // An unreadable operand faults; the value does not matter then.
            let _ = mem.read_bytes(GuestAddr(a), &mut b[..n]);
            u32::from_le_bytes(b)
        }
        _ => insn.immediate(i) as u32,
    }
}

fn address(cpu: &CpuState, insn: &Instruction, op: u32) -> Option<u32> {
    insn.virtual_address(op, 0, |r, _, _| match r {
        Register::ES | Register::CS | Register::SS | Register::DS => Some(0),
        _ => reg_bits(r).map(|_| u64::from(reg_value(cpu, r))),
    })
    .map(|a| a as u32)
}

/// The masked count of a shift or rotate, None for other instructions.
fn shift_count(cpu: &CpuState, mem: &mut GuestMem<'_>, insn: &Instruction) -> Option<u32> {
    use Mnemonic::*;
    let op = match insn.mnemonic() {
        Rol | Ror | Rcl | Rcr | Shl | Sal | Shr | Sar => 1,
        Shld | Shrd => 2,
        _ => return None,
    };
    Some(operand(cpu, mem, insn, op) & 0x1f)
}

/// A memory access of `len` bytes at `addr`, as area offsets.
fn area_bytes(addr: u32, len: usize) -> impl Iterator<Item = u32> {
    (0..len as u32).filter_map(move |k| area_offset(addr.wrapping_add(k)))
}

/// The flags the SDM leaves undefined for `insn`: iced-x86's list, plus
/// what depends on operand values, which iced cannot know (the SDM's rules
/// for shift and rotate counts).
fn sdm_undefined(insn: &Instruction, count: Option<u32>) -> u32 {
    use Mnemonic::*;
    let mut f = from_iced_rflags(insn.rflags_undefined());
    let size = match insn.op0_kind() {
        OpKind::Register => insn.op0_register().size() as u32 * 8,
        _ => insn.memory_size().size() as u32 * 8,
    };
    let Some(c) = count else { return f };
    let m = insn.mnemonic();
    if c > 1 {
        f |= flag::OF;
    }
    if c >= 1 && matches!(m, Shl | Sal | Shr | Sar | Shld | Shrd) {
        f |= flag::AF;
    }
    if c >= size && matches!(m, Shl | Sal | Shr) {
        f |= flag::CF;
    }
    if c > size && matches!(m, Shld | Shrd) {
        f |= flag::STATUS;
    }
    f
}

/// One step's view of the instruction: what it reads and writes.
struct Step {
    insn: Instruction,
    regs_read: Vec<Register>,
    regs_written: Vec<(Register, bool)>,
    /// (address, bytes, access)
    mem: Vec<(u32, usize, OpAccess)>,
    /// Registers that form a memory address.
    addr_regs: Vec<Register>,
}

impl Step {
    fn new(
        factory: &mut InstructionInfoFactory,
        insn: Instruction,
        cpu: &CpuState,
    ) -> Option<Step> {
        let info = factory.info(&insn);
        let mut s = Step {
            insn,
            regs_read: Vec::new(),
            regs_written: Vec::new(),
            mem: Vec::new(),
            addr_regs: Vec::new(),
        };
        for u in info.used_registers() {
            if reads(u.access()) {
                s.regs_read.push(u.register());
            }
            if writes(u.access()) {
                s.regs_written
                    .push((u.register(), always_writes(u.access())));
            }
        }
        for m in info.used_memory() {
            s.addr_regs.extend([m.base(), m.index()]);
            let a = m.virtual_address(0, |r, _, _| match r {
                Register::ES | Register::CS | Register::SS | Register::DS => Some(0),
                _ => reg_bits(r).map(|_| u64::from(reg_value(cpu, r))),
            })?;
            s.mem.push((a as u32, m.memory_size().size(), m.access()));
        }
        Some(s)
    }

    /// Whether the stack pointer changes only by the push or pop itself.
    fn stack_op(&self) -> bool {
        self.insn.stack_pointer_increment() != 0
    }
}

impl Mask {
    fn reg_tainted(&self, r: Register) -> bool {
        reg_bits(r).is_some_and(|(i, bits)| self.regs[i] & bits != 0)
    }

    fn set_reg(&mut self, r: Register, tainted: bool) {
        if let Some((i, bits)) = reg_bits(r) {
            if tainted {
                self.regs[i] |= bits;
            } else {
                self.regs[i] &= !bits;
            }
        }
    }

    fn set_mem(&mut self, addr: u32, len: usize, bits: u8) {
        for off in area_bytes(addr, len) {
            if bits == 0 {
                self.mem.remove(&off);
            } else {
                *self.mem.entry(off).or_default() |= bits;
            }
        }
    }

    /// Whether `s` reads anything tainted.
    fn read_by(&self, s: &Step) -> bool {
        let flags = from_iced_rflags(s.insn.rflags_read()) & self.flags != 0;
        let regs = s.regs_read.iter().any(|&r| self.reg_tainted(r));
        let mem = s.mem.iter().any(|&(a, n, acc)| {
            reads(acc) && area_bytes(a, n).any(|o| self.mem.get(&o).is_some_and(|&b| b != 0))
        });
        flags || regs || mem
    }

    /// Everything `s` writes becomes tainted (`taint`) or defined.
    fn written_by(&mut self, s: &Step, taint: bool) {
        for &(r, always) in &s.regs_written {
            let sp = r == Register::ESP || r == Register::SP;
            if (sp && s.stack_op()) || (!taint && !always) {
                continue;
            }
            self.set_reg(r, taint);
        }
        for &(a, n, acc) in &s.mem {
            if writes(acc) && (taint || always_writes(acc)) {
                self.set_mem(a, n, if taint { 0xff } else { 0 });
            }
        }
        let f = from_iced_rflags(s.insn.rflags_modified());
        if taint {
            self.flags |= f;
        } else {
            self.flags &= !f;
        }
    }

    /// LAHF and PUSHF copy the flags bit for bit.
    fn copied_flags(&mut self, s: &Step) -> bool {
        match s.insn.mnemonic() {
            Mnemonic::Lahf => {
                self.regs[0] |= (self.flags & 0xd5) << 8;
                true
            }
            Mnemonic::Pushf | Mnemonic::Pushfd => {
                let (a, n, _) = s.mem[0];
                let bytes = self.flags.to_le_bytes();
                for (k, off) in area_bytes(a, n).enumerate() {
                    *self.mem.entry(off).or_default() |= bytes[k];
                }
                true
            }
            _ => false,
        }
    }

    /// Updates the taint for one instruction that ran without faulting.
    /// Returns false once nothing after it is defined.
    fn step(&mut self, s: &Step, count: Option<u32>, table: undefined::Undefined) -> bool {
        let tainted = self.read_by(s);
        // A shift or rotate by a (defined) masked count of 0 changes
        // nothing.
        if count == Some(0) && !tainted {
            return true;
        }
        if tainted {
            let addr = s.addr_regs.iter().any(|&r| self.reg_tainted(r));
            let branch = !matches!(s.insn.flow_control(), FlowControl::Next);
            if addr || branch || s.insn.has_rep_prefix() || s.insn.has_repne_prefix() {
                self.all = true;
                return false;
            }
            if !self.copied_flags(s) {
                self.written_by(s, true);
            }
        } else {
            self.written_by(s, false);
        }
        self.apply(s, table);
        true
    }

    /// Adds the instruction's own undefined parts.
    fn apply(&mut self, s: &Step, u: undefined::Undefined) {
        if u == undefined::Undefined::NONE {
            return;
        }
        self.sources += 1;
        self.flags |= u.flags;
        if u.dest == 0 {
            return;
        }
        match s.insn.op0_kind() {
            OpKind::Register => {
                if let Some((i, bits)) = reg_bits(s.insn.op0_register()) {
                    self.regs[i] |= (u.dest << bits.trailing_zeros()) & bits;
                }
            }
            _ => {
                let (a, n, _) = s.mem[0];
                for (k, off) in area_bytes(a, n).enumerate() {
                    *self.mem.entry(off).or_default() |= (u.dest >> (8 * k)) as u8;
                }
            }
        }
    }
}

impl Wax {
    /// The undefined parts of `case`'s outcome, found by stepping it.
    pub fn trace(&mut self, case: &Case) -> Mask {
        let mut mask = Mask::default();
        let mut factory = InstructionInfoFactory::new();
        self.prepare(case);
        let (cpu, mut mem) = self.machine.guest(&mut self.space);
        mem.fill(GuestAddr(CODE_PAGE), 0x1000, INT3).expect("code");
        let entry = case.entry();
        for _ in 0..MAX_STEPS {
            let eip = cpu.eip;
            let Some(off) = eip
                .checked_sub(entry)
                .filter(|&o| (o as usize) < case.code.len())
            else {
                break;
            };
            let bytes = &case.code[off as usize..];
            let insn = Decoder::with_ip(32, bytes, u64::from(eip), DecoderOptions::NONE).decode();
            let bytes = &bytes[..insn.len()];
            let count = shift_count(cpu, &mut mem, &insn);
            let table = undefined::of(&insn, &mut |i| operand(cpu, &mut mem, &insn, i));
            let sdm = sdm_undefined(&insn, count);
            assert_eq!(
                table.flags & !sdm,
                0,
                "undefined.rs masks flags the SDM defines for {insn}"
            );
            let Some(step) = Step::new(&mut factory, insn, cpu) else {
                break;
            };
            mem.write_bytes(GuestAddr(eip), bytes).expect("code");
            let exit = wax_cpu::run(cpu, &mut mem, &mut self.cache, 1).exit;
            mem.fill(GuestAddr(eip), bytes.len(), INT3).expect("code");
            let next = match exit {
                // The INT3 after it (or at a branch target) stopped it.
                Exit::Exception(Exception::Breakpoint) if insn.mnemonic() != Mnemonic::Int3 => {
                    cpu.eip - 1
                }
                // Reached the end of the code.
                Exit::Exception(Exception::PageFault(f))
                    if f.addr.0 == CODE_END && f.access == Access::Exec =>
                {
                    CODE_END
                }
                // The budget ran out before the next instruction (or part
                // way through a REP instruction, which then goes on).
                Exit::BudgetSpent => cpu.eip,
                // The instruction faulted: it changed nothing (but the
                // completed iterations of a REP instruction), whether and
                // where it faults may depend on undefined values, and a
                // repeated compare leaves the flags to the vendor.
                _ => {
                    mask.all |= mask.read_by(&step);
                    mask.flags |= undefined::of_fault(&insn).flags;
                    break;
                }
            };
            cpu.eip = next;
            if !mask.step(&step, count, table) || next == CODE_END {
                break;
            }
        }
        self.reset_areas();
        mask
    }
}
