// SPDX-License-Identifier: MIT
/* tcplab run NAME: one scenario on a fresh lab, supervised (supervise.c). */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <getopt.h>

#include "cli.h"
#include "netns.h"
#include "supervise.h"

/*
 * `--step NAME` (a space, not `=`): the word after --step is a moment when it is not a scenario
 * (moment names never are): taken out of argv before getopt sees it as a second scenario
 */
static int step_moment(int argc, char **argv, struct lab_run_opts *o)
{
	int i;

	for (i = 1; i + 1 < argc && strcmp(argv[i], "--"); i++) {
		if (strcmp(argv[i], "--step") || argv[i + 1][0] == '-' ||
		    lab_scenario_find(argv[i + 1]))
			continue;
		o->step_at = argv[i + 1];
		memmove(&argv[i + 1], &argv[i + 2], (size_t)(argc - i - 2) * sizeof(*argv));
		argv[argc - 1] = NULL;
		return argc - 1;
	}
	return argc;
}

int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = { { "variant", required_argument, NULL, 'v' },
					      { "set", required_argument, NULL, 's' },
					      { "results", required_argument, NULL, 'r' },
					      { "expect-as", required_argument, NULL, 'e' },
					      { "quiet", no_argument, NULL, 'q' },
					      { "repeat", required_argument, NULL, 'n' },
					      { "port", required_argument, NULL, 'p' },
					      { "impair", required_argument, NULL, 'i' },
					      { "outcomes-only", no_argument, NULL, 'O' },
					      { "server-cmd", required_argument, NULL, 'S' },
					      { "keep", no_argument, NULL, 'K' },
					      { "step", optional_argument, NULL, 'P' },
					      { "client-cmd", required_argument, NULL, 'C' },
					      { "json", no_argument, NULL, 'j' },
					      CLI_HELP_OPTION,
					      { NULL, 0, NULL, 0 } };
	struct lab_run_opts o = { 0 };
	long reps = 1;
	char *end;
	const char **sets = calloc((size_t)argc, sizeof(*sets));
	const char **impairs = calloc((size_t)argc, sizeof(*impairs));
	int c, ret;

	if (!sets || !impairs) {
		free(sets);
		free(impairs);
		return LAB_EXIT_ERROR;
	}
	o.impairs = impairs;
	argc = step_moment(argc, argv, &o);
	optind = 1;
	while ((c = cli_option("run", argc, argv, opts)) != CLI_END) {
		switch (c) {
		case 'v':
			o.variant = optarg;
			break;
		case 's':
			sets[o.n_sets++] = optarg;
			break;
		case 'i':
			impairs[o.n_impairs++] = optarg;
			break;
		case 'r':
			o.results = optarg;
			break;
		case 'e':
			o.expect_as = optarg;
			break;
		case 'q':
			o.quiet = true;
			break;
		case 'O':
			o.outcomes_only = true;
			break;
		case 'S':
			o.server_cmd = optarg;
			break;
		case 'K':
			o.keep_lab = true;
			break;
		case 'P':
			o.step = true;
			if (optarg)
				o.step_at = optarg;
			o.outcomes_only = true; /* a class looking at `ss` is not on the clock */
			break;
		case 'C':
			o.client_cmd = optarg;
			break;
		case 'j':
			o.out = stderr; /* people read stderr; stdout is the JSON, nothing else */
			o.json = stdout;
			break;
		case 'p':
			o.port = (int)strtol(optarg, &end, 10);
			if (*end || end == optarg || o.port < 1) {
				free(sets);
				free(impairs);
				return usage_error("run", "--port %s: wants a port from 1 to 65535",
						   optarg);
			}
			break;
		case 'n':
			reps = strtol(optarg, &end, 10);
			if (*end || end == optarg || reps < 1 || reps > 1000) {
				free(sets);
				free(impairs);
				return usage_error(
					"run", "--repeat %s: wants a count from 1 to 1000", optarg);
			}
			break;
		default: /* CLI_HELP, CLI_BAD: said */
			free(sets);
			free(impairs);
			return cli_exit(c);
		}
	}
	if (optind + 1 != argc) {
		free(sets);
		free(impairs);
		if (optind == argc)
			return usage_error("run",
					   "run needs a scenario name: tcplab list shows them");
		return usage_error("run", "run takes one scenario name, not also '%s'",
				   argv[optind + 1]);
	}
	/* mistakes that would only show after a lab was built, or write where nobody meant */
	if ((o.results && !*o.results) || (o.keep_lab && reps > 1)) {
		free(sets);
		free(impairs);
		if (o.keep_lab && reps > 1)
			return usage_error("run", "--keep keeps one lab: it cannot be used with "
						  "--repeat (keep the run you want to look at)");
		return usage_error("run", "--results needs a folder (an empty one would write "
					  "at the filesystem root)");
	}
	o.sc = cli_scenario("run", argv[optind]);
	if (!o.sc) {
		free(sets);
		free(impairs);
		return LAB_EXIT_USAGE;
	}
	o.sets = sets;
	/* without root, an unprivileged user namespace (where the kernel allows it) will do */
	lab_netns_become_root();
	ret = lab_run_supervised(&o, reps);
	free(sets);
	free(impairs);
	return ret;
}
