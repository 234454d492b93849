//! The instruction forms under test, one row each (see `forms.rs`).

use super::forms::{row, Imm, Row, Setup, Tail};
use super::gen::RmKind;

pub const CC: [&str; 16] = [
    "o", "no", "b", "ae", "e", "ne", "be", "a", "s", "ns", "p", "np", "l", "ge", "le", "g",
];

fn rm(digit: Option<u8>, imm: Imm) -> Tail {
    Tail::ModRm(digit, RmKind::Any, imm)
}

fn r_rm() -> Tail {
    rm(None, Imm::No)
}

fn digit(d: u8) -> Tail {
    rm(Some(d), Imm::No)
}

fn mem_only(d: Option<u8>) -> Tail {
    Tail::ModRm(d, RmKind::MemOnly, Imm::No)
}

/// Every row.
pub fn rows() -> Vec<Row> {
    let mut t = Vec::new();
    alu(&mut t);
    unary(&mut t);
    muldiv(&mut t);
    shifts(&mut t);
    bits(&mut t);
    strings(&mut t);
    stack(&mut t);
    moves(&mut t);
    atomics(&mut t);
    conditional(&mut t);
    misc(&mut t);
    t
}

/// Adds `r` and its LOCK form.
fn with_lock(t: &mut Vec<Row>, r: Row) {
    t.push(r.locked());
    t.push(r);
}

fn alu(t: &mut Vec<Row>) {
    let ops = ["Add", "Or", "Adc", "Sbb", "And", "Sub", "Xor", "Cmp"];
    for (i, m) in ops.iter().enumerate() {
        let o = i as u8 * 8;
        let d = Some(i as u8);
        let lockable = *m != "Cmp";
        let mut rows = vec![
            row(&format!("{m}_rm8_r8"), &[o], r_rm()),
            row(&format!("{m}_rm16_r16"), &[0x66, o + 1], r_rm()),
            row(&format!("{m}_rm32_r32"), &[o + 1], r_rm()),
            row(&format!("{m}_rm8_imm8"), &[0x80], rm(d, Imm::V(1))),
            row(&format!("{m}_rm8_imm8_82"), &[0x82], rm(d, Imm::V(1))),
            row(&format!("{m}_rm16_imm16"), &[0x66, 0x81], rm(d, Imm::V(2))),
            row(&format!("{m}_rm32_imm32"), &[0x81], rm(d, Imm::V(4))),
            row(&format!("{m}_rm16_imm8"), &[0x66, 0x83], rm(d, Imm::V(1))),
            row(&format!("{m}_rm32_imm8"), &[0x83], rm(d, Imm::V(1))),
        ];
        if lockable {
            let locked: Vec<Row> = rows.iter().map(Row::locked).collect();
            rows.extend(locked);
        }
        rows.extend([
            row(&format!("{m}_r8_rm8"), &[o + 2], r_rm()),
            row(&format!("{m}_r16_rm16"), &[0x66, o + 3], r_rm()),
            row(&format!("{m}_r32_rm32"), &[o + 3], r_rm()),
            row(&format!("{m}_AL_imm8"), &[o + 4], Tail::Imm(Imm::V(1))),
            row(
                &format!("{m}_AX_imm16"),
                &[0x66, o + 5],
                Tail::Imm(Imm::V(2)),
            ),
            row(&format!("{m}_EAX_imm32"), &[o + 5], Tail::Imm(Imm::V(4))),
        ]);
        let carry = matches!(*m, "Adc" | "Sbb");
        t.extend(rows.into_iter().map(|r| if carry { r.flags() } else { r }));
    }
    t.extend([
        row("Test_rm8_r8", &[0x84], r_rm()),
        row("Test_rm16_r16", &[0x66, 0x85], r_rm()),
        row("Test_rm32_r32", &[0x85], r_rm()),
        row("Test_AL_imm8", &[0xa8], Tail::Imm(Imm::V(1))),
        row("Test_AX_imm16", &[0x66, 0xa9], Tail::Imm(Imm::V(2))),
        row("Test_EAX_imm32", &[0xa9], Tail::Imm(Imm::V(4))),
        row("Test_rm8_imm8", &[0xf6], rm(Some(0), Imm::V(1))),
        row("Test_rm8_imm8_F6r1", &[0xf6], rm(Some(1), Imm::V(1))),
        row("Test_rm16_imm16", &[0x66, 0xf7], rm(Some(0), Imm::V(2))),
        row(
            "Test_rm16_imm16_F7r1",
            &[0x66, 0xf7],
            rm(Some(1), Imm::V(2)),
        ),
        row("Test_rm32_imm32", &[0xf7], rm(Some(0), Imm::V(4))),
        row("Test_rm32_imm32_F7r1", &[0xf7], rm(Some(1), Imm::V(4))),
    ]);
    // LOCK on a register destination or on CMP is #UD.
    for bytes in [&[0xf0, 0x01, 0xc8][..], &[0xf0, 0x39, 0x08], &[0xf0, 0x40]] {
        let mut r = row("INVALID", bytes, Tail::None);
        r.variant = "lock misuse";
        t.push(r);
    }
}

fn unary(t: &mut Vec<Row>) {
    for (m, d) in [("Inc", 0u8), ("Dec", 1)] {
        with_lock(t, row(&format!("{m}_rm8"), &[0xfe], digit(d)).flags());
        with_lock(
            t,
            row(&format!("{m}_rm16"), &[0x66, 0xff], digit(d)).flags(),
        );
        with_lock(t, row(&format!("{m}_rm32"), &[0xff], digit(d)).flags());
        let op = 0x40 + d * 8;
        t.push(
            row(
                &format!("{m}_r16"),
                &[0x66, op],
                Tail::PlusReg(Imm::No, false),
            )
            .flags(),
        );
        t.push(row(&format!("{m}_r32"), &[op], Tail::PlusReg(Imm::No, false)).flags());
    }
    for (m, d) in [("Not", 2u8), ("Neg", 3)] {
        with_lock(t, row(&format!("{m}_rm8"), &[0xf6], digit(d)));
        with_lock(t, row(&format!("{m}_rm16"), &[0x66, 0xf7], digit(d)));
        with_lock(t, row(&format!("{m}_rm32"), &[0xf7], digit(d)));
    }
}

fn muldiv(t: &mut Vec<Row>) {
    for (m, d) in [("Mul", 4u8), ("Imul", 5), ("Div", 6), ("Idiv", 7)] {
        let setup = match m {
            "Div" => Setup::Div { signed: false },
            "Idiv" => Setup::Div { signed: true },
            _ => Setup::Plain,
        };
        t.push(row(&format!("{m}_rm8"), &[0xf6], digit(d)).setup(setup));
        t.push(row(&format!("{m}_rm16"), &[0x66, 0xf7], digit(d)).setup(setup));
        t.push(row(&format!("{m}_rm32"), &[0xf7], digit(d)).setup(setup));
    }
    t.extend([
        row("Imul_r16_rm16", &[0x66, 0x0f, 0xaf], r_rm()),
        row("Imul_r32_rm32", &[0x0f, 0xaf], r_rm()),
        row("Imul_r16_rm16_imm8", &[0x66, 0x6b], rm(None, Imm::V(1))),
        row("Imul_r32_rm32_imm8", &[0x6b], rm(None, Imm::V(1))),
        row("Imul_r16_rm16_imm16", &[0x66, 0x69], rm(None, Imm::V(2))),
        row("Imul_r32_rm32_imm32", &[0x69], rm(None, Imm::V(4))),
    ]);
}

fn shifts(t: &mut Vec<Row>) {
    let ops = ["Rol", "Ror", "Rcl", "Rcr", "Shl", "Shr", "Sal", "Sar"];
    for (i, m) in ops.iter().enumerate() {
        let d = Some(i as u8);
        let count = rm(d, Imm::Count);
        // Flags survive a zero count, so every shift reads them.
        t.extend(
            [
                row(&format!("{m}_rm8_imm8"), &[0xc0], count),
                row(&format!("{m}_rm16_imm8"), &[0x66, 0xc1], count),
                row(&format!("{m}_rm32_imm8"), &[0xc1], count),
                row(&format!("{m}_rm8_1"), &[0xd0], rm(d, Imm::No)),
                row(&format!("{m}_rm16_1"), &[0x66, 0xd1], rm(d, Imm::No)),
                row(&format!("{m}_rm32_1"), &[0xd1], rm(d, Imm::No)),
                row(&format!("{m}_rm8_CL"), &[0xd2], rm(d, Imm::No)).setup(Setup::CountCl),
                row(&format!("{m}_rm16_CL"), &[0x66, 0xd3], rm(d, Imm::No)).setup(Setup::CountCl),
                row(&format!("{m}_rm32_CL"), &[0xd3], rm(d, Imm::No)).setup(Setup::CountCl),
            ]
            .into_iter()
            .map(Row::flags),
        );
    }
    for (m, op) in [("Shld", 0xa4u8), ("Shrd", 0xac)] {
        let count = rm(None, Imm::Count);
        t.extend(
            [
                row(&format!("{m}_rm16_r16_imm8"), &[0x66, 0x0f, op], count),
                row(&format!("{m}_rm32_r32_imm8"), &[0x0f, op], count),
                row(&format!("{m}_rm16_r16_CL"), &[0x66, 0x0f, op + 1], r_rm())
                    .setup(Setup::CountCl),
                row(&format!("{m}_rm32_r32_CL"), &[0x0f, op + 1], r_rm()).setup(Setup::CountCl),
            ]
            .into_iter()
            .map(Row::flags),
        );
    }
}

fn bits(t: &mut Vec<Row>) {
    for (m, op, d) in [
        ("Bt", 0xa3u8, 4u8),
        ("Bts", 0xab, 5),
        ("Btr", 0xb3, 6),
        ("Btc", 0xbb, 7),
    ] {
        let reg = [
            row(&format!("{m}_rm16_r16"), &[0x66, 0x0f, op], r_rm()).setup(Setup::BitOffset),
            row(&format!("{m}_rm32_r32"), &[0x0f, op], r_rm()).setup(Setup::BitOffset),
            row(
                &format!("{m}_rm16_imm8"),
                &[0x66, 0x0f, 0xba],
                rm(Some(d), Imm::V(1)),
            ),
            row(
                &format!("{m}_rm32_imm8"),
                &[0x0f, 0xba],
                rm(Some(d), Imm::V(1)),
            ),
        ];
        for r in reg {
            if m == "Bt" {
                t.push(r);
            } else {
                with_lock(t, r);
            }
        }
    }
    t.extend([
        row("Bsf_r16_rm16", &[0x66, 0x0f, 0xbc], r_rm()),
        row("Bsf_r32_rm32", &[0x0f, 0xbc], r_rm()),
        row("Bsr_r16_rm16", &[0x66, 0x0f, 0xbd], r_rm()),
        row("Bsr_r32_rm32", &[0x0f, 0xbd], r_rm()),
        row(
            "Bswap_r16",
            &[0x66, 0x0f, 0xc8],
            Tail::PlusReg(Imm::No, false),
        ),
        row("Bswap_r32", &[0x0f, 0xc8], Tail::PlusReg(Imm::No, false)),
    ]);
}

fn strings(t: &mut Vec<Row>) {
    let forms = [
        ("Movsb_m8_m8", 0xa4u8, 0),
        ("Movsw_m16_m16", 0xa5, 0x66),
        ("Movsd_m32_m32", 0xa5, 0),
        ("Cmpsb_m8_m8", 0xa6, 0),
        ("Cmpsw_m16_m16", 0xa7, 0x66),
        ("Cmpsd_m32_m32", 0xa7, 0),
        ("Stosb_m8_AL", 0xaa, 0),
        ("Stosw_m16_AX", 0xab, 0x66),
        ("Stosd_m32_EAX", 0xab, 0),
        ("Lodsb_AL_m8", 0xac, 0),
        ("Lodsw_AX_m16", 0xad, 0x66),
        ("Lodsd_EAX_m32", 0xad, 0),
        ("Scasb_AL_m8", 0xae, 0),
        ("Scasw_AX_m16", 0xaf, 0x66),
        ("Scasd_EAX_m32", 0xaf, 0),
    ];
    let variants: [(&[u8], &'static str); 6] = [
        (&[], ""),
        (&[0xf3], "rep"),
        (&[0xf2], "repne"),
        (&[0x67], "a16"),
        (&[0xf3, 0x67], "rep a16"),
        (&[0xf2, 0x67], "repne a16"),
    ];
    for (name, op, size) in forms {
        let base: Vec<u8> = if size == 0 { vec![op] } else { vec![size, op] };
        for (prefix, variant) in variants {
            let mut r = row(name, &[prefix, &base[..]].concat(), Tail::None).setup(Setup::Str);
            r.variant = variant;
            t.push(r);
        }
    }
}

fn stack(t: &mut Vec<Row>) {
    let plus = Tail::PlusReg(Imm::No, false);
    t.extend([
        row("Push_r16", &[0x66, 0x50], plus),
        row("Push_r32", &[0x50], plus),
        row("Pop_r16", &[0x66, 0x58], plus),
        row("Pop_r32", &[0x58], plus),
        row("Push_rm16", &[0x66, 0xff], digit(6)),
        row("Push_rm32", &[0xff], digit(6)),
        row("Pop_rm16", &[0x66, 0x8f], digit(0)),
        row("Pop_rm32", &[0x8f], digit(0)),
        row("Pushw_imm8", &[0x66, 0x6a], Tail::Imm(Imm::V(1))),
        row("Pushd_imm8", &[0x6a], Tail::Imm(Imm::V(1))),
        row("Push_imm16", &[0x66, 0x68], Tail::Imm(Imm::V(2))),
        row("Pushd_imm32", &[0x68], Tail::Imm(Imm::V(4))),
        row("Pushaw", &[0x66, 0x60], Tail::None),
        row("Pushad", &[0x60], Tail::None),
        row("Popaw", &[0x66, 0x61], Tail::None),
        row("Popad", &[0x61], Tail::None),
        row("Pushfw", &[0x66, 0x9c], Tail::None).flags(),
        row("Pushfd", &[0x9c], Tail::None).flags(),
        row("Popfw", &[0x66, 0x9d], Tail::None).setup(Setup::Popf),
        row("Popfd", &[0x9d], Tail::None).setup(Setup::Popf),
        row("Enterw_imm16_imm8", &[0x66, 0xc8], Tail::Imm(Imm::Enter)).setup(Setup::Frame),
        row("Enterd_imm16_imm8", &[0xc8], Tail::Imm(Imm::Enter)).setup(Setup::Frame),
        row("Leavew", &[0x66, 0xc9], Tail::None).setup(Setup::Frame),
        row("Leaved", &[0xc9], Tail::None).setup(Setup::Frame),
    ]);
}

fn moves(t: &mut Vec<Row>) {
    let plus = |n| Tail::PlusReg(Imm::V(n), false);
    t.extend([
        row("Mov_rm8_r8", &[0x88], r_rm()),
        row("Mov_rm16_r16", &[0x66, 0x89], r_rm()),
        row("Mov_rm32_r32", &[0x89], r_rm()),
        row("Mov_r8_rm8", &[0x8a], r_rm()),
        row("Mov_r16_rm16", &[0x66, 0x8b], r_rm()),
        row("Mov_r32_rm32", &[0x8b], r_rm()),
        row("Mov_r8_imm8", &[0xb0], plus(1)),
        row("Mov_r16_imm16", &[0x66, 0xb8], plus(2)),
        row("Mov_r32_imm32", &[0xb8], plus(4)),
        row("Mov_rm8_imm8", &[0xc6], rm(Some(0), Imm::V(1))),
        row("Mov_rm16_imm16", &[0x66, 0xc7], rm(Some(0), Imm::V(2))),
        row("Mov_rm32_imm32", &[0xc7], rm(Some(0), Imm::V(4))),
        row("Mov_AL_moffs8", &[0xa0], Tail::Moffs),
        row("Mov_AX_moffs16", &[0x66, 0xa1], Tail::Moffs),
        row("Mov_EAX_moffs32", &[0xa1], Tail::Moffs),
        row("Mov_moffs8_AL", &[0xa2], Tail::Moffs),
        row("Mov_moffs16_AX", &[0x66, 0xa3], Tail::Moffs),
        row("Mov_moffs32_EAX", &[0xa3], Tail::Moffs),
        row("Mov_EAX_moffs32", &[0x67, 0xa1], Tail::Moffs).prefixed(&[], "a16"),
        row("Movsx_r16_rm8", &[0x66, 0x0f, 0xbe], r_rm()),
        row("Movsx_r32_rm8", &[0x0f, 0xbe], r_rm()),
        row("Movsx_r16_rm16", &[0x66, 0x0f, 0xbf], r_rm()),
        row("Movsx_r32_rm16", &[0x0f, 0xbf], r_rm()),
        row("Movzx_r16_rm8", &[0x66, 0x0f, 0xb6], r_rm()),
        row("Movzx_r32_rm8", &[0x0f, 0xb6], r_rm()),
        row("Movzx_r16_rm16", &[0x66, 0x0f, 0xb7], r_rm()),
        row("Movzx_r32_rm16", &[0x0f, 0xb7], r_rm()),
        row("Lea_r16_m", &[0x66, 0x8d], mem_only(None)),
        row("Lea_r32_m", &[0x8d], mem_only(None)),
        row("Lea_r32_m", &[0x67, 0x8d], mem_only(None)).prefixed(&[], "a16"),
        row("Lea_r16_m", &[0x66, 0x67, 0x8d], mem_only(None)).prefixed(&[], "a16"),
        row("Mov_r32_rm32", &[0x67, 0x8b], mem_only(None)).prefixed(&[], "a16"),
        row("Add_rm16_r16", &[0x66, 0x67, 0x01], mem_only(None)).prefixed(&[], "a16"),
        row("Xlat_m8", &[0xd7], Tail::None).setup(Setup::Xlat),
        row("Xlat_m8", &[0x67, 0xd7], Tail::None)
            .setup(Setup::Xlat)
            .prefixed(&[], "a16"),
    ]);
}

fn atomics(t: &mut Vec<Row>) {
    let xchg = [
        row("Xchg_rm8_r8", &[0x86], r_rm()),
        row("Xchg_rm16_r16", &[0x66, 0x87], r_rm()),
        row("Xchg_rm32_r32", &[0x87], r_rm()),
        row("Cmpxchg_rm8_r8", &[0x0f, 0xb0], r_rm()).setup(Setup::Cmpxchg),
        row("Cmpxchg_rm16_r16", &[0x66, 0x0f, 0xb1], r_rm()).setup(Setup::Cmpxchg),
        row("Cmpxchg_rm32_r32", &[0x0f, 0xb1], r_rm()).setup(Setup::Cmpxchg),
        row("Cmpxchg8b_m64", &[0x0f, 0xc7], mem_only(Some(1))).setup(Setup::Cmpxchg8b),
        row("Xadd_rm8_r8", &[0x0f, 0xc0], r_rm()),
        row("Xadd_rm16_r16", &[0x66, 0x0f, 0xc1], r_rm()),
        row("Xadd_rm32_r32", &[0x0f, 0xc1], r_rm()),
    ];
    for r in xchg {
        with_lock(t, r);
    }
    t.extend([
        row("Xchg_r16_AX", &[0x66, 0x90], Tail::PlusReg(Imm::No, true)),
        row("Xchg_r32_EAX", &[0x90], Tail::PlusReg(Imm::No, true)),
    ]);
    // CMPXCHG8B with a register operand is #UD.
    let mut r = row("INVALID", &[0x0f, 0xc7, 0xc8], Tail::None);
    r.variant = "cmpxchg8b reg";
    t.push(r);
}

fn conditional(t: &mut Vec<Row>) {
    for (i, c) in CC.iter().enumerate() {
        let i = i as u8;
        t.push(row(&format!("Set{c}_rm8"), &[0x0f, 0x90 + i], digit(0)).flags());
        t.push(
            row(
                &format!("Cmov{c}_r16_rm16"),
                &[0x66, 0x0f, 0x40 + i],
                r_rm(),
            )
            .flags(),
        );
        t.push(row(&format!("Cmov{c}_r32_rm32"), &[0x0f, 0x40 + i], r_rm()).flags());
    }
}

fn misc(t: &mut Vec<Row>) {
    let none = Tail::None;
    t.extend([
        row("Daa", &[0x27], none).flags(),
        row("Das", &[0x2f], none).flags(),
        row("Aaa", &[0x37], none).flags(),
        row("Aas", &[0x3f], none).flags(),
        row("Aam_imm8", &[0xd4], Tail::Imm(Imm::Base)),
        row("Aad_imm8", &[0xd5], Tail::Imm(Imm::Base)),
        row("Lahf", &[0x9f], none).flags(),
        row("Sahf", &[0x9e], none),
        row("Cbw", &[0x66, 0x98], none),
        row("Cwde", &[0x98], none),
        row("Cwd", &[0x66, 0x99], none),
        row("Cdq", &[0x99], none),
        row("Clc", &[0xf8], none).flags(),
        row("Stc", &[0xf9], none).flags(),
        row("Cmc", &[0xf5], none).flags(),
        row("Cld", &[0xfc], none),
        row("Std", &[0xfd], none),
        row("Nopd", &[0x90], none),
        // Exceptions: each must raise the same signal at the same EIP.
        row("Ud2", &[0x0f, 0x0b], none),
        row("Int3", &[0xcc], none),
        row("Int_imm8", &[0xcd], Tail::Imm(Imm::Vector)),
        row("Into", &[0xce], none).flags(),
        row("Hlt", &[0xf4], none),
    ]);
}
