//! Segment registers: MOV to and from them, LDS/LES/LFS/LGS/LSS, and the
//! descriptor queries LAR/LSL/VERR/VERW and ARPL.
//!
//! Wax has no descriptor tables in memory. The descriptors a Linux i386
//! process can name are modelled here: the flat user code and data
//! segments (`selector::USER_CS`, `USER_DS`: base 0, 4 GiB, DPL 3) and the
//! thread's three `set_thread_area` entries (GDT entries
//! `GDT_ENTRY_TLS_MIN..`, from `CpuState::tls`). There is no LDT
//! (`modify_ldt` is not supported), so selectors with TI=1 are invalid.
//!
//! Where a TLS entry and a user segment share a GDT index (entry 14 is both
//! the third TLS slot and USER_CS's index with the constants in `state.rs`)
//! a present TLS entry wins, as the kernel would have overwritten the slot.
//!
//! Loading follows the protected-mode checks of the SDM (MOV, "Operation")
//! at CPL 3: a null selector may go into DS/ES/FS/GS (base 0), never SS; SS
//! needs a writable data segment with RPL 3; the others a data or readable
//! code segment; anything else is #GP with the selector as error code (as
//! the host reports in the signal context). A not-present descriptor would
//! be #NP on hardware (SIGBUS on Linux); Wax raises #GP (SIGSEGV). Only FS
//! and GS bases take part in address computation (`Ctx::seg_base`). CS is
//! loaded by far transfers (`control.rs`) through [`check_cs`].

use super::super::ctx::{gp, ud, Ctx, Flow, Handler};
use super::super::table::op_size;
use crate::exit::Exception;
use crate::interp::decoded::Decoded;
use crate::state::{flag, seg, selector, TlsDescriptor};
use iced_x86::{Code, Instruction, Mnemonic, Register};

/// `TlsDescriptor::flags` bits (the `struct user_desc` bit fields).
mod user_desc {
    pub const SEG_32BIT: u32 = 1 << 0;
    pub const CONTENTS_SHIFT: u32 = 1;
    pub const READ_EXEC_ONLY: u32 = 1 << 3;
    pub const LIMIT_IN_PAGES: u32 = 1 << 4;
    pub const SEG_NOT_PRESENT: u32 = 1 << 5;
    pub const USEABLE: u32 = 1 << 6;
}

/// Descriptor type bits (the low nibble of the access byte, S=1).
mod ty {
    pub const ACCESSED: u8 = 1;
    /// Writable for data, readable for code.
    pub const RW: u8 = 2;
    pub const CODE: u8 = 8;
}

/// The parts of a segment descriptor user mode can observe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Descriptor {
    base: u32,
    /// The 20-bit limit field.
    limit: u32,
    /// Access byte: P, DPL, S, type.
    access: u8,
    /// G, D/B, L, AVL (bits 55..52 of the descriptor).
    flags: u8,
}

const PRESENT_DPL3_S: u8 = 0x80 | 0x60 | 0x10;
/// G=1, D=1.
const FLAT_FLAGS: u8 = 0xc;

impl Descriptor {
    fn flat(kind: u8) -> Descriptor {
        Descriptor {
            base: 0,
            limit: 0xf_ffff,
            access: PRESENT_DPL3_S | kind | ty::RW | ty::ACCESSED,
            flags: FLAT_FLAGS,
        }
    }

    /// Built the way Linux's `fill_ldt` does from a `user_desc`.
    fn from_tls(t: &TlsDescriptor) -> Descriptor {
        let f = t.flags;
        let bit = |b: u32| u8::from(f & b != 0);
        let writable = 1 - bit(user_desc::READ_EXEC_ONLY);
        let contents = ((f >> user_desc::CONTENTS_SHIFT) & 3) as u8;
        let kind = writable << 1 | contents << 2 | ty::ACCESSED;
        let present = 1 - bit(user_desc::SEG_NOT_PRESENT);
        Descriptor {
            base: t.base,
            limit: t.limit & 0xf_ffff,
            access: present << 7 | 0x60 | 0x10 | kind,
            flags: bit(user_desc::LIMIT_IN_PAGES) << 3
                | bit(user_desc::SEG_32BIT) << 2
                | bit(user_desc::USEABLE),
        }
    }

    fn present(self) -> bool {
        self.access & 0x80 != 0
    }
    fn is_code(self) -> bool {
        self.access & ty::CODE != 0
    }
    /// Readable: any data segment, or code with the R bit.
    fn readable(self) -> bool {
        !self.is_code() || self.access & ty::RW != 0
    }
    fn writable(self) -> bool {
        !self.is_code() && self.access & ty::RW != 0
    }
    /// The limit in bytes (what LSL returns).
    fn byte_limit(self) -> u32 {
        if self.flags & 8 != 0 {
            self.limit << 12 | 0xfff
        } else {
            self.limit
        }
    }
    /// The access-rights image LAR returns: descriptor bits 8..23 of its
    /// second dword (access byte, limit 19:16, flags).
    fn rights(self) -> u32 {
        u32::from(self.access) << 8 | (self.limit >> 16) << 16 | u32::from(self.flags) << 20
    }
}

/// Whether a selector is null (index 0 in the GDT, any RPL).
fn is_null(sel: u16) -> bool {
    sel & !3 == 0
}

/// The descriptor a selector names, if any.
fn descriptor(ctx: &Ctx<'_, '_>, sel: u16) -> Option<Descriptor> {
    if sel & 4 != 0 || is_null(sel) {
        return None;
    }
    let index = u32::from(sel >> 3);
    let tls = index.wrapping_sub(selector::GDT_ENTRY_TLS_MIN);
    if tls < selector::GDT_ENTRY_TLS_ENTRIES {
        let t = &ctx.cpu.tls[tls as usize];
        if t.present != 0 {
            return Some(Descriptor::from_tls(t));
        }
    }
    if index == u32::from(selector::USER_CS >> 3) {
        Some(Descriptor::flat(ty::CODE))
    } else if index == u32::from(selector::USER_DS >> 3) {
        Some(Descriptor::flat(0))
    } else {
        None
    }
}

/// #GP for selector `sel`: error code 0 for a null selector, else the
/// selector's index and TI bit (the low two bits are EXT and IDT, 0 here).
pub(in crate::interp) fn gp_sel<T>(sel: u16) -> Flow<T> {
    if is_null(sel) {
        gp()
    } else {
        Err(Exception::GeneralProtectionCode(sel & 0xfffc).into())
    }
}

/// Loads segment register `s` (a `state::seg` number other than CS) with
/// `sel`, applying the CPL 3 checks; #GP(selector) if it may not be loaded.
pub(in crate::interp) fn load_seg(ctx: &mut Ctx<'_, '_>, s: usize, sel: u16) -> Flow {
    let base = if is_null(sel) && s != seg::SS {
        0
    } else {
        let Some(d) = descriptor(ctx, sel) else {
            return gp_sel(sel);
        };
        let ok = if s == seg::SS {
            sel & 3 == 3 && d.writable()
        } else {
            d.readable()
        };
        if !ok || !d.present() {
            return gp_sel(sel);
        }
        d.base
    };
    ctx.cpu.seg_sel[s] = sel;
    ctx.cpu.seg_base[s] = base;
    Ok(())
}

/// Checks the code selector of a far transfer at CPL 3 and returns the
/// value CS takes (RPL replaced by the CPL). CALL and JMP accept any RPL
/// (a numerically lower RPL is fine for a non-conforming segment of the
/// current privilege); RET and IRET with an RPL below 3 would return to a
/// more privileged level and fault. The only code segment a Linux i386
/// process can name is `selector::USER_CS` (flat, DPL 3); a TLS entry is
/// always data (Linux refuses code contents in `set_thread_area`), and
/// one that is code anyway is refused too, since Wax fetches instructions
/// at EIP without a CS base. The x86-64 kernel's 64-bit code segment
/// (0x33) is not modelled: Wax runs 32-bit code only.
pub(in crate::interp) fn check_cs(ctx: &Ctx<'_, '_>, sel: u16, ret: bool) -> Flow<u16> {
    if is_null(sel) {
        return gp();
    }
    let ok = descriptor(ctx, sel)
        .is_some_and(|d| d.is_code() && d.present() && d.base == 0 && d.byte_limit() == u32::MAX);
    if !ok || (ret && sel & 3 != 3) {
        return gp_sel(sel);
    }
    Ok(sel | 3)
}

/// The `state::seg` number of an iced segment register.
pub(in crate::interp) fn seg_index(r: Register) -> usize {
    r as usize - Register::ES as usize
}

/// MOV Sreg, r/m16. MOV CS is #UD.
fn mov_sreg_rm(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let s = seg_index(insn.op0_register());
    if s == seg::CS {
        return ud();
    }
    let sel = ctx.read_op(insn, 1, 16)? as u16;
    load_seg(ctx, s, sel)
}

/// MOV r/m, Sreg: memory takes 16 bits; a 32-bit register gets the
/// selector zero-extended (P6 and later, and the host), a 16-bit one keeps
/// its upper half.
fn mov_rm_sreg(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let v = u32::from(ctx.cpu.seg_sel[seg_index(insn.op1_register())]);
    let dst = ctx.loc(insn, 0);
    let size = op_size(insn, 0).min(32);
    ctx.write_loc(dst, size, v)
}

/// LDS/LES/LFS/LGS/LSS r, m16:S: offset, then selector; the segment is
/// loaded (and may fault) before the register changes.
fn load_far<const S: u32>(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let a = ctx.ea(insn);
    let offset = ctx.read(a, S)?;
    let sel = ctx.read(a.add(S / 8), 16)? as u16;
    let s = match insn.mnemonic() {
        Mnemonic::Les => seg::ES,
        Mnemonic::Lds => seg::DS,
        Mnemonic::Lss => seg::SS,
        Mnemonic::Lfs => seg::FS,
        _ => seg::GS,
    };
    load_seg(ctx, s, sel)?;
    ctx.set_reg(insn.op0_register(), offset);
    Ok(())
}

/// Sets or clears ZF, leaving the other flags.
fn set_zf(ctx: &mut Ctx<'_, '_>, z: bool) {
    ctx.cpu
        .update_status(flag::ZF, if z { flag::ZF } else { 0 });
}

/// LAR/LSL r, r/m16: ZF=1 and the result for a descriptor visible at
/// CPL 3 (all of Wax's are DPL 3), else ZF=0 and the register unchanged.
/// A 16-bit destination receives the low 16 bits.
fn lar_lsl<const LSL: bool>(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let sel = ctx.read_op(insn, 1, 16)? as u16;
    let found = descriptor(ctx, sel);
    set_zf(ctx, found.is_some());
    if let Some(d) = found {
        let v = if LSL { d.byte_limit() } else { d.rights() };
        ctx.set_reg(insn.op0_register(), v);
    }
    Ok(())
}

/// VERR/VERW r/m16: ZF=1 if the segment is readable/writable from CPL 3.
fn verr_verw<const WRITE: bool>(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let sel = ctx.read_op(insn, 0, 16)? as u16;
    let ok = descriptor(ctx, sel).is_some_and(|d| if WRITE { d.writable() } else { d.readable() });
    set_zf(ctx, ok);
    Ok(())
}

/// ARPL r/m16, r16: raises the RPL of the destination selector to the
/// source's; ZF says whether it changed.
fn arpl(ctx: &mut Ctx<'_, '_>, insn: &Decoded) -> Flow {
    let dst = ctx.loc(insn, 0);
    let d = ctx.read_loc(dst, 16)?;
    let s = ctx.reg(insn.op1_register());
    let raise = d & 3 < s & 3;
    if raise {
        ctx.write_loc(dst, 16, (d & !3) | (s & 3))?;
    }
    set_zf(ctx, raise);
    Ok(())
}

/// Selects handlers of this group.
pub(super) fn lookup(insn: &Instruction) -> Option<Handler> {
    use Mnemonic::*;
    Some(match insn.code() {
        Code::Mov_Sreg_rm16 | Code::Mov_Sreg_r32m16 => mov_sreg_rm,
        Code::Mov_rm16_Sreg | Code::Mov_r32m16_Sreg => mov_rm_sreg,
        Code::Arpl_rm16_r16 | Code::Arpl_r32m16_r32 => arpl,
        _ => match insn.mnemonic() {
            Lds | Les | Lfs | Lgs | Lss if op_size(insn, 0) == 16 => load_far::<16>,
            Lds | Les | Lfs | Lgs | Lss => load_far::<32>,
            Lar => lar_lsl::<false>,
            Lsl => lar_lsl::<true>,
            Verr => verr_verw::<false>,
            Verw => verr_verw::<true>,
            _ => return None,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::super::testutil::Vm;
    use crate::exit::{Exception, Exit};
    use crate::state::{flag, seg, TlsDescriptor};

    fn tls_vm(code: &[u8]) -> Vm {
        let mut vm = Vm::new(code);
        vm.cpu().tls[0] = TlsDescriptor {
            base: 0x10000,
            limit: 0xfffff,
            flags: 0x51, // seg_32bit, limit_in_pages, useable
            present: 1,
        };
        vm
    }

    #[test]
    fn mov_fs_with_tls_selector_sets_base() {
        // mov ax, 0x63 ; mov fs, ax ; mov ebx, fs:[4]
        let mut vm = tls_vm(&[
            0x66, 0xb8, 0x63, 0x00, 0x8e, 0xe0, 0x64, 0x8b, 0x1d, 4, 0, 0, 0,
        ]);
        vm.mem()
            .write_u32(crate::GuestAddr(0x10004), 0x1234_5678)
            .unwrap();
        assert_eq!(vm.run(), Exit::Syscall);
        assert_eq!(vm.cpu().seg_sel[seg::FS], 0x63);
        assert_eq!(vm.cpu().seg_base[seg::FS], 0x10000);
        assert_eq!(vm.cpu().gpr[3], 0x1234_5678);
    }

    #[test]
    fn null_and_bad_selectors() {
        // mov ax, 0 ; mov gs, ax  (fine, base 0)
        let mut vm = tls_vm(&[0x31, 0xc0, 0x8e, 0xe8]);
        vm.cpu().seg_base[seg::GS] = 0x5000;
        assert_eq!(vm.run(), Exit::Syscall);
        assert_eq!(vm.cpu().seg_base[seg::GS], 0);
        // mov eax, 0x6b (TLS entry 13, not present) ; mov gs, ax
        let mut vm = tls_vm(&[0xb8, 0x6b, 0, 0, 0, 0x8e, 0xe8]);
        assert_eq!(
            vm.run(),
            Exit::Exception(Exception::GeneralProtectionCode(0x68))
        );
        assert_eq!(vm.cpu().eip, 0x1005);
        // mov ss, ax with null, and with a code selector
        let mut vm = tls_vm(&[0x31, 0xc0, 0x8e, 0xd0]);
        assert_eq!(vm.run(), Exit::Exception(Exception::GeneralProtection));
        let mut vm = tls_vm(&[0xb8, 0x23, 0, 0, 0, 0x8e, 0xd0]);
        assert_eq!(
            vm.run(),
            Exit::Exception(Exception::GeneralProtectionCode(0x20))
        );
        // mov ds, 0x28 (USER_DS with RPL 0) is allowed; mov cs is #UD.
        let mut vm = tls_vm(&[0xb8, 0x28, 0, 0, 0, 0x8e, 0xd8]);
        assert_eq!(vm.run(), Exit::Syscall);
        assert_eq!(vm.cpu().seg_sel[seg::DS], 0x28);
        let mut vm = tls_vm(&[0xb8, 0x23, 0, 0, 0, 0x8e, 0xc8]);
        assert_eq!(vm.run(), Exit::Exception(Exception::InvalidOpcode));
    }

    #[test]
    fn mov_from_sreg_widths() {
        // mov eax, ds ; mov bx, ds ; mov [0x10000], ds
        let mut vm = Vm::new(&[0x8c, 0xd8, 0x66, 0x8c, 0xdb, 0x8c, 0x1d, 0, 0, 1, 0]);
        vm.cpu().gpr[0] = 0xffff_ffff;
        vm.cpu().gpr[3] = 0xffff_ffff;
        vm.mem()
            .write_u32(crate::GuestAddr(0x10000), 0xffff_ffff)
            .unwrap();
        assert_eq!(vm.run(), Exit::Syscall);
        assert_eq!(vm.cpu().gpr[0], 0x2b);
        assert_eq!(vm.cpu().gpr[3], 0xffff_002b);
        let m = vm.mem().read_u32(crate::GuestAddr(0x10000)).unwrap();
        assert_eq!(m, 0xffff_002b);
    }

    #[test]
    fn lar_lsl_verr() {
        // lar eax, ecx ; lsl edx, ecx (ecx = 0x63, the TLS entry)
        let mut vm = tls_vm(&[0x0f, 0x02, 0xc1, 0x0f, 0x03, 0xd1]);
        vm.cpu().gpr[1] = 0x63;
        assert_eq!(vm.run(), Exit::Syscall);
        assert_eq!(vm.cpu().gpr[0], 0x00df_f300);
        assert_eq!(vm.cpu().gpr[2], 0xffff_ffff);
        assert!(vm.cpu().zf());
        // lar eax, ecx with ecx = 0x2b (flat data), then with a null one
        let mut vm = Vm::new(&[0x0f, 0x02, 0xc1, 0x0f, 0x02, 0xd3]);
        vm.cpu().gpr[1] = 0x2b;
        vm.cpu().gpr[2] = 0xcccc_cccc;
        assert_eq!(vm.run(), Exit::Syscall);
        assert_eq!(vm.cpu().gpr[0], 0x00cf_f300);
        assert_eq!(vm.cpu().gpr[2], 0xcccc_cccc);
        assert!(!vm.cpu().zf());
        // verw cx on code: ZF=0 ; verr on code: ZF=1
        let mut vm = Vm::new(&[0x0f, 0x00, 0xe9, 0x9c, 0x0f, 0x00, 0xe1]);
        vm.cpu().gpr[1] = 0x23;
        assert_eq!(vm.run(), Exit::Syscall);
        let sp = vm.cpu().gpr[4];
        let pushed = vm.mem().read_u32(crate::GuestAddr(sp)).unwrap();
        assert_eq!(pushed & flag::ZF, 0);
        assert!(vm.cpu().zf());
    }

    #[test]
    fn arpl_raises_rpl() {
        // arpl ax, cx
        let mut vm = Vm::new(&[0x63, 0xc8]);
        vm.cpu().gpr[0] = 0x1230;
        vm.cpu().gpr[1] = 3;
        assert_eq!(vm.run(), Exit::Syscall);
        assert_eq!(vm.cpu().gpr[0], 0x1233);
        assert!(vm.cpu().zf());
    }

    #[test]
    fn lgs_loads_offset_and_selector() {
        // lgs ebx, [0x10000]
        let mut vm = tls_vm(&[0x0f, 0xb5, 0x1d, 0, 0, 1, 0]);
        vm.mem()
            .write_u32(crate::GuestAddr(0x10000), 0xabcd)
            .unwrap();
        vm.mem().write_u16(crate::GuestAddr(0x10004), 0x63).unwrap();
        assert_eq!(vm.run(), Exit::Syscall);
        assert_eq!(vm.cpu().gpr[3], 0xabcd);
        assert_eq!(vm.cpu().seg_base[seg::GS], 0x10000);
    }
}
