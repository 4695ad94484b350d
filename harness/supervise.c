// SPDX-License-Identifier: MIT
/* `tcplab run` in a supervised child: Ctrl-C and kill leave nothing behind but readable captures. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "supervise.h"
#include "trace.h"

/* after Ctrl-C: say what is left of the run, and that the lab itself is gone */
static void report_interrupted(int sig, const char *dir)
{
	static const char *const files[] = { "client.pcap", "server.pcap" };
	char path[PATH_MAX + 16], why[256];
	size_t i;

	fprintf(stderr,
		"\ntcplab: interrupted (SIG%s): stopped; the lab's namespaces, programs "
		"and rules are gone with it\n",
		sigabbrev_np(sig));
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
	FILE *f = fopen(path, "w");

	if (f) {
		fprintf(f, "interrupted by SIG%s before the run was judged; captures are partial\n",
			sigabbrev_np(sig));
		fclose(f);
	}
}

/*
 * The lab runs in a child process in its own process group, dying with us (PDEATHSIG). On
 * Ctrl-C (or SIGTERM, SIGHUP) we kill it: everything it built is anonymous and goes with it,
 * the captures on disk stay readable (flushed per packet), and we say what is left.
 */
int lab_run_supervised(struct lab_run_opts *o, long reps)
{
	sigset_t sigs, old;
	char dir[PATH_MAX] = "", buf[PATH_MAX];
	int fds[2], status = 0, ret = LAB_EXIT_ERROR, sig = 0;
	pid_t parent = getpid(), child;
	siginfo_t si;
	ssize_t n;

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGCHLD);
	if (pipe2(fds, O_CLOEXEC) < 0)
		return LAB_EXIT_ERROR;
	sigprocmask(SIG_BLOCK, &sigs, &old);
	fflush(NULL);
	child = fork();
	if (child == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(LAB_EXIT_ERROR);
		if (o->step) /* it reads Enter from the terminal: stay in the foreground group */
			signal(SIGINT, SIG_IGN);
		else
			setpgid(0, 0); /* the terminal's Ctrl-C reaches us, not the lab */
		sigprocmask(SIG_SETMASK, &old, NULL);
		close(fds[0]);
		o->dir_fd = fds[1];
		ret = reps > 1 ? lab_run_repeat(o, reps) : lab_run_main(o);
		fflush(NULL);
		_exit(ret);
	}
	close(fds[1]);
	if (child < 0) {
		close(fds[0]);
		return LAB_EXIT_ERROR;
	}
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	for (;;) {
		if (sigwaitinfo(&sigs, &si) < 0)
			continue;
		if (si.si_signo != SIGCHLD) {
			sig = si.si_signo;
			kill(child, SIGKILL);
		}
		if (waitpid(child, &status, sig ? 0 : WNOHANG) == child)
			break;
	}
	/* the last folder the child announced is the run that was going on */
	while ((n = read(fds[0], buf, sizeof(buf) - 1)) > 0) {
		char *line, *save = NULL;

		buf[n] = '\0';
		for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
			snprintf(dir, sizeof(dir), "%s", line);
	}
	close(fds[0]);
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (sig) {
		report_interrupted(sig, dir);
		return 128 + sig;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : LAB_EXIT_ERROR;
}
