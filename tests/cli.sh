#!/bin/sh
# The command line's contract: bad input gets one clear line and exit 2, nothing is created.
# Needs no root: every check here fails before a lab is built.
set -u
tcplab=$1
fail=0
results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT

# expect1: the same, and the output is exactly one line
expect1() {
	lines_before=$fail
	expect "$@"
	if [ "$fail" = "$lines_before" ] && [ "$(printf '%s\n' "$out" | wc -l)" != 1 ]; then
		echo "FAIL: tcplab $*: more than one line: $out"
		fail=1
	fi
}

expect() { # expect CODE PATTERN ARGS...
	code=$1 pattern=$2
	shift 2
	out=$("$tcplab" "$@" 2>&1)
	rc=$?
	if [ "$rc" != "$code" ] || ! printf '%s' "$out" | grep -q -- "$pattern"; then
		echo "FAIL: tcplab $*: exit $rc (want $code), output: $out"
		fail=1
	else
		echo "ok: tcplab $* -> $rc"
	fi
}

expect 0 "rst-on-close" list
expect 0 "MECHANISM" explain rst-on-close
expect 0 "read_bytes" explain rst-on-close
expect 2 "unknown scenario 'nope'" explain nope
expect 2 "unknown scenario 'nope'" run nope --results "$results"
expect 2 "unknown variant 'x'" run rst-on-close --variant x --results "$results"
expect 2 "unknown parameter 'foo'" run rst-on-close --set foo=1 --results "$results"
expect 2 "out of range" run rst-on-close --set request_bytes=0 --results "$results"
expect 2 "not a whole number" run rst-on-close --set request_bytes=ten --results "$results"
expect 2 "KEY=VALUE" run rst-on-close --set request_bytes --results "$results"
expect 2 "needs a scenario" run
expect 2 "unknown option '--bogus'. Valid: --variant, --set," run rst-on-close --bogus
expect 2 "wants a count" run rst-on-close --repeat 0
expect 2 "wants a count" run rst-on-close --repeat x
expect 2 "not an impairment" run rst-on-close --impair slow --results "$results"
expect 2 "not a time" run rst-on-close --impair delay=5parsecs --results "$results"
expect 2 "done by nftables" run rst-on-close --impair drop,backend=netem --results "$results"
expect 0 "blackhole" run --help
expect 0 "usage: tcplab COMMAND" --help
expect 0 "usage: tcplab COMMAND" help
expect 0 "usage: tcplab run" help run
for cmd in list explain run show facts clean help version; do
	expect 0 "usage: tcplab $cmd" "$cmd" --help
done
expect 2 "no command 'nope'" help nope
expect 0 "usage: tcplab run" run rst-on-close --variant drain --help
expect 0 "usage: tcplab facts" facts /nonexistent --help
expect 0 "^tcplab [0-9][0-9.]*" --version
expect 0 "^tcplab [0-9][0-9.]*" -V
expect 0 "^tcplab [0-9][0-9.]*" version
expect 2 "valid before a command: --help, -h, --version, -V" --bogus
# one line, naming what is valid, and the likely intended spelling
expect1 2 "did you mean --variant?" run rst-on-close --varient drain
expect1 2 "unknown option '-x'. Valid: --help" explain -x
expect1 2 "unknown option '--bogus'. Valid: --names, --cases," list --bogus
expect1 2 "--quiet takes no value" run rst-on-close --quiet=yes
expect1 2 "--variant wants a value" run rst-on-close --variant
expect1 2 "unknown scenario 'rst-on-clos': did you mean rst-on-close?" run rst-on-clos
expect1 2 "did you mean rst-on-close?" explain rst_on_close
expect1 2 "unknown variant 'dran' for rst-on-close: did you mean drain? (known: default, drain)" run rst-on-close --variant dran
expect1 2 "did you mean request_bytes?" run rst-on-close --set reqest_bytes=10
expect1 2 "unknown command 'rn': did you mean run?" rn
expect1 2 "no command 'lst': did you mean list?" help lst
expect1 2 "^tcplab: show: $results/x.pcap: No such file or directory$" show "$results/x.pcap"
expect1 2 "takes no arguments but --all (not 'x')" clean x
# impairment specs: units, percentages, each key once, what is valid
expect1 2 "did you mean delay=50ms?" run rst-on-close --impair delay=50
expect1 2 "did you mean loss=0.5%?" run rst-on-close --impair loss=0.5
expect1 2 "dir=up is not valid (dir: c2s|s2c|both)" run rst-on-close --impair drop,dir=up
expect1 2 "'delay' given twice" run rst-on-close --impair delay=5ms,delay=10ms
expect1 2 "--server-cmd is empty" run rst-on-close --server-cmd ""
expect1 2 "--client-cmd is empty" run rst-on-close --client-cmd " "
if zcat /proc/config.gz 2>/dev/null | grep -q '^# CONFIG_NET_SCH_NETEM is not set'; then
	expect1 77 "has no sch_netem" run rst-on-close --impair delay=5ms,backend=netem
	# only netem duplicates, corrupts and limits a queue: refused before any lab, with why
	expect1 77 "only netem does that" run rst-on-close --impair duplicate=1%,dir=both
	expect1 77 "only netem does that" run rst-on-close --impair corrupt=1%
	expect1 77 "only netem does that" run rst-on-close --impair delay=5ms,limit=10
fi
expect1 2 "did you mean rate=10mbit?" run rst-on-close --impair rate=10
expect1 2 "duplicate is done by netem only" run rst-on-close --impair duplicate=1%,backend=nfqueue
expect 0 "^rst-on-close$" list --names
expect 0 "rst-on-close drain default 1" list --cases
expect 0 "| \`rst-on-close\` |" list --markdown
expect 2 "unknown option" list --bogus
expect 0 "tcplab-server --listen 0.0.0.0:7357 --ops accept,queued:200,recv:10,close" explain rst-on-close
expect 0 "rst-on-close read_bytes 10 0 59999" list --params
expect 0 "lost-final-ack nodrop The handshake" list --captures
expect 2 "wants a port from 1 to 65535" run rst-on-close --port 0
expect 2 "--results needs a folder" run rst-on-close --results ""
expect 2 "cannot be used with --repeat" run rst-on-close --keep --repeat 2
expect 2 "outside 40000..44999" run rst-on-close --port 41000
expect 2 "outside 40000..44999" run rst-on-close --port 65536
expect 2 "cannot overflow an accept queue" run accept-overflow --set clients=3
expect 2 "reads the whole 200-byte request" run rst-on-close --set read_bytes=200
expect 2 "within the timers' slack" run keepalive-expiry --variant user-timeout --set user_timeout=3001
expect 2 "takes one scenario" explain
expect 2 "not a run folder" facts /nonexistent
expect 2 "unknown command" frobnicate
expect 2 "no command"
TCPLAB_TOLERANCE_SCALE=0.1 expect 2 "TCPLAB_TOLERANCE_SCALE" run rst-on-close --results "$results"
if [ -n "$(ls -A "$results")" ]; then
	echo "FAIL: a usage error left files in $results"
	fail=1
fi
[ "$fail" = 0 ] && echo "1 passed, 0 failed" || echo "0 passed, 1 failed"
exit "$fail"
