/* SPDX-License-Identifier: MIT */
#ifndef LAB_LINK_H
#define LAB_LINK_H

#include <netinet/in.h>
#include <stdbool.h>

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

/* a veth pair @name <-> @peer, both down; the peer moved into the namespace @peer_netns_fd */
int lab_link_veth_add(struct lab_rtnl *r, const char *name, const char *peer, int peer_netns_fd,
		      unsigned int mtu);
int lab_link_up(struct lab_rtnl *r, int ifindex);
int lab_addr_add(struct lab_rtnl *r, int ifindex, struct in_addr addr, unsigned int prefix);
int lab_route_add_default(struct lab_rtnl *r, struct in_addr gateway);

/*
 * lab_link_offloads() - turn segmentation/checksum offloads on or off (ethtool ioctl) so that
 * captures show wire-true segments: TSO/GSO off on senders, GRO off on receivers.
 */
int lab_link_offloads(const char *ifname, bool on);

#endif
