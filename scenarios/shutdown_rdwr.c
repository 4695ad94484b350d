// SPDX-License-Identifier: MIT
/* shutdown-rdwr: data sent to a SHUT_RDWR socket is reset (the prose is in the definition). */
#include "story.h"

struct variant {
	struct lab_variant v;
	bool quiet; /* the client sends nothing after the server's FIN: it reads EOF and closes */
};

static const struct variant variants[] = {
	/* the failure: the client keeps sending to a server that shut down both directions */
	{ { "default",
	    "server shutdown(SHUT_RDWR), client keeps sending: RST, TcpExtTCPAbortOnData; the "
	    "client's next send() EPIPE, the server's recv() ECONNRESET",
	    "The handshake [S] [S.] [.], the client's request [P.] and its ACK [.], the server's "
	    "[F.] (its shutdown()), the client's further data [P.] (which also ACKs the FIN) "
	    "answered by [R] from the server; the client's next send() puts nothing on the "
	    "wire." },
	  false },
	/* the peer reads EOF and closes: the ordinary closing handshake */
	{ { "quiet",
	    "the client sends nothing more: it reads EOF and closes; FIN each way, the server "
	    "in TIME_WAIT",
	    "The handshake [S] [S.] [.], the request [P.] and its ACK [.], the server's [F.], "
	    "the client's [F.] (which also ACKs it) and the server's last [.]: no RST." },
	  true },
};

struct params {
	long request_bytes, more_bytes;
};

static const struct lab_param params[] = {
	LAB_PARAM(struct params, request_bytes, 100, 1, 60000, "bytes",
		  "the client's request, read by the server before its shutdown()"),
	LAB_PARAM(struct params, more_bytes, 50, 1, 1400, "bytes",
		  "what the client sends after the server's FIN (default variant; one segment, "
		  "so one RST answers it)"),
};

struct obs {
	int64_t server_time_wait;
};

/* the client's connection is gone (reset) or closing: no longer in CLOSE_WAIT */
static bool not_close_wait(const struct lab_socks *s, const void *arg)
{
	return !lab_socks_count(s, LAB_PORT, TCP_CLOSE_WAIT);
}

static int play(struct lab_run *run, const struct variant *v, const struct params *p,
		struct obs *obs)
{
	struct lab_socks socks = LAB_SOCKS_INIT;
	/* the client has read the server's FIN (recv() = 0), before it sends again or closes */
	const char *hold = lab_hold(run, LAB_PROG_CLIENT, "after-fin");

	lab_server(run, NULL, "accept,queued:%ld,recv:%ld,shutdown:rdwr,wait,recv,close",
		   p->request_bytes, p->request_bytes);
	if (v->quiet)
		lab_client(run, "send:%ld,recv,%sclose", p->request_bytes, hold);
	else
		lab_client(run, "send:%ld,recv,%ssend:%ld,wait,send:%ld,close", p->request_bytes,
			   hold, p->more_bytes, p->more_bytes);
	lab_moment(run, LAB_PROG_CLIENT, "recv", 1, "after-fin",
		   v->quiet ? "the server shut down both directions: its FIN reached the client, "
			      "whose recv() returned 0 (CLOSE_WAIT); the server's socket waits in "
			      "FIN_WAIT2, its descriptor still open (no tcp_fin_timeout); the "
			      "client's close() comes next" :
			      "the server shut down both directions: its FIN reached the client, "
			      "whose recv() returned 0 (CLOSE_WAIT); the server's socket waits in "
			      "FIN_WAIT2, its descriptor still open (no tcp_fin_timeout); the "
			      "client's further data comes next and will meet a RST");
	if (!v->quiet) {
		/* the client's data after the FIN has left; the next send() once the RST is in */
		lab_wait_calls(run, LAB_PROG_CLIENT, "send", 2);
		lab_wait_for(run, LAB_CLIENT, not_close_wait, NULL,
			     "the client's connection left CLOSE_WAIT (reset)");
		lab_pause(run, "reset",
			  "the client's data after the server's FIN met a RST "
			  "(TcpExtTCPAbortOnData on the server): the client's socket is closed; "
			  "its next send() comes next (EPIPE)");
		lab_go(run, LAB_PROG_CLIENT);
	}
	lab_finish(run, LAB_PROG_CLIENT);
	/* the server's socket has met the client's FIN or its data */
	lab_wait_settled(run, LAB_SERVER);
	lab_go(run, LAB_PROG_SERVER);
	lab_finish(run, LAB_PROG_SERVER);
	lab_states(run, LAB_SERVER, &socks);
	obs->server_time_wait = (int64_t)lab_socks_count(&socks, LAB_PORT, TCP_TIME_WAIT);
	lab_socks_free(&socks);
	return lab_status(run);
}

static void judge(struct lab_run *run, const struct variant *expect, const struct params *p,
		  const struct obs *obs)
{
	static const char *const client_calls[] = { "send", "recv", NULL };
	static const char *const server_calls[] = { "shutdown", "recv", NULL };
	char want[160];

	if (expect->quiet)
		snprintf(want, sizeof(want), "send=%ld recv=0", p->request_bytes);
	else
		snprintf(want, sizeof(want), "send=%ld recv=0 send=%ld send=EPIPE",
			 p->request_bytes, p->more_bytes);
	lab_expect_calls(run, LAB_PROG_CLIENT, client_calls, want);
	snprintf(want, sizeof(want), "recv=%ld shutdown=0 recv=%s", p->request_bytes,
		 expect->quiet ? "0" : "ECONNRESET");
	lab_expect_calls(run, LAB_PROG_SERVER, server_calls, want);
	lab_params_of(run, LAB_PROG_CLIENT, "request_bytes, more_bytes");
	lab_expect_count(run, "FIN from the server (client-side pcap)", LAB_EQ, 1,
			 lab_packets_once(run, LAB_CLIENT, LAB_SERVER, LAB_TH_FIN, 0));
	lab_expect_count(run, "RST from the server (client-side pcap)", LAB_EQ, !expect->quiet,
			 lab_packets(run, LAB_CLIENT, LAB_SERVER, LAB_TH_RST));
	lab_expect_counter(run, LAB_SERVER, "TcpExtTCPAbortOnData", LAB_EQ, !expect->quiet);
	lab_expect_state(run, "server sockets in TIME_WAIT (inet_diag)", expect->quiet,
			 obs->server_time_wait);
}

LAB_SCENARIO(
	shutdown_rdwr, struct variant, variants, struct params, params, struct obs,
	.name = "shutdown-rdwr",
	.summary = "data sent to a socket shut down with SHUT_RDWR is answered with a RST "
		   "(TcpExtTCPAbortOnData)",
	.symptom = "A server answers and calls shutdown(SHUT_RDWR) but keeps the descriptor. "
		   "The client reads EOF, yet sends one more message (a late request, a "
		   "goodbye): its send() succeeds, the server answers with a RST, the client's "
		   "next send() fails with EPIPE (SIGPIPE without MSG_NOSIGNAL) and the server's "
		   "own next recv() fails with ECONNRESET instead of returning 0.",
	.mechanism =
		"inet_shutdown() sets RCV_SHUTDOWN|SEND_SHUTDOWN; tcp_shutdown() sends the FIN "
		"(tcp_close_state(): FIN_WAIT1, tcp_send_fin()). The client's data arrives "
		"while the server is in FIN_WAIT1 (its ACK of the FIN was delayed: CLOSE_WAIT "
		"enters pingpong mode in tcp_fin(), so the data carries it) or FIN_WAIT2. "
		"tcp_rcv_state_process() handles both: in FIN_WAIT1 the ACK moves the "
		"(not orphaned) socket to FIN_WAIT2; then step 7 finds RCV_SHUTDOWN and new "
		"data, counts LINUX_MIB_TCPABORTONDATA (nstat TcpExtTCPAbortOnData), calls "
		"tcp_reset() (sk_err = ECONNRESET, tcp_done()) and returns a drop reason, so "
		"tcp_v4_do_rcv() sends the RST. The client, in CLOSE_WAIT after the FIN, gets "
		"sk_err = EPIPE from its own tcp_reset() (the CLOSE_WAIT case), so its next "
		"send() fails with EPIPE; its recv() had already returned 0 (SOCK_DONE from the "
		"FIN is checked before sk_err). Variant quiet: the client's FIN instead moves "
		"the server's FIN_WAIT2 socket to TIME_WAIT (tcp_fin(), tcp_time_wait()), and "
		"the server's recv() returns 0.",
	.remedy = "Shut down the read side only when the protocol guarantees the peer has "
		  "nothing more to send; otherwise shutdown(SHUT_WR), read until EOF, then "
		  "close() (the half-close scenario). A peer that has read EOF should stop "
		  "sending and close (variant quiet).",
	.seen_on = "6.18; 6.12 and 6.1 in qemu TCG (timings shown there, not judged)",
	.budget_s = 10);
