// SPDX-License-Identifier: MIT
/* Programs inside namespaces: fork, setns, exec; pidfd + poll for exit, output and deadlines. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"
#include "event.h"
#include "proc.h"

#define READY_FD 3

static void child(const struct lab_netns *ns, char *const argv[], char *const env[], int out[2],
		  int err[2], int ready[2], int in[2], pid_t parent)
{
	char *args[64];
	int i;

	/* die with the harness, even on kill -9: nothing may keep the namespace alive */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
	if (setns(ns->fd, CLONE_NEWNET) < 0)
		_exit(126);
	if (ns->cpu >= 0) {
		cpu_set_t one;

		CPU_ZERO(&one);
		CPU_SET(ns->cpu, &one);
		sched_setaffinity(0, sizeof(one), &one); /* best effort: order holds without it */
	}
	dup2(in[0], STDIN_FILENO);
	dup2(out[1], STDOUT_FILENO);
	dup2(err[1], STDERR_FILENO);
	if (ready[1] >= 0)
		dup2(ready[1], READY_FD);
	for (i = 0; argv[i] && i < 63; i++)
		args[i] = strcmp(argv[i], "{ready_fd}") ? argv[i] : "3";
	args[i] = NULL;
	signal(SIGPIPE, SIG_DFL);
	execvpe(args[0], args, env);
	fprintf(stderr, "cannot run %s: %s\n", args[0], strerror(errno));
	_exit(127);
}

/* our environment, with TCPLAB_STARTED_BY=<our pid> in place of any inherited one */
static char **child_env(pid_t parent, char *mark, size_t len)
{
	const size_t key = strlen(LAB_PROC_STARTED_BY_ENV "=");
	size_t n, i, o = 0;
	char **env;

	for (n = 0; environ[n]; n++)
		;
	env = calloc(n + 2, sizeof(*env));
	if (!env)
		return NULL;
	for (i = 0; i < n; i++)
		if (strncmp(environ[i], LAB_PROC_STARTED_BY_ENV "=", key))
			env[o++] = environ[i];
	snprintf(mark, len, "%s=%d", LAB_PROC_STARTED_BY_ENV, (int)parent);
	env[o++] = mark;
	return env;
}

int lab_proc_spawn(struct lab_proc *p, const char *name, const struct lab_netns *ns,
		   char *const argv[], bool ready)
{
	int out[2] = { -1, -1 }, err[2] = { -1, -1 }, rdy[2] = { -1, -1 }, in[2] = { -1, -1 };
	int ret = 0;
	pid_t parent = getpid();
	char mark[48], **env = child_env(parent, mark, sizeof(mark));

	snprintf(p->name, sizeof(p->name), "%s", name);
	if (!env) {
		ret = lab_fail(-ENOMEM, "environment for %s", name);
		goto out;
	}
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0 || pipe2(in, O_CLOEXEC) < 0 ||
	    (ready && pipe2(rdy, O_CLOEXEC) < 0)) {
		ret = lab_fail(-errno, "pipe for %s", name);
		goto out;
	}
	fcntl(out[0], F_SETPIPE_SZ, 1 << 20);
	p->pid = fork();
	if (p->pid < 0) {
		ret = lab_fail(-errno, "fork %s", name);
		goto out;
	}
	if (p->pid == 0)
		child(ns, argv, env, out, err, rdy, in, parent);
	p->pidfd = (int)syscall(SYS_pidfd_open, p->pid, 0);
	if (p->pidfd < 0) {
		ret = lab_fail(-errno, "pidfd_open(%s)", name);
		lab_proc_kill(p);
		goto out;
	}
	p->out_fd = out[0];
	p->err_fd = err[0];
	p->ready_fd = rdy[0];
	p->in_fd = in[1];
	out[0] = err[0] = rdy[0] = in[1] = -1;
out:
	free(env);
	for (int i = 0; i < 2; i++) {
		if (out[i] >= 0)
			close(out[i]);
		if (err[i] >= 0)
			close(err[i]);
		if (rdy[i] >= 0)
			close(rdy[i]);
		if (in[i] >= 0)
			close(in[i]);
	}
	return ret;
}

/* append what is readable on *fd to the buffer; close the fd at EOF */
static void slurp(int *fd, char **buf, size_t *len)
{
	char chunk[8192];
	ssize_t n = read(*fd, chunk, sizeof(chunk));
	char *grown;

	if (n <= 0) {
		close(*fd);
		*fd = -1;
		return;
	}
	grown = realloc(*buf, *len + (size_t)n + 1);
	if (!grown)
		return;
	*buf = grown;
	memcpy(*buf + *len, chunk, (size_t)n);
	*len += (size_t)n;
	(*buf)[*len] = '\0';
}

static void ended(struct lab_proc *p, const siginfo_t *si)
{
	p->exited = true;
	p->status = si->si_code == CLD_EXITED ? W_EXITCODE(si->si_status, 0) : si->si_status;
}

static void reap(struct lab_proc *p)
{
	siginfo_t si = { 0 };

	if (p->exited || waitid(P_PIDFD, (id_t)p->pidfd, &si, WEXITED | WNOHANG) < 0 || !si.si_pid)
		return;
	ended(p, &si);
}

/* one round of waiting: output, readiness, exit; returns poll()'s count */
static int pump(struct lab_proc *p, int64_t deadline_us, bool want_ready, bool *ready)
{
	struct pollfd fds[4];
	int64_t left = deadline_us - lab_mono_us();
	int n = 0, ret, i;

	if (left < 0)
		left = 0;
	fds[n++] = (struct pollfd){ .fd = p->out_fd, .events = POLLIN };
	fds[n++] = (struct pollfd){ .fd = p->err_fd, .events = POLLIN };
	fds[n++] = (struct pollfd){ .fd = p->exited ? -1 : p->pidfd, .events = POLLIN };
	fds[n++] = (struct pollfd){ .fd = want_ready ? p->ready_fd : -1, .events = POLLIN };
	ret = poll(fds, (nfds_t)n, (int)((left + 999) / 1000));
	if (ret <= 0)
		return ret;
	for (i = 0; i < n; i++) {
		if (!fds[i].revents)
			continue;
		if (i == 0)
			slurp(&p->out_fd, &p->out, &p->out_len);
		else if (i == 1)
			slurp(&p->err_fd, &p->err, &p->err_len);
		else if (i == 2)
			reap(p);
		else {
			char c[8];

			*ready = read(p->ready_fd, c, sizeof(c)) > 0;
			close(p->ready_fd);
			p->ready_fd = -1;
			if (!*ready)
				return -1; /* closed without a word: it died or exec failed */
		}
	}
	return ret;
}

int lab_proc_wait_ready(struct lab_proc *p, int64_t deadline_us)
{
	bool ready = false;

	while (!ready) {
		if (p->ready_fd < 0 || pump(p, deadline_us, true, &ready) < 0)
			return -ECHILD;
		if (!ready && lab_mono_us() >= deadline_us)
			return -ETIMEDOUT;
	}
	return 0;
}

int lab_proc_wait(struct lab_proc *p, int64_t deadline_us)
{
	bool ready;

	while (!p->exited || p->out_fd >= 0 || p->err_fd >= 0) {
		if (!p->exited && lab_mono_us() >= deadline_us) {
			lab_proc_kill(p); /* unless it has just ended by itself */
			p->timed_out = p->stopped;
			if (p->timed_out)
				return -ETIMEDOUT;
		}
		/* after exit, pipes close at once unless a grandchild holds them: bound that too */
		if (pump(p, p->exited ? lab_mono_us() + 100000 : deadline_us, false, &ready) == 0 &&
		    p->exited)
			break;
	}
	return 0;
}

void lab_proc_pump(struct lab_proc *p, int64_t deadline_us)
{
	bool ready;

	pump(p, deadline_us, false, &ready);
}

bool lab_proc_running(struct lab_proc *p)
{
	reap(p);
	return p->pid > 0 && !p->exited;
}

int lab_proc_go(struct lab_proc *p)
{
	if (p->in_fd < 0)
		return -EBADF;
	return write(p->in_fd, "\n", 1) == 1 ? 0 : -errno;
}

int lab_proc_died_by(struct lab_proc *p)
{
	if (p->pid <= 0 || lab_proc_running(p) || p->stopped || WIFEXITED(p->status))
		return 0;
	return WTERMSIG(p->status) == p->story_sig ? 0 : WTERMSIG(p->status);
}

bool lab_proc_story_death(const struct lab_proc *p)
{
	return p->exited && !p->stopped && !WIFEXITED(p->status) && p->story_sig &&
	       WTERMSIG(p->status) == p->story_sig;
}

void lab_proc_outcome(const struct lab_proc *p, char *buf, size_t len)
{
	if (p->timed_out)
		snprintf(buf, len, "timed out (killed)");
	else if (!p->exited)
		snprintf(buf, len, "still running");
	else if (WIFEXITED(p->status))
		snprintf(buf, len, "exit %d", WEXITSTATUS(p->status));
	else
		snprintf(buf, len, "killed by SIG%s", sigabbrev_np(p->status & 0x7f) ?: "?");
}

/*
 * Reap first: a program that already ended by itself (or was killed from outside) keeps its own
 * status and is not counted as stopped by us.
 */
void lab_proc_kill(struct lab_proc *p)
{
	siginfo_t si = { 0 };

	if (p->pid <= 0 || !lab_proc_running(p))
		return;
	p->stopped = true;
	kill(p->pid, SIGKILL);
	if (p->pidfd >= 0 && waitid(P_PIDFD, (id_t)p->pidfd, &si, WEXITED) == 0) {
		ended(p, &si);
	} else {
		waitpid(p->pid, NULL, 0);
		p->exited = true;
		p->status = SIGKILL;
	}
}

void lab_proc_free(struct lab_proc *p)
{
	int *fds[] = { &p->pidfd, &p->out_fd, &p->err_fd, &p->ready_fd, &p->in_fd };
	size_t i;

	lab_proc_kill(p);
	for (i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
	free(p->out);
	free(p->err);
	p->out = p->err = NULL;
	p->out_len = p->err_len = 0;
	p->pid = -1;
}
