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
	{ { "default",
	    "client's final ACK dropped once: LAST_ACK ~200 ms, FIN retransmitted, "
	    "TIME_WAIT re-ACKs",
	    "The handshake [S] [S.] [.]; the client's [F.] (its shutdown()), the server's [F.] "
	    "that also ACKs it, and the client's final [.], which is in the client's capture only "
	    "(marked lost); the same [F.] again ~204 ms later (the loss probe, marked "
	    "retransmission; with fin_acks_lost=N, N - 1 more re-sends ~200, 400, 800 ms "
	    "apart), answered by the client's TIME_WAIT with [.]." },
	  true,
	  true },
	/* without TIME_WAIT the retransmitted FIN finds no socket: RST */
	{ { "no-timewait",
	    "same loss, client has no TIME_WAIT (tcp_max_tw_buckets=0): the "
	    "retransmitted FIN meets a RST",
	    "The handshake [S] [S.] [.]; the client's [F.], the server's [F.] that also ACKs it, "
	    "and the client's final [.], lost; the same [F.] again ~204 ms later (the "
	    "loss probe) meets [R] from the client, which kept no TIME_WAIT socket." },
	  true,
	  false },
	/* nothing lost: the close is one round trip */
	{ { "nodrop", "nothing dropped: one FIN each way, LAST_ACK lasts one round trip",
	    "The handshake [S] [S.] [.]; the client's [F.], the server's [F.] that also ACKs "
	    "it, the client's final [.] at once: LAST_ACK lasts one round trip." },
	  false,
	  true },
};

struct params {
	long fin_acks_lost;
};

static const struct lab_param params[] = {
	LAB_PARAM(struct params, fin_acks_lost, 1, 1, 4, "",
		  "how many of the client's ACKs of the server's FIN the wire drops in a row "
		  "(default: each re-sent FIN is answered from TIME_WAIT; no-timewait: the first "
		  "re-sent FIN meets a RST, so only one ACK exists to drop)"),
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
	/*
	 * By its role, not its place among the client's packets: the client's packets that
	 * acknowledge the server's FIN (its seq + 1), the first and those answering each re-sent
	 * FIN. Whatever the client sent before (a user's client may send data, or ACK the
	 * server's data with pure ACKs of the same shape), only these are dropped.
	 */
	obs->drop = -1;
	if (v->drop)
		obs->drop = lab_impair(run, "drop,role=fin-ack,count=%ld", p->fin_acks_lost);
	/*
	 * The client closes its half first and waits for the server's FIN (an orphaned socket
	 * would give FIN_WAIT_2 to a TIME_WAIT-like socket early, and with tcp_max_tw_buckets=0 die
	 * before the server's FIN if the server ACKs the client's FIN on its own); the server
	 * reads EOF and closes: LAST_ACK.
	 */
	const char *hold = lab_hold(run, LAB_PROG_SERVER, "last-ack");

	lab_server(run, NULL, "accept,recv,%sclose", v->drop ? hold : "");
	lab_client(run, "shutdown:wr,recv,close");
	/*
	 * LAST_ACK lasts ~200 ms when the ACK is lost (until the FIN is re-sent): a run that stops
	 * or changes the wire there holds the server before its close() (a pause elsewhere must
	 * not let the moment pass), lets it close, and waits for LAST_ACK
	 */
	if (v->drop && *hold) {
		lab_wait_calls(run, LAB_PROG_SERVER, "recv", 1);
		lab_go(run, LAB_PROG_SERVER);
		lab_wait_state(run, LAB_SERVER, TCP_LAST_ACK);
	}
	if (v->drop)
		lab_pause(
			run, "last-ack",
			"the server closed and waits in LAST_ACK for the ACK of its FIN, which "
			"the wire dropped; the kernel's retransmission timer runs on (the FIN goes "
			"again ~200 ms after it was sent, while you look)");
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

/*
 * How long LAST_ACK lasts when @lost ACKs of the server's FIN are dropped: the first re-send
 * is a tail loss probe (tcp_schedule_loss_probe(): PTO = 2 SRTT + tcp_rto_min with one packet
 * out; SRTT is microseconds here, so one tick), each later one the retransmission timer
 * (RTO = SRTT + max(RTTVAR, tcp_rto_min), doubled per timeout). Each timer fires at the end of
 * its timer-wheel granule: the sum of the fired times, +- the usual tolerance.
 */
static struct lab_window last_ack_window(struct lab_run *run, long lost)
{
	int64_t tick = lab_tick_us(run), rto = lab_timer_us(run, LAB_TCP_RTO_MIN) + tick;
	int64_t sum = lab_timer_window(run, rto).expected_us;
	long i;

	for (i = 1; i < lost; i++)
		sum += lab_timer_window(run, rto << (i - 1)).expected_us;
	return lab_window_us(run, sum);
}

static void judge(struct lab_run *run, const struct variant *expect, const struct params *p,
		  const struct obs *obs)
{
	long lost = !expect->drop ? 0 : expect->time_wait ? p->fin_acks_lost : 1;
	struct lab_window window = last_ack_window(run, lost);
	int64_t dropped = lab_impaired(run, obs->drop).dropped;
	int64_t last_ack_us = last_ack_lifetime_us(lab_capture(run, LAB_SERVER));
	bool rst = expect->drop && !expect->time_wait;

	lab_expect_count(run, "ACKs of the FIN dropped (the wire's count)", LAB_EQ, lost,
			 dropped < 0 ? 0 : dropped);
	lab_expect_count(run, "FINs from the server (server-side pcap)", LAB_EQ, 1 + lost,
			 lab_packets(run, LAB_SERVER, LAB_SERVER, LAB_TH_FIN));
	/* the mechanism: the first re-send is a loss probe, the later ones RTO timeouts */
	lab_expect_counter(run, LAB_SERVER, "TcpExtTCPLossProbes", LAB_EQ, lost > 0);
	lab_expect_counter(run, LAB_SERVER, "TcpExtTCPTimeouts", LAB_EQ, lost > 1 ? lost - 1 : 0);
	if (lost)
		lab_expect_within(run,
				  lost == 1 ? "LAST_ACK lifetime: loss probe (2 SRTT + 200 ms)" :
					      "LAST_ACK lifetime: loss probe, then RTO doubling",
				  &window, last_ack_us);
	else
		lab_expect_at_most(run, "LAST_ACK lifetime: one round trip, far below a probe",
				   100000, last_ack_us);
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
		     "LAST_ACK, re-sends its FIN as a tail loss probe (tcp_schedule_loss_probe(): "
		     "PTO = 2 SRTT + tcp_rto_min_us, 200 ms by default, with one packet out; "
		     "TcpExtTCPLossProbes +1, TcpExtTCPTimeouts +0), not from the retransmission "
		     "timer. If the ACK of that probe is lost too, the retransmission timer "
		     "takes over (tcp_retransmit_timer(): RTO at least SRTT + 200 ms, doubled each "
		     "time; TcpExtTCPTimeouts +1 each). The TIME_WAIT socket "
		     "(tcp_timewait_state_process()) answers each duplicate FIN with another ACK "
		     "and the passive side closes. With "
		     "net.ipv4.tcp_max_tw_buckets=0 no TIME_WAIT socket is created "
		     "(TcpExtTCPTimeWaitOverflow); the retransmitted FIN finds no socket and "
		     "tcp_v4_send_reset() answers it.",
	.remedy = "Nothing to fix in the application: TIME_WAIT is the remedy. Keep "
		  "tcp_max_tw_buckets high enough for the connection rate; prefer "
		  "tcp_tw_reuse over disabling TIME_WAIT; let the side that closes first own the "
		  "TIME_WAIT (usually the client).",
	.seen_on = "6.18; 6.12 and 6.1 in qemu TCG (timings shown there, not judged)",
	.budget_s = 10, .timing = true);
