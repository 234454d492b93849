//! The workloads: one row each, named after the benchmarks CheerpX
//! publishes (fasta, lzma, zlib, primes, box2d, binarytrees, nbody) so the
//! numbers can be set side by side, plus whole Debian programs and
//! start-up times.
//!
//! Every workload's standard output is its checksum: the C workloads print
//! one, the Debian tools print their result (compressed bytes, a digest,
//! sorted lines), which the harness hashes. A run whose output differs
//! from the native run's is a failure, so a wrong result never looks fast.
//!
//! The disk workloads read files of the Debian root: they also run with
//! the root as an ext2 image (the wax-image engine), so the table shows
//! the image against the host directory.

use super::inputs::Input;

/// The groups the table reports a geometric mean for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    Integer,
    FloatingPoint,
    WholePrograms,
    StartUp,
    Disk,
    Network,
    /// Work that is mostly system calls (pipes between processes).
    SystemCalls,
}

impl Group {
    pub const ALL: [Group; 7] = [
        Group::Integer,
        Group::FloatingPoint,
        Group::WholePrograms,
        Group::StartUp,
        Group::Disk,
        Group::Network,
        Group::SystemCalls,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Group::Integer => "integer",
            Group::FloatingPoint => "floating point",
            Group::WholePrograms => "whole programs",
            Group::StartUp => "start-up",
            Group::Disk => "disk",
            Group::Network => "network",
            Group::SystemCalls => "system calls",
        }
    }
}

/// What runs.
#[derive(Clone, Copy, Debug)]
pub enum Program {
    /// `bench/workloads/<source>`, built with `gcc -m32 -static -O2`
    /// (x87 floating point, as Debian builds i386), so every engine runs
    /// it without a root file system.
    Static { source: &'static str },
    /// A program of the Debian i386 root, by its path in the root.
    Debian { path: &'static str },
}

/// The arguments and input of one size of a workload. In `args`,
/// `{input}` stands for the input file's path in the guest.
#[derive(Clone, Copy, Debug)]
pub struct Variant {
    pub args: &'static [&'static str],
    pub input: Option<Input>,
}

#[derive(Clone, Copy, Debug)]
pub struct Workload {
    /// A short name for the table, the JSON file and `--only`.
    pub name: &'static str,
    pub group: Group,
    pub program: Program,
    /// `compare --quick`: sized so the slowest engine takes seconds.
    pub quick: Variant,
    /// The full run quoted in the README.
    pub full: Variant,
    /// Start-up workloads are short and noisy: they run more often.
    pub startup: bool,
}

impl Workload {
    pub fn variant(&self, quick: bool) -> Variant {
        if quick {
            self.quick
        } else {
            self.full
        }
    }

    pub fn needs_root(&self) -> bool {
        matches!(self.program, Program::Debian { .. })
    }

    /// Runs on the root's image too: it reads only files of the root
    /// (no input files, which exist only in the root directory).
    pub fn on_image(&self) -> bool {
        self.group == Group::Disk
    }
}

const fn args(args: &'static [&'static str]) -> Variant {
    Variant { args, input: None }
}

const fn with_input(args: &'static [&'static str], input: Input) -> Variant {
    Variant {
        args,
        input: Some(input),
    }
}

const fn compiled(name: &'static str, group: Group, source: &'static str) -> Workload {
    Workload {
        name,
        group,
        program: Program::Static { source },
        quick: args(&[]),
        full: args(&[]),
        startup: false,
    }
}

const fn debian(name: &'static str, group: Group, path: &'static str) -> Workload {
    Workload {
        name,
        group,
        program: Program::Debian { path },
        quick: args(&[]),
        full: args(&[]),
        startup: false,
    }
}

const fn startup(name: &'static str, path: &'static str, a: &'static [&'static str]) -> Workload {
    Workload {
        quick: args(a),
        full: args(a),
        startup: true,
        ..debian(name, Group::StartUp, path)
    }
}

/// All workloads, in table order.
pub const WORKLOADS: &[Workload] = &[
    Workload {
        quick: args(&["500000"]),
        full: args(&["3000000"]),
        ..compiled("primes", Group::Integer, "primes.c")
    },
    Workload {
        quick: args(&["200000"]),
        full: args(&["2500000"]),
        ..compiled("fasta", Group::Integer, "fasta.c")
    },
    Workload {
        quick: with_input(&["-9", "-c", "{input}"], Input::Text { kib: 256 }),
        full: with_input(&["-9", "-c", "{input}"], Input::Text { kib: 2048 }),
        ..debian("zlib", Group::Integer, "/usr/bin/gzip")
    },
    Workload {
        quick: with_input(&["-9", "-c", "{input}"], Input::Text { kib: 256 }),
        full: with_input(&["-9", "-c", "{input}"], Input::Text { kib: 1024 }),
        ..debian("lzma", Group::Integer, "/usr/bin/xz")
    },
    Workload {
        quick: with_input(&["{input}"], Input::Random { mib: 4 }),
        full: with_input(&["{input}"], Input::Random { mib: 64 }),
        ..debian("sha256sum", Group::Integer, "/usr/bin/sha256sum")
    },
    Workload {
        quick: args(&["100000"]),
        full: args(&["1000000"]),
        ..compiled("nbody", Group::FloatingPoint, "nbody.c")
    },
    Workload {
        quick: args(&["100"]),
        full: args(&["500"]),
        ..compiled("box2d", Group::FloatingPoint, "box2d.c")
    },
    Workload {
        quick: with_input(&["{input}", "11"], Input::Script("binarytrees.py")),
        full: with_input(&["{input}", "14"], Input::Script("binarytrees.py")),
        ..debian("binarytrees", Group::WholePrograms, "/usr/bin/python3")
    },
    Workload {
        quick: with_input(&["--parallel=1", "{input}"], Input::Lines { kib: 1024 }),
        full: with_input(&["--parallel=1", "{input}"], Input::Lines { kib: 8192 }),
        ..debian("sort", Group::WholePrograms, "/usr/bin/sort")
    },
    Workload {
        quick: with_input(&["-O2", "-S", "-o", "-", "{input}"], Input::CSource),
        full: with_input(&["-O2", "-S", "-o", "-", "{input}"], Input::CSource),
        ..debian("gcc", Group::WholePrograms, "/usr/bin/gcc")
    },
    startup("start-true", "/usr/bin/true", &[]),
    startup("start-bash", "/usr/bin/bash", &["-c", ":"]),
    startup("start-python3", "/usr/bin/python3", &["-c", "pass"]),
    // The largest file of the test root (36 MB), read whole.
    Workload {
        quick: args(&[CC1]),
        full: args(&[CC1]),
        ..debian("disk-read", Group::Disk, "/usr/bin/cat")
    },
    // Directory walking and stat: the line count is the same on every
    // file system (sizes and block counts in the listing are not).
    Workload {
        quick: args(&["-c", "ls -lR /usr/include | wc -l"]),
        full: args(&["-c", "ls -lR /usr | wc -l"]),
        ..debian("disk-ls-lR", Group::Disk, "/usr/bin/bash")
    },
    // 100 MB over a TCP connection on 127.0.0.1 between two processes of
    // the guest (under wax run's default --net host: host sockets).
    Workload {
        quick: args(&["16"]),
        full: args(&["100"]),
        ..compiled("net-loopback", Group::Network, "netcopy.c")
    },
    // 100 MB from the guest to a sink of the harness on the host.
    Workload {
        quick: args(&["16", "{sink}"]),
        full: args(&["100", "{sink}"]),
        ..compiled("net-to-host", Group::Network, "netcopy.c")
    },
    // 1 GiB (quick: 128 MiB) from dd to cat through a pipe: read and
    // write on /dev/zero, a pipe and /dev/null, with little guest code.
    // (qemu-i386 does not follow exec: its dd and cat are the host's,
    // run natively, so its column measures bash under qemu only.)
    Workload {
        quick: args(&[
            "-c",
            "dd if=/dev/zero bs=64k count=2k status=none | cat > /dev/null",
        ]),
        full: args(&[
            "-c",
            "dd if=/dev/zero bs=64k count=16k status=none | cat > /dev/null",
        ]),
        ..debian("pipe", Group::SystemCalls, "/usr/bin/bash")
    },
];

const CC1: &str = "/usr/lib/gcc/i686-linux-gnu/12/cc1";

/// The workload called `name`.
pub fn find(name: &str) -> Option<&'static Workload> {
    WORKLOADS.iter().find(|w| w.name == name)
}
