// SPDX-License-Identifier: MIT
/*
 * Error context: the place that detects a failure says what it was doing, once. The text is
 * kept per thread as the innermost reason; the runner puts it into the run's ERROR line and
 * report.json, so "setns(server): Operation not permitted" is what the user reads.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

static __thread char last[256];

int lab_fail(int err, const char *fmt, ...)
{
	char context[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(context, sizeof(context), fmt, ap);
	va_end(ap);
	snprintf(last, sizeof(last), "%s: %s", context, strerror(err < 0 ? -err : err));
	if (getenv("TCPLAB_DEBUG"))
		fprintf(stderr, "tcplab: %s\n", last);
	return err;
}

const char *lab_error_last(void)
{
	return last;
}

void lab_error_clear(void)
{
	last[0] = '\0';
}

int lab_error_adopt(int err, const char *reason)
{
	snprintf(last, sizeof(last), "%s", reason);
	return err;
}
