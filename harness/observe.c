// SPDX-License-Identifier: MIT
/* What a run saw: the programs' events, harness notes, socket states, counters, series. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run.h"

void lab_run_add_event(struct lab_run *run, const struct lab_event *ev)
{
	struct lab_event *grown = realloc(run->events, (run->n_events + 1) * sizeof(*grown));

	if (!grown)
		return;
	run->events = grown;
	run->events[run->n_events++] = *ev;
}

void lab_run_collect_events(struct lab_run *run, struct lab_proc *p)
{
	char *copy = p->out ? strdup(p->out) : NULL, *save = NULL, *line;
	struct lab_event ev;

	for (line = copy ? strtok_r(copy, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (lab_event_parse(line, &ev))
			continue;
		snprintf(ev.who, sizeof(ev.who), "%s", p->name);
		lab_run_add_event(run, &ev);
	}
	free(copy);
	p->reported = true;
}

void lab_run_note(struct lab_run *run, const char *who, const char *call, const char *detail)
{
	lab_run_note_at(run, lab_now_us(), who, call, detail);
}

void lab_run_note_at(struct lab_run *run, int64_t t_us, const char *who, const char *call,
		     const char *detail)
{
	struct lab_event ev = { .t_us = t_us };

	snprintf(ev.who, sizeof(ev.who), "%s", who);
	snprintf(ev.call, sizeof(ev.call), "%s", call);
	snprintf(ev.detail, sizeof(ev.detail), "%s", detail);
	lab_run_add_event(run, &ev);
}

/*
 * What `ss -tnoi` would add for a connection, when there is something to say: its queues
 * (Recv-Q unread bytes, Send-Q bytes not yet acknowledged: inet_diag's idiag_rqueue and
 * idiag_wqueue), the peer's window when it is closed, and a persist or retransmission timer
 * with its probe or retransmission count (inet_sk_diag_fill(): idiag_timer 4 and 1)
 */
static void queues(const struct lab_sock *sk, char *buf, size_t len)
{
	int o = 0;

	if (sk->state == TCP_LISTEN || sk->state == TCP_TIME_WAIT || sk->state == TCP_SYN_RECV)
		return;
	if (sk->rqueue || sk->wqueue)
		o += snprintf(buf, len, " Recv-Q %u Send-Q %u", sk->rqueue, sk->wqueue);
	if (sk->snd_wnd == 0 && (size_t)o < len)
		o += snprintf(buf + o, len - (size_t)o, " peer window 0");
	if (sk->timer == 4 && (size_t)o < len)
		snprintf(buf + o, len - (size_t)o, " timer persist (probes %u)", sk->retrans);
	else if (sk->timer == 1 && (size_t)o < len)
		snprintf(buf + o, len - (size_t)o, " timer on (retransmissions %u)", sk->retrans);
}

int lab_run_states(struct lab_run *run, enum lab_host host, struct lab_socks *out)
{
	char detail[160], a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];
	size_t i, n = 0;
	int err = lab_tcpdiag_dump(&run->topo.ns[host], LAB_TCPF_ALL, out);

	if (err)
		return lab_run_error(run, err, "inet_diag in %s", lab_host_name(host));
	lab_socks_keep_port(out, run->port); /* what a scenario sees: the lab's connections */
	for (i = 0; i < out->n; i++) {
		const struct lab_sock *sk = &out->v[i];

		inet_ntop(AF_INET, &sk->local, a, sizeof(a));
		inet_ntop(AF_INET, &sk->remote, b, sizeof(b));
		snprintf(detail, sizeof(detail), "%s %s:%u-%s:%u", lab_tcp_state_name(sk->state), a,
			 sk->lport, b, sk->rport);
		queues(sk, detail + strlen(detail), sizeof(detail) - strlen(detail));
		lab_run_note(run, lab_host_name(host), "state", detail);
		n++;
	}
	if (!n)
		lab_run_note(run, lab_host_name(host), "state", "no socket on the lab port");
	return 0;
}

int64_t lab_run_counter(const struct lab_run *run, enum lab_host host, const char *name)
{
	return lab_nstat_delta(&run->before[host], &run->after[host], name);
}

int64_t lab_run_protocol_us(const struct lab_run *run)
{
	int64_t first = 0, last = 0;
	size_t i, h;

	for (i = 0; i < run->n_events; i++) {
		int64_t t0 = lab_event_start(&run->events[i]), t = run->events[i].t_us;

		first = !first || t0 < first ? t0 : first;
		last = t > last ? t : last;
	}
	for (h = 0; h < LAB_NHOSTS; h++)
		for (i = 0; i < run->trace[h].n; i++) {
			int64_t t = run->trace[h].v[i].t_us;

			first = !first || t < first ? t : first;
			last = t > last ? t : last;
		}
	return last - first;
}

size_t lab_run_count_calls(const struct lab_run *run, const char *who, const char *call,
			   const char *detail)
{
	size_t i, n = 0;

	for (i = 0; i < run->n_events; i++)
		n += !strcmp(run->events[i].who, who) && !strcmp(run->events[i].call, call) &&
		     (!detail || !strcmp(run->events[i].detail, detail));
	return n;
}

const struct lab_event *lab_run_event(const struct lab_run *run, const char *who, const char *call,
				      size_t nth)
{
	size_t i;

	for (i = 0; i < run->n_events; i++)
		if (!strcmp(run->events[i].who, who) && !strcmp(run->events[i].call, call) &&
		    nth-- == 0)
			return &run->events[i];
	return NULL;
}

bool lab_run_ours(const struct lab_run *run, const char *who)
{
	return strncmp(who, "server", 6) ? !run->opts->client_cmd : !run->opts->server_cmd;
}
