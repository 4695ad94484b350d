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

#define ETH_IPV4 0x0800
#define ETH_IPV6 0x86dd
#define ETH_ARP 0x0806

static bool is_vlan(uint16_t proto)
{
	return proto == 0x8100 || proto == 0x88a8 || proto == 0x9100; /* 802.1Q, QinQ */
}

/* an address family of DLT_NULL / DLT_LOOP as an ethertype: BSDs number AF_INET6 24, 28 or 30 */
static uint16_t af_proto(uint32_t af)
{
	if (af == 2)
		return ETH_IPV4;
	if (af == 10 || af == 24 || af == 28 || af == 30)
		return ETH_IPV6;
	return 0;
}

/*
 * The offset of the network header and its ethertype in *@proto (0x0800, 0x86dd, 0x0806, or
 * anything else: not ours); -EINVAL when the link header is cut short. VLAN tags (802.1Q, QinQ)
 * are skipped on every link type that carries an ethertype.
 */
static long link_offset(int linktype, const uint8_t *d, size_t len, uint16_t *proto)
{
	size_t payload;

	*proto = 0;
	switch (linktype) {
	case DLT_EN10MB:
		if (len < 14)
			return -EINVAL;
		*proto = be16(d + 12);
		payload = 14;
		break;
	case DLT_LINUX_SLL:
		if (len < 16)
			return -EINVAL;
		*proto = be16(d + 14);
		payload = 16;
		break;
	case DLT_LINUX_SLL2:
		if (len < 20)
			return -EINVAL;
		*proto = be16(d);
		payload = 20;
		break;
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
		if (!len)
			return -EINVAL;
		*proto = (d[0] >> 4) == 4 ? ETH_IPV4 : (d[0] >> 4) == 6 ? ETH_IPV6 : 0;
		return 0;
	case DLT_NULL: /* the family in the capturing host's byte order */
		if (len < 4)
			return -EINVAL;
		*proto = af_proto(d[0] | d[1] << 8 | d[2] << 16 | (uint32_t)d[3] << 24) ?:
				 af_proto(be32(d));
		return 4;
	case DLT_LOOP: /* ... and in network byte order */
		if (len < 4)
			return -EINVAL;
		*proto = af_proto(be32(d));
		return 4;
	default:
		return 0;
	}
	while (is_vlan(*proto)) { /* the tag's TCI, then the ethertype it carries */
		if (payload + 4 > len)
			return -EINVAL;
		*proto = be16(d + payload + 2);
		payload += 4;
	}
	if (payload > len)
		return -EINVAL;
	return (long)payload;
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

/* the TCP header at @tcp (@room bytes captured) carrying @seg bytes in all: into @pkt */
static int parse_tcp(const uint8_t *tcp, size_t room, size_t seg, struct lab_pkt *pkt)
{
	size_t thl;

	if (room < 20 || seg < 20)
		return -EINVAL;
	thl = (size_t)(tcp[12] >> 4) * 4;
	if (thl < 20 || seg < thl)
		return -EINVAL;
	pkt->wscale = -1;
	pkt->sport = be16(tcp);
	pkt->dport = be16(tcp + 2);
	pkt->seq = be32(tcp + 4);
	pkt->ack = be32(tcp + 8);
	pkt->flags = tcp[13];
	pkt->win = be16(tcp + 14);
	pkt->len = (uint32_t)(seg - thl); /* from the IP header: snaplen may cut */
	if (thl <= room)
		parse_options(tcp + 20, thl - 20, pkt);
	return 0;
}

/* an IPv4 packet at @ip, @room bytes captured: 0 TCP, 1 not TCP, -EINVAL */
static int parse_ipv4(const uint8_t *ip, size_t room, struct lab_pkt *pkt)
{
	size_t ihl, ip_total;

	if (room < 20)
		return -EINVAL;
	if ((ip[0] >> 4) != 4)
		return 1;
	ihl = (size_t)(ip[0] & 0x0f) * 4;
	ip_total = be16(ip + 2);
	if (ihl < 20 || ip_total < ihl || ihl > room)
		return -EINVAL;
	if (ip[9] != IPPROTO_TCP)
		return 1;
	if (be16(ip + 6) & 0x1fff) /* a later fragment carries no TCP header */
		return 1;
	memset(pkt, 0, sizeof(*pkt));
	pkt->ipver = 4;
	memcpy(&pkt->src, ip + 12, 4);
	memcpy(&pkt->dst, ip + 16, 4);
	pkt->src6.s6_addr[10] = pkt->src6.s6_addr[11] = 0xff;
	pkt->dst6.s6_addr[10] = pkt->dst6.s6_addr[11] = 0xff;
	memcpy(pkt->src6.s6_addr + 12, ip + 12, 4);
	memcpy(pkt->dst6.s6_addr + 12, ip + 16, 4);
	pkt->ip_id = be16(ip + 4);
	return parse_tcp(ip + ihl, room - ihl, ip_total - ihl, pkt);
}

/*
 * The upper-layer protocol of an IPv6 packet at @ip (@room bytes captured) after its extension
 * headers, its offset in *@off; -1 for a later fragment, -EINVAL when cut short.
 */
static int ipv6_upper(const uint8_t *ip, size_t room, size_t *off)
{
	uint8_t nh = ip[6];
	size_t o = 40;

	for (;;) {
		const uint8_t *ext = ip + o;

		if (nh != 0 && nh != 43 && nh != 44 && nh != 51 && nh != 60)
			break; /* hop-by-hop, routing, fragment, AH, destination options */
		if (o + 8 > room)
			return -EINVAL;
		if (nh == 44 && (be16(ext + 2) & 0xfff8))
			return -1;
		o += nh == 44 ? 8 : nh == 51 ? ((size_t)ext[1] + 2) * 4 : ((size_t)ext[1] + 1) * 8;
		nh = ext[0];
	}
	*off = o;
	return nh;
}

/* an IPv6 packet: 0 TCP, 1 not TCP, -EINVAL */
static int parse_ipv6(const uint8_t *ip, size_t room, struct lab_pkt *pkt)
{
	size_t payload, off;
	int nh;

	if (room < 40)
		return -EINVAL;
	if ((ip[0] >> 4) != 6)
		return 1;
	payload = be16(ip + 4);
	if (!payload) /* a jumbogram (or a GSO packet): as long as what was captured */
		payload = room - 40;
	nh = ipv6_upper(ip, room, &off);
	if (nh == -EINVAL)
		return -EINVAL;
	if (nh != IPPROTO_TCP)
		return 1;
	if (40 + payload < off)
		return -EINVAL;
	memset(pkt, 0, sizeof(*pkt));
	pkt->ipver = 6;
	memcpy(&pkt->src6, ip + 8, 16);
	memcpy(&pkt->dst6, ip + 24, 16);
	return parse_tcp(ip + off, room - off, 40 + payload - off, pkt);
}

int lab_trace_parse(int linktype, const uint8_t *d, size_t caplen, struct lab_pkt *pkt)
{
	uint16_t proto;
	long off = link_offset(linktype, d, caplen, &proto);

	if (off < 0)
		return -EINVAL;
	if (proto == ETH_IPV4)
		return parse_ipv4(d + off, caplen - (size_t)off, pkt);
	if (proto == ETH_IPV6)
		return parse_ipv6(d + off, caplen - (size_t)off, pkt);
	return 1;
}

enum lab_frame_kind lab_trace_frame_kind(int linktype, const uint8_t *d, size_t caplen)
{
	uint16_t proto;
	long off = link_offset(linktype, d, caplen, &proto);
	const uint8_t *ip = d + (off < 0 ? 0 : off);
	size_t room = off < 0 ? 0 : caplen - (size_t)off, upper;
	int nh;

	if (proto == ETH_ARP)
		return LAB_FRAME_ARP;
	if (proto == ETH_IPV4 && room >= 20)
		return ip[9] == IPPROTO_UDP ? LAB_FRAME_UDP : LAB_FRAME_IP_OTHER;
	if (proto == ETH_IPV6 && room >= 40) {
		nh = ipv6_upper(ip, room, &upper);
		return nh == IPPROTO_UDP    ? LAB_FRAME_UDP :
		       nh == IPPROTO_ICMPV6 ? LAB_FRAME_ICMP6 :
					      LAB_FRAME_IP_OTHER;
	}
	if (proto == ETH_IPV4 || proto == ETH_IPV6)
		return LAB_FRAME_IP_OTHER;
	return LAB_FRAME_LINK_OTHER;
}

const char *lab_frame_kind_name(enum lab_frame_kind kind)
{
	static const char *const names[LAB_FRAME_KINDS] = {
		[LAB_FRAME_ARP] = "ARP",	   [LAB_FRAME_UDP] = "UDP",
		[LAB_FRAME_ICMP6] = "ICMPv6",	   [LAB_FRAME_IP_OTHER] = "other IP",
		[LAB_FRAME_LINK_OTHER] = "not IP",
	};

	return kind < LAB_FRAME_KINDS ? names[kind] : "?";
}

int lab_trace_parse_icmp(int linktype, const uint8_t *d, size_t caplen, struct lab_icmp *icmp)
{
	uint16_t proto;
	long off = link_offset(linktype, d, caplen, &proto);
	const uint8_t *ip, *msg, *inner;
	size_t ihl, ip_total, inner_ihl;

	if (off >= 0 && proto != ETH_IPV4)
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

/*
 * One direction of one connection (lab_trace_split_conns() found the connections): the
 * sequence space it has used, relative numbers counted from its base.
 */
struct flow {
	uint32_t isn, next;
	uint32_t base; /* relative 0: the SYN's sequence number, or one below the first byte seen */
	bool seen, based;
	uint16_t win; /* the last window this direction advertised */
	uint32_t last_ack; /* ... and the last ACK number it sent */
	bool acked; /* it has sent an ACK: win and last_ack are known */
	bool probed; /* its last segment was a keep-alive or window probe (the answer is no dup ACK) */
};

/* relative numbers from the SYN, or (began before the capture) 1 = the first byte seen */
static void set_base(struct flow *f, uint32_t base)
{
	f->base = base;
	f->based = true;
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
	/* the answer to a probe is Wireshark's "ACK to a keep-alive" / "window probe ACK" */
	if (plain && same && p->win && p->win == f->win && !(peer && peer->probed))
		an |= LAB_AN_DUP_ACK;
	if (p->n_sack)
		an |= (int32_t)(p->sack_left - p->ack) > 0 ? LAB_AN_SACK : LAB_AN_DSACK;
	return an;
}

int lab_trace_annotate(struct lab_trace *t)
{
	struct flow *flows;
	size_t i;

	if (lab_trace_split_conns(t))
		return -ENOMEM;
	flows = calloc(t->n_conns ? 2 * t->n_conns : 1, sizeof(*flows));
	if (!flows)
		return -ENOMEM;
	for (i = 0; i < t->n; i++) {
		struct lab_pkt *p = &t->v[i];
		struct flow *f = &flows[2 * p->conn + !p->from_client];
		struct flow *peer = &flows[2 * p->conn + p->from_client];
		uint32_t span = p->len + !!(p->flags & LAB_TH_SYN) + !!(p->flags & LAB_TH_FIN);
		uint32_t data_end;

		/* a SYN with another initial sequence number: a new connection on the same ports */
		if (f->seen && (p->flags & LAB_TH_SYN) && p->seq != f->isn)
			f->seen = false;
		if (!f->seen) {
			f->isn = p->seq;
			f->next = p->seq;
			f->seen = true;
			if (p->flags & LAB_TH_SYN)
				set_base(f, p->seq);
			else if (!f->based)
				set_base(f, p->seq - 1);
		}
		/* the peer not seen yet: its next byte is the one this packet acknowledges */
		if ((p->flags & LAB_TH_ACK) && !peer->based)
			set_base(peer, p->ack - 1);
		p->rseq = p->seq - f->base;
		p->rack = p->flags & LAB_TH_ACK ? p->ack - peer->base : p->ack;
		p->keepalive = p->flags == LAB_TH_ACK && p->len <= 1 && p->seq + 1 == f->next;
		p->analysis = classify(p, f, peer);
		f->probed = p->keepalive || (p->analysis & LAB_AN_WINDOW_PROBE);
		peer->probed = false; /* answered (or not: then this is no answer to it) */
		if (p->n_sack && peer->based) {
			p->sack_left -= peer->base;
			p->sack_right -= peer->base;
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
	free(flows);
	lab_trace_tally_conns(t);
	return 0;
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
	free(t->conns);
	t->v = NULL;
	t->icmp = NULL;
	t->conns = NULL;
	t->n = 0;
	t->n_icmp = 0;
	t->n_conns = 0;
	t->cap = 0;
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
