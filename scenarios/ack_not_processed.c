// SPDX-License-Identifier: MIT
/* ack-not-processed: acknowledged by the kernel is not processed by the application. */
#include <signal.h>

#include "story.h"

struct variant {
	struct lab_variant v;
	bool reply; /* the client waits for the application's answer */
	const char *calls; /* the client's documented calls (printf: the request size) */
};

static const struct variant variants[] = {
	/* the failure: the client trusts the ACK */
	{ { "default",
	    "the server's kernel ACKs the request, then the server is killed before reading it: "
	    "the data is lost, and the client, which does not wait for an answer, never knows",
	    "The handshake [S] [S.] [.], the request [P.] and the server's [.] for all of it; "
	    "then the crash's [R.] (the data was never read)." },
	  false,
	  "send=%ld" },
	/* the remedy: an application-level acknowledgement */
	{ { "app-ack",
	    "the same crash, the client waits for the application's answer: recv() = "
	    "ECONNRESET, the client knows the request was not processed",
	    "The handshake [S] [S.] [.], the request [P.] and the server's [.]; then the "
	    "crash's [R.] ends the client's wait for the answer." },
	  true,
	  "send=%ld recv=ECONNRESET" },
};

struct params {
	long request;
};

static const struct lab_param params[] = {
	LAB_PARAM(struct params, request, 1000, 1, 16384, "bytes",
		  "the request's size: acknowledged and queued in the server's socket, never read"),
};

struct obs {
	int64_t server_rqueue; /* what the server's kernel held unread before the crash */
};

static int play(struct lab_run *run, const struct variant *v, const struct params *p,
		struct obs *obs)
{
	/* the request arrived and waits unread (a user's client: what it sent, not request) */
	const struct lab_socks_queue unread = {
		LAB_PORT, lab_ours(run, LAB_PROG_CLIENT) ? (uint32_t)p->request : 1, UINT32_MAX
	};
	const struct lab_socks_queue acked = { LAB_PORT, 0, 0 };
	const struct lab_socks_state open = { LAB_PORT, TCP_ESTABLISHED };
	struct lab_socks socks = LAB_SOCKS_INIT;
	const struct lab_sock *s;

	/* a server busy elsewhere: it has not read the request yet */
	lab_server(run, NULL, "accept,wait");
	lab_client(run, "send:%ld,%s", p->request, v->reply ? "recv" : "wait");
	lab_wait_for(run, LAB_SERVER, lab_socks_queued, &unread,
		     "the request queued unread in the server");
	lab_wait_for(run, LAB_CLIENT, lab_socks_queued, &acked, "the request acknowledged");
	lab_states(run, LAB_SERVER, &socks);
	s = lab_socks_find(&socks, LAB_PORT, TCP_ESTABLISHED);
	obs->server_rqueue = s ? (int64_t)s->rqueue : -1;
	lab_socks_free(&socks);
	lab_pause(run, "before-kill",
		  "the server's kernel has ACKed the request but the server has not read it (ss: "
		  "Recv-Q); the client's send() returned long ago; the server is killed next");
	/* kill -9 (a crash, the OOM killer): the kernel closes the socket for the process */
	lab_signal(run, LAB_PROG_SERVER, SIGKILL);
	if (v->reply)
		lab_finish(run, LAB_PROG_CLIENT);
	else
		lab_wait_for(run, LAB_CLIENT, lab_socks_lack_state, &open,
			     "the client's socket reset");
	return lab_status(run);
}

/* the server's ACK of every request byte, before any RST (client-side pcap) */
static int64_t acked_before_reset(const struct lab_trace *t, long request)
{
	struct in_addr server = lab_host_addr(LAB_SERVER);
	size_t i;

	for (i = 0; i < t->n; i++) {
		const struct lab_pkt *pk = &t->v[i];

		if (pk->src.s_addr != server.s_addr)
			continue;
		if (pk->flags & LAB_TH_RST)
			return 0;
		if ((pk->flags & LAB_TH_ACK) && pk->rack == (uint32_t)request + 1)
			return 1;
	}
	return 0;
}

static void judge(struct lab_run *run, const struct variant *expect, const struct params *p,
		  const struct obs *obs)
{
	static const char *const calls[] = { "send", "recv", NULL };
	char want[64];

	snprintf(want, sizeof(want), expect->calls, p->request);
	lab_expect_calls(run, LAB_PROG_CLIENT, calls, want);
	/* TCP's part was done: every byte acknowledged, then queued in the server's socket */
	if (lab_params_of(run, LAB_PROG_CLIENT, "request")) {
		lab_expect_count(
			run, "server ACK of every request byte before the RST (client-side pcap)",
			LAB_EQ, 1, acked_before_reset(lab_capture(run, LAB_CLIENT), p->request));
		lab_expect_count(run,
				 "request bytes unread in the server's socket (inet_diag Recv-Q)",
				 LAB_EQ, p->request, obs->server_rqueue);
	} else { /* what a user's client sent: what the server's socket held unread */
		lab_expect_count(
			run,
			"server ACK of every byte it held unread, before the RST (client pcap)",
			LAB_EQ, 1,
			acked_before_reset(lab_capture(run, LAB_CLIENT), (long)obs->server_rqueue));
	}
	if (lab_needs(run, LAB_PROG_SERVER, "server recv() calls"))
		lab_expect_count(run, "server recv() calls (the application never read it)", LAB_EQ,
				 0, (int64_t)lab_count_calls(run, LAB_PROG_SERVER, "recv", NULL));
	/* the crash: unread data makes the kernel's close a RST (tcp_close()) */
	lab_expect_counter(run, LAB_SERVER, "TcpExtTCPAbortOnClose", LAB_EQ, 1);
	lab_expect_count(run, "RST from the server (client-side pcap)", LAB_EQ, 1,
			 lab_packets(run, LAB_CLIENT, LAB_SERVER, LAB_TH_RST));
}

/* clang-format off */
LAB_SCENARIO(ack_not_processed, struct variant, variants, struct params, params, struct obs,
	.name = "ack-not-processed",
	.summary = "a TCP ACK is not an application's acknowledgement: acknowledged data is "
		   "lost when the server crashes before reading it",
	.symptom = "A client sends a request (a log record, a job, a payment), send() returns "
		   "its full length and tcpdump even shows the server's ACK, yet the server never "
		   "processed it: it crashed or was killed before reading. A fire-and-forget "
		   "client reports success; the request is gone.",
	.mechanism = "send() returns once the bytes are copied into the client's socket buffer; "
		     "the server's kernel ACKs them when they are queued in the server's receive "
		     "queue (tcp_rcv_established() -> tcp_queue_rcv(), then __tcp_ack_snd_check()), "
		     "whatever the application does: inet_diag shows them as its Recv-Q. When the "
		     "process dies, the kernel closes its descriptors: tcp_close() finds unread "
		     "data, discards it, counts TcpExtTCPAbortOnClose and sends a RST "
		     "(tcp_send_active_reset()) instead of a FIN. The client's tcp_reset() "
		     "records ECONNRESET, but only a call on that socket reports it: a client "
		     "that waits for an application-level answer gets recv() = ECONNRESET and "
		     "knows the request was not processed; one that does not, never learns. "
		     "Seen here: send() = 1000, the server's ACK of all of it 18 us later, Recv-Q 1000, then the kill's [R.]; the server's application made no recv() call.",
	.remedy = "Acknowledge at the application level: the server answers once it has "
		  "processed (or durably stored) the request, and the client treats anything "
		  "else (ECONNRESET, EOF, a timeout) as 'not done' and retries, with idempotent "
		  "requests or request ids so that a retry cannot do the work twice.",
	.seen_on = "6.18; 6.12 and 6.1 in qemu TCG (timings shown there, not judged)",
	.budget_s = 10);
/* clang-format on */
