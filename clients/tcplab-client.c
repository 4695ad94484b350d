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
		LAB_EVENT_CALL(stdout, "setsockopt(SO_RCVBUF)",
			       setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &(int){ (int)rcvbuf },
					  sizeof(int)),
			       NULL);
	if (nodelay)
		LAB_EVENT_CALL(stdout, "setsockopt(TCP_NODELAY)",
			       setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int)),
			       NULL);
	if (sockops_connects(ops, n))
		return sockops_run_to(ops, n, fd, &addr, stdout);
	/* stamped on entry too: the SYN leaves inside connect(), the ladder draws it after */
	if (LAB_EVENT_CALL(stdout, "connect", connect(fd, (struct sockaddr *)&addr, sizeof(addr)),
			   NULL) < 0)
		return 1;
	return sockops_run_to(ops, n, fd, &addr, stdout);
}
