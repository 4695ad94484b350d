// SPDX-License-Identifier: MIT
/* The runner: a lab's lifetime around one story, and the verdict. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "report.h"
#include "run.h"

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
	char stamp[32], parent[PATH_MAX];
	time_t now = time(NULL);
	struct tm tm;
	int err, n;

	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	snprintf(parent, sizeof(parent), "%s/%s", base, run->sc->name);
	err = mkdirs(parent);
	if (err)
		return lab_run_error(run, err, "cannot create %s", parent);
	/* the run's own folder, never one that exists: runs within a second keep their evidence */
	for (n = 1;; n++) {
		if (snprintf(run->dir, sizeof(run->dir), "%s/%s-%s-%d%s%.0d", parent, stamp,
			     run->variant->name, (int)getpid(), n > 1 ? "-" : "",
			     n > 1 ? n : 0) >= (int)sizeof(run->dir))
			return lab_run_error(run, -ENAMETOOLONG, "cannot create a run folder in %s",
					     parent);
		if (!mkdir(run->dir, 0755))
			break;
		if (errno != EEXIST || n == 1000)
			return lab_run_error(run, -errno, "cannot create %s", run->dir);
	}
	if (run->opts->dir_fd > 0)
		dprintf(run->opts->dir_fd, "%s\n", run->dir);
	lab_results_latest(base, run->dir + strlen(base) + 1);
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
		return lab_run_error(run, err, "cannot build the lab topology");
	snprintf(cpath, sizeof(cpath), "%s/client.pcap", run->dir);
	snprintf(spath, sizeof(spath), "%s/server.pcap", run->dir);
	err = lab_capture_start(&run->cap, pts, 2);
	if (err)
		return lab_run_error(run, err, "cannot start the captures");
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
			    lab_host_addr(LAB_CLIENT));
	lab_trace_mark_lost(&run->trace[LAB_SERVER], &run->trace[LAB_CLIENT],
			    lab_host_addr(LAB_SERVER));
}

/*
 * The wire's drops become events on the ladder, named with the sender's relative sequence
 * numbers (found in the sender's capture); every drop and hold goes to wire.log.
 */
static void wire_events(struct lab_run *run)
{
	size_t n_log = 0, i, j;
	const struct lab_wire_log *log = lab_wire_log(run->wire, &n_log);
	char path[PATH_MAX + 16], flags[12];
	FILE *f = NULL;

	if (run->dir[0]) { /* also when the wire did nothing: the file says so */
		snprintf(path, sizeof(path), "%s/wire.log", run->dir);
		f = fopen(path, "w");
	}
	if (f)
		fprintf(f,
			"# every drop and hold: t_us (realtime) drop|hold held_us packet (spec)%s\n",
			lab_wire_count(run->wire) ? "" : "; no impairment in this run");
	for (i = 0; i < n_log; i++) {
		const struct lab_wire_log *e = &log[i];
		const struct lab_trace *t =
			&run->trace[e->dir == LAB_DIR_C2S ? LAB_CLIENT : LAB_SERVER];
		const struct lab_impair *imp =
			e->imp < 0 ? NULL : lab_wire_impair(run->wire, (size_t)e->imp);
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
		/* cut to the event's size on purpose: the whole line goes to wire.log below */
		if (snprintf(ev.detail, sizeof(ev.detail), "%s [%s] seq %u ack %u len %u (%.40s)",
			     e->dir == LAB_DIR_C2S ? "client->server" : "server->client", flags,
			     j < t->n ? p.rseq : p.seq, j < t->n ? p.rack : p.ack, p.len,
			     imp ? imp->spec : "?") < 0)
			ev.detail[0] = '\0';
		if (f)
			fprintf(f, "%" PRId64 " %s %" PRId64 "us %s\n", e->t_us,
				e->drop ? "drop" : "hold", e->held_us, ev.detail);
		if (!e->drop)
			continue;
		snprintf(ev.who, sizeof(ev.who), "wire");
		snprintf(ev.call, sizeof(ev.call), "drop");
		lab_run_add_event(run, &ev);
	}
	if (f)
		fclose(f);
}

void lab_run_release(struct lab_run *run)
{
	enum lab_host h;
	size_t i;

	lab_proc_free(&run->server);
	for (i = 0; i < LAB_MAX_CLIENTS; i++)
		lab_proc_free(&run->clients[i]);
	lab_wire_free(run->wire);
	run->wire = NULL;
	lab_capture_stop(&run->cap);
	lab_topo_free(&run->topo);
	for (h = 0; h < LAB_NHOSTS; h++) {
		lab_trace_free(&run->trace[h]);
		lab_nstat_free(&run->before[h]);
		lab_nstat_free(&run->after[h]);
	}
	for (i = 0; i < run->n_series; i++)
		free(run->series[i].v);
	free(run->events);
	free(run->obs);
	free(run->params);
	free(run->by_hand);
	lab_expects_free(&run->ex);
}

static void run_init(struct lab_run *run)
{
	size_t i;

	*run = (struct lab_run){ .topo = LAB_TOPO_INIT,
				 .cap = LAB_CAPTURE_INIT,
				 .server = LAB_PROC_INIT };
	for (i = 0; i < LAB_MAX_CLIENTS; i++)
		run->clients[i] = (struct lab_proc)LAB_PROC_INIT;
}

char *lab_by_hand(const struct lab_scenario *sc, const char *variant)
{
	struct lab_run_opts o = { .sc = sc, .variant = variant, .dry = true };
	struct lab_run run;
	char why[256], *text = NULL;

	run_init(&run);
	if (!lab_run_setup(&run, &o, why, sizeof(why))) {
		run.dry = true;
		run.kernel.hz = 0;
		sc->play(&run);
		text = run.by_hand;
		run.by_hand = NULL;
	}
	lab_run_release(&run);
	return text;
}

static int verdict_of(struct lab_run *run, const char **verdict)
{
	if (run->error[0]) {
		*verdict = "error";
		return LAB_EXIT_ERROR;
	}
	if (lab_expects_all_ok(&run->ex, lab_run_outcomes_only(run))) {
		*verdict = "as documented";
		return LAB_EXIT_AS_DOCUMENTED;
	}
	*verdict = "not as documented";
	return LAB_EXIT_NOT_AS_DOCUMENTED;
}

/* the story, from the lab coming up to the programs being stopped and the captures read */
static void tell(struct lab_run *run)
{
	int err = make_dir(run);

	if (!err)
		err = start_lab(run);
	run->t_ready_us = lab_mono_us();
	if (!err)
		lab_run_phase(run, "the lab is up (namespaces, links, captures); nothing sent yet");
	if (!err)
		err = run->sc->play(run);
	if (!err)
		err = run->err;
	if (run->unmet[0] && !run->error[0])
		err = 0; /* the user's programs stopped the story: an answer, judged below */
	if (!err)
		lab_run_phase(run, "the story is over; its programs and sockets are still there");
	run->t_played_us = lab_mono_us();
	run->story_end_us = lab_now_us();
	if (!err)
		read_counters(run, run->after);
	/*
	 * The captures end with the story: stopping the programs (their FINs and RSTs, a
	 * listener's queue reset) is the lab's teardown, not part of what the story explains.
	 */
	lab_capture_stop(&run->cap);
	lab_run_stop_programs(run);
	lab_wire_stop(run->wire);
	if (run->dir[0])
		read_traces(run);
	wire_events(run);
}

int lab_run_main(const struct lab_run_opts *opts)
{
	FILE *out = opts->out ? opts->out : stdout;
	struct lab_run run;
	const char *verdict;
	char why[512];
	int ret, err;

	run_init(&run);
	signal(SIGPIPE, SIG_IGN); /* a program that is gone must not take the harness with it */
	ret = lab_run_setup(&run, opts, why, sizeof(why));
	if (ret) {
		fprintf(stderr, "tcplab: %s\n", why);
		lab_run_release(&run);
		return ret;
	}
	err = lab_netns_probe();
	if (err) {
		fprintf(stderr,
			"tcplab: cannot create network namespaces (%s): run as root, or with "
			"CAP_SYS_ADMIN and CAP_NET_ADMIN, or on a kernel that allows unprivileged "
			"user namespaces (user.max_user_namespaces > 0)\n",
			strerror(-err));
		lab_run_release(&run);
		return LAB_EXIT_SKIP;
	}
	lab_error_clear();
	lab_kernel_probe(&run.kernel);
	run.t_start_us = lab_mono_us();
	run.deadline_us = run.t_start_us + (int64_t)run.sc->budget_s * 1000000;
	tell(&run);
	if (!run.error[0]) {
		run.sc->judge(&run);
		lab_run_liken(&run);
		if (run.unmet[0]) /* why the story stopped where it did */
			lab_expect_str(&run.ex, "precondition (the story stopped there)", run.unmet,
				       "not met");
	}
	if (opts->keep_lab && run.dir[0])
		lab_run_keep(&run);
	lab_topo_free(&run.topo);
	run.t_end_us = lab_mono_us();
	ret = verdict_of(&run, &verdict);
	if (run.dir[0] && lab_report_write(&run, verdict) && ret == LAB_EXIT_AS_DOCUMENTED)
		ret = LAB_EXIT_ERROR;
	lab_report_print(out, &run, verdict, !opts->quiet);
	fputs(run.kept, out);
	if (opts->behaves_like)
		snprintf(opts->behaves_like, LAB_NAME_MAX, "%s", lab_run_behaves_like(&run));
	if (opts->expects_out) {
		*opts->expects_out = run.ex;
		run.ex = (struct lab_expects)LAB_EXPECTS_INIT;
	}
	if (opts->timing)
		*opts->timing = (struct lab_run_timing){
			.setup_us = run.t_ready_us - run.t_start_us,
			.total_us = run.t_end_us - run.t_start_us,
			.protocol_us = lab_run_protocol_us(&run),
		};
	lab_run_release(&run);
	return ret;
}
