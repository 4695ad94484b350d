// SPDX-License-Identifier: MIT
/* Impairment specs: "drop,dir=c2s,flags=A,len=0,nth=2" into a struct, and packet matching. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "impair.h"
#include "lab.h"
#include "suggest.h"
#include "units.h"

static const char *const kinds[] = { "drop",	  "blackhole", "delay", "loss",	 "reorder",
				     "duplicate", "corrupt",   "rate",	"reject" };
static const char *const rejects[] = { "icmp-net-unreachable", "icmp-host-unreachable",
				       "icmp-port-unreachable", "icmp-admin-prohibited",
				       "tcp-reset" };
#define REJECT_VALUES                                                                             \
	"icmp-net-unreachable|icmp-host-unreachable|icmp-port-unreachable|icmp-admin-prohibited|" \
	"tcp-reset"
static const char *const roles[] = { "", "handshake-ack", "fin-ack" };
static const char *const backends[] = { "auto", "nftables", "nfqueue", "netem" };
static const char *const dirs[] = { "c2s", "s2c", "both" };

#define KIND(k) (1u << (k))
#define ANY_KIND ((1u << LAB_IMP_NKINDS) - 1)
#define HOLDS (ANY_KIND & ~(KIND(LAB_IMP_DROP) | KIND(LAB_IMP_BLACKHOLE) | KIND(LAB_IMP_REJECT)))
#define KINDS_TEXT                                                                         \
	"drop, blackhole, delay=T, loss=P, reorder=P, duplicate=P, corrupt=P, rate=RATE, " \
	"reject=HOW"

/* every key after the kind: which kinds take it, and what it takes (for the messages) */
enum key_id {
	K_DIR,
	K_FLAGS,
	K_LEN,
	K_SPORT,
	K_DPORT,
	K_BACKEND,
	K_NTH,
	K_COUNT,
	K_ARMED,
	K_JITTER,
	K_HOLD,
	K_SEED,
	K_LIMIT,
	K_AT,
	K_ROLE,
	K_N
};

static const struct key {
	const char *name;
	unsigned int kinds;
	const char *values;
} keys[K_N] = {
	[K_DIR] = { "dir", ANY_KIND, "c2s|s2c|both" },
	[K_FLAGS] = { "flags", ANY_KIND, "TCP flags among FSRPAU ('A' or '.' is ACK: SA, FA, S.)" },
	[K_LEN] = { "len", ANY_KIND, "payload bytes, 0..65495" },
	[K_SPORT] = { "sport", ANY_KIND, "a port, 1..65535" },
	[K_DPORT] = { "dport", ANY_KIND, "a port, 1..65535" },
	[K_BACKEND] = { "backend", ANY_KIND, "auto|nftables|nfqueue|netem" },
	[K_NTH] = { "nth", KIND(LAB_IMP_DROP), "which match, 1..1000000000" },
	[K_COUNT] = { "count", KIND(LAB_IMP_DROP), "how many matches, 1..1000" },
	[K_ARMED] = { "armed", KIND(LAB_IMP_BLACKHOLE) | KIND(LAB_IMP_REJECT), "0|1" },
	[K_JITTER] = { "jitter", KIND(LAB_IMP_DELAY), LAB_TIME_VALUES },
	[K_HOLD] = { "hold", KIND(LAB_IMP_REORDER), LAB_TIME_VALUES },
	[K_SEED] = { "seed", KIND(LAB_IMP_LOSS) | KIND(LAB_IMP_REORDER) | KIND(LAB_IMP_CORRUPT),
		     "0..4294967295" },
	[K_LIMIT] = { "limit", HOLDS, "packets queued at most, 1..1000000" },
	[K_ROLE] = { "role", KIND(LAB_IMP_DROP) | KIND(LAB_IMP_BLACKHOLE),
		     "handshake-ack|fin-ack" },
	[K_AT] = { "at", ANY_KIND,
		   "a moment of the story (tcplab explain lists them) or a time into it: 2s, "
		   "150ms" },
};

const char *lab_backend_name(enum lab_impair_backend b)
{
	return backends[b];
}

const char *lab_reject_name(enum lab_reject r)
{
	return rejects[r];
}

const char *lab_role_name(enum lab_role r)
{
	return roles[r];
}

const char *lab_impair_kind_name(enum lab_impair_kind k)
{
	return kinds[k];
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

/* " did you mean X?" or "" */
static const char *did_you_mean(char *buf, size_t len, const char *prefix, const char *best)
{
	if (!best)
		return "";
	snprintf(buf, len, ": did you mean %s%s?", prefix, best);
	return buf;
}

/* the keys @kind takes, its own first: "nth, count, dir, flags, ..." */
static void keys_of(enum lab_impair_kind kind, char *buf, size_t len)
{
	size_t o = 0;
	int pass, k;

	buf[0] = '\0';
	for (pass = 0; pass < 2; pass++)
		for (k = 0; k < K_N && o < len; k++)
			if ((keys[k].kinds & KIND(kind)) && (keys[k].kinds == ANY_KIND) == pass)
				o += (size_t)snprintf(buf + o, len - o, "%s%s", o ? ", " : "",
						      keys[k].name);
}

/* the leading item: which impairment, and its value for those that take one */
/* reject=HOW: how the wire answers what it rejects */
static int parse_reject(struct lab_impair *imp, const char *val, char *why, size_t whylen)
{
	char hint[80];
	int r;

	if (!val) {
		snprintf(why, whylen, "reject wants a value: reject=HOW (HOW: %s)", REJECT_VALUES);
		return -EINVAL;
	}
	r = pick(val, rejects, LAB_ARRAY_SIZE(rejects));
	if (r >= 0) {
		imp->reject = (enum lab_reject)r;
		return 0;
	}
	snprintf(why, whylen, "reject=%s is not valid%s (reject: %s)", val,
		 did_you_mean(hint, sizeof(hint),
			      "reject=", lab_suggest_among(val, rejects, LAB_ARRAY_SIZE(rejects))),
		 REJECT_VALUES);
	return -EINVAL;
}

static int parse_kind(struct lab_impair *imp, const char *item, const char *val, char *why,
		      size_t whylen)
{
	char hint[64];
	int k = pick(item, kinds, LAB_ARRAY_SIZE(kinds));

	if (k < 0) {
		snprintf(why, whylen, "'%s' is not an impairment%s (" KINDS_TEXT ")", item,
			 did_you_mean(hint, sizeof(hint), "",
				      lab_suggest_among(item, kinds, LAB_ARRAY_SIZE(kinds))));
		return -EINVAL;
	}
	imp->kind = (enum lab_impair_kind)k;
	switch (imp->kind) {
	case LAB_IMP_DROP:
	case LAB_IMP_BLACKHOLE:
		if (!val)
			return 0;
		snprintf(why, whylen, "'%s' takes no value (%s)", item,
			 k == LAB_IMP_DROP ? "drop[,nth=K][,count=N]" : "blackhole[,armed=0|1]");
		return -EINVAL;
	case LAB_IMP_DELAY:
		if (val)
			return lab_units_time(item, val, &imp->delay_us, why, whylen);
		snprintf(why, whylen, "delay wants a value: delay=T (T: %s)", LAB_TIME_VALUES);
		return -EINVAL;
	case LAB_IMP_REJECT:
		return parse_reject(imp, val, why, whylen);
	case LAB_IMP_RATE:
		if (val)
			return lab_units_rate(item, val, &imp->rate_bps, why, whylen);
		snprintf(why, whylen, "rate wants a value: rate=RATE (RATE: %s)", LAB_RATE_VALUES);
		return -EINVAL;
	default:
		if (val)
			return lab_units_pct(item, val, &imp->ppm, why, whylen);
		snprintf(why, whylen, "%s wants a value: %s=P (P: %s)", item, item, LAB_PCT_VALUES);
		return -EINVAL;
	}
}

/* which key @item is, or -EINVAL with the keys this kind takes */
static int find_key(const struct lab_impair *imp, const char *item, char *why, size_t whylen)
{
	struct lab_suggest s = LAB_SUGGEST_INIT(item);
	char valid[128], hint[64];
	const char *kind = kinds[imp->kind];
	int k;

	for (k = 0; k < K_N; k++)
		if (!strcmp(item, keys[k].name))
			break;
	keys_of(imp->kind, valid, sizeof(valid));
	if (k < K_N && (keys[k].kinds & KIND(imp->kind)))
		return k;
	if (k == K_N && !strcmp(item, kind)) {
		snprintf(why, whylen, "'%s' given twice", item);
		return -EINVAL;
	}
	if (k == K_N && pick(item, kinds, LAB_ARRAY_SIZE(kinds)) >= 0) {
		snprintf(why, whylen,
			 "'%s' after '%s': one impairment per spec (give %s its own spec)", item,
			 kind, item);
		return -EINVAL;
	}
	for (k = 0; k < K_N; k++)
		if (keys[k].kinds & KIND(imp->kind))
			lab_suggest_add(&s, keys[k].name);
	snprintf(why, whylen, "'%s' is not a key of '%s'%s (%s takes %s)", item, kind,
		 did_you_mean(hint, sizeof(hint), "", lab_suggest_best(&s)), kind, valid);
	return -EINVAL;
}

/* one "key=value" after the kind */
static int parse_key(struct lab_impair *imp, const char *item, const char *val, unsigned int *seen,
		     char *why, size_t whylen)
{
	const char *best = NULL;
	char hint[64], prefix[16];
	enum key_id id;
	bool ok = false;
	long v = 0;
	int k = find_key(imp, item, why, whylen);

	if (k < 0)
		return k;
	id = (enum key_id)k;
	if (*seen & (1u << id)) {
		snprintf(why, whylen, "'%s' given twice", item);
		return -EINVAL;
	}
	*seen |= 1u << id;
	if (!val) {
		snprintf(why, whylen, "'%s' wants a value: %s=VALUE (%s: %s)", item, item, item,
			 keys[id].values);
		return -EINVAL;
	}
	switch (id) {
	case K_DIR:
		k = pick(val, dirs, LAB_ARRAY_SIZE(dirs));
		ok = k >= 0;
		if (ok)
			imp->m.dir = (unsigned int)k + 1; /* c2s 1, s2c 2, both 3: LAB_DIR_* bits */
		else
			best = lab_suggest_among(val, dirs, LAB_ARRAY_SIZE(dirs));
		break;
	case K_ROLE:
		k = pick(val, roles + 1, LAB_ARRAY_SIZE(roles) - 1);
		ok = k >= 0;
		if (ok)
			imp->m.role = (enum lab_role)(k + 1);
		else
			best = lab_suggest_among(val, roles + 1, LAB_ARRAY_SIZE(roles) - 1);
		break;
	case K_BACKEND:
		k = pick(val, backends, LAB_ARRAY_SIZE(backends));
		ok = k >= 0;
		if (ok)
			imp->backend = (enum lab_impair_backend)k;
		else
			best = lab_suggest_among(val, backends, LAB_ARRAY_SIZE(backends));
		break;
	case K_FLAGS:
		ok = !parse_flags(val, &imp->m.flags);
		break;
	case K_LEN:
		ok = !parse_long(val, 0, 65495, &imp->m.len);
		break;
	case K_SPORT:
		ok = !parse_long(val, 1, 65535, &v);
		imp->m.sport = ok ? (int)v : 0;
		break;
	case K_DPORT:
		ok = !parse_long(val, 1, 65535, &v);
		imp->m.dport = ok ? (int)v : 0;
		break;
	case K_NTH:
		ok = !parse_long(val, 1, 1000000000, &imp->nth);
		break;
	case K_COUNT:
		ok = !parse_long(val, 1, 1000, &imp->count);
		break;
	case K_ARMED:
		ok = !parse_long(val, 0, 1, &v);
		imp->armed = v;
		break;
	case K_SEED:
		ok = !parse_long(val, 0, 0xffffffffL, &v);
		imp->seed = (uint32_t)v;
		imp->seeded = ok;
		break;
	case K_LIMIT:
		ok = !parse_long(val, 1, 1000000, &imp->limit);
		break;
	case K_JITTER:
		return lab_units_time(item, val, &imp->jitter_us, why, whylen);
	case K_HOLD:
		return lab_units_time(item, val, &imp->hold_us, why, whylen);
	case K_AT:
		/* a time starts with a digit; a moment is a name (before-close, last-ack) */
		if (*val >= '0' && *val <= '9')
			return lab_units_time(item, val, &imp->at_us, why, whylen);
		ok = strlen(val) < sizeof(imp->at) &&
		     !val[strspn(val, "abcdefghijklmnopqrstuvwxyz0123456789-")];
		if (ok)
			snprintf(imp->at, sizeof(imp->at), "%s", val);
		break;
	case K_N:
		break;
	}
	if (ok)
		return 0;
	snprintf(prefix, sizeof(prefix), "%s=", item);
	snprintf(why, whylen, "%s=%s is not valid%s (%s: %s)", item, val,
		 did_you_mean(hint, sizeof(hint), prefix, best), item, keys[id].values);
	return -EINVAL;
}

/* what only netem does: the kernel decides later whether it is there (setup.c, wire.c) */
bool lab_impair_needs_netem(const struct lab_impair *imp)
{
	return imp->backend == LAB_BACKEND_NETEM || imp->kind == LAB_IMP_DUPLICATE ||
	       imp->kind == LAB_IMP_CORRUPT || imp->limit;
}

static int check(const struct lab_impair *imp, char *why, size_t whylen)
{
	bool netfilter_only = imp->kind == LAB_IMP_DROP || imp->kind == LAB_IMP_BLACKHOLE ||
			      imp->kind == LAB_IMP_REJECT;
	bool whole = imp->m.flags < 0 && imp->m.len < 0 && !imp->m.sport && !imp->m.dport;
	const char *what = imp->limit ? "limit=N (netem's queue limit)" : kinds[imp->kind];

	if (imp->m.role &&
	    (imp->backend == LAB_BACKEND_NFTABLES || imp->backend == LAB_BACKEND_NETEM)) {
		snprintf(why, whylen,
			 "role=%s is followed in user space: backend=nfqueue or auto, not %s",
			 roles[imp->m.role], backends[imp->backend]);
		return -EINVAL;
	}
	if (netfilter_only && !imp->m.role &&
	    (imp->backend == LAB_BACKEND_NFQUEUE || imp->backend == LAB_BACKEND_NETEM)) {
		snprintf(why, whylen, "%s is done by nftables (backend=nftables or auto)",
			 kinds[imp->kind]);
		return -EINVAL;
	}
	if (!netfilter_only && imp->backend == LAB_BACKEND_NFTABLES) {
		snprintf(why, whylen, "%s needs backend nfqueue, netem or auto", kinds[imp->kind]);
		return -EINVAL;
	}
	if (imp->backend == LAB_BACKEND_NETEM && !whole) {
		snprintf(
			why, whylen,
			"netem works on a whole direction: no flags, len or ports (or backend=nfqueue)");
		return -EINVAL;
	}
	if (lab_impair_needs_netem(imp) && imp->backend == LAB_BACKEND_NFQUEUE) {
		snprintf(why, whylen, "%s is done by netem only (backend=netem or auto)", what);
		return -EINVAL;
	}
	if (lab_impair_needs_netem(imp) && !whole) {
		snprintf(why, whylen,
			 "%s is done by netem, which works on a whole direction: no flags, len or "
			 "ports",
			 what);
		return -EINVAL;
	}
	return 0;
}

int lab_impair_parse(const char *spec, struct lab_impair *imp, char *why, size_t whylen)
{
	char copy[256], *save = NULL, *item, *eq;
	unsigned int seen = 0;
	bool first = true;
	int err;

	*imp = (struct lab_impair){ .m = { .dir = LAB_DIR_C2S, .flags = -1, .len = -1 },
				    .nth = 1,
				    .count = 1,
				    .armed = true,
				    .hold_us = 5000,
				    .at_us = -1 };
	if (!spec || !*spec || strlen(spec) >= sizeof(imp->spec)) {
		snprintf(why, whylen, "an impairment is 1 to %zu characters",
			 sizeof(imp->spec) - 1);
		return -EINVAL;
	}
	snprintf(imp->spec, sizeof(imp->spec), "%s", spec);
	snprintf(copy, sizeof(copy), "%s", spec);
	for (item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		eq = strchr(item, '=');
		if (eq)
			*eq++ = '\0';
		err = first ? parse_kind(imp, item, eq, why, whylen) :
			      parse_key(imp, item, eq, &seen, why, whylen);
		if (err)
			return err;
		first = false;
	}
	if (first) {
		snprintf(why, whylen, "'%s' names no impairment (" KINDS_TEXT ")", spec);
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
