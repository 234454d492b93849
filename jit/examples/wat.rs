//! Prints the translation of one page of a raw code file as wasm text.
//! `cargo run --release -p wax-jit --example wat FILE PAGE`
use iced_x86::{Decoder, DecoderOptions, FlowControl};
fn main() {
    let mut a = std::env::args().skip(1);
    let code = std::fs::read(a.next().unwrap()).unwrap();
    let n: usize = a.next().unwrap().parse().unwrap();
    let page = &code[n * 4096..(n + 1) * 4096];
    let base = 0x0800_0000;
    let mut e = vec![base];
    for i in Decoder::with_ip(32, page, u64::from(base), DecoderOptions::NONE) {
        if i.flow_control() != FlowControl::Next {
            e.push(i.next_ip32());
        }
    }
    let t = wax_jit::translate_page(
        page,
        base,
        &e,
        &wax_jit::Options {
            shared_memory: false,
            inline_checks: std::env::var_os("WAX_JIT_INLINE").is_some(),
            memory_base: 0,
            link: true,
            reuse_pages: true,
        },
    );
    print!("{}", wasmprinter::print_bytes(&t.wasm).unwrap());
}
