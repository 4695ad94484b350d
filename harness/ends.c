// SPDX-License-Identifier: MIT
/*
 * How the story's programs ended. A program killed by a signal the harness did not send (kill -9
 * from outside, the OOM killer, a crash) decides the run: ERROR naming that program, ahead of
 * whatever followed from its death (the client that could not connect to a killed server is the
 * consequence, not the cause). So does one of ours that exited with an error before the story
 * waited for it. Programs still running when the story is over are stopped: that decides nothing.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "error.h"
#include "run.h"

#define LAST_WORDS_US 200000 /* what a dead program's pipes still hold */

static size_t programs(struct lab_run *run, struct lab_proc *all[LAB_MAX_CLIENTS + 1])
{
	size_t i, n = 0;

	if (run->server.pid != -1)
		all[n++] = &run->server;
	for (i = 0; i < run->n_clients; i++)
		all[n++] = &run->clients[i];
	return n;
}

/* "--client-cmd " for a user's program: the person reading knows which program is meant */
static const char *whose(const struct lab_run *run, const struct lab_proc *p)
{
	if (lab_run_ours(run, p->name))
		return "";
	return strncmp(p->name, "server", 6) ? "--client-cmd " : "--server-cmd ";
}

bool lab_run_died(struct lab_run *run)
{
	struct lab_proc *all[LAB_MAX_CLIENTS + 1];
	size_t i, n = run->dry ? 0 : programs(run, all);

	for (i = 0; i < n; i++)
		if (!all[i]->blamed && lab_proc_died_by(all[i]))
			return true;
	return false;
}

int lab_run_blame_deaths(struct lab_run *run)
{
	struct lab_proc *all[LAB_MAX_CLIENTS + 1];
	size_t i, n = run->dry ? 0 : programs(run, all);

	for (i = 0; i < n; i++) {
		struct lab_proc *p = all[i];
		int sig = p->blamed ? 0 : lab_proc_died_by(p);

		if (!sig)
			continue;
		p->blamed = true;
		lab_proc_wait(p, lab_mono_us() + LAST_WORDS_US);
		lab_error_clear();
		return lab_run_error_cause(run, -ECHILD, "%s%s killed by SIG%s during the story",
					   whose(run, p), p->name, sigabbrev_np(sig) ?: "?");
	}
	return 0;
}

int lab_run_check_ends(struct lab_run *run)
{
	struct lab_proc *all[LAB_MAX_CLIENTS + 1];
	size_t i, n = run->dry ? 0 : programs(run, all);
	int err = lab_run_blame_deaths(run);

	for (i = 0; !err && i < n; i++) {
		struct lab_proc *p = all[i];

		/* the story waited for it (lab_finish): its ending was judged there */
		if (p->reported || p->blamed || lab_proc_running(p) || !WIFEXITED(p->status) ||
		    !WEXITSTATUS(p->status) || !lab_run_ours(run, p->name))
			continue;
		p->blamed = true;
		lab_proc_wait(p, lab_mono_us() + LAST_WORDS_US);
		err = lab_run_error(run, -ECHILD,
				    "%s exited unexpectedly during the story (exit %d)%s%.200s",
				    p->name, WEXITSTATUS(p->status), p->err ? ": " : "",
				    p->err ? p->err : "");
	}
	return err;
}

/*
 * After the story (lab_run_check_ends() looked at every program then): what still runs is
 * stopped; what ended since says so. What they said still counts.
 */
void lab_run_stop_programs(struct lab_run *run)
{
	struct lab_proc *all[LAB_MAX_CLIENTS + 1];
	size_t i, n = programs(run, all);
	char outcome[64], note[96];
	int64_t t_us;

	for (i = 0; i < n; i++) {
		struct lab_proc *p = all[i];
		bool ended_in_story = p->exited, running;

		if (p->reported)
			continue;
		running = lab_proc_running(p);
		t_us = lab_now_us(); /* the note goes where the stop happened: before its effects */
		lab_proc_kill(p);
		lab_proc_wait(p, lab_mono_us() + 500000);
		lab_run_collect_events(run, p);
		lab_proc_outcome(p, outcome, sizeof(outcome));
		if (running)
			snprintf(note, sizeof(note),
				 "still running at the end of the story: stopped");
		else if (ended_in_story)
			snprintf(note, sizeof(note), "%s", outcome);
		else
			snprintf(note, sizeof(note), "%s after the story's end", outcome);
		lab_run_note_at(run, running ? t_us : lab_now_us(), p->name, "note", note);
	}
}
