//! Comparing the two outcomes of a case, and printing mismatches so they
//! can be reproduced by hand: the bytes with their disassembly, the input
//! state, and both results.

use super::case::*;
use super::gen::{DF, STATUS};
use super::wax::{last_panic, SIG_BUDGET, SIG_PANIC, SIG_SYSCALL};
use iced_x86::{Code, Decoder, DecoderOptions, FastFormatter};
use std::collections::BTreeMap;
use std::fmt::Write;

/// EFLAGS bits compared: the six status flags and DF.
pub const COMPARED_FLAGS: u32 = STATUS | DF;

/// Undefined flags Wax knowingly does not match for a form. Empty on
/// purpose: Wax aims to match the host even where the SDM leaves a flag
/// undefined. Add an entry only with a comment saying why.
fn unmatched_flags(_form: Code) -> u32 {
    0
}

/// Host behaviour that no architecture document promises, which Wax does
/// not copy: the general registers are not compared for these cases.
///
/// POPA that faults part way: the AMD EPYC this was written on leaves the
/// registers popped before the fault loaded (seen: EDI changed when the
/// pop of ESI faulted). Wax keeps the state unchanged on a fault, as the
/// SDM describes for faults. Signal, address, EIP and memory still count.
fn registers_unspecified(case: &Case, host: &Outcome) -> bool {
    matches!(case.form, Code::Popad | Code::Popaw) && host.signo != 0 && case.variant != "chain"
}

const REGS: [&str; 8] = ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"];

/// The parts of the outcomes that differ (empty when they match).
pub fn differences(case: &Case, host: &Outcome, wax: &Outcome) -> Vec<&'static str> {
    let mut d = Vec::new();
    if (host.signo, host.code, host.addr) != (wax.signo, wax.code, wax.addr) {
        d.push("signal");
    }
    if host.eip != wax.eip {
        d.push("eip");
    }
    let compare_regs = !registers_unspecified(case, host);
    for (i, name) in REGS.iter().enumerate() {
        if compare_regs && host.regs[i] != wax.regs[i] {
            d.push(*name);
        }
    }
    let mask = COMPARED_FLAGS & !unmatched_flags(case.form);
    if (host.eflags ^ wax.eflags) & mask != 0 {
        d.push("eflags");
    }
    if host.diff != wax.diff {
        d.push("memory");
    }
    d
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

fn initial_byte(case: &Case, off: u32) -> u8 {
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
pub fn describe(n: usize, case: &Case, host: &Outcome, wax: &Outcome, diffs: &[&str]) -> String {
    format!(
        "--- mismatch {n}: {} differs in {}\n  code:\n{}  input:\n    {}\n    eflags={}\n{}{}  host: {}  wax:  {}",
        case.label(),
        diffs.join(", "),
        disassemble(case),
        regs_line(&case.regs),
        flag_names(case.eflags),
        window_line("data", DATA, &case.data),
        window_line("stack", STACK, &case.stack),
        outcome_text(case, host),
        outcome_text(case, wax),
    )
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
