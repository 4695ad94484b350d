// SPDX-License-Identifier: MIT
/* ping-not-tcp: the host answers ping, its TCP port does not (the prose is in the definition). */
#include "story.h"

struct variant {
	struct lab_variant v;
	bool filtered; /* the wire drops TCP to the server's port (ICMP passes) */
	bool listen; /* a server listens */
	const char *result; /* documented connect() outcome */
};

static const struct variant variants[] = {
	/* the failure: ping says "up", connect() times out */
	{ { "default",
	    "a firewall drops TCP to the port: ping answers, connect() = ETIMEDOUT after the "
	    "SYN retransmissions",
	    "The client's ICMP echo request and the server's echo reply; then the client's "
	    "[S], retransmitted a second apart (3 in 3 s with tcp_syn_retries 1); no TCP in "
	    "the server's capture." },
	  true,
	  true,
	  "ETIMEDOUT" },
	/* the contrast: the filter removed */
	{ { "open", "no filter: ping answers and connect() = 0 in one round trip",
	    "The echo request and reply; the handshake [S] [S.] [.], then a [F.] from each "
	    "side (the second also ACKs the first) and the last [.]." },
	  false,
	  true,
	  "0" },
	/* ping says nothing about ports either way */
	{ { "no-listener",
	    "no filter, nothing listens: ping answers, connect() = ECONNREFUSED at once",
	    "The echo request and reply; the client's [S] and the server's [R.]." },
	  false,
	  false,
	  "ECONNREFUSED" },
};

struct params {
	long syn_retries;
};

static const struct lab_param params[] = {
	LAB_PARAM(struct params, syn_retries, 1, 1, 2, "",
		  "client net.ipv4.tcp_syn_retries (default): SYN retransmissions before "
		  "ETIMEDOUT"),
};

struct obs {
	long linear_timeouts; /* client net.ipv4.tcp_syn_linear_timeouts, -1 if none */
	int filter; /* the wire's impairment index */
};

static int play(struct lab_run *run, const struct variant *v, const struct params *p,
		struct obs *obs)
{
	lab_sysctl(run, LAB_CLIENT, "net.ipv4.tcp_syn_retries", p->syn_retries);
	obs->linear_timeouts =
		lab_sysctl_read(run, LAB_CLIENT, "net.ipv4.tcp_syn_linear_timeouts", -1);
	obs->filter = -1;
	/* a firewall for TCP: the wire's impairments only ever match TCP, ICMP passes */
	if (v->filtered)
		obs->filter = lab_impair(run, "blackhole,dir=c2s");
	if (v->listen)
		lab_server(run, NULL, "accept,recv,close");
	lab_client(run, "ping:1000,%sconnect,close", lab_hold(run, LAB_PROG_CLIENT, "pinged"));
	lab_moment(run, LAB_PROG_CLIENT, "ping", 1, "pinged",
		   "the echo request was answered (ICMP passes the wire); the client's connect() "
		   "to the TCP port comes next");
	lab_finish(run, LAB_PROG_CLIENT);
	if (v->listen && !v->filtered) { /* the story ends when both sides have closed */
		lab_finish(run, LAB_PROG_SERVER);
		lab_wait_settled(run, LAB_SERVER);
		lab_wait_settled(run, LAB_CLIENT);
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
	const struct lab_event *ping = lab_call(run, LAB_PROG_CLIENT, "ping", 0);
	int64_t syns = 1,
		give_up = lab_syn_give_up_us(run, p->syn_retries, obs->linear_timeouts, &syns);
	char want[48];
	struct lab_window w;

	/* ping: the host is up and routed, in both directions */
	if (lab_needs(run, LAB_PROG_CLIENT, "ping answered (an echo reply in time)"))
		lab_expect_count(run, "ping answered (an echo reply in time)", LAB_EQ, 1,
				 ping && ping->ret >= 0);
	lab_expect_count(run, "echo requests that reached the server (server-side pcap)", LAB_EQ, 1,
			 lab_icmp_count(run, LAB_SERVER, LAB_ICMP_ECHO, 0));
	lab_expect_count(run, "echo replies to the client (client-side pcap)", LAB_EQ, 1,
			 lab_icmp_count(run, LAB_CLIENT, LAB_ICMP_ECHO_REPLY, 0));
	/* ... and says nothing about TCP */
	snprintf(want, sizeof(want), "connect=%s", expect->result);
	lab_expect_calls(run, LAB_PROG_CLIENT, calls, want);
	lab_expect_count(run, "SYNs from the client (client-side pcap)", LAB_EQ,
			 expect->filtered ? syns : 1,
			 lab_packets(run, LAB_CLIENT, LAB_CLIENT, LAB_TH_SYN));
	lab_expect_count(run, "SYNs that reached the server (server-side pcap)", LAB_EQ,
			 !expect->filtered, lab_packets(run, LAB_SERVER, LAB_CLIENT, LAB_TH_SYN));
	lab_expect_count(run, "RST from the server (client-side pcap)", LAB_EQ,
			 !expect->filtered && !expect->listen,
			 lab_packets(run, LAB_CLIENT, LAB_SERVER, LAB_TH_RST));
	if (expect->filtered) {
		lab_expect_count(run, "TCP segments the wire's filter dropped", LAB_EQ, syns,
				 lab_impaired(run, obs->filter).dropped);
		w = lab_window_us(run, give_up);
		lab_expect_within(run, "connect() gave up after (first SYN to ETIMEDOUT)", &w,
				  connect_took_us(run));
	} else {
		/* at once: one round trip, far below the 1 s SYN retransmission */
		lab_expect_at_most(run, "connect() returned within (first SYN to return)", 200000,
				   connect_took_us(run));
	}
}

/* clang-format off */
LAB_SCENARIO(ping_not_tcp, struct variant, variants, struct params, params, struct obs,
	.name = "ping-not-tcp",
	.summary = "ping answers but TCP does not: ICMP echo and a TCP port are filtered and "
		   "served independently",
	.symptom = "'The server is up, I can ping it' - yet connect() hangs and fails with "
		   "ETIMEDOUT (about 130 s by default; 3 s here with tcp_syn_retries 1), or fails "
		   "at once with ECONNREFUSED. ping proves that the host answers ICMP and that "
		   "routing works both ways, nothing about a TCP port.",
	.mechanism = "An ICMP echo request is answered by the destination's kernel itself "
		     "(icmp_echo(), no application, no port); a firewall or security group that "
		     "drops TCP to a port (here the wire's nftables rule on the forward hook, "
		     "matching TCP only) lets it pass. The SYN vanishes, so tcp_retransmit_timer() "
		     "resends it every TCP_TIMEOUT_INIT (1 s) for tcp_syn_linear_timeouts "
		     "expiries, and tcp_write_timeout() fails the connect() with ETIMEDOUT "
		     "(TcpAttemptFails). Without the filter the same SYN reaches the server: "
		     "a SYN-ACK if something listens, a RST (ECONNREFUSED) if nothing does. The "
		     "lab's client sends one echo request from a raw socket before it connects.",
	.remedy = "Test the port, not the host: a TCP connect with a short deadline (nc -zv -w1, "
		  "curl --connect-timeout, traceroute --tcp / tcptraceroute to see where SYNs "
		  "die), and compare captures on both sides: a SYN that never arrives is a "
		  "filter on the way. Variant 'open': with the filter removed the same client "
		  "connects; 'no-listener': ping still answers, the port says RST.",
	.seen_on = "6.18; 6.12 and 6.1 in qemu TCG (timings shown there, not judged)",
	.budget_s = 15,
	.timing = true);
/* clang-format on */
