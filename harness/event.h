/* SPDX-License-Identifier: MIT */
#ifndef LAB_EVENT_H
#define LAB_EVENT_H

#include <stdint.h>
#include <stdio.h>

/*
 * What the lab's programs report: one JSON object per line on stdout, for each socket call that
 * matters: {"t_us": <CLOCK_REALTIME us>, "call": "recv", "ret": -1, "errno": "ECONNRESET",
 * "detail": "..."}. Realtime, because pcap timestamps are realtime: the ladder interleaves both.
 */
struct lab_event {
	int64_t t_us;
	char who[16];
	char call[24];
	long ret;
	char err[20]; /* "" when the call succeeded */
	char detail[96];
};

int64_t lab_now_us(void); /* CLOCK_REALTIME in microseconds */
int64_t lab_mono_us(void); /* CLOCK_MONOTONIC in microseconds */

/* lab_event_emit() - write one event line and flush; @err is a positive errno or 0 */
void lab_event_emit(FILE *out, const char *call, long ret, int err, const char *detail);

/* lab_event_parse() - 0 and *ev filled, or -EINVAL for a line that is not an event */
int lab_event_parse(const char *line, struct lab_event *ev);

#endif
