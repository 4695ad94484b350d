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
	struct lab_kept_clean res;
	struct lab_owner self;
	bool all = argc == 2 && !strcmp(argv[1], "--all");
	int err;

	if (argc > 2 || (argc == 2 && !all))
		return usage_error("clean", "clean takes no arguments but --all");
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
