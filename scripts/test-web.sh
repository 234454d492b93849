#!/usr/bin/env bash
# The browser app's tests:
#   - unit tests under Node (web/tests/*.test.mjs): the IndexedDB overlay's
#     atomic flush (fake-indexeddb), the boot prefetch plan, the Node
#     runner (web/node/wax.mjs) against build/images/default.img, with
#     programs run under the interpreter and under the JIT (V8) that must
#     agree;
#   - the end-to-end test (web/tests/browser.mjs): headless Chromium
#     against `wax serve` (screenshot in target/web-test/terminal.png), then
#     again against a static export (`wax serve --export`, served as is);
#     its last step boots with ?engine=jit.
# Builds what it needs first (scripts/build-web.sh, the release wax binary).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
target_dir=${CARGO_TARGET_DIR:-$repo/target}
out="$repo/target/web-test"
mkdir -p "$out"

step() { printf '\n==> %s\n' "$*"; }

step "build"
"$repo/scripts/build-web.sh"
# --workspace: the features of scripts/test.sh's build, so nothing is rebuilt.
cargo build --release --workspace --bin wax

step "node --test web/tests/"
node --test web/tests/

step "browser test against wax serve"
node web/tests/browser.mjs --out "$out"

step "browser test against a static export"
site="$out/site"
rm -rf "$site"
trap 'rm -rf "$site"' EXIT
"$target_dir/release/wax" serve --app web/dist --image build/images/default.img --export "$site"
node web/tests/browser.mjs --site "$site" --out "$out/export"
