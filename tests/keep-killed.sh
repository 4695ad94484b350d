#!/bin/sh
# --keep when the lab process dies: a lab killed while pinning its namespaces has the half-kept
# lab removed by the supervisor; Ctrl-C before the pins keeps nothing; kill -9 at random moments
# of --keep runs keeps all three namespaces or none. Only this test's own labs are touched.
# usage: keep-killed.sh TCPLAB
set -u
tcplab=$1
if [ "$(id -u)" != 0 ]; then
	echo "needs root (/run/netns): skipped"
	exit 77
fi
results=$(mktemp -d /tmp/keep-killed.XXXXXX)
trap 'exec 3>&- 2>/dev/null; rm -rf "$results"' EXIT
lab_of() { [ -n "$(pgrep -P "$1" -x tcplab)" ]; }
fail=0
# until COMMAND succeeds, 10 s at most (a polling interval, not a guess)
until_() {
	for _ in $(seq 200); do
		"$@" && return 0
		sleep 0.05
	done
	return 1
}

# step_keep NAME: lost-final-ack --keep --step, held at "the story is over" (before the pins);
# sets $pid (to wait for), $lab (the lab process), $dir
step_keep() {
	dir=$results/$1
	mkdir "$dir"
	mkfifo "$dir/enter"
	setsid -w "$tcplab" run lost-final-ack --keep --step --quiet --results "$dir" \
		<"$dir/enter" >"$dir/out" 2>&1 &
	pid=$!
	exec 3>"$dir/enter"
	seen=0
	for _ in $(seq 400); do # 20 s at most (a polling interval, not a guess)
		n=$(grep -c '^== step' "$dir/out")
		if [ "$n" -gt "$seen" ]; then
			seen=$n
			grep '^== step' "$dir/out" | tail -1 | grep -q 'the story is over' && break
			echo >&3
		fi
		sleep 0.05
	done
	lab=$(grep -o 'net=/proc/[0-9]*' "$dir/out" | head -1 | cut -d/ -f3)
	client_ns=$(grep -o 'net=/proc/[0-9]*/fd/[0-9]*' "$dir/out" | head -1 | cut -d= -f2)
}

# the lab process killed with one namespace pinned: the supervisor removes the half-kept lab
step_keep half-kept
if [ -z "$lab" ] || [ -z "$client_ns" ]; then # never a placeholder with no lab behind it
	echo "FAIL: --keep --step never reached 'the story is over':"; cat "$dir/out"
	exit 1
fi
: >"/run/netns/tcplab-$lab-client" # what lab_netns_pin() does, for the client only
mount --bind "$client_ns" "/run/netns/tcplab-$lab-client"
kill -9 "$lab"
wait "$pid"
rc=$?
exec 3>&-
if [ "$rc" != 99 ] || ls /run/netns | grep -q "^tcplab-$lab-" ||
	! grep -q "removed the partly kept namespace tcplab-$lab-client" "$dir/out"; then
	echo "FAIL: lab killed while pinning: exit $rc (want 99), /run/netns: $(ls /run/netns)"
	cat "$dir/out"
	fail=1
else
	echo "ok: lab killed while pinning: exit 99, the half-kept lab removed"
fi

# Ctrl-C before the pins: nothing kept
step_keep ctrl-c
[ -n "$lab" ] || { echo "FAIL: --keep --step (ctrl-c) never paused:"; cat "$dir/out"; exit 1; }
kill -INT "$(ps -o ppid= -p "$lab" | tr -d ' ')"
wait "$pid"
rc=$?
exec 3>&-
if [ "$rc" != 130 ] || ls /run/netns | grep -q "^tcplab-$lab-"; then
	echo "FAIL: Ctrl-C with --keep: exit $rc (want 130), /run/netns: $(ls /run/netns)"
	fail=1
else
	echo "ok: Ctrl-C with --keep: exit 130, nothing kept"
fi

# kill -9 of the lab process at random moments of --keep runs: a run killed keeps nothing
# of its own; a run that finished first keeps its three namespaces
killed=0
for i in 1 2 3 4 5 6; do
	"$tcplab" run lost-final-ack --keep --quiet --results "$results" >"$results/r$i" 2>&1 &
	pid=$!
	until_ lab_of "$pid" 2>/dev/null || true
	lab=$(pgrep -P "$pid" -x tcplab | head -1)
	sleep "$(printf '0.%03d' $(($(od -An -N2 -tu2 /dev/urandom) % 450)))"
	[ -n "$lab" ] && kill -9 "$lab" 2>/dev/null
	wait "$pid"
	rc=$?
	kept=$(ls /run/netns | grep -c "^tcplab-$lab-")
	[ "$rc" = 99 ] && killed=$((killed + 1))
	if { [ "$rc" = 99 ] && [ "$kept" != 0 ]; } || { [ "$rc" != 99 ] && [ "$kept" != 3 ]; }; then
		echo "FAIL: --keep, lab killed at random: exit $rc with $kept namespaces kept"
		cat "$results/r$i"
		fail=1
	fi
	for ns in $(ls /run/netns | grep "^tcplab-$lab-"); do ip netns del "$ns"; done
done
[ "$fail" = 0 ] && echo "ok: --keep, lab killed at 6 random moments ($killed before its verdict): all or nothing kept"
exit "$fail"
