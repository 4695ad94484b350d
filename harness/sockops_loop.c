// SPDX-License-Identifier: MIT
/*
 * The step verb acceptloop: an event loop's accept at its descriptor limit (EMFILE), with and
 * without a reserve descriptor. A row of the verb table in sockops.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "event.h"
#include "sockops_priv.h"

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
		sockops_emit_at(c->events, "accept", t0, conn < 0 ? -1 : 0, NULL);
	*last = outcome;
	if (conn < 0 && outcome == EMFILE && *spare >= 0) {
		/* the reserve: free one descriptor, take the connection, let it go at once */
		close(*spare);
		t0 = lab_now_us();
		conn = accept4(c->fd, NULL, NULL, SOCK_CLOEXEC);
		sockops_emit_at(c->events, "accept", t0, conn < 0 ? -1 : 0,
				"on the reserve descriptor");
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
int sockops_op_acceptloop(struct sockop_ctx *c, const long *arg, int nargs)
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
