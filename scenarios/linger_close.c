// SPDX-License-Identifier: MIT
/* linger-close: SO_LINGER {1, N} makes close() wait up to N s for its FIN to be acknowledged. */
#include "story.h"

#define AT_ONCE_US 300000 /* "returned at once": far below the shortest linger (1 s) */

struct variant {
	struct lab_variant v;
	bool linger; /* SO_LINGER {1, linger_s} before close() */
	bool stuck; /* the wire drops everything from the client once the connection is up */
	bool shutdown; /* shutdown(SHUT_WR) before close() */
};

static const struct variant variants[] = {
	/* the data and the FIN are lost: close() blocks for the whole linger, then returns 0 */
	{ { "default", "SO_LINGER {1,N}, data stuck on the wire: close() blocks N s, returns 0",
	    "The handshake [S] [S.] [.], then, on the client side only, its data [P.], its "
	    "[F.] and their retransmissions (the data and the FIN in one [FP.]), all dropped by "
	    "the wire: the server's capture ends with the handshake." },
	  true,
	  true,
	  false },
	/* the data and the FIN are acknowledged at once: close() returns at once */
	{ { "acked", "SO_LINGER {1,N}, nothing lost: close() returns when its FIN is ACKed",
	    "The handshake [S] [S.] [.], the client's data [P.] and its [F.], the server's "
	    "[.] for them, its own [F.] after reading to the end, and the client's last [.]: "
	    "the client in TIME_WAIT." },
	  true,
	  false,
	  false },
	/* no SO_LINGER, the same loss: close() returns at once, the kernel goes on alone */
	{ { "nolinger", "no SO_LINGER, data stuck: close() returns at once, the orphan retries",
	    "As default: the handshake [S] [S.] [.], then only on the client side its data "
	    "[P.], [F.] and their retransmissions ([FP.]), all dropped by the wire." },
	  false,
	  true,
	  false },
	/* the seeds' claim refuted: shutdown() never lingers (the close() after it still does) */
	{ { "shutdown",
	    "SO_LINGER {1,N}, data stuck: shutdown(SHUT_WR) returns at once, close() "
	    "still blocks N s",
	    "As default: the handshake [S] [S.] [.], then only on the client side its data "
	    "[P.], the [F.] that shutdown() sends and their retransmissions ([FP.]), all "
	    "dropped by the wire." },
	  true,
	  true,
	  true },
};

struct params {
	long linger_s, request_bytes;
};

static const struct lab_param params[] = {
	LAB_PARAM(struct params, linger_s, 1, 1, 3, "s",
		  "SO_LINGER's l_linger: how long close() may wait (all but nolinger)"),
	LAB_PARAM(struct params, request_bytes, 1000, 1, 8000, "bytes",
		  "what the client sends just before close()"),
};

struct obs {
	int64_t client_fin_wait1; /* the client's sockets in FIN_WAIT1 once close() returned */
	int64_t orphan_retrans; /* its retransmission timeouts so far (inet_diag), once it retried */
	int blackhole;
};

/* the orphan has had a retransmission timeout (idiag_retrans: icsk_retransmits) */
static bool orphan_retried(const struct lab_socks *s, const void *arg)
{
	const struct lab_sock *sk = lab_socks_find(s, LAB_PORT, TCP_FIN_WAIT1);

	return !sk || sk->retrans >= 1;
}

static int play(struct lab_run *run, const struct variant *v, const struct params *p,
		struct obs *obs)
{
	struct lab_socks socks = LAB_SOCKS_INIT;
	const struct lab_sock *orphan;
	char linger[32] = "";

	obs->blackhole = lab_impair(run, "blackhole,dir=c2s,armed=0");
	if (v->linger)
		snprintf(linger, sizeof(linger), "linger:%ld,", p->linger_s);
	lab_server(run, NULL, "accept,drain,close");
	lab_client(run, "wait,%ssend:%ld,%sclose", linger, p->request_bytes,
		   v->shutdown ? "shutdown:wr," : "");
	lab_wait_state(run, LAB_SERVER, TCP_ESTABLISHED);
	if (v->stuck)
		lab_arm(run, obs->blackhole, true);
	lab_go(run, LAB_PROG_CLIENT);
	lab_finish(run, LAB_PROG_CLIENT);
	/* the process is gone: what the kernel holds for it now, and that it keeps trying */
	obs->client_fin_wait1 = lab_states_count(run, LAB_CLIENT, TCP_FIN_WAIT1);
	lab_pause(run, "closed",
		  v->stuck ? "the client's close() has returned and its process is gone; its data "
			     "and FIN are unACKed (the wire drops them), and the orphan sits in "
			     "FIN_WAIT1 retransmitting (ss -o: timer:(on,...)) while you look" :
			     "the client's close() returned once its data and FIN were ACKed; "
			     "the server reads to the end and closes next");
	if (v->stuck) {
		lab_wait_for(run, LAB_CLIENT, orphan_retried, NULL,
			     "the client's orphan has retransmitted after a timeout");
		lab_states(run, LAB_CLIENT, &socks);
		orphan = lab_socks_find(&socks, LAB_PORT, TCP_FIN_WAIT1);
		obs->orphan_retrans = orphan ? orphan->retrans : 0;
		lab_socks_free(&socks);
	} else { /* the server reads to the end and closes: the teardown completes */
		lab_finish(run, LAB_PROG_SERVER);
		lab_wait_settled(run, LAB_CLIENT);
	}
	return lab_status(run);
}

/* the client's retransmissions (client-side capture) before @until_us: while close() waited */
static int64_t retrans_before(const struct lab_run *run, int64_t until_us)
{
	const struct lab_trace *t = lab_capture(run, LAB_CLIENT);
	struct in_addr client = lab_host_addr(LAB_CLIENT);
	int64_t n = 0;
	size_t i;

	for (i = 0; t && i < t->n; i++)
		n += t->v[i].src.s_addr == client.s_addr && t->v[i].retrans &&
		     t->v[i].t_us < until_us;
	return n;
}

static void judge(struct lab_run *run, const struct variant *expect, const struct params *p,
		  const struct obs *obs)
{
	static const char *const calls[] = { "send", "shutdown", "close", NULL };
	const struct lab_event *close = lab_call(run, LAB_PROG_CLIENT, "close", 0);
	const struct lab_event *shut = lab_call(run, LAB_PROG_CLIENT, "shutdown", 0);
	int64_t blocked_us = close ? close->t_us - close->t0_us : INT64_MAX;
	struct lab_window w = lab_timer_window(run, p->linger_s * 1000000);
	char want[64];

	lab_params_of(run, LAB_PROG_CLIENT, "linger_s, request_bytes");
	if (!lab_needs(run, LAB_PROG_CLIENT, "how long close() blocked"))
		return;
	snprintf(want, sizeof(want), "send=%ld %sclose=0", p->request_bytes,
		 expect->shutdown ? "shutdown=0 " : "");
	lab_expect_calls(run, LAB_PROG_CLIENT, calls, want);
	if (expect->shutdown)
		lab_expect_at_most(run, "client shutdown() blocked (never lingers)", AT_ONCE_US,
				   shut ? shut->t_us - shut->t0_us : INT64_MAX);
	lab_expect_count(run, "client close() returned", LAB_EQ, 0, close ? close->ret : -2);
	if (expect->linger && expect->stuck)
		lab_expect_within(run, "client close() blocked (SO_LINGER's l_linger)", &w,
				  blocked_us);
	else
		lab_expect_at_most(run, "client close() blocked (at once: far below 1 s)",
				   AT_ONCE_US, blocked_us);
	/*
	 * On a dead path a lingering close() outlasts the loss probe and a timeout (3 re-sends
	 * in its 1 s or more: the probe, then RTOs at 200 and 600 ms). One that returns at once
	 * meets at most the probe (2 ticks after the send) when ~120 labs keep the client off
	 * the CPU that long: outcomes both, whatever the load. With nothing lost (acked) there
	 * is none, unless a late ACK draws a spurious probe: that one is timed.
	 */
	if (expect->linger && expect->stuck)
		lab_expect_count(run,
				 "client retransmissions before close() returned (client pcap)",
				 LAB_GE, 2, retrans_before(run, close ? close->t_us : 0));
	else if (expect->stuck)
		lab_expect_count(run,
				 "client retransmissions before close() returned (client pcap; "
				 "at most the loss probe)",
				 LAB_LE, 1, retrans_before(run, close ? close->t_us : 0));
	else
		lab_expect_count(run,
				 "client retransmissions before close() returned (client pcap)",
				 LAB_EQ, 0, retrans_before(run, close ? close->t_us : 0));
	if (!expect->stuck)
		lab_expect_timed(run);
	lab_expect_state(run, "client FIN_WAIT1 after close() (inet_diag)", expect->stuck,
			 obs->client_fin_wait1);
	lab_expect_count(run, "its orphan's retransmission timeouts (inet_diag)",
			 expect->stuck ? LAB_GE : LAB_EQ, expect->stuck, obs->orphan_retrans);
	lab_expect_count(run, "RST from the client (client-side pcap)", LAB_EQ, 0,
			 lab_packets(run, LAB_CLIENT, LAB_CLIENT, LAB_TH_RST));
	lab_expect_count(run, "data segments at the server (server-side pcap)",
			 expect->stuck ? LAB_EQ : LAB_GE, !expect->stuck,
			 lab_packets(run, LAB_SERVER, LAB_CLIENT, LAB_TH_PSH));
}

LAB_SCENARIO(
	linger_close, struct variant, variants, struct params, params, struct obs,
	.name = "linger-close",
	.summary = "SO_LINGER {1,N}: close() blocks up to N s while its data and FIN are "
		   "unacknowledged, then returns 0 and the kernel carries on alone",
	.symptom = "A client sets SO_LINGER {1, N} 'so that close() tells me whether the data "
		   "arrived'. On a bad network close() takes N seconds, and still returns 0: the "
		   "data may never arrive, and nothing says so.",
	.mechanism = "inet_release() passes sk_lingertime (l_linger in jiffies) to tcp_close(). "
		     "__tcp_close() sends the FIN after the queued data (tcp_close_state(): "
		     "ESTABLISHED -> FIN_WAIT1, tcp_send_fin()), then sk_stream_wait_close() "
		     "sleeps while the state is FIN_WAIT1, CLOSING or LAST_ACK "
		     "(sk_stream_closing()), that is until the FIN (and so all the data before "
		     "it) is acknowledged, or the time is up, or a signal. Either way close() "
		     "returns 0 (inet_release() has no error to return): no EWOULDBLOCK for a "
		     "blocking socket, no RST. The socket is then orphaned and the kernel keeps "
		     "retransmitting in FIN_WAIT1 (up to tcp_orphan_retries), as without "
		     "SO_LINGER. shutdown() never lingers: tcp_shutdown() sends the FIN and "
		     "returns (variant 'shutdown'; the close() after it still waits, its "
		     "socket being in FIN_WAIT1 already). In the lab the wire drops everything "
		     "from the client once the connection is up; the wait is a schedule_timeout() "
		     "of N s, so it ends on the timer wheel (a 1 s timer fires up to ~32 ms late "
		     "at HZ=250). Observed on 6.18: default close() = 0 after 1.0x s and the "
		     "socket still in FIN_WAIT1; acked and nolinger returned in well under a "
		     "millisecond, and so did shutdown() in variant 'shutdown' before its close() "
		     "waited the full linger.",
	.remedy = "Do not use SO_LINGER as a delivery receipt: an acknowledgement only says the "
		  "peer's kernel has the bytes, and a timed-out linger is not even reported. To "
		  "know, shutdown(SHUT_WR) and read until the peer's EOF (or an application "
		  "acknowledgement), with a timeout of your own. With the data acknowledged "
		  "(variant 'acked') the lingering close() returns at once.",
	.seen_on = "6.18; 6.12 and 6.1 in qemu TCG (timings shown there, not judged)",
	.budget_s = 10);
