/* SPDX-License-Identifier: MIT */
#ifndef LAB_SOCKOPS_H
#define LAB_SOCKOPS_H

#include <stddef.h>
#include <stdio.h>

/*
 * The tiny script the lab's server and client run on their socket, e.g.
 *   "accept,recv:10,close"  or  "send:200,recv,recv,send:10"
 * Every step reports an event line (see event.h). Steps:
 *   accept                 accept one connection (server)
 *   recv[:BUF]             one recv() with a BUF-byte buffer (default 65536)
 *   drain[:N]              recv() until N bytes in all (0 or absent: until EOF or error)
 *   send:N                 one send() of N bytes (MSG_NOSIGNAL: EPIPE is reported, no signal)
 *   close | shutdown:wr|rd|rdwr
 *   rcvlowat:N             SO_RCVLOWAT: recv() waits for N bytes ("the reader is busy")
 *   msgs:COUNT:SIZE        COUNT messages of SIZE bytes, one send() each, no framing
 *   fmsgs:COUNT:SIZE       the same with a 4-byte big-endian length prefix
 *   naive:COUNT:SIZE[:BUF] read COUNT*SIZE bytes taking each recv() as one message (the bug)
 *   framed:COUNT           read COUNT length-prefixed messages, reassembling across recv()s
 *   request:N:HDR:BODY:REPLY[:1]  N requests: write HDR bytes, write BODY bytes (or, with :1,
 *                          one writev() of both), read REPLY bytes; a "request" event each
 *                          carries its latency in microseconds (CLOCK_MONOTONIC)
 *   serve:N:REQ:REPLY[:1]  N times: read REQ bytes, then write REPLY bytes; with :1 re-arm
 *                          TCP_QUICKACK after every recv()
 *   cork | nodelay | quickack   TCP_CORK / TCP_NODELAY / TCP_QUICKACK on
 *   keepalive:IDLE:INTVL:CNT  SO_KEEPALIVE with TCP_KEEPIDLE/KEEPINTVL (seconds) and KEEPCNT
 *   user_timeout:MS        TCP_USER_TIMEOUT
 *   wait                   block until a line (or EOF) on stdin: the harness says "go"; by
 *                          hand, press Enter
 *   accepts:N:REPLY        accept N connections one after the other; on each, one recv() and
 *                          a send() of REPLY bytes (the listener stays open)
 */
enum sockop_kind {
	SOCKOP_ACCEPT,
	SOCKOP_RECV,
	SOCKOP_DRAIN,
	SOCKOP_SEND,
	SOCKOP_CLOSE,
	SOCKOP_SHUTDOWN,
	SOCKOP_RCVLOWAT,
	SOCKOP_MSGS,
	SOCKOP_FMSGS,
	SOCKOP_NAIVE,
	SOCKOP_FRAMED,
	SOCKOP_REQUEST,
	SOCKOP_SERVE,
	SOCKOP_CORK,
	SOCKOP_NODELAY,
	SOCKOP_QUICKACK,
	SOCKOP_KEEPALIVE,
	SOCKOP_USER_TIMEOUT,
	SOCKOP_WAIT,
	SOCKOP_ACCEPTS,
};

#define SOCKOPS_MAX 64
#define SOCKOPS_MAX_MSG (16L << 20)

struct sockop {
	enum sockop_kind kind;
	long arg[5];
};

/* sockops_parse() - number of steps, or -1 with a one-line reason in @why */
int sockops_parse(const char *script, struct sockop *ops, size_t max, char *why, size_t whylen);

/* sockops_run() - run the steps on @fd (listening for a server); 0, or 1 if a step failed hard */
int sockops_run(const struct sockop *ops, int n, int fd, FILE *events);

/* sockops_number() - a whole number 0..2^30 from @text: 0, or -1 if it is not one */
int sockops_number(const char *text, long *out);

/* sockops_parse_addr() - "IPV4:PORT" into @sin: 0, or -1 with a reason in @why */
struct sockaddr_in;
int sockops_parse_addr(const char *text, struct sockaddr_in *sin, char *why, size_t whylen);

/* the byte at offset @off of message @index: lets a reader tell a whole message from a piece */
unsigned char sockops_pattern(long index, long off);

#endif
