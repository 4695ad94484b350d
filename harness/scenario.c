// SPDX-License-Identifier: MIT
/* The runner: names and parameters, the lab's lifetime, programs, observations, verdict. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "report.h"
#include "scenario.h"
#include "tcpdiag.h"

#ifndef LAB_BUILD_ROOT
#define LAB_BUILD_ROOT "."
#endif

const struct lab_scenario *lab_scenario_find(const char *name)
{
	size_t i;

	for (i = 0; i < lab_n_scenarios; i++)
		if (!strcmp(lab_scenarios[i]->name, name))
			return lab_scenarios[i];
	return NULL;
}

const struct lab_variant *lab_variant_find(const struct lab_scenario *sc, const char *name)
{
	size_t i;

	for (i = 0; i < sc->n_variants; i++)
		if (!strcmp(sc->variants[i].name, name))
			return &sc->variants[i];
	return NULL;
}

struct in_addr lab_addr(const char *text)
{
	struct in_addr a = { 0 };

	inet_pton(AF_INET, text, &a);
	return a;
}

static int find_param(const struct lab_scenario *sc, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < sc->n_params; i++)
		if (strlen(sc->params[i].name) == len && !strncmp(sc->params[i].name, name, len))
			return (int)i;
	return -1;
}

static void known_list(const struct lab_scenario *sc, char *buf, size_t len, bool variants)
{
	size_t i, n = variants ? sc->n_variants : sc->n_params, o = 0;

	buf[0] = '\0';
	for (i = 0; i < n && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? ", " : "",
				      variants ? sc->variants[i].name : sc->params[i].name);
}

static int set_param(struct lab_run *run, const char *set, char *why, size_t len)
{
	const char *eq = strchr(set, '=');
	char known[256], *end;
	const struct lab_param *p;
	long v;
	int i;

	if (!eq || eq == set) {
		snprintf(why, len, "--set wants KEY=VALUE, not '%s'", set);
		return LAB_EXIT_USAGE;
	}
	i = find_param(run->sc, set, (size_t)(eq - set));
	if (i < 0) {
		known_list(run->sc, known, sizeof(known), false);
		snprintf(why, len, "unknown parameter '%.*s' for %s (known: %s)", (int)(eq - set),
			 set, run->sc->name, known[0] ? known : "none");
		return LAB_EXIT_USAGE;
	}
	p = &run->sc->params[i];
	errno = 0;
	v = strtol(eq + 1, &end, 10);
	if (errno || end == eq + 1 || *end) {
		snprintf(why, len, "%s: '%s' is not a whole number", p->name, eq + 1);
		return LAB_EXIT_USAGE;
	}
	if (v < p->min || v > p->max) {
		snprintf(why, len, "%s=%ld is out of range (%ld..%ld %s)", p->name, v, p->min,
			 p->max, p->unit);
		return LAB_EXIT_USAGE;
	}
	run->param[i] = v;
	return 0;
}

int lab_run_setup(struct lab_run *run, const struct lab_run_opts *opts, char *why, size_t len)
{
	char known[256];
	size_t i;
	int ret;

	run->opts = opts;
	run->sc = lab_scenario_find(opts->scenario);
	if (!run->sc) {
		snprintf(why, len, "unknown scenario '%s' (see: tcplab list)", opts->scenario);
		return LAB_EXIT_USAGE;
	}
	run->variant = lab_variant_find(run->sc, opts->variant ? opts->variant : "default");
	run->expect_as = opts->expect_as ? lab_variant_find(run->sc, opts->expect_as) :
					   run->variant;
	if (!run->variant || !run->expect_as) {
		known_list(run->sc, known, sizeof(known), true);
		snprintf(why, len, "unknown variant '%s' for %s (known: %s)",
			 !run->variant ? opts->variant : opts->expect_as, run->sc->name, known);
		return LAB_EXIT_USAGE;
	}
	for (i = 0; i < run->sc->n_params; i++)
		run->param[i] = run->sc->params[i].def;
	for (i = 0; i < opts->n_sets; i++) {
		ret = set_param(run, opts->sets[i], why, len);
		if (ret)
			return ret;
	}
	for (i = 0; i < opts->n_impairs; i++) {
		char reason[200];

		if (run->n_extra == LAB_WIRE_MAX / 2) {
			snprintf(why, len, "at most %d --impair", LAB_WIRE_MAX / 2);
			return LAB_EXIT_USAGE;
		}
		if (lab_impair_parse(opts->impairs[i], &run->extra[run->n_extra++], reason,
				     sizeof(reason))) {
			snprintf(why, len, "--impair %s: %s", opts->impairs[i], reason);
			return LAB_EXIT_USAGE;
		}
	}
	run->scale = lab_tolerance_scale(getenv(LAB_TOLERANCE_ENV));
	if (run->scale < 0) {
		snprintf(why, len, "%s must be a number from 1 to 100", LAB_TOLERANCE_ENV);
		return LAB_EXIT_USAGE;
	}
	return 0;
}

long lab_param(const struct lab_run *run, const char *name)
{
	int i = find_param(run->sc, name, strlen(name));

	if (i < 0)
		abort(); /* a scenario asking for a parameter it did not declare is a bug */
	return run->param[i];
}

int lab_run_error(struct lab_run *run, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(run->error, sizeof(run->error), fmt, ap);
	va_end(ap);
	return err < 0 ? err : -EIO;
}

const char *lab_program(const char *name, char *buf, size_t len)
{
	const char *dir = getenv("TCPLAB_PROGRAMS");
	const char *kind = strstr(name, "server") ? "servers" : "clients";

	if (dir)
		snprintf(buf, len, "%s/%s", dir, name);
	else
		snprintf(buf, len, "%s/%s/%s", LAB_BUILD_ROOT, kind, name);
	return buf;
}

static void add_event(struct lab_run *run, const struct lab_event *ev)
{
	struct lab_event *grown = realloc(run->events, (run->n_events + 1) * sizeof(*grown));

	if (!grown)
		return;
	run->events = grown;
	run->events[run->n_events++] = *ev;
}

void lab_run_note(struct lab_run *run, const char *who, const char *call, const char *detail)
{
	struct lab_event ev = { .t_us = lab_now_us() };

	snprintf(ev.who, sizeof(ev.who), "%s", who);
	snprintf(ev.call, sizeof(ev.call), "%s", call);
	snprintf(ev.detail, sizeof(ev.detail), "%s", detail);
	add_event(run, &ev);
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
		return lab_run_error(run, err, "%s never became ready (%s)%s%s", name,
				     err == -ETIMEDOUT ? "timed out" : outcome, p->err ? ": " : "",
				     p->err ? p->err : "");
	}
	return 0;
}

int lab_run_start_more(struct lab_run *run, char *const argv[])
{
	char name[16];
	int err;

	if (run->n_more == LAB_MORE_CLIENTS)
		return lab_run_error(run, -E2BIG, "at most %d more clients", LAB_MORE_CLIENTS);
	snprintf(name, sizeof(name), "client%zu", run->n_more + 2);
	err = start(run, &run->more[run->n_more], name, LAB_CLIENT, argv, false);
	return err ? err : (int)run->n_more++;
}

int lab_run_impair(struct lab_run *run, const char *fmt, ...)
{
	struct lab_impair imp;
	char spec[256], why[256];
	va_list ap;
	int idx;

	va_start(ap, fmt);
	vsnprintf(spec, sizeof(spec), fmt, ap);
	va_end(ap);
	if (lab_impair_parse(spec, &imp, why, sizeof(why)))
		return lab_run_error(run, -EINVAL, "impairment '%s': %s", spec, why);
	idx = lab_wire_add(run->wire, &imp, why, sizeof(why));
	if (idx < 0)
		return lab_run_error(run, idx, "cannot install impairment %s", why);
	snprintf(why, sizeof(why), "the wire now does: %.200s", spec);
	lab_run_phase(run, why);
	return idx;
}

int lab_run_arm(struct lab_run *run, int idx, bool on)
{
	int err = lab_wire_arm(run->wire, idx, on);

	if (err)
		return lab_run_error(run, err, "cannot %s impairment %d: %s",
				     on ? "arm" : "release", idx, lab_wire_error(run->wire));
	lab_run_note(run, "wire", "note", on ? "blackhole armed" : "blackhole released");
	lab_run_phase(run,
		      on ? "the wire is black: a blackhole is armed" : "the blackhole is released");
	return 0;
}

const struct lab_wire_stat *lab_run_wire(const struct lab_run *run, int idx)
{
	static const struct lab_wire_stat none = { .matched = -1, .dropped = -1, .held = -1 };
	const struct lab_wire_stat *st = idx >= 0 ? lab_wire_stat(run->wire, (size_t)idx) : NULL;

	return st ? st : &none;
}

int lab_run_start_server(struct lab_run *run, char *const argv[])
{
	int err = start(run, &run->server, "server", LAB_SERVER, argv, true);

	if (!err)
		lab_run_phase(run, "the server listens");
	return err;
}

int lab_run_start_client(struct lab_run *run, char *const argv[])
{
	int err = start(run, &run->client, "client", LAB_CLIENT, argv, false);

	if (!err)
		lab_run_phase(run, "the client has started (it runs on while you look)");
	return err;
}

/* the program's event lines become the run's events, tagged with who said them */
static void collect_events(struct lab_run *run, struct lab_proc *p)
{
	char *copy = p->out ? strdup(p->out) : NULL, *save = NULL, *line;
	struct lab_event ev;

	for (line = copy ? strtok_r(copy, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (lab_event_parse(line, &ev))
			continue;
		snprintf(ev.who, sizeof(ev.who), "%s", p->name);
		add_event(run, &ev);
	}
	free(copy);
	p->reported = true;
}

/* a user's server is not expected to end: it must only not have crashed */
static int check_user_server(struct lab_run *run)
{
	char outcome[64];

	if (lab_proc_running(&run->server))
		return 0;
	lab_proc_wait(&run->server, lab_mono_us() + 200000);
	collect_events(run, &run->server);
	lab_proc_outcome(&run->server, outcome, sizeof(outcome));
	lab_run_note(run, "server", "note", outcome);
	if (WIFEXITED(run->server.status) && !WEXITSTATUS(run->server.status))
		return 0;
	return lab_run_error(run, -ECHILD, "--server-cmd %s during the run (%s)%s%.200s",
			     WIFEXITED(run->server.status) ? "failed" : "crashed", outcome,
			     run->server.err ? ": " : "", run->server.err ? run->server.err : "");
}

int lab_run_finish(struct lab_run *run, struct lab_proc *p)
{
	bool user = !lab_run_ours(run, p->name);
	char outcome[64];
	int err;

	if (user && p == &run->server)
		return check_user_server(run);
	err = lab_proc_wait(p, run->deadline_us);
	collect_events(run, p);
	lab_proc_outcome(p, outcome, sizeof(outcome));
	lab_run_note(run, p->name, "note", outcome);
	if (err == -ETIMEDOUT)
		return lab_run_error(
			run, err, "%s%s did not finish within the scenario's %d s budget (killed)",
			user ? "--client-cmd " : "", p->name, run->sc->budget_s);
	/* a user's client may fail on purpose (a reset is the story); only a crash is an error */
	if (user && WIFEXITED(p->status))
		return 0;
	if (!WIFEXITED(p->status) || WEXITSTATUS(p->status) != 0)
		return lab_run_error(run, -ECHILD, "%s%s ended badly (%s)%s%.200s",
				     user ? "--client-cmd " : "", p->name, outcome,
				     p->err ? ": " : "", p->err ? p->err : "");
	return 0;
}

/* in a user namespace of our own (not root): nsenter must join it too */
static bool own_userns(void)
{
	struct stat self, init;

	return !stat("/proc/self/ns/user", &self) && !stat("/proc/1/ns/user", &init) &&
	       self.st_ino != init.st_ino;
}

void lab_run_phase(struct lab_run *run, const char *what)
{
	static const char *const look[] = { "ss -tanoi", "nft list ruleset",
					    "ss -tanoi; nstat -az" };
	FILE *out = run->opts->out ? run->opts->out : stdout, *tty;
	char line[16], user[64] = "";
	enum lab_host h;

	if (!run->opts->step)
		return;
	lab_run_note(run, "harness", "note", what);
	if (own_userns())
		snprintf(user, sizeof(user), "--user=/proc/%d/ns/user ", (int)getpid());
	fprintf(out, "\n== step: %s\n   look inside (another terminal):\n", what);
	for (h = 0; h < LAB_NHOSTS; h++)
		fprintf(out, "     nsenter %s--net=/proc/%d/fd/%d sh -c '%s'   # %s\n", user,
			(int)getpid(), run->topo.ns[h].fd, look[h], lab_host_name(h));
	fprintf(out, "     tcplab show %s/client.pcap   # the capture so far\n", run->dir);
	fprintf(out, "   Enter goes on > ");
	fflush(out);
	tty = fopen("/dev/tty", "r");
	if (!fgets(line, sizeof(line), tty ? tty : stdin))
		fprintf(out, "\n");
	if (tty)
		fclose(tty);
}

bool lab_run_ours(const struct lab_run *run, const char *who)
{
	return strncmp(who, "server", 6) ? !run->opts->client_cmd : !run->opts->server_cmd;
}

void lab_run_na(struct lab_run *run, const char *who, const char *what)
{
	char why[64];

	snprintf(why, sizeof(why), "--%s-cmd runs instead of tcplab-%s", who, who);
	lab_expect_na(&run->ex, what, why);
}

/* the user's command with the lab's placeholders filled in */
static void expand(const char *cmd, char *out, size_t len)
{
	static const char *const keys[][2] = {
		{ "{server_addr}", LAB_SERVER_ADDR },
		{ "{client_addr}", LAB_CLIENT_ADDR },
		{ "{port}", "5000" },
		{ "{server}", LAB_SERVER_ADDR ":5000" },
	};
	size_t o = 0, i;

	while (*cmd && o + 1 < len) {
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (!strncmp(cmd, keys[i][0], strlen(keys[i][0])))
				break;
		if (i == sizeof(keys) / sizeof(keys[0])) {
			out[o++] = *cmd++;
			continue;
		}
		o += (size_t)snprintf(out + o, len - o, "%s", keys[i][1]);
		o = o < len ? o : len - 1;
		cmd += strlen(keys[i][0]);
	}
	out[o] = '\0';
}

#define USER_READY_S 10 /* a user's server must listen within this (or the budget) */

/* a user's server is ready when a socket listens on the lab port; it may die or hang first */
static int start_user_server(struct lab_run *run)
{
	char cmd[2048], outcome[64];
	char *argv[] = { "/bin/sh", "-c", cmd, NULL };
	int64_t deadline = lab_mono_us() + USER_READY_S * 1000000L;
	int err;

	expand(run->opts->server_cmd, cmd, sizeof(cmd));
	lab_run_note(run, "server", "note", cmd);
	deadline = deadline < run->deadline_us ? deadline : run->deadline_us;
	err = start(run, &run->server, "server", LAB_SERVER, argv, false);
	while (!err) {
		struct lab_socks s = LAB_SOCKS_INIT;
		bool listening;

		err = lab_tcpdiag_dump(&run->topo.ns[LAB_SERVER], 1 << TCP_LISTEN, &s);
		listening = lab_socks_count(&s, LAB_PORT, TCP_LISTEN) > 0;
		lab_socks_free(&s);
		if (err || listening)
			break;
		if (!lab_proc_running(&run->server)) {
			lab_proc_wait(&run->server, lab_mono_us() + 200000);
			lab_proc_outcome(&run->server, outcome, sizeof(outcome));
			return lab_run_error(
				run, -ECHILD,
				"--server-cmd ended (%s) before it listened on port %d%s%.200s",
				outcome, LAB_PORT, run->server.err ? ": " : "",
				run->server.err ? run->server.err : "");
		}
		if (lab_mono_us() >= deadline)
			return lab_run_error(run, -ETIMEDOUT,
					     "--server-cmd never listened on port %d within %.0f s "
					     "(still running: stopped)",
					     LAB_PORT, (double)(deadline - run->t_start_us) / 1e6);
		lab_proc_pump(&run->server, lab_mono_us() + 1000);
	}
	return err ? lab_run_error(run, err, "inet_diag in the server namespace") : 0;
}

static int start_user_client(struct lab_run *run, struct lab_proc *p, const char *name)
{
	char cmd[2048];
	char *argv[] = { "/bin/sh", "-c", cmd, NULL };

	expand(run->opts->client_cmd, cmd, sizeof(cmd));
	lab_run_note(run, name, "note", cmd);
	return start(run, p, name, LAB_CLIENT, argv, false);
}

int lab_run_server(struct lab_run *run, const char *ops, long backlog, long rcvbuf)
{
	char path[PATH_MAX], b[24], r[24];
	if (run->opts->server_cmd)
		return start_user_server(run);
	char *argv[12] = { (char *)lab_program("tcplab-server", path, sizeof(path)),
			   "--listen",
			   "0.0.0.0:5000",
			   "--ready-fd",
			   "{ready_fd}",
			   "--ops",
			   (char *)ops };
	int n = 7;

	if (backlog > 0) {
		snprintf(b, sizeof(b), "%ld", backlog);
		argv[n++] = "--backlog";
		argv[n++] = b;
	}
	if (rcvbuf > 0) {
		snprintf(r, sizeof(r), "%ld", rcvbuf);
		argv[n++] = "--rcvbuf";
		argv[n++] = r;
	}
	return lab_run_start_server(run, argv);
}

static void client_argv(char *argv[6], char *path, size_t len, const char *ops)
{
	argv[0] = (char *)lab_program("tcplab-client", path, len);
	argv[1] = "--connect";
	argv[2] = LAB_SERVER_ADDR ":5000";
	argv[3] = "--ops";
	argv[4] = (char *)ops;
	argv[5] = NULL;
}

int lab_run_client(struct lab_run *run, const char *ops)
{
	char path[PATH_MAX], *argv[6];

	if (run->opts->client_cmd)
		return start_user_client(run, &run->client, "client");
	client_argv(argv, path, sizeof(path), ops);
	return lab_run_start_client(run, argv);
}

int lab_run_more(struct lab_run *run, const char *ops)
{
	char path[PATH_MAX], *argv[6], name[16];
	int err;

	if (run->opts->client_cmd) {
		if (run->n_more == LAB_MORE_CLIENTS)
			return lab_run_error(run, -E2BIG, "at most %d more clients",
					     LAB_MORE_CLIENTS);
		snprintf(name, sizeof(name), "client%zu", run->n_more + 2);
		err = start_user_client(run, &run->more[run->n_more], name);
		return err ? err : (int)run->n_more++;
	}
	client_argv(argv, path, sizeof(path), ops);
	return lab_run_start_more(run, argv);
}

int lab_run_pair(struct lab_run *run, const char *server_ops, const char *client_ops,
		 long server_rcvbuf)
{
	int err = lab_run_server(run, server_ops, 0, server_rcvbuf);

	if (!err)
		err = lab_run_client(run, client_ops);
	if (!err)
		err = lab_run_finish(run, &run->client);
	if (!err)
		err = lab_run_finish(run, &run->server);
	return err;
}

int lab_run_states(struct lab_run *run, enum lab_host host, struct lab_socks *out)
{
	char detail[96], a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];
	size_t i, n = 0;
	int err = lab_tcpdiag_dump(&run->topo.ns[host], LAB_TCPF_ALL, out);

	if (err)
		return lab_run_error(run, err, "inet_diag in %s", lab_host_name(host));
	for (i = 0; i < out->n; i++) {
		const struct lab_sock *sk = &out->v[i];

		if (sk->lport != LAB_PORT && sk->rport != LAB_PORT)
			continue;
		inet_ntop(AF_INET, &sk->local, a, sizeof(a));
		inet_ntop(AF_INET, &sk->remote, b, sizeof(b));
		snprintf(detail, sizeof(detail), "%s %s:%u-%s:%u", lab_tcp_state_name(sk->state), a,
			 sk->lport, b, sk->rport);
		lab_run_note(run, lab_host_name(host), "state", detail);
		n++;
	}
	if (!n)
		lab_run_note(run, lab_host_name(host), "state", "no socket on the lab port");
	return 0;
}

int64_t lab_run_counter(const struct lab_run *run, enum lab_host host, const char *name)
{
	return lab_nstat_delta(&run->before[host], &run->after[host], name);
}

int64_t lab_run_protocol_us(const struct lab_run *run)
{
	int64_t first = 0, last = 0;
	size_t i, h;

	for (i = 0; i < run->n_events; i++) {
		int64_t t = run->events[i].t_us;

		first = !first || t < first ? t : first;
		last = t > last ? t : last;
	}
	for (h = 0; h < LAB_NHOSTS; h++)
		for (i = 0; i < run->trace[h].n; i++) {
			int64_t t = run->trace[h].v[i].t_us;

			first = !first || t < first ? t : first;
			last = t > last ? t : last;
		}
	return last - first;
}

static bool named(const char *call, const char *const *calls)
{
	for (; *calls; calls++)
		if (!strcmp(call, *calls))
			return true;
	return false;
}

void lab_run_calls(const struct lab_run *run, const char *who, const char *const *calls, char *buf,
		   size_t len)
{
	size_t i, o = 0;

	buf[0] = '\0';
	for (i = 0; i < run->n_events && o < len; i++) {
		const struct lab_event *ev = &run->events[i];

		if (strcmp(ev->who, who) || !named(ev->call, calls))
			continue;
		if (ev->ret < 0)
			o += (size_t)snprintf(buf + o, len - o, "%s%s=%s", o ? " " : "", ev->call,
					      ev->err);
		else
			o += (size_t)snprintf(buf + o, len - o, "%s%s=%ld", o ? " " : "", ev->call,
					      ev->ret);
	}
}

size_t lab_run_count_calls(const struct lab_run *run, const char *who, const char *call,
			   const char *detail)
{
	size_t i, n = 0;

	for (i = 0; i < run->n_events; i++)
		n += !strcmp(run->events[i].who, who) && !strcmp(run->events[i].call, call) &&
		     (!detail || !strcmp(run->events[i].detail, detail));
	return n;
}

const struct lab_event *lab_run_event(const struct lab_run *run, const char *who, const char *call,
				      size_t nth)
{
	size_t i;

	for (i = 0; i < run->n_events; i++)
		if (!strcmp(run->events[i].who, who) && !strcmp(run->events[i].call, call) &&
		    nth-- == 0)
			return &run->events[i];
	return NULL;
}

static int mkdirs(char *path)
{
	char *p;

	for (p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST) {
			*p = '/';
			return -errno;
		}
		*p = '/';
	}
	return mkdir(path, 0755) < 0 && errno != EEXIST ? -errno : 0;
}

static int make_dir(struct lab_run *run)
{
	const char *base = run->opts->results ? run->opts->results : "results";
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	int err;

	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	snprintf(run->dir, sizeof(run->dir), "%s/%s/%s-%s-%d", base, run->sc->name, stamp,
		 run->variant->name, (int)getpid());
	err = mkdirs(run->dir);
	if (err)
		return lab_run_error(run, err, "cannot create %s: %s", run->dir, strerror(-err));
	if (run->opts->dir_fd > 0)
		dprintf(run->opts->dir_fd, "%s\n", run->dir);
	return 0;
}

/* the endpoints' counters, before or after the play */
static int read_counters(struct lab_run *run, struct lab_nstat snap[LAB_NHOSTS])
{
	int err = lab_nstat_read(&snap[LAB_CLIENT], &run->topo.ns[LAB_CLIENT]);

	if (!err)
		err = lab_nstat_read(&snap[LAB_SERVER], &run->topo.ns[LAB_SERVER]);
	return err ? lab_run_error(run, err, "cannot read kernel counters") : 0;
}

static int start_lab(struct lab_run *run)
{
	char cpath[PATH_MAX + 16], spath[PATH_MAX + 16], why[256];
	size_t i;
	struct lab_capture_point pts[2] = {
		{ &run->topo.ns[LAB_CLIENT], LAB_CLIENT_IF, cpath },
		{ &run->topo.ns[LAB_SERVER], LAB_SERVER_IF, spath },
	};
	int err;

	err = lab_topo_new(&run->topo, 0);
	if (err)
		return lab_run_error(run, err, "cannot build the lab topology: %s", strerror(-err));
	snprintf(cpath, sizeof(cpath), "%s/client.pcap", run->dir);
	snprintf(spath, sizeof(spath), "%s/server.pcap", run->dir);
	err = lab_capture_start(&run->cap, pts, 2);
	if (err)
		return lab_run_error(run, err, "cannot start the captures: %s", strerror(-err));
	err = lab_wire_new(&run->wire, &run->topo.ns[LAB_WIRE], run->kernel.netem == 1);
	if (err)
		return lab_run_error(run, err, "cannot start the wire's impairment engine");
	for (i = 0; i < run->n_extra; i++) {
		err = lab_wire_add(run->wire, &run->extra[i], why, sizeof(why));
		if (err < 0)
			return lab_run_error(run, err, "cannot install impairment %s", why);
	}
	return read_counters(run, run->before);
}

static void read_traces(struct lab_run *run)
{
	static const char *const files[] = { "client.pcap", "server.pcap" };
	enum lab_host hosts[] = { LAB_CLIENT, LAB_SERVER };
	char path[PATH_MAX + 16], why[256];
	size_t i;

	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", run->dir, files[i]);
		if (lab_trace_read(&run->trace[hosts[i]], path, why, sizeof(why)))
			lab_run_error(run, -EIO, "cannot read back %s", why);
	}
	lab_trace_mark_lost(&run->trace[LAB_CLIENT], &run->trace[LAB_SERVER],
			    lab_addr(LAB_CLIENT_ADDR));
	lab_trace_mark_lost(&run->trace[LAB_SERVER], &run->trace[LAB_CLIENT],
			    lab_addr(LAB_SERVER_ADDR));
}

/* programs still running when the story is over are stopped; what they said still counts */
static void stop_programs(struct lab_run *run)
{
	struct lab_proc *all[LAB_MORE_CLIENTS + 2] = { &run->client, &run->server };
	char outcome[64];
	size_t i, n = 2;

	for (i = 0; i < run->n_more; i++)
		all[n++] = &run->more[i];
	for (i = 0; i < n; i++) {
		bool running;

		if (all[i]->pid == -1 || all[i]->reported)
			continue;
		lab_proc_wait(all[i], lab_mono_us()); /* reap it if it is gone */
		running = !all[i]->exited || all[i]->timed_out;
		lab_proc_kill(all[i]);
		lab_proc_wait(all[i], lab_mono_us() + 500000);
		collect_events(run, all[i]);
		lab_proc_outcome(all[i], outcome, sizeof(outcome));
		lab_run_note(run, all[i]->name, "note",
			     running ? "still running at the end of the story: stopped" : outcome);
	}
}

/*
 * The wire's drops become events on the ladder, named with the sender's relative sequence
 * numbers (found in the sender's capture); every drop and hold goes to wire.log.
 */
static void wire_events(struct lab_run *run)
{
	const struct lab_wire *w = run->wire;
	char path[PATH_MAX + 16], flags[12];
	FILE *log = NULL;
	size_t i, j, n_log;
	const struct lab_wire_log *wlog = lab_wire_log(w, &n_log);

	if (run->dir[0] && n_log) {
		snprintf(path, sizeof(path), "%s/wire.log", run->dir);
		log = fopen(path, "w");
	}
	for (i = 0; i < n_log; i++) {
		const struct lab_wire_log *e = &wlog[i];
		const struct lab_impair *imp = lab_wire_impair(w, (size_t)e->imp); /* -1: NULL */
		const char *spec = imp ? imp->spec : "?";
		const struct lab_trace *t =
			&run->trace[e->dir == LAB_DIR_C2S ? LAB_CLIENT : LAB_SERVER];
		struct lab_pkt p = e->pkt;
		struct lab_event ev = { .t_us = e->t_us };

		for (j = 0; j < t->n; j++)
			if (t->v[j].ip_id == p.ip_id && t->v[j].seq == p.seq &&
			    t->v[j].flags == p.flags && t->v[j].len == p.len) {
				p.rseq = t->v[j].rseq;
				p.rack = t->v[j].rack;
				break;
			}
		lab_tcp_flags_str(p.flags, flags, sizeof(flags));
		/* a long spec is cut to fit the detail (testing the result says that is meant) */
		if (snprintf(ev.detail, sizeof(ev.detail), "%s [%s] seq %u ack %u len %u (%s)",
			     e->dir == LAB_DIR_C2S ? "client->server" : "server->client", flags,
			     j < t->n ? p.rseq : p.seq, j < t->n ? p.rack : p.ack, p.len, spec) < 0)
			ev.detail[0] = '\0';
		if (log)
			fprintf(log, "%" PRId64 " %s %" PRId64 "us %s\n", e->t_us,
				e->drop ? "drop" : "hold", e->held_us, ev.detail);
		if (!e->drop)
			continue;
		snprintf(ev.who, sizeof(ev.who), "wire");
		snprintf(ev.call, sizeof(ev.call), "drop");
		add_event(run, &ev);
	}
	if (log)
		fclose(log);
}

/*
 * --keep: pin the three namespaces under predictable names and say how to look inside.
 * The wire's NFQUEUE rules go (nobody holds their verdicts any more); its nftables rules stay.
 */
static void keep_lab(struct lab_run *run)
{
	char *flush[] = { "iptables", "-w", "-F", "FORWARD", NULL };
	const char *id = strrchr(run->dir, '-') + 1;
	struct lab_proc p = LAB_PROC_INIT;
	char name[LAB_NHOSTS][48];
	enum lab_host h;

	if (!lab_proc_spawn(&p, "iptables", &run->topo.ns[LAB_WIRE], flush, false))
		lab_proc_wait(&p, lab_mono_us() + 5000000);
	lab_proc_free(&p);
	for (h = 0; h < LAB_NHOSTS; h++) {
		snprintf(name[h], sizeof(name[h]), "tcplab-%s-%s", id, lab_host_name(h));
		if (lab_netns_pin(&run->topo.ns[h], name[h])) {
			fprintf(stderr,
				"tcplab: --keep: cannot keep the %s namespace (root only)\n",
				lab_host_name(h));
			while (h-- > 0)
				lab_netns_unpin(name[h]);
			return;
		}
	}
	snprintf(run->kept, sizeof(run->kept),
		 "\nkept: the lab stays until `tcplab clean`. Look inside:\n"
		 "  ip netns exec %s ss -tanoi            # the client's sockets\n"
		 "  ip netns exec %s ss -tanoi            # the server's\n"
		 "  ip netns exec %s nstat -az | grep -i tcp\n"
		 "  ip netns exec %s nft list ruleset     # the wire's rules and counters\n"
		 "  ip netns exec %s tcpdump -nn -i c0 tcp # watch it live\n",
		 name[LAB_CLIENT], name[LAB_SERVER], name[LAB_SERVER], name[LAB_WIRE],
		 name[LAB_CLIENT]);
}

static void free_run(struct lab_run *run)
{
	enum lab_host h;

	lab_proc_free(&run->client);
	lab_proc_free(&run->server);
	for (size_t i = 0; i < run->n_more; i++)
		lab_proc_free(&run->more[i]);
	lab_wire_free(run->wire);
	run->wire = NULL;
	lab_capture_stop(&run->cap);
	lab_topo_free(&run->topo);
	for (h = 0; h < LAB_NHOSTS; h++) {
		lab_trace_free(&run->trace[h]);
		lab_nstat_free(&run->before[h]);
		lab_nstat_free(&run->after[h]);
	}
	free(run->events);
	free(run->obs);
	lab_expects_free(&run->ex);
}

int lab_run_main(const struct lab_run_opts *opts)
{
	struct lab_run run = { .topo = LAB_TOPO_INIT,
			       .cap = LAB_CAPTURE_INIT,
			       .server = LAB_PROC_INIT,
			       .client = LAB_PROC_INIT };
	size_t i;

	for (i = 0; i < LAB_MORE_CLIENTS; i++)
		run.more[i] = (struct lab_proc)LAB_PROC_INIT;
	const char *verdict;
	char why[512];
	int ret, err;

	signal(SIGPIPE, SIG_IGN); /* a program that is gone must not take the harness with it */
	ret = lab_run_setup(&run, opts, why, sizeof(why));
	if (ret) {
		fprintf(stderr, "tcplab: %s\n", why);
		return ret;
	}
	err = lab_netns_probe();
	if (err) {
		fprintf(stderr,
			"tcplab: cannot create network namespaces (%s): run as root, or with "
			"CAP_SYS_ADMIN and CAP_NET_ADMIN, or on a kernel that allows unprivileged "
			"user namespaces (user.max_user_namespaces > 0)\n",
			strerror(-err));
		return LAB_EXIT_SKIP;
	}
	lab_kernel_probe(&run.kernel);
	run.t_start_us = lab_mono_us();
	run.deadline_us = run.t_start_us + (int64_t)run.sc->budget_s * 1000000;
	err = make_dir(&run);
	if (!err)
		err = start_lab(&run);
	run.t_ready_us = lab_mono_us();
	if (!err)
		lab_run_phase(&run,
			      "the lab is up (namespaces, links, captures); nothing sent yet");
	if (!err)
		err = run.sc->play(&run);
	if (!err)
		lab_run_phase(&run, "the story is over; its programs and sockets are still there");
	run.t_played_us = lab_mono_us();
	run.story_end_us = lab_now_us();
	if (!err)
		err = read_counters(&run, run.after);
	stop_programs(&run);
	lab_wire_stop(run.wire);
	lab_capture_stop(&run.cap);
	if (run.dir[0])
		read_traces(&run);
	wire_events(&run);
	if (!err && !run.error[0])
		run.sc->judge(&run);
	if (opts->keep_lab && run.dir[0])
		keep_lab(&run);
	lab_topo_free(&run.topo);
	run.t_end_us = lab_mono_us();
	if (run.error[0]) {
		verdict = "error";
		ret = LAB_EXIT_ERROR;
	} else if (lab_expects_all_ok(&run.ex, opts->outcomes_only)) {
		verdict = "as documented";
		ret = LAB_EXIT_AS_DOCUMENTED;
	} else {
		verdict = "not as documented";
		ret = LAB_EXIT_NOT_AS_DOCUMENTED;
	}
	if (run.dir[0] && lab_report_write(&run, verdict) && ret == LAB_EXIT_AS_DOCUMENTED)
		ret = LAB_EXIT_ERROR;
	lab_report_print(opts->out ? opts->out : stdout, &run, verdict, !opts->quiet);
	fputs(run.kept, opts->out ? opts->out : stdout);
	if (opts->keep) {
		*opts->keep = run.ex;
		run.ex = (struct lab_expects)LAB_EXPECTS_INIT;
	}
	if (opts->timing)
		*opts->timing = (struct lab_run_timing){
			.setup_us = run.t_ready_us - run.t_start_us,
			.total_us = run.t_end_us - run.t_start_us,
			.protocol_us = lab_run_protocol_us(&run),
		};
	free_run(&run);
	return ret;
}
