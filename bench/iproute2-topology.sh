#!/bin/sh
# The same three-namespace topology with iproute2 commands, for comparison with bench-topology.
# Usage: bench/iproute2-topology.sh [CYCLES]   (root; uses namespace names tcplab-bench-*)
set -eu
n=${1:-20}
i=0
start=$(date +%s%N)
while [ "$i" -lt "$n" ]; do
	c=tcplab-bench-c w=tcplab-bench-w s=tcplab-bench-s
	ip netns add $c; ip netns add $w; ip netns add $s
	ip -n $c link add c0 type veth peer name w0 netns $w
	ip -n $s link add s0 type veth peer name w1 netns $w
	ip -n $c addr add 192.0.2.1/24 dev c0; ip -n $c link set c0 up
	ip -n $s addr add 198.51.100.1/24 dev s0; ip -n $s link set s0 up
	ip -n $w addr add 192.0.2.254/24 dev w0; ip -n $w link set w0 up
	ip -n $w addr add 198.51.100.254/24 dev w1; ip -n $w link set w1 up
	ip -n $c route add default via 192.0.2.254
	ip -n $s route add default via 198.51.100.254
	ip netns del $c; ip netns del $w; ip netns del $s
	i=$((i + 1))
done
end=$(date +%s%N)
echo "iproute2: $(( (end - start) / n / 1000 )) us per up+down cycle (no offloads, no sysctls)"
