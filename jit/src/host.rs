//! What translated code calls back into: the interpreter for one
//! instruction, one pre-decoded x87 instruction, and lazy-flag evaluation.
//!
//! While wasm runs, no Rust reference into machine memory may be live: the
//! executor turns its borrows into the raw pointers held here, and each
//! callback rebuilds short-lived references from them for its own
//! duration only. This is the only `unsafe` of the executor.

use crate::step::{run_block, run_one};
use wax_cpu::abi::{Control, ExitCode, CONTROL};
use wax_cpu::interp::{Ctx, Decoded};
use wax_cpu::state::LazyFlags;
use wax_cpu::{AddressSpace, CpuState, DecodeCache, Exit, Machine};

/// The executor's state, reachable from translated code's imports during
/// one call into translated code.
pub struct Host {
    machine: *mut Machine,
    space: *mut AddressSpace,
    cache: *mut DecodeCache,
    scratch: *mut CpuState,
    /// Instructions stepped, by `iced_x86::Mnemonic`.
    stepped: *mut [u64],
    /// x87 instructions run through `wax.fpu`, by `iced_x86::Mnemonic`.
    fpu_calls: *mut [u64],
}

impl Host {
    /// # Safety
    /// The pointers must be valid for the life of the `Host`, and nothing
    /// else may use what they point to while a `Host` method runs.
    pub(crate) unsafe fn new(
        machine: *mut Machine,
        space: *mut AddressSpace,
        cache: *mut DecodeCache,
        scratch: *mut CpuState,
        stepped: *mut [u64],
        fpu_calls: *mut [u64],
    ) -> Host {
        Host {
            machine,
            space,
            cache,
            scratch,
            stepped,
            fpu_calls,
        }
    }

    /// Runs the instruction at `CpuState::eip` in the interpreter. Returns
    /// 0 to go on, or the [`ExitCode`] translated code leaves with (details
    /// in the control block).
    pub fn step(&mut self, eip: u32) -> u32 {
        // SAFETY: valid and unaliased per `new`'s contract; translated code
        // holds no references, and these end with this call.
        let (machine, space, cache) =
            unsafe { (&mut *self.machine, &mut *self.space, &mut *self.cache) };
        let (cpu, mut mem) = machine.guest(space);
        debug_assert_eq!(cpu.eip, eip, "step at a different EIP");
        if let Ok(b) = cache.get(&mut mem, eip) {
            if let Some(d) = b.insns.first() {
                // SAFETY: as above.
                let stepped = unsafe { &mut *self.stepped };
                if let Some(n) = stepped.get_mut(d.insn.mnemonic() as usize) {
                    *n += 1;
                }
            }
        }
        let (_, exit) = run_block(cpu, &mut mem, cache, 1);
        let changed = mem.code_changed();
        self.finish(exit, changed)
    }

    /// Runs the x87 instruction of form `op` (`crate::x87`) at
    /// `CpuState::eip`, its memory operand at linear address `ea`, with
    /// the interpreter's handler. Returns like [`Host::step`].
    pub fn fpu(&mut self, op: u32, ea: u32) -> u32 {
        let Some((form, len)) = crate::x87::lookup(op) else {
            // Not an `op` the translator emits: an engine failure.
            return u32::MAX;
        };
        // SAFETY: valid and unaliased per `new`'s contract.
        let calls = unsafe { &mut *self.fpu_calls };
        if let Some(n) = calls.get_mut(form.insn.mnemonic() as usize) {
            *n += 1;
        }
        // SAFETY: valid and unaliased per `new`'s contract; translated code
        // holds no references, and these end with this call.
        let (machine, space) = unsafe { (&mut *self.machine, &mut *self.space) };
        let (cpu, mut mem) = machine.guest(space);
        let mut insn = form.insn;
        insn.set_len(len as usize);
        insn.set_ip32(cpu.eip);
        if form.mem {
            insn.set_memory_displacement32(ea);
        }
        // The address form is worked out after the displacement is set.
        let d = Decoded::new(insn, form.handler);
        let exit = run_one(&mut Ctx { cpu, mem: &mut mem }, &d);
        let changed = mem.code_changed();
        self.finish(exit, changed)
    }

    /// The code for translated code after an instruction ran in the
    /// interpreter.
    #[inline]
    fn finish(&mut self, exit: Option<Exit>, changed: bool) -> u32 {
        // SAFETY: as in `step`; the instruction's borrows have ended.
        let machine = unsafe { &mut *self.machine };
        let ctl = machine.slot::<Control>(CONTROL);
        match exit {
            Some(e) => {
                ctl.set_exit(e);
                ctl.exit_code
            }
            None if changed => ExitCode::CodeChanged as u32,
            None => 0,
        }
    }

    /// Invalidates every entry of the link table (the engine's table of
    /// modules was replaced).
    pub fn drop_links(&mut self) {
        // SAFETY: valid and unaliased per `new`'s contract; no wasm runs
        // while the engine calls this.
        let machine = unsafe { &mut *self.machine };
        crate::exec::drop_links(machine);
    }

    /// EFLAGS of a lazy-flag record, exactly as the interpreter computes it.
    pub fn flags(&mut self, op: u32, size: u32, res: u32, a: u32, b: u32, eflags: u32) -> u32 {
        if op != 0 && !(8..=32).contains(&size) {
            // Not a record the interpreter writes; never trust it.
            return eflags;
        }
        // SAFETY: valid and unaliased per `new`'s contract.
        let scratch = unsafe { &mut *self.scratch };
        scratch.lazy = LazyFlags {
            op,
            size,
            res,
            a,
            b,
        };
        scratch.eflags = eflags;
        scratch.eflags()
    }
}
