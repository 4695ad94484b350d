/* SPDX-License-Identifier: MIT */
#ifndef LAB_SCENARIO_H
#define LAB_SCENARIO_H

#include <limits.h>
#include <stdio.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture.h"
#include "event.h"
#include "expect.h"
#include "kernel.h"
#include "nstat.h"
#include "proc.h"
#include "tcpdiag.h"
#include "topo.h"
#include "trace.h"
#include "wire.h"

/*
 * A scenario is a story with knobs: its text (for `tcplab explain`), its parameters with bounds,
 * its variants (the failure and its remedies), play() that drives the traffic and records
 * observations, and judge() that turns them into expectations. judge() reads run->expect_as,
 * not run->variant: judging the remedy by the failure's expectations must fail, which is how the
 * suite shows every assertion can fail.
 */
#define LAB_PARAMS_MAX 16
#define LAB_PORT 5000
#define LAB_MORE_CLIENTS 32

struct lab_param {
	const char *name;
	long def, min, max;
	const char *unit;
	const char *help;
};

struct lab_variant {
	const char *name;
	const char *summary;
	const void *how; /* the scenario's own row type */
};

struct lab_run;

struct lab_scenario {
	const char *name;
	const char *summary;
	const char *symptom, *mechanism, *capture, *remedy, *by_hand;
	const struct lab_param *params;
	size_t n_params;
	const struct lab_variant *variants;
	size_t n_variants;
	int budget_s; /* a run that takes longer is stopped and reported */
	int (*play)(struct lab_run *run);
	void (*judge)(struct lab_run *run);
};

struct lab_run_opts {
	const char *scenario, *variant, *expect_as, *results;
	const char *const *sets; /* "KEY=VALUE" */
	size_t n_sets;
	const char *const *impairs; /* extra impairments on top of the scenario's (impair.h) */
	size_t n_impairs;
	bool quiet; /* no ladder: only the expectations and the verdict */
	bool outcomes_only; /* timed expectations are shown but do not decide (heavy load) */
	bool keep_lab; /* --keep: the namespaces stay, named tcplab-ID-{client,wire,server} */
	bool step; /* --step: pause at each phase until Enter */
	FILE *out; /* where the summary goes (NULL: stdout) */
	struct lab_run_timing *timing; /* if set, filled in: for benchmarks */
	struct lab_expects *keep; /* if set, receives the run's expectations (caller frees) */
	int dir_fd; /* if > 0, each run's results folder is written here, one line, once made */
	/*
	 * The user's own programs instead of tcplab-server / tcplab-client, run by /bin/sh -c
	 * in the same namespaces, with {server_addr} {port} {server} {client_addr} replaced
	 */
	const char *server_cmd, *client_cmd;
};

struct lab_run_timing {
	int64_t setup_us, total_us, protocol_us; /* protocol: first to last packet or event */
};

struct lab_run {
	const struct lab_scenario *sc;
	const struct lab_variant *variant; /* what runs */
	const struct lab_variant *expect_as; /* whose documented behaviour judges it */
	long param[LAB_PARAMS_MAX];
	const struct lab_run_opts *opts;
	struct lab_kernel kernel;
	struct lab_topo topo;
	struct lab_capture cap;
	struct lab_trace trace[LAB_NHOSTS]; /* client- and server-side captures */
	struct lab_nstat before[LAB_NHOSTS], after[LAB_NHOSTS];
	struct lab_proc server, client;
	struct lab_proc more[LAB_MORE_CLIENTS]; /* further clients (client2, client3 ...) */
	size_t n_more;
	struct lab_wire *wire;
	struct lab_impair extra[LAB_WIRE_MAX]; /* --impair, parsed */
	size_t n_extra;
	struct lab_event *events;
	size_t n_events;
	struct lab_expects ex;
	char dir[PATH_MAX];
	char error[256]; /* why the lab itself broke, if it did */
	int64_t deadline_us;
	int64_t t_start_us, t_ready_us, t_played_us, t_end_us; /* monotonic */
	int64_t story_end_us; /* CLOCK_REALTIME when play() returned: what the harness did after
			       * (stopping programs) is not part of the story */
	double scale; /* TCPLAB_TOLERANCE_SCALE */
	void *obs; /* the scenario's observations, filled by play(), read by judge() */
	char kept[640]; /* --keep: how to look inside the kept lab */
};

/* exit codes of `tcplab run` */
enum {
	LAB_EXIT_AS_DOCUMENTED = 0,
	LAB_EXIT_NOT_AS_DOCUMENTED = 1,
	LAB_EXIT_USAGE = 2,
	LAB_EXIT_SKIP = 77,
	LAB_EXIT_ERROR = 99,
};

extern const struct lab_scenario *const lab_scenarios[];
extern const size_t lab_n_scenarios;

const struct lab_scenario *lab_scenario_find(const char *name);
const struct lab_variant *lab_variant_find(const struct lab_scenario *sc, const char *name);

/* lab_run_main() - the whole of `tcplab run`: returns one of the exit codes above */
int lab_run_main(const struct lab_run_opts *opts);

/* lab_run_setup() - resolve names and parameters; LAB_EXIT_USAGE with one line in @why */
int lab_run_setup(struct lab_run *run, const struct lab_run_opts *opts, char *why, size_t len);

/* for play(): parameters, programs, observations */
long lab_param(const struct lab_run *run, const char *name);
int lab_run_error(struct lab_run *run, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int lab_run_start_server(struct lab_run *run, char *const argv[]);
int lab_run_start_client(struct lab_run *run, char *const argv[]);
int lab_run_finish(struct lab_run *run, struct lab_proc *p);
/*
 * lab_run_pair() - the common play: tcplab-server running @server_ops (with SO_RCVBUF
 * @server_rcvbuf if > 0) on LAB_PORT, then tcplab-client running @client_ops; waits for both.
 */
int lab_run_pair(struct lab_run *run, const char *server_ops, const char *client_ops,
		 long server_rcvbuf);
/*
 * lab_run_impair() - install an impairment on the wire (impair.h syntax, printf-style): its
 * index for lab_run_arm() and lab_run_wire(), or a negative errno (the run is then in error)
 */
int lab_run_impair(struct lab_run *run, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int lab_run_arm(struct lab_run *run, int idx, bool on);
/* what impairment @idx did: matches, drops, holds, and which backend ran it */
const struct lab_wire_stat *lab_run_wire(const struct lab_run *run, int idx);
/* lab_run_start_more() - one more client ("client2", ...) running @argv; its slot, or -errno */
int lab_run_start_more(struct lab_run *run, char *const argv[]);
/*
 * Our programs, started without waiting for them (lab_run_finish() does): the server with
 * @backlog (0: default) and SO_RCVBUF @rcvbuf (0: default), ready once it listens; the client
 * (lab_run_client) or one more client (lab_run_more: its slot in run->more).
 */
int lab_run_server(struct lab_run *run, const char *ops, long backlog, long rcvbuf);
int lab_run_client(struct lab_run *run, const char *ops);
int lab_run_more(struct lab_run *run, const char *ops);
/*
 * LAB_IF_OURS(run, who, what) stmt; - stmt (expectations that need @who's own reports) only
 * when @who is our program; else one "n/a" line named @what
 */
#define LAB_IF_OURS(run, who, what)         \
	if (!lab_run_ours(run, who))        \
		lab_run_na(run, who, what); \
	else
/* lab_run_phase() - with --step: say where the story is, how to look, and wait for Enter */
void lab_run_phase(struct lab_run *run, const char *what);
/* lab_run_ours() - is @who ("server", "client") our program, reporting its calls as events? */
bool lab_run_ours(const struct lab_run *run, const char *who);
/* lab_run_na() - "n/a" for an expectation that needs @who's reports, when it is not ours */
void lab_run_na(struct lab_run *run, const char *who, const char *what);
void lab_run_note(struct lab_run *run, const char *who, const char *call, const char *detail);
/* lab_run_states() - dump @host's sockets on LAB_PORT into the ladder, return them */
int lab_run_states(struct lab_run *run, enum lab_host host, struct lab_socks *out);
/* a program's path: servers/NAME or clients/NAME in the build tree */
const char *lab_program(const char *name, char *buf, size_t len);

/* lab_run_protocol_us() - time from the first to the last packet or program event */
int64_t lab_run_protocol_us(const struct lab_run *run);

/* for judge(): what the run saw */
int64_t lab_run_counter(const struct lab_run *run, enum lab_host host, const char *name);
/* "send=200 recv=ECONNRESET recv=0": @who's calls named in @calls (NULL-terminated), in order */
void lab_run_calls(const struct lab_run *run, const char *who, const char *const *calls, char *buf,
		   size_t len);
size_t lab_run_count_calls(const struct lab_run *run, const char *who, const char *call,
			   const char *detail);
const struct lab_event *lab_run_event(const struct lab_run *run, const char *who, const char *call,
				      size_t nth);
struct in_addr lab_addr(const char *text);

#endif
