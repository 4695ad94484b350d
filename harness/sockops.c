// SPDX-License-Identifier: MIT
/* The step language of tcplab-server and tcplab-client: parse, then run with an event each. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "event.h"
#include "sockops.h"

static const struct {
	const char *name;
	enum sockop_kind kind;
	int min_args, max_args;
} verbs[] = {
	{ "accept", SOCKOP_ACCEPT, 0, 0 },	 { "recv", SOCKOP_RECV, 0, 1 },
	{ "drain", SOCKOP_DRAIN, 0, 1 },	 { "send", SOCKOP_SEND, 1, 1 },
	{ "close", SOCKOP_CLOSE, 0, 0 },	 { "shutdown", SOCKOP_SHUTDOWN, 1, 1 },
	{ "rcvlowat", SOCKOP_RCVLOWAT, 1, 1 },	 { "msgs", SOCKOP_MSGS, 2, 2 },
	{ "fmsgs", SOCKOP_FMSGS, 2, 2 },	 { "naive", SOCKOP_NAIVE, 2, 3 },
	{ "framed", SOCKOP_FRAMED, 1, 1 },	 { "request", SOCKOP_REQUEST, 4, 5 },
	{ "serve", SOCKOP_SERVE, 3, 4 },	 { "cork", SOCKOP_CORK, 0, 0 },
	{ "nodelay", SOCKOP_NODELAY, 0, 0 },	 { "quickack", SOCKOP_QUICKACK, 0, 0 },
	{ "keepalive", SOCKOP_KEEPALIVE, 3, 3 }, { "user_timeout", SOCKOP_USER_TIMEOUT, 1, 1 },
	{ "wait", SOCKOP_WAIT, 0, 0 },		 { "accepts", SOCKOP_ACCEPTS, 2, 2 },
};

unsigned char sockops_pattern(long index, long off)
{
	return (unsigned char)('a' + (index * 7 + off) % 26);
}

int sockops_number(const char *text, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(text, &end, 10);
	return errno || end == text || *end || *out < 0 || *out > (1L << 30) ? -1 : 0;
}

int sockops_parse_addr(const char *text, struct sockaddr_in *sin, char *why, size_t whylen)
{
	const char *colon = strrchr(text, ':');
	char host[64];
	long port;

	if (!colon || (size_t)(colon - text) >= sizeof(host)) {
		snprintf(why, whylen, "wants ADDR:PORT, not '%s'", text);
		return -1;
	}
	memcpy(host, text, (size_t)(colon - text));
	host[colon - text] = '\0';
	if (sockops_number(colon + 1, &port) || port > 65535) {
		snprintf(why, whylen, "bad port '%s'", colon + 1);
		return -1;
	}
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &sin->sin_addr) != 1) {
		snprintf(why, whylen, "bad IPv4 address '%s'", host);
		return -1;
	}
	return 0;
}

static int parse_arg(const char *text, long *out)
{
	if (!strcmp(text, "wr"))
		*out = SHUT_WR;
	else if (!strcmp(text, "rd"))
		*out = SHUT_RD;
	else if (!strcmp(text, "rdwr"))
		*out = SHUT_RDWR;
	else if (sockops_number(text, out) || *out > SOCKOPS_MAX_MSG)
		return -1;
	return 0;
}

static int parse_step(char *step, struct sockop *op, char *why, size_t whylen)
{
	char *name = strtok_r(step, ":", &step), *arg;
	int nargs = 0;
	size_t i;

	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (name && !strcmp(name, verbs[i].name))
			break;
	if (i == sizeof(verbs) / sizeof(verbs[0])) {
		snprintf(why, whylen, "unknown step '%s'", name ? name : "");
		return -1;
	}
	op->kind = verbs[i].kind;
	memset(op->arg, 0, sizeof(op->arg));
	while ((arg = strtok_r(NULL, ":", &step))) {
		if (nargs == verbs[i].max_args || parse_arg(arg, &op->arg[nargs])) {
			snprintf(why, whylen, "step '%s': bad or extra argument '%s'", name, arg);
			return -1;
		}
		nargs++;
	}
	if (nargs < verbs[i].min_args) {
		snprintf(why, whylen, "step '%s' needs %d argument(s)", name, verbs[i].min_args);
		return -1;
	}
	return 0;
}

int sockops_parse(const char *script, struct sockop *ops, size_t max, char *why, size_t whylen)
{
	char *copy = strdup(script), *save = NULL, *step;
	int n = 0;

	if (!copy) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	for (step = strtok_r(copy, ",", &save); step; step = strtok_r(NULL, ",", &save)) {
		if ((size_t)n == max) {
			snprintf(why, whylen, "more than %zu steps", max);
			n = -1;
			break;
		}
		if (parse_step(step, &ops[n], why, whylen) < 0) {
			n = -1;
			break;
		}
		n++;
	}
	free(copy);
	return n;
}

static void emit(FILE *ev, const char *call, long ret, const char *detail)
{
	lab_event_emit(ev, call, ret, ret < 0 ? errno : 0, detail);
}

static long do_recv(FILE *ev, int fd, void *buf, long len)
{
	long n = recv(fd, buf, (size_t)len, 0);

	emit(ev, "recv", n, NULL);
	return n;
}

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
	emit(ev, "msg", len, is_message(p, len, size, index) ? "whole" : "mis-framed");
}

static int send_messages(FILE *ev, int fd, long count, long size, bool framed)
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
		n = send(fd, buf, (size_t)(size + off), MSG_NOSIGNAL);
		emit(ev, "send", n, NULL);
		if (n < 0)
			break;
	}
	free(buf);
	return 0;
}

/* one recv() is taken as one message: what every sticky/split bug does */
static int read_naive(FILE *ev, int fd, long count, long size, long bufsize)
{
	long total = 0, index = 0, n;
	unsigned char *buf;

	bufsize = bufsize ? bufsize : 65536;
	buf = malloc((size_t)bufsize);
	if (!buf)
		return 1;
	while (total < count * size) {
		n = do_recv(ev, fd, buf, bufsize);
		if (n <= 0)
			break;
		emit_message(ev, buf, n, size, index++);
		total += n;
	}
	free(buf);
	return 0;
}

/* length prefix, then exactly that many bytes, however the stream was cut */
static int read_framed(FILE *ev, int fd, long count)
{
	size_t cap = 65536, have = 0, need;
	unsigned char *buf = malloc(cap), *bigger;
	long index = 0, n;
	uint32_t len = 0;

	if (!buf)
		return 1;
	while (index < count) {
		need = 4;
		if (have >= 4) {
			memcpy(&len, buf, 4);
			len = ntohl(len);
			if (len > SOCKOPS_MAX_MSG) {
				emit(ev, "msg", -1, "length prefix out of range");
				break;
			}
			need += len;
		}
		if (have >= 4 && have >= need) {
			emit_message(ev, buf + 4, (long)len, (long)len, index++);
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
		n = do_recv(ev, fd, buf + have, (long)(cap - have));
		if (n <= 0)
			break;
		have += (size_t)n;
	}
	free(buf);
	return 0;
}

static int set_tcp(FILE *ev, int fd, int opt, const char *name)
{
	int ret = setsockopt(fd, IPPROTO_TCP, opt, &(int){ 1 }, sizeof(int));

	emit(ev, name, ret, NULL);
	return 0;
}

/* read exactly @len bytes (one event per recv()); false at EOF or error */
static bool read_exactly(FILE *ev, int fd, unsigned char *buf, long len, bool quickack)
{
	long have = 0, n;

	while (have < len) {
		n = do_recv(ev, fd, buf + have, len - have);
		if (n <= 0)
			return false;
		if (quickack) /* the kernel clears it again: re-arm after every read */
			setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &(int){ 1 }, sizeof(int));
		have += n;
	}
	return true;
}

/* write-write-read (or writev-read), timed: the request/response pattern Nagle meets */
static int do_requests(FILE *ev, int fd, const long *arg)
{
	long n = arg[0], hdr = arg[1], body = arg[2], reply = arg[3], i, sent;
	unsigned char *buf = calloc(1, (size_t)(hdr + body + reply) + 1);
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
			sent = writev(fd, iov, 2);
			emit(ev, "writev", sent, NULL);
		} else {
			sent = send(fd, buf, (size_t)hdr, MSG_NOSIGNAL);
			emit(ev, "send", sent, NULL);
			if (sent >= 0) {
				sent = send(fd, buf + hdr, (size_t)body, MSG_NOSIGNAL);
				emit(ev, "send", sent, NULL);
			}
		}
		if (sent < 0 || !read_exactly(ev, fd, buf, reply, false))
			break;
		snprintf(detail, sizeof(detail), "request %ld", i);
		lab_event_emit(ev, "request", (long)(lab_mono_us() - t0), 0, detail);
	}
	free(buf);
	return 0;
}

static int do_serve(FILE *ev, int fd, const long *arg)
{
	long n = arg[0], req = arg[1], reply = arg[2], i;
	unsigned char *buf = calloc(1, (size_t)(req > reply ? req : reply) + 1);

	if (!buf)
		return 1;
	for (i = 0; i < n; i++) {
		if (!read_exactly(ev, fd, buf, req, arg[3]))
			break;
		emit(ev, "send", send(fd, buf, (size_t)reply, MSG_NOSIGNAL), NULL);
	}
	free(buf);
	return 0;
}

static int set_keepalive(FILE *ev, int fd, const long *arg)
{
	int on = 1, idle = (int)arg[0], intvl = (int)arg[1], cnt = (int)arg[2], ret;
	char detail[64];

	ret = setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
	if (!ret)
		ret = setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	if (!ret)
		ret = setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	if (!ret)
		ret = setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	snprintf(detail, sizeof(detail), "idle %ds interval %ds count %d", idle, intvl, cnt);
	emit(ev, "keepalive", ret, detail);
	return ret < 0;
}

/* wait for the harness (or a person) to say go: a line or EOF on stdin */
static int wait_go(FILE *ev)
{
	char c;
	ssize_t n;

	do
		n = read(STDIN_FILENO, &c, 1);
	while (n == 1 && c != '\n');
	emit(ev, "wait", 0, "go");
	return 0;
}

static int accept_many(FILE *ev, int listener, long count, long reply)
{
	unsigned char buf[512] = { 0 };
	long i;
	int conn;

	if (reply > (long)sizeof(buf))
		reply = sizeof(buf);
	for (i = 0; i < count; i++) {
		conn = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
		emit(ev, "accept", conn < 0 ? -1 : 0, NULL);
		if (conn < 0)
			return 1;
		if (do_recv(ev, conn, buf, sizeof(buf)) > 0)
			emit(ev, "send", send(conn, buf, (size_t)reply, MSG_NOSIGNAL), NULL);
		/* kept open until the program ends: no FIN races the client's recv() */
	}
	return 0;
}

static int run_one(const struct sockop *op, int *fd, FILE *ev)
{
	unsigned char *buf;
	long n, total = 0;
	int conn;

	switch (op->kind) {
	case SOCKOP_ACCEPT:
		conn = accept4(*fd, NULL, NULL, SOCK_CLOEXEC);
		emit(ev, "accept", conn < 0 ? -1 : 0, NULL);
		if (conn < 0)
			return 1;
		close(*fd); /* one connection per run; the listener goes with it */
		*fd = conn;
		return 0;
	case SOCKOP_RECV:
	case SOCKOP_DRAIN:
		n = op->kind == SOCKOP_RECV && op->arg[0] ? op->arg[0] : 65536;
		buf = malloc((size_t)n);
		if (!buf)
			return 1;
		do {
			long got = do_recv(ev, *fd, buf, n);

			if (got <= 0)
				break;
			total += got;
		} while (op->kind == SOCKOP_DRAIN && (!op->arg[0] || total < op->arg[0]));
		free(buf);
		return 0;
	case SOCKOP_SEND:
		buf = calloc(1, (size_t)op->arg[0] + 1);
		if (!buf)
			return 1;
		n = send(*fd, buf, (size_t)op->arg[0], MSG_NOSIGNAL);
		emit(ev, "send", n, NULL);
		free(buf);
		return 0;
	case SOCKOP_CLOSE:
		emit(ev, "close", close(*fd), NULL);
		*fd = -1;
		return 0;
	case SOCKOP_SHUTDOWN:
		emit(ev, "shutdown", shutdown(*fd, (int)op->arg[0]), NULL);
		return 0;
	case SOCKOP_RCVLOWAT:
		n = op->arg[0];
		emit(ev, "rcvlowat",
		     setsockopt(*fd, SOL_SOCKET, SO_RCVLOWAT, &(int){ (int)n }, sizeof(int)), NULL);
		return 0;
	case SOCKOP_MSGS:
	case SOCKOP_FMSGS:
		return send_messages(ev, *fd, op->arg[0], op->arg[1], op->kind == SOCKOP_FMSGS);
	case SOCKOP_NAIVE:
		return read_naive(ev, *fd, op->arg[0], op->arg[1], op->arg[2]);
	case SOCKOP_FRAMED:
		return read_framed(ev, *fd, op->arg[0]);
	case SOCKOP_REQUEST:
		return do_requests(ev, *fd, op->arg);
	case SOCKOP_SERVE:
		return do_serve(ev, *fd, op->arg);
	case SOCKOP_CORK:
		return set_tcp(ev, *fd, TCP_CORK, "setsockopt(TCP_CORK)");
	case SOCKOP_NODELAY:
		return set_tcp(ev, *fd, TCP_NODELAY, "setsockopt(TCP_NODELAY)");
	case SOCKOP_QUICKACK:
		return set_tcp(ev, *fd, TCP_QUICKACK, "setsockopt(TCP_QUICKACK)");
	case SOCKOP_KEEPALIVE:
		return set_keepalive(ev, *fd, op->arg);
	case SOCKOP_USER_TIMEOUT:
		n = op->arg[0];
		emit(ev, "user_timeout",
		     setsockopt(*fd, IPPROTO_TCP, TCP_USER_TIMEOUT,
				&(unsigned int){ (unsigned int)n }, sizeof(unsigned int)),
		     NULL);
		return 0;
	case SOCKOP_WAIT:
		return wait_go(ev);
	case SOCKOP_ACCEPTS:
		return accept_many(ev, *fd, op->arg[0], op->arg[1]);
	}
	return 1;
}

int sockops_run(const struct sockop *ops, int n, int fd, FILE *events)
{
	int i, err = 0;

	for (i = 0; i < n && !err; i++)
		err = run_one(&ops[i], &fd, events);
	if (fd >= 0)
		close(fd);
	return err;
}
