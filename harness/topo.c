// SPDX-License-Identifier: MIT
/* The three-namespace lab, built in-process over rtnetlink. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "link.h"
#include "sysctl.h"
#include "topo.h"

/*
 * The pinned profile, written into both endpoints. Values are Linux's defaults, pinned so a
 * host's own tuning (or a distribution's) cannot leak into a run. Congestion control is reno:
 * the only one every kernel allows in a new namespace (cubic is refused here, bbr paces).
 */
static const char *const profile[][2] = {
	{ "net.ipv4.tcp_congestion_control", "reno" },
	{ "net.ipv4.tcp_timestamps", "1" },
	{ "net.ipv4.tcp_sack", "1" },
	{ "net.ipv4.tcp_window_scaling", "1" },
	{ "net.ipv4.tcp_ecn", "2" },
	{ "net.ipv4.tcp_syncookies", "1" },
	{ "net.ipv4.tcp_syn_retries", "6" },
	{ "net.ipv4.tcp_synack_retries", "5" },
	{ "net.ipv4.tcp_retries2", "15" },
	{ "net.ipv4.tcp_fin_timeout", "60" },
	{ "net.ipv4.tcp_keepalive_time", "7200" },
	{ "net.ipv4.tcp_keepalive_intvl", "75" },
	{ "net.ipv4.tcp_keepalive_probes", "9" },
	{ "net.ipv4.tcp_abort_on_overflow", "0" },
	{ "net.ipv4.tcp_autocorking", "1" },
	{ "net.ipv4.tcp_slow_start_after_idle", "1" },
	{ "net.ipv4.tcp_no_metrics_save", "1" },
	{ "net.ipv4.tcp_mtu_probing", "0" },
	{ "net.ipv4.tcp_tw_reuse", "2" },
	{ "net.ipv4.tcp_rmem", "4096 131072 6291456" },
	{ "net.ipv4.tcp_wmem", "4096 16384 4194304" },
	/* client ports no Wireshark dissector claims (tshark -G decodes): clean decodes */
	{ "net.ipv4.ip_local_port_range", "40000 44999" },
	{ "net.core.somaxconn", "4096" },
};

_Static_assert(sizeof(profile) / sizeof(profile[0]) == LAB_PROFILE_SIZE, "profile size");

const char *lab_host_name(enum lab_host host)
{
	static const char *const names[] = { "client", "wire", "server" };

	return host < LAB_NHOSTS ? names[host] : "?";
}

static void record(struct lab_topo *t, enum lab_host host, const char *key)
{
	struct lab_sysctl_rec *rec = NULL;
	size_t i;

	for (i = 0; i < t->n_sysctl; i++)
		if (!strcmp(t->sysctl[i].key, key) &&
		    !strcmp(t->sysctl[i].host, lab_host_name(host)))
			rec = &t->sysctl[i];
	if (!rec && t->n_sysctl < LAB_SYSCTL_MAX)
		rec = &t->sysctl[t->n_sysctl++];
	if (!rec)
		return;
	snprintf(rec->host, sizeof(rec->host), "%s", lab_host_name(host));
	snprintf(rec->key, sizeof(rec->key), "%s", key);
	if (lab_sysctl_get(key, rec->value, sizeof(rec->value)) < 0)
		snprintf(rec->value, sizeof(rec->value), "unavailable");
}

/* IPv6 off before any link appears: no autoconf or MLD noise in the captures */
static int no_ipv6(void)
{
	int err = lab_sysctl_set("net.ipv6.conf.default.disable_ipv6", "1");

	if (!err)
		err = lab_sysctl_set("net.ipv6.conf.all.disable_ipv6", "1");
	return err == -ENOENT ? 0 : err;
}

static int set_profile(struct lab_topo *t, enum lab_host host)
{
	size_t i;
	int err;

	for (i = 0; i < sizeof(profile) / sizeof(profile[0]); i++) {
		err = lab_sysctl_set(profile[i][0], profile[i][1]);
		if (err == -ENOENT)
			continue; /* older kernel: recorded as unavailable */
		if (err)
			return lab_fail(err, "%s: sysctl %s=%s", lab_host_name(host), profile[i][0],
					profile[i][1]);
		record(t, host, profile[i][0]);
	}
	return 0;
}

static int ifindex(const char *name)
{
	int idx = (int)if_nametoindex(name);

	return idx ? idx : lab_fail(-errno, "if_nametoindex(%s)", name);
}

static struct in_addr ip(const char *text)
{
	struct in_addr a;

	inet_pton(AF_INET, text, &a);
	return a;
}

/* one endpoint: its veth into the wire, address, route, loopback, offloads, profile */
static int build_endpoint(struct lab_topo *t, enum lab_host host, const char *ifname,
			  const char *peer, const char *addr, const char *gateway)
{
	struct lab_rtnl rtnl = LAB_RTNL_INIT;
	int saved = -1, err, idx;

	err = lab_netns_enter(&t->ns[host], &saved);
	if (err)
		return err;
	err = no_ipv6();
	if (!err)
		err = set_profile(t, host);
	if (!err)
		err = lab_rtnl_open(&rtnl);
	if (err)
		goto out;
	err = lab_link_veth_add(&rtnl, ifname, peer, t->ns[LAB_WIRE].fd, t->mtu);
	if (err)
		goto out;
	idx = ifindex(ifname);
	err = idx < 0 ? idx : lab_addr_add(&rtnl, idx, ip(addr), 24);
	if (!err)
		err = lab_link_up(&rtnl, idx);
	if (!err)
		err = lab_route_add_default(&rtnl, ip(gateway));
	if (!err)
		err = lab_link_up(&rtnl, 1); /* lo: for people who come in by hand */
	if (!err)
		err = lab_link_offloads(ifname, false);
out:
	lab_rtnl_close(&rtnl);
	lab_netns_leave(&saved);
	return err;
}

static int build_wire(struct lab_topo *t)
{
	static const char *const ifs[] = { LAB_WIRE_CLIENT_IF, LAB_WIRE_SERVER_IF };
	static const char *const addrs[] = { "192.0.2.254", "198.51.100.254" };
	struct lab_rtnl rtnl = LAB_RTNL_INIT;
	int saved = -1, err, idx;
	size_t i;

	err = lab_netns_enter(&t->ns[LAB_WIRE], &saved);
	if (err)
		return err;
	err = lab_rtnl_open(&rtnl);
	for (i = 0; i < 2 && !err; i++) {
		idx = ifindex(ifs[i]);
		err = idx < 0 ? idx : lab_addr_add(&rtnl, idx, ip(addrs[i]), 24);
		if (!err)
			err = lab_link_up(&rtnl, idx);
		if (!err)
			err = lab_link_offloads(ifs[i], false);
	}
	if (!err)
		err = lab_sysctl_set("net.ipv4.ip_forward", "1");
	if (err)
		lab_fail(err, "wire: forwarding");
	lab_rtnl_close(&rtnl);
	lab_netns_leave(&saved);
	return err;
}

int lab_topo_new(struct lab_topo *t, unsigned int mtu)
{
	int saved = -1, err = 0;
	enum lab_host h;

	t->mtu = mtu;
	for (h = 0; h < LAB_NHOSTS && !err; h++)
		err = lab_netns_new(&t->ns[h], lab_host_name(h));
	if (err)
		goto fail;
	/* the wire must refuse IPv6 before the veth peers arrive in it */
	err = lab_netns_enter(&t->ns[LAB_WIRE], &saved);
	if (err)
		goto fail;
	err = no_ipv6();
	lab_netns_leave(&saved);
	if (!err)
		err = build_endpoint(t, LAB_CLIENT, LAB_CLIENT_IF, LAB_WIRE_CLIENT_IF,
				     LAB_CLIENT_ADDR, "192.0.2.254");
	if (!err)
		err = build_endpoint(t, LAB_SERVER, LAB_SERVER_IF, LAB_WIRE_SERVER_IF,
				     LAB_SERVER_ADDR, "198.51.100.254");
	if (!err)
		err = build_wire(t);
	if (!err)
		return 0;
fail:
	lab_topo_free(t);
	return err;
}

void lab_topo_free(struct lab_topo *t)
{
	enum lab_host h;

	/* closing the last fd is the teardown: the kernel removes links and routes with the ns */
	for (h = 0; h < LAB_NHOSTS; h++)
		lab_netns_close(&t->ns[h]);
}

int lab_topo_sysctl(struct lab_topo *t, enum lab_host host, const char *key, const char *value)
{
	int saved = -1, err;

	err = lab_netns_enter(&t->ns[host], &saved);
	if (err)
		return err;
	err = lab_sysctl_set(key, value);
	if (err)
		lab_fail(err, "%s: sysctl %s=%s", lab_host_name(host), key, value);
	else
		record(t, host, key);
	lab_netns_leave(&saved);
	return err;
}
