#!/bin/sh
# The kinds of TCP packet in a capture, in tcpdump's notation ([S], [S.], [.], [P.], [F.], [R],
# [R.] ...), one per line, sorted: as tshark reads the flags (independent of tcplab's reader).
# The TCP header an ICMP error quotes is not a packet of its own.
# usage: capture-kinds.sh PCAP
tshark -r "$1" -Y 'tcp and not icmp' -T fields -e tcp.flags.syn -e tcp.flags.fin -e tcp.flags.push \
	-e tcp.flags.reset -e tcp.flags.ack 2>/dev/null | awk '
	function on(x) { return x == "1" || x == "True" }
	{ print "[" (on($1) ? "S" : "") (on($2) ? "F" : "") (on($3) ? "P" : "") (on($4) ? "R" : "") (on($5) ? "." : "") "]" }' |
	sort -u
