// SPDX-License-Identifier: MIT
/*
 * The wire's NFQUEUE backend, for delay, jitter, seeded loss, reordering and rate: iptables sends the
 * packets an impairment could touch to queue 0, and one thread (which also serves nflog) holds
 * each verdict until the packet is due.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <pcap/dlt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

#include "event.h"
#include "topo.h"
#include "wire_priv.h"

#define QUEUE_NUM 0
#define QUEUE_MAXLEN 65536

struct lab_wire_held {
	int64_t due_us; /* CLOCK_MONOTONIC */
	uint32_t id;
};

/* ---- the rules: iptables in the wire namespace ------------------------------------------- */

/*
 * Only packets an impairment could touch go to user space: the rule carries the impairment's
 * direction, flags and ports (payload length is checked in user space).
 */
int wire_queue_rule(struct lab_wire *w, const struct lab_match *m, unsigned int dir)
{
	static const char *const names[] = { "FIN", "SYN", "RST", "PSH", "ACK", "URG" };
	char flags[40] = "", sport[8], dport[8];
	char *argv[24] = { "iptables", "-w",
			   "-A",       "FORWARD",
			   "-i",       dir == LAB_DIR_C2S ? LAB_WIRE_CLIENT_IF : LAB_WIRE_SERVER_IF,
			   "-p",       "tcp" };
	int n = 8, i;

	if (m->flags >= 0) {
		for (i = 0; i < 6; i++)
			if (m->flags & (1 << i))
				snprintf(flags + strlen(flags), sizeof(flags) - strlen(flags),
					 "%s%s", flags[0] ? "," : "", names[i]);
		argv[n++] = "--tcp-flags";
		argv[n++] = "FIN,SYN,RST,PSH,ACK,URG";
		argv[n++] = flags[0] ? flags : "NONE";
	}
	if (m->sport) {
		snprintf(sport, sizeof(sport), "%d", m->sport);
		argv[n++] = "--sport";
		argv[n++] = sport;
	}
	if (m->dport) {
		snprintf(dport, sizeof(dport), "%d", m->dport);
		argv[n++] = "--dport";
		argv[n++] = dport;
	}
	argv[n++] = "-j";
	argv[n++] = "NFQUEUE";
	argv[n++] = "--queue-num";
	argv[n++] = "0";
	argv[n] = NULL;
	w->queue_dir[dir] = true;
	return wire_run_tool(w, argv);
}

int wire_queue_rule_flags(struct lab_wire *w, unsigned int dir, const char *flags)
{
	char *argv[] = {
		"iptables",    "-w",
		"-A",	       "FORWARD",
		"-i",	       dir == LAB_DIR_C2S ? LAB_WIRE_CLIENT_IF : LAB_WIRE_SERVER_IF,
		"-p",	       "tcp",
		"-m",	       "tcp",
		"!",	       "--tcp-flags",
		(char *)flags, "NONE",
		"-j",	       "NFQUEUE",
		"--queue-num", "0",
		NULL
	};

	w->queue_dir[dir] = true;
	return wire_run_tool(w, argv);
}

int wire_queue_bind(struct mnl_socket *s)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, QUEUE_NUM);
	int err;

	nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_BIND);
	nlh->nlmsg_seq = 2;
	err = wire_nl_talk(s, nlh);
	if (err)
		return err;
	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, QUEUE_NUM);
	nlh->nlmsg_seq = 3;
	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, WIRE_COPY_RANGE);
	nfq_nlmsg_cfg_put_qmaxlen(nlh, QUEUE_MAXLEN);
	return wire_nl_talk(s, nlh);
}

/* ---- the engine thread: NFQUEUE verdicts and nflog reports --------------------------------- */

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void heap_push(struct lab_wire *w, struct lab_wire_held h)
{
	struct lab_wire_held *grown, t;
	size_t i;

	if (w->n_held == w->cap_held) {
		grown = realloc(w->held, (w->cap_held ? w->cap_held * 2 : 1024) * sizeof(*grown));
		if (!grown)
			return;
		w->held = grown;
		w->cap_held = w->cap_held ? w->cap_held * 2 : 1024;
	}
	i = w->n_held++;
	w->held[i] = h;
	while (i && w->held[(i - 1) / 2].due_us > w->held[i].due_us) {
		t = w->held[i];
		w->held[i] = w->held[(i - 1) / 2];
		w->held[(i - 1) / 2] = t;
		i = (i - 1) / 2;
	}
}

static struct lab_wire_held heap_pop(struct lab_wire *w)
{
	struct lab_wire_held top = w->held[0], t;
	size_t i = 0, c;

	w->held[0] = w->held[--w->n_held];
	for (;;) {
		c = 2 * i + 1;
		if (c >= w->n_held)
			break;
		if (c + 1 < w->n_held && w->held[c + 1].due_us < w->held[c].due_us)
			c++;
		if (w->held[i].due_us <= w->held[c].due_us)
			break;
		t = w->held[i];
		w->held[i] = w->held[c];
		w->held[c] = t;
		i = c;
	}
	return top;
}

struct batch {
	char buf[1 << 16];
	size_t len;
	uint32_t upto; /* accept every queued packet up to this id: one message for many */
	bool have_upto;
};

/* the deferred "accept everything up to" as one NFQNL_MSG_VERDICT_BATCH */
static void put_upto(struct batch *b)
{
	struct nlmsghdr *nlh;

	if (!b->have_upto)
		return;
	nlh = nfq_nlmsg_put(b->buf + b->len, NFQNL_MSG_VERDICT_BATCH, QUEUE_NUM);
	nfq_nlmsg_verdict_put(nlh, (int)b->upto, NF_ACCEPT);
	b->len += NLMSG_ALIGN(nlh->nlmsg_len);
	b->have_upto = false;
}

static void verdict(struct lab_wire *w, struct batch *b, uint32_t id, int v)
{
	struct nlmsghdr *nlh;

	if (b->len + 128 > sizeof(b->buf)) {
		put_upto(b);
		if (mnl_socket_sendto(w->nfq, b->buf, b->len) < 0)
			w->verdict_errors++;
		b->len = 0;
	}
	put_upto(b); /* verdicts stay in id order */
	nlh = nfq_nlmsg_put(b->buf + b->len, NFQNL_MSG_VERDICT, QUEUE_NUM);
	nfq_nlmsg_verdict_put(nlh, (int)id, v);
	b->len += NLMSG_ALIGN(nlh->nlmsg_len);
}

/*
 * An immediate accept: while nothing is held, a batch verdict covers it (ids only grow, and
 * every lower id already has its verdict); with packets held, a verdict of its own.
 */
static void accept_now(struct lab_wire *w, struct batch *b, uint32_t id)
{
	if (w->n_held) {
		verdict(w, b, id, NF_ACCEPT);
		return;
	}
	b->upto = id;
	b->have_upto = true;
}

static void flush(struct lab_wire *w, struct batch *b)
{
	put_upto(b);
	if (b->len && mnl_socket_sendto(w->nfq, b->buf, b->len) < 0)
		w->verdict_errors++;
	b->len = 0;
}

/*
 * rate: a link of that bandwidth per direction. The frame (IP length + 14 bytes of Ethernet,
 * as netem counts it) leaves once the link is free and its bits are through.
 */
static int64_t rate_due(struct lab_wire *w, size_t i, unsigned int dir, int64_t now, uint32_t frame)
{
	int64_t start = w->rate_free_us[i][dir] > now ? w->rate_free_us[i][dir] : now;

	w->rate_free_us[i][dir] =
		start + (int64_t)((uint64_t)frame * 8 * 1000000 / w->imp[i].rate_bps);
	return w->rate_free_us[i][dir];
}

/* ---- roles: what a packet is in its conversation ------------------------------------------ */

static struct wire_flow *flow_of(struct lab_wire *w, const struct lab_pkt *p, unsigned int dir)
{
	uint16_t cport = dir == LAB_DIR_C2S ? p->sport : p->dport;
	struct wire_flow *free_slot = NULL;
	size_t i;

	for (i = 0; i < WIRE_FLOWS; i++) {
		if (w->flows[i].cport == cport)
			return &w->flows[i];
		if (!w->flows[i].cport && !free_slot)
			free_slot = &w->flows[i];
	}
	if (!free_slot) /* a story of more connections: the oldest slot goes */
		free_slot = &w->flows[cport % WIRE_FLOWS];
	*free_slot = (struct wire_flow){ .cport = cport };
	return free_slot;
}

/* learn from every queued packet: the server's ISN (its SYN-ACK), each side's FIN */
static void observe(struct lab_wire *w, const struct lab_pkt *p, unsigned int dir)
{
	struct wire_flow *f = flow_of(w, p, dir);

	if ((p->flags & (LAB_TH_SYN | LAB_TH_ACK)) == (LAB_TH_SYN | LAB_TH_ACK) &&
	    dir == LAB_DIR_S2C) {
		*f = (struct wire_flow){ .cport = f->cport, .has_isn = true, .server_isn = p->seq };
		return;
	}
	if (p->flags & LAB_TH_FIN) {
		f->has_fin[dir] = true;
		f->fin_end[dir] = p->seq + p->len + 1;
	}
}

/* is @p, which went @dir, the packet @role names? */
static bool plays(struct lab_wire *w, enum lab_role role, const struct lab_pkt *p, unsigned int dir)
{
	struct wire_flow *f = flow_of(w, p, dir);
	unsigned int other = LAB_DIR_C2S + LAB_DIR_S2C - dir;

	if (!(p->flags & LAB_TH_ACK) || (p->flags & (LAB_TH_RST | LAB_TH_SYN)))
		return false;
	if (role == LAB_ROLE_HANDSHAKE_ACK) /* the client's ACK of the SYN-ACK, nothing more */
		return dir == LAB_DIR_C2S && f->has_isn && !p->len &&
		       (p->flags & 0x3f) == LAB_TH_ACK && p->ack == f->server_isn + 1;
	return role == LAB_ROLE_FIN_ACK && f->has_fin[other] && p->ack == f->fin_end[other];
}

/* decide a queued packet's fate; called with w->lock held */
static void decide(struct lab_wire *w, struct batch *b, uint32_t id, const struct lab_pkt *p,
		   uint32_t frame)
{
	unsigned int dir = wire_direction(p);
	int64_t now = lab_mono_us(), due = 0;
	bool reordered = false;
	int holder = -1;
	size_t i;

	observe(w, p, dir);
	for (i = 0; i < w->n; i++) {
		const struct lab_impair *imp = &w->imp[i];
		struct lab_wire_stat *st = &w->stat[i];
		uint64_t r;

		if (st->backend != LAB_BACKEND_NFQUEUE || !lab_match_packet(&imp->m, p, dir) ||
		    (imp->m.role && !plays(w, imp->m.role, p, dir)))
			continue;
		st->matched++;
		/* a role's drop: the nth.. nth + count - 1 of its matches; a blackhole: while armed */
		if ((imp->kind == LAB_IMP_DROP && st->matched >= imp->nth &&
		     st->matched < imp->nth + imp->count) ||
		    (imp->kind == LAB_IMP_BLACKHOLE && imp->armed)) {
			st->dropped++;
			wire_log_packet(w, (int)i, true, 0, p);
			verdict(w, b, id, NF_DROP);
			return;
		}
		r = splitmix(&w->rng[i]) % 1000000u;
		if (imp->kind == LAB_IMP_LOSS && r < imp->ppm) {
			st->dropped++;
			wire_log_packet(w, (int)i, true, 0, p);
			verdict(w, b, id, NF_DROP);
			return;
		}
		if (imp->kind == LAB_IMP_DELAY) {
			int64_t t = now + imp->delay_us;

			if (imp->jitter_us)
				t += (int64_t)(splitmix(&w->rng[i]) %
					       (uint64_t)(imp->jitter_us + 1));
			due = t > due ? t : due;
			holder = holder < 0 ? (int)i : holder;
			st->held++;
		} else if (imp->kind == LAB_IMP_RATE) {
			int64_t t = rate_due(w, i, dir, now, frame);

			due = t > due ? t : due;
			holder = holder < 0 ? (int)i : holder;
			st->held++;
		} else if (imp->kind == LAB_IMP_REORDER && r < imp->ppm) {
			reordered = true;
			due = (due ? due : now) + imp->hold_us;
			holder = holder < 0 ? (int)i : holder;
			st->held++;
		}
	}
	if (!due) {
		accept_now(w, b, id);
		return;
	}
	/* delay keeps the order within a direction; a reordered packet is passed by later ones */
	if (!reordered) {
		due = due > w->last_release_us[dir] ? due : w->last_release_us[dir];
		w->last_release_us[dir] = due;
	}
	wire_log_packet(w, holder, false, due - now, p);
	heap_push(w, (struct lab_wire_held){ .due_us = due, .id = id });
}

static int queue_cb(const struct nlmsghdr *nlh, void *data)
{
	struct lab_wire *w = ((void **)data)[0];
	struct batch *b = ((void **)data)[1];
	struct nlattr *attr[NFQA_MAX + 1] = { 0 };
	struct nfqnl_msg_packet_hdr *ph;
	const uint8_t *ip;
	struct lab_pkt p;
	uint32_t id, frame;

	if (nfq_nlmsg_parse(nlh, attr) < 0 || !attr[NFQA_PACKET_HDR])
		return MNL_CB_OK;
	ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
	id = ntohl(ph->packet_id);
	w->queued++;
	if (!attr[NFQA_PAYLOAD] ||
	    lab_trace_parse(DLT_RAW, mnl_attr_get_payload(attr[NFQA_PAYLOAD]),
			    mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]), &p)) {
		accept_now(w, b, id);
		return MNL_CB_OK;
	}
	ip = mnl_attr_get_payload(attr[NFQA_PAYLOAD]);
	frame = 14u + (uint32_t)(ip[2] << 8 | ip[3]); /* Ethernet + IPv4 total length */
	pthread_mutex_lock(&w->lock);
	decide(w, b, id, &p, frame);
	pthread_mutex_unlock(&w->lock);
	return MNL_CB_OK;
}

static void release_due(struct lab_wire *w, struct batch *b, int64_t upto)
{
	pthread_mutex_lock(&w->lock);
	while (w->n_held && w->held[0].due_us <= upto)
		verdict(w, b, heap_pop(w).id, NF_ACCEPT);
	pthread_mutex_unlock(&w->lock);
}

void *wire_engine(void *arg)
{
	struct lab_wire *w = arg;
	struct batch *b = calloc(1, sizeof(*b));
	void *ctx[2] = { w, b };
	struct pollfd pfd[3] = {
		{ .fd = w->stop_fd, .events = POLLIN },
		{ .fd = mnl_socket_get_fd(w->nflog), .events = POLLIN },
		{ .fd = w->nfq ? mnl_socket_get_fd(w->nfq) : -1, .events = POLLIN },
	};
	struct timespec ts, *tsp;
	int64_t wait;

	if (!b)
		return NULL;
	prctl(PR_SET_TIMERSLACK, 1UL); /* wake-ups on time, not 50 us late */
	for (;;) {
		tsp = NULL;
		pthread_mutex_lock(&w->lock);
		if (w->n_held) {
			wait = w->held[0].due_us - lab_mono_us();
			wait = wait > 0 ? wait : 0;
			ts = (struct timespec){ .tv_sec = wait / 1000000,
						.tv_nsec = (wait % 1000000) * 1000 };
			tsp = &ts;
		}
		pthread_mutex_unlock(&w->lock);
		if (ppoll(pfd, 3, tsp, NULL) < 0 && errno != EINTR)
			break;
		if (pfd[0].revents)
			break;
		if (pfd[1].revents)
			wire_nflog_drain(w);
		if (pfd[2].revents)
			wire_nl_drain(w->nfq, queue_cb, ctx);
		release_due(w, b, lab_mono_us());
		flush(w, b);
	}
	/* the run is over: nothing stays held */
	if (w->nfq) {
		wire_nl_drain(w->nfq, queue_cb, ctx);
		release_due(w, b, INT64_MAX);
		flush(w, b);
	}
	free(b);
	return NULL;
}
