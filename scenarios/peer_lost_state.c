// SPDX-License-Identifier: MIT
/* peer-lost-state: the server forgot the connection; the client's next segment meets a RST. */
#include <signal.h>

#include "story.h"

struct variant {
	struct lab_variant v;
	bool partition; /* the crash happens while the wire drops everything */
	const char *calls; /* the client's documented calls (printf: the request size) */
};

static const struct variant variants[] = {
	/* the failure: the crash's RST is lost, the client finds out only when it sends */
	{ { "default",
	    "the server crashes during a partition: its RST is lost; the client's next request "
	    "is accepted by send() and answered by a RST from a kernel without the connection",
	    "The handshake [S] [S.] [.], the first request [P.] and the server's [.]; the "
	    "crash's [R.] in the server's capture only (the wire swallowed it); after the "
	    "partition the second request [P.] reaches the server and meets a bare [R]." },
	  true,
	  "send=%ld send=%ld recv=ECONNRESET send=EPIPE" },
	/* the contrast: the crash's RST arrives, the client knows before it writes */
	{ { "crash-seen",
	    "the server crashes with the network up: its RST arrives at once, the client's "
	    "next send() = ECONNRESET and nothing more is sent",
	    "The handshake [S] [S.] [.], the first request [P.] and the server's [.], then the "
	    "crash's [R.] in both captures; the client sends nothing after it." },
	  false,
	  "send=%ld send=ECONNRESET recv=0 send=EPIPE" },
};

struct params {
	long request;
};

static const struct lab_param params[] = {
	LAB_PARAM(struct params, request, 100, 1, 1448, "bytes",
		  "each request's size (one segment); the first stays unread in the server"),
};

struct obs {
	int blackhole;
	int64_t server_sockets; /* on the lab port once the server is gone (inet_diag) */
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

	obs->blackhole = lab_impair(run, "blackhole,dir=both,armed=0");
	/* the server never reads: the crash finds unread data and aborts with a RST */
	lab_server(run, NULL, "accept,wait");
	lab_client(run, "send:%ld,wait,send:%ld,recv,send:%ld", p->request, p->request, p->request);
	lab_wait_for(run, LAB_SERVER, lab_socks_queued, &unread, "the first request queued unread");
	lab_wait_for(run, LAB_CLIENT, lab_socks_queued, &acked, "the first request acknowledged");
	if (v->partition)
		lab_arm(run, obs->blackhole, true);
	lab_pause(run, "before-crash",
		  v->partition ? "the request is ACKed and waits unread in the server's receive "
				 "queue (ss: Recv-Q); the network is partitioned (the blackhole "
				 "drops both ways); the server is killed next (kill -9)" :
				 "the request is ACKed and waits unread in the server's receive "
				 "queue (ss: Recv-Q); the server is killed next (kill -9)");
	/* kill -9: the kernel closes the socket for the dead process (tcp_close()) */
	lab_signal(run, LAB_PROG_SERVER, SIGKILL);
	lab_states(run, LAB_SERVER, &socks);
	obs->server_sockets = lab_socks_count(&socks, LAB_PORT, -1);
	lab_socks_free(&socks);
	if (v->partition) /* the network comes back: nobody on it remembers the crash */
		lab_arm(run, obs->blackhole, false);
	else /* the crash's RST has closed the client's socket before it writes */
		lab_wait_for(run, LAB_CLIENT, lab_socks_lack_state, &open,
			     "the client's socket reset");
	lab_pause(run, "after-crash",
		  v->partition ? "the crash's RST was swallowed by the partition, which is gone "
				 "now: the client still holds an ESTABLISHED connection the "
				 "server's host no longer knows; its next send() comes next" :
				 "the crash's RST reached the client: its socket is closed before "
				 "it writes; its next send() comes next");
	lab_go(run, LAB_PROG_CLIENT);
	lab_finish(run, LAB_PROG_CLIENT);
	return lab_status(run);
}

/* RSTs from @from in @side's capture: with the ACK flag ([R.]) or without ([R]) */
static int64_t resets(const struct lab_run *run, enum lab_host side, enum lab_host from, bool ack)
{
	const struct lab_trace *t = lab_capture(run, side);
	struct in_addr addr = lab_host_addr(from);
	int64_t n = 0;
	size_t i;

	for (i = 0; i < t->n; i++)
		n += t->v[i].src.s_addr == addr.s_addr && (t->v[i].flags & LAB_TH_RST) &&
		     !!(t->v[i].flags & LAB_TH_ACK) == ack;
	return n;
}

static void judge(struct lab_run *run, const struct variant *expect, const struct params *p,
		  const struct obs *obs)
{
	static const char *const calls[] = { "send", "recv", NULL };
	int64_t swallowed = lab_impaired(run, obs->blackhole).dropped;
	char want[96];

	snprintf(want, sizeof(want), expect->calls, p->request, p->request);
	lab_params_of(run, LAB_PROG_CLIENT, "request");
	lab_expect_calls(run, LAB_PROG_CLIENT, calls, want);
	/* the server's view: the crash closed with unread data (a RST), and nothing is left */
	lab_expect_counter(run, LAB_SERVER, "TcpExtTCPAbortOnClose", LAB_EQ, 1);
	lab_expect_state(run, "server sockets on the port after the crash (inet_diag)", 0,
			 obs->server_sockets);
	lab_expect_count(run, "the crash's [R.] from the server (server-side pcap)", LAB_EQ, 1,
			 resets(run, LAB_SERVER, LAB_SERVER, true));
	lab_expect_count(run, "packets the partition swallowed (the crash's RST)", LAB_EQ,
			 expect->partition, swallowed < 0 ? 0 : swallowed);
	/* the client's view: which RST reached it tells who sent it */
	lab_expect_count(run, "[R.] from the dying socket reaching the client (client-side pcap)",
			 LAB_EQ, !expect->partition, resets(run, LAB_CLIENT, LAB_SERVER, true));
	lab_expect_count(run, "bare [R] from a kernel without the connection (client-side pcap)",
			 LAB_EQ, expect->partition, resets(run, LAB_CLIENT, LAB_SERVER, false));
	lab_expect_counter(run, LAB_SERVER, "TcpOutRsts", LAB_EQ, 1 + expect->partition);
	lab_expect_counter(run, LAB_CLIENT, "TcpEstabResets", LAB_EQ, 1);
}

/* clang-format off */
LAB_SCENARIO(peer_lost_state, struct variant, variants, struct params, params, struct obs,
	.name = "peer-lost-state",
	.summary = "the server lost the connection while the network was down: the client's "
		   "next segment meets a RST, ECONNRESET after a send() that succeeded",
	.symptom = "After a server crash or reboot during a network outage, clients keep a "
		   "connection that looks fine: the next request's send() succeeds, then recv() "
		   "fails with ECONNRESET ('connection reset by peer') and the next send() with "
		   "EPIPE. tcpdump shows a bare RST answering the request.",
	.mechanism = "Killed with unread data in its receive queue, the server's socket is "
		     "closed by the kernel with a RST (tcp_close(): tcp_send_active_reset(), "
		     "TcpExtTCPAbortOnClose) and is gone at once: no FIN_WAIT, no TIME_WAIT. The "
		     "wire drops that RST, so the client's socket stays ESTABLISHED with "
		     "nothing in flight and no timer (its first request was acknowledged). "
		     "When the network is back, the client's next segment finds no socket "
		     "on the server: tcp_v4_rcv() answers it with tcp_v4_send_reset(), a RST "
		     "without ACK whose sequence number is the segment's acknowledgement number "
		     "(TcpOutRsts). The client's tcp_reset() sets ECONNRESET (the state was "
		     "ESTABLISHED) and closes: recv() reports it, the next send() gets EPIPE. "
		     "send() had already returned 100: it only copies to the socket buffer. In "
		     "the contrast the crash's [R.] arrives, so the client's next send() returns "
		     "the pending ECONNRESET itself and sends nothing; recv() then reads EOF. A "
		     "restarted host (the seeds' reboot) answers the same way: its kernel has no "
		     "socket for the 4-tuple. "
		     "Seen here: send() = 100 after the partition, the bare [R] back within 20 us, recv() = ECONNRESET, send() = EPIPE; the server's TcpOutRsts 2 (the lost one and the answer).",
	.remedy = "Expect ECONNRESET on any call of a long-lived connection and reconnect "
		  "(idempotent requests, or a session layer that can replay). Keepalive or "
		  "application heartbeats find the dead connection before a request is lost on "
		  "it. Send with MSG_NOSIGNAL or ignore SIGPIPE.",
	.seen_on = "6.18; 6.12 and 6.1 in qemu TCG (timings shown there, not judged)",
	.budget_s = 10);
/* clang-format on */
