// SPDX-License-Identifier: MIT
/* --repeat: the flake detector. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expect.h"
#include "supervise.h"
#include "timing.h"

/* --repeat: N fresh labs; how many reproduced, and the spread of every timed expectation */
int lab_run_repeat(struct lab_run_opts *o, long n)
{
	struct lab_expects *ex = calloc((size_t)n, sizeof(*ex));
	int64_t *vals = calloc((size_t)n, sizeof(*vals));
	FILE *out = o->out ? o->out : stdout; /* --json: stdout is for the reports */
	long i, j, as_documented = 0, not_documented = 0, errors = 0;
	size_t k;
	int ret = 0;

	if (!ex || !vals)
		return LAB_EXIT_ERROR;
	for (i = 0; i < n; i++) {
		o->expects_out = &ex[i];
		o->quiet = o->quiet || i > 0;
		ret = lab_run_main(o);
		if (ret == LAB_EXIT_USAGE || ret == LAB_EXIT_SKIP)
			goto out;
		as_documented += ret == LAB_EXIT_AS_DOCUMENTED;
		not_documented += ret == LAB_EXIT_NOT_AS_DOCUMENTED;
		errors += ret == LAB_EXIT_ERROR;
	}
	fprintf(out, "\n== repeat: %ld of %ld runs as documented, %ld not, %ld lab errors\n",
		as_documented, n, not_documented, errors);
	fprintf(out, "%-52s %6s  %s\n", "expectation", "held", "spread (min / p50 / max)");
	for (k = 0; k < ex[0].n; k++) {
		const struct lab_expect *e = &ex[0].v[k];
		long held = 0, m = 0;

		for (j = 0; j < n; j++) { /* the same check in another run: by key, not by label */
			size_t q;

			for (q = 0; q < ex[j].n && strcmp(ex[j].v[q].key, e->key); q++)
				;
			if (q == ex[j].n)
				continue;
			held += ex[j].v[q].ok;
			if (ex[j].v[q].kind == LAB_EXPECT_WINDOW ||
			    ex[j].v[q].kind == LAB_EXPECT_AT_MOST)
				vals[m++] = ex[j].v[q].observed_us;
		}
		fprintf(out, "%-52s %3ld/%-3ld", e->what, held, n);
		if (m)
			fprintf(out, " %.1f / %.1f / %.1f ms (window %s)",
				lab_percentile(vals, (size_t)m, 0) / 1e3,
				lab_percentile(vals, (size_t)m, 0.5) / 1e3,
				lab_percentile(vals, (size_t)m, 1.0) / 1e3, e->expected);
		fputc('\n', out);
	}
	ret = errors ? LAB_EXIT_ERROR : not_documented ? LAB_EXIT_NOT_AS_DOCUMENTED : 0;
out:
	for (i = 0; i < n; i++)
		lab_expects_free(&ex[i]);
	free(ex);
	free(vals);
	return ret;
}
