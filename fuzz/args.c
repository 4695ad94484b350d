// SPDX-License-Identifier: MIT
/*
 * fuzz-args: everything a user can type after `tcplab run`: the input is lines; the first names
 * a scenario (or not), the others are --set KEY=VALUE and --impair specs, and each line is also
 * given to the programs' step parser (--ops) and address parser (--connect/--listen).
 */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "impair.h"
#include "lab.h"
#include "registry.h"
#include "sockops.h"

#define MAX_LINES 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = strndup((const char *)data, size), *save = NULL, *line;
	const char *lines[MAX_LINES];
	struct sockop ops[SOCKOPS_MAX];
	struct sockaddr_in sin;
	struct lab_impair imp;
	size_t n = 0;
	char why[512];

	if (!text)
		return 0;
	for (line = strtok_r(text, "\n", &save); line && n < MAX_LINES;
	     line = strtok_r(NULL, "\n", &save)) {
		lines[n++] = line;
		lab_impair_parse(line, &imp, why, sizeof(why));
		sockops_parse(line, ops, SOCKOPS_MAX, why, sizeof(why));
		sockops_parse_addr(line, &sin, why, sizeof(why));
	}
	if (n) {
		struct lab_run_opts o = {
			.sc = lab_scenario_find(lines[0]),
			.sets = lines + 1,
			.n_sets = (n - 1) / 2,
			.impairs = lines + 1 + (n - 1) / 2,
			.n_impairs = n - 1 - (n - 1) / 2,
		};

		if (o.sc)
			lab_run_check(&o, why, sizeof(why));
	}
	free(text);
	return 0;
}
