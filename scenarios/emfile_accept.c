// SPDX-License-Identifier: MIT
/* emfile-accept: a server out of file descriptors (the prose is in the definition). */
#include <string.h>

#include "story.h"

struct variant {
	struct lab_variant v;
	bool reserve; /* the server keeps one descriptor spare to accept and shed with */
};

static const struct variant variants[] = {
	/* the failure: accept() = EMFILE, the connection stays queued, the loop spins */
	{ { "default",
	    "the server is at RLIMIT_NOFILE: accept() = EMFILE, the connections stay queued, "
	    "the level-triggered loop spins; they are reset when the server exits",
	    "Each client's handshake [S] [S.] [.]; nothing more until the server exits, then "
	    "[R.] from the server to each queued client." },
	  false },
	/* the remedy: the reserve descriptor */
	{ { "reserve",
	    "the server keeps a spare descriptor: on EMFILE it closes it, accepts, closes the "
	    "connection at once (the client reads EOF) and reopens the spare",
	    "Each client's handshake [S] [S.] [.], then the server's [F.] at once (shed), the "
	    "client's [.], its own [F.] and the server's last [.]." },
	  true },
};

struct params {
	long nofile, clients, spin_ms;
};

static const struct lab_param params[] = {
	LAB_PARAM(struct params, nofile, 16, 16, 256, "",
		  "the server's RLIMIT_NOFILE (soft); it takes every free descriptor below it"),
	LAB_PARAM(struct params, clients, 2, 1, 8, "", "clients that connect"),
	LAB_PARAM(struct params, spin_ms, 200, 100, 1000, "ms",
		  "how long the server's accept loop runs at least"),
};

struct obs {
	int64_t queued; /* the listener's accept queue while the loop runs */
	int64_t established; /* client sockets ESTABLISHED then */
};

static bool queue_at(const struct lab_socks *s, const void *arg)
{
	const struct lab_sock *l = lab_socks_find(s, LAB_PORT, TCP_LISTEN);
	const long *want = arg;

	return l && (long)l->rqueue >= *want;
}

static int play(struct lab_run *run, const struct variant *v, const struct params *p,
		struct obs *obs)
{
	struct lab_socks s = LAB_SOCKS_INIT;
	const struct lab_sock *l;
	long i;

	lab_server(run, NULL, "acceptloop:%ld:%ld%s", p->nofile, p->spin_ms,
		   v->reserve ? ":1" : "");
	for (i = 0; i < p->clients; i++)
		lab_client(run, "recv,close");
	if (v->reserve) { /* each one shed at once: its recv() reads the end of stream */
		for (i = 0; i < p->clients; i++)
			lab_finish(run, (int)i);
	} else {
		lab_wait_for(run, LAB_SERVER, queue_at, &p->clients,
			     "every client waits in the accept queue");
	}
	lab_states(run, LAB_SERVER, &s);
	l = lab_socks_find(&s, LAB_PORT, TCP_LISTEN);
	obs->queued = l ? (int64_t)l->rqueue : -1;
	lab_socks_free(&s);
	lab_states(run, LAB_CLIENT, &s);
	obs->established = (int64_t)lab_socks_count(&s, LAB_PORT, TCP_ESTABLISHED);
	lab_socks_free(&s);
	/* the server stops its loop (after spin_ms at least) and exits */
	lab_pause(run, "queued",
		  "the clients' connections wait in the accept queue (ss: LISTEN Recv-Q); the "
		  "server's accept() keeps failing or shedding (its calls on the ladder)");
	lab_note(run, "the server stops its accept loop and exits");
	lab_go(run, LAB_PROG_SERVER);
	lab_finish(run, LAB_PROG_SERVER);
	if (!v->reserve)
		for (i = 0; i < p->clients; i++)
			lab_finish(run, (int)i);
	lab_wait_settled(run, LAB_CLIENT);
	lab_wait_settled(run, LAB_SERVER);
	return lab_status(run);
}

/* "0", "-1 EMFILE": a call's outcome as the ladder shows it */
static const char *outcome(const struct lab_event *ev, char *buf, size_t len)
{
	if (!ev)
		snprintf(buf, len, "(no such call)");
	else if (ev->ret < 0)
		snprintf(buf, len, "-1 %s", ev->err);
	else
		snprintf(buf, len, "%ld", ev->ret);
	return buf;
}

static void judge(struct lab_run *run, const struct variant *expect, const struct params *p,
		  const struct obs *obs)
{
	static const char *const recvs[] = { "recv", NULL };
	const struct lab_event *wakeups = lab_call(run, LAB_PROG_SERVER, "wakeups", 0);
	const struct lab_event *first = lab_call(run, LAB_PROG_SERVER, "accept", 0);
	int64_t accepts = (int64_t)lab_count_calls(run, LAB_PROG_SERVER, "accept", NULL);
	int64_t shed = (int64_t)lab_count_calls(run, LAB_PROG_SERVER, "accept",
						"on the reserve descriptor");
	char text[32];

	if (lab_needs(run, LAB_PROG_SERVER, "the server's first accept()")) {
		lab_expect_text(run, "the server's first accept()", "-1 EMFILE",
				outcome(first, text, sizeof(text)));
		/* one report per change of outcome: EMFILE, then (reserve) the accept that sheds */
		lab_expect_count(run, "accept() reports: EMFILE, and with the reserve descriptor",
				 LAB_EQ, expect->reserve ? 2 * p->clients : 1, accepts);
		lab_expect_count(run, "accept() = 0 on the reserve descriptor", LAB_EQ,
				 expect->reserve ? p->clients : 0, shed);
	}
	/* level-triggered: a queued connection makes every epoll_wait() return at once */
	if (lab_needs(run, LAB_PROG_SERVER, "epoll_wait() wakeups for the listener")) {
		if (expect->reserve)
			lab_expect_count(run, "epoll_wait() wakeups for the listener", LAB_LE,
					 p->clients, wakeups ? wakeups->ret : -1);
		else /* a rate: a machine under load spins fewer times (timed) */
			lab_expect_count(run, "epoll_wait() wakeups for the listener", LAB_GE, 1000,
					 wakeups ? wakeups->ret : -1);
		if (!expect->reserve)
			lab_expect_timed(run);
	}
	/* EMFILE comes before the queue is touched: the connections are still there */
	lab_expect_count(run, "accept queue while the loop runs (LISTEN Recv-Q)", LAB_EQ,
			 expect->reserve ? 0 : p->clients, obs->queued);
	lab_expect_state(run, "clients ESTABLISHED while the loop runs",
			 expect->reserve ? 0 : p->clients, obs->established);
	lab_expect_calls(run, LAB_PROG_CLIENT, recvs,
			 expect->reserve ? "recv=0" : "recv=ECONNRESET");
	lab_expect_count(run, "FIN from the server (server-side pcap)", LAB_EQ,
			 expect->reserve ? p->clients : 0,
			 lab_packets(run, LAB_SERVER, LAB_SERVER, LAB_TH_FIN));
	/* the listener's close() resets what is still queued (inet_csk_listen_stop()) */
	lab_expect_count(run, "RST from the server (server-side pcap)", LAB_EQ,
			 expect->reserve ? 0 : p->clients,
			 lab_packets(run, LAB_SERVER, LAB_SERVER, LAB_TH_RST));
	lab_expect_counter(run, LAB_SERVER, "TcpExtListenOverflows", LAB_EQ, 0);
}

/* clang-format off */
LAB_SCENARIO(emfile_accept, struct variant, variants, struct params, params, struct obs,
	.name = "emfile-accept",
	.summary = "a server out of file descriptors: accept() = EMFILE, the connection stays "
		   "queued, a level-triggered loop spins at 100 % CPU",
	.symptom = "The server logs 'accept: Too many open files' (EMFILE) in a tight loop and "
		   "burns a CPU; clients connect (the handshake completes) but are never answered "
		   "and eventually time out, or are reset when the server is restarted; ss -lnt "
		   "shows the listener's Recv-Q stuck above 0. Raising fs.file-max does not help.",
	.mechanism = "accept4() asks for a descriptor first: __sys_accept4_file() -> "
		     "get_unused_fd_flags() fails with EMFILE once every number below the "
		     "process's RLIMIT_NOFILE is in use (ENFILE would be the system-wide "
		     "fs.file-max), before do_accept() -> inet_csk_accept() touches the accept "
		     "queue. So the connection stays queued (LISTEN Recv-Q) and the listener "
		     "stays readable: a level-triggered epoll_wait() returns at once, every "
		     "time, and the loop spins (the lab counts the wakeups). With more clients "
		     "the queue fills and accept-overflow follows. When the server exits, "
		     "inet_csk_listen_stop() disconnects every queued child: a RST each "
		     "(tcp_disconnect()). The lab lowers the server's RLIMIT_NOFILE to nofile "
		     "and takes every free descriptor below it (/dev/null), inside the server "
		     "process only.",
	.remedy = "Keep one descriptor in reserve (variant 'reserve'): on EMFILE close it, "
		  "accept, close the connection at once (the client gets a clean EOF and can "
		  "retry elsewhere) and reopen the reserve; or stop watching the listener until "
		  "descriptors are freed. Size RLIMIT_NOFILE (ulimit -n, systemd LimitNOFILE=, "
		  "capped by fs.nr_open) for the connections you keep, and find descriptor leaks.",
	.seen_on = "6.18; 6.12 and 6.1 in qemu TCG (timings shown there, not judged)",
	.budget_s = 10);
/* clang-format on */
