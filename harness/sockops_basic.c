// SPDX-License-Identifier: MIT
/*
 * The plain step verbs on the program's own socket, one socket call each or a loop of them:
 * accept, recv, send, close, shutdown (queued, drain, accepts); mark and wait, the script's
 * handshake with the harness; fork, a second holder of the socket for teardown (Catalogue II).
 * Each is a row of the verb table in sockops.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/sockios.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "event.h"
#include "sockops_priv.h"

int sockops_op_accept(struct sockop_ctx *c, const long *arg, int nargs)
{
	int conn = sockops_accept(c->events, c->fd);

	if (conn < 0)
		return 1;
	close(c->fd); /* one connection per run; the listener goes with it */
	c->fd = conn;
	return 0;
}

int sockops_op_recv(struct sockop_ctx *c, const long *arg, int nargs)
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
int sockops_op_queued(struct sockop_ctx *c, const long *arg, int nargs)
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

int sockops_op_drain(struct sockop_ctx *c, const long *arg, int nargs)
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

/* one send() of @len zero bytes with @flags */
static int send_once(struct sockop_ctx *c, long len, int flags, const char *detail)
{
	unsigned char *buf = calloc(1, (size_t)len + 1);

	if (!buf)
		return 1;
	LAB_EVENT_CALL(c->events, "send", send(c->fd, buf, (size_t)len, flags), detail);
	free(buf);
	return 0;
}

/* MSG_NOSIGNAL: a send() on a reset connection reports EPIPE instead of killing us */
int sockops_op_send(struct sockop_ctx *c, const long *arg, int nargs)
{
	return send_once(c, arg[0], MSG_NOSIGNAL, NULL);
}

/* no MSG_NOSIGNAL: on a dead connection the kernel sends SIGPIPE (sk_stream_error()) */
int sockops_op_sigsend(struct sockop_ctx *c, const long *arg, int nargs)
{
	return send_once(c, arg[0], 0, "no MSG_NOSIGNAL");
}

int sockops_op_close(struct sockop_ctx *c, const long *arg, int nargs)
{
	LAB_EVENT_CALL(c->events, "close", close(c->fd), NULL);
	c->fd = -1;
	return 0;
}

int sockops_op_shutdown(struct sockop_ctx *c, const long *arg, int nargs)
{
	LAB_EVENT_CALL(c->events, "shutdown", shutdown(c->fd, (int)arg[0]), NULL);
	return 0;
}

/* a line the harness can wait for (lab_wait_calls(run, who, "note", 1)): the steps before it ran */
int sockops_op_mark(struct sockop_ctx *c, const long *arg, int nargs)
{
	lab_event_emit(c->events, "note", 0, 0, "the steps before this point are done");
	return 0;
}

/* wait for the harness (or a person) to say go: a line or EOF on stdin */
int sockops_op_wait(struct sockop_ctx *c, const long *arg, int nargs)
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

int sockops_op_accepts(struct sockop_ctx *c, const long *arg, int nargs)
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
int sockops_op_fork(struct sockop_ctx *c, const long *arg, int nargs)
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
