// SPDX-License-Identifier: MIT
/* accept-overflow: a server that does not accept() fast enough (the prose is in the definition). */
#include "story.h"

struct variant {
	struct lab_variant v;
	bool accepts; /* the server accept()s and answers every client */
	bool late_ack; /* the first client's handshake ACK is lost: its data brings it, too late */
	long abort_on_overflow; /* net.ipv4.tcp_abort_on_overflow when late_ack */
};

static const struct variant variants[] = {
	/* the failure: the accept queue fills, further SYNs are dropped */
	{ { "default",
	    "server never accepts: backlog + 1 connections queued, the rest stuck in "
	    "SYN_SENT",
	    "Each queued client's [S] [S.] [.] and request [P.], ACKed by the server [.] and "
	    "never answered; each refused client's [S] unanswered and again ~1 s later "
	    "(retransmission)." },
	  false,
	  false,
	  0 },
	/* the remedy: accept promptly */
	{ { "accepts", "server accepts promptly: every client is served",
	    "Every client's handshake [S] [S.] [.], request [P.] and reply [P.], ACKs [.], "
	    "then each client's [F.] (the server keeps its sockets until the story ends)." },
	  true,
	  false,
	  0 },
	/* the ACK arrives when the queue is full, tcp_abort_on_overflow=0: silence */
	{ { "abort-0",
	    "queue full when a handshake ACK arrives, tcp_abort_on_overflow=0: "
	    "connect() succeeded, data never ACKed, server in SYN_RECV",
	    "The first client's [S] [S.] and its [.] marked lost; the other clients' "
	    "handshakes [S] [S.] [.] fill the queue; the first client's request [P.] "
	    "retransmitted, never ACKed, and the server's [S.] to it again ~1 s after the "
	    "first." },
	  false,
	  true,
	  0 },
	/* the same with tcp_abort_on_overflow=1: RST */
	{ { "abort-1",
	    "queue full when a handshake ACK arrives, tcp_abort_on_overflow=1: RST, "
	    "ECONNRESET",
	    "The first client's [S] [S.] and its [.] marked lost; the others' handshakes [S] "
	    "[S.] [.] fill the queue; the first client's request [P.] is answered at once by "
	    "[R] from the server." },
	  false,
	  true,
	  1 },
};

struct params {
	long backlog, clients;
};

static const struct lab_param params[] = {
	LAB_PARAM(struct params, backlog, 2, 2, 16, "",
		  "listen() backlog: the queue holds backlog + 1"),
	LAB_PARAM(struct params, clients, 6, 1, 30, "",
		  "clients that connect (default: at least backlog + 2, or nothing overflows; "
		  "accepts: any); the abort variants always use backlog + 2"),
};

/* the default variant's failure needs more clients than the queue holds */
static bool precondition(const struct lab_run *run, const struct variant *v, const struct params *p,
			 char *why, size_t len)
{
	if (v->accepts || v->late_ack || p->clients >= p->backlog + 2)
		return true;
	snprintf(why, len,
		 "clients=%ld cannot overflow an accept queue that holds backlog + 1 = %ld: use "
		 "clients >= %ld",
		 p->clients, p->backlog + 1, p->backlog + 2);
	return false;
}

struct obs {
	long n_clients;
	int64_t queue_len, queue_max; /* LISTEN Recv-Q and Send-Q */
	int64_t established, syn_sent, syn_recv, unacked;
};

/* the queue holds *@arg connections, and each has received its client's 16 bytes */
static bool queue_at(const struct lab_socks *s, const void *arg)
{
	const struct lab_sock *l = lab_socks_find(s, LAB_PORT, TCP_LISTEN);
	const long *want = arg;
	long with_data = 0;
	size_t i;

	for (i = 0; i < s->n; i++)
		with_data += s->v[i].state == TCP_ESTABLISHED && s->v[i].rqueue >= 16;
	return l && l->rqueue >= *want && with_data >= *want;
}

/* every client stuck in SYN_SENT has retransmitted its SYN at least once */
static bool syns_retried(const struct lab_socks *s, const void *arg)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->v[i].state == TCP_SYN_SENT && !s->v[i].retrans)
			return false;
	return true;
}

static bool data_retried(const struct lab_socks *s, const void *arg)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->v[i].state == TCP_ESTABLISHED && s->v[i].wqueue && s->v[i].retrans)
			return true;
	return false;
}

/* the late client's request is still in SYN_RECV and its SYN-ACK went out again */
static bool synack_retried(const struct lab_socks *s, const void *arg)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->v[i].state == TCP_SYN_RECV && s->v[i].retrans)
			return true;
	return false;
}

/* the server has accept()ed *@arg connections: established ones, less those still queued */
static bool accepted(const struct lab_socks *s, const void *arg)
{
	const struct lab_sock *l = lab_socks_find(s, LAB_PORT, TCP_LISTEN);
	const size_t *want = arg;
	size_t i, done = 0;

	for (i = 0; i < s->n; i++)
		done += s->v[i].state == TCP_ESTABLISHED || s->v[i].state == TCP_CLOSE_WAIT;
	return l && done >= *want + (size_t)l->rqueue;
}

static bool some_socket(const struct lab_socks *s, const void *arg)
{
	const size_t *want = arg;

	return lab_socks_count(s, LAB_PORT, -1) >= *want;
}

/* connections in the accept queue once client @i is in; 0: nothing to wait for */
static long queued_after(const struct variant *v, const struct params *p, int i)
{
	long queued = i + 1 - v->late_ack; /* the late client is not in the queue */

	return v->accepts || queued > p->backlog + 1 ? 0 : queued;
}

/* start client @i and wait until its connection is in the accept queue or in SYN_SENT */
static void connect_one(struct lab_run *run, const struct variant *v, const struct params *p, int i)
{
	bool late_ack = v->late_ack && i == 0;
	long queued = queued_after(v, p, i);
	size_t sockets = i + 1;
	char what[64];

	lab_client(run, "%ssend:16,recv:64", late_ack ? "wait," : "");
	snprintf(what, sizeof(what), "client %d connected", i + 1);
	lab_wait_for(run, LAB_CLIENT, some_socket, &sockets, what);
	if (queued) {
		snprintf(what, sizeof(what), "the accept queue reached %ld", queued);
		lab_wait_for(run, LAB_SERVER, queue_at, &queued, what);
	}
	if (late_ack)
		lab_wait_state(run, LAB_SERVER, TCP_SYN_RECV);
	/* accepting promptly means before the next client comes, even on a loaded machine */
	if (v->accepts) {
		snprintf(what, sizeof(what), "the server accepted client %d", i + 1);
		lab_wait_for(run, LAB_SERVER, accepted, &sockets, what);
	}
}

static void observe(struct lab_run *run, struct obs *obs)
{
	struct lab_socks c = LAB_SOCKS_INIT, s = LAB_SOCKS_INIT;
	const struct lab_sock *l;
	size_t i;

	lab_states(run, LAB_CLIENT, &c);
	lab_states(run, LAB_SERVER, &s);
	l = lab_socks_find(&s, LAB_PORT, TCP_LISTEN);
	obs->queue_len = obs->queue_max = -1;
	if (l) {
		obs->queue_len = l->rqueue;
		obs->queue_max = l->wqueue;
	}
	obs->established = lab_socks_count(&c, LAB_PORT, TCP_ESTABLISHED);
	obs->syn_sent = lab_socks_count(&c, LAB_PORT, TCP_SYN_SENT);
	obs->syn_recv = lab_socks_count(&s, LAB_PORT, TCP_SYN_RECV);
	for (i = 0; i < c.n; i++)
		obs->unacked += c.v[i].state == TCP_ESTABLISHED && c.v[i].wqueue;
	lab_socks_free(&c);
	lab_socks_free(&s);
}

static int play(struct lab_run *run, const struct variant *v, const struct params *p,
		struct obs *obs)
{
	int i;

	obs->n_clients = v->late_ack ? p->backlog + 2 : p->clients;
	if (v->late_ack) {
		lab_sysctl(run, LAB_SERVER, "net.ipv4.tcp_abort_on_overflow", v->abort_on_overflow);
		/* the first client's handshake ACK: its SYN got in, its ACK will come too late */
		lab_impair(run, "drop,dir=c2s,flags=A,len=0,nth=1");
	}
	if (v->accepts)
		lab_server(run, LAB_KNOBS(.backlog = p->backlog), "accepts:%ld:16,wait",
			   obs->n_clients);
	else
		lab_server(run, LAB_KNOBS(.backlog = p->backlog), "wait");
	/* one client at a time, each in the queue (or refused) before the next one starts */
	for (i = 0; i < obs->n_clients; i++)
		connect_one(run, v, p, i);
	lab_pause(run, "clients-in",
		  v->accepts ?
			  "every client connected; the server accepts them as they come" :
			  "the accept queue is full (ss: LISTEN Recv-Q = backlog + 1); later "
			  "SYNs are dropped (nstat: TcpExtListenOverflows, TcpExtListenDrops)");
	if (v->accepts) {
		for (i = 0; i < obs->n_clients; i++)
			lab_finish(run, i);
	} else if (!v->late_ack) { /* the refused clients try again: their SYNs are dropped too */
		lab_wait_for(run, LAB_CLIENT, syns_retried, NULL,
			     "every SYN_SENT client retransmitted its SYN");
		/* ... and the server has met each of those SYNs (sent is not yet arrived) */
		lab_wait_counter(run, LAB_SERVER, "TcpExtListenOverflows",
				 2 * (obs->n_clients - (p->backlog + 1)));
	} else { /* the first client speaks now: its data carries the ACK */
		lab_note(run, "accept queue full; the first client sends");
		lab_go(run, LAB_PROG_CLIENT);
		if (v->abort_on_overflow)
			lab_finish(run, LAB_PROG_CLIENT);
		else {
			lab_wait_for(run, LAB_CLIENT, data_retried, NULL,
				     "the first client's data was retransmitted");
			lab_wait_for(run, LAB_SERVER, synack_retried, NULL,
				     "the server re-sent the first client's SYN-ACK");
		}
	}
	observe(run, obs);
	return lab_status(run);
}

/* client-side pcap: from a refused client's SYN to its first retransmission (-1: none) */
static int64_t syn_retry_gap(const struct lab_trace *t)
{
	size_t i, j;

	for (i = 0; i < t->n; i++) {
		if (t->v[i].flags != LAB_TH_SYN || t->v[i].retrans)
			continue;
		for (j = i + 1; j < t->n; j++)
			if (t->v[j].flags == LAB_TH_SYN && t->v[j].sport == t->v[i].sport)
				return t->v[j].t_us - t->v[i].t_us;
	}
	return -1;
}

/* the failure: backlog + 1 in the queue, the other clients' SYNs dropped and retried */
static void judge_queue_full(struct lab_run *run, const struct params *p, const struct obs *obs)
{
	int64_t queued = p->backlog + 1, refused = obs->n_clients - queued; /* precondition() */
	/* the SYN's retransmit timer (tcp_connect()): TCP_TIMEOUT_INIT, plus its wheel slack */
	struct lab_window w = lab_timer_window(run, lab_timer_us(run, LAB_TCP_TIMEOUT_INIT));

	lab_expect_count(run, "accept queue length (LISTEN Recv-Q)", LAB_EQ, queued,
			 obs->queue_len);
	lab_expect_count(run, "listen backlog (LISTEN Send-Q)", LAB_EQ, p->backlog, obs->queue_max);
	lab_expect_state(run, "clients ESTABLISHED (in the queue)", queued, obs->established);
	lab_expect_state(run, "clients in SYN_SENT (SYN dropped)", refused, obs->syn_sent);
	/* every refused SYN and every retransmission of it counts */
	lab_expect_counter(run, LAB_SERVER, "TcpExtListenOverflows", LAB_GE, 2 * refused);
	lab_expect_counter(run, LAB_SERVER, "TcpExtListenDrops", LAB_GE, 2 * refused);
	/* the SYN queue is not full, so no cookies: the accept queue's drop, not a SYN flood */
	lab_expect_counter(run, LAB_SERVER, "TcpExtSyncookiesSent", LAB_EQ, 0);
	lab_expect_within(run, "SYN retransmission: TCP_TIMEOUT_INIT 1 s + wheel slack", &w,
			  syn_retry_gap(lab_capture(run, LAB_CLIENT)));
}

/* the remedy: every client gets its reply, nothing overflows */
static void judge_served(struct lab_run *run, const struct obs *obs)
{
	if (lab_needs(run, LAB_PROG_CLIENT, "clients served (recv() = the 16-byte reply)"))
		lab_expect_count(run, "clients served (recv() = the 16-byte reply)", LAB_EQ,
				 obs->n_clients, lab_count_client_calls(run, "recv", 16));
	lab_expect_count(run, "accept queue length at the end", LAB_EQ, 0, obs->queue_len);
	lab_expect_state(run, "clients in SYN_SENT", 0, obs->syn_sent);
	lab_expect_counter(run, LAB_SERVER, "TcpExtListenOverflows", LAB_EQ, 0);
}

/* the late handshake ACK: ignored (abort 0) or answered with a RST (abort 1) */
static void judge_late_ack(struct lab_run *run, const struct variant *expect, const struct obs *obs)
{
	static const char *const calls[] = { "connect", "send", "recv", NULL };
	bool rst = expect->abort_on_overflow;

	lab_expect_calls(run, LAB_PROG_CLIENT, calls,
			 rst ? "connect=0 send=16 recv=ECONNRESET" : "connect=0 send=16");
	lab_expect_counter(run, LAB_SERVER, "TcpExtListenOverflows", LAB_GE, 1);
	lab_expect_counter(run, LAB_SERVER, "TcpExtSyncookiesSent", LAB_EQ, 0);
	/* tcp_check_req(): abort 1 resets the request (embryonic_reset), abort 0 keeps it */
	lab_expect_counter(run, LAB_SERVER, "TcpExtEmbryonicRsts", LAB_EQ, rst);
	lab_expect_state(run, "server sockets in SYN_RECV", !rst, obs->syn_recv);
	lab_expect_count(run, "SYN-ACKs from the server (client-side pcap)", LAB_EQ,
			 obs->n_clients + !rst,
			 lab_packets(run, LAB_CLIENT, LAB_SERVER, LAB_TH_SYN | LAB_TH_ACK));
	lab_expect_count(run, "client sockets with unacknowledged data", LAB_EQ, !rst,
			 obs->unacked);
	lab_expect_count(run, "RST from the server (client-side pcap)", LAB_EQ, rst,
			 lab_packets(run, LAB_CLIENT, LAB_SERVER, LAB_TH_RST));
}

static void judge(struct lab_run *run, const struct variant *expect, const struct params *p,
		  const struct obs *obs)
{
	if (expect->late_ack)
		judge_late_ack(run, expect, obs);
	else if (expect->accepts)
		judge_served(run, obs);
	else
		judge_queue_full(run, p, obs);
}

LAB_PRECONDITION(accept_overflow, struct variant, struct params)

/* clang-format off */
LAB_SCENARIO(accept_overflow, struct variant, variants, struct params, params, struct obs,
	.name = "accept-overflow",
	.summary = "a server that does not accept(): full accept queue, dropped SYNs, "
		   "tcp_abort_on_overflow",
	.symptom = "Under load, some clients hang in connect() for seconds (SYN_SENT) while "
		   "others are 'connected' but never answered; nstat shows ListenOverflows and "
		   "ListenDrops climbing; ss -lnt shows the listener's Recv-Q at backlog + 1. "
		   "With tcp_abort_on_overflow=1, clients get ECONNRESET instead.",
	.mechanism = "Completed handshakes wait in the listener's accept queue, whose limit is "
		     "the listen() backlog (capped by net.core.somaxconn); sk_acceptq_is_full() "
		     "is true above the backlog, so the queue holds backlog + 1. While it is "
		     "full, tcp_conn_request() drops every new SYN (LINUX_MIB_LISTENOVERFLOWS and "
		     "LISTENDROPS +1 each, retransmissions included) and the client retransmits "
		     "its SYN after TCP_TIMEOUT_INIT (1 s). A connection whose SYN got in but "
		     "whose ACK arrives when the queue is full fails in tcp_check_req(): with "
		     "tcp_abort_on_overflow=0 the ACK is ignored (the server keeps SYN_RECV and "
		     "retransmits its SYN-ACK, the client believes it is connected and its data "
		     "is never ACKed); with =1 the server answers with a RST "
		     "(TcpExtEmbryonicRsts +1). SYN cookies play no part in either path: "
		     "tcp_conn_request() sends cookies only when the SYN queue is full (it is "
		     "not: the accept queue is), and drops the SYN for the full accept queue; "
		     "tcp_check_req() never looks at them (TcpExtSyncookiesSent stays 0, with "
		     "tcp_syncookies 1 or 0).",
	.remedy = "accept() promptly (a dedicated accept loop, more workers, epoll), size the "
		  "backlog for bursts (and net.core.somaxconn, which caps it), watch "
		  "ListenOverflows. tcp_abort_on_overflow=1 only makes the failure fast and "
		  "visible; it does not serve anyone.",
	.seen_on = "6.18; 6.12 and 6.1 in qemu TCG (timings shown there, not judged)",
	.budget_s = 20,
	.timing = true,
	.check = accept_overflow_check);
/* clang-format on */
