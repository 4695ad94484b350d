// SPDX-License-Identifier: MIT
/* What judge() reads (captures, counters, calls, series) and the typed expectations it makes. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run.h"

static void keyed(struct lab_run *run, int line, enum lab_expect_kind kind);

const struct lab_trace *lab_capture(const struct lab_run *run, enum lab_host side)
{
	return &run->trace[side];
}

int lab_port_number(const struct lab_run *run)
{
	return run->port;
}

struct in_addr lab_host_addr(enum lab_host host)
{
	struct in_addr a = { 0 };

	inet_pton(AF_INET, host == LAB_CLIENT ? LAB_CLIENT_ADDR : LAB_SERVER_ADDR, &a);
	return a;
}

int64_t lab_packets(const struct lab_run *run, enum lab_host side, enum lab_host from,
		    unsigned int flags)
{
	return (int64_t)lab_trace_count_before(&run->trace[side], lab_host_addr(from),
					       (uint8_t)flags, false, run->story_end_us);
}

int64_t lab_packets_once(const struct lab_run *run, enum lab_host side, enum lab_host from,
			 unsigned int flags, int64_t before_us)
{
	const struct lab_trace *t = &run->trace[side];
	struct in_addr src = lab_host_addr(from);
	int64_t n = 0;
	size_t i;

	if (!before_us || before_us > run->story_end_us)
		before_us = run->story_end_us;
	for (i = 0; i < t->n && t->v[i].t_us < before_us; i++)
		n += t->v[i].src.s_addr == src.s_addr && (t->v[i].flags & flags) == flags &&
		     !t->v[i].retrans;
	return n;
}

const struct lab_pkt *lab_ack_of_fin(const struct lab_run *run, enum lab_host side,
				     enum lab_host from)
{
	const struct lab_trace *t = &run->trace[side];
	struct in_addr src = lab_host_addr(from);
	const struct lab_pkt *fin = NULL;
	size_t i;

	for (i = 0; i < t->n; i++) {
		const struct lab_pkt *p = &t->v[i];

		if (p->src.s_addr == src.s_addr) {
			if (!fin && (p->flags & LAB_TH_FIN))
				fin = p;
			continue;
		}
		if (fin && (p->flags & LAB_TH_ACK) && p->ack == fin->seq + fin->len + 1)
			return p;
	}
	return NULL;
}

int64_t lab_icmp_count(const struct lab_run *run, enum lab_host side, int type, int code)
{
	return (int64_t)lab_trace_count_icmp(&run->trace[side], type, code, run->story_end_us);
}

int64_t lab_counter(const struct lab_run *run, enum lab_host host, const char *name)
{
	return lab_run_counter(run, host, name);
}

static bool named(const char *call, const char *const *calls)
{
	for (; *calls; calls++)
		if (!strcmp(call, *calls))
			return true;
	return false;
}

void lab_calls(const struct lab_run *run, int who, const char *const *calls, char *buf, size_t len)
{
	char name[16];
	size_t i, o = 0;

	lab_run_prog_name(who, name, sizeof(name));
	buf[0] = '\0';
	for (i = 0; i < run->n_events && o < len; i++) {
		const struct lab_event *ev = &run->events[i];

		if (strcmp(ev->who, name) || !named(ev->call, calls))
			continue;
		if (ev->ret < 0)
			o += (size_t)snprintf(buf + o, len - o, "%s%s=%s", o ? " " : "", ev->call,
					      ev->err);
		else
			o += (size_t)snprintf(buf + o, len - o, "%s%s=%ld", o ? " " : "", ev->call,
					      ev->ret);
	}
}

size_t lab_count_calls(const struct lab_run *run, int who, const char *call, const char *detail)
{
	char name[16];

	return lab_run_count_calls(run, lab_run_prog_name(who, name, sizeof(name)), call, detail);
}

size_t lab_count_client_calls(const struct lab_run *run, const char *call, long ret)
{
	size_t i, n = 0;

	for (i = 0; i < run->n_events; i++)
		n += !strncmp(run->events[i].who, "client", 6) &&
		     !strcmp(run->events[i].call, call) && run->events[i].ret == ret;
	return n;
}

int64_t lab_bytes_read(const struct lab_run *run, int who)
{
	const struct lab_event *ev;
	int64_t total = 0;
	size_t i;

	for (i = 0; (ev = lab_call(run, who, "recv", i)); i++)
		if (ev->ret > 0)
			total += ev->ret;
	return total;
}

const struct lab_event *lab_call(const struct lab_run *run, int who, const char *call, size_t nth)
{
	char name[16];

	return lab_run_event(run, lab_run_prog_name(who, name, sizeof(name)), call, nth);
}

int64_t lab_story_end_us(const struct lab_run *run)
{
	return run->story_end_us;
}

size_t lab_series(struct lab_run *run, int who, const char *call, size_t skip, const char *name,
		  int64_t **out)
{
	size_t n = lab_count_calls(run, who, call, NULL), i;
	struct lab_series *s = NULL;
	int64_t *v;

	*out = NULL;
	/* judged again (by another variant, likeness.c): the series is declared once */
	for (i = 0; i < run->n_series && !s; i++)
		if (!strcmp(run->series[i].name, name) && run->series[i].who == who)
			s = &run->series[i];
	if (s) {
		free(s->v);
	} else if (run->n_series == LAB_MAX_SERIES) {
		lab_run_error(run, -ENOSPC, "more than %d series declared", LAB_MAX_SERIES);
		return 0;
	} else {
		s = &run->series[run->n_series++];
	}
	v = calloc(n ? n : 1, sizeof(*v));
	if (!v) {
		s->v = NULL;
		s->n = 0;
		return 0;
	}
	for (i = 0; i < n; i++)
		v[i] = lab_call(run, who, call, i)->ret;
	snprintf(s->name, sizeof(s->name), "%s", name);
	snprintf(s->call, sizeof(s->call), "%s", call);
	s->who = who;
	s->skip = skip;
	s->v = v;
	s->n = n;
	if (n <= skip)
		return 0;
	*out = calloc(n - skip, sizeof(**out));
	if (!*out)
		return 0;
	memcpy(*out, v + skip, (n - skip) * sizeof(**out));
	return n - skip;
}

/* ---- expectations ---- */

void lab_run_key_last(struct lab_run *run, int line)
{
	keyed(run, line, LAB_EXPECT_NA);
}

/* the call site is the key; a second check from the same line (a loop) gets ".2" ... */
static void keyed(struct lab_run *run, int line, enum lab_expect_kind kind)
{
	struct lab_expect *e = lab_expects_last(&run->ex);
	size_t i, same = 0;
	char key[sizeof(e->key) - 8];

	snprintf(key, sizeof(key), "%s:%d", run->sc->name, line);
	for (i = 0; i + 1 < run->ex.n; i++)
		same += !strncmp(run->ex.v[i].key, key, strlen(key)) &&
			(run->ex.v[i].key[strlen(key)] == '\0' ||
			 run->ex.v[i].key[strlen(key)] == '.');
	if (same)
		snprintf(e->key, sizeof(e->key), "%s.%zu", key, same + 1);
	else
		snprintf(e->key, sizeof(e->key), "%s", key);
	if (!e->na)
		e->kind = kind;
}

void lab_expect_count_at(struct lab_run *run, int key, const char *what, enum lab_cmp cmp,
			 int64_t want, int64_t got)
{
	lab_expect_int(&run->ex, what, cmp, want, got);
	keyed(run, key, LAB_EXPECT_COUNT);
}

void lab_expect_counter_at(struct lab_run *run, int key, enum lab_host host, const char *name,
			   enum lab_cmp cmp, int64_t want)
{
	char what[96];

	snprintf(what, sizeof(what), "%s %s delta", lab_host_name(host), name);
	lab_expect_int(&run->ex, what, cmp, want, lab_run_counter(run, host, name));
	keyed(run, key, LAB_EXPECT_COUNTER);
}

void lab_expect_calls_at(struct lab_run *run, int key, int who, const char *const *calls,
			 const char *want)
{
	char name[16], what[96], seen[160];

	lab_run_prog_name(who, name, sizeof(name));
	snprintf(what, sizeof(what), "%s calls (errno sequence)", name);
	if (lab_needs_at(run, key, who, what)) {
		lab_calls(run, who, calls, seen, sizeof(seen));
		lab_expect_str(&run->ex, what, want, seen);
	}
	keyed(run, key, LAB_EXPECT_CALLS);
}

void lab_expect_state_at(struct lab_run *run, int key, const char *what, int64_t want, int64_t got)
{
	lab_expect_int(&run->ex, what, LAB_EQ, want, got);
	keyed(run, key, LAB_EXPECT_STATE);
}

void lab_expect_within_at(struct lab_run *run, int key, const char *what,
			  const struct lab_window *window, int64_t got_us)
{
	lab_expect_window(&run->ex, what, window, got_us);
	keyed(run, key, LAB_EXPECT_WINDOW);
}

void lab_expect_at_most_at(struct lab_run *run, int key, const char *what, int64_t max_us,
			   int64_t got_us)
{
	lab_expect_time_le(&run->ex, what, max_us, got_us);
	keyed(run, key, LAB_EXPECT_AT_MOST);
}

void lab_expect_text_at(struct lab_run *run, int key, const char *what, const char *want,
			const char *got)
{
	lab_expect_str(&run->ex, what, want, got);
	keyed(run, key, LAB_EXPECT_TEXT);
}

void lab_expect_timed(struct lab_run *run)
{
	struct lab_expect *e = lab_expects_last(&run->ex);

	if (e)
		e->timed = true;
}

void lab_expect_on_series(struct lab_run *run)
{
	struct lab_expect *e = lab_expects_last(&run->ex);

	if (e && run->n_series)
		e->series = (int)run->n_series - 1;
}
