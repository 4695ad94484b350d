#!/bin/sh
# Isolation under load: every variant of every registered scenario at once, each on its own lab. Every run must reach its documented verdict on its outcome expectations
# (--outcomes-only: timing windows are not promised with ~24 labs on a 2-core machine). Labs use
# the same addresses, so any cross-talk would show up as packets, counters or states that
# the outcome expectations count exactly.
# usage: parallel.sh TCPLAB
set -u
tcplab=$1
# without root, tcplab uses an unprivileged user namespace; if it cannot, every run says 77
"$tcplab" run rst-on-close --results /dev/null --quiet >/dev/null 2>&1
[ $? = 77 ] && { echo "cannot build labs here (no root, no user namespaces): skipped"; exit 77; }
results=$(mktemp -d /tmp/parallel.XXXXXX)
trap 'rm -rf "$results"' EXIT
runs=$("$tcplab" list --cases | awk '!/^#/ && $2 == $3 { print $1 ":" $2 }')
for run in $runs; do
	"$tcplab" run "${run%%:*}" --variant "${run##*:}" --results "$results" --quiet \
		--outcomes-only >"$results/$run.out" 2>&1 &
	echo "$! $run" >>"$results/pids"
done
fail=0 n=0
while read -r pid run; do
	wait "$pid"
	rc=$?
	n=$((n + 1))
	if [ "$rc" != 0 ]; then
		echo "FAIL: $run exit $rc"
		cat "$results/$run.out"
		fail=1
	else
		echo "ok: $run"
	fi
done <"$results/pids"
[ "$fail" = 0 ] && echo "$n runs at once: all as documented"
exit "$fail"
