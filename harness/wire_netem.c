// SPDX-License-Identifier: MIT
/*
 * The wire's netem backend (tc qdisc netem, CONFIG_NET_SCH_NETEM), when the running kernel has
 * it: delay, jitter or unseeded loss of a whole direction, on the egress of the wire's veth
 * towards the receiver. One qdisc per direction; netem keeps no per-rule counts.
 */
#define _GNU_SOURCE
#include <stdio.h>

#include "topo.h"
#include "wire_priv.h"

int wire_netem_direction(struct lab_wire *w, const struct lab_impair *imp, unsigned int dir)
{
	char delay[32], jitter[32], loss[32];
	char *argv[16] = { "tc",
			   "qdisc",
			   "add",
			   "dev",
			   dir == LAB_DIR_C2S ? LAB_WIRE_SERVER_IF : LAB_WIRE_CLIENT_IF,
			   "root",
			   "netem" };
	int n = 7;

	snprintf(delay, sizeof(delay), "%ldus", imp->delay_us);
	snprintf(jitter, sizeof(jitter), "%ldus", imp->jitter_us);
	snprintf(loss, sizeof(loss), "%.4f%%", imp->ppm / 10000.0);
	if (imp->kind == LAB_IMP_DELAY) {
		argv[n++] = "delay";
		argv[n++] = delay;
		if (imp->jitter_us) {
			argv[n++] = jitter;
			argv[n++] = "0";
		}
	} else {
		argv[n++] = "loss";
		argv[n++] = loss;
	}
	w->netem_dir[dir] = true;
	return wire_run_tool(w, argv);
}
