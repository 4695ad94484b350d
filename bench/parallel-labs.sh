#!/bin/sh
# Scale: N labs at once (default 64), each must end with the packet-level facts of its reference
# capture in pcaps/ (`tcplab facts` = pcaps/SCENARIO/VARIANT/facts.txt) and with no frame other
# than IPv4/TCP in either capture (no ARP: neighbours are static, links are up before the story).
# Runs are judged on their outcome expectations (--outcomes-only: no timing window is promised at
# 64 labs per 2 cores). A benchmark, never part of pass/fail: ~1-3 min on 2 cores.
# usage: bench/parallel-labs.sh TCPLAB PCAPS-DIR [N [SCENARIO[:VARIANT]...]]
#   default: every registered variant in turn until N labs; e.g. 64 nagle-delayed-ack:default
set -u
tcplab=$1 pcaps=$2 n=${3:-64}
shift $(($# < 3 ? $# : 3))
if [ "$(id -u)" != 0 ]; then
	echo "needs root (many labs at once): skipped"
	exit 77
fi
work=$(mktemp -d /tmp/parallel-labs.XXXXXX)
[ -n "${KEEP_WORK:-}" ] && echo "work: $work" || trap 'rm -rf "$work"' EXIT
export TCPLAB_TAG="${TCPLAB_TAG:-bench}/parallel-labs-$$"
if [ $# -gt 0 ]; then
	printf '%s\n' "$@" | sed 's/^\([^:]*\)$/\1:default/' >"$work/pool"
else
	"$tcplab" list --cases | awk '!/^#/ && $2 == $3 { print $1 ":" $2 }' >"$work/pool"
fi
pool=$(wc -l <"$work/pool")

start=$(date +%s%N)
i=0
while [ "$i" -lt "$n" ]; do
	run=$(sed -n "$((i % pool + 1))p" "$work/pool")
	mkdir -p "$work/$i"
	"$tcplab" run "${run%%:*}" --variant "${run##*:}" --results "$work/$i" --quiet \
		--outcomes-only >"$work/$i/out" 2>&1 &
	echo "$! $i $run" >>"$work/pids"
	i=$((i + 1))
done
ok=0 same=0 fin=0 syn=0 other=0 arp=0
while read -r pid i run; do
	wait "$pid"
	rc=$?
	s=${run%%:*} v=${run##*:}
	dir=$(ls -d "$work/$i/$s/"* 2>/dev/null | tail -1)
	[ "$rc" = 0 ] && ok=$((ok + 1))
	if [ -z "$dir" ]; then
		echo "lab $i ($run): exit $rc, no run folder"
		continue
	fi
	for side in client server; do
		o=$("$tcplab" show "$dir/$side.pcap" | sed -n '1s/.* packets, \([0-9]*\) other.*/\1/p')
		other=$((other + ${o:-0}))
		if command -v tcpdump >/dev/null; then
			a=$(tcpdump -nn -r "$dir/$side.pcap" arp 2>/dev/null | wc -l)
			arp=$((arp + a))
		fi
	done
	"$tcplab" facts "$dir" >"$work/$i/facts"
	if diff -u "$pcaps/$s/$v/facts.txt" "$work/$i/facts" >"$work/$i/diff"; then
		same=$((same + 1))
	else
		echo "lab $i ($run): exit $rc, facts differ from pcaps/$s/$v:"
		sed 1,2d "$work/$i/diff"
		# the usual suspects: a SYN re-sent (its first packet lost), a FIN re-sent (a tail
		# loss probe while the peer's program waited for a CPU)
		grep -q '^+.*SYN' "$work/$i/diff" &&
			[ "$(grep '^-.*SYN' "$work/$i/diff" | sed 's/.*SYN \([0-9]*\).*/\1/')" != \
				"$(grep '^+.*SYN' "$work/$i/diff" | sed 's/.*SYN \([0-9]*\).*/\1/')" ] &&
			syn=$((syn + 1))
		[ "$(sed 's/FIN [0-9]*//' "$pcaps/$s/$v/facts.txt")" = \
			"$(sed 's/FIN [0-9]*//' "$work/$i/facts")" ] && fin=$((fin + 1))
	fi
	[ "$rc" = 0 ] || { echo "lab $i ($run): exit $rc:"; tail -5 "$work/$i/out"; }
done <"$work/pids"
end=$(date +%s%N)
echo "$n labs at once ($pool kinds) in $(((end - start) / 1000000)) ms: $ok as documented" \
	"(outcomes), $same with the reference facts ($syn of the others with a SYN count off," \
	"$fin with only FIN counts off), $other non-TCP frames," \
	"$(command -v tcpdump >/dev/null && echo "$arp ARP frames" || echo "ARP not counted: no tcpdump")"
[ "$ok" = "$n" ] && [ "$same" = "$n" ] && [ "$other" = 0 ]
