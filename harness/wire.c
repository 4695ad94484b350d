// SPDX-License-Identifier: MIT
/* The impairment engine in the wire namespace: nftables drops, NFQUEUE holds, netem if present. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <json-c/json.h>
#include <libmnl/libmnl.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <nftables/libnftables.h>
#include <pcap/dlt.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "event.h"
#include "proc.h"
#include "topo.h"
#include "wire.h"

#define NFLOG_GROUP 7
#define QUEUE_NUM 0
#define QUEUE_MAXLEN 65536
#define COPY_RANGE 128 /* IPv4 + TCP headers with options: all the engine reads */
#define NTH_MODULUS 2000000000u

struct lab_wire_held {
	int64_t due_us; /* CLOCK_MONOTONIC */
	uint32_t id;
};

/* ---- nftables ---------------------------------------------------------------------------- */

static int nft_cmd(struct lab_wire *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int nft_cmd(struct lab_wire *w, const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	int saved = -1, err, rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	err = lab_netns_enter(w->ns, &saved);
	if (err)
		return err;
	rc = nft_run_cmd_from_buffer(w->nft, cmd);
	lab_netns_leave(&saved);
	if (rc) {
		const char *why = nft_ctx_get_error_buffer(w->nft);

		snprintf(w->error, sizeof(w->error), "nft: %.120s", why && *why ? why : cmd);
		return -EINVAL;
	}
	return 0;
}

static void classifier(const struct lab_match *m, char *buf, size_t len)
{
	static const char *const names[] = { "fin", "syn", "rst", "psh", "ack", "urg" };
	size_t o = 0;
	int i;

	buf[0] = '\0';
	if (m->dir == LAB_DIR_C2S)
		o += (size_t)snprintf(buf + o, len - o, "iifname \"%s\" ", LAB_WIRE_CLIENT_IF);
	else if (m->dir == LAB_DIR_S2C)
		o += (size_t)snprintf(buf + o, len - o, "iifname \"%s\" ", LAB_WIRE_SERVER_IF);
	o += (size_t)snprintf(buf + o, len - o, "meta l4proto tcp ");
	if (m->flags >= 0) {
		o += (size_t)snprintf(buf + o, len - o,
				      "tcp flags & (fin|syn|rst|psh|ack|urg) == ");
		if (!m->flags)
			o += (size_t)snprintf(buf + o, len - o, "0x0");
		for (i = 0; i < 6; i++)
			if (m->flags & (1 << i))
				o += (size_t)snprintf(buf + o, len - o, "%s%s",
						      (m->flags & ((1 << i) - 1)) ? "|" : "",
						      names[i]);
		o += (size_t)snprintf(buf + o, len - o, " ");
	}
	if (m->sport)
		o += (size_t)snprintf(buf + o, len - o, "tcp sport %d ", m->sport);
	if (m->dport)
		snprintf(buf + o, len - o, "tcp dport %d ", m->dport);
}

static int nft_action(struct lab_wire *w, int i)
{
	const struct lab_impair *imp = &w->imp[i];
	char nth[64] = "";

	/* the generator starts at modulus - 1: the first match reads 0, the K-th K - 1 */
	if (imp->kind == LAB_IMP_DROP)
		snprintf(nth, sizeof(nth), "numgen inc mod %u == %ld ", NTH_MODULUS, imp->nth - 1);
	return nft_cmd(w,
		       "add rule inet tcplab imp%d %slog group %d prefix \"imp%d\" counter name "
		       "d%d drop",
		       i, nth, NFLOG_GROUP, i, i);
}

static int nft_add(struct lab_wire *w, int i)
{
	const struct lab_impair *imp = &w->imp[i];
	char match[256];
	int err, doff;

	err = nft_cmd(w,
		      "add counter inet tcplab m%d\nadd counter inet tcplab d%d\n"
		      "add chain inet tcplab imp%d\nadd rule inet tcplab imp%d counter name m%d",
		      i, i, i, i, i);
	if (!err && (imp->kind == LAB_IMP_DROP || imp->armed))
		err = nft_action(w, i);
	classifier(&imp->m, match, sizeof(match));
	if (!err && imp->m.len < 0)
		err = nft_cmd(w, "add rule inet tcplab wire %sjump imp%d", match, i);
	/* payload length = IP total length - IP header - TCP header: one rule per data offset */
	for (doff = 5; !err && imp->m.len >= 0 && doff <= 15; doff++)
		err = nft_cmd(
			w,
			"add rule inet tcplab wire %sip hdrlength 5 tcp doff %d ip length %ld "
			"jump imp%d",
			match, doff, 20 + 4 * doff + imp->m.len, i);
	return err;
}

static int64_t json_int(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : 0;
}

int lab_wire_refresh(struct lab_wire *w)
{
	struct json_object *root, *list, *item, *counter, *name;
	const char *text;
	size_t i;
	int err, idx;

	if (!w->nft)
		return 0;
	nft_ctx_output_set_flags(w->nft, NFT_CTX_OUTPUT_JSON);
	err = nft_cmd(w, "list counters table inet tcplab");
	nft_ctx_output_set_flags(w->nft, 0);
	if (err)
		return err;
	text = nft_ctx_get_output_buffer(w->nft);
	root = json_tokener_parse(text ? text : "");
	if (!root || !json_object_object_get_ex(root, "nftables", &list)) {
		json_object_put(root);
		return -EPROTO;
	}
	pthread_mutex_lock(&w->lock);
	for (i = 0; i < json_object_array_length(list); i++) {
		item = json_object_array_get_idx(list, i);
		if (!json_object_object_get_ex(item, "counter", &counter) ||
		    !json_object_object_get_ex(counter, "name", &name))
			continue;
		text = json_object_get_string(name);
		if ((text[0] != 'm' && text[0] != 'd') || sscanf(text + 1, "%d", &idx) != 1 ||
		    idx < 0 || (size_t)idx >= w->n || w->stat[idx].backend != LAB_BACKEND_NFTABLES)
			continue;
		if (text[0] == 'm')
			w->stat[idx].matched = json_int(counter, "packets");
		else
			w->stat[idx].dropped = json_int(counter, "packets");
	}
	pthread_mutex_unlock(&w->lock);
	json_object_put(root);
	return 0;
}

/* ---- helpers run inside the wire namespace (iptables, tc) ---------------------------------- */

static int run_tool(struct lab_wire *w, char *const argv[])
{
	struct lab_proc p = LAB_PROC_INIT;
	char outcome[64];
	int err = lab_proc_spawn(&p, argv[0], w->ns, argv, false);

	if (!err)
		err = lab_proc_wait(&p, lab_mono_us() + 10000000);
	if (!err && (!WIFEXITED(p.status) || WEXITSTATUS(p.status))) {
		lab_proc_outcome(&p, outcome, sizeof(outcome));
		snprintf(w->error, sizeof(w->error), "%s: %s%s%.80s", argv[0], outcome,
			 p.err ? ": " : "", p.err ? p.err : "");
		err = -EIO;
	}
	lab_proc_free(&p);
	return err;
}

/*
 * Only packets an impairment could touch go to user space: the rule carries the impairment's
 * direction, flags and ports (payload length is checked in user space).
 */
static int queue_rule(struct lab_wire *w, const struct lab_match *m, unsigned int dir)
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
	return run_tool(w, argv);
}

static int netem_direction(struct lab_wire *w, const struct lab_impair *imp, unsigned int dir)
{
	char delay[32], jitter[32], loss[32];
	char *argv[16] = { "tc",
			   "qdisc",
			   "add",
			   "dev",
			   dir == LAB_DIR_C2S ? LAB_WIRE_SERVER_IF : LAB_WIRE_CLIENT_IF,
			   "root",
			   "netem" };
	int n = 7;

	snprintf(delay, sizeof(delay), "%ldus", imp->delay_us);
	snprintf(jitter, sizeof(jitter), "%ldus", imp->jitter_us);
	snprintf(loss, sizeof(loss), "%.4f%%", imp->ppm / 10000.0);
	if (imp->kind == LAB_IMP_DELAY) {
		argv[n++] = "delay";
		argv[n++] = delay;
		if (imp->jitter_us) {
			argv[n++] = jitter;
			argv[n++] = "0";
		}
	} else {
		argv[n++] = "loss";
		argv[n++] = loss;
	}
	w->netem_dir[dir] = true;
	return run_tool(w, argv);
}

/* ---- the engine thread: NFQUEUE verdicts and nflog reports --------------------------------- */

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static unsigned int direction(const struct lab_pkt *p)
{
	return p->src.s_addr == inet_addr(LAB_CLIENT_ADDR) ? LAB_DIR_C2S : LAB_DIR_S2C;
}

static void log_packet(struct lab_wire *w, int imp, bool drop, int64_t held_us,
		       const struct lab_pkt *p)
{
	struct lab_wire_log *grown;

	if (w->n_log >= LAB_WIRE_LOG_MAX) {
		w->log_lost++;
		return;
	}
	if (!(w->n_log & 1023)) {
		grown = realloc(w->log, (w->n_log + 1024) * sizeof(*grown));
		if (!grown) {
			w->log_lost++;
			return;
		}
		w->log = grown;
	}
	w->log[w->n_log++] = (struct lab_wire_log){
		.t_us = lab_now_us(),
		.imp = imp,
		.drop = drop,
		.held_us = held_us,
		.dir = direction(p),
		.pkt = *p,
	};
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

/* decide a queued packet's fate; called with w->lock held */
static void decide(struct lab_wire *w, struct batch *b, uint32_t id, const struct lab_pkt *p)
{
	unsigned int dir = direction(p);
	int64_t now = lab_mono_us(), due = 0;
	bool reordered = false;
	int holder = -1;
	size_t i;

	for (i = 0; i < w->n; i++) {
		const struct lab_impair *imp = &w->imp[i];
		struct lab_wire_stat *st = &w->stat[i];
		uint64_t r;

		if (st->backend != LAB_BACKEND_NFQUEUE || !lab_match_packet(&imp->m, p, dir))
			continue;
		st->matched++;
		r = splitmix(&w->rng[i]) % 1000000u;
		if (imp->kind == LAB_IMP_LOSS && r < imp->ppm) {
			st->dropped++;
			log_packet(w, (int)i, true, 0, p);
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
	log_packet(w, holder, false, due - now, p);
	heap_push(w, (struct lab_wire_held){ .due_us = due, .id = id });
}

static int queue_cb(const struct nlmsghdr *nlh, void *data)
{
	struct lab_wire *w = ((void **)data)[0];
	struct batch *b = ((void **)data)[1];
	struct nlattr *attr[NFQA_MAX + 1] = { 0 };
	struct nfqnl_msg_packet_hdr *ph;
	struct lab_pkt p;
	uint32_t id;

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
	pthread_mutex_lock(&w->lock);
	decide(w, b, id, &p);
	pthread_mutex_unlock(&w->lock);
	return MNL_CB_OK;
}

static int nflog_attr(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(a);

	if (mnl_attr_type_valid(a, NFULA_MAX) > 0)
		tb[type] = a;
	return MNL_CB_OK;
}

static int nflog_cb(const struct nlmsghdr *nlh, void *data)
{
	struct lab_wire *w = data;
	const struct nlattr *tb[NFULA_MAX + 1] = { 0 };
	struct lab_pkt p;
	int idx;

	if ((nlh->nlmsg_type & 0xff) != NFULNL_MSG_PACKET)
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(struct nfgenmsg), nflog_attr, tb);
	if (!tb[NFULA_PAYLOAD] || !tb[NFULA_PREFIX] ||
	    sscanf(mnl_attr_get_str(tb[NFULA_PREFIX]), "imp%d", &idx) != 1 ||
	    lab_trace_parse(DLT_RAW, mnl_attr_get_payload(tb[NFULA_PAYLOAD]),
			    mnl_attr_get_payload_len(tb[NFULA_PAYLOAD]), &p))
		return MNL_CB_OK;
	pthread_mutex_lock(&w->lock);
	log_packet(w, idx, true, 0, &p);
	pthread_mutex_unlock(&w->lock);
	return MNL_CB_OK;
}

static void drain(struct lab_wire *w, struct mnl_socket *s, mnl_cb_t cb, void *data)
{
	char buf[1 << 16];
	ssize_t n;

	for (;;) {
		n = recv(mnl_socket_get_fd(s), buf, sizeof(buf), MSG_DONTWAIT);
		if (n <= 0)
			break;
		mnl_cb_run(buf, (size_t)n, 0, mnl_socket_get_portid(s), cb, data);
	}
}

static void release_due(struct lab_wire *w, struct batch *b, int64_t upto)
{
	pthread_mutex_lock(&w->lock);
	while (w->n_held && w->held[0].due_us <= upto)
		verdict(w, b, heap_pop(w).id, NF_ACCEPT);
	pthread_mutex_unlock(&w->lock);
}

static void *engine(void *arg)
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
			drain(w, w->nflog, nflog_cb, w);
		if (pfd[2].revents)
			drain(w, w->nfq, queue_cb, ctx);
		release_due(w, b, lab_mono_us());
		flush(w, b);
	}
	/* the run is over: nothing stays held */
	if (w->nfq) {
		drain(w, w->nfq, queue_cb, ctx);
		release_due(w, b, INT64_MAX);
		flush(w, b);
	}
	free(b);
	return NULL;
}

/* ---- netlink configuration ---------------------------------------------------------------- */

static struct mnl_socket *open_netfilter(void)
{
	struct mnl_socket *s = mnl_socket_open(NETLINK_NETFILTER);
	int on = 1, size = 4 << 20;

	if (!s)
		return NULL;
	if (mnl_socket_bind(s, 0, MNL_SOCKET_AUTOPID) < 0) {
		mnl_socket_close(s);
		return NULL;
	}
	setsockopt(mnl_socket_get_fd(s), SOL_NETLINK, NETLINK_NO_ENOBUFS, &on, sizeof(on));
	setsockopt(mnl_socket_get_fd(s), SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size));
	return s;
}

static int talk(struct mnl_socket *s, struct nlmsghdr *nlh)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	ssize_t n;

	nlh->nlmsg_flags |= NLM_F_ACK;
	if (mnl_socket_sendto(s, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	n = mnl_socket_recvfrom(s, buf, sizeof(buf));
	if (n < 0)
		return -errno;
	return mnl_cb_run(buf, (size_t)n, nlh->nlmsg_seq, mnl_socket_get_portid(s), NULL, NULL) <
			       0 ?
		       -errno :
		       0;
}

static int nflog_bind(struct mnl_socket *s)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;
	struct nfulnl_msg_config_cmd cmd = { .command = NFULNL_CFG_CMD_BIND };
	struct nfulnl_msg_config_mode mode = { .copy_range = htonl(COPY_RANGE),
					       .copy_mode = NFULNL_COPY_PACKET };

	nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = 1;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_INET;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = htons(NFLOG_GROUP);
	mnl_attr_put(nlh, NFULA_CFG_CMD, sizeof(cmd), &cmd);
	mnl_attr_put(nlh, NFULA_CFG_MODE, sizeof(mode), &mode);
	mnl_attr_put_u32(nlh, NFULA_CFG_QTHRESH,
			 htonl(1)); /* each report at once, not 100 or 1 s */
	return talk(s, nlh);
}

static int nfq_bind(struct mnl_socket *s)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, QUEUE_NUM);
	int err;

	nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_BIND);
	nlh->nlmsg_seq = 2;
	err = talk(s, nlh);
	if (err)
		return err;
	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, QUEUE_NUM);
	nlh->nlmsg_seq = 3;
	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, COPY_RANGE);
	nfq_nlmsg_cfg_put_qmaxlen(nlh, QUEUE_MAXLEN);
	return talk(s, nlh);
}

/* ---- the engine's life ---------------------------------------------------------------------- */

int lab_wire_start(struct lab_wire *w, const struct lab_netns *ns, bool netem_available)
{
	int saved = -1, err;

	w->ns = ns;
	w->netem_available = netem_available;
	err = lab_netns_enter(ns, &saved);
	if (err)
		return err;
	w->nft = nft_ctx_new(NFT_CTX_DEFAULT);
	w->nflog = open_netfilter();
	w->nfq = open_netfilter();
	err = !w->nft || !w->nflog || !w->nfq ? -ENOMEM : nflog_bind(w->nflog);
	if (!err)
		err = nfq_bind(w->nfq);
	lab_netns_leave(&saved);
	if (err)
		return lab_fail(err, "nflog/nfqueue in the wire namespace");
	nft_ctx_buffer_output(w->nft);
	nft_ctx_buffer_error(w->nft);
	err = nft_cmd(w, "add table inet tcplab\n"
			 "add chain inet tcplab wire { type filter hook forward priority -10; "
			 "policy accept; }");
	if (err)
		return lab_fail(err, "%s", w->error);
	w->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (w->stop_fd < 0)
		return lab_fail(-errno, "eventfd");
	err = -pthread_create(&w->thread, NULL, engine, w);
	if (err)
		return lab_fail(err, "engine thread");
	w->running = true;
	return 0;
}

static enum lab_impair_backend choose(const struct lab_wire *w, const struct lab_impair *imp)
{
	bool whole = imp->m.flags < 0 && imp->m.len < 0 && !imp->m.sport && !imp->m.dport;
	bool netem_kind = imp->kind == LAB_IMP_DELAY || (imp->kind == LAB_IMP_LOSS && !imp->seed);

	if (imp->kind == LAB_IMP_DROP || imp->kind == LAB_IMP_BLACKHOLE)
		return LAB_BACKEND_NFTABLES;
	if (imp->backend != LAB_BACKEND_AUTO)
		return imp->backend;
	if (w->netem_available && whole && netem_kind && imp->m.dir != 3 &&
	    !w->netem_dir[imp->m.dir])
		return LAB_BACKEND_NETEM;
	return LAB_BACKEND_NFQUEUE;
}

int lab_wire_add(struct lab_wire *w, const struct lab_impair *imp, char *why, size_t whylen)
{
	enum lab_impair_backend b = choose(w, imp);
	int i = (int)w->n, err = 0;
	unsigned int d;

	if (w->n >= LAB_WIRE_MAX) {
		snprintf(why, whylen, "at most %d impairments", LAB_WIRE_MAX);
		return -E2BIG;
	}
	if (b == LAB_BACKEND_NETEM &&
	    (!w->netem_available || imp->m.dir == 3 || w->netem_dir[imp->m.dir])) {
		snprintf(why, whylen, "%s: netem %s", imp->spec,
			 w->netem_available ?
				 "takes one impairment per direction (dir=c2s or s2c)" :
				 "is not in this kernel (CONFIG_NET_SCH_NETEM)");
		return -EOPNOTSUPP;
	}
	pthread_mutex_lock(&w->lock);
	w->imp[i] = *imp;
	w->stat[i] = (struct lab_wire_stat){ .backend = b };
	w->rng[i] = imp->seed ? imp->seed : 1;
	if (b == LAB_BACKEND_NETEM)
		w->stat[i].matched = w->stat[i].dropped = w->stat[i].held = -1;
	w->n++;
	pthread_mutex_unlock(&w->lock);
	if (b == LAB_BACKEND_NFTABLES)
		err = nft_add(w, i);
	for (d = LAB_DIR_C2S; !err && d <= LAB_DIR_S2C; d++) {
		if (!(imp->m.dir & d))
			continue;
		if (b == LAB_BACKEND_NFQUEUE)
			err = queue_rule(w, &imp->m, d);
		else if (b == LAB_BACKEND_NETEM)
			err = netem_direction(w, imp, d);
	}
	if (err) {
		snprintf(why, whylen, "%s: %s", imp->spec, w->error);
		return err;
	}
	return i;
}

int lab_wire_arm(struct lab_wire *w, int idx, bool on)
{
	int err;

	if (idx < 0 || (size_t)idx >= w->n || w->imp[idx].kind != LAB_IMP_BLACKHOLE)
		return -EINVAL;
	if (w->imp[idx].armed == on)
		return 0;
	w->imp[idx].armed = on;
	if (on)
		return nft_action(w, idx);
	err = nft_cmd(w, "flush chain inet tcplab imp%d", idx);
	return err ? err : nft_cmd(w, "add rule inet tcplab imp%d counter name m%d", idx, idx);
}

void lab_wire_stop(struct lab_wire *w)
{
	uint64_t one = 1;

	if (w->running) {
		/* counters first: the nflog reports of the last drops are then surely queued */
		lab_wire_refresh(w);
		if (write(w->stop_fd, &one, sizeof(one)) < 0)
			lab_fail(-errno, "stopping the wire engine");
		pthread_join(w->thread, NULL);
		w->running = false;
		drain(w, w->nflog, nflog_cb, w);
	}
}

void lab_wire_free(struct lab_wire *w)
{
	lab_wire_stop(w);
	if (w->nft)
		nft_ctx_free(w->nft);
	if (w->nfq)
		mnl_socket_close(w->nfq);
	if (w->nflog)
		mnl_socket_close(w->nflog);
	if (w->stop_fd >= 0)
		close(w->stop_fd);
	free(w->log);
	free(w->held);
	*w = (struct lab_wire)LAB_WIRE_INIT;
}
