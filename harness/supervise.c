// SPDX-License-Identifier: MIT
/*
 * `tcplab run` in a supervised child: Ctrl-C, kill, or the lab process killed under us leave
 * nothing behind but readable captures, and say so.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "netns.h"
#include "supervise.h"
#include "topo.h"
#include "trace.h"

/*
 * What the lab process announces on its pipe, one line each: "run DIR" once a run's folder is
 * made, "done EXIT DIR" once it is judged and its results written. The run going on is the
 * last one not done.
 */
struct announced {
	char line[PATH_MAX + 32]; /* a line not complete yet */
	size_t len;
	char dir[PATH_MAX]; /* the run going on, "" between runs */
	int done; /* runs judged */
	int exit; /* the last one's exit code */
};

static void announce(struct announced *a, const char *line)
{
	char *dir;

	if (!strncmp(line, "run ", 4)) {
		snprintf(a->dir, sizeof(a->dir), "%s", line + 4);
	} else if (!strncmp(line, "done ", 5)) {
		a->exit = (int)strtol(line + 5, &dir, 10);
		a->done++;
		if (*dir == ' ' && !strcmp(dir + 1, a->dir))
			a->dir[0] = '\0';
	}
}

/* read what is there (the pipe is non-blocking): 0 at EOF, else 1 */
static int read_announced(int fd, struct announced *a)
{
	ssize_t n;

	while ((n = read(fd, a->line + a->len, sizeof(a->line) - 1 - a->len)) > 0) {
		char *nl;

		a->len += (size_t)n;
		a->line[a->len] = '\0';
		while ((nl = strchr(a->line, '\n'))) {
			*nl = '\0';
			announce(a, a->line);
			a->len -= (size_t)(nl + 1 - a->line);
			memmove(a->line, nl + 1, a->len + 1);
		}
		if (a->len == sizeof(a->line) - 1) /* longer than any folder: not ours */
			a->len = 0;
	}
	return n == 0 ? 0 : 1;
}

/* a lab killed in the middle of --keep: no half-kept lab stays under /run/netns */
static void unpin_partial(const char *dir, pid_t child)
{
	const char *id = strrchr(dir, '-');
	char name[64], path[96];
	enum lab_host h;

	if (!id || atoi(id + 1) != (int)child)
		return;
	for (h = 0; h < LAB_NHOSTS; h++) {
		snprintf(name, sizeof(name), "tcplab-%s-%s", id + 1, lab_host_name(h));
		snprintf(path, sizeof(path), "/run/netns/%s", name);
		if (!access(path, F_OK) && !lab_netns_unpin(name))
			fprintf(stderr, "tcplab: removed the partly kept namespace %s\n", name);
	}
}

/* @what stopped the run: say what is left of it, and that the lab itself is gone */
static void report_stopped(const char *what, const char *dir)
{
	static const char *const files[] = { "client.pcap", "server.pcap" };
	char path[PATH_MAX + 16], why[256];
	size_t i;
	FILE *f;

	fprintf(stderr,
		"\ntcplab: %s: stopped; the lab's namespaces, programs and rules are gone with "
		"it\n",
		what);
	if (!dir[0])
		return;
	for (i = 0; i < 2; i++) {
		struct lab_trace t = LAB_TRACE_INIT;

		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		if (access(path, F_OK))
			continue;
		if (lab_trace_read(&t, path, why, sizeof(why)))
			fprintf(stderr, "tcplab: partial capture %s: %s\n", path, why);
		else
			fprintf(stderr,
				"tcplab: partial capture kept, readable: %s (%zu TCP packets)\n",
				path, t.n);
		lab_trace_free(&t);
	}
	snprintf(path, sizeof(path), "%s/INTERRUPTED", dir);
	f = fopen(path, "w");
	if (f) {
		fprintf(f, "%s before the run was judged; captures are partial\n", what);
		if (fclose(f))
			f = NULL;
	}
	if (!f)
		fprintf(stderr, "tcplab: cannot write %s: %s\n", path, strerror(errno));
	else
		fprintf(stderr, "tcplab: %s says so\n", path);
}

static void child_run(struct lab_run_opts *o, long reps, int fds[2], pid_t parent,
		      const sigset_t *old)
{
	int ret;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(LAB_EXIT_ERROR);
	if (o->step) /* it reads Enter from the terminal: stay in the foreground group */
		signal(SIGINT, SIG_IGN);
	else
		setpgid(0, 0); /* the terminal's Ctrl-C reaches us, not the lab */
	sigprocmask(SIG_SETMASK, old, NULL);
	close(fds[0]);
	o->dir_fd = fds[1];
	ret = reps > 1 ? lab_run_repeat(o, reps) : lab_run_main(o);
	fflush(NULL);
	_exit(ret);
}

/*
 * The lab runs in a child process in its own process group, dying with us (PDEATHSIG). On
 * Ctrl-C (or SIGTERM, SIGHUP) we kill it; if something else kills it, we say that. Either way
 * everything it built is anonymous and goes with it, the captures on disk stay readable
 * (flushed per packet), and the run's folder gets an INTERRUPTED file. Its announcements are
 * read as they come: a pipe nobody reads would stop the lab once full (--repeat).
 */
int lab_run_supervised(struct lab_run_opts *o, long reps)
{
	struct announced a = { .len = 0 };
	sigset_t sigs, old;
	int fds[2], sfd, status = 0, sig = 0;
	pid_t parent = getpid(), child;
	char what[96];

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGCHLD);
	if (pipe2(fds, O_CLOEXEC) < 0) {
		fprintf(stderr, "tcplab: pipe: %s\n", strerror(errno));
		return LAB_EXIT_ERROR;
	}
	sigprocmask(SIG_BLOCK, &sigs, &old);
	fflush(NULL);
	child = fork();
	if (child == 0)
		child_run(o, reps, fds, parent, &old);
	close(fds[1]);
	sfd = child < 0 ? -1 : signalfd(-1, &sigs, SFD_CLOEXEC);
	if (sfd < 0) {
		fprintf(stderr, "tcplab: %s: %s\n", child < 0 ? "fork" : "signalfd",
			strerror(errno));
		if (child > 0) {
			kill(child, SIGKILL);
			waitpid(child, NULL, 0);
		}
		close(fds[0]);
		sigprocmask(SIG_SETMASK, &old, NULL);
		return LAB_EXIT_ERROR;
	}
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	for (;;) {
		struct pollfd pfd[2] = { { .fd = sfd, .events = POLLIN },
					 { .fd = fds[0], .events = POLLIN } };
		struct signalfd_siginfo si;

		if (poll(pfd, 2, -1) < 0)
			continue;
		if (pfd[1].revents && !read_announced(fds[0], &a)) {
			close(fds[0]); /* the lab closed it: it is ending */
			fds[0] = -1;
		}
		if (pfd[0].revents && read(sfd, &si, sizeof(si)) == sizeof(si) &&
		    si.ssi_signo != SIGCHLD && !sig) {
			sig = (int)si.ssi_signo;
			kill(child, SIGKILL);
		}
		if (waitpid(child, &status, WNOHANG) == child)
			break;
	}
	if (fds[0] >= 0) { /* what it said last, before it ended */
		read_announced(fds[0], &a);
		close(fds[0]);
	}
	close(sfd);
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (!sig && !WIFSIGNALED(status))
		return WIFEXITED(status) ? WEXITSTATUS(status) : LAB_EXIT_ERROR;
	if (sig)
		snprintf(what, sizeof(what), "interrupted (SIG%s)", sigabbrev_np(sig));
	else
		snprintf(what, sizeof(what), "the lab process (pid %d) was killed by SIG%s",
			 (int)child, sigabbrev_np(WTERMSIG(status)) ?: "?");
	if (!sig && reps == 1 && a.done && !a.dir[0]) { /* after the verdict: it stands */
		fprintf(stderr, "tcplab: %s after its run was judged and written\n", what);
		return a.exit;
	}
	report_stopped(what, a.dir);
	if (o->keep_lab && a.dir[0])
		unpin_partial(a.dir, child);
	return sig ? 128 + sig : LAB_EXIT_ERROR;
}
