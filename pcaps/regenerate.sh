#!/bin/sh
# Regenerate the reference captures: every scenario variant once, keeping client.pcap,
# server.pcap, report.html and facts.txt (what a re-run must reproduce: SYN/FIN/RST, payload
# bytes and retransmissions per direction, per capture, up to the end of the story).
#   usage: pcaps/regenerate.sh [TCPLAB]      (root, or unprivileged user namespaces)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
tcplab=${1:-$top/build/tcplab}
work=$(mktemp -d /tmp/pcaps.XXXXXX)
trap 'rm -rf "$work"' EXIT

grep -v '^#' "$top/tests/scenario-cases.txt" | awk 'NF == 4 && $2 == $3 { print $1, $2 }' |
while read -r scenario variant; do
	"$tcplab" run "$scenario" --variant "$variant" --results "$work" --quiet >/dev/null ||
		{ echo "$scenario/$variant did not run as documented: not regenerated" >&2; exit 1; }
	run=$(ls -d "$work/$scenario/"*"-$variant-"* | tail -1)
	dest="$top/pcaps/$scenario/$variant"
	mkdir -p "$dest"
	cp "$run/client.pcap" "$run/server.pcap" "$run/report.html" "$dest/"
	"$tcplab" facts "$run" >"$dest/facts.txt"
	echo "$scenario/$variant: $(cat "$dest/facts.txt" | tr -s ' \n' ' ' | cut -c1-100)..."
done
