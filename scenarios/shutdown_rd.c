// SPDX-License-Identifier: MIT
/* shutdown-rd: SHUT_RD on Linux sends nothing and drops nothing (the prose is in the definition). */
#include "story.h"

struct variant {
	struct lab_variant v;
	bool rdwr; /* shutdown(SHUT_RDWR) instead of SHUT_RD */
};

static const struct variant variants[] = {
	/* the refutation: nothing on the wire, later data is still queued and read */
	{ { "default",
	    "server shutdown(SHUT_RD): nothing on the wire; recv() = 0 on an empty queue, yet the "
	    "client's later data is ACKed and read",
	    "The handshake [S] [S.] [.], the client's first part [P.] and its ACK [.]; nothing "
	    "at the server's shutdown(); the client's second part [P.], ACKed [.] and read; "
	    "then the server's close(): [F.] each way and the last [.]. No RST anywhere." },
	  false },
	/* SHUT_RDWR: the write side closes too (FIN), and later data meets a RST */
	{ { "rdwr",
	    "server shutdown(SHUT_RDWR) instead: its FIN goes out at once, the client's later "
	    "data meets a RST (TcpExtTCPAbortOnData)",
	    "The handshake [S] [S.] [.], the client's first part [P.] and its ACK [.]; the "
	    "server's [F.] at its shutdown(); the client's second part [P.] (which also ACKs "
	    "the FIN) answered by [R] from the server." },
	  true },
};

struct params {
	long first_bytes, second_bytes;
};

static const struct lab_param params[] = {
	LAB_PARAM(struct params, first_bytes, 100, 1, 30000, "bytes",
		  "what the client sends before the server's shutdown() (queued, read after it)"),
	LAB_PARAM(struct params, second_bytes, 200, 1, 30000, "bytes",
		  "what the client sends after the server's shutdown() and its recv() of 0"),
};

struct obs {
	int64_t established_after_shutdown; /* server sockets ESTABLISHED once it shut down */
};

/* the server holds @arg bytes unread, or a RST removed its socket */
static bool queued_or_gone(const struct lab_socks *s, const void *arg)
{
	const long *bytes = arg;
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->v[i].rqueue < (uint32_t)*bytes)
			return false;
	return true;
}

static int play(struct lab_run *run, const struct variant *v, const struct params *p,
		struct obs *obs)
{
	struct lab_socks socks = LAB_SOCKS_INIT;

	/*
	 * The first part is queued before the shutdown; the server reads it, then reads once more
	 * on the empty queue, and waits while the client sends the second part.
	 */
	lab_server(run, NULL, "accept,queued:%ld,shutdown:%s,recv,recv,wait,recv,close",
		   p->first_bytes, v->rdwr ? "rdwr" : "rd");
	lab_client(run, "send:%ld,wait,send:%ld,drain,close", p->first_bytes, p->second_bytes);
	lab_wait_calls(run, LAB_PROG_SERVER, "recv", 2);
	lab_states(run, LAB_SERVER, &socks);
	obs->established_after_shutdown =
		(int64_t)lab_socks_count(&socks, LAB_PORT, TCP_ESTABLISHED);
	lab_socks_free(&socks);
	lab_pause(run, "after-shutdown",
		  v->rdwr ? "the server called shutdown(SHUT_RDWR): its FIN went out at once (the "
			    "client is in CLOSE_WAIT), its recv() on the empty queue returned 0; "
			    "the client's second part comes next and will meet a RST" :
			    "the server called shutdown(SHUT_RD): nothing went on the wire (the "
			    "capture so far has no FIN), its recv() on the empty queue returned 0, "
			    "its socket is still ESTABLISHED; the client's second part comes next");
	lab_go(run, LAB_PROG_CLIENT);
	lab_wait_for(run, LAB_SERVER, queued_or_gone, &p->second_bytes,
		     "the server held the second part unread, or was reset");
	lab_pause(run, "second-part",
		  v->rdwr ? "the client's second part met a RST (TcpExtTCPAbortOnData): the "
			    "server's connection is reset; its recv() comes next (ECONNRESET)" :
			    "the client's second part was ACKed and waits in the server's receive "
			    "queue (ss: Recv-Q) although it shut down reading; its recv() comes "
			    "next and reads it");
	lab_go(run, LAB_PROG_SERVER);
	lab_finish_all(run);
	lab_wait_settled(run, LAB_SERVER);
	return lab_status(run);
}

/* FINs the server sent before its close() (server-side pcap) */
static int64_t fins_before_close(const struct lab_run *run)
{
	const struct lab_event *close = lab_call(run, LAB_PROG_SERVER, "close", 0);

	return lab_packets_once(run, LAB_SERVER, LAB_SERVER, LAB_TH_FIN,
				close ? lab_event_start(close) : 0);
}

static void judge(struct lab_run *run, const struct variant *expect, const struct params *p,
		  const struct obs *obs)
{
	static const char *const calls[] = { "shutdown", "recv", NULL };
	char want[160];

	if (expect->rdwr)
		snprintf(want, sizeof(want), "shutdown=0 recv=%ld recv=0 recv=ECONNRESET",
			 p->first_bytes);
	else
		snprintf(want, sizeof(want), "shutdown=0 recv=%ld recv=0 recv=%ld", p->first_bytes,
			 p->second_bytes);
	lab_expect_calls(run, LAB_PROG_SERVER, calls, want);
	lab_params_of(run, LAB_PROG_CLIENT, "first_bytes, second_bytes");
	lab_expect_state(run, "server ESTABLISHED after shutdown() (inet_diag)", !expect->rdwr,
			 obs->established_after_shutdown);
	if (lab_needs(run, LAB_PROG_SERVER, "FIN from the server before its close()"))
		lab_expect_count(run, "server FIN before its close() (server-side pcap)", LAB_EQ,
				 expect->rdwr, fins_before_close(run));
	/* rdwr: one RST per segment of the second part (those after the first find no socket) */
	lab_expect_count(run, "RST from the server (server-side pcap)",
			 expect->rdwr ? LAB_GE : LAB_EQ, expect->rdwr,
			 lab_packets(run, LAB_SERVER, LAB_SERVER, LAB_TH_RST));
	lab_expect_counter(run, LAB_SERVER, "TcpExtTCPAbortOnData", LAB_EQ, expect->rdwr);
}

LAB_SCENARIO(
	shutdown_rd, struct variant, variants, struct params, params, struct obs,
	.name = "shutdown-rd",
	.summary = "shutdown(SHUT_RD) on Linux: nothing on the wire, no RST, later data still "
		   "ACKed and readable",
	.symptom = "Tutorials say that after shutdown(SHUT_RD) the peer's further data is answered "
		   "with a RST, or silently acknowledged and thrown away with every read "
		   "returning 0. On Linux neither happens: shutdown(SHUT_RD) puts nothing on "
		   "the wire, data already queued is still returned, a recv() on an empty queue "
		   "returns 0 at once (it looks like EOF, though the peer sent no FIN), and data "
		   "the peer sends afterwards is ACKed, queued and returned by the next recv().",
	.mechanism =
		"inet_shutdown() only ORs RCV_SHUTDOWN into sk_shutdown and calls "
		"tcp_shutdown(), which returns at once unless SEND_SHUTDOWN is asked: no FIN, "
		"no RST, no state change (the socket stays ESTABLISHED). tcp_recvmsg() copies "
		"what is queued, and only when nothing was copied does RCV_SHUTDOWN end the "
		"read with 0. Input is not filtered on RCV_SHUTDOWN in ESTABLISHED: "
		"tcp_rcv_established()/tcp_data_queue() queue and ACK new data as usual. The "
		"RST happens only in tcp_rcv_state_process() for FIN_WAIT1/FIN_WAIT2 (and "
		"CLOSING/LAST_ACK) sockets with RCV_SHUTDOWN, i.e. after the write side has "
		"also been shut down: new data there counts LINUX_MIB_TCPABORTONDATA "
		"(TcpExtTCPAbortOnData), tcp_reset() sets ECONNRESET locally and a RST is sent. "
		"Variant rdwr shows that: shutdown(SHUT_RDWR) sends the FIN (FIN_WAIT1, then "
		"FIN_WAIT2), the client's second part meets a RST and the server's next recv() "
		"fails with ECONNRESET (a second part of several segments gets one RST each: "
		"those after the first find no socket and tcp_v4_send_reset() answers them). "
		"The seeds' RST on SHUT_RD is Windows' SD_RECEIVE; "
		"'ACKed and discarded, reads return 0' is BSD's; the lab measured neither.",
	.remedy = "Do not use shutdown(SHUT_RD) to refuse input on Linux: it refuses nothing. "
		  "To tell the peer to stop, close the connection (or SHUT_RDWR: later data is "
		  "reset, variant rdwr), or say so in the application protocol.",
	.seen_on = "6.18; 6.12 and 6.1 in qemu TCG (timings shown there, not judged)",
	.budget_s = 10);
