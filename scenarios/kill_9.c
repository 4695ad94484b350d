// SPDX-License-Identifier: MIT
/* kill-9: the process dies, the kernel closes its sockets: FIN, or RST over unread data. */
#include <signal.h>

#include "story.h"

struct variant {
	struct lab_variant v;
	bool unread; /* the client's request is unread in the server's socket when it dies */
};

static const struct variant variants[] = {
	/* a request arrived and was never read: the kernel's close resets the connection */
	{ { "default", "server killed with the client's request unread -> RST, ECONNRESET",
	    "The handshake [S] [S.] [.], the client's request [P.] and the server's ACK [.], "
	    "then, once the server is killed, its [R.]: no FIN." },
	  true },
	/* nothing unread: the same death closes the connection in order */
	{ { "idle", "server killed with nothing unread -> FIN, the client reads EOF",
	    "The handshake [S] [S.] [.], then, once the server is killed, its [F.]; the "
	    "client's [F.] (which also ACKs it) and the last [.]: the dead server's socket "
	    "in TIME_WAIT." },
	  false },
};

struct params {
	long request_bytes;
};

static const struct lab_param params[] = {
	LAB_PARAM(struct params, request_bytes, 200, 1, 60000, "bytes",
		  "size of the client's request, left unread (default variant)"),
};

struct obs {
	int64_t server_time_wait;
};

static int play(struct lab_run *run, const struct variant *v, const struct params *p,
		struct obs *obs)
{
	/* the server never reads, never closes: it waits to be killed */
	if (v->unread) {
		lab_server(run, NULL, "accept,queued:%ld,mark,wait", p->request_bytes);
		lab_client(run, "send:%ld,recv,recv,close", p->request_bytes);
	} else {
		lab_server(run, NULL, "accept,mark,wait");
		lab_client(run, "recv,recv,close");
	}
	lab_wait_calls(run, LAB_PROG_SERVER, "note", 1);
	lab_pause(run, "before-kill",
		  v->unread ?
			  "the client's request waits unread in the server's receive queue (ss: "
			  "Recv-Q); kill -9 comes next: the kernel closes the socket for the "
			  "dead process, with unread data (RST)" :
			  "the server holds the connection with nothing unread; kill -9 comes "
			  "next: the kernel closes the socket for the dead process (FIN)");
	lab_signal(run, LAB_PROG_SERVER, SIGKILL);
	lab_finish(run, LAB_PROG_SERVER);
	lab_finish(run, LAB_PROG_CLIENT);
	lab_wait_settled(run, LAB_SERVER);
	obs->server_time_wait = lab_states_count(run, LAB_SERVER, TCP_TIME_WAIT);
	return lab_status(run);
}

static void judge(struct lab_run *run, const struct variant *expect, const struct params *p,
		  const struct obs *obs)
{
	static const char *const calls[] = { "send", "recv", NULL };
	char want[160], ending[64];

	if (expect->unread)
		lab_params_of(run, LAB_PROG_CLIENT, "request_bytes");
	if (expect->unread)
		snprintf(want, sizeof(want), "send=%ld recv=ECONNRESET recv=0", p->request_bytes);
	else
		snprintf(want, sizeof(want), "recv=0 recv=0");
	lab_expect_calls(run, LAB_PROG_CLIENT, calls, want);
	lab_expect_text(run, "how the server ended", "killed by SIGKILL",
			lab_ending(run, LAB_PROG_SERVER, ending, sizeof(ending)));
	lab_expect_count(run, "RST from the server (client-side pcap)", LAB_EQ, expect->unread,
			 lab_packets(run, LAB_CLIENT, LAB_SERVER, LAB_TH_RST));
	lab_expect_count(run, "FIN from the server (client-side pcap)", LAB_EQ, !expect->unread,
			 lab_packets_once(run, LAB_CLIENT, LAB_SERVER, LAB_TH_FIN, 0));
	lab_expect_state(run, "server sockets in TIME_WAIT (inet_diag)", !expect->unread,
			 obs->server_time_wait);
	lab_expect_counter(run, LAB_SERVER, "TcpExtTCPAbortOnClose", LAB_EQ, expect->unread);
}

LAB_SCENARIO(
	kill_9, struct variant, variants, struct params, params, struct obs, .name = "kill-9",
	.summary = "a process killed with SIGKILL: the kernel closes its sockets for it, with a "
		   "FIN, or a RST if data was unread",
	.symptom = "A server is killed with kill -9 (or by the OOM killer, or it crashes). Its "
		   "clients do not hang: one whose request was never read gets ECONNRESET, one "
		   "that was idle reads a clean end of stream (recv() = 0), as if the server had "
		   "called close().",
	.mechanism =
		"A dying process closes its files: do_exit() -> exit_files() drops each "
		"descriptor, and the last fput() of a socket runs sock_close() -> "
		"inet_release() -> tcp_close(), exactly as close() would, except that inet_release() skips SO_LINGER's wait for an exiting task "
		"(PF_EXITING): nothing blocks a death. __tcp_close() then decides as for "
		"any close: bytes still unread in the receive queue make it send a RST "
		"(tcp_send_active_reset()) and count LINUX_MIB_TCPABORTONCLOSE "
		"(TcpExtTCPAbortOnClose), with no TIME_WAIT; otherwise tcp_close_state() "
		"and tcp_send_fin() close in order and the orphan socket lives on in the "
		"kernel (FIN_WAIT2, then TIME_WAIT for 60 s) without its process. Observed "
		"on 6.18: default one RST and TCPAbortOnClose 1, the client ECONNRESET then "
		"0; idle one FIN, the client 0, the dead server's socket in TIME_WAIT.",
	.remedy = "Nothing to fix in the kernel: a crash is an orderly close (or a reset) to "
		  "the peer. The lesson is for the peer and for the protocol: the client must "
		  "treat ECONNRESET and an early EOF as 'the request may or may not have been "
		  "processed' (retry only what is idempotent), and a server that wants its "
		  "clients to see a clean end reads (or discards) what they sent before it "
		  "exits, as the 'idle' variant shows.",
	.seen_on = "6.18; 6.12 and 6.1 in qemu TCG (timings shown there, not judged)",
	.budget_s = 10);
