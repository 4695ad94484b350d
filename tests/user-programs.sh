#!/bin/sh
# --server-cmd / --client-cmd: the user's programs in the lab. A program that crashes, hangs or
# never listens ends the run within its timeout, with that reason (exit 99: the lab could not
# tell the story, not a TCP failure); real programs (Debian's socat, nc, curl, Python's
# http.server) run in the scenarios and the network-level expectations judge them, each case
# with the answer it must give written next to it.
# usage: user-programs.sh TCPLAB SERVER-PROGRAM
set -u
tcplab=$1 server=$2
if [ "$(id -u)" != 0 ]; then
	echo "needs root (network namespaces): skipped"
	exit 77
fi
results=$(mktemp -d /tmp/user-programs.XXXXXX)

www=$(mktemp -d /tmp/user-programs-www.XXXXXX)
trap 'rm -rf "$results" "$www"' EXIT

# case NAME CODE PATTERN MAX_SECONDS ARGS...: exit code, a line of output, and a time bound
case_() {
	name=$1 code=$2 pattern=$3 max=$4
	shift 4
	t0=$(date +%s)
	out=$("$tcplab" run "$@" --results "$results" --quiet 2>&1)
	rc=$? took=$(($(date +%s) - t0))
	if [ "$rc" != "$code" ] || ! printf '%s' "$out" | grep -q -- "$pattern" || [ "$took" -gt "$max" ]; then
		printf 'FAIL: %s: exit %s (want %s), %s s (max %s), output:\n%s\n' "$name" "$rc" \
			"$code" "$took" "$max" "$out" >"$results/$name.fail"
	else
		echo "ok: $name: exit $rc in $took s: $(printf '%s' "$out" | grep -m1 -- "$pattern")"
	fi
}

case_ crash-before-listen 99 "ended (killed by SIGSEGV) before it listened" 10 \
	rst-on-close --server-cmd 'kill -SEGV $$' &
case_ never-listens 99 "never listened on port 7357 within" 20 \
	rst-on-close --server-cmd 'exec sleep 60' &
case_ client-hangs 99 "did not finish within the scenario's 10 s budget" 20 \
	rst-on-close --client-cmd 'exec sleep 60' &
case_ client-crashes 99 "killed by SIGSEGV" 10 rst-on-close --client-cmd 'kill -SEGV $$' &
# our own server, given as a user's command: the scenario behaves as documented; the client's
# reports still count, the server's would be n/a
case_ our-server-as-user-cmd 0 "as documented" 10 rst-on-close \
	--server-cmd "exec $server --listen 0.0.0.0:{port} --ops accept,recv:10,close" &
# a client that sends at once (as curl does) in lost-handshake-ack: its data completes the
# handshake, so the SYN_RECV the story waits for never comes: an answer in seconds (exit 1,
# which variant it behaves like), not an ERROR after the 40 s budget
client=$(dirname "$server")/../clients/tcplab-client
case_ data-first-client 1 "behaves like: data-first" 12 lost-handshake-ack \
	--client-cmd "exec $client --connect {server} --ops send:16,recv:16" &
# parameters that configure only our programs do not apply to a user's: marked n/a, and what
# the judge derives from them left out or taken from what the program did. Our client, given
# as a user's command, sends 200 bytes whatever request=5000 says: the story waits for what it
# sent, the server's kernel ACKs those 200 and holds them unread (without the marking: an
# ERROR waiting for 5000 bytes)
case_ na-request-ack-not-processed 0 "n/a *parameter request (--set)" 12 ack-not-processed \
	--set request=5000 --client-cmd "exec $client --connect {server} --ops send:200,recv" &
case_ na-request-held-unread 0 "ACK of every byte it held unread.* 1 *1$" 12 ack-not-processed \
	--set request=5000 --client-cmd "exec $client --connect {server} --ops send:200,recv" &
# half-close with a user's client: its request is its own, the server's responses still ours
case_ na-half-close-client 0 "n/a *parameter request_bytes (--set)" 10 half-close \
	--set request_bytes=5000 \
	--client-cmd "exec $client --connect {server} --ops send:100,shutdown:wr,drain,close" &
# half-open with a user's server that sets its own keepalive (4 probes, not count=2): the
# parameters n/a, no probe count derived from them; the network judges it like keepalive
case_ na-half-open-server 0 "behaves like: keepalive" 12 half-open --variant keepalive \
	--server-cmd "exec $server --listen 0.0.0.0:{port} --ops accept,keepalive:1:1:4,recv" &
case_ na-half-open-params 0 "n/a *parameters idle, interval, count, user_timeout, rcvtimeo" 12 \
	half-open --variant keepalive \
	--server-cmd "exec $server --listen 0.0.0.0:{port} --ops accept,keepalive:1:1:4,recv" &
if command -v socat >/dev/null; then
	# a server that accepts at once: the queue never fills; answered when the client is done
	case_ socat-accepts 1 "precondition (the story stopped there)" 12 accept-overflow \
		--server-cmd 'exec socat TCP-LISTEN:{port},reuseaddr,fork,backlog=2 EXEC:cat' &
	# socat reads the whole request into its pipe before closing: FIN, not RST
	case_ socat-drains 1 "not as documented" 10 rst-on-close \
		--server-cmd 'exec socat -u TCP-LISTEN:{port},reuseaddr SYSTEM:"head -c 10 >/dev/null"' &
fi
if command -v curl >/dev/null && command -v python3 >/dev/null; then
	# curl's data completes the handshake whose third packet (by role, not shape) was lost:
	# the answer is data-first, in seconds
	case_ curl-data-first 1 "behaves like: data-first" 15 lost-handshake-ack \
		--server-cmd 'exec python3 -m http.server --bind {server_addr} {port}' \
		--client-cmd 'exec curl -sS -o /dev/null http://{server}/' &
	# keepalive-expiry with curl --keepalive-time 1 against a python http.server that never
	# answers (a FIFO nobody writes: open() blocks): armed once the connection has been idle
	# 500 ms (the request crossed and was ACKed), curl's own keepalive (read from its socket:
	# idle 1 s, interval 1 s, count 9 from tcp_keepalive_probes) probes 9 times into the
	# blackhole and aborts: as documented, the parameters marked n/a
	mkfifo "$www/slow"
	case_ curl-keepalive 0 "TCP_KEEPCNT 9" 25 keepalive-expiry --set arm_idle_ms=500 \
		--server-cmd "cd $www && exec python3 -m http.server --bind {server_addr} {port}" \
		--client-cmd 'exec curl -sS -o /dev/null --keepalive-time 1 http://{server}/slow' &
	case_ curl-keepalive-probes 0 "keepalive probes (client-side pcap) *9 *9" 25 \
		keepalive-expiry --set arm_idle_ms=500 \
		--server-cmd "cd $www && exec python3 -m http.server --bind {server_addr} {port}" \
		--client-cmd 'exec curl -sS -o /dev/null --keepalive-time 1 http://{server}/slow' &
	# the same curl against a server that answers at once: curl closes after the response,
	# so there is no idle connection for keepalive to matter: an answer, not an ERROR (which
	# precondition says so depends on whether the server's ESTABLISHED was sampled at all
	# before curl closed: "idle for 500 ms" or "the server showed ESTABLISHED", both not met)
	case_ curl-keepalive-answered 1 "precondition (the story stopped there) .*not met" 15 \
		keepalive-expiry --set arm_idle_ms=500 \
		--server-cmd "cd $www && exec python3 -m http.server --bind {server_addr} {port}" \
		--client-cmd 'exec curl -sS -o /dev/null --keepalive-time 1 http://{server}/' &
fi
if command -v socat >/dev/null && command -v nc >/dev/null; then
	# lost-final-ack with socat and nc: nc sends, shuts down (-N), reads socat's reply, gets
	# its FIN. The client's pure ACKs are the handshake's, the reply's and the FIN's: the
	# wire drops the FIN's by role (a shape rule, nth=2, took the reply's), so the server
	# re-sends its FIN from LAST_ACK and the TIME_WAIT answers: as documented
	case_ socat-nc-fin-ack 0 "behaves like: default" 15 lost-final-ack \
		--server-cmd "exec socat TCP-LISTEN:{port},reuseaddr SYSTEM:'cat >/dev/null; echo bye'" \
		--client-cmd 'printf hi | exec nc -N {server_addr} {port}' &
	case_ socat-nc-fin-resent 0 "FINs from the server (server-side pcap) *2 *2" 15 lost-final-ack \
		--server-cmd "exec socat TCP-LISTEN:{port},reuseaddr SYSTEM:'cat >/dev/null; echo bye'" \
		--client-cmd 'printf hi | exec nc -N {server_addr} {port}' &
fi
wait
if ls "$results"/*.fail >/dev/null 2>&1; then
	cat "$results"/*.fail
	exit 1
fi
exit 0
