//! Tests of the stack group (`stack.rs`).

use super::super::misc::testutil::{Vm, DATA, STACK_TOP};
use crate::exit::{Exception, Exit};
use crate::state::{flag, reg, seg, TlsDescriptor};
use crate::GuestAddr;

fn stack_u32(vm: &mut Vm, at: u32) -> u32 {
    vm.mem().read_u32(GuestAddr(at)).unwrap()
}

#[test]
fn push_esp_pushes_old_value_and_pop_esp_keeps_popped() {
    // push esp ; pop eax ; push 0x1234 ; pop esp
    let mut vm = Vm::new(&[0x54, 0x58, 0x68, 0x34, 0x12, 0, 0, 0x5c]);
    assert_eq!(vm.run(), Exit::Syscall);
    assert_eq!(vm.cpu().gpr[reg::EAX], STACK_TOP);
    assert_eq!(vm.cpu().gpr[reg::ESP], 0x1234);
}

#[test]
fn pop_to_memory_uses_incremented_esp() {
    // push 0x1111 ; push 0x2222 ; pop dword [esp] ; pop eax
    let mut vm = Vm::new(&[
        0x68, 0x11, 0x11, 0, 0, 0x68, 0x22, 0x22, 0, 0, 0x8f, 0x04, 0x24, 0x58,
    ]);
    assert_eq!(vm.run(), Exit::Syscall);
    assert_eq!(vm.cpu().gpr[reg::EAX], 0x2222);
    assert_eq!(vm.cpu().gpr[reg::ESP], STACK_TOP);
}

#[test]
fn faulting_pop_to_memory_keeps_esp() {
    // push 5 ; pop dword [0]
    let mut vm = Vm::new(&[0x6a, 0x05, 0x8f, 0x05, 0, 0, 0, 0]);
    assert!(matches!(vm.run(), Exit::Exception(Exception::PageFault(_))));
    assert_eq!(vm.cpu().gpr[reg::ESP], STACK_TOP - 4);
    assert_eq!(vm.cpu().eip, 0x1002);
}

#[test]
fn push_immediates_and_16_bit_forms() {
    // push -2 (imm8) ; push word 0x1234 ; push ax(66 50)
    let mut vm = Vm::new(&[0x6a, 0xfe, 0x66, 0x68, 0x34, 0x12, 0x66, 0x50]);
    vm.cpu().gpr[reg::EAX] = 0xaaaa_5678;
    assert_eq!(vm.run(), Exit::Syscall);
    assert_eq!(vm.cpu().gpr[reg::ESP], STACK_TOP - 8);
    assert_eq!(stack_u32(&mut vm, STACK_TOP - 4), 0xffff_fffe);
    assert_eq!(stack_u32(&mut vm, STACK_TOP - 8), 0x1234_5678);
}

#[test]
fn popf_changes_only_user_writable_flags() {
    // push 0xfffffeff (all but TF) ; popfd ; pushfd ; pop eax
    let mut vm = Vm::new(&[0x68, 0xff, 0xfe, 0xff, 0xff, 0x9d, 0x9c, 0x58]);
    assert_eq!(vm.run(), Exit::Syscall);
    // IF stays set, IOPL/VM/VIF/VIP/RF stay clear, reserved bits read 0.
    assert_eq!(vm.cpu().gpr[reg::EAX], 0x0024_4ed7);
    // push 0 ; popfd: IF survives, bit 1 reads 1.
    let mut vm = Vm::new(&[0x6a, 0x00, 0x9d, 0x9c, 0x58]);
    assert_eq!(vm.run(), Exit::Syscall);
    assert_eq!(vm.cpu().gpr[reg::EAX], flag::IF | flag::FIXED1);
}

#[test]
fn popf16_keeps_high_flags() {
    // push 0x40000 (AC) ; popfd ; push word 0 ; popf (16-bit)
    let mut vm = Vm::new(&[0x68, 0, 0, 4, 0, 0x9d, 0x66, 0x6a, 0x00, 0x66, 0x9d]);
    assert_eq!(vm.run(), Exit::Syscall);
    assert_eq!(vm.cpu().eflags(), flag::AC | flag::IF | flag::FIXED1);
}

#[test]
fn pushf_hides_rf_and_vm() {
    let mut vm = Vm::new(&[0x9c]);
    vm.cpu().eflags |= flag::RF;
    assert_eq!(vm.run(), Exit::Syscall);
    assert_eq!(stack_u32(&mut vm, STACK_TOP - 4), flag::IF | flag::FIXED1);
}

#[test]
fn pusha_popa_round_trip() {
    // pushad ; mov esp-relative: xor eax,eax ; popad
    let mut vm = Vm::new(&[0x60, 0x31, 0xc0, 0x61]);
    let regs = [1, 2, 3, 4, STACK_TOP, 6, 7, 8];
    vm.cpu().gpr = regs;
    assert_eq!(vm.run(), Exit::Syscall);
    assert_eq!(vm.cpu().gpr, regs);
    assert_eq!(stack_u32(&mut vm, STACK_TOP - 20), STACK_TOP); // saved ESP
    assert_eq!(stack_u32(&mut vm, STACK_TOP - 32), 8); // EDI last
}

#[test]
fn pusha_fault_keeps_esp_and_names_first_bad_slot() {
    let mut vm = Vm::new(&[0x60]);
    let sp = STACK_TOP - 0x1000 + 16;
    vm.cpu().gpr[reg::ESP] = sp;
    vm.cpu().gpr[reg::EAX] = 0xa;
    match vm.run() {
        Exit::Exception(Exception::PageFault(f)) => assert_eq!(f.addr, GuestAddr(sp - 20)),
        e => panic!("{e:?}"),
    }
    assert_eq!(vm.cpu().gpr[reg::ESP], sp);
    // The pushes before the faulting one are stored, like on the host.
    assert_eq!(stack_u32(&mut vm, sp - 4), 0xa);
}

#[test]
fn enter_with_nesting_copies_frame_pointers() {
    // enter 8, 3
    let mut vm = Vm::new(&[0xc8, 0x08, 0x00, 0x03]);
    let ebp = STACK_TOP - 0x100;
    vm.cpu().gpr[reg::EBP] = ebp;
    vm.cpu().gpr[reg::ESP] = STACK_TOP - 0x200;
    vm.mem().write_u32(GuestAddr(ebp - 4), 0xaaaa).unwrap();
    vm.mem().write_u32(GuestAddr(ebp - 8), 0xbbbb).unwrap();
    assert_eq!(vm.run(), Exit::Syscall);
    let sp = STACK_TOP - 0x200;
    let frame = sp - 4;
    assert_eq!(vm.cpu().gpr[reg::EBP], frame);
    assert_eq!(vm.cpu().gpr[reg::ESP], sp - 16 - 8);
    assert_eq!(stack_u32(&mut vm, sp - 4), ebp);
    assert_eq!(stack_u32(&mut vm, sp - 8), 0xaaaa);
    assert_eq!(stack_u32(&mut vm, sp - 12), 0xbbbb);
    assert_eq!(stack_u32(&mut vm, sp - 16), frame);
}

#[test]
fn enter_16_sets_bp_only() {
    // enter 8, 0 with a 16-bit operand size
    let mut vm = Vm::new(&[0x66, 0xc8, 0x08, 0x00, 0x00]);
    vm.cpu().gpr[reg::EBP] = 0x1234_5678;
    assert_eq!(vm.run(), Exit::Syscall);
    let frame = STACK_TOP - 2;
    assert_eq!(vm.cpu().gpr[reg::EBP], 0x1234_0000 | frame & 0xffff);
    assert_eq!(vm.cpu().gpr[reg::ESP], frame - 8);
    assert_eq!(vm.mem().read_u16(GuestAddr(frame)).unwrap(), 0x5678);
}

#[test]
fn leave_16_pops_bp() {
    // leave with a 16-bit operand size: ESP = EBP, BP = pop
    let mut vm = Vm::new(&[0x66, 0xc9]);
    let bp = STACK_TOP - 0x10;
    vm.cpu().gpr[reg::EBP] = bp;
    vm.mem().write_u16(GuestAddr(bp), 0xbeef).unwrap();
    assert_eq!(vm.run(), Exit::Syscall);
    assert_eq!(vm.cpu().gpr[reg::ESP], bp + 2);
    assert_eq!(vm.cpu().gpr[reg::EBP], bp & 0xffff_0000 | 0xbeef);
}

#[test]
fn leave_fault_keeps_esp() {
    let mut vm = Vm::new(&[0xc9]);
    vm.cpu().gpr[reg::EBP] = 0;
    assert!(matches!(vm.run(), Exit::Exception(Exception::PageFault(_))));
    assert_eq!(vm.cpu().gpr[reg::ESP], STACK_TOP);
}

#[test]
fn segment_push_pop() {
    // push ds ; pop fs (USER_DS, base 0) ; push ds ; push word 0x63 ;
    // pop gs (16-bit) ; pop eax
    let mut vm = Vm::new(&[
        0x1e, 0x0f, 0xa1, 0x1e, 0x66, 0x6a, 0x63, 0x66, 0x0f, 0xa9, 0x58,
    ]);
    vm.cpu().tls[0] = TlsDescriptor {
        base: DATA,
        limit: 0xfffff,
        flags: 0x51,
        present: 1,
    };
    vm.mem()
        .write_u32(GuestAddr(STACK_TOP - 4), 0xffff_ffff)
        .unwrap();
    assert_eq!(vm.run(), Exit::Syscall);
    // The 32-bit push wrote the selector zero-extended (as the host does).
    assert_eq!(vm.cpu().gpr[reg::EAX], 0x2b);
    assert_eq!(vm.cpu().seg_sel[seg::FS], 0x2b);
    assert_eq!(vm.cpu().seg_sel[seg::GS], 0x63);
    assert_eq!(vm.cpu().seg_base[seg::GS], DATA);
    assert_eq!(vm.cpu().gpr[reg::ESP], STACK_TOP);
}

#[test]
fn pop_ss_with_bad_selector_faults_before_esp_moves() {
    // push 0 ; pop ss
    let mut vm = Vm::new(&[0x6a, 0x00, 0x17]);
    assert_eq!(vm.run(), Exit::Exception(Exception::GeneralProtection));
    assert_eq!(vm.cpu().gpr[reg::ESP], STACK_TOP - 4);
}

#[test]
fn popa_fault_keeps_registers_popped_before_it() {
    // popad with the EBX slot on the unmapped page above the stack
    let mut vm = Vm::new(&[0x61]);
    let sp = STACK_TOP - 16;
    vm.cpu().gpr = [0xa, 0xc, 0xd, 0xb, sp, 0xbb, 0x51, 0xd1];
    for (i, v) in [1u32, 2, 3, 4].iter().enumerate() {
        vm.mem()
            .write_u32(GuestAddr(sp + 4 * i as u32), *v)
            .unwrap();
    }
    match vm.run() {
        Exit::Exception(Exception::PageFault(f)) => assert_eq!(f.addr, GuestAddr(STACK_TOP)),
        e => panic!("{e:?}"),
    }
    assert_eq!(vm.cpu().gpr, [0xa, 0xc, 0xd, 0xb, sp, 3, 2, 1]);
}
