// SPDX-License-Identifier: MIT
/* backlog-clamp: listen()'s backlog is silently capped by net.core.somaxconn. */
#include "story.h"

struct variant {
	struct lab_variant v;
	bool small_first; /* listen(small_backlog) first, not listen(backlog) */
	bool relisten; /* ... then listen(backlog) again, with clients waiting */
};

static const struct variant variants[] = {
	/* the surprise: the program asks for more than somaxconn and silently gets somaxconn */
	{ { "default",
	    "listen(16) with net.core.somaxconn=4: Send-Q 4, the accept queue holds 5, the "
	    "6th client's SYN is dropped",
	    "Each queued client's handshake [S] [S.] [.]; the last client's [S] unanswered." },
	  false,
	  false },
	/* the contrast: a backlog within somaxconn is taken as asked */
	{ { "within", "listen(2) with net.core.somaxconn=4: Send-Q 2 as asked, the queue holds 3",
	    "Each queued client's handshake [S] [S.] [.]; the last client's [S] unanswered." },
	  true,
	  false },
	/* listen() on a listening socket only changes the limit: clamped again */
	{ { "relisten",
	    "listen(2), queue full, then listen(16) again: Send-Q becomes 4 (clamped again), "
	    "the waiting client gets in at its SYN retransmission",
	    "Each queued client's handshake [S] [S.] [.]; the last client's [S] unanswered, "
	    "then again ~1 s later (retransmission), answered [S.] and ACKed [.] once the "
	    "limit is raised." },
	  true,
	  true },
};

struct params {
	long somaxconn, backlog, small_backlog;
};

static const struct lab_param params[] = {
	LAB_PARAM(struct params, somaxconn, 4, 1, 8, "",
		  "server net.core.somaxconn: the cap on every listen() backlog"),
	LAB_PARAM(struct params, backlog, 16, 1, 4096, "",
		  "the backlog asked for (default: listen(); relisten: the second listen())"),
	LAB_PARAM(struct params, small_backlog, 2, 1, 8, "",
		  "the backlog of the first listen() (within, relisten)"),
};

static long min_long(long a, long b)
{
	return a < b ? a : b;
}

/* each variant needs the numbers that make its point */
static bool precondition(const struct lab_run *run, const struct variant *v, const struct params *p,
			 char *why, size_t len)
{
	if (!v->small_first && p->backlog <= p->somaxconn) {
		snprintf(why, len,
			 "backlog=%ld is within somaxconn=%ld: nothing is clamped (that is variant "
			 "'within'); use backlog > somaxconn",
			 p->backlog, p->somaxconn);
		return false;
	}
	if (v->small_first && !v->relisten && p->small_backlog > p->somaxconn) {
		snprintf(why, len,
			 "small_backlog=%ld is above somaxconn=%ld: it would be clamped; use "
			 "small_backlog <= somaxconn",
			 p->small_backlog, p->somaxconn);
		return false;
	}
	if (v->relisten && min_long(p->backlog, p->somaxconn) <= p->small_backlog) {
		snprintf(why, len,
			 "the second listen(%ld) gives min(%ld, somaxconn %ld) = %ld, not more "
			 "than the first listen(%ld): no room for the waiting client; use a "
			 "larger backlog and somaxconn than small_backlog",
			 p->backlog, p->backlog, p->somaxconn, min_long(p->backlog, p->somaxconn),
			 p->small_backlog);
		return false;
	}
	return true;
}

struct obs {
	long clients;
	int64_t queue_len, queue_max; /* LISTEN Recv-Q and Send-Q at the end */
	int64_t first_max; /* LISTEN Send-Q after the first listen() */
	int64_t syn_sent; /* clients still in SYN_SENT at the end */
};

static bool queue_at(const struct lab_socks *s, const void *arg)
{
	const struct lab_sock *l = lab_socks_find(s, LAB_PORT, TCP_LISTEN);
	const long *want = arg;

	return l && (long)l->rqueue >= *want;
}

static bool clients_at(const struct lab_socks *s, const void *arg)
{
	const size_t *want = arg;

	return lab_socks_count(s, LAB_PORT, -1) >= *want;
}

static int64_t listen_max(struct lab_run *run)
{
	struct lab_socks s = LAB_SOCKS_INIT;
	const struct lab_sock *l;
	int64_t max;

	lab_states(run, LAB_SERVER, &s);
	l = lab_socks_find(&s, LAB_PORT, TCP_LISTEN);
	max = l ? (int64_t)l->wqueue : -1;
	lab_socks_free(&s);
	return max;
}

static int play(struct lab_run *run, const struct variant *v, const struct params *p,
		struct obs *obs)
{
	long first = v->small_first ? p->small_backlog : min_long(p->backlog, p->somaxconn);
	struct lab_socks s = LAB_SOCKS_INIT;
	const struct lab_sock *l;
	size_t sockets;
	long i, queued;
	char what[64];

	lab_sysctl(run, LAB_SERVER, "net.core.somaxconn", p->somaxconn);
	if (v->relisten)
		lab_server(run, LAB_KNOBS(.backlog = p->small_backlog), "wait,listen:%ld,wait",
			   p->backlog);
	else
		lab_server(run,
			   LAB_KNOBS(.backlog = v->small_first ? p->small_backlog : p->backlog),
			   "wait");
	obs->first_max = listen_max(run);
	/* the queue holds the limit + 1; one more client finds it full */
	obs->clients = first + 2;
	for (i = 0; i < obs->clients; i++) {
		lab_client(run, "wait");
		sockets = (size_t)i + 1;
		lab_wait_for(run, LAB_CLIENT, clients_at, &sockets, "the client's socket");
		queued = i + 1;
		if (queued <= first + 1) {
			snprintf(what, sizeof(what), "the accept queue reached %ld", queued);
			lab_wait_for(run, LAB_SERVER, queue_at, &queued, what);
		}
	}
	lab_wait_counter(run, LAB_SERVER, "TcpExtListenOverflows", 1);
	lab_pause(run, "queue-full",
		  "the accept queue is full (ss -tln: Recv-Q = Send-Q + 1, Send-Q the clamped "
		  "backlog); the last client's SYN was dropped (nstat: TcpExtListenOverflows)");
	if (v->relisten) {
		lab_note(run, "the queue is full; the server calls listen(%ld) again", p->backlog);
		lab_go(run, LAB_PROG_SERVER);
		queued = obs->clients;
		lab_wait_for(run, LAB_SERVER, queue_at, &queued,
			     "the waiting client got into the accept queue");
	}
	lab_states(run, LAB_SERVER, &s);
	l = lab_socks_find(&s, LAB_PORT, TCP_LISTEN);
	obs->queue_len = l ? (int64_t)l->rqueue : -1;
	obs->queue_max = l ? (int64_t)l->wqueue : -1;
	lab_socks_free(&s);
	lab_states(run, LAB_CLIENT, &s);
	obs->syn_sent = (int64_t)lab_socks_count(&s, LAB_PORT, TCP_SYN_SENT);
	lab_socks_free(&s);
	return lab_status(run);
}

/* client-side pcap: the client whose SYN was retransmitted, from its first SYN to its SYN-ACK */
static int64_t late_handshake_us(const struct lab_run *run)
{
	const struct lab_trace *t = lab_capture(run, LAB_CLIENT);
	int64_t first = -1;
	uint16_t port = 0;
	size_t i;

	for (i = 0; i < t->n && !port; i++)
		if (t->v[i].flags == LAB_TH_SYN && t->v[i].retrans)
			port = t->v[i].sport;
	for (i = 0; port && i < t->n; i++) {
		if (t->v[i].flags == LAB_TH_SYN && t->v[i].sport == port && first < 0)
			first = t->v[i].t_us;
		if (t->v[i].flags == (LAB_TH_SYN | LAB_TH_ACK) && t->v[i].dport == port &&
		    first >= 0)
			return t->v[i].t_us - first;
	}
	return -1;
}

static void judge(struct lab_run *run, const struct variant *expect, const struct params *p,
		  const struct obs *obs)
{
	static const char *const calls[] = { "listen", NULL };
	long first = expect->small_first ? p->small_backlog : min_long(p->backlog, p->somaxconn);
	long final = expect->relisten ? min_long(p->backlog, p->somaxconn) : first;
	struct lab_window w = lab_timer_window(run, lab_timer_us(run, LAB_TCP_TIMEOUT_INIT));

	/* the clamp is silent: listen() succeeds whatever it was asked */
	lab_expect_calls(run, LAB_PROG_SERVER, calls,
			 expect->relisten ? "listen=0 listen=0" : "listen=0");
	lab_expect_count(run, "listen backlog after the first listen() (LISTEN Send-Q)", LAB_EQ,
			 first, obs->first_max);
	lab_expect_count(run, "listen backlog at the end (LISTEN Send-Q)", LAB_EQ, final,
			 obs->queue_max);
	/* the queue holds the limit + 1 (sk_acceptq_is_full(): more than the backlog) */
	lab_expect_count(run, "accept queue length at the end (LISTEN Recv-Q)", LAB_EQ,
			 expect->relisten ? first + 2 : first + 1, obs->queue_len);
	lab_expect_state(run, "clients in SYN_SENT at the end", !expect->relisten, obs->syn_sent);
	lab_expect_counter(run, LAB_SERVER, "TcpExtListenOverflows", LAB_GE, 1);
	if (expect->relisten)
		lab_expect_within(run,
				  "the waiting client's SYN to its SYN-ACK (one retransmission)",
				  &w, late_handshake_us(run));
}

LAB_PRECONDITION(backlog_clamp, struct variant, struct params)

/* clang-format off */
LAB_SCENARIO(backlog_clamp, struct variant, variants, struct params, params, struct obs,
	.name = "backlog-clamp",
	.summary = "listen(backlog) is silently capped by net.core.somaxconn; listen() again "
		   "changes the limit",
	.symptom = "A server configured for a large backlog (nginx 511, Redis 511, a Java "
		   "framework's 1024) still drops connections under a burst: ss -lnt shows its "
		   "Send-Q at net.core.somaxconn (128 on kernels before 5.4, 4096 since), not at "
		   "what it asked for, and ListenOverflows climbs. listen() returned 0: nothing "
		   "said the request was cut.",
	.mechanism = "__sys_listen_socket() reads the namespace's net.core.somaxconn and "
		     "silently lowers a larger backlog to it before inet_listen() stores it as "
		     "sk_max_ack_backlog (what ss -lnt shows as the LISTEN socket's Send-Q, "
		     "inet_diag's idiag_wqueue). sk_acceptq_is_full() is true once more than "
		     "that many connections wait, so the accept queue holds limit + 1 and the "
		     "next SYN is dropped by tcp_conn_request() (TcpExtListenOverflows, "
		     "ListenDrops). listen() on a socket already listening only stores the new "
		     "(again clamped) limit: a waiting client gets in at its next SYN "
		     "retransmission (TCP_TIMEOUT_INIT, 1 s). somaxconn is per network "
		     "namespace: the lab sets it to 4 in the server's namespace only.",
	.remedy = "Raise net.core.somaxconn (per namespace: containers need their own) to at "
		  "least the backlog your server asks for, then check ss -lnt's Send-Q rather "
		  "than the configuration. Variant 'within': a backlog within somaxconn is taken "
		  "as asked; 'relisten': a program can raise its limit at run time by calling "
		  "listen() again, still capped by somaxconn.",
	.seen_on = "6.18; 6.12 and 6.1 in qemu TCG (timings shown there, not judged)",
	.budget_s = 10,
	.timing = true,
	.check = backlog_clamp_check);
/* clang-format on */
