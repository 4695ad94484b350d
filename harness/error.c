// SPDX-License-Identifier: MIT
/* Error context: the place that detects a failure says what it was doing. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

int lab_fail(int err, const char *fmt, ...)
{
	va_list ap;

	fputs("tcplab: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, ": %s\n", strerror(err < 0 ? -err : err));
	return err;
}

const char *lab_errno_name(int err)
{
	const char *name = strerrorname_np(err < 0 ? -err : err);

	return name ? name : "E?";
}
