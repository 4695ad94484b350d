// SPDX-License-Identifier: MIT
/* The text ladder: what an instructor draws on the board, from captures and events. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "ladder.h"

#define ARROW_WIDTH 64
#define SERVER_COLUMN 44
#define WIRE_COLUMN 20
#define GAP_FLOOR_US 5000 /* a silence shorter than this is scheduling, not a story */
#define GAP_RTTS 20 /* ... and one that lasts this many round trips is worth a line */

#define BLOCKED_US 1000 /* a call that took this long blocked: it says so, even on one row */

static int by_time(const void *a, const void *b)
{
	const struct lab_ladder_row *x = a, *y = b;

	if (x->t_us != y->t_us)
		return x->t_us < y->t_us ? -1 : 1;
	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void lab_ladder_describe(const struct lab_pkt *p, char *buf, size_t len)
{
	char flags[12];
	int o;

	lab_tcp_flags_str(p->flags, flags, sizeof(flags));
	o = snprintf(buf, len, "[%s] seq %u", flags, p->rseq);
	if (p->flags & LAB_TH_ACK)
		o += snprintf(buf + o, len - (size_t)o, " ack %u", p->rack);
	o += snprintf(buf + o, len - (size_t)o, " win %u len %u", p->win, p->len);
	if (p->mss)
		o += snprintf(buf + o, len - (size_t)o, " mss %u", p->mss);
	if (p->n_sack)
		o += snprintf(buf + o, len - (size_t)o, " %s %u-%u%s",
			      p->analysis & LAB_AN_DSACK ? "dsack" : "sack", p->sack_left,
			      p->sack_right, p->n_sack > 1 ? "+" : "");
	if (p->keepalive && !(p->analysis & LAB_AN_WINDOW_PROBE))
		snprintf(buf + o, len - (size_t)o, " keep-alive");
}

static void packet_line(FILE *out, const struct lab_pkt *p, bool to_server, bool ports)
{
	char text[112], line[ARROW_WIDTH + sizeof(text) + 8], kind[64];
	size_t tl, fill, i;

	lab_ladder_describe(p, text, sizeof(text));
	if (ports) /* more than one connection: say which */
		snprintf(text + strlen(text), sizeof(text) - strlen(text), " %u>%u", p->sport,
			 p->dport);
	tl = strlen(text);
	fill = tl + 4 < ARROW_WIDTH ? ARROW_WIDTH - tl - 2 : 2;
	if (to_server) {
		snprintf(line, sizeof(line), "%s ", text);
		for (i = 0; i < fill && strlen(line) + 2 < sizeof(line); i++)
			strcat(line, "-");
		strcat(line, ">");
	} else {
		snprintf(line, sizeof(line), "<");
		for (i = 0; i < fill && strlen(line) + 2 < sizeof(line); i++)
			strcat(line, "-");
		strncat(line, " ", sizeof(line) - strlen(line) - 1);
		strncat(line, text, sizeof(line) - strlen(line) - 1);
	}
	/* the SACK blocks are in the text; the other kinds are said beside it */
	lab_pkt_analysis_str(&(struct lab_pkt){ .analysis = p->analysis &
							    ~(LAB_AN_SACK | LAB_AN_DSACK) },
			     kind, sizeof(kind));
	fprintf(out, "%s%s%s%s%s%s\n", line, p->retrans ? "  (retransmission)" : "",
		kind[0] ? "  (" : "", kind, kind[0] ? ")" : "",
		p->lost ? "  X lost on the wire" : "");
}

void lab_ladder_call_str(const struct lab_ladder_row *r, unsigned int parts, char *buf, size_t len)
{
	bool detail = parts & LAB_CALL_DETAIL, time = parts & LAB_CALL_TIME;
	const struct lab_event *ev = r->ev;
	int64_t took = ev->t0_us ? ev->t_us - ev->t0_us : 0;
	char ret[48], spent[40] = "";

	if (r->part == LAB_LADDER_ENTRY) {
		if (!strcmp(ev->call, "wait"))
			snprintf(buf, len, "(waits for the harness's go)");
		else
			snprintf(buf, len, "%s() ...", ev->call);
		return;
	}
	/* not system calls: a latency the client measured, the harness's "go" on stdin */
	if (!strcmp(ev->call, "request")) {
		snprintf(buf, len, "%s took %.3f ms (latency)",
			 ev->detail[0] ? ev->detail : "request", (double)ev->ret / 1e3);
		return;
	}
	if (!strcmp(ev->call, "wait")) {
		snprintf(buf, len, "(the harness said go: a line on stdin)");
		return;
	}
	if (ev->ret < 0)
		snprintf(ret, sizeof(ret), "-1 %s", ev->err);
	else
		snprintf(ret, sizeof(ret), "%ld", ev->ret);
	if (time && took >= 1000000)
		snprintf(spent, sizeof(spent), " (blocked %.3f s)", (double)took / 1e6);
	else if (time && took >= BLOCKED_US)
		snprintf(spent, sizeof(spent), " (blocked %.1f ms)", (double)took / 1e3);
	else if (time && r->part == LAB_LADDER_RETURN)
		snprintf(spent, sizeof(spent), " (returned after %.3f ms)", (double)took / 1e3);
	snprintf(buf, len, "%s() = %s%s%s%s", ev->call, ret, spent,
		 detail && ev->detail[0] ? "  " : "", detail ? ev->detail : "");
}

static void event_line(FILE *out, const struct lab_ladder_row *r)
{
	const struct lab_event *ev = r->ev;
	bool right = !strcmp(ev->who, "server");
	bool wire = !strcmp(ev->who, "wire");
	char text[256];

	fprintf(out, "%*s%s: ", right ? SERVER_COLUMN : wire ? WIRE_COLUMN : 0, "", ev->who);
	if (wire && !strcmp(ev->call, "drop")) {
		fprintf(out, "X dropped %s\n", ev->detail);
		return;
	}
	if (!strcmp(ev->call, "icmp")) { /* a packet, but not TCP: said by its sender */
		fprintf(out, "%s\n", ev->detail);
		return;
	}
	if (!strcmp(ev->call, "state")) {
		fprintf(out, "state %s%s%s\n", ev->detail, ev->err[0] ? " " : "", ev->err);
	} else if (!strcmp(ev->call, "note") || !strcmp(ev->call, "tcp_state")) {
		fprintf(out, "%s\n", ev->detail);
	} else {
		lab_ladder_call_str(r, LAB_CALL_TIME | LAB_CALL_DETAIL, text, sizeof(text));
		fprintf(out, "%s\n", text);
	}
}

/*
 * What the harness did or saw (a note, a socket state): the story's next step, a "go" on a
 * program's stdin, may follow it, so a call blocked across it returns after it. A packet the
 * wire dropped is not one: it never arrived anywhere, it cannot have woken a call.
 */
static bool harness_step(const struct lab_event *ev)
{
	return !ev->t0_us && (!strcmp(ev->call, "state") || !strcmp(ev->call, "note"));
}

/*
 * Should @ev get a row at its return too? Yes if anything that may have woken it happened
 * between its entry and its return: a packet arriving at its own host, or a step of the harness.
 * And yes if it blocked while its host sent packets: those are the kernel's timers at work
 * (retransmissions, keepalive probes, the RST of an abort), and an ETIMEDOUT comes after them.
 * A quick call's own packets (the RST of a close(), the data of a send()) come after its only
 * row, at its entry.
 */
static bool needs_return_row(const struct lab_ladder *l, struct in_addr client,
			     const struct lab_event *ev)
{
	bool server = !strcmp(ev->who, "server"), blocked = ev->t_us - ev->t0_us >= BLOCKED_US;
	const struct lab_trace *own = server && l->server_side ? l->server_side : l->client_side;
	size_t i;

	for (i = 0; i < own->n; i++)
		if (own->v[i].t_us >= ev->t0_us && own->v[i].t_us <= ev->t_us &&
		    (blocked || (own->v[i].src.s_addr == client.s_addr) == server))
			return true;
	for (i = 0; i < l->n_events; i++)
		if (harness_step(&l->events[i]) && l->events[i].t_us >= ev->t0_us &&
		    l->events[i].t_us <= ev->t_us)
			return true;
	return false;
}

static size_t packet_row(const struct lab_pkt *p, struct lab_ladder_row *rows, size_t n)
{
	rows[n] = (struct lab_ladder_row){ .t_us = p->t_us, .pkt = p, .rank = 1, .seq = n };
	return 1;
}

/* an event's rows: an instant at its stamp; a call at its entry, and at its return if woken */
static size_t event_rows(const struct lab_ladder *l, struct in_addr client,
			 const struct lab_event *ev, struct lab_ladder_row *rows, size_t n)
{
	if (!ev->t0_us) {
		rows[n] =
			(struct lab_ladder_row){ .t_us = ev->t_us, .ev = ev, .rank = 2, .seq = n };
		return 1;
	}
	if (ev->t0_us == ev->t_us || !needs_return_row(l, client, ev)) {
		rows[n] = (struct lab_ladder_row){ .t_us = ev->t0_us, .ev = ev, .seq = n };
		return 1;
	}
	rows[n] = (struct lab_ladder_row){
		.t_us = ev->t0_us, .ev = ev, .part = LAB_LADDER_ENTRY, .seq = n
	};
	rows[n + 1] = (struct lab_ladder_row){
		.t_us = ev->t_us, .ev = ev, .part = LAB_LADDER_RETURN, .rank = 2, .seq = n + 1
	};
	return 2;
}

static struct in_addr guess_client(const struct lab_trace *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if ((t->v[i].flags & (LAB_TH_SYN | LAB_TH_ACK)) == LAB_TH_SYN)
			return t->v[i].src;
	return t->n ? t->v[0].src : (struct in_addr){ 0 };
}

size_t lab_ladder_rows(const struct lab_ladder *l, struct lab_ladder_row **out,
		       struct in_addr *client_out)
{
	const struct lab_trace *cs = l->client_side, *ss = l->server_side;
	size_t cap = cs->n + (ss ? ss->n : 0) + 2 * l->n_events, n = 0, i;
	struct in_addr client = l->client.s_addr ? l->client : guess_client(cs);
	struct lab_ladder_row *rows = calloc(cap ? cap : 1, sizeof(*rows));

	*out = rows;
	*client_out = client;
	if (!rows)
		return 0;
	for (i = 0; i < cs->n; i++)
		if (!ss || cs->v[i].src.s_addr == client.s_addr)
			n += packet_row(&cs->v[i], rows, n);
	for (i = 0; ss && i < ss->n; i++)
		if (ss->v[i].src.s_addr != client.s_addr)
			n += packet_row(&ss->v[i], rows, n);
	for (i = 0; i < l->n_events; i++)
		n += event_rows(l, client, &l->events[i], rows, n);
	qsort(rows, n, sizeof(*rows), by_time);
	for (i = 0; i < n; i++)
		rows[i].to_server = rows[i].pkt && rows[i].pkt->src.s_addr == client.s_addr;
	return n;
}

int64_t lab_ladder_gap_us(const struct lab_ladder_row *rows, size_t n)
{
	int64_t syn = -1, rtt = -1;
	size_t i;

	for (i = 0; i < n && rtt < 0; i++) {
		const struct lab_pkt *p = rows[i].pkt;

		if (!p)
			continue;
		if (p->flags == LAB_TH_SYN && syn < 0)
			syn = rows[i].t_us;
		else if (p->flags == (LAB_TH_SYN | LAB_TH_ACK) && syn >= 0)
			rtt = rows[i].t_us - syn;
	}
	return rtt * GAP_RTTS > GAP_FLOOR_US ? rtt * GAP_RTTS : GAP_FLOOR_US;
}

void lab_ladder_write(FILE *out, const struct lab_ladder *l)
{
	const struct lab_trace *cs = l->client_side;
	struct lab_ladder_row *rows;
	struct in_addr client;
	size_t n = lab_ladder_rows(l, &rows, &client), i;
	char a[INET_ADDRSTRLEN];
	int64_t t0 = l->t0_us, last = 0, gap;
	bool ports = false;

	if (!rows)
		return;
	gap = lab_ladder_gap_us(rows, n);
	for (i = 1; i < cs->n && !ports; i++) /* one connection, or several? */
		ports = cs->v[i].sport != cs->v[0].sport && cs->v[i].sport != cs->v[0].dport;
	if (!t0 && n)
		t0 = rows[0].t_us;
	inet_ntop(AF_INET, &client, a, sizeof(a));
	fprintf(out, "%10s   client %-*s server\n", "t (ms)", SERVER_COLUMN - 7, a);
	for (i = 0; i < n; i++) {
		if (rows[i].pkt && last && rows[i].t_us - last >= gap)
			fprintf(out, "%10s   ... +%.1f ms without a packet ...\n", "",
				(double)(rows[i].t_us - last) / 1e3);
		if (rows[i].pkt)
			last = rows[i].t_us;
		fprintf(out, "%10.3f   ", (double)(rows[i].t_us - t0) / 1000.0);
		if (rows[i].pkt)
			packet_line(out, rows[i].pkt, rows[i].to_server, ports);
		else
			event_line(out, &rows[i]);
	}
	if (!n)
		fprintf(out, "%10s   (no TCP packets)\n", "");
	free(rows);
}
