#!/bin/sh
# A results folder on a full (1 MB tmpfs) or read-only file system: the run is an ERROR that
# names the file and the real errno ("write report.json: No space left on device"), and what
# it says agrees everywhere: the exit code, the verdict line, and report.json (which is either
# there with that verdict or not there at all). The tmpfs is mounted in a private mount
# namespace of this test (unshare -m): the host never sees it.
# usage: full-disk.sh TCPLAB
set -u
tcplab=$1
if [ "$(id -u)" != 0 ]; then
	echo "needs root (mounts, network namespaces): skipped"
	exit 77
fi
if [ -z "${FULL_DISK_PRIVATE:-}" ]; then
	FULL_DISK_PRIVATE=1 exec unshare -m --propagation private "$0" "$@"
fi
disk=$(mktemp -d /tmp/full-disk.XXXXXX)
trap 'umount "$disk" 2>/dev/null; rmdir "$disk"' EXIT
fail=0

# case_ NAME FREE_KB SCENARIO [ro]: a run with FREE_KB left on a fresh 1 MB tmpfs
case_() {
	name=$1 free=$2 sc=$3 mode=${4:-rw}
	mount -t tmpfs -o size=1M tmpfs "$disk"
	[ "$free" -lt 1024 ] && dd if=/dev/zero of="$disk/fill" bs=1K count=$((1024 - free)) 2>/dev/null
	mkdir -p "$disk/r/$sc"
	[ "$mode" = ro ] && mount -o remount,ro "$disk"
	"$tcplab" run "$sc" --quiet --results "$disk/r" >/tmp/full-disk.out.$$ 2>&1
	rc=$?
	out=$(cat /tmp/full-disk.out.$$)
	rm -f /tmp/full-disk.out.$$
	said=$(printf '%s\n' "$out" | sed -n 's/^verdict: \([a-z ]*\) (.*/\1/p')
	report=$(find "$disk/r" -name report.json)
	in_json=
	[ -n "$report" ] && in_json=$(tr -d '\n' <"$report" | sed -n 's/.*"verdict": *"\([^"]*\)".*/\1/p')
	case "$said:$rc" in
	"as documented:0" | "not as documented:1" | "error:99") agree=yes ;;
	*) agree=no ;;
	esac
	[ -n "$report" ] && [ "$in_json" != "$said" ] && agree=no
	errno="No space left on device"
	[ "$mode" = ro ] && errno="Read-only file system"
	if [ "$agree" = no ] || printf '%s' "$out" | grep -q "Input/output error" ||
		{ [ "$rc" = 99 ] && ! printf '%s' "$out" | grep "ERROR" | grep -q "$errno"; } ||
		{ [ "$mode" = rw ] && [ "$free" -ge 256 ] && [ "$rc" != 0 ]; }; then
		echo "FAIL: $name ($free KB free): exit $rc, verdict '$said', report.json '${in_json:-none}', output:"
		printf '%s\n' "$out" | grep -v -e '^ok ' -e '^ *expectation' -e '^$'
		fail=1
	else
		echo "ok: $name ($free KB free): exit $rc, verdict '$said', report.json '${in_json:-none}':" \
			"$(printf '%s' "$out" | grep -o 'ERROR.*' | sed 's/.*broke): //')"
	fi
	umount "$disk"
}

# from nothing left (the pcap headers do not fit) to enough: every file can be the one that fails
for free in 0 8 12 16 20 24 32 256; do
	case_ rst-on-close "$free" rst-on-close
done
# the headers fit, the packets do not: the captures are incomplete, and it says so
case_ captures 12 split-packets
case_ read-only 1024 rst-on-close ro
exit "$fail"
