// SPDX-License-Identifier: MIT
/*
 * The step language of tcplab-server and tcplab-client: parse, then run with an event each.
 *
 * A verb is one row of verbs[] (name, argument counts, help) and one op_<name>() function that
 * does it on the socket. Parsing, argument checks, --help and the run loop all read the table:
 * adding a verb touches nothing else.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sockios.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "event.h"
#include "sockops.h"
#include "sockops_priv.h"

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

/* ---- helpers shared by several verbs ------------------------------------------------------ */

/*
 * Every socket call goes through LAB_EVENT_CALL() (event.h): stamped on entry and on return, so
 * that the ladder can draw it before the packets it sends and after those that woke it.
 */
long sockops_recv(FILE *ev, int fd, void *buf, long len)
{
	return LAB_EVENT_CALL(ev, "recv", recv(fd, buf, (size_t)len, 0), NULL);
}

/* accept4(), reported as 0 or -1: the descriptor's number says nothing about TCP */
int sockops_accept(FILE *ev, int listener)
{
	int64_t t0 = lab_now_us();
	int conn = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
	int err = conn < 0 ? errno : 0;

	lab_event_emit_call(ev, "accept", t0, lab_now_us(), conn < 0 ? -1 : 0, err, NULL);
	return conn;
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

static int set_tcp(struct sockop_ctx *c, int opt, const char *name)
{
	LAB_EVENT_CALL(c->events, name,
		       setsockopt(c->fd, IPPROTO_TCP, opt, &(int){ 1 }, sizeof(int)), NULL);
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

/* ---- the verbs: one function each, in the order of the table -------------------------------- */

static int op_accept(struct sockop_ctx *c, const long *arg, int nargs)
{
	int conn = sockops_accept(c->events, c->fd);

	if (conn < 0)
		return 1;
	close(c->fd); /* one connection per run; the listener goes with it */
	c->fd = conn;
	return 0;
}

static int op_recv(struct sockop_ctx *c, const long *arg, int nargs)
{
	long len = nargs ? arg[0] : 65536;
	unsigned char *buf = malloc((size_t)len + 1);

	if (!buf)
		return 1;
	sockops_recv(c->events, c->fd, buf, len);
	free(buf);
	return 0;
}

/* SO_RCVLOWAT makes poll() wait for N bytes (tcp_poll()); SIOCINQ says how many are there */
static int op_queued(struct sockop_ctx *c, const long *arg, int nargs)
{
	struct pollfd p = { .fd = c->fd, .events = POLLIN | POLLRDHUP };
	int lowat = (int)arg[0], one = 1, queued = 0;

	setsockopt(c->fd, SOL_SOCKET, SO_RCVLOWAT, &lowat, sizeof(lowat));
	while (poll(&p, 1, -1) > 0 || errno == EINTR) {
		if (ioctl(c->fd, SIOCINQ, &queued) || queued >= arg[0] ||
		    (p.revents & (POLLRDHUP | POLLHUP | POLLERR)))
			break;
	}
	setsockopt(c->fd, SOL_SOCKET, SO_RCVLOWAT, &one, sizeof(one));
	return 0;
}

static int op_drain(struct sockop_ctx *c, const long *arg, int nargs)
{
	unsigned char *buf = malloc(65536);
	long total = 0, got;

	if (!buf)
		return 1;
	do {
		got = sockops_recv(c->events, c->fd, buf, 65536);
		if (got > 0)
			total += got;
	} while (got > 0 && (!arg[0] || total < arg[0]));
	free(buf);
	return 0;
}

static int op_send(struct sockop_ctx *c, const long *arg, int nargs)
{
	unsigned char *buf = calloc(1, (size_t)arg[0] + 1);

	if (!buf)
		return 1;
	/* MSG_NOSIGNAL: a send() on a reset connection reports EPIPE instead of killing us */
	LAB_EVENT_CALL(c->events, "send", send(c->fd, buf, (size_t)arg[0], MSG_NOSIGNAL), NULL);
	free(buf);
	return 0;
}

/* no MSG_NOSIGNAL: on a dead connection the kernel sends SIGPIPE (sk_stream_error()) */
static int op_sigsend(struct sockop_ctx *c, const long *arg, int nargs)
{
	unsigned char *buf = calloc(1, (size_t)arg[0] + 1);

	if (!buf)
		return 1;
	LAB_EVENT_CALL(c->events, "send", send(c->fd, buf, (size_t)arg[0], 0), "no MSG_NOSIGNAL");
	free(buf);
	return 0;
}

static int op_close(struct sockop_ctx *c, const long *arg, int nargs)
{
	LAB_EVENT_CALL(c->events, "close", close(c->fd), NULL);
	c->fd = -1;
	return 0;
}

static int op_shutdown(struct sockop_ctx *c, const long *arg, int nargs)
{
	LAB_EVENT_CALL(c->events, "shutdown", shutdown(c->fd, (int)arg[0]), NULL);
	return 0;
}

static int op_rcvlowat(struct sockop_ctx *c, const long *arg, int nargs)
{
	int lowat = (int)arg[0];

	LAB_EVENT_CALL(c->events, "rcvlowat",
		       setsockopt(c->fd, SOL_SOCKET, SO_RCVLOWAT, &lowat, sizeof(lowat)), NULL);
	return 0;
}

static int op_msgs(struct sockop_ctx *c, const long *arg, int nargs)
{
	return send_messages(c, arg[0], arg[1], false);
}

static int op_fmsgs(struct sockop_ctx *c, const long *arg, int nargs)
{
	return send_messages(c, arg[0], arg[1], true);
}

/* one recv() is taken as one message: what every sticky/split bug does */
static int op_naive(struct sockop_ctx *c, const long *arg, int nargs)
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
static int op_framed(struct sockop_ctx *c, const long *arg, int nargs)
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
static int op_request(struct sockop_ctx *c, const long *arg, int nargs)
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
static int op_serve(struct sockop_ctx *c, const long *arg, int nargs)
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

static int op_cork(struct sockop_ctx *c, const long *arg, int nargs)
{
	return set_tcp(c, TCP_CORK, "setsockopt(TCP_CORK)");
}

static int op_nodelay(struct sockop_ctx *c, const long *arg, int nargs)
{
	return set_tcp(c, TCP_NODELAY, "setsockopt(TCP_NODELAY)");
}

static int op_quickack(struct sockop_ctx *c, const long *arg, int nargs)
{
	return set_tcp(c, TCP_QUICKACK, "setsockopt(TCP_QUICKACK)");
}

static int op_keepalive(struct sockop_ctx *c, const long *arg, int nargs)
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

static int op_user_timeout(struct sockop_ctx *c, const long *arg, int nargs)
{
	unsigned int ms = (unsigned int)arg[0];

	LAB_EVENT_CALL(c->events, "user_timeout",
		       setsockopt(c->fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &ms, sizeof(ms)), NULL);
	return 0;
}

/* SO_RCVTIMEO: a blocking recv() gives up after MS with EAGAIN (sock_rcvtimeo()) */
static int op_rcvtimeo(struct sockop_ctx *c, const long *arg, int nargs)
{
	struct timeval tv = { .tv_sec = arg[0] / 1000, .tv_usec = arg[0] % 1000 * 1000 };

	LAB_EVENT_CALL(c->events, "rcvtimeo",
		       setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), NULL);
	return 0;
}

/* ---- an event loop's accept at its descriptor limit ------------------------------------- */

/* a call whose value was taken before: stamped at its entry @t0_us and now, at its return */
static void emit_at(FILE *ev, const char *call, int64_t t0_us, long ret, const char *detail)
{
	lab_event_emit_call(ev, call, t0_us, lab_now_us(), ret, ret < 0 ? errno : 0, detail);
}

/* take every free descriptor below the limit: the next one a process asks for is EMFILE */
static long fill_descriptors(void)
{
	long n = 0;

	while (open("/dev/null", O_RDONLY | O_CLOEXEC) >= 0)
		n++;
	return n;
}

/* one accept4() of the loop; reported when its outcome differs from the last (or @all) */
static int loop_accept(struct sockop_ctx *c, int *spare, int *last, bool all)
{
	int64_t t0 = lab_now_us();
	int conn = accept4(c->fd, NULL, NULL, SOCK_CLOEXEC), outcome = conn < 0 ? errno : 0;

	if (all || outcome != *last)
		emit_at(c->events, "accept", t0, conn < 0 ? -1 : 0, NULL);
	*last = outcome;
	if (conn < 0 && outcome == EMFILE && *spare >= 0) {
		/* the reserve: free one descriptor, take the connection, let it go at once */
		close(*spare);
		t0 = lab_now_us();
		conn = accept4(c->fd, NULL, NULL, SOCK_CLOEXEC);
		emit_at(c->events, "accept", t0, conn < 0 ? -1 : 0, "on the reserve descriptor");
		*last = conn < 0 ? errno : 0;
		if (conn >= 0)
			LAB_EVENT_CALL(c->events, "close", close(conn),
				       "shed: the client learns at once");
		*spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
		return 0;
	}
	if (conn >= 0)
		close(conn);
	return 0;
}

/*
 * An event-driven server's accept loop at its descriptor limit: level-triggered epoll on the
 * listener (and on stdin, the harness's "go"); RLIMIT_NOFILE lowered to NOFILE and every free
 * descriptor below it taken, so accept4() fails EMFILE before it touches the queue. With
 * RESERVE 1, one descriptor is kept spare for the remedy above. Loops until "go" and at least
 * MIN_MS; reports each change of accept()'s outcome and, at the end, the wakeups.
 */
static int op_acceptloop(struct sockop_ctx *c, const long *arg, int nargs)
{
	struct epoll_event ev = { .events = EPOLLIN }, got[2];
	struct rlimit rl = { 0 };
	int ep = epoll_create1(EPOLL_CLOEXEC), spare = -1, last = -1, n, i;
	int64_t t0, left_ms;
	long wakeups = 0;
	bool go = false;
	char detail[80], ch;

	ev.data.fd = c->fd;
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev))
		return 1;
	ev.data.fd = STDIN_FILENO;
	epoll_ctl(ep, EPOLL_CTL_ADD, STDIN_FILENO, &ev);
	if (nargs > 2 && arg[2])
		spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = (rlim_t)arg[0];
	snprintf(detail, sizeof(detail), "RLIMIT_NOFILE %ld", arg[0]);
	LAB_EVENT_CALL(c->events, "setrlimit", setrlimit(RLIMIT_NOFILE, &rl), detail);
	lab_event_emit(c->events, "fill", fill_descriptors(), 0, "every free descriptor taken");
	t0 = lab_mono_us();
	for (;;) {
		left_ms = arg[1] - (lab_mono_us() - t0) / 1000;
		if (go && left_ms <= 0)
			break;
		n = epoll_wait(ep, got, 2, go ? (int)left_ms : -1);
		for (i = 0; i < n; i++) {
			if (got[i].data.fd != STDIN_FILENO) {
				wakeups++;
				loop_accept(c, &spare, &last, spare >= 0);
				continue;
			}
			while (read(STDIN_FILENO, &ch, 1) == 1 && ch != '\n')
				;
			go = true; /* a line, or EOF: either way no more from stdin */
			epoll_ctl(ep, EPOLL_CTL_DEL, STDIN_FILENO, NULL);
		}
	}
	snprintf(detail, sizeof(detail), "epoll_wait() woke for the listener, in %" PRId64 " ms",
		 (lab_mono_us() - t0) / 1000);
	lab_event_emit(c->events, "wakeups", wakeups, 0, detail);
	close(ep);
	return 0;
}

/* ---- connecting: blocking or not, and what tells how it went --------------------------- */

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
static int op_ping(struct sockop_ctx *c, const long *arg, int nargs)
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
static int op_bind(struct sockop_ctx *c, const long *arg, int nargs)
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
	emit_at(c->events, "bind", t0, ret, detail);
	return 0;
}

static int op_connect(struct sockop_ctx *c, const long *arg, int nargs)
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
	emit_at(c->events, "connect", t0, ret,
		flags >= 0 && (flags & O_NONBLOCK) ? "non-blocking" : NULL);
	return 0;
}

/* O_NONBLOCK, then connect(): -1 EINPROGRESS while the handshake runs (tcp_v4_connect()) */
static int op_nbconnect(struct sockop_ctx *c, const long *arg, int nargs)
{
	int flags = fcntl(c->fd, F_GETFL);

	if (flags < 0 || fcntl(c->fd, F_SETFL, flags | O_NONBLOCK) < 0) {
		lab_event_emit(c->events, "fcntl(O_NONBLOCK)", -1, errno, NULL);
		return 1;
	}
	return op_connect(c, arg, nargs);
}

/* epoll_wait() for EPOLLOUT (level-triggered), at most MS; the events it reports as detail */
static int op_epollout(struct sockop_ctx *c, const long *arg, int nargs)
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
	emit_at(c->events, "epoll_wait", t0, n, detail);
	if (ep >= 0)
		close(ep);
	return 0;
}

/* getsockopt(SO_ERROR): the pending error, reported as the event's errno (and cleared) */
static int op_soerror(struct sockop_ctx *c, const long *arg, int nargs)
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

/* listen() again on the listener: only the backlog changes (inet_listen() on a LISTEN socket) */
/* listen:N - listen() (again) with backlog N; bare listen: the program's own listen() */
static int op_listen(struct sockop_ctx *c, const long *arg, int nargs)
{
	char detail[32];

	if (!nargs)
		return sockops_op_listen(c, arg, nargs);
	snprintf(detail, sizeof(detail), "backlog %ld", arg[0]);
	LAB_EVENT_CALL(c->events, "listen", listen(c->fd, (int)arg[0]), detail);
	return 0;
}

/* SO_LINGER {1, SECS}: close() waits SECS for unsent data; 0 aborts with a RST (tcp_close()) */
static int op_linger(struct sockop_ctx *c, const long *arg, int nargs)
{
	struct linger l = { .l_onoff = 1, .l_linger = (int)arg[0] };
	char detail[32];

	snprintf(detail, sizeof(detail), "on, %ld s", arg[0]);
	LAB_EVENT_CALL(c->events, "linger", setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l)),
		       detail);
	return 0;
}

/* a SOL_SOCKET option of int @value, reported with @detail */
static int set_sol(struct sockop_ctx *c, int opt, const char *name, int value, const char *unit)
{
	char detail[32];

	snprintf(detail, sizeof(detail), "%d%s", value, unit);
	LAB_EVENT_CALL(c->events, name, setsockopt(c->fd, SOL_SOCKET, opt, &value, sizeof(value)),
		       detail);
	return 0;
}

/* SO_SNDBUF: the kernel doubles it (sock_setsockopt()) and stops autotuning the buffer */
static int op_sndbuf(struct sockop_ctx *c, const long *arg, int nargs)
{
	return set_sol(c, SO_SNDBUF, "sndbuf", (int)arg[0], " bytes");
}

/* SO_SNDTIMEO: a blocking send() waits at most MS (sk_stream_wait_memory()), then EAGAIN */
static int op_sndtimeo(struct sockop_ctx *c, const long *arg, int nargs)
{
	struct timeval tv = { .tv_sec = arg[0] / 1000, .tv_usec = (arg[0] % 1000) * 1000 };
	char detail[32];

	snprintf(detail, sizeof(detail), "%ld ms", arg[0]);
	LAB_EVENT_CALL(c->events, "sndtimeo",
		       setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)), detail);
	return 0;
}

/* up to COUNT send()s of N bytes until one fails; :1 with MSG_DONTWAIT (a writer's loop) */
static int op_sends(struct sockop_ctx *c, const long *arg, int nargs)
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
static int op_nbwrite(struct sockop_ctx *c, const long *arg, int nargs)
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
		emit_at(c->events, "epoll_wait", t0, n, n > 0 ? "EPOLLOUT" : "timed out");
	}
	close(ep);
	free(buf);
	return 0;
}

/* wait for the harness (or a person) to say go: a line or EOF on stdin */
/* a line the harness can wait for (lab_wait_calls(run, who, "note", 1)): the steps before it ran */
static int op_mark(struct sockop_ctx *c, const long *arg, int nargs)
{
	lab_event_emit(c->events, "note", 0, 0, "the steps before this point are done");
	return 0;
}

static int op_wait(struct sockop_ctx *c, const long *arg, int nargs)
{
	int64_t t0 = lab_now_us();
	char ch;
	ssize_t n;

	do
		n = read(STDIN_FILENO, &ch, 1);
	while (n == 1 && ch != '\n');
	lab_event_emit_call(c->events, "wait", t0, lab_now_us(), 0, 0, "go");
	return 0;
}

static int op_accepts(struct sockop_ctx *c, const long *arg, int nargs)
{
	unsigned char buf[512] = { 0 };
	long count = arg[0], reply = arg[1], i;
	int conn;

	if (reply > (long)sizeof(buf))
		reply = sizeof(buf);
	for (i = 0; i < count; i++) {
		conn = sockops_accept(c->events, c->fd);
		if (conn < 0)
			return 1;
		if (sockops_recv(c->events, conn, buf, sizeof(buf)) > 0)
			LAB_EVENT_CALL(c->events, "send",
				       send(conn, buf, (size_t)reply, MSG_NOSIGNAL), NULL);
		/* kept open until the program ends: no FIN races the client's recv() */
	}
	return 0;
}

/* ---- teardown (Catalogue II) -------------------------------------------------------------- */

/*
 * fork[:HOW]: a child process holds a copy of the socket until this program ends (it dies with
 * it: PR_SET_PDEATHSIG), so a close() here drops only one reference; with HOW the child calls
 * shutdown(HOW) first, reported with the detail "in the child"
 */
static int op_fork(struct sockop_ctx *c, const long *arg, int nargs)
{
	pid_t parent = getpid(), pid = fork();

	if (pid == 0) {
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
			_exit(0);
		if (nargs)
			LAB_EVENT_CALL(c->events, "shutdown", shutdown(c->fd, (int)arg[0]),
				       "in the child");
		for (;;)
			pause();
	}
	lab_event_emit(c->events, "fork", pid < 0 ? -1 : 0, pid < 0 ? errno : 0,
		       "a child holds the socket");
	return pid < 0;
}

/* ---- the table: a verb is one row here and one function above ------------------------------ */

static const struct sockop_verb verbs[] = {
	{ "accept", 0, 0, "accept", "accept one connection; the listener is closed (server)",
	  op_accept },
	{ "listen", 0, 1, "listen[:N]",
	  "listen() (tcplab-server --bind-only); with N, listen() again with backlog N: a new "
	  "accept-queue limit (server)",
	  op_listen },
	{ "ping", 1, 1, "ping:MS",
	  "one ICMP echo request to the server, its reply awaited at most MS (client)", op_ping },
	{ "bind", 1, 1, "bind:PORT", "bind() to source port PORT (client: before a connect step)",
	  op_bind },
	{ "connect", 0, 0, "connect",
	  "connect() to the server (client); if the script has one, the client does not "
	  "connect before the steps",
	  op_connect },
	{ "nbconnect", 0, 0, "nbconnect", "O_NONBLOCK, then connect(): EINPROGRESS (client)",
	  op_nbconnect },
	{ "acceptloop", 2, 3, "acceptloop:NOFILE:MIN_MS[:1]",
	  "LT epoll accept loop at RLIMIT_NOFILE = NOFILE, every fd taken (EMFILE); :1 keeps a "
	  "reserve fd to accept and shed; until go and MIN_MS (server)",
	  op_acceptloop },
	{ "epollout", 0, 1, "epollout[:MS]",
	  "epoll_wait() for EPOLLOUT, at most MS ms (default: no limit); the events as detail",
	  op_epollout },
	{ "soerror", 0, 0, "soerror", "getsockopt(SO_ERROR): the pending error, as the errno",
	  op_soerror },
	{ "recv", 0, 1, "recv[:BUF]",
	  "one recv() with a BUF-byte buffer (default 65536; 0 reads nothing)", op_recv },
	{ "queued", 1, 1, "queued:N",
	  "wait until N bytes are queued to read (or EOF); read none of them", op_queued },
	{ "drain", 0, 1, "drain[:N]",
	  "recv() until N bytes in all (0 or absent: until EOF or error)", op_drain },
	{ "send", 1, 1, "send:N", "one send() of N bytes (MSG_NOSIGNAL: EPIPE is reported)",
	  op_send },
	{ "sigsend", 1, 1, "sigsend:N",
	  "one send() of N bytes without MSG_NOSIGNAL: EPIPE comes with SIGPIPE (kills by default)",
	  op_sigsend },
	{ "close", 0, 0, "close", "close() the socket", op_close },
	{ "shutdown", 1, 1, "shutdown:wr|rd|rdwr", "shutdown() one or both directions",
	  op_shutdown },
	{ "rcvlowat", 1, 1, "rcvlowat:N", "SO_RCVLOWAT: recv() waits for N bytes (a busy reader)",
	  op_rcvlowat },
	{ "msgs", 2, 2, "msgs:COUNT:SIZE",
	  "COUNT messages of SIZE bytes, one send() each, no framing", op_msgs },
	{ "fmsgs", 2, 2, "fmsgs:COUNT:SIZE", "as msgs, each with a 4-byte big-endian length prefix",
	  op_fmsgs },
	{ "naive", 2, 3, "naive:COUNT:SIZE[:BUF]",
	  "read COUNT*SIZE bytes taking each recv() as one message (the bug)", op_naive },
	{ "framed", 1, 1, "framed:COUNT",
	  "read COUNT length-prefixed messages, reassembling across recv()s", op_framed },
	{ "request", 4, 5, "request:N:HDR:BODY:REPLY[:1]",
	  "N timed rounds: send HDR, send BODY (:1 one writev()), read REPLY", op_request },
	{ "serve", 3, 4, "serve:N:REQ:REPLY[:1]",
	  "N times: read REQ bytes, send REPLY bytes (:1 re-arm TCP_QUICKACK)", op_serve },
	{ "cork", 0, 0, "cork", "TCP_CORK on", op_cork },
	{ "nodelay", 0, 0, "nodelay", "TCP_NODELAY on (Nagle off)", op_nodelay },
	{ "quickack", 0, 0, "quickack", "TCP_QUICKACK on (the kernel turns it off again)",
	  op_quickack },
	{ "keepalive", 3, 3, "keepalive:IDLE:INTVL:CNT",
	  "SO_KEEPALIVE; TCP_KEEPIDLE, TCP_KEEPINTVL in seconds; TCP_KEEPCNT", op_keepalive },
	{ "user_timeout", 1, 1, "user_timeout:MS", "TCP_USER_TIMEOUT in milliseconds",
	  op_user_timeout },
	{ "rcvtimeo", 1, 1, "rcvtimeo:MS", "SO_RCVTIMEO: recv() gives up after MS with EAGAIN",
	  op_rcvtimeo },
	{ "linger", 1, 1, "linger:SECS",
	  "SO_LINGER on with SECS (0: the next close() sends a RST, not a FIN)", op_linger },
	{ "mark", 0, 0, "mark",
	  "report that the steps before it are done (the harness waits for it)", op_mark },
	{ "wait", 0, 0, "wait", "block until a line or EOF on stdin: the harness's \"go\" (Enter)",
	  op_wait },
	{ "accepts", 2, 2, "accepts:N:REPLY",
	  "accept N connections, each: one recv(), a send() of REPLY bytes", op_accepts },
	{ "fork", 0, 1, "fork[:wr|rd|rdwr]",
	  "a child holds the socket until this program ends; with HOW it first calls "
	  "shutdown(HOW)",
	  op_fork },
	/* buffers (Catalogue II, C1-C4) */
	{ "sndbuf", 1, 1, "sndbuf:N", "SO_SNDBUF N (the kernel doubles it; no autotuning)",
	  op_sndbuf },
	{ "sndtimeo", 1, 1, "sndtimeo:MS", "SO_SNDTIMEO: a blocking send() waits at most MS ms",
	  op_sndtimeo },
	{ "nbwrite", 2, 2, "nbwrite:N:MS",
	  "send(MSG_DONTWAIT) of N bytes until EAGAIN, epoll_wait() for EPOLLOUT at most MS, "
	  "again until a wait times out (an event loop's writer)",
	  op_nbwrite },
	{ "sends", 2, 3, "sends:N:COUNT[:1]",
	  "up to COUNT send()s of N bytes, until one fails; :1 with MSG_DONTWAIT", op_sends },
	/* ports (Catalogue I): more sockets, bind(), ephemeral ports, restarts */
	{ "connects", 1, 3, "connects:N[:MODE[:PORT]]",
	  "N more connect()s to the peer (or its PORT), kept; MODE 1 bind() first, "
	  "2 with IP_BIND_ADDRESS_NO_PORT, 4 close() each",
	  sockops_op_connects },
	{ "idle", 1, 1, "idle:MS", "let MS milliseconds pass (a TIME_WAIT grows older)",
	  sockops_op_idle },
	{ "drains", 1, 1, "drains:N", "accept N connections in turn, each read to EOF and close()d",
	  sockops_op_drains },
	{ "closes", 1, 1, "closes:N",
	  "accept N connections, close() them all (server first), then the listener",
	  sockops_op_closes },
	{ "relisten", 1, 1, "relisten:OPTS",
	  "a new listener on the same address (OPTS as bindto), then the old one closed",
	  sockops_op_relisten },
	{ "bindto", 2, 3, "bindto:ADDR:PORT[:OPTS]",
	  "another socket bound to ADDR (0 any, 1 own) and PORT (0 own); OPTS 1 SO_REUSEADDR, "
	  "2 SO_REUSEPORT, 4 listen()",
	  sockops_op_bindto },
};

#define N_VERBS (sizeof(verbs) / sizeof(verbs[0]))

const struct sockop_verb *sockops_verb(size_t i)
{
	return i < N_VERBS ? &verbs[i] : NULL;
}

void sockops_help(FILE *out, const char *indent)
{
	int width = 0;
	size_t i;

	for (i = 0; i < N_VERBS; i++)
		if ((int)strlen(verbs[i].args) > width)
			width = (int)strlen(verbs[i].args);
	for (i = 0; i < N_VERBS; i++)
		fprintf(out, "%s%-*s  %s\n", indent, width, verbs[i].args, verbs[i].help);
}

/* ---- parse and run, generic over the table ------------------------------------------------ */

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
	const struct sockop_verb *v = NULL;
	size_t i;

	for (i = 0; name && i < N_VERBS && !v; i++)
		if (!strcmp(name, verbs[i].name))
			v = &verbs[i];
	if (!v) {
		snprintf(why, whylen, "unknown step '%s'", name ? name : "");
		return -1;
	}
	op->verb = v;
	op->nargs = 0;
	memset(op->arg, 0, sizeof(op->arg));
	while ((arg = strtok_r(NULL, ":", &step))) {
		if (op->nargs == v->max_args || op->nargs == SOCKOPS_MAX_ARGS ||
		    parse_arg(arg, &op->arg[op->nargs])) {
			snprintf(why, whylen, "step '%s': bad or extra argument '%s'", name, arg);
			return -1;
		}
		op->nargs++;
	}
	if (op->nargs < v->min_args) {
		snprintf(why, whylen, "step '%s' needs %d argument(s)", name, v->min_args);
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

int sockops_run(const struct sockop *ops, int n, int fd, FILE *events)
{
	return sockops_run_to(ops, n, fd, NULL, events);
}

bool sockops_connects(const struct sockop *ops, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (ops[i].verb->run == op_connect || ops[i].verb->run == op_nbconnect)
			return true;
	return false;
}

int sockops_run_to(const struct sockop *ops, int n, int fd, const struct sockaddr_in *peer,
		   FILE *events)
{
	struct sockop_ctx c = { .fd = fd, .events = events, .target = peer };
	socklen_t len = sizeof(c.self);
	int i, err = 0;

	getsockname(fd, (struct sockaddr *)&c.self, &len);
	len = sizeof(c.peer);
	getpeername(fd, (struct sockaddr *)&c.peer, &len);
	for (i = 0; i < n && !err; i++)
		err = ops[i].verb->run(&c, ops[i].arg, ops[i].nargs);
	for (i = 0; i < c.n_kept; i++)
		close(c.kept[i]);
	if (c.fd >= 0)
		close(c.fd);
	return err;
}
