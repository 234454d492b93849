//! Translation statistics over real code: every 4 KiB page of a raw code
//! file (e.g. `objcopy -O binary --only-section=.text /usr/bin/ls ls.text`)
//! is translated with the block starts a linear sweep finds as entries,
//! and compiled by wasmtime.
//! `cargo run --release -p wax-jit --example pages FILE [MAX_PAGES]`
//! (ENTRIES=N keeps only the first N entries of each page).

use iced_x86::{Decoder, DecoderOptions, FlowControl};
use std::time::Instant;
use wax_jit::engine::wasmtime::{Tuning, Wasmtime};
use wax_jit::{translate_page, Engine};

const BASE: u32 = 0x0800_0000;

/// Block starts of a linear sweep: the page start and every instruction
/// after a control transfer.
fn entries(page: &[u8], base: u32) -> Vec<u32> {
    let mut v = vec![base];
    let mut d = Decoder::with_ip(32, page, u64::from(base), DecoderOptions::NONE);
    for i in &mut d {
        if i.flow_control() != FlowControl::Next {
            v.push(i.next_ip32());
        }
    }
    v
}

/// Compiler settings from the environment: WAX_JIT_INLINE=1,
/// WAX_JIT_OPT_NONE=1, WAX_JIT_SINGLEPASS=1.
fn tuning() -> Tuning {
    let on = |v| std::env::var_os(v).is_some();
    Tuning {
        inline_checks: on("WAX_JIT_INLINE"),
        optimize: !on("WAX_JIT_OPT_NONE"),
        single_pass_regalloc: on("WAX_JIT_SINGLEPASS"),
        link: !on("WAX_JIT_NOLINK"),
        first_tier: on("WAX_JIT_FIRST_TIER"),
        ..Tuning::default()
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: pages FILE [MAX_PAGES]");
    let max: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(64);
    let code = std::fs::read(&path).expect("readable file");
    let (mut engine, _machine) = Wasmtime::with_tuning(16 << 20, tuning()).unwrap();
    let opts = engine.options();
    let (mut insns, mut stepped, mut bytes, mut blocks) = (0, 0, 0, 0);
    let (mut t_translate, mut t_compile) = (0.0, 0.0);
    let mut worst: f64 = 0.0;
    let pages: Vec<&[u8]> = code.chunks_exact(4096).take(max).collect();
    for (i, page) in pages.iter().enumerate() {
        let base = BASE + (i as u32) * 4096;
        let mut e = entries(page, base);
        if let Ok(k) = std::env::var("ENTRIES") {
            e.truncate(k.parse().unwrap());
        }
        let t = Instant::now();
        let tr = translate_page(page, base, &e, &opts);
        t_translate += t.elapsed().as_secs_f64();
        let t = Instant::now();
        engine.compile(&tr.wasm).expect("valid module");
        let c = t.elapsed().as_secs_f64();
        t_compile += c;
        worst = worst.max(c);
        insns += tr.insns;
        stepped += tr.stepped;
        bytes += tr.wasm.len();
        blocks += tr.blocks.len();
    }
    let n = pages.len() as f64;
    println!(
        "{} pages: {:.0} insns/page ({:.1}% stepped), {:.0} blocks/page, {:.1} KB wasm/page ({:.1} bytes/insn)",
        pages.len(),
        insns as f64 / n,
        100.0 * stepped as f64 / insns as f64,
        blocks as f64 / n,
        bytes as f64 / n / 1024.0,
        bytes as f64 / insns as f64
    );
    println!(
        "translate {:.3} ms/page, compile {:.2} ms/page (worst {:.1} ms)",
        t_translate / n * 1e3,
        t_compile / n * 1e3,
        worst * 1e3
    );
}
