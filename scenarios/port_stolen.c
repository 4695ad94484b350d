// SPDX-License-Identifier: MIT
/* port-stolen: an outgoing connection's ephemeral port is the port a service wants to listen on
 * (the prose is in the definition). */
#include "story.h"

struct variant {
	struct lab_variant v;
	long range_from; /* ip_local_port_range = app_port + range_from .. + 1 */
	bool reserve; /* net.ipv4.ip_local_reserved_ports = app_port */
	bool binds; /* documented outcome: the service's bind() succeeds */
};

static const struct variant variants[] = {
	/* the failure: the service's port is inside the ephemeral range and free for the taking */
	{ { "default",
	    "app_port inside ip_local_port_range: the outgoing connection takes it, the "
	    "service's bind() = EADDRINUSE",
	    "One connection from the client host, from app_port: the handshake [S] [S.] [.], the "
	    "client's [F.] first, the server's [F.] (with or without a separate [.]) and the "
	    "client's last [.]. The failed bind() puts nothing on the wire." },
	  0,
	  false,
	  false },
	/* the remedy: reserve the port; connect() skips it, bind() to it explicitly still works */
	{ { "reserved",
	    "ip_local_reserved_ports=app_port: the connection takes the next port, bind() = 0",
	    "The same connection, from app_port + 1: [S] [S.] [.], the client's [F.] first, the "
	    "server's [F.] (with or without a separate [.]) and the client's last [.]." },
	  0,
	  true,
	  true },
	/* the other remedy: keep service ports out of the ephemeral range */
	{ { "outside-range",
	    "ip_local_port_range moved past app_port: the connection comes from app_port + 2, "
	    "bind() = 0",
	    "The same connection, from app_port + 2: [S] [S.] [.], the client's [F.] first, the "
	    "server's [F.] (with or without a separate [.]) and the client's last [.]." },
	  2,
	  false,
	  true },
};

struct params {
	long app_port;
};

static const struct lab_param params[] = {
	LAB_PARAM(struct params, app_port, 9001, 1024, 65532, "",
		  "the port a service on the client host wants to listen on; the client's "
		  "ip_local_port_range is app_port .. app_port + 1 (outside-range: + 2 .. + 3)"),
};

struct obs {
	int64_t holder_port; /* the local port of the client's connection (inet_diag) */
};

static int play(struct lab_run *run, const struct variant *v, const struct params *p,
		struct obs *obs)
{
	struct lab_socks socks = LAB_SOCKS_INIT;
	long first = p->app_port + v->range_from;

	/*
	 * A two-port range so that the choice is certain: __inet_hash_connect() tries the low
	 * end first (an even offset of a range of two), unless it is reserved.
	 */
	lab_sysctl_text(run, LAB_CLIENT, "net.ipv4.ip_local_port_range", "%ld %ld", first,
			first + 1);
	if (v->reserve)
		lab_sysctl_text(run, LAB_CLIENT, "net.ipv4.ip_local_reserved_ports", "%ld",
				p->app_port);
	lab_server(run, NULL, "accept,recv,close");
	/* the client host connects out, then a service there binds app_port (SO_REUSEADDR set) */
	lab_client(run, "bindto:0:%ld:5,wait,close", p->app_port);
	lab_wait_state(run, LAB_CLIENT, TCP_ESTABLISHED);
	lab_states(run, LAB_CLIENT, &socks);
	obs->holder_port = socks.n ? socks.v[0].lport : -1;
	lab_socks_free(&socks);
	lab_pause(run, "connected",
		  "the client host's outgoing connection is ESTABLISHED; ss -tan there shows "
		  "which local port it took; the service binds app_port next");
	lab_go(run, LAB_PROG_CLIENT);
	lab_finish_all(run);
	lab_wait_settled(run, LAB_SERVER);
	return lab_status(run);
}

/* the source port of the client's first SYN (client-side pcap), -1 if none */
static int64_t source_port(const struct lab_trace *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (t->v[i].flags == LAB_TH_SYN)
			return t->v[i].sport;
	return -1;
}

static void judge(struct lab_run *run, const struct variant *expect, const struct params *p,
		  const struct obs *obs)
{
	static const char *const calls[] = { "connect", "bind", "listen", NULL };
	long port = p->app_port + expect->range_from + expect->reserve;

	lab_expect_count(run, "the connection's source port (client-side pcap)", LAB_EQ, port,
			 source_port(lab_capture(run, LAB_CLIENT)));
	/* what ss -tan shows on the client host while the service tries to bind */
	lab_expect_count(run, "the local port the connection holds (inet_diag)", LAB_EQ, port,
			 obs->holder_port);
	/* inet_csk_bind_conflict(): the connected socket holds the port without SO_REUSEADDR */
	lab_expect_calls(run, LAB_PROG_CLIENT, calls,
			 expect->binds ? "connect=0 bind=0 listen=0" : "connect=0 bind=EADDRINUSE");
}

LAB_SCENARIO(
	port_stolen, struct variant, variants, struct params, params, struct obs,
	.name = "port-stolen",
	.summary = "an outgoing connection takes the port a local service wants: bind() = "
		   "EADDRINUSE; ip_local_reserved_ports",
	.symptom = "A service fails to start with bind(): EADDRINUSE on its port, although no "
		   "other service uses that port; ss -tanp shows an ordinary outgoing connection "
		   "(often of a program on the same host) with that number as its local port. "
		   "Restarting later usually works, and it happens again at random. Here the "
		   "client host's ip_local_port_range is shrunk to two ports (inside the lab's "
		   "namespace only) so that the first connection takes app_port for certain.",
	.mechanism =
		"connect() without bind() picks its source port from net.ipv4.ip_local_port_range "
		"(__inet_hash_connect(), starting at a hashed, perturbed offset), skipping only "
		"ports listed in net.ipv4.ip_local_reserved_ports (inet_is_local_reserved_port()) "
		"and ports someone bind()s explicitly. A service port inside the range (9001 in "
		"the classic report; the default range is 32768-60999) is just another candidate. "
		"The connection's socket sits in the port's bind bucket; a later bind() of that "
		"port by the service runs inet_csk_bind_conflict(), and since the connected socket "
		"has no SO_REUSEADDR, the service's SO_REUSEADDR does not help: EADDRINUSE. A "
		"reserved port is only skipped by automatic choice: an explicit bind() to it "
		"works. The lab observed: the connection from app_port and bind() = EADDRINUSE; "
		"with the port reserved, the connection from app_port + 1 and bind() = 0; with "
		"the range moved, from app_port + 2 and bind() = 0.",
	.remedy = "Keep listening ports out of the ephemeral range: list them in "
		  "net.ipv4.ip_local_reserved_ports (comma-separated, ranges allowed), or move "
		  "ip_local_port_range; start services before the outgoing traffic if that is "
		  "all you can do (it only narrows the window).",
	.seen_on = "6.18; 6.12 and 6.1 in qemu TCG (timings shown there, not judged)",
	.budget_s = 10);
