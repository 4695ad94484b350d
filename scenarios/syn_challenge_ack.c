// SPDX-License-Identifier: MIT
/* syn-challenge-ack: a SYN for a 4-tuple the server still holds (the prose is below). */
#include "story.h"

struct variant {
	struct lab_variant v;
	bool rst_lost; /* the wire drops the first client's RST: the server keeps the connection */
};

static const struct variant variants[] = {
	/* the failure: the server still holds the old connection when the new SYN comes */
	{ { "default",
	    "the old client's RST is lost, a new client reuses its port: challenge ACK, the "
	    "client's RST, and connect() succeeds at the SYN sent again 2 jiffies later",
	    "The first client's handshake [S] [S.] [.], request [P.] and reply [P.] with ACKs "
	    "[.], then its [R.] (marked lost: the wire drops it); the second client's [S] from "
	    "the same port, answered by a challenge [.], its [R] back; its [S] again ~10 ms "
	    "later (retransmission), [S.], [.], request and reply [P.], then its [F.]." },
	  true },
	/* the contrast: the old connection's end reached the server */
	{ { "reconnect",
	    "the old client's RST reaches the server: the new client's SYN from the same port "
	    "is answered by a SYN-ACK at once",
	    "The first client's handshake [S] [S.] [.], request and reply [P.] with ACKs [.], "
	    "its [R.]; the second client's [S] from the same port, [S.], [.], request and "
	    "reply [P.], then its [F.]." },
	  false },
};

struct params {
	long port;
};

static const struct lab_param params[] = {
	LAB_PARAM(struct params, port, 44444, 40000, 44999, "",
		  "the source port both clients bind (the same 4-tuple twice)"),
};

struct obs {
	int64_t stale; /* server connections ESTABLISHED when the second client starts */
};

static int play(struct lab_run *run, const struct variant *v, const struct params *p,
		struct obs *obs)
{
	struct lab_socks s = LAB_SOCKS_INIT;

	if (v->rst_lost) /* the old client's abort never arrives (its RST carries ACK: [R.]) */
		lab_impair(run, "blackhole,dir=c2s,flags=RA");
	lab_server(run, NULL, "accepts:2:16,wait");
	/* the first client talks, then vanishes with a RST (SO_LINGER {1, 0}) */
	lab_client(run, "bind:%ld,connect,send:16,recv:16,linger:0,close", p->port);
	lab_finish(run, LAB_PROG_CLIENT);
	lab_states(run, LAB_SERVER, &s);
	obs->stale = (int64_t)lab_socks_count(&s, LAB_PORT, TCP_ESTABLISHED);
	lab_socks_free(&s);
	lab_pause(run, "stale",
		  "the first client is gone; the server still holds its connection ESTABLISHED "
		  "(ss -tan) when its RST was lost; a new client binds the same port next");
	lab_note(run, "the first client is gone; a new one binds the same port");
	lab_client(run, "bind:%ld,connect,send:16,recv:16", p->port);
	lab_finish(run, 1);
	/* the story ends once the server has the second client's FIN */
	lab_wait_state(run, LAB_SERVER, TCP_CLOSE_WAIT);
	return lab_status(run);
}

/* client-side pcap: the second connection's first SYN (the second first-SYN from @port) */
static size_t second_syn(const struct lab_trace *t, uint16_t port)
{
	size_t i, seen = 0;

	for (i = 0; i < t->n; i++)
		if (t->v[i].flags == LAB_TH_SYN && t->v[i].sport == port && !t->v[i].retrans &&
		    seen++)
			return i;
	return t->n;
}

/* client-side pcap: the server's first answer to the second client's first SYN, or t->n */
static size_t answer(const struct lab_trace *t, uint16_t port)
{
	size_t i = second_syn(t, port);

	for (i = i < t->n ? i + 1 : t->n; i < t->n; i++)
		if (t->v[i].src.s_addr == lab_host_addr(LAB_SERVER).s_addr && t->v[i].dport == port)
			return i;
	return t->n;
}

/* the server answered the new SYN with a pure ACK (a challenge ACK), not a SYN-ACK */
static int64_t challenge_acks(const struct lab_run *run, uint16_t port)
{
	const struct lab_trace *t = lab_capture(run, LAB_CLIENT);
	size_t i = answer(t, port);

	return i < t->n && t->v[i].flags == LAB_TH_ACK && !t->v[i].len;
}

/* from the challenge ACK to the new client's next SYN: the timer it re-armed */
static int64_t resyn_us(const struct lab_run *run, uint16_t port)
{
	const struct lab_trace *t = lab_capture(run, LAB_CLIENT);
	size_t i = answer(t, port), j;

	for (j = i + 1; i < t->n && j < t->n; j++)
		if (t->v[j].flags == LAB_TH_SYN && t->v[j].sport == port)
			return t->v[j].t_us - t->v[i].t_us;
	return -1;
}

static void judge(struct lab_run *run, const struct variant *expect, const struct params *p,
		  const struct obs *obs)
{
	static const char *const calls[] = { "bind", "connect", "recv", NULL };
	uint16_t port = (uint16_t)p->port;
	struct lab_window w = lab_timer_window(run, lab_timer_us(run, LAB_TCP_TIMEOUT_MIN));

	/* the port was free again at once: the client kept no state (no TIME_WAIT after a RST) */
	lab_expect_calls(run, 1, calls, "bind=0 connect=0 recv=16");
	lab_expect_state(run, "server connections still ESTABLISHED when the new client starts",
			 expect->rst_lost, obs->stale);
	/* RFC 5961 4.2: a SYN on an established connection gets an ACK, never a new handshake */
	lab_expect_count(run, "challenge ACKs to the new SYN (client-side pcap)", LAB_EQ,
			 expect->rst_lost, challenge_acks(run, port));
	lab_expect_counter(run, LAB_SERVER, "TcpExtTCPSYNChallenge", LAB_EQ, expect->rst_lost);
	lab_expect_counter(run, LAB_SERVER, "TcpExtTCPChallengeACK", LAB_EQ, expect->rst_lost);
	/* the new client answers the ACK it cannot place with a RST: [R], no ACK flag */
	lab_expect_count(run, "bare RST from the client (server-side pcap)", LAB_EQ,
			 expect->rst_lost,
			 lab_packets(run, LAB_SERVER, LAB_CLIENT, LAB_TH_RST) -
				 lab_packets(run, LAB_SERVER, LAB_CLIENT, LAB_TH_RST | LAB_TH_ACK));
	/* ... which ends the stale connection (the lost [R.] would have, had it arrived) */
	lab_expect_counter(run, LAB_SERVER, "TcpEstabResets", LAB_EQ, 1);
	lab_expect_count(run, "SYNs from the new client (client-side pcap)", LAB_EQ,
			 1 + expect->rst_lost,
			 lab_packets(run, LAB_CLIENT, LAB_CLIENT, LAB_TH_SYN) - 1);
	/* the bogus ACK re-armed the SYN timer at TCP_TIMEOUT_MIN: no 1 s wait */
	if (expect->rst_lost)
		lab_expect_within(run, "challenge ACK to the SYN sent again (TCP_TIMEOUT_MIN)", &w,
				  resyn_us(run, port));
}

/* clang-format off */
LAB_SCENARIO(syn_challenge_ack, struct variant, variants, struct params, params, struct obs,
	.name = "syn-challenge-ack",
	.summary = "a SYN for a 4-tuple the server still holds: challenge ACK, the client's RST, "
		   "the SYN again",
	.symptom = "After a client crashed or was reset behind a firewall that ate its RST, "
		   "reconnecting from the same source port (a fixed-port client, NAT reusing a "
		   "mapping) works, but the capture shows the SYN answered by a bare ACK instead "
		   "of a SYN-ACK, a RST from the client, and the SYN again a few milliseconds "
		   "later. Older texts say the server answers such a SYN with a RST; others that "
		   "the client retries after a second.",
	.mechanism = "The server still has an ESTABLISHED socket for the 4-tuple, so "
		     "tcp_v4_rcv() hands the new SYN to it. tcp_validate_incoming() treats a "
		     "SYN on a synchronized connection per RFC 5961 4.2: it counts "
		     "TcpExtTCPSYNChallenge and sends a challenge ACK (tcp_send_challenge_ack(), "
		     "TcpExtTCPChallengeACK; rate-limited by tcp_challenge_ack_limit) carrying "
		     "the old connection's sequence numbers, instead of a RST or a new handshake. "
		     "The new client, in SYN_SENT, gets an ACK that acknowledges nothing it "
		     "sent: tcp_rcv_synsent_state_process() -> reset_and_undo, and "
		     "tcp_v4_send_reset() answers with a RST whose sequence number is the ACK's "
		     "acknowledgment number - exactly what the server expects next, so the "
		     "server's tcp_reset() ends the stale connection (TcpEstabResets). Before "
		     "that, the client re-armed its SYN timer at TCP_TIMEOUT_MIN (2 jiffies, 8 ms "
		     "at HZ=250: 'previous FIN/ACK or RST/ACK might be ignored'), not at "
		     "TCP_TIMEOUT_INIT (1 s): the SYN goes out again almost at once and this time "
		     "the listener answers (seen on 6.18: 11-12 ms after the challenge ACK). The "
		     "lab makes the old client lose its state honestly: it aborts (SO_LINGER {1, "
		     "0}: RST, no TIME_WAIT, the port is free at once) and the wire drops that "
		     "RST, so only the server remembers.",
	.remedy = "Nothing is broken: the protocol recovers within milliseconds, and the "
		  "challenge ACK protects established connections from blind SYN injection. "
		  "Avoid fixed client source ports (let connect() pick one) and keep keepalives "
		  "on long-lived server connections so half-open ones are found; the contrast, "
		  "variant 'reconnect': when the old connection's end reached the server, the "
		  "same SYN is answered by a SYN-ACK at once.",
	.seen_on = "6.18; 6.12 and 6.1 in qemu TCG (timings shown there, not judged)",
	.budget_s = 10,
	.timing = true);
/* clang-format on */
