#!/bin/sh
# --keep leaves the lab's three namespaces under predictable names, usable with `ip netns exec`,
# with permanent neighbours on both sides of each veth (no ARP in its captures). `tcplab clean`
# removes the caller's own kept labs only (same user, same TCPLAB_TAG): a lab kept under another
# tag, or for another user, stays until its owner cleans it. `clean --all` removes every kept lab
# and nothing else: checked in a private mount namespace with a /run of its own, so that this
# test can never remove a lab that someone else kept.
# usage: keep.sh TCPLAB
set -u
tcplab=$1
if [ "$(id -u)" != 0 ]; then
	echo "needs root (/run/netns): skipped"
	exit 77
fi
fail=0
no() { echo "FAIL: $*"; fail=1; }

# keep SCENARIO: run it with --keep (results in $results), print the kept lab's ID
keep() {
	"$tcplab" run "$1" --keep --quiet --results "$results" >"$results/keep.out" 2>&1
	grep -o 'tcplab-[0-9]*-client' "$results/keep.out" | head -1 | cut -d- -f2
}
kept() { # kept ID: are all three namespaces of tcplab-ID there?
	for host in client wire server; do
		ip netns list 2>/dev/null | grep -q "^tcplab-$1-$host\b" || return 1
	done
}
gone() { ! ip netns list 2>/dev/null | grep -q "^tcplab-$1-" && [ ! -e "/run/tcplab/tcplab-$1.owner" ]; }

if [ "${2:-}" = --all ]; then
	# here: a private mount namespace (see the end of this file); /run is a fresh tmpfs
	mount -t tmpfs keep-test /run && mkdir /run/netns || exit 99
	results=$3
	mine=$(keep rst-on-close)
	theirs=$(TCPLAB_TAG="$TCPLAB_TAG/other" keep rst-on-close)
	ip netns add not-a-lab # after the pins: ip bind-mounts /run/netns on itself (netns.c)
	kept "$mine" && kept "$theirs" || no "--all setup: labs not kept ($mine, $theirs)"
	"$tcplab" clean --all >"$results/clean-all.out" || no "clean --all failed"
	gone "$mine" && gone "$theirs" || no "clean --all left kept labs: $(ip netns list 2>&1)"
	ip netns list 2>/dev/null | grep -q '^not-a-lab' || no "clean --all removed a namespace that is no lab"
	[ "$fail" = 0 ] && echo "ok: clean --all removed the labs of both tags, and only them"
	exit "$fail"
fi

export TCPLAB_TAG="${TCPLAB_TAG:-by-hand}/keep-$$"
results=$(mktemp -d /tmp/keep.XXXXXX)
trap 'rm -rf "$results"' EXIT
id=$(keep lost-final-ack)
if [ -z "$id" ] || ! kept "$id"; then
	echo "FAIL: no lab kept:"
	cat "$results/keep.out"
	exit 1
fi
# the client's TIME_WAIT socket is still there to look at
ip netns exec "tcplab-$id-client" ss -tan state time-wait | grep -q 7357 ||
	no "no TIME_WAIT in the kept client namespace"
# each side of each veth knows its peer for good: nothing to resolve, no ARP
for want in client:c0:192.0.2.254:02:00:00:00:01:fe wire:w0:192.0.2.1:02:00:00:00:01:01 \
	wire:w1:198.51.100.1:02:00:00:00:02:01 server:s0:198.51.100.254:02:00:00:00:02:fe; do
	host=${want%%:*} rest=${want#*:}
	dev=${rest%%:*} rest=${rest#*:}
	addr=${rest%%:*} mac=${rest#*:}
	ip netns exec "tcplab-$id-$host" ip neigh show dev "$dev" |
		grep -qx "$addr lladdr $mac PERMANENT *" ||
		no "$host/$dev: no permanent neighbour $addr at $mac: $(ip netns exec \
			"tcplab-$id-$host" ip neigh show dev "$dev")"
done
for pcap in "$results"/lost-final-ack/*/*.pcap; do
	"$tcplab" show "$pcap" | head -1 | grep -q ' 0 other,' ||
		no "frames other than IPv4/TCP (ARP?): $("$tcplab" show "$pcap" | head -1)"
done
grep -qxF "tag=$TCPLAB_TAG" "/run/tcplab/tcplab-$id.owner" || no "owner record without our tag"

# one kept under another tag (another suite), one for another user (root under sudo)
theirs=$(TCPLAB_TAG="$TCPLAB_TAG/other" keep rst-on-close)
user=$(SUDO_UID=4242 keep rst-on-close)
kept "$theirs" && kept "$user" || no "labs of another tag or user not kept ($theirs, $user)"
"$tcplab" clean >"$results/clean.out" || no "clean failed: $(cat "$results/clean.out")"
gone "$id" || no "clean left our own kept lab tcplab-$id"
kept "$theirs" || no "clean removed tcplab-$theirs, kept under another tag"
kept "$user" || no "clean removed tcplab-$user, kept for uid 4242"
grep -q "of other users or tags left in place" "$results/clean.out" ||
	no "clean did not say that it left others' labs: $(cat "$results/clean.out")"
# their owners clean them
TCPLAB_TAG="$TCPLAB_TAG/other" "$tcplab" clean >/dev/null
SUDO_UID=4242 "$tcplab" clean >/dev/null
gone "$theirs" && gone "$user" || no "owners could not clean their own labs"
[ "$fail" = 0 ] &&
	echo "ok: kept tcplab-$id-{client,wire,server}: TIME_WAIT, permanent neighbours, no ARP;" \
		"clean removed it and left the labs of another tag and of another user"

# --all, where it can reach no one else's kept lab
unshare --mount --propagation private "$0" "$tcplab" --all "$results" || fail=1
exit "$fail"
