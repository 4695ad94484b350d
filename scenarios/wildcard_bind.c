// SPDX-License-Identifier: MIT
/* wildcard-bind: 0.0.0.0:P and this host's address:P on one port, with and without
 * SO_REUSEADDR and SO_REUSEPORT (the prose is in the definition). */
#include "story.h"

#include <arpa/inet.h>

#define OPT_REUSEADDR 1 /* bindto's OPTS bits */
#define OPT_REUSEPORT 2
#define OPT_LISTEN 4

struct variant {
	struct lab_variant v;
	bool wildcard_listens; /* 0.0.0.0:P listens before the specific socket binds */
	bool wildcard_reuseaddr; /* 0.0.0.0:P has SO_REUSEADDR */
	bool reuseport; /* both sockets set SO_REUSEPORT */
	/* documented outcome */
	const char *calls; /* the server's bind() and listen() results, in order */
	const char *queued_on; /* the listener the client's connection waits on */
};

static const struct variant variants[] = {
	/* the failure: SO_REUSEADDR does not let a specific bind() join a listening wildcard */
	{ { "default",
	    "0.0.0.0:P listens, then bind(host:P) with SO_REUSEADDR on both = EADDRINUSE",
	    "The client's handshake [S] [S.] [.], queued on the wildcard listener." },
	  true,
	  true,
	  false,
	  "listen=0 bind=EADDRINUSE",
	  "0.0.0.0" },
	/* neither listens yet: both bind; then only one of them may listen */
	{ { "bound-first",
	    "0.0.0.0:P bound, not listening: bind(host:P) = 0 and it listens; then the "
	    "wildcard's listen() = EADDRINUSE",
	    "The client's handshake [S] [S.] [.], queued on the specific listener." },
	  false,
	  true,
	  false,
	  "bind=0 bind=0 listen=0 listen=EADDRINUSE",
	  LAB_SERVER_ADDR },
	/* SO_REUSEADDR is needed on both: the wildcard without it refuses the second bind() */
	{ { "no-reuseaddr",
	    "0.0.0.0:P bound without SO_REUSEADDR: bind(host:P) = EADDRINUSE even before anyone "
	    "listens",
	    "The client's handshake [S] [S.] [.], queued on the wildcard listener." },
	  false,
	  false,
	  false,
	  "bind=0 bind=EADDRINUSE listen=0",
	  "0.0.0.0" },
	/* the remedy for two listeners: SO_REUSEPORT on both; the more specific one wins */
	{ { "reuseport",
	    "SO_REUSEPORT on both: 0.0.0.0:P and host:P listen together, the specific one "
	    "gets the connection",
	    "The client's handshake [S] [S.] [.], queued on the specific listener." },
	  true,
	  true,
	  true,
	  "listen=0 bind=0 listen=0",
	  LAB_SERVER_ADDR },
};

struct params {
	long clients;
};

static const struct lab_param params[] = {
	LAB_PARAM(struct params, clients, 1, 1, 8, "",
		  "clients that connect to this host's address once the sockets are set up: "
		  "every one waits on the same listener"),
};

struct obs {
	int64_t listeners; /* LISTEN sockets on the port */
	int64_t queued; /* connections waiting on the listener below */
	char queued_on[INET_ADDRSTRLEN]; /* the listener holding them */
};

static bool listening(const struct lab_socks *s, const void *arg)
{
	return lab_socks_count(s, LAB_PORT, TCP_LISTEN) >= (size_t) * (const long *)arg;
}

/* the listeners hold *@arg connections between them */
static bool queued(const struct lab_socks *s, const void *arg)
{
	size_t i, n = 0;

	for (i = 0; i < s->n; i++)
		n += s->v[i].state == TCP_LISTEN ? s->v[i].rqueue : 0;
	return n >= (size_t) * (const long *)arg;
}

static int play(struct lab_run *run, const struct variant *v, const struct params *p,
		struct obs *obs)
{
	long opts = OPT_REUSEADDR | OPT_LISTEN | (v->reuseport ? OPT_REUSEPORT : 0);
	long want_listeners = v->reuseport ? 2 : 1;
	struct lab_socks socks = LAB_SOCKS_INIT;
	size_t i;
	int c;

	/*
	 * The program's own socket is 0.0.0.0:P (listening, or only bound); the second socket
	 * is this host's address on the same port; a bound-only wildcard tries listen() last.
	 */
	lab_server(run,
		   LAB_KNOBS(.no_reuseaddr = !v->wildcard_reuseaddr, .reuseport = v->reuseport,
			     .bind_only = !v->wildcard_listens),
		   "bindto:1:0:%ld,%smark,wait", opts, v->wildcard_listens ? "" : "listen,");
	lab_wait_for(run, LAB_SERVER, listening, &want_listeners, "the server's listeners are up");
	/* its steps done: a bind() that fails leaves no socket to see, only its report */
	lab_wait_calls(run, LAB_PROG_SERVER, "note", 1);
	lab_pause(run, "bound",
		  "the server's binds and listens are done (its calls on the ladder); ss -tln "
		  "shows who listens on the port");
	for (c = 0; c < p->clients; c++)
		lab_client(run, "wait");
	lab_wait_for(run, LAB_SERVER, queued, &p->clients, "every client queued on a listener");
	lab_states(run, LAB_SERVER, &socks);
	obs->listeners = (int64_t)lab_socks_count(&socks, LAB_PORT, TCP_LISTEN);
	for (i = 0; i < socks.n; i++)
		if (socks.v[i].state == TCP_LISTEN && socks.v[i].rqueue) {
			obs->queued = socks.v[i].rqueue;
			inet_ntop(AF_INET, &socks.v[i].local, obs->queued_on,
				  sizeof(obs->queued_on));
		}
	lab_socks_free(&socks);
	return lab_status(run);
}

static void judge(struct lab_run *run, const struct variant *expect, const struct params *p,
		  const struct obs *obs)
{
	static const char *const calls[] = { "bind", "listen", NULL };

	lab_expect_calls(run, LAB_PROG_SERVER, calls, expect->calls);
	lab_expect_state(run, "LISTEN sockets on the port (inet_diag)", 1 + expect->reuseport,
			 obs->listeners);
	lab_expect_text(run, "the listener the connections wait on (inet_diag local address)",
			expect->queued_on, obs->queued_on);
	lab_expect_state(run, "connections waiting on it (LISTEN Recv-Q)", p->clients, obs->queued);
}

LAB_SCENARIO(
	wildcard_bind, struct variant, variants, struct params, params, struct obs,
	.name = "wildcard-bind",
	.summary = "0.0.0.0:P and host:P on one port: EADDRINUSE at bind() or at listen(), "
		   "SO_REUSEADDR on both, SO_REUSEPORT for two listeners",
	.symptom = "A second service (or a second socket of the same one) that binds this "
		   "host's own address on a port where 0.0.0.0 is already bound fails with "
		   "EADDRINUSE, at bind() or only later at listen(), although the documentation "
		   "of SO_REUSEADDR (and BSD behaviour) says that a specific address and the "
		   "wildcard may share a port.",
	.mechanism =
		"bind() and listen() both run inet_csk_get_port(), which checks the new socket "
		"against every socket on the port whose address overlaps (0.0.0.0 overlaps all) "
		"in inet_csk_bind_conflict() / inet_bind_conflict(): two sockets may share it "
		"when both have SO_REUSEADDR and the other is not listening (sk->sk_reuse && "
		"sk2->sk_reuse && sk2->sk_state != TCP_LISTEN), or when both have SO_REUSEPORT "
		"(same user, or the other in TIME_WAIT). So on Linux a specific bind() next to a "
		"listening wildcard fails with EADDRINUSE even with SO_REUSEADDR (BSD allows it); "
		"two sockets bound while neither listens succeed, and then the second listen() "
		"fails (inet_csk_listen_start() asks get_port() again); without SO_REUSEADDR on "
		"either, even the bind() fails. Distinct specific addresses never conflict. With "
		"SO_REUSEPORT both may listen; an incoming SYN is matched to the listener on the "
		"exact address first (__inet_lookup_listener() looks up the address, then "
		"INADDR_ANY). The lab observed each errno at the call named, and on which "
		"listener the client's connection waited (inet_diag).",
	.remedy = "Bind either the wildcard or specific addresses for a port, not both; to "
		  "serve several addresses with separate sockets, bind each specific address (no "
		  "wildcard); to run two listeners on one port, SO_REUSEPORT on every one (same "
		  "user). SO_REUSEADDR is for restarting over TIME_WAIT (server-restart), not for "
		  "sharing a listening port.",
	.seen_on = "6.18; 6.12 and 6.1 in qemu TCG (timings shown there, not judged)",
	.budget_s = 10);
