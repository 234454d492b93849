//! A bare guest: one address space with a code page and a data area, no
//! kernel. Programs end with `int 0x80`, which the runner treats as "done".

use wax_cpu::{run, AddressSpace, DecodeCache, Exit, GuestAddr, Machine, Prot};

/// Where guest code is placed.
pub const CODE: u32 = 0x0804_8000;
/// A read-write data area of [`DATA_LEN`] bytes.
pub const DATA: u32 = 0x1000_0000;
/// Size of the data area.
pub const DATA_LEN: u32 = 1 << 20;
/// Top of a 64 KiB stack.
pub const STACK_TOP: u32 = 0x2000_0000;

/// A machine holding one small guest program.
pub struct BareGuest {
    machine: Machine,
    space: AddressSpace,
    cache: DecodeCache,
}

impl BareGuest {
    /// Loads `code` at [`CODE`] and maps the data area and stack.
    pub fn new(code: &[u8]) -> BareGuest {
        let mut machine = Machine::new(256 << 20);
        let mut space = machine.new_space().expect("address space");
        let code_len = (code.len() as u32).next_multiple_of(4096);
        machine.map(&mut space, GuestAddr(CODE), code_len, Prot::RWX, false);
        machine.map(&mut space, GuestAddr(DATA), DATA_LEN, Prot::RW, false);
        machine.map(
            &mut space,
            GuestAddr(STACK_TOP - 0x10000),
            0x10000,
            Prot::RW,
            false,
        );
        machine
            .mem(&mut space)
            .write_bytes(GuestAddr(CODE), code)
            .expect("code fits");
        BareGuest {
            machine,
            space,
            cache: DecodeCache::new(),
        }
    }

    /// Runs the program from the start with the given registers until its
    /// final `int 0x80`; returns the number of guest instructions executed.
    ///
    /// # Panics
    /// If the program faults (a bug in the benchmark's program).
    pub fn run(&mut self, regs: [u32; 8]) -> u64 {
        let (cpu, mut mem) = self.machine.guest(&mut self.space);
        cpu.gpr = regs;
        cpu.gpr[4] = STACK_TOP;
        cpu.eip = CODE;
        let r = run(cpu, &mut mem, &mut self.cache, u64::MAX);
        assert_eq!(r.exit, Exit::Syscall, "benchmark program faulted");
        r.executed
    }

    /// The value of a register after the last run.
    pub fn reg(&mut self, n: usize) -> u32 {
        self.machine.cpu().gpr[n]
    }
}

/// Assembles a loop body repeated `ECX` times: the body bytes, then
/// `dec ecx; jnz body; int 0x80`.
pub fn counted_loop(body: &[u8]) -> Vec<u8> {
    loop_with(&[], body, 0x49)
}

/// `setup` once, then `body` repeated `EBP` times (`dec ebp; jnz body`),
/// then `int 0x80`: for bodies that need ECX themselves (`rep` prefixes).
pub fn ebp_loop(setup: &[u8], body: &[u8]) -> Vec<u8> {
    loop_with(setup, body, 0x4d)
}

/// `setup`, then `body` repeated `ECX` times.
pub fn counted_loop_after(setup: &[u8], body: &[u8]) -> Vec<u8> {
    loop_with(setup, body, 0x49)
}

fn loop_with(setup: &[u8], body: &[u8], dec: u8) -> Vec<u8> {
    let mut code = setup.to_vec();
    code.extend_from_slice(body);
    code.push(dec);
    let back = -(body.len() as i32 + 7);
    code.extend_from_slice(&[0x0f, 0x85]); // jnz rel32
    code.extend_from_slice(&back.to_le_bytes());
    code.extend_from_slice(&[0xcd, 0x80]); // int 0x80
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counted_loop_runs_its_body_ecx_times() {
        // add eax, 2
        let mut g = BareGuest::new(&counted_loop(&[0x83, 0xc0, 0x02]));
        let executed = g.run([0, 10, 0, 0, 0, 0, 0, 0]);
        assert_eq!(g.reg(0), 20);
        // add, dec, jnz per iteration, then int 0x80.
        assert_eq!(executed, 31);
    }

    #[test]
    fn ebp_loop_runs_setup_once() {
        // setup: mov eax, 5; body: inc eax
        let mut g = BareGuest::new(&ebp_loop(&[0xb8, 5, 0, 0, 0], &[0x40]));
        g.run([0, 0, 0, 0, 0, 3, 0, 0]);
        assert_eq!(g.reg(0), 8);
    }
}
