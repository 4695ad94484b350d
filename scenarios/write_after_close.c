// SPDX-License-Identifier: MIT
/* write-after-close: the peer closed; a write meets its RST, the next one EPIPE + SIGPIPE. */
#include <signal.h>

#include "story.h"

struct variant {
	struct lab_variant v;
	bool nosignal; /* the second write with MSG_NOSIGNAL */
	bool reset; /* the server resets (SO_LINGER {1,0}) instead of closing with a FIN */
};

static const struct variant variants[] = {
	/* the bug: a plain send() on a connection the peer reset: SIGPIPE kills the program */
	{ { "default", "client writes after the server closed: RST, then SIGPIPE kills it",
	    "The handshake [S] [S.] [.], the server's [F.] and the client's [.] for it, the "
	    "client's write [P.] and the server's [R] for it: the second write puts nothing "
	    "on the wire." },
	  false,
	  false },
	/* the remedy: MSG_NOSIGNAL (or SIGPIPE ignored): EPIPE is returned, the program lives */
	{ { "nosignal", "the second write with MSG_NOSIGNAL: -1 EPIPE, the client lives on",
	    "The same packets as default: [S] [S.] [.], [F.] and its [.], the write [P.] and "
	    "the server's [R]; only the client's ending differs." },
	  true,
	  false },
	/* the RST lands in ESTABLISHED (no FIN first): the first write gets ECONNRESET, no signal */
	{ { "reset", "the server resets instead (SO_LINGER {1,0}): ECONNRESET first, then SIGPIPE",
	    "The handshake [S] [S.] [.] and the server's [R.] (its zero-linger close): no FIN, "
	    "and neither of the client's writes puts anything on the wire." },
	  false,
	  true },
};

struct params {
	long write_bytes;
};

static const struct lab_param params[] = {
	LAB_PARAM(struct params, write_bytes, 100, 1, 1448, "bytes",
		  "size of each of the client's two send()s: one segment at most (MSS 1448), "
		  "so that one RST answers it"),
};

struct obs {
	int unused;
};

/* the server's RST has closed the client's socket: inet_diag no longer lists it */
static bool reset(const struct lab_socks *s, const void *arg)
{
	return !lab_socks_count(s, LAB_PORT, -1);
}

static int play(struct lab_run *run, const struct variant *v, const struct params *p,
		struct obs *obs)
{
	const char *what = "the server's RST has closed the client's socket";

	lab_server(run, NULL, "accept,%sclose", v->reset ? "wait,linger:0," : "");
	lab_client(run, "wait,sigsend:%ld,wait,%s:%ld%s", p->write_bytes,
		   v->nosignal ? "send" : "sigsend", p->write_bytes, v->nosignal ? ",recv" : "");
	if (v->reset) {
		/*
		 * the server resets once the client's connect() has returned: a RST that came
		 * first would be connect()'s ECONNRESET (the socket closed before its caller
		 * woke up), not the first write's
		 */
		if (lab_ours(run, LAB_PROG_CLIENT))
			lab_wait_calls(run, LAB_PROG_CLIENT, "connect", 1);
		else
			lab_wait_state(run, LAB_CLIENT, TCP_ESTABLISHED);
		lab_go(run, LAB_PROG_SERVER);
		/*
		 * the RST has met the client's ESTABLISHED socket (tcp_set_state(): ESTABLISHED
		 * -> CLOSE counts TcpEstabResets), and the socket is gone. No socket alone is
		 * also what a client not yet connected shows
		 */
		lab_wait_counter(run, LAB_CLIENT, "TcpEstabResets", 1);
		lab_wait_for(run, LAB_CLIENT, reset, NULL, what);
	} else {
		/* the server's FIN has arrived and been ACKed: its orphan waits in FIN_WAIT2 */
		lab_wait_state(run, LAB_CLIENT, TCP_CLOSE_WAIT);
		lab_wait_state(run, LAB_SERVER, TCP_FIN_WAIT2);
	}
	lab_finish(run, LAB_PROG_SERVER);
	lab_pause(run, "after-fin",
		  v->reset ?
			  "the server closed with SO_LINGER {1, 0}: its RST has closed the "
			  "client's socket before it wrote anything; the first write comes next" :
			  "the server closed: its FIN reached the client (CLOSE_WAIT), which read "
			  "nothing and goes on writing; the server's orphan waits in FIN_WAIT2 "
			  "(its tcp_fin_timeout, 60 s, runs on while you look); the first write "
			  "comes next and will meet a RST");
	lab_may_die(run, LAB_PROG_CLIENT, SIGPIPE);
	lab_go(run, LAB_PROG_CLIENT); /* the first write */
	if (!v->reset)
		lab_wait_for(run, LAB_CLIENT, reset, NULL, what);
	lab_pause(run, "after-rst",
		  v->nosignal ? "the RST has closed the client's socket; the second write comes "
				"next, with MSG_NOSIGNAL: EPIPE, no signal" :
				"the RST has closed the client's socket; the second write comes "
				"next: EPIPE, and SIGPIPE kills the client");
	lab_go(run, LAB_PROG_CLIENT); /* the second write, on a socket the RST closed */
	lab_finish(run, LAB_PROG_CLIENT);
	return lab_status(run);
}

static void judge(struct lab_run *run, const struct variant *expect, const struct params *p,
		  const struct obs *obs)
{
	static const char *const calls[] = { "send", "recv", NULL };
	char want[160], ending[64];

	if (!expect->reset)
		lab_params_of(run, LAB_PROG_CLIENT, "write_bytes");
	if (expect->nosignal)
		snprintf(want, sizeof(want), "send=%ld send=EPIPE recv=0", p->write_bytes);
	else if (expect->reset)
		snprintf(want, sizeof(want), "send=ECONNRESET");
	else
		snprintf(want, sizeof(want), "send=%ld", p->write_bytes);
	lab_expect_calls(run, LAB_PROG_CLIENT, calls, want);
	lab_expect_text(run, "how the client ended",
			expect->nosignal ? "exit 0" : "killed by SIGPIPE",
			lab_ending(run, LAB_PROG_CLIENT, ending, sizeof(ending)));
	lab_expect_count(run, "FIN from the server (client-side pcap)", LAB_EQ, !expect->reset,
			 lab_packets_once(run, LAB_CLIENT, LAB_SERVER, LAB_TH_FIN, 0));
	lab_expect_count(run, "RST from the server (client-side pcap)", LAB_EQ, 1,
			 lab_packets(run, LAB_CLIENT, LAB_SERVER, LAB_TH_RST));
	/* tcp_set_state(): CLOSE_WAIT (or ESTABLISHED) -> CLOSE by a reset */
	lab_expect_counter(run, LAB_CLIENT, "TcpEstabResets", LAB_EQ, 1);
}

LAB_SCENARIO(
	write_after_close, struct variant, variants, struct params, params, struct obs,
	.name = "write-after-close",
	.summary = "writing to a connection the peer closed: the first write succeeds, the peer "
		   "answers RST, the next write is EPIPE and SIGPIPE kills the writer",
	.symptom = "A client whose server has gone away writes a request: send() succeeds. It "
		   "writes again and the process dies without a word (exit status 141 from a "
		   "shell: 128 + SIGPIPE), no error message, no core.",
	.mechanism = "The server's close() sent a FIN; the client's socket is in CLOSE_WAIT, "
		     "which only means the peer will send no more: writing is still allowed, "
		     "so the first send() returns its length. The server's socket is an orphan in "
		     "FIN_WAIT2 (a timewait socket after tcp_time_wait(sk, TCP_FIN_WAIT2, ...)); "
		     "tcp_timewait_state_process() answers new data there with a RST ('If new "
		     "data arrive after half-duplex close, reset'). The client's tcp_reset() "
		     "maps the state to the error: CLOSE_WAIT gives EPIPE (ESTABLISHED gives "
		     "ECONNRESET, SYN_SENT ECONNREFUSED), and tcp_set_state() counts "
		     "TCP_MIB_ESTABRESETS (TcpEstabResets). The next send() finds sk_err: "
		     "sk_stream_error() sends SIGPIPE when the error is EPIPE and MSG_NOSIGNAL is "
		     "not set, and SIGPIPE's default action ends the process before send() "
		     "returns. So the errno, and whether a signal comes with it, depend on the "
		     "state the RST found: in variant 'reset' the server's zero-linger close "
		     "resets an ESTABLISHED connection, the first send() returns ECONNRESET "
		     "without a signal and only the second (SEND_SHUTDOWN, EPIPE) is killed. The "
		     "lab waits for the RST (the client's socket gone from inet_diag) before the "
		     "write that meets it, so the errno never depends on a race. Observed on "
		     "6.18: one RST, TcpEstabResets 1; the client killed by SIGPIPE (default, "
		     "reset after send() = -1 ECONNRESET) or send() = -1 EPIPE then recv() = 0 "
		     "(nosignal).",
	.remedy = "Pass MSG_NOSIGNAL to send() (variant 'nosignal') or ignore SIGPIPE "
		  "(signal(SIGPIPE, SIG_IGN)) once at start-up, and handle EPIPE/ECONNRESET as "
		  "'the peer is gone'. Better still, notice the peer's FIN first: recv() = 0, "
		  "or EPOLLRDHUP, means the peer has closed and a write can only be reset.",
	.seen_on = "6.18; 6.12 and 6.1 in qemu TCG (timings shown there, not judged)",
	.budget_s = 10);
