//! `wax-bench`: the side-by-side comparison of Wax with native execution
//! and qemu-i386 (`compare`). The criterion benches live in `benches/`.

mod compare;

use clap::{Parser, Subcommand};
use compare::{Engine, Metric, Options};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "wax-bench", about = "Wax benchmarks")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the workloads natively, under qemu-i386 and under Wax; print a
    /// markdown table of median times and ratios and write a JSON file.
    Compare(CompareArgs),
}

#[derive(clap::Args)]
struct CompareArgs {
    /// Small sizes and fewer runs: a few minutes in all.
    #[arg(long)]
    quick: bool,
    /// Exit non-zero unless every workload gives the native checksum under
    /// every engine (known failures excepted). Asserts no time.
    #[arg(long)]
    check: bool,
    /// Only these workloads (repeatable).
    #[arg(long, value_name = "NAME")]
    only: Vec<String>,
    /// Only these engines (repeatable): native, qemu-i386, wax-interp,
    /// wax-jit, wax-jit-warm, wax-image.
    #[arg(long, value_name = "ENGINE", value_parser = parse_engine)]
    engine: Vec<Engine>,
    /// The Debian i386 root [default: build/roots/test].
    #[arg(long)]
    root: Option<PathBuf>,
    /// Use this wax binary instead of building target/release/wax.
    #[arg(long)]
    wax: Option<PathBuf>,
    /// Timed runs per workload and engine [default: 3; four times as many
    /// for start-up].
    #[arg(long)]
    runs: Option<usize>,
    /// Where to write the JSON [default: target/wax-bench/compare-MODE.json].
    #[arg(long)]
    json: Option<PathBuf>,
    /// What the table compares: wall-clock time, or CPU time (user +
    /// system; steadier on a busy machine). The JSON has both.
    #[arg(long, default_value = "wall", value_parser = parse_metric)]
    metric: Metric,
}

fn parse_metric(s: &str) -> Result<Metric, String> {
    match s {
        "wall" => Ok(Metric::Wall),
        "cpu" => Ok(Metric::Cpu),
        _ => Err(format!("unknown metric {s:?} (wall or cpu)")),
    }
}

fn parse_engine(s: &str) -> Result<Engine, String> {
    Engine::from_name(s).ok_or_else(|| format!("unknown engine {s:?}"))
}

fn main() -> ExitCode {
    let Cmd::Compare(a) = Cli::parse().command;
    let mut engines = if a.engine.is_empty() {
        Engine::ALL.to_vec()
    } else {
        a.engine
    };
    // Native is the reference every checksum and ratio is taken against.
    if !engines.contains(&Engine::Native) {
        engines.insert(0, Engine::Native);
    }
    compare::compare(&Options {
        quick: a.quick,
        check: a.check,
        only: a.only,
        engines,
        root: a.root,
        wax: a.wax,
        runs: a.runs,
        json: a.json,
        metric: a.metric,
    })
}
