/* SPDX-License-Identifier: MIT */
#ifndef LAB_TRACE_H
#define LAB_TRACE_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

/*
 * Packets read back from a capture (ours or anyone's): IPv4 or IPv6 TCP facts per packet, the
 * connection each belongs to, plus per-direction annotations (relative sequence numbers,
 * retransmissions). One frame is decoded in frame.c, a capture read in trace.c, its connections
 * split in conn.c, its packets annotated in annotate.c, counted and summed up in trace_facts.c.
 */
#define LAB_TH_FIN 0x01
#define LAB_TH_SYN 0x02
#define LAB_TH_RST 0x04
#define LAB_TH_PSH 0x08
#define LAB_TH_ACK 0x10
#define LAB_TH_URG 0x20
#define LAB_TH_ECE 0x40
#define LAB_TH_CWR 0x80

struct lab_pkt {
	int64_t t_us;
	struct in_addr src, dst; /* IPv4; 0.0.0.0 for IPv6 (see src6, dst6) */
	struct in6_addr src6, dst6; /* every packet's addresses, IPv4 as ::ffff:a.b.c.d */
	uint8_t ipver; /* 4 or 6 (0: made by hand, IPv4) */
	uint32_t wirelen; /* the frame's length on the wire */
	size_t conn; /* index in lab_trace.conns (set by lab_trace_annotate()) */
	bool from_client; /* sent by that connection's client */
	uint16_t sport, dport;
	uint8_t flags;
	uint32_t seq, ack; /* absolute */
	uint32_t rseq, rack; /* relative to each side's first sequence number */
	uint16_t win;
	uint32_t len; /* TCP payload bytes */
	uint16_t ip_id;
	uint16_t mss; /* 0: no MSS option */
	uint32_t tsval; /* the TCP timestamp option's value, 0 without one */
	int8_t wscale; /* -1: no window-scale option */
	bool retrans; /* data, SYN or FIN whose sequence space was sent before */
	/* sequence space newly reached: this payload, and any hole before it the capture missed */
	uint32_t fresh;
	bool keepalive; /* ACK only, 0 or 1 byte, seq one below the next byte: Wireshark's Keep-Alive */
	bool lost; /* seen leaving one side, never seen at the other (set by matching) */
	unsigned int analysis; /* LAB_AN_* bits: what kind of segment this is (lab_trace_annotate) */
	uint8_t n_sack; /* SACK blocks in the SACK option (0: none) */
	uint32_t sack_left, sack_right; /* the first block, absolute; relative once annotated */
};

/*
 * What a segment is, in the words of Wireshark's tcp.analysis (packet-tcp.c), judged per
 * direction from the packets before it in the same capture:
 * - ZERO_WINDOW: window 0 and none of SYN, FIN, RST (tcp.analysis.zero_window).
 * - WINDOW_PROBE: a persist-timer probe: keep-alive-shaped (0 or 1 byte at one below the next
 *   sequence number, or 1 new byte) while the last window the peer advertised was 0. Linux's
 *   probe (tcp_xmit_probe_skb() from tcp_send_probe0()) carries no byte at snd_una - 1, which
 *   Wireshark calls tcp.analysis.keep_alive; a 1-byte probe at the next sequence number is its
 *   tcp.analysis.zero_window_probe.
 * - WINDOW_UPDATE: no payload, a non-zero window that differs from this direction's last one,
 *   sequence and ACK number unchanged, none of SYN, FIN, RST (tcp.analysis.window_update).
 * - DUP_ACK: no payload, the same non-zero window, sequence and ACK number unchanged, none of
 *   SYN, FIN, RST, after an earlier ACK (tcp.analysis.duplicate_ack).
 * - SACK: its first SACK block lies above its ACK number (tcp.options.sack_le > tcp.ack): data
 *   past a hole arrived. DSACK: the first block lies below it (RFC 2883): a duplicate arrived.
 */
#define LAB_AN_ZERO_WINDOW 0x01
#define LAB_AN_WINDOW_PROBE 0x02
#define LAB_AN_WINDOW_UPDATE 0x04
#define LAB_AN_DUP_ACK 0x08
#define LAB_AN_SACK 0x10
#define LAB_AN_DSACK 0x20

/* lab_pkt_analysis_str() - "zero window", "window probe", "dup ACK, SACK 2897-4345" ... or "" */
const char *lab_pkt_analysis_str(const struct lab_pkt *p, char *buf, size_t len);

/*
 * An ICMP message (IPv4): what a router or a host said instead of a TCP answer. For an error
 * (destination unreachable ...), the ports of the TCP segment it quotes; 0 if it quotes none.
 */
struct lab_icmp {
	int64_t t_us;
	struct in_addr src, dst;
	uint8_t type, code;
	uint16_t sport, dport; /* of the quoted TCP segment (errors only) */
};

#define LAB_ICMP_ECHO_REPLY 0
#define LAB_ICMP_DEST_UNREACH 3
#define LAB_ICMP_ECHO 8

/* what a frame that is not TCP was (lab_trace.kinds): counted, never silently folded */
enum lab_frame_kind {
	LAB_FRAME_ARP,
	LAB_FRAME_UDP,
	LAB_FRAME_ICMP6,
	LAB_FRAME_IP_OTHER, /* another IP protocol, or a later IP fragment */
	LAB_FRAME_LINK_OTHER, /* neither IPv4 nor IPv6 (LLDP, STP, another link layer ...) */
	LAB_FRAME_KINDS
};

/* one end of a connection */
struct lab_endpoint {
	struct in6_addr addr; /* IPv4 as ::ffff:a.b.c.d */
	uint16_t port;
};

/* how a connection's client was told from its server */
enum lab_conn_rule {
	LAB_CONN_BY_SYN, /* the sender of the SYN (or the receiver of the SYN-ACK) */
	LAB_CONN_BY_PORT, /* the server has the lower port, below 1024 */
	LAB_CONN_BY_SHARED, /* the server's address and port are shared by more connections */
	LAB_CONN_BY_FIRST, /* the sender of the first captured packet is taken as the client */
};

/*
 * A TCP connection: its 4-tuple, until a SYN with another initial sequence number starts a new
 * one on the same ports. Index 0 of the arrays is client -> server, 1 server -> client.
 */
struct lab_conn {
	struct lab_endpoint client, server;
	uint8_t ipver;
	enum lab_conn_rule rule;
	bool syn; /* its SYN or SYN-ACK was captured (else it began before the capture) */
	size_t first, last; /* its first and last packet (indexes in lab_trace.v) */
	size_t pkts[2], fin[2], rst[2], retrans[2];
	uint64_t bytes[2]; /* frame bytes on the wire, as tshark -z conv,tcp counts them */
	uint64_t data[2]; /* payload: new sequence space, each byte once */
	bool synack; /* the server answered the SYN */
	bool closed_fin[2], closed_rst[2]; /* a FIN, an RST after the last SYN: how it ended */
};

struct lab_trace {
	struct lab_pkt *v;
	size_t n;
	struct lab_icmp *icmp; /* ICMP messages, in capture order */
	size_t n_icmp;
	size_t other; /* frames that were neither TCP nor ICMP (ARP, UDP ...) */
	size_t kinds[LAB_FRAME_KINDS]; /* those, by kind */
	size_t bad; /* frames too short or malformed to parse (a file's cut-off last one too) */
	size_t filtered; /* frames a capture filter left out (lab_trace_read_filter()) */
	size_t frames; /* every frame read */
	int64_t first_us; /* when the first frame was captured */
	int linktype;
	struct lab_conn *conns; /* by lab_trace_annotate(), in order of their first packet */
	size_t n_conns;
	size_t cap; /* room in v */
};

#define LAB_TRACE_INIT                                                      \
	{                                                                   \
		.v = NULL, .n = 0, .icmp = NULL, .n_icmp = 0, .conns = NULL \
	}

/* lab_trace_read() - 0, or -errno with a one-line reason in @why (never crashes on bad files) */
int lab_trace_read(struct lab_trace *t, const char *path, char *why, size_t whylen);

/*
 * lab_trace_read_filter() - the same, keeping only the frames that match @filter (a pcap-filter(7)
 * expression compiled for the file's link type; NULL or "" keeps all); a bad expression is
 * -EINVAL with libpcap's reason in @why
 */
int lab_trace_read_filter(struct lab_trace *t, const char *path, const char *filter, char *why,
			  size_t whylen);

/* lab_trace_read_fp() - the same from an open stream (closed on success; the caller's on error) */
int lab_trace_read_fp(struct lab_trace *t, FILE *f, const char *name, char *why, size_t whylen);
/* lab_trace_parse() - 0 a TCP packet (IPv4 or IPv6), 1 something else, -EINVAL malformed */
int lab_trace_parse(int linktype, const uint8_t *data, size_t caplen, struct lab_pkt *pkt);
/* lab_trace_frame_kind() - what a frame that lab_trace_parse() did not take is */
enum lab_frame_kind lab_trace_frame_kind(int linktype, const uint8_t *data, size_t caplen);
/* "ARP", "UDP" ... */
const char *lab_frame_kind_name(enum lab_frame_kind kind);

/* lab_trace_parse_icmp() - 0 an ICMP message, 1 something else, -EINVAL malformed */
int lab_trace_parse_icmp(int linktype, const uint8_t *data, size_t caplen, struct lab_icmp *icmp);
/* "destination unreachable (host unreachable)", "echo request" ...: as tcpdump words it */
const char *lab_icmp_name(uint8_t type, uint8_t code, char *buf, size_t len);
/* ICMP messages in @t of @type (and @code, -1 any) captured before @before_us */
size_t lab_trace_count_icmp(const struct lab_trace *t, int type, int code, int64_t before_us);

/*
 * lab_trace_annotate() - connections (lab_trace.conns, each packet's conn and from_client),
 * relative sequence numbers and retransmission marks, in place: 0, or -ENOMEM (then no packet is
 * annotated)
 */
int lab_trace_annotate(struct lab_trace *t);

/*
 * lab_trace_split_conns() - the connections of @t (conn.c): each packet's conn, each
 * connection's client by its rule; the counts are lab_trace_tally_conns()'s. 0 or -ENOMEM.
 */
int lab_trace_split_conns(struct lab_trace *t);
/* lab_trace_tally_conns() - each connection's packets, bytes, FINs, RSTs, retransmissions */
void lab_trace_tally_conns(struct lab_trace *t);
/* "10.0.0.1:5000", "[::1]:5000" */
const char *lab_endpoint_str(const struct lab_endpoint *e, char *buf, size_t len);
/* "from the SYN" ...: how @c's client was chosen, in words */
const char *lab_conn_rule_str(const struct lab_conn *c, char *buf, size_t len);
/* the packet's sender: client or server of its connection */
bool lab_endpoint_is(const struct lab_endpoint *e, const struct in6_addr *addr, uint16_t port);

/*
 * lab_trace_mark_lost() - packets from @src seen in @sent but never in @received are marked lost
 * (matched on IP id, sequence, ack, flags and length, in order).
 */
void lab_trace_mark_lost(struct lab_trace *sent, const struct lab_trace *received,
			 struct in_addr src);
/* lab_trace_same_packet() - @a and @b are one packet seen at two places (the match above) */
bool lab_trace_same_packet(const struct lab_pkt *a, const struct lab_pkt *b);

/* packets from @src (0.0.0.0 = any) with every bit of @flags set, and payload if @data */
size_t lab_trace_count(const struct lab_trace *t, struct in_addr src, uint8_t flags, bool data);
/* the same, only packets captured before @before_us (CLOCK_REALTIME, like the packets) */
size_t lab_trace_count_before(const struct lab_trace *t, struct in_addr src, uint8_t flags,
			      bool data, int64_t before_us);
size_t lab_trace_count_retrans(const struct lab_trace *t, struct in_addr src);
/* packets from @src (0.0.0.0 = any) with every LAB_AN_* bit of @analysis, before @before_us */
size_t lab_trace_count_analysis(const struct lab_trace *t, struct in_addr src,
				unsigned int analysis, int64_t before_us);

/*
 * lab_trace_max_gap() - the longest time between two consecutive packets from @src (0.0.0.0 =
 * any), in microseconds; *@before gets the index of the packet that ended it (if not NULL)
 */
int64_t lab_trace_max_gap(const struct lab_trace *t, struct in_addr src, size_t *before);

/*
 * lab_trace_facts() - the packet-level facts of a capture that a re-run must reproduce, one
 * line per direction (after @indent), for packets before @until_us: SYNs, FINs and RSTs
 * (retransmitted ones included: a lost FIN shows as two) and payload bytes (each byte once:
 * data retransmitted under load is not a fact of the story); then one line per kind of ICMP
 * message (sender, receiver, type, code: how many), if there were any
 */
void lab_trace_facts(const struct lab_trace *t, int64_t until_us, const char *indent, FILE *out);
/* "S.", "F.", "R", "P." ... tcpdump's notation */
void lab_tcp_flags_str(uint8_t flags, char *buf, size_t len);

void lab_trace_free(struct lab_trace *t);

#endif
