// SPDX-License-Identifier: MIT
/* tcplab explain NAME: the story, its knobs, and the commands to tell it by hand. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "topo.h"

/*
 * The story's named moments (from a dry run of each variant): what `--step NAME` stops at and
 * `--impair SPEC,at=NAME` changes the wire at
 */
static void print_moments(const struct lab_scenario *sc)
{
	struct lab_moment all[LAB_MAX_MOMENTS], m[LAB_MAX_MOMENTS];
	char in[LAB_MAX_MOMENTS][160] = { { 0 } };
	size_t n_all = 0, i, j;
	int n;

	for (i = 0; i < sc->n_variants; i++) {
		const char *v = lab_variant_at(sc, i)->name;

		n = lab_moments(sc, v, m, LAB_MAX_MOMENTS);
		for (j = 0; n > 0 && j < (size_t)n; j++) {
			size_t k;

			for (k = 0; k < n_all && strcmp(all[k].name, m[j].name); k++)
				;
			if (k == n_all && n_all < LAB_MAX_MOMENTS)
				all[n_all++] = m[j];
			if (k < n_all)
				snprintf(in[k] + strlen(in[k]), sizeof(in[k]) - strlen(in[k]),
					 "%s%s", in[k][0] ? ", " : "", v);
		}
	}
	printf("\nMOMENTS (--step NAME stops there; --impair SPEC,at=NAME changes the wire there)\n");
	if (!n_all)
		printf("  none: --step stops at the lab's phases only\n");
	for (i = 0; i < n_all; i++) {
		printf("  %-16s %s\n", all[i].name, all[i].what);
		printf("  %-16s (variants: %s)\n", "", in[i]);
	}
}

int cmd_explain(int argc, char **argv)
{
	int first = cli_positional("explain", argc, argv, 1, 1, "one scenario name");
	const struct lab_scenario *sc;
	size_t i;

	if (first < 0)
		return cli_exit(first);
	sc = cli_scenario("explain", argv[first]);
	if (!sc)
		return LAB_EXIT_USAGE;
	printf("%s: %s\n\n", sc->name, sc->summary);
	printf("SYMPTOM\n");
	cli_wrap(sc->symptom, 2);
	printf("\nMECHANISM\n");
	cli_wrap(sc->mechanism, 2);
	if (sc->seen_on)
		printf("\nSEEN ON (kernels where every variant ran as documented)\n  %s\n",
		       sc->seen_on);
	printf("\nIN THE CAPTURE (both captures end where the story ends)\n");
	if (sc->capture)
		cli_wrap(sc->capture, 2);
	for (i = 0; i < sc->n_variants; i++) {
		printf("  %s:\n", lab_variant_at(sc, i)->name);
		cli_wrap(lab_variant_at(sc, i)->capture ? lab_variant_at(sc, i)->capture : "", 4);
	}
	printf("\nREMEDY\n");
	cli_wrap(sc->remedy, 2);
	printf("\nVARIANTS\n");
	for (i = 0; i < sc->n_variants; i++)
		printf("  %-14s %s\n", lab_variant_at(sc, i)->name, lab_variant_at(sc, i)->summary);
	printf("\nPARAMETERS (--set KEY=VALUE)\n");
	for (i = 0; i < sc->n_params; i++) {
		const struct lab_param *p = &sc->params[i];

		printf("  %-16s default %-8ld range %ld..%ld %s\n", p->name, p->def, p->min, p->max,
		       p->unit);
		cli_wrap(p->help, 20);
	}
	print_moments(sc);
	printf("\nBY HAND (what the lab runs for each variant, in namespaces you make: CLIENT and\n"
	       "SERVER joined through a router; the lab's addresses are %s and %s)\n",
	       LAB_CLIENT_ADDR, LAB_SERVER_ADDR);
	for (i = 0; i < sc->n_variants; i++) {
		char *by_hand = lab_by_hand(sc, lab_variant_at(sc, i)->name);

		printf("  # %s\n", lab_variant_at(sc, i)->name);
		for (const char *l = by_hand ? by_hand : "";
		     *l;) { /* one per line, never wrapped */
			size_t len = strcspn(l, "\n");

			printf("  %.*s\n", (int)len, l);
			l += len + (l[len] == '\n');
		}
		free(by_hand);
	}
	printf("  # and watch: tcpdump -nn -i IFACE tcp port %d; ip netns exec server nstat -az\n",
	       LAB_DEFAULT_PORT);
	printf("\nRUN IT\n  tcplab run %s\n  tcplab run %s --variant %s\n", sc->name, sc->name,
	       sc->n_variants > 1 ? lab_variant_at(sc, 1)->name : "default");
	printf("  tcplab run %s --step        # pause at each phase, look with ss/nstat\n",
	       sc->name);
	printf("  tcplab run %s --step NAME   # pause at one moment (MOMENTS above) only\n",
	       sc->name);
	printf("  then open results/%s/RUN-ID/report.html; reference captures: pcaps/%s/\n",
	       sc->name, sc->name);
	return 0;
}
