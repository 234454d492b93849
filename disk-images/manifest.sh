#!/usr/bin/env bash
# manifest.sh ROOT IMG RECIPE — print the JSON manifest of IMG built from ROOT:
# size, sha256, block size and every installed package with its version.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
[ $# -eq 3 ] || die "usage: $0 ROOT IMG RECIPE"
ROOT=$1 IMG=$2 RECIPE=$3

SIZE=$(stat -c %s "$IMG")
SHA=$(sha256sum "$IMG" | cut -d' ' -f1)
printf '{\n  "recipe": "%s",\n  "suite": "bookworm",\n  "arch": "i386",\n' "$RECIPE"
printf '  "filesystem": "ext2",\n  "block_size": 4096,\n'
printf '  "image": "%s",\n  "size": %s,\n  "sha256": "%s",\n' "$(basename "$IMG")" "$SIZE" "$SHA"
printf '  "built": "%s",\n  "packages": [\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
dpkg-query --admindir="$ROOT/var/lib/dpkg" -W -f='${db:Status-Abbrev} ${Package} ${Version}\n' |
    awk '$1 == "ii" { printf "%s    {\"name\": \"%s\", \"version\": \"%s\"}", sep, $2, $3; sep = ",\n" }'
printf '\n  ]\n}\n'
