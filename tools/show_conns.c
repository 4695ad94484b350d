// SPDX-License-Identifier: MIT
/*
 * tcplab show: the conversation summary (what tshark -z conv,tcp lists) and which connections
 * a user asked for (--conn PORT | ADDR | ADDR:PORT | ADDR:PORT-ADDR:PORT).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "show.h"

bool show_conn_bad(const struct lab_conn *c)
{
	return c->closed_rst[0] || c->closed_rst[1] || !c->closed_fin[0] || !c->closed_fin[1] ||
	       c->retrans[0] || c->retrans[1];
}

const char *show_conn_end(const struct lab_conn *c, char *buf, size_t len)
{
	const bool *rst = c->closed_rst, *fin = c->closed_fin;

	if (rst[0] && rst[1])
		snprintf(buf, len, "RST both");
	else if (rst[0] || rst[1])
		snprintf(buf, len, "RST %s", rst[0] ? "client" : "server");
	else if (fin[0] && fin[1])
		snprintf(buf, len, "FIN");
	else if (fin[0] || fin[1])
		snprintf(buf, len, "open, FIN %s", fin[0] ? "client" : "server");
	else if (c->syn && !c->synack && !c->pkts[1])
		snprintf(buf, len, "no answer");
	else
		snprintf(buf, len, "open");
	return buf;
}

/* "[::1]:80", "10.0.0.1:80", "10.0.0.1", "80" into @sel; -EINVAL */
static int parse_endpoint(const char *s, struct lab_endpoint *e, bool *any_port, bool *any_addr)
{
	char addr[64], *end;
	const char *colon = strrchr(s, ':'), *port = NULL;
	struct in_addr v4;
	unsigned long p;

	*any_port = *any_addr = false;
	if (s[0] == '[') { /* [v6]:port or [v6] */
		const char *close = strchr(s, ']');

		if (!close || (size_t)(close - s - 1) >= sizeof(addr))
			return -EINVAL;
		snprintf(addr, sizeof(addr), "%.*s", (int)(close - s - 1), s + 1);
		port = close[1] == ':' ? close + 2 : close[1] ? "" : NULL;
	} else if (strspn(s, "0123456789") == strlen(s)) {
		*any_addr = true;
		port = s;
		addr[0] = '\0';
	} else if (colon && strchr(s, '.') && !memchr(s, ':', (size_t)(colon - s))) {
		snprintf(addr, sizeof(addr), "%.*s", (int)(colon - s), s);
		port = colon + 1;
	} else {
		snprintf(addr, sizeof(addr), "%s", s);
	}
	if (addr[0]) {
		memset(&e->addr, 0, sizeof(e->addr));
		if (inet_pton(AF_INET, addr, &v4) == 1) {
			e->addr.s6_addr[10] = e->addr.s6_addr[11] = 0xff;
			memcpy(e->addr.s6_addr + 12, &v4, 4);
		} else if (inet_pton(AF_INET6, addr, &e->addr) != 1) {
			return -EINVAL;
		}
	}
	if (!port) {
		*any_port = true;
		return 0;
	}
	p = strtoul(port, &end, 10);
	if (!*port || *end || p > 65535)
		return -EINVAL;
	e->port = (uint16_t)p;
	return 0;
}

int show_select_parse(const char *spec, struct show_select *sel)
{
	char a[80], *sep;
	size_t i;

	memset(sel, 0, sizeof(*sel));
	if (strlen(spec) >= sizeof(a))
		return -EINVAL;
	snprintf(a, sizeof(a), "%s", spec);
	/* two ends: "A-B", "A,B" or tshark's "A <-> B" */
	sep = strstr(a, "<->");
	if (!sep)
		sep = strpbrk(a, ",-");
	sel->n = 1;
	if (sep) {
		char *b = sep + (strncmp(sep, "<->", 3) ? 1 : 3);

		*sep = '\0';
		while (*b == ' ')
			b++;
		if (parse_endpoint(b, &sel->end[1], &sel->any_port[1], &sel->any_addr[1]))
			return -EINVAL;
		sel->n = 2;
	}
	for (i = strlen(a); i && a[i - 1] == ' '; i--)
		a[i - 1] = '\0';
	return parse_endpoint(a, &sel->end[0], &sel->any_port[0], &sel->any_addr[0]);
}

static bool end_matches(const struct show_select *sel, size_t i, const struct lab_endpoint *e)
{
	return (sel->any_addr[i] || !memcmp(&sel->end[i].addr, &e->addr, sizeof(e->addr))) &&
	       (sel->any_port[i] || sel->end[i].port == e->port);
}

bool show_select_matches(const struct show_select *sel, const struct lab_conn *c)
{
	if (sel->n == 1)
		return end_matches(sel, 0, &c->client) || end_matches(sel, 0, &c->server);
	return (end_matches(sel, 0, &c->client) && end_matches(sel, 1, &c->server)) ||
	       (end_matches(sel, 0, &c->server) && end_matches(sel, 1, &c->client));
}

static void row(FILE *out, const struct lab_trace *t, size_t i, int width)
{
	const struct lab_conn *c = &t->conns[i];
	char a[64], b[64], end[32];

	lab_endpoint_str(&c->client, a, sizeof(a));
	lab_endpoint_str(&c->server, b, sizeof(b));
	fprintf(out, "%5zu  %-*s %-*s %6zu %9llu %9llu %6zu %9llu %9llu %10.6f %10.6f  %s%s%s\n",
		i + 1, width, a, width, b, c->pkts[0], (unsigned long long)c->bytes[0],
		(unsigned long long)c->data[0], c->pkts[1], (unsigned long long)c->bytes[1],
		(unsigned long long)c->data[1], (double)(t->v[c->first].t_us - t->first_us) / 1e6,
		(double)(t->v[c->last].t_us - t->v[c->first].t_us) / 1e6,
		show_conn_end(c, end, sizeof(end)), c->syn ? "" : ", began before the capture",
		c->retrans[0] + c->retrans[1] ? ", retransmissions" : "");
}

/* servers (address and port) with how many connections, for a file too big to list */
static void by_server(FILE *out, const struct lab_trace *t)
{
	size_t i, j, shown = 0;
	bool *done = calloc(t->n_conns, sizeof(*done));

	if (!done)
		return;
	for (i = 0; i < t->n_conns && shown < SHOW_ROWS; i++) {
		size_t n = 0, bad = 0, rst = 0, fin = 0;
		char s[64];

		if (done[i])
			continue;
		for (j = i; j < t->n_conns; j++) {
			const struct lab_conn *c = &t->conns[j];

			if (done[j] || !lab_endpoint_is(&c->server, &t->conns[i].server.addr,
							t->conns[i].server.port))
				continue;
			done[j] = true;
			n++;
			bad += show_conn_bad(c);
			rst += c->closed_rst[0] || c->closed_rst[1];
			fin += !c->closed_rst[0] && !c->closed_rst[1] && c->closed_fin[0] &&
			       c->closed_fin[1];
		}
		shown++;
		fprintf(out,
			"  server %s: %zu connection(s): %zu FIN, %zu RST, %zu open; %zu ended "
			"badly\n",
			lab_endpoint_str(&t->conns[i].server, s, sizeof(s)), n, fin, rst,
			n - fin - rst, bad);
	}
	if (i < t->n_conns)
		fprintf(out, "  ... and more servers (--all lists every connection)\n");
	free(done);
}

void show_summary(FILE *out, const struct lab_trace *t, bool all)
{
	size_t i, fin = 0, rst = 0, bad = 0, listed = 0;
	bool full = all || t->n_conns <= SHOW_ROWS;
	int width = 21;

	for (i = 0; i < t->n_conns; i++) {
		const struct lab_conn *c = &t->conns[i];
		char s[64];

		rst += c->closed_rst[0] || c->closed_rst[1];
		fin += !c->closed_rst[0] && !c->closed_rst[1] && c->closed_fin[0] &&
		       c->closed_fin[1];
		bad += show_conn_bad(c);
		if (full || show_conn_bad(c)) {
			int w = (int)strlen(lab_endpoint_str(&c->server, s, sizeof(s)));

			w = w > (int)strlen(lab_endpoint_str(&c->client, s, sizeof(s))) ?
				    w :
				    (int)strlen(s);
			width = w > width ? w : width;
		}
	}
	fprintf(out,
		"%zu TCP connection(s): %zu closed (FIN both ways), %zu reset (RST), %zu open "
		"or half-closed\n",
		t->n_conns, fin, rst, t->n_conns - fin - rst);
	if (!t->n_conns)
		return;
	if (!full) {
		by_server(out, t);
		fprintf(out, "the %zu that ended badly (RST, open, retransmissions)%s:\n", bad,
			bad > SHOW_ROWS ? ", the first ones" : "");
	}
	fprintf(out, "%5s  %-*s %-*s %6s %9s %9s %6s %9s %9s %10s %10s  %s\n", "#", width, "client",
		width, "server", "c>s", "bytes", "data", "s>c", "bytes", "data", "start s",
		"duration s", "ended");
	for (i = 0; i < t->n_conns; i++) {
		if (!full && (!show_conn_bad(&t->conns[i]) || listed == SHOW_ROWS))
			continue;
		listed++;
		row(out, t, i, width);
	}
	if (!full)
		fprintf(out, "(%zu of %zu connections listed: --all lists every one)\n", listed,
			t->n_conns);
}
