// SPDX-License-Identifier: MIT
/*
 * rst-on-close: close() with unread data sends RST, not FIN.
 *
 * Symptom: the client's request "vanishes" and it reads ECONNRESET instead of a response or EOF.
 * Mechanism: tcp_close() finds unread bytes in the receive queue, discards them and calls
 * tcp_send_active_reset(); the socket goes straight to CLOSE (no FIN_WAIT, no TIME_WAIT) and
 * LINUX_MIB_TCPABORTONCLOSE (TcpExtTCPAbortOnClose) counts it. RFC 2525 section 2.17.
 * tcpdump -nn: "Flags [R.]" from the server instead of "Flags [F.]".
 * By hand: server reads 10 of 200 bytes and closes; client then recv, recv, send.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "scenario.h"
#include "tcpdiag.h"

struct how {
	const char *server_ops; /* %ld: read_bytes or request_bytes */
	const char *client_ops; /* %ld: request_bytes */
	bool rst; /* documented outcome: the server's close resets the connection */
};

static const struct lab_variant variants[] = {
	/* the bug: the server reads part of the request and closes */
	{ "default", "server reads part of the request, then close() -> RST",
	  &(struct how){ "accept,recv:%ld,close", "send:%ld,recv,recv,send:%ld", true } },
	/* the remedy: read the whole request (drain) before close() */
	{ "drain", "server drains the request before close() -> FIN, TIME_WAIT, clean EOF",
	  &(struct how){ "accept,drain:%ld,close", "send:%ld,recv,close", false } },
};

static const struct lab_param params[] = {
	{ "request_bytes", 200, 1, 60000, "bytes", "size of the client's request (one send())" },
	{ "read_bytes", 10, 0, 60000, "bytes", "bytes the server reads before close() (default)" },
};

struct obs {
	size_t server_time_wait;
};

static int play(struct lab_run *run)
{
	const struct how *how = run->variant->how;
	long request = lab_param(run, "request_bytes");
	char server_ops[96], client_ops[96];
	struct lab_socks socks = LAB_SOCKS_INIT;
	struct obs *obs = calloc(1, sizeof(*obs));
	int err;

	if (!obs)
		return -ENOMEM;
	run->obs = obs;
	snprintf(server_ops, sizeof(server_ops), how->server_ops,
		 how->rst ? lab_param(run, "read_bytes") : request);
	snprintf(client_ops, sizeof(client_ops), how->client_ops, request, request);

	err = lab_run_pair(run, server_ops, client_ops, 0);
	/* both programs are gone; wait for the closing handshake (if any) to complete */
	if (!err && lab_tcpdiag_wait_settled(&run->topo.ns[LAB_SERVER], LAB_PORT, run->deadline_us))
		err = lab_run_error(run, -ETIMEDOUT, "the server's socket never settled");
	if (!err)
		err = lab_run_states(run, LAB_SERVER, &socks);
	obs->server_time_wait = lab_socks_count(&socks, LAB_PORT, TCP_TIME_WAIT);
	lab_socks_free(&socks);
	return err;
}

static void judge(struct lab_run *run)
{
	const struct how *expect = run->expect_as->how;
	const struct obs *obs = run->obs;
	const struct lab_trace *at_client = &run->trace[LAB_CLIENT];
	struct in_addr server = lab_addr(LAB_SERVER_ADDR);
	static const char *const calls[] = { "send", "recv", NULL };
	long request = lab_param(run, "request_bytes");
	char seen[160], want[160];

	lab_run_calls(run, "client", calls, seen, sizeof(seen));
	if (expect->rst)
		snprintf(want, sizeof(want), "send=%ld recv=ECONNRESET recv=0 send=EPIPE", request);
	else
		snprintf(want, sizeof(want), "send=%ld recv=0", request);
	LAB_IF_OURS(run, "client", "client calls (errno sequence)")
	lab_expect_str(&run->ex, "client calls (errno sequence)", want, seen);
	lab_expect_int(&run->ex, "RST from the server (client-side pcap)", LAB_EQ, expect->rst,
		       (int64_t)lab_trace_count(at_client, server, LAB_TH_RST, false));
	lab_expect_int(&run->ex, "FIN from the server (client-side pcap)", LAB_EQ, !expect->rst,
		       (int64_t)lab_trace_count(at_client, server, LAB_TH_FIN, false));
	lab_expect_int(&run->ex, "server sockets in TIME_WAIT (inet_diag)", LAB_EQ, !expect->rst,
		       (int64_t)obs->server_time_wait);
	lab_expect_int(&run->ex, "server TcpExtTCPAbortOnClose delta", LAB_EQ, expect->rst,
		       lab_run_counter(run, LAB_SERVER, "TcpExtTCPAbortOnClose"));
}

const struct lab_scenario lab_sc_rst_on_close = {
	.name = "rst-on-close",
	.summary = "close() with unread data sends RST: the peer gets ECONNRESET, no TIME_WAIT",
	.symptom = "The client sends a request and, instead of a response or a clean end of "
		   "stream, its recv() fails with ECONNRESET ('connection reset by peer'); the "
		   "next recv() returns 0 and a send() fails with EPIPE (SIGPIPE unless "
		   "MSG_NOSIGNAL). The server never shows TIME_WAIT for the connection.",
	.mechanism = "tcp_close() checks the receive queue first. If bytes the application never "
		     "read are still queued, the kernel discards them, sends a RST "
		     "(tcp_send_active_reset()) instead of a FIN, counts "
		     "LINUX_MIB_TCPABORTONCLOSE (nstat: TcpExtTCPAbortOnClose) and moves the "
		     "socket straight to CLOSE: no FIN_WAIT, no TIME_WAIT (RFC 2525, 2.17). The "
		     "peer's tcp_reset() sets sk_err = ECONNRESET, reported once by the next "
		     "call; after that the socket is dead: recv() = 0, send() = EPIPE.",
	.capture =
		"Client side: the request segment [P.], the server's ACK, then [R.] from the "
		"server where a clean close shows [F.]. No FIN from the server at all. After the "
		"RST the client's later send() puts nothing on the wire.",
	.remedy =
		"Read the request completely (or shutdown(SHUT_WR) and drain until EOF) before "
		"close(). Variant 'drain': the server reads all request_bytes, closes, sends FIN, "
		"and the closer sits in TIME_WAIT; the client sees a clean EOF (recv() = 0).",
	.by_hand =
		"ip netns add srv; ip netns add cli; (veth pair, addresses)\n"
		"ip netns exec srv tcplab-server --listen 0.0.0.0:5000 --ops accept,recv:10,close\n"
		"ip netns exec cli tcplab-client --connect ADDR:5000 --ops send:200,recv,recv,send:200\n"
		"tcpdump -nn -i IFACE tcp port 5000; ip netns exec srv nstat -az TcpExtTCPAbortOnClose",
	.params = params,
	.n_params = sizeof(params) / sizeof(params[0]),
	.variants = variants,
	.n_variants = sizeof(variants) / sizeof(variants[0]),
	.budget_s = 10,
	.play = play,
	.judge = judge,
};
