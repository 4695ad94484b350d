#!/bin/sh
# Nothing left behind: kill -9 the harness at random moments of many runs (the supervising
# `tcplab run` or the lab process under it, alternately), then prove that no namespace, veth,
# process, mount, rule or temp file outlived it (tests/host-state.sh before and after).
# usage: leftovers.sh TCPLAB HOST-STATE [KILLS]
set -u
tcplab=$1 state=$2 kills=${3:-24}
results=$(mktemp -d /tmp/leftovers.XXXXXX)
trap 'rm -rf "$results"' EXIT
# every variant of every registered scenario
runs=$("$tcplab" list --cases | awk '!/^#/ && $2 == $3 { print $1 ":" $2 }')
nruns=$(echo $runs | wc -w)

# our processes: this build's harness binary and the lab's programs (other checkouts' labs on
# the same host are not ours to count)
build=$(cd "$(dirname "$tcplab")" && pwd -P)
ours() {
	for p in $(for name in tcplab tcplab-server tcplab-client; do pgrep -x "$name"; done); do
		case $(readlink "/proc/$p/exe" 2>/dev/null) in "$build"/*) echo "$p" ;; esac
	done
}

# wait (bounded) until nothing of ours runs; killed children are reaped by init
gone() {
	for _ in $(seq 50); do
		[ -z "$(ours)" ] && return 0
		sleep 0.1 # a polling interval with a deadline, not a guess
	done
	return 1
}

if [ "$(id -u)" != 0 ]; then
	echo "needs root (network namespaces): skipped"
	exit 77
fi
gone || { echo "tcplab processes are already running: cannot judge"; exit 99; }
before=$("$state")
i=0 fail=0

# Ctrl-C (SIGINT to the supervisor) mid-story: exit 130, it says so, the partial captures are
# kept and readable by `tcplab show`, and the lab is gone (checked with the rest below)
"$tcplab" run keepalive-expiry --variant no-keepalive --results "$results" --quiet \
	>"$results/int.out" 2>&1 &
pid=$!
for _ in $(seq 100); do # until the story is under way: its client is running
	lab=$(pgrep -P "$pid" -x tcplab | head -1)
	[ -n "$lab" ] && pgrep -P "$lab" -x tcplab-client >/dev/null && break
	sleep 0.05
done
kill -INT "$pid"
wait "$pid"
rc=$?
pcap=$(find "$results" -name client.pcap | head -1)
if [ "$rc" != 130 ] || ! grep -q "partial capture kept, readable" "$results/int.out" ||
	! "$tcplab" show "$pcap" >/dev/null || [ -z "$(find "$results" -name INTERRUPTED)" ]; then
	echo "FAIL: Ctrl-C: exit $rc, output:"
	cat "$results/int.out"
	fail=1
else
	echo "ok: Ctrl-C mid-story: exit 130, partial captures readable"
fi
gone || { echo "FAIL: Ctrl-C left processes"; fail=1; }
while [ "$i" -lt "$kills" ]; do
	pick=$(echo $runs | tr ' ' '\n' | sed -n "$((i % nruns + 1))p")
	"$tcplab" run "${pick%%:*}" --variant "${pick##*:}" --results "$results" --quiet \
		>/dev/null 2>&1 &
	pid=$!
	# a random moment in the first second: set-up, the story, or the teardown
	ms=$(( $(od -An -N2 -tu2 /dev/urandom) % 1000 ))
	sleep "$(printf '0.%03d' "$ms")"
	victim=$pid
	if [ $((i % 2)) = 1 ]; then
		child=$(pgrep -P "$pid" | head -1)
		victim=${child:-$pid}
	fi
	kill -9 "$victim" 2>/dev/null
	wait "$pid" 2>/dev/null
	if ! gone; then
		echo "FAIL: kill -9 of ${pick} after ${ms} ms left processes:"
		ps -o pid,ppid,stat,args -p "$(ours | tr '\n' ',' | sed 's/,$//')"
		fail=1
	fi
	echo "ok: ${pick}, kill -9 $( [ "$victim" = "$pid" ] && echo supervisor || echo lab) after ${ms} ms"
	i=$((i + 1))
done
after=$("$state")
if [ "$before" != "$after" ]; then
	echo "FAIL: the host changed:"
	diff -u /dev/fd/3 /dev/fd/4 3<<EOF3 4<<EOF4
$before
EOF3
$after
EOF4
	fail=1
fi
[ "$fail" = 0 ] && echo "$kills kills: nothing left behind"
exit "$fail"
