/* SPDX-License-Identifier: MIT */
#ifndef LAB_CAPTURE_H
#define LAB_CAPTURE_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "netns.h"

/*
 * libpcap on both ends of the wire, each packet written and flushed as it arrives, so a run that
 * is killed still leaves a readable pcap (the file header is on disk before anything is sent: a
 * run stopped before its first packet leaves an empty but readable capture). Ready when
 * lab_capture_start() returns (immediate mode, pcap_activate() done): traffic sent after that
 * is in the files. A write that fails (a full disk) is kept: lab_capture_check() says so.
 */
#define LAB_CAPTURE_MAX 4

struct lab_capture_point {
	const struct lab_netns *ns;
	const char *ifname;
	const char *path;
};

/* one capture file, written by the capture thread */
struct lab_capture_file {
	void *dumper; /* pcap_dumper_t */
	int err; /* the first write error (-errno): the file misses packets from there on */
	char path[PATH_MAX];
};

struct lab_capture {
	void *pcap[LAB_CAPTURE_MAX]; /* pcap_t */
	struct lab_capture_file file[LAB_CAPTURE_MAX];
	unsigned long packets[LAB_CAPTURE_MAX];
	size_t n; /* open points */
	size_t n_files; /* files written (still there for lab_capture_check() after the stop) */
	int stop_fd; /* eventfd */
	pthread_t thread;
	bool running;
};

#define LAB_CAPTURE_INIT                                \
	{                                               \
		.n = 0, .stop_fd = -1, .running = false \
	}

int lab_capture_start(struct lab_capture *c, const struct lab_capture_point *pts, size_t n);

/* lab_capture_stop() - take what is still buffered, close the files; safe to call twice */
void lab_capture_stop(struct lab_capture *c);

/* lab_capture_check() - after lab_capture_stop(): 0, or the first write error (lab_fail()) */
int lab_capture_check(const struct lab_capture *c);

#endif
