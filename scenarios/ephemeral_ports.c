// SPDX-License-Identifier: MIT
/* ephemeral-ports: ephemeral ports run out without any TIME_WAIT; bind() before connect()
 * runs out sooner (the prose is in the definition). */
#include "story.h"

#define FIRST_PORT 40000 /* the client's shrunken ip_local_port_range starts here */

struct variant {
	struct lab_variant v;
	long mode; /* the connects step's MODE: 1 bind(own address, 0) first, 2 with NO_PORT */
};

static const struct variant variants[] = {
	/* the failure: bind(ip, 0) before connect() reserves each port for one destination */
	{ { "default",
	    "bind(ip, 0) before each connect(): bind() = EADDRINUSE once the range is used, "
	    "even toward another destination",
	    "The handshake [S] [S.] [.] of every connection that got a port, toward the lab port "
	    "only; at the end the client's [F.] on its first connection and the server's [.]. "
	    "The refused attempts put nothing on the wire." },
	  1 },
	/* the remedy: IP_BIND_ADDRESS_NO_PORT leaves the port to connect(), which shares it */
	{ { "no-port",
	    "IP_BIND_ADDRESS_NO_PORT before bind(ip, 0): connect() = EADDRNOTAVAIL toward the "
	    "full destination, another destination still gets a port",
	    "The handshake [S] [S.] [.] of every connection that got a port, the last one toward "
	    "the second port; at the end the client's [F.] on its first connection and the "
	    "server's [.]." },
	  2 },
	/* plain connect(): the same sharing, without bind() */
	{ { "connect",
	    "connect() alone: EADDRNOTAVAIL toward the full destination, another destination "
	    "still gets a port",
	    "The handshake [S] [S.] [.] of every connection that got a port, the last one toward "
	    "the second port; at the end the client's [F.] on its first connection and the "
	    "server's [.]." },
	  0 },
};

struct params {
	long ports;
};

static const struct lab_param params[] = {
	LAB_PARAM(struct params, ports, 4, 2, 8, "",
		  "size of the client's ip_local_port_range (from 40000): the connections to one "
		  "destination that fit; an even number (connect() and bind() use an even count "
		  "of ports)"),
};

/* __inet_hash_connect() and inet_csk_find_open_port() round the range down to an even count */
static bool precondition(const struct lab_run *run, const struct variant *v, const struct params *p,
			 char *why, size_t len)
{
	if (p->ports % 2 == 0)
		return true;
	snprintf(why, len,
		 "ports=%ld: connect() and bind() only use an even number of ports of "
		 "ip_local_port_range (remaining &= ~1), so one port would never be taken; use an "
		 "even number",
		 p->ports);
	return false;
}

struct obs {
	int64_t sockets; /* the client's sockets toward the lab port at the end */
};

static bool first_closed(const struct lab_socks *s, const void *arg)
{
	return lab_socks_count(s, LAB_PORT, TCP_FIN_WAIT2) >= 1;
}

static int play(struct lab_run *run, const struct variant *v, const struct params *p,
		struct obs *obs)
{
	struct lab_socks socks = LAB_SOCKS_INIT;
	int second = lab_port_number(run) + 1;

	lab_sysctl_text(run, LAB_CLIENT, "net.ipv4.ip_local_port_range", "%d %ld", FIRST_PORT,
			FIRST_PORT + p->ports - 1);
	/*
	 * Two destinations: the lab port and the next one, both listening, nobody accepting (the
	 * queues hold every connection). The second listener is up before the first listens.
	 */
	lab_server(run, LAB_KNOBS(.bind_only = 1), "bindto:0:%d:5,listen,wait", second);
	lab_wait_state(run, LAB_SERVER, TCP_LISTEN);
	/*
	 * The program's own connection, then as many more as the range has ports toward the lab
	 * port (the last one finds none), then one toward the second port; closing the first
	 * connection marks the end of the attempts.
	 */
	lab_client(run, "connects:%ld:%ld,connects:1:%ld:%d,close,wait", p->ports, v->mode, v->mode,
		   second);
	lab_wait_for(run, LAB_CLIENT, first_closed, NULL,
		     "the client's first connection closed (its attempts done)");
	lab_pause(run, "exhausted",
		  "every port of ip_local_port_range holds a connection toward the server (ss "
		  "-tan); the client's last attempts failed (its calls on the ladder)");
	lab_states(run, LAB_CLIENT, &socks);
	obs->sockets = (int64_t)lab_socks_count(&socks, LAB_PORT, -1);
	lab_socks_free(&socks);
	return lab_status(run);
}

/* "NAME=0 NAME=0 ..." @n times, then @tail */
static void repeat(char *buf, size_t len, const char *name, long n, const char *tail)
{
	size_t o = 0;
	long i;

	buf[0] = '\0';
	for (i = 0; i < n && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s=0", o ? " " : "", name);
	if (o < len && *tail)
		snprintf(buf + o, len - o, "%s%s", o ? " " : "", tail);
}

static void judge(struct lab_run *run, const struct variant *expect, const struct params *p,
		  const struct obs *obs)
{
	static const char *const connects[] = { "connect", NULL };
	static const char *const binds[] = { "bind", NULL };
	bool bind_first = expect->mode == 1;
	char want[160];

	/* the program's own connect(), ports - 1 more, then the full destination, the second */
	repeat(want, sizeof(want), "connect", p->ports,
	       bind_first ? "" : "connect=EADDRNOTAVAIL connect=0");
	lab_expect_calls(run, LAB_PROG_CLIENT, connects, want);
	if (bind_first) /* inet_csk_get_port() finds no port for bind() toward any destination */
		repeat(want, sizeof(want), "bind", p->ports - 1, "bind=EADDRINUSE bind=EADDRINUSE");
	else /* IP_BIND_ADDRESS_NO_PORT: bind() never takes a port; plain connect(): no bind() */
		repeat(want, sizeof(want), "bind", expect->mode ? p->ports + 1 : 0, "");
	lab_expect_calls(run, LAB_PROG_CLIENT, binds, want);
	/* every port of the range holds one connection to the lab port: no TIME_WAIT involved */
	lab_expect_state(run, "client sockets toward the lab port (inet_diag)", p->ports,
			 obs->sockets);
	lab_expect_counter(run, LAB_CLIENT, "TcpExtTWRecycled", LAB_EQ, 0);
	/* the second destination's handshake is the proof that its port was shared */
	lab_expect_count(run, "SYNs from the client (client-side pcap)", LAB_EQ,
			 p->ports + !bind_first,
			 lab_packets(run, LAB_CLIENT, LAB_CLIENT, LAB_TH_SYN));
}

LAB_PRECONDITION(ephemeral_ports, struct variant, struct params)

LAB_SCENARIO(
	ephemeral_ports, struct variant, variants, struct params, params, struct obs,
	.name = "ephemeral-ports",
	.summary = "ephemeral ports run out without TIME_WAIT: connect() = EADDRNOTAVAIL per "
		   "destination, bind(ip, 0) = EADDRINUSE for all; IP_BIND_ADDRESS_NO_PORT",
	.symptom = "A client that keeps many connections open (a proxy, a connection pool) gets "
		   "connect(): EADDRNOTAVAIL toward one busy backend while other backends still "
		   "work; or, if it binds its source address before connecting, bind(): "
		   "EADDRINUSE toward every backend at once, with far fewer connections than the "
		   "port range holds per backend. No TIME_WAIT is involved: every port is in use "
		   "by an open connection. Here the client's ip_local_port_range is shrunk to a "
		   "few ports (inside the lab's namespace only).",
	.mechanism =
		"A connection is unique by its 4-tuple, so connect()'s automatic source port "
		"(__inet_hash_connect()) may give one port to many destinations: it skips a port "
		"only if a connection to the same destination already uses it "
		"(__inet_check_established()), and fails with EADDRNOTAVAIL when every port of "
		"ip_local_port_range is taken toward that destination. bind(ip, 0) must choose the "
		"port before the destination is known: inet_csk_get_port() / "
		"inet_csk_find_open_port() take a port no other socket holds, and a port taken by "
		"bind() is marked (tb->fastreuse >= 0) so that connect() never shares it either. "
		"So bind-before-connect reserves each port for one connection, and runs out after "
		"ports connections in all, with EADDRINUSE from bind(). IP_BIND_ADDRESS_NO_PORT "
		"(Linux 4.2) makes bind(ip, 0) record only the address and leave the port to "
		"connect(), which shares it as above. Both allocators use an even count of ports "
		"(remaining &= ~1; connect() prefers one parity, bind() the other). The lab "
		"observed: with bind() first, ports - 1 binds after the program's own connection, "
		"then EADDRINUSE toward the lab port and toward the second port alike; with "
		"IP_BIND_ADDRESS_NO_PORT or plain connect(), EADDRNOTAVAIL toward the lab port and "
		"a handshake toward the second port.",
	.remedy = "Do not bind() a client socket to a port-0 address unless you must choose the "
		  "source address; if you must, set IP_BIND_ADDRESS_NO_PORT first. Widen "
		  "ip_local_port_range, add destination addresses or ports, pool connections. "
		  "EADDRNOTAVAIL from connect() means the 4-tuples toward that destination are "
		  "used up, not the host's ports.",
	.seen_on = "6.18; 6.12 and 6.1 in qemu TCG (timings shown there, not judged)",
	.budget_s = 10, .check = ephemeral_ports_check);
