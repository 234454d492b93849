#!/usr/bin/env bash
# Builds the browser app (and the Node runner's wasm) into web/dist:
#   1. the wax-web crate for wasm32-unknown-unknown (release);
#   2. wasm-bindgen (the CLI pinned to the crate's exact version) writes
#      the module and its JS glue to web/dist/pkg;
#   3. esbuild (npm, web/package-lock.json) bundles the page, the
#      embedding API and the Worker, with xterm.js, into web/dist.
# Needs what scripts/setup.sh installs (wasm-bindgen-cli, node_modules);
# installs either if missing. `wax serve` then serves web/dist.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
web="$repo/web"
bindgen_version=0.2.130
target_dir=${CARGO_TARGET_DIR:-$repo/target}

say() { printf '==> %s\n' "$*"; }

if ! wasm-bindgen --version 2>/dev/null | grep -q " $bindgen_version\$"; then
	say "cargo install wasm-bindgen-cli $bindgen_version (a few minutes, once)"
	cargo install wasm-bindgen-cli --version "$bindgen_version"
fi
if [ ! -d "$web/node_modules/esbuild" ]; then
	say "npm ci (web/)"
	(cd "$web" && npm ci --no-audit --no-fund)
fi

say "cargo build --release --target wasm32-unknown-unknown -p wax-web"
cargo build --release --target wasm32-unknown-unknown -p wax-web --manifest-path "$repo/Cargo.toml"

say "wasm-bindgen → web/dist/pkg"
rm -rf "$web/dist"
mkdir -p "$web/dist/pkg"
wasm-bindgen --target web --no-typescript --out-dir "$web/dist/pkg" \
	"$target_dir/wasm32-unknown-unknown/release/wax_web.wasm"

say "esbuild → web/dist"
node "$web/build.mjs"
say "built $(du -sh "$web/dist" | cut -f1) in web/dist; serve it with: cargo run --release -- serve"
