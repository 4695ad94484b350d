#!/bin/bash
# The scenario suite across kernels: each kernel boots in qemu (KVM when it answers, else TCG)
# with this machine's root shared read-only over virtio-9p under a tmpfs overlay, runs the
# chosen cases with the tcplab already built here, and brings every run's report back over a
# second, writable 9p share; then one table, case x kernel -> verdict, with the expectations
# that differ. See tests/kernels/README.md.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
# shellcheck source=kernel.sh
. "$HERE/kernel.sh"

usage() {
	cat <<EOF
usage: tests/kernels/run.sh [--kernel K]... [--scenarios 'NAME[/VARIANT] ...' | --suite]
                            [--impair SPEC]... [--build DIR] [--cache DIR] [--out DIR]
                            [--tests 'netem ...'] [--accel auto|kvm|tcg] [--timeout S]
                            [--judge-timing] [--no-host]
  --kernel K     host | 6.1 | 6.12 | an installed release | linux-image-NAME | FILE.deb
                 (default: host 6.1 6.12)
  --scenarios    scenario names (every case of each) or NAME/VARIANT (that variant alone);
                 default: every scenario's default variant
  --suite        every case of tests/scenario-cases.txt
  --impair SPEC  passed to every run (repeatable)
  --tests NAMES  test scripts of tests/ run after the cases (tests/NAME.sh BUILD/tcplab)
  --build DIR    the built tree whose tcplab runs (default: $SRC/build)
  --cache DIR    kernels and initramfs (default: /var/cache/tcplab-kernels)
  --out DIR      where each kernel's results go (default: BUILD/kernel-matrix/DATE)
  --timeout S    kill a guest after S seconds (default: from the cases' budgets)
  --judge-timing under TCG, judge timed expectations too (by default they are shown, not
                 judged: TCPLAB_EMULATED=tcg)
EOF
	exit 2
}

kernels=() impair=() scen="" suite=0 build="$SRC/build" CACHE=/var/cache/tcplab-kernels
out="" accel=auto limit="" judge_timing=0 host=1 tests=""
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) kernels+=("$2"); shift ;;
	--scenarios) scen=$2; shift ;;
	--suite) suite=1 ;;
	--tests) tests=$2; shift ;;
	--impair) impair+=("$2"); shift ;;
	--build) build=$2; shift ;;
	--cache) CACHE=$2; shift ;;
	--out) out=$2; shift ;;
	--accel) accel=$2; shift ;;
	--timeout) limit=$2; shift ;;
	--judge-timing) judge_timing=1 ;;
	--no-host) host=0 ;;
	-h | --help) usage ;;
	*) echo "tests/kernels/run.sh: unknown option '$1'" >&2; usage ;;
	esac
	shift
done
[ ${#kernels[@]} -gt 0 ] || kernels=(host 6.1 6.12)
[ "$(id -u)" = 0 ] || { echo "tests/kernels/run.sh: needs root (labs, 9p of /)" >&2; exit 77; }
build=$(cd "$build" && pwd) || die "no build directory $build (meson setup build && ninja -C build)"
[ -x "$build/tcplab" ] || die "$build/tcplab is not built (ninja -C $build)"
command -v qemu-system-x86_64 >/dev/null ||
	{ echo "tests/kernels: no qemu-system-x86_64 (apt-get install qemu-system-x86)" >&2; exit 77; }
mkdir -p "$CACHE"
out=${out:-$build/kernel-matrix/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out"
out=$(cd "$out" && pwd)

# the cases: tcplab's own list, filtered
"$build/tcplab" list --cases | grep -v '^#' >"$out/all-cases"
if [ $suite = 1 ]; then
	cp "$out/all-cases" "$out/cases"
elif [ -n "$scen" ]; then
	: >"$out/cases"
	for s in $scen; do
		if [[ $s == */* ]]; then
			awk -v s="${s%%/*}" -v v="${s#*/}" '$1 == s && $2 == v && $3 == v' "$out/all-cases"
		else
			awk -v s="$s" '$1 == s' "$out/all-cases"
		fi >>"$out/cases.tmp"
		[ -s "$out/cases.tmp" ] || die "no case for '$s' (tcplab list --cases)"
		cat "$out/cases.tmp" >>"$out/cases"
		rm -f "$out/cases.tmp"
	done
else
	awk '$2 == "default" && $3 == "default"' "$out/all-cases" >"$out/cases"
fi
: >"$out/impair"
for spec in "${impair[@]+"${impair[@]}"}"; do
	echo "$spec" >>"$out/impair"
done
budget=$(awk '{ s += $5 * 2 + 30 } END { print s }' "$out/cases")
for t in $tests; do
	[ -f "$SRC/tests/$t.sh" ] || die "no test script tests/$t.sh"
	budget=$((budget + 300))
done
limit=${limit:-$((budget + 180))}
echo "tests/kernels: $(wc -l <"$out/cases") cases; kernels: ${kernels[*]}; results: $out"

# a guest never outlives us (Ctrl-C, kill): its process group goes with the script
guest_pid=""
trap 'rc=$?; [ -z "$guest_pid" ] || kill -- "-$guest_pid" 2>/dev/null || true; exit $rc' EXIT
trap 'exit 130' INT TERM

# qemu's answer to "does KVM work?": a guest that prints its first line within a few seconds
kvm_state=unknown
[ "$accel" = tcg ] && kvm_state=no
[ -w /dev/kvm ] || kvm_state=no

# boot_guest LABEL ACCEL LIMIT: one guest; 0 when its job ended, 3 when a KVM boot is silent
boot_guest() {
	local label=$1 acc=$2 lim=$3 kout="$out/$1" cpu=max pid t0 waited=0 rc=0
	mkdir -p "$kout"
	rm -f "$kout/console.log" "$kout/status"
	cp "$out/cases" "$kout/cases"
	{
		echo 'export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
		printf 'export KERNEL_TESTS=%q\n' "$tests"
		[ "$acc" = tcg ] && [ $judge_timing = 0 ] && echo 'export TCPLAB_EMULATED=tcg'
		# an unpacked kernel's config where tcplab looks for it (HZ, sch_netem)
		[ -n "$KTREE" ] && echo "cp '$KROOT/boot/config-$KVER' /boot/ 2>/dev/null"
		echo "cd '$SRC'"
		printf 'exec bash tests/kernels/guest.sh %q /out/cases /out' "$build"
		while read -r spec; do [ -n "$spec" ] && printf ' %q' "$spec"; done <"$out/impair"
		echo
	} >"$kout/job.sh"
	[ "$acc" = kvm ] && cpu=host
	t0=$(date +%s)
	# through sh, so that a qemu that aborts is reported in qemu.log, not on our terminal; in
	# a process group of its own, which the EXIT trap kills
	setsid sh -c '"$@"' sh timeout --foreground -k 5 "$lim" qemu-system-x86_64 -accel "$acc" -cpu "$cpu" -smp 2 -m 2048 \
		-display none -monitor none -serial "file:$kout/console.log" -no-reboot -nic none \
		-kernel "$KIMAGE" -initrd "$KINITRD" \
		-append "console=ttyS0 panic=-1 loglevel=4 rdinit=/init" \
		-fsdev "local,id=root,path=/,security_model=none,readonly=on,multidevs=remap" \
		-device virtio-9p-pci,fsdev=root,mount_tag=root \
		-fsdev "local,id=out,path=$kout,security_model=none" \
		-device virtio-9p-pci,fsdev=out,mount_tag=out \
		>"$kout/qemu.log" 2>&1 &
	pid=$!
	guest_pid=$pid
	while kill -0 $pid 2>/dev/null; do
		sleep 1
		waited=$((waited + 1))
		# nested KVM can hang in the kernel's decompressor: silence means "use TCG"
		if [ "$acc" = kvm ] && [ $waited -ge 20 ] &&
			! grep -q 'tcplab-guest: init' "$kout/console.log" 2>/dev/null; then
			kill $pid 2>/dev/null
			wait $pid || true
			return 3
		fi
	done
	wait $pid || rc=$?
	# KVM that fails before the guest's first line (qemu aborts on an MSR here) is no KVM either
	if [ "$acc" = kvm ] && ! grep -q 'tcplab-guest: init' "$kout/console.log" 2>/dev/null; then
		sed 's/^/    qemu: /' "$kout/qemu.log" | head -3 >&2
		return 3
	fi
	echo "elapsed $(($(date +%s) - t0))" >"$kout/boot-info"
	echo "accel $acc" >>"$kout/boot-info"
	echo "kernel $KVER" >>"$kout/boot-info"
	if [ $rc = 124 ] || [ $rc = 137 ]; then
		echo "timeout $lim" >>"$kout/boot-info"
		echo "tests/kernels: $label: guest killed after ${lim}s (hung?); console: $kout/console.log" >&2
	fi
	grep -q 'tcplab-guest: job ended' "$kout/console.log" 2>/dev/null
}

labels=()
for k in "${kernels[@]}"; do
	if [ "$k" = host ]; then
		[ $host = 1 ] || continue
		echo "tests/kernels: host $(uname -r): running on this machine"
		mkdir -p "$out/host"
		cp "$out/cases" "$out/host/cases"
		mapfile -t specs <"$out/impair"
		(cd "$SRC" && KERNEL_TESTS=$tests bash "$HERE/guest.sh" "$build" "$out/host/cases" "$out/host" \
			${specs[@]+"${specs[@]}"}) | sed 's/^tcplab-guest: /  /' || true
		echo "accel none" >"$out/host/boot-info"
		labels+=(host)
		continue
	fi
	resolve_kernel "$k"
	build_initramfs
	label=$KVER
	labels+=("$label")
	echo "tests/kernels: $KVER: booting ($KIMAGE)"
	acc=tcg
	if [ "$accel" != tcg ] && [ $kvm_state != no ]; then
		acc=kvm
	fi
	if [ $acc = kvm ]; then
		if boot_guest "$label" kvm "$limit"; then
			kvm_state=yes
			continue
		elif [ $? = 3 ]; then
			echo "tests/kernels: no working KVM (silent for 20 s or failed before the guest spoke): TCG from now on"
			kvm_state=no
		else
			continue
		fi
	fi
	boot_guest "$label" tcg "$limit" || true
done

python3 "$HERE/table.py" "$out" "${labels[@]}"
