// SPDX-License-Identifier: MIT
/*
 * nagle-delayed-ack: write-write-read stalls for the delayed-ACK timeout on every request.
 *
 * Symptom: a request/response client that writes a header, then a body, then reads the reply
 * takes ~40 ms per request (44 ms at HZ=250) on a network with microsecond RTTs.
 * Mechanism: Nagle (tcp_nagle_check()) holds the small body while the header is unacknowledged;
 * the server, having no reply yet, delays its ACK (tcp_send_delayed_ack(), at least
 * TCP_DELACK_MIN = HZ/25 = 40 ms, fired by the timer wheel one tick late). Only the first request
 * is fast: the connection starts in quick-ACK mode.
 * tcpdump -nn: header [P.], ~40 ms of silence, the server's bare ACK [.], then the body [P.].
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "scenario.h"

enum stall { STALL_NONE, STALL_DELACK, STALL_CORK };

struct how {
	const char *client_pre; /* steps before the requests */
	int writev; /* one writev() instead of two writes */
	int quickack; /* the server re-arms TCP_QUICKACK after every recv() */
	enum stall stall; /* documented outcome */
};

static const struct lab_variant variants[] = {
	/* the bug: write, write, read with Nagle on and delayed ACKs on the server */
	{ "default", "write-write-read: each request waits for the server's delayed ACK",
	  &(struct how){ "", 0, 0, STALL_DELACK } },
	/* remedy: Nagle off on the client */
	{ "nodelay", "TCP_NODELAY on the client: the body leaves at once",
	  &(struct how){ "nodelay,", 0, 0, STALL_NONE } },
	/* remedy: one writev() of header and body: nothing small is left behind */
	{ "writev", "header and body in one writev(): one segment, no stall",
	  &(struct how){ "", 1, 0, STALL_NONE } },
	/* remedy on the other side: the server ACKs at once */
	{ "quickack", "TCP_QUICKACK re-armed after every recv() on the server",
	  &(struct how){ "", 0, 1, STALL_NONE } },
	/* a different stall: TCP_CORK never released holds the data for the cork ceiling */
	{ "cork", "TCP_CORK set and never released: each request waits ~200 ms",
	  &(struct how){ "cork,", 0, 0, STALL_CORK } },
};

static const struct lab_param params[] = {
	{ "requests", 20, 3, 200, "requests", "request/response rounds on one connection" },
	{ "header_bytes", 16, 1, 1000, "bytes", "first write of each request" },
	{ "body_bytes", 16, 1, 1000, "bytes", "second write of each request" },
	{ "reply_bytes", 16, 1, 1000, "bytes", "the server's reply" },
};

static int play(struct lab_run *run)
{
	const struct how *how = run->variant->how;
	long n = lab_param(run, "requests"), hdr = lab_param(run, "header_bytes");
	long body = lab_param(run, "body_bytes"), reply = lab_param(run, "reply_bytes");
	char server_ops[96], client_ops[128];

	snprintf(server_ops, sizeof(server_ops), "accept,serve:%ld:%ld:%ld:%d,close", n, hdr + body,
		 reply, how->quickack);
	snprintf(client_ops, sizeof(client_ops), "%srequest:%ld:%ld:%ld:%ld:%d,close",
		 how->client_pre, n, hdr, body, reply, how->writev);
	return lab_run_pair(run, server_ops, client_ops, 0);
}

/* the stall the kernel will produce: its constant, fired by the timer wheel one tick late */
static int64_t stall_us(const struct lab_run *run, enum stall stall)
{
	int hz = run->kernel.hz ? run->kernel.hz : 1000;
	int64_t tick = 1000000 / hz;

	return (stall == STALL_CORK ? 200000 : 40000) + tick;
}

/* body segments the client sent right after a server ACK that came >= 30 ms after its data */
static int64_t late_ack_releases(const struct lab_trace *t, struct in_addr client)
{
	int64_t n = 0, last_data = -1;
	size_t i;

	for (i = 0; i + 1 < t->n; i++) {
		const struct lab_pkt *p = &t->v[i], *next = &t->v[i + 1];

		if (p->src.s_addr == client.s_addr && p->len)
			last_data = p->t_us;
		if (p->src.s_addr != client.s_addr && !p->len && last_data >= 0 &&
		    p->t_us - last_data >= 30000 && next->src.s_addr == client.s_addr &&
		    next->len && next->t_us - p->t_us < 2000)
			n++;
	}
	return n;
}

static void judge(struct lab_run *run)
{
	const struct how *expect = run->expect_as->how;
	long n = lab_param(run, "requests");
	int64_t *lat = calloc((size_t)n, sizeof(*lat)), stalled = 0, p50, p90, releases,
		delayed_acks;
	struct lab_window w;
	size_t got = 0, i;
	const struct lab_event *ev;

	if (!lat)
		abort();
	/* request 0 runs in quick-ACK mode (connection start): the steady state is 1..n-1 */
	for (i = 1; (ev = lab_run_event(run, "client", "request", i)); i++)
		lat[got++] = ev->ret;
	LAB_IF_OURS(run, "client", "request latencies (the client's own timing)")
	{
		lab_expect_int(&run->ex, "requests completed", LAB_EQ, n,
			       (int64_t)lab_run_count_calls(run, "client", "request", NULL));
		p50 = lab_percentile(lat, got, 0.5);
		p90 = lab_percentile(lat, got, 0.9);
		for (i = 0; i < got; i++)
			stalled += lat[i] >= 30000;
		if (expect->stall == STALL_NONE) {
			lab_expect_time_le(&run->ex, "p90 latency after request 0, far below",
					   10000, p90);
			lab_expect_int(&run->ex, "requests stalled >= 30 ms", LAB_EQ, 0, stalled);
		} else {
			w = lab_window(stall_us(run, expect->stall), run->scale);
			lab_expect_window(&run->ex,
					  expect->stall == STALL_CORK ?
						  "p50 latency: TCP_CORK ceiling 200 ms + 1 tick" :
						  "p50 latency: TCP_DELACK_MIN 40 ms + 1 tick",
					  &w, p50);
			lab_expect_int(&run->ex, "requests stalled >= 30 ms (of requests 1..n-1)",
				       LAB_GE, (int64_t)got * 8 / 10, stalled);
		}
	}
	/* without our client's reports, the requests it was asked for count */
	if (!lab_run_ours(run, "client"))
		got = (size_t)n - 1;
	releases = late_ack_releases(&run->trace[LAB_CLIENT], lab_addr(LAB_CLIENT_ADDR));
	delayed_acks = lab_run_counter(run, LAB_SERVER, "TcpExtDelayedACKs");
	if (expect->stall == STALL_DELACK) {
		lab_expect_int(&run->ex, "bodies sent only after a late server ACK (pcap)", LAB_GE,
			       (int64_t)got * 8 / 10, releases);
		lab_expect_int(&run->ex, "server TcpExtDelayedACKs delta", LAB_GE,
			       (int64_t)got * 8 / 10, delayed_acks);
	} else {
		lab_expect_int(&run->ex, "bodies sent only after a late server ACK (pcap)", LAB_EQ,
			       0, releases);
		/* one delayed ACK may still fire around the close */
		lab_expect_int(&run->ex, "server TcpExtDelayedACKs delta", LAB_LE, 1, delayed_acks);
	}
	free(lat);
}

const struct lab_scenario lab_sc_nagle_delayed_ack = {
	.name = "nagle-delayed-ack",
	.summary = "write-write-read meets Nagle and delayed ACK: every request stalls ~40 ms",
	.symptom = "A client writes a small header, then a small body, then reads the reply. "
		   "The first request is fast; every later one takes about 40 ms (44 ms at "
		   "HZ=250) although the round trip is a few microseconds.",
	.mechanism =
		"Nagle's algorithm (tcp_nagle_check(), RFC 896) keeps a small segment back "
		"while earlier data is unacknowledged: the body waits for the header's ACK. "
		"The server has read only the header, has nothing to send, and delays its ACK "
		"(tcp_send_delayed_ack(): at least TCP_DELACK_MIN = HZ/25, 40 ms, fired by "
		"tcp_delack_timer one timer-wheel tick late). The connection starts in quick-ACK "
		"mode, so request 0 is fast; once the server has sent data it is in "
		"interactive (pingpong) mode and delays. TcpExtDelayedACKs counts each timer. "
		"TCP_CORK is a different stall: partial frames are held until the cork is "
		"released, at most ~200 ms.",
	.capture =
		"Client side, per request: the header [P.], ~40 ms of silence, the server's bare "
		"ACK [.], then at once the body [P.], then the reply. With TCP_NODELAY, writev() "
		"or TCP_QUICKACK the header and body (or one segment with both) leave without "
		"waiting.",
	.remedy = "Write a request with one call (writev(), or build it in one buffer): no small "
		  "segment waits behind another. Or TCP_NODELAY on the client (what most RPC "
		  "libraries do), or TCP_QUICKACK on the server (re-armed after every read: the "
		  "kernel clears it). TCP_CORK must be released (or use MSG_MORE).",
	.by_hand =
		"ip netns exec srv tcplab-server --ops accept,serve:20:32:16,close\n"
		"ip netns exec cli tcplab-client --connect ADDR:5000 --ops request:20:16:16:16,close\n"
		"ip netns exec srv nstat -az TcpExtDelayedACKs",
	.params = params,
	.n_params = sizeof(params) / sizeof(params[0]),
	.variants = variants,
	.n_variants = sizeof(variants) / sizeof(variants[0]),
	.budget_s = 60,
	.play = play,
	.judge = judge,
};
