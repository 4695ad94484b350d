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
#define LONG_GAP_US 200000 /* worth a line of its own: an RTO, a delayed ACK x5, a stall */

static int by_time(const void *a, const void *b)
{
	const struct lab_ladder_row *x = a, *y = b;

	if (x->t_us != y->t_us)
		return x->t_us < y->t_us ? -1 : 1;
	return x < y ? -1 : 1;
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
		snprintf(buf + o, len - (size_t)o, " mss %u", p->mss);
}

static void packet_line(FILE *out, const struct lab_pkt *p, bool to_server, bool ports)
{
	char text[96], line[ARROW_WIDTH + sizeof(text) + 8];
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
	fprintf(out, "%s%s%s%s\n", line, p->retrans ? "  (retransmission)" : "",
		p->win == 0 && !(p->flags & (LAB_TH_RST | LAB_TH_SYN)) ? "  (zero window)" : "",
		p->lost ? "  X lost on the wire" : "");
}

static void event_line(FILE *out, const struct lab_event *ev)
{
	bool right = !strcmp(ev->who, "server");
	bool wire = !strcmp(ev->who, "wire");
	bool state = !strcmp(ev->call, "state");

	fprintf(out, "%*s%s: ", right ? SERVER_COLUMN : wire ? WIRE_COLUMN : 0, "", ev->who);
	if (wire && !strcmp(ev->call, "drop")) {
		fprintf(out, "X dropped %s\n", ev->detail);
		return;
	}
	if (!strcmp(ev->call, "icmp")) { /* a packet, but not TCP: said by its sender */
		fprintf(out, "%s\n", ev->detail);
		return;
	}
	if (state)
		fprintf(out, "state %s%s%s\n", ev->detail, ev->err[0] ? " " : "", ev->err);
	else if (!strcmp(ev->call, "note"))
		fprintf(out, "%s\n", ev->detail);
	else if (ev->ret < 0)
		fprintf(out, "%s() = -1 %s%s%s\n", ev->call, ev->err, ev->detail[0] ? "  " : "",
			ev->detail);
	else
		fprintf(out, "%s() = %ld%s%s\n", ev->call, ev->ret, ev->detail[0] ? "  " : "",
			ev->detail);
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
	size_t cap = cs->n + (ss ? ss->n : 0) + l->n_events, n = 0, i;
	struct in_addr client = l->client.s_addr ? l->client : guess_client(cs);
	struct lab_ladder_row *rows = calloc(cap ? cap : 1, sizeof(*rows));

	*out = rows;
	*client_out = client;
	if (!rows)
		return 0;
	for (i = 0; i < cs->n; i++)
		if (!ss || cs->v[i].src.s_addr == client.s_addr)
			rows[n++] =
				(struct lab_ladder_row){ .t_us = cs->v[i].t_us, .pkt = &cs->v[i] };
	for (i = 0; ss && i < ss->n; i++)
		if (ss->v[i].src.s_addr != client.s_addr)
			rows[n++] =
				(struct lab_ladder_row){ .t_us = ss->v[i].t_us, .pkt = &ss->v[i] };
	for (i = 0; i < l->n_events; i++)
		rows[n++] =
			(struct lab_ladder_row){ .t_us = l->events[i].t_us, .ev = &l->events[i] };
	qsort(rows, n, sizeof(*rows), by_time);
	for (i = 0; i < n; i++)
		rows[i].to_server = rows[i].pkt && rows[i].pkt->src.s_addr == client.s_addr;
	return n;
}

void lab_ladder_write(FILE *out, const struct lab_ladder *l)
{
	const struct lab_trace *cs = l->client_side;
	struct lab_ladder_row *rows;
	struct in_addr client;
	size_t n = lab_ladder_rows(l, &rows, &client), i;
	char a[INET_ADDRSTRLEN];
	int64_t t0 = l->t0_us, last = 0;
	bool ports = false;

	if (!rows)
		return;
	for (i = 1; i < cs->n && !ports; i++) /* one connection, or several? */
		ports = cs->v[i].sport != cs->v[0].sport && cs->v[i].sport != cs->v[0].dport;
	if (!t0 && n)
		t0 = rows[0].t_us;
	inet_ntop(AF_INET, &client, a, sizeof(a));
	fprintf(out, "%10s   client %-*s server\n", "t (ms)", SERVER_COLUMN - 7, a);
	for (i = 0; i < n; i++) {
		if (rows[i].pkt && last && rows[i].t_us - last >= LONG_GAP_US)
			fprintf(out, "%10s   ... %.3f s without a packet ...\n", "",
				(double)(rows[i].t_us - last) / 1e6);
		if (rows[i].pkt)
			last = rows[i].t_us;
		fprintf(out, "%10.3f   ", (double)(rows[i].t_us - t0) / 1000.0);
		if (rows[i].pkt)
			packet_line(out, rows[i].pkt, rows[i].to_server, ports);
		else
			event_line(out, rows[i].ev);
	}
	if (!n)
		fprintf(out, "%10s   (no TCP packets)\n", "");
	free(rows);
}
