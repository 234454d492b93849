//! The memory layout both sides share, a test case and its outcome.

/// The code of a case ends exactly here: the runner jumps back from this
/// address; on the interpreter side the page is unmapped, so reaching it is
/// an instruction fetch fault at exactly this address.
pub const CODE_END: u32 = 0x1000_1000;
/// The page that holds the code.
pub const CODE_PAGE: u32 = CODE_END - 0x1000;
/// Two read-write data pages. They sit below 64 KiB so 16-bit addressing
/// (0x67) reaches them too.
pub const DATA: u32 = 0x8000;
pub const DATA_LEN: u32 = 0x2000;
/// A read-only page after the data, filled with `ro_byte`.
pub const RO: u32 = DATA + DATA_LEN;
/// One read-write stack page.
pub const STACK: u32 = 0x3000_0000;
pub const STACK_LEN: u32 = 0x1000;
/// Longest code of one case (the runner's limit).
pub const MAX_CODE: usize = 256;

/// Whether `addr` may belong to the host runner's own mappings: its static
/// image and brk heap from 0x08000000, its stack, vDSO and any mmap from
/// 0xf0000000 (an i386 process on a 64-bit kernel), and the wrap-around at
/// 4 GiB (#SS on the host, which Wax does not model). What lives there
/// differs between hosts and kernels, and none of it exists under Wax.
pub fn in_runner(addr: u32) -> bool {
    (0x0800_0000..0x1000_0000).contains(&addr) || addr >= 0xf000_0000
}

/// Content of the read-only page (the runner fills it the same way).
pub fn ro_byte(offset: u32) -> u8 {
    (offset * 7 + 3) as u8
}

/// Offset of a guest address in the combined data+stack image that diffs
/// are expressed in, if the address is in one of the two areas.
pub fn area_offset(addr: u32) -> Option<u32> {
    if (DATA..DATA + DATA_LEN).contains(&addr) {
        Some(addr - DATA)
    } else if (STACK..STACK + STACK_LEN).contains(&addr) {
        Some(addr - STACK + DATA_LEN)
    } else {
        None
    }
}

/// Guest address of an offset in the combined image.
pub fn area_addr(offset: u32) -> u32 {
    if offset < DATA_LEN {
        DATA + offset
    } else {
        STACK + offset - DATA_LEN
    }
}

/// Bytes a case puts into an area before it runs (the rest is zero).
#[derive(Clone, Debug, Default)]
pub struct Window {
    /// Offset inside the area.
    pub off: u16,
    pub bytes: Vec<u8>,
}

/// One generated test: code plus the initial state.
#[derive(Clone, Debug)]
pub struct Case {
    /// The form under test (its iced code), for the report.
    pub form: iced_x86::Code,
    /// Prefix or operand variant of the form ("lock", "rep a16", "chain").
    pub variant: &'static str,
    /// Byte offset of the instruction under test inside `code`.
    pub main: usize,
    pub code: Vec<u8>,
    /// EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI.
    pub regs: [u32; 8],
    pub eflags: u32,
    pub data: Window,
    pub stack: Window,
}

impl Case {
    /// Guest address of the first code byte.
    pub fn entry(&self) -> u32 {
        CODE_END - self.code.len() as u32
    }

    /// Name of the form and variant, for the report.
    pub fn label(&self) -> String {
        if self.variant.is_empty() {
            format!("{:?}", self.form)
        } else {
            format!("{:?} ({})", self.form, self.variant)
        }
    }
}

/// How a case ended, on either side.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// 0 when the code ran to `CODE_END`, else the signal (or a pseudo
    /// signal from `wax.rs` for exits that have no signal).
    pub signo: u32,
    /// si_code and si_addr of the signal.
    pub code: u32,
    pub addr: u32,
    pub eip: u32,
    pub regs: [u32; 8],
    pub eflags: u32,
    /// Changed bytes of the data+stack image: offset << 8 | new value,
    /// in increasing offset order.
    pub diff: Vec<u32>,
}
