// SPDX-License-Identifier: MIT
/* fork-close: close() drops one reference, shutdown() acts on the connection (prose below). */
#include "story.h"

struct variant {
	struct lab_variant v;
	const char *steps; /* the server's steps between accept and its wait for the end */
	bool fin_at_once; /* documented: the FIN leaves while both processes hold the socket */
	long parent_shutdowns, child_shutdowns;
};

static const struct variant variants[] = {
	/* the surprise: the parent's close() sends nothing while the forked child holds it */
	{ { "default",
	    "server forks, the parent close()s: nothing on the wire, the client waits until the "
	    "child is gone too",
	    "The handshake [S] [S.] [.], the reply [P.] and its ACK [.]; nothing at the parent's close(); the server's [F.] "
	    "only when the last holder (the child) is gone, the client's [F.] (which also ACKs "
	    "it) and the server's last [.]." },
	  "fork,close",
	  false,
	  0,
	  0 },
	/* shutdown() in the parent: the FIN leaves at once, whoever else holds the socket */
	{ { "shutdown",
	    "the parent calls shutdown(SHUT_WR), then close(): the FIN leaves at once, though the "
	    "child still holds the socket",
	    "The handshake [S] [S.] [.], the reply [P.] and its ACK [.]; the server's [F.] at the parent's shutdown(), the "
	    "client's [F.] (which also ACKs it) and the server's last [.]." },
	  "fork,shutdown:wr,close",
	  true,
	  1,
	  0 },
	/* shutdown() in the child while the parent only closes: the same FIN at once */
	{ { "child-shutdown",
	    "the child calls shutdown(SHUT_WR), the parent only close()s: the FIN leaves at once",
	    "The handshake [S] [S.] [.], the reply [P.] and its ACK [.]; the server's [F.] at the child's shutdown(), the "
	    "client's [F.] (which also ACKs it) and the server's last [.]." },
	  "fork:wr,close",
	  true,
	  0,
	  1 },
};

struct params {
	long reply_bytes;
};

static const struct lab_param params[] = {
	LAB_PARAM(struct params, reply_bytes, 100, 1, 60000, "bytes",
		  "the reply the parent sends before it forks; the client reads it, then waits "
		  "for EOF"),
};

struct obs {
	int64_t established; /* server sockets ESTABLISHED once the parent's steps were done */
};

/* everything the server sent (its FIN included, if it sent one) is acknowledged */
static bool all_acked(const struct lab_socks *s, const void *arg)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->v[i].wqueue)
			return false;
	return true;
}

static int play(struct lab_run *run, const struct variant *v, const struct params *p,
		struct obs *obs)
{
	struct lab_socks socks = LAB_SOCKS_INIT;

	lab_server(run, NULL, "accept,send:%ld,%s,wait", p->reply_bytes, v->steps);
	lab_client(run, "drain,close");
	/* the parent has closed its descriptor (and the child shut down, where it does) */
	lab_wait_calls(run, LAB_PROG_SERVER, "close", 1);
	if (v->child_shutdowns)
		lab_wait_calls(run, LAB_PROG_SERVER, "shutdown", 1);
	/* a FIN queued behind the reply (the congestion window) would be out and ACKed now */
	lab_wait_for(run, LAB_SERVER, all_acked, NULL,
		     "the server's reply (and FIN, if any) was acknowledged");
	lab_states(run, LAB_SERVER, &socks);
	obs->established = (int64_t)lab_socks_count(&socks, LAB_PORT, TCP_ESTABLISHED);
	lab_socks_free(&socks);
	lab_pause(run, "parent-closed",
		  v->fin_at_once ?
			  "the parent closed its descriptor after a shutdown(SHUT_WR): the "
			  "FIN left at once although the forked child still holds the "
			  "socket (the client's recv() returned 0)" :
			  "the parent closed its descriptor, but the forked child's copy "
			  "keeps the socket open: no FIN, the server's socket still "
			  "ESTABLISHED (ss), the client still waits in recv()");
	/* the parent ends; the child dies with it, and its reference goes too */
	lab_go(run, LAB_PROG_SERVER);
	lab_finish_all(run);
	lab_wait_settled(run, LAB_SERVER);
	return lab_status(run);
}

/* FINs the server sent (client-side capture) before the parent was told to end */
static int64_t fins_before_end(const struct lab_run *run)
{
	const struct lab_event *end = lab_call(run, LAB_PROG_SERVER, "wait", 0);

	return lab_packets_once(run, LAB_CLIENT, LAB_SERVER, LAB_TH_FIN, end ? end->t_us : 0);
}

static void judge(struct lab_run *run, const struct variant *expect, const struct params *p,
		  const struct obs *obs)
{
	int64_t child = (int64_t)lab_count_calls(run, LAB_PROG_SERVER, "shutdown", "in the child");
	int64_t all = (int64_t)lab_count_calls(run, LAB_PROG_SERVER, "shutdown", NULL);

	if (lab_needs(run, LAB_PROG_SERVER, "shutdown() calls by process")) {
		lab_expect_count(run, "shutdown() calls in the parent (its events)", LAB_EQ,
				 expect->parent_shutdowns, all - child);
		lab_expect_count(run, "shutdown() calls in the child (its events)", LAB_EQ,
				 expect->child_shutdowns, child);
		lab_expect_count(run, "server FIN before the parent ended (client-side pcap)",
				 LAB_EQ, expect->fin_at_once, fins_before_end(run));
	}
	lab_expect_state(run, "server ESTABLISHED after the parent's close()", !expect->fin_at_once,
			 obs->established);
	if (lab_needs(run, LAB_PROG_CLIENT, "bytes the client read") &&
	    lab_params_of(run, LAB_PROG_SERVER, "reply_bytes"))
		lab_expect_count(run, "bytes the client read before EOF", LAB_EQ, p->reply_bytes,
				 lab_bytes_read(run, LAB_PROG_CLIENT));
	lab_expect_count(run, "FIN from the server in all (client-side pcap)", LAB_EQ, 1,
			 lab_packets_once(run, LAB_CLIENT, LAB_SERVER, LAB_TH_FIN, 0));
	lab_expect_count(run, "RST (client-side pcap)", LAB_EQ, 0,
			 lab_packets(run, LAB_CLIENT, LAB_CLIENT, LAB_TH_RST) +
				 lab_packets(run, LAB_CLIENT, LAB_SERVER, LAB_TH_RST));
}

LAB_SCENARIO(
	fork_close, struct variant, variants, struct params, params, struct obs,
	.name = "fork-close",
	.summary = "close() in one of two processes holding a socket sends nothing; shutdown() "
		   "sends the FIN for all",
	.symptom = "A server forks a worker (or leaks the connection into a child through fork() "
		   "without O_CLOEXEC) and closes the connection in the parent: the client sees "
		   "nothing, its recv() blocks, ss shows the connection ESTABLISHED, until the "
		   "last process holding it exits. shutdown() in either process ends it at once.",
	.mechanism =
		"fork() duplicates the descriptor: both refer to one struct file, and close() "
		"only drops a reference to it (fput()); sock_close() -> inet_release() -> "
		"tcp_close() runs only when the last reference goes, and tcp_close() is what "
		"sends the FIN (tcp_close_state(), tcp_send_fin()). shutdown() is not reference "
		"counted: inet_shutdown() -> tcp_shutdown() changes the one socket "
		"(ESTABLISHED -> FIN_WAIT1, tcp_send_fin()) whichever process calls it. The lab "
		"samples the server's socket with inet_diag after the parent's close() (and the "
		"child's shutdown()), once all the server sent is acknowledged (a FIN held "
		"behind the reply would be out by then): ESTABLISHED in the default variant; "
		"with a shutdown() in either process it has left ESTABLISHED (FIN_WAIT2, or "
		"already "
		"TIME_WAIT: the client answered the FIN with its own, and tcp_fin() in FIN_WAIT2 "
		"hands the connection to a timewait socket even while a descriptor is open); the "
		"client's capture has the "
		"server's FIN only after the parent ends (its child dies with it: "
		"PR_SET_PDEATHSIG) in the default, before it otherwise.",
	.remedy = "Close the connection in every process that holds it (the parent after "
		  "handing it to the worker, the worker when done), open sockets with "
		  "SOCK_CLOEXEC so exec'd children do not inherit them, and use shutdown() when "
		  "the connection itself must end now, whoever else holds it.",
	.seen_on = "6.18; 6.12 and 6.1 in qemu TCG (timings shown there, not judged)",
	.budget_s = 10);
