// SPDX-License-Identifier: MIT
/* The three-namespace lab, built in-process over rtnetlink. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "error.h"
#include "event.h"
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

static void record_value(struct lab_topo *t, enum lab_host host, const char *key, const char *value)
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
	snprintf(rec->value, sizeof(rec->value), "%s", value);
}

/* a sysctl as read back from the namespace this thread is in */
static void record(struct lab_topo *t, enum lab_host host, const char *key)
{
	char value[64];

	if (lab_sysctl_get(key, value, sizeof(value)) < 0)
		snprintf(value, sizeof(value), "unavailable");
	record_value(t, host, key, value);
}

/* IPv6 off before any link appears: no autoconf or MLD noise in the captures */
static int no_ipv6(void)
{
	int err = lab_sysctl_set("net.ipv6.conf.default.disable_ipv6", "1");

	if (!err)
		err = lab_sysctl_set("net.ipv6.conf.all.disable_ipv6", "1");
	return err == -ENOENT ? 0 : err;
}

/*
 * One CPU per lab, as one cable. A veth hands each packet to netif_rx(), which queues it on the
 * backlog of the CPU that sent it (enqueue_to_backlog(smp_processor_id()) without RPS), and the
 * softirq that empties that backlog carries it through the wire and into the peer, often before
 * the sending syscall returns. A TCP sender transmits from its process and from the softirq
 * that takes in ACKs; with those on two CPUs, a segment queued on one backlog could overtake
 * one still waiting on the other (its ksoftirqd not yet run on a loaded machine), and the
 * receiver saw a reordering no wire made: segment-lost's no-loss variant met out-of-order
 * queueing, SACKs and spurious fast retransmissions that way under a parallel suite.
 * So every lab has one CPU (where the harness runs as it builds it): receive packet steering
 * on every link sends all its packets to that CPU's backlog, in order whoever sent them, and
 * the programs started in the lab run on that CPU (proc.c), so a packet is still carried
 * through at once rather than by another CPU a moment later (steering to all CPUs did that:
 * shutdown-rd's rdwr client then closed before the RST came back, in 11 runs of 20).
 * net.core.rps_default_mask (6.3, per namespace from the start: 50bcfe8df7c7) sets the
 * steering for links made after it, so it is written in each namespace before its links
 * appear; the host's is left alone. Older kernels have no such sysctl: there each link's
 * rps_cpus is written through a sysfs of the lab's own (rps_by_sysfs()), as root only
 * (store_rps_map() checks capable(CAP_NET_ADMIN)); an unprivileged run records "not set".
 */
static void rps_mask(int cpu, char *buf, size_t len)
{
	int chunk, off = 0;

	/* 32-bit chunks in hex, most significant first, separated by commas (bitmap_parse()) */
	for (chunk = cpu / 32; chunk >= 0 && off + 10 < (int)len; chunk--)
		off += snprintf(buf + off, len - (size_t)off, chunk ? "%08x," : "%08x",
				chunk == cpu / 32 ? 1u << (cpu % 32) : 0u);
}

/* in this namespace, for the links made after it; false before 6.3 (no such sysctl) */
static bool rps_default(struct lab_topo *t, enum lab_host host)
{
	char mask[320];

	rps_mask(t->ns[host].cpu, mask, sizeof(mask));
	if (lab_sysctl_set("net.core.rps_default_mask", mask))
		return false;
	record(t, host, "net.core.rps_default_mask");
	return true;
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

/*
 * The four ends of the two veth pairs. Fixed, locally administered MACs (the same in every lab:
 * each lab is its own pair of Ethernet segments) let every end know its peer's hardware address
 * before the story sends a packet: permanent neighbours, no ARP in any capture, and no first
 * packet lost to neighbour resolution when many labs start at once.
 */
enum { END_CLIENT, END_WIRE_CLIENT, END_WIRE_SERVER, END_SERVER, N_ENDS };

static const struct end {
	enum lab_host host;
	struct lab_veth_end veth;
	const char *addr;
	int peer; /* the other end of the same veth pair */
} ends[N_ENDS] = {
	[END_CLIENT] = { LAB_CLIENT,
			 { LAB_CLIENT_IF, { 0x02, 0, 0, 0, 0x01, 0x01 } },
			 LAB_CLIENT_ADDR,
			 END_WIRE_CLIENT },
	[END_WIRE_CLIENT] = { LAB_WIRE,
			      { LAB_WIRE_CLIENT_IF, { 0x02, 0, 0, 0, 0x01, 0xfe } },
			      "192.0.2.254",
			      END_CLIENT },
	[END_WIRE_SERVER] = { LAB_WIRE,
			      { LAB_WIRE_SERVER_IF, { 0x02, 0, 0, 0, 0x02, 0xfe } },
			      "198.51.100.254",
			      END_SERVER },
	[END_SERVER] = { LAB_SERVER,
			 { LAB_SERVER_IF, { 0x02, 0, 0, 0, 0x02, 0x01 } },
			 LAB_SERVER_ADDR,
			 END_WIRE_SERVER },
};

/* a new carrier waits for linkwatch: up to 127 ms measured with 64 labs starting on 2 cores */
#define LINK_READY_US (10 * 1000000LL)

/* one endpoint: its veth into the wire, address, route, loopback, offloads, profile */
static int build_endpoint(struct lab_topo *t, const struct end *e)
{
	const struct end *peer = &ends[e->peer];
	struct lab_rtnl rtnl = LAB_RTNL_INIT;
	int saved = -1, err, idx;

	err = lab_netns_enter(&t->ns[e->host], &saved);
	if (err)
		return err;
	err = no_ipv6();
	if (!err)
		rps_default(t, e->host); /* the wire's answer decides (lab_topo_new()) */
	if (!err)
		err = set_profile(t, e->host);
	if (!err)
		err = lab_rtnl_open(&rtnl);
	if (err)
		goto out;
	err = lab_link_veth_add(&rtnl, &e->veth, &peer->veth, t->ns[LAB_WIRE].fd, t->mtu);
	if (err)
		goto out;
	idx = ifindex(e->veth.name);
	err = idx < 0 ? idx : lab_addr_add(&rtnl, idx, ip(e->addr), 24);
	if (!err)
		err = lab_link_up(&rtnl, idx);
	if (!err)
		err = lab_route_add_default(&rtnl, ip(peer->addr));
	if (!err)
		err = lab_link_up(&rtnl, 1); /* lo: for people who come in by hand */
	if (!err)
		err = lab_link_offloads(e->veth.name, false);
out:
	lab_rtnl_close(&rtnl);
	lab_netns_leave(&saved);
	return err;
}

static int build_wire(struct lab_topo *t)
{
	struct lab_rtnl rtnl = LAB_RTNL_INIT;
	int saved = -1, err, idx, i;

	err = lab_netns_enter(&t->ns[LAB_WIRE], &saved);
	if (err)
		return err;
	err = lab_rtnl_open(&rtnl);
	for (i = END_WIRE_CLIENT; i <= END_WIRE_SERVER && !err; i++) {
		idx = ifindex(ends[i].veth.name);
		err = idx < 0 ? idx : lab_addr_add(&rtnl, idx, ip(ends[i].addr), 24);
		if (!err)
			err = lab_link_up(&rtnl, idx);
		if (!err)
			err = lab_link_offloads(ends[i].veth.name, false);
	}
	if (!err)
		err = lab_sysctl_set("net.ipv4.ip_forward", "1");
	if (err)
		lab_fail(err, "wire: forwarding");
	lab_rtnl_close(&rtnl);
	lab_netns_leave(&saved);
	return err;
}

/*
 * Every end, once all links are up: its peer as a permanent neighbour, then wait until the link
 * carries packets (carrier, operstate UP, the device activated: see lab_link_wait_ready())
 */
static int connect_end(struct lab_topo *t, const struct end *e, int64_t deadline_us)
{
	const struct end *peer = &ends[e->peer];
	struct lab_rtnl rtnl = LAB_RTNL_INIT;
	char what[32];
	int saved = -1, err, idx;

	err = lab_netns_enter(&t->ns[e->host], &saved);
	if (err)
		return err;
	snprintf(what, sizeof(what), "%s/%s", lab_host_name(e->host), e->veth.name);
	idx = ifindex(e->veth.name);
	err = idx < 0 ? idx : lab_rtnl_open(&rtnl);
	if (!err)
		err = lab_neigh_add_permanent(&rtnl, idx, ip(peer->addr), peer->veth.mac);
	if (!err)
		err = lab_link_wait_ready(idx, what, deadline_us);
	lab_rtnl_close(&rtnl);
	lab_netns_leave(&saved);
	return err;
}

/* each link's rps_cpus, through a sysfs mounted after entering the link's namespace */
struct rps_links {
	const struct lab_topo *t;
	const char *mask;
};

static int write_rps_cpus(void *arg)
{
	const struct rps_links *r = arg;
	char path[96];
	int i, fd;

	for (i = 0; i < N_ENDS; i++) {
		snprintf(path, sizeof(path), "/sys/class/net/%s/queues/rx-0/rps_cpus",
			 ends[i].veth.name);
		if (setns(r->t->ns[ends[i].host].fd, CLONE_NEWNET))
			return -errno;
		umount2("/sys", MNT_DETACH); /* as ip netns exec does; none in a chroot */
		if (mount("sysfs", "/sys", "sysfs", 0, NULL))
			return -errno;
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, r->mask, strlen(r->mask)) < 0)
			return -errno;
		close(fd);
	}
	return 0;
}

/*
 * Before 6.3: each link's rps_cpus, written by a child in a mount namespace of its own (sysfs
 * shows its mounter's links). Recorded in the profile as set or not: without it a loaded
 * machine may reorder the lab's packets.
 */
static void rps_by_sysfs(struct lab_topo *t)
{
	char mask[320], what[32], why[64];
	struct rps_links r = { t, mask };
	int err, i;

	rps_mask(t->ns[LAB_WIRE].cpu, mask, sizeof(mask));
	err = lab_netns_in_child(write_rps_cpus, &r, true);
	snprintf(why, sizeof(why), "not set: %s", strerror(-err));
	for (i = 0; i < N_ENDS; i++) {
		snprintf(what, sizeof(what), "rps_cpus of %s", ends[i].veth.name);
		record_value(t, ends[i].host, what, err ? why : mask);
	}
}

int lab_topo_new(struct lab_topo *t, unsigned int mtu)
{
	int saved = -1, err = 0, i;
	int64_t deadline_us;
	enum lab_host h;
	bool rps;
	int cpu;

	t->mtu = mtu;
	for (h = 0; h < LAB_NHOSTS && !err; h++)
		err = lab_netns_new(&t->ns[h], lab_host_name(h));
	if (err)
		goto fail;
	cpu = sched_getcpu();
	for (h = 0; h < LAB_NHOSTS; h++)
		t->ns[h].cpu = cpu < 0 ? 0 : cpu;
	/* the wire must refuse IPv6 before the veth peers arrive in it */
	err = lab_netns_enter(&t->ns[LAB_WIRE], &saved);
	if (err)
		goto fail;
	err = no_ipv6();
	rps = rps_default(t, LAB_WIRE);
	lab_netns_leave(&saved);
	if (!err)
		err = build_endpoint(t, &ends[END_CLIENT]);
	if (!err)
		err = build_endpoint(t, &ends[END_SERVER]);
	if (!err)
		err = build_wire(t);
	deadline_us = lab_mono_us() + LINK_READY_US;
	for (i = 0; i < N_ENDS && !err; i++)
		err = connect_end(t, &ends[i], deadline_us);
	if (!err && !rps)
		rps_by_sysfs(t);
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
