// SPDX-License-Identifier: MIT
/*
 * Signals in the story: one the story sends (kill -9 of the server) and one the kernel sends a
 * program for what it did (SIGPIPE for a write on a reset connection). A death by either is an
 * observation the judge reads (lab_ending()), not an ERROR; a death by any other signal still is.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "run.h"

static const char *sig_name(int sig)
{
	return sigabbrev_np(sig) ?: "?";
}

void lab_may_die(struct lab_run *run, int who, int sig)
{
	struct lab_proc *p;
	char name[16];

	if (run->err)
		return;
	lab_run_record(run, "# the %s may be killed by SIG%s: that is the story, not an error",
		       lab_run_prog_name(who, name, sizeof(name)), sig_name(sig));
	if (run->dry)
		return;
	p = lab_run_prog(run, who);
	if (!p) {
		lab_run_error(run, -ESRCH, "no %s to expect SIG%s for", name, sig_name(sig));
		return;
	}
	p->story_sig = sig;
}

/*
 * A stop is not at once: kill() queues SIGSTOP, and the program stops only when it next runs.
 * Until then a program asleep in recv() can still be woken by data the story sends next and
 * read it (seen on a loaded machine: hung-app's request read, Recv-Q 0). Wait for the stop
 * (WNOWAIT: the exit is still reaped where it always was).
 */
static void wait_stopped(struct lab_run *run, struct lab_proc *p, const char *name)
{
	struct timespec tick = { .tv_nsec = 1000000 };
	siginfo_t si;

	for (;;) {
		memset(&si, 0, sizeof(si));
		if (waitid(P_PIDFD, (id_t)p->pidfd, &si, WSTOPPED | WNOHANG | WNOWAIT) < 0) {
			lab_run_error(run, -errno, "waitid(%s, WSTOPPED)", name);
			return;
		}
		if (si.si_pid && si.si_code == CLD_STOPPED)
			return;
		if (lab_mono_us() >= run->deadline_us) {
			lab_run_error(run, -ETIMEDOUT, "%s did not stop on SIGSTOP", name);
			return;
		}
		nanosleep(&tick, NULL); /* a polling interval, not a guess at when it is done */
	}
}

void lab_signal(struct lab_run *run, int who, int sig)
{
	char name[16], detail[48];
	struct lab_proc *p;

	if (run->err)
		return;
	lab_run_prog_name(who, name, sizeof(name));
	lab_run_record(run, "kill -%s <pid of the %s>", sig_name(sig), name);
	if (run->dry)
		return;
	p = lab_run_prog(run, who);
	if (!p || !lab_proc_running(p)) {
		if (!lab_run_blame_deaths(run))
			lab_run_error(run, -ESRCH, "%s is gone: it cannot be sent SIG%s", name,
				      sig_name(sig));
		return;
	}
	p->story_sig = sig;
	snprintf(detail, sizeof(detail), "SIG%s from the harness", sig_name(sig));
	lab_run_note(run, name, "note", detail);
	if (kill(p->pid, sig) < 0) {
		lab_run_error(run, -errno, "kill(%s, SIG%s)", name, sig_name(sig));
		return;
	}
	/* a crash: reaped before the story goes on, so its kernel has closed its sockets */
	if (sig == SIGKILL)
		lab_proc_wait(p, run->deadline_us);
	/* a hang: stopped before the story goes on */
	if (sig == SIGSTOP)
		wait_stopped(run, p, name);
}

const char *lab_ending(const struct lab_run *run, int who, char *buf, size_t len)
{
	const struct lab_proc *p = lab_run_prog((struct lab_run *)run, who);

	if (!p)
		snprintf(buf, len, "not started");
	else if (!p->exited)
		snprintf(buf, len, "still running");
	else if (p->stopped)
		snprintf(buf, len, "stopped by tcplab after the story");
	else if (WIFEXITED(p->status))
		snprintf(buf, len, "exit %d", WEXITSTATUS(p->status));
	else
		snprintf(buf, len, "killed by SIG%s", sig_name(WTERMSIG(p->status)));
	return buf;
}
