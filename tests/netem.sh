#!/bin/bash
# The netem backend on a kernel that has sch_netem (77 elsewhere: this machine's kernel has
# none; tests/kernels/run.sh --tests netem runs it in a guest): backend=auto picks netem where
# netem does a spec exactly and says why, each kind installs, netem's own statistics come back
# in report.json and make sense for the kind (duplicates double what is sent, a 100% loss
# drops everything and sends nothing, a delay shows in the story's length), a second delay on
# a direction goes to NFQUEUE with the reason, and a seed goes to netem only where it takes one.
#   tests/netem.sh BUILD/tcplab
set -u
tcplab=$1
results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT
fails=0

out=$("$tcplab" run rst-on-close --impair delay=1ms,backend=netem --results "$results" --quiet 2>&1)
if [ $? = 77 ]; then
	echo "SKIP: ${out##*$'\n'}"
	exit 77
fi

# run SCENARIO[:VARIANT] CHECK SPEC...: CHECK is Python over r (report.json) and imp (by spec)
run() {
	local sc=${1%%:*} variant=default check=$2 json
	[[ $1 == *:* ]] && variant=${1#*:}
	shift 2
	local args=()
	for s in "$@"; do args+=(--impair "$s"); done
	json=$("$tcplab" run "$sc" --variant "$variant" --json --results "$results" "${args[@]}" \
		2>"$results/stderr")
	if ! python3 -c "$python3_check" "$check" "$*" <<<"$json"; then
		fails=$((fails + 1))
		sed 's/^/    /' "$results/stderr" | grep -E 'wire:|netem|verdict|ERROR' >&2
	fi
}

python3_check=$(cat <<'PY'
import json, sys
check, specs = sys.argv[1], sys.argv[2]
r = json.loads(sys.stdin.read().strip().splitlines()[-1])
imp = {i["spec"]: i for i in r["impairments"]}
def netem(spec, d):
    return imp[spec]["netem"][d]
try:
    ok = eval(check)
except Exception as e:
    ok = False
    print(f"  error in check: {e!r}")
print(("ok   " if ok else "FAIL ") + specs + ": " + check)
if not ok:
    for i in r["impairments"]:
        print(f"     {i['spec']}: {i['backend']} ({i['why']}) {json.dumps(i['netem'])}")
    print(f"     verdict {r['verdict']}, error {r['error']}")
sys.exit(0 if ok else 1)
PY
)

D='delay=20ms,jitter=2ms,dir=both'
run rst-on-close "imp['$D']['backend'] == 'netem' and 'auto: netem' in imp['$D']['why'] \
and netem('$D', 'c2s')['read'] and netem('$D', 's2c')['sent_packets'] > 0 \
and r['timings']['protocol_ms'] >= 40 and r['verdict'] == 'as documented' \
and not netem('$D', 'c2s')['seed_taken']" "$D"

D='duplicate=100%,dir=c2s'
run rst-on-close "imp['$D']['backend'] == 'netem' and netem('$D', 'c2s')['sent_packets'] > 0 \
and netem('$D', 'c2s')['sent_packets'] % 2 == 0 and 's2c' not in imp['$D']['netem']" "$D"

D='loss=100%,dir=s2c'
run connect-errors "netem('$D', 's2c')['dropped'] >= 1 and netem('$D', 's2c')['sent_packets'] == 0" "$D"

D='rate=1mbit,dir=s2c' L='delay=5ms,limit=50,dir=c2s'
run sticky-packets "imp['$D']['backend'] == 'netem' and imp['$L']['backend'] == 'netem' \
and netem('$D', 's2c')['sent_bytes'] > 0 and netem('$L', 'c2s')['limit'] == 50 \
and netem('$D', 's2c')['limit'] == 1000" "$D" "$L"

D='reorder=50%,hold=5ms,dir=c2s' C='corrupt=0.1%,dir=s2c'
run rst-on-close "imp['$D']['backend'] == 'netem' and imp['$C']['backend'] == 'netem'" "$D" "$C"

# jitter keeps the order (netem's tfifo sorts by time to send: a rate makes each packet count
# from the last one's): 45 full segments with 10 ms + 0..8 ms each arrive in sequence order
J='delay=10ms,jitter=8ms,dir=c2s'
json=$("$tcplab" run split-packets --json --results "$results" --impair "$J" 2>/dev/null)
dir=$(python3 -c 'import json,sys; print(json.loads(sys.stdin.read().splitlines()[-1])["results"])' <<<"$json")
order=$(tcpdump -nn -S -r "$dir/server.pcap" 'dst host 198.51.100.1 and greater 100' 2>/dev/null |
	grep -o 'seq [0-9]*:' | tr -dc '0-9\n' |
	awk 'NR > 1 && $1 < prev { bad++ } { prev = $1; n++ } END { printf "%d %d", n, bad }')
if [ "${order% *}" -ge 30 ] && [ "${order#* }" = 0 ]; then
	echo "ok   $J: ${order% *} data segments at the server, none out of order"
else
	echo "FAIL $J: data segments, out of order: $order"
	fails=$((fails + 1))
fi

# two on one direction share its qdisc; a second delay there is NFQUEUE's, with the reason
A='delay=10ms,dir=c2s' B='loss=1%,dir=c2s' E='delay=5ms,dir=c2s'
run rst-on-close "imp['$A']['backend'] == imp['$B']['backend'] == 'netem' \
and netem('$A', 'c2s') == netem('$B', 'c2s') and imp['$E']['backend'] == 'nfqueue' \
and 'already does this kind' in imp['$E']['why']" "$A" "$B" "$E"

# a seed: netem's from Linux 6.3 (TCA_NETEM_PRNG_SEED, echoed back), NFQUEUE's before
S='loss=1%,seed=7,dir=c2s'
if [ "$(printf '%s\n' "$(uname -r)" 6.3 | sort -V | head -1)" = 6.3 ]; then
	run rst-on-close "imp['$S']['backend'] == 'netem' and netem('$S', 'c2s')['seed_taken']" "$S"
else
	run rst-on-close "imp['$S']['backend'] == 'nfqueue' and 'since Linux 6.3' in imp['$S']['why']" "$S"
fi

# changed on a running lab (--impair ...,at=MOMENT): the qdisc appears at the moment, so only
# the RST after rst-on-close's before-close goes through it (the SYN-ACK and ACK before do not)
A='delay=20ms,dir=s2c,at=before-close'
run rst-on-close "imp['$A']['backend'] == 'netem' and imp['$A']['applied_us'] > 0 \
and 1 <= netem('$A', 's2c')['sent_packets'] <= 2 and r['verdict'] == 'as documented'" "$A"

echo "netem on $(uname -r): $fails failed"
[ $fails = 0 ]
