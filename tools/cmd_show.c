// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "cli.h"
#include "ladder.h"
#include "trace.h"

/* tcplab show FILE: the ladder of any capture, and what is worth a look in it */
int cmd_show(int argc, char **argv)
{
	int first = cli_positional("show", argc, argv, 1, 1, "one capture file");
	const char *path = first < 0 ? NULL : argv[first];
	struct lab_trace t = LAB_TRACE_INIT;
	struct lab_ladder l = { .client_side = &t };
	struct lab_event *icmp = NULL;
	char why[512] = "";
	size_t i, rst = 0, zero = 0, retrans = 0;
	int64_t gap;
	int err;

	if (first < 0)
		return cli_exit(first);
	err = lab_trace_read(&t, path, why, sizeof(why));
	if (err) {
		fprintf(stderr, "tcplab: show: %s\n", why);
		return LAB_EXIT_USAGE;
	}
	for (i = 0; i < t.n; i++) {
		rst += !!(t.v[i].flags & LAB_TH_RST);
		retrans += t.v[i].retrans;
		zero += !t.v[i].win && !(t.v[i].flags & (LAB_TH_RST | LAB_TH_SYN));
	}
	printf("%s: %zu TCP/IPv4 packets, %zu ICMP, %zu other frames, %zu malformed (link type %s)\n",
	       path, t.n, t.n_icmp, t.other, t.bad, pcap_datalink_val_to_name(t.linktype) ?: "?");
	if (why[0])
		printf("warning: the file ends early (%s): showing what came before\n", why);
	/* ICMP messages are rows of their own, said by their sender's address */
	icmp = calloc(t.n_icmp ? t.n_icmp : 1, sizeof(*icmp));
	for (i = 0; icmp && i < t.n_icmp; i++) {
		char name[48], dst[INET_ADDRSTRLEN];

		icmp[i].t_us = t.icmp[i].t_us;
		inet_ntop(AF_INET, &t.icmp[i].src, icmp[i].who, sizeof(icmp[i].who));
		inet_ntop(AF_INET, &t.icmp[i].dst, dst, sizeof(dst));
		snprintf(icmp[i].call, sizeof(icmp[i].call), "icmp");
		snprintf(icmp[i].detail, sizeof(icmp[i].detail), "ICMP %s to %s",
			 lab_icmp_name(t.icmp[i].type, t.icmp[i].code, name, sizeof(name)), dst);
		l.events = icmp;
		l.n_events = i + 1;
	}
	printf("\n");
	lab_ladder_write(stdout, &l);
	gap = lab_trace_max_gap(&t, (struct in_addr){ 0 }, NULL);
	printf("\nnotes: %zu retransmission(s), %zu RST, %zu zero-window advertisement(s), longest "
	       "silence %.1f ms\n",
	       retrans, rst, zero, (double)gap / 1e3);
	free(icmp);
	lab_trace_free(&t);
	return 0;
}
