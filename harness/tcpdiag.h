/* SPDX-License-Identifier: MIT */
#ifndef LAB_TCPDIAG_H
#define LAB_TCPDIAG_H

#include <netinet/tcp.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netns.h"

/*
 * TCP sockets of a namespace through inet_diag: every state, including the ones TCP_INFO
 * cannot see (TIME_WAIT, orphaned FIN_WAIT/LAST_ACK, SYN_RECV request sockets).
 */
struct lab_sock {
	uint8_t state; /* TCP_ESTABLISHED ... (netinet/tcp.h numbering) */
	struct in_addr local, remote;
	uint16_t lport, rport;
	uint32_t rqueue, wqueue; /* LISTEN: accept queue length and backlog */
	uint8_t timer; /* 0 none, 1 retransmit, 2 keepalive, 3 TIME_WAIT, 4 probe */
	uint32_t timer_ms;
	uint8_t retrans;
	bool has_info;
	struct tcp_info info;
	/*
	 * Newer than glibc's struct tcp_info (appended by the kernel, UAPI linux/tcp.h): the peer's
	 * advertised receive window after scaling (tcpi_snd_wnd, 5.19+), -1 when the kernel's
	 * tcp_info is too short to hold it; out-of-order segments received (tcpi_rcv_ooopack)
	 */
	int64_t snd_wnd;
	int64_t rcv_ooopack;
};

struct lab_socks {
	struct lab_sock *v;
	size_t n;
};

#define LAB_SOCKS_INIT            \
	{                         \
		.v = NULL, .n = 0 \
	}
#define LAB_TCPF_ALL 0xfff

const char *lab_tcp_state_name(int state);

/* lab_tcpdiag_dump() - the TCP sockets of @ns whose state is in @state_mask (1 << state) */
int lab_tcpdiag_dump(const struct lab_netns *ns, uint32_t state_mask, struct lab_socks *out);
void lab_socks_free(struct lab_socks *s);

/* sockets on @port (local or remote; 0 = any) in @state (-1 = any) */
size_t lab_socks_count(const struct lab_socks *s, uint16_t port, int state);
const struct lab_sock *lab_socks_find(const struct lab_socks *s, uint16_t port, int state);
/* lab_socks_keep_port() - drop every socket whose local and remote ports are not @port */
void lab_socks_keep_port(struct lab_socks *s, uint16_t port);

/*
 * lab_tcpdiag_wait_for() - poll the sockets of @ns on @port (0: all; every POLL_INTERVAL) until
 * @pred says so, or the monotonic @deadline_us passes (-ETIMEDOUT)
 */
typedef bool (*lab_socks_pred)(const struct lab_socks *s, const void *arg);
int lab_tcpdiag_wait_for(const struct lab_netns *ns, uint16_t port, lab_socks_pred pred,
			 const void *arg, int64_t deadline_us);
/*
 * Predicates for lab_tcpdiag_wait_for(). lab_socks_have_state(): a socket on @arg's port in its
 * state (the state-polling helper the kernel's tcp_ao FIXME asks for). lab_socks_settled(): no
 * socket on port *(const uint16_t *)@arg in a transient state (anything but LISTEN, ESTABLISHED,
 * CLOSE_WAIT, TIME_WAIT): the moment to read final states and counters.
 */
struct lab_socks_state {
	uint16_t port;
	int state;
};
bool lab_socks_have_state(const struct lab_socks *s, const void *arg);
bool lab_socks_settled(const struct lab_socks *s, const void *arg);
/* lab_socks_lack_state(): no socket on @arg's port in its state (a reset or timed-out one) */
bool lab_socks_lack_state(const struct lab_socks *s, const void *arg);
/*
 * lab_socks_queued(): an ESTABLISHED socket on @arg's port holding at least .unread bytes
 * received and not read (Recv-Q) and at most .unacked bytes sent and not acknowledged
 * (Send-Q): "the request arrived, unread", "all it sent was acknowledged"
 */
struct lab_socks_queue {
	uint16_t port;
	uint32_t unread, unacked;
};
bool lab_socks_queued(const struct lab_socks *s, const void *arg);

#endif
