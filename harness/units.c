// SPDX-License-Identifier: MIT
/* Values with their units, as impairment specs write them: times, percentages, rates. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab.h"
#include "units.h"

/* what a mistyped value should have been: the number with the unit it lacks */
static void no_unit(char *why, size_t whylen, const char *key, const char *val, const char *unit,
		    const char *values)
{
	snprintf(why, whylen, "%s=%s has no unit: did you mean %s=%s%s? (%s)", key, val, key, val,
		 unit, values);
}

/* "50ms", "500us", "1.5ms", "2s" into microseconds; a bare number is refused (ms? s?) */
int lab_units_time(const char *key, const char *text, long *us, char *why, size_t whylen)
{
	char *end;
	double v, scale;

	v = strtod(text, &end);
	if (!*text || *text == '-' || *text == '+' || end == text)
		goto bad;
	if (!*end) {
		no_unit(why, whylen, key, text, "ms", LAB_TIME_VALUES);
		return -EINVAL;
	}
	if (!strcmp(end, "us"))
		scale = 1.0;
	else if (!strcmp(end, "ms"))
		scale = 1e3;
	else if (!strcmp(end, "s"))
		scale = 1e6;
	else
		goto bad;
	v *= scale;
	if (!(v >= 0.0) || v > (double)LAB_TIME_MAX_US)
		goto bad;
	*us = (long)(v + 0.5);
	return 0;
bad:
	snprintf(why, whylen, "%s=%s is not %s", key, text, LAB_TIME_VALUES);
	return -EINVAL;
}

/* "5%", "0.1%" into parts per million; a bare number is refused (a fraction? percent?) */
int lab_units_pct(const char *key, const char *text, uint32_t *ppm, char *why, size_t whylen)
{
	char *end;
	double v;

	v = strtod(text, &end);
	if (!*text || *text == '-' || *text == '+' || end == text)
		goto bad;
	if (!*end && v >= 0.0 && v <= 100.0) {
		no_unit(why, whylen, key, text, "%", LAB_PCT_VALUES);
		return -EINVAL;
	}
	if (strcmp(end, "%") || !(v >= 0.0) || v > 100.0)
		goto bad;
	*ppm = (uint32_t)(v * 10000.0 + 0.5);
	return 0;
bad:
	snprintf(why, whylen, "%s=%s is not %s", key, text, LAB_PCT_VALUES);
	return -EINVAL;
}

/* "10mbit", "125kbps" into bits per second; tc's units: bit or bps (bytes) with k, m, g */
int lab_units_rate(const char *key, const char *text, uint64_t *bps, char *why, size_t whylen)
{
	static const struct {
		const char *unit;
		double bits;
	} units[] = { { "bit", 1 }, { "kbit", 1e3 }, { "mbit", 1e6 }, { "gbit", 1e9 },
		      { "bps", 8 }, { "kbps", 8e3 }, { "mbps", 8e6 }, { "gbps", 8e9 } };
	char *end;
	double v;
	size_t i;

	v = strtod(text, &end);
	if (!*text || *text == '-' || *text == '+' || end == text)
		goto bad;
	if (!*end) {
		no_unit(why, whylen, key, text, "mbit", LAB_RATE_VALUES);
		return -EINVAL;
	}
	for (i = 0; i < LAB_ARRAY_SIZE(units); i++)
		if (!strcmp(end, units[i].unit))
			break;
	if (i == LAB_ARRAY_SIZE(units))
		goto bad;
	v *= units[i].bits;
	if (!(v >= 8e3) || v > 100e9)
		goto bad;
	*bps = (uint64_t)(v + 0.5);
	return 0;
bad:
	snprintf(why, whylen, "%s=%s is not %s", key, text, LAB_RATE_VALUES);
	return -EINVAL;
}
