// SPDX-License-Identifier: MIT
/*
 * The story's waits (story.h): for socket states through inet_diag and for counters, polled
 * with the scenario's budget as the deadline. A program killed meanwhile ends every wait at
 * once: its death is the run's ERROR, and waiting on for what it can no longer do would only
 * spend the budget and then blame the wait.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <time.h>

#include "run.h"

static bool failed(const struct lab_run *run)
{
	return run->err != 0;
}

static bool skip_wait(const struct lab_run *run)
{
	return failed(run) || run->dry;
}

/* a wait's predicate, or a program killed meanwhile: that death ends every wait at once */
struct watched {
	struct lab_run *run;
	lab_socks_pred pred;
	const void *arg;
	bool *died;
};

static bool done_or_died(const struct lab_socks *s, const void *arg)
{
	const struct watched *w = arg;

	*w->died = lab_run_died(w->run);
	return *w->died || w->pred(s, w->arg);
}

/* 0 once @pred holds; a death is the run's ERROR (-ECHILD); else -ETIMEDOUT or -errno */
static int wait_sockets(struct lab_run *run, enum lab_host host, lab_socks_pred pred,
			const void *arg)
{
	bool died = false;
	struct watched w = { run, pred, arg, &died };
	int err = lab_tcpdiag_wait_for(&run->topo.ns[host], done_or_died, &w, run->deadline_us);

	if (!err && died)
		return lab_run_blame_deaths(run);
	if (err == -ETIMEDOUT) /* a death just before the deadline is still the cause */
		lab_run_blame_deaths(run);
	return err;
}

void lab_wait_state(struct lab_run *run, enum lab_host host, int state)
{
	struct lab_socks_state want = { LAB_PORT, state };

	if (!failed(run))
		lab_run_record(run, "# wait until: ip netns exec %s ss -tan state %s sport = :%d",
			       lab_host_name(host), lab_tcp_state_name(state), LAB_PORT);
	if (skip_wait(run))
		return;
	if (wait_sockets(run, host, lab_socks_have_state, &want))
		lab_run_error(run, -ETIMEDOUT, "the %s never showed %s on port %d",
			      lab_host_name(host), lab_tcp_state_name(state), LAB_PORT);
}

void lab_wait_settled(struct lab_run *run, enum lab_host host)
{
	uint16_t port = LAB_PORT;

	if (!failed(run))
		lab_run_record(run, "# wait until ip netns exec %s ss -tan shows no socket closing",
			       lab_host_name(host));
	if (skip_wait(run))
		return;
	if (wait_sockets(run, host, lab_socks_settled, &port))
		lab_run_error(run, -ETIMEDOUT, "the %s's sockets never settled",
			      lab_host_name(host));
}

void lab_wait_for(struct lab_run *run, enum lab_host host,
		  bool (*pred)(const struct lab_socks *s, const void *arg), const void *arg,
		  const char *what)
{
	if (!failed(run))
		lab_run_record(run, "# wait until %s (ip netns exec %s ss -tanoi)", what,
			       lab_host_name(host));
	if (skip_wait(run))
		return;
	if (wait_sockets(run, host, pred, arg))
		lab_run_error(run, -ETIMEDOUT, "timed out waiting until %s", what);
}

void lab_wait_counter(struct lab_run *run, enum lab_host host, const char *name, int64_t delta)
{
	struct timespec tick = { 0, 1000000 };
	int err = 0;

	if (!failed(run))
		lab_run_record(run, "# wait until ip netns exec %s nstat -az %s grows by %lld",
			       lab_host_name(host), name, (long long)delta);
	if (skip_wait(run))
		return;
	for (;;) {
		struct lab_nstat now = { 0 };
		int64_t d = 0;

		err = lab_nstat_read(&now, &run->topo.ns[host]);
		if (!err)
			d = lab_nstat_delta(&run->before[host], &now, name);
		lab_nstat_free(&now);
		if (err || d >= delta)
			break;
		if (lab_run_died(run)) {
			err = lab_run_blame_deaths(run);
			break;
		}
		if (lab_mono_us() >= run->deadline_us) {
			err = -ETIMEDOUT;
			break;
		}
		nanosleep(&tick, NULL); /* a polling interval, not a guess at when it is done */
	}
	if (err)
		lab_run_error(run, err, "the %s's %s never grew by %lld", lab_host_name(host), name,
			      (long long)delta);
}
