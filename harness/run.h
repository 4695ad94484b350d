/* SPDX-License-Identifier: MIT */
#ifndef LAB_RUN_H
#define LAB_RUN_H

#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture.h"
#include "event.h"
#include "expect.h"
#include "kernel.h"
#include "lab.h"
#include "nstat.h"
#include "proc.h"
#include "story.h"
#include "tcpdiag.h"
#include "tcpstate.h"
#include "topo.h"
#include "trace.h"
#include "wire.h"

/*
 * The run, as the runner's own modules see it (scenarios see story.h only):
 *   setup.c      variants, parameters, --set, --impair            (before any lab exists)
 *   programs.c   our programs and the user's: start, finish, stop
 *   signals.c    the signals a story sends or expects (lab_signal, lab_may_die, lab_ending)
 *   observe.c    events, calls, counters, states, series           (what judge() and reports read)
 *   classroom.c  --step pauses, --keep
 *   story.c      the scenario-facing steps, waits, timers, expectations (story.h)
 *   run.c        the lifecycle and the verdict
 * report.c and html.c read a finished run through this header and observe.c.
 */
#define LAB_MAX_CLIENTS 33 /* client, client2 ... client33 */
#define LAB_MAX_SERIES 4
#define LAB_MAX_VARIANTS 16

struct lab_clock; /* moments.c: the thread that installs at=T impairments */

/* how a run's observations fare under one variant's expectations (likeness.c) */
struct lab_likeness {
	const struct lab_variant *variant;
	size_t hold, judged; /* expectations that hold, of those judged (n/a left out) */
	bool all; /* the verdict would be "as documented" */
	bool refused; /* its precondition rules these parameters out */
};

struct lab_series {
	char name[48];
	int who;
	char call[24];
	size_t skip; /* values before this one are shown apart (e.g. request 0: quick-ACK mode) */
	int64_t *v; /* all of @who's @call values, in order */
	size_t n;
};

struct lab_run {
	const struct lab_scenario *sc;
	const struct lab_variant *variant; /* what runs */
	const struct lab_variant *expect_as; /* whose documented behaviour judges it */
	long param[LAB_PARAMS_MAX]; /* by index into sc->params */
	unsigned char *params; /* the scenario's own parameter struct, filled from param[] */
	void *obs; /* the scenario's observations: filled by play(), read by judge() */
	const struct lab_run_opts *opts;
	uint16_t port; /* the server's port (--port, else LAB_DEFAULT_PORT) */
	bool dry; /* nothing is started: steps record their commands in by_hand */
	char *by_hand;
	size_t by_hand_len;
	struct lab_kernel kernel;
	struct lab_topo topo;
	struct lab_capture cap;
	struct lab_tcpstate tcpstate; /* the kernel's state changes, when it can trace them */
	struct lab_trace trace[LAB_NHOSTS]; /* client- and server-side captures */
	struct lab_nstat before[LAB_NHOSTS], after[LAB_NHOSTS];
	struct lab_proc server;
	struct lab_proc clients[LAB_MAX_CLIENTS]; /* clients[0] is "client", then client2 ... */
	size_t n_clients;
	struct lab_wire *wire;
	struct lab_impair extra[LAB_WIRE_MAX]; /* --impair, parsed */
	size_t n_extra;
	struct lab_event *events;
	size_t n_events;
	struct lab_series series[LAB_MAX_SERIES];
	size_t n_series;
	struct lab_expects ex;
	struct lab_likeness like[LAB_MAX_VARIANTS]; /* the run judged by every variant */
	size_t n_like;
	char dir[PATH_MAX];
	int err; /* the first error (sticky): -errno */
	char error[512]; /* why the lab itself broke, if it did: the innermost reason */
	char unmet[160]; /* the user's programs never did what a wait waited for (wait.c) */
	int64_t deadline_us;
	int64_t t_start_us, t_ready_us, t_played_us, t_end_us; /* monotonic */
	int64_t story_start_us; /* CLOCK_REALTIME when play() began (at=T counts from here) */
	int64_t story_end_us; /* CLOCK_REALTIME when play() returned: what the harness did after
			       * (stopping programs) is not part of the story */
	double scale; /* TCPLAB_TOLERANCE_SCALE */
	char emulated[32]; /* TCPLAB_EMULATED (timing.h): "" on real hardware */
	char kept[640]; /* --keep: how to look inside the kept lab */
	struct lab_moment moments[LAB_MAX_MOMENTS]; /* a dry run's: the moments play() passes */
	size_t n_moments;
	int64_t applied_us[LAB_WIRE_MAX]; /* --impair at=: when extra[i] was installed, or 0 */
	int applied_idx[LAB_WIRE_MAX]; /* and its index on the wire */
	struct lab_clock *clock;
};

/* setup.c */
int lab_run_setup(struct lab_run *run, const struct lab_run_opts *opts, char *why, size_t len);
void lab_run_release(struct lab_run *run); /* what setup and the run allocated */
/* timed expectations shown, not judged: --outcomes-only, --step, or under emulation */
bool lab_run_outcomes_only(const struct lab_run *run);

/* fault.c: the first error and its innermost reason; lab_failf() (story.h) is the same */
int lab_run_verror(struct lab_run *run, int err, const char *fmt, va_list ap);
int lab_run_error(struct lab_run *run, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* the cause of an error already recorded, found later: it goes first, the consequence after */
int lab_run_error_cause(struct lab_run *run, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* verdict.c: the verdict, the results written, and the exit code, all agreeing */
int lab_run_conclude(struct lab_run *run, const char **verdict);

/* likeness.c: judge the run again by every variant's expectations; print which it matches */
void lab_run_liken(struct lab_run *run);
void lab_run_print_likeness(FILE *out, const struct lab_run *run);
const char *lab_run_behaves_like(const struct lab_run *run); /* the only one, or "" */

/* programs.c */
struct lab_proc *lab_run_prog(struct lab_run *run, int who); /* NULL if there is none */
const char *lab_run_prog_name(int who, char *buf, size_t len); /* "server", "client", "client2" */
int lab_run_start_server(struct lab_run *run, const struct lab_server_knobs *knobs,
			 const char *ops);
int lab_run_start_client(struct lab_run *run, const char *ops); /* its index */
int lab_run_finish(struct lab_run *run, int who);
int lab_run_finish_status(struct lab_run *run, int who, int code); /* it must exit @code */
void lab_run_record(struct lab_run *run, const char *fmt, ...) /* a by-hand command */
	__attribute__((format(printf, 2, 3)));

/*
 * ends.c: how the programs ended. A death by a signal the harness did not send decides the run
 * (ERROR naming that program, above what followed from it), as does one of ours ending with an
 * error before the story waited for it. lab_run_died() only looks (for waits to stop early).
 */
bool lab_run_died(struct lab_run *run);
int lab_run_blame_deaths(struct lab_run *run);
int lab_run_check_ends(struct lab_run *run); /* when play() returned */
void lab_run_stop_programs(struct lab_run *run); /* after the story: stop what still runs */

/* judge.c: give the last expectation the key of call site @line */
void lab_run_key_last(struct lab_run *run, int line);

/* observe.c */
void lab_run_add_event(struct lab_run *run, const struct lab_event *ev);
/* run_states.c: the traced state changes of the lab's connections, as "tcp_state" events */
void lab_run_state_events(struct lab_run *run);
void lab_run_collect_events(struct lab_run *run, struct lab_proc *p); /* its event lines */
void lab_run_note(struct lab_run *run, const char *who, const char *call, const char *detail);
/* the same, stamped @t_us (lab_now_us() of when it happened, not of when it is written) */
void lab_run_note_at(struct lab_run *run, int64_t t_us, const char *who, const char *call,
		     const char *detail);
int lab_run_states(struct lab_run *run, enum lab_host host, struct lab_socks *out);
int64_t lab_run_counter(const struct lab_run *run, enum lab_host host, const char *name);
int64_t lab_run_protocol_us(const struct lab_run *run);
size_t lab_run_count_calls(const struct lab_run *run, const char *who, const char *call,
			   const char *detail);
const struct lab_event *lab_run_event(const struct lab_run *run, const char *who, const char *call,
				      size_t nth);
bool lab_run_ours(const struct lab_run *run, const char *who);

/* classroom.c: --step stops at the lab's phases (plain --step) and at the story's moments */
void lab_run_phase(struct lab_run *run, const char *what);
void lab_run_pause(struct lab_run *run, const char *name, const char *what);

/*
 * moments.c: the story's named moments. lab_moments() (run.c) lists a variant's from a dry run;
 * setup checks --step NAME and at=NAME against them before any lab exists.
 */
int lab_run_check_moments(struct lab_run *run, char *why, size_t len);
/* will the story stop at, or change the wire at, moment @name? (then it waits for it exactly) */
bool lab_run_moment_wanted(const struct lab_run *run, const char *name);
/* moment @name is here: install the --impair at=@name impairments */
void lab_run_moment_reached(struct lab_run *run, const char *name);
/* is extra impairment @i installed later (at=)? */
bool lab_run_extra_later(const struct lab_run *run, size_t i);
/* the story's clock for at=T: started when play() begins, stopped when it returns */
int lab_run_clock_start(struct lab_run *run);
void lab_run_clock_stop(struct lab_run *run);
void lab_run_clock_pause(struct lab_run *run, bool paused); /* --step: the clock stops too */
/* the story's own lab_impair()/lab_arm() and the clock's thread take turns on the wire */
void lab_run_wire_lock(struct lab_run *run, bool lock);
void lab_run_keep(struct lab_run *run);

#endif
