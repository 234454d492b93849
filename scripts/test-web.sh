#!/usr/bin/env bash
# The browser app's tests:
#   - unit tests under Node (web/tests/*.test.mjs): the IndexedDB overlay's
#     atomic flush (fake-indexeddb), the Node runner (web/node/wax.mjs)
#     against build/images/default.img;
#   - the end-to-end test (web/tests/browser.mjs): headless Chromium
#     against `wax serve`, screenshot in target/web-test/terminal.png.
# Builds what it needs first (scripts/build-web.sh, the release wax binary).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

"$repo/scripts/build-web.sh"
cargo build --release --bin wax
node --test web/tests/
node web/tests/browser.mjs --out "$repo/target/web-test"
