/* SPDX-License-Identifier: MIT */
#ifndef LAB_IMPAIR_H
#define LAB_IMPAIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "trace.h"

/*
 * What the wire does to packets, as one line of text (the same for scenarios and `--impair`):
 *
 *   drop[,nth=K][,count=N]   drop the K-th packet that matches (default 1) and the N - 1 after
 *                            it (default N = 1), then pass the rest
 *   blackhole[,armed=0|1]    drop every match while armed (default: armed from the start)
 *   delay=T[,jitter=T]       hold every match for T (+ uniform 0..jitter), order kept
 *   loss=P[,seed=N]          drop each match with probability P, from a seeded generator
 *   reorder=P[,hold=T][,seed=N]  hold a match with probability P for T (default 5ms): later
 *                            packets overtake it
 *   reject=HOW[,armed=0|1]   drop every match while armed and answer it as a router or a
 *                            firewall would: HOW is icmp-net-unreachable, icmp-host-unreachable,
 *                            icmp-port-unreachable, icmp-admin-prohibited (ICMP type 3, code 0,
 *                            1, 3, 13, from the wire's address) or tcp-reset (a RST that seems
 *                            to come from the destination)
 *   duplicate=P              send a match twice with probability P (netem)
 *   corrupt=P[,seed=N]       flip one random bit of a match with probability P (netem)
 *   rate=RATE                a link of that bandwidth: each match leaves after the ones before
 *                            it, len * 8 / RATE later ("10mbit", "512kbit", "1gbit", "125kbps")
 * and, for all but drop and blackhole, limit=N: at most N packets queued (netem's limit; the
 * rest are dropped).
 *
 * When it starts (--impair only; a scenario's own impairments are steps of its story):
 *   at=MOMENT                installed at a named moment of the story (`tcplab explain NAME`
 *                            lists them; the moment's program is held there while it is)
 *   at=T                     installed T after the story starts ("2s", "150ms"); time spent
 *                            paused by --step does not count
 * Before, the wire does not have it at all; report.json and wire.log say when it was applied.
 *
 * followed by what matches (all optional):
 *   dir=c2s|s2c|both         client->server, server->client, or both (default c2s)
 *   flags=FLAGS              exactly these TCP flags among FSRPAU ("A" or "." for ACK, "SA", "FA")
 *   len=N                    exactly N bytes of TCP payload
 *   sport=P, dport=P         TCP ports
 *   role=handshake-ack|fin-ack   (drop, blackhole) a packet by its part in the conversation,
 *                            not its shape: the ACK of the SYN-ACK (the handshake's third
 *                            packet: no payload, acknowledging the server's ISN + 1), or the
 *                            packet acknowledging the other side's FIN (seq + len + 1 of that
 *                            FIN: a pure ACK, or a FIN or data that carries that ACK); nth and
 *                            count then count those. Followed in user space (NFQUEUE), which
 *                            sees the other side's SYN-ACK and FIN to know the numbers.
 *   backend=auto|nftables|nfqueue|netem   who does it (default: nftables for drop/blackhole/reject;
 *                            netem when the kernel has it, the match is a whole direction and
 *                            netem does exactly that (wire.c: lab_wire_choose()); else nfqueue)
 *
 * Times carry their unit: "50ms", "500us", "1.5ms", "2s" (a bare "50" is refused: ms or s?).
 * Rates too: bit, kbit, mbit, gbit per second, or bps, kbps, mbps (bytes), as tc writes them.
 * Probabilities carry "%": "2%", "0.5%" (a bare "0.5" is refused: half a percent or half?).
 * Each key once. Every refusal says what is valid, and the likely intended spelling.
 * Order is kept among the packets an impairment holds, not with the ones it does not select: a
 * delay on flags=PA lets a data segment without PSH overtake the delayed ones.
 */
enum lab_impair_kind {
	LAB_IMP_DROP,
	LAB_IMP_BLACKHOLE,
	LAB_IMP_DELAY,
	LAB_IMP_LOSS,
	LAB_IMP_REORDER,
	LAB_IMP_DUPLICATE,
	LAB_IMP_CORRUPT,
	LAB_IMP_RATE,
	LAB_IMP_REJECT,
	LAB_IMP_NKINDS
};

enum lab_impair_backend {
	LAB_BACKEND_AUTO,
	LAB_BACKEND_NFTABLES,
	LAB_BACKEND_NFQUEUE,
	LAB_BACKEND_NETEM,
};

#define LAB_DIR_C2S 1
#define LAB_DIR_S2C 2

/* how a reject answers: nftables' `reject with ...` */
enum lab_reject {
	LAB_REJECT_NET_UNREACH,
	LAB_REJECT_HOST_UNREACH,
	LAB_REJECT_PORT_UNREACH,
	LAB_REJECT_ADMIN_PROHIBITED,
	LAB_REJECT_TCP_RESET,
};

enum lab_role {
	LAB_ROLE_NONE,
	LAB_ROLE_HANDSHAKE_ACK,
	LAB_ROLE_FIN_ACK,
};

struct lab_match {
	unsigned int dir; /* LAB_DIR_* bits */
	int flags; /* exact FSRPAU bits, -1 any */
	long len; /* exact payload bytes, -1 any */
	int sport, dport; /* 0 any */
	enum lab_role role; /* what the packet is in its conversation (wire_queue.c) */
};

struct lab_impair {
	enum lab_impair_kind kind;
	struct lab_match m;
	enum lab_impair_backend backend;
	long nth, count; /* drop: matches nth .. nth + count - 1 */
	bool armed; /* blackhole, reject */
	enum lab_reject reject;
	long delay_us, jitter_us, hold_us;
	uint32_t ppm; /* loss, reorder, duplicate, corrupt: probability in parts per million */
	uint32_t seed;
	bool seeded; /* seed= given (seed=0 is a seed too) */
	uint64_t rate_bps; /* rate: bits per second */
	long limit; /* packets queued at most, 0 for the backend's default */
	long at_us; /* at=T: installed T into the story; -1: not by time */
	char at[32]; /* at=MOMENT: installed at that moment of the story; "": not by moment */
	char spec[128]; /* as given */
};

/* lab_impair_parse() - 0, or -EINVAL with a one-line reason in @why */
int lab_impair_parse(const char *spec, struct lab_impair *imp, char *why, size_t whylen);

/* lab_match_packet() - does @p (which went @dir) match? */
bool lab_match_packet(const struct lab_match *m, const struct lab_pkt *p, unsigned int dir);

const char *lab_backend_name(enum lab_impair_backend b);
const char *lab_impair_kind_name(enum lab_impair_kind k);
/* "icmp-host-unreachable" ...: as the spec spells it */
const char *lab_reject_name(enum lab_reject r);
/* "handshake-ack", "fin-ack" */
const char *lab_role_name(enum lab_role r);

/* lab_impair_needs_netem() - only netem does it: duplicate, corrupt, limit=, backend=netem */
bool lab_impair_needs_netem(const struct lab_impair *imp);

#endif
