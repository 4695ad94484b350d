// SPDX-License-Identifier: MIT
/* keepalive-expiry: the peer vanishes; only keepalive notices (the prose is in the definition). */
#include "story.h"

struct variant {
	struct lab_variant v;
	bool keepalive; /* SO_KEEPALIVE, idle/interval/count: the kernel probes, then gives up */
	bool user_timeout; /* TCP_USER_TIMEOUT too: it decides when, not the count */
};

static const struct variant variants[] = {
	/* the remedy is the story here: keepalive turns a silent death into ETIMEDOUT */
	{ { "default",
	    "keepalive idle/interval/count, peer gone: recv() = ETIMEDOUT after idle + "
	    "interval x count",
	    "The handshake [S] [S.] [.], silence for 'idle' seconds, then the client's probes "
	    "[.] with the sequence number one below the next byte, 'interval' apart, in the "
	    "client's capture only (the wire swallowed them), then [R.] from the client. The "
	    "server's capture ends with the handshake." },
	  true,
	  false },
	/* no keepalive: the half-open connection nobody notices */
	{ { "no-keepalive",
	    "no keepalive, peer gone: still ESTABLISHED at the deadline, recv() "
	    "blocks forever",
	    "The handshake [S] [S.] [.], then nothing at all in either capture: nobody probes." },
	  false,
	  false },
	/* TCP_USER_TIMEOUT decides instead of the count */
	{ { "user-timeout",
	    "keepalive with TCP_USER_TIMEOUT: the abort comes at the first probe "
	    "interval past the user timeout, whatever the count",
	    "The handshake [S] [S.] [.], silence for 'idle' seconds, then probes [.] "
	    "'interval' apart in the client's capture only, until the user timeout has passed "
	    "at a probe time; then [R.] from the client." },
	  true,
	  true },
};

struct params {
	long idle, interval, count, user_timeout, arm_idle_ms;
};

static const struct lab_param params[] = {
	LAB_PARAM(struct params, idle, 1, 1, 5, "s",
		  "TCP_KEEPIDLE: silence before the first probe"),
	LAB_PARAM(struct params, interval, 1, 1, 5, "s", "TCP_KEEPINTVL: between probes"),
	LAB_PARAM(struct params, count, 3, 1, 5, "",
		  "TCP_KEEPCNT: unanswered probes before the abort (default variant)"),
	LAB_PARAM(struct params, user_timeout, 2500, 1, 30000, "ms",
		  "TCP_USER_TIMEOUT (variant user-timeout); a value just past a probe time, "
		  "within the timers' slack, is refused: the kernel may give up one probe "
		  "earlier"),
	LAB_PARAM(struct params, arm_idle_ms, 0, 0, 500, "ms",
		  "when the blackhole is armed: once the client's connection has been idle this "
		  "long (tcp_info: nothing sent, received or acknowledged); 0: as soon as the "
		  "server sees ESTABLISHED. For a user's client whose request must cross first "
		  "(curl: 500), so that the connection the wire cuts is idle, not a request in "
		  "flight (keepalive never probes while data is unacknowledged)"),
};

struct obs {
	int blackhole;
	struct lab_sockopts opts; /* the client's keepalive, read from its socket when armed */
	int64_t alive_at_deadline; /* no-keepalive: ESTABLISHED sockets when the time was up */
};

/* when the kernel gives up, in microseconds after keepalive was switched on */
static int64_t expiry_us(const struct variant *v, const struct params *p, long *probes)
{
	long k;

	if (!v->user_timeout) {
		*probes = p->count;
		return (p->idle + p->interval * *probes) * 1000000L;
	}
	/* tcp_keepalive_timer(): abort at the first probe time at or past the user timeout,
	 * after at least one probe */
	k = (p->user_timeout - p->idle * 1000 + p->interval * 1000 - 1) / (p->interval * 1000);
	*probes = k < 1 ? 1 : k;
	return (p->idle + p->interval * *probes) * 1000000L;
}

/*
 * With a user timeout, tcp_keepalive_timer() gives up at the first expiry after a probe at which
 * the time since the last packet received (in jiffies, timers' lateness included) reaches
 * msecs_to_jiffies(user_timeout). Expiry k (k >= 1) comes idle + k x interval after it, plus
 * up to one granule per timer: a user timeout within that slack of expiry k may end at k
 * or at k + 1, so the story cannot say which.
 */
static bool precondition(const struct lab_run *run, const struct variant *v, const struct params *p,
			 char *why, size_t len)
{
	int64_t tick = lab_tick_us(run), idle = p->idle * 1000000L, step = p->interval * 1000000L;
	int64_t ut = (p->user_timeout * 1000L + tick - 1) / tick * tick, at = idle, slack;
	long k;

	if (!v->user_timeout)
		return true;
	slack = lab_timer_slack_us(run, idle);
	for (k = 1;; k++) {
		at += step; /* expiry k: k probes are out */
		slack += lab_timer_slack_us(run, step);
		if (at >= ut)
			break;
		if (ut <= at + slack) {
			snprintf(why, len,
				 "user_timeout=%ld ms is within the timers' slack after expiry %ld "
				 "(%lld..%lld ms): the kernel may give up after %ld or %ld probes; "
				 "use %lld or at least %lld",
				 p->user_timeout, k, (long long)at / 1000,
				 (long long)(at + slack) / 1000, k, k + 1, (long long)at / 1000,
				 (long long)(at + slack) / 1000 + 1);
			return false;
		}
	}
	return true;
}

/* the connection is gone, or the monotonic time *@arg has come */
static bool gone_or_past(const struct lab_socks *s, const void *arg)
{
	const int64_t *until_us = arg;

	return !lab_socks_count(s, LAB_PORT, TCP_ESTABLISHED) || lab_mono_us() >= *until_us;
}

/* no keepalive: wait until the kernel would have given up, and count what is still up */
static int64_t established_at(struct lab_run *run, int64_t until_us)
{
	struct lab_socks socks = LAB_SOCKS_INIT;
	int64_t n;

	lab_wait_for(run, LAB_CLIENT, gone_or_past, &until_us,
		     "the client's connection went or the keepalive deadline passed");
	lab_states(run, LAB_CLIENT, &socks);
	n = lab_socks_count(&socks, LAB_PORT, TCP_ESTABLISHED);
	lab_socks_free(&socks);
	return n;
}

static int play(struct lab_run *run, const struct variant *v, const struct params *p,
		struct obs *obs)
{
	char keepalive[64] = "", user_timeout[32] = "";
	int64_t until_us;
	long probes;

	/* black both ways once the connection is up: nothing from or to the server gets through */
	obs->blackhole = lab_impair(run, "blackhole,dir=both,armed=0");
	/* with a user timeout the count (20) never decides: the kernel ignores it then */
	if (v->keepalive)
		snprintf(keepalive, sizeof(keepalive), "keepalive:%ld:%ld:%ld,", p->idle,
			 p->interval, v->user_timeout ? 20L : p->count);
	if (v->user_timeout)
		snprintf(user_timeout, sizeof(user_timeout), "user_timeout:%ld,", p->user_timeout);
	lab_server(run, NULL, "accept,wait");
	lab_client(run, "%s%swait,recv", keepalive, user_timeout);
	lab_wait_state(run, LAB_SERVER, TCP_ESTABLISHED);
	/* our client's options are set (its steps before `wait`); a user's set theirs */
	if (lab_ours(run, LAB_PROG_CLIENT) && v->keepalive)
		lab_wait_calls(run, LAB_PROG_CLIENT, "keepalive", 1);
	if (lab_ours(run, LAB_PROG_CLIENT) && v->user_timeout)
		lab_wait_calls(run, LAB_PROG_CLIENT, "user_timeout", 1);
	if (p->arm_idle_ms)
		lab_wait_idle(run, LAB_CLIENT, p->arm_idle_ms);
	lab_sockopts(run, LAB_CLIENT, &obs->opts);
	/* the cable is cut; then the client blocks in recv() */
	lab_arm(run, obs->blackhole, true);
	lab_pause(run, "blackhole-armed",
		  "the cable is cut both ways (nft list ruleset: the blackhole's drop rule); the "
		  "connection is ESTABLISHED and idle, the client's recv() comes next");
	lab_go(run, LAB_PROG_CLIENT);
	if (v->keepalive) {
		/* a user's client that set no keepalive would never probe */
		if (lab_moment_wanted(run, "first-probe") &&
		    (lab_ours(run, LAB_PROG_CLIENT) || obs->opts.keepalive))
			lab_wait_counter(run, LAB_CLIENT, "TcpExtTCPKeepAlive", 1);
		lab_pause(run, "first-probe",
			  "the first keepalive probe went into the blackhole (nstat: "
			  "TcpExtTCPKeepAlive; ss -o: timer:(keepalive,...)); the kernel goes on "
			  "probing while you look");
	}
	/* keepalive or not, the story ends one interval after the kernel would have given up */
	until_us = lab_mono_us() + expiry_us(v, p, &probes) + p->interval * 1000000L;
	if (!lab_ours(run, LAB_PROG_CLIENT) && obs->opts.read && obs->opts.keepalive)
		until_us = lab_mono_us() + (obs->opts.keepidle_s +
					    obs->opts.keepintvl_s * (obs->opts.keepcnt + 1)) *
						   1000000L;
	if (v->keepalive)
		lab_finish(run, LAB_PROG_CLIENT);
	else
		obs->alive_at_deadline = established_at(run, until_us);
	return lab_status(run);
}

/*
 * keepalive probes as Wireshark tells them: from the client, ACK only, no data or one byte, its
 * sequence number one below the next byte the client would send (snd_una - 1 when all is
 * acknowledged), whatever data went before
 */
static int64_t count_probes(const struct lab_trace *t)
{
	struct in_addr client = lab_host_addr(LAB_CLIENT);
	uint32_t next = 0; /* relative: the sequence number after the client's last byte */
	int64_t n = 0;
	size_t i;

	for (i = 0; i < t->n; i++) {
		const struct lab_pkt *p = &t->v[i];
		uint32_t end = p->rseq + p->len + !!(p->flags & (LAB_TH_SYN | LAB_TH_FIN));

		if (p->src.s_addr != client.s_addr)
			continue;
		if (p->flags == LAB_TH_ACK && p->len <= 1 && p->rseq + 1 == next) {
			n++;
			continue;
		}
		if ((int32_t)(end - next) > 0)
			next = end;
	}
	return n;
}

/*
 * A user's client sets its own keepalive (curl --keepalive-time 1: TCP_KEEPIDLE and
 * TCP_KEEPINTVL 1 s, TCP_KEEPCNT the namespace's tcp_keepalive_probes, 9): the parameters do
 * not apply to it, and the probes expected come from what its socket said when the wire was
 * cut. Returns the probes the kernel will send before it gives up.
 */
static long users_probes(struct lab_run *run, const struct obs *obs)
{
	const struct lab_sockopts *o = &obs->opts;
	char why[160];
	long k;

	snprintf(why, sizeof(why),
		 "your client sets its own (read from its socket: SO_KEEPALIVE %d, TCP_KEEPIDLE %d "
		 "s, TCP_KEEPINTVL %d s, TCP_KEEPCNT %d, TCP_USER_TIMEOUT %d ms)",
		 o->keepalive, o->keepidle_s, o->keepintvl_s, o->keepcnt, o->user_timeout_ms);
	lab_not_applicable(run, "parameters idle, interval, count, user_timeout (--set)",
			   o->read ? why :
				     "your client sets its own; its socket could not be read");
	if (!o->read || !o->keepalive)
		return 0;
	if (!o->user_timeout_ms)
		return o->keepcnt;
	/* as expiry_us(): the first probe time at or past the user timeout */
	k = (o->user_timeout_ms - o->keepidle_s * 1000L + o->keepintvl_s * 1000L - 1) /
	    (o->keepintvl_s * 1000L);
	return k < 1 ? 1 : k;
}

static void judge(struct lab_run *run, const struct variant *expect, const struct params *p,
		  const struct obs *obs)
{
	const struct lab_event *on = lab_call(run, LAB_PROG_CLIENT, "wait", 0);
	const struct lab_event *recv = lab_call(run, LAB_PROG_CLIENT, "recv", 0);
	long probes;
	/* armed after arm_idle_ms of silence: the kernel's idle time had started by then */
	struct lab_window w =
		lab_window_us(run, expiry_us(expect, p, &probes) - p->arm_idle_ms * 1000L);

	if (!lab_ours(run, LAB_PROG_CLIENT))
		probes = users_probes(run, obs);
	/* what the client's socket said when the wire was cut: keepalive on or off */
	if (obs->opts.read) {
		lab_expect_text(run, "client SO_KEEPALIVE (read from its socket)",
				expect->keepalive ? "on" : "off",
				obs->opts.keepalive ? "on" : "off");
		lab_expect_text(run, "client TCP_USER_TIMEOUT (read from its socket)",
				expect->user_timeout ? "set" : "none",
				obs->opts.user_timeout_ms ? "set" : "none");
	} else {
		lab_not_applicable(
			run, "client keepalive options (read from its socket)",
			"its socket could not be read (pidfd_getfd() needs ptrace access "
			"to the program)");
	}

	if (!expect->keepalive) {
		lab_expect_state(run, "client ESTABLISHED at the deadline (inet_diag)", 1,
				 obs->alive_at_deadline);
	} else if (lab_needs(run, LAB_PROG_CLIENT, "client recv() = ETIMEDOUT, and when")) {
		lab_expect_text(run, "client recv() (errno)", "ETIMEDOUT",
				recv ? (recv->err[0] ? recv->err : "returned") : "still blocked");
		lab_expect_within(run,
				  expect->user_timeout ?
					  "recv() error after idle + interval x "
					  "ceil((user_timeout - idle) / interval)" :
					  "recv() error after idle + interval x count",
				  &w, recv && on ? recv->t_us - on->t_us : -1);
	}
	lab_expect_count(run, "keepalive probes (client-side pcap)", LAB_EQ,
			 expect->keepalive ? probes : 0,
			 count_probes(lab_capture(run, LAB_CLIENT)));
	lab_expect_counter(run, LAB_CLIENT, "TcpExtTCPKeepAlive", LAB_EQ,
			   expect->keepalive ? probes : 0);
	lab_expect_counter(run, LAB_CLIENT, "TcpExtTCPAbortOnTimeout", LAB_EQ, expect->keepalive);
	lab_expect_count(run, "RST from the client (client-side pcap)", LAB_EQ, expect->keepalive,
			 lab_packets(run, LAB_CLIENT, LAB_CLIENT, LAB_TH_RST));
	lab_expect_count(run, "packets the blackhole swallowed", LAB_GE,
			 expect->keepalive ? probes + 1 : 0,
			 lab_impaired(run, obs->blackhole).dropped);
}

LAB_PRECONDITION(keepalive_expiry, struct variant, struct params)

/* clang-format off */
LAB_SCENARIO(keepalive_expiry, struct variant, variants, struct params, params, struct obs,
	.name = "keepalive-expiry",
	.summary = "the peer vanishes: keepalive turns a silent half-open connection into "
		   "ETIMEDOUT",
	.symptom = "A client waits for a server that will never answer (its host lost power, a "
		   "NAT forgot the mapping, a cable was cut). Without keepalive, recv() blocks "
		   "forever and ss shows ESTABLISHED. With keepalive, recv() fails with ETIMEDOUT "
		   "('connection timed out') after idle + interval x count seconds.",
	.mechanism = "SO_KEEPALIVE arms the keepalive timer (tcp_keepalive_timer()). After "
		     "TCP_KEEPIDLE seconds without receiving anything, it sends a probe: a pure "
		     "ACK with seq = snd_una - 1 (tcp_write_wakeup(), counted as "
		     "TcpExtTCPKeepAlive), which any live peer must answer. Unanswered, it "
		     "repeats every TCP_KEEPINTVL; after TCP_KEEPCNT probes it sends a RST "
		     "(tcp_send_active_reset()), sets sk_err = ETIMEDOUT (tcp_write_err()) and "
		     "counts TcpExtTCPAbortOnTimeout. With TCP_USER_TIMEOUT set, the count is "
		     "ignored: the abort comes at the first expiry of the keepalive timer, after "
		     "a probe, at which the time since the peer was last heard reaches the user "
		     "timeout (in jiffies, the timers' own lateness included). "
		     "Keepalive never fires while data is unacknowledged: then tcp_retries2 or "
		     "TCP_USER_TIMEOUT decide.",
	.remedy = "Turn keepalive on with timers that suit the application (the Linux default "
		  "idle time is 2 hours: tcp_keepalive_time=7200), or use application-level "
		  "heartbeats; TCP_USER_TIMEOUT bounds how long unacknowledged data may wait.",
	.seen_on = "6.18; 6.12 and 6.1 in qemu TCG (timings shown there, not judged)",
	.budget_s = 45,
	.timing = true,
	.check = keepalive_expiry_check);
/* clang-format on */
