// SPDX-License-Identifier: MIT
/* Expected vs observed, recorded for every check. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expect.h"

static struct lab_expect *add(struct lab_expects *x, const char *what, bool ok)
{
	struct lab_expect *grown = realloc(x->v, (x->n + 1) * sizeof(*x->v)), *e;

	if (!grown)
		abort(); /* a lost expectation would be a silent pass */
	x->v = grown;
	e = &x->v[x->n++];
	memset(e, 0, sizeof(*e));
	snprintf(e->what, sizeof(e->what), "%s", what);
	snprintf(e->key, sizeof(e->key), "#%zu", x->n);
	e->ok = ok;
	e->series = -1;
	return e;
}

struct lab_expect *lab_expects_last(struct lab_expects *x)
{
	return x->n ? &x->v[x->n - 1] : NULL;
}

const char *lab_expect_cmp_str(enum lab_cmp cmp)
{
	static const char *const ops[] = { "", ">= ", "<= ", "> " };

	return ops[cmp];
}

bool lab_expect_int(struct lab_expects *x, const char *what, enum lab_cmp cmp, int64_t expected,
		    int64_t observed)
{
	bool ok = cmp == LAB_EQ ? observed == expected :
		  cmp == LAB_GE ? observed >= expected :
		  cmp == LAB_LE ? observed <= expected :
				  observed > expected;
	struct lab_expect *e = add(x, what, ok);

	e->kind = LAB_EXPECT_COUNT;
	e->want = expected;
	e->got = observed;
	snprintf(e->expected, sizeof(e->expected), "%s%" PRId64, lab_expect_cmp_str(cmp), expected);
	snprintf(e->observed, sizeof(e->observed), "%" PRId64, observed);
	return ok;
}

bool lab_expect_str(struct lab_expects *x, const char *what, const char *expected,
		    const char *observed)
{
	bool ok = !strcmp(expected, observed);
	struct lab_expect *e = add(x, what, ok);

	e->kind = LAB_EXPECT_TEXT;
	snprintf(e->expected, sizeof(e->expected), "%s", expected);
	snprintf(e->observed, sizeof(e->observed), "%s", observed[0] ? observed : "(nothing)");
	return ok;
}

bool lab_expect_window(struct lab_expects *x, const char *what, const struct lab_window *w,
		       int64_t observed_us)
{
	bool ok = lab_window_holds(w, observed_us);
	struct lab_expect *e = add(x, what, ok);

	e->kind = LAB_EXPECT_WINDOW;
	e->timed = true;
	e->observed_us = observed_us;
	e->expected_us = w->expected_us;
	e->lo_us = w->lo_us;
	e->hi_us = w->hi_us;
	snprintf(e->expected, sizeof(e->expected), "%.1f ms (%.1f..%.1f)", w->expected_us / 1e3,
		 w->lo_us / 1e3, w->hi_us / 1e3);
	if (observed_us < 0) /* nothing to time: the packet or state that starts it never came */
		snprintf(e->observed, sizeof(e->observed), "not seen");
	else
		snprintf(e->observed, sizeof(e->observed),
			 observed_us < 1000 ? "%.3f ms" : "%.1f ms", observed_us / 1e3);
	return ok;
}

void lab_expect_na(struct lab_expects *x, const char *what, const char *why)
{
	struct lab_expect *e = add(x, what, true);

	e->kind = LAB_EXPECT_NA;
	e->na = true;
	snprintf(e->expected, sizeof(e->expected), "n/a");
	snprintf(e->observed, sizeof(e->observed), "%s", why);
}

bool lab_expect_time_le(struct lab_expects *x, const char *what, int64_t max_us,
			int64_t observed_us)
{
	bool ok = observed_us >= 0 && observed_us <= max_us;
	struct lab_expect *e = add(x, what, ok);

	e->kind = LAB_EXPECT_AT_MOST;
	e->timed = true;
	e->observed_us = observed_us;
	e->hi_us = max_us;
	snprintf(e->expected, sizeof(e->expected), "<= %.1f ms", max_us / 1e3);
	if (observed_us < 0) /* nothing to time: the packet or state that starts it never came */
		snprintf(e->observed, sizeof(e->observed), "not seen");
	else
		snprintf(e->observed, sizeof(e->observed),
			 observed_us < 1000 ? "%.3f ms" : "%.1f ms", observed_us / 1e3);
	return ok;
}

bool lab_expects_all_ok(const struct lab_expects *x, bool outcomes_only)
{
	size_t i, judged = 0;

	for (i = 0; i < x->n; i++) {
		if ((outcomes_only && x->v[i].timed) || x->v[i].na)
			continue;
		judged++;
		if (!x->v[i].ok)
			return false;
	}
	return judged > 0; /* no expectation checked is no evidence */
}

void lab_expects_free(struct lab_expects *x)
{
	free(x->v);
	x->v = NULL;
	x->n = 0;
}
