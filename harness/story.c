// SPDX-License-Identifier: MIT
/*
 * The scenario-facing steps (story.h): programs, the lab's knobs, pauses and the kernel's
 * timers (the waits are in wait.c). Every step is a no-op once the run has failed (sticky errors); in a dry run
 * steps only record the commands a person would type.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run.h"
#include "link.h"
#include "sysctl.h"

#define STEP_MAX 512 /* a program's step script */

const struct lab_variant *lab_story_variant(struct lab_run *run)
{
	return run->variant;
}

const struct lab_variant *lab_story_expect_as(struct lab_run *run)
{
	return run->expect_as;
}

const void *lab_story_params(struct lab_run *run, size_t size)
{
	if (size != run->sc->params_size)
		abort(); /* LAB_SCENARIO() was given another type than the table describes */
	return run->params;
}

void *lab_story_obs(struct lab_run *run, size_t size)
{
	if (size != run->sc->obs_size)
		abort();
	return run->obs;
}

int lab_status(const struct lab_run *run)
{
	return run->err;
}

int lab_failf(struct lab_run *run, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err = lab_run_verror(run, err, fmt, ap);
	va_end(ap);
	return err;
}

static bool failed(const struct lab_run *run)
{
	return run->err != 0;
}

void lab_server(struct lab_run *run, const struct lab_server_knobs *knobs, const char *fmt, ...)
{
	char ops[STEP_MAX];
	va_list ap;

	if (failed(run))
		return;
	va_start(ap, fmt);
	vsnprintf(ops, sizeof(ops), fmt, ap);
	va_end(ap);
	lab_run_start_server(run, knobs, ops);
}

int lab_client(struct lab_run *run, const char *fmt, ...)
{
	char ops[STEP_MAX];
	va_list ap;
	int who;

	if (failed(run))
		return -1;
	va_start(ap, fmt);
	vsnprintf(ops, sizeof(ops), fmt, ap);
	va_end(ap);
	who = lab_run_start_client(run, ops);
	return who < 0 ? -1 : who;
}

void lab_finish(struct lab_run *run, int who)
{
	if (!failed(run))
		lab_run_finish(run, who);
}

void lab_finish_status(struct lab_run *run, int who, int code)
{
	if (!failed(run))
		lab_run_finish_status(run, who, code);
}

void lab_finish_all(struct lab_run *run)
{
	size_t i;

	for (i = 0; i < run->n_clients; i++)
		lab_finish(run, (int)i);
	lab_finish(run, LAB_PROG_SERVER);
}

void lab_go(struct lab_run *run, int who)
{
	struct lab_proc *p;
	char name[16];

	if (failed(run))
		return;
	lab_run_record(run, "# %s: press Enter at its `wait` step",
		       lab_run_prog_name(who, name, sizeof(name)));
	if (run->dry)
		return;
	p = lab_run_prog(run, who);
	if ((!p || lab_proc_go(p)) && !lab_run_blame_deaths(run))
		lab_run_error(run, -EPIPE, "%s is gone: it cannot be told to go on",
			      lab_run_prog_name(who, name, sizeof(name)));
}

bool lab_ours(const struct lab_run *run, int who)
{
	char name[16];

	return lab_run_ours(run, lab_run_prog_name(who, name, sizeof(name)));
}

bool lab_needs_at(struct lab_run *run, int key, int who, const char *what)
{
	char name[16], why[64];

	if (lab_ours(run, who))
		return true;
	lab_run_prog_name(who, name, sizeof(name));
	if (who != LAB_PROG_SERVER)
		snprintf(name, sizeof(name), "client");
	snprintf(why, sizeof(why), "--%s-cmd runs instead of tcplab-%s", name, name);
	lab_expect_na(&run->ex, what, why);
	lab_run_key_last(run, key);
	return false;
}

bool lab_params_of_at(struct lab_run *run, int key, int who, const char *names)
{
	char what[128], why[96];
	const char *side = who == LAB_PROG_SERVER ? "server" : "client";

	if (lab_ours(run, who))
		return true;
	snprintf(what, sizeof(what), "parameter%s %s (--set)", strchr(names, ',') ? "s" : "",
		 names);
	snprintf(why, sizeof(why), "--%s-cmd runs instead of tcplab-%s: they configure ours only",
		 side, side);
	lab_expect_na(&run->ex, what, why);
	lab_run_key_last(run, key);
	return false;
}

void lab_not_applicable_at(struct lab_run *run, int key, const char *what, const char *why)
{
	lab_expect_na(&run->ex, what, why);
	lab_run_key_last(run, key);
}

static void set_sysctl(struct lab_run *run, enum lab_host host, const char *key, const char *text)
{
	int err;

	if (failed(run))
		return;
	lab_run_record(run, "ip netns exec %s sysctl -qw %s=%s%s%s", lab_host_name(host), key,
		       strchr(text, ' ') ? "'" : "", text, strchr(text, ' ') ? "'" : "");
	if (run->dry)
		return;
	err = lab_topo_sysctl(&run->topo, host, key, text);
	if (err)
		lab_run_error(run, err, "cannot set %s=%s in the %s namespace", key, text,
			      lab_host_name(host));
}

void lab_sysctl(struct lab_run *run, enum lab_host host, const char *key, long value)
{
	char text[24];

	snprintf(text, sizeof(text), "%ld", value);
	set_sysctl(run, host, key, text);
}

void lab_sysctl_text(struct lab_run *run, enum lab_host host, const char *key, const char *fmt, ...)
{
	char text[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	set_sysctl(run, host, key, text);
}

long lab_sysctl_read(struct lab_run *run, enum lab_host host, const char *key, long absent)
{
	char buf[64], *end;
	int saved = -1;
	long v;

	if (failed(run) || run->dry || lab_netns_enter(&run->topo.ns[host], &saved))
		return absent;
	if (lab_sysctl_get(key, buf, sizeof(buf)))
		buf[0] = '\0';
	lab_netns_leave(&saved);
	v = strtol(buf, &end, 10);
	return end == buf ? absent : v;
}

void lab_no_route(struct lab_run *run, enum lab_host host)
{
	struct lab_rtnl rtnl = LAB_RTNL_INIT;
	int saved = -1, err;

	if (failed(run))
		return;
	lab_run_record(run, "ip netns exec %s ip route del default", lab_host_name(host));
	if (run->dry)
		return;
	err = lab_netns_enter(&run->topo.ns[host], &saved);
	if (!err)
		err = lab_rtnl_open(&rtnl);
	if (!err)
		err = lab_route_del_default(&rtnl);
	lab_rtnl_close(&rtnl);
	if (saved >= 0)
		lab_netns_leave(&saved);
	if (err)
		lab_run_error(run, err, "cannot delete the default route in the %s namespace",
			      lab_host_name(host));
	else
		lab_run_phase(run, "no default route any more");
}

int lab_impair(struct lab_run *run, const char *fmt, ...)
{
	struct lab_impair imp;
	char spec[256], why[256];
	va_list ap;
	int idx;

	if (failed(run))
		return -1;
	va_start(ap, fmt);
	vsnprintf(spec, sizeof(spec), fmt, ap);
	va_end(ap);
	if (lab_impair_parse(spec, &imp, why, sizeof(why))) {
		lab_run_error(run, -EINVAL, "impairment '%s': %s", spec, why);
		return -1;
	}
	lab_run_record(run, "# on the wire (tcplab's --impair syntax): %s", spec);
	if (run->dry)
		return 0;
	lab_run_wire_lock(run, true);
	idx = lab_wire_add(run->wire, &imp, why, sizeof(why));
	lab_run_wire_lock(run, false);
	if (idx < 0) {
		lab_run_error(run, idx, "cannot install impairment %s", why);
		return -1;
	}
	snprintf(why, sizeof(why), "the wire now does: %.200s", spec);
	lab_run_phase(run, why);
	return idx;
}

void lab_arm(struct lab_run *run, int idx, bool on)
{
	int err;

	if (failed(run))
		return;
	lab_run_record(run, "# now %s the wire's impairment %d", on ? "arm" : "release", idx);
	if (run->dry)
		return;
	lab_run_wire_lock(run, true);
	err = lab_wire_arm(run->wire, idx, on);
	lab_run_wire_lock(run, false);
	if (err) {
		lab_run_error(run, err, "cannot %s impairment %d: %s", on ? "arm" : "release", idx,
			      lab_wire_error(run->wire));
		return;
	}
	lab_run_note(run, "wire", "note", on ? "blackhole armed" : "blackhole released");
	lab_run_phase(run,
		      on ? "the wire is black: a blackhole is armed" : "the blackhole is released");
}

struct lab_impair_count lab_impaired(const struct lab_run *run, int idx)
{
	const struct lab_wire_stat *st = idx < 0 ? NULL : lab_wire_stat(run->wire, (size_t)idx);

	if (!st)
		return (struct lab_impair_count){ -1, -1, -1 };
	return (struct lab_impair_count){ st->matched, st->dropped, st->held };
}

void lab_note(struct lab_run *run, const char *fmt, ...)
{
	char text[sizeof(((struct lab_event *)0)->detail)];
	va_list ap;

	if (failed(run))
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	lab_run_record(run, "# %s", text);
	if (!run->dry)
		lab_run_note(run, "harness", "note", text);
}

/* a dry run lists the moments play() passes: what --step NAME and at=NAME may name */
static void remember(struct lab_run *run, const char *name, const char *what)
{
	size_t i;

	for (i = 0; i < run->n_moments; i++)
		if (!strcmp(run->moments[i].name, name))
			return;
	if (run->n_moments == LAB_MAX_MOMENTS)
		return;
	snprintf(run->moments[i].name, sizeof(run->moments[i].name), "%s", name);
	snprintf(run->moments[i].what, sizeof(run->moments[i].what), "%s", what);
	run->n_moments++;
}

void lab_pause(struct lab_run *run, const char *name, const char *what)
{
	if (failed(run))
		return;
	if (run->dry) {
		remember(run, name, what);
		return;
	}
	lab_run_moment_reached(run, name);
	lab_run_pause(run, name, what);
}

bool lab_moment_wanted(const struct lab_run *run, const char *name)
{
	return lab_run_moment_wanted(run, name);
}

const char *lab_hold(struct lab_run *run, int who, const char *name)
{
	return lab_run_moment_wanted(run, name) && lab_ours(run, who) ? "wait," : "";
}

void lab_moment(struct lab_run *run, int who, const char *after, size_t n, const char *name,
		const char *what)
{
	bool held = lab_run_moment_wanted(run, name) && lab_ours(run, who);

	if (held)
		lab_wait_calls(run, who, after, n);
	lab_pause(run, name, what);
	if (held)
		lab_go(run, who);
}

/* ---- the kernel's timers ---- */

int64_t lab_tick_us(const struct lab_run *run)
{
	return 1000000 / (run->kernel.hz ? run->kernel.hz : 1000);
}

int64_t lab_timer_us(const struct lab_run *run, enum lab_ktimer t)
{
	int hz = run->kernel.hz ? run->kernel.hz : 1000;

	switch (t) {
	case LAB_TICK:
		return lab_tick_us(run);
	case LAB_TCP_RTO_MIN: /* HZ / 5 */
		return (int64_t)(hz / 5) * lab_tick_us(run);
	case LAB_TCP_TIMEOUT_INIT: /* 1 * HZ */
		return (int64_t)hz * lab_tick_us(run);
	case LAB_TCP_DELACK_MIN: /* HZ / 25 */
		return (int64_t)(hz / 25) * lab_tick_us(run);
	case LAB_TCP_TIMEOUT_MIN: /* 2 jiffies, whatever HZ */
		return 2 * lab_tick_us(run);
	}
	return 0;
}

/*
 * The SYN timer, as tcp_retransmit_timer() and tcp_write_timeout() run it: it starts at
 * TCP_TIMEOUT_INIT and stays there for the first tcp_syn_linear_timeouts expiries (6.5+), then
 * doubles. connect() gives up at the first expiry where either the retransmissions reached
 * tcp_syn_retries + tcp_syn_linear_timeouts, or the time since the first SYN reached what
 * tcp_syn_retries retransmissions take with plain doubling (retransmits_timed_out(): (2^(r+1) - 1)
 * x TCP_TIMEOUT_INIT). Returns when; *@syns gets how many SYNs were sent.
 */
int64_t lab_syn_give_up_us(const struct lab_run *run, long retries, long linear, int64_t *syns)
{
	int64_t init = lab_timer_us(run, LAB_TCP_TIMEOUT_INIT), rto = init, t = 0;
	int64_t model = ((2L << retries) - 1) * init;
	long sent = 0, expiries = 0;

	linear = linear < 0 ? 0 : linear;
	for (;;) {
		t += rto;
		if (sent >= retries + linear || t >= model)
			break;
		sent++;
		if (++expiries > linear)
			rto *= 2;
	}
	*syns = 1 + sent;
	return t;
}

struct lab_window lab_window_us(const struct lab_run *run, int64_t expected_us)
{
	return lab_window(expected_us, run->scale);
}

/*
 * The timer wheel (kernel/time/timer.c): level 0 has one-tick buckets for timeouts below 63
 * ticks; each further level's buckets are 8 times coarser (LVL_CLK_SHIFT 3). A timer fires at
 * the end of its bucket: up to one granule late, never early, plus the tick it was armed in.
 */
/* the timer wheel's granule, in ticks, for a timer @ticks ahead: 1 below 64, 8 below 512 ... */
static int64_t granule(int64_t ticks)
{
	int64_t gran = 1, start = 63;

	while (ticks >= start && gran < (1 << 24)) {
		gran *= 8;
		start *= 8;
	}
	return gran;
}

int64_t lab_timer_slack_us(const struct lab_run *run, int64_t us)
{
	int64_t tick = lab_tick_us(run);

	return (granule(us / tick) + 1) * tick;
}

struct lab_window lab_timer_window(const struct lab_run *run, int64_t us)
{
	int64_t tick = lab_tick_us(run), gran = granule(us / tick);
	struct lab_window w;

	if (gran == 1)
		return lab_window(us + tick, run->scale);
	w = lab_window(us + gran * tick / 2, run->scale);
	if (w.hi_us - w.expected_us < gran * tick / 2 + tick) {
		w.lo_us = w.expected_us - (gran * tick / 2 + tick);
		w.hi_us = w.expected_us + (gran * tick / 2 + tick);
	}
	return w;
}
