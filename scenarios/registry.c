// SPDX-License-Identifier: MIT
/* Every scenario tcplab knows, in the order `tcplab list` shows them. */
#include "scenario.h"

extern const struct lab_scenario lab_sc_rst_on_close;
extern const struct lab_scenario lab_sc_sticky_packets;
extern const struct lab_scenario lab_sc_split_packets;
extern const struct lab_scenario lab_sc_nagle_delayed_ack;
extern const struct lab_scenario lab_sc_lost_final_ack;
extern const struct lab_scenario lab_sc_lost_handshake_ack;
extern const struct lab_scenario lab_sc_keepalive_expiry;
extern const struct lab_scenario lab_sc_accept_overflow;

/* one per line, in the order `tcplab list` shows them */
const struct lab_scenario *const lab_scenarios[] = {
	&lab_sc_rst_on_close, //
	&lab_sc_sticky_packets, //
	&lab_sc_split_packets, //
	&lab_sc_nagle_delayed_ack, //
	&lab_sc_lost_final_ack, //
	&lab_sc_lost_handshake_ack, //
	&lab_sc_keepalive_expiry, //
	&lab_sc_accept_overflow, //
};

const size_t lab_n_scenarios = sizeof(lab_scenarios) / sizeof(lab_scenarios[0]);
