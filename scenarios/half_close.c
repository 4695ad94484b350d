// SPDX-License-Identifier: MIT
/* half-close: shutdown(SHUT_WR) closes one direction only (the prose is in the definition). */
#include "story.h"

struct variant {
	struct lab_variant v;
	bool close; /* the client close()s instead of shutdown(SHUT_WR) */
};

static const struct variant variants[] = {
	/* the half-close: the client's FIN, then the server's response still reaches it */
	{ { "default",
	    "client shutdown(SHUT_WR): its FIN goes out, the server still sends, the client still "
	    "reads both responses, then EOF",
	    "The handshake [S] [S.] [.], the client's request [P.] and its ACK [.], the client's "
	    "[F.] (its shutdown()), the server's first response [P.] (which also ACKs the FIN) "
	    "and the client's [.], the second response [P.] and its [.], then the server's [F.] "
	    "and the client's last [.]: the client ends in TIME_WAIT." },
	  false },
	/* close() instead: the client can no longer read, the response meets a RST */
	{ { "close",
	    "client close() instead: the server's response meets a RST, its next send() fails "
	    "with EPIPE",
	    "The handshake [S] [S.] [.], the client's request [P.] and its ACK [.], the client's "
	    "[F.] (its close()), the server's first response [P.] (which also ACKs the FIN), "
	    "answered by [R] from the client; the server's second send() puts nothing on the "
	    "wire." },
	  true },
};

struct params {
	long request_bytes, response_bytes;
};

static const struct lab_param params[] = {
	LAB_PARAM(struct params, request_bytes, 100, 1, 60000, "bytes",
		  "size of the client's request (one send() before its FIN)"),
	LAB_PARAM(struct params, response_bytes, 200, 1, 1400, "bytes",
		  "size of each of the server's two responses, sent after it read EOF (one "
		  "segment each, so the close variant's RST answers the first)"),
};

struct obs {
	int64_t client_time_wait;
};

/* the server's response is acknowledged (the half-close), or a RST removed its socket (close) */
static bool response_settled(const struct lab_socks *s, const void *arg)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->v[i].state == TCP_CLOSE_WAIT && s->v[i].wqueue > 0)
			return false;
	return true;
}

static int play(struct lab_run *run, const struct variant *v, const struct params *p,
		struct obs *obs)
{
	struct lab_socks socks = LAB_SOCKS_INIT;

	/* the server reads the request to EOF (the client's FIN), then answers twice */
	lab_server(run, NULL, "accept,drain,send:%ld,wait,send:%ld,close", p->response_bytes,
		   p->response_bytes);
	if (v->close)
		lab_client(run, "send:%ld,close", p->request_bytes);
	else
		lab_client(run, "send:%ld,shutdown:wr,send:1,drain,close", p->request_bytes);
	/* the first response has left; wait until it is acknowledged or reset */
	lab_wait_calls(run, LAB_PROG_SERVER, "send", 1);
	lab_wait_for(run, LAB_SERVER, response_settled, NULL,
		     "the server's first response was acknowledged or reset");
	lab_pause(run, "half-closed",
		  v->close ? "the client close()d: the server's first response met a RST from "
			     "it (the client can no longer read), and the server's socket is gone; "
			     "its second send() comes next" :
			     "the client shut down its sending side only: its FIN is ACKed (ss: "
			     "FIN-WAIT-2, still owned by the client, so no tcp_fin_timeout runs), "
			     "the server in CLOSE_WAIT sent its first response and the client took "
			     "it; the second send() comes next");
	lab_go(run, LAB_PROG_SERVER);
	lab_finish_all(run);
	lab_wait_settled(run, LAB_CLIENT);
	lab_states(run, LAB_CLIENT, &socks);
	obs->client_time_wait = (int64_t)lab_socks_count(&socks, LAB_PORT, TCP_TIME_WAIT);
	lab_socks_free(&socks);
	return lab_status(run);
}

/*
 * Client-side capture: did the server's first segment that acknowledges the client's FIN carry
 * data? Then that data met the closed socket still in FIN_WAIT1 (a full socket:
 * tcp_rcv_state_process() counts TCPAbortOnData); after a pure ACK first, the orphan is already
 * a FIN_WAIT2 timewait socket (tcp_timewait_state_process()), which resets without counting.
 */
static bool data_acked_fin(const struct lab_run *run)
{
	const struct lab_pkt *ack = lab_ack_of_fin(run, LAB_CLIENT, LAB_CLIENT);

	return ack && ack->len > 0;
}

static void judge(struct lab_run *run, const struct variant *expect, const struct params *p,
		  const struct obs *obs)
{
	static const char *const client_calls[] = { "send", "shutdown", NULL };
	static const char *const server_sends[] = { "send", NULL };
	char want[160];

	if (expect->close)
		snprintf(want, sizeof(want), "send=%ld", p->request_bytes);
	else
		snprintf(want, sizeof(want), "send=%ld shutdown=0 send=EPIPE", p->request_bytes);
	lab_expect_calls(run, LAB_PROG_CLIENT, client_calls, want);
	if (expect->close)
		snprintf(want, sizeof(want), "send=%ld send=EPIPE", p->response_bytes);
	else
		snprintf(want, sizeof(want), "send=%ld send=%ld", p->response_bytes,
			 p->response_bytes);
	lab_expect_calls(run, LAB_PROG_SERVER, server_sends, want);
	lab_params_of(run, LAB_PROG_CLIENT, "request_bytes");
	if (lab_needs(run, LAB_PROG_CLIENT, "bytes the client read after its FIN") &&
	    lab_params_of(run, LAB_PROG_SERVER, "response_bytes"))
		lab_expect_count(run, "bytes the client read after its FIN (recv() total)", LAB_EQ,
				 expect->close ? 0 : 2 * p->response_bytes,
				 lab_bytes_read(run, LAB_PROG_CLIENT));
	lab_expect_count(run, "FIN from the client (client-side pcap)", LAB_EQ, 1,
			 lab_packets_once(run, LAB_CLIENT, LAB_CLIENT, LAB_TH_FIN, 0));
	lab_expect_count(run, "RST from the client (client-side pcap)", LAB_EQ, expect->close,
			 lab_packets(run, LAB_CLIENT, LAB_CLIENT, LAB_TH_RST));
	/* which socket answered the response depends on the order the pcap shows: see above */
	lab_expect_counter(run, LAB_CLIENT, "TcpExtTCPAbortOnData", LAB_EQ,
			   expect->close && data_acked_fin(run));
	lab_expect_state(run, "client sockets in TIME_WAIT (inet_diag)", !expect->close,
			 obs->client_time_wait);
}

LAB_SCENARIO(
	half_close, struct variant, variants, struct params, params, struct obs,
	.name = "half-close",
	.summary = "shutdown(SHUT_WR) sends FIN but keeps reading: the response still arrives; "
		   "close() instead resets it",
	.symptom = "A client that has sent its whole request wants to say so (a FIN) and still "
		   "read the answer. With shutdown(SHUT_WR) it reads the whole response and then "
		   "EOF. With close() instead, the server's response is answered by a RST: the "
		   "server's send() of it succeeds, its next send() fails with EPIPE (SIGPIPE "
		   "without MSG_NOSIGNAL), and the client has nothing to read with.",
	.mechanism =
		"inet_shutdown() ORs SEND_SHUTDOWN into sk_shutdown and calls tcp_shutdown(), "
		"which sends a FIN from ESTABLISHED (tcp_close_state(): FIN_WAIT1, "
		"tcp_send_fin()); the receive side stays open, so the server's later data is "
		"queued and read, and the client's own send() after it fails with EPIPE "
		"(tcp_sendmsg_locked() sees SEND_SHUTDOWN; SIGPIPE too without MSG_NOSIGNAL, "
		"which the lab's programs use). The server's read of EOF moved it "
		"to CLOSE_WAIT, where it may still send. close() instead makes the socket an "
		"orphan (SOCK_DEAD): data arriving for it cannot be delivered, so it is answered "
		"with a RST. If the data itself acknowledges the FIN, the socket is still a "
		"full FIN_WAIT1 socket and tcp_rcv_state_process() counts TcpExtTCPAbortOnData; "
		"if a pure ACK came first, the orphan has already become a FIN_WAIT2 timewait "
		"socket (tcp_time_wait(sk, TCP_FIN_WAIT2, tcp_fin_time())), whose "
		"tcp_timewait_state_process() answers new data with TCP_TW_RST, not counted. "
		"The server's response carries the ACK of the FIN here (tcp_fin() put its "
		"CLOSE_WAIT socket in pingpong mode, so the ACK waits to ride on data), so the "
		"lab counts AbortOnData 1; the judge reads the order from the capture. The RST reaches the server in CLOSE_WAIT, and tcp_reset() sets "
		"sk_err = EPIPE there, not ECONNRESET: its next send() fails with EPIPE.",
	.remedy = "To end a request and still read the reply, shutdown(SHUT_WR) and read until "
		  "recv() returns 0, then close(): variant default. close() is not a half-close "
		  "(it gives up reading too, whatever some tutorials say): use it only when "
		  "nothing more will arrive (variant close shows what happens otherwise).",
	.seen_on = "6.18; 6.12 and 6.1 in qemu TCG (timings shown there, not judged)",
	.budget_s = 10);
