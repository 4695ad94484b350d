/* SPDX-License-Identifier: MIT */
#ifndef LAB_WIRE_H
#define LAB_WIRE_H

#include <pthread.h>
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
 *  - netem (tc), when the running kernel has it, for delay and unseeded loss of a whole
 *    direction.
 * One thread serves both netlink sockets; every drop and hold is logged with the packet.
 */
#define LAB_WIRE_MAX 16
#define LAB_WIRE_LOG_MAX 200000

struct lab_wire_log {
	int64_t t_us; /* CLOCK_REALTIME, like pcap timestamps */
	int imp; /* index into lab_wire.imp */
	bool drop; /* else held */
	int64_t held_us;
	unsigned int dir;
	struct lab_pkt pkt;
};

struct lab_wire_stat {
	enum lab_impair_backend backend; /* the one that ran */
	int64_t matched, dropped, held; /* -1: the backend cannot tell (netem) */
};

struct lab_wire_held;

struct lab_wire {
	const struct lab_netns *ns;
	bool netem_available;
	struct nft_ctx *nft;
	struct mnl_socket *nfq, *nflog;
	int stop_fd;
	pthread_t thread;
	bool running, queue_dir[3], netem_dir[3];
	pthread_mutex_t lock; /* imp, stat, log while the thread runs */
	struct lab_impair imp[LAB_WIRE_MAX];
	struct lab_wire_stat stat[LAB_WIRE_MAX];
	uint64_t rng[LAB_WIRE_MAX];
	size_t n;
	struct lab_wire_log *log;
	size_t n_log, log_lost;
	struct lab_wire_held *held;
	size_t n_held, cap_held;
	int64_t last_release_us[3];
	uint64_t queued, verdict_errors;
	char error[160];
};

#define LAB_WIRE_INIT                                            \
	{                                                        \
		.stop_fd = -1, .lock = PTHREAD_MUTEX_INITIALIZER \
	}

/* lab_wire_start() - the nftables table and the engine thread in @ns (nothing impaired yet) */
int lab_wire_start(struct lab_wire *w, const struct lab_netns *ns, bool netem_available);

/* lab_wire_add() - install @imp: its index, or -errno with a reason in @why */
int lab_wire_add(struct lab_wire *w, const struct lab_impair *imp, char *why, size_t whylen);

/* lab_wire_arm() - start or stop dropping for a blackhole */
int lab_wire_arm(struct lab_wire *w, int idx, bool on);

/* lab_wire_refresh() - read the nftables counters into w->stat */
int lab_wire_refresh(struct lab_wire *w);

/* lab_wire_stop() - release held packets, stop the thread, final counters; the namespace stays */
void lab_wire_stop(struct lab_wire *w);
void lab_wire_free(struct lab_wire *w);

#endif
