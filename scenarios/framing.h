/* SPDX-License-Identifier: MIT */
#ifndef LAB_FRAMING_H
#define LAB_FRAMING_H

/*
 * What sticky-packets and split-packets share: a sender, a receiver whose parser is either
 * naive (one recv() = one message) or length-prefixed, and the counts that tell them apart.
 */
#include "scenario.h"

struct framing_how {
	const char *server_ops; /* format: see each scenario */
	const char *client_ops;
	bool framed; /* documented parser: length-prefixed (true) or naive */
};

struct framing_obs {
	size_t recv_calls, messages, whole;
	long first_recv, first_message;
};

/* what the server's parser made of the stream */
void framing_observe(const struct lab_run *run, struct framing_obs *obs);

#endif
