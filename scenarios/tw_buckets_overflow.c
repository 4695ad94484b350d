// SPDX-License-Identifier: MIT
/* tw-buckets-overflow: past tcp_max_tw_buckets a closing socket gets no TIME_WAIT at all. */
#include "story.h"

struct variant {
	struct lab_variant v;
	bool enough; /* tcp_max_tw_buckets = connections: every closer gets its TIME_WAIT */
};

static const struct variant variants[] = {
	/* the limit lowered below the number of closes: the rest are dropped, then reset */
	{ { "default", "server closes N connections with fewer TIME_WAIT buckets: the rest vanish",
	    "Per connection: the handshake [S] [S.] [.], the server's [F.] and the client's "
	    "[.]; later the client's [F.]: the server answers the ones it kept with [.] and "
	    "the ones it dropped with [R]." },
	  false },
	/* exactly enough buckets: every closing socket keeps its TIME_WAIT */
	{ { "enough", "tcp_max_tw_buckets = N: every connection keeps its TIME_WAIT",
	    "Per connection: the handshake [S] [S.] [.], the server's [F.] and the client's "
	    "[.], then the client's [F.] and the server's last [.]: no RST." },
	  true },
};

struct params {
	long connections, buckets;
};

static const struct lab_param params[] = {
	LAB_PARAM(struct params, connections, 5, 2, 16, "connections",
		  "connections the server closes first (each would go to TIME_WAIT)"),
	LAB_PARAM(struct params, buckets, 2, 0, 15, "sockets",
		  "net.ipv4.tcp_max_tw_buckets in the server's namespace (default variant; "
		  "fewer than connections); enough sets it to connections"),
};

static bool precondition(const struct lab_run *run, const struct variant *v, const struct params *p,
			 char *why, size_t len)
{
	if (v->enough || p->buckets < p->connections)
		return true;
	snprintf(why, len,
		 "buckets=%ld holds all %ld connections: nothing overflows (use buckets < "
		 "connections, or the enough variant)",
		 p->buckets, p->connections);
	return false;
}

struct obs {
	int64_t fin_wait2; /* the server's sockets after its closes were ACKed */
	int64_t time_wait; /* ... and once the clients closed too */
};

/* every close of the server has been ACKed: nothing left in FIN_WAIT1 or ESTABLISHED */
static bool closes_acked(const struct lab_socks *s, const void *arg)
{
	return !lab_socks_count(s, LAB_PORT, TCP_FIN_WAIT1) &&
	       !lab_socks_count(s, LAB_PORT, TCP_ESTABLISHED);
}

static int play(struct lab_run *run, const struct variant *v, const struct params *p,
		struct obs *obs)
{
	long buckets = v->enough ? p->connections : p->buckets;

	lab_sysctl(run, LAB_SERVER, "net.ipv4.tcp_max_tw_buckets", buckets);
	/* the server closes every connection first; the client keeps its ends open until go */
	lab_server(run, NULL, "closes:%ld", p->connections);
	lab_client(run, "connects:%ld,wait", p->connections - 1);
	lab_finish(run, LAB_PROG_SERVER);
	lab_wait_for(run, LAB_SERVER, closes_acked, NULL, "every close of the server is ACKed");
	obs->fin_wait2 = lab_states_count(run, LAB_SERVER, TCP_FIN_WAIT2);
	lab_pause(run, "server-closed",
		  v->enough ? "the server closed every connection first and its FINs are ACKed: "
			      "each orphan got a timewait socket in FIN_WAIT2 (ss -o: "
			      "timer:(timewait,...)); the client closes its ends next" :
			      "the server closed every connection first and its FINs are ACKed: "
			      "only tcp_max_tw_buckets orphans got a timewait socket in FIN_WAIT2, "
			      "the others were dropped (TcpExtTCPTimeWaitOverflow); the client "
			      "closes its ends next, and the dropped ones answer with RST");
	lab_go(run, LAB_PROG_CLIENT); /* the client closes its ends: FINs to the server */
	lab_finish(run, LAB_PROG_CLIENT);
	lab_wait_settled(run, LAB_CLIENT);
	obs->time_wait = lab_states_count(run, LAB_SERVER, TCP_TIME_WAIT);
	return lab_status(run);
}

static void judge(struct lab_run *run, const struct variant *expect, const struct params *p,
		  const struct obs *obs)
{
	long kept = expect->enough ? p->connections : p->buckets;

	/* how many connections: our server's closes, our client's connects */
	if (!lab_params_of(run, LAB_PROG_SERVER, "connections") ||
	    !lab_params_of(run, LAB_PROG_CLIENT, "connections")) {
		lab_not_applicable(run, "FIN_WAIT2, TIME_WAIT, overflows and RSTs from connections",
				   "your program makes as many connections as it makes");
		return;
	}
	lab_expect_state(run, "server FIN_WAIT2 once its FINs were ACKed (inet_diag)", kept,
			 obs->fin_wait2);
	lab_expect_state(run, "server TIME_WAIT after the clients' FINs (inet_diag)", kept,
			 obs->time_wait);
	lab_expect_counter(run, LAB_SERVER, "TcpExtTCPTimeWaitOverflow", LAB_EQ,
			   p->connections - kept);
	lab_expect_count(run, "RST from the server (client-side pcap)", LAB_EQ,
			 p->connections - kept,
			 lab_packets(run, LAB_CLIENT, LAB_SERVER, LAB_TH_RST));
}

LAB_PRECONDITION(tw_buckets_overflow, struct variant, struct params)

LAB_SCENARIO(
	tw_buckets_overflow, struct variant, variants, struct params, params, struct obs,
	.name = "tw-buckets-overflow",
	.summary = "tcp_max_tw_buckets reached: a closing socket gets no TIME_WAIT (nor "
		   "FIN_WAIT2), TcpExtTCPTimeWaitOverflow counts it, the peer's FIN meets a RST",
	.symptom = "A busy server that closes first shows fewer TIME_WAIT sockets than closed "
		   "connections, `nstat` shows TcpExtTCPTimeWaitOverflow growing (old kernels "
		   "logged 'TCP: time wait bucket table overflow'), and some clients get "
		   "ECONNRESET or a RST where they expected a clean close.",
	.mechanism = "An orphaned socket that leaves FIN_WAIT1 for FIN_WAIT2, or reaches "
		     "TIME_WAIT, is replaced by a timewait socket in tcp_time_wait(). "
		     "inet_twsk_alloc() refuses one when the namespace's death row already holds "
		     "tcp_max_tw_buckets (refcount_read(&dr->tw_refcount) - 1 >= "
		     "sysctl_max_tw_buckets; the death row is the namespace's own, "
		     "net->ipv4.tcp_death_row); tcp_time_wait() "
		     "then counts LINUX_MIB_TCPTIMEWAITOVERFLOW and simply tcp_done()s the "
		     "socket: no FIN_WAIT2, no TIME_WAIT, nothing on the wire. In the lab the "
		     "server closes every connection first (its FINs are ACKed while the client "
		     "holds its ends open), so the overflow happens at FIN_WAIT2; when the "
		     "client then closes, its FIN finds a timewait socket (ACKed, TIME_WAIT for "
		     "60 s) or no socket at all (tcp_v4_send_reset(): RST). Observed on 6.18 with "
		     "5 connections and 2 buckets: 2 FIN_WAIT2 then 2 TIME_WAIT, "
		     "TcpExtTCPTimeWaitOverflow 3, 3 RSTs.",
	.remedy = "Do not lower tcp_max_tw_buckets to get rid of TIME_WAIT: the connections "
		  "past it lose the protection TIME_WAIT gives (late segments, the peer's "
		  "retransmitted FIN) and peers see resets. Keep the limit above the closing "
		  "rate x 60 s (variant 'enough': connections = buckets, every socket keeps its "
		  "TIME_WAIT), let clients close first, or reuse connections.",
	.seen_on = "6.18; 6.12 and 6.1 in qemu TCG (timings shown there, not judged)",
	.budget_s = 10, .check = tw_buckets_overflow_check);
