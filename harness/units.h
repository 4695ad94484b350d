/* SPDX-License-Identifier: MIT */
#ifndef LAB_UNITS_H
#define LAB_UNITS_H

#include <stddef.h>
#include <stdint.h>

/*
 * Values with their units. A bare number is refused with the unit it probably lacked: "delay=50"
 * could be 50 ms or 50 s, "loss=0.5" half a percent or one packet in two, "rate=10" anything.
 * Each function returns 0, or -EINVAL with a one-line reason in @why naming @key.
 */
#define LAB_TIME_MAX_US 10000000L /* 10 s: longer is not a network, it is an outage (blackhole) */
#define LAB_TIME_VALUES "a time from 0 to 10s with a unit: 50ms, 500us, 1.5ms, 2s"
#define LAB_PCT_VALUES "a percentage from 0% to 100%: 2%, 0.5%"
#define LAB_RATE_VALUES "a rate with its unit: 10mbit, 512kbit, 1gbit, 125kbps (8kbit to 100gbit)"

/* lab_units_time() - "50ms", "500us", "1.5ms", "2s" into microseconds */
int lab_units_time(const char *key, const char *text, long *us, char *why, size_t whylen);
/* lab_units_pct() - "5%", "0.1%" into parts per million */
int lab_units_pct(const char *key, const char *text, uint32_t *ppm, char *why, size_t whylen);
/* lab_units_rate() - tc's units: bit, kbit, mbit, gbit, or bps, kbps, mbps, gbps (bytes) */
int lab_units_rate(const char *key, const char *text, uint64_t *bps, char *why, size_t whylen);

#endif
