// SPDX-License-Identifier: MIT
/* half-open: the client's host vanished; the idle server never learns (the prose is below). */
#include "story.h"

#define HEARTBEAT 8 /* the server application's heartbeat, bytes */

struct variant {
	struct lab_variant v;
	bool keepalive; /* SO_KEEPALIVE with idle/interval/count on the server's socket */
	bool heartbeat; /* the server writes a heartbeat, bounded by TCP_USER_TIMEOUT */
	const char *calls; /* the server's documented calls after the partition */
};

static const struct variant variants[] = {
	/* the failure: nobody sends, so nobody notices */
	{ { "default",
	    "no keepalive, the client's host gone: recv() = EAGAIN at SO_RCVTIMEO, the server "
	    "still ESTABLISHED with no timer armed",
	    "The handshake [S] [S.] [.], then nothing at all in either capture: the server "
	    "sends nothing, so nothing can fail." },
	  false,
	  false,
	  "recv=EAGAIN" },
	/* keepalive probes find out */
	{ { "keepalive",
	    "keepalive on the server: unanswered probes, recv() = ETIMEDOUT after idle + "
	    "interval x count",
	    "The handshake [S] [S.] [.], then the server's keepalive probes [.] 'interval' apart "
	    "and its [R.] at the abort, in the server's capture only (the wire swallowed them)." },
	  true,
	  false,
	  "recv=ETIMEDOUT" },
	/* an application heartbeat puts data in flight; TCP_USER_TIMEOUT bounds it */
	{ { "heartbeat",
	    "the server sends a heartbeat with TCP_USER_TIMEOUT: its retransmissions time out, "
	    "recv() = ETIMEDOUT",
	    "The handshake [S] [S.] [.], then the server's heartbeat [P.] and its "
	    "retransmissions [P.] in the server's capture only, until the user timeout; no "
	    "reset at the abort." },
	  false,
	  true,
	  "send=8 recv=ETIMEDOUT" },
};

struct params {
	long idle, interval, count, user_timeout, rcvtimeo;
};

static const struct lab_param params[] = {
	LAB_PARAM(struct params, idle, 1, 1, 2, "s", "TCP_KEEPIDLE (variant keepalive)"),
	LAB_PARAM(struct params, interval, 1, 1, 2, "s", "TCP_KEEPINTVL (variant keepalive)"),
	LAB_PARAM(struct params, count, 2, 1, 2, "", "TCP_KEEPCNT (variant keepalive)"),
	LAB_PARAM(struct params, user_timeout, 1000, 500, 2000, "ms",
		  "TCP_USER_TIMEOUT on the server (variant heartbeat)"),
	LAB_PARAM(struct params, rcvtimeo, 4000, 1000, 7000, "ms",
		  "SO_RCVTIMEO on the server's recv(): how long the application waits; it must "
		  "outlast keepalive's or the heartbeat's verdict in those variants"),
};

struct obs {
	int blackhole;
	int64_t established; /* server sockets ESTABLISHED once recv() returned */
	int timer; /* the timer armed on that socket (inet_diag), -1 without one */
};

/* keepalive's verdict, after the setsockopt: idle + interval x count */
static int64_t keepalive_us(const struct params *p)
{
	return (p->idle + p->interval * p->count) * 1000000L;
}

/*
 * The heartbeat's verdict, after it is sent: a loss probe and one retransmission timeout
 * (rto-exhaustion tells how), then TCP_USER_TIMEOUT since that first timer retransmission; at
 * most one RTO more than that by the clamped timer's slack
 */
static int64_t heartbeat_us(const struct lab_run *run, const struct params *p)
{
	int64_t rto = lab_timer_us(run, LAB_TCP_RTO_MIN) + lab_tick_us(run);

	return 2 * lab_timer_window(run, rto).expected_us + p->user_timeout * 1000L;
}

static bool precondition(const struct lab_run *run, const struct variant *v, const struct params *p,
			 char *why, size_t len)
{
	int64_t verdict = v->keepalive ? keepalive_us(p) : v->heartbeat ? heartbeat_us(run, p) : 0;
	int64_t need = verdict + (verdict ? lab_window_us(run, verdict).hi_us - verdict : 0);

	if (verdict && p->rcvtimeo * 1000L <= need) {
		snprintf(why, len,
			 "rcvtimeo=%ld ms ends recv() before the kernel's verdict (%lld ms at the "
			 "latest): use more than %lld",
			 p->rcvtimeo, (long long)need / 1000, (long long)need / 1000);
		return false;
	}
	return true;
}

static int play(struct lab_run *run, const struct variant *v, const struct params *p,
		struct obs *obs)
{
	char opts[96] = "", heartbeat[16] = "";
	struct lab_socks socks = LAB_SOCKS_INIT;
	const struct lab_sock *s;

	if (v->keepalive)
		snprintf(opts, sizeof(opts), "keepalive:%ld:%ld:%ld,", p->idle, p->interval,
			 p->count);
	if (v->heartbeat) {
		snprintf(opts, sizeof(opts), "user_timeout:%ld,", p->user_timeout);
		snprintf(heartbeat, sizeof(heartbeat), "send:%d,", HEARTBEAT);
	}
	/* the client's host goes away once the connection is up: nothing in or out */
	obs->blackhole = lab_impair(run, "blackhole,dir=both,armed=0");
	lab_server(run, NULL, "accept,wait,%srcvtimeo:%ld,%srecv,wait", opts, p->rcvtimeo,
		   heartbeat);
	lab_client(run, "wait"); /* connected, then silent: its host is about to vanish */
	lab_wait_state(run, LAB_SERVER, TCP_ESTABLISHED);
	lab_arm(run, obs->blackhole, true);
	lab_pause(run, "host-gone",
		  "the client's host is gone (the blackhole drops both ways); the server's "
		  "connection is ESTABLISHED, idle, with no timer (ss -o); its options and its "
		  "recv() come next: nothing will tell it the peer is gone");
	lab_go(run, LAB_PROG_SERVER);
	/* the server's recv() has returned, one way or another: what does its kernel hold? */
	lab_wait_calls(run, LAB_PROG_SERVER, "recv", 1);
	lab_states(run, LAB_SERVER, &socks);
	s = lab_socks_find(&socks, LAB_PORT, TCP_ESTABLISHED);
	obs->established = lab_socks_count(&socks, LAB_PORT, TCP_ESTABLISHED);
	obs->timer = s && s->timer ? s->timer : -1;
	lab_socks_free(&socks);
	return lab_status(run);
}

static int64_t count_keepalives(const struct lab_trace *t, struct in_addr from)
{
	int64_t n = 0;
	size_t i;

	for (i = 0; i < t->n; i++)
		n += t->v[i].src.s_addr == from.s_addr && t->v[i].keepalive;
	return n;
}

static void judge(struct lab_run *run, const struct variant *expect, const struct params *p,
		  const struct obs *obs)
{
	static const char *const calls[] = { "send", "recv", NULL };
	const char *start = expect->keepalive ? "keepalive" :
			    expect->heartbeat ? "send" :
						"rcvtimeo";
	const struct lab_event *from = lab_call(run, LAB_PROG_SERVER, start, 0);
	const struct lab_event *recv = lab_call(run, LAB_PROG_SERVER, "recv", 0);
	bool detected = expect->keepalive || expect->heartbeat;
	int64_t took = recv && from ? recv->t_us - from->t_us : -1;
	struct lab_window w;

	lab_expect_calls(run, LAB_PROG_SERVER, calls, expect->calls);
	/* the proof of the half-open state: alive in the table, nothing scheduled to check it */
	lab_expect_state(run, "server ESTABLISHED after recv() returned (inet_diag)", !detected,
			 obs->established);
	lab_expect_text(run, "timer armed on the server's socket (inet_diag)",
			detected ? "no socket" : "none",
			!obs->established ? "no socket" :
			obs->timer < 0	  ? "none" :
			obs->timer == 2	  ? "keepalive" :
			obs->timer == 1	  ? "retransmit" :
					    "other");
	/* the probes' count and recv()'s time come from the options our server sets */
	if (lab_params_of(run, LAB_PROG_SERVER, "idle, interval, count, user_timeout, rcvtimeo")) {
		lab_expect_count(run, "keepalive probes from the server (server-side pcap)", LAB_EQ,
				 expect->keepalive ? p->count : 0,
				 count_keepalives(lab_capture(run, LAB_SERVER),
						  lab_host_addr(LAB_SERVER)));
		lab_expect_counter(run, LAB_SERVER, "TcpExtTCPKeepAlive", LAB_EQ,
				   expect->keepalive ? p->count : 0);
	}
	lab_expect_counter(run, LAB_SERVER, "TcpExtTCPAbortOnTimeout", LAB_EQ, detected);
	/* keepalive's abort sends a RST (tcp_keepalive_timer()); tcp_write_err() alone does not */
	lab_expect_count(run, "RST from the server (server-side pcap)", LAB_EQ, expect->keepalive,
			 lab_packets(run, LAB_SERVER, LAB_SERVER, LAB_TH_RST));
	/* the heartbeat, its loss probe and at least one timer retransmission */
	lab_expect_count(run, "data segments from the server (server-side pcap)",
			 expect->heartbeat ? LAB_GE : LAB_EQ, expect->heartbeat ? 3 : 0,
			 lab_packets(run, LAB_SERVER, LAB_SERVER, LAB_TH_PSH));
	if (!lab_needs(run, LAB_PROG_SERVER, "when the server's recv() failed"))
		return;
	if (expect->keepalive)
		w = lab_window_us(run, keepalive_us(p));
	else if (expect->heartbeat)
		w = lab_window_us(run, heartbeat_us(run, p));
	else
		w = lab_timer_window(run, p->rcvtimeo * 1000L);
	lab_expect_within(
		run,
		expect->keepalive ? "recv() error after idle + interval x count" :
		expect->heartbeat ? "recv() error after the heartbeat: loss probe + RTO + "
				    "user timeout" :
				    "recv() gave up after SO_RCVTIMEO",
		&w, took);
}

LAB_PRECONDITION(half_open, struct variant, struct params)

/* clang-format off */
LAB_SCENARIO(half_open, struct variant, variants, struct params, params, struct obs,
	.name = "half-open",
	.summary = "the client's host vanished without a FIN or RST: the idle server keeps an "
		   "ESTABLISHED connection forever; keepalive or a heartbeat finds out",
	.symptom = "A server's sessions pile up: ss shows ESTABLISHED connections to clients "
		   "that crashed, lost power or roamed away long ago. A thread blocked in "
		   "recv() on one of them never returns (here SO_RCVTIMEO bounds it: EAGAIN, "
		   "'resource temporarily unavailable', and the connection is still there).",
	.mechanism = "TCP learns that a peer is gone only from a timer that expects an answer. "
		     "An idle ESTABLISHED socket with nothing unacknowledged has none: "
		     "inet_diag shows no timer on it (ss -o prints no timer:), and neither "
		     "tcp_retransmit_timer() nor tcp_probe_timer() will ever run; "
		     "TCP_USER_TIMEOUT alone changes nothing, because only "
		     "tcp_write_timeout() (data in flight), tcp_probe_timer() (zero window) and "
		     "tcp_keepalive_timer() (SO_KEEPALIVE) consult it (seen here: TCP_USER_TIMEOUT "
		     "500 ms alone left the socket ESTABLISHED with no timer 2.5 s later). SO_KEEPALIVE arms "
		     "tcp_keepalive_timer(): after TCP_KEEPIDLE it sends probes (seq = snd_una "
		     "- 1, TcpExtTCPKeepAlive), and after TCP_KEEPCNT unanswered ones it sends "
		     "a RST (tcp_send_active_reset()) and tcp_write_err() reports ETIMEDOUT "
		     "(TcpExtTCPAbortOnTimeout). An application heartbeat puts data in flight: "
		     "the loss probe, then the retransmission timer (tcp_retransmit_timer()), "
		     "and with TCP_USER_TIMEOUT the abort comes that long after the first timer "
		     "retransmission (retransmits_timed_out()), without a RST. The keepalive "
		     "defaults are 7200 s idle, 75 s interval, 9 probes (2 h 11 min); the lab "
		     "sets seconds on the socket. "
		     "Seen here: no packet at all for 4 s without keepalive; keepalive 1/1/2: two probes and ETIMEDOUT after 3.08 s; the heartbeat with TCP_USER_TIMEOUT 1000 ms: ETIMEDOUT 1.44 s after it was sent.",
	.remedy = "Enable keepalive with short timers on long-lived connections "
		  "(TCP_KEEPIDLE/TCP_KEEPINTVL/TCP_KEEPCNT), or send application heartbeats "
		  "and bound them with TCP_USER_TIMEOUT or a reply deadline; close sessions that "
		  "fail it.",
	.seen_on = "6.18; 6.12 and 6.1 in qemu TCG (timings shown there, not judged)",
	.budget_s = 20,
	.timing = true,
	.check = half_open_check);
/* clang-format on */
