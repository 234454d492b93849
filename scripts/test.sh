#!/usr/bin/env bash
# Everything CI checks, in the order that fails fastest: formatting, lints,
# the wasm32 build of the crates the browser uses, then every test of the
# workspace in release mode (the whole-program and differential tests run
# guest code in the interpreter, which is slow in debug builds). Every test
# binary runs even after a failure (--no-fail-fast), so one CI log shows all
# failures.
#
# Needs what scripts/setup.sh installs (gcc-multilib, the wasm32-unknown-unknown
# and wasm32-wasip1 targets, build/busybox/bin/busybox) and node 20.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '\n==> %s (%s UTC)\n' "$*" "$(date -u +%H:%M:%S)"; }

step "cargo fmt --all --check"
cargo fmt --all --check

step "cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings

step "scripts/test-wasm.sh (wasm32 build of wax-web; cpu, kernel, devices unit tests under Node's WASI)"
scripts/test-wasm.sh

# The program suites' runs under Node's V8 (`Invocation::run_node`) wait
# for the JIT step below, which runs them with V8's translation at work.
step "cargo test --workspace --release --no-fail-fast (WAX_TEST_NODE=0)"
WAX_TEST_NODE=0 cargo test --workspace --release --no-fail-fast

# The whole-program suites again with the JIT translating a page after
# 2000 interpreted instructions (millions by default), so the programs'
# work runs mostly as wasm and must still match native exactly, under
# wasmtime (`wax run`) and under Node's V8 (the runner takes the same
# variables). (The Debian corpus has its own JIT test in tests/corpus.rs,
# and runs under Node in tests/disk_corpus.rs.)
# `--workspace` keeps the feature set of the build above (wax-web turns on
# wax-jit's `js`, the jit's dev-dependencies wasmparser's `validate`), so
# these binaries are the ones already built rather than a second build of
# wasmtime and everything above it (3.5 minutes of a CI run).
step "whole-program suites under the JIT (WAX_ENGINE=jit WAX_JIT_THRESHOLD=2000)"
WAX_ENGINE=jit WAX_JIT_THRESHOLD=2000 WAX_CODE_CACHE=off cargo test --workspace --release --no-fail-fast \
    --test programs --test fp_programs --test fp_variants --test busybox --test userland_programs

step "scripts/test-web.sh (Node unit tests, the Node runner, headless Chromium against wax serve and an export)"
scripts/test-web.sh

# A benchmark, not a test: it asserts no time, only that every workload
# gives the native checksum under every engine (bench/src/compare/known.rs
# lists the known gaps). Without a Debian root only the compiled workloads run.
step "cargo run --release -p wax-bench -- compare --quick --check"
cargo run --release -p wax-bench -- compare --quick --check
