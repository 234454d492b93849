#!/usr/bin/env bash
# configure.sh ROOT HOSTNAME RECIPE "PACKAGES" — make a debootstrapped root usable
# as a Wax disk: hostname, root and an ordinary user (no passwords: the guest
# is a sandbox with no login), a bash prompt that says where you are, C.UTF-8
# (built into bookworm's glibc, no locales package needed), a welcome message.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
[ $# -eq 4 ] || die "usage: $0 ROOT HOSTNAME RECIPE PACKAGES"
ROOT=$1 NAME=$2 RECIPE=$3 PACKAGES=$4

echo "$NAME" >"$ROOT/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' "$NAME" >"$ROOT/etc/hosts"
printf 'LANG=C.UTF-8\n' >"$ROOT/etc/default/locale"
printf '# <fs> <mount point> <type> <options> <dump> <pass>\n/dev/root / ext2 defaults 0 1\n' >"$ROOT/etc/fstab"

chroot "$ROOT" passwd -q -d root >/dev/null
if ! chroot "$ROOT" id user >/dev/null 2>&1; then
    chroot "$ROOT" useradd -m -u 1000 -U -s /bin/bash -c "Wax user" user
fi
chroot "$ROOT" passwd -q -d user >/dev/null

cat >"$ROOT/etc/profile.d/wax.sh" <<'PROFILE'
# Wax: locale, prompt and the welcome message for interactive shells.
export LANG=C.UTF-8
if [ -n "$BASH_VERSION" ] && [ -n "$PS1" ]; then
    if [ "$(id -u)" -eq 0 ]; then
        PS1='\[\e[1;31m\]\u@\h\[\e[0m\]:\[\e[1;34m\]\w\[\e[0m\]# '
    else
        PS1='\[\e[1;32m\]\u@\h\[\e[0m\]:\[\e[1;34m\]\w\[\e[0m\]\$ '
    fi
    [ -r /etc/motd ] && [ -z "$WAX_WELCOMED" ] && cat /etc/motd && export WAX_WELCOMED=1
fi
PROFILE
# Non-login interactive shells (bash without -l) read bash.bashrc, not profile.
grep -q 'profile.d/wax.sh' "$ROOT/etc/bash.bashrc" ||
    printf '\n[ -r /etc/profile.d/wax.sh ] && . /etc/profile.d/wax.sh\n' >>"$ROOT/etc/bash.bashrc"

{
    echo
    echo "  Welcome to Wax: Debian 12 (bookworm) i386, its x86 code interpreted,"
    echo "  and translated to WebAssembly where it runs hot."
    echo
    echo "  Installed ($RECIPE image):"
    for p in $PACKAGES; do
        v=$(dpkg-query --admindir="$ROOT/var/lib/dpkg" -W -f='${Version}' "$p" 2>/dev/null || echo '?')
        printf '    %-12s %s\n' "$p" "$v"
    done
    echo
    echo "  Files you write are kept in an overlay; the base image stays untouched."
    echo
} >"$ROOT/etc/motd"
