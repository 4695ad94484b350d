#!/bin/sh
# --impair ...,at=: an impairment installed on a running lab, at a named moment of the story or
# at a time into it, is seen in the captures only from then on. Each packet of the server is
# found in both captures (by IP id, flags, seq and ack): its time on the wire is the client's
# timestamp minus the server's. Before the impairment's applied_us (report.json) every one
# crosses in well under the delay; from it on, each takes the delay. For nftables, a drop at=T
# drops nothing before T. A pause (--step) stops the story's clock: at=T comes T of story time
# after the start, the pause not counted.
# usage: impair-at.sh TCPLAB
set -u
tcplab=$1
[ "$(id -u)" = 0 ] || { echo "needs root (network namespaces): skipped"; exit 77; }
command -v tshark >/dev/null || { echo "no tshark: skipped"; exit 77; }
work=$(mktemp -d /tmp/impair-at.XXXXXX)
trap 'rm -rf "$work"' EXIT
fail=0

# transit DIR: "server_time transit_ms flags" for every server->client packet of run DIR
transit() {
	for side in server client; do
		tshark -r "$1/$side.pcap" -Y 'ip.src == 198.51.100.1 && tcp' -T fields \
			-e frame.time_epoch -e ip.id -e tcp.flags.str -e tcp.seq_raw -e tcp.ack_raw \
			2>/dev/null | sed "s/^/$side /"
	done | awk '$1 == "server" { t[$3 " " $4 " " $5 " " $6] = $2; next }
		($3 " " $4 " " $5 " " $6) in t { k = $3 " " $4 " " $5 " " $6
			printf "%.6f %.3f %s\n", t[k], ($2 - t[k]) * 1000, $4 }'
}

json_field() { python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$1/report.json" "$2"; }

# check DIR DELAY_MS WHAT: before applied_us every s2c packet < DELAY/2 ms, from it on >= DELAY
check() {
	dir=$1 delay=$2 what=$3
	applied=$(json_field "$dir" "[i['applied_us'] for i in r['impairments'] if 'applied_us' in i][0]")
	transit "$dir" >"$dir/transit"
	verdict=$(awk -v a="$applied" -v d="$delay" '
		{ t = $1 * 1e6; if (t < a) { before++; if ($2 >= d / 2) bad++ }
		  else { after++; if ($2 < d) bad++ } }
		END { printf "%d %d %d", before, after, bad }' "$dir/transit")
	set -- $verdict
	if [ "$1" -ge 1 ] && [ "$2" -ge 1 ] && [ "$3" = 0 ]; then
		echo "ok: $what: $1 server packets before it crossed in < $((delay / 2)) ms, $2 after it took >= $delay ms"
	else
		echo "FAIL: $what: before $1, after $2, wrong $3 (applied_us $applied):"
		cat "$dir/transit"; fail=1
	fi
}

# at a moment: rst-on-close's RST comes after before-close, the handshake and ACK before it
"$tcplab" run rst-on-close --impair delay=40ms,dir=s2c,at=before-close --results "$work/m" \
	--quiet >"$work/m.out" 2>&1
rc=$?
dir=$(readlink -f "$work/m/latest")
if [ $rc != 0 ] || ! grep -q "^# [0-9]* applied at moment before-close: delay=40ms" "$dir/wire.log"; then
	echo "FAIL: at=before-close: exit $rc"; cat "$work/m.out" "$dir/wire.log"; fail=1
else
	check "$dir" 40 "delay=40ms,dir=s2c,at=before-close (rst-on-close)"
	grep -q "R" "$dir/transit" && awk '$3 ~ /R/ && $2 < 40 { exit 1 }' "$dir/transit" ||
		{ echo "FAIL: the RST was not delayed:"; cat "$dir/transit"; fail=1; }
fi

# at a time: nagle-delayed-ack's replies from 300 ms of story time on take 20 ms more
"$tcplab" run nagle-delayed-ack --impair delay=20ms,dir=s2c,at=300ms --results "$work/t" \
	--quiet --outcomes-only >"$work/t.out" 2>&1
dir=$(readlink -f "$work/t/latest")
check "$dir" 20 "delay=20ms,dir=s2c,at=300ms (nagle-delayed-ack, nfqueue)"

# nftables at a time: the replies with data (flags PA) are dropped from 300 ms on, none before
"$tcplab" run nagle-delayed-ack --impair drop,dir=s2c,flags=PA,at=300ms --results "$work/d" \
	--quiet --outcomes-only >"$work/d.out" 2>&1
dir=$(readlink -f "$work/d/latest")
applied=$(json_field "$dir" "[i['applied_us'] for i in r['impairments'] if 'applied_us' in i][0]")
first_pa=$(tshark -r "$dir/server.pcap" -Y 'ip.src == 198.51.100.1 && tcp.len > 0' -T fields \
	-e frame.time_epoch 2>/dev/null | head -1)
drops=$(awk '$2 == "drop"' "$dir/wire.log")
if [ -z "$drops" ] || echo "$drops" | awk -v a="$applied" '$1 < a { exit 1 }' &&
	awk -v f="$first_pa" -v a="$applied" 'BEGIN { exit !(f * 1e6 < a) }'; then
	if [ -n "$drops" ]; then
		echo "ok: drop,dir=s2c,flags=PA,at=300ms (nftables): replies passed before it, the first dropped after: $(echo "$drops" | head -1 | cut -d' ' -f4-)"
	else
		echo "FAIL: drop at=300ms dropped nothing"; cat "$dir/wire.log"; fail=1
	fi
else
	echo "FAIL: drop at=300ms: a drop before it was applied ($applied), or no reply before it:"
	cat "$dir/wire.log"; fail=1
fi

# a time past the story's end: never applied, and said so
"$tcplab" run rst-on-close --impair loss=50%,at=9s --results "$work/n" --quiet >"$work/n.out" 2>&1
if grep -q "never applied" "$work/n.out" && grep -q "^# never applied" "$work/n/latest/wire.log"; then
	echo "ok: at=9s: $(grep 'never applied' "$work/n.out")"
else
	echo "FAIL: at=9s past the story:"; cat "$work/n.out"; fail=1
fi

# an unknown moment: exit 2 before any lab, naming the moments
"$tcplab" run rst-on-close --impair delay=1ms,at=nope --results "$work/u" >"$work/u.out" 2>&1
rc=$?
if [ $rc = 2 ] && grep -q "its moments: before-close, after-close" "$work/u.out" && [ ! -e "$work/u" ]; then
	echo "ok: at=nope: $(cat "$work/u.out")"
else
	echo "FAIL: at=nope: exit $rc"; cat "$work/u.out"; fail=1
fi

# a pause stops the story's clock: rst-on-close's story takes ~40 ms; with --step before-close
# held 2 s, at=150ms would come during the pause if paused time counted (and delay the RST);
# it does not count, so the story ends before 150 ms of its time and the delay never applies
if command -v script >/dev/null; then
	{ sleep 2; echo; } | script -qec "$tcplab run rst-on-close --step before-close \
		--impair delay=40ms,dir=s2c,at=150ms --results $work/p --quiet" /dev/null >"$work/p.out" 2>&1
	dir=$(readlink -f "$work/p/latest")
	transit "$dir" >"$dir/transit"
	if grep -q "verdict: as documented" "$work/p.out" && grep -q "never applied" "$work/p.out" &&
		awk '$2 >= 20 { exit 1 }' "$dir/transit"; then
		echo "ok: at=150ms, 2 s paused at before-close: $(grep 'never applied' "$work/p.out" | tr -s ' '); the RST crossed in $(awk '$3 ~ /R/ { print $2 }' "$dir/transit") ms"
	else
		echo "FAIL: at=150ms with a 2 s pause:"; cat "$work/p.out" "$dir/transit"; fail=1
	fi
fi
exit $fail
