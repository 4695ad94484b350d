// SPDX-License-Identifier: MIT
/* timewait-ports: TIME_WAIT holds every ephemeral port toward one server (the prose is in
 * the definition). */
#include "story.h"

#define FIRST_PORT 40000 /* the client's shrunken ip_local_port_range starts here */
#define REUSE_MARGIN_MS 100 /* the retry comes this long after tcp_tw_reuse_delay has passed */

struct variant {
	struct lab_variant v;
	long tw_reuse; /* client net.ipv4.tcp_tw_reuse */
};

static const struct variant variants[] = {
	/* the failure: the kernel's default tcp_tw_reuse=2 reuses TIME_WAIT for loopback only */
	{ { "default",
	    "every port toward the server in TIME_WAIT: connect() = EADDRNOTAVAIL, a second "
	    "later still (tcp_tw_reuse=2: loopback only)",
	    "One short connection per port: the handshake [S] [S.] [.], the client's [F.] first, "
	    "the server's [F.] (with or without a separate [.] before it) and the client's last "
	    "[.]. The refused connect()s put nothing on the wire." },
	  2 },
	/* the remedy: tcp_tw_reuse=1 lets connect() take over a TIME_WAIT older than the delay */
	{ { "tw-reuse",
	    "tcp_tw_reuse=1: refused at once, but once the TIME_WAITs are older than "
	    "tcp_tw_reuse_delay connect() takes one over",
	    "One short connection per port: [S] [S.] [.], the client's [F.], the server's [F.] "
	    "(with or without a separate [.]) and the client's last [.]; a second later one "
	    "more [S] [S.] [.] ... from a port whose TIME_WAIT it replaced." },
	  1 },
};

struct params {
	long ports;
};

static const struct lab_param params[] = {
	LAB_PARAM(struct params, ports, 4, 2, 8, "",
		  "size of the client's ip_local_port_range (from 40000): the connections that "
		  "fit before every port is in TIME_WAIT; an even number (connect() uses an even "
		  "count of ports)"),
};

/*
 * __inet_hash_connect() rounds the range down to an even count (remaining &= ~1) and the kernel
 * logs "prefer different parity" for an odd one: the story counts ports, so they must all count.
 */
static bool precondition(const struct lab_run *run, const struct variant *v, const struct params *p,
			 char *why, size_t len)
{
	if (p->ports % 2 == 0)
		return true;
	snprintf(why, len,
		 "ports=%ld: connect() only uses an even number of ports of ip_local_port_range "
		 "(__inet_hash_connect(): remaining &= ~1), so one port would never be taken; use "
		 "an even number",
		 p->ports);
	return false;
}

struct obs {
	long reuse_delay_ms; /* client net.ipv4.tcp_tw_reuse_delay (1000 where the kernel has none) */
	int64_t time_wait; /* client sockets in TIME_WAIT once every port was used */
};

static bool all_in_time_wait(const struct lab_socks *s, const void *arg)
{
	return lab_socks_count(s, LAB_PORT, TCP_TIME_WAIT) >= (size_t) * (const long *)arg;
}

static int play(struct lab_run *run, const struct variant *v, const struct params *p,
		struct obs *obs)
{
	struct lab_socks socks = LAB_SOCKS_INIT;

	lab_sysctl_text(run, LAB_CLIENT, "net.ipv4.ip_local_port_range", "%d %ld", FIRST_PORT,
			FIRST_PORT + p->ports - 1);
	lab_sysctl(run, LAB_CLIENT, "net.ipv4.tcp_tw_reuse", v->tw_reuse);
	/* 6.14+ made the 1 s rule a sysctl; older kernels have it fixed (seconds granularity) */
	obs->reuse_delay_ms = lab_sysctl_read(run, LAB_CLIENT, "net.ipv4.tcp_tw_reuse_delay", 1000);
	/* each connection is read to its end and closed: the client closes first */
	lab_server(run, NULL, "drains:%ld", p->ports + (v->tw_reuse == 1));
	/*
	 * The program's own connection and ports - 1 more, each closed at once; then, once all of
	 * them are in TIME_WAIT, a retry at once and another after tcp_tw_reuse_delay.
	 */
	lab_client(run, "close,connects:%ld:4,wait,connects:1:4,idle:%ld,connects:1:4",
		   p->ports - 1, obs->reuse_delay_ms + REUSE_MARGIN_MS);
	lab_wait_for(run, LAB_CLIENT, all_in_time_wait, &p->ports,
		     "every port of the range in TIME_WAIT");
	lab_states(run, LAB_CLIENT, &socks);
	obs->time_wait = (int64_t)lab_socks_count(&socks, LAB_PORT, TCP_TIME_WAIT);
	lab_socks_free(&socks);
	lab_pause(run, "exhausted", "every ephemeral port toward the server is in TIME_WAIT");
	lab_note(run, "every port in TIME_WAIT; the client connects again");
	lab_go(run, LAB_PROG_CLIENT);
	lab_finish_all(run);
	lab_wait_settled(run, LAB_CLIENT);
	return lab_status(run);
}

/* the last packet of the client-side capture before @t_us: the youngest TIME_WAIT's last ACK */
static int64_t last_packet_before(const struct lab_trace *t, int64_t t_us)
{
	int64_t last = -1;
	size_t i;

	for (i = 0; i < t->n && t->v[i].t_us < t_us; i++)
		last = t->v[i].t_us;
	return last;
}

static void judge(struct lab_run *run, const struct variant *expect, const struct params *p,
		  const struct obs *obs)
{
	static const char *const calls[] = { "connect", NULL };
	const struct lab_event *retry = lab_call(run, LAB_PROG_CLIENT, "connect", (size_t)p->ports);
	const struct lab_event *late = lab_call(run, LAB_PROG_CLIENT, "connect", p->ports + 1);
	bool reuse = expect->tw_reuse == 1;
	int64_t tw_entry = retry ? last_packet_before(lab_capture(run, LAB_CLIENT), retry->t_us) :
				   -1;
	char want[160];
	size_t o = 0;
	long i;

	for (i = 0; i < p->ports; i++)
		o += (size_t)snprintf(want + o, sizeof(want) - o, "connect=0 ");
	snprintf(want + o, sizeof(want) - o, "connect=EADDRNOTAVAIL connect=%s",
		 reuse ? "0" : "EADDRNOTAVAIL");
	lab_expect_calls(run, LAB_PROG_CLIENT, calls, want);
	lab_expect_state(run, "client sockets in TIME_WAIT, every port used (inet_diag)", p->ports,
			 obs->time_wait);
	/* the mechanism: __inet_check_established() took over a TIME_WAIT (twsk_unique()) */
	lab_expect_counter(run, LAB_CLIENT, "TcpExtTWRecycled", LAB_EQ, reuse);
	lab_expect_count(run, "SYNs from the client (client-side pcap)", LAB_EQ, p->ports + reuse,
			 lab_packets(run, LAB_CLIENT, LAB_CLIENT, LAB_TH_SYN));
	/*
	 * The 1 s rule, both ways: the retry at once came well inside tcp_tw_reuse_delay of the
	 * youngest TIME_WAIT, the later one after it (tcp_twsk_unique(): tw_entry_stamp + delay).
	 */
	lab_expect_at_most(run, "first retry after the youngest TIME_WAIT began",
			   obs->reuse_delay_ms * 1000 / 2,
			   retry && tw_entry >= 0 ? retry->t_us - tw_entry : -1);
	lab_expect_count(run, "later retry after the youngest TIME_WAIT began (ms)", LAB_GE,
			 obs->reuse_delay_ms,
			 late && tw_entry >= 0 ? (late->t_us - tw_entry) / 1000 : -1);
}

LAB_PRECONDITION(timewait_ports, struct variant, struct params)

LAB_SCENARIO(
	timewait_ports, struct variant, variants, struct params, params, struct obs,
	.name = "timewait-ports",
	.summary = "client-closed connections leave TIME_WAIT on every ephemeral port: "
		   "connect() = EADDRNOTAVAIL; tcp_tw_reuse=1",
	.symptom = "A client that opens and closes many short connections to one server starts "
		   "failing with connect(): EADDRNOTAVAIL ('Cannot assign requested address'; "
		   "Windows reports WSAEADDRINUSE instead, which Java prints as 'Address already "
		   "in use: connect'). ss -tan state time-wait shows "
		   "thousands of sockets toward that one server:port, all on the client side. "
		   "Other servers are still reachable. Here the client's ip_local_port_range is "
		   "shrunk to a few ports (inside the lab's namespace only), so it happens after "
		   "a handful of connections instead of ~28 000.",
	.mechanism =
		"The side that closes first ends in TIME_WAIT (tcp_time_wait()) for a fixed 60 s "
		"(TCP_TIMEWAIT_LEN; no sysctl changes it), and the TIME_WAIT socket keeps its "
		"4-tuple. connect() picks a source port in __inet_hash_connect(): for each port of "
		"ip_local_port_range it asks __inet_check_established() whether the 4-tuple is "
		"free; a TIME_WAIT on it is only taken over when tcp_twsk_unique() allows it, else "
		"the next port is tried, and with none left connect() fails with EADDRNOTAVAIL "
		"(not EADDRINUSE: that is bind()'s). tcp_twsk_unique() allows it when "
		"net.ipv4.tcp_tw_reuse permits (0 never; 1 always; 2, the default since 2018 "
		"(~4.18), only for loopback addresses, so never on a real network), the TIME_WAIT "
		"saw TCP timestamps, it is a real TIME_WAIT (not an orphaned FIN_WAIT2), and it "
		"entered TIME_WAIT more than net.ipv4.tcp_tw_reuse_delay ago (tw_entry_stamp + "
		"delay; 1000 ms, a sysctl since 6.14; before, the rule was that the 1 Hz clock "
		"ktime_get_seconds() had passed the last timestamp's second: 0 to 1 s). A "
		"takeover counts TcpExtTWRecycled and starts the new connection's "
		"sequence numbers above the old one's, so the server's stack accepts its SYN. "
		"The lab observed: every port in TIME_WAIT (inet_diag), connect() refused at once "
		"with either setting, and with tcp_tw_reuse=1 accepted once the TIME_WAITs were "
		"older than the delay, TcpExtTWRecycled +1.",
	.remedy = "Reuse connections (keep-alive, pooling) instead of one per request. "
		  "net.ipv4.tcp_tw_reuse=1 on the client (it only affects outgoing connections, "
		  "and relies on TCP timestamps, on by default); a wider ip_local_port_range; "
		  "more destination addresses or ports (the limit is per 4-tuple). Let the server "
		  "close first only if it can afford the TIME_WAITs. Do not use SO_LINGER {1,0} "
		  "to skip TIME_WAIT: it resets the connection. tcp_tw_recycle is gone (4.12).",
	.seen_on = "6.18; 6.12 and 6.1 in qemu TCG (timings shown there, not judged)",
	.budget_s = 10, .check = timewait_ports_check);
