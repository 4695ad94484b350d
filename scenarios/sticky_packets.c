// SPDX-License-Identifier: MIT
/*
 * sticky-packets (粘包): several small send()s come out of one recv().
 *
 * Symptom: the sender sends "hello" and "world"; the receiver reads "helloworld" and its parser,
 * which takes one recv() for one message, sees one malformed message instead of two.
 * Mechanism: TCP is a byte stream. tcp_recvmsg() copies whatever sits in sk_receive_queue up to
 * the buffer size; message boundaries were never sent. A busy reader (modelled with SO_RCVLOWAT,
 * so the story is deterministic) finds every message already queued.
 * tcpdump -nn: one or several data segments; the gluing happens in the receiver's queue.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>

#include "framing.h"

static const struct lab_variant variants[] = {
	/* the bug: a parser that takes one recv() for one message */
	{ "default", "N small sends, the reader is busy, one recv() returns them all: mis-framed",
	  &(struct framing_how){ "accept,rcvlowat:%ld,naive:%ld:%ld:65536,close",
				 "msgs:%ld:%ld,close", false } },
	/* the remedy: a length prefix on every message, and a reader that honours it */
	{ "framed", "same stream with a 4-byte length prefix: every message recovered",
	  &(struct framing_how){ "accept,rcvlowat:%ld,framed:%ld,close", "fmsgs:%ld:%ld,close",
				 true } },
};

static const struct lab_param params[] = {
	{ "messages", 5, 2, 100, "messages", "how many messages the client sends" },
	{ "message_bytes", 10, 1, 600, "bytes", "size of each message (one send() each)" },
};

static int play(struct lab_run *run)
{
	const struct framing_how *how = run->variant->how;
	long n = lab_param(run, "messages"), size = lab_param(run, "message_bytes");
	long on_wire = n * (size + (how->framed ? 4 : 0));
	char server_ops[128], client_ops[64];

	/* the busy reader: its first recv() waits until every message is queued */
	if (how->framed)
		snprintf(server_ops, sizeof(server_ops), how->server_ops, on_wire, n);
	else
		snprintf(server_ops, sizeof(server_ops), how->server_ops, on_wire, n, size);
	snprintf(client_ops, sizeof(client_ops), how->client_ops, n, size);
	return lab_run_pair(run, server_ops, client_ops, 0);
}

static void judge(struct lab_run *run)
{
	const struct framing_how *expect = run->expect_as->how;
	long n = lab_param(run, "messages"), size = lab_param(run, "message_bytes");
	struct framing_obs obs;

	framing_observe(run, &obs);
	LAB_IF_OURS(run, "client", "client send() calls")
	lab_expect_int(&run->ex, "client send() calls", LAB_EQ, n,
		       (int64_t)lab_run_count_calls(run, "client", "send", NULL));
	LAB_IF_OURS(run, "server", "server recv() sizes and the messages its parser delivered")
	{
		lab_expect_int(&run->ex, "server recv() calls with data", LAB_EQ, 1,
			       (int64_t)obs.recv_calls);
		lab_expect_int(&run->ex, "bytes returned by the first recv()", LAB_EQ,
			       n * (size + (expect->framed ? 4 : 0)), obs.first_recv);
		lab_expect_int(&run->ex, "messages the parser delivered", LAB_EQ,
			       expect->framed ? n : 1, (int64_t)obs.messages);
		lab_expect_int(&run->ex, "of them whole and correct", LAB_EQ,
			       expect->framed ? n : 0, (int64_t)obs.whole);
	}
}

const struct lab_scenario lab_sc_sticky_packets = {
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
	.capture = "Client side: the N messages as one or more [P.] segments (Nagle merges the "
		   "ones sent while the first is unacknowledged). Nothing on the wire marks where "
		   "one message ends: compare the segment lengths with the send() sizes in the "
		   "ladder, then with the single recv() on the server.",
	.remedy = "Frame the messages: a length prefix (or a delimiter) and a reader that "
		  "accumulates bytes and cuts messages by the frame, never by recv(). Variant "
		  "'framed': a 4-byte big-endian length before each message; the stream still "
		  "arrives in one recv(), and the reader recovers every message.",
	.by_hand =
		"ip netns exec srv tcplab-server --ops accept,rcvlowat:50,naive:5:10:65536,close\n"
		"ip netns exec cli tcplab-client --connect ADDR:5000 --ops msgs:5:10,close",
	.params = params,
	.n_params = sizeof(params) / sizeof(params[0]),
	.variants = variants,
	.n_variants = sizeof(variants) / sizeof(variants[0]),
	.budget_s = 10,
	.play = play,
	.judge = judge,
};
