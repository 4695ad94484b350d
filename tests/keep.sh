#!/bin/sh
# --keep leaves the lab's three namespaces under predictable names, usable with `ip netns exec`;
# `tcplab clean` removes every kept lab and nothing else (another namespace stays).
# usage: keep.sh TCPLAB
set -u
tcplab=$1
if [ "$(id -u)" != 0 ]; then
	echo "needs root (/run/netns): skipped"
	exit 77
fi
results=$(mktemp -d /tmp/keep.XXXXXX)
other=keep-test-$$
trap 'rm -rf "$results"; ip netns del "$other" 2>/dev/null' EXIT
ip netns add "$other"
fail=0
out=$("$tcplab" run lost-final-ack --keep --quiet --results "$results" 2>&1)
id=$(printf '%s\n' "$out" | grep -o 'tcplab-[0-9]*-client' | head -1 | cut -d- -f2)
for host in client wire server; do
	ip netns list | grep -q "^tcplab-$id-$host" || { echo "FAIL: tcplab-$id-$host not kept"; fail=1; }
done
# the client's TIME_WAIT socket is still there to look at
ip netns exec "tcplab-$id-client" ss -tan state time-wait | grep -q 7357 ||
	{ echo "FAIL: no TIME_WAIT in the kept client namespace"; fail=1; }
"$tcplab" clean >/dev/null
ip netns list | grep -q "^tcplab-" && { echo "FAIL: clean left kept labs"; fail=1; }
ip netns list | grep -q "^$other" || { echo "FAIL: clean removed $other"; fail=1; }
[ "$fail" = 0 ] && echo "ok: kept tcplab-$id-{client,wire,server}, TIME_WAIT visible, clean removed only them"
exit "$fail"
