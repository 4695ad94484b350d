// SPDX-License-Identifier: MIT
/* split-packets (拆包/半包): one large message comes out of several recv()s (the prose is below). */
#include "framing.h"

struct variant {
	struct lab_variant v;
	bool framed; /* a length prefix, and a reader that reassembles until the frame is complete */
};

static const struct variant variants[] = {
	/* the bug: the first recv() is taken for the whole message */
	{ { "default", "one large send, a small receive buffer: the naive reader gets fragments",
	    "The handshake [S] [S.] [.], then dozens of client data segments ([.] and [P.]) of "
	    "at most one MSS, the server's ACKs [.] advertising small windows (win); the "
	    "server, once it has read the message, closes with [F.], then the client [F.]. On "
	    "the ladder, each server recv() returns a piece." },
	  false },
	/* the remedy: length prefix, reassemble until the frame is complete */
	{ { "framed", "same message with a length prefix: reassembled across recv() calls",
	    "The same wire as default: the handshake [S] [S.] [.], data segments [.] and [P.] "
	    "of at most one MSS under small windows, then the server's [F.] and the client's "
	    "[F.]. The reader loops on recv() until the prefix's length is there." },
	  true },
};

struct params {
	long message_bytes, rcvbuf;
};

static const struct lab_param params[] = {
	LAB_PARAM(struct params, message_bytes, 65536, 8192, 4194304, "bytes",
		  "size of the one message"),
	LAB_PARAM(struct params, rcvbuf, 4096, 2048, 65536, "bytes",
		  "server SO_RCVBUF (the kernel doubles it)"),
};

/* data segments the client sent (the client-side capture) */
static int64_t client_data_segments(const struct lab_run *run)
{
	return lab_trace_count(lab_capture(run, LAB_CLIENT), lab_host_addr(LAB_CLIENT), 0, true);
}

/* a message the window can carry at once may arrive whole: nothing to show */
static bool precondition(const struct lab_run *run, const struct variant *v, const struct params *p,
			 char *why, size_t len)
{
	if (p->message_bytes > 2 * p->rcvbuf)
		return true;
	snprintf(why, len,
		 "message_bytes=%ld fits in the window of a %ld-byte receive buffer (the kernel "
		 "doubles rcvbuf=%ld): it may arrive whole; use message_bytes > %ld",
		 p->message_bytes, 2 * p->rcvbuf, p->rcvbuf, 2 * p->rcvbuf);
	return false;
}

/* server-side pcap: the largest receive window the server advertised, scaled (-1: none) */
static int64_t largest_window(const struct lab_run *run)
{
	const struct lab_trace *t = lab_capture(run, LAB_SERVER);
	struct in_addr server = lab_host_addr(LAB_SERVER);
	int64_t best = -1;
	int shift = 0;
	size_t i;

	for (i = 0; i < t->n; i++) {
		const struct lab_pkt *p = &t->v[i];

		if (p->src.s_addr != server.s_addr)
			continue;
		if (p->flags & LAB_TH_SYN) /* the SYN-ACK's window is never scaled */
			shift = p->wscale > 0 ? p->wscale : 0;
		else if ((int64_t)p->win << shift > best)
			best = (int64_t)p->win << shift;
	}
	return best;
}

static int play(struct lab_run *run, const struct variant *v, const struct params *p,
		struct framing_obs *obs)
{
	long size = p->message_bytes;

	/*
	 * SO_RCVBUF before listen(): accept() inherits it, the window is small from the start.
	 * The naive reader offers a buffer as large as the message: the bug is not the buffer.
	 */
	const char *hold = lab_hold(run, LAB_PROG_SERVER, "window-full");

	if (v->framed)
		lab_server(run, LAB_KNOBS(.rcvbuf = p->rcvbuf), "accept,%sframed:1,close", hold);
	else
		lab_server(run, LAB_KNOBS(.rcvbuf = p->rcvbuf), "accept,%snaive:1:%ld:%ld,close",
			   hold, size, size);
	/* the client closes after the server (its recv() sees EOF): whether its FIN would ride on
	 * the last data segment depends on timing, and the capture would differ run to run */
	if (v->framed)
		lab_client(run, "fmsgs:1:%ld,recv,close", size);
	else
		lab_client(run, "msgs:1:%ld,recv,close", size);
	lab_moment(run, LAB_PROG_SERVER, "accept", 1, "window-full",
		   "the server accepted but has not read: the message fills its small receive "
		   "buffer (ss: Recv-Q) and the rest waits in the client's send queue; the "
		   "server's recv() comes next");
	lab_finish_all(run);
	framing_observe(run, obs);
	return lab_status(run);
}

static void judge(struct lab_run *run, const struct variant *expect, const struct params *p,
		  const struct framing_obs *obs)
{
	/* the kernel doubles SO_RCVBUF; the window it offers is a part of that (tcp_full_space()) */
	long rcvbuf_bytes = 2 * p->rcvbuf;

	if (lab_needs(run, LAB_PROG_CLIENT, "client send() calls"))
		lab_expect_count(run, "client send() calls", LAB_EQ, 1,
				 lab_count_calls(run, LAB_PROG_CLIENT, "send", NULL));
	lab_expect_count(run, "client data segments on the wire", LAB_GT, 1,
			 client_data_segments(run));
	/* the mechanism: the small receive buffer bounds the window, so the data comes in parts */
	lab_expect_count(run, "largest window the server offered (server-side pcap)", LAB_LE,
			 rcvbuf_bytes, largest_window(run));
	if (!lab_needs(run, LAB_PROG_SERVER,
		       "server recv() sizes and the messages its parser delivered"))
		return;
	lab_expect_count(run, "server recv() calls with data", LAB_GT, 1, obs->recv_calls);
	/*
	 * not bounded by the buffer: tcp_recvmsg() goes on copying what arrives on the backlog
	 * while it copies, so one recv() can return a little more than SO_RCVBUF x 2
	 */
	lab_expect_count(run, "bytes returned by the first recv()", LAB_LE, p->message_bytes - 1,
			 obs->first_recv);
	if (expect->framed) {
		lab_expect_count(run, "messages the parser delivered", LAB_EQ, 1, obs->messages);
		lab_expect_count(run, "bytes of the first message", LAB_EQ, p->message_bytes,
				 obs->first_message);
	} else {
		lab_expect_count(run, "messages the parser delivered", LAB_GT, 1, obs->messages);
		lab_expect_count(run, "bytes of the first message", LAB_LE, p->message_bytes - 1,
				 obs->first_message);
	}
	lab_expect_count(run, "of them whole and correct", LAB_EQ, expect->framed, obs->whole);
}

LAB_PRECONDITION(split_packets, struct variant, struct params)

LAB_SCENARIO(
	split_packets, struct variant, variants, struct params, params, struct framing_obs,
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
	.remedy = "Frame and reassemble: read the length prefix, then loop on recv() (or use "
		  "MSG_WAITALL) until the whole frame is there; validate the length first. Variant "
		  "'framed' does exactly that and delivers one whole message from many recv()s.",
	.seen_on = "6.18; 6.12 and 6.1 in qemu TCG (timings shown there, not judged)",
	.budget_s = 20, .check = split_packets_check);
