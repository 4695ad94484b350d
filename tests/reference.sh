#!/bin/sh
# The committed reference captures still tell the truth: a fresh run of every scenario variant
# shows the same packet-level facts (pcaps/*/*/facts.txt: SYN, FIN, RST, payload bytes and
# retransmissions per direction in both captures, up to the end of the story), and every
# committed capture is readable and holds IPv4 TCP or ICMP only (no ARP: the lab's neighbours
# are static).
# usage: reference.sh TCPLAB PCAPS-DIR
set -u
tcplab=$1 pcaps=$2
"$tcplab" run rst-on-close --results /dev/null --quiet >/dev/null 2>&1
[ $? = 77 ] && { echo "cannot build labs here: skipped"; exit 77; }
work=$(mktemp -d /tmp/reference.XXXXXX)
trap 'rm -rf "$work"' EXIT

check() { # check SCENARIO VARIANT: one line, ok or FAIL with the difference
	s=$1 v=$2 ref="$pcaps/$1/$2"
	for side in client server; do
		head=$("$tcplab" show "$ref/$side.pcap" 2>&1 | head -1)
		case $head in
		*" 0 other,"*) ;;
		*" other,"*)
			echo "FAIL: $s/$v: committed $side.pcap holds frames other than IPv4 TCP or ICMP: $head"
			return
			;;
		*)
			echo "FAIL: $s/$v: committed $side.pcap unreadable: $head"
			return
			;;
		esac
	done
	"$tcplab" run "$s" --variant "$v" --results "$work/$s-$v" --quiet >/dev/null 2>&1
	run=$(ls -d "$work/$s-$v/$s/"* 2>/dev/null | tail -1)
	[ -n "$run" ] || { echo "FAIL: $s/$v: no run"; return; }
	"$tcplab" facts "$run" >"$work/$s-$v.facts"
	if diff -u "$ref/facts.txt" "$work/$s-$v.facts" >"$work/$s-$v.diff"; then
		echo "ok: $s/$v"
	else
		echo "FAIL: $s/$v differs from the reference:"
		cat "$work/$s-$v.diff"
	fi
}

# every registered variant (a missing reference is the `derived` test's to report)
"$tcplab" list --cases | awk '!/^#/ && $2 == $3 { print $1, $2 }' | { while read -r s v; do check "$s" "$v" & [ $(jobs -p | wc -l) -ge 4 ] && wait; done; wait; } |
	tee "$work/out"
n=$(grep -c '^ok' "$work/out")
grep -q '^FAIL' "$work/out" && exit 1
[ "$n" -gt 0 ] || { echo "FAIL: no reference captures in $pcaps"; exit 1; }
echo "$n variants match their reference captures"
