// SPDX-License-Identifier: MIT
/*
 * rtnetlink through libmnl: veth pairs, addresses, default routes, permanent neighbours; offloads
 * through ethtool. Waiting for a link to carry packets is linkwait.c.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <linux/veth.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "link.h"

int lab_rtnl_open(struct lab_rtnl *r)
{
	r->nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!r->nl)
		return lab_fail(-errno, "open rtnetlink socket");
	if (mnl_socket_bind(r->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		int err = lab_fail(-errno, "bind rtnetlink socket");

		lab_rtnl_close(r);
		return err;
	}
	r->portid = mnl_socket_get_portid(r->nl);
	r->seq = (unsigned int)time(NULL);
	return 0;
}

void lab_rtnl_close(struct lab_rtnl *r)
{
	if (r->nl)
		mnl_socket_close(r->nl);
	r->nl = NULL;
}

/* send one request with NLM_F_ACK and wait for its acknowledgement */
static int talk(struct lab_rtnl *r, struct nlmsghdr *nlh, const char *what)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	ssize_t n;
	int ret;

	nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = ++r->seq;
	if (mnl_socket_sendto(r->nl, nlh, nlh->nlmsg_len) < 0)
		return lab_fail(-errno, "%s: send", what);
	n = mnl_socket_recvfrom(r->nl, buf, sizeof(buf));
	if (n < 0)
		return lab_fail(-errno, "%s: receive", what);
	ret = mnl_cb_run(buf, n, nlh->nlmsg_seq, r->portid, NULL, NULL);
	if (ret < 0)
		return lab_fail(-errno, "%s", what);
	return 0;
}

static struct nlmsghdr *link_msg(char *buf, int type, unsigned int flags, int ifindex)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	return nlh;
}

int lab_link_veth_add(struct lab_rtnl *r, const struct lab_veth_end *end,
		      const struct lab_veth_end *peer, int peer_netns_fd, unsigned int mtu)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = link_msg(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0);
	struct nlattr *linkinfo, *data, *peer_attr;
	struct ifinfomsg *peer_ifi;

	mnl_attr_put_strz(nlh, IFLA_IFNAME, end->name);
	mnl_attr_put(nlh, IFLA_ADDRESS, LAB_MAC_LEN, end->mac);
	if (mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	peer_attr = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	/* the peer's attributes follow its own ifinfomsg header inside VETH_INFO_PEER */
	peer_ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*peer_ifi));
	peer_ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, peer->name);
	mnl_attr_put(nlh, IFLA_ADDRESS, LAB_MAC_LEN, peer->mac);
	mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)peer_netns_fd);
	if (mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	mnl_attr_nest_end(nlh, peer_attr);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, linkinfo);
	return talk(r, nlh, "create veth pair");
}

int lab_link_up(struct lab_rtnl *r, int ifindex)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = link_msg(buf, RTM_NEWLINK, 0, ifindex);
	struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);

	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	return talk(r, nlh, "set link up");
}

int lab_addr_add(struct lab_rtnl *r, int ifindex, struct in_addr addr, unsigned int prefix)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifaddrmsg *ifa;

	nlh->nlmsg_type = RTM_NEWADDR;
	nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = prefix;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = ifindex;
	mnl_attr_put(nlh, IFA_LOCAL, sizeof(addr), &addr);
	mnl_attr_put(nlh, IFA_ADDRESS, sizeof(addr), &addr);
	return talk(r, nlh, "add address");
}

int lab_route_add_default(struct lab_rtnl *r, struct in_addr gateway)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm;

	nlh->nlmsg_type = RTM_NEWROUTE;
	nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_STATIC;
	rtm->rtm_scope = RT_SCOPE_UNIVERSE;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put(nlh, RTA_GATEWAY, sizeof(gateway), &gateway);
	return talk(r, nlh, "add default route");
}

int lab_route_del_default(struct lab_rtnl *r)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm;

	nlh->nlmsg_type = RTM_DELROUTE;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_scope = RT_SCOPE_NOWHERE; /* any scope: like `ip route del default` */
	rtm->rtm_type = RTN_UNICAST;
	return talk(r, nlh, "delete the default route");
}

int lab_neigh_add_permanent(struct lab_rtnl *r, int ifindex, struct in_addr addr,
			    const unsigned char mac[LAB_MAC_LEN])
{
	char buf[MNL_SOCKET_BUFFER_SIZE], text[INET_ADDRSTRLEN], what[64];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ndmsg *ndm;

	nlh->nlmsg_type = RTM_NEWNEIGH;
	nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE;
	ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
	ndm->ndm_family = AF_INET;
	ndm->ndm_ifindex = ifindex;
	ndm->ndm_state = NUD_PERMANENT;
	ndm->ndm_type = RTN_UNICAST;
	mnl_attr_put(nlh, NDA_DST, sizeof(addr), &addr);
	mnl_attr_put(nlh, NDA_LLADDR, LAB_MAC_LEN, mac);
	inet_ntop(AF_INET, &addr, text, sizeof(text));
	snprintf(what, sizeof(what), "add permanent neighbour %s on link %d", text, ifindex);
	return talk(r, nlh, what);
}

static int ethtool_set(int fd, const char *ifname, __u32 cmd, __u32 value)
{
	struct ethtool_value ev = { .cmd = cmd, .data = value };
	struct ifreq ifr = { 0 };

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&ev;
	return ioctl(fd, SIOCETHTOOL, &ifr) < 0 ? -errno : 0;
}

int lab_link_offloads(const char *ifname, bool on)
{
	/* checksum first: with it off the kernel drops TSO by itself; captures get real sums */
	static const __u32 cmds[] = { ETHTOOL_STXCSUM, ETHTOOL_SSG, ETHTOOL_STSO, ETHTOOL_SGSO,
				      ETHTOOL_SGRO };
	int fd, err = 0;
	size_t i;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return lab_fail(-errno, "socket for ethtool");
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]) && !err; i++) {
		err = ethtool_set(fd, ifname, cmds[i], on);
		if (err == -EOPNOTSUPP)
			err = 0;
		if (err)
			lab_fail(err, "ethtool %s offload %#x", ifname, cmds[i]);
	}
	close(fd);
	return err;
}
