#!/bin/sh
# Every committed reference capture opens cleanly in Wireshark's dissectors: tshark reads it,
# and no packet is malformed or carries an expert error (port 5000, for one, decodes as RSL
# "[Malformed Packet]"). 77 = skipped where tshark is not installed.
# usage: tshark-clean.sh PCAPS-DIR
set -u
pcaps=$1
command -v tshark >/dev/null || { echo "tshark is not installed: skipped"; exit 77; }
n=0 bad=0
for f in "$pcaps"/*/*/*.pcap; do
	n=$((n + 1))
	if ! out=$(tshark -r "$f" -Y '_ws.malformed or _ws.expert.severity >= 8388608' 2>&1 >/dev/null); then
		echo "FAIL: $f: tshark cannot read it: $out"
		bad=$((bad + 1))
		continue
	fi
	hits=$(tshark -r "$f" -Y '_ws.malformed or _ws.expert.severity >= 8388608' 2>/dev/null)
	if [ -n "$hits" ]; then
		echo "FAIL: $f: malformed or expert-error packets:"
		echo "$hits" | sed 's/^/    /'
		bad=$((bad + 1))
	fi
done
[ "$n" -gt 0 ] || { echo "FAIL: no captures in $pcaps"; exit 1; }
[ "$bad" = 0 ] || exit 1
echo "$n captures decode cleanly in tshark"
