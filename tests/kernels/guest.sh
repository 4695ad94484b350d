#!/bin/bash
# Runs the chosen scenario cases with an already-built tcplab, one at a time, and leaves each
# run's report.json, its output and its exit status in OUT. tests/kernels/run.sh runs it on the
# host (column "host") and inside each guest (through the job file it writes); by hand:
#   [KERNEL_TESTS='netem ...'] tests/kernels/guest.sh BUILD CASES OUT [IMPAIR]...
# CASES: lines "scenario variant judged-as exit budget_s" (tests/scenario-cases.txt's format);
# KERNEL_TESTS: scripts of tests/ (tests/NAME.sh BUILD/tcplab) run after the cases.
set -u
build=$1 cases=$2 out=$3
shift 3
impair=()
for spec in "$@"; do
	impair+=(--impair "$spec")
done
mkdir -p "$out/json" "$out/logs" "$out/results"
: >"$out/status"
{
	echo "release $(uname -r)"
	echo "emulated ${TCPLAB_EMULATED:-}"
	echo "started $(date +%s)"
} >"$out/guest-info"
while read -r sc variant as want budget _; do
	case $sc in '' | '#'*) continue ;; esac
	name="$sc.$variant.$as"
	t0=$(date +%s%N)
	# a case gets its budget four times over (emulation) and a minute to build and tear down
	timeout -k 5 $((budget * 4 + 60)) "$build/tcplab" run "$sc" --variant "$variant" \
		--expect-as "$as" --results "$out/results" --json "${impair[@]}" \
		>"$out/json/$name.json" 2>"$out/logs/$name.txt"
	rc=$?
	t1=$(date +%s%N)
	printf '%s %s %s %s %s %d\n' "$sc" "$variant" "$as" "$want" "$rc" \
		$(((t1 - t0) / 1000000)) >>"$out/status"
	echo "tcplab-guest: case $name exit $rc (want $want)"
done <"$cases"
for t in ${KERNEL_TESTS:-}; do
	t0=$(date +%s%N)
	timeout -k 5 600 bash "tests/$t.sh" "$build/tcplab" >"$out/logs/test.$t.txt" 2>&1
	rc=$?
	t1=$(date +%s%N)
	printf 'test:%s - - 0 %s %d\n' "$t" "$rc" $(((t1 - t0) / 1000000)) >>"$out/status"
	echo "tcplab-guest: test $t exit $rc"
done
echo "finished $(date +%s)" >>"$out/guest-info"
sync
