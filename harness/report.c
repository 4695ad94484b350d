// SPDX-License-Identifier: MIT
/* What a run leaves: report.json, ladder.txt, the programs' logs, and the summary on screen. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "ladder.h"
#include "report.h"

#define JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

static struct json_object *params_json(const struct lab_run *run)
{
	struct json_object *o = json_object_new_object();
	size_t i;

	for (i = 0; i < run->sc->n_params; i++)
		json_object_object_add(o, run->sc->params[i].name,
				       json_object_new_int64(run->param[i]));
	return o;
}

static struct json_object *kernel_json(const struct lab_run *run)
{
	struct json_object *o = json_object_new_object(), *sys = json_object_new_object();
	size_t i;

	json_object_object_add(o, "release", json_object_new_string(run->kernel.release));
	json_object_object_add(o, "hz",
			       run->kernel.hz ? json_object_new_int(run->kernel.hz) : NULL);
	json_object_object_add(o, "netem",
			       run->kernel.netem < 0 ? NULL :
						       json_object_new_boolean(run->kernel.netem));
	for (i = 0; i < run->topo.n_sysctl; i++) {
		const struct lab_sysctl_rec *r = &run->topo.sysctl[i];
		struct json_object *host;

		if (!json_object_object_get_ex(sys, r->host, &host)) {
			host = json_object_new_object();
			json_object_object_add(sys, r->host, host);
		}
		json_object_object_add(host, r->key, json_object_new_string(r->value));
	}
	json_object_object_add(o, "sysctl", sys);
	return o;
}

static struct json_object *expectations_json(const struct lab_run *run)
{
	struct json_object *a = json_object_new_array();
	size_t i;

	for (i = 0; i < run->ex.n; i++) {
		struct json_object *e = json_object_new_object();

		static const char *const kinds[] = { "count", "counter", "state",   "calls",
						     "text",  "window",	 "at_most", "n/a" };
		const struct lab_expect *x = &run->ex.v[i];

		json_object_object_add(e, "key", json_object_new_string(x->key));
		json_object_object_add(e, "kind", json_object_new_string(kinds[x->kind]));
		json_object_object_add(e, "what", json_object_new_string(run->ex.v[i].what));
		json_object_object_add(e, "timed", json_object_new_boolean(x->timed));
		if (x->kind == LAB_EXPECT_WINDOW || x->kind == LAB_EXPECT_AT_MOST) {
			json_object_object_add(e, "observed_us",
					       json_object_new_int64(x->observed_us));
			json_object_object_add(e, "lo_us", json_object_new_int64(x->lo_us));
			json_object_object_add(e, "hi_us", json_object_new_int64(x->hi_us));
		} else if (x->kind <= LAB_EXPECT_STATE) {
			json_object_object_add(e, "want", json_object_new_int64(x->want));
			json_object_object_add(e, "got", json_object_new_int64(x->got));
		}
		json_object_object_add(e, "expected",
				       json_object_new_string(run->ex.v[i].expected));
		json_object_object_add(e, "observed",
				       json_object_new_string(run->ex.v[i].observed));
		json_object_object_add(e, "ok", json_object_new_boolean(run->ex.v[i].ok));
		json_object_object_add(e, "applicable", json_object_new_boolean(!run->ex.v[i].na));
		json_object_array_add(a, e);
	}
	return a;
}

static struct json_object *events_json(const struct lab_run *run)
{
	struct json_object *a = json_object_new_array();
	size_t i;

	for (i = 0; i < run->n_events; i++) {
		const struct lab_event *ev = &run->events[i];
		struct json_object *e = json_object_new_object();

		/* a call: entered at t0_us, returned at t_us; an instant: t_us only */
		if (ev->t0_us)
			json_object_object_add(e, "t0_us", json_object_new_int64(ev->t0_us));
		json_object_object_add(e, "t_us", json_object_new_int64(ev->t_us));
		json_object_object_add(e, "who", json_object_new_string(ev->who));
		json_object_object_add(e, "call", json_object_new_string(ev->call));
		json_object_object_add(e, "ret", json_object_new_int64(ev->ret));
		json_object_object_add(e, "errno",
				       ev->err[0] ? json_object_new_string(ev->err) : NULL);
		if (ev->detail[0])
			json_object_object_add(e, "detail", json_object_new_string(ev->detail));
		json_object_array_add(a, e);
	}
	return a;
}

/* harness cost vs the time the scenario's own protocol events took */
static struct json_object *timings_json(const struct lab_run *run)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "setup_ms",
			       json_object_new_double((run->t_ready_us - run->t_start_us) / 1e3));
	json_object_object_add(o, "play_ms",
			       json_object_new_double((run->t_played_us - run->t_ready_us) / 1e3));
	json_object_object_add(o, "protocol_ms",
			       json_object_new_double(lab_run_protocol_us(run) / 1e3));
	json_object_object_add(o, "total_ms",
			       json_object_new_double((run->t_end_us - run->t_start_us) / 1e3));
	return o;
}

const struct lab_series *lab_report_series_of(const struct lab_run *run, const struct lab_event *ev)
{
	char name[16];
	size_t i;

	for (i = 0; i < run->n_series; i++)
		if (!strcmp(ev->call, run->series[i].call) &&
		    !strcmp(ev->who, lab_run_prog_name(run->series[i].who, name, sizeof(name))))
			return &run->series[i];
	return NULL;
}

static struct json_object *series_json(const struct lab_run *run)
{
	struct json_object *all = json_object_new_array();
	size_t i, k;

	for (k = 0; k < run->n_series; k++) {
		const struct lab_series *s = &run->series[k];
		struct json_object *o = json_object_new_object(), *a = json_object_new_array();
		size_t n = s->n > s->skip ? s->n - s->skip : 0;
		int64_t *v = calloc(n ? n : 1, sizeof(*v));

		if (!v)
			continue;
		memcpy(v, s->v + s->skip, n * sizeof(*v));
		for (i = 0; i < s->n; i++)
			json_object_array_add(a, json_object_new_int64(s->v[i]));
		json_object_object_add(o, "name", json_object_new_string(s->name));
		json_object_object_add(o, "call", json_object_new_string(s->call));
		json_object_object_add(o, "unit", json_object_new_string("us"));
		json_object_object_add(o, "samples", a);
		json_object_object_add(o, "summarised_from",
				       json_object_new_int64((int64_t)s->skip));
		json_object_object_add(o, "p50", json_object_new_int64(lab_percentile(v, n, 0.5)));
		json_object_object_add(o, "p90", json_object_new_int64(lab_percentile(v, n, 0.9)));
		json_object_object_add(o, "p99", json_object_new_int64(lab_percentile(v, n, 0.99)));
		json_object_object_add(o, "max", json_object_new_int64(lab_percentile(v, n, 1.0)));
		json_object_array_add(all, o);
		free(v);
	}
	return all;
}

/* percentiles and a histogram with power-of-two buckets from 64 us, per series */
static void print_series(FILE *out, const struct lab_series *s)
{
	size_t count[24] = { 0 }, n = s->n, i, lo = 23, hi = 0, top = 1;
	int64_t *v = calloc(n ? n : 1, sizeof(*v));

	if (!v || !n) {
		free(v);
		return;
	}
	memcpy(v, s->v, n * sizeof(*v));
	for (i = 0; i < n; i++) {
		size_t b = 0;

		while (b < 23 && v[i] >= (int64_t)64 << (b + 1))
			b++;
		count[b]++;
		lo = b < lo ? b : lo;
		hi = b > hi ? b : hi;
	}
	for (i = lo; i <= hi; i++)
		top = count[i] > top ? count[i] : top;
	fprintf(out, "%s (%zu samples): p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  max %.2f ms\n",
		s->name, n, lab_percentile(v, n, 0.5) / 1e3, lab_percentile(v, n, 0.9) / 1e3,
		lab_percentile(v, n, 0.99) / 1e3, lab_percentile(v, n, 1.0) / 1e3);
	for (i = lo; i <= hi; i++)
		fprintf(out, "  %9.3f ms .. %9.3f ms |%-40.*s %zu\n", (64 << i) / 1e3,
			(64 << (i + 1)) / 1e3, (int)(count[i] * 40 / top),
			"########################################", count[i]);
	fputc('\n', out);
	free(v);
}

/* a file of the run's folder: 0, or -errno with "write NAME" as the reason (a full disk) */
static int write_text(const struct lab_run *run, const char *name, const char *text)
{
	char path[PATH_MAX + 32];
	FILE *f;
	int err = 0;

	snprintf(path, sizeof(path), "%s/%s", run->dir, name);
	f = fopen(path, "w");
	if (!f)
		return lab_fail(-errno, "create %s", name);
	if (fputs(text ? text : "", f) == EOF || fflush(f))
		err = -(errno ? errno : EIO);
	if (fclose(f) && !err)
		err = -(errno ? errno : EIO);
	return err ? lab_fail(err, "write %s", name) : 0;
}

static int write_log(const struct lab_run *run, const struct lab_proc *p)
{
	char name[32], *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);
	int err;

	if (!m)
		return -ENOMEM;
	fprintf(m, "# stdout (events)\n%s# stderr\n%s", p->out ? p->out : "", p->err ? p->err : "");
	fclose(m);
	snprintf(name, sizeof(name), "%s.log", p->name);
	err = write_text(run, name, text);
	free(text);
	return err;
}

struct lab_ladder lab_report_ladder_of(const struct lab_run *run)
{
	return (struct lab_ladder){
		.client_side = &run->trace[LAB_CLIENT],
		.server_side = &run->trace[LAB_SERVER],
		.client = lab_host_addr(LAB_CLIENT),
		.events = run->events,
		.n_events = run->n_events,
	};
}

void lab_report_ladder(FILE *out, const struct lab_run *run)
{
	struct lab_ladder l = lab_report_ladder_of(run);

	lab_ladder_write(out, &l);
}

/* the run judged by every variant: [{"variant", "hold", "judged", "as_documented"}] */
static struct json_object *likeness_json(const struct lab_run *run)
{
	struct json_object *a = json_object_new_array();
	size_t i;

	for (i = 0; i < run->n_like; i++) {
		const struct lab_likeness *l = &run->like[i];
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "variant", json_object_new_string(l->variant->name));
		json_object_object_add(o, "refused", json_object_new_boolean(l->refused));
		json_object_object_add(o, "hold", json_object_new_int64((int64_t)l->hold));
		json_object_object_add(o, "judged", json_object_new_int64((int64_t)l->judged));
		json_object_object_add(o, "as_documented", json_object_new_boolean(l->all));
		json_object_array_add(a, o);
	}
	return a;
}

/* report.json last: it bears the verdict, and is only there when everything else is */
int lab_report_write(const struct lab_run *run, const char *verdict)
{
	struct json_object *o = json_object_new_object();
	char path[PATH_MAX + 32], tool[128], states[200], *text = NULL;
	size_t len = 0, i;
	FILE *m = open_memstream(&text, &len);
	int err = m ? 0 : lab_fail(-ENOMEM, "the ladder");

	if (m) {
		lab_report_ladder(m, run);
		fclose(m);
		err = write_text(run, "ladder.txt", text);
		free(text);
	}
	if (!err && run->server.pid != -1)
		err = write_log(run, &run->server);
	for (i = 0; !err && i < run->n_clients; i++)
		err = write_log(run, &run->clients[i]);
	snprintf(path, sizeof(path), "%s/report.html", run->dir);
	if (!err && (err = lab_report_html(run, verdict, path)))
		lab_fail(err, "write report.html");
	if (err)
		goto out;
	snprintf(tool, sizeof(tool), "tcplab %s", lab_version());
	json_object_object_add(o, "schema", json_object_new_int(LAB_REPORT_SCHEMA));
	json_object_object_add(o, "tool", json_object_new_string(tool));
	json_object_object_add(o, "results", json_object_new_string(run->dir));
	json_object_object_add(o, "scenario", json_object_new_string(run->sc->name));
	json_object_object_add(o, "variant", json_object_new_string(run->variant->name));
	json_object_object_add(o, "port", json_object_new_int(run->port));
	json_object_object_add(o, "judged_as", json_object_new_string(run->expect_as->name));
	json_object_object_add(o, "params", params_json(run));
	json_object_object_add(o, "kernel", kernel_json(run));
	json_object_object_add(o, "verdict", json_object_new_string(verdict));
	json_object_object_add(o, "error",
			       run->error[0] ? json_object_new_string(run->error) : NULL);
	json_object_object_add(o, "emulated",
			       run->emulated[0] ? json_object_new_string(run->emulated) : NULL);
	json_object_object_add(o, "behaves_like", likeness_json(run));
	json_object_object_add(o, "story_end_us", json_object_new_int64(run->story_end_us));
	/* where the ladder's "tcp_state" events come from, or why there are none */
	snprintf(states, sizeof(states), "%s", run->tcpstate.why);
	if (!states[0])
		snprintf(states, sizeof(states), "sock:inet_sock_set_state (perf)%s",
			 run->tcpstate.lost ? ", some changes lost: ring buffer full" : "");
	json_object_object_add(o, "tcp_states", json_object_new_string(states));
	json_object_object_add(o, "impairments", lab_report_wire_json(run));
	json_object_object_add(
		o, "server_cmd",
		run->opts->server_cmd ? json_object_new_string(run->opts->server_cmd) : NULL);
	json_object_object_add(
		o, "client_cmd",
		run->opts->client_cmd ? json_object_new_string(run->opts->client_cmd) : NULL);
	json_object_object_add(o, "expectations", expectations_json(run));
	json_object_object_add(o, "events", events_json(run));
	json_object_object_add(o, "timings", timings_json(run));
	json_object_object_add(o, "series", series_json(run));
	err = write_text(run, "report.json",
			 json_object_to_json_string_ext(o, JSON_FLAGS | JSON_C_TO_STRING_PRETTY));
	if (!err && run->opts->json) { /* --json: the same document on one line */
		fprintf(run->opts->json, "%s\n", json_object_to_json_string_ext(o, JSON_FLAGS));
		fflush(run->opts->json);
	}
out:
	json_object_put(o);
	return err;
}

void lab_report_print(FILE *out, const struct lab_run *run, const char *verdict, bool ladder)
{
	char why[96] = "";
	size_t i, ok = 0;
	int width = 8;

	if (ladder) {
		fprintf(out, "== %s, variant %s: %s\n", run->sc->name, run->variant->name,
			run->variant->summary);
		if (run->expect_as != run->variant)
			fprintf(out, "   judged by the expectations of variant %s\n",
				run->expect_as->name);
		fputc('\n', out);
		lab_report_ladder(out, run);
		fputc('\n', out);
	}
	for (i = 0; i < run->n_series; i++)
		print_series(out, &run->series[i]);
	lab_report_print_wire(out, run);
	for (i = 0; i < run->ex.n; i++)
		if ((int)strlen(run->ex.v[i].expected) > width)
			width = (int)strlen(run->ex.v[i].expected);
	if (run->ex.n)
		fprintf(out, "%-4s  %-50s  %-*s  %s\n", "", "expectation", width, "expected",
			"observed");
	for (i = 0; i < run->ex.n; i++) {
		const struct lab_expect *e = &run->ex.v[i];

		ok += e->ok;
		fprintf(out, "%-4s  %-50s  %-*s  %s\n",
			e->na ? "n/a" :
			e->ok ? "ok" :
				"FAIL",
			e->what, width, e->expected, e->observed);
	}
	if (run->error[0])
		fprintf(stderr,
			"tcplab: ERROR (not a TCP failure: the lab or a program in it broke): %s\n",
			run->error);
	if (run->opts->outcomes_only)
		snprintf(why, sizeof(why), "; --outcomes-only: timed ones do not decide");
	else if (run->emulated[0])
		snprintf(why, sizeof(why), "; timed ones shown, not judged under emulation (%s)",
			 run->emulated);
	fprintf(out, "\nverdict: %s (%zu of %zu expectations hold%s)\n", verdict, ok, run->ex.n,
		why);
	lab_run_print_likeness(out, run);
	if (run->dir[0])
		fprintf(out, "results: %s/\n", run->dir);
}
