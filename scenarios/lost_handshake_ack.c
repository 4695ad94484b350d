// SPDX-License-Identifier: MIT
/*
 * lost-handshake-ack: the third packet of the three-way handshake is lost.
 *
 * The client got the SYN-ACK, so connect() returned and it is ESTABLISHED. The server only has
 * a request socket in SYN_RECV: accept() has nothing to return until the SYN-ACK is
 * retransmitted (TCP_TIMEOUT_INIT, 1 s) and the client ACKs again. Contrast: a client that
 * sends at once completes the handshake with its data segment (it carries the ACK). And a client
 * that stays silent past the server's SYN-ACK retries finds that the server forgot it: its first
 * data segment gets a RST, recv() says ECONNRESET.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "scenario.h"
#include "tcpdiag.h"
#include "timing.h"

enum story { IDLE, DATA_FIRST, PAST_RETRIES };

struct how {
	enum story story;
	const char *client_ops; /* %ld: request bytes */
};

static const struct lab_variant variants[] = {
	/* the failure: the client waits for the server to speak first; accept() is 1 s late */
	{ "default",
	  "handshake ACK lost, client idle: SYN_RECV until the SYN-ACK is "
	  "retransmitted after 1 s; accept() returns late",
	  &(struct how){ IDLE, "wait,send:%ld,recv:%ld" } },
	/* the client talks first: its data carries the ACK that was lost */
	{ "data-first",
	  "same loss, client sends at once: the data segment completes the "
	  "handshake, accept() is immediate",
	  &(struct how){ DATA_FIRST, "send:%ld,recv:%ld" } },
	/* the client stays silent until the server gave up on the request: RST */
	{ "past-retries",
	  "every handshake ACK lost, client silent past tcp_synack_retries: its "
	  "data meets a RST, ECONNRESET",
	  &(struct how){ PAST_RETRIES, "wait,send:%ld,recv:%ld" } },
};

static const struct lab_param params[] = {
	{ "request_bytes", 16, 1, 60000, "bytes", "what the client sends (and gets back)" },
	{ "synack_retries", 1, 0, 3, "", "server net.ipv4.tcp_synack_retries (past-retries)" },
};

struct obs {
	int drop;
	int64_t syn_recv_us; /* past-retries: how long the request socket lived */
};

/* the server forgets the request after 1 + 2 + ... + 2^retries seconds of TCP_TIMEOUT_INIT */
static int64_t request_lifetime_us(long retries)
{
	return ((2L << retries) - 1) * 1000000L;
}

static bool no_syn_recv(const struct lab_socks *s, const void *arg)
{
	return !lab_socks_count(s, LAB_PORT, TCP_SYN_RECV);
}

static int play(struct lab_run *run)
{
	const struct how *how = run->variant->how;
	struct obs *obs = calloc(1, sizeof(*obs));
	long bytes = lab_param(run, "request_bytes"), retries = lab_param(run, "synack_retries");
	char client_ops[64], server_ops[64], value[16];
	int64_t t0, deadline;
	int err;

	if (!obs)
		return -ENOMEM;
	run->obs = obs;
	snprintf(value, sizeof(value), "%ld", retries);
	err = lab_topo_sysctl(&run->topo, LAB_SERVER, "net/ipv4/tcp_synack_retries", value);
	if (err)
		return lab_run_error(run, err, "cannot set tcp_synack_retries");
	/* the client's first pure ACK is the handshake's third packet; past-retries loses them all */
	obs->drop = lab_run_impair(run, how->story == PAST_RETRIES ?
						"blackhole,dir=c2s,flags=A,len=0" :
						"drop,dir=c2s,flags=A,len=0,nth=1");
	if (obs->drop < 0)
		return obs->drop;
	snprintf(server_ops, sizeof(server_ops), "accept,recv:%ld,send:%ld", bytes, bytes);
	snprintf(client_ops, sizeof(client_ops), how->client_ops, bytes, bytes);
	err = lab_run_server(run, server_ops, 0, 0);
	if (!err)
		err = lab_run_client(run, client_ops);
	t0 = lab_mono_us();
	/* the client is ESTABLISHED, the server holds a request socket */
	if (!err && how->story != DATA_FIRST &&
	    lab_tcpdiag_wait(&run->topo.ns[LAB_SERVER], LAB_PORT, TCP_SYN_RECV, run->deadline_us))
		err = lab_run_error(run, -ETIMEDOUT, "the server never showed SYN_RECV");
	if (!err && how->story != DATA_FIRST) {
		struct lab_socks s = LAB_SOCKS_INIT;

		err = lab_run_states(run, LAB_CLIENT, &s);
		lab_socks_free(&s);
		if (!err)
			err = lab_run_states(run, LAB_SERVER, &s);
		lab_socks_free(&s);
	}
	if (!err && how->story == IDLE &&
	    lab_tcpdiag_wait(&run->topo.ns[LAB_SERVER], LAB_PORT, TCP_ESTABLISHED,
			     run->deadline_us))
		err = lab_run_error(run, -ETIMEDOUT, "the server never completed the handshake");
	if (!err && how->story == PAST_RETRIES) {
		/* wait (bounded) for the server to drop the request, then let the client speak */
		deadline = t0 + request_lifetime_us(retries) * 2 + 2000000;
		if (lab_tcpdiag_wait_for(&run->topo.ns[LAB_SERVER], no_syn_recv, NULL, deadline))
			return lab_run_error(run, -ETIMEDOUT, "the server never dropped SYN_RECV");
		obs->syn_recv_us = lab_mono_us() - t0;
		lab_run_note(run, "server", "note", "request socket expired (SYN_RECV gone)");
	}
	if (!err && how->story != DATA_FIRST && lab_proc_go(&run->client))
		err = lab_run_error(run, -EPIPE, "the client is gone before it could send");
	if (!err)
		err = lab_run_finish(run, &run->client);
	if (!err && how->story != PAST_RETRIES)
		err = lab_run_finish(run, &run->server);
	return err;
}

static void judge(struct lab_run *run)
{
	const struct how *expect = run->expect_as->how;
	const struct obs *obs = run->obs;
	const struct lab_trace *at_server = &run->trace[LAB_SERVER];
	struct in_addr server = lab_addr(LAB_SERVER_ADDR), client = lab_addr(LAB_CLIENT_ADDR);
	const struct lab_event *conn = lab_run_event(run, "client", "connect", 0);
	const struct lab_event *acc = lab_run_event(run, "server", "accept", 0);
	static const char *const calls[] = { "connect", "send", "recv", NULL };
	int hz = run->kernel.hz ? run->kernel.hz : 1000;
	long bytes = lab_param(run, "request_bytes"), retries = lab_param(run, "synack_retries");
	struct lab_window w = lab_window(1000000 + 1000000 / hz, run->scale);
	int64_t late = conn && acc && acc->ret >= 0 ? acc->t_us - conn->t_us : -1;
	char want[96], seen[96];

	lab_run_calls(run, "client", calls, seen, sizeof(seen));
	if (expect->story == PAST_RETRIES)
		snprintf(want, sizeof(want), "connect=0 send=%ld recv=ECONNRESET", bytes);
	else
		snprintf(want, sizeof(want), "connect=0 send=%ld recv=%ld", bytes, bytes);
	LAB_IF_OURS(run, "client", "client calls (errno sequence)")
	lab_expect_str(&run->ex, "client calls (errno sequence)", want, seen);
	lab_expect_int(&run->ex, "handshake ACKs the wire dropped",
		       expect->story == PAST_RETRIES ? LAB_GE : LAB_EQ,
		       expect->story == PAST_RETRIES ? retries + 1 : 1,
		       lab_run_wire(run, obs->drop)->dropped);
	switch (expect->story) {
	case IDLE:
		LAB_IF_OURS(run, "client", "accept() after connect()")
		LAB_IF_OURS(run, "server", "accept() after connect()")
		lab_expect_window(&run->ex,
				  "accept() after connect(): TCP_TIMEOUT_INIT 1 s + 1 tick", &w,
				  late);
		lab_expect_int(&run->ex, "SYN-ACKs from the server (server-side pcap)", LAB_EQ, 2,
			       (int64_t)lab_trace_count(at_server, server, LAB_TH_SYN | LAB_TH_ACK,
							false));
		break;
	case DATA_FIRST:
		LAB_IF_OURS(run, "client", "accept() after connect()")
		LAB_IF_OURS(run, "server", "accept() after connect()")
		lab_expect_time_le(&run->ex, "accept() after connect(): no wait", 50000, late);
		lab_expect_int(&run->ex, "SYN-ACKs from the server (server-side pcap)", LAB_EQ, 1,
			       (int64_t)lab_trace_count(at_server, server, LAB_TH_SYN | LAB_TH_ACK,
							false));
		break;
	case PAST_RETRIES:
		w = lab_window(request_lifetime_us(retries), run->scale);
		lab_expect_window(&run->ex, "SYN_RECV lifetime: (2^(retries+1) - 1) x 1 s", &w,
				  obs->syn_recv_us);
		lab_expect_int(&run->ex, "SYN-ACKs from the server (server-side pcap)", LAB_EQ,
			       retries + 1,
			       (int64_t)lab_trace_count(at_server, server, LAB_TH_SYN | LAB_TH_ACK,
							false));
		lab_expect_int(&run->ex, "RST from the server (server-side pcap)", LAB_EQ, 1,
			       (int64_t)lab_trace_count(at_server, server, LAB_TH_RST, false));
		break;
	}
	if (expect->story != PAST_RETRIES)
		lab_expect_int(&run->ex, "RST from either side (server-side pcap)", LAB_EQ, 0,
			       (int64_t)(lab_trace_count(at_server, server, LAB_TH_RST, false) +
					 lab_trace_count(at_server, client, LAB_TH_RST, false)));
}

const struct lab_scenario lab_sc_lost_handshake_ack = {
	.name = "lost-handshake-ack",
	.summary = "the handshake's third packet is lost: connect() succeeded, accept() waits 1 s",
	.symptom = "A client connects (connect() returns 0 at once) and waits for the server's "
		   "greeting; the server's accept() returns only a second later. If the client "
		   "stays silent longer than the server's SYN-ACK retries, its first request is "
		   "answered with a reset: ECONNRESET on a connection that 'was established'.",
	.mechanism = "connect() returns when the client gets the SYN-ACK and sends the ACK "
		     "(tcp_rcv_synsent_state_process()). The server only has a request socket "
		     "(SYN_RECV, in the SYN queue) until an acceptable ACK arrives "
		     "(tcp_check_req()); accept() waits for the child socket in the accept queue. "
		     "The request timer (reqsk_timer_handler()) retransmits the SYN-ACK after "
		     "TCP_TIMEOUT_INIT (1 s), doubling, tcp_synack_retries times, then drops the "
		     "request. Any segment with the ACK bit completes the handshake, so data "
		     "sent at once hides the loss. After the request is gone, the client's data "
		     "reaches the listener, which answers an unexpected ACK with a RST.",
	.capture = "Client side: [S], [S.], the client's [.] marked lost. Server side: [S.] "
		   "again ~1 s later (retransmission), then the client's new [.]; with "
		   "data-first the client's [P.] completes the handshake instead. past-retries: "
		   "SYN-ACKs at 0 and 1 s, silence, then the client's [P.] and the server's [R].",
	.remedy = "Protocols where the server speaks first (SMTP, SSH banners) see this as a "
		  "1 s stall; nothing is broken. Clients that may be silent for long should "
		  "not rely on a handshake that only they consider complete: send first, or "
		  "use TCP_DEFER_ACCEPT/keepalive knowingly. The variants show both.",
	.by_hand = "tcplab run lost-handshake-ack --variant past-retries --set synack_retries=1\n"
		   "in the middle namespace: nft ... iifname w0 tcp flags \\& "
		   "'(fin|syn|rst|psh|ack|urg)' == ack ip length 52 numgen inc mod 1000 == 0 drop\n"
		   "ip netns exec srv tcplab-server --listen 0.0.0.0:5000 --ops "
		   "accept,recv:16,send:16\n"
		   "ip netns exec cli tcplab-client --connect 198.51.100.1:5000 --ops "
		   "wait,send:16,recv:16   (press Enter to send)\n"
		   "ip netns exec srv ss -tan state syn-recv",
	.params = params,
	.n_params = sizeof(params) / sizeof(params[0]),
	.variants = variants,
	.n_variants = sizeof(variants) / sizeof(variants[0]),
	.budget_s = 40,
	.play = play,
	.judge = judge,
};
