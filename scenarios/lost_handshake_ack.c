// SPDX-License-Identifier: MIT
/* lost-handshake-ack: the handshake's third packet is lost (the prose is in the definition). */
#include "story.h"

struct variant {
	struct lab_variant v;
	const char *loss; /* which handshake ACKs the wire drops (impair.h syntax: by role) */
	bool client_waits; /* the client connects, then waits until the harness lets it send */
	bool request_expires; /* ... until the server forgot the request: documented RST */
};

static const struct variant variants[] = {
	/* the failure: the client waits for the server to speak first; accept() is 1 s late */
	{ { "default",
	    "handshake ACK lost, client idle: SYN_RECV until the SYN-ACK is "
	    "retransmitted after 1 s; accept() returns late",
	    "[S], [S.], and the client's [.], which is in the client's capture only (marked "
	    "lost); the server's [S.] again ~1 s later (retransmission) and the client's new "
	    "[.]; then the request [P.] and the reply [P.], and [F.] from both sides." },
	  "drop,role=handshake-ack",
	  true,
	  false },
	/* the client talks first: its data carries the ACK that was lost */
	{ { "data-first",
	    "same loss, client sends at once: the data segment completes the "
	    "handshake, accept() is immediate",
	    "[S], [S.], the client's [.] marked lost, but its request [P.] right behind it "
	    "completes the handshake: no second SYN-ACK, only the reply [P.], ACKs [.] and "
	    "[F.] from both sides follow." },
	  "drop,role=handshake-ack",
	  false,
	  false },
	/* the client stays silent until the server gave up on the request: RST */
	{ { "past-retries",
	    "every handshake ACK lost, client silent past tcp_synack_retries: its "
	    "data meets a RST, ECONNRESET",
	    "[S], [S.], the client's [.] marked lost; the [S.] again ~1 s later and its [.] "
	    "lost too (with synack_retries=N, N re-sends 1, 2, 4 s apart); silence until the "
	    "request expires; then the client's request [P.] and [R] from the server." },
	  "blackhole,role=handshake-ack",
	  true,
	  true },
};

struct params {
	long request_bytes, synack_retries;
};

static const struct lab_param params[] = {
	LAB_PARAM(struct params, request_bytes, 16, 1, 1448, "bytes",
		  "what the client sends (and gets back): one segment, so that one recv() takes "
		  "it whole and, in past-retries, it meets one RST"),
	LAB_PARAM(struct params, synack_retries, 1, 0, 3, "",
		  "server net.ipv4.tcp_synack_retries (past-retries only; the others keep the "
		  "kernel's default, 5)"),
};

struct obs {
	int drop; /* impairment index */
	int64_t request_gone_us; /* past-retries: when the request socket was seen gone (realtime) */
};

/*
 * The server forgets the request after 1 + 2 + ... + 2^retries times TCP_TIMEOUT_INIT (1 s):
 * one request timer each, each firing at the end of its timer-wheel granule
 */
static struct lab_window request_lifetime(const struct lab_run *run, long retries)
{
	int64_t sum = 0;
	long i;

	for (i = 0; i <= retries; i++)
		sum += lab_timer_window(run, lab_timer_us(run, LAB_TCP_TIMEOUT_INIT) << i)
			       .expected_us;
	return lab_window_us(run, sum);
}

static bool no_syn_recv(const struct lab_socks *s, const void *arg)
{
	return !lab_socks_count(s, LAB_PORT, TCP_SYN_RECV);
}

static int play(struct lab_run *run, const struct variant *v, const struct params *p,
		struct obs *obs)
{
	struct lab_socks socks = LAB_SOCKS_INIT;

	if (v->request_expires)
		lab_sysctl(run, LAB_SERVER, "net.ipv4.tcp_synack_retries", p->synack_retries);
	/* the handshake's third packet, by its role: the client's ACK of the SYN-ACK */
	obs->drop = lab_impair(run, "%s", v->loss);
	lab_server(run, NULL, "accept,recv:%ld,send:%ld", p->request_bytes, p->request_bytes);
	lab_client(run, "%ssend:%ld,recv:%ld", v->client_waits ? "wait," : "", p->request_bytes,
		   p->request_bytes);
	if (v->client_waits) {
		/* the client is ESTABLISHED, the server holds a request socket */
		lab_wait_state(run, LAB_SERVER, TCP_SYN_RECV);
		lab_states(run, LAB_CLIENT, &socks);
		lab_socks_free(&socks);
		lab_states(run, LAB_SERVER, &socks);
		lab_socks_free(&socks);
		lab_pause(
			run, "syn-recv",
			"the handshake's third packet was dropped: the client is ESTABLISHED (its "
			"connect() returned), the server holds a request socket in SYN_RECV and "
			"re-sends its SYN-ACK after 1 s (its timer runs on while you look)");
		if (v->request_expires) {
			lab_wait_for(run, LAB_SERVER, no_syn_recv, NULL,
				     "the server dropped the request socket (SYN_RECV)");
			obs->request_gone_us = lab_now_us();
			lab_note(run, "request socket expired (SYN_RECV gone)");
		} else {
			/* the retransmitted SYN-ACK, ACKed again, completes the handshake */
			lab_wait_state(run, LAB_SERVER, TCP_ESTABLISHED);
		}
		lab_go(run, LAB_PROG_CLIENT);
	}
	lab_finish(run, LAB_PROG_CLIENT);
	/* past-retries: the server never gets a connection to accept; the runner stops it */
	if (!v->request_expires) {
		lab_finish(run, LAB_PROG_SERVER);
		/* both FINs across (the wire's queue holds packets for a moment): whole captures */
		lab_wait_settled(run, LAB_SERVER);
		lab_wait_settled(run, LAB_CLIENT);
	}
	return lab_status(run);
}

/* server-side pcap: when the first SYN-ACK left (the request socket was made just before) */
static int64_t first_synack_us(const struct lab_trace *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (t->v[i].flags == (LAB_TH_SYN | LAB_TH_ACK))
			return t->v[i].t_us;
	return -1;
}

static void judge(struct lab_run *run, const struct variant *expect, const struct params *p,
		  const struct obs *obs)
{
	static const char *const calls[] = { "connect", "send", "recv", NULL };
	const struct lab_event *conn = lab_call(run, LAB_PROG_CLIENT, "connect", 0);
	const struct lab_event *acc = lab_call(run, LAB_PROG_SERVER, "accept", 0);
	int64_t late = conn && acc && acc->ret >= 0 ? acc->t_us - conn->t_us : -1;
	int64_t synacks = lab_packets(run, LAB_SERVER, LAB_SERVER, LAB_TH_SYN | LAB_TH_ACK);
	int64_t synack_us = first_synack_us(lab_capture(run, LAB_SERVER));
	int64_t dropped = lab_impaired(run, obs->drop).dropped;
	const char *accept_late = "accept() after connect()";
	struct lab_window w;
	char want[96];

	if (expect->request_expires)
		snprintf(want, sizeof(want), "connect=0 send=%ld recv=ECONNRESET",
			 p->request_bytes);
	else
		snprintf(want, sizeof(want), "connect=0 send=%ld recv=%ld", p->request_bytes,
			 p->request_bytes);
	lab_expect_calls(run, LAB_PROG_CLIENT, calls, want);
	if (expect->request_expires) {
		/* every ACK lost: the SYN-ACK retries run out, the request goes, the data meets RST */
		w = request_lifetime(run, p->synack_retries);
		lab_expect_count(run, "handshake ACKs the wire dropped", LAB_GE,
				 p->synack_retries + 1, dropped);
		lab_expect_within(run, "SYN_RECV lifetime: (2^(retries+1) - 1) x 1 s", &w,
				  synack_us < 0 ? -1 : obs->request_gone_us - synack_us);
		lab_expect_count(run, "SYN-ACKs from the server (server-side pcap)", LAB_EQ,
				 p->synack_retries + 1, synacks);
		lab_expect_count(run, "RST from the server (server-side pcap)", LAB_EQ, 1,
				 lab_packets(run, LAB_SERVER, LAB_SERVER, LAB_TH_RST));
		return;
	}
	/* one ACK lost: an idle client waits for the retransmitted SYN-ACK, a talking one does not */
	lab_expect_count(run, "handshake ACKs the wire dropped", LAB_EQ, 1, dropped);
	w = lab_timer_window(run, lab_timer_us(run, LAB_TCP_TIMEOUT_INIT));
	if (lab_needs(run, LAB_PROG_CLIENT, accept_late) &&
	    lab_needs(run, LAB_PROG_SERVER, accept_late)) {
		if (expect->client_waits)
			lab_expect_within(
				run, "accept() after connect(): TCP_TIMEOUT_INIT 1 s + wheel slack",
				&w, late);
		else
			lab_expect_at_most(run, "accept() after connect(): no wait (far below 1 s)",
					   200000, late);
	}
	lab_expect_count(run, "SYN-ACKs from the server (server-side pcap)", LAB_EQ,
			 expect->client_waits ? 2 : 1, synacks);
	lab_expect_count(run, "RST from either side (server-side pcap)", LAB_EQ, 0,
			 lab_packets(run, LAB_SERVER, LAB_SERVER, LAB_TH_RST) +
				 lab_packets(run, LAB_SERVER, LAB_CLIENT, LAB_TH_RST));
}

LAB_SCENARIO(
	lost_handshake_ack, struct variant, variants, struct params, params, struct obs,
	.name = "lost-handshake-ack",
	.summary = "the handshake's third packet is lost: connect() succeeded, accept() waits 1 s",
	.symptom = "A client connects (connect() returns 0 at once) and waits for the server's "
		   "greeting; the server's accept() returns only a second later. If the client "
		   "stays silent longer than the server's SYN-ACK retries, its first request is "
		   "answered with a reset: ECONNRESET on a connection that 'was established'.",
	.mechanism = "connect() returns when the client gets the SYN-ACK and sends the ACK "
		     "(tcp_rcv_synsent_state_process()). The server only has a request socket "
		     "(SYN_RECV, in the SYN queue) until an acceptable ACK arrives "
		     "(tcp_check_req()); accept() waits for the child socket in the accept queue. "
		     "The request timer (reqsk_timer_handler()) retransmits the SYN-ACK after "
		     "TCP_TIMEOUT_INIT (1 s), doubling, tcp_synack_retries times, then drops the "
		     "request. Any segment with the ACK bit completes the handshake, so data "
		     "sent at once hides the loss. After the request is gone, the client's data "
		     "reaches the listener, which answers an unexpected ACK with a RST.",
	.remedy = "Protocols where the server speaks first (SMTP, SSH banners) see this as a "
		  "1 s stall; nothing is broken. Clients that may be silent for long should "
		  "not rely on a handshake that only they consider complete: send first, or "
		  "use TCP_DEFER_ACCEPT/keepalive knowingly. The variants show both.",
	.seen_on = "6.18; 6.12 and 6.1 in qemu TCG (timings shown there, not judged)",
	.budget_s = 40, .timing = true);
