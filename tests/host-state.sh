#!/bin/sh
# The root namespace's network state, for before/after comparisons: links, addresses, routes,
# rules, net.* sysctls, nftables and iptables rulesets, network namespaces (named and held by
# processes), mounts, and anything tcplab-named in /tmp, /dev/shm and /run.
# Counters and other values that move on their own are left out.
#
# Scoped to the caller ($TCPLAB_TAG; tests/meson.build sets one per suite, each safety test
# adds its name): another suite's (or a person's) labs running or kept at the same time are
# theirs, not our leftovers, and are left out:
#  - namespaces: the host's (PID 1's), and those a process carrying our tag lives in. Whatever
#    the harness starts inherits the tag, so a namespace of ours held by a process shows; one of
#    another suite, or of a harness build from before tags, does not. Without TCPLAB_TAG, every
#    process without one counts as ours (what a person running this by hand wants).
#  - kept labs (tcplab-ID-*) whose owner record (/run/tcplab/tcplab-ID.owner) has another tag.
set -u
tag=${TCPLAB_TAG:-}

# namespace inodes: the host's, and those a process of our tag lives in
netns_ours() {
	{
		grep -azs -H '^TCPLAB_TAG=' /proc/[0-9]*/environ | tr '\0' '\n'
		find /proc/[0-9]*/ns -maxdepth 1 -name net -printf 'NS %h %l\n' 2>/dev/null
	} | awk -v tag="$tag" '
		/^NS / { split($2, p, "/"); ns[p[3]] = $3; next }
		{ split($0, p, "/"); tagof[p[3]] = substr($0, index($0, ":") + 12) }
		END {
			for (pid in ns)
				if (pid == 1 || tagof[pid] == tag) keep[ns[pid]] = 1
			for (n in keep) { gsub(/[^0-9]/, "", n); print n }
		}' | sort
}

# kept labs recorded with another tag, as an extended regex (or one that matches nothing)
others_kept() {
	for f in /run/tcplab/tcplab-*.owner; do
		[ -e "$f" ] || continue
		t=$(sed -n 's/^tag=//p' "$f" 2>/dev/null) || continue
		[ "$t" = "$tag" ] || printf '%s|' "$(basename "$f" .owner)"
	done
}

# kept labs may come and go while we look: their records are written before their namespaces
# and removed after them, so records seen before or after cover every namespace seen in between
before=$(others_kept)
state=$(
	ip -o link show | sed 's/ state [A-Z]* / /'
	ip -o addr show | sed 's/valid_lft.*//'
	ip route show table all
	ip rule show
	ip netns list
	netns_ours
	sysctl -a 2>/dev/null | grep '^net\.' |
		grep -v -e 'nf_conntrack_count' -e '\.stable_secret' -e 'ipv4.tcp_fastopen_key' \
			-e 'core.netdev_rss_key' -e 'random' -e 'ipv4.fib_multipath_hash_seed' \
			-e 'ipv4.tcp_mem' -e 'ipv4.udp_mem'
	nft list ruleset 2>/dev/null
	iptables-save 2>/dev/null | grep -v '^#' | sed 's/\[[0-9]*:[0-9]*\]//'
	# /run/netns made a mount point by the first `ip netns add` or --keep is everyone's too
	grep -v -e ' /proc/' -e '^proc ' -e '^[^ ]* /run/netns [^ ]* ' /proc/mounts
	# /run/tcplab itself is everyone's (made by the first --keep, like /run/netns)
	find /tmp /dev/shm /run -maxdepth 2 -name '*tcplab*' 2>/dev/null | grep -vx /run/tcplab |
		grep -v "${TCPLAB_STATE_IGNORE:-^$}"
)
others=$before$(others_kept)
if [ -n "$others" ]; then
	printf '%s\n' "$state" | grep -v -E "(${others%|})[-.]"
else
	printf '%s\n' "$state"
fi
