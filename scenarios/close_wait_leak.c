// SPDX-License-Identifier: MIT
/* close-wait-leak: the peer closed, the application never calls close(): CLOSE_WAIT for ever. */
#include "story.h"

#define LATE_WRITE 100 /* the server's one late write: one segment, so one RST answers it */

struct variant {
	struct lab_variant v;
	bool closes; /* the server calls close() once it has read the end of the stream */
};

static const struct variant variants[] = {
	/* the leak: the server reads EOF and forgets the socket */
	{ { "default", "server reads EOF and never close()s: CLOSE_WAIT outlives the client's side",
	    "The handshake [S] [S.] [.], the client's request [P.], its [F.] and the server's "
	    "[.] for them; no FIN from the server. Much later the server's one write [P.] meets "
	    "an [R] from the client, whose side of the connection had expired." },
	  false },
	/* the remedy: recv() = 0 means the peer is done: close() */
	{ { "closes", "server close()s after reading EOF: LAST_ACK, then gone; client TIME_WAIT",
	    "The handshake [S] [S.] [.], the request [P.], the client's [F.] and the server's "
	    "[.], then the server's [F.] and the client's last [.]: an orderly close." },
	  true },
};

struct params {
	long request_bytes, fin_timeout_s;
};

static const struct lab_param params[] = {
	LAB_PARAM(struct params, request_bytes, 200, 1, 60000, "bytes",
		  "size of the client's request, read by the server"),
	LAB_PARAM(struct params, fin_timeout_s, 1, 1, 3, "s",
		  "net.ipv4.tcp_fin_timeout in the client's namespace (default 60): how long "
		  "its orphan waits in FIN_WAIT2 for the server's FIN"),
};

struct obs {
	int64_t server_close_wait; /* once the client's side is gone (default) or settled */
	int64_t client_left; /* the client's sockets at that moment (TIME_WAIT in closes) */
	int64_t client_gone_us; /* when inet_diag stopped listing the client's orphan; 0: never */
};

static bool client_gone(const struct lab_socks *s, const void *arg)
{
	return !lab_socks_count(s, LAB_PORT, -1);
}

static int play(struct lab_run *run, const struct variant *v, const struct params *p,
		struct obs *obs)
{
	lab_sysctl(run, LAB_CLIENT, "net.ipv4.tcp_fin_timeout", p->fin_timeout_s);
	/* drain: recv() until it returns 0, the client's FIN */
	if (v->closes)
		lab_server(run, NULL, "accept,drain,close");
	else
		lab_server(run, NULL, "accept,drain,wait,send:%d,wait", LATE_WRITE);
	lab_client(run, "send:%ld,close", p->request_bytes);
	lab_finish(run, LAB_PROG_CLIENT);
	if (v->closes) {
		lab_finish(run, LAB_PROG_SERVER);
		lab_wait_settled(run, LAB_SERVER);
	} else {
		/* the server sits in CLOSE_WAIT; the client's orphan waits in FIN_WAIT2, then not */
		lab_wait_state(run, LAB_SERVER, TCP_CLOSE_WAIT);
		lab_wait_for(run, LAB_CLIENT, client_gone, NULL,
			     "the client's orphan has left FIN_WAIT2 (tcp_fin_timeout)");
		obs->client_gone_us = lab_status(run) ? 0 : lab_now_us();
	}
	obs->client_left = lab_states_count(run, LAB_CLIENT, -1);
	obs->server_close_wait = lab_states_count(run, LAB_SERVER, TCP_CLOSE_WAIT);
	lab_pause(run, v->closes ? "closed" : "close-wait",
		  v->closes ?
			  "the server read the end of the stream and closed: no CLOSE_WAIT "
			  "left on either side" :
			  "the server read the end of the stream (recv() = 0) and never "
			  "closed: its socket sits in CLOSE_WAIT (ss: CLOSE-WAIT) with no "
			  "timer, while the client's orphan timed out of FIN_WAIT2 and is gone; "
			  "the server's late write comes next and meets a RST");
	if (!v->closes) {
		/* the application finally writes: the client's kernel no longer knows the socket */
		lab_go(run, LAB_PROG_SERVER);
		lab_wait_for(run, LAB_SERVER, client_gone, NULL,
			     "the client's RST has closed the server's socket");
		lab_go(run, LAB_PROG_SERVER);
		lab_finish(run, LAB_PROG_SERVER);
	}
	return lab_status(run);
}

static void judge(struct lab_run *run, const struct variant *expect, const struct params *p,
		  const struct obs *obs)
{
	static const char *const calls[] = { "send", "close", NULL };
	struct lab_window w = lab_timer_window(run, p->fin_timeout_s * 1000000);
	/* the ACK of the client's FIN moves its orphan to FIN_WAIT2 and starts the timer */
	const struct lab_pkt *acked = lab_ack_of_fin(run, LAB_CLIENT, LAB_CLIENT);
	char want[64];

	if (expect->closes)
		snprintf(want, sizeof(want), "close=0");
	else
		snprintf(want, sizeof(want), "send=%d", LATE_WRITE);
	lab_expect_calls(run, LAB_PROG_SERVER, calls, want);
	lab_params_of(run, LAB_PROG_CLIENT, "request_bytes");
	lab_expect_state(run, "server sockets in CLOSE_WAIT (inet_diag)", !expect->closes,
			 obs->server_close_wait);
	lab_expect_state(run, "client sockets left then (inet_diag: TIME_WAIT)", expect->closes,
			 obs->client_left);
	if (!expect->closes)
		lab_expect_within(
			run, "client's orphan gone after its FIN's ACK (tcp_fin_timeout)", &w,
			obs->client_gone_us && acked ? obs->client_gone_us - acked->t_us : -1);
	lab_expect_count(run, "FIN from the server (server-side pcap)", LAB_EQ, expect->closes,
			 lab_packets_once(run, LAB_SERVER, LAB_SERVER, LAB_TH_FIN, 0));
	lab_expect_count(run, "RST from the client (server-side pcap)", LAB_EQ, !expect->closes,
			 lab_packets(run, LAB_SERVER, LAB_CLIENT, LAB_TH_RST));
}

LAB_SCENARIO(
	close_wait_leak, struct variant, variants, struct params, params, struct obs,
	.name = "close-wait-leak",
	.summary = "the peer closed and the application never calls close(): the socket stays in "
		   "CLOSE_WAIT for ever, long after the peer has forgotten it",
	.symptom = "`ss -tan` on a server shows CLOSE-WAIT sockets piling up, one per client "
		   "that went away; the process runs out of file descriptors after days. The "
		   "clients' side shows nothing: their FIN_WAIT2 expired long ago. When the "
		   "server finally writes on such a socket, the client's host answers RST.",
	.mechanism = "The client's FIN moves the server's socket to CLOSE_WAIT (tcp_fin()): it "
		     "now waits for its own application's close(), and the kernel has no timer "
		     "of its own for that state: only close() (or shutdown(SHUT_WR)) sends the "
		     "server's FIN. SO_KEEPALIVE, if set, goes on probing a CLOSE_WAIT socket "
		     "(tcp_keepalive_timer() skips only CLOSE and SYN_SENT) and a reset then "
		     "closes the connection, but not the descriptor: the leak stays until "
		     "close(). recv() returns 0 to say so; a server that ignores it keeps "
		     "the socket and its descriptor. The client's orphan, meanwhile, moved to "
		     "FIN_WAIT2 when its FIN was ACKed and became a timewait socket "
		     "(tcp_time_wait(sk, TCP_FIN_WAIT2, tcp_fin_time(sk))) that expires after "
		     "tcp_fin_timeout (60 s by default; lowered in the lab's client namespace, "
		     "tcp_fin_time() keeps at least 3.5 RTO). After that the client's kernel has "
		     "no socket for the 4-tuple, so the server's late write is answered by a RST "
		     "(tcp_v4_send_reset() for a segment no socket owns). Observed on 6.18: the "
		     "server in CLOSE_WAIT with no socket left on the client ~1 s after its FIN, "
		     "no FIN from the server, one RST for its late write.",
	.remedy = "Treat recv() = 0 (or EPOLLRDHUP) as the end: finish what you owe and call "
		  "close() (variant 'closes': LAST_ACK, then gone; the client keeps TIME_WAIT). "
		  "In a server, every path out of a connection's handler must close the "
		  "descriptor, errors included; `ss -tan state close-wait` and "
		  "`ls /proc/PID/fd | wc -l` find the leak.",
	.seen_on = "6.18; 6.12 and 6.1 in qemu TCG (timings shown there, not judged)",
	.budget_s = 10);
