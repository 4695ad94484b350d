/* SPDX-License-Identifier: MIT */
#ifndef LAB_LAB_H
#define LAB_LAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * The bottom of the runner: what a scenario is (its prose, typed parameters and variants, and
 * the two functions that tell its story), what a run is asked to do, and what it exits with.
 * Scenarios write against story.h; the command line and the tests against this file and run.h's
 * lab_run_main(). The library never names a scenario: the registry (scenarios/) does.
 */
/* the lab's server port unless --port says otherwise: no Wireshark dissector claims it (5000 is RSL) */
#define LAB_DEFAULT_PORT 7357
#define LAB_NAME_MAX 64 /* a scenario or variant name, with its NUL */
#define LAB_PARAMS_MAX 16

#define LAB_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#ifndef container_of
#define container_of(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))
#endif

/*
 * A parameter: a long at @offset in the scenario's own parameter struct, with bounds, unit and
 * meaning declared once (LAB_PARAM()); --set, explain, report.json and report.html read this.
 */
struct lab_param {
	const char *name;
	size_t offset;
	long def, min, max;
	const char *unit;
	const char *help;
};

#define LAB_PARAM(type, field, def_, min_, max_, unit_, help_)                                 \
	{                                                                                      \
		.name = #field, .offset = offsetof(type, field), .def = (def_), .min = (min_), \
		.max = (max_), .unit = (unit_), .help = (help_)                                \
	}

/* the head of every variant row; a scenario's row type embeds it as its first member `v` */
struct lab_variant {
	const char *name;
	const char *summary;
	/*
	 * what this variant's captures show: every kind of packet in them, in tcpdump's notation
	 * ([S], [S.], [.], [P.], [F.], [R] ...), and no other (tests/capture-text.sh checks it
	 * against the reference captures)
	 */
	const char *capture;
};

struct lab_run;

/*
 * A scenario. Fill it with LAB_SCENARIO() (story.h), which types play() and judge() against the
 * scenario's own variant row, parameter struct and observation struct.
 */
struct lab_scenario {
	const char *name; /* "rst-on-close" */
	const char *summary; /* one line: list, the README table */
	const char *symptom, *mechanism, *remedy; /* explain, report.html */
	const char *capture; /* optional: what every variant's captures have in common */
	const char *seen_on; /* kernels this mechanism was observed on, e.g. "6.18" */
	int budget_s; /* a run that takes longer is stopped and reported */
	bool timing; /* judged on time windows: the suite tags it `timing` and starts it first */
	/* filled by LAB_SCENARIO() */
	const struct lab_param *params;
	size_t n_params, params_size;
	const struct lab_variant *variants; /* &rows[0].v; rows are variant_size apart */
	size_t n_variants, variant_size;
	size_t obs_size;
	int (*play)(struct lab_run *run);
	void (*judge)(struct lab_run *run);
	/*
	 * optional, from LAB_PRECONDITION(): false (and why) when the parameters make the
	 * variant's documented behaviour impossible; the run is refused with exit 2
	 */
	bool (*check)(const struct lab_run *run, const struct lab_variant *v, const void *params,
		      char *why, size_t len);
};

/* lab_variant_at() - variant @i of @sc (rows are the scenario's own type) */
static inline const struct lab_variant *lab_variant_at(const struct lab_scenario *sc, size_t i)
{
	return (const struct lab_variant *)(const void *)((const char *)sc->variants +
							  i * sc->variant_size);
}

const struct lab_variant *lab_variant_find(const struct lab_scenario *sc, const char *name);

struct lab_run_timing {
	int64_t setup_us, total_us, protocol_us; /* protocol: first to last packet or event */
};

struct lab_expects;

struct lab_run_opts {
	const struct lab_scenario *sc; /* resolved by the caller (the registry is not ours) */
	const char *variant, *expect_as, *results;
	const char *const *sets; /* "KEY=VALUE" */
	size_t n_sets;
	const char *const *impairs; /* extra impairments on top of the scenario's (impair.h) */
	size_t n_impairs;
	bool quiet; /* no ladder: only the expectations and the verdict */
	bool outcomes_only; /* timed expectations are shown but do not decide (heavy load) */
	bool keep_lab; /* --keep: the namespaces stay, named tcplab-ID-{client,wire,server} */
	bool step; /* --step: pause at each phase until Enter */
	const char *step_at; /* --step NAME: pause at that moment of the story only */
	bool dry; /* no lab: play() only records what it would do (explain's "by hand") */
	FILE *out; /* where the summary goes (NULL: stdout) */
	FILE *json; /* if set, report.json's content goes here too, as one line (--json) */
	struct lab_run_timing *timing; /* if set, filled in: for benchmarks */
	struct lab_expects *expects_out; /* if set, receives the run's expectations (caller frees) */
	int dir_fd; /* if > 0: "run DIR" once a run's folder is made, "done EXIT DIR" once judged */
	/*
	 * The user's own programs instead of tcplab-server / tcplab-client, run by /bin/sh -c
	 * in the same namespaces, with {server_addr} {port} {server} {client_addr} replaced
	 */
	const char *server_cmd, *client_cmd;
	int port; /* the server's port (0: LAB_DEFAULT_PORT) */
	/* if not NULL (LAB_NAME_MAX bytes): the one variant the run behaves like, "" if none or
	 * several */
	char *behaves_like;
	char *by_hand; /* with @dry: receives the commands play() would run (caller frees) */
};

/* exit codes of `tcplab run` */
enum {
	LAB_EXIT_AS_DOCUMENTED = 0,
	LAB_EXIT_NOT_AS_DOCUMENTED = 1,
	LAB_EXIT_USAGE = 2,
	LAB_EXIT_SKIP = 77,
	LAB_EXIT_ERROR = 99,
};

/* lab_run_main() - the whole of `tcplab run`: returns one of the exit codes above */
int lab_run_main(const struct lab_run_opts *opts);

/*
 * lab_run_check() - resolve variant names, --set and --impair without building anything:
 * 0, or LAB_EXIT_USAGE with one line in @why (what the fuzzer and the unit tests call)
 */
int lab_run_check(const struct lab_run_opts *opts, char *why, size_t len);

#define LAB_MAX_MOMENTS 16

/* a named moment of a story (lab_pause()): what --step NAME and --impair ...,at=NAME name */
struct lab_moment {
	char name[32];
	char what[160];
};

/* lab_moments() - the moments @variant's story passes (a dry run), in order: how many, or -errno */
int lab_moments(const struct lab_scenario *sc, const char *variant, struct lab_moment *out,
		size_t max);

/* lab_by_hand() - the commands play() runs for @variant (dry run), one per line; caller frees */
char *lab_by_hand(const struct lab_scenario *sc, const char *variant);

/*
 * lab_program() - where tcplab-server or tcplab-client is: $TCPLAB_PROGRAMS/NAME if set; the
 * build tree's servers/NAME or clients/NAME for programs built there; else the installed
 * LIBEXECDIR/tcplab/NAME (under the same DESTDIR as the running program, if any)
 */
const char *lab_program(const char *name, char *buf, size_t len);

/* lab_version() - "0.1.0 (git 3168fd9-dirty)": meson's project version and git describe */
const char *lab_version(void);

#endif
