//! The contract between Rust and translated code: every machine-memory
//! offset the translator emits, in one place.
//!
//! Translated wasm reaches guest state only through machine memory at the
//! constant addresses below: the CPU state slot (`CpuState`, fields at
//! [`cpu`] offsets), the control block ([`Control`], fields at [`ctl`]
//! offsets), page tables (entries with [`pte`] bits) and frames. Changing a
//! layout here is a deliberate act: the tests pin the numbers, and the
//! translator's golden tests show every place that moves.

use crate::addr::MachAddr;
use crate::exit::{Exception, Exit};
use crate::mem::{Access, PageFault, Slot, RESERVED_BYTES};
use crate::state::CpuState;

pub use crate::flags::LazyOp;
pub use crate::mem::{pte, CPU_SLOT};

/// Where the control block lives: in the reserved area, after `CpuState`
/// with room for it to grow.
pub const CONTROL: MachAddr = MachAddr(0x8000);

const _: () = assert!(std::mem::size_of::<CpuState>() <= CONTROL.0 as usize);
const _: () =
    assert!(CONTROL.0 as usize + std::mem::size_of::<Control>() <= RESERVED_BYTES as usize);

/// What translated code needs besides registers, at [`CONTROL`].
///
/// The executor fills `page_table` and `budget` before it calls translated
/// code; translated code (or a slow-path import) fills the exit fields
/// before it returns.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Control {
    /// Machine address of the running address space's page table.
    pub page_table: u32,
    /// Why translated code returned: an [`ExitCode`] value (translated code
    /// also returns it).
    pub exit_code: u32,
    /// Instructions the slice may still retire. Translated code charges a
    /// whole block on entry and refunds what it did not run when it leaves
    /// the block early, so `before - after` is the exact retired count.
    pub budget: i64,
    /// For [`ExitCode::Exception`]: the exception's vector number.
    pub exception: u32,
    /// For a page fault: the first address that could not be accessed.
    pub fault_addr: u32,
    /// For a page fault: [`fault_bits`] flags.
    pub fault_bits: u32,
    /// Index (in its module) of the block that was running at the exit.
    pub block: u32,
    /// For a #GP that carries one: its error code (0 when it has none).
    pub error_code: u32,
    /// Entries of the link table ([`LINKS`]) are valid only while their
    /// `epoch` equals this; the executor moves it on to drop them all.
    pub link_epoch: u32,
    /// The link-table slot of the module that was running at the exit
    /// (translated code jumps from module to module through the table;
    /// `block` is an index in this module).
    pub slot: u32,
    /// Jumps translated code made to another module through the link
    /// table (a statistic; wraps).
    pub links_followed: u32,
    /// Of those, jumps that found the exiting module itself in the link
    /// table and continued in it without a call (a statistic; wraps).
    pub links_within: u32,
}

// SAFETY: repr(C), integers only; every bit pattern is a valid value.
unsafe impl Slot for Control {}

/// Where the link table lives: after the control block, in the reserved
/// area.
pub const LINKS: MachAddr = MachAddr(0x1_0000);
/// Entries in the link table (a power of two). `ls -lR /usr` enters
/// ~1800 distinct EIPs of translated code; 1024 direct-mapped entries
/// missed 1.1 M times (each a return to the executor), 4096 entries
/// (64 KiB) far less.
pub const LINK_COUNT: usize = 4096;

const _: () = assert!(CONTROL.0 as usize + std::mem::size_of::<Control>() <= LINKS.0 as usize);
const _: () =
    assert!(LINKS.0 as usize + std::mem::size_of::<LinkTable>() <= RESERVED_BYTES as usize);

/// One remembered entry point: `eip` starts block `block` of the module
/// the engine has at `slot` of its function table. The executor writes
/// entries when it enters translated code; translated code that leaves
/// for `eip` jumps there directly (a tail call through the table) when
/// the entry's `epoch` is the control block's `link_epoch`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Link {
    pub eip: u32,
    pub epoch: u32,
    pub slot: u32,
    pub block: u32,
}

/// The link table at [`LINKS`], direct-mapped by [`link_index`].
#[repr(C)]
pub struct LinkTable(pub [Link; LINK_COUNT]);

// SAFETY: repr(C), integers only; every bit pattern is a valid value.
unsafe impl Slot for LinkTable {}

/// The multiplier of [`link_index`] (translated code computes the same).
pub const LINK_HASH: u32 = 0x9e37_79b1;
/// The shift of [`link_index`]: keeps log2([`LINK_COUNT`]) bits.
pub const LINK_SHIFT: u32 = 32 - LINK_COUNT.trailing_zeros();

/// The link-table entry for `eip`.
pub fn link_index(eip: u32) -> usize {
    (eip.wrapping_mul(LINK_HASH) >> LINK_SHIFT) as usize
}

/// Byte offsets in a [`Link`].
pub mod link {
    use super::Link;
    use std::mem::offset_of;

    pub const EIP: u32 = offset_of!(Link, eip) as u32;
    pub const EPOCH: u32 = offset_of!(Link, epoch) as u32;
    pub const SLOT: u32 = offset_of!(Link, slot) as u32;
    pub const BLOCK: u32 = offset_of!(Link, block) as u32;
    pub const SIZE: u32 = std::mem::size_of::<Link>() as u32;
}

/// Why translated code returned to the executor.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitCode {
    /// Continue at `CpuState::eip` (control left the page or went through
    /// an indirect jump).
    Next = 0,
    /// The budget does not cover the next block (`Control::block`), which
    /// has not started; the executor puts EIP at its first instruction.
    Budget = 1,
    /// `int 0x80`; EIP is past it.
    Syscall = 2,
    /// An exception; details in the control block, EIP as the interpreter
    /// leaves it (the faulting instruction, or past it for traps).
    Exception = 3,
    /// A store hit a page holding translated or decoded code; EIP is the
    /// next instruction. Translated code stops, since it may be stale.
    CodeChanged = 4,
    /// The module has no block with the requested index (nothing ran).
    Miss = 5,
    /// An instruction's memory access left the fast path (a fault, first
    /// touch, copy-on-write, a page crossing, a store into watched code);
    /// EIP is that instruction, which has not run: the interpreter runs it.
    /// The whole block was charged: the executor refunds the rest.
    Slow = 6,
    /// RDTSC, for the kernel to complete (`Exit::Rdtsc`); EIP is past it.
    Rdtsc = 7,
    /// POPF or IRET set EFLAGS.TF (`Exit::SingleStep`); EIP is past it.
    SingleStep = 8,
}

impl ExitCode {
    /// The code for a raw value, if it is one.
    pub fn from_u32(v: u32) -> Option<ExitCode> {
        Some(match v {
            0 => ExitCode::Next,
            1 => ExitCode::Budget,
            2 => ExitCode::Syscall,
            3 => ExitCode::Exception,
            4 => ExitCode::CodeChanged,
            5 => ExitCode::Miss,
            6 => ExitCode::Slow,
            7 => ExitCode::Rdtsc,
            8 => ExitCode::SingleStep,
            _ => return None,
        })
    }
}

/// Page-fault detail bits in [`Control::fault_bits`].
pub mod fault_bits {
    /// The access kind: 0 read, 1 write, 2 fetch.
    pub const ACCESS_MASK: u32 = 3;
    /// SEGV_ACCERR (mapped, not allowed) rather than SEGV_MAPERR.
    pub const PROTECTION: u32 = 4;
    /// Allowed, but no frame could be allocated.
    pub const OUT_OF_MEMORY: u32 = 8;
}

/// Byte offsets in the control block.
pub mod ctl {
    use super::Control;
    use std::mem::offset_of;

    pub const PAGE_TABLE: u32 = offset_of!(Control, page_table) as u32;
    pub const EXIT_CODE: u32 = offset_of!(Control, exit_code) as u32;
    pub const BUDGET: u32 = offset_of!(Control, budget) as u32;
    pub const EXCEPTION: u32 = offset_of!(Control, exception) as u32;
    pub const FAULT_ADDR: u32 = offset_of!(Control, fault_addr) as u32;
    pub const FAULT_BITS: u32 = offset_of!(Control, fault_bits) as u32;
    pub const BLOCK: u32 = offset_of!(Control, block) as u32;
    pub const ERROR_CODE: u32 = offset_of!(Control, error_code) as u32;
    pub const LINK_EPOCH: u32 = offset_of!(Control, link_epoch) as u32;
    pub const SLOT: u32 = offset_of!(Control, slot) as u32;
    pub const LINKS_FOLLOWED: u32 = offset_of!(Control, links_followed) as u32;
    pub const LINKS_WITHIN: u32 = offset_of!(Control, links_within) as u32;
}

/// Byte offsets in `CpuState` of the fields translated code touches.
pub mod cpu {
    use crate::state::{seg, CpuState, LazyFlags};
    use std::mem::offset_of;

    /// EAX..EDI, 4 bytes each in encoding order.
    pub const GPR: u32 = offset_of!(CpuState, gpr) as u32;
    pub const EIP: u32 = offset_of!(CpuState, eip) as u32;
    pub const EFLAGS: u32 = offset_of!(CpuState, eflags) as u32;
    const LAZY: u32 = offset_of!(CpuState, lazy) as u32;
    pub const LAZY_OP: u32 = LAZY + offset_of!(LazyFlags, op) as u32;
    pub const LAZY_SIZE: u32 = LAZY + offset_of!(LazyFlags, size) as u32;
    pub const LAZY_RES: u32 = LAZY + offset_of!(LazyFlags, res) as u32;
    pub const LAZY_A: u32 = LAZY + offset_of!(LazyFlags, a) as u32;
    pub const LAZY_B: u32 = LAZY + offset_of!(LazyFlags, b) as u32;
    const SEG_BASE: u32 = offset_of!(CpuState, seg_base) as u32;
    pub const FS_BASE: u32 = SEG_BASE + 4 * seg::FS as u32;
    pub const GS_BASE: u32 = SEG_BASE + 4 * seg::GS as u32;
    /// XMM0..XMM7, 16 bytes each (16-byte aligned), lane 0 first.
    pub const XMM: u32 = offset_of!(CpuState, xmm) as u32;
}

fn vector(e: Exception) -> u32 {
    match e {
        Exception::DivideError => 0,
        Exception::Debug => 1,
        Exception::Breakpoint => 3,
        Exception::Overflow => 4,
        Exception::BoundRange => 5,
        Exception::InvalidOpcode => 6,
        Exception::GeneralProtection | Exception::GeneralProtectionCode(_) => 13,
        Exception::PageFault(_) => 14,
        Exception::FloatingPoint => 16,
        Exception::SimdFloatingPoint => 19,
    }
}

impl Control {
    /// Records `exit` as translated code's exit.
    pub fn set_exit(&mut self, exit: Exit) {
        let (code, exc) = match exit {
            Exit::Syscall => (ExitCode::Syscall, None),
            Exit::BudgetSpent => (ExitCode::Budget, None),
            Exit::Rdtsc => (ExitCode::Rdtsc, None),
            Exit::SingleStep => (ExitCode::SingleStep, None),
            Exit::Exception(e) => (ExitCode::Exception, Some(e)),
        };
        self.exit_code = code as u32;
        if let Some(e) = exc {
            self.exception = vector(e);
            self.error_code = match e {
                Exception::GeneralProtectionCode(c) => u32::from(c),
                _ => 0,
            };
            if let Exception::PageFault(f) = e {
                self.fault_addr = f.addr.0;
                self.fault_bits = match f.access {
                    Access::Read => 0,
                    Access::Write => 1,
                    Access::Exec => 2,
                } | (f.protection as u32 * fault_bits::PROTECTION)
                    | (f.out_of_memory as u32 * fault_bits::OUT_OF_MEMORY);
            }
        }
    }

    /// The exception recorded by [`Control::set_exit`], if the exit code is
    /// [`ExitCode::Exception`] and the vector is one Wax raises.
    pub fn exception(&self) -> Option<Exception> {
        if self.exit_code != ExitCode::Exception as u32 {
            return None;
        }
        Some(match self.exception {
            0 => Exception::DivideError,
            1 => Exception::Debug,
            3 => Exception::Breakpoint,
            4 => Exception::Overflow,
            5 => Exception::BoundRange,
            6 => Exception::InvalidOpcode,
            13 if self.error_code == 0 => Exception::GeneralProtection,
            13 => Exception::GeneralProtectionCode(self.error_code as u16),
            14 => Exception::PageFault(PageFault {
                addr: crate::GuestAddr(self.fault_addr),
                access: match self.fault_bits & fault_bits::ACCESS_MASK {
                    0 => Access::Read,
                    1 => Access::Write,
                    _ => Access::Exec,
                },
                protection: self.fault_bits & fault_bits::PROTECTION != 0,
                out_of_memory: self.fault_bits & fault_bits::OUT_OF_MEMORY != 0,
            }),
            16 => Exception::FloatingPoint,
            19 => Exception::SimdFloatingPoint,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::GuestAddr;

    #[test]
    fn offsets_are_pinned() {
        // Generated code embeds these numbers; a change here must come with
        // a translator change (and blessed golden tests).
        assert_eq!(CPU_SLOT, MachAddr(0));
        assert_eq!(CONTROL, MachAddr(0x8000));
        assert_eq!(
            (cpu::GPR, cpu::EIP, cpu::EFLAGS),
            (0, 32, 36),
            "gpr/eip/eflags"
        );
        assert_eq!(
            [
                cpu::LAZY_OP,
                cpu::LAZY_SIZE,
                cpu::LAZY_RES,
                cpu::LAZY_A,
                cpu::LAZY_B
            ],
            [40, 44, 48, 52, 56]
        );
        assert_eq!((cpu::FS_BASE, cpu::GS_BASE), (76, 80));
        assert_eq!(
            [
                ctl::PAGE_TABLE,
                ctl::EXIT_CODE,
                ctl::BUDGET,
                ctl::EXCEPTION,
                ctl::FAULT_ADDR,
                ctl::FAULT_BITS,
                ctl::BLOCK,
                ctl::ERROR_CODE,
                ctl::LINK_EPOCH,
                ctl::SLOT,
                ctl::LINKS_FOLLOWED,
                ctl::LINKS_WITHIN
            ],
            [0, 4, 8, 16, 20, 24, 28, 32, 36, 40, 44, 48]
        );
        assert_eq!(std::mem::size_of::<Control>(), 56);
        assert_eq!(LINKS, MachAddr(0x1_0000));
        assert_eq!((LINK_COUNT, LINK_SHIFT), (4096, 20));
        assert_eq!(
            [link::EIP, link::EPOCH, link::SLOT, link::BLOCK, link::SIZE],
            [0, 4, 8, 12, 16]
        );
        assert_eq!(link_index(0), 0);
        assert_eq!(link_index(1), (LINK_HASH >> 20) as usize);
        assert_eq!((pte::R, pte::W, pte::X, pte::WATCHED), (1, 2, 4, 8));
        assert_eq!(pte::FRAME, 0xffff_f000);
        let ops = [
            LazyOp::None,
            LazyOp::Add,
            LazyOp::Adc,
            LazyOp::Sub,
            LazyOp::Sbb,
            LazyOp::Logic,
            LazyOp::Inc,
            LazyOp::Dec,
        ];
        for (i, op) in ops.into_iter().enumerate() {
            assert_eq!(op as u32, i as u32);
        }
    }

    #[test]
    fn offsets_match_the_structs() {
        let mut c = CpuState::default();
        c.gpr[3] = 0x1111;
        c.lazy.b = 0x2222;
        c.seg_base[crate::state::seg::GS] = 0x3333;
        // SAFETY: CpuState is repr(C) plain data; reading its bytes is fine.
        let bytes = unsafe {
            std::slice::from_raw_parts(
                (&c as *const CpuState).cast::<u8>(),
                std::mem::size_of::<CpuState>(),
            )
        };
        let at = |o: u32| u32::from_le_bytes(bytes[o as usize..o as usize + 4].try_into().unwrap());
        assert_eq!(at(cpu::GPR + 12), 0x1111);
        assert_eq!(at(cpu::LAZY_B), 0x2222);
        assert_eq!(at(cpu::GS_BASE), 0x3333);
    }

    #[test]
    fn exits_round_trip() {
        let faults = [
            Exception::PageFault(PageFault {
                addr: GuestAddr(0xdead_b000),
                access: Access::Write,
                protection: true,
                out_of_memory: false,
            }),
            Exception::PageFault(PageFault {
                addr: GuestAddr(0xfff),
                access: Access::Exec,
                protection: false,
                out_of_memory: true,
            }),
            Exception::DivideError,
            Exception::Breakpoint,
            Exception::Overflow,
            Exception::BoundRange,
            Exception::InvalidOpcode,
            Exception::GeneralProtection,
            Exception::GeneralProtectionCode(0x81 * 8 + 2),
            Exception::Debug,
            Exception::FloatingPoint,
            Exception::SimdFloatingPoint,
        ];
        for e in faults {
            let mut c = Control::default();
            c.set_exit(Exit::Exception(e));
            assert_eq!(c.exception(), Some(e));
        }
        let mut c = Control::default();
        c.set_exit(Exit::Syscall);
        assert_eq!(ExitCode::from_u32(c.exit_code), Some(ExitCode::Syscall));
        assert_eq!(c.exception(), None);
        for (exit, code) in [
            (Exit::Rdtsc, ExitCode::Rdtsc),
            (Exit::SingleStep, ExitCode::SingleStep),
        ] {
            c.set_exit(exit);
            assert_eq!(ExitCode::from_u32(c.exit_code), Some(code));
        }
        for v in 0..9 {
            assert_eq!(ExitCode::from_u32(v).map(|c| c as u32), Some(v));
        }
        assert_eq!(ExitCode::from_u32(9), None);
    }

    #[test]
    fn control_slot_is_reachable() {
        let mut m = crate::Machine::new(16 << 20);
        m.slot::<Control>(CONTROL).budget = 7;
        assert_eq!(m.slot::<Control>(CONTROL).budget, 7);
        assert_eq!(m.cpu().eflags, CpuState::default().eflags);
    }
}
