//! Guest instructions per second of an integer loop: interpreter vs JIT.
//! `cargo run --release -p wax-jit --example speed [iterations]`
//!
//! A measurement, not a test: it prints numbers and checks only that both
//! engines end in the same state.

use std::time::Instant;
use wax_cpu::{interp, AddressSpace, DecodeCache, GuestAddr, Machine, Prot};
use wax_jit::engine::wasmtime::{Tuning, Wasmtime};
use wax_jit::{Config, Jit};

const CODE: u32 = 0x1_0000;
const DATA: u32 = 0x2_0000;

/// An integer loop, 9 instructions per iteration: ALU, a shift, a store
/// and a load, a compare-and-branch back; all in one page.
fn alu_loop() -> Vec<(u32, Vec<u8>)> {
    vec![(
        0,
        vec![
            0x01, 0xc8, // top: add eax, ecx
            0x89, 0xc2, // mov edx, eax
            0xc1, 0xea, 0x03, // shr edx, 3
            0x31, 0xd0, // xor eax, edx
            0x89, 0x46, 0x08, // mov [esi+8], eax
            0x03, 0x5e, 0x08, // add ebx, [esi+8]
            0x8d, 0x44, 0x18, 0x01, // lea eax, [eax+ebx+1]
            0x49, // dec ecx
            0x75, 0xea, // jnz top
            0xcd, 0x80, // int 0x80
        ],
    )]
}

/// Calls, 9 instructions per iteration: one into the same page, one into
/// the next page; every RET leaves translated code (no page linking yet).
fn call_loop() -> Vec<(u32, Vec<u8>)> {
    let mut main = vec![0x89, 0xca]; // top: mov edx, ecx
    main.extend([0xe8, 0xf9, 0x00, 0x00, 0x00]); // call 0x100
    main.extend([0xe8, 0xf4, 0x0f, 0x00, 0x00]); // call 0x1000
    main.extend([0x49, 0x75, 0xf1]); // dec ecx; jnz top
    main.extend([0xcd, 0x80]); // int 0x80
    vec![
        (0, main),
        (0x100, vec![0x01, 0xd0, 0xc3]),  // add eax, edx; ret
        (0x1000, vec![0x31, 0xc3, 0xc3]), // xor ebx, eax; ret
    ]
}

fn setup(m: &mut Machine, code: &[(u32, Vec<u8>)], iters: u32) -> AddressSpace {
    let mut s = m.new_space().unwrap();
    m.map(&mut s, GuestAddr(CODE), 0x2000, Prot::RWX, false);
    m.map(&mut s, GuestAddr(DATA), 0x1000, Prot::RW, false);
    m.map(&mut s, GuestAddr(DATA + 0x1000), 0x1000, Prot::RW, false);
    for (at, bytes) in code {
        m.mem(&mut s)
            .write_bytes(GuestAddr(CODE + at), bytes)
            .unwrap();
    }
    let cpu = m.cpu();
    cpu.eip = CODE;
    cpu.gpr = [0, iters, 0, 0, 0, 0, DATA, 0];
    cpu.gpr[4] = DATA + 0x2000;
    s
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

fn measure(name: &str, code: &[(u32, Vec<u8>)], iters: u32) {
    let slice = 200_000;
    let mut m = Machine::new(64 << 20);
    let mut s = setup(&mut m, code, iters);
    let mut cache = DecodeCache::new();
    let t = Instant::now();
    let mut n = 0;
    loop {
        let (cpu, mut mem) = m.guest(&mut s);
        let r = interp::run(cpu, &mut mem, &mut cache, slice);
        n += r.executed;
        if r.exit != wax_cpu::Exit::BudgetSpent {
            break;
        }
    }
    let ti = t.elapsed().as_secs_f64();
    let interp_regs = m.cpu().gpr;
    println!("{name}: interp {:.0} M/s", n as f64 / ti / 1e6);

    let (engine, mut m) = Wasmtime::with_tuning(64 << 20, tuning()).unwrap();
    let mut s = setup(&mut m, code, iters);
    let mut cache = DecodeCache::new();
    let mut jit = Jit::new(engine, Config::default());
    let t = Instant::now();
    let mut n = 0;
    loop {
        let r = jit.run(&mut m, &mut s, &mut cache, slice);
        n += r.executed;
        if r.exit != wax_cpu::Exit::BudgetSpent {
            break;
        }
    }
    let tj = t.elapsed().as_secs_f64();
    let st = jit.stats;
    println!(
        "{name}: jit    {:.0} M/s ({:.1}x interp), {n} insns",
        n as f64 / tj / 1e6,
        ti / tj
    );
    println!(
        "        translated {} interpreted {}; {} modules, {} wasm bytes, compile {:.2} ms/module",
        st.insns_translated,
        st.insns_interpreted,
        st.modules_compiled,
        st.wasm_bytes,
        st.compile_ns as f64 / 1e6 / st.modules_compiled.max(1) as f64,
    );
    assert_eq!(m.cpu().gpr, interp_regs, "engines disagree");
}

fn main() {
    let iters: u32 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20_000_000);
    let only = std::env::var("ONLY").unwrap_or_default();
    if !only.contains("call") {
        measure("alu loop ", &alu_loop(), iters);
    }
    if !only.contains("alu") {
        measure("call loop", &call_loop(), iters / 4);
    }
}
