/* SPDX-License-Identifier: MIT */
#ifndef LAB_EXPECT_H
#define LAB_EXPECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "timing.h"

/*
 * Expectations: what the scenario says must happen, next to what the run measured. Every check
 * records both, passed or not, so the table always shows the evidence.
 */
struct lab_expect {
	char what[96];
	char expected[96];
	char observed[160];
	bool ok;
	bool timed; /* a time window: observed_us is the measurement */
	bool na; /* not applicable in this run (shown, never decides) */
	int64_t observed_us;
};

struct lab_expects {
	struct lab_expect *v;
	size_t n;
};

#define LAB_EXPECTS_INIT          \
	{                         \
		.v = NULL, .n = 0 \
	}

enum lab_cmp { LAB_EQ, LAB_GE, LAB_LE, LAB_GT };

/* lab_expect_int() - "@what @cmp @expected" against @observed */
bool lab_expect_int(struct lab_expects *x, const char *what, enum lab_cmp cmp, int64_t expected,
		    int64_t observed);

/* lab_expect_str() - exact text, e.g. an errno sequence "recv=ECONNRESET recv=0 send=EPIPE" */
bool lab_expect_str(struct lab_expects *x, const char *what, const char *expected,
		    const char *observed);

/* lab_expect_window() - a time inside the tolerance window */
bool lab_expect_window(struct lab_expects *x, const char *what, const struct lab_window *w,
		       int64_t observed_us);

/* lab_expect_na() - an expectation this run cannot check, and why (e.g. a user's program) */
void lab_expect_na(struct lab_expects *x, const char *what, const char *why);
/* lab_expect_time_le() - a time no longer than @max_us (a timed expectation, like a window) */
bool lab_expect_time_le(struct lab_expects *x, const char *what, int64_t max_us,
			int64_t observed_us);
/* every expectation held (with @outcomes_only, timed ones are shown but do not decide) */
bool lab_expects_all_ok(const struct lab_expects *x, bool outcomes_only);
void lab_expects_free(struct lab_expects *x);

#endif
