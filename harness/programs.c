// SPDX-License-Identifier: MIT
/* The story's programs: ours (tcplab-server, tcplab-client) or the user's, started, finished,
 * stopped; their event lines become the run's events. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "run.h"

#define USER_READY_S 10 /* a user's server must listen within this (or the budget) */
#define DEATH_CHECK_US 100000 /* how often a wait for one program looks at the others */

const char *lab_run_prog_name(int who, char *buf, size_t len)
{
	if (who == LAB_PROG_SERVER)
		snprintf(buf, len, "server");
	else if (who == LAB_PROG_CLIENT)
		snprintf(buf, len, "client");
	else
		snprintf(buf, len, "client%d", who + 1);
	return buf;
}

struct lab_proc *lab_run_prog(struct lab_run *run, int who)
{
	if (who == LAB_PROG_SERVER)
		return run->server.pid == -1 ? NULL : &run->server;
	if (who < 0 || (size_t)who >= run->n_clients)
		return NULL;
	return &run->clients[who];
}

void lab_run_record(struct lab_run *run, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	char *grown;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	n = n < (int)sizeof(line) ? n : (int)sizeof(line) - 1;
	grown = realloc(run->by_hand, run->by_hand_len + (size_t)n + 2);
	if (!grown)
		return;
	run->by_hand = grown;
	memcpy(run->by_hand + run->by_hand_len, line, (size_t)n);
	run->by_hand_len += (size_t)n;
	run->by_hand[run->by_hand_len++] = '\n';
	run->by_hand[run->by_hand_len] = '\0';
}

/* a dry run: the command a person types for @argv (the readiness pipe is ours, not theirs) */
static int record_argv(struct lab_run *run, enum lab_host host, char *const argv[])
{
	char line[1024], *slash = strrchr(argv[0], '/');
	size_t o, i;

	o = (size_t)snprintf(line, sizeof(line), "ip netns exec %s %s", lab_host_name(host),
			     slash ? slash + 1 : argv[0]);
	for (i = 1; argv[i] && o < sizeof(line); i++) {
		if (!strcmp(argv[i], "--ready-fd")) {
			i++;
			continue;
		}
		o += (size_t)snprintf(line + o, sizeof(line) - o, " %s", argv[i]);
	}
	lab_run_record(run, "%s &", line);
	return 0;
}

static int start(struct lab_run *run, struct lab_proc *p, const char *name, enum lab_host host,
		 char *const argv[], bool ready)
{
	int err = lab_proc_spawn(p, name, &run->topo.ns[host], argv, ready);

	if (err)
		return lab_run_error(run, err, "cannot start %s (%s)", name, argv[0]);
	if (!ready)
		return 0;
	err = lab_proc_wait_ready(p, run->deadline_us);
	if (err) {
		char outcome[64];

		lab_proc_wait(p, lab_mono_us() + 200000);
		lab_proc_outcome(p, outcome, sizeof(outcome));
		p->blamed = true;
		return lab_run_error(run, err, "%s never became ready (%s)%s%s", name,
				     err == -ETIMEDOUT ? "timed out" : outcome, p->err ? ": " : "",
				     p->err ? p->err : "");
	}
	return 0;
}

/* the user's command with the lab's placeholders filled in */
static void expand(const struct lab_run *run, const char *cmd, char *out, size_t len)
{
	char port[8], server[32];
	const char *keys[][2] = {
		{ "{server_addr}", LAB_SERVER_ADDR },
		{ "{client_addr}", LAB_CLIENT_ADDR },
		{ "{port}", port },
		{ "{server}", server },
	};
	size_t o = 0, i;

	snprintf(port, sizeof(port), "%d", run->port);
	snprintf(server, sizeof(server), "%s:%d", LAB_SERVER_ADDR, run->port);
	while (*cmd && o + 1 < len) {
		for (i = 0; i < LAB_ARRAY_SIZE(keys); i++)
			if (!strncmp(cmd, keys[i][0], strlen(keys[i][0])))
				break;
		if (i == LAB_ARRAY_SIZE(keys)) {
			out[o++] = *cmd++;
			continue;
		}
		o += (size_t)snprintf(out + o, len - o, "%s", keys[i][1]);
		o = o < len ? o : len - 1;
		cmd += strlen(keys[i][0]);
	}
	out[o] = '\0';
}

/* a user's server is ready when a socket listens on the lab port; it may die or hang first */
static int start_user_server(struct lab_run *run)
{
	char cmd[2048], outcome[64];
	char *argv[] = { "/bin/sh", "-c", cmd, NULL };
	int64_t deadline = lab_mono_us() + USER_READY_S * 1000000L;
	int err;

	expand(run, run->opts->server_cmd, cmd, sizeof(cmd));
	lab_run_note(run, "server", "note", cmd);
	deadline = deadline < run->deadline_us ? deadline : run->deadline_us;
	err = start(run, &run->server, "server", LAB_SERVER, argv, false);
	while (!err) {
		struct lab_socks s = LAB_SOCKS_INIT;
		bool listening;

		err = lab_tcpdiag_dump(&run->topo.ns[LAB_SERVER], 1 << TCP_LISTEN, &s);
		listening = lab_socks_count(&s, run->port, TCP_LISTEN) > 0;
		lab_socks_free(&s);
		if (err || listening)
			break;
		if (!lab_proc_running(&run->server)) {
			lab_proc_wait(&run->server, lab_mono_us() + 200000);
			lab_proc_outcome(&run->server, outcome, sizeof(outcome));
			run->server.blamed = true;
			return lab_run_error(
				run, -ECHILD,
				"--server-cmd ended (%s) before it listened on port %d%s%.200s",
				outcome, run->port, run->server.err ? ": " : "",
				run->server.err ? run->server.err : "");
		}
		if (lab_mono_us() >= deadline)
			return lab_run_error(run, -ETIMEDOUT,
					     "--server-cmd never listened on port %d within %.0f s "
					     "(still running: stopped)",
					     run->port, (double)(deadline - run->t_start_us) / 1e6);
		lab_proc_pump(&run->server, lab_mono_us() + 1000);
	}
	return err ? lab_run_error(run, err, "inet_diag in the server namespace") : 0;
}

int lab_run_start_server(struct lab_run *run, const struct lab_server_knobs *knobs, const char *ops)
{
	char path[PATH_MAX], listen[32], b[24], r[24];
	char *argv[16] = { (char *)lab_program("tcplab-server", path, sizeof(path)),
			   "--listen",
			   listen,
			   "--ready-fd",
			   "{ready_fd}",
			   "--ops",
			   (char *)ops };
	int n = 7, err;

	snprintf(listen, sizeof(listen), "0.0.0.0:%d", run->port);
	if (knobs && knobs->backlog > 0) {
		snprintf(b, sizeof(b), "%ld", knobs->backlog);
		argv[n++] = "--backlog";
		argv[n++] = b;
	}
	if (knobs && knobs->rcvbuf > 0) {
		snprintf(r, sizeof(r), "%ld", knobs->rcvbuf);
		argv[n++] = "--rcvbuf";
		argv[n++] = r;
	}
	if (knobs && knobs->no_reuseaddr)
		argv[n++] = "--no-reuseaddr";
	if (knobs && knobs->reuseport)
		argv[n++] = "--reuseport";
	if (knobs && knobs->bind_only)
		argv[n++] = "--bind-only";
	if (!run->opts->server_cmd)
		record_argv(run, LAB_SERVER, argv);
	if (run->dry)
		return 0;
	err = run->opts->server_cmd ? start_user_server(run) :
				      start(run, &run->server, "server", LAB_SERVER, argv, true);
	if (!err)
		lab_run_phase(run, knobs && knobs->bind_only ? "the server's socket is bound" :
							       "the server listens");
	return err;
}

int lab_run_start_client(struct lab_run *run, const char *ops)
{
	char path[PATH_MAX], connect[32], name[16], cmd[2048];
	char *ours[] = { (char *)lab_program("tcplab-client", path, sizeof(path)),
			 "--connect",
			 connect,
			 "--ops",
			 (char *)ops,
			 NULL };
	char *user[] = { "/bin/sh", "-c", cmd, NULL };
	int who = (int)run->n_clients, err;

	if (run->n_clients == LAB_MAX_CLIENTS)
		return lab_run_error(run, -E2BIG, "at most %d clients", LAB_MAX_CLIENTS);
	snprintf(connect, sizeof(connect), "%s:%d", LAB_SERVER_ADDR, run->port);
	lab_run_prog_name(who, name, sizeof(name));
	if (!run->opts->client_cmd)
		record_argv(run, LAB_CLIENT, ours);
	if (run->dry) {
		run->n_clients++;
		return who;
	}
	if (run->opts->client_cmd) {
		expand(run, run->opts->client_cmd, cmd, sizeof(cmd));
		lab_run_note(run, name, "note", cmd);
	}
	err = start(run, &run->clients[who], name, LAB_CLIENT, run->opts->client_cmd ? user : ours,
		    false);
	if (err)
		return err;
	run->n_clients++;
	if (who == LAB_PROG_CLIENT)
		lab_run_phase(run, "the client has started (it runs on while you look)");
	return who;
}

/* a user's server is not expected to end: it must only not have crashed */
static int check_user_server(struct lab_run *run)
{
	char outcome[64];

	if (lab_proc_running(&run->server))
		return 0;
	lab_proc_wait(&run->server, lab_mono_us() + 200000);
	lab_run_collect_events(run, &run->server);
	lab_proc_outcome(&run->server, outcome, sizeof(outcome));
	lab_run_note(run, "server", "note", outcome);
	if ((WIFEXITED(run->server.status) && !WEXITSTATUS(run->server.status)) ||
	    lab_proc_story_death(&run->server))
		return 0;
	run->server.blamed = true;
	return lab_run_error(run, -ECHILD, "--server-cmd %s during the run (%s)%s%.200s",
			     WIFEXITED(run->server.status) ? "failed" : "crashed", outcome,
			     run->server.err ? ": " : "", run->server.err ? run->server.err : "");
}

int lab_run_finish(struct lab_run *run, int who)
{
	return lab_run_finish_status(run, who, 0);
}

/*
 * Wait for @p within the budget. Another program killed meanwhile ends the wait: that death is
 * the story's ERROR, and waiting on for its consequences would only take the budget.
 */
static int wait_for(struct lab_run *run, struct lab_proc *p)
{
	while (lab_proc_running(p) && lab_mono_us() < run->deadline_us) {
		int64_t slice = lab_mono_us() + DEATH_CHECK_US;

		if (lab_run_died(run))
			return lab_run_blame_deaths(run);
		lab_proc_pump(p, slice < run->deadline_us ? slice : run->deadline_us);
	}
	return lab_proc_wait(p, run->deadline_us);
}

int lab_run_finish_status(struct lab_run *run, int who, int code)
{
	struct lab_proc *p = lab_run_prog(run, who);
	const char *user_cmd;
	char outcome[64];
	int err, sig;

	if (run->dry)
		return 0;
	if (!p)
		return lab_run_error(run, -ESRCH, "no program %d to wait for", who);
	user_cmd = lab_run_ours(run, p->name) ? "" : "--client-cmd ";
	if (user_cmd[0] && who == LAB_PROG_SERVER)
		return check_user_server(run);
	err = wait_for(run, p);
	if (err == -ECHILD)
		return err;
	lab_run_collect_events(run, p);
	lab_proc_outcome(p, outcome, sizeof(outcome));
	lab_run_note(run, p->name, "note", outcome);
	/* killed by the signal the story sends or expects: how it ended is an observation */
	if (!err && lab_proc_story_death(p))
		return 0;
	sig = lab_proc_died_by(p);
	if (sig || err || !WIFEXITED(p->status) ||
	    (!user_cmd[0] && WEXITSTATUS(p->status) != code)) {
		p->blamed = true; /* it may only be the consequence of another program's death */
		if (lab_run_blame_deaths(run))
			return run->err;
	}
	if (sig)
		return lab_run_error(run, -ECHILD, "%s%s killed by SIG%s during the story%s%.200s",
				     user_cmd, p->name, sigabbrev_np(sig) ?: "?",
				     p->err ? ": " : "", p->err ? p->err : "");
	if (err == -ETIMEDOUT)
		return lab_run_error(
			run, err, "%s%s did not finish within the scenario's %d s budget (killed)",
			user_cmd, p->name, run->sc->budget_s);
	/* a user's client may fail on purpose (a reset is the story); only a crash is an error */
	if (user_cmd[0] && WIFEXITED(p->status))
		return 0;
	if (!WIFEXITED(p->status) || WEXITSTATUS(p->status) != code)
		return lab_run_error(run, -ECHILD,
				     "%s%s ended badly (%s; the story expects exit %d)%s%.200s",
				     user_cmd, p->name, outcome, code, p->err ? ": " : "",
				     p->err ? p->err : "");
	return 0;
}
