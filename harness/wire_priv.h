/* SPDX-License-Identifier: MIT */
#ifndef LAB_WIRE_PRIV_H
#define LAB_WIRE_PRIV_H

/*
 * Inside the wire engine; only harness/wire*.c include this.
 *  wire.c        the public API, the choice of backend, the log, netlink plumbing, life
 *  wire_nft.c    nftables: exact drops and blackholes, their counters, nflog reports
 *  wire_queue.c  NFQUEUE: the iptables rules, the hold heap, the engine thread
 *  wire_netem.c  netem on a whole direction, over rtnetlink, and its statistics
 */
#include <libmnl/libmnl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "impair.h"
#include "netns.h"
#include "trace.h"
#include "wire.h"

#define WIRE_COPY_RANGE 128 /* IPv4 + TCP headers with options: all the engine reads */

struct nft_ctx;

/* one netem qdisc per direction: every impairment given to netem there, merged */
struct wire_netem {
	unsigned int kinds; /* 1 << LAB_IMP_* of the impairments it carries; 0: no qdisc */
	int ifindex;
	int64_t latency_ns, jitter_ns;
	uint32_t loss, duplicate, corrupt, reorder, gap, limit; /* netem's scale: ~0 = 100% */
	uint64_t rate_Bps, seed;
	bool seeded;
	struct lab_netem_stats stats;
};
struct lab_wire_held; /* wire_queue.c */

/* what the engine knows of one connection (by the client's port), for role= matches */
#define WIRE_FLOWS 64
struct wire_flow {
	uint16_t cport; /* 0: free */
	bool has_isn, has_fin[3];
	uint32_t server_isn; /* the SYN-ACK's seq */
	uint32_t fin_end[3]; /* by the FIN's direction: its seq + len + 1, what acknowledges it */
};

struct lab_wire {
	const struct lab_netns *ns;
	bool netem_available;
	struct nft_ctx *nft;
	struct mnl_socket *nfq, *nflog, *rtnl;
	int stop_fd;
	pthread_t thread;
	bool running, queue_dir[3];
	struct wire_netem netem[3]; /* by LAB_DIR_C2S, LAB_DIR_S2C */
	int64_t rate_free_us[LAB_WIRE_MAX][3]; /* NFQUEUE rate: when each link is free again */
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
	struct wire_flow flows[WIRE_FLOWS];
	char error[160];
};

/* wire.c: shared by the backends */
unsigned int wire_direction(const struct lab_pkt *p);
/* wire_log_packet() - one drop or hold in the log; called with w->lock held */
void wire_log_packet(struct lab_wire *w, int imp, bool drop, int64_t held_us,
		     const struct lab_pkt *p);
/* wire_run_tool() - iptables or tc in the wire namespace; a failure's text in w->error */
int wire_run_tool(struct lab_wire *w, char *const argv[]);
/* wire_nl_talk() - send one netfilter config message and wait for its ACK */
int wire_nl_talk(struct mnl_socket *s, struct nlmsghdr *nlh);
/* wire_nl_drain() - run @cb on every message already queued on @s, without blocking */
void wire_nl_drain(struct mnl_socket *s, mnl_cb_t cb, void *data);

/* wire_nft.c */
int wire_nft_cmd(struct lab_wire *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int wire_nft_table(struct lab_wire *w);
int wire_nft_add(struct lab_wire *w, int i);
int wire_nft_arm(struct lab_wire *w, int i, bool on);
int wire_nflog_bind(struct mnl_socket *s);
void wire_nflog_drain(struct lab_wire *w);

/* wire_queue.c */
int wire_queue_bind(struct mnl_socket *s);
int wire_queue_rule(struct lab_wire *w, const struct lab_match *m, unsigned int dir);
/* every packet of @dir with any of @flags ("SYN,FIN") to the engine too */
int wire_queue_rule_flags(struct lab_wire *w, unsigned int dir, const char *flags);
void *wire_engine(void *arg);

/* wire_netem.c */
/* wire_netem_fits() - NULL if netem does @imp exactly (next to what it already does), else why */
const char *wire_netem_fits(const struct lab_wire *w, const struct lab_impair *imp);
int wire_netem_add(struct lab_wire *w, const struct lab_impair *imp);
int wire_netem_stats(struct lab_wire *w);
const char *wire_netem_dev(unsigned int dir);

#endif
