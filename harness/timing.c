// SPDX-License-Identifier: MIT
/* Tolerance maths for time expectations. */
#include <stdlib.h>

#include "timing.h"

double lab_tolerance_scale(const char *env_value)
{
	char *end;
	double v;

	if (!env_value || !*env_value)
		return 1.0;
	v = strtod(env_value, &end);
	if (*end || end == env_value || !(v >= 1.0) || v > 100.0)
		return -1.0;
	return v;
}

static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

int64_t lab_percentile(int64_t *v, size_t n, double p)
{
	size_t rank;

	if (!n)
		return -1; /* nothing measured: no bound may hold vacuously */
	qsort(v, n, sizeof(*v), cmp64);
	rank = (size_t)(p * (double)n + 0.999999);
	return v[rank ? rank - 1 : 0];
}

int64_t lab_tolerance_us(int64_t interval_us, double scale)
{
	int64_t pct = (interval_us < 0 ? -interval_us : interval_us) / 8; /* 12.5 % */
	int64_t tol = pct > LAB_TOLERANCE_FLOOR_US ? pct : LAB_TOLERANCE_FLOOR_US;

	return (int64_t)((double)tol * (scale >= 1.0 ? scale : 1.0));
}

struct lab_window lab_window(int64_t expected_us, double scale)
{
	int64_t tol = lab_tolerance_us(expected_us, scale);

	return (struct lab_window){ expected_us, expected_us - tol, expected_us + tol };
}

bool lab_window_holds(const struct lab_window *w, int64_t observed_us)
{
	return observed_us >= w->lo_us && observed_us <= w->hi_us;
}
