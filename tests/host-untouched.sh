#!/bin/sh
# Host untouched: the root namespace's links, addresses, routes, rules, net.* sysctls,
# nftables/iptables rulesets, namespaces, mounts and temp files (tests/host-state.sh) are the
# same before and after every scenario case and the wire engine's tests, run one after another.
# Our runs carry this test's TCPLAB_TAG; another suite's labs, running or kept at the same time,
# carry theirs and are not compared (tests/host-state.sh).
# usage: host-untouched.sh HOST-STATE SCENARIO-TEST CASES WIRE-TEST
set -u
state=$1 scenario_test=$2 cases=$3 wire_test=$4
export TCPLAB_TAG="${TCPLAB_TAG:-by-hand}/host-untouched-$$"
if [ "$(id -u)" != 0 ]; then
	echo "needs root (network namespaces): skipped"
	exit 77
fi
before=$(mktemp) after=$(mktemp) log=$(mktemp)
trap 'rm -f "$before" "$after" "$log"' EXIT
"$state" >"$before"
fail=0
# every case of the scenario suite, 4 at a time (named as meson names them), then the engine's
grep -v '^#' "$cases" | awk 'NF == 4 { print $1 "/" $2 ($2 == $3 ? "" : "-judged-as-" $3) }' |
	xargs -P 4 -I @case@ env CK_RUN_CASE=@case@ "$scenario_test" "$cases" >"$log" 2>&1 ||
	{ echo "(scenario cases failed:"; grep -E ":[0-9]+:[EF]:" "$log"; echo ")"; fail=1; }
"$wire_test" >>"$log" 2>&1 || { echo "(wire tests failed)"; fail=1; }
"$state" >"$after"
if ! diff -u "$before" "$after"; then
	echo "FAIL: the host's network state changed"
	exit 1
fi
echo "host state identical before and after: $(grep -c . "$before") lines compared"
exit "$fail"
