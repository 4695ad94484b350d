// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cli.h"
#include "trace.h"

/*
 * tcplab facts RUN-DIR: what a re-run must reproduce (the facts.txt files in pcaps/), from
 * both captures of a run, up to the end of its story (report.json)
 */
int cmd_facts(int argc, char **argv)
{
	int first = cli_positional("facts", argc, argv, 1, 1, "one run folder");
	const char *dir = first < 0 ? NULL : argv[first];
	char path[PATH_MAX], why[512] = "";
	struct json_object *report, *end;
	int64_t until;
	int side;

	if (first < 0)
		return cli_exit(first);
	snprintf(path, sizeof(path), "%s/report.json", dir);
	report = json_object_from_file(path);
	if (!report || !json_object_object_get_ex(report, "story_end_us", &end)) {
		fprintf(stderr, "tcplab: facts: %s: not a run folder (%s)\n", dir,
			report ? "its report.json has no story_end_us" :
				 "no readable report.json in it");
		json_object_put(report);
		return LAB_EXIT_USAGE;
	}
	until = json_object_get_int64(end);
	json_object_put(report);
	for (side = 0; side < 2; side++) {
		struct lab_trace t = LAB_TRACE_INIT;

		snprintf(path, sizeof(path), "%s/%s.pcap", dir, side ? "server" : "client");
		if (lab_trace_read(&t, path, why, sizeof(why))) {
			fprintf(stderr, "tcplab: facts: %s\n", why);
			return LAB_EXIT_USAGE;
		}
		printf("%s-side capture:\n", side ? "server" : "client");
		lab_trace_facts(&t, until, "  ", stdout);
		lab_trace_free(&t);
	}
	return 0;
}
