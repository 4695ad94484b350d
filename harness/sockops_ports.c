// SPDX-License-Identifier: MIT
/*
 * The step verbs about ports (Catalogue I): more sockets than the program's own, bind() with
 * and without SO_REUSEADDR / SO_REUSEPORT, ephemeral ports taken by connect() or bind(),
 * servers that close first and restart, listen() and a new backlog. Each is a row of the verb
 * table in sockops.c.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "event.h"
#include "sockops_priv.h"

#define PORT_REUSEADDR 1 /* OPTS bits of bindto and relisten */
#define PORT_REUSEPORT 2
#define PORT_LISTEN 4
#define CONNECT_BIND 1 /* MODE bits of connects */
#define CONNECT_NO_PORT 2
#define CONNECT_CLOSE 4

static const char *addr_text(const struct sockaddr_in *sin, char *buf, size_t len)
{
	char ip[INET_ADDRSTRLEN] = "?";

	inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
	snprintf(buf, len, "%s:%u", ip, ntohs(sin->sin_port));
	return buf;
}

static int set_opt(FILE *ev, int fd, int level, int opt, const char *name)
{
	return (int)LAB_EVENT_CALL(ev, name, setsockopt(fd, level, opt, &(int){ 1 }, sizeof(int)),
				   NULL);
}

/* a new TCP socket with the OPTS bits set before anything else, as servers do */
static int new_socket(struct sockop_ctx *c, long opts)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		lab_event_emit(c->events, "socket", -1, errno, NULL);
		return -1;
	}
	if (opts & PORT_REUSEADDR)
		set_opt(c->events, fd, SOL_SOCKET, SO_REUSEADDR, "SO_REUSEADDR");
	if (opts & PORT_REUSEPORT)
		set_opt(c->events, fd, SOL_SOCKET, SO_REUSEPORT, "SO_REUSEPORT");
	return fd;
}

static int do_bind(FILE *ev, int fd, const struct sockaddr_in *at)
{
	char detail[32];

	addr_text(at, detail, sizeof(detail));
	return (int)LAB_EVENT_CALL(ev, "bind", bind(fd, (const struct sockaddr *)at, sizeof(*at)),
				   detail);
}

static int do_listen(FILE *ev, int fd)
{
	return (int)LAB_EVENT_CALL(ev, "listen", listen(fd, 128), NULL);
}

/* the socket stays open until the program ends (sockops_run() closes it) */
static void keep(struct sockop_ctx *c, int fd)
{
	if (c->n_kept < SOCKOPS_MAX_KEPT)
		c->kept[c->n_kept++] = fd;
	else
		close(fd);
}

/* this host's address: the program's own, else the first IPv4 address not on loopback */
static struct in_addr host_addr(const struct sockop_ctx *c)
{
	struct in_addr a = c->self.sin_addr;
	struct ifaddrs *all, *i;

	if (a.s_addr != htonl(INADDR_ANY) || getifaddrs(&all))
		return a;
	for (i = all; i; i = i->ifa_next) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)i->ifa_addr;

		if (sin && sin->sin_family == AF_INET &&
		    !(ntohl(sin->sin_addr.s_addr) >> 24 == 127)) {
			a = sin->sin_addr;
			break;
		}
	}
	freeifaddrs(all);
	return a;
}

/* a port argument: 0 is the program's own port, else 1..65535 */
static bool port_arg(struct sockop_ctx *c, const char *call, long port)
{
	if (port <= 65535)
		return true;
	lab_event_emit(c->events, call, -1, EINVAL, "port above 65535");
	return false;
}

/*
 * N more connections to the peer (or to its port PORT), one connect() each, kept open. MODE
 * bits: 1 binds the own address with port 0 first: bind() reserves a port of its own
 * (inet_csk_get_port()) that no other destination may share; 2 sets IP_BIND_ADDRESS_NO_PORT
 * before that bind(), so the port is chosen by connect() as without bind(); 4 closes each
 * connection at once (the client closes first).
 */
int sockops_op_connects(struct sockop_ctx *c, const long *arg, int nargs)
{
	struct sockaddr_in to = c->peer, from = { .sin_family = AF_INET };
	long n = arg[0], mode = arg[1], i;
	char detail[32];
	int64_t t0;
	int fd, ret, err;

	if (!port_arg(c, "connect", arg[2]))
		return 1;
	if (arg[2])
		to.sin_port = htons((uint16_t)arg[2]);
	from.sin_addr = c->self.sin_addr;
	for (i = 0; i < n; i++) {
		fd = new_socket(c, 0);
		if (fd < 0)
			return 1;
		if (mode & CONNECT_NO_PORT)
			set_opt(c->events, fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT,
				"IP_BIND_ADDRESS_NO_PORT");
		if ((mode & (CONNECT_BIND | CONNECT_NO_PORT)) &&
		    do_bind(c->events, fd, &from) < 0) {
			close(fd);
			continue;
		}
		t0 = lab_now_us();
		ret = connect(fd, (struct sockaddr *)&to, sizeof(to));
		err = ret < 0 ? errno : 0;
		detail[0] = '\0';
		if (!ret) {
			struct sockaddr_in me;
			socklen_t len = sizeof(me);

			getsockname(fd, (struct sockaddr *)&me, &len);
			snprintf(detail, sizeof(detail), "from port %u", ntohs(me.sin_port));
		}
		lab_event_emit_call(c->events, "connect", t0, lab_now_us(), ret, err,
				    detail[0] ? detail : NULL);
		if (ret < 0)
			close(fd);
		else if (mode & CONNECT_CLOSE)
			LAB_EVENT_CALL(c->events, "close", close(fd), NULL);
		else
			keep(c, fd);
	}
	return 0;
}

/* time passing is the story here (a TIME_WAIT growing older), not a wait for something */
int sockops_op_idle(struct sockop_ctx *c, const long *arg, int nargs)
{
	struct timespec ts = { arg[0] / 1000, (arg[0] % 1000) * 1000000L };
	char detail[32];

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
	snprintf(detail, sizeof(detail), "%ld ms", arg[0]);
	lab_event_emit(c->events, "idle", 0, 0, detail);
	return 0;
}

/* N connections in turn, each read to its end and closed: the client closes first */
int sockops_op_drains(struct sockop_ctx *c, const long *arg, int nargs)
{
	unsigned char buf[4096];
	long i, got;
	int conn;

	for (i = 0; i < arg[0]; i++) {
		conn = sockops_accept(c->events, c->fd);
		if (conn < 0)
			return 1;
		do
			got = sockops_recv(c->events, conn, buf, sizeof(buf));
		while (got > 0);
		LAB_EVENT_CALL(c->events, "close", close(conn), NULL);
	}
	return 0;
}

/* N connections, then every one closed (the server closes first) and the listener too */
int sockops_op_closes(struct sockop_ctx *c, const long *arg, int nargs)
{
	int *conns = calloc((size_t)arg[0] + 1, sizeof(int));
	long i, n = 0;

	if (!conns)
		return 1;
	while (n < arg[0]) {
		conns[n] = sockops_accept(c->events, c->fd);
		if (conns[n] < 0)
			break;
		n++;
	}
	for (i = 0; i < n; i++)
		LAB_EVENT_CALL(c->events, "close", close(conns[i]), NULL);
	LAB_EVENT_CALL(c->events, "close", close(c->fd), "the listener");
	c->fd = -1;
	free(conns);
	return n < arg[0];
}

/*
 * listen: listen() on the program's socket, bound by tcplab-server --bind-only. listen:N -
 * listen() again with backlog N: on a LISTEN socket only the backlog changes (inet_listen()).
 */
int sockops_op_listen(struct sockop_ctx *c, const long *arg, int nargs)
{
	char detail[32];

	if (!nargs) {
		do_listen(c->events, c->fd);
		return 0;
	}
	snprintf(detail, sizeof(detail), "backlog %ld", arg[0]);
	LAB_EVENT_CALL(c->events, "listen", listen(c->fd, (int)arg[0]), detail);
	return 0;
}

/*
 * A new listener on the program's address (a restart, or a second process joining a reuseport
 * group), then the old socket closed if it is still open; the script goes on with the new one.
 * A bind() or listen() that fails ends the script, as a server that cannot listen exits.
 */
int sockops_op_relisten(struct sockop_ctx *c, const long *arg, int nargs)
{
	int fd = new_socket(c, arg[0]);

	if (fd < 0)
		return 1;
	if (do_bind(c->events, fd, &c->self) < 0 || do_listen(c->events, fd) < 0) {
		close(fd);
		return 1;
	}
	if (c->fd >= 0)
		LAB_EVENT_CALL(c->events, "close", close(c->fd), "the old listener");
	c->fd = fd;
	return 0;
}

/*
 * Another socket, bound to ADDR (0 any, 1 this host's address) and PORT (0: the program's
 * own), OPTS set first, listening if asked; kept open until the end, never accepted from.
 */
int sockops_op_bindto(struct sockop_ctx *c, const long *arg, int nargs)
{
	struct sockaddr_in at = { .sin_family = AF_INET, .sin_port = c->self.sin_port };
	int fd;

	if (arg[0] > 1) {
		lab_event_emit(c->events, "bind", -1, EINVAL, "ADDR is 0 (any) or 1 (this host)");
		return 1;
	}
	if (!port_arg(c, "bind", arg[1]))
		return 1;
	if (arg[1])
		at.sin_port = htons((uint16_t)arg[1]);
	if (arg[0])
		at.sin_addr = host_addr(c);
	fd = new_socket(c, arg[2]);
	if (fd < 0)
		return 1;
	if (do_bind(c->events, fd, &at) < 0 ||
	    ((arg[2] & PORT_LISTEN) && do_listen(c->events, fd) < 0)) {
		close(fd);
		return 0;
	}
	keep(c, fd);
	return 0;
}
