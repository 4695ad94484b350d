/* SPDX-License-Identifier: MIT */
#ifndef LAB_SOCKOPS_PRIV_H
#define LAB_SOCKOPS_PRIV_H

#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>

#define SOCKOPS_MAX_KEPT 64

/*
 * What a verb works on. @fd is the socket the program handed over: the listener for a server
 * until "accept" replaces it with the connection, the connected socket for a client; -1 once
 * "close" has closed it. sockops_run() closes whatever is left at the end.
 * @self and @peer: where that socket was at the start (a listener has no peer), for the verbs
 * that open more sockets. @kept: the sockets those verbs keep open; sockops_run() closes them
 * before @fd, so the program's own connection is the last to close.
 */
struct sockop_ctx {
	int fd;
	FILE *events;
	struct sockaddr_in self, peer;
	const struct sockaddr_in *target; /* where connecting steps connect (client), or NULL */
	int kept[SOCKOPS_MAX_KEPT];
	int n_kept;
};

/* recv() and accept4() as events, stamped on entry and return (sockops.c, shared with the verbs) */
long sockops_recv(FILE *ev, int fd, void *buf, long len);
int sockops_accept(FILE *ev, int listener);
/* a call whose value @ret (and errno) was taken before: stamped at its entry @t0_us and now */
void sockops_emit_at(FILE *ev, const char *call, int64_t t0_us, long ret, const char *detail);

/* the plain verbs on the program's socket (sockops_basic.c): rows of the table in sockops.c */
int sockops_op_accept(struct sockop_ctx *c, const long *arg, int nargs);
int sockops_op_recv(struct sockop_ctx *c, const long *arg, int nargs);
int sockops_op_queued(struct sockop_ctx *c, const long *arg, int nargs);
int sockops_op_drain(struct sockop_ctx *c, const long *arg, int nargs);
int sockops_op_send(struct sockop_ctx *c, const long *arg, int nargs);
int sockops_op_sigsend(struct sockop_ctx *c, const long *arg, int nargs);
int sockops_op_close(struct sockop_ctx *c, const long *arg, int nargs);
int sockops_op_shutdown(struct sockop_ctx *c, const long *arg, int nargs);
int sockops_op_mark(struct sockop_ctx *c, const long *arg, int nargs);
int sockops_op_wait(struct sockop_ctx *c, const long *arg, int nargs);
int sockops_op_accepts(struct sockop_ctx *c, const long *arg, int nargs);
int sockops_op_fork(struct sockop_ctx *c, const long *arg, int nargs);

/* the socket option verbs (sockops_options.c) */
int sockops_op_rcvlowat(struct sockop_ctx *c, const long *arg, int nargs);
int sockops_op_cork(struct sockop_ctx *c, const long *arg, int nargs);
int sockops_op_nodelay(struct sockop_ctx *c, const long *arg, int nargs);
int sockops_op_quickack(struct sockop_ctx *c, const long *arg, int nargs);
int sockops_op_keepalive(struct sockop_ctx *c, const long *arg, int nargs);
int sockops_op_user_timeout(struct sockop_ctx *c, const long *arg, int nargs);
int sockops_op_rcvtimeo(struct sockop_ctx *c, const long *arg, int nargs);
int sockops_op_linger(struct sockop_ctx *c, const long *arg, int nargs);

/* the message verbs (sockops_messages.c) */
int sockops_op_msgs(struct sockop_ctx *c, const long *arg, int nargs);
int sockops_op_fmsgs(struct sockop_ctx *c, const long *arg, int nargs);
int sockops_op_naive(struct sockop_ctx *c, const long *arg, int nargs);
int sockops_op_framed(struct sockop_ctx *c, const long *arg, int nargs);
int sockops_op_request(struct sockop_ctx *c, const long *arg, int nargs);
int sockops_op_serve(struct sockop_ctx *c, const long *arg, int nargs);

/* the connecting verbs (sockops_connect.c) */
int sockops_op_ping(struct sockop_ctx *c, const long *arg, int nargs);
int sockops_op_bind(struct sockop_ctx *c, const long *arg, int nargs);
int sockops_op_connect(struct sockop_ctx *c, const long *arg, int nargs);
int sockops_op_nbconnect(struct sockop_ctx *c, const long *arg, int nargs);
int sockops_op_epollout(struct sockop_ctx *c, const long *arg, int nargs);
int sockops_op_soerror(struct sockop_ctx *c, const long *arg, int nargs);

/* the event loop's accept at its descriptor limit (sockops_loop.c) */
int sockops_op_acceptloop(struct sockop_ctx *c, const long *arg, int nargs);

/* the send buffer verbs (sockops_buffers.c) */
int sockops_op_sndbuf(struct sockop_ctx *c, const long *arg, int nargs);
int sockops_op_sndtimeo(struct sockop_ctx *c, const long *arg, int nargs);
int sockops_op_sends(struct sockop_ctx *c, const long *arg, int nargs);
int sockops_op_nbwrite(struct sockop_ctx *c, const long *arg, int nargs);

/* the port verbs (sockops_ports.c) */
int sockops_op_connects(struct sockop_ctx *c, const long *arg, int nargs);
int sockops_op_idle(struct sockop_ctx *c, const long *arg, int nargs);
int sockops_op_drains(struct sockop_ctx *c, const long *arg, int nargs);
int sockops_op_closes(struct sockop_ctx *c, const long *arg, int nargs);
int sockops_op_listen(struct sockop_ctx *c, const long *arg, int nargs);
int sockops_op_relisten(struct sockop_ctx *c, const long *arg, int nargs);
int sockops_op_bindto(struct sockop_ctx *c, const long *arg, int nargs);

#endif
