//! Interpreter throughput in guest instructions per second.
//!
//! Each bench runs a small counted loop in a bare guest (no kernel) and
//! reports elements = guest instructions retired, so criterion prints
//! instructions per second. The `rep` string benches report bytes per
//! second instead: one `rep movsd` is one instruction however far it goes.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use wax_bench::guest::{counted_loop, ebp_loop, BareGuest, DATA};

const ITERATIONS: u32 = 1_000_000;

fn bench_loop(c: &mut Criterion, name: &str, body: &[u8], regs: [u32; 8]) {
    let mut guest = BareGuest::new(&counted_loop(body));
    let per_run = guest.run(regs);
    let mut group = c.benchmark_group("interp");
    group.throughput(Throughput::Elements(per_run));
    group.sample_size(20);
    group.bench_function(name, |b| b.iter(|| guest.run(regs)));
    group.finish();
}

/// Register-only integer work: add, xor, shift-free ALU and a compare.
fn integer_alu(c: &mut Criterion) {
    let body = [
        0x01, 0xc8, // add eax, ecx
        0x31, 0xc3, // xor ebx, eax
        0x8d, 0x14, 0x1a, // lea edx, [edx+ebx]
        0x29, 0xd6, // sub esi, edx
        0x39, 0xf7, // cmp edi, esi
    ];
    bench_loop(c, "integer_alu", &body, [0, ITERATIONS, 0, 0, 0, 0, 0, 0]);
}

/// Loads and stores through the page table fast path.
fn memory(c: &mut Criterion) {
    let body = [
        0x8b, 0x07, // mov eax, [edi]
        0x01, 0xc3, // add ebx, eax
        0x89, 0x5f, 0x04, // mov [edi+4], ebx
        0x83, 0xc7, 0x04, // add edi, 4
        // Wrap within the first 512 KiB: the store at [edi+4] stays inside
        // the data area.
        0x81, 0xe7, 0xff, 0xff, 0x07, 0x10, // and edi, 0x1007ffff
    ];
    bench_loop(c, "memory", &body, [0, ITERATIONS, 0, 0, 0, 0, 0, DATA]);
}

/// Calls and returns: stack traffic and indirect control flow.
fn call_ret(c: &mut Criterion) {
    // call next; add esp, 4 (discard the return address) -> exercises
    // push/branch without needing a separate function.
    let body = [
        0xe8, 0x00, 0x00, 0x00, 0x00, // call $+5
        0x58, // pop eax
        0x01, 0xc3, // add ebx, eax
    ];
    bench_loop(c, "call_pop", &body, [0, ITERATIONS, 0, 0, 0, 0, 0, 0]);
}

/// Loads and stores at pseudo-random places in 256 KiB (64 pages), so the
/// page-table lookup cannot stay on one entry.
fn memory_scattered(c: &mut Criterion) {
    let body = [
        0x69, 0xdb, 0x6d, 0x4e, 0xc6, 0x41, // imul ebx, ebx, 1103515245
        0x81, 0xc3, 0x39, 0x30, 0x00, 0x00, // add ebx, 12345
        0x89, 0xda, // mov edx, ebx
        0xc1, 0xea, 0x0c, // shr edx, 12
        0x81, 0xe2, 0xfc, 0xff, 0x03, 0x00, // and edx, 0x3fffc
        0x03, 0x04, 0x17, // add eax, [edi+edx]
        0x89, 0x04, 0x17, // mov [edi+edx], eax
    ];
    let regs = [0, ITERATIONS, 0, 1, 0, 0, 0, DATA];
    bench_loop(c, "memory_scattered", &body, regs);
}

/// Byte-at-a-time string instructions without `rep`: a case-flipping copy.
fn lods_stos(c: &mut Criterion) {
    let body = [
        0xac, // lodsb
        0x34, 0x20, // xor al, 0x20
        0xaa, // stosb
    ];
    // ESI walks the first half of the data area, EDI the second.
    let regs = [0, 400_000, 0, 0, 0, 0, DATA, DATA + 0x8_0000];
    bench_loop(c, "lodsb_stosb", &body, regs);
}

/// Bytes each `rep` bench moves per outer iteration.
const REP_BYTES: u32 = 0x4_0000;
const REP_ROUNDS: u32 = 64;

/// A `rep` string instruction over [`REP_BYTES`], [`REP_ROUNDS`] times;
/// criterion reports bytes per second.
fn bench_rep(c: &mut Criterion, name: &str, insn: &[u8]) {
    let mut setup_body = vec![
        0xbe, 0, 0, 0, 0, // mov esi, DATA
        0xbf, 0, 0, 0, 0, // mov edi, DATA + REP_BYTES
        0xb9, 0, 0, 0, 0, // mov ecx, count
    ];
    setup_body[1..5].copy_from_slice(&DATA.to_le_bytes());
    setup_body[6..10].copy_from_slice(&(DATA + REP_BYTES).to_le_bytes());
    let count = if insn.contains(&0xae) {
        REP_BYTES // scasb counts bytes
    } else {
        REP_BYTES / 4
    };
    setup_body[11..15].copy_from_slice(&count.to_le_bytes());
    setup_body.extend_from_slice(insn);
    let mut guest = BareGuest::new(&ebp_loop(&[], &setup_body));
    let regs = [0x01, 0, 0, 0, 0, REP_ROUNDS, 0, 0];
    guest.run(regs);
    let mut group = c.benchmark_group("interp");
    group.throughput(Throughput::Bytes(
        u64::from(REP_BYTES) * u64::from(REP_ROUNDS),
    ));
    group.sample_size(10);
    group.bench_function(name, |b| b.iter(|| guest.run(regs)));
    group.finish();
}

fn rep_movsd(c: &mut Criterion) {
    bench_rep(c, "rep_movsd", &[0xf3, 0xa5]);
}

fn rep_stosd(c: &mut Criterion) {
    bench_rep(c, "rep_stosd", &[0xf3, 0xab]);
}

/// `repne scasb` looking for AL = 1 in zeroed memory: strlen/memchr's
/// pattern, with a flag test per byte.
fn repne_scasb(c: &mut Criterion) {
    bench_rep(c, "repne_scasb", &[0xf2, 0xae]);
}

criterion_group!(
    benches,
    integer_alu,
    memory,
    memory_scattered,
    call_ret,
    lods_stos,
    rep_movsd,
    rep_stosd,
    repne_scasb
);
criterion_main!(benches);
