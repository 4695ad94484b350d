#!/bin/bash
# The README's quick start on a minimal Debian 12: debootstrap --variant=minbase of bookworm (the
# package set of the debian:12 image) into a temporary directory, from the mirror this machine's
# own apt sources name; a clean clone of this repository inside; then, in that root, exactly the
# README's two commands. The root is bind-mounted onto itself (`ip netns exec` remounts / and
# /sys in a private mount namespace, which needs / to be a mount point), with /proc, /sys, /dev
# and a fresh /run. Everything is unmounted and removed at the end, also on failure or Ctrl-C.
# usage: tests/minroot.sh [REPO]     (REPO: what to clone, default: this checkout)
set -euo pipefail
repo=$(cd "${1:-$(dirname "$0")/..}" && pwd)
[ "$(id -u)" = 0 ] || { echo "minroot: needs root (debootstrap, chroot, mounts)" >&2; exit 77; }

# the first Debian mirror this machine's apt sources name (deb822 or one-line format)
mirror=$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null |
	grep -v security | head -n1 || true)
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $2 !~ /\[/ && $2 !~ /security/ { print $2; exit }' \
	/etc/apt/sources.list 2>/dev/null || true)
[ -n "$mirror" ] || { echo "minroot: no Debian mirror in /etc/apt/sources*" >&2; exit 1; }

command -v debootstrap >/dev/null || {
	apt-get update -q
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap
}

root=$(mktemp -d /var/tmp/tcplab-minroot.XXXXXX)
cleanup() {
	set +e
	# programs a failed run left in the root (none expected: the suite cleans up after itself)
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/root" 2>/dev/null)" = "$root" ] && kill -9 "${p#/proc/}" 2>/dev/null
	done
	umount -R "$root" 2>/dev/null || umount -R -l "$root"
	# never remove a tree with something still mounted in it (/dev, /sys of the host)
	if findmnt -rn -o TARGET | grep -q "^$root"; then
		echo "minroot: $root still has mounts: left in place" >&2
	else
		rm -rf "$root"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

t0=$(date +%s)
echo "minroot: debootstrap --variant=minbase bookworm from $mirror"
debootstrap --variant=minbase bookworm "$root" "$mirror" >"$root.log" 2>&1 ||
	{ tail -n 20 "$root.log" >&2; rm -f "$root.log"; exit 1; }
rm -f "$root.log"
echo "minroot: root in $(($(date +%s) - t0)) s ($(du -sm "$root" | cut -f1) MiB)"

mount --bind "$root" "$root"
mount -t proc proc "$root/proc"
mount --rbind /sys "$root/sys"
mount --make-rslave "$root/sys"
mount --rbind /dev "$root/dev"
mount --make-rslave "$root/dev"
mount -t tmpfs -o mode=755 tmpfs "$root/run"
cp /etc/resolv.conf "$root/etc/resolv.conf"
mkdir -p "$root/src"
git clone -q "$repo" "$root/src/tcplab"

# the README's two commands, as root, in the clean clone; nothing else installed beforehand
chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb \
	/bin/sh -c 'cd /src/tcplab && ./tcplab run rst-on-close && ./tcplab test'
echo "minroot: the README's two commands passed in $(($(date +%s) - t0)) s"
