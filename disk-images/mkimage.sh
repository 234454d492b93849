#!/usr/bin/env bash
# mkimage.sh RECIPE OUT.img — build an ext2 (4 KiB blocks) image for RECIPE.
#
# Steps: debootstrap the root (mkroot.sh, cached in build/roots/RECIPE), copy it
# to a staging directory, configure it (hostname, users, prompt, locale,
# welcome message), then `mke2fs -t ext2 -b 4096 -d`. Writes OUT.img and
# OUT.img.manifest.json (size, sha256, installed packages). The cached root
# stays unconfigured so native chroot runs see exactly what debootstrap made.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ $# -eq 2 ] || die "usage: $0 RECIPE OUT.img"
RECIPE=$1
IMG=$2
load_recipe "$RECIPE"
need_root
START=$(date +%s)

ROOT="$REPO_ROOT/build/roots/$RECIPE"
"$REPO_ROOT/disk-images/mkroot.sh" "$RECIPE" "$ROOT"

mkdir -p "$(dirname "$IMG")"
STAGE=$(mktemp -d "$(dirname "$IMG")/.stage-$RECIPE.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT
say "staging a copy of $ROOT"
cp -a "$ROOT/." "$STAGE/"
rm -f "$STAGE/.complete"

say "configuring (hostname $HOSTNAME, users root and user, C.UTF-8)"
"$REPO_ROOT/disk-images/configure.sh" "$STAGE" "$HOSTNAME" "$RECIPE" "$PACKAGES"

# Size: used space plus the recipe's slack, rounded to 64 MiB, with one inode
# per 8 KiB because a Debian root is mostly small files.
USED_MB=$(du -sm "$STAGE" | cut -f1)
SIZE_MB=$(( (USED_MB * 11 / 10 + IMAGE_SLACK_MB + 63) / 64 * 64 ))
say "writing $IMG: ${SIZE_MB} MiB ext2 for ${USED_MB} MiB of files"
rm -f "$IMG"
mke2fs -q -F -t ext2 -b 4096 -i 8192 -m 1 -L "wax-$RECIPE" -d "$STAGE" "$IMG" "${SIZE_MB}M"
fsck_out=$(e2fsck -fn "$IMG" 2>&1) || die "e2fsck found problems in the fresh image $IMG:
$fsck_out"

say "writing manifest"
"$REPO_ROOT/disk-images/manifest.sh" "$STAGE" "$IMG" "$RECIPE" >"$IMG.manifest.json"
say "done in $(( $(date +%s) - START ))s: $IMG ($(du -h --apparent-size "$IMG" | cut -f1), $(du -h "$IMG" | cut -f1) on disk)"
