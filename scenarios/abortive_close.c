// SPDX-License-Identifier: MIT
/* abortive-close: SO_LINGER {1, 0} turns close() into a RST (the prose is in the definition). */
#include "story.h"

struct variant {
	struct lab_variant v;
	bool linger0; /* SO_LINGER {1, 0} before close() */
	bool unread; /* the server closes with the request still unread */
};

static const struct variant variants[] = {
	/* the abortive close: the request read, SO_LINGER {1, 0}, close() */
	{ { "default", "server reads the request, SO_LINGER {1,0}, close() -> RST, no TIME_WAIT",
	    "The handshake [S] [S.] [.], the client's request [P.] and the server's ACK [.], "
	    "then [R.] from the server: no FIN from either side." },
	  true,
	  false },
	/* the orderly close it replaces: the same server without SO_LINGER */
	{ { "close", "server reads the request and close()s -> FIN, TIME_WAIT, clean EOF",
	    "The handshake [S] [S.] [.], the request [P.] and its ACK [.], the server's [F.], "
	    "the client's [F.] (which also ACKs it) and the last [.]: the server in TIME_WAIT." },
	  false,
	  false },
	/* SO_LINGER {1, 0} with the request unread: the same RST, counted as the unread data */
	{ { "unread", "SO_LINGER {1,0} with the request unread -> RST counted as TCPAbortOnClose",
	    "The handshake [S] [S.] [.], the request [P.] and its ACK [.], then [R.] from the "
	    "server, as in default: only the counters tell the two apart." },
	  true,
	  true },
};

struct params {
	long request_bytes;
};

static const struct lab_param params[] = {
	LAB_PARAM(struct params, request_bytes, 200, 1, 60000, "bytes",
		  "size of the client's request (one send()); default and close read it all, "
		  "unread none"),
};

struct obs {
	int64_t server_time_wait;
};

static int play(struct lab_run *run, const struct variant *v, const struct params *p,
		struct obs *obs)
{
	/* the server stops just before close() (mark: its steps before are done) */
	const char *hold = lab_hold(run, LAB_PROG_SERVER, "before-close");

	/* the whole request is in the receive queue before the server reads it, or not */
	lab_server(run, NULL, "accept,%s:%ld,%s%s%sclose", v->unread ? "queued" : "drain",
		   p->request_bytes, v->linger0 ? "linger:0," : "", *hold ? "mark," : "", hold);
	lab_client(run, "send:%ld,recv,recv,close", p->request_bytes);
	lab_moment(run, LAB_PROG_SERVER, "note", 1, "before-close",
		   v->unread ? "SO_LINGER {1, 0} is set and the request waits unread (ss: Recv-Q): "
			       "close() comes next and sends RST" :
		   v->linger0 ? "the server read the whole request (Recv-Q 0) and set SO_LINGER "
				"{1, 0}: close() comes next and sends RST all the same" :
				"the server read the whole request (Recv-Q 0), no SO_LINGER: "
				"close() comes next and sends FIN");
	lab_finish_all(run);
	lab_pause(run, "after-close",
		  v->linger0 ? "the server's close() sent RST: the client's recv() got "
			       "ECONNRESET, no TIME_WAIT on the server" :
			       "the server's close() sent FIN: the client read EOF and closed, the "
			       "server waits in TIME_WAIT (60 s)");
	/* both programs are gone; wait for the closing handshake (if any) to complete */
	lab_wait_settled(run, LAB_SERVER);
	obs->server_time_wait = lab_states_count(run, LAB_SERVER, TCP_TIME_WAIT);
	return lab_status(run);
}

static void judge(struct lab_run *run, const struct variant *expect, const struct params *p,
		  const struct obs *obs)
{
	static const char *const calls[] = { "send", "recv", NULL };
	char want[160];

	lab_params_of(run, LAB_PROG_CLIENT, "request_bytes");
	snprintf(want, sizeof(want), "send=%ld recv=%s recv=0", p->request_bytes,
		 expect->linger0 ? "ECONNRESET" : "0");
	lab_expect_calls(run, LAB_PROG_CLIENT, calls, want);
	lab_expect_count(run, "RST from the server (client-side pcap)", LAB_EQ, expect->linger0,
			 lab_packets(run, LAB_CLIENT, LAB_SERVER, LAB_TH_RST));
	lab_expect_count(run, "FIN from the server (client-side pcap)", LAB_EQ, !expect->linger0,
			 lab_packets_once(run, LAB_CLIENT, LAB_SERVER, LAB_TH_FIN, 0));
	lab_expect_state(run, "server sockets in TIME_WAIT (inet_diag)", !expect->linger0,
			 obs->server_time_wait);
	/* __tcp_close(): unread data first (TCPAbortOnClose), then zero linger (TCPAbortOnData) */
	lab_expect_counter(run, LAB_SERVER, "TcpExtTCPAbortOnData", LAB_EQ,
			   expect->linger0 && !expect->unread);
	lab_expect_counter(run, LAB_SERVER, "TcpExtTCPAbortOnClose", LAB_EQ, expect->unread);
}

LAB_SCENARIO(
	abortive_close, struct variant, variants, struct params, params, struct obs,
	.name = "abortive-close",
	.summary = "SO_LINGER {1,0} then close(): a RST instead of a FIN, no TIME_WAIT, the peer "
		   "gets ECONNRESET",
	.symptom = "The server answers nothing and closes; the client's recv() fails with "
		   "ECONNRESET instead of returning 0, the next recv() returns 0. `ss` never "
		   "shows TIME_WAIT on the server: the connection is gone at once (the reason "
		   "people set zero linger).",
	.mechanism = "inet_release() passes sk_lingertime to tcp_close() when SO_LINGER is on. "
		     "__tcp_close() first purges the receive queue: with bytes the application "
		     "never read it counts LINUX_MIB_TCPABORTONCLOSE (TcpExtTCPAbortOnClose) and "
		     "sends a RST (tcp_send_active_reset()), whatever the linger (variant "
		     "'unread'). Only when nothing was unread (an else-if: 'Check zero linger "
		     "_after_ checking for unread data') does SO_LINGER {1, 0} call "
		     "tcp_disconnect(): the socket goes to "
		     "CLOSE, the send queue is dropped, a RST goes out because tcp_need_reset() "
		     "holds for ESTABLISHED, and __tcp_close() counts it as "
		     "LINUX_MIB_TCPABORTONDATA (TcpExtTCPAbortOnData, a name that fits poorly: no "
		     "data was involved). No FIN, so no FIN_WAIT and no TIME_WAIT "
		     "(TcpExtTCPAbortOnLinger is another path: an orphan in FIN_WAIT2 with "
		     "TCP_LINGER2 < 0). The peer's tcp_reset() sets sk_err = ECONNRESET "
		     "(ESTABLISHED), reported by its next call; recv() then returns 0. Observed "
		     "on 6.18: default TCPAbortOnData 1 and TCPAbortOnClose 0, unread the "
		     "reverse, close neither.",
	.remedy = "Close normally (variant 'close'): a FIN after the data, the peer reads a clean "
		  "EOF, and the closer keeps TIME_WAIT for 60 s (TCP_TIMEWAIT_LEN) to absorb "
		  "late segments of this connection. Zero linger is for aborting a connection "
		  "on purpose, not for avoiding TIME_WAIT: the peer sees an error, and data "
		  "still in the send queue is lost.",
	.seen_on = "6.18; 6.12 and 6.1 in qemu TCG (timings shown there, not judged)",
	.budget_s = 10);
