#!/bin/sh
# Every committed reference capture opens cleanly in Wireshark's dissectors: tshark reads it,
# and no packet is malformed or carries an expert error (port 5000, for one, decodes as RSL
# "[Malformed Packet]"). One tshark per capture, as many at once as there are CPUs.
# 77 = skipped where tshark is not installed.
# usage: tshark-clean.sh PCAPS-DIR
set -u
pcaps=$1
command -v tshark >/dev/null || { echo "tshark is not installed: skipped"; exit 77; }
out=$(mktemp -d /tmp/tshark-clean.XXXXXX)
trap 'rm -rf "$out"' EXIT
n=$(ls "$pcaps"/*/*/*.pcap 2>/dev/null | wc -l)
[ "$n" -gt 0 ] || { echo "FAIL: no captures in $pcaps"; exit 1; }
# each capture: its verdict in its own file (FAIL lines), nothing when it is clean
ls "$pcaps"/*/*/*.pcap | xargs -P "$(nproc)" -I{} sh -c '
	f=$1 report=$2/$(echo "$1" | tr / _)
	if ! hits=$(tshark -r "$f" -Y "_ws.malformed or _ws.expert.severity >= 8388608" 2>"$report.err"); then
		echo "FAIL: $f: tshark cannot read it: $(grep -v "Running as user" "$report.err")" >"$report"
	elif [ -n "$hits" ]; then
		printf "FAIL: %s: malformed or expert-error packets:\n%s\n" "$f" \
			"$(echo "$hits" | sed "s/^/    /")" >"$report"
	fi
	rm -f "$report.err"' sh {} "$out"
if [ -n "$(ls "$out")" ]; then
	cat "$out"/*
	exit 1
fi
echo "$n captures decode cleanly in tshark"
