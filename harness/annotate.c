// SPDX-License-Identifier: MIT
/*
 * What each packet of a read trace is, per direction of its connection: relative sequence
 * numbers, retransmissions, fresh bytes, keep-alives and Wireshark's tcp.analysis kinds
 * (LAB_AN_*), in words too; and one packet matched across the two ends' captures (lost ones).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "trace.h"

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
