//! The execution context handlers receive, and operand access helpers.

use super::decoded::Decoded;
use crate::addr::GuestAddr;
use crate::exit::{Exception, Exit};
use crate::mem::GuestMem;
use crate::state::{reg, CpuState};
use iced_x86::{OpKind, Register};

/// What a handler returns: `Err` stops the block with an exit reason.
pub type Flow<T = ()> = Result<T, Exit>;

/// An instruction handler.
pub type Handler = fn(&mut Ctx<'_, '_>, &Decoded) -> Flow;

/// The state an instruction executes against.
pub struct Ctx<'c, 'm> {
    pub cpu: &'c mut CpuState,
    pub mem: &'c mut GuestMem<'m>,
}

/// Where an r/m operand lives, resolved once per instruction.
#[derive(Clone, Copy, Debug)]
pub enum Loc {
    Reg(Register),
    Mem(GuestAddr),
}

/// Raises #UD.
pub fn ud<T>() -> Flow<T> {
    Err(Exit::Exception(Exception::InvalidOpcode))
}

/// Raises #GP(0).
pub fn gp<T>() -> Flow<T> {
    Err(Exit::Exception(Exception::GeneralProtection))
}

impl Ctx<'_, '_> {
    /// Reads an 8-, 16- or 32-bit general register (iced register numbers).
    #[inline(always)]
    pub fn reg(&self, r: Register) -> u32 {
        let n = r as usize;
        match n {
            37..=44 => self.cpu.gpr[n - 37],
            21..=28 => self.cpu.gpr[n - 21] & 0xffff,
            1..=4 => self.cpu.gpr[n - 1] & 0xff,
            5..=8 => (self.cpu.gpr[n - 5] >> 8) & 0xff,
            71..=76 => u32::from(self.cpu.seg_sel[n - 71]),
            _ => 0,
        }
    }

    /// Writes a general register, merging partial writes like the hardware.
    #[inline(always)]
    pub fn set_reg(&mut self, r: Register, v: u32) {
        let n = r as usize;
        match n {
            37..=44 => self.cpu.gpr[n - 37] = v,
            21..=28 => {
                let g = &mut self.cpu.gpr[n - 21];
                *g = (*g & 0xffff_0000) | (v & 0xffff);
            }
            1..=4 => {
                let g = &mut self.cpu.gpr[n - 1];
                *g = (*g & 0xffff_ff00) | (v & 0xff);
            }
            5..=8 => {
                let g = &mut self.cpu.gpr[n - 5];
                *g = (*g & 0xffff_00ff) | ((v & 0xff) << 8);
            }
            _ => debug_assert!(false, "set_reg on {r:?}"),
        }
    }

    /// The effective (linear) address of the instruction's memory operand,
    /// with the FS/GS base added (the form was worked out at decode time).
    #[inline(always)]
    pub fn ea(&self, insn: &Decoded) -> GuestAddr {
        let f = &insn.ea;
        let mut a = f.disp;
        if let Some(&b) = self.cpu.gpr.get(usize::from(f.base)) {
            a = a.wrapping_add(b);
        }
        if let Some(&i) = self.cpu.gpr.get(usize::from(f.index)) {
            a = a.wrapping_add(i << f.shift);
        }
        a &= f.mask;
        if let Some(&s) = self.cpu.seg_base.get(usize::from(f.seg)) {
            a = a.wrapping_add(s);
        }
        GuestAddr(a)
    }

    /// The base of a segment register (only FS and GS are non-zero).
    #[inline(always)]
    pub fn seg_base(&self, s: Register) -> u32 {
        match s {
            Register::FS => self.cpu.seg_base[crate::state::seg::FS],
            Register::GS => self.cpu.seg_base[crate::state::seg::GS],
            _ => 0,
        }
    }

    /// Resolves operand `op` (a register or memory r/m operand).
    #[inline(always)]
    pub fn loc(&self, insn: &Decoded, op: u32) -> Loc {
        match insn.op_kind(op) {
            OpKind::Register => Loc::Reg(insn.op_register(op)),
            _ => Loc::Mem(self.ea(insn)),
        }
    }

    /// Reads an operand location of `size` bits.
    #[inline(always)]
    pub fn read_loc(&mut self, loc: Loc, size: u32) -> Flow<u32> {
        match loc {
            Loc::Reg(r) => Ok(self.reg(r)),
            Loc::Mem(a) => self.read(a, size),
        }
    }

    /// Reads the destination of a read-modify-write instruction. The CPU
    /// reads it with write intent: when the first page is not writable and
    /// the read would fault on the second, the write fault on the first
    /// page is the one reported.
    #[inline(always)]
    pub fn read_loc_rmw(&mut self, loc: Loc, size: u32) -> Flow<u32> {
        match self.read_loc(loc, size) {
            Err(e) => match loc {
                Loc::Mem(a) => {
                    self.mem.probe_write(a, size / 8)?;
                    Err(e)
                }
                Loc::Reg(_) => Err(e),
            },
            ok => ok,
        }
    }

    /// Writes an operand location of `size` bits.
    #[inline(always)]
    pub fn write_loc(&mut self, loc: Loc, size: u32, v: u32) -> Flow {
        match loc {
            Loc::Reg(r) => {
                self.set_reg(r, v);
                Ok(())
            }
            Loc::Mem(a) => self.write(a, size, v),
        }
    }

    /// Reads `size` bits of guest memory.
    #[inline(always)]
    pub fn read(&mut self, a: GuestAddr, size: u32) -> Flow<u32> {
        Ok(match size {
            8 => u32::from(self.mem.read_u8(a)?),
            16 => u32::from(self.mem.read_u16(a)?),
            _ => self.mem.read_u32(a)?,
        })
    }

    /// Writes `size` bits of guest memory.
    #[inline(always)]
    pub fn write(&mut self, a: GuestAddr, size: u32, v: u32) -> Flow {
        match size {
            8 => self.mem.write_u8(a, v as u8)?,
            16 => self.mem.write_u16(a, v as u16)?,
            _ => self.mem.write_u32(a, v)?,
        }
        Ok(())
    }

    /// Reads operand `op` of any kind (register, memory or the first
    /// immediate).
    #[inline(always)]
    pub fn read_op(&mut self, insn: &Decoded, op: u32, size: u32) -> Flow<u32> {
        match insn.op_kind(op) {
            OpKind::Register => Ok(self.reg(insn.op_register(op))),
            OpKind::Memory => {
                let a = self.ea(insn);
                self.read(a, size)
            }
            // The only immediate read this way is the first one.
            _ => Ok(insn.imm & crate::flags::size_mask(size)),
        }
    }

    /// ESP.
    #[inline(always)]
    pub fn esp(&self) -> u32 {
        self.cpu.gpr[reg::ESP]
    }

    /// Pushes a value of `size` bits (16 or 32).
    #[inline(always)]
    pub fn push(&mut self, size: u32, v: u32) -> Flow {
        let sp = self.esp().wrapping_sub(size / 8);
        self.write(GuestAddr(sp), size, v)?;
        self.cpu.gpr[reg::ESP] = sp;
        Ok(())
    }

    /// Pops a value of `size` bits (16 or 32).
    #[inline(always)]
    pub fn pop(&mut self, size: u32) -> Flow<u32> {
        let sp = self.esp();
        let v = self.read(GuestAddr(sp), size)?;
        self.cpu.gpr[reg::ESP] = sp.wrapping_add(size / 8);
        Ok(v)
    }
}
