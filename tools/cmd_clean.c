// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dirent.h>

#include "cli.h"
#include "netns.h"

/* tcplab clean: remove every lab kept with --keep (/run/netns/tcplab-*), and nothing else */
int cmd_clean(int argc, char **argv)
{
	int first = cli_positional("clean", argc, argv, 0, 0, "");
	struct dirent *e;
	int n = 0, failed = 0;
	DIR *d;

	if (first < 0)
		return cli_exit(first);
	d = opendir("/run/netns");
	while (d && (e = readdir(d))) {
		if (strncmp(e->d_name, "tcplab-", 7))
			continue;
		if (lab_netns_unpin(e->d_name))
			failed++;
		else
			printf("removed %s\n", e->d_name), n++;
	}
	if (d)
		closedir(d);
	printf("%d kept namespace(s) removed%s\n", n, failed ? "; some could not be (root?)" : "");
	return failed ? LAB_EXIT_ERROR : 0;
}
