//! Block discovery on one guest page, and flag liveness over the page's
//! control flow.
//!
//! Leaders are the entry EIPs seen so far, the targets of direct branches
//! that stay in the page, and the instructions after conditional branches
//! and calls (a call's return lands there). A block runs from a leader to
//! the first control transfer, the next leader, or the end of the page.
//! Then a block that ends with a translated conditional branch
//! (`Plan::Jcc`) takes in the block of its fall-through when nothing else
//! leads there (no entry, branch target, return site): the branch, taken,
//! leaves the block from the middle (`gen.rs`). Not when the branch goes
//! back to the block's own start: such a block stays a loop of its own (a
//! wasm `loop`). So a loop whose body is a conditional exit and a branch
//! back to its head is one block, and its iterations never go through
//! the dispatcher.
//! An instruction that runs on into the next page ends its block. If the
//! translator was given the next page's first bytes it is translated like
//! any other, behind a run-time guard (`gen.rs`: the next page must still
//! be executable and start with those bytes); otherwise the interpreter
//! runs it.

use super::plan::{plan, Plan};
use iced_x86::{Decoder, DecoderOptions, FlowControl, Instruction};
use std::collections::{BTreeSet, HashMap};

use wax_cpu::PAGE_SIZE;

/// Most instructions in one block (keeps the budget granularity fine).
const MAX_BLOCK_INSNS: usize = 128;

/// One guest instruction and how it is translated.
pub struct Insn {
    pub insn: Instruction,
    pub plan: Plan,
    /// Whether any status flag may be read after this instruction, before
    /// being redefined (exits and possible faults count as reads).
    pub flags_live_after: bool,
    /// Its last bytes are the first ones of the next page
    /// ([`Cfg::next`]): the guard before it checks they are still there.
    pub straddles: bool,
}

pub struct Block {
    pub start: u32,
    pub insns: Vec<Insn>,
}

/// The page's blocks, in address order.
pub struct Cfg {
    pub blocks: Vec<Block>,
    pub index: HashMap<u32, u32>,
    /// Blocks (EIP, index) that start after a CALL in the page: where a
    /// RET in the page most likely goes.
    pub return_sites: Vec<(u32, u32)>,
    /// The first bytes of the next page (at most [`MAX_TAIL`]; none if it
    /// was not executable), which instructions that straddle the page end
    /// were decoded from.
    pub next: Vec<u8>,
}

/// Most bytes of an instruction that can lie on the next page: an x86
/// instruction is at most 15 bytes long, and one starts on this page.
pub const MAX_TAIL: usize = 14;

/// Decodes one instruction at `eip`, or None if it does not fit in `code`
/// (the page and the tail given of the next one).
fn decode_at(code: &[u8], base: u32, eip: u32) -> Option<Instruction> {
    let off = (eip - base) as usize;
    let mut d = Decoder::with_ip(32, &code[off..], u64::from(eip), DecoderOptions::NONE);
    let insn = d.decode();
    (d.last_error() != iced_x86::DecoderError::NoMoreBytes).then_some(insn)
}

fn in_page(base: u32, target: u64) -> bool {
    target >= u64::from(base) && target < u64::from(base) + u64::from(PAGE_SIZE)
}

/// Direct branch targets in the page and the fall-through leader (if any)
/// of a block-ending instruction.
fn edges(base: u32, insn: &Instruction) -> (Option<u32>, Option<u32>) {
    let target = match insn.flow_control() {
        FlowControl::UnconditionalBranch | FlowControl::ConditionalBranch | FlowControl::Call
            if insn.op0_kind() == iced_x86::OpKind::NearBranch32
                || insn.op0_kind() == iced_x86::OpKind::NearBranch16 =>
        {
            let t = insn.near_branch_target();
            in_page(base, t).then_some(t as u32)
        }
        _ => None,
    };
    let falls = match insn.flow_control() {
        FlowControl::ConditionalBranch | FlowControl::Call => {
            in_page(base, insn.next_ip()).then_some(insn.next_ip32())
        }
        _ => None,
    };
    (target, falls)
}

/// Leaders reachable from `entries`, and of them the joins: those that
/// something other than a conditional branch's fall-through leads to (an
/// entry, a branch target, a call's return, a block cut at
/// [`MAX_BLOCK_INSNS`]). With `ran` (sorted EIPs where code is known to
/// have run), a branch target or fall-through that never ran is left out:
/// the edge leaves the module instead, so cold paths (error handling, rare
/// cases) cost no compile time. If one turns hot, the executor sees it as
/// a missed entry and translates the page again.
fn find_leaders(
    code: &[u8],
    base: u32,
    entries: &[u32],
    ran: Option<&[u32]>,
) -> (BTreeSet<u32>, BTreeSet<u32>) {
    let ran_at = |eip: &u32| ran.is_none_or(|r| r.binary_search(eip).is_ok());
    let mut leaders: BTreeSet<u32> = BTreeSet::new();
    let mut work: Vec<u32> = entries
        .iter()
        .copied()
        .filter(|&e| in_page(base, e.into()))
        .collect();
    let mut joins: BTreeSet<u32> = work.iter().copied().collect();
    while let Some(start) = work.pop() {
        if !leaders.insert(start) {
            continue;
        }
        let mut eip = start;
        let mut n = 0;
        while let Some(insn) = decode_at(code, base, eip) {
            if insn.flow_control() != FlowControl::Next {
                let (t, f) = edges(base, &insn);
                let t = t.filter(ran_at);
                let f = f.filter(ran_at);
                joins.extend(t);
                if insn.flow_control() != FlowControl::ConditionalBranch {
                    joins.extend(f);
                }
                work.extend(t.into_iter().chain(f));
                break;
            }
            if !in_page(base, insn.next_ip()) {
                break;
            }
            eip = insn.next_ip32();
            n += 1;
            if n == MAX_BLOCK_INSNS {
                // `build_block` ends the block here: straight-line code
                // goes on in a block of its own rather than leaving the
                // module.
                work.push(eip);
                joins.insert(eip);
                break;
            }
        }
    }
    (leaders, joins)
}

/// Appends each block that only a conditional branch's fall-through leads
/// to (not in `joins`) to the block ending with that branch, when the
/// branch is translated inline and does not go back to the start of the
/// block it ends, and the two together stay within [`MAX_BLOCK_INSNS`].
fn merge_fall_throughs(blocks: Vec<Block>, joins: &BTreeSet<u32>) -> Vec<Block> {
    let mut out: Vec<Block> = Vec::with_capacity(blocks.len());
    for b in blocks {
        if let Some(prev) = out.last_mut() {
            let last = &prev.insns.last().expect("non-empty block").insn;
            let takes = !joins.contains(&b.start)
                && last.flow_control() == FlowControl::ConditionalBranch
                && plan(last) == Plan::Jcc
                && last.next_ip32() == b.start
                && last.near_branch32() != prev.start
                && prev.insns.len() + b.insns.len() <= MAX_BLOCK_INSNS;
            if takes {
                prev.insns.extend(b.insns);
                continue;
            }
        }
        out.push(b);
    }
    out
}

fn build_block(code: &[u8], base: u32, start: u32, leaders: &BTreeSet<u32>) -> Block {
    let mut insns = Vec::new();
    let mut eip = start;
    loop {
        let Some(insn) = decode_at(code, base, eip) else {
            // Straddles the page end and the next page's bytes are not
            // known: the interpreter runs it, then exit.
            let mut i = Instruction::default();
            i.set_ip32(eip);
            insns.push(Insn {
                insn: i,
                plan: Plan::StepStraddling,
                flags_live_after: true,
                straddles: false,
            });
            break;
        };
        let ends = insn.flow_control() != FlowControl::Next;
        insns.push(Insn {
            plan: plan(&insn),
            insn,
            flags_live_after: true,
            straddles: insn.next_ip() > u64::from(base) + u64::from(PAGE_SIZE),
        });
        let next = insn.next_ip();
        if ends
            || !in_page(base, next)
            || leaders.contains(&(next as u32))
            || insns.len() >= MAX_BLOCK_INSNS
        {
            break;
        }
        eip = next as u32;
    }
    Block { start, insns }
}

/// Discovers the blocks reachable from `entries` in the page at `base`
/// whose bytes are `code` (4096 bytes, then the first bytes of the next
/// page if it is executable: at most [`MAX_TAIL`]), through edges to code
/// that `ran` (sorted), or every edge if `ran` is None.
pub fn discover(code: &[u8], base: u32, entries: &[u32], ran: Option<&[u32]>) -> Cfg {
    let page = PAGE_SIZE as usize;
    assert!((page..=page + MAX_TAIL).contains(&code.len()));
    let (leaders, joins) = find_leaders(code, base, entries, ran);
    let blocks: Vec<Block> = leaders
        .iter()
        .map(|&s| build_block(code, base, s, &leaders))
        .collect();
    let blocks = merge_fall_throughs(blocks, &joins);
    let index: HashMap<u32, u32> = blocks
        .iter()
        .enumerate()
        .map(|(i, b)| (b.start, i as u32))
        .collect();
    let return_sites = blocks
        .iter()
        .filter_map(|b| b.insns.last())
        .filter(|i| {
            matches!(
                i.insn.flow_control(),
                FlowControl::Call | FlowControl::IndirectCall
            )
        })
        .filter_map(|i| {
            index
                .get(&i.insn.next_ip32())
                .map(|&k| (i.insn.next_ip32(), k))
        })
        .collect();
    let mut cfg = Cfg {
        blocks,
        index,
        return_sites,
        next: code[page..].to_vec(),
    };
    flag_liveness(&mut cfg);
    cfg
}

/// Flag liveness, backwards through each block. Every block may leave
/// translated code at its entry (the budget check), where the interpreter
/// sees the flags, so flags are live at every block boundary: liveness is
/// per block, and a producer's flags are dead only if a later instruction
/// of the same block redefines them first. A conditional branch inside a
/// block leaves it when taken, so flags are live after it too. (Checking
/// the budget only on back edges would let liveness cross blocks; not
/// done yet.)
fn flag_liveness(cfg: &mut Cfg) {
    for b in &mut cfg.blocks {
        let mut live = true;
        for i in b.insns.iter_mut().rev() {
            live |= i.insn.flow_control() != FlowControl::Next;
            i.flags_live_after = live;
            let (reads, defines) = i.plan.flag_effect(&i.insn, live);
            // The straddle guard may leave before the instruction.
            live = reads || i.straddles || (live && !defines);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::plan::AluOp;
    use super::*;

    const BASE: u32 = 0x1000;

    fn page(code: &[u8], at: usize) -> Vec<u8> {
        let mut p = vec![0x90; PAGE_SIZE as usize];
        p[at..at + code.len()].copy_from_slice(code);
        p
    }

    #[test]
    fn blocks_split_at_branch_targets_and_after_calls() {
        let code = [
            0x49, // 0: dec ecx
            0x75, 0xfd, // 1: jnz 0
            0xe8, 0x10, 0x00, 0x00, 0x00, // 3: call 0x18
            0x40, // 8: inc eax
            0xc3, // 9: ret
        ];
        let cfg = discover(&page(&code, 0), BASE, &[BASE], None);
        let starts: Vec<u32> = cfg.blocks.iter().map(|b| b.start - BASE).collect();
        // The callee runs NOPs to the end of the page and leaves, in
        // blocks of at most MAX_BLOCK_INSNS that follow on each other.
        let nops = (0x18..PAGE_SIZE).step_by(MAX_BLOCK_INSNS);
        let want: Vec<u32> = [0, 3, 8].into_iter().chain(nops).collect();
        assert_eq!(starts, want);
        assert_eq!(cfg.return_sites, [(BASE + 8, 2)]);
        assert_eq!(cfg.blocks[3].insns.len(), MAX_BLOCK_INSNS);
        let last = cfg.blocks.last().unwrap();
        assert_eq!(last.start + last.insns.len() as u32, BASE + PAGE_SIZE);
    }

    #[test]
    fn edges_to_code_that_never_ran_leave_the_module() {
        let code = [
            0x49, // 0: dec ecx
            0x75, 0xfd, // 1: jnz 0
            0xe8, 0x10, 0x00, 0x00, 0x00, // 3: call 0x18 (never ran)
            0x40, // 8: inc eax
            0xc3, // 9: ret
        ];
        let p = page(&code, 0);
        // Only the loop ran: the call and everything after it stay out.
        let cfg = discover(&p, BASE, &[BASE], Some(&[BASE]));
        let starts: Vec<u32> = cfg.blocks.iter().map(|b| b.start - BASE).collect();
        assert_eq!(starts, [0]);
        // Once the fall-through has run, it and the return site are in;
        // the callee, which never ran, is not.
        let cfg = discover(&p, BASE, &[BASE], Some(&[BASE, BASE + 3, BASE + 8]));
        let starts: Vec<u32> = cfg.blocks.iter().map(|b| b.start - BASE).collect();
        assert_eq!(starts, [0, 3, 8]);
    }

    #[test]
    fn an_instruction_across_the_page_end_is_stepped() {
        // mov eax, imm32 starting 3 bytes before the end.
        let cfg = discover(&page(&[0xb8, 1, 2], 4093), BASE, &[BASE + 4093], None);
        let b = &cfg.blocks[0];
        assert_eq!(b.insns.len(), 1);
        assert_eq!(b.insns[0].plan, Plan::StepStraddling);
        assert_eq!(b.insns[0].insn.ip32(), BASE + 4093);
    }

    #[test]
    fn with_the_next_pages_bytes_it_is_translated() {
        // shl eax, 2; add eax, imm32 across the page end.
        let mut code = page(&[0xc1, 0xe0, 0x02, 0x05, 1, 2], 4090);
        code.extend([3, 4, 0x90, 0x90]);
        let cfg = discover(&code, BASE, &[BASE + 4090], None);
        let b = &cfg.blocks[0];
        let add = &b.insns[1];
        assert_eq!((add.plan, add.straddles), (Plan::Alu(AluOp::Add), true));
        assert_eq!(add.insn.immediate32(), 0x0403_0201);
        assert_eq!(cfg.next, [3, 4, 0x90, 0x90]);
        // The ADD redefines the flags, but its guard may leave before it:
        // the SHL's flags are live.
        assert!(b.insns[0].flags_live_after && !b.insns[0].straddles);
    }

    #[test]
    fn flags_are_dead_only_before_a_redefinition_in_the_block() {
        let code = [
            0xc1, 0xe0, 0x02, // shl eax, 2   (add redefines: dead)
            0x01, 0xd8, // add eax, ebx      (jz reads: live)
            0x8b, 0x06, // mov eax, [esi]    (may fault: live)
            0x74, 0x00, // jz +0
        ];
        let cfg = discover(&page(&code, 0), BASE, &[BASE], None);
        let live: Vec<bool> = cfg.blocks[0]
            .insns
            .iter()
            .map(|i| i.flags_live_after)
            .collect();
        assert_eq!(live, [false, true, true, true]);
    }
}
