//! Guest CPU state.
//!
//! `CpuState` is `#[repr(C)]` with fixed field offsets (see `offsets`):
//! translated wasm code will address the fields at constant offsets inside
//! machine memory, so the layout is a contract. Add fields at the end.

use crate::mem::Slot;

/// General-purpose register numbers, in x86 encoding order.
pub mod reg {
    pub const EAX: usize = 0;
    pub const ECX: usize = 1;
    pub const EDX: usize = 2;
    pub const EBX: usize = 3;
    pub const ESP: usize = 4;
    pub const EBP: usize = 5;
    pub const ESI: usize = 6;
    pub const EDI: usize = 7;
}

/// Segment register numbers, in x86 encoding order.
pub mod seg {
    pub const ES: usize = 0;
    pub const CS: usize = 1;
    pub const SS: usize = 2;
    pub const DS: usize = 3;
    pub const FS: usize = 4;
    pub const GS: usize = 5;
}

/// EFLAGS bits.
pub mod flag {
    pub const CF: u32 = 1 << 0;
    /// Bit 1 always reads as 1.
    pub const FIXED1: u32 = 1 << 1;
    pub const PF: u32 = 1 << 2;
    pub const AF: u32 = 1 << 4;
    pub const ZF: u32 = 1 << 6;
    pub const SF: u32 = 1 << 7;
    pub const TF: u32 = 1 << 8;
    pub const IF: u32 = 1 << 9;
    pub const DF: u32 = 1 << 10;
    pub const OF: u32 = 1 << 11;
    pub const IOPL: u32 = 3 << 12;
    pub const NT: u32 = 1 << 14;
    pub const RF: u32 = 1 << 16;
    pub const VM: u32 = 1 << 17;
    pub const AC: u32 = 1 << 18;
    pub const VIF: u32 = 1 << 19;
    pub const VIP: u32 = 1 << 20;
    pub const ID: u32 = 1 << 21;
    /// The six arithmetic status flags.
    pub const STATUS: u32 = CF | PF | AF | ZF | SF | OF;
    /// Flags a user-mode POPF may change (IOPL, IF, VM, VIF/VIP stay).
    pub const USER_WRITABLE: u32 = STATUS | TF | DF | NT | AC | ID;
}

/// User-mode selectors Linux gives i386 processes. Wax follows an x86-64
/// kernel running 32-bit tasks (as the reference host does): compat code
/// segment 0x23, data 0x2b, TLS descriptors in GDT entries 12..14 (an i386
/// kernel would use 0x73/0x7b and entries 6..8).
pub mod selector {
    pub const USER_CS: u16 = 0x23;
    pub const USER_DS: u16 = 0x2b;
    /// First GDT entry usable through `set_thread_area`.
    pub const GDT_ENTRY_TLS_MIN: u32 = 12;
    /// Number of TLS descriptors per thread.
    pub const GDT_ENTRY_TLS_ENTRIES: u32 = 3;
}

/// One of the thread's TLS segment descriptors (`set_thread_area`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TlsDescriptor {
    pub base: u32,
    pub limit: u32,
    /// `user_desc` flag bits as Linux packs them (seg_32bit, contents,
    /// read_exec_only, limit_in_pages, seg_not_present, useable).
    pub flags: u32,
    /// Non-zero when the entry is in use.
    pub present: u32,
}

/// An x87 register in memory: 64-bit significand and 16-bit sign/exponent,
/// the hardware's 80-bit format, padded to 16 bytes. MMX registers alias the
/// significand, as on the hardware.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct F80 {
    pub signif: u64,
    pub sign_exp: u16,
    pub pad: [u16; 3],
}

/// x87 FPU state.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct X87State {
    /// Physical registers R0..R7 (ST(i) is R((TOP+i) & 7)).
    pub regs: [F80; 8],
    pub control: u16,
    /// Status word without TOP (TOP is kept in `top`).
    pub status: u16,
    /// Full two-bit-per-register tag word.
    pub tag: u16,
    pub top: u16,
    pub last_opcode: u16,
    pub pad: u16,
    pub last_ip: u32,
    pub last_dp: u32,
}

impl Default for X87State {
    /// The state after FNINIT.
    fn default() -> Self {
        X87State {
            regs: [F80::default(); 8],
            control: 0x037f,
            status: 0,
            tag: 0xffff,
            top: 0,
            last_opcode: 0,
            pad: 0,
            last_ip: 0,
            last_dp: 0,
        }
    }
}

/// Lazily evaluated arithmetic flags: the last flag-setting operation and
/// its operands. `op == LazyOp::None` means `eflags` holds the flags.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LazyFlags {
    /// A `crate::flags::LazyOp` value.
    pub op: u32,
    /// Operand width in bits (8, 16 or 32).
    pub size: u32,
    pub res: u32,
    pub a: u32,
    pub b: u32,
}

/// The architectural state of one guest thread.
#[repr(C)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CpuState {
    /// EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI.
    pub gpr: [u32; 8],
    pub eip: u32,
    /// EFLAGS; the six status flags are only valid when `lazy.op` is None.
    /// Read and write the whole register through `flags.rs`.
    pub eflags: u32,
    pub lazy: LazyFlags,
    /// Segment bases (only FS and GS are ever non-zero in user mode).
    pub seg_base: [u32; 6],
    pub seg_sel: [u16; 6],
    pub pad0: u32,
    /// The thread's `set_thread_area` descriptors (GDT entries 12..14).
    pub tls: [TlsDescriptor; 3],
    pub x87: X87State,
    pub xmm: [[u32; 4]; 8],
    pub mxcsr: u32,
}

// SAFETY: repr(C), built only from integers and arrays of integers; every
// bit pattern is a valid value.
unsafe impl Slot for CpuState {}

impl Default for CpuState {
    fn default() -> Self {
        CpuState {
            gpr: [0; 8],
            eip: 0,
            eflags: flag::FIXED1 | flag::IF,
            lazy: LazyFlags::default(),
            seg_base: [0; 6],
            seg_sel: [
                selector::USER_DS,
                selector::USER_CS,
                selector::USER_DS,
                selector::USER_DS,
                0,
                0,
            ],
            pad0: 0,
            tls: [TlsDescriptor::default(); 3],
            x87: X87State::default(),
            xmm: [[0; 4]; 8],
            mxcsr: 0x1f80,
        }
    }
}

/// Byte offsets of the fields generated code reads and writes.
pub mod offsets {
    use super::CpuState;
    use std::mem::offset_of;

    pub const GPR: usize = offset_of!(CpuState, gpr);
    pub const EIP: usize = offset_of!(CpuState, eip);
    pub const EFLAGS: usize = offset_of!(CpuState, eflags);
    pub const LAZY: usize = offset_of!(CpuState, lazy);
    pub const SEG_BASE: usize = offset_of!(CpuState, seg_base);
    pub const X87: usize = offset_of!(CpuState, x87);
    pub const XMM: usize = offset_of!(CpuState, xmm);
    pub const MXCSR: usize = offset_of!(CpuState, mxcsr);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_stable() {
        // These offsets are read by generated code; changing them is a
        // deliberate act that must update the translator as well.
        assert_eq!(offsets::GPR, 0);
        assert_eq!(offsets::EIP, 32);
        assert_eq!(offsets::EFLAGS, 36);
        assert_eq!(offsets::LAZY, 40);
        assert_eq!(offsets::SEG_BASE, 60);
        assert_eq!(std::mem::size_of::<F80>(), 16);
        assert_eq!(offsets::XMM % 16, 0);
    }
}
