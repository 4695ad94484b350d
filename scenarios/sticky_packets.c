// SPDX-License-Identifier: MIT
/* sticky-packets (粘包): several small send()s come out of one recv() (the prose is below). */
#include "framing.h"

struct variant {
	struct lab_variant v;
	bool framed; /* a length prefix on every message, and a reader that honours it */
};

static const struct variant variants[] = {
	/* the bug: a parser that takes one recv() for one message */
	{ { "default", "N small sends, the reader is busy, one recv() returns them all: mis-framed",
	    "The handshake [S] [S.] [.]; the N messages as one or more [P.] segments (Nagle "
	    "merges the ones sent while the first is unacknowledged), ACKed [.]; [F.] from "
	    "both sides at the end. Nothing on the wire marks where one message ends: compare "
	    "the segment lengths with the send() sizes in the ladder, then with the single "
	    "recv() on the server." },
	  false },
	/* the remedy: a length prefix on every message, and a reader that honours it */
	{ { "framed", "same stream with a 4-byte length prefix: every message recovered",
	    "The same wire as default: the handshake [S] [S.] [.], the messages, each with its "
	    "4-byte length prefix, inside one or more [P.] segments, ACKs [.], [F.] from both "
	    "sides. The prefixes, not the segments, mark the messages." },
	  true },
};

struct params {
	long messages, message_bytes;
};

static const struct lab_param params[] = {
	LAB_PARAM(struct params, messages, 5, 2, 100, "messages",
		  "how many messages the client sends"),
	LAB_PARAM(struct params, message_bytes, 10, 1, 600, "bytes",
		  "size of each message (one send() each)"),
};

/* the bytes the client puts in the stream: every message, with its prefix if framed */
static long stream_bytes(bool framed, const struct params *p)
{
	return p->messages * (p->message_bytes + (framed ? FRAMING_PREFIX_BYTES : 0));
}

/* the client's data all acknowledged: every byte is in the server's receive queue */
static bool all_acked(const struct lab_socks *s, const void *arg)
{
	const struct lab_sock *c = lab_socks_find(s, LAB_PORT, -1);

	return c && !c->wqueue;
}

static int play(struct lab_run *run, const struct variant *v, const struct params *p,
		struct framing_obs *obs)
{
	long n = p->messages, size = p->message_bytes, on_wire = stream_bytes(v->framed, p);

	/* the busy reader: SO_RCVLOWAT makes its first recv() wait until every message is queued */
	const char *hold = lab_hold(run, LAB_PROG_SERVER, "all-queued");

	if (v->framed)
		lab_server(run, NULL, "accept,%srcvlowat:%ld,framed:%ld,close", hold, on_wire, n);
	else
		lab_server(run, NULL, "accept,%srcvlowat:%ld,naive:%ld:%ld:65536,close", hold,
			   on_wire, n, size);
	if (v->framed)
		lab_client(run, "fmsgs:%ld:%ld,close", n, size);
	else
		lab_client(run, "msgs:%ld:%ld,close", n, size);
	/* the server, held before it reads, and every message sent: all of them in one queue */
	if (lab_moment_wanted(run, "all-queued") && lab_ours(run, LAB_PROG_CLIENT)) {
		lab_wait_calls(run, LAB_PROG_CLIENT, "send", (size_t)n);
		lab_wait_for(run, LAB_CLIENT, all_acked, NULL,
			     "every message acknowledged by the server's kernel");
	}
	lab_moment(run, LAB_PROG_SERVER, "accept", 1, "all-queued",
		   "every message the client sent sits in one receive queue (ss: Recv-Q), with "
		   "nothing to tell where one ends: the server's recv() comes next");
	lab_finish_all(run);
	framing_observe(run, obs);
	return lab_status(run);
}

static void judge(struct lab_run *run, const struct variant *expect, const struct params *p,
		  const struct framing_obs *obs)
{
	long n = p->messages;

	if (lab_needs(run, LAB_PROG_CLIENT, "client send() calls"))
		lab_expect_count(run, "client send() calls", LAB_EQ, n,
				 lab_count_calls(run, LAB_PROG_CLIENT, "send", NULL));
	if (!lab_needs(run, LAB_PROG_SERVER,
		       "server recv() sizes and the messages its parser delivered"))
		return;
	lab_expect_count(run, "server recv() calls with data", LAB_EQ, 1, obs->recv_calls);
	lab_expect_count(run, "bytes returned by the first recv()", LAB_EQ,
			 stream_bytes(expect->framed, p), obs->first_recv);
	lab_expect_count(run, "messages the parser delivered", LAB_EQ, expect->framed ? n : 1,
			 obs->messages);
	lab_expect_count(run, "of them whole and correct", LAB_EQ, expect->framed ? n : 0,
			 obs->whole);
}

LAB_SCENARIO(
	sticky_packets, struct variant, variants, struct params, params, struct framing_obs,
	.name = "sticky-packets",
	.summary = "several send()s arrive in one recv(): a one-recv-one-message parser mis-frames",
	.symptom = "The client sends N short messages with N send() calls; the server's first "
		   "recv() returns all of them glued together (粘包, 'sticky packets'). A parser "
		   "that treats one recv() as one message sees a single message of N x size bytes "
		   "and rejects or misreads it.",
	.mechanism = "TCP is a byte stream: send() boundaries are never transmitted. Segments are "
		     "appended to sk_receive_queue and tcp_recvmsg() copies as many queued bytes "
		     "as the buffer holds. Any reader that is slower than the sender (busy, "
		     "descheduled, or here waiting on SO_RCVLOWAT so the outcome is the same every "
		     "time) finds several messages queued. Nagle and autocorking may also merge "
		     "them on the wire, but the gluing needs neither.",
	.remedy = "Frame the messages: a length prefix (or a delimiter) and a reader that "
		  "accumulates bytes and cuts messages by the frame, never by recv(). Variant "
		  "'framed': a 4-byte big-endian length before each message; the stream still "
		  "arrives in one recv(), and the reader recovers every message.",
	.seen_on = "6.18; 6.12 and 6.1 in qemu TCG (timings shown there, not judged)",
	.budget_s = 10);
