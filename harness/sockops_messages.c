// SPDX-License-Identifier: MIT
/*
 * The step verbs about messages on a byte stream: senders of patterned messages with or without
 * a length prefix (msgs, fmsgs), a reader that takes each recv() as a message (naive, the
 * sticky/split-packet bug) and one that reassembles them (framed); the request/response rounds
 * that meet Nagle and delayed ACKs (request, serve). Each is a row of the verb table in sockops.c.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "event.h"
#include "sockops.h"
#include "sockops_priv.h"

static bool is_message(const unsigned char *p, long len, long size, long index)
{
	long i;

	if (len != size)
		return false;
	for (i = 0; i < len; i++)
		if (p[i] != sockops_pattern(index, i))
			return false;
	return true;
}

static void emit_message(FILE *ev, const unsigned char *p, long len, long size, long index)
{
	lab_event_emit(ev, "msg", len, 0, is_message(p, len, size, index) ? "whole" : "mis-framed");
}

static int send_messages(struct sockop_ctx *c, long count, long size, bool framed)
{
	unsigned char *buf = malloc((size_t)size + 4);
	long i, j, n;

	if (!buf)
		return 1;
	for (i = 0; i < count; i++) {
		uint32_t be = htonl((uint32_t)size);
		long off = framed ? 4 : 0;

		memcpy(buf, &be, 4);
		for (j = 0; j < size; j++)
			buf[off + j] = sockops_pattern(i, j);
		n = LAB_EVENT_CALL(c->events, "send",
				   send(c->fd, buf, (size_t)(size + off), MSG_NOSIGNAL), NULL);
		if (n < 0)
			break;
	}
	free(buf);
	return 0;
}

/* read exactly @len bytes (one event per recv()); false at EOF or error */
static bool read_exactly(FILE *ev, int fd, unsigned char *buf, long len, bool quickack)
{
	long have = 0, n;

	while (have < len) {
		n = sockops_recv(ev, fd, buf + have, len - have);
		if (n <= 0)
			return false;
		if (quickack) /* the kernel clears it again: re-arm after every read */
			setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &(int){ 1 }, sizeof(int));
		have += n;
	}
	return true;
}

int sockops_op_msgs(struct sockop_ctx *c, const long *arg, int nargs)
{
	return send_messages(c, arg[0], arg[1], false);
}

int sockops_op_fmsgs(struct sockop_ctx *c, const long *arg, int nargs)
{
	return send_messages(c, arg[0], arg[1], true);
}

/* one recv() is taken as one message: what every sticky/split bug does */
int sockops_op_naive(struct sockop_ctx *c, const long *arg, int nargs)
{
	long count = arg[0], size = arg[1], bufsize = arg[2] ? arg[2] : 65536;
	long total = 0, index = 0, n;
	unsigned char *buf = malloc((size_t)bufsize);

	if (!buf)
		return 1;
	while (total < count * size) {
		n = sockops_recv(c->events, c->fd, buf, bufsize);
		if (n <= 0)
			break;
		emit_message(c->events, buf, n, size, index++);
		total += n;
	}
	free(buf);
	return 0;
}

/* length prefix, then exactly that many bytes, however the stream was cut */
int sockops_op_framed(struct sockop_ctx *c, const long *arg, int nargs)
{
	size_t cap = 65536, have = 0, need;
	unsigned char *buf = malloc(cap), *bigger;
	long count = arg[0], index = 0, n;
	uint32_t len = 0;

	if (!buf)
		return 1;
	while (index < count) {
		need = 4;
		if (have >= 4) {
			memcpy(&len, buf, 4);
			len = ntohl(len);
			if (len > SOCKOPS_MAX_MSG) {
				lab_event_emit(c->events, "msg", -1, 0,
					       "length prefix out of range");
				break;
			}
			need += len;
		}
		if (have >= 4 && have >= need) {
			emit_message(c->events, buf + 4, (long)len, (long)len, index++);
			memmove(buf, buf + need, have - need);
			have -= need;
			continue;
		}
		if (need > cap) {
			bigger = realloc(buf, need);
			if (!bigger)
				break;
			buf = bigger;
			cap = need;
		}
		n = sockops_recv(c->events, c->fd, buf + have, (long)(cap - have));
		if (n <= 0)
			break;
		have += (size_t)n;
	}
	free(buf);
	return 0;
}

/*
 * write-write-read (or writev-read), timed: the request/response pattern Nagle meets. Each
 * "request" event carries the round's latency in microseconds (CLOCK_MONOTONIC).
 */
int sockops_op_request(struct sockop_ctx *c, const long *arg, int nargs)
{
	long n = arg[0], hdr = arg[1], body = arg[2], reply = arg[3], i, sent;
	unsigned char *buf = calloc(1, (size_t)(hdr + body + reply) + 1);
	FILE *ev = c->events;
	struct iovec iov[2];
	char detail[32];
	int64_t t0;

	if (!buf)
		return 1;
	for (i = 0; i < n; i++) {
		t0 = lab_mono_us();
		if (arg[4]) {
			iov[0] = (struct iovec){ buf, (size_t)hdr };
			iov[1] = (struct iovec){ buf + hdr, (size_t)body };
			sent = LAB_EVENT_CALL(ev, "writev", writev(c->fd, iov, 2), NULL);
		} else {
			sent = LAB_EVENT_CALL(ev, "send",
					      send(c->fd, buf, (size_t)hdr, MSG_NOSIGNAL), NULL);
			if (sent >= 0)
				sent = LAB_EVENT_CALL(
					ev, "send",
					send(c->fd, buf + hdr, (size_t)body, MSG_NOSIGNAL), NULL);
		}
		if (sent < 0 || !read_exactly(ev, c->fd, buf, reply, false))
			break;
		snprintf(detail, sizeof(detail), "request %ld", i);
		lab_event_emit(ev, "request", (long)(lab_mono_us() - t0), 0, detail);
	}
	free(buf);
	return 0;
}

/* the other side of "request"; :1 re-arms TCP_QUICKACK after every recv() */
int sockops_op_serve(struct sockop_ctx *c, const long *arg, int nargs)
{
	long n = arg[0], req = arg[1], reply = arg[2], i;
	unsigned char *buf = calloc(1, (size_t)(req > reply ? req : reply) + 1);

	if (!buf)
		return 1;
	for (i = 0; i < n; i++) {
		if (!read_exactly(c->events, c->fd, buf, req, arg[3]))
			break;
		LAB_EVENT_CALL(c->events, "send", send(c->fd, buf, (size_t)reply, MSG_NOSIGNAL),
			       NULL);
	}
	free(buf);
	return 0;
}
