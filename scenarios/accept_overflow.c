// SPDX-License-Identifier: MIT
/*
 * accept-overflow: a server that does not accept() fast enough.
 *
 * The server listens with a small backlog and never calls accept(). The kernel completes
 * handshakes into the accept queue until it holds backlog + 1 connections; after that every SYN
 * is dropped (ListenOverflows, ListenDrops) and those clients sit in SYN_SENT, retransmitting
 * their SYN a second later. The variants lose a handshake ACK on purpose so that a connection
 * whose SYN got in finds the queue full when its ACK arrives: tcp_abort_on_overflow=0 leaves it
 * "connected" with data nobody ACKs; =1 answers with a RST (ECONNRESET). Contrast: a server that
 * accepts promptly serves every client.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.h"
#include "tcpdiag.h"
#include "timing.h"

enum story { NEVER_ACCEPTS, ACCEPTS, ABORT_0, ABORT_1 };

struct how {
	enum story story;
};

static const struct lab_variant variants[] = {
	/* the failure: the accept queue fills, further SYNs are dropped */
	{ "default",
	  "server never accepts: backlog + 1 connections queued, the rest stuck in "
	  "SYN_SENT",
	  &(struct how){ NEVER_ACCEPTS } },
	/* the remedy: accept promptly */
	{ "accepts", "server accepts promptly: every client is served", &(struct how){ ACCEPTS } },
	/* the ACK arrives when the queue is full, tcp_abort_on_overflow=0: silence */
	{ "abort-0",
	  "queue full when a handshake ACK arrives, tcp_abort_on_overflow=0: "
	  "connect() succeeded, data never ACKed, server in SYN_RECV",
	  &(struct how){ ABORT_0 } },
	/* the same with tcp_abort_on_overflow=1: RST */
	{ "abort-1",
	  "queue full when a handshake ACK arrives, tcp_abort_on_overflow=1: RST, "
	  "ECONNRESET",
	  &(struct how){ ABORT_1 } },
};

static const struct lab_param params[] = {
	{ "backlog", 2, 2, 16, "", "listen() backlog: the queue holds backlog + 1" },
	{ "clients", 6, 1, 30, "",
	  "clients that connect (default, accepts); the abort "
	  "variants use backlog + 2" },
};

struct obs {
	int drop;
	size_t n_clients;
	int64_t queue_len, queue_max; /* LISTEN Recv-Q and Send-Q */
	int64_t established, syn_sent, syn_recv, unacked;
};

struct queue_len {
	int64_t want;
};

/* the queue holds @want connections, and each has received its client's 16 bytes */
static bool queue_at(const struct lab_socks *s, const void *arg)
{
	const struct lab_sock *l = lab_socks_find(s, LAB_PORT, TCP_LISTEN);
	int64_t with_data = 0;
	size_t i;

	for (i = 0; i < s->n; i++)
		with_data += s->v[i].state == TCP_ESTABLISHED && s->v[i].rqueue >= 16;
	return l && (int64_t)l->rqueue >= ((const struct queue_len *)arg)->want &&
	       with_data >= ((const struct queue_len *)arg)->want;
}

/* every client stuck in SYN_SENT has retransmitted its SYN at least once */
static bool syns_retried(const struct lab_socks *s, const void *arg)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->v[i].state == TCP_SYN_SENT && !s->v[i].retrans)
			return false;
	return true;
}

static bool data_retried(const struct lab_socks *s, const void *arg)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->v[i].state == TCP_ESTABLISHED && s->v[i].wqueue && s->v[i].retrans)
			return true;
	return false;
}

static bool some_socket(const struct lab_socks *s, const void *arg)
{
	return lab_socks_count(s, LAB_PORT, -1) >= *(const size_t *)arg;
}

/* start one client and wait until its connection is in the accept queue or in SYN_SENT */
static int connect_one(struct lab_run *run, size_t i, int64_t queued, const char *ops)
{
	struct queue_len q = { queued };
	size_t want = i + 1;
	int err = i ? lab_run_more(run, ops) : lab_run_client(run, ops);

	if (err < 0)
		return err;
	if (lab_tcpdiag_wait_for(&run->topo.ns[LAB_CLIENT], some_socket, &want, run->deadline_us))
		return lab_run_error(run, -ETIMEDOUT, "client %zu never connected", i + 1);
	if (queued &&
	    lab_tcpdiag_wait_for(&run->topo.ns[LAB_SERVER], queue_at, &q, run->deadline_us))
		return lab_run_error(run, -ETIMEDOUT, "the accept queue never reached %" PRId64,
				     queued);
	return 0;
}

static void observe(struct lab_run *run, struct obs *obs)
{
	struct lab_socks c = LAB_SOCKS_INIT, s = LAB_SOCKS_INIT;
	const struct lab_sock *l;
	size_t i;

	if (lab_run_states(run, LAB_CLIENT, &c) || lab_run_states(run, LAB_SERVER, &s))
		goto out;
	l = lab_socks_find(&s, LAB_PORT, TCP_LISTEN);
	obs->queue_len = l ? (int64_t)l->rqueue : -1;
	obs->queue_max = l ? (int64_t)l->wqueue : -1;
	obs->established = (int64_t)lab_socks_count(&c, LAB_PORT, TCP_ESTABLISHED);
	obs->syn_sent = (int64_t)lab_socks_count(&c, LAB_PORT, TCP_SYN_SENT);
	obs->syn_recv = (int64_t)lab_socks_count(&s, LAB_PORT, TCP_SYN_RECV);
	for (i = 0; i < c.n; i++)
		obs->unacked += c.v[i].state == TCP_ESTABLISHED && c.v[i].wqueue;
out:
	lab_socks_free(&c);
	lab_socks_free(&s);
}

static int play(struct lab_run *run)
{
	const struct how *how = run->variant->how;
	struct obs *obs = calloc(1, sizeof(*obs));
	long backlog = lab_param(run, "backlog"), n = lab_param(run, "clients");
	bool abort_story = how->story == ABORT_0 || how->story == ABORT_1;
	char server_ops[32];
	long i;
	int err = 0;

	if (!obs)
		return -ENOMEM;
	run->obs = obs;
	obs->drop = -1;
	if (abort_story) {
		n = backlog + 2;
		err = lab_topo_sysctl(&run->topo, LAB_SERVER, "net/ipv4/tcp_syncookies", "0");
		if (!err)
			err = lab_topo_sysctl(&run->topo, LAB_SERVER,
					      "net/ipv4/tcp_abort_on_overflow",
					      how->story == ABORT_1 ? "1" : "0");
		if (err)
			return lab_run_error(run, err, "cannot set the server's sysctls");
		/* the first client's handshake ACK: its SYN got in, its ACK will come too late */
		obs->drop = lab_run_impair(run, "drop,dir=c2s,flags=A,len=0,nth=1");
		if (obs->drop < 0)
			return obs->drop;
	}
	obs->n_clients = (size_t)n;
	snprintf(server_ops, sizeof(server_ops),
		 how->story == ACCEPTS ? "accepts:%ld:16,wait" : "wait", n);
	err = lab_run_server(run, server_ops, backlog, 0);
	/* one client at a time, each in the queue (or refused) before the next one starts */
	for (i = 0; !err && i < n; i++) {
		bool late_ack = abort_story && i == 0;
		int64_t queued = how->story == ACCEPTS || late_ack ? 0 :
				 abort_story			   ? i :
				 i < backlog + 1		   ? i + 1 :
								     0;

		err = connect_one(run, (size_t)i, queued,
				  late_ack ? "wait,send:16,recv:64" : "send:16,recv:64");
		if (!err && late_ack &&
		    lab_tcpdiag_wait(&run->topo.ns[LAB_SERVER], LAB_PORT, TCP_SYN_RECV,
				     run->deadline_us))
			err = lab_run_error(run, -ETIMEDOUT, "the first client never got SYN_RECV");
	}
	if (err)
		return err;
	switch (how->story) {
	case NEVER_ACCEPTS: /* the refused clients try again: their SYNs are dropped too */
		if (lab_tcpdiag_wait_for(&run->topo.ns[LAB_CLIENT], syns_retried, NULL,
					 run->deadline_us))
			return lab_run_error(run, -ETIMEDOUT, "SYN_SENT clients never retried");
		break;
	case ACCEPTS:
		err = lab_run_finish(run, &run->client);
		for (i = 0; !err && (size_t)i < run->n_more; i++)
			err = lab_run_finish(run, &run->more[i]);
		break;
	case ABORT_0: /* the first client speaks now: its data carries the ACK */
	case ABORT_1:
		lab_run_note(run, "harness", "note", "accept queue full; the first client sends");
		if (lab_proc_go(&run->client))
			return lab_run_error(run, -EPIPE, "the first client is gone");
		if (how->story == ABORT_1)
			err = lab_run_finish(run, &run->client);
		else if (lab_tcpdiag_wait_for(&run->topo.ns[LAB_CLIENT], data_retried, NULL,
					      run->deadline_us))
			err = lab_run_error(run, -ETIMEDOUT,
					    "the first client's data was never "
					    "retransmitted");
		break;
	}
	if (!err)
		observe(run, obs);
	return err;
}

/* client-side pcap: from a refused client's SYN to its first retransmission (-1: none) */
static int64_t syn_retry_gap(const struct lab_trace *t)
{
	size_t i, j;

	for (i = 0; i < t->n; i++) {
		if (t->v[i].flags != LAB_TH_SYN || t->v[i].retrans)
			continue;
		for (j = i + 1; j < t->n; j++)
			if (t->v[j].flags == LAB_TH_SYN && t->v[j].sport == t->v[i].sport)
				return t->v[j].t_us - t->v[i].t_us;
	}
	return -1;
}

/* clients (client, client2, ...) whose recv() got the server's reply */
static int64_t served(const struct lab_run *run)
{
	int64_t n = 0;
	size_t i;

	for (i = 0; i < run->n_events; i++)
		n += !strncmp(run->events[i].who, "client", 6) &&
		     !strcmp(run->events[i].call, "recv") && run->events[i].ret == 16;
	return n;
}

static void judge(struct lab_run *run)
{
	const struct how *expect = run->expect_as->how;
	const struct obs *obs = run->obs;
	const struct lab_trace *at_client = &run->trace[LAB_CLIENT];
	struct in_addr server = lab_addr(LAB_SERVER_ADDR);
	static const char *const calls[] = { "connect", "send", "recv", NULL };
	long backlog = lab_param(run, "backlog"), n = (long)obs->n_clients;
	int64_t queued = n < backlog + 1 ? n : backlog + 1, refused = n - queued;
	int hz = run->kernel.hz ? run->kernel.hz : 1000;
	struct lab_window w = lab_window(1000000 + 1000000 / hz, run->scale);
	int64_t overflows = lab_run_counter(run, LAB_SERVER, "TcpExtListenOverflows");
	char seen[96];

	switch (expect->story) {
	case NEVER_ACCEPTS:
		lab_expect_int(&run->ex, "accept queue length (LISTEN Recv-Q)", LAB_EQ, queued,
			       obs->queue_len);
		lab_expect_int(&run->ex, "listen backlog (LISTEN Send-Q)", LAB_EQ, backlog,
			       obs->queue_max);
		lab_expect_int(&run->ex, "clients ESTABLISHED (in the queue)", LAB_EQ, queued,
			       obs->established);
		lab_expect_int(&run->ex, "clients in SYN_SENT (SYN dropped)", LAB_EQ, refused,
			       obs->syn_sent);
		lab_expect_int(&run->ex, "server TcpExtListenOverflows delta (SYNs + retries)",
			       LAB_GE, 2 * refused, overflows);
		lab_expect_int(&run->ex, "server TcpExtListenDrops delta", LAB_GE, 2 * refused,
			       lab_run_counter(run, LAB_SERVER, "TcpExtListenDrops"));
		if (refused)
			lab_expect_window(&run->ex,
					  "SYN retransmission: TCP_TIMEOUT_INIT 1 s + 1 tick", &w,
					  syn_retry_gap(at_client));
		break;
	case ACCEPTS:
		LAB_IF_OURS(run, "client", "clients served (recv() = the 16-byte reply)")
		lab_expect_int(&run->ex, "clients served (recv() = the 16-byte reply)", LAB_EQ, n,
			       served(run));
		lab_expect_int(&run->ex, "accept queue length at the end", LAB_EQ, 0,
			       obs->queue_len);
		lab_expect_int(&run->ex, "clients in SYN_SENT", LAB_EQ, 0, obs->syn_sent);
		lab_expect_int(&run->ex, "server TcpExtListenOverflows delta", LAB_EQ, 0,
			       overflows);
		break;
	case ABORT_0:
	case ABORT_1:
		lab_run_calls(run, "client", calls, seen, sizeof(seen));
		LAB_IF_OURS(run, "client", "first client's calls (errno sequence)")
		lab_expect_str(&run->ex, "first client's calls (errno sequence)",
			       expect->story == ABORT_1 ? "connect=0 send=16 recv=ECONNRESET" :
							  "connect=0 send=16",
			       seen);
		lab_expect_int(&run->ex, "server TcpExtListenOverflows delta", LAB_GE, 1,
			       overflows);
		lab_expect_int(&run->ex, "server sockets in SYN_RECV", LAB_EQ,
			       expect->story == ABORT_0, obs->syn_recv);
		lab_expect_int(&run->ex, "client sockets with unacknowledged data", LAB_EQ,
			       expect->story == ABORT_0, obs->unacked);
		/* once the story is over, the harness stops the server: its queue is reset then */
		lab_expect_int(&run->ex, "RST from the server (client-side pcap)", LAB_EQ,
			       expect->story == ABORT_1,
			       (int64_t)lab_trace_count_before(at_client, server, LAB_TH_RST, false,
							       run->story_end_us));
		break;
	}
}

const struct lab_scenario lab_sc_accept_overflow = {
	.name = "accept-overflow",
	.summary = "a server that does not accept(): full accept queue, dropped SYNs, "
		   "tcp_abort_on_overflow",
	.symptom = "Under load, some clients hang in connect() for seconds (SYN_SENT) while "
		   "others are 'connected' but never answered; nstat shows ListenOverflows and "
		   "ListenDrops climbing; ss -lnt shows the listener's Recv-Q at backlog + 1. "
		   "With tcp_abort_on_overflow=1, clients get ECONNRESET instead.",
	.mechanism = "Completed handshakes wait in the listener's accept queue, whose limit is "
		     "the listen() backlog (capped by net.core.somaxconn); sk_acceptq_is_full() "
		     "is true above the backlog, so the queue holds backlog + 1. While it is "
		     "full, tcp_conn_request() drops every new SYN (LINUX_MIB_LISTENOVERFLOWS and "
		     "LISTENDROPS +1 each, retransmissions included) and the client retransmits "
		     "its SYN after TCP_TIMEOUT_INIT (1 s). A connection whose SYN got in but "
		     "whose ACK arrives when the queue is full fails in tcp_check_req(): with "
		     "tcp_abort_on_overflow=0 the ACK is ignored (the server keeps SYN_RECV and "
		     "retransmits its SYN-ACK, the client believes it is connected and its data "
		     "is never ACKed); with =1 the server answers with a RST. With SYN cookies "
		     "on, overflowing data is dropped silently: the variants turn them off.",
	.capture = "Client side: each queued client's [S] [S.] [.] [P.] with an ACK from the "
		   "server; each refused client's [S] unanswered and again ~1 s later "
		   "(retransmission). abort-0: the first client's [P.] retransmitted, never "
		   "ACKed, with the server's [S.] coming again; abort-1: [R] from the server "
		   "right after the client's [P.].",
	.remedy = "accept() promptly (a dedicated accept loop, more workers, epoll), size the "
		  "backlog for bursts (and net.core.somaxconn, which caps it), watch "
		  "ListenOverflows. tcp_abort_on_overflow=1 only makes the failure fast and "
		  "visible; it does not serve anyone.",
	.by_hand = "ip netns exec srv tcplab-server --listen 0.0.0.0:5000 --backlog 2 --ops wait\n"
		   "for i in 1 2 3 4 5 6; do ip netns exec cli tcplab-client --connect "
		   "198.51.100.1:5000 --ops send:16,recv:64 & done\n"
		   "ip netns exec srv ss -lnt; ip netns exec cli ss -tan state syn-sent\n"
		   "ip netns exec srv nstat -az TcpExtListenOverflows TcpExtListenDrops",
	.params = params,
	.n_params = sizeof(params) / sizeof(params[0]),
	.variants = variants,
	.n_variants = sizeof(variants) / sizeof(variants[0]),
	.budget_s = 20,
	.play = play,
	.judge = judge,
};
