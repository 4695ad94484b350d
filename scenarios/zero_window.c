// SPDX-License-Identifier: MIT
/* zero-window: the reader stalls, the window closes, the sender probes (prose in the definition). */
#include "buffers.h"
#include "story.h"

struct variant {
	struct lab_variant v;
	bool resume; /* the reader reads again once the window is closed */
};

static const struct variant variants[] = {
	/* the stall: nobody reads; the sender's persist timer probes with backoff */
	{ { "default",
	    "the reader never reads: zero window, persist probes with backoff, Send-Q full",
	    "The handshake [S] [S.] [.]; the client's data [.] and [P.] until the server's "
	    "ACKs [.] advertise a zero window (the segment that fills it is ACKed only by the "
	    "delayed-ACK timer, ~40 ms later, so the client's tail loss probe re-sends it first: "
	    "a [.] marked retransmission, D-SACKed by the zero-window ACK); then the client's "
	    "window probes [.] (no payload, one below the next sequence number: what Wireshark "
	    "calls Keep-Alive), twice as far apart each time, answered by [.] with a zero "
	    "window except the second (tcp_invalid_ratelimit)." },
	  false },
	/* the reader resumes: a window update, and the data flows to its end */
	{ { "resume",
	    "the reader resumes once the window is closed: window update, the transfer completes",
	    "The handshake [S] [S.] [.]; the client's data [.] and [P.] until the server's "
	    "ACKs [.] advertise a zero window (after the tail loss probe's spurious "
	    "retransmission [.] of the segment that fills it, as in default); then the "
	    "server's window update [.] (same ACK "
	    "number, window open again), the rest of the data [.] and [P.] with its ACKs, the "
	    "server's [F.] once it has read every byte, the client's [F.] and the last [.]." },
	  true },
};

struct params {
	long rcvbuf, sndbuf, bytes, probes;
};

static const struct lab_param params[] = {
	LAB_PARAM(struct params, rcvbuf, 16384, 4096, 65536, "bytes",
		  "the server's SO_RCVBUF (doubled by the kernel): the window it can offer"),
	LAB_PARAM(struct params, sndbuf, 16384, 4096, 65536, "bytes",
		  "the client's SO_SNDBUF (doubled by the kernel): what Send-Q can hold"),
	LAB_PARAM(struct params, bytes, 262144, 262144, 1048576, "bytes",
		  "what the client sends in one blocking send(): more than four times both "
		  "buffers together"),
	LAB_PARAM(struct params, probes, 3, 3, 4, "",
		  "window probes the story waits for (default variant; each one waits twice as "
		  "long as the one before: 4 take about 3 s; from the third on each is answered)"),
};

/* the story needs more bytes than the buffers can take (buffers.h) */
static bool precondition(const struct lab_run *run, const struct variant *v, const struct params *p,
			 char *why, size_t len)
{
	return buffers_overflow(p->bytes, p->rcvbuf, p->sndbuf, why, len);
}

struct obs {
	struct lab_sock sender, receiver; /* inet_diag, at the end of the stall */
	struct lab_sock closed_receiver; /* ... and when the window had just closed */
	bool sampled;
	/* default: when the stall's last sample was taken; a pause after it let the probes on */
	int64_t stall_end_us;
	bool paused;
};

/*
 * The last probe was answered: its ACK reset icsk_probes_out (tcp_ack()), which inet_diag
 * reports with the persist timer, while icsk_backoff keeps the count (tcpi_backoff)
 */
static bool last_probe_answered(const struct lab_socks *s, const void *arg)
{
	const struct lab_sock *sk = lab_socks_find(s, 0, TCP_ESTABLISHED);

	return sk && sk->has_info && sk->timer == 4 && !sk->retrans &&
	       sk->info.tcpi_backoff >= *(const long *)arg;
}

static void sample(struct lab_run *run, enum lab_host host, struct lab_sock *out, bool *ok)
{
	struct lab_socks socks = LAB_SOCKS_INIT;
	const struct lab_sock *sk;

	lab_states(run, host, &socks);
	sk = lab_socks_find(&socks, LAB_PORT, TCP_ESTABLISHED);
	if (sk)
		*out = *sk;
	*ok = *ok && sk;
	lab_socks_free(&socks);
}

static int play(struct lab_run *run, const struct variant *v, const struct params *p,
		struct obs *obs)
{
	/* the client stops before its send() (mark: its SO_SNDBUF is set) */
	const char *hold = lab_hold(run, LAB_PROG_CLIENT, "before-send");

	/* the reader closes first, once it has every byte: no FIN rides on the client's data */
	/* the receiver answers a probe at most once per tcp_invalid_ratelimit: its default */
	lab_sysctl(run, LAB_SERVER, "net.ipv4.tcp_invalid_ratelimit", 500);
	lab_server(run, LAB_KNOBS(.rcvbuf = p->rcvbuf), "accept,wait,drain:%ld,close", p->bytes);
	lab_client(run, "sndbuf:%ld,%s%ssend:%ld,recv,close", p->sndbuf, *hold ? "mark," : "", hold,
		   p->bytes);
	lab_moment(run, LAB_PROG_CLIENT, "note", 1, "before-send",
		   "the connection is up and idle; the server reads nothing yet (its application "
		   "waits), its receive buffer is SO_RCVBUF; the client's one large send() comes "
		   "next and will fill the server's window");
	/* tcp_select_window(): the receiver's first zero window (TcpExtTCPToZeroWindowAdv) */
	lab_wait_counter(run, LAB_SERVER, "TcpExtTCPToZeroWindowAdv", 1);
	obs->sampled = true;
	if (!v->resume) {
		/* the queues over time: now, and once the probes have gone on */
		sample(run, LAB_CLIENT, &obs->sender, &obs->sampled);
		sample(run, LAB_SERVER, &obs->closed_receiver, &obs->sampled);
		/*
		 * tcp_xmit_probe_skb() counts each probe as it sends it; the third and later ones
		 * come at least 4 RTO (800 ms) after the last answer, beyond the receiver's
		 * tcp_invalid_ratelimit (500 ms): each is answered, and the story ends with it
		 */
		lab_wait_counter(run, LAB_CLIENT, "TcpExtTCPWinProbe", p->probes);
		lab_wait_for(run, LAB_CLIENT, last_probe_answered, &p->probes,
			     "the last window probe's answer");
		sample(run, LAB_CLIENT, &obs->sender, &obs->sampled);
		sample(run, LAB_SERVER, &obs->receiver, &obs->sampled);
		/* the stall is judged up to here: the persist timer goes on during a pause */
		obs->stall_end_us = lab_now_us();
		obs->paused = lab_moment_wanted(run, "window-closed");
		lab_pause(run, "window-closed",
			  "the window is zero: the client's data waits in its Send-Q, the "
			  "server's Recv-Q is full and unread; the persist timer has probed with "
			  "backoff (ss -o: timer:(persist,...); nstat: TcpExtTCPWinProbe) and "
			  "goes on probing, each gap twice the last, while you look");
		return lab_status(run);
	}
	sample(run, LAB_CLIENT, &obs->sender, &obs->sampled);
	sample(run, LAB_SERVER, &obs->receiver, &obs->sampled);
	lab_go(run, LAB_PROG_SERVER);
	lab_finish_all(run);
	lab_wait_settled(run, LAB_SERVER);
	return lab_status(run);
}

/*
 * Each probe's timer is tcp_probe0_when(): max(RTO, TCP_RTO_MIN) << icsk_backoff, armed by the
 * zero-window ACK that acknowledged the last byte in flight (backoff 0), then by each probe
 * (tcp_send_probe0() raises icsk_backoff first) and again by the probe's ACK, if it has one
 * (tcp_ack_probe(), the same backoff): the gap from the packet before a probe to the probe is
 * RTO, 2 RTO, 4 RTO ..., each rounded up by the timer wheel. Returns how many gaps were in
 * their window; *@last gets the last gap, in microseconds.
 */
static long probe_gaps(struct lab_run *run, const struct lab_trace *t, int64_t rto_us, int64_t end,
		       int64_t *last)
{
	int64_t floor = lab_timer_us(run, LAB_TCP_RTO_MIN);
	long k = 0, held = 0;
	size_t i;

	if (rto_us < floor)
		rto_us = floor;
	*last = -1;
	for (i = 1; i < t->n && t->v[i].t_us < end; i++) {
		struct lab_window w;

		if (!(t->v[i].analysis & LAB_AN_WINDOW_PROBE))
			continue;
		w = lab_timer_window(run, rto_us << k);
		*last = t->v[i].t_us - t->v[i - 1].t_us;
		held += *last >= w.lo_us && *last <= w.hi_us;
		k++;
	}
	return held;
}

/* the server's answers to window probes: its zero-window ACKs after the first probe */
static int64_t probe_answers(const struct lab_trace *t, int64_t end)
{
	struct in_addr server = lab_host_addr(LAB_SERVER);
	bool probed = false;
	int64_t n = 0;
	size_t i;

	for (i = 0; i < t->n && t->v[i].t_us < end; i++) {
		probed = probed || (t->v[i].analysis & LAB_AN_WINDOW_PROBE);
		n += probed && t->v[i].src.s_addr == server.s_addr &&
		     (t->v[i].analysis & LAB_AN_ZERO_WINDOW);
	}
	return n;
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

static void judge(struct lab_run *run, const struct variant *expect, const struct params *p,
		  const struct obs *obs)
{
	const struct lab_trace *cs = lab_capture(run, LAB_CLIENT);
	struct in_addr client = lab_host_addr(LAB_CLIENT), server = lab_host_addr(LAB_SERVER);
	int64_t end = lab_story_end_us(run), last = -1;
	/* the stall as sampled; a class that looked after it let the kernel probe on */
	int64_t stall = obs->stall_end_us ? obs->stall_end_us : end;
	const struct lab_event *send = lab_call(run, LAB_PROG_CLIENT, "send", 0);
	int64_t probes = (int64_t)lab_trace_count_analysis(cs, client, LAB_AN_WINDOW_PROBE, stall);
	int64_t all = (int64_t)lab_trace_count_analysis(cs, client, LAB_AN_WINDOW_PROBE, end);
	int64_t rto = obs->sender.has_info ? obs->sender.info.tcpi_rto : 0;
	const char *calls[] = { "send", NULL };
	int64_t floor = lab_timer_us(run, LAB_TCP_RTO_MIN);
	struct lab_window window;
	char want[64];
	long held;

	lab_params_of(run, LAB_PROG_SERVER, "rcvbuf");
	lab_params_of(run, LAB_PROG_CLIENT, "sndbuf, bytes");
	/* the receiver closed its window: the counter and the packets */
	lab_expect_counter(run, LAB_SERVER, "TcpExtTCPToZeroWindowAdv", LAB_GE, 1);
	lab_expect_count(run, "zero-window ACKs from the server (client-side pcap)", LAB_GE, 1,
			 (int64_t)lab_trace_count_analysis(cs, server, LAB_AN_ZERO_WINDOW, end));
	if (!expect->resume) {
		held = probe_gaps(run, cs, rto, stall, &last);
		/* the counter over the whole story: the probes in the capture, pause or not */
		lab_expect_counter(run, LAB_CLIENT, "TcpExtTCPWinProbe", LAB_EQ,
				   obs->paused ? all : p->probes);
		lab_expect_count(run, "window probes from the client (client-side pcap)", LAB_EQ,
				 p->probes, probes);
		lab_expect_text(run, "client's timer (inet_diag)", "persist",
				obs->sender.timer == 4 ? "persist" : "other");
		lab_expect_count(run, "client's persist backoff, tcpi_backoff (inet_diag)", LAB_EQ,
				 p->probes,
				 obs->sender.has_info ? obs->sender.info.tcpi_backoff : -1);
		lab_expect_count(
			run, "client's bytes in flight, tcpi_unacked (inet_diag)", LAB_EQ, 0,
			obs->sender.has_info ? (int64_t)obs->sender.info.tcpi_unacked : -1);
		lab_expect_count(run, "client's Send-Q: bytes waiting (inet_diag)", LAB_GE, 1,
				 obs->sender.wqueue);
		lab_expect_count(run, "server's window as the client holds it, tcpi_snd_wnd",
				 LAB_EQ, 0, obs->sender.snd_wnd);
		lab_expect_count(run, "server's Recv-Q: unread bytes (inet_diag)", LAB_GE, 1,
				 obs->receiver.rqueue);
		lab_expect_count(run, "server's Recv-Q at the end = when the window closed", LAB_EQ,
				 obs->closed_receiver.rqueue, obs->receiver.rqueue);
		lab_expect_count(run, "probe gaps in RTO << n, the backoff (client-side pcap)",
				 LAB_EQ, p->probes, held);
		lab_expect_timed(run);
		window = lab_timer_window(run, (rto > floor ? rto : floor) << (p->probes - 1));
		lab_expect_within(run, "last probe's gap: RTO << (probes - 1) (tcp_probe0_when())",
				  &window, last);
		/*
		 * A probe is an ACK below the window: tcp_validate_incoming() answers it unless
		 * tcp_oow_rate_limited() skips it (tcp_invalid_ratelimit, 500 ms, after the last
		 * answer): each probe either has its zero-window ACK or is counted as skipped
		 */
		lab_expect_count(run, "probes answered + server's TcpExtTCPACKSkippedSeq", LAB_EQ,
				 obs->paused ? all : p->probes,
				 probe_answers(cs, end) +
					 lab_counter(run, LAB_SERVER, "TcpExtTCPACKSkippedSeq"));
		lab_expect_count(
			run, "window updates from the server (client-side pcap)", LAB_EQ, 0,
			(int64_t)lab_trace_count_analysis(cs, server, LAB_AN_WINDOW_UPDATE, end));
		if (lab_needs(run, LAB_PROG_CLIENT, "client's send() still blocked"))
			lab_expect_count(run, "client's send() returned (still blocked)", LAB_EQ, 0,
					 send && send->t_us < end);
		return;
	}
	snprintf(want, sizeof(want), "send=%ld", p->bytes);
	lab_expect_calls(run, LAB_PROG_CLIENT, calls, want);
	lab_expect_counter(run, LAB_SERVER, "TcpExtTCPFromZeroWindowAdv", LAB_GE, 1);
	lab_expect_count(run, "window updates from the server (client-side pcap)", LAB_GE, 1,
			 (int64_t)lab_trace_count_analysis(cs, server, LAB_AN_WINDOW_UPDATE, end));
	/* the reader resumed before the first probe was due (~200 ms): a count a load can move */
	lab_expect_counter(run, LAB_CLIENT, "TcpExtTCPWinProbe", LAB_EQ, 0);
	lab_expect_timed(run);
	if (lab_needs(run, LAB_PROG_SERVER, "bytes the server read") &&
	    lab_needs(run, LAB_PROG_CLIENT, "bytes the server read (the client's bytes)"))
		lab_expect_count(run, "bytes the server read (its recv() calls)", LAB_EQ, p->bytes,
				 read_bytes(run));
}

LAB_PRECONDITION(zero_window, struct variant, struct params)

LAB_SCENARIO(
	zero_window, struct variant, variants, struct params, params, struct obs,
	.name = "zero-window",
	.summary = "the reader stops reading: zero window, persist probes with backoff; a window "
		   "update when it reads again",
	.symptom = "A sender's write() blocks and the transfer stalls while the connection stays "
		   "ESTABLISHED with no error: `ss -tno` shows the receiver's Recv-Q full and the "
		   "sender's Send-Q full with a `persist` timer; tcpdump shows `win 0` from the "
		   "receiver and bare ACKs from the sender, further and further apart.",
	.mechanism =
		"The receiver's application does not read: its receive queue fills up to its "
		"SO_RCVBUF and tcp_select_window() advertises a zero window "
		"(TcpExtTCPToZeroWindowAdv). It does so late: __tcp_ack_snd_check() ACKs at once "
		"only while the window it would offer keeps up with the one it offered (or in "
		"quick-ACK mode, spent by then), so the segment that fills the window waits for the "
		"delayed-ACK timer (TcpExtDelayedACKs, ~40 ms), and the sender's tail loss probe "
		"(tcp_schedule_loss_probe(): PTO 2 SRTT + 2 ms with several segments in flight; "
		"TcpExtTCPLossProbes 1) re-sends that segment before the zero-window ACK comes "
		"back with a D-SACK for it (TcpExtTCPDSACKRecv). The sender may not send into a "
		"zero window; with data queued and "
		"nothing in flight (tcpi_unacked 0) it arms the persist timer, ICSK_TIME_PROBE0 "
		"(inet_diag timer 4, `ss`: persist). tcp_probe_timer() calls tcp_send_probe0(), "
		"whose tcp_write_wakeup() finds no room in the window and sends "
		"tcp_xmit_probe_skb(): a pure ACK with sequence number snd_una - 1 and no payload "
		"(TcpExtTCPWinProbe +1), which the receiver must answer with its current window. "
		"After each probe icsk_backoff grows and the next timer is tcp_probe0_when(): "
		"max(RTO, TCP_RTO_MIN) << backoff, re-armed by each ACK of a probe "
		"(tcp_ack_probe()): ~200, 400, 800 ms here. The lab measured each gap against the "
		"RTO the client's tcp_info reported. The receiver answers a probe (an ACK below "
		"its window) from tcp_validate_incoming(), but tcp_oow_rate_limited() allows one "
		"such answer per net.ipv4.tcp_invalid_ratelimit (500 ms, pinned in the lab): the "
		"second probe, ~450 ms after the first answer, goes unanswered "
		"(TcpExtTCPACKSkippedSeq) and the probe's own timer sends the third; from the third "
		"on the gaps exceed 500 ms and every probe is answered. Each answer resets "
		"icsk_probes_out (tcpi_probes) but not icsk_backoff (tcpi_backoff): the probes go "
		"on as long as they are answered (tcp_retries2, 15, counts unanswered ones, and "
		"TCP_USER_TIMEOUT bounds the total): "
		"a stalled reader never makes the sender fail. When the reader reads again, "
		"tcp_cleanup_rbuf() sees the window can grow and sends a window update (an ACK "
		"with the same ACK number and an open window; TcpExtTCPFromZeroWindowAdv), and the "
		"data flows. Linux's probe carries no byte, so Wireshark labels it "
		"\"TCP Keep-Alive\", not \"TCP ZeroWindowProbe\" (which it keeps for 1-byte probes); "
		"tcplab calls it a window probe because the peer's window was zero.",
	.remedy = "Read promptly, or watch for it: a peer that stops reading is visible as Recv-Q "
		  "on its side and Send-Q plus a persist timer on yours. Bound the wait with "
		  "SO_SNDTIMEO, non-blocking sends with an application timeout, or "
		  "TCP_USER_TIMEOUT (which also ends zero-window probing: "
		  "tcp_clamp_probe0_to_user_timeout()).",
	.seen_on = "6.18; 6.12 and 6.1 in qemu TCG (timings shown there, not judged)",
	.budget_s = 10, .timing = true, .check = zero_window_check);
