// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "cli.h"
#include "ladder.h"
#include "show.h"
#include "trace.h"

struct show_opts {
	const char *path;
	char filter[1024]; /* --filter, or the words after FILE (as tcpdump takes them) */
	struct show_select sel;
	bool selecting, all;
};

static int parse_args(int argc, char **argv, struct show_opts *o)
{
	static const struct option opts[] = { { "conn", required_argument, NULL, 'c' },
					      { "filter", required_argument, NULL, 'f' },
					      { "all", no_argument, NULL, 'a' },
					      CLI_HELP_OPTION,
					      { NULL, 0, NULL, 0 } };
	bool filter_opt = false;
	int c, i;

	optind = 1;
	while ((c = cli_option("show", argc, argv, opts)) != CLI_END) {
		if (c == CLI_HELP || c == CLI_BAD)
			return c;
		if (c == 'a') {
			o->all = true;
		} else if (c == 'f') {
			snprintf(o->filter, sizeof(o->filter), "%s", optarg);
			filter_opt = true;
		} else if (show_select_parse(optarg, &o->sel)) {
			usage_error("show",
				    "show: --conn '%s': a port (80), an address, ADDR:PORT "
				    "([::1]:80 for IPv6) or two of them (A:PORT-B:PORT)",
				    optarg);
			return CLI_BAD;
		} else {
			o->selecting = true;
		}
	}
	if (optind >= argc) {
		usage_error("show", "show takes one capture file (none given)");
		return CLI_BAD;
	}
	o->path = argv[optind];
	if (optind + 1 < argc && filter_opt) {
		usage_error("show",
			    "show: a filter either with --filter or after the file, not "
			    "both ('%s')",
			    argv[optind + 1]);
		return CLI_BAD;
	}
	for (i = optind + 1; i < argc; i++) /* tcpdump's way: the words after the file */
		snprintf(o->filter + strlen(o->filter), sizeof(o->filter) - strlen(o->filter),
			 "%s%s", i > optind + 1 ? " " : "", argv[i]);
	return 0;
}

/* which ladders to draw: those asked for, else all of a small file, else those that ended badly */
static size_t choose(const struct lab_trace *t, const struct show_opts *o, bool *drawn)
{
	size_t i, n = 0;

	for (i = 0; i < t->n_conns; i++) {
		if (o->selecting)
			drawn[i] = show_select_matches(&o->sel, &t->conns[i]);
		else if (o->all || t->n_conns <= SHOW_LADDERS)
			drawn[i] = true;
		else
			drawn[i] = show_conn_bad(&t->conns[i]) && n < SHOW_LADDERS;
		n += drawn[i];
	}
	return n;
}

/* ICMP messages as rows of their own, said by their sender's address: those about @c */
static size_t icmp_events(const struct lab_trace *t, const struct lab_conn *c, struct lab_event *ev)
{
	size_t i, n = 0;

	for (i = 0; i < t->n_icmp; i++) {
		const struct lab_icmp *m = &t->icmp[i];
		char name[48], dst[INET_ADDRSTRLEN];

		if (m->sport && !((m->sport == c->client.port && m->dport == c->server.port) ||
				  (m->sport == c->server.port && m->dport == c->client.port)))
			continue;
		if (!m->sport && (m->t_us < t->v[c->first].t_us || m->t_us > t->v[c->last].t_us))
			continue; /* an echo, or an error quoting no ports: during the connection */
		ev[n].t_us = m->t_us;
		inet_ntop(AF_INET, &m->src, ev[n].who, sizeof(ev[n].who));
		inet_ntop(AF_INET, &m->dst, dst, sizeof(dst));
		snprintf(ev[n].call, sizeof(ev[n].call), "icmp");
		snprintf(ev[n].detail, sizeof(ev[n].detail), "ICMP %s to %s",
			 lab_icmp_name(m->type, m->code, name, sizeof(name)), dst);
		n++;
	}
	return n;
}

/* one connection's ladder, its ends named, with how its direction was told */
static int draw(const struct lab_trace *t, size_t k, FILE *out)
{
	const struct lab_conn *c = &t->conns[k];
	struct lab_trace one = LAB_TRACE_INIT;
	struct lab_event *ev = calloc(t->n_icmp + 1, sizeof(*ev));
	struct lab_ladder l = { .client_side = &one, .conn = c };
	char a[64], b[64], end[32], rule[160];
	size_t i;

	one.v = calloc(c->pkts[0] + c->pkts[1] + 1, sizeof(*one.v));
	if (!one.v || !ev) {
		free(one.v);
		free(ev);
		return -ENOMEM;
	}
	for (i = c->first; i <= c->last; i++)
		if (t->v[i].conn == k)
			one.v[one.n++] = t->v[i];
	l.events = ev;
	l.n_events = icmp_events(t, c, ev);
	fprintf(out,
		"\nconnection %zu: client %s -> server %s (IPv%u), %zu packets, %.3f ms, "
		"ended: %s\n",
		k + 1, lab_endpoint_str(&c->client, a, sizeof(a)),
		lab_endpoint_str(&c->server, b, sizeof(b)), c->ipver, one.n,
		(double)(t->v[c->last].t_us - t->v[c->first].t_us) / 1e3,
		show_conn_end(c, end, sizeof(end)));
	fprintf(out, "  client and server: %s\n", lab_conn_rule_str(c, rule, sizeof(rule)));
	if (!c->syn)
		fprintf(out,
			"  began before the capture (no SYN): seq and ack count from the first "
			"byte seen each way (1 = that byte)\n");
	lab_ladder_write(out, &l);
	free(one.v);
	free(ev);
	return 0;
}

static void header(const struct lab_trace *t, const struct show_opts *o, const char *why)
{
	size_t i, v6 = 0;
	const char *lt = pcap_datalink_val_to_name(t->linktype);

	for (i = 0; i < t->n; i++)
		v6 += t->v[i].ipver == 6;
	printf("%s: link type %s, %zu frames: %zu TCP (%zu IPv4, %zu IPv6), %zu ICMP, %zu other, "
	       "%zu malformed\n",
	       o->path, lt ?: "?", t->frames, t->n, t->n - v6, v6, t->n_icmp, t->other, t->bad);
	if (t->other) {
		printf("  other frames:");
		for (i = 0; i < LAB_FRAME_KINDS; i++)
			if (t->kinds[i])
				printf(" %s %zu", lab_frame_kind_name(i), t->kinds[i]);
		printf("\n");
	}
	if (o->filter[0])
		printf("  filter '%s': %zu frame(s) matched, %zu left out\n", o->filter,
		       t->frames - t->filtered, t->filtered);
	if (why[0])
		printf("warning: the file could not be read to its end (%s): showing the frames "
		       "before that point\n",
		       why);
}

/* what is not drawn, by kind: nothing silently folded */
static void not_shown(const struct lab_trace *t, const bool *drawn, size_t ladders)
{
	size_t i, pkts = 0;

	for (i = 0; i < t->n_conns; i++)
		pkts += drawn[i] ? 0 : t->conns[i].pkts[0] + t->conns[i].pkts[1];
	printf("\nnot drawn:");
	if (!pkts && !t->other && !t->n_icmp && !t->bad && !t->filtered)
		printf(" nothing");
	if (pkts)
		printf(" %zu TCP packet(s) of %zu other connection(s);", pkts,
		       t->n_conns - ladders);
	if (t->other)
		printf(" %zu frame(s) not TCP (counted above);", t->other);
	if (t->n_icmp)
		printf(" %zu ICMP (only in the ladder of the connection they quote);", t->n_icmp);
	if (t->bad)
		printf(" %zu malformed;", t->bad);
	if (t->filtered)
		printf(" %zu left out by the filter;", t->filtered);
	printf("\n");
	if (t->n_conns > ladders)
		printf("see another connection with --conn PORT, --conn ADDR:PORT or --conn "
		       "ADDR:PORT-ADDR:PORT (as in the summary), every one with --all\n");
}

/* tcplab show FILE [FILTER]: the connections of any capture, then their ladders */
int cmd_show(int argc, char **argv)
{
	struct show_opts o = { 0 };
	struct lab_trace t = LAB_TRACE_INIT;
	char why[512] = "";
	size_t i, rst = 0, zero = 0, retrans = 0, ladders;
	bool *drawn = NULL;
	int err = parse_args(argc, argv, &o);

	if (err)
		return cli_exit(err);
	err = lab_trace_read_filter(&t, o.path, o.filter, why, sizeof(why));
	if (err) {
		fprintf(stderr, "tcplab: show: %s\n", why);
		return LAB_EXIT_USAGE;
	}
	for (i = 0; i < t.n; i++) {
		rst += !!(t.v[i].flags & LAB_TH_RST);
		retrans += t.v[i].retrans;
		zero += !t.v[i].win && !(t.v[i].flags & (LAB_TH_RST | LAB_TH_SYN));
	}
	header(&t, &o, why);
	printf("\n");
	show_summary(stdout, &t, o.all);
	drawn = calloc(t.n_conns + 1, sizeof(*drawn));
	if (!drawn) {
		fprintf(stderr, "tcplab: show: out of memory\n");
		lab_trace_free(&t);
		return LAB_EXIT_ERROR;
	}
	ladders = choose(&t, &o, drawn);
	if (!o.selecting && !o.all && ladders < t.n_conns)
		printf("\nladders of the %zu connection(s) that ended badly%s:\n", ladders,
		       ladders == SHOW_LADDERS ? " (the first ones)" : "");
	for (i = 0; i < t.n_conns; i++)
		if (drawn[i] && draw(&t, i, stdout))
			break;
	if (o.selecting && !ladders)
		printf("\nno connection matches --conn\n");
	if (!t.n)
		printf("\n%10s   (no TCP packets)\n", "");
	not_shown(&t, drawn, ladders);
	printf("notes: %zu retransmission(s), %zu RST, %zu zero-window advertisement(s), longest "
	       "silence %.1f ms\n",
	       retrans, rst, zero,
	       (double)lab_trace_max_gap(&t, (struct in_addr){ 0 }, NULL) / 1e3);
	free(drawn);
	lab_trace_free(&t);
	return o.selecting && !ladders ? LAB_EXIT_NOT_AS_DOCUMENTED : 0;
}
