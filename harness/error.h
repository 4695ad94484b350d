/* SPDX-License-Identifier: MIT */
#ifndef LAB_ERROR_H
#define LAB_ERROR_H

#include <errno.h>

/**
 * lab_fail() - report an error with its context once, where it is detected.
 * @err: a negative errno
 *
 * Prints "tcplab: <context>: <strerror>" on stderr and returns @err, so a caller writes
 * "return lab_fail(-errno, "setns(%s)", ns->name);".
 */
int lab_fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* errno name ("ECONNRESET"), or the number as text for unknown values; never NULL */
const char *lab_errno_name(int err);

#endif
