/* SPDX-License-Identifier: MIT */
#ifndef LAB_SHOW_H
#define LAB_SHOW_H

#include <stdbool.h>
#include <stdio.h>

#include "trace.h"

#define SHOW_ROWS 40 /* more connections than this: the summary groups them by server */
#define SHOW_LADDERS 10 /* ... and this many ladders of those that ended badly are drawn */

/* --conn: one end (a port, an address, or both) or two */
struct show_select {
	struct lab_endpoint end[2];
	bool any_port[2], any_addr[2];
	size_t n;
};

/* show_select_parse() - "80", "10.0.0.1", "[::1]:80", "A:80-B:4000", "A:80,B:4000": 0 or -EINVAL */
int show_select_parse(const char *spec, struct show_select *sel);
bool show_select_matches(const struct show_select *sel, const struct lab_conn *c);

/* ended badly: reset, not closed both ways, or with retransmissions */
bool show_conn_bad(const struct lab_conn *c);
/* "FIN", "RST server", "open", "open, FIN client", "no answer" */
const char *show_conn_end(const struct lab_conn *c, char *buf, size_t len);

/* show_summary() - one line per connection (@all, or few), else per server and the bad ones */
void show_summary(FILE *out, const struct lab_trace *t, bool all);

#endif
