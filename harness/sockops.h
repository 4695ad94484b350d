/* SPDX-License-Identifier: MIT */
#ifndef LAB_SOCKOPS_H
#define LAB_SOCKOPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/*
 * The tiny script the lab's server and client run on their socket, e.g.
 *   "accept,recv:10,close"  or  "send:200,recv,recv,send:10"
 * Steps are comma-separated, a step's arguments follow its verb after colons. Every step reports
 * an event line (see event.h). The verbs, their arguments and what each does: `tcplab-server
 * --help` (sockops_help()); they are defined by one table in sockops.c.
 */
#define SOCKOPS_MAX 64
#define SOCKOPS_MAX_MSG (16L << 20)
#define SOCKOPS_MAX_ARGS 5

struct sockop_ctx; /* what a verb works on: the socket and the event stream */

/**
 * struct sockop_verb - one verb of the step language: a row of the table in sockops.c
 * @name: what a script calls it ("recv")
 * @min_args: how many ':'-separated arguments it needs
 * @max_args: how many it takes at most (<= SOCKOPS_MAX_ARGS)
 * @args: the verb with its arguments, as --help shows it ("recv[:BUF]")
 * @help: what it does, one line
 * @run: does it, one event line per socket call; absent arguments are 0 in @arg. Returns 0,
 *       or 1 if the step failed so hard that the script stops.
 */
struct sockop_verb {
	const char *name;
	int min_args, max_args;
	const char *args;
	const char *help;
	int (*run)(struct sockop_ctx *c, const long *arg, int nargs);
};

struct sockop {
	const struct sockop_verb *verb;
	long arg[SOCKOPS_MAX_ARGS];
	int nargs;
};

/* sockops_parse() - number of steps, or -1 with a one-line reason in @why */
int sockops_parse(const char *script, struct sockop *ops, size_t max, char *why, size_t whylen);

/* sockops_run() - run the steps on @fd (listening for a server); 0, or 1 if a step failed hard */
int sockops_run(const struct sockop *ops, int n, int fd, FILE *events);

struct sockaddr_in;
/* sockops_run_to() - the same, with @peer for the steps that connect (NULL: none may) */
int sockops_run_to(const struct sockop *ops, int n, int fd, const struct sockaddr_in *peer,
		   FILE *events);

/*
 * sockops_connects() - does a step of the script connect the socket itself (connect,
 * nbconnect)? A client whose script does then does not connect first: the steps before it run
 * on the unconnected socket.
 */
bool sockops_connects(const struct sockop *ops, int n);

/* sockops_number() - a whole number 0..2^30 from @text: 0, or -1 if it is not one */
int sockops_number(const char *text, long *out);

/* sockops_parse_addr() - "IPV4:PORT" into @sin: 0, or -1 with a reason in @why */
int sockops_parse_addr(const char *text, struct sockaddr_in *sin, char *why, size_t whylen);

/* the byte at offset @off of message @index: lets a reader tell a whole message from a piece */
unsigned char sockops_pattern(long index, long off);

/* sockops_verb() - the @i-th verb of the table, or NULL past the last one */
const struct sockop_verb *sockops_verb(size_t i);

/* sockops_help() - every verb, one line each: @indent, its arguments, what it does */
void sockops_help(FILE *out, const char *indent);

#endif
