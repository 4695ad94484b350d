// SPDX-License-Identifier: MIT
/* nonblocking-connect: EINPROGRESS, then "writable" says the attempt is over, not that it worked. */
#include "story.h"

struct variant {
	struct lab_variant v;
	bool blocking; /* a plain blocking connect(), for comparison */
	bool listen; /* a server listens on the port */
	bool drop_syns; /* the wire drops every SYN */
	bool deadline; /* the client's epoll_wait() has a deadline, shorter than the SYN timer's */
	const char *calls; /* the client's documented calls */
	const char *events; /* what epoll_wait() reports (NULL: not called) */
};

static const struct variant variants[] = {
	/* the trap: EPOLLOUT fires for a failed attempt too; only SO_ERROR says which */
	{ { "default",
	    "nothing listens: EINPROGRESS, EALREADY, then EPOLLOUT (with EPOLLERR|EPOLLHUP) "
	    "and SO_ERROR = ECONNREFUSED: writable is not connected",
	    "[S] from the client, [R.] from the server one wire delay later, nothing else." },
	  false,
	  false,
	  false,
	  false,
	  "connect=EINPROGRESS connect=EALREADY epoll_wait=1 so_error=ECONNREFUSED",
	  "EPOLLOUT|EPOLLERR|EPOLLHUP" },
	/* the way it should end: SO_ERROR 0; connect() again: 0 once (it notices), then EISCONN */
	{ { "connected",
	    "a server listens: EINPROGRESS, EALREADY, EPOLLOUT alone, SO_ERROR = 0; connect() "
	    "again returns 0 once, then EISCONN",
	    "The handshake [S] [S.] [.], then a [F.] from each side (the second also ACKs the "
	    "first) and the last [.]." },
	  false,
	  true,
	  false,
	  false,
	  "connect=EINPROGRESS connect=EALREADY epoll_wait=1 so_error=0 connect=0 "
	  "connect=EISCONN",
	  "EPOLLOUT" },
	/* nobody answers: the event comes only when the SYN timer gives up */
	{ { "timeout",
	    "the wire drops every SYN: EPOLLOUT (with EPOLLERR|EPOLLHUP) only when the SYN "
	    "retransmissions give up, SO_ERROR = ETIMEDOUT",
	    "The client's [S] retransmitted a second apart (3 in 3 s with tcp_syn_retries 1); "
	    "nothing in the server's capture." },
	  false,
	  true,
	  true,
	  false,
	  "connect=EINPROGRESS connect=EALREADY epoll_wait=1 so_error=ETIMEDOUT",
	  "EPOLLOUT|EPOLLERR|EPOLLHUP" },
	/* the remedy for a hanging connect: the program's own deadline */
	{ { "deadline",
	    "the wire drops every SYN, the client waits at most deadline_ms: epoll_wait() "
	    "times out, the client closes the attempt",
	    "The client's [S] once; nothing answers it, nothing in the server's capture." },
	  false,
	  true,
	  true,
	  true,
	  "connect=EINPROGRESS connect=EALREADY epoll_wait=0",
	  "timed out" },
	/* for comparison: the blocking call reports the outcome itself */
	{ { "blocking",
	    "nothing listens, a blocking connect(): it sleeps one round trip and returns "
	    "ECONNREFUSED itself",
	    "[S] from the client, [R.] from the server one wire delay later, nothing else." },
	  true,
	  false,
	  false,
	  false,
	  "connect=ECONNREFUSED",
	  NULL },
};

struct params {
	long delay_ms, syn_retries, deadline_ms;
};

static const struct lab_param params[] = {
	LAB_PARAM(struct params, delay_ms, 100, 50, 300, "ms",
		  "the wire holds each client SYN this long: the attempt stays in progress (so a "
		  "second connect() meets EALREADY) for at least this; long enough for a loaded "
		  "machine to make that call in time"),
	LAB_PARAM(struct params, syn_retries, 1, 1, 2, "",
		  "client net.ipv4.tcp_syn_retries (timeout): SYN retransmissions before ETIMEDOUT"),
	LAB_PARAM(struct params, deadline_ms, 500, 100, 900, "ms",
		  "the client's epoll_wait() limit (deadline): below the first SYN retransmission"),
};

struct obs {
	long linear_timeouts; /* client net.ipv4.tcp_syn_linear_timeouts, -1 if none */
};

static int play(struct lab_run *run, const struct variant *v, const struct params *p,
		struct obs *obs)
{
	lab_sysctl(run, LAB_CLIENT, "net.ipv4.tcp_syn_retries", p->syn_retries);
	obs->linear_timeouts =
		lab_sysctl_read(run, LAB_CLIENT, "net.ipv4.tcp_syn_linear_timeouts", -1);
	if (v->drop_syns)
		lab_impair(run, "blackhole,dir=c2s,flags=S");
	else /* a wire between them: the answer is not there before connect() returns */
		lab_impair(run, "delay=%ldms,flags=S", p->delay_ms);
	if (v->listen)
		lab_server(run, NULL, "accept,recv,close");
	if (v->blocking)
		lab_client(run, "close");
	else if (v->deadline)
		lab_client(run, "nbconnect,connect,epollout:%ld,close", p->deadline_ms);
	else
		lab_client(run, "nbconnect,connect,%sepollout,soerror%s,close",
			   lab_hold(run, LAB_PROG_CLIENT, "in-progress"),
			   v->listen && !v->drop_syns ? ",connect,connect" : "");
	/*
	 * After connect() again (EALREADY): the handshake is the kernel's now, and epoll will
	 * report whatever it came to. Not with a deadline: a class looking longer than the SYN
	 * retries would turn that variant's timeout into the connect's failure.
	 */
	if (!v->blocking && !v->deadline)
		lab_moment(
			run, LAB_PROG_CLIENT, "connect", 2, "in-progress",
			"connect() said EINPROGRESS, then EALREADY: the handshake goes on in the "
			"kernel (ss -tan: SYN_SENT, or already decided); epoll_wait() for "
			"EPOLLOUT comes next");
	lab_finish_status(run, LAB_PROG_CLIENT, v->blocking ? 1 : 0);
	if (v->listen && !v->drop_syns) { /* the story ends when both sides have closed */
		lab_finish(run, LAB_PROG_SERVER);
		lab_wait_settled(run, LAB_SERVER);
		lab_wait_settled(run, LAB_CLIENT);
	}
	return lab_status(run);
}

/* from the client's first SYN (client-side pcap) to the return of its first @call */
static int64_t since_syn_us(const struct lab_run *run, const char *call, size_t nth)
{
	const struct lab_trace *t = lab_capture(run, LAB_CLIENT);
	const struct lab_event *ev = lab_call(run, LAB_PROG_CLIENT, call, nth);
	size_t i;

	for (i = 0; ev && i < t->n; i++)
		if (t->v[i].flags == LAB_TH_SYN)
			return ev->t_us - t->v[i].t_us;
	return -1;
}

/*
 * from the server's answer reaching the client (its RST or SYN-ACK, client-side pcap) to the
 * return of @call: the call learns the outcome when the answer comes, not before (negative)
 */
static int64_t since_answer_us(const struct lab_run *run, const char *call)
{
	const struct lab_trace *t = lab_capture(run, LAB_CLIENT);
	const struct lab_event *ev = lab_call(run, LAB_PROG_CLIENT, call, 0);
	struct in_addr server = lab_host_addr(LAB_SERVER);
	size_t i;

	for (i = 0; ev && i < t->n; i++)
		if (t->v[i].src.s_addr == server.s_addr &&
		    (t->v[i].flags & (LAB_TH_RST | LAB_TH_SYN)))
			return ev->t_us - t->v[i].t_us;
	return -1;
}

/* how long epoll_wait() itself waited, entry to return */
static int64_t waited_us(const struct lab_run *run)
{
	const struct lab_event *ev = lab_call(run, LAB_PROG_CLIENT, "epoll_wait", 0);

	return ev && ev->t0_us ? ev->t_us - ev->t0_us : -1;
}

static void judge(struct lab_run *run, const struct variant *expect, const struct params *p,
		  const struct obs *obs)
{
	static const char *const calls[] = { "connect", "epoll_wait", "so_error", NULL };
	const struct lab_event *ev = lab_call(run, LAB_PROG_CLIENT, "epoll_wait", 0);
	int64_t syns = 1,
		give_up = lab_syn_give_up_us(run, p->syn_retries, obs->linear_timeouts, &syns);
	bool refused = !expect->listen;
	struct lab_window w;

	lab_expect_calls(run, LAB_PROG_CLIENT, calls, expect->calls);
	if (expect->events && lab_needs(run, LAB_PROG_CLIENT, "what epoll_wait() reported"))
		lab_expect_text(run, "what epoll_wait() reported", expect->events,
				ev ? ev->detail : "(no epoll_wait)");
	lab_expect_count(run, "SYNs from the client (client-side pcap)", LAB_EQ,
			 expect->drop_syns && !expect->deadline ? syns : 1,
			 lab_packets(run, LAB_CLIENT, LAB_CLIENT, LAB_TH_SYN));
	lab_expect_count(run, "RST from the server (client-side pcap)", LAB_EQ, refused,
			 lab_packets(run, LAB_CLIENT, LAB_SERVER, LAB_TH_RST));
	lab_expect_count(run, "SYN-ACKs from the server (client-side pcap)", LAB_EQ,
			 expect->listen && !expect->drop_syns,
			 lab_packets(run, LAB_CLIENT, LAB_SERVER, LAB_TH_SYN | LAB_TH_ACK));
	/* a failed attempt ends in tcp_done(); the program's own close() in SYN_SENT does not */
	lab_expect_counter(run, LAB_CLIENT, "TcpAttemptFails", LAB_EQ,
			   !expect->listen || (expect->drop_syns && !expect->deadline));
	/* when the outcome was known, from the first SYN */
	/* "at once": far below the 1 s SYN retransmission that no answer would lead to */
	if (expect->blocking) {
		lab_expect_at_most(
			run, "the blocking connect() returned with the answer (RST to return)",
			200000, since_answer_us(run, "connect"));
	} else if (expect->deadline) {
		w = lab_window_us(run, p->deadline_ms * 1000);
		lab_expect_within(run, "epoll_wait() gave up at its deadline (its own wait)", &w,
				  waited_us(run));
	} else if (expect->drop_syns) {
		w = lab_window_us(run, give_up);
		lab_expect_within(run, "EPOLLOUT when the SYN timer gave up (first SYN to event)",
				  &w, since_syn_us(run, "epoll_wait", 0));
	} else {
		lab_expect_at_most(run,
				   "EPOLLOUT with the answer (the server's answer to the event)",
				   200000, since_answer_us(run, "epoll_wait"));
	}
}

/* clang-format off */
LAB_SCENARIO(nonblocking_connect, struct variant, variants, struct params, params, struct obs,
	.name = "nonblocking-connect",
	.summary = "non-blocking connect(): EINPROGRESS, then EPOLLOUT for success and failure "
		   "alike; SO_ERROR tells them apart",
	.symptom = "An event-loop client 'connects' (the socket becomes writable), writes its "
		   "request and gets EPIPE or ECONNREFUSED from the write, or treats "
		   "EINPROGRESS as a failure and never connects; or it waits for EPOLLOUT "
		   "forever-ish (130 s by default) when the server's host is gone.",
	.mechanism = "connect() on an O_NONBLOCK socket sends the SYN (tcp_v4_connect() -> "
		     "tcp_connect()) and returns -1 EINPROGRESS at once (__inet_stream_connect(): "
		     "no timeout to sleep). A second connect() while the handshake runs returns "
		     "EALREADY. After it completed, the socket layer still says SS_CONNECTING: "
		     "the next connect() finds the TCP socket ESTABLISHED, sets SS_CONNECTED "
		     "and returns 0; only the one after says EISCONN (POSIX would say EISCONN "
		     "at once). After a failure whose SO_ERROR was read, connect() again says "
		     "ECONNABORTED (the error is gone, the socket CLOSE). tcp_poll() reports the "
		     "socket "
		     "writable (EPOLLOUT) once it left SYN_SENT, whichever way: ESTABLISHED "
		     "gives EPOLLOUT alone; a RST (tcp_reset(): sk_err = ECONNREFUSED) or the "
		     "SYN timer giving up (tcp_write_err(): ETIMEDOUT) ends in tcp_done() with "
		     "sk_shutdown = SHUTDOWN_MASK, so EPOLLOUT comes with EPOLLHUP and, from "
		     "sk_err, EPOLLERR. getsockopt(SO_ERROR) reads (and clears) sk_err: 0, "
		     "ECONNREFUSED, ETIMEDOUT. A failed attempt counts TcpAttemptFails "
		     "(tcp_done() in SYN_SENT); a program that closes the attempt itself "
		     "(its deadline) does not. The lab holds each client SYN on the wire "
		     "(delay_ms) so the attempt is still in progress at the second connect(); "
		     "it lowers tcp_syn_retries to 1 (3 s) for 'timeout'.",
	.remedy = "After EINPROGRESS wait for EPOLLOUT, then always read SO_ERROR: 0 is "
		  "connected, anything else is connect()'s errno (variant 'connected' vs "
		  "'default'). Bound the wait with your own deadline (variant 'deadline') "
		  "instead of the kernel's SYN retries, and treat EALREADY as 'still trying'. A "
		  "blocking connect() (variant 'blocking') returns the errno itself, but only "
		  "after the attempt is over.",
	.seen_on = "6.18; 6.12 and 6.1 in qemu TCG (timings shown there, not judged)",
	.budget_s = 15,
	.timing = true);
/* clang-format on */
