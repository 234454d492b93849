#!/usr/bin/env bash
# The 32-bit checks: what `cargo check` on a 64-bit host cannot see.
#
#  1. The release build of wax-web for wasm32-unknown-unknown: a linked
#     module (the overflow lint on `1 << 32` as a 32-bit usize, for one,
#     fires only when code is generated). scripts/test-web.sh runs that
#     module in Node and in Chromium.
#  2. The unit tests of the CPU, the kernel and the devices compiled for
#     wasm32-wasip1 and run under Node's WASI (scripts/wasi-run.mjs, set as
#     that target's runner in .cargo/config.toml), where usize is 32 bits.
#     wasm32 aborts on panic, so the first failing test ends its binary;
#     --nocapture keeps its panic message in the log. The kernel's
#     `selftest` runs a whole i386 program there.
#
# Needs the rust targets wasm32-unknown-unknown and wasm32-wasip1 and
# node >= 20 (scripts/setup.sh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '\n==> %s\n' "$*"; }

step "cargo build --release --target wasm32-unknown-unknown -p wax-web"
cargo build --release --target wasm32-unknown-unknown -p wax-web

step "cargo test --release --lib --target wasm32-wasip1 -p wax-cpu -p wax-kernel -p wax-devices"
cargo test --release --lib --target wasm32-wasip1 -p wax-cpu -p wax-kernel -p wax-devices \
	--no-fail-fast -- --nocapture
