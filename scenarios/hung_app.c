// SPDX-License-Identifier: MIT
/* hung-app: keepalive is answered by the kernel, not the application (the prose is below). */
#include <signal.h>

#include "story.h"

#define REQUEST 8 /* the client's request (or heartbeat), bytes; the reply is as long */

struct variant {
	struct lab_variant v;
	bool hung; /* the server's process is stopped (SIGSTOP) before the request */
	bool deadline; /* the client waits for the reply at most deadline_ms (SO_RCVTIMEO) */
	const char *recv; /* the client's recv() when the story ended */
};

static const struct variant variants[] = {
	/* the failure: the kernel answers every probe, the client waits forever */
	{ { "default",
	    "the server is stopped (SIGSTOP): its kernel ACKs the request and every keepalive "
	    "probe, the client's recv() never returns",
	    "The handshake [S] [S.] [.], the request [P.] and the server's [.], then the "
	    "client's keepalive probes [.] one idle time apart, each answered by the server's "
	    "kernel with [.]." },
	  true,
	  false,
	  "still blocked" },
	/* the remedy: the application's own deadline */
	{ { "heartbeat",
	    "the same hang, the client waits for the reply at most deadline_ms: recv() = "
	    "EAGAIN, the application knows",
	    "The handshake [S] [S.] [.], the heartbeat [P.] and the server's kernel's [.]; "
	    "nothing else before the deadline." },
	  true,
	  true,
	  "-1 EAGAIN" },
	/* the server's application runs: the heartbeat is answered */
	{ { "alive", "the server's application runs: the heartbeat is answered within the deadline",
	    "The handshake [S] [S.] [.], the heartbeat [P.], the server's reply [P.] (it also "
	    "ACKs) and the client's [.]." },
	  false,
	  true,
	  "8" },
};

struct params {
	long idle, count, deadline_ms;
};

static const struct lab_param params[] = {
	LAB_PARAM(struct params, idle, 1, 1, 2, "s",
		  "TCP_KEEPIDLE on the client (TCP_KEEPINTVL 1 s): silence before a probe"),
	LAB_PARAM(struct params, count, 2, 1, 2, "",
		  "TCP_KEEPCNT on the client: the default variant watches count + 1 idle times, "
		  "more than keepalive would need to give up on a dead peer"),
	LAB_PARAM(struct params, deadline_ms, 500, 100, 800, "ms",
		  "the client's wait for the reply (heartbeat, alive): SO_RCVTIMEO; below the "
		  "keepalive idle time"),
};

struct obs {
	int64_t established; /* default: client sockets ESTABLISHED when the time was up */
	int64_t server_rqueue; /* bytes the server's kernel holds unread (inet_diag Recv-Q) */
};

static bool precondition(const struct lab_run *run, const struct variant *v, const struct params *p,
			 char *why, size_t len)
{
	struct lab_window w = lab_timer_window(run, p->deadline_ms * 1000L);

	if (v->deadline && w.hi_us >= p->idle * 1000000L) {
		snprintf(why, len,
			 "deadline_ms=%ld may outlast the keepalive idle time (%ld s): a probe "
			 "would come first; use less than %ld",
			 p->deadline_ms, p->idle, p->idle * 1000L - (w.hi_us - w.expected_us) - 1);
		return false;
	}
	return true;
}

/* the connection is gone, or the monotonic time *@arg has come */
static bool gone_or_past(const struct lab_socks *s, const void *arg)
{
	return !lab_socks_count(s, LAB_PORT, TCP_ESTABLISHED) ||
	       lab_mono_us() >= *(const int64_t *)arg;
}

static int play(struct lab_run *run, const struct variant *v, const struct params *p,
		struct obs *obs)
{
	struct lab_socks socks = LAB_SOCKS_INIT;
	char deadline[32] = "";
	size_t i;
	int64_t until_us;

	if (v->deadline)
		snprintf(deadline, sizeof(deadline), "rcvtimeo:%ld,", p->deadline_ms);
	lab_server(run, NULL, "accept,serve:1:%d:%d,wait", REQUEST, REQUEST);
	lab_client(run, "keepalive:%ld:1:%ld,wait,send:%d,%srecv,wait", p->idle, p->count, REQUEST,
		   deadline);
	lab_wait_state(run, LAB_SERVER, TCP_ESTABLISHED);
	if (v->hung) /* a deadlock, a GC pause, a debugger: the process runs no more */
		lab_signal(run, LAB_PROG_SERVER, SIGSTOP);
	/* with a deadline no probe may go before the reply: the client's keepalive runs on */
	if (v->hung && !v->deadline)
		lab_pause(run, "server-stopped",
			  "the server process is stopped (SIGSTOP; ps: state T) but its kernel "
			  "still answers: the connection is ESTABLISHED; the client's keepalive "
			  "probes go on, each answered, while you look; its request comes next");
	lab_go(run, LAB_PROG_CLIENT);
	if (v->deadline) {
		lab_wait_calls(run, LAB_PROG_CLIENT, "recv", 1);
	} else {
		/* keepalive would have given up on a dead peer long before this */
		until_us = lab_mono_us() + (p->count + 1) * p->idle * 1000000L + 500000;
		lab_wait_for(run, LAB_CLIENT, gone_or_past, &until_us,
			     "the client's connection went or count + 1 idle times passed");
	}
	lab_states(run, LAB_CLIENT, &socks);
	obs->established = lab_socks_count(&socks, LAB_PORT, TCP_ESTABLISHED);
	lab_socks_free(&socks);
	lab_states(run, LAB_SERVER, &socks);
	obs->server_rqueue = -1;
	for (i = 0; i < socks.n; i++)
		if (socks.v[i].state != TCP_LISTEN)
			obs->server_rqueue = socks.v[i].rqueue;
	lab_socks_free(&socks);
	return lab_status(run);
}

/* the client's keepalive probes, and how many the server answered before the next probe */
static void probes(const struct lab_trace *t, int64_t *sent, int64_t *answered)
{
	struct in_addr client = lab_host_addr(LAB_CLIENT);
	bool pending = false;
	size_t i;

	*sent = *answered = 0;
	for (i = 0; i < t->n; i++) {
		const struct lab_pkt *pk = &t->v[i];

		if (pk->src.s_addr == client.s_addr) {
			pending = pk->keepalive;
			*sent += pk->keepalive;
		} else if (pending && pk->flags == LAB_TH_ACK && !pk->len) {
			(*answered)++;
			pending = false;
		}
	}
}

static void judge(struct lab_run *run, const struct variant *expect, const struct params *p,
		  const struct obs *obs)
{
	static const char *const calls[] = { "send", NULL };
	const struct lab_event *send = lab_call(run, LAB_PROG_CLIENT, "send", 0);
	const struct lab_event *recv = lab_call(run, LAB_PROG_CLIENT, "recv", 0);
	struct lab_window w = lab_timer_window(run, p->deadline_ms * 1000L);
	int64_t sent, answered;
	char got[32] = "still blocked";
	bool mine;

	/* a recv() that returned only when the lab stopped the programs was still blocked */
	if (recv && recv->t_us <= lab_story_end_us(run))
		snprintf(got, sizeof(got), "%ld%s%s", recv->ret, recv->err[0] ? " " : "",
			 recv->err);
	else
		recv = NULL;
	probes(lab_capture(run, LAB_CLIENT), &sent, &answered);
	lab_expect_calls(run, LAB_PROG_CLIENT, calls, "send=8");
	/* our client's keepalive and deadline: a user's sets its own, or none */
	mine = lab_params_of(run, LAB_PROG_CLIENT, "idle, count, deadline_ms");
	if (lab_needs(run, LAB_PROG_CLIENT, "client recv() when the story ended"))
		lab_expect_text(run, "client recv() when the story ended", expect->recv, got);
	/* the kernel took the request: acknowledged, held unread while the process is stopped */
	lab_expect_count(run, "request bytes the server's kernel holds unread (inet_diag Recv-Q)",
			 LAB_EQ, expect->hung ? REQUEST : 0, obs->server_rqueue);
	lab_expect_counter(run, LAB_CLIENT, "TcpExtTCPAbortOnTimeout", LAB_EQ, 0);
	if (!expect->deadline) {
		lab_expect_state(run, "client ESTABLISHED after count + 1 idle times (inet_diag)",
				 1, obs->established);
		/* more probes than TCP_KEEPCNT, and no abort: every one was answered */
		if (mine)
			lab_expect_count(run, "keepalive probes from the client (client-side pcap)",
					 LAB_GE, p->count + 1, sent);
		lab_expect_count(run, "probes answered by the server's kernel (client-side pcap)",
				 LAB_EQ, sent, answered);
		lab_expect_timed(run);
		return;
	}
	lab_expect_count(run, "keepalive probes before the reply or the deadline", LAB_EQ, 0, sent);
	if (!mine)
		return;
	if (expect->hung)
		lab_expect_within(run, "recv() gave up after deadline_ms (send to EAGAIN)", &w,
				  send && recv ? recv->t_us - send->t_us : -1);
	else
		lab_expect_at_most(run, "the reply came at once (send to recv)",
				   p->deadline_ms * 1000L / 2,
				   send && recv ? recv->t_us - send->t_us : -1);
}

LAB_PRECONDITION(hung_app, struct variant, struct params)

/* clang-format off */
LAB_SCENARIO(hung_app, struct variant, variants, struct params, params, struct obs,
	.name = "hung-app",
	.summary = "keepalive says alive while the application is hung (SIGSTOP): only an "
		   "application-level deadline or heartbeat notices",
	.symptom = "A client waits for a reply from a server whose process is stuck (deadlock, "
		   "stop-the-world pause, stopped in a debugger). TCP keepalive is on, ss shows "
		   "ESTABLISHED, the request was acknowledged, and yet nothing comes back, for "
		   "ever: keepalive never fires.",
	.mechanism = "Everything TCP does happens in the kernel, whether the process runs or "
		     "not: the server's kernel acknowledges the request into the socket's "
		     "receive queue (inet_diag Recv-Q), and answers each keepalive probe "
		     "(tcp_keepalive_timer() -> tcp_write_wakeup(), a segment with seq = snd_una "
		     "- 1, below the peer's window: its tcp_validate_incoming() answers with "
		     "tcp_send_dupack(), at most one per tcp_invalid_ratelimit, 500 ms). "
		     "Each answer goes through tcp_ack(), which sets icsk_probes_out back to 0 "
		     "and rcv_tstamp to now: the count never reaches TCP_KEEPCNT, and the next "
		     "probe waits a whole TCP_KEEPIDLE again. So keepalive proves the peer's "
		     "kernel is reachable, not that its application works. Only the application "
		     "can time out its own request: here SO_RCVTIMEO makes recv() return EAGAIN "
		     "at the deadline (sock_rcvtimeo()). The lab sets keepalive to seconds on "
		     "the socket (defaults: 7200 s idle, 75 s interval, 9 probes). "
		     "Seen here: keepalive idle 1 s, count 2: three probes in 3.5 s, 1024 ms apart, each ACKed by the stopped server's kernel, no abort; the request's 8 bytes in the server's Recv-Q.",
	.remedy = "Give every request a deadline (poll() or SO_RCVTIMEO, then close() and "
		  "retry elsewhere), and for idle connections send application heartbeats "
		  "that the peer's application, not its kernel, must answer; treat a missed "
		  "heartbeat as a dead peer.",
	.seen_on = "6.18; 6.12 and 6.1 in qemu TCG (timings shown there, not judged)",
	.budget_s = 20,
	.timing = true,
	.check = hung_app_check);
/* clang-format on */
