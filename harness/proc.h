/* SPDX-License-Identifier: MIT */
#ifndef LAB_PROC_H
#define LAB_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "netns.h"

/*
 * A program started inside a namespace. It dies with the harness (PR_SET_PDEATHSIG), its
 * readiness arrives on a pipe (no sleeping), and it is bounded by a deadline.
 */
struct lab_proc {
	char name[16];
	pid_t pid;
	int pidfd;
	int out_fd; /* its stdout: event lines */
	int err_fd; /* its stderr */
	int ready_fd; /* read end of the readiness pipe, or -1 */
	int in_fd; /* write end of its stdin: lab_proc_go() */
	char *out, *err; /* what it printed so far, NUL-terminated */
	size_t out_len, err_len;
	bool exited;
	int status; /* wait status once exited */
	bool timed_out;
	bool stopped; /* the harness killed it (a deadline, the story's end): not a death to report */
	bool reported; /* its events are in the run */
	bool blamed; /* how it ended is already the run's ERROR */
	int story_sig; /* a death by this signal is the story (lab_signal, lab_may_die), not an ERROR */
};

#define LAB_PROC_INIT                                                                           \
	{                                                                                       \
		.pid = -1, .pidfd = -1, .out_fd = -1, .err_fd = -1, .ready_fd = -1, .in_fd = -1 \
	}

/*
 * Every program the harness starts carries TCPLAB_STARTED_BY=<pid of the harness process> in its
 * environment, next to the caller's TCPLAB_TAG (inherited): the safety tests tell a lab program
 * of their own suite from one of another suite, or of someone's run by hand, from it alone.
 */
#define LAB_PROC_STARTED_BY_ENV "TCPLAB_STARTED_BY"

/*
 * lab_proc_spawn() - run @argv inside @ns. With @ready, fd 3 of the child is a pipe and the
 * string "{ready_fd}" in any argument is replaced by "3".
 */
int lab_proc_spawn(struct lab_proc *p, const char *name, const struct lab_netns *ns,
		   char *const argv[], bool ready);

/* lab_proc_wait_ready() - 0 once the program wrote to its ready fd; -ETIMEDOUT; -ECHILD if it died */
int lab_proc_wait_ready(struct lab_proc *p, int64_t deadline_us);

/* lab_proc_wait() - wait for exit until the monotonic @deadline_us, then kill: -ETIMEDOUT */
int lab_proc_wait(struct lab_proc *p, int64_t deadline_us);

/* lab_proc_outcome() - "exit 0", "killed by SIGSEGV", "timed out" ... */
void lab_proc_outcome(const struct lab_proc *p, char *buf, size_t len);

/* lab_proc_pump() - collect its output (and notice its exit) until @deadline_us at most */
void lab_proc_pump(struct lab_proc *p, int64_t deadline_us);

/* lab_proc_running() - false once the program has exited (reaped without waiting) */
bool lab_proc_running(struct lab_proc *p);

/*
 * lab_proc_died_by() - the signal that ended the program if the harness did not send it (kill -9
 * from outside, the OOM killer, a crash); 0 while it runs, after an exit, after
 * lab_proc_kill(), or for a death by its @story_sig. Reaps it without waiting.
 */
int lab_proc_died_by(struct lab_proc *p);

/* lab_proc_story_death() - did it end by its @story_sig (not stopped by the harness at the end)? */
bool lab_proc_story_death(const struct lab_proc *p);

/* lab_proc_go() - one line on the program's stdin: what its "wait" step waits for */
int lab_proc_go(struct lab_proc *p);

/* lab_proc_kill() - SIGKILL unless it has ended already, and reap it: it is @stopped */
void lab_proc_kill(struct lab_proc *p);
void lab_proc_free(struct lab_proc *p);

#endif
