#!/bin/bash
# `tcplab show` on captures nobody here made: taken in this test by tcpdump (and dumpcap) in the
# test's own network namespaces (never the host's loopback), of connections made by a small
# Python server and client, then read by tcplab and by tshark. Every count is compared with
# tshark's reading of the same file: connections (tcp.stream), frames and bytes per connection
# (-z conv,tcp), relative seq/ack/len of every packet, the client of every handshake.
# Captures: -i any as Linux cooked v2 and v1 (IPv4 and IPv6 on loopback), pcapng (dumpcap), an
# IPv6-only file, 2000+ connections, connections already open when the capture starts (the
# server speaking first), a truncated file, 802.1Q and QinQ tags on a veth pair, raw IP and BSD
# loopback (DLT_NULL) made from a capture here by rewriting its link headers.
# usage: show-any.sh TCPLAB TRAFFIC.py  (SHOW_ANY_KEEP=DIR keeps the captures there)
set -u
tcplab=$1 traffic=$2
if [ "$(id -u)" != 0 ]; then
	echo "needs root (network namespaces): skipped"
	exit 77
fi
for tool in tcpdump tshark python3 ip; do
	if ! command -v $tool >/dev/null; then
		echo "$tool is not installed: skipped"
		exit 77
	fi
done
dir=$(mktemp -d /tmp/show-any.XXXXXX)
ns=showany-$$-$RANDOM
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	for n in "$ns" "$ns-a" "$ns-b"; do ip netns del "$n" 2>/dev/null; done
	[ -n "${SHOW_ANY_KEEP:-}" ] && cp "$dir"/*.pcap* "$SHOW_ANY_KEEP"/
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
fails=0
fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}
ok() { echo "ok: $*"; }

# run NS OUT ERR CMD...: in the background inside NS, stdout to OUT and stderr to ERR (- keeps
# it), opened in the background (a fifo blocks until its reader comes); its pid added to those
# the trap kills
run() {
	n=$1 o=$2 e=$3
	shift 3
	if [ "$e" = - ]; then
		ip netns exec "$n" "$@" >"$o" &
	else
		ip netns exec "$n" "$@" >"$o" 2>"$e" &
	fi
	pids="$pids $!"
	last=$!
}

# ready FIFO PATTERN: wait (no sleeping) for the line that says a program is ready
ready() {
	while IFS= read -r line; do
		case $line in *$2*) return 0 ;; esac
	done <"$1"
	return 1
}

# capture NS FILE PROGRAM ARGS...: a capture that is running once this returns ($cap: its pid)
capture() {
	n=$1 file=$2
	shift 2
	fifo=$dir/cap.$RANDOM
	mkfifo "$fifo"
	case $1 in
	dumpcap) run "$n" /dev/null "$fifo" "$@" -q -w "$file" ;;
	*) run "$n" /dev/null "$fifo" "$@" --immediate-mode -U -B 32768 -w "$file" ;;
	esac
	cap=$last
	# keep a reader on the fifo: what the capture says later must not kill it
	exec 7<"$fifo"
	while IFS= read -r line <&7; do
		case $line in *"listening on"* | *"Capturing on"* | *"File:"*) break ;; esac
	done
	(cat <&7 >/dev/null) &
	exec 7<&-
}

stop() {
	kill -INT "$cap" 2>/dev/null
	wait "$cap" 2>/dev/null
}

# -- tshark's reading and ours, normalised to compare --------------------------------------

# read FILE: tshark's fields of every frame into $dir/ts, tcplab's summary and ladders (--all:
# every row, every ladder) into $dir/ours. A TCP packet is tcp and not ICMP (whose quote of a
# TCP header tshark also dissects as tcp).
read_both() {
	tshark -r "$1" -T fields -E occurrence=f -e tcp.stream -e ip.src -e ipv6.src -e tcp.srcport \
		-e ip.dst -e ipv6.dst -e tcp.dstport -e frame.len -e tcp.seq -e tcp.flags.ack \
		-e tcp.ack -e tcp.len -e tcp.flags.syn -e icmp.type -e icmpv6.type 2>/dev/null |
		awk -F'\t' 'BEGIN { OFS = "\t" } {
			tcp = $4 != "" && $14 == "" && $15 == ""
			s = $2 != "" ? $2 ":" $4 : "[" $3 "]:" $4; d = $5 != "" ? $5 ":" $7 : "[" $6 "]:" $7
			print tcp, $1, s, d, $8, $9, ($10 == "1" || $10 == "True"), $11, $12, ($13 == "1" || $13 == "True") }' >"$dir/ts"
	"$tcplab" show "$1" --all >"$dir/ours" 2>&1
}

# "ENDPOINT ENDPOINT FRAMES BYTES" per connection (TCP stream), ends sorted
tshark_conns() {
	awk -F'\t' '$1 == 1 { k = $2; a[k] = $3 < $4 ? $3 : $4; b[k] = $3 < $4 ? $4 : $3; f[k]++; by[k] += $5 }
		END { for (k in a) print a[k], b[k], f[k], by[k] }' "$dir/ts" | sort
}

tshark_conv_frames() { # tshark -z conv,tcp's own table: "ENDPOINT ENDPOINT FRAMES", sorted
	# A <-> B, frames and bytes (two words: "482 bytes", "12 kB") each way, then the total
	tshark -r "$1" -q -z conv,tcp 2>/dev/null | awk '
		function ep(s,  n, p) { # IPv6 as "[addr]:port", as tcplab writes it
			n = split(s, p, ":")
			return n > 2 ? "[" substr(s, 1, length(s) - length(p[n]) - 1) "]:" p[n] : s
		}
		$2 == "<->" { x = ep($1); y = ep($3)
			a = x < y ? x : y; b = x < y ? y : x; print a, b, $10 }' | sort
}

ours_conns() { # the same from tcplab show's summary
	awk '/^ +[0-9]+  / && NF >= 12 {
		a = $2 < $3 ? $2 : $3; b = $2 < $3 ? $3 : $2; print a, b, $4 + $7, $5 + $8 }' "$dir/ours" | sort
}

# relative "seq ack len" of every packet (ack only when the ACK flag is set), sorted
tshark_seq() {
	awk -F'\t' '$1 == 1 { print "seq " $6 ($7 ? " ack " $8 : "") " len " $9 }' "$dir/ts" | sort
}
ours_seq() {
	grep -o 'seq [0-9]*\( ack [0-9]*\)\? win [0-9]* len [0-9]*' "$dir/ours" |
		sed 's/ win [0-9]*//' | sort
}

# the client of every connection whose SYN was captured: the SYN's sender
tshark_clients() {
	awk -F'\t' '$1 == 1 && $10 && !$7 { print $3 }' "$dir/ts" | sort -u
}
ours_clients() {
	awk '/^ +[0-9]+  / && NF >= 12 && !/began before/ { print $2 }' "$dir/ours" | sort -u
}

# check NAME FILE: tcplab's reading of FILE against tshark's
check() {
	name=$1 file=$2
	read_both "$file"
	want=$(awk -F'\t' '$1 == 1 { print $2 }' "$dir/ts" | sort -u | grep -c .)
	[ "$want" -gt 0 ] || fail "$name: tshark sees no TCP connection in it: the case is not tested"
	got=$(sed -n 's/^\([0-9]*\) TCP connection(s).*/\1/p' "$dir/ours")
	[ "$got" = "$want" ] && ok "$name: $got connections (tshark: $want TCP streams)" ||
		fail "$name: $got connections, tshark has $want streams"
	frames=$(grep -c . "$dir/ts")
	tcp=$(grep -c '^1' "$dir/ts")
	grep -q "$frames frames: $tcp TCP" "$dir/ours" &&
		ok "$name: $frames frames, $tcp TCP (as tshark)" ||
		fail "$name: not '$frames frames: $tcp TCP' (tshark's count): $(head -1 "$dir/ours")"
	if ! diff <(tshark_conns) <(ours_conns) >"$dir/diff"; then
		fail "$name: packets/bytes per connection differ from tshark's (< tshark, > tcplab):"
		head -5 "$dir/diff"
	elif ! diff <(tshark_conv_frames "$file") <(ours_conns | cut -d' ' -f1-3) >"$dir/diff"; then
		fail "$name: frames per conversation differ from tshark -z conv,tcp:"
		head -5 "$dir/diff"
	else
		ok "$name: packets and bytes of each of the $want connections as tshark counts them"
	fi
	if ! diff <(tshark_seq) <(ours_seq) >"$dir/diff"; then
		fail "$name: relative seq/ack/len differ from tshark's (< tshark, > tcplab):"
		head -5 "$dir/diff"
	else
		ok "$name: relative seq, ack and len of all $tcp packets as tshark's"
	fi
	if ! diff <(tshark_clients) <(ours_clients) >"$dir/diff"; then
		fail "$name: clients differ from the SYNs' senders (< tshark, > tcplab):"
		head -5 "$dir/diff"
	fi
}

# -- one namespace, its loopback: IPv4 and IPv6 ----------------------------------------------
ip netns add "$ns"
ip -n "$ns" link set lo up
mkfifo "$dir/srv"
run "$ns" "$dir/srv" - python3 "$traffic" serve 5000 80
ready "$dir/srv" ready || fail "the server never said ready"

for lt in LINUX_SLL2 LINUX_SLL; do
	capture "$ns" "$dir/any-$lt.pcap" tcpdump -i any -y "$lt"
	ip netns exec "$ns" python3 "$traffic" many 127.0.0.1 5000 3 2
	ip netns exec "$ns" python3 "$traffic" many ::1 80 2
	stop
	check "-i any -y $lt" "$dir/any-$lt.pcap"
	out=$(cat "$dir/ours")
	printf '%s\n' "$out" | grep -q "link type $lt," || fail "$lt: link type not named"
	# loopback: both ends 127.0.0.1, the SYN still goes right and the SYN-ACK left
	if printf '%s\n' "$out" | grep -q '\[S\] seq 0 .*-->$' &&
		printf '%s\n' "$out" | grep -q '<-* \[S\.\] seq 0 ack 1' &&
		! printf '%s\n' "$out" | grep -q '\[S\.\] seq 0 ack 1.*->$'; then
		ok "$lt: loopback arrows: SYN right, SYN-ACK left"
	else
		fail "$lt: loopback arrows wrong:"
		printf '%s\n' "$out" | grep '\[S' | head -4
	fi
done

# an IPv6-only file (tcpdump's filter): read, never "other frames" and 0.0.0.0
capture "$ns" "$dir/v6.pcap" tcpdump -i lo ip6
ip netns exec "$ns" python3 "$traffic" many ::1 5000 3
stop
check "IPv6 only" "$dir/v6.pcap"
out=$(cat "$dir/ours")
printf '%s\n' "$out" | grep -q 'client \[::1\]:[0-9]* *server \[::1\]:5000' &&
	ok "IPv6: ladders name [::1] ends" || fail "IPv6: no ladder names [::1]:5000"
printf '%s\n' "$out" | grep -q '0\.0\.0\.0' && fail "IPv6: 0.0.0.0 in the output"

# pcapng, written by dumpcap (tcpdump writes pcap only)
dumpcap_sync() {
	seen=$(tshark -r "$dir/lo.pcapng" -Y 'udp.dstport == 9' 2>/dev/null | wc -l)
	tries=0
	until [ "$(tshark -r "$dir/lo.pcapng" -Y 'udp.dstport == 9' 2>/dev/null | wc -l)" -gt "$seen" ] ||
		[ "$tries" -ge 40 ]; do
		ip netns exec "$ns" python3 -c 'import socket, select
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(b"marker", ("127.0.0.1", 9))
select.select([], [], [], 0.1)'
		tries=$((tries + 1))
	done
	[ "$tries" -lt 40 ] || fail "dumpcap wrote none of 40 datagrams"
}
if command -v dumpcap >/dev/null; then
	capture "$ns" "$dir/lo.pcapng" dumpcap -i lo
	# dumpcap names its file before it captures, and on SIGINT drops what its ring buffer
	# holds: before the traffic and before the stop, one more datagram at a time until tshark
	# finds it in the file (everything sent before it is written too)
	dumpcap_sync
	ip netns exec "$ns" python3 "$traffic" many 127.0.0.1 5000 4 3
	ip netns exec "$ns" python3 "$traffic" many ::1 5000 2
	dumpcap_sync
	stop
	head -c 4 "$dir/lo.pcapng" | od -An -tx1 | grep -q '0a 0d 0d 0a' ||
		fail "dumpcap did not write pcapng"
	check "pcapng (dumpcap)" "$dir/lo.pcapng"
else
	echo "dumpcap not installed: no pcapng case"
fi

# -- connections already open when the capture starts; the server speaks first -------------
holders=""
for i in 1 2 3; do
	mkfifo "$dir/go$i" "$dir/c$i"
	port=5000
	[ $i = 3 ] && port=80
	run "$ns" "$dir/c$i" - python3 "$traffic" hold 127.0.0.1 $port "$dir/go$i"
	holders="$holders $last"
	ready "$dir/c$i" connected || fail "hold client $i never connected"
done
capture "$ns" "$dir/mid.pcap" tcpdump -i lo
for i in 1 2 3; do echo go >"$dir/go$i"; done
wait $holders
stop
check "started mid-connection" "$dir/mid.pcap"
out=$(cat "$dir/ours")
first=$(tshark -r "$dir/mid.pcap" -T fields -e tcp.srcport -c 1 2>/dev/null)
[ "$first" = 5000 ] || [ "$first" = 80 ] ||
	fail "mid-connection: the first packet is not the server's (port $first): the case is not tested"
n=$(printf '%s\n' "$out" | grep -c '^ *[0-9]  .* 127\.0\.0\.1:5000 .*began before the capture')
[ "$n" = 2 ] && ok "mid-connection: 2 connections to port 5000, server named by the shared port" ||
	fail "mid-connection: $n connections with server 127.0.0.1:5000 (want 2)"
printf '%s\n' "$out" | grep -q 'server has the well-known port 80' &&
	ok "mid-connection: port 80's server named by the well-known port" ||
	fail "mid-connection: no 'well-known port 80' rule"
printf '%s\n' "$out" | grep -q "more connections" || fail "mid-connection: no shared-port rule"
printf '%s\n' "$out" | grep -q 'seq 1 ack 1 win [0-9]* len 26' &&
	ok "mid-connection: the server's first data is seq 1 ack 1 (from the first byte seen)" ||
	fail "mid-connection: first data not at seq 1 ack 1"

# -- 2000+ connections, some reset --------------------------------------------------------------
capture "$ns" "$dir/many.pcap" tcpdump -i lo
ip netns exec "$ns" python3 "$traffic" many 127.0.0.1 5000 2100 700
stop
check "2100 connections" "$dir/many.pcap"
out=$("$tcplab" show "$dir/many.pcap")
streams=$(tshark -r "$dir/many.pcap" -T fields -e tcp.stream 2>/dev/null | sort -u | grep -c .)
rst=$(tshark -r "$dir/many.pcap" -Y 'tcp.flags.reset == 1' -T fields -e tcp.stream 2>/dev/null |
	sort -u | grep -c .)
drawn=$(printf '%s\n' "$out" | grep -c '^connection [0-9]*:')
bad=$(printf '%s\n' "$out" | sed -n 's/^the \([0-9]*\) that ended badly.*/\1/p')
if [ "$drawn" -ge "$rst" ] && [ "$drawn" -le 10 ] && [ "${bad:-x}" -ge "$rst" ] &&
	printf '%s\n' "$out" | grep -q "server 127.0.0.1:5000: $streams connection" &&
	printf '%s\n' "$out" | grep -q -- '--conn PORT'; then
	ok "2100 connections: by default the summary per server, $drawn ladders of those that ended badly ($rst reset, tshark), how to see others"
else
	fail "2100 connections: default output: $drawn ladders, $bad bad, $rst reset streams:"
	printf '%s\n' "$out" | head -8
fi
port=$(tshark -r "$dir/many.pcap" -Y 'tcp.stream == 1500 && tcp.flags.syn == 1 && tcp.flags.ack == 0' \
	-T fields -e tcp.srcport 2>/dev/null)
want=$(tshark -r "$dir/many.pcap" -Y "tcp.port == $port" 2>/dev/null | grep -c .)
got=$("$tcplab" show "$dir/many.pcap" --conn "$port" | grep -c '\] seq')
[ "$got" = "$want" ] && ok "--conn $port: the ladder of stream 1500, $got packets (tshark $want)" ||
	fail "--conn $port: $got packets drawn, tshark has $want"
got=$("$tcplab" show "$dir/many.pcap" "tcp port $port" | sed -n 's/.*filter .*: \([0-9]*\) frame(s) matched.*/\1/p')
[ "$got" = "$want" ] && ok "filter 'tcp port $port': $got frames (tshark $want)" ||
	fail "filter 'tcp port $port': $got frames, tshark has $want"
"$tcplab" show "$dir/many.pcap" --filter 'tcp port' >/dev/null 2>&1
[ $? = 2 ] || fail "a bad filter is not a usage error"
unused=$(awk -F'\t' '{ print $3; print $4 }' "$dir/ts" | sed 's/.*://' | sort -n | awk '
	$1 > n + 1 { print n + 1; exit } { n = $1 }')
out=$("$tcplab" show "$dir/many.pcap" --conn "${unused:-1}")
rc=$?
[ $rc = 1 ] && printf '%s\n' "$out" | grep -q '^no connection matches --conn$' &&
	ok "--conn ${unused:-1} (a port in no connection): said so, exit 1" ||
	fail "--conn ${unused:-1}: not 'no connection matches', exit $rc"

# -- a truncated file: what came before the cut ---------------------------------------------
size=$(stat -c %s "$dir/many.pcap")
head -c $((size / 2 + 7)) "$dir/many.pcap" >"$dir/cut.pcap"
check "truncated" "$dir/cut.pcap"
grep -q 'could not be read to its end' "$dir/ours" && ok "truncated: said so" || fail "truncated: not said"

# -- VLAN: 802.1Q and QinQ on a veth pair between two namespaces -----------------------------
# A kernel without 8021q (CONFIG_VLAN_8021Q unset, as here) cannot make VLAN devices: then the
# plain Ethernet capture of the same traffic gets its tags inserted (802.1Q 10 on one connection's
# frames, QinQ 100/20 on the others'), which exercises the same reading.
ip netns add "$ns-a"
ip netns add "$ns-b"
ip -n "$ns-a" link add a0 type veth peer name b0 netns "$ns-b"
vlan=kernel
ip -n "$ns-a" link add link a0 name a0.10 type vlan id 10 2>/dev/null || vlan=rewritten
for side in a b; do
	n=$ns-$side
	i=${side}0
	host=1
	[ $side = b ] && host=2
	ip -n "$n" link set lo up
	ip -n "$n" link set "$i" up
	if [ $vlan = rewritten ]; then
		ip -n "$n" addr add 10.199.10.$host/24 dev "$i"
		ip -n "$n" addr add 10.199.20.$host/24 dev "$i"
		continue
	fi
	[ $side = b ] && ip -n "$n" link add link "$i" name "$i.10" type vlan id 10
	ip -n "$n" link add link "$i" name "$i.s100" type vlan proto 802.1ad id 100
	ip -n "$n" link add link "$i.s100" name "$i.q20" type vlan id 20
	ip -n "$n" addr add 10.199.10.$host/24 dev "$i.10"
	ip -n "$n" addr add 10.199.20.$host/24 dev "$i.q20"
	for l in "$i.10" "$i.s100" "$i.q20"; do ip -n "$n" link set "$l" up; done
done
mkfifo "$dir/srvb"
run "$ns-b" "$dir/srvb" - python3 "$traffic" serve 5000
ready "$dir/srvb" ready || fail "the VLAN server never said ready"
capture "$ns-a" "$dir/vlan.pcap" tcpdump -i a0
ip netns exec "$ns-a" python3 "$traffic" many 10.199.10.2 5000 3
ip netns exec "$ns-a" python3 "$traffic" many 10.199.20.2 5000 3 3
stop
if [ $vlan = rewritten ]; then
	echo "this kernel has no 802.1Q devices: tags inserted into the veth capture"
	mv "$dir/vlan.pcap" "$dir/untagged.pcap"
	python3 - "$dir/untagged.pcap" "$dir/vlan.pcap" <<'EOF2'
import struct, sys
data = open(sys.argv[1], "rb").read()
out = [data[:24]]
off = 24
while off + 16 <= len(data):
    ts, tu, cap, wire = struct.unpack("<IIII", data[off:off + 16])
    frame = data[off + 16:off + 16 + cap]
    off += 16 + cap
    ip = frame[14:]
    # 10.199.10.x: one 802.1Q tag (VLAN 10); 10.199.20.x: QinQ, 802.1ad 100 outside 802.1Q 20
    ipv4 = frame[12:14] == b"\x08\x00" and ip[12:14] == b"\x0a\xc7"
    if ipv4 and ip[14] == 10:
        tags = struct.pack(">HH", 0x8100, 10)
    elif ipv4 and ip[14] == 20:
        tags = struct.pack(">HHHH", 0x88A8, 100, 0x8100, 20)
    else:
        tags = b""
    frame = frame[:12] + tags + frame[12:]
    out.append(struct.pack("<IIII", ts, tu, len(frame), wire + len(tags)) + frame)
open(sys.argv[2], "wb").write(b"".join(out))
EOF2
fi
check "VLAN (802.1Q and QinQ)" "$dir/vlan.pcap"
q=$(tshark -r "$dir/vlan.pcap" -Y 'tcp and vlan.id == 10' 2>/dev/null | grep -c .)
qq=$(tshark -r "$dir/vlan.pcap" -Y 'tcp and ieee8021ad.id == 100 and vlan.id == 20' 2>/dev/null | grep -c .)
[ "$q" -gt 0 ] && [ "$qq" -gt 0 ] && ok "VLAN: $q tagged 802.1Q, $qq QinQ TCP frames (tshark)" ||
	fail "VLAN: the capture has $q 802.1Q and $qq QinQ TCP frames: the case is not tested"
got=$("$tcplab" show "$dir/vlan.pcap" 'vlan 100' | sed -n 's/.*filter .*: \([0-9]*\) frame(s) matched.*/\1/p')
want=$(tshark -r "$dir/vlan.pcap" -Y 'ieee8021ad.id == 100' 2>/dev/null | grep -c .)
[ "$got" = "$want" ] && ok "filter 'vlan 100' compiled for Ethernet: $got frames (tshark $want)" ||
	fail "filter 'vlan 100': $got frames, tshark has $want"

# -- raw IP and BSD loopback: the cooked capture's frames behind other link headers ----------
python3 - "$dir/any-LINUX_SLL2.pcap" "$dir" <<'EOF'
import struct, sys
src, out = sys.argv[1], sys.argv[2]
data = open(src, "rb").read()
magic, = struct.unpack("<I", data[:4])
assert magic == 0xa1b2c3d4, "tcpdump wrote a little-endian microsecond pcap"
head = data[:20]
recs = []
off = 24
while off + 16 <= len(data):
    ts, tu, cap, wire = struct.unpack("<IIII", data[off:off + 16])
    frame = data[off + 16:off + 16 + cap]
    recs.append((ts, tu, struct.unpack(">H", frame[:2])[0], frame[20:], wire - 20))
    off += 16 + cap
for name, linktype, prefix in (("raw", 101, lambda p: b""),
                               ("null", 0, lambda p: struct.pack("<I", 2 if p == 0x0800 else 30))):
    with open("%s/%s.pcap" % (out, name), "wb") as f:
        f.write(head + struct.pack("<I", linktype))
        for ts, tu, proto, ip, wire in recs:
            if proto not in (0x0800, 0x86dd):
                continue
            body = prefix(proto) + ip
            f.write(struct.pack("<IIII", ts, tu, len(body), wire + len(body) - len(ip)) + body)
EOF
check "raw IP (DLT_RAW)" "$dir/raw.pcap"
check "BSD loopback (DLT_NULL)" "$dir/null.pcap"

echo "$fails failure(s)"
[ $fails = 0 ]
