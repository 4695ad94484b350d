// SPDX-License-Identifier: MIT
/*
 * split-packets (拆包/半包): one large message comes out of several recv()s.
 *
 * Symptom: the sender sends one 64 KiB message with one send(); the receiver's first recv()
 * returns a few KiB, and a parser that takes that for the message works on a fragment.
 * Mechanism: the receive buffer bounds the advertised window (tcp_select_window()), so the
 * sender can only have so much in flight; each recv() returns what is queued, never more.
 * A small SO_RCVBUF (set before listen(), inherited by accept()) makes the cut the same every run.
 * tcpdump -nn: many MSS-sized segments with small windows advertised by the server.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>

#include "framing.h"

static const struct lab_variant variants[] = {
	/* the bug: the first recv() is taken for the whole message */
	{ "default", "one large send, a small receive buffer: the naive reader gets fragments",
	  &(struct framing_how){ "accept,naive:1:%ld:%ld,close", "msgs:1:%ld,close", false } },
	/* the remedy: length prefix, reassemble until the frame is complete */
	{ "framed", "same message with a length prefix: reassembled across recv() calls",
	  &(struct framing_how){ "accept,framed:1,close", "fmsgs:1:%ld,close", true } },
};

static const struct lab_param params[] = {
	{ "message_bytes", 65536, 8192, 4194304, "bytes", "size of the one message" },
	{ "rcvbuf", 4096, 2048, 65536, "bytes", "server SO_RCVBUF (the kernel doubles it)" },
};

static int play(struct lab_run *run)
{
	const struct framing_how *how = run->variant->how;
	long size = lab_param(run, "message_bytes");
	char server_ops[96], client_ops[64];

	/* the naive reader offers a buffer as large as the message: the bug is not the buffer */
	snprintf(server_ops, sizeof(server_ops), how->server_ops, size, size);
	snprintf(client_ops, sizeof(client_ops), how->client_ops, size);
	return lab_run_pair(run, server_ops, client_ops, lab_param(run, "rcvbuf"));
}

static void judge(struct lab_run *run)
{
	const struct framing_how *expect = run->expect_as->how;
	long size = lab_param(run, "message_bytes");
	struct framing_obs obs;

	framing_observe(run, &obs);
	LAB_IF_OURS(run, "client", "client send() calls")
	lab_expect_int(&run->ex, "client send() calls", LAB_EQ, 1,
		       (int64_t)lab_run_count_calls(run, "client", "send", NULL));
	lab_expect_int(&run->ex, "client data segments on the wire", LAB_GT, 1,
		       (int64_t)lab_trace_count(&run->trace[LAB_CLIENT], lab_addr(LAB_CLIENT_ADDR),
						0, true));
	LAB_IF_OURS(run, "server", "server recv() sizes and the messages its parser delivered")
	{
		lab_expect_int(&run->ex, "server recv() calls with data", LAB_GT, 1,
			       (int64_t)obs.recv_calls);
		lab_expect_int(&run->ex, "bytes returned by the first recv()", LAB_LE,
			       2 * lab_param(run, "rcvbuf"), obs.first_recv);
		if (expect->framed) {
			lab_expect_int(&run->ex, "messages the parser delivered", LAB_EQ, 1,
				       (int64_t)obs.messages);
			lab_expect_int(&run->ex, "bytes of the first message", LAB_EQ, size,
				       obs.first_message);
		} else {
			lab_expect_int(&run->ex, "messages the parser delivered", LAB_GT, 1,
				       (int64_t)obs.messages);
			lab_expect_int(&run->ex, "bytes of the first message", LAB_LE,
				       2 * lab_param(run, "rcvbuf"), obs.first_message);
		}
		lab_expect_int(&run->ex, "of them whole and correct", LAB_EQ,
			       expect->framed ? 1 : 0, (int64_t)obs.whole);
	}
}

const struct lab_scenario lab_sc_split_packets = {
	.name = "split-packets",
	.summary = "one large send() arrives across several recv()s: the naive parser gets pieces",
	.symptom = "The client sends one message of message_bytes with a single send(). The "
		   "server's recv() returns a few KiB at a time (拆包/半包, 'split packets'); a "
		   "parser that takes one recv() for one message handles fragments as messages.",
	.mechanism = "A send() is cut into MSS-sized segments (1448 bytes at MTU 1500 with "
		     "timestamps) and the receiver's buffer bounds its advertised window "
		     "(tcp_select_window(), from SO_RCVBUF). tcp_recvmsg() returns what is queued "
		     "at that moment, so a large message always spans recv() calls unless the "
		     "reader loops. SO_RCVBUF is set before listen() so accept() inherits it and "
		     "the window is small from the first segment: the split is the same every run.",
	.capture = "Client side: dozens of data segments of at most one MSS, the server "
		   "advertising small windows (win), and the ladder's recv() lines on the server "
		   "each returning a piece.",
	.remedy = "Frame and reassemble: read the length prefix, then loop on recv() (or use "
		  "MSG_WAITALL) until the whole frame is there; validate the length first. Variant "
		  "'framed' does exactly that and delivers one whole message from many recv()s.",
	.by_hand =
		"ip netns exec srv tcplab-server --rcvbuf 4096 --ops accept,naive:1:65536:65536,close\n"
		"ip netns exec cli tcplab-client --connect ADDR:5000 --ops msgs:1:65536,close",
	.params = params,
	.n_params = sizeof(params) / sizeof(params[0]),
	.variants = variants,
	.n_variants = sizeof(variants) / sizeof(variants[0]),
	.budget_s = 20,
	.play = play,
	.judge = judge,
};
