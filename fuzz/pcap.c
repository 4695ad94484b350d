// SPDX-License-Identifier: MIT
/*
 * fuzz-pcap: what `tcplab show FILE` does with a file: read it as a capture (any link type
 * libpcap knows, pcap or pcapng), split it into connections, annotate it, and draw its ladder
 * and the ladders of its first connections (both ends named). Nothing may crash, hang or read
 * out of bounds, whatever the bytes.
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
		size_t i, j;

		lab_ladder_write(out, &l);
		for (i = 0; i < t.n_conns && i < 8; i++) { /* as tcplab show draws one connection */
			const struct lab_conn *c = &t.conns[i];
			struct lab_trace one = LAB_TRACE_INIT;
			struct lab_ladder cl = { .client_side = &one, .conn = c };
			char rule[160], a[64];

			one.v = calloc(c->last - c->first + 1, sizeof(*one.v));
			for (j = c->first; one.v && j <= c->last; j++)
				if (t.v[j].conn == i)
					one.v[one.n++] = t.v[j];
			if (one.v)
				lab_ladder_write(out, &cl);
			fprintf(out, "%s %s\n", lab_conn_rule_str(c, rule, sizeof(rule)),
				lab_endpoint_str(&c->client, a, sizeof(a)));
			free(one.v);
		}
		fclose(out);
	}
	lab_trace_max_gap(&t, (struct in_addr){ 0 }, NULL);
	lab_trace_free(&t);
	return 0;
}
