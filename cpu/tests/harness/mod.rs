//! What the three differential harnesses against the host CPU share
//! (`differential.rs`, `x87_differential.rs`, `sse_differential.rs`): the
//! seeded generator, the options read from the environment, building and
//! running the i386 host runner, and counting how many cases differed only
//! in bits the architecture leaves undefined.
//!
//! Options (environment), the same for all three:
//! - `WAX_TEST_SEED`: the generator's seed (decimal or 0x-hex); each
//!   harness has a fixed default, and the default must pass on any host.
//! - `WAX_TEST_CASES`: the number of generated cases per test.
//! - `WAX_TEST_STRICT=1`: also compare what the architecture leaves
//!   undefined (flags, results, the last ulp of x87 transcendentals, the
//!   RCPPS/RSQRTPS tables) against Wax's choices. Only a host that makes
//!   the same choices passes; mismatches are reported as "undefined only".
//! - `WAX_TEST_FORMS`: only cases whose label contains this text.

#![allow(dead_code)]

pub mod rng;

pub use rng::Rng;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Names used before the harnesses shared one naming.
const RENAMED: [(&str, &str); 5] = [
    ("WAX_DIFF_SEED", "WAX_TEST_SEED"),
    ("WAX_DIFF_CASES", "WAX_TEST_CASES"),
    ("WAX_DIFF_FORMS", "WAX_TEST_FORMS"),
    ("SSE_CASES", "WAX_TEST_CASES"),
    ("X87_CASES", "WAX_TEST_CASES"),
];

/// The options of one run.
#[derive(Clone, Debug)]
pub struct Options {
    pub seed: u64,
    pub cases: usize,
    pub strict: bool,
    pub forms: String,
}

fn env_number(name: &str) -> Option<u64> {
    let v = std::env::var(name).ok()?;
    let v = v.trim();
    let parsed = match v.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => v.parse(),
    };
    Some(parsed.unwrap_or_else(|_| panic!("{name}={v} is not a number")))
}

impl Options {
    /// Reads the environment; `seed` and `cases` are the harness's defaults.
    pub fn from_env(seed: u64, cases: usize) -> Options {
        for (old, new) in RENAMED {
            assert!(
                std::env::var_os(old).is_none(),
                "{old} was renamed: set {new} (see cpu/tests/harness/mod.rs)"
            );
        }
        let strict = std::env::var("WAX_TEST_STRICT").is_ok_and(|v| !matches!(v.trim(), "" | "0"));
        Options {
            seed: env_number("WAX_TEST_SEED").unwrap_or(seed),
            cases: env_number("WAX_TEST_CASES").map_or(cases, |n| n as usize),
            strict,
            forms: std::env::var("WAX_TEST_FORMS").unwrap_or_default(),
        }
    }

    /// Whether a case with this label is selected by `WAX_TEST_FORMS`.
    pub fn selects(&self, label: &str) -> bool {
        label.contains(&self.forms)
    }

    /// One line saying how the harness runs, for the test output.
    pub fn describe(&self, name: &str) -> String {
        let mode = if self.strict {
            "strict (undefined bits compared too)"
        } else {
            "masked (undefined bits not compared)"
        };
        let forms = if self.forms.is_empty() {
            String::new()
        } else {
            format!(", forms containing {:?}", self.forms)
        };
        format!(
            "{name}: seed {:#x}, {} cases, {mode}, host {}{forms}",
            self.seed,
            self.cases,
            host_vendor()
        )
    }
}

/// The host CPU's vendor string ("GenuineIntel", "AuthenticAMD", ...).
pub fn host_vendor() -> String {
    #[cfg(target_arch = "x86")]
    use std::arch::x86::__cpuid;
    #[cfg(target_arch = "x86_64")]
    use std::arch::x86_64::__cpuid;
    let r = __cpuid(0);
    let bytes: Vec<u8> = [r.ebx, r.edx, r.ecx]
        .iter()
        .flat_map(|w| w.to_le_bytes())
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Builds `tests/<src>` as a static i386 program with optimisation `opt`
/// ("-O1"); panics with what to install when the host cannot.
pub fn build_runner(src: &str, name: &str, opt: &str) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(src);
    // Tests run in parallel threads: each build gets its own file.
    static BUILDS: AtomicUsize = AtomicUsize::new(0);
    let n = BUILDS.fetch_add(1, Ordering::Relaxed);
    let out = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("wax-{name}-runner-{}-{n}", std::process::id()));
    let result = Command::new("gcc")
        .args(["-m32", "-static", "-no-pie", opt, "-Wall", "-o"])
        .arg(&out)
        .arg(&src)
        .output();
    match result {
        Ok(o) if o.status.success() => out,
        Ok(o) => panic!(
            "building the i386 runner {} failed (needs gcc with -m32 multilib, \
             Debian: gcc-multilib; scripts/setup.sh installs it):\n{}",
            src.display(),
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => panic!("cannot run gcc to build the i386 runner: {e}"),
    }
}

/// Runs the runner with `args`, `input` on stdin, without address
/// randomisation (so a fixed seed gives the same outcome every run);
/// returns stdout. Panics if the runner fails.
pub fn run_runner(runner: &Path, args: &[&str], input: Vec<u8>) -> Vec<u8> {
    let mut child = Command::new("setarch")
        .args(["i386", "--addr-no-randomize"])
        .arg(runner)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the i386 runner");
    let mut stdin = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().expect("runner output");
    let wrote = writer.join().expect("writer thread");
    assert!(
        out.status.success() && wrote.is_ok(),
        "the i386 runner failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// How the cases of one test compared.
#[derive(Debug, Default)]
pub struct Tally {
    pub cases: usize,
    /// Equal in every bit.
    pub exact: usize,
    /// Different only in undefined bits (a pass unless strict).
    pub undefined_only: usize,
    /// Different in defined bits.
    pub defined: usize,
    /// Bits that differed and were undefined, over all cases.
    pub masked_bits: u64,
}

impl Tally {
    /// Counts one case: `strict_diff` says whether any bit differs,
    /// `defined_diff` whether a defined bit does, `masked_bits` how many
    /// undefined bits differed.
    pub fn add(&mut self, strict_diff: bool, defined_diff: bool, masked_bits: u32) {
        self.cases += 1;
        if !strict_diff {
            self.exact += 1;
        } else if defined_diff {
            self.defined += 1;
        } else {
            self.undefined_only += 1;
        }
        self.masked_bits += u64::from(masked_bits);
    }

    /// Cases that fail in this mode.
    pub fn failed(&self, opts: &Options) -> usize {
        if opts.strict {
            self.defined + self.undefined_only
        } else {
            self.defined
        }
    }

    pub fn summary(&self) -> String {
        format!(
            "{} cases: {} identical, {} differ only in undefined bits ({} bits), {} differ in defined bits",
            self.cases, self.exact, self.undefined_only, self.masked_bits, self.defined
        )
    }
}
