// SPDX-License-Identifier: MIT
/*
 * The step verbs that set a socket option on the program's socket: SO_RCVLOWAT and SO_RCVTIMEO
 * for the reader, TCP_CORK, TCP_NODELAY and TCP_QUICKACK (Nagle and delayed ACKs), keepalive,
 * TCP_USER_TIMEOUT, SO_LINGER. The send buffer's options are in sockops_buffers.c. Each is a
 * row of the verb table in sockops.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "event.h"
#include "sockops_priv.h"

static int set_tcp(struct sockop_ctx *c, int opt, const char *name)
{
	LAB_EVENT_CALL(c->events, name,
		       setsockopt(c->fd, IPPROTO_TCP, opt, &(int){ 1 }, sizeof(int)), NULL);
	return 0;
}

int sockops_op_rcvlowat(struct sockop_ctx *c, const long *arg, int nargs)
{
	int lowat = (int)arg[0];

	LAB_EVENT_CALL(c->events, "rcvlowat",
		       setsockopt(c->fd, SOL_SOCKET, SO_RCVLOWAT, &lowat, sizeof(lowat)), NULL);
	return 0;
}

int sockops_op_cork(struct sockop_ctx *c, const long *arg, int nargs)
{
	return set_tcp(c, TCP_CORK, "setsockopt(TCP_CORK)");
}

int sockops_op_nodelay(struct sockop_ctx *c, const long *arg, int nargs)
{
	return set_tcp(c, TCP_NODELAY, "setsockopt(TCP_NODELAY)");
}

int sockops_op_quickack(struct sockop_ctx *c, const long *arg, int nargs)
{
	return set_tcp(c, TCP_QUICKACK, "setsockopt(TCP_QUICKACK)");
}

int sockops_op_keepalive(struct sockop_ctx *c, const long *arg, int nargs)
{
	int on = 1, idle = (int)arg[0], intvl = (int)arg[1], cnt = (int)arg[2], ret, err;
	int64_t t0 = lab_now_us(), t;
	char detail[64];

	ret = setsockopt(c->fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
	if (!ret)
		ret = setsockopt(c->fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	if (!ret)
		ret = setsockopt(c->fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	if (!ret)
		ret = setsockopt(c->fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	t = lab_now_us();
	err = ret < 0 ? errno : 0;
	snprintf(detail, sizeof(detail), "idle %ds interval %ds count %d", idle, intvl, cnt);
	lab_event_emit_call(c->events, "keepalive", t0, t, ret, err, detail);
	return ret < 0;
}

int sockops_op_user_timeout(struct sockop_ctx *c, const long *arg, int nargs)
{
	unsigned int ms = (unsigned int)arg[0];

	LAB_EVENT_CALL(c->events, "user_timeout",
		       setsockopt(c->fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &ms, sizeof(ms)), NULL);
	return 0;
}

/* SO_RCVTIMEO: a blocking recv() gives up after MS with EAGAIN (sock_rcvtimeo()) */
int sockops_op_rcvtimeo(struct sockop_ctx *c, const long *arg, int nargs)
{
	struct timeval tv = { .tv_sec = arg[0] / 1000, .tv_usec = arg[0] % 1000 * 1000 };

	LAB_EVENT_CALL(c->events, "rcvtimeo",
		       setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), NULL);
	return 0;
}

/* SO_LINGER {1, SECS}: close() waits SECS for unsent data; 0 aborts with a RST (tcp_close()) */
int sockops_op_linger(struct sockop_ctx *c, const long *arg, int nargs)
{
	struct linger l = { .l_onoff = 1, .l_linger = (int)arg[0] };
	char detail[32];

	snprintf(detail, sizeof(detail), "on, %ld s", arg[0]);
	LAB_EVENT_CALL(c->events, "linger", setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l)),
		       detail);
	return 0;
}
