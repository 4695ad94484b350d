// SPDX-License-Identifier: MIT
/* lost-final-ack: the closing handshake's last ACK is lost (the prose is in the definition). */
#include "story.h"

struct variant {
	struct lab_variant v;
	bool drop; /* the wire drops the client's final ACK once */
	bool time_wait; /* the client keeps a TIME_WAIT socket (else tcp_max_tw_buckets=0) */
};

static const struct variant variants[] = {
	/* the failure: the final ACK is lost, TIME_WAIT answers the retransmitted FIN */
	{ { "default", "client's final ACK dropped once: LAST_ACK ~200 ms, FIN retransmitted, "
		       "TIME_WAIT re-ACKs" },
	  true,
	  true },
	/* without TIME_WAIT the retransmitted FIN finds no socket: RST */
	{ { "no-timewait", "same loss, client has no TIME_WAIT (tcp_max_tw_buckets=0): the "
			   "retransmitted FIN meets a RST" },
	  true,
	  false },
	/* nothing lost: the close is one round trip */
	{ { "nodrop", "nothing dropped: one FIN each way, LAST_ACK lasts one round trip" },
	  false,
	  true },
};

struct params {
	long drop_ack;
};

static const struct lab_param params[] = {
	LAB_PARAM(struct params, drop_ack, 2, 1, 10, "",
		  "which pure ACK from the client the wire drops (2 = the final ACK: the first "
		  "is the handshake's)"),
};

struct obs {
	int drop; /* impairment index, -1 when nothing is dropped */
	int64_t client_time_wait;
};

/* server-side pcap: from the server's first FIN to the client's first ACK of it, or RST */
static int64_t last_ack_lifetime_us(const struct lab_trace *t)
{
	struct in_addr server = lab_host_addr(LAB_SERVER);
	const struct lab_pkt *fin = NULL;
	size_t i;

	for (i = 0; i < t->n; i++) {
		const struct lab_pkt *p = &t->v[i];

		if (!fin && p->src.s_addr == server.s_addr && (p->flags & LAB_TH_FIN)) {
			fin = p;
			continue;
		}
		if (!fin || p->src.s_addr == server.s_addr)
			continue;
		if ((p->flags & LAB_TH_RST) ||
		    ((p->flags & LAB_TH_ACK) && p->ack == fin->seq + fin->len + 1))
			return p->t_us - fin->t_us;
	}
	return -1;
}

static int play(struct lab_run *run, const struct variant *v, const struct params *p,
		struct obs *obs)
{
	struct lab_socks socks = LAB_SOCKS_INIT;

	if (!v->time_wait)
		lab_sysctl(run, LAB_CLIENT, "net.ipv4.tcp_max_tw_buckets", 0);
	/* the client's pure ACKs: the handshake's, then the one that acknowledges the server's FIN */
	obs->drop = -1;
	if (v->drop)
		obs->drop = lab_impair(run, "drop,dir=c2s,flags=A,len=0,nth=%ld", p->drop_ack);
	/*
	 * The client closes its half first and waits for the server's FIN (an orphaned socket
	 * would give FIN_WAIT_2 to a TIME_WAIT-like socket early, and with tcp_max_tw_buckets=0 die
	 * before the server's FIN if the server ACKs the client's FIN on its own); the server
	 * reads EOF and closes: LAST_ACK.
	 */
	lab_server(run, NULL, "accept,recv,close");
	lab_client(run, "shutdown:wr,recv,close");
	lab_finish_all(run);
	/* what the server holds now (LAST_ACK if the ACK was lost) */
	lab_states(run, LAB_SERVER, &socks);
	lab_socks_free(&socks);
	/* LAST_ACK ends when the (re-sent) ACK or a RST arrives */
	lab_wait_settled(run, LAB_SERVER);
	lab_states(run, LAB_CLIENT, &socks);
	obs->client_time_wait = lab_socks_count(&socks, LAB_PORT, TCP_TIME_WAIT);
	lab_socks_free(&socks);
	return lab_status(run);
}

static void judge(struct lab_run *run, const struct variant *expect, const struct params *p,
		  const struct obs *obs)
{
	struct lab_window rto =
		lab_window_us(run, lab_timer_us(run, LAB_TCP_RTO_MIN) + lab_tick_us(run));
	int64_t dropped = lab_impaired(run, obs->drop).dropped;
	int64_t last_ack_us = last_ack_lifetime_us(lab_capture(run, LAB_SERVER));
	bool rst = expect->drop && !expect->time_wait;

	lab_expect_count(run, "packets the wire dropped (nftables counter)", LAB_EQ, expect->drop,
			 dropped < 0 ? 0 : dropped);
	lab_expect_count(run, "FINs from the server (server-side pcap)", LAB_EQ,
			 expect->drop ? 2 : 1,
			 lab_packets(run, LAB_SERVER, LAB_SERVER, LAB_TH_FIN));
	if (expect->drop)
		lab_expect_within(run, "LAST_ACK lifetime: TCP_RTO_MIN 200 ms + 1 tick", &rto,
				  last_ack_us);
	else
		lab_expect_at_most(run, "LAST_ACK lifetime: one round trip", 20000, last_ack_us);
	lab_expect_count(run, "RST from the client (server-side pcap)", LAB_EQ, rst,
			 lab_packets(run, LAB_SERVER, LAB_CLIENT, LAB_TH_RST));
	lab_expect_state(run, "client sockets in TIME_WAIT (inet_diag)", expect->time_wait,
			 obs->client_time_wait);
	lab_expect_counter(run, LAB_CLIENT, "TcpExtTCPTimeWaitOverflow", LAB_EQ,
			   !expect->time_wait);
}

LAB_SCENARIO(
	lost_final_ack, struct variant, variants, struct params, params, struct obs,
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
	.seen_on = "6.18", .budget_s = 10, .timing = true);
