// SPDX-License-Identifier: MIT
/*
 * Waiting until a link carries packets: its state over rtnetlink (RTM_GETLINK, then RTNLGRP_LINK
 * notifications), with a deadline, never a sleep.
 */
#define _GNU_SOURCE
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "error.h"
#include "event.h"
#include "link.h"

struct link_state {
	int ifindex;
	bool seen;
	unsigned int flags; /* IFF_UP, IFF_LOWER_UP (carrier), IFF_RUNNING */
	unsigned char operstate; /* IF_OPER_* (RFC 2863), set by linkwatch */
	char qdisc[16]; /* "noop" until linkwatch has activated the device */
};

static bool ready(const struct link_state *st)
{
	return st->seen && (st->flags & IFF_UP) && (st->flags & IFF_LOWER_UP) &&
	       st->operstate == IF_OPER_UP && st->qdisc[0] && strcmp(st->qdisc, "noop");
}

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	struct link_state *st = data;
	struct nlattr *a;

	if (nlh->nlmsg_type != RTM_NEWLINK || ifi->ifi_index != st->ifindex)
		return MNL_CB_OK;
	st->seen = true;
	st->flags = ifi->ifi_flags;
	st->qdisc[0] = '\0';
	mnl_attr_for_each(a, nlh, sizeof(*ifi))
	{
		if (mnl_attr_get_type(a) == IFLA_OPERSTATE && !mnl_attr_validate(a, MNL_TYPE_U8))
			st->operstate = mnl_attr_get_u8(a);
		else if (mnl_attr_get_type(a) == IFLA_QDISC &&
			 !mnl_attr_validate(a, MNL_TYPE_NUL_STRING))
			snprintf(st->qdisc, sizeof(st->qdisc), "%s", mnl_attr_get_str(a));
	}
	return MNL_CB_OK;
}

/* RTM_GETLINK for one link: the answer arrives on the socket like a notification */
static int ask(struct mnl_socket *nl, int ifindex, const char *name)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;

	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return lab_fail(-errno, "%s: ask the link's state", name);
	return 0;
}

static const char *operstate_name(unsigned char s)
{
	static const char *const names[] = { "unknown", "notpresent", "down", "lowerlayerdown",
					     "testing", "dormant",    "up" };

	return s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

static int timed_out(const struct link_state *st, const char *name, int64_t waited_us)
{
	if (!st->seen)
		return lab_fail(-ETIMEDOUT, "%s: no link state after %lld ms", name,
				(long long)waited_us / 1000);
	return lab_fail(-ETIMEDOUT,
			"%s: not ready to carry packets after %lld ms (%s, carrier %s, operstate "
			"%s, qdisc %s)",
			name, (long long)waited_us / 1000, st->flags & IFF_UP ? "up" : "down",
			st->flags & IFF_LOWER_UP ? "on" : "off", operstate_name(st->operstate),
			st->qdisc[0] ? st->qdisc : "?");
}

int lab_link_wait_ready(int ifindex, const char *name, int64_t deadline_us)
{
	struct link_state st = { .ifindex = ifindex };
	char buf[MNL_SOCKET_BUFFER_SIZE];
	unsigned int group = RTNLGRP_LINK;
	int64_t start = lab_mono_us(), left;
	struct mnl_socket *nl;
	bool asked = false;
	struct pollfd pfd;
	ssize_t n;
	int err = 0;

	nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (!nl)
		return lab_fail(-errno, "%s: open rtnetlink socket", name);
	/* listen first, then ask: a change between the two cannot be missed */
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    mnl_socket_setsockopt(nl, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) < 0) {
		err = lab_fail(-errno, "%s: listen to link changes", name);
		goto out;
	}
	pfd = (struct pollfd){ .fd = mnl_socket_get_fd(nl), .events = POLLIN };
	while (!ready(&st)) {
		if (!asked) {
			err = ask(nl, ifindex, name);
			if (err)
				goto out;
			asked = true;
		}
		left = deadline_us - lab_mono_us();
		if (left <= 0 || poll(&pfd, 1, (int)((left + 999) / 1000)) == 0) {
			err = timed_out(&st, name, lab_mono_us() - start);
			goto out;
		}
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0 && errno == ENOBUFS) {
			asked = false; /* notifications were lost: ask again */
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0 || mnl_cb_run(buf, (size_t)n, 0, 0, link_cb, &st) < 0) {
			err = lab_fail(-errno, "%s: read the link's state", name);
			goto out;
		}
	}
out:
	mnl_socket_close(nl);
	return err;
}
