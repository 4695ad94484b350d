/* SPDX-License-Identifier: MIT */
#ifndef LAB_TIMING_H
#define LAB_TIMING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Time windows, packetdrill's model: expected +- max(4 ms, 12.5 % of the interval), multiplied
 * by TCPLAB_TOLERANCE_SCALE (>= 1) on slow machines. Never tighter, never silently wider.
 */
#define LAB_TOLERANCE_FLOOR_US 4000
#define LAB_TOLERANCE_ENV "TCPLAB_TOLERANCE_SCALE"
/*
 * Set (to what emulates the CPU, e.g. "tcg") when the kernel runs in an emulator: CPU work
 * between timers is many times slower there, so timed expectations are shown but do not
 * decide, as with --outcomes-only (tests/kernels/run.sh sets it in its TCG guests).
 */
#define LAB_EMULATED_ENV "TCPLAB_EMULATED"

struct lab_window {
	int64_t expected_us, lo_us, hi_us;
};

/* lab_tolerance_scale() - the scale from @env_value (NULL or "" = 1); -1 if not a number >= 1 */
double lab_tolerance_scale(const char *env_value);

int64_t lab_tolerance_us(int64_t interval_us, double scale);
struct lab_window lab_window(int64_t expected_us, double scale);
bool lab_window_holds(const struct lab_window *w, int64_t observed_us);

/* lab_percentile() - the @p quantile (0..1, nearest rank) of @v (sorted in place); -1 if empty */
int64_t lab_percentile(int64_t *v, size_t n, double p);

#endif
