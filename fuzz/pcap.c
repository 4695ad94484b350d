// SPDX-License-Identifier: MIT
/*
 * fuzz-pcap: what `tcplab show FILE` does with a file: read it as a capture (any link type
 * libpcap knows, pcap or pcapng), annotate it, and draw its ladder. Nothing may crash, hang or
 * read out of bounds, whatever the bytes.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "ladder.h"
#include "trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lab_trace t = LAB_TRACE_INIT;
	struct lab_ladder l = { .client_side = &t };
	FILE *in = fmemopen((void *)data, size, "rb");
	FILE *out = fopen("/dev/null", "w");
	char why[256];

	if (in && lab_trace_read_fp(&t, in, "fuzz", why, sizeof(why)))
		fclose(in);
	if (out) {
		lab_ladder_write(out, &l);
		fclose(out);
	}
	lab_trace_max_gap(&t, (struct in_addr){ 0 }, NULL);
	lab_trace_free(&t);
	return 0;
}
