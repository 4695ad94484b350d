// SPDX-License-Identifier: MIT
/*
 * The step verbs about a full send buffer (Catalogue II, C1-C4): SO_SNDBUF, SO_SNDTIMEO, a
 * writer that sends until a send() fails and an event loop's writer that waits for EPOLLOUT.
 * Each is a row of the verb table in sockops.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "event.h"
#include "sockops_priv.h"

/* a SOL_SOCKET option of int @value, reported as the event @name with @value and @unit */
static int set_sol(struct sockop_ctx *c, int opt, const char *name, int value, const char *unit)
{
	char detail[32];

	snprintf(detail, sizeof(detail), "%d%s", value, unit);
	LAB_EVENT_CALL(c->events, name, setsockopt(c->fd, SOL_SOCKET, opt, &value, sizeof(value)),
		       detail);
	return 0;
}

/* SO_SNDBUF: the kernel doubles it (sock_setsockopt()) and stops autotuning the buffer */
int sockops_op_sndbuf(struct sockop_ctx *c, const long *arg, int nargs)
{
	return set_sol(c, SO_SNDBUF, "sndbuf", (int)arg[0], " bytes");
}

/* SO_SNDTIMEO: a blocking send() waits at most MS (sk_stream_wait_memory()), then EAGAIN */
int sockops_op_sndtimeo(struct sockop_ctx *c, const long *arg, int nargs)
{
	struct timeval tv = { .tv_sec = arg[0] / 1000, .tv_usec = (arg[0] % 1000) * 1000 };
	char detail[32];

	snprintf(detail, sizeof(detail), "%ld ms", arg[0]);
	LAB_EVENT_CALL(c->events, "sndtimeo",
		       setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)), detail);
	return 0;
}

/* up to COUNT send()s of N bytes until one fails; :1 with MSG_DONTWAIT (a writer's loop) */
int sockops_op_sends(struct sockop_ctx *c, const long *arg, int nargs)
{
	int flags = MSG_NOSIGNAL | (nargs > 2 && arg[2] ? MSG_DONTWAIT : 0);
	unsigned char *buf = calloc(1, (size_t)arg[0] + 1);
	long i, n = 0;

	if (!buf)
		return 1;
	for (i = 0; i < arg[1] && n >= 0; i++)
		n = LAB_EVENT_CALL(c->events, "send", send(c->fd, buf, (size_t)arg[0], flags),
				   flags & MSG_DONTWAIT ? "MSG_DONTWAIT" : NULL);
	free(buf);
	return 0;
}

/*
 * An event loop's writer: send(MSG_DONTWAIT) of N bytes until EAGAIN, then epoll_wait() for
 * EPOLLOUT at most MS; again while EPOLLOUT comes, until a wait times out
 */
int sockops_op_nbwrite(struct sockop_ctx *c, const long *arg, int nargs)
{
	unsigned char *buf = calloc(1, (size_t)arg[0] + 1);
	struct epoll_event ev = { .events = EPOLLOUT }, got;
	int ep = epoll_create1(EPOLL_CLOEXEC), n = 1;
	int64_t t0;

	if (!buf || ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev)) {
		free(buf);
		if (ep >= 0)
			close(ep);
		return 1;
	}
	while (n > 0) {
		while (LAB_EVENT_CALL(c->events, "send",
				      send(c->fd, buf, (size_t)arg[0], MSG_DONTWAIT | MSG_NOSIGNAL),
				      "MSG_DONTWAIT") > 0)
			;
		if (errno != EAGAIN)
			break;
		t0 = lab_now_us();
		n = epoll_wait(ep, &got, 1, (int)arg[1]);
		sockops_emit_at(c->events, "epoll_wait", t0, n, n > 0 ? "EPOLLOUT" : "timed out");
	}
	close(ep);
	free(buf);
	return 0;
}
