// SPDX-License-Identifier: MIT
/* fin-wait-2: an orphaned FIN_WAIT2 ends after tcp_fin_timeout (the prose is in the definition). */
#include "story.h"

struct variant {
	struct lab_variant v;
	bool orphan; /* the client close()s (else shutdown(SHUT_WR) and the descriptor stays) */
	bool late; /* the server closes only after the orphan's timeout would have passed */
};

static const struct variant variants[] = {
	/* the failure: the orphan times out, the server's late FIN meets a RST */
	{ { "default",
	    "client close(), server never closes in time: the orphaned FIN_WAIT2 vanishes after "
	    "tcp_fin_timeout, the server's late FIN meets a RST",
	    "The handshake [S] [S.] [.], the client's [F.] (its close()) and the server's "
	    "[.]; silence for tcp_fin_timeout; then the server's [F.], answered by [R] "
	    "from the client, which no longer has the connection." },
	  true,
	  true },
	/* not an orphan: shutdown(SHUT_WR) with the descriptor open waits for the FIN forever */
	{ { "shutdown",
	    "client shutdown(SHUT_WR) and keeps the descriptor: FIN_WAIT2 outlives "
	    "tcp_fin_timeout, the late FIN is ACKed, TIME_WAIT",
	    "The handshake [S] [S.] [.], the client's [F.] (its shutdown()) and the server's "
	    "[.]; silence past tcp_fin_timeout; then the server's [F.] and the client's "
	    "[.]: an orderly close, the client in TIME_WAIT." },
	  false,
	  true },
	/* the peer closes in time: the orphan's FIN_WAIT2 ends with the FIN */
	{ { "in-time",
	    "client close(), the server closes at once: its FIN reaches the FIN_WAIT2 "
	    "timewait socket in time, ACK, TIME_WAIT",
	    "The handshake [S] [S.] [.], the client's [F.] (its close()) and the server's "
	    "[.], then at once the server's [F.] and the client's [.]: the client in "
	    "TIME_WAIT." },
	  true,
	  false },
};

struct params {
	long fin_timeout;
};

static const struct lab_param params[] = {
	LAB_PARAM(struct params, fin_timeout, 2, 1, 4, "s",
		  "net.ipv4.tcp_fin_timeout in the client's namespace (the default is 60 s): how "
		  "long an orphaned FIN_WAIT2 waits for the peer's FIN"),
};

struct obs {
	int64_t fw2_timewait, fw2_full; /* the client's FIN_WAIT2, as first seen: which kind */
	int64_t fw2_at_deadline; /* still FIN_WAIT2 when it went or the deadline passed */
	int64_t gone_at_us; /* CLOCK_REALTIME when its FIN_WAIT2 was seen gone, 0 if not */
	int64_t client_time_wait;
};

/* the client's FIN_WAIT2 is gone, or the monotonic time *@arg has come */
static bool fw2_gone_or_past(const struct lab_socks *s, const void *arg)
{
	const int64_t *until_us = arg;

	return !lab_socks_count(s, LAB_PORT, TCP_FIN_WAIT2) || lab_mono_us() >= *until_us;
}

static void sample_fw2(struct lab_run *run, struct obs *obs)
{
	struct lab_socks socks = LAB_SOCKS_INIT;
	const struct lab_sock *fw2;

	lab_states(run, LAB_CLIENT, &socks);
	fw2 = lab_socks_find(&socks, LAB_PORT, TCP_FIN_WAIT2);
	/* inet_diag reports a timewait socket by its substate, with the timewait timer (3) */
	obs->fw2_timewait = fw2 && fw2->timer == 3;
	obs->fw2_full = fw2 && fw2->timer != 3;
	lab_socks_free(&socks);
}

static int play(struct lab_run *run, const struct variant *v, const struct params *p,
		struct obs *obs)
{
	int64_t fin_us = p->fin_timeout * 1000000, until_us;
	struct lab_socks socks = LAB_SOCKS_INIT;

	lab_sysctl(run, LAB_CLIENT, "net.ipv4.tcp_fin_timeout", p->fin_timeout);
	/* the server reads to EOF (the client's FIN) and closes only when told */
	lab_server(run, NULL, "accept,drain,wait,close");
	lab_client(run, v->orphan ? "close" : "shutdown:wr,recv,close");
	/* the server's ACK of the FIN has arrived: FIN_WAIT2 */
	lab_wait_state(run, LAB_CLIENT, TCP_FIN_WAIT2);
	sample_fw2(run, obs);
	/*
	 * An orphan's FIN_WAIT2 is a timer (tcp_fin_timeout) that runs on while a class looks: a
	 * pause there would decide what the story measures, so only the full socket has one
	 */
	if (!v->orphan)
		lab_pause(
			run, "fin-wait-2-owned",
			"the client shut down its sending side and the server ACKed its FIN: "
			"the client's socket sits in FIN_WAIT2, still owned by the process (ss: "
			"no timer): tcp_fin_timeout does not apply, it waits for the server's FIN "
			"as long as it takes");
	if (!v->late)
		lab_go(run, LAB_PROG_SERVER);
	/* past the timeout: the orphan's timer fires within its granule, plus the tolerance */
	until_us = lab_mono_us() + lab_timer_window(run, fin_us).hi_us + 100000;
	lab_wait_for(run, LAB_CLIENT, fw2_gone_or_past, &until_us,
		     "the client's FIN_WAIT2 went or tcp_fin_timeout had long passed");
	lab_states(run, LAB_CLIENT, &socks);
	obs->fw2_at_deadline = (int64_t)lab_socks_count(&socks, LAB_PORT, TCP_FIN_WAIT2);
	obs->gone_at_us = obs->fw2_at_deadline ? 0 : lab_now_us();
	lab_socks_free(&socks);
	if (v->orphan && v->late)
		lab_pause(run, "orphan-gone",
			  "the orphan's tcp_fin_timeout expired: the client's kernel dropped the "
			  "connection without a packet (ss shows nothing on the port), while "
			  "the server still sits in CLOSE_WAIT; its close() comes next and its FIN "
			  "will meet a RST");
	if (v->late)
		lab_go(run, LAB_PROG_SERVER);
	lab_finish_all(run);
	lab_wait_settled(run, LAB_CLIENT);
	lab_wait_settled(run, LAB_SERVER);
	lab_states(run, LAB_CLIENT, &socks);
	obs->client_time_wait = (int64_t)lab_socks_count(&socks, LAB_PORT, TCP_TIME_WAIT);
	lab_socks_free(&socks);
	if (!v->late)
		lab_pause(run, "time-wait",
			  "the server's FIN came within tcp_fin_timeout: the orphan took it and "
			  "the client waits in TIME_WAIT (60 s, TCP_TIMEWAIT_LEN, whatever "
			  "tcp_fin_timeout says)");
	return lab_status(run);
}

static void judge(struct lab_run *run, const struct variant *expect, const struct params *p,
		  const struct obs *obs)
{
	/* FIN_WAIT2 began when the server's ACK of the client's FIN reached the client */
	const struct lab_pkt *ack = lab_ack_of_fin(run, LAB_CLIENT, LAB_CLIENT);
	int64_t fin_us = p->fin_timeout * 1000000, began = ack ? ack->t_us : -1;
	struct lab_window window = lab_timer_window(run, fin_us);
	bool reset = expect->orphan && expect->late;

	lab_expect_state(run, "client FIN_WAIT2 is a timewait socket (inet_diag)", expect->orphan,
			 obs->fw2_timewait);
	lab_expect_state(run, "client FIN_WAIT2 is a full socket (inet_diag)", !expect->orphan,
			 obs->fw2_full);
	lab_expect_state(run, "client FIN_WAIT2 outlived tcp_fin_timeout", !expect->orphan,
			 obs->fw2_at_deadline);
	if (reset)
		lab_expect_within(run, "orphaned FIN_WAIT2 lifetime (from the ACK of its FIN)",
				  &window,
				  obs->gone_at_us && began > 0 ? obs->gone_at_us - began : -1);
	/* timewait sockets are counted when scheduled: TWKilled up to 4 s (__inet_twsk_schedule) */
	lab_expect_counter(run, LAB_CLIENT, "TcpExtTWKilled", LAB_EQ, expect->orphan);
	lab_expect_counter(run, LAB_CLIENT, "TcpExtTW", LAB_EQ, !expect->orphan);
	lab_expect_count(run, "RST from the client (client-side pcap)", LAB_EQ, reset,
			 lab_packets(run, LAB_CLIENT, LAB_CLIENT, LAB_TH_RST));
	lab_expect_counter(run, LAB_CLIENT, "TcpOutRsts", LAB_EQ, reset);
	lab_expect_state(run, "client sockets in TIME_WAIT (inet_diag)", !reset,
			 obs->client_time_wait);
}

LAB_SCENARIO(
	fin_wait_2, struct variant, variants, struct params, params, struct obs,
	.name = "fin-wait-2",
	.summary = "an orphaned FIN_WAIT2 ends after tcp_fin_timeout and the peer's late FIN "
		   "meets a RST; a shutdown() one waits forever",
	.symptom = "A client closes; the server never closes its side in time (CLOSE_WAIT). On "
		   "the client ss shows FIN-WAIT-2 with timer:(timewait,...) that vanishes after "
		   "tcp_fin_timeout (60 s by default); when the server finally closes, its FIN "
		   "is answered with a RST. A client that used shutdown(SHUT_WR) and kept the "
		   "descriptor instead stays in FIN-WAIT-2 indefinitely.",
	.mechanism =
		"When the ACK of an orphan's FIN arrives, tcp_rcv_state_process() (FIN_WAIT1 case) "
		"moves it to FIN_WAIT2 and, the socket being SOCK_DEAD, computes tmo = "
		"tcp_fin_time() (TCP_LINGER2 or net.ipv4.tcp_fin_timeout, at least 3.5 RTO). Up "
		"to TCP_TIMEWAIT_LEN (60 s) it calls tcp_time_wait(sk, TCP_FIN_WAIT2, tmo): the "
		"full socket is freed and a timewait socket with substate FIN_WAIT2 takes the "
		"4-tuple (longer timeouts keep the full socket on the keepalive timer first). "
		"inet_diag reports it as FIN-WAIT-2 with the timewait timer, and "
		"__inet_twsk_schedule() counts it when armed: TcpExtTWKilled for timeouts up to "
		"4 s (TcpExtTW beyond). When tmo passes, tw_timer_handler() removes it; the "
		"server's later FIN finds no socket and tcp_v4_send_reset() answers it "
		"(TcpOutRsts). A FIN that arrives in time is handled by "
		"tcp_timewait_state_process(): substate FIN_WAIT2 becomes TIME_WAIT, rescheduled "
		"for 60 s without being counted again. A socket that shut down its write side "
		"but is still open (not SOCK_DEAD) stays a full FIN_WAIT2 socket with no timer "
		"at all; the FIN moves it to TIME_WAIT (tcp_fin(), tcp_time_wait(), TcpExtTW). "
		"The lab lowers tcp_fin_timeout in the client's namespace to fin_timeout seconds "
		"and times the orphan from the server's ACK in the client's capture to the "
		"socket's disappearance from inet_diag.",
	.remedy = "The server must close the connections its peers closed (see CLOSE_WAIT "
		  "leaks). tcp_fin_timeout (or TCP_LINGER2) bounds what orphans cost the closer; "
		  "it does not apply to a socket that is still open after shutdown(): close it "
		  "when its reads return 0.",
	.seen_on = "6.18; 6.12 and 6.1 in qemu TCG (timings shown there, not judged)",
	.budget_s = 10, .timing = true);
