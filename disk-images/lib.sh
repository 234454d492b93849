# Shared helpers for the disk-image scripts (sourced, not run).

say() { printf '\033[1m[%s]\033[0m %s\n' "$(basename "$0")" "$*" >&2; }
die() { say "error: $*"; exit 1; }

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RECIPES_DIR="$REPO_ROOT/disk-images/recipes"

# load_recipe NAME: sets VARIANT, PACKAGES, HOSTNAME, IMAGE_SLACK_MB, RECIPE_FILE.
load_recipe() {
    RECIPE_FILE="$RECIPES_DIR/$1.conf"
    [ -f "$RECIPE_FILE" ] || die "unknown recipe '$1' (have: $(ls "$RECIPES_DIR" | sed 's/\.conf$//' | tr '\n' ' '))"
    # shellcheck disable=SC1090
    . "$RECIPE_FILE"
}

# The Debian mirror this machine's apt already uses, so builds hit the same cache/proxy.
debian_mirror() {
    local uri
    uri=$(grep -h '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -n1)
    if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
        uri=$(awk '$1=="deb" && $0 !~ /security/ {print $2; exit}' /etc/apt/sources.list)
    fi
    echo "${uri:-http://deb.debian.org/debian}"
}

need_root() {
    [ "$(id -u)" = 0 ] || die "must run as root (debootstrap and mke2fs -d need to create root-owned files)"
}
