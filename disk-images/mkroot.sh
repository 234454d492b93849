#!/usr/bin/env bash
# mkroot.sh RECIPE OUTDIR — debootstrap a Debian 12 (bookworm) i386 root for RECIPE.
#
# Cached: if OUTDIR/.complete holds the same recipe hash, nothing is done. The
# second stage runs the i386 binaries natively (an amd64 kernel runs them), so
# no qemu/binfmt is needed, but it must run as root. Concurrent callers for the
# same OUTDIR wait for each other (flock).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ $# -eq 2 ] || die "usage: $0 RECIPE OUTDIR"
RECIPE=$1
OUT=$2
load_recipe "$RECIPE"
need_root

if ! command -v debootstrap >/dev/null; then
    say "installing debootstrap"
    apt-get install -y debootstrap >&2 || die "debootstrap missing and apt-get install failed"
fi

SUITE=bookworm
MIRROR=$(debian_mirror)
HASH=$( { cat "$RECIPE_FILE"; echo "$SUITE $MIRROR"; cat "$0"; } | sha256sum | cut -c1-16)

mkdir -p "$(dirname "$OUT")"
exec 9>"$OUT.lock"
flock 9

if [ -f "$OUT/.complete" ] && [ "$(cat "$OUT/.complete")" = "$HASH" ]; then
    say "root $OUT is up to date (recipe $RECIPE, $HASH)"
    exit 0
fi

say "building $SUITE i386 root for recipe '$RECIPE' in $OUT (mirror $MIRROR)"
rm -rf "$OUT"
CACHE="$REPO_ROOT/build/cache/debs"
mkdir -p "$CACHE"
START=$(date +%s)
INCLUDE=$(echo $PACKAGES | tr ' ' ',')
# Per-package "Retrieving/Validating" lines are noise; the stage lines show progress.
if ! debootstrap --arch=i386 --variant="$VARIANT" --include="$INCLUDE" \
    --cache-dir="$CACHE" "$SUITE" "$OUT" "$MIRROR" 2>&1 |
    grep --line-buffered -v -E '^I: (Retrieving|Validating) ' >&2; then
    die "debootstrap failed (see $OUT/debootstrap/debootstrap.log)"
fi

# Every installed Debian system has these names (the installer writes
# /etc/hosts; debootstrap does not): programs and CPython's tests look up
# "localhost". Images get their own host name on top (configure.sh).
printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$OUT/etc/hosts"
# Package lists and downloaded .debs are not needed at run time.
chroot "$OUT" apt-get clean
rm -rf "$OUT"/var/lib/apt/lists/*_Packages "$OUT"/var/log/*.log
echo "$HASH" >"$OUT/.complete"
say "done in $(( $(date +%s) - START ))s: $(du -sh "$OUT" | cut -f1)"
