/* SPDX-License-Identifier: MIT */
#ifndef LAB_SOCKOPS_PRIV_H
#define LAB_SOCKOPS_PRIV_H

#include <netinet/in.h>
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

/* the port verbs (sockops_ports.c): rows of the table in sockops.c */
int sockops_op_connects(struct sockop_ctx *c, const long *arg, int nargs);
int sockops_op_idle(struct sockop_ctx *c, const long *arg, int nargs);
int sockops_op_drains(struct sockop_ctx *c, const long *arg, int nargs);
int sockops_op_closes(struct sockop_ctx *c, const long *arg, int nargs);
int sockops_op_listen(struct sockop_ctx *c, const long *arg, int nargs);
int sockops_op_relisten(struct sockop_ctx *c, const long *arg, int nargs);
int sockops_op_bindto(struct sockop_ctx *c, const long *arg, int nargs);

#endif
