// SPDX-License-Identifier: MIT
/* server-restart: bind() = EADDRINUSE while the old server's connections sit in TIME_WAIT (the
 * prose is in the definition). */
#include "story.h"

struct variant {
	struct lab_variant v;
	bool old_reuseaddr; /* the old server's listener had SO_REUSEADDR (its sockets inherit it) */
	bool new_reuseaddr; /* the restarted server sets SO_REUSEADDR before bind() */
	bool restarts; /* documented outcome: the new bind() succeeds */
};

static const struct variant variants[] = {
	/* the failure: a server without SO_REUSEADDR cannot restart while its TIME_WAITs live */
	{ { "default",
	    "no SO_REUSEADDR: the restarted server's bind() = EADDRINUSE, clients refused",
	    "Each client's handshake [S] [S.] [.]; the old server's [F.] first, the client's [F.] "
	    "(which also ACKs it) and the server's last [.]; then the late client's [S] answered "
	    "by "
	    "[R.]: nobody listens." },
	  false,
	  false,
	  false },
	/* the remedy: the program sets SO_REUSEADDR, so the old sockets had it and the new has it */
	{ { "reuseaddr",
	    "SO_REUSEADDR on the old and the new listener: bind() = 0 over the TIME_WAITs",
	    "Each client's handshake [S] [S.] [.]; the old server's [F.] first, the client's [F.] "
	    "(which also ACKs it) and the server's last [.]; then the late client's [S] [S.] [.], "
	    "its "
	    "[F.] and the new server's [F.] (with or without a separate [.]), each ACKed [.]." },
	  true,
	  true,
	  true },
	/* half a remedy: only the new socket sets it; the TIME_WAITs kept the old one's 0 */
	{ { "new-only",
	    "SO_REUSEADDR on the new listener only: still EADDRINUSE, the TIME_WAITs have not got "
	    "it",
	    "As in default: each client's [S] [S.] [.], the old server's [F.] first, the "
	    "client's [F.] (which also ACKs it) and the last [.]; the late client's [S] "
	    "answered by [R.]." },
	  false,
	  true,
	  false },
};

struct params {
	long clients;
};

static const struct lab_param params[] = {
	LAB_PARAM(struct params, clients, 2, 1, 8, "",
		  "connections the old server had when it stopped: each ends in TIME_WAIT on the "
		  "server's port"),
};

struct obs {
	int late; /* the client that comes after the restart */
	int64_t time_wait; /* server sockets in TIME_WAIT when it restarts */
};

static bool all_in_time_wait(const struct lab_socks *s, const void *arg)
{
	return lab_socks_count(s, LAB_PORT, TCP_TIME_WAIT) >= (size_t) * (const long *)arg;
}

/* the old listener is closed: a LISTEN seen after the restart is the new one */
static bool no_listener(const struct lab_socks *s, const void *arg)
{
	return !lab_socks_count(s, LAB_PORT, TCP_LISTEN);
}

static int play(struct lab_run *run, const struct variant *v, const struct params *p,
		struct obs *obs)
{
	struct lab_socks socks = LAB_SOCKS_INIT;
	int i;

	/*
	 * The old server stops: it closes its connections first (as the kernel does for a
	 * process that exits) and then its listener. The restart is the same program opening a
	 * new listener on the same address: to the kernel, a new process is no different.
	 */
	lab_server(run, LAB_KNOBS(.no_reuseaddr = !v->old_reuseaddr),
		   "closes:%ld,wait,relisten:%d,accept,recv,close", p->clients, v->new_reuseaddr);
	for (i = 0; i < p->clients; i++)
		lab_client(run, "recv,close");
	lab_wait_for(run, LAB_SERVER, all_in_time_wait, &p->clients,
		     "every old connection in TIME_WAIT on the server");
	lab_wait_for(run, LAB_SERVER, no_listener, NULL, "the old listener closed");
	for (i = 0; i < p->clients; i++)
		lab_finish(run, i);
	lab_states(run, LAB_SERVER, &socks);
	obs->time_wait = (int64_t)lab_socks_count(&socks, LAB_PORT, TCP_TIME_WAIT);
	lab_socks_free(&socks);
	lab_pause(run, "stopped", "the old server is gone, its connections in TIME_WAIT");
	lab_note(run, "the server restarts on the same port");
	lab_go(run, LAB_PROG_SERVER);
	if (v->restarts)
		lab_wait_state(run, LAB_SERVER, TCP_LISTEN);
	else /* a server that cannot bind() exits */
		lab_finish_status(run, LAB_PROG_SERVER, 1);
	obs->late = lab_client(run, "close");
	lab_finish_status(run, obs->late, v->restarts ? 0 : 1);
	if (v->restarts) {
		lab_finish(run, LAB_PROG_SERVER);
		lab_wait_settled(run, LAB_SERVER);
	}
	return lab_status(run);
}

static void judge(struct lab_run *run, const struct variant *expect, const struct params *p,
		  const struct obs *obs)
{
	static const char *const server_calls[] = { "SO_REUSEADDR", "bind", "listen", NULL };
	static const char *const late_calls[] = { "connect", NULL };
	char want[96];

	/* the program's own listen() first, then the restart's */
	snprintf(want, sizeof(want), "listen=0 %sbind=%s",
		 expect->new_reuseaddr ? "SO_REUSEADDR=0 " : "",
		 expect->restarts ? "0 listen=0" : "EADDRINUSE");
	lab_expect_calls(run, LAB_PROG_SERVER, server_calls, want);
	lab_expect_state(run, "server sockets in TIME_WAIT at the restart (inet_diag)", p->clients,
			 obs->time_wait);
	/* the old server closed first: its FIN opened every closing handshake */
	lab_expect_count(run, "FINs from the server before the restart (client-side pcap)", LAB_GE,
			 p->clients, lab_packets(run, LAB_CLIENT, LAB_SERVER, LAB_TH_FIN));
	lab_expect_calls(run, obs->late, late_calls,
			 expect->restarts ? "connect=0" : "connect=ECONNREFUSED");
	/* refused by the server's own stack: no listener on the port (tcp_v4_send_reset()) */
	lab_expect_count(run, "RST from the server (client-side pcap)", LAB_EQ, !expect->restarts,
			 lab_packets(run, LAB_CLIENT, LAB_SERVER, LAB_TH_RST));
}

LAB_SCENARIO(
	server_restart, struct variant, variants, struct params, params, struct obs,
	.name = "server-restart",
	.summary = "a restarted server's bind() = EADDRINUSE while its old connections sit in "
		   "TIME_WAIT; SO_REUSEADDR",
	.symptom = "A server is stopped and started again at once; the new process fails with "
		   "bind(): EADDRINUSE ('Address already in use') although nothing listens on the "
		   "port any more: ss -tan shows only TIME_WAIT sockets with the server's port as "
		   "their local port. About a minute later the same start succeeds. Meanwhile "
		   "clients get 'connection refused'.",
	.mechanism =
		"The server closed its connections first (a process that exits closes its sockets "
		"the same way), so each ends in TIME_WAIT on the server's side for 60 s "
		"(TCP_TIMEWAIT_LEN), still bound to the server's port in the bind hash. bind() "
		"runs inet_csk_get_port(), whose inet_csk_bind_conflict() / inet_bind_conflict() "
		"lets a socket share a port with another that is not listening only when both "
		"have SO_REUSEADDR (sk->sk_reuse && sk2->sk_reuse && sk2->sk_state != "
		"TCP_LISTEN); the TIME_WAIT socket carries the sk_reuse of the connection it "
		"replaced (inet_twsk_alloc()), and an accepted connection inherits it from the "
		"listener. So on Linux the new socket needs SO_REUSEADDR and the TIME_WAITs allow "
		"it only if the old listener had it too: the lab's new-only variant still fails. "
		"A socket that still LISTENs on the port blocks the bind with or without "
		"SO_REUSEADDR. The lab observed: every old connection in TIME_WAIT (inet_diag), "
		"bind() = EADDRINUSE without SO_REUSEADDR on both, bind() = 0 with it, and a "
		"client "
		"in between refused (RST from the server's stack).",
	.remedy = "Set SO_REUSEADDR on the listening socket before bind() in the server itself, "
		  "so both the old and the new instance have it (most server frameworks do). Do "
		  "not wait the minute out or shorten TIME_WAIT (no sysctl does). SO_REUSEPORT is "
		  "a different tool (several listeners at once, same user), and "
		  "tcp_tw_reuse only helps outgoing connect(), not bind().",
	.seen_on = "6.18; 6.12 and 6.1 in qemu TCG (timings shown there, not judged)",
	.budget_s = 10);
