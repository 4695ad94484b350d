// SPDX-License-Identifier: MIT
/* send-buffer-full: the peer does not read; send() blocks or fails (prose in the definition). */
#include "buffers.h"
#include "story.h"

enum writer {
	BLOCKING, /* send() with SO_SNDTIMEO */
	NONBLOCKING, /* send(MSG_DONTWAIT) until EAGAIN, then epoll_wait() for EPOLLOUT */
};

struct variant {
	struct lab_variant v;
	enum writer writer;
	bool reader; /* the server reads everything */
};

static const struct variant variants[] = {
	/* a blocking writer: the first send() waits SO_SNDTIMEO and returns a short count */
	{ { "default",
	    "the peer does not read: each blocking send() waits SO_SNDTIMEO; short counts while "
	    "anything fits, then EAGAIN",
	    "The handshake [S] [S.] [.]; the client's data [.] and [P.] until the server's ACKs "
	    "[.] advertise a zero window (the segment that fills it is ACKed only by the "
	    "delayed-ACK timer, so the client's tail loss probe re-sends it first: a [.] "
	    "marked retransmission, D-SACKed by the zero-window ACK); then the client's "
	    "window probes [.] (its persist timer, while send() waits) and the server's zero-window "
	    "answers [.]." },
	  BLOCKING,
	  false },
	/* a non-blocking writer: short counts and EAGAIN at once; at last EPOLLOUT never comes */
	{ { "nonblocking",
	    "the peer does not read: send(MSG_DONTWAIT) returns short counts, then EAGAIN at "
	    "once; EPOLLOUT while ACKs free room, then epoll_wait() times out",
	    "The handshake [S] [S.] [.]; the client's data [.] and [P.] until the server's ACKs "
	    "[.] advertise a zero window (the segment that fills it is ACKed only by the "
	    "delayed-ACK timer, so the client's tail loss probe re-sends it first: a [.] "
	    "marked retransmission, D-SACKed by the zero-window ACK); then the client's "
	    "window probes [.] (its persist timer, while it waits for EPOLLOUT) and the server's zero-window "
	    "answers [.]." },
	  NONBLOCKING,
	  false },
	/* the remedy: the reader drains, the blocking send() completes */
	{ { "drained", "the peer reads: the same blocking send() completes with every byte",
	    "The handshake [S] [S.] [.]; the client's data [.] and [P.] with the server's ACKs "
	    "[.] as it reads, the server's [F.] once it has read "
	    "every byte, the client's [F.] and the last [.]." },
	  BLOCKING,
	  true },
};

struct params {
	long rcvbuf, sndbuf, bytes, sndtimeo_ms;
};

static const struct lab_param params[] = {
	LAB_PARAM(struct params, rcvbuf, 16384, 4096, 65536, "bytes",
		  "the server's SO_RCVBUF (doubled by the kernel)"),
	LAB_PARAM(struct params, sndbuf, 16384, 4096, 65536, "bytes",
		  "the client's SO_SNDBUF (doubled by the kernel): what its send queue holds"),
	LAB_PARAM(struct params, bytes, 262144, 262144, 2097152, "bytes",
		  "what each send() offers: more than four times both buffers together"),
	LAB_PARAM(struct params, sndtimeo_ms, 500, 300, 1000, "ms",
		  "SO_SNDTIMEO of the blocking writer (default, drained); the non-blocking one "
		  "waits as long for EPOLLOUT"),
};

/* the story needs more bytes than the buffers can take (buffers.h) */
static bool precondition(const struct lab_run *run, const struct variant *v, const struct params *p,
			 char *why, size_t len)
{
	return buffers_overflow(p->bytes, p->rcvbuf, p->sndbuf, why, len);
}

struct obs {
	struct lab_sock sender, receiver; /* inet_diag, after the writer gave up */
	int64_t sampled; /* 2 when both sockets were found */
};

static void sample(struct lab_run *run, enum lab_host host, struct lab_sock *out, int64_t *n)
{
	struct lab_socks socks = LAB_SOCKS_INIT;
	const struct lab_sock *sk;

	lab_states(run, host, &socks);
	sk = lab_socks_find(&socks, LAB_PORT, TCP_ESTABLISHED);
	if (sk) {
		*out = *sk;
		(*n)++;
	}
	lab_socks_free(&socks);
}

static int play(struct lab_run *run, const struct variant *v, const struct params *p,
		struct obs *obs)
{
	/* the reader closes first, once it has every byte: no FIN rides on the client's data */
	if (v->reader)
		lab_server(run, LAB_KNOBS(.rcvbuf = p->rcvbuf), "accept,drain:%ld,close", p->bytes);
	else
		lab_server(run, LAB_KNOBS(.rcvbuf = p->rcvbuf), "accept,wait,drain,close");
	if (v->writer == NONBLOCKING)
		lab_client(run, "sndbuf:%ld,nbwrite:%ld:%ld,mark,wait", p->sndbuf, p->bytes,
			   p->sndtimeo_ms);
	else if (v->reader)
		lab_client(run, "sndbuf:%ld,sndtimeo:%ld,send:%ld,recv,close", p->sndbuf,
			   p->sndtimeo_ms, p->bytes);
	else
		lab_client(run, "sndbuf:%ld,sndtimeo:%ld,sends:%ld:8,mark,wait", p->sndbuf,
			   p->sndtimeo_ms, p->bytes);
	if (v->reader) {
		lab_finish_all(run);
		lab_pause(run, "drained",
			  "the reader read every byte and closed: the blocking send() returned "
			  "the whole count, the send queue emptied as the window opened");
		lab_wait_settled(run, LAB_SERVER);
		return lab_status(run);
	}
	/* the queues over time: after the first send() returned, and once the writer gave up */
	lab_wait_calls(run, LAB_PROG_CLIENT, "send", 1);
	sample(run, LAB_CLIENT, &obs->sender, &obs->sampled);
	sample(run, LAB_SERVER, &obs->receiver, &obs->sampled);
	obs->sampled = 0;
	/* the writer gave up: a send() failed (and the wait for EPOLLOUT returned) */
	lab_wait_calls(run, LAB_PROG_CLIENT, "note", 1);
	sample(run, LAB_CLIENT, &obs->sender, &obs->sampled);
	sample(run, LAB_SERVER, &obs->receiver, &obs->sampled);
	lab_pause(
		run, "queues-full",
		v->writer == NONBLOCKING ?
			"the writer gave up: send() said EAGAIN at once and EPOLLOUT never "
			"came; the client's Send-Q holds what the server's zero window cannot take, "
			"the server's Recv-Q is full (ss); window probes go on while you look" :
			"the writer gave up: its send() blocked SO_SNDTIMEO and said EAGAIN; the "
			"client's Send-Q holds what the server's zero window cannot take, the "
			"server's Recv-Q is full (ss); window probes go on while you look");
	return lab_status(run);
}

/* what the client's send() calls accepted, in all, and how many returned a short count */
static int64_t accepted(const struct lab_run *run, long bytes, int64_t *short_counts)
{
	const struct lab_event *ev;
	int64_t sum = 0;
	size_t i;

	*short_counts = 0;
	for (i = 0; (ev = lab_call(run, LAB_PROG_CLIENT, "send", i)); i++) {
		sum += ev->ret > 0 ? ev->ret : 0;
		*short_counts += ev->ret > 0 && ev->ret < bytes;
	}
	return sum;
}

/* what the server's recv() calls returned, in all */
static int64_t read_bytes(const struct lab_run *run)
{
	const struct lab_event *ev;
	int64_t sum = 0;
	size_t i;

	for (i = 0; (ev = lab_call(run, LAB_PROG_SERVER, "recv", i)); i++)
		sum += ev->ret > 0 ? ev->ret : 0;
	return sum;
}

/* how long the client's @nth call named @call took, -1 if there is none */
static int64_t took(const struct lab_run *run, const char *call, size_t nth)
{
	const struct lab_event *ev = lab_call(run, LAB_PROG_CLIENT, call, nth);

	return ev && ev->t0_us ? ev->t_us - ev->t0_us : -1;
}

static void judge(struct lab_run *run, const struct variant *expect, const struct params *p,
		  const struct obs *obs)
{
	struct lab_window timeo = lab_timer_window(run, p->sndtimeo_ms * 1000);
	int64_t shorts = 0, total = accepted(run, p->bytes, &shorts);
	const struct lab_event *last, *wait;
	size_t n_waits, n_sends = lab_count_calls(run, LAB_PROG_CLIENT, "send", NULL);
	const char *calls[] = { "send", "epoll_wait", NULL };
	char want[64];

	lab_params_of(run, LAB_PROG_SERVER, "rcvbuf");
	lab_params_of(run, LAB_PROG_CLIENT, "sndbuf, bytes, sndtimeo_ms");
	if (!lab_needs(run, LAB_PROG_CLIENT, "the client's send() calls"))
		return;
	last = n_sends ? lab_call(run, LAB_PROG_CLIENT, "send", n_sends - 1) : NULL;
	if (expect->reader) {
		snprintf(want, sizeof(want), "send=%ld", p->bytes);
		lab_expect_calls(run, LAB_PROG_CLIENT, calls, want);
		if (lab_needs(run, LAB_PROG_SERVER, "bytes the server read"))
			lab_expect_count(run, "bytes the server read (its recv() calls)", LAB_EQ,
					 p->bytes, read_bytes(run));
		return;
	}
	/* the short count: what fit in the send queue and the receiver's buffer */
	lab_expect_count(run, "send() calls that returned a short count", LAB_GE, 1, shorts);
	lab_expect_text(run, "the writer's last send() (errno)", "EAGAIN",
			last && last->ret < 0 ? last->err : "no error");
	/*
	 * Every accepted byte is somewhere: unread in the server's receive queue, or waiting in
	 * the client's send queue (nothing in flight once the window is closed)
	 */
	lab_expect_count(run, "bytes accepted = client Send-Q + server Recv-Q (inet_diag)", LAB_EQ,
			 total, (int64_t)obs->sender.wqueue + obs->receiver.rqueue);
	lab_expect_count(run, "client's Send-Q: bytes waiting (inet_diag)", LAB_GE, 1,
			 obs->sender.wqueue);
	lab_expect_count(run, "server's window as the client holds it, tcpi_snd_wnd", LAB_EQ, 0,
			 obs->sender.snd_wnd);
	lab_expect_counter(run, LAB_SERVER, "TcpExtTCPToZeroWindowAdv", LAB_GE, 1);
	if (expect->writer == BLOCKING) {
		/* sk_stream_wait_memory() sleeps out the whole SO_SNDTIMEO, then -EAGAIN */
		lab_expect_within(run, "first send() blocked SO_SNDTIMEO, then a short count",
				  &timeo, took(run, "send", 0));
		lab_expect_within(run, "last send() blocked SO_SNDTIMEO, then EAGAIN", &timeo,
				  last ? last->t_us - last->t0_us : -1);
		return;
	}
	/* MSG_DONTWAIT: a timeout of 0, -EAGAIN without sleeping */
	lab_expect_at_most(run, "last send(): EAGAIN at once, far below SO_SNDTIMEO",
			   p->sndtimeo_ms * 1000 / 5, last ? last->t_us - last->t0_us : -1);
	n_waits = lab_count_calls(run, LAB_PROG_CLIENT, "epoll_wait", NULL);
	wait = n_waits ? lab_call(run, LAB_PROG_CLIENT, "epoll_wait", n_waits - 1) : NULL;
	lab_expect_within(run, "last epoll_wait() for EPOLLOUT: no room, it times out", &timeo,
			  wait ? wait->t_us - wait->t0_us : -1);
	lab_expect_count(run, "last epoll_wait() reported events", LAB_EQ, 0,
			 wait ? wait->ret : -1);
}

LAB_PRECONDITION(send_buffer_full, struct variant, struct params)

LAB_SCENARIO(
	send_buffer_full, struct variant, variants, struct params, params, struct obs,
	.name = "send-buffer-full",
	.summary = "the peer does not read: a blocking send() blocks (SO_SNDTIMEO: short count, "
		   "then EAGAIN), a non-blocking one returns a short count, then EAGAIN",
	.symptom = "write() returns less than it was given, or blocks for a long time, or fails "
		   "with EAGAIN (\"Resource temporarily unavailable\") on a connection that is "
		   "perfectly healthy: `ss -tn` shows Send-Q full on the writer and Recv-Q full "
		   "on a reader that is not reading.",
	.mechanism =
		"send() copies into the socket's send queue; tcp_sendmsg_locked() waits in "
		"sk_stream_wait_memory() when sk_stream_memory_free() says the queue is at its "
		"limit (SO_SNDBUF, doubled by the kernel; autotuning stops once it is set). The "
		"queue empties only as the peer ACKs, and the peer stops ACKing new data when its "
		"own receive buffer is full and it advertises a zero window "
		"(TcpExtTCPToZeroWindowAdv). A blocking send() then sleeps for its SO_SNDTIMEO "
		"(default: for ever), and when the time is up returns the bytes it copied, a "
		"short count, or -1 EAGAIN if it copied none: the lab's writer loops on send(), "
		"the first returned a short count after SO_SNDTIMEO; the second copied a few more "
		"segments at once (the queue is charged by skb truesize, sk_wmem_queued against "
		"sk_sndbuf, and had room for them between the calls, as its samples show: Send-Q "
		"did not change while it waited) and returned that short count after "
		"SO_SNDTIMEO; the last one copied nothing and failed EAGAIN after SO_SNDTIMEO. "
		"With "
		"MSG_DONTWAIT or O_NONBLOCK the timeout is 0: a short count or EAGAIN at once, "
		"and epoll reports EPOLLOUT only when sk_stream_write_space() finds room again, "
		"which needs ACKs that do not come. Every byte a send() accepted is either unread "
		"at the receiver (its Recv-Q) or waiting at the sender (Send-Q): the lab checks "
		"that sum against what the calls returned. Nothing is lost and no error is "
		"pending: the connection is flow-controlled, not broken (the zero-window "
		"scenario shows the sender's probes).",
	.remedy = "Treat a short count as normal: loop over the rest, or keep it in an "
		  "application buffer and wait for EPOLLOUT. Bound blocking writes with "
		  "SO_SNDTIMEO, and make the reader keep up (or shed the slow peer).",
	.seen_on = "6.18; 6.12 and 6.1 in qemu TCG (timings shown there, not judged)",
	.budget_s = 10, .timing = true, .check = send_buffer_full_check);
