/* SPDX-License-Identifier: MIT */
#ifndef LAB_WIRE_H
#define LAB_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "impair.h"
#include "netns.h"
#include "trace.h"

/*
 * The impairment engine, in the wire namespace (the endpoints' stacks are never touched):
 *  - nftables (libnftables) for exact drops: a chain per impairment, entered by a classifier
 *    rule in a forward-hook chain at priority -10; "numgen inc" picks the K-th match; named
 *    counters count matches and drops; "log group" reports each dropped packet over nflog.
 *  - NFQUEUE (iptables -j NFQUEUE in FORWARD, libnetfilter_queue's netlink API) for delay,
 *    jitter, seeded loss and reordering: one thread holds verdicts until a packet is due.
 *  - netem (rtnetlink), when the running kernel has it and does exactly what a spec says on a
 *    whole direction: delay and jitter, loss, reorder, duplicate, corrupt, rate, limit; its
 *    qdisc statistics are read back per direction.
 * One thread serves both netlink sockets; every drop and hold is logged with the packet.
 *
 * struct lab_wire is opaque (harness/wire_priv.h). While the engine runs, the NFQUEUE
 * counters and the log change under a reader: read them after lab_wire_stop().
 */
#define LAB_WIRE_MAX 16
#define LAB_WIRE_LOG_MAX 200000

struct lab_wire_log {
	int64_t t_us; /* CLOCK_REALTIME, like pcap timestamps */
	int imp; /* the impairment: an index for lab_wire_impair() */
	bool drop; /* else held */
	int64_t held_us;
	unsigned int dir;
	struct lab_pkt pkt;
};

struct lab_wire_stat {
	enum lab_impair_backend backend; /* the one that ran */
	int64_t matched, dropped, held; /* -1: the backend cannot tell (netem: see below) */
	char why[160]; /* why that backend: asked for, or what the others could not do */
};

/* what a direction's netem qdisc did (RTM_GETQDISC), shared by the impairments it carries */
struct lab_netem_stats {
	bool read; /* false: no netem on that direction, or the dump failed */
	uint64_t bytes, packets; /* sent (duplicates included) */
	uint32_t qlen, backlog, drops, requeues, overlimits; /* backlog in bytes */
	uint32_t limit; /* the queue limit the kernel reports back (tc_netem_qopt) */
	bool seed_echoed; /* a seed was given and the kernel reports it back (it took it) */
};

/* the engine's own health: packets it saw, verdicts the kernel refused, log entries lost */
struct lab_wire_engine {
	uint64_t queued, verdict_errors;
	size_t log_lost;
};

struct lab_wire;

/**
 * lab_wire_new() - the nftables table and the engine thread in @ns (nothing impaired yet)
 * @out: the new engine; NULL on failure
 * @ns: the wire namespace
 * @netem_available: the kernel has sch_netem
 *
 * Return: 0 or -errno (reported with its context).
 */
int lab_wire_new(struct lab_wire **out, const struct lab_netns *ns, bool netem_available);

/* lab_wire_add() - install @imp: its index, or -errno with a reason in @why */
int lab_wire_add(struct lab_wire *w, const struct lab_impair *imp, char *why, size_t whylen);

/* lab_wire_arm() - start or stop dropping for a blackhole */
int lab_wire_arm(struct lab_wire *w, int idx, bool on);

/* lab_wire_refresh() - read the nftables counters into the stats */
int lab_wire_refresh(struct lab_wire *w);

/* lab_wire_stop() - release held packets, stop the thread, final counters; the namespace stays */
void lab_wire_stop(struct lab_wire *w);

/* lab_wire_free() - stop, release everything and free @w; NULL is fine */
void lab_wire_free(struct lab_wire *w);

/* lab_wire_count() - impairments installed (0 for NULL) */
size_t lab_wire_count(const struct lab_wire *w);

/* lab_wire_impair() - the impairment at @idx as installed, or NULL */
const struct lab_impair *lab_wire_impair(const struct lab_wire *w, size_t idx);

/* lab_wire_stat() - what the impairment at @idx did, or NULL */
const struct lab_wire_stat *lab_wire_stat(const struct lab_wire *w, size_t idx);

/* lab_wire_log() - every drop and hold in order; its length in *@n */
const struct lab_wire_log *lab_wire_log(const struct lab_wire *w, size_t *n);

/* lab_wire_netem() - the netem qdisc of @dir (LAB_DIR_C2S or S2C) and its device, or NULL */
const struct lab_netem_stats *lab_wire_netem(const struct lab_wire *w, unsigned int dir,
					     const char **dev);

/* lab_wire_error() - the text of the last backend failure, "" if none */
const char *lab_wire_error(const struct lab_wire *w);

/* lab_wire_engine() - the engine's own counters */
struct lab_wire_engine lab_wire_engine(const struct lab_wire *w);

#endif
