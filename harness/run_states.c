// SPDX-License-Identifier: MIT
/*
 * The lab's TCP state changes (tcpstate.h) as events on the ladder: each at the endpoint whose
 * socket changed, where it changed. Only the lab's own connections: the tracepoint sees every
 * namespace, and every lab has the same addresses, so a change counts when its socket is on
 * the lab port and a client port that this run's captures hold, during the story.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "run.h"
#include "tcpstate.h"

/* is @port a client port of a connection to the lab port in this run's client-side capture? */
static bool lab_client_port(const struct lab_run *run, uint16_t port)
{
	const struct lab_trace *t = &run->trace[LAB_CLIENT];
	size_t i;

	for (i = 0; i < t->n; i++)
		if ((t->v[i].sport == port && t->v[i].dport == run->port) ||
		    (t->v[i].dport == port && t->v[i].sport == run->port))
			return true;
	return false;
}

void lab_run_state_events(struct lab_run *run)
{
	struct in_addr client = lab_host_addr(LAB_CLIENT), server = lab_host_addr(LAB_SERVER);
	const struct lab_tcpstate *ts = &run->tcpstate;
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];
	size_t i;

	for (i = 0; i < ts->n; i++) {
		const struct lab_tcpstate_change *c = &ts->v[i];
		bool at_client = c->saddr.s_addr == client.s_addr &&
				 c->daddr.s_addr == server.s_addr && c->dport == run->port &&
				 lab_client_port(run, c->sport);
		bool at_server = c->saddr.s_addr == server.s_addr &&
				 c->daddr.s_addr == client.s_addr && c->sport == run->port &&
				 lab_client_port(run, c->dport);
		struct lab_event ev = { .t_us = c->t_us };

		if ((!at_client && !at_server) || c->t_us > run->story_end_us)
			continue;
		inet_ntop(AF_INET, &c->saddr, a, sizeof(a));
		inet_ntop(AF_INET, &c->daddr, b, sizeof(b));
		snprintf(ev.who, sizeof(ev.who), "%s", at_client ? "client" : "server");
		snprintf(ev.call, sizeof(ev.call), "tcp_state");
		/*
		 * tcp_time_wait() hands the connection to a timewait mini-socket (TIME_WAIT, or
		 * an orphan's FIN_WAIT2) and closes the full one (tcp_done()): the tracepoint sees
		 * only the latter. The same change is an abort as often (tcp_reset(), data after
		 * close(), tcp_max_tw_buckets reached: no timewait socket at all), and the
		 * tracepoint cannot tell them apart: say "if any"
		 */
		snprintf(ev.detail, sizeof(ev.detail), "%s -> %s%s %s:%u-%s:%u",
			 lab_tcp_state_name(c->oldstate), lab_tcp_state_name(c->newstate),
			 c->newstate == 7 && (c->oldstate == 4 || c->oldstate == 5 ||
					      c->oldstate == 11) ?
				 " (a timewait socket taking over, if any, is not traced)" :
			 c->oldstate == 10 && c->newstate == 3 ?
				 " (a new socket, cloned from the listener)" :
				 "",
			 a, c->sport, b, c->dport);
		lab_run_add_event(run, &ev);
	}
}
