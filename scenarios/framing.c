// SPDX-License-Identifier: MIT
/* Shared steps of the byte-stream scenarios (sticky-packets, split-packets). */
#include "framing.h"

/* the return value of the server's first call named @call, or -1 */
static int64_t first(const struct lab_run *run, const char *call)
{
	const struct lab_event *ev = lab_call(run, LAB_PROG_SERVER, call, 0);

	return ev ? ev->ret : -1;
}

void framing_observe(const struct lab_run *run, struct framing_obs *obs)
{
	size_t recvs = lab_count_calls(run, LAB_PROG_SERVER, "recv", NULL);

	/* the final recv() = 0 is the end of the stream, not a piece of it */
	if (recvs && lab_call(run, LAB_PROG_SERVER, "recv", recvs - 1)->ret == 0)
		recvs--;
	obs->recv_calls = recvs;
	obs->messages = lab_count_calls(run, LAB_PROG_SERVER, "msg", NULL);
	obs->whole = lab_count_calls(run, LAB_PROG_SERVER, "msg", "whole");
	obs->first_recv = first(run, "recv");
	obs->first_message = first(run, "msg");
}
