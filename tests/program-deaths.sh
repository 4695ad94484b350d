#!/bin/sh
# A program of the story killed by someone else (kill -9 from outside) decides the run: ERROR
# (exit 99) naming that program, within moments, whatever followed from its death; killed after
# the story's end, it decides nothing. The kill lands at a chosen phase: the run goes --step by
# step, its Enter fed through a fifo, and the program is found as a child of the lab process.
# usage: program-deaths.sh TCPLAB
set -u
tcplab=$1
if [ "$(id -u)" != 0 ]; then
	echo "needs root (network namespaces): skipped"
	exit 77
fi
work=$(mktemp -d /tmp/program-deaths.XXXXXX)
trap 'exec 3>&- 2>/dev/null; rm -rf "$work"' EXIT
fail=0

# kill_at NAME SCENARIO VARIANT WHO PHASE: run with --step; at the pause whose title contains
# PHASE, kill -9 program WHO (server, client); Enter at every pause. Leaves $dir, $rc, $took.
kill_at() {
	name=$1 sc=$2 variant=$3 who=$4 phase=$5
	dir=$work/$name
	mkdir "$dir"
	mkfifo "$dir/enter"
	t0=$(date +%s)
	# setsid: no controlling terminal, so --step reads its Enter from the fifo
	setsid -w "$tcplab" run "$sc" --variant "$variant" --step --quiet --results "$dir" \
		<"$dir/enter" >"$dir/out" 2>&1 &
	pid=$!
	exec 3>"$dir/enter"
	seen=0 killed=
	for _ in $(seq 600); do # 30 s at most; a polling interval, not a guess
		n=$(grep -c '^== step:' "$dir/out")
		if [ "$n" -gt "$seen" ]; then
			seen=$n
			if [ -z "$killed" ] && grep '^== step:' "$dir/out" | tail -1 | grep -q -- "$phase"; then
				lab=$(grep -o 'net=/proc/[0-9]*' "$dir/out" | head -1 | cut -d/ -f3)
				victim=$(pgrep -P "$lab" -x "tcplab-$who" | head -1)
				# alive, not a zombie that already ended by itself
				if [ -n "$victim" ] && ! grep -q '^[0-9]* ([^)]*) Z' "/proc/$victim/stat"; then
					kill -9 "$victim" && killed=$victim
				fi
			fi
			echo >&3
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	exec 3>&-
	wait "$pid"
	rc=$? took=$(($(date +%s) - t0))
	if [ -z "$killed" ]; then
		echo "FAIL: $name: no live $who to kill at '$phase'"
		cat "$dir/out"
		fail=1
		return 1
	fi
	return 0
}

# dies NAME SCENARIO VARIANT WHO PHASE: killed during the story -> 99 naming WHO, in seconds
dies() {
	kill_at "$@" || return
	line=$(grep -o "ERROR.*" "$dir/out")
	if [ "$rc" != 99 ] || ! printf '%s' "$line" | grep -q "): $4 killed by SIGKILL during the story" ||
		[ "$took" -gt 10 ]; then
		echo "FAIL: $1: $4 killed at '$5': exit $rc (want 99) in $took s (max 10): ${line:-no ERROR}"
		fail=1
	else
		echo "ok: $1: exit 99 in $took s: $line"
	fi
}

# the client's failure to connect is the consequence; the killed server is the cause
dies server-in-accept rst-on-close default server 'the server listens'
# the story waits for ESTABLISHED, then for the client: not for the budget (130 s)
dies server-while-waiting keepalive-expiry no-keepalive server 'the client has started'
dies server-before-queue accept-overflow default server 'the server listens'
# a client the story never waits for (lab_finish): it was "still running ... stopped" before
dies unwaited-client accept-overflow default client 'the client has started'
dies client-at-wait lost-handshake-ack default client 'the client has started'
dies client-keepalive keepalive-expiry default client 'the client has started'

# killed after the story's end: what the story observed stands (--step: outcomes only)
if kill_at after-the-story accept-overflow default server 'the story is over'; then
	if [ "$rc" != 0 ] || grep -q ERROR "$dir/out"; then
		echo "FAIL: after-the-story: exit $rc (want 0), output:"
		grep -v -e nsenter -e 'look inside' "$dir/out"
		fail=1
	else
		echo "ok: after-the-story: exit 0: $(grep '^verdict' "$dir/out")"
	fi
fi
exit "$fail"
