// SPDX-License-Identifier: MIT
/*
 * lost-final-ack: the last ACK of the closing handshake is lost.
 *
 * The client closes first (FIN_WAIT_1/2), the server reads EOF and closes (LAST_ACK). The wire
 * drops the client's ACK of the server's FIN once. The server keeps LAST_ACK, retransmits its FIN
 * after the retransmission timeout (TCP_RTO_MIN, 200 ms, one tick late); the client, in
 * TIME_WAIT, ACKs it again and the server closes cleanly. TIME_WAIT exists for exactly this.
 * Contrast: a client namespace with tcp_max_tw_buckets=0 has no TIME_WAIT socket to answer the
 * retransmitted FIN: it meets a RST (TcpExtTCPTimeWaitOverflow counts the missing socket).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "scenario.h"
#include "tcpdiag.h"
#include "timing.h"

struct how {
	bool drop; /* the wire drops the client's final ACK once */
	bool time_wait; /* the client keeps a TIME_WAIT socket */
};

static const struct lab_variant variants[] = {
	/* the failure: the final ACK is lost, TIME_WAIT answers the retransmitted FIN */
	{ "default",
	  "client's final ACK dropped once: LAST_ACK ~200 ms, FIN retransmitted, "
	  "TIME_WAIT re-ACKs",
	  &(struct how){ true, true } },
	/* without TIME_WAIT the retransmitted FIN finds no socket: RST */
	{ "no-timewait",
	  "same loss, client has no TIME_WAIT (tcp_max_tw_buckets=0): the "
	  "retransmitted FIN meets a RST",
	  &(struct how){ true, false } },
	/* nothing lost: the close is one round trip */
	{ "nodrop", "nothing dropped: one FIN each way, LAST_ACK lasts one round trip",
	  &(struct how){ false, true } },
};

static const struct lab_param params[] = {
	{ "drop_ack", 2, 1, 10, "",
	  "which pure ACK from the client the wire drops (2 = the "
	  "final ACK: the first is the handshake's)" },
};

struct obs {
	int drop; /* impairment index */
	size_t client_time_wait;
	int64_t last_ack_us; /* server-side pcap: its first FIN to the client's answer */
	bool answered_by_rst;
};

/* server-side pcap: from the server's first FIN to the client's first ACK of it, or RST */
static void last_ack_lifetime(const struct lab_trace *t, struct obs *obs)
{
	struct in_addr server = lab_addr(LAB_SERVER_ADDR);
	const struct lab_pkt *fin = NULL;
	size_t i;

	obs->last_ack_us = -1;
	for (i = 0; i < t->n; i++) {
		const struct lab_pkt *p = &t->v[i];

		if (!fin && p->src.s_addr == server.s_addr && (p->flags & LAB_TH_FIN)) {
			fin = p;
			continue;
		}
		if (!fin || p->src.s_addr == server.s_addr)
			continue;
		if ((p->flags & LAB_TH_RST) ||
		    ((p->flags & LAB_TH_ACK) && p->ack == fin->seq + fin->len + 1)) {
			obs->last_ack_us = p->t_us - fin->t_us;
			obs->answered_by_rst = p->flags & LAB_TH_RST;
			return;
		}
	}
}

static int play(struct lab_run *run)
{
	const struct how *how = run->variant->how;
	struct lab_socks socks = LAB_SOCKS_INIT;
	struct obs *obs = calloc(1, sizeof(*obs));
	int err = 0;

	if (!obs)
		return -ENOMEM;
	run->obs = obs;
	obs->drop = -1;
	if (!how->time_wait)
		err = lab_topo_sysctl(&run->topo, LAB_CLIENT, "net/ipv4/tcp_max_tw_buckets", "0");
	if (err)
		return lab_run_error(run, err, "cannot set tcp_max_tw_buckets");
	/* the client's pure ACKs: the handshake's, then the one that acknowledges the server's FIN */
	if (how->drop) {
		obs->drop = lab_run_impair(run, "drop,dir=c2s,flags=A,len=0,nth=%ld",
					   lab_param(run, "drop_ack"));
		if (obs->drop < 0)
			return obs->drop;
	}
	/*
	 * The client closes its half first and waits for the server's FIN (an orphaned socket
	 * would give FIN_WAIT_2 to a TIME_WAIT-like socket early, and with tcp_max_tw_buckets=0 die
	 * before the server's FIN if the server ACKs the client's FIN on its own); the server
	 * reads EOF and closes: LAST_ACK.
	 */
	err = lab_run_pair(run, "accept,recv,close", "shutdown:wr,recv,close", 0);
	if (!err) /* what the server holds now (LAST_ACK if the ACK was lost) */
		err = lab_run_states(run, LAB_SERVER, &socks);
	lab_socks_free(&socks);
	/* LAST_ACK ends when the (re-sent) ACK or a RST arrives */
	if (!err && lab_tcpdiag_wait_settled(&run->topo.ns[LAB_SERVER], LAB_PORT, run->deadline_us))
		err = lab_run_error(run, -ETIMEDOUT, "the server never left LAST_ACK");
	if (!err)
		err = lab_run_states(run, LAB_CLIENT, &socks);
	obs->client_time_wait = lab_socks_count(&socks, LAB_PORT, TCP_TIME_WAIT);
	lab_socks_free(&socks);
	return err;
}

static void judge(struct lab_run *run)
{
	const struct how *expect = run->expect_as->how;
	struct obs *obs = run->obs;
	const struct lab_trace *at_server = &run->trace[LAB_SERVER];
	struct in_addr server = lab_addr(LAB_SERVER_ADDR), client = lab_addr(LAB_CLIENT_ADDR);
	int hz = run->kernel.hz ? run->kernel.hz : 1000;
	struct lab_window rto = lab_window(200000 + 1000000 / hz, run->scale);
	bool rst = expect->drop && !expect->time_wait;

	last_ack_lifetime(at_server, obs);
	lab_expect_int(&run->ex, "packets the wire dropped (nftables counter)", LAB_EQ,
		       expect->drop,
		       lab_run_wire(run, obs->drop)->dropped < 0 ?
			       0 :
			       lab_run_wire(run, obs->drop)->dropped);
	lab_expect_int(&run->ex, "FINs from the server (server-side pcap)", LAB_EQ,
		       expect->drop ? 2 : 1,
		       (int64_t)lab_trace_count(at_server, server, LAB_TH_FIN, false));
	if (expect->drop)
		lab_expect_window(&run->ex, "LAST_ACK lifetime: TCP_RTO_MIN 200 ms + 1 tick", &rto,
				  obs->last_ack_us);
	else
		lab_expect_time_le(&run->ex, "LAST_ACK lifetime: one round trip", 20000,
				   obs->last_ack_us);
	lab_expect_int(&run->ex, "RST from the client (server-side pcap)", LAB_EQ, rst,
		       (int64_t)lab_trace_count(at_server, client, LAB_TH_RST, false));
	lab_expect_int(&run->ex, "client sockets in TIME_WAIT (inet_diag)", LAB_EQ,
		       expect->time_wait, (int64_t)obs->client_time_wait);
	lab_expect_int(&run->ex, "client TcpExtTCPTimeWaitOverflow delta", LAB_EQ,
		       !expect->time_wait,
		       lab_run_counter(run, LAB_CLIENT, "TcpExtTCPTimeWaitOverflow"));
}

const struct lab_scenario lab_sc_lost_final_ack = {
	.name = "lost-final-ack",
	.summary = "the closing handshake's last ACK is lost: LAST_ACK, FIN retransmission, "
		   "TIME_WAIT answers",
	.symptom = "After close() the server's socket lingers in LAST_ACK for a fraction of a "
		   "second and the capture shows its FIN twice. Without TIME_WAIT on the client "
		   "(tcp_max_tw_buckets exhausted, or tw_recycle-style tricks), the second FIN is "
		   "answered with a RST and the server logs a reset on a connection it had "
		   "already closed.",
	.mechanism = "The active closer sends FIN, gets the peer's FIN, ACKs it and enters "
		     "TIME_WAIT (tcp_time_wait()). If that ACK is lost the passive closer, in "
		     "LAST_ACK, retransmits its FIN when the retransmission timer fires "
		     "(tcp_retransmit_timer(), RTO floored at TCP_RTO_MIN = 200 ms). The "
		     "TIME_WAIT socket (tcp_timewait_state_process()) answers the duplicate FIN "
		     "with another ACK and the passive side closes. With "
		     "net.ipv4.tcp_max_tw_buckets=0 no TIME_WAIT socket is created "
		     "(TcpExtTCPTimeWaitOverflow); the retransmitted FIN finds no socket and "
		     "tcp_v4_send_reset() answers it.",
	.capture = "Server side: [F.] from the server, no ACK back, the same [F.] again ~204 ms "
		   "later (marked retransmission), then the client's [.] (default) or [R] "
		   "(no-timewait). Client side: the client's first final [.] is there but is "
		   "marked lost: it left the client and never reached the server.",
	.remedy = "Nothing to fix in the application: TIME_WAIT is the remedy. Keep "
		  "tcp_max_tw_buckets high enough for the connection rate; prefer "
		  "tcp_tw_reuse over disabling TIME_WAIT; let the side that closes first own the "
		  "TIME_WAIT (usually the client).",
	.by_hand =
		"tcplab run lost-final-ack --variant no-timewait   (or build the network and "
		"in the middle namespace:)\n"
		"nft add table inet t; nft add chain inet t f '{ type filter hook forward "
		"priority -10; }'\n"
		"nft add rule inet t f iifname w0 tcp flags \\& '(fin|syn|rst|psh|ack|urg)' == "
		"ack ip length 52 numgen inc mod 1000 == 1 drop\n"
		"ip netns exec srv tcplab-server --listen 0.0.0.0:5000 --ops accept,recv,close\n"
		"ip netns exec cli tcplab-client --connect 198.51.100.1:5000 --ops shutdown:wr,recv,close\n"
		"watch -n 0.1 ip netns exec srv ss -tan state last-ack",
	.params = params,
	.n_params = sizeof(params) / sizeof(params[0]),
	.variants = variants,
	.n_variants = sizeof(variants) / sizeof(variants[0]),
	.budget_s = 10,
	.play = play,
	.judge = judge,
};
