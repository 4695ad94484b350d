// SPDX-License-Identifier: MIT
/*
 * The connections of a capture: packets grouped by 4-tuple (a hash table, no limit), a SYN with
 * another initial sequence number starting a new connection on the same ports; each connection's
 * client told from its server by the SYN, else the well-known port, else the address and port
 * that more connections share, else the first packet's sender.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "trace.h"

#define WELL_KNOWN_BELOW 1024

/* open addressing: slot values are indexes + 1 (0: empty), capacity a power of two */
struct table {
	size_t *slot;
	size_t cap, used;
};

/* what the split needs to know of a connection besides struct lab_conn */
struct handshake {
	uint32_t syn_seq; /* of the latest SYN, from last_syn_from */
	int8_t syn_from, synack_from; /* -1 not seen, 0 conns[].client (first seen), 1 .server */
	int8_t last_syn_from;
	bool ended; /* a FIN or RST seen */
};

/* every endpoint of every connection, with how many connections it is in */
struct endpoint_count {
	struct lab_endpoint ep;
	size_t conns;
};

bool lab_endpoint_is(const struct lab_endpoint *e, const struct in6_addr *addr, uint16_t port)
{
	return e->port == port && !memcmp(&e->addr, addr, sizeof(*addr));
}

static uint64_t mix(uint64_t h, const void *data, size_t len)
{
	const uint8_t *b = data;
	size_t i;

	for (i = 0; i < len; i++) /* FNV-1a */
		h = (h ^ b[i]) * 0x100000001b3ULL;
	return h;
}

static uint64_t hash_endpoint(const struct lab_endpoint *e)
{
	return mix(mix(0xcbf29ce484222325ULL, &e->addr, sizeof(e->addr)), &e->port,
		   sizeof(e->port));
}

/* the same for both directions of a connection */
static uint64_t hash_pair(const struct lab_endpoint *a, const struct lab_endpoint *b)
{
	uint64_t x = hash_endpoint(a), y = hash_endpoint(b);

	return (x ^ y) * 0x9e3779b97f4a7c15ULL + (x + y);
}

static bool same_endpoint(const struct lab_endpoint *a, const struct lab_endpoint *b)
{
	return lab_endpoint_is(a, &b->addr, b->port);
}

/* double the table when half full; @hash_of(i, ctx) rehashes entry index i */
static int table_grow(struct table *tb, uint64_t (*hash_of)(size_t, const void *), const void *ctx)
{
	size_t cap = tb->cap ? 2 * tb->cap : 1024, i, *slot;

	if (2 * (tb->used + 1) <= tb->cap)
		return 0;
	slot = calloc(cap, sizeof(*slot));
	if (!slot)
		return -ENOMEM;
	for (i = 0; i < tb->cap; i++) {
		size_t s;

		if (!tb->slot[i])
			continue;
		for (s = hash_of(tb->slot[i] - 1, ctx) & (cap - 1); slot[s];
		     s = (s + 1) & (cap - 1))
			;
		slot[s] = tb->slot[i];
	}
	free(tb->slot);
	tb->slot = slot;
	tb->cap = cap;
	return 0;
}

static uint64_t conn_hash(size_t i, const void *ctx)
{
	const struct lab_conn *c = (const struct lab_conn *)ctx + i;

	return hash_pair(&c->client, &c->server);
}

static uint64_t endpoint_hash(size_t i, const void *ctx)
{
	return hash_endpoint(&((const struct endpoint_count *)ctx)[i].ep);
}

/* the slot of the connection between @a and @b (either way), or the empty slot for it */
static size_t *conn_slot(const struct table *tb, const struct lab_conn *conns,
			 const struct lab_endpoint *a, const struct lab_endpoint *b)
{
	size_t s;

	for (s = hash_pair(a, b) & (tb->cap - 1); tb->slot[s]; s = (s + 1) & (tb->cap - 1)) {
		const struct lab_conn *c = &conns[tb->slot[s] - 1];

		if ((same_endpoint(&c->client, a) && same_endpoint(&c->server, b)) ||
		    (same_endpoint(&c->client, b) && same_endpoint(&c->server, a)))
			break;
	}
	return &tb->slot[s];
}

/* room for one more connection in both arrays */
static int grow_conns(struct lab_trace *t, struct handshake **hs, size_t *cap)
{
	struct lab_conn *c;
	struct handshake *h;
	size_t n = *cap ? 2 * *cap : 256;

	if (t->n_conns < *cap)
		return 0;
	c = realloc(t->conns, n * sizeof(*c));
	if (!c)
		return -ENOMEM;
	t->conns = c;
	h = realloc(*hs, n * sizeof(*h));
	if (!h)
		return -ENOMEM;
	*hs = h;
	*cap = n;
	return 0;
}

/* a packet made by hand (tests) has its IPv4 addresses only */
static void fill_addresses(struct lab_pkt *p)
{
	if (p->ipver)
		return;
	p->ipver = 4;
	memset(&p->src6, 0, sizeof(p->src6));
	memset(&p->dst6, 0, sizeof(p->dst6));
	p->src6.s6_addr[10] = p->src6.s6_addr[11] = 0xff;
	p->dst6.s6_addr[10] = p->dst6.s6_addr[11] = 0xff;
	memcpy(p->src6.s6_addr + 12, &p->src, 4);
	memcpy(p->dst6.s6_addr + 12, &p->dst, 4);
}

/* each packet's connection; a pure SYN not seen before on its 4-tuple begins a new one */
static int split(struct lab_trace *t, struct table *tb, struct handshake **hs)
{
	size_t i, cap = 0;

	for (i = 0; i < t->n; i++) {
		struct lab_pkt *p = &t->v[i];
		struct lab_endpoint src = { .port = p->sport }, dst = { .port = p->dport };
		bool syn = (p->flags & (LAB_TH_SYN | LAB_TH_ACK)) == LAB_TH_SYN;
		bool synack = (p->flags & (LAB_TH_SYN | LAB_TH_ACK)) == (LAB_TH_SYN | LAB_TH_ACK);
		struct handshake *h;
		size_t *slot;
		int from;

		fill_addresses(p);
		src.addr = p->src6;
		dst.addr = p->dst6;
		if (table_grow(tb, conn_hash, t->conns) || grow_conns(t, hs, &cap))
			return -ENOMEM;
		slot = conn_slot(tb, t->conns, &src, &dst);
		if (*slot) {
			h = &(*hs)[*slot - 1];
			from = !same_endpoint(&t->conns[*slot - 1].client, &src);
			/*
			 * The same SYN again is a retransmission. Another one begins a new connection
			 * once this one has ended, or never got its SYN-ACK; on a connection still
			 * open it is a SYN the server answers with a challenge ACK (RFC 5961).
			 */
			if (syn && !(h->last_syn_from == from && h->syn_seq == p->seq) &&
			    (h->ended || (h->syn_from >= 0 && h->synack_from < 0)))
				*slot = 0;
		}
		if (!*slot) {
			tb->used++;
			t->conns[t->n_conns] = (struct lab_conn){
				.client = src, .server = dst, .ipver = p->ipver, .first = i
			};
			(*hs)[t->n_conns] = (struct handshake){ .syn_from = -1,
								.synack_from = -1,
								.last_syn_from = -1 };
			*slot = ++t->n_conns;
		}
		p->conn = *slot - 1;
		h = &(*hs)[p->conn];
		from = !same_endpoint(&t->conns[p->conn].client, &src);
		t->conns[p->conn].last = i;
		if (syn && h->syn_from < 0)
			h->syn_from = (int8_t)from;
		if (syn) {
			h->last_syn_from = (int8_t)from;
			h->syn_seq = p->seq;
		}
		if (synack && h->synack_from < 0)
			h->synack_from = (int8_t)from;
		h->ended |= !!(p->flags & (LAB_TH_FIN | LAB_TH_RST));
	}
	return 0;
}

/* how many connections each endpoint is in (to find a listener by its many connections) */
static int count_endpoints(const struct lab_trace *t, struct endpoint_count **out, struct table *tb)
{
	struct endpoint_count *eps = calloc(2 * t->n_conns + 1, sizeof(*eps));
	size_t i, n = 0;

	*out = eps;
	if (!eps)
		return -ENOMEM;
	for (i = 0; i < 2 * t->n_conns; i++) {
		const struct lab_endpoint *e = i % 2 ? &t->conns[i / 2].server :
						       &t->conns[i / 2].client;
		size_t s;

		if (table_grow(tb, endpoint_hash, eps))
			return -ENOMEM;
		for (s = hash_endpoint(e) & (tb->cap - 1);
		     tb->slot[s] && !same_endpoint(&eps[tb->slot[s] - 1].ep, e);
		     s = (s + 1) & (tb->cap - 1))
			;
		if (!tb->slot[s]) {
			eps[n].ep = *e;
			tb->slot[s] = ++n;
			tb->used++;
		}
		eps[tb->slot[s] - 1].conns++;
	}
	return 0;
}

static size_t conns_of(const struct table *tb, const struct endpoint_count *eps,
		       const struct lab_endpoint *e)
{
	size_t s;

	for (s = hash_endpoint(e) & (tb->cap - 1); tb->slot[s]; s = (s + 1) & (tb->cap - 1))
		if (same_endpoint(&eps[tb->slot[s] - 1].ep, e))
			return eps[tb->slot[s] - 1].conns;
	return 0;
}

static void swap_ends(struct lab_conn *c)
{
	struct lab_endpoint e = c->client;

	c->client = c->server;
	c->server = e;
}

/* the client of @c (first seen so far), by the first rule that decides */
static void choose_client(struct lab_conn *c, const struct handshake *h, const struct table *tb,
			  const struct endpoint_count *eps)
{
	size_t a, b;

	c->syn = h->syn_from >= 0 || h->synack_from >= 0;
	if (c->syn) {
		c->rule = LAB_CONN_BY_SYN;
		if (h->syn_from >= 0 ? h->syn_from == 1 : h->synack_from == 0)
			swap_ends(c);
		return;
	}
	if (c->client.port != c->server.port &&
	    (c->client.port < WELL_KNOWN_BELOW || c->server.port < WELL_KNOWN_BELOW)) {
		c->rule = LAB_CONN_BY_PORT;
		if (c->client.port < c->server.port)
			swap_ends(c);
		return;
	}
	a = conns_of(tb, eps, &c->client);
	b = conns_of(tb, eps, &c->server);
	if (a != b) {
		c->rule = LAB_CONN_BY_SHARED;
		if (a > b)
			swap_ends(c);
		return;
	}
	c->rule = LAB_CONN_BY_FIRST;
}

int lab_trace_split_conns(struct lab_trace *t)
{
	struct table conns = { 0 }, ends = { 0 };
	struct endpoint_count *eps = NULL;
	struct handshake *hs = NULL;
	size_t i;
	int err;

	free(t->conns);
	t->conns = NULL;
	t->n_conns = 0;
	err = split(t, &conns, &hs);
	if (!err)
		err = count_endpoints(t, &eps, &ends);
	if (err)
		goto out;
	for (i = 0; i < t->n_conns; i++)
		choose_client(&t->conns[i], &hs[i], &ends, eps);
	for (i = 0; i < t->n; i++)
		t->v[i].from_client = lab_endpoint_is(&t->conns[t->v[i].conn].client, &t->v[i].src6,
						      t->v[i].sport);
out:
	if (err) {
		free(t->conns);
		t->conns = NULL;
		t->n_conns = 0;
	}
	free(conns.slot);
	free(ends.slot);
	free(eps);
	free(hs);
	return err;
}

void lab_trace_tally_conns(struct lab_trace *t)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		const struct lab_pkt *p = &t->v[i];
		struct lab_conn *c = &t->conns[p->conn];
		int d = !p->from_client;

		c->pkts[d]++;
		c->bytes[d] += p->wirelen;
		c->data[d] += p->fresh;
		c->fin[d] += !!(p->flags & LAB_TH_FIN);
		c->rst[d] += !!(p->flags & LAB_TH_RST);
		c->retrans[d] += p->retrans;
		if ((p->flags & (LAB_TH_SYN | LAB_TH_ACK)) == LAB_TH_SYN) /* again from the start */
			memset(c->closed_fin, 0, sizeof(c->closed_fin) + sizeof(c->closed_rst));
		c->closed_fin[d] |= !!(p->flags & LAB_TH_FIN);
		c->closed_rst[d] |= !!(p->flags & LAB_TH_RST);
		c->synack |= d == 1 &&
			     (p->flags & (LAB_TH_SYN | LAB_TH_ACK)) == (LAB_TH_SYN | LAB_TH_ACK);
	}
}

const char *lab_endpoint_str(const struct lab_endpoint *e, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (IN6_IS_ADDR_V4MAPPED(&e->addr)) {
		inet_ntop(AF_INET, e->addr.s6_addr + 12, a, sizeof(a));
		snprintf(buf, len, "%s:%u", a, e->port);
	} else {
		inet_ntop(AF_INET6, &e->addr, a, sizeof(a));
		snprintf(buf, len, "[%s]:%u", a, e->port);
	}
	return buf;
}

const char *lab_conn_rule_str(const struct lab_conn *c, char *buf, size_t len)
{
	switch (c->rule) {
	case LAB_CONN_BY_SYN:
		snprintf(buf, len, "from the handshake (the client sent the SYN)");
		break;
	case LAB_CONN_BY_PORT:
		snprintf(buf, len, "no SYN seen: the server has the well-known port %u",
			 c->server.port);
		break;
	case LAB_CONN_BY_SHARED:
		snprintf(buf, len,
			 "no SYN seen: the server's address and port are in more connections");
		break;
	default:
		snprintf(buf, len,
			 "no SYN seen, no well-known or shared port: the sender of the "
			 "first packet is taken as the client");
	}
	return buf;
}
