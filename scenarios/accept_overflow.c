// SPDX-License-Identifier: MIT
/* accept-overflow: a server that does not accept() fast enough (the prose is in the definition). */
#include "story.h"

struct variant {
	struct lab_variant v;
	bool accepts; /* the server accept()s and answers every client */
	bool late_ack; /* the first client's handshake ACK is lost: its data brings it, too late */
	long abort_on_overflow; /* net.ipv4.tcp_abort_on_overflow when late_ack (SYN cookies off) */
};

static const struct variant variants[] = {
	/* the failure: the accept queue fills, further SYNs are dropped */
	{ { "default", "server never accepts: backlog + 1 connections queued, the rest stuck in "
		       "SYN_SENT" },
	  false,
	  false,
	  0 },
	/* the remedy: accept promptly */
	{ { "accepts", "server accepts promptly: every client is served" }, true, false, 0 },
	/* the ACK arrives when the queue is full, tcp_abort_on_overflow=0: silence */
	{ { "abort-0", "queue full when a handshake ACK arrives, tcp_abort_on_overflow=0: "
		       "connect() succeeded, data never ACKed, server in SYN_RECV" },
	  false,
	  true,
	  0 },
	/* the same with tcp_abort_on_overflow=1: RST */
	{ { "abort-1", "queue full when a handshake ACK arrives, tcp_abort_on_overflow=1: RST, "
		       "ECONNRESET" },
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
		  "clients that connect (default, accepts); the abort variants use backlog + 2"),
};

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
		lab_sysctl(run, LAB_SERVER, "net.ipv4.tcp_syncookies", 0);
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
	if (v->accepts) {
		for (i = 0; i < obs->n_clients; i++)
			lab_finish(run, i);
	} else if (!v->late_ack) { /* the refused clients try again: their SYNs are dropped too */
		lab_wait_for(run, LAB_CLIENT, syns_retried, NULL,
			     "every SYN_SENT client retransmitted its SYN");
	} else { /* the first client speaks now: its data carries the ACK */
		lab_note(run, "accept queue full; the first client sends");
		lab_go(run, LAB_PROG_CLIENT);
		if (v->abort_on_overflow)
			lab_finish(run, LAB_PROG_CLIENT);
		else
			lab_wait_for(run, LAB_CLIENT, data_retried, NULL,
				     "the first client's data was retransmitted");
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
	int64_t queued = obs->n_clients < p->backlog + 1 ? obs->n_clients : p->backlog + 1;
	int64_t refused = obs->n_clients - queued;
	/* the SYN's retransmit timer (tcp_connect()): TCP_TIMEOUT_INIT, plus a tick */
	struct lab_window w =
		lab_window_us(run, lab_timer_us(run, LAB_TCP_TIMEOUT_INIT) + lab_tick_us(run));

	lab_expect_count(run, "accept queue length (LISTEN Recv-Q)", LAB_EQ, queued,
			 obs->queue_len);
	lab_expect_count(run, "listen backlog (LISTEN Send-Q)", LAB_EQ, p->backlog, obs->queue_max);
	lab_expect_state(run, "clients ESTABLISHED (in the queue)", queued, obs->established);
	lab_expect_state(run, "clients in SYN_SENT (SYN dropped)", refused, obs->syn_sent);
	/* every refused SYN and every retransmission of it counts */
	lab_expect_counter(run, LAB_SERVER, "TcpExtListenOverflows", LAB_GE, 2 * refused);
	lab_expect_counter(run, LAB_SERVER, "TcpExtListenDrops", LAB_GE, 2 * refused);
	if (refused)
		lab_expect_within(run, "SYN retransmission: TCP_TIMEOUT_INIT 1 s + 1 tick", &w,
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
	/* "promptly" is a time: a server descheduled on a loaded machine lets a SYN overflow */
	lab_expect_timed(run);
}

/* the late handshake ACK: ignored (abort 0) or answered with a RST (abort 1) */
static void judge_late_ack(struct lab_run *run, const struct variant *expect, const struct obs *obs)
{
	static const char *const calls[] = { "connect", "send", "recv", NULL };
	bool rst = expect->abort_on_overflow;

	lab_expect_calls(run, LAB_PROG_CLIENT, calls,
			 rst ? "connect=0 send=16 recv=ECONNRESET" : "connect=0 send=16");
	lab_expect_counter(run, LAB_SERVER, "TcpExtListenOverflows", LAB_GE, 1);
	lab_expect_state(run, "server sockets in SYN_RECV", !rst, obs->syn_recv);
	lab_expect_count(run, "client sockets with unacknowledged data", LAB_EQ, !rst,
			 obs->unacked);
	/* once the story is over, the harness stops the server: its queue is reset then */
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
		     "is never ACKed); with =1 the server answers with a RST. With SYN cookies "
		     "on, overflowing data is dropped silently: the variants turn them off.",
	.capture = "Client side: each queued client's [S] [S.] [.] [P.] with an ACK from the "
		   "server; each refused client's [S] unanswered and again ~1 s later "
		   "(retransmission). abort-0: the first client's [P.] retransmitted, never "
		   "ACKed, with the server's [S.] coming again; abort-1: [R] from the server "
		   "right after the client's [P.].",
	.remedy = "accept() promptly (a dedicated accept loop, more workers, epoll), size the "
		  "backlog for bursts (and net.core.somaxconn, which caps it), watch "
		  "ListenOverflows. tcp_abort_on_overflow=1 only makes the failure fast and "
		  "visible; it does not serve anyone.",
	.seen_on = "6.18",
	.budget_s = 20,
	.timing = true);
/* clang-format on */
