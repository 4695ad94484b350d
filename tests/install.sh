#!/bin/bash
# `meson install --destdir` yields a working tcplab: it prints its version, lists, helps, its man
# page names every command and option and its version, its bash completion completes from
# `tcplab list`, and (root) it runs a scenario with the installed programs from libexec, not
# the build tree's.
# usage: install.sh BUILD-DIR
set -u
build=$1
dest=$(mktemp -d /tmp/install.XXXXXX)
trap 'rm -rf "$dest"' EXIT
fail=0
bad() {
	echo "FAIL: $*"
	fail=1
}

meson install -C "$build" --destdir "$dest" --no-rebuild --quiet >"$dest/install.log" 2>&1 ||
	{ cat "$dest/install.log"; exit 1; }
tcplab=$(find "$dest" -type f -path '*/bin/tcplab')
server=$(find "$dest" -type f -path '*/libexec/tcplab/tcplab-server')
man=$(find "$dest" -type f -path '*/man1/tcplab.1*')
completion=$(find "$dest" -type f -path '*/bash-completion/completions/tcplab')
for f in tcplab server man completion; do
	[ -n "${!f}" ] || bad "meson install put no $f under $dest"
done
[ "$fail" = 0 ] || exit 1

version=$("$tcplab" --version) || bad "--version: exit $?"
[[ $version =~ ^tcplab\ [0-9]+\.[0-9]+ ]] || bad "--version printed '$version'"
"$tcplab" list | grep -q '^rst-on-close ' || bad "the installed tcplab lists no rst-on-close"
"$tcplab" help run | grep -q '^usage: tcplab run NAME' || bad "help run"

# the man page: the version, every command and each one's options (roff writes - as \-)
text=$(sed 's/\\-/-/g' "$man")
number=$(printf '%s' "$version" | cut -d' ' -f2)
grep -q "^\.TH TCPLAB 1 .*\"tcplab $number\"" "$man" || bad "the man page is not of tcplab $number"
for cmd in $("$tcplab" help | awk '/^  [a-z]/ { print $1 }'); do
	printf '%s' "$text" | grep -q "^\.B.* $cmd\b\|^\.B $cmd\|^\.BR $cmd\|^\.BI $cmd\b" ||
		bad "the man page has no entry for the command $cmd"
	for opt in $("$tcplab" help "$cmd" | grep -- '^  --' | grep -o -- '--[a-z-]*' | sort -u); do
		printf '%s' "$text" | grep -q -- "$opt" || bad "the man page does not name $cmd $opt"
	done
done

# the completion asks the installed tcplab for names
complete_line() { # complete_line WORD... : COMPREPLY for the last word
	COMP_WORDS=("$tcplab" "$@")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	_tcplab 2>/dev/null
	printf '%s\n' "${COMPREPLY[@]}"
}
# shellcheck disable=SC1090
source "$completion"
complete_line run rst-on | grep -qx rst-on-close || bad "completion: run rst-on"
complete_line run lost-final-ack --variant "" | grep -qx no-timewait || bad "completion: --variant"
complete_line run rst-on-close --set r | grep -qx 'read_bytes=' || bad "completion: --set"
complete_line he | grep -qx help || bad "completion: commands"
complete_line run rst-on-close --js | grep -qx -- --json || bad "completion: run's options"
complete_line show x.pcap --co | grep -qx -- --conn || bad "completion: show's options"

# root: one scenario with the installed programs (a wrapper around the installed server says
# that it was the one started)
if [ "$(id -u)" = 0 ]; then
	mv "$server" "$server.real"
	printf '#!/bin/sh\ntouch "%s/installed-server-ran"\nexec "%s.real" "$@"\n' "$dest" \
		"$server" >"$server"
	chmod +x "$server"
	out=$("$tcplab" run rst-on-close --quiet --results "$dest/results" 2>&1) ||
		bad "the installed tcplab's run: exit $?: $out"
	[ -f "$dest/installed-server-ran" ] ||
		bad "the installed tcplab did not start the installed tcplab-server"
else
	echo "not root: the installed tcplab's run is not tried"
fi
[ "$fail" = 0 ] && echo "ok: installed under $dest: $version, man page, completion, a run with libexec's programs"
exit "$fail"
