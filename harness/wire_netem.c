// SPDX-License-Identifier: MIT
/*
 * The wire's netem backend (sch_netem, CONFIG_NET_SCH_NETEM) over rtnetlink: one netem qdisc
 * per direction, root of the wire's veth towards the receiver (c2s on w1, s2c on w0), carrying
 * every impairment given to netem on that direction merged into one configuration; its
 * statistics (sent, dropped, requeues, overlimits, backlog) read back with RTM_GETQDISC.
 *
 * How our specs map onto netem_enqueue() (net/sched/sch_netem.c):
 *  - delay=T,jitter=J: latency T + J/2, jitter J/2 (no distribution table: uniform in
 *    [T, T + J]). netem's tfifo sorts by time to send, so jitter alone reorders; with a rate
 *    set, each packet's time counts from the last queued one's, which keeps the order. A rate
 *    of 100 gbit (0.12 us for 1500 bytes) is set for that when the spec has none.
 *  - reorder=P,hold=T: latency T, reorder 100% - P with gap 1: with probability 1 - P a packet
 *    goes at once (to the head of the queue), else it waits T: P of them are held and the
 *    later ones overtake them, as NFQUEUE does it.
 *  - loss, duplicate, corrupt: netem's own probabilities (u32, ~0 = 100%); seed= sets
 *    TCA_NETEM_PRNG_SEED (Linux 6.3 on: loss and corruption events; older kernels ignore it).
 *  - rate: TCA_NETEM_RATE(64), bytes per second of the frame (Ethernet header included).
 *  - limit=N: netem's queue limit (default 1000); past it, packets are dropped.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/gen_stats.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

#include "kernel.h"
#include "topo.h"
#include "wire_priv.h"

#define NETEM_PRNG_SEED 14 /* TCA_NETEM_PRNG_SEED (uapi 6.3), not in older headers */
#define ORDER_RATE_BPS 100000000000ull /* 100 gbit: keeps jittered packets in order */

static uint32_t prob(uint32_t ppm)
{
	return ppm >= 1000000 ? UINT32_MAX : (uint32_t)((uint64_t)ppm * UINT32_MAX / 1000000);
}

static bool seed_supported(void)
{
	struct utsname u;

	uname(&u);
	return lab_kernel_version(u.release) >= LAB_KERNEL_VERSION(6, 3, 0);
}

const char *wire_netem_dev(unsigned int dir)
{
	return dir == LAB_DIR_C2S ? LAB_WIRE_SERVER_IF : LAB_WIRE_CLIENT_IF;
}

/* can netem do @imp exactly on @dir, next to what that direction's qdisc already does? */
static const char *fits_dir(const struct wire_netem *q, const struct lab_impair *imp)
{
	unsigned int latency = (1u << LAB_IMP_DELAY) | (1u << LAB_IMP_REORDER);

	if (q->kinds & (1u << imp->kind))
		return "that direction's netem already does this kind";
	if ((latency & (1u << imp->kind)) && (q->kinds & latency))
		return "that direction's netem already delays (delay and reorder share netem's latency)";
	if (imp->limit && q->limit)
		return "that direction's netem already has a limit";
	if (imp->seeded && q->seeded && q->seed != imp->seed)
		return "that direction's netem already has another seed";
	return NULL;
}

const char *wire_netem_fits(const struct lab_wire *w, const struct lab_impair *imp)
{
	const char *why;
	unsigned int d;

	if (imp->kind == LAB_IMP_DROP || imp->kind == LAB_IMP_BLACKHOLE)
		return "netem has no exact K-th drop";
	if (imp->m.flags >= 0 || imp->m.len >= 0 || imp->m.sport || imp->m.dport)
		return "netem works on a whole direction (this spec matches flags, len or ports)";
	if (imp->seeded && imp->kind != LAB_IMP_LOSS && imp->kind != LAB_IMP_CORRUPT)
		return "netem's seed covers loss and corruption only";
	if (imp->seeded && !seed_supported())
		return "netem takes a seed since Linux 6.3";
	for (d = LAB_DIR_C2S; d <= LAB_DIR_S2C; d++)
		if ((imp->m.dir & d) && (why = fits_dir(&w->netem[d], imp)))
			return why;
	return NULL;
}

static void merge(struct wire_netem *q, const struct lab_impair *imp)
{
	q->kinds |= 1u << imp->kind;
	switch (imp->kind) {
	case LAB_IMP_DELAY:
		q->latency_ns = (imp->delay_us + imp->jitter_us / 2) * 1000 +
				(imp->jitter_us % 2 ? 500 : 0);
		q->jitter_ns = imp->jitter_us * 500;
		break;
	case LAB_IMP_REORDER:
		q->latency_ns = imp->hold_us * 1000;
		q->reorder = prob(1000000 - imp->ppm);
		q->gap = 1;
		break;
	case LAB_IMP_LOSS:
		q->loss = prob(imp->ppm);
		break;
	case LAB_IMP_DUPLICATE:
		q->duplicate = prob(imp->ppm);
		break;
	case LAB_IMP_CORRUPT:
		q->corrupt = prob(imp->ppm);
		break;
	case LAB_IMP_RATE:
		q->rate_Bps = imp->rate_bps / 8;
		break;
	default:
		break;
	}
	if (imp->limit)
		q->limit = (uint32_t)imp->limit;
	if (imp->seeded) {
		q->seeded = true;
		q->seed = imp->seed;
	}
}

/* RTM_NEWQDISC (create or replace) of the merged configuration on @ifindex */
static int apply(struct mnl_socket *rtnl, int ifindex, const struct wire_netem *q)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct tc_netem_qopt qopt = { .limit = q->limit ? q->limit : 1000,
				      .loss = q->loss,
				      .gap = q->gap,
				      .duplicate = q->duplicate };
	uint64_t rate = q->rate_Bps;
	struct tcmsg *tcm;
	struct nlattr *opts;

	nlh->nlmsg_type = RTM_NEWQDISC;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_REPLACE;
	nlh->nlmsg_seq = (uint32_t)time(NULL);
	tcm = mnl_nlmsg_put_extra_header(nlh, sizeof(*tcm));
	tcm->tcm_family = AF_UNSPEC;
	tcm->tcm_ifindex = ifindex;
	tcm->tcm_handle = 0x10000; /* 1: */
	tcm->tcm_parent = TC_H_ROOT;
	mnl_attr_put_strz(nlh, TCA_KIND, "netem");
	/* netem's options are a struct tc_netem_qopt followed by attributes (as tc sends them) */
	opts = mnl_nlmsg_get_payload_tail(nlh);
	mnl_attr_put(nlh, TCA_OPTIONS, sizeof(qopt), &qopt);
	if (q->latency_ns)
		mnl_attr_put_u64(nlh, TCA_NETEM_LATENCY64, (uint64_t)q->latency_ns);
	if (q->jitter_ns) {
		mnl_attr_put_u64(nlh, TCA_NETEM_JITTER64, (uint64_t)q->jitter_ns);
		rate = rate ? rate : ORDER_RATE_BPS / 8; /* see the top of this file */
	}
	if (q->gap) {
		struct tc_netem_reorder r = { .probability = q->reorder };

		mnl_attr_put(nlh, TCA_NETEM_REORDER, sizeof(r), &r);
	}
	if (q->corrupt) {
		struct tc_netem_corrupt c = { .probability = q->corrupt };

		mnl_attr_put(nlh, TCA_NETEM_CORRUPT, sizeof(c), &c);
	}
	if (rate) {
		struct tc_netem_rate r = { .rate = rate > UINT32_MAX ? UINT32_MAX :
								       (uint32_t)rate };

		mnl_attr_put(nlh, TCA_NETEM_RATE, sizeof(r), &r);
		if (rate > UINT32_MAX)
			mnl_attr_put_u64(nlh, TCA_NETEM_RATE64, rate);
	}
	if (q->seeded)
		mnl_attr_put_u64(nlh, NETEM_PRNG_SEED, q->seed);
	opts->nla_len = (uint16_t)((char *)mnl_nlmsg_get_payload_tail(nlh) - (char *)opts);
	return wire_nl_talk(rtnl, nlh);
}

static int open_rtnl(struct lab_wire *w)
{
	int saved = -1, err, d;

	if (w->rtnl)
		return 0;
	err = lab_netns_enter(w->ns, &saved);
	if (err)
		return err;
	w->rtnl = mnl_socket_open(NETLINK_ROUTE);
	if (w->rtnl && mnl_socket_bind(w->rtnl, 0, MNL_SOCKET_AUTOPID) < 0) {
		mnl_socket_close(w->rtnl);
		w->rtnl = NULL;
	}
	for (d = LAB_DIR_C2S; d <= LAB_DIR_S2C; d++)
		w->netem[d].ifindex = (int)if_nametoindex(wire_netem_dev((unsigned int)d));
	lab_netns_leave(&saved);
	return w->rtnl && w->netem[1].ifindex && w->netem[2].ifindex ? 0 : -ENODEV;
}

int wire_netem_add(struct lab_wire *w, const struct lab_impair *imp)
{
	int err = open_rtnl(w);
	unsigned int d;

	if (err) {
		snprintf(w->error, sizeof(w->error), "netem: rtnetlink in the wire namespace: %s",
			 strerror(-err));
		return err;
	}
	for (d = LAB_DIR_C2S; d <= LAB_DIR_S2C; d++) {
		if (!(imp->m.dir & d))
			continue;
		merge(&w->netem[d], imp);
		err = apply(w->rtnl, w->netem[d].ifindex, &w->netem[d]);
		if (err) {
			snprintf(w->error, sizeof(w->error), "netem on %s: %s", wire_netem_dev(d),
				 strerror(-err));
			return err;
		}
	}
	return 0;
}

/* ---- statistics: RTM_GETQDISC dump, our netem qdiscs' TCA_STATS2 -------------------------- */

static void read_stats2(struct lab_netem_stats *st, const struct nlattr *nest)
{
	const struct nlattr *a;

	mnl_attr_for_each_nested(a, nest)
	{
		if (mnl_attr_get_type(a) == TCA_STATS_BASIC &&
		    mnl_attr_get_payload_len(a) >= sizeof(struct gnet_stats_basic)) {
			struct gnet_stats_basic b;

			memcpy(&b, mnl_attr_get_payload(a), sizeof(b));
			st->bytes = b.bytes;
			st->packets = b.packets;
		} else if (mnl_attr_get_type(a) == TCA_STATS_QUEUE &&
			   mnl_attr_get_payload_len(a) >= sizeof(struct gnet_stats_queue)) {
			struct gnet_stats_queue q;

			memcpy(&q, mnl_attr_get_payload(a), sizeof(q));
			st->qlen = q.qlen;
			st->backlog = q.backlog;
			st->drops = q.drops;
			st->requeues = q.requeues;
			st->overlimits = q.overlimits;
		}
	}
}

/*
 * did the kernel take our seed? netem_dump() reports the one it uses since 6.3 (a random one
 * when none was given), older kernels none
 */
static bool seed_taken(const struct nlattr *opts, uint64_t seed)
{
	const char *p = mnl_attr_get_payload(opts);
	size_t len = mnl_attr_get_payload_len(opts), off = NLA_ALIGN(sizeof(struct tc_netem_qopt));
	const struct nlattr *a;

	while (off + sizeof(*a) <= len) {
		a = (const struct nlattr *)(p + off);
		if (a->nla_len < sizeof(*a))
			break;
		if ((a->nla_type & NLA_TYPE_MASK) == NETEM_PRNG_SEED &&
		    a->nla_len >= sizeof(*a) + sizeof(uint64_t)) {
			uint64_t got;

			memcpy(&got, (const char *)a + sizeof(*a), sizeof(got));
			return got == seed;
		}
		off += NLA_ALIGN(a->nla_len);
	}
	return false;
}

static int qdisc_cb(const struct nlmsghdr *nlh, void *data)
{
	struct lab_wire *w = data;
	const struct tcmsg *tcm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a, *stats2 = NULL, *opts = NULL;
	const char *kind = NULL;
	unsigned int d;

	mnl_attr_for_each(a, nlh, sizeof(*tcm))
	{
		if (mnl_attr_get_type(a) == TCA_KIND)
			kind = mnl_attr_get_str(a);
		else if (mnl_attr_get_type(a) == TCA_STATS2)
			stats2 = a;
		else if (mnl_attr_get_type(a) == TCA_OPTIONS)
			opts = a;
	}
	if (!kind || strcmp(kind, "netem") || tcm->tcm_parent != TC_H_ROOT)
		return MNL_CB_OK;
	for (d = LAB_DIR_C2S; d <= LAB_DIR_S2C; d++) {
		struct wire_netem *q = &w->netem[d];

		if (!q->kinds || tcm->tcm_ifindex != q->ifindex)
			continue;
		q->stats.read = true;
		if (stats2)
			read_stats2(&q->stats, stats2);
		q->stats.seed_echoed = q->seeded && opts && seed_taken(opts, q->seed);
		if (opts && mnl_attr_get_payload_len(opts) >= sizeof(struct tc_netem_qopt)) {
			struct tc_netem_qopt qopt;

			memcpy(&qopt, mnl_attr_get_payload(opts), sizeof(qopt));
			q->stats.limit = qopt.limit;
		}
	}
	return MNL_CB_OK;
}

int wire_netem_stats(struct lab_wire *w)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	uint32_t seq = (uint32_t)time(NULL), port;
	struct tcmsg *tcm;
	ssize_t n;
	int ret = MNL_CB_OK;

	if (!w->rtnl)
		return 0;
	nlh->nlmsg_type = RTM_GETQDISC;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	tcm = mnl_nlmsg_put_extra_header(nlh, sizeof(*tcm));
	tcm->tcm_family = AF_UNSPEC;
	if (mnl_socket_sendto(w->rtnl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	port = mnl_socket_get_portid(w->rtnl);
	while (ret > MNL_CB_STOP) {
		n = mnl_socket_recvfrom(w->rtnl, buf, sizeof(buf));
		if (n <= 0)
			return n < 0 ? -errno : -EPROTO;
		ret = mnl_cb_run(buf, (size_t)n, seq, port, qdisc_cb, w);
	}
	return ret < 0 ? -errno : 0;
}
