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

/*
 * results/<scenario>/<stamp>-<variant>-<pid>, new: runs of one process in one second (--repeat)
 * get .2, .3 ... rather than writing over each other's evidence
 */
static int make_dir(struct lab_run *run)
{
	const char *base = run->opts->results ? run->opts->results : "results";
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	size_t len;
	int err, n;

	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	snprintf(run->dir, sizeof(run->dir), "%s/%s", base, run->sc->name);
	err = mkdirs(run->dir);
	if (err) {
		lab_run_error(run, err, "cannot create %s", run->dir);
		run->dir[0] = '\0';
		return err;
	}
	len = strlen(run->dir);
	len += (size_t)snprintf(run->dir + len, sizeof(run->dir) - len, "/%s-%s-%d", stamp,
				run->variant->name, (int)getpid());
	err = len + 8 < sizeof(run->dir) ? -EEXIST : -ENAMETOOLONG; /* room for ".999" */
	for (n = 1; err == -EEXIST && n < 1000; n++) {
		if (n > 1)
			snprintf(run->dir + len, sizeof(run->dir) - len, ".%d", n);
		err = mkdir(run->dir, 0755) < 0 ? -errno : 0;
	}
	if (err) {
		lab_run_error(run, err, "cannot create %s", run->dir);
		run->dir[0] = '\0'; /* nothing is written there */
		return err;
	}
	if (run->opts->dir_fd > 0)
		dprintf(run->opts->dir_fd, "run %s\n", run->dir);
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
		if (lab_run_extra_later(run,
					i)) /* at=: a moment or the story's clock installs it */
			continue;
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
/*
 * The rule as it was when it dropped: a blackhole drops only while armed, so its "armed=0"
 * (how it started) would say the opposite of what is happening
 */
static void rule_now(const struct lab_impair *imp, char *buf, size_t len)
{
	char copy[sizeof(imp->spec)], *save = NULL, *item;
	size_t o = 0;

	snprintf(copy, sizeof(copy), "%s", imp->spec);
	buf[0] = '\0';
	for (item = strtok_r(copy, ",", &save); item && o < len; item = strtok_r(NULL, ",", &save))
		if (strncmp(item, "armed=", 6))
			o += (size_t)snprintf(buf + o, len - o, "%s%s", o ? "," : "", item);
	if (imp->kind == LAB_IMP_BLACKHOLE && o < len)
		snprintf(buf + o, len - o, ", armed");
}

static void wire_events(struct lab_run *run)
{
	size_t n_log = 0, i, j;
	const struct lab_wire_log *log = lab_wire_log(run->wire, &n_log);
	char path[PATH_MAX + 16], flags[12];
	FILE *f = NULL;

	if (run->dir[0]) { /* also when the wire did nothing: the file says so */
		snprintf(path, sizeof(path), "%s/wire.log", run->dir);
		f = fopen(path, "w");
		if (!f)
			lab_run_error(run, -errno, "create %s", path);
	}
	if (f)
		fprintf(f,
			"# every drop and hold: t_us (realtime) drop|hold held_us packet (spec)%s\n",
			lab_wire_count(run->wire) ? "" : "; no impairment in this run");
	for (i = 0; f && i < run->n_extra; i++) { /* --impair at=: when each one began */
		char when[64];

		if (!lab_run_extra_later(run, i))
			continue;
		if (run->extra[i].at[0])
			snprintf(when, sizeof(when), "moment %s", run->extra[i].at);
		else
			snprintf(when, sizeof(when), "%.3f s of story time",
				 (double)run->extra[i].at_us / 1e6);
		if (run->applied_us[i])
			fprintf(f, "# %" PRId64 " applied at %s: %s\n", run->applied_us[i], when,
				run->extra[i].spec);
		else
			fprintf(f, "# never applied (the story ended before %s): %s\n", when,
				run->extra[i].spec);
	}
	for (i = 0; i < n_log; i++) {
		const struct lab_wire_log *e = &log[i];
		const struct lab_trace *t =
			&run->trace[e->dir == LAB_DIR_C2S ? LAB_CLIENT : LAB_SERVER];
		const struct lab_impair *imp =
			e->imp < 0 ? NULL : lab_wire_impair(run->wire, (size_t)e->imp);
		struct lab_pkt p = e->pkt;
		struct lab_event ev = { .t_us = e->t_us };
		char rule[sizeof(imp->spec) + 8] = "?";

		for (j = 0; j < t->n; j++)
			if (t->v[j].ip_id == p.ip_id && t->v[j].seq == p.seq &&
			    t->v[j].flags == p.flags && t->v[j].len == p.len) {
				p.rseq = t->v[j].rseq;
				p.rack = t->v[j].rack;
				break;
			}
		lab_tcp_flags_str(p.flags, flags, sizeof(flags));
		if (imp)
			rule_now(imp, rule, sizeof(rule));
		/* cut to the event's size on purpose: the whole line goes to wire.log below */
		if (snprintf(ev.detail, sizeof(ev.detail), "%s [%s] seq %u ack %u len %u (%.40s)",
			     e->dir == LAB_DIR_C2S ? "client->server" : "server->client", flags,
			     j < t->n ? p.rseq : p.seq, j < t->n ? p.rack : p.ack, p.len, rule) < 0)
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
	if (f && (fflush(f) || ferror(f)))
		lab_run_error(run, -(errno ? errno : EIO), "write %s", path);
	if (f)
		fclose(f);
}

/*
 * ICMP messages become events on the ladder, said by whoever sent them (the wire answers for
 * a router): each once, from the capture of the side it went to (the client's for the wire's)
 */
static void icmp_events(struct lab_run *run)
{
	static const enum lab_host sides[] = { LAB_CLIENT, LAB_SERVER };
	struct in_addr mine[2] = { lab_host_addr(LAB_CLIENT), lab_host_addr(LAB_SERVER) };
	char name[48];
	size_t s, i;

	for (s = 0; s < 2; s++) {
		const struct lab_trace *t = &run->trace[sides[s]];

		for (i = 0; i < t->n_icmp; i++) {
			const struct lab_icmp *m = &t->icmp[i];
			struct lab_event ev = { .t_us = m->t_us };
			enum lab_host from = m->src.s_addr == mine[0].s_addr ? LAB_CLIENT :
					     m->src.s_addr == mine[1].s_addr ? LAB_SERVER :
									       LAB_WIRE;

			/* a message between the endpoints is in both captures: its sender's */
			if (from != LAB_WIRE && from != sides[s])
				continue;
			snprintf(ev.who, sizeof(ev.who), "%s", lab_host_name(from));
			snprintf(ev.call, sizeof(ev.call), "icmp");
			snprintf(ev.detail, sizeof(ev.detail), "ICMP %s to %s",
				 lab_icmp_name(m->type, m->code, name, sizeof(name)),
				 m->dst.s_addr == mine[0].s_addr ? "the client" :
				 m->dst.s_addr == mine[1].s_addr ? "the server" :
								   "?");
			lab_run_add_event(run, &ev);
		}
	}
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
	lab_tcpstate_free(&run->tcpstate);
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

int lab_moments(const struct lab_scenario *sc, const char *variant, struct lab_moment *out,
		size_t max)
{
	struct lab_run_opts o = { .sc = sc, .variant = variant, .dry = true };
	struct lab_run run;
	char why[256];
	size_t n = 0;

	run_init(&run);
	if (!lab_run_setup(&run, &o, why, sizeof(why))) {
		run.dry = true;
		run.kernel.hz = 0;
		sc->play(&run);
		for (n = 0; n < run.n_moments && n < max; n++)
			out[n] = run.moments[n];
	} else {
		n = (size_t)-1;
	}
	lab_run_release(&run);
	return n == (size_t)-1 ? -EINVAL : (int)n;
}

/* the story, from the lab coming up to the programs being stopped and the captures read */
static void tell(struct lab_run *run)
{
	int err = make_dir(run);

	if (!err)
		err = start_lab(run);
	run->t_ready_us = lab_mono_us();
	if (!err) /* best effort: without it, the ladder has inet_diag's samples only */
		lab_tcpstate_start(&run->tcpstate, run->port);
	/*
	 * The budget is the story's: it starts once the lab is up, so a lab slow to build (a
	 * loaded machine, an emulated CPU's first run: 11 s in a TCG guest) is not charged to it
	 */
	run->deadline_us = run->t_ready_us + (int64_t)run->sc->budget_s * 1000000;
	if (!err)
		lab_run_phase(run, "the lab is up (namespaces, links, captures); nothing sent yet");
	run->story_start_us = lab_now_us();
	if (!err)
		err = lab_run_clock_start(run);
	if (!err)
		run->sc->play(run);
	lab_run_clock_stop(run);
	/* a program that died before this moment decides, whatever play() made of it */
	lab_run_check_ends(run);
	if (run->unmet[0] && !run->error[0])
		run->err = 0; /* the user's programs stopped the story: an answer, judged below */
	if (!run->err)
		lab_run_phase(run, "the story is over; its programs and sockets are still there");
	run->t_played_us = lab_mono_us();
	run->story_end_us = lab_now_us();
	if (!run->err)
		read_counters(run, run->after);
	/*
	 * The captures end with the story: stopping the programs (their FINs and RSTs, a
	 * listener's queue reset) is the lab's teardown, not part of what the story explains.
	 */
	lab_capture_stop(&run->cap);
	lab_tcpstate_stop(&run->tcpstate); /* what changed after the story's end is left out */
	lab_run_note_at(run, run->story_end_us, "harness", "note",
			"end of the story: the captures stop; what follows is the lab's teardown");
	lab_run_stop_programs(run);
	lab_wire_stop(run->wire);
	err = lab_capture_check(&run->cap);
	if (err)
		lab_run_error(run, err, "the captures are incomplete");
	if (run->dir[0])
		read_traces(run);
	wire_events(run);
	icmp_events(run);
	lab_run_state_events(run);
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
	ret = lab_run_conclude(&run, &verdict);
	if (opts->dir_fd > 0 && run.dir[0]) /* judged and written: not a run to call interrupted */
		dprintf(opts->dir_fd, "done %d %s\n", ret, run.dir);
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
