#!/bin/sh
# --outcomes-only: no timing decides, not even a count of times. A 50 ms wire each way makes
# every request of nagle-delayed-ack's nodelay remedy take ~100 ms: its latency bound and its
# count of stalled requests fail, as they should on a machine that slow. With --outcomes-only
# the run is still as documented, and every expectation that failed is marked timed in
# report.json; without it, the same run is not as documented.
# usage: outcomes-only.sh TCPLAB
set -u
tcplab=$1
if [ "$(id -u)" != 0 ]; then
	echo "needs root (network namespaces): skipped"
	exit 77
fi
work=$(mktemp -d /tmp/outcomes-only.XXXXXX)
trap 'rm -rf "$work"' EXIT
fail=0
slow="delay=50ms,dir=both"

"$tcplab" run nagle-delayed-ack --variant nodelay --impair "$slow" --outcomes-only --quiet \
	--results "$work/o" >"$work/o.out" 2>&1
rc=$?
report=$(find "$work/o" -name report.json)
# the failed expectations that are not timed, one "kind: what" per line
untimed=$(tr -d '\n' <"$report" | grep -o '"kind": *"[a-z_/]*", *"what": *"[^"]*", *"timed": *false[^}]*"ok": *false' |
	sed 's/"kind": *"\([^"]*\)", *"what": *"\([^"]*\)".*/\1: \2/')
failed=$(grep -c '^FAIL' "$work/o.out")
if [ "$rc" != 0 ] || [ -n "$untimed" ] || [ "$failed" -lt 2 ]; then
	echo "FAIL: --outcomes-only on a slow wire: exit $rc (want 0), $failed failed (want >= 2)," \
		"failed and not timed: ${untimed:-none}"
	cat "$work/o.out"
	fail=1
else
	echo "ok: --outcomes-only on a slow wire: exit 0; $failed timed expectations failed and did not decide"
fi

"$tcplab" run nagle-delayed-ack --variant nodelay --impair "$slow" --quiet \
	--results "$work/t" >"$work/t.out" 2>&1
rc=$?
if [ "$rc" != 1 ]; then
	echo "FAIL: the same run judged on time: exit $rc (want 1)"
	cat "$work/t.out"
	fail=1
else
	echo "ok: the same run judged on time: exit 1 (not as documented)"
fi
exit "$fail"
