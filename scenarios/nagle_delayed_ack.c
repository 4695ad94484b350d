// SPDX-License-Identifier: MIT
/* nagle-delayed-ack: write-write-read stalls for the delayed-ACK timeout (the prose is below). */
#include <stdlib.h>

#include "story.h"

struct variant {
	struct lab_variant v;
	bool nodelay; /* TCP_NODELAY on the client */
	bool cork; /* TCP_CORK on the client, never released */
	bool writev; /* one writev() of header and body instead of two writes */
	bool quickack; /* the server re-arms TCP_QUICKACK after every recv() */
	/* documented outcome: what each request after the first waits for (NULL: nothing) */
	const char *stall; /* the label of its p50 window */
	enum lab_ktimer stall_timer; /* the kernel's constant behind it, fired one tick late */
	bool delayed_acks; /* the server's delayed-ACK timer releases every body */
};

static const struct variant variants[] = {
	/* the bug: write, write, read with Nagle on and delayed ACKs on the server */
	{ .v = { "default", "write-write-read: each request waits for the server's delayed ACK",
		 "After the handshake [S] [S.] [.], per request: the header [P.], ~40 ms of "
		 "silence (from the second request on: the first runs in quick-ACK mode), the "
		 "server's bare ACK [.], then at once the body [P.], then the reply [P.]. [F.] "
		 "from both sides at the end." },
	  .stall = "p50 latency: TCP_DELACK_MIN 40 ms + 1 tick",
	  .stall_timer = LAB_TCP_DELACK_MIN,
	  .delayed_acks = true },
	/* remedy: Nagle off on the client */
	{ .v = { "nodelay", "TCP_NODELAY on the client: the body leaves at once",
		 "After the handshake [S] [S.] [.], per request: header and body as two [P.] "
		 "segments at once, the reply [P.] right after, ACKs [.]; [F.] from both sides "
		 "at the end. No silence anywhere." },
	  .nodelay = true },
	/* remedy: one writev() of header and body: nothing small is left behind */
	{ .v = { "writev", "header and body in one writev(): one segment, no stall",
		 "After the handshake [S] [S.] [.], per request: header and body in one [P.] "
		 "segment, the reply [P.] right after, ACKs [.]; [F.] from both sides at the "
		 "end." },
	  .writev = true },
	/* remedy on the other side: the server ACKs at once */
	{ .v = { "quickack", "TCP_QUICKACK re-armed after every recv() on the server",
		 "After the handshake [S] [S.] [.], per request: the header [P.], the server's "
		 "ACK [.] at once, the body [P.], the reply [P.]; [F.] from both sides at the "
		 "end." },
	  .quickack = true },
	/* a different stall: TCP_CORK never released holds the data for the cork ceiling */
	{ .v = { "cork", "TCP_CORK set and never released: each request waits ~200 ms",
		 "After the handshake [S] [S.] [.], per request: ~200 ms of silence, then "
		 "header and body together in one [P.] segment (sent by the probe timer), the "
		 "reply [P.], ACKs [.]; [F.] from both sides at the end." },
	  .cork = true,
	  .stall = "p50 latency: probe timer, at least TCP_RTO_MIN 200 ms",
	  .stall_timer = LAB_TCP_RTO_MIN },
};

struct params {
	long requests, header_bytes, body_bytes, reply_bytes;
};

static const struct lab_param params[] = {
	LAB_PARAM(struct params, requests, 20, 3, 200, "requests",
		  "request/response rounds on one connection"),
	LAB_PARAM(struct params, header_bytes, 16, 1, 1000, "bytes", "first write of each request"),
	LAB_PARAM(struct params, body_bytes, 16, 1, 1000, "bytes", "second write of each request"),
	LAB_PARAM(struct params, reply_bytes, 16, 1, 1000, "bytes", "the server's reply"),
};

/*
 * The cork (and writev) send the whole request as one segment only while it is smaller than
 * one: a full MSS leaves at once (and under the cork the rest waits max(RTO, 200 ms), with an
 * RTT sample in the RTO).
 */
static bool precondition(const struct lab_run *run, const struct variant *v, const struct params *p,
			 char *why, size_t len)
{
	if (!(v->cork || v->writev) || p->header_bytes + p->body_bytes < 1448)
		return true;
	snprintf(why, len,
		 "header_bytes + body_bytes = %ld is one MSS (1448) or more: the request cannot "
		 "leave as one segment; use less than 1448 in all",
		 p->header_bytes + p->body_bytes);
	return false;
}

/* judge() reads the programs' reports and the captures; play() measures nothing itself */
struct obs {
	int unused;
};

static int play(struct lab_run *run, const struct variant *v, const struct params *p,
		struct obs *obs)
{
	lab_server(run, NULL, "accept,serve:%ld:%ld:%ld:%d,close", p->requests,
		   p->header_bytes + p->body_bytes, p->reply_bytes, v->quickack);
	lab_client(run, "%s%srequest:%ld:%ld:%ld:%ld:%d,close", v->nodelay ? "nodelay," : "",
		   v->cork ? "cork," : "", p->requests, p->header_bytes, p->body_bytes,
		   p->reply_bytes, v->writev);
	/*
	 * Not a hold: a client stopped between requests would meet a server back in quick-ACK
	 * mode (tcp_event_data_recv(): a gap longer than the RTO), and its next request would
	 * not stall. So the programs run on; the capture so far shows the stall.
	 */
	if (lab_moment_wanted(run, "stalling") && lab_ours(run, LAB_PROG_CLIENT))
		lab_wait_calls(run, LAB_PROG_CLIENT, "request", 2);
	lab_pause(run, "stalling",
		  "two requests done: the first in the server's quick-ACK mode, the second's "
		  "body held by Nagle until the delayed ACK (tshark: the body leaves ~40 ms after "
		  "the header); the programs run on while you look");
	lab_finish_all(run);
	return lab_status(run);
}

/*
 * How each request's body left (client-side pcap; a request's header starts at relative
 * sequence 1 + k x (header + body), its body header_bytes later): what tells the variants apart.
 */
struct shapes {
	int64_t merged; /* header and body in one segment */
	int64_t back_to_back; /* the body right behind its header, before any server packet */
	int64_t prompt_ack; /* the body right after a server ACK < 5 ms after the header */
	int64_t late_ack; /* the body right after a server ACK >= 30 ms after the header */
};

static struct shapes request_shapes(const struct lab_run *run, const struct params *p)
{
	const struct lab_trace *t = lab_capture(run, LAB_CLIENT);
	struct in_addr client = lab_host_addr(LAB_CLIENT);
	uint32_t req = (uint32_t)(p->header_bytes + p->body_bytes);
	struct shapes s = { 0 };
	int64_t header_us = -1;
	size_t i;

	for (i = 1; i < t->n; i++) {
		const struct lab_pkt *k = &t->v[i], *prev = &t->v[i - 1];
		uint32_t off = (k->rseq - 1) % req;

		if (k->src.s_addr != client.s_addr || !k->len || k->retrans)
			continue;
		if (!off) {
			header_us = k->t_us;
			s.merged += k->len >= req;
			continue;
		}
		if (off != (uint32_t)p->header_bytes || header_us < 0)
			continue;
		if (prev->src.s_addr == client.s_addr)
			s.back_to_back++;
		else if (!prev->len && prev->t_us - header_us < 5000)
			s.prompt_ack++;
		else if (!prev->len && prev->t_us - header_us >= 30000)
			s.late_ack++;
	}
	return s;
}

/* client data segments of @len bytes sent >= 30 ms after anything else on the connection */
static int64_t corked_releases(const struct lab_run *run, long len)
{
	const struct lab_trace *t = lab_capture(run, LAB_CLIENT);
	struct in_addr client = lab_host_addr(LAB_CLIENT);
	int64_t n = 0;
	size_t i;

	for (i = 1; i < t->n; i++)
		n += t->v[i].src.s_addr == client.s_addr && t->v[i].len == (uint32_t)len &&
		     t->v[i].t_us - t->v[i - 1].t_us >= 30000;
	return n;
}

/*
 * The client's own timing of requests 1..n-1 (request 0 runs in quick-ACK mode, at connection
 * start), as a series: how many it timed.
 */
static size_t judge_latencies(struct lab_run *run, const struct variant *expect,
			      const struct params *p)
{
	int64_t *lat, stalled = 0;
	struct lab_window w;
	size_t got = lab_series(run, LAB_PROG_CLIENT, "request", 1, "request latency", &lat), i;

	for (i = 0; i < got; i++)
		stalled += lat[i] >= 30000;
	lab_expect_count(run, "requests completed", LAB_EQ, p->requests,
			 lab_count_calls(run, LAB_PROG_CLIENT, "request", NULL));
	if (expect->stall) {
		w = lab_window_us(run, lab_timer_us(run, expect->stall_timer) + lab_tick_us(run));
		lab_expect_within(run, expect->stall, &w, lab_percentile(lat, got, 0.5));
		lab_expect_on_series(run);
		lab_expect_count(run, "requests stalled >= 30 ms (of requests 1..n-1)", LAB_GE,
				 got * 8 / 10, stalled);
		lab_expect_timed(run); /* a count of times: a loaded machine moves it */
	} else {
		lab_expect_at_most(run, "p90 latency after request 0, far below", 10000,
				   lab_percentile(lat, got, 0.9));
		lab_expect_count(run, "requests stalled >= 30 ms", LAB_EQ, 0, stalled);
		lab_expect_timed(run);
	}
	free(lat);
	return got;
}

static void judge(struct lab_run *run, const struct variant *expect, const struct params *p,
		  const struct obs *obs)
{
	/* the steady-state requests: those our client timed, else those it was asked for */
	size_t steady = p->requests - 1;

	if (lab_needs(run, LAB_PROG_CLIENT, "request latencies (the client's own timing)"))
		steady = judge_latencies(run, expect, p);
	struct shapes shape = request_shapes(run, p);
	int64_t most = (int64_t)steady * 8 / 10;

	if (expect->delayed_acks) {
		lab_expect_count(run, "bodies sent only after a late server ACK (pcap)", LAB_GE,
				 most, shape.late_ack);
		lab_expect_counter(run, LAB_SERVER, "TcpExtDelayedACKs", LAB_GE, most);
	} else {
		lab_expect_count(run, "bodies sent only after a late server ACK (pcap)", LAB_EQ, 0,
				 shape.late_ack);
		/* one delayed ACK may still fire around the close */
		lab_expect_counter(run, LAB_SERVER, "TcpExtDelayedACKs", LAB_LE, 1);
	}
	/*
	 * the cork: the probe timer sends header and body as one segment, after >= 30 ms of
	 * silence and with no server ACK before it (no counter marks it: TcpExtTCPWinProbe only
	 * counts empty window probes)
	 */
	if (expect->cork)
		lab_expect_count(run, "header + body as one segment after a silence (pcap)", LAB_GE,
				 most, corked_releases(run, p->header_bytes + p->body_bytes));
	/* how each remedy shows on the wire */
	if (expect->nodelay)
		lab_expect_count(run, "bodies right behind their header (pcap)", LAB_GE, most,
				 shape.back_to_back);
	if (expect->writev)
		lab_expect_count(run, "header + body as one segment (pcap)", LAB_GE, most,
				 shape.merged);
	if (expect->quickack)
		lab_expect_count(run, "bodies right after a prompt server ACK (pcap)", LAB_GE, most,
				 shape.prompt_ack);
}

LAB_PRECONDITION(nagle_delayed_ack, struct variant, struct params)

LAB_SCENARIO(
	nagle_delayed_ack, struct variant, variants, struct params, params, struct obs,
	.name = "nagle-delayed-ack",
	.summary = "write-write-read meets Nagle and delayed ACK: every request stalls ~40 ms",
	.symptom = "A client writes a small header, then a small body, then reads the reply. "
		   "The first request is fast; every later one takes about 40 ms (44 ms at "
		   "HZ=250) although the round trip is a few microseconds.",
	.mechanism =
		"Nagle's algorithm (RFC 896; Linux uses Minshall's variant: tcp_nagle_check() -> "
		"tcp_minshall_check()) keeps a small segment back while an earlier small "
		"segment is unacknowledged: the body waits for the header's ACK. "
		"The server has read only the header, has nothing to send, and delays its ACK "
		"(tcp_send_delayed_ack(): at least TCP_DELACK_MIN = HZ/25, 40 ms, fired by "
		"tcp_delack_timer one timer-wheel tick late). The connection starts in quick-ACK "
		"mode, so request 0 is fast; once the server has sent data it is in "
		"interactive (pingpong) mode and delays. TcpExtDelayedACKs counts each timer. "
		"TCP_CORK is a different stall: partial frames are held until the cork is "
		"released or the probe timer fires (tcp_check_probe_timer(): "
		"tcp_probe0_base() = max(RTO, TCP_RTO_MIN), so at least 200 ms); "
		"tcp_write_wakeup() then sends header and body as one segment.",
	.remedy = "Write a request with one call (writev(), or build it in one buffer): no small "
		  "segment waits behind another. Or TCP_NODELAY on the client (what most RPC "
		  "libraries do), or TCP_QUICKACK on the server (re-armed after every read: the "
		  "kernel clears it). TCP_CORK must be released (or use MSG_MORE).",
	.seen_on = "6.18; 6.12 and 6.1 in qemu TCG (timings shown there, not judged)",
	.budget_s = 60, .timing = true, .check = nagle_delayed_ack_check);
