#!/bin/sh
# --step in front of a class: every pause is held longer than the scenario's whole budget (the
# teacher talks), and the run must still end as documented (the story's clocks stop while
# paused); without a terminal --step is refused with one line (exit 2). Each named moment of a
# few scenarios is held the same way alone (--step NAME), with the printed `tcplab show`
# command run as printed while paused; an unknown moment is refused before any lab exists.
# usage: step.sh TCPLAB
set -u
tcplab=$1
[ "$(id -u)" = 0 ] || { echo "needs root (network namespaces): skipped"; exit 77; }
command -v script >/dev/null || { echo "no script(1) for a terminal: skipped"; exit 77; }
work=$(mktemp -d /tmp/step.XXXXXX)
trap 'rm -rf "$work"' EXIT
fail=0

setsid "$tcplab" run rst-on-close --step </dev/null >"$work/notty" 2>&1
rc=$?
if [ "$rc" != 2 ] || ! grep -q "needs a terminal" "$work/notty"; then
	echo "FAIL: --step without a terminal: exit $rc:"; cat "$work/notty"; fail=1
else
	echo "ok: without a terminal: $(cat "$work/notty")"
fi

# an unknown moment: one line naming the scenario's moments, exit 2, no lab (no results folder)
"$tcplab" run rst-on-close --step no-such-moment --results "$work/unknown" >"$work/unknown.out" 2>&1
rc=$?
if [ "$rc" != 2 ] || [ "$(wc -l <"$work/unknown.out")" != 1 ] ||
	! grep -q "its moments: before-close, after-close" "$work/unknown.out" || [ -e "$work/unknown" ]; then
	echo "FAIL: --step no-such-moment: exit $rc:"; cat "$work/unknown.out"; fail=1
else
	echo "ok: unknown moment: $(cat "$work/unknown.out")"
fi

budget_of() { "$tcplab" list --cases | awk -v s="$1" -v v="$2" '$1 == s && $2 == v && $3 == v { print $5; exit }'; }

# hold SCENARIO VARIANT MOMENT: --step MOMENT, held budget + 1 s; while paused, run the printed
# capture command as printed (it must read the capture so far: the pcap is flushed per packet)
hold() {
	out="$work/$1-$2-$3" hold_s=$(($(budget_of "$1" "$2") + 1))
	{
		sleep "$hold_s"
		cmd=$(grep -m1 '# the capture so far' "$out" | sed 's/ *# the capture so far.*//')
		$cmd >"$out.show" 2>&1
		echo $? >"$out.showrc"
		echo
	} | script -qec "$tcplab run $1 --variant $2 --step $3 --results $work --quiet" /dev/null \
		>"$out" 2>&1
	echo $? >"$out.rc"
}

cases="rst-on-close:default:before-close rst-on-close:default:after-close
rst-on-close:drain:before-close lost-final-ack:default:last-ack
lost-final-ack:no-timewait:last-ack lost-handshake-ack:default:syn-recv
keepalive-expiry:default:blackhole-armed keepalive-expiry:default:first-probe
nonblocking-connect:timeout:in-progress sticky-packets:default:all-queued
shutdown-rd:default:after-shutdown shutdown-rdwr:default:after-fin
fin-wait-2:shutdown:fin-wait-2-owned zero-window:default:window-closed
write-after-close:default:after-fin kill-9:default:before-kill
rto-exhaustion:default:retransmitting segment-lost:default:reassembled"
for c in $cases; do
	IFS=: read -r sc v m <<EOC
$c
EOC
	hold "$sc" "$v" "$m" &
done

# every_pause SCENARIO MOMENT: plain --step, a teacher's Enter after each pause, each pause
# (phases and moments) longer than the budget (a test of pauses: the waiting is the point, not
# a guess at when something is ready)
every_pause() {
	hold_s=$(($(budget_of "$1" default) + 1))
	{ for i in 1 2 3 4 5 6 7 8 9; do sleep "$hold_s"; echo; done; } |
		script -qec "$tcplab run $1 --step --results $work --quiet" /dev/null >"$work/all-$1" 2>&1
}
every_pause rst-on-close &
every_pause lost-final-ack &
wait
for sc_m in rst-on-close:before-close lost-final-ack:last-ack; do
	sc=${sc_m%%:*} m=${sc_m#*:} out="$work/all-$sc" hold_s=$(($(budget_of "$sc" default) + 1))
	pauses=$(grep -c '^== step:' "$out")
	if ! grep -q "verdict: as documented" "$out" || grep -q "ERROR" "$out" ||
		[ "$pauses" -lt 5 ] || ! grep -q "^== step: moment $m" "$out"; then
		echo "FAIL: $sc: pauses of $hold_s s each ($pauses pauses):"; cat "$out"; fail=1
	else
		echo "ok: $sc: $pauses pauses of $hold_s s each: $(grep -m1 verdict "$out")"
	fi
done

for c in $cases; do
	IFS=: read -r sc v m <<EOC
$c
EOC
	out="$work/$sc-$v-$m"
	what="$sc/$v --step $m, held $(($(budget_of "$sc" "$v") + 1)) s"
	if [ "$(cat "$out.rc")" != 0 ] || ! grep -q "verdict: as documented" "$out" ||
		grep -q ERROR "$out" || [ "$(grep -c '^== step:' "$out")" != 1 ] ||
		! grep -q "^== step: moment $m:" "$out"; then
		echo "FAIL: $what: exit $(cat "$out.rc")"; cat "$out"; fail=1
	elif [ "$(cat "$out.showrc")" != 0 ] || ! grep -q "\[S\]" "$out.show"; then
		echo "FAIL: $what: the printed tcplab show failed while paused:"; cat "$out.show"; fail=1
	else
		echo "ok: $what: $(grep -m1 verdict "$out"); capture so far: $(grep -c '\] seq' "$out.show") packets"
	fi
done
exit $fail
