//! Tests of the string group (`string.rs`).

use super::super::misc::testutil::{Vm, DATA};
use crate::exit::{Exception, Exit};
use crate::mem::Prot;
use crate::state::{flag, reg, seg};
use crate::GuestAddr;

const CLD: u8 = 0xfc;
const STD: u8 = 0xfd;
const REP: u8 = 0xf3;
const REPNE: u8 = 0xf2;

fn fill(vm: &mut Vm, at: u32, bytes: &[u8]) {
    vm.mem().write_bytes(GuestAddr(at), bytes).unwrap();
}

fn bytes(vm: &mut Vm, at: u32, n: usize) -> Vec<u8> {
    let mut b = vec![0; n];
    vm.mem().read_bytes(GuestAddr(at), &mut b).unwrap();
    b
}

fn set(vm: &mut Vm, ecx: u32, esi: u32, edi: u32) {
    let c = vm.cpu();
    c.gpr[reg::ECX] = ecx;
    c.gpr[reg::ESI] = esi;
    c.gpr[reg::EDI] = edi;
}

fn regs(vm: &mut Vm) -> (u32, u32, u32) {
    let g = vm.cpu().gpr;
    (g[reg::ECX], g[reg::ESI], g[reg::EDI])
}

#[test]
fn rep_with_zero_count_does_nothing() {
    // rep movsb ; repe cmpsb (flags must survive) with ECX = 0
    let mut vm = Vm::new(&[CLD, REP, 0xa4, REP, 0xa6]);
    set(&mut vm, 0, 0, 0); // unmapped addresses: nothing may be touched
    vm.cpu().set_status(flag::ZF | flag::CF);
    assert_eq!(vm.run(), Exit::Syscall);
    assert_eq!(regs(&mut vm), (0, 0, 0));
    assert!(vm.cpu().zf() && vm.cpu().cf());
}

#[test]
fn rep_movs_copies_forward_in_bulk() {
    let src: Vec<u8> = (0..10000u32).map(|i| (i * 7) as u8).collect();
    // Unaligned, page-crossing source and destination.
    let (s, d) = (DATA + 3, DATA + 0x8001);
    let mut vm = Vm::new(&[CLD, REP, 0xa5]);
    fill(&mut vm, s, &src);
    set(&mut vm, 2500, s, d);
    assert_eq!(vm.run(), Exit::Syscall);
    assert_eq!(bytes(&mut vm, d, 10000), src);
    assert_eq!(regs(&mut vm), (0, s + 10000, d + 10000));
}

#[test]
fn overlapping_forward_movsb_replicates_like_hardware() {
    // EDI = ESI + 1: every byte copies the one just written.
    let mut vm = Vm::new(&[CLD, REP, 0xa4]);
    fill(&mut vm, DATA, b"ab");
    set(&mut vm, 5000, DATA, DATA + 1);
    assert_eq!(vm.run(), Exit::Syscall);
    assert!(bytes(&mut vm, DATA, 5001).iter().all(|&b| b == b'a'));
    // EDI = ESI + 3 with dwords: element-wise reads see earlier stores.
    let mut vm = Vm::new(&[CLD, REP, 0xa5]);
    let pattern: Vec<u8> = (1..=12).collect();
    fill(&mut vm, DATA, &pattern);
    set(&mut vm, 100, DATA, DATA + 3);
    assert_eq!(vm.run(), Exit::Syscall);
    let out = bytes(&mut vm, DATA, 403);
    let mut want = vec![0u8; 403];
    want[..12].copy_from_slice(&pattern);
    for i in 0..100 {
        let (a, b) = (i * 4, i * 4 + 3);
        let v: [u8; 4] = want[a..a + 4].try_into().unwrap();
        want[b..b + 4].copy_from_slice(&v);
    }
    assert_eq!(out, want);
}

#[test]
fn df_set_copies_backwards_like_memmove() {
    // Overlapping move up by 2 with DF=1, starting from the last dword.
    let mut vm = Vm::new(&[STD, REP, 0xa5, CLD]);
    let src: Vec<u8> = (0..=255).cycle().take(8192).collect();
    fill(&mut vm, DATA + 0x100, &src);
    set(&mut vm, 2048, DATA + 0x100 + 8188, DATA + 0x102 + 8188);
    assert_eq!(vm.run(), Exit::Syscall);
    assert_eq!(bytes(&mut vm, DATA + 0x102, 8192), src);
    assert_eq!(regs(&mut vm), (0, DATA + 0xfc, DATA + 0xfe));
    // Down by 1 with DF=1 and bytes: replicates the top byte downwards.
    let mut vm = Vm::new(&[STD, REP, 0xa4]);
    fill(&mut vm, DATA + 99, b"z");
    set(&mut vm, 99, DATA + 99, DATA + 98);
    assert_eq!(vm.run(), Exit::Syscall);
    assert!(bytes(&mut vm, DATA, 100).iter().all(|&b| b == b'z'));
}

#[test]
fn fault_mid_rep_movs_leaves_remaining_work() {
    // The destination runs into a read-only page after 0x800 dwords.
    let code = [CLD, REP, 0xa5];
    let mut vm = Vm::new(&code);
    fill(&mut vm, DATA, &[0x5a; 0x3000]);
    vm.protect(DATA + 0x3000, 0x1000, Prot::READ);
    let d = DATA + 0x1000;
    set(&mut vm, 0x1000, DATA, d);
    match vm.run() {
        Exit::Exception(Exception::PageFault(f)) => assert_eq!(f.addr, GuestAddr(DATA + 0x3000)),
        e => panic!("{e:?}"),
    }
    assert_eq!(vm.cpu().eip, 0x1001);
    assert_eq!(regs(&mut vm), (0x800, DATA + 0x2000, DATA + 0x3000));
    // Make it writable and restart: the instruction finishes the job.
    vm.protect(DATA + 0x3000, 0x1000, Prot::RW);
    assert_eq!(vm.run(), Exit::Syscall);
    assert_eq!(regs(&mut vm), (0, DATA + 0x4000, DATA + 0x5000));
    assert!(bytes(&mut vm, d, 0x4000).iter().all(|&b| b == 0x5a));
}

#[test]
fn fault_on_straddling_element_reports_first_bad_byte() {
    // rep stosd into a read-only page, the third dword straddles it.
    let mut vm = Vm::new(&[CLD, REP, 0xab]);
    vm.protect(DATA + 0x1000, 0x1000, Prot::READ);
    let d = DATA + 0x1000 - 10;
    set(&mut vm, 100, 0, d);
    vm.cpu().gpr[reg::EAX] = 0x1122_3344;
    match vm.run() {
        Exit::Exception(Exception::PageFault(f)) => assert_eq!(f.addr, GuestAddr(DATA + 0x1000)),
        e => panic!("{e:?}"),
    }
    assert_eq!(regs(&mut vm), (98, 0, d + 8));
    assert_eq!(
        bytes(&mut vm, d, 10),
        [0x44, 0x33, 0x22, 0x11, 0x44, 0x33, 0x22, 0x11, 0, 0]
    );
}

#[test]
fn rep_stos_both_directions() {
    let mut vm = Vm::new(&[
        CLD, REP, 0x66, 0xab, STD, 0xbf, 0xff, 0x5f, 1, 0, 0xb9, 0, 0x30, 0, 0, REP, 0xaa,
    ]);
    vm.cpu().gpr[reg::EAX] = 0x7766;
    set(&mut vm, 3000, 0, DATA + 1);
    assert_eq!(vm.run(), Exit::Syscall);
    let words = bytes(&mut vm, DATA + 1, 6000);
    assert!(words.chunks(2).all(|w| w == [0x66, 0x77]));
    // Then STD; mov edi, 0x15fff; mov ecx, 0x3000; rep stosb: fills
    // 0x13000..=0x15fff with AL going down.
    assert_eq!(regs(&mut vm).0, 0);
    assert_eq!(vm.cpu().gpr[reg::EDI], DATA + 0x2fff);
    assert!(bytes(&mut vm, DATA + 0x3000, 0x3000)
        .iter()
        .all(|&b| b == 0x66));
    assert_eq!(bytes(&mut vm, DATA + 0x2fff, 1), [0]);
}

#[test]
fn repne_scasb_finds_byte() {
    // repne scasb looking for 0 (strlen idiom)
    let mut vm = Vm::new(&[CLD, REPNE, 0xae]);
    fill(&mut vm, DATA, b"hello\0world");
    set(&mut vm, u32::MAX, 0, DATA);
    vm.cpu().gpr[reg::EAX] = 0;
    assert_eq!(vm.run(), Exit::Syscall);
    assert_eq!(regs(&mut vm), (u32::MAX - 6, 0, DATA + 6));
    assert!(vm.cpu().zf());
}

#[test]
fn repe_cmps_stops_at_difference_with_flags() {
    let mut vm = Vm::new(&[CLD, REP, 0xa6]);
    fill(&mut vm, DATA, b"abcdX");
    fill(&mut vm, DATA + 0x100, b"abcdY");
    set(&mut vm, 10, DATA, DATA + 0x100);
    assert_eq!(vm.run(), Exit::Syscall);
    assert_eq!(regs(&mut vm), (5, DATA + 5, DATA + 0x105));
    assert!(!vm.cpu().zf() && vm.cpu().cf()); // 'X' < 'Y'
                                              // Count exhausted while equal: ZF stays 1.
    let mut vm = Vm::new(&[CLD, REP, 0x66, 0xa7]);
    fill(&mut vm, DATA, b"abcd");
    fill(&mut vm, DATA + 0x100, b"abcd");
    set(&mut vm, 2, DATA, DATA + 0x100);
    assert_eq!(vm.run(), Exit::Syscall);
    assert_eq!(regs(&mut vm), (0, DATA + 4, DATA + 0x104));
    assert!(vm.cpu().zf());
}

#[test]
fn address_size_prefix_uses_si_di_cx() {
    // fs: a16 rep movsb: SI wraps from 0xffff to 0 inside the FS segment,
    // DI indexes the code page; the upper halves of ESI/EDI/ECX stay.
    let mut vm = Vm::new(&[CLD, 0x64, 0x67, REP, 0xa4]);
    vm.cpu().seg_base[seg::FS] = DATA;
    fill(&mut vm, DATA + 0xfffe, b"xy");
    fill(&mut vm, DATA, b"zw");
    set(&mut vm, 0xabcd_0004, 0x0001_fffe, 0x0002_1800);
    assert_eq!(vm.run(), Exit::Syscall);
    assert_eq!(regs(&mut vm), (0xabcd_0000, 0x0001_0002, 0x0002_1804));
    assert_eq!(bytes(&mut vm, 0x1800, 4), *b"xyzw");
}

#[test]
fn segment_override_applies_to_source_only() {
    // fs: lodsd ; fs: movsb
    let mut vm = Vm::new(&[CLD, 0x64, 0xad, 0x64, 0xa4]);
    vm.cpu().seg_base[seg::FS] = DATA;
    fill(&mut vm, DATA + 0x10, &[1, 2, 3, 4, 5]);
    set(&mut vm, 0, 0x10, DATA + 0x200);
    assert_eq!(vm.run(), Exit::Syscall);
    assert_eq!(vm.cpu().gpr[reg::EAX], 0x0403_0201);
    assert_eq!(bytes(&mut vm, DATA + 0x200, 1), [5]);
    assert_eq!(regs(&mut vm), (0, 0x15, DATA + 0x201));
}

#[test]
fn repne_prefix_repeats_movs() {
    let mut vm = Vm::new(&[CLD, REPNE, 0xa4]);
    fill(&mut vm, DATA, b"abc");
    set(&mut vm, 3, DATA, DATA + 0x10);
    assert_eq!(vm.run(), Exit::Syscall);
    assert_eq!(bytes(&mut vm, DATA + 0x10, 3), *b"abc");
}
