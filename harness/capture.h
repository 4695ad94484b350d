/* SPDX-License-Identifier: MIT */
#ifndef LAB_CAPTURE_H
#define LAB_CAPTURE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "netns.h"

/*
 * libpcap on both ends of the wire, each packet written and flushed as it arrives, so a run that
 * is killed still leaves a readable pcap. Ready when lab_capture_start() returns (immediate mode,
 * pcap_activate() done): traffic sent after that is in the files.
 */
#define LAB_CAPTURE_MAX 4

struct lab_capture_point {
	const struct lab_netns *ns;
	const char *ifname;
	const char *path;
};

struct lab_capture {
	void *pcap[LAB_CAPTURE_MAX]; /* pcap_t */
	void *dumper[LAB_CAPTURE_MAX]; /* pcap_dumper_t */
	unsigned long packets[LAB_CAPTURE_MAX];
	size_t n;
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

#endif
