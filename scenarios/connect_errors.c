// SPDX-License-Identifier: MIT
/* connect-errors: what connect() says, and the packets that make it say so. */
#include "story.h"

struct variant {
	struct lab_variant v;
	bool listen; /* a server listens on the port */
	bool drop_syns; /* the wire drops every SYN (a firewall that drops, not rejects) */
	const char *result; /* documented connect() outcome: "0", "ECONNREFUSED", "ETIMEDOUT" */
};

static const struct variant variants[] = {
	/* nothing listens: the server's kernel answers the SYN with a RST */
	{ { "default", "nothing listens on the port: RST, connect() = ECONNREFUSED at once",
	    "[S] from the client, [R.] from the server, nothing else." },
	  false,
	  false,
	  "ECONNREFUSED" },
	/* SYNs vanish: the client retransmits until tcp_syn_retries, then gives up */
	{ { "timeout", "the wire drops every SYN: retransmissions, then connect() = ETIMEDOUT",
	    "The client's [S] retransmitted a second apart (3 in 3 s with tcp_syn_retries 1 on "
	    "6.18); nothing in the server's capture." },
	  true,
	  true,
	  "ETIMEDOUT" },
	/* the contrast: someone listens */
	{ { "listening", "a server listens: connect() = 0 after one round trip",
	    "The handshake [S] [S.] [.], then [F.] from both sides, each ACKed [.]." },
	  true,
	  false,
	  "0" },
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
	if (v->listen)
		lab_server(run, NULL, "accept,recv,close");
	lab_client(run, "close");
	lab_finish_status(run, LAB_PROG_CLIENT, v->result[0] == '0' ? 0 : 1);
	if (v->listen && !v->drop_syns) { /* the story ends when both sides have closed */
		lab_finish(run, LAB_PROG_SERVER);
		lab_wait_settled(run, LAB_SERVER);
	}
	return lab_status(run);
}

/*
 * The SYN timer, as tcp_retransmit_timer() and tcp_write_timeout() run it: it starts at
 * TCP_TIMEOUT_INIT and stays there for the first tcp_syn_linear_timeouts expiries (6.5+), then
 * doubles. connect() gives up at the first expiry where either the retransmissions reached
 * tcp_syn_retries + tcp_syn_linear_timeouts, or the time since the first SYN reached what
 * tcp_syn_retries retransmissions take with plain doubling (retransmits_timed_out(): (2^(r+1) - 1)
 * x TCP_TIMEOUT_INIT). Returns when; *@syns gets how many SYNs were sent.
 */
static int64_t give_up_us(const struct lab_run *run, long retries, long linear, int64_t *syns)
{
	int64_t init = lab_timer_us(run, LAB_TCP_TIMEOUT_INIT), rto = init, t = 0;
	int64_t model = ((2L << retries) - 1) * init;
	long sent = 0, expiries = 0;

	linear = linear < 0 ? 0 : linear;
	for (;;) {
		t += rto;
		if (sent >= retries + linear || t >= model)
			break;
		sent++;
		if (++expiries > linear)
			rto *= 2;
	}
	*syns = 1 + sent;
	return t;
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
	bool refused = expect->result[0] == 'E' && !expect->drop_syns;
	int64_t syns = 1, give_up = give_up_us(run, p->syn_retries, obs->linear_timeouts, &syns);
	char want[48];
	struct lab_window w;

	snprintf(want, sizeof(want), "connect=%s", expect->result);
	lab_expect_calls(run, LAB_PROG_CLIENT, calls, want);
	lab_expect_count(run, "SYNs from the client (client-side pcap)", LAB_EQ,
			 expect->drop_syns ? syns : 1,
			 lab_packets(run, LAB_CLIENT, LAB_CLIENT, LAB_TH_SYN));
	lab_expect_count(run, "SYN-ACKs from the server (client-side pcap)", LAB_EQ,
			 expect->listen && !expect->drop_syns,
			 lab_packets(run, LAB_CLIENT, LAB_SERVER, LAB_TH_SYN | LAB_TH_ACK));
	/* the proof of "refused": the server's own stack answered with a RST */
	lab_expect_count(run, "RST from the server (client-side pcap)", LAB_EQ, refused,
			 lab_packets(run, LAB_CLIENT, LAB_SERVER, LAB_TH_RST));
	lab_expect_counter(run, LAB_SERVER, "TcpOutRsts", LAB_EQ, refused);
	/* SYN_SENT -> CLOSE counts as a failed attempt, whatever the reason */
	lab_expect_counter(run, LAB_CLIENT, "TcpAttemptFails", LAB_EQ, expect->result[0] == 'E');
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
	.summary = "connect() errnos: RST -> ECONNREFUSED at once, silence -> ETIMEDOUT after "
		   "the SYN retransmissions",
	.symptom = "connect() fails. With ECONNREFUSED it fails at once; with ETIMEDOUT it hangs "
		   "first: about 130 s on a default system (tcp_syn_retries = 6), 3 s here because "
		   "the lab lowers tcp_syn_retries to 1 (7 s with 2).",
	.mechanism =
		"A SYN to a port nobody listens on finds no socket: tcp_v4_rcv() answers with "
		"tcp_v4_send_reset() (nstat TcpOutRsts on the server), and the client's "
		"tcp_reset() in SYN_SENT sets ECONNREFUSED. A SYN that is dropped gets no "
		"answer: tcp_retransmit_timer() resends it every TCP_TIMEOUT_INIT (1 s) for the "
		"first tcp_syn_linear_timeouts expiries (4; since 6.5), doubling after. "
		"tcp_write_timeout() gives up - ETIMEDOUT - at the first expiry where the "
		"time since the first SYN reaches what tcp_syn_retries (or TCP_SYNCNT) "
		"retransmissions take with plain doubling ((2^(r+1) - 1) s: 3 s for r = 1), "
		"or the retransmissions reach tcp_syn_retries + tcp_syn_linear_timeouts. So "
		"on 6.5+ more SYNs are sent than tcp_syn_retries says, in the same time. "
		"Either way SYN_SENT -> CLOSE counts TcpAttemptFails.",
	.remedy = "ECONNREFUSED: start the server, or connect to the right port (nothing on the "
		  "network is wrong). ETIMEDOUT: a firewall drops the SYN, or the host is gone; "
		  "let the firewall reject (RST or ICMP) so clients fail fast, and bound connect() "
		  "with TCP_SYNCNT or a non-blocking connect with a deadline.",
	.seen_on = "6.18", .budget_s = 15);
