//! Signal handler frames, laid out exactly like Linux's i386
//! `struct rt_sigframe` (actions with SA_SIGINFO, restored by
//! rt_sigreturn) and the legacy `struct sigframe` (all others, restored
//! by sigreturn), and their undoing.
//!
//! Stack, top down (Linux's `get_sigframe`): the FXSAVE image (512 bytes,
//! 64-byte aligned) preceded by the 112-byte FNSAVE-format header, which
//! together make `struct _fpstate_32` (624 bytes); below it the frame,
//! placed so that `frame + 4` is 16-byte aligned. The handler starts with
//! EAX = signal, EDX = &info, ECX = &uc (rt frames), a clean FPU (FNINIT,
//! MXCSR 0x1f80) and EFLAGS.DF/TF/RF clear. sigreturn reloads everything
//! the handler may have changed, the FPU state included; as in Linux, the
//! x87 part comes from the FNSAVE-format header and MXCSR/XMM from the
//! FXSAVE image.

use crate::kernel::Kernel;
use crate::signals::AltStack;
use crate::signals::{SigAction, Siginfo, SA_ONSTACK, SA_RESTORER, SA_SIGINFO, UNBLOCKABLE};

use wax_cpu::state::{flag, reg, selector, X87State, F80};
use wax_cpu::{CpuState, GuestAddr, PageFault};

/// Offsets in `struct rt_sigframe`.
pub mod rt {
    pub const PRETCODE: u32 = 0;
    pub const SIG: u32 = 4;
    pub const PINFO: u32 = 8;
    pub const PUC: u32 = 12;
    pub const INFO: u32 = 16;
    pub const UC: u32 = 144;
    pub const RETCODE: u32 = 260;
    pub const SIZE: u32 = 268;
}

/// Offsets in `struct ucontext` (i386).
pub mod uc {
    pub const FLAGS: u32 = 0;
    pub const LINK: u32 = 4;
    pub const STACK: u32 = 8;
    pub const MCONTEXT: u32 = 20;
    pub const SIGMASK: u32 = 108;
}

/// Offsets in the legacy `struct sigframe`.
pub mod legacy {
    pub const SC: u32 = 8;
    pub const EXTRAMASK: u32 = 720;
    pub const RETCODE: u32 = 724;
    pub const SIZE: u32 = 732;
}

/// `struct sigcontext` is 22 words: gs, fs, es, ds, edi, esi, ebp, esp,
/// ebx, edx, ecx, eax, trapno, err, eip, cs, flags, sp_at_signal, ss,
/// fpstate, oldmask, cr2.
const SC_WORDS: usize = 22;
/// Where each general register sits among the sigcontext words.
const SC_GPR: [(usize, usize); 8] = [
    (4, reg::EDI),
    (5, reg::ESI),
    (6, reg::EBP),
    (7, reg::ESP),
    (8, reg::EBX),
    (9, reg::EDX),
    (10, reg::ECX),
    (11, reg::EAX),
];
const SC_EIP: usize = 14;
const SC_FLAGS: usize = 16;
const SC_FPSTATE: usize = 19;

/// Size of `struct fregs_state` (the FNSAVE-format header).
const FSAVE_SIZE: u32 = 112;
const FXSAVE_SIZE: u32 = 512;
const FP_XSTATE_MAGIC1: u32 = 0x4650_5853;
/// XFEATURE_MASK_FPSSE: x87 and SSE are all an FXSR-only CPU has.
const XFEATURES_FPSSE: u32 = 3;

const SS_ONSTACK: u32 = 1;
const SS_DISABLE: u32 = 2;
const SS_AUTODISARM: u32 = 1 << 31;
/// EFLAGS bits sigreturn takes from the frame (Linux's FIX_EFLAGS).
const FIX_EFLAGS: u32 = flag::STATUS | flag::TF | flag::DF | flag::AC | flag::RF;

const NR_SIGRETURN: u32 = 119;
const NR_RT_SIGRETURN: u32 = 173;

/// Facts about the fault that raised a signal (sigcontext trapno, err,
/// cr2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Trap {
    pub trapno: u32,
    pub err: u32,
    pub cr2: u32,
}

/// Page-fault error code bits (Linux's `X86_PF_*`).
mod pf {
    /// The page was present: a protection violation.
    pub const PROT: u32 = 1 << 0;
    pub const WRITE: u32 = 1 << 1;
    pub const USER: u32 = 1 << 2;
    /// An instruction fetch (reported because NX is on, as CPUID says).
    pub const INSTR: u32 = 1 << 4;
}

/// The single-step trap (#DB).
pub const TRAPNO_DEBUG: u32 = 1;

impl Trap {
    /// The trap number, error code and CR2 Linux records for `e`.
    /// `present` says whether the page of a page fault was present in
    /// Linux's page tables (see `Kernel::fault`); `cr2` is the previous
    /// value, which only page faults change.
    pub fn of(e: wax_cpu::Exception, present: bool, cr2: u32) -> Trap {
        use wax_cpu::mem::Access;
        use wax_cpu::Exception as E;
        let plain = |trapno| Trap {
            trapno,
            err: 0,
            cr2,
        };
        match e {
            E::DivideError => plain(0),
            E::Debug => plain(TRAPNO_DEBUG),
            E::Breakpoint => plain(3),
            E::Overflow => plain(4),
            E::BoundRange => plain(5),
            E::InvalidOpcode => plain(6),
            E::GeneralProtection => plain(13),
            E::GeneralProtectionCode(code) => Trap {
                err: u32::from(code),
                ..plain(13)
            },
            E::FloatingPoint => plain(16),
            E::SimdFloatingPoint => plain(19),
            E::PageFault(f) => {
                let access = match f.access {
                    Access::Read => 0,
                    Access::Write => pf::WRITE,
                    Access::Exec => pf::INSTR,
                };
                let prot = if present { pf::PROT } else { 0 };
                Trap {
                    trapno: 14,
                    err: pf::USER | access | prot,
                    cr2: f.addr.0,
                }
            }
        }
    }
}

impl Kernel {
    /// Pushes a handler frame for `sig` on the current thread; false if
    /// the stack cannot hold it.
    pub(crate) fn push_frame(&mut self, sig: u32, act: &SigAction, info: &Siginfo) -> bool {
        let t = self.current();
        let oldmask = self
            .tasks
            .thread_mut(t)
            .saved_mask
            .take()
            .unwrap_or(self.tasks.thread(t).sigmask);
        let cpu = self.machine.cpu().clone();
        let alt = self.tasks.thread(t).altstack;
        let trap = self.tasks.thread(t).trap;
        let (sp, entering) = frame_top(cpu.gpr[reg::ESP], act, alt);
        // Linux's choice: an rt frame exactly for SA_SIGINFO actions.
        let rt_frame = act.flags & SA_SIGINFO != 0;
        let ok = if rt_frame {
            self.write_rt_frame(sp, sig, act, info, &cpu, oldmask, alt, trap)
        } else {
            self.write_legacy_frame(sp, sig, act, &cpu, oldmask, trap)
        };
        let Ok(frame) = ok else {
            return false;
        };
        if entering && alt.flags & SS_AUTODISARM != 0 {
            self.tasks.thread_mut(t).altstack = AltStack::default();
        }
        let c = self.machine.cpu();
        c.gpr[reg::ESP] = frame;
        c.eip = act.handler;
        c.gpr[reg::EAX] = sig;
        if rt_frame {
            c.gpr[reg::EDX] = frame + rt::INFO;
            c.gpr[reg::ECX] = frame + rt::UC;
        } else {
            c.gpr[reg::EDX] = 0;
            c.gpr[reg::ECX] = 0;
        }
        let flags = c.eflags() & !(flag::DF | flag::TF | flag::RF);
        c.set_eflags(flags);
        c.seg_sel[wax_cpu::state::seg::DS] = selector::USER_DS;
        c.seg_sel[wax_cpu::state::seg::ES] = selector::USER_DS;
        c.seg_sel[wax_cpu::state::seg::SS] = selector::USER_DS;
        c.seg_sel[wax_cpu::state::seg::CS] = selector::USER_CS;
        reset_fpu(c);
        true
    }

    #[allow(clippy::too_many_arguments)]
    fn write_rt_frame(
        &mut self,
        sp: u32,
        sig: u32,
        act: &SigAction,
        info: &Siginfo,
        cpu: &CpuState,
        oldmask: u64,
        alt: AltStack,
        trap: Trap,
    ) -> Result<u32, PageFault> {
        let (fpstate, below) = fpstate_place(sp);
        let frame = align_frame(below - rt::SIZE);
        let fp = fpstate_image(cpu);
        let mut m = self.mem();
        m.probe_write(GuestAddr(frame), sp.wrapping_sub(frame))?;
        m.write_bytes(GuestAddr(fpstate), &fp)?;
        let restorer = if act.flags & SA_RESTORER != 0 {
            act.restorer
        } else {
            frame + rt::RETCODE
        };
        let a = |o: u32| GuestAddr(frame + o);
        m.write_u32(a(rt::PRETCODE), restorer)?;
        m.write_u32(a(rt::SIG), sig)?;
        m.write_u32(a(rt::PINFO), frame + rt::INFO)?;
        m.write_u32(a(rt::PUC), frame + rt::UC)?;
        m.write_bytes(a(rt::INFO), &info.to_bytes())?;
        m.write_u32(a(rt::UC + uc::FLAGS), 0)?;
        m.write_u32(a(rt::UC + uc::LINK), 0)?;
        let ss = [alt.sp, stack_flags(alt, cpu.gpr[reg::ESP]), alt.size];
        for (i, w) in ss.iter().enumerate() {
            m.write_u32(a(rt::UC + uc::STACK + 4 * i as u32), *w)?;
        }
        let sc = sigcontext(cpu, fpstate, oldmask as u32, trap);
        write_words(&mut m, frame + rt::UC + uc::MCONTEXT, &sc)?;
        m.write_u64(a(rt::UC + uc::SIGMASK), oldmask)?;
        // mov eax, __NR_rt_sigreturn; int 0x80 (kept for old debuggers).
        m.write_bytes(
            a(rt::RETCODE),
            &[0xb8, NR_RT_SIGRETURN as u8, 0, 0, 0, 0xcd, 0x80, 0],
        )?;
        Ok(frame)
    }

    fn write_legacy_frame(
        &mut self,
        sp: u32,
        sig: u32,
        act: &SigAction,
        cpu: &CpuState,
        oldmask: u64,
        trap: Trap,
    ) -> Result<u32, PageFault> {
        let (fpstate, below) = fpstate_place(sp);
        let frame = align_frame(below - legacy::SIZE);
        let fp = fpstate_image(cpu);
        let mut m = self.mem();
        m.probe_write(GuestAddr(frame), sp.wrapping_sub(frame))?;
        m.write_bytes(GuestAddr(fpstate), &fp)?;
        let restorer = if act.flags & SA_RESTORER != 0 {
            act.restorer
        } else {
            frame + legacy::RETCODE
        };
        m.write_u32(GuestAddr(frame), restorer)?;
        m.write_u32(GuestAddr(frame + 4), sig)?;
        let sc = sigcontext(cpu, fpstate, oldmask as u32, trap);
        write_words(&mut m, frame + legacy::SC, &sc)?;
        m.write_u32(GuestAddr(frame + legacy::EXTRAMASK), (oldmask >> 32) as u32)?;
        // pop eax; mov eax, __NR_sigreturn; int 0x80.
        let code = [0x58, 0xb8, NR_SIGRETURN as u8, 0, 0, 0, 0xcd, 0x80];
        m.write_bytes(GuestAddr(frame + legacy::RETCODE), &code)?;
        Ok(frame)
    }

    /// rt_sigreturn: the frame is at ESP - 4 (the handler's `ret` popped
    /// pretcode). Returns the restored EAX.
    pub(crate) fn rt_sigreturn(&mut self) -> Result<u32, PageFault> {
        let frame = self.machine.cpu().gpr[reg::ESP].wrapping_sub(4);
        let mut m = self.mem();
        let sc = read_words(&mut m, frame + rt::UC + uc::MCONTEXT)?;
        let mask = m.read_u64(GuestAddr(frame + rt::UC + uc::SIGMASK))?;
        let mut ss = [0u32; 3];
        for (i, w) in ss.iter_mut().enumerate() {
            *w = m.read_u32(GuestAddr(frame + rt::UC + uc::STACK + 4 * i as u32))?;
        }
        let fp = self.read_fpstate(sc[SC_FPSTATE])?;
        self.thread().sigmask = mask & !UNBLOCKABLE;
        let sp = self.machine.cpu().gpr[reg::ESP];
        self.restore_altstack(ss, sp);
        Ok(self.restore_context(&sc, fp.as_ref()))
    }

    /// sigreturn (legacy frames): the frame is at ESP - 8 (`ret` and the
    /// restorer's `pop eax`).
    pub(crate) fn sigreturn(&mut self) -> Result<u32, PageFault> {
        let frame = self.machine.cpu().gpr[reg::ESP].wrapping_sub(8);
        let mut m = self.mem();
        let sc = read_words(&mut m, frame + legacy::SC)?;
        let high = m.read_u32(GuestAddr(frame + legacy::EXTRAMASK))?;
        let fp = self.read_fpstate(sc[SC_FPSTATE])?;
        let mask = u64::from(sc[20]) | u64::from(high) << 32;
        self.thread().sigmask = mask & !UNBLOCKABLE;
        Ok(self.restore_context(&sc, fp.as_ref()))
    }

    fn read_fpstate(&mut self, at: u32) -> Result<Option<Vec<u8>>, PageFault> {
        if at == 0 {
            return Ok(None);
        }
        let mut b = vec![0u8; (FSAVE_SIZE + FXSAVE_SIZE) as usize];
        self.mem().read_bytes(GuestAddr(at), &mut b)?;
        Ok(Some(b))
    }

    /// sigaltstack as restore_altstack does it (errors are ignored).
    fn restore_altstack(&mut self, ss: [u32; 3], sp: u32) {
        let t = self.thread();
        let on = t.altstack.size != 0 && sp.wrapping_sub(t.altstack.sp) < t.altstack.size;
        if on {
            return;
        }
        t.altstack = if ss[1] & SS_DISABLE != 0 {
            AltStack::default()
        } else {
            AltStack {
                sp: ss[0],
                flags: ss[1] & SS_AUTODISARM,
                size: ss[2],
            }
        };
    }

    /// Loads the registers from sigcontext words and the FPU image.
    fn restore_context(&mut self, sc: &[u32; SC_WORDS], fp: Option<&Vec<u8>>) -> u32 {
        let c = self.machine.cpu();
        for (w, r) in SC_GPR {
            c.gpr[r] = sc[w];
        }
        c.eip = sc[SC_EIP];
        let flags = (c.eflags() & !FIX_EFLAGS) | (sc[SC_FLAGS] & FIX_EFLAGS);
        c.set_eflags(flags);
        // gs, fs: reload the selectors and the TLS bases they select.
        for (w, s) in [(0, wax_cpu::state::seg::GS), (1, wax_cpu::state::seg::FS)] {
            let sel = sc[w] as u16;
            c.seg_sel[s] = sel;
            c.seg_base[s] = tls_base(c, sel);
        }
        match fp {
            Some(img) => load_fpstate(c, img),
            None => reset_fpu(c),
        }
        c.gpr[reg::EAX]
    }
}

/// Where the frame goes: the alternate stack if the action asks and the
/// thread is not already on it. Returns (top, entering the alt stack).
fn frame_top(sp: u32, act: &SigAction, alt: AltStack) -> (u32, bool) {
    if act.flags & SA_ONSTACK != 0 && stack_flags(alt, sp) == 0 {
        return (alt.sp.wrapping_add(alt.size), true);
    }
    (sp, false)
}

/// `sas_ss_flags`: SS_DISABLE without a stack, SS_ONSTACK when on it.
fn stack_flags(alt: AltStack, sp: u32) -> u32 {
    if alt.size == 0 {
        return SS_DISABLE;
    }
    let on = sp.wrapping_sub(alt.sp) <= alt.size && sp > alt.sp;
    if on && alt.flags & SS_AUTODISARM == 0 {
        SS_ONSTACK
    } else {
        alt.flags & SS_AUTODISARM
    }
}

/// `fpu__alloc_mathframe`: (address of `_fpstate_32`, stack below it).
fn fpstate_place(sp: u32) -> (u32, u32) {
    let buf_fx = sp.wrapping_sub(FXSAVE_SIZE) & !63;
    let fpstate = buf_fx - FSAVE_SIZE;
    (fpstate, fpstate)
}

/// `align_sigframe` for i386: `frame + 4` is 16-byte aligned.
fn align_frame(sp: u32) -> u32 {
    (sp.wrapping_add(4) & !15).wrapping_sub(4)
}

fn sigcontext(cpu: &CpuState, fpstate: u32, oldmask: u32, trap: Trap) -> [u32; SC_WORDS] {
    use wax_cpu::state::seg;
    let mut w = [0u32; SC_WORDS];
    w[0] = u32::from(cpu.seg_sel[seg::GS]);
    w[1] = u32::from(cpu.seg_sel[seg::FS]);
    w[2] = u32::from(cpu.seg_sel[seg::ES]);
    w[3] = u32::from(cpu.seg_sel[seg::DS]);
    for (i, r) in SC_GPR {
        w[i] = cpu.gpr[r];
    }
    w[12] = trap.trapno;
    w[13] = trap.err;
    w[SC_EIP] = cpu.eip;
    w[15] = u32::from(cpu.seg_sel[seg::CS]);
    w[SC_FLAGS] = cpu.eflags();
    w[17] = cpu.gpr[reg::ESP];
    w[18] = u32::from(cpu.seg_sel[seg::SS]);
    w[SC_FPSTATE] = fpstate;
    w[20] = oldmask;
    w[21] = trap.cr2;
    w
}

fn write_words(m: &mut wax_cpu::GuestMem<'_>, at: u32, w: &[u32]) -> Result<(), PageFault> {
    let b: Vec<u8> = w.iter().flat_map(|v| v.to_le_bytes()).collect();
    m.write_bytes(GuestAddr(at), &b)
}

fn read_words(m: &mut wax_cpu::GuestMem<'_>, at: u32) -> Result<[u32; SC_WORDS], PageFault> {
    let mut b = [0u8; SC_WORDS * 4];
    m.read_bytes(GuestAddr(at), &mut b)?;
    let mut w = [0u32; SC_WORDS];
    for (i, v) in w.iter_mut().enumerate() {
        *v = u32::from_le_bytes(b[4 * i..4 * i + 4].try_into().expect("4 bytes"));
    }
    Ok(w)
}

/// The base a selector gives FS/GS: a TLS entry's, or 0.
fn tls_base(c: &CpuState, sel: u16) -> u32 {
    let idx = u32::from(sel >> 3);
    let min = selector::GDT_ENTRY_TLS_MIN;
    if (min..min + selector::GDT_ENTRY_TLS_ENTRIES).contains(&idx) {
        let d = c.tls[(idx - min) as usize];
        if d.present != 0 {
            return d.base;
        }
    }
    0
}

/// The FPU after FNINIT with MXCSR at its reset value and XMM cleared, as
/// `fpu__clear_user_states` leaves it for a handler (and execve).
pub fn reset_fpu(c: &mut CpuState) {
    c.x87 = X87State::default();
    c.xmm = [[0; 4]; 8];
    c.mxcsr = 0x1f80;
}

/// `struct _fpstate_32` as Linux writes it on an FXSR CPU: the FNSAVE
/// header (environment with 0xffff in the upper halves, ST0-7, status,
/// magic 0x0000 = FXSR), then the FXSAVE image whose software-reserved
/// bytes carry FP_XSTATE_MAGIC1 and the sizes.
pub fn fpstate_image(cpu: &CpuState) -> Vec<u8> {
    let x = &cpu.x87;
    let mut b = vec![0u8; (FSAVE_SIZE + FXSAVE_SIZE) as usize];
    let put32 = |b: &mut [u8], o: usize, v: u32| b[o..o + 4].copy_from_slice(&v.to_le_bytes());
    let hi = 0xffff_0000;
    put32(&mut b, 0, hi | u32::from(x.control));
    put32(&mut b, 4, hi | u32::from(x.status_word()));
    put32(&mut b, 8, hi | u32::from(x.tag_word()));
    put32(&mut b, 12, x.last_ip);
    put32(
        &mut b,
        16,
        u32::from(selector::USER_CS) | u32::from(x.last_opcode) << 16,
    );
    put32(&mut b, 20, x.last_dp);
    put32(&mut b, 24, hi | u32::from(selector::USER_DS));
    for i in 0..8 {
        let r = x.st(i);
        let o = 28 + 10 * i;
        b[o..o + 8].copy_from_slice(&r.signif.to_le_bytes());
        b[o + 8..o + 10].copy_from_slice(&r.sign_exp.to_le_bytes());
    }
    b[108..110].copy_from_slice(&x.status_word().to_le_bytes());
    // magic 0x0000 (X86_FXSR_MAGIC) at 110.
    let fx = &mut b[FSAVE_SIZE as usize..];
    fx[0..2].copy_from_slice(&x.control.to_le_bytes());
    fx[2..4].copy_from_slice(&x.status_word().to_le_bytes());
    fx[4] = x.abridged_tag();
    fx[6..8].copy_from_slice(&x.last_opcode.to_le_bytes());
    put32(fx, 8, x.last_ip);
    put32(fx, 16, x.last_dp);
    put32(fx, 24, cpu.mxcsr);
    put32(fx, 28, 0xffff);
    for i in 0..8 {
        let r = x.st(i);
        let o = 32 + 16 * i;
        fx[o..o + 8].copy_from_slice(&r.signif.to_le_bytes());
        fx[o + 8..o + 10].copy_from_slice(&r.sign_exp.to_le_bytes());
    }
    for (i, xmm) in cpu.xmm.iter().enumerate() {
        for (j, d) in xmm.iter().enumerate() {
            put32(fx, 160 + 16 * i + 4 * j, *d);
        }
    }
    // struct _fpx_sw_bytes: magic1, extended_size, xfeatures (u64),
    // xstate_size.
    put32(fx, 464, FP_XSTATE_MAGIC1);
    put32(fx, 468, FXSAVE_SIZE + 4 + FSAVE_SIZE);
    put32(fx, 472, XFEATURES_FPSSE);
    put32(fx, 480, FXSAVE_SIZE);
    b
}

/// Loads an `_fpstate_32` image: MXCSR and XMM from the FXSAVE part, the
/// x87 state from the FNSAVE header (Linux's `convert_to_fxsr` wins).
pub fn load_fpstate(c: &mut CpuState, img: &[u8]) {
    let le16 = |o: usize| u16::from_le_bytes([img[o], img[o + 1]]);
    let le32 = |o: usize| u32::from_le_bytes(img[o..o + 4].try_into().expect("4 bytes"));
    let fx = FSAVE_SIZE as usize;
    c.mxcsr = le32(fx + 24) & 0xffff;
    for (i, xmm) in c.xmm.iter_mut().enumerate() {
        for (j, d) in xmm.iter_mut().enumerate() {
            *d = le32(fx + 160 + 16 * i + 4 * j);
        }
    }
    let x = &mut c.x87;
    x.control = (le16(0) & 0x1f3f) | 0x0040;
    x.set_status_word(le16(4));
    x.set_tag_word(le16(8));
    for i in 0..8 {
        let o = 28 + 10 * i;
        let signif = u64::from_le_bytes(img[o..o + 8].try_into().expect("8 bytes"));
        let p = x.phys(i);
        x.regs[p] = F80::new(le16(o + 8), signif);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_offsets_match_linux() {
        // info is 128 bytes, ucontext 116 (20 + sigcontext 88 + 8).
        assert_eq!(rt::UC, rt::INFO + 128);
        assert_eq!(rt::RETCODE, rt::UC + uc::SIGMASK + 8);
        assert_eq!(uc::SIGMASK, uc::MCONTEXT + 4 * SC_WORDS as u32);
        assert_eq!(legacy::EXTRAMASK, legacy::SC + 88 + 624);
    }

    #[test]
    fn frame_placement() {
        let (fp, below) = fpstate_place(0xbfff_f000);
        assert_eq!((fp + FSAVE_SIZE) % 64, 0);
        assert_eq!(fp + FSAVE_SIZE + FXSAVE_SIZE, 0xbfff_f000);
        let f = align_frame(below - rt::SIZE);
        assert_eq!((f + 4) % 16, 0);
        assert!(f + rt::SIZE <= below);
    }

    #[test]
    fn fpstate_round_trip() {
        let mut c = CpuState {
            mxcsr: 0x1fa0,
            ..CpuState::default()
        };
        c.xmm[3] = [1, 2, 3, 4];
        c.x87.control = 0x027f;
        let img = fpstate_image(&c);
        assert_eq!(&img[110..112], &[0, 0]);
        assert_eq!(&img[576..580], &FP_XSTATE_MAGIC1.to_le_bytes());
        let mut d = CpuState::default();
        load_fpstate(&mut d, &img);
        assert_eq!(d.mxcsr, 0x1fa0);
        assert_eq!(d.xmm[3], [1, 2, 3, 4]);
        assert_eq!(d.x87.control, 0x027f);
    }
}
