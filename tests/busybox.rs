//! Debian's static i386 busybox (fetched by scripts/setup.sh into
//! build/busybox/bin/busybox) runs natively, under `wax run` and under
//! Node's V8 (`node web/node/wax.mjs run`, the wasm32 build, with the
//! input files copied in; `ls -l` of a host directory under `wax run`
//! only); the non-forking applets must produce identical
//! stdout and exit status on deterministic inputs that the test generates.

mod common;

use std::fs::{self, File, FileTimes};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use common::{assert_same, assert_same_everywhere, repo_root, Compare, Invocation, TempDir};

fn busybox() -> PathBuf {
    let path = repo_root().join("build/busybox/bin/busybox");
    assert!(
        path.is_file(),
        "{} is missing: run scripts/setup.sh to fetch Debian's static i386 busybox",
        path.display()
    );
    path
}

fn bb(args: &[&str]) -> Invocation {
    Invocation::new(busybox()).args(args.iter().copied())
}

fn same(what: &str, inv: Invocation) {
    assert_same_everywhere(what, &inv, Compare::StdoutAndStatus);
}

fn same_with_stderr(what: &str, inv: Invocation) {
    assert_same_everywhere(what, &inv, Compare::StdoutStderrAndStatus);
}

/// A small deterministic generator (64-bit LCG), so inputs are the same on
/// every run without storing them in the repository.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u32 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) as u32
    }

    fn below(&mut self, n: u32) -> u32 {
        self.next() % n
    }
}

const SYLLABLES: &[&str] = &[
    "ka", "lo", "mi", "ne", "ru", "sa", "te", "vo", "xi", "ze", "ba", "do", "fu", "gi", "ha", "ju",
    "qu", "wa", "yo", "pe",
];

/// Lines of pseudo-random words and numbers, about `bytes` long.
fn text(seed: u64, bytes: usize) -> String {
    let mut rng = Lcg(seed);
    let mut out = String::with_capacity(bytes + 100);
    while out.len() < bytes {
        let words = 1 + rng.below(12);
        for w in 0..words {
            if w > 0 {
                out.push(if rng.below(10) == 0 { '\t' } else { ' ' });
            }
            if rng.below(8) == 0 {
                out.push_str(&rng.below(100_000).to_string());
                continue;
            }
            for _ in 0..1 + rng.below(4) {
                out.push_str(SYLLABLES[rng.below(SYLLABLES.len() as u32) as usize]);
            }
        }
        out.push('\n');
    }
    out
}

/// Input files shared by the tests: `text.txt` (2 MB), `mid.txt` (512 KB),
/// `small.txt` (64 KB), `numbers.txt`, `sorted.txt` (with runs of
/// duplicates) and `binary.bin` (16 KB of all byte values).
struct Inputs {
    dir: TempDir,
}

impl Inputs {
    fn new(label: &str) -> Inputs {
        let dir = TempDir::new(label);
        let write = |name: &str, data: &[u8]| fs::write(dir.path().join(name), data).unwrap();
        write("text.txt", text(1, 2 << 20).as_bytes());
        write("mid.txt", text(2, 512 << 10).as_bytes());
        write("small.txt", text(3, 64 << 10).as_bytes());
        let mut rng = Lcg(4);
        let numbers: String = (0..20_000)
            .map(|_| format!("{}\n", rng.below(2_000_000) as i64 - 1_000_000))
            .collect();
        write("numbers.txt", numbers.as_bytes());
        let mut lines: Vec<String> = text(5, 128 << 10)
            .lines()
            .map(|l| l.chars().take(6).collect())
            .collect();
        lines.sort();
        write("sorted.txt", (lines.join("\n") + "\n").as_bytes());
        let binary: Vec<u8> = (0..16384u32).map(|i| (i * 37 + i / 256) as u8).collect();
        write("binary.bin", &binary);
        Inputs { dir }
    }

    /// The path of input `name`, as an argument (paths here are UTF-8).
    fn file(&self, name: &str) -> String {
        self.dir.path().join(name).to_str().unwrap().to_string()
    }

    fn read(&self, name: &str) -> Vec<u8> {
        fs::read(self.file(name)).unwrap()
    }
}

#[test]
fn echo() {
    same("echo", bb(&["echo", "hello", "from", "busybox"]));
}

#[test]
fn true_and_false() {
    same("true", bb(&["true"]));
    same("false", bb(&["false"]));
}

#[test]
fn cat_of_a_missing_file() {
    let dir = TempDir::new("bb-cat");
    let missing = dir.path().join("no-such-file");
    same_with_stderr("cat missing", bb(&["cat", utf8(&missing)]));
}

#[test]
fn checksums() {
    let inp = Inputs::new("bb-sum");
    let text = inp.file("text.txt");
    same("sha256sum", bb(&["sha256sum", &text]));
    same("md5sum", bb(&["md5sum", &text]));
    same(
        "sha256sum stdin",
        bb(&["sha256sum"]).stdin(inp.read("mid.txt")),
    );
}

#[test]
fn wc() {
    let inp = Inputs::new("bb-wc");
    same("wc", bb(&["wc", &inp.file("text.txt")]));
    same("wc -l stdin", bb(&["wc", "-l"]).stdin(inp.read("mid.txt")));
}

#[test]
fn sort() {
    let inp = Inputs::new("bb-sort");
    same("sort", bb(&["sort", &inp.file("text.txt")]));
    same(
        "sort -n -r",
        bb(&["sort", "-n", "-r", &inp.file("numbers.txt")]),
    );
    same(
        "sort -u stdin",
        bb(&["sort", "-u"]).stdin(inp.read("sorted.txt")),
    );
}

#[test]
fn awk() {
    let inp = Inputs::new("bb-awk");
    let program = r#"{ words += NF; chars += length($0); count[$1]++ }
        END { n = 0; for (k in count) n++; printf "%d lines %d words %d chars %d firsts\n", NR, words, chars, n }"#;
    same("awk totals", bb(&["awk", program, &inp.file("mid.txt")]));
    let program = r#"BEGIN { for (i = 1; i <= 2000; i++) s += i * i; printf "%d %x %s %s\n", s, 255, substr("hello", 2, 3), toupper("abc") }"#;
    same("awk BEGIN", bb(&["awk", program]));
}

#[test]
fn sed() {
    let inp = Inputs::new("bb-sed");
    let small = inp.file("small.txt");
    for script in [
        r"s/\(ka\)\(lo\)/<\2\1>/g",
        "100,200p",
        "/^[0-9]/d",
        "y/abc/xyz/",
    ] {
        let quiet = if script.ends_with('p') { "-n" } else { "-e" };
        same(
            &format!("sed {script}"),
            bb(&["sed", quiet, script, &small]),
        );
    }
}

#[test]
fn grep() {
    let inp = Inputs::new("bb-grep");
    let text = inp.file("text.txt");
    let patterns: [&[&str]; 5] = [
        &["-c", "kalo"],
        &["-n", "-i", "QUZE"],
        &["-v", "-c", "a"],
        &["-E", "^(ba|do)[a-z]+ [0-9]+$"],
        &["-c", "no-such-word"], // no match: exit status 1
    ];
    for args in patterns {
        let full: Vec<&str> = ["grep"]
            .iter()
            .chain(args)
            .chain([&text.as_str()])
            .copied()
            .collect();
        same(&format!("grep {args:?}"), bb(&full));
    }
}

#[test]
fn od() {
    let inp = Inputs::new("bb-od");
    same(
        "od -t x2",
        bb(&["od", "-A", "x", "-t", "x2", &inp.file("binary.bin")]),
    );
    same(
        "od -c",
        bb(&["od", "-c"]).stdin(&inp.read("small.txt")[..4096]),
    );
}

#[test]
fn expr() {
    same("expr mul", bb(&["expr", "12345", "*", "6789"]));
    same("expr div", bb(&["expr", "-100", "/", "7"]));
    same("expr length", bb(&["expr", "length", "hello world"]));
    same("expr match", bb(&["expr", "abcdef", ":", "abc\\(.*\\)"]));
    same("expr false", bb(&["expr", "5", "<", "3"]));
    same_with_stderr("expr syntax error", bb(&["expr", "1", "+"]));
}

#[test]
fn printf() {
    same(
        "printf",
        bb(&[
            "printf",
            "%05d|%-6s|%x|%o|%c|%%|%s\n",
            "42",
            "ab",
            "255",
            "8",
            "zed",
            "tail",
        ]),
    );
}

#[test]
fn tr() {
    let inp = Inputs::new("bb-tr");
    let mid = inp.read("mid.txt");
    same("tr a-z A-Z", bb(&["tr", "a-z", "A-Z"]).stdin(mid.clone()));
    same("tr -d", bb(&["tr", "-d", "aeiou0-9"]).stdin(mid.clone()));
    same("tr -s", bb(&["tr", "-s", "a-z "]).stdin(mid));
}

#[test]
fn gzip() {
    let inp = Inputs::new("bb-gzip");
    let mid = inp.file("mid.txt");
    same("gzip -c", bb(&["gzip", "-c", &mid]));
    same(
        "gzip -1 stdin",
        bb(&["gzip", "-1"]).stdin(inp.read("small.txt")),
    );
    let gz = compressed(&inp, "gzip", "mid.txt.gz");
    same("gzip -dc", bb(&["gzip", "-dc", &gz]));
}

#[test]
fn bzip2() {
    let inp = Inputs::new("bb-bzip2");
    same("bzip2 -c", bb(&["bzip2", "-c", &inp.file("mid.txt")]));
    let bz = compressed(&inp, "bzip2", "mid.txt.bz2");
    same("bzip2 -dc", bb(&["bzip2", "-dc", &bz]));
}

/// Compresses mid.txt natively with `applet` into `name`.
fn compressed(inp: &Inputs, applet: &str, name: &str) -> String {
    let mid = inp.file("mid.txt");
    let run = bb(&[applet, "-c", &mid]).run_native();
    assert_eq!(run.status.shell_code(), Some(0), "native {applet} failed");
    let path = inp.file(name);
    fs::write(&path, run.stdout).unwrap();
    path
}

#[test]
fn cut() {
    let inp = Inputs::new("bb-cut");
    let text = inp.file("text.txt");
    same("cut -d -f", bb(&["cut", "-d", " ", "-f", "2,4-", &text]));
    same("cut -c", bb(&["cut", "-c", "3-10", &text]));
}

#[test]
fn uniq() {
    let inp = Inputs::new("bb-uniq");
    let sorted = inp.file("sorted.txt");
    same("uniq -c", bb(&["uniq", "-c", &sorted]));
    same("uniq -d", bb(&["uniq", "-d", &sorted]));
}

fn utf8(path: &Path) -> &str {
    path.to_str().expect("test paths are UTF-8")
}

/// 2001-02-03 04:05:06 UTC: old enough that `ls -l` shows the year.
fn fixed_time() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(981_173_106)
}

fn touch(path: &Path) {
    let t = FileTimes::new()
        .set_accessed(fixed_time())
        .set_modified(fixed_time());
    File::open(path).unwrap().set_times(t).unwrap();
}

#[test]
fn ls_long() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new("bb-ls");
    let top = dir.path().join("listing");
    fs::create_dir_all(top.join("subdir")).unwrap();
    for (name, size, mode) in [
        ("empty", 0, 0o644),
        ("script.sh", 100, 0o755),
        ("big.dat", 123_456, 0o600),
        ("zz", 7, 0o444),
    ] {
        let path = top.join(name);
        fs::write(&path, vec![b'x'; size]).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
        touch(&path);
    }
    touch(&top.join("subdir"));
    touch(&top);
    // Under `wax run` only: the listing shows the host directory's owner,
    // times and block counts, which a copy into Node's image cannot keep.
    assert_same(
        "ls -l",
        &bb(&["ls", "-l", utf8(&top)]),
        Compare::StdoutAndStatus,
    );
    assert_same(
        "ls -la",
        &bb(&["ls", "-la", utf8(&top)]),
        Compare::StdoutAndStatus,
    );
}
