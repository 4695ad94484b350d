/* SPDX-License-Identifier: MIT */
#ifndef LAB_LADDER_H
#define LAB_LADDER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "event.h"
#include "trace.h"

/*
 * The ladder: one line per packet (time, direction, flags, seq/ack, length), interleaved with
 * the programs' socket calls and the states the harness observed, client on the left.
 * Packets are placed at their departure time: client->server from @client_side, server->client
 * from @server_side (or everything from @client_side when @server_side is NULL).
 */
struct lab_ladder {
	const struct lab_trace *client_side, *server_side;
	struct in_addr client; /* 0.0.0.0: the sender of the first SYN (or first packet) */
	const struct lab_event *events;
	size_t n_events;
	int64_t t0_us; /* 0: the earliest row */
	/*
	 * One connection of a capture (tcplab show), or NULL: its packets' direction is their
	 * from_client (loopback, both ends on one address, too) and the header names both ends.
	 */
	const struct lab_conn *conn;
};

void lab_ladder_write(FILE *out, const struct lab_ladder *l);

/* "[S.] seq 0 ack 1 win 64240 len 0 mss 1460": a packet as the ladder names it */
void lab_ladder_describe(const struct lab_pkt *p, char *buf, size_t len);

/*
 * Which part of an event a row draws. A call is drawn at its entry, so that it comes before the
 * packets it sends. When a packet arrives at its own host (or the harness does something)
 * between its entry and its return, that may be what woke it; when it blocked (1 ms or more)
 * while its host sent packets, those were timers at work. Either way it gets a second row at
 * its return, after those packets, with its value and how long it took.
 */
enum lab_ladder_part {
	LAB_LADDER_WHOLE, /* a packet, an instant, or a call drawn once at its entry */
	LAB_LADDER_ENTRY, /* a call that was woken, where it began: "recv() ..." */
	LAB_LADDER_RETURN, /* ... and where it returned: "recv() = 50 (blocked 40.1 ms)" */
};

/* one row of the ladder: a packet (at its departure) or (part of) an event, in time order */
struct lab_ladder_row {
	int64_t t_us;
	const struct lab_pkt *pkt;
	const struct lab_event *ev;
	enum lab_ladder_part part;
	bool to_server; /* a packet from the client */
	int rank; /* at the same microsecond: calls' entries, packets, then the rest */
	size_t seq; /* and then the order they were added in */
};

/* lab_ladder_rows() - the rows of @l in time order (caller frees *@rows); their count */
size_t lab_ladder_rows(const struct lab_ladder *l, struct lab_ladder_row **rows,
		       struct in_addr *client);

/*
 * lab_ladder_gap_us() - a silence between packets worth marking ("+42.1 ms"): long compared with
 * the round trip (20 x the handshake's SYN -> SYN-ACK time), and at least 5 ms
 */
int64_t lab_ladder_gap_us(const struct lab_ladder_row *rows, size_t n);

/* what lab_ladder_call_str() adds to a call's value */
enum lab_ladder_call_parts {
	LAB_CALL_TIME = 1, /* " (blocked 40.1 ms)", " (returned after 0.031 ms)" */
	LAB_CALL_DETAIL = 2, /* "  " and the event's detail */
};

/*
 * lab_ladder_call_str() - a call's row as text: "recv() ..." at its entry; "recv() = 50",
 * "recv() = -1 ECONNRESET" where it returns, with the @parts asked for
 */
void lab_ladder_call_str(const struct lab_ladder_row *r, unsigned int parts, char *buf, size_t len);

#endif
