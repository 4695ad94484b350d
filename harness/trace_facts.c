// SPDX-License-Identifier: MIT
/*
 * What a read trace says: packets counted by flags, retransmission and analysis kind, ICMP
 * messages by type, the longest silence, and the facts a re-run must reproduce.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>

#include "trace.h"

size_t lab_trace_count_icmp(const struct lab_trace *t, int type, int code, int64_t before_us)
{
	size_t i, n = 0;

	for (i = 0; i < t->n_icmp && t->icmp[i].t_us < before_us; i++)
		n += t->icmp[i].type == type && (code < 0 || t->icmp[i].code == code);
	return n;
}

size_t lab_trace_count(const struct lab_trace *t, struct in_addr src, uint8_t flags, bool data)
{
	return lab_trace_count_before(t, src, flags, data, INT64_MAX);
}

size_t lab_trace_count_before(const struct lab_trace *t, struct in_addr src, uint8_t flags,
			      bool data, int64_t before_us)
{
	size_t i, n = 0;

	for (i = 0; i < t->n && t->v[i].t_us < before_us; i++) {
		const struct lab_pkt *p = &t->v[i];

		n += (!src.s_addr || p->src.s_addr == src.s_addr) && (p->flags & flags) == flags &&
		     (!data || p->len > 0);
	}
	return n;
}

size_t lab_trace_count_retrans(const struct lab_trace *t, struct in_addr src)
{
	size_t i, n = 0;

	for (i = 0; i < t->n; i++)
		n += t->v[i].retrans && (!src.s_addr || t->v[i].src.s_addr == src.s_addr);
	return n;
}

size_t lab_trace_count_analysis(const struct lab_trace *t, struct in_addr src,
				unsigned int analysis, int64_t before_us)
{
	size_t i, n = 0;

	for (i = 0; i < t->n && t->v[i].t_us < before_us; i++)
		n += (t->v[i].analysis & analysis) == analysis &&
		     (!src.s_addr || t->v[i].src.s_addr == src.s_addr);
	return n;
}

int64_t lab_trace_max_gap(const struct lab_trace *t, struct in_addr src, size_t *before)
{
	int64_t gap = 0, prev = -1;
	size_t i;

	for (i = 0; i < t->n; i++) {
		if (src.s_addr && t->v[i].src.s_addr != src.s_addr)
			continue;
		if (prev >= 0 && t->v[i].t_us - prev > gap) {
			gap = t->v[i].t_us - prev;
			if (before)
				*before = i;
		}
		prev = t->v[i].t_us;
	}
	return gap;
}

/* one line per (sender, receiver, type, code), in the order each first appeared */
static void icmp_facts(const struct lab_trace *t, int64_t until_us, const char *indent, FILE *out)
{
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];
	size_t i, j, n;

	for (i = 0; i < t->n_icmp && t->icmp[i].t_us <= until_us; i++) {
		const struct lab_icmp *m = &t->icmp[i];

		for (j = 0; j < i; j++) /* counted with its first */
			if (t->icmp[j].src.s_addr == m->src.s_addr &&
			    t->icmp[j].dst.s_addr == m->dst.s_addr && t->icmp[j].type == m->type &&
			    t->icmp[j].code == m->code)
				break;
		if (j < i)
			continue;
		for (n = 0, j = i; j < t->n_icmp && t->icmp[j].t_us <= until_us; j++)
			n += t->icmp[j].src.s_addr == m->src.s_addr &&
			     t->icmp[j].dst.s_addr == m->dst.s_addr && t->icmp[j].type == m->type &&
			     t->icmp[j].code == m->code;
		inet_ntop(AF_INET, &m->src, a, sizeof(a));
		inet_ntop(AF_INET, &m->dst, b, sizeof(b));
		fprintf(out, "%s%s -> %s: ICMP type %u code %u: %zu\n", indent, a, b, m->type,
			m->code, n);
	}
}

/*
 * Flow control and loss recovery seen from @src, when there was any: whether it advertised a
 * zero window, sent window probes, SACKed data past a hole (how many of each depends on timing
 * and on when the story ends: only whether). Window updates are left out: a receiver whose
 * buffer grows mid-transfer sends one or not, by timing.
 */
static void flow_control_facts(const struct lab_trace *t, int64_t until_us, struct in_addr src,
			       const char *indent, const char *a, const char *b, FILE *out)
{
	bool probes = lab_trace_count_analysis(t, src, LAB_AN_WINDOW_PROBE, until_us + 1);
	bool zero = lab_trace_count_analysis(t, src, LAB_AN_ZERO_WINDOW, until_us + 1);
	bool sack = lab_trace_count_analysis(t, src, LAB_AN_SACK, until_us + 1);

	if (!probes && !zero && !sack)
		return;
	fprintf(out, "%s%s -> %s: zero window %s window probe %s SACK %s\n", indent, a, b,
		zero ? "yes" : "no", probes ? "yes" : "no", sack ? "yes" : "no");
}

void lab_trace_facts(const struct lab_trace *t, int64_t until_us, const char *indent, FILE *out)
{
	struct in_addr src[2] = { { 0 } }, dst[2] = { { 0 } };
	size_t syn[2] = { 0 }, fin[2] = { 0 }, rst[2] = { 0 }, i, d, nsrc = 0;
	uint64_t bytes[2] = { 0 };
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];

	for (i = 0; i < t->n && t->v[i].t_us <= until_us; i++) {
		const struct lab_pkt *p = &t->v[i];

		for (d = 0; d < nsrc && src[d].s_addr != p->src.s_addr; d++)
			;
		if (d == nsrc) {
			if (nsrc == 2)
				continue; /* facts of one conversation: the first two addresses */
			dst[nsrc] = p->dst;
			src[nsrc++] = p->src;
		}
		syn[d] += !!(p->flags & LAB_TH_SYN);
		fin[d] += !!(p->flags & LAB_TH_FIN);
		rst[d] += !!(p->flags & LAB_TH_RST);
		bytes[d] += p->fresh;
	}
	for (d = 0; d < nsrc; d++) {
		inet_ntop(AF_INET, &src[d], a, sizeof(a));
		inet_ntop(AF_INET, &dst[d], b, sizeof(b));
		fprintf(out, "%s%s -> %s: SYN %zu FIN %zu RST %zu payload %" PRIu64 " bytes\n",
			indent, a, b, syn[d], fin[d], rst[d], bytes[d]);
	}
	for (d = 0; d < nsrc; d++) {
		inet_ntop(AF_INET, &src[d], a, sizeof(a));
		inet_ntop(AF_INET, &dst[d], b, sizeof(b));
		flow_control_facts(t, until_us, src[d], indent, a, b, out);
	}
	icmp_facts(t, until_us, indent, out);
}
