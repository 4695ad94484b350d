#!/bin/sh
# The machine-readable side of a run: `tcplab run --json` prints report.json's content on
# stdout, one line per run (JSON lines with --repeat) and nothing else, all human output on
# stderr; report.json and those lines are valid under doc/report.schema.json (schema-check, a
# json-c validator: no python, no jq); results/latest points at the newest run; wire.log is
# written also when the wire did nothing; both endpoints' sysctls are recorded, dotted.
# usage: json.sh TCPLAB SCHEMA-CHECK SCHEMA
set -u
tcplab=$1 check=$2 schema=$3
if [ "$(id -u)" != 0 ]; then
	echo "needs root (network namespaces): skipped"
	exit 77
fi
results=$(mktemp -d /tmp/json.XXXXXX)
trap 'rm -rf "$results"' EXIT
fail=0
bad() {
	echo "FAIL: $*"
	fail=1
}

# a client-side sysctl and a wire impairment: both in the report
"$tcplab" run lost-final-ack --variant no-timewait --json --results "$results" \
	>"$results/one.out" 2>"$results/one.err"
rc=$?
[ "$rc" = 0 ] || bad "lost-final-ack no-timewait --json: exit $rc: $(cat "$results/one.err")"
[ "$(wc -l <"$results/one.out")" = 1 ] || bad "--json printed $(wc -l <"$results/one.out") lines, want 1"
grep -q '^verdict: as documented' "$results/one.err" || bad "the summary is not on stderr"
"$check" "$schema" "$results/one.out" || bad "--json output is not valid under the schema"
run=$(readlink "$results/latest")
case "$run" in
lost-final-ack/*-no-timewait-*) ;;
*) bad "results/latest -> '$run', not the run" ;;
esac
"$check" "$schema" "$results/latest/report.json" || bad "report.json is not valid under the schema"
grep -q '"net.ipv4.tcp_max_tw_buckets":"0"' "$results/one.out" ||
	bad "the client's sysctl is not recorded as net.ipv4.tcp_max_tw_buckets"
grep -q '"schema":1,"tool":"tcplab ' "$results/one.out" || bad "no schema and tool keys first"

# no impairment: wire.log is still there; --repeat prints one line per run
"$tcplab" run rst-on-close --repeat 2 --json --quiet --results "$results" \
	>"$results/two.out" 2>"$results/two.err"
rc=$?
[ "$rc" = 0 ] || bad "rst-on-close --repeat 2 --json: exit $rc: $(cat "$results/two.err")"
[ "$(wc -l <"$results/two.out")" = 2 ] || bad "--repeat 2 --json printed $(wc -l <"$results/two.out") lines, want 2"
grep -q '^== repeat: 2 of 2' "$results/two.err" || bad "the repeat summary is not on stderr"
"$check" "$schema" "$results/two.out" || bad "--repeat --json lines are not valid under the schema"
[ -f "$results/latest/wire.log" ] || bad "no wire.log in a run without impairments"

# a lab error still reports, verdict error, and the error text is in the document
"$tcplab" run rst-on-close --server-cmd 'exit 3' --json --results "$results" \
	>"$results/err.out" 2>"$results/err.err"
rc=$?
[ "$rc" = 99 ] || bad "a server that exits at once: exit $rc, want 99"
grep -q '"verdict":"error","error":"' "$results/err.out" || bad "no verdict error in: $(cat "$results/err.out")"
"$check" "$schema" "$results/err.out" || bad "the error report is not valid under the schema"

# usage errors print no JSON at all
out=$("$tcplab" run rst-on-close --json --set nope=1 --results "$results" 2>/dev/null)
[ -z "$out" ] || bad "a usage error printed on stdout: $out"

[ "$fail" = 0 ] && echo "ok: --json one line per run on stdout, schema-valid reports, latest, wire.log"
exit "$fail"
