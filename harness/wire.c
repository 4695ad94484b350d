// SPDX-License-Identifier: MIT
/*
 * The impairment engine in the wire namespace: the public API, the choice of backend for each
 * impairment (nftables drops, NFQUEUE holds, netem if present), the log, and the engine's life.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <nftables/libnftables.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"
#include "event.h"
#include "proc.h"
#include "topo.h"
#include "wire_priv.h"

/* ---- the log: every drop and hold, with the packet ---------------------------------------- */

unsigned int wire_direction(const struct lab_pkt *p)
{
	return p->src.s_addr == inet_addr(LAB_CLIENT_ADDR) ? LAB_DIR_C2S : LAB_DIR_S2C;
}

void wire_log_packet(struct lab_wire *w, int imp, bool drop, int64_t held_us,
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
		.dir = wire_direction(p),
		.pkt = *p,
	};
}

/* ---- helpers for the backends: tools in the namespace, netlink ---------------------------- */

int wire_run_tool(struct lab_wire *w, char *const argv[])
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

int wire_nl_talk(struct mnl_socket *s, struct nlmsghdr *nlh)
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

void wire_nl_drain(struct mnl_socket *s, mnl_cb_t cb, void *data)
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

/* ---- the engine's life ---------------------------------------------------------------------- */

int lab_wire_new(struct lab_wire **out, const struct lab_netns *ns, bool netem_available)
{
	struct lab_wire *w = calloc(1, sizeof(*w));
	int saved = -1, err;

	*out = NULL;
	if (!w)
		return lab_fail(-ENOMEM, "the wire engine");
	w->stop_fd = -1;
	pthread_mutex_init(&w->lock, NULL);
	w->ns = ns;
	w->netem_available = netem_available;
	err = lab_netns_enter(ns, &saved);
	if (err)
		goto out;
	/* every netlink socket is opened here, so it speaks to the wire namespace */
	w->nft = nft_ctx_new(NFT_CTX_DEFAULT);
	w->nflog = open_netfilter();
	w->nfq = open_netfilter();
	err = !w->nft || !w->nflog || !w->nfq ? -ENOMEM : wire_nflog_bind(w->nflog);
	if (!err)
		err = wire_queue_bind(w->nfq);
	lab_netns_leave(&saved);
	if (err) {
		err = lab_fail(err, "nflog/nfqueue in the wire namespace");
		goto out;
	}
	err = wire_nft_table(w);
	if (err) {
		err = lab_fail(err, "%s", w->error);
		goto out;
	}
	w->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (w->stop_fd < 0) {
		err = lab_fail(-errno, "eventfd");
		goto out;
	}
	err = -pthread_create(&w->thread, NULL, wire_engine, w);
	if (err) {
		err = lab_fail(err, "engine thread");
		goto out;
	}
	w->running = true;
	*out = w;
out:
	if (err)
		lab_wire_free(w);
	return err;
}

static const char *const dir_names[] = { "", "c2s", "s2c", "both" };

/*
 * Drops, blackholes and rejects are exact in nftables. The rest is netem's wherever netem does exactly
 * what the spec says (a whole direction, dir=both included; wire_netem.c says how each kind
 * maps), else NFQUEUE's; duplicate, corrupt and limit= are netem's alone. @why says which and
 * why, for the report.
 */
static enum lab_impair_backend choose(const struct lab_wire *w, const struct lab_impair *imp,
				      char *why, size_t len)
{
	const char *kind = lab_impair_kind_name(imp->kind), *not_netem;

	if (imp->m.role) {
		snprintf(why, len,
			 "role=%s: which packet that is depends on the conversation (the other "
			 "side's SYN-ACK or FIN), followed in user space",
			 lab_role_name(imp->m.role));
		return LAB_BACKEND_NFQUEUE;
	}
	if (imp->kind == LAB_IMP_DROP || imp->kind == LAB_IMP_BLACKHOLE ||
	    imp->kind == LAB_IMP_REJECT) {
		snprintf(why, len, "%s: exact matches and counters are nftables'", kind);
		return LAB_BACKEND_NFTABLES;
	}
	if (imp->backend != LAB_BACKEND_AUTO) {
		snprintf(why, len, "asked for (backend=%s)", lab_backend_name(imp->backend));
		return imp->backend;
	}
	not_netem = w->netem_available ? wire_netem_fits(w, imp) : "this kernel has no sch_netem";
	if (!not_netem) {
		snprintf(why, len, "auto: netem does %s exactly on a whole direction (dir=%s)",
			 kind, dir_names[imp->m.dir & 3]);
		return LAB_BACKEND_NETEM;
	}
	if (lab_impair_needs_netem(imp)) {
		snprintf(why, len, "auto: only netem does %s, but %s", imp->limit ? "limit=" : kind,
			 not_netem);
		return LAB_BACKEND_NETEM; /* lab_wire_add() refuses it with that reason */
	}
	snprintf(why, len, "auto: NFQUEUE, since %s", not_netem);
	return LAB_BACKEND_NFQUEUE;
}

int lab_wire_add(struct lab_wire *w, const struct lab_impair *imp, char *why, size_t whylen)
{
	char reason[160];
	enum lab_impair_backend b = choose(w, imp, reason, sizeof(reason));
	const char *not_netem;
	int i = (int)w->n, err = 0;
	unsigned int d;

	if (w->n >= LAB_WIRE_MAX) {
		snprintf(why, whylen, "at most %d impairments", LAB_WIRE_MAX);
		return -E2BIG;
	}
	if (b == LAB_BACKEND_NETEM) {
		not_netem = w->netem_available ? wire_netem_fits(w, imp) :
						 "is not in this kernel (CONFIG_NET_SCH_NETEM)";
		if (not_netem) {
			snprintf(why, whylen, "%s: netem: %s", imp->spec, not_netem);
			return -EOPNOTSUPP;
		}
	}
	pthread_mutex_lock(&w->lock);
	w->imp[i] = *imp;
	w->stat[i] = (struct lab_wire_stat){ .backend = b };
	snprintf(w->stat[i].why, sizeof(w->stat[i].why), "%s", reason);
	w->rng[i] = imp->seed ? imp->seed : 1;
	if (b == LAB_BACKEND_NETEM)
		w->stat[i].matched = w->stat[i].dropped = w->stat[i].held = -1;
	w->n++;
	pthread_mutex_unlock(&w->lock);
	if (b == LAB_BACKEND_NFTABLES)
		err = wire_nft_add(w, i);
	else if (b == LAB_BACKEND_NETEM)
		err = wire_netem_add(w, imp);
	for (d = LAB_DIR_C2S; !err && b == LAB_BACKEND_NFQUEUE && d <= LAB_DIR_S2C; d++)
		if (imp->m.dir & d)
			err = wire_queue_rule(w, &imp->m, d);
	/* a role is known from the other side's SYN-ACK and FIN: the engine sees those too */
	for (d = LAB_DIR_C2S; !err && imp->m.role && d <= LAB_DIR_S2C; d++)
		if (imp->m.dir & (LAB_DIR_C2S + LAB_DIR_S2C - d))
			err = wire_queue_rule_flags(w, d, "SYN,FIN");
	if (err) {
		snprintf(why, whylen, "%s: %s", imp->spec, w->error);
		return err;
	}
	return i;
}

int lab_wire_arm(struct lab_wire *w, int idx, bool on)
{
	if (idx < 0 || (size_t)idx >= w->n ||
	    (w->imp[idx].kind != LAB_IMP_BLACKHOLE && w->imp[idx].kind != LAB_IMP_REJECT))
		return -EINVAL;
	if (w->imp[idx].armed == on)
		return 0;
	pthread_mutex_lock(&w->lock);
	w->imp[idx].armed = on;
	pthread_mutex_unlock(&w->lock);
	return w->stat[idx].backend == LAB_BACKEND_NFQUEUE ? 0 : wire_nft_arm(w, idx, on);
}

void lab_wire_stop(struct lab_wire *w)
{
	uint64_t one = 1;

	if (w && w->running) {
		/* counters first: the nflog reports of the last drops are then surely queued */
		lab_wire_refresh(w);
		wire_netem_stats(w); /* what it could not read stays unread (stats.read false) */
		if (write(w->stop_fd, &one, sizeof(one)) < 0)
			lab_fail(-errno, "stopping the wire engine");
		pthread_join(w->thread, NULL);
		w->running = false;
		wire_nflog_drain(w);
	}
}

void lab_wire_free(struct lab_wire *w)
{
	if (!w)
		return;
	lab_wire_stop(w);
	if (w->nft)
		nft_ctx_free(w->nft);
	if (w->nfq)
		mnl_socket_close(w->nfq);
	if (w->nflog)
		mnl_socket_close(w->nflog);
	if (w->rtnl)
		mnl_socket_close(w->rtnl);
	if (w->stop_fd >= 0)
		close(w->stop_fd);
	free(w->log);
	free(w->held);
	pthread_mutex_destroy(&w->lock);
	free(w);
}

/* ---- what the engine did ------------------------------------------------------------------ */

size_t lab_wire_count(const struct lab_wire *w)
{
	return w ? w->n : 0;
}

const struct lab_impair *lab_wire_impair(const struct lab_wire *w, size_t idx)
{
	return w && idx < w->n ? &w->imp[idx] : NULL;
}

const struct lab_wire_stat *lab_wire_stat(const struct lab_wire *w, size_t idx)
{
	return w && idx < w->n ? &w->stat[idx] : NULL;
}

const struct lab_wire_log *lab_wire_log(const struct lab_wire *w, size_t *n)
{
	if (n)
		*n = w ? w->n_log : 0;
	return w ? w->log : NULL;
}

const struct lab_netem_stats *lab_wire_netem(const struct lab_wire *w, unsigned int dir,
					     const char **dev)
{
	if (!w || (dir != LAB_DIR_C2S && dir != LAB_DIR_S2C) || !w->netem[dir].kinds)
		return NULL;
	if (dev)
		*dev = wire_netem_dev(dir);
	return &w->netem[dir].stats;
}

const char *lab_wire_error(const struct lab_wire *w)
{
	return w ? w->error : "";
}

struct lab_wire_engine lab_wire_engine(const struct lab_wire *w)
{
	if (!w)
		return (struct lab_wire_engine){ 0 };
	return (struct lab_wire_engine){
		.queued = w->queued,
		.verdict_errors = w->verdict_errors,
		.log_lost = w->log_lost,
	};
}
