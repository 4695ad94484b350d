// SPDX-License-Identifier: MIT
/* syn-queue-overflow: handshakes that never complete fill the SYN queue (the prose is below). */
#include "story.h"

/* the listen() backlog of the variant where tcp_max_syn_backlog's rule binds first */
#define WIDE_BACKLOG 64

struct variant {
	struct lab_variant v;
	long syncookies; /* server net.ipv4.tcp_syncookies */
	bool wide_backlog; /* listen(WIDE_BACKLOG): tcp_max_syn_backlog's rule is the limit */
};

static const struct variant variants[] = {
	/* the failure: syncookies off, the listen() backlog is the SYN queue's limit */
	{ { "default",
	    "tcp_syncookies=0: backlog + 1 half-open handshakes fill the SYN queue, further "
	    "SYNs are dropped (TcpExtTCPReqQFullDrop)",
	    "Each half-open client's [S] and the server's [S.], its handshake [.] (marked lost: "
	    "the wire drops the clients' pure ACKs) and the [S.] again ~1 s later "
	    "(retransmission) with its [.] lost again; each later client's [S] unanswered and "
	    "again ~1 s later." },
	  0,
	  false },
	/* the same failure with another limit: the last quarter of tcp_max_syn_backlog */
	{ { "max-syn-backlog",
	    "tcp_syncookies=0, listen(64): tcp_max_syn_backlog's last quarter is kept "
	    "free, further SYNs dropped without TcpExtTCPReqQFullDrop",
	    "Each half-open client's [S], the server's [S.], its [.] marked lost and the [S.] "
	    "again ~1 s later (retransmission), its [.] lost again; each later client's [S] "
	    "unanswered and again ~1 s later." },
	  0,
	  true },
	/* the remedy: syncookies (the kernel's default) answer when the queue is full */
	{ { "syncookies",
	    "tcp_syncookies=1: the full SYN queue answers with cookie SYN-ACKs; later "
	    "clients connect and are served",
	    "The half-open clients' [S], [S.], lost [.] and [S.] again ~1 s later "
	    "(retransmission); each later client's [S] answered at once by a cookie [S.], its "
	    "[.] lost, its request [P.] completes the handshake, the reply [P.] and ACKs [.], "
	    "then its [F.]." },
	  1,
	  false },
};

struct params {
	long backlog, max_syn_backlog, later_clients;
};

static const struct lab_param params[] = {
	LAB_PARAM(struct params, backlog, 4, 1, 8, "",
		  "listen() backlog (default, syncookies): the SYN queue holds backlog + 1 "
		  "(max-syn-backlog listens with 64)"),
	LAB_PARAM(struct params, max_syn_backlog, 8, 4, 24, "",
		  "server net.ipv4.tcp_max_syn_backlog (all variants): without syncookies a SYN "
		  "is dropped once fewer than a quarter of it is free"),
	LAB_PARAM(struct params, later_clients, 2, 1, 4, "",
		  "clients that connect once the SYN queue is full"),
};

/*
 * tcp_conn_request(), in this order: inet_csk_reqsk_queue_is_full() (qlen > backlog) drops or
 * sends a cookie; then, without syncookies, a SYN is dropped while max_syn_backlog - qlen <
 * max_syn_backlog / 4. So a SYN is admitted while qlen <= that bound: the queue ends one above.
 */
static long rule_bound(const struct params *p)
{
	return p->max_syn_backlog - (p->max_syn_backlog >> 2);
}

static long backlog_of(const struct variant *v, const struct params *p)
{
	return v->wide_backlog ? WIDE_BACKLOG : p->backlog;
}

/* the SYN_RECV sockets the queue holds once full */
static long queue_limit(const struct variant *v, const struct params *p)
{
	long backlog = backlog_of(v, p);

	if (v->syncookies || backlog <= rule_bound(p))
		return backlog + 1;
	return rule_bound(p) + 1;
}

/* each variant's limit must be the one it is named for */
static bool precondition(const struct lab_run *run, const struct variant *v, const struct params *p,
			 char *why, size_t len)
{
	if (v->syncookies || v->wide_backlog || p->backlog <= rule_bound(p))
		return true;
	snprintf(why, len,
		 "backlog=%ld is above tcp_max_syn_backlog's bound (%ld - %ld / 4 = %ld): that "
		 "rule would fill the queue first, which is the max-syn-backlog variant; use "
		 "backlog <= %ld or a larger max_syn_backlog",
		 p->backlog, p->max_syn_backlog, p->max_syn_backlog, rule_bound(p), rule_bound(p));
	return false;
}

struct obs {
	long half_open; /* clients whose handshake never completes */
	int64_t syn_recv, established, syn_sent; /* server SYN_RECV; client sockets */
};

static bool syn_recv_at(const struct lab_socks *s, const void *arg)
{
	const long *want = arg;

	return (long)lab_socks_count(s, LAB_PORT, TCP_SYN_RECV) >= *want;
}

/* every socket in @arg's state has been retransmitted (its SYN, or its SYN-ACK) */
static bool all_retried(const struct lab_socks *s, const void *arg)
{
	const int *state = arg;
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->v[i].state == *state && !s->v[i].retrans)
			return false;
	return true;
}

static bool clients_at(const struct lab_socks *s, const void *arg)
{
	const size_t *want = arg;

	return lab_socks_count(s, LAB_PORT, -1) >= *want;
}

static int play(struct lab_run *run, const struct variant *v, const struct params *p,
		struct obs *obs)
{
	static const int syn_sent = TCP_SYN_SENT, syn_recv = TCP_SYN_RECV;
	long i, queued;
	size_t sockets;
	char what[64];

	obs->half_open = queue_limit(v, p);
	lab_sysctl(run, LAB_SERVER, "net.ipv4.tcp_syncookies", v->syncookies);
	lab_sysctl(run, LAB_SERVER, "net.ipv4.tcp_max_syn_backlog", p->max_syn_backlog);
	/* the handshakes never complete: the clients' pure ACKs never reach the server */
	lab_impair(run, "blackhole,dir=c2s,flags=A,len=0");
	if (v->syncookies)
		lab_server(run, LAB_KNOBS(.backlog = backlog_of(v, p)), "accepts:%ld:16,wait",
			   p->later_clients);
	else
		lab_server(run, LAB_KNOBS(.backlog = backlog_of(v, p)), "wait");
	/* one half-open handshake at a time, each in the SYN queue before the next */
	for (i = 0; i < obs->half_open; i++) {
		lab_client(run, "wait");
		queued = i + 1;
		snprintf(what, sizeof(what), "%ld requests in SYN_RECV", queued);
		lab_wait_for(run, LAB_SERVER, syn_recv_at, &queued, what);
	}
	lab_pause(run, "syn-queue-full",
		  "the SYN queue is full of half-open requests (ss -tan state syn-recv); the next "
		  "SYNs are dropped or answered with cookies");
	lab_note(run, "the SYN queue is full; %ld more clients connect", p->later_clients);
	for (i = 0; i < p->later_clients; i++) {
		lab_client(run, "send:16,recv:64");
		sockets = (size_t)(obs->half_open + i + 1);
		lab_wait_for(run, LAB_CLIENT, clients_at, &sockets, "the later client's socket");
	}
	if (v->syncookies) {
		for (i = 0; i < p->later_clients; i++)
			lab_finish(run, (int)(obs->half_open + i));
	} else {
		lab_wait_for(run, LAB_CLIENT, all_retried, &syn_sent,
			     "every later client retransmitted its SYN");
	}
	/* the story ends once every half-open request's SYN-ACK went out again (1 s) */
	lab_wait_for(run, LAB_SERVER, all_retried, &syn_recv,
		     "every half-open request's SYN-ACK was retransmitted");
	{
		struct lab_socks c = LAB_SOCKS_INIT, s = LAB_SOCKS_INIT;

		lab_states(run, LAB_CLIENT, &c);
		lab_states(run, LAB_SERVER, &s);
		obs->syn_recv = (int64_t)lab_socks_count(&s, LAB_PORT, TCP_SYN_RECV);
		obs->established = (int64_t)lab_socks_count(&c, LAB_PORT, TCP_ESTABLISHED);
		obs->syn_sent = (int64_t)lab_socks_count(&c, LAB_PORT, TCP_SYN_SENT);
		lab_socks_free(&c);
		lab_socks_free(&s);
	}
	return lab_status(run);
}

/* client-side pcap: connections (client ports) that sent a SYN / that got a SYN-ACK */
static int64_t connections(const struct lab_run *run, bool answered)
{
	const struct lab_trace *t = lab_capture(run, LAB_CLIENT);
	uint16_t seen[64];
	size_t i, j, n = 0;

	for (i = 0; i < t->n && t->v[i].t_us <= lab_story_end_us(run); i++) {
		const struct lab_pkt *pk = &t->v[i];
		uint8_t want = answered ? LAB_TH_SYN | LAB_TH_ACK : LAB_TH_SYN;
		uint16_t port = answered ? pk->dport : pk->sport;

		if ((pk->flags & (LAB_TH_SYN | LAB_TH_ACK)) != want)
			continue;
		for (j = 0; j < n && seen[j] != port; j++)
			;
		if (j == n && n < 64)
			seen[n++] = port;
	}
	return (int64_t)n;
}

/* client-side pcap: from a later client's first SYN to its retransmission (-1: none) */
static int64_t syn_retry_gap(const struct lab_run *run)
{
	const struct lab_trace *t = lab_capture(run, LAB_CLIENT);
	size_t i, j;

	for (i = t->n; i-- > 0;) { /* the last connection's first SYN */
		if (t->v[i].flags != LAB_TH_SYN || t->v[i].retrans)
			continue;
		for (j = i + 1; j < t->n; j++)
			if (t->v[j].flags == LAB_TH_SYN && t->v[j].sport == t->v[i].sport)
				return t->v[j].t_us - t->v[i].t_us;
		return -1;
	}
	return -1;
}

/* from a later client's first SYN to its connect() returning (the first later client) */
static int64_t later_connect_us(const struct lab_run *run, long half_open)
{
	const struct lab_event *ev = lab_call(run, (int)half_open, "connect", 0);
	const struct lab_trace *t = lab_capture(run, LAB_CLIENT);
	int64_t first = -1;
	size_t i;

	/* its SYN is the first one sent after the half-open clients' SYNs */
	for (i = 0; i < t->n && first < 0; i++)
		if (t->v[i].flags == LAB_TH_SYN && !t->v[i].retrans && !half_open--)
			first = t->v[i].t_us;
	return ev && first >= 0 ? ev->t_us - first : -1;
}

static void judge(struct lab_run *run, const struct variant *expect, const struct params *p,
		  const struct obs *obs)
{
	long limit = queue_limit(expect, p), later = p->later_clients;
	bool by_backlog = expect->syncookies || backlog_of(expect, p) <= rule_bound(p);
	struct lab_window w = lab_timer_window(run, lab_timer_us(run, LAB_TCP_TIMEOUT_INIT));

	lab_expect_state(run, "server requests in SYN_RECV (inet_diag)", limit, obs->syn_recv);
	lab_expect_count(run, "connections that sent a SYN (client-side pcap)", LAB_EQ,
			 limit + later, connections(run, false));
	if (!expect->syncookies) {
		lab_expect_count(run, "connections answered with a SYN-ACK (client-side pcap)",
				 LAB_EQ, limit, connections(run, true));
		lab_expect_state(run, "later clients in SYN_SENT", later, obs->syn_sent);
		/* every later SYN and its retransmission: dropped at the listener */
		lab_expect_counter(run, LAB_SERVER, "TcpExtListenDrops", LAB_GE, 2 * later);
		/* which check dropped them: the queue's own limit, or max_syn_backlog's rule */
		if (by_backlog)
			lab_expect_counter(run, LAB_SERVER, "TcpExtTCPReqQFullDrop", LAB_GE,
					   2 * later);
		else
			lab_expect_counter(run, LAB_SERVER, "TcpExtTCPReqQFullDrop", LAB_EQ, 0);
		lab_expect_counter(run, LAB_SERVER, "TcpExtSyncookiesSent", LAB_EQ, 0);
		lab_expect_within(run, "a later client's SYN retransmission (TCP_TIMEOUT_INIT)", &w,
				  syn_retry_gap(run));
		return;
	}
	lab_expect_count(run, "connections answered with a SYN-ACK (client-side pcap)", LAB_EQ,
			 limit + later, connections(run, true));
	lab_expect_counter(run, LAB_SERVER, "TcpExtTCPReqQFullDoCookies", LAB_EQ, later);
	lab_expect_counter(run, LAB_SERVER, "TcpExtSyncookiesSent", LAB_EQ, later);
	/* the cookie came back in the client's request and passed cookie_v4_check() */
	lab_expect_counter(run, LAB_SERVER, "TcpExtSyncookiesRecv", LAB_EQ, later);
	lab_expect_counter(run, LAB_SERVER, "TcpExtListenDrops", LAB_EQ, 0);
	if (lab_needs(run, LAB_PROG_CLIENT, "later clients served (recv() = the 16-byte reply)"))
		lab_expect_count(run, "later clients served (recv() = the 16-byte reply)", LAB_EQ,
				 later, lab_count_client_calls(run, "recv", 16));
	/* at once: one round trip, far below the 1 s SYN retransmission it is told from */
	lab_expect_at_most(run, "a later client's connect() (first SYN to return)", 200000,
			   later_connect_us(run, obs->half_open));
}

LAB_PRECONDITION(syn_queue_overflow, struct variant, struct params)

/* clang-format off */
LAB_SCENARIO(syn_queue_overflow, struct variant, variants, struct params, params, struct obs,
	.name = "syn-queue-overflow",
	.summary = "half-open handshakes fill the SYN queue: further SYNs dropped, or answered "
		   "with SYN cookies",
	.symptom = "New clients hang in connect() (SYN_SENT, the SYN retransmitted 1 s, 2 s ... "
		   "apart) while the server's accept() has nothing to return; ss -tan on the "
		   "server shows many SYN-RECV sockets; nstat shows TcpExtListenDrops and, when "
		   "the "
		   "backlog is the limit, TcpExtTCPReqQFullDrop climbing. dmesg may say 'Possible "
		   "SYN flooding on port ... Dropping request'. With tcp_syncookies=1 (the "
		   "default) the same flood costs nothing: 'Sending cookies'.",
	.mechanism =
		"A SYN to a listener makes a request socket (SYN_RECV, the 'SYN queue': "
		"inet_csk_reqsk_queue_len()) that waits for the handshake's ACK. "
		"tcp_conn_request() first asks inet_csk_reqsk_queue_is_full(): more requests "
		"than the listen() backlog (sk_max_ack_backlog, capped by net.core.somaxconn), "
		"so the queue holds backlog + 1. Full, tcp_syn_flood_action() either counts "
		"TcpExtTCPReqQFullDoCookies and answers with a SYN cookie (tcp_syncookies 1 or "
		"2: cookie_v4_init_sequence(), TcpExtSyncookiesSent; no request is kept, the "
		"client's next ACK, or its data as here, is checked by cookie_v4_check(), "
		"TcpExtSyncookiesRecv, and becomes a connection), or counts "
		"TcpExtTCPReqQFullDrop and drops the SYN (tcp_listendrop(): TcpExtListenDrops). "
		"Without syncookies a second rule follows: a SYN is dropped while "
		"tcp_max_syn_backlog - qlen < tcp_max_syn_backlog / 4 unless the peer is "
		"'proven' (tcp_peer_is_proven(): a saved RTT), so with a large backlog the "
		"queue ends at max_syn_backlog - max_syn_backlog / 4 + 1 and only "
		"TcpExtListenDrops counts. A dropped SYN is retransmitted by the client after "
		"TCP_TIMEOUT_INIT (1 s). The lab makes the handshakes never complete by "
		"dropping the clients' pure ACKs on the wire (a flood's spoofed sources never "
		"answer at all); each request's SYN-ACK is then retransmitted (1 s, 2 s ...) "
		"until tcp_synack_retries. Seen on 6.18: backlog 4 -> 5 SYN_RECV; "
		"tcp_max_syn_backlog 8 with listen(64) -> 7.",
	.remedy = "Keep tcp_syncookies at 1 (the default): a full SYN queue then answers with "
		  "cookies and nobody is turned away (variant 'syncookies': TcpExtSyncookiesSent "
		  "and TcpExtSyncookiesRecv count, every later client is served). Size the "
		  "listen() backlog, net.core.somaxconn and tcp_max_syn_backlog for the burst "
		  "you expect; find what leaves handshakes half open (a flood, a middlebox "
		  "eating ACKs).",
	.seen_on = "6.18; 6.12 and 6.1 in qemu TCG (timings shown there, not judged)",
	.budget_s = 15,
	.timing = true,
	.check = syn_queue_overflow_check);
/* clang-format on */
