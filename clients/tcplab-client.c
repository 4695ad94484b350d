// SPDX-License-Identifier: MIT
/*
 * tcplab-client - connect, then run a step script on the socket, reporting every call.
 *
 * By hand:  ip netns exec cli tcplab-client --connect 198.51.100.1:7357 --ops send:200,recv,close
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "event.h"
#include "sockops.h"

static void usage(FILE *out)
{
	fputs("usage: tcplab-client --connect ADDR:PORT [--rcvbuf BYTES] [--nodelay] [--ops STEPS]\n"
	      "Connects to ADDR:PORT, then runs STEPS on the socket (default send:100,drain,close).\n"
	      "If a step connects (connect, nbconnect), the client does not connect first: the\n"
	      "steps before it run on the unconnected socket.\n"
	      "Each socket call is reported on stdout as a JSON line.\n"
	      "  --rcvbuf BYTES   SO_RCVBUF before connect()\n"
	      "  --nodelay        TCP_NODELAY (Nagle off)\n",
	      out);
	fputs("Steps (--ops, comma-separated, arguments after ':'):\n", out);
	sockops_help(out, "  ");
}

/* one event for a call that returns 0 or -1 with errno */
static void report(const char *call, int ret)
{
	lab_event_emit(stdout, call, ret, ret < 0 ? errno : 0, NULL);
}

static long number(const char *text, const char *what)
{
	long v;

	if (sockops_number(text, &v)) {
		fprintf(stderr, "tcplab-client: %s: bad number '%s'\n", what, text);
		usage(stderr);
		exit(2);
	}
	return v;
}

static void parse_addr(const char *text, struct sockaddr_in *sin)
{
	char why[96];

	if (sockops_parse_addr(text, sin, why, sizeof(why))) {
		fprintf(stderr, "tcplab-client: --connect: %s\n", why);
		exit(2);
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = { { "connect", required_argument, NULL, 'c' },
					      { "rcvbuf", required_argument, NULL, 'r' },
					      { "nodelay", no_argument, NULL, 'n' },
					      { "ops", required_argument, NULL, 'o' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	struct sockaddr_in addr = { 0 };
	const char *script = "send:100,drain,close";
	struct sockop ops[SOCKOPS_MAX];
	long rcvbuf = 0;
	int c, fd, n, nodelay = 0;
	char why[128];

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			parse_addr(optarg, &addr);
			break;
		case 'r':
			rcvbuf = number(optarg, "--rcvbuf");
			break;
		case 'n':
			nodelay = 1;
			break;
		case 'o':
			script = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || !addr.sin_family) {
		fprintf(stderr, "tcplab-client: %s\n",
			optind != argc ? "unexpected argument" : "--connect is required");
		usage(stderr);
		return 2;
	}
	n = sockops_parse(script, ops, SOCKOPS_MAX, why, sizeof(why));
	if (n < 0) {
		fprintf(stderr, "tcplab-client: --ops: %s\n", why);
		return 2;
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		perror("tcplab-client: socket");
		return 1;
	}
	if (rcvbuf)
		report("setsockopt(SO_RCVBUF)",
		       setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &(int){ (int)rcvbuf }, sizeof(int)));
	if (nodelay)
		report("setsockopt(TCP_NODELAY)",
		       setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int)));
	if (sockops_connects(ops, n))
		return sockops_run_to(ops, n, fd, &addr, stdout);
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		lab_event_emit(stdout, "connect", -1, errno, NULL);
		return 1;
	}
	lab_event_emit(stdout, "connect", 0, 0, NULL);
	return sockops_run_to(ops, n, fd, &addr, stdout);
}
