# shellcheck shell=bash
# Sourced by tests/kernels/run.sh: turn a kernel name into a bootable kernel, its modules and an
# initramfs, all in the cache (never in the source tree, never in the machine's apt config).
#
#   host                    this machine's own kernel: no guest
#   6.1.0-56-amd64          an installed Debian kernel (/boot/vmlinuz-VERSION, /lib/modules)
#   6.1 | linux-image-amd64 Debian 12's kernel: installed if it is, else fetched
#   6.12 | bookworm-backports  the newest linux-image-6.12.*-amd64 of bookworm-backports
#   linux-image-NAME        a package of the machine's suites, else of bookworm-backports
#   FILE.deb                a kernel package already downloaded
#
# Sets KVER (the kernel's release), KIMAGE (its vmlinuz), KTREE (the lib/modules folder to bind
# over /lib/modules in the guest, "" for an installed kernel) and KINITRD.

die() {
	echo "tests/kernels: $*" >&2
	exit 2
}

# apt through a sources list of our own (bookworm-backports of the machine's own mirror): the
# machine's apt configuration, lists and caches stay as they are
backports_apt() {
	local a="$CACHE/apt" mirror
	mkdir -p "$a/lists/partial" "$a/cache/archives/partial" "$a/parts"
	if [ ! -s "$a/sources.list" ]; then
		mirror=$(apt-get indextargets --format '$(REPO_URI) $(RELEASE)' |
			awk '$2 == "bookworm" { print $1; exit }')
		[ -n "$mirror" ] || die "no bookworm suite in the machine's apt sources to borrow the mirror of"
		echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror bookworm-backports main" >"$a/sources.list"
	fi
	apt-get -q -o APT::Sandbox::User=root -o Dir::Etc::SourceList="$a/sources.list" -o Dir::Etc::SourceParts="$a/parts" \
		-o Dir::State::Lists="$a/lists" -o Dir::Cache="$a/cache" "$@"
}

backports_cache() {
	local a="$CACHE/apt"
	apt-cache -o Dir::Etc::SourceList="$a/sources.list" -o Dir::Etc::SourceParts="$a/parts" \
		-o Dir::State::Lists="$a/lists" -o Dir::Cache="$a/cache" "$@"
}

# the newest linux-image-X.Y.*-amd64 (signed, else unsigned) in bookworm-backports
backports_package() {
	local series=$1
	if [ -z "$(ls -A "$CACHE/apt/lists" 2>/dev/null | grep -v partial)" ]; then
		backports_apt update >&2 || die "apt-get update of bookworm-backports failed"
	fi
	backports_cache pkgnames linux-image- |
		grep -E "^linux-image-${series//./\\.}\.[0-9]+(\+bpo|\+deb12)?-amd64(-unsigned)?$" |
		sort -V | tail -1
}

# fetch @pkg (machine's suites first, then backports) into the cache; echo the .deb
fetch_deb() {
	local pkg=$1 d="$CACHE/debs"
	mkdir -p "$d"
	ls "$d/${pkg}"_*.deb >/dev/null 2>&1 && { ls "$d/${pkg}"_*.deb | tail -1; return; }
	(cd "$d" && apt-get -q download "$pkg" >&2 2>/dev/null) ||
		(cd "$d" && backports_apt download "$pkg" >&2) ||
		die "cannot download $pkg (apt-get download, also from bookworm-backports)"
	ls "$d/${pkg}"_*.deb | tail -1
}

# unpack a kernel package once: boot/vmlinuz-V and lib/modules/V with its modules.dep
unpack_deb() {
	local deb=$1 tmp ver
	tmp=$(mktemp -d "$CACHE/unpack.XXXXXX")
	dpkg -x "$deb" "$tmp" || die "dpkg -x $deb failed"
	ver=$(ls "$tmp/lib/modules" | head -1)
	[ -n "$ver" ] && [ -f "$tmp/boot/vmlinuz-$ver" ] || die "$deb holds no kernel"
	rm -rf "$CACHE/k/$ver"
	mkdir -p "$CACHE/k"
	mv "$tmp" "$CACHE/k/$ver"
	# without modules.dep the guest cannot load veth (the lab then cannot be built)
	depmod -b "$CACHE/k/$ver" "$ver" || die "depmod for $ver failed"
	echo "$ver"
}

use_unpacked() {
	KVER=$1
	KIMAGE="$CACHE/k/$KVER/boot/vmlinuz-$KVER"
	KTREE="$CACHE/k/$KVER/lib/modules"
	KROOT="$CACHE/k/$KVER"
}

resolve_kernel() {
	local spec=$1 pkg deb
	KTREE=""
	KROOT=/
	if [ -f "/boot/vmlinuz-$spec" ] && [ -d "/lib/modules/$spec" ]; then
		KVER=$spec
		KIMAGE="/boot/vmlinuz-$spec"
		return
	fi
	case $spec in
	*.deb)
		[ -f "$spec" ] || die "no such package file: $spec"
		use_unpacked "$(unpack_deb "$spec")"
		return
		;;
	6.1 | bookworm | linux-image-amd64)
		pkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-/ { print $2; exit }')
		[ -n "$pkg" ] || die "linux-image-amd64 is unknown to apt (apt-get update first)"
		;;
	bookworm-backports) pkg=$(backports_package 6.12) ;;
	[0-9]*.[0-9]*) pkg=$(backports_package "$spec") ;;
	linux-image-*) pkg=$spec ;;
	*) die "kernel '$spec': not installed, and not 6.1, 6.12, X.Y, linux-image-NAME or FILE.deb" ;;
	esac
	[ -n "$pkg" ] || die "kernel '$spec': no such package in bookworm or bookworm-backports"
	# installed by dpkg: the files are in /boot and /lib/modules already
	local v=${pkg#linux-image-}
	v=${v%-unsigned}
	if [ -f "/boot/vmlinuz-$v" ] && [ -d "/lib/modules/$v" ]; then
		KVER=$v
		KIMAGE="/boot/vmlinuz-$v"
		return
	fi
	if [ -f "$CACHE/k/$v/boot/vmlinuz-$v" ]; then
		use_unpacked "$v"
		return
	fi
	deb=$(fetch_deb "$pkg")
	use_unpacked "$(unpack_deb "$deb")"
}

# the initramfs: static busybox, /init, and the modules the 9p root needs in load order
# (modprobe --show-depends against that kernel's own modules.dep), decompressed for insmod
build_initramfs() {
	local dir="$CACHE/initramfs/$KVER" out="$CACHE/initramfs/$KVER.cpio.gz" m line ko name
	KINITRD=$out
	if [ -s "$out" ] && [ "$out" -nt "$HERE/init" ]; then
		return
	fi
	command -v busybox >/dev/null && busybox --list | grep -qx insmod ||
		die "no static busybox: apt-get install busybox-static"
	rm -rf "$dir"
	mkdir -p "$dir/bin" "$dir/modules"
	cp "$(command -v busybox)" "$dir/bin/busybox"
	for m in $(busybox --list); do
		[ "$m" = busybox ] || ln -sf busybox "$dir/bin/$m"
	done
	ln -s bin "$dir/sbin"
	cp "$HERE/init" "$dir/init"
	chmod +x "$dir/init"
	[ "$KROOT" = / ] && echo "" >"$dir/modules/tree" || echo "$KTREE" >"$dir/modules/tree"
	: >"$dir/modules/order"
	for m in virtio_pci 9pnet_virtio 9p overlay; do
		modprobe -d "$KROOT" -S "$KVER" --show-depends "$m" 2>/dev/null |
			while read -r line ko _; do
				[ "$line" = insmod ] || continue
				name=$(basename "$ko")
				name=${name%.xz}
				name=${name%.zst}
				grep -qx "$name" "$dir/modules/order" && continue
				case $ko in
				*.xz) xz -dc "$ko" >"$dir/modules/$name" ;;
				*.zst) zstd -qdc "$ko" >"$dir/modules/$name" ;;
				*) cp "$ko" "$dir/modules/$name" ;;
				esac
				echo "$name" >>"$dir/modules/order"
			done
	done
	grep -q '^9p.ko$' "$dir/modules/order" ||
		grep -q '^9p' "$dir/modules/order" ||
		echo "tests/kernels: note: 9p is built into $KVER (no module)" >&2
	(cd "$dir" && find . | cpio -o -H newc --quiet | gzip -1) >"$out.tmp" &&
		mv "$out.tmp" "$out"
}
