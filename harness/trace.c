// SPDX-License-Identifier: MIT
/* Reading captures back: link layer -> IPv4 -> TCP, every length checked against caplen. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <arpa/inet.h>
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace.h"

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* offset of the IPv4 header, 1 for "not IPv4", -EINVAL for too short */
static long link_offset(int linktype, const uint8_t *d, size_t len)
{
	size_t off;
	uint16_t proto;

	switch (linktype) {
	case DLT_EN10MB:
		if (len < 14)
			return -EINVAL;
		off = 12;
		proto = be16(d + off);
		while ((proto == 0x8100 || proto == 0x88a8) && off + 6 <= len) {
			off += 4;
			proto = be16(d + off);
		}
		off += 2;
		break;
	case DLT_LINUX_SLL:
		if (len < 16)
			return -EINVAL;
		proto = be16(d + 14);
		off = 16;
		break;
	case DLT_LINUX_SLL2:
		if (len < 20)
			return -EINVAL;
		proto = be16(d);
		off = 20;
		break;
	case DLT_RAW:
	case DLT_IPV4:
		return len && (d[0] >> 4) == 4 ? 0 : 1;
	case DLT_NULL:
		if (len < 4)
			return -EINVAL;
		return (d[0] == 2 || d[3] == 2) ? 4 : 1; /* AF_INET in either byte order */
	default:
		return 1;
	}
	if (off > len)
		return -EINVAL;
	return proto == 0x0800 ? (long)off : 1;
}

static void parse_options(const uint8_t *opt, size_t len, struct lab_pkt *pkt)
{
	size_t i = 0;

	while (i < len) {
		uint8_t kind = opt[i], olen;

		if (kind == 0)
			break;
		if (kind == 1) {
			i++;
			continue;
		}
		if (i + 1 >= len)
			break;
		olen = opt[i + 1];
		if (olen < 2 || i + olen > len)
			break;
		if (kind == 2 && olen == 4)
			pkt->mss = be16(opt + i + 2);
		else if (kind == 3 && olen == 3)
			pkt->wscale = (int8_t)(opt[i + 2] > 14 ? 14 : opt[i + 2]);
		else if (kind == 8 && olen == 10)
			pkt->tsval = be32(opt + i + 2);
		else if (kind == 5 && olen >= 10 && (olen - 2) % 8 == 0) {
			pkt->n_sack = (uint8_t)((olen - 2) / 8);
			pkt->sack_left = be32(opt + i + 2);
			pkt->sack_right = be32(opt + i + 6);
		}
		i += olen;
	}
}

int lab_trace_parse(int linktype, const uint8_t *d, size_t caplen, struct lab_pkt *pkt)
{
	long off = link_offset(linktype, d, caplen);
	size_t ihl, ip_total, thl, ip_end;
	const uint8_t *ip, *tcp;

	if (off == 1)
		return 1;
	if (off < 0)
		return -EINVAL;
	if ((size_t)off + 20 > caplen)
		return -EINVAL;
	ip = d + off;
	if ((ip[0] >> 4) != 4)
		return 1;
	ihl = (size_t)(ip[0] & 0x0f) * 4;
	ip_total = be16(ip + 2);
	if (ihl < 20 || ip_total < ihl || (size_t)off + ihl > caplen)
		return -EINVAL;
	if (ip[9] != IPPROTO_TCP)
		return 1;
	if (be16(ip + 6) & 0x1fff) /* a later fragment carries no TCP header */
		return 1;
	tcp = ip + ihl;
	if ((size_t)off + ihl + 20 > caplen || ip_total < ihl + 20)
		return -EINVAL;
	thl = (size_t)(tcp[12] >> 4) * 4;
	if (thl < 20 || ip_total < ihl + thl)
		return -EINVAL;
	memset(pkt, 0, sizeof(*pkt));
	pkt->wscale = -1;
	memcpy(&pkt->src, ip + 12, 4);
	memcpy(&pkt->dst, ip + 16, 4);
	pkt->ip_id = be16(ip + 4);
	pkt->sport = be16(tcp);
	pkt->dport = be16(tcp + 2);
	pkt->seq = be32(tcp + 4);
	pkt->ack = be32(tcp + 8);
	pkt->flags = tcp[13];
	pkt->win = be16(tcp + 14);
	pkt->len = (uint32_t)(ip_total - ihl - thl); /* from the IP header: snaplen may cut */
	ip_end = (size_t)off + ihl + thl;
	if (ip_end <= caplen)
		parse_options(tcp + 20, thl - 20, pkt);
	return 0;
}

int lab_trace_parse_icmp(int linktype, const uint8_t *d, size_t caplen, struct lab_icmp *icmp)
{
	long off = link_offset(linktype, d, caplen);
	const uint8_t *ip, *msg, *inner;
	size_t ihl, ip_total, inner_ihl;

	if (off == 1)
		return 1;
	if (off < 0 || (size_t)off + 20 > caplen)
		return -EINVAL;
	ip = d + off;
	ihl = (size_t)(ip[0] & 0x0f) * 4;
	ip_total = be16(ip + 2);
	if ((ip[0] >> 4) != 4 || ip[9] != IPPROTO_ICMP || (be16(ip + 6) & 0x1fff))
		return 1;
	if (ihl < 20 || ip_total < ihl + 8 || (size_t)off + ihl + 8 > caplen)
		return -EINVAL;
	msg = ip + ihl;
	memset(icmp, 0, sizeof(*icmp));
	memcpy(&icmp->src, ip + 12, 4);
	memcpy(&icmp->dst, ip + 16, 4);
	icmp->type = msg[0];
	icmp->code = msg[1];
	/* an error quotes the offending IP header and at least 8 bytes of its payload */
	if (icmp->type != LAB_ICMP_DEST_UNREACH && icmp->type != 11 && icmp->type != 12)
		return 0;
	inner = msg + 8;
	if ((size_t)(inner - d) + 20 > caplen)
		return 0;
	inner_ihl = (size_t)(inner[0] & 0x0f) * 4;
	if ((inner[0] >> 4) == 4 && inner[9] == IPPROTO_TCP && inner_ihl >= 20 &&
	    (size_t)(inner - d) + inner_ihl + 4 <= caplen) {
		icmp->sport = be16(inner + inner_ihl);
		icmp->dport = be16(inner + inner_ihl + 2);
	}
	return 0;
}

const char *lab_icmp_name(uint8_t type, uint8_t code, char *buf, size_t len)
{
	static const char *const unreach[] = {
		[0] = "net unreachable",
		[1] = "host unreachable",
		[2] = "protocol unreachable",
		[3] = "port unreachable",
		[4] = "fragmentation needed",
		[9] = "net administratively prohibited",
		[10] = "host administratively prohibited",
		[13] = "communication administratively prohibited",
	};

	if (type == LAB_ICMP_ECHO_REPLY)
		snprintf(buf, len, "echo reply");
	else if (type == LAB_ICMP_ECHO)
		snprintf(buf, len, "echo request");
	else if (type == LAB_ICMP_DEST_UNREACH && code < sizeof(unreach) / sizeof(unreach[0]) &&
		 unreach[code])
		snprintf(buf, len, "destination unreachable (%s)", unreach[code]);
	else
		snprintf(buf, len, "type %u code %u", type, code);
	return buf;
}

size_t lab_trace_count_icmp(const struct lab_trace *t, int type, int code, int64_t before_us)
{
	size_t i, n = 0;

	for (i = 0; i < t->n_icmp && t->icmp[i].t_us < before_us; i++)
		n += t->icmp[i].type == type && (code < 0 || t->icmp[i].code == code);
	return n;
}

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

/* the packets of an open capture; @name only for messages */
static int read_all(struct lab_trace *t, pcap_t *p, const char *name, char *why, size_t whylen)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	int ret;

	t->linktype = pcap_datalink(p);
	while ((ret = pcap_next_ex(p, &h, &data)) == 1) {
		struct lab_pkt pkt, *grown;
		int r = lab_trace_parse(t->linktype, data, h->caplen, &pkt);

		if (r < 0) {
			t->bad++;
			continue;
		}
		if (r > 0) {
			struct lab_icmp m;

			if (lab_trace_parse_icmp(t->linktype, data, h->caplen, &m)) {
				t->other++;
				continue;
			}
			m.t_us = (int64_t)h->ts.tv_sec * 1000000 + h->ts.tv_usec;
			if (add_icmp(t, &m)) {
				snprintf(why, whylen, "%s: out of memory", name);
				return -ENOMEM;
			}
			continue;
		}
		pkt.t_us = (int64_t)h->ts.tv_sec * 1000000 + h->ts.tv_usec;
		grown = realloc(t->v, (t->n + 1) * sizeof(*t->v));
		if (!grown) {
			snprintf(why, whylen, "%s: out of memory", name);
			return -ENOMEM;
		}
		t->v = grown;
		t->v[t->n++] = pkt;
	}
	if (ret == -1) {
		/* a truncated file still gives what came before the cut */
		snprintf(why, whylen, "%s: %s", name, pcap_geterr(p));
		t->bad++;
	}
	lab_trace_annotate(t);
	return 0;
}

int lab_trace_read(struct lab_trace *t, const char *path, char *why, size_t whylen)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline(path, errbuf);
	int err;

	if (!p) {
		/* libpcap names the file when fopen() failed, not when the contents are wrong */
		if (!strncmp(errbuf, path, strlen(path)) && errbuf[strlen(path)] == ':')
			snprintf(why, whylen, "%s", errbuf);
		else
			snprintf(why, whylen, "%s: %s", path, errbuf);
		return -EINVAL;
	}
	err = read_all(t, p, path, why, whylen);
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
	err = read_all(t, p, name, why, whylen);
	pcap_close(p); /* closes @f */
	return err;
}

/* one direction of one connection: its 4-tuple */
struct flow {
	struct in_addr src, dst;
	uint16_t sport, dport;
	uint32_t isn, next;
	bool seen;
	uint16_t win; /* the last window this direction advertised */
	uint32_t last_ack; /* ... and the last ACK number it sent */
	bool acked; /* it has sent an ACK: win and last_ack are known */
};

static struct flow *flow_of(struct flow *f, size_t *nf, size_t max, const struct lab_pkt *p)
{
	size_t i;

	for (i = 0; i < *nf; i++)
		if (f[i].src.s_addr == p->src.s_addr && f[i].sport == p->sport &&
		    f[i].dst.s_addr == p->dst.s_addr && f[i].dport == p->dport)
			return &f[i];
	if (*nf == max)
		return NULL;
	f[*nf] =
		(struct flow){ .src = p->src, .sport = p->sport, .dst = p->dst, .dport = p->dport };
	return &f[(*nf)++];
}

static struct flow *peer_of(struct flow *f, size_t nf, const struct lab_pkt *p)
{
	size_t i;

	for (i = 0; i < nf; i++)
		if (f[i].src.s_addr == p->dst.s_addr && f[i].sport == p->dport &&
		    f[i].dst.s_addr == p->src.s_addr && f[i].dport == p->sport)
			return &f[i];
	return NULL;
}

/*
 * The kind of segment @p is (LAB_AN_*, trace.h), from its direction @f before it and the other
 * direction @peer (NULL: not seen yet), as Wireshark's tcp_analyze_sequence_number() words it
 */
static unsigned int classify(const struct lab_pkt *p, const struct flow *f, const struct flow *peer)
{
	bool plain = !(p->flags & (LAB_TH_SYN | LAB_TH_FIN | LAB_TH_RST));
	bool same = f->acked && (p->flags & LAB_TH_ACK) && p->seq == f->next &&
		    p->ack == f->last_ack && !p->len;
	bool peer_closed = peer && peer->acked && !peer->win;
	unsigned int an = 0;

	if (plain && !p->win)
		an |= LAB_AN_ZERO_WINDOW;
	if (plain && peer_closed && (p->keepalive || (p->len == 1 && p->seq == f->next)))
		an |= LAB_AN_WINDOW_PROBE;
	if (plain && same && p->win && p->win != f->win)
		an |= LAB_AN_WINDOW_UPDATE;
	if (plain && same && p->win && p->win == f->win)
		an |= LAB_AN_DUP_ACK;
	if (p->n_sack)
		an |= (int32_t)(p->sack_left - p->ack) > 0 ? LAB_AN_SACK : LAB_AN_DSACK;
	return an;
}

void lab_trace_annotate(struct lab_trace *t)
{
	struct flow flows[256];
	size_t nf = 0, i;

	for (i = 0; i < t->n; i++) {
		struct lab_pkt *p = &t->v[i];
		struct flow *f = flow_of(flows, &nf, 256, p), *peer;
		uint32_t span = p->len + !!(p->flags & LAB_TH_SYN) + !!(p->flags & LAB_TH_FIN);
		uint32_t data_end;

		if (!f)
			continue;
		/* a SYN with another initial sequence number: a new connection on the same ports */
		if (f->seen && (p->flags & LAB_TH_SYN) && p->seq != f->isn)
			f->seen = false;
		if (!f->seen) {
			f->isn = p->seq;
			f->next = p->seq;
			f->seen = true;
		}
		p->rseq = p->seq - f->isn;
		peer = peer_of(flows, nf, p);
		p->rack = (p->flags & LAB_TH_ACK) && peer && peer->seen ? p->ack - peer->isn :
									  p->ack;
		p->keepalive = p->flags == LAB_TH_ACK && p->len <= 1 && p->seq + 1 == f->next;
		p->analysis = classify(p, f, peer);
		if (p->n_sack && peer && peer->seen) {
			p->sack_left -= peer->isn;
			p->sack_right -= peer->isn;
		}
		if ((p->flags & (LAB_TH_ACK | LAB_TH_SYN)) ==
		    LAB_TH_ACK) { /* a SYN's is unscaled */
			f->win = p->win;
			f->last_ack = p->ack;
			f->acked = true;
		}
		/* new data even where the capture missed the bytes before it (as tshark counts) */
		data_end = p->seq + !!(p->flags & LAB_TH_SYN) + p->len;
		if (p->len && (int32_t)(data_end - f->next) > 0)
			p->fresh = data_end - f->next; /* a hole before it counts: it was sent */
		if (span && (int32_t)(p->seq + span - f->next) <= 0 && !(p->flags & LAB_TH_RST) &&
		    !p->keepalive)
			p->retrans = true;
		if ((int32_t)(p->seq + span - f->next) > 0)
			f->next = p->seq + span;
	}
}

bool lab_trace_same_packet(const struct lab_pkt *a, const struct lab_pkt *b)
{
	/* TIME_WAIT's ACKs share IP id 0, seq and ack: the timestamp tells them apart */
	return a->ip_id == b->ip_id && a->seq == b->seq && a->ack == b->ack &&
	       a->flags == b->flags && a->len == b->len && a->sport == b->sport &&
	       a->dport == b->dport && a->tsval == b->tsval;
}

void lab_trace_mark_lost(struct lab_trace *sent, const struct lab_trace *received,
			 struct in_addr src)
{
	size_t i, j = 0, k;

	for (i = 0; i < sent->n; i++) {
		struct lab_pkt *p = &sent->v[i];

		if (p->src.s_addr != src.s_addr)
			continue;
		for (k = j; k < received->n && !lab_trace_same_packet(p, &received->v[k]); k++)
			;
		if (k == received->n) {
			p->lost = true;
			continue;
		}
		j = k + 1; /* order is kept on a wire without reordering */
	}
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

const char *lab_pkt_analysis_str(const struct lab_pkt *p, char *buf, size_t len)
{
	static const struct {
		unsigned int bit;
		const char *name;
	} names[] = { { LAB_AN_ZERO_WINDOW, "zero window" },
		      { LAB_AN_WINDOW_PROBE, "window probe" },
		      { LAB_AN_WINDOW_UPDATE, "window update" },
		      { LAB_AN_DUP_ACK, "dup ACK" } };
	size_t i, o = 0;

	buf[0] = '\0';
	for (i = 0; i < sizeof(names) / sizeof(names[0]) && o < len; i++)
		if (p->analysis & names[i].bit)
			o += (size_t)snprintf(buf + o, len - o, "%s%s", o ? ", " : "",
					      names[i].name);
	if ((p->analysis & (LAB_AN_SACK | LAB_AN_DSACK)) && o < len)
		snprintf(buf + o, len - o, "%s%s %u-%u%s", o ? ", " : "",
			 p->analysis & LAB_AN_SACK ? "SACK" : "DSACK", p->sack_left, p->sack_right,
			 p->n_sack > 1 ? " +" : "");
	return buf;
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

void lab_tcp_flags_str(uint8_t flags, char *buf, size_t len)
{
	static const struct {
		uint8_t bit;
		char c;
	} names[] = { { LAB_TH_SYN, 'S' }, { LAB_TH_FIN, 'F' }, { LAB_TH_RST, 'R' },
		      { LAB_TH_PSH, 'P' }, { LAB_TH_URG, 'U' }, { LAB_TH_ECE, 'E' },
		      { LAB_TH_CWR, 'W' }, { LAB_TH_ACK, '.' } };
	size_t i, o = 0;

	for (i = 0; i < sizeof(names) / sizeof(names[0]) && o + 1 < len; i++)
		if (flags & names[i].bit)
			buf[o++] = names[i].c;
	if (!o && len > 1)
		buf[o++] = 'x'; /* no flag at all: a null scan, worth seeing */
	buf[o] = '\0';
}

void lab_trace_free(struct lab_trace *t)
{
	free(t->v);
	free(t->icmp);
	t->v = NULL;
	t->icmp = NULL;
	t->n = 0;
	t->n_icmp = 0;
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
