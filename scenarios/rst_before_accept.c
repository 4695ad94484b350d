// SPDX-License-Identifier: MIT
/* rst-before-accept: the peer resets while its connection waits in the accept queue. */
#include "story.h"

struct variant {
	struct lab_variant v;
	bool reset; /* the client closes with SO_LINGER {1, 0}: RST instead of FIN */
};

static const struct variant variants[] = {
	/* the failure: the client aborts before the server gets round to accept() */
	{ { "default",
	    "the client resets before accept(): accept() still returns the connection, the "
	    "first recv() fails with ECONNRESET",
	    "The handshake [S] [S.] [.], then [R.] from the client (after its request and "
	    "the server's ACK, with request_bytes > 0); the server sends nothing after it." },
	  true },
	/* the contrast: the client closes normally, the server reads a clean end of stream */
	{ { "fin",
	    "the client closes normally before accept(): accept() returns it, recv() reads "
	    "the request and then 0 (EOF)",
	    "The handshake [S] [S.] [.], the client's [F.] (after its request, with "
	    "request_bytes > 0); after accept() and its reads, the server's [F.] and the "
	    "client's last [.]." },
	  false },
};

struct params {
	long request_bytes;
};

static const struct lab_param params[] = {
	LAB_PARAM(struct params, request_bytes, 0, 0, 1448, "bytes",
		  "what the client sends before it closes (0: nothing); one segment"),
};

struct obs {
	int64_t queued; /* the listener's accept queue (LISTEN Recv-Q) just before accept() */
	int64_t established; /* server sockets ESTABLISHED or CLOSE_WAIT then (inet_diag) */
};

static int play(struct lab_run *run, const struct variant *v, const struct params *p,
		struct obs *obs)
{
	struct lab_socks s = LAB_SOCKS_INIT;
	const struct lab_sock *l;
	char send[24] = "";

	/* the server is slow: it accept()s only when the harness says go */
	if (p->request_bytes)
		lab_server(run, NULL, "wait,accept,recv,recv,recv");
	else
		lab_server(run, NULL, "wait,accept,recv,recv");
	if (p->request_bytes)
		snprintf(send, sizeof(send), "send:%ld,", p->request_bytes);
	lab_client(run, "%s%sclose", send, v->reset ? "linger:0," : "");
	lab_finish(run, LAB_PROG_CLIENT);
	/* the server's kernel has taken the client's last word: the RST or the FIN */
	if (v->reset)
		lab_wait_counter(run, LAB_SERVER, "TcpEstabResets", 1);
	else
		lab_wait_state(run, LAB_SERVER, TCP_CLOSE_WAIT);
	lab_states(run, LAB_SERVER, &s);
	l = lab_socks_find(&s, LAB_PORT, TCP_LISTEN);
	obs->queued = l ? (int64_t)l->rqueue : -1;
	obs->established = (int64_t)(lab_socks_count(&s, LAB_PORT, TCP_ESTABLISHED) +
				     lab_socks_count(&s, LAB_PORT, TCP_CLOSE_WAIT));
	lab_socks_free(&s);
	lab_pause(run, "queued",
		  "the client is gone (it sent its last word), its connection still waits in "
		  "the accept queue (ss: LISTEN Recv-Q 1); the server accept()s next");
	lab_note(run, "the client is gone; the server calls accept() now");
	lab_go(run, LAB_PROG_SERVER);
	lab_finish(run, LAB_PROG_SERVER);
	lab_wait_settled(run, LAB_CLIENT);
	return lab_status(run);
}

static void judge(struct lab_run *run, const struct variant *expect, const struct params *p,
		  const struct obs *obs)
{
	static const char *const calls[] = { "accept", "recv", NULL };
	char want[96], data[32] = "";

	/* what was sent before the RST is still delivered: the error comes after it */
	if (p->request_bytes)
		snprintf(data, sizeof(data), " recv=%ld", p->request_bytes);
	snprintf(want, sizeof(want), "accept=0%s %s", data,
		 expect->reset ? "recv=ECONNRESET recv=0" : "recv=0 recv=0");
	lab_expect_calls(run, LAB_PROG_SERVER, calls, want);
	/* the proof that the reset connection was still queued, not removed */
	lab_expect_count(run, "accept queue before accept() (LISTEN Recv-Q)", LAB_EQ, 1,
			 obs->queued);
	lab_expect_state(run, "server connections ESTABLISHED or CLOSE_WAIT before accept()",
			 !expect->reset, obs->established);
	lab_expect_count(run, "RST from the client (server-side pcap)", LAB_EQ, expect->reset,
			 lab_packets(run, LAB_SERVER, LAB_CLIENT, LAB_TH_RST));
	lab_expect_count(run, "FIN from the client (server-side pcap)", LAB_EQ, !expect->reset,
			 lab_packets(run, LAB_SERVER, LAB_CLIENT, LAB_TH_FIN));
	/* tcp_reset() of a queued child: an established connection reset */
	lab_expect_counter(run, LAB_SERVER, "TcpEstabResets", LAB_EQ, expect->reset);
	/* SO_LINGER {1, 0}: tcp_close() disconnects and counts it as an abort on data */
	lab_expect_counter(run, LAB_CLIENT, "TcpExtTCPAbortOnData", LAB_EQ, expect->reset);
	/* after a RST the server's socket is dead: its close() sends nothing at all */
	lab_expect_count(run, "FIN from the server (server-side pcap)", LAB_EQ, !expect->reset,
			 lab_packets(run, LAB_SERVER, LAB_SERVER, LAB_TH_FIN));
	lab_expect_count(run, "RST from the server (server-side pcap)", LAB_EQ, 0,
			 lab_packets(run, LAB_SERVER, LAB_SERVER, LAB_TH_RST));
}

/* clang-format off */
LAB_SCENARIO(rst_before_accept, struct variant, variants, struct params, params, struct obs,
	.name = "rst-before-accept",
	.summary = "a connection reset while it waits in the accept queue: accept() still "
		   "returns it, the first recv() fails with ECONNRESET",
	.symptom = "A busy server accept()s a connection and its very first recv() fails with "
		   "ECONNRESET ('connection reset by peer') although the client never got a byte "
		   "from it: the client (a timeout, a health checker, a port scanner with "
		   "SO_LINGER 0) gave up and reset the connection while it was still queued. "
		   "Textbooks that follow BSD (UNP's 'the kernel removes it from the completed "
		   "queue, accept() blocks') predict something else.",
	.mechanism = "A completed handshake is a child socket in the listener's accept queue "
		     "(inet_csk_reqsk_queue_add()). A RST for it is processed like any other "
		     "(tcp_validate_incoming() -> tcp_reset()): sk_err = ECONNRESET, "
		     "tcp_done() moves it to CLOSE and unhashes it (gone from ss -tan, "
		     "TcpEstabResets +1), but the child is not orphaned (SOCK_DEAD unset), so "
		     "it is not destroyed and stays in the accept queue: the listener's Recv-Q "
		     "still counts it. inet_csk_accept() dequeues whatever is there, whatever "
		     "its state; the first recv() returns bytes that arrived before the RST, "
		     "then the error once (sock_error()), then 0. The client's SO_LINGER {1, "
		     "0} close() is tcp_close() -> tcp_disconnect(): a RST, no FIN, counted as "
		     "TcpExtTCPAbortOnData.",
	.remedy = "Treat ECONNRESET on a freshly accepted socket as routine: close it and go on "
		  "accepting (never exit the accept loop on it), and accept promptly so clients "
		  "do not give up first. Use a non-blocking listener with epoll if several "
		  "workers accept. The contrast, variant 'fin': a client that closes normally "
		  "leaves a clean end of stream (recv() = 0).",
	.seen_on = "6.18; 6.12 and 6.1 in qemu TCG (timings shown there, not judged)",
	.budget_s = 10);
/* clang-format on */
