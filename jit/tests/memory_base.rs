//! `Options::memory_base`: every memory access of a translated page moves
//! by exactly the base, and nothing else in the module changes (wasm32
//! keeps machine memory inside the emulator's own memory at that base).

use wasmparser::{Operator, Parser, Payload};
use wax_jit::{translate_page, Options};

const PAGE: u32 = 0x0804_8000;

/// Each function's operators, rendered, with memory offsets set apart.
fn ops(wasm: &[u8]) -> (Vec<String>, Vec<u64>) {
    let mut text = Vec::new();
    let mut offsets = Vec::new();
    for payload in Parser::new(0).parse_all(wasm) {
        if let Payload::CodeSectionEntry(body) = payload.unwrap() {
            let mut r = body.get_operators_reader().unwrap();
            while !r.eof() {
                let op = r.read().unwrap();
                let mut s = format!("{op:?}");
                if let Some(at) = s.find("offset: ") {
                    let end = s[at..].find(',').map_or(s.len(), |e| at + e);
                    offsets.push(s[at + 8..end].trim().parse().unwrap());
                    s.replace_range(at..end, "offset: _");
                }
                if !matches!(op, Operator::Nop) {
                    text.push(s);
                }
            }
        }
    }
    (text, offsets)
}

#[test]
fn base_moves_every_access_and_nothing_else() {
    let mut page = vec![0xccu8; 4096];
    let code = [
        0x8b, 0x46, 0x08, // mov eax, [esi+8]
        0x89, 0x07, // mov [edi], eax
        0x01, 0x0e, // add [esi], ecx
        0x66, 0x89, 0x0b, // mov [ebx], cx
        0x88, 0x0b, // mov [ebx], cl
        0x39, 0xd8, // cmp eax, ebx
        0x7c, 0xf0, // jl to the start
        0xcd, 0x80, // int 0x80
    ];
    page[..code.len()].copy_from_slice(&code);
    let translate = |memory_base| {
        let opts = Options {
            shared_memory: false,
            inline_checks: false,
            memory_base,
            link: true,
            reuse_pages: true,
        };
        translate_page(&page, PAGE, &[PAGE], &opts).wasm
    };
    let base = 0x1234_0000;
    let (text0, off0) = ops(&translate(0));
    let (text1, off1) = ops(&translate(base));
    assert_eq!(text0, text1, "only offsets may change");
    assert!(off0.len() > 10, "the page has memory accesses");
    assert_eq!(off0.len(), off1.len());
    for (a, b) in off0.iter().zip(&off1) {
        assert_eq!(a + u64::from(base), *b);
    }
    wasmparser::Validator::new()
        .validate_all(&translate(base))
        .unwrap();
}
