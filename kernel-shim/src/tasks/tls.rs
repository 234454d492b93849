//! TLS descriptors: the `struct user_desc` of set_thread_area and
//! clone's CLONE_SETTLS.

use crate::abi::errno::{Errno, KResult};
use wax_cpu::state::{seg, selector, TlsDescriptor};

/// `struct user_desc` flag bits (in the fourth word).
pub const READ_EXEC_ONLY: u32 = 1 << 3;
pub const SEG_NOT_PRESENT: u32 = 1 << 5;

/// Installs a `struct user_desc` (entry, base, limit, flags) as a TLS
/// descriptor of `cpu` (set_thread_area, clone's CLONE_SETTLS); returns
/// the entry number used.
pub fn apply_user_desc(cpu: &mut wax_cpu::CpuState, desc: [u32; 4]) -> KResult<u32> {
    let [entry, base, limit, flags] = desc;
    let min = selector::GDT_ENTRY_TLS_MIN;
    let entry = if entry == u32::MAX {
        let free = cpu
            .tls
            .iter()
            .position(|d| d.present == 0)
            .ok_or(Errno::ESRCH)?;
        free as u32 + min
    } else {
        entry
    };
    if !(min..min + selector::GDT_ENTRY_TLS_ENTRIES).contains(&entry) {
        return Err(Errno::EINVAL);
    }
    // Linux's LDT_empty: a descriptor that clears the entry.
    let empty = base == 0 && limit == 0 && flags & 0x7f == READ_EXEC_ONLY | SEG_NOT_PRESENT;
    cpu.tls[(entry - min) as usize] = TlsDescriptor {
        base,
        limit,
        flags,
        present: u32::from(!empty),
    };
    // A segment register holding this selector sees the new base at once.
    for s in [seg::FS, seg::GS] {
        if u32::from(cpu.seg_sel[s]) >> 3 == entry {
            cpu.seg_base[s] = if empty { 0 } else { base };
        }
    }
    Ok(entry)
}
