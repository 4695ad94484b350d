// SPDX-License-Identifier: MIT
/*
 * The story's named moments (lab_pause() in a scenario): which a run stops at (--step, --step
 * NAME), the --impair ...,at=MOMENT impairments installed there, and the story's clock that
 * installs the at=T ones. A moment's names come from a dry run of play(), so the list is what
 * the story really passes, checked before any lab is built.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "run.h"

/* the clock of at=T: story time, which stops while --step pauses */
struct lab_clock {
	struct lab_run *run;
	pthread_t thread;
	pthread_mutex_t lock; /* this, and the wire's configuration (story.c and the thread) */
	pthread_cond_t cond;
	int64_t start_us, paused_us, paused_since; /* monotonic; paused_since 0: running */
	bool stop;
};

/* "a, b, c" */
static void names(const struct lab_moment *m, size_t n, char *buf, size_t len)
{
	size_t i, o = 0;

	buf[0] = '\0';
	for (i = 0; i < n && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? ", " : "", m[i].name);
	if (!n)
		snprintf(buf, len, "none");
}

static bool known(const struct lab_moment *m, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(m[i].name, name))
			return true;
	return false;
}

int lab_run_check_moments(struct lab_run *run, char *why, size_t len)
{
	const struct lab_run_opts *o = run->opts;
	struct lab_moment m[LAB_MAX_MOMENTS];
	char list[LAB_MAX_MOMENTS * 34];
	size_t i;
	int n;

	for (i = 0; i < LAB_WIRE_MAX; i++)
		run->applied_idx[i] = -1;
	for (i = 0; i < run->n_extra && !run->extra[i].at[0]; i++)
		;
	if (o->dry || (!o->step_at && i == run->n_extra))
		return 0;
	n = lab_moments(run->sc, run->variant->name, m, LAB_MAX_MOMENTS);
	if (n < 0) {
		snprintf(why, len, "cannot list the moments of %s: %s", run->sc->name,
			 strerror(-n));
		return LAB_EXIT_ERROR;
	}
	names(m, (size_t)n, list, sizeof(list));
	if (o->step_at && !known(m, (size_t)n, o->step_at)) {
		snprintf(why, len,
			 "--step %s: %s (variant %s) has no moment '%s' (its moments: %s)",
			 o->step_at, run->sc->name, run->variant->name, o->step_at, list);
		return LAB_EXIT_USAGE;
	}
	for (i = 0; i < run->n_extra; i++)
		if (run->extra[i].at[0] && !known(m, (size_t)n, run->extra[i].at)) {
			snprintf(
				why, len,
				"--impair %s: %s (variant %s) has no moment '%s' (its moments: %s; "
				"or a time: at=2s)",
				run->extra[i].spec, run->sc->name, run->variant->name,
				run->extra[i].at, list);
			return LAB_EXIT_USAGE;
		}
	return 0;
}

bool lab_run_extra_later(const struct lab_run *run, size_t i)
{
	return run->extra[i].at[0] || run->extra[i].at_us >= 0;
}

bool lab_run_moment_wanted(const struct lab_run *run, const char *name)
{
	size_t i;

	if (run->dry || run->err)
		return false;
	if (run->opts->step && (!run->opts->step_at || !strcmp(run->opts->step_at, name)))
		return true;
	for (i = 0; i < run->n_extra; i++)
		if (!run->applied_us[i] && !strcmp(run->extra[i].at, name))
			return true;
	return false;
}

/* install extra impairment @i now; from the clock's thread too (no events, no errors there) */
static int apply(struct lab_run *run, size_t i)
{
	char why[256];
	int idx;

	if (run->clock)
		pthread_mutex_lock(&run->clock->lock);
	idx = run->applied_us[i] || !run->wire ?
		      0 :
		      lab_wire_add(run->wire, &run->extra[i], why, sizeof(why));
	if (!run->applied_us[i] && run->wire) {
		run->applied_us[i] = lab_now_us();
		run->applied_idx[i] = idx;
	}
	if (run->clock)
		pthread_mutex_unlock(&run->clock->lock);
	return idx;
}

/* on the ladder, and the error if it could not be installed (the story's thread) */
static void said(struct lab_run *run, size_t i, const char *when)
{
	struct lab_event ev = { .t_us = run->applied_us[i] };

	if (run->applied_idx[i] < 0) {
		lab_run_error(run, run->applied_idx[i], "cannot install impairment %s (%s): %s",
			      run->extra[i].spec, when, lab_wire_error(run->wire));
		return;
	}
	snprintf(ev.who, sizeof(ev.who), "wire");
	snprintf(ev.call, sizeof(ev.call), "note");
	/* cut to the event's size on purpose: report.json has the whole spec */
	if (snprintf(ev.detail, sizeof(ev.detail), "impairment applied %s: %s", when,
		     run->extra[i].spec) < 0)
		ev.detail[0] = '\0';
	lab_run_add_event(run, &ev);
}

void lab_run_moment_reached(struct lab_run *run, const char *name)
{
	char when[64];
	size_t i;

	if (run->dry || run->err)
		return;
	snprintf(when, sizeof(when), "at moment %s", name);
	for (i = 0; i < run->n_extra; i++)
		if (!run->applied_us[i] && !strcmp(run->extra[i].at, name)) {
			apply(run, i);
			said(run, i, when);
		}
}

/* ---- the clock: at=T ------------------------------------------------------------------------ */

static struct timespec abs_mono(int64_t us)
{
	return (struct timespec){ .tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000 };
}

/* the next at=T impairment not yet installed, or -1 */
static int next_due(const struct lab_run *run, int64_t *at_us)
{
	int best = -1;
	size_t i;

	for (i = 0; i < run->n_extra; i++)
		if (run->extra[i].at_us >= 0 && !run->applied_us[i] &&
		    (best < 0 || run->extra[i].at_us < *at_us)) {
			best = (int)i;
			*at_us = run->extra[i].at_us;
		}
	return best;
}

static void *clock_thread(void *arg)
{
	struct lab_clock *c = arg;
	int64_t at_us = 0, due;
	struct timespec ts;
	int i;

	pthread_mutex_lock(&c->lock);
	while (!c->stop) {
		i = next_due(c->run, &at_us);
		if (i < 0)
			break;
		due = c->start_us + at_us + c->paused_us;
		if (c->paused_since) { /* the class is looking: story time stands still */
			pthread_cond_wait(&c->cond, &c->lock);
			continue;
		}
		if (lab_mono_us() < due) {
			ts = abs_mono(due);
			pthread_cond_timedwait(&c->cond, &c->lock, &ts);
			continue;
		}
		pthread_mutex_unlock(&c->lock);
		apply(c->run, (size_t)i);
		pthread_mutex_lock(&c->lock);
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

int lab_run_clock_start(struct lab_run *run)
{
	struct lab_clock *c;
	pthread_condattr_t attr;
	int64_t at_us = 0;
	int err;

	if (run->dry || next_due(run, &at_us) < 0)
		return 0;
	c = calloc(1, sizeof(*c));
	if (!c)
		return lab_run_error(run, -ENOMEM, "the story's clock");
	c->run = run;
	c->start_us = lab_mono_us();
	pthread_mutex_init(&c->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&c->cond, &attr);
	pthread_condattr_destroy(&attr);
	run->clock = c;
	err = -pthread_create(&c->thread, NULL, clock_thread, c);
	if (err) {
		run->clock = NULL;
		pthread_cond_destroy(&c->cond);
		pthread_mutex_destroy(&c->lock);
		free(c);
		return lab_run_error(run, err, "the story's clock (a thread)");
	}
	return 0;
}

void lab_run_clock_stop(struct lab_run *run)
{
	struct lab_clock *c = run->clock;
	char when[48];
	size_t i;

	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	c->stop = true;
	pthread_cond_signal(&c->cond);
	pthread_mutex_unlock(&c->lock);
	pthread_join(c->thread, NULL);
	run->clock = NULL;
	pthread_cond_destroy(&c->cond);
	pthread_mutex_destroy(&c->lock);
	free(c);
	for (i = 0; i < run->n_extra; i++) {
		if (run->extra[i].at_us < 0 || !run->applied_us[i])
			continue;
		snprintf(when, sizeof(when), "at=%.3f s of story time",
			 (double)run->extra[i].at_us / 1e6);
		said(run, i, when);
	}
}

void lab_run_clock_pause(struct lab_run *run, bool paused)
{
	struct lab_clock *c = run->clock;

	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	if (paused && !c->paused_since)
		c->paused_since = lab_mono_us();
	if (!paused && c->paused_since) {
		c->paused_us += lab_mono_us() - c->paused_since;
		c->paused_since = 0;
	}
	pthread_cond_signal(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

void lab_run_wire_lock(struct lab_run *run, bool lock)
{
	if (!run->clock)
		return;
	if (lock)
		pthread_mutex_lock(&run->clock->lock);
	else
		pthread_mutex_unlock(&run->clock->lock);
}
