/* SPDX-License-Identifier: MIT */
#ifndef LAB_STORY_H
#define LAB_STORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "expect.h"
#include "lab.h"
#include "tcpdiag.h"

/*
 * In a scenario, the lab's port, whatever --port chose: lab_states() and the waits only ever
 * see sockets on it, so counting "on LAB_PORT" counts them all.
 */
#define LAB_PORT 0
#include "timing.h"
#include "topo.h"
#include "trace.h"

/*
 * What a scenario writes against: a story told to a run it cannot see into.
 *
 * Errors are sticky: after the first failure every later step is a no-op (waits return at
 * once, indexes are -1), the run remembers the first, most precise reason, and play() ends with
 * `return lab_status(run);`. So play() reads top to bottom, like the story it tells.
 *
 * play() steps run in the lab; in a dry run (`tcplab explain`) they only record the commands a
 * person would type, which is where "by hand" comes from.
 */

/* ---- the scenario's definition ------------------------------------------------------------ */

/*
 * LAB_SCENARIO(id, VARIANT_TYPE, variants, PARAMS_TYPE, params, OBS_TYPE, .name = ..., ...)
 * defines `lab_sc_<id>` (list it in scenarios/meson.build) from static functions
 *   int  play(struct lab_run *run, const VARIANT_TYPE *v, const PARAMS_TYPE *p, OBS_TYPE *obs);
 *   void judge(struct lab_run *run, const VARIANT_TYPE *expect, const PARAMS_TYPE *p,
 *              const OBS_TYPE *obs);
 * VARIANT_TYPE's first member is `struct lab_variant v`; judge() gets the row of the variant
 * whose documented behaviour judges the run (--expect-as), which is how a remedy judged as the
 * failure must fail. The runner allocates OBS_TYPE zeroed; play() fills it, judge() reads it.
 */
#define LAB_SCENARIO(id, VT, variants_, PT, params_, OT, ...)                              \
	static int id##_play(struct lab_run *run)                                          \
	{                                                                                  \
		return play(run, container_of(lab_story_variant(run), const VT, v),        \
			    (const PT *)lab_story_params(run, sizeof(PT)),                 \
			    (OT *)lab_story_obs(run, sizeof(OT)));                         \
	}                                                                                  \
	static void id##_judge(struct lab_run *run)                                        \
	{                                                                                  \
		judge(run, container_of(lab_story_expect_as(run), const VT, v),            \
		      (const PT *)lab_story_params(run, sizeof(PT)),                       \
		      (const OT *)lab_story_obs(run, sizeof(OT)));                         \
	}                                                                                  \
	const struct lab_scenario lab_sc_##id = { .params = params_,                       \
						  .n_params = LAB_ARRAY_SIZE(params_),     \
						  .params_size = sizeof(PT),               \
						  .variants = &(variants_)[0].v,           \
						  .n_variants = LAB_ARRAY_SIZE(variants_), \
						  .variant_size = sizeof((variants_)[0]),  \
						  .obs_size = sizeof(OT),                  \
						  .play = id##_play,                       \
						  .judge = id##_judge,                     \
						  __VA_ARGS__ }

/*
 * LAB_PRECONDITION(id, VARIANT_TYPE, PARAMS_TYPE) - before LAB_SCENARIO(), with
 * `.check = id##_check` among its fields: the scenario's static
 * `bool precondition(const struct lab_run *run, const VT *v, const PT *p, char *why,
 * size_t len)` is asked before a run (the kernel's timers are known then: lab_timer_us() ...);
 * a parameter combination that cannot show the variant's behaviour is refused (exit 2) with
 * the reason, instead of a story whose expectations adapt until nothing fails.
 */
#define LAB_PRECONDITION(id, VT, PT)                                                             \
	static bool id##_check(const struct lab_run *run, const struct lab_variant *v,           \
			       const void *p, char *why, size_t len)                             \
	{                                                                                        \
		return precondition(run, container_of(v, const VT, v), (const PT *)p, why, len); \
	}

/* for LAB_SCENARIO(): the runner's typed blobs (checked against the declared sizes) */
const struct lab_variant *lab_story_variant(struct lab_run *run);
const struct lab_variant *lab_story_expect_as(struct lab_run *run);
const void *lab_story_params(struct lab_run *run, size_t size);
void *lab_story_obs(struct lab_run *run, size_t size);

/* ---- status ------------------------------------------------------------------------------- */

/* lab_status() - 0, or the first error's -errno (its reason is the run's ERROR line) */
int lab_status(const struct lab_run *run);
/* lab_failf() - the lab itself broke (not TCP): record why, unless a reason is already there */
int lab_failf(struct lab_run *run, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- programs ----------------------------------------------------------------------------- */

/* who: the server, the first client, or client N (its index from lab_client()) */
#define LAB_PROG_SERVER (-1)
#define LAB_PROG_CLIENT 0

/* knobs of tcplab-server that must be set before listen(): one named field each */
struct lab_server_knobs {
	long backlog; /* listen() backlog; 0: the program's default */
	long rcvbuf; /* SO_RCVBUF before listen(); 0: the kernel's */
	long no_reuseaddr; /* 1: the listener without SO_REUSEADDR (set by default) */
	long reuseport; /* 1: SO_REUSEPORT before bind() */
	long bind_only; /* 1: bind() but do not listen(): the script's `listen` step does */
};
#define LAB_KNOBS(...) (&(const struct lab_server_knobs){ __VA_ARGS__ })

/*
 * lab_server() - start tcplab-server on the lab port running the steps @fmt (sockops.h; see
 * `tcplab-server --help`), and wait until it listens. @knobs may be NULL.
 */
void lab_server(struct lab_run *run, const struct lab_server_knobs *knobs, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* lab_client() - start one more tcplab-client (the first is LAB_PROG_CLIENT): its index, or -1 */
int lab_client(struct lab_run *run, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * How programs may end. A program the story waits for (lab_finish*) must end as it says; one it
 * does not wait for may run on (it is stopped after the story) or exit 0. Anything else before
 * the story's end decides the run as an ERROR naming that program, ahead of its consequences:
 * killed by a signal tcplab did not send ("server killed by SIGKILL during the story"), or one of
 * ours exiting with an error unasked. A death also ends the story's waits at once.
 */
/* lab_finish() - wait for program @who to end within the budget; it must end well */
void lab_finish(struct lab_run *run, int who);
/* lab_finish_status() - the same, for a program whose story ends with exit code @code */
void lab_finish_status(struct lab_run *run, int who, int code);
/* lab_finish_all() - every client in order, then the server */
void lab_finish_all(struct lab_run *run);
/*
 * Signals in the story (signals.c): a death by the signal named here is an observation
 * (lab_ending()), not an ERROR.
 * lab_signal() - send @sig to program @who as a step of the story: SIGKILL is a crash (the
 * program is reaped before this returns, so its kernel has closed its sockets), SIGSTOP a hung
 * application.
 * lab_may_die() - program @who may be killed by @sig from its own kernel (SIGPIPE on a write to
 * a reset connection), said before it can happen.
 */
void lab_signal(struct lab_run *run, int who, int sig);
void lab_may_die(struct lab_run *run, int who, int sig);
/* lab_ending() - how @who ended, for judge: "exit 0", "killed by SIGPIPE", "still running" ... */
const char *lab_ending(const struct lab_run *run, int who, char *buf, size_t len);
/* lab_go() - let a program waiting at its `wait` step go on */
void lab_go(struct lab_run *run, int who);
/* lab_ours() - is @who our program (reporting its calls), not a user's --server/client-cmd? */
bool lab_ours(const struct lab_run *run, int who);
/* lab_needs() - lab_ours(), else an "n/a" expectation named @what (the judge skips it) */
#define lab_needs(run, who, what) lab_needs_at(run, __LINE__, who, what)
bool lab_needs_at(struct lab_run *run, int key, int who, const char *what);
/*
 * lab_params_of() - parameters @names ("a, b") configure program @who only (the bytes it sends
 * or reads, the socket options it sets, its steps' counts): lab_ours(), else an "n/a" row naming
 * them (a user's program does what it does), so that the judge leaves out what it derives from
 * them. Parameters of the network or the kernel (sysctls, the wire) apply to any program.
 */
#define lab_params_of(run, who, names) lab_params_of_at(run, __LINE__, who, names)
bool lab_params_of_at(struct lab_run *run, int key, int who, const char *names);

/* ---- the lab ------------------------------------------------------------------------------ */

/* lab_sysctl() - set net.* sysctl @key (dotted) in @host's namespace, before the programs */
void lab_sysctl(struct lab_run *run, enum lab_host host, const char *key, long value);
/* lab_sysctl_text() - the same for a sysctl whose value is text ("40000 40003") */
void lab_sysctl_text(struct lab_run *run, enum lab_host host, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* lab_sysctl_read() - a sysctl's value in @host's namespace, or @absent (no such key, dry run) */
long lab_sysctl_read(struct lab_run *run, enum lab_host host, const char *key, long absent);
/* lab_no_route() - @host loses its default route (`ip route del default`), before the programs */
void lab_no_route(struct lab_run *run, enum lab_host host);
/* lab_impair() - install an impairment on the wire (impair.h syntax): its index, or -1 */
int lab_impair(struct lab_run *run, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* lab_arm() - arm (@on) or release a blackhole impairment */
void lab_arm(struct lab_run *run, int idx, bool on);
/* lab_impaired() - what impairment @idx did; -1 counts when it never ran */
struct lab_impair_count {
	int64_t matched, dropped, held;
};
struct lab_impair_count lab_impaired(const struct lab_run *run, int idx);

/* ---- waits (bounded by the scenario's budget; a timeout is an ERROR naming @what) ---------- */

/* lab_wait_state() - a socket on the lab port of @host in @state */
void lab_wait_state(struct lab_run *run, enum lab_host host, int state);
/* lab_wait_settled() - no socket on the lab port of @host in a transient state any more */
void lab_wait_settled(struct lab_run *run, enum lab_host host);
/* lab_wait_for() - @pred true of @host's sockets (all states); @what names it for the ERROR */
void lab_wait_for(struct lab_run *run, enum lab_host host,
		  bool (*pred)(const struct lab_socks *s, const void *arg), const void *arg,
		  const char *what);
/*
 * lab_wait_calls() - program @who has reported @n calls named @call (its event lines, read as
 * they come): for a step whose outcome leaves no socket to see, such as a bind() that fails
 */
void lab_wait_calls(struct lab_run *run, int who, const char *call, size_t n);
/*
 * lab_wait_idle() - the connection on the lab port of @host has been idle @ms: nothing sent,
 * received or acknowledged for that long (tcp_info: tcpi_last_data_sent, tcpi_last_data_recv,
 * tcpi_last_ack_recv). How a story waits until a user's request and response have crossed.
 */
void lab_wait_idle(struct lab_run *run, enum lab_host host, long ms);
/* lab_wait_counter() - @host's counter @name has grown by at least @delta since the story began */
void lab_wait_counter(struct lab_run *run, enum lab_host host, const char *name, int64_t delta);

/* ---- observations (during play) ----------------------------------------------------------- */

/* lab_states() - @host's sockets now, drawn on the ladder as state samples (caller frees) */
void lab_states(struct lab_run *run, enum lab_host host, struct lab_socks *out);
/*
 * What a program really set on its connection (a user's curl sets its own keepalive, not the
 * scenario's parameters): the options of the socket on the lab port held by a process in
 * @host's namespace, read from outside (pidfd_getfd(), getsockopt(): the values in force,
 * the namespace's sysctls where the program set none). .read is false when none was found.
 */
struct lab_sockopts {
	bool read;
	int keepalive, keepidle_s, keepintvl_s, keepcnt, user_timeout_ms;
	char program[24]; /* "pid 1234" */
};
void lab_sockopts(struct lab_run *run, enum lab_host host, struct lab_sockopts *out);
/* lab_not_applicable() - an "n/a" row: @what (a parameter, an expectation) does not apply, @why */
#define lab_not_applicable(run, what, why) lab_not_applicable_at(run, __LINE__, what, why)
void lab_not_applicable_at(struct lab_run *run, int key, const char *what, const char *why);
/* lab_states_count() - the same, and how many are in @state (-1: any); the sample is freed */
int64_t lab_states_count(struct lab_run *run, enum lab_host host, int state);
/* lab_note() - a harness note on the ladder ("accept queue full; the first client sends") */
void lab_note(struct lab_run *run, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * Moments: the points of the story a lesson is about, named by the scenario. `--step` stops at
 * every one (and at the lab's phases), `--step NAME` at that one only; `--impair SPEC,at=NAME`
 * installs SPEC there; `tcplab explain` lists them (from a dry run of play()). The kernel's own
 * timers run on while a class looks; the story's (budget, waits, at=T) stand still.
 *
 * lab_pause() - moment @name, between two steps of the story (@what: what holds there)
 */
void lab_pause(struct lab_run *run, const char *name, const char *what);
/*
 * lab_moment_wanted() - will this run stop at @name or change the wire there? A moment that
 * takes a wait of its own to reach exactly (a state that lasts a round trip) waits only then.
 */
bool lab_moment_wanted(const struct lab_run *run, const char *name);
/*
 * lab_hold() - for the steps of program @who: "wait," where moment @name is wanted and @who is
 * our program (it stops at that step until lab_moment() lets it go), else ""
 */
const char *lab_hold(struct lab_run *run, int who, const char *name);
/*
 * lab_moment() - moment @name inside @who's steps, held there by lab_hold(): once @who has made
 * @n calls named @after (the step before the hold), lab_pause(), then let @who go on. A user's
 * program is not held: the moment is then the harness's, between the story's steps.
 */
void lab_moment(struct lab_run *run, int who, const char *after, size_t n, const char *name,
		const char *what);

/* ---- the kernel --------------------------------------------------------------------------- */

enum lab_ktimer {
	LAB_TICK, /* one jiffy: 1 s / CONFIG_HZ */
	LAB_TCP_RTO_MIN, /* 200 ms: the RTO floor's variance term, the loss probe's tail */
	LAB_TCP_TIMEOUT_INIT, /* 1 s: the first SYN / SYN-ACK retransmission */
	LAB_TCP_DELACK_MIN, /* 40 ms: the shortest delayed ACK */
	LAB_TCP_TIMEOUT_MIN, /* 2 jiffies: the shortest TCP timer (a SYN re-sent after a bad ACK) */
};
/* lab_timer_us() - the constant, in microseconds, for the running kernel */
int64_t lab_timer_us(const struct lab_run *run, enum lab_ktimer t);
/*
 * lab_timer_fires_us() - when a timer armed for @us fires: the timer wheel rounds it up by up
 * to one granule of the level it lands in (one tick below 64 ticks, 8 ticks up to 512 ...);
 * the middle of that span, as the window's centre
 */
struct lab_window lab_timer_window(const struct lab_run *run, int64_t us);
/* lab_timer_slack_us() - the most a timer armed for @us fires late: its granule + one tick */
int64_t lab_timer_slack_us(const struct lab_run *run, int64_t us);
/* lab_window_us() - expected +- the tolerance (max(4 ms, 12.5 %) x TCPLAB_TOLERANCE_SCALE) */
struct lab_window lab_window_us(const struct lab_run *run, int64_t expected_us);
/*
 * lab_syn_give_up_us() - when a connect() whose SYNs go unanswered fails with ETIMEDOUT, from
 * its first SYN: tcp_syn_retries @retries, tcp_syn_linear_timeouts @linear (-1: a kernel
 * without it, before 6.5); *@syns gets how many SYNs it sends in all
 */
int64_t lab_syn_give_up_us(const struct lab_run *run, long retries, long linear, int64_t *syns);
/* lab_tick_us() - one jiffy (HZ from the kernel config, 1000 assumed and said if unknown) */
int64_t lab_tick_us(const struct lab_run *run);

/* ---- what the run saw (for judge) --------------------------------------------------------- */

/* the client-side or server-side capture */
const struct lab_trace *lab_capture(const struct lab_run *run, enum lab_host side);
/* packets in @side's capture sent by @from with all of @flags (before the story's end) */
int64_t lab_packets(const struct lab_run *run, enum lab_host side, enum lab_host from,
		    unsigned int flags);
/*
 * lab_packets_once() - the same, retransmissions not counted (a FIN re-sent because a loaded
 * peer was slow to ACK is still one FIN), and only those captured before @before_us
 * (CLOCK_REALTIME, like the packets; 0: the story's end)
 */
int64_t lab_packets_once(const struct lab_run *run, enum lab_host side, enum lab_host from,
			 unsigned int flags, int64_t before_us);
/*
 * lab_ack_of_fin() - in @side's capture, the first packet from the other host that
 * acknowledges @from's first FIN (the closer's FIN_WAIT1 ends there), NULL if none
 */
const struct lab_pkt *lab_ack_of_fin(const struct lab_run *run, enum lab_host side,
				     enum lab_host from);
/* lab_port_number() - the lab port's number (LAB_PORT stands for it in counts and waits) */
int lab_port_number(const struct lab_run *run);
/*
 * lab_icmp_count() - ICMP messages of @type (LAB_ICMP_*) and @code (-1: any) in @side's capture,
 * before the story's end (a router's "unreachable", an echo request or reply)
 */
int64_t lab_icmp_count(const struct lab_run *run, enum lab_host side, int type, int code);
/* the address of @host in the lab */
struct in_addr lab_host_addr(enum lab_host host);
/* lab_counter() - @host's counter delta over the story (nstat names: TcpExtTCPAbortOnClose) */
int64_t lab_counter(const struct lab_run *run, enum lab_host host, const char *name);
/* "send=200 recv=ECONNRESET recv=0": @who's calls named in @calls (NULL-terminated), in order */
void lab_calls(const struct lab_run *run, int who, const char *const *calls, char *buf, size_t len);
size_t lab_count_calls(const struct lab_run *run, int who, const char *call, const char *detail);
/* lab_bytes_read() - the bytes @who's recv() calls returned in all */
int64_t lab_bytes_read(const struct lab_run *run, int who);
/* calls named @call by any client (client, client2 ...) that returned @ret */
size_t lab_count_client_calls(const struct lab_run *run, const char *call, long ret);
/* lab_call() - @who's @nth call named @call, NULL if none */
const struct lab_event *lab_call(const struct lab_run *run, int who, const char *call, size_t nth);
/* lab_story_end_us() - when play() returned (CLOCK_REALTIME, like packets and events) */
int64_t lab_story_end_us(const struct lab_run *run);

/*
 * lab_series() - declare the values of @who's calls named @call, from the @skip-th on, as a
 * series (e.g. request latencies, unit "us"): the report, report.html and --repeat show it.
 * Returns its number of values; *@out (caller frees) gets them in order.
 */
size_t lab_series(struct lab_run *run, int who, const char *call, size_t skip, const char *name,
		  int64_t **out);

/* ---- expectations (typed: the report, report.html and --repeat key on the kind) ------------ */

/*
 * Each records its call site as its key: the same check across runs of one build, whatever its
 * label says. The label is for people.
 */
#define lab_expect_count(run, what, cmp, want, got) \
	lab_expect_count_at(run, __LINE__, what, cmp, want, got)
#define lab_expect_counter(run, host, name, cmp, want) \
	lab_expect_counter_at(run, __LINE__, host, name, cmp, want)
#define lab_expect_calls(run, who, calls, want) lab_expect_calls_at(run, __LINE__, who, calls, want)
#define lab_expect_state(run, what, want, got) lab_expect_state_at(run, __LINE__, what, want, got)
#define lab_expect_within(run, what, window, got_us) \
	lab_expect_within_at(run, __LINE__, what, window, got_us)
#define lab_expect_at_most(run, what, max_us, got_us) \
	lab_expect_at_most_at(run, __LINE__, what, max_us, got_us)
#define lab_expect_text(run, what, want, got) lab_expect_text_at(run, __LINE__, what, want, got)

/* a count (packets, calls, sockets): @got @cmp @want */
void lab_expect_count_at(struct lab_run *run, int key, const char *what, enum lab_cmp cmp,
			 int64_t want, int64_t got);
/* a kernel counter's delta over the story, read here: "server TcpExtX delta" */
void lab_expect_counter_at(struct lab_run *run, int key, enum lab_host host, const char *name,
			   enum lab_cmp cmp, int64_t want);
/* @who's call sequence (lab_calls) equals @want; n/a when @who is not our program */
void lab_expect_calls_at(struct lab_run *run, int key, int who, const char *const *calls,
			 const char *want);
/* sockets in a state (inet_diag): @got == @want */
void lab_expect_state_at(struct lab_run *run, int key, const char *what, int64_t want, int64_t got);
/* a time inside @window (timed: --outcomes-only shows it without deciding) */
void lab_expect_within_at(struct lab_run *run, int key, const char *what,
			  const struct lab_window *window, int64_t got_us);
/* a time no longer than @max_us (timed) */
void lab_expect_at_most_at(struct lab_run *run, int key, const char *what, int64_t max_us,
			   int64_t got_us);
/* exact text */
void lab_expect_text_at(struct lab_run *run, int key, const char *what, const char *want,
			const char *got);
/* lab_expect_timed() - mark the last expectation as timed (a count a slow machine can move) */
void lab_expect_timed(struct lab_run *run);
/* lab_expect_on_series() - the last expectation summarises the last series (report.html's band) */
void lab_expect_on_series(struct lab_run *run);

#endif
