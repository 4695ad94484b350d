#!/bin/sh
# The lab process (the supervisor's child that tells the story) killed under `tcplab run`, or
# the run interrupted before its first packet: the supervisor says what happened, exits 99
# (130 for Ctrl-C), writes INTERRUPTED in the run's folder, and the captures so far are
# readable pcaps (their file header is written when they are opened), never 0-byte files.
# usage: lab-killed.sh TCPLAB
set -u
tcplab=$1
if [ "$(id -u)" != 0 ]; then
	echo "needs root (network namespaces): skipped"
	exit 77
fi
work=$(mktemp -d /tmp/lab-killed.XXXXXX)
trap 'exec 3>&- 2>/dev/null; rm -rf "$work"' EXIT
fail=0

# until COMMAND succeeds, 10 s at most (a polling interval, not a guess)
until_() {
	for _ in $(seq 200); do
		"$@" && return 0
		sleep 0.05
	done
	return 1
}

# captures DIR: both pcaps there, readable by `tcplab show`, and INTERRUPTED written
left_readable() {
	for f in client.pcap server.pcap; do
		pcap=$(find "$1" -name "$f")
		[ -n "$pcap" ] && [ -s "$pcap" ] && "$tcplab" show "$pcap" >/dev/null 2>&1 ||
			{ echo "$f missing, empty or unreadable"; return 1; }
	done
	[ -n "$(find "$1" -name INTERRUPTED)" ] || { echo "no INTERRUPTED"; return 1; }
}

lab_of() { lab=$(pgrep -P "$1" -x tcplab | head -1) && [ -n "$lab" ]; }
client_of() { pgrep -P "$1" -x tcplab-client >/dev/null; }

# killed SIGNAL: that signal to the lab process while its story runs
killed() {
	sig=$1 dir=$work/$1
	mkdir "$dir"
	"$tcplab" run keepalive-expiry --variant no-keepalive --quiet --results "$dir" \
		>"$dir/out" 2>&1 &
	pid=$!
	until_ lab_of "$pid" && until_ client_of "$lab" ||
		{ echo "FAIL: $sig: the story never got under way"; fail=1; return; }
	prog=$(pgrep -P "$lab" | tr '\n' ' ')
	kill -"$sig" "$lab"
	wait "$pid"
	rc=$?
	why=$(left_readable "$dir")
	gone() { for p in $prog; do kill -0 "$p" 2>/dev/null && return 1; done; return 0; }
	if [ "$rc" != 99 ] || ! grep -q "the lab process (pid $lab) was killed by SIG$sig" "$dir/out" ||
		[ -n "$why" ] || ! grep -q "SIG$sig" "$(find "$dir" -name INTERRUPTED)" ||
		! until_ gone; then
		echo "FAIL: SIG$sig to the lab process: exit $rc (want 99); $why; output:"
		cat "$dir/out"
		fail=1
	else
		echo "ok: SIG$sig to the lab process: exit 99, said so, INTERRUPTED, captures readable"
	fi
}
killed KILL
killed TERM

# Ctrl-C before the first packet: --step holds the run at "the lab is up"
dir=$work/early
mkdir "$dir"
mkfifo "$dir/enter"
setsid -w "$tcplab" run rst-on-close --step --quiet --results "$dir" <"$dir/enter" \
	>"$dir/out" 2>&1 &
pid=$!
exec 3>"$dir/enter"
until_ grep -q '^== step: the lab is up' "$dir/out"
lab=$(grep -o 'net=/proc/[0-9]*' "$dir/out" | head -1 | cut -d/ -f3)
supervisor=$(ps -o ppid= -p "$lab" | tr -d ' ')
kill -INT "$supervisor"
wait "$pid"
rc=$?
exec 3>&-
why=$(left_readable "$dir")
packets=$("$tcplab" show "$(find "$dir" -name client.pcap)" 2>&1 | head -1)
if [ "$rc" != 130 ] || [ -n "$why" ] || ! printf '%s' "$packets" | grep -q ' frames: 0 TCP '; then
	echo "FAIL: Ctrl-C before the first packet: exit $rc (want 130); $why; $packets; output:"
	cat "$dir/out"
	fail=1
else
	echo "ok: Ctrl-C before the first packet: exit 130, INTERRUPTED, pcaps readable (0 packets)"
fi
exit "$fail"
