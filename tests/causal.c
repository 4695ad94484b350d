// SPDX-License-Identifier: MIT
/*
 * causal-check [--return-stamps] RUN-DIR... - is every call in a run's ladder in causal order
 * with the packets? Read from the run's report.json (each call's entry and return stamps) and
 * its two captures, and from the rows of the ladder they make (lab_ladder_rows(), what both
 * ladder.txt and report.html draw):
 *   connect()            begins before the SYN it sent, shows its value after the answer
 *   close(), shutdown()  begins before the FIN or RST it sent
 *   send(), writev()     begins before its data segment
 *   recv()               shows its value after what it got arrived (data, FIN or RST)
 *   accept()             shows its value after the handshake's last packet arrived
 *   ETIMEDOUT            shown after the last packet the host sent (retransmission, probe) 
 * "Begins before" holds for the stamps (entry <= the packet's stamp on the program's own host)
 * and for the rows (the call's first row above the packet's). The packet a call sent is the
 * last one of its kind leaving the program's host after the program's previous call returned
 * and before this one did; what woke it is the last one arriving before it returned, whose row
 * is where it left the other host.
 *
 * --return-stamps judges the run as the programs used to stamp it (only on return): that must
 * fail, or these checks prove nothing.
 * Exit 0 in order, 1 out of order (one line each), 99 a run that cannot be read.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "ladder.h"
#include "topo.h"
#include "trace.h"

enum kind { CONNECT, CLOSE, SEND, RECV, ACCEPT, N_KINDS };

static const char *const kind_names[N_KINDS] = {
	"connect() before its SYN",	"close()/shutdown() before its FIN or RST",
	"send() before its data",	"recv() after what it got",
	"accept() after the handshake",
};

struct run {
	char name[96];
	struct lab_trace side[2]; /* 0: client.pcap, 1: server.pcap */
	struct lab_event *ev;
	size_t n_ev;
	struct in_addr host[2]; /* the client's and the server's address */
	struct lab_ladder_row *rows;
	size_t n_rows;
	int64_t t0; /* the ladder's first row: times are printed from it */
};

struct tally {
	size_t checked[N_KINDS];
	size_t bad;
};

static enum kind kind_of(const struct lab_event *ev)
{
	static const char *const calls[] = { "connect", "close", "shutdown", "send",
					     "writev",	"recv",	 "accept" };
	static const enum kind kinds[] = { CONNECT, CLOSE, CLOSE, SEND, SEND, RECV, ACCEPT };
	size_t i;

	if (strcmp(ev->who, "server") && strncmp(ev->who, "client", 6))
		return N_KINDS;
	for (i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
		if (!strcmp(ev->call, calls[i]))
			return kinds[i];
	return N_KINDS;
}

/* report.json's events, through the programs' own parser (old lines have no entry stamp) */
static int load_events(struct run *r, const char *dir, bool return_stamps)
{
	char path[4096];
	struct json_object *o, *a, *e, *v;
	size_t i, n;
	int err = -1;

	snprintf(path, sizeof(path), "%s/report.json", dir);
	o = json_object_from_file(path);
	if (!o || !json_object_object_get_ex(o, "events", &a))
		goto out;
	snprintf(r->name, sizeof(r->name), "%s/%s",
		 json_object_object_get_ex(o, "scenario", &v) ? json_object_get_string(v) : "?",
		 json_object_object_get_ex(o, "variant", &v) ? json_object_get_string(v) : "?");
	n = json_object_array_length(a);
	r->ev = calloc(n ? n : 1, sizeof(*r->ev));
	if (!r->ev)
		goto out;
	for (i = 0; i < n; i++) {
		struct lab_event *ev = &r->ev[r->n_ev];

		e = json_object_array_get_idx(a, i);
		if (lab_event_parse(json_object_to_json_string(e), ev))
			continue;
		if (json_object_object_get_ex(e, "who", &v))
			snprintf(ev->who, sizeof(ev->who), "%s", json_object_get_string(v));
		if (return_stamps) /* as before: one stamp, at the return */
			ev->t0_us = 0;
		r->n_ev++;
	}
	err = 0;
out:
	if (err)
		fprintf(stderr, "causal-check: %s: no events to read\n", path);
	json_object_put(o);
	return err;
}

static int load(struct run *r, const char *dir, bool return_stamps)
{
	static const char *const files[] = { "client.pcap", "server.pcap" };
	char path[4096], why[256];
	struct lab_ladder l;
	struct in_addr client;
	int i;

	inet_pton(AF_INET, LAB_CLIENT_ADDR, &r->host[0]);
	inet_pton(AF_INET, LAB_SERVER_ADDR, &r->host[1]);
	if (load_events(r, dir, return_stamps))
		return -1;
	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		if (lab_trace_read(&r->side[i], path, why, sizeof(why))) {
			fprintf(stderr, "causal-check: %s\n", why);
			return -1;
		}
	}
	l = (struct lab_ladder){ .client_side = &r->side[0],
				 .server_side = &r->side[1],
				 .client = r->host[0],
				 .events = r->ev,
				 .n_events = r->n_ev };
	r->n_rows = lab_ladder_rows(&l, &r->rows, &client);
	r->t0 = r->n_rows ? r->rows[0].t_us : 0;
	return r->rows ? 0 : -1;
}

/* the row that draws packet @p, or of event @ev's entry (@value: the one that shows its value) */
static size_t row_of(const struct run *r, const struct lab_pkt *p, const struct lab_event *ev,
		     bool value)
{
	size_t i, found = r->n_rows;

	for (i = 0; i < r->n_rows; i++) {
		if (p && r->rows[i].pkt == p)
			return i;
		if (ev && r->rows[i].ev == ev) {
			found = i;
			if (!value || r->rows[i].part != LAB_LADDER_ENTRY)
				return i;
		}
	}
	return found;
}

/* the return of the program's previous call: nothing @ev sent can have left before it */
static int64_t previous_return(const struct run *r, const struct lab_event *ev)
{
	int64_t prev = 0;
	size_t i;

	for (i = 0; i < r->n_ev; i++)
		if (&r->ev[i] != ev && !strcmp(r->ev[i].who, ev->who) &&
		    strcmp(r->ev[i].call, "note") && strcmp(r->ev[i].call, "state") &&
		    r->ev[i].t_us <= ev->t_us && r->ev[i].t_us > prev)
			prev = r->ev[i].t_us;
	return prev;
}

static bool sent_by(enum kind k, const struct lab_pkt *p)
{
	if (p->retrans) /* a timer sent it, not the call */
		return false;
	if (k == CONNECT)
		return (p->flags & (LAB_TH_SYN | LAB_TH_ACK)) == LAB_TH_SYN;
	if (k == CLOSE)
		return p->flags & (LAB_TH_FIN | LAB_TH_RST);
	return p->len > 0;
}

/* the packet @ev sent: the last of its kind leaving its host in (previous return, return] */
static const struct lab_pkt *packet_sent(const struct run *r, const struct lab_event *ev,
					 enum kind k, int own)
{
	const struct lab_trace *t = &r->side[own];
	int64_t after = previous_return(r, ev);
	const struct lab_pkt *last = NULL;
	size_t i;

	if (k != CONNECT && k != CLOSE && (k != SEND || ev->ret <= 0))
		return NULL;
	for (i = 0; i < t->n; i++)
		if (t->v[i].src.s_addr == r->host[own].s_addr && t->v[i].t_us > after &&
		    t->v[i].t_us <= ev->t_us && sent_by(k, &t->v[i]))
			last = &t->v[i];
	return last;
}

/* what a returning @ev got from the peer: data, FIN or RST for recv(), any answer otherwise */
static bool woke_by(const struct lab_event *ev, const struct lab_pkt *p)
{
	if (strcmp(ev->call, "recv"))
		return true;
	if (ev->ret > 0)
		return p->len > 0;
	if (ev->ret == 0)
		return p->flags & LAB_TH_FIN;
	return !strcmp(ev->err, "ECONNRESET") && (p->flags & LAB_TH_RST);
}

/*
 * the last packet that arrived at @ev's host before it returned and woke it, as it left the peer;
 * for an ETIMEDOUT, the last one its host sent before the timer gave up
 */
static const struct lab_pkt *packet_woke(const struct run *r, const struct lab_event *ev,
					 enum kind k, int own)
{
	const struct lab_trace *in = &r->side[own], *out = &r->side[!own];
	const struct lab_pkt *d = NULL;
	size_t i;

	if (k != CONNECT && k != RECV && k != ACCEPT)
		return NULL;
	if (!strcmp(ev->err, "ETIMEDOUT")) { /* a timer gave up: after the last packet it sent */
		for (i = 0; i < in->n; i++)
			if (in->v[i].src.s_addr == r->host[own].s_addr && in->v[i].t_us <= ev->t_us)
				d = &in->v[i];
		return d;
	}
	for (i = 0; i < in->n; i++)
		if (in->v[i].src.s_addr == r->host[!own].s_addr && in->v[i].t_us <= ev->t_us &&
		    woke_by(ev, &in->v[i]))
			d = &in->v[i];
	for (i = 0; d && i < out->n; i++)
		if (out->v[i].ip_id == d->ip_id && out->v[i].seq == d->seq &&
		    out->v[i].flags == d->flags && out->v[i].len == d->len)
			return &out->v[i];
	return NULL;
}

static void fail(const struct run *r, const struct lab_event *ev, size_t call_row,
		 const struct lab_pkt *p, const char *order, const char *why)
{
	char what[128];

	lab_ladder_describe(p, what, sizeof(what));
	printf("FAIL: %s: %s %s() (%.3f..%.3f ms, row %zu) is not %s %s at %.3f ms (row %zu)%s\n",
	       r->name, ev->who, ev->call, (double)(lab_event_start(ev) - r->t0) / 1e3,
	       (double)(ev->t_us - r->t0) / 1e3, call_row, order, what,
	       (double)(p->t_us - r->t0) / 1e3, row_of(r, p, NULL, false), why);
}

static void check_call(const struct run *r, const struct lab_event *ev, struct tally *t)
{
	enum kind k = kind_of(ev);
	int own = !strcmp(ev->who, "server");
	const struct lab_pkt *sent, *woke;
	size_t entry_row, value_row;
	bool ok = true;

	if (k == N_KINDS)
		return;
	sent = packet_sent(r, ev, k, own);
	woke = packet_woke(r, ev, k, own);
	if (!sent && !woke)
		return;
	t->checked[k]++;
	entry_row = row_of(r, NULL, ev, false);
	value_row = row_of(r, NULL, ev, true);
	if (sent && lab_event_start(ev) > sent->t_us) {
		fail(r, ev, entry_row, sent, "before", ": it began after the packet left");
		ok = false;
	} else if (sent && entry_row > row_of(r, sent, NULL, false)) {
		fail(r, ev, entry_row, sent, "before", "");
		ok = false;
	}
	/* a call cannot return before what woke it arrived: only the rows can get that wrong */
	if (woke && value_row < row_of(r, woke, NULL, false)) {
		fail(r, ev, value_row, woke, "after", ": its value is shown first");
		ok = false;
	}
	t->bad += !ok;
}

static void run_free(struct run *r)
{
	lab_trace_free(&r->side[0]);
	lab_trace_free(&r->side[1]);
	free(r->ev);
	free(r->rows);
}

int main(int argc, char **argv)
{
	bool return_stamps = argc > 1 && !strcmp(argv[1], "--return-stamps");
	struct tally all = { { 0 }, 0 };
	size_t i, k, runs = 0;
	int first = 1 + return_stamps, a, broken = 0;

	if (argc <= first) {
		fprintf(stderr, "usage: causal-check [--return-stamps] RUN-DIR...\n");
		return 2;
	}
	for (a = first; a < argc; a++) {
		struct run r = { .side = { LAB_TRACE_INIT, LAB_TRACE_INIT } };
		struct tally one = { { 0 }, 0 };

		if (load(&r, argv[a], return_stamps)) {
			broken = 1;
			run_free(&r);
			continue;
		}
		for (i = 0; i < r.n_ev; i++)
			check_call(&r, &r.ev[i], &one);
		printf("%s: %s: %zu connect, %zu close, %zu send, %zu recv, %zu accept checked\n",
		       one.bad ? "FAIL" : "ok", r.name, one.checked[CONNECT], one.checked[CLOSE],
		       one.checked[SEND], one.checked[RECV], one.checked[ACCEPT]);
		for (k = 0; k < N_KINDS; k++)
			all.checked[k] += one.checked[k];
		all.bad += one.bad;
		runs++;
		run_free(&r);
	}
	for (k = 0; k < N_KINDS; k++)
		if (!all.checked[k]) {
			printf("FAIL: nothing checked \"%s\" in %zu run(s)\n", kind_names[k], runs);
			all.bad++;
		}
	printf("%zu run(s)%s: %zu call(s) out of causal order\n", runs,
	       return_stamps ? " judged by return stamps" : "", all.bad);
	return broken ? 99 : all.bad ? 1 : 0;
}
