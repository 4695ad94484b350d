// SPDX-License-Identifier: MIT
/* Impairment specs: "drop,dir=c2s,flags=A,len=0,nth=2" into a struct, and packet matching. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "impair.h"

#define TIME_MAX_US 10000000L /* 10 s: longer is not a network, it is an outage (blackhole) */

static const char *const kinds[] = { "drop", "blackhole", "delay", "loss", "reorder" };
static const char *const backends[] = { "auto", "nftables", "nfqueue", "netem" };

const char *lab_backend_name(enum lab_impair_backend b)
{
	return backends[b];
}

/* "50ms", "500us", "1.5ms", "2s", "50" (ms) into microseconds */
static int parse_time(const char *text, long *us)
{
	char *end;
	double v, scale = 1000.0;

	if (!*text || *text == '-' || *text == '+')
		return -1;
	v = strtod(text, &end);
	if (end == text)
		return -1;
	if (!strcmp(end, "us"))
		scale = 1.0;
	else if (!strcmp(end, "s"))
		scale = 1e6;
	else if (*end && strcmp(end, "ms"))
		return -1;
	v *= scale;
	if (!(v >= 0.0) || v > (double)TIME_MAX_US)
		return -1;
	*us = (long)(v + 0.5);
	return 0;
}

/* "5%", "5", "0.1%" into parts per million */
static int parse_pct(const char *text, uint32_t *ppm)
{
	char *end;
	double v;

	if (!*text || *text == '-' || *text == '+')
		return -1;
	v = strtod(text, &end);
	if (end == text || (*end && strcmp(end, "%")))
		return -1;
	if (!(v >= 0.0) || v > 100.0)
		return -1;
	*ppm = (uint32_t)(v * 10000.0 + 0.5);
	return 0;
}

static int parse_long(const char *text, long min, long max, long *out)
{
	char *end;
	long v;

	if (!*text || *text == '-' || *text == '+')
		return -1;
	errno = 0;
	v = strtol(text, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse_flags(const char *text, int *flags)
{
	static const char letters[] = "FSRPAU";
	const char *c, *at;
	int f = 0;

	if (!*text)
		return -1;
	for (c = text; *c; c++) {
		if (*c == '.') {
			f |= LAB_TH_ACK;
			continue;
		}
		at = strchr(letters, *c);
		if (!at)
			return -1;
		f |= 1 << (at - letters);
	}
	*flags = f;
	return 0;
}

static int pick(const char *text, const char *const *names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(text, names[i]))
			return (int)i;
	return -1;
}

/* one "key=value" (or the leading kind) */
static int parse_item(struct lab_impair *imp, char *item, bool first, char *why, size_t whylen)
{
	char *eq = strchr(item, '='), *val = eq ? eq + 1 : NULL;
	long v;
	int k;

	if (eq)
		*eq = '\0';
	if (first) {
		k = pick(item, kinds, sizeof(kinds) / sizeof(kinds[0]));
		if (k < 0) {
			snprintf(
				why, whylen,
				"'%s' is not an impairment (drop, blackhole, delay, loss, reorder)",
				item);
			return -EINVAL;
		}
		imp->kind = (enum lab_impair_kind)k;
		if ((k == LAB_IMP_DROP || k == LAB_IMP_BLACKHOLE) && val) {
			snprintf(why, whylen, "'%s' takes no value", item);
			return -EINVAL;
		}
		if (k == LAB_IMP_DELAY && (!val || parse_time(val, &imp->delay_us)))
			goto bad_time;
		if ((k == LAB_IMP_LOSS || k == LAB_IMP_REORDER) &&
		    (!val || parse_pct(val, &imp->ppm)))
			goto bad_pct;
		return 0;
	}
	if (!val) {
		snprintf(why, whylen, "'%s' wants a value (KEY=VALUE)", item);
		return -EINVAL;
	}
	if (!strcmp(item, "dir")) {
		k = pick(val, (const char *const[]){ "", "c2s", "s2c", "both" }, 4);
		if (k <= 0)
			goto bad_value;
		imp->m.dir = (unsigned int)k;
	} else if (!strcmp(item, "flags")) {
		if (parse_flags(val, &imp->m.flags))
			goto bad_value;
	} else if (!strcmp(item, "len")) {
		if (parse_long(val, 0, 65495, &imp->m.len))
			goto bad_value;
	} else if (!strcmp(item, "sport") || !strcmp(item, "dport")) {
		if (parse_long(val, 1, 65535, &v))
			goto bad_value;
		*(item[0] == 's' ? &imp->m.sport : &imp->m.dport) = (int)v;
	} else if (!strcmp(item, "nth") && imp->kind == LAB_IMP_DROP) {
		if (parse_long(val, 1, 1000000000, &imp->nth))
			goto bad_value;
	} else if (!strcmp(item, "count") && imp->kind == LAB_IMP_DROP) {
		if (parse_long(val, 1, 1000, &imp->count))
			goto bad_value;
	} else if (!strcmp(item, "armed") && imp->kind == LAB_IMP_BLACKHOLE) {
		if (parse_long(val, 0, 1, &v))
			goto bad_value;
		imp->armed = v;
	} else if (!strcmp(item, "jitter") && imp->kind == LAB_IMP_DELAY) {
		if (parse_time(val, &imp->jitter_us))
			goto bad_time;
	} else if (!strcmp(item, "hold") && imp->kind == LAB_IMP_REORDER) {
		if (parse_time(val, &imp->hold_us))
			goto bad_time;
	} else if (!strcmp(item, "seed") &&
		   (imp->kind == LAB_IMP_LOSS || imp->kind == LAB_IMP_REORDER)) {
		if (parse_long(val, 0, 0xffffffffL, &v))
			goto bad_value;
		imp->seed = (uint32_t)v;
	} else if (!strcmp(item, "backend")) {
		k = pick(val, backends, sizeof(backends) / sizeof(backends[0]));
		if (k < 0)
			goto bad_value;
		imp->backend = (enum lab_impair_backend)k;
	} else {
		snprintf(why, whylen, "'%s' is not a key of '%s'", item, kinds[imp->kind]);
		return -EINVAL;
	}
	return 0;
bad_value:
	snprintf(why, whylen, "%s=%s is not a valid value", item, val);
	return -EINVAL;
bad_time:
	snprintf(why, whylen, "'%s' is not a time from 0 to 10s (50ms, 500us, 1.5ms)",
		 val ? val : "");
	return -EINVAL;
bad_pct:
	snprintf(why, whylen, "'%s' is not a percentage from 0 to 100 (5%%, 0.5%%)",
		 val ? val : "");
	return -EINVAL;
}

static int check(const struct lab_impair *imp, char *why, size_t whylen)
{
	bool netfilter_only = imp->kind == LAB_IMP_DROP || imp->kind == LAB_IMP_BLACKHOLE;

	if (netfilter_only &&
	    (imp->backend == LAB_BACKEND_NFQUEUE || imp->backend == LAB_BACKEND_NETEM)) {
		snprintf(why, whylen, "%s is done by nftables (backend=nftables or auto)",
			 kinds[imp->kind]);
		return -EINVAL;
	}
	if (!netfilter_only && imp->backend == LAB_BACKEND_NFTABLES) {
		snprintf(why, whylen, "%s needs backend nfqueue, netem or auto", kinds[imp->kind]);
		return -EINVAL;
	}
	if (imp->backend == LAB_BACKEND_NETEM &&
	    (imp->m.flags >= 0 || imp->m.len >= 0 || imp->m.sport || imp->m.dport)) {
		snprintf(why, whylen, "netem works on a whole direction: no flags, len or ports");
		return -EINVAL;
	}
	return 0;
}

int lab_impair_parse(const char *spec, struct lab_impair *imp, char *why, size_t whylen)
{
	char copy[256], *save = NULL, *item;
	bool first = true;
	int err;

	*imp = (struct lab_impair){ .m = { .dir = LAB_DIR_C2S, .flags = -1, .len = -1 },
				    .nth = 1,
				    .count = 1,
				    .armed = true,
				    .hold_us = 5000 };
	if (!spec || !*spec || strlen(spec) >= sizeof(imp->spec)) {
		snprintf(why, whylen, "an impairment is 1 to %zu characters",
			 sizeof(imp->spec) - 1);
		return -EINVAL;
	}
	snprintf(imp->spec, sizeof(imp->spec), "%s", spec);
	snprintf(copy, sizeof(copy), "%s", spec);
	for (item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		err = parse_item(imp, item, first, why, whylen);
		if (err)
			return err;
		first = false;
	}
	if (first) {
		snprintf(why, whylen, "'%s' names no impairment", spec);
		return -EINVAL;
	}
	return check(imp, why, whylen);
}

bool lab_match_packet(const struct lab_match *m, const struct lab_pkt *p, unsigned int dir)
{
	if (!(m->dir & dir))
		return false;
	if (m->flags >= 0 && (p->flags & 0x3f) != m->flags)
		return false;
	if (m->len >= 0 && (long)p->len != m->len)
		return false;
	if (m->sport && p->sport != m->sport)
		return false;
	return !m->dport || p->dport == m->dport;
}
