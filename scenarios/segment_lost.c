// SPDX-License-Identifier: MIT
/* segment-lost: one data segment lost mid-stream (the prose is in the definition). */
#include "story.h"

enum lost {
	NONE,
	MIDDLE, /* the nth full-sized data segment: later ones are SACKed */
	TAIL, /* the last data segment: nothing after it to SACK */
};

struct variant {
	struct lab_variant v;
	enum lost drop; /* which of the client's data segments the wire drops once */
};

static const struct variant variants[] = {
	/* one segment lost: out-of-order queue, SACK, a retransmission fills the hole */
	{ { "default",
	    "one data segment lost on the wire: the receiver queues the rest out of order and "
	    "SACKs it, one retransmission fills the hole, the reader gets every byte in order",
	    "The handshake [S] [S.] [.]; the client's data [.] and [P.], one of them in the "
	    "client's capture only (marked lost); the server's ACKs [.] of the data before the "
	    "hole, repeated with SACK blocks for what came after it (dup ACKs); the lost "
	    "segment again (marked retransmission), then an ACK [.] of everything; the "
	    "server's reply [P.], its [F.], the client's [F.] and the last [.]." },
	  MIDDLE },
	/* the last segment lost: no SACK can point at it; a tail loss probe re-sends it */
	{ { "tail",
	    "the last data segment lost: nothing after it to SACK; the tail loss probe re-sends "
	    "it, no fast recovery",
	    "The handshake [S] [S.] [.]; the client's data [.] and [P.], the last [P.] in the "
	    "client's capture only (marked lost); the server's ACKs [.] up to the hole; the "
	    "same [P.] again (marked retransmission: the loss probe) and its ACK [.]; the "
	    "server's reply [P.], its [F.], the client's [F.] and the last [.]." },
	  TAIL },
	/* no loss: the same transfer, in order, without a retransmission */
	{ { "no-loss", "nothing lost: the same transfer in order, no SACK, no retransmission",
	    "The handshake [S] [S.] [.]; the client's data [.] and [P.] with the server's ACKs "
	    "[.]; the server's reply [P.], its [F.], the client's [F.] and the last [.]." },
	  NONE },
};

struct params {
	long bytes, nth;
};

static const struct lab_param params[] = {
	LAB_PARAM(struct params, bytes, 65536, 16384, 1048576, "bytes",
		  "the client's message (one send(), with a 4-byte length prefix; tail: at most "
		  "65536)"),
	LAB_PARAM(struct params, nth, 3, 1, 8, "",
		  "which full-sized data segment (1448 bytes) the wire drops (default variant)"),
};

/*
 * The dropped segment must have later ones to be SACKed: at least 3 more full segments. The
 * tail's length is known only when the message fits the send buffer at once (tcp_wmem's
 * initial buffer, expanded at the handshake): then the MSS alone cuts the segments; a bigger
 * one is copied in pieces as ACKs free room, and some segments come out short.
 */
static bool precondition(const struct lab_run *run, const struct variant *v, const struct params *p,
			 char *why, size_t len)
{
	long segments = (p->bytes + 4) / 1448;

	if (v->drop == TAIL && p->bytes > 65536) {
		snprintf(why, len,
			 "bytes=%ld: the tail variant needs a message that fits the send buffer at "
			 "once (bytes <= 65536), or the last segment's length is not known",
			 p->bytes);
		return false;
	}
	if (v->drop != MIDDLE || p->nth + 3 <= segments)
		return true;
	snprintf(why, len,
		 "bytes=%ld makes %ld full segments: dropping segment %ld leaves fewer than 3 "
		 "after it to be SACKed (use more bytes or a smaller nth)",
		 p->bytes, segments, p->nth);
	return false;
}

struct obs {
	int drop; /* impairment index, -1 without one */
};

static int play(struct lab_run *run, const struct variant *v, const struct params *p,
		struct obs *obs)
{
	long tail = (p->bytes + 4) % 1448, full = (p->bytes + 4) / 1448;
	/* the reader stops once it has the whole message, before its answer (mark: it has) */
	const char *hold = lab_hold(run, LAB_PROG_SERVER, "reassembled");

	obs->drop = -1;
	if (v->drop == MIDDLE)
		obs->drop = lab_impair(run, "drop,dir=c2s,len=1448,nth=%ld", p->nth);
	else if (v->drop == TAIL && tail)
		obs->drop = lab_impair(run, "drop,dir=c2s,len=%ld", tail);
	else if (v->drop == TAIL)
		obs->drop = lab_impair(run, "drop,dir=c2s,len=1448,nth=%ld", full);
	/* the reader checks the length and every byte; it answers and closes first */
	lab_server(run, NULL, "accept,framed:1,%s%ssend:1,close", *hold ? "mark," : "", hold);
	lab_client(run, "fmsgs:1:%ld,recv,recv,close", p->bytes);
	lab_moment(run, LAB_PROG_SERVER, "note", 1, "reassembled",
		   v->drop == NONE ?
			   "the reader has the whole message, every byte in order, "
			   "nothing lost; its one-byte answer comes next" :
		   v->drop == TAIL ?
			   "the reader has the whole message, every byte in order: the "
			   "lost last segment was re-sent by the tail loss probe "
			   "(TcpExtTCPLossProbes) and the reader's recv() never saw the hole; "
			   "its one-byte answer comes next" :
			   "the reader has the whole message, every byte in order: the "
			   "segments after the hole waited out of order (TcpExtTCPOFOQueue, "
			   "SACKed) until the fast retransmission (TcpExtTCPFastRetrans) "
			   "re-sent the lost one, and its recv() never saw the hole; its "
			   "one-byte answer comes next");
	lab_finish_all(run);
	lab_wait_settled(run, LAB_CLIENT);
	return lab_status(run);
}

/*
 * Re-sends of the segments the wire dropped (client-side pcap: marked lost, then the same
 * sequence number again). Other retransmissions are not counted: on a loaded machine a tail
 * loss probe may re-send a segment whose ACK was merely late (spurious, DSACKed), with or
 * without a loss.
 */
static int64_t lost_resent(const struct lab_trace *t, int64_t end)
{
	struct in_addr client = lab_host_addr(LAB_CLIENT);
	int64_t n = 0;
	size_t i, j;

	for (i = 0; i < t->n && t->v[i].t_us < end; i++) {
		if (!t->v[i].lost || t->v[i].src.s_addr != client.s_addr || !t->v[i].len)
			continue;
		for (j = i + 1; j < t->n && t->v[j].t_us < end; j++)
			if (t->v[j].src.s_addr == client.s_addr && t->v[j].seq == t->v[i].seq &&
			    t->v[j].retrans) {
				n++;
				break;
			}
	}
	return n;
}

static void judge(struct lab_run *run, const struct variant *expect, const struct params *p,
		  const struct obs *obs)
{
	struct in_addr server = lab_host_addr(LAB_SERVER);
	const struct lab_trace *cs = lab_capture(run, LAB_CLIENT);
	int64_t end = lab_story_end_us(run), dropped = lab_impaired(run, obs->drop).dropped;
	int64_t lost = expect->drop != NONE, mid = expect->drop == MIDDLE;

	lab_expect_count(run, "data segments dropped (nftables counter)", LAB_EQ, lost,
			 dropped < 0 ? 0 : dropped);
	/* the reader checks the length prefix and the bytes our client sends */
	if (lab_needs(run, LAB_PROG_SERVER, "the reader's message") &&
	    lab_params_of(run, LAB_PROG_CLIENT, "bytes"))
		lab_expect_count(run, "whole, in-order messages the reader got (length, bytes)",
				 LAB_EQ, 1,
				 (int64_t)lab_count_calls(run, LAB_PROG_SERVER, "msg", "whole"));
	/* the hole: later segments wait in the out-of-order queue and are SACKed */
	lab_expect_counter(run, LAB_SERVER, "TcpExtTCPOFOQueue", mid ? LAB_GE : LAB_EQ, mid);
	lab_expect_count(run, "ACKs with SACK blocks from the server (client-side pcap)",
			 mid ? LAB_GE : LAB_EQ, mid ? 3 : 0,
			 (int64_t)lab_trace_count_analysis(cs, server, LAB_AN_SACK, end));
	lab_expect_count(run, "lost segments sent again (client-side pcap)", LAB_EQ, lost,
			 lost_resent(cs, end));
	/*
	 * Which mechanism re-sent it: SACK recovery (RACK marked it lost), or the tail loss
	 * probe that repaired it (TCPLossProbeRecovery; a spurious probe is DSACKed instead)
	 */
	lab_expect_counter(run, LAB_CLIENT, "TcpExtTCPSackRecovery", LAB_EQ, mid);
	lab_expect_counter(run, LAB_CLIENT, "TcpExtTCPFastRetrans", mid ? LAB_GE : LAB_EQ, mid);
	lab_expect_counter(run, LAB_CLIENT, "TcpExtTCPLossProbeRecovery", LAB_EQ,
			   expect->drop == TAIL);
	lab_expect_counter(run, LAB_CLIENT, "TcpExtTCPTimeouts", LAB_EQ, 0);
}

LAB_PRECONDITION(segment_lost, struct variant, struct params)

LAB_SCENARIO(
	segment_lost, struct variant, variants, struct params, params, struct obs,
	.name = "segment-lost",
	.summary = "one data segment lost: out-of-order queue, SACK, a fast retransmission; the "
		   "application still reads an ordered, complete stream",
	.symptom = "A transfer hiccups for a moment; tcpdump shows the receiver ACKing the same "
		   "number again and again with SACK blocks, then one retransmitted segment, and "
		   "the transfer goes on. The application sees nothing but the delay.",
	.mechanism =
		"The receiver gets the segments after the hole first: tcp_data_queue() hands each "
		"to tcp_data_queue_ofo(), which keeps it in the out-of-order queue "
		"(TcpExtTCPOFOQueue) and records it in SACK blocks (tcp_sack_new_ofo_skb(), RFC "
		"2018); while that queue is not empty __tcp_ack_snd_check() ACKs at once (SACK "
		"compression, net.ipv4.tcp_comp_sack_nr, may hold a few back briefly), so the "
		"sender sees duplicate ACKs of the byte before the hole, each SACKing more of what "
		"came after it (Wireshark: TCP Dup ACK, the first ones TCP Window Update as the "
		"window grows). On the sender tcp_sacktag_write_queue() marks the SACKed "
		"segments, and RACK (tcp_rack_mark_lost(), net.ipv4.tcp_recovery=1; on 6.18 "
		"tcp_time_to_recover() relies on it alone, no separate dup-ACK count) marks the hole "
		"lost (tcp_rack_detect_loss()): a segment sent after it was delivered, and it was "
		"sent more than the latest RTT plus the reordering window ago; with no reordering "
		"seen and at least net.ipv4.tcp_reordering (3) segments SACKed that window is 0. "
		"tcp_fastretrans_alert() enters recovery (tcp_enter_recovery(): "
		"TcpExtTCPSackRecovery) and tcp_xmit_retransmit_queue() re-sends just that segment "
		"(TcpExtTCPFastRetrans; Wireshark: TCP Fast Retransmission), long before an RTO "
		"(TcpExtTCPTimeouts 0). When it arrives tcp_ofo_queue() moves everything queued "
		"behind it into the receive queue: the application's next recv() gets the bytes in "
		"order, in a bigger piece, and the lab's reader checks the length and every byte. "
		"If the lost segment is the last one (tail), nothing after it can be SACKed: the "
		"tail loss probe (tcp_schedule_loss_probe(): PTO = 2 SRTT + tcp_rto_min_us, 200 "
		"ms, when it is the only packet in flight, as here once the rest is ACKed; 2 SRTT + "
		"2 ms, TCP_TIMEOUT_MIN_US, with more in flight) re-sends it "
		"(tcp_send_loss_probe(): TcpExtTCPLossProbes, and TcpExtTCPLossProbeRecovery once "
		"that repaired it): RACK-TLP, RFC 8985.",
	.remedy = "Nothing to fix in the application: TCP repairs the hole. Keep SACK on "
		  "(net.ipv4.tcp_sack=1, the default).",
	.seen_on = "6.18; 6.12 and 6.1 in qemu TCG (timings shown there, not judged)",
	.budget_s = 10, .check = segment_lost_check);
