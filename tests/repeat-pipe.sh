#!/bin/sh
# --repeat never hangs on its own output: the supervisor reads the lab process's announcements
# (one line per run's folder as it is made, one as it is done) while it waits, not after. With a
# results path ~3,600 characters long each run announces ~7 KB, so 30 runs put ~220 KB through
# a 64 KiB pipe: a supervisor that only read at the end would leave the lab blocked for good.
# Every run also keeps its own folder, even within one second.
# usage: repeat-pipe.sh TCPLAB
set -u
tcplab=$1 runs=30
if [ "$(id -u)" != 0 ]; then
	echo "needs root (network namespaces): skipped"
	exit 77
fi
work=$(mktemp -d /tmp/repeat-pipe.XXXXXX)
trap 'rm -rf "$work"' EXIT
long=$work
for _ in $(seq 17); do # 17 x 201 characters: under PATH_MAX with the run's own names
	long=$long/$(printf '%0200d' 0)
done
t0=$(date +%s)
timeout 120 "$tcplab" run rst-on-close --repeat "$runs" --quiet --results "$long" \
	>"$work/out" 2>&1
rc=$? took=$(($(date +%s) - t0))
folders=$(find "$long/rst-on-close" -mindepth 1 -maxdepth 1 -type d | wc -l)
if [ "$rc" = 124 ]; then
	echo "FAIL: --repeat $runs with a ${#long}-character results path hung (killed after $took s)"
	exit 1
fi
if [ "$rc" != 0 ] || ! grep -q "== repeat: $runs of $runs runs as documented" "$work/out" ||
	[ "$folders" != "$runs" ]; then
	echo "FAIL: --repeat $runs: exit $rc in $took s, $folders folders (want $runs), output:"
	grep -v '^results:' "$work/out" | tail -20
	exit 1
fi
echo "ok: --repeat $runs with a ${#long}-character results path: exit 0 in $took s, $folders folders"
