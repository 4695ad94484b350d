// SPDX-License-Identifier: MIT
/*
 * The step verbs about connecting, blocking or not, and what tells how it went: ping (is the
 * server reachable at all?), bind before connect, connect and nbconnect, epoll_wait() for
 * EPOLLOUT, SO_ERROR. Each is a row of the verb table in sockops.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "event.h"
#include "sockops_priv.h"

/* the Internet checksum (RFC 1071) of @len bytes */
static uint16_t inet_csum(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)(p[len - 1] << 8);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

/*
 * One ICMP echo request to the server (a raw socket: CAP_NET_RAW), and the wait for its reply,
 * at most MS: the event's value is the round trip in microseconds, or -1 ETIMEDOUT
 */
int sockops_op_ping(struct sockop_ctx *c, const long *arg, int nargs)
{
	uint8_t req[24] = { 8, 0 }, buf[256];
	uint16_t id = (uint16_t)getpid(), sum;
	int fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int64_t t0 = lab_mono_us(), left;
	size_t ihl;
	ssize_t n;

	if (fd < 0 || !c->target) {
		lab_event_emit(c->events, "ping", -1, errno, fd < 0 ? "raw socket" : "no peer");
		return 0;
	}
	memcpy(req + 4, &id, 2); /* identifier; sequence 0 */
	sum = inet_csum(req, sizeof(req));
	memcpy(req + 2, &sum, 2);
	if (sendto(fd, req, sizeof(req), 0, (const struct sockaddr *)c->target,
		   sizeof(*c->target)) < 0) {
		lab_event_emit(c->events, "ping", -1, errno, "sendto()");
		close(fd);
		return 0;
	}
	for (;;) {
		left = arg[0] - (lab_mono_us() - t0) / 1000;
		if (left <= 0 || poll(&p, 1, (int)left) <= 0) {
			errno = ETIMEDOUT;
			lab_event_emit(c->events, "ping", -1, errno, "no echo reply");
			break;
		}
		n = recv(fd, buf, sizeof(buf), 0); /* the IP header, then the ICMP message */
		ihl = n > 0 ? (size_t)(buf[0] & 0x0f) * 4 : 0;
		if (n >= (ssize_t)(ihl + 8) && buf[ihl] == 0 && !memcmp(buf + ihl + 4, &id, 2) &&
		    !memcmp(buf + 12, &c->target->sin_addr, 4)) {
			lab_event_emit(c->events, "ping", (long)(lab_mono_us() - t0), 0,
				       "echo reply: the value is the round trip in us");
			break;
		}
	}
	close(fd);
	return 0;
}

/* bind() the client's socket to source port PORT before it connects (any local address) */
int sockops_op_bind(struct sockop_ctx *c, const long *arg, int nargs)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)arg[0]) };
	char detail[32];

	int64_t t0 = lab_now_us();
	int ret = -1;

	snprintf(detail, sizeof(detail), "port %ld", arg[0]);
	if (arg[0] > 65535)
		errno = EINVAL;
	else
		ret = bind(c->fd, (struct sockaddr *)&a, sizeof(a));
	sockops_emit_at(c->events, "bind", t0, ret, detail);
	return 0;
}

int sockops_op_connect(struct sockop_ctx *c, const long *arg, int nargs)
{
	int flags = fcntl(c->fd, F_GETFL);
	int64_t t0 = lab_now_us(); /* the SYN leaves inside connect(): stamped on entry */
	int ret;

	if (!c->target) {
		errno = EDESTADDRREQ;
		ret = -1;
	} else {
		ret = connect(c->fd, (const struct sockaddr *)c->target, sizeof(*c->target));
	}
	sockops_emit_at(c->events, "connect", t0, ret,
			flags >= 0 && (flags & O_NONBLOCK) ? "non-blocking" : NULL);
	return 0;
}

/* O_NONBLOCK, then connect(): -1 EINPROGRESS while the handshake runs (tcp_v4_connect()) */
int sockops_op_nbconnect(struct sockop_ctx *c, const long *arg, int nargs)
{
	int flags = fcntl(c->fd, F_GETFL);

	if (flags < 0 || fcntl(c->fd, F_SETFL, flags | O_NONBLOCK) < 0) {
		lab_event_emit(c->events, "fcntl(O_NONBLOCK)", -1, errno, NULL);
		return 1;
	}
	return sockops_op_connect(c, arg, nargs);
}

/* epoll_wait() for EPOLLOUT (level-triggered), at most MS; the events it reports as detail */
int sockops_op_epollout(struct sockop_ctx *c, const long *arg, int nargs)
{
	struct epoll_event ev = { .events = EPOLLOUT }, got = { 0 };
	int ep = epoll_create1(EPOLL_CLOEXEC), n = -1;
	char detail[64] = "";
	int64_t t0 = lab_now_us();

	if (ep >= 0 && !epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev))
		n = epoll_wait(ep, &got, 1, nargs ? (int)arg[0] : -1);
	if (n > 0)
		snprintf(detail, sizeof(detail), "%s%s%s%s",
			 got.events & EPOLLOUT ? "EPOLLOUT" : "",
			 got.events & EPOLLIN ? "|EPOLLIN" : "",
			 got.events & EPOLLERR ? "|EPOLLERR" : "",
			 got.events & EPOLLHUP ? "|EPOLLHUP" : "");
	else if (!n)
		snprintf(detail, sizeof(detail), "timed out");
	sockops_emit_at(c->events, "epoll_wait", t0, n, detail);
	if (ep >= 0)
		close(ep);
	return 0;
}

/* getsockopt(SO_ERROR): the pending error, reported as the event's errno (and cleared) */
int sockops_op_soerror(struct sockop_ctx *c, const long *arg, int nargs)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) {
		lab_event_emit(c->events, "so_error", -1, errno, "getsockopt() failed");
		return 0;
	}
	lab_event_emit(c->events, "so_error", err ? -1 : 0, err, "getsockopt(SO_ERROR)");
	return 0;
}
