#!/bin/sh
# Causal order in every ladder: one run of every registered variant (a few at once, each on its
# own lab), then causal-check on each: connect() begins before its SYN, close()/shutdown() before
# the FIN or RST it sent, send() before its data, and the row with a recv()'s value comes after
# the data it got (see causal.c). Then the same runs judged by return stamps only, the way the
# programs stamped calls before: that must fail, or the checks prove nothing.
# The runs' own verdicts are not judged here (the scenario tests do that); a lab that breaks is.
# usage: causal-order.sh TCPLAB CAUSAL-CHECK [JOBS]
set -u
tcplab=$1 check=$2 jobs=${3:-6}
[ "$(id -u)" = 0 ] || { echo "needs root (network namespaces): skipped"; exit 77; }
results=$(mktemp -d /tmp/causal-order.XXXXXX)
trap 'rm -rf "$results"' EXIT

"$tcplab" list --cases | awk '!/^#/ && $2 == $3 { print $1, $2 }' >"$results/variants"
# xargs appends "SCENARIO VARIANT" to: sh -c SCRIPT TCPLAB RESULTS
# shellcheck disable=SC2016 # expanded by that sh, not this one
xargs -P "$jobs" -L 1 sh -c '"$0" run "$2" --variant "$3" --results "$1/$2-$3" --quiet \
	--outcomes-only >"$1/$2-$3.out" 2>&1; echo $? >"$1/$2-$3.rc"' \
	"$tcplab" "$results" <"$results/variants"

broken=0
: >"$results/dirs"
while read -r s v; do
	rc=$(cat "$results/$s-$v.rc")
	for dir in "$results/$s-$v/$s/"*; do :; done # the run's directory (there is one)
	if [ "$rc" = 77 ]; then
		echo "cannot build labs here: skipped"
		exit 77
	elif [ "$rc" -gt 1 ] || [ ! -s "$dir/report.json" ]; then
		echo "ERROR: $s/$v: the run broke (exit $rc):"
		cat "$results/$s-$v.out"
		broken=1
	else
		echo "$dir" >>"$results/dirs"
	fi
done <"$results/variants"
[ "$broken" = 0 ] || exit 99

# shellcheck disable=SC2046 # one argument per run directory (mktemp paths: no spaces)
"$check" $(cat "$results/dirs")
rc=$?
[ "$rc" = 0 ] || exit "$rc"

echo
echo "the same runs, judged by return stamps (the old stamping): this must fail"
# shellcheck disable=SC2046
"$check" --return-stamps $(cat "$results/dirs") >"$results/old" 2>&1
rc=$?
grep -c '^FAIL: .*row' "$results/old" | sed 's/$/ call(s) out of order/'
grep '^FAIL: .*row' "$results/old" | head -5
if [ "$rc" != 1 ]; then
	echo "FAIL: return stamps passed the check (exit $rc): it cannot tell causal order"
	cat "$results/old"
	exit 1
fi
echo "ok: causal order holds with entry stamps, and the check catches return stamps"
