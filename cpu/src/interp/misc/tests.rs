//! Tests of the data-movement group (`misc.rs`).

use super::testutil::{Vm, DATA};
use crate::exit::{Exception, Exit};
use crate::mem::Prot;
use crate::state::flag;
use crate::GuestAddr;

#[test]
fn cmpxchg8b_success_writes_ecx_ebx() {
    // cmpxchg8b [0x10000]
    let mut vm = Vm::new(&[0x0f, 0xc7, 0x0d, 0, 0, 1, 0]);
    vm.mem()
        .write_u64(GuestAddr(DATA), 0x1111_2222_3333_4444)
        .unwrap();
    let c = vm.cpu();
    c.gpr[2] = 0x1111_2222; // EDX
    c.gpr[0] = 0x3333_4444; // EAX
    c.gpr[1] = 0xaaaa_bbbb; // ECX
    c.gpr[3] = 0xcccc_dddd; // EBX
    c.set_status(flag::CF);
    assert_eq!(vm.run(), Exit::Syscall);
    let m = vm.mem().read_u64(GuestAddr(DATA)).unwrap();
    assert_eq!(m, 0xaaaa_bbbb_cccc_dddd);
    assert!(vm.cpu().zf() && vm.cpu().cf());
}

#[test]
fn cmpxchg8b_failure_loads_edx_eax_and_writes_back() {
    let mut vm = Vm::new(&[0x0f, 0xc7, 0x0d, 0, 0, 1, 0]);
    vm.mem()
        .write_u64(GuestAddr(DATA), 0x1111_2222_3333_4444)
        .unwrap();
    vm.cpu().gpr[0] = 5;
    assert_eq!(vm.run(), Exit::Syscall);
    assert_eq!(vm.cpu().gpr[0], 0x3333_4444);
    assert_eq!(vm.cpu().gpr[2], 0x1111_2222);
    assert!(!vm.cpu().zf());
    // On a read-only page even the failing compare faults (it writes back),
    // and EDX:EAX stay as they were.
    let mut vm = Vm::new(&[0x0f, 0xc7, 0x0d, 0, 0, 1, 0]);
    vm.mem().write_u64(GuestAddr(DATA), 9).unwrap();
    vm.protect(DATA, 0x1000, Prot::READ);
    vm.cpu().gpr[0] = 5;
    assert!(matches!(vm.run(), Exit::Exception(Exception::PageFault(_))));
    assert_eq!((vm.cpu().gpr[0], vm.cpu().eip), (5, 0x1000));
}

#[test]
fn cmpxchg_both_outcomes() {
    // cmpxchg [0x10000], ecx ; cmpxchg [0x10000], ecx
    let code = [0x0f, 0xb1, 0x0d, 0, 0, 1, 0];
    let mut vm = Vm::new(&[code, code].concat());
    vm.mem().write_u32(GuestAddr(DATA), 7).unwrap();
    vm.cpu().gpr[0] = 7;
    vm.cpu().gpr[1] = 9;
    assert_eq!(vm.run(), Exit::Syscall);
    // First succeeds (mem = 9), second fails (EAX = 9, ZF = 0).
    assert_eq!(vm.mem().read_u32(GuestAddr(DATA)).unwrap(), 9);
    assert_eq!(vm.cpu().gpr[0], 9);
    assert!(!vm.cpu().zf());
    // Flags are those of CMP EAX, dest: 7 - 9 borrows.
    assert!(vm.cpu().cf());
}

#[test]
fn xadd_same_register_keeps_sum() {
    // xadd eax, eax ; xadd [0x10000], ecx
    let mut vm = Vm::new(&[0x0f, 0xc1, 0xc0, 0x0f, 0xc1, 0x0d, 0, 0, 1, 0]);
    vm.cpu().gpr[0] = 0x8000_0001;
    vm.cpu().gpr[1] = 3;
    vm.mem().write_u32(GuestAddr(DATA), 10).unwrap();
    assert_eq!(vm.run(), Exit::Syscall);
    assert_eq!(vm.cpu().gpr[0], 2);
    assert_eq!(vm.cpu().gpr[1], 10);
    assert_eq!(vm.mem().read_u32(GuestAddr(DATA)).unwrap(), 13);
}

#[test]
fn xchg_memory_faults_without_changing_register() {
    // xchg [0x10000], ebx on a read-only page
    let mut vm = Vm::new(&[0x87, 0x1d, 0, 0, 1, 0]);
    vm.protect(DATA, 0x1000, Prot::READ);
    vm.cpu().gpr[3] = 0x55;
    assert!(matches!(vm.run(), Exit::Exception(Exception::PageFault(_))));
    assert_eq!(vm.cpu().gpr[3], 0x55);
}

#[test]
fn cmov_false_still_reads_memory() {
    // xor eax, eax (ZF=1) ; cmovne ebx, [0]
    let mut vm = Vm::new(&[0x31, 0xc0, 0x0f, 0x45, 0x1d, 0, 0, 0, 0]);
    assert!(matches!(vm.run(), Exit::Exception(Exception::PageFault(_))));
    // cmove ebx, ecx (taken) ; cmovne edx, ecx (not taken)
    let mut vm = Vm::new(&[0x31, 0xc0, 0x0f, 0x44, 0xd9, 0x0f, 0x45, 0xd1]);
    vm.cpu().gpr[1] = 7;
    vm.cpu().gpr[2] = 1;
    assert_eq!(vm.run(), Exit::Syscall);
    assert_eq!((vm.cpu().gpr[3], vm.cpu().gpr[2]), (7, 1));
}

#[test]
fn lahf_sahf_salc_and_carry_ops() {
    // stc ; lahf ; cmc ; salc  (AL = 0 after CMC cleared CF)
    let mut vm = Vm::new(&[0xf9, 0x9f, 0xf5, 0xd6]);
    vm.cpu().gpr[0] = 0x1234_5678;
    assert_eq!(vm.run(), Exit::Syscall);
    assert_eq!(vm.cpu().gpr[0] >> 8 & 0xff, 0x03); // CF | bit 1
    assert_eq!(vm.cpu().gpr[0] & 0xff, 0);
    // mov ah, 0xd5 ; sahf: SF ZF AF PF CF all set
    let mut vm = Vm::new(&[0xb4, 0xd5, 0x9e]);
    assert_eq!(vm.run(), Exit::Syscall);
    let f = vm.cpu().eflags();
    assert_eq!(f & flag::STATUS, flag::STATUS & !flag::OF);
}

#[test]
fn sign_extensions() {
    // cbw ; cwde ; cdq with AL = 0x80; then movsx ecx, byte [0x10000]
    let mut vm = Vm::new(&[0x66, 0x98, 0x98, 0x99, 0x0f, 0xbe, 0x0d, 0, 0, 1, 0]);
    vm.cpu().gpr[0] = 0x1234_5680;
    vm.mem().write_u16(GuestAddr(DATA), 0x80fe).unwrap();
    assert_eq!(vm.run(), Exit::Syscall);
    let g = vm.cpu().gpr;
    assert_eq!((g[0], g[2]), (0xffff_ff80, 0xffff_ffff));
    assert_eq!(g[1], 0xffff_fffe);
}

#[test]
fn movzx_word_and_cwd() {
    // movzx edx, word [0x10000] ; cwd (AX = 0x7fff -> DX = 0)
    let mut vm = Vm::new(&[0x0f, 0xb7, 0x15, 0, 0, 1, 0, 0x66, 0x99]);
    vm.mem().write_u16(GuestAddr(DATA), 0x80fe).unwrap();
    vm.cpu().gpr[0] = 0x7fff;
    assert_eq!(vm.run(), Exit::Syscall);
    assert_eq!(vm.cpu().gpr[2], 0);
    let mut vm = Vm::new(&[0x0f, 0xb7, 0x15, 0, 0, 1, 0]);
    vm.mem().write_u16(GuestAddr(DATA), 0x80fe).unwrap();
    assert_eq!(vm.run(), Exit::Syscall);
    assert_eq!(vm.cpu().gpr[2], 0x80fe);
}

#[test]
fn xlat_and_setcc() {
    // mov ebx, 0x10000 ; xlat ; setc cl
    let mut vm = Vm::new(&[0xbb, 0, 0, 1, 0, 0xd7, 0xf9, 0x0f, 0x92, 0xc1]);
    vm.mem().write_u8(GuestAddr(DATA + 5), 0x42).unwrap();
    vm.cpu().gpr[0] = 0xaaaa_aa05;
    vm.cpu().gpr[1] = 0xffff_ffff;
    assert_eq!(vm.run(), Exit::Syscall);
    assert_eq!(vm.cpu().gpr[0], 0xaaaa_aa42);
    assert_eq!(vm.cpu().gpr[1], 0xffff_ff01);
}

#[test]
fn bound_range() {
    // bound eax, [0x10000] with bounds -5..10
    let code = [0x62, 0x05, 0, 0, 1, 0];
    for (index, ok) in [
        (10u32, true),
        (11, false),
        ((-5i32) as u32, true),
        ((-6i32) as u32, false),
    ] {
        let mut vm = Vm::new(&code);
        vm.mem().write_u32(GuestAddr(DATA), (-5i32) as u32).unwrap();
        vm.mem().write_u32(GuestAddr(DATA + 4), 10).unwrap();
        vm.cpu().gpr[0] = index;
        let want = if ok {
            Exit::Syscall
        } else {
            Exit::Exception(Exception::BoundRange)
        };
        assert_eq!(vm.run(), want, "index {index}");
    }
}
