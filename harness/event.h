/* SPDX-License-Identifier: MIT */
#ifndef LAB_EVENT_H
#define LAB_EVENT_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>

/*
 * What the lab's programs report: one JSON object per line on stdout, for each socket call that
 * matters: {"t0_us": <entry>, "t_us": <return>, "call": "recv", "ret": -1, "errno":
 * "ECONNRESET", "detail": "..."}. Both stamps are CLOCK_REALTIME microseconds, because pcap
 * timestamps are realtime: the ladder interleaves both. A call is stamped on entry (just before
 * the syscall) and on return (just after it): a packet the call sends falls between the two, a
 * packet that makes it return falls before the second. Lines without "t0_us" (older programs,
 * a user's program, measurements such as "msg" and "request") are instants at "t_us".
 */
struct lab_event {
	int64_t t0_us; /* entry; 0 for an instant */
	int64_t t_us; /* return (or the moment, for an instant) */
	char who[16];
	char call[24];
	long ret;
	char err[20]; /* "" when the call succeeded */
	char detail[160];
};

int64_t lab_now_us(void); /* CLOCK_REALTIME in microseconds */
int64_t lab_mono_us(void); /* CLOCK_MONOTONIC in microseconds */

/* where a call began: its entry stamp, or its only stamp for an instant */
static inline int64_t lab_event_start(const struct lab_event *ev)
{
	return ev->t0_us ? ev->t0_us : ev->t_us;
}

/* lab_event_emit() - one instant event, stamped now; @err is a positive errno or 0 */
void lab_event_emit(FILE *out, const char *call, long ret, int err, const char *detail);

/* lab_event_emit_call() - one call that began at @t0_us and returned at @t_us */
void lab_event_emit_call(FILE *out, const char *call, int64_t t0_us, int64_t t_us, long ret,
			 int err, const char *detail);

/*
 * LAB_EVENT_CALL() - make one call (@expr), stamped on entry and on return, and report it (with
 * errno when @expr is negative); its value is @expr's. Nothing but the clock between the stamps
 * and the call: the stamps bracket the syscall and only the syscall.
 */
#define LAB_EVENT_CALL(out, call, expr, detail)                                        \
	({                                                                             \
		int64_t t0_ = lab_now_us();                                            \
		long ret_ = (long)(expr);                                              \
		int err_ = ret_ < 0 ? errno : 0;                                       \
		lab_event_emit_call(out, call, t0_, lab_now_us(), ret_, err_, detail); \
		ret_;                                                                  \
	})

/* lab_event_parse() - 0 and *ev filled, or -EINVAL for a line that is not an event */
int lab_event_parse(const char *line, struct lab_event *ev);

#endif
