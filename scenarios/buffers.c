// SPDX-License-Identifier: MIT
#include <stdio.h>

#include "buffers.h"

bool buffers_overflow(long bytes, long rcvbuf, long sndbuf, char *why, size_t len)
{
	if (bytes > 4 * (rcvbuf + sndbuf))
		return true;
	snprintf(why, len,
		 "bytes=%ld may all fit in the buffers (rcvbuf=%ld and sndbuf=%ld, doubled by the "
		 "kernel): the writer would never wait (use bytes > 4 * (rcvbuf + sndbuf) = %ld)",
		 bytes, rcvbuf, sndbuf, 4 * (rcvbuf + sndbuf));
	return false;
}
