// SPDX-License-Identifier: MIT
/*
 * keepalive-expiry: the peer vanishes without a word; keepalive notices, nothing else does.
 *
 * The client connects, turns keepalive on with short timers and blocks in recv(). Then the wire
 * goes black both ways (a cable cut, a crashed NAT, a host that lost power). After idle + interval
 * x count with no answer, the kernel aborts the connection: recv() returns ETIMEDOUT and a RST
 * goes out (into the void). Contrast: without keepalive the half-open connection stays
 * ESTABLISHED forever. TCP_USER_TIMEOUT overrides the probe count.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "scenario.h"
#include "tcpdiag.h"
#include "timing.h"

struct how {
	bool keepalive;
	bool user_timeout;
};

static const struct lab_variant variants[] = {
	/* the remedy is the story here: keepalive turns a silent death into ETIMEDOUT */
	{ "default",
	  "keepalive idle/interval/count, peer gone: recv() = ETIMEDOUT after idle + "
	  "interval x count",
	  &(struct how){ true, false } },
	/* no keepalive: the half-open connection nobody notices */
	{ "no-keepalive",
	  "no keepalive, peer gone: still ESTABLISHED at the deadline, recv() "
	  "blocks forever",
	  &(struct how){ false, false } },
	/* TCP_USER_TIMEOUT decides instead of the count */
	{ "user-timeout",
	  "keepalive with TCP_USER_TIMEOUT: the abort comes at the first probe "
	  "interval past the user timeout, whatever the count",
	  &(struct how){ true, true } },
};

static const struct lab_param params[] = {
	{ "idle", 1, 1, 10, "s", "TCP_KEEPIDLE: silence before the first probe" },
	{ "interval", 1, 1, 10, "s", "TCP_KEEPINTVL: between probes" },
	{ "count", 3, 1, 10, "", "TCP_KEEPCNT: unanswered probes before the abort" },
	{ "user_timeout", 2500, 1, 60000, "ms", "TCP_USER_TIMEOUT (variant user-timeout)" },
};

struct obs {
	int blackhole;
	int64_t alive_at_deadline; /* no-keepalive: ESTABLISHED sockets when the time was up */
};

/* when the kernel gives up, in microseconds after keepalive was switched on */
static int64_t expiry_us(const struct lab_run *run, const struct how *how, long *probes)
{
	long idle = lab_param(run, "idle"), intvl = lab_param(run, "interval");
	long ut_ms = lab_param(run, "user_timeout"), k;

	if (!how->user_timeout) {
		*probes = lab_param(run, "count");
		return (idle + intvl * *probes) * 1000000L;
	}
	/* tcp_keepalive_timer(): abort at the first probe time at or past the user timeout,
	 * after at least one probe */
	k = (ut_ms - idle * 1000 + intvl * 1000 - 1) / (intvl * 1000);
	*probes = k < 1 ? 1 : k;
	return (idle + intvl * *probes) * 1000000L;
}

static bool established_gone(const struct lab_socks *s, const void *arg)
{
	return !lab_socks_count(s, LAB_PORT, TCP_ESTABLISHED);
}

static int play(struct lab_run *run)
{
	const struct how *how = run->variant->how;
	struct obs *obs = calloc(1, sizeof(*obs));
	char ops[96];
	long probes;
	int64_t deadline;
	int err, o = 0;

	if (!obs)
		return -ENOMEM;
	run->obs = obs;
	/* black both ways once the connection is up: nothing from or to the server gets through */
	obs->blackhole = lab_run_impair(run, "blackhole,dir=both,armed=0");
	if (obs->blackhole < 0)
		return obs->blackhole;
	if (how->keepalive)
		o += snprintf(ops + o, sizeof(ops) - (size_t)o, "keepalive:%ld:%ld:%ld,",
			      lab_param(run, "idle"), lab_param(run, "interval"),
			      how->user_timeout ? 20L : lab_param(run, "count"));
	if (how->user_timeout)
		o += snprintf(ops + o, sizeof(ops) - (size_t)o, "user_timeout:%ld,",
			      lab_param(run, "user_timeout"));
	snprintf(ops + o, sizeof(ops) - (size_t)o, "wait,recv");
	err = lab_run_server(run, "accept,wait", 0, 0);
	if (!err)
		err = lab_run_client(run, ops);
	if (!err && lab_tcpdiag_wait(&run->topo.ns[LAB_SERVER], LAB_PORT, TCP_ESTABLISHED,
				     run->deadline_us))
		err = lab_run_error(run, -ETIMEDOUT, "the connection was never established");
	/* the cable is cut; then the client blocks in recv() */
	if (!err)
		err = lab_run_arm(run, obs->blackhole, true);
	if (!err && lab_proc_go(&run->client))
		err = lab_run_error(run, -EPIPE, "the client died before recv()");
	if (err)
		return err;
	/* keepalive or not, the story ends one interval after the kernel would have given up */
	deadline = lab_mono_us() + expiry_us(run, how, &probes) +
		   lab_param(run, "interval") * 1000000L;
	if (how->keepalive)
		return lab_run_finish(run, &run->client);
	err = lab_tcpdiag_wait_for(&run->topo.ns[LAB_CLIENT], established_gone, NULL, deadline);
	if (err != -ETIMEDOUT)
		return err ? lab_run_error(run, err, "inet_diag") : 0;
	struct lab_socks s = LAB_SOCKS_INIT;

	err = lab_run_states(run, LAB_CLIENT, &s);
	obs->alive_at_deadline = (int64_t)lab_socks_count(&s, LAB_PORT, TCP_ESTABLISHED);
	lab_socks_free(&s);
	return err;
}

/* keepalive probes: pure ACKs one byte behind (seq = snd_una - 1, relative 0 before any data) */
static int64_t count_probes(const struct lab_trace *t)
{
	struct in_addr client = lab_addr(LAB_CLIENT_ADDR);
	int64_t n = 0;
	size_t i;

	for (i = 0; i < t->n; i++)
		if (t->v[i].src.s_addr == client.s_addr && t->v[i].flags == LAB_TH_ACK &&
		    !t->v[i].len && t->v[i].rseq == 0)
			n++;
	return n;
}

static void judge(struct lab_run *run)
{
	const struct how *expect = run->expect_as->how;
	const struct obs *obs = run->obs;
	const struct lab_trace *at_client = &run->trace[LAB_CLIENT];
	const struct lab_event *on = lab_run_event(run, "client", "wait", 0);
	const struct lab_event *recv = lab_run_event(run, "client", "recv", 0);
	struct in_addr client = lab_addr(LAB_CLIENT_ADDR);
	long probes;
	struct lab_window w = lab_window(expiry_us(run, expect, &probes), run->scale);
	char what[96];

	if (!expect->keepalive) {
		lab_expect_int(&run->ex, "client ESTABLISHED at the deadline (inet_diag)", LAB_EQ,
			       1, obs->alive_at_deadline);
	} else
		LAB_IF_OURS(run, "client", "client recv() = ETIMEDOUT, and when")
		{
			lab_expect_str(&run->ex, "client recv() (errno)", "ETIMEDOUT",
				       recv ? (recv->err[0] ? recv->err : "returned") :
					      "still blocked");
			snprintf(what, sizeof(what), "recv() error after %s",
				 expect->user_timeout ?
					 "idle + interval x ceil((user_timeout - idle) / "
					 "interval)" :
					 "idle + interval x count");
			lab_expect_window(&run->ex, what, &w,
					  recv && on ? recv->t_us - on->t_us : -1);
		}
	lab_expect_int(&run->ex, "keepalive probes (client-side pcap)", LAB_EQ,
		       expect->keepalive ? probes : 0, count_probes(at_client));
	lab_expect_int(&run->ex, "client TcpExtTCPKeepAlive delta", LAB_EQ,
		       expect->keepalive ? probes : 0,
		       lab_run_counter(run, LAB_CLIENT, "TcpExtTCPKeepAlive"));
	lab_expect_int(&run->ex, "client TcpExtTCPAbortOnTimeout delta", LAB_EQ, expect->keepalive,
		       lab_run_counter(run, LAB_CLIENT, "TcpExtTCPAbortOnTimeout"));
	lab_expect_int(&run->ex, "RST from the client (client-side pcap)", LAB_EQ,
		       expect->keepalive,
		       (int64_t)lab_trace_count(at_client, client, LAB_TH_RST, false));
	lab_expect_int(&run->ex, "packets the blackhole swallowed", LAB_GE,
		       expect->keepalive ? probes + 1 : 0,
		       lab_run_wire(run, obs->blackhole)->dropped);
}

const struct lab_scenario lab_sc_keepalive_expiry = {
	.name = "keepalive-expiry",
	.summary = "the peer vanishes: keepalive turns a silent half-open connection into "
		   "ETIMEDOUT",
	.symptom = "A client waits for a server that will never answer (its host lost power, a "
		   "NAT forgot the mapping, a cable was cut). Without keepalive, recv() blocks "
		   "forever and ss shows ESTABLISHED. With keepalive, recv() fails with ETIMEDOUT "
		   "('connection timed out') after idle + interval x count seconds.",
	.mechanism = "SO_KEEPALIVE arms the keepalive timer (tcp_keepalive_timer()). After "
		     "TCP_KEEPIDLE seconds without receiving anything, it sends a probe: a pure "
		     "ACK with seq = snd_una - 1 (tcp_write_wakeup(), counted as "
		     "TcpExtTCPKeepAlive), which any live peer must answer. Unanswered, it "
		     "repeats every TCP_KEEPINTVL; after TCP_KEEPCNT probes it sends a RST "
		     "(tcp_send_active_reset()), sets sk_err = ETIMEDOUT (tcp_write_err()) and "
		     "counts TcpExtTCPAbortOnTimeout. With TCP_USER_TIMEOUT set, the count is "
		     "ignored: the abort comes at the first probe at or past the user timeout. "
		     "Keepalive never fires while data is unacknowledged: then tcp_retries2 or "
		     "TCP_USER_TIMEOUT decide.",
	.capture = "Client side: the handshake, then silence for 'idle' seconds, then [.] "
		   "probes with the sequence number one below the next byte, 'interval' apart, "
		   "each marked lost (the wire swallowed it), then [R] from the client. "
		   "no-keepalive: nothing at all after the handshake.",
	.remedy = "Turn keepalive on with timers that suit the application (the Linux default "
		  "idle time is 2 hours: tcp_keepalive_time=7200), or use application-level "
		  "heartbeats; TCP_USER_TIMEOUT bounds how long unacknowledged data may wait.",
	.by_hand = "ip netns exec srv tcplab-server --listen 0.0.0.0:5000 --ops accept,wait\n"
		   "ip netns exec cli tcplab-client --connect 198.51.100.1:5000 --ops "
		   "keepalive:1:1:3,wait,recv\n"
		   "in the middle namespace, then press Enter for the client: nft add rule inet t "
		   "f drop\n"
		   "ip netns exec cli ss -tanoi   (timer:(keepalive,...) counts down)",
	.params = params,
	.n_params = sizeof(params) / sizeof(params[0]),
	.variants = variants,
	.n_variants = sizeof(variants) / sizeof(variants[0]),
	.budget_s = 130,
	.play = play,
	.judge = judge,
};
