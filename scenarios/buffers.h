/* SPDX-License-Identifier: MIT */
#ifndef LAB_BUFFERS_H
#define LAB_BUFFERS_H

/* What zero-window and send-buffer-full share: a writer that must outrun both buffers */
#include <stdbool.h>
#include <stddef.h>

/*
 * buffers_overflow() - can @bytes never all fit in the buffers (SO_RCVBUF @rcvbuf, SO_SNDBUF
 * @sndbuf)? Both are doubled by the kernel, and a receive buffer's window and a send queue hold
 * about that much again in overhead: more than 4 * (rcvbuf + sndbuf) is needed. If not, @why
 * says so (a precondition's refusal).
 */
bool buffers_overflow(long bytes, long rcvbuf, long sndbuf, char *why, size_t len);

#endif
