//! Golden tests of the translation: x86 bytes in, readable wasm text out,
//! kept in `tests/golden/*.wat`. `BLESS=1 cargo test -p wax-jit --test
//! golden` rewrites them after an intended change; review the diff.

use wax_jit::{translate_page, Options};

const BASE: u32 = 0x0804_8000;

fn golden(name: &str, code: &[u8], entries: &[u32]) {
    let mut page = vec![0xccu8; 4096];
    page[..code.len()].copy_from_slice(code);
    golden_page(name, &page, entries);
}

/// [`golden`] of a whole page (4096 bytes, then the first bytes of the
/// next page if any).
fn golden_page(name: &str, page: &[u8], entries: &[u32]) {
    golden_opts(name, page, entries, false);
}

/// [`golden_page`], with the page-table checks inline or not.
fn golden_opts(name: &str, page: &[u8], entries: &[u32], inline_checks: bool) {
    let entries: Vec<u32> = entries.iter().map(|e| BASE + e).collect();
    let t = translate_page(
        page,
        BASE,
        &entries,
        &Options {
            shared_memory: false,
            inline_checks,
            memory_base: 0,
            link: true,
            reuse_pages: true,
        },
    );
    wasmparser::Validator::new()
        .validate_all(&t.wasm)
        .unwrap_or_else(|e| panic!("{name}: invalid module: {e}"));
    let text = wasmprinter::print_bytes(&t.wasm).expect("printable");
    let text = format!(
        ";; {name}: {} blocks, {} instructions, {} stepped\n{text}",
        t.blocks.len(),
        t.insns,
        t.stepped
    );
    let path = format!("{}/tests/golden/{name}.wat", env!("CARGO_MANIFEST_DIR"));
    if std::env::var_os("BLESS").is_some() {
        std::fs::write(&path, &text).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("{path} missing: run with BLESS=1"));
    assert!(
        want == text,
        "{name}: translation changed; BLESS=1 to accept:\n{text}"
    );
}

/// cmp + jl in one block: the condition comes straight from the operands
/// (a signed compare, no call); the first shift's flags are dead (the add
/// redefines them) so it computes none; the second shift's flags reach the
/// block end, so it writes all six into EFLAGS, as the interpreter does.
#[test]
fn flags_liveness() {
    golden(
        "flags_liveness",
        &[
            0x39, 0xd8, // cmp eax, ebx
            0x7c, 0x05, // jl +5 (to the second shl)
            0xc1, 0xe0, 0x02, // shl eax, 2
            0x01, 0xc8, // add eax, ecx
            0xc1, 0xe2, 0x03, // shl edx, 3
            0xc3, // ret
        ],
        &[0],
    );
}

/// Loads, a store and a read-modify-write: each looks its page up through
/// the module's lookup functions and leaves for the interpreter (exit
/// Slow, before the instruction) when the fast path does not apply. The
/// exit writes back EAX and the lazy record only: no other register is
/// assigned in the module, so CpuState still holds them.
#[test]
fn memory_fast_path() {
    golden(
        "memory_fast_path",
        &[
            0x8b, 0x46, 0x08, // mov eax, [esi+8]
            0x89, 0x07, // mov [edi], eax
            0x01, 0x0e, // add [esi], ecx
            0xcd, 0x80, // int 0x80
        ],
        &[0],
    );
}

/// Page-table checks inline, and lookups reused (`Options::reuse_pages`):
/// the second load through ESI takes the first's host address plus 4,
/// after checking that [ESI+12] is in the same page (else exit Slow with
/// the block index marked); the store through ESI cannot reuse a lookup
/// checked for reading and looks its page up again. The first push looks
/// ESP's page up, the second push, the load through ESP and the pops reuse
/// it with ESP's constant steps folded in (the load at [ESP+4], the
/// first push's slot, needs no check at all). SUB ESP, 8 and LEA ESI,
/// [ESI+4] step the registers by constants: the store at [ESP+12] is 8
/// bytes above the first push's slot, and [ESI+4] after the LEA is
/// [ESI+8] before it, 8 bytes below the store through ESI, whose lookup
/// (checked for writing) serves a load.
#[test]
fn reused_page_lookups() {
    let mut page = vec![0xccu8; 4096];
    let code = [
        0x8b, 0x46, 0x08, // mov eax, [esi+8]
        0x03, 0x46, 0x0c, // add eax, [esi+12]
        0x89, 0x46, 0x10, // mov [esi+16], eax
        0x50, // push eax
        0x53, // push ebx
        0x8b, 0x4c, 0x24, 0x04, // mov ecx, [esp+4]
        0x5b, // pop ebx
        0x58, // pop eax
        0x83, 0xec, 0x08, // sub esp, 8
        0x89, 0x44, 0x24, 0x0c, // mov [esp+12], eax
        0x8d, 0x76, 0x04, // lea esi, [esi+4]
        0x8b, 0x46, 0x04, // mov eax, [esi+4]
        0xcd, 0x80, // int 0x80
    ];
    page[..code.len()].copy_from_slice(&code);
    golden_opts("reused_page_lookups", &page, &[0], true);
}

/// A loop inside the page (dispatch without leaving wasm), a stepped
/// instruction (CPUID: the interpreter runs it), a consumer of flags from
/// another block (ADC at the loop exit: CF from the lazy record, inline;
/// other flags would go through the `flags` import), and the exits:
/// indirect jump, system call.
#[test]
fn exits_and_loops() {
    golden(
        "exits_and_loops",
        &[
            0x49, // top: dec ecx
            0x75, 0xfd, // jnz top
            0x0f, 0xa2, // cpuid
            0x11, 0xd8, // adc eax, ebx
            0x85, 0xc0, // test eax, eax
            0x74, 0x02, // jz +2
            0xff, 0xe0, // jmp eax
            0xcd, 0x80, // int 0x80
        ],
        &[0],
    );
}

/// SSE on wasm SIMD128: PCMPEQB against a zeroed register and PMOVMSKB,
/// the core of glibc's SSE2 strlen/memchr. The aligned 16-byte load
/// leaves for the interpreter when misaligned (#GP is the interpreter's
/// to raise), then takes the 4-byte lookup (an aligned 16-byte access
/// cannot cross a page); XMM registers are v128 loads and stores of
/// `CpuState::xmm`.
#[test]
fn sse_strlen_step() {
    golden(
        "sse_strlen_step",
        &[
            0x66, 0x0f, 0xef, 0xc0, // pxor xmm0, xmm0
            0x66, 0x0f, 0x74, 0x06, // pcmpeqb xmm0, [esi]
            0x66, 0x0f, 0xd7, 0xd0, // pmovmskb edx, xmm0
            0x85, 0xd2, // test edx, edx
            0xc3, // ret
        ],
        &[0],
    );
}

/// x87 code: each instruction is one call to `wax.fpu` with its form and
/// the memory operand's address computed from the register locals; no
/// register is spilled, except the lazy-flag record around FUCOMIP (which
/// leaves EFLAGS eager, so the JA after it reads CpuState's EFLAGS inline)
/// and EAX around FNSTSW AX's call (its inline path writes the AX of the
/// local).
#[test]
fn x87_calls() {
    golden(
        "x87_calls",
        &[
            0xdd, 0x44, 0xf3, 0x08, // fld qword [ebx+esi*8+8]
            0xd8, 0xc9, // fmul st(0), st(1)
            0xdc, 0x06, // fadd qword [esi]
            0xdf, 0xe9, // fucomip st, st(1)
            0x77, 0x02, // ja +2
            0xdd, 0x1f, // fstp qword [edi]
            0xdf, 0xe0, // fnstsw ax
            0xc3, // ret
        ],
        &[0],
    );
}

/// An instruction across the page end (MOV EAX, imm32 with the immediate's
/// top three bytes on the next page): before it, the guard reads the next
/// page's entry through the page table (execute permission: else exit
/// Slow, before the instruction) and compares the tail there, one masked
/// i64, with the bytes it was decoded from (else exit Slow). After it,
/// control leaves for the next page (exit Next), as off the page end.
#[test]
fn straddle_guard() {
    let mut page = vec![0xccu8; 4096];
    page[4090..].copy_from_slice(&[
        0x01, 0xc8, // add eax, ecx
        0x90, 0x90, // nop; nop
        0xb8, 0x11, // mov eax, 0x44332211 (crosses)
    ]);
    page.extend([0x22, 0x33, 0x44]);
    golden_page("straddle_guard", &page, &[4090]);
}

/// SHLD by CL with its flags live (they reach the block end): the result
/// from one 64-bit shift of dst:src, and where the masked count is not 0
/// all six flags (CF the last bit out, OF by the count-1 rule, AF = 0, SF,
/// ZF, PF of the result) into EFLAGS.
#[test]
fn double_shift_flags() {
    golden(
        "double_shift_flags",
        &[
            0x0f, 0xa5, 0xd0, // shld eax, edx, cl
            0xc3, // ret
        ],
        &[0],
    );
}

/// Blocks that follow each other without the dispatcher: the loop jumps
/// back to its own start inside a `loop` around its block; the JNZ not
/// taken and the block after the JZ fall through into the next block's
/// code (setting `PC`, which the shared exits report); only the JZ taken
/// goes through the `br_table`.
#[test]
fn chained_blocks() {
    golden(
        "chained_blocks",
        &[
            0x01, 0xcb, // top: add ebx, ecx
            0x49, // dec ecx
            0x75, 0xfb, // jnz top
            0x85, 0xdb, // test ebx, ebx
            0x74, 0x01, // jz +1
            0x42, // inc edx
            0x43, // inc ebx
            0xc3, // ret
        ],
        &[0],
    );
}
