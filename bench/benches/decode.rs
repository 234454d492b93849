//! Instruction decoding throughput on a real program: the `.text` of the
//! static busybox (about 1.5 MB of gcc output), decoded linearly with
//! iced-x86, alone and followed by the interpreter's handler selection
//! (what filling the decode cache costs per instruction). Criterion
//! reports instructions per second.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use iced_x86::{Decoder, DecoderOptions, Instruction};
use wax_bench::{busybox, elf::text_section};
use wax_cpu::interp::table;

fn decode_all(code: &[u8], ip: u32, mut each: impl FnMut(&Instruction)) -> u64 {
    let mut decoder = Decoder::with_ip(32, code, u64::from(ip), DecoderOptions::NONE);
    let mut insn = Instruction::default();
    let mut n = 0;
    while decoder.can_decode() {
        decoder.decode_out(&mut insn);
        each(&insn);
        n += 1;
    }
    n
}

fn decode(c: &mut Criterion) {
    let path = busybox();
    let Ok(file) = std::fs::read(&path) else {
        eprintln!(
            "decode bench skipped: {} is missing (run scripts/setup.sh)",
            path.display()
        );
        return;
    };
    let (ip, text) = text_section(&file).expect("busybox has a .text section");
    let count = decode_all(text, ip, |_| {});
    let mut group = c.benchmark_group("decode");
    group.throughput(Throughput::Elements(count));
    group.sample_size(10);
    group.bench_function("iced_busybox_text", |b| {
        b.iter(|| {
            decode_all(text, ip, |i| {
                std::hint::black_box(i);
            })
        })
    });
    group.bench_function("iced_and_handler_busybox_text", |b| {
        b.iter(|| {
            decode_all(text, ip, |i| {
                std::hint::black_box(table::handler(i));
            })
        })
    });
    group.finish();
}

criterion_group!(benches, decode);
criterion_main!(benches);
