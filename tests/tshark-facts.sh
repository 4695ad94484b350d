#!/bin/sh
# The facts of a run folder (the format of `tcplab facts`), recomputed by tshark: an independent
# reading of both captures up to the story's end (report.json's story_end_us); payload is new
# bytes (sequence space first covered), as tcplab counts it. The TCP header an ICMP error quotes
# is not a packet of its own: TCP lines count TCP outside ICMP, then one line per kind of ICMP
# message (sender, receiver, type, code) in the order each first appeared.
# usage: tshark-facts.sh RUN-DIR
set -eu
dir=$1
end=$(sed -n 's/.*"story_end_us": *\([0-9]*\).*/\1/p' "$dir/report.json" | head -1)
[ -n "$end" ] || { echo "tshark-facts: no story_end_us in $dir/report.json" >&2; exit 2; }
for side in client server; do
	echo "$side-side capture:"
	tshark -r "$dir/$side.pcap" -Y 'tcp and not icmp' -T fields -E separator=' ' -e frame.time_epoch \
		-e ip.src -e ip.dst -e tcp.flags.syn -e tcp.flags.fin -e tcp.flags.reset -e tcp.len \
		-e tcp.stream -e tcp.seq 2>/dev/null |
		awk -v end="$end" '
		function b(x) { return x == "1" || x == "True" }
		{
			split($1, t, "."); us = t[1] * 1000000 + substr(t[2] "000000", 1, 6)
			if (us > end) next
			k = $2 " -> " $3
			if (!(k in seen)) { seen[k] = 1; order[n++] = k }
			syn[k] += b($4); fin[k] += b($5); rst[k] += b($6)
			# new payload bytes: the highest relative sequence number each stream reached
			s = k SUBSEP $8
			if ($7 > 0 && $9 + $7 - 1 > top[s]) { len[k] += $9 + $7 - 1 - top[s]; top[s] = $9 + $7 - 1 }
		}
		END {
			for (i = 0; i < n; i++) { k = order[i]
				printf "  %s: SYN %d FIN %d RST %d payload %d bytes\n", k, syn[k], fin[k], rst[k], len[k] }
		}'
	# flow control, as Wireshark's tcp.analysis words it: zero windows, SACK blocks above the
	# ACK number, and window probes: keep-alives (Linux's probe) or 1-byte zero-window probes
	# sent while the other direction's last window was 0
	tshark -r "$dir/$side.pcap" -Y 'tcp and not icmp' -T fields -E separator=, -E occurrence=f \
		-e frame.time_epoch -e ip.src -e ip.dst -e tcp.flags.syn -e tcp.flags.ack \
		-e tcp.window_size_value -e tcp.ack -e tcp.analysis.zero_window \
		-e tcp.analysis.keep_alive \
		-e tcp.analysis.zero_window_probe -e tcp.options.sack_le 2>/dev/null |
		awk -F, -v end="$end" '
		function b(x) { return x == "1" || x == "True" }
		{
			split($1, t, "."); us = t[1] * 1000000 + substr(t[2] "000000", 1, 6)
			if (us > end) next
			k = $2 " -> " $3; r = $3 " -> " $2
			if (!(k in seen)) { seen[k] = 1; order[m++] = k }
			if ($8 != "") zero[k] = 1
			if ($11 != "" && $11 + 0 > $7 + 0) sack[k] = 1
			if (($9 != "" || $10 != "") && (r in win) && win[r] == 0) probes[k]++
			if (b($5) && !b($4)) win[k] = $6 + 0
		}
		END {
			for (i = 0; i < m; i++) { k = order[i]
				if (!zero[k] && !probes[k] && !sack[k]) continue
				printf "  %s: zero window %s window probe %s SACK %s\n", k, zero[k] ? "yes" : "no",
					probes[k] ? "yes" : "no", sack[k] ? "yes" : "no"
			}
		}'
	tshark -r "$dir/$side.pcap" -Y icmp -T fields -E separator=' ' -E occurrence=f \
		-e frame.time_epoch -e ip.src -e ip.dst -e icmp.type -e icmp.code 2>/dev/null |
		awk -v end="$end" '
		{
			split($1, t, "."); us = t[1] * 1000000 + substr(t[2] "000000", 1, 6)
			if (us > end) next
			k = $2 " -> " $3 ": ICMP type " $4 " code " $5
			if (!(k in n)) order[m++] = k
			n[k]++
		}
		END { for (i = 0; i < m; i++) printf "  %s: %d\n", order[i], n[order[i]] }'
done
