//! Interpreter throughput in guest instructions per second.
//!
//! Each bench runs a small counted loop in a bare guest (no kernel) and
//! reports elements = guest instructions retired, so criterion prints
//! instructions per second.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use wax_bench::guest::{counted_loop, BareGuest, DATA};

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
        0x81, 0xe7, 0xff, 0xff, 0x0f, 0x10, // and edi, 0x100fffff
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

criterion_group!(benches, integer_alu, memory, call_ret);
criterion_main!(benches);
