// SPDX-License-Identifier: MIT
/* rto-exhaustion: a partition with data in flight (the prose is in the definition). */
#include "story.h"

#define REQUEST 100 /* the client's request, bytes */
#define REPLY 10 /* the server's answer, when it gets the request */

struct variant {
	struct lab_variant v;
	const char *partition; /* what the wire does once armed (impair.h) */
	bool user_timeout; /* TCP_USER_TIMEOUT decides, tcp_retries2 stays at 15 */
	bool icmp; /* the wire answers each segment with ICMP host unreachable */
	bool heal; /* the partition is lifted after the first retransmission timeout */
	const char *calls; /* the client's documented calls */
};

static const struct variant variants[] = {
	/* the failure: silence, backoff, tcp_retries2 gives up */
	{ { "default",
	    "partition with data in flight: retransmissions back off until tcp_retries2, recv() "
	    "= ETIMEDOUT, the next send() = EPIPE",
	    "The handshake [S] [S.] [.], the client's request [P.], then the same [P.] "
	    "retransmitted (a loss probe ~205 ms later, then the retransmission timer's, the "
	    "RTO doubling: 0.2, 0.4 and 0.8 s apart with tcp_retries2 2), all in the client's "
	    "capture only; nothing at the abort (the next timeout, 1.7 s after the last "
	    "retransmission): no reset. The server's capture ends with the handshake." },
	  "blackhole,dir=both",
	  false,
	  false,
	  false,
	  "send=100 recv=ETIMEDOUT send=EPIPE" },
	/* TCP_USER_TIMEOUT bounds the wait instead of the count */
	{ { "user-timeout",
	    "the same partition, TCP_USER_TIMEOUT set (tcp_retries2 15): ETIMEDOUT once the "
	    "user timeout has passed since the first retransmission",
	    "The handshake [S] [S.] [.], the request [P.] and its retransmissions [P.] in the "
	    "client's capture only, until the user timeout; no reset. The server's capture ends "
	    "with the handshake." },
	  "blackhole,dir=both",
	  true,
	  false,
	  false,
	  "send=100 recv=ETIMEDOUT send=EPIPE" },
	/* a router answers: a soft error, reported only at the abort */
	{ { "icmp",
	    "the wire answers with ICMP host unreachable: the backoff is reverted (RFC 6069), "
	    "recv() = EHOSTUNREACH at the same tcp_retries2 limit",
	    "The handshake [S] [S.] [.], the request [P.] and its retransmissions [P.] one RTO "
	    "(~200 ms) apart, each answered by an ICMP destination unreachable (host "
	    "unreachable) from the wire; no reset. The server's capture ends with the "
	    "handshake." },
	  "reject=icmp-host-unreachable,dir=c2s",
	  false,
	  true,
	  false,
	  "send=100 recv=EHOSTUNREACH send=EPIPE" },
	/* the contrast: the partition heals before the limit */
	{ { "heal",
	    "the partition heals after the first RTO: a retransmission gets through, recv() "
	    "returns the reply",
	    "The handshake [S] [S.] [.], the request [P.] lost and retransmitted [P.] until one "
	    "gets through, the server's [.] and its reply [P.], the client's second [P.] and "
	    "[F.] at its exit, the server's [F.] and the last [.]." },
	  "blackhole,dir=both",
	  false,
	  false,
	  true,
	  "send=100 recv=10 send=100" },
};

struct params {
	long retries2, user_timeout;
};

static const struct lab_param params[] = {
	LAB_PARAM(struct params, retries2, 2, 1, 3, "",
		  "net.ipv4.tcp_retries2 in the client's namespace (default, icmp, heal; "
		  "the kernel's default is 15: 924.6 s)"),
	LAB_PARAM(struct params, user_timeout, 1500, 600, 3000, "ms",
		  "TCP_USER_TIMEOUT on the client (variant user-timeout); a value within the "
		  "timers' slack after a retransmission is refused"),
};

struct obs {
	int partition;
};

/*
 * The retransmission timeout on a microsecond-RTT link: __tcp_set_rto() = SRTT + RTTVAR with
 * RTTVAR floored at tcp_rto_min (200 ms), in whole jiffies rounded up: 200 ms + one tick.
 */
static int64_t rto_us(const struct lab_run *run)
{
	return lab_timer_us(run, LAB_TCP_RTO_MIN) + lab_tick_us(run);
}

/* tcp_model_timeout(): what tcp_retries2 = @r means in time, from the first retransmission */
static int64_t model_us(const struct lab_run *run, long r)
{
	return ((2L << r) - 1) * lab_timer_us(run, LAB_TCP_RTO_MIN);
}

/*
 * With the backoff (no ICMP), the k-th timeout after the first retransmission comes
 * rto x (2 + 4 + ... + 2^k) after it. retransmits_timed_out() gives up at the first one at or
 * past the model: k = r + 1, as long as expiry r, late by every timer's slack, stays below.
 */
static int64_t backoff_abort_us(struct lab_run *run, long r, bool centre, int64_t *late)
{
	int64_t rto = rto_us(run), at = 0;
	long k;

	*late = 0;
	for (k = 1; k <= r + 1; k++) {
		at += centre ? lab_timer_window(run, rto << k).expected_us : rto << k;
		if (k <= r)
			*late += lab_timer_slack_us(run, rto << k);
	}
	return at;
}

/* user timeout: the timeouts that retransmit before it, then the clamped timer (its remainder) */
static long user_timeout_rtos(const struct lab_run *run, long ut_ms, int64_t *last_at)
{
	int64_t rto = rto_us(run), at = 0;
	long n = 1; /* the first retransmission (the timeout that sets retrans_stamp) */

	while (at + (rto << n) < ut_ms * 1000L) {
		at += rto << n;
		n++;
	}
	*last_at = at;
	return n;
}

static bool precondition(const struct lab_run *run, const struct variant *v, const struct params *p,
			 char *why, size_t len)
{
	int64_t rto = rto_us(run), late = 0, at = 0, last;
	long k;

	if (v->user_timeout) {
		user_timeout_rtos(run, p->user_timeout, &last);
		for (k = 1; (rto << k) <= last; k++)
			late += lab_timer_slack_us(run, rto << k);
		if (last && p->user_timeout * 1000L <= last + late) {
			snprintf(
				why, len,
				"user_timeout=%ld ms is within the timers' slack after the "
				"retransmission at %lld ms: the kernel may retransmit once more or "
				"not; use at least %lld",
				p->user_timeout, (long long)last / 1000,
				(long long)(last + late) / 1000 + 1);
			return false;
		}
		return true;
	}
	for (k = 1; k <= p->retries2; k++) {
		at += rto << k;
		late += lab_timer_slack_us(run, rto << k);
	}
	if (at + late >= model_us(run, p->retries2)) {
		snprintf(
			why, len,
			"tcp_retries2=%ld: timeout %ld may come within the timers' slack of "
			"tcp_model_timeout() (%lld ms): the kernel may give up one timeout earlier",
			p->retries2, p->retries2, (long long)model_us(run, p->retries2) / 1000);
		return false;
	}
	return true;
}

static int play(struct lab_run *run, const struct variant *v, const struct params *p,
		struct obs *obs)
{
	char user_timeout[32] = "";

	if (!v->user_timeout)
		lab_sysctl(run, LAB_CLIENT, "net.ipv4.tcp_retries2", p->retries2);
	else
		snprintf(user_timeout, sizeof(user_timeout), "user_timeout:%ld,", p->user_timeout);
	/* the wire's own limit (1 s per destination after a burst of 6) would hide ICMPs */
	if (v->icmp)
		lab_sysctl(run, LAB_WIRE, "net.ipv4.icmp_ratelimit", 0);
	obs->partition = lab_impair(run, "%s,armed=0", v->partition);
	lab_server(run, NULL, "accept,recv,send:%d,drain", REPLY);
	lab_client(run, "%swait,send:%d,recv,send:%d", user_timeout, REQUEST, REQUEST);
	lab_wait_state(run, LAB_SERVER, TCP_ESTABLISHED);
	/* the partition: from now on nothing gets through (or a router answers) */
	lab_arm(run, obs->partition, true);
	lab_pause(run, "partitioned",
		  "the path is cut (nft list ruleset: the partition's rule); the connection is "
		  "ESTABLISHED and idle, nothing in flight, so no timer runs; the client's request "
		  "comes next");
	lab_go(run, LAB_PROG_CLIENT);
	if (!v->heal) {
		/* a user's client may send nothing: then nothing is retransmitted */
		if (lab_moment_wanted(run, "retransmitting") && lab_ours(run, LAB_PROG_CLIENT))
			lab_wait_counter(run, LAB_CLIENT, "TcpExtTCPTimeouts", 1);
		lab_pause(run, "retransmitting",
			  "the request went unanswered: the loss probe and the first "
			  "retransmission timeout have fired (nstat: TcpExtTCPTimeouts; ss -o: "
			  "timer:(on,...)); the kernel goes on retransmitting, and gives up, while "
			  "you look");
		lab_finish(run, LAB_PROG_CLIENT);
		return lab_status(run);
	}
	/* the first retransmission timeout has fired: the link comes back */
	lab_wait_counter(run, LAB_CLIENT, "TcpExtTCPTimeouts", 1);
	lab_arm(run, obs->partition, false);
	lab_finish_all(run);
	return lab_status(run);
}

/* the client's data segments (client-side pcap): the first's time, the retransmissions' times */
struct data_segments {
	int64_t first_us;
	int64_t rtx_us[64];
	size_t n_rtx;
};

static void data_segments(const struct lab_trace *t, struct data_segments *d)
{
	struct in_addr client = lab_host_addr(LAB_CLIENT);
	size_t i;

	d->first_us = -1;
	d->n_rtx = 0;
	for (i = 0; i < t->n; i++) {
		const struct lab_pkt *pk = &t->v[i];

		if (pk->src.s_addr != client.s_addr || !pk->len || pk->rseq != 1)
			continue;
		if (d->first_us < 0)
			d->first_us = pk->t_us;
		else if (d->n_rtx < LAB_ARRAY_SIZE(d->rtx_us))
			d->rtx_us[d->n_rtx++] = pk->t_us;
	}
}

/* the longest gap between consecutive RTO retransmissions (after the loss probe) */
static int64_t widest_gap(const struct data_segments *d)
{
	int64_t gap = 0;
	size_t i;

	for (i = 2; i < d->n_rtx; i++)
		if (d->rtx_us[i] - d->rtx_us[i - 1] > gap)
			gap = d->rtx_us[i] - d->rtx_us[i - 1];
	return d->n_rtx > 2 ? gap : -1;
}

static void judge(struct lab_run *run, const struct variant *expect, const struct params *p,
		  const struct obs *obs)
{
	static const char *const calls[] = { "send", "recv", NULL };
	const struct lab_event *recv = lab_call(run, LAB_PROG_CLIENT, "recv", 0);
	int64_t rto = rto_us(run), model = model_us(run, p->retries2), late, last, at;
	struct data_segments d;
	struct lab_window w;
	long rtos;

	data_segments(lab_capture(run, LAB_CLIENT), &d);
	at = recv && d.n_rtx >= 2 ? recv->t_us - d.rtx_us[1] : -1;
	lab_expect_calls(run, LAB_PROG_CLIENT, calls, expect->calls);
	/*
	 * the first retransmission is a tail loss probe, then the retransmission timer's; once
	 * healed, a later segment whose ACK is slow (a loaded machine) may get a probe of its own
	 */
	lab_expect_counter(run, LAB_CLIENT, "TcpExtTCPLossProbes", expect->heal ? LAB_GE : LAB_EQ,
			   1);
	lab_expect_counter(run, LAB_CLIENT, "TcpExtTCPAbortOnTimeout", LAB_EQ, !expect->heal);
	/* tcp_write_err() closes without a RST (unlike keepalive's abort) */
	lab_expect_count(run, "RST from the client (client-side pcap)", LAB_EQ, 0,
			 lab_packets(run, LAB_CLIENT, LAB_CLIENT, LAB_TH_RST));
	lab_expect_count(run, "ICMP host unreachable to the client (client-side pcap)", LAB_EQ,
			 expect->icmp ? 2 + (int64_t)(d.n_rtx > 0 ? d.n_rtx - 1 : 0) : 0,
			 lab_icmp_count(run, LAB_CLIENT, LAB_ICMP_DEST_UNREACH, 1));
	if (expect->heal) {
		lab_expect_count(run, "retransmissions of the request before the heal", LAB_GE, 2,
				 (int64_t)d.n_rtx);
		lab_expect_count(run, "the request reached the server (server-side pcap data)",
				 LAB_GE, 1, lab_packets(run, LAB_SERVER, LAB_CLIENT, LAB_TH_PSH));
		return;
	}
	if (expect->user_timeout && !lab_params_of(run, LAB_PROG_CLIENT, "user_timeout")) {
		lab_not_applicable(run, "retransmissions and recv()'s time from user_timeout",
				   "your client sets its own TCP_USER_TIMEOUT, or none");
		return;
	}
	if (expect->user_timeout) {
		rtos = user_timeout_rtos(run, p->user_timeout, &last);
		/* the clamped timer fires at the user timeout, late by its own granule only */
		w = lab_window_us(
			run,
			last + lab_timer_window(run, p->user_timeout * 1000L - last).expected_us);
		lab_expect_counter(run, LAB_CLIENT, "TcpExtTCPTimeouts", LAB_EQ, rtos + 1);
		lab_expect_count(run, "retransmissions of the request (loss probe + timeouts)",
				 LAB_EQ, 1 + rtos, (int64_t)d.n_rtx);
		lab_expect_within(run,
				  "recv() error after the first RTO retransmission "
				  "(TCP_USER_TIMEOUT)",
				  &w, at);
		return;
	}
	if (expect->icmp) {
		/*
		 * tcp_ld_RTO_revert(): each ICMP undoes the backoff, so the timer fires one RTO
		 * after each retransmission; the abort is the first firing at or past the model
		 */
		w = lab_window_us(run, model + rto / 2);
		w.lo_us = model - lab_tick_us(run); /* retrans_stamp is in whole milliseconds */
		w.hi_us = lab_window_us(run, model + lab_timer_window(run, rto).hi_us).hi_us;
		lab_expect_at_most(
			run, "widest gap between RTO retransmissions (below 2 RTO: no backoff)",
			(rto << 1) - lab_tick_us(run), widest_gap(&d));
		lab_expect_within(run,
				  "recv() error after the first RTO retransmission "
				  "(tcp_model_timeout(), first timer past it)",
				  &w, at);
		return;
	}
	w = lab_window_us(run, backoff_abort_us(run, p->retries2, true, &late));
	lab_expect_counter(run, LAB_CLIENT, "TcpExtTCPTimeouts", LAB_EQ, p->retries2 + 2);
	lab_expect_count(run, "retransmissions of the request (loss probe + timeouts)", LAB_EQ,
			 p->retries2 + 2, (int64_t)d.n_rtx);
	lab_expect_within(run,
			  "recv() error after the first RTO retransmission (rto x "
			  "(2 + 4 + ... + 2^(retries2 + 1)))",
			  &w, at);
}

LAB_PRECONDITION(rto_exhaustion, struct variant, struct params)

/* clang-format off */
LAB_SCENARIO(rto_exhaustion, struct variant, variants, struct params, params, struct obs,
	.name = "rto-exhaustion",
	.summary = "a partition with data in flight: retransmissions back off until "
		   "tcp_retries2 or TCP_USER_TIMEOUT, then ETIMEDOUT (EHOSTUNREACH after ICMP), "
		   "then EPIPE",
	.symptom = "A client sent a request and waits for the answer; the network between "
		   "them breaks (a cable, a router, a failover). recv() blocks for a long time "
		   "(15 minutes with Linux defaults) and then fails with ETIMEDOUT ('connection "
		   "timed out'), or EHOSTUNREACH ('no route to host') when a router said so; "
		   "the next send() fails with EPIPE (and SIGPIPE without MSG_NOSIGNAL).",
	.mechanism = "Unacknowledged data is re-sent: first as a tail loss probe "
		     "(tcp_send_loss_probe(), TcpExtTCPLossProbes), then by the retransmission "
		     "timer (tcp_retransmit_timer(), TcpExtTCPTimeouts +1 at each firing), whose "
		     "RTO (SRTT + RTTVAR, RTTVAR floored at tcp_rto_min = 200 ms) doubles each "
		     "time. The first timer retransmission sets retrans_stamp; at every later "
		     "firing tcp_write_timeout() asks retransmits_timed_out() whether the time "
		     "since then has reached tcp_model_timeout(tcp_retries2) = (2^(retries2+1) - "
		     "1) x 200 ms (the time that many doubled retransmissions would take), or "
		     "TCP_USER_TIMEOUT when set (the timer is then clamped to fire at it: "
		     "tcp_clamp_rto_to_user_timeout()). If so, tcp_write_err() sets sk_err to "
		     "sk_err_soft if an ICMP error was recorded, else ETIMEDOUT, counts "
		     "TcpExtTCPAbortOnTimeout and closes the socket without sending a RST "
		     "(tcp_done()). An ICMP host or net unreachable on an established "
		     "connection is a soft error (tcp_v4_err(): sk_err_soft, unless IP_RECVERR): "
		     "recv() does not see it until the abort, and tcp_ld_RTO_revert() (RFC "
		     "6069) undoes the backoff so the retransmissions stay one RTO apart (the lab "
		     "sets the wire's net.ipv4.icmp_ratelimit to 0: by default a router answers "
		     "a burst of 6, then one per second). The "
		     "socket is closed for sending (SEND_SHUTDOWN), so the next send() fails "
		     "with EPIPE. The lab lowers net.ipv4.tcp_retries2 in the client's namespace "
		     "(default 15: at least 924.6 s, not the 12 retransmissions in about 9 "
		     "minutes of BSD that is often quoted); the abort comes at the first timer at or "
		     "past the model, counted from the first timer retransmission. "
		     "Seen here (tcp_retries2 2): the loss probe 205 ms after the request, timer retransmissions 208, 436 and 832 ms apart, ETIMEDOUT 2.94 s after the first of them (TcpExtTCPTimeouts 4); with ICMP, retransmissions 204 ms apart and EHOSTUNREACH 1.43 s after the first timer retransmission; TCP_USER_TIMEOUT 1500 ms: ETIMEDOUT 1.50 s after it.",
	.remedy = "Bound the wait where the application knows its patience: TCP_USER_TIMEOUT "
		  "on the socket (milliseconds of unacknowledged data), or a deadline on the "
		  "request (poll() with a timeout, SO_RCVTIMEO) followed by close(); lower "
		  "tcp_retries2 system-wide only with care (RFC 1122 asks for at least 100 s). "
		  "Treat EHOSTUNREACH after an established connection like ETIMEDOUT. Send with "
		  "MSG_NOSIGNAL or ignore SIGPIPE.",
	.seen_on = "6.18; 6.12 and 6.1 in qemu TCG (timings shown there, not judged)",
	.budget_s = 20,
	.timing = true,
	.check = rto_exhaustion_check);
/* clang-format on */
