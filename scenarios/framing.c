// SPDX-License-Identifier: MIT
/* Shared steps of the byte-stream scenarios (sticky-packets, split-packets). */
#define _GNU_SOURCE
#include <stdio.h>

#include "framing.h"

void framing_observe(const struct lab_run *run, struct framing_obs *obs)
{
	const struct lab_event *first_recv = lab_run_event(run, "server", "recv", 0);
	const struct lab_event *first_msg = lab_run_event(run, "server", "msg", 0);

	obs->recv_calls = lab_run_count_calls(run, "server", "recv", NULL);
	/* the final recv() = 0 is the end of the stream, not a piece of it */
	if (obs->recv_calls && lab_run_event(run, "server", "recv", obs->recv_calls - 1)->ret == 0)
		obs->recv_calls--;
	obs->messages = lab_run_count_calls(run, "server", "msg", NULL);
	obs->whole = lab_run_count_calls(run, "server", "msg", "whole");
	obs->first_recv = first_recv ? first_recv->ret : -1;
	obs->first_message = first_msg ? first_msg->ret : -1;
}
