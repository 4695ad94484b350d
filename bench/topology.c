// SPDX-License-Identifier: MIT
/*
 * bench-topology: what the lab itself costs.
 *  1. build / tear down the three-namespace topology N times: medians and p90
 *  2. each scenario variant R times: harness overhead = run time - protocol time
 * Aim: topology up + down <= 15 ms median (9 `ip` commands for two namespaces take ~30 ms here).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "lab.h"
#include "registry.h"
#include "timing.h"
#include "topo.h"

/* a percentile in milliseconds */
static double pct(int64_t *v, size_t n, double p)
{
	return (double)lab_percentile(v, n, p) / 1000.0;
}

static int bench_topology(size_t n)
{
	int64_t *up = calloc(n, sizeof(*up)), *down = calloc(n, sizeof(*down)),
		*both = calloc(n, sizeof(*both)), t0, t1, t2, wall = lab_mono_us();
	size_t i;

	for (i = 0; i < n; i++) {
		struct lab_topo t = LAB_TOPO_INIT;

		t0 = lab_mono_us();
		if (lab_topo_new(&t, 0))
			return 1;
		t1 = lab_mono_us();
		lab_topo_free(&t);
		t2 = lab_mono_us();
		up[i] = t1 - t0;
		down[i] = t2 - t1;
		both[i] = t2 - t0;
	}
	wall = lab_mono_us() - wall;
	printf("topology (3 namespaces, 2 veth pairs, addresses, routes, offloads, %d sysctls), "
	       "%zu cycles\n",
	       LAB_PROFILE_SIZE, n);
	printf("  up            median %6.2f ms   p90 %6.2f ms\n", pct(up, n, 0.5),
	       pct(up, n, 0.9));
	printf("  down          median %6.2f ms   p90 %6.2f ms   (fd close; the kernel frees the "
	       "namespaces asynchronously)\n",
	       pct(down, n, 0.5), pct(down, n, 0.9));
	printf("  up + down     median %6.2f ms   p90 %6.2f ms   target <= 15 ms\n",
	       pct(both, n, 0.5), pct(both, n, 0.9));
	printf("  sustained     %6.2f ms per cycle over %zu back-to-back cycles\n",
	       (double)wall / 1000.0 / (double)n, n);
	free(up);
	free(down);
	free(both);
	return 0;
}

static int bench_scenarios(size_t reps)
{
	FILE *devnull = fopen("/dev/null", "w");
	size_t i, j, r;

	if (!devnull)
		return 1;
	printf("\nscenario runs (%zu each): harness overhead = total - protocol time\n", reps);
	printf("  %-32s %10s %10s %10s %10s\n", "scenario/variant", "setup", "total", "protocol",
	       "overhead");
	for (i = 0; i < lab_n_scenarios; i++) {
		const struct lab_scenario *sc = lab_scenarios[i];

		for (j = 0; j < sc->n_variants; j++) {
			int64_t setup[64], total[64], proto[64], over[64];
			char name[64];

			for (r = 0; r < reps && r < 64; r++) {
				struct lab_run_timing tm;
				struct lab_run_opts o = { .sc = sc,
							  .variant = lab_variant_at(sc, j)->name,
							  .results = "/tmp/tcplab-bench",
							  .quiet = true,
							  .out = devnull,
							  .timing = &tm };

				lab_run_main(&o);
				setup[r] = tm.setup_us;
				total[r] = tm.total_us;
				proto[r] = tm.protocol_us;
				over[r] = tm.total_us - tm.protocol_us;
			}
			snprintf(name, sizeof(name), "%s/%s", sc->name,
				 lab_variant_at(sc, j)->name);
			printf("  %-32s %7.2f ms %7.2f ms %7.2f ms %7.2f ms\n", name,
			       pct(setup, r, 0.5), pct(total, r, 0.5), pct(proto, r, 0.5),
			       pct(over, r, 0.5));
		}
	}
	fclose(devnull);
	return system("rm -rf /tmp/tcplab-bench") ? 1 : 0;
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 200;
	size_t reps = argc > 2 ? strtoul(argv[2], NULL, 10) : 10;

	if (lab_netns_probe()) {
		fprintf(stderr, "bench-topology: needs root (network namespaces)\n");
		return 77;
	}
	if (!n || !reps)
		return 2;
	if (bench_topology(n))
		return 1;
	return bench_scenarios(reps);
}
