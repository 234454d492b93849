//! Self-modifying code under the JIT: every case runs in lockstep with the
//! one-instruction oracle, so a stale translation shows up as a difference.

mod common;

use common::asm::*;
use common::progs::program;
use common::*;
use wax_cpu::Exit;
use wax_jit::engine::wasmtime::Tuning;
use wax_jit::Config;

/// A setup around `code` with the loop counter at [ESI+0x7c] = `iters`.
fn setup(code: Vec<u8>, code_at: u32, iters: u32) -> Setup {
    let mut st = program(11, 0, iters);
    st.code = code;
    st.code_at = code_at;
    st
}

/// Runs `st` in lockstep with modules compiled on the guest's thread, and
/// again compiled in the background (taken between slices, so a page
/// patched while its module compiles exercises the stale-compile path).
/// Returns the first run's statistics.
fn check(st: &Setup, slices: &[u64]) -> wax_jit::Stats {
    let mut first = None;
    for background in [false, true] {
        let config = Config {
            threshold: 2,
            max_stepped_percent: 100,
            background,
            ..Config::default()
        };
        let what = format!("smc (background {background})");
        let (last, jit) = lockstep_tuned(st, slices, 1_000_000, config, &what, Tuning::default());
        assert_eq!(
            last.exit,
            Exit::Syscall,
            "{what}: the program runs to its end"
        );
        assert_eq!(jit.stats.engine_errors, 0, "{what}");
        if background {
            assert_eq!(jit.stats.compiled_in_background, jit.stats.modules_compiled);
        }
        first.get_or_insert(jit.stats);
    }
    first.unwrap()
}

/// `mov [abs], ecx` patching the immediate of `mov ebx, imm32` at the top
/// of the running loop: every iteration sees the previous one's value.
#[test]
fn store_into_the_running_block() {
    let at = CODE + 0x100;
    let mut a = Asm::default();
    let top = a.pos();
    a.bytes(&[0xbb, 0x11, 0x11, 0x11, 0x11]); // mov ebx, imm32
    a.bytes(&[0x01, 0xd8]); // add eax, ebx
    a.bytes(&[0x41]); // inc ecx
    a.bytes(&[0x89, 0x0d]).imm(32, at + 1); // mov [at+1], ecx
    a.bytes(&[0xff, 0x4e, 0x7c]); // dec dword [esi+0x7c]
    a.rel32(&[0x0f, 0x85], top);
    a.bytes(&[0xcd, 0x80]);
    let s = check(&setup(a.code, at, 300), &[10_000]);
    assert!(s.invalidations > 0, "{s:?}");
}

/// The same patch, but only every 64th iteration: the page is translated
/// again after each change and must never run stale code.
#[test]
fn occasional_patches_retranslate() {
    let at = CODE + 0x200;
    let mut a = Asm::default();
    let top = a.pos();
    a.bytes(&[0xba, 0x05, 0x00, 0x00, 0x00]); // mov edx, 5
    a.bytes(&[0x01, 0xd0]); // add eax, edx
    a.bytes(&[0x41]); // inc ecx
    a.bytes(&[0xf6, 0xc1, 0x3f]); // test cl, 0x3f
    let skip = a.jcc_fwd(0x5); // jnz skip
    a.bytes(&[0x89, 0x0d]).imm(32, at + 1); // mov [at+1], ecx
    a.fix(skip);
    a.bytes(&[0xff, 0x4e, 0x7c]);
    a.rel32(&[0x0f, 0x85], top);
    a.bytes(&[0xcd, 0x80]);
    let s = check(&setup(a.code, at, 2000), &[10_000, 333]);
    assert!(s.modules_compiled > 2, "{s:?}");
    assert!(s.invalidations > 1, "{s:?}");
}

/// Code in one page rewrites a routine in the next page that it calls.
#[test]
fn store_into_another_translated_page() {
    let at = CODE + 0xf00;
    let callee = CODE + 0x1800;
    let mut a = Asm::default();
    let top = a.pos();
    a.rel32(&[0xe8], (callee - at) as usize); // call callee
    a.bytes(&[0x89, 0x0d]).imm(32, callee + 1); // mov [callee+1], ecx
    a.bytes(&[0x41]); // inc ecx
    a.bytes(&[0xff, 0x4e, 0x7c]);
    a.rel32(&[0x0f, 0x85], top);
    a.bytes(&[0xcd, 0x80]);
    let mut code = a.code;
    code.resize((callee - at) as usize, 0x90);
    code.extend_from_slice(&[0xbb, 1, 0, 0, 0, 0x01, 0xd8, 0xc3]); // mov ebx, imm; add eax, ebx; ret
    let s = check(&setup(code, at, 500), &[10_000, 7]);
    assert!(s.invalidations > 0, "{s:?}");
}

/// Instructions that straddle two pages run correctly, and a write to the
/// second page is seen by the instruction that starts on the first.
#[test]
fn code_straddling_two_pages() {
    let at = CODE + 0x1000 - 5;
    let mut a = Asm::default();
    let top = a.pos();
    a.bytes(&[0x41, 0x41]); // inc ecx; inc ecx
    a.bytes(&[0xb8, 0x22, 0x22, 0x22, 0x22]); // mov eax, imm32 (crosses)
    a.bytes(&[0x01, 0xc3]); // add ebx, eax
    a.bytes(&[0x66, 0x89, 0x0d]).imm(32, at + 5); // patch the imm's high half
    a.bytes(&[0xff, 0x4e, 0x7c]);
    a.rel32(&[0x0f, 0x85], top);
    a.bytes(&[0xcd, 0x80]);
    check(&setup(a.code, at, 400), &[10_000, 5]);
}

#[test]
fn syscall_exit_is_reported_with_eip_past_it() {
    let mut a = Asm::default();
    a.bytes(&[0x40, 0xcd, 0x80]); // inc eax; int 0x80
    let st = setup(a.code, CODE + 0x10, 1);
    let mut j = JitRig::new(&st, 1);
    let mut r = RefRig::new(&st);
    for _ in 0..3 {
        // Rerun the same code: from the second time on it is translated.
        j.m.cpu().eip = st.code_at;
        r.m.cpu().eip = st.code_at;
        let (rj, rr) = (j.run(100), r.run(100));
        assert_eq!(rj, rr);
        assert_eq!(rj.exit, Exit::Syscall);
        assert_eq!(j.snap(), r.snap());
    }
    assert!(j.jit.stats.insns_translated > 0);
}

/// Two translated pages that call into each other through the link table
/// (no executor in between), and every 32nd iteration the caller patches
/// the callee's immediate: the callee's module must be dropped, and no
/// link may lead to it any more.
#[test]
fn a_patched_page_drops_the_links_into_it() {
    let at = CODE + 0x100;
    // The callee, in the next page: mov ebx, imm32; ret.
    let callee = CODE + 0x1100;
    let mut a = Asm::default();
    let top = a.pos();
    a.rel32(&[0xe8], (callee - at) as usize); // call callee
    a.bytes(&[0x01, 0xd8]); // add eax, ebx
    a.bytes(&[0x41]); // inc ecx
    a.bytes(&[0xf6, 0xc1, 0x1f]); // test cl, 0x1f
    let skip = a.jcc_fwd(0x5); // jnz skip
    a.bytes(&[0x89, 0x0d]).imm(32, callee + 1); // mov [callee+1], ecx
    a.fix(skip);
    a.bytes(&[0xff, 0x4e, 0x7c]); // dec dword [esi+0x7c]
    a.rel32(&[0x0f, 0x85], top);
    a.bytes(&[0xcd, 0x80]);
    let mut code = a.code;
    code.resize((callee - at) as usize, 0x90);
    code.extend([0xbb, 0x11, 0x11, 0x11, 0x11, 0xc3]);
    let s = check(&setup(code, at, 2000), &[10_000, 7]);
    assert!(s.invalidations > 0, "{s:?}");
    assert!(s.links_followed > 0, "{s:?}");
}

/// The loop of the straddle tests, at `CODE + 0xff8`: `mov eax, imm32`
/// starts 2 bytes before the page end (its last 3 bytes, the immediate's
/// top, are the first ones of the next page), and its value is summed
/// into EBX after it.
fn straddling_loop() -> Setup {
    let mut a = Asm::default();
    let top = a.pos();
    a.bytes(&[0x41, 0x01, 0xc2, 0x90, 0x90, 0x90]); // inc ecx; add edx, eax; nops
    a.bytes(&[0xb8, 0x11, 0x22, 0x33, 0x44]); // mov eax, 0x44332211 (crosses)
    a.bytes(&[0x01, 0xc3]); // add ebx, eax
    a.bytes(&[0xff, 0x4e, 0x7c]); // dec dword [esi+0x7c]
    a.rel32(&[0x0f, 0x85], top);
    a.bytes(&[0xcd, 0x80]);
    setup(a.code, CODE + 0xff8, 50)
}

/// The next page as the straddling MOV sees it.
const NEXT: u32 = CODE + 0x1000;

/// Registers, EIP and flags (evaluated) of a machine.
fn regs(m: &mut wax_cpu::Machine) -> (Vec<u32>, u32, u32) {
    let cpu = m.cpu();
    (cpu.gpr.to_vec(), cpu.eip, cpu.eflags())
}

/// Runs [`straddling_loop`] to its end on the JIT (modules compiled on
/// the guest's thread) and on the oracle, then applies `change` to both
/// machines and runs the loop again from the top: exits, counts,
/// registers and flags must match. Returns the statistics of the second
/// run.
fn straddle_then(
    change: impl Fn(&mut wax_cpu::Machine, &mut wax_cpu::AddressSpace),
) -> wax_jit::Stats {
    let st = straddling_loop();
    let mut j = JitRig::new(&st, 2);
    let mut r = RefRig::new(&st);
    let (rj, rr) = (j.run(1_000_000), r.run(1_000_000));
    assert_eq!((rj, rj.exit), (rr, Exit::Syscall));
    assert_eq!(j.snap(), r.snap());
    let before = j.jit.stats;
    assert_eq!(before.stepped_insns_compiled, 0, "{before:?}");
    assert!(
        before.insns_translated > before.insns_interpreted,
        "{before:?}"
    );
    change(&mut j.m, &mut j.s);
    change(&mut r.m, &mut r.s);
    for (m, s) in [(&mut j.m, &mut j.s), (&mut r.m, &mut r.s)] {
        m.cpu().eip = st.code_at;
        let mut g = m.mem(s);
        g.write_bytes(
            wax_cpu::GuestAddr(common::DATA + 0x7c),
            &50u32.to_le_bytes(),
        )
        .unwrap();
    }
    let (rj, rr) = (j.run(1_000_000), r.run(1_000_000));
    assert_eq!(rj, rr, "after the change");
    assert_eq!(regs(&mut j.m), regs(&mut r.m), "after the change");
    let mut after = j.jit.stats;
    after.slow_exits -= before.slow_exits;
    after.insns_translated -= before.insns_translated;
    after
}

/// The next page's bytes rewritten from outside the guest's code (as a
/// `read` into it would): the first page's module is not dropped (its
/// own bytes did not change), its guard sees the new tail.
#[test]
fn a_straddling_insn_sees_its_tail_rewritten() {
    let s = straddle_then(|m, s| {
        m.mem(s)
            .write_bytes(wax_cpu::GuestAddr(NEXT), &[0x55])
            .unwrap();
    });
    assert!(s.slow_exits > 0, "{s:?}");
}

/// The next page replaced by a fresh mapping with the same bytes: the
/// guard passes (it reads the page through the page table, whatever the
/// frame), the instruction stays translated.
#[test]
fn a_straddling_insn_follows_its_tail_remapped() {
    let s = straddle_then(|m, s| {
        let mut page = vec![0u8; 0x1000];
        m.mem(s)
            .read_bytes(wax_cpu::GuestAddr(NEXT), &mut page)
            .unwrap();
        m.map(
            s,
            wax_cpu::GuestAddr(NEXT),
            0x1000,
            wax_cpu::Prot::RWX,
            false,
        );
        m.mem(s)
            .write_bytes(wax_cpu::GuestAddr(NEXT), &page)
            .unwrap();
    });
    assert!(s.insns_translated > 0, "{s:?}");
}

/// The next page unmapped: the instruction's fetch faults, at its own
/// EIP, as in the interpreter.
#[test]
fn a_straddling_insn_faults_when_its_tail_is_unmapped() {
    let s = straddle_then(|m, s| m.unmap(s, wax_cpu::GuestAddr(NEXT), 0x1000));
    assert!(s.slow_exits > 0, "{s:?}");
}

/// The next page without PROT_EXEC: the fetch faults as well.
#[test]
fn a_straddling_insn_faults_when_its_tail_loses_exec() {
    let s = straddle_then(|m, s| {
        assert!(m.protect(s, wax_cpu::GuestAddr(NEXT), 0x1000, wax_cpu::Prot::RW));
    });
    assert!(s.slow_exits > 0, "{s:?}");
}

/// A straddling instruction whose memory operand walks into the unmapped
/// page after the RW data: the page fault is raised with the state from
/// before the instruction, in lockstep with the oracle.
#[test]
fn a_straddling_insns_memory_fault_is_precise() {
    let mut a = Asm::default();
    let top = a.pos();
    a.bytes(&[0x41, 0x90, 0x90]); // inc ecx; nops
    a.bytes(&[0x81, 0x47, 0x10, 0x44, 0x33, 0x22, 0x11]); // add dword [edi+0x10], imm32 (crosses)
    a.bytes(&[0x83, 0xc7, 0x0c]); // add edi, 12
    a.rel32(&[0xe9], top);
    let mut st = setup(a.code, CODE + 0xffc, 1);
    st.regs[EDI as usize] = common::DATA + common::DATA_LEN - 0x400;
    let (last, jit) = lockstep(&st, &[100_000, 3], 1_000_000, 2, "straddle fault");
    assert!(matches!(last.exit, Exit::Exception(_)), "{last:?}");
    assert_eq!(jit.stats.stepped_insns_compiled, 0, "{:?}", jit.stats);
    assert!(jit.stats.insns_translated > 0, "{:?}", jit.stats);
}
