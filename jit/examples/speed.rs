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

/// 9 instructions per iteration: ALU, a shift whose flags are dead, a
/// store and a load, a compare-and-branch back.
fn code() -> Vec<u8> {
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
    ]
}

fn setup(m: &mut Machine, iters: u32) -> AddressSpace {
    let mut s = m.new_space().unwrap();
    m.map(&mut s, GuestAddr(CODE), 0x1000, Prot::RWX, false);
    m.map(&mut s, GuestAddr(DATA), 0x1000, Prot::RW, false);
    m.mem(&mut s).write_bytes(GuestAddr(CODE), &code()).unwrap();
    let cpu = m.cpu();
    cpu.eip = CODE;
    cpu.gpr = [0, iters, 0, 0, 0, 0, DATA, 0];
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
    }
}

fn main() {
    let iters: u32 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20_000_000);
    let slice = 200_000;

    let mut m = Machine::new(64 << 20);
    let mut s = setup(&mut m, iters);
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
    println!(
        "interp: {n} insns in {ti:.3}s = {:.0} M/s",
        n as f64 / ti / 1e6
    );

    let (engine, mut m) = Wasmtime::with_tuning(64 << 20, tuning()).unwrap();
    let mut s = setup(&mut m, iters);
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
        "jit:    {n} insns in {tj:.3}s = {:.0} M/s ({:.1}x)",
        n as f64 / tj / 1e6,
        ti / tj
    );
    println!(
        "        translated {} interpreted {}; {} modules, {} wasm bytes, compile {:.2} ms/module; {} misses, {} invalidations",
        st.insns_translated,
        st.insns_interpreted,
        st.modules_compiled,
        st.wasm_bytes,
        st.compile_ns as f64 / 1e6 / st.modules_compiled.max(1) as f64,
        st.misses,
        st.invalidations
    );
    assert_eq!(m.cpu().gpr, interp_regs, "engines disagree");
}
