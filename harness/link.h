/* SPDX-License-Identifier: MIT */
#ifndef LAB_LINK_H
#define LAB_LINK_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

/*
 * Links, addresses and routes over rtnetlink (libmnl). Every call acts on the namespace the
 * calling thread is in when the lab_rtnl was opened: enter the namespace first.
 */
struct mnl_socket;

struct lab_rtnl {
	struct mnl_socket *nl;
	unsigned int seq;
	unsigned int portid;
};

#define LAB_RTNL_INIT      \
	{                  \
		.nl = NULL \
	}

int lab_rtnl_open(struct lab_rtnl *r);
void lab_rtnl_close(struct lab_rtnl *r);

#define LAB_MAC_LEN 6

/* one end of a veth pair: its name and its (fixed, so captures are the same every run) MAC */
struct lab_veth_end {
	const char *name;
	unsigned char mac[LAB_MAC_LEN];
};

/* a veth pair @end <-> @peer, both down; the peer moved into the namespace @peer_netns_fd */
int lab_link_veth_add(struct lab_rtnl *r, const struct lab_veth_end *end,
		      const struct lab_veth_end *peer, int peer_netns_fd, unsigned int mtu);
int lab_link_up(struct lab_rtnl *r, int ifindex);
int lab_addr_add(struct lab_rtnl *r, int ifindex, struct in_addr addr, unsigned int prefix);
int lab_route_add_default(struct lab_rtnl *r, struct in_addr gateway);
/* lab_route_del_default() - no default route any more: what lies beyond the link is unroutable */
int lab_route_del_default(struct lab_rtnl *r);

/*
 * lab_neigh_add_permanent() - @addr is at @mac on @ifindex, for good (NUD_PERMANENT): the stack
 * never sends ARP for it, so no story can lose its first packet to neighbour resolution. Add it
 * after the link is up: taking a link down flushes even permanent entries (neigh_ifdown()).
 */
int lab_neigh_add_permanent(struct lab_rtnl *r, int ifindex, struct in_addr addr,
			    const unsigned char mac[LAB_MAC_LEN]);

/*
 * lab_link_wait_ready() - wait until the link @ifindex (named @name, in the calling thread's
 * namespace) can carry a packet, or @deadline_us (lab_mono_us()) passes: up, carrier, operstate
 * UP, and a real root qdisc. Until linkwatch has run for a new carrier, the device's qdisc is
 * noop_qdisc and every packet sent is dropped before any capture sees it (linkwatch_do_dev()
 * -> dev_activate()); with many labs at once that work runs late. Watched over rtnetlink
 * (RTNLGRP_LINK), never by sleeping. 0, or -ETIMEDOUT with what was last seen.
 */
int lab_link_wait_ready(int ifindex, const char *name, int64_t deadline_us);

/*
 * lab_link_offloads() - turn segmentation/checksum offloads on or off (ethtool ioctl) so that
 * captures show wire-true segments: TSO/GSO off on senders, GRO off on receivers.
 */
int lab_link_offloads(const char *ifname, bool on);

#endif
