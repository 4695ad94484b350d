#!/bin/sh
# Property test over the scenarios' parameters: for every variant, values drawn across each
# parameter's documented range (its bounds included) must end "as documented", or be refused
# at --set time with the reason (exit 2, the variant named). An ERROR or "not as documented" for
# a documented-valid value fails the test. Each run's facts are also recomputed by tshark from
# its captures and must equal tcplab's own reading.
# usage: params.sh TCPLAB TESTS-DIR
#   TCPLAB_PARAM_SEED=N   the draws (default: a new seed per run, printed to reproduce it)
#   TCPLAB_PARAM_DRAWS=N  draws per variant (default 1)
set -u
tcplab=$1 tests=$2
seed=${TCPLAB_PARAM_SEED:-$(date +%s)}
draws=${TCPLAB_PARAM_DRAWS:-1}
"$tcplab" run rst-on-close --results /dev/null --quiet >/dev/null 2>&1
[ $? = 77 ] && { echo "cannot build labs here: skipped"; exit 77; }
work=$(mktemp -d /tmp/params.XXXXXX)
trap 'rm -rf "$work"' EXIT
echo "seed $seed, $draws draw(s) per variant (TCPLAB_PARAM_SEED=$seed to repeat)"

# one line per run: SCENARIO VARIANT --set K=V ... (bounds or a uniform value, seeded)
"$tcplab" list --params >"$work/params"
"$tcplab" list --cases | awk '!/^#/ && $2 == $3 { print $1, $2 }' >"$work/variants"
awk -v seed="$seed" -v draws="$draws" '
	FNR == NR { if (!/^#/) { n[$1]++; name[$1, n[$1]] = $2; lo[$1, n[$1]] = $3; hi[$1, n[$1]] = $5 }; next }
	BEGIN { srand(seed) }
	{
		for (d = 0; d < draws; d++) {
			line = $1 " " $2
			for (i = 1; i <= n[$1]; i++) {
				l = lo[$1, i]; h = hi[$1, i]; r = rand()
				v = r < 0.25 ? l : r < 0.5 ? h : l + int(rand() * (h - l + 1))
				line = line " --set " name[$1, i] "=" v
			}
			print line
		}
	}' "$work/params" "$work/variants" >"$work/runs"

check() { # check N SCENARIO VARIANT ARGS...: one line, ok / refused / FAIL with the evidence
	n=$1 s=$2 v=$3
	shift 3
	out="$work/$n"
	"$tcplab" run "$s" --variant "$v" "$@" --results "$out" --quiet >"$out.txt" 2>&1
	rc=$?
	case $rc in
	0) ;;
	2)
		if grep -q "variant $v: " "$out.txt"; then
			echo "refused: $s/$v $*: $(tail -1 "$out.txt")"
		else
			echo "FAIL: $s/$v $*: exit 2 without a precondition:"; sed 's/^/    /' "$out.txt"
		fi
		return ;;
	*) echo "FAIL: $s/$v $*: exit $rc:"; sed 's/^/    /' "$out.txt"; return ;;
	esac
	run=$(ls -d "$out/$s/"* | tail -1)
	if command -v tshark >/dev/null; then
		"$tcplab" facts "$run" >"$out.ours" && sh "$tests/tshark-facts.sh" "$run" >"$out.tshark"
		if ! diff -u "$out.ours" "$out.tshark" >"$out.diff"; then
			echo "FAIL: $s/$v $*: tcplab and tshark read the captures differently:"
			sed 's/^/    /' "$out.diff"
			return
		fi
	fi
	echo "ok: $s/$v $*"
}

i=0
while read -r line; do
	i=$((i + 1))
	# shellcheck disable=SC2086
	# one lab at a time: the draws judge timing windows, which a second lab's CPU would move
	check $i $line
done <"$work/runs" >"$work/out"
wait
cat "$work/out"
if grep -q '^FAIL' "$work/out"; then
	# again at the end, where a log cut to its last lines (meson's) still shows them
	echo "seed $seed: failures (TCPLAB_PARAM_SEED=$seed to repeat):"
	awk '/^FAIL/ { on = 1 } /^(ok|refused):/ { on = 0 } on' "$work/out"
	exit 1
fi
echo "seed $seed: $(grep -c '^ok' "$work/out") runs as documented, $(grep -c '^refused' "$work/out") refused"
