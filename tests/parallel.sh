#!/bin/sh
# Isolation under load: every variant of every registered scenario at once, each on its own lab.
# Every run must reach its documented verdict on its outcome expectations (--outcomes-only:
# timing windows are not promised with ~120 labs on a 2-core machine), show the packet-level facts
# of its reference capture (pcaps/SCENARIO/VARIANT/facts.txt: no SYN lost to a link that was not
# up yet, no cross-talk), and no frame other than IPv4/TCP in either capture (no ARP: neighbours
# are static). Labs use the same addresses, so cross-talk would show as packets, counters or
# states that the expectations and the facts count exactly. One allowance: a FIN may be sent
# more often than in the reference. With ~120 labs (and maybe another suite) on 2 cores, a peer's
# program can wait for a CPU longer than the tail loss probe's timeout (2 ticks, 8 ms at
# HZ=250, with more than one segment in flight: tcp_schedule_loss_probe()), and the FIN is
# re-sent: TCP doing its job, not a lab fault (seen in nagle-delayed-ack's variants).
# reference.sh compares exactly, 4 labs at a time. 64 labs at once: bench/parallel-labs.sh.
# usage: parallel.sh TCPLAB PCAPS-DIR
set -u
tcplab=$1 pcaps=$2
# without root, tcplab uses an unprivileged user namespace; if it cannot, every run says 77
"$tcplab" run rst-on-close --results /dev/null --quiet >/dev/null 2>&1
[ $? = 77 ] && { echo "cannot build labs here (no root, no user namespaces): skipped"; exit 77; }
# facts_match REF RUN: the same facts, but the FIN counts of RUN may exceed REF's; the
# flow-control line (zero window, window probe, SACK: whether a reader ever lagged, whether a
# spurious loss probe drew a D-SACK) is timing, which ~120 labs on 2 cores do not promise
# (the reference test, one lab at a time per CPU, still compares it)
facts_match() {
	sed '/: zero window [a-z]* window probe/d; s/FIN [0-9]*/FIN _/' "$1" >"$2.ref"
	sed '/: zero window [a-z]* window probe/d; s/FIN [0-9]*/FIN _/' "$2" >"$2.run"
	cmp -s "$2.ref" "$2.run" && awk '$6 != "FIN" { next } NR == FNR { fin[FNR] = $7; next }
		$7 < fin[FNR] { bad = 1 } END { exit bad }' "$1" "$2"
}
results=$(mktemp -d /tmp/parallel.XXXXXX)
trap 'rm -rf "$results"' EXIT
runs=$("$tcplab" list --cases | awk '!/^#/ && $2 == $3 { print $1 ":" $2 }')
for run in $runs; do
	"$tcplab" run "${run%%:*}" --variant "${run##*:}" --results "$results/$run" --quiet \
		--outcomes-only >"$results/$run.out" 2>&1 &
	echo "$! $run" >>"$results/pids"
done
fail=0 n=0
while read -r pid run; do
	wait "$pid"
	rc=$?
	n=$((n + 1))
	s=${run%%:*} v=${run##*:}
	dir=$(ls -d "$results/$run/$s/"* 2>/dev/null | tail -1)
	why=
	[ "$rc" = 0 ] || why="exit $rc"
	if [ -n "$dir" ]; then
		"$tcplab" facts "$dir" >"$results/$run.facts" 2>&1
		diff -u "$pcaps/$s/$v/facts.txt" "$results/$run.facts" >"$results/$run.diff"
		facts_match "$pcaps/$s/$v/facts.txt" "$results/$run.facts" ||
			why="$why${why:+, }facts differ from pcaps/$s/$v"
		for side in client server; do
			"$tcplab" show "$dir/$side.pcap" | head -1 | grep -q ' 0 other,' ||
				why="$why${why:+, }non-TCP frames in $side.pcap"
		done
	else
		why="$why${why:+, }no run folder"
	fi
	if [ -n "$why" ]; then
		echo "FAIL: $run: $why"
		cat "$results/$run.out" "$results/$run.diff" 2>/dev/null
		fail=1
	else
		echo "ok: $run"
	fi
done <"$results/pids"
[ "$fail" = 0 ] && echo "$n runs at once: all as documented, with the reference facts, no ARP"
exit "$fail"
