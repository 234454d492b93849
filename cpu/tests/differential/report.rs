//! Comparing the two outcomes of a case, and printing mismatches so they
//! can be reproduced by hand: the bytes with their disassembly, the input
//! state, and both results.

use super::case::*;
use super::gen::{DF, STATUS};
use super::taint::Mask;
use super::wax::{last_panic, SIG_BUDGET, SIG_PANIC, SIG_SYSCALL};
use iced_x86::{Code, Decoder, DecoderOptions, FastFormatter};
use std::collections::BTreeMap;
use std::fmt::Write;

/// EFLAGS bits compared: the six status flags and DF.
pub const COMPARED_FLAGS: u32 = STATUS | DF;

/// Host behaviour that no architecture document promises, which Wax does
/// not copy: the general registers are not compared for these cases.
///
/// POPA that faults part way: the AMD EPYC this was written on leaves the
/// registers popped before the fault loaded (seen: EDI changed when the
/// pop of ESI faulted). Wax keeps the state unchanged on a fault, as the
/// SDM describes for faults. Signal, address, EIP and memory still count.
pub fn registers_unspecified(case: &Case, host: &Outcome) -> bool {
    matches!(case.form, Code::Popad | Code::Popaw) && host.signo != 0 && case.variant != "chain"
}

const REGS: [&str; 8] = ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"];

/// One part of the outcomes that differs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diff {
    pub part: &'static str,
    /// Some differing bit is defined.
    pub defined: bool,
    /// Differing bits the architecture leaves undefined.
    pub undefined_bits: u32,
}

impl Diff {
    fn bits(part: &'static str, differ: u32, undefined: u32) -> Option<Diff> {
        (differ != 0).then(|| Diff {
            part,
            defined: differ & !undefined != 0,
            undefined_bits: (differ & undefined).count_ones(),
        })
    }

    fn whole(part: &'static str, undefined: bool) -> Diff {
        Diff {
            part,
            defined: !undefined,
            undefined_bits: u32::from(undefined),
        }
    }
}

/// Whether either side ran into the host runner's own address ranges
/// (`in_runner`): a random pointer, stack pointer or jump target there
/// finds the runner's image, stack or vDSO on the host, and nothing under
/// Wax, so the host is no reference for the case.
pub fn touches_runner(host: &Outcome, wax: &Outcome) -> bool {
    let fault = |o: &Outcome| matches!(o.signo, 7 | 11) && in_runner(o.addr);
    fault(host) || fault(wax) || in_runner(host.eip) || in_runner(wax.eip)
}

/// The parts of the outcomes that differ (empty when they match); `mask`
/// says which bits are undefined.
pub fn differences(case: &Case, host: &Outcome, wax: &Outcome, mask: &Mask) -> Vec<Diff> {
    let mut d = Vec::new();
    if (host.signo, host.code, host.addr) != (wax.signo, wax.code, wax.addr) {
        let order = either_access_faults(case, host, wax);
        d.push(Diff::whole("signal", mask.all || order));
    }
    if host.eip != wax.eip {
        d.push(Diff::whole("eip", mask.all));
    }
    let compare_regs = !registers_unspecified(case, host);
    for (i, name) in REGS.iter().enumerate() {
        let undefined = if mask.all { u32::MAX } else { mask.regs[i] };
        if compare_regs {
            d.extend(Diff::bits(name, host.regs[i] ^ wax.regs[i], undefined));
        }
    }
    let undefined = if mask.all { u32::MAX } else { mask.flags };
    d.extend(Diff::bits(
        "eflags",
        (host.eflags ^ wax.eflags) & COMPARED_FLAGS,
        undefined,
    ));
    let (mut differ, mut undefined_bits) = (false, 0);
    let mut defined = false;
    for (off, h, w) in memory_pairs(case, host, wax) {
        let x = h ^ w;
        differ |= x != 0;
        defined |= x & !mask.byte(off) != 0;
        undefined_bits += (x & mask.byte(off)).count_ones();
    }
    if differ {
        d.push(Diff {
            part: "memory",
            defined,
            undefined_bits,
        });
    }
    d
}

/// (area offset, host byte, wax byte) for every byte either side changed.
fn memory_pairs(case: &Case, host: &Outcome, wax: &Outcome) -> Vec<(u32, u8, u8)> {
    let mut bytes: BTreeMap<u32, (u8, u8)> = BTreeMap::new();
    for d in &host.diff {
        let init = initial_byte(case, d >> 8);
        bytes.entry(d >> 8).or_insert((init, init)).0 = *d as u8;
    }
    for d in &wax.diff {
        let init = initial_byte(case, d >> 8);
        bytes.entry(d >> 8).or_insert((init, init)).1 = *d as u8;
    }
    bytes.into_iter().map(|(o, (h, w))| (o, h, w)).collect()
}

/// The order of the two memory accesses of one MOVS or CMPS is not
/// architectural: when both would fault, a CPU may report either. True
/// when both sides stopped at the same string instruction, each with the
/// fault of one of its two accesses.
fn either_access_faults(case: &Case, host: &Outcome, wax: &Outcome) -> bool {
    if host.signo != 11 || wax.signo != 11 || host.eip != wax.eip || host.regs != wax.regs {
        return false;
    }
    let Some(insn) = instruction_at(case, wax.eip) else {
        return false;
    };
    use iced_x86::Mnemonic::*;
    let dst_write = match insn.mnemonic() {
        Movsb | Movsw | Movsd => true,
        Cmpsb | Cmpsw | Cmpsd => false,
        _ => return false,
    };
    let a16 = (0..insn.op_count()).any(|i| {
        use iced_x86::OpKind::*;
        matches!(insn.op_kind(i), MemorySegSI | MemorySegDI | MemoryESDI)
    });
    let n = insn.memory_size().size() as u32;
    let at = |r: usize| {
        let v = wax.regs[r];
        if a16 {
            v & 0xffff
        } else {
            v
        }
    };
    let faults = [
        first_fault(at(6), n, false),
        first_fault(at(7), n, dst_write),
    ];
    let seen = |o: &Outcome| faults.contains(&Some((o.code, o.addr)));
    seen(host) && seen(wax)
}

/// The instruction of the case that starts at `eip`.
fn instruction_at(case: &Case, eip: u32) -> Option<iced_x86::Instruction> {
    let off = eip.checked_sub(case.entry())? as usize;
    let bytes = case.code.get(off..)?;
    Some(Decoder::with_ip(32, bytes, u64::from(eip), DecoderOptions::NONE).decode())
}

/// The si_code and address of the first byte of an `n`-byte access at
/// `addr` that faults in the case layout, if any.
fn first_fault(addr: u32, n: u32, write: bool) -> Option<(u32, u32)> {
    const SEGV_MAPERR: u32 = 1;
    const SEGV_ACCERR: u32 = 2;
    (0..n).map(|k| addr.wrapping_add(k)).find_map(|a| {
        let rw = area_offset(a).is_some() || (CODE_PAGE..CODE_END).contains(&a);
        if rw {
            None
        } else if (RO..RO + 0x1000).contains(&a) {
            write.then_some((SEGV_ACCERR, a))
        } else {
            Some((SEGV_MAPERR, a))
        }
    })
}

fn flag_names(f: u32) -> String {
    let names = [
        (0, "CF"),
        (2, "PF"),
        (4, "AF"),
        (6, "ZF"),
        (7, "SF"),
        (10, "DF"),
        (11, "OF"),
    ];
    let set: Vec<&str> = names
        .iter()
        .filter(|(b, _)| f >> b & 1 != 0)
        .map(|(_, n)| *n)
        .collect();
    format!("{:08x} [{}]", f, set.join(" "))
}

fn disassemble(case: &Case) -> String {
    let mut out = String::new();
    let mut d = Decoder::with_ip(
        32,
        &case.code,
        u64::from(case.entry()),
        DecoderOptions::NONE,
    );
    let mut fmt = FastFormatter::new();
    let mut at = 0;
    while d.can_decode() {
        let insn = d.decode();
        let mut text = String::new();
        fmt.format(&insn, &mut text);
        let bytes: Vec<String> = case.code[at..at + insn.len()]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let mark = if at == case.main { "=>" } else { "  " };
        let _ = writeln!(
            out,
            "    {mark} {:08x}  {:<30} {}",
            insn.ip32(),
            bytes.join(" "),
            text
        );
        at += insn.len();
    }
    out
}

fn regs_line(regs: &[u32; 8]) -> String {
    let parts: Vec<String> = REGS
        .iter()
        .zip(regs)
        .map(|(n, v)| format!("{n}={v:08x}"))
        .collect();
    parts.join(" ")
}

fn window_line(name: &str, base: u32, w: &Window) -> String {
    if w.bytes.is_empty() {
        return format!("    {name}: zero\n");
    }
    let start = base + u32::from(w.off);
    let shown: Vec<String> = w
        .bytes
        .iter()
        .take(48)
        .map(|b| format!("{b:02x}"))
        .collect();
    let more = if w.bytes.len() > 48 { " ..." } else { "" };
    format!(
        "    {name} {:08x}..{:08x}: {}{more}\n",
        start,
        start + w.bytes.len() as u32,
        shown.join("")
    )
}

/// The byte at area offset `off` before the case ran.
pub fn initial_byte(case: &Case, off: u32) -> u8 {
    let (w, o) = if off < DATA_LEN {
        (&case.data, off)
    } else {
        (&case.stack, off - DATA_LEN)
    };
    let i = o.wrapping_sub(u32::from(w.off)) as usize;
    w.bytes.get(i).copied().unwrap_or(0)
}

fn outcome_text(case: &Case, o: &Outcome) -> String {
    let end = match o.signo {
        0 => "ran to the end".to_string(),
        SIG_SYSCALL => "stopped with a system call".to_string(),
        SIG_BUDGET => "did not finish (instruction budget spent)".to_string(),
        SIG_PANIC => format!("panicked: {}", last_panic()),
        s => format!("signal {s} (si_code {:#x}, si_addr {:08x})", o.code, o.addr),
    };
    let mem: Vec<String> = o
        .diff
        .iter()
        .take(24)
        .map(|d| {
            format!(
                "{:08x}:{:02x}->{:02x}",
                area_addr(d >> 8),
                initial_byte(case, d >> 8),
                d & 0xff
            )
        })
        .collect();
    let more = if o.diff.len() > 24 {
        format!(" (+{} more)", o.diff.len() - 24)
    } else {
        String::new()
    };
    format!(
        "{end} at eip {:08x}\n      {}\n      eflags={}\n      memory: {}{more}\n",
        o.eip,
        regs_line(&o.regs),
        flag_names(o.eflags),
        if mem.is_empty() {
            "unchanged".to_string()
        } else {
            mem.join(" ")
        }
    )
}

/// The full account of one mismatch.
pub fn describe(
    n: usize,
    case: &Case,
    (host, wax): (&Outcome, &Outcome),
    diffs: &[Diff],
    mask: &Mask,
) -> String {
    let parts: Vec<String> = diffs
        .iter()
        .map(|d| {
            if d.defined {
                d.part.to_string()
            } else {
                format!("{} (undefined only)", d.part)
            }
        })
        .collect();
    format!(
        "--- mismatch {n}: {} differs in {}\n  code:\n{}  input:\n    {}\n    eflags={}\n{}{}  undefined: {}\n  host: {}  wax:  {}",
        case.label(),
        parts.join(", "),
        disassemble(case),
        regs_line(&case.regs),
        flag_names(case.eflags),
        window_line("data", DATA, &case.data),
        window_line("stack", STACK, &case.stack),
        mask_text(mask),
        outcome_text(case, host),
        outcome_text(case, wax),
    )
}

fn mask_text(m: &Mask) -> String {
    if m.all {
        return "everything (a branch or an address used an undefined value)".into();
    }
    let mut parts = vec![format!("eflags {}", flag_names(m.flags))];
    for (name, bits) in REGS.iter().zip(m.regs) {
        if bits != 0 {
            parts.push(format!("{name} {bits:08x}"));
        }
    }
    let bytes: Vec<String> = m
        .mem
        .iter()
        .filter(|(_, &b)| b != 0)
        .map(|(o, b)| format!("{:08x}:{b:02x}", area_addr(*o)))
        .collect();
    if !bytes.is_empty() {
        parts.push(format!("memory {}", bytes.join(" ")));
    }
    parts.join(", ")
}

/// Cases and mismatches per mnemonic, with the failing forms.
#[derive(Default)]
pub struct Summary {
    by_mnemonic: BTreeMap<String, (usize, usize, BTreeMap<String, usize>)>,
}

impl Summary {
    pub fn add(&mut self, case: &Case, failed: bool) {
        let key = if case.form == Code::INVALID {
            case.variant.to_string()
        } else if case.variant == "chain" {
            "(chains)".to_string()
        } else {
            format!("{:?}", case.form.mnemonic())
        };
        let e = self.by_mnemonic.entry(key).or_default();
        e.0 += 1;
        if failed {
            e.1 += 1;
            *e.2.entry(case.label()).or_default() += 1;
        }
    }

    /// Mnemonics with mismatches, worst first.
    pub fn failing(&self) -> String {
        let mut rows: Vec<_> = self.by_mnemonic.iter().filter(|(_, e)| e.1 > 0).collect();
        rows.sort_by_key(|(m, e)| (std::cmp::Reverse(e.1), m.to_string()));
        let mut out = String::new();
        for (m, (cases, failed, forms)) in rows {
            let mut forms: Vec<_> = forms.iter().collect();
            forms.sort_by_key(|(f, n)| (std::cmp::Reverse(**n), f.to_string()));
            let list: Vec<String> = forms
                .iter()
                .take(6)
                .map(|(f, n)| format!("{f} x{n}"))
                .collect();
            let more = if forms.len() > 6 {
                format!(", +{} forms", forms.len() - 6)
            } else {
                String::new()
            };
            let _ = writeln!(
                out,
                "  {m:<12} {failed:>6}/{cases:<6} {}{more}",
                list.join(", ")
            );
        }
        out
    }

    pub fn mnemonics(&self) -> usize {
        self.by_mnemonic.len()
    }
}
