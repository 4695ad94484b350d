// SPDX-License-Identifier: MIT
/*
 * Which variant a run behaves like: the run's observations judged again by every variant's
 * expectations. For the user's own programs it is the answer ("your client behaves like
 * data-first"); for ours it shows that the variants are told apart by what was observed.
 */
#include <stdio.h>
#include <string.h>

#include "run.h"

void lab_run_liken(struct lab_run *run)
{
	const struct lab_variant *expect_as = run->expect_as;
	struct lab_expects judged = run->ex;
	size_t i, j;

	run->n_like = 0;
	if (run->error[0])
		return;
	for (i = 0; i < run->sc->n_variants && i < LAB_MAX_VARIANTS; i++) {
		struct lab_likeness *l = &run->like[run->n_like++];
		char why[256];

		*l = (struct lab_likeness){ .variant = lab_variant_at(run->sc, i) };
		if (run->sc->check &&
		    !run->sc->check(run, l->variant, run->params, why, sizeof(why))) {
			l->refused = true;
			continue;
		}
		run->ex = (struct lab_expects)LAB_EXPECTS_INIT;
		run->expect_as = l->variant;
		run->sc->judge(run);
		for (j = 0; j < run->ex.n; j++) {
			l->hold += run->ex.v[j].ok && !run->ex.v[j].na;
			l->judged += !run->ex.v[j].na;
		}
		l->all = lab_expects_all_ok(&run->ex, lab_run_outcomes_only(run));
		lab_expects_free(&run->ex);
	}
	run->ex = judged;
	run->expect_as = expect_as;
}

const char *lab_run_behaves_like(const struct lab_run *run)
{
	const char *only = "";
	size_t i, n = 0;

	for (i = 0; i < run->n_like; i++)
		if (run->like[i].all && n++ == 0)
			only = run->like[i].variant->name;
	return n == 1 ? only : "";
}

/* "behaves like: data-first (5 of 5); default 3 of 5, past-retries 2 of 5" */
void lab_run_print_likeness(FILE *out, const struct lab_run *run)
{
	size_t i, n_all = 0;
	const char *sep = "";

	if (!run->n_like)
		return;
	for (i = 0; i < run->n_like; i++)
		n_all += run->like[i].all;
	fprintf(out, "behaves like: ");
	for (i = 0; i < run->n_like; i++)
		if (run->like[i].all) {
			fprintf(out, "%s%s (%zu of %zu)", sep, run->like[i].variant->name,
				run->like[i].hold, run->like[i].judged);
			sep = ", ";
		}
	if (!n_all)
		fprintf(out, "no variant");
	sep = "; judged as the others: ";
	for (i = 0; i < run->n_like; i++) {
		if (run->like[i].all)
			continue;
		if (run->like[i].refused)
			fprintf(out, "%s%s refused by its precondition", sep,
				run->like[i].variant->name);
		else
			fprintf(out, "%s%s %zu of %zu", sep, run->like[i].variant->name,
				run->like[i].hold, run->like[i].judged);
		sep = ", ";
	}
	fprintf(out, "\n");
}
