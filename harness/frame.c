// SPDX-License-Identifier: MIT
/*
 * Decoding one captured frame: the link layer (Ethernet and VLAN tags, cooked v1/v2, raw,
 * loopback) -> IPv4 or IPv6 -> TCP and its options, or an ICMP message; what a frame that is
 * neither was; and the names of these things as tcpdump says them. Every length is checked
 * against caplen.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
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
