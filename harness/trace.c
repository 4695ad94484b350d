// SPDX-License-Identifier: MIT
/*
 * Reading a capture into a lab_trace: every frame decoded (frame.c) and kept as a TCP packet, an
 * ICMP message or a count by its kind, then annotated (annotate.c); and freeing it again.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace.h"

/* an ICMP message after the @t->n_icmp already there (-ENOMEM) */
static int add_icmp(struct lab_trace *t, const struct lab_icmp *m)
{
	struct lab_icmp *grown = realloc(t->icmp, (t->n_icmp + 1) * sizeof(*t->icmp));

	if (!grown)
		return -ENOMEM;
	t->icmp = grown;
	t->icmp[t->n_icmp++] = *m;
	return 0;
}

/* @pkt after the @t->n packets already there, room grown by doubling (-ENOMEM) */
static int add_pkt(struct lab_trace *t, const struct lab_pkt *pkt)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 64;
		struct lab_pkt *grown = realloc(t->v, cap * sizeof(*t->v));

		if (!grown)
			return -ENOMEM;
		t->v = grown;
		t->cap = cap;
	}
	t->v[t->n++] = *pkt;
	return 0;
}

/* one frame: a TCP packet, an ICMP message, or counted by its kind */
static int add_frame(struct lab_trace *t, const struct pcap_pkthdr *h, const u_char *data)
{
	int64_t t_us = (int64_t)h->ts.tv_sec * 1000000 + h->ts.tv_usec;
	struct lab_pkt pkt;
	struct lab_icmp m;
	int r = lab_trace_parse(t->linktype, data, h->caplen, &pkt);

	if (r < 0) {
		t->bad++;
		return 0;
	}
	if (!r) {
		pkt.t_us = t_us;
		pkt.wirelen = h->len;
		return add_pkt(t, &pkt);
	}
	if (!lab_trace_parse_icmp(t->linktype, data, h->caplen, &m)) {
		m.t_us = t_us;
		return add_icmp(t, &m);
	}
	t->other++;
	t->kinds[lab_trace_frame_kind(t->linktype, data, h->caplen)]++;
	return 0;
}

/* the packets of an open capture (those @prog matches, if not NULL); @name only for messages */
static int read_all(struct lab_trace *t, pcap_t *p, const struct bpf_program *prog,
		    const char *name, char *why, size_t whylen)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	int ret;

	t->linktype = pcap_datalink(p);
	while ((ret = pcap_next_ex(p, &h, &data)) == 1) {
		if (!t->frames++)
			t->first_us = (int64_t)h->ts.tv_sec * 1000000 + h->ts.tv_usec;
		if (prog && !pcap_offline_filter(prog, h, data)) {
			t->filtered++;
			continue;
		}
		if (add_frame(t, h, data)) {
			snprintf(why, whylen, "%s: out of memory", name);
			return -ENOMEM;
		}
	}
	if (ret == -1) {
		/* a truncated file still gives what came before the cut */
		snprintf(why, whylen, "%s: %s", name, pcap_geterr(p));
		t->bad++;
	}
	if (lab_trace_annotate(t)) {
		snprintf(why, whylen, "%s: out of memory", name);
		return -ENOMEM;
	}
	return 0;
}

int lab_trace_read(struct lab_trace *t, const char *path, char *why, size_t whylen)
{
	return lab_trace_read_filter(t, path, NULL, why, whylen);
}

int lab_trace_read_filter(struct lab_trace *t, const char *path, const char *filter, char *why,
			  size_t whylen)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline(path, errbuf);
	struct bpf_program prog = { 0 };
	bool filtering = filter && filter[0];
	int err;

	if (!p) {
		/* libpcap names the file when fopen() failed, not when the contents are wrong */
		if (!strncmp(errbuf, path, strlen(path)) && errbuf[strlen(path)] == ':')
			snprintf(why, whylen, "%s", errbuf);
		else
			snprintf(why, whylen, "%s: %s", path, errbuf);
		return -EINVAL;
	}
	/* compiled for this file's link type: "vlan", "ip6" ... mean what they mean there */
	if (filtering && pcap_compile(p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN)) {
		snprintf(why, whylen, "filter '%s': %s", filter, pcap_geterr(p));
		pcap_close(p);
		return -EINVAL;
	}
	err = read_all(t, p, filtering ? &prog : NULL, path, why, whylen);
	if (filtering)
		pcap_freecode(&prog);
	pcap_close(p);
	return err;
}

int lab_trace_read_fp(struct lab_trace *t, FILE *f, const char *name, char *why, size_t whylen)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_fopen_offline(f, errbuf);
	int err;

	if (!p) {
		snprintf(why, whylen, "%s: %s", name, errbuf);
		return -EINVAL;
	}
	err = read_all(t, p, NULL, name, why, whylen);
	pcap_close(p); /* closes @f */
	return err;
}

void lab_trace_free(struct lab_trace *t)
{
	free(t->v);
	free(t->icmp);
	free(t->conns);
	t->v = NULL;
	t->icmp = NULL;
	t->conns = NULL;
	t->n = 0;
	t->n_icmp = 0;
	t->n_conns = 0;
	t->cap = 0;
}
