#!/bin/sh
# The root namespace's network state, for before/after comparisons: links, addresses, routes,
# rules, net.* sysctls, nftables and iptables rulesets, network namespaces (named and held by
# processes), mounts, and anything tcplab-named in /tmp, /dev/shm and /run.
# Counters and other values that move on their own are left out.
ip -o link show | sed 's/ state [A-Z]* / /'
ip -o addr show | sed 's/valid_lft.*//'
ip route show table all
ip rule show
ip netns list
lsns -t net -n -o NS 2>/dev/null | sort
sysctl -a 2>/dev/null | grep '^net\.' |
	grep -v -e 'nf_conntrack_count' -e '\.stable_secret' -e 'ipv4.tcp_fastopen_key' \
		-e 'core.netdev_rss_key' -e 'random' -e 'ipv4.fib_multipath_hash_seed' \
		-e 'ipv4.tcp_mem' -e 'ipv4.udp_mem'
nft list ruleset 2>/dev/null
iptables-save 2>/dev/null | grep -v '^#' | sed 's/\[[0-9]*:[0-9]*\]//'
grep -v -e ' /proc/' -e '^proc ' /proc/mounts
find /tmp /dev/shm /run -maxdepth 2 -name '*tcplab*' 2>/dev/null | grep -v "${TCPLAB_STATE_IGNORE:-^$}"
