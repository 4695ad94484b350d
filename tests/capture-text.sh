#!/bin/sh
# Each variant's "in the capture" text and its reference captures agree: every kind of TCP
# packet in pcaps/SCENARIO/VARIANT/{client,server}.pcap (tcpdump's notation, read by tshark) is
# named in the text, and the text names no kind the captures lack. 77 without tshark.
# usage: capture-text.sh TCPLAB PCAPS-DIR TESTS-DIR
set -u
tcplab=$1 pcaps=$2 tests=$3
command -v tshark >/dev/null || { echo "tshark is not installed: skipped"; exit 77; }
work=$(mktemp -d /tmp/capture-text.XXXXXX)
trap 'rm -rf "$work"' EXIT
"$tcplab" list --captures >"$work/texts" || exit 1
n=0 bad=0
while read -r s v text; do
	n=$((n + 1))
	ref="$pcaps/$s/$v"
	[ -f "$ref/client.pcap" ] || { echo "FAIL: $s/$v: no reference capture"; bad=$((bad + 1)); continue; }
	printf '%s\n' "$text" | grep -o '\[[SFPR.]*\]' | sort -u >"$work/said"
	{ sh "$tests/capture-kinds.sh" "$ref/client.pcap"; sh "$tests/capture-kinds.sh" "$ref/server.pcap"; } |
		sort -u >"$work/seen"
	if ! cmp -s "$work/said" "$work/seen"; then
		echo "FAIL: $s/$v: the text names $(tr '\n' ' ' <"$work/said")but the captures hold $(tr '\n' ' ' <"$work/seen")"
		bad=$((bad + 1))
	else
		echo "ok: $s/$v: $(tr '\n' ' ' <"$work/seen")"
	fi
done <"$work/texts"
[ "$n" -gt 0 ] || { echo "FAIL: no variants listed"; exit 1; }
[ "$bad" = 0 ] || exit 1
echo "$n variants: texts and reference captures agree"
