// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "error.h"
#include "kept.h"

/*
 * tcplab clean [--all]: remove the labs the caller kept with --keep (same user, same
 * $TCPLAB_TAG), or every kept lab with --all; never anything that is not a kept lab
 */
int cmd_clean(int argc, char **argv)
{
	static const struct option opts[] = { { "all", no_argument, NULL, 'a' },
					      CLI_HELP_OPTION,
					      { NULL, 0, NULL, 0 } };
	struct lab_kept_clean res;
	struct lab_owner self;
	bool all = false;
	int c, err;

	optind = 1;
	while ((c = cli_option("clean", argc, argv, opts)) != CLI_END) {
		if (c == CLI_HELP || c == CLI_BAD)
			return cli_exit(c);
		all = true;
	}
	if (optind < argc)
		return usage_error("clean", "clean takes no arguments but --all (not '%s')",
				   argv[optind]);
	lab_owner_self(&self);
	err = lab_kept_clean(&self, all, stdout, &res);
	if (err) {
		fprintf(stderr, "tcplab: clean: %s\n", lab_error_last());
		return LAB_EXIT_ERROR;
	}
	printf("%d kept namespace(s) removed%s\n", res.removed,
	       res.failed ? "; some could not be (root?)" : "");
	if (res.others)
		printf("%d kept namespace(s) of other users or tags left in place (yours: uid %u, "
		       "tag '%s'); `tcplab clean --all` removes every kept lab\n",
		       res.others, self.uid, self.tag);
	return res.failed ? LAB_EXIT_ERROR : 0;
}
