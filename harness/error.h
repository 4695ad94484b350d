/* SPDX-License-Identifier: MIT */
#ifndef LAB_ERROR_H
#define LAB_ERROR_H

#include <errno.h>

/**
 * lab_fail() - report an error with its context once, where it is detected.
 * @err: a negative errno
 *
 * Records "<context>: <strerror>" as this thread's innermost reason (lab_error_last()) and
 * returns @err, so a caller writes "return lab_fail(-errno, "setns(%s)", ns->name);". Nothing is
 * printed here ($TCPLAB_DEBUG prints each as it happens): whoever reports the failure does, once.
 */
int lab_fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* the innermost reason recorded on this thread, "" if none since lab_error_clear() */
const char *lab_error_last(void);
void lab_error_clear(void);
/* lab_error_adopt() - make @reason (another thread's lab_error_last()) this thread's; returns @err */
int lab_error_adopt(int err, const char *reason);

#endif
