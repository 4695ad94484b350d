#!/bin/sh
# --step in front of a class: every pause is held longer than the scenario's whole budget (the
# teacher talks), and the run must still end as documented (the story's clocks stop while
# paused); without a terminal --step is refused with one line (exit 2).
# usage: step.sh TCPLAB
set -u
tcplab=$1
[ "$(id -u)" = 0 ] || { echo "needs root (network namespaces): skipped"; exit 77; }
command -v script >/dev/null || { echo "no script(1) for a terminal: skipped"; exit 77; }
work=$(mktemp -d /tmp/step.XXXXXX)
trap 'rm -rf "$work"' EXIT
fail=0

setsid "$tcplab" run rst-on-close --step </dev/null >"$work/notty" 2>&1
rc=$?
if [ "$rc" != 2 ] || ! grep -q "needs a terminal" "$work/notty"; then
	echo "FAIL: --step without a terminal: exit $rc:"; cat "$work/notty"; fail=1
else
	echo "ok: without a terminal: $(cat "$work/notty")"
fi

budget=$("$tcplab" list --cases | awk '$1 == "rst-on-close" && $2 == "default" { print $5; exit }')
hold=$((budget + 1))
# a teacher: Enter after each pause, each pause longer than the budget (a test of pauses: the
# waiting is the point, not a guess at when something is ready)
{ for i in 1 2 3 4 5 6; do sleep "$hold"; echo; done; } |
	script -qec "$tcplab run rst-on-close --step --results $work --quiet" /dev/null >"$work/out" 2>&1
pauses=$(grep -c '^== step:' "$work/out")
if ! grep -q "verdict: as documented" "$work/out" || grep -q "ERROR" "$work/out" || [ "$pauses" -lt 3 ]; then
	echo "FAIL: pauses of $hold s each ($pauses pauses):"; cat "$work/out"; fail=1
else
	echo "ok: $pauses pauses of $hold s each (budget $budget s): $(grep -m1 verdict "$work/out")"
fi
exit $fail
