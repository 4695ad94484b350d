// SPDX-License-Identifier: MIT
/* listener-close: a listener closes with connections still in its accept queue (the prose is in
 * the definition). */
#include "story.h"

#define REUSE_BOTH 3 /* relisten's OPTS: SO_REUSEADDR | SO_REUSEPORT */
#define REQUEST 16 /* each client's request, and the reply */

struct variant {
	struct lab_variant v;
	long migrate_req; /* server net.ipv4.tcp_migrate_req */
	bool overlap; /* the new listener joins the group before the old one closes */
	bool migrates; /* documented outcome: the queued connections move to the new listener */
};

static const struct variant variants[] = {
	/* the failure: a reuseport handover drops what waits in the old listener's queue */
	{ { "default",
	    "SO_REUSEPORT handover, tcp_migrate_req=0: the old listener's queued connections "
	    "are reset",
	    "Each client's handshake [S] [S.] [.] and request [P.], ACKed [.] by the server; "
	    "when the old listener closes, one [R.] from the server to each." },
	  0,
	  true,
	  false },
	/* the remedy: tcp_migrate_req=1 moves them to the listener that stays */
	{ { "migrate",
	    "tcp_migrate_req=1: the queued connections move to the new listener, which "
	    "serves them",
	    "Each client's handshake [S] [S.] [.] and request [P.], ACKed [.]; after the "
	    "handover the new listener's reply [P.] to each, then [F.] both ways (the second "
	    "also ACKs the first) and the last [.]." },
	  1,
	  true,
	  true },
	/* migration needs a listener to move to: the old one closes before the new one is up */
	{ { "restart",
	    "tcp_migrate_req=1 but the old listener closes before the new one exists: reset "
	    "all the same",
	    "Each client's handshake [S] [S.] [.] and request [P.], ACKed [.]; when the old "
	    "listener closes, one [R.] from the server to each." },
	  1,
	  false,
	  false },
};

struct params {
	long clients;
};

static const struct lab_param params[] = {
	LAB_PARAM(struct params, clients, 3, 1, 8, "",
		  "clients whose connections wait, request sent, in the old listener's accept "
		  "queue when it closes"),
};

struct obs {
	int64_t queued; /* the old listener's accept queue (LISTEN Recv-Q) before it closes */
};

/* the listener holds *@arg connections, and each has received its client's request */
static bool queue_at(const struct lab_socks *s, const void *arg)
{
	const struct lab_sock *l = lab_socks_find(s, LAB_PORT, TCP_LISTEN);
	const long *want = arg;
	long with_data = 0;
	size_t i;

	for (i = 0; i < s->n; i++)
		with_data += s->v[i].state == TCP_ESTABLISHED && s->v[i].rqueue >= REQUEST;
	return l && l->rqueue >= *want && with_data >= *want;
}

static int play(struct lab_run *run, const struct variant *v, const struct params *p,
		struct obs *obs)
{
	struct lab_socks socks = LAB_SOCKS_INIT;
	const struct lab_sock *l;
	int i;

	lab_sysctl(run, LAB_SERVER, "net.ipv4.tcp_migrate_req", v->migrate_req);
	/*
	 * The old listener (SO_REUSEPORT) never accepts; at the go a new one joins the port's
	 * reuseport group and the old one closes (or the other way round: a plain restart).
	 * Where the connections went, the new listener serves them.
	 */
	if (v->migrates)
		lab_server(run, LAB_KNOBS(.reuseport = 1), "wait,relisten:%d,accepts:%ld:%d",
			   REUSE_BOTH, p->clients, REQUEST);
	else
		lab_server(run, LAB_KNOBS(.reuseport = 1), "wait,%srelisten:%d,wait",
			   v->overlap ? "" : "close,", REUSE_BOTH);
	for (i = 0; i < p->clients; i++)
		lab_client(run, "send:%d,recv:64", REQUEST);
	lab_wait_for(run, LAB_SERVER, queue_at, &p->clients,
		     "every request waiting in the old listener's queue");
	lab_states(run, LAB_SERVER, &socks);
	l = lab_socks_find(&socks, LAB_PORT, TCP_LISTEN);
	obs->queued = l ? (int64_t)l->rqueue : -1;
	lab_socks_free(&socks);
	lab_pause(run, "queued", "the old listener holds every connection, unaccepted");
	lab_note(run, "the old listener closes%s", v->overlap ? " after a new one joined" : "");
	lab_go(run, LAB_PROG_SERVER);
	for (i = 0; i < p->clients; i++)
		lab_finish(run, i);
	if (!v->migrates)
		lab_go(run, LAB_PROG_SERVER);
	lab_finish(run, LAB_PROG_SERVER);
	lab_wait_settled(run, LAB_SERVER);
	return lab_status(run);
}

static void judge(struct lab_run *run, const struct variant *expect, const struct params *p,
		  const struct obs *obs)
{
	static const char *const calls[] = { "send", "recv", NULL };
	static const char *const server_calls[] = { "listen", "close", NULL };
	char want[64];

	lab_expect_state(run, "the old listener's accept queue before it closed (LISTEN Recv-Q)",
			 p->clients, obs->queued);
	snprintf(want, sizeof(want), "send=%d recv=%s", REQUEST,
		 expect->migrates ? "16" : "ECONNRESET");
	lab_expect_calls(run, LAB_PROG_CLIENT, calls, want);
	if (lab_needs(run, LAB_PROG_CLIENT, "clients answered (recv() = the reply)"))
		lab_expect_count(run, "clients answered (recv() = the reply)", LAB_EQ,
				 expect->migrates ? p->clients : 0,
				 lab_count_client_calls(run, "recv", REQUEST));
	/* the old listener's own listen(), then the new one's and the old one's close() */
	lab_expect_calls(run, LAB_PROG_SERVER, server_calls,
			 expect->overlap ? "listen=0 listen=0 close=0" :
					   "listen=0 close=0 listen=0");
	/* inet_csk_listen_stop(): every queued child moved (counted) or disconnected (RST) */
	lab_expect_counter(run, LAB_SERVER, "TcpExtTCPMigrateReqSuccess", LAB_EQ,
			   expect->migrates ? p->clients : 0);
	lab_expect_count(run, "RSTs from the server (client-side pcap)", LAB_EQ,
			 expect->migrates ? 0 : p->clients,
			 lab_packets(run, LAB_CLIENT, LAB_SERVER, LAB_TH_RST));
}

LAB_SCENARIO(
	listener_close, struct variant, variants, struct params, params, struct obs,
	.name = "listener-close",
	.summary = "a listener closes with connections in its accept queue: each is reset; "
		   "tcp_migrate_req moves them within a SO_REUSEPORT group",
	.symptom = "During a restart or a reload that hands a port from an old process to a "
		   "new one (SO_REUSEPORT: both listen for a moment), a few clients get "
		   "ECONNRESET right after connect() succeeded and their request was sent, "
		   "although the new process was already listening. The count grows with the "
		   "load: it is whatever was waiting in the old process's accept queue.",
	.mechanism =
		"A completed connection waits in the accept queue of the listener that took its "
		"SYN. When that listener closes, inet_csk_listen_stop() empties the queue: with "
		"net.ipv4.tcp_migrate_req=1 (5.14+) and another listener left in the same "
		"SO_REUSEPORT group, reuseport_migrate_sock() picks one and the child is queued "
		"there (inet_reqsk_clone(), inet_csk_reqsk_queue_add(); "
		"TcpExtTCPMigrateReqSuccess +1); otherwise inet_child_forget() disconnects it: "
		"tcp_disconnect() sends a RST (tcp_send_active_reset()) and the client's next "
		"call fails with ECONNRESET. The default tcp_migrate_req is 0, and migration "
		"needs the other listener to be in the group when the old one closes. The lab "
		"observed: after the handover each queued client got a RST and recv() = "
		"ECONNRESET; with tcp_migrate_req=1 the new listener accepted and answered all "
		"of them (TcpExtTCPMigrateReqSuccess = clients); closing the old listener before "
		"the new one existed reset them all the same.",
	.remedy = "For a handover with SO_REUSEPORT set net.ipv4.tcp_migrate_req=1 (or a "
		  "BPF_SK_REUSEPORT_SELECT_OR_MIGRATE program) and start the new listener before "
		  "closing the old one; or stop accepting new connections on the old listener and "
		  "drain its queue (accept() until empty) before close(); or hand the listening "
		  "fd itself to the new process (SCM_RIGHTS, systemd socket activation), so no "
		  "listener ever closes.",
	.seen_on = "6.18; 6.12 and 6.1 in qemu TCG (timings shown there, not judged)",
	.budget_s = 10);
