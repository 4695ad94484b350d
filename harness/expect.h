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
enum lab_expect_kind {
	LAB_EXPECT_COUNT, /* packets, calls, sockets: want/got are numbers */
	LAB_EXPECT_COUNTER, /* a kernel counter's delta over the story */
	LAB_EXPECT_STATE, /* sockets in a TCP state (inet_diag) */
	LAB_EXPECT_CALLS, /* a program's call sequence with errnos (text) */
	LAB_EXPECT_TEXT, /* any other exact text */
	LAB_EXPECT_WINDOW, /* a time inside [lo_us, hi_us] */
	LAB_EXPECT_AT_MOST, /* a time no longer than hi_us */
	LAB_EXPECT_NA, /* cannot be checked in this run (shown, never decides) */
};

struct lab_expect {
	char key[48]; /* stable across runs of one build: what --repeat matches on */
	enum lab_expect_kind kind;
	char what[96]; /* the label, for people */
	char expected[96]; /* display text */
	char observed[160];
	bool ok;
	bool timed; /* decided by time: --outcomes-only shows it without deciding */
	bool na; /* not applicable in this run (shown, never decides) */
	int64_t want, got; /* COUNT, COUNTER, STATE */
	int64_t expected_us, lo_us, hi_us, observed_us; /* WINDOW, AT_MOST */
	int series; /* the series (lab_series) this time summarises, or -1 */
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
/* lab_expects_last() - the expectation just added (to set its key, kind or series) */
struct lab_expect *lab_expects_last(struct lab_expects *x);
/* lab_expect_cmp_str() - ">= " for LAB_GE ... ("" for LAB_EQ) */
const char *lab_expect_cmp_str(enum lab_cmp cmp);

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
