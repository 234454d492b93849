//! Floating-point throughput of the interpreter in guest instructions per
//! second: an x87 loop (how gcc -m32 compiles double arithmetic, and how
//! Debian's i386 packages run) and an SSE/SSE2 loop.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use wax_bench::guest::{counted_loop_after, BareGuest, DATA};

const ITERATIONS: u32 = 200_000;

fn bench(c: &mut Criterion, name: &str, setup: &[u8], body: &[u8]) {
    let mut guest = BareGuest::new(&counted_loop_after(setup, body));
    let regs = [0, ITERATIONS, 0, 0, 0, 0, 0, DATA];
    let per_run = guest.run(regs);
    let mut group = c.benchmark_group("fpu");
    group.throughput(Throughput::Elements(per_run));
    group.sample_size(10);
    group.bench_function(name, |b| b.iter(|| guest.run(regs)));
    group.finish();
}

/// x87: square, square root, memory operands, FXCH; the stack stays
/// balanced (ST0 = x, ST1 = an accumulator).
fn x87(c: &mut Criterion) {
    let setup = [
        0xdb, 0xe3, // fninit
        0xd9, 0xee, // fldz
        0xd9, 0xeb, // fldpi
    ];
    let body = [
        0xd9, 0xc0, // fld st0
        0xd8, 0xc8, // fmul st0, st0
        0xd9, 0xfa, // fsqrt
        0xdc, 0x07, // fadd qword [edi]
        0xdd, 0x5f, 0x08, // fstp qword [edi+8]
        0xd9, 0xc9, // fxch st1
        0xdc, 0x47, 0x08, // fadd qword [edi+8]
        0xd9, 0xc9, // fxch st1
    ];
    bench(c, "x87", &setup, &body);
}

/// SSE (packed single) and SSE2 (scalar double) arithmetic with loads and
/// stores.
fn sse(c: &mut Criterion) {
    let mut setup = Vec::new();
    for off in [0u8, 4, 8, 12] {
        // mov dword [edi+off], 1.5f
        setup.extend_from_slice(&[0xc7, 0x47, off, 0x00, 0x00, 0xc0, 0x3f]);
    }
    setup.extend_from_slice(&[
        0xb8, 0x00, 0x00, 0x80, 0x3f, // mov eax, 1.0f
        0x66, 0x0f, 0x6e, 0xc0, // movd xmm0, eax
        0x0f, 0xc6, 0xc0, 0x00, // shufps xmm0, xmm0, 0
    ]);
    let body = [
        0x0f, 0x10, 0x0f, // movups xmm1, [edi]
        0x0f, 0x59, 0xc8, // mulps xmm1, xmm0
        0x0f, 0x58, 0xd1, // addps xmm2, xmm1
        0x0f, 0x11, 0x57, 0x10, // movups [edi+16], xmm2
        0xf2, 0x0f, 0x58, 0xda, // addsd xmm3, xmm2
        0xf2, 0x0f, 0x51, 0xe3, // sqrtsd xmm4, xmm3
    ];
    bench(c, "sse", &setup, &body);
}

criterion_group!(benches, x87, sse);
criterion_main!(benches);
