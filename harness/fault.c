// SPDX-License-Identifier: MIT
/*
 * The run's ERROR (the lab or a program broke, not TCP): the first failure wins, with the
 * innermost reason the harness recorded for it (lab_fail()), so report.json and the ERROR line
 * say "cannot build the lab topology: create veth pair: Operation not supported".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "run.h"

int lab_run_verror(struct lab_run *run, int err, const char *fmt, va_list ap)
{
	const char *inner = lab_error_last();
	size_t o;

	err = err < 0 ? err : -EIO;
	if (run->err) /* the first failure is the story's; what follows is its consequence */
		return run->err;
	run->err = err;
	vsnprintf(run->error, sizeof(run->error), fmt, ap);
	o = strlen(run->error);
	if (inner[0] && !strstr(run->error, inner))
		snprintf(run->error + o, sizeof(run->error) - o, ": %s", inner);
	else if (!inner[0] && err != -EIO && !strstr(run->error, strerror(-err)) &&
		 err != -ETIMEDOUT && err != -ECHILD)
		snprintf(run->error + o, sizeof(run->error) - o, ": %s", strerror(-err));
	lab_error_clear();
	return err;
}

int lab_run_error(struct lab_run *run, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err = lab_run_verror(run, err, fmt, ap);
	va_end(ap);
	return err;
}

int lab_run_error_cause(struct lab_run *run, int err, const char *fmt, ...)
{
	char then[sizeof(run->error)];
	size_t o;
	va_list ap;

	snprintf(then, sizeof(then), "%s", run->error);
	run->err = 0;
	va_start(ap, fmt);
	err = lab_run_verror(run, err, fmt, ap);
	va_end(ap);
	o = strlen(run->error);
	if (then[0])
		snprintf(run->error + o, sizeof(run->error) - o, " (then: %s)", then);
	return err;
}
