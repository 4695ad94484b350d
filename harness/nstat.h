/* SPDX-License-Identifier: MIT */
#ifndef LAB_NSTAT_H
#define LAB_NSTAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netns.h"

/*
 * Kernel counters of one namespace, named as nstat names them: the /proc/net/{netstat,snmp}
 * section prefix glued to the field ("TcpExtTCPAbortOnClose", "TcpOutRsts").
 */
struct lab_counter {
	char name[64];
	int64_t value;
};

struct lab_nstat {
	struct lab_counter *v;
	size_t n;
};

#define LAB_NSTAT_INIT            \
	{                         \
		.v = NULL, .n = 0 \
	}

/* lab_nstat_parse() - add the counters in @text (netstat/snmp format); -EINVAL if malformed */
int lab_nstat_parse(struct lab_nstat *s, const char *text);

/* lab_nstat_read() - snapshot /proc/net/netstat and /proc/net/snmp inside @ns */
int lab_nstat_read(struct lab_nstat *s, const struct lab_netns *ns);

bool lab_nstat_get(const struct lab_nstat *s, const char *name, int64_t *value);

/* lab_nstat_delta() - after - before for @name (a counter missing from both reads as 0) */
int64_t lab_nstat_delta(const struct lab_nstat *before, const struct lab_nstat *after,
			const char *name);

void lab_nstat_free(struct lab_nstat *s);

#endif
