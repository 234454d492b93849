#!/usr/bin/env bash
# Prepare a fresh Debian 12 x86-64 machine (as root) to build and test Wax.
#
# Idempotent: every step checks whether it is already done. Needs only the
# Rust toolchain (rustup), gcc, python3 and node to start with.
#
# What it installs and why:
#   gcc-multilib   gcc -m32 -static builds the i386 test programs
#   qemu-user      qemu-i386 as a third opinion in the comparison harness
#   debootstrap    builds the Debian i386 root filesystems (disk-images/)
#   e2fsprogs      mke2fs -d and e2fsck for the ext2 images
#   tmux           interactive terminal tests
#   chromium       headless browser tests of the web app (web/tests/browser.mjs)
#   rustfmt, clippy          scripts/test.sh checks formatting and lints
#   wasm32-unknown-unknown   the browser build (web/, scripts/test-wasm.sh)
#   wasm32-wasip1            unit tests on a 32-bit wasm engine: Node's WASI
#                            runs them (scripts/test-wasm.sh)
#   wasm-bindgen-cli 0.2.130 the JS glue of the web app (pinned: it must match
#                            the wasm-bindgen crate in web/Cargo.toml exactly)
#   web/node_modules         npm ci: xterm.js, esbuild, playwright-core,
#                            fake-indexeddb (web/package-lock.json)
#   web/dist                 the built web app (scripts/build-web.sh)
#   busybox-static:i386      a real static i386 program for tests and demos,
#                            unpacked into build/busybox/bin/busybox
#   Debian i386 roots and images   build/roots/{test,default} and
#                            build/images/{test,default}.img (disk-images/)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build="$repo/build"
packages=(gcc-multilib qemu-user debootstrap e2fsprogs tmux chromium)

say() { printf '==> %s\n' "$*"; }

as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null; then
		sudo "$@"
	else
		echo "setup.sh: '$*' needs root; run this script as root" >&2
		exit 1
	fi
}

missing_packages() {
	local p
	for p in "${packages[@]}"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
			printf '%s\n' "$p"
	done
}

apt_updated=0
apt_update() {
	[ "$apt_updated" -eq 1 ] && return
	say "apt-get update"
	# One security index may fail to download on some mirrors, which makes
	# apt-get update exit 100. That is not fatal: what matters is that the
	# packages below install, and that is checked right after.
	as_root apt-get update || say "apt-get update exited $? (ignored; checking installs instead)"
	apt_updated=1
}

if ! dpkg --print-foreign-architectures | grep -qx i386; then
	say "dpkg --add-architecture i386"
	as_root dpkg --add-architecture i386
	apt_update
fi

mapfile -t need < <(missing_packages)
if [ "${#need[@]}" -gt 0 ]; then
	apt_update
	say "apt-get install ${need[*]}"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-remove "${need[@]}"
	mapfile -t still < <(missing_packages)
	if [ "${#still[@]}" -gt 0 ]; then
		echo "setup.sh: could not install: ${still[*]}" >&2
		exit 1
	fi
else
	say "packages already installed: ${packages[*]}"
fi

for component in rustfmt clippy; do
	if ! rustup component list --installed | grep -q "^$component"; then
		say "rustup component add $component"
		rustup component add "$component"
	fi
done

for target in wasm32-unknown-unknown wasm32-wasip1; do
	if rustup target list --installed | grep -qx "$target"; then
		say "rust target $target already installed"
	else
		say "rustup target add $target"
		rustup target add "$target"
	fi
done

bindgen_version=0.2.130
if wasm-bindgen --version 2>/dev/null | grep -q " $bindgen_version\$"; then
	say "wasm-bindgen-cli $bindgen_version already installed"
else
	# --locked fails against some registry mirrors; the version pin is exact.
	say "cargo install wasm-bindgen-cli --version $bindgen_version (a few minutes)"
	cargo install wasm-bindgen-cli --version "$bindgen_version"
fi

# node_modules/.wax-lock is the lock file the last npm ci installed.
if cmp -s "$repo/web/package-lock.json" "$repo/web/node_modules/.wax-lock"; then
	say "web/node_modules up to date"
else
	say "npm ci in web/"
	(cd "$repo/web" && npm ci --no-audit --no-fund)
	cp "$repo/web/package-lock.json" "$repo/web/node_modules/.wax-lock"
fi

busybox="$build/busybox/bin/busybox"
if [ -x "$busybox" ]; then
	say "busybox already at $busybox"
else
	say "fetching Debian's busybox-static:i386 into $build/busybox"
	apt_update
	tmp=$(mktemp -d)
	chmod 777 "$tmp" # apt downloads as the unprivileged _apt user
	trap 'rm -rf "$tmp"' EXIT
	(cd "$tmp" && apt-get download busybox-static:i386)
	mkdir -p "$tmp/root"
	dpkg-deb -x "$tmp"/busybox-static_*_i386.deb "$tmp/root"
	mkdir -p "$build/busybox/bin"
	install -m 755 "$tmp/root/bin/busybox" "$busybox"
fi
file_info=$(head -c 20 "$busybox" | od -An -tx1 | tr -d ' \n')
# ELF magic, ELFCLASS32, little endian, and e_machine EM_386 (3) at offset 18.
case "$file_info" in
7f454c460101*0300) say "busybox is an i386 ELF: ok" ;;
*)
	echo "setup.sh: $busybox is not an i386 ELF" >&2
	exit 1
	;;
esac

# The Debian i386 roots (build/roots/RECIPE: the corpus runs there natively
# and under wax) and their ext2 images (--image, wax shell). mkroot.sh is
# cached by the recipe's hash; an image is rebuilt when its root or the
# scripts that configure it changed: the stamp beside it records both.
for recipe in test default; do
	img="$build/images/$recipe.img"
	root="$build/roots/$recipe"
	as_root "$repo/disk-images/mkroot.sh" "$recipe" "$root"
	stamp="$(cat "$root/.complete") $(cat "$repo"/disk-images/{mkimage.sh,configure.sh,manifest.sh,lib.sh} | sha256sum | cut -c1-16)"
	if [ -f "$img" ] && [ -f "$img.manifest.json" ] && [ "$(cat "$img.stamp" 2>/dev/null)" = "$stamp" ]; then
		say "image $img already built"
	else
		say "building the $recipe image (debootstrap + mke2fs, a few minutes)"
		"$repo/disk-images/mkimage.sh" "$recipe" "$img"
		echo "$stamp" >"$img.stamp"
	fi
done

say "building the web app (scripts/build-web.sh)"
"$repo/scripts/build-web.sh"

say "setup done"
