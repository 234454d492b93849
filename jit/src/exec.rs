//! The executor: runs a guest thread with the interpreter and translated
//! code, with the shape of `wax_cpu::interp::run`.
//!
//! Pages are counted by the instructions the interpreter runs in them
//! (block entries reached by a branch are remembered as the page's entry
//! points); a page past [`Config::threshold`] interpreted instructions is
//! translated and compiled, and from then on runs as wasm whenever EIP is
//! at one of its entries. With a background compiler, a page becomes a
//! candidate much earlier ([`Config::early`], scaled by the size of the
//! code that ran in it: [`Config::early_per_insn`]); the compiler, when
//! idle, takes the candidate that ran the most lately (those past the
//! threshold first), translated at that moment with the entries known
//! then. A page is not translated again while its compile is in flight.
//! Entries are EIPs reached by a control transfer (not where the
//! decoder's length limit or a slice happened to end a block), and the
//! first instruction straight-line code reaches in the next page. Compiling a page costs as much as interpreting a
//! few million instructions, so a threshold in instructions (rather than
//! entries) spends compile time only where it can pay back. Entries missed
//! by a module are remembered at once, each counting as `MISS_HEAT`
//! interpreted instructions besides the block it runs, and the page is
//! translated again with them once it has run another `threshold`. An
//! exit from a module into a page without one counts as `EXIT_HEAT`
//! instructions of that page the same way. Modules are cached by [`PageKey`] (frame
//! and virtual page: the frame gives invalidation by contents, the virtual
//! page because translated code embeds absolute EIPs) in an LRU bounded in
//! modules and bytes. Frames are shared between address spaces (fork,
//! shared mappings) and reused after being freed, and writes through
//! another address space (or another page of this one mapping the same
//! frame) are not reported to this one, so a module is used only after its
//! bytes have been compared in place with the frame it runs from; the page
//! is then watched, and a reported write drops the module. A comparison
//! holds for the rest of its `run` call (address spaces only change
//! between calls), and for that space's later calls too while nothing
//! could have written the frame unseen: the frame had one reference when
//! compared (mapped at this page of this space only), and since then no
//! frame gained a reference (fork, a second mapping: the frame allocator's
//! `retains`) and nobody else took the space's code changes (the kernel's
//! single-step). Other spaces may run in between: they cannot reach the
//! frame. Everything that writes a frame goes through a page-table entry,
//! and the only entry for such a frame is this watched one. Links survive
//! between calls on the same terms (a space's links are kept aside while
//! others run, see [`Jit::resume_space`]). This needs nothing from the
//! kernel. A page rewritten more than
//! [`Config::max_rewrites`] times stays interpreted.
//!
//! Instruction counts are exact: `run` stops after exactly `budget`
//! instructions (or at a system call or exception), whichever engine ran
//! them.

use crate::host::Host;
use crate::memo;
use crate::profile::{self, Profile};
use crate::step::run_in_page;
use crate::translate::{translate_page, translate_page_ran, Options, MAX_TAIL, REUSE_MISS};
use crate::Engine;
use lru::LruCache;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use wax_cpu::abi::{link_index, Control, ExitCode, Link, LinkTable, CONTROL, LINKS, LINK_COUNT};
use wax_cpu::exit::Exception;
use wax_cpu::{AddressSpace, DecodeCache, Exit, GuestAddr, Machine, Prot, RunResult, PAGE_SIZE};

/// Multiplicative hashing for small integer keys (SipHash costs more than
/// the lookups it serves on the executor's hot path).
#[derive(Default)]
pub struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u32(u32::from(b));
        }
    }
    fn write_u32(&mut self, v: u32) {
        self.0 = (self.0.rotate_left(29) ^ u64::from(v)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

type Fast = BuildHasherDefault<KeyHasher>;
type FastMap<K, V> = HashMap<K, V, Fast>;

/// What a module was translated from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct PageKey {
    /// Machine address of the frame.
    pub frame: u32,
    /// Guest page number.
    pub vpage: u32,
}

/// Executor tuning.
#[derive(Clone, Copy, Debug)]
pub struct Config {
    /// Instructions interpreted in a page before it is translated (again,
    /// if entries were missed since).
    pub threshold: u32,
    pub max_modules: usize,
    pub max_bytes: usize,
    /// Invalidations after which a page is no longer translated.
    pub max_rewrites: u32,
    /// A page whose translation would leave more than this percentage of
    /// its instructions to the interpreter stays interpreted.
    pub max_stepped_percent: usize,
    /// Compile on the engine's background thread (where it has one) while
    /// the interpreter goes on running the page, rather than stopping the
    /// guest for the compile.
    pub background: bool,
    /// Translate only blocks the interpreter has run (branches to the
    /// rest leave the module), rather than all code reachable from the
    /// page's entries.
    pub only_code_that_ran: bool,
    /// Instructions interpreted in a page after which the page is
    /// remembered in the profile (`profile.rs`), so that later runs
    /// translate it early.
    pub remember_after: u32,
    /// Instructions interpreted in a page after which it is translated
    /// if the profile remembers it: a module from the code cache costs
    /// ~0.5 ms to translate, load and instantiate, what the interpreter
    /// spends on ~50 K instructions, so a page that only a bigger program
    /// ran hot (ld.so's symbol lookup for python, in `true`) stays
    /// interpreted. Measured with the benchmark's code cache: at 20 K
    /// `true` took 8.0 ms against 5.8 ms without the cache, at 50 K
    /// 6.7 ms; python3 -c pass 257 and 271 ms, 347 ms without.
    pub profile_after: u32,
    /// Instructions interpreted in a page after which, if the profile
    /// remembers it and an earlier run's translation of it from the
    /// profile is in the memo (`memo.rs`), its module is taken from the
    /// code cache without translating: that costs ~0.1-0.45 ms (reading
    /// and checking two files, deserialising), what the interpreter spends
    /// on ~10-40 K instructions, against ~0.5-1.5 ms more to translate.
    /// The page ran `remember_after` in an earlier run, so it is likely to
    /// run as much in this one: the module comes early. Measured with a
    /// warm code cache, 10 K -> 3 K: `bash -c 'ls -lR /usr/include | wc -l'`
    /// recalled the same 60 modules and interpreted 2.18 -> 1.92 M
    /// instructions (callgrind: 3.3 % fewer host instructions, two pairs of
    /// runs); python3 -c pass recalled one module more and interpreted
    /// 4.0 -> 3.6 M; `bash -c :` unchanged.
    pub recall_after: u32,
    /// Guest instructions the run executes before the first recall: the
    /// profile is read then (a file of thousands of pages costs ~1 ms), so
    /// a run shorter than this (true: 120 K) never reads it; pages that
    /// reached `recall_after` before wait until then.
    pub recall_from: u64,
    /// Instructions interpreted in a page of the profile since its module
    /// came (its missed entries, [`MISS_HEAT`] each, and what ran from
    /// them) after which the page's hint grows by the entries it missed,
    /// at exit: the next run's module is then made and compiled anew, a
    /// cost that pays once the misses would cost more over a few runs.
    pub extend_after: u32,
    /// Instructions interpreted in a page translated before (whose module
    /// missed entries, or was evicted) after which it is translated again.
    pub retranslate: u32,
    /// With `background`: instructions interpreted in a page after which
    /// it becomes a candidate for the background compiler, which takes
    /// the candidate that ran the most instructions lately whenever it is
    /// idle (pages past `threshold` first, before the profile's pages).
    pub early: u32,
    /// A page becomes an early candidate only once it ran this many
    /// instructions per instruction of its code that ran (what its
    /// translation and compile cost grows with): a page of a few hot
    /// blocks is compiled at once, a large one (python's start-up has
    /// pages of 500-800 instructions that ran, 30-50 KB of wasm) later.
    /// Cranelift spends ~1.3 us of CPU per byte of wasm, ~57 bytes per
    /// guest instruction: ~75 us, what the interpreter spends on ~6500
    /// instructions. Compiling once a page has cost the interpreter about
    /// what its compile costs (the rent-or-buy rule, 6000 up to 16 M)
    /// saves CPU on start-up, but the compile runs on another thread
    /// while interpreting holds up the guest, and interpreting SSE code
    /// costs far more than the average instruction: see the measurements
    /// at the default.
    pub early_per_insn: u32,
    /// With an engine that has a first tier ([`Engine::first_tier`]) and
    /// `background`: instructions a first-tier module runs, per guest
    /// instruction it holds, after which its page is compiled again by
    /// the optimising tier (at least `tier_up_min`).
    pub tier_up_per_insn: u64,
    pub tier_up_min: u64,
    /// With a first tier: every page goes to it first, rather than to the
    /// optimising tier whenever that one is idle (tests use it to run
    /// both tiers).
    pub first_tier_always: bool,
}

impl Config {
    /// The settings with a background compiler (the CLI's): the
    /// threshold bounds the early rule, which decides by the page's size.
    /// (16 M with 6000 per instruction saved CPU on start-up, see
    /// `early_per_insn`, but cost wall time where it matters more.)
    pub fn with_background() -> Config {
        Config {
            background: true,
            ..Config::default()
        }
    }

    /// Interpreted instructions after which a page is first considered
    /// for translation.
    #[inline(always)]
    fn first(&self) -> u32 {
        if self.background {
            self.early.min(self.threshold)
        } else {
            self.threshold
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            // Cranelift takes ~50 ms for a full page, the time the
            // interpreter runs ~3.5 M instructions in: measured on python3
            // (start-up and a loop), 2 M compiles what pays back.
            threshold: 2_000_000,
            max_modules: 4096,
            max_bytes: 64 << 20,
            max_rewrites: 8,
            max_stepped_percent: 40,
            background: false,
            only_code_that_ran: true,
            // A module that comes out of the on-disk code cache costs about
            // what the interpreter spends on 10-20 K instructions.
            remember_after: 100_000,
            profile_after: 50_000,
            recall_after: 3_000,
            recall_from: 300_000,
            extend_after: 20_000,
            retranslate: 2_000_000,
            early: 250_000,
            // Measured (one series, loaded machine, CPU time, cold, with
            // the threshold at 16 M): at 2000 (and 2 M) python3 -c pass
            // 0.69 s, ls -lR 0.50 s, sort 0.66 s, binarytrees 2.57 s; at
            // 4000 0.56, 0.42, 0.66, 2.66 s; at 6000 0.47, 0.42, 0.72,
            // 2.51 s; at 8000 0.45, 0.41, 0.69, 2.65 s (another series);
            // the interpreter 0.38, 0.37, 0.87, 3.57 s. gcc -O2 -S: 32.5 s
            // at 2000 and 2 M, 26.1 s at 8000 and 16 M. But wall time
            // (two runs each, cold): sha256sum of 4 MiB (OpenSSL's SSSE3
            // code, ~125x native interpreted) 0.30 s at 2000 and 2 M,
            // 0.6 s at 3000 and 4 M, 1.3 s at 6000 and 16 M; python3 -c
            // pass 0.45-0.52 s in all three. The CI run with 6000 and
            // 16 M had the quick set's cold integer geomean at 12x
            // native against 7.7x before. So 2000 and 2 M.
            early_per_insn: 2000,
            // Measured cold, one short series on a loaded machine:
            // sha256sum's hot page at 20 000 ran ~100 M instructions in
            // Winch's code first, 0.40 s of CPU against 0.35 s at 5000
            // and 0.32 s at 1000; gcc (26.4-26.5 s), python3 -c pass and
            // sort the same at 5000 and 20 000.
            tier_up_per_insn: 5_000,
            tier_up_min: 1_000_000,
            first_tier_always: false,
        }
    }
}

/// Counters for `--stats`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Stats {
    /// Pages translated at their first entry from an earlier run's hints.
    pub pages_from_profile: u64,
    /// Pages remembered in the profile for later runs.
    pub pages_remembered: u64,
    /// Of `pages_from_profile`, those whose module was recalled from the
    /// memo of translations without translating.
    pub pages_recalled: u64,
    /// Pages of shared mappings, which are never translated.
    pub shared_pages_left_interpreted: u64,
    pub insns_translated: u64,
    pub insns_interpreted: u64,
    pub modules_compiled: u64,
    pub wasm_bytes: u64,
    pub guest_insns_compiled: u64,
    pub stepped_insns_compiled: u64,
    pub compile_ns: u64,
    pub invalidations: u64,
    pub misses: u64,
    /// Exits before an instruction whose memory access left the fast path.
    pub slow_exits: u64,
    /// Pages translated again without `Options::reuse_pages` after
    /// [`REUSE_MISS_LIMIT`] slow exits of reused lookups.
    pub pages_without_reuse: u64,
    /// Comparisons of a module's bytes with its page before use (once per
    /// module and `run` call, unless the last one still holds).
    pub adoption_checks: u64,
    pub adoption_failures: u64,
    /// Modules dropped to stay within the cache's bounds.
    pub evictions: u64,
    pub engine_errors: u64,
    /// Pages not translated because most of their instructions would be
    /// stepped.
    pub pages_left_interpreted: u64,
    /// Calls from the executor into translated code.
    pub calls: u64,
    /// Of which left translated code for another EIP of the same page.
    pub same_page_exits: u64,
    /// Jumps from one module to another through the link table (without
    /// returning to the executor).
    pub links_followed: u64,
    /// Of which found the exiting module itself, and stayed in it.
    pub links_within: u64,
    /// Of `modules_compiled`, those compiled on the background thread.
    pub compiled_in_background: u64,
    /// Background compiles whose page changed (or was translated again)
    /// before they finished, and were thrown away.
    pub compiles_discarded: u64,
    /// Returns to the executor by exit code (`ExitCode as usize`).
    pub exits: [u64; 9],
    /// Of the `Next` exits: the link table's entry for the target held
    /// another current EIP (a collision).
    pub next_collision: u64,
    /// Of the `Next` exits: the target starts a block of a cached module
    /// of its page (linkable, but the table had no current entry).
    pub next_entry: u64,
    /// Of the `Next` exits: the target's page has a module that has no
    /// block there.
    pub next_not_entry: u64,
    /// Of the `Next` exits: no module for the target's page.
    pub next_no_module: u64,
    /// `run` calls of an address space that went on trusting its earlier
    /// checks after other spaces ran.
    pub spaces_resumed: u64,
    /// Of those, the calls that got back the links the space left.
    pub links_resumed: u64,
    /// Modules compiled by the first tier, and pages compiled again by
    /// the optimising tier after running in the first.
    pub first_tier_modules: u64,
    pub tier_ups: u64,
    /// First-tier compiles that failed (the page went to the other tier).
    pub first_tier_failures: u64,
    pub first_tier_compile_ns: u64,
    /// Instructions run in first-tier modules (of `insns_translated`).
    pub insns_first_tier: u64,
    /// Pages that took the module of the same page in another frame
    /// holding the same bytes ([`Jit::adopt_twin`]).
    pub twins_adopted: u64,
}

/// Invalidates every entry of the link table: moves the control block's
/// epoch on (never to 0, the epoch of zeroed entries; the table is
/// cleared when the counter wraps).
pub(crate) fn drop_links(machine: &mut Machine) {
    let ctl = machine.slot::<Control>(CONTROL);
    ctl.link_epoch = ctl.link_epoch.wrapping_add(1);
    if ctl.link_epoch == 0 {
        ctl.link_epoch = 1;
        machine.slot::<LinkTable>(LINKS).0 = [Link::default(); LINK_COUNT];
    }
}

struct Entry<M> {
    module: M,
    /// Its slot in the link table's module numbering.
    slot: u32,
    /// Block index of each block's first EIP (what `run` takes).
    index: FastMap<u32, u32>,
    /// Instruction EIPs of each block.
    blocks: Vec<Vec<u32>>,
    bytes: usize,
    /// The page as translated.
    code: Box<[u8]>,
    /// The `run` call (epoch) that last compared `code` with the page.
    checked: u64,
    /// The trust generation in which that comparison found the frame
    /// mapped at this one place only (0: not so): the comparison then
    /// holds for every later `run` call of the generation (see `Jit::run`).
    kept: u64,
    /// The `run` call that last moved it to the front of the LRU.
    touched: u64,
    /// Compiled by the engine's first tier (it does not link, and no
    /// link leads to it), the instructions it ran, and how many it runs
    /// before its page is compiled by the optimising tier.
    first: bool,
    ran: u64,
    tier_at: u64,
}

/// A translation being compiled in the background: everything the cache
/// entry needs besides the module.
struct Pending {
    key: PageKey,
    blocks: Vec<Vec<u32>>,
    code: Box<[u8]>,
    insns: usize,
    stepped: usize,
    bytes: usize,
    /// Translated because the profile remembers the page.
    from_profile: bool,
    /// For the engine's first tier.
    first: bool,
}

/// Which blocks of a page to translate.
enum What<'a> {
    /// A page that ran hot in this run: what is reachable from `entries`,
    /// only through blocks starting at `ran` (sorted) if given.
    Hot {
        entries: &'a [u32],
        ran: Option<&'a [u32]>,
    },
    /// A page the profile remembers: the entries and the blocks that ran
    /// in earlier runs.
    Profile(&'a profile::Hint),
}

/// A translated page the profile remembers, waiting for the background
/// compiler to be idle (see `Jit::feed_profile`).
struct Deferred {
    pending: Pending,
    wasm: Vec<u8>,
}

#[derive(Default)]
struct Heat {
    /// Instructions interpreted since the last translation.
    count: u32,
    entries: Vec<u32>,
    /// Entries were added since the last translation.
    new_entries: bool,
    rewrites: u32,
    /// Instructions interpreted in the page in this run.
    total: u64,
    /// The profile was asked about the page.
    hinted: bool,
    /// The memo of translations was asked about the page.
    recalled: bool,
    /// Instructions interpreted in the page (misses counted as
    /// [`MISS_HEAT`]) since its module was installed.
    since_module: u32,
    /// The page is in the profile (remembered or translated from it).
    remembered: bool,
    /// The page waits in `Jit::candidates` for the background compiler.
    queued: bool,
    /// The count at which the page is next considered as an early
    /// candidate (it had not yet run `early_per_insn` per instruction).
    early_at: u32,
    /// Interpreted instructions lately (halved whenever a candidate is
    /// picked): which candidate is compiled first.
    recent: u32,
    /// A compile of the page is in flight: it is not translated again
    /// until that one is installed (a newer translation would make it
    /// stale, and a page that stays hot would never get a module).
    busy: bool,
    /// The page was translated in this run: missed entries are recorded
    /// at once, and it is translated again after `Config::retranslate`
    /// instructions interpreted rather than the threshold.
    translated: bool,
    /// [`Jit::adopt_twin`] was tried for the page.
    twin_tried: bool,
    /// Slow exits from the page's modules in this run where a reused page
    /// lookup found another page, and whether the page is translated
    /// without [`crate::Options::reuse_pages`] (after
    /// [`REUSE_MISS_LIMIT`] of them).
    reuse_misses: u32,
    /// The run's instruction count at the first of them.
    reuse_misses_since: u64,
    no_reuse: bool,
    /// The page is translated for the optimising tier from now on (its
    /// first-tier module ran enough, or the first tier failed it).
    optimise: bool,
}

impl Heat {
    /// Interpreted instructions after which the page is translated (again),
    /// or with a background compiler, becomes a candidate for it.
    #[inline(always)]
    fn limit(&self, config: &Config) -> u32 {
        if self.translated {
            config.retranslate.min(config.threshold)
        } else {
            config.first().max(self.early_at).min(config.threshold)
        }
    }

    /// Interpreted instructions after which entries are recorded.
    #[inline(always)]
    fn warm(&self, config: &Config) -> u32 {
        if self.translated {
            0
        } else {
            config.first() / 4
        }
    }
}

/// Most entry points remembered per page.
const MAX_ENTRIES: usize = 512;

/// Interpreted instructions a missed entry of a module counts as in its
/// page's heat: an exit to the executor and the entry after it cost about
/// what the interpreter spends on 16 instructions (~73 ns each way
/// against ~9 ns per instruction, see `translate/gen.rs`).
const MISS_HEAT: u32 = 16;

/// Slow exits of a page's modules where a reused page lookup found
/// another page (`Control::block` has [`REUSE_MISS`] set), after which
/// the page is translated again without [`crate::Options::reuse_pages`]:
/// such an access leaves every time it runs (a stack frame across a page
/// boundary, say), where the full check would have passed.
/// Only misses that come faster than one per [`REUSE_MISS_SPACING`]
/// instructions (of the whole run) count: an access that leaves now and
/// then (a pointer walking into the next page) costs less than a
/// translation.
pub const REUSE_MISS_LIMIT: u32 = 256;

/// See [`REUSE_MISS_LIMIT`]: at ~1 us per miss (an exit, the rest of the
/// block interpreted), one per 20 K instructions is a few per cent.
pub const REUSE_MISS_SPACING: u64 = 20_000;

/// Interpreted instructions an exit from a module into a page without
/// one counts as in that page's heat, for the same reason: a page of
/// short visits from translated code (a PLT, a small libc function) costs
/// an exit and an entry per visit, and without this reached the early
/// threshold only after ~250 K visits (sort: 1.4 M such exits).
const EXIT_HEAT: u64 = 16;

/// Address spaces whose trust and links are kept while others run (each
/// keeps a copy of the link-table entries it made or got back, 16 bytes
/// each).
const MAX_RESUMABLE: usize = 32;

/// What the LRU charges a module adopted from a twin frame
/// ([`Jit::adopt_twin`]) against `Config::max_bytes`: the compiled code is
/// shared with the module it came from (a wasmtime `Module` instantiated
/// again, or the same JS function at another slot), so only the instance
/// costs memory (wasmtime: about a page of `VMContext`). Charging the
/// whole wasm again made six python3 processes of one program (a spawn
/// pool) overflow 64 MiB and evict 691 modules, and every eviction
/// drops every link. Code that outlives its first holder stays bounded
/// by `Config::max_modules`.
const TWIN_BYTES: usize = 4096;

/// What an address space's last `run` call left for its next one while
/// other spaces run: its trust generation, and its links if they were all
/// private, valid while no module is dropped.
struct Resumable {
    generation: u64,
    /// The frame allocator's `retains` and the space's `changes_taken`
    /// when the call returned.
    retains: u64,
    changes_taken: u64,
    links: Option<Vec<Link>>,
    /// `Jit::drops` when they were saved.
    drops: u64,
    /// The `run` call after which it was saved (the oldest goes first).
    epoch: u64,
}

/// Slots of `Jit::mods` (a power of two).
const MOD_SLOTS: usize = 4096;

/// The slot of `Jit::mods` counting the modules of guest page `vpage`.
#[inline(always)]
fn mod_slot(vpage: u32) -> usize {
    vpage as usize & (MOD_SLOTS - 1)
}

pub struct Jit<E: Engine> {
    engine: E,
    config: Config,
    cache: LruCache<PageKey, Entry<E::Module>, Fast>,
    /// The module last found usable in this `run` call: skips the checks
    /// while control stays in one page.
    last: Option<PageKey>,
    /// Counts `run` calls.
    epoch: u64,
    /// The current space's trust generation: a new one whenever a `run`
    /// call cannot rely on what the space's previous call found (frames
    /// shared since, code changes taken by someone else, a space never
    /// seen): see [`Jit::resume_space`].
    generation: u64,
    /// The last generation handed out (each is one space's).
    next_generation: u64,
    /// What the address spaces that ran before the last one need to go on
    /// trusting their checks and links (see [`Jit::resume_space`]).
    spaces: FastMap<u64, Resumable>,
    /// Modules dropped so far (a saved link may lead to any of them).
    drops: u64,
    /// The key of the module last cached for each virtual page (see
    /// [`Jit::adopt_twin`]; it may since have gone).
    twins: FastMap<u32, PageKey>,
    /// The address space of the last `run` call, the frame allocator's
    /// `retains` and the space's `changes_taken` when it returned.
    after_last: (u64, u64, u64),
    /// Every link written in this generation leads to a module whose
    /// frame is mapped at one place only (links may then outlive the
    /// `run` call).
    links_private: bool,
    /// The module of each link-table slot (see `wax_cpu::abi::LINKS`:
    /// recently entered EIPs and the module and block they start, in
    /// machine memory). The executor uses the table to skip the page
    /// lookup, the adoption check and the entry map on the way from one
    /// translated block to the next, and translated code to jump to the
    /// next module without returning here. Its entries are valid while
    /// the control block's `link_epoch` is unchanged: it moves on at a
    /// `run` call of another space or a new `generation`, or after one that
    /// linked a module compared for that call only (address spaces change
    /// only between calls), and whenever a module is dropped
    /// (`links_stale`). A space that resumes its generation gets back the
    /// links it left, if no module was dropped since.
    slots: Vec<Option<PageKey>>,
    free_slots: Vec<u32>,
    /// A module was dropped since the link epoch last moved on.
    links_stale: bool,
    /// The link-table entries written since the space last changed (once
    /// each, marked in `link_marks`): what a space leaves behind is read
    /// from these, not from the whole table (two processes taking turns
    /// through a pipe switch spaces every few thousand instructions).
    link_touched: Vec<u16>,
    link_marks: Box<[u64]>,
    /// Scratch state for the `flags` import.
    scratch: Box<wax_cpu::CpuState>,
    /// Instructions translated code ran in the interpreter, by mnemonic
    /// (what to translate next).
    stepped: Box<[u64]>,
    /// x87 instructions translated code ran through `wax.fpu` (no fast
    /// path, or one whose checks failed), by mnemonic.
    fpu_calls: Box<[u64]>,
    bytes: usize,
    /// Cached modules by guest page, direct-mapped ([`MOD_SLOTS`]):
    /// exact counts, kept on every insertion into and removal from
    /// `cache`, so a zero says at the cost of one load that no module of
    /// the page exists (and no link leads into it: links lead to cached
    /// modules at their own pages). The interpreted path takes it before
    /// any lookup.
    mods: Box<[u32]>,
    heat: FastMap<PageKey, Heat>,
    /// Background compiles by job number, and the latest job of each page
    /// (an older one's result is stale when it arrives).
    in_flight: FastMap<u64, Pending>,
    compiling: FastMap<PageKey, u64>,
    jobs: u64,
    /// The last `run` stopped at a system call or exception: the next one
    /// starts at an entry point.
    resume_is_entry: bool,
    /// The module just left for a page without one: the interpreted trip
    /// that follows adds [`EXIT_HEAT`] to that page.
    exited_to_cold: bool,
    /// Pages that ran warm in earlier runs (`profile.rs`).
    profile: Profile,
    /// Remembered pages to translate when the background compiler is
    /// idle, and the time it has spent on such pages.
    deferred: std::collections::VecDeque<Deferred>,
    profile_ns: u64,
    /// Pages that reached `Config::recall_after` before the run reached
    /// `Config::recall_from`.
    recall_later: Vec<PageKey>,
    /// Pages past the early threshold waiting for the background
    /// compiler (see `Config::early`, `Jit::feed`).
    candidates: Vec<PageKey>,
    /// The engine's first tier's options, when it has one and compiles
    /// in the background (see [`Engine::first_tier`]).
    first_tier: Option<crate::Options>,
    /// Pages whose first-tier module ran enough: the optimising tier's
    /// compiler takes them (before the profile's pages) when idle.
    tier_ups: Vec<PageKey>,
    /// Of `in_flight`, the first tier's compiles.
    in_flight_first: usize,
    pub stats: Stats,
}

impl<E: Engine> Drop for Jit<E> {
    /// With a profile on disk, compiles in flight and the profile's
    /// pages still waiting are compiled, for up to half of the time the
    /// run took ([`EXIT_WAIT_SHARE`]), so that their modules reach the
    /// engine's code cache for the next run; then the profile is written.
    /// The bound keeps a run with many pages to compile (the second run of
    /// gcc -O2 -S box2d.c has some 700 remembered pages, 25 s of
    /// compiling) from paying for all of them at exit: what is left is
    /// compiled by later runs, which remember the same pages, so the cache
    /// fills over a few runs instead of in one long one. Measured on that
    /// gcc (one series, load ~7 on 2 cores): 13.6, 24.8, 17.1, 9.9, 8.4 s
    /// from a cold cache, where waiting for every compile gave 16.2,
    /// 41.1, 9.1 s.
    fn drop(&mut self) {
        trace_heat(&self.heat);
        self.extend_hints();
        if self.profile.is_persistent() {
            self.settle_within(self.engine.now_ns() / EXIT_WAIT_SHARE);
        }
        self.profile.save();
    }
}

/// At exit, background compiles are waited for up to 1/this of the time
/// the run took so far.
const EXIT_WAIT_SHARE: u64 = 2;
/// The background compiler spends at most 1/this of the run's time so
/// far on pages the profile remembers.
const PROFILE_SHARE: u64 = 2;

/// Where and how translated code is entered.
struct At {
    key: PageKey,
    eip: u32,
    /// Budget left in the slice.
    left: u64,
    /// EIP was reached by a control transfer.
    branched: bool,
    /// The block EIP starts, if known from a link.
    index: Option<u32>,
}

enum Entered {
    Continue,
    Interpret,
    Stop(Exit),
}

impl<E: Engine> Jit<E> {
    pub fn new(engine: E, config: Config) -> Jit<E> {
        let first_tier = engine.first_tier().filter(|_| config.background);
        Jit {
            first_tier,
            tier_ups: Vec::new(),
            in_flight_first: 0,
            engine,
            config,
            cache: LruCache::unbounded_with_hasher(Fast::default()),
            last: None,
            epoch: 0,
            generation: 1,
            next_generation: 1,
            spaces: FastMap::default(),
            drops: 0,
            twins: FastMap::default(),
            after_last: (0, 0, 0),
            links_private: true,
            slots: Vec::new(),
            free_slots: Vec::new(),
            links_stale: false,
            link_touched: Vec::new(),
            link_marks: vec![0; LINK_COUNT / 64].into_boxed_slice(),
            scratch: Box::default(),
            stepped: vec![0; iced_x86::Mnemonic::values().len()].into_boxed_slice(),
            fpu_calls: vec![0; iced_x86::Mnemonic::values().len()].into_boxed_slice(),
            bytes: 0,
            mods: vec![0; MOD_SLOTS].into_boxed_slice(),
            heat: FastMap::default(),
            in_flight: FastMap::default(),
            compiling: FastMap::default(),
            jobs: 0,
            resume_is_entry: true,
            exited_to_cold: false,
            profile: Profile::in_memory(),
            deferred: Default::default(),
            profile_ns: 0,
            recall_later: Vec::new(),
            candidates: Vec::new(),
            stats: Stats::default(),
        }
    }

    /// Uses (and at the end updates) the hot pages of earlier runs.
    pub fn set_profile(&mut self, profile: Profile) {
        self.profile = profile;
    }

    pub fn engine(&mut self) -> &mut E {
        &mut self.engine
    }

    /// Modules currently cached.
    pub fn modules(&self) -> usize {
        self.cache.len()
    }

    /// Runs the thread in the machine's CPU slot until a system call, an
    /// exception, or exactly `budget` instructions.
    pub fn run(
        &mut self,
        machine: &mut Machine,
        space: &mut AddressSpace,
        cache: &mut DecodeCache,
        budget: u64,
    ) -> RunResult {
        self.epoch += 1;
        self.resume_space(machine, space);
        self.last = None;
        if !self.recall_later.is_empty()
            && self.stats.insns_interpreted + self.stats.insns_translated >= self.config.recall_from
        {
            self.recall_waiting(machine, space);
        }
        let mut executed = 0u64;
        // Whether EIP was reached by a control transfer (or is where the
        // kernel resumes after a system call or sends a signal handler).
        // Only such EIPs become block entries: a slice that ran out of
        // budget stops anywhere in a block, and splitting blocks there
        // would only fragment them.
        let mut branched = self.resume_is_entry;
        // The decode cache's slot of the block the interpreter ran last
        // (see `run_in_page`): within this call only, since the kernel
        // may clear the cache between calls.
        let mut from = None;
        let r = 'trips: loop {
            self.drain_changes(machine, space, cache);
            if !self.in_flight.is_empty() {
                self.collect();
            }
            if self.wants_feed() {
                self.feed(machine, space, cache);
            }
            if executed >= budget {
                break RunResult {
                    exit: Exit::BudgetSpent,
                    executed,
                };
            }
            let left = budget - executed;
            let eip = machine.cpu().eip;
            if self.links_stale {
                drop_links(machine);
                self.links_stale = false;
            }
            let link = machine.slot::<LinkTable>(LINKS).0[link_index(eip)];
            let linked_key = (link.eip == eip
                && link.epoch == machine.slot::<Control>(CONTROL).link_epoch)
                .then(|| self.slots.get(link.slot as usize).copied().flatten())
                .flatten();
            let linked = linked_key.is_some();
            let key = match linked_key {
                Some(k) => Some(k),
                None => page_key(machine, space, eip),
            };
            let mut interpret = true;
            let mut new_entry = None;
            if let Some(key) = key {
                if linked || self.ready(machine, space, key) {
                    self.exited_to_cold = false;
                    let at = At {
                        key,
                        eip,
                        left,
                        branched,
                        index: linked.then_some(link.block),
                    };
                    // Whatever it runs, the interpreter's last block is
                    // no longer the one before EIP.
                    from = None;
                    let (ran, what) = self.enter(machine, space, cache, at);
                    executed += ran;
                    match what {
                        Entered::Continue => {
                            interpret = false;
                            branched = true;
                        }
                        Entered::Interpret => {}
                        Entered::Stop(exit) => break RunResult { exit, executed },
                    }
                } else if branched {
                    // Recorded with the page's heat, after the block runs.
                    new_entry = Some(eip);
                }
            }
            if interpret && executed < budget {
                let warm = self.config.first() / 4;
                let threshold = u64::from(self.config.first());
                let mut key = key;
                let mut new_entry = new_entry;
                let mut page = eip >> 12;
                // One trip of this loop per page (or per block, see
                // `stay`): what the outer loop would do next for a page
                // without a module (its checks all come out negative) is
                // done here without its lookups.
                loop {
                    // The page's heat, looked up once per trip (created
                    // here rather than after the blocks ran: nothing reads
                    // it in between).
                    let heat = key.map(|k| self.heat.entry(k).or_default());
                    // Blocks of a page without a module run back to back
                    // while control stays in the page (up to the
                    // threshold), as in the interpreter's own loop: no
                    // lookups between them. A warm page with no entry
                    // point yet goes block by block, which records them:
                    // otherwise a loop that never leaves its page would
                    // only ever be entered at a slice's start (not an
                    // entry) and never translated.
                    let stay = match (key, heat.as_deref()) {
                        (Some(k), Some(h)) => {
                            let module =
                                self.mods[mod_slot(k.vpage)] != 0 && self.cache.contains(&k);
                            let needs_entries = h.count >= warm && h.entries.is_empty();
                            !module && !needs_entries
                        }
                        _ => false,
                    };
                    let run = {
                        let (cpu, mut mem) = machine.guest(space);
                        run_in_page(
                            cpu,
                            &mut mem,
                            cache,
                            &mut from,
                            budget - executed,
                            stay,
                            page,
                            threshold,
                        )
                    };
                    let (in_page, exit, complete, crossed) =
                        (run.n, run.exit, run.complete, run.crossed);
                    branched = run.branched;
                    executed += in_page;
                    self.stats.insns_interpreted += in_page;
                    let exit_heat = if std::mem::take(&mut self.exited_to_cold) {
                        EXIT_HEAT
                    } else {
                        0
                    };
                    if let (Some(k), Some(h)) = (key, heat) {
                        if add_heat(h, new_entry, in_page + exit_heat, &self.config) {
                            self.settle_heat(machine, space, cache, k);
                        }
                    }
                    if let Some(eip) = crossed {
                        // Straight-line code ran into the next page: its
                        // translation is entered there (from this page's
                        // module, which exits there), though no branch
                        // leads there.
                        if let Some(k) = page_key(machine, space, eip) {
                            self.note_entry(k, eip);
                        }
                    }
                    if let Some(exit) = exit {
                        break 'trips RunResult { exit, executed };
                    }
                    // The outer loop's next trip, unless it could find
                    // anything to do: code changes, compiles to collect or
                    // start, stale links, the budget spent, or at EIP a
                    // link, a module (or the last one used: `ready`).
                    if !complete
                        || executed >= budget
                        || space.code_changed()
                        || self.wants_feed()
                        || (!self.in_flight.is_empty() && self.engine.any_finished())
                        || self.links_stale
                    {
                        break;
                    }
                    let eip = machine.cpu().eip;
                    let Some(k) = page_key(machine, space, eip) else {
                        break;
                    };
                    if self.mods[mod_slot(k.vpage)] != 0 || self.last == Some(k) {
                        break;
                    }
                    key = Some(k);
                    // Reached by a branch into a page without a module.
                    new_entry = branched.then_some(eip);
                    page = eip >> 12;
                }
            }
        };
        self.drain_changes(machine, space, cache);
        self.resume_is_entry = r.exit != Exit::BudgetSpent;
        self.after_last = (
            space.id(),
            machine.frames().retains(),
            space.changes_taken(),
        );
        r
    }

    /// Sets up the trust and links of a `run` call. What the space's last
    /// call checked still holds if no frame gained a reference since (so a
    /// frame mapped at one place then still is: only that space's watched
    /// page can have written it, and other spaces cannot reach it) and no
    /// code change of the space was taken by anyone but this executor (the
    /// kernel's single-step); its pending changes are drained before any
    /// module runs. That space's generation then goes on, and so do its
    /// links if it left them all private and no module was dropped since:
    /// the table is saved when another space runs, and written back.
    fn resume_space(&mut self, machine: &mut Machine, space: &AddressSpace) {
        let now = (
            space.id(),
            machine.frames().retains(),
            space.changes_taken(),
        );
        if now == self.after_last {
            if !self.links_private {
                drop_links(machine);
                self.links_stale = false;
                self.links_private = true;
            }
            return;
        }
        let epoch = machine.slot::<Control>(CONTROL).link_epoch;
        // (Space ids start at 1: 0 is "no call yet".)
        if self.after_last.0 != now.0 && self.after_last.0 != 0 {
            let table = &machine.slot::<LinkTable>(LINKS).0;
            let links = (self.links_private && !self.links_stale).then(|| {
                let live = self.link_touched.iter().map(|&i| table[usize::from(i)]);
                live.filter(|l| l.epoch == epoch).collect()
            });
            let leaving = Resumable {
                generation: self.generation,
                retains: self.after_last.1,
                changes_taken: self.after_last.2,
                links,
                drops: self.drops,
                epoch: self.epoch,
            };
            self.spaces.insert(self.after_last.0, leaving);
            if self.spaces.len() > MAX_RESUMABLE {
                let oldest = self
                    .spaces
                    .iter()
                    .min_by_key(|(_, r)| r.epoch)
                    .map(|(&id, _)| id);
                self.spaces.retain(|&id, _| Some(id) != oldest);
            }
        }
        for &i in &self.link_touched {
            self.link_marks[usize::from(i) / 64] = 0;
        }
        self.link_touched.clear();
        drop_links(machine);
        self.links_stale = false;
        self.links_private = true;
        match self.spaces.remove(&now.0) {
            Some(r) if r.retains == now.1 && r.changes_taken == now.2 => {
                self.generation = r.generation;
                self.stats.spaces_resumed += 1;
                if let Some(saved) = r.links.filter(|_| r.drops == self.drops) {
                    self.stats.links_resumed += 1;
                    let epoch = machine.slot::<Control>(CONTROL).link_epoch;
                    let table = &mut machine.slot::<LinkTable>(LINKS).0;
                    for old in saved {
                        let i = link_index(old.eip);
                        table[i] = Link { epoch, ..old };
                        note_link(&mut self.link_touched, &mut self.link_marks, i);
                    }
                }
            }
            _ => {
                self.next_generation += 1;
                self.generation = self.next_generation;
            }
        }
    }

    /// Whether the page has a module this space may use (adopting it after
    /// a byte comparison if needed).
    fn ready(&mut self, machine: &mut Machine, space: &mut AddressSpace, key: PageKey) -> bool {
        if self.last == Some(key) {
            return true;
        }
        if self.mods[mod_slot(key.vpage)] == 0 {
            return false;
        }
        if !self.cache.contains(&key) && !self.adopt_twin(machine, space, key) {
            return false;
        }
        let Some(e) = self.cache.peek_mut(&key) else {
            return false;
        };
        if e.checked == self.epoch || e.kept == self.generation {
            self.last = Some(key);
            return true;
        }
        // `key` came from this space's page table (`page_key`, or a link
        // written in this generation): the page is at `key.frame`.
        let frame = wax_cpu::MachAddr(key.frame);
        self.stats.adoption_checks += 1;
        let same = machine.frame_holds(frame, &e.code);
        if same {
            e.checked = self.epoch;
            // Mapped here only: nothing but this space's page (watched
            // from now on) can write the frame while no frame gains a
            // reference.
            let private = machine.frames().refcount(frame) == 1;
            e.kept = if private { self.generation } else { 0 };
            machine.mem(space).watch(key.vpage);
            self.last = Some(key);
        } else {
            self.stats.adoption_failures += 1;
            self.drop_module(key);
        }
        same
    }

    /// Gives page `key`, which has no module, the module of the same
    /// virtual page in another frame if that frame held the same bytes
    /// (a new process of the same program, or of a program using the same
    /// library at the same address): modules depend on the page's address
    /// and bytes only (the next page's, for an instruction that straddles
    /// into it, are checked as the code runs). Tried once per key; the
    /// module is then checked like any other before use.
    fn adopt_twin(
        &mut self,
        machine: &mut Machine,
        space: &mut AddressSpace,
        key: PageKey,
    ) -> bool {
        let Some(&twin) = self.twins.get(&key.vpage) else {
            return false;
        };
        let h = self.heat.entry(key).or_default();
        if twin == key || h.twin_tried || h.rewrites > self.config.max_rewrites || h.busy {
            return false;
        }
        h.twin_tried = true;
        let Some(e) = self.cache.peek(&twin) else {
            return false;
        };
        // (Pages of shared mappings stay interpreted, as in `recall`.)
        if machine.mem(space).is_shared(key.vpage)
            || !machine.frame_holds(wax_cpu::MachAddr(key.frame), &e.code)
        {
            return false;
        }
        let Some(module) = self.engine.twin(&e.module) else {
            return false;
        };
        let (blocks, code, first) = (e.blocks.clone(), e.code.clone(), e.first);
        self.stats.twins_adopted += 1;
        let h = self.heat.entry(key).or_default();
        h.translated = true;
        h.since_module = 0;
        // Compared just now: `ready` goes on from there. The compiled code
        // is shared, so the twin is charged only its instance.
        self.put(key, module, blocks, code, TWIN_BYTES, 0, first);
        true
    }

    /// Remembers `eip` (reached by a branch) as an entry point of its page
    /// if the page is warm.
    fn note_entry(&mut self, key: PageKey, eip: u32) {
        let h = self.heat.entry(key).or_default();
        let warm = h.warm(&self.config);
        note_entry(h, eip, warm);
    }

    /// What follows [`add_heat`] when it says so: consults the profile
    /// and translates the page once it has run the threshold and there
    /// are entries the page's module (if any) lacks.
    fn settle_heat(
        &mut self,
        machine: &mut Machine,
        space: &mut AddressSpace,
        cache: &DecodeCache,
        key: PageKey,
    ) {
        let h = self.heat.entry(key).or_default();
        if !h.recalled && h.total >= u64::from(self.config.recall_after) {
            h.recalled = true;
            if self.stats.insns_interpreted + self.stats.insns_translated < self.config.recall_from
            {
                self.recall_later.push(key);
            } else {
                self.recall(machine, space, key);
            }
        }
        // Pages remembered by an earlier process of this run are not
        // translated early when the profile is not kept: with no code
        // cache behind it, such a module is a full compile that only this
        // run can pay back, and it is left to the heat rules below
        // (`ls -lR /usr/include | wc -l`, where bash, ls and wc share
        // ld.so's pages: 0.46 -> 0.38 s of CPU, see `Config::early_per_insn`).
        // Measured with Cranelift on a background thread only: V8 compiles
        // a page some 20x faster, so without one the rule stays as it was.
        let early_from_profile = self.profile.is_persistent() || !self.config.background;
        let h = self.heat.entry(key).or_default();
        let translate =
            early_from_profile && !h.hinted && h.total >= u64::from(self.config.profile_after);
        if translate || (!h.remembered && h.total >= u64::from(self.config.remember_after)) {
            self.consult_profile(machine, space, cache, key, translate);
        }
        let h = self.heat.entry(key).or_default();
        if h.count < h.limit(&self.config)
            || h.entries.is_empty()
            || h.rewrites > self.config.max_rewrites
            || h.busy
            || h.queued
        {
            return;
        }
        if self.config.background {
            // (A rule by the page's share of the whole run was measured
            // and dropped: it kept sort's many small hot pages from early
            // compiles, 1.09 s of CPU at 1/32 against 0.83 s without.)
            let cost =
                cache.insns_in_page(key.vpage) as u64 * u64::from(self.config.early_per_insn);
            if h.count < self.config.threshold && u64::from(h.count) < cost {
                h.early_at = h.count.saturating_add(self.config.early);
                return;
            }
            // Compiled when the compiler is idle and the page is the
            // hottest candidate (`feed`).
            h.queued = true;
            self.candidates.push(key);
            return;
        }
        self.compile_if_needed(machine, space, cache, key);
    }

    /// The profile's hints of pages whose modules missed entries in this
    /// run (enough of them: [`Config::extend_after`]) grow by those
    /// entries, so that the next run's module has them:
    /// a page translated from the profile is translated again only after
    /// `retranslate` instructions, which a short run never reaches, and its
    /// module would miss the same entries in every run (python3 -c pass
    /// interpreted ~1.5 M instructions at such misses).
    fn extend_hints(&mut self) {
        if !self.profile.is_persistent() {
            return;
        }
        for (key, h) in &self.heat {
            if !(h.remembered && h.new_entries && h.since_module >= self.config.extend_after) {
                continue;
            }
            let Some(e) = self.cache.peek(key) else {
                continue;
            };
            let blocks: Vec<u32> = e.blocks.iter().map(|b| b[0]).collect();
            trace(format_args!(
                "extend vpage={:x} since_module={} blocks={} entries={}",
                key.vpage,
                h.since_module,
                blocks.len(),
                h.entries.len()
            ));
            let d = profile::digest(key.vpage, &e.code);
            let more = profile::Hint::new(h.entries.clone(), blocks).without_reuse(h.no_reuse);
            self.profile.extend(key.vpage, d, more);
        }
    }

    /// Recalls the pages that waited for the run to reach
    /// `Config::recall_from`, those of this address space still mapped
    /// where they were.
    fn recall_waiting(&mut self, machine: &mut Machine, space: &mut AddressSpace) {
        for key in std::mem::take(&mut self.recall_later) {
            if page_key(machine, space, key.vpage << 12) == Some(key) {
                self.recall(machine, space, key);
            }
        }
    }

    /// Once a page has run `recall_after` instructions interpreted,
    /// installs the module an earlier run translated from the profile's
    /// hint for the page as it is now, if the memo of translations
    /// (`memo.rs`) leads to it in the code cache: the translation's
    /// inputs are digested, not translated.
    fn recall(&mut self, machine: &mut Machine, space: &mut AddressSpace, key: PageKey) {
        if self.cache.contains(&key)
            || self.compiling.contains_key(&key)
            || !self.profile.knows_vpage(key.vpage)
            || machine.mem(space).is_shared(key.vpage)
        {
            return;
        }
        let start = self.engine.now_ns();
        let Some(code) = read_page(machine, space, key.vpage) else {
            return;
        };
        let Some(hint) = self.profile.hint(&profile::digest(key.vpage, &code)) else {
            return;
        };
        let mut bytes = code.to_vec();
        bytes.extend(read_tail(machine, space, key.vpage));
        let opts = self.options_for(key, Some(&hint), self.engine.options());
        if self
            .install_recalled(machine, space, key, code, &bytes, &hint, start, &opts)
            .is_none()
        {
            self.stats.pages_from_profile += 1;
        }
    }

    /// `base` for a translation of `key`'s page: without page reuse if its
    /// module kept missing reused lookups, in this run or (`hint`) in an
    /// earlier one, which this run then keeps to.
    fn options_for(
        &mut self,
        key: PageKey,
        hint: Option<&profile::Hint>,
        mut base: Options,
    ) -> Options {
        let h = self.heat.entry(key).or_default();
        h.no_reuse |= hint.is_some_and(|h| h.no_reuse);
        base.reuse_pages &= !h.no_reuse;
        base
    }

    /// Installs the module the memo knows for the translation of `key`'s
    /// page (`code`, then the next page's first bytes: `bytes`) from
    /// `hint`, if the code cache has it; else hands `code` back.
    #[allow(clippy::too_many_arguments)]
    fn install_recalled(
        &mut self,
        machine: &mut Machine,
        space: &mut AddressSpace,
        key: PageKey,
        code: Box<[u8]>,
        bytes: &[u8],
        hint: &profile::Hint,
        start: u64,
        opts: &Options,
    ) -> Option<Box<[u8]>> {
        let input = memo::input(opts, key.vpage << 12, bytes, hint);
        let Some((record, module)) = self.engine.recall(&input) else {
            return Some(code);
        };
        let r = match memo::Record::decode(&record) {
            Some(r) if r.stepped * 100 <= r.insns * self.config.max_stepped_percent => r,
            _ => return Some(code),
        };
        let h = self.heat.entry(key).or_default();
        h.remembered = true;
        h.hinted = true;
        self.stats.pages_recalled += 1;
        trace(format_args!(
            "t={}ms insns={} recall vpage={:x} blocks={} wasm={} us={}",
            self.engine.now_ns() / 1_000_000,
            self.stats.insns_interpreted + self.stats.insns_translated,
            key.vpage,
            r.blocks.len(),
            r.bytes,
            (self.engine.now_ns() - start) / 1000
        ));
        let pending = Pending {
            key,
            blocks: r.blocks,
            code,
            insns: r.insns,
            stepped: r.stepped,
            bytes: r.bytes,
            from_profile: true,
            first: false,
        };
        machine.mem(space).watch(key.vpage);
        let ns = self.engine.now_ns().saturating_sub(start);
        self.install(pending, Ok(module), ns, self.epoch);
        None
    }

    /// Once a page has run `profile_after` instructions interpreted
    /// (`first`), translates it if an earlier run remembered it (with the block starts that ran then, as entries
    /// and as the blocks to translate: the same wasm as then, so the
    /// module comes out of the code cache); once it has run warm in this
    /// run, remembers it for later runs.
    fn consult_profile(
        &mut self,
        machine: &mut Machine,
        space: &mut AddressSpace,
        cache: &DecodeCache,
        key: PageKey,
        first: bool,
    ) {
        let h = self.heat.entry(key).or_default();
        h.hinted |= first;
        if first && !self.profile.knows_vpage(key.vpage) {
            return;
        }
        let Some(code) = read_page(machine, space, key.vpage) else {
            return;
        };
        let d = profile::digest(key.vpage, &code);
        if first {
            if let Some(hint) = self.profile.hint(&d) {
                let h = self.heat.entry(key).or_default();
                h.remembered = true;
                if !self.cache.contains(&key) && !self.compiling.contains_key(&key) {
                    self.stats.pages_from_profile += 1;
                    self.compile_from(machine, space, key, code, What::Profile(&hint));
                }
            }
            return;
        }
        let h = self.heat.entry(key).or_default();
        h.remembered = true;
        if self.profile.hint(&d).is_some() {
            // An earlier run's hint (whose module this run's recall did not
            // find, as when the profile is consulted only after this): a
            // hint of what ran so far would replace it with a smaller one,
            // whose module would then miss the rest in every run. It grows
            // when the page is translated (`compile`, `extend_hints`).
            return;
        }
        // The interpreter's block starts and the entries noted in the page
        // (among them where straight-line code from the page before runs
        // into this one, which starts no block of the decode cache:
        // python's eval loop missed such an entry 100 K times per run when
        // its module came from the profile). Entries are noted only once
        // a page is warm, so this first hint takes the block starts as
        // entries too, some of them only where a slice happened to stop
        // the interpreter; later runs add their block starts as code that
        // ran, never as entries, so such splits do not pile up run after
        // run (`compile`, `extend_hints`).
        let starts = cache.starts_in_page(key.vpage);
        let hint = profile::Hint::new([&h.entries[..], &starts].concat(), starts)
            .without_reuse(h.no_reuse);
        self.stats.pages_remembered += 1;
        self.profile.remember(key.vpage, d, hint);
    }

    fn compile(
        &mut self,
        machine: &mut Machine,
        space: &mut AddressSpace,
        cache: &DecodeCache,
        key: PageKey,
    ) {
        let Some(code) = read_page(machine, space, key.vpage) else {
            return;
        };
        let mut entries = self
            .heat
            .get(&key)
            .map(|h| h.entries.clone())
            .unwrap_or_default();
        // A module translated again keeps the blocks it has (it was
        // compared with the page before use, so they are the page's): a
        // page translated from the profile's block starts, then missed at
        // an entry of this run, would otherwise shrink to this run's
        // entries and the blocks the interpreter ran (few, as the module
        // ran the rest). Measured on python3 binarytrees with a warm code
        // cache: its first retranslation cut page 0x816f from 111 blocks
        // to 31.
        let kept: Vec<u32> = match self.cache.peek(&key) {
            Some(e) => e.blocks.iter().map(|b| b[0]).collect(),
            None => Vec::new(),
        };
        entries.extend(kept.iter().copied());
        entries.sort_unstable();
        entries.dedup();
        // The interpreter's decoded blocks say where code has run.
        let ran = self.config.only_code_that_ran.then(|| {
            let mut ran = cache.starts_in_page(key.vpage);
            ran.extend(kept);
            ran.sort_unstable();
            ran.dedup();
            ran
        });
        if self.heat.get(&key).is_some_and(|h| h.remembered) {
            // The profile's hint grows with the module, so the next run's
            // translation from it has the entries this one had to find.
            let ran = ran
                .clone()
                .unwrap_or_else(|| cache.starts_in_page(key.vpage));
            let d = profile::digest(key.vpage, &code);
            let no_reuse = self.heat.get(&key).is_some_and(|h| h.no_reuse);
            let hint = profile::Hint::new(entries.clone(), ran).without_reuse(no_reuse);
            self.profile.remember(key.vpage, d, hint);
        }
        self.compile_from(
            machine,
            space,
            key,
            code,
            What::Hot {
                entries: &entries,
                ran: ran.as_deref(),
            },
        );
    }

    /// Hands the background compiler, once it is idle, the next page the
    /// profile remembers, while the time spent on such pages stays within
    /// half of the run so far ([`PROFILE_SHARE`]). Pages whose modules
    /// are in the code cache cost a fraction of a millisecond each; the
    /// others (in the second run of a program: gcc remembers some 700
    /// pages, 25 s of compiling) are compiled a share at a time, over as
    /// many runs as it takes, rather than making one run pay for all of
    /// them, and only after the pages this run itself made hot.
    fn feed_profile(&mut self) {
        if self.profile_ns.saturating_mul(PROFILE_SHARE) <= self.engine.now_ns() {
            self.feed_one();
        }
    }

    /// The background compiler is idle: starts compiling the hottest
    /// candidate past the threshold, else a page of the profile, else the
    /// hottest candidate.
    fn feed(&mut self, machine: &mut Machine, space: &mut AddressSpace, cache: &DecodeCache) {
        if self.first_tier.is_some() {
            return self.feed_tiers(machine, space, cache);
        }
        if let Some(key) = self.pick(self.config.threshold) {
            self.translate_candidate(machine, space, cache, key);
        }
        if self.in_flight.is_empty() && !self.deferred.is_empty() {
            self.feed_profile();
        }
        if self.in_flight.is_empty() {
            if let Some(key) = self.pick(0) {
                self.translate_candidate(machine, space, cache, key);
            }
        }
    }

    /// Whether a background compiler is idle and has work waiting.
    #[inline(always)]
    fn wants_feed(&self) -> bool {
        if self.first_tier.is_some() {
            (self.in_flight_first == 0 && !self.candidates.is_empty())
                || (self.in_flight.len() == self.in_flight_first
                    && !(self.tier_ups.is_empty()
                        && self.deferred.is_empty()
                        && (self.candidates.is_empty() || self.config.first_tier_always)))
        } else {
            self.in_flight.is_empty() && !(self.deferred.is_empty() && self.candidates.is_empty())
        }
    }

    /// [`Jit::feed`] with two tiers, each compiled on its own thread.
    /// The optimising tier's compiler, when idle, takes a page whose
    /// first-tier module ran enough, else the hottest candidate past the
    /// threshold, else a page of the profile, else the hottest candidate:
    /// while it keeps up, pages go to it directly (and link). The first
    /// tier's compiler, when idle, takes the hottest candidate left: the
    /// first tier takes what the optimising one has no time for.
    fn feed_tiers(&mut self, machine: &mut Machine, space: &mut AddressSpace, cache: &DecodeCache) {
        if self.in_flight.len() == self.in_flight_first {
            while let Some(key) = self.tier_ups.pop() {
                let h = self.heat.entry(key).or_default();
                if h.busy || h.rewrites > self.config.max_rewrites {
                    continue;
                }
                self.translate_candidate(machine, space, cache, key);
                if self.in_flight.len() != self.in_flight_first {
                    break;
                }
            }
        }
        if self.in_flight.len() == self.in_flight_first {
            let mut key = match self.config.first_tier_always {
                true => None,
                false => self.pick(self.config.threshold),
            };
            if key.is_none() && !self.deferred.is_empty() {
                self.feed_profile();
            }
            if key.is_none()
                && self.in_flight.len() == self.in_flight_first
                && !self.config.first_tier_always
            {
                key = self.pick(0);
            }
            if let Some(key) = key {
                self.heat.entry(key).or_default().optimise = true;
                self.translate_candidate(machine, space, cache, key);
            }
        }
        if self.in_flight_first == 0 && !self.candidates.is_empty() {
            let key = self.pick(self.config.threshold).or_else(|| self.pick(0));
            if let Some(key) = key {
                self.translate_candidate(machine, space, cache, key);
            }
        }
    }

    /// Takes the candidate that ran the most lately (among those that ran
    /// at least `min` instructions since their last translation) off the
    /// list, dropping candidates no longer wanted; halves every
    /// candidate's recent count, so the choice follows what runs now.
    fn pick(&mut self, min: u32) -> Option<PageKey> {
        let mut best: Option<(u32, usize)> = None;
        let mut i = 0;
        while i < self.candidates.len() {
            let key = self.candidates[i];
            let h = self.heat.entry(key).or_default();
            if h.rewrites > self.config.max_rewrites || h.busy || !h.queued {
                h.queued = false;
                self.candidates.swap_remove(i);
                continue;
            }
            // Below the threshold, only pages that still run: a page
            // that went warm once and stopped is not worth a compile; it
            // leaves the list and is a candidate again once it has run
            // `early` instructions more.
            if h.count < self.config.threshold && h.recent < self.config.early / 2 {
                h.queued = false;
                h.count = 0;
                h.early_at = 0;
                self.candidates.swap_remove(i);
                continue;
            }
            if h.count >= min && best.is_none_or(|(r, _)| h.recent > r) {
                best = Some((h.recent, i));
            }
            i += 1;
        }
        let (_, i) = best?;
        let key = self.candidates.swap_remove(i);
        for k in &self.candidates {
            if let Some(h) = self.heat.get_mut(k) {
                h.recent /= 2;
            }
        }
        let h = self.heat.entry(key).or_default();
        h.queued = false;
        h.recent = 0;
        Some(key)
    }

    /// Translates a picked candidate if it is still mapped where it was
    /// and still lacks a module (or entries its module lacks).
    fn translate_candidate(
        &mut self,
        machine: &mut Machine,
        space: &mut AddressSpace,
        cache: &DecodeCache,
        key: PageKey,
    ) {
        // A page of another address space (the candidate list outlives
        // `run` calls) is left for when it runs again.
        if page_key(machine, space, key.vpage << 12) != Some(key) {
            return;
        }
        self.compile_if_needed(machine, space, cache, key);
    }

    /// Restarts the page's heat and compiles it if it was translated,
    /// evicted or invalidated since, or has entries its module lacks (and
    /// is not already being compiled with them).
    fn compile_if_needed(
        &mut self,
        machine: &mut Machine,
        space: &mut AddressSpace,
        cache: &DecodeCache,
        key: PageKey,
    ) {
        let first_module = self.cache.peek(&key).is_some_and(|e| e.first);
        let compiling = self.compiling.contains_key(&key);
        let h = self.heat.entry(key).or_default();
        let needed = h.new_entries
            || (h.optimise && first_module && !compiling)
            || !(self.cache.contains(&key) || compiling);
        h.count = 0;
        h.early_at = 0;
        h.new_entries = false;
        if needed {
            self.compile(machine, space, cache, key);
        }
    }

    /// Starts compiling the next deferred page still wanted.
    fn feed_one(&mut self) {
        while let Some(d) = self.deferred.pop_front() {
            let key = d.pending.key;
            if self.cache.contains(&key) || self.compiling.contains_key(&key) {
                continue;
            }
            self.jobs += 1;
            if self.engine.start_compile(self.jobs, d.wasm, false).is_ok() {
                self.compiling.insert(key, self.jobs);
                self.in_flight.insert(self.jobs, d.pending);
                self.heat.entry(key).or_default().busy = true;
            }
            return;
        }
    }

    /// Translates `code` (the page of `key`) and compiles it.
    fn compile_from(
        &mut self,
        machine: &mut Machine,
        space: &mut AddressSpace,
        key: PageKey,
        code: Box<[u8]>,
        what: What,
    ) {
        let (entries, ran, hint) = match what {
            What::Hot { entries, ran } => (entries, ran, None),
            What::Profile(h) => (&h.entries[..], Some(&h.ran[..]), Some(h)),
        };
        let from_profile = hint.is_some();
        if machine.mem(space).is_shared(key.vpage) {
            // A shared mapping's frame can be written through another
            // mapping that nothing watches, even while a module runs: the
            // interpreter compares such blocks with memory at every
            // lookup (`DecodeCache`), a module could not.
            self.stats.shared_pages_left_interpreted += 1;
            self.heat.entry(key).or_default().rewrites = u32::MAX;
            return;
        }
        let start = self.engine.now_ns();
        // Pages that ran hot in this run go to the first tier, if there
        // is one, until they stay hot there (`Heat::optimise`); the
        // profile's pages go to the optimising tier at once.
        let first = match self.first_tier {
            Some(o) if !from_profile && !self.heat.get(&key).is_some_and(|h| h.optimise) => Some(o),
            _ => None,
        };
        let opts = self.options_for(key, hint, first.unwrap_or_else(|| self.engine.options()));
        let mut bytes = code.to_vec();
        bytes.extend(read_tail(machine, space, key.vpage));
        let code = match hint {
            // Translated before (and compiled): no need to translate.
            Some(hint) => {
                match self.install_recalled(machine, space, key, code, &bytes, hint, start, &opts) {
                    Some(code) => code,
                    None => return,
                }
            }
            None => code,
        };
        let t = match ran {
            Some(ran) => translate_page_ran(&bytes, key.vpage << 12, entries, ran, &opts),
            None => translate_page(&bytes, key.vpage << 12, entries, &opts),
        };
        if let Some(hint) = hint {
            // For `recall` in later runs, which then skip the translation.
            let input = memo::input(&opts, key.vpage << 12, &bytes, hint);
            let record = memo::Record::of(&t).encode();
            self.engine.note(&input, &t.wasm, &record);
        }
        if t.stepped * 100 > t.insns * self.config.max_stepped_percent {
            // Mostly instructions the translator leaves to the interpreter
            // (x87, SSE): every block would cost an exit and gain nothing.
            self.stats.pages_left_interpreted += 1;
            self.heat.entry(key).or_default().rewrites = u32::MAX;
            return;
        }
        trace(format_args!(
            "t={}ms insns={} translate vpage={:x} profile={} entries={} blocks={} insns={} wasm={} inflight={} translate_us={}",
            self.engine.now_ns() / 1_000_000,
            self.stats.insns_interpreted + self.stats.insns_translated,
            key.vpage,
            from_profile,
            entries.len(),
            t.blocks.len(),
            t.insns,
            t.wasm.len(),
            self.in_flight.len(),
            (self.engine.now_ns() - start) / 1000
        ));
        let pending = Pending {
            key,
            blocks: t.blocks,
            code,
            insns: t.insns,
            stepped: t.stepped,
            bytes: t.wasm.len(),
            from_profile,
            first: first.is_some(),
        };
        // Watched from now on: a write before the module is ready makes
        // it stale (`drain_changes`).
        machine.mem(space).watch(key.vpage);
        let mut wasm = t.wasm;
        if self.config.background && from_profile {
            // Compiled when the compiler is idle (`feed_profile`); a write
            // to the page meanwhile drops it (`drain_changes`).
            self.deferred.push_back(Deferred { pending, wasm });
            return;
        }
        if self.config.background {
            self.jobs += 1;
            let first = pending.first;
            match self.engine.start_compile(self.jobs, wasm, first) {
                Ok(()) => {
                    self.compiling.insert(key, self.jobs);
                    self.in_flight_first += usize::from(first);
                    self.in_flight.insert(self.jobs, pending);
                    self.heat.entry(key).or_default().busy = true;
                    return;
                }
                Err(w) if !first => wasm = w,
                Err(_) => {
                    // No first tier after all: the page goes to the
                    // optimising one when next a candidate.
                    self.heat.entry(key).or_default().optimise = true;
                    self.first_tier = None;
                    return;
                }
            }
        }
        let module = self.engine.compile(&wasm);
        let ns = self.engine.now_ns().saturating_sub(start);
        self.install(pending, module, ns, self.epoch);
    }

    /// Waits for every background compile to finish and takes the modules
    /// (for tests and measurements that want the same translations at the
    /// same points every run).
    pub fn settle(&mut self) {
        while !self.in_flight.is_empty() {
            match self.engine.finished(true) {
                Some(c) => self.take(c),
                None => {
                    // The engine lost its worker: nothing will come back.
                    self.in_flight.clear();
                    self.in_flight_first = 0;
                    self.compiling.clear();
                    self.heat.values_mut().for_each(|h| h.busy = false);
                }
            }
        }
    }

    /// [`Jit::settle`] for at most `ns` nanoseconds, compiling deferred
    /// pages of the profile too: compiles that have not finished by then
    /// are left (their modules are thrown away).
    pub fn settle_within(&mut self, ns: u64) {
        let deadline = self.engine.now_ns().saturating_add(ns);
        loop {
            if self.in_flight.is_empty() {
                self.feed_one();
                if self.in_flight.is_empty() {
                    break;
                }
            }
            let left = deadline.saturating_sub(self.engine.now_ns());
            match self.engine.finished_within(left) {
                Some(c) => self.take(c),
                None => break,
            }
        }
    }

    /// Takes the modules the background compiler has finished.
    fn collect(&mut self) {
        while let Some(c) = self.engine.finished(false) {
            self.take(c);
        }
    }

    /// Installs a finished background compile, unless its page changed or
    /// was translated again meanwhile.
    fn take(&mut self, c: crate::Compiled<E::Module>) {
        {
            let Some(p) = self.in_flight.remove(&c.job) else {
                return;
            };
            self.in_flight_first -= usize::from(p.first);
            trace(format_args!(
                "t={}ms insns={} done vpage={:x} job={} compile_ms={} wasm={} stale={}",
                self.engine.now_ns() / 1_000_000,
                self.stats.insns_interpreted + self.stats.insns_translated,
                p.key.vpage,
                c.job,
                c.ns / 1_000_000,
                p.bytes,
                self.compiling.get(&p.key) != Some(&c.job)
            ));
            if self.compiling.get(&p.key) != Some(&c.job) {
                self.stats.compiles_discarded += 1;
                return;
            }
            self.compiling.remove(&p.key);
            self.heat.entry(p.key).or_default().busy = false;
            self.stats.compiled_in_background += 1;
            if p.from_profile {
                self.profile_ns += c.ns;
            }
            // Never compared with the page in this `run` call (it may be
            // another address space's): `ready` compares it at first use.
            self.install(p, c.module, c.ns, 0);
        }
    }

    /// Puts a compiled module in the cache (or, if compiling failed, keeps
    /// its page interpreted for good). `checked` is the `run` call that
    /// last compared the translated bytes with the page.
    fn install(
        &mut self,
        p: Pending,
        module: Result<E::Module, crate::EngineError>,
        ns: u64,
        checked: u64,
    ) {
        let key = p.key;
        let module = match module {
            Ok(m) => m,
            Err(_) if p.first => {
                // The first tier lacks something the module uses (Winch
                // has no SIMD for some operations): the optimising tier
                // takes the page next time it is a candidate.
                self.stats.first_tier_failures += 1;
                self.heat.entry(key).or_default().optimise = true;
                return;
            }
            Err(_) => {
                self.stats.engine_errors += 1;
                // Never again: the page stays interpreted.
                self.heat.entry(key).or_default().rewrites = u32::MAX;
                return;
            }
        };
        let h = self.heat.entry(key).or_default();
        h.translated = true;
        h.since_module = 0;
        self.stats.compile_ns += ns;
        self.stats.modules_compiled += 1;
        self.stats.wasm_bytes += p.bytes as u64;
        self.stats.guest_insns_compiled += p.insns as u64;
        self.stats.stepped_insns_compiled += p.stepped as u64;
        if p.first {
            self.stats.first_tier_modules += 1;
            self.stats.first_tier_compile_ns += ns;
        }
        self.put(key, module, p.blocks, p.code, p.bytes, checked, p.first);
    }

    /// Caches `module` for `key` (replacing any), evicting the least
    /// recently used beyond the bounds. `first`: a first-tier module.
    #[allow(clippy::too_many_arguments)]
    fn put(
        &mut self,
        key: PageKey,
        module: E::Module,
        blocks: Vec<Vec<u32>>,
        code: Box<[u8]>,
        bytes: usize,
        checked: u64,
        first: bool,
    ) {
        self.drop_module(key);
        let insns: usize = blocks.iter().map(Vec::len).sum();
        let tier_at = (insns as u64)
            .saturating_mul(self.config.tier_up_per_insn)
            .max(self.config.tier_up_min);
        self.twins.insert(key.vpage, key);
        self.bytes += bytes;
        let slot = match self.free_slots.pop() {
            Some(s) => s,
            None => {
                self.slots.push(None);
                (self.slots.len() - 1) as u32
            }
        };
        self.slots[slot as usize] = Some(key);
        self.mods[mod_slot(key.vpage)] += 1;
        self.cache.put(
            key,
            Entry {
                module,
                slot,
                index: blocks
                    .iter()
                    .enumerate()
                    .map(|(i, b)| (b[0], i as u32))
                    .collect(),
                blocks,
                bytes,
                code,
                checked,
                kept: 0,
                touched: self.epoch,
                first,
                ran: 0,
                tier_at,
            },
        );
        while self.cache.len() > self.config.max_modules || self.bytes > self.config.max_bytes {
            match self.cache.pop_lru() {
                Some((k, e)) => {
                    self.mods[mod_slot(k.vpage)] -= 1;
                    self.bytes -= e.bytes;
                    self.stats.evictions += 1;
                    self.free_slot(e.slot);
                }
                None => break,
            }
        }
    }

    fn drop_module(&mut self, key: PageKey) {
        self.last = None;
        if let Some(e) = self.cache.pop(&key) {
            self.mods[mod_slot(key.vpage)] -= 1;
            self.bytes -= e.bytes;
            self.free_slot(e.slot);
        }
    }

    /// Frees a dropped module's slot; every link goes, since some may
    /// lead to it.
    fn free_slot(&mut self, slot: u32) {
        self.links_stale = true;
        self.drops += 1;
        self.slots[slot as usize] = None;
        self.free_slots.push(slot);
    }

    /// Calls the page's module at `eip`. Returns the instructions it
    /// retired and what to do next.
    fn enter(
        &mut self,
        machine: &mut Machine,
        space: &mut AddressSpace,
        cache: &mut DecodeCache,
        at: At,
    ) -> (u64, Entered) {
        let At {
            key,
            eip,
            left,
            branched,
            index,
        } = at;
        let budget = left.min(i64::MAX as u64) as i64;
        if self.links_stale {
            drop_links(machine);
            self.links_stale = false;
        }
        {
            let ctl = machine.slot::<Control>(CONTROL);
            ctl.page_table = space.table().0;
            ctl.budget = budget;
        }
        // Recency is refreshed once per `run` call: eviction only needs to
        // spare what runs, and promoting costs a list update per entry.
        let epoch = self.epoch;
        let Some(entry) = self.cache.peek_mut(&key) else {
            return (0, Entered::Interpret);
        };
        let promote = entry.touched != epoch;
        entry.touched = epoch;
        let slot = entry.slot;
        let index = match index {
            Some(i) => i,
            None => {
                let Some(&i) = entry.index.get(&eip) else {
                    return (0, self.miss(key, eip, branched));
                };
                if entry.kept != self.generation {
                    // Checked for this call only: the link goes with it.
                    self.links_private = false;
                }
                // No link leads into a first-tier module: a module of the
                // other engine could not call it.
                if !entry.first {
                    let epoch = machine.slot::<Control>(CONTROL).link_epoch;
                    machine.slot::<LinkTable>(LINKS).0[link_index(eip)] = Link {
                        eip,
                        epoch,
                        slot,
                        block: i,
                    };
                    note_link(
                        &mut self.link_touched,
                        &mut self.link_marks,
                        link_index(eip),
                    );
                }
                i
            }
        };
        let result = {
            // SAFETY: the three borrows outlive `host`, and nothing but
            // `host` uses them until `run` returns (this frame touches them
            // again only after this block).
            let mut host = unsafe {
                Host::new(
                    machine,
                    space,
                    cache,
                    &mut *self.scratch,
                    &mut *self.stepped,
                    &mut *self.fpu_calls,
                )
            };
            self.engine.run(&mut entry.module, index, slot, &mut host)
        };
        let code = result.ok().and_then(ExitCode::from_u32);
        self.stats.calls += 1;
        if promote {
            self.cache.promote(&key);
        }
        let ctl = {
            let c = machine.slot::<Control>(CONTROL);
            let copy = *c;
            c.links_followed = 0;
            c.links_within = 0;
            copy
        };
        self.stats.links_followed += u64::from(ctl.links_followed);
        self.stats.links_within += u64::from(ctl.links_within);
        // Control may have left through the link table: the module that
        // exited is the one at `ctl.slot`.
        let key = match self.slots.get(ctl.slot as usize).copied().flatten() {
            Some(k) if code.is_some() => k,
            _ => return (0, self.engine_failure(key)),
        };
        if code == Some(ExitCode::Next) && machine.cpu().eip >> 12 == key.vpage {
            self.stats.same_page_exits += 1;
        }
        if let Some(c) = code {
            self.stats.exits[c as usize] += 1;
        }
        if code == Some(ExitCode::Next) {
            let eip = machine.cpu().eip;
            let link = machine.slot::<LinkTable>(LINKS).0[link_index(eip)];
            if link.epoch == ctl.link_epoch && link.eip != eip {
                self.stats.next_collision += 1;
            }
            // A zero in `mods` spares the page-table walk.
            let module = (self.mods[mod_slot(eip >> 12)] != 0)
                .then(|| page_key(machine, space, eip))
                .flatten()
                .and_then(|k| self.cache.peek(&k));
            match module {
                Some(e) if e.index.contains_key(&eip) => self.stats.next_entry += 1,
                Some(_) => self.stats.next_not_entry += 1,
                None => {
                    self.stats.next_no_module += 1;
                    self.exited_to_cold = true;
                }
            }
        }
        let mut left_after = ctl.budget;
        // A slow exit that a reused page lookup took (`Options::reuse_pages`)
        // marks the block index.
        let reuse_miss = ctl.block & REUSE_MISS != 0;
        let block_index = (ctl.block & !REUSE_MISS) as usize;
        // Only these exits need the exiting block's instructions (a slot
        // names a cached module: both are dropped together).
        if matches!(code, Some(ExitCode::Budget | ExitCode::Slow)) {
            let block = (self.cache.peek(&key)).and_then(|e| e.blocks.get(block_index));
            match (code, block) {
                // The block was not charged; it starts over in the
                // interpreter.
                (Some(ExitCode::Budget), Some(b)) => machine.cpu().eip = b[0],
                // The block was charged whole; the instruction at EIP and
                // the rest of the block did not run.
                (Some(ExitCode::Slow), Some(b)) => {
                    let eip = machine.cpu().eip;
                    match b.iter().position(|&e| e == eip) {
                        Some(k) => left_after += (b.len() - k) as i64,
                        None => return (0, self.engine_failure(key)),
                    }
                }
                _ => return (0, self.engine_failure(key)),
            }
        }
        let ran = (budget - left_after).max(0) as u64;
        self.stats.insns_translated += ran;
        if let Some(e) = self.cache.peek_mut(&key).filter(|e| e.first) {
            // A first-tier module exits where it was entered from (it
            // does not link): what it ran is its own. Each call counts
            // [`EXIT_HEAT`] besides: the optimising tier's module would
            // link where this one goes through the executor.
            self.stats.insns_first_tier += ran;
            e.ran += ran + EXIT_HEAT;
            if e.ran >= e.tier_at {
                e.tier_at = u64::MAX;
                self.heat.entry(key).or_default().optimise = true;
                self.stats.tier_ups += 1;
                self.tier_ups.push(key);
            }
        }
        let first_module = self.cache.peek(&key).is_some_and(|e| e.first);
        let mut retranslate = false;
        let what = match code {
            Some(ExitCode::Next | ExitCode::CodeChanged) => Entered::Continue,
            Some(ExitCode::Budget) => Entered::Interpret,
            Some(ExitCode::Syscall) => Entered::Stop(Exit::Syscall),
            Some(ExitCode::Rdtsc) => Entered::Stop(Exit::Rdtsc),
            Some(ExitCode::SingleStep) => Entered::Stop(Exit::SingleStep),
            Some(ExitCode::Exception) => match ctl.exception() {
                Some(e) => Entered::Stop(Exit::Exception(e)),
                None => self.engine_failure(key),
            },
            Some(ExitCode::Slow) => {
                self.stats.slow_exits += 1;
                let now = self.stats.insns_translated + self.stats.insns_interpreted;
                let h = self.heat.entry(key).or_default();
                if reuse_miss {
                    if h.reuse_misses == 0 {
                        h.reuse_misses_since = now;
                    }
                    h.reuse_misses += 1;
                }
                if reuse_miss
                    && h.reuse_misses == REUSE_MISS_LIMIT
                    && now - h.reuse_misses_since
                        >= u64::from(REUSE_MISS_LIMIT) * REUSE_MISS_SPACING
                {
                    // Rare enough to keep (a pointer walking into the
                    // next page now and then): counted afresh.
                    h.reuse_misses = 0;
                } else if reuse_miss && h.reuse_misses == REUSE_MISS_LIMIT {
                    // Accesses that a reused lookup sends to another page
                    // leave every time they run: translated again without
                    // that reuse, as soon as the compiler takes it.
                    h.no_reuse = true;
                    h.new_entries = true;
                    // Counted afresh: a module compiled with the reuse
                    // before this (in flight now) leaves again.
                    h.reuse_misses = 0;
                    self.stats.pages_without_reuse += 1;
                    // Compiled now, not when the page's heat says: a
                    // module that runs from link to link is seldom
                    // interpreted, and one installed from the profile has
                    // no entries of this run (`add_heat` waits for both).
                    h.optimise |= !first_module;
                    retranslate = !h.busy && h.rewrites <= self.config.max_rewrites;
                }
                Entered::Interpret
            }
            Some(ExitCode::Miss) => self.engine_failure(key),
            None => self.engine_failure(key),
        };
        if retranslate {
            self.compile_if_needed(machine, space, cache, key);
        }
        (ran, what)
    }

    /// `eip` starts no block of the page's module: the interpreter runs
    /// from there; an EIP reached by a branch is remembered, and the page
    /// is translated again with it once it is hot again (`settle_heat`).
    ///
    /// The page has a module, so it is hot: the entry is recorded whatever
    /// the page's count, and the miss adds [`MISS_HEAT`] to the count (it
    /// cost an exit from translated code and an entry back, besides the
    /// block interpreted), so a page whose module is missed often is
    /// translated again sooner.
    fn miss(&mut self, key: PageKey, eip: u32, branched: bool) -> Entered {
        if branched {
            self.stats.misses += 1;
            let h = self.heat.entry(key).or_default();
            note_entry(h, eip, 0);
            h.count = h.count.saturating_add(MISS_HEAT);
            h.since_module = h.since_module.saturating_add(MISS_HEAT);
        }
        Entered::Interpret
    }

    /// Translated code trapped or returned nonsense: a translator or engine
    /// bug. The guest state may be torn, so the thread gets #GP (SIGSEGV)
    /// rather than the host panicking, and the page stays interpreted.
    #[cold]
    fn engine_failure(&mut self, key: PageKey) -> Entered {
        self.stats.engine_errors += 1;
        self.drop_module(key);
        self.heat.entry(key).or_default().rewrites = u32::MAX;
        Entered::Stop(Exit::Exception(Exception::GeneralProtection))
    }

    /// Drops decoded blocks and modules of code pages written since the
    /// last call.
    fn drain_changes(
        &mut self,
        machine: &mut Machine,
        space: &mut AddressSpace,
        cache: &mut DecodeCache,
    ) {
        if !space.code_changed() {
            return;
        }
        let pages = space.take_code_changes();
        cache.invalidate_pages(&pages);
        for &p in &pages {
            let frame = machine.frame_of(space, GuestAddr(p << 12)).map(|f| f.0);
            let hit = |k: &PageKey| k.vpage == p || Some(k.frame) == frame;
            let mut stale: Vec<PageKey> = self.cache.iter().map(|(k, _)| *k).filter(hit).collect();
            for k in self.compiling.keys().copied().filter(hit) {
                if !stale.contains(&k) {
                    stale.push(k);
                }
            }
            self.deferred.retain(|d| !hit(&d.pending.key));
            for k in stale {
                self.stats.invalidations += 1;
                // A compile in flight for it is stale when it arrives.
                self.compiling.remove(&k);
                self.drop_module(k);
                let h = self.heat.entry(k).or_default();
                h.rewrites = h.rewrites.saturating_add(1);
                h.count = 0;
                h.early_at = 0;
                h.busy = false;
            }
        }
    }
}

const _: () = assert!(LINK_COUNT <= 1 << 16);

/// Notes that link-table entry `i` was written (see `Jit::link_touched`).
fn note_link(touched: &mut Vec<u16>, marks: &mut [u64], i: usize) {
    let bit = 1u64 << (i % 64);
    if marks[i / 64] & bit == 0 {
        marks[i / 64] |= bit;
        touched.push(i as u16);
    }
}

/// Adds an entry point to a page's record, once the page has run `warm`
/// instructions interpreted: collecting them costs every cold page's
/// blocks a search, more than most of those blocks cost to run.
fn note_entry(h: &mut Heat, eip: u32, warm: u32) {
    if h.count >= warm && h.entries.len() < MAX_ENTRIES && !h.entries.contains(&eip) {
        h.entries.push(eip);
        h.new_entries = true;
    }
}

/// Counts `n` instructions interpreted in a page (and the entry its
/// blocks were reached at, if any). Returns whether the page needs
/// [`Jit::settle_heat`]: the profile is to be consulted, or the page has
/// run the threshold with entries to translate from.
#[inline(always)]
fn add_heat(h: &mut Heat, entry: Option<u32>, n: u64, config: &Config) -> bool {
    if let Some(eip) = entry {
        note_entry(h, eip, h.warm(config));
    }
    let n32 = n.min(u64::from(u32::MAX)) as u32;
    h.count = h.count.saturating_add(n32);
    h.since_module = h.since_module.saturating_add(n32);
    h.recent = h.recent.saturating_add(n32);
    h.total += n;
    (!h.recalled && h.total >= u64::from(config.recall_after))
        || (!h.hinted && h.total >= u64::from(config.profile_after))
        || (!h.remembered && h.total >= u64::from(config.remember_after))
        || (h.count >= h.limit(config)
            && !h.entries.is_empty()
            && h.rewrites <= config.max_rewrites
            && !h.busy
            && !h.queued)
}

/// With `WAX_JIT_TRACE` set, the pages that ran the most instructions
/// interpreted (a measurement aid: what a warm run still interprets).
fn trace_heat(heat: &FastMap<PageKey, Heat>) {
    if std::env::var_os("WAX_JIT_TRACE").is_none() {
        return;
    }
    let mut pages: Vec<(&PageKey, &Heat)> = heat.iter().collect();
    pages.sort_by_key(|(_, h)| std::cmp::Reverse(h.total));
    let all: u64 = pages.iter().map(|(_, h)| h.total).sum();
    let mut sum = 0;
    for (k, h) in pages.iter().take(40) {
        sum += h.total;
        trace(format_args!(
            "interpreted vpage={:x} frame={:x} insns={} (top sum {sum} of {all}) translated={} remembered={}",
            k.vpage, k.frame, h.total, h.translated, h.remembered
        ));
    }
}

fn trace(a: std::fmt::Arguments) {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    if *ON.get_or_init(|| std::env::var_os("WAX_JIT_TRACE").is_some()) {
        eprintln!("jit: {a}");
    }
}

/// The page key of the executable page holding `eip`, if its frame exists.
#[inline]
fn page_key(machine: &mut Machine, space: &AddressSpace, eip: u32) -> Option<PageKey> {
    let a = GuestAddr(eip);
    if !machine.prot_at(space, a)?.contains(Prot::EXEC) {
        return None;
    }
    let frame = machine.frame_of(space, a)?;
    Some(PageKey {
        frame: frame.0,
        vpage: a.page(),
    })
}

/// The bytes of an executable guest page.
fn read_page(machine: &mut Machine, space: &mut AddressSpace, vpage: u32) -> Option<Box<[u8]>> {
    let mut buf = vec![0u8; PAGE_SIZE as usize].into_boxed_slice();
    let (got, _) = machine.mem(space).fetch(GuestAddr(vpage << 12), &mut buf);
    (got == buf.len()).then_some(buf)
}

/// The first bytes of the page after `vpage`, for instructions that
/// straddle into it (the translator bakes them in behind a run-time
/// guard), if that page is executable and has a frame (a file page not
/// read yet is read, as for [`page_key`]); else none, and such
/// instructions are stepped.
fn read_tail(machine: &mut Machine, space: &mut AddressSpace, vpage: u32) -> Vec<u8> {
    if vpage + 1 >= 1 << 20 || page_key(machine, space, (vpage + 1) << 12).is_none() {
        return Vec::new();
    }
    let a = GuestAddr((vpage + 1) << 12);
    let mut buf = vec![0u8; MAX_TAIL];
    let (got, _) = machine.mem(space).fetch(a, &mut buf);
    buf.truncate(got);
    buf
}

impl<E: Engine> Jit<E> {
    /// The `n` mnemonics translated code stepped most, as stats lines.
    fn most_stepped(&self, n: usize) -> Vec<(&'static str, u64)> {
        most(&self.stepped, "stepped", n)
    }
}

/// The `n` mnemonics counted most in `counts`, as stats lines named
/// `what` and the mnemonic.
fn most(counts: &[u64], what: &str, n: usize) -> Vec<(&'static str, u64)> {
    let mut v: Vec<(usize, u64)> = (counts.iter().copied().enumerate())
        .filter(|&(_, c)| c > 0)
        .collect();
    v.sort_by_key(|&(_, c)| std::cmp::Reverse(c));
    let names: Vec<iced_x86::Mnemonic> = iced_x86::Mnemonic::values().collect();
    v.into_iter()
        .take(n)
        .filter_map(|(m, c)| {
            let name = format!("{what} {:?}", names.get(m)?).to_lowercase();
            // Printed once, at exit.
            Some((&*Box::leak(name.into_boxed_str()), c))
        })
        .collect()
}

impl<E: Engine> wax_cpu::Executor for Jit<E> {
    fn run(
        &mut self,
        machine: &mut Machine,
        space: &mut AddressSpace,
        cache: &mut DecodeCache,
        budget: u64,
    ) -> RunResult {
        Jit::run(self, machine, space, cache, budget)
    }

    fn name(&self) -> &'static str {
        "jit"
    }

    fn stats(&self) -> Vec<(&'static str, u64)> {
        let s = &self.stats;
        let mut v = vec![
            ("instructions run translated", s.insns_translated),
            ("pages translated early (profile)", s.pages_from_profile),
            (
                "of which recalled without translating (memo)",
                s.pages_recalled,
            ),
            (
                "pages remembered for later runs (profile)",
                s.pages_remembered,
            ),
            ("instructions run interpreted", s.insns_interpreted),
            ("modules compiled", s.modules_compiled),
            ("wasm bytes compiled", s.wasm_bytes),
            ("compile time (ms)", s.compile_ns / 1_000_000),
            (
                "tiers: modules compiled by the first tier (Winch)",
                s.first_tier_modules,
            ),
            (
                "tiers: of the compile time, first tier (ms)",
                s.first_tier_compile_ns / 1_000_000,
            ),
            (
                "tiers: instructions run in first-tier modules",
                s.insns_first_tier,
            ),
            ("tiers: pages compiled again, optimised", s.tier_ups),
            ("tiers: first-tier compiles failed", s.first_tier_failures),
            ("invalidations", s.invalidations),
            ("address spaces resumed with their checks", s.spaces_resumed),
            ("of which with their links", s.links_resumed),
            ("pages given the module of a twin frame", s.twins_adopted),
            ("page comparisons before use", s.adoption_checks),
            ("page comparisons that failed", s.adoption_failures),
            ("modules evicted", s.evictions),
            ("slow-path exits", s.slow_exits),
            (
                "pages translated again without page reuse",
                s.pages_without_reuse,
            ),
            ("engine errors", s.engine_errors),
            (
                "pages left interpreted (mostly stepped)",
                s.pages_left_interpreted,
            ),
            (
                "pages of shared mappings left interpreted",
                s.shared_pages_left_interpreted,
            ),
            ("calls into translated code", s.calls),
            ("jumps between modules through links", s.links_followed),
            ("of which within the module", s.links_within),
            ("exits to the same page", s.same_page_exits),
            (
                "modules compiled in the background",
                s.compiled_in_background,
            ),
            ("background compiles thrown away", s.compiles_discarded),
            ("exits: next", s.exits[0]),
            ("exits: budget", s.exits[1]),
            ("exits: syscall", s.exits[2]),
            ("exits: exception", s.exits[3]),
            ("exits: code changed", s.exits[4]),
            ("exits: slow path", s.exits[6]),
            ("exits: rdtsc", s.exits[7]),
            ("next exits: link collision", s.next_collision),
            ("next exits: to a block of a module", s.next_entry),
            ("next exits: to a module, not a block", s.next_not_entry),
            ("next exits: to a page without module", s.next_no_module),
        ];
        v.extend(self.engine.stats());
        v.extend(self.most_stepped(12));
        v.extend(most(&self.fpu_calls, "x87 call", 12));
        v
    }
}
