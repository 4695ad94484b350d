/* SPDX-License-Identifier: MIT */
#ifndef LAB_FRAMING_H
#define LAB_FRAMING_H

/*
 * What sticky-packets and split-packets share: a sender, a receiver whose parser is either
 * naive (one recv() = one message) or length-prefixed, and the counts that tell them apart.
 */
#include "story.h"

#define FRAMING_PREFIX_BYTES 4 /* the framed messages' big-endian length (fmsgs, framed) */

/* what the server's parser made of the stream (both scenarios' observations) */
struct framing_obs {
	int64_t recv_calls; /* recv() calls that returned data (not the final 0) */
	int64_t messages, whole; /* messages the parser delivered; of them whole and correct */
	int64_t first_recv, first_message; /* bytes of the first of each; -1 if none */
};

/* framing_observe() - read the server's calls, once it has finished */
void framing_observe(const struct lab_run *run, struct framing_obs *obs);

#endif
