// SPDX-License-Identifier: MIT
/* connect-errors: what connect() says, and the packets that make it say so. */
#include <string.h>

#include "story.h"

struct variant {
	struct lab_variant v;
	bool listen; /* a server listens on the port */
	bool drop_syns; /* the wire drops every SYN (a firewall that drops, not rejects) */
	const char *reject; /* the wire answers every SYN (impair.h's reject=HOW), or NULL */
	int icmp_code; /* the ICMP destination-unreachable code the client gets, -1: none */
	bool no_route; /* the client has no route to the server */
	const char *result; /* documented connect() outcome: "0", "ECONNREFUSED", ... */
};

static const struct variant variants[] = {
	/* nothing listens: the server's kernel answers the SYN with a RST */
	{ { "default", "nothing listens on the port: RST, connect() = ECONNREFUSED at once",
	    "[S] from the client, [R.] from the server, nothing else." },
	  false,
	  false,
	  NULL,
	  -1,
	  false,
	  "ECONNREFUSED" },
	/* SYNs vanish: the client retransmits until tcp_syn_retries, then gives up */
	{ { "timeout", "the wire drops every SYN: retransmissions, then connect() = ETIMEDOUT",
	    "The client's [S] retransmitted a second apart (3 in 3 s with tcp_syn_retries 1 on "
	    "6.18); nothing in the server's capture." },
	  true,
	  true,
	  NULL,
	  -1,
	  false,
	  "ETIMEDOUT" },
	/* the contrast: someone listens */
	{ { "listening", "a server listens: connect() = 0 after one round trip",
	    "The handshake [S] [S.] [.], then a [F.] from each side (the second also ACKs the "
	    "first) and the last [.]." },
	  true,
	  false,
	  NULL,
	  -1,
	  false,
	  "0" },
	/* a router says the host is unreachable */
	{ { "host-unreachable",
	    "the wire answers the SYN with ICMP host unreachable: connect() = EHOSTUNREACH at "
	    "once",
	    "The client's [S], then an ICMP destination unreachable (host unreachable) from "
	    "the wire's address to the client; nothing in the server's capture." },
	  true,
	  false,
	  "icmp-host-unreachable",
	  1,
	  false,
	  "EHOSTUNREACH" },
	/* a firewall says "administratively prohibited": the same errno */
	{ { "admin-prohibited",
	    "the wire answers the SYN with ICMP admin-prohibited (a firewall's reject): "
	    "connect() = EHOSTUNREACH at once",
	    "The client's [S], then an ICMP destination unreachable (communication "
	    "administratively prohibited, code 13) from the wire; nothing in the server's "
	    "capture." },
	  true,
	  false,
	  "icmp-admin-prohibited",
	  13,
	  false,
	  "EHOSTUNREACH" },
	/* a router has no route to the network */
	{ { "net-unreachable",
	    "the wire answers the SYN with ICMP net unreachable: connect() = ENETUNREACH at "
	    "once",
	    "The client's [S], then an ICMP destination unreachable (net unreachable) from the "
	    "wire; nothing in the server's capture." },
	  true,
	  false,
	  "icmp-net-unreachable",
	  0,
	  false,
	  "ENETUNREACH" },
	/* ICMP port unreachable: "refused" without a RST */
	{ { "port-unreachable",
	    "the wire answers the SYN with ICMP port unreachable: connect() = ECONNREFUSED, "
	    "without any RST",
	    "The client's [S], then an ICMP destination unreachable (port unreachable) from "
	    "the wire; no RST; nothing in the server's capture." },
	  true,
	  false,
	  "icmp-port-unreachable",
	  3,
	  false,
	  "ECONNREFUSED" },
	/* a firewall that rejects with a RST in the server's name */
	{ { "firewall-reset",
	    "the wire answers the SYN with a RST in the server's name: ECONNREFUSED, like a "
	    "closed port, but the server never saw the SYN",
	    "The client's [S], answered by [R.] that the wire forges from the server's "
	    "address; nothing in the server's capture." },
	  true,
	  false,
	  "tcp-reset",
	  -1,
	  false,
	  "ECONNREFUSED" },
	/* no route in the client itself: nothing is sent */
	{ { "no-route",
	    "the client has no route to the server: connect() = ENETUNREACH at once, no packet",
	    "Nothing at all: with no route the client never sends its SYN (both captures are "
	    "empty)." },
	  true,
	  false,
	  NULL,
	  -1,
	  true,
	  "ENETUNREACH" },
};

struct params {
	long syn_retries;
};

static const struct lab_param params[] = {
	LAB_PARAM(struct params, syn_retries, 1, 1, 2, "",
		  "client net.ipv4.tcp_syn_retries (timeout): SYN retransmissions before "
		  "ETIMEDOUT"),
};

struct obs {
	long linear_timeouts; /* client net.ipv4.tcp_syn_linear_timeouts, -1 if the kernel has none */
};

static int play(struct lab_run *run, const struct variant *v, const struct params *p,
		struct obs *obs)
{
	lab_sysctl(run, LAB_CLIENT, "net.ipv4.tcp_syn_retries", p->syn_retries);
	obs->linear_timeouts =
		lab_sysctl_read(run, LAB_CLIENT, "net.ipv4.tcp_syn_linear_timeouts", -1);
	if (v->drop_syns)
		lab_impair(run, "blackhole,dir=c2s,flags=S,armed=1");
	if (v->reject) {
		/*
		 * The router is a link away: the SYN takes 1 ms to reach it. With no delay, veth
		 * hands the answer back inside the client's own transmit of its SYN, while
		 * connect() still holds the socket: tcp_v4_err() then only records a soft error
		 * and connect() fails at the SYN's retransmission, 1 s later (what loopback shows).
		 */
		lab_impair(run, "delay=1ms,flags=S");
		lab_impair(run, "reject=%s,flags=S", v->reject);
	}
	if (v->no_route)
		lab_no_route(run, LAB_CLIENT);
	if (v->listen)
		lab_server(run, NULL, "accept,recv,close");
	lab_client(run, "close");
	if (v->drop_syns) {
		if (lab_moment_wanted(run, "syn-sent"))
			lab_wait_state(run, LAB_CLIENT, TCP_SYN_SENT);
		lab_pause(run, "syn-sent",
			  "the client's SYN went into the wire's blackhole: connect() blocks in "
			  "SYN_SENT (ss -o: timer:(on,...)) while its SYNs are re-sent");
	}
	lab_finish_status(run, LAB_PROG_CLIENT, v->result[0] == '0' ? 0 : 1);
	if (v->result[0] == '0') { /* the story ends when both sides have closed */
		lab_finish(run, LAB_PROG_SERVER);
		lab_wait_settled(run, LAB_SERVER);
	}
	return lab_status(run);
}

/* from the client's first SYN (client-side pcap) to connect()'s return */
static int64_t connect_took_us(const struct lab_run *run)
{
	const struct lab_trace *t = lab_capture(run, LAB_CLIENT);
	const struct lab_event *ev = lab_call(run, LAB_PROG_CLIENT, "connect", 0);
	size_t i;

	for (i = 0; ev && i < t->n; i++)
		if (t->v[i].flags == LAB_TH_SYN)
			return ev->t_us - t->v[i].t_us;
	return -1;
}

static void judge(struct lab_run *run, const struct variant *expect, const struct params *p,
		  const struct obs *obs)
{
	static const char *const calls[] = { "connect", NULL };
	/* who answers the SYN: the server's stack (RST or SYN-ACK), the wire, or nobody */
	bool reaches_server = !expect->drop_syns && !expect->reject && !expect->no_route;
	bool server_rst = reaches_server && !expect->listen;
	bool forged_rst = expect->reject && !strcmp(expect->reject, "tcp-reset");
	int64_t syns = 1,
		give_up = lab_syn_give_up_us(run, p->syn_retries, obs->linear_timeouts, &syns);
	char want[48];
	struct lab_window w;

	snprintf(want, sizeof(want), "connect=%s", expect->result);
	lab_expect_calls(run, LAB_PROG_CLIENT, calls, want);
	lab_expect_count(run, "SYNs from the client (client-side pcap)", LAB_EQ,
			 expect->no_route  ? 0 :
			 expect->drop_syns ? syns :
					     1,
			 lab_packets(run, LAB_CLIENT, LAB_CLIENT, LAB_TH_SYN));
	lab_expect_count(run, "SYNs that reached the server (server-side pcap)", LAB_EQ,
			 reaches_server, lab_packets(run, LAB_SERVER, LAB_CLIENT, LAB_TH_SYN));
	lab_expect_count(run, "SYN-ACKs from the server (client-side pcap)", LAB_EQ,
			 reaches_server && expect->listen,
			 lab_packets(run, LAB_CLIENT, LAB_SERVER, LAB_TH_SYN | LAB_TH_ACK));
	/* a RST in the server's name: its own stack's (TcpOutRsts), or the wire's forgery */
	lab_expect_count(run, "RST from the server's address (client-side pcap)", LAB_EQ,
			 server_rst || forged_rst,
			 lab_packets(run, LAB_CLIENT, LAB_SERVER, LAB_TH_RST));
	lab_expect_counter(run, LAB_SERVER, "TcpOutRsts", LAB_EQ, server_rst);
	/* the router's answer: one ICMP destination unreachable, of the documented code */
	lab_expect_count(run, "ICMP destination unreachable to the client (client-side pcap)",
			 LAB_EQ, expect->icmp_code >= 0,
			 lab_icmp_count(run, LAB_CLIENT, LAB_ICMP_DEST_UNREACH, -1));
	if (expect->icmp_code >= 0)
		lab_expect_count(run, "... of the documented code (client-side pcap)", LAB_EQ, 1,
				 lab_icmp_count(run, LAB_CLIENT, LAB_ICMP_DEST_UNREACH,
						expect->icmp_code));
	lab_expect_counter(run, LAB_CLIENT, "IcmpInDestUnreachs", LAB_EQ, expect->icmp_code >= 0);
	/* the client's own routing table refused: the proof of "no packet was ever sent" */
	lab_expect_counter(run, LAB_CLIENT, "IpOutNoRoutes", LAB_EQ, expect->no_route);
	/*
	 * SYN_SENT -> CLOSE counts as a failed attempt, whatever the reason; with no route
	 * there was never a SYN_SENT (ip_route_connect() fails first)
	 */
	lab_expect_counter(run, LAB_CLIENT, "TcpAttemptFails", LAB_EQ,
			   expect->result[0] == 'E' && !expect->no_route);
	if (expect->no_route)
		return; /* nothing was sent: no time to measure from a packet */
	if (expect->drop_syns) {
		w = lab_window_us(run, give_up);
		lab_expect_within(run, "connect() gave up after (first SYN to ETIMEDOUT)", &w,
				  connect_took_us(run));
	} else {
		/* at once: one round trip, far below the 1 s SYN retransmission it is told from */
		lab_expect_at_most(run, "connect() returned within (first SYN to return)", 200000,
				   connect_took_us(run));
	}
}

LAB_SCENARIO(
	connect_errors, struct variant, variants, struct params, params, struct obs,
	.name = "connect-errors",
	.summary = "connect() errnos: RST or ICMP port unreachable -> ECONNREFUSED, ICMP host "
		   "unreachable -> EHOSTUNREACH, no route -> ENETUNREACH, silence -> ETIMEDOUT",
	.symptom = "connect() fails. With ECONNREFUSED, EHOSTUNREACH or ENETUNREACH it fails at "
		   "once; with ETIMEDOUT it hangs first: about 130 s on a default system "
		   "(tcp_syn_retries = 6), 3 s here because the lab lowers tcp_syn_retries to 1 (7 "
		   "s with 2). The errno names who answered: the server's kernel (RST), a router "
		   "or "
		   "firewall on the way (ICMP, or a RST in the server's name), the client's own "
		   "routing table (no packet at all), or nobody.",
	.mechanism =
		"A SYN to a port nobody listens on finds no socket: tcp_v4_rcv() answers with "
		"tcp_v4_send_reset() (nstat TcpOutRsts on the server), and the client's "
		"tcp_reset() in SYN_SENT sets ECONNREFUSED. A firewall's 'reject with tcp reset' "
		"(nf_send_reset()) forges the same RST from the server's address: the client "
		"cannot tell, only the server's capture (no SYN) and TcpOutRsts (0) can. A "
		"router's ICMP destination unreachable reaches tcp_v4_err(), which maps the code "
		"through icmp_err_convert[]: net unreachable (0) -> ENETUNREACH, host "
		"unreachable (1) and communication administratively prohibited (13) -> "
		"EHOSTUNREACH, port unreachable (3) -> ECONNREFUSED; in SYN_SENT every one is "
		"fatal: tcp_done_with_error() (client IcmpInDestUnreachs +1). Only if the "
		"socket is locked by its owner at that moment is the error kept as a soft "
		"error (sk_err_soft) and connect() waits for the SYN's retransmission: on "
		"loopback or a zero-delay veth the ICMP arrives inside connect()'s own transmit, "
		"so the lab delays the client's SYN by 1 ms before the wire rejects it. With no "
		"route at all, ip_route_connect() fails inside tcp_v4_connect(): ENETUNREACH, "
		"no SYN, no SYN_SENT (IpOutNoRoutes +1, TcpAttemptFails +0). A SYN that is "
		"dropped gets no answer: tcp_retransmit_timer() resends it every "
		"TCP_TIMEOUT_INIT (1 s) for the first tcp_syn_linear_timeouts expiries (4; "
		"since 6.5), doubling after. tcp_write_timeout() gives up - ETIMEDOUT - at the "
		"first expiry where the time since the first SYN reaches what tcp_syn_retries "
		"(or TCP_SYNCNT) retransmissions take with plain doubling ((2^(r+1) - 1) s: 3 s "
		"for r = 1), or the retransmissions reach tcp_syn_retries + "
		"tcp_syn_linear_timeouts. So on 6.5+ more SYNs are sent than tcp_syn_retries "
		"says, in the same time. Every SYN_SENT -> CLOSE counts TcpAttemptFails.",
	.remedy = "ECONNREFUSED: start the server, or connect to the right port; if the server's "
		  "capture never shows the SYN, a firewall rejects it. EHOSTUNREACH / "
		  "ENETUNREACH with an ICMP in the capture: the router that sent it (its address "
		  "is the ICMP's source) has no way on, or a firewall forbids it; with no packet "
		  "at all, fix the client's routes. ETIMEDOUT: a firewall drops the SYN, or the "
		  "host is gone; let the firewall reject (RST or ICMP) so clients fail fast, and "
		  "bound connect() with TCP_SYNCNT or a non-blocking connect with a deadline. The "
		  "contrast: variant 'listening' connects in one round trip.",
	.seen_on = "6.18; 6.12 and 6.1 in qemu TCG (timings shown there, not judged)",
	.budget_s = 15);
