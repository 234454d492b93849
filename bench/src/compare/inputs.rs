//! Input files of the workloads, generated deterministically (the same
//! bytes on every machine, so sizes and checksums are comparable between
//! runs) into a directory inside the guest root. Every engine runs the
//! Debian workloads with that directory as the working directory and names
//! inputs relatively, so outputs that echo a file name (sha256sum) are the
//! same everywhere.

use std::io::{self, Write};
use std::path::Path;

/// The guest path of the input directory. Not under /tmp, which Wax
/// mounts as an in-memory tmpfs.
pub const GUEST_DIR: &str = "/var/tmp/wax-bench";

/// One input file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input {
    /// English-like text (compressible like prose): for gzip and xz.
    Text { kib: u32 },
    /// Incompressible bytes: for sha256sum.
    Random { mib: u32 },
    /// Unsorted lines of words and numbers: for sort.
    Lines { kib: u32 },
    /// A 1,000-line C file: for gcc.
    CSource,
    /// A file of `bench/workloads/`, copied as it is.
    Script(&'static str),
}

impl Input {
    /// The file's name in the input directory.
    pub fn file_name(self) -> String {
        match self {
            Input::Text { kib } => format!("text-{kib}k.txt"),
            Input::Random { mib } => format!("random-{mib}m.bin"),
            Input::Lines { kib } => format!("lines-{kib}k.txt"),
            Input::CSource => "gcc-input.c".into(),
            Input::Script(name) => name.into(),
        }
    }

    /// Writes the file into `dir` unless an up-to-date copy is there.
    pub fn prepare(self, dir: &Path, workloads: &Path) -> io::Result<()> {
        let path = dir.join(self.file_name());
        let data = match self {
            Input::Script(name) => std::fs::read(workloads.join(name))?,
            _ => self.generate(),
        };
        if std::fs::read(&path).is_ok_and(|old| old == data) {
            return Ok(());
        }
        std::fs::File::create(&path)?.write_all(&data)
    }

    fn generate(self) -> Vec<u8> {
        let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
        match self {
            Input::Text { kib } => text(&mut rng, kib as usize * 1024),
            Input::Random { mib } => (0..mib as usize * (1 << 20)).map(|_| rng.byte()).collect(),
            Input::Lines { kib } => lines(&mut rng, kib as usize * 1024),
            Input::CSource => c_source().into_bytes(),
            Input::Script(_) => unreachable!("scripts are copied, not generated"),
        }
    }
}

/// xorshift64: fast, deterministic, good enough for test data.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn byte(&mut self) -> u8 {
        (self.next() >> 32) as u8
    }

    /// A number below `n`, skewed towards small values (word frequencies
    /// in text fall off roughly like this).
    fn skewed(&mut self, n: usize) -> usize {
        let a = (self.next() >> 40) as usize % n;
        let b = (self.next() >> 40) as usize % n;
        a * b / n
    }
}

const WORDS: &[&str] = &[
    "the",
    "of",
    "and",
    "to",
    "in",
    "a",
    "is",
    "that",
    "for",
    "it",
    "as",
    "was",
    "with",
    "be",
    "by",
    "on",
    "not",
    "he",
    "this",
    "are",
    "or",
    "his",
    "from",
    "at",
    "which",
    "but",
    "have",
    "an",
    "had",
    "they",
    "you",
    "were",
    "their",
    "one",
    "all",
    "we",
    "can",
    "her",
    "has",
    "there",
    "been",
    "if",
    "more",
    "when",
    "will",
    "would",
    "who",
    "so",
    "no",
    "machine",
    "program",
    "memory",
    "page",
    "table",
    "register",
    "instruction",
    "kernel",
    "process",
    "signal",
    "thread",
    "file",
    "system",
    "block",
    "cache",
    "virtual",
    "address",
    "segment",
    "interpreter",
    "translation",
    "browser",
    "module",
    "function",
    "value",
    "result",
    "benchmark",
    "native",
    "emulator",
    "compiler",
    "library",
    "binary",
    "archive",
];

/// Sentences of words from [`WORDS`], wrapped at about 72 columns.
fn text(rng: &mut XorShift, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 16);
    let mut column = 0;
    while out.len() < len {
        let word = WORDS[rng.skewed(WORDS.len())];
        out.extend_from_slice(word.as_bytes());
        column += word.len() + 1;
        let end = if rng.next().is_multiple_of(11) {
            ". "
        } else {
            " "
        };
        if column > 72 {
            out.push(b'\n');
            column = 0;
        } else {
            out.extend_from_slice(end.as_bytes());
        }
    }
    out.truncate(len);
    out
}

/// "word number word\n" lines in random order.
fn lines(rng: &mut XorShift, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 64);
    while out.len() < len {
        let a = WORDS[(rng.next() % WORDS.len() as u64) as usize];
        let b = WORDS[(rng.next() % WORDS.len() as u64) as usize];
        let n = rng.next() % 1_000_000;
        writeln!(out, "{a} {n} {b}").expect("writing to a Vec cannot fail");
    }
    out.truncate(len);
    if out.last() != Some(&b'\n') {
        out.push(b'\n');
    }
    out
}

/// One function of [`c_source`]: loops, a switch, struct accesses and a
/// call to the previous function, about 25 lines.
fn c_function(i: usize) -> String {
    let prev = if i == 0 {
        "0".to_string()
    } else {
        format!("f{}(s, n - 1)", i - 1)
    };
    format!(
        "static int f{i}(struct state *s, int n)
{{
	int acc = {i};
	if (n <= 0)
		return acc;
	for (int j = 0; j < s->len; j++) {{
		switch ((s->data[j] + {i}) & 3) {{
		case 0:
			acc += s->data[j] * {m};
			break;
		case 1:
			acc ^= s->data[j] << (j & 7);
			break;
		case 2:
			acc -= (int)strlen(s->name) + j;
			break;
		default:
			s->data[j] = acc / (j + 1);
		}}
	}}
	if (acc & 1)
		snprintf(s->name, sizeof s->name, \"f{i}-%d\", acc);
	return acc + {prev};
}}

",
        m = i * 7 + 3
    )
}

/// A C file of 1,000 lines (headers excluded) for the gcc workload.
fn c_source() -> String {
    let mut s = String::from(
        "/* Generated by wax-bench: input of the gcc workload. */
#include <stdio.h>
#include <string.h>

struct state {
	int len;
	int data[64];
	char name[32];
};

",
    );
    let functions = 39;
    for i in 0..functions {
        s.push_str(&c_function(i));
    }
    s.push_str(&format!(
        "int main(void)
{{
	struct state s = {{ .len = 64 }};
	for (int i = 0; i < s.len; i++)
		s.data[i] = i * 37;
	strcpy(s.name, \"start\");
	printf(\"%d %s\\n\", f{}(&s, {functions}), s.name);
	return 0;
}}
",
        functions - 1
    ));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_source_has_about_a_thousand_lines() {
        let n = c_source().lines().count();
        assert!((990..=1010).contains(&n), "{n} lines");
    }

    #[test]
    fn generated_inputs_have_their_size() {
        assert_eq!(Input::Text { kib: 3 }.generate().len(), 3072);
        assert_eq!(Input::Random { mib: 1 }.generate().len(), 1 << 20);
        let lines = Input::Lines { kib: 2 }.generate();
        assert!(lines.len() >= 2048 && lines.ends_with(b"\n"));
    }

    #[test]
    fn generation_is_deterministic() {
        let a = Input::Text { kib: 8 }.generate();
        assert_eq!(a, Input::Text { kib: 8 }.generate());
        assert_ne!(a, vec![a[0]; a.len()]);
    }
}
