// SPDX-License-Identifier: MIT
/* rst-on-close: close() with unread data sends RST, not FIN (the prose is in the definition). */
#include "story.h"

struct variant {
	struct lab_variant v;
	bool drain; /* the server reads the whole request before close() */
	bool rst; /* documented outcome: the server's close resets the connection */
};

static const struct variant variants[] = {
	/* the bug: the server reads part of the request and closes */
	{ { "default", "server reads part of the request, then close() -> RST",
	    "The handshake [S] [S.] [.], the client's request [P.], the server's ACK [.], then "
	    "[R.] from the server: no FIN from it at all. After the RST the client's later "
	    "send() puts nothing on the wire." },
	  false,
	  true },
	/* the remedy: read the whole request (drain) before close() */
	{ { "drain", "server drains the request before close() -> FIN, TIME_WAIT, clean EOF",
	    "The handshake [S] [S.] [.], the request [P.] and its ACK [.], then the server's "
	    "[F.] and the client's [F.] (which also ACKs it), and the last [.]: an orderly "
	    "close, the server in TIME_WAIT." },
	  true,
	  false },
};

struct params {
	long request_bytes, read_bytes;
};

static const struct lab_param params[] = {
	LAB_PARAM(struct params, request_bytes, 200, 1, 60000, "bytes",
		  "size of the client's request (one send())"),
	LAB_PARAM(struct params, read_bytes, 10, 0, 59999, "bytes",
		  "bytes the server reads before close(), once the whole request has arrived "
		  "(default variant; fewer than request_bytes, 0 reads nothing)"),
};

/* the failure needs unread bytes at close() */
/* the server's connection holds the whole request in its receive queue */
static bool request_queued(const struct lab_socks *s, const void *arg)
{
	const struct lab_sock *c = lab_socks_find(s, LAB_PORT, TCP_ESTABLISHED);

	return c && c->rqueue >= (uint32_t) * (const long *)arg;
}

/* an ESTABLISHED socket with nothing queued (to send on the client, to read on the server) */
static bool queue_empty(const struct lab_socks *s, const void *arg)
{
	const struct lab_sock *c = lab_socks_find(s, LAB_PORT, TCP_ESTABLISHED);

	return c && !(*(const bool *)arg ? c->wqueue : c->rqueue);
}

static bool precondition(const struct lab_run *run, const struct variant *v, const struct params *p,
			 char *why, size_t len)
{
	if (v->drain || p->read_bytes < p->request_bytes)
		return true;
	snprintf(why, len,
		 "read_bytes=%ld reads the whole %ld-byte request: nothing is left unread at "
		 "close(), so there is no RST to show (use read_bytes < request_bytes, or the "
		 "drain variant)",
		 p->read_bytes, p->request_bytes);
	return false;
}

struct obs {
	int64_t server_time_wait;
};

static int play(struct lab_run *run, const struct variant *v, const struct params *p,
		struct obs *obs)
{
	struct lab_socks socks = LAB_SOCKS_INIT;

	/* the whole request is in the receive queue before the server reads part of it */
	const char *hold = lab_hold(run, LAB_PROG_SERVER, "before-close");

	if (v->drain)
		lab_server(run, NULL, "accept,drain:%ld,%sclose", p->request_bytes, hold);
	else if (p->read_bytes)
		lab_server(run, NULL, "accept,queued:%ld,recv:%ld,%sclose", p->request_bytes,
			   p->read_bytes, hold);
	else
		lab_server(run, NULL, "accept,queued:%ld,%sclose", p->request_bytes, hold);
	if (v->drain)
		lab_client(run, "send:%ld,recv,close", p->request_bytes);
	else
		lab_client(run, "send:%ld,recv,recv,send:%ld", p->request_bytes, p->request_bytes);
	/* the server stops just before close(): what it leaves unread decides RST or FIN */
	if (v->drain) {
		static const bool sending = true, reading = false;

		/* every byte ACKed by the server's kernel, then read by the server */
		if (lab_moment_wanted(run, "before-close") && lab_ours(run, LAB_PROG_SERVER)) {
			lab_wait_for(run, LAB_CLIENT, queue_empty, &sending,
				     "the whole request acknowledged");
			lab_wait_for(run, LAB_SERVER, queue_empty, &reading,
				     "the whole request read by the server");
		}
		lab_moment(run, LAB_PROG_SERVER, "recv", 1, "before-close",
			   "the server read the whole request; its receive queue is empty: close() "
			   "now sends FIN");
	} else if (p->read_bytes)
		lab_moment(run, LAB_PROG_SERVER, "recv", 1, "before-close",
			   "the server read part of the request; the rest is unread in its receive "
			   "queue (ss: Recv-Q): close() now sends RST");
	else {
		if (lab_moment_wanted(run, "before-close") && lab_ours(run, LAB_PROG_SERVER))
			lab_wait_for(run, LAB_SERVER, request_queued, &p->request_bytes,
				     "the whole request queued at the server");
		lab_moment(run, LAB_PROG_SERVER, "accept", 1, "before-close",
			   "the server read nothing; the request is unread in its receive queue "
			   "(ss: Recv-Q): close() now sends RST");
	}
	lab_finish_all(run);
	lab_pause(run, "after-close",
		  v->drain ? "the server closed with nothing unread: FIN, and its socket waits in "
			     "TIME_WAIT" :
			     "the server closed with unread bytes: RST, the client's recv() got "
			     "ECONNRESET, no TIME_WAIT on the server");
	/* both programs are gone; wait for the closing handshake (if any) to complete */
	lab_wait_settled(run, LAB_SERVER);
	lab_states(run, LAB_SERVER, &socks);
	obs->server_time_wait = (int64_t)lab_socks_count(&socks, LAB_PORT, TCP_TIME_WAIT);
	lab_socks_free(&socks);
	return lab_status(run);
}

static void judge(struct lab_run *run, const struct variant *expect, const struct params *p,
		  const struct obs *obs)
{
	static const char *const calls[] = { "send", "recv", NULL };
	char want[160];

	if (expect->rst)
		snprintf(want, sizeof(want), "send=%ld recv=ECONNRESET recv=0 send=EPIPE",
			 p->request_bytes);
	else
		snprintf(want, sizeof(want), "send=%ld recv=0", p->request_bytes);
	lab_expect_calls(run, LAB_PROG_CLIENT, calls, want);
	lab_expect_count(run, "RST from the server (client-side pcap)", LAB_EQ, expect->rst,
			 lab_packets(run, LAB_CLIENT, LAB_SERVER, LAB_TH_RST));
	lab_expect_count(run, "FIN from the server (client-side pcap)", LAB_EQ, !expect->rst,
			 lab_packets(run, LAB_CLIENT, LAB_SERVER, LAB_TH_FIN));
	lab_expect_state(run, "server sockets in TIME_WAIT (inet_diag)", !expect->rst,
			 obs->server_time_wait);
	lab_expect_counter(
		run, LAB_SERVER, "TcpExtTCPAbortOnClose", LAB_EQ,
		expect->rst); /* what tells our programs what to do cannot tell a user's */
	if (!lab_ours(run, LAB_PROG_SERVER))
		lab_not_applicable(
			run, "parameter read_bytes (--set)",
			"--server-cmd runs instead of tcplab-server: it reads what it reads");
	if (!lab_ours(run, LAB_PROG_CLIENT))
		lab_not_applicable(
			run, "parameter request_bytes (--set)",
			"--client-cmd runs instead of tcplab-client: it sends what it sends");
}

LAB_PRECONDITION(rst_on_close, struct variant, struct params)

LAB_SCENARIO(
	rst_on_close, struct variant, variants, struct params, params, struct obs,
	.name = "rst-on-close",
	.summary = "close() with unread data sends RST: the peer gets ECONNRESET, no TIME_WAIT",
	.symptom = "The client sends a request and, instead of a response or a clean end of "
		   "stream, its recv() fails with ECONNRESET ('connection reset by peer'); the "
		   "next recv() returns 0 and a send() fails with EPIPE (SIGPIPE unless "
		   "MSG_NOSIGNAL). The server never shows TIME_WAIT for the connection.",
	.mechanism = "tcp_close() checks the receive queue first. If bytes the application never "
		     "read are still queued, the kernel discards them, sends a RST "
		     "(tcp_send_active_reset()) instead of a FIN, counts "
		     "LINUX_MIB_TCPABORTONCLOSE (nstat: TcpExtTCPAbortOnClose) and moves the "
		     "socket straight to CLOSE: no FIN_WAIT, no TIME_WAIT (RFC 2525, 2.17). The "
		     "peer's tcp_reset() sets sk_err = ECONNRESET, reported once by the next "
		     "call; after that the socket is dead: recv() = 0, send() = EPIPE.",
	.remedy = "Read the request completely (or shutdown(SHUT_WR) and drain until EOF) before "
		  "close(). Variant 'drain': the server reads all request_bytes, closes, sends "
		  "FIN, and the closer sits in TIME_WAIT; the client sees a clean EOF "
		  "(recv() = 0).",
	.seen_on = "6.18; 6.12 and 6.1 in qemu TCG (timings shown there, not judged)",
	.budget_s = 10, .check = rst_on_close_check);
