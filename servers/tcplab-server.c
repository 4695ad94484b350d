// SPDX-License-Identifier: MIT
/*
 * tcplab-server - listen, then run a step script on the socket, reporting every call.
 *
 * By hand:  ip netns exec srv tcplab-server --listen 0.0.0.0:7357 --ops accept,recv:10,close
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "event.h"
#include "sockops.h"

static void usage(FILE *out)
{
	fputs("usage: tcplab-server [--listen ADDR:PORT] [--backlog N] [--rcvbuf BYTES]\n"
	      "                     [--no-reuseaddr] [--reuseport] [--bind-only]\n"
	      "                     [--ready-fd FD] [--ops STEPS]\n"
	      "Listens on ADDR:PORT (default 0.0.0.0:7357), then runs STEPS on the socket\n"
	      "(default accept,drain,close). Each socket call is reported on stdout as a JSON line.\n"
	      "  --backlog N      listen() backlog (default 128)\n"
	      "  --rcvbuf BYTES   SO_RCVBUF set before listen(), inherited by accepted sockets\n"
	      "  --no-reuseaddr   do not set SO_REUSEADDR (set by default, as most servers do)\n"
	      "  --reuseport      SO_REUSEPORT before bind(): other sockets may join the port\n"
	      "  --bind-only      bind() but do not listen() (the `listen` step does)\n"
	      "  --ready-fd FD    write \"ready\" to FD once listening (bound), then close it\n",
	      out);
	fputs("Steps (--ops, comma-separated, arguments after ':'):\n", out);
	sockops_help(out, "  ");
}

static void die(int code, const char *what)
{
	fprintf(stderr, "tcplab-server: %s%s%s\n", what, errno ? ": " : "",
		errno ? strerror(errno) : "");
	exit(code);
}

static long number(const char *text, const char *what)
{
	long v;

	if (sockops_number(text, &v)) {
		fprintf(stderr, "tcplab-server: %s: bad number '%s'\n", what, text);
		usage(stderr);
		exit(2);
	}
	return v;
}

static void parse_addr(const char *text, struct sockaddr_in *sin)
{
	char why[96];

	if (sockops_parse_addr(text, sin, why, sizeof(why))) {
		fprintf(stderr, "tcplab-server: --listen: %s\n", why);
		exit(2);
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = { { "listen", required_argument, NULL, 'l' },
					      { "backlog", required_argument, NULL, 'b' },
					      { "rcvbuf", required_argument, NULL, 'r' },
					      { "ready-fd", required_argument, NULL, 'R' },
					      { "no-reuseaddr", no_argument, NULL, 'A' },
					      { "reuseport", no_argument, NULL, 'P' },
					      { "bind-only", no_argument, NULL, 'B' },
					      { "ops", required_argument, NULL, 'o' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(7357) };
	const char *script = "accept,drain,close";
	long backlog = 128, rcvbuf = 0, ready_fd = -1;
	bool reuseaddr = true, reuseport = false, bind_only = false;
	struct sockop ops[SOCKOPS_MAX];
	char why[128];
	int c, fd, n, ret;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			parse_addr(optarg, &addr);
			break;
		case 'b':
			backlog = number(optarg, "--backlog");
			break;
		case 'r':
			rcvbuf = number(optarg, "--rcvbuf");
			break;
		case 'R':
			ready_fd = number(optarg, "--ready-fd");
			break;
		case 'o':
			script = optarg;
			break;
		case 'A':
			reuseaddr = false;
			break;
		case 'P':
			reuseport = true;
			break;
		case 'B':
			bind_only = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "tcplab-server: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	n = sockops_parse(script, ops, SOCKOPS_MAX, why, sizeof(why));
	if (n < 0) {
		fprintf(stderr, "tcplab-server: --ops: %s\n", why);
		return 2;
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die(1, "socket");
	if (reuseaddr)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &(int){ 1 }, sizeof(int));
	/* before bind(): a socket joins a reuseport group only if every member set it */
	if (reuseport)
		LAB_EVENT_CALL(stdout, "SO_REUSEPORT",
			       setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &(int){ 1 }, sizeof(int)),
			       NULL);
	/* before listen(): accepted sockets inherit it and the window is sized from it */
	if (rcvbuf)
		LAB_EVENT_CALL(stdout, "setsockopt(SO_RCVBUF)",
			       setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &(int){ (int)rcvbuf },
					  sizeof(int)),
			       NULL);
	/* --bind-only reports its bind(): the listen() comes later, from the `listen` step */
	if (bind_only)
		ret = LAB_EVENT_CALL(stdout, "bind",
				     bind(fd, (struct sockaddr *)&addr, sizeof(addr)), NULL);
	else
		ret = bind(fd, (struct sockaddr *)&addr, sizeof(addr));
	if (ret < 0)
		die(1, "bind");
	if (!bind_only && LAB_EVENT_CALL(stdout, "listen", listen(fd, (int)backlog), NULL) < 0)
		die(1, "listen");
	if (ready_fd >= 0) {
		if (write((int)ready_fd, "ready\n", 6) != 6)
			die(1, "write ready fd");
		close((int)ready_fd);
	}
	return sockops_run(ops, n, fd, stdout);
}
