// SPDX-License-Identifier: MIT
/*
 * The story's waits (story.h): on socket states (inet_diag) and counters (nstat), each with
 * the run's deadline, never a sleep standing in for "long enough".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
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

/*
 * The user's own programs may never do what a step waits for (curl's data completes the
 * handshake: no SYN_RECV to see). Their run then is not the lab breaking: the wait ends a grace
 * period after the last client is gone (or at the budget), the story stops there,
 * and judge() still runs, with "precondition not met: ..." as a failed expectation.
 */
#define USER_GRACE_US 3000000

static bool users(const struct lab_run *run)
{
	return run->opts->server_cmd || run->opts->client_cmd;
}

/* the clients drive a story (a server, ours or theirs, may serve forever): any still going? */
static bool programs_running(struct lab_run *run)
{
	size_t i;

	for (i = 0; i < run->n_clients; i++)
		if (lab_proc_running(&run->clients[i]))
			return true;
	return !run->n_clients && lab_proc_running(&run->server);
}

struct bounded {
	lab_socks_pred pred;
	const void *arg;
	struct lab_run *run;
	int64_t *gone_since; /* when the programs were first seen gone, or -1 */
	bool *met, *died;
};

/*
 * The wait's predicate; or a program killed meanwhile (its death ends every wait at once: it is
 * the run's ERROR, and waiting on would only spend the budget and then blame the wait); or the
 * user's programs done for a grace period.
 */
static bool bounded_pred(const struct lab_socks *s, const void *arg)
{
	const struct bounded *b = arg;

	*b->died = lab_run_died(b->run);
	if (*b->died)
		return true;
	if (b->pred(s, b->arg)) {
		*b->met = true;
		return true;
	}
	if (!users(b->run))
		return false;
	if (programs_running(b->run)) {
		*b->gone_since = -1;
		return false;
	}
	if (*b->gone_since < 0)
		*b->gone_since = lab_mono_us();
	return lab_mono_us() - *b->gone_since >= USER_GRACE_US;
}

static void wait_socks(struct lab_run *run, enum lab_host host, lab_socks_pred pred,
		       const void *arg, const char *what)
{
	int64_t gone_since = -1;
	bool met = false, died = false;
	struct bounded b = { pred, arg, run, &gone_since, &met, &died };
	int err = lab_tcpdiag_wait_for(&run->topo.ns[host], run->port, bounded_pred, &b,
				       run->deadline_us);

	if (met)
		return;
	if (died || (err == -ETIMEDOUT && lab_run_died(run))) {
		lab_run_blame_deaths(run); /* a death just before the deadline is still the cause */
		return;
	}
	if (users(run) && (!err || err == -ETIMEDOUT)) {
		snprintf(run->unmet, sizeof(run->unmet), "%s", what);
		run->err = -ETIMEDOUT; /* the story stops here; judge() still runs */
		return;
	}
	lab_run_error(run, err ? err : -ETIMEDOUT, "timed out waiting until %s", what);
}

void lab_wait_state(struct lab_run *run, enum lab_host host, int state)
{
	struct lab_socks_state w = { run->port, state };
	char what[96];

	if (!failed(run))
		lab_run_record(run, "# wait until: ip netns exec %s ss -tan state %s sport = :%d",
			       lab_host_name(host), lab_tcp_state_name(state), run->port);
	if (skip_wait(run))
		return;
	snprintf(what, sizeof(what), "the %s showed %s on port %d", lab_host_name(host),
		 lab_tcp_state_name(state), run->port);
	wait_socks(run, host, lab_socks_have_state, &w, what);
}

void lab_wait_settled(struct lab_run *run, enum lab_host host)
{
	uint16_t port = run->port;
	char what[96];

	if (!failed(run))
		lab_run_record(run, "# wait until ip netns exec %s ss -tan shows no socket closing",
			       lab_host_name(host));
	if (skip_wait(run))
		return;
	snprintf(what, sizeof(what), "the %s's sockets settled", lab_host_name(host));
	wait_socks(run, host, lab_socks_settled, &port, what);
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
	wait_socks(run, host, pred, arg, what);
}

/* a connection on the port with tcp_info, idle at least *arg ms every way */
static bool idle_for(const struct lab_socks *s, const void *arg)
{
	const long ms = *(const long *)arg;
	size_t i;

	for (i = 0; i < s->n; i++) {
		const struct tcp_info *t = &s->v[i].info;

		if (s->v[i].state == TCP_ESTABLISHED && s->v[i].has_info &&
		    t->tcpi_last_data_sent >= ms && t->tcpi_last_data_recv >= ms &&
		    t->tcpi_last_ack_recv >= ms)
			return true;
	}
	return false;
}

void lab_wait_idle(struct lab_run *run, enum lab_host host, long ms)
{
	char what[96];

	if (!failed(run))
		lab_run_record(run,
			       "# wait until the connection has been idle %ld ms "
			       "(ip netns exec %s ss -tni: lastsnd, lastrcv, lastack)",
			       ms, lab_host_name(host));
	if (skip_wait(run))
		return;
	snprintf(what, sizeof(what), "the %s's connection idle for %ld ms", lab_host_name(host),
		 ms);
	wait_socks(run, host, idle_for, &ms, what);
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

void lab_states(struct lab_run *run, enum lab_host host, struct lab_socks *out)
{
	if (skip_wait(run))
		return;
	lab_run_states(run, host, out);
}

int64_t lab_states_count(struct lab_run *run, enum lab_host host, int state)
{
	struct lab_socks socks = LAB_SOCKS_INIT;
	int64_t n;

	lab_states(run, host, &socks);
	n = (int64_t)lab_socks_count(&socks, LAB_PORT, state);
	lab_socks_free(&socks);
	return n;
}

static size_t count_calls(const char *out, const char *call)
{
	char needle[48];
	size_t n = 0;

	snprintf(needle, sizeof(needle), "\"call\":\"%s\"", call);
	for (; out && (out = strstr(out, needle)); out += strlen(needle))
		n++;
	return n;
}

void lab_wait_calls(struct lab_run *run, int who, const char *call, size_t n)
{
	struct lab_proc *p;
	char name[16];

	if (!failed(run))
		lab_run_record(run, "# wait until %s has made %zu %s() call(s)",
			       lab_run_prog_name(who, name, sizeof(name)), n, call);
	if (skip_wait(run) || !(p = lab_run_prog(run, who)))
		return;
	while (count_calls(p->out, call) < n) {
		if (lab_run_died(run)) {
			lab_run_blame_deaths(run);
			return;
		}
		if (!lab_proc_running(p)) /* what it printed before it ended */
			lab_proc_pump(p, lab_mono_us());
		if (count_calls(p->out, call) >= n)
			break;
		if (lab_mono_us() >= run->deadline_us || !lab_proc_running(p)) {
			lab_run_error(run, -ETIMEDOUT, "%s never made %zu %s() call(s)", name, n,
				      call);
			return;
		}
		lab_proc_pump(p, lab_mono_us() + 10000); /* returns as soon as it prints */
	}
}
