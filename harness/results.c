// SPDX-License-Identifier: MIT
/* The results folder: RESULTS/NAME/RUN-ID/ per run, and RESULTS/latest for the newest. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

#include "report.h"

int lab_results_latest(const char *base, const char *run_dir)
{
	char tmp[PATH_MAX], link[PATH_MAX];
	int err = 0;

	snprintf(link, sizeof(link), "%s/latest", base);
	snprintf(tmp, sizeof(tmp), "%s/.latest-%d", base, (int)getpid());
	unlink(tmp);
	/* a new link renamed over the old one: parallel runs never see it missing */
	if (symlink(run_dir, tmp) < 0)
		return -errno;
	if (rename(tmp, link) < 0) {
		err = -errno;
		unlink(tmp);
	}
	return err;
}
